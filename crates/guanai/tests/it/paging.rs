//! Page numbers from query strings: a huge one is refused with the allowed range, on the
//! pages and in the API, instead of overflowing the offset.

use axum::http::StatusCode;

use crate::util::TestApp;

const HUGE: [&str; 3] = ["18446744073709551615", "99999999999999999999999", "100001"];

#[tokio::test]
async fn huge_page_numbers_are_refused_with_the_range_on_every_list() {
    let app = TestApp::demo().await;
    let city = app.login("demo.city").await;
    let auditor = app.login("demo.auditor").await;
    for huge in HUGE {
        for (who, path) in [
            (&city, format!("/policies?page={huge}")),
            (&city, format!("/families?page={huge}")),
            (&auditor, format!("/audit?page={huge}")),
            (&city, format!("/api/v1/policies?page={huge}")),
            (&city, format!("/api/v1/families?page={huge}")),
        ] {
            let response = app.get(who, &path).await;
            assert_eq!(response.status, StatusCode::BAD_REQUEST, "{path}: {}", response.body);
            assert!(response.body.contains("页码须在0到100000之间"), "{path}: {}", response.body);
        }
    }
    // The last allowed page is an empty page, not an error.
    let last = app.get(&city, "/policies?page=100000").await;
    assert_eq!(last.status, StatusCode::OK);
    let api = app.get(&city, "/api/v1/policies?page=100000").await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    let year = app.get(&city, "/api/v1/policies?year=99999999999").await;
    assert_eq!(year.status, StatusCode::BAD_REQUEST);
    assert!(year.body.contains("年度须在2000到2100之间"), "{}", year.body);
}
