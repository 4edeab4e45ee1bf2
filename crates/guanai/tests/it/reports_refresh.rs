//! The summary's refresher counts on a snapshot without the write turn, then writes only if
//! no other refresh wrote since: an older count never replaces a newer one, and refreshers
//! racing each other and the enrolments leave a summary that agrees with a direct count.

use guanai_domain::families::Relationship;
use guanai_domain::{PovertyStatus, Role};

use crate::reports::{cross_check, raw};
use crate::util::{id_number, FamilySpec, TestApp};

/// Registers a one-person family in a village of 360802 and insures it for 2026
/// (underwritten, so that the reports count it).
async fn insure_new_family(app: &TestApp, seq: u32) {
    let system = app.system();
    let insurer = system.clone().acting_as(Role::InsurerCity);
    let (family, members) = app
        .family(FamilySpec {
            village: "360802100200",
            category: "only_child",
            poverty: PovertyStatus::None,
            members: vec![("钱一", id_number("19800101", 700 + seq), Relationship::Head)],
            consents: true,
        })
        .await;
    let id = app.enrol_all(family, &members, "P1").await;
    app.store.policies().submit_policy(&system, id).await.unwrap();
    app.store.policies().underwrite_policy(&insurer, id, &format!("PJA-RFR-{seq:04}")).await.unwrap();
}

#[tokio::test]
async fn a_refresh_overtaken_by_another_writes_nothing() {
    let app = TestApp::demo_populated(200, 5).await;
    let reports = app.store.reports();
    reports.refresh_whole_summary().await.unwrap();
    insure_new_family(&app, 1).await;
    // One refresher counts the first family's village...
    let early = reports.count_refresh().await.unwrap().expect("the enrolment left marks");
    // ...a second family joins the same village, and another refresher counts and writes
    // both before the first one writes.
    insure_new_family(&app, 2).await;
    assert!(reports.refresh_summary().await.unwrap() > 0);
    assert_eq!(reports.write_refresh(early).await.unwrap(), None, "the older count is refused");
    assert_eq!(
        reports.refresh_whole_summary().await.unwrap(),
        0,
        "no mark left: reports read what is stored"
    );
    cross_check(&app, &raw(&app).await).await;
}

#[tokio::test]
async fn refreshers_racing_each_other_and_enrolments_leave_an_exact_summary() {
    let app = TestApp::demo_populated(200, 6).await;
    let reports = app.store.reports();
    reports.refresh_whole_summary().await.unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    let enrol = async {
        for seq in 0..8 {
            insure_new_family(&app, 10 + seq).await;
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
    };
    let refresh = || async {
        let mut taken = 0;
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            taken += reports.refresh_summary().await.unwrap();
            tokio::task::yield_now().await;
        }
        taken
    };
    let ((), first, second) = tokio::join!(enrol, refresh(), refresh());
    assert!(first + second > 0, "the refreshers took marks while the families joined");
    reports.refresh_whole_summary().await.unwrap();
    cross_check(&app, &raw(&app).await).await;
}
