//! A record's id taken from the path (`/families/{id}`), typed by the kind of record it
//! names. Whatever is not a number answers "not found" in Chinese, naming what was looked
//! for, exactly as an id out of the user's scope does: pages as an error page
//! (`PathId<Family>`), the API as its JSON error (`PathId<Family, ApiError>`).

use std::marker::PhantomData;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::response::IntoResponse;

use crate::error::WebError;

/// The kind of record an id names; `NAME` is how a user calls it.
pub trait Record {
    const NAME: &'static str;
}

macro_rules! records {
    ($($kind:ident => $name:literal),* $(,)?) => {
        $(
            #[doc = concat!("Ids of ", $name, ".")]
            pub enum $kind {}
            impl Record for $kind {
                const NAME: &'static str = $name;
            }
        )*
    };
}

records! {
    Family => "家庭",
    Person => "成员",
    Policy => "保单",
    User => "用户",
    ImportJob => "导入任务",
    ExchangeJob => "回盘任务",
    FundingSource => "资金来源",
    Claim => "理赔案件",
    Agent => "服务专员",
    TrainingSession => "培训",
    Activity => "宣传活动",
    Photo => "照片",
    PaperFile => "理赔材料文件",
    Visit => "督导记录",
    SupervisionAction => "整改事项",
    AidApplication => "助学申请",
    FollowUp => "跟进任务",
}

/// The one path parameter of a route, parsed as the id of a `K`. `E` is how a handler
/// answers: [`WebError`] for pages (the default), `ApiError` for the API.
pub struct PathId<K, E = WebError> {
    pub id: i64,
    kind: PhantomData<fn() -> (K, E)>,
}

impl<K, E> PathId<K, E> {
    pub fn new(id: i64) -> Self {
        PathId { id, kind: PhantomData }
    }
}

/// The id in `raw`, or the "not found" a user reads for it.
pub fn parse_id<K: Record>(raw: &str) -> Result<i64, WebError> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| WebError::NotFound(format!("找不到{}“{}”", K::NAME, raw)))
}

impl<S, K, E> FromRequestParts<S> for PathId<K, E>
where
    S: Send + Sync,
    K: Record,
    E: From<WebError> + IntoResponse,
{
    type Rejection = E;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| E::from(WebError::NotFound(format!("找不到{}", K::NAME))))?;
        Ok(PathId::new(parse_id::<K>(&raw)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_a_positive_number_and_anything_else_names_what_was_not_found() {
        assert_eq!(parse_id::<Family>(" 42 ").unwrap(), 42);
        for raw in ["", "abc", "0", "-3", "1.5", "99999999999999999999"] {
            let err = parse_id::<Policy>(raw).unwrap_err();
            assert!(matches!(&err, WebError::NotFound(m) if m.starts_with("找不到保单")), "{raw}: {err:?}");
        }
    }
}
