//! The web layer's settings, built by the binary from flags, environment and file.

use std::time::Duration;

use guanai_store::users::LoginPolicy;

/// Settings of the web layer; built by the binary from flags, environment and file.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark cookies `Secure` always (set when Guanai is served over TLS).
    pub secure_cookies: bool,
    /// Trust `X-Forwarded-For` / `X-Forwarded-Proto` from a reverse proxy in front.
    pub trust_proxy: bool,
    pub login_policy: LoginPolicy,
    /// Pause after a failed login, times the failures in a row (capped at five).
    pub login_failure_delay: Duration,
    /// Login attempts one client address may make per minute (a burst of as many).
    pub login_per_address_per_minute: u32,
    /// Login attempts the whole server takes per minute.
    pub login_global_per_minute: u32,
    /// Password hashes for logins that may run at once.
    pub login_hash_concurrency: usize,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookies: false,
            trust_proxy: false,
            login_policy: LoginPolicy::default(),
            login_failure_delay: Duration::from_millis(500),
            login_per_address_per_minute: 20,
            login_global_per_minute: 300,
            login_hash_concurrency: 4,
        }
    }
}
