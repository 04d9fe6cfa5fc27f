//! Counters and histograms in the Prometheus text format, served at `/metrics`. Hand-written:
//! a few atomics are all it takes, and they cost nothing on the request path.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use insitu_core::meter::{Outcome, RunRecord};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_us: AtomicU64,
}

impl Histogram {
    fn observe(&self, secs: f64) {
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.counts[i].fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_us.fetch_add((secs * 1e6) as u64, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        let sep = if labels.is_empty() { "" } else { "," };
        for (b, c) in BUCKETS.iter().zip(&self.counts) {
            cumulative += c.load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {cumulative}");
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(
            out,
            "{name}_sum{braces} {}",
            self.sum_us.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "{name}_count{braces} {count}");
    }
}

#[derive(Default)]
pub struct Metrics {
    http: Histogram,
    responses: Mutex<BTreeMap<u16, u64>>,
    runs: AtomicU64,
    fuel: AtomicU64,
    run_seconds: Histogram,
    failures: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    pub fn http(&self, status: u16, secs: f64) {
        self.http.observe(secs);
        *self
            .responses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(status)
            .or_default() += 1;
    }

    pub fn run(&self, r: &RunRecord) {
        self.runs.fetch_add(1, Relaxed);
        self.fuel.fetch_add(r.usage.fuel, Relaxed);
        self.run_seconds.observe(r.usage.wall_us as f64 / 1e6);
        if let Outcome::Failed { reason, .. } = &r.outcome {
            *self
                .failures
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(reason.as_str())
                .or_default() += 1;
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP insitu_runs_total Plugin runs finished by this server.\n# TYPE insitu_runs_total counter\n");
        let _ = writeln!(out, "insitu_runs_total {}", self.runs.load(Relaxed));
        out.push_str("# HELP insitu_run_failures_total Failed runs, by reason.\n# TYPE insitu_run_failures_total counter\n");
        for (reason, n) in self
            .failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(out, "insitu_run_failures_total{{reason=\"{reason}\"}} {n}");
        }
        out.push_str("# HELP insitu_fuel_total Fuel consumed by runs (WebAssembly instructions).\n# TYPE insitu_fuel_total counter\n");
        let _ = writeln!(out, "insitu_fuel_total {}", self.fuel.load(Relaxed));
        out.push_str(
            "# HELP insitu_run_seconds Wall time of runs.\n# TYPE insitu_run_seconds histogram\n",
        );
        self.run_seconds.render(&mut out, "insitu_run_seconds", "");
        out.push_str("# HELP insitu_http_request_seconds Latency of HTTP requests.\n# TYPE insitu_http_request_seconds histogram\n");
        self.http
            .render(&mut out, "insitu_http_request_seconds", "");
        out.push_str("# HELP insitu_http_responses_total HTTP responses, by status.\n# TYPE insitu_http_responses_total counter\n");
        for (status, n) in self
            .responses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "insitu_http_responses_total{{status=\"{status}\"}} {n}"
            );
        }
        out
    }
}
