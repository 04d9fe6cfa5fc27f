//! Runs: checks the grant, executes the plugin in the sandbox, records usage, outcome and audit
//! in one transaction, and returns the output to its caller. Also the run scheduler.
//!
//! A refused run (no grant, revoked, expired, other code) is recorded and audited like any
//! other: the person sees every attempt on their data.
//!
//! May touch: the store and the sandbox.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::consent::now_ms;
use crate::contract;
use crate::meter::{FailureReason, Outcome, RunRecord, Usage};
use crate::output::Scalar;
use crate::sandbox::bindings::insitu::plugin::output::Param;
use crate::sandbox::data::DataAccess;
use crate::sandbox::{Limits, Sandbox};
use crate::store::{PersonId, Store, StoreError};

/// What to run, for whom, under which grant.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub person: PersonId,
    pub grant: u64,
    pub digest: String,
    pub params: Vec<(String, Scalar)>,
    /// Limits for this run; clamped to the operator's maxima. Default: [`Limits::default`].
    pub limits: Option<Limits>,
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

/// A run could not even be recorded (the store failed). Plugin failures are not errors here:
/// they are recorded runs with a failed outcome.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Executes runs against one store and one sandbox.
pub struct Runner {
    store: Arc<dyn Store>,
    sandbox: Arc<Sandbox>,
}

impl Runner {
    pub fn new(store: Arc<dyn Store>, sandbox: Arc<Sandbox>) -> Self {
        Runner { store, sandbox }
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
        let record = self.execute(req, Purpose::Single).await?;
        let record = self.store.record_run(record)?;
        // Billed after the run is recorded; what a crash leaves unbilled, `ledger::reconcile`
        // posts later (a key is never posted twice).
        if let Err(e) = crate::ledger::bill_run(self.store.as_ref(), &record) {
            tracing::warn!(run = record.id, "run not billed yet: {e}");
        }
        Ok(record)
    }

    /// Runs once and returns the run's record without storing it: a campaign or a study
    /// stores its members' runs in batches, each with the member's result, in one transaction
    /// ([`Store::record_members`]). The output is checked against the contract for `purpose`.
    pub async fn execute(&self, req: RunRequest, purpose: Purpose) -> Result<RunRecord, RunError> {
        let started_ms = now_ms();
        let mut record = RunRecord {
            id: 0,
            person: req.person,
            grant: req.grant,
            plugin_digest: req.digest.clone(),
            started_ms,
            usage: Usage::default(),
            read: Vec::new(),
            outcome: Outcome::Succeeded,
            output: None,
            audience: None,
            requester: None,
            log: String::new(),
            job: None,
        };
        let fail = |mut r: RunRecord, reason, message: String| {
            r.outcome = Outcome::Failed { reason, message };
            r
        };
        let grant = match self.store.grant(req.grant) {
            Ok(g) => g,
            Err(StoreError::NoGrant(id)) => {
                return Ok(fail(record, FailureReason::Grant, format!("no grant {id}")));
            }
            Err(e) => return Err(e.into()),
        };
        if let Err(e) = grant.check(req.person, &req.digest, started_ms) {
            return Ok(fail(record, FailureReason::Grant, e.to_string()));
        }
        let pre = match self.sandbox.load(&req.digest) {
            Ok(p) => p,
            Err(e) => {
                return Ok(fail(record, FailureReason::Instantiate, format!("{e:#}")));
            }
        };
        let manifest = match self.store.plugin(&req.digest)?.manifest {
            Some(m) => m,
            None => {
                return Ok(fail(
                    record,
                    FailureReason::Contract,
                    "the plugin has no manifest, so no output contract".into(),
                ));
            }
        };
        record.audience = Some(manifest.output.audience);
        record.requester = grant.origin.as_ref().map(|o| o.requester.clone());
        let mut limits = req
            .limits
            .unwrap_or_else(|| contract::limits_from(&manifest));
        limits.output_bytes = limits.output_bytes.min(manifest.output.max_bytes);
        let data = DataAccess::new(self.store.clone(), req.person, grant, &limits)?;
        let params: Vec<Param> = req
            .params
            .into_iter()
            .map(|(name, v)| Param {
                name,
                value: v.into(),
            })
            .collect();
        let exec = self.sandbox.execute(&pre, data, limits, &params).await;
        record.usage = exec.usage;
        record.read = exec.read;
        record.log = exec.log;
        let checked = exec.outcome.map(|out| match purpose {
            Purpose::Single => contract::check(&manifest.output, out),
            Purpose::Member => contract::check_member(&manifest, out),
        });
        match checked {
            Ok(Ok(out)) => record.output = Some(out),
            Ok(Err(message)) => record = fail(record, FailureReason::Contract, message),
            Err((reason, message)) => record = fail(record, reason, message),
        }
        Ok(record)
    }
}

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
                .map_err(|_| StoreError::Db("scheduler closed".into()))?;
            self.runner.run(req).await
        })
    }
}
