//! Noninterference (DESIGN.md invariant 2): for a run on a person's data, everything that
//! depends on that data is output, and reaches only the contract's audience. Everyone else,
//! the organisation that asked and paid included, sees a view that is identical whatever the
//! person's data is.
//!
//! Each test runs one scenario twice, on two stores that differ only in one person's data
//! (one has a transaction with a casino, the other not), with the clock fixed at the same
//! times, and compares byte for byte everything the organisation (and another organisation)
//! can read through the API, the pages and the command line's organisation view: the answers
//! to its run requests, its run listings and run pages, outputs, grants, requests and invoice. The plugin is `exfiltrate`, whose
//! author tries to get the bit "this person paid a casino" out through every channel but the
//! output (outcome, error text, panic, fuel, records read, memory, output size, log, host
//! calls), and the project's own `fee-scanner`. The same scenario also checks that the person
//! does see the difference: otherwise the scenario would prove nothing.
//!
//! Both stores run on a `ManualClock` each, set to the same times, so every timestamp agrees
//! byte for byte; no other test's clock moves with them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use insitu_core::account::Role;
use insitu_core::clock::ManualClock;
use insitu_core::meter::Outcome;
use insitu_core::pds::Pds;
use insitu_server::{AppState, limit::RateLimits, router};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::outside;

use insitu_testkit::{signed, trust_examples};

/// 2026-01-01T00:00:00Z, when every scenario starts.
const T: i64 = 1_767_225_600_000;
const DAY: i64 = 86_400_000;

const STATEMENT: &str = "account,booked,amount,counterparty,label\n\
    FR7630004000031234,2025-10-05,-45.00 EUR,Agence Dupont Immobilier,FRAIS DE GESTION\n\
    FR7630004000031234,2025-11-05,-30.00 EUR,Agence Dupont Immobilier,FRAIS DE GESTION\n\
    FR7630004000031234,2025-11-07,2450.00 EUR,ACME SA,SALAIRE\n";
/// What one of the two stores has on top: the bit the plugin wants out.
const SECRET: &str = "FR7630004000031234,2025-11-20,-200.00 EUR,Casino Royal,CASINO ROYAL\n";

/// Every channel of the `exfiltrate` plugin.
const CHANNELS: [&str; 9] = [
    "outcome",
    "message",
    "panic",
    "fuel",
    "records",
    "memory",
    "output-size",
    "log",
    "host-calls",
];

struct World {
    _dir: tempfile::TempDir,
    app: axum::Router,
    pds: Arc<Pds>,
    /// Each account's sign-in session, by its API token.
    sessions: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

impl World {
    fn new(clock: Arc<ManualClock>) -> World {
        let dir = tempfile::tempdir().unwrap();
        let pds = Arc::new(Pds::builder(dir.path()).clock(clock).open().unwrap());
        let app = router(AppState::new(pds.clone(), RateLimits::default()));
        World {
            _dir: dir,
            app,
            pds,
            sessions: Default::default(),
        }
    }

    fn account(&self, name: &str, role: Role) -> String {
        let token = outside::token(&self.pds, name, role);
        let session = outside::session(&self.pds, name);
        self.sessions.lock().unwrap().insert(token.clone(), session);
        token
    }

    /// One request, as `token`'s holder sends it (as a bearer token for `/api`, as the session
    /// cookie for the pages); returns the status and the body as text.
    async fn call(&self, method: &str, path: &str, token: &str, body: Option<Vec<u8>>) -> String {
        let mut req = Request::builder().method(method).uri(path);
        req = if path.starts_with("/api") {
            req.header("authorization", format!("Bearer {token}"))
        } else {
            let session = self.sessions.lock().unwrap()[token].clone();
            req.header("cookie", format!("insitu_session={session}"))
        };
        let body = match body {
            Some(b) => {
                if b.first() == Some(&b'{') {
                    req = req.header("content-type", "application/json");
                }
                Body::from(b)
            }
            None => Body::empty(),
        };
        let resp = self
            .app
            .clone()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
            .await
            .unwrap();
        format!("{} {}", status.as_u16(), String::from_utf8_lossy(&bytes))
    }

