//! Per-run limits (invariant 3). Each run gets a [`Limits`]; a plugin may ask for other values,
//! which are clamped to the operator's [`Limits::operator_max`].

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The bounds one run executes under. Every field is a hard cap: reaching it fails the run with
/// a typed reason, and only that run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Fuel: WebAssembly instructions the run may execute, also the billing unit.
    ///
    /// Default 20 000 000 000 (about 10 s of guest code on this hardware). A malicious guest that
    /// loops forever fails with `fuel_exhausted` once this is spent.
    pub fuel: u64,
    /// Wall-clock deadline, enforced by epoch interruption inside WebAssembly and by an async
    /// timeout around the whole call (host calls included).
    ///
    /// Default 30 s. A guest stuck in a loop, or one that starves on host calls, fails with
    /// `deadline`.
    pub deadline: Duration,
    /// Linear memory cap, bytes, per memory.
    ///
    /// Default 256 MiB. A guest that tries to grow past it fails with `memory_limit`; it cannot
    /// exhaust the host's memory.
    pub memory: u64,
    /// Output cap, bytes of the output's canonical JSON encoding.
    ///
    /// Default 1 MiB. A larger output is withheld and the run fails with `output_too_large`.
    pub output_bytes: u64,
    /// Log cap (stdout, stderr and the log interface together), bytes.
    ///
    /// Default 64 KiB. Past it, lines are dropped and counted; logging never fails the run.
    pub log_bytes: u64,
    /// Records the run may read, over all its queries.
    ///
    /// Default 50 000 000. Past it, `next-batch` returns `limit-reached`.
    pub records: u64,
    /// Bytes of field data the run may read.
    ///
    /// Default 4 GiB.
    pub read_bytes: u64,
    /// Queries open at once.
    ///
    /// Default 16. A guest that opens queries without closing them gets `too-many-queries`.
    pub open_queries: u32,
    /// Table elements per table (function references).
    ///
    /// Default 100 000. Growing a table past it fails the run.
    pub table_elements: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: 20_000_000_000,
            deadline: Duration::from_secs(30),
            memory: 256 << 20,
            output_bytes: 1 << 20,
            log_bytes: 64 << 10,
            records: 50_000_000,
            read_bytes: 4 << 30,
            open_queries: 16,
            table_elements: 100_000,
        }
    }
}

impl Limits {
    /// The operator's maxima: no plugin may be given more than this.
    ///
    /// The memory maximum is also the size of each slot in the pooling allocator, so it is
    /// fixed when the sandbox starts.
    pub fn operator_max() -> Limits {
        Limits {
            fuel: 200_000_000_000,
            deadline: Duration::from_secs(300),
            memory: 1 << 30,
            output_bytes: 16 << 20,
            log_bytes: 1 << 20,
            records: 500_000_000,
            read_bytes: 64 << 30,
            open_queries: 64,
            table_elements: 1_000_000,
        }
    }

    /// These limits, each lowered to at most `max`'s.
    pub fn clamp(self, max: &Limits) -> Limits {
        Limits {
            fuel: self.fuel.min(max.fuel),
            deadline: self.deadline.min(max.deadline),
            memory: self.memory.min(max.memory),
            output_bytes: self.output_bytes.min(max.output_bytes),
            log_bytes: self.log_bytes.min(max.log_bytes),
            records: self.records.min(max.records),
            read_bytes: self.read_bytes.min(max.read_bytes),
            open_queries: self.open_queries.min(max.open_queries),
            table_elements: self.table_elements.min(max.table_elements),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plugin_cannot_ask_for_more_than_the_operator_allows() {
        let greedy = Limits {
            fuel: u64::MAX,
            memory: u64::MAX,
            ..Limits::default()
        };
        let max = Limits::operator_max();
        let got = greedy.clamp(&max);
        assert_eq!(got.fuel, max.fuel);
        assert_eq!(got.memory, max.memory);
        assert_eq!(got.deadline, Limits::default().deadline);
    }
}
