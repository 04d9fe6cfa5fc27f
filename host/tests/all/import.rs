//! Imports (invariant 6): fixture files in, typed records out; idempotent; a bad record
//! rejects the whole file unless asked to skip; clear errors name file, line, field, reason.

use crate::common;

use std::path::PathBuf;

use common::*;
use insitu_core::import::{ImportError, ImportOptions, OnError, import_file};
use insitu_core::store::{TimeRange, Value};
use insitu_testkit::*;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn import(
    f: &TestPds,
    p: u64,
    name: &str,
    on_error: OnError,
) -> Result<insitu_core::import::ImportReport, ImportError> {
    let opts = ImportOptions {
        collection: Some("bank.transactions".into()),
        on_error,
        ..Default::default()
    };
    import_file(f.store.as_ref(), p, &fixture(name), &opts, &mut |_, _| {})
}

fn all_records(f: &TestPds, p: u64) -> Vec<Vec<Value>> {
    records_with(f, p, ALL_FIELDS)
}

/// The `fields` of each of `p`'s transactions, in store order.
fn records_with(f: &TestPds, p: u64, fields: &[&str]) -> Vec<Vec<Value>> {
    let fields: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
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
    let f = TestPds::new();
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
    let f = TestPds::new();
    let p = f.store.add_person("a").unwrap();
    import(&f, p, "statement.csv", OnError::Reject).unwrap();
    let again = import(&f, p, "statement.csv", OnError::Reject).unwrap();
    assert_eq!((again.added, again.duplicates), (0, 5));
    assert_eq!(f.store.count(p, "bank.transactions").unwrap(), 5);
}

#[test]
fn a_bom_crlf_and_accents_are_read() {
    let f = TestPds::new();
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
    let f = TestPds::new();
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
    let f = TestPds::new();
    let p = f.store.add_person("a").unwrap();
    let r = import(&f, p, "bad_amount.csv", OnError::Skip).unwrap();
    assert_eq!(r.added, 2);
    assert_eq!(r.skipped.len(), 1);
    assert_eq!(
        (r.skipped[0].bad.line, r.skipped[0].bad.field.as_str()),
        (3, "amount")
    );
}

#[test]
fn json_lines_accept_objects_strings_and_epoch_times() {
    let f = TestPds::new();
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
    let f = TestPds::new();
    let err = import(&f, 42, "statement.csv", OnError::Reject)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no person with id 42"), "{err}");
    let p = f.store.add_person("a").unwrap();
    let opts = ImportOptions {
        collection: Some("nope".into()),
        ..Default::default()
    };
    let err = import_file(
        f.store.as_ref(),
        p,
        &fixture("statement.csv"),
        &opts,
        &mut |_, _| {},
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("no collection `nope`"), "{err}");
}

/// A fixture of the parsers' crate, shared with its own tests.
fn format_fixture(name: &str) -> PathBuf {
    fixture(&format!("../../../formats/tests/fixtures/{name}"))
}

fn import_with(
    f: &TestPds,
    p: u64,
    name: &str,
    opts: &ImportOptions,
) -> Result<insitu_core::import::ImportReport, ImportError> {
    import_file(
        f.store.as_ref(),
        p,
        &format_fixture(name),
        opts,
        &mut |_, _| {},
    )
}

fn mapping() -> insitu_core::import::Mapping {
    let bytes = std::fs::read(format_fixture("csv/releve-banque.mapping.json")).unwrap();
    insitu_core::import::Mapping::from_json(&bytes).unwrap()
}

