//! The `insitu` binary as a person uses it, including a crash in the middle of an import
//! (invariant 6: nothing acknowledged is lost, no half batch).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::cli_common;

use cli_common::{insitu, ok};

fn fails(dir: &Path, args: &[&str]) -> String {
    let out = insitu(dir, args);
    assert!(!out.status.success(), "insitu {args:?} should have failed");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_person_imports_installs_grants_runs_and_audits() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["init"]);
    assert!(ok(d, &["person", "add", "Alice"]).contains("added person 1"));
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/statement.csv");
    assert!(
        ok(
            d,
            &[
                "import",
                "--person",
                "1",
                "--collection",
                "bank.transactions",
                fixture
            ]
        )
        .contains("5 added")
    );
    // A developer creates a key, packs and signs; the operator trusts the key.
    let key = d.join("publisher.key");
    let keygen = ok(d, &["publisher", "keygen", "--out", key.to_str().unwrap()]);
    let public = keygen
        .split("public key: ")
        .nth(1)
        .unwrap()
        .trim()
        .to_string();
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
    let unsigned = fails(d, &["plugin", "install", pkg]);
    assert!(unsigned.contains("not signed"), "{unsigned}");
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
    let untrusted = fails(d, &["plugin", "install", pkg]);
    assert!(untrusted.contains("does not trust"), "{untrusted}");
    ok(d, &["publisher", "trust", "insitu-examples", &public]);
    assert!(
        ok(d, &["package", "verify", pkg])
            .contains("valid signature by trusted publisher insitu-examples")
    );
    let inspect = ok(d, &["package", "inspect", pkg]);
    assert!(
        inspect.contains(
            "reads amount, label, counterparty of bank.transactions over the last 24 months"
        ),
        "{inspect}"
    );
    let installed = ok(d, &["plugin", "install", pkg]);
    let digest = installed.split_whitespace().last().unwrap().to_string();
    assert!(ok(d, &["plugin", "list"]).contains("signed by insitu-examples"));
    assert!(
        ok(
            d,
            &[
                "grant",
                "add",
                "--person",
                "1",
                "--plugin",
                &digest[..10],
                "--fields",
                "amount,label,counterparty"
            ]
        )
        .contains("grant 1")
    );
    let out = ok(
        d,
        &[
            "run",
            "--person",
            "1",
            "--grant",
            "1",
            "-p",
            "rule=agency-fee",
            "-p",
            "pattern=frais de gestion",
            "-p",
            "agreed=30.00 EUR",
        ],
    );
    assert!(
        out.contains("charged 45.00 EUR where 30.00 EUR was agreed"),
        "{out}"
    );
    assert!(out.contains("total-overcharge = 15.00 EUR"), "{out}");
    assert!(ok(d, &["runs"]).contains("ok"));
    // The run had the manifest's limits (128 MiB, not the host's default 256 MiB), as runs
    // through the API have; a flag overrides one of them for one run.
    ok(
        d,
        &[
            "run",
            "--person",
            "1",
            "--grant",
            "1",
            "--fuel",
            "900000000",
            "-p",
            "rule=duplicate",
        ],
    );
    {
        let pds = insitu_core::pds::Pds::open(d).unwrap();
        let limits: Vec<_> = pds
            .store
            .runs(Some(1))
            .unwrap()
            .iter()
            .map(|r| r.limits.map(|l| (l.fuel, l.memory, l.deadline.as_millis())))
            .collect();
        assert_eq!(
            limits,
            [
                Some((20_000_000_000, 128 << 20, 30_000)),
                Some((900_000_000, 128 << 20, 30_000))
            ]
        );
    }
    let audit = ok(d, &["audit", "--person", "1"]);
    assert!(audit.contains("read 5 records of person 1"), "{audit}");
    assert!(audit.contains("audit chain verified"), "{audit}");
    ok(d, &["grant", "revoke", "1"]);
    let err = fails(
        d,
        &[
            "run",
            "--person",
            "1",
            "--grant",
            "1",
            "-p",
            "rule=duplicate",
        ],
    );
    assert!(err.contains("grant 1 was revoked"), "{err}");
}

