//! Every page route that names a record by id answers an id that is no id (not a number,
//! zero, negative, too large) with 404 and "找不到" the kind of record, in Chinese, before
//! any handler looks at it.

use axum::http::StatusCode;

use crate::util::TestApp;

/// (method, path with `{}` for the id, what the id names).
const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/families/{}", "家庭"),
    ("POST", "/families/{}/members", "家庭"),
    ("POST", "/families/{}/consents", "家庭"),
    ("POST", "/families/{}/consents/withdraw", "家庭"),
    ("POST", "/families/{}/reveal-phone", "家庭"),
    ("POST", "/families/{}/events", "家庭"),
    ("POST", "/families/{}/move", "家庭"),
    ("GET", "/families/{}/enrol", "家庭"),
    ("POST", "/families/{}/enrol", "家庭"),
    ("POST", "/families/{}/enrol/quote", "家庭"),
    ("POST", "/persons/{}/events", "成员"),
    ("POST", "/persons/{}/move", "成员"),
    ("POST", "/persons/{}/reveal", "成员"),
    ("GET", "/policies/{}", "保单"),
    ("POST", "/policies/{}/submit", "保单"),
    ("POST", "/policies/{}/underwrite", "保单"),
    ("POST", "/policies/{}/cancel", "保单"),
    ("POST", "/policies/{}/payments", "保单"),
    ("GET", "/policies/{}/certificate", "保单"),
    ("GET", "/users/{}", "用户"),
    ("POST", "/users/{}/unlock", "用户"),
    ("GET", "/funding/{}", "资金来源"),
    ("POST", "/funding/{}/rules", "资金来源"),
    ("POST", "/funding/{}/receipts", "资金来源"),
    ("POST", "/funding/{}/grants", "资金来源"),
    ("POST", "/funding/{}/grants/360802/revoke", "资金来源"),
];

#[tokio::test]
async fn an_id_that_is_no_id_is_not_found_on_every_page_that_takes_one() {
    let app = TestApp::demo().await;
    let city = app.login("demo.city").await;
    for (method, path, kind) in ROUTES {
        for raw in ["abc", "0", "-7", "99999999999999999999"] {
            let url = path.replace("{}", raw);
            // The person routes name the family in a field: a real family, so only the id
            // in the path can be what is not found.
            let fields = [("family", "1")];
            let response = match *method {
                "GET" => app.get(&city, &url).await,
                _ => app.post_form(&city, &url, &fields).await,
            };
            assert_eq!(response.status, StatusCode::NOT_FOUND, "{method} {url}: {}", response.body);
            let message = format!("找不到{kind}“{raw}”");
            assert!(
                response.body.contains(&message),
                "{method} {url} should say {message}: {}",
                response.body
            );
        }
    }
}

#[tokio::test]
async fn a_family_named_in_a_field_that_is_no_id_is_not_found_either() {
    let app = TestApp::demo().await;
    let city = app.login("demo.city").await;
    for path in ["/persons/1/events", "/persons/1/move", "/persons/1/reveal"] {
        let response = app.post_form(&city, path, &[("family", "abc")]).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}");
        assert!(response.body.contains("找不到家庭“abc”"), "{path}: {}", response.body);
    }
}
