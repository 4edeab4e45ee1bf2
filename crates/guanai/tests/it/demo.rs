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
    let mut renewed_for_2027 = 0;
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
            if policy.year == 2027 {
                // The county scheme in season on the test's day (1 January) renewed some.
                assert_eq!(policy.status, PolicyStatus::Submitted);
                renewed_for_2027 += 1;
                continue;
            }
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
    assert!(renewed_for_2027 > 0, "families of the county in season renewed");
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
    // The papers of a sample of claims are drawn photos, kept like any upload: a few KB
    // each, with a thumbnail.
    let query = guanai_store::claims::ClaimQuery { per_page: 1000, ..Default::default() };
    let claims = app.store.claims().claims(&system, &query).await.unwrap().claims;
    let mut drawn = 0;
    for claim in &claims {
        let files = app.store.claims().paper_files(&system, claim.id).await.unwrap();
        let Some(first) = files.first() else { continue };
        drawn += 1;
        assert!(first.file.bytes < 40_000, "a small photo: {} bytes", first.file.bytes);
        let thumb = guanai_store::files::Variant::Thumbnail;
        let image = app.store.claims().paper_file(&system, first.file.id, thumb).await.unwrap();
        assert!(image.bytes.starts_with(&[0xFF, 0xD8]), "the thumbnail is a JPEG");
    }
    assert!(drawn > 0 && drawn * 3 < claims.len(), "a sample of {} claims has photos: {drawn}", claims.len());
    // Populating again changes nothing.
    let again = guanai::demo::populate(&app.store, 600, 11).await.unwrap();
    assert_eq!(again.policies, 0);
    let mut photos_again = 0;
    for activity in &activities {
        photos_again += app.store.publicity().photos(&system, activity.id).await.unwrap().len();
    }
    assert_eq!(photos_again, 3);
}

/// Whatever day the demo is built, a county is in its renewal season: its due list is not
/// empty, some families renewed already, some reminded, and lapsed families are the
/// agents' follow-ups.
#[tokio::test]
async fn the_demo_is_in_season_on_any_day() {
    use guanai_domain::outbox::MessageState;
    use guanai_domain::RegionCode;
    use guanai_store::renewals::DueQuery;
    // 1 December: 吉安县 (its scheme starts on 1 January); 15 June: 新干县 (1 July).
    for (date, county) in [((2026, 12, 1), "360821"), ((2027, 6, 15), "360824")] {
        let day = chrono::NaiveDate::from_ymd_opt(date.0, date.1, date.2).unwrap();
        let app = TestApp::demo_at(guanai_domain::Clock::fixed_in_china(day, 10, 0)).await;
        guanai::demo::populate(&app.store, 600, 7).await.unwrap();
        let system = app.system();
        let region = Some(RegionCode::parse(county).unwrap());
        let due = |open| DueQuery { region: region.clone(), open, per_page: 10, ..Default::default() };
        let renewals = app.store.renewals();
        let all = renewals.due_list(&system, &due(None)).await.unwrap();
        assert!(all.total > 0, "{day}: {county} has a due list");
        let renewed = renewals.due_list(&system, &due(Some(false))).await.unwrap();
        assert!(renewed.total > 0, "{day}: some families of {county} renewed already");
        let open = renewals.due_list(&system, &due(Some(true))).await.unwrap();
        assert!(open.total > 0, "{day}: some of {county} still to renew");
        let county_actor = guanai_store::Actor::system(region.clone().unwrap());
        let outbox = app.store.outbox().state(&county_actor).await.unwrap();
        let count = |state| outbox.counts.iter().find(|c| c.state == state).map_or(0, |c| c.count);
        assert!(count(MessageState::Sent) > 0, "{day}: some families of {county} reminded");
        assert!(
            outbox.messages.iter().any(|m| m.body.contains("到期（还有30天）")),
            "{day}: the 30-day reminder"
        );
        let tasks = renewals.follow_ups(&system, true).await.unwrap();
        assert!(!tasks.is_empty(), "{day}: lapsed families are followed up");
        // Only counties in season are due: 吉州区's year ends on 31 August.
        let jizhou = DueQuery { region: Some(RegionCode::parse("360802").unwrap()), ..due(None) };
        assert_eq!(renewals.due_list(&system, &jizhou).await.unwrap().total, 0, "{day}");
    }
}
