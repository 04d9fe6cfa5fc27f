//! The PostgreSQL backend of the store: every [`Store`](insitu_store::Store) sub-trait over one
//! PostgreSQL database, for an operator that outgrows one machine.
//!
//! It keeps the redb backend's promises (the conformance suite is the same): every write is one
//! PostgreSQL transaction with its audit entry, ids come from counters that behave as redb's,
//! and the store stamps its times by its injected clock. The domain's rules are the model's,
//! called as the redb backend calls them.
//!
//! The `Store` traits are synchronous and are called from plain threads and from inside tokio
//! runtimes (the server's handlers), where a nested `block_on` panics. So the store owns a
//! small runtime of its own: each call spawns its future there and waits for it with
//! `futures::executor::block_on`, which does not touch the caller's tokio context
//! (`PgStore::run`).
//!
//! Schema: the person is the leading key of every personal table (`migrations/`), so that a
//! distributed PostgreSQL sharded by person takes it unchanged; only the job and ledger tables
//! (and the global settings) are cross-person. The audit log is one hash chain per person
//! and one for the operator: a transaction's audit entries are written when it commits, after
//! it locks the head rows of the chains they go to, in key order, so writers for different
//! people never wait for each other and two nodes never deadlock on the heads; writers of one
//! chain, on one node or several, extend it one after the other.
//!
//! May touch: the database it is given (and the schema it is told). Knows nothing of
//! WebAssembly, packages or HTTP.

mod accounts;
mod audit;
mod chunks;
mod codesign;
mod consent;
mod jobs;
mod ledger;
mod peers;
mod plugins;
mod profile;
mod records;
mod runs;
pub mod testing;

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_postgres::types::{Json, ToSql};
use tokio_postgres::{NoTls, Row};

use insitu_model::audit::{AuditEntry, AuditEvent, Chain, ChainHead};
use insitu_model::checkpoint::Checkpoint;
use insitu_model::clock::{Clock, SystemClock};
use insitu_model::consent::Grant;
use insitu_model::ledger::Entry;
use insitu_model::meter::RunRecord;
use insitu_store::{Clocked, Owner, Page, PersonId, Schema, StoreError};

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// The most connections a store's pool keeps: at least 16, and 4 per core, since a job runs 2
/// members per core by default (`Policy::concurrency`), a member whose scan outgrows its first
/// read holds a connection from its first batch to the end of its data (its grant checks go
/// on it), and claims and commits run beside them.
fn pool_size() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    (4 * cores).max(16)
}
/// How long a call waits for a free connection before it fails (rather than hanging when every
/// connection is held).
const POOL_WAIT: Duration = Duration::from_secs(30);
/// Worker threads of the store's own runtime: it only drives sockets, so two are plenty.
const WORKERS: usize = 2;
/// Chunks of records a scan fetches from its server-side cursor at a time (at most; about 7 KiB
/// each, `chunks::CHUNK_BYTES`), and the statement that fetches them (the same number).
const FETCH_CHUNKS: usize = 64;
const FETCH_SQL: &str = "FETCH 64 FROM insitu_scan";
const _: () = assert!(FETCH_CHUNKS == 64, "FETCH_SQL fetches 64 chunks");
/// The name of the pseudonym secret in `secrets` (the redb backend's name).
const PSEUDONYM_KEY: &str = "record-pseudonyms";
/// The advisory lock taken while migrating, so that nodes starting together migrate once.
const MIGRATION_LOCK: i64 = 0x1a51_7a00_0001;

type Res<T> = Result<T, StoreError>;

/// A store in one PostgreSQL database (in one schema of it).
pub struct PgStore {
    /// Always `Some` until drop, which shuts it down in the background: a runtime dropped
    /// inside another runtime's context panics.
    runtime: Option<tokio::runtime::Runtime>,
    pool: Pool,
    clock: Arc<dyn Clock>,
    pseudonym_key: [u8; 32],
    collections: Collections,
}

/// Collections as committed, by name. A collection's schema and id never change once
/// committed (another definition under its name is refused, and nothing deletes one), so a
/// node keeps them once read and spares a statement in every scan and write.
type Collections = Arc<std::sync::RwLock<std::collections::HashMap<String, StoredCollection>>>;

impl Drop for PgStore {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
        profile::store_dropped();
    }
}

impl PgStore {
    /// Connects to the database at `url` (a `postgres://` URL; `?options=-csearch_path%3Dxyz`
    /// selects a schema), on the system clock, and brings its tables up to date.
    pub fn connect(url: &str) -> Res<Self> {
        Self::connect_with_clock(url, SystemClock::shared())
    }

    /// Connects as [`PgStore::connect`] on `clock`: the time the store stamps its audit
    /// entries and decisions with, and answers [`Clocked::now_ms`] with.
    pub fn connect_with_clock(url: &str, clock: Arc<dyn Clock>) -> Res<Self> {
        Self::open(url, None, clock)
    }

