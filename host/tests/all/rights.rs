//! A person's rights: export everything as one archive of open formats and restore it in
//! another instance; erasure that deletes records, runs and outputs, revokes grants, removes
//! accounts, leaves others untouched, and keeps a verifiable audit chain with a tombstone.

use crate::common;

use common::*;
use insitu_core::account::{self, Role};
use insitu_core::contract::{ReadError, Viewer, output_for};
use insitu_core::import::{Format, ImportOptions};
use insitu_core::rights::ArchiveError;
use insitu_core::store::{
    Field, FieldType, KeyedRecord, NewRecords, Schema, Source, Store, StoreError, TimeRange, Value,
};
use insitu_testkit::*;

fn records(f: &TestPds, p: u64) -> Vec<Vec<Value>> {
    stored_transactions(f.store.as_ref(), p)
        .into_iter()
        .map(|(_, values)| values)
        .collect()
}

/// The files of a tar archive, read with the system's `tar`, not with our own reader.
fn tar_list(archive: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.tar");
    std::fs::write(&path, archive).unwrap();
    let out = std::process::Command::new("tar")
        .arg("-tf")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tar refused the archive: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn tar_file(archive: &[u8], name: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.tar");
    std::fs::write(&path, archive).unwrap();
    let out = std::process::Command::new("tar")
        .arg("-xOf")
        .arg(&path)
        .arg(name)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_holds_everything_in_open_formats_and_restores_elsewhere() {
    let f = TestPds::new();
    let p = f.person_with_transactions("Alice Martin");
    let digest = f.install(insitu_plugins::FEE_SCANNER);
    let g = f.grant(
        p,
        &digest,
        &["amount", "label", "counterparty"],
        TimeRange::ALL,
    );
    let params = [
        ("rule", text("agency-fee")),
        ("pattern", text("frais de gestion")),
        ("agreed", eur(3000)),
    ];
    f.run(p, g.id, &digest, &params, None).await;
    let archive = insitu_core::rights::export(f.store.as_ref(), p, 1_800_000_000_000).unwrap();
    let files = tar_list(&archive);
    for name in [
        "manifest.json",
        "collections/bank.transactions.jsonl",
        "collections/bank.transactions.csv",
        "grants.jsonl",
        "requests.jsonl",
        "runs.jsonl",
        "audit.jsonl",
    ] {
        assert!(
            files.contains(&name.to_string()),
            "{name} missing from {files:?}"
        );
    }
    // Every collection the person has records in, granted or not: it is their data.
    assert_eq!(f.store.count(p, "profile.secrets").unwrap(), 1);
    assert!(
        files.contains(&"collections/profile.secrets.jsonl".to_string()),
        "{files:?}"
    );
    let jsonl = tar_file(&archive, "collections/bank.transactions.jsonl");
    assert_eq!(jsonl.lines().count(), 5);
    let first: serde_json::Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert_eq!(
        first["amount"],
        serde_json::json!({"minor": -4500, "currency": "EUR"})
    );
    assert_eq!(first["booked"], "2024-01-02T00:00:00.000Z");
    let csv = tar_file(&archive, "collections/bank.transactions.csv");
    assert!(
        csv.starts_with("account,booked,value_date,amount,counterparty,label,reference,balance\n"),
        "{csv}"
    );
    assert!(csv.contains("-45.00 EUR"), "{csv}");
    let runs = tar_file(&archive, "runs.jsonl");
    assert!(
        runs.contains("charged 45.00 EUR"),
        "the person's own findings are in the export"
    );
    let audit = tar_file(&archive, "audit.jsonl");
    assert!(audit.lines().count() >= 3, "{audit}");

    // Another instance: the same records, once; a second restore adds nothing.
    let other = TestPds::new();
    let q = other.store.add_person("Alice Martin").unwrap();
    let reports = insitu_core::rights::import_archive(other.store.as_ref(), q, &archive).unwrap();
    assert_eq!((reports[0].added, reports[0].duplicates), (5, 0));
    assert_eq!(records(&other, q), records(&f, p));
    let again = insitu_core::rights::import_archive(other.store.as_ref(), q, &archive).unwrap();
    assert_eq!((again[0].added, again[0].duplicates), (0, 5));
    // A damaged archive is refused with a reason.
    let err =
        insitu_core::rights::import_archive(other.store.as_ref(), q, &archive[..600]).unwrap_err();
    assert!(err.to_string().contains("not an Insitu export"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_removes_a_person_and_leaves_a_verifiable_tombstone() {
    let f = TestPds::new();
    let alice = account::create(
        f.store.as_ref(),
        "alice.martin",
        "correct horse battery",
        Role::Person,
    )
    .unwrap();
    let p = alice.person.unwrap();
    let txs = vec![
        tx(1, -4500, "FRAIS DE GESTION", Some("Agence Dupont")),
        tx(2, -1200, "CAFE", None),
    ];
    // A file name can be personal: the audit entry must not keep it past erasure.
    f.store
        .write_records(
            p,
            "bank.transactions",
            &txs,
            insitu_core::store::Source::File("releve-alice-martin.csv"),
        )
        .unwrap();
    let imported = f.store.audit_log().unwrap().pop().unwrap().event;
    assert!(
        insitu_core::audit::describe_in(f.store.as_ref(), &imported)
            .contains("releve-alice-martin.csv")
    );
    let (secret, _) = account::issue_token(f.store.as_ref(), &alice, &[], "", None).unwrap();
    let bob = f.person_with_transactions("Bob");
    let digest = f.install(insitu_plugins::FEE_SCANNER);
    let g = f.grant(
        p,
        &digest,
        &["amount", "label", "counterparty"],
        TimeRange::ALL,
    );
    let params = [
        ("rule", text("agency-fee")),
        ("pattern", text("frais de gestion")),
        ("agreed", eur(3000)),
    ];
    let run = f.run(p, g.id, &digest, &params, None).await;
    let bob_before = f.store.count(bob, "bank.transactions").unwrap();

    let e = f.store.erase_person(p, insitu_testkit::now_ms()).unwrap();
    assert_eq!((e.records, e.runs, e.grants, e.accounts), (2, 1, 1, 1));
    assert_eq!(f.store.count(p, "bank.transactions").unwrap(), 0);
    assert!(matches!(f.store.person(p), Err(StoreError::NoPerson(_))));
    assert!(f.store.runs(Some(p)).unwrap().is_empty());
    assert!(matches!(
        output_for(f.store.as_ref(), run.id, &Viewer::Person(p)),
        Err(ReadError::NotYours(_))
    ));
    assert!(f.store.grant(g.id).unwrap().revoked_ms.is_some());
    assert!(f.store.account_by_name("alice.martin").unwrap().is_none());
    assert!(
        account::authenticate(f.store.as_ref(), &secret)
            .unwrap()
            .is_none()
    );
    // Someone else's data is untouched.
    assert_eq!(f.store.count(bob, "bank.transactions").unwrap(), bob_before);
    // The chains verify, the person's ends with the tombstone, and none holds personal
    // content.
    let log = f.store.audit_log().unwrap();
    insitu_core::audit::verify_all(f.store.as_ref(), None).unwrap();
    let own =
        insitu_core::audit::read_chain(f.store.as_ref(), insitu_core::audit::Chain::Person(p))
            .unwrap();
    let last = &own.last().unwrap().event;
    assert!(
        matches!(last, insitu_core::audit::AuditEvent::PersonErased { person, records: 2, .. } if *person == p)
    );
    let text = serde_json::to_string(&log).unwrap();
    assert!(
        insitu_core::audit::describe_in(f.store.as_ref(), &imported).contains("an erased source")
    );
    for personal in [
        "alice.martin",
        "alice-martin",
        "Agence Dupont",
        "FRAIS DE GESTION",
        "CAFE",
    ] {
        assert!(
            !text.contains(personal),
            "the audit log still holds `{personal}`"
        );
    }
    // Nothing more runs or imports for the erased person.
    let again = f.run(p, g.id, &digest, &params, None).await;
    assert!(matches!(
        again.outcome,
        insitu_core::meter::Outcome::Failed { .. }
    ));
    assert!(f.store.erase_person(p, 0).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_leaves_out_outputs_addressed_to_someone_else() {
    let f = TestPds::new();
    let p = f.person_with_transactions("Alice Martin");
    let mine = f.install(insitu_plugins::PROBE);
    let theirs = f.install_edited(insitu_plugins::PROBE, |m| {
        m.id = "probe-for-an-organisation".into();
        m.output.audience = insitu_core::package::Audience::Requester;
    });
    for digest in [&mine, &theirs] {
        let g = f.grant(p, digest, &["amount"], TimeRange::ALL);
        let run = f.run(p, g.id, digest, &[], None).await;
        assert!(
            run.output.is_some(),
            "the probe's run has an output to leave out"
        );
    }
    let archive = insitu_core::rights::export(f.store.as_ref(), p, 1_800_000_000_000).unwrap();
    let runs: Vec<serde_json::Value> = tar_file(&archive, "runs.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(runs.len(), 2);
    for r in &runs {
        let digest = r["plugin_digest"].as_str().unwrap();
        assert_eq!(r["output"].is_null(), digest == theirs, "{r}");
    }
}

/// A collection of notes: a time, a text and an amount.
fn notes_schema(name: &str) -> Schema {
    let field = |name: &str, ty| Field {
        name: name.into(),
        ty,
        optional: false,
    };
    Schema {
        name: name.into(),
        fields: vec![
            field("at", FieldType::Timestamp),
            field("text", FieldType::Text),
            field("amount", FieldType::Money),
        ],
        time_field: Some("at".into()),
    }
}

/// `n` notes into `person`'s collection `schema` (defined if missing), imported as JSON Lines.
/// Each text holds multi-byte characters and the collection's name, so that collections differ.
fn add_notes(store: &dyn Store, person: u64, schema: &Schema, n: usize) {
    store.define_collection(schema).unwrap();
    let lines: String = (1..=n)
        .map(|i| {
            format!(
                "{{\"at\": \"2024-03-{i:02}T10:00:00Z\", \"text\": \"café № {i} — {}\", \
                 \"amount\": \"-{i}.50 EUR\"}}\n",
                schema.name
            )
        })
        .collect();
    let opts = ImportOptions {
        format: Some(Format::JsonLines),
        collection: Some(schema.name.clone()),
        ..Default::default()
    };
    insitu_core::import::import_bytes(
        store,
        person,
        "notes.jsonl",
        lines.as_bytes(),
        &opts,
        &mut |_, _| {},
    )
    .unwrap();
}

/// What a restore could change, as text: every schema, every person's records in each
/// collection, and the audit chain.
fn snapshot(store: &dyn Store) -> String {
    let mut s = String::new();
    for schema in store.collections().unwrap() {
        s += &format!("{}\n", serde_json::to_string(&schema).unwrap());
        for p in store.people().unwrap() {
            s += &format!(
                "  {}: {:?}\n",
                p.id,
                stored_records(store, p.id, &schema.name)
            );
        }
    }
    s + &serde_json::to_string(&store.audit_log().unwrap()).unwrap()
}

/// The files of an archive, read with the `tar` crate, long names included.
fn files_of(archive: &[u8]) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut a = tar::Archive::new(archive);
    a.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = String::from_utf8(e.path_bytes().into_owned()).unwrap();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            (name, data)
        })
        .collect()
}

/// An archive of `files` written as an export is, then whatever `extra` appends.
fn archive_of(
    files: &[(String, Vec<u8>)],
    extra: impl FnOnce(&mut tar::Builder<Vec<u8>>),
) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, name, data.as_slice()).unwrap();
    }
    extra(&mut b);
    b.into_inner().unwrap()
}

/// An entry to append: its name, written into the header as is, whatever tar's writer would
/// refuse; its type; the size its header claims; and the data that follows.
struct Raw<'a>(&'a [u8], tar::EntryType, u64, &'a [u8]);

fn raw_entry(b: &mut tar::Builder<Vec<u8>>, Raw(name, kind, size, data): &Raw) {
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_entry_type(*kind);
    h.set_mode(0o644);
    h.set_size(*size);
    if matches!(kind, tar::EntryType::Symlink | tar::EntryType::Link) {
        h.set_link_name("/etc/passwd").unwrap();
    }
    h.set_cksum();
    b.append(&h, *data).unwrap();
}

#[test]
fn collections_with_long_names_export_and_restore_whole() {
    let f = TestPds::new();
    let p = f.store.add_person("Alice Martin").unwrap();
    let shared = "same".repeat(25);
    let names = [
        format!("long.{}", "n".repeat(115)),
        "l".repeat(250),
        // These two share their first 100 bytes, so their tar names share 112.
        format!("{shared}.alpha"),
        format!("{shared}.beta"),
    ];
    assert_eq!(names[0].len(), 120);
    for (i, name) in names.iter().enumerate() {
        add_notes(f.store.as_ref(), p, &notes_schema(name), i + 1);
    }
    let archive = insitu_core::rights::export(f.store.as_ref(), p, 1_800_000_000_000).unwrap();
    // The system's tar reads every name whole.
    let listed = tar_list(&archive);
    for name in &names {
        for ext in ["jsonl", "csv"] {
            let file = format!("collections/{name}.{ext}");
            assert!(listed.contains(&file), "{file} missing from {listed:?}");
        }
    }
    let beta = tar_file(&archive, &format!("collections/{shared}.beta.jsonl"));
    assert_eq!(beta.lines().count(), 4, "{beta}");
    assert!(
        beta.contains(&format!("café № 4 — {shared}.beta")),
        "{beta}"
    );

    let other = TestPds::new();
    let q = other.store.add_person("Alice Martin").unwrap();
    let reports = insitu_core::rights::import_archive(other.store.as_ref(), q, &archive).unwrap();
    let mut added: Vec<(String, u64)> = reports
        .iter()
        .map(|r| (r.collection.clone(), r.added))
        .collect();
    added.sort();
    let mut expected: Vec<(String, u64)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.clone(), i as u64 + 1))
        .collect();
    expected.sort();
    assert_eq!(added, expected);
    for name in &names {
        assert_eq!(
            other.store.collection(name).unwrap(),
            f.store.collection(name).unwrap()
        );
        assert_eq!(
            stored_records(other.store.as_ref(), q, name),
            stored_records(f.store.as_ref(), p, name),
            "{name}"
        );
    }
}

