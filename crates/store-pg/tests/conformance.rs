//! The PostgreSQL backend against the store conformance suite (`insitu_store::conformance`),
//! as `crates/store/tests/conformance.rs` runs the redb backend: every check on a fresh schema
//! of its own, the acknowledged state across reconnecting, and the clock; then the store
//! called from inside tokio runtimes.
//!
//! The database is `$INSITU_TEST_PG` (default below); `scripts/pg-start` starts it. When it
//! cannot be reached the tests fail, they do not skip: CI runs them.

use std::sync::Arc;

use insitu_model::clock::{ManualClock, SystemClock};
use insitu_store::conformance;
use insitu_store::prelude::*;
use insitu_store::{Field, FieldType, KeyedRecord, Schema, Source, TimeRange, Value};
use insitu_store_pg::PgStore;
use insitu_store_pg::testing::{Schemas, connect, url};

#[test]
fn postgres_passes_every_conformance_check() {
    let schemas = Schemas::new("checks");
    conformance::run_all(&|| {
        Arc::new(connect(&schemas.fresh(), SystemClock::shared())) as Arc<dyn Store>
    });
    assert_eq!(
        schemas.count(),
        conformance::CHECKS.len(),
        "one fresh store per check"
    );
}

#[test]
fn postgres_keeps_what_it_acknowledged_across_reconnecting() {
    let schemas = Schemas::new("reopen");
    let schema = schemas.fresh();
    conformance::survives_reopening(&|| {
        Arc::new(connect(&schema, SystemClock::shared())) as Arc<dyn Store>
    });
}

#[test]
fn postgres_stamps_its_times_by_the_clock_it_was_opened_with() {
    let schemas = Schemas::new("clock");
    // 2200-01-01: far from any system clock (and from the database's), so a time read from
    // either is caught.
    let at = 7_258_118_400_000;
    let clock = ManualClock::at(at);
    let store = connect(&schemas.fresh(), clock.clone());
    assert_eq!(store.now_ms(), at);
    conformance::clock(&store);
    assert_eq!(store.audit_log().expect("audit_log")[0].at_ms, at);
    clock.advance(1_000);
    store.add_person("bob").expect("add_person");
    assert_eq!(
        store
            .audit_log()
            .expect("audit_log")
            .last()
            .expect("an entry")
            .at_ms,
        at + 1_000
    );
}

#[test]
fn a_schema_named_in_the_url_is_the_one_used() {
    let schemas = Schemas::new("url");
    let schema = schemas.fresh();
    let p = connect(&schema, SystemClock::shared())
        .add_person("ada")
        .expect("add_person");
    let sep = if url().contains('?') { '&' } else { '?' };
    let store = PgStore::connect(&format!("{}{sep}options=-csearch_path%3D{schema}", url()))
        .expect("connect with the schema in the URL");
    assert_eq!(store.person(p).expect("person").name, "ada");
    assert_eq!(store.people().expect("people").len(), 1);
}

/// Two nodes (two stores over one schema), each with several threads, append at once to two
/// people's chains and the operator's: every append lands, once, and no chain forks.
#[test]
fn two_nodes_extend_shared_chains_without_forking_them() {
    use insitu_model::audit::{AuditEvent, Chain};
    const THREADS: usize = 4;
    const APPENDS: u64 = 25;
    let schemas = Schemas::new("nodes");
    let schema = schemas.fresh();
    let nodes = [
        connect(&schema, SystemClock::shared()),
        connect(&schema, SystemClock::shared()),
    ];
    std::thread::scope(|s| {
        for (n, node) in nodes.iter().enumerate() {
            for t in 0..THREADS {
                s.spawn(move || {
                    for i in 0..APPENDS {
                        let grant = ((n * THREADS + t) as u64) * 1_000 + i;
                        let event = match i % 5 {
                            0 => AuditEvent::CollectionDefined {
                                collection: format!("c{grant}"),
                            },
                            _ => AuditEvent::GrantRevoked {
                                grant,
                                person: t as u64 % 2 + 1,
                            },
                        };
                        node.append_audit(event).expect("append_audit");
                    }
                });
            }
        }
    });
    let log = nodes[1].audit_log().expect("audit_log");
    assert_eq!(
        log.len(),
        2 * THREADS * APPENDS as usize,
        "an append was lost"
    );
    let reports = insitu_store::verify::verify_all(&nodes[0], None).expect("a chain forked");
    let chains: Vec<Chain> = reports.iter().map(|r| r.chain).collect();
    assert_eq!(
        chains,
        [Chain::Operator, Chain::Person(1), Chain::Person(2)]
    );
    assert_eq!(log, nodes[0].audit_log().expect("audit_log"));
}

