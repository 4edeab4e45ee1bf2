//! Families and members through the pages and the API: registering within one's scope,
//! every wrong input with its Chinese message, masking and audited reveals, member events,
//! moves and consents.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use guanai_domain::families::Relationship;
use guanai_domain::{IdNumber, Mobile, PovertyStatus, RegionCode};
use guanai_store::families::{FamilyQuery, NewFamily, NewPerson};
use guanai_store::Actor;

use crate::util::{Client, TestApp, TestResponse};

/// A valid ID number from its first 17 digits.
fn id_number(body: &str) -> String {
    format!("{body}{}", IdNumber::check_char_for(body).expect("17 digits"))
}

/// The same number with a wrong check character.
fn wrong_check(valid: &str) -> String {
    format!("{}{}", &valid[..17], if valid.ends_with('0') { '1' } else { '0' })
}

fn masked(full: &str) -> String {
    IdNumber::parse(full).unwrap().id.masked()
}

fn system() -> Actor {
    Actor::system(RegionCode::parse("3608").unwrap())
}

async fn family_count(app: &TestApp) -> u64 {
    let query = FamilyQuery { per_page: 1, ..Default::default() };
    app.store.families().search_families(&system(), &query).await.unwrap().total
}

/// The registration form's fields, ready to post.
fn registration<'a>(village: &'a str, head: &'a str, id: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("village", village),
        ("category", "only_child"),
        ("poverty", "none"),
        ("address", "钓源村3组12号"),
        ("phone", "13812345678"),
        ("head_name", head),
        ("head_id_number", id),
        ("consent_processing", "on"),
        ("consent_insurer", "on"),
        ("consent_by", ""),
    ]
}

/// The id of the family a registration redirected to.
fn created_id(response: &TestResponse) -> i64 {
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let rest = response.location().strip_prefix("/families/").expect("redirect to the family");
    rest.split('?').next().unwrap().parse().expect("family id")
}

/// Registers a family through the store, as an import would.
async fn stored_family(app: &TestApp, village: &str, head: &str, id: &str) -> i64 {
    let new = NewFamily {
        village: RegionCode::parse(village).unwrap(),
        category: "general".to_owned(),
        poverty: PovertyStatus::Lifted,
        address: String::new(),
        phone: Some(Mobile::parse("13900001111").unwrap()),
        head: NewPerson {
            name: head.to_owned(),
            id_number: IdNumber::parse(id).unwrap().id,
            relationship: Relationship::Head,
        },
    };
    app.store.families().create_family(&system(), new).await.expect("family created")
}

async fn post_json(
    app: &TestApp,
    client: &Client,
    path: &str,
    csrf: Option<&str>,
    body: &serde_json::Value,
) -> TestResponse {
    let mut request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::COOKIE, format!("guanai_session={}", client.cookie));
    if let Some(csrf) = csrf {
        request = request.header("x-csrf-token", csrf);
    }
    app.send(request.body(Body::from(body.to_string())).unwrap()).await
}

