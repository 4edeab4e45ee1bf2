//! Funding sources ("几个一点"), their subsidy rules, receipts and ledgers: the list of a
//! year's sources, registering a source, and one source's ledger with the forms that add
//! a rule and record money received.

mod grants;
mod ledger;
mod sources;

use std::collections::HashMap;

use axum::routing::{get, post};
use axum::Router;
use guanai_domain::families::FamilyCategory;
use guanai_domain::PovertyStatus;

use crate::error::WebError;
use crate::state::AppState;

pub use ledger::{add_receipt, add_rule, ledger};
pub use sources::{create, list, new_form};
// The form helpers moved to `requests::forms`; re-exported for pages still importing them here.
pub(crate) use crate::requests::forms::{this_year, year_or_current};
// Moved to `pages::form`; re-exported for the exchange pages still importing it here.

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/funding", get(list).post(create))
        .route("/funding/new", get(new_form))
        .route("/funding/{id}", get(ledger))
        .route("/funding/{id}/rules", post(add_rule))
        .route("/funding/{id}/receipts", post(add_receipt))
        .route("/funding/{id}/grants", post(grants::grant))
        .route("/funding/{id}/grants/{region}/revoke", post(grants::revoke))
}

// ---- shared by the funding, product and gifting pages -------------------------------

/// The years a year filter offers: next year back to 2021, when the programme's records
/// start.
pub(crate) fn year_choices(today: chrono::NaiveDate) -> Vec<i32> {
    (2021..=this_year(today) + 1).rev().collect()
}

/// The name users read for a family category code.
pub(crate) fn category_name(code: &str) -> String {
    FamilyCategory::DEFAULTS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| (*name).to_owned())
        .unwrap_or_else(|| code.to_owned())
}

/// The poverty statuses a rule or a gift may select (not "none").
pub(crate) const POVERTY_CHOICES: [PovertyStatus; 3] =
    [PovertyStatus::Lifted, PovertyStatus::Monitored, PovertyStatus::Dibao];

async fn names_of(state: &AppState, codes: &[&str]) -> Result<HashMap<String, String>, WebError> {
    Ok(state.store.regions().region_names(codes).await?)
}
