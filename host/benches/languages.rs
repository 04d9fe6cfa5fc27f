//! The same rule in Rust, Python and JavaScript, on the same 100,000 generated transactions:
//! time and fuel per language, side by side, against the rule compiled natively over the same
//! store cursor (the baseline, measured in the same run).
//!
//! The plugins are the kit's templates, made and built as an author would: `insitu plugin new
//! NAME --lang LANG`, then the project's `build.sh` (for JavaScript after `npm install`). The
//! rule is `large-debit`: every debit at or above a threshold, with the count and the total.
//!
//! ```sh
//! scripts/test-deps && cargo build --release -p insitu && cargo bench -p insitu --bench languages
//! ```
//! `INSITU` names the `insitu` binary (default `target/release/insitu`); `N` the number of
//! transactions (default 100000); `RUNS` the timed runs per language (default 5).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use insitu_core::output::{Money, PluginOutput, Scalar};
use insitu_core::package::{self, InstallMode};
use insitu_core::sandbox::Limits;
use insitu_core::sandbox::bindings::insitu::plugin::output::Param;
use insitu_core::store::{ColumnValues, Publisher, Schema, TimeRange};

/// 1,000.00 EUR: the rule's parameter, so that the output stays small and the scan dominates.
const THRESHOLD: i64 = 100_000;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `program args` in `dir`, failing the bench with its output if it fails.
fn sh(dir: &Path, program: &str, args: &[&str], env: &[(&str, &Path)]) {
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(dir);
    for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "RUSTC_WRAPPER"] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    assert!(
        out.status.success(),
        "`{program} {}` failed in {}:\n{}{}",
        args.join(" "),
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `insitu plugin new` and the project's own build: the signed package's path and how long
/// the build took.
fn build(insitu: &Path, parent: &Path, lang: &str) -> (PathBuf, Duration) {
    let name = format!("large-debit-{lang}");
    let tools = std::env::var_os("INSITU_KIT_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/insitu-kit")
        })
        .join("bin");
    let path = format!(
        "{}:{}",
        tools.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let data = parent.join("data");
    let target = root().join("target/tmp/kit-projects");
    let env: [(&str, &Path); 4] = [
        ("INSITU", insitu),
        ("INSITU_DATA_DIR", &data),
        ("CARGO_TARGET_DIR", &target),
        ("PATH", Path::new(&path)),
    ];
    let p = parent.to_str().unwrap();
    sh(
        parent,
        insitu.to_str().unwrap(),
        &["plugin", "new", &name, "--lang", lang, "--dir", p],
        &env,
    );
    let project = parent.join(&name);
    let start = Instant::now();
    if lang == "js" {
        sh(
            &project,
            "npm",
            &["install", "--silent", "--no-audit", "--no-fund"],
            &env,
        );
    }
    sh(&project, "./build.sh", &[], &env);
    (
        project.join(format!("build/{name}.insitu")),
        start.elapsed(),
    )
}

/// The rule compiled natively over the same store cursor and batch size as the plugins':
/// (count, total) of the debits at or above the threshold.
fn native(b: &common::Bench) -> (i64, i64) {
    let fields = vec!["amount".to_string()];
    let mut cur = b
        .pds
        .store
        .scan(b.person, "bank.transactions", TimeRange::ALL, &fields)
        .unwrap();
    let (mut count, mut total) = (0, 0);
    while let Some((batch, _)) = cur.next_batch(4096).unwrap() {
        let ColumnValues::Money(amount) = &batch.columns[0].values else {
            panic!("unexpected column")
        };
        for i in 0..batch.len() {
            let (minor, currency) = amount.get(i);
            if currency == "EUR" && minor < 0 && -minor >= THRESHOLD {
                count += 1;
                total += -minor;
            }
        }
    }
    (count, total)
}

