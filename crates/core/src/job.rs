//! Jobs: a campaign or a study is the same plugin run once in each consenting member's store,
//! with the members' outputs combined on the host. This module holds what both share: the job
//! and its members' results, the operator's policy, the billing records both leave for the
//! ledger, the targets, the privacy-budget reservation, the release time, and the fan-out
//! that runs the members.
//!
//! Noninterference rules (DESIGN.md invariant 2):
//! - the targets are fixed by the grants live when the job opened ([`targets`]), and the
//!   release time from them, the concurrency and the member deadline ([`release_time`]);
//!   before it, the job's organisation sees that it exists, when it opened, its declared
//!   parameters and its release time ([`Job::released_at`], [`Job::state_shown`]);
//! - each member's ε is reserved before any member runs, in one store transaction
//!   ([`reserve`]); the reservation is the charge.
//!
//! Fan-out rules:
//! - the members to run are a work queue in the store, made once per job with their run ids
//!   ([`Store::enqueue_tasks`]); any node claims tasks under a lease it renews
//!   ([`Store::claim_tasks`], [`LEASE`]), at most `concurrency` in flight per node;
//! - each claim is audited in the member's history before the run reads anything, so a run
//!   repeated after a lost lease (a node killed, or too slow) is audited as a read each time;
//! - each member's run and result are committed together, in batches, one transaction per
//!   batch ([`Store::record_members`]); a member already committed is never run again and
//!   never recorded twice, so a job interrupted at any moment (even `kill -9`) resumes where
//!   its last batch ended; the ε reserved at the start and the job's billing (from the
//!   committed runs) are not charged again;
//! - progress is counted in [`Progress`], which the CLI's bar and the API's status read.
//!
//! May touch: the store and the runner.

pub use insitu_model::job::*;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::consent::Grant;
use crate::meter::{FailureReason, Outcome, RunRecord};
use crate::output::PluginOutput;
use crate::package::Manifest;
use crate::run::{Known, Purpose, RunError, RunRequest, Runner};
use crate::sandbox::Limits;
use crate::store::{PersonId, Store, StoreError};

/// Members committed per transaction: large enough that the durable commit is amortised,
/// small enough that a crash loses little work.
const COMMIT_BATCH: usize = 256;
/// A batch is committed at the latest this long after its first result.
const COMMIT_EVERY: Duration = Duration::from_millis(250);

/// What a member run may spend outside its deadline (grant check, loading, instantiation,
/// handing its result to the committer), per wave of `concurrency` runs, in milliseconds.
pub const WAVE_SLACK_MS: u64 = 250;

/// A job's release time, fixed when it opens:
///
/// `opened + ⌈members / concurrency⌉ × (deadline + WAVE_SLACK_MS) + release_margin`
///
/// where `members` are the targets when it opened, `concurrency` and `release_margin` the
/// operator's policy, and `deadline` each member run's deadline ([`member_limits`]). The
/// fan-out keeps `concurrency` runs in flight and every run ends by its deadline, whatever the
/// member's data, so every member has a result before this time; the margin covers compiling
/// the plugin, the last batch's commit and closing the job. Only an overloaded or restarted
/// host can overrun it; the results are then shown when the job closes, a time that depends
/// on the host, not on any member's data.
pub fn release_time(opened_ms: i64, members: usize, policy: &Policy, deadline_ms: u64) -> i64 {
    let waves = members.div_ceil(policy.concurrency.max(1)) as u64;
    let span = waves
        .saturating_mul(deadline_ms.saturating_add(WAVE_SLACK_MS))
        .saturating_add(policy.release_margin_ms);
    opened_ms.saturating_add(i64::try_from(span).unwrap_or(i64::MAX))
}

/// The limits of each member run of a job with `manifest`'s plugin: the manifest's, with the
/// deadline lowered to the operator's `member_deadline_ms`.
pub fn member_limits(manifest: &Manifest, policy: &Policy) -> Limits {
    let mut limits = crate::contract::limits_from(manifest);
    limits.deadline = limits
        .deadline
        .min(Duration::from_millis(policy.member_deadline_ms.max(1)));
    limits
}

