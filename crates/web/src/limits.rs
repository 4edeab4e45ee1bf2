//! Limits on the one page anyone may post to without a session: the login. Each attempt
//! costs an argon2 hash (19 MiB, tens of milliseconds), so attempts are rate-limited per
//! client address and for the whole server (GCRA, the `governor` crate), and at most a few
//! hashes for logins run at once.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::config::WebConfig;

/// Beyond this many remembered addresses, those idle long enough to be full again are
/// forgotten, so a flood from many addresses cannot grow the table for ever.
const REMEMBERED_ADDRESSES: usize = 10_000;

/// How long a login waits for a hashing slot before it is told to come back.
const HASH_WAIT: Duration = Duration::from_secs(10);

pub struct LoginLimits {
    per_address: DefaultKeyedRateLimiter<String>,
    global: DefaultDirectRateLimiter,
    hashing: Semaphore,
}

/// A login refused for now; `retry_after` says when to try again.
#[derive(Debug)]
pub struct TooMany {
    pub retry_after: Duration,
}

fn per_minute(count: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(count.max(1)).expect("at least one"))
}

impl LoginLimits {
    pub fn new(config: &WebConfig) -> Self {
        LoginLimits {
            per_address: RateLimiter::keyed(per_minute(config.login_per_address_per_minute)),
            global: RateLimiter::direct(per_minute(config.login_global_per_minute)),
            hashing: Semaphore::new(config.login_hash_concurrency.max(1)),
        }
    }

    /// Counts one attempt from `ip`: the address's own budget first, then the server's.
    pub fn admit(&self, ip: &str) -> Result<(), TooMany> {
        if self.per_address.len() > REMEMBERED_ADDRESSES {
            self.per_address.retain_recent();
        }
        let now = DefaultClock::default().now();
        let refused = |not_until: governor::NotUntil<_>| TooMany {
            retry_after: not_until.wait_time_from(now).max(Duration::from_secs(1)),
        };
        self.per_address.check_key(&ip.to_owned()).map_err(refused)?;
        self.global.check().map_err(refused)
    }

    /// A slot to hash a login's password in; `None` when the server stays busy too long.
    pub async fn hashing_slot(&self) -> Option<SemaphorePermit<'_>> {
        tokio::time::timeout(HASH_WAIT, self.hashing.acquire()).await.ok()?.ok()
    }
}
