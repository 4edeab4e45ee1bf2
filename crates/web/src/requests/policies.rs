//! Policies: the list's filters as the API's query gives them.

use guanai_store::policies::{PolicyQuery, PolicyStatus};
use serde::Deserialize;

use super::forms;

/// The filters of the policy list (API), as typed.
#[derive(Deserialize, Default)]
pub struct PolicyListQuery {
    /// 2000 to 2100.
    #[serde(default)]
    year: String,
    status: Option<String>,
    #[serde(default)]
    family_id: String,
    /// From 0, at most `guanai_store::MAX_PAGE`.
    #[serde(default)]
    page: String,
}

/// An optional whole number within a range: empty is `None`.
fn optional<T: std::str::FromStr + PartialOrd + std::fmt::Display>(
    label: &str,
    raw: &str,
    min: T,
    max: T,
) -> Result<Option<T>, String> {
    match raw.trim() {
        "" => Ok(None),
        text => forms::number(label, text, min, max).map(Some),
    }
}

impl PolicyListQuery {
    /// The store's query, `per_page` a page; the first wrong filter is reported in Chinese.
    pub fn to_query(&self, per_page: u64) -> Result<PolicyQuery, String> {
        let status = match self.status.as_deref() {
            None | Some("") => None,
            Some(raw) => {
                Some(PolicyStatus::from_code(raw).ok().ok_or_else(|| format!("未知的保单状态“{raw}”"))?)
            }
        };
        Ok(PolicyQuery {
            year: optional("年度", &self.year, 2000, 2100)?,
            status,
            family_id: optional("家庭编号", &self.family_id, 1, i64::MAX)?,
            page: forms::page(&self.page)?,
            per_page,
            region: None,
        })
    }
}
