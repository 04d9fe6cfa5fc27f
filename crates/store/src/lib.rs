//! The store: people, collections, records, installed plugins, grants, runs and the audit log.
//!
//! [`Store`] is the one trait every backend implements; the embedded default is
//! [`RedbStore`](redb::RedbStore). Each person's data is isolated by key (the person is the
//! first component of every record key), which is also the natural shard key for a backend
//! spread over several machines.
//!
//! Every method that changes state commits in one transaction together with its audit entry
//! (invariant 5), and is durable when it returns (invariant 6).
//!
//! May touch: the database file only. Knows nothing of WebAssembly, of packages or of the
//! domain's rules beyond the data it keeps (`insitu-model`).

pub mod codec;
pub mod conformance;
pub mod redb;
pub mod verify;
/// Schemas live in `insitu-formats`, next to the parsers that produce their records.
pub use insitu_formats::schema;

use insitu_model::audit::{AuditEntry, AuditEvent, Chain, ChainHead};
use insitu_model::checkpoint::Checkpoint;
use insitu_model::consent::Grant;
use insitu_model::meter::RunRecord;
pub use insitu_model::records::*;

/// A batch of records and the bytes of field data it delivers; `None` at the end of a scan.
pub type NextBatch = Option<(ColumnBatch, usize)>;

/// A pull-based scan over one person's collection. Each call returns at most `max` records.
pub trait Cursor: Send {
    /// The next batch, or `None` at the end. `bytes` is the size of the field data delivered.
    fn next_batch(&mut self, max: usize) -> Result<Option<(ColumnBatch, usize)>, StoreError>;

    /// [`Cursor::next_batch`], with the grant `grant` as the store holds it once the batch was
    /// read, when the backend can read it on the batch's own connection (PostgreSQL: with the
    /// batch's `FETCH`, or on the connection the scan holds); `None` tells the caller to read
    /// the grant itself
    /// ([`ConsentStore::grant`]). A grant returned is read after every record of the batch
    /// was read (after the cursor's snapshot, on PostgreSQL), never before.
    fn next_batch_under(
        &mut self,
        max: usize,
        grant: u64,
    ) -> Result<(NextBatch, Option<Grant>), StoreError> {
        let _ = grant;
        Ok((self.next_batch(max)?, None))
    }

    /// Whether the cursor knows, from what it has read, that it has no record left: the next
    /// batch would be `None`. Never true while a record is left; false when the backend cannot
    /// tell without reading more (redb knows once a batch stopped at the range's end rather
    /// than at its size; PostgreSQL once its last read came short and its chunks are read).
    fn exhausted(&self) -> bool {
        false
    }
}

/// What a store call failed with. The messages name the thing, with no hint of how to fix it
/// in a given front end: the command line adds its own (`insitu::cli::hint`), the API its status.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no person with id {0}")]
    NoPerson(PersonId),
    #[error("no collection `{0}`")]
    NoCollection(String),
    #[error("collection `{0}` already exists with a different schema; schemas cannot change")]
    SchemaConflict(String),
    #[error(transparent)]
    Schema(#[from] schema::SchemaError),
    #[error("no plugin with digest {0}")]
    NoPlugin(String),
    #[error("no publisher `{0}`")]
    NoPublisher(String),
    #[error("no request {0}")]
    NoRequest(u64),
    #[error("no grant {0}")]
    NoGrant(u64),
    #[error("no run {0}")]
    NoRun(u64),
    #[error("run {0} is not running; it cannot be finished")]
    NotRunning(u64),
    #[error("the name `{0}` is taken")]
    NameTaken(String),
    #[error("no token {0}")]
    NoToken(u64),
    #[error("no account {0}")]
    NoAccount(u64),
    #[error("no reception {0}")]
    NoReception(u64),
    #[error("no campaign or study {0}")]
    NoJob(u64),
    #[error("campaign or study {0} was already closed or settled")]
    JobClosed(u64),
    #[error("person {person} has no invitation from campaign {job}")]
    NoInvitation { job: u64, person: PersonId },
    #[error("person {person} already answered campaign {job}'s invitation")]
    Answered { job: u64, person: PersonId },
    #[error("checkpoint {0} was already published")]
    CheckpointTaken(u64),
    #[error("no proposal {0}")]
    NoProposal(u64),
    #[error("no pledge {pledge} on proposal {proposal}")]
    NoPledge { proposal: u64, pledge: u64 },
    /// The co-design step is not allowed where the proposal stands (`insitu_model::codesign`'s
    /// rules, checked inside the transaction that would change it).
    #[error("{0}")]
    Codesign(String),
    #[error(transparent)]
    Corrupt(#[from] codec::Corrupt),
    #[error("database error: {0}")]
    Db(String),
}

/// Whose rows a paged listing returns. Every paged listing reads an index on its owner (or
/// the table's own id order for [`Owner::All`]), never the whole table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// Every row: the operator's view.
    All,
    /// The rows about a person's data: the requests asking them (never one that went nowhere),
    /// the grants and receptions they gave, the runs on their data (their campaign and study
    /// runs too), their memberships.
    Person(PersonId),
    /// An organisation's rows, by its account name: the requests it made (those that went
    /// nowhere too: it cannot tell them apart), the grants it obtained (`origin.requester`), the
    /// receptions naming it, the runs it started outside a campaign or study (a member's run
    /// is the member's alone, `view::sees_run`), and the jobs it opened or is the association
    /// of.
    Organisation(String),
}