/// The members a job opened at `opened_ms` may run: one live grant naming `digest`, created
/// by then, and given to one of `requesters` (a campaign's initiator or its association, a
/// study's owner), per person (the latest). A grant given to another organisation, or one a
/// person made for their own runs, is never used by a job. Grants created later wait for the
/// next job, so that the release time, computed from the targets at opening, bounds the
/// fan-out.
pub fn targets(
    store: &dyn Store,
    digest: &str,
    opened_ms: i64,
    requesters: &[&str],
) -> Result<Vec<Target>, StoreError> {
    let now = store.now_ms();
    let mut by_person: std::collections::BTreeMap<PersonId, u64> = Default::default();
    // The plugin's unrevoked grants, from the index on the digest; who they were given to,
    // when, and whether they are live now, are checked here.
    for g in store.unrevoked_grants(digest)? {
        let given_to = g.origin.as_ref().map(|o| o.requester.as_str());
        if g.plugin_digest == digest
            && given_to.is_some_and(|r| requesters.contains(&r))
            && g.created_ms <= opened_ms
            && g.check_live(now).is_ok()
        {
            let e = by_person.entry(g.person).or_insert(g.id);
            *e = (*e).max(g.id);
        }
    }
    Ok(by_person
        .into_iter()
        .map(|(person, grant)| Target { person, grant })
        .collect())
}