    /// Connects as [`PgStore::connect_with_clock`], with every table in `schema` (created if
    /// missing): each pooled connection starts with `search_path` set to it. A schema name is
    /// lowercase ASCII letters, digits and `_`, starting with a letter or `_`.
    pub fn connect_in_schema(url: &str, schema: &str, clock: Arc<dyn Clock>) -> Res<Self> {
        let valid = schema
            .chars()
            .next()
            .is_some_and(|c| c == '_' || c.is_ascii_lowercase())
            && schema
                .chars()
                .all(|c| c == '_' || c.is_ascii_lowercase() || c.is_ascii_digit())
            && schema.len() <= 63;
        if !valid {
            return Err(StoreError::Db(format!(
                "`{schema}` is not a schema name this store uses: lowercase ASCII letters, \
                 digits and `_`, starting with a letter or `_`, at most 63 characters"
            )));
        }
        Self::open(url, Some(schema), clock)
    }

    fn open(url: &str, schema: Option<&str>, clock: Arc<dyn Clock>) -> Res<Self> {
        let mut config: tokio_postgres::Config = url.parse().map_err(|e| {
            StoreError::Db(format!("`{}` is not a PostgreSQL URL: {e}", redact(url)))
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if let Some(schema) = schema {
            let options = match config.get_options() {
                Some(o) if !o.is_empty() => format!("{o} -c search_path={schema}"),
                _ => format!("-c search_path={schema}"),
            };
            config.options(options);
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size())
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT))
            .build()
            .map_err(|e| StoreError::Db(format!("cannot build the connection pool: {e}")))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .thread_name("insitu-store-pg")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Db(format!("cannot start the store's runtime: {e}")))?;
        let where_ = redact(url);
        let schema = schema.map(str::to_string);
        let p = pool.clone();
        let handle = runtime.spawn(async move {
            let mut c = p.get().await.map_err(|e| {
                StoreError::Db(format!(
                    "cannot connect to PostgreSQL at {where_}: {}",
                    pool_error(&e)
                ))
            })?;
            if let Some(schema) = schema {
                c.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                    .await
                    .map_err(db)?;
            }
            migrate(&mut c).await?;
            secret(&c, PSEUDONYM_KEY).await
        });
        let pseudonym_key = match wait(handle) {
            Ok(key) => key,
            Err(e) => {
                // Not dropped here: the caller may be inside a runtime, where a runtime's
                // drop blocks and panics.
                runtime.shutdown_background();
                return Err(e);
            }
        };
        profile::store_opened();
        Ok(PgStore {
            runtime: Some(runtime),
            pool,
            clock,
            pseudonym_key,
            collections: Collections::default(),
        })
    }

    /// Runs `f` on the store's runtime and waits for it without touching the caller's tokio
    /// context, so that it works from a plain thread and from a runtime's worker alike.
    #[track_caller]
    fn run<T: Send + 'static>(&self, f: impl Future<Output = Res<T>> + Send + 'static) -> Res<T> {
        wait_profiled(self.handle().spawn(f))
    }

    /// Runs the future `f` makes from the store's pool and clock (see [`PgStore::run`]).
    #[track_caller]
    fn with<T: Send + 'static, F: Future<Output = Res<T>> + Send + 'static>(
        &self,
        f: impl FnOnce(Ctx) -> F,
    ) -> Res<T> {
        self.run(f(Ctx {
            pool: self.pool.clone(),
            clock: self.clock.clone(),
            collections: self.collections.clone(),
        }))
    }

    fn handle(&self) -> &tokio::runtime::Handle {
        match &self.runtime {
            Some(rt) => rt.handle(),
            // Only `drop` takes it, and nothing runs after drop.
            None => unreachable!("the store's runtime is gone before the store"),
        }
    }
}

/// Waits for a task of the store's runtime; a panic in it goes on in the caller.
///
/// Unconstrained: polled on a tokio worker (an async handler calling the store), a
/// `JoinHandle` spends that task's cooperative budget, and once it is spent tokio defers the
/// wake-up to the worker's scheduler, which never runs again while this thread blocks. The
/// hundred-and-somethingth call from one task without an `.await` between would hang forever.
fn wait<T>(handle: tokio::task::JoinHandle<Res<T>>) -> Res<T> {
    match futures::executor::block_on(tokio::task::unconstrained(handle)) {
        Ok(r) => r,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(StoreError::Db(format!(
            "the store's task was cancelled: {e}"
        ))),
    }
}

/// [`wait`], the wait counted against the caller's call site (`INSITU_PG_PROFILE`).
#[track_caller]
fn wait_profiled<T>(handle: tokio::task::JoinHandle<Res<T>>) -> Res<T> {
    let (at, started) = (std::panic::Location::caller(), profile::start());
    let r = wait(handle);
    profile::record(at, started);
    r
}