/// Which proposals a listing of them reads ([`CodesignStore::proposals_page`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proposals {
    /// Every proposal: the officer's and the operator's view.
    All,
    /// An organisation's own, whatever their status.
    Of(String),
    /// Those the officer approved: open, or settled after
    /// ([`Proposal::is_public`](insitu_model::codesign::Proposal::is_public)).
    Public,
    /// Those waiting for the officer's review.
    InReview,
    /// A contest's, whatever their status.
    Contest(String),
    /// Those not yet settled: what the deadline's schedule looks at.
    Unsettled,
}

impl Proposals {
    /// Whether `p` is one of these.
    pub fn admits(&self, p: &insitu_model::codesign::Proposal) -> bool {
        match self {
            Proposals::All => true,
            Proposals::Of(o) => p.organisation == *o,
            Proposals::Public => p.is_public(),
            Proposals::InReview => p.status == insitu_model::codesign::Status::InReview,
            Proposals::Contest(c) => p.contest.as_deref() == Some(c.as_str()),
            Proposals::Unsettled => !p.settled(),
        }
    }
}

/// Which page of a listing to read: newest first (by id, descending), the rows whose id is
/// below `before` (from the newest when `None`), at most `limit` of them. The next page is
/// `before` the last id of this one; a page shorter than `limit` is the last. Ids are given
/// when a row is made, so this is also the order rows were made in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub before: Option<u64>,
    pub limit: usize,
}

impl Page {
    /// The first (newest) page of `limit` rows.
    pub fn first(limit: usize) -> Page {
        Page {
            before: None,
            limit,
        }
    }

    /// Whether id `id` lies within this page's range (below `before`).
    pub fn admits(&self, id: u64) -> bool {
        self.before.is_none_or(|b| id < b)
    }
}

/// Every row of a paged listing, walking its pages of `size` (for callers that print them all:
/// the command line, tests).
pub fn walk<T, E>(
    size: usize,
    id: impl Fn(&T) -> u64,
    mut page: impl FnMut(Page) -> Result<Vec<T>, E>,
) -> Result<Vec<T>, E> {
    let size = size.max(1);
    let mut all = Vec::new();
    let mut before = None;
    loop {
        let rows = page(Page {
            before,
            limit: size,
        })?;
        let full = rows.len() == size;
        before = rows.last().map(&id);
        all.extend(rows);
        if !full || before.is_none() {
            return Ok(all);
        }
    }
}

/// The persistence a PDS needs. One implementation per backend; all methods are safe to call
/// from many threads at once.
///
/// The sub-traits group the methods by what they keep; a backend implements each (the redb
/// backend one file per sub-trait), and [`conformance`] checks them all. Code that holds a
/// `&dyn Store` brings the sub-traits into scope with `use insitu_store::prelude::*`.
pub trait Store:
    RecordStore
    + PluginStore
    + ConsentStore
    + RunStore
    + AuditStore
    + AccountStore
    + JobStore
    + LedgerStore
    + PeerStore
    + CodesignStore
    + Clocked
    + Send
    + Sync
    + 'static
{
}

impl<
    T: RecordStore
        + PluginStore
        + ConsentStore
        + RunStore
        + AuditStore
        + AccountStore
        + JobStore
        + LedgerStore
        + PeerStore
        + CodesignStore
        + Clocked
        + Send
        + Sync
        + 'static,
> Store for T
{
}

/// The store's traits, to call their methods on a `&dyn Store`.
pub mod prelude {
    pub use super::{
        AccountStore, AuditStore, Clocked, CodesignStore, ConsentStore, JobStore, LedgerStore,
        PeerStore, PluginStore, RecordStore, RunStore, Store,
    };
}

/// The store's clock: the time it stamps its own entries with (audit entries, decisions), and
/// the one every layer above reads "now" from, so that all of them agree with the store and a
/// test moves them all with one `ManualClock`. A backend on several machines answers with one
/// clock for all of them (the database's); the redb backend is given its clock at open
/// (`RedbStore::open_with_clock`; `open` uses the system's).
pub trait Clocked: Send + Sync {
    /// Milliseconds since the Unix epoch, now, by the store's clock.
    fn now_ms(&self) -> i64;
}

/// People, collections and their records: what a person imported, read back by scans.
pub trait RecordStore: Send + Sync {
    fn add_person(&self, name: &str) -> Result<PersonId, StoreError>;
    fn person(&self, id: PersonId) -> Result<Person, StoreError>;
    fn people(&self) -> Result<Vec<Person>, StoreError>;

