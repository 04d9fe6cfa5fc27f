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
//! Co-design (`an_organisation_sees_the_same_proposal_whoever_pledged_voted_or_holds_what`):
//! two stores that differ in which members pledged (the same amounts), in the members' own
//! records, and in who voted for what (the same totals, the same seeded noise). The
//! organisation's proposal, through the API and its pages, is the same byte for byte; what the
//! members chose to publish (a signed name, per-proposal pseudonyms) does reach it.
//!
//! Both stores run on a `ManualClock` each, set to the same times, so every timestamp agrees
//! byte for byte; no other test's clock moves with them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use insitu_core::account::Role;
use insitu_core::clock::ManualClock;
use insitu_core::meter::Outcome;
use insitu_core::pds::Pds;
use insitu_server::{AppState, limit::RateLimits, router};
use serde_json::{Value, json};

use crate::{common, outside};

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
        let credential = if path.starts_with("/api") {
            ("authorization", format!("Bearer {token}"))
        } else {
            let session = self.sessions.lock().unwrap()[token].clone();
            ("cookie", format!("insitu_session={session}"))
        };
        let body = body.map(|b| {
            let kind = if b.first() == Some(&b'{') {
                "application/json"
            } else {
                ""
            };
            (kind, b)
        });
        let req = common::request(method, path, &[(credential.0, &credential.1)], body);
        let (status, _, bytes) = common::answer(&self.app, req).await;
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

/// How the two co-design stores differ: who pledged (the same amounts, by other members), the
/// members' own stores (records or none), and who voted for what (the same totals).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Members {
    First,
    Second,
}

/// Members in the co-design scenario: `m0` .. `m11`.
const MEMBERS: usize = 12;

