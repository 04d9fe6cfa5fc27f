//! People, collections, records and erasure. Records are written through `COPY ... BINARY`
//! into a staging table and read through a server-side cursor.

use std::collections::HashMap;

use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;

use super::*;
use insitu_model::account::Account;
use insitu_model::account::name::key as name_key;
use insitu_store::codec::{self, Projection};
use insitu_store::redb::MAX_BATCH_BYTES;
use insitu_store::{
    ColumnBatch, Cursor, Erasure, KeyedRecord, NewRecords, NextBatch, Person, Record, RecordStore,
    Source, TimeRange, WriteOutcome,
};

/// Records encoded for writing: (time, id, value bytes), in the caller's order.
type Encoded = Vec<(i64, u64, Vec<u8>)>;

fn encode(records: &[KeyedRecord]) -> Encoded {
    records
        .iter()
        .map(|r| {
            let mut buf = Vec::with_capacity(64);
            codec::encode(&r.values, &mut buf);
            (r.time, r.id, buf)
        })
        .collect()
}

impl RecordStore for PgStore {
    fn add_person(&self, name: &str) -> Result<PersonId, StoreError> {
        let name = name.to_string();
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited(&mut c, &cx).await?;
            let id = next_id(&tx, "person").await?;
            tx.execute(
                "INSERT INTO people (person, value) VALUES ($1, $2)",
                &[&key(id), &json(&Person { id, name })],
            )
            .await
            .map_err(db)?;
            append(&tx, AuditEvent::PersonAdded { person: id }).await?;
            tx.commit().await?;
            Ok(id)
        })
    }

    fn person(&self, id: PersonId) -> Result<Person, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            one(
                &c,
                "SELECT value FROM people WHERE person = $1",
                &[&key(id)],
            )
            .await?
            .ok_or(StoreError::NoPerson(id))
        })
    }

    fn people(&self) -> Result<Vec<Person>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            all(&c, "SELECT value FROM people ORDER BY person", &[]).await
        })
    }

    fn define_collection(&self, schema: &Schema) -> Result<(), StoreError> {
        schema.validate()?;
        let schema = schema.clone();
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            // Defining an existing schema again is common (every start, every import): answer
            // it from a read, without taking the chain.
            if stored_collection(&c, &schema.name)
                .await?
                .is_some_and(|s| s.schema == schema)
            {
                return Ok(());
            }
            let tx = Tx::audited(&mut c, &cx).await?;
            define_in(&tx, &schema).await?;
            tx.commit().await
        })
    }

    fn collection(&self, name: &str) -> Result<Schema, StoreError> {
        // Known here: no call through the runtime at all (a member run asks for every scan).
        if let Some(known) = known_collection(&self.collections, name) {
            return Ok(known.schema);
        }
        let name = name.to_string();
        self.with(|cx| async move {
            let c = cx.conn().await?;
            Ok(cx.collection(&c, &name).await?.schema)
        })
    }

    fn collections(&self) -> Result<Vec<Schema>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            let all: Vec<StoredCollection> = all(
                &c,
                "SELECT value FROM collections ORDER BY name COLLATE \"C\"",
                &[],
            )
            .await?;
            Ok(all.into_iter().map(|s| s.schema).collect())
        })
    }

    fn write_records(
        &self,
        person: PersonId,
        collection: &str,
        records: &[KeyedRecord],
        source: Source<'_>,
    ) -> Result<WriteOutcome, StoreError> {
        let collection = collection.to_string();
        let encoded = encode(records);
        let source = OwnedSource::of(source);
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let coll = cx.collection(&c, &collection).await?;
            let tx = Tx::audited_for(&mut c, &cx, &[Chain::Person(person)]).await?;
            require_person(&tx, person).await?;
            let out = write_in(&tx, person, &coll, &encoded, &source).await?;
            tx.commit().await?;
            Ok(out)
        })
    }

    fn records_at(
        &self,
        person: PersonId,
        collection: &str,
        keys: &[(i64, u64)],
    ) -> Result<Vec<Option<Record>>, StoreError> {
        let collection = collection.to_string();
        let keys = keys.to_vec();
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let coll = cx.collection(&c, &collection).await?;
            // One snapshot for every key, as redb's one read transaction.
            let client: &mut tokio_postgres::Client = &mut c;
            let tx = client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await
                .map_err(db)?;
            let stmt = tx
                .prepare(
                    "SELECT c.data FROM records r JOIN record_chunks c \
                     ON c.person = r.person AND c.collection = r.collection AND c.chunk = r.chunk \
                     WHERE r.person = $1 AND r.collection = $2 AND r.time = $3 AND r.id = $4",
                )
                .await
                .map_err(db)?;
            let mut out = Vec::with_capacity(keys.len());
            for (time, id) in keys {
                let row = tx
                    .query_opt(
                        &stmt,
                        &[&key(person), &(coll.id as i32), &time, &record_id(id)],
                    )
                    .await
                    .map_err(db)?;
                let Some(row) = row else {
                    out.push(None);
                    continue;
                };
                let data: &[u8] = row.try_get(0).map_err(db)?;
                let (mut pos, mut found) = (0, None);
                while let Some((k, value, next)) = chunks::at(data, pos)? {
                    if k == (time, record_id(id)) {
                        found = Some(codec::decode(&coll.schema, value)?);
                        break;
                    }
                    pos = next;
                }
                // The key's row names this chunk: a chunk without the record is corrupt.
                out.push(Some(found.ok_or_else(|| {
                    StoreError::Corrupt(codec::Corrupt(coll.schema.name.clone()))
                })?));
            }
            tx.commit().await.map_err(db)?;
            Ok(out)
        })
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
        let schemas = schemas.to_vec();
        let writes: Vec<(String, Encoded, OwnedSource)> = writes
            .iter()
            .map(|w| {
                (
                    w.collection.to_string(),
                    encode(w.records),
                    OwnedSource::of(w.source),
                )
            })
            .collect();
        // One transaction: an error anywhere drops it uncommitted, and PostgreSQL keeps nothing.
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited(&mut c, &cx).await?;
            require_person(&tx, person).await?;
            for schema in &schemas {
                define_in(&tx, schema).await?;
            }
            let mut out = Vec::with_capacity(writes.len());
            for (collection, encoded, source) in &writes {
                let coll = require_collection(&tx, collection).await?;
                out.push(write_in(&tx, person, &coll, encoded, source).await?);
            }
            tx.commit().await?;
            Ok(out)
        })
    }

    fn scan(
        &self,
        person: PersonId,
        collection: &str,
        range: TimeRange,
        fields: &[String],
    ) -> Result<Box<dyn Cursor>, StoreError> {
        let coll = match known_collection(&self.collections, collection) {
            Some(known) => known,
            None => {
                let collection = collection.to_string();
                self.with(|cx| async move {
                    let c = cx.conn().await?;
                    cx.collection(&c, &collection).await
                })?
            }
        };
        // The chunks that may hold records in the range, by their first key. Integers only,
        // formatted here: DECLARE takes no parameters. Read committed: the cursor keeps the
        // snapshot of its declaration, and a grant read beside it sees what is committed then.
        let mut sql = format!(
            "BEGIN READ ONLY; \
             DECLARE insitu_scan NO SCROLL CURSOR FOR SELECT data FROM record_chunks \
             WHERE person = {} AND collection = {}",
            key(person),
            coll.id
        );
        if let Some(since) = range.since {
            sql.push_str(&format!(" AND last_time >= {since}"));
        }
        if let Some(until) = range.until {
            sql.push_str(&format!(" AND first_time < {until}"));
        }
        sql.push_str(" ORDER BY first_time, first_id");
        let projection = Projection::new(&coll.schema, fields);
        Ok(Box::new(PgCursor {
            handle: self.handle().clone(),
            pool: self.pool.clone(),
            first: Some(First {
                person: key(person),
                collection: coll.id as i32,
                since: range.since,
                until: range.until,
            }),
            declare: Some(sql),
            client: None,
            chunks: chunks::Merge::new(chunk_bytes),
            exhausted: false,
            range,
            schema: coll.schema,
            projection,
        }))
    }

    fn count(&self, person: PersonId, collection: &str) -> Result<u64, StoreError> {
        let collection = collection.to_string();
        self.with(|cx| async move {
            let c = cx.conn().await?;
            let coll = cx.collection(&c, &collection).await?;
            let row = c
                .query_one(
                    "SELECT count(*) FROM records WHERE person = $1 AND collection = $2",
                    &[&key(person), &(coll.id as i32)],
                )
                .await
                .map_err(db)?;
            let n: i64 = row.try_get(0).map_err(db)?;
            Ok(n as u64)
        })
    }

    fn source_name(&self, person: PersonId, digest: &str) -> Result<Option<String>, StoreError> {
        let digest = digest.to_string();
        self.with(|cx| async move {
            let c = cx.conn().await?;
            let row = c
                .query_opt(
                    "SELECT name FROM sources WHERE person = $1 AND digest = $2",
                    &[&key(person), &digest],
                )
                .await
                .map_err(db)?;
            row.map(|r| r.try_get::<_, String>(0).map_err(db))
                .transpose()
        })
    }

    fn erase_person(&self, person: PersonId, at_ms: i64) -> Result<Erasure, StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx =
                Tx::audited_for(&mut c, &cx, &[Chain::Operator, Chain::Person(person)]).await?;
            require_person(&tx, person).await?;
            let p = key(person);
            let mut e = Erasure::default();
            let n = |sql: &'static str| {
                let tx = &tx;
                async move { tx.execute(sql, &[&p]).await.map_err(db) }
            };
            e.records = n("DELETE FROM records WHERE person = $1").await?;
            n("DELETE FROM record_chunks WHERE person = $1").await?;
            e.runs = n("DELETE FROM runs WHERE person = $1").await?;
            let grants: Vec<Grant> = all(
                &tx,
                "SELECT value FROM grants WHERE person = $1 ORDER BY id",
                &[&p],
            )
            .await?;
            for mut g in grants {
                if g.revoked_ms.is_none() {
                    g.revoked_ms = Some(at_ms);
                    put_grant(&tx, &g).await?;
                    e.grants += 1;
                }
            }
            let accounts: Vec<Account> = all(
                &tx,
                "SELECT value FROM accounts WHERE person = $1 ORDER BY id",
                &[&p],
            )
            .await?;
            for a in &accounts {
                let id = key(a.id);
                tx.execute(
                    "DELETE FROM account_names WHERE account = $1 AND name = ANY($2)",
                    &[&id, &vec![name_key(&a.name), a.name.clone()]],
                )
                .await
                .map_err(db)?;
                tx.execute("DELETE FROM tokens WHERE account = $1", &[&id])
                    .await
                    .map_err(db)?;
                tx.execute("DELETE FROM accounts WHERE id = $1", &[&id])
                    .await
                    .map_err(db)?;
                e.accounts += 1;
            }
            n("DELETE FROM memberships WHERE person = $1").await?;
            n("DELETE FROM offers WHERE person = $1").await?;
            n("DELETE FROM contacts WHERE person = $1 OR mentor = $1").await?;
            n("DELETE FROM contributions WHERE person = $1").await?;
            n("DELETE FROM votes WHERE person = $1").await?;
            n("DELETE FROM sources WHERE person = $1").await?;
            n("DELETE FROM people WHERE person = $1").await?;
            append(
                &tx,
                AuditEvent::PersonErased {
                    person,
                    records: e.records,
                    runs: e.runs,
                    grants: e.grants,
                },
            )
            .await?;
            tx.commit().await?;
            Ok(e)
        })
    }
}

