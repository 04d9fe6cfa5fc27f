//! Imports (invariant 6): fixture files in, typed records out; idempotent; a bad record
//! rejects the whole file unless asked to skip; clear errors name file, line, field, reason.

mod common;

use std::path::PathBuf;

use common::*;
use insitu::import::{ImportError, OnError, import_file};
use insitu::store::{TimeRange, Value};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn import(
    f: &Fixture,
    p: u64,
    name: &str,
    on_error: OnError,
) -> Result<insitu::import::ImportReport, ImportError> {
    import_file(
        f.store.as_ref(),
        p,
        "bank.transactions",
        &fixture(name),
        None,
        on_error,
        &mut |_, _| {},
    )
}

fn all_records(f: &Fixture, p: u64) -> Vec<Vec<Value>> {
    let fields: Vec<String> = ALL_FIELDS.iter().map(|s| s.to_string()).collect();
    let mut cur = f
        .store
        .scan(p, "bank.transactions", TimeRange::ALL, &fields)
        .unwrap();
    let mut out = Vec::new();
    while let Some((b, _)) = cur.next_batch(100).unwrap() {
        for i in 0..b.len() {
            out.push(b.columns.iter().map(|c| c.value(i)).collect());
        }
    }
    out
}

#[test]
fn csv_becomes_typed_records_in_time_order() {
    let f = Fixture::new();
    let p = f.store.add_person("a").unwrap();
    let r = import(&f, p, "statement.csv", OnError::Reject).unwrap();
    assert_eq!((r.read, r.added, r.duplicates), (5, 5, 0));
    let recs = all_records(&f, p);
    assert_eq!(
        recs[0][2],
        Value::Money {
            minor: -4500,
            currency: "EUR".into()
        }
    );
    assert_eq!(recs[0][5], Value::Text("R1".into()));
    // Two identical baker's charges on the same day stay two records.
    assert_eq!(
        recs.iter()
            .filter(|r| r[4] == Value::Text("CB BOULANGERIE".into()))
            .count(),
        2
    );
    // 09:30 at +01:00 is 08:30 UTC.
    assert_eq!(recs[3][1], Value::Timestamp(1_709_627_400_000));
    assert_eq!(
        recs[4][2],
        Value::Money {
            minor: -1250,
            currency: "EUR".into()
        }
    );
    assert_eq!(recs[4][3], Value::Null, "an empty optional field is absent");
}

#[test]
fn reimporting_adds_nothing() {
    let f = Fixture::new();
    let p = f.store.add_person("a").unwrap();
    import(&f, p, "statement.csv", OnError::Reject).unwrap();
    let again = import(&f, p, "statement.csv", OnError::Reject).unwrap();
    assert_eq!((again.added, again.duplicates), (0, 5));
    assert_eq!(f.store.count(p, "bank.transactions").unwrap(), 5);
}

#[test]
fn a_bom_crlf_and_accents_are_read() {
    let f = Fixture::new();
    let p = f.store.add_person("a").unwrap();
    import(&f, p, "bom_crlf.csv", OnError::Reject).unwrap();
    let recs = all_records(&f, p);
    assert_eq!(
        recs[0][0],
        Value::Text("FR7630004".into()),
        "the BOM leaked into the first field"
    );
    assert_eq!(recs[0][3], Value::Text("Café de la Gare".into()));
    assert_eq!(recs[0][5], Value::Null, "the CR leaked into the last field");
}

#[test]
fn a_bad_record_rejects_the_file_and_names_where_and_why() {
    let f = Fixture::new();
    let p = f.store.add_person("a").unwrap();
    let err = import(&f, p, "bad_amount.csv", OnError::Reject)
        .unwrap_err()
        .to_string();
    assert!(err.contains("bad_amount.csv:3: field `amount`"), "{err}");
    assert!(err.contains("douze euros"), "{err}");
    assert_eq!(
        f.store.count(p, "bank.transactions").unwrap(),
        0,
        "a rejected file wrote records"
    );
}

#[test]
fn skipping_bad_records_reports_each_one() {
    let f = Fixture::new();
    let p = f.store.add_person("a").unwrap();
    let r = import(&f, p, "bad_amount.csv", OnError::Skip).unwrap();
    assert_eq!(r.added, 2);
    assert_eq!(r.skipped.len(), 1);
    assert_eq!(
        (r.skipped[0].line, r.skipped[0].field.as_str()),
        (3, "amount")
    );
}

#[test]
fn json_lines_accept_objects_strings_and_epoch_times() {
    let f = Fixture::new();
    let p = f.store.add_person("a").unwrap();
    let r = import(&f, p, "statement.jsonl", OnError::Reject).unwrap();
    assert_eq!(r.added, 3);
    let recs = all_records(&f, p);
    assert_eq!(recs[1][1], Value::Timestamp(1_712_016_000_000));
    assert_eq!(recs[2][5], Value::Text("V-42".into()));
    let err = import(&f, p, "bad_date.jsonl", OnError::Reject)
        .unwrap_err()
        .to_string();
    assert!(err.contains("bad_date.jsonl:2: field `booked`"), "{err}");
}

#[test]
fn unknown_person_or_collection_is_a_clear_error() {
    let f = Fixture::new();
    let err = import(&f, 42, "statement.csv", OnError::Reject)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no person with id 42"), "{err}");
    let p = f.store.add_person("a").unwrap();
    let err = import_file(
        f.store.as_ref(),
        p,
        "nope",
        &fixture("statement.csv"),
        None,
        OnError::Reject,
        &mut |_, _| {},
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("no collection `nope`"), "{err}");
}
