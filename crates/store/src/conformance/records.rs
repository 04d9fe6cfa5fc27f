//! People, collections, records and scans.

use sha2::Digest as _;

use super::{
    EVENTS, FILE, audit_mark, event, events, expect_audit, expect_err, field, person_with_events,
};
use crate::{
    ColumnBatch, FieldType, NewRecords, Schema, Source, Store, StoreError, TimeRange, Value,
    WriteOutcome,
};
use insitu_model::audit::AuditEvent;

pub(super) fn people(store: &dyn Store) {
    assert_eq!(
        store.people().expect("people"),
        vec![],
        "a new store has people"
    );
    let a = store.add_person("ada").expect("add_person");
    let b = store.add_person("ada").expect("add_person (same name)");
    assert!(a != 0 && b != 0 && a != b, "ids {a} and {b}");
    assert_eq!(store.person(b).expect("person").name, "ada");
    let all = store.people().expect("people");
    let ids: Vec<_> = all.iter().map(|p| p.id).collect();
    assert_eq!(ids, vec![a, b], "people are listed in id order");
    let events = expect_audit(
        store,
        &Default::default(),
        "add_person",
        &["person_added", "person_added"],
    );
    assert_eq!(events[0], AuditEvent::PersonAdded { person: a });
}

/// A second schema, without a time field.
fn tags() -> Schema {
    Schema {
        name: "conformance.tags".into(),
        fields: vec![field("tag", FieldType::Text, false)],
        time_field: None,
    }
}

pub(super) fn collections(store: &dyn Store) {
    assert!(store.collections().expect("collections").is_empty());
    store.define_collection(&events()).expect("define");
    let n = audit_mark(store);
    store.define_collection(&events()).expect("define again");
    expect_audit(store, &n, "defining the same schema again", &[]);
    store.define_collection(&tags()).expect("define tags");
    assert_eq!(store.collection(EVENTS).expect("collection"), events());
    let mut names: Vec<String> = store
        .collections()
        .expect("collections")
        .into_iter()
        .map(|s| s.name)
        .collect();
    names.sort();
    assert_eq!(names, vec!["conformance.events", "conformance.tags"]);
    let e = expect_audit(
        store,
        &Default::default(),
        "define_collection",
        &["collection_defined", "collection_defined"],
    );
    assert_eq!(
        e[0],
        AuditEvent::CollectionDefined {
            collection: EVENTS.into()
        }
    );
}

pub(super) fn schema_conflict(store: &dyn Store) {
    store.define_collection(&events()).expect("define");
    let n = audit_mark(store);
    let mut changed = events();
    changed.fields.pop();
    expect_err(
        "redefining with a field less",
        store.define_collection(&changed),
        |e| matches!(e, StoreError::SchemaConflict(c) if c == EVENTS),
    );
    let bad = Schema {
        name: "Bad Name".into(),
        ..events()
    };
    expect_err("an invalid name", store.define_collection(&bad), |e| {
        matches!(e, StoreError::Schema(_))
    });
    assert_eq!(store.collection(EVENTS).expect("collection"), events());
    expect_err("the invalid one", store.collection("Bad Name"), |e| {
        matches!(e, StoreError::NoCollection(_))
    });
    expect_audit(store, &n, "refused definitions", &[]);
}