/// A [`Source`] that can move into the store's runtime.
enum OwnedSource {
    File(String),
    ReturnedBy(String),
}

impl OwnedSource {
    fn of(source: Source<'_>) -> Self {
        match source {
            Source::File(n) => OwnedSource::File(n.to_string()),
            Source::ReturnedBy(n) => OwnedSource::ReturnedBy(n.to_string()),
        }
    }

    fn get(&self) -> Source<'_> {
        match self {
            OwnedSource::File(n) => Source::File(n),
            OwnedSource::ReturnedBy(n) => Source::ReturnedBy(n),
        }
    }
}

/// Defines `schema` inside `tx` unless it exists (see `RecordStore::define_collection`).
async fn define_in(tx: &Tx<'_>, schema: &Schema) -> Res<()> {
    match stored_collection(tx, &schema.name).await? {
        Some(c) if c.schema == *schema => Ok(()),
        Some(_) => Err(StoreError::SchemaConflict(schema.name.clone())),
        None => {
            let id = next_id(tx, "collection").await? as u32;
            let stored = StoredCollection {
                id,
                schema: schema.clone(),
            };
            tx.execute(
                "INSERT INTO collections (name, id, value) VALUES ($1, $2, $3)",
                &[&schema.name, &(id as i32), &json(&stored)],
            )
            .await
            .map_err(db)?;
            append(
                tx,
                AuditEvent::CollectionDefined {
                    collection: schema.name.clone(),
                },
            )
            .await?;
            Ok(())
        }
    }
}

