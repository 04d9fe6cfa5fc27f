//! Plugins in other languages on the real sandbox: the Python and JavaScript templates of
//! `kit/templates/` are built with the real tools (componentize-py, componentize-js) by their
//! own build scripts, in a temporary copy, then installed, granted and run. The tools are
//! installed by `scripts/test-deps`; without them these tests fail, they do not skip.
//!
//! Each language's build takes tens of seconds (printed), so each test builds once and checks
//! everything on that one build.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::*;
use insitu_core::meter::{FailureReason, Outcome, RunRecord};
use insitu_core::output::{Money, PluginOutput, Scalar};
use insitu_core::package::{self, InstallMode, Manifest};
use insitu_core::sandbox::{ComponentError, InstallError, PoolSettings, SandboxConfig};
use insitu_core::store::redb::RedbStore;
use insitu_core::store::{Publisher, Store, TimeRange};
use insitu_testkit::now_ms;
use insitu_testkit::*;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn template(lang: &str) -> PathBuf {
    repo().join("kit/templates").join(lang)
}

/// A language tool: `$env`, else `$INSITU_KIT_TOOLS/bin/NAME` (default
/// `~/.cache/insitu-kit/bin`, where `scripts/test-deps` puts it), else NAME on the PATH.
fn tool(env: &str, name: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env) {
        return p.into();
    }
    let kit = std::env::var_os("INSITU_KIT_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/insitu-kit")
        });
    let p = kit.join("bin").join(name);
    if p.exists() {
        return p;
    }
    if Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return name.into();
    }
    panic!(
        "{name} is not installed: run scripts/test-deps (it installs it under {}), or set {env}",
        kit.display()
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if ["node_modules", "build", "__pycache__"].contains(&name.to_str().unwrap_or("")) {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(&name));
        } else {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

struct Built {
    _dir: tempfile::TempDir,
    /// The signed package the build script wrote.
    package: Vec<u8>,
    /// The development key's public half, as `insitu publisher keygen` printed it.
    public_key: String,
}

/// Copies the template to a temporary directory, edits its files with `edit`, and runs its
/// build script with the real tool and the `insitu` binary.
fn build(lang: &str, tool_env: &str, tool_name: &str, edit: impl FnOnce(&Path)) -> Built {
    let tool = tool(tool_env, tool_name);
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    copy_dir(&template(lang), &project);
    edit(&project);
    let started = Instant::now();
    let out = Command::new("sh")
        .arg(project.join("build.sh"))
        .env("INSITU", env!("CARGO_BIN_EXE_insitu"))
        .env("INSITU_DATA_DIR", dir.path().join("data"))
        .env(tool_env, &tool)
        .output()
        .expect("run build.sh");
    assert!(
        out.status.success(),
        "{lang} build failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "{lang}: the template built and signed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let package = std::fs::read(project.join("build/insitu-plugin-template.insitu")).unwrap();
    let public = std::fs::read_to_string(project.join("build/dev.pub")).unwrap();
    // build.sh keeps the public key alone, as `insitu publisher trust` takes it.
    let public_key = public.trim().to_string();
    assert_eq!(public_key.len(), 64, "build/dev.pub: {public:?}");
    Built {
        _dir: dir,
        package,
        public_key,
    }
}

fn trust_dev(store: &dyn Store, key: &str) {
    store
        .trust_publisher(&Publisher {
            name: "dev".into(),
            key: key.into(),
            trusted_ms: now_ms(),
            revoked_ms: None,
        })
        .unwrap();
}

const LABELS: [&str; 4] = ["Crêpes à Noël €", "Übergebühr", "日本語の請求", "CAFÉ"];

fn money_eur(minor: i64) -> Money {
    Money {
        minor,
        currency: "EUR".into(),
    }
}

fn findings(
    run: &RunRecord,
) -> (
    &Vec<insitu_core::output::Finding>,
    &Vec<insitu_core::output::Metric>,
) {
    match (&run.outcome, &run.output) {
        (Outcome::Succeeded, Some(PluginOutput::Findings { findings, summary })) => {
            (findings, summary)
        }
        other => panic!("expected findings, got {other:?}"),
    }
}

fn metric<'a>(summary: &'a [insitu_core::output::Metric], name: &str) -> &'a Scalar {
    &summary
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no metric {name} in {summary:?}"))
        .value
}

