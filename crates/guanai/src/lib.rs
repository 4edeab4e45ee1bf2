//! The `guanai` binary's library: the command line, configuration, the server's start-up
//! and background jobs, and the demo data. Errors here are `anyhow`: they end a command
//! with a message for the operator.

pub mod backup;
pub mod bench;
pub mod cli;
pub mod config;
pub mod demo;
pub mod exchange;
pub mod import;
pub mod jobs;
pub mod open;
pub mod outbox;
pub mod renewals;
pub mod serve;
