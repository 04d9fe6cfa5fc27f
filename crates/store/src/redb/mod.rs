//! The embedded backend: one redb file, for a household or a small operator.
//!
//! Every write is one redb transaction committed with immediate durability, and the audit entry
//! of the action is appended in that same transaction, so a crash at any point leaves either
//! the action and its trace, or neither.

mod accounts;
mod audit;
mod codesign;
mod consent;
mod jobs;
mod ledger;
mod peers;
mod plugins;
mod records;
mod runs;

use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Serialize, de::DeserializeOwned};

use super::codec::{self, Projection};
use super::prelude::*;
use super::{
    ColumnBatch, Cursor, Erasure, KeyedRecord, NewRecords, Owner, Page, Person, PersonId,
    PluginRecord, Proposals, Publisher, Reception, Record, Schema, Source, StoreError, TimeRange,
    WriteOutcome,
};
use insitu_model::account::name::key as name_key;
use insitu_model::account::{Account, Token};
use insitu_model::audit::{AuditEntry, AuditEvent, Chain, ChainHead};
use insitu_model::checkpoint::Checkpoint;
use insitu_model::clock::{Clock, SystemClock};
use insitu_model::consent::Grant;
use insitu_model::job::{
    Answer, AnswerRefused, BillingRecord, Claim, Job, Member, Policy, RunSlot, Task, budget_admits,
};
use insitu_model::ledger::{Entry, Party, Tariff};
use insitu_model::licence::Licence;
use insitu_model::meter::RunRecord;
use insitu_model::peer::{Contact, ContactStatus, Offer};
use insitu_model::request::AccessRequest;

const PEOPLE: TableDefinition<u64, &str> = TableDefinition::new("people");
const COLLECTIONS: TableDefinition<&str, &str> = TableDefinition::new("collections");
const RECORDS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("records");
const PLUGINS: TableDefinition<&str, &str> = TableDefinition::new("plugins");
const GRANTS: TableDefinition<u64, &str> = TableDefinition::new("grants");
const RUNS: TableDefinition<u64, &str> = TableDefinition::new("runs");
/// The legacy chain: the single chain of a store written before per-person chains, by seq.
/// Never appended to again.
const AUDIT: TableDefinition<u64, &str> = TableDefinition::new("audit");
/// Every other chain's entries, keyed (chain kind, person, seq): kind 1 the operator's chain
/// (person 0), kind 2 a person's.
const AUDIT_CHAINS: TableDefinition<(u8, u64, u64), &str> = TableDefinition::new("audit_chains");
/// Each chain's head (a `ChainHead`), keyed (chain kind, person).
const AUDIT_HEADS: TableDefinition<(u8, u64), &str> = TableDefinition::new("audit_heads");
/// Checkpoints by number.
const CHECKPOINTS: TableDefinition<u64, &str> = TableDefinition::new("audit_checkpoints");
const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");
const COMPILED: TableDefinition<&str, &str> = TableDefinition::new("compiled");
/// Installed components by digest.
const COMPONENTS: TableDefinition<&str, &[u8]> = TableDefinition::new("components");
const PUBLISHERS: TableDefinition<&str, &str> = TableDefinition::new("publishers");
const REQUESTS: TableDefinition<u64, &str> = TableDefinition::new("requests");
const ACCOUNTS: TableDefinition<u64, &str> = TableDefinition::new("accounts");
/// Accounts by name key (`account::name::key`). A store written before names had keys has
/// each account under its raw name: `open` adds the keys, and a lookup tries the exact name
/// first (which only matters for two old accounts whose names share a key).
const ACCOUNT_NAMES: TableDefinition<&str, u64> = TableDefinition::new("account_names");
const TOKENS: TableDefinition<u64, &str> = TableDefinition::new("tokens");
const TOKEN_HASHES: TableDefinition<&str, u64> = TableDefinition::new("token_hashes");
const RECEPTIONS: TableDefinition<u64, &str> = TableDefinition::new("receptions");
/// The names of import sources (file names can be personal), keyed `person:sha256`. The audit
/// entry holds only the digest, so that erasure can delete the name without breaking the chain.
const SOURCES: TableDefinition<&str, &str> = TableDefinition::new("sources");
/// Operator settings (the campaign and study policy), by name.
const SETTINGS: TableDefinition<&str, &str> = TableDefinition::new("settings");
const JOBS: TableDefinition<u64, &str> = TableDefinition::new("jobs");
/// A job's members, keyed (job, person).
const MEMBERS: TableDefinition<(u64, u64), &str> = TableDefinition::new("job_members");
/// Jobs' work queues: (job, run) → the task's `Claim` (node "" and attempt 0 until claimed). A
/// task leaves when its member's result is recorded.
const TASKS: TableDefinition<(u64, u64), &str> = TableDefinition::new("job_tasks");
/// Jobs whose work queue was made, with its number of tasks.
const QUEUES: TableDefinition<u64, u64> = TableDefinition::new("job_queues");
const BILLING: TableDefinition<u64, &str> = TableDefinition::new("billing");
/// Privacy budget spent, keyed (person, period), in millionths of ε.
const BUDGETS: TableDefinition<(u64, &str), u64> = TableDefinition::new("privacy_budgets");
/// (job, person) -> millionths of ε reserved for that member (0: refused, over budget).
const RESERVATIONS: TableDefinition<(u64, u64), u64> = TableDefinition::new("budget_reservations");
/// Ledger entries by id, and the ids posted under each key.
const LEDGER: TableDefinition<u64, &str> = TableDefinition::new("ledger");
const LEDGER_KEYS: TableDefinition<&str, &str> = TableDefinition::new("ledger_keys");
const LICENCES: TableDefinition<u64, &str> = TableDefinition::new("licences");
const OFFERS: TableDefinition<u64, &str> = TableDefinition::new("peer_offers");
const CONTACTS: TableDefinition<u64, &str> = TableDefinition::new("peer_contacts");
/// Co-design: proposals by id; contributions and pledges by id, listed under their proposal
/// (`x:<proposal>`) and their member (`p:<person>`) in [`LISTINGS`]; votes keyed (ballot,
/// person); released tallies by ballot.
const PROPOSALS: TableDefinition<u64, &str> = TableDefinition::new("proposals");
const CONTRIBUTIONS: TableDefinition<u64, &str> = TableDefinition::new("contributions");
const PLEDGES: TableDefinition<u64, &str> = TableDefinition::new("pledges");
const VOTES: TableDefinition<(&str, u64), &str> = TableDefinition::new("votes");
const TALLIES: TableDefinition<&str, &str> = TableDefinition::new("tallies");
/// The store's own secrets, by name; nothing reads this table but `open`, and no export,
/// audit entry or listing includes it.
/// The listings' index: (listing, owner, id) → (), one entry per owner of a row (a run is its
/// person's and, outside a job, the organisation's that started it), written in the
/// transaction that writes the row, so that a page of one owner's rows is one key range
/// ([`Store::runs_page`] and the others). `owner` is [`owner_key`]: `p:<person>` or
/// `o:<organisation name>`. Listings: `runs`, `requests`, `grants`, `receptions`, `members`
/// (keyed on the job), `jobs` (owned by the opener and a campaign's association), `tokens`
/// (owned by `a:<account>`), `ledger` (owned by each side's `Party` as text, `person:3`), and
/// `proposals` (owned by `o:<organisation>`, `public`, `review`, `c:<contest>` and `open`, as
/// `Proposals` names them, moved when a proposal changes);
/// and three that are not an owner's: `running-runs` and `running-jobs` (owner `""`: the runs
/// and jobs running, each dropped when it finishes) and `unrevoked-grants` (owned by the plugin's digest, dropped when the grant
/// is revoked). A store written before it gets it at open, once (`LISTINGS_BUILT`).
const LISTINGS: TableDefinition<(&str, &str, u64), ()> = TableDefinition::new("listings");
/// Jobs by creation time: (`created_ms`, id) → (), written with the job and built at open
/// with [`LISTINGS`] ([`Store::jobs_since`]).
const JOB_TIMES: TableDefinition<(i64, u64), ()> = TableDefinition::new("job_times");
/// The counter that says which version of the listings' index was built for the rows a store
/// had before it ([`LISTINGS_VERSION`]).
const LISTINGS_BUILT: &str = "listings-index";
/// The listings' index as this code writes it: a store whose index is older is indexed again
/// at open (inserting is idempotent).
const LISTINGS_VERSION: u64 = 6;
const SECRETS: TableDefinition<&str, &[u8]> = TableDefinition::new("secrets");
const PSEUDONYM_KEY: &str = "record-pseudonyms";