/// Writes `records` of `coll` inside `tx`, with their audit entry (see
/// `RecordStore::write_records`). The first record of each key is put in a chunk (in key order,
/// [`chunks::split`]); the keys go through `COPY` into a staging table with their chunk, and
/// into `records` from there, those already stored left as they are; the chunks are written
/// with the records that were new. A record whose key is stored (or came earlier in the same
/// call) is a duplicate, changed when its value differs from the stored one, as in redb; the
/// stored values of such keys are read from their chunks.
async fn write_in(
    tx: &Tx<'_>,
    person: PersonId,
    coll: &StoredCollection,
    records: &Encoded,
    source: &OwnedSource,
) -> Res<WriteOutcome> {
    let mut out = WriteOutcome::default();
    if !records.is_empty() {
        let mut first: HashMap<(i64, u64), usize> = HashMap::with_capacity(records.len());
        for (i, (time, id, _)) in records.iter().enumerate() {
            first.entry((*time, *id)).or_insert(i);
        }
        // The first of each key, in key order (a stored id's order is the u64's).
        let mut order: Vec<usize> = first.values().copied().collect();
        order.sort_unstable_by_key(|&i| (records[i].0, records[i].1));
        let starts = chunks::split(order.iter().map(|&i| records[i].2.len()));
        let (p, cid) = (key(person), coll.id as i32);
        let ids = ints(
            tx,
            "SELECT nextval('record_chunk_ids') FROM generate_series(1, $1::bigint)",
            &[&(starts.len() as i64)],
        )
        .await?;
        // The chunk each record of `order` goes to.
        let chunk_of = |n: usize| ids[starts.partition_point(|&s| s <= n) - 1];
        tx.batch_execute(
            "CREATE TEMP TABLE IF NOT EXISTS incoming_keys \
                 (time bigint NOT NULL, id bigint NOT NULL, chunk bigint NOT NULL) \
                 ON COMMIT DELETE ROWS; \
             TRUNCATE pg_temp.incoming_keys",
        )
        .await
        .map_err(db)?;
        {
            let sink = tx
                .copy_in("COPY pg_temp.incoming_keys (time, id, chunk) FROM STDIN BINARY")
                .await
                .map_err(db)?;
            let writer = BinaryCopyInWriter::new(sink, &[Type::INT8, Type::INT8, Type::INT8]);
            let mut writer = std::pin::pin!(writer);
            for (n, &i) in order.iter().enumerate() {
                let (time, id, _) = &records[i];
                writer
                    .as_mut()
                    .write(&[time, &record_id(*id), &chunk_of(n)])
                    .await
                    .map_err(db)?;
            }
            writer.finish().await.map_err(db)?;
        }
        // The new keys go in first; only when some were already stored are their chunks read
        // back, by a join the planner costs from the staging table's real size (a temporary
        // table has no statistics: unanalysed, it chose to read the person's whole
        // collection at every batch, and an import slowed as the collection grew).
        let inserted = tx
            .execute(
                "INSERT INTO records (person, collection, time, id, chunk) \
                 SELECT $1, $2, time, id, chunk FROM pg_temp.incoming_keys \
                 ON CONFLICT DO NOTHING",
                &[&p, &cid],
            )
            .await
            .map_err(db)? as usize;
        // The stored value of each key that was already stored.
        let mut stored: HashMap<(i64, u64), Vec<u8>> = HashMap::new();
        if inserted < order.len() {
            tx.batch_execute("ANALYZE pg_temp.incoming_keys")
                .await
                .map_err(db)?;
            // A key inserted here has this call's chunk; one stored before has another. The
            // chunks are then read by their key (a subquery in their place let the planner
            // read the person's every chunk at each batch).
            let chunks = ints(
                tx,
                "SELECT DISTINCT r.chunk FROM pg_temp.incoming_keys i JOIN records r \
                 ON r.person = $1 AND r.collection = $2 AND r.time = i.time AND r.id = i.id \
                 WHERE r.chunk <> i.chunk",
                &[&p, &cid],
            )
            .await?;
            let rows = tx
                .query(
                    "SELECT data FROM record_chunks \
                     WHERE person = $1 AND collection = $2 AND chunk = ANY($3)",
                    &[&p, &cid, &chunks],
                )
                .await
                .map_err(db)?;
            for row in rows {
                let data: &[u8] = row.try_get(0).map_err(db)?;
                let mut pos = 0;
                while let Some(((time, id), value, next)) = chunks::at(data, pos)? {
                    let k = (time, record_id_back(id));
                    if first.contains_key(&k) {
                        stored.insert(k, value.to_vec());
                    }
                    pos = next;
                }
            }
        }
        // The chunks, with the records that were new.
        let sink = tx
            .copy_in(
                "COPY record_chunks (person, collection, chunk, first_time, first_id, \
                 last_time, last_id, n, data) FROM STDIN BINARY",
            )
            .await
            .map_err(db)?;
        let writer = BinaryCopyInWriter::new(
            sink,
            &[
                Type::INT8,
                Type::INT4,
                Type::INT8,
                Type::INT8,
                Type::INT8,
                Type::INT8,
                Type::INT8,
                Type::INT4,
                Type::BYTEA,
            ],
        );
        let mut writer = std::pin::pin!(writer);
        for (c, &begin) in starts.iter().enumerate() {
            let end = starts.get(c + 1).copied().unwrap_or(order.len());
            let mut data = Vec::with_capacity(chunks::CHUNK_BYTES);
            let (mut keys, mut n) = (None::<(chunks::Key, chunks::Key)>, 0i32);
            for &i in &order[begin..end] {
                let (time, id, value) = &records[i];
                if stored.contains_key(&(*time, *id)) {
                    continue;
                }
                let k = (*time, record_id(*id));
                chunks::push(&mut data, k, value);
                keys = Some(keys.map_or((k, k), |(a, _)| (a, k)));
                n += 1;
            }
            let Some((a, b)) = keys else {
                continue; // every record of this chunk was stored already
            };
            writer
                .as_mut()
                .write(&[
                    &p,
                    &cid,
                    &ids[c],
                    &a.0,
                    &a.1,
                    &b.0,
                    &b.1,
                    &n,
                    &data.as_slice(),
                ])
                .await
                .map_err(db)?;
        }
        writer.finish().await.map_err(db)?;
        for (i, (time, id, value)) in records.iter().enumerate() {
            let k = (*time, *id);
            if let Some(s) = stored.get(&k) {
                let i = u32::try_from(i).unwrap_or(u32::MAX);
                out.duplicates += 1;
                out.taken.push(i);
                if s != value {
                    out.changed.push(i);
                }
                continue;
            }
            stored.insert(k, value.clone());
            out.added += 1;
        }
    }
    let source = source.get();
    if let (Source::File(name), Some(digest)) = (source, source.file_digest()) {
        tx.execute(
            "INSERT INTO sources (person, digest, name) VALUES ($1, $2, $3) \
             ON CONFLICT (person, digest) DO UPDATE SET name = EXCLUDED.name",
            &[&key(person), &digest, &name],
        )
        .await
        .map_err(db)?;
    }
    append(
        tx,
        AuditEvent::records_imported(person, &coll.schema.name, &out, source),
    )
    .await?;
    Ok(out)
}

