//! What each party sees of a run: the noninterference rule (DESIGN.md invariant 2), enforced
//! here for every reader of runs (the API, the pages, the CLI's organisation view).
//!
//! For a run on person P's data, everything that depends on P's data is output: the result,
//! but also whether it succeeded, its failure text and log, its fuel, wall time, memory and
//! records read, when it finished. Output reaches only the contract's audience.
//! - P and the operator see the whole run ([`RunView::detail`]).
//! - The organisation that started the run sees [`RunView`] without its detail: that the run
//!   exists, who it is on, under which grant and code, when it started, its declared limits,
//!   its price and its release time. All of these are fixed before the plugin reads anything,
//!   so this view is identical whatever P's data is, and whatever the run does.
//! - The output itself goes only to the contract's audience, through
//!   [`crate::contract::output_for`], and to anyone but P only from the release time.
//! - Nobody else sees the run at all: the same 404 as a run that does not exist.
//!
//! May touch: nothing; pure rules over run records.

use serde::Serialize;
use utoipa::ToSchema;

use crate::contract::Viewer;
use crate::meter::{Outcome, RunRecord};

/// A run's declared bounds, as every viewer of the run sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DeclaredLimits {
    /// Fuel budget (instructions, host work included).
    pub fuel: u64,
    pub memory_bytes: u64,
    pub deadline_ms: u64,
    pub output_bytes: u64,
    /// Records the run may read.
    pub records: u64,
}

/// A run as one viewer may see it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RunView {
    pub id: u64,
    /// Whose data the run reads.
    pub person: u64,
    pub grant: u64,
    pub plugin_digest: String,
    pub started_ms: i64,
    /// From when the output can be read by its audience, if that is not the person: the run's
    /// start plus its deadline, whatever the run does.
    pub release_ms: i64,
    /// `None` for a run refused before it started.
    pub limits: Option<DeclaredLimits>,
    /// What the run costs its payer (`12.34 EUR`), fixed before it started; `None` when it is
    /// not billed (refused before it started).
    pub price: Option<String>,
    /// The organisation that started the run; `None` for the person's own runs.
    pub requester: Option<String>,
    /// How the run went, for the person whose data it read and the operator only; always
    /// `None` for anyone else.
    pub detail: Option<RunDetail>,
}

/// How a run went: output of the run like its result, so only for the person and the operator.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RunDetail {
    /// `running`, `succeeded` or `failed`.
    pub status: String,
    /// Why it failed: `fuel_exhausted`, `deadline`, `memory_limit`, `contract`, ...
    pub failure: Option<String>,
    pub message: Option<String>,
    pub fuel: u64,
    pub wall_us: u64,
    pub records_read: u64,
    pub bytes_read: u64,
    pub peak_memory: u64,
    pub host_calls: u64,
    /// The collections read, with the fields delivered.
    pub read: Vec<(String, Vec<String>)>,
    /// The campaign or study this run was a member's run of.
    pub job: Option<u64>,
}

/// Whether `viewer` sees `r` at all: the person whose data it read, the operator, and the
/// organisation that started it (not a member's run of a campaign or study, which is the
/// member's alone).
pub fn sees_run(r: &RunRecord, viewer: &Viewer) -> bool {
    match viewer {
        Viewer::Person(p) => *p == r.person,
        Viewer::Operator => true,
        Viewer::Requester(org) => r.job.is_none() && r.requester.as_deref() == Some(org.as_str()),
    }
}

/// Whether `viewer` sees everything about `r`: the person whose data it read, and the operator.
pub fn sees_detail(r: &RunRecord, viewer: &Viewer) -> bool {
    match viewer {
        Viewer::Person(p) => *p == r.person,
        Viewer::Operator => true,
        Viewer::Requester(_) => false,
    }
}

/// `r` as `viewer` may see it, or `None` when the viewer may not see it at all (answer exactly
/// as for a run that does not exist).
pub fn run_view(r: &RunRecord, viewer: &Viewer) -> Option<RunView> {
    if !sees_run(r, viewer) {
        return None;
    }
    let detail = sees_detail(r, viewer).then(|| {
        let (failure, message) = match &r.outcome {
            Outcome::Failed { reason, message } => {
                (Some(reason.as_str().to_string()), Some(message.clone()))
            }
            Outcome::Running | Outcome::Succeeded => (None, None),
        };
        RunDetail {
            status: r.outcome.status().into(),
            failure,
            message,
            fuel: r.usage.fuel,
            wall_us: r.usage.wall_us,
            records_read: r.usage.records_read,
            bytes_read: r.usage.bytes_read,
            peak_memory: r.usage.peak_memory,
            host_calls: r.usage.host_calls,
            read: r.read.clone(),
            job: r.job,
        }
    });
    Some(RunView {
        id: r.id,
        person: r.person,
        grant: r.grant,
        plugin_digest: r.plugin_digest.clone(),
        started_ms: r.started_ms,
        release_ms: r.release_ms,
        limits: r.limits.map(|l| DeclaredLimits {
            fuel: l.fuel,
            memory_bytes: l.memory,
            deadline_ms: u64::try_from(l.deadline.as_millis()).unwrap_or(u64::MAX),
            output_bytes: l.output_bytes,
            records: l.records,
        }),
        price: r.price.as_ref().map(|m| m.to_string()),
        requester: r.requester.clone(),
        detail,
    })
}

/// One line per run for a listing: everything for the person and the operator, the view
/// without detail for the organisation that started it.
pub fn run_line(v: &RunView) -> String {
    let head = format!(
        "run {:>4}  person {:>3}  {}",
        v.id,
        v.person,
        v.plugin_digest.get(..12).unwrap_or(&v.plugin_digest)
    );
    match &v.detail {
        Some(d) => {
            let outcome = match (&d.failure, d.status.as_str()) {
                (Some(reason), _) => format!("FAILED {reason}"),
                (None, "succeeded") => "ok".to_string(),
                (None, other) => other.to_string(),
            };
            format!(
                "{head}  {:<22} fuel {:>12}  {:>8.2} ms  {:>7} records  {:>6} KiB peak",
                outcome,
                d.fuel,
                d.wall_us as f64 / 1000.0,
                d.records_read,
                d.peak_memory >> 10
            )
        }
        None => format!(
            "{head}  started {}  result from {}  price {}",
            insitu_formats::time::format_instant(v.started_ms),
            insitu_formats::time::format_instant(v.release_ms),
            v.price.as_deref().unwrap_or("-")
        ),
    }
}