    /// Defines a collection; defining the same schema again is a no-op.
    fn define_collection(&self, schema: &Schema) -> Result<(), StoreError>;
    fn collection(&self, name: &str) -> Result<Schema, StoreError>;
    fn collections(&self) -> Result<Vec<Schema>, StoreError>;

    /// Writes records in one transaction: all of them, or none. Records whose key exists are
    /// skipped and counted as duplicates. The audit entry is
    /// `AuditEvent::records_imported` (a file by its name's digest, the name kept beside the
    /// chain for [`RecordStore::source_name`]; see [`Source`]).
    fn write_records(
        &self,
        person: PersonId,
        collection: &str,
        records: &[KeyedRecord],
        source: Source<'_>,
    ) -> Result<WriteOutcome, StoreError>;

    /// The stored values of the records at `keys` (time and id) of `person`'s `collection`,
    /// `None` where there is none, read in one transaction.
    fn records_at(
        &self,
        person: PersonId,
        collection: &str,
        keys: &[(i64, u64)],
    ) -> Result<Vec<Option<Record>>, StoreError>;

    /// Defines the `schemas` that are missing and writes each of `writes` (counted and audited
    /// like [`Store::write_records`]), all in one transaction: everything, or nothing. A schema
    /// that conflicts with the stored one, or a write to a collection that is neither stored
    /// nor in `schemas`, refuses the whole call. Restore uses it so that an archive refused
    /// part-way leaves the store as it was.
    fn write_collections(
        &self,
        person: PersonId,
        schemas: &[Schema],
        writes: &[NewRecords<'_>],
    ) -> Result<Vec<WriteOutcome>, StoreError>;

    /// Scans a person's collection over `range`, delivering the named `fields` in that order.
    fn scan(
        &self,
        person: PersonId,
        collection: &str,
        range: TimeRange,
        fields: &[String],
    ) -> Result<Box<dyn Cursor>, StoreError>;

    fn count(&self, person: PersonId, collection: &str) -> Result<u64, StoreError>;

    /// The name of an import source whose digest an audit entry holds (`None` once erased).
    fn source_name(&self, person: PersonId, digest: &str) -> Result<Option<String>, StoreError>;

    /// Erases a person in one transaction: each kind of their data is deleted, revoked or kept
    /// as `PersonData::on_erasure` says (records, runs with outputs, accounts and tokens,
    /// memberships, peer offers and contacts, source names and their name are deleted; grants
    /// revoked; requests, receptions, budgets, billing and ledger kept); the audit log gets a
    /// tombstone with counts only, and its chain still verifies.
    fn erase_person(&self, person: PersonId, at_ms: i64) -> Result<Erasure, StoreError>;
}

/// Installed plugins and their components, trusted publishers, the compiled-code hashes and
/// the pseudonym secret.
pub trait PluginStore: Send + Sync {
    fn put_plugin(&self, plugin: &PluginRecord) -> Result<(), StoreError>;
    fn plugin(&self, digest: &str) -> Result<PluginRecord, StoreError>;
    fn plugins(&self) -> Result<Vec<PluginRecord>, StoreError>;

    /// Trusts `name`'s key (replacing an earlier key for that name).
    fn trust_publisher(&self, publisher: &Publisher) -> Result<(), StoreError>;
    fn publisher(&self, name: &str) -> Result<Option<Publisher>, StoreError>;
    fn publishers(&self) -> Result<Vec<Publisher>, StoreError>;
    fn revoke_publisher(&self, name: &str, at_ms: i64) -> Result<Publisher, StoreError>;

    /// Keeps an installed component's bytes under its digest (the hex SHA-256 of the bytes,
    /// which the caller computed; the sandbox checks it again on every load). Unaudited: the
    /// install is audited with the plugin's record. The same digest again replaces the bytes
    /// (installing again repairs a damaged copy). Every node of a shared store reads its
    /// components from here.
    fn put_component(&self, digest: &str, bytes: &[u8]) -> Result<(), StoreError>;
    /// The bytes of the component `digest`, if the store holds them.
    fn component(&self, digest: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// The integrity record of a compiled-code cache entry (its SHA-256), if any.
    fn compiled_hash(&self, key: &str) -> Result<Option<String>, StoreError>;
    fn set_compiled_hash(&self, key: &str, hash: &str) -> Result<(), StoreError>;

    /// The secret that keys the record-id pseudonyms plugins see (`sandbox/pseudonym.rs`):
    /// 32 bytes from the OS random source, made once when the store is created. It never
    /// leaves the host: not exported, not in the audit log, never shown.
    fn pseudonym_key(&self) -> Result<[u8; 32], StoreError>;
}

/// Access requests, grants and receptions: what a person agreed to, and its revocation.
pub trait ConsentStore: Send + Sync {
    /// Stores a new access request (its `id` is assigned), audited; one that goes nowhere
    /// (`nowhere`) is stored without a person or an audit entry.
    fn add_request(
        &self,
        request: insitu_model::request::AccessRequest,
    ) -> Result<insitu_model::request::AccessRequest, StoreError>;
    fn request(&self, id: u64) -> Result<insitu_model::request::AccessRequest, StoreError>;
    /// Every request, or those asking `person` (never one that went nowhere).
    fn requests(
        &self,
        person: Option<PersonId>,
    ) -> Result<Vec<insitu_model::request::AccessRequest>, StoreError>;
    /// A page of `owner`'s requests, newest first ([`Owner`], [`Page`]).
    fn requests_page(
        &self,
        owner: &Owner,
        page: Page,
    ) -> Result<Vec<insitu_model::request::AccessRequest>, StoreError>;
    /// Decides a pending request in one transaction: with a grant it is approved (the grant is
    /// stored), without one it is denied. One that went nowhere is `NoRequest`.
    fn decide_request(
        &self,
        id: u64,
        grant: Option<Grant>,
    ) -> Result<(insitu_model::request::AccessRequest, Option<Grant>), StoreError>;

