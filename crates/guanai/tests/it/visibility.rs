//! Personal data by role: every page, API answer and download that shows people, walked
//! as every role, shows full names, birth dates, ID and phone numbers only where that role
//! may see them (docs/ARCHITECTURE.md, "Personal data"); exact look-ups by ID or phone
//! number are posted, audited and limited; the insurer sees a family's data only while the
//! family consents to sharing it with the insurer.

use std::io::Cursor;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use calamine::{Data, Reader, Xlsx};
use guanai_domain::families::Relationship;
use guanai_domain::{PovertyStatus, RegionCode, Role};
use guanai_store::families::ConsentKind;
use guanai_store::policies::{Channel, EnrolRequest};
use guanai_store::Actor;
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::util::{id_number, Client, FamilySpec, TestApp};

/// 钓源村, 兴桥镇, 吉州区: within every demo user's scope.
const VILLAGE: &str = "360802100200";
const PHONE: &str = "13812345678";

/// One registered family of the walk, and what identifies its people.
struct Known {
    family: i64,
    policy: i64,
    /// Full names, their masked forms, full ID numbers and birth dates (as shown in full).
    names: Vec<&'static str>,
    masked: &'static str,
    ids: Vec<String>,
    births: Vec<&'static str>,
}

/// A family with its consents, enrolled in P1 of 2026 and submitted; underwritten by the
/// insurer when asked; its insurer consent withdrawn when asked.
async fn known(
    app: &TestApp,
    people: [(&'static str, &'static str, u32, Relationship); 2],
    masked: &'static str,
    underwrite: bool,
    withdraw: bool,
) -> Known {
    let members: Vec<(&str, String, Relationship)> =
        people.iter().map(|(name, birth, seq, rel)| (*name, id_number(birth, *seq), *rel)).collect();
    let ids: Vec<String> = members.iter().map(|(_, id, _)| id.clone()).collect();
    let (family, member_ids) = app
        .family(FamilySpec {
            village: VILLAGE,
            category: "general",
            poverty: PovertyStatus::None,
            members,
            consents: true,
        })
        .await;
    let system = app.system();
    let request = EnrolRequest {
        family_id: family,
        package_id: app.package("P1", 2026).await.id,
        shares: 1,
        member_ids,
        channel: Channel::Staff,
        expected_family_part: None,
    };
    let policy = app.store.policies().enrol(&system, &request).await.expect("enrol");
    app.store.policies().submit_policy(&system, policy).await.expect("submit");
    if underwrite {
        let insurer = Actor::system(RegionCode::parse("3608").unwrap()).acting_as(Role::InsurerCity);
        app.store
            .policies()
            .underwrite_policy(&insurer, policy, &format!("PV{policy:08}"))
            .await
            .expect("underwrite");
    }
    if withdraw {
        app.store
            .families()
            .withdraw_consent(&system, family, ConsentKind::InsurerSharing, None)
            .await
            .unwrap();
    }
    let births = people
        .iter()
        .map(|(_, birth, _, _)| -> &'static str {
            Box::leak(format!("{}-{}-{}", &birth[..4], &birth[4..6], &birth[6..]).into_boxed_str())
        })
        .collect();
    Known { family, policy, names: people.iter().map(|p| p.0).collect(), masked, ids, births }
}

/// The text of an answer: the body, or every cell of a spreadsheet's first sheet.
async fn fetch(app: &TestApp, request: Request<Body>) -> (StatusCode, String) {
    let response = app.router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let xlsx = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("spreadsheetml"));
    let bytes = response.into_body().collect().await.expect("body").to_bytes().to_vec();
    if !xlsx {
        return (status, String::from_utf8_lossy(&bytes).into_owned());
    }
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("an xlsx file");
    let range = workbook.worksheet_range_at(0).expect("a sheet").expect("readable");
    let mut text = String::new();
    for row in range.rows() {
        for cell in row {
            match cell {
                Data::String(s) => text.push_str(s),
                other => text.push_str(&other.to_string()),
            }
            text.push('\t');
        }
        text.push('\n');
    }
    (status, text)
}

async fn get(app: &TestApp, client: &Client, path: &str) -> (StatusCode, String) {
    let request = Request::get(path).header(header::COOKIE, format!("guanai_session={}", client.cookie));
    fetch(app, request.body(Body::empty()).unwrap()).await
}

