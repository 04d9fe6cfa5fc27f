//! End to end in a real browser: Debian's Chromium, headless, driven through ChromeDriver
//! (W3C WebDriver over loopback HTTP) against `insitu serve`. A person signs in, approves a
//! request with narrowing, runs the plugin, revokes the grant and reads the access history.
//! Screenshots of each step are saved under `target/tmp/e2e-screenshots/`.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver`: `scripts/test-deps` installs them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use insitu_core::account::{self, Role};
use insitu_core::pds::Pds;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";

/// One HTTP/1.1 exchange on loopback; returns the JSON body.
fn http(addr: &str, method: &str, path: &str, body: Option<&Value>) -> Value {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut conn = TcpStream::connect(addr).unwrap_or_else(|e| panic!("{addr}: {e}"));
    conn.set_read_timeout(Some(Duration::from_secs(60))).ok();
    write!(
        conn,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    // ChromeDriver may keep the connection open: read the head, then Content-Length bytes.
    let mut reader = BufReader::new(conn);
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}: {}", String::from_utf8_lossy(&body)))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills the child when the test ends, however it ends.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Browser {
    driver: String,
    session: String,
    shots: PathBuf,
}

impl Browser {
    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        let v = http(&self.driver, method, &path, body.as_ref());
        if v["value"]["error"].is_string() {
            panic!("webdriver {method} {path}: {}", v["value"]);
        }
        v["value"].clone()
    }

    fn go(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({ "url": url })));
    }

    fn find(&self, css: &str) -> String {
        let v = self.cmd(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_string()
    }

    fn click(&self, css: &str) {
        let e = self.find(css);
        self.cmd("POST", &format!("/element/{e}/click"), Some(json!({})));
    }

    fn fill(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.cmd("POST", &format!("/element/{e}/clear"), Some(json!({})));
        self.cmd(
            "POST",
            &format!("/element/{e}/value"),
            Some(json!({ "text": text })),
        );
    }

    fn source(&self) -> String {
        self.cmd("GET", "/source", None)
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    fn url(&self) -> String {
        self.cmd("GET", "/url", None)
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// The page's source once it contains `text` (a form's navigation may finish after the
    /// click returns); fails after 10 s with what the page showed.
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let page = self.source();
            if page.contains(text) {
                return page;
            }
            assert!(
                Instant::now() < deadline,
                "the page at {} never showed `{text}`:\n{page}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn screenshot(&self, name: &str) {
        let png = self.cmd("GET", "/screenshot", None);
        let bytes = base64(png.as_str().unwrap_or(""));
        assert!(bytes.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
        std::fs::write(self.shots.join(format!("{name}.png")), bytes).unwrap();
    }
}

fn base64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let digits: Vec<u8> = s.bytes().filter_map(val).collect();
    digits
        .chunks(4)
        .flat_map(|c| {
            let n = c
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, d)| n | (u32::from(*d) << (18 - 6 * i)));
            let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
            bytes.into_iter().take(c.len().saturating_sub(1))
        })
        .collect()
}

#[test]
fn a_person_approves_runs_revokes_and_reads_the_history_in_chromium() {
    for bin in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        assert!(
            std::path::Path::new(bin).exists(),
            "{bin} is missing: run scripts/test-deps (installs Debian's chromium and chromium-driver)"
        );
    }
    // A store with a plugin, a person with a statement, and an organisation's request.
    let dir = tempfile::tempdir().unwrap();
    let (request, grant_fields) = {
        let (pds, plugin) = insitu_testkit::pds_with_fee_scanner(dir.path());
        let store = pds.store.as_ref();
        let alice = account::create(store, "alice", PASSWORD, Role::Person)
            .unwrap()
            .person
            .unwrap();
        let statement = "account,booked,amount,counterparty,label\n\
            FR76,2099-01-05,-45.00 EUR,Agence Dupont,FRAIS DE GESTION\n\
            FR76,2099-02-05,-30.00 EUR,Agence Dupont,FRAIS DE GESTION\n";
        let opts = insitu_core::import::ImportOptions {
            collection: Some("bank.transactions".into()),
            ..Default::default()
        };
        insitu_core::import::import_bytes(
            store,
            alice,
            "releve.csv",
            statement.as_bytes(),
            &opts,
            &mut |_, _| {},
        )
        .unwrap();
        let r = insitu_core::request::ask(
            store,
            "UFC Que Choisir",
            alice,
            &plugin,
            "class action on agency fees",
            90,
        )
        .unwrap();
        (r.id, ["amount", "label"])
    };

    let bin = env!("CARGO_BIN_EXE_insitu");
    let mut server = Command::new(bin)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let first = BufReader::new(server.stdout.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    let server = Reaped(server);
    let site = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{first}"))
        .to_string();

    let port = free_port();
    let _driver = Reaped(
        Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let driver = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(&driver).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let profile = tempfile::tempdir().unwrap();
    let caps = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--window-size=1200,1400",
                     format!("--user-data-dir={}", profile.path().display())]
        }
    }}});
    let session = http(&driver, "POST", "/session", Some(&caps));
    let id = session["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no session: {session}"))
        .to_string();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("e2e-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let b = Browser {
        driver: driver.clone(),
        session: id,
        shots,
    };

    // Sign in.
    b.go(&format!("{site}/login"));
    b.fill("#name", "alice");
    b.fill("#password", PASSWORD);
    b.screenshot("1-sign-in");
    b.click("button[type=submit]");
    b.wait_for("Requests waiting for you");
    b.screenshot("2-home");

    // The consent screen; keep amount and label, not the counterparty; 14 days, not 90.
    b.click(&format!("a[href='/requests/{request}']"));
    let screen = b.wait_for("UFC Que Choisir asks for access to your data");
    assert!(screen.contains("90 days"));
    b.click("input[value='bank.transactions/counterparty']");
    b.fill("#days", "14");
    b.screenshot("3-consent-narrowed");
    b.click(&format!(
        "form[action='/requests/{request}/approve'] button"
    ));
    let home = b.wait_for("bank.transactions: amount, label");
    assert!(!home.contains("amount, label, counterparty"));

    // Run the plugin under the new grant.
    let grant = 1;
    b.fill(
        &format!("#params-{grant}"),
        "rule=agency-fee\npattern=frais de gestion\nagreed=30.00 EUR",
    );
    b.click(&format!("form[action='/grants/{grant}/run'] button"));
    let run = b.wait_for("Outcome: succeeded");
    assert!(b.url().ends_with("/runs/1"), "{}", b.url());
    assert!(
        run.contains("charged 45.00 EUR where 30.00 EUR was agreed"),
        "{run}"
    );
    b.screenshot("4-run");

    // Revoke, then the access history.
    b.go(&format!("{site}/"));
    b.click(&format!("form[action='/grants/{grant}/revoke'] button"));
    b.wait_for("<td>revoked</td>");
    b.screenshot("5-revoked");
    b.click("a[href='/history']");
    let history = b.wait_for("revoked grant 1");
    assert!(history.contains("plugin"), "{history}");
    b.screenshot("6-history");
    http(&driver, "DELETE", &format!("/session/{}", b.session), None);

    // The store agrees with what the pages showed.
    let status = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut server = server;
    assert!(server.0.wait().unwrap().success());
    let pds = Pds::open(dir.path()).unwrap();
    let g = pds.store.grant(grant).unwrap();
    assert_eq!(g.collections[0].fields, grant_fields);
    assert_eq!((g.expires_ms.unwrap() - g.created_ms) / 86_400_000, 14);
    assert!(g.revoked_ms.is_some());
    assert_eq!(pds.store.runs(None).unwrap().len(), 1);
}