pub(super) fn write_records(store: &dyn Store) {
    let p = person_with_events(store, "ada");
    let (r1, r2) = (event(1, 10, "one", Some(1)), event(2, 20, "two", None));
    let first = store
        .write_records(p, EVENTS, &[r1.clone(), r2.clone()], FILE)
        .expect("write_records");
    assert_eq!(
        first,
        WriteOutcome {
            added: 2,
            ..WriteOutcome::default()
        }
    );
    let n = audit_mark(store);
    let r2_changed = event(2, 20, "two, edited", Some(5));
    let r3 = event(3, 30, "three", Some(3));
    let again = store
        .write_records(p, EVENTS, &[r1.clone(), r3, r2_changed], FILE)
        .expect("write_records again");
    assert_eq!(
        again,
        WriteOutcome {
            added: 1,
            duplicates: 2,
            taken: vec![0, 2],
            changed: vec![2],
        }
    );
    assert_eq!(
        store.records_at(p, EVENTS, &[(20, 2)]).expect("records_at"),
        vec![Some(r2.values)],
        "a duplicate must be left as it was"
    );
    let e = expect_audit(store, &n, "write_records", &["records_imported"]);
    let AuditEvent::RecordsImported {
        person,
        collection,
        added,
        duplicates,
        ..
    } = &e[0]
    else {
        unreachable!()
    };
    assert_eq!(
        (*person, collection.as_str(), *added, *duplicates),
        (p, EVENTS, 1, 2)
    );
    // The same key twice in one batch: the second is a duplicate of the first.
    let r4 = event(4, 40, "four", None);
    let twice = store
        .write_records(p, EVENTS, &[r4.clone(), r4], FILE)
        .expect("the same record twice in a batch");
    assert_eq!(
        twice,
        WriteOutcome {
            added: 1,
            duplicates: 1,
            taken: vec![1],
            changed: vec![],
        }
    );
    assert_eq!(store.count(p, EVENTS).expect("count"), 4);
    // An empty batch adds nothing and is still audited.
    let n = audit_mark(store);
    let empty = store.write_records(p, EVENTS, &[], FILE).expect("empty");
    assert_eq!(empty, WriteOutcome::default());
    expect_audit(store, &n, "an empty write", &["records_imported"]);
}

pub(super) fn records_at(store: &dyn Store) {
    let p = person_with_events(store, "ada");
    let r = event(7, -5, "before 1970", Some(-3));
    store
        .write_records(p, EVENTS, std::slice::from_ref(&r), FILE)
        .expect("write_records");
    let got = store
        .records_at(p, EVENTS, &[(-5, 7), (-5, 8), (5, 7)])
        .expect("records_at");
    assert_eq!(got, vec![Some(r.values), None, None]);
    let q = store.add_person("bob").expect("add_person");
    assert_eq!(
        store.records_at(q, EVENTS, &[(-5, 7)]).expect("records_at"),
        vec![None],
        "records_at crossed people"
    );
}