/// The first column of each row `sql` finds, a `bigint`.
async fn ints(tx: &Tx<'_>, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Res<Vec<i64>> {
    tx.query(sql, params)
        .await
        .map_err(db)?
        .iter()
        .map(|r| r.try_get(0).map_err(db))
        .collect()
}

/// A scan of a person's collection, by its chunks. Nothing is sent before the first batch: its
/// call reads the first [`FETCH_CHUNKS`] chunks with one statement ([`FIRST_SQL`], one more to
/// know whether there are more; [`FIRST_UNDER_SQL`] under a grant, which reads the grant in
/// the same statement), which for most scans is all of them: the scan then holds
/// nothing, and knows its end ([`Cursor::exhausted`]). A scan with more chunks than that reads
/// them all again through a server-side cursor, in a read-only transaction of a connection it
/// holds until its end (or its drop, which rolls the transaction back and returns the
/// connection), [`FETCH_CHUNKS`] at a time.
struct PgCursor {
    handle: tokio::runtime::Handle,
    pool: Pool,
    /// The first statement's parameters, until the first fetch sends it.
    first: Option<First>,
    /// `BEGIN` and the cursor's `DECLARE`, until a fetch sends them.
    declare: Option<String>,
    client: Option<Object>,
    /// Chunks fetched and not yet read to their end (a batch closed early by its bytes leaves
    /// some), read in key order.
    chunks: chunks::Merge<tokio_postgres::Row>,
    exhausted: bool,
    /// Chunks at the range's ends hold records outside it, which are skipped.
    range: TimeRange,
    schema: Schema,
    projection: Projection,
}

