//! Where a store's time goes, when `INSITU_PG_PROFILE` is set (to anything): every call through
//! the store's runtime is counted and timed by the line of this crate that made it (a trait
//! method's `self.with`, a cursor's fetch), and the table is printed to standard error when the
//! process's last store is dropped. Unset, it costs one relaxed load per call.
//!
//! A diagnostic for benchmarks (`host/benches/campaign.rs` over PostgreSQL), not a metric: the
//! times are wall-clock waits of the calling thread, round trips and queueing included.

use std::collections::HashMap;
use std::panic::Location;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// 0: not read yet, 1: off, 2: on.
static STATE: AtomicU8 = AtomicU8::new(0);
/// Stores alive: the table is printed when the last one is dropped.
static STORES: AtomicUsize = AtomicUsize::new(0);
static TABLE: Mutex<Option<HashMap<&'static Location<'static>, (u64, Duration)>>> =
    Mutex::new(None);

fn on() -> bool {
    match STATE.load(Ordering::Relaxed) {
        0 => {
            let on = std::env::var_os("INSITU_PG_PROFILE").is_some();
            STATE.store(if on { 2 } else { 1 }, Ordering::Relaxed);
            on
        }
        s => s == 2,
    }
}

/// When a call starts, if profiling.
pub(crate) fn start() -> Option<Instant> {
    on().then(Instant::now)
}

/// Counts the call made at `at`, which started at `started`.
pub(crate) fn record(at: &'static Location<'static>, started: Option<Instant>) {
    let Some(t) = started else { return };
    let took = t.elapsed();
    let mut table = TABLE.lock().unwrap_or_else(|e| e.into_inner());
    let e = table
        .get_or_insert_with(HashMap::new)
        .entry(at)
        .or_default();
    e.0 += 1;
    e.1 += took;
}

pub(crate) fn store_opened() {
    STORES.fetch_add(1, Ordering::Relaxed);
}

/// Prints the table when the last store goes.
pub(crate) fn store_dropped() {
    if STORES.fetch_sub(1, Ordering::Relaxed) != 1 || !on() {
        return;
    }
    let Some(table) = TABLE.lock().unwrap_or_else(|e| e.into_inner()).take() else {
        return;
    };
    let mut rows: Vec<_> = table.into_iter().collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.1.1));
    let total: Duration = rows.iter().map(|r| r.1.1).sum();
    eprintln!("store calls by call site (INSITU_PG_PROFILE): calls, total wait, mean");
    for (at, (n, d)) in rows {
        eprintln!(
            "  {:>40}  {n:>8}  {:>9.3} s ({:>4.1} %)  {:>8.1} us",
            format!("{}:{}", at.file(), at.line()),
            d.as_secs_f64(),
            100.0 * d.as_secs_f64() / total.as_secs_f64().max(1e-9),
            d.as_secs_f64() * 1e6 / n as f64
        );
    }
}