/// What a server's handler does: write, scan part-way, read, and drop the store, all from a
/// task of a tokio runtime, where a nested `block_on` would panic.
fn use_inside_a_runtime(schema: &str) {
    // A hang here (the bug below) fails the test binary instead of stalling CI.
    let finished = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watched = finished.clone();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(120));
        if !watched.load(std::sync::atomic::Ordering::Relaxed) {
            eprintln!("the store hung when called from inside a runtime");
            std::process::exit(101);
        }
    });
    let store = connect(schema, SystemClock::shared());
    // Many calls from one task without an `.await` between: each wait must not spend the
    // calling task's cooperative budget (which hung the 129th call before).
    for i in 0..300 {
        store.add_person(&format!("p{i}")).expect("add_person");
    }
    let p = store.add_person("ada").expect("add_person");
    let schema = label_events();
    store.define_collection(&schema).expect("define");
    let records: Vec<KeyedRecord> = (1..=5)
        .map(|i| KeyedRecord {
            id: i,
            time: i as i64,
            values: vec![Value::Text(format!("r{i}"))],
        })
        .collect();
    let w = store
        .write_records(p, "t.events", &records, Source::File("a.csv"))
        .expect("write_records");
    assert_eq!(w.added, 5);
    let mut cursor = store
        .scan(p, "t.events", TimeRange::ALL, &["label".into()])
        .expect("scan");
    let (batch, _) = cursor.next_batch(2).expect("batch").expect("records");
    assert_eq!(batch.ids, vec![1, 2]);
    // A scan left open holds a connection; the store still answers.
    assert_eq!(store.count(p, "t.events").expect("count"), 5);
    drop(cursor);
    drop(store);
    finished.store(true, std::sync::atomic::Ordering::Relaxed);
}

#[tokio::test(flavor = "current_thread")]
async fn postgres_is_called_from_a_current_thread_runtime() {
    let schemas = Schemas::new("rt1");
    use_inside_a_runtime(&schemas.fresh());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_is_called_from_a_multi_thread_runtime() {
    let schemas = Schemas::new("rt2");
    let schema = schemas.fresh();
    // From a worker, and from a task spawned on another worker.
    use_inside_a_runtime(&schema);
    let other = schemas.fresh();
    tokio::spawn(async move { use_inside_a_runtime(&other) })
        .await
        .expect("the task panicked");
}

/// Runs `statements` in `schema` directly, as an attacker with the database's password (or an
/// older version of the store) would.
fn tamper(schema: &str, statements: Vec<(String, Vec<String>)>) {
    let url = url();
    let schema = schema.to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            client
                .batch_execute(&format!("SET search_path TO {schema}"))
                .await
                .unwrap();
            for (sql, params) in statements {
                // Without parameters, as a simple query (several statements in one text).
                if params.is_empty() {
                    client.batch_execute(&sql).await.unwrap();
                    continue;
                }
                let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params
                    .iter()
                    .map(|p| p as &(dyn tokio_postgres::types::ToSql + Sync))
                    .collect();
                client.execute(sql.as_str(), &params).await.unwrap();
            }
        });
    })
    .join()
    .unwrap();
}