/// What a role may see of the two families of the walk: (may open the families pages,
/// sees the consenting family in full, sees the withdrawn family in full).
fn rule(role: Role) -> (bool, bool, bool) {
    match role {
        Role::CityAdmin | Role::CountyStaff | Role::TownshipStaff | Role::VillageAgent => (true, true, true),
        // The insurer: in full only while the family consents to sharing with it.
        Role::InsurerCity | Role::InsurerCounty => (true, true, false),
        // Read-only supervision: names masked, ages instead of birth dates.
        Role::Supervisor => (true, false, false),
        // The audit log only.
        Role::Auditor => (false, false, false),
    }
}

const LOGINS: [(&str, Role); 8] = [
    ("demo.city", Role::CityAdmin),
    ("demo.county", Role::CountyStaff),
    ("demo.township", Role::TownshipStaff),
    ("demo.agent", Role::VillageAgent),
    ("demo.insurer", Role::InsurerCity),
    ("demo.branch", Role::InsurerCounty),
    ("demo.supervisor", Role::Supervisor),
    ("demo.auditor", Role::Auditor),
];

/// Checks one answer: each family's people in full only when `open` says so (and then
/// shown, unless `must_show` is false), their masked names otherwise; ID numbers and the
/// phone never in full unless `full_numbers` allows them for that family.
fn check(
    who: &str,
    path: &str,
    body: &str,
    families: &[(&Known, bool)],
    must_show: bool,
    full_numbers: &dyn Fn(&Known) -> bool,
) {
    for (family, open) in families {
        for name in &family.names {
            if *open {
                if must_show {
                    assert!(body.contains(name), "{who} {path}: {name} should be shown in full:\n{body}");
                }
            } else {
                assert!(!body.contains(name), "{who} {path}: {name} shown in full:\n{body}");
            }
        }
        if !open {
            for birth in &family.births {
                assert!(!body.contains(birth), "{who} {path}: birth date {birth} shown:\n{body}");
            }
            if must_show {
                assert!(body.contains(family.masked), "{who} {path}: {} not shown:\n{body}", family.masked);
            }
        }
        if !full_numbers(family) {
            for id in &family.ids {
                assert!(!body.contains(id.as_str()), "{who} {path}: full ID number {id} shown:\n{body}");
            }
        }
    }
}

