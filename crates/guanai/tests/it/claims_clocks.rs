//! The claims' clocks on the city's working-day calendar: the fast lane counts working
//! days across holidays and make-up Saturdays, the city administrator edits the calendar
//! (a wrong line is refused with its number), and the open claims' queues follow it.

use axum::http::StatusCode;
use chrono::NaiveDate;
use guanai_domain::families::Relationship;
use guanai_domain::{Clock, PovertyStatus, Role};
use serde_json::json;

use crate::util::{id_number, FamilySpec, TestApp};

fn set_day(app: &TestApp, day: NaiveDate) {
    assert!(app.store.clock().set(Clock::fixed_in_china(day, 10, 0).now()), "a fixed clock");
}

async fn insured_person(app: &TestApp) -> i64 {
    let spec = FamilySpec {
        village: "360802100200",
        category: "only_child",
        poverty: PovertyStatus::None,
        members: vec![("欧阳明", id_number("19750305", 881), Relationship::Head)],
        consents: true,
    };
    let (family, ids) = app.family(spec).await;
    let policy = app.enrol(family, ids.clone(), "P1", 2026).await;
    let system = app.system();
    app.store.policies().submit_policy(&system, policy).await.unwrap();
    let insurer = system.clone().acting_as(Role::InsurerCity);
    app.store.policies().underwrite_policy(&insurer, policy, "PJA-CLOCK-1").await.unwrap();
    ids[0]
}

fn clock_due(claim: &serde_json::Value, deadline: &str) -> String {
    let clocks = claim["clocks"].as_array().expect("clocks");
    let clock =
        clocks.iter().find(|c| c["deadline"] == deadline).unwrap_or_else(|| panic!("{deadline}: {claim}"));
    clock["due"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_fast_lane_counts_working_days_across_the_holidays_and_follows_the_edited_calendar() {
    let app = TestApp::demo_in_season(2026).await;
    let person = insured_person(&app).await;
    // Reported on 30 September, before National Day (1–7 October off, Saturday 10
    // October worked): the missing papers are due on the first working day after, 8 October.
    set_day(&app, NaiveDate::from_ymd_opt(2026, 9, 30).unwrap());
    let agent = app.login("demo.agent").await;
    let report = json!({"person_id": person, "kind": "accident_outpatient", "incident_date": "2026-09-29",
        "place": "田间", "description": "农具划伤", "claimed_fen": 80_000, "expenses_fen": 80_000});
    let reported = app.post_json(&agent, "/api/v1/claims", report).await;
    assert_eq!(reported.status, StatusCode::CREATED, "{}", reported.body);
    let id = reported.json()["id"].as_i64().unwrap();
    let claim = app.get(&agent, &format!("/api/v1/claims/{id}")).await.json();
    assert_eq!(claim["fast_lane"], true);
    assert_eq!(clock_due(&claim, "fast_missing_papers"), "2026-10-08");
    // On 9 October nobody has asked for papers: it is breached, on the breach list and
    // the home page of the insurer's branch.
    set_day(&app, NaiveDate::from_ymd_opt(2026, 10, 9).unwrap());
    let branch = app.login("demo.branch").await;
    let breached = app.get(&branch, "/api/v1/claims?filter=breached").await.json();
    assert_eq!(breached["total"], 1, "{breached}");
    assert_eq!(breached["claims"][0]["clock"]["state"], "breached");
    let home = app.get(&branch, "/").await;
    assert!(home.body.contains("理赔时限"), "{}", home.body);
    assert!(
        home.body.contains("home-claims-breached\"><a href=\"/claims?filter=breached\"><strong>1<"),
        "{}",
        home.body
    );
    // The city moves 8 October to a holiday: due on Friday 9 October, today, no longer late.
    let city = app.login("demo.city").await;
    let wrong =
        app.post_form(&city, "/settings/calendar", &[("text", "2026-10-01 休 国庆\n2026-10-05 班")]).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.body.contains("第2行"), "{}", wrong.body);
    let text =
        guanai_domain::workdays::NOTICE_2026.replace("2026-10-01 至 2026-10-07", "2026-10-01 至 2026-10-08");
    let saved = app.post_form(&city, "/settings/calendar", &[("text", text.as_str())]).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let claim = app.get(&branch, &format!("/api/v1/claims/{id}")).await.json();
    assert_eq!(clock_due(&claim, "fast_missing_papers"), "2026-10-09");
    assert_eq!(app.get(&branch, "/api/v1/claims?filter=breached").await.json()["total"], 0);
    assert_eq!(app.get(&branch, "/api/v1/claims?filter=due_soon").await.json()["total"], 1);
    // Only the city administrator edits it.
    let county = app.login("demo.county").await;
    assert_eq!(app.get(&county, "/settings/calendar").await.status, StatusCode::NOT_FOUND);
    let refused = app.post_form(&county, "/settings/calendar", &[("text", "2026-10-09 休")]).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
}