#[test]
fn bad_input_gets_one_clear_line_and_a_non_zero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let junk = d.join("junk.wasm");
    std::fs::write(&junk, b"definitely not wasm").unwrap();
    let err = fails(d, &["plugin", "install", junk.to_str().unwrap()]);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("not a WebAssembly file"), "{err}");
    let err = fails(d, &["import", "--person", "7", "/no/such/file.csv"]);
    assert!(err.contains("no person with id 7"), "{err}");
    // The command line adds the hint; the store's own message has none (the API shows it).
    assert!(
        err.contains("hint: list people with `insitu person list`"),
        "{err}"
    );
    let err = fails(
        d,
        &[
            "grant", "add", "--person", "1", "--plugin", "abc", "--fields", "amount",
        ],
    );
    assert!(err.contains("no installed plugin matches `abc`"), "{err}");
}

#[test]
fn a_crash_mid_import_keeps_every_acknowledged_batch_and_no_half_batch() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["person", "add", "Bob"]);
    let file = d.join("big.csv");
    let total = 400_000usize;
    crate::cli_common::write_statement(&file, total);
    let mut child = Command::new(env!("CARGO_BIN_EXE_insitu"))
        .arg("--data-dir")
        .arg(d)
        .args(cli_common::import_args(&file))
        .env("RUST_LOG", "insitu=debug")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut acknowledged = 0u64;
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.contains("batch committed") {
            acknowledged = line
                .split("done=")
                .nth(1)
                .and_then(|s| s.split_whitespace().next())
                .unwrap()
                .parse()
                .unwrap();
            child.kill().unwrap();
            break;
        }
    }
    child.wait().unwrap();
    assert!(acknowledged > 0, "no batch was acknowledged");
    let listed = ok(d, &["collection", "list", "--person", "1"]);
    let count: u64 = listed
        .split("(")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        count >= acknowledged,
        "acknowledged {acknowledged} records but only {count} survived"
    );
    assert!(
        count < total as u64,
        "the import finished before the kill; the test proved nothing"
    );
    assert_eq!(
        count % insitu_core::import::BATCH as u64,
        0,
        "a half batch survived: {count}"
    );
    assert!(ok(d, &["audit", "verify"]).contains("audit chain verified"));
    let again = ok(d, &cli_common::import_args(&file));
    cli_common::assert_adds_the_rest(&again, total, count);
}

#[test]
fn an_export_folder_imports_what_it_recognises_and_names_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["init"]);
    ok(d, &["person", "add", "Alice"]);
    let export = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../formats/tests/fixtures/linkedin"
    );
    let out = insitu(d, &["import", "--person", "1", export]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        !out.status.success(),
        "a bad file in the folder must fail the command"
    );
    assert!(
        stdout.contains("not imported: ")
            && stdout.contains("Connections.csv (format not recognised"),
        "{stdout}"
    );
    assert!(
        stdout.contains("(LinkedIn Positions.csv) into career.positions: 3 records read, 3 added"),
        "{stdout}"
    );
    assert!(
        stdout.contains("into career.skills: 3 records read, 3 added"),
        "{stdout}"
    );
    assert!(
        stderr.contains("Positions-bad.csv:2: field `Finished On`: ends before it starts"),
        "{stderr}"
    );
    // `Present` for a current position: the error lists the date forms that are read.
    assert!(
        stderr.contains(
            "Positions-present.csv:2: field `Finished On`: `Present` is not a date like \
             `Mar 2019`, `March 2019`, `2019` or `2019-03-01` (an empty end date means a \
             current position)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("2 of 5 files were not imported"),
        "{stderr}"
    );
    let list = ok(d, &["collection", "list", "--person", "1"]);
    assert!(list.contains("career.education"), "{list}");
    // A QIF file without the options it needs: the error says which to pass.
    let qif = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../formats/tests/fixtures/qif/us-checking.qif"
    );
    let err = fails(d, &["import", "--person", "1", qif]);
    assert!(err.contains("pass --currency"), "{err}");
    let out = ok(
        d,
        &[
            "import",
            "--person",
            "1",
            "--currency",
            "USD",
            "--account",
            "Checking",
            "--date-order",
            "mdy",
            qif,
        ],
    );
    assert!(out.contains("(QIF) into bank.transactions"), "{out}");
    let err = fails(d, &["import", "--person", "1", "--date-order", "ydm", qif]);
    assert!(
        err.contains("--date-order: the date order is `dmy`, `mdy` or `ymd`, not `ydm`"),
        "{err}"
    );
    // Year-first dates: read as such when asked, and a year-3 date is refused unless allowed.
    let ymd = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../formats/tests/fixtures/qif/ymd-two-digit-years.qif"
    );
    let args = [
        "import",
        "--person",
        "1",
        "--currency",
        "JPY",
        "--account",
        "A",
    ];
    let err = fails(d, &[&args[..], &["--date-order", "dmy", ymd]].concat());
    assert!(err.contains("reads as 0003-03-13, before 1900"), "{err}");
    assert!(err.contains("pass --any-date"), "{err}");
    let out = ok(d, &[&args[..], &["--date-order", "ymd", ymd]].concat());
    assert!(out.contains("(QIF) into bank.transactions"), "{out}");
}

