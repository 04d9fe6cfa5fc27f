//! The OpenAPI document at `/openapi.json` is valid OpenAPI 3.1, and it is true: every status an
//! operation answers is among its documented responses, and every error is the documented
//! `ErrorBody` with the code for its status.
//!
//! The operations are read from the document itself, so a route added without its answers
//! documented fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, header};
use insitu_core::account::Role;
use insitu_core::pds::Pds;
use insitu_server::limit::{Rate, RateLimits};
use insitu_server::{AppState, MAX_BODY, MAX_UPLOAD, router};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::outside;

/// The error code each status must carry: the table of `ErrorBody`'s documentation.
fn code_for(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "bad_request",
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        409 => "conflict",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "unprocessable",
        429 => "rate_limited",
        500 => "internal",
        _ => return None,
    })
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];
/// An id nothing has.
const UNKNOWN: &str = "999999";

struct Server {
    _dir: tempfile::TempDir,
    pds: Arc<Pds>,
    app: axum::Router,
}

impl Server {
    fn new(limits: RateLimits) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let pds = Arc::new(Pds::open(dir.path()).unwrap());
        let app = router(AppState::new(pds.clone(), limits));
        Server {
            _dir: dir,
            pds,
            app,
        }
    }

    /// A token with all the scopes of a new account `name` with `role`.
    fn token(&self, name: &str, role: Role) -> String {
        outside::token(&self.pds, name, role)
    }

    async fn send(&self, call: &Call) -> Answer {
        let mut req = Request::builder()
            .method(call.method.as_str())
            .uri(&call.uri);
        if let Some(t) = &call.token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        if let Some(ct) = &call.content_type {
            req = req.header(header::CONTENT_TYPE, ct.as_str());
        }
        let mut req = req.body(Body::from(call.body.clone())).unwrap();
        // As `insitu serve` does: the limiter also counts per address.
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 4000))));
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
            .await
            .unwrap();
        Answer {
            status,
            headers,
            body: bytes.to_vec(),
        }
    }
}

/// The served document.
async fn document(s: &Server) -> Value {
    let a = s
        .send(&Call::new("GET", "/openapi.json".into(), None))
        .await;
    assert_eq!(a.status, 200);
    serde_json::from_slice(&a.body).expect("/openapi.json is JSON")
}

struct Call {
    /// What the call provokes, for messages.
    what: String,
    method: String,
    uri: String,
    token: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
}

impl Call {
    fn new(method: &str, uri: String, token: Option<&str>) -> Call {
        Call {
            what: "a call".into(),
            method: method.to_uppercase(),
            uri,
            token: token.map(str::to_string),
            content_type: None,
            body: Vec::new(),
        }
    }
}

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    /// What is wrong with this answer as an error of the API, if anything.
    fn error_body_problem(&self) -> Option<String> {
        let ct = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let text = String::from_utf8_lossy(&self.body);
        if !ct.starts_with("application/json") {
            return Some(format!("content type `{ct}`, body {text:?}"));
        }
        let v: Value = match serde_json::from_slice(&self.body) {
            Ok(v) => v,
            Err(_) => return Some(format!("not JSON: {text:?}")),
        };
        let keys: BTreeSet<&str> = v
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let want = code_for(self.status);
        if keys != BTreeSet::from(["code", "message"])
            || !v["message"].is_string()
            || v["code"].as_str() != want
        {
            return Some(format!("not ErrorBody with code {want:?}: {v}"));
        }
        None
    }
}

/// A `$ref` resolved in `doc`.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// A value that `schema` accepts, with only the required properties: its example, its first
/// enum value, 999999 for an integer (no id has it), `"x"` for a string.
fn sample(doc: &Value, schema: &Value) -> Value {
    let schema = resolve(doc, schema);
    if let Some(e) = schema.get("example") {
        return e.clone();
    }
    if let Some(e) = schema["enum"].as_array().and_then(|e| e.first()) {
        return e.clone();
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(variants) = schema[key].as_array() {
            let v = variants
                .iter()
                .find(|v| v["type"] != "null")
                .expect("a variant");
            return sample(doc, v);
        }
    }
    if let Some(parts) = schema["allOf"].as_array() {
        let mut out = serde_json::Map::new();
        for p in parts {
            if let Value::Object(m) = sample(doc, p) {
                out.extend(m);
            }
        }
        return Value::Object(out);
    }
    let ty = match &schema["type"] {
        Value::Array(types) => types
            .iter()
            .find(|t| *t != "null")
            .cloned()
            .unwrap_or(Value::Null),
        t => t.clone(),
    };
    match ty.as_str() {
        Some("string") => json!("x"),
        Some("integer") => json!(999_999),
        Some("number") => json!(0.5),
        Some("boolean") => json!(false),
        Some("array") => json!([]),
        _ => {
            let mut out = serde_json::Map::new();
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap();
                out.insert(name.into(), sample(doc, &schema["properties"][name]));
            }
            Value::Object(out)
        }
    }
}