#[tokio::test]
async fn every_role_sees_names_ids_and_phones_only_where_it_may() {
    let app = TestApp::demo().await;
    let a = known(
        &app,
        [
            ("欧阳明华", "19800305", 611, Relationship::Head),
            ("欧阳小雨", "20100101", 612, Relationship::Child),
        ],
        "欧***",
        true,
        false,
    )
    .await;
    let b = known(
        &app,
        [
            ("司马长风", "19750607", 621, Relationship::Head),
            ("司马晓月", "19770809", 622, Relationship::Spouse),
        ],
        "司***",
        true,
        true,
    )
    .await;
    // Two more, submitted and not underwritten, for the list to underwrite.
    let c = known(
        &app,
        [
            ("诸葛云龙", "19820101", 631, Relationship::Head),
            ("诸葛云飞", "20050505", 633, Relationship::Child),
        ],
        "诸***",
        false,
        false,
    )
    .await;
    let d = known(
        &app,
        [
            ("上官飞燕", "19850202", 642, Relationship::Head),
            ("上官雪儿", "20070707", 644, Relationship::Child),
        ],
        "上***",
        false,
        true,
    )
    .await;
    let never = |_: &Known| false;
    for (login, role) in LOGINS {
        let client = app.login(login).await;
        let (views, open_consenting, open_withdrawn) = rule(role);
        let open = |k: &Known| {
            if k.family == b.family || k.family == d.family {
                open_withdrawn
            } else {
                open_consenting
            }
        };
        let who = format!("{login} ({role:?})");
        // One family's or one policy's own pages and answers.
        for k in [&a, &b] {
            for path in [
                format!("/families/{}", k.family),
                format!("/api/v1/families/{}", k.family),
                format!("/policies/{}", k.policy),
                format!("/api/v1/policies/{}", k.policy),
                format!("/policies/{}/certificate", k.policy),
            ] {
                let (status, body) = get(&app, &client, &path).await;
                if !views {
                    assert!(status.is_client_error(), "{who} {path}: {status}");
                    check(&who, &path, &body, &[(k, false)], false, &never);
                    continue;
                }
                assert_eq!(status, StatusCode::OK, "{who} {path}: {body}");
                // A family's answers show every member; a policy's every insured.
                check(&who, &path, &body, &[(k, open(k))], true, &never);
                assert!(!body.contains(PHONE), "{who} {path}: full phone number shown");
            }
        }
        // Lists (heads only) and their downloads.
        for path in ["/families", "/api/v1/families", "/policies", "/api/v1/policies"] {
            let (status, body) = get(&app, &client, path).await;
            if !views {
                assert!(status.is_client_error(), "{who} {path}: {status}");
            } else {
                assert_eq!(status, StatusCode::OK, "{who} {path}: {body}");
            }
            for k in [&a, &b, &c, &d] {
                let shown = views && open(k);
                assert_eq!(body.contains(k.names[0]), shown, "{who} {path}: {} in full? {body}", k.names[0]);
                if views && !shown {
                    assert!(body.contains(k.masked), "{who} {path}: {} not shown", k.masked);
                }
            }
            check(&who, path, &body, &[(&a, true), (&b, true), (&c, true), (&d, true)], false, &never);
            assert!(!body.contains(PHONE), "{who} {path}: full phone number shown");
        }
        for path in ["/families/export.xlsx", "/policies/export.xlsx"] {
            let (status, body) = get(&app, &client, path).await;
            if status != StatusCode::OK {
                assert!(!views, "{who} {path}: {status}");
                continue;
            }
            for k in [&a, &b, &c, &d] {
                assert_eq!(
                    body.contains(k.names[0]),
                    open(k),
                    "{who} {path}: {} in full? {body}",
                    k.names[0]
                );
            }
            check(&who, path, &body, &[(&a, true), (&b, true), (&c, true), (&d, true)], false, &never);
            if path.starts_with("/families") {
                // Full phones: only for families open to the role (all four share one number).
                let full = [&a, &b, &c, &d].iter().filter(|k| open(k)).count();
                assert_eq!(body.matches(PHONE).count(), full, "{who} {path}: {body}");
            }
        }
        // The list to underwrite: submitted policies (c, d); full ID numbers only for roles
        // that may reveal them, and never for a family that withdrew its insurer consent.
        let path = "/exchange/underwriting.xlsx?year=2026";
        let (status, body) = get(&app, &client, path).await;
        if status == StatusCode::OK {
            check(&who, path, &body, &[(&c, open(&c)), (&d, open(&d))], true, &|k: &Known| {
                k.family == c.family && open(k)
            });
            assert_eq!(body.contains(c.ids[0].as_str()), open(&c), "{who} {path}: {body}");
        } else {
            assert!(!body.contains(c.names[0]) && !body.contains(c.ids[0].as_str()));
        }
        // Enrolment (for those who enrol) and the gifting preview (for those who gift).
        let path = format!("/families/{}/enrol", a.family);
        let (status, body) = get(&app, &client, &path).await;
        check(
            &who,
            &path,
            &body,
            &[(&a, status == StatusCode::OK && open(&a))],
            status == StatusCode::OK,
            &never,
        );
        let source = app
            .store
            .funding()
            .sources(&app.system(), Some(2026))
            .await
            .unwrap()
            .into_iter()
            .find(|s| s.name == "庐陵爱心企业捐助（2026）")
            .expect("demo source");
        let ids = format!("{},{},{},{}", a.family, b.family, c.family, d.family);
        let source_id = source.id.to_string();
        let package_id = app.package("P1", 2026).await.id.to_string();
        let fields = [
            ("source_id", source_id.as_str()),
            ("package_id", package_id.as_str()),
            ("family_ids", ids.as_str()),
        ];
        let preview = app.post_form(&client, "/gifting/preview", &fields).await;
        let shown = preview.status == StatusCode::OK;
        if !shown {
            assert!(preview.status.is_client_error(), "{who} /gifting/preview: {}", preview.status);
        }
        check(
            &who,
            "/gifting/preview",
            &preview.body,
            &[(&a, shown && open(&a)), (&b, shown && open(&b))],
            false,
            &never,
        );
        // Those who may gift see the families they picked by their heads, named as their
        // role may see them.
        for k in [&a, &b].into_iter().filter(|_| shown) {
            let named = if open(k) { k.names[0] } else { k.masked };
            assert!(preview.body.contains(named), "{who} /gifting/preview: {named} not shown");
        }
    }
}

