//! The benchmark's claims in bulk (`store.claims().top_up_for_bench`): a city's history
//! of claims written set-based, spread over the years and outcomes, each with the clock
//! the store keeps, papers for what its status says it has, and never written twice; and
//! the insured persons without a claim the benchmark reports for. On every engine.

use std::collections::BTreeSet;

use chrono::Datelike;
use guanai_domain::claims::{ClaimKind, ClaimStatus, PaperChecklist};
use guanai_store::claims::ClaimQuery;

use crate::claims::{date, new_claim, set_day};
use crate::util::TestApp;

#[tokio::test]
async fn bulk_claims_spread_over_the_years_keep_their_clocks_and_are_written_once() {
    let app = TestApp::demo_populated(200, 5).await;
    set_day(&app, date(2026, 11, 30));
    let system = app.system();
    let every = ClaimQuery { per_page: 1_000, ..Default::default() };
    let before = app.store.claims().claims(&system, &every).await.unwrap().total;

    let done = app.store.claims().top_up_for_bench(before + 200, 7).await.unwrap();
    assert_eq!((done.before, done.added), (before, 200));
    let page = app.store.claims().claims(&system, &every).await.unwrap();
    assert_eq!(page.total, before + 200);
    let years: BTreeSet<i32> = page.claims.iter().map(|c| c.incident_date.year()).collect();
    assert!(years.len() >= 5, "{years:?}");
    let statuses: std::collections::HashSet<ClaimStatus> = page.claims.iter().map(|c| c.status).collect();
    for status in [ClaimStatus::Paid, ClaimStatus::Closed, ClaimStatus::Refused] {
        assert!(statuses.contains(&status), "{status:?} among {statuses:?}");
    }
    for claim in &page.claims {
        assert!(claim.incident_date <= claim.reported_on && claim.reported_on <= date(2026, 11, 30));
        // A claim under review has its decision clock running; a paid or closed one none.
        if claim.status == ClaimStatus::UnderReview {
            assert!(claim.clock.is_some(), "claim {} has no clock", claim.id);
        }
        if matches!(claim.status, ClaimStatus::Paid | ClaimStatus::Closed) {
            assert!(claim.clock.is_none(), "claim {} still has a clock", claim.id);
        }
    }
    // A paid claim has every paper, its payment and the account masked.
    let paid = page.claims.iter().find(|c| c.status == ClaimStatus::Paid && c.person_id > 0).unwrap();
    let detail = app.store.claims().claim(&system, paid.id).await.unwrap();
    assert_eq!(detail.papers.len(), PaperChecklist::default().required(detail.summary.kind).len());
    assert!(detail.missing_papers.is_empty() && detail.papers_complete_on.is_some());
    assert_eq!(detail.summary.paid, detail.summary.approved);
    assert!(detail.bank_masked.as_deref().is_some_and(|b| b.starts_with("6222") && b.contains('*')));

    // A second run adds nothing.
    let again = app.store.claims().top_up_for_bench(before + 200, 7).await.unwrap();
    assert_eq!((again.before, again.added), (before + 200, 0));

    // Insured persons without a claim: one reported for is not offered again.
    let free = app.store.claims().unclaimed_insured(2026, 5).await.unwrap();
    assert_eq!(free.len(), 5);
    let claimed: BTreeSet<i64> = page.claims.iter().map(|c| c.person_id).collect();
    assert!(free.iter().all(|(person, _)| !claimed.contains(person)));
    let (person, day) = free[0];
    let new = new_claim(person, ClaimKind::AccidentOutpatient, day, 800);
    let reported = app.store.claims().report_claim(&system, new).await.unwrap();
    assert!(!reported.duplicate);
    let after = app.store.claims().unclaimed_insured(2026, 5).await.unwrap();
    assert!(after.iter().all(|(p, _)| *p != person));
}