fn db<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Db(e.to_string())
}

fn to_json<T: Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(db)
}

fn from_json<T: DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(db)
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredCollection {
    id: u32,
    schema: Schema,
}

/// redb's page cache (reads and the write buffer). redb's default is 1 GiB, which a campaign
/// over 10 million records fills with pages it reads once; 256 MiB keeps the process of a
/// small operator under 1 GiB with no measurable loss (docs/BENCHMARKS.md).
pub const CACHE_BYTES: usize = 256 << 20;

/// A store in one redb file.
pub struct RedbStore {
    db: Database,
    pseudonym_key: [u8; 32],
    clock: Arc<dyn Clock>,
}

/// A write transaction and the time it began, read once from the store's clock after the
/// write lock is taken: every time the store stamps itself in it (audit entries, decisions)
/// is that one, so times follow the order of the audit chain. Derefs to the redb transaction.
struct Tx {
    inner: WriteTransaction,
    now_ms: i64,
}

impl std::ops::Deref for Tx {
    type Target = WriteTransaction;
    fn deref(&self) -> &WriteTransaction {
        &self.inner
    }
}

impl RedbStore {
    /// Opens the store at `path`, creating it (and its tables) if needed, on the system clock.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with_clock(path, SystemClock::shared())
    }

    /// Opens the store at `path` on `clock`: the time it stamps its audit entries and
    /// decisions with, and answers [`Clocked::now_ms`] with to the layers above.
    pub fn open_with_clock(path: &Path, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        let database = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| {
                StoreError::Db(format!("cannot open the store at {}: {e}", path.display()))
            })?;
        let tx = database.begin_write().map_err(db)?;
        {
            tx.open_table(PEOPLE).map_err(db)?;
            tx.open_table(COLLECTIONS).map_err(db)?;
            tx.open_table(RECORDS).map_err(db)?;
            tx.open_table(PLUGINS).map_err(db)?;
            tx.open_table(GRANTS).map_err(db)?;
            tx.open_table(RUNS).map_err(db)?;
            tx.open_table(AUDIT).map_err(db)?;
            tx.open_table(AUDIT_CHAINS).map_err(db)?;
            tx.open_table(AUDIT_HEADS).map_err(db)?;
            tx.open_table(CHECKPOINTS).map_err(db)?;
            tx.open_table(COUNTERS).map_err(db)?;
            tx.open_table(COMPILED).map_err(db)?;
            tx.open_table(COMPONENTS).map_err(db)?;
            tx.open_table(TASKS).map_err(db)?;
            tx.open_table(QUEUES).map_err(db)?;
            tx.open_table(PUBLISHERS).map_err(db)?;
            tx.open_table(REQUESTS).map_err(db)?;
            tx.open_table(ACCOUNTS).map_err(db)?;
            tx.open_table(ACCOUNT_NAMES).map_err(db)?;
            tx.open_table(TOKENS).map_err(db)?;
            tx.open_table(TOKEN_HASHES).map_err(db)?;
            tx.open_table(RECEPTIONS).map_err(db)?;
            tx.open_table(SOURCES).map_err(db)?;
            tx.open_table(SETTINGS).map_err(db)?;
            tx.open_table(JOBS).map_err(db)?;
            tx.open_table(MEMBERS).map_err(db)?;
            tx.open_table(BILLING).map_err(db)?;
            tx.open_table(BUDGETS).map_err(db)?;
            tx.open_table(RESERVATIONS).map_err(db)?;
            tx.open_table(LEDGER).map_err(db)?;
            tx.open_table(LEDGER_KEYS).map_err(db)?;
            tx.open_table(LICENCES).map_err(db)?;
            tx.open_table(OFFERS).map_err(db)?;
            tx.open_table(CONTACTS).map_err(db)?;
            tx.open_table(PROPOSALS).map_err(db)?;
            tx.open_table(CONTRIBUTIONS).map_err(db)?;
            tx.open_table(PLEDGES).map_err(db)?;
            tx.open_table(VOTES).map_err(db)?;
            tx.open_table(TALLIES).map_err(db)?;
            tx.open_table(LISTINGS).map_err(db)?;
            tx.open_table(JOB_TIMES).map_err(db)?;
        }
        let pseudonym_key = secret(&tx, PSEUDONYM_KEY)?;
        key_account_names(&tx)?;
        build_listings(&tx)?;
        tx.commit().map_err(db)?;
        Ok(RedbStore {
            db: database,
            pseudonym_key,
            clock,
        })
    }

    fn write<R>(&self, f: impl FnOnce(&Tx) -> Result<R, StoreError>) -> Result<R, StoreError> {
        let inner = self.db.begin_write().map_err(db)?;
        let tx = Tx {
            inner,
            now_ms: self.clock.now_ms(),
        };
        let r = f(&tx)?;
        tx.inner.commit().map_err(db)?;
        Ok(r)
    }

    fn read_json<'k, K: redb::Key + 'static, T: DeserializeOwned>(
        &self,
        table: TableDefinition<K, &str>,
        key: impl std::borrow::Borrow<K::SelfType<'k>>,
    ) -> Result<Option<T>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(table).map_err(db)?;
        match t.get(key).map_err(db)? {
            Some(v) => Ok(Some(from_json(v.value())?)),
            None => Ok(None),
        }
    }

    fn all_json<K: redb::Key + 'static, T: DeserializeOwned>(
        &self,
        table: TableDefinition<K, &str>,
    ) -> Result<Vec<T>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(table).map_err(db)?;
        t.iter()
            .map_err(db)?
            .map(|r| r.map_err(db).and_then(|(_, v)| from_json(v.value())))
            .collect()
    }

    /// A page of `owner`'s rows of `table` (keyed by id): by the table's own order for
    /// [`Owner::All`], else by `listing`'s index. Newest first.
    fn page_json<T: DeserializeOwned>(
        &self,
        table: TableDefinition<u64, &str>,
        listing: &str,
        owner: &Owner,
        page: Page,
    ) -> Result<Vec<T>, StoreError> {
        self.page_keyed(table, listing, owner_key(owner).as_deref(), page)
    }

    /// A page of `table`'s rows listed under `key` in `listing` (by the table's own order for
    /// `None`), newest first.
    fn page_keyed<T: DeserializeOwned>(
        &self,
        table: TableDefinition<u64, &str>,
        listing: &str,
        key: Option<&str>,
        page: Page,
    ) -> Result<Vec<T>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(table).map_err(db)?;
        let ids = match key {
            None => {
                let hi = page.before.map_or(Bound::Unbounded, Bound::Excluded);
                let mut ids = Vec::new();
                for row in t.range::<u64>((Bound::Unbounded, hi)).map_err(db)?.rev() {
                    if ids.len() >= page.limit {
                        break;
                    }
                    ids.push(row.map_err(db)?.0.value());
                }
                ids
            }
            Some(key) => listed(&tx.open_table(LISTINGS).map_err(db)?, listing, key, page)?,
        };
        ids.into_iter()
            .map(|id| {
                let v = t.get(id).map_err(db)?.ok_or_else(|| {
                    StoreError::Db(format!("listing `{listing}` names {id}, which is missing"))
                })?;
                from_json(v.value())
            })
            .collect()
    }

    /// Every one of person `p`'s rows of `table` by `listing`'s index, oldest first.
    fn all_of<T: DeserializeOwned>(
        &self,
        table: TableDefinition<u64, &str>,
        listing: &str,
        p: PersonId,
        id: impl Fn(&T) -> u64,
    ) -> Result<Vec<T>, StoreError> {
        let owner = Owner::Person(p);
        let mut all = crate::walk(1024, id, |page| {
            self.page_json(table, listing, &owner, page)
        })?;
        all.reverse();
        Ok(all)
    }

    fn read_u64(
        &self,
        table: TableDefinition<&str, u64>,
        key: &str,
    ) -> Result<Option<u64>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(table).map_err(db)?;
        Ok(t.get(key).map_err(db)?.map(|v| v.value()))
    }

    fn stored_collection(&self, name: &str) -> Result<StoredCollection, StoreError> {
        self.read_json(COLLECTIONS, name)?
            .ok_or_else(|| StoreError::NoCollection(name.to_string()))
    }
}