#[tokio::test]
async fn a_supervisor_sees_the_age_not_the_birth_date() {
    let app = TestApp::demo().await;
    let a = known(
        &app,
        [
            ("欧阳明华", "19800305", 611, Relationship::Head),
            ("欧阳小雨", "20100101", 612, Relationship::Child),
        ],
        "欧***",
        false,
        false,
    )
    .await;
    let supervisor = app.login("demo.supervisor").await;
    let (status, page) = get(&app, &supervisor, &format!("/families/{}", a.family)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("1980-03-05") && !page.contains("2010-01-01"), "{page}");
    assert!(page.contains("46岁") && page.contains("16岁"), "the ages are shown: {page}");
    let (_, api) = get(&app, &supervisor, &format!("/api/v1/families/{}", a.family)).await;
    let api: serde_json::Value = serde_json::from_str(&api).unwrap();
    assert_eq!(api["members"][0]["birth_date"], serde_json::Value::Null, "{api}");
    assert_eq!(api["members"][0]["age"], 46);
    // The county sees the birth date.
    let county = app.login("demo.county").await;
    let (_, page) = get(&app, &county, &format!("/families/{}", a.family)).await;
    assert!(page.contains("1980-03-05"), "{page}");
}

#[tokio::test]
async fn a_role_without_full_names_cannot_search_by_name_prefix() {
    let app = TestApp::demo().await;
    let a = known(
        &app,
        [
            ("欧阳明华", "19800305", 611, Relationship::Head),
            ("欧阳小雨", "20100101", 612, Relationship::Child),
        ],
        "欧***",
        false,
        false,
    )
    .await;
    let b = known(
        &app,
        [
            ("司马长风", "19750607", 621, Relationship::Head),
            ("司马晓月", "19770809", 622, Relationship::Spouse),
        ],
        "司***",
        false,
        true,
    )
    .await;
    // The supervisor's name search is refused, on the page and in the API; letter by
    // letter it would tell the masked names.
    let supervisor = app.login("demo.supervisor").await;
    for path in
        ["/families?name=%E6%AC%A7%E9%98%B3%E6%98%8E", "/api/v1/families?name=%E6%AC%A7%E9%98%B3%E6%98%8E"]
    {
        let (status, body) = get(&app, &supervisor, path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert!(body.contains("不能按姓名查找"), "{body}");
        assert!(!body.contains(&format!("/families/{}\"", a.family)), "{body}");
    }
    // The insurer finds by name only families that share their data with it.
    let insurer = app.login("demo.insurer").await;
    let (_, found) = get(&app, &insurer, "/api/v1/families?name=%E6%AC%A7%E9%98%B3").await; // 欧阳
    assert!(found.contains(&format!("\"id\":{}", a.family)), "{found}");
    let (_, hidden) = get(&app, &insurer, "/api/v1/families?name=%E5%8F%B8%E9%A9%AC%E9%95%BF").await; // 司马长
    assert!(!hidden.contains(&format!("\"id\":{}", b.family)), "{hidden}");
    // The county finds both.
    let county = app.login("demo.county").await;
    let (_, both) = get(&app, &county, "/api/v1/families?name=%E5%8F%B8%E9%A9%AC%E9%95%BF").await;
    assert!(both.contains(&format!("\"id\":{}", b.family)), "{both}");
}

#[tokio::test]
async fn exact_id_and_phone_searches_are_posted_audited_and_limited() {
    let app = TestApp::demo().await;
    let a = known(
        &app,
        [
            ("欧阳明华", "19800305", 611, Relationship::Head),
            ("欧阳小雨", "20100101", 612, Relationship::Child),
        ],
        "欧***",
        false,
        false,
    )
    .await;
    let county = app.login("demo.county").await;
    let child_id = a.ids[1].clone();
    // Not by GET: the number would be in the URL and the access logs.
    for path in [
        format!("/families?id_number={child_id}"),
        format!("/api/v1/families?id_number={child_id}"),
        format!("/families?phone={PHONE}"),
        format!("/api/v1/families?phone={PHONE}"),
    ] {
        let (status, body) = get(&app, &county, &path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert!(
            !body.contains(&format!("/families/{}\"", a.family))
                && !body.contains(&format!("\"id\":{}", a.family))
        );
    }
    assert!(app.audit_entries("demo.county", "ok").await.iter().all(|e| e.action != "family.lookup"));
    // By POST: found, and the audit log says who searched and whose record matched.
    let found = app.post_form(&county, "/families/lookup", &[("id_number", &child_id)]).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert!(found.body.contains(&format!("/families/{}\"", a.family)), "{}", found.body);
    assert!(!found.body.contains(&child_id), "the number is not written back in full");
    let lookups: Vec<_> = app
        .audit_entries("demo.county", "ok")
        .await
        .into_iter()
        .filter(|e| e.action == "family.lookup")
        .collect();
    assert_eq!(lookups.len(), 1);
    let entry = &lookups[0];
    assert!(entry.target_id.contains(&a.family.to_string()), "{entry:?}");
    let child_pid = app.store.families().family(&app.system(), a.family).await.unwrap().members[1].id;
    assert_eq!(entry.subject.as_deref(), Some(format!("person:{child_pid}").as_str()), "{entry:?}");
    assert!(!format!("{entry:?}").contains(&child_id), "the raw number is not in the audit log");
    // The API's look-up, by phone.
    let request = Request::post("/api/v1/families/lookup")
        .header(header::COOKIE, format!("guanai_session={}", county.cookie))
        .header("x-csrf-token", county.csrf.as_str())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(format!("{{\"phone\":\"{PHONE}\"}}")))
        .unwrap();
    let (status, body) = fetch(&app, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(&format!("\"id\":{}", a.family)), "{body}");
    // 30 look-ups in ten minutes, then 429 with a Chinese message.
    for _ in 2..30 {
        let again = app.post_form(&county, "/families/lookup", &[("id_number", &child_id)]).await;
        assert_eq!(again.status, StatusCode::OK);
    }
    let refused = app.post_form(&county, "/families/lookup", &[("id_number", &child_id)]).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
    assert!(refused.body.contains("查找过于频繁"), "{}", refused.body);
    // Another user has a count of their own.
    let township = app.login("demo.township").await;
    let own = app.post_form(&township, "/families/lookup", &[("phone", PHONE)]).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
}

#[tokio::test]
async fn an_insurer_reveals_and_exports_numbers_only_with_the_familys_consent() {
    let app = TestApp::demo().await;
    let a = known(
        &app,
        [
            ("欧阳明华", "19800305", 611, Relationship::Head),
            ("欧阳小雨", "20100101", 612, Relationship::Child),
        ],
        "欧***",
        true,
        false,
    )
    .await;
    let b = known(
        &app,
        [
            ("司马长风", "19750607", 621, Relationship::Head),
            ("司马晓月", "19770809", 622, Relationship::Spouse),
        ],
        "司***",
        true,
        true,
    )
    .await;
    let system = app.system();
    let pa = app.store.families().family(&system, a.family).await.unwrap().members[0].id;
    let pb = app.store.families().family(&system, b.family).await.unwrap().members[0].id;
    let insurer = app.login("demo.branch").await;
    // With consent: revealed, and logged.
    let shown =
        app.post_form(&insurer, &format!("/persons/{pa}/reveal"), &[("family", &a.family.to_string())]).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert!(shown.body.contains(a.ids[0].as_str()));
    let phone = app.post_form(&insurer, &format!("/families/{}/reveal-phone", a.family), &[]).await;
    assert!(phone.body.contains(PHONE), "{}", phone.body);
    // Without: refused, and the refusal is logged.
    let refused =
        app.post_form(&insurer, &format!("/persons/{pb}/reveal"), &[("family", &b.family.to_string())]).await;
    assert!(refused.status.is_client_error(), "{}", refused.status);
    assert!(!refused.body.contains(b.ids[0].as_str()));
    let phone = app.post_form(&insurer, &format!("/families/{}/reveal-phone", b.family), &[]).await;
    assert!(phone.status.is_client_error(), "{}", phone.status);
    assert!(!phone.body.contains(PHONE));
    let denied = app.audit_entries("demo.branch", "denied").await;
    assert!(
        denied.iter().any(|e| e.action == "person.reveal_id" && e.target_id == pb.to_string()),
        "{denied:?}"
    );
    assert!(denied.iter().any(|e| e.action == "family.reveal_phone" && e.target_id == b.family.to_string()));
    let revealed = app.audit_entries("demo.branch", "ok").await;
    assert!(!revealed.iter().any(|e| e.action.contains("reveal") && e.target_id == pb.to_string()));
    // The families export: the consenting family's phone in full, the other's masked.
    let (status, sheet) = get(&app, &insurer, "/families/export.xlsx").await;
    assert_eq!(status, StatusCode::OK);
    let line = |name: &str| sheet.lines().find(|l| l.contains(name)).unwrap_or_default().to_owned();
    assert!(line("欧阳明华").contains(PHONE), "{sheet}");
    let other = line("司***");
    assert!(other.contains("138****5678") && !other.contains(PHONE), "{sheet}");
    // The county (association) still reveals the withdrawn family's numbers.
    let county = app.login("demo.county").await;
    let shown =
        app.post_form(&county, &format!("/persons/{pb}/reveal"), &[("family", &b.family.to_string())]).await;
    assert!(shown.body.contains(b.ids[0].as_str()), "{}", shown.body);
}
