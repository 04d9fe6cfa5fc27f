//! Usage metering: what each run consumed, recorded with the run (invariant 3; billing unit).
//!
//! Fuel (WebAssembly instructions executed) is the billing unit; the other figures explain a
//! run to the person and the operator.
//!
//! May touch: nothing; pure data.

use serde::{Deserialize, Serialize};

use crate::output::PluginOutput;
use crate::store::PersonId;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    Succeeded,
    Failed {
        reason: FailureReason,
        message: String,
    },
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
    pub audience: Option<crate::package::Audience>,
    /// The organisation the run was done for, if any (from the request behind the grant).
    #[serde(default)]
    pub requester: Option<String>,
    /// The end of the plugin's log (stdout, stderr and the log interface), capped.
    pub log: String,
    /// The campaign or study this run was one member's run of.
    #[serde(default)]
    pub job: Option<u64>,
}
