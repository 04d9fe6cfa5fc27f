//! The built `insitu` binary, run by a test on a data directory.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

pub fn insitu(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_insitu"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run insitu")
}

/// Runs a command that must succeed; returns its standard output.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = insitu(dir, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "insitu {args:?} failed: {}{}",
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Writes a bank statement CSV of `total` distinct card payments, one a minute: the file the
/// crash tests kill imports of.
pub fn write_statement(file: &Path, total: usize) {
    use std::io::Write;
    let mut w = std::io::BufWriter::new(std::fs::File::create(file).unwrap());
    writeln!(w, "account,booked,amount,counterparty,label,reference").unwrap();
    for i in 0..total {
        writeln!(
            w,
            "FR76,{},-{}.{:02} EUR,Shop {},CB SHOP {},",
            1_600_000_000_000i64 + i as i64 * 60_000,
            i % 500,
            i % 100,
            i % 37,
            i
        )
        .unwrap();
    }
}

/// The crash tests' import of `file` into person 1's bank transactions.
pub fn import_args(file: &Path) -> [&str; 6] {
    [
        "import",
        "--person",
        "1",
        "--collection",
        "bank.transactions",
        file.to_str().unwrap(),
    ]
}

/// Checks that the import run after the crashes added exactly the `total` records minus the
/// `survived` ones, and found those already present.
pub fn assert_adds_the_rest(out: &str, total: usize, survived: u64) {
    assert!(
        out.contains(&format!(
            "{} added, {survived} already present",
            total as u64 - survived
        )),
        "{out}"
    );
}

/// `insitu proposal review 1` by the officer `olga` with `decision`, then `more` flags.
pub fn review_args<'a>(decision: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "proposal",
        "review",
        "1",
        "--officer",
        "olga",
        "--decision",
        decision,
    ];
    args.extend_from_slice(more);
    args
}