/// Reserves `epsilon_micro` of each target's privacy budget for `period`, before any of them
/// runs, in one store transaction ([`Store::reserve_budget`]), so that concurrent jobs can
/// never together spend more than the monthly budget. The reservation is the charge: it is
/// not refunded whatever the job releases. Returns the targets to run and, to be recorded
/// without a run, the members whose budget could not cover the job.
pub fn reserve(
    store: &dyn Store,
    job: &Job,
    targets: Vec<Target>,
    epsilon_micro: u64,
    period: &str,
) -> Result<(Vec<Target>, Vec<Member>), StoreError> {
    let budget = store.policy()?.epsilon_per_month_micro;
    let people: Vec<PersonId> = targets.iter().map(|t| t.person).collect();
    let granted = store.reserve_budget(job.id, &people, period, epsilon_micro, budget)?;
    let (mut run, mut over) = (Vec::new(), Vec::new());
    for (t, ok) in targets.into_iter().zip(granted) {
        if ok {
            run.push(t);
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
    Ok((run, over))
}

/// Runs `job`'s members: its targets at opening, each with `epsilon_micro` of their budget
/// for `period` reserved first ([`reserve`]), through [`fan_out`] at the operator's
/// concurrency. Resumes an interrupted job.
pub async fn run_members(
    runner: &Arc<Runner>,
    job: &Job,
    epsilon_micro: u64,
    period: &str,
    progress: &Progress,
) -> Result<(), StoreError> {
    let store = runner.store().clone();
    let targets = targets(
        store.as_ref(),
        &job.plugin_digest,
        job.created_ms,
        &job.requesters(),
    )?;
    let (run, over) = reserve(store.as_ref(), job, targets, epsilon_micro, period)?;
    let concurrency = store.policy()?.concurrency;
    fan_out(runner, job, run, over, concurrency, progress).await
}

/// How a member's run ended, for the job: decided from the checked output.
pub fn classify(run: &RunRecord) -> MemberOutcome {
    match (&run.outcome, &run.output) {
        (Outcome::Failed { reason, .. }, _) => MemberOutcome::Failed { reason: *reason },
        (Outcome::Succeeded, Some(PluginOutput::Findings { findings, .. })) => {
            if findings.is_empty() {
                MemberOutcome::NoMatch
            } else {
                MemberOutcome::Matched {
                    findings: findings.len() as u32,
                }
            }
        }
        (Outcome::Succeeded, Some(PluginOutput::Metrics { .. })) => MemberOutcome::Contributed,
        (Outcome::Succeeded, _) => MemberOutcome::NoMatch,
        // Not reached: members are classified once their run ended.
        (Outcome::Running, _) => MemberOutcome::Failed {
            reason: FailureReason::Host,
        },
    }
}

/// Runs `job`'s plugin for each target without a committed result, committing runs and
/// results in batches, through the job's work queue in the store: the first node here makes
/// the queue (run ids reserved in target order), and this node and any other claim its tasks,
/// `concurrency` at once each, under leases they renew while the runs go on
/// ([`Store::claim_tasks`]). Returns when every task has a result, whoever committed it.
/// Members listed in `skip` (over budget) are committed as such without a run. Each run's
/// deadline is the operator's `member_deadline_ms` at most ([`member_limits`]).
pub async fn fan_out(
    runner: &Arc<Runner>,
    job: &Job,
    targets: Vec<Target>,
    skip: Vec<Member>,
    concurrency: usize,
    progress: &Progress,
) -> Result<(), StoreError> {
    let store = runner.store().clone();
    let done: HashSet<PersonId> = store
        .members(job.id)?
        .into_iter()
        .map(|m| m.person)
        .collect();
    let todo: Vec<Target> = targets
        .into_iter()
        .filter(|t| !done.contains(&t.person))
        .collect();
    let skip: Vec<Member> = skip
        .into_iter()
        .filter(|m| !done.contains(&m.person))
        .collect();
    if !skip.is_empty() {
        store.record_members(job.id, skip.into_iter().map(|m| (None, m)).collect())?;
    }
    if !todo.is_empty() {
        // Member runs get their ids now, in target order, not when their batch commits: ids
        // are shared with every other run, so ids given in the order runs finished would let
        // an organisation that starts runs of its own count how many members finished when.
        // A queue made earlier (a resume, another node) is kept, with its ids.
        let first_id = store.reserve_run_ids(todo.len() as u64)?;
        let tasks: Vec<Task> = todo
            .iter()
            .zip(first_id..)
            .map(|(t, run)| Task {
                person: t.person,
                grant: t.grant,
                run,
            })
            .collect();
        store.enqueue_tasks(job.id, &tasks)?;
    }
    let recorded = store.members(job.id)?.len() as u64;
    progress
        .total
        .store(recorded + store.open_tasks(job.id)?, Ordering::Relaxed);
    progress.done.store(recorded, Ordering::Relaxed);
    work(runner, job, concurrency, progress).await
}

/// How long a claimed task stays this node's without a renewal; renewed every third of it.
/// A node killed mid-job loses its tasks to the others after at most this long.
pub const LEASE: Duration = Duration::from_secs(6);
/// The most tasks a node claims at once (sixteen per run in flight, up to this, and an eighth
/// of the job's open tasks at most, a wave of runs at least): one durable
/// commit and audit batch for them all, which takes longer than one member's run; the next
/// chunk is claimed while this one runs. A node that dies holds them until their lease ends.
const CLAIM_CHUNK: usize = 64;
/// A chunk's claims and their members' grants, as a claim ahead of time gives them.
type ClaimRead = Result<(Vec<Claim>, Vec<Grant>), StoreError>;
/// How many chunks a node claims ahead of the one it runs.
const CLAIMS_AHEAD: usize = 2;
/// How often a node with nothing to claim looks again while other nodes hold the rest.
const POLL: Duration = Duration::from_millis(200);

/// This node's share of `job`'s queue: claims tasks while it has fewer than `concurrency`
/// runs in flight, runs them, commits their results in batches, and renews its leases until
/// they are committed. Returns when the queue is empty.
async fn work(
    runner: &Arc<Runner>,
    job: &Job,
    concurrency: usize,
    progress: &Progress,
) -> Result<(), StoreError> {
    let store = runner.store().clone();
    let node = runner.node().to_string();
    // Read once for every member run (a plugin's record never changes).
    let manifest = store.plugin(&job.plugin_digest)?.manifest.map(Arc::new);
    let limits = match &manifest {
        Some(m) => Some(member_limits(m, &store.policy()?)),
        None => None, // the run fails on the missing contract
    };
    // The plugin is compiled (or read from the compiled cache) before the first claim: a
    // member run's deadline counts from its admission, which a cold cache's compile (seconds)
    // would spend, and this node holds no lease while it compiles. A plugin that cannot be
    // loaded is left to the runs, which record why.
    let (r, digest) = (runner.clone(), job.plugin_digest.clone());
    if let Ok(Err(e)) = tokio::task::spawn_blocking(move || r.sandbox().load(&digest)).await {
        tracing::warn!(job = job.id, "the plugin does not load: {e:#}");
    }
    let lease_ms = i64::try_from(LEASE.as_millis()).unwrap_or(i64::MAX);
    // The runs this node holds a lease on, from claim to commit.
    let held: Arc<std::sync::Mutex<HashSet<u64>>> = Default::default();
    let lock = |h: &std::sync::Mutex<HashSet<u64>>| {
        h.lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .copied()
            .collect::<Vec<u64>>()
    };

    let (tx, mut rx) = tokio::sync::mpsc::channel::<RunRecord>(COMMIT_BATCH * 2);
    let committer = {
        let store = store.clone();
        let held = held.clone();
        let job_id = job.id;
        async move {
            let mut batch: Vec<RunRecord> = Vec::with_capacity(COMMIT_BATCH);
            let mut first: Option<Instant> = None;
            loop {
                let wait = first.map_or(COMMIT_EVERY, |f| COMMIT_EVERY.saturating_sub(f.elapsed()));
                let next = tokio::time::timeout(wait, rx.recv()).await;
                let closed = matches!(next, Ok(None));
                if let Ok(Some(run)) = next {
                    first.get_or_insert_with(Instant::now);
                    batch.push(run);
                }
                let due = first.is_some_and(|f| f.elapsed() >= COMMIT_EVERY);
                if !batch.is_empty() && (batch.len() >= COMMIT_BATCH || due || closed) {
                    let failed = batch
                        .iter()
                        .filter(|r| matches!(r.outcome, Outcome::Failed { .. }))
                        .count() as u64;
                    let runs: Vec<u64> = batch.iter().map(|r| r.id).collect();
                    let members = std::mem::take(&mut batch)
                        .into_iter()
                        .map(|run| {
                            let m = Member {
                                job: job_id,
                                person: run.person,
                                run: 0,
                                outcome: classify(&run),
                                answer: None,
                            };
                            (Some(run), m)
                        })
                        .collect();
                    // Blocking: a durable commit. Runs keep going on the other workers. A
                    // member another node committed first (its lease had run out here) is
                    // left as it was.
                    let s = store.clone();
                    let added =
                        tokio::task::spawn_blocking(move || s.record_members(job_id, members))
                            .await
                            .map_err(|e| StoreError::Db(format!("commit task failed: {e}")))??;
                    {
                        let mut h = held.lock().unwrap_or_else(|p| p.into_inner());
                        for r in &runs {
                            h.remove(r);
                        }
                    }
                    let done = progress.done.fetch_add(added, Ordering::Relaxed) + added;
                    progress.failed.fetch_add(failed, Ordering::Relaxed);
                    tracing::debug!(job = job_id, done, "members committed");
                    first = None;
                }
                if closed {
                    return Ok::<(), StoreError>(());
                }
            }
        }
    };

    // Renews this node's leases while its runs go on; stops with the producer.
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let heartbeat = {
        let store = store.clone();
        let held = held.clone();
        let node = node.clone();
        let job_id = job.id;
        async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(LEASE / 3) => {}
                    _ = stopped.changed() => return,
                }
                let runs = lock(&held);
                if runs.is_empty() {
                    continue;
                }
                let s = store.clone();
                let node = node.clone();
                let until = s.now_ms().saturating_add(lease_ms);
                let renewed =
                    tokio::task::spawn_blocking(move || s.renew_tasks(job_id, &node, &runs, until))
                        .await;
                if !matches!(renewed, Ok(Ok(_))) {
                    tracing::warn!(job = job_id, "leases not renewed: {renewed:?}");
                }
            }
        }
    };

    // Each run is its own task, so that runs use every core.
    let producer = async move {
        let mut running = tokio::task::JoinSet::new();
        let mut tasks = std::collections::HashMap::new();
        // Tasks claimed and not started yet: claims go by chunks, one durable commit for
        // several members rather than one each.
        let mut claimed: std::collections::VecDeque<Claim> = Default::default();
        // The claimed members' grants, read with their claim chunk (one call for the chunk).
        let mut grants: std::collections::HashMap<u64, Grant> = Default::default();
        // At most an eighth of what is open (and at least a wave of runs), so that a small job is
        // shared between the nodes that work it.
        let open = progress
            .total
            .load(Ordering::Relaxed)
            .saturating_sub(progress.done.load(Ordering::Relaxed)) as usize;
        let chunk = (16 * concurrency.max(1))
            .min(CLAIM_CHUNK)
            .min((open / 8).max(concurrency.max(1)));
        // Claims a chunk and reads its grants, on the blocking pool; the tasks are this node's
        // to renew from the claim's commit on, whenever the producer takes them.
        let claim = || {
            let (s, n, held, job_id) = (store.clone(), node.clone(), held.clone(), job.id);
            tokio::task::spawn_blocking(move || {
                let until = s.now_ms().saturating_add(lease_ms);
                let got = s.claim_tasks(job_id, &n, chunk, until)?;
                held.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend(got.iter().map(|c| c.task.run));
                let ids: Vec<u64> = got.iter().map(|c| c.task.grant).collect();
                let read = if ids.is_empty() {
                    Vec::new()
                } else {
                    s.grants_by_id(&ids)?
                };
                Ok::<_, StoreError>((got, read))
            })
        };
        // The next chunks' claims, started while the last chunk's runs go on, so that runs do
        // not wait for a claim's durable commit (several at once: a claim can take longer
        // than a chunk's runs).
        let mut ahead: std::collections::VecDeque<tokio::task::JoinHandle<ClaimRead>> =
            Default::default();
        // Only when a chunk lasts several waves of runs: with as many runs in flight as a
        // chunk holds, claims follow each other anyway, and claims ahead would only hold tasks
        // unstarted (under leases that must be renewed) for longer.
        let claims_ahead = if concurrency.max(1) < chunk {
            CLAIMS_AHEAD
        } else {
            0
        };
        loop {
            if running.len() < concurrency.max(1) && !tx.is_closed() {
                if claimed.is_empty() {
                    let (got, read) = ahead
                        .pop_front()
                        .unwrap_or_else(claim)
                        .await
                        .map_err(|e| StoreError::Db(format!("claim task failed: {e}")))??;
                    grants.extend(read.into_iter().map(|g| (g.id, g)));
                    let more = got.len() == chunk;
                    claimed.extend(got);
                    while more && ahead.len() < claims_ahead {
                        ahead.push_back(claim());
                    }
                }
                let want = concurrency.max(1) - running.len();
                let claims: Vec<Claim> = claimed.drain(..want.min(claimed.len())).collect();
                if claims.is_empty() && running.is_empty() {
                    // Nothing free: finished, or the rest is under other nodes' leases (or in
                    // this node's commit batch).
                    let open = store.open_tasks(job.id)?;
                    if open == 0 {
                        let total = progress.total.load(Ordering::Relaxed);
                        progress.done.store(total, Ordering::Relaxed);
                        break;
                    }
                    let total = progress.total.load(Ordering::Relaxed);
                    progress
                        .done
                        .fetch_max(total.saturating_sub(open), Ordering::Relaxed);
                    tokio::time::sleep(POLL).await;
                    continue;
                }
                for c in claims {
                    let t = Target {
                        person: c.task.person,
                        grant: c.task.grant,
                    };
                    let runner = runner.clone();
                    let req = RunRequest {
                        person: t.person,
                        grant: t.grant,
                        digest: job.plugin_digest.clone(),
                        params: job.params.clone(),
                        limits,
                        requester: None,
                        // Every member's run is as of the day the job opened.
                        as_of: Some(job.created_ms),
                    };
                    let (job_id, run_id) = (job.id, c.task.run);
                    // A grant missing from the read (deleted since) is read, and refused, at
                    // admission.
                    let known = Known {
                        manifest: manifest.clone(),
                        grant: grants.remove(&c.task.grant),
                    };
                    let handle = running.spawn(async move {
                        let mut run = runner.execute(req, Purpose::Member, known).await?;
                        run.job = Some(job_id);
                        run.id = run_id;
                        Ok::<RunRecord, RunError>(run)
                    });
                    tasks.insert(handle.id(), (t, job.plugin_digest.clone(), run_id));
                }
            }
            let Some(joined) = running.join_next_with_id().await else {
                continue;
            };
            progress.ran.fetch_add(1, Ordering::Relaxed);
            let (id, failure) = match joined {
                Ok((id, Ok(run))) => {
                    tasks.remove(&id);
                    (id, Ok(run))
                }
                Ok((_, Err(RunError::Store(e)))) => return Err(e),
                Ok((id, Err(RunError::Host(m)))) => (id, Err(m)),
                Err(e) => (e.id(), Err(e.to_string())),
            };
            // A host failure in one member's run (a panic, a lost task) fails that member,
            // recorded like any failed run, so that the job completes instead of stopping at
            // that member on every resume.
            let run = match failure {
                Ok(run) => run,
                Err(e) => {
                    let Some((t, digest, run_id)) = tasks.remove(&id) else {
                        return Err(StoreError::Db(format!("a member run failed: {e}")));
                    };
                    let mut r = failed_run(
                        t,
                        digest,
                        job.id,
                        format!("the host failed this run: {e}"),
                        store.now_ms(),
                    );
                    r.id = run_id;
                    r
                }
            };
            if tx.is_closed() || tx.send(run).await.is_err() {
                break; // the committer stopped on an error, which it returns
            }
        }
        Ok::<(), StoreError>(())
    };
    let producer = async move {
        let r = producer.await;
        let _ = stop.send(true);
        r
    };
    let (produced, committed, ()) = tokio::join!(producer, committer, heartbeat);
    committed?;
    produced
}