/// `url` without its password, for messages.
fn redact(url: &str) -> String {
    match url.parse::<tokio_postgres::Config>() {
        Ok(c) => {
            let hosts: Vec<String> = c
                .get_hosts()
                .iter()
                .map(|h| match h {
                    tokio_postgres::config::Host::Tcp(h) => h.clone(),
                    tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
                })
                .collect();
            let ports: Vec<String> = c.get_ports().iter().map(u16::to_string).collect();
            format!(
                "{}:{} (database {}, user {})",
                hosts.join(","),
                ports.join(","),
                c.get_dbname().unwrap_or("(default)"),
                c.get_user().unwrap_or("(default)")
            )
        }
        Err(_) => "(an unreadable URL)".into(),
    }
}

impl Clocked for PgStore {
    fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}

/// What a call's future needs of the store: its pool, its clock and the collections it knows.
#[derive(Clone)]
struct Ctx {
    pool: Pool,
    clock: Arc<dyn Clock>,
    collections: Collections,
}

/// The collection `name`, if this node has read it committed.
fn known_collection(known: &Collections, name: &str) -> Option<StoredCollection> {
    known
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(name)
        .cloned()
}

impl Ctx {
    /// The committed collection `name`, from what this node knows, else read through `c` (a
    /// connection outside any write transaction: what it reads is committed) and kept.
    async fn collection(&self, c: &Object, name: &str) -> Res<StoredCollection> {
        if let Some(known) = known_collection(&self.collections, name) {
            return Ok(known);
        }
        let read = require_collection(c, name).await?;
        self.collections
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string(), read.clone());
        Ok(read)
    }

    async fn conn(&self) -> Res<Object> {
        conn(&self.pool).await
    }
}

/// A connection of `pool`, waiting at most [`POOL_WAIT`] for one.
async fn conn(pool: &Pool) -> Res<Object> {
    pool.get().await.map_err(|e| {
        StoreError::Db(format!(
            "cannot get a connection to PostgreSQL (the pool keeps {}): {}",
            pool_size(),
            pool_error(&e)
        ))
    })
}

/// A connection or a transaction whose statements are prepared once per connection and kept
/// (deadpool's statement cache): a statement given as text is then one round trip, where
/// tokio-postgres's `query(&str)` makes two (prepare, then execute). Every statement of this
/// crate goes through it, except those whose text changes from call to call (a scan's
/// `DECLARE` and `FETCH`), which would fill the cache.
trait Db: Sync {
    fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<Vec<Row>, tokio_postgres::Error>> + Send;