/// On PostgreSQL too: the end of a person's chain cut off, or rewritten with recomputed hashes
/// (and the head row moved to match), verifies on its own and fails against the checkpoint.
#[test]
fn postgres_truncation_and_a_rewritten_suffix_are_caught_by_the_checkpoint() {
    use insitu_model::audit::{AuditEntry, AuditEvent, Chain};
    use insitu_model::checkpoint::Checkpoint;
    use insitu_store::verify::{verify_all, verify_chain_in};
    let schemas = Schemas::new("anchor");
    for rewrite in [false, true] {
        let schema = schemas.fresh();
        let store = connect(&schema, SystemClock::shared());
        let p = store.add_person("ada").expect("add_person");
        for grant in 1..=4 {
            store
                .append_audit(AuditEvent::GrantRevoked { grant, person: p })
                .expect("append_audit");
        }
        // Unsigned: the store checks the anchor and the root; the signature is the domain's.
        let cp = Checkpoint::unsigned(1, 1, store.audit_heads().expect("heads"), [1; 32]);
        store.put_checkpoint(&cp).expect("put_checkpoint");
        verify_all(&store, Some(&cp)).expect("intact");

        let chain = store
            .audit_chain(Chain::Person(p), None, 10)
            .expect("audit_chain");
        let mut head = chain[2].head();
        let mut statements = vec![(
            format!("DELETE FROM audit_entries WHERE person = {p} AND kind = 2 AND seq > 2"),
            vec![],
        )];
        if rewrite {
            for grant in [8, 9] {
                let e = AuditEntry::next(
                    Chain::Person(p),
                    Some(&head),
                    "",
                    chain[2].at_ms + 1,
                    AuditEvent::GrantRevoked { grant, person: p },
                );
                statements.push((
                    format!(
                        "INSERT INTO audit_entries (person, kind, seq, entry) VALUES ({p}, 2, {}, $1::text::json)",
                        e.seq
                    ),
                    vec![serde_json::to_string(&e).unwrap()],
                ));
                head = e.head();
            }
        }
        statements.push((
            format!(
                "UPDATE audit_chain_heads SET seq = {}, hash = $1 WHERE person = {p} AND kind = 2",
                head.seq
            ),
            vec![head.hash.clone()],
        ));
        tamper(&schema, statements);
        verify_chain_in(&store, Chain::Person(p), None).expect("the chain alone verifies");
        let err = verify_all(&store, Some(&cp))
            .expect_err("the checkpoint catches it")
            .to_string();
        let want = if rewrite {
            "rewritten"
        } else {
            "cut off its end"
        };
        assert!(err.contains(want), "{err}");
    }
}

/// A collection `t.events` of one text field, `label`.
fn label_events() -> Schema {
    Schema {
        name: "t.events".into(),
        fields: vec![Field {
            name: "label".into(),
            ty: FieldType::Text,
            optional: false,
        }],
        time_field: None,
    }
}