/// The parameters of [`FIRST_SQL`]: the person, the collection, and the range's ends.
struct First {
    person: i64,
    collection: i32,
    since: Option<i64>,
    until: Option<i64>,
}

/// A scan's first read: the chunks that may hold records in the range, in the cursor's order,
/// one more than a fetch to know whether that is all. One statement: one snapshot.
const FIRST_SQL: &str = "SELECT data FROM record_chunks WHERE person = $1 AND collection = $2 \
     AND ($3::bigint IS NULL OR last_time >= $3) AND ($4::bigint IS NULL OR first_time < $4) \
     ORDER BY first_time, first_id LIMIT 65";
const _: () = assert!(
    FETCH_CHUNKS + 1 == 65,
    "FIRST_SQL reads one more than a fetch"
);

/// [`FIRST_SQL`] under a grant: the grant `$5` and the chunks, one row per chunk with the
/// grant beside it (one row with no chunk when the range has none, no row when the grant does
/// not exist). One statement, so one snapshot for both, and one execution a member: the grant
/// read it replaced was a statement of its own, pipelined after it.
const FIRST_UNDER_SQL: &str = "SELECT c.data, g.value FROM grants g LEFT JOIN LATERAL ( \
         SELECT data, first_time, first_id FROM record_chunks WHERE person = $1 \
         AND collection = $2 AND ($3::bigint IS NULL OR last_time >= $3) \
         AND ($4::bigint IS NULL OR first_time < $4) \
         ORDER BY first_time, first_id LIMIT 65) c ON true \
     WHERE g.id = $5 ORDER BY c.first_time, c.first_id";

