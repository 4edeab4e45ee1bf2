//! Publicity activities: the form and body, the list's filters, and the activity code an
//! enrolment may carry.

use guanai_domain::publicity::ActivityCode;
use guanai_store::publicity::NewActivity;
use serde::Deserialize;

use super::forms;

#[derive(Deserialize, Default, Clone, utoipa::ToSchema)]
pub struct ActivityRequest {
    /// The code of a kind in use (`GET /activity-kinds`), e.g. `door_to_door`.
    #[serde(default)]
    pub kind: String,
    /// The region where it was held (within the caller's scope).
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub title: String,
    /// `2026-11-20`, not after today.
    #[serde(default)]
    pub held_on: String,
    #[serde(default)]
    pub organiser: String,
    /// How many people it reached.
    #[serde(default)]
    pub people_reached: String,
    /// Materials handed out (leaflets, posters …).
    #[serde(default)]
    pub materials: String,
}

impl ActivityRequest {
    pub fn parse(&self) -> Result<NewActivity, String> {
        Ok(NewActivity {
            kind: match self.kind.trim() {
                "" => return Err("请选择活动类型".to_owned()),
                code => code.to_owned(),
            },
            region: forms::region("活动区域", &self.region)?,
            title: self.title.clone(),
            held_on: forms::date("活动日期", &self.held_on)?,
            organiser: self.organiser.clone(),
            people_reached: forms::number("覆盖人数", &self.people_reached, 0, 10_000_000)?,
            materials: self.materials.clone(),
        })
    }
}

#[derive(Deserialize, Default, Clone, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    /// The year; this year when empty.
    #[serde(default)]
    #[param(value_type = Option<i32>)]
    pub year: String,
    /// One kind of activity, by its code.
    #[serde(default)]
    #[param(value_type = Option<String>)]
    pub kind: String,
}

impl ActivityQuery {
    /// The year and the kind's code (any code: an unknown one finds nothing).
    pub fn parse(&self, today: chrono::NaiveDate) -> Result<(i32, Option<&str>), String> {
        let year = forms::year_or_current(&self.year, today)?;
        let kind = Some(self.kind.trim()).filter(|k| !k.is_empty());
        Ok((year, kind))
    }
}

/// A kind of activity the city adds or changes.
#[derive(Deserialize, Default, Clone, utoipa::ToSchema)]
pub struct ActivityKindRequest {
    /// Its name, 2 to 20 characters.
    #[serde(default)]
    pub label: String,
    /// In use (new activities may be of it); when changing a kind, `false` stops it.
    #[serde(default = "in_use")]
    pub active: bool,
}

fn in_use() -> bool {
    true
}

/// A list's year (training, supervision, student aid).
#[derive(Deserialize, Default, Clone, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearFilter {
    /// The year; this year when empty.
    #[serde(default)]
    #[param(value_type = Option<i32>)]
    pub year: String,
}

impl YearFilter {
    pub fn parse(&self, today: chrono::NaiveDate) -> Result<i32, String> {
        forms::year_or_current(&self.year, today)
    }
}

/// The activity code typed on an enrolment (optional).
pub fn enrolment_activity(raw: Option<&str>) -> Result<Option<ActivityCode>, String> {
    ActivityCode::parse_optional(raw).map_err(|e| e.to_string())
}