#[test]
fn a_restore_refused_at_its_last_entry_leaves_the_store_as_it_was() {
    // The source: three collections, restored in name order; `notes.omega` is the last.
    let source = TestPds::new();
    let p = source.store.add_person("Alice Martin").unwrap();
    for (i, name) in ["notes.alpha", "notes.beta", "notes.omega"]
        .iter()
        .enumerate()
    {
        add_notes(source.store.as_ref(), p, &notes_schema(name), i + 2);
    }
    let exported =
        insitu_core::rights::export(source.store.as_ref(), p, 1_800_000_000_000).unwrap();
    let manifest: insitu_core::rights::ArchiveManifest =
        serde_json::from_str(&tar_file(&exported, "manifest.json")).unwrap();
    let restored: Vec<&str> = manifest
        .collections
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(restored.last(), Some(&"notes.omega"), "{restored:?}");
    let last = "collections/notes.omega.jsonl";

    // The last line of the last collection holds a date in month 13.
    let mut files = files_of(&exported);
    let (_, data) = files.iter_mut().find(|(n, _)| n == last).unwrap();
    let text = String::from_utf8(data.clone()).unwrap();
    let lines = text.lines().count();
    let bad_line = text.lines().last().unwrap().replace("2024-03-", "2024-13-");
    assert_ne!(bad_line, text.lines().last().unwrap());
    let mut damaged: Vec<&str> = text.lines().take(lines - 1).collect();
    damaged.push(&bad_line);
    *data = format!("{}\n", damaged.join("\n")).into_bytes();
    let bad_record = archive_of(&files, |_| {});

    let cases: [(&str, &[u8], Option<Schema>, String); 2] = [
        (
            "a bad record on the last line",
            &bad_record,
            None,
            format!("{last}:{lines}"),
        ),
        (
            "the last collection's schema differs from the store's",
            &exported,
            Some(with_extra_field(notes_schema("notes.omega"))),
            "collection `notes.omega` exists in this store with another schema".into(),
        ),
    ];
    for (case, archive, conflicting, expected) in cases {
        // The target holds records of its own, in one of the archive's collections too.
        let target = TestPds::new();
        target.person_with_transactions("Bob");
        let q = target.store.add_person("Alice Martin").unwrap();
        add_notes(target.store.as_ref(), q, &notes_schema("notes.alpha"), 1);
        if let Some(schema) = &conflicting {
            target.store.define_collection(schema).unwrap();
        }
        let db = target.dir.path().join("insitu.redb");
        let (before, file_before) = (snapshot(target.store.as_ref()), std::fs::read(&db).unwrap());

        let err =
            insitu_core::rights::import_archive(target.store.as_ref(), q, archive).unwrap_err();
        assert_eq!(
            snapshot(target.store.as_ref()),
            before,
            "{case}: the store changed"
        );
        assert!(
            std::fs::read(&db).unwrap() == file_before,
            "{case}: the store's file changed"
        );
        assert!(err.to_string().contains(&expected), "{case}: {err}");
    }
}

