//! The demo city's history: policies for every year since 2021, with renewals, lapses,
//! newcomers and gifts, the same for the same seed.

use std::collections::{HashMap, HashSet};

use guanai_store::policies::{Channel, PolicyQuery, PolicyStatus, ShownStatus};

use crate::util::TestApp;

#[tokio::test]
async fn the_demo_has_a_history_of_renewals_lapses_and_gifts() {
    let app = TestApp::demo().await;
    let report = guanai::demo::populate(&app.store, 600, 11).await.unwrap();
    assert_eq!(report.households, 600);
    assert_eq!(report.years, (2021, 2026));
    let system = app.system();
    let mut by_year: HashMap<i32, HashSet<i64>> = HashMap::new();
    let mut gifted = 0;
    let (mut current_underwritten, mut current_submitted) = (0, 0);
    for page in 0.. {
        let found = app
            .store
            .policies()
            .search_policies(&system, &PolicyQuery { page, per_page: 1000, ..Default::default() })
            .await
            .unwrap();
        if found.policies.is_empty() {
            break;
        }
        for policy in found.policies {
            if policy.year < 2026 {
                assert_eq!(policy.status, PolicyStatus::Underwritten, "past years are underwritten");
                assert_eq!(policy.shown, ShownStatus::Expired);
            }
            if policy.year == 2026 {
                match policy.status {
                    PolicyStatus::Underwritten => current_underwritten += 1,
                    PolicyStatus::Submitted => current_submitted += 1,
                    other => panic!("a demo policy of 2026 is {other:?}"),
                }
            }
            if policy.channel == Channel::Gifted {
                gifted += 1;
            }
            by_year.entry(policy.year).or_default().insert(policy.family_id);
        }
    }
    assert_eq!(by_year.keys().copied().min(), Some(2021));
    assert_eq!(by_year.keys().copied().max(), Some(2026));
    for year in 2022..=2026 {
        let (last, this) = (&by_year[&(year - 1)], &by_year[&year]);
        let renewed = this.intersection(last).count();
        let lapsed = last.difference(this).count();
        let newcomers = this.difference(last).count();
        assert!(renewed > lapsed, "{year}: most renew ({renewed} renewed, {lapsed} lapsed)");
        assert!(lapsed > 0 && newcomers > 0, "{year}: some lapse ({lapsed}) and some join ({newcomers})");
    }
    assert!(gifted > 0, "a company gifts policies");
    // The insurer has underwritten most of this year's policies, not all.
    assert!(
        current_underwritten > 2 * current_submitted && current_submitted > 0,
        "2026: {current_underwritten} underwritten, {current_submitted} waiting"
    );
    assert_eq!(report.underwritten, report.policies - current_submitted);
    // Two of the association's activities have drawn photos, kept like any upload.
    let activities = app.store.publicity().activities(&system, Some(2026), None).await.unwrap();
    let mut photos = 0;
    for activity in &activities {
        photos += app.store.publicity().photos(&system, activity.id).await.unwrap().len();
    }
    assert_eq!(photos, 3, "two of the door-to-door activity, one of the school's");
    // Populating again changes nothing.
    let again = guanai::demo::populate(&app.store, 600, 11).await.unwrap();
    assert_eq!(again.policies, 0);
    let mut photos_again = 0;
    for activity in &activities {
        photos_again += app.store.publicity().photos(&system, activity.id).await.unwrap().len();
    }
    assert_eq!(photos_again, 3);
}
