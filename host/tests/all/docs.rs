//! The documents agree with the code they describe: the WIT package's version is written once,
//! in `wit/plugin.wit`, and every document, template or message that names it names that one.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The version in `package insitu:plugin@X;`.
fn wit_version() -> String {
    let wit = std::fs::read_to_string(root().join("wit/plugin.wit")).unwrap();
    let line = wit
        .lines()
        .find(|l| l.starts_with("package insitu:plugin@"))
        .expect("wit/plugin.wit declares its package");
    line.trim_start_matches("package insitu:plugin@")
        .trim_end_matches(';')
        .to_string()
}

/// Every text file under `dir` with one of `exts`, skipping build output and dependencies.
fn files(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            if !matches!(
                name.as_str(),
                "target" | "node_modules" | ".git" | "fixtures"
            ) {
                files(&p, exts, out);
            }
        } else if exts.iter().any(|x| name.ends_with(x)) {
            out.push(p);
        }
    }
}

#[test]
fn every_document_names_the_wit_packages_own_version() {
    let version = wit_version();
    assert!(!version.is_empty() && version.chars().next().unwrap().is_ascii_digit());
    let mut all = Vec::new();
    for dir in ["", "docs", "sdk", "host/src", "kit", "plugins"] {
        let exts = [".md", ".rs", ".py", ".js", ".json", ".toml", ".wit"];
        if dir.is_empty() {
            for e in std::fs::read_dir(root()).unwrap().flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                if n.ends_with(".md") {
                    all.push(e.path());
                }
            }
        } else {
            files(&root().join(dir), &exts, &mut all);
        }
    }
    assert!(all.len() > 20, "{all:?}");
    let mut wrong = Vec::new();
    for f in &all {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        for (i, line) in text.lines().enumerate() {
            let mut rest = line;
            while let Some(at) = rest.find("insitu:plugin@") {
                let v: String = rest[at + "insitu:plugin@".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.')
                    .collect();
                let v = v.trim_end_matches('.');
                // `insitu:plugin@` alone (a prefix searched for) names no version.
                if !v.is_empty() && v != version {
                    wrong.push(format!("{}:{}: {v}", f.display(), i + 1));
                }
                rest = &rest[at + 1..];
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "these name another version than wit/plugin.wit's {version}: {wrong:?}"
    );
}