#[test]
fn a_mapped_bank_csv_is_rejected_whole_or_skipped_record_by_record() {
    let f = TestPds::new();
    let p = f.store.add_person("a").unwrap();
    let mut opts = ImportOptions {
        mapping: Some(mapping()),
        ..Default::default()
    };
    let err = import_with(&f, p, "csv/releve-malformed.csv", &opts)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("releve-malformed.csv:6: field `amount`: `3,5O` is not an amount"),
        "{err}"
    );
    assert!(err.contains("(and 1 more bad records)"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    assert_eq!(f.store.count(p, "bank.transactions").unwrap(), 0);
    opts.on_error = OnError::Skip;
    let r = import_with(&f, p, "csv/releve-malformed.csv", &opts).unwrap();
    assert_eq!((r.added, r.skipped.len()), (3, 2));
    assert_eq!(
        (r.skipped[1].bad.line, r.skipped[1].bad.field.as_str()),
        (7, "booked")
    );
    // The good file overlaps the bad one: only the two records the bad one lacked are added.
    opts.on_error = OnError::Reject;
    let r = import_with(&f, p, "csv/releve-banque.csv", &opts).unwrap();
    assert_eq!((r.added, r.duplicates), (2, 3));
    assert_eq!(f.store.count(p, "bank.transactions").unwrap(), 5);
}

#[test]
fn standard_collections_are_defined_on_first_import() {
    let f = TestPds::new();
    let p = f.store.add_person("a").unwrap();
    let opts = ImportOptions::default();
    let r = import_with(&f, p, "receipts/carrefour.json", &opts).unwrap();
    assert_eq!((r.collection.as_str(), r.added), ("receipts.items", 6));
    assert_eq!(f.store.count(p, "receipts.items").unwrap(), 6);
    let again = import_with(&f, p, "receipts/carrefour.json", &opts).unwrap();
    assert_eq!((again.added, again.duplicates), (0, 6));
    for (file, coll, n) in [
        ("linkedin/Positions.csv", "career.positions", 3),
        ("linkedin/Education.csv", "career.education", 2),
        ("linkedin/Skills.csv", "career.skills", 3),
        ("usage/events.jsonl", "usage.events", 3),
    ] {
        let opts = ImportOptions {
            on_error: OnError::Skip,
            ..Default::default()
        };
        let r = import_with(&f, p, file, &opts).unwrap();
        assert_eq!((r.collection.as_str(), r.added), (coll, n), "{file}");
        assert_eq!(f.store.count(p, coll).unwrap(), n, "{file}");
    }
    let opts = ImportOptions {
        collection: Some("purchases.products".into()),
        ..Default::default()
    };
    assert_eq!(
        import_with(&f, p, "purchases/products.csv", &opts)
            .unwrap()
            .added,
        3
    );
}

#[test]
fn a_collection_that_does_not_match_the_format_is_refused() {
    let f = TestPds::new();
    let p = f.store.add_person("a").unwrap();
    let opts = ImportOptions {
        collection: Some("bank.transactions".into()),
        ..Default::default()
    };
    let err = import_with(&f, p, "receipts/carrefour.json", &opts)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("whose records go to `receipts.items`, not `bank.transactions`"),
        "{err}"
    );
    // A store whose receipts.items has another shape is not mixed with the standard one.
    f.store
        .define_collection(&insitu_core::store::Schema {
            name: "receipts.items".into(),
            fields: vec![insitu_core::store::Field {
                name: "shop".into(),
                ty: insitu_core::store::FieldType::Text,
                optional: false,
            }],
            time_field: None,
        })
        .unwrap();
    let err = import_with(&f, p, "receipts/carrefour.json", &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("another schema than the standard one"),
        "{err}"
    );
    assert_eq!(f.store.count(p, "receipts.items").unwrap(), 0);
    let err = import_with(&f, p, "purchases/products.csv", &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("pass --collection"), "{err}");
}

#[test]
fn overlapping_bank_statements_add_only_the_new_transactions() {
    // Each pair: a January statement, then one from mid-January to mid-February that repeats
    // three of January's transactions (by FITID, AcctSvcrRef, or content for CFONB).
    for (first, second, n_first, n_second) in [
        ("ofx/jan.ofx", "ofx/jan-feb.ofx", 5, 6),
        ("camt/overlap_jan.xml", "camt/overlap_jan_feb.xml", 5, 5),
        ("cfonb/releve_jan.txt", "cfonb/releve_jan_feb.txt", 5, 5),
    ] {
        let f = TestPds::new();
        let p = f.store.add_person("a").unwrap();
        let opts = ImportOptions::default();
        let a = import_with(&f, p, first, &opts).unwrap();
        assert_eq!((a.added, a.duplicates), (n_first, 0), "{first}");
        let b = import_with(&f, p, second, &opts).unwrap();
        assert_eq!((b.added, b.duplicates), (n_second - 3, 3), "{second}");
        // Each record left out is named by its line.
        let (_, lines) = parsed(&f, second);
        assert_eq!(b.duplicate_lines, lines[..3], "{second}");
        let again = import_with(&f, p, second, &opts).unwrap();
        assert_eq!((again.added, again.duplicates), (0, n_second), "{second}");
        assert_eq!(
            f.store.count(p, "bank.transactions").unwrap(),
            n_first + n_second - 3,
            "{second}"
        );
    }
}

