//! Co-design through the API and the pages: an organisation's proposal from submission to
//! settlement (the patent officer's review and reasons, members' comments, votes and pledges,
//! escrow paid out less commission, rewards, a zero trial balance), proofs of what was
//! submitted, and the member's and the organisation's pages. Who may call what is in the
//! role × endpoint matrices (`server.rs`, `pages.rs`); what the organisation's view may depend
//! on is in `noninterference.rs`.

use std::sync::Arc;

use axum::http::StatusCode;
use insitu_core::account::Role;
use insitu_core::clock::ManualClock;
use insitu_core::ledger::{Party, balances, trial_balance};
use insitu_core::pds::Pds;
use insitu_server::{AppState, limit::RateLimits, router};
use serde_json::{Value, json};

use crate::{common, outside};

/// 2026-01-01T00:00:00Z.
const T: i64 = 1_767_225_600_000;
const DAY: i64 = 86_400_000;

struct World {
    _dir: tempfile::TempDir,
    app: axum::Router,
    pds: Arc<Pds>,
    clock: Arc<ManualClock>,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::at(T);
        let pds = Arc::new(
            Pds::builder(dir.path())
                .clock(clock.clone())
                .open()
                .unwrap(),
        );
        let app = router(AppState::new(pds.clone(), RateLimits::default()));
        World {
            _dir: dir,
            app,
            pds,
            clock,
        }
    }

    fn token(&self, name: &str, role: Role) -> String {
        outside::token(&self.pds, name, role)
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let bearer = format!("Bearer {token}");
        let body = body.map(|b| ("application/json", b.to_string().into_bytes()));
        let req = common::request(method, path, &[("authorization", &bearer)], body);
        let (status, _, bytes) = common::answer(&self.app, req).await;
        (
            status,
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into())),
        )
    }

    /// A call that must answer `want`; its body.
    async fn expect(
        &self,
        want: StatusCode,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Value {
        let (st, v) = self.call(method, path, token, body).await;
        assert_eq!(st, want, "{method} {path}: {v}");
        v
    }
}