impl Clocked for RedbStore {
    fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}

/// Takes the next value of counter `name` (starting at 1).
fn next_id(tx: &WriteTransaction, name: &str) -> Result<u64, StoreError> {
    let mut t = tx.open_table(COUNTERS).map_err(db)?;
    let next = t.get(name).map_err(db)?.map(|v| v.value()).unwrap_or(0) + 1;
    t.insert(name, next).map_err(db)?;
    Ok(next)
}

/// A chain's key in the tables (the legacy chain has its own table).
fn chain_key(chain: Chain) -> (u8, u64) {
    match chain {
        Chain::Legacy => (0, 0),
        Chain::Operator => (1, 0),
        Chain::Person(p) => (2, p),
    }
}

/// The legacy chain's head, if the store has one.
fn legacy_head(t: &impl ReadableTable<u64, &'static str>) -> Result<Option<ChainHead>, StoreError> {
    match t.last().map_err(db)? {
        Some((_, v)) => Ok(Some(from_json::<AuditEntry>(v.value())?.head())),
        None => Ok(None),
    }
}

/// Appends `event` to its chain inside `tx`.
fn append(tx: &Tx, event: AuditEvent) -> Result<AuditEntry, StoreError> {
    let chain = Chain::of(&event);
    let key = chain_key(chain);
    let mut heads = tx.open_table(AUDIT_HEADS).map_err(db)?;
    let head: Option<ChainHead> = match heads.get(key).map_err(db)? {
        Some(v) => Some(from_json(v.value())?),
        None => None,
    };
    let origin = match head {
        Some(_) => String::new(),
        None => legacy_head(&tx.open_table(AUDIT).map_err(db)?)?
            .map(|h| h.hash)
            .unwrap_or_else(|| insitu_model::audit::GENESIS.to_string()),
    };
    let entry = AuditEntry::next(chain, head.as_ref(), &origin, tx.now_ms, event);
    let mut t = tx.open_table(AUDIT_CHAINS).map_err(db)?;
    t.insert((key.0, key.1, entry.seq), to_json(&entry)?.as_str())
        .map_err(db)?;
    heads
        .insert(key, to_json(&entry.head())?.as_str())
        .map_err(db)?;
    Ok(entry)
}

