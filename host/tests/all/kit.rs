//! The plugin developer's kit, as an author uses it: `insitu plugin new`, the project's own
//! `cargo test` and `build.sh`, then install and run in a fresh store; and `insitu package
//! pack`'s early checks (imports filled or checked, the data window shown).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const INSITU: &str = env!("CARGO_BIN_EXE_insitu");

fn insitu(cwd: &Path, args: &[&str]) -> Output {
    Command::new(INSITU)
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("run insitu")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(cwd: &Path, args: &[&str]) -> String {
    let out = insitu(cwd, args);
    assert!(
        out.status.success(),
        "insitu {args:?} failed: {}",
        text(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn fails(cwd: &Path, args: &[&str]) -> String {
    let out = insitu(cwd, args);
    assert!(!out.status.success(), "insitu {args:?} should have failed");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs a build command in a generated project, without the outer build's settings, with the
/// generated projects' shared target directory (so that wit-bindgen is built once); returns
/// how long it took.
fn build_step(project: &Path, program: &str, args: &[&str], env: &[(&str, &Path)]) -> Duration {
    let mut cmd = Command::new(program);
    cmd.current_dir(project).args(args);
    for var in [
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_TARGET",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("CARGO_TARGET_DIR", shared_target());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let out = cmd.output().expect("start the build step");
    assert!(
        out.status.success(),
        "`{program} {}` failed in {}: {}",
        args.join(" "),
        project.display(),
        text(&out)
    );
    start.elapsed()
}

fn shared_target() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("kit-projects")
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

#[test]
fn a_new_rust_project_builds_tests_signs_installs_and_runs_on_data() {
    let tmp = tempfile::tempdir().unwrap();
    let parent = tmp.path().join("projects");
    let store = tmp.path().join("store");
    std::fs::create_dir_all(&parent).unwrap();
    let start = Instant::now();
    let created = ok(
        tmp.path(),
        &[
            "plugin",
            "new",
            "large-debit",
            "--lang",
            "rust",
            "--dir",
            parent.to_str().unwrap(),
        ],
    );
    assert!(created.contains("./build.sh"), "{created}");
    let project = parent.join("large-debit");
    let manifest = std::fs::read_to_string(project.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"id\": \"large-debit\""), "{manifest}");

    // The unit tests run natively, then the component builds with the small stack.
    let unit = build_step(&project, &cargo(), &["test", "--quiet"], &[]);
    let wasm = build_step(
        &project,
        &cargo(),
        &["build", "--release", "--target", "wasm32-wasip2"],
        &[],
    );
    // build.sh: pack (imports checked), a development key, sign.
    let insitu_bin = Path::new(INSITU);
    let script = build_step(
        &project,
        "./build.sh",
        &[],
        &[("INSITU", insitu_bin), ("INSITU_DATA_DIR", &store)],
    );
    let pkg = project.join("build/large-debit.insitu");
    let pkg = pkg.to_str().unwrap();
    let public = std::fs::read_to_string(project.join("build/dev.pub")).unwrap();
    assert_eq!(public.trim().len(), 64, "dev.pub: {public}");
    let d = store.to_str().unwrap();
    let inspect = ok(tmp.path(), &["--data-dir", d, "package", "inspect", pkg]);
    assert!(inspect.contains("signed by: dev"), "{inspect}");
    assert!(
        inspect.contains("uses the host interfaces insitu:plugin, wasi:cli, wasi:io"),
        "{inspect}"
    );

    // A fresh store: a person, their transactions, the key trusted, install, grant, run.
    let sample = project.join("sample.jsonl");
    let store_cmds: &[&[&str]] = &[
        &["init"],
        &["person", "add", "Alice"],
        &[
            "import",
            "--person",
            "1",
            "--collection",
            "bank.transactions",
            sample.to_str().unwrap(),
        ],
        &["publisher", "trust", "dev", public.trim()],
        &["plugin", "install", pkg],
        &[
            "grant",
            "add",
            "--person",
            "1",
            "--plugin",
            "large-debit",
            "--fields",
            "amount,label,counterparty",
        ],
    ];
    for args in store_cmds {
        ok(tmp.path(), &[&["--data-dir", d][..], args].concat());
    }
    let run = ok(
        tmp.path(),
        &["--data-dir", d, "run", "--person", "1", "--grant", "1"],
    );
    let first_run = start.elapsed();
    let reasons: Vec<&str> = run
        .lines()
        .filter(|l| l.contains("[large-debit]"))
        .collect();
    assert_eq!(reasons.len(), 3, "{run}");
    assert!(
        reasons[0].contains("LOYER SEPTEMBRE")
            && reasons[0].contains("a debit of 1250.00 EUR, above the threshold of 100.00 EUR"),
        "{run}"
    );
    assert!(
        reasons[2].contains("RETRAIT DAB") && reasons[2].contains("a debit of 100.00 EUR"),
        "{run}"
    );
    assert!(
        run.contains("summary: count = 3, total = 2600.00 EUR"),
        "{run}"
    );
    // The 64 KiB stack of .cargo/config.toml: the run's memory stays far below Rust's default
    // 1 MiB stack alone.
    let peak: u64 = run
        .split(" KiB peak")
        .next()
        .and_then(|s| s.split_whitespace().last())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no memory peak in {run}"));
    assert!(peak < 512, "a run peaked at {peak} KiB: {run}");

    let higher = ok(
        tmp.path(),
        &[
            "--data-dir",
            d,
            "run",
            "--person",
            "1",
            "--grant",
            "1",
            "-p",
            "threshold=1000.00 EUR",
        ],
    );
    assert!(
        higher.contains("summary: count = 2, total = 2500.00 EUR"),
        "{higher}"
    );
    let failed = fails(
        tmp.path(),
        &[
            "--data-dir",
            d,
            "run",
            "--person",
            "1",
            "--grant",
            "1",
            "-p",
            "fail=the rule gave up",
        ],
    );
    assert!(failed.contains("the rule gave up"), "{failed}");

    eprintln!(
        "kit (rust): plugin new to first successful run {:.1} s; cargo test {:.1} s, \
         wasm32-wasip2 release build {:.1} s, build.sh {:.1} s (target dir {})",
        first_run.as_secs_f64(),
        unit.as_secs_f64(),
        wasm.as_secs_f64(),
        script.as_secs_f64(),
        shared_target().display()
    );
}

/// A copy of fee-scanner's manifest with `imports` set by `edit`, written to `dir`.
fn fee_scanner_manifest(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let mut m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(insitu_plugins::FEE_SCANNER_MANIFEST).unwrap(),
    )
    .unwrap();
    edit(&mut m);
    let path = dir.join("manifest.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    path
}

#[test]
fn pack_fills_missing_imports_from_the_component_and_install_agrees() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let manifest = fee_scanner_manifest(d, |m| {
        m.as_object_mut().unwrap().remove("imports");
    });
    let pkg = d.join("fee.insitu");
    let out = ok(
        d,
        &[
            "package",
            "pack",
            insitu_plugins::FEE_SCANNER,
            "--manifest",
            manifest.to_str().unwrap(),
            "--out",
            pkg.to_str().unwrap(),
        ],
    );
    assert!(
        out.contains(
            "imports: insitu:plugin, wasi:cli, wasi:io, wasi:random (filled in from the component"
        ),
        "{out}"
    );
    let store = d.join("store");
    let store = store.to_str().unwrap();
    let inspect = ok(
        d,
        &[
            "--data-dir",
            store,
            "package",
            "inspect",
            pkg.to_str().unwrap(),
        ],
    );
    assert!(
        inspect.contains("uses the host interfaces insitu:plugin, wasi:cli, wasi:io, wasi:random"),
        "{inspect}"
    );
    // Install compiles the component and checks the filled list against what it really imports.
    let installed = ok(
        d,
        &[
            "--data-dir",
            store,
            "plugin",
            "install",
            "--dev",
            pkg.to_str().unwrap(),
        ],
    );
    assert!(installed.contains("installed fee-scanner"), "{installed}");
}

#[test]
fn pack_refuses_a_wrong_imports_list_naming_each_difference() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let manifest = fee_scanner_manifest(d, |m| {
        m["imports"] = serde_json::json!(["insitu:plugin", "wasi:io", "wasi:cli", "wasi:clocks"]);
    });
    let pkg = d.join("fee.insitu");
    let err = fails(
        d,
        &[
            "package",
            "pack",
            insitu_plugins::FEE_SCANNER,
            "--manifest",
            manifest.to_str().unwrap(),
            "--out",
            pkg.to_str().unwrap(),
        ],
    );
    assert!(
        err.contains("the component imports wasi:random (wasi:random/")
            && err.contains(") but the manifest does not list it"),
        "{err}"
    );
    assert!(
        err.contains("the manifest lists wasi:clocks but the component does not import it"),
        "{err}"
    );
    assert!(!pkg.exists(), "a package was written all the same");
}

#[test]
fn pack_refuses_an_interface_the_host_never_links() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let pkg = d.join("hostile.insitu");
    // Its manifest honestly declares wasi:sockets: refused all the same, before signing.
    let err = fails(
        d,
        &[
            "package",
            "pack",
            insitu_plugins::HOSTILE_IMPORT,
            "--manifest",
            insitu_plugins::HOSTILE_IMPORT_MANIFEST,
            "--out",
            pkg.to_str().unwrap(),
        ],
    );
    assert!(
        err.contains("the component imports wasi:sockets, which Insitu never provides"),
        "{err}"
    );
    assert!(!pkg.exists());
}

/// What pack reads without compiling is what install finds by compiling.
#[test]
fn imports_read_at_pack_are_those_install_records() {
    let tmp = tempfile::tempdir().unwrap();
    let pds = insitu_core::pds::Pds::open(tmp.path()).unwrap();
    for (name, path) in insitu_plugins::ALL {
        let bytes = insitu_plugins::bytes(path);
        let read = insitu_core::package::component_imports(&bytes).unwrap();
        let manifest = insitu_core::package::Manifest::from_file(Path::new(
            insitu_plugins::manifest_for(path),
        ))
        .unwrap();
        let pkg = insitu_core::package::pack(&bytes, &manifest).unwrap();
        match insitu_core::package::install(
            pds.store.as_ref(),
            pds.runner.sandbox(),
            &pkg,
            insitu_core::package::InstallMode::Development,
        ) {
            Ok(record) => assert_eq!(read, record.imports, "{name}"),
            // hostile-import: refused at install for the import pack names.
            Err(e) => assert!(
                read.iter().any(|i| i.starts_with("wasi:sockets/"))
                    && e.to_string().contains("wasi:sockets"),
                "{name}: {e}"
            ),
        }
    }
}

#[test]
fn pack_shows_each_collections_window_with_its_dates() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let manifest = fee_scanner_manifest(d, |_| {});
    let pkg = d.join("fee.insitu");
    let out = ok(
        d,
        &[
            "package",
            "pack",
            insitu_plugins::FEE_SCANNER,
            "--manifest",
            manifest.to_str().unwrap(),
            "--out",
            pkg.to_str().unwrap(),
        ],
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let date = insitu_formats::time::format_date;
    // 24 months of 30.44 days back from today, as a grant approved today would start.
    let since = date(now - 24 * 2_629_746_000);
    let expected = format!(
        "bank.transactions: the last 24 months: {since} to {}",
        date(now)
    );
    assert!(out.contains(&expected), "{out}\nwants: {expected}");
    let all_time = fee_scanner_manifest(d, |m| {
        m["data"][0].as_object_mut().unwrap().remove("months");
    });
    std::fs::remove_file(&pkg).unwrap();
    let out = ok(
        d,
        &[
            "package",
            "pack",
            insitu_plugins::FEE_SCANNER,
            "--manifest",
            all_time.to_str().unwrap(),
            "--out",
            pkg.to_str().unwrap(),
        ],
    );
    assert!(out.contains("bank.transactions: all the records"), "{out}");
}

#[test]
fn plugin_new_refuses_a_bad_name_an_existing_directory_and_an_unknown_language() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for bad in ["Large-Debit", "large_debit", "9lives", "débit"] {
        let err = fails(d, &["plugin", "new", bad, "--lang", "rust", "--dir", "."]);
        assert!(err.contains("is not a valid plugin name"), "{bad}: {err}");
    }
    assert_eq!(
        std::fs::read_dir(d).unwrap().count(),
        0,
        "a bad name wrote something"
    );

    let taken = d.join("taken");
    std::fs::create_dir(&taken).unwrap();
    std::fs::write(taken.join("notes.txt"), "mine").unwrap();
    let err = fails(d, &["plugin", "new", "taken", "--lang", "rust"]);
    assert!(
        err.contains("already exists and is not an empty directory"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(taken.join("notes.txt")).unwrap(),
        "mine"
    );
    assert!(!taken.join("Cargo.toml").exists());

    // An empty directory is used; without --dir, the project goes in the current directory.
    std::fs::create_dir(d.join("empty")).unwrap();
    ok(d, &["plugin", "new", "empty", "--lang", "rust"]);
    assert!(d.join("empty/Cargo.toml").exists());
    assert!(d.join("empty/insitu-sdk/src/lib.rs").exists());

    let err = fails(d, &["plugin", "new", "other", "--lang", "cobol"]);
    assert!(
        err.contains("invalid value 'cobol'") && err.contains("rust, python, js"),
        "{err}"
    );
    assert!(!d.join("other").exists());
}

/// Python and JavaScript templates are embedded when this build had them: the project gets the
/// name everywhere; else the command says the template is missing from this build.
#[test]
fn other_languages_are_written_from_their_template_or_named_as_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for lang in ["python", "js"] {
        let name = format!("large-debit-{lang}");
        let out = insitu(d, &["plugin", "new", &name, "--lang", lang]);
        if out.status.success() {
            let mut named = false;
            for entry in walk(&d.join(&name)) {
                let t = String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned();
                assert!(
                    !t.contains("insitu-plugin-template"),
                    "{} keeps the template's name",
                    entry.display()
                );
                named |= t.contains(&name);
            }
            assert!(named, "no file of the {lang} project names it");
        } else {
            let err = text(&out);
            assert!(err.contains(&format!("has no {lang} template")), "{err}");
            assert!(!d.join(&name).exists());
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