/// Closes a running `job` that its members' runs finished (`job` with its final status), as
/// [`Store::close_job`] does; when another node finished it first, its close stands and this
/// one's is dropped (the counts or release each node drew are never both shown).
pub fn finish(
    store: &dyn Store,
    job: &Job,
    billing: Vec<BillingRecord>,
    period: &str,
) -> Result<Job, StoreError> {
    match store.close_job(job, billing, &[], period) {
        Err(StoreError::JobClosed(id)) => {
            let stored = store.job(id)?;
            if stored.status == JobStatus::Running {
                return Err(StoreError::JobClosed(id));
            }
            Ok(stored)
        }
        other => other,
    }
}

/// The record of a member run the host could not complete.
fn failed_run(t: Target, digest: String, job: u64, message: String, now_ms: i64) -> RunRecord {
    let mut r = RunRecord::new(t.person, t.grant, &digest, now_ms);
    r.job = Some(job);
    r.fail(FailureReason::Host, message)
}

/// The calendar month of `now_ms`, `YYYY-MM`, UTC: the privacy budget period.
pub fn period_of(now_ms: i64) -> String {
    let date = crate::import::format_date(now_ms);
    date.get(..7).unwrap_or(&date).to_string()
}

/// A member to run: a person and the grant the run is under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub person: PersonId,
    pub grant: u64,
}

/// Live counters of a job's fan-out, shared with whoever shows progress.
#[derive(Debug, Default)]
pub struct Progress {
    pub total: AtomicU64,
    /// Members with a committed result (including those done before a resume).
    pub done: AtomicU64,
    pub failed: AtomicU64,
    /// Member runs this node ran (its share when several nodes work the job).
    pub ran: AtomicU64,
}

impl Progress {
    pub fn snapshot(&self) -> (u64, u64) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }
}