    /// Stores a new grant (its `id` is assigned) and returns it.
    fn add_grant(&self, grant: Grant) -> Result<Grant, StoreError>;
    fn grant(&self, id: u64) -> Result<Grant, StoreError>;
    /// The grants among `ids` that exist, by id (a job reads its claimed members' grants in
    /// one call; a backend where a call costs a round trip answers them together).
    fn grants_by_id(&self, ids: &[u64]) -> Result<Vec<Grant>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for &id in ids {
            match self.grant(id) {
                Ok(g) => out.push(g),
                Err(StoreError::NoGrant(_)) => {}
                Err(e) => return Err(e),
            }
        }
        out.sort_by_key(|g| g.id);
        out.dedup_by_key(|g| g.id);
        Ok(out)
    }
    fn grants(&self, person: Option<PersonId>) -> Result<Vec<Grant>, StoreError>;
    /// The grants for the plugin `digest` that are not revoked, by id, read from an index on
    /// the digest that drops a grant when it is revoked (or its person erased): a job's
    /// targets. Expired grants are among them: whether a grant is live now is the caller's
    /// check, by its clock (`Grant::check_live`).
    fn unrevoked_grants(&self, digest: &str) -> Result<Vec<Grant>, StoreError>;
    /// A page of `owner`'s grants, newest first ([`Owner`], [`Page`]).
    fn grants_page(&self, owner: &Owner, page: Page) -> Result<Vec<Grant>, StoreError>;
    fn revoke_grant(&self, id: u64, at_ms: i64) -> Result<Grant, StoreError>;

