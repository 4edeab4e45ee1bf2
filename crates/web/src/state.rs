use std::sync::Arc;
use std::time::Duration;

use guanai_store::users::LoginPolicy;
use guanai_store::Store;

use crate::metrics::Metrics;

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
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookies: false,
            trust_proxy: false,
            login_policy: LoginPolicy::default(),
            login_failure_delay: Duration::from_millis(500),
        }
    }
}

/// Everything a handler needs, passed through axum's state; no globals, so two apps can
/// run side by side in one process (the tests do).
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<WebConfig>,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    pub fn new(store: Store, config: WebConfig) -> Self {
        AppState { store, config: Arc::new(config), metrics: Arc::new(Metrics::default()) }
    }

    /// Today's date in China, by the store's clock (the one clock of the instance).
    pub fn today(&self) -> chrono::NaiveDate {
        self.store.today()
    }
}