/// Installs the built package, then runs it on accented labels, with a threshold, with `fail`,
/// and under a narrower grant. `error_type` is how the language names the exception `fail`
/// raises.
async fn check_template(built: &Built, error_type: &str) {
    let f = TestPds::new();
    trust_dev(f.store.as_ref(), &built.public_key);
    let digest = f
        .install_bytes(&built.package, InstallMode::Verified)
        .unwrap_or_else(|e| panic!("install: {e}"))
        .digest;
    let p = f.store.add_person("ana").unwrap();
    write_transactions(
        f.store.as_ref(),
        p,
        &[
            tx(1, -12_345, LABELS[0], Some("Crêperie Saint-Malo")),
            tx(2, -10_000, LABELS[1], None),
            tx(3, -9_999, LABELS[3], None),
            tx(4, 250_000, "SALAIRE", Some("ACME")),
            tx(5, -25_000, LABELS[2], Some("東京")),
        ],
    );

    // Every field granted: the debits at or above 100.00 EUR, labels byte for byte.
    let g = f.grant(
        p,
        &digest,
        &["amount", "label", "counterparty"],
        TimeRange::ALL,
    );
    let run = f.run(p, g.id, &digest, &[], None).await;
    let (found, summary) = findings(&run);
    let labels: Vec<&str> = found.iter().map(|x| x.label.as_str()).collect();
    assert_eq!(labels, [LABELS[0], LABELS[1], LABELS[2]]);
    assert_eq!(
        found[0].reason,
        "a debit of 123.45 EUR, above the threshold of 100.00 EUR"
    );
    assert_eq!(found[0].rule, "large-debit");
    assert_eq!(found[0].time, T0 + DAY);
    assert_eq!(found[2].amount, Some(money_eur(-25_000)));
    assert_eq!(found[0].loss, None);
    assert!(
        found
            .iter()
            .all(|x| x.evidence.len() == 1 && x.evidence[0].collection == "bank.transactions")
    );
    assert_eq!(metric(summary, "count"), &Scalar::Integer(3));
    assert_eq!(
        metric(summary, "total"),
        &Scalar::Money(money_eur(12_345 + 10_000 + 25_000))
    );

    // An integer threshold is minor units.
    let run = f
        .run(
            p,
            g.id,
            &digest,
            &[("threshold", Scalar::Integer(20_000))],
            None,
        )
        .await;
    let labels: Vec<String> = findings(&run).0.iter().map(|x| x.label.clone()).collect();
    assert_eq!(labels, [LABELS[2]]);

    // `fail`: the exception's type and message are the run's failure reason.
    let run = f
        .run(
            p,
            g.id,
            &digest,
            &[("fail", text("Übergebühr refusée ✗"))],
            None,
        )
        .await;
    let (reason, msg) = failure(&run);
    assert_eq!(
        reason,
        FailureReason::PluginError,
        "{msg}\nlog: {}",
        run.log
    );
    assert_eq!(msg, format!("{error_type}: Übergebühr refusée ✗"));
    // The helpers also log it, with where it was raised.
    assert!(
        run.log
            .contains(&format!("[error] {error_type}: Übergebühr refusée ✗")),
        "{}",
        run.log
    );

    // A grant without the label: the plugin never sees it (its findings have none), and the
    // run record says which fields it read.
    let g = f.grant(p, &digest, &["amount"], TimeRange::ALL);
    let run = f.run(p, g.id, &digest, &[], None).await;
    let (found, _) = findings(&run);
    assert_eq!(found.len(), 3);
    assert!(found.iter().all(|x| x.label.is_empty()), "{found:?}");
    assert_eq!(
        run.read,
        [("bank.transactions".to_string(), vec!["amount".to_string()])]
    );
}

#[tokio::test]
async fn a_python_plugin_from_the_template_installs_and_runs() {
    let built = build("python", "COMPONENTIZE_PY", "componentize-py", |_| {});
    check_template(&built, "RuntimeError").await;
}

#[tokio::test]
async fn a_javascript_plugin_from_the_template_installs_and_runs() {
    let built = build("js", "COMPONENTIZE_JS", "componentize-js", |_| {});
    check_template(&built, "Error").await;
}

#[tokio::test]
async fn an_uncaught_javascript_exception_reaches_the_failure_reason() {
    // The entry module without the kit's catch: the engine prints the exception to stderr
    // (the run's log) and traps; the host quotes the first error line.
    let built = build("js", "COMPONENTIZE_JS", "componentize-js", |p| {
        std::fs::write(
            p.join("app.js"),
            "export function run(params) {\n  console.log('starting');\n  \
             throw new TypeError('plafond dépassé: 日本語');\n}\n",
        )
        .unwrap();
    });
    let f = TestPds::new();
    trust_dev(f.store.as_ref(), &built.public_key);
    let digest = f
        .install_bytes(&built.package, InstallMode::Verified)
        .unwrap_or_else(|e| panic!("install: {e}"))
        .digest;
    let p = f.person_with_transactions("ana");
    let g = f.grant(p, &digest, &["amount"], TimeRange::ALL);
    let run = f.run(p, g.id, &digest, &[], None).await;
    let (reason, msg) = failure(&run);
    assert_eq!(reason, FailureReason::Trap, "{msg}");
    assert!(
        msg.contains("first error: ") && msg.contains("TypeError: plafond dépassé: 日本語"),
        "{msg}"
    );
    eprintln!("uncaught: {msg}");
}

