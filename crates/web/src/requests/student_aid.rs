//! Student aid (金秋助学): the application and the review steps, as the form and the API
//! give them.

use guanai_store::student_aid::{NewApplication, Review};
use serde::Deserialize;

use super::agents::optional_id;
use super::forms;

#[derive(Deserialize, Default, Clone, utoipa::ToSchema)]
pub struct ApplicationRequest {
    /// The id of the student's family in the registry.
    #[serde(default)]
    pub family_id: String,
    #[serde(default)]
    pub student_name: String,
    #[serde(default)]
    pub school: String,
    #[serde(default)]
    pub admission_year: String,
    /// The grant asked for, in 元 (`2,000`).
    #[serde(default)]
    pub amount: String,
    /// Papers seen, remarks.
    #[serde(default)]
    pub note: String,
}

impl ApplicationRequest {
    pub fn parse(&self) -> Result<NewApplication, String> {
        Ok(NewApplication {
            family_id: optional_id("家庭", &self.family_id)?.ok_or_else(|| "请填写家庭编号".to_owned())?,
            student_name: self.student_name.clone(),
            school: self.school.clone(),
            admission_year: forms::number("入学年份", &self.admission_year, 2000, 2100)?,
            amount: forms::money("助学金额", &self.amount)?,
            note: self.note.clone(),
        })
    }
}

/// One review step: `county_approve`, `city_approve` (with `source_id`), `pay` (with
/// `paid_on`, today when empty) or `refuse` (with `reason`).
#[derive(Deserialize, Default, Clone, utoipa::ToSchema)]
pub struct ReviewRequest {
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub source_id: String,
    #[serde(default)]
    pub paid_on: String,
    #[serde(default)]
    pub reason: String,
}

impl ReviewRequest {
    pub fn parse(&self, today: chrono::NaiveDate) -> Result<Review, String> {
        match self.decision.trim() {
            "county_approve" => Ok(Review::CountyApprove),
            "city_approve" => Ok(Review::CityApprove {
                source_id: optional_id("资金来源", &self.source_id)?
                    .ok_or_else(|| "请选择支付助学金的资金来源".to_owned())?,
            }),
            "pay" => Ok(Review::Pay {
                paid_on: forms::optional_date("发放日期", &self.paid_on)?.unwrap_or(today),
            }),
            "refuse" => Ok(Review::Refuse { reason: self.reason.clone() }),
            other => Err(format!("未知的审核操作“{other}”")),
        }
    }
}
