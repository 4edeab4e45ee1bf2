//! Village agents: the registry's form and body, the handover, the list's filters.

use guanai_domain::agents::{AgentKind, AgentVillages};
use guanai_domain::families::PersonName;
use guanai_store::agents::{AgentFilter, Handover, NewAgent};
use serde::Deserialize;

use super::forms;

/// A new agent, as the form and the API give it.
#[derive(Deserialize, Default, Clone, utoipa::ToSchema)]
pub struct AgentRequest {
    /// The agent's name.
    #[serde(default)]
    pub name: String,
    /// `specialist` (村级服务专员) or `three_heads` (村“三长”).
    #[serde(default)]
    #[schema(value_type = AgentKind)]
    pub kind: String,
    /// A mobile number, sealed and shown masked.
    #[serde(default)]
    pub phone: String,
    /// The 12-digit codes of the villages served, separated by commas or spaces; all in one
    /// township.
    #[serde(default)]
    pub villages: String,
    /// The day appointed, `2026-09-01`.
    #[serde(default)]
    pub appointed_on: String,
    /// The id of the village-agent account the agent logs in with (optional).
    #[serde(default)]
    pub user_id: String,
}

impl AgentRequest {
    pub fn parse(&self) -> Result<NewAgent, String> {
        let name = PersonName::parse(&self.name).map_err(|e| e.to_string())?;
        let kind = AgentKind::from_code(self.kind.trim()).map_err(|_| "请选择服务专员的类型".to_owned())?;
        let villages = self
            .villages
            .split(|c: char| c == ',' || c == '，' || c == '、' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(|s| forms::region("服务的村", s))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(NewAgent {
            name,
            kind,
            phone: forms::optional_mobile(&self.phone)?,
            villages: AgentVillages::new(villages).map_err(|e| e.to_string())?,
            appointed_on: forms::date("任职日期", &self.appointed_on)?,
            user_id: optional_id("登录账号", &self.user_id)?,
        })
    }
}

/// A handover of the agent in the path to a successor.
#[derive(Deserialize, Default, Clone, utoipa::ToSchema)]
pub struct HandoverRequest {
    /// The id of the serving agent who takes over.
    #[serde(default)]
    pub successor_id: String,
    /// The day the agent left, `2026-11-20`; today when empty.
    #[serde(default)]
    pub day: String,
    /// Why (换届选举 …).
    #[serde(default)]
    pub note: String,
}

impl HandoverRequest {
    pub fn parse(&self, leaving_id: i64, today: chrono::NaiveDate) -> Result<Handover, String> {
        let successor_id = optional_id("接任的服务专员", &self.successor_id)?
            .ok_or_else(|| "请选择接任的服务专员".to_owned())?;
        let day = forms::optional_date("离任日期", &self.day)?.unwrap_or(today);
        Ok(Handover { leaving_id, successor_id, day, note: self.note.clone() })
    }
}

/// The filters of the agent lists.
#[derive(Deserialize, Default, Clone, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgentListQuery {
    /// A region within the caller's scope.
    #[serde(default)]
    #[param(value_type = Option<String>)]
    pub region: String,
    /// `1`: list agents who have left too.
    #[serde(default)]
    #[param(value_type = Option<String>)]
    pub with_left: String,
    /// The season of the funnel; this year when empty.
    #[serde(default)]
    #[param(value_type = Option<i32>)]
    pub year: String,
}

impl AgentListQuery {
    pub fn filter(&self) -> Result<AgentFilter, String> {
        Ok(AgentFilter {
            region: forms::optional_region("区域", &self.region)?,
            with_left: self.with_left.trim() == "1",
            appointed_since: None,
        })
    }

    pub fn year(&self, today: chrono::NaiveDate) -> Result<i32, String> {
        forms::year_or_current(&self.year, today)
    }
}

/// An optional record id typed in a form: empty is none.
pub fn optional_id(label: &str, raw: &str) -> Result<Option<i64>, String> {
    match raw.trim() {
        "" => Ok(None),
        text => text
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(Some)
            .ok_or_else(|| format!("{label}无效，请重新选择")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agent_is_read_with_its_villages_in_one_township() {
        let request = AgentRequest {
            name: " 刘敏 ".into(),
            kind: "specialist".into(),
            phone: "13812345678".into(),
            villages: "360802100201，360802100202".into(),
            appointed_on: "2026-01-05".into(),
            user_id: "".into(),
        };
        let agent = request.parse().unwrap();
        assert_eq!(agent.villages.login_scope().as_str(), "360802100");
        let mixed = AgentRequest { villages: "360802100201 360802101201".into(), ..request.clone() };
        assert!(mixed.parse().unwrap_err().contains("同一个乡镇"));
        let none = AgentRequest { kind: "".into(), ..request };
        assert_eq!(none.parse().unwrap_err(), "请选择服务专员的类型");
    }
}