/// A store written before records were kept in chunks (one row per record, its value in it)
/// is migrated: its records read back the same, in order, by scan and by key, and writes go
/// on beside them.
#[test]
fn records_stored_one_a_row_read_the_same_after_the_chunk_migration() {
    let schemas = Schemas::new("chunks");
    let schema = schemas.fresh();
    let label = |i: u64| format!("r{i}-{}", "x".repeat((i as usize * 13) % 200));
    let collection = label_events();
    let p = {
        let store = connect(&schema, SystemClock::shared());
        store.define_collection(&collection).expect("define");
        store.add_person("ada").expect("add_person")
    };
    // The records table as it was before the migration, with 300 records in it.
    let flip = |id: u64| ((id ^ (1 << 63)) as i64).to_string();
    let mut statements: Vec<(String, Vec<String>)> = vec![(
        "DROP TABLE record_chunks; DROP SEQUENCE record_chunk_ids; \
         ALTER TABLE records DROP COLUMN chunk; ALTER TABLE records ADD COLUMN value bytea NOT NULL; \
         DELETE FROM refinery_schema_history WHERE version >= 7"
            .into(),
        vec![],
    )];
    for i in 0..300u64 {
        let mut value = Vec::new();
        insitu_store::codec::encode(&vec![Value::Text(label(i))], &mut value);
        let hex: String = value.iter().map(|b| format!("{b:02x}")).collect();
        statements.push((
            format!(
                "INSERT INTO records (person, collection, time, id, value) \
                 SELECT {p}, id, {}, {}, decode('{hex}', 'hex') FROM collections \
                 WHERE name = 't.events'",
                (i as i64 % 100) * 10,
                flip(i)
            ),
            vec![],
        ));
    }
    tamper(&schema, statements);
    // Opened again: migrated.
    let store = connect(&schema, SystemClock::shared());
    assert_eq!(store.count(p, "t.events").expect("count"), 300);
    let read = |store: &PgStore, range: TimeRange| -> Vec<(i64, u64, Value)> {
        let mut c = store
            .scan(p, "t.events", range, &["label".into()])
            .expect("scan");
        let mut out = Vec::new();
        while let Some((b, _)) = c.next_batch(33).expect("next_batch") {
            for i in 0..b.len() {
                out.push((b.times[i], b.ids[i], b.columns[0].value(i)));
            }
        }
        out
    };
    let mut want: Vec<(i64, u64, Value)> = (0..300u64)
        .map(|i| ((i as i64 % 100) * 10, i, Value::Text(label(i))))
        .collect();
    want.sort_by_key(|w| (w.0, w.1));
    assert_eq!(read(&store, TimeRange::ALL), want);
    assert_eq!(
        store
            .records_at(p, "t.events", &[(10, 101), (10, 102), (990, 299)])
            .expect("records_at"),
        vec![
            Some(vec![Value::Text(label(101))]),
            None,
            Some(vec![Value::Text(label(299))])
        ]
    );
    // New records between the old ones, and old ones again: merged, duplicates kept as stored.
    let more: Vec<KeyedRecord> = (0..100u64)
        .map(|i| KeyedRecord {
            id: 1000 + i,
            time: i as i64 * 10 + 5,
            values: vec![Value::Text(label(1000 + i))],
        })
        .chain((0..3).map(|i| KeyedRecord {
            id: i,
            time: i as i64 * 10,
            values: vec![Value::Text("changed".into())],
        }))
        .collect();
    let out = store
        .write_records(p, "t.events", &more, Source::File("more"))
        .expect("write_records");
    assert_eq!((out.added, out.duplicates, out.changed.len()), (100, 3, 3));
    want.extend((0..100u64).map(|i| (i as i64 * 10 + 5, 1000 + i, Value::Text(label(1000 + i)))));
    want.sort_by_key(|w| (w.0, w.1));
    assert_eq!(read(&store, TimeRange::ALL), want);
    let range = TimeRange {
        since: Some(205),
        until: Some(500),
    };
    let cut: Vec<_> = want
        .iter()
        .filter(|w| w.0 >= 205 && w.0 < 500)
        .cloned()
        .collect();
    assert_eq!(read(&store, range), cut);
}

/// A person, "ada", with `n` records of `t.events` (`label_events`), at times 0 to `n` - 1.
fn ada_with_labels(store: &PgStore, n: u64) -> u64 {
    store.define_collection(&label_events()).expect("define");
    let p = store.add_person("ada").expect("add_person");
    let records: Vec<KeyedRecord> = (0..n)
        .map(|i| KeyedRecord {
            id: i,
            time: i as i64,
            values: vec![Value::Text(format!("r{i}"))],
        })
        .collect();
    store
        .write_records(p, "t.events", &records, Source::File("t"))
        .expect("write");
    p
}

/// A new grant of `person`'s label events (`label_events`), to be added.
fn label_grant(store: &PgStore, person: u64) -> insitu_model::consent::Grant {
    insitu_model::consent::Grant {
        id: 0,
        person,
        plugin_digest: "sha256:00".into(),
        collections: vec![insitu_model::consent::GrantedCollection {
            name: "t.events".into(),
            fields: vec!["label".into()],
        }],
        window: TimeRange::ALL,
        created_ms: store.now_ms(),
        expires_ms: None,
        revoked_ms: None,
        origin: None,
    }
}

