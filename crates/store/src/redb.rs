//! The embedded backend: one redb file, for a household or a small operator.
//!
//! Every write is one redb transaction committed with immediate durability, and the audit entry
//! of the action is appended in that same transaction, so a crash at any point leaves either
//! the action and its trace, or neither.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Serialize, de::DeserializeOwned};
use sha2::Digest as _;

use super::codec::{self, Projection};
use super::{
    ColumnBatch, Cursor, Erasure, KeyedRecord, NewRecords, Person, PersonId, PluginRecord,
    Publisher, Reception, Record, Schema, Source, Store, StoreError, TimeRange, WriteOutcome,
};
use insitu_model::account::name::key as name_key;
use insitu_model::account::{Account, Token};
use insitu_model::audit::{AuditEntry, AuditEvent};
use insitu_model::consent::{Grant, now_ms};
use insitu_model::job::{
    Answer, BillingRecord, Job, JobKind, JobStatus, Member, MemberOutcome, Policy,
};
use insitu_model::ledger::{Entry, Tariff};
use insitu_model::licence::Licence;
use insitu_model::meter::RunRecord;
use insitu_model::peer::{Contact, ContactStatus, Offer};
use insitu_model::request::{AccessRequest, Status as RequestStatus};

const PEOPLE: TableDefinition<u64, &str> = TableDefinition::new("people");
const COLLECTIONS: TableDefinition<&str, &str> = TableDefinition::new("collections");
const RECORDS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("records");
const PLUGINS: TableDefinition<&str, &str> = TableDefinition::new("plugins");
const GRANTS: TableDefinition<u64, &str> = TableDefinition::new("grants");
const RUNS: TableDefinition<u64, &str> = TableDefinition::new("runs");
const AUDIT: TableDefinition<u64, &str> = TableDefinition::new("audit");
const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");
const COMPILED: TableDefinition<&str, &str> = TableDefinition::new("compiled");
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
/// The store's own secrets, by name; nothing reads this table but `open`, and no export,
/// audit entry or listing includes it.
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
}

