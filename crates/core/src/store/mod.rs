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
//! May touch: the database file only. Knows nothing of WebAssembly.

pub mod codec;
pub mod conformance;
pub mod redb;
/// Schemas live in `insitu-formats`, next to the parsers that produce their records.
pub use insitu_formats::schema;

use serde::{Deserialize, Serialize};

use crate::audit::{AuditEntry, AuditEvent};
use crate::consent::Grant;
use crate::meter::RunRecord;
pub use schema::{Field, FieldType, Record, Schema, Value};

/// Identifies a person in the store.
pub type PersonId = u64;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Person {
    pub id: PersonId,
    pub name: String,
}

/// An installed plugin, named by the SHA-256 digest of its component bytes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PluginRecord {
    pub digest: String,
    pub name: String,
    pub size: u64,
    pub installed_at_ms: i64,
    /// The interfaces the component imports, as checked at install.
    pub imports: Vec<String>,
    /// The manifest packed with the component (what the person is asked to approve).
    #[serde(default)]
    pub manifest: Option<crate::package::Manifest>,
    /// The publisher whose signature was verified at install; `None` in development mode.
    #[serde(default)]
    pub publisher: Option<String>,
    /// Installed unsigned, in the explicit development mode.
    #[serde(default)]
    pub development: bool,
}

/// A publisher whose signing key the operator trusts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Publisher {
    pub name: String,
    /// Hex of the ed25519 verifying key.
    pub key: String,
    pub trusted_ms: i64,
    pub revoked_ms: Option<i64>,
}

/// A half-open time range `[since, until)` in ms since the epoch; `None` is unbounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

impl TimeRange {
    pub const ALL: TimeRange = TimeRange {
        since: None,
        until: None,
    };

    /// The intersection of two ranges.
    pub fn intersect(self, other: TimeRange) -> TimeRange {
        TimeRange {
            since: match (self.since, other.since) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            },
            until: match (self.until, other.until) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        }
    }

    pub fn contains(&self, t: i64) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u)
    }
}

/// Text values of a batch, concatenated, with the end offset of each (Arrow's layout).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextColumn {
    pub data: String,
    pub ends: Vec<u32>,
}

impl TextColumn {
    pub fn with_capacity(n: usize) -> Self {
        TextColumn {
            data: String::with_capacity(n * 16),
            ends: Vec::with_capacity(n),
        }
    }

    pub fn push(&mut self, s: &str) {
        self.data.push_str(s);
        self.ends.push(self.data.len() as u32);
    }

    /// Value `i`.
    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.data[start..self.ends[i] as usize]
    }
}

/// Money values of a batch: minor units, and an index into the batch's distinct currencies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MoneyColumn {
    pub minor: Vec<i64>,
    pub currencies: Vec<String>,
    pub currency: Vec<u16>,
}

impl MoneyColumn {
    pub fn push(&mut self, minor: i64, currency: &str) {
        let idx = match self.currencies.iter().position(|c| c == currency) {
            Some(i) => i,
            None => {
                self.currencies.push(currency.to_string());
                self.currencies.len() - 1
            }
        };
        self.minor.push(minor);
        self.currency.push(idx as u16);
    }

    /// Minor units and currency of value `i`.
    pub fn get(&self, i: usize) -> (i64, &str) {
        let code = self.currencies.get(self.currency[i] as usize);
        (self.minor[i], code.map(String::as_str).unwrap_or(""))
    }
}

/// One field's values across a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnValues {
    Text(TextColumn),
    Integer(Vec<i64>),
    Float(Vec<f64>),
    Money(MoneyColumn),
    Timestamp(Vec<i64>),
    Boolean(Vec<bool>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnData {
    pub name: String,
    pub values: ColumnValues,
    /// Present for optional fields: `false` where the record has no value.
    pub valid: Option<Vec<bool>>,
}

impl ColumnData {
    /// The value at row `i` (`Value::Null` where absent).
    pub fn value(&self, i: usize) -> Value {
        if let Some(v) = &self.valid
            && !v[i]
        {
            return Value::Null;
        }
        match &self.values {
            ColumnValues::Text(v) => Value::Text(v.get(i).to_string()),
            ColumnValues::Integer(v) => Value::Integer(v[i]),
            ColumnValues::Float(v) => Value::Float(v[i]),
            ColumnValues::Money(m) => {
                let (minor, currency) = m.get(i);
                Value::Money {
                    minor,
                    currency: currency.to_string(),
                }
            }
            ColumnValues::Timestamp(v) => Value::Timestamp(v[i]),
            ColumnValues::Boolean(v) => Value::Boolean(v[i]),
        }
    }
}

/// Records in columnar form, in time order: what a scan yields and what a plugin receives.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnBatch {
    pub ids: Vec<u64>,
    pub times: Vec<i64>,
    pub columns: Vec<ColumnData>,
}

