//! The store: isolation by person, schemas that cannot change under stored records, and the
//! audit chain written with every action (invariants 5 and 6).

use insitu_core::audit::{self, AuditEvent};
use insitu_core::store::prelude::*;
use insitu_core::store::redb::RedbStore;
use insitu_core::store::{Schema, StoreError, TimeRange};
use insitu_testkit::*;

#[test]
fn a_scan_never_crosses_people_or_collections() {
    let f = TestPds::new();
    let a = f.person_with_transactions("a");
    let b = f.store.add_person("b").unwrap();
    f.store
        .write_records(
            b,
            "bank.transactions",
            &[tx(1, -1, "B", None)],
            insitu_core::store::Source::File("t"),
        )
        .unwrap();
    let fields = vec!["label".to_string()];
    let mut cur = f
        .store
        .scan(b, "bank.transactions", TimeRange::ALL, &fields)
        .unwrap();
    let (batch, _) = cur.next_batch(100).unwrap().unwrap();
    assert_eq!(batch.len(), 1);
    assert!(cur.next_batch(100).unwrap().is_none());
    assert_eq!(f.store.count(a, "bank.transactions").unwrap(), 5);
    assert_eq!(f.store.count(a, "profile.secrets").unwrap(), 1);
}

#[test]
fn a_schema_cannot_change_once_defined() {
    let f = TestPds::new();
    let mut s = Schema::bank_transactions();
    f.store.define_collection(&s).unwrap();
    s.fields.pop();
    assert!(matches!(
        f.store.define_collection(&s),
        Err(StoreError::SchemaConflict(_))
    ));
    let bad = Schema {
        name: "Bad Name".into(),
        ..Schema::bank_transactions()
    };
    assert!(f.store.define_collection(&bad).is_err());
}

#[test]
fn every_action_is_in_the_audit_chain_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    {
        let s = RedbStore::open(&path).unwrap();
        s.define_collection(&Schema::bank_transactions()).unwrap();
        let p = s.add_person("a").unwrap();
        s.write_records(
            p,
            "bank.transactions",
            &[tx(1, -1, "X", None)],
            insitu_core::store::Source::File("file.csv"),
        )
        .unwrap();
    }
    let s = RedbStore::open(&path).unwrap();
    let log = s.audit_log().unwrap();
    assert_eq!(audit::verify(&log), Ok(()));
    let kinds: Vec<&AuditEvent> = log.iter().map(|e| &e.event).collect();
    assert!(matches!(
        kinds[..],
        [
            AuditEvent::CollectionDefined { .. },
            AuditEvent::PersonAdded { .. },
            AuditEvent::RecordsImported { added: 1, .. }
        ]
    ));
    assert_eq!(
        s.count(1, "bank.transactions").unwrap(),
        1,
        "an acknowledged write was lost"
    );
}

#[test]
fn a_failed_write_leaves_no_record_and_no_audit_entry() {
    let f = TestPds::new();
    let before = f.store.audit_log().unwrap().len();
    let err = f
        .store
        .write_records(
            99,
            "bank.transactions",
            &[tx(1, -1, "X", None)],
            insitu_core::store::Source::File("t"),
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::NoPerson(99)));
    assert_eq!(f.store.audit_log().unwrap().len(), before);
}

type AuditTable<'a> = redb::Table<'a, u64, &'static str>;
type Tampering<'g> = Box<dyn Fn(&mut AuditTable<'_>) + 'g>;

/// Edits the audit table of a closed store file directly, as an attacker with disk access would.
fn tamper(path: &std::path::Path, edit: impl FnOnce(&mut redb::Table<u64, &str>)) {
    let db = redb::Database::create(path).unwrap();
    let tx = db.begin_write().unwrap();
    {
        let mut t = tx
            .open_table(redb::TableDefinition::<u64, &str>::new("audit"))
            .unwrap();
        edit(&mut t);
    }
    tx.commit().unwrap();
}