#[test]
fn an_unbalanced_statement_imports_on_request_and_every_record_left_out_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["init"]);
    ok(d, &["person", "add", "Alice"]);
    let camt = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../formats/tests/fixtures/camt/unbalanced.xml"
    );
    let err = fails(d, &["import", "--person", "1", camt]);
    assert!(err.contains("does not add up"), "{err}");
    let err = fails(d, &["import", "--person", "1", "--unbalanced=maybe", camt]);
    assert!(err.contains("`refuse` or `import`, not `maybe`"), "{err}");
    let out = ok(d, &["import", "--person", "1", "--unbalanced=import", camt]);
    assert!(
        out.contains("note: line 8: Stmt 1 (") && out.contains("(--unbalanced=import)"),
        "{out}"
    );
    assert!(out.contains("4 records read, 4 added"), "{out}");
    // Again: each record already present is named by its line.
    let out = ok(d, &["import", "--person", "1", "--unbalanced=import", camt]);
    assert!(
        out.contains("already present: ") && out.contains("unbalanced.xml: line(s) "),
        "{out}"
    );
    assert!(
        out.contains("0 added, 4 already present, 0 skipped"),
        "{out}"
    );
}

#[test]
fn a_secret_key_is_written_private_and_a_readable_one_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = d.join("me.key");
    let k = key.to_str().unwrap();
    ok(d, &["publisher", "keygen", "--out", k]);
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
    // Never over an existing key.
    assert!(fails(d, &["publisher", "keygen", "--out", k]).contains("never overwritten"));
    let pkg = d.join("p.insitu");
    let p = pkg.to_str().unwrap();
    ok(
        d,
        &[
            "package",
            "pack",
            insitu_plugins::NOOP,
            "--manifest",
            insitu_plugins::NOOP_MANIFEST,
            "--out",
            p,
        ],
    );
    let sign = ["package", "sign", p, "--publisher", "me", "--key", k];
    // Making a key, packing and signing need no store: none is created.
    let nowhere = d.join("no-store-here");
    ok(&nowhere, &sign);
    assert!(!nowhere.exists(), "signing created a data directory");
    let other = d.join("other.key");
    ok(
        &nowhere,
        &["publisher", "keygen", "--out", other.to_str().unwrap()],
    );
    assert!(!nowhere.exists(), "keygen created a data directory");
    ok(d, &sign);
    // A key others can read may have leaked: refused, with the fix named.
    for loose in [0o644, 0o640, 0o604, 0o620] {
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(loose)).unwrap();
        let refused = fails(d, &sign);
        assert!(
            refused.contains("can be read by others") && refused.contains("chmod 600"),
            "{loose:o}: {refused}"
        );
    }
}

