//! Policies: the list's filters, as the API's query and the list page's form give them,
//! parsed by one function into the store's query.

use guanai_store::policies::{PolicyQuery, PolicyStatus};
use serde::Deserialize;

use super::forms;

/// The filters of the policy list (API), as typed.
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PolicyListQuery {
    /// The scheme year, 2000 to 2100.
    #[serde(default)]
    #[param(value_type = Option<i32>)]
    year: String,
    /// A policy status.
    #[param(value_type = Option<PolicyStatus>)]
    status: Option<String>,
    /// The family's id.
    #[serde(default)]
    #[param(value_type = Option<i64>)]
    family_id: String,
    /// From 0, at most `guanai_store::MAX_PAGE`.
    #[serde(default)]
    #[param(value_type = Option<u64>)]
    page: String,
}

impl PolicyListQuery {
    /// The store's query, `per_page` a page; the first wrong filter is reported in Chinese.
    pub fn to_query(&self, per_page: u64) -> Result<PolicyQuery, String> {
        let shared =
            policy_query(&self.year, self.status.as_deref().unwrap_or_default(), &self.page, per_page)?;
        Ok(PolicyQuery { family_id: optional("家庭编号", &self.family_id, 1, i64::MAX)?, ..shared })
    }
}

/// The filters of the policy list page, as its form gives them (shown again in the form
/// and carried by the links to other pages).
#[derive(Deserialize, Default)]
pub struct PolicyFilter {
    #[serde(default)]
    pub year: String,
    #[serde(default)]
    pub status: String,
    /// A region code: the policies of the families in it.
    #[serde(default)]
    pub region: String,
    /// From 0.
    #[serde(default)]
    pub page: String,
}

impl PolicyFilter {
    /// The store's query, `per_page` a page; the first wrong filter is reported in Chinese.
    pub fn to_query(&self, per_page: u64) -> Result<PolicyQuery, String> {
        let shared = policy_query(&self.year, &self.status, &self.page, per_page)?;
        Ok(PolicyQuery { region: forms::optional_region("区域", &self.region)?, ..shared })
    }

    /// The page asked for (from 0); the first page when it does not parse.
    pub fn page(&self) -> u64 {
        forms::page(&self.page).unwrap_or(0)
    }
}

/// The filters both lists share: year, status and page.
fn policy_query(year: &str, status: &str, page: &str, per_page: u64) -> Result<PolicyQuery, String> {
    let status = match status.trim() {
        "" => None,
        raw => Some(PolicyStatus::from_code(raw).ok().ok_or_else(|| format!("未知的保单状态“{raw}”"))?),
    };
    Ok(PolicyQuery {
        year: optional("年度", year, 2000, 2100)?,
        status,
        family_id: None,
        page: forms::page(page)?,
        per_page,
        region: None,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(year: &str, status: &str, region: &str, page: &str) -> PolicyFilter {
        PolicyFilter { year: year.into(), status: status.into(), region: region.into(), page: page.into() }
    }

    #[test]
    fn the_page_and_the_api_read_year_status_and_page_alike() {
        let query = filter(" 2026 ", "underwritten", "", "2").to_query(50).unwrap();
        assert_eq!(
            (query.year, query.status, query.page, query.per_page),
            (Some(2026), Some(PolicyStatus::Underwritten), 2, 50)
        );
        for (year, status) in [("1999", ""), ("abc", ""), ("", "lost")] {
            let page = filter(year, status, "", "").to_query(50).unwrap_err();
            let api =
                PolicyListQuery { year: year.into(), status: Some(status.into()), ..Default::default() }
                    .to_query(50)
                    .unwrap_err();
            assert_eq!(page, api);
        }
        assert_eq!(filter("", "lost", "", "").to_query(50).unwrap_err(), "未知的保单状态“lost”");
    }

    #[test]
    fn only_the_page_filters_by_region_and_only_the_api_by_family() {
        assert!(filter("", "", "36", "").to_query(50).unwrap().region.is_some());
        assert!(filter("", "", "x", "").to_query(50).is_err());
        let api = PolicyListQuery { family_id: "7".into(), ..Default::default() }.to_query(50).unwrap();
        assert_eq!((api.family_id, api.region.is_none()), (Some(7), true));
    }
}