    /// Stores a person's agreement to receive an organisation's data (its `id` is assigned).
    fn add_reception(&self, reception: Reception) -> Result<Reception, StoreError>;
    fn receptions(&self, person: Option<PersonId>) -> Result<Vec<Reception>, StoreError>;
    /// A page of `owner`'s receptions, newest first ([`Owner`], [`Page`]).
    fn receptions_page(&self, owner: &Owner, page: Page) -> Result<Vec<Reception>, StoreError>;
    fn revoke_reception(&self, id: u64, at_ms: i64) -> Result<Reception, StoreError>;
}

/// Run records: each run of a plugin on a person's data, with its usage and outcome.
pub trait RunStore: Send + Sync {
    /// Whether this process is the store's only user (the embedded file, which it holds
    /// locked): a run stored as running at start-up was then left by an earlier process and
    /// ended with it. A store shared by several nodes answers false: another node may be
    /// running it.
    fn exclusive(&self) -> bool {
        false
    }
    /// Records a finished run (usage, outcome, output) with its audit entry; assigns its id.
    fn record_run(&self, run: RunRecord) -> Result<RunRecord, StoreError>;
    /// Reserves `n` consecutive run ids and returns the first: a job gives its member runs
    /// their ids when it starts them ([`Store::record_members`] keeps an id already set).
    fn reserve_run_ids(&self, n: u64) -> Result<u64, StoreError>;
    /// Stores an admitted run as running and gives it its id (not audited yet: the audit
    /// entry is written with the finished run, [`Store::finish_run`]).
    fn begin_run(&self, run: RunRecord) -> Result<RunRecord, StoreError>;
    /// Stores a begun run's final record under its id, with its audit entry, in one
    /// transaction.
    fn finish_run(&self, run: RunRecord) -> Result<RunRecord, StoreError>;
    fn run(&self, id: u64) -> Result<RunRecord, StoreError>;
    /// The runs among `ids` that exist, by id (a job's billing reads its members' runs
    /// together; a backend where a call costs a round trip answers them at once).
    fn runs_by_id(&self, ids: &[u64]) -> Result<Vec<RunRecord>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for &id in ids {
            match self.run(id) {
                Ok(r) => out.push(r),
                Err(StoreError::NoRun(_)) => {}
                Err(e) => return Err(e),
            }
        }
        out.sort_by_key(|r| r.id);
        out.dedup_by_key(|r| r.id);
        Ok(out)
    }
    /// Every run, or every run on `person`'s data: for the paths that need them all (export,
    /// billing checks, tests). A listing reads [`RunStore::runs_page`].
    fn runs(&self, person: Option<PersonId>) -> Result<Vec<RunRecord>, StoreError>;
    /// The runs stored as running (begun, not finished), by id, read from an index that a run
    /// leaves when it is finished (or its person erased): the sweep for runs a dead node left.
    fn running_runs(&self) -> Result<Vec<RunRecord>, StoreError>;
    /// A page of `owner`'s runs, newest first ([`Owner`], [`Page`]).
    fn runs_page(&self, owner: &Owner, page: Page) -> Result<Vec<RunRecord>, StoreError>;
    /// Visits runs in id order, from the first one started at or after `since_ms` (found by
    /// binary search: ids are given when runs start, so start times follow ids roughly;
    /// callers widen `since_ms` by a margin and filter) and before run `before`, until `visit`
    /// returns `false`. A billing check that needs a few
    /// runs of this month reads those, not every run ever recorded.
    fn visit_runs_since(
        &self,
        since_ms: i64,
        before: u64,
        visit: &mut dyn FnMut(&RunRecord) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError>;
}

/// The audit log: one hash chain per person and one for the operator
/// ([`insitu_model::audit::Chain`]), each appended to in the transaction of the action it
/// records, and the checkpoints that anchor their heads. Appends to different chains do not
/// wait for each other (on a backend that has concurrent writers). A store written before
/// per-person chains keeps its single chain as the frozen legacy chain: new chains start from
/// its last hash ([`AuditStore::audit_origin`]).
pub trait AuditStore: Send + Sync {
    /// Appends an event on its own (for actions that write nothing else), to its chain.
    fn append_audit(&self, event: AuditEvent) -> Result<AuditEntry, StoreError>;
    /// `chain`'s entries after seq `after` (from the first if `None`), oldest first, at most
    /// `limit` of them.
    fn audit_chain(
        &self,
        chain: Chain,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError>;
    /// The head of every chain that has an entry (the legacy chain's too), by chain key.
    fn audit_heads(&self) -> Result<Vec<ChainHead>, StoreError>;
    /// `chain`'s head, if it has an entry.
    fn audit_head(&self, chain: Chain) -> Result<Option<ChainHead>, StoreError>;
    /// The hash every new chain starts from: the legacy chain's last, or `GENESIS`.
    fn audit_origin(&self) -> Result<String, StoreError> {
        Ok(self
            .audit_head(Chain::Legacy)?
            .map(|h| h.hash)
            .unwrap_or_else(|| insitu_model::audit::GENESIS.to_string()))
    }
    /// Stores checkpoint `checkpoint.signed.number`, which must be one more than the latest
    /// (`CheckpointTaken` otherwise: another node published it first).
    fn put_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError>;
    /// The checkpoint with the highest number.
    fn latest_checkpoint(&self) -> Result<Option<Checkpoint>, StoreError>;
    /// The highest checkpoint number, read from the key alone: a checkpoint holds every
    /// chain's head, and whoever keeps the latest one reads it again only when this moves.
    fn latest_checkpoint_number(&self) -> Result<Option<u64>, StoreError>;
    fn checkpoint(&self, number: u64) -> Result<Option<Checkpoint>, StoreError>;

    /// Every chain, each oldest first, chains by key: for tests and tools over small stores
    /// (nothing that serves requests calls it; a person's chain is read with
    /// [`AuditStore::audit_chain`]).
    fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        let mut all = Vec::new();
        for head in self.audit_heads()? {
            let mut after = None;
            loop {
                let page = self.audit_chain(head.chain, after, 1024)?;
                let Some(last) = page.last() else { break };
                after = Some(last.seq);
                all.extend(page);
            }
        }
        Ok(all)
    }
}

/// Accounts and their tokens.
pub trait AccountStore: Send + Sync {
    /// Stores a new account (its `id` is assigned). Names are unique by
    /// [`insitu_model::account::name::key`] (case- and confusable-insensitive): `NameTaken` holds the
    /// name of the account that has the key already. `account_by_name` finds an account by any
    /// spelling with its key.
    fn add_account(
        &self,
        account: insitu_model::account::Account,
    ) -> Result<insitu_model::account::Account, StoreError>;
    fn account(&self, id: u64) -> Result<Option<insitu_model::account::Account>, StoreError>;
    fn account_by_name(
        &self,
        name: &str,
    ) -> Result<Option<insitu_model::account::Account>, StoreError>;
    fn accounts(&self) -> Result<Vec<insitu_model::account::Account>, StoreError>;
    /// Sets (or clears) the language the pages speak to an account; returns the account. A
    /// display preference, not an action on anyone's data: unaudited.
    fn set_language(
        &self,
        account: u64,
        language: Option<&str>,
    ) -> Result<insitu_model::account::Account, StoreError>;
    /// Stores a new token (its `id` is assigned).
    fn add_token(
        &self,
        token: insitu_model::account::Token,
    ) -> Result<insitu_model::account::Token, StoreError>;
    fn token_by_hash(&self, hash: &str)
    -> Result<Option<insitu_model::account::Token>, StoreError>;
    fn tokens(&self, account: u64) -> Result<Vec<insitu_model::account::Token>, StoreError>;
    /// A page of `account`'s tokens, newest first ([`Page`]): every sign-in adds one.
    fn tokens_page(
        &self,
        account: u64,
        page: Page,
    ) -> Result<Vec<insitu_model::account::Token>, StoreError>;
    fn revoke_token(&self, id: u64, at_ms: i64)
    -> Result<insitu_model::account::Token, StoreError>;
}

/// Campaigns and studies: the policy, jobs, their members, privacy budgets and billing records.
pub trait JobStore: Send + Sync {
    /// The operator's policy for campaigns and studies (the default until one is set).
    fn policy(&self) -> Result<insitu_model::job::Policy, StoreError>;
    /// Sets the policy, audited.
    fn set_policy(&self, policy: &insitu_model::job::Policy) -> Result<(), StoreError>;