fn get_json<'k, K: redb::Key + 'static, T: DeserializeOwned>(
    tx: &WriteTransaction,
    table: TableDefinition<K, &str>,
    key: impl std::borrow::Borrow<K::SelfType<'k>>,
) -> Result<Option<T>, StoreError> {
    let t = tx.open_table(table).map_err(db)?;
    match t.get(key).map_err(db)? {
        Some(v) => Ok(Some(from_json(v.value())?)),
        None => Ok(None),
    }
}

/// Every value of a table keyed by id, read in a write transaction.
fn all_in<T: DeserializeOwned>(
    tx: &WriteTransaction,
    table: TableDefinition<u64, &str>,
) -> Result<Vec<T>, StoreError> {
    let t = tx.open_table(table).map_err(db)?;
    t.iter()
        .map_err(db)?
        .map(|r| r.map_err(db).and_then(|(_, v)| from_json(v.value())))
        .collect()
}

fn put_json<'k, K: redb::Key + 'static>(
    tx: &WriteTransaction,
    table: TableDefinition<K, &str>,
    key: impl std::borrow::Borrow<K::SelfType<'k>>,
    v: &impl Serialize,
) -> Result<(), StoreError> {
    let mut t = tx.open_table(table).map_err(db)?;
    t.insert(key, to_json(v)?.as_str()).map_err(db)?;
    Ok(())
}

/// The key of an owner in [`LISTINGS`] (`None` for every row).
fn owner_key(owner: &Owner) -> Option<String> {
    match owner {
        Owner::All => None,
        Owner::Person(p) => Some(person_owner(*p)),
        Owner::Organisation(name) => Some(organisation_owner(name)),
    }
}

/// The owner of an account's tokens in [`LISTINGS`].
fn account_owner(account: u64) -> String {
    format!("a:{account}")
}

fn person_owner(p: PersonId) -> String {
    format!("p:{p}")
}

fn organisation_owner(name: &str) -> String {
    format!("o:{name}")
}

/// The ids of `owner`'s page of `listing`, newest first.
fn listed(
    t: &impl ReadableTable<(&'static str, &'static str, u64), ()>,
    listing: &str,
    owner: &str,
    page: Page,
) -> Result<Vec<u64>, StoreError> {
    let lo = Bound::Included((listing, owner, 0u64));
    let hi = match page.before {
        Some(b) => Bound::Excluded((listing, owner, b)),
        None => Bound::Included((listing, owner, u64::MAX)),
    };
    let mut ids = Vec::new();
    for row in t.range::<(&str, &str, u64)>((lo, hi)).map_err(db)?.rev() {
        if ids.len() >= page.limit {
            break;
        }
        ids.push(row.map_err(db)?.0.value().2);
    }
    Ok(ids)
}

/// Indexes row `id` of `listing` under each of `owners`, inside `tx` (idempotent).
fn list(
    tx: &WriteTransaction,
    listing: &str,
    owners: &[String],
    id: u64,
) -> Result<(), StoreError> {
    let mut t = tx.open_table(LISTINGS).map_err(db)?;
    for o in owners {
        t.insert((listing, o.as_str(), id), ()).map_err(db)?;
    }
    Ok(())
}

/// Removes row `id` of `listing` from each of `owners`' index, inside `tx`.
fn unlist(
    tx: &WriteTransaction,
    listing: &str,
    owners: &[String],
    id: u64,
) -> Result<(), StoreError> {
    let mut t = tx.open_table(LISTINGS).map_err(db)?;
    for o in owners {
        t.remove((listing, o.as_str(), id)).map_err(db)?;
    }
    Ok(())
}

/// Whose listings a run is in: its person's, and the organisation's that started it outside a
/// job (see [`Owner`]).
fn run_owners(r: &RunRecord) -> Vec<String> {
    let mut o = vec![person_owner(r.person)];
    if let (None, Some(org)) = (r.job, r.requester.as_deref()) {
        o.push(organisation_owner(org));
    }
    o
}