/// A chunk's bytes in a row of the scan.
fn chunk_bytes(row: &tokio_postgres::Row) -> Result<&[u8], StoreError> {
    row.try_get(0).map_err(db)
}

/// The statement [`ConsentStore::grant`](insitu_store::ConsentStore::grant) reads a grant
/// with, which a fetch sends after its `FETCH` (the same text: one prepared statement).
pub(crate) const GRANT_SQL: &str = "SELECT value FROM grants WHERE id = $1";

/// What one fetch brought: the chunks, and the grant when one was asked for.
type Fetched = (Vec<tokio_postgres::Row>, Option<Grant>);

impl PgCursor {
    /// Reads the first chunks ([`FIRST_SQL`]) on the first call, else fetches up to
    /// [`FETCH_CHUNKS`] more from the cursor (declaring it first, when the first read was not
    /// all); and, when `grant` is given, reads that grant in the same round trip, after them.
    #[track_caller]
    fn fetch(&mut self, grant: Option<u64>) -> Res<Option<Grant>> {
        let (first, declare, client) = (self.first.take(), self.declare.take(), self.client.take());
        if first.is_none() && declare.is_none() && client.is_none() {
            self.exhausted = true;
            return Ok(None);
        }
        let pool = self.pool.clone();
        let task = self.handle.spawn(async move {
            let client = match client {
                Some(c) => c,
                None => conn(&pool).await?,
            };
            if let Some(first) = &first {
                let read = first_on(&client, first, grant).await;
                let (client, (rows, read)) = kept(client, read)?;
                if rows.len() <= FETCH_CHUNKS {
                    // All of it, in no transaction: the connection goes back to the pool.
                    return Ok((None, rows, read));
                }
                let fetched = fetch_on(&client, declare.as_deref(), grant).await;
                let (client, (rows, read)) = kept(client, fetched)?;
                return Ok((Some(client), rows, read));
            }
            let fetched = fetch_on(&client, declare.as_deref(), grant).await;
            let (client, (rows, read)) = kept(client, fetched)?;
            Ok((Some(client), rows, read))
        });
        let (client, rows, read) = wait_profiled(task)?;
        match client {
            Some(client) => {
                self.client = Some(client);
                self.fetched(rows, grant.is_some())?;
            }
            None => {
                self.exhausted = true;
                self.chunks.extend(rows)?;
            }
        }
        Ok(read)
    }

    /// Takes a FETCH's chunks; a FETCH short of [`FETCH_CHUNKS`] was the last, which ends the
    /// scan's transaction and gives its connection back, unless the scan keeps it (`hold`:
    /// batches read under a grant) for the grant read at the end of the data
    /// ([`PgCursor::read_grant`]).
    fn fetched(&mut self, rows: Vec<tokio_postgres::Row>, hold: bool) -> Res<()> {
        if rows.len() < FETCH_CHUNKS {
            self.exhausted = true;
            if !hold && let Some(client) = self.client.take() {
                close(&self.handle, client);
            }
        }
        self.chunks.extend(rows)
    }

