//! Studies (co-design analytics): an organisation's analytics plugin runs in each consenting
//! member's store and yields a local aggregate; the host combines the aggregates and releases
//! them only for a large enough cohort, with differential-privacy noise.
//!
//! The mechanism (DESIGN.md invariant 2, noninterference):
//! - each member to run is charged the study's ε against their monthly budget before any run,
//!   atomically ([`crate::job::reserve`]); a member without enough budget left is not run. The
//!   reservation is the charge, released or not: whether a study is released is itself an
//!   answer about the members;
//! - each member's metrics are clipped to the bounds the manifest declares
//!   ([`crate::contract::check_member`]), whatever the plugin computed; a member whose run
//!   failed is in the cohort with a zero contribution, so a failure says nothing the release
//!   would not;
//! - the host sums them; neighbouring cohorts differ by one member, added or removed, so one
//!   member moves the vector of sums by at most `Σ max(|lower|, |upper|)` in L1: the
//!   sensitivity Δ;
//! - OpenDP's vector discrete Laplace mechanism ([`crate::noise`]) adds noise of scale
//!   Δ / (0.9 ε) to every sum, and of scale 1 / (0.1 ε) to the cohort size (sensitivity 1): by
//!   sequential composition the release is ε-differentially private;
//! - the release decision uses the noisy cohort against the minimum, max(operator's k floor,
//!   manifest's `min_cohort`, what the organisation asked): an exact decision would tell
//!   whether one member was in;
//! - the noise is drawn once, when the members are done, and stored with the job; the
//!   organisation sees nothing but the job's declared parameters before its release time.
//!
//! May touch: the store and the runner.

use std::sync::Arc;