/// A proposal's body: two designs, a goal of 100.00 EUR, two tiers, ten days to go.
pub fn proposal_body(title: &str) -> Value {
    json!({
        "title": title,
        "description": "Built on the heating study: a thermostat that learns.",
        "options": ["Round", "Square"],
        "studies": [],
        "goal": {"minor": 10_000, "currency": "EUR"},
        "deadline_ms": T + 10 * DAY,
        "tiers": [
            {"name": "Backer", "min_minor": 2_000, "reward": "early access"},
            {"name": "Patron", "min_minor": 5_000, "reward": "the thermostat"},
        ],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proposal_goes_from_review_to_funded_with_escrow_paid_out_and_the_ledger_balanced() {
    use StatusCode as S;
    let w = World::new();
    let org = w.token("Thermo", Role::Organisation);
    let officer = w.token("olga", Role::Officer);
    let operator = w.token("operator", Role::Operator);
    let members: Vec<String> = (0..8)
        .map(|i| w.token(&format!("member{i}"), Role::Person))
        .collect();

    // Submitted: in review, seen by its organisation and the officer only.
    let p = w
        .expect(
            S::CREATED,
            "POST",
            "/api/proposals",
            &org,
            Some(proposal_body("A thermostat")),
        )
        .await;
    let id = p["id"].as_u64().unwrap();
    let at = format!("/api/proposals/{id}");
    assert_eq!(
        (p["status"].as_str(), p["version"].as_u64()),
        (Some("in_review"), Some(1))
    );
    w.expect(S::NOT_FOUND, "GET", &at, &members[0], None).await;
    let listed = w
        .expect(S::OK, "GET", "/api/proposals", &members[0], None)
        .await;
    assert_eq!(listed, json!([]));
    w.expect(
        S::NOT_FOUND,
        "POST",
        &format!("{at}/pledges"),
        &members[0],
        Some(json!({"minor": 500})),
    )
    .await;
    let queue = w.expect(S::OK, "GET", "/api/reviews", &officer, None).await;
    assert_eq!(queue[0]["id"].as_u64(), Some(id), "{queue}");

    // The officer asks for changes, with reasons the organisation reads; still not public.
    let no_reasons = json!({"decision": "request_changes", "reasons": " "});
    w.expect(
        S::BAD_REQUEST,
        "POST",
        &format!("{at}/review"),
        &officer,
        Some(no_reasons),
    )
    .await;
    let asked =
        json!({"decision": "request_changes", "reasons": "Cite the heating study's release."});
    w.expect(
        S::OK,
        "POST",
        &format!("{at}/review"),
        &officer,
        Some(asked),
    )
    .await;
    let seen = w.expect(S::OK, "GET", &at, &org, None).await;
    assert_eq!(seen["status"], "changes_requested");
    assert_eq!(
        seen["reviews"][0]["reasons"],
        "Cite the heating study's release."
    );
    assert_eq!(seen["reviews"][0]["decision"], "request_changes");
    w.expect(S::NOT_FOUND, "GET", &at, &members[0], None).await;
    let again = json!({"decision": "approve"});
    w.expect(
        S::CONFLICT,
        "POST",
        &format!("{at}/review"),
        &officer,
        Some(again.clone()),
    )
    .await;

    // A new version, committed; the officer approves it; members see it, without reviews.
    let mut v2 = proposal_body("A thermostat, citing the heating study");
    v2["description"] = json!("Built on the heating study's release: a thermostat that learns.");
    let revised = w
        .expect(
            S::CREATED,
            "POST",
            &format!("{at}/versions"),
            &org,
            Some(v2),
        )
        .await;
    assert_eq!(
        (revised["status"].as_str(), revised["version"].as_u64()),
        (Some("in_review"), Some(2))
    );
    let commitments: Vec<&str> = revised["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["commitment"].as_str().unwrap())
        .collect();
    assert_eq!(commitments.len(), 2);
    assert_ne!(commitments[0], commitments[1]);
    w.expect(
        S::OK,
        "POST",
        &format!("{at}/review"),
        &officer,
        Some(again),
    )
    .await;
    let public = w.expect(S::OK, "GET", &at, &members[0], None).await;
    assert_eq!(public["status"], "public");
    assert_eq!(public["reviews"], json!([]), "reviews are the proposer's");

    // Members take part: one signs, one does not, one suggests; eight vote; five pledge.
    let signed =
        json!({"kind": "comment", "text": "I want one for my flat.", "sign_as": "Alice M."});
    let c = w
        .expect(
            S::CREATED,
            "POST",
            &format!("{at}/contributions"),
            &members[0],
            Some(signed),
        )
        .await;
    assert_eq!(
        (c["author"].as_str(), c["signed"].as_bool()),
        (Some("Alice M."), Some(true))
    );
    let unsigned = json!({"kind": "comment", "text": "Battery life?"});
    let c = w
        .expect(
            S::CREATED,
            "POST",
            &format!("{at}/contributions"),
            &members[1],
            Some(unsigned),
        )
        .await;
    let pseudonym = c["author"].as_str().unwrap().to_string();
    assert!(pseudonym.starts_with("member-"), "{c}");
    let suggestion = json!({"kind": "suggestion", "text": "A hexagonal one."});
    let c = w
        .expect(
            S::CREATED,
            "POST",
            &format!("{at}/contributions"),
            &members[2],
            Some(suggestion),
        )
        .await;
    assert!(
        c["commitment"].is_string(),
        "a suggestion is committed: {c}"
    );
    for (i, m) in members.iter().enumerate() {
        let choice = u64::from(i % 4 == 3);
        w.expect(
            S::OK,
            "POST",
            &format!("{at}/vote"),
            m,
            Some(json!({"choice": choice})),
        )
        .await;
    }
    w.expect(
        S::CONFLICT,
        "POST",
        &format!("{at}/vote"),
        &members[0],
        Some(json!({"choice": 7})),
    )
    .await;
    // 30 + 25 + 20 + 15 + 12 = 102.00 EUR, over the goal; one more pledge is withdrawn.
    for (m, minor) in members.iter().zip([3_000, 2_500, 2_000, 1_500, 1_200]) {
        w.expect(
            S::CREATED,
            "POST",
            &format!("{at}/pledges"),
            m,
            Some(json!({"minor": minor})),
        )
        .await;
    }
    let gone = w
        .expect(
            S::CREATED,
            "POST",
            &format!("{at}/pledges"),
            &members[5],
            Some(json!({"minor": 9_000})),
        )
        .await;
    let gone_at = format!("{at}/pledges/{}/withdraw", gone["id"]);
    w.expect(S::NOT_FOUND, "POST", &gone_at, &members[4], None)
        .await;
    let back = w.expect(S::OK, "POST", &gone_at, &members[5], None).await;
    assert_eq!(back["status"], "withdrawn");
    w.expect(S::CONFLICT, "POST", &gone_at, &members[5], None)
        .await;

    // The organisation: signed name and pseudonym, no count before the close, the escrow's
    // total and number, and nothing that names a member.
    let seen = w.expect(S::OK, "GET", &at, &org, None).await;
    let authors: Vec<&str> = seen["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["author"].as_str().unwrap())
        .collect();
    assert_eq!(authors[..2], ["Alice M.", pseudonym.as_str()]);
    assert!(
        seen["ballot"]["counts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["count"]["shown"] == "withheld"),
        "{seen}"
    );
    assert_eq!(seen["pledged"], json!({"minor": 10_200, "currency": "EUR"}));
    assert_eq!(seen["pledges"], 5);
    assert_eq!(seen["my_pledges"], json!([]));
    for i in 0..8 {
        assert!(!seen.to_string().contains(&format!("member{i}")), "{seen}");
    }
    let mine = w
        .expect(S::OK, "GET", "/api/pledges", &members[0], None)
        .await;
    assert_eq!(
        (mine[0]["status"].as_str(), mine[0]["tier"].as_str()),
        (Some("held"), Some("Backer"))
    );

    // Before the deadline the operator's settle does nothing; after it, escrow pays out.
    let none = w
        .expect(S::OK, "POST", "/api/proposals/settle", &operator, None)
        .await;
    assert_eq!(none, json!([]));
    w.clock.advance(11 * DAY);
    let settled = w
        .expect(S::OK, "POST", "/api/proposals/settle", &operator, None)
        .await;
    assert_eq!(settled[0]["id"].as_u64(), Some(id), "{settled}");
    assert_eq!(settled[0]["status"], "funded");
    let commission_bps = i64::from(w.pds.store.policy().unwrap().commission_bps);
    let commission = 10_200 * commission_bps / 10_000;
    let st = &settled[0]["settlement"];
    assert_eq!(
        (
            st["held_minor"].as_i64(),
            st["paid_minor"].as_i64(),
            st["commission_minor"].as_i64()
        ),
        (Some(10_200), Some(10_200 - commission), Some(commission)),
        "{st}"
    );
    // Rewards: 30.00, 25.00 and 20.00 EUR reach Backer (from 20.00); none Patron (50.00).
    assert_eq!(st["rewards"], json!([3, 0]));
    let again = w
        .expect(S::OK, "POST", "/api/proposals/settle", &operator, None)
        .await;
    assert_eq!(again, json!([]), "settling is idempotent");
    let seen = w.expect(S::OK, "GET", &at, &org, None).await;
    assert_eq!(seen["status"], "funded");
    assert!(
        seen["ballot"]["counts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["count"]["shown"] != "withheld"),
        "{seen}"
    );
    let mine = w
        .expect(S::OK, "GET", "/api/pledges", &members[0], None)
        .await;
    assert_eq!(
        (
            mine[0]["status"].as_str(),
            mine[0]["withdrawable"].as_bool()
        ),
        (Some("paid"), Some(false))
    );
    w.expect(
        S::CONFLICT,
        "POST",
        &format!("{at}/pledges"),
        &members[6],
        Some(json!({"minor": 500})),
    )
    .await;

    // The ledger: escrow empty, the organisation credited less commission, every member's
    // pledge debited (the withdrawn one returned), and the trial balance zero.
    let ledger = w.pds.store.ledger().unwrap();
    let b = balances(&ledger);
    let eur = |p: Party| b.get(&(p, "EUR".to_string())).copied().unwrap_or(0);
    assert_eq!(eur(Party::Escrow(id)), 0);
    assert_eq!(
        eur(Party::Organisation("Thermo".into())),
        10_200 - commission
    );
    let person = |i: usize| crate::common::person_of(w.pds.store.as_ref(), &format!("member{i}"));
    assert_eq!(eur(Party::Person(person(0))), -3_000);
    assert_eq!(eur(Party::Person(person(5))), 0);
    assert!(
        trial_balance(&ledger).values().all(|v| *v == 0),
        "{:?}",
        trial_balance(&ledger)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proposer_proves_what_it_submitted_and_when_and_a_changed_text_fails() {
    use StatusCode as S;
    let w = World::new();
    let org = w.token("Thermo", Role::Organisation);
    let rival = w.token("Rival", Role::Organisation);
    let officer = w.token("olga", Role::Officer);
    let member = w.token("alice", Role::Person);
    let dev = w.token("developer", Role::Developer);
    let p = w
        .expect(
            S::CREATED,
            "POST",
            "/api/proposals",
            &org,
            Some(proposal_body("A thermostat")),
        )
        .await;
    let at = format!("/api/proposals/{}", p["id"]);
    w.clock.advance(DAY);
    let proof = w
        .expect(S::OK, "GET", &format!("{at}/proof?version=1"), &org, None)
        .await;
    assert_eq!(proof["content"]["title"], "A thermostat");
    assert_eq!(proof["commitment"], p["versions"][0]["commitment"]);
    w.expect(S::OK, "GET", &format!("{at}/proof"), &officer, None)
        .await;
    // In review: another organisation and a member are told it does not exist.
    w.expect(S::NOT_FOUND, "GET", &format!("{at}/proof"), &rival, None)
        .await;
    w.expect(S::FORBIDDEN, "GET", &format!("{at}/proof"), &member, None)
        .await;
    w.expect(
        S::CONFLICT,
        "GET",
        &format!("{at}/proof?version=9"),
        &org,
        None,
    )
    .await;
    // Anyone may check it later, for instance the developer to whom it is shown.
    let ok = w
        .expect(
            S::OK,
            "POST",
            "/api/proofs/verify",
            &dev,
            Some(proof.clone()),
        )
        .await;
    assert_eq!(ok["recorded_ms"].as_i64(), Some(T));
    let mut forged = proof.clone();
    forged["content"]["title"] = json!("Another idea");
    let why = w
        .expect(
            S::CONFLICT,
            "POST",
            "/api/proofs/verify",
            &dev,
            Some(forged),
        )
        .await;
    assert!(
        why["message"]
            .as_str()
            .unwrap()
            .contains("text was changed"),
        "{why}"
    );
    let mut moved = proof;
    moved["at_ms"] = json!(T - 1);
    w.expect(S::CONFLICT, "POST", "/api/proofs/verify", &dev, Some(moved))
        .await;
}

/// One page exchange with a session cookie: status, `Location` and body.
async fn page(
    w: &World,
    session: &str,
    method: &str,
    path: &str,
    form: Option<String>,
) -> (StatusCode, String, String) {
    let cookie = format!("insitu_session={session}");
    let headers = [("accept-language", "en"), ("cookie", cookie.as_str())];
    let body = form.map(|f| ("application/x-www-form-urlencoded", f.into_bytes()));
    let (status, headers, bytes) =
        common::answer(&w.app, common::request(method, path, &headers, body)).await;
    let location = headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (
        status,
        location,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a form") + 19;
    html[at..at + 64].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_organisations_and_the_officer_do_it_all_from_their_pages() {
    use StatusCode as S;
    let w = World::new();
    w.token("Thermo", Role::Organisation);
    w.token("olga", Role::Officer);
    w.token("alice", Role::Person);
    w.token("bob", Role::Person);
    let [org, officer, alice, bob] =
        ["Thermo", "olga", "alice", "bob"].map(|n| outside::session(&w.pds, n));

    // The organisation submits from its page, with options and tiers written as lines.
    let (st, _, home) = page(&w, &org, "GET", "/", None).await;
    assert_eq!(st, S::OK);
    assert!(home.contains("href=\"/proposals\""), "{home}");
    let token = csrf(&home);
    let form = format!(
        "csrf={token}&title=A+%3Cthermostat%3E&description=It+learns.&options=Round%0ASquare\
         &studies=&goal=100.00+EUR&deadline=2026-01-11&tiers=Backer%3B+20.00%3B+early+access&contest="
    );
    let (st, to, body) = page(&w, &org, "POST", "/proposals", Some(form)).await;
    assert_eq!(st, S::SEE_OTHER, "{body}");
    let id: u64 = to.rsplit('/').next().unwrap().parse().unwrap();
    let p = w.pds.store.proposal(id).unwrap();
    assert_eq!(p.content().options, ["Round", "Square"]);
    assert_eq!(
        (p.content().goal.minor, p.content().tiers[0].min_minor),
        (10_000, 2_000)
    );

    // The officer's queue: the proposal, escaped, and a decision form with labels.
    let (st, _, queue) = page(&w, &officer, "GET", "/reviews", None).await;
    assert_eq!(st, S::OK);
    assert!(queue.contains("A &lt;thermostat&gt;"), "{queue}");
    assert!(queue.contains(&format!("for=\"reasons-{id}\"")), "{queue}");
    let form = format!(
        "csrf={}&decision=request_changes&reasons=Name+the+study.",
        csrf(&queue)
    );
    let (st, _, body) = page(
        &w,
        &officer,
        "POST",
        &format!("/proposals/{id}/review"),
        Some(form),
    )
    .await;
    assert_eq!(st, S::SEE_OTHER, "{body}");
    let (_, _, mine) = page(&w, &org, "GET", &format!("/proposals/{id}"), None).await;
    assert!(mine.contains("Name the study."), "{mine}");
    assert!(mine.contains("ask for changes"), "{mine}");
    let form = format!(
        "csrf={}&title=A+thermostat&description=It+learns+from+study+1.&options=Round%0ASquare\
         &studies=&goal=100.00+EUR&deadline=2026-01-11&tiers=Backer%3B+20.00%3B+early+access",
        csrf(&mine)
    );
    let (st, _, body) = page(
        &w,
        &org,
        "POST",
        &format!("/proposals/{id}/versions"),
        Some(form),
    )
    .await;
    assert_eq!(st, S::SEE_OTHER, "{body}");
    let (_, _, queue) = page(&w, &officer, "GET", "/reviews", None).await;
    let form = format!("csrf={}&decision=approve&reasons=", csrf(&queue));
    page(
        &w,
        &officer,
        "POST",
        &format!("/proposals/{id}/review"),
        Some(form),
    )
    .await;

    // Alice comments signed, Bob unsigned; both vote; Alice pledges and withdraws.
    let (_, _, list) = page(&w, &alice, "GET", "/proposals", None).await;
    assert!(list.contains("A thermostat"), "{list}");
    let t = csrf(&list);
    for (path, form) in [
        (
            "contributions",
            format!("csrf={t}&kind=comment&text=Yes+please&sign=on&name=Alice+M."),
        ),
        ("vote", format!("csrf={t}&choice=1")),
        ("pledges", format!("csrf={t}&amount=25,00")),
    ] {
        let (st, _, body) = page(
            &w,
            &alice,
            "POST",
            &format!("/proposals/{id}/{path}"),
            Some(form),
        )
        .await;
        assert_eq!(st, S::SEE_OTHER, "{path}: {body}");
    }
    let (_, _, list) = page(&w, &bob, "GET", "/proposals", None).await;
    let t = csrf(&list);
    page(
        &w,
        &bob,
        "POST",
        &format!("/proposals/{id}/contributions"),
        Some(format!("csrf={t}&kind=suggestion&text=Hexagonal")),
    )
    .await;
    let (_, _, list) = page(&w, &alice, "GET", "/proposals", None).await;
    assert!(list.contains("€25.00, held in escrow"), "{list}");
    assert!(list.contains("Square (your vote)"), "{list}");
    let pledge = w.pds.store.pledges(id).unwrap()[0].id;
    let (st, _, _) = page(
        &w,
        &alice,
        "POST",
        &format!("/proposals/{id}/pledges/{pledge}/withdraw"),
        Some(format!("csrf={}", csrf(&list))),
    )
    .await;
    assert_eq!(st, S::SEE_OTHER);
    let (_, _, list) = page(&w, &alice, "GET", "/proposals", None).await;
    assert!(list.contains("withdrawn and refunded"), "{list}");

    // The organisation's page: the signed name, Bob's pseudonym, no count yet, no pledger.
    let (_, _, mine) = page(&w, &org, "GET", &format!("/proposals/{id}"), None).await;
    let bob_id = crate::common::person_of(w.pds.store.as_ref(), "bob");
    let pseudonym = insitu_core::codesign::pseudonym(w.pds.store.as_ref(), id, bob_id).unwrap();
    assert!(mine.contains("Alice M."), "{mine}");
    assert!(mine.contains(&pseudonym), "{mine}");
    assert!(mine.contains("shown when voting closes"), "{mine}");
    assert!(
        mine.contains("Pledged: €0.00 of €100.00 (0 pledges)"),
        "{mine}"
    );
    assert!(!mine.contains("alice") && !mine.contains("bob"), "{mine}");
    // Bob pledges; the organisation changes the proposal, which goes back to the officer:
    // Bob, who pledged, sees the new version while it waits for the officer, is told it
    // changed since he pledged, and withdraws.
    let (_, _, list) = page(&w, &bob, "GET", "/proposals", None).await;
    let form = Some(format!("csrf={}&amount=30", csrf(&list)));
    let (st, _, _) = page(&w, &bob, "POST", &format!("/proposals/{id}/pledges"), form).await;
    assert_eq!(st, S::SEE_OTHER);
    let form = format!(
        "csrf={}&title=A+thermostat%2C+now+with+a+dial&description=It+learns.&goal=100.00+EUR\
         &deadline=2026-01-11&options=Round%0ASquare",
        csrf(&mine)
    );
    let (st, _, body) = page(
        &w,
        &org,
        "POST",
        &format!("/proposals/{id}/versions"),
        Some(form),
    )
    .await;
    assert_eq!(st, S::SEE_OTHER, "{body}");
    let (_, _, list) = page(&w, &bob, "GET", "/proposals", None).await;
    assert!(list.contains("now with a dial"), "{list}");
    assert!(list.contains("waiting for the patent officer"), "{list}");
    assert!(
        list.contains("€30.00, held in escrow, to version 2"),
        "{list}"
    );
    assert!(
        list.contains("The proposal changed since you pledged: you may withdraw."),
        "{list}"
    );
    // Alice, who holds no pledge now, does not see it while it is back with the officer.
    let (_, _, other) = page(&w, &alice, "GET", "/proposals", None).await;
    assert!(!other.contains("now with a dial"), "{other}");
    let pledge = w.pds.store.pledges(id).unwrap()[1].id;
    let withdraw = format!("/proposals/{id}/pledges/{pledge}/withdraw");
    assert!(list.contains(&withdraw), "{list}");
    let (st, _, _) = page(
        &w,
        &bob,
        "POST",
        &withdraw,
        Some(format!("csrf={}", csrf(&list))),
    )
    .await;
    assert_eq!(st, S::SEE_OTHER);
    let refunded = w.pds.store.pledges(id).unwrap()[1].status;
    assert_eq!(refunded, insitu_core::codesign::PledgeStatus::Withdrawn);
    // A page of someone else's proposal in review is not found.
    let (st, _, _) = page(&w, &alice, "GET", "/proposals/999", None).await;
    assert_eq!(st, S::NOT_FOUND);
}

/// Members vote between competing proposals from their page: the contest's section lists its
/// public proposals, a vote is recorded on the contest's ballot (a later one replaces it),
/// a choice outside the contest is refused, and the counts appear only once the last of the
/// contest's deadlines has passed, noisy and each from k.
#[tokio::test]
async fn members_vote_between_competing_proposals_from_their_page() {
    use StatusCode as S;
    use insitu_core::codesign::{self, Ballot, Content, Decision};
    let w = World::new();
    w.token("Thermo", Role::Organisation);
    w.token("alice", Role::Person);
    let alice = outside::session(&w.pds, "alice");
    let store = w.pds.store.as_ref();
    let content = |title: &str| Content {
        title: title.into(),
        description: "A design.".into(),
        options: vec![],
        studies: vec![],
        goal: insitu_core::output::Money {
            minor: 10_000,
            currency: "EUR".into(),
        },
        deadline_ms: T + 5 * DAY,
        tiers: vec![],
    };
    let mut ids = Vec::new();
    for title in ["Round dial", "Touch screen"] {
        let p = codesign::submit(store, "Thermo", Some("dial".into()), content(title)).unwrap();
        codesign::review(store, p.id, "olga", Decision::Approve, "").unwrap();
        ids.push(p.id);
    }
    let (st, _, list) = page(&w, &alice, "GET", "/proposals", None).await;
    assert_eq!(st, S::OK);
    assert!(list.contains("Competing proposals: dial"), "{list}");
    assert!(list.contains("action=\"/contests/dial/vote\""), "{list}");
    let token = csrf(&list);
    for choice in [ids[0], ids[1]] {
        let form = Some(format!("csrf={token}&choice={choice}"));
        let (st, _, body) = page(&w, &alice, "POST", "/contests/dial/vote", form).await;
        assert_eq!(st, S::SEE_OTHER, "{body}");
    }
    let votes = store.votes(&Ballot::Contest("dial".into())).unwrap();
    assert_eq!(votes.len(), 1, "a later vote replaces the earlier");
    assert_eq!(votes[0].choice, ids[1]);
    let form = Some(format!("csrf={token}&choice=999"));
    let (st, _, _) = page(&w, &alice, "POST", "/contests/dial/vote", form).await;
    assert_eq!(st, S::CONFLICT);
    let (_, _, list) = page(&w, &alice, "GET", "/proposals", None).await;
    assert!(list.contains("Touch screen (your vote)"), "{list}");
    assert!(
        !list.contains("fewer than"),
        "no count before the close: {list}"
    );
    w.clock.advance(6 * DAY);
    codesign::settle_due(store, insitu_core::noise::Noise::Seeded(5)).unwrap();
    // A new session: the first one expired with the day.
    let alice = outside::session(&w.pds, "alice");
    let (_, _, list) = page(&w, &alice, "GET", "/proposals", None).await;
    assert!(
        list.contains("fewer than 5"),
        "one vote shows as fewer than k: {list}"
    );
    assert!(
        !list.contains("action=\"/contests/dial/vote\""),
        "closed: {list}"
    );
}
