//! The OpenAPI document of `/api/v1`, served at `/api/v1/openapi.json`. One table lists
//! every operation with the words of its handler's doc comment; a test checks that each
//! one is routed, and a snapshot of the whole document shows any drift in review.

use axum::Json;
use serde_json::{json, Map, Value};

/// One operation: method, path (relative to /api/v1), tag, summary, request body schema.
struct Operation {
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    body: Option<fn() -> Value>,
    /// The success status.
    status: u16,
    /// Needs no session (the public certificate check).
    public: bool,
}

const fn op(method: &'static str, path: &'static str, tag: &'static str, summary: &'static str) -> Operation {
    Operation { method, path, tag, summary, body: None, status: 200, public: false }
}

const fn with_body(mut operation: Operation, body: fn() -> Value, status: u16) -> Operation {
    operation.body = Some(body);
    operation.status = status;
    operation
}

fn create_user() -> Value {
    object(&[
        ("username", "string", true),
        ("display_name", "string", true),
        ("role", "string", true),
        ("region_code", "string", true),
        ("org_id", "integer", false),
        ("password", "string", true),
    ])
}

fn create_family() -> Value {
    object(&[
        ("village_code", "string", true),
        ("category", "string", true),
        ("poverty", "string", true),
        ("address", "string", false),
        ("phone", "string", false),
        ("head_name", "string", true),
        ("head_id_number", "string", true),
        ("consents", "boolean", false),
    ])
}

fn lookup() -> Value {
    object(&[("id_number", "string", false), ("phone", "string", false)])
}

fn coverage() -> Value {
    object(&[("id_number", "string", true)])
}

fn add_member() -> Value {
    object(&[("name", "string", true), ("id_number", "string", true), ("relationship", "string", true)])
}

fn enrol() -> Value {
    let mut schema = object(&[
        ("family_id", "integer", true),
        ("package_id", "integer", true),
        ("shares", "integer", false),
        ("expected_family_part_fen", "integer", false),
        ("submit", "boolean", false),
    ]);
    schema["properties"]["member_ids"] = json!({"type": "array", "items": {"type": "integer"}});
    schema["required"].as_array_mut().expect("array").push(json!("member_ids"));
    schema
}

fn underwrite() -> Value {
    object(&[("policy_no", "string", true)])
}

fn cancel() -> Value {
    object(&[("reason", "string", true)])
}

fn gift() -> Value {
    let mut schema = object(&[
        ("source_id", "integer", true),
        ("package_id", "integer", true),
        ("region_code", "string", false),
        ("category", "string", false),
        ("poverty", "string", false),
    ]);
    schema["properties"]["family_ids"] = json!({"type": "array", "items": {"type": "integer"}});
    schema
}

fn object(fields: &[(&str, &str, bool)]) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for (name, kind, needed) in fields {
        properties.insert((*name).to_owned(), json!({"type": kind}));
        if *needed {
            required.push(json!(name));
        }
    }
    json!({"type": "object", "properties": properties, "required": required})
}

