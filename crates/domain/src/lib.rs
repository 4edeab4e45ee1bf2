//! Guanai's domain: the rules of the programme as types, with no I/O, no database and
//! no HTTP. Everything above this crate holds values of these types only after parsing
//! them, so a value in hand is a valid one ("parse, don't validate").
//!
//! Error policy: each parser returns its own `thiserror` enum whose `Display` is a
//! Chinese sentence a user can act on; the layers above show it unchanged.

pub mod agents;
pub mod audit;
pub mod claims;
pub mod clock;
pub mod codes;
pub mod consents;
pub mod cover;
pub mod families;
pub mod files;
pub mod funding;
pub mod identity;
pub mod imports;
pub mod money;
pub mod orgs;
pub mod outbox;
pub mod policies;
pub mod products;
pub mod publicity;
pub mod regions;
pub mod renewals;
pub mod reports;
pub mod student_aid;
pub mod supervision;
pub mod targets;
pub mod training;
pub mod users;
pub mod workdays;

pub use clock::Clock;
pub use codes::{StoredCode, UnknownCode};
pub use families::PovertyStatus;
pub use identity::{
    mask_name, IdNumber, IdNumberError, Mobile, MobileError, ParsedIdNumber, Sex, Uscc, UsccError,
};
pub use money::{Fen, FenError, OutOfRange, MAX_RECEIPT};
pub use regions::{RegionCode, RegionCodeError, RegionLevel};
pub use users::{Password, PasswordError, Permission, Role, RoleError, Username, UsernameError};