impl ColumnBatch {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// A pull-based scan over one person's collection. Each call returns at most `max` records.
pub trait Cursor: Send {
    /// The next batch, or `None` at the end. `bytes` is the size of the field data delivered.
    fn next_batch(&mut self, max: usize) -> Result<Option<(ColumnBatch, usize)>, StoreError>;
}

/// What a batch write did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteOutcome {
    pub added: u64,
    /// Records already present (same key), left as they were: re-imports add nothing.
    pub duplicates: u64,
    /// The index in the batch of each duplicate, in order.
    #[serde(default)]
    pub taken: Vec<u32>,
    /// The index of each duplicate whose stored values are not the ones given (a subset of
    /// `taken`): the importer decides whether that is the same record or a clash.
    #[serde(default)]
    pub changed: Vec<u32>,
}

/// A person's agreement to receive data an organisation holds about them into one collection
/// (restitution).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reception {
    pub id: u64,
    pub person: PersonId,
    pub organisation: String,
    pub collection: String,
    pub created_ms: i64,
    pub revoked_ms: Option<i64>,
}

/// What an erasure removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Erasure {
    pub records: u64,
    pub runs: u64,
    pub grants: u64,
    pub accounts: u64,
}

/// Where written records come from, as the audit log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source<'a> {
    /// A file the person imported, by name. Names can be personal: the audit entry holds the
    /// name's SHA-256 and the name is kept beside the chain ([`Store::source_name`]).
    File(&'a str),
    /// Data an organisation returned into the person's store (restitution), by its name.
    ReturnedBy(&'a str),
}

/// One collection's records for [`Store::write_collections`].
#[derive(Debug, Clone, Copy)]
pub struct NewRecords<'a> {
    pub collection: &'a str,
    pub records: &'a [KeyedRecord],
    pub source: Source<'a>,
}