#[test]
fn every_bank_format_is_detected_and_imported() {
    let f = TestPds::new();
    let p = f.store.add_person("a").unwrap();
    for (file, format) in [
        ("ofx/societe-generale-1252.ofx", "OFX"),
        ("ofx/us-checking-2x.ofx", "OFX"),
        ("ofx/chase-card.qfx", "OFX"),
        ("camt/camt053_v02_two_accounts.xml", "CAMT.053"),
        ("camt/camt053_v08_windows1252.xml", "CAMT.053"),
        ("cfonb/releve_two_accounts_cp1252.txt", "CFONB 120"),
        ("cfonb/releve_back_to_back_cp1252.txt", "CFONB 120"),
    ] {
        let r = import_with(&f, p, file, &ImportOptions::default()).unwrap();
        assert_eq!(r.format.to_string(), format, "{file}");
        assert!(r.added > 0, "{file}");
    }
    // QIF carries no currency: the import says what to pass.
    let err = import_with(&f, p, "qif/us-checking.qif", &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("is not valid QIF: QIF files carry no currency; pass --currency"),
        "{err}"
    );
    let mut opts = ImportOptions {
        currency: Some("USD".into()),
        ..Default::default()
    };
    let err = import_with(&f, p, "qif/us-checking.qif", &opts)
        .unwrap_err()
        .to_string();
    assert!(err.contains("pass --account"), "{err}");
    opts.account = Some("Checking".into());
    assert!(
        import_with(&f, p, "qif/us-checking.qif", &opts)
            .unwrap()
            .added
            > 0
    );
    // A malformed statement is refused as a whole, naming the line.
    let err = import_with(&f, p, "camt/unbalanced.xml", &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unbalanced.xml is not valid CAMT.053: line "),
        "{err}"
    );
    assert!(err.contains("does not add up"), "{err}");
}

#[test]
fn a_truncated_qif_skipped_then_imported_whole_gives_the_whole_file_once() {
    let f = TestPds::new();
    let p = f.store.add_person("a").unwrap();
    let mut opts = ImportOptions {
        currency: Some("EUR".into()),
        account: Some("Compte courant".into()),
        ..Default::default()
    };
    // Cut in the middle of a payee: refused by default, nothing written.
    let err = import_with(&f, p, "qif/truncated.qif", &opts)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("truncated.qif:6 (!Type:Bank): field `^`: the record does not end"),
        "{err}"
    );
    assert_eq!(f.store.count(p, "bank.transactions").unwrap(), 0);
    // Skipped: the cut record is reported, not stored.
    opts.on_error = OnError::Skip;
    let r = import_with(&f, p, "qif/truncated.qif", &opts).unwrap();
    assert_eq!((r.added, r.skipped.len()), (1, 1));
    assert_eq!(r.skipped[0].bad.line, 6);
    // The whole file then adds what was missing, the cut record once and whole.
    opts.on_error = OnError::Reject;
    let full = import_with(&f, p, "qif/complete.qif", &opts).unwrap();
    assert_eq!((full.added, full.duplicates), (3, 1));
    let recs = all_records(&f, p);
    assert_eq!(recs.len(), 4);
    let coffee = Value::Text("CB CAFE DE LA GARE".into());
    assert_eq!(recs.iter().filter(|r| r.contains(&coffee)).count(), 2);
    assert!(
        !recs
            .iter()
            .any(|r| r.contains(&Value::Text("CB CAFE DE".into())))
    );
}

/// A transaction's booking date, amount, label and balance.
type Row = (Value, Value, Value, Value);

/// The [`Row`] of each stored transaction, sorted.
fn stored(f: &TestPds, p: u64) -> Vec<Row> {
    let mut out: Vec<Row> = records_with(f, p, &["booked", "amount", "label", "balance"])
        .into_iter()
        .map(|v| (v[0].clone(), v[1].clone(), v[2].clone(), v[3].clone()))
        .collect();
    out.sort_by_key(|r| format!("{r:?}"));
    out
}

/// What the parser reads from `name`: the same tuples as [`stored`], sorted, and each item's
/// line.
fn parsed(f: &TestPds, name: &str) -> (Vec<Row>, Vec<u64>) {
    let (_, parsed) = insitu_core::import::parse_file(
        f.store.as_ref(),
        &format_fixture(name),
        &ImportOptions::default(),
    )
    .unwrap();
    let lines = parsed.items.iter().map(|i| i.line).collect();
    let mut rows: Vec<_> = parsed
        .items
        .into_iter()
        .map(|i| {
            let v = i.values;
            (v[1].clone(), v[3].clone(), v[5].clone(), v[7].clone())
        })
        .collect();
    rows.sort_by_key(|r| format!("{r:?}"));
    (rows, lines)
}

