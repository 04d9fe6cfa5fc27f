//! Zip archives of statements and the new camt messages, end to end: every file of an archive
//! imported, each named `archive.zip:entry`; an archive with one refused file writes nothing;
//! camt.052 and camt.054 then the camt.053 of the same period add nothing twice; the CLI and
//! `POST /api/imports` take archives.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use insitu_core::account::{self, Role};
use insitu_core::import::{ImportError, ImportOptions, Imported, import_path};
use insitu_core::pds::Pds;
use insitu_core::store::Store;
use insitu_core::store::redb::RedbStore;
use insitu_server::{AppState, limit::RateLimits, router};
use tower::ServiceExt;

/// A fixture of the parsers' crate.
fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../formats/tests/fixtures/{name}"))
}

fn store() -> (tempfile::TempDir, Arc<dyn Store>, u64) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(RedbStore::open(&dir.path().join("s.redb")).unwrap());
    let p = store.add_person("a").unwrap();
    (dir, store, p)
}

fn import(store: &dyn Store, p: u64, name: &str) -> Result<Vec<Imported>, ImportError> {
    import_path(
        store,
        p,
        &fixture(name),
        &ImportOptions::default(),
        &mut |_, _| {},
    )
}

/// Each file's name (after the fixtures folder), format, added and duplicates.
fn summary(r: &[Imported]) -> Vec<(String, String, u64, u64)> {
    r.iter()
        .map(|i| {
            let name = i.file.rsplit('/').next().unwrap_or_default().to_string();
            let r = &i.report;
            (name, r.format.to_string(), r.added, r.duplicates)
        })
        .collect()
}

fn s(v: &str) -> String {
    v.to_string()
}

#[test]
fn every_file_of_an_archive_is_imported_and_named() {
    let (_d, store, p) = store();
    let r = import(store.as_ref(), p, "zip/statements.zip").unwrap();
    assert_eq!(
        summary(&r),
        [
            (s("statements.zip:2024-01.xml"), s("CAMT.053"), 5, 0),
            (s("statements.zip:2024-03.xml"), s("CAMT.053"), 4, 0),
        ]
    );
    let again = import(store.as_ref(), p, "zip/statements.zip").unwrap();
    assert_eq!(
        summary(&again)
            .iter()
            .map(|r| (r.2, r.3))
            .collect::<Vec<_>>(),
        [(0, 5), (0, 4)]
    );
}

#[test]
fn one_refused_file_or_a_bomb_refuses_the_archive_and_writes_nothing() {
    let (_d, store, p) = store();
    for (zip, why) in [
        ("zip/one-bad.zip", "one-bad.zip:2024-04.xml:"),
        (
            "zip/bomb.zip",
            "entry `big.xml` decompresses to more than 100 times",
        ),
        ("zip/traversal.zip", "entry `../x.xml` has a path"),
        ("zip/nested.zip", "entry `inner.zip` is itself an archive"),
    ] {
        let e = import(store.as_ref(), p, zip).unwrap_err().to_string();
        assert!(e.contains(why), "{zip}: {e}");
        assert!(e.contains("nothing was imported"), "{zip}: {e}");
        assert_eq!(
            store.count(p, "bank.transactions").unwrap_or(0),
            0,
            "{zip} wrote records"
        );
    }
}

#[test]
fn reports_and_notifications_then_the_statement_add_nothing_twice() {
    let (_d, store, p) = store();
    let mut all = Vec::new();
    for f in [
        "camt/camt052_report.xml",
        "camt/camt054_notification.xml",
        "camt/camt053_march.xml",
    ] {
        all.extend(import(store.as_ref(), p, f).unwrap());
    }
    assert_eq!(
        summary(&all),
        [
            (s("camt052_report.xml"), s("CAMT.052"), 2, 0),
            (s("camt054_notification.xml"), s("CAMT.054"), 2, 0),
            (s("camt053_march.xml"), s("CAMT.053"), 0, 4),
        ]
    );
    assert_eq!(store.count(p, "bank.transactions").unwrap(), 4);
}

#[test]
fn a_file_that_is_no_format_says_what_was_considered() {
    let (_d, store, p) = store();
    let e = import(store.as_ref(), p, "detect/notes.txt")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("cannot tell the format of "), "{e}");
    assert!(
        e.contains("not CSV: line 2: 3 `,`-separated fields where the header (line 1) has 2"),
        "{e}"
    );
    let e = import(store.as_ref(), p, "detect/pain001.xml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("it is an ISO 20022 pain.001 message"), "{e}");
}

#[test]
fn the_cli_imports_an_archive() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_insitu"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    run(&["init"]);
    run(&["person", "add", "Alice"]);
    let zip = fixture("zip/statements.zip");
    let out = run(&["import", "--person", "1", zip.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(
            "statements.zip:2024-03.xml (CAMT.053) into bank.transactions: 4 records read, 4 added"
        ),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_imports_an_archive() {
    let dir = tempfile::tempdir().unwrap();
    let pds = Arc::new(Pds::open(dir.path()).unwrap());
    let app = router(AppState::new(pds.clone(), RateLimits::default()));
    let store = pds.store.as_ref();
    let a = account::create(store, "alice", "correct horse battery", Role::Person).unwrap();
    let token = account::issue_token(store, &a, &[], "test", None)
        .unwrap()
        .0;
    let req = Request::post("/api/imports?name=statements.zip")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(
            std::fs::read(fixture("zip/statements.zip")).unwrap(),
        ))
        .unwrap();
    let resp = app.oneshot(req).await.unwrap();
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(
        (v["format"].as_str(), v["added"].as_u64()),
        (Some("zip"), Some(9)),
        "{v}"
    );
    let files: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        ["statements.zip:2024-01.xml", "statements.zip:2024-03.xml"]
    );
}