pub(super) fn write_collections(store: &dyn Store) {
    let p = person_with_events(store, "ada");
    let n = audit_mark(store);
    let tag = vec![Value::Text("blue".into())];
    let tag_rec = crate::KeyedRecord {
        id: 1,
        time: 0,
        values: tag.clone(),
    };
    let outcomes = store
        .write_collections(
            p,
            &[tags(), events()],
            &[
                NewRecords {
                    collection: "conformance.tags",
                    records: &[tag_rec],
                    source: Source::ReturnedBy("acme"),
                },
                NewRecords {
                    collection: EVENTS,
                    records: &[event(1, 10, "a", None), event(2, 20, "b", None)],
                    source: FILE,
                },
            ],
        )
        .expect("write_collections");
    assert_eq!(
        outcomes.iter().map(|o| o.added).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(
        store.collection("conformance.tags").expect("defined"),
        tags()
    );
    assert_eq!(
        store
            .records_at(p, "conformance.tags", &[(0, 1)])
            .expect("records_at"),
        vec![Some(tag)]
    );
    expect_audit(
        store,
        &n,
        "write_collections (events already defined)",
        &["collection_defined", "records_imported", "records_imported"],
    );
}

pub(super) fn write_collections_atomic(store: &dyn Store) {
    let p = person_with_events(store, "ada");
    store
        .write_records(p, EVENTS, &[event(1, 10, "a", None)], FILE)
        .expect("write_records");
    let n = audit_mark(store);
    let writes = [NewRecords {
        collection: EVENTS,
        records: &[event(2, 20, "b", None)],
        source: FILE,
    }];
    // A conflicting schema refuses the whole call, even the write to a good collection.
    let mut changed = events();
    changed.fields.pop();
    expect_err(
        "a conflicting schema",
        store.write_collections(p, &[tags(), changed], &writes),
        |e| matches!(e, StoreError::SchemaConflict(c) if c == EVENTS),
    );
    // A write to an unknown collection refuses the schemas and the other writes too.
    let unknown = [
        writes[0],
        NewRecords {
            collection: "conformance.unknown",
            records: &[event(3, 30, "c", None)],
            source: FILE,
        },
    ];
    expect_err(
        "a write to an unknown collection",
        store.write_collections(p, &[tags()], &unknown),
        |e| matches!(e, StoreError::NoCollection(c) if c == "conformance.unknown"),
    );
    expect_err(
        "an unknown person",
        store.write_collections(p + 100, &[tags()], &writes),
        |e| matches!(e, StoreError::NoPerson(q) if *q == p + 100),
    );
    assert_eq!(
        store.count(p, EVENTS).expect("count"),
        1,
        "a refused call wrote records"
    );
    expect_err(
        "a schema of a refused call",
        store.collection("conformance.tags"),
        |e| matches!(e, StoreError::NoCollection(_)),
    );
    expect_audit(store, &n, "refused write_collections", &[]);
}

/// Every row of a scan, `max` records per batch: (id, time, each column's values).
fn drain(
    store: &dyn Store,
    person: u64,
    range: TimeRange,
    fields: &[&str],
    max: usize,
) -> Vec<ColumnBatch> {
    let fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
    let mut cursor = match store.scan(person, EVENTS, range, &fields) {
        Ok(c) => c,
        Err(e) => panic!("scan: {e}"),
    };
    let mut batches = Vec::new();
    while let Some((batch, _)) = cursor.next_batch(max).expect("next_batch") {
        assert!(
            !batch.is_empty(),
            "a cursor returned an empty batch before its end"
        );
        batches.push(batch);
    }
    batches
}

pub(super) fn scan_range(store: &dyn Store) {
    let p = person_with_events(store, "ada");
    let recs = [
        event(9, 30, "c9", None),
        event(1, -10, "neg", Some(-1)),
        event(3, 30, "c3", Some(3)),
        event(2, 20, "b", Some(2)),
        event(4, 40, "d", Some(4)),
    ];
    store
        .write_records(p, EVENTS, &recs, FILE)
        .expect("write_records");
    let all = drain(store, p, TimeRange::ALL, &["label"], 100);
    assert_eq!(all.len(), 1);
    assert_eq!(
        all[0].times,
        vec![-10, 20, 30, 30, 40],
        "records in time order"
    );
    assert_eq!(all[0].ids, vec![1, 2, 3, 9, 4], "equal times in id order");
    // Half-open range, fields in the order asked, optional ones with their validity.
    let range = TimeRange {
        since: Some(20),
        until: Some(40),
    };
    let b = &drain(store, p, range, &["amount", "label"], 100)[0];
    assert_eq!(b.ids, vec![2, 3, 9]);
    let names: Vec<&str> = b.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec!["amount", "label"], "fields in the order asked");
    let row = |i| (b.columns[0].value(i), b.columns[1].value(i));
    assert_eq!(row(0), (Value::Integer(2), Value::Text("b".into())));
    assert_eq!(row(2), (Value::Null, Value::Text("c9".into())));
    assert_eq!(b.columns[0].valid, Some(vec![true, true, false]));
    assert_eq!(b.columns[1].valid, None, "a required field has no validity");
    // No fields: ids and times only.
    let bare = &drain(
        store,
        p,
        TimeRange {
            since: Some(31),
            until: None,
        },
        &[],
        100,
    )[0];
    assert_eq!((bare.ids.clone(), bare.columns.len()), (vec![4], 0));
    assert!(
        drain(
            store,
            p,
            TimeRange {
                since: Some(41),
                until: None
            },
            &["label"],
            9
        )
        .is_empty()
    );
}