fn request_owners(r: &AccessRequest) -> Vec<String> {
    let mut o = vec![organisation_owner(&r.requester)];
    if !r.nowhere {
        o.push(person_owner(r.person));
    }
    o
}

fn grant_owners(g: &Grant) -> Vec<String> {
    let mut o = vec![person_owner(g.person)];
    if let Some(origin) = &g.origin {
        o.push(organisation_owner(&origin.requester));
    }
    o
}

fn reception_owners(r: &Reception) -> Vec<String> {
    vec![person_owner(r.person), organisation_owner(&r.organisation)]
}

/// Whose listings a job is in: the account that opened it, and a campaign's association.
fn job_owners(j: &Job) -> Vec<String> {
    let mut o = vec![organisation_owner(&j.owner)];
    if let insitu_model::job::JobKind::Campaign(c) = &j.kind
        && c.association != j.owner
    {
        o.push(organisation_owner(&c.association));
    }
    o
}

/// Stores a job under its id, in its owners' listings, the running jobs' while it runs, and
/// by its creation time.
fn put_job(tx: &WriteTransaction, j: &Job) -> Result<(), StoreError> {
    put_json(tx, JOBS, j.id, j)?;
    list(tx, "jobs", &job_owners(j), j.id)?;
    if j.status == insitu_model::job::JobStatus::Running {
        list(tx, "running-jobs", &[String::new()], j.id)?;
    } else {
        unlist(tx, "running-jobs", &[String::new()], j.id)?;
    }
    tx.open_table(JOB_TIMES)
        .map_err(db)?
        .insert((j.created_ms, j.id), ())
        .map_err(db)?;
    Ok(())
}

/// Whose ledger an entry is in: the party it debits and the one it credits.
fn ledger_owners(e: &Entry) -> Vec<String> {
    vec![e.debit.to_string(), e.credit.to_string()]
}

/// Stores a run under its id, in its owners' listings, and in the running runs' until it is
/// finished.
fn put_run(tx: &WriteTransaction, run: &RunRecord) -> Result<(), StoreError> {
    put_json(tx, RUNS, run.id, run)?;
    list(tx, "runs", &run_owners(run), run.id)?;
    if run.outcome == insitu_model::meter::Outcome::Running {
        list(tx, "running-runs", &[String::new()], run.id)
    } else {
        unlist(tx, "running-runs", &[String::new()], run.id)
    }
}

/// Stores a request under its id, in its owners' listings.
fn put_request(tx: &WriteTransaction, r: &AccessRequest) -> Result<(), StoreError> {
    put_json(tx, REQUESTS, r.id, r)?;
    list(tx, "requests", &request_owners(r), r.id)
}

/// Stores a grant under its id, in its owners' listings, and in its plugin's unrevoked
/// grants until it is revoked.
fn put_grant(tx: &WriteTransaction, g: &Grant) -> Result<(), StoreError> {
    put_json(tx, GRANTS, g.id, g)?;
    list(tx, "grants", &grant_owners(g), g.id)?;
    let plugin = [g.plugin_digest.clone()];
    if g.revoked_ms.is_none() {
        list(tx, "unrevoked-grants", &plugin, g.id)
    } else {
        unlist(tx, "unrevoked-grants", &plugin, g.id)
    }
}

/// Stores a reception under its id, in its owners' listings.
fn put_reception(tx: &WriteTransaction, r: &Reception) -> Result<(), StoreError> {
    put_json(tx, RECEPTIONS, r.id, r)?;
    list(tx, "receptions", &reception_owners(r), r.id)
}

/// Stores a job's member, in the person's memberships (keyed on the job).
fn put_member(tx: &WriteTransaction, job: u64, m: &Member) -> Result<(), StoreError> {
    put_json(tx, MEMBERS, (job, m.person), m)?;
    list(tx, "members", &[person_owner(m.person)], job)
}

/// Indexes the rows a store had before [`LISTINGS`], once.
fn build_listings(tx: &WriteTransaction) -> Result<(), StoreError> {
    let built = tx
        .open_table(COUNTERS)
        .map_err(db)?
        .get(LISTINGS_BUILT)
        .map_err(db)?
        .map(|v| v.value());
    if built >= Some(LISTINGS_VERSION) {
        return Ok(());
    }
    for r in all_in::<RunRecord>(tx, RUNS)? {
        put_run(tx, &r)?;
    }
    for r in all_in::<AccessRequest>(tx, REQUESTS)? {
        list(tx, "requests", &request_owners(&r), r.id)?;
    }
    for g in all_in::<Grant>(tx, GRANTS)? {
        put_grant(tx, &g)?;
    }
    for r in all_in::<Reception>(tx, RECEPTIONS)? {
        list(tx, "receptions", &reception_owners(&r), r.id)?;
    }
    let members: Vec<(u64, u64)> = {
        let t = tx.open_table(MEMBERS).map_err(db)?;
        t.iter()
            .map_err(db)?
            .map(|r| r.map_err(db).map(|(k, _)| k.value()))
            .collect::<Result<_, _>>()?
    };
    for (job, person) in members {
        list(tx, "members", &[person_owner(person)], job)?;
    }
    for e in all_in::<Entry>(tx, LEDGER)? {
        list(tx, "ledger", &ledger_owners(&e), e.id)?;
    }
    for j in all_in::<Job>(tx, JOBS)? {
        put_job(tx, &j)?;
    }
    for t in all_in::<Token>(tx, TOKENS)? {
        list(tx, "tokens", &[account_owner(t.account)], t.id)?;
    }
    for p in all_in::<insitu_model::codesign::Proposal>(tx, PROPOSALS)? {
        codesign::put_proposal_in(tx, None, &p)?;
    }
    tx.open_table(COUNTERS)
        .map_err(db)?
        .insert(LISTINGS_BUILT, LISTINGS_VERSION)
        .map_err(db)?;
    Ok(())
}