    /// Stores a new campaign or study (its `id` is assigned), audited.
    fn add_job(&self, job: insitu_model::job::Job) -> Result<insitu_model::job::Job, StoreError>;
    fn job(&self, id: u64) -> Result<insitu_model::job::Job, StoreError>;
    /// Every job: for the operator's tools and the billing checks at start-up.
    fn jobs(&self) -> Result<Vec<insitu_model::job::Job>, StoreError>;
    /// The jobs whose status is `JobStatus::Running`, by id, read from an index that drops a
    /// job when it finishes: what every node polls to take up the jobs it is not running yet.
    fn running_jobs(&self) -> Result<Vec<insitu_model::job::Job>, StoreError>;
    /// The jobs created at or after `since_ms` (their `created_ms`), by id, read from an index
    /// on the creation time: the gap between campaigns is checked against the recent ones, not
    /// every job ever opened.
    fn jobs_since(&self, since_ms: i64) -> Result<Vec<insitu_model::job::Job>, StoreError>;
    /// A page of `owner`'s jobs, newest first ([`Page`]): an organisation's are those it
    /// opened and the campaigns naming it as the association; a person has none (their
    /// campaigns are their memberships); [`Owner::All`] every job.
    fn jobs_page(
        &self,
        owner: &Owner,
        page: Page,
    ) -> Result<Vec<insitu_model::job::Job>, StoreError>;
    /// Records members' results in one transaction: each member's run (when there was one),
    /// with its audit entry, and the member's result pointing at it, as `Member::record` rules
    /// (a member the job already has is left as it was and its run is not stored; a run keeps
    /// the id the job reserved for it). Returns how many were added.
    fn record_members(
        &self,
        job: u64,
        members: Vec<(Option<RunRecord>, insitu_model::job::Member)>,
    ) -> Result<u64, StoreError>;
    /// Makes `job`'s work queue from `tasks`, once: a job that has one keeps it (a resumed
    /// job, or a second node starting the same job, finds the first queue). Returns whether
    /// this call made it.
    fn enqueue_tasks(
        &self,
        job: u64,
        tasks: &[insitu_model::job::Task],
    ) -> Result<bool, StoreError>;
    /// Claims for `node`, until `lease_until_ms`, up to `max` of `job`'s tasks, in run order,
    /// that have no member result and no live lease (never claimed, or its lease ended by the
    /// store's clock). Each claim is audited in the member's history
    /// (`AuditEvent::MemberRunClaimed`) in the same transaction, before the run reads
    /// anything. Two nodes claiming at once never get the same task.
    fn claim_tasks(
        &self,
        job: u64,
        node: &str,
        max: usize,
        lease_until_ms: i64,
    ) -> Result<Vec<insitu_model::job::Claim>, StoreError>;
    /// Extends `node`'s leases on the tasks of `job` whose runs are `runs` to
    /// `lease_until_ms`; returns the runs whose lease `node` still held (one that ran out and
    /// went to another node is not taken back).
    fn renew_tasks(
        &self,
        job: u64,
        node: &str,
        runs: &[u64],
        lease_until_ms: i64,
    ) -> Result<Vec<u64>, StoreError>;
    /// `job`'s tasks without a member result (claimed or not).
    fn open_tasks(&self, job: u64) -> Result<u64, StoreError>;
    /// A job's members, by person.
    fn members(&self, job: u64) -> Result<Vec<insitu_model::job::Member>, StoreError>;
    /// Every job a person is a member of (their inbox of invitations and contributions).
    fn memberships(&self, person: PersonId) -> Result<Vec<insitu_model::job::Member>, StoreError>;
    /// A page of a person's memberships, newest job first, keyed on the job's id ([`Page`]).
    fn memberships_page(
        &self,
        person: PersonId,
        page: Page,
    ) -> Result<Vec<insitu_model::job::Member>, StoreError>;
    /// Stores a member's answer to a campaign's invitation, audited (an acceptance as the
    /// release of the evidence the member chose). A member answers once.
    fn answer_invitation(
        &self,
        job: u64,
        person: PersonId,
        answer: insitu_model::job::Answer,
    ) -> Result<insitu_model::job::Member, StoreError>;
    /// Updates a job's status (and release) in one transaction with the billing records it
    /// leaves and the privacy budget it spends (millionths of ε per member, charged to
    /// `period`), audited.
    fn close_job(
        &self,
        job: &insitu_model::job::Job,
        billing: Vec<insitu_model::job::BillingRecord>,
        spend: &[(PersonId, u64)],
        period: &str,
    ) -> Result<insitu_model::job::Job, StoreError>;
    /// The privacy budget a person spent in `period`, in millionths of ε.
    fn budget_spent(&self, person: PersonId, period: &str) -> Result<u64, StoreError>;
    /// Reserves `micro` millionths of ε of each of `people`'s budget for `period`, for job
    /// `job`, in one transaction, each reservation audited in the person's history: a person
    /// whose spent budget plus `micro` would exceed `budget` gets none (`false`). A person the
    /// job already asked for keeps the first answer, so a resumed job charges nobody twice.
    /// Returns, per person in order, whether they hold a reservation.
    fn reserve_budget(
        &self,
        job: u64,
        people: &[PersonId],
        period: &str,
        micro: u64,
        budget: u64,
    ) -> Result<Vec<bool>, StoreError>;
    /// Billing records, all or one job's.
    fn billing(
        &self,
        job: Option<u64>,
    ) -> Result<Vec<insitu_model::job::BillingRecord>, StoreError>;
}

/// The ledger: the tariff, idempotent postings by key, and licences.
pub trait LedgerStore: Send + Sync {
    /// The operator's tariff (the default until one is set).
    fn tariff(&self) -> Result<insitu_model::ledger::Tariff, StoreError>;
    fn set_tariff(&self, tariff: &insitu_model::ledger::Tariff) -> Result<(), StoreError>;
    /// Posts `entries` under `key` in one transaction, audited. A key already posted adds
    /// nothing: the entries it holds are returned, so a retried billing step never bills twice.
    fn post(
        &self,
        key: &str,
        entries: Vec<insitu_model::ledger::Entry>,
    ) -> Result<Vec<insitu_model::ledger::Entry>, StoreError>;
    /// Posts several keys' entries in one transaction (each key as [`Store::post`] would);
    /// returns how many keys were new.
    fn post_many(
        &self,
        postings: Vec<(String, Vec<insitu_model::ledger::Entry>)>,
    ) -> Result<u64, StoreError>;
    /// Whether `key` was posted.
    fn posted(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.posting(key)?.is_some())
    }
    /// The entries posted under `key` (empty for a free run), or `None` if it was not posted.
    fn posting(&self, key: &str) -> Result<Option<Vec<insitu_model::ledger::Entry>>, StoreError>;
    /// Every ledger entry, oldest first: for the operator's tools (balances, the trial
    /// balance). A party's pages read [`LedgerStore::ledger_of`].
    fn ledger(&self) -> Result<Vec<insitu_model::ledger::Entry>, StoreError>;
    /// The entries that debit or credit `party`, oldest first (by id), read from an index on
    /// the party: a person's earnings, an organisation's invoice, a developer's revenue, a
    /// statement.
    fn ledger_of(
        &self,
        party: &insitu_model::ledger::Party,
    ) -> Result<Vec<insitu_model::ledger::Entry>, StoreError>;
    /// A page of the entries that debit or credit `party`, newest first ([`Page`]), read from
    /// the same index as [`LedgerStore::ledger_of`]: the API's and the pages' ledger lines.
    fn ledger_page(
        &self,
        party: &insitu_model::ledger::Party,
        page: Page,
    ) -> Result<Vec<insitu_model::ledger::Entry>, StoreError>;