const OPERATIONS: &[Operation] = &[
    op("get", "/me", "users", "The logged-in user, with the CSRF token to send on state-changing calls."),
    op("get", "/regions/{code}", "regions", "One region within the caller's scope and the regions directly below it."),
    op("get", "/users", "users", "The users within the caller's scope."),
    with_body(op("post", "/users", "users", "Creates a user within the caller's scope, with a role the caller may grant."), create_user, 201),
    op("get", "/users/{id}", "users", "One user within the caller's scope; 404 otherwise."),
    op("get", "/families", "families", "Families within the caller's scope; filters as on the family list page (no ID or phone number: see the look-up)."),
    with_body(op("post", "/families/lookup", "families", "Families with a member of this ID number or with this phone number. Audited; at most 30 look-ups per user in ten minutes (then 429)."), lookup, 200),
    with_body(op("post", "/families", "families", "Registers a family with its head (and its consents)."), create_family, 201),
    op("get", "/families/{id}", "families", "One family with its members (masked ID numbers), consents and member events."),
    with_body(op("post", "/families/{id}/members", "families", "Adds a member to a family."), add_member, 201),
    op("get", "/packages", "products", "The \"1+N\" packages with their base product and add-ons, of one year when given."),
    with_body(op("post", "/quotes", "policies", "Prices an enrolment and checks every eligibility rule; changes nothing."), enrol, 200),
    op("get", "/policies", "policies", "Policies within the caller's scope, newest first, 100 a page."),
    with_body(op("post", "/policies", "policies", "Enrols a family: writes the policy with its premium split, and submits it when asked."), enrol, 201),
    op("get", "/policies/{id}", "policies", "One policy with its insured members (masked IDs), products, funding and payments."),
    op("post", "/policies/{id}/submit", "policies", "Submits a draft to the insurer (needs the family's consents)."),
    with_body(op("post", "/policies/{id}/underwrite", "policies", "The insurer confirms a submitted policy with its policy number."), underwrite, 200),
    with_body(op("post", "/policies/{id}/cancel", "policies", "Cancels a policy with a reason; its funding goes back to the sources."), cancel, 200),
    with_body(op("post", "/coverage", "policies", "Who is covered: the person with this ID number (within the caller's scope) and the policies that cover them. Audit-logged; counted as an exact look-up (429 past the limit)."), coverage, 200),
    Operation { public: true, ..op("get", "/verify/{code}", "policies", "The public check of a certificate code: masked data only, no login.") },
    op("get", "/funding/sources", "funding", "Funding sources visible to the caller, of one year when given."),
    op("get", "/funding/sources/{id}", "funding", "A source's ledger: pledged, allocated, received, remaining, rules, receipts and the policies it pays for."),
    with_body(op("post", "/gifting/preview", "funding", "How many of the selected families a source can gift a package to; changes nothing."), gift, 200),
    with_body(op("post", "/gifting", "funding", "Gifts the package to every eligible selected family, paid by the source; all or nothing."), gift, 200),
];

fn parameters(path: &str, method: &str) -> Vec<Value> {
    let mut out: Vec<Value> = path
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    if method == "get" && matches!(path, "/policies" | "/families" | "/funding/sources" | "/packages") {
        out.push(json!({"name": "page", "in": "query", "required": false, "schema": {"type": "integer"}}));
    }
    out
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for operation in OPERATIONS {
        let mut entry = json!({
            "operationId": format!("{}{}", operation.method, operation.path.replace(['/', '{', '}'], "_")),
            "tags": [operation.tag],
            "summary": operation.summary,
            "parameters": parameters(operation.path, operation.method),
            "responses": {
                operation.status.to_string(): {"description": "成功", "content": {"application/json": {}}},
                "400": {"$ref": "#/components/responses/Error"},
                "401": {"$ref": "#/components/responses/Error"},
                "403": {"$ref": "#/components/responses/Error"},
                "404": {"$ref": "#/components/responses/Error"},
                "409": {"$ref": "#/components/responses/Error"},
            },
        });
        if let Some(body) = operation.body {
            entry["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": body()}}});
        }
        if operation.public {
            entry["security"] = json!([]);
        }
        let path = paths.entry(format!("/api/v1{}", operation.path)).or_insert_with(|| json!({}));
        path[operation.method] = entry;
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "关爱 Guanai API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "计生家庭保险服务平台的 JSON 接口。登录后凭会话 Cookie 调用；修改数据的请求须在 X-CSRF-Token 头中带上 GET /api/v1/me 返回的 csrf_token。金额以分（fen）为单位的整数字段以 _fen 结尾，其余金额为分的整数。错误统一为 {\"error\": {\"code\", \"message\"}}，message 为中文说明。",
        },
        "security": [{"session": [], "csrf": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": crate::SESSION_COOKIE},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
            },
            "responses": {
                "Error": {
                    "description": "错误，message 为可直接展示给用户的中文说明",
                    "content": {"application/json": {"schema": {
                        "type": "object",
                        "properties": {"error": {"type": "object", "properties": {
                            "code": {"type": "string"}, "message": {"type": "string"}
                        }}}
                    }}},
                },
            },
        },
    })
}

/// The OpenAPI document of this API.
pub async fn serve() -> Json<Value> {
    Json(document())
}

/// Every documented operation, as (method, path), for the routing test.
pub fn operations() -> Vec<(&'static str, &'static str)> {
    OPERATIONS.iter().map(|o| (o.method, o.path)).collect()
}
