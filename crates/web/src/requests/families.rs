//! Families and members: the list's filters, the exact look-up, registering a family and
//! adding a member, as the pages' forms and the API's bodies both give them.

use guanai_domain::families::{FamilyCategory, PovertyStatus, Relationship};
use guanai_domain::{IdNumber, RegionLevel};
use guanai_store::families::{ConsentKind, FamilyQuery, NewFamily, NewPerson};
use guanai_store::lookups::FamilyLookup;
use guanai_store::Actor;
use serde::Deserialize;

use super::forms;
use crate::error::WebError;
use crate::state::AppState;

/// Filters of the family list (page and API), as typed.
#[derive(Deserialize, Default, Clone, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FamilyFilter {
    /// A 9- or 12-digit region code (township or village) within the caller's scope.
    #[serde(default)]
    pub region: String,
    /// The start of any member's name (only for roles that see names in full).
    #[serde(default)]
    pub name: String,
    /// Refused: an exact number is looked up by POST ([`LookupForm`]), never in a URL.
    #[serde(default)]
    #[param(ignore)]
    pub id_number: String,
    /// Refused, as `id_number`.
    #[serde(default)]
    #[param(ignore)]
    pub phone: String,
    /// A family category code, e.g. `only_child`.
    #[serde(default)]
    pub category: String,
    /// `none`, `lifted`, `monitored` or `dibao`.
    #[serde(default)]
    pub poverty: String,
    /// The page, from 0.
    #[serde(default)]
    #[param(value_type = Option<u64>)]
    pub page: String,
}

impl FamilyFilter {
    /// The page asked for (from 0); a wrong one is the first page here, and refused by
    /// [`FamilyFilter::to_query`].
    pub fn page(&self) -> u64 {
        forms::page(&self.page).unwrap_or(0)
    }

    /// The store's query; the first wrong filter is reported in Chinese.
    pub fn to_query(&self, actor: &Actor, per_page: u64) -> Result<FamilyQuery, String> {
        let region = forms::optional_region("区域代码", &self.region)?;
        if let Some(r) = &region {
            if !actor.sees(r) && !r.contains(actor.scope()) {
                return Err(format!("区域“{r}”不在您的管理范围内"));
            }
        }
        if !self.id_number.trim().is_empty() || !self.phone.trim().is_empty() {
            return Err("按身份证号或手机号查找请使用“精确查找”（号码不写入网址）".to_owned());
        }
        let category = forms::optional_category(&self.category)?;
        let poverty = forms::optional_poverty("脱贫状态", &self.poverty)?;
        Ok(FamilyQuery {
            region,
            name: Some(self.name.trim().to_owned()).filter(|n| !n.is_empty()),
            category,
            poverty,
            page: forms::page(&self.page)?,
            per_page,
        })
    }

    /// The filters with another page, as a query string for the list's links.
    pub fn query_string(&self, page: u64) -> String {
        serde_urlencoded::to_string([
            ("region", self.region.as_str()),
            ("name", self.name.as_str()),
            ("category", self.category.as_str()),
            ("poverty", self.poverty.as_str()),
            ("page", &page.to_string()),
        ])
        .unwrap_or_default()
    }
}

/// The exact look-up's form (page and API): an ID number, a phone number, or both.
#[derive(Deserialize, Default, Clone, utoipa::ToSchema)]
pub struct LookupForm {
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub phone: String,
}

impl LookupForm {
    /// The store's look-up; the first wrong number is reported in Chinese.
    pub fn to_lookup(&self) -> Result<FamilyLookup, String> {
        let id_number = match self.id_number.trim() {
            "" => None,
            raw => Some(forms::id_number(raw).map_err(|e| format!("身份证号：{e}"))?.0),
        };
        let phone = forms::optional_mobile(&self.phone).map_err(|e| format!("手机号：{e}"))?;
        if id_number.is_none() && phone.is_none() {
            return Err("请填写要查找的身份证号或手机号".to_owned());
        }
        Ok(FamilyLookup { id_number, phone })
    }
}

/// A parsed ID number of someone to register: valid, and not born in the future.
fn person_id_number(label: &str, raw: &str, today: chrono::NaiveDate) -> Result<(IdNumber, bool), String> {
    let (id, upgraded) = forms::id_number(raw).map_err(|e| format!("{label}：{e}"))?;
    if id.birth_date() > today {
        return Err(format!("{label}：出生日期晚于今天，请核对号码"));
    }
    Ok((id, upgraded))
}

/// A member to add, as the API's body and the page's form give it; the flag says the ID
/// number was upgraded from 15 digits. `today`: the store's clock (`AppState::today`); no
/// one is born after it.
pub fn new_member(
    name: &str,
    id_number: &str,
    relationship: &str,
    today: chrono::NaiveDate,
) -> Result<(NewPerson, bool), String> {
    if name.trim().is_empty() {
        return Err("请填写成员姓名".to_owned());
    }
    let (id_number, upgraded) = person_id_number("身份证号", id_number, today)?;
    let relationship = Relationship::parse(relationship)
        .filter(|r| *r != Relationship::Head)
        .ok_or("请选择与户主的关系（每户只有一位户主）")?;
    Ok((NewPerson { name: name.trim().to_owned(), id_number, relationship }, upgraded))
}