pub(super) fn scan_batches(store: &dyn Store) {
    let p = person_with_events(store, "ada");
    let recs: Vec<_> = (1..=5).map(|i| event(i, i as i64, "x", None)).collect();
    store
        .write_records(p, EVENTS, &recs, FILE)
        .expect("write_records");
    let sizes: Vec<usize> = drain(store, p, TimeRange::ALL, &["label"], 2)
        .iter()
        .map(ColumnBatch::len)
        .collect();
    assert_eq!(sizes, vec![2, 2, 1]);
    let ids: Vec<u64> = drain(store, p, TimeRange::ALL, &[], 2)
        .into_iter()
        .flat_map(|b| b.ids)
        .collect();
    assert_eq!(ids, vec![1, 2, 3, 4, 5]);
}

/// A cursor says it is exhausted (`Cursor::exhausted`) only when no record is left, and says
/// so once a batch came short of its size: its end was reached.
pub(super) fn scan_exhausted(store: &dyn Store) {
    let p = person_with_events(store, "ada");
    let recs: Vec<_> = (1..=700).map(|i| event(i, i as i64, "x", None)).collect();
    store
        .write_records(p, EVENTS, &recs, FILE)
        .expect("write_records");
    let range = |since, until| TimeRange { since, until };
    for (r, want) in [
        (TimeRange::ALL, 700),
        (range(Some(100), Some(350)), 250),
        (range(Some(701), None), 0),
        (range(None, Some(257)), 256),
    ] {
        for max in [1, 2, 255, 256, 700, 1000] {
            let mut c = store.scan(p, EVENTS, r, &["label".into()]).expect("scan");
            assert!(!c.exhausted(), "{r:?}: exhausted before a batch");
            let mut got = 0;
            while let Some((b, _)) = c.next_batch(max).expect("next_batch") {
                got += b.len();
                if b.len() < max {
                    assert!(
                        c.exhausted(),
                        "{r:?} by {max}: a short batch, not exhausted"
                    );
                }
                if c.exhausted() {
                    assert_eq!(got, want, "{r:?} by {max}: exhausted with records left");
                    assert!(c.next_batch(max).expect("next_batch").is_none());
                    break;
                }
            }
            assert_eq!(got, want, "{r:?} by {max}");
        }
    }
}

pub(super) fn isolation(store: &dyn Store) {
    let a = person_with_events(store, "ada");
    let b = store.add_person("bob").expect("add_person");
    store.define_collection(&tags()).expect("define");
    let same = event(1, 10, "same key", None);
    store
        .write_records(a, EVENTS, &[same.clone(), event(2, 20, "a", None)], FILE)
        .expect("write a");
    let w = store
        .write_records(b, EVENTS, std::slice::from_ref(&same), FILE)
        .expect("write b");
    assert_eq!(
        w.added, 1,
        "the same key under another person is not a duplicate"
    );
    assert_eq!(store.count(a, EVENTS).expect("count"), 2);
    assert_eq!(store.count(b, EVENTS).expect("count"), 1);
    assert_eq!(store.count(b, "conformance.tags").expect("count"), 0);
    let ids: Vec<u64> = drain(store, b, TimeRange::ALL, &["label"], 10)
        .into_iter()
        .flat_map(|b| b.ids)
        .collect();
    assert_eq!(ids, vec![1], "a scan crossed people");
}

