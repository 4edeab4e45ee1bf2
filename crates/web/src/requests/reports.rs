//! Reports and targets: the report's filters (year, region, breakdown) as the pages and
//! the API give them, and the targets as the form and the API body give them, parsed into
//! the store's types with the Chinese message of the first mistake.

use chrono::NaiveDate;
use guanai_domain::reports::Dimension;
use guanai_domain::targets::{parse_count, Permille};
use guanai_domain::RegionCode;
use guanai_store::reports::ReportQuery;
use guanai_store::targets::{TargetChange, TargetValues};
use serde::Deserialize;

use super::forms;

/// The filters of every report (page and API).
#[derive(Deserialize, Default, Clone, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportFilter {
    /// The scheme year; the current year when absent.
    #[serde(default)]
    #[param(value_type = Option<i32>)]
    pub year: String,
    /// A region code within the caller's scope; the scope when absent.
    #[serde(default)]
    pub region: String,
    /// `region` (the default), `category` or `poverty`.
    #[serde(default)]
    #[param(value_type = Option<Dimension>)]
    pub by: String,
}

impl ReportFilter {
    /// The store's query; the first wrong filter in Chinese.
    pub fn to_query(&self, today: NaiveDate) -> Result<ReportQuery, String> {
        let year = forms::year_or_current(&self.year, today)?;
        let region = forms::optional_region("区域代码", &self.region)?;
        let by = match self.by.trim() {
            "" => Dimension::Region,
            raw => Dimension::from_code(raw).map_err(|_| {
                format!("未知的分组方式“{raw}”：请用 region（按区划）、category（按家庭类型）或 poverty（按脱贫状态）")
            })?,
        };
        Ok(ReportQuery { year, region, by })
    }
}

/// One region's targets as typed: blank fields are left as they are.
#[derive(Deserialize, Default, Clone, Debug, utoipa::ToSchema)]
pub struct TargetInput {
    /// The region's code: a county for the city, a township for a county; a village for a
    /// base alone.
    pub region_code: String,
    #[serde(default)]
    pub households: Option<String>,
    #[serde(default)]
    pub persons: Option<String>,
    /// A percentage, at most one decimal: `87.5`.
    #[serde(default)]
    pub renewal_percent: Option<String>,
    /// The coverage base of a village.
    #[serde(default)]
    pub eligible_households: Option<String>,
}

/// Targets of one year for several regions (the form's rows or the API's body).
#[derive(Deserialize, Default, Clone, Debug, utoipa::ToSchema)]
pub struct TargetsRequest {
    pub year: i32,
    pub rows: Vec<TargetInput>,
}

impl TargetsRequest {
    /// The store's changes; the first mistake in Chinese, naming the region.
    pub fn to_changes(&self) -> Result<Vec<TargetChange>, String> {
        guanai_domain::targets::check_year(self.year).map_err(|e| e.to_string())?;
        let text =
            |v: &Option<String>| v.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
        let mut changes = Vec::new();
        for row in &self.rows {
            let region = forms::region("区划代码", &row.region_code)?;
            let named = |e: String| format!("{}：{e}", region);
            let count = |label: &'static str, v: &Option<String>| -> Result<Option<u64>, String> {
                text(v).map(|t| parse_count(label, &t).map_err(|e| named(e.to_string()))).transpose()
            };
            let values = TargetValues {
                households: count("目标户数", &row.households)?,
                persons: count("目标人数", &row.persons)?,
                renewal_permille: text(&row.renewal_percent)
                    .map(|t| Permille::parse_percent(&t).map_err(|e| named(e.to_string())))
                    .transpose()?,
                eligible_households: count("应保户数", &row.eligible_households)?,
            };
            if values != TargetValues::default() {
                changes.push(TargetChange { region, year: self.year, values });
            }
        }
        Ok(changes)
    }

    /// The form's fields: `year`, then `h_<code>`, `p_<code>`, `r_<code>`, `e_<code>` for
    /// each region shown.
    pub fn from_form(fields: &[(String, String)]) -> Result<TargetsRequest, String> {
        let year = fields.iter().find(|(k, _)| k == "year").map(|(_, v)| v.as_str()).unwrap_or("");
        let year = forms::number("年度", year, 2000, 2100)?;
        let mut rows: Vec<TargetInput> = Vec::new();
        for (key, value) in fields {
            let Some((kind, code)) = key.split_once('_') else { continue };
            if RegionCode::parse(code).is_err() {
                continue;
            }
            let at = match rows.iter().position(|r| r.region_code == code) {
                Some(at) => at,
                None => {
                    rows.push(TargetInput { region_code: code.to_owned(), ..Default::default() });
                    rows.len() - 1
                }
            };
            let slot = match kind {
                "h" => &mut rows[at].households,
                "p" => &mut rows[at].persons,
                "r" => &mut rows[at].renewal_percent,
                "e" => &mut rows[at].eligible_households,
                _ => continue,
            };
            *slot = Some(value.clone());
        }
        Ok(TargetsRequest { year, rows })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filters_read_year_region_and_breakdown() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let q = ReportFilter::default().to_query(today).unwrap();
        assert_eq!((q.year, q.region, q.by), (2026, None, Dimension::Region));
        let f = ReportFilter { year: "2025".into(), region: "360802".into(), by: "poverty".into() };
        let q = f.to_query(today).unwrap();
        assert_eq!(
            (q.year, q.region.unwrap().as_str().to_owned(), q.by),
            (2025, "360802".to_owned(), Dimension::Poverty)
        );
        assert!(ReportFilter { by: "x".into(), ..Default::default() }
            .to_query(today)
            .unwrap_err()
            .contains("未知的分组方式"));
        assert!(ReportFilter { year: "26".into(), ..Default::default() }.to_query(today).is_err());
    }

    #[test]
    fn the_form_and_the_body_give_the_same_changes() {
        let fields: Vec<(String, String)> = [
            ("year", "2026"),
            ("h_360802", "1,200"),
            ("r_360802", "87.5"),
            ("p_360802", ""),
            ("h_360803", ""),
            ("csrf", "x"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let changes = TargetsRequest::from_form(&fields).unwrap().to_changes().unwrap();
        assert_eq!(changes.len(), 1, "a row left blank changes nothing");
        assert_eq!(changes[0].values.households, Some(1200));
        assert_eq!(changes[0].values.persons, None);
        let bad = TargetsRequest {
            year: 2026,
            rows: vec![TargetInput {
                region_code: "360802".into(),
                households: Some("many".into()),
                ..Default::default()
            }],
        };
        assert!(bad.to_changes().unwrap_err().starts_with("360802：目标户数“many”"));
    }
}