/// A batch read under a grant reads it on the scan's own connection, as it stands once the
/// batch is read (`Cursor::next_batch_under`): with the `FETCH` when the batch needs one, else
/// in a statement of its own, and at the end of the data with the `ROLLBACK` that ends the
/// scan. A revocation committed before the call is seen in each case: at a cursor's first
/// batch (its declaration), at a later `FETCH` and from chunks already fetched of a cursor
/// declared before it, and at the end of the data.
#[test]
fn a_grant_read_with_a_batch_sees_a_revocation_committed_before_the_call() {
    let schemas = Schemas::new("grantread");
    let store = connect(&schemas.fresh(), SystemClock::shared());
    // More chunks than one FETCH brings (64 of at most 256 records).
    let n = 40_000u64;
    let p = ada_with_labels(&store, n);
    let grant = || label_grant(&store, p);
    let g = store.add_grant(grant()).expect("add_grant").id;
    let scan = || {
        store
            .scan(p, "t.events", TimeRange::ALL, &["label".into()])
            .expect("scan")
    };
    let (mut early, mut late) = (scan(), scan());
    let (batch, read) = early.next_batch_under(100, g).expect("first batch");
    assert_eq!(batch.expect("records").0.len(), 100);
    let read = read.expect("the first batch declares and fetches: the grant comes with it");
    assert_eq!(read.revoked_ms, None);
    let (batch, read) = early.next_batch_under(100, g).expect("from memory");
    assert!(batch.is_some());
    let read = read.expect("no FETCH: the grant is read on the scan's connection");
    assert_eq!(read.revoked_ms, None);

    store.revoke_grant(g, store.now_ms()).expect("revoke");
    // A cursor declared before the revocation, at its next FETCH (it needs several).
    let (batch, read) = early.next_batch_under(30_000, g).expect("later batch");
    assert!(batch.is_some());
    let read = read.expect("the batch needed a FETCH: the grant comes with it");
    assert!(
        read.revoked_ms.is_some(),
        "the grant read with a later FETCH is as it stood before the revocation"
    );
    // From the chunks that FETCH brought, with no FETCH of its own.
    let (batch, read) = early.next_batch_under(10, g).expect("from memory");
    assert!(batch.is_some());
    assert!(
        read.expect("read on the scan's connection")
            .revoked_ms
            .is_some()
    );
    // A cursor made before the revocation and not yet read: declared at its first batch.
    let (_, read) = late.next_batch_under(10, g).expect("first batch");
    assert!(read.expect("declared and fetched").revoked_ms.is_some());
    // A scan read to its last record under a live grant, revoked before the end of the data
    // is asked for: that call reads the grant as it is now, and ends the scan.
    let g2 = store.add_grant(grant()).expect("add_grant").id;
    let mut whole = scan();
    let mut read_all = 0;
    while read_all < n as usize {
        let (batch, read) = whole.next_batch_under(65_536, g2).expect("batch");
        read_all += batch.expect("records before the end").0.len();
        assert_eq!(read.expect("read with the batch").revoked_ms, None);
    }
    store.revoke_grant(g2, store.now_ms()).expect("revoke");
    let (batch, read) = whole.next_batch_under(10, g2).expect("the end");
    assert!(batch.is_none());
    assert!(
        read.expect("read on the scan's connection, with its ROLLBACK")
            .revoked_ms
            .is_some(),
        "the end of the data read a grant older than the revocation"
    );
    // The scan's connection went back: a call after the end reads the grant on one of the
    // pool's, as it stands.
    let (batch, read) = whole.next_batch_under(10, g2).expect("after the end");
    assert!(batch.is_none());
    assert!(
        read.expect("read on a pooled connection")
            .revoked_ms
            .is_some()
    );
    // And a grant that is not there is an error, not a live grant.
    let mut c = scan();
    assert!(matches!(
        c.next_batch_under(10, g + 1000),
        Err(insitu_store::StoreError::NoGrant(_))
    ));
}