    fn execute(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<u64, tokio_postgres::Error>> + Send;

    /// The one row `sql` finds, or none (an error when it finds more).
    fn query_opt(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<Option<Row>, tokio_postgres::Error>> + Send;

    /// The one row `sql` finds (an error when it finds none or more).
    fn query_one(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<Row, tokio_postgres::Error>> + Send;
}

/// [`Db`] for `$t`, whose `prepare_cached` gives the statement and whose tokio-postgres
/// client `$client` runs it.
macro_rules! cached {
    ($t:ty, $client:ty) => {
        impl Db for $t {
            async fn query(
                &self,
                sql: &str,
                params: &[&(dyn ToSql + Sync)],
            ) -> Result<Vec<Row>, tokio_postgres::Error> {
                let statement = self.prepare_cached(sql).await?;
                <$client>::query(self, &statement, params).await
            }

            async fn execute(
                &self,
                sql: &str,
                params: &[&(dyn ToSql + Sync)],
            ) -> Result<u64, tokio_postgres::Error> {
                let statement = self.prepare_cached(sql).await?;
                <$client>::execute(self, &statement, params).await
            }

            async fn query_opt(
                &self,
                sql: &str,
                params: &[&(dyn ToSql + Sync)],
            ) -> Result<Option<Row>, tokio_postgres::Error> {
                let statement = self.prepare_cached(sql).await?;
                <$client>::query_opt(self, &statement, params).await
            }

            async fn query_one(
                &self,
                sql: &str,
                params: &[&(dyn ToSql + Sync)],
            ) -> Result<Row, tokio_postgres::Error> {
                let statement = self.prepare_cached(sql).await?;
                <$client>::query_one(self, &statement, params).await
            }
        }
    };
}

cached!(Object, tokio_postgres::Client);
cached!(
    deadpool_postgres::Transaction<'_>,
    tokio_postgres::Transaction<'_>
);

impl Db for Tx<'_> {
    async fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        self.inner.query(sql, params).await
    }

    async fn execute(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, tokio_postgres::Error> {
        self.inner.execute(sql, params).await
    }

    async fn query_opt(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, tokio_postgres::Error> {
        self.inner.query_opt(sql, params).await
    }

    async fn query_one(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, tokio_postgres::Error> {
        self.inner.query_one(sql, params).await
    }
}

/// A write transaction and the time it began. An audited one (`Tx::audited_for`) first locks
/// the head rows of the chains it names, in key order, then reads the store's clock: every
/// time the store stamps in it is that one, and writers of one chain take turns. Its audit
/// events are gathered and appended when it commits; a chain it did not lock first is locked
/// then, after the others, which must all come before it in key order (so two transactions
/// never wait for each other in a cycle).
struct Tx<'a> {
    inner: deadpool_postgres::Transaction<'a>,
    now_ms: i64,
    /// `None` for a transaction that writes no audit entry.
    audit: Option<Audit>,
}

/// What an audited transaction holds: the heads it locked (`None`: a chain with no entry
/// yet), the events to append on commit, and the clock.
struct Audit {
    heads: std::collections::BTreeMap<Chain, Option<ChainHead>>,
    pending: std::sync::Mutex<Vec<AuditEvent>>,
    clock: Arc<dyn Clock>,
}

impl<'a> std::ops::Deref for Tx<'a> {
    type Target = tokio_postgres::Transaction<'a>;
    fn deref(&self) -> &tokio_postgres::Transaction<'a> {
        &self.inner
    }
}

impl<'a> Tx<'a> {
    /// A transaction of the operator's (settings, jobs, the ledger, accounts, plugins, ids by
    /// id): it locks the operator's chain first, so such transactions take turns as they did
    /// with one chain; the people it appends for are locked when it commits.
    async fn audited(c: &'a mut Object, cx: &Ctx) -> Res<Tx<'a>> {
        Self::audited_for(c, cx, &[Chain::Operator]).await
    }

    /// A transaction whose entries' chains are locked only as it commits, in key order: for
    /// writes about many people at once (a job's claims and its members' results), which
    /// append nothing to the operator's chain, so that two nodes' batches for different
    /// people never wait for each other. Locking the operator's chain first, as
    /// [`Tx::audited`] does, made every claim and commit of every node take turns.
    async fn audited_by_people(c: &'a mut Object, cx: &Ctx) -> Res<Tx<'a>> {
        Self::audited_for(c, cx, &[]).await
    }

    /// A transaction that locks `chains` first: a person's own action locks only their chain,
    /// so actions of different people never wait for each other.
    async fn audited_for(c: &'a mut Object, cx: &Ctx, chains: &[Chain]) -> Res<Tx<'a>> {
        let inner = tx_of(c).await?;
        let mut heads = std::collections::BTreeMap::new();
        let mut chains = chains.to_vec();
        chains.sort();
        chains.dedup();
        for chain in chains {
            heads.insert(chain, lock_head(&inner, chain).await?);
        }
        Ok(Tx {
            inner,
            now_ms: cx.clock.now_ms(),
            audit: Some(Audit {
                heads,
                pending: std::sync::Mutex::new(Vec::new()),
                clock: cx.clock.clone(),
            }),
        })
    }

    /// A transaction that writes no audit entry (compiled hashes, begun runs, reserved ids).
    async fn plain(c: &'a mut Object, cx: &Ctx) -> Res<Tx<'a>> {
        Ok(Tx {
            inner: tx_of(c).await?,
            now_ms: cx.clock.now_ms(),
            audit: None,
        })
    }

    /// Appends the gathered audit events to their chains, then commits.
    async fn commit(self) -> Res<()> {
        self.commit_entries().await.map(drop)
    }

    /// As [`Tx::commit`], returning the audit entries appended.
    async fn commit_entries(self) -> Res<Vec<AuditEntry>> {
        let mut entries = Vec::new();
        if let Some(audit) = self.audit {
            let events = std::mem::take(&mut *audit.pending.lock().map_err(|_| poisoned())?);
            if !events.is_empty() {
                entries = append_all(
                    &self.inner,
                    audit.heads,
                    events,
                    self.now_ms,
                    audit.clock.as_ref(),
                )
                .await?;
            }
        }
        self.inner.commit().await.map_err(db)?;
        Ok(entries)
    }
}

async fn tx_of(c: &mut Object) -> Res<deadpool_postgres::Transaction<'_>> {
    c.transaction().await.map_err(db)
}

/// Brings the schema up to date (`migrations/`), one node at a time.
async fn migrate(c: &mut Object) -> Res<()> {
    let client: &mut tokio_postgres::Client = c;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(db)?;
    let migrated = embedded::migrations::runner()
        .run_async(client)
        .await
        .map_err(|e| StoreError::Db(format!("cannot migrate the store's tables: {e}")));
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(db)?;
    migrated.map(|_| ())
}

/// The 32-byte secret `name`, drawn from the OS random source by the first node that connects
/// to a new store and kept from then on.
async fn secret(c: &impl Db, name: &str) -> Res<[u8; 32]> {
    let mut fresh = [0u8; 32];
    getrandom::getrandom(&mut fresh).map_err(|e| {
        StoreError::Db(format!(
            "cannot draw the store's secret `{name}` from the operating system's random source: \
             {e}; check that getrandom(2) or /dev/urandom works"
        ))
    })?;
    c.execute(
        "INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        &[&name, &fresh.as_slice()],
    )
    .await
    .map_err(db)?;
    let row = c
        .query_one("SELECT value FROM secrets WHERE name = $1", &[&name])
        .await
        .map_err(db)?;
    let v: &[u8] = row.try_get(0).map_err(db)?;
    v.try_into().map_err(|_| {
        StoreError::Db(format!(
            "the store's secret `{name}` is {} bytes, not 32; the database is damaged",
            v.len()
        ))
    })
}

/// A database error, with PostgreSQL's own message when it sent one.
/// A pool's error with the database's own reason (a wrong password, a refused connection),
/// which deadpool and tokio-postgres keep as the error's sources.
fn pool_error(e: &deadpool_postgres::PoolError) -> String {
    match e {
        deadpool_postgres::PoolError::Backend(e) => reason(e),
        other => other.to_string(),
    }
}

fn db(e: tokio_postgres::Error) -> StoreError {
    StoreError::Db(reason(&e))
}

/// The database's message and code, or the client's error with its cause.
fn reason(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => format!("{} ({})", d.message(), d.code().code()),
        None => match std::error::Error::source(e) {
            Some(s) => format!("{e}: {s}"),
            None => e.to_string(),
        },
    }
}

/// An id as PostgreSQL keeps it. Ids come from counters and stay far below 2^63; an id asked
/// for from outside (`run(u64::MAX)`) maps to a negative one, which no row has.
fn key(id: u64) -> i64 {
    id as i64
}

/// A page's bounds as PostgreSQL takes them: the id rows must be below, and how many.
fn bounds(page: &Page) -> (i64, i64) {
    let before = page
        .before
        .map_or(i64::MAX, |b| i64::try_from(b).unwrap_or(i64::MAX));
    (before, i64::try_from(page.limit).unwrap_or(i64::MAX))
}

/// A page of `table`'s rows (keyed `(person, id)`, with a `value`) that `owner` lists, newest
/// first: every row by the id index, a person's by the key, with `person_only` (SQL, `""` or
/// `" AND ..."`) added, and an organisation's where `organisation` (SQL naming `$3`) holds, by
/// the indexes of `V4__listings.sql`.
async fn listing<T: DeserializeOwned>(
    c: &impl Db,
    table: &str,
    person_only: &str,
    organisation: &str,
    owner: &Owner,
    page: Page,
) -> Res<Vec<T>> {
    let (before, limit) = bounds(&page);
    match owner {
        Owner::All => {
            let sql = format!("SELECT value FROM {table} WHERE id < $1 ORDER BY id DESC LIMIT $2");
            all(c, &sql, &[&before, &limit]).await
        }
        Owner::Person(p) => {
            let sql = format!(
                "SELECT value FROM {table} WHERE person = $3 AND id < $1{person_only} \
                 ORDER BY id DESC LIMIT $2"
            );
            all(c, &sql, &[&before, &limit, &key(*p)]).await
        }
        Owner::Organisation(name) => {
            let sql = format!(
                "SELECT value FROM {table} WHERE {organisation} AND id < $1 \
                 ORDER BY id DESC LIMIT $2"
            );
            all(c, &sql, &[&before, &limit, name]).await
        }
    }
}

/// A record id in `bigint`, top bit flipped, so that `bigint` order is u64 order.
fn record_id(id: u64) -> i64 {
    (id ^ (1 << 63)) as i64
}

fn record_id_back(v: i64) -> u64 {
    (v as u64) ^ (1 << 63)
}

/// A value for a `json` column: serde's text, as the redb backend stores it.
fn json<T: Serialize + std::fmt::Debug>(v: &T) -> Json<&T> {
    Json(v)
}

/// The `json` value of column `i`.
fn from_row<T: DeserializeOwned>(row: &Row, i: usize) -> Res<T> {
    row.try_get::<_, Json<T>>(i).map(|v| v.0).map_err(db)
}

/// The `json` value of the first column of the row `sql` finds, if any.
async fn one<T: DeserializeOwned>(
    c: &impl Db,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Res<Option<T>> {
    match c.query_opt(sql, params).await.map_err(db)? {
        Some(row) => Ok(Some(from_row(&row, 0)?)),
        None => Ok(None),
    }
}

/// The `json` values of the first column of the rows `sql` finds, in its order.
async fn all<T: DeserializeOwned>(
    c: &impl Db,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Res<Vec<T>> {
    c.query(sql, params)
        .await
        .map_err(db)?
        .iter()
        .map(|r| from_row(r, 0))
        .collect()
}

/// Takes the next value of counter `name` (starting at 1).
async fn next_id(tx: &Tx<'_>, name: &str) -> Res<u64> {
    take_ids(tx, name, 1).await
}

/// Takes `n` values of counter `name` and returns the first.
async fn take_ids(tx: &Tx<'_>, name: &str, n: u64) -> Res<u64> {
    let n = i64::try_from(n).map_err(|_| StoreError::Db(format!("{name} ids exhausted")))?;
    let row = tx
        .query_one(
            "INSERT INTO counters (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = counters.value + EXCLUDED.value \
             RETURNING value",
            &[&name, &n],
        )
        .await
        .map_err(|e| match e.as_db_error() {
            Some(_) => StoreError::Db(format!("{name} ids exhausted or not taken: {}", db(e))),
            None => db(e),
        })?;
    let end: i64 = row.try_get(0).map_err(db)?;
    Ok((end - n + 1) as u64)
}

fn poisoned() -> StoreError {
    StoreError::Db("a thread panicked while holding a transaction's audit events".into())
}

/// Gathers `event` for its chain: it is appended when `tx` commits.
async fn append(tx: &Tx<'_>, event: AuditEvent) -> Res<()> {
    let Some(audit) = &tx.audit else {
        return Err(StoreError::Db(
            "an audit entry was appended in a transaction that does not write the audit".into(),
        ));
    };
    audit.pending.lock().map_err(|_| poisoned())?.push(event);
    Ok(())
}

/// A chain's key in the tables: (person, kind); the operator's chain is person 0, kind 1.
fn chain_key(chain: Chain) -> (i64, i16) {
    match chain {
        Chain::Legacy => (0, 0),
        Chain::Operator => (0, 1),
        Chain::Person(p) => (key(p), 2),
    }
}

fn chain_of_key(person: i64, kind: i16) -> Chain {
    match kind {
        0 => Chain::Legacy,
        1 => Chain::Operator,
        _ => Chain::Person(person as u64),
    }
}

/// The legacy chain's head, if the store has one.
async fn legacy_head(c: &impl Db) -> Res<Option<ChainHead>> {
    let last: Option<AuditEntry> =
        one(c, "SELECT entry FROM audit ORDER BY seq DESC LIMIT 1", &[]).await?;
    Ok(last.map(|e| e.head()))
}

/// Locks `chain`'s head row (creating it, at seq -1, for a chain with no entry yet: the
/// insert locks it, and a racing insert waits for it) and returns the head.
async fn lock_head(tx: &impl Db, chain: Chain) -> Res<Option<ChainHead>> {
    let (person, kind) = chain_key(chain);
    tx.execute(
        "INSERT INTO audit_chain_heads (person, kind, seq, hash) VALUES ($1, $2, -1, '') \
         ON CONFLICT DO NOTHING",
        &[&person, &kind],
    )
    .await
    .map_err(db)?;
    let row = tx
        .query_one(
            "SELECT seq, hash FROM audit_chain_heads WHERE person = $1 AND kind = $2 FOR UPDATE",
            &[&person, &kind],
        )
        .await
        .map_err(db)?;
    let seq: i64 = row.try_get(0).map_err(db)?;
    Ok((seq >= 0).then(|| ChainHead {
        chain,
        seq: seq as u64,
        hash: row.try_get(1).unwrap_or_default(),
    }))
}

/// Locks the head rows of `chains` (sorted, none locked yet) in key order, creating the missing
/// ones as [`lock_head`] does, in two statements whatever their number; their heads.
async fn lock_heads(tx: &impl Db, chains: &[Chain]) -> Res<Vec<(Chain, Option<ChainHead>)>> {
    if let [chain] = chains {
        return Ok(vec![(*chain, lock_head(tx, *chain).await?)]);
    }
    let (people, kinds): (Vec<i64>, Vec<i16>) = chains.iter().map(|c| chain_key(*c)).unzip();
    // Inserted in key order, so that two transactions creating heads never wait in a cycle.
    tx.execute(
        "INSERT INTO audit_chain_heads (person, kind, seq, hash) \
         SELECT person, kind, -1, '' FROM unnest($1::bigint[], $2::smallint[]) AS u(person, kind) \
         ON CONFLICT DO NOTHING",
        &[&people, &kinds],
    )
    .await
    .map_err(db)?;
    // Rows are locked as they leave the sort: in key order.
    let rows = tx
        .query(
            "SELECT h.person, h.kind, h.seq, h.hash FROM audit_chain_heads h \
             JOIN unnest($1::bigint[], $2::smallint[]) AS u(person, kind) \
                 ON h.person = u.person AND h.kind = u.kind \
             ORDER BY h.person, h.kind FOR UPDATE OF h",
            &[&people, &kinds],
        )
        .await
        .map_err(db)?;
    let mut heads = Vec::with_capacity(rows.len());
    for row in rows {
        let (person, kind, seq): (i64, i16, i64) = (
            row.try_get(0).map_err(db)?,
            row.try_get(1).map_err(db)?,
            row.try_get(2).map_err(db)?,
        );
        let chain = chain_of_key(person, kind);
        heads.push((
            chain,
            (seq >= 0).then(|| ChainHead {
                chain,
                seq: seq as u64,
                hash: row.try_get(3).unwrap_or_default(),
            }),
        ));
    }
    if heads.len() != chains.len() {
        return Err(StoreError::Db(format!(
            "locked {} of {} audit chain heads; the database changed under the transaction",
            heads.len(),
            chains.len()
        )));
    }
    Ok(heads)
}

/// Appends `events` (in their order within each chain) inside `tx`, which locked `heads`
/// first: locks the other chains they go to (each after every chain already locked, in key
/// order), then stamps and writes the entries and moves the heads.
async fn append_all(
    tx: &impl Db,
    mut heads: std::collections::BTreeMap<Chain, Option<ChainHead>>,
    events: Vec<AuditEvent>,
    now_ms: i64,
    clock: &dyn Clock,
) -> Res<Vec<AuditEntry>> {
    let mut more: Vec<Chain> = events
        .iter()
        .map(Chain::of)
        .filter(|c| !heads.contains_key(c))
        .collect();
    more.sort();
    more.dedup();
    let mut at_ms = now_ms;
    if let Some(first) = more.first() {
        if heads.keys().next_back().is_some_and(|last| last > first) {
            return Err(StoreError::Db(format!(
                "the audit chain of {first} is locked out of key order (a transaction \
                 must lock it first)"
            )));
        }
        heads.extend(lock_heads(tx, &more).await?);
        // Another transaction may have stamped these chains since this one began.
        at_ms = clock.now_ms().max(now_ms);
    }
    let mut origin: Option<String> = None;
    let mut entries = Vec::with_capacity(events.len());
    let mut moved = std::collections::BTreeSet::new();
    for event in events {
        let chain = Chain::of(&event);
        let head = heads.get(&chain).cloned().flatten();
        if head.is_none() && origin.is_none() {
            origin = Some(
                legacy_head(tx)
                    .await?
                    .map(|h| h.hash)
                    .unwrap_or_else(|| insitu_model::audit::GENESIS.to_string()),
            );
        }
        let entry = AuditEntry::next(
            chain,
            head.as_ref(),
            origin.as_deref().unwrap_or_default(),
            at_ms,
            event,
        );
        i64::try_from(entry.seq).map_err(|_| StoreError::Db("audit chain full".into()))?;
        heads.insert(chain, Some(entry.head()));
        moved.insert(chain);
        entries.push(entry);
    }
    // The entries in one statement, then the heads they moved in another, whatever their
    // number: a commit of many people's entries (claims, member results) is two round trips.
    let (mut people, mut kinds, mut seqs, mut values) = (vec![], vec![], vec![], vec![]);
    for entry in &entries {
        let (person, kind) = chain_key(entry.chain);
        people.push(person);
        kinds.push(kind);
        seqs.push(entry.seq as i64);
        values.push(json(entry));
    }
    tx.execute(
        "INSERT INTO audit_entries (person, kind, seq, entry) \
         SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::bigint[], $4::json[])",
        &[&people, &kinds, &seqs, &values],
    )
    .await
    .map_err(db)?;
    let (mut people, mut kinds, mut seqs, mut hashes) = (vec![], vec![], vec![], vec![]);
    for chain in moved {
        let Some(Some(head)) = heads.get(&chain) else {
            continue;
        };
        let (person, kind) = chain_key(chain);
        people.push(person);
        kinds.push(kind);
        seqs.push(head.seq as i64);
        hashes.push(head.hash.as_str());
    }
    tx.execute(
        "UPDATE audit_chain_heads h SET seq = u.seq, hash = u.hash \
         FROM unnest($1::bigint[], $2::smallint[], $3::bigint[], $4::text[]) \
             AS u(person, kind, seq, hash) \
         WHERE h.person = u.person AND h.kind = u.kind",
        &[&people, &kinds, &seqs, &hashes],
    )
    .await
    .map_err(db)?;
    Ok(entries)
}

async fn require_person(c: &impl Db, person: PersonId) -> Res<()> {
    let found = c
        .query_opt("SELECT 1 FROM people WHERE person = $1", &[&key(person)])
        .await
        .map_err(db)?;
    match found {
        Some(_) => Ok(()),
        None => Err(StoreError::NoPerson(person)),
    }
}

/// Stores `runs` under their ids (replacing what was there), in two statements; a run whose id
/// comes twice is stored as the later one.
async fn put_runs(tx: &Tx<'_>, runs: &[RunRecord]) -> Res<()> {
    let mut last: std::collections::HashMap<u64, &RunRecord> = Default::default();
    for run in runs {
        last.insert(run.id, run);
    }
    if last.is_empty() {
        return Ok(());
    }
    let (mut people, mut ids, mut started, mut running, mut values) =
        (vec![], vec![], vec![], vec![], vec![]);
    for run in last.into_values() {
        people.push(key(run.person));
        ids.push(key(run.id));
        started.push(run.started_ms);
        running.push(run.outcome == insitu_model::meter::Outcome::Running);
        values.push(json(run));
    }
    tx.execute("DELETE FROM runs WHERE id = ANY($1)", &[&ids])
        .await
        .map_err(db)?;
    tx.execute(
        "INSERT INTO runs (person, id, started_ms, running, value) \
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::boolean[], \
             $5::json[])",
        &[&people, &ids, &started, &running, &values],
    )
    .await
    .map_err(db)?;
    Ok(())
}

/// Stores a finished run under a new id, with its audit entry.
async fn insert_run(tx: &Tx<'_>, mut run: RunRecord) -> Res<RunRecord> {
    run.id = next_id(tx, "run").await?;
    audit_run(tx, run).await
}

/// Stores `run` under its id (replacing what was there) with its audit entry.
async fn audit_run(tx: &Tx<'_>, run: RunRecord) -> Res<RunRecord> {
    put_run(tx, &run).await?;
    append(tx, AuditEvent::run(&run)).await?;
    Ok(run)
}

/// Stores `run` under its id, replacing what was there.
async fn put_run(tx: &Tx<'_>, run: &RunRecord) -> Res<()> {
    tx.execute("DELETE FROM runs WHERE id = $1", &[&key(run.id)])
        .await
        .map_err(db)?;
    let running = run.outcome == insitu_model::meter::Outcome::Running;
    tx.execute(
        "INSERT INTO runs (person, id, started_ms, running, value) VALUES ($1, $2, $3, $4, $5)",
        &[
            &key(run.person),
            &key(run.id),
            &run.started_ms,
            &running,
            &json(run),
        ],
    )
    .await
    .map_err(db)?;
    Ok(())
}

/// Stores `grant` under a new id, with its audit entry.
async fn insert_grant(tx: &Tx<'_>, mut grant: Grant) -> Res<Grant> {
    grant.id = next_id(tx, "grant").await?;
    put_grant(tx, &grant).await?;
    append(tx, AuditEvent::grant_created(&grant)).await?;
    Ok(grant)
}

async fn put_grant(tx: &Tx<'_>, grant: &Grant) -> Res<()> {
    tx.execute(
        "INSERT INTO grants (person, id, value) VALUES ($1, $2, $3) \
         ON CONFLICT (person, id) DO UPDATE SET value = EXCLUDED.value",
        &[&key(grant.person), &key(grant.id), &json(grant)],
    )
    .await
    .map_err(db)?;
    Ok(())
}

/// The ledger entries posted under `key`, in id order, or `None` if it was not posted.
async fn posting_in(c: &impl Db, key: &str) -> Res<Option<Vec<Entry>>> {
    let posted = c
        .query_opt("SELECT 1 FROM ledger_keys WHERE key = $1", &[&key])
        .await
        .map_err(db)?;
    if posted.is_none() {
        return Ok(None);
    }
    all(
        c,
        "SELECT value FROM ledger WHERE key = $1 ORDER BY id",
        &[&key],
    )
    .await
    .map(Some)
}

/// Posts `entries` under `key` inside `tx` (see `LedgerStore::post`); also says whether the
/// key was new.
async fn post_in(tx: &Tx<'_>, key: &str, entries: Vec<Entry>) -> Res<(Vec<Entry>, bool)> {
    if let Some(old) = posting_in(tx, key).await? {
        return Ok((old, false));
    }
    tx.execute("INSERT INTO ledger_keys (key) VALUES ($1)", &[&key])
        .await
        .map_err(db)?;
    let mut out = Vec::with_capacity(entries.len());
    for mut e in entries {
        e.id = next_id(tx, "ledger").await?;
        e.key = key.to_string();
        tx.execute(
            "INSERT INTO ledger (id, key, value) VALUES ($1, $2, $3)",
            &[&self::key(e.id), &key, &json(&e)],
        )
        .await
        .map_err(db)?;
        out.push(e);
    }
    append(
        tx,
        AuditEvent::LedgerPosted {
            key: key.to_string(),
            entries: out.len() as u32,
        },
    )
    .await?;
    Ok((out, true))
}

/// A collection as stored: its schema and the number its records are keyed under.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
struct StoredCollection {
    id: u32,
    schema: Schema,
}

async fn stored_collection(c: &impl Db, name: &str) -> Res<Option<StoredCollection>> {
    one(c, "SELECT value FROM collections WHERE name = $1", &[&name]).await
}

async fn require_collection(c: &impl Db, name: &str) -> Res<StoredCollection> {
    stored_collection(c, name)
        .await?
        .ok_or_else(|| StoreError::NoCollection(name.to_string()))
}
