//! The HTTP layer under clients that misbehave, on a real socket: slow and silent connections
//! are cut by the header-read (idle) timeout, a stalled or endless body by the body and
//! request timeouts, the connection cap holds and `/healthz` answers once idle connections
//! time out; page forms take small bodies and only the upload routes large ones; a handler's
//! panic is a JSON 500; every page and API answer carries the security headers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use insitu_core::account::{self, Role};
use insitu_core::pds::Pds;
use insitu_server::{AppState, ServerLimits, limit::RateLimits, router, router_with};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;

use crate::common;

const PASSWORD: &str = "correct horse battery";

/// A server on a loopback port with `limits`, stopped when dropped.
struct Served {
    addr: SocketAddr,
    pds: Arc<Pds>,
    _stop: tokio::sync::oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

async fn serve(limits: ServerLimits) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let pds = Arc::new(Pds::open(dir.path()).unwrap());
    let app = router_with(AppState::new(pds.clone(), RateLimits::default()), &limits);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        insitu_server::conn::serve(listener, app, &limits, async {
            let _ = stopped.await;
        })
        .await
    });
    Served {
        addr,
        pds,
        _stop: stop,
        _dir: dir,
    }
}

/// One-second timeouts, so that the tests are fast.
fn quick() -> ServerLimits {
    ServerLimits {
        header_read: Duration::from_secs(1),
        body_read: Duration::from_secs(1),
        request: Duration::from_secs(30),
        max_connections: 64,
    }
}