#[test]
fn a_command_whose_reader_went_away_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["init"]);
    for name in ["Alice", "Bob"] {
        ok(d, &["person", "add", name]);
    }
    // `insitu person list | head -0`: the reading end is closed before the command writes.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    for args in [
        &["person", "list"][..],
        &["collection", "list"],
        &["--help"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_insitu"))
            .arg("--data-dir")
            .arg(d)
            .args(args)
            .stdout(writer.try_clone().unwrap())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{args:?}: {stderr}"
        );
        // Ended by SIGPIPE, as `cat` or `ls` would be, or successfully: never a panic's 101.
        use std::os::unix::process::ExitStatusExt;
        assert!(
            out.status.signal() == Some(libc::SIGPIPE) || out.status.success(),
            "{args:?}: {:?}",
            out.status
        );
    }
}

/// `audit checkpoint` makes the operator's key (private) and publishes a signed checkpoint;
/// `audit verify` checks every chain against it, `--person` one chain and its inclusion, and
/// both say which entries are not anchored yet.
#[test]
fn checkpoints_anchor_the_chains_and_verify_says_what_is_not_anchored_yet() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["init"]);
    ok(d, &["person", "add", "Alice"]);
    ok(d, &["person", "add", "Bob"]);
    let none = ok(d, &["audit", "verify", "--person", "1"]);
    assert!(
        none.contains("audit chain verified: person 1") && none.contains("no checkpoint yet"),
        "{none}"
    );
    let published = ok(d, &["audit", "checkpoint"]);
    assert!(published.contains("checkpoint 1 published"), "{published}");
    let key = d.join("operator.key");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
    let all = ok(d, &["audit", "verify"]);
    assert!(
        all.contains("audit chain verified")
            && all.contains("checkpoint 1 verified (signature and root) and anchors every entry"),
        "{all}"
    );
    let one = ok(d, &["audit", "verify", "--person", "1"]);
    assert!(
        one.contains("checkpoint 1 verified and anchors every entry"),
        "{one}"
    );
    // Bob's chain grows after the checkpoint: not anchored yet, until the next one.
    ok(d, &["person", "erase", "2", "--yes"]);
    let later = ok(d, &["audit", "verify", "--person", "2"]);
    assert!(
        later.contains("1 entries after it not anchored yet"),
        "{later}"
    );
    assert!(ok(d, &["audit", "checkpoint"]).contains("checkpoint 2 published"));
    assert!(
        ok(d, &["audit", "verify", "--person", "2"]).contains("anchors every entry"),
        "the new checkpoint anchors it"
    );
    // A key others can read is refused.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(fails(d, &["audit", "checkpoint"]).contains("can be read by others"));
}