/// The co-design scenario on one store. Members `m0` (signed as "Alice M."), `m1` and `m2`
/// comment or suggest in both; which members pledge, hold records and vote for which design
/// depends on `who`. Returns what the organisation and a rival organisation saw, with each
/// member's per-proposal pseudonym written `member#i` and each commitment `commitment#n` (both
/// drawn from the store's own random secrets, so they differ between any two stores), and
/// what m1 saw of their own pledges.
async fn codesign_scenario(who: Members) -> (Seen, Seen, Seen) {
    use insitu_core::codesign;
    use insitu_core::noise::Noise;
    let clock = ManualClock::at(T);
    let w = World::new(clock.clone());
    let org = w.account("thermo", Role::Organisation);
    let rival = w.account("rival", Role::Organisation);
    let officer = w.account("olga", Role::Officer);
    let members: Vec<String> = (0..MEMBERS)
        .map(|i| w.account(&format!("m{i}"), Role::Person))
        .collect();
    let (first, second) = (who == Members::First, who == Members::Second);
    // (b) The members' stores: in the second world, eight of them hold statements, one with
    // a casino payment.
    if second {
        for (i, m) in members.iter().enumerate().take(8) {
            let mut statement = STATEMENT.to_string();
            if i == 1 {
                statement.push_str(SECRET);
            }
            let st = w
                .call(
                    "POST",
                    "/api/imports?collection=bank.transactions&name=statement.csv",
                    m,
                    Some(statement.into_bytes()),
                )
                .await;
            assert!(st.starts_with("201"), "{st}");
        }
    }
    let body = json!({
        "title": "A thermostat that learns",
        "description": "Built on the heating study.",
        "options": ["Round", "Square"],
        "goal": {"minor": 10_000, "currency": "EUR"},
        "deadline_ms": T + 10 * DAY,
        "tiers": [{"name": "Backer", "min_minor": 3_500, "reward": "early access"}],
    });
    let p = w.json("POST", "/api/proposals", &org, body).await;
    let id = p["id"].as_u64().unwrap_or_else(|| panic!("{p}"));
    let at = format!("/api/proposals/{id}");
    let paths = [
        at.clone(),
        "/api/proposals".into(),
        format!("/proposals/{id}"),
        "/proposals".into(),
        "/".into(),
    ];
    let (mut seen, mut rival_seen) = (Seen::new(), Seen::new());
    let look = async |when: &str, seen: &mut Seen, rival_seen: &mut Seen| {
        // A sign-in lasts a day: the organisations sign in again to look.
        for (token, name) in [(&org, "thermo"), (&rival, "rival")] {
            let session = outside::session(&w.pds, name);
            w.sessions.lock().unwrap().insert(token.clone(), session);
        }
        for path in &paths {
            seen.push((
                format!("{when} GET {path}"),
                w.call("GET", path, &org, None).await,
            ));
            let got = w.call("GET", path, &rival, None).await;
            rival_seen.push((format!("{when} GET {path}"), got));
        }
    };
    look("submitted", &mut seen, &mut rival_seen).await;
    clock.set(T + DAY);
    let approve = json!({"decision": "approve"});
    let r = w
        .json("POST", &format!("{at}/review"), &officer, approve)
        .await;
    assert_eq!(r["status"], "public", "{r}");
    clock.set(T + 2 * DAY);
    // What members chose to publish: the same in both worlds.
    for (m, body) in [
        (
            0,
            json!({"kind": "comment", "text": "I want one.", "sign_as": "Alice M."}),
        ),
        (1, json!({"kind": "comment", "text": "Battery life?"})),
        (2, json!({"kind": "suggestion", "text": "A hexagonal one."})),
        (1, json!({"kind": "comment", "text": "And a dial."})),
    ] {
        let c = w
            .json("POST", &format!("{at}/contributions"), &members[m], body)
            .await;
        assert!(c["author"].is_string(), "{c}");
    }
    // (c) Seven vote Round and five Square in both worlds, not the same members.
    for (i, m) in members.iter().enumerate() {
        let round = if first { i < 7 } else { i >= 5 };
        let v = w
            .json(
                "POST",
                &format!("{at}/vote"),
                m,
                json!({"choice": u64::from(!round)}),
            )
            .await;
        assert!(v["my_choice"].is_u64(), "{v}");
    }
    // (a) The same amounts, in the same order, from other members: m1, m2, m3 or m6, m7, m8.
    let pledgers: [usize; 3] = if first { [1, 2, 3] } else { [6, 7, 8] };
    for (m, minor) in pledgers.into_iter().zip([3_000, 4_000, 5_000]) {
        let x = w
            .json(
                "POST",
                &format!("{at}/pledges"),
                &members[m],
                json!({"minor": minor}),
            )
            .await;
        assert_eq!(x["status"], "held", "{x}");
    }
    look("pledged", &mut seen, &mut rival_seen).await;
    // The deadline: the tally drawn with the same seeded noise, escrow paid out.
    clock.set(T + 11 * DAY);
    let settled = codesign::settle_due(w.pds.store.as_ref(), Noise::Seeded(7)).unwrap();
    assert_eq!(settled.len(), 1);
    look("settled", &mut seen, &mut rival_seen).await;
    // m1 sees their own pledge only when they pledged.
    let mine = vec![(
        "m1 GET /api/pledges".to_string(),
        w.call("GET", "/api/pledges", &members[1], None).await,
    )];
    // Pseudonyms and commitments come from this store's secrets: named by what they stand for.
    let store = w.pds.store.as_ref();
    let mut names: Vec<(String, String)> = Vec::new();
    for i in 0..MEMBERS {
        let person = crate::common::person_of(store, &format!("m{i}"));
        names.push((
            codesign::pseudonym(store, id, person).unwrap(),
            format!("member#{i}"),
        ));
    }
    let p = store.proposal(id).unwrap();
    for v in &p.versions {
        names.push((v.commitment.clone(), format!("commitment#{}", v.number)));
    }
    for c in store.contributions(id).unwrap() {
        if let Some(commitment) = c.commitment {
            names.push((commitment, format!("commitment#suggestion{}", c.id)));
        }
    }
    let rename = |seen: Seen| -> Seen {
        seen.into_iter()
            .map(|(what, mut got)| {
                for (from, to) in &names {
                    got = got.replace(from.as_str(), to);
                }
                (what, normalise(got))
            })
            .collect()
    };
    (rename(seen), rename(rival_seen), mine)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisation_sees_the_same_proposal_whoever_pledged_voted_or_holds_what() {
    let (org_first, rival_first, m1_first) = codesign_scenario(Members::First).await;
    let (org_second, rival_second, m1_second) = codesign_scenario(Members::Second).await;
    assert_same(&org_first, &org_second, "the proposal's organisation");
    assert_same(&rival_first, &rival_second, "another organisation");
    // The worlds do differ where it is the member's to see: m1 pledged in the first only.
    assert_ne!(m1_first, m1_second, "the pledges were not exercised");
    let view = |when: &str| -> Value {
        let got = &org_first
            .iter()
            .find(|(what, _)| *what == format!("{when} GET /api/proposals/1"))
            .unwrap()
            .1;
        serde_json::from_str(got.split_once(' ').unwrap().1).unwrap()
    };
    // What members chose to publish reaches the organisation: the signed name, and the
    // per-proposal pseudonym of each unsigned author, the same for both of m1's comments.
    let pledged = view("pledged");
    let authors: Vec<&str> = pledged["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["author"].as_str().unwrap())
        .collect();
    assert_eq!(authors, ["Alice M.", "member#1", "member#2", "member#1"]);
    // Before the close, no count; the escrow's total and number, never who.
    assert!(
        pledged["ballot"]["counts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["count"]["shown"] == "withheld"),
        "{pledged}"
    );
    assert_eq!(
        (
            pledged["pledged"]["minor"].as_i64(),
            pledged["pledges"].as_u64()
        ),
        (Some(12_000), Some(3))
    );
    let settled = view("settled");
    assert_eq!(settled["status"], "funded");
    assert!(
        settled["ballot"]["counts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["count"]["shown"] != "withheld"),
        "{settled}"
    );
    let page = &org_first
        .iter()
        .find(|(what, _)| what == "pledged GET /proposals/1")
        .unwrap()
        .1;
    assert!(
        page.starts_with("200") && page.contains("Alice M.") && page.contains("member#1"),
        "{page}"
    );
    // Every look was answered (the pages too: the organisations signed in again), except a
    // proposal in review for the rival, the same 404 as one that does not exist.
    for (what, got) in &org_first {
        assert!(got.starts_with("200"), "{what}: {got}");
    }
    for (what, got) in &rival_first {
        let in_review = what.starts_with("submitted GET /") && what.ends_with("proposals/1");
        let want = if in_review { "404" } else { "200" };
        assert!(got.starts_with(want), "{what}: {got}");
    }
    // The rival sees the public proposal, without the officer's reviews.
    let rival = &rival_first
        .iter()
        .find(|(what, _)| what == "settled GET /api/proposals/1")
        .unwrap()
        .1;
    assert!(
        rival.starts_with("200") && rival.contains("\"reviews\":[]"),
        "{rival}"
    );
}
