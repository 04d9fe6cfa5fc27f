//! `insitu plugin test`, `insitu generate`, `insitu runs show` and `--json` on `run` and
//! `runs`, through the built binary: a plugin author's local runner on the real sandbox.

use std::path::Path;

use serde_json::Value;

use crate::cli_common;

use cli_common::{insitu, ok};

/// Runs a command that must fail; returns its standard output and error.
fn fails(dir: &Path, args: &[&str]) -> (String, String) {
    let out = insitu(dir, args);
    assert!(!out.status.success(), "insitu {args:?} should have failed");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Today and 24 grant months ago (365.2425 / 12 days each), as `YYYY-MM`.
fn window_months() -> (String, String) {
    let now = insitu_testkit::now_ms();
    let since = now - 24 * 2_629_746_000;
    let month = |ms: i64| insitu_core::import::format_date(ms)[..7].to_string();
    (month(since), month(now))
}

const FEE_ARGS: [&str; 8] = [
    "-p",
    "rule=micro-fees",
    "-p",
    "pattern=Agence",
    "-p",
    "max=20.00 EUR",
    "-p",
    "max-findings=5",
];

#[test]
fn a_component_runs_on_generated_data_with_its_findings_usage_window_and_contract() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut args = vec![
        "plugin",
        "test",
        insitu_plugins::FEE_SCANNER,
        "--manifest",
        insitu_plugins::FEE_SCANNER_MANIFEST,
        "--generate",
        "bank.transactions=1000",
    ];
    args.extend(FEE_ARGS);
    let text = ok(d, &args);
    let (from, to) = window_months();
    for expected in [
        "testing fee-scanner 0.1.0",
        "in a throw-away store",
        "window: the last 24 months: ",
        &format!("(months {from} to {to})"),
        "granted: amount, label, counterparty of bank.transactions, and the date of each record; 1000 records in the test store, 1000 inside the window",
        "status: succeeded",
        "output (as the person sees it):",
        "[micro-fees]",
        "loss: ",
        "evidence: bank.transactions record ",
        "Agence ",
        "usage: fuel ",
        "1000 records read",
        "contract:",
        "findings for the person audience; 5 of at most 500 items",
        "released to its audience",
        "a campaign: only whether the person matched",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    // The test store was thrown away: nothing was written in the data directory.
    assert!(!d.join("insitu.redb").exists());

    args.push("--json");
    let doc = json(&ok(d, &args));
    let run = &doc["run"];
    assert_eq!(run["status"], "succeeded");
    let findings = run["output"]["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 5);
    for f in findings {
        assert_eq!(f["rule"], "micro-fees");
        assert!(f["loss"]["minor"].as_i64().unwrap() > 0, "{f}");
        assert_eq!(f["evidence"].as_array().unwrap().len(), 1);
    }
    // Each cited record is resolved to the stored record behind it.
    let evidence = run["evidence"].as_array().unwrap();
    assert_eq!(evidence.len(), 5);
    assert!(
        evidence[0]["record"]["label"]
            .as_str()
            .unwrap()
            .starts_with("FRAIS")
    );
    assert_eq!(run["usage"]["records_read"], 1000);
    assert!(run["usage"]["fuel"].as_u64().unwrap() > 0);
    assert!(run["usage"]["host_calls"].as_u64().unwrap() > 0);
    assert_eq!(run["contract"]["audience"], "person");
    assert_eq!(run["contract"]["items"], 5);
    assert_eq!(run["contract"]["released"], true);
    assert_eq!(
        run["params"][0],
        serde_json::json!({"name": "rule", "value": {"text": "micro-fees"}, "text": "micro-fees"})
    );
    assert_eq!(doc["grant"]["window"]["months"], 24);
    assert_eq!(doc["grant"]["collections"][0]["in_window"], 1000);
    assert_eq!(doc["data"][0]["added"], 1000);
    // Reproducible: the same seed on the same day finds the same charges in the same
    // records (the ids a plugin sees are pseudonyms keyed per store, so they differ).
    let again = json(&ok(d, &args));
    let without_ids = |run: &Value| {
        let mut out = run["output"].clone();
        for f in out["findings"].as_array_mut().unwrap() {
            f.as_object_mut().unwrap().remove("evidence");
        }
        let records: Vec<Value> = run["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["record"].clone())
            .collect();
        (out, records)
    };
    assert_eq!(without_ids(&again["run"]), without_ids(run));
}

#[test]
fn a_package_runs_on_data_files_and_says_what_falls_outside_its_window() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pkg = d.join("fee-scanner.insitu");
    let pkg = pkg.to_str().unwrap();
    ok(
        d,
        &[
            "package",
            "pack",
            insitu_plugins::FEE_SCANNER,
            "--manifest",
            insitu_plugins::FEE_SCANNER_MANIFEST,
            "--out",
            pkg,
        ],
    );
    // Generated data written as JSON Lines, then given as a file; plus a CSV statement of
    // 2024, older than the manifest's 24 months.
    let file = d.join("tx.jsonl");
    let wrote = ok(
        d,
        &[
            "generate",
            "bank.transactions=400",
            "--seed",
            "9",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert!(
        wrote.contains("wrote 400 records of bank.transactions"),
        "{wrote}"
    );
    // Never over an existing file, unless told.
    let before = std::fs::read(&file).unwrap();
    let again = [
        "generate",
        "bank.transactions=3",
        "--out",
        file.to_str().unwrap(),
    ];
    let (_, err) = fails(d, &again);
    assert!(err.contains("already exists; pass --force"), "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), before);
    let csv = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/statement.csv");
    let data = format!("bank.transactions={}", file.display());
    let old = format!("bank.transactions={csv}");
    let mut args = vec!["plugin", "test", pkg, "--data", &data, "--data", &old];
    args.extend(FEE_ARGS);
    let text = ok(d, &args);
    assert!(
        text.contains("405 records in the test store, 400 inside the window"),
        "{text}"
    );
    assert!(
        text.contains("note: 5 of the 405 records of bank.transactions are outside the window"),
        "{text}"
    );
    assert!(text.contains("status: succeeded"), "{text}");
    // A package carries its manifest: another one is refused.
    let (_, err) = fails(
        d,
        &[
            "plugin",
            "test",
            pkg,
            "--manifest",
            insitu_plugins::FEE_SCANNER_MANIFEST,
        ],
    );
    assert!(err.contains("carries its own manifest"), "{err}");
    // A bare component needs one.
    let (_, err) = fails(d, &["plugin", "test", insitu_plugins::FEE_SCANNER]);
    assert!(
        err.contains("is a component without a manifest: pass --manifest"),
        "{err}"
    );
}

#[test]
fn generate_is_reproducible_and_writes_importable_json_lines_for_every_collection() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["init"]);
    ok(d, &["person", "add", "Author"]);
    for c in insitu_formats::schema::STANDARD {
        let spec = format!("{c}=120");
        let a = ok(
            d,
            &["generate", &spec, "--seed", "5", "--today", "2026-06-15"],
        );
        let b = ok(
            d,
            &["generate", &spec, "--seed", "5", "--today", "2026-06-15"],
        );
        assert_eq!(a, b, "{c}");
        assert_eq!(a.lines().count(), 120, "{c}");
        // What `insitu import` makes of the file, detecting its format.
        let file = d.join(format!("{c}.jsonl"));
        std::fs::write(&file, &a).unwrap();
        let out = ok(
            d,
            &[
                "import",
                "--person",
                "1",
                "--collection",
                c,
                file.to_str().unwrap(),
            ],
        );
        assert!(
            out.contains("120 added") && out.contains("0 skipped"),
            "{c}: {out}"
        );
    }
}

/// The hostile plugin's manifest with a small fuel budget, so that its endless loop ends fast.
fn hostile_manifest(d: &Path) -> String {
    let mut m = json(&std::fs::read_to_string(insitu_plugins::HOSTILE_MANIFEST).unwrap());
    m["limits"] = serde_json::json!({"fuel": 50_000_000});
    let path = d.join("hostile.json");
    std::fs::write(&path, m.to_string()).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn a_hostile_plugin_fails_cleanly_with_its_reason_and_sees_nothing_outside_its_grant() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let manifest = hostile_manifest(d);
    let hostile = |behaviour: &str, json_out: bool| {
        let p = format!("behaviour={behaviour}");
        let mut args = vec![
            "plugin",
            "test",
            insitu_plugins::HOSTILE,
            "--manifest",
            &manifest,
            "--generate",
            "bank.transactions=50",
            "-p",
            &p,
        ];
        if json_out {
            args.push("--json");
        }
        fails(d, &args)
    };
    // The manifest's fuel is the run's budget.
    let (out, err) = hostile("loop", false);
    assert!(
        out.contains("status: FAILED (fuel_exhausted)")
            && out.contains("fuel 50000000 of 50000000"),
        "{out}"
    );
    assert!(err.contains("run 1 failed (fuel_exhausted)"), "{err}");
    let (out, err) = hostile("panic", true);
    let doc = json(&out);
    assert_eq!(doc["run"]["failure"]["reason"], "trap");
    assert!(
        doc["run"]["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("hostile plugin panicking on purpose")
    );
    assert!(err.contains("hostile plugin panicking on purpose"), "{err}");
    // Reading an ungranted collection or field is refused: the plugin gets nothing.
    let (out, err) = hostile("snoop", false);
    assert!(out.contains("0 records read"), "{out}");
    assert!(
        err.contains("unknown collection `profile.secrets`; unknown field `account`"),
        "{err}"
    );
    // The probe reports what it was given: only the manifest's field, whatever is stored.
    let doc = json(&ok(
        d,
        &[
            "plugin",
            "test",
            insitu_plugins::PROBE,
            "--manifest",
            insitu_plugins::PROBE_MANIFEST,
            "--generate",
            "bank.transactions=80",
            "--json",
        ],
    ));
    let rows = doc["run"]["output"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0][0]["text"], "bank.transactions");
    assert_eq!(rows[0][2]["text"], "amount", "delivered columns");
    assert_eq!(rows[0][3]["integer"], 80);
    assert_eq!(
        doc["run"]["read"],
        serde_json::json!([["bank.transactions", ["amount"]]])
    );
}

#[test]
fn a_kept_test_store_replays_its_run_and_shows_it_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let store = d.join("test-store");
    let s = store.to_str().unwrap();
    let mut args = vec![
        "plugin",
        "test",
        insitu_plugins::FEE_SCANNER,
        "--manifest",
        insitu_plugins::FEE_SCANNER_MANIFEST,
        "--generate",
        "bank.transactions=1000",
        "--store",
        s,
    ];
    args.extend(FEE_ARGS);
    let first = ok(d, &args);
    assert!(
        first.contains(&format!("insitu --data-dir {s} plugin test --replay 1")),
        "{first}"
    );
    // A kept store is never overwritten.
    let (_, err) = fails(d, &args);
    assert!(err.contains("already holds a store"), "{err}");

    let replay = ok(&store, &["plugin", "test", "--replay", "1"]);
    assert!(
        replay.contains("identical: run 2 ended as run 1 did, with the same output"),
        "{replay}"
    );
    let doc = json(&ok(&store, &["plugin", "test", "--replay", "1", "--json"]));
    assert_eq!(doc["identical"], true);
    assert_eq!(doc["replay"]["output"], doc["original"]["output"]);
    assert_eq!(doc["replay"]["params"], doc["original"]["params"]);
    let found = doc["original"]["output"]["findings"]
        .as_array()
        .unwrap()
        .len();
    assert!(found > 0);
    let (_, err) = fails(&store, &["plugin", "test", "--replay", "99"]);
    assert!(err.contains("no run 99"), "{err}");
    let (_, err) = fails(&d.join("nowhere"), &["plugin", "test", "--replay", "1"]);
    assert!(err.contains("no store in"), "{err}");

    // `runs show`: the output with loss and evidence, the usage, the log, the contract.
    let shown = ok(&store, &["runs", "show", "1"]);
    for expected in [
        "run 1  person 1  grant 1  fee-scanner 0.1.0, development",
        "params: rule=micro-fees, pattern=Agence, max=20.00 EUR, max-findings=5",
        "status: succeeded",
        "loss: ",
        "evidence: bank.transactions record",
        "usage: fuel ",
        "log: (empty)",
        "contract:",
        "released to its audience",
    ] {
        assert!(
            shown.contains(expected),
            "missing {expected:?} in:\n{shown}"
        );
    }
    let doc = json(&ok(&store, &["runs", "show", "1", "--json"]));
    assert_eq!(doc["id"], 1);
    assert_eq!(doc["usage"]["records_read"], 1000);
    assert_eq!(doc["contract"]["items"], found);
    // `runs --json`: the operator sees each run's detail, an organisation none of these.
    let runs = json(&ok(&store, &["runs", "--json"]));
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[0]["detail"]["status"], "succeeded");
    assert_eq!(runs[0]["detail"]["records_read"], 1000);
    assert_eq!(
        json(&ok(&store, &["runs", "--json", "--as-org", "acme"])),
        serde_json::json!([])
    );
    let (_, err) = fails(&store, &["runs", "show", "1", "--as-org", "acme"]);
    assert!(err.contains("no run 1"), "{err}");

    // `run --json` on the same grant and data gives the same output.
    let mut run = vec!["run", "--person", "1", "--grant", "1", "--json"];
    run.extend(FEE_ARGS);
    let doc = json(&ok(&store, &run));
    assert_eq!(doc["id"], 4);
    assert_eq!(doc["status"], "succeeded");
    assert_eq!(
        doc["output"],
        json(&ok(&store, &["runs", "show", "1", "--json"]))["output"]
    );
}

#[test]
fn only_an_authors_own_runs_are_replayed() {
    // A store with a signed plugin, installed as a person's store would have it.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["person", "add", "Alice"]);
    let key = d.join("publisher.key");
    let keygen = ok(d, &["publisher", "keygen", "--out", key.to_str().unwrap()]);
    let public = keygen
        .split("public key: ")
        .nth(1)
        .unwrap()
        .trim()
        .to_string();
    let pkg = d.join("probe.insitu");
    let pkg = pkg.to_str().unwrap();
    ok(
        d,
        &[
            "package",
            "pack",
            insitu_plugins::PROBE,
            "--manifest",
            insitu_plugins::PROBE_MANIFEST,
            "--out",
            pkg,
        ],
    );
    ok(
        d,
        &[
            "package",
            "sign",
            pkg,
            "--publisher",
            "insitu-examples",
            "--key",
            key.to_str().unwrap(),
        ],
    );
    ok(d, &["publisher", "trust", "insitu-examples", &public]);
    let digest = ok(d, &["plugin", "install", pkg])
        .split_whitespace()
        .last()
        .unwrap()
        .to_string();
    ok(
        d,
        &[
            "grant", "add", "--person", "1", "--plugin", &digest, "--fields", "amount",
        ],
    );
    ok(d, &["run", "--person", "1", "--grant", "1"]);
    let (_, err) = fails(d, &["plugin", "test", "--replay", "1"]);
    assert!(
        err.contains("installed as a signed plugin in a store that is not a test store"),
        "{err}"
    );
    // The same signed package in a kept test store: its runs are the author's, and replay.
    let store = d.join("test-store");
    ok(
        d,
        &[
            "plugin",
            "test",
            pkg,
            "--generate",
            "bank.transactions=10",
            "--store",
            store.to_str().unwrap(),
        ],
    );
    let replay = ok(&store, &["plugin", "test", "--replay", "1"]);
    assert!(replay.contains("identical"), "{replay}");
}

#[test]
fn a_failed_run_shows_the_plugins_first_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let store = d.join("test-store");
    let s = store.to_str().unwrap();
    let manifest = hostile_manifest(d);
    // `escape` succeeds: a kept store with a grant for the hostile plugin.
    ok(
        d,
        &[
            "plugin",
            "test",
            insitu_plugins::HOSTILE,
            "--manifest",
            &manifest,
            "-p",
            "behaviour=escape",
            "--store",
            s,
        ],
    );
    let (out, err) = fails(
        &store,
        &[
            "run",
            "--person",
            "1",
            "--grant",
            "1",
            "-p",
            "behaviour=panic",
        ],
    );
    assert!(
        err.contains("run 2 failed (trap): the plugin panicked at")
            && err.contains("hostile plugin panicking on purpose"),
        "{err}"
    );
    assert!(out.contains("failed: the plugin panicked at"), "{out}");
    let shown = ok(&store, &["runs", "show", "2"]);
    assert!(
        shown.contains("status: FAILED (trap): the plugin panicked at"),
        "{shown}"
    );
    assert!(shown.contains("log:\n"), "{shown}");
}