fn as_query_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One documented operation, and how to call it well-formed.
struct Operation {
    method: String,
    path: String,
    op: Value,
    /// The path with every parameter an id nothing has.
    path_filled: String,
    /// The required query parameters, sampled.
    query: Vec<(String, String)>,
    /// `application/json` or another (an upload), and a body the operation accepts.
    body: Option<(String, Vec<u8>)>,
}

impl Operation {
    fn all(doc: &Value) -> Vec<Operation> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let params = op["parameters"].as_array().cloned().unwrap_or_default();
                let mut path_filled = path.clone();
                let mut query = Vec::new();
                for p in &params {
                    let name = p["name"].as_str().unwrap();
                    match p["in"].as_str() {
                        Some("path") => {
                            path_filled = path_filled.replace(&format!("{{{name}}}"), UNKNOWN);
                        }
                        Some("query") if p["required"] == true => {
                            query.push((
                                name.to_string(),
                                as_query_value(&sample(doc, &p["schema"])),
                            ));
                        }
                        _ => {}
                    }
                }
                let body = op["requestBody"]["content"].as_object().map(|c| {
                    let (ct, content) = c.iter().next().expect("a content type");
                    let bytes = if ct == "application/json" {
                        sample(doc, &content["schema"]).to_string().into_bytes()
                    } else {
                        b"x".to_vec()
                    };
                    (ct.clone(), bytes)
                });
                out.push(Operation {
                    method: method.to_string(),
                    path: path.clone(),
                    op: op.clone(),
                    path_filled,
                    query,
                    body,
                });
            }
        }
        out
    }

    fn uri(&self, query: &[(String, String)]) -> String {
        let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if q.is_empty() {
            self.path_filled.clone()
        } else {
            format!("{}?{}", self.path_filled, q.join("&"))
        }
    }

    /// A well-formed call, by `token`.
    fn call(&self, what: &str, token: Option<&str>) -> Call {
        let mut c = Call::new(&self.method, self.uri(&self.query), token);
        c.what = what.into();
        if let Some((ct, body)) = &self.body {
            c.content_type = Some(ct.clone());
            c.body = body.clone();
        }
        c
    }

    fn authenticated(&self) -> bool {
        self.op["security"].is_array()
    }

    fn documents(&self, status: u16) -> bool {
        self.op["responses"].get(status.to_string()).is_some()
    }
}