/// Co-design from the command line: a proposal waits for the patent officer, members see it
/// only once approved, comment under a pseudonym (or a name they choose), vote and pledge,
/// withdraw; the organisation's proof of what it submitted holds, and a changed text fails.
#[test]
fn a_proposal_goes_from_review_to_pledges_and_its_proof_holds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["init"]);
    ok(d, &["person", "add", "Alice"]);
    ok(d, &["person", "add", "Bob"]);
    // A proposal's content as flags, with `description` (submit and revise take the same).
    let content = |command: &'static str, description: &'static str| -> Vec<&'static str> {
        let mut args = vec!["proposal", command];
        if command == "revise" {
            args.push("1");
        }
        args.extend([
            "--org",
            "thermo",
            "--title",
            "A thermostat",
            "--description",
            description,
            "--option",
            "Round",
            "--option",
            "Square",
            "--goal",
            "100.00 EUR",
            "--days",
            "3",
            "--tier",
            "Backer:20.00:the thermostat",
        ]);
        args
    };
    let submit = ok(d, &content("submit", "It learns."));
    assert!(
        submit.contains("proposal 1 submitted by thermo"),
        "{submit}"
    );
    // Not public yet: a member is told there is no such proposal, as for one that does not exist.
    let hidden = fails(
        d,
        &["pledge", "add", "1", "--person", "1", "--amount", "30.00"],
    );
    assert!(hidden.contains("no proposal 1"), "{hidden}");
    assert!(!ok(d, &["proposal", "list", "--as", "person:1"]).contains("A thermostat"));
    assert!(ok(d, &["proposal", "queue"]).contains("A thermostat"));
    let no_reason = fails(d, &cli_common::review_args("reject", &[]));
    assert!(
        no_reason.contains("the reasons must not be empty"),
        "{no_reason}"
    );
    ok(
        d,
        &cli_common::review_args("request-changes", &["--reasons", "Cite the study."]),
    );
    assert!(ok(d, &["proposal", "show", "1", "--as", "org:thermo"]).contains("Cite the study."));
    ok(d, &content("revise", "It learns, as study 1 shows."));
    ok(d, &cli_common::review_args("approve", &[]));
    ok(
        d,
        &[
            "proposal",
            "comment",
            "1",
            "--person",
            "1",
            "--text",
            "Heat pumps?",
        ],
    );
    ok(
        d,
        &[
            "proposal",
            "comment",
            "1",
            "--person",
            "2",
            "--text",
            "Wooden case",
            "--suggest",
            "--sign-as",
            "Bob B.",
        ],
    );
    ok(
        d,
        &["proposal", "vote", "1", "--person", "1", "--choice", "1"],
    );
    let bad_choice = fails(
        d,
        &["proposal", "vote", "1", "--person", "2", "--choice", "7"],
    );
    assert!(bad_choice.contains("not a choice"), "{bad_choice}");
    let pledge = ok(
        d,
        &["pledge", "add", "1", "--person", "1", "--amount", "30.00"],
    );
    assert!(
        pledge.contains("30.00 EUR held in escrow") && pledge.contains("the thermostat"),
        "{pledge}"
    );
    ok(
        d,
        &["pledge", "add", "1", "--person", "2", "--amount", "5.00"],
    );
    let bad_amount = fails(
        d,
        &["pledge", "add", "1", "--person", "2", "--amount", "0.00"],
    );
    assert!(bad_amount.contains("positive amount"), "{bad_amount}");
    let theft = fails(d, &["pledge", "withdraw", "1", "1", "--person", "2"]);
    assert!(theft.contains("no pledge 1"), "{theft}");
    assert!(
        ok(d, &["pledge", "withdraw", "1", "2", "--person", "2"]).contains("5.00 EUR refunded")
    );

    let org = ok(d, &["proposal", "show", "1", "--as", "org:thermo"]);
    assert!(org.contains("pledged 30.00 EUR in 1 pledges"), "{org}");
    assert!(
        org.contains("comment by member-") && org.contains("suggestion by Bob B."),
        "{org}"
    );
    assert!(
        !org.contains("Alice"),
        "the organisation sees no unsigned name: {org}"
    );
    assert!(
        org.contains("\"Round\": not shown"),
        "votes withheld before the close: {org}"
    );
    let balances = ok(d, &["ledger", "balances"]);
    assert!(balances.contains("escrow:1"), "{balances}");

    let proof = d.join("proof.json");
    ok(
        d,
        &[
            "proposal",
            "prove",
            "1",
            "--version",
            "1",
            "--org",
            "thermo",
            "--out",
            proof.to_str().unwrap(),
        ],
    );
    assert!(ok(d, &["proposal", "verify", proof.to_str().unwrap()]).contains("proof holds"));
    let forged = std::fs::read_to_string(&proof)
        .unwrap()
        .replace("It learns.", "It learns, and flies.");
    std::fs::write(&proof, forged).unwrap();
    let refused = fails(d, &["proposal", "verify", proof.to_str().unwrap()]);
    assert!(refused.contains("the text was changed"), "{refused}");
    assert!(ok(d, &["audit", "verify"]).contains("audit chain verified"));
}
