//! The store: isolation by person, schemas that cannot change under stored records, and the
//! audit chain written with every action (invariants 5 and 6).

mod common;

use common::*;
use insitu::audit::{self, AuditEvent};
use insitu::store::redb::RedbStore;
use insitu::store::{Schema, Store, StoreError, TimeRange};

#[test]
fn a_scan_never_crosses_people_or_collections() {
    let f = Fixture::new();
    let a = f.person_with_transactions("a");
    let b = f.store.add_person("b").unwrap();
    f.store
        .write_records(b, "bank.transactions", &[tx(1, -1, "B", None)], "t")
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
    let f = Fixture::new();
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
        s.write_records(p, "bank.transactions", &[tx(1, -1, "X", None)], "file.csv")
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
    let f = Fixture::new();
    let before = f.store.audit_log().unwrap().len();
    let err = f
        .store
        .write_records(99, "bank.transactions", &[tx(1, -1, "X", None)], "t")
        .unwrap_err();
    assert!(matches!(err, StoreError::NoPerson(99)));
    assert_eq!(f.store.audit_log().unwrap().len(), before);
}