#[test]
fn the_templates_carry_the_repositorys_wit() {
    let wit = std::fs::read_to_string(repo().join("wit/plugin.wit")).unwrap();
    for lang in ["python", "js"] {
        let copy = std::fs::read_to_string(template(lang).join("wit/plugin.wit")).unwrap();
        assert!(
            copy == wit,
            "kit/templates/{lang}/wit/plugin.wit differs from wit/plugin.wit: copy it again"
        );
    }
}

#[test]
fn the_templates_manifests_are_valid_and_declare_their_imports() {
    let py = Manifest::from_file(&template("python").join("manifest.json")).unwrap();
    assert_eq!(py.imports, ["insitu:plugin"]);
    let js = Manifest::from_file(&template("js").join("manifest.json")).unwrap();
    assert!(js.imports.contains(&"wasi:cli".to_string()));
    for m in [py, js] {
        assert_eq!(m.id, "insitu-plugin-template");
        assert_eq!(m.publisher, "dev");
        assert_eq!(m.data[0].months, Some(24));
    }
}

/// A component that passes a deliberately small pool setting is refused with the setting's
/// name and value (a Rust plugin, so this needs no language tool and no long compile; the
/// Python template's component, 38 core instances, got "this component has 38 core
/// instances; the host allows 16 (INSITU_POOL_MAX_CORE_INSTANCES)" under the old pool).
#[test]
fn a_component_over_a_pool_setting_is_refused_with_the_setting_named() {
    let dir = tempfile::tempdir().unwrap();
    let store: std::sync::Arc<dyn Store> =
        std::sync::Arc::new(RedbStore::open(&dir.path().join("s.redb")).unwrap());
    trust_examples(store.as_ref());
    let mut cfg = SandboxConfig::new(dir.path().join("plugins"));
    cfg.pool = 2;
    cfg.pool_settings = PoolSettings {
        max_core_instances: 2,
        ..PoolSettings::default()
    };
    let sandbox = insitu_core::sandbox::open(store.clone(), cfg).unwrap();
    let err = package::install(
        store.as_ref(),
        &sandbox,
        &signed(insitu_plugins::FEE_SCANNER),
        InstallMode::Verified,
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, InstallError::Component(ComponentError::HostLimit(_))),
        "{err:?}"
    );
    assert!(
        msg.starts_with("this component has ")
            && msg.contains("core instances; the host allows 2 (INSITU_POOL_MAX_CORE_INSTANCES)"),
        "{msg}"
    );

    let mut cfg = SandboxConfig::new(dir.path().join("plugins2"));
    cfg.pool = 2;
    cfg.pool_settings.max_memories = 1;
    cfg.pool_settings.memories_per_slot = 1;
    let sandbox = insitu_core::sandbox::open(store.clone(), cfg).unwrap();
    let err = package::install(
        store.as_ref(),
        &sandbox,
        &signed(insitu_plugins::FEE_SCANNER),
        InstallMode::Verified,
    );
    // A Rust plugin has one memory: it fits.
    assert!(err.is_ok(), "{err:?}");
}

/// The templates' own unit tests (the byte-offset slicing on accented labels among them) pass,
/// run as an author runs them, in a copy of the template.
#[test]
fn the_templates_unit_tests_pass() {
    for (lang, cmd, args) in [
        ("python", "python3", &["-m", "unittest", "-v"][..]),
        ("js", "node", &["--test"][..]),
    ] {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&template(lang), dir.path());
        let out = Command::new(cmd)
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap_or_else(|e| panic!("{cmd}: {e} (scripts/test-deps installs it)"));
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{lang} unit tests failed:\n{all}");
        assert!(
            all.contains("utf8") || all.contains("UTF-8"),
            "{lang}: the byte-offset test did not run:\n{all}"
        );
    }
}

/// A plugin installed under larger settings than today's fails its run with the setting named
/// (the operator lowered it after the install).
#[tokio::test]
async fn a_plugin_over_a_lowered_setting_fails_its_run_with_the_setting_named() {
    let f = TestPds::new();
    let digest = f.install(insitu_plugins::FEE_SCANNER);
    let p = f.person_with_transactions("ana");
    let g = insitu_testkit::grant_for(f.store.as_ref(), p, &digest);
    let mut cfg = SandboxConfig::new(f.dir.path().join("plugins"));
    cfg.pool = 2;
    cfg.pool_settings.max_core_instances = 2;
    let lowered = std::sync::Arc::new(insitu_core::sandbox::open(f.store.clone(), cfg).unwrap());
    let runner = insitu_core::run::Runner::new(f.store.clone(), lowered);
    let run = runner
        .run(insitu_core::run::RunRequest {
            person: p,
            grant: g,
            digest: digest.clone(),
            params: vec![("rule".into(), text("duplicates"))],
            limits: None,
            requester: None,
            as_of: None,
        })
        .await
        .expect("run recorded");
    let (reason, msg) = failure(&run);
    assert_eq!(reason, FailureReason::Instantiate, "{msg}");
    assert!(
        msg.contains("the host allows 2 (INSITU_POOL_MAX_CORE_INSTANCES)"),
        "{msg}"
    );
}
