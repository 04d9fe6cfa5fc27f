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

    /// Runs `script` in the page through WebDriver (the pages carry no script of their own;
    /// their CSP does not apply to the driver's) and returns its value.
    fn script(&self, script: &str) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// Lays pages out `width` CSS pixels wide, as a phone of that width does (`mobile` honours
    /// the viewport meta), through Chromium's DevTools emulation.
    fn viewport(&self, width: u32, mobile: bool) {
        self.cmd(
            "POST",
            "/goog/cdp/execute",
            Some(
                json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": {
                    "width": width, "height": if mobile { 780 } else { 900 },
                    "deviceScaleFactor": 1, "mobile": mobile
                }}),
            ),
        );
    }

    /// The serious and critical accessibility violations axe-core finds on the page (`axe`
    /// is axe-core's source, injected through the driver), each as `rule: nodes`.
    fn axe_violations(&self, axe: &str) -> Vec<String> {
        self.script(axe);
        let found = self.cmd(
            "POST",
            "/execute/async",
            Some(
                json!({"script": "const done = arguments[arguments.length - 1]; \
                axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations \
                  .filter(v => v.impact === 'serious' || v.impact === 'critical') \
                  .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' at ' \
                    + v.nodes.map(n => n.target.join(' ')).join(', '))), \
                  e => done(['axe failed: ' + e]));", "args": []}),
            ),
        );
        found
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_else(|| vec![format!("axe answered {found}")])
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

/// `insitu serve` on `dir` and a headless Chromium driven through ChromeDriver, both on
/// loopback ports of their own; both are killed when this is dropped.
struct Launched {
    server: Reaped,
    site: String,
    _driver: Reaped,
    _profile: tempfile::TempDir,
    b: Browser,
}

fn launch(dir: &std::path::Path) -> Launched {
    for bin in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        assert!(
            std::path::Path::new(bin).exists(),
            "{bin} is missing: run scripts/test-deps (installs Debian's chromium and chromium-driver)"
        );
    }
    let bin = env!("CARGO_BIN_EXE_insitu");
    let mut server = Command::new(bin)
        .arg("--data-dir")
        .arg(dir)
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
    Launched {
        server,
        site,
        _driver,
        _profile: profile,
        b,
    }
}

#[test]
fn a_person_approves_runs_revokes_and_reads_the_history_in_chromium() {
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

    let Launched {
        server,
        site,
        _driver,
        _profile,
        b,
    } = launch(dir.path());
    let driver = b.driver.clone();

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
    // The home page's grant row, its fields by their labels (the consent page, still showing
    // while the form posts, holds "Amount, Description, Counterparty": wait for the cell's end).
    let home = b.wait_for("Bank transactions: Amount, Description</td>");
    assert!(!home.contains("Amount, Description, Counterparty"));

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
    let history = b.wait_for("You withdrew grant 1");
    assert!(history.contains("You let fee-scanner read"), "{history}");
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

/// axe-core's source: `$INSITU_KIT_TOOLS/axe/node_modules/axe-core/axe.min.js` (default
/// `~/.cache/insitu-kit`), where `scripts/test-deps` installs it, pinned.
fn axe_core() -> String {
    let kit = std::env::var_os("INSITU_KIT_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/insitu-kit")
        });
    let path = kit.join("axe/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: run scripts/test-deps (installs axe-core from the npm registry)",
            path.display()
        )
    })
}

