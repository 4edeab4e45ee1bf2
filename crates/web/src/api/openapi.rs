//! The OpenAPI document of `/api/v1`, generated from the handlers: each carries
//! `#[utoipa::path]` (its parameters, body and answers) and the router is built from them
//! (`utoipa_axum`'s `routes!`), so no route exists undocumented. What every operation shares
//! is added here once: its security (the session cookie; a state-changing call also the
//! CSRF header) and the error answers its shape implies (see [`SharedAnswers`]). Served at
//! `/api/v1/openapi.json`; `crates/web/openapi.json` is its snapshot for review.

use std::sync::LazyLock;

use axum::Json;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::error::ApiErrorBody;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "关爱 Guanai API",
        description = "计生家庭保险服务平台的 JSON 接口。登录后凭会话 Cookie 调用；修改数据的请求须在 X-CSRF-Token 头中带上 GET /api/v1/me 返回的 csrf_token。金额为以分（fen）计的整数。错误统一为 {\"error\": {\"code\", \"message\"}}，message 为可直接展示给用户的中文说明。",
    ),
    components(schemas(ApiErrorBody))
)]
pub struct ApiDoc;

/// The session cookie and the CSRF header, and on each operation the answers its shape
/// implies, unless the handler documents that status itself:
/// - every operation may fail with `500`;
/// - one that needs a session (no `security` of its own) gets `session` (and `csrf` when it
///   is not a GET) and may answer `401` (no session), `403` (the initial password is still
///   to be changed, or the CSRF token is missing) and `404` (the role may not use it: the
///   attempt is audited and answered like an unknown record);
/// - one with a request body or query parameters may answer `400`;
/// - one with a path parameter may answer `404`.
///
/// Each operation's id is its method and path (`get_policies_id`), unique by construction
/// (utoipa would name it after the handler, and two modules both have a `list`).
struct SharedAnswers;

impl Modify for SharedAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.security_schemes.insert(
            "session".to_owned(),
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::SESSION_COOKIE))),
        );
        components.security_schemes.insert(
            "csrf".to_owned(),
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-CSRF-Token"))),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            if let Some(get) = item.get.as_mut() {
                shared_answers(get, false);
                get.operation_id = Some(operation_id("get", path));
            }
            if let Some(post) = item.post.as_mut() {
                shared_answers(post, true);
                post.operation_id = Some(operation_id("post", path));
            }
        }
    }
}

fn operation_id(method: &str, path: &str) -> String {
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    let words: Vec<&str> =
        path.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    format!("{method}_{}", words.join("_"))
}

fn shared_answers(operation: &mut Operation, changes_state: bool) {
    let mut answers: Vec<(u16, &str)> = vec![(500, "系统内部错误（详情只记入服务器日志）")];
    if operation.security.is_none() {
        let mut schemes = vec!["session"];
        if changes_state {
            schemes.push("csrf");
        }
        let requirement =
            schemes.iter().fold(SecurityRequirement::default(), |r, s| r.add::<_, _, String>(*s, []));
        operation.security = Some(vec![requirement]);
        answers.push((401, "未登录或会话已过期"));
        answers.push((403, "须先修改初始密码，或缺少、带错了 CSRF 令牌"));
        answers.push((404, "本角色不能使用该接口（已记入审计日志），或找不到所指的记录"));
    }
    let parameters = operation.parameters.as_deref().unwrap_or_default();
    if operation.request_body.is_some() || parameters.iter().any(|p| p.parameter_in == ParameterIn::Query) {
        answers.push((400, "请求内容或查询条件有误，message 说明原因"));
    }
    if parameters.iter().any(|p| p.parameter_in == ParameterIn::Path) {
        answers.push((404, "找不到所指的记录，或它不在您的管辖范围内（已记入审计日志）"));
    }
    for (status, description) in answers {
        operation.responses.responses.entry(status.to_string()).or_insert_with(|| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("ApiErrorBody"))).build(),
                )
                .build()
                .into()
        });
    }
}

/// The whole document, built once from the API's router.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(|| {
        let mut document = super::routes().split_for_parts().1;
        SharedAnswers.modify(&mut document);
        document
    });
    &DOCUMENT
}

/// The OpenAPI document of this API (OpenAPI 3.1).
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    security(()),
    responses((status = 200, description = "本接口的 OpenAPI 文档", body = Object)),
)]
pub async fn serve() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(document())
}
