//! A person's rights: export everything as one archive of open formats and restore it in
//! another instance; erasure that deletes records, runs and outputs, revokes grants, removes
//! accounts, leaves others untouched, and keeps a verifiable audit chain with a tombstone.

mod common;

use common::*;
use insitu::account::{self, Role};
use insitu::contract::{ReadError, Viewer, output_for};
use insitu::store::{StoreError, TimeRange, Value};

fn records(f: &Fixture, p: u64) -> Vec<Vec<Value>> {
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
    let f = Fixture::new();
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
    let archive = insitu::rights::export(f.store.as_ref(), p, 1_800_000_000_000).unwrap();
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
    let other = Fixture::new();
    let q = other.store.add_person("Alice Martin").unwrap();
    let reports = insitu::rights::import_archive(other.store.as_ref(), q, &archive).unwrap();
    assert_eq!((reports[0].added, reports[0].duplicates), (5, 0));
    assert_eq!(records(&other, q), records(&f, p));
    let again = insitu::rights::import_archive(other.store.as_ref(), q, &archive).unwrap();
    assert_eq!((again[0].added, again[0].duplicates), (0, 5));
    // A damaged archive is refused with a reason.
    let err = insitu::rights::import_archive(other.store.as_ref(), q, &archive[..600]).unwrap_err();
    assert!(err.to_string().contains("not an Insitu export"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_removes_a_person_and_leaves_a_verifiable_tombstone() {
    let f = Fixture::new();
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
            insitu::store::Source::File("releve-alice-martin.csv"),
        )
        .unwrap();
    let imported = f.store.audit_log().unwrap().pop().unwrap().event;
    assert!(
        insitu::audit::describe_in(f.store.as_ref(), &imported).contains("releve-alice-martin.csv")
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

    let e = f.store.erase_person(p, insitu::consent::now_ms()).unwrap();
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
    // The chain verifies, ends with the tombstone, and holds no personal content.
    let log = f.store.audit_log().unwrap();
    insitu::audit::verify(&log).unwrap();
    let last = &log.last().unwrap().event;
    assert!(
        matches!(last, insitu::audit::AuditEvent::PersonErased { person, records: 2, .. } if *person == p)
    );
    let text = serde_json::to_string(&log).unwrap();
    assert!(insitu::audit::describe_in(f.store.as_ref(), &imported).contains("an erased source"));
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
        insitu::meter::Outcome::Failed { .. }
    ));
    assert!(f.store.erase_person(p, 0).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_leaves_out_outputs_addressed_to_someone_else() {
    let f = Fixture::new();
    let p = f.person_with_transactions("Alice Martin");
    let mine = f.install(insitu_plugins::PROBE);
    let theirs = f.install_edited(insitu_plugins::PROBE, |m| {
        m.id = "probe-for-an-organisation".into();
        m.output.audience = insitu::package::Audience::Requester;
    });
    for digest in [&mine, &theirs] {
        let g = f.grant(p, digest, &["amount"], TimeRange::ALL);
        let run = f.run(p, g.id, digest, &[], None).await;
        assert!(
            run.output.is_some(),
            "the probe's run has an output to leave out"
        );
    }
    let archive = insitu::rights::export(f.store.as_ref(), p, 1_800_000_000_000).unwrap();
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