pub(super) fn sources(store: &dyn Store) {
    let p = person_with_events(store, "ada");
    let q = store.add_person("bob").expect("add_person");
    let name = "ada's bank 2024.csv";
    let digest = insitu_model::audit::hex(&sha2::Sha256::digest(name.as_bytes()));
    let n = audit_mark(store);
    store
        .write_records(p, EVENTS, &[event(1, 1, "a", None)], Source::File(name))
        .expect("write from a file");
    store
        .write_records(
            p,
            EVENTS,
            &[event(2, 2, "b", None)],
            Source::ReturnedBy("acme"),
        )
        .expect("write returned data");
    let e = expect_audit(
        store,
        &n,
        "writes",
        &["records_imported", "records_imported"],
    );
    let sources: Vec<_> = e
        .iter()
        .map(|e| match e {
            AuditEvent::RecordsImported {
                source,
                returned_by,
                ..
            } => (source.clone(), returned_by.clone()),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(
        sources,
        vec![
            (format!("sha256:{digest}"), None),
            (String::new(), Some("acme".to_string()))
        ],
        "the audit entry holds the file name's SHA-256, never the name"
    );
    assert_eq!(
        store.source_name(p, &digest).expect("source_name"),
        Some(name.into())
    );
    assert_eq!(store.source_name(q, &digest).expect("source_name"), None);
}

/// Records written by several calls whose keys interleave (a later import of earlier records,
/// two accounts in one collection) are read as one collection: in (time, id) order, each once,
/// ranges cut exactly, the first value of a key kept; many records, of sizes that vary, so a
/// backend that stores records in blocks crosses many of them.
pub(super) fn interleaved_writes(store: &dyn Store) {
    let p = person_with_events(store, "ada");
    let label = |i: i64| "x".repeat((i as usize * 37) % 300);
    let write = |times: Vec<i64>| {
        let recs: Vec<crate::KeyedRecord> = times
            .iter()
            .map(|&t| event(t as u64 % 7, t, &label(t), Some(t)))
            .collect();
        store
            .write_records(p, EVENTS, &recs, FILE)
            .expect("write_records")
    };
    // Three calls, each every third time, the last in reverse order.
    write((0..1500).filter(|t| t % 3 == 0).collect());
    write((0..1500).filter(|t| t % 3 == 1).collect());
    write((0..1500).filter(|t| t % 3 == 2).rev().collect());
    // Again, over all the keys, with changed values for some: duplicates, nothing added.
    let again: Vec<crate::KeyedRecord> = (0..1500)
        .step_by(5)
        .map(|t| event(t as u64 % 7, t, "changed", None))
        .collect();
    let out = store
        .write_records(p, EVENTS, &again, FILE)
        .expect("write_records");
    assert_eq!((out.added, out.duplicates), (0, 300));
    assert_eq!(store.count(p, EVENTS).expect("count"), 1500);
    let times = |range: TimeRange, max: usize| -> Vec<i64> {
        drain(store, p, range, &["label", "amount"], max)
            .iter()
            .flat_map(|b| {
                for i in 0..b.len() {
                    let t = b.times[i];
                    assert_eq!(b.ids[i], t as u64 % 7);
                    assert_eq!(b.columns[0].value(i), Value::Text(label(t)), "time {t}");
                    assert_eq!(b.columns[1].value(i), Value::Integer(t));
                }
                b.times.clone()
            })
            .collect()
    };
    assert_eq!(times(TimeRange::ALL, 7), (0..1500).collect::<Vec<_>>());
    assert_eq!(times(TimeRange::ALL, 4096), (0..1500).collect::<Vec<_>>());
    let range = TimeRange {
        since: Some(301),
        until: Some(1203),
    };
    assert_eq!(times(range, 50), (301..1203).collect::<Vec<_>>());
    let got = store
        .records_at(p, EVENTS, &[(0, 0), (700, 0), (1499, 1499 % 7), (5, 0)])
        .expect("records_at");
    assert_eq!(got[0], Some(event(0, 0, &label(0), Some(0)).values));
    assert_eq!(got[1], Some(event(0, 700, &label(700), Some(700)).values));
    assert_eq!(
        got[2],
        Some(event(1499 % 7, 1499, &label(1499), Some(1499)).values)
    );
    assert_eq!(got[3], None, "no record at (5, 0): its id is 5");
}
