//! Runs: checks the grant, executes the plugin in the sandbox, records usage, outcome and audit,
//! and returns the output to its caller. Also the run scheduler.
//!
//! A run goes through three steps:
//! 1. **Admission**, before the plugin reads anything: the grant (live, for this code, given to
//!    the organisation asking, and not a campaign or study grant serving a single run for an
//!    organisation), the manifest, the limits (clamped to the operator's), the release time
//!    (start plus deadline) and the price (from the pricing and those limits). A refused run
//!    is recorded and audited like any other: the person sees every attempt on their data.
//! 2. **Start**: the admitted run is stored as running, with its id, and billed at its quoted
//!    price. Everything an organisation may see of a run is fixed here (see `view.rs`), so
//!    nothing it sees depends on what the plugin then does with the person's data.
//! 3. **Execution** in the sandbox, the contract check, and the finished record with its audit
//!    entry. [`Runner::run`] waits for it (the person's own runs); [`Runner::start`] returns
//!    after step 2 and executes in the background (an organisation's runs: how long it waits
//!    must not say how long the run took).
//!
//! May touch: the store, the sandbox and the ledger (billing a started run).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::consent::Grant;
use crate::contract;
use crate::meter::{FailureReason, RunRecord};
use crate::output::Scalar;
use crate::package::{Manifest, PluginUse};
use crate::sandbox::bindings::insitu::plugin::output::Param;
use crate::sandbox::{AsOf, Limits, PluginPre, RunInputs, RunState, Sandbox};
use crate::store::{PersonId, Store, StoreError};

/// What a run's release time adds to its deadline: the time to load the plugin before the
/// sandbox starts and to check and store its result after. The sandbox's own deadline is
/// counted from the run's admission and ends this long before the release time, so that a
/// result is stored before it may be shown, whatever the run did.
pub const RELEASE_MARGIN_MS: i64 = 1_000;

/// What to run, for whom, under which grant.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub person: PersonId,
    pub grant: u64,
    pub digest: String,
    pub params: Vec<(String, Scalar)>,
    /// Limits for this run; clamped to the operator's maxima. Default: the manifest's.
    pub limits: Option<Limits>,
    /// The organisation asking for the run, which must be the one the grant was given to;
    /// `None` for the person's own run (and for a campaign or study member's run, which the
    /// job's owner pays for). Decides who may see the run and who pays for it.
    pub requester: Option<String>,
    /// The day the run is as of (ms since the epoch, any time that day; only the day is
    /// kept): what `insitu:plugin/clock` gives the plugin. A campaign's or study's members
    /// carry the day the job opened; `None` is the day the run is requested (admitted).
    pub as_of: Option<i64>,
}

/// What a job already read for its member runs, so that each run does not read it again
/// ([`Runner::execute`]): the plugin's manifest (a plugin's record is keyed by its digest, the
/// hash of its content, and never changes), and the member's grant as read when its task was
/// claimed, moments before. Admission checks that grant as it would the one it reads; whether
/// it is still live is read again before any record is delivered (at every batch), so a
/// revocation after the claim stops the run at its first batch.
#[derive(Debug, Clone, Default)]
pub struct Known {
    pub manifest: Option<Arc<Manifest>>,
    pub grant: Option<Grant>,
}

/// What a run is for, which decides the contract its output is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// One run for one person; an aggregate-only output is withheld.
    Single,
    /// One member's run in a campaign or a study: a study's aggregate output is kept on the
    /// host, to be combined with the other members' ([`contract::check_member`]).
    Member,
}

/// A run could not even be recorded (the store failed), or the host lost the task doing it.
/// Plugin failures are not errors here: they are recorded runs with a failed outcome.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The task storing the run was cancelled (the runtime shutting down) or panicked.
    #[error("the host failed to record the run: {0}")]
    Host(String),
}

/// A run that passed admission: its record (running, with limits, release time and price),
/// and what executing it needs.
struct Admitted {
    record: RunRecord,
    pre: PluginPre<RunState>,
    manifest: Manifest,
    grant: Grant,
    limits: Limits,
    params: Vec<Param>,
    as_of: AsOf,
}