    /// Reads the grant `id` in a statement of its own (read committed: as committed now), on
    /// the connection the scan holds, else on one of the pool; at the end of the data (`end`),
    /// the `ROLLBACK` that ends the scan's transaction goes in the same round trip, and the
    /// connection goes back to the pool.
    #[track_caller]
    fn read_grant(&mut self, id: u64, end: bool) -> Res<Grant> {
        let held = self.client.take();
        let in_transaction = held.is_some();
        let pool = self.pool.clone();
        let task = self.handle.spawn(async move {
            let client = match held {
                Some(c) => c,
                None => conn(&pool).await?,
            };
            let read = grant_on(&client, id, end && in_transaction).await;
            kept(client, read)
        });
        let (client, grant) = wait_profiled(task)?;
        if in_transaction && !end {
            self.client = Some(client);
        }
        Ok(grant)
    }

    /// The next batch of at most `max` records, and `grant` as read with the last fetch it
    /// needed, else on the connection the scan holds, else on one of the pool (none when no
    /// grant is asked for).
    fn fill(&mut self, max: usize, grant: Option<u64>) -> Res<(NextBatch, Option<Grant>)> {
        let mut batch = self.projection.empty_batch(&self.schema, max.min(4096));
        let (mut bytes, mut read) = (0, None);
        let TimeRange { since, until } = self.range;
        // Bounded in bytes too, so text offsets stay small and a batch never balloons.
        while batch.len() < max && bytes < MAX_BATCH_BYTES {
            if !self.chunks.ready() && !self.exhausted {
                // Only the last fetch's grant is kept: it was read after every record before.
                read = self.fetch(grant)?;
                continue;
            }
            let (schema, projection) = (&self.schema, &self.projection);
            let taken = self.chunks.next(|(time, id), value| {
                if since.is_some_and(|s| time < s) || until.is_some_and(|u| time >= u) {
                    return Ok(());
                }
                bytes += projection.decode_into(schema, value, &mut batch)?;
                batch.ids.push(record_id_back(id));
                batch.times.push(time);
                Ok(())
            })?;
            if taken.is_none() {
                break;
            }
        }
        let batch = (!batch.is_empty()).then_some((batch, bytes));
        if let (None, Some(id)) = (&read, grant) {
            // After every record of the batch was read (they came from chunks fetched before).
            read = Some(self.read_grant(id, batch.is_none())?);
        }
        Ok((batch, read))
    }
}

/// One round trip on `client`: the grant `id`, then, at the end of a scan (`end`), the
/// `ROLLBACK` that ends its transaction.
async fn grant_on(client: &Object, id: u64, end: bool) -> Res<Grant> {
    let statement = grant_statement(client, Some(id)).await?;
    let pg: &tokio_postgres::Client = client;
    let (read, ended) = tokio::join!(
        biased;
        grant_read(pg, statement.as_ref(), Some(key(id))),
        async {
            match end {
                true => pg.batch_execute("ROLLBACK").await,
                false => Ok(()),
            }
        },
    );
    ended.map_err(db)?;
    grant_of(read, Some(id))?.ok_or(StoreError::NoGrant(id))
}

/// [`GRANT_SQL`] prepared on `client` (once per connection) when a grant is asked for: before
/// anything is sent, so that its execution leaves in its turn with the statements it follows
/// rather than after a round trip of its own.
async fn grant_statement(
    client: &Object,
    grant: Option<u64>,
) -> Res<Option<tokio_postgres::Statement>> {
    Ok(match grant {
        Some(_) => Some(client.prepare_cached(GRANT_SQL).await.map_err(db)?),
        None => None,
    })
}

