//! Studies (co-design analytics): an organisation's analytics plugin runs in each consenting
//! member's store and yields a local aggregate; the host combines the aggregates and releases
//! them only for a large enough cohort, with differential-privacy noise.
//!
//! The mechanism (DESIGN.md invariant 2):
//! - each member's metrics are clipped to the bounds the manifest declares
//!   ([`crate::contract::check_member`]), whatever the plugin computed;
//! - the host sums them; neighbouring cohorts differ by one member, added or removed, so one
//!   member moves the vector of sums by at most `Σ max(|lower|, |upper|)` in L1: the
//!   sensitivity Δ;
//! - OpenDP's vector discrete Laplace mechanism adds noise of scale Δ / (0.9 ε) to every sum,
//!   and of scale 1 / (0.1 ε) to the member count (sensitivity 1): by sequential composition
//!   the release is ε-differentially private. Each privacy map is checked with OpenDP too, so
//!   the scale is never computed by hand only;
//! - the count released is the noisy one: an exact count would tell whether one member was in;
//! - nothing is released unless the cohort reaches the minimum size, and then each member
//!   included is charged ε against their monthly budget, in the transaction that stores the
//!   release; a member without enough budget left is not run at all.
//!
//! May touch: the store and the runner.

use std::sync::Arc;

use crate::consent::now_ms;
use crate::job::{
    BillingRecord, Job, JobKind, JobStatus, Member, MemberOutcome, Progress, Release, StudySpec,
};
use crate::output::{Money, PluginOutput, Scalar};
use crate::package::{AggregateField, PluginUse};
use crate::run::Runner;
use crate::store::{Store, StoreError};

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
    #[error("the noise could not be drawn: {0}")]
    Noise(String),
    #[error(transparent)]
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
    /// Default and floor: the manifest's `min_cohort`.
    pub min_cohort: Option<u32>,
    pub epsilon: f64,
    pub reward: Money,
}

/// Opens a study after checking the plugin and ε.
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
    let floor = manifest.output.min_cohort.unwrap_or(1).max(1);
    Ok(store.add_job(Job {
        id: 0,
        kind: JobKind::Study(StudySpec {
            description: new.description,
            min_cohort: new.min_cohort.unwrap_or(floor).max(floor),
            epsilon_micro: micro as u64,
            reward: new.reward,
            period: crate::job::current_period(),
        }),
        owner: new.owner,
        plugin_digest: new.plugin_digest,
        params: new.params,
        created_ms: now_ms(),
        status: JobStatus::Running,
        release: None,
    })?)
}

fn spec(job: &Job) -> Result<&StudySpec, StudyError> {
    match &job.kind {
        JobKind::Study(s) => Ok(s),
        JobKind::Campaign(_) => Err(StudyError::NotAStudyJob(job.id)),
    }
}

/// Runs every consenting member with budget left (the others are recorded as over budget),
/// then combines and releases. Resumes an interrupted study.
pub async fn run(runner: &Arc<Runner>, job: u64, progress: &Progress) -> Result<Job, StudyError> {
    let store = runner.store().clone();
    let job = store.job(job)?;
    let s = spec(&job)?.clone();
    if job.status != JobStatus::Running {
        return Ok(job);
    }
    let budget = store.policy()?.epsilon_per_month_micro;
    let mut eligible = Vec::new();
    let mut over = Vec::new();
    for t in crate::campaign::targets(store.as_ref(), &job.plugin_digest)? {
        let spent = store.budget_spent(t.person, &s.period)?;
        if spent.saturating_add(s.epsilon_micro) <= budget {
            eligible.push(t);
        } else {
            over.push(Member {
                job: job.id,
                person: t.person,
                run: 0,
                outcome: MemberOutcome::OverBudget,
                answer: None,
            });
        }
    }
    let concurrency = store.policy()?.concurrency;
    crate::job::fan_out(runner, &job, eligible, over, concurrency, progress).await?;
    crate::ledger::bill_members(store.as_ref(), job.id)?;
    let job = release(store.as_ref(), job.id)?;
    crate::ledger::bill_job(store.as_ref(), job.id)?;
    Ok(job)
}

/// The share of a release's ε spent on the noisy member count.
pub const COUNT_SHARE: f64 = 0.1;

/// One member's largest effect on the vector of sums, in L1.
pub fn sensitivity(fields: &[AggregateField]) -> i64 {
    fields.iter().fold(0i64, |acc, f| {
        acc.saturating_add(f.lower.unsigned_abs().max(f.upper.unsigned_abs()) as i64)
    })
}

