//! The README's first command: the demo runs every scenario end to end on a fresh store, and
//! its books balance.

use std::process::Command;

#[test]
fn the_demo_runs_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_insitu-demo"))
        .args(["--keep", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("the trial balance: 0.00 EUR"), "{stdout}");
    // Co-design: votes withheld before the close, the proposal funded, its escrow emptied,
    // and the proof of version 1 checked against the audit chain.
    for shown in [
        "option 0 \"A round dial\": not shown",
        "(version 2, Funded)",
        "escrow 1 is back to 0.00 EUR",
        "can prove what version 1 said",
        "buys a trend report over 120 consenting pupils",
        "released with noise of scale 1.1",
    ] {
        assert!(stdout.contains(shown), "missing `{shown}`:\n{stdout}");
    }
    // Kept, as asked: a store the command line can open.
    assert!(data.join("insitu.redb").exists(), "{stdout}");
}

/// A directory that already holds a store is refused, and the store is left alone.
#[test]
fn the_demo_refuses_a_directory_that_holds_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("insitu.redb"), b"not ours").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_insitu-demo"))
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("already holds a store"), "{stderr}");
    assert_eq!(
        std::fs::read(data.join("insitu.redb")).unwrap(),
        b"not ours"
    );
}
