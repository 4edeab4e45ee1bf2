//! Renewing one family (by an agent on a phone, or by staff): last year's policy with the
//! family as it is now, next year's package, terms and subsidy rules, priced and checked by
//! enrolment's own quote; written by the enrolment writer with the link to last year's
//! policy (and its audit entry) in the same transaction, submitted to the insurer as it is
//! written when the family's consents are in, and the family's part recorded when it is
//! paid now.

use guanai_domain::{Fen, Permission};
use serde::Serialize;

use super::due::DueDetail;
use super::{DuePolicy, Renewing, SeasonSettings};
use crate::families::person_from_row;
use crate::policies::{Channel, EnrolRequest, KnownFamily, PolicyStatus, Quote, PAYMENT_METHODS};
use crate::shown::ShownName;
use crate::{Actor, Store, StoreError, StoreResult};

#[derive(Debug, Clone)]
pub struct RenewRequest {
    /// Last year's policy.
    pub policy_id: i64,
    /// The members to insure; none: those renewal keeps or adds by default.
    pub member_ids: Option<Vec<i64>>,
    /// The family part the user saw; refused if it changed meanwhile.
    pub expected_family_part: Option<Fen>,
    pub channel: Channel,
    /// The family's part paid now: (method, receipt number). None: to be collected.
    pub payment: Option<(String, String)>,
    pub settings: SeasonSettings,
}

/// The due policy and next year's quote for it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RenewalQuote {
    pub due: DuePolicy,
    pub quote: Quote,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Renewed {
    pub policy_id: i64,
    pub previous_policy_id: i64,
    pub status: PolicyStatus,
    pub premium: Fen,
    pub family_part: Fen,
    /// What the family paid now.
    pub paid: Fen,
    /// Why the policy is still a draft (consents missing), in Chinese.
    pub note: Option<String>,
}

impl crate::handles::Renewals<'_> {
    /// Prices the renewal of one policy and checks every rule (ages under next year's
    /// terms, each refusal naming its rule), changing nothing.
    pub async fn renewal_quote(self, actor: &Actor, request: &RenewRequest) -> StoreResult<RenewalQuote> {
        self.require(actor, Permission::Enrol).await?;
        let (due, enrol, _) = self.renewal_enrolment(actor, request, DueDetail::Shown).await?;
        let quote = self.policies().quote(actor, &enrol).await?;
        Ok(RenewalQuote { due, quote })
    }

    /// Renews one policy: next year's policy, linked to last year's. Renewing a policy
    /// renewed already is a conflict and writes nothing.
    pub async fn renew(self, actor: &Actor, request: &RenewRequest) -> StoreResult<Renewed> {
        self.require(actor, Permission::Enrol).await?;
        if let Some((method, receipt)) = &request.payment {
            if !PAYMENT_METHODS.iter().any(|(code, _)| *code == method.as_str()) {
                return Err(StoreError::invalid("请选择缴费方式"));
            }
            let receipt = receipt.trim();
            if receipt.is_empty() || receipt.chars().count() > 40 {
                return Err(StoreError::invalid(
                    "现场缴费请填写收据号（不超过40个字符）；暂未缴费请选择“待收取”",
                ));
            }
        }
        let (due, enrol, family) = self.renewal_enrolment(actor, request, DueDetail::Renewing).await?;
        // The consents are checked first, so that the new policy goes to the insurer as it
        // is written: one write, not a second one to submit it.
        let members: Vec<(i64, &ShownName, chrono::NaiveDate)> = family
            .1
            .iter()
            .filter(|p| enrol.member_ids.contains(&p.id))
            .map(|p| (p.id, &p.name, p.born))
            .collect();
        let (submit, note) = match self.check_consents(due.family_id, &members).await {
            Ok(()) => (true, None),
            Err(StoreError::Invalid(why)) => (false, Some(why)),
            Err(other) => return Err(other),
        };
        let renewing = Renewing {
            previous_policy_id: due.policy_id,
            previous_village_code: due.village_code.clone(),
            submit,
        };
        // What the writer settled: the family part is split with the budgets as they were.
        let written = self.enrol_linked(actor, &enrol, renewing, family).await?;
        let (id, family_part) = (written.id, written.family_part);
        let mut paid = Fen::ZERO;
        if let Some((method, receipt)) = &request.payment {
            if family_part.get() > 0 {
                self.policies().record_payment(actor, id, family_part, method, receipt, self.today()).await?;
                paid = family_part;
            }
        }
        Ok(Renewed {
            policy_id: id,
            previous_policy_id: due.policy_id,
            status: if submit { PolicyStatus::Submitted } else { PolicyStatus::Draft },
            premium: written.premium,
            family_part,
            paid,
            note,
        })
    }
}

impl Store {
    /// The due policy and the enrolment that renews it, or why it cannot be renewed.
    async fn renewal_enrolment(
        &self,
        actor: &Actor,
        request: &RenewRequest,
        detail: DueDetail,
    ) -> StoreResult<(DuePolicy, EnrolRequest, KnownFamily)> {
        let (due, (family, people)) =
            self.due_policy(actor, request.policy_id, &request.settings, detail).await?;
        if let Some(new) = due.renewed_policy_id {
            return Err(StoreError::Conflict(format!("该保单已经续保（新保单编号{new}），不需要再次续保")));
        }
        let (_, last) = request.settings.due_ends(self.today());
        if due.end_date > last {
            return Err(StoreError::invalid(format!(
                "还未到续保期：该保单{}到期，到期前{}天起可以续保",
                due.end_date, request.settings.opens_days_before
            )));
        }
        let Some(next) = &due.next else {
            let why = due.note.clone().unwrap_or_default();
            return Err(StoreError::invalid(format!("暂不能续保：{why}")));
        };
        let enrol = EnrolRequest {
            family_id: due.family_id,
            package_id: next.package_id,
            shares: due.shares.max(1) as u32,
            member_ids: request.member_ids.clone().unwrap_or_else(|| next.member_ids.clone()),
            channel: request.channel,
            expected_family_part: request.expected_family_part,
        };
        let seen = self.visibility(actor, [family.id]).await?;
        let today = self.today();
        let members =
            people.into_iter().map(|row| person_from_row(&seen, row, today)).collect::<StoreResult<_>>()?;
        Ok((due, enrol, (family, members)))
    }
}