    async fn json(&self, method: &str, path: &str, token: &str, body: Value) -> Value {
        let text = self
            .call(method, path, token, Some(body.to_string().into_bytes()))
            .await;
        let (_, body) = text.split_once(' ').unwrap();
        serde_json::from_str(body).unwrap_or(Value::String(text))
    }

    /// Waits (in real time) until no run is running.
    async fn settle(&self) {
        let start = Instant::now();
        while self
            .pds
            .store
            .runs(None)
            .unwrap()
            .iter()
            .any(|r| r.outcome == Outcome::Running)
        {
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "runs still running"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// What a party observed: (what it asked, what it got), in order.
type Seen = Vec<(String, String)>;

/// Removes what differs between two stores for reasons other than the person's data: the
/// random session secrets the pages derive their CSRF tokens from.
fn normalise(page: String) -> String {
    let mut out = String::with_capacity(page.len());
    let mut rest = page.as_str();
    while let Some(i) = rest.find("name=\"csrf\" value=\"") {
        let (head, tail) = rest.split_at(i + "name=\"csrf\" value=\"".len());
        out.push_str(head);
        out.push_str("CSRF");
        rest = tail.split_once('"').map(|(_, t)| t).unwrap_or("");
        out.push('"');
    }
    out.push_str(rest);
    out
}

/// The scenario on a store where Alice did (`secret`) or did not pay a casino. Returns what
/// the organisation that ran the plugin saw, what another organisation saw, and what Alice
/// saw.
async fn scenario(secret: bool) -> (Seen, Seen, Seen) {
    let clock = ManualClock::at(T);
    let w = World::new(clock.clone());
    trust_examples(w.pds.store.as_ref());
    let alice = w.account("alice", Role::Person);
    let lab = w.account("lab", Role::Organisation);
    let rival = w.account("rival", Role::Organisation);
    let dev = w.account("developer", Role::Developer);
    let alice_id = w
        .pds
        .store
        .account_by_name("alice")
        .unwrap()
        .unwrap()
        .person
        .unwrap();
    for plugin in [insitu_plugins::EXFILTRATE, insitu_plugins::FEE_SCANNER] {
        let st = w
            .call("POST", "/api/packages", &dev, Some(signed(plugin)))
            .await;
        assert!(st.starts_with("201"), "{st}");
    }
    let mut statement = STATEMENT.to_string();
    if secret {
        statement.push_str(SECRET);
    }
    let st = w
        .call(
            "POST",
            "/api/imports?collection=bank.transactions&name=statement.csv",
            &alice,
            Some(statement.into_bytes()),
        )
        .await;
    assert!(st.starts_with("201"), "{st}");

    let (mut seen, mut rival_seen) = (Seen::new(), Seen::new());
    let mut grants = Vec::new();
    for plugin in ["exfiltrate", "fee-scanner"] {
        let ask = json!({"person": alice_id, "plugin": plugin, "purpose": "research", "days": 30});
        let req = w.json("POST", "/api/requests", &lab, ask.clone()).await;
        seen.push((format!("ask {plugin}"), req.to_string()));
        let id = req["id"].as_u64().unwrap_or_else(|| panic!("{req}"));
        let grant = w
            .json(
                "POST",
                &format!("/api/requests/{id}/approve"),
                &alice,
                json!({}),
            )
            .await;
        grants.push(grant["id"].as_u64().expect("approved"));
    }

    // The organisation starts one run per channel, then one of fee-scanner (a campaign
    // scanner: its grant never serves a single run for an organisation).
    let mut runs = Vec::new();
    for channel in CHANNELS {
        let body = json!({"grant": grants[0], "params": {"channel": channel, "needle": "CASINO"}});
        let what = format!("POST /api/runs {body}");
        let got = w
            .call(
                "POST",
                "/api/runs",
                &lab,
                Some(body.to_string().into_bytes()),
            )
            .await;
        assert!(got.starts_with("202"), "{what}: {got}");
        let v: Value = serde_json::from_str(got.split_once(' ').unwrap().1).unwrap();
        let id = v["id"].as_u64().unwrap();
        if channel == "fuel" && secret {
            // The answer came before the run ended: how long the organisation waits says
            // nothing about how long the run took.
            assert_eq!(
                w.pds.store.run(id).unwrap().outcome,
                Outcome::Running,
                "the answer waited for the run"
            );
        }
        seen.push((what, got));
        // Before the run's release time, while it may still be running.
        let path = format!("/api/runs/{id}");
        seen.push((path.clone(), w.call("GET", &path, &lab, None).await));
        runs.push(id);
    }
    let body = json!({"grant": grants[1], "params": {"rule": "agency-fee"}});
    let refused = w
        .call(
            "POST",
            "/api/runs",
            &lab,
            Some(body.to_string().into_bytes()),
        )
        .await;
    assert!(
        refused.starts_with("403") && refused.contains("for a campaign plugin"),
        "{refused}"
    );
    seen.push((format!("POST /api/runs {body}"), refused));

    w.settle().await;
    // Before the release time, after the runs ended; then after it.
    for at in [T, T + DAY] {
        clock.set(at);
        let mut paths = vec![
            "/api/runs".to_string(),
            "/api/grants".into(),
            "/api/requests".into(),
            "/".into(),
            "/invoice.csv".into(),
        ];
        for id in &runs {
            paths.push(format!("/api/runs/{id}"));
            paths.push(format!("/api/runs/{id}/output"));
            paths.push(format!("/runs/{id}"));
        }
        for path in paths {
            let got = normalise(w.call("GET", &path, &lab, None).await);
            seen.push((format!("{at} GET {path}"), got));
            let got = normalise(w.call("GET", &path, &rival, None).await);
            rival_seen.push((format!("{at} GET {path}"), got));
        }
    }
    // The command line's organisation view (`insitu runs --as-org lab`).
    let lab_viewer = insitu_core::contract::Viewer::Requester("lab".into());
    for r in w.pds.store.runs(None).unwrap() {
        if let Some(v) = insitu_core::view::run_view(&r, &lab_viewer) {
            seen.push((
                "insitu runs --as-org lab".into(),
                insitu_core::view::run_line(&v),
            ));
        }
    }
    let mut alice_seen = Seen::new();
    for id in &runs {
        let path = format!("/api/runs/{id}");
        alice_seen.push((path.clone(), w.call("GET", &path, &alice, None).await));
    }
    (seen, rival_seen, alice_seen)
}

fn assert_same(a: &Seen, b: &Seen, who: &str) {
    assert_eq!(
        a.len(),
        b.len(),
        "{who} made a different number of requests"
    );
    for ((what, x), (_, y)) in a.iter().zip(b) {
        assert_eq!(
            x, y,
            "{who} sees a difference in the person's data through {what}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisation_sees_the_same_runs_whatever_the_persons_data() {
    let (lab_without, rival_without, alice_without) = scenario(false).await;
    let (lab_with, rival_with, alice_with) = scenario(true).await;
    assert_same(
        &lab_without,
        &lab_with,
        "the organisation that ran the plugin",
    );
    assert_same(&rival_without, &rival_with, "another organisation");
    // The person sees how each run went, which differs: the scenario does exercise every
    // channel.
    for ((what, without), (_, with)) in alice_without.iter().zip(&alice_with) {
        assert_ne!(without, with, "{what}: the channel was not exercised");
    }
    let invoice = &lab_with
        .iter()
        .find(|(what, _)| what.ends_with("GET /invoice.csv"))
        .unwrap()
        .1;
    // Every run is billed at its quoted price, whatever it did.
    assert_eq!(
        invoice.matches("run_price").count(),
        CHANNELS.len(),
        "{invoice}"
    );
    // What the organisation sees is the run's existence, start, limits, price and release
    // time, nothing of how it went.
    let listing = &lab_with
        .iter()
        .find(|(what, _)| what.ends_with("GET /api/runs"))
        .unwrap()
        .1;
    let runs: Value = serde_json::from_str(listing.split_once(' ').unwrap().1).unwrap();
    let runs = runs.as_array().unwrap();
    // One run per channel, and the refused fee-scanner run (refused before it read anything:
    // no limits, no price), started last: the listing is newest first.
    assert_eq!(runs.len(), CHANNELS.len() + 1, "{listing}");
    let (refused, runs) = runs.split_first().unwrap();
    assert_eq!(
        (&refused["limits"], &refused["price"]),
        (&Value::Null, &Value::Null)
    );
    for r in runs {
        assert_eq!(r["detail"], Value::Null, "{r}");
        assert_eq!(r["price"], json!("0.03 EUR"), "{r}");
        assert_eq!(
            r["release_ms"],
            json!(T + 5_000 + insitu_core::run::RELEASE_MARGIN_MS),
            "{r}"
        );
        assert_eq!(r["limits"]["fuel"], json!(2_000_000_000u64), "{r}");
    }
}

/// Hides what is random in a checkpoint download (the root, signature, blind and sibling
/// hashes: fresh at every checkpoint), keeping its shape: version, number, time, key, the
/// person's own head and which side each sibling is on.
fn checkpoint_shape(download: &Value) -> Value {
    let mut d = download.clone();
    for field in ["root", "signature"] {
        d["checkpoint"][field] = json!("#");
    }
    d["proof"]["blind"] = json!("#");
    for step in d["proof"]["path"].as_array_mut().unwrap() {
        step["hash"] = json!("#");
    }
    d
}

/// A person's audit checkpoint depends on nobody else. Two stores at the same times: in one,
/// Bob is idle; in the other, Bob's chain moves between the two checkpoints and 40 more
/// people have chains. What Alice downloads has the same shape in both, and none of her
/// proof's sibling hashes is the same in her two downloads, so comparing them cannot tell
/// her whether anyone's chain moved (with unblinded leaves, Bob's unmoved leaf showed as an
/// unchanged sibling; with checkpoints published only on activity, the number told).
#[tokio::test]
async fn a_person_s_checkpoint_says_nothing_about_other_people() {
    use insitu_core::audit::{AuditEvent, publish_checkpoint};
    let key = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
    let mut shapes = Vec::new();
    for busy in [false, true] {
        let clock = ManualClock::at(T);
        let w = World::new(clock.clone());
        let alice = w.account("alice", Role::Person);
        w.account("bob", Role::Person);
        let bob = w
            .pds
            .store
            .account_by_name("bob")
            .unwrap()
            .unwrap()
            .person
            .unwrap();
        if busy {
            for n in 0..40 {
                w.pds.store.add_person(&format!("p{n}")).unwrap();
            }
        }
        let mut downloads = Vec::new();
        for number in 1..=2 {
            clock.set(T + number * DAY);
            if busy && number == 2 {
                for grant in 0..3 {
                    w.pds
                        .store
                        .append_audit(AuditEvent::GrantRevoked { grant, person: bob })
                        .unwrap();
                }
            }
            // The serve schedule's call, a day after the latest: published, moved or not.
            let published = publish_checkpoint(w.pds.store.as_ref(), &key, DAY as u64 / 2)
                .unwrap()
                .expect("published on the schedule");
            assert_eq!(published.signed.number, number as u64);
            let got = w.call("GET", "/api/audit/checkpoint", &alice, None).await;
            let (status, body) = got.split_once(' ').unwrap();
            assert_eq!(status, "200", "{got}");
            let download: Value = serde_json::from_str(body).unwrap();
            let proof: insitu_core::audit::PersonCheckpoint =
                serde_json::from_value(download.clone()).unwrap();
            insitu_core::audit::verify_signature(&proof.checkpoint).unwrap();
            assert!(proof.proof.unwrap().leads_to(&proof.checkpoint));
            downloads.push(download);
        }
        let hashes = |d: &Value| -> Vec<String> {
            d["proof"]["path"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["hash"].as_str().unwrap().to_string())
                .collect()
        };
        let (first, second) = (hashes(&downloads[0]), hashes(&downloads[1]));
        assert!(
            first.iter().all(|h| !second.contains(h)),
            "busy: {busy}: a sibling hash is the same in both checkpoints"
        );
        shapes.push(downloads.iter().map(checkpoint_shape).collect::<Vec<_>>());
    }
    assert_eq!(
        shapes[0], shapes[1],
        "Alice's downloads differ in shape with what others did"
    );
}