/// A scan knows its end once it has read every record (`Cursor::exhausted`), and the end of
/// the data still reads the grant as it stands (a revocation before that call is seen).
/// `exhausted` is never true while a record is left, over scans on either side of the first
/// read's limit (64 chunks, read by one statement; more, by a cursor), ranges that cut
/// chunks, and batches of every size.
#[test]
fn a_scan_knows_its_end_only_when_nothing_is_left_and_still_reads_the_grant_at_it() {
    let schemas = Schemas::new("exhausted");
    let store = connect(&schemas.fresh(), SystemClock::shared());
    store.define_collection(&label_events()).expect("define");
    let p = store.add_person("ada").expect("add_person");
    // Records small enough that a chunk closes at 256 of them, written at once: chunk k holds
    // times 256k..256k+255.
    let n = 20_000i64;
    let records: Vec<KeyedRecord> = (0..n)
        .map(|i| KeyedRecord {
            id: i as u64,
            time: i,
            values: vec![Value::Text(format!("{}", i % 10))],
        })
        .collect();
    store
        .write_records(p, "t.events", &records, Source::File("t"))
        .expect("write");
    let g = store
        .add_grant(label_grant(&store, p))
        .expect("add_grant")
        .id;
    let range = |since: i64, until: i64| TimeRange {
        since: Some(since),
        until: Some(until),
    };
    // Within the first read (64 chunks or fewer), just past it (65), well past, and empty.
    let cases = [
        range(0, 100),
        range(100, 600),
        range(0, 64 * 256),
        range(0, 64 * 256 + 1),
        range(300, 64 * 256 + 200),
        TimeRange::ALL,
        range(n, n + 10),
    ];
    for r in cases {
        let want = (0..n)
            .filter(|t| r.since.is_none_or(|s| *t >= s) && r.until.is_none_or(|u| *t < u))
            .count();
        for max in [1, 97, 4096, 100_000] {
            let mut c = store
                .scan(p, "t.events", r, &["label".into()])
                .expect("scan");
            let mut got = 0;
            loop {
                let (batch, read) = c.next_batch_under(max, g).expect("batch");
                assert_eq!(read.expect("the grant, read with the batch").id, g);
                let Some((b, _)) = batch else { break };
                got += b.len();
                if c.exhausted() {
                    assert_eq!(got, want, "{r:?} by {max}: exhausted with records left");
                    let (batch, _) = c.next_batch_under(max, g).expect("the end");
                    assert!(
                        batch.is_none(),
                        "{r:?} by {max}: exhausted, yet a batch came"
                    );
                    break;
                }
            }
            assert_eq!(got, want, "{r:?} by {max}");
            if max >= want && want > 0 {
                // A first batch that held every record knew it was the last.
                let mut c = store
                    .scan(p, "t.events", r, &["label".into()])
                    .expect("scan");
                let (batch, _) = c.next_batch_under(max, g).expect("first batch");
                assert_eq!(batch.expect("records").0.len(), want);
                assert!(
                    c.exhausted(),
                    "{r:?} by {max}: the first batch was all of it"
                );
            }
        }
    }
    // Read to its end under a live grant, revoked before the end of the data is asked for:
    // that call reads the grant as it is now.
    let mut c = store
        .scan(p, "t.events", range(0, 1000), &["label".into()])
        .expect("scan");
    let (batch, read) = c.next_batch_under(100_000, g).expect("first batch");
    assert_eq!(batch.expect("records").0.len(), 1000);
    assert_eq!(read.expect("with the batch").revoked_ms, None);
    assert!(c.exhausted());
    store.revoke_grant(g, store.now_ms()).expect("revoke");
    let (batch, read) = c.next_batch_under(10, g).expect("the end");
    assert!(batch.is_none());
    assert!(
        read.expect("read at the end").revoked_ms.is_some(),
        "the end of the data read a grant older than the revocation"
    );
}

