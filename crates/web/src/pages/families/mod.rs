//! Families and their members: list, register, detail, member events, moves, consents, reveals.
//!
//! What each role sees of the people (full or masked names, birth dates or ages) comes
//! from the store's read types (`guanai_store::shown`); nothing is masked here. A full
//! number is shown only after an explicit POST, which the store writes to the audit log;
//! that answer is never cached. Exact look-ups by ID or phone number are POSTed too
//! (`/families/lookup`), never put in a URL.

mod detail;
mod list;
mod members;
mod register;

use axum::routing::{get, post};
use axum::Router;
use guanai_domain::families::MemberEvent;
use guanai_store::families::ConsentKind;

use crate::state::AppState;

use detail::show;
use list::{list, lookup};
use members::{
    add_member, family_event, family_move, person_event, person_move, record_consent, reveal_id,
    reveal_phone, withdraw_consent,
};
use register::{create, new_form};

/// The kinds of member event recorded by hand (a move has its own form).
const EVENT_KINDS: [MemberEvent; 4] =
    [MemberEvent::Birth, MemberEvent::Death, MemberEvent::Marriage, MemberEvent::MoveAway];
const CONSENT_KINDS: [ConsentKind; 3] =
    [ConsentKind::Processing, ConsentKind::InsurerSharing, ConsentKind::Guardian];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/families", get(list).post(create))
        .route("/families/new", get(new_form))
        .route("/families/lookup", post(lookup))
        .route("/families/{id}", get(show))
        .route("/families/{id}/members", post(add_member))
        .route("/families/{id}/consents", post(record_consent))
        .route("/families/{id}/consents/withdraw", post(withdraw_consent))
        .route("/families/{id}/reveal-phone", post(reveal_phone))
        // The family page's forms choose the member from a list; the person routes name it.
        .route("/families/{id}/events", post(family_event))
        .route("/families/{id}/move", post(family_move))
        .route("/persons/{pid}/events", post(person_event))
        .route("/persons/{pid}/move", post(person_move))
        .route("/persons/{pid}/reveal", post(reveal_id))
}