/// Executes runs against one store and one sandbox. Cheap to clone (its parts are shared).
///
/// The blocking steps of a run (admission, which may compile the plugin on a cache miss, and
/// the durable commits that begin and finish it) run on the blocking pool
/// ([`Runner::blocking`]), never on an async worker; only the plugin's execution, which yields
/// to the executor every million units of fuel, runs on the workers.
#[derive(Clone)]
pub struct Runner {
    store: Arc<dyn Store>,
    sandbox: Arc<Sandbox>,
    /// Runs started in the background ([`Runner::start`]) executing at once: twice the
    /// cores, so that an organisation starting many runs cannot take the whole host.
    background: Arc<tokio::sync::Semaphore>,
    /// This node's name in jobs' work queues (who holds a lease): the process id and the time
    /// the runner was made, unique among the nodes of a store.
    node: Arc<str>,
}

impl Runner {
    pub fn new(store: Arc<dyn Store>, sandbox: Arc<Sandbox>) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Runner {
            store,
            sandbox,
            background: Arc::new(tokio::sync::Semaphore::new(2 * cores)),
            node: format!("node-{}-{since:x}", std::process::id()).into(),
        }
    }

    /// This node's name in jobs' work queues.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Runs `f` with this runner on the blocking pool: durable commits and compiles hold a
    /// thread for milliseconds to seconds, which an async worker must not spend.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Runner) -> Result<T, RunError> + Send + 'static,
    ) -> Result<T, RunError> {
        let me = self.clone();
        match tokio::task::spawn_blocking(move || f(&me)).await {
            Ok(r) => r,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => Err(RunError::Host(e.to_string())),
        }
    }

    /// Admission on the blocking pool; with `store`, the refused run's record is stored and
    /// an admitted run is begun (stored as running, billed) there too. `Err` is the refused
    /// run's record.
    async fn admit_on_pool(
        &self,
        req: RunRequest,
        purpose: Purpose,
        store: bool,
        known: Known,
    ) -> Result<Result<Admitted, RunRecord>, RunError> {
        self.blocking(move |r| match r.admit(req, purpose, known)? {
            Err(refused) if store => Ok(Err(r.store.record_run(refused)?)),
            Ok(a) if store => Ok(Ok(r.begin(a)?)),
            admitted_or_refused => Ok(admitted_or_refused),
        })
        .await
    }

    pub fn sandbox(&self) -> &Arc<Sandbox> {
        &self.sandbox
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Runs once and records the run. Returns the stored record, whose `outcome` says whether
    /// the plugin succeeded and, if not, why.
    pub async fn run(&self, req: RunRequest) -> Result<RunRecord, RunError> {
        match self
            .admit_on_pool(req, Purpose::Single, true, Known::default())
            .await?
        {
            Err(refused) => Ok(refused),
            Ok(a) => {
                let done = self.exec(a, Purpose::Single).await;
                self.blocking(move |r| Ok(r.store.finish_run(done)?)).await
            }
        }
    }

    /// Starts a run and returns as soon as it is admitted and stored as running (or refused),
    /// before the plugin reads anything; the run executes in the background and its record is
    /// finished in the store. What the caller gets back is therefore the same whatever the
    /// person's data is and however long the run takes.
    /// `finished` is called with the final record once it is stored.
    pub async fn start(
        &self,
        req: RunRequest,
        finished: impl FnOnce(&RunRecord) + Send + 'static,
    ) -> Result<RunRecord, RunError> {
        match self
            .admit_on_pool(req, Purpose::Single, true, Known::default())
            .await?
        {
            Err(refused) => Ok(refused),
            Ok(a) => {
                let started = a.record.clone();
                let me = self.clone();
                tokio::spawn(async move {
                    // At most `background` runs execute at once; the others wait here (their
                    // deadline counts from admission, so a long wait fails the run, for the
                    // person to see, never later than its release time).
                    let _permit = me.background.acquire().await;
                    let fallback = a.record.clone();
                    let inner = me.clone();
                    // Its own task, so that a host panic fails this run instead of leaving it
                    // running for ever.
                    let done =
                        match tokio::spawn(async move { inner.exec(a, Purpose::Single).await })
                            .await
                        {
                            Ok(done) => done,
                            Err(e) => fallback.fail(
                                FailureReason::Host,
                                format!("the host failed this run: {e}"),
                            ),
                        };
                    let id = done.id;
                    match me.blocking(move |r| Ok(r.store.finish_run(done)?)).await {
                        Ok(r) => finished(&r),
                        Err(e) => {
                            tracing::error!(run = id, "the finished run could not be stored: {e}")
                        }
                    }
                });
                Ok(started)
            }
        }
    }

    /// Runs once and returns the run's record without storing it: a campaign or a study
    /// stores its members' runs in batches, each with the member's result, in one transaction
    /// ([`Store::record_members`]). The output is checked against the contract for `purpose`.
    /// What the caller already read is in `known`.
    pub async fn execute(
        &self,
        req: RunRequest,
        purpose: Purpose,
        known: Known,
    ) -> Result<RunRecord, RunError> {
        match self.admit_on_pool(req, purpose, false, known).await? {
            Err(refused) => Ok(refused),
            Ok(a) => Ok(self.exec(a, purpose).await),
        }
    }

    /// Marks the runs still stored as running that no process is running any more failed,
    /// with `host`. On an exclusive store (`RunStore::exclusive`), call at start-up, before
    /// any run starts: every such run was left by an earlier process. On a store shared by
    /// several nodes, a run is failed only once its deadline and [`INTERRUPTED_AFTER`] have
    /// passed (no node can still be running it); call it from time to time. Returns how many.
    pub fn fail_interrupted(&self) -> Result<usize, RunError> {
        let exclusive = self.store.exclusive();
        let now = self.store.now_ms();
        let max = self.sandbox.max_limits().deadline;
        let mut n = 0;
        // The runs stored as running only, from their index: on a shared store every node
        // sweeps from time to time.
        for r in self.store.running_runs()? {
            let deadline = r.limits.map_or(max, |l| l.deadline).min(max);
            let over = r.started_ms.saturating_add(
                i64::try_from((deadline + INTERRUPTED_AFTER).as_millis()).unwrap_or(i64::MAX),
            );
            if r.outcome == crate::meter::Outcome::Running && (exclusive || now > over) {
                self.store.finish_run(r.fail(
                    FailureReason::Host,
                    "the host stopped during the run".into(),
                ))?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Stores an admitted run as running, which gives it its id, and bills its quoted price.
    fn begin(&self, mut a: Admitted) -> Result<Admitted, RunError> {
        a.record = self.store.begin_run(a.record)?;
        // Billed at the start, at the quoted price: neither the amount nor the moment of the
        // posting depends on what the run then does. What a crash between the two leaves
        // unbilled, `ledger::reconcile` posts later (a key is never posted twice).
        if let Err(e) = crate::ledger::bill_run(self.store.as_ref(), &a.record) {
            tracing::warn!(run = a.record.id, "run not billed yet: {e}");
        }
        Ok(a)
    }

    /// Admission: everything decided before the plugin reads any record. `Err` is the refused
    /// run's record.
    fn admit(
        &self,
        req: RunRequest,
        purpose: Purpose,
        known: Known,
    ) -> Result<Result<Admitted, RunRecord>, RunError> {
        let started_ms = self.store.now_ms();
        let mut record = RunRecord::new(req.person, req.grant, &req.digest, started_ms);
        record.requester = req.requester.clone();
        record.params = req.params.clone();
        let read = match known.grant {
            Some(g) if g.id == req.grant => Ok(g),
            _ => self.store.grant(req.grant),
        };
        let grant = match read {
            Ok(g) => g,
            Err(StoreError::NoGrant(id)) => {
                return Ok(Err(
                    record.fail(FailureReason::Grant, format!("no grant {id}"))
                ));
            }
            Err(e) => return Err(e.into()),
        };
        if let Err(e) = grant.check(req.person, &req.digest, started_ms) {
            return Ok(Err(record.fail(FailureReason::Grant, e.to_string())));
        }
        if let Some(org) = &req.requester {
            let given_to = grant.origin.as_ref().map(|o| o.requester.as_str());
            if given_to != Some(org.as_str()) {
                return Ok(Err(record.fail(
                    FailureReason::Grant,
                    format!("grant {} was not given to {org}", grant.id),
                )));
            }
        }
        let pre = match self.sandbox.load(&req.digest) {
            Ok(p) => p,
            Err(e) => {
                return Ok(Err(
                    record.fail(FailureReason::Instantiate, format!("{e:#}"))
                ));
            }
        };
        let manifest = match known.manifest {
            Some(m) => Some(Arc::unwrap_or_clone(m)),
            None => self.store.plugin(&req.digest)?.manifest,
        };
        let Some(manifest) = manifest else {
            return Ok(Err(record.fail(
                FailureReason::Contract,
                "the plugin has no manifest, so no output contract".into(),
            )));
        };
        if purpose == Purpose::Single && req.requester.is_some() && manifest.usage != PluginUse::Run
        {
            return Ok(Err(record.fail(
                FailureReason::Grant,
                format!(
                    "grant {} is for a {} plugin: it serves only the person's own runs and \
                     the {1}s they take part in, never a single run for an organisation",
                    grant.id,
                    if manifest.usage == PluginUse::Study {
                        "study"
                    } else {
                        "campaign"
                    }
                ),
            )));
        }
        let mut limits = req
            .limits
            .unwrap_or_else(|| contract::limits_from(&manifest));
        limits.output_bytes = limits.output_bytes.min(manifest.output.max_bytes);
        let limits = self.sandbox.clamp(limits);
        let price = match crate::ledger::quote(self.store.as_ref(), &manifest.pricing, &limits) {
            Ok(p) => p,
            Err(e) => {
                return Ok(Err(record.fail(
                    FailureReason::Contract,
                    format!("the plugin's price cannot be computed: {e}"),
                )));
            }
        };
        record.audience = Some(manifest.output.audience);
        record.limits = Some(limits);
        record.release_ms = started_ms
            .saturating_add(i64::try_from(limits.deadline.as_millis()).unwrap_or(i64::MAX))
            .saturating_add(RELEASE_MARGIN_MS);
        record.price = Some(price);
        let params = req
            .params
            .into_iter()
            .map(|(name, v)| Param {
                name,
                value: v.into(),
            })
            .collect();
        Ok(Ok(Admitted {
            record,
            pre,
            manifest,
            grant,
            limits,
            params,
            as_of: AsOf::day_of(req.as_of.unwrap_or(started_ms)),
        }))
    }

    /// Executes an admitted run and checks its output; a storage failure while reading fails
    /// the run with `host`, never the caller.
    async fn exec(&self, a: Admitted, purpose: Purpose) -> RunRecord {
        let Admitted {
            mut record,
            pre,
            manifest,
            grant,
            limits,
            params,
            as_of,
        } = a;
        let data =
            match crate::sandbox::data_access(self.store.clone(), record.person, grant, &limits) {
                Ok(d) => d,
                Err(e) => return record.fail(FailureReason::Host, e.to_string()),
            };
        // What is left of the deadline since admission, so that the run ends before its
        // release time however long loading and storing took.
        let mut limits = limits;
        let left = record.release_ms - RELEASE_MARGIN_MS - self.store.now_ms();
        limits.deadline = limits
            .deadline
            .min(std::time::Duration::from_millis(left.max(0) as u64));
        let inputs = RunInputs::from(data).with(as_of);
        let exec = self.sandbox.execute(&pre, inputs, limits, &params).await;
        record.usage = exec.usage;
        record.read = exec.read;
        record.log = exec.log;
        let checked = exec.outcome.map(|out| match purpose {
            Purpose::Single => contract::check(&manifest.output, out),
            Purpose::Member => contract::check_member(&manifest, out),
        });
        let checked = checked.map(|c| {
            c.and_then(|out| {
                record.evidence = contract::resolve_evidence(&out, &exec.delivered)?;
                Ok(out)
            })
        });
        match checked {
            Ok(Ok(out)) => {
                record.outcome = crate::meter::Outcome::Succeeded;
                record.output = Some(out);
                record
            }
            Ok(Err(message)) => record.fail(FailureReason::Contract, message),
            Err((reason, message)) => record.fail(reason, message),
        }
    }
}

/// How long after its deadline a run stored as running on a shared store is taken for lost
/// (its node died) and failed by [`Runner::fail_interrupted`].
pub const INTERRUPTED_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Where runs are queued and executed. The embedded default runs them in this process with
/// bounded concurrency; a large operator can put a durable queue behind the same trait.
pub trait Scheduler: Send + Sync {
    fn submit(
        &self,
        req: RunRequest,
    ) -> Pin<Box<dyn Future<Output = Result<RunRecord, RunError>> + Send + '_>>;
}

/// Runs in this process, at most `concurrency` at once.
pub struct LocalScheduler {
    runner: Arc<Runner>,
    permits: tokio::sync::Semaphore,
}

impl LocalScheduler {
    pub fn new(runner: Arc<Runner>, concurrency: usize) -> Self {
        LocalScheduler {
            runner,
            permits: tokio::sync::Semaphore::new(concurrency.max(1)),
        }
    }
}

impl Scheduler for LocalScheduler {
    fn submit(
        &self,
        req: RunRequest,
    ) -> Pin<Box<dyn Future<Output = Result<RunRecord, RunError>> + Send + '_>> {
        Box::pin(async move {
            let _permit = self
                .permits
                .acquire()
                .await
                .map_err(|_| RunError::Host("the scheduler is closed".into()))?;
            self.runner.run(req).await
        })
    }
}
