//! Where "now" comes from. Every layer reads the time through a [`Clock`] it is given (the
//! store holds one and answers `Clocked::now_ms`), never from the system directly, so that a
//! test moves time with a [`ManualClock`] and a backend spread over several machines can give
//! every node one clock (the database's).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// A source of the current time, in milliseconds since the Unix epoch.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch, now.
    fn now_ms(&self) -> i64;
}

/// The system's clock: what a store opened without a clock uses.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

impl SystemClock {
    /// The system clock, shareable.
    pub fn shared() -> Arc<dyn Clock> {
        Arc::new(SystemClock)
    }
}

/// A clock that stands still until told to move: for tests, which share it through an `Arc`
/// with the store (and so every layer above) and move it with [`set`](ManualClock::set) or
/// [`advance`](ManualClock::advance).
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock showing `ms`, shared.
    pub fn at(ms: i64) -> Arc<ManualClock> {
        Arc::new(ManualClock(AtomicI64::new(ms)))
    }

    /// Shows `ms` from now on.
    pub fn set(&self, ms: i64) {
        self.0.store(ms, Ordering::SeqCst);
    }

    /// Moves the clock by `ms` (negative: back) and returns the new time.
    pub fn advance(&self, ms: i64) -> i64 {
        self.0.fetch_add(ms, Ordering::SeqCst) + ms
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_is_seen_through_every_handle() {
        let c = ManualClock::at(1_000);
        let shared: Arc<dyn Clock> = c.clone();
        assert_eq!(shared.now_ms(), 1_000);
        assert_eq!(c.advance(500), 1_500);
        assert_eq!(shared.now_ms(), 1_500);
        c.set(42);
        assert_eq!(shared.now_ms(), 42);
        assert_eq!(c.advance(-2), 40);
    }

    #[test]
    fn the_system_clock_is_after_2020() {
        assert!(SystemClock.now_ms() > 1_577_836_800_000);
    }
}