#[test]
fn each_kind_of_tampering_with_the_stored_audit_log_is_detected() {
    use redb::ReadableTable;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    {
        let s = RedbStore::open(&path).unwrap();
        for name in ["a", "b", "c", "d"] {
            s.add_person(name).unwrap();
        }
    }
    let pristine = std::fs::read(&path).unwrap();
    let verify = || audit::verify(&RedbStore::open(&path).unwrap().audit_log().unwrap());
    assert_eq!(verify(), Ok(()));

    let get = |t: &redb::Table<u64, &str>, k: u64| t.get(k).unwrap().unwrap().value().to_string();
    let cases: [(&str, Tampering<'_>); 4] = [
        (
            "edited",
            Box::new(|t| {
                let e = get(t, 1).replace("\"person\":2", "\"person\":3");
                t.insert(1, e.as_str()).unwrap();
            }),
        ),
        (
            "deleted",
            Box::new(|t| {
                t.remove(1).unwrap();
            }),
        ),
        (
            "reordered",
            Box::new(|t| {
                let (a, b) = (get(t, 1), get(t, 2));
                t.insert(1, b.as_str()).unwrap();
                t.insert(2, a.as_str()).unwrap();
            }),
        ),
        (
            "inserted",
            Box::new(|t| {
                let last = get(t, 3);
                t.insert(4, last.as_str()).unwrap();
            }),
        ),
    ];
    for (what, edit) in cases {
        std::fs::write(&path, &pristine).unwrap();
        tamper(&path, |t| edit(t));
        assert!(verify().is_err(), "{what} entry not detected");
    }
}

/// A store whose audit entries were written before they named their hashing scheme (the
/// stored JSON of that code, verbatim) still opens and verifies, and its chain goes on under the
/// current scheme.
#[test]
fn an_audit_log_written_before_hash_versions_still_verifies_and_grows() {
    const LEGACY: [&str; 2] = [
        r#"{"seq":0,"at_ms":1764000000000,"event":{"kind":"person_added","person":1},"prev":"0000000000000000000000000000000000000000000000000000000000000000","hash":"c2c38e09db3918d13060651d95ccec8315285a006b094f8ccb8d25809173d417"}"#,
        r#"{"seq":1,"at_ms":1764000000001,"event":{"kind":"account_created","account":1,"role":"person","person":1},"prev":"c2c38e09db3918d13060651d95ccec8315285a006b094f8ccb8d25809173d417","hash":"3fe8f6fee30abcf7ebc1b3d969e6061f5d15ef9a2982c38f1c3823963543d77c"}"#,
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    drop(RedbStore::open(&path).unwrap());
    tamper(&path, |t| {
        for (seq, entry) in LEGACY.iter().enumerate() {
            t.insert(seq as u64, *entry).unwrap();
        }
    });
    let s = RedbStore::open(&path).unwrap();
    s.add_person("b").unwrap();
    let log = s.audit_log().unwrap();
    let versions: Vec<u8> = log.iter().map(|e| e.version).collect();
    assert_eq!(versions, [0, 0, audit::VERSION]);
    assert_eq!(audit::verify(&log), Ok(()));
}

/// A run is stored as running when it starts (with its id, before it reads anything). One the
/// host was executing when it stopped is marked failed at the next start, for the person to
/// see, with its audit entry; a second start finds nothing left.
#[test]
fn a_run_interrupted_by_a_stop_is_marked_failed_at_the_next_start() {
    let f = TestPds::new();
    let p = f.person_with_transactions("alice");
    let begun = f
        .store
        .begin_run(insitu_core::meter::RunRecord::new(
            p,
            1,
            "digest",
            insitu_testkit::now_ms(),
        ))
        .unwrap();
    assert_eq!(
        f.store.run(begun.id).unwrap().outcome,
        insitu_core::meter::Outcome::Running
    );
    assert_eq!(f.runner.fail_interrupted().unwrap(), 1);
    let run = f.store.run(begun.id).unwrap();
    assert!(
        matches!(
            run.outcome,
            insitu_core::meter::Outcome::Failed {
                reason: insitu_core::meter::FailureReason::Host,
                ..
            }
        ),
        "{:?}",
        run.outcome
    );
    assert!(
        f.store
            .audit_log()
            .unwrap()
            .iter()
            .any(|e| matches!(e.event, AuditEvent::Run { run, .. } if run == begun.id))
    );
    assert_eq!(f.runner.fail_interrupted().unwrap(), 0);
    // A finished run cannot be finished again.
    assert!(f.store.finish_run(run).is_err());
}

/// `Pds::builder(dir).store(s)` runs the PDS on the store it is given (the seam a second backend
/// or a shared store comes in through), not on a fresh `insitu.redb` in the data directory; and
/// a clock given beside such a store is refused, since the store stamps times by its own.
#[test]
fn the_builder_runs_the_pds_on_the_store_it_is_given() {
    use insitu_core::clock::ManualClock;
    use insitu_core::pds::Pds;
    use std::sync::Arc;

    let elsewhere = tempfile::tempdir().unwrap();
    let at = 7_258_118_400_000; // 2200-01-01
    let store: Arc<dyn Store> = Arc::new(
        RedbStore::open_with_clock(&elsewhere.path().join("shared.redb"), ManualClock::at(at))
            .unwrap(),
    );
    let alice = store.add_person("alice").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = insitu_core::sandbox::SandboxConfig::new(dir.path().join("plugins"));
    config.pool = 4;
    let pds = Pds::builder(dir.path())
        .store(store.clone())
        .sandbox(config)
        .open()
        .unwrap();
    assert_eq!(pds.store.person(alice).unwrap().name, "alice");
    assert_eq!(pds.store.now_ms(), at);
    assert!(
        !dir.path().join("insitu.redb").exists(),
        "the builder opened a store of its own"
    );
    // The standard collections are defined on the store given.
    assert!(store.collection("bank.transactions").is_ok());

    let err = Pds::builder(dir.path())
        .store(store)
        .clock(ManualClock::at(0))
        .open()
        .err()
        .expect("a clock beside a store is refused");
    assert!(err.to_string().contains("its own clock"), "{err}");
}
