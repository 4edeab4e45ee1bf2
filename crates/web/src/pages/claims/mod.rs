//! Claims (理赔) pages: the agent's phone flow (report for a family member, tick the
//! papers photographed, follow the claim), the insurer's queue ordered by the clock and
//! its decision and payment, the association's view of every claim in its region, and
//! the working-day calendar the city administrator edits. Home-page panels: what is due
//! soon or breached, and what waits for papers.
//!
//! `list` the queue, `report` the report form, `detail` one claim and what is done to it
//! (its papers' photos and PDFs too), `measures` the measures and satisfaction per county,
//! `calendar` the working-day calendar, `panels` the home page's panels.

mod calendar;
mod detail;
mod exchange;
mod list;
mod measures;
mod panels;
mod report;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use guanai_domain::claims::{ClaimStatus, ClockState};

pub(crate) use panels::home_panels;

use guanai_import::claims_exchange::MAX_BYTES;

use crate::format::TagColor;
use crate::requests::uploads::IMAGE_BODY_LIMIT;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/claims", get(list::list))
        .route("/families/{id}/claims/new", get(report::form).post(report::submit))
        .route("/claims/{id}", get(detail::show))
        .route("/claims/{id}/papers", post(detail::papers))
        .route(
            "/claims/{id}/papers/files",
            post(detail::upload_papers).layer(DefaultBodyLimit::max(IMAGE_BODY_LIMIT)),
        )
        .route("/claims/papers/{id}", get(detail::paper_file))
        .route("/claims/measures", get(measures::show))
        .route("/claims/exchange", get(exchange::show))
        .route("/claims/exchange/export.xlsx", get(exchange::export))
        .route(
            "/claims/exchange/preview",
            post(exchange::preview).layer(DefaultBodyLimit::max(MAX_BYTES + 64 * 1024)),
        )
        .route(
            "/claims/exchange/confirm",
            post(exchange::confirm).layer(DefaultBodyLimit::max(exchange::CONFIRM_BODY_LIMIT)),
        )
        .route("/claims/{id}/missing-papers", post(detail::request_papers))
        .route("/claims/{id}/decision", post(detail::decide))
        .route("/claims/{id}/advance", post(detail::advance))
        .route("/claims/{id}/payment", post(detail::pay))
        .route("/claims/{id}/satisfaction", post(detail::satisfaction))
        .route("/settings/calendar", get(calendar::show).post(calendar::save))
}

impl TagColor for ClaimStatus {
    fn color(self) -> &'static str {
        match self {
            ClaimStatus::Paid | ClaimStatus::Closed | ClaimStatus::Approved | ClaimStatus::PartlyApproved => {
                "green"
            }
            ClaimStatus::Reported | ClaimStatus::PapersPending | ClaimStatus::UnderReview => "orange",
            ClaimStatus::Refused => "red",
        }
    }
}

impl TagColor for ClockState {
    fn color(self) -> &'static str {
        match self {
            ClockState::Met => "green",
            ClockState::Running => "grey",
            ClockState::DueSoon => "orange",
            ClockState::Breached | ClockState::MetLate => "red",
        }
    }
}
