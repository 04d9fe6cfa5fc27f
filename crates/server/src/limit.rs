//! Rate limits, token buckets: per client address (this middleware, on every request), per
//! token (taken once the token is authenticated, keyed on its id: `auth::authenticate`), per
//! organisation for access requests, and for password guesses per account name and per
//! address ([`Logins`]). A client over any gets 429 with `Retry-After`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::AppState;
use super::error::ApiError;
use insitu_core::account::{self, Account, AccountError};
use insitu_core::store::Store;

/// Requests per second and burst, for one key.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub per_second: f64,
    pub burst: f64,
}

/// The limits `insitu serve` applies unless told otherwise.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    /// Requests per token.
    pub per_token: Rate,
    /// Requests per client address.
    pub per_address: Rate,
    /// Access requests (`POST /api/requests`) per organisation.
    pub asks_per_organisation: Rate,
    /// Password guesses per account name (a right password gives its guess back).
    pub guesses_per_name: Rate,
    /// Password guesses per client address.
    pub guesses_per_address: Rate,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            per_token: Rate {
                per_second: 50.0,
                burst: 100.0,
            },
            per_address: Rate {
                per_second: 200.0,
                burst: 400.0,
            },
            // 200 at once, then one a second: enough to ask a campaign's members, not to spam.
            asks_per_organisation: Rate {
                per_second: 1.0,
                burst: 200.0,
            },
            // 10 wrong passwords at once, then one every 6 s (600 a day at most).
            guesses_per_name: Rate {
                per_second: 1.0 / 6.0,
                burst: 10.0,
            },
            guesses_per_address: Rate {
                per_second: 0.5,
                burst: 30.0,
            },
        }
    }
}

/// The buckets of a running server.
pub struct Limits {
    pub per_token: Limiter,
    pub per_address: Limiter,
    pub asks: Limiter,
    pub logins: Logins,
}

impl Limits {
    pub fn new(r: RateLimits) -> Self {
        Limits {
            per_token: Limiter::new(r.per_token),
            per_address: Limiter::new(r.per_address),
            asks: Limiter::new(r.asks_per_organisation),
            logins: Logins {
                by_name: Limiter::new(r.guesses_per_name),
                by_address: Limiter::new(r.guesses_per_address),
            },
        }
    }
}

/// Password guesses, throttled per account name and per client address.
pub struct Logins {
    by_name: Limiter,
    by_address: Limiter,
}

/// Why a sign-in failed.
#[derive(Debug)]
pub enum LoginError {
    /// Too many guesses for this name or from this address: the password was not checked.
    Throttled(u64),
    Account(AccountError),
}

impl From<LoginError> for ApiError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::Throttled(wait) => {
                let mut e = too_many(wait);
                e.message = format!("too many sign-in attempts; try again in {wait} s");
                e
            }
            LoginError::Account(e) => e.into(),
        }
    }
}

impl Logins {
    /// `account::login`, after taking one guess from the name's bucket and the address's: a
    /// name or an address out of guesses is refused without its password being checked. A
    /// right password gives its guesses back, so only wrong ones count. Blocking (argon2).
    pub fn login(
        &self,
        store: &dyn Store,
        name: &str,
        password: &str,
        address: Option<IpAddr>,
    ) -> Result<Account, LoginError> {
        let name_key = format!("name {}", account::name::key(name));
        let address_key = address.map(|a| format!("address {a}"));
        self.by_name
            .take(&name_key)
            .map_err(LoginError::Throttled)?;
        if let Some(a) = &address_key
            && let Err(wait) = self.by_address.take(a)
        {
            self.by_name.give_back(&name_key);
            return Err(LoginError::Throttled(wait));
        }
        let result = account::login(store, name, password);
        if result.is_ok() {
            self.by_name.give_back(&name_key);
            if let Some(a) = &address_key {
                self.by_address.give_back(a);
            }
        }
        result.map_err(LoginError::Account)
    }
}

/// The client's address, when the server knows it (not for a router called in-process).
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// Buckets of one kind of key.
pub struct Limiter {
    rate: Rate,
    buckets: Mutex<HashMap<[u8; 16], (f64, Instant)>>,
}

impl Limiter {
    pub fn new(rate: Rate) -> Self {
        Limiter {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn id(key: &str) -> [u8; 16] {
        Sha256::digest(key.as_bytes())[..16]
            .try_into()
            .unwrap_or([0; 16])
    }

    /// Gives back one request taken from `key`'s bucket.
    pub fn give_back(&self, key: &str) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((level, _)) = buckets.get_mut(&Self::id(key)) {
            *level = (*level + 1.0).min(self.rate.burst);
        }
    }

    /// Takes one request from `key`'s bucket; `Err(seconds to wait)` when it is empty.
    pub fn take(&self, key: &str) -> Result<(), u64> {
        let id = Self::id(key);
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > 100_000 {
            // Forget the buckets that have refilled: they hold no state worth keeping.
            let Rate { per_second, burst } = self.rate;
            buckets.retain(|_, (level, at)| {
                *level + now.duration_since(*at).as_secs_f64() * per_second < burst
            });
        }
        let (level, at) = buckets.entry(id).or_insert((self.rate.burst, now));
        *level = (*level + now.duration_since(*at).as_secs_f64() * self.rate.per_second)
            .min(self.rate.burst);
        *at = now;
        if *level >= 1.0 {
            *level -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *level) / self.rate.per_second).ceil().max(1.0) as u64)
        }
    }
}

/// The 429 for a client that must wait `wait` seconds.
pub fn too_many(wait: u64) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many requests; try again in {wait} s"),
    );
    e.retry_after = Some(wait);
    e
}

/// The middleware: the client's address pays one.
pub async fn limit(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let address = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    match address.map_or(Ok(()), |a| s.limits.per_address.take(&a)) {
        Ok(()) => next.run(req).await,
        Err(wait) => too_many(wait).into_response(),
    }
}