/// `schema` with one more field: the same collection's name with another shape.
fn with_extra_field(mut schema: Schema) -> Schema {
    schema.fields.push(Field {
        name: "extra".into(),
        ty: FieldType::Text,
        optional: true,
    });
    schema
}

#[test]
fn a_hostile_entry_refuses_the_whole_archive_and_writes_nothing() {
    let source = TestPds::new();
    let p = source.store.add_person("Alice Martin").unwrap();
    add_notes(source.store.as_ref(), p, &notes_schema("notes.alpha"), 3);
    let files = files_of(
        &insitu_core::rights::export(source.store.as_ref(), p, 1_800_000_000_000).unwrap(),
    );
    let jsonl = files
        .iter()
        .find(|(n, _)| n == "collections/notes.alpha.jsonl")
        .unwrap()
        .1
        .clone();
    use tar::EntryType as T;
    let long = format!("collections/../{}.jsonl\0", "a".repeat(120)).into_bytes();
    let pax: &[u8] = b"22 path=../evil.jsonl\n";
    let dup = Raw(
        b"collections/notes.alpha.jsonl",
        T::Regular,
        jsonl.len() as u64,
        &jsonl,
    );
    // Each appended after a valid export's files, so that a reader must look at every entry.
    let cases = [
        (
            "absolute name",
            vec![Raw(b"/etc/cron.d/x", T::Regular, 2, b"x\n")],
            "absolute",
        ),
        (
            "parent",
            vec![Raw(b"../escape.jsonl", T::Regular, 2, b"x\n")],
            "`..`",
        ),
        (
            "parent inside",
            vec![Raw(b"collections/../x.jsonl", T::Regular, 2, b"x\n")],
            "`..`",
        ),
        (
            "empty component",
            vec![Raw(b"collections//x.jsonl", T::Regular, 0, b"")],
            "empty",
        ),
        (
            "symlink",
            vec![Raw(b"collections/l.jsonl", T::Symlink, 0, b"")],
            "a symbolic link",
        ),
        (
            "hard link",
            vec![Raw(b"collections/h.jsonl", T::Link, 0, b"")],
            "a hard link",
        ),
        (
            "directory",
            vec![Raw(b"collections", T::Directory, 0, b"")],
            "a directory",
        ),
        ("fifo", vec![Raw(b"fifo", T::Fifo, 0, b"")], "a FIFO"),
        (
            "device",
            vec![Raw(b"dev", T::Char, 0, b"")],
            "a character device",
        ),
        (
            "huge size",
            vec![Raw(b"big.jsonl", T::Regular, 1 << 40, b"{}\n")],
            "1099511627776 bytes",
        ),
        (
            "not UTF-8",
            vec![Raw(b"collections/\xff.jsonl", T::Regular, 0, b"")],
            "not UTF-8",
        ),
        ("duplicate", vec![dup], "appears twice"),
        // Long names come in their own entries, and are checked like any name.
        (
            "GNU long name",
            vec![
                Raw(b"././@LongLink", T::GNULongName, long.len() as u64, &long),
                Raw(b"short", T::Regular, 0, b""),
            ],
            "`..`",
        ),
        (
            "PAX path",
            vec![
                Raw(b"pax", T::XHeader, pax.len() as u64, pax),
                Raw(b"short", T::Regular, 0, b""),
            ],
            "`..`",
        ),
    ];
    for (case, raws, expected) in cases {
        let archive = archive_of(&files, |b| raws.iter().for_each(|r| raw_entry(b, r)));
        let target = TestPds::new();
        let q = target.store.add_person("Alice Martin").unwrap();
        let before = snapshot(target.store.as_ref());
        let err =
            insitu_core::rights::import_archive(target.store.as_ref(), q, &archive).unwrap_err();
        assert!(matches!(err, ArchiveError::Entry { .. }), "{case}: {err}");
        assert!(err.to_string().contains(expected), "{case}: {err}");
        assert_eq!(
            snapshot(target.store.as_ref()),
            before,
            "{case}: the store changed"
        );
    }
}

