//! The request layer under the pages and the JSON API: the typed requests a handler reads
//! and their parsing into store and domain types, with the Chinese message a user reads
//! when a field is wrong. A page's string form and an API's JSON body become the same
//! request here, so the same mistake reads the same way on both; `pages` and `api` are
//! thin twins over this module and never import each other.

pub mod agents;
pub mod claims;
pub mod families;
pub mod forms;
pub mod gifting;
pub mod ids;
pub mod policies;
pub mod publicity;
pub mod renewals;
pub mod reports;
pub mod student_aid;
pub mod supervision;
pub mod training;
pub mod uploads;
