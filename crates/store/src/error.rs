//! The data layer's error policy: every failure is a [`StoreError`] whose variant says what
//! the caller can do about it. A missing record is `NotFound` (also when it exists outside
//! the caller's scope, so scope never leaks), a broken rule is `Invalid` with a Chinese
//! sentence, a unique-constraint violation is `Conflict` with a Chinese sentence, and
//! anything the database itself failed at is `Database`, which is never shown to a user as
//! anything but an internal error and never becomes "not found".

use guanai_domain::policies::PolicyNo;
use guanai_domain::StoredCode;
use sea_orm::{DbErr, RuntimeErr, SqlErr};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("没有权限：{0}")]
    Forbidden(String),
    /// Too many requests of one kind by one user in a while (e.g. exact look-ups).
    #[error("{0}")]
    Limited(String),
    #[error("database error: {0}")]
    Database(DbErr),
    /// The file store (blobs of uploaded images) failed: an internal error like `Database`.
    #[error("file store error: {0}")]
    Blob(String),
    /// A stored value no version of Guanai writes (an unknown code in a status column):
    /// an internal error, never read as some default.
    #[error("stored data: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub fn invalid(message: impl Into<String>) -> Self {
        StoreError::Invalid(message.into())
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        StoreError::NotFound(message.into())
    }

    /// Maps a database error, turning a unique-constraint violation into a conflict that
    /// says `conflict_message`.
    pub fn from_write(err: DbErr, conflict_message: &str) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => StoreError::Conflict(conflict_message.to_owned()),
            _ => StoreError::Database(err),
        }
    }
}

/// A code read from `column` (`"policies.status"`), or the internal error naming it.
pub(crate) fn stored<T: StoredCode>(column: &str, raw: &str) -> StoreResult<T> {
    T::from_code(raw).map_err(|_| StoreError::Corrupt(format!("unknown code '{raw}' in {column}")))
}

/// A policy number read from `policies.policy_no`, or the internal error naming it.
pub(crate) fn stored_policy_no(raw: &str) -> StoreResult<PolicyNo> {
    policy_no_in("policies.policy_no", raw)
}

/// A policy number read from `column` (`"import_job_rows.data"`), or the internal error
/// naming it: a number that was checked when written and no longer reads is corrupt.
pub fn policy_no_in(column: &str, raw: &str) -> StoreResult<PolicyNo> {
    PolicyNo::parse(raw).map_err(|_| StoreError::Corrupt(format!("bad policy number '{raw}' in {column}")))
}

impl From<guanai_domain::policies::PolicyNoError> for StoreError {
    fn from(err: guanai_domain::policies::PolicyNoError) -> Self {
        StoreError::invalid(err.to_string())
    }
}

impl From<guanai_domain::families::PersonNameError> for StoreError {
    fn from(err: guanai_domain::families::PersonNameError) -> Self {
        StoreError::invalid(err.to_string())
    }
}

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        StoreError::Database(err)
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        StoreError::Database(DbErr::Conn(RuntimeErr::SqlxError(err)))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