#[test]
fn entries_sharing_a_reference_are_each_imported_and_only_once() {
    // Two card payments share an AcctSvcrRef in one statement; a later statement lists them
    // again, with two identical debits that share another.
    let f = TestPds::new();
    let p = f.store.add_person("a").unwrap();
    let opts = ImportOptions::default();
    let a = import_with(&f, p, "camt/repeated_ref.xml", &opts).unwrap();
    assert_eq!((a.read, a.added, a.duplicates), (3, 3, 0));
    assert_eq!(stored(&f, p), parsed(&f, "camt/repeated_ref.xml").0);
    let again = import_with(&f, p, "camt/repeated_ref.xml", &opts).unwrap();
    assert_eq!((again.added, again.duplicates, again.clashes), (0, 3, 0));
    let (_, lines) = parsed(&f, "camt/repeated_ref.xml");
    assert_eq!(again.duplicate_lines, lines);
    let b = import_with(&f, p, "camt/repeated_ref_overlap.xml", &opts).unwrap();
    assert_eq!((b.added, b.duplicates, b.clashes), (2, 3, 0));
    let (rows, lines) = parsed(&f, "camt/repeated_ref_overlap.xml");
    assert_eq!(b.duplicate_lines, lines[..3]);
    // The store holds exactly the later statement: every entry once, with the running
    // balances that chain from its opening to its closing.
    assert_eq!(stored(&f, p), rows);
    let again = import_with(&f, p, "camt/repeated_ref_overlap.xml", &opts).unwrap();
    assert_eq!((again.added, again.duplicates), (0, 5));
}

#[test]
fn a_key_reused_for_other_content_by_a_later_file_is_imported_and_named() {
    // A corrected CAMT statement gives a reference to another credit on the same day; a later
    // OFX export gives a FITID to another card payment, and another FITID to two payments.
    for (first, second, n_first, added, clash_key) in [
        (
            "camt/repeated_ref.xml",
            "camt/repeated_ref_corrected.xml",
            3,
            1,
            "FR7610278060610001020480101/CMCIF-0308-0001",
        ),
        (
            "ofx/jan.ofx",
            "ofx/jan-fitid-reused.ofx",
            5,
            2,
            "00012345601/24029000005",
        ),
    ] {
        let f = TestPds::new();
        let p = f.store.add_person("a").unwrap();
        let opts = ImportOptions::default();
        let a = import_with(&f, p, first, &opts).unwrap();
        assert_eq!(a.added, n_first, "{first}");
        let before = stored(&f, p);
        let b = import_with(&f, p, second, &opts).unwrap();
        assert_eq!(
            (b.added, b.duplicates, b.clashes),
            (added, b.read - added, 1),
            "{second}"
        );
        let clash: Vec<String> = b
            .all_notes()
            .map(ToString::to_string)
            .filter(|n| n.contains("already in the store with other content"))
            .collect();
        assert_eq!(clash.len(), 1, "{:?}", b.clash_notes);
        assert!(
            clash[0].contains(&format!("key `{clash_key}`")),
            "{}",
            clash[0]
        );
        let line: u64 = clash[0].split(':').nth(1).unwrap().parse().unwrap();
        assert!(!b.duplicate_lines.contains(&line), "{second}");
        // Nothing was replaced: the first file's records are all there, with their balances,
        // and the new ones with the second file's.
        let after = stored(&f, p);
        assert_eq!(after.len() as u64, n_first + added, "{second}");
        assert!(before.iter().all(|r| after.contains(r)), "{second}");
        // Every record of the second file is there too; a duplicate keeps the balance first
        // stored (an overlapping statement's running balances may differ).
        let no_balance = |r: &Row| (r.0.clone(), r.1.clone(), r.2.clone());
        let kept: Vec<_> = after.iter().map(no_balance).collect();
        let (rows, _) = parsed(&f, second);
        assert!(
            rows.iter().all(|r| kept.contains(&no_balance(r))),
            "{second}"
        );
        // Idempotent both ways, and the clash is not reported twice.
        let again = import_with(&f, p, second, &opts).unwrap();
        assert_eq!((again.added, again.clashes), (0, 0), "{second}");
        let again = import_with(&f, p, first, &opts).unwrap();
        assert_eq!((again.added, again.duplicates), (0, n_first), "{first}");
    }
}

#[test]
fn a_statement_that_does_not_add_up_is_imported_only_when_asked() {
    for (file, n) in [("camt/unbalanced.xml", 4), ("cfonb/unbalanced.txt", 4)] {
        let f = TestPds::new();
        let p = f.store.add_person("a").unwrap();
        let mut opts = ImportOptions::default();
        let err = import_with(&f, p, file, &opts).unwrap_err().to_string();
        assert!(err.contains("does not add up"), "{err}");
        assert_eq!(f.store.count(p, "bank.transactions").unwrap(), 0);
        opts.unbalanced = insitu_core::import::Unbalanced::Import;
        let r = import_with(&f, p, file, &opts).unwrap();
        assert_eq!(r.added, n, "{file}");
        assert!(
            r.notes
                .iter()
                .map(ToString::to_string)
                .any(|n| n.contains("does not add up")
                    && n.contains("imported as asked (--unbalanced=import)")),
            "{:?}",
            r.notes
        );
        // No running balance that could not be known.
        assert!(stored(&f, p).iter().all(|r| r.3 == Value::Null), "{file}");
    }
}