/// One statement on `client`: the scan's first chunks ([`FIRST_SQL`]), with the grant `grant`
/// if given ([`FIRST_UNDER_SQL`]): read in the same snapshot as the chunks, so as committed
/// when the chunks were read, a revocation committed before the call included.
async fn first_on(client: &Object, first: &First, grant: Option<u64>) -> Res<Fetched> {
    let pg: &tokio_postgres::Client = client;
    let Some(id) = grant else {
        let select = client.prepare_cached(FIRST_SQL).await.map_err(db)?;
        let params: [&(dyn ToSql + Sync); 4] =
            [&first.person, &first.collection, &first.since, &first.until];
        return Ok((pg.query(&select, &params).await.map_err(db)?, None));
    };
    let select = client.prepare_cached(FIRST_UNDER_SQL).await.map_err(db)?;
    let grant_key = key(id);
    let params: [&(dyn ToSql + Sync); 5] = [
        &first.person,
        &first.collection,
        &first.since,
        &first.until,
        &grant_key,
    ];
    let mut rows = pg.query(&select, &params).await.map_err(db)?;
    // No row: no such grant. Else every row holds it, and the one row of a range with no
    // chunk holds no chunk.
    let read = match rows.first() {
        Some(row) => from_row::<Grant>(row, 1)?,
        None => return Err(StoreError::NoGrant(id)),
    };
    rows.retain(|row| matches!(row.try_get::<_, Option<&[u8]>>(0), Ok(Some(_))));
    Ok((rows, Some(read)))
}

/// The grant read with `statement` ([`GRANT_SQL`]) for `id`, when both are given.
async fn grant_read(
    pg: &tokio_postgres::Client,
    statement: Option<&tokio_postgres::Statement>,
    id: Option<i64>,
) -> Result<Option<tokio_postgres::Row>, tokio_postgres::Error> {
    match (statement, id) {
        (Some(s), Some(id)) => pg.query_opt(s, &[&id]).await,
        _ => Ok(None),
    }
}

/// The grant `grant` (if asked) from its read: a grant asked for and not found is an error.
fn grant_of(
    read: Result<Option<tokio_postgres::Row>, tokio_postgres::Error>,
    grant: Option<u64>,
) -> Res<Option<Grant>> {
    match (read.map_err(db)?, grant) {
        (Some(row), _) => Ok(Some(from_row::<Grant>(&row, 0)?)),
        (None, Some(id)) => Err(StoreError::NoGrant(id)),
        (None, None) => Ok(None),
    }
}

/// One round trip on `client`: `declare` (the transaction and the cursor) if given, a
/// `FETCH`, then the grant `grant` if given, sent in that order, so that PostgreSQL runs
/// them in that order: the grant is read after the cursor's snapshot and its chunks.
async fn fetch_on(client: &Object, declare: Option<&str>, grant: Option<u64>) -> Res<Fetched> {
    let statement = grant_statement(client, grant).await?;
    let id = grant.map(key);
    let pg: &tokio_postgres::Client = client;
    // Biased: each request is sent at its future's first poll, which is in this order. The
    // FETCH is parsed with its execution (`query_typed`): a fresh connection cannot prepare
    // it before the cursor is declared.
    let (declared, rows, read) = tokio::join!(
        biased;
        async {
            match declare {
                Some(sql) => pg.batch_execute(sql).await,
                None => Ok(()),
            }
        },
        pg.query_typed(FETCH_SQL, &[]),
        grant_read(pg, statement.as_ref(), id),
    );
    declared.map_err(db)?;
    Ok((rows.map_err(db)?, grant_of(read, grant)?))
}

/// `client` with `r`, or, when `r` failed, the connection closed rather than pooled: it may
/// be left in a failed transaction.
fn kept<T>(client: Object, r: Res<T>) -> Res<(Object, T)> {
    match r {
        Ok(v) => Ok((client, v)),
        Err(e) => {
            drop(Object::take(client));
            Err(e)
        }
    }
}

/// Ends a scan's transaction and gives its connection back to the pool, in the background (a
/// connection whose transaction could not be ended is closed instead).
fn close(handle: &tokio::runtime::Handle, client: Object) {
    handle.spawn(async move {
        if client.batch_execute("ROLLBACK").await.is_err() {
            drop(Object::take(client));
        }
    });
}

impl Drop for PgCursor {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            close(&self.handle, client);
        }
    }
}

impl Cursor for PgCursor {
    fn next_batch(&mut self, max: usize) -> Result<Option<(ColumnBatch, usize)>, StoreError> {
        Ok(self.fill(max, None)?.0)
    }

    fn next_batch_under(
        &mut self,
        max: usize,
        grant: u64,
    ) -> Result<(NextBatch, Option<Grant>), StoreError> {
        self.fill(max, Some(grant))
    }

    fn exhausted(&self) -> bool {
        self.exhausted && self.chunks.is_empty()
    }
}