    /// Stores a licence or sponsorship (its `id` is assigned), audited.
    fn add_licence(
        &self,
        licence: insitu_model::licence::Licence,
    ) -> Result<insitu_model::licence::Licence, StoreError>;
    fn licences(&self) -> Result<Vec<insitu_model::licence::Licence>, StoreError>;
}

/// Peer contact: offers and contacts.
pub trait PeerStore: Send + Sync {
    /// Stores a peer-contact offer (a new one when its `id` is 0), audited.
    fn put_offer(
        &self,
        offer: insitu_model::peer::Offer,
    ) -> Result<insitu_model::peer::Offer, StoreError>;
    fn offers(&self) -> Result<Vec<insitu_model::peer::Offer>, StoreError>;
    /// Stores a contact request or its answer (a new one when its `id` is 0), audited with
    /// only the acting side's id: the audit never names the other side.
    fn put_contact(
        &self,
        contact: insitu_model::peer::Contact,
    ) -> Result<insitu_model::peer::Contact, StoreError>;
    fn contacts(&self) -> Result<Vec<insitu_model::peer::Contact>, StoreError>;
}

/// The audit events a proposal's change writes, as every backend writes them: a new
/// version's commitment, a new review.
pub fn codesign_events(
    old: Option<&insitu_model::codesign::Proposal>,
    new: &insitu_model::codesign::Proposal,
) -> Vec<AuditEvent> {
    let mut events = Vec::new();
    let versions = old.map_or(0, |o| o.versions.len());
    for v in new.versions.iter().skip(versions) {
        events.push(AuditEvent::ProposalCommitted {
            proposal: new.id,
            version: v.number,
            organisation: new.organisation.clone(),
            commitment: v.commitment.clone(),
        });
    }
    let reviews = old.map_or(0, |o| o.reviews.len());
    for r in new.reviews.iter().skip(reviews) {
        events.push(AuditEvent::ProposalReviewed {
            proposal: new.id,
            version: r.version,
            officer: r.officer.clone(),
            decision: serde_json::to_value(r.decision)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        });
    }
    events
}