/// A record ready to write: its stable id and time are computed by the importer.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyedRecord {
    pub id: u64,
    pub time: i64,
    pub values: Record,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no person with id {0}; list people with `insitu person list`")]
    NoPerson(PersonId),
    #[error("no collection `{0}`; define it first with `insitu collection define`")]
    NoCollection(String),
    #[error("collection `{0}` already exists with a different schema; schemas cannot change")]
    SchemaConflict(String),
    #[error(transparent)]
    Schema(#[from] schema::SchemaError),
    #[error("no plugin with digest {0}; list plugins with `insitu plugin list`")]
    NoPlugin(String),
    #[error("no publisher `{0}`; list them with `insitu publisher list`")]
    NoPublisher(String),
    #[error("no request {0}")]
    NoRequest(u64),
    #[error("no grant {0}")]
    NoGrant(u64),
    #[error("no run {0}")]
    NoRun(u64),
    #[error("the name `{0}` is taken")]
    NameTaken(String),
    #[error("no token {0}")]
    NoToken(u64),
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
    #[error(transparent)]
    Corrupt(#[from] codec::Corrupt),
    #[error("database error: {0}")]
    Db(String),
}

/// The persistence a PDS needs. One implementation per backend; all methods are safe to call
/// from many threads at once.
pub trait Store: Send + Sync + 'static {
    fn add_person(&self, name: &str) -> Result<PersonId, StoreError>;
    fn person(&self, id: PersonId) -> Result<Person, StoreError>;
    fn people(&self) -> Result<Vec<Person>, StoreError>;

    /// Defines a collection; defining the same schema again is a no-op.
    fn define_collection(&self, schema: &Schema) -> Result<(), StoreError>;
    fn collection(&self, name: &str) -> Result<Schema, StoreError>;
    fn collections(&self) -> Result<Vec<Schema>, StoreError>;

    /// Writes records in one transaction: all of them, or none. Records whose key exists are
    /// skipped and counted as duplicates. `source` is recorded in the audit entry (see
    /// [`Source`]).
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

    fn put_plugin(&self, plugin: &PluginRecord) -> Result<(), StoreError>;
    fn plugin(&self, digest: &str) -> Result<PluginRecord, StoreError>;
    fn plugins(&self) -> Result<Vec<PluginRecord>, StoreError>;

    /// Trusts `name`'s key (replacing an earlier key for that name).
    fn trust_publisher(&self, publisher: &Publisher) -> Result<(), StoreError>;
    fn publisher(&self, name: &str) -> Result<Option<Publisher>, StoreError>;
    fn publishers(&self) -> Result<Vec<Publisher>, StoreError>;
    fn revoke_publisher(&self, name: &str, at_ms: i64) -> Result<Publisher, StoreError>;

    /// Stores a new access request (its `id` is assigned), audited; one that goes nowhere
    /// (`nowhere`) is stored without a person or an audit entry.
    fn add_request(
        &self,
        request: crate::request::AccessRequest,
    ) -> Result<crate::request::AccessRequest, StoreError>;
    fn request(&self, id: u64) -> Result<crate::request::AccessRequest, StoreError>;
    /// Every request, or those asking `person` (never one that went nowhere).
    fn requests(
        &self,
        person: Option<PersonId>,
    ) -> Result<Vec<crate::request::AccessRequest>, StoreError>;
    /// Decides a pending request in one transaction: with a grant it is approved (the grant is
    /// stored), without one it is denied. One that went nowhere is `NoRequest`.
    fn decide_request(
        &self,
        id: u64,
        grant: Option<Grant>,
    ) -> Result<(crate::request::AccessRequest, Option<Grant>), StoreError>;

    /// Stores a new grant (its `id` is assigned) and returns it.
    fn add_grant(&self, grant: Grant) -> Result<Grant, StoreError>;
    fn grant(&self, id: u64) -> Result<Grant, StoreError>;
    fn grants(&self, person: Option<PersonId>) -> Result<Vec<Grant>, StoreError>;
    fn revoke_grant(&self, id: u64, at_ms: i64) -> Result<Grant, StoreError>;

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
    fn runs(&self, person: Option<PersonId>) -> Result<Vec<RunRecord>, StoreError>;
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

    /// Appends an event on its own (for actions that write nothing else).
    fn append_audit(&self, event: AuditEvent) -> Result<AuditEntry, StoreError>;
    /// The whole log, oldest first.
    fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError>;

    /// Stores a new account (its `id` is assigned). Names are unique by
    /// [`crate::account::name::key`] (case- and confusable-insensitive): `NameTaken` holds the
    /// name of the account that has the key already. `account_by_name` finds an account by any
    /// spelling with its key.
    fn add_account(
        &self,
        account: crate::account::Account,
    ) -> Result<crate::account::Account, StoreError>;
    fn account(&self, id: u64) -> Result<Option<crate::account::Account>, StoreError>;
    fn account_by_name(&self, name: &str) -> Result<Option<crate::account::Account>, StoreError>;
    fn accounts(&self) -> Result<Vec<crate::account::Account>, StoreError>;
    /// Stores a new token (its `id` is assigned).
    fn add_token(&self, token: crate::account::Token) -> Result<crate::account::Token, StoreError>;
    fn token_by_hash(&self, hash: &str) -> Result<Option<crate::account::Token>, StoreError>;
    fn tokens(&self, account: u64) -> Result<Vec<crate::account::Token>, StoreError>;
    fn revoke_token(&self, id: u64, at_ms: i64) -> Result<crate::account::Token, StoreError>;

    /// The name of an import source whose digest an audit entry holds (`None` once erased).
    fn source_name(&self, person: PersonId, digest: &str) -> Result<Option<String>, StoreError>;

    /// Stores a person's agreement to receive an organisation's data (its `id` is assigned).
    fn add_reception(&self, reception: Reception) -> Result<Reception, StoreError>;
    fn receptions(&self, person: Option<PersonId>) -> Result<Vec<Reception>, StoreError>;
    fn revoke_reception(&self, id: u64, at_ms: i64) -> Result<Reception, StoreError>;

    /// Erases a person in one transaction: their records, runs (with outputs), accounts and
    /// tokens, and their name are deleted; their grants are revoked; the audit log gets a
    /// tombstone with counts only, and its chain still verifies.
    fn erase_person(&self, person: PersonId, at_ms: i64) -> Result<Erasure, StoreError>;

    /// The operator's policy for campaigns and studies (the default until one is set).
    fn policy(&self) -> Result<crate::job::Policy, StoreError>;
    /// Sets the policy, audited.
    fn set_policy(&self, policy: &crate::job::Policy) -> Result<(), StoreError>;

    /// Stores a new campaign or study (its `id` is assigned), audited.
    fn add_job(&self, job: crate::job::Job) -> Result<crate::job::Job, StoreError>;
    fn job(&self, id: u64) -> Result<crate::job::Job, StoreError>;
    fn jobs(&self) -> Result<Vec<crate::job::Job>, StoreError>;
    /// Records members' results in one transaction: each member's run (when there was one),
    /// with its audit entry, and the member's result pointing at it. A member the job already
    /// has is left as it was and its run is not stored. Returns how many were added.
    fn record_members(
        &self,
        job: u64,
        members: Vec<(Option<RunRecord>, crate::job::Member)>,
    ) -> Result<u64, StoreError>;
    /// A job's members, by person.
    fn members(&self, job: u64) -> Result<Vec<crate::job::Member>, StoreError>;
    /// Every job a person is a member of (their inbox of invitations and contributions).
    fn memberships(&self, person: PersonId) -> Result<Vec<crate::job::Member>, StoreError>;
    /// Stores a member's answer to a campaign's invitation, audited (an acceptance as the
    /// release of the evidence the member chose). A member answers once.
    fn answer_invitation(
        &self,
        job: u64,
        person: PersonId,
        answer: crate::job::Answer,
    ) -> Result<crate::job::Member, StoreError>;
    /// Updates a job's status (and release) in one transaction with the billing records it
    /// leaves and the privacy budget it spends (millionths of ε per member, charged to
    /// `period`), audited.
    fn close_job(
        &self,
        job: &crate::job::Job,
        billing: Vec<crate::job::BillingRecord>,
        spend: &[(PersonId, u64)],
        period: &str,
    ) -> Result<crate::job::Job, StoreError>;
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
    fn billing(&self, job: Option<u64>) -> Result<Vec<crate::job::BillingRecord>, StoreError>;

    /// Stores a peer-contact offer (a new one when its `id` is 0), audited.
    fn put_offer(&self, offer: crate::peer::Offer) -> Result<crate::peer::Offer, StoreError>;
    fn offers(&self) -> Result<Vec<crate::peer::Offer>, StoreError>;
    /// Stores a contact request or its answer (a new one when its `id` is 0), audited with
    /// only the acting side's id: the audit never names the other side.
    fn put_contact(
        &self,
        contact: crate::peer::Contact,
    ) -> Result<crate::peer::Contact, StoreError>;
    fn contacts(&self) -> Result<Vec<crate::peer::Contact>, StoreError>;

    /// Stores a licence or sponsorship (its `id` is assigned), audited.
    fn add_licence(
        &self,
        licence: crate::licence::Licence,
    ) -> Result<crate::licence::Licence, StoreError>;
    fn licences(&self) -> Result<Vec<crate::licence::Licence>, StoreError>;

    /// The operator's tariff (the default until one is set).
    fn tariff(&self) -> Result<crate::ledger::Tariff, StoreError>;
    fn set_tariff(&self, tariff: &crate::ledger::Tariff) -> Result<(), StoreError>;
    /// Posts `entries` under `key` in one transaction, audited. A key already posted adds
    /// nothing: the entries it holds are returned, so a retried billing step never bills twice.
    fn post(
        &self,
        key: &str,
        entries: Vec<crate::ledger::Entry>,
    ) -> Result<Vec<crate::ledger::Entry>, StoreError>;
    /// Posts several keys' entries in one transaction (each key as [`Store::post`] would);
    /// returns how many keys were new.
    fn post_many(
        &self,
        postings: Vec<(String, Vec<crate::ledger::Entry>)>,
    ) -> Result<u64, StoreError>;
    /// Whether `key` was posted.
    fn posted(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.posting(key)?.is_some())
    }
    /// The entries posted under `key` (empty for a free run), or `None` if it was not posted.
    fn posting(&self, key: &str) -> Result<Option<Vec<crate::ledger::Entry>>, StoreError>;
    /// Every ledger entry, oldest first.
    fn ledger(&self) -> Result<Vec<crate::ledger::Entry>, StoreError>;

    /// The integrity record of a compiled-code cache entry (its SHA-256), if any.
    fn compiled_hash(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// The secret that keys the record-id pseudonyms plugins see (`sandbox/pseudonym.rs`):
    /// 32 bytes from the OS random source, made once when the store is created. It never
    /// leaves the host: not exported, not in the audit log, never shown.
    fn pseudonym_key(&self) -> Result<[u8; 32], StoreError>;
    fn set_compiled_hash(&self, key: &str, hash: &str) -> Result<(), StoreError>;
}
