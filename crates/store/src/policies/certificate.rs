//! The coverage certificate (保险凭证) and its public check: anyone holding the code can
//! confirm a certificate is genuine, and sees masked data only.

use chrono::NaiveDate;
use guanai_domain::products::CoverItem;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Serialize;

use super::{CertificateState, InsuredMember, PolicyStatus, ShownStatus};
use crate::audit::AuditEvent;
use crate::entities::policies;
use crate::{Actor, StoreResult};

/// What the printed certificate shows.
#[derive(Debug, Clone, Serialize)]
pub struct Certificate {
    pub policy: super::PolicySummary,
    pub members: Vec<InsuredMember>,
    pub village_name: String,
    pub covers: Vec<(String, Vec<String>)>,
    pub cert_code: String,
}

/// What the public verification page shows: nothing that identifies anyone.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicCertificate {
    pub cert_code: String,
    pub policy_no: Option<super::PolicyNo>,
    pub status: ShownStatus,
    /// What the check says the policy is (draft, cancelled, in force …).
    pub state: CertificateState,
    pub package_name: String,
    pub head_name_masked: String,
    pub village_name: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub insured: Vec<(String, String)>,
}

impl crate::handles::Policies<'_> {
    /// The certificate of a policy in scope; printing it is audit-logged.
    pub async fn certificate(self, actor: &Actor, id: i64) -> StoreResult<Certificate> {
        let detail = self.policy(actor, id).await?;
        let village = detail.summary.village_code.clone();
        let village_name = self.village_label(&village).await?;
        let mut covers = Vec::new();
        for line in &detail.lines {
            let product = self.products().product(line.product_id).await?;
            covers
                .push((product.name.clone(), product.terms.items.iter().map(CoverItem::describe).collect()));
        }
        self.audit(
            actor,
            AuditEvent::ok("policy.certificate", "保单", id.to_string())
                .with_subject(format!("family:{}", detail.summary.family_id)),
        )
        .await?;
        Ok(Certificate {
            policy: detail.summary,
            members: detail.members,
            village_name,
            covers,
            cert_code: detail.cert_code,
        })
    }

    /// "吉州区 兴桥镇 钓源村": the county, township and village names of a village code.
    pub async fn village_label(self, village: &str) -> StoreResult<String> {
        let codes: Vec<String> = [6usize, 9, 12]
            .iter()
            .filter(|n| village.len() >= **n)
            .map(|n| village[..*n].to_owned())
            .collect();
        let refs: Vec<&str> = codes.iter().map(String::as_str).collect();
        let names = self.regions().region_names(&refs).await?;
        Ok(codes.iter().filter_map(|c| names.get(c).cloned()).collect::<Vec<_>>().join(" "))
    }

    /// Checks a certificate code without logging in. Unknown codes answer `None`.
    pub async fn verify_certificate(self, code: &str) -> StoreResult<Option<PublicCertificate>> {
        let code = code.trim().to_ascii_uppercase();
        if code.len() != 12 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Ok(None);
        }
        let Some(row) = policies::Entity::find()
            .filter(policies::Column::CertCode.eq(code.as_str()))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let seen = crate::shown::Visibility::public();
        let summary = self.summaries_of(&seen, vec![row]).await?.remove(0);
        let members = self.insured_members(&seen, summary.family_id, summary.id).await?;
        let village_name = self.village_label(&summary.village_code).await?;
        let status =
            if summary.status == PolicyStatus::Cancelled { ShownStatus::Cancelled } else { summary.shown };
        Ok(Some(PublicCertificate {
            state: CertificateState::of(status, summary.policy_no.is_some()),
            cert_code: code,
            policy_no: summary.policy_no,
            status,
            package_name: summary.package_name,
            head_name_masked: summary.head_name.to_string(),
            village_name,
            start_date: summary.start_date,
            end_date: summary.end_date,
            insured: members.into_iter().map(|m| (m.name.to_string(), m.id_masked)).collect(),
        }))
    }
}