/// A job's claims and its members' results append to the members' chains only: with the
/// operator's chain head locked by another transaction (another node's operator action), both
/// still go through. They used to lock the operator's chain first, which made every claim and
/// commit of every node take turns (two nodes ran a campaign no faster than one).
#[test]
fn claims_and_member_results_do_not_wait_for_the_operators_chain() {
    use insitu_model::job::{Member, MemberOutcome, Task};
    let schemas = Schemas::new("claims");
    let schema = schemas.fresh();
    let store = Arc::new(connect(&schema, SystemClock::shared()));
    let people: Vec<u64> = ["a", "b"]
        .iter()
        .map(|n| store.add_person(n).expect("add_person"))
        .collect();
    let job = store.add_job(conformance::campaign()).expect("add_job").id;
    let first = store.reserve_run_ids(2).expect("reserve_run_ids");
    let tasks: Vec<Task> = people
        .iter()
        .zip(first..)
        .map(|(&person, run)| Task {
            person,
            grant: 7,
            run,
        })
        .collect();
    assert!(store.enqueue_tasks(job, &tasks).expect("enqueue_tasks"));
    let held = insitu_store_pg::testing::hold(
        &schema,
        // Fails (division by zero) when the operator's chain has no head row to lock.
        "SELECT 1 / count(*) FROM (SELECT 1 FROM audit_chain_heads \
         WHERE person = 0 AND kind = 1 FOR UPDATE) AS head",
    );
    // Each call on a thread of its own, given 20 s: it must not wait for `held`.
    let within = |what: &str, call: Box<dyn FnOnce() -> usize + Send>| {
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = done.send(call());
        });
        finished
            .recv_timeout(std::time::Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("{what} waited for the operator's chain"))
    };
    let s = store.clone();
    let now = store.now_ms();
    let claimed = within(
        "claim_tasks",
        Box::new(move || {
            s.claim_tasks(job, "node-1", 2, now + 60_000)
                .expect("claim_tasks")
                .len()
        }),
    );
    assert_eq!(claimed, 2);
    let s = store.clone();
    let members: Vec<(Option<insitu_model::meter::RunRecord>, Member)> = people
        .iter()
        .map(|&person| {
            (
                None,
                Member {
                    job,
                    person,
                    run: 0,
                    outcome: MemberOutcome::NoMatch,
                    answer: None,
                },
            )
        })
        .collect();
    let added = within(
        "record_members",
        Box::new(move || s.record_members(job, members).expect("record_members") as usize),
    );
    assert_eq!(added, 2);
    drop(held);
}

/// The rows a plan's nodes over `table` read: those they returned and those their filters
/// removed, over all their loops.
fn rows_read(node: &serde_json::Value, table: &str) -> f64 {
    let own = if node["Relation Name"] == table {
        let loops = node["Actual Loops"].as_f64().unwrap_or(1.0);
        let rows = node["Actual Rows"].as_f64().unwrap_or(0.0)
            + node["Rows Removed by Filter"].as_f64().unwrap_or(0.0);
        rows * loops
    } else {
        0.0
    };
    let children = node["Plans"]
        .as_array()
        .map_or(0.0, |plans| plans.iter().map(|p| rows_read(p, table)).sum());
    own + children
}