/// Adds discrete Laplace noise of scale `sensitivity / epsilon` to each value, with OpenDP;
/// checks with OpenDP's privacy map that the result is `epsilon`-DP for that sensitivity.
/// Returns the noisy values and the scale.
pub fn noisy(
    values: &[i64],
    sensitivity: i64,
    epsilon: f64,
) -> Result<(Vec<i64>, f64), StudyError> {
    use opendp::domains::{AtomDomain, VectorDomain};
    use opendp::measurements::make_laplace;
    use opendp::measures::MaxDivergence;
    use opendp::metrics::L1Distance;
    let err = |e: opendp::error::Error| StudyError::Noise(e.to_string());
    let scale = sensitivity as f64 / epsilon;
    let m = make_laplace::<_, _, MaxDivergence>(
        VectorDomain::new(AtomDomain::<i64>::default()),
        L1Distance::<i64>::default(),
        scale,
        None,
    )
    .map_err(err)?;
    let spent = m.map(&sensitivity).map_err(err)?;
    if spent > epsilon * (1.0 + 1e-9) {
        return Err(StudyError::Noise(format!(
            "the mechanism spends ε = {spent}, over the {epsilon} allowed"
        )));
    }
    Ok((m.invoke(&values.to_vec()).map_err(err)?, scale))
}

/// Combines the members' clipped aggregates and releases them with noise when the cohort is
/// large enough (charging each member's budget and recording their reward); otherwise
/// withholds everything and charges nothing.
pub fn release(store: &dyn Store, job: u64) -> Result<Job, StudyError> {
    let mut job = store.job(job)?;
    let s = spec(&job)?.clone();
    if job.status != JobStatus::Running {
        return Ok(job);
    }
    let manifest = store
        .plugin(&job.plugin_digest)?
        .manifest
        .ok_or_else(|| StudyError::NotAStudy(job.plugin_digest.clone()))?;
    let fields = &manifest.aggregate;
    let members = store.members(job.id)?;
    let mut sums = vec![0i64; fields.len()];
    let mut cohort = Vec::new();
    for m in &members {
        if m.outcome != MemberOutcome::Contributed {
            continue;
        }
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
        cohort.push(m.person);
    }
    let over = members
        .iter()
        .filter(|m| m.outcome == MemberOutcome::OverBudget)
        .count() as u32;
    let at_ms = now_ms();
    if (cohort.len() as u32) < s.min_cohort {
        job.status = JobStatus::Withheld {
            at_ms,
            reason: format!(
                "{} members contributed ({over} left out, their privacy budget spent), fewer than the minimum cohort of {}",
                cohort.len(),
                s.min_cohort
            ),
        };
        return Ok(store.close_job(&job, Vec::new(), &[], &s.period)?);
    }
    let sensitivity = sensitivity(fields);
    let epsilon = s.epsilon_micro as f64 / 1e6;
    // Sequential composition: a tenth of ε for the count (sensitivity 1), the rest for the sums.
    let (count, _) = noisy(&[cohort.len() as i64], 1, epsilon * COUNT_SHARE)?;
    let (out, scale) = noisy(&sums, sensitivity, epsilon * (1.0 - COUNT_SHARE))?;
    job.release = Some(Release {
        values: fields
            .iter()
            .zip(out)
            // Post-processing (which DP allows): a sum of non-negative values is not shown
            // below zero.
            .map(|(f, v)| (f.name.clone(), if f.lower >= 0 { v.max(0) } else { v }))
            .collect(),
        cohort: count[0].max(0) as u32,
        excluded_for_budget: over,
        epsilon_micro: s.epsilon_micro,
        scale,
        sensitivity,
    });
    job.status = JobStatus::Released { at_ms };
    let billing: Vec<BillingRecord> = cohort
        .iter()
        .filter(|_| s.reward.minor > 0)
        .map(|p| BillingRecord {
            id: 0,
            job: job.id,
            at_ms,
            from: job.owner.clone(),
            to: format!("person:{p}"),
            amount: s.reward.clone(),
            memo: format!("reward for contributing to study {}", job.id),
        })
        .collect();
    let spend: Vec<_> = cohort.iter().map(|p| (*p, s.epsilon_micro)).collect();
    Ok(store.close_job(&job, billing, &spend, &s.period)?)
}
