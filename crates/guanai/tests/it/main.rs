//! The one integration-test binary (STYLE.md: one binary, not one per file). Runs on
//! SQLite by default; set `GUANAI_TEST_DATABASE_URL` to a PostgreSQL or MySQL/MariaDB URL
//! to run the same suite there (each test gets a fresh database).

mod access;
mod agents;
mod architecture;
mod audit;
mod auth;
mod batches;
mod claim_papers;
mod claims;
mod claims_bulk;
mod claims_clocks;
mod cli;
mod codes;
mod dates;
mod demo;
mod denials;
mod enrolment;
mod enrolment_group;
mod exchange;
mod families;
mod funding;
mod home;
mod imports;
mod openapi;
mod ops;
mod outbox;
mod paging;
mod path_ids;
mod photos;
mod privacy;
mod publicity;
mod regions;
mod renewals;
mod renewals_batch;
mod reports;
mod reports_claims;
mod reports_pages;
mod roster;
mod security;
mod student_aid;
mod supervision;
mod training;
mod users;
mod util;
mod visibility;
