//! SeaORM entities: one module per table, mirroring the migrations. Internal to the data
//! layer; callers get the domain-shaped structs of the feature modules instead.

pub mod audit_log;
pub mod orgs;
pub mod regions;
pub mod sessions;
pub mod users;
