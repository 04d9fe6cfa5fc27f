//! A job seen from outside, for `tests/all/studies.rs` and `tests/all/campaigns.rs`:
//! - what an organisation reads through the API, as JSON with times relative to the job's
//!   opening (two stores open their jobs at different instants; everything else must match
//!   byte for byte);
//! - a release mechanism measured: the spread of (release − exact) against the calibrated
//!   scale, and an attacker who tries to tell two neighbouring cohorts apart. Each check takes
//!   the mechanism as a parameter, so that it can be shown to fail without noise or with half
//!   of it.

#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use insitu_core::pds::Pds;
use insitu_server::limit::RateLimits;
use insitu_server::{AppState, router};
use serde_json::Value;
use tower::ServiceExt;

/// A token for a new account `name` with `role`'s scopes.
pub fn token(pds: &Pds, name: &str, role: insitu_core::account::Role) -> String {
    let store = pds.store.as_ref();
    let a = match store.account_by_name(name).unwrap() {
        Some(a) => a,
        None => insitu_core::account::create(store, name, "a long enough password", role).unwrap(),
    };
    insitu_core::account::issue_token(store, &a, &[], "test", None)
        .unwrap()
        .0
}

/// A sign-in session (the pages' cookie) for the existing account `name`.
pub fn session(pds: &Pds, name: &str) -> String {
    let store = pds.store.as_ref();
    let a = store.account_by_name(name).unwrap().unwrap();
    insitu_core::account::issue_session(store, &a).unwrap().0
}

/// `GET path` with `token`, through the router in process: the status and the JSON body.
pub async fn get(pds: Arc<Pds>, token: &str, path: &str) -> (u16, Value) {
    let app = router(AppState::new(pds, RateLimits::default()));
    let req = Request::builder()
        .method("GET")
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let resp = app.oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// `v` with every `*_ms` number made relative to `opened_ms`.
pub fn relative_times(v: Value, opened_ms: i64) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let v = match (&v, k.ends_with("_ms")) {
                        (Value::Number(n), true) => {
                            n.as_i64().map_or(v.clone(), |t| Value::from(t - opened_ms))
                        }
                        _ => relative_times(v, opened_ms),
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(
            a.into_iter()
                .map(|v| relative_times(v, opened_ms))
                .collect(),
        ),
        other => other,
    }
}

/// Moves `clock` on to `ms` (never back): the store's "now" is then at least `ms`.
pub fn until(clock: &insitu_core::clock::ManualClock, ms: i64) {
    use insitu_core::clock::Clock;
    clock.set(ms.max(clock.now_ms()));
}

/// The standard deviation of discrete Laplace noise of `scale`: √(2q) / (1 − q), q = e^(−1/scale).
pub fn laplace_sd(scale: f64) -> f64 {
    let q = (-1.0 / scale).exp();
    (2.0 * q).sqrt() / (1.0 - q)
}

/// Draws `n` releases with `release` and checks that each coordinate's (release − exact)
/// has mean about 0 and the standard deviation of discrete Laplace noise of its scale, within
/// `tolerance` (relative). Returns the measured standard deviations, or what is off.
pub fn check_spread(
    n: usize,
    exact: &[i64],
    scales: &[f64],
    tolerance: f64,
    release: &mut dyn FnMut() -> Vec<i64>,
) -> Result<Vec<f64>, String> {
    let mut sums = vec![0f64; exact.len()];
    let mut squares = vec![0f64; exact.len()];
    for _ in 0..n {
        let r = release();
        for i in 0..exact.len() {
            let d = (r[i] - exact[i]) as f64;
            sums[i] += d;
            squares[i] += d * d;
        }
    }
    let mut measured = Vec::new();
    for i in 0..exact.len() {
        let mean = sums[i] / n as f64;
        let sd = (squares[i] / n as f64 - mean * mean).sqrt();
        let want = laplace_sd(scales[i]);
        measured.push(sd);
        if (sd / want - 1.0).abs() > tolerance {
            return Err(format!(
                "coordinate {i}: the noise's standard deviation is {sd:.2}, the calibrated scale {} gives {want:.2} (tolerance {:.0}%)",
                scales[i],
                tolerance * 100.0
            ));
        }
        if mean.abs() > 4.0 * want / (n as f64).sqrt() + 0.05 {
            return Err(format!(
                "coordinate {i}: the noise is biased, mean {mean:.2}"
            ));
        }
    }
    Ok(measured)
}