/// (a) The document is OpenAPI 3.1, as utoipa 5 writes it, and a real validator accepts it.
#[tokio::test]
async fn the_served_document_is_valid_openapi_3_1() {
    let s = Server::new(RateLimits::default());
    let doc = document(&s).await;
    assert_eq!(doc["openapi"], "3.1.0", "utoipa 5 writes OpenAPI 3.1");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let (ok, report) = validate(&file);
    assert!(
        ok,
        "openapi-spec-validator refuses /openapi.json:\n{report}"
    );

    // The validator catches the class of mistake this test is for: a query parameter declared
    // in the path.
    let mut broken = doc.clone();
    let params = broken["paths"]["/api/returns"]["post"]["parameters"]
        .as_array_mut()
        .expect("/api/returns takes parameters");
    params[0]["in"] = json!("path");
    std::fs::write(&file, serde_json::to_vec(&broken).unwrap()).unwrap();
    let (ok, report) = validate(&file);
    assert!(
        !ok,
        "the validator accepts a parameter in a path that has none:\n{report}"
    );

    // Every response is described; a success names its schema; an error is an ErrorBody.
    let mut problems = Vec::new();
    for op in Operation::all(&doc) {
        let responses = op.op["responses"].as_object().unwrap();
        for (status, r) in responses {
            let at = format!("{} {} {status}", op.method, op.path);
            if r["description"].as_str().unwrap_or("").trim().is_empty() {
                problems.push(format!("{at}: no description"));
            }
            for (ct, content) in r["content"].as_object().into_iter().flatten() {
                let schema = &content["schema"];
                let named = schema["$ref"].is_string() || schema["items"]["$ref"].is_string();
                if ct == "application/json" && !named {
                    problems.push(format!("{at}: an unnamed schema {schema}"));
                }
                if !status.starts_with('2') && schema["$ref"] != "#/components/schemas/ErrorBody" {
                    problems.push(format!("{at}: an error that is not an ErrorBody"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Runs openapi-spec-validator on `file` as OpenAPI 3.1: whether it accepts it, and its report.
/// Fails if the validator is missing (`scripts/test-deps` installs it).
fn validate(file: &std::path::Path) -> (bool, String) {
    let out = std::process::Command::new("python3")
        .args(["-m", "openapi_spec_validator", "--schema", "3.1"])
        .args(["--validation-errors", "all"])
        .arg(file)
        .output()
        .expect("python3 runs (scripts/test-deps installs what the tests need)");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !report.contains("No module named openapi_spec_validator"),
        "openapi-spec-validator is missing: run scripts/test-deps\n{report}"
    );
    (out.status.success(), report)
}

/// (b) Every operation of the document, called with what provokes each of its refusals (no
/// token, each role, an unknown id, a bad path segment or query string, a body of the wrong
/// content type, malformed, of the wrong shape, too large, too many calls), answers only
/// statuses it documents, and each error is an `ErrorBody` with the code for its status. A
/// method a path does not take answers a JSON 405 with `Allow`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_status_an_operation_answers_is_documented_and_every_error_is_an_error_body() {
    let roomy = Rate {
        per_second: 1e6,
        burst: 1e6,
    };
    let s = Server::new(RateLimits {
        per_token: roomy,
        per_address: roomy,
        asks_per_organisation: roomy,
        guesses_per_name: roomy,
        guesses_per_address: roomy,
    });
    let doc = document(&s).await;
    let ops = Operation::all(&doc);
    assert!(ops.len() > 30, "only {} operations documented", ops.len());
    let roles = [
        ("operator", s.token("operator", Role::Operator)),
        ("person", s.token("alice", Role::Person)),
        ("developer", s.token("developer", Role::Developer)),
        ("organisation", s.token("lab", Role::Organisation)),
        ("officer", s.token("olga", Role::Officer)),
    ];
    let any = roles[0].1.as_str();
    // A server that lets one request through, then limits everyone.
    let tight = Rate {
        per_second: 1e-3,
        burst: 1.0,
    };
    let limited = Server::new(RateLimits {
        per_token: tight,
        per_address: tight,
        asks_per_organisation: tight,
        guesses_per_name: tight,
        guesses_per_address: tight,
    });
    limited
        .send(&Call::new("GET", "/healthz".into(), None))
        .await;

    let mut problems = Vec::new();
    let mut seen: BTreeMap<u16, usize> = BTreeMap::new();
    for op in &ops {
        let at = format!("{} {}", op.method.to_uppercase(), op.path);
        // (call, the status it must answer, if the call is bound to one)
        let mut calls: Vec<(Call, Option<u16>)> = Vec::new();
        calls.push((op.call("no token", None), op.authenticated().then_some(401)));
        for (role, token) in &roles {
            calls.push((
                op.call(&format!("the {role}, ids nothing has"), Some(token)),
                None,
            ));
        }
        if op.path.contains('{') {
            let mut c = op.call("a path segment that is not an id", Some(any));
            c.uri = c.uri.replace(UNKNOWN, "not-an-id");
            let numeric = op.op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["in"] == "path" && p["schema"]["type"] == "integer");
            calls.push((c, numeric.then_some(400)));
        }
        for p in op.op["parameters"].as_array().into_iter().flatten() {
            let ty = &p["schema"]["type"];
            let typed = [ty.clone()]
                .into_iter()
                .chain(ty.as_array().cloned().unwrap_or_default())
                .any(|t| t == "integer" || t == "boolean");
            if p["in"] == "query" && typed {
                let name = p["name"].as_str().unwrap();
                let mut query = op.query.clone();
                query.retain(|(k, _)| k != name);
                query.push((name.into(), "not-a-value".into()));
                let mut c = op.call(&format!("query `{name}` that does not parse"), Some(any));
                c.uri = op.uri(&query);
                calls.push((c, Some(400)));
            }
        }
        match &op.body {
            Some((ct, _)) if ct == "application/json" => {
                let mut c = op.call("a JSON body sent as text/plain", Some(any));
                c.content_type = Some("text/plain".into());
                calls.push((c, Some(415)));
                let mut c = op.call("a body that is not JSON", Some(any));
                c.body = b"{not json".to_vec();
                calls.push((c, Some(400)));
                let mut c = op.call("JSON of another shape", Some(any));
                c.body = b"\"a string\"".to_vec();
                calls.push((c, Some(422)));
                let mut c = op.call("a JSON body over the limit", Some(any));
                c.body = vec![b' '; MAX_BODY + 1];
                calls.push((c, Some(413)));
            }
            Some(_) => {
                let mut c = op.call("an upload over the limit", Some(any));
                c.body = vec![b'x'; MAX_UPLOAD + 1];
                calls.push((c, Some(413)));
            }
            None => {}
        }
        let mut answers: Vec<(Call, Option<u16>, Answer)> = Vec::new();
        for (c, want) in calls {
            let a = s.send(&c).await;
            answers.push((c, want, a));
        }
        let c = op.call("too many calls", Some(any));
        let a = limited.send(&c).await;
        answers.push((c, Some(429), a));

        for (c, want, a) in &answers {
            *seen.entry(a.status).or_default() += 1;
            let call = format!("{at} ({}: {} {})", c.what, c.method, c.uri);
            if let Some(want) = want
                && a.status != *want
            {
                problems.push(format!(
                    "{call}: answered {}, not {want}: {}",
                    a.status,
                    String::from_utf8_lossy(&a.body)
                ));
            }
            if !op.documents(a.status) {
                problems.push(format!("{call}: answered {}, undocumented", a.status));
            }
            if a.status >= 400
                && let Some(p) = a.error_body_problem()
            {
                problems.push(format!("{call}: answered {}, {p}", a.status));
            }
        }
    }

    // The methods a path does not take: a JSON 405 that says which it takes.
    let paths: BTreeSet<&str> = ops.iter().map(|o| o.path.as_str()).collect();
    for path in paths {
        let taken: BTreeSet<String> = ops
            .iter()
            .filter(|o| o.path == path)
            .map(|o| o.method.to_uppercase())
            .collect();
        let filled = &ops.iter().find(|o| o.path == path).unwrap().path_filled;
        for method in METHODS.map(str::to_uppercase) {
            if taken.contains(&method) {
                continue;
            }
            let a = s.send(&Call::new(&method, filled.clone(), Some(any))).await;
            *seen.entry(a.status).or_default() += 1;
            let allow = a
                .headers
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let allowed: BTreeSet<String> = allow.split(',').map(|m| m.trim().into()).collect();
            if a.status != 405 || !taken.is_subset(&allowed) {
                problems.push(format!(
                    "{method} {path}: answered {} with Allow `{allow}`, not 405 allowing {taken:?}",
                    a.status
                ));
            }
            if let Some(p) = a.error_body_problem() {
                problems.push(format!("{method} {path}: answered {}, {p}", a.status));
            }
        }
    }
    // A path that does not exist.
    let a = s
        .send(&Call::new("GET", "/api/no-such-thing".into(), Some(any)))
        .await;
    if a.status != 404 {
        problems.push(format!("GET /api/no-such-thing: answered {}", a.status));
    }
    if let Some(p) = a.error_body_problem() {
        problems.push(format!("GET /api/no-such-thing: {p}"));
    }

    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // The calls provoked every kind of answer, or the test proved less than it says.
    for status in [200, 201, 400, 401, 403, 404, 405, 413, 415, 422, 429] {
        assert!(
            seen.contains_key(&status),
            "no call answered {status}: {seen:?}"
        );
    }
}
