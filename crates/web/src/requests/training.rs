//! Training: the session's form and body, the phone sign-in, the scores.

use guanai_domain::training::{Score, SignInCode, DEFAULT_PASS_MARK};
use guanai_store::training::NewTraining;
use serde::Deserialize;

use super::forms;

#[derive(Deserialize, Default, Clone, utoipa::ToSchema)]
pub struct TrainingRequest {
    /// The county or township holding the session (within the caller's scope).
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub topic: String,
    #[serde(default)]
    pub place: String,
    /// Who teaches: often the insurer's sub-branch.
    #[serde(default)]
    pub trainer: String,
    /// `2026-12-01`.
    #[serde(default)]
    pub held_on: String,
    /// 0 to 100; 60 when empty.
    #[serde(default)]
    pub pass_mark: String,
}

impl TrainingRequest {
    pub fn parse(&self) -> Result<NewTraining, String> {
        let pass_mark = match self.pass_mark.trim() {
            "" => Score::new(DEFAULT_PASS_MARK).expect("a valid default"),
            raw => Score::parse("合格分数线", raw).map_err(|e| e.to_string())?,
        };
        Ok(NewTraining {
            region: forms::region("举办区域", &self.region)?,
            topic: self.topic.clone(),
            place: self.place.clone(),
            trainer: self.trainer.clone(),
            held_on: forms::date("培训日期", &self.held_on)?,
            pass_mark,
        })
    }
}

/// The code an agent types at the session.
#[derive(Deserialize, Default, Clone, utoipa::ToSchema)]
pub struct SignInRequest {
    #[serde(default)]
    pub code: String,
}

impl SignInRequest {
    pub fn parse(&self) -> Result<SignInCode, String> {
        SignInCode::parse(&self.code).map_err(|e| e.to_string())
    }
}

/// One attendee's score.
#[derive(Deserialize, Clone, utoipa::ToSchema)]
pub struct ScoreLine {
    pub agent_id: i64,
    /// 0 to 100.
    pub score: String,
}

#[derive(Deserialize, Default, Clone, utoipa::ToSchema)]
pub struct ScoresRequest {
    #[serde(default)]
    pub scores: Vec<ScoreLine>,
}

impl ScoresRequest {
    /// The scores typed; empty ones are left out.
    pub fn parse(&self) -> Result<Vec<(i64, Score)>, String> {
        let scores: Vec<(i64, Score)> = self
            .scores
            .iter()
            .filter(|l| !l.score.trim().is_empty())
            .map(|l| Score::parse("成绩", &l.score).map(|s| (l.agent_id, s)).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        if scores.is_empty() {
            return Err("请至少填写一位学员的成绩".to_owned());
        }
        Ok(scores)
    }

    /// The scores of a page's form: fields `score_<agent id>`.
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let scores = pairs
            .iter()
            .filter_map(|(k, v)| {
                let id = k.strip_prefix("score_")?.parse().ok()?;
                Some(ScoreLine { agent_id: id, score: v.clone() })
            })
            .collect();
        ScoresRequest { scores }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_read_from_the_form_and_checked() {
        let pairs = vec![
            ("csrf".to_owned(), "x".to_owned()),
            ("score_3".to_owned(), "88".to_owned()),
            ("score_4".to_owned(), "".to_owned()),
        ];
        let request = ScoresRequest::from_pairs(&pairs);
        assert_eq!(request.parse().unwrap().len(), 1);
        let bad = ScoresRequest::from_pairs(&[("score_3".to_owned(), "120".to_owned())]);
        assert!(bad.parse().unwrap_err().contains("0到100"));
        assert!(ScoresRequest::default().parse().is_err());
    }
}