/// Co-design: proposals, members' contributions and votes, pledges in escrow.
///
/// Every method that moves money posts its ledger entries in the same transaction as the
/// pledge's new state, and checks `insitu_model::codesign`'s rules inside that transaction
/// (with the proposal locked), so a pledge and the deadline never interleave: a pledge is
/// either settled with the others or refused.
pub trait CodesignStore: Send + Sync {
    /// Stores a proposal: a new one when its `id` is 0 (the id is assigned), else replaces
    /// it. Audited in the same transaction: `ProposalCommitted` when it gained a version,
    /// `ProposalReviewed` when it gained a review. A settled proposal is not changed, nor one
    /// whose stored versions and reviews `proposal` does not extend (a write from a stale
    /// read: `insitu_model::codesign::extends`) ([`StoreError::Codesign`]).
    fn put_proposal(
        &self,
        proposal: insitu_model::codesign::Proposal,
    ) -> Result<insitu_model::codesign::Proposal, StoreError>;
    fn proposal(&self, id: u64) -> Result<insitu_model::codesign::Proposal, StoreError>;
    /// A page of the proposals `which` names, newest first, each kind from its own index:
    /// no listing of proposals reads the whole table.
    fn proposals_page(
        &self,
        which: &Proposals,
        page: Page,
    ) -> Result<Vec<insitu_model::codesign::Proposal>, StoreError>;

    /// Stores a member's comment or suggestion (its `id` is assigned), audited
    /// (`Contributed`, with a suggestion's commitment). Refused unless the proposal is public.
    fn add_contribution(
        &self,
        contribution: insitu_model::codesign::Contribution,
    ) -> Result<insitu_model::codesign::Contribution, StoreError>;
    /// A proposal's contributions, oldest first.
    fn contributions(
        &self,
        proposal: u64,
    ) -> Result<Vec<insitu_model::codesign::Contribution>, StoreError>;

    /// Records a vote, replacing the member's earlier vote on the same ballot; audited
    /// (`VoteCast`, without the choice).
    fn cast_vote(&self, vote: insitu_model::codesign::Vote) -> Result<(), StoreError>;
    /// A ballot's votes, one per member.
    fn votes(
        &self,
        ballot: &insitu_model::codesign::Ballot,
    ) -> Result<Vec<insitu_model::codesign::Vote>, StoreError>;
    /// Stores a ballot's released tally; a ballot is tallied once: the tally already stored
    /// is returned (its noise is never drawn again).
    fn put_tally(
        &self,
        ballot: &insitu_model::codesign::Ballot,
        tally: insitu_model::codesign::Tally,
    ) -> Result<insitu_model::codesign::Tally, StoreError>;
    fn tally(
        &self,
        ballot: &insitu_model::codesign::Ballot,
    ) -> Result<Option<insitu_model::codesign::Tally>, StoreError>;

    /// Stores a pledge (its `id` assigned, status held) and posts its payment into escrow
    /// (`codesign::pledge_entries`) in one transaction, audited (`Pledged`). Refused unless
    /// the proposal is public and its deadline has not come (by the pledge's `at_ms`).
    fn pledge(
        &self,
        pledge: insitu_model::codesign::Pledge,
    ) -> Result<insitu_model::codesign::Pledge, StoreError>;
    /// Withdraws a held pledge and posts its refund in one transaction, audited
    /// (`PledgeWithdrawn`); refused unless `codesign::may_withdraw` allows it at `at_ms`.
    fn withdraw_pledge(
        &self,
        proposal: u64,
        pledge: u64,
        at_ms: i64,
    ) -> Result<insitu_model::codesign::Pledge, StoreError>;
    /// A proposal's pledges, by id.
    fn pledges(&self, proposal: u64) -> Result<Vec<insitu_model::codesign::Pledge>, StoreError>;
    /// A member's pledges, by id.
    fn pledges_of(
        &self,
        person: PersonId,
    ) -> Result<Vec<insitu_model::codesign::Pledge>, StoreError>;
    /// Settles a proposal at its deadline (`codesign::settle` over the pledges held, with
    /// `commission_bps`): pays escrow out or refunds every pledge, updates the pledges and
    /// the proposal, in one transaction, audited (`ProposalSettled`). A proposal already
    /// settled is returned as it is; one whose deadline has not come (by `at_ms`) is refused.
    fn settle_proposal(
        &self,
        proposal: u64,
        commission_bps: u32,
        at_ms: i64,
    ) -> Result<insitu_model::codesign::Proposal, StoreError>;
}