use crate::job::{
    BillingRecord, Job, JobKind, JobStatus, Member, MemberOutcome, Progress, Release, StudySpec,
};
use crate::ledger::{Movement, Party};
use crate::noise::{Noise, NoiseError, noisy};
use crate::output::{Money, PluginOutput, Scalar};
use crate::package::{AggregateField, PluginUse};
use crate::run::Runner;
use crate::store::{PersonId, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    #[error("plugin {0} is not a study plugin (its manifest's `use` is not `study`)")]
    NotAStudy(String),
    #[error("ε must be positive and at most the monthly budget of {budget}; {asked} was asked")]
    Epsilon { asked: f64, budget: f64 },
    #[error("job {0} is not a study")]
    NotAStudyJob(u64),
    #[error("study {0} has not finished running its members")]
    NotFinished(u64),
    #[error(transparent)]
    Noise(#[from] NoiseError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("billing failed (the results are kept; `insitu ledger reconcile` bills them): {0}")]
    Billing(#[from] crate::ledger::BillingError),
}

/// What an organisation asks for.
#[derive(Debug, Clone)]
pub struct NewStudy {
    pub owner: String,
    pub description: String,
    pub plugin_digest: String,
    pub params: Vec<(String, Scalar)>,
    /// Default and floor: the larger of the operator's k floor and the manifest's
    /// `min_cohort`.
    pub min_cohort: Option<u32>,
    pub epsilon: f64,
    pub reward: Money,
}

/// Opens a study after checking the plugin and ε; fixes its release time from the members it
/// targets.
pub fn open(store: &dyn Store, new: NewStudy) -> Result<Job, StudyError> {
    let policy = store.policy()?;
    let plugin = store.plugin(&new.plugin_digest)?;
    let manifest = plugin
        .manifest
        .as_ref()
        .filter(|m| m.usage == PluginUse::Study)
        .ok_or_else(|| StudyError::NotAStudy(plugin.name.clone()))?;
    let budget = policy.epsilon_per_month_micro;
    let micro = (new.epsilon * 1e6).round();
    if !(micro >= 1.0 && micro <= budget as f64) {
        return Err(StudyError::Epsilon {
            asked: new.epsilon,
            budget: budget as f64 / 1e6,
        });
    }
    let floor = manifest
        .output
        .min_cohort
        .unwrap_or(1)
        .max(policy.k_floor)
        .max(1);
    let now = store.now_ms();
    let members = crate::job::targets(store, &new.plugin_digest, now, &[new.owner.as_str()])?.len();
    let deadline = crate::job::member_limits(manifest, &policy).deadline;
    Ok(store.add_job(Job {
        id: 0,
        kind: JobKind::Study(StudySpec {
            description: new.description,
            min_cohort: new.min_cohort.unwrap_or(floor).max(floor),
            epsilon_micro: micro as u64,
            reward: new.reward,
            period: crate::job::period_of(store.now_ms()),
        }),
        owner: new.owner,
        plugin_digest: new.plugin_digest,
        params: new.params,
        created_ms: now,
        status: JobStatus::Running,
        release: None,
        counts: None,
        release_ms: crate::job::release_time(now, members, &policy, deadline.as_millis() as u64),
    })?)
}

fn spec(job: &Job) -> Result<&StudySpec, StudyError> {
    match &job.kind {
        JobKind::Study(s) => Ok(s),
        JobKind::Campaign(_) => Err(StudyError::NotAStudyJob(job.id)),
    }
}

/// Reserves ε for every consenting member (those without budget left are recorded as over
/// budget, without a run), runs them, then combines and releases. Resumes an interrupted
/// study without charging anyone twice.
pub async fn run(runner: &Arc<Runner>, job: u64, progress: &Progress) -> Result<Job, StudyError> {
    run_with(runner, job, progress, Noise::OpenDp).await
}

/// [`run`], with the noise drawn from `noise` (a host-internal seam for tests).
#[doc(hidden)]
pub async fn run_with(
    runner: &Arc<Runner>,
    job: u64,
    progress: &Progress,
    noise: Noise,
) -> Result<Job, StudyError> {
    let store = runner.store().clone();
    let job = store.job(job)?;
    let s = spec(&job)?.clone();
    if job.status != JobStatus::Running {
        return Ok(job);
    }
    crate::job::run_members(runner, &job, s.epsilon_micro, &s.period, progress).await?;
    crate::ledger::bill_members(store.as_ref(), job.id)?;
    let job = release(store.as_ref(), job.id, noise)?;
    crate::ledger::bill_job(store.as_ref(), job.id)?;
    Ok(job)
}

/// The share of a release's ε spent on the noisy cohort size.
pub const COUNT_SHARE: f64 = 0.1;

/// One member's largest effect on the vector of sums, in L1: the sum of every metric's
/// largest bound, or the manifest's `aggregate_l1` when smaller (`contract::check_member`
/// withholds a member over it).
pub fn sensitivity(fields: &[AggregateField], l1: Option<i64>) -> i64 {
    let all = fields.iter().fold(0i64, |acc, f| {
        acc.saturating_add(f.lower.unsigned_abs().max(f.upper.unsigned_abs()) as i64)
    });
    l1.map_or(all, |l1| all.min(l1))
}

/// A study's exact combination, which never leaves the host: each declared metric's sum of
/// clipped contributions, over the cohort (every member run, failed runs with zero).
#[derive(Debug, Clone, PartialEq)]
pub struct Tally {
    pub sums: Vec<i64>,
    /// The members run (their ε reserved), in person order.
    pub cohort: Vec<PersonId>,
    /// Members not run: their budget for the period could not cover the study.
    pub over_budget: u32,
}

/// Sums the members' clipped contributions.
pub fn tally(
    store: &dyn Store,
    fields: &[AggregateField],
    members: &[Member],
) -> Result<Tally, StudyError> {
    let mut sums = vec![0i64; fields.len()];
    let mut cohort = Vec::new();
    let mut over_budget = 0;
    for m in members {
        match m.outcome {
            MemberOutcome::OverBudget => {
                over_budget += 1;
                continue;
            }
            MemberOutcome::Contributed => {}
            // In the cohort with nothing: whether a member's run failed must not show.
            _ => {
                cohort.push(m.person);
                continue;
            }
        }
        cohort.push(m.person);
        let Some(PluginOutput::Metrics { metrics }) = store.run(m.run)?.output else {
            continue;
        };
        for (i, f) in fields.iter().enumerate() {
            // Clipped at the contract check already; clipped again so that the bound holds
            // here whatever was stored. A metric the member's run did not return counts as 0.
            let v = metrics
                .iter()
                .find(|x| x.name == f.name)
                .and_then(|x| match x.value {
                    Scalar::Integer(v) => Some(v),
                    _ => None,
                })
                .unwrap_or(0)
                .clamp(f.lower, f.upper);
            sums[i] = sums[i].saturating_add(v);
        }
    }
    Ok(Tally {
        sums,
        cohort,
        over_budget,
    })
}

/// What a tally publishes: the noisy cohort decides; the sums are drawn only for a release.
/// The job's id names the draws (for a seeded source). Returns the release, or the reason it
/// is withheld.
pub fn publish(
    job: &Job,
    fields: &[AggregateField],
    l1: Option<i64>,
    t: &Tally,
    noise: Noise,
) -> Result<Result<Release, String>, StudyError> {
    let s = spec(job)?;
    let epsilon = s.epsilon_micro as f64 / 1e6;
    // Sequential composition: a tenth of ε for the cohort size (sensitivity 1), the rest for
    // the sums.
    let (count, _) = noisy(
        &[t.cohort.len() as i64],
        1,
        epsilon * COUNT_SHARE,
        noise,
        &format!("job {} cohort", job.id),
    )?;
    let cohort = count[0].max(0);
    if cohort < s.min_cohort as i64 {
        return Ok(Err(format!(
            "the cohort, with noise, is {cohort}: below the minimum of {}",
            s.min_cohort
        )));
    }
    let sensitivity = sensitivity(fields, l1);
    let (out, scale) = noisy(
        &t.sums,
        sensitivity,
        epsilon * (1.0 - COUNT_SHARE),
        noise,
        &format!("job {} sums", job.id),
    )?;
    Ok(Ok(Release {
        values: fields
            .iter()
            .zip(out)
            // Post-processing (which DP allows): a sum of non-negative values is not shown
            // below zero.
            .map(|(f, v)| (f.name.clone(), if f.lower >= 0 { v.max(0) } else { v }))
            .collect(),
        cohort: u32::try_from(cohort).unwrap_or(u32::MAX),
        excluded_for_budget: t.over_budget,
        epsilon_micro: s.epsilon_micro,
        scale,
        sensitivity,
    }))
}

/// Combines the members' clipped aggregates and publishes them with noise, drawn once and
/// stored: a release when the noisy cohort reaches the minimum, else a withheld study. Each
/// member run earns the study's reward either way (their budget was spent either way).
pub fn release(store: &dyn Store, job: u64, noise: Noise) -> Result<Job, StudyError> {
    let mut job = store.job(job)?;
    let s = spec(&job)?.clone();
    if job.status != JobStatus::Running {
        return Ok(job);
    }
    let manifest = store
        .plugin(&job.plugin_digest)?
        .manifest
        .ok_or_else(|| StudyError::NotAStudy(job.plugin_digest.clone()))?;
    let t = tally(store, &manifest.aggregate, &store.members(job.id)?)?;
    // Shown from the release time, never earlier: the time the members finished is theirs.
    let at_ms = store.now_ms().max(job.release_ms);
    match publish(&job, &manifest.aggregate, manifest.aggregate_l1, &t, noise)? {
        Ok(r) => {
            job.release = Some(r);
            job.status = JobStatus::Released { at_ms };
        }
        Err(reason) => job.status = JobStatus::Withheld { at_ms, reason },
    }
    let billing: Vec<BillingRecord> = t
        .cohort
        .iter()
        .filter(|_| s.reward.minor > 0)
        .map(|p| BillingRecord {
            id: 0,
            job: job.id,
            at_ms,
            from: Party::Organisation(job.owner.clone()),
            to: Party::Person(*p),
            amount: s.reward.clone(),
            movement: Movement::Reward,
            memo: format!("reward for taking part in study {}", job.id),
        })
        .collect();
    Ok(crate::job::finish(store, &job, billing, &s.period)?)
}

/// A study's release as its organisation sees it at `now_ms`: nothing before the release
/// time.
pub fn published(job: &Job, now_ms: i64) -> Option<&Release> {
    job.release.as_ref().filter(|_| job.released_at(now_ms))
}
