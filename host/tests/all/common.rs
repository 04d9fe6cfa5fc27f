//! What the tests share beyond `insitu-testkit`'s set-up: run outcomes and scalars, records
//! read back from a store, and the built binary serving or adding accounts.
#![allow(dead_code)]

use insitu_core::meter::{FailureReason, Outcome, RunRecord};
use insitu_core::output::{Money, Scalar};
use insitu_core::store::{KeyedRecord, Store, TimeRange, Value};

pub fn text(s: &str) -> Scalar {
    Scalar::Text(s.into())
}

pub fn eur(minor: i64) -> Scalar {
    Scalar::Money(Money {
        minor,
        currency: "EUR".into(),
    })
}

pub fn failure(r: &RunRecord) -> (FailureReason, String) {
    match &r.outcome {
        Outcome::Failed { reason, message } => (*reason, message.clone()),
        Outcome::Succeeded => panic!("expected the run to fail, it succeeded with {:?}", r.output),
        Outcome::Running => panic!("expected the run to fail, it is still running"),
    }
}

pub const ALL_FIELDS: &[&str] = &[
    "account",
    "booked",
    "amount",
    "counterparty",
    "label",
    "reference",
];

/// Writes records of `collection` from named values (fields not named are null).
pub fn write_named(store: &dyn Store, person: u64, collection: &str, rows: &[Vec<(&str, Value)>]) {
    let schema = store.collection(collection).unwrap();
    let recs: Vec<KeyedRecord> = rows
        .iter()
        .enumerate()
        .map(|(i, named)| {
            let values: Vec<Value> = schema
                .fields
                .iter()
                .map(|f| {
                    named
                        .iter()
                        .find(|(n, _)| *n == f.name)
                        .map(|(_, v)| v.clone())
                        .unwrap_or(Value::Null)
                })
                .collect();
            let time = values
                .iter()
                .find_map(|v| match v {
                    Value::Timestamp(t) => Some(*t),
                    _ => None,
                })
                .unwrap_or(0);
            KeyedRecord {
                id: i as u64 + 1,
                time,
                values,
            }
        })
        .collect();
    store
        .write_records(
            person,
            collection,
            &recs,
            insitu_core::store::Source::File("fixture"),
        )
        .unwrap();
}

/// `person`'s stored transactions as the store has them: (stored id, every value in schema
/// order).
pub fn stored_transactions(store: &dyn Store, person: u64) -> Vec<(u64, Vec<Value>)> {
    stored_records(store, person, "bank.transactions")
}

/// `person`'s records in `collection` as the store has them: (stored id, every value in
/// schema order).
pub fn stored_records(store: &dyn Store, person: u64, collection: &str) -> Vec<(u64, Vec<Value>)> {
    let schema = store.collection(collection).unwrap();
    let fields: Vec<String> = schema.fields.iter().map(|f| f.name.clone()).collect();
    let mut cur = store
        .scan(person, collection, TimeRange::ALL, &fields)
        .unwrap();
    let mut out = Vec::new();
    while let Some((b, _)) = cur.next_batch(100).unwrap() {
        for i in 0..b.len() {
            out.push((b.ids[i], b.columns.iter().map(|c| c.value(i)).collect()));
        }
    }
    out
}

/// Adds an account to the store in `dir` through the real binary (`insitu account add`, the
/// password on standard input); returns what it printed.
pub fn add_account_with_cli(
    dir: &std::path::Path,
    name: &str,
    role: &str,
    password: &str,
) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut add = Command::new(env!("CARGO_BIN_EXE_insitu"))
        .arg("--data-dir")
        .arg(dir)
        .args(["account", "add", name, "--role", role])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let out = add.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The real binary serving the store in `dir` on a loopback port, and its address.
pub fn serve_binary(dir: &std::path::Path) -> (std::process::Child, String) {
    serve_binary_with(dir, &[])
}

/// [`serve_binary`] with more of `serve`'s options.
pub fn serve_binary_with(dir: &std::path::Path, options: &[&str]) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut server = Command::new(env!("CARGO_BIN_EXE_insitu"))
        .arg("--data-dir")
        .arg(dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(options)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let first = BufReader::new(server.stdout.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    let addr = first
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("{first}"))
        .to_string();
    (server, addr)
}

/// Sends SIGTERM to a [`serve_binary`] server and waits for it: its exit and its log.
pub fn stop_binary(mut server: std::process::Child) -> (std::process::ExitStatus, String) {
    use std::io::Read;
    let status = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = server.wait().unwrap();
    let mut log = String::new();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    (exit, log)
}

/// One HTTP/1.1 exchange on a new connection: `request` as written, the whole answer as read
/// until the server closes (send `Connection: close`).
pub fn exchange(addr: &str, request: &str) -> String {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    answer
}

/// The id of the person account `name` stands for.
pub fn person_of(store: &dyn Store, name: &str) -> u64 {
    store
        .account_by_name(name)
        .unwrap()
        .and_then(|a| a.person)
        .unwrap_or_else(|| panic!("{name} is no person's account"))
}

/// The multipart form of the page `/import`: CSRF token, `bank.transactions`, and `content`
/// as the file `filename`. Returns the content type and the body.
pub fn import_form(csrf: &str, filename: &str, content: &str) -> (&'static str, String) {
    let body = format!(
        "--B\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --B\r\nContent-Disposition: form-data; name=\"collection\"\r\n\r\nbank.transactions\r\n\
         --B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: text/csv\r\n\r\n{content}\r\n--B--\r\n"
    );
    ("multipart/form-data; boundary=B", body)
}

/// A request to an in-process router: `body` with its content type (none when empty).
pub fn request(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, Vec<u8>)>,
) -> axum::http::Request<axum::body::Body> {
    let mut req = axum::http::Request::builder().method(method).uri(path);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let body = match body {
        Some((content_type, bytes)) => {
            if !content_type.is_empty() {
                req = req.header("content-type", content_type);
            }
            axum::body::Body::from(bytes)
        }
        None => axum::body::Body::empty(),
    };
    req.body(body).unwrap()
}

/// `app`'s answer to `req`: its status, headers and whole body.
pub async fn answer(
    app: &axum::Router,
    req: axum::http::Request<axum::body::Body>,
) -> (
    axum::http::StatusCode,
    axum::http::HeaderMap,
    axum::body::Bytes,
) {
    use tower::ServiceExt;
    let resp = app.clone().oneshot(req).await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
        .await
        .unwrap();
    (status, headers, bytes)
}