#[test]
fn write_collections_writes_all_or_nothing() {
    let f = TestPds::new();
    let p = f.store.add_person("Alice Martin").unwrap();
    let before = snapshot(f.store.as_ref());
    let schemas = [notes_schema("notes.alpha")];
    let record = KeyedRecord {
        id: 1,
        time: T0,
        values: vec![
            Value::Timestamp(T0),
            Value::Text("café".into()),
            Value::Money {
                minor: -150,
                currency: "EUR".into(),
            },
        ],
    };
    let write = |collection| NewRecords {
        collection,
        records: std::slice::from_ref(&record),
        source: Source::File("notes.jsonl"),
    };
    // The second write names a collection that exists nowhere: the first is undone with it.
    let err = f
        .store
        .write_collections(p, &schemas, &[write("notes.alpha"), write("notes.nowhere")])
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NoCollection(ref c) if c == "notes.nowhere"),
        "{err}"
    );
    assert_eq!(snapshot(f.store.as_ref()), before);
    assert!(matches!(
        f.store.collection("notes.alpha"),
        Err(StoreError::NoCollection(_))
    ));

    let out = f
        .store
        .write_collections(p, &schemas, &[write("notes.alpha"), write("notes.alpha")])
        .unwrap();
    assert_eq!(
        out.iter()
            .map(|o| (o.added, o.duplicates))
            .collect::<Vec<_>>(),
        [(1, 0), (0, 1)]
    );
    assert_eq!(f.store.count(p, "notes.alpha").unwrap(), 1);
}