/// Stores a finished run under a new id, with its audit entry.
fn insert_run(tx: &Tx, mut run: RunRecord) -> Result<RunRecord, StoreError> {
    run.id = next_id(tx, "run")?;
    audit_run(tx, run)
}

/// Stores `run` under its id with its audit entry.
fn audit_run(tx: &Tx, run: RunRecord) -> Result<RunRecord, StoreError> {
    put_run(tx, &run)?;
    append(tx, AuditEvent::run(&run))?;
    Ok(run)
}

/// The ledger entries with these ids, in that order.
fn entries_by_id(
    t: &impl ReadableTable<u64, &'static str>,
    ids: &[u64],
) -> Result<Vec<Entry>, StoreError> {
    ids.iter()
        .map(|id| {
            let v = t
                .get(*id)
                .map_err(db)?
                .ok_or_else(|| StoreError::Db(format!("ledger entry {id} is missing")))?;
            from_json(v.value())
        })
        .collect()
}

/// Posts `entries` under `key` inside `tx` (see [`Store::post`]); also says whether the key
/// was new.
fn post_in(tx: &Tx, key: &str, entries: Vec<Entry>) -> Result<(Vec<Entry>, bool), StoreError> {
    let existing: Option<Vec<u64>> = {
        let t = tx.open_table(LEDGER_KEYS).map_err(db)?;
        match t.get(key).map_err(db)? {
            Some(v) => Some(from_json(v.value())?),
            None => None,
        }
    };
    if let Some(ids) = existing {
        let old = entries_by_id(&tx.open_table(LEDGER).map_err(db)?, &ids)?;
        return Ok((old, false));
    }
    let mut out = Vec::with_capacity(entries.len());
    for mut e in entries {
        e.id = next_id(tx, "ledger")?;
        e.key = key.to_string();
        put_json(tx, LEDGER, e.id, &e)?;
        list(tx, "ledger", &ledger_owners(&e), e.id)?;
        out.push(e);
    }
    let ids: Vec<u64> = out.iter().map(|e| e.id).collect();
    put_json(tx, LEDGER_KEYS, key, &ids)?;
    append(
        tx,
        AuditEvent::LedgerPosted {
            key: key.to_string(),
            entries: out.len() as u32,
        },
    )?;
    Ok((out, true))
}

/// Stores `grant` under a new id, with its audit entry.
fn insert_grant(tx: &Tx, mut grant: Grant) -> Result<Grant, StoreError> {
    grant.id = next_id(tx, "grant")?;
    put_grant(tx, &grant)?;
    append(tx, AuditEvent::grant_created(&grant))?;
    Ok(grant)
}

/// Defines `schema` inside `tx` unless it exists (see [`Store::define_collection`]).
fn define_in(tx: &Tx, schema: &Schema) -> Result<(), StoreError> {
    let existing: Option<StoredCollection> = {
        let t = tx.open_table(COLLECTIONS).map_err(db)?;
        let v = t.get(schema.name.as_str()).map_err(db)?;
        match v {
            Some(v) => Some(from_json(v.value())?),
            None => None,
        }
    };
    match existing {
        Some(c) if c.schema == *schema => Ok(()),
        Some(_) => Err(StoreError::SchemaConflict(schema.name.clone())),
        None => {
            let id = next_id(tx, "collection")? as u32;
            let stored = StoredCollection {
                id,
                schema: schema.clone(),
            };
            put_json(tx, COLLECTIONS, schema.name.as_str(), &stored)?;
            append(
                tx,
                AuditEvent::CollectionDefined {
                    collection: schema.name.clone(),
                },
            )?;
            Ok(())
        }
    }
}

/// Writes `records` of `coll` inside `tx`, with their audit entry (see [`Store::write_records`]).
fn write_in(
    tx: &Tx,
    person: PersonId,
    coll: &StoredCollection,
    records: &[KeyedRecord],
    source: Source<'_>,
) -> Result<WriteOutcome, StoreError> {
    let mut out = WriteOutcome::default();
    {
        let mut t = tx.open_table(RECORDS).map_err(db)?;
        let mut buf = Vec::with_capacity(256);
        for (i, r) in records.iter().enumerate() {
            let key = codec::record_key(person, coll.id, r.time, r.id);
            codec::encode(&r.values, &mut buf);
            if let Some(stored) = t.get(key.as_slice()).map_err(db)? {
                let i = u32::try_from(i).unwrap_or(u32::MAX);
                out.duplicates += 1;
                out.taken.push(i);
                if stored.value() != buf.as_slice() {
                    out.changed.push(i);
                }
                continue;
            }
            t.insert(key.as_slice(), buf.as_slice()).map_err(db)?;
            out.added += 1;
        }
    }
    if let (Source::File(name), Some(digest)) = (source, source.file_digest()) {
        tx.open_table(SOURCES)
            .map_err(db)?
            .insert(format!("{person}:{digest}").as_str(), name)
            .map_err(db)?;
    }
    append(
        tx,
        AuditEvent::records_imported(person, &coll.schema.name, &out, source),
    )?;
    Ok(out)
}

fn require_person(tx: &WriteTransaction, person: PersonId) -> Result<(), StoreError> {
    let t = tx.open_table(PEOPLE).map_err(db)?;
    if t.get(person).map_err(db)?.is_none() {
        return Err(StoreError::NoPerson(person));
    }
    Ok(())
}

