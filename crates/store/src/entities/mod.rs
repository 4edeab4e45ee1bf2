//! SeaORM entities: one module per table, mirroring the migrations. Internal to the data
//! layer; callers get the domain-shaped structs of the feature modules instead.

pub mod audit_log;
pub mod consents;
pub mod cover_slots;
pub mod families;
pub mod funding_grants;
pub mod funding_sources;
pub mod import_job_rows;
pub mod import_jobs;
pub mod login_failures;
pub mod message_opt_outs;
pub mod orgs;
pub mod outbox;
pub mod package_addons;
pub mod packages;
pub mod payments;
pub mod person_events;
pub mod persons;
pub mod policies;
pub mod policy_funding;
pub mod policy_members;
pub mod policy_products;
pub mod products;
pub mod regions;
pub mod renewal_follow_ups;
pub mod renewals;
pub mod sessions;
pub mod source_receipts;
pub mod subsidy_rules;
pub mod users;
