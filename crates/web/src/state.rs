use std::sync::Arc;

use guanai_store::Store;

use crate::config::WebConfig;
use crate::limits::LoginLimits;
use crate::metrics::Metrics;

/// Everything a handler needs, passed through axum's state; no globals, so two apps can
/// run side by side in one process (the tests do).
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<WebConfig>,
    pub metrics: Arc<Metrics>,
    pub login_limits: Arc<LoginLimits>,
}

impl AppState {
    pub fn new(store: Store, config: WebConfig) -> Self {
        AppState {
            store,
            login_limits: Arc::new(LoginLimits::new(&config)),
            config: Arc::new(config),
            metrics: Arc::new(Metrics::default()),
        }
    }

    /// Today's date in China, by the store's clock (the one clock of the instance).
    pub fn today(&self) -> chrono::NaiveDate {
        self.store.today()
    }
}