impl RedbStore {
    /// Opens the store at `path`, creating it (and its tables) if needed.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
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
            tx.open_table(COUNTERS).map_err(db)?;
            tx.open_table(COMPILED).map_err(db)?;
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
        }
        let pseudonym_key = secret(&tx, PSEUDONYM_KEY)?;
        key_account_names(&tx)?;
        tx.commit().map_err(db)?;
        Ok(RedbStore {
            db: database,
            pseudonym_key,
        })
    }

    fn write<R>(
        &self,
        f: impl FnOnce(&WriteTransaction) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let tx = self.db.begin_write().map_err(db)?;
        let r = f(&tx)?;
        tx.commit().map_err(db)?;
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

/// Takes the next value of counter `name` (starting at 1).
fn next_id(tx: &WriteTransaction, name: &str) -> Result<u64, StoreError> {
    let mut t = tx.open_table(COUNTERS).map_err(db)?;
    let next = t.get(name).map_err(db)?.map(|v| v.value()).unwrap_or(0) + 1;
    t.insert(name, next).map_err(db)?;
    Ok(next)
}

/// Appends `event` to the audit chain inside `tx`.
fn append(tx: &WriteTransaction, event: AuditEvent) -> Result<AuditEntry, StoreError> {
    let mut t = tx.open_table(AUDIT).map_err(db)?;
    let last: Option<AuditEntry> = match t.last().map_err(db)? {
        Some((_, v)) => Some(from_json(v.value())?),
        None => None,
    };
    let entry = AuditEntry::next(last.as_ref(), now_ms(), event);
    t.insert(entry.seq, to_json(&entry)?.as_str()).map_err(db)?;
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

/// Stores a finished run under a new id, with its audit entry.
fn insert_run(tx: &WriteTransaction, mut run: RunRecord) -> Result<RunRecord, StoreError> {
    run.id = next_id(tx, "run")?;
    audit_run(tx, run)
}

/// Stores `run` under its id with its audit entry.
fn audit_run(tx: &WriteTransaction, run: RunRecord) -> Result<RunRecord, StoreError> {
    put_json(tx, RUNS, run.id, &run)?;
    append(
        tx,
        AuditEvent::Run {
            run: run.id,
            person: run.person,
            grant: run.grant,
            digest: run.plugin_digest.clone(),
            read: run.read.clone(),
            records_read: run.usage.records_read,
            output_bytes: run.usage.output_bytes,
            fuel: run.usage.fuel,
            outcome: match &run.outcome {
                insitu_model::meter::Outcome::Failed { reason, .. } => {
                    format!("failed: {}", reason.as_str())
                }
                other => other.status().into(),
            },
            job: run.job,
        },
    )?;
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
fn post_in(
    tx: &WriteTransaction,
    key: &str,
    entries: Vec<Entry>,
) -> Result<(Vec<Entry>, bool), StoreError> {
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
fn insert_grant(tx: &WriteTransaction, mut grant: Grant) -> Result<Grant, StoreError> {
    grant.id = next_id(tx, "grant")?;
    put_json(tx, GRANTS, grant.id, &grant)?;
    append(
        tx,
        AuditEvent::GrantCreated {
            grant: grant.id,
            person: grant.person,
            digest: grant.plugin_digest.clone(),
            collections: grant.collections.iter().map(|c| c.name.clone()).collect(),
        },
    )?;
    Ok(grant)
}

/// Defines `schema` inside `tx` unless it exists (see [`Store::define_collection`]).
fn define_in(tx: &WriteTransaction, schema: &Schema) -> Result<(), StoreError> {
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
    tx: &WriteTransaction,
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
    let (source, returned_by) = match source {
        Source::File(name) => {
            let digest = insitu_model::audit::hex(&sha2::Sha256::digest(name.as_bytes()));
            tx.open_table(SOURCES)
                .map_err(db)?
                .insert(format!("{person}:{digest}").as_str(), name)
                .map_err(db)?;
            (format!("sha256:{digest}"), None)
        }
        Source::ReturnedBy(org) => (String::new(), Some(org.to_string())),
    };
    append(
        tx,
        AuditEvent::RecordsImported {
            person,
            collection: coll.schema.name.clone(),
            added: out.added,
            duplicates: out.duplicates,
            source,
            returned_by,
        },
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

impl Store for RedbStore {
    fn add_person(&self, name: &str) -> Result<PersonId, StoreError> {
        self.write(|tx| {
            let id = next_id(tx, "person")?;
            put_json(
                tx,
                PEOPLE,
                id,
                &Person {
                    id,
                    name: name.to_string(),
                },
            )?;
            append(tx, AuditEvent::PersonAdded { person: id })?;
            Ok(id)
        })
    }

    fn person(&self, id: PersonId) -> Result<Person, StoreError> {
        self.read_json(PEOPLE, id)?.ok_or(StoreError::NoPerson(id))
    }

    fn people(&self) -> Result<Vec<Person>, StoreError> {
        self.all_json(PEOPLE)
    }

    fn define_collection(&self, schema: &Schema) -> Result<(), StoreError> {
        schema.validate()?;
        // Defining an existing schema again is common (every start, every import): answer it
        // from a read, without a durable write.
        if self
            .stored_collection(&schema.name)
            .is_ok_and(|c| c.schema == *schema)
        {
            return Ok(());
        }
        self.write(|tx| define_in(tx, schema))
    }

    fn collection(&self, name: &str) -> Result<Schema, StoreError> {
        Ok(self.stored_collection(name)?.schema)
    }

    fn collections(&self) -> Result<Vec<Schema>, StoreError> {
        Ok(self
            .all_json::<&str, StoredCollection>(COLLECTIONS)?
            .into_iter()
            .map(|c| c.schema)
            .collect())
    }

    fn write_records(
        &self,
        person: PersonId,
        collection: &str,
        records: &[KeyedRecord],
        source: Source<'_>,
    ) -> Result<WriteOutcome, StoreError> {
        let coll = self.stored_collection(collection)?;
        self.write(|tx| {
            require_person(tx, person)?;
            write_in(tx, person, &coll, records, source)
        })
    }

    fn records_at(
        &self,
        person: PersonId,
        collection: &str,
        keys: &[(i64, u64)],
    ) -> Result<Vec<Option<Record>>, StoreError> {
        let coll = self.stored_collection(collection)?;
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(RECORDS).map_err(db)?;
        keys.iter()
            .map(|&(time, id)| {
                let key = codec::record_key(person, coll.id, time, id);
                match t.get(key.as_slice()).map_err(db)? {
                    Some(v) => Ok(Some(codec::decode(&coll.schema, v.value())?)),
                    None => Ok(None),
                }
            })
            .collect()
    }

    fn write_collections(
        &self,
        person: PersonId,
        schemas: &[Schema],
        writes: &[NewRecords<'_>],
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        for schema in schemas {
            schema.validate()?;
        }
        // One transaction: an error anywhere drops it uncommitted, and redb keeps nothing.
        self.write(|tx| {
            require_person(tx, person)?;
            for schema in schemas {
                define_in(tx, schema)?;
            }
            writes
                .iter()
                .map(|w| {
                    let coll = get_json::<&str, StoredCollection>(tx, COLLECTIONS, w.collection)?
                        .ok_or_else(|| StoreError::NoCollection(w.collection.to_string()))?;
                    write_in(tx, person, &coll, w.records, w.source)
                })
                .collect()
        })
    }

    fn scan(
        &self,
        person: PersonId,
        collection: &str,
        range: TimeRange,
        fields: &[String],
    ) -> Result<Box<dyn Cursor>, StoreError> {
        let coll = self.stored_collection(collection)?;
        let lo = codec::record_key(person, coll.id, range.since.unwrap_or(i64::MIN), 0);
        let hi = match range.until {
            Some(u) => codec::record_key(person, coll.id, u, 0),
            None => codec::record_key(person, coll.id + 1, i64::MIN, 0),
        };
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(RECORDS).map_err(db)?;
        let iter = t.range::<&[u8]>(lo.as_slice()..hi.as_slice()).map_err(db)?;
        let projection = Projection::new(&coll.schema, fields);
        Ok(Box::new(RedbCursor {
            schema: coll.schema,
            projection,
            iter,
        }))
    }

    fn count(&self, person: PersonId, collection: &str) -> Result<u64, StoreError> {
        let coll = self.stored_collection(collection)?;
        let lo = codec::record_key(person, coll.id, i64::MIN, 0);
        let hi = codec::record_key(person, coll.id + 1, i64::MIN, 0);
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(RECORDS).map_err(db)?;
        let n = t
            .range::<&[u8]>(lo.as_slice()..hi.as_slice())
            .map_err(db)?
            .count();
        Ok(n as u64)
    }

    fn put_plugin(&self, plugin: &PluginRecord) -> Result<(), StoreError> {
        self.write(|tx| {
            put_json(tx, PLUGINS, plugin.digest.as_str(), plugin)?;
            append(
                tx,
                AuditEvent::PluginInstalled {
                    digest: plugin.digest.clone(),
                    name: plugin.name.clone(),
                },
            )?;
            Ok(())
        })
    }

    fn plugin(&self, digest: &str) -> Result<PluginRecord, StoreError> {
        self.read_json(PLUGINS, digest)?
            .ok_or_else(|| StoreError::NoPlugin(digest.to_string()))
    }

    fn plugins(&self) -> Result<Vec<PluginRecord>, StoreError> {
        self.all_json(PLUGINS)
    }

    fn trust_publisher(&self, publisher: &Publisher) -> Result<(), StoreError> {
        self.write(|tx| {
            put_json(tx, PUBLISHERS, publisher.name.as_str(), publisher)?;
            append(
                tx,
                AuditEvent::PublisherTrusted {
                    name: publisher.name.clone(),
                    key: publisher.key.clone(),
                },
            )?;
            Ok(())
        })
    }

    fn publisher(&self, name: &str) -> Result<Option<Publisher>, StoreError> {
        self.read_json(PUBLISHERS, name)
    }

    fn publishers(&self) -> Result<Vec<Publisher>, StoreError> {
        self.all_json(PUBLISHERS)
    }

    fn revoke_publisher(&self, name: &str, at_ms: i64) -> Result<Publisher, StoreError> {
        self.write(|tx| {
            let mut p: Publisher = {
                let t = tx.open_table(PUBLISHERS).map_err(db)?;
                let v = t
                    .get(name)
                    .map_err(db)?
                    .ok_or_else(|| StoreError::NoPublisher(name.to_string()))?;
                from_json(v.value())?
            };
            if p.revoked_ms.is_none() {
                p.revoked_ms = Some(at_ms);
                put_json(tx, PUBLISHERS, name, &p)?;
                append(
                    tx,
                    AuditEvent::PublisherRevoked {
                        name: name.to_string(),
                    },
                )?;
            }
            Ok(p)
        })
    }

    fn add_account(&self, mut a: Account) -> Result<Account, StoreError> {
        let key = name_key(&a.name);
        self.write(|tx| {
            let taken = {
                let names = tx.open_table(ACCOUNT_NAMES).map_err(db)?;
                names.get(key.as_str()).map_err(db)?.map(|id| id.value())
            };
            if let Some(id) = taken {
                let existing: Option<Account> = get_json(tx, ACCOUNTS, id)?;
                return Err(StoreError::NameTaken(
                    existing.map_or(a.name.clone(), |e| e.name),
                ));
            }
            a.id = next_id(tx, "account")?;
            put_json(tx, ACCOUNTS, a.id, &a)?;
            tx.open_table(ACCOUNT_NAMES)
                .map_err(db)?
                .insert(key.as_str(), a.id)
                .map_err(db)?;
            append(
                tx,
                AuditEvent::AccountCreated {
                    account: a.id,
                    role: a.role,
                    person: a.person,
                },
            )?;
            Ok(a)
        })
    }

    fn account(&self, id: u64) -> Result<Option<Account>, StoreError> {
        self.read_json(ACCOUNTS, id)
    }

    fn account_by_name(&self, name: &str) -> Result<Option<Account>, StoreError> {
        // The exact name first: only an old store's raw-name entries, or a key typed as such,
        // match it, and each names the account it was written for.
        let id = match self.read_u64(ACCOUNT_NAMES, name)? {
            Some(id) => Some(id),
            None => self.read_u64(ACCOUNT_NAMES, &name_key(name))?,
        };
        id.map_or(Ok(None), |id| self.account(id))
    }

    fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        self.all_json(ACCOUNTS)
    }

    fn add_token(&self, mut t: Token) -> Result<Token, StoreError> {
        self.write(|tx| {
            t.id = next_id(tx, "token")?;
            put_json(tx, TOKENS, t.id, &t)?;
            tx.open_table(TOKEN_HASHES)
                .map_err(db)?
                .insert(t.hash.as_str(), t.id)
                .map_err(db)?;
            append(
                tx,
                AuditEvent::TokenIssued {
                    account: t.account,
                    token: t.id,
                },
            )?;
            Ok(t)
        })
    }

    fn token_by_hash(&self, hash: &str) -> Result<Option<Token>, StoreError> {
        let id = self.read_u64(TOKEN_HASHES, hash)?;
        id.map_or(Ok(None), |id| self.read_json(TOKENS, id))
    }

    fn tokens(&self, account: u64) -> Result<Vec<Token>, StoreError> {
        let all: Vec<Token> = self.all_json(TOKENS)?;
        Ok(all.into_iter().filter(|t| t.account == account).collect())
    }

    fn revoke_token(&self, id: u64, at_ms: i64) -> Result<Token, StoreError> {
        self.write(|tx| {
            let mut t: Token = {
                let table = tx.open_table(TOKENS).map_err(db)?;
                let v = table.get(id).map_err(db)?.ok_or(StoreError::NoToken(id))?;
                from_json(v.value())?
            };
            if t.revoked_ms.is_none() {
                t.revoked_ms = Some(at_ms);
                put_json(tx, TOKENS, id, &t)?;
                append(
                    tx,
                    AuditEvent::TokenRevoked {
                        account: t.account,
                        token: id,
                    },
                )?;
            }
            Ok(t)
        })
    }

    fn source_name(&self, person: PersonId, digest: &str) -> Result<Option<String>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(SOURCES).map_err(db)?;
        let key = format!("{person}:{digest}");
        Ok(t.get(key.as_str())
            .map_err(db)?
            .map(|v| v.value().to_string()))
    }

    fn add_reception(&self, mut r: Reception) -> Result<Reception, StoreError> {
        self.write(|tx| {
            require_person(tx, r.person)?;
            r.id = next_id(tx, "reception")?;
            put_json(tx, RECEPTIONS, r.id, &r)?;
            append(
                tx,
                AuditEvent::ReceptionAccepted {
                    reception: r.id,
                    person: r.person,
                    organisation: r.organisation.clone(),
                    collection: r.collection.clone(),
                },
            )?;
            Ok(r)
        })
    }

    fn receptions(&self, person: Option<PersonId>) -> Result<Vec<Reception>, StoreError> {
        let all: Vec<Reception> = self.all_json(RECEPTIONS)?;
        Ok(all
            .into_iter()
            .filter(|r| person.is_none_or(|p| r.person == p))
            .collect())
    }

    fn revoke_reception(&self, id: u64, at_ms: i64) -> Result<Reception, StoreError> {
        self.write(|tx| {
            let mut r: Reception = {
                let t = tx.open_table(RECEPTIONS).map_err(db)?;
                let v = t.get(id).map_err(db)?.ok_or(StoreError::NoReception(id))?;
                from_json(v.value())?
            };
            if r.revoked_ms.is_none() {
                r.revoked_ms = Some(at_ms);
                put_json(tx, RECEPTIONS, id, &r)?;
                append(
                    tx,
                    AuditEvent::ReceptionRevoked {
                        reception: id,
                        person: r.person,
                    },
                )?;
            }
            Ok(r)
        })
    }

    fn erase_person(&self, person: PersonId, at_ms: i64) -> Result<Erasure, StoreError> {
        self.write(|tx| {
            require_person(tx, person)?;
            let mut e = Erasure::default();
            {
                let mut t = tx.open_table(RECORDS).map_err(db)?;
                let lo = codec::record_key(person, 0, i64::MIN, 0);
                let hi = codec::record_key(person.saturating_add(1), 0, i64::MIN, 0);
                let mut n = 0;
                t.retain_in::<&[u8], _>(lo.as_slice()..hi.as_slice(), |_, _| {
                    n += 1;
                    false
                })
                .map_err(db)?;
                e.records = n;
            }
            {
                let mut t = tx.open_table(RUNS).map_err(db)?;
                let mut gone = Vec::new();
                for row in t.iter().map_err(db)? {
                    let (k, v) = row.map_err(db)?;
                    let run: RunRecord = from_json(v.value())?;
                    if run.person == person {
                        gone.push(k.value());
                    }
                }
                for id in &gone {
                    t.remove(*id).map_err(db)?;
                }
                e.runs = gone.len() as u64;
            }
            let grants: Vec<Grant> = all_in(tx, GRANTS)?;
            for mut g in grants {
                if g.person == person && g.revoked_ms.is_none() {
                    g.revoked_ms = Some(at_ms);
                    put_json(tx, GRANTS, g.id, &g)?;
                    e.grants += 1;
                }
            }
            let accounts: Vec<Account> = all_in(tx, ACCOUNTS)?;
            let tokens: Vec<Token> = all_in(tx, TOKENS)?;
            for a in accounts.iter().filter(|a| a.person == Some(person)) {
                tx.open_table(ACCOUNTS)
                    .map_err(db)?
                    .remove(a.id)
                    .map_err(db)?;
                {
                    let mut names = tx.open_table(ACCOUNT_NAMES).map_err(db)?;
                    for n in [name_key(&a.name), a.name.clone()] {
                        if names.get(n.as_str()).map_err(db)?.map(|id| id.value()) == Some(a.id) {
                            names.remove(n.as_str()).map_err(db)?;
                        }
                    }
                }
                for t in tokens.iter().filter(|t| t.account == a.id) {
                    tx.open_table(TOKENS)
                        .map_err(db)?
                        .remove(t.id)
                        .map_err(db)?;
                    tx.open_table(TOKEN_HASHES)
                        .map_err(db)?
                        .remove(t.hash.as_str())
                        .map_err(db)?;
                }
                e.accounts += 1;
            }
            {
                let mut t = tx.open_table(MEMBERS).map_err(db)?;
                t.retain(|(_, p), _| p != person).map_err(db)?;
            }
            {
                let mut t = tx.open_table(OFFERS).map_err(db)?;
                t.retain(|_, v| from_json::<Offer>(v).map_or(true, |o| o.person != person))
                    .map_err(db)?;
                let mut t = tx.open_table(CONTACTS).map_err(db)?;
                t.retain(|_, v| {
                    from_json::<Contact>(v)
                        .map_or(true, |c| c.seeker != person && c.mentor != person)
                })
                .map_err(db)?;
            }
            {
                let mut t = tx.open_table(SOURCES).map_err(db)?;
                let (lo, hi) = (format!("{person}:"), format!("{person};"));
                t.retain_in::<&str, _>(lo.as_str()..hi.as_str(), |_, _| false)
                    .map_err(db)?;
            }
            tx.open_table(PEOPLE)
                .map_err(db)?
                .remove(person)
                .map_err(db)?;
            append(
                tx,
                AuditEvent::PersonErased {
                    person,
                    records: e.records,
                    runs: e.runs,
                    grants: e.grants,
                },
            )?;
            Ok(e)
        })
    }

    fn add_request(&self, mut r: AccessRequest) -> Result<AccessRequest, StoreError> {
        self.write(|tx| {
            if !r.nowhere {
                require_person(tx, r.person)?;
            }
            r.id = next_id(tx, "request")?;
            put_json(tx, REQUESTS, r.id, &r)?;
            if r.nowhere {
                return Ok(r);
            }
            append(
                tx,
                AuditEvent::RequestOpened {
                    request: r.id,
                    person: r.person,
                    requester: r.requester.clone(),
                    digest: r.plugin_digest.clone(),
                },
            )?;
            Ok(r)
        })
    }

    fn request(&self, id: u64) -> Result<AccessRequest, StoreError> {
        self.read_json(REQUESTS, id)?
            .ok_or(StoreError::NoRequest(id))
    }

    fn requests(&self, person: Option<PersonId>) -> Result<Vec<AccessRequest>, StoreError> {
        let all: Vec<AccessRequest> = self.all_json(REQUESTS)?;
        Ok(all
            .into_iter()
            .filter(|r| person.is_none_or(|p| r.person == p && !r.nowhere))
            .collect())
    }

    fn decide_request(
        &self,
        id: u64,
        grant: Option<Grant>,
    ) -> Result<(AccessRequest, Option<Grant>), StoreError> {
        self.write(|tx| {
            let mut r: AccessRequest = {
                let t = tx.open_table(REQUESTS).map_err(db)?;
                let v = t.get(id).map_err(db)?.ok_or(StoreError::NoRequest(id))?;
                from_json(v.value())?
            };
            if r.nowhere {
                return Err(StoreError::NoRequest(id));
            }
            if r.status != RequestStatus::Pending {
                return Ok((r, None));
            }
            let now = insitu_model::consent::now_ms();
            let stored = match grant {
                Some(g) => {
                    let g = insert_grant(tx, g)?;
                    r.status = RequestStatus::Approved {
                        grant: g.id,
                        at_ms: now,
                    };
                    append(
                        tx,
                        AuditEvent::RequestDecided {
                            request: id,
                            person: r.person,
                            approved: true,
                        },
                    )?;
                    Some(g)
                }
                None => {
                    r.status = RequestStatus::Denied { at_ms: now };
                    append(
                        tx,
                        AuditEvent::RequestDecided {
                            request: id,
                            person: r.person,
                            approved: false,
                        },
                    )?;
                    None
                }
            };
            put_json(tx, REQUESTS, id, &r)?;
            Ok((r, stored))
        })
    }

    fn add_grant(&self, grant: Grant) -> Result<Grant, StoreError> {
        self.write(|tx| {
            require_person(tx, grant.person)?;
            insert_grant(tx, grant)
        })
    }

    fn grant(&self, id: u64) -> Result<Grant, StoreError> {
        self.read_json(GRANTS, id)?.ok_or(StoreError::NoGrant(id))
    }

    fn grants(&self, person: Option<PersonId>) -> Result<Vec<Grant>, StoreError> {
        let all: Vec<Grant> = self.all_json(GRANTS)?;
        Ok(all
            .into_iter()
            .filter(|g| person.is_none_or(|p| g.person == p))
            .collect())
    }

    fn revoke_grant(&self, id: u64, at_ms: i64) -> Result<Grant, StoreError> {
        self.write(|tx| {
            let mut g: Grant = {
                let t = tx.open_table(GRANTS).map_err(db)?;
                let v = t.get(id).map_err(db)?.ok_or(StoreError::NoGrant(id))?;
                from_json(v.value())?
            };
            if g.revoked_ms.is_none() {
                g.revoked_ms = Some(at_ms);
                put_json(tx, GRANTS, id, &g)?;
                append(
                    tx,
                    AuditEvent::GrantRevoked {
                        grant: id,
                        person: g.person,
                    },
                )?;
            }
            Ok(g)
        })
    }

    fn record_run(&self, run: RunRecord) -> Result<RunRecord, StoreError> {
        self.write(|tx| insert_run(tx, run))
    }

    fn reserve_run_ids(&self, n: u64) -> Result<u64, StoreError> {
        self.write(|tx| {
            let mut t = tx.open_table(COUNTERS).map_err(db)?;
            let last = t.get("run").map_err(db)?.map(|v| v.value()).unwrap_or(0);
            let end = last
                .checked_add(n)
                .ok_or_else(|| StoreError::Db("run ids exhausted".into()))?;
            t.insert("run", end).map_err(db)?;
            Ok(last + 1)
        })
    }

    fn begin_run(&self, mut run: RunRecord) -> Result<RunRecord, StoreError> {
        self.write(|tx| {
            run.id = next_id(tx, "run")?;
            put_json(tx, RUNS, run.id, &run)?;
            Ok(run)
        })
    }

    fn finish_run(&self, run: RunRecord) -> Result<RunRecord, StoreError> {
        self.write(|tx| {
            let begun: Option<RunRecord> = get_json(tx, RUNS, run.id)?;
            match begun {
                Some(b) if b.outcome == insitu_model::meter::Outcome::Running => audit_run(tx, run),
                _ => Err(StoreError::Db(format!(
                    "run {} is not a running run; it cannot be finished",
                    run.id
                ))),
            }
        })
    }

    fn run(&self, id: u64) -> Result<RunRecord, StoreError> {
        self.read_json(RUNS, id)?.ok_or(StoreError::NoRun(id))
    }

    fn runs(&self, person: Option<PersonId>) -> Result<Vec<RunRecord>, StoreError> {
        let all: Vec<RunRecord> = self.all_json(RUNS)?;
        Ok(all
            .into_iter()
            .filter(|r| person.is_none_or(|p| r.person == p))
            .collect())
    }

    fn visit_runs_since(
        &self,
        since_ms: i64,
        before: u64,
        visit: &mut dyn FnMut(&RunRecord) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(RUNS).map_err(db)?;
        let started = |id: u64| -> Result<Option<i64>, StoreError> {
            match t.get(id).map_err(db)? {
                Some(v) => Ok(Some(from_json::<RunRecord>(v.value())?.started_ms)),
                None => Ok(None),
            }
        };
        // Binary search over ids for the first run started at or after `since_ms` (ids run
        // from 1 without gaps, except where a person's runs were erased).
        let last = t.last().map_err(db)?.map(|(k, _)| k.value()).unwrap_or(0);
        let (mut lo, mut hi) = (1u64, last.min(before.saturating_sub(1)) + 1);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match started(mid)? {
                Some(ms) if ms < since_ms => lo = mid + 1,
                _ => hi = mid,
            }
        }
        for entry in t.range(lo..before).map_err(db)? {
            let (_, v) = entry.map_err(db)?;
            if !visit(&from_json(v.value())?)? {
                break;
            }
        }
        Ok(())
    }

    fn append_audit(&self, event: AuditEvent) -> Result<AuditEntry, StoreError> {
        self.write(|tx| append(tx, event))
    }

    fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        self.all_json(AUDIT)
    }

    fn policy(&self) -> Result<Policy, StoreError> {
        Ok(self.read_json(SETTINGS, "policy")?.unwrap_or_default())
    }

    fn set_policy(&self, p: &Policy) -> Result<(), StoreError> {
        self.write(|tx| {
            put_json(tx, SETTINGS, "policy", p)?;
            append(
                tx,
                AuditEvent::PolicySet {
                    k_floor: p.k_floor,
                    campaign_gap_days: p.campaign_gap_days,
                    epsilon_per_month_micro: p.epsilon_per_month_micro,
                    commission_bps: p.commission_bps,
                },
            )?;
            Ok(())
        })
    }

    fn add_job(&self, mut job: Job) -> Result<Job, StoreError> {
        self.write(|tx| {
            job.id = next_id(tx, "job")?;
            put_json(tx, JOBS, job.id, &job)?;
            append(
                tx,
                AuditEvent::JobOpened {
                    job: job.id,
                    job_kind: if job.is_campaign() {
                        "campaign"
                    } else {
                        "study"
                    }
                    .into(),
                    owner: job.owner.clone(),
                    digest: job.plugin_digest.clone(),
                },
            )?;
            Ok(job)
        })
    }

    fn job(&self, id: u64) -> Result<Job, StoreError> {
        self.read_json(JOBS, id)?.ok_or(StoreError::NoJob(id))
    }

    fn jobs(&self) -> Result<Vec<Job>, StoreError> {
        self.all_json(JOBS)
    }

    fn record_members(
        &self,
        job: u64,
        members: Vec<(Option<RunRecord>, Member)>,
    ) -> Result<u64, StoreError> {
        self.write(|tx| {
            if tx
                .open_table(JOBS)
                .map_err(db)?
                .get(job)
                .map_err(db)?
                .is_none()
            {
                return Err(StoreError::NoJob(job));
            }
            let mut added = 0;
            for (run, mut m) in members {
                let exists = tx
                    .open_table(MEMBERS)
                    .map_err(db)?
                    .get((job, m.person))
                    .map_err(db)?
                    .is_some();
                if exists {
                    continue;
                }
                if let Some(run) = run {
                    // A member run whose id the job reserved keeps it.
                    m.run = if run.id != 0 {
                        audit_run(tx, run)?.id
                    } else {
                        insert_run(tx, run)?.id
                    };
                }
                m.job = job;
                put_json(tx, MEMBERS, (job, m.person), &m)?;
                added += 1;
            }
            Ok(added)
        })
    }

    fn members(&self, job: u64) -> Result<Vec<Member>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(MEMBERS).map_err(db)?;
        t.range((job, 0)..=(job, u64::MAX))
            .map_err(db)?
            .map(|r| r.map_err(db).and_then(|(_, v)| from_json(v.value())))
            .collect()
    }

    fn memberships(&self, person: PersonId) -> Result<Vec<Member>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(MEMBERS).map_err(db)?;
        let mut out = Vec::new();
        for row in t.iter().map_err(db)? {
            let (k, v) = row.map_err(db)?;
            if k.value().1 == person {
                out.push(from_json(v.value())?);
            }
        }
        Ok(out)
    }

    fn answer_invitation(
        &self,
        job: u64,
        person: PersonId,
        answer: Answer,
    ) -> Result<Member, StoreError> {
        self.write(|tx| {
            let j: Job = {
                let t = tx.open_table(JOBS).map_err(db)?;
                let v = t.get(job).map_err(db)?.ok_or(StoreError::NoJob(job))?;
                from_json(v.value())?
            };
            let mut m: Member = {
                let t = tx.open_table(MEMBERS).map_err(db)?;
                let v = t
                    .get((job, person))
                    .map_err(db)?
                    .ok_or(StoreError::NoInvitation { job, person })?;
                from_json(v.value())?
            };
            let JobKind::Campaign(spec) = &j.kind else {
                return Err(StoreError::NoInvitation { job, person });
            };
            if !matches!(m.outcome, MemberOutcome::Matched { .. }) {
                return Err(StoreError::NoInvitation { job, person });
            }
            if m.answer.is_some() {
                return Err(StoreError::Answered { job, person });
            }
            let event = match &answer {
                Answer::Accepted { shared, .. } => AuditEvent::EvidenceReleased {
                    job,
                    person,
                    association: spec.association.clone(),
                    findings: shared.len() as u32,
                },
                Answer::Declined { .. } => AuditEvent::InvitationDeclined { job, person },
            };
            m.answer = Some(answer);
            put_json(tx, MEMBERS, (job, person), &m)?;
            append(tx, event)?;
            Ok(m)
        })
    }

    fn close_job(
        &self,
        job: &Job,
        billing: Vec<BillingRecord>,
        spend: &[(PersonId, u64)],
        period: &str,
    ) -> Result<Job, StoreError> {
        self.write(|tx| {
            let stored: Job = {
                let t = tx.open_table(JOBS).map_err(db)?;
                let v = t
                    .get(job.id)
                    .map_err(db)?
                    .ok_or(StoreError::NoJob(job.id))?;
                from_json(v.value())?
            };
            // Running ends once (finished, released or withheld); a finished campaign is
            // settled once. Anything else is a second close: a retried or concurrent settle
            // must not pay twice, and a stale scan must not reopen a settled campaign.
            let allowed = matches!(
                (&stored.status, &job.status),
                (
                    JobStatus::Running,
                    JobStatus::Finished { .. }
                        | JobStatus::Released { .. }
                        | JobStatus::Withheld { .. }
                ) | (JobStatus::Finished { .. }, JobStatus::Settled { .. })
            );
            if !allowed {
                return Err(StoreError::JobClosed(job.id));
            }
            put_json(tx, JOBS, job.id, job)?;
            let n = billing.len() as u32;
            for mut b in billing {
                b.id = next_id(tx, "billing")?;
                put_json(tx, BILLING, b.id, &b)?;
            }
            {
                let mut t = tx.open_table(BUDGETS).map_err(db)?;
                for (person, micro) in spend {
                    let spent = t
                        .get((*person, period))
                        .map_err(db)?
                        .map(|v| v.value())
                        .unwrap_or(0);
                    t.insert((*person, period), spent.saturating_add(*micro))
                        .map_err(db)?;
                }
            }
            let status = match &job.status {
                JobStatus::Running => "running".to_string(),
                JobStatus::Finished { .. } => "finished".into(),
                JobStatus::Released { .. } => "released".into(),
                JobStatus::Withheld { reason, .. } => format!("withheld ({reason})"),
                JobStatus::Settled { .. } => "settled".into(),
            };
            append(
                tx,
                AuditEvent::JobClosed {
                    job: job.id,
                    status,
                    billing: n,
                    budget_charged: spend.len() as u32,
                },
            )?;
            Ok(job.clone())
        })
    }

    fn budget_spent(&self, person: PersonId, period: &str) -> Result<u64, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(BUDGETS).map_err(db)?;
        Ok(t.get((person, period))
            .map_err(db)?
            .map_or(0, |v| v.value()))
    }

    fn reserve_budget(
        &self,
        job: u64,
        people: &[PersonId],
        period: &str,
        micro: u64,
        budget: u64,
    ) -> Result<Vec<bool>, StoreError> {
        self.write(|tx| {
            let mut out = Vec::with_capacity(people.len());
            for &person in people {
                let earlier = tx
                    .open_table(RESERVATIONS)
                    .map_err(db)?
                    .get((job, person))
                    .map_err(db)?
                    .map(|v| v.value());
                if let Some(r) = earlier {
                    out.push(r > 0);
                    continue;
                }
                let spent = tx
                    .open_table(BUDGETS)
                    .map_err(db)?
                    .get((person, period))
                    .map_err(db)?
                    .map_or(0, |v| v.value());
                let reserved = micro > 0 && spent.saturating_add(micro) <= budget;
                if reserved {
                    tx.open_table(BUDGETS)
                        .map_err(db)?
                        .insert((person, period), spent + micro)
                        .map_err(db)?;
                }
                tx.open_table(RESERVATIONS)
                    .map_err(db)?
                    .insert((job, person), if reserved { micro } else { 0 })
                    .map_err(db)?;
                append(
                    tx,
                    AuditEvent::BudgetReserved {
                        job,
                        person,
                        epsilon_micro: micro,
                        reserved,
                    },
                )?;
                out.push(reserved);
            }
            Ok(out)
        })
    }

    fn billing(&self, job: Option<u64>) -> Result<Vec<BillingRecord>, StoreError> {
        let all: Vec<BillingRecord> = self.all_json(BILLING)?;
        Ok(all
            .into_iter()
            .filter(|b| job.is_none_or(|j| b.job == j))
            .collect())
    }

    fn put_offer(&self, mut o: Offer) -> Result<Offer, StoreError> {
        self.write(|tx| {
            require_person(tx, o.person)?;
            if o.id == 0 {
                o.id = next_id(tx, "offer")?;
            }
            put_json(tx, OFFERS, o.id, &o)?;
            append(
                tx,
                AuditEvent::PeerOffer {
                    offer: o.id,
                    person: o.person,
                    occupation: o.occupation.clone(),
                    withdrawn: o.withdrawn_ms.is_some(),
                },
            )?;
            Ok(o)
        })
    }

    fn offers(&self) -> Result<Vec<Offer>, StoreError> {
        self.all_json(OFFERS)
    }

    fn put_contact(&self, mut c: Contact) -> Result<Contact, StoreError> {
        self.write(|tx| {
            let event = if c.id == 0 {
                c.id = next_id(tx, "contact")?;
                AuditEvent::ContactAsked {
                    contact: c.id,
                    person: c.seeker,
                    occupation: c.occupation.clone(),
                }
            } else {
                AuditEvent::ContactAnswered {
                    contact: c.id,
                    person: c.mentor,
                    accepted: c.status == ContactStatus::Connected,
                }
            };
            put_json(tx, CONTACTS, c.id, &c)?;
            append(tx, event)?;
            Ok(c)
        })
    }

    fn contacts(&self) -> Result<Vec<Contact>, StoreError> {
        self.all_json(CONTACTS)
    }

    fn add_licence(&self, mut l: Licence) -> Result<Licence, StoreError> {
        self.write(|tx| {
            l.id = next_id(tx, "licence")?;
            put_json(tx, LICENCES, l.id, &l)?;
            append(
                tx,
                AuditEvent::LicenceGranted {
                    licence: l.id,
                    organisation: l.organisation.clone(),
                    plugin: l.plugin.clone(),
                    members: l.members.clone(),
                },
            )?;
            Ok(l)
        })
    }

    fn licences(&self) -> Result<Vec<Licence>, StoreError> {
        self.all_json(LICENCES)
    }

    fn tariff(&self) -> Result<Tariff, StoreError> {
        Ok(self.read_json(SETTINGS, "tariff")?.unwrap_or_default())
    }

    fn set_tariff(&self, t: &Tariff) -> Result<(), StoreError> {
        self.write(|tx| {
            put_json(tx, SETTINGS, "tariff", t)?;
            append(
                tx,
                AuditEvent::TariffSet {
                    commission_bps: t.commission_bps,
                    member_share_bps: t.member_share_bps,
                    passage_per_run: t.passage_per_run,
                    access_fee: t.access_fee,
                    membership_per_year: t.membership_per_year,
                },
            )?;
            Ok(())
        })
    }

    fn post(&self, key: &str, entries: Vec<Entry>) -> Result<Vec<Entry>, StoreError> {
        self.write(|tx| post_in(tx, key, entries).map(|(e, _)| e))
    }

    fn post_many(&self, postings: Vec<(String, Vec<Entry>)>) -> Result<u64, StoreError> {
        if postings.is_empty() {
            return Ok(0);
        }
        self.write(|tx| {
            let mut n = 0;
            for (key, entries) in postings {
                n += post_in(tx, &key, entries)?.1 as u64;
            }
            Ok(n)
        })
    }

    fn posting(&self, key: &str) -> Result<Option<Vec<Entry>>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let keys = tx.open_table(LEDGER_KEYS).map_err(db)?;
        let Some(ids) = keys.get(key).map_err(db)? else {
            return Ok(None);
        };
        let ids: Vec<u64> = from_json(ids.value())?;
        entries_by_id(&tx.open_table(LEDGER).map_err(db)?, &ids).map(Some)
    }

    fn ledger(&self) -> Result<Vec<Entry>, StoreError> {
        self.all_json(LEDGER)
    }

    fn compiled_hash(&self, key: &str) -> Result<Option<String>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(COMPILED).map_err(db)?;
        Ok(t.get(key).map_err(db)?.map(|v| v.value().to_string()))
    }

    fn set_compiled_hash(&self, key: &str, hash: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            let mut t = tx.open_table(COMPILED).map_err(db)?;
            t.insert(key, hash).map_err(db)?;
            Ok(())
        })
    }

    fn pseudonym_key(&self) -> Result<[u8; 32], StoreError> {
        Ok(self.pseudonym_key)
    }
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
}

impl Cursor for RedbCursor {
    fn next_batch(&mut self, max: usize) -> Result<Option<(ColumnBatch, usize)>, StoreError> {
        let mut batch = self.projection.empty_batch(&self.schema, max.min(4096));
        let mut bytes = 0;
        // Bounded in bytes too, so text offsets stay small and a batch never balloons.
        while batch.len() < max && bytes < MAX_BATCH_BYTES {
            let Some(item) = self.iter.next() else { break };
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use insitu_model::account::Role;

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
}