/// The add-member form, kept as typed after an error.
#[derive(Deserialize, Default)]
pub struct MemberForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub relationship: String,
}

impl MemberForm {
    /// [`new_member`] of the form's fields.
    pub fn parse(&self, today: chrono::NaiveDate) -> Result<(NewPerson, bool), String> {
        new_member(&self.name, &self.id_number, &self.relationship, today)
    }
}

/// A family to register with its head and the consents given: what the registration form
/// and the API's body both become.
#[derive(Default)]
pub struct NewFamilyRequest {
    /// The village's 12-digit code.
    pub village: String,
    /// A category code.
    pub category: String,
    pub poverty: String,
    pub address: String,
    /// Empty: none.
    pub phone: String,
    pub head_name: String,
    pub head_id_number: String,
    /// The consents given at registration.
    pub consents: Vec<ConsentKind>,
    /// Who signed the consents; the head if empty.
    pub consent_by: String,
}

impl NewFamilyRequest {
    /// Parses every field; the first problem is reported in Chinese. The flag says the
    /// head's ID number was upgraded from 15 digits.
    fn parse(&self, today: chrono::NaiveDate) -> Result<(NewFamily, bool), String> {
        let village = forms::region("村（社区）代码", &self.village)?;
        if village.level() != RegionLevel::Village {
            return Err("村（社区）代码须为12位的村级区划代码".to_owned());
        }
        if !FamilyCategory::DEFAULTS.iter().any(|(code, _)| *code == self.category.trim()) {
            return Err("请选择家庭类型".to_owned());
        }
        let poverty = PovertyStatus::parse(&self.poverty).ok_or("请选择脱贫状态")?;
        let phone = forms::optional_mobile(&self.phone).map_err(|e| format!("联系电话：{e}"))?;
        if self.head_name.trim().is_empty() {
            return Err("请填写户主姓名".to_owned());
        }
        let (id_number, upgraded) = person_id_number("户主身份证号", &self.head_id_number, today)?;
        if self.consent_by.trim().chars().count() > 50 {
            return Err("签署人姓名不超过50个字".to_owned());
        }
        let head =
            NewPerson { name: self.head_name.trim().to_owned(), id_number, relationship: Relationship::Head };
        let family = NewFamily {
            village,
            category: self.category.trim().to_owned(),
            poverty,
            address: self.address.trim().to_owned(),
            phone,
            head,
        };
        Ok((family, upgraded))
    }
}

/// The registration form, kept as typed to show again after an error.
#[derive(Deserialize, Default)]
pub struct NewFamilyForm {
    #[serde(default)]
    pub village: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub poverty: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub head_name: String,
    #[serde(default)]
    pub head_id_number: String,
    /// Checkbox: 同意处理个人信息.
    #[serde(default)]
    pub consent_processing: String,
    /// Checkbox: 同意向保险公司提供个人信息.
    #[serde(default)]
    pub consent_insurer: String,
    /// Who signed the consents; the head if empty.
    #[serde(default)]
    pub consent_by: String,
}

impl NewFamilyForm {
    /// The typed request: the fields as typed, the consents ticked.
    pub fn request(&self) -> NewFamilyRequest {
        let mut consents = Vec::new();
        if !self.consent_processing.is_empty() {
            consents.push(ConsentKind::Processing);
        }
        if !self.consent_insurer.is_empty() {
            consents.push(ConsentKind::InsurerSharing);
        }
        NewFamilyRequest {
            village: self.village.clone(),
            category: self.category.clone(),
            poverty: self.poverty.clone(),
            address: self.address.clone(),
            phone: self.phone.clone(),
            head_name: self.head_name.clone(),
            head_id_number: self.head_id_number.clone(),
            consents,
            consent_by: self.consent_by.clone(),
        }
    }
}

/// Registers the family, then records the consents given; the family's id and whether the
/// head's ID number was upgraded from 15 digits. Input errors are `BadRequest`.
pub async fn register(
    state: &AppState,
    actor: &Actor,
    request: &NewFamilyRequest,
) -> Result<(i64, bool), WebError> {
    let (family, upgraded) = request.parse(state.today()).map_err(WebError::BadRequest)?;
    let head_name = family.head.name.clone();
    let id = state.store.families().create_family(actor, family).await?;
    let given_by = Some(request.consent_by.trim()).filter(|s| !s.is_empty()).unwrap_or(&head_name);
    for kind in &request.consents {
        state.store.families().record_consent(actor, id, *kind, None, given_by).await?;
    }
    Ok((id, upgraded))
}
