//! Funding sources, subsidy rules, receipts and ledgers; products and packages; gifted
//! policies in bulk (送保) — through the pages and the API, checked against what was stored.

mod api;
mod gifting;
mod products;
mod sources;

use axum::http::StatusCode;
use guanai_domain::families::Relationship;
use guanai_domain::{IdNumber, PovertyStatus, RegionCode};
use guanai_store::families::{ConsentKind, NewFamily, NewPerson};
use guanai_store::funding::Source;
use guanai_store::policies::PolicyQuery;
use guanai_store::Actor;

use crate::util::{Client, TestApp};

const YEAR: i32 = 2026;
/// 钓源村, in 兴桥镇 (吉州区).
const VILLAGE: &str = "360802100200";

fn system() -> Actor {
    Actor::system(RegionCode::parse("3608").unwrap())
}

/// The demo package with this code (P1, P1N1, P1N2) of 2026.
async fn package(app: &TestApp, code: &str) -> guanai_store::products::Package {
    let packages = app.store.products().packages(Some(YEAR)).await.unwrap();
    packages.into_iter().find(|p| p.code == code).expect("demo package")
}

async fn sources(app: &TestApp) -> Vec<Source> {
    app.store.funding().sources(&system(), Some(YEAR)).await.unwrap()
}

async fn source_named(app: &TestApp, name: &str) -> Source {
    sources(app).await.into_iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no source {name}"))
}

fn source_form<'a>(
    name: &'a str,
    kind: &'a str,
    uscc: &'a str,
    region: &'a str,
    pledged: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("kind", kind),
        ("payer", "测试出资方"),
        ("uscc", uscc),
        ("year", "2026"),
        ("region", region),
        ("pledged", pledged),
    ]
}

/// Registers a source through the page; returns its id.
pub(crate) async fn create_source(
    app: &TestApp,
    client: &Client,
    name: &str,
    region: &str,
    pledged: &str,
) -> i64 {
    let response =
        app.post_form(client, "/funding", &source_form(name, "donation", "", region, pledged)).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    response.location().trim_start_matches("/funding/").parse().expect("redirect to the ledger")
}

/// Registers a one-person family in 钓源村 (head born in 1980 + `n`); with the two
/// consents gifting needs when `consents`.
async fn family(app: &TestApp, n: u32, name: &str, consents: bool) -> i64 {
    let body = format!("360802{}0101{:03}", 1980 + n, 100 + n);
    let id = format!("{body}{}", IdNumber::check_char_for(&body).unwrap());
    let actor = system();
    let family = app
        .store
        .families()
        .create_family(
            &actor,
            NewFamily {
                village: RegionCode::parse(VILLAGE).unwrap(),
                category: "three_child".to_owned(),
                poverty: PovertyStatus::None,
                address: "钓源村".to_owned(),
                phone: None,
                head: NewPerson {
                    name: name.to_owned(),
                    id_number: IdNumber::parse(&id).unwrap().id,
                    relationship: Relationship::Head,
                },
            },
        )
        .await
        .expect("create family");
    if consents {
        for kind in [ConsentKind::Processing, ConsentKind::InsurerSharing] {
            app.store.families().record_consent(&actor, family, kind, None, name).await.unwrap();
        }
    }
    family
}

async fn policies_of(app: &TestApp, family_id: i64) -> Vec<guanai_store::policies::PolicySummary> {
    let query = PolicyQuery { family_id: Some(family_id), per_page: 100, ..Default::default() };
    app.store.policies().search_policies(&system(), &query).await.unwrap().policies
}
