use std::sync::Arc;

use guanai_store::Store;

use crate::config::WebConfig;
use crate::limits::LoginLimits;
use crate::metrics::Metrics;

/// Everything a handler needs, passed through axum's state; no globals, so two apps can
/// run side by side in one process (the tests do).
///
/// One shared copy behind an `Arc`: axum clones the state for every middleware and handler
/// of every request, and cloning the parts one by one (the store alone holds a dozen
/// shared handles) was 5 % of the server's time during the look-ups.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The parts of [`AppState`], reached through it (`state.store`).
pub struct Shared {
    pub store: Store,
    pub config: Arc<WebConfig>,
    pub metrics: Arc<Metrics>,
    pub login_limits: Arc<LoginLimits>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(store: Store, config: WebConfig) -> Self {
        AppState(Arc::new(Shared {
            store,
            login_limits: Arc::new(LoginLimits::new(&config)),
            config: Arc::new(config),
            metrics: Arc::new(Metrics::default()),
        }))
    }

    /// Today's date in China, by the store's clock (the one clock of the instance).
    pub fn today(&self) -> chrono::NaiveDate {
        self.store.today()
    }
}
