//! Joint supervision visits: the visit with its team and actions, as the form and the API
//! give them.

use guanai_store::supervision::{NewAction, NewVisit};
use serde::Deserialize;

use super::forms;

#[derive(Deserialize, Default, Clone, utoipa::ToSchema)]
pub struct ActionRequest {
    #[serde(default)]
    pub description: String,
    /// The id of the user who owns the action.
    #[serde(default)]
    pub owner_id: i64,
    /// `2026-12-31`.
    #[serde(default)]
    pub due_on: String,
}

#[derive(Deserialize, Default, Clone, utoipa::ToSchema)]
pub struct VisitRequest {
    /// The region visited.
    #[serde(default)]
    pub region: String,
    /// `2026-11-28`, not after today.
    #[serde(default)]
    pub visited_on: String,
    /// The team: ids of association and insurer users.
    #[serde(default)]
    pub members: Vec<i64>,
    #[serde(default)]
    pub findings: String,
    #[serde(default)]
    pub actions: Vec<ActionRequest>,
}

impl ActionRequest {
    pub fn parse(&self) -> Result<NewAction, String> {
        if self.owner_id <= 0 {
            return Err("请为每项整改选择负责人".to_owned());
        }
        Ok(NewAction {
            description: self.description.clone(),
            owner_id: self.owner_id,
            due_on: forms::date("整改期限", &self.due_on)?,
        })
    }
}

impl VisitRequest {
    pub fn parse(&self) -> Result<NewVisit, String> {
        if self.members.is_empty() {
            return Err("请选择督导组成员".to_owned());
        }
        Ok(NewVisit {
            region: forms::region("督导地区", &self.region)?,
            visited_on: forms::date("督导日期", &self.visited_on)?,
            members: self.members.clone(),
            findings: self.findings.clone(),
            actions: self.actions.iter().map(ActionRequest::parse).collect::<Result<_, _>>()?,
        })
    }

    /// The visit of a page's form: `member` repeated, actions as `action_<n>_description`,
    /// `action_<n>_owner`, `action_<n>_due` (rows left empty are skipped).
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self, String> {
        let mut request = VisitRequest::default();
        let mut actions: std::collections::BTreeMap<u32, (String, String, String)> = Default::default();
        for (key, value) in pairs {
            match key.as_str() {
                "region" => request.region = value.clone(),
                "visited_on" => request.visited_on = value.clone(),
                "findings" => request.findings = value.clone(),
                "member" => {
                    request.members.push(value.parse().map_err(|_| "督导组成员无效，请重新选择".to_owned())?)
                }
                other => {
                    let Some(rest) = other.strip_prefix("action_") else { continue };
                    let Some((n, field)) = rest.split_once('_') else { continue };
                    let Ok(n) = n.parse::<u32>() else { continue };
                    let entry = actions.entry(n).or_default();
                    match field {
                        "description" => entry.0 = value.clone(),
                        "owner" => entry.1 = value.clone(),
                        "due" => entry.2 = value.clone(),
                        _ => {}
                    }
                }
            }
        }
        for (description, owner, due) in actions.into_values() {
            if description.trim().is_empty() {
                continue;
            }
            let owner_id = owner.trim().parse().unwrap_or(0);
            request.actions.push(ActionRequest { description, owner_id, due_on: due });
        }
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visit_form_gives_its_team_and_filled_actions() {
        let pairs: Vec<(String, String)> = [
            ("region", "360802"),
            ("visited_on", "2026-11-20"),
            ("member", "3"),
            ("member", "6"),
            ("findings", "理赔材料告知不一次到位"),
            ("action_1_description", "一次性告知缺少的材料"),
            ("action_1_owner", "6"),
            ("action_1_due", "2026-11-30"),
            ("action_2_description", ""),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let visit = VisitRequest::from_pairs(&pairs).unwrap().parse().unwrap();
        assert_eq!(visit.members, vec![3, 6]);
        assert_eq!(visit.actions.len(), 1);
        let no_owner = VisitRequest {
            actions: vec![ActionRequest {
                description: "x".into(),
                owner_id: 0,
                due_on: "2026-11-30".into(),
            }],
            ..VisitRequest::from_pairs(&pairs).unwrap()
        };
        assert_eq!(no_owner.parse().unwrap_err(), "请为每项整改选择负责人");
    }
}