/// (count, total) from a plugin's summary.
fn summary(out: &PluginOutput) -> (i64, i64) {
    let PluginOutput::Findings { summary, .. } = out else {
        panic!("not findings: {out:?}")
    };
    let get = |name: &str| summary.iter().find(|m| m.name == name).map(|m| &m.value);
    match (get("count"), get("total")) {
        (Some(Scalar::Integer(c)), Some(Scalar::Money(Money { minor, .. }))) => (*c, *minor),
        other => panic!("unexpected summary: {other:?}"),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list`: nothing to list for a plain bench binary.
    }
    let n: usize = env_or("N", 100_000);
    let runs: usize = env_or("RUNS", 5).max(1);
    let insitu = std::env::var_os("INSITU")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/release/insitu"));
    assert!(
        insitu.exists(),
        "no insitu binary at {}: run `cargo build --release -p insitu` first, or set INSITU",
        insitu.display()
    );

    // The same generated transactions for every language.
    let b = common::setup(0, 4);
    let schema = Schema::bank_transactions();
    let spec = insitu_core::generate::Spec {
        count: n,
        seed: 2026,
        today_ms: insitu_core::clock::Clock::now_ms(&insitu_core::clock::SystemClock),
        months: None,
    };
    let records = insitu_core::generate::generate(&schema, &spec).unwrap();
    let jsonl = insitu_core::generate::jsonl(&schema, &records);
    let report = insitu_core::import::import_bytes(
        b.pds.store.as_ref(),
        b.person,
        "generated.jsonl",
        jsonl.as_bytes(),
        &insitu_core::import::ImportOptions {
            collection: Some("bank.transactions".into()),
            ..Default::default()
        },
        &mut |_, _| {},
    )
    .unwrap();
    println!(
        "{} generated transactions ({} added), seed 2026; {runs} timed runs each, after one warm-up",
        n, report.added
    );

    let projects = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let sb = b.pds.runner.sandbox().clone();

    // Native baseline.
    let expected = native(&b);
    let mut native_ms = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        assert_eq!(native(&b), expected);
        native_ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let native_ms = median(native_ms);
    println!(
        "\n| language | build | install (compile) | run, median | fuel | run / native |\n| --- | --- | --- | --- | --- | --- |"
    );
    println!("| native Rust (baseline) | | | {native_ms:.1} ms | | 1.0 |");
    for lang in ["rust", "python", "js"] {
        let (pkg, built) = build(&insitu, projects.path(), lang);
        let bytes = std::fs::read(&pkg).unwrap();
        let key = std::fs::read_to_string(pkg.with_file_name("dev.pub")).unwrap();
        b.pds
            .store
            .trust_publisher(&Publisher {
                name: "dev".into(),
                key: key.trim().into(),
                trusted_ms: 0,
                revoked_ms: None,
            })
            .unwrap();
        let t = Instant::now();
        let digest = package::install(b.pds.store.as_ref(), &sb, &bytes, InstallMode::Verified)
            .unwrap()
            .digest;
        let installed = t.elapsed();
        let grant = common::fee_grant(b.pds.store.as_ref(), b.person, &digest);
        let pre = sb.load(&digest).unwrap();
        let limits = Limits {
            fuel: 200_000_000_000,
            deadline: Duration::from_secs(600),
            ..Limits::default()
        };
        let params = [Param {
            name: "threshold".into(),
            value: Scalar::Money(Money {
                minor: THRESHOLD,
                currency: "EUR".into(),
            })
            .into(),
        }];
        let mut ms = Vec::new();
        let mut fuel = 0;
        for i in 0..=runs {
            let data = insitu_core::sandbox::data_access(
                b.pds.store.clone(),
                b.person,
                grant.clone(),
                &limits,
            )
            .unwrap();
            let t = Instant::now();
            let exec = rt.block_on(sb.execute(&pre, data, limits, &params));
            let elapsed = t.elapsed().as_secs_f64() * 1e3;
            let out = exec
                .outcome
                .unwrap_or_else(|e| panic!("{lang}: the run failed: {e:?}"));
            assert_eq!(summary(&out), expected, "{lang} and native Rust disagree");
            if i > 0 {
                ms.push(elapsed);
                fuel = exec.usage.fuel;
            }
        }
        let run_ms = median(ms);
        println!(
            "| {lang} | {:.1} s | {:.1} s | {run_ms:.1} ms | {:.1} M | {:.1} |",
            built.as_secs_f64(),
            installed.as_secs_f64(),
            fuel as f64 / 1e6,
            run_ms / native_ms
        );
    }
    println!(
        "\nall three found {} debits of at least 1000.00 EUR, {}.{:02} EUR in all",
        expected.0,
        expected.1 / 100,
        expected.1 % 100
    );
}
