//! Usage metering: what each run consumed, recorded with the run (invariant 3; billing unit).
//!
//! Fuel (WebAssembly instructions executed) is the billing unit; the other figures explain a
//! run to the person and the operator.
//!
//! May touch: nothing; pure data.

use serde::{Deserialize, Serialize};

use crate::limits::Limits;
use crate::output::{Money, PluginOutput};
use crate::records::PersonId;

/// What one run consumed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Fuel consumed: WebAssembly instructions plus the host's work for the plugin, charged at
    /// the operator's `HostCosts` (`sandbox/limits.rs`); the billing unit.
    pub fuel: u64,
    pub wall_us: u64,
    /// The largest linear memory the plugin reached, in bytes.
    pub peak_memory: u64,
    pub records_read: u64,
    /// Bytes of field data delivered to the plugin.
    pub bytes_read: u64,
    pub output_bytes: u64,
    /// Calls into the host (data and log interfaces).
    pub host_calls: u64,
    pub log_bytes: u64,
    /// Log bytes dropped past the cap.
    pub log_dropped: u64,
}

/// Why a run failed. Every failure has one of these reasons, so callers can branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// The grant was missing, revoked, expired or for other code.
    Grant,
    /// The fuel budget ran out (an endless or too long computation).
    FuelExhausted,
    /// The wall-clock deadline passed.
    Deadline,
    /// The plugin tried to grow its memory past the cap.
    MemoryLimit,
    /// The plugin's call stack overflowed (deep recursion).
    StackOverflow,
    /// The plugin trapped (a panic, an illegal operation).
    Trap,
    /// The output exceeded its size cap; it was withheld.
    OutputTooLarge,
    /// The plugin returned its own error.
    PluginError,
    /// The output broke the manifest's contract (kind, items, audience); it was withheld.
    Contract,
    /// The plugin could not be instantiated (imports the host does not provide, resource caps).
    Instantiate,
    /// The host failed (storage error); not the plugin's fault.
    Host,
}

impl FailureReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::Grant => "grant",
            FailureReason::FuelExhausted => "fuel_exhausted",
            FailureReason::Deadline => "deadline",
            FailureReason::MemoryLimit => "memory_limit",
            FailureReason::StackOverflow => "stack_overflow",
            FailureReason::Trap => "trap",
            FailureReason::OutputTooLarge => "output_too_large",
            FailureReason::PluginError => "plugin_error",
            FailureReason::Contract => "contract",
            FailureReason::Instantiate => "instantiate",
            FailureReason::Host => "host",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Admitted and executing: recorded when a run starts, so that it exists (with its id,
    /// start, limits and price) for everyone who may see it, whatever it later does.
    Running,
    Succeeded,
    Failed {
        reason: FailureReason,
        message: String,
    },
}

impl Outcome {
    /// `running`, `succeeded` or `failed`.
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Running => "running",
            Outcome::Succeeded => "succeeded",
            Outcome::Failed { .. } => "failed",
        }
    }
}

/// A finished run as stored: who, what code, under which grant, what it consumed, how it ended,
/// and its output (only when it succeeded and passed its checks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: u64,
    pub person: PersonId,
    pub grant: u64,
    pub plugin_digest: String,
    pub started_ms: i64,
    pub usage: Usage,
    /// The collections read and the fields delivered.
    pub read: Vec<(String, Vec<String>)>,
    pub outcome: Outcome,
    pub output: Option<PluginOutput>,
    /// Who may read the output (from the manifest's contract).
    #[serde(default)]
    pub audience: Option<crate::manifest::Audience>,
    /// The organisation the run was done for, if any (from the request behind the grant).
    #[serde(default)]
    pub requester: Option<String>,
    /// The end of the plugin's log (stdout, stderr and the log interface), capped.
    pub log: String,
    /// The campaign or study this run was one member's run of.
    #[serde(default)]
    pub job: Option<u64>,
    /// The bounds the run executes under (the manifest's, clamped to the operator's), fixed
    /// before it starts. `None` for a run refused before it started.
    #[serde(default)]
    pub limits: Option<Limits>,
    /// When anyone but the person may read the run's result (its output, for the contract's
    /// audience): its start plus its deadline, so that the moment a result appears says
    /// nothing about how long the run took. Fixed before it starts.
    #[serde(default)]
    pub release_ms: i64,
    /// What the run costs its payer, fixed before it starts from the manifest's pricing and
    /// the declared `limits`, never from what the run used (`ledger::quote` in `insitu-core`). `None`
    /// for a run refused before it started, which is not billed.
    #[serde(default)]
    pub price: Option<Money>,
    /// The records the output's findings cite, as the host checked them against what the run
    /// read (`contract::resolve_evidence` in `insitu-core`): the id the plugin saw and the stored
    /// record behind it, so that an invitation can show the records themselves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<EvidenceRef>,
    /// The parameters the run was given, so that it can be shown and replayed (`insitu plugin
    /// test --replay`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<(String, crate::output::Scalar)>,
}

/// A record a finding cites: the pseudonymous id the plugin saw, in its collection, and the
/// stored record it stands for (its id and time). Kept with the run, which only the person and
/// the operator read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRef {
    pub collection: String,
    /// The id the plugin saw (a per-grant pseudonym).
    pub id: u64,
    /// The stored record's id.
    pub stored: u64,
    pub time: i64,
}

/// The longest failure message or other plugin-controlled text kept with a run, in bytes.
/// A plugin error of 64 MiB would otherwise be stored whole, with every run.
pub const MAX_MESSAGE_BYTES: usize = 4096;

/// `text` cut to at most `max` bytes at a character boundary, saying how much was cut.
pub fn cap_text(mut text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let cut = text.len();
    let mut end = max.saturating_sub(40);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(&format!("… ({} bytes cut)", cut - end));
    text
}

impl RunRecord {
    /// A run of `digest` on `person`'s data under `grant`, not started yet.
    pub fn new(person: PersonId, grant: u64, digest: &str, started_ms: i64) -> Self {
        RunRecord {
            id: 0,
            person,
            grant,
            plugin_digest: digest.to_string(),
            started_ms,
            usage: Usage::default(),
            read: Vec::new(),
            outcome: Outcome::Running,
            output: None,
            audience: None,
            requester: None,
            log: String::new(),
            job: None,
            limits: None,
            release_ms: started_ms,
            price: None,
            evidence: Vec::new(),
            params: Vec::new(),
        }
    }

    /// Ends the run with `reason`, its message capped to [`MAX_MESSAGE_BYTES`].
    pub fn fail(mut self, reason: FailureReason, message: String) -> Self {
        self.outcome = Outcome::Failed {
            reason,
            message: cap_text(message, MAX_MESSAGE_BYTES),
        };
        self.output = None;
        self
    }
}
