//! Rate limits: a token bucket per API token (or session) and per client address. A client
//! over either gets 429 with `Retry-After`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::http::header::{AUTHORIZATION, COOKIE, RETRY_AFTER};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::AppState;
use super::error::ApiError;

/// Requests per second and burst, for one key.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub per_second: f64,
    pub burst: f64,
}

/// The limits `insitu serve` applies unless told otherwise.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    pub per_token: Rate,
    pub per_address: Rate,
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
        }
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

    /// Takes one request from `key`'s bucket; `Err(seconds to wait)` when it is empty.
    pub fn take(&self, key: &str) -> Result<(), u64> {
        let id: [u8; 16] = Sha256::digest(key.as_bytes())[..16]
            .try_into()
            .unwrap_or([0; 16]);
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

/// The middleware: the caller's token (bearer or session cookie) and address each pay one.
pub async fn limit(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let token = headers
        .get(AUTHORIZATION)
        .or_else(|| headers.get(COOKIE))
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let address = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let verdict = token
        .map_or(Ok(()), |t| s.limits.0.take(&t))
        .and_then(|()| address.map_or(Ok(()), |a| s.limits.1.take(&a)));
    match verdict {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            let mut resp = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many requests; try again in {wait} s"),
            )
            .into_response();
            if let Ok(v) = wait.to_string().parse() {
                resp.headers_mut().insert(RETRY_AFTER, v);
            }
            resp
        }
    }
}