/// What the attacker achieved.
#[derive(Debug)]
pub struct Attack {
    /// The best threshold test's advantage, P(say "in" | in) − P(say "in" | out).
    pub advantage: f64,
    /// The ε-DP bound on it, (e^ε − 1) / (e^ε + 1).
    pub bound: f64,
    /// The largest probability ratio over the bins compared, and how many were compared.
    pub ratio: f64,
    pub bins: usize,
}

/// Neighbouring cohorts: `without` (the exact released vector without the target member) and
/// `with` (with them). Draws `n` releases from each with `release(with_target)` and plays the
/// attacker who knows every other member's data and the published scales: the statistic is
/// the log-likelihood ratio of the declared mechanism, L(y) = Σ (|y − without| − |y − with|) /
/// scale, the best test against Laplace noise. An ε-DP release must keep
/// - the advantage of every threshold test on L within (e^ε − 1) / (e^ε + 1) (+ 0.02 for
///   sampling), and
/// - in every bin of L holding at least 500 draws of each cohort, the ratio of their counts
///   within e^ε (+ 20% for sampling),
///
/// and at least two bins must be comparable (without noise, none are). Returns the attack, or
/// the check it broke.
pub fn distinguish(
    n: usize,
    without: &[i64],
    with: &[i64],
    scales: &[f64],
    epsilon: f64,
    release: &mut dyn FnMut(bool) -> Vec<i64>,
) -> Result<Attack, String> {
    let stat = |y: &[i64]| -> f64 {
        (0..y.len())
            .map(|i| ((y[i] - without[i]).abs() - (y[i] - with[i]).abs()) as f64 / scales[i])
            .sum()
    };
    let mut d: Vec<f64> = (0..n).map(|_| stat(&release(true))).collect();
    let mut d2: Vec<f64> = (0..n).map(|_| stat(&release(false))).collect();
    d.sort_by(f64::total_cmp);
    d2.sort_by(f64::total_cmp);
    let above = |v: &[f64], t: f64| (v.len() - v.partition_point(|x| *x <= t)) as f64 / n as f64;
    let mut thresholds: Vec<f64> = d.iter().chain(&d2).copied().collect();
    thresholds.dedup();
    thresholds.push(f64::NEG_INFINITY);
    let advantage = thresholds
        .iter()
        .map(|t| above(&d, *t) - above(&d2, *t))
        .fold(f64::MIN, f64::max);
    let bound = (epsilon.exp() - 1.0) / (epsilon.exp() + 1.0);

    let (lo, width) = (-epsilon * 1.5, epsilon / 10.0);
    let mut ratio: f64 = 1.0;
    let mut bins = 0;
    for b in 0..30 {
        let (a, z) = (
            lo + b as f64 * width - 1e-9,
            lo + (b + 1) as f64 * width - 1e-9,
        );
        let p = d.iter().filter(|v| (a..z).contains(*v)).count() as f64;
        let q = d2.iter().filter(|v| (a..z).contains(*v)).count() as f64;
        if p >= 500.0 && q >= 500.0 {
            bins += 1;
            ratio = ratio.max((p / q).max(q / p));
        }
    }
    let attack = Attack {
        advantage,
        bound,
        ratio,
        bins,
    };
    if advantage > bound + 0.02 {
        return Err(format!(
            "the attacker's advantage {advantage:.3} beats the ε-DP bound {bound:.3}: {attack:?}"
        ));
    }
    if ratio > epsilon.exp() * 1.2 {
        return Err(format!(
            "a bin's probability ratio {ratio:.2} is over e^ε = {:.2}: {attack:?}",
            epsilon.exp()
        ));
    }
    if bins < 2 {
        return Err(format!(
            "only {bins} bins hold both cohorts: the releases tell them apart: {attack:?}"
        ));
    }
    Ok(attack)
}