/// A claim reads the tasks it takes and those leased ahead of them, never every member the job
/// has committed nor every task left: halfway through a job of 10,000 tasks (5,000 members
/// committed, their tasks gone; 400 leased to nodes), a claim of 64 reads at most those 464
/// tasks and looks up the 64 members it takes. Its `NOT EXISTS` used to be a hash anti-join
/// over all the job's members and a sort of all its tasks left, on every claim, so a job's
/// claims cost grew with the square of its size (23 ms a claim in the 10,000-member campaign).
#[test]
fn claims_read_only_the_tasks_they_take() {
    let schemas = Schemas::new("claim_plan");
    let schema = schemas.fresh();
    drop(connect(&schema, SystemClock::shared())); // creates the tables
    let setup = "INSERT INTO job_tasks (job, run, person, grant_id) \
             SELECT 1, 100000 + g, g, g FROM generate_series(1, 10000) g; \
         INSERT INTO memberships (person, job, value) \
             SELECT g, 1, '{}' FROM generate_series(1, 5000) g; \
         DELETE FROM job_tasks WHERE person <= 5000; \
         UPDATE job_tasks SET node = 'other', lease_until = 2000 WHERE person BETWEEN 5001 AND 5400; \
         ANALYZE job_tasks; ANALYZE memberships";
    // The plan for these values, and the generic plan PostgreSQL may keep for the statement
    // once a connection has run it five times (the store prepares it once per connection).
    for generic in [false, true] {
        let plan = insitu_store_pg::testing::explain(
            &schema,
            setup,
            insitu_store_pg::testing::CLAIM_SQL,
            &["1", "1000", "64"],
            generic,
        );
        assert_eq!(
            plan["Actual Rows"], 64,
            "the claim takes 64 tasks (generic plan: {generic}): {plan:#}"
        );
        let (tasks, members) = (
            rows_read(&plan, "job_tasks"),
            rows_read(&plan, "memberships"),
        );
        assert!(
            tasks <= 464.0,
            "a claim of 64 read {tasks} tasks, not only the 400 leased and the 64 it took \
             (generic plan: {generic}): {plan:#}"
        );
        assert!(
            members <= 64.0,
            "a claim of 64 read {members} of the job's members (generic plan: {generic}): \
             {plan:#}"
        );
    }
}

/// A scan of 64 chunks or fewer is read by one statement, the run's grant with it
/// (`FIRST_UNDER_SQL`): a revocation committed before the first batch is seen with it, a
/// range with no record still reads the grant (and gives no batch), and a grant that is not
/// there fails the batch instead of passing for a live one.
#[test]
fn a_scan_read_by_one_statement_reads_the_grant_with_its_chunks() {
    let schemas = Schemas::new("firstgrant");
    let store = connect(&schemas.fresh(), SystemClock::shared());
    let p = ada_with_labels(&store, 1_000);
    let scan = |range: TimeRange| {
        store
            .scan(p, "t.events", range, &["label".into()])
            .expect("scan")
    };
    let g = store
        .add_grant(label_grant(&store, p))
        .expect("add_grant")
        .id;
    let mut live = scan(TimeRange::ALL);
    let (batch, read) = live.next_batch_under(2_000, g).expect("the whole scan");
    assert_eq!(batch.expect("records").0.len(), 1_000);
    assert_eq!(read.expect("the grant, with the chunks").revoked_ms, None);
    assert!(live.exhausted(), "one statement read every chunk");

    let mut revoked = scan(TimeRange::ALL);
    store.revoke_grant(g, store.now_ms()).expect("revoke");
    let (batch, read) = revoked.next_batch_under(2_000, g).expect("first batch");
    assert!(
        batch.is_some(),
        "the store gives the records; the host refuses them"
    );
    assert!(
        read.expect("the grant, with the chunks")
            .revoked_ms
            .is_some(),
        "the first batch read the grant as it stood before the revocation"
    );

    let g2 = store
        .add_grant(label_grant(&store, p))
        .expect("add_grant")
        .id;
    let mut empty = scan(TimeRange {
        since: Some(5_000),
        until: Some(6_000),
    });
    let (batch, read) = empty.next_batch_under(10, g2).expect("an empty range");
    assert!(batch.is_none());
    assert_eq!(read.expect("the grant, with no chunk").revoked_ms, None);

    let mut missing = scan(TimeRange::ALL);
    assert!(matches!(
        missing.next_batch_under(10, g2 + 1_000),
        Err(insitu_store::StoreError::NoGrant(_))
    ));
}