/// Each role's pages in French and in English, at a desktop's 1280 px and a phone's 360 px:
/// each page is in the language chosen with the switch, a screenshot of each is saved under
/// `target/tmp/e2e-screenshots/walk-*.png`, at 360 px no page scrolls sideways, and axe-core
/// finds no serious or critical accessibility violation on any of them.
#[test]
fn every_roles_pages_in_french_and_english_on_a_desktop_and_a_phone() {
    let axe = axe_core();
    let dir = tempfile::tempdir().unwrap();
    let (request, run, proposal) = {
        // The store is filled over the last month (a manual clock), so that the history's
        // timeline spreads; the server then runs on the system clock.
        let now = insitu_testkit::now_ms();
        let day = 86_400_000;
        let clock = insitu_core::clock::ManualClock::at(now - 30 * day);
        let (pds, fee_scanner) = insitu_testkit::pds_with_fee_scanner_on(dir.path(), clock.clone());
        let store = pds.store.as_ref();
        let alice = account::create(store, "alice", PASSWORD, Role::Person)
            .unwrap()
            .person
            .unwrap();
        for (name, role) in [
            ("ufc", Role::Organisation),
            ("insitu-examples", Role::Developer),
            ("operator", Role::Operator),
        ] {
            account::create(store, name, PASSWORD, role).unwrap();
        }
        // Two years of a statement for the spending pictures (rent and a phone bill every
        // month, groceries that vary), and a long line for the layout.
        let mut statement = String::from(
            "account,booked,amount,counterparty,label\n\
            FR76,2099-01-05,-1234.56 EUR,Agence Dupont Immobilier et Associés,FRAIS DE GESTION ET DE TENUE DE COMPTE TRIMESTRIELS\n",
        );
        let (y, m, _) =
            insitu_formats::time::civil_from_days(insitu_testkit::now_ms() / 86_400_000);
        for back in 0..24 {
            let i = y * 12 + m - 1 - back;
            let month = format!("{}-{:02}", i / 12, i % 12 + 1);
            let groceries = 18_000 + (back * 7_919) % 9_000;
            statement.push_str(&format!(
                "FR76,{month}-01,-780.00 EUR,Agence Dupont,LOYER\n\
                 FR76,{month}-01,-19.99 EUR,Orange,FORFAIT MOBILE\n\
                 FR76,{month}-01,-{}.{:02} EUR,Biocoop,CB COURSES\n",
                groceries / 100,
                groceries % 100
            ));
        }
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
        // Members earn a share of what runs on their data: the earnings picture.
        store
            .set_tariff(&insitu_core::ledger::Tariff {
                member_share_bps: 5_000,
                ..Default::default()
            })
            .unwrap();
        clock.set(now - 21 * day);
        let pending = insitu_core::request::ask(
            store,
            "ufc",
            alice,
            &fee_scanner,
            "class action on agency fees",
            90,
        )
        .unwrap();
        // A run the organisation started under a grant, for the run pages.
        clock.set(now - 14 * day);
        let exfiltrate = insitu_core::package::install(
            store,
            pds.runner.sandbox(),
            &insitu_testkit::signed(insitu_plugins::EXFILTRATE),
            insitu_core::package::InstallMode::Verified,
        )
        .unwrap();
        let asked =
            insitu_core::request::ask(store, "ufc", alice, &exfiltrate, "study", 30).unwrap();
        let grant = insitu_core::request::approve(store, asked.id, &Default::default()).unwrap();
        clock.set(now - 7 * day);
        let run = tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(
                pds.runner.run(insitu_core::run::RunRequest {
                    person: alice,
                    grant: grant.id,
                    digest: grant.plugin_digest.clone(),
                    params: [("channel", "log"), ("needle", "x")]
                        .map(|(k, v)| (k.to_string(), insitu_core::output::Scalar::parse(v)))
                        .to_vec(),
                    limits: None,
                    requester: Some("ufc".into()),
                    as_of: None,
                }),
            )
            .unwrap();
        // A campaign of ufc's over Alice's statement, released two days ago: the
        // organisation's campaigns picture.
        clock.set(now - 2 * day);
        let mut policy = store.policy().unwrap();
        policy.member_deadline_ms = 60_000;
        policy.release_margin_ms = 0;
        store.set_policy(&policy).unwrap();
        let asked =
            insitu_core::request::ask(store, "ufc", alice, &fee_scanner, "campaigns", 30).unwrap();
        insitu_core::request::approve(store, asked.id, &Default::default()).unwrap();
        let job = insitu_core::campaign::open(
            store,
            insitu_core::campaign::NewCampaign {
                owner: "ufc".into(),
                description: "management fees above the lease".into(),
                brand: "Agence Dupont".into(),
                association: "ufc".into(),
                plugin_digest: fee_scanner.digest.clone(),
                params: [
                    ("rule", "agency-fee"),
                    ("pattern", "frais de gestion"),
                    ("agreed", "30.00 EUR"),
                ]
                .map(|(k, v)| (k.to_string(), insitu_core::output::Scalar::parse(v)))
                .to_vec(),
                k: None,
            },
        )
        .unwrap();
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(insitu_core::campaign::scan(
                &pds.runner,
                job.id,
                &Default::default(),
            ))
            .unwrap();
        assert!(store.job(job.id).unwrap().release_ms < now);
        // Co-design: a public proposal of ufc's with a signed comment, a suggestion, a vote
        // and a pledge of Alice's, and one in review for the officer's queue.
        account::create(store, "olga", PASSWORD, Role::Officer).unwrap();
        let proposal = {
            use insitu_core::codesign::{self, Content, Decision, Kind, Tier};
            let content = |title: &str| Content {
                title: title.into(),
                description: "A thermostat that learns from the heating study's release.".into(),
                options: vec!["Round".into(), "Square".into()],
                studies: vec![],
                goal: insitu_core::output::Money {
                    minor: 1_200_000,
                    currency: "EUR".into(),
                },
                deadline_ms: now + 30 * day,
                tiers: vec![Tier {
                    name: "Backer".into(),
                    min_minor: 2_000,
                    reward: "early access".into(),
                }],
            };
            let public = codesign::submit(store, "ufc", None, content("A thermostat")).unwrap();
            codesign::review(store, public.id, "olga", Decision::Approve, "").unwrap();
            codesign::submit(store, "ufc", None, content("A radiator valve")).unwrap();
            codesign::contribute(
                store,
                public.id,
                alice,
                Kind::Comment,
                "Yes!",
                Some("Alice M."),
            )
            .unwrap();
            codesign::contribute(store, public.id, alice, Kind::Suggestion, "Hexagonal", None)
                .unwrap();
            codesign::vote(store, &public.ballot(), alice, 1).unwrap();
            codesign::pledge(store, public.id, alice, 2_500).unwrap();
            public.id
        };
        (pending.id, run.id, proposal)
    };
    // Every part bound: what is not would be dropped (killed) at once.
    let Launched {
        server: _server,
        site,
        _driver,
        _profile,
        b,
    } = launch(dir.path());
    let (consent, run) = (format!("/requests/{request}"), format!("/runs/{run}"));
    // The pictures each page draws (by their titles' ids).
    let pictures = |who: &str, name: &str| -> &'static [&'static str] {
        match (who, name) {
            ("alice", "home") => &[
                "spending0-title",
                "recurring0-title",
                "earnings0-title",
                "grant1-title",
            ],
            ("alice", "history") => &["timeline-title"],
            ("ufc", "home") => &["campaignschart-title", "invoices0-title"],
            _ => &[],
        }
    };
    let proposal = format!("/proposals/{proposal}");
    let roles: [(&str, Vec<(&str, &str)>); 6] = [
        ("anonymous", vec![("sign-in", "/login")]),
        (
            "alice",
            vec![
                ("home", "/"),
                ("consent", &consent),
                ("run", &run),
                ("history", "/history"),
                ("data", "/data/bank.transactions"),
                ("proposals", "/proposals"),
                // An error page with its technical detail, in English, marked so.
                ("error", "/runs/abc"),
            ],
        ),
        (
            "ufc",
            vec![
                ("home", "/"),
                ("run", &run),
                ("proposals", "/proposals"),
                ("proposal", &proposal),
            ],
        ),
        ("insitu-examples", vec![("home", "/")]),
        ("operator", vec![("home", "/")]),
        ("olga", vec![("home", "/"), ("reviews", "/reviews")]),
    ];
    let mut shots = 0;
    for (lang, word) in [
        ("fr", "vos données restent chez vous"),
        ("en", "keeps your data with you"),
    ] {
        for (width, mobile) in [(1280u32, false), (360, true)] {
            b.viewport(width, mobile);
            for (who, pages) in &roles {
                b.cmd("DELETE", "/cookie", None);
                // The switch sets the language; the browser asks for English.
                b.go(&format!("{site}/language/{lang}?back=/login"));
                b.wait_for(&format!("<html lang=\"{lang}\">"));
                if *who != "anonymous" {
                    b.fill("#name", who);
                    b.fill("#password", PASSWORD);
                    b.click("main button[type=submit]");
                    b.wait_for("action=\"/logout\"");
                }
                for (name, path) in pages {
                    b.go(&format!("{site}{path}"));
                    let page = b.wait_for(word);
                    assert!(
                        page.contains(&format!("<html lang=\"{lang}\">")),
                        "{path} as {who}: {page}"
                    );
                    // On a phone, a page wider than the screen widens the layout viewport
                    // (`innerWidth`) or scrolls inside it (`scrollWidth`): either is sideways
                    // scrolling.
                    let (inner, scroll) = (
                        b.script("return window.innerWidth"),
                        b.script("return document.documentElement.scrollWidth"),
                    );
                    assert!(
                        inner == json!(width) && scroll.as_u64() <= Some(u64::from(width)),
                        "{path} as {who} in {lang} is wider than {width} px: \
                         innerWidth {inner}, scrollWidth {scroll}"
                    );
                    b.screenshot(&format!("walk-{lang}-{width}-{who}-{name}"));
                    for id in pictures(who, name) {
                        assert!(
                            page.contains(&format!("aria-labelledby=\"{id}\"")),
                            "{path} as {who} in {lang} lacks the picture {id}"
                        );
                    }
                    // Each picture of a long page, scrolled to, in a screenshot of its own.
                    for id in pictures(who, name).iter().filter(|_| *name != "history") {
                        b.script(&format!(
                            "document.getElementById('{id}').closest('figure').scrollIntoView()"
                        ));
                        let picture = id.trim_end_matches("-title");
                        b.screenshot(&format!("walk-{lang}-{width}-{who}-{name}-{picture}"));
                    }
                    let violations = b.axe_violations(&axe);
                    assert!(
                        violations.is_empty(),
                        "{path} as {who} in {lang} at {width} px: {violations:#?}"
                    );
                    shots += 1;
                }
            }
        }
    }
    assert_eq!(shots, 2 * 2 * 16);
    http(
        &b.driver,
        "DELETE",
        &format!("/session/{}", b.session),
        None,
    );
}
