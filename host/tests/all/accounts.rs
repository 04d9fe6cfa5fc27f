//! Account names through the API and the CLI: what the operator can create with
//! `POST /api/accounts` or `insitu account add`, and which spelling signs in with
//! `POST /api/tokens`. A name that hides control or formatting
//! characters, mixes scripts to look like another, or reads like an existing name is refused,
//! so that a requester cannot pose as another on the consent screen.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use insitu_core::account::Role;
use insitu_core::pds::Pds;
use insitu_server::limit::RateLimits;
use insitu_server::{AppState, router};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::outside;

const PASSWORD: &str = "correct horse battery";

/// `POST path` with a JSON body (and `token`, if any): the status and the JSON answer.
async fn post(pds: &Arc<Pds>, token: Option<&str>, path: &str, body: Value) -> (u16, Value) {
    let app = router(AppState::new(pds.clone(), RateLimits::default()));
    let mut req = Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = app
        .oneshot(req.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn the_operator_cannot_create_a_name_that_poses_as_another() {
    let dir = tempfile::tempdir().unwrap();
    let pds = Arc::new(Pds::open(dir.path()).unwrap());
    let op = outside::token(&pds, "operator", Role::Operator);
    let create = |name: &str| {
        let body = json!({"name": name, "password": PASSWORD, "role": "organisation"});
        let pds = pds.clone();
        let op = op.clone();
        async move { post(&pds, Some(&op), "/api/accounts", body).await }
    };

    let (status, acme) = create("Acme").await;
    assert_eq!(status, 201, "{acme}");
    assert_eq!(acme["name"], "Acme");
    assert_eq!(create("YFC").await.0, 201);
    assert_eq!(create("TOP").await.0, 201);

    // Every case is checked, and all that went wrong is reported at once.
    let mut wrong = Vec::new();

    // Bad names: 400, saying why.
    for name in [
        "",
        "   ",
        "ac\u{0}me",
        "acme\u{7}",
        "\u{202E}emca", // right-to-left override
        "ac\u{200B}me", // zero-width space
        "\u{423}FC",    // Cyrillic У, Latin FC
        "\u{430}cme",   // Cyrillic а, Latin cme
    ] {
        let (status, body) = create(name).await;
        if status != 400 || body["code"] != "bad_request" {
            wrong.push(format!(
                "{name:?}: want 400 bad_request, got {status} {body}"
            ));
        }
    }

    // Names that read like an existing one: 409, naming it.
    for (name, existing) in [
        ("acme ", "Acme"),
        ("ACME", "Acme"),
        ("\u{FF21}\u{FF23}\u{FF2D}\u{FF25}", "Acme"), // fullwidth ＡＣＭＥ
        ("\u{422}\u{41E}\u{420}", "TOP"),             // Cyrillic ТОР
    ] {
        let (status, body) = create(name).await;
        let names_it = body["message"]
            .as_str()
            .is_some_and(|m| m.contains(&format!("`{existing}`")));
        if status != 409 || !names_it {
            wrong.push(format!(
                "{name:?}: want 409 naming `{existing}`, got {status} {body}"
            ));
        }
    }

    // Single-script names in other scripts are fine, and stored as given.
    for name in [
        "Soci\u{e9}t\u{e9} G\u{e9}n\u{e9}rale",
        "\u{41C}\u{43E}\u{441}\u{43A}\u{432}\u{430}", // Москва
        "\u{6771}\u{4EAC}",                           // 東京
    ] {
        let (status, body) = create(name).await;
        if status != 201 || body["name"] != name {
            wrong.push(format!(
                "{name:?}: want 201 with the name kept, got {status} {body}"
            ));
        }
    }

    // Any spelling of a name signs in as that account.
    let (status, issued) = post(
        &pds,
        None,
        "/api/tokens",
        json!({"name": " ACME", "password": PASSWORD}),
    )
    .await;
    match issued["token"].as_str() {
        Some(token) if status == 201 => {
            let (_, me) = outside::get(pds.clone(), token, "/api/me").await;
            if me["name"] != "Acme" || me["id"] != acme["id"] {
                wrong.push(format!("\" ACME\" signed in as {me}, not as Acme"));
            }
        }
        _ => wrong.push(format!("\" ACME\" did not sign in: {status} {issued}")),
    }

    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// `insitu account add NAME --role organisation` with the password on standard input: whether
/// it succeeded, and what it printed (standard output, then standard error).
fn cli_add(dir: &std::path::Path, name: &str) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_insitu"))
        .arg("--data-dir")
        .arg(dir)
        .args(["account", "add", name, "--role", "organisation"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run insitu");
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// `insitu ARGS` in `dir`: whether it succeeded, and what it printed.
fn cli(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_insitu"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run insitu");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn a_request_asked_from_the_cli_carries_the_organisations_own_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(cli(d, &["person", "add", "Alice"]).0);
    let pkg = d.join("fee-scanner.insitu");
    let pkg = pkg.to_str().unwrap();
    let packed = cli(
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
    assert!(packed.0, "{}", packed.1);
    let installed = cli(d, &["plugin", "install", "--dev", pkg]);
    assert!(installed.0, "{}", installed.1);
    assert!(cli_add(d, "UFC").0);
    let ask = |requester: &str| {
        cli(
            d,
            &[
                "request",
                "ask",
                "--requester",
                requester,
                "--person",
                "1",
                "--plugin",
                "fee-scanner",
                "--purpose",
                "class action",
                "--days",
                "90",
            ],
        )
    };

    // Spellings of the organisation's name are asked as it; look-alikes that are not are
    // refused, saying why.
    for spelling in [" ufc", "\u{FF35}\u{FF26}\u{FF23}", "U\u{200B}FC"] {
        let (ok, out) = ask(spelling);
        assert!(ok, "{spelling:?}: {out}");
    }
    for look_alike in ["\u{423}FC", "\u{202E}CFU"] {
        let (ok, out) = ask(look_alike);
        assert!(
            !ok && out.contains("cannot be used"),
            "{look_alike:?}: {out}"
        );
    }
    let (_, listed) = cli(d, &["request", "list"]);
    assert_eq!(listed.lines().count(), 3, "{listed}");
    for line in listed.lines() {
        assert!(line.contains("  UFC  plugin"), "{listed}");
    }
}

#[test]
fn the_cli_stores_the_normalised_name_and_refuses_look_alikes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ok, out) = cli_add(d, "  \u{FF21}cme  ");
    assert!(ok, "{out}");
    assert!(out.contains("(Acme, Organisation)"), "{out}");
    let (ok, out) = cli_add(d, "ACME");
    assert!(
        !ok && out.contains("taken") && out.contains("`Acme`"),
        "{out}"
    );
    let (ok, out) = cli_add(d, "\u{430}cme");
    assert!(!ok && out.contains("mixes scripts"), "{out}");
    let (ok, out) = cli_add(d, "ac\u{202E}me");
    assert!(!ok && out.contains("U+202E"), "{out}");
}