#[tokio::test]
async fn an_agent_registers_a_family_and_reveals_numbers_only_on_request() {
    let app = TestApp::demo().await;
    let agent = app.login("demo.agent").await;
    let form = app.get(&agent, "/families/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("<option value=\"360802100200\">钓源村委会</option>"), "{}", form.body);
    assert!(!form.body.contains("360802001001"), "villages of other townships are not offered");

    let head_id = id_number("36080219900101001");
    let response = app.post_form(&agent, "/families", &registration("360802100200", "张三", &head_id)).await;
    let id = created_id(&response);
    assert_eq!(response.location(), format!("/families/{id}"));

    let list = app.get(&agent, "/families").await;
    assert_eq!(list.status, StatusCode::OK);
    for shown in ["张三", "钓源村委会", "独生子女家庭", "138****5678", &format!("/families/{id}")]
    {
        assert!(list.body.contains(shown), "list shows {shown}: {}", list.body);
    }
    assert!(!list.body.contains("13812345678"));

    let page = app.get(&agent, &format!("/families/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&masked(&head_id)), "{}", page.body);
    assert!(page.body.starts_with("<!DOCTYPE html>") && page.body.contains("360***********"));
    assert!(!page.body.contains(&head_id), "the page never shows the full ID number");
    assert!(!page.body.contains("13812345678"));
    assert!(page.body.contains("在册") && page.body.contains("1990-01-01") && page.body.contains("户主"));
    assert!(page.body.contains("同意向保险公司提供个人信息"));
    assert!(page.body.contains(&format!("href=\"/families/{id}/enrol\"")), "the agent may enrol");

    let detail = app.store.families().family(&system(), id).await.unwrap();
    assert_eq!(detail.summary.village_code, "360802100200");
    assert_eq!(detail.members.len(), 1);
    assert_eq!(detail.members[0].relationship, Relationship::Head);
    assert_eq!(detail.consents.len(), 2, "both consents recorded");
    assert!(detail.consents.iter().all(|c| c.given_by == "张三"), "signed by the head by default");
    let pid = detail.members[0].id;
    assert!(detail.summary.code.starts_with('H'));
    assert!(list.body.contains(&detail.summary.code), "the list shows the family number");

    let revealed =
        app.post_form(&agent, &format!("/persons/{pid}/reveal"), &[("family", &id.to_string())]).await;
    assert_eq!(revealed.status, StatusCode::OK, "{}", revealed.body);
    assert!(revealed.body.contains(&head_id));
    assert_eq!(revealed.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let phone = app.post_form(&agent, &format!("/families/{id}/reveal-phone"), &[]).await;
    assert!(phone.body.contains("13812345678"));
    let entries = app.audit_entries("demo.agent", "ok").await;
    assert!(entries.iter().any(|e| e.action == "family.create" && e.target_id == id.to_string()));
    assert!(entries.iter().any(|e| e.action == "person.reveal_id" && e.target_id == pid.to_string()));
    assert!(entries.iter().any(|e| e.action == "family.reveal_phone" && e.target_id == id.to_string()));
    // Asking for a person through a family they do not belong to reveals nothing.
    let other = stored_family(&app, "360802100201", "李四", &id_number("36080219800202002")).await;
    let wrong =
        app.post_form(&agent, &format!("/persons/{pid}/reveal"), &[("family", &other.to_string())]).await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    assert!(!wrong.body.contains(&head_id));
}

#[tokio::test]
async fn every_bad_registration_says_what_is_wrong_and_changes_nothing() {
    let app = TestApp::demo().await;
    let agent = app.login("demo.agent").await;
    let taken = id_number("36080219850505003");
    stored_family(&app, "360802100201", "王五", &taken).await;
    let before = family_count(&app).await;
    let valid = id_number("36080219900101001");
    let wrong_check = wrong_check(&valid);
    let bad_date = id_number("36080219900230001");
    let future = id_number("36080220900101001");
    let village = "360802100200";
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (registration(village, "赵六", &wrong_check), "校验位不正确"),
        (registration(village, "赵六", &bad_date), "不是有效日期"),
        (registration(village, "赵六", "3.60802199001011E+17"), "被表格软件存成了数字"),
        (registration(village, "赵六", &future), "出生日期晚于今天"),
        (registration(village, "赵六", &taken), "已在另一家庭登记"),
        (registration("360803001003", "赵六", &valid), "不在您的管理范围内"),
        (registration("360802100999", "赵六", &valid), "代码“360802100999”不存在"),
        (registration("360802100", "赵六", &valid), "12位的村级区划代码"),
        (registration("36080x100200", "赵六", &valid), "只能由数字组成"),
        (registration(village, "", &valid), "请填写户主姓名"),
    ];
    for (fields, message) in cases {
        let response = app.post_form(&agent, "/families", &fields).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{message}: {}", response.body);
        assert!(response.body.contains(message), "expected “{message}” in {}", response.body);
        assert!(response.body.contains(&format!("value=\"{}\"", fields[0].1)), "the form keeps the village");
    }
    let mut bad_phone = registration(village, "赵六", &valid);
    bad_phone[4] = ("phone", "1381234567");
    let response = app.post_form(&agent, "/families", &bad_phone).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(response.body.contains("联系电话：手机号应为11位数字"), "{}", response.body);
    assert!(response.body.contains("value=\"1381234567\""), "the form keeps what was typed");
    let mut no_category = registration(village, "赵六", &valid);
    no_category[1] = ("category", "");
    let response = app.post_form(&agent, "/families", &no_category).await;
    assert!(response.body.contains("请选择家庭类型"));
    assert_eq!(family_count(&app).await, before, "nothing was registered");
    let ok = app.post_form(&agent, "/families", &registration(village, "赵六", &valid)).await;
    created_id(&ok);
    assert_eq!(family_count(&app).await, before + 1, "the same form, corrected, goes through");
    // A role without family management cannot even open the form.
    let supervisor = app.login("demo.supervisor").await;
    assert_eq!(app.get(&supervisor, "/families/new").await.status, StatusCode::NOT_FOUND);
    let refused = app
        .post_form(&supervisor, "/families", &registration(village, "钱七", &id_number("36080219700101005")))
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(family_count(&app).await, before + 1);
}

#[tokio::test]
async fn a_legacy_15_digit_id_is_upgraded_with_a_notice() {
    let app = TestApp::demo().await;
    let agent = app.login("demo.agent").await;
    let legacy = "360802900101001";
    let upgraded = IdNumber::parse(legacy).unwrap();
    assert!(upgraded.upgraded_from_15);
    let response = app.post_form(&agent, "/families", &registration("360802100200", "孙八", legacy)).await;
    let id = created_id(&response);
    assert_eq!(response.location(), format!("/families/{id}?notice=upgraded"));
    let page = app.get(&agent, response.location()).await;
    assert!(page.body.contains("已按国家标准自动升级为18位"), "{}", page.body);
    let detail = app.store.families().family(&system(), id).await.unwrap();
    let full = app.store.families().reveal_id_number(&system(), detail.members[0].id).await.unwrap();
    assert_eq!(full, upgraded.id.as_str());
    assert_eq!(full.len(), 18);
    // Without the notice parameter the page says nothing about it; unknown notices are ignored.
    let plain = app.get(&agent, &format!("/families/{id}?notice=%3Cscript%3E")).await;
    assert!(!plain.body.contains("升级为18位") && !plain.body.contains("<script>"));
}

#[tokio::test]
async fn the_list_filters_within_scope_and_explains_bad_filters() {
    let app = TestApp::demo().await;
    let zhang = id_number("36080219900101011");
    stored_family(&app, "360802100200", "张大", &zhang).await;
    stored_family(&app, "360802100201", "李二", &id_number("36080219900101021")).await;
    stored_family(&app, "360803001003", "王三", &id_number("36080319900101031")).await;
    let agent = app.login("demo.agent").await;
    let all = app.get(&agent, "/families").await;
    assert!(all.body.contains("共 2 户"), "{}", all.body);
    assert!(all.body.contains("张大") && all.body.contains("李二") && !all.body.contains("王三"));
    // Exact numbers are looked up by POST, never in the URL.
    let by_id = app.post_form(&agent, "/families/lookup", &[("id_number", &zhang)]).await;
    assert!(by_id.body.contains("张大") && !by_id.body.contains("李二"), "{}", by_id.body);
    let by_name = app.get(&agent, "/families?name=%E6%9D%8E").await;
    assert!(by_name.body.contains("李二") && !by_name.body.contains("张大"));
    let by_village = app.get(&agent, "/families?region=360802100201").await;
    assert!(by_village.body.contains("李二") && !by_village.body.contains("张大"));
    let by_phone = app.post_form(&agent, "/families/lookup", &[("phone", "139-0000-1111")]).await;
    assert!(by_phone.body.contains("共 2 户"), "{}", by_phone.body);
    let by_category = app.get(&agent, "/families?category=only_child").await;
    assert!(by_category.body.contains("共 0 户") && by_category.body.contains("没有符合条件的家庭"));
    let by_poverty = app.get(&agent, "/families?poverty=lifted").await;
    assert!(by_poverty.body.contains("共 2 户"));
    let wrong = wrong_check(&zhang);
    let bad_numbers: [(&str, &str, &str); 3] = [
        ("phone", "12345", "手机号：手机号应为11位数字"),
        ("id_number", "3.60802199001011E+17", "被表格软件存成了数字"),
        ("id_number", &wrong, "校验位不正确"),
    ];
    for (field, value, message) in bad_numbers {
        let response = app.post_form(&agent, "/families/lookup", &[(field, value)]).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{field}={value}");
        assert!(response.body.contains(message), "{field}: expected “{message}” in {}", response.body);
        assert!(!response.body.contains("张大"), "{field}: no results under an error");
    }
    let bad: [(&str, &str); 4] = [
        (&format!("/families?id_number={zhang}"), "精确查找"),
        ("/families?phone=13900001111", "精确查找"),
        ("/families?region=360803", "不在您的管理范围内"),
        ("/families?category=rich", "未知的家庭类型"),
    ];
    for (path, message) in bad {
        let response = app.get(&agent, path).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(response.body.contains(message), "{path}: expected “{message}” in {}", response.body);
        assert!(!response.body.contains("张大"), "{path}: no results under an error");
    }
}

#[tokio::test]
async fn families_outside_the_scope_are_not_found_and_logged() {
    let app = TestApp::demo().await;
    let qingyuan = stored_family(&app, "360803001003", "王三", &id_number("36080319900101031")).await;
    let county = app.login("demo.county").await;
    let page = app.get(&county, &format!("/families/{qingyuan}")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("找不到") && !page.body.contains("王三"));
    let api = app.get(&county, &format!("/api/v1/families/{qingyuan}")).await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    let denied = app.audit_entries("demo.county", "denied").await;
    let views: Vec<_> =
        denied.iter().filter(|e| e.action == "family.view" && e.target_id == qingyuan.to_string()).collect();
    assert_eq!(views.len(), 2, "both attempts are logged");
    // Changing it is refused the same way.
    let member =
        [("name", "王小三"), ("id_number", &id_number("36080320100101031")), ("relationship", "child")];
    let response = app.post_form(&county, &format!("/families/{qingyuan}/members"), &member).await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(app.store.families().family(&system(), qingyuan).await.unwrap().members.len(), 1);
    assert_eq!(app.get(&county, "/families/abc").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_supervisor_sees_names_masked_and_cannot_reveal() {
    let app = TestApp::demo().await;
    let head_id = id_number("36080219900101001");
    let id = stored_family(&app, "360802100200", "张三丰", &head_id).await;
    let pid = app.store.families().family(&system(), id).await.unwrap().members[0].id;
    let supervisor = app.login("demo.supervisor").await;
    let list = app.get(&supervisor, "/families").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("张**") && !list.body.contains("张三丰"), "{}", list.body);
    assert!(!list.body.contains("登记家庭"), "no registration for a read-only role");
    let page = app.get(&supervisor, &format!("/families/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("张**") && !page.body.contains("张三丰"));
    assert!(!page.body.contains("显示完整号码") && !page.body.contains("添加成员"));
    let api = app.get(&supervisor, &format!("/api/v1/families/{id}")).await.json();
    assert_eq!(api["summary"]["head_name"], "张**");
    assert_eq!(api["members"][0]["name"], "张**");
    let reveal =
        app.post_form(&supervisor, &format!("/persons/{pid}/reveal"), &[("family", &id.to_string())]).await;
    assert_eq!(reveal.status, StatusCode::NOT_FOUND);
    assert!(!reveal.body.contains(&head_id));
    let phone = app.post_form(&supervisor, &format!("/families/{id}/reveal-phone"), &[]).await;
    assert_eq!(phone.status, StatusCode::NOT_FOUND);
    assert!(!phone.body.contains("13900001111"));
    assert!(app.audit_entries("demo.supervisor", "ok").await.iter().all(|e| !e.action.contains("reveal")));
    assert_eq!(app.audit_entries("demo.supervisor", "denied").await.len(), 2);
    // The auditor has no family pages at all.
    let auditor = app.login("demo.auditor").await;
    assert_eq!(app.get(&auditor, "/families").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&auditor, &format!("/families/{id}")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn members_events_moves_and_consents_are_recorded_and_audited() {
    let app = TestApp::demo().await;
    let agent = app.login("demo.agent").await;
    let a = created_id(
        &app.post_form(
            &agent,
            "/families",
            &registration("360802100200", "周一", &id_number("36080219800101011")),
        )
        .await,
    );
    let b = created_id(
        &app.post_form(
            &agent,
            "/families",
            &registration("360802100201", "吴二", &id_number("36080219800101021")),
        )
        .await,
    );
    let members = |family: i64| {
        let store = app.store.clone();
        async move { store.families().family(&system(), family).await.unwrap().members }
    };
    // Members: a spouse and a child under 14.
    let spouse_id = id_number("36080219820202022");
    let spouse = [("name", "郑三"), ("id_number", spouse_id.as_str()), ("relationship", "spouse")];
    let response = app.post_form(&agent, &format!("/families/{a}/members"), &spouse).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    assert_eq!(response.location(), format!("/families/{a}"));
    let child_id = id_number("36080220180303031");
    let child = [("name", "周小四"), ("id_number", child_id.as_str()), ("relationship", "child")];
    assert_eq!(
        app.post_form(&agent, &format!("/families/{a}/members"), &child).await.status,
        StatusCode::SEE_OTHER
    );
    let in_a = members(a).await;
    assert_eq!(in_a.len(), 3);
    let spouse_pid = in_a.iter().find(|m| m.name == "郑三").unwrap().id;
    let child_pid = in_a.iter().find(|m| m.name == "周小四").unwrap().id;
    let head_pid = in_a.iter().find(|m| m.relationship == Relationship::Head).unwrap().id;
    // Wrong member input: a second head, the same person again, a bad number.
    let cases: [([(&str, &str); 3], &str); 3] = [
        (
            [("name", "某人"), ("id_number", "36080219900101001X"), ("relationship", "child")],
            "身份证号：身份证号校验位不正确",
        ),
        (
            [("name", "郑三"), ("id_number", spouse_id.as_str()), ("relationship", "spouse")],
            "已在另一家庭登记",
        ),
        (
            [("name", "某人"), ("id_number", &id_number("36080219900101041")), ("relationship", "head")],
            "每户只有一位户主",
        ),
    ];
    for (fields, message) in cases {
        let response = app.post_form(&agent, &format!("/families/{a}/members"), &fields).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{message}");
        assert!(response.body.contains(message), "expected “{message}” in {}", response.body);
        assert!(
            response.body.contains(&format!("value=\"{}\"", fields[0].1)),
            "the member form keeps the name"
        );
    }
    assert_eq!(members(a).await.len(), 3);

    // A death ends the membership from its date.
    let a_text = a.to_string();
    let b_text = b.to_string();
    let event = [("family", a_text.as_str()), ("kind", "death"), ("date", "2025-06-01"), ("note", "病故")];
    let response = app.post_form(&agent, &format!("/persons/{spouse_pid}/events"), &event).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let spouse_now = members(a).await.into_iter().find(|m| m.id == spouse_pid).unwrap();
    assert!(!spouse_now.active);
    assert_eq!(spouse_now.left_on.unwrap().to_string(), "2025-06-01");
    let page = app.get(&agent, &format!("/families/{a}")).await;
    assert!(page.body.contains("<span class=\"tag grey\">死亡</span>"), "{}", page.body);
    assert!(page.body.contains("病故") && page.body.contains("2025-06-01"));
    let future = [("family", a_text.as_str()), ("kind", "marriage"), ("date", "2999-01-01")];
    let response = app.post_form(&agent, &format!("/persons/{head_pid}/events"), &future).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(response.body.contains("事件日期不能晚于今天"));
    // The family page's own form names the member in a field.
    let response = app
        .post_form(
            &agent,
            &format!("/families/{a}/events"),
            &[("person", &head_pid.to_string()), ("kind", "marriage"), ("date", "2010-05-01")],
        )
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);

    // Moving the child to the other family: explicit and audited; the head stays.
    let move_child = [
        ("family", a_text.as_str()),
        ("to_family", b_text.as_str()),
        ("relationship", "grandchild"),
        ("date", "2025-07-01"),
    ];
    let response = app.post_form(&agent, &format!("/persons/{child_pid}/move"), &move_child).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    assert_eq!(response.location(), format!("/families/{a}"));
    let moved = members(b).await.into_iter().find(|m| m.id == child_pid).expect("in the new family");
    assert_eq!(moved.relationship, Relationship::Grandchild);
    assert!(moved.active);
    assert!(members(a).await.iter().all(|m| m.id != child_pid));
    let entries = app.audit_entries("demo.agent", "ok").await;
    assert!(entries.iter().any(|e| e.action == "person.move" && e.target_id == child_pid.to_string()));
    let move_head = [
        ("family", a_text.as_str()),
        ("to_family", b_text.as_str()),
        ("relationship", "spouse"),
        ("date", "2025-07-01"),
    ];
    let response = app.post_form(&agent, &format!("/persons/{head_pid}/move"), &move_head).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(response.body.contains("户主不能迁出"), "{}", response.body);
    assert!(members(a).await.iter().any(|m| m.id == head_pid));
    // A person named through a family they do not belong to is not found.
    let response = app
        .post_form(
            &agent,
            &format!("/persons/{head_pid}/move"),
            &[
                ("family", b_text.as_str()),
                ("to_family", a_text.as_str()),
                ("relationship", "spouse"),
                ("date", "2025-07-01"),
            ],
        )
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);

    // Consents: a guardian's names a child under 14 of the family; withdrawing one kind.
    let head_text = head_pid.to_string();
    let guardian = [("kind", "guardian"), ("person", head_text.as_str()), ("given_by", "吴二")];
    let response = app.post_form(&agent, &format!("/families/{b}/consents"), &guardian).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(response.body.contains("未满14周岁"), "{}", response.body);
    let child_text = child_pid.to_string();
    let guardian = [("kind", "guardian"), ("person", child_text.as_str()), ("given_by", "吴二")];
    let response = app.post_form(&agent, &format!("/families/{b}/consents"), &guardian).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let withdraw = app
        .post_form(&agent, &format!("/families/{b}/consents/withdraw"), &[("kind", "insurer_sharing")])
        .await;
    assert_eq!(withdraw.status, StatusCode::SEE_OTHER);
    let consents = app.store.families().family(&system(), b).await.unwrap().consents;
    let kinds: Vec<&str> = consents.iter().map(|c| c.kind.code()).collect();
    assert_eq!(kinds, ["processing", "guardian"]);
    assert_eq!(consents[1].person_id, Some(child_pid));
    let page = app.get(&agent, &format!("/families/{b}")).await;
    assert!(page.body.contains("监护人同意（未满14周岁）") && page.body.contains("周小四"));
}

#[tokio::test]
async fn the_api_registers_and_shows_families_with_masked_ids() {
    let app = TestApp::demo().await;
    let agent = app.login("demo.agent").await;
    let token = app.get(&agent, "/api/v1/me").await.json()["csrf_token"].as_str().unwrap().to_owned();
    let head_id = id_number("36080219900101001");
    let body = serde_json::json!({
        "village_code": "360802100200", "category": "rural_two_daughters", "poverty": "dibao",
        "address": "钓源村1组", "phone": "+86 138 1234 5678", "head_name": "欧阳娜娜",
        "head_id_number": head_id, "consents": true
    });
    let before = family_count(&app).await;
    let refused = post_json(&app, &agent, "/api/v1/families", None, &body).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json()["error"]["code"], "csrf");
    assert_eq!(family_count(&app).await, before);
    let created = post_json(&app, &agent, "/api/v1/families", Some(&token), &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.json()["id"].as_i64().unwrap();
    assert!(created.json().get("id_upgraded_from_15").is_none());

    let shown = app.get(&agent, &format!("/api/v1/families/{id}")).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(!shown.body.contains(&head_id) && !shown.body.contains("13812345678"), "{}", shown.body);
    let detail = shown.json();
    assert_eq!(detail["summary"]["head_name"], "欧阳娜娜");
    assert_eq!(detail["summary"]["category_name"], "农村二女户");
    assert_eq!(detail["summary"]["poverty"], "dibao");
    assert_eq!(detail["summary"]["phone_masked"], "138****5678");
    assert_eq!(detail["members"][0]["id_masked"], masked(&head_id));
    assert_eq!(detail["consents"].as_array().unwrap().len(), 2);

    let member = serde_json::json!({"name": "欧阳小娜", "id_number": id_number("36080220150101002"), "relationship": "子女"});
    let added =
        post_json(&app, &agent, &format!("/api/v1/families/{id}/members"), Some(&token), &member).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    assert!(added.json()["id"].as_i64().is_some());
    let again =
        post_json(&app, &agent, &format!("/api/v1/families/{id}/members"), Some(&token), &member).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.json()["error"]["message"].as_str().unwrap().contains("已在另一家庭登记"));

    let list = app.get(&agent, "/api/v1/families?category=rural_two_daughters").await.json();
    assert_eq!(list["total"], 1);
    assert_eq!(list["families"][0]["members"], 2);
    let bad = app.get(&agent, "/api/v1/families?phone=123").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.json()["error"]["message"].as_str().unwrap().contains("手机号"));

    let mut wrong = body.clone();
    wrong["head_id_number"] = serde_json::json!("3.60802199001011E+17");
    let response = post_json(&app, &agent, "/api/v1/families", Some(&token), &wrong).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(response.json()["error"]["message"].as_str().unwrap().contains("表格软件"));
    let empty = post_json(&app, &agent, "/api/v1/families", Some(&token), &serde_json::json!({})).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert!(empty.json()["error"]["message"].as_str().unwrap().contains("缺少必填字段"));
    let duplicate = post_json(&app, &agent, "/api/v1/families", Some(&token), &body).await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    assert_eq!(family_count(&app).await, before + 1);
}

/// The name filter finds names that begin with what was typed, on every engine, and a
/// wildcard typed by the user is an ordinary character.
#[tokio::test]
async fn the_name_filter_matches_the_start_of_names_only() {
    let app = TestApp::demo().await;
    let xiaoming =
        stored_family(&app, "360802100200", "王小明", &crate::util::id_number("19800101", 41)).await;
    let xiaohong =
        stored_family(&app, "360802100200", "王小红", &crate::util::id_number("19800101", 42)).await;
    stored_family(&app, "360802100200", "李王", &crate::util::id_number("19800101", 43)).await;
    let starred = stored_family(&app, "360802100200", "张*三", &crate::util::id_number("19800101", 44)).await;
    let found = |name: &'static str| {
        let store = app.store.clone();
        async move {
            let query = FamilyQuery { name: Some(name.into()), per_page: 50, ..Default::default() };
            let mut ids: Vec<i64> = store
                .families()
                .search_families(&system(), &query)
                .await
                .unwrap()
                .families
                .iter()
                .map(|f| f.id)
                .collect();
            ids.sort_unstable();
            ids
        }
    };
    assert_eq!(found("王小").await, vec![xiaoming, xiaohong]);
    assert_eq!(found("王").await, vec![xiaoming, xiaohong], "not 李王: the start of the name only");
    assert_eq!(found("王小明").await, vec![xiaoming]);
    assert!(found("小明").await.is_empty());
    assert_eq!(found("张*").await, vec![starred], "a star typed is a star");
    assert!(found("*").await.is_empty(), "not a wildcard");
    assert!(found("王?").await.is_empty(), "not a wildcard");
}