/// The 32-byte secret `name`, drawn from the OS random source the first time (when the store
/// is created) and kept from then on.
/// Indexes each account under its name key where no account is yet, in id order: a no-op on a
/// store whose accounts all have their keys, and the migration of one written before keys (its
/// raw-name entries stay, for the lookup's fallback). Of two old accounts whose names share a
/// key, the older gets it; the other still signs in under its exact name.
fn key_account_names(tx: &WriteTransaction) -> Result<(), StoreError> {
    let accounts: Vec<Account> = all_in(tx, ACCOUNTS)?;
    let mut names = tx.open_table(ACCOUNT_NAMES).map_err(db)?;
    for a in accounts {
        let key = name_key(&a.name);
        if names.get(key.as_str()).map_err(db)?.is_none() {
            names.insert(key.as_str(), a.id).map_err(db)?;
        }
    }
    Ok(())
}

fn secret(tx: &WriteTransaction, name: &str) -> Result<[u8; 32], StoreError> {
    let mut t = tx.open_table(SECRETS).map_err(db)?;
    if let Some(v) = t.get(name).map_err(db)? {
        return v.value().try_into().map_err(|_| {
            StoreError::Db(format!(
                "the store's secret `{name}` is {} bytes, not 32; the store file is damaged",
                v.value().len()
            ))
        });
    }
    let mut fresh = [0u8; 32];
    getrandom::getrandom(&mut fresh).map_err(|e| {
        StoreError::Db(format!(
            "cannot draw the store's secret `{name}` from the operating system's random source: \
             {e}; check that getrandom(2) or /dev/urandom works"
        ))
    })?;
    t.insert(name, fresh.as_slice()).map_err(db)?;
    Ok(fresh)
}

/// Field bytes after which a batch is closed early.
pub const MAX_BATCH_BYTES: usize = 16 << 20;

struct RedbCursor {
    schema: Schema,
    projection: Projection,
    iter: redb::Range<'static, &'static [u8], &'static [u8]>,
    /// Whether `iter` has given its last record (a batch stopped at its end, not at its size).
    ended: bool,
}

impl Cursor for RedbCursor {
    fn next_batch(&mut self, max: usize) -> Result<Option<(ColumnBatch, usize)>, StoreError> {
        let mut batch = self.projection.empty_batch(&self.schema, max.min(4096));
        let mut bytes = 0;
        // Bounded in bytes too, so text offsets stay small and a batch never balloons.
        while batch.len() < max && bytes < MAX_BATCH_BYTES {
            let Some(item) = self.iter.next() else {
                self.ended = true;
                break;
            };
            let (k, v) = item.map_err(db)?;
            let (time, id) = codec::split_key(k.value());
            bytes += self
                .projection
                .decode_into(&self.schema, v.value(), &mut batch)?;
            batch.ids.push(id);
            batch.times.push(time);
        }
        Ok(if batch.is_empty() {
            None
        } else {
            Some((batch, bytes))
        })
    }

    fn exhausted(&self) -> bool {
        self.ended
    }
}

/// Every row of `rows` listed under `owner` in `listing`, oldest first.
pub(super) fn rows_of<T: DeserializeOwned>(
    listings: &impl ReadableTable<(&'static str, &'static str, u64), ()>,
    rows: &impl ReadableTable<u64, &'static str>,
    listing: &str,
    owner: &str,
) -> Result<Vec<T>, StoreError> {
    let mut out = listed(listings, listing, owner, Page::first(usize::MAX))?
        .into_iter()
        .map(|id| {
            let v = rows.get(id).map_err(db)?.ok_or_else(|| {
                StoreError::Db(format!("listing `{listing}` names {id}, which is missing"))
            })?;
            from_json(v.value())
        })
        .collect::<Result<Vec<T>, _>>()?;
    out.reverse();
    Ok(out)
}

impl RedbStore {
    /// Every row of `table` listed under `owner` in `listing`, oldest first.
    pub(super) fn listed_rows<T: DeserializeOwned>(
        &self,
        table: TableDefinition<u64, &str>,
        listing: &str,
        owner: &str,
    ) -> Result<Vec<T>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        rows_of(
            &tx.open_table(LISTINGS).map_err(db)?,
            &tx.open_table(table).map_err(db)?,
            listing,
            owner,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use insitu_model::account::Role;
    use insitu_model::job::JobStatus;

    /// An account as code before name keys wrote it: under its raw name only.
    fn add_old_account(path: &Path, id: u64, name: &str) {
        let database = Database::create(path).unwrap();
        let tx = database.begin_write().unwrap();
        let a = Account {
            id,
            name: name.into(),
            role: Role::Organisation,
            person: None,
            password: String::new(),
            created_ms: 0,
            language: None,
        };
        put_json(&tx, ACCOUNTS, id, &a).unwrap();
        tx.open_table(ACCOUNT_NAMES)
            .unwrap()
            .insert(name, id)
            .unwrap();
        tx.commit().unwrap();
    }

    #[test]
    fn an_old_stores_accounts_get_their_keys_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("insitu.redb");
        drop(RedbStore::open(&path).unwrap());
        add_old_account(&path, 1, "Acme");
        add_old_account(&path, 2, "acme ");
        add_old_account(&path, 3, "Globex");

        let store = RedbStore::open(&path).unwrap();
        let id = |name: &str| store.account_by_name(name).unwrap().map(|a| a.id);
        // Any spelling finds the account; the older of two that share a key gets the key, and
        // the other still answers to its exact name.
        assert_eq!(id("ACME"), Some(1));
        assert_eq!(id("Acme"), Some(1));
        assert_eq!(id("acme "), Some(2));
        assert_eq!(id("GLOBEX"), Some(3));
        assert_eq!(id("Initech"), None);
        // A new account cannot take an old one's name in another spelling.
        let mut new = store.account(3).unwrap().unwrap();
        new.name = "globex".into();
        assert!(matches!(
            store.add_account(new),
            Err(StoreError::NameTaken(existing)) if existing == "Globex"
        ));
    }