/// Reads until the server closes the connection or `within` passes. Returns what was read and
/// when the connection closed (`None`: still open).
async fn read_until_closed(conn: &mut TcpStream, within: Duration) -> (String, Option<Instant>) {
    let mut got = Vec::new();
    let end = Instant::now() + within;
    let mut buf = [0u8; 4096];
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, conn.read(&mut buf)).await {
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), None),
            Ok(Ok(0)) | Ok(Err(_)) => {
                return (
                    String::from_utf8_lossy(&got).into_owned(),
                    Some(Instant::now()),
                );
            }
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Reads one response whose body has a `Content-Length`, leaving the connection open.
async fn read_response(conn: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), conn.read(&mut buf))
            .await
            .expect("an answer within 10 s")
            .unwrap();
        assert!(
            n > 0,
            "closed mid-response: {}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some(head_end) = text.find("\r\n\r\n") {
            let length: usize = text[..head_end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if got.len() >= head_end + 4 + length {
                return text;
            }
        }
    }
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_sent_a_byte_at_a_time_are_cut_after_the_header_timeout() {
    let s = serve(quick()).await;
    let mut conn = TcpStream::connect(s.addr).await.unwrap();
    let start = Instant::now();
    // 37 bytes at one every 250 ms would take 9 s to arrive: far past the 1 s allowed.
    let mut cut = None;
    for byte in HEALTHZ {
        if conn.write_all(&[*byte]).await.is_err() {
            cut = Some(Instant::now());
            break;
        }
        let (got, closed) = read_until_closed(&mut conn, Duration::from_millis(250)).await;
        assert!(!got.contains(" 200 "), "answered a slowloris: {got}");
        if closed.is_some() {
            cut = closed;
            break;
        }
    }
    let cut = cut
        .expect("the slow connection was never cut")
        .duration_since(start);
    assert!(
        cut >= Duration::from_millis(900) && cut < Duration::from_secs(5),
        "cut after {cut:?}, not after the 1 s header timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_or_idle_kept_alive_connection_is_closed_after_the_timeout() {
    let s = serve(quick()).await;
    // Silent from the start.
    let mut silent = TcpStream::connect(s.addr).await.unwrap();
    let start = Instant::now();
    let (got, closed) = read_until_closed(&mut silent, Duration::from_secs(6)).await;
    let after = closed
        .expect("a silent connection stayed open")
        .duration_since(start);
    assert!(
        after >= Duration::from_millis(900),
        "closed after {after:?}"
    );
    assert!(!got.contains(" 200 "), "{got}");
    // Kept alive after one answer, then silent: the same timeout is the idle timeout.
    let mut kept = TcpStream::connect(s.addr).await.unwrap();
    kept.write_all(HEALTHZ).await.unwrap();
    let answer = read_response(&mut kept).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let start = Instant::now();
    let (_, closed) = read_until_closed(&mut kept, Duration::from_secs(6)).await;
    let after = closed
        .expect("an idle connection stayed open")
        .duration_since(start);
    assert!(
        after >= Duration::from_millis(900),
        "closed after {after:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_connection_cap_healthz_answers_once_the_idle_connections_time_out() {
    let s = serve(ServerLimits {
        max_connections: 2,
        ..quick()
    })
    .await;
    // Twice the cap in silent connections: two are served (and time out after 1 s), two wait
    // in the backlog and are served next (and time out after 2 s).
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(s.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let start = Instant::now();
    let mut health = TcpStream::connect(s.addr).await.unwrap();
    health.write_all(HEALTHZ).await.unwrap();
    let answer = read_response(&mut health).await;
    let waited = start.elapsed();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The cap held: no answer while the idle connections had their slots...
    assert!(
        waited >= Duration::from_millis(1700),
        "answered after {waited:?}: the cap of 2 did not hold"
    );
    // ...and the header timeout freed them.
    assert!(waited < Duration::from_secs(8), "answered after {waited:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_cut_after_the_body_timeout_and_a_dripping_one_by_the_request_timeout() {
    let s = serve(ServerLimits {
        request: Duration::from_secs(3),
        ..quick()
    })
    .await;
    let head = "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n";
    // Stalled: ten bytes, then nothing.
    let mut stalled = TcpStream::connect(s.addr).await.unwrap();
    stalled.write_all(head.as_bytes()).await.unwrap();
    stalled.write_all(b"name=alice").await.unwrap();
    let start = Instant::now();
    let (got, closed) = read_until_closed(&mut stalled, Duration::from_secs(8)).await;
    let after = closed
        .expect("a stalled body held its connection")
        .duration_since(start);
    assert!(
        after >= Duration::from_millis(900),
        "cut after {after:?}: {got}"
    );
    assert!(
        got.is_empty() || got.starts_with("HTTP/1.1 4"),
        "a stalled body was not refused: {got}"
    );
    // Dripping: a byte every half second never trips the body timeout, but the request timeout
    // (3 s) answers 408, as the documented JSON error, long before the 100 bytes (50 s) are in.
    let mut drip = TcpStream::connect(s.addr).await.unwrap();
    drip.write_all(head.as_bytes()).await.unwrap();
    let start = Instant::now();
    let mut answer = String::new();
    for _ in 0..100 {
        if drip.write_all(b"a").await.is_err() {
            break;
        }
        let (got, closed) = read_until_closed(&mut drip, Duration::from_millis(500)).await;
        answer.push_str(&got);
        if closed.is_some() || !answer.is_empty() {
            break;
        }
    }
    let after = start.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""code":"request_timeout""#), "{answer}");
    assert!(
        after >= Duration::from_millis(2700) && after < Duration::from_secs(8),
        "answered after {after:?}"
    );
}

/// Sends `req` through `app` in-process: the status and the body as text.
async fn send(app: &axum::Router, req: Request<Body>) -> (StatusCode, String) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// Signs `name` in through the page and returns the session cookie's value.
async fn sign_in(app: &axum::Router, name: &str) -> String {
    let resp = app
        .clone()
        .oneshot(
            Request::post("/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(format!(
                    "name={name}&password=correct+horse+battery"
                )))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let cookie = resp.headers()["set-cookie"].to_str().unwrap();
    cookie
        .split(';')
        .next()
        .and_then(|c| c.strip_prefix("insitu_session="))
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_megabyte_to_a_page_form_is_refused_before_it_is_read_and_uploads_take_megabytes() {
    let s = serve(quick()).await;
    let store = s.pds.store.as_ref();
    let alice = account::create(store, "alice", PASSWORD, Role::Person).unwrap();
    let (token, _) = account::issue_token(store, &alice, &[], "test", None).unwrap();
    let app = router(AppState::new(s.pds.clone(), RateLimits::default()));
    let session = sign_in(&app, "alice").await;
    // 1 MiB announced; 64 KiB sent, four times a form's limit: the answer must come before
    // the rest is sent.
    for (path, cookie) in [
        ("/login", String::new()),
        (
            "/requests/1/approve",
            format!("Cookie: insitu_session={session}\r\n"),
        ),
        ("/erase", format!("Cookie: insitu_session={session}\r\n")),
    ] {
        let mut conn = TcpStream::connect(s.addr).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\n{cookie}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
            1 << 20
        );
        conn.write_all(head.as_bytes()).await.unwrap();
        let _ = conn.write_all(&vec![b'a'; 64 << 10]).await;
        let (answer, _) = read_until_closed(&mut conn, Duration::from_secs(5)).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "POST {path}: {answer}");
    }
    // The upload routes take a multi-megabyte file: 3 MiB of bank statement through the API,
    // and the same through the page.
    let mut csv = String::from("account,booked,amount,counterparty,label\n");
    let mut rows = 0;
    while csv.len() < 3 << 20 {
        rows += 1;
        csv.push_str(&format!(
            "FR76300040000312,2024-03-05,-{}.{:02} EUR,Shop {rows},CARD PAYMENT {rows}\n",
            rows % 500,
            rows % 100
        ));
    }
    let (status, report) = send(
        &app,
        Request::post("/api/imports?collection=bank.transactions&name=big.csv")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::from(csv.clone()))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    let report: Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["added"].as_u64(), Some(rows), "{report}");
    let cookie = format!("insitu_session={session}");
    let (_, home) = send(
        &app,
        Request::get("/")
            .header("cookie", &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let at = home.find("name=\"csrf\" value=\"").expect("a CSRF token") + 19;
    let upload_page = |name: &'static str, content: String| {
        let (content_type, upload) = common::import_form(&home[at..at + 64], name, &content);
        send(
            &app,
            Request::post("/import")
                .header("accept-language", "en")
                .header("cookie", &cookie)
                .header("content-type", content_type)
                .body(Body::from(upload))
                .unwrap(),
        )
    };
    let (status, page) = upload_page("big.csv", csv.replace("CARD PAYMENT", "TRANSFER")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    // The English page groups thousands with commas.
    let digits = rows.to_string();
    let grouped: Vec<&str> = digits
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    assert!(
        page.contains(&format!("{} added", grouped.join(","))),
        "{page}"
    );
    // A file over the upload limit, through the page: 413, as an error page, nothing added.
    let huge = "x".repeat(insitu_server::MAX_UPLOAD + 1);
    let (status, page) = upload_page("huge.csv", huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{page}");
    assert!(page.contains("role=\"alert\""), "{page}");
    assert_eq!(
        store
            .count(alice.person.unwrap(), "bank.transactions")
            .unwrap(),
        2 * rows
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_answers_a_json_500() {
    // The layer the router uses, on a router with a handler that panics.
    async fn boom() -> &'static str {
        panic!("secret internals")
    }
    let app =
        insitu_server::catch_panics(axum::Router::new().route("/boom", axum::routing::get(boom)));
    let (status, body) = send(&app, Request::get("/boom").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["code"], "internal", "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(
        !body.to_string().contains("secret internals"),
        "the panic's text reached the client: {body}"
    );
}

/// Sends `request` on a new connection and reads the answer until the server closes it.
async fn raw(addr: SocketAddr, request: String) -> String {
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(request.as_bytes()).await.unwrap();
    read_until_closed(&mut conn, Duration::from_secs(10))
        .await
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_for_u32_max_months_and_its_pages_are_answered_never_an_empty_reply() {
    let s = serve(quick()).await;
    let store = s.pds.store.as_ref();
    insitu_testkit::trust_examples(store);
    // probe's manifest names no months: any number of months may be approved.
    let plugin = insitu_core::package::install(
        store,
        s.pds.runner.sandbox(),
        &insitu_testkit::signed(insitu_plugins::PROBE),
        insitu_core::package::InstallMode::Verified,
    )
    .unwrap();
    let alice = account::create(store, "alice", PASSWORD, Role::Person).unwrap();
    let org = account::create(store, "org", PASSWORD, Role::Organisation).unwrap();
    let (ta, _) = account::issue_token(store, &alice, &[], "", None).unwrap();
    let (to, _) = account::issue_token(store, &org, &[], "", None).unwrap();
    let post = |token: &str, path: &str, body: Value| {
        let body = body.to_string();
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let asked = raw(
        s.addr,
        post(
            &to,
            "/api/requests",
            json!({"person": alice.person, "plugin": plugin.digest, "purpose": "p", "days": 30}),
        ),
    )
    .await;
    assert!(asked.starts_with("HTTP/1.1 201"), "{asked}");
    let approved = raw(
        s.addr,
        post(&ta, "/api/requests/1/approve", json!({"months": u32::MAX})),
    )
    .await;
    let app = router(AppState::new(s.pds.clone(), RateLimits::default()));
    let session = sign_in(&app, "alice").await;
    let run = raw(s.addr, post(&ta, "/api/runs", json!({"grant": 1}))).await;
    let mut answers = vec![("approve".to_string(), approved), ("run".to_string(), run)];
    for path in [
        "/api/grants",
        "/api/grants/1",
        "/",
        "/history",
        "/requests/1",
    ] {
        let answer = raw(
            s.addr,
            format!(
                "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ta}\r\nCookie: insitu_session={session}\r\nConnection: close\r\n\r\n"
            ),
        )
        .await;
        answers.push((path.to_string(), answer));
    }
    for (what, answer) in answers {
        assert!(answer.starts_with("HTTP/1.1 "), "{what}: an empty reply");
        let status: u16 = answer[9..12].parse().unwrap();
        let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        if status >= 500 {
            let e: Value = serde_json::from_str(body).unwrap_or(Value::Null);
            assert!(e["code"].is_string(), "{what}: {answer}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_and_api_answer_carries_the_security_headers() {
    let dir = tempfile::tempdir().unwrap();
    let (pds, _) = insitu_testkit::pds_with_fee_scanner(dir.path());
    let pds = Arc::new(pds);
    account::create(pds.store.as_ref(), "alice", PASSWORD, Role::Person).unwrap();
    let app = router(AppState::new(pds.clone(), RateLimits::default()));
    let session = sign_in(&app, "alice").await;
    let get = |path: &str, cookie: Option<&str>| {
        let mut req = Request::get(path);
        if let Some(c) = cookie {
            req = req.header("cookie", format!("insitu_session={c}"));
        }
        app.clone().oneshot(req.body(Body::empty()).unwrap())
    };
    // The style the pages carry, hashed as a browser does to match the policy.
    let (_, html) = send(&app, Request::get("/login").body(Body::empty()).unwrap()).await;
    let style = html
        .split_once("<style>")
        .and_then(|(_, rest)| rest.split_once("</style>"))
        .expect("a <style> element")
        .0;
    use base64ct::Encoding;
    use sha2::Digest;
    let hash = base64ct::Base64::encode_string(&sha2::Sha256::digest(style.as_bytes()));

    // Every page route (pages::routes), as a visitor and as a signed-in person; ids that do
    // not exist answer an error page, which carries the headers too.
    let pages: [(&str, &str); 18] = [
        ("GET", "/"),
        ("GET", "/login"),
        ("POST", "/login"),
        ("POST", "/logout"),
        ("GET", "/requests/1"),
        ("POST", "/requests/1/approve"),
        ("POST", "/requests/1/deny"),
        ("POST", "/grants/1/revoke"),
        ("POST", "/grants/1/run"),
        ("GET", "/runs/1"),
        ("GET", "/history"),
        ("POST", "/import"),
        ("GET", "/export"),
        ("POST", "/erase"),
        ("POST", "/invitations/1/answer"),
        ("POST", "/contacts/1/answer"),
        ("GET", "/invoice.csv"),
        ("GET", "/language/fr"),
    ];
    let api = [
        ("GET", "/api/me"),
        ("GET", "/api/grants"),
        ("POST", "/api/runs"),
        ("GET", "/metrics"),
        ("GET", "/api/nowhere"),
    ];
    for (method, path) in pages.iter().chain(api.iter()) {
        for cookie in [None, Some(session.as_str())] {
            let mut req = Request::builder().method(*method).uri(*path);
            if let Some(c) = cookie {
                req = req.header("cookie", format!("insitu_session={c}"));
            }
            if *method == "POST" {
                req = req.header("content-type", "application/x-www-form-urlencoded");
            }
            let resp = app
                .clone()
                .oneshot(req.body(Body::from("x=1")).unwrap())
                .await
                .unwrap();
            let h = |name: &str| {
                resp.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("(missing)")
                    .to_string()
            };
            let who = if cookie.is_some() { "alice" } else { "visitor" };
            let at = format!("{method} {path} as {who} ({})", resp.status());
            let csp = h("content-security-policy");
            for directive in [
                "default-src 'none'",
                &format!("style-src 'sha256-{hash}'"),
                "form-action 'self'",
                "frame-ancestors 'none'",
                "base-uri 'none'",
            ] {
                assert!(
                    csp.split(';').any(|d| d.trim() == directive),
                    "{at}: no `{directive}` in `{csp}`"
                );
            }
            assert!(
                !csp.contains("script-src") && !csp.contains("unsafe"),
                "{at}: {csp}"
            );
            assert_eq!(h("x-content-type-options"), "nosniff", "{at}");
            assert_eq!(h("x-frame-options"), "DENY", "{at}");
            assert_eq!(h("referrer-policy"), "same-origin", "{at}");
            if !path.starts_with("/api/nowhere") {
                assert_eq!(h("cache-control"), "no-store", "{at}");
            }
        }
    }
    // The health check is not personal, but is not sniffed either.
    let health = get("/healthz", None).await.unwrap();
    assert_eq!(health.headers()["x-content-type-options"], "nosniff");
}

#[test]
fn a_request_in_flight_at_sigterm_completes_and_its_write_survives_the_restart() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    common::add_account_with_cli(dir.path(), "alice", "person", PASSWORD);
    let (server, addr) = common::serve_binary(dir.path());
    let body = json!({"name": "alice", "password": PASSWORD}).to_string();
    let answer = common::exchange(
        &addr,
        &format!(
            "POST /api/tokens HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    let token: Value = serde_json::from_str(answer.split_once("\r\n\r\n").unwrap().1).unwrap();
    let token = token["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"));

    // An upload in flight: its head and half its body sent, then SIGTERM, then the rest.
    let statement = "account,booked,amount,counterparty,label\n\
        FR7630004000031234,2024-03-05,-45.00 EUR,Agence Dupont,FRAIS DE GESTION\n\
        FR7630004000031234,2024-04-05,-30.00 EUR,Agence Dupont,FRAIS DE GESTION\n\
        FR7630004000031234,2024-04-07,2450.00 EUR,ACME SA,SALAIRE\n";
    let (half, rest) = statement.split_at(statement.len() / 2);
    let mut upload = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        upload,
        "POST /api/imports?collection=bank.transactions&name=releve.csv HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n{half}",
        statement.len()
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let stopped = std::thread::spawn(move || common::stop_binary(server));
    std::thread::sleep(Duration::from_millis(500));
    // The server is stopping: it takes no new connection, but finishes the upload.
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "the listener is still open after SIGTERM"
    );
    upload.write_all(rest.as_bytes()).unwrap();
    let mut answer = String::new();
    upload.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let report: Value = serde_json::from_str(answer.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert_eq!(report["added"].as_u64(), Some(3), "{report}");
    let (exit, log) = stopped.join().unwrap();
    assert!(exit.success(), "{exit:?} {log}");
    // After the restart the three records are there.
    let pds = Pds::open(dir.path()).unwrap();
    let alice = common::person_of(pds.store.as_ref(), "alice");
    assert_eq!(
        common::stored_transactions(pds.store.as_ref(), alice).len(),
        3
    );
}
