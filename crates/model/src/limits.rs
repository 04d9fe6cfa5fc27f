//! Per-run limits (invariant 3). Each run gets a [`Limits`]; a plugin may ask for other values,
//! which are clamped to the operator's [`Limits::operator_max`]. What host work costs in fuel
//! ([`HostCosts`]) is the operator's alone: a plugin cannot ask for cheaper host calls.

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

/// What the host's work for a plugin costs in fuel, charged against the run's [`Limits::fuel`]
/// like the plugin's own instructions and counted in `Usage::fuel` (`sandbox/fuel.rs`).
///
/// Without these charges a plugin could make the host work for it nearly for free: a call
/// costs the guest a few hundred to a few thousand instructions but the host microseconds
/// (two million calls took about 20 s), so a loop of host calls ran into the deadline, not
/// its fuel. With them, fuel bounds the host's work too, and
/// a run whose host work passes its budget fails with `fuel_exhausted`. One fuel is about half
/// a nanosecond of guest code on this hardware ([`Limits::fuel`]). The call costs follow the
/// host's time per call; the per-record and per-byte costs are set well below it, so that a
/// normal scan (the benchmark's fee-scanner scan, 4 096 records per batch) pays about 2 %
/// more fuel than its own instructions
/// (`tests/all/hostile.rs::host_work_costs_a_normal_scan_only_a_few_percent`), and the
/// [`Limits::records`] and [`Limits::read_bytes`] caps remain what bounds rereading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostCosts {
    /// Fuel for every call from the plugin into a host function, whatever the interface
    /// (`data`, `log`, every WASI function), charged when the call returns.
    ///
    /// Default 1 000 (about 0.5 µs). A guest calling the host in an endless loop (the clock,
    /// `collections`, a write to stdout) spends its fuel at least this fast and fails with
    /// `fuel_exhausted`; set to 0, such a loop runs until the deadline.
    pub call: u64,
    /// Further fuel for each `open` and `next-batch`: each reads the store (a read transaction,
    /// the grant read again, a cursor).
    ///
    /// Default 10 000 (about 5 µs). A guest that opens and drops queries, or asks for one record
    /// per batch, in a loop pays this per call.
    pub query: u64,
    /// Fuel per record delivered by `next-batch`.
    ///
    /// Default 8. A guest that rereads its records with query after query pays for each
    /// delivery, on top of the [`Limits::records`] cap.
    pub record: u64,
    /// Fuel per 64 bytes of field data delivered by `next-batch` (rounded up per batch).
    ///
    /// Default 4. A guest that asks for the largest fields again and again pays for each
    /// delivery, on top of the [`Limits::read_bytes`] cap.
    pub read_64_bytes: u64,
    /// Fuel per byte written to the run's log (the `log` interface, stdout and stderr), kept or
    /// dropped past [`Limits::log_bytes`].
    ///
    /// Default 2. A guest that floods the log pays for every byte the host had to take in, so
    /// an endless log loop fails with `fuel_exhausted` instead of only filling its capped log.
    pub log_byte: u64,
}

impl Default for HostCosts {
    fn default() -> Self {
        HostCosts {
            call: 1_000,
            query: 10_000,
            record: 8,
            read_64_bytes: 4,
            log_byte: 2,
        }
    }
}

impl HostCosts {
    /// No charge at all: host calls are free, as before these costs existed (for measuring).
    pub const FREE: HostCosts = HostCosts {
        call: 0,
        query: 0,
        record: 0,
        read_64_bytes: 0,
        log_byte: 0,
    };
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