    /// A store written before the listings' index gets it when opened, once.
    #[test]
    fn an_old_stores_rows_are_listed_after_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("insitu.redb");
        {
            let store = RedbStore::open(&path).unwrap();
            let p = store.add_person("ada").unwrap();
            let mut run = RunRecord::new(p, 1, "d", 5);
            run.requester = Some("acme".into());
            run.outcome = insitu_model::meter::Outcome::Succeeded;
            store.record_run(run.clone()).unwrap();
            run.requester = None;
            store.record_run(run).unwrap();
            // Still running when the process stopped.
            store.begin_run(RunRecord::new(p, 1, "d", 7)).unwrap();
            let line = Entry {
                id: 0,
                at_ms: 5,
                key: String::new(),
                debit: Party::Organisation("acme".into()),
                credit: Party::Person(p),
                amount: insitu_model::output::Money {
                    minor: 3,
                    currency: "EUR".into(),
                },
                movement: insitu_model::ledger::Movement::Passage,
                memo: "run".into(),
            };
            store.post("run:1", vec![line]).unwrap();
            // Two jobs, one of them finished; two grants for a plugin, one of them revoked.
            for created_ms in [30, 10] {
                let job = Job {
                    id: 0,
                    kind: insitu_model::job::JobKind::Study(insitu_model::job::StudySpec {
                        description: "spending".into(),
                        min_cohort: 5,
                        epsilon_micro: 100_000,
                        reward: insitu_model::output::Money {
                            minor: 1,
                            currency: "EUR".into(),
                        },
                        period: "2026-11".into(),
                    }),
                    owner: "acme".into(),
                    plugin_digest: "d".into(),
                    params: vec![],
                    created_ms,
                    status: JobStatus::Running,
                    release: None,
                    counts: None,
                    release_ms: 99,
                };
                store.add_job(job).unwrap();
            }
            let finished = Job {
                status: JobStatus::Finished { at_ms: 40 },
                ..store.job(1).unwrap()
            };
            store.close_job(&finished, vec![], &[], "2026-11").unwrap();
            for _ in 0..2 {
                store
                    .add_grant(Grant {
                        id: 0,
                        person: p,
                        plugin_digest: "d".into(),
                        collections: vec![],
                        window: TimeRange::ALL,
                        created_ms: 1,
                        expires_ms: None,
                        revoked_ms: None,
                        origin: None,
                    })
                    .unwrap();
            }
            store.revoke_grant(1, 50).unwrap();
        }
        {
            // As code before the index left it: no index, no mark.
            let database = Database::create(&path).unwrap();
            let tx = database.begin_write().unwrap();
            tx.delete_table(LISTINGS).unwrap();
            tx.delete_table(JOB_TIMES).unwrap();
            tx.open_table(COUNTERS)
                .unwrap()
                .remove(LISTINGS_BUILT)
                .unwrap();
            tx.commit().unwrap();
        }
        let store = RedbStore::open(&path).unwrap();
        let ids = |owner: Owner| -> Vec<u64> {
            store
                .runs_page(&owner, Page::first(10))
                .unwrap()
                .iter()
                .map(|r| r.id)
                .collect()
        };
        assert_eq!(ids(Owner::Person(1)), vec![3, 2, 1]);
        let running: Vec<u64> = store.running_runs().unwrap().iter().map(|r| r.id).collect();
        assert_eq!(running, vec![3]);
        assert_eq!(ids(Owner::Organisation("acme".into())), vec![1]);
        assert_eq!(store.ledger_of(&Party::Person(1)).unwrap().len(), 1);
        let ids = |jobs: Vec<Job>| jobs.iter().map(|j| j.id).collect::<Vec<_>>();
        assert_eq!(ids(store.running_jobs().unwrap()), vec![2]);
        assert_eq!(ids(store.jobs_since(20).unwrap()), vec![1]);
        assert_eq!(ids(store.jobs_since(0).unwrap()), vec![1, 2]);
        let grants = store.unrevoked_grants("d").unwrap();
        assert_eq!(grants.iter().map(|g| g.id).collect::<Vec<_>>(), vec![2]);
    }

    /// Billing records as code before typed parties wrote them (names, and no movement) read
    /// as the ledger took them over then.
    #[test]
    fn an_old_stores_billing_records_still_read() {
        use insitu_model::ledger::{Movement, Party};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("insitu.redb");
        drop(RedbStore::open(&path).unwrap());
        let old = [
            (r#""to":"operator""#, "commission on campaign 3"),
            (
                r#""to":"UFC Que Choisir""#,
                "association's share of campaign 3",
            ),
            (r#""to":"person:2""#, "compensation from campaign 3"),
            (r#""to":"person:4""#, "reward for taking part in study 3"),
        ];
        {
            let database = Database::create(&path).unwrap();
            let tx = database.begin_write().unwrap();
            {
                let mut t = tx.open_table(BILLING).unwrap();
                for (id, (to, memo)) in (1..).zip(old) {
                    let json = format!(
                        r#"{{"id":{id},"job":3,"at_ms":9,"from":"Agence Dupont",{to},"amount":{{"minor":85,"currency":"EUR"}},"memo":"{memo}"}}"#
                    );
                    t.insert(id, json.as_str()).unwrap();
                }
            }
            tx.commit().unwrap();
        }
        let store = RedbStore::open(&path).unwrap();
        let read: Vec<(Party, Party, Movement)> = store
            .billing(Some(3))
            .unwrap()
            .into_iter()
            .map(|b| (b.from, b.to, b.movement))
            .collect();
        let brand = || Party::Organisation("Agence Dupont".into());
        assert_eq!(
            read,
            vec![
                (brand(), Party::Operator, Movement::Settlement),
                (
                    brand(),
                    Party::Organisation("UFC Que Choisir".into()),
                    Movement::Settlement
                ),
                (brand(), Party::Person(2), Movement::Settlement),
                (brand(), Party::Person(4), Movement::Reward),
            ]
        );
    }
}
