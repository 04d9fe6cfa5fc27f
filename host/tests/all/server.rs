//! The HTTP API: every endpoint for every role (a person reading another's data, a developer
//! reading anyone's, an organisation trying to get raw records), JSON errors, body limits, the
//! OpenAPI document, metrics, and a graceful stop of the real binary.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use insitu_core::account::{self, Role};
use insitu_core::pds::Pds;
use insitu_server::{AppState, limit::RateLimits, router};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::common;

use insitu_testkit::{signed, trust_examples};

const PASSWORD: &str = "correct horse battery";

struct Server {
    _dir: tempfile::TempDir,
    app: axum::Router,
    pds: Arc<Pds>,
}

impl Server {
    fn new() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let pds = Arc::new(Pds::open(dir.path()).unwrap());
        let app = router(AppState::new(pds.clone(), RateLimits::default()));
        Server {
            _dir: dir,
            app,
            pds,
        }
    }

    /// Creates an account and returns a token with all of its role's scopes.
    fn account(&self, name: &str, role: Role) -> String {
        let store = self.pds.store.as_ref();
        let a = account::create(store, name, PASSWORD, role).unwrap();
        account::issue_token(store, &a, &[], "test", None)
            .unwrap()
            .0
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> (StatusCode, Value) {
        let bearer = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = bearer
            .iter()
            .map(|b| ("authorization", b.as_str()))
            .collect();
        let req = common::request(
            method,
            path,
            &headers,
            body.map(|b| ("application/json", b)),
        );
        let (status, _, bytes) = common::answer(&self.app, req).await;
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value)
    }

    async fn json(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> (StatusCode, Value) {
        self.call(method, path, token, Some(body.to_string().into_bytes()))
            .await
    }
}

const STATEMENT: &str = "account,booked,amount,counterparty,label\n\
    FR7630004000031234,2024-03-05,-45.00 EUR,Agence Dupont Immobilier,FRAIS DE GESTION\n\
    FR7630004000031234,2024-04-05,-30.00 EUR,Agence Dupont Immobilier,FRAIS DE GESTION\n\
    FR7630004000031234,2024-04-07,2450.00 EUR,ACME SA,SALAIRE\n";

/// One endpoint: method, path, body, and the status expected for each of [`WHO`].
type Case = (&'static str, String, Option<Vec<u8>>, [StatusCode; 8]);

/// Roles in the order of the matrix columns.
const WHO: [&str; 8] = [
    "operator",
    "alice",
    "bob",
    "developer",
    "org",
    "org2",
    "officer",
    "anonymous",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_every_role_as_it_should() {
    let s = Server::new();
    trust_examples(s.pds.store.as_ref());
    let tokens: BTreeMap<&str, String> = [
        ("operator", s.account("operator", Role::Operator)),
        ("alice", s.account("alice", Role::Person)),
        ("bob", s.account("bob", Role::Person)),
        ("developer", s.account("developer", Role::Developer)),
        ("org", s.account("UFC Que Choisir", Role::Organisation)),
        ("org2", s.account("Data Broker Inc", Role::Organisation)),
        ("officer", s.account("olga", Role::Officer)),
    ]
    .into_iter()
    .collect();
    let t = |who: &str| tokens.get(who).map(String::as_str);
    let alice = s
        .pds
        .store
        .account_by_name("alice")
        .unwrap()
        .unwrap()
        .person
        .unwrap();

    // Set-up through the API itself: a developer publishes, Alice imports, the organisation
    // asks, Alice approves, the organisation runs.
    let (st, pkg) = s
        .call(
            "POST",
            "/api/packages",
            t("developer"),
            Some(signed(insitu_plugins::FEE_SCANNER)),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{pkg}");
    let digest = pkg["digest"].as_str().unwrap().to_string();
    // The plugin the organisation runs: fee-scanner is a campaign scanner, whose grants never
    // serve an organisation's single run.
    let (st, pkg) = s
        .call(
            "POST",
            "/api/packages",
            t("developer"),
            Some(signed(insitu_plugins::EXFILTRATE)),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{pkg}");
    let (st, imp) = s
        .call(
            "POST",
            "/api/imports?collection=bank.transactions&name=releve.csv",
            t("alice"),
            Some(STATEMENT.as_bytes().to_vec()),
        )
        .await;
    assert_eq!(
        (st, imp["added"].as_u64()),
        (StatusCode::CREATED, Some(3)),
        "{imp}"
    );
    let ask =
        json!({"person": alice, "plugin": "exfiltrate", "purpose": "class action", "days": 30});
    let (st, req) = s.json("POST", "/api/requests", t("org"), ask.clone()).await;
    assert_eq!(st, StatusCode::CREATED, "{req}");
    let req_id = req["id"].as_u64().unwrap();
    assert!(
        req["consent_screen"]
            .as_str()
            .unwrap()
            .contains("UFC Que Choisir asks for access")
    );
    let (st, grant) = s
        .json(
            "POST",
            &format!("/api/requests/{req_id}/approve"),
            t("alice"),
            json!({"keep": {"bank.transactions": ["amount", "label"]}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{grant}");
    let grant_id = grant["id"].as_u64().unwrap();
    assert_eq!(grant["scope"], json!(["bank.transactions: amount, label"]));
    // A plugin that logs every label it reads: the log is the person's alone.
    let run_body = json!({"grant": grant_id, "params": {"channel": "log", "needle": "x"}});
    let (st, run) = s
        .json("POST", "/api/runs", t("org"), run_body.clone())
        .await;
    assert_eq!(
        (st, &run["detail"]),
        (StatusCode::ACCEPTED, &Value::Null),
        "{run}"
    );
    let run_id = run["id"].as_u64().unwrap();
    // A second pending request, for the decision endpoints.
    let (_, pending) = s
        .json("POST", "/api/requests", t("org2"), ask.clone())
        .await;
    let pending_id = pending["id"].as_u64().unwrap();

    use StatusCode as S;
    let (ok, created, bad, forbidden, missing, anon) = (
        S::OK,
        S::CREATED,
        S::BAD_REQUEST,
        S::FORBIDDEN,
        S::NOT_FOUND,
        S::UNAUTHORIZED,
    );
    let new_account =
        json!({"name": "newcomer", "password": PASSWORD, "role": "person"}).to_string();
    let reception =
        json!({"organisation": "UFC Que Choisir", "collection": "purchases.products"}).to_string();
    let returned =
        br#"{"recorded": "2024-04-02", "product": "Chips", "declared_quantity": 150, "unit": "g"}"#
            .to_vec();
    // Other people's imports carry other values, so that what Alice's data looks like can be
    // searched for in every answer to someone else.
    let csv = b"account,booked,amount,counterparty,label\nXX-OTHER,2024-05-01,-1.00 EUR,Other Shop,OTHER LABEL\n".to_vec();
    // The operator's checkpoint, for the audit rows below.
    insitu_core::audit::publish_checkpoint(
        s.pds.store.as_ref(),
        &ed25519_dalek::SigningKey::from_bytes(&[5; 32]),
        0,
    )
    .unwrap()
    .unwrap();
    // Co-design: a public proposal of the organisation's in a contest, with a pledge of
    // Alice's, and one in review.
    let store = s.pds.store.as_ref();
    let deadline_ms = store.now_ms() + 30 * 86_400_000;
    let content = |title: &str| insitu_core::codesign::Content {
        title: title.into(),
        description: "a thermostat".into(),
        options: vec!["Round".into(), "Square".into()],
        studies: vec![],
        goal: insitu_core::output::Money {
            minor: 10_000,
            currency: "EUR".into(),
        },
        deadline_ms,
        tiers: vec![],
    };
    let public = insitu_core::codesign::submit(
        store,
        "UFC Que Choisir",
        Some("thermostats".into()),
        content("public"),
    )
    .unwrap()
    .id;
    insitu_core::codesign::review(
        store,
        public,
        "olga",
        insitu_core::codesign::Decision::Approve,
        "",
    )
    .unwrap();
    let in_review = insitu_core::codesign::submit(store, "UFC Que Choisir", None, content("draft"))
        .unwrap()
        .id;
    let alices_pledge = insitu_core::codesign::pledge(store, public, alice, 700)
        .unwrap()
        .id;
    let proof = serde_json::to_vec(
        &insitu_core::codesign::prove(store, public, 1, &insitu_core::codesign::Reader::Operator)
            .unwrap(),
    )
    .unwrap();
    let new_proposal = serde_json::to_vec(&json!({
        "title": "another", "description": "d", "goal": {"minor": 100, "currency": "EUR"},
        "deadline_ms": store.now_ms() + 86_400_000,
    }))
    .unwrap();
    let revision = |title: &str| serde_json::to_vec(&content(title)).unwrap();
    let vote = br#"{"choice": 0}"#.to_vec();
    let contest_vote = format!(r#"{{"choice": {public}}}"#).into_bytes();
    let comment = br#"{"kind": "comment", "text": "nice"}"#.to_vec();
    let review = br#"{"decision": "request_changes", "reasons": "name the study"}"#.to_vec();
    let pledge = br#"{"minor": 500}"#.to_vec();
    // (method, path, body, expected for operator, alice, bob, developer, org, org2, officer,
    // anonymous)
    let matrix: Vec<Case> = vec![
        (
            "GET",
            "/api/me".into(),
            None,
            [ok, ok, ok, ok, ok, ok, ok, anon],
        ),
        (
            "GET",
            "/api/me/export".into(),
            None,
            [
                forbidden, ok, ok, forbidden, forbidden, forbidden, forbidden, anon,
            ],
        ),
        (
            "DELETE",
            "/api/me".into(),
            Some(br#"{"password": "not the password"}"#.to_vec()),
            [
                forbidden, anon, anon, forbidden, forbidden, forbidden, forbidden, anon,
            ],
        ),
        (
            "GET",
            "/api/ledger".into(),
            None,
            [ok, ok, ok, ok, ok, ok, forbidden, anon],
        ),
        (
            "GET",
            "/api/receptions".into(),
            None,
            [forbidden, ok, ok, forbidden, ok, ok, forbidden, anon],
        ),
        (
            "POST",
            "/api/receptions".into(),
            Some(reception.clone().into_bytes()),
            [
                forbidden, created, created, forbidden, forbidden, forbidden, forbidden, anon,
            ],
        ),
        (
            "POST",
            format!("/api/returns?person={alice}&collection=purchases.products"),
            Some(returned.clone()),
            [
                forbidden, forbidden, forbidden, forbidden, created, missing, forbidden, anon,
            ],
        ),
        (
            "POST",
            "/api/receptions/1/revoke".into(),
            None,
            [
                forbidden, ok, missing, forbidden, forbidden, forbidden, forbidden, anon,
            ],
        ),
        (
            "GET",
            "/api/tokens".into(),
            None,
            [ok, ok, ok, ok, ok, ok, ok, anon],
        ),
        (
            "POST",
            "/api/accounts".into(),
            Some(new_account.into_bytes()),
            [
                created, forbidden, forbidden, forbidden, forbidden, forbidden, forbidden, anon,
            ],
        ),
        (
            "GET",
            "/api/collections".into(),
            None,
            [ok, ok, ok, ok, ok, ok, ok, anon],
        ),
        (
            "POST",
            "/api/imports?collection=bank.transactions".into(),
            Some(csv),
            [
                forbidden, created, created, forbidden, forbidden, forbidden, forbidden, anon,
            ],
        ),
        (
            "GET",
            "/api/packages".into(),
            None,
            [ok, ok, ok, ok, ok, ok, ok, anon],
        ),
        (
            "GET",
            format!("/api/packages/{digest}"),
            None,
            [ok, ok, ok, ok, ok, ok, ok, anon],
        ),
        (
            "POST",
            "/api/packages".into(),
            Some(b"not a package".to_vec()),
            [
                forbidden, forbidden, forbidden, bad, forbidden, forbidden, forbidden, anon,
            ],
        ),
        (
            "POST",
            "/api/requests".into(),
            Some(ask.to_string().into_bytes()),
            [
                forbidden, forbidden, forbidden, forbidden, created, created, forbidden, anon,
            ],
        ),
        (
            "GET",
            "/api/requests".into(),
            None,
            [forbidden, ok, ok, forbidden, ok, ok, forbidden, anon],
        ),
        (
            "GET",
            format!("/api/requests/{req_id}"),
            None,
            [
                forbidden, ok, missing, forbidden, ok, missing, forbidden, anon,
            ],
        ),
        (
            "POST",
            format!("/api/requests/{pending_id}/approve"),
            Some(b"{}".to_vec()),
            [
                forbidden, created, missing, forbidden, forbidden, forbidden, forbidden, anon,
            ],
        ),
        (
            "POST",
            format!("/api/requests/{pending_id}/deny"),
            None,
            [
                forbidden,
                S::CONFLICT,
                missing,
                forbidden,
                forbidden,
                forbidden,
                forbidden,
                anon,
            ],
        ),
        (
            "GET",
            "/api/grants".into(),
            None,
            [forbidden, ok, ok, forbidden, ok, ok, forbidden, anon],
        ),
        (
            "GET",
            format!("/api/grants/{grant_id}"),
            None,
            [
                forbidden, ok, missing, forbidden, ok, missing, forbidden, anon,
            ],
        ),
        (
            "POST",
            "/api/runs".into(),
            Some(run_body.to_string().into_bytes()),
            [
                forbidden,
                created,
                missing,
                forbidden,
                S::ACCEPTED,
                missing,
                forbidden,
                anon,
            ],
        ),
        (
            "GET",
            "/api/runs".into(),
            None,
            [forbidden, ok, ok, forbidden, ok, ok, forbidden, anon],
        ),
        (
            "GET",
            format!("/api/runs/{run_id}"),
            None,
            [
                forbidden, ok, missing, forbidden, ok, missing, forbidden, anon,
            ],
        ),
        // The plugin's output is addressed to the person alone: the organisation that ran it
        // does not read it.
        (
            "GET",
            format!("/api/runs/{run_id}/output"),
            None,
            [
                forbidden, ok, missing, forbidden, missing, missing, forbidden, anon,
            ],
        ),
        (
            "GET",
            "/api/audit".into(),
            None,
            [ok, ok, ok, forbidden, forbidden, forbidden, forbidden, anon],
        ),
        // A person's chain: their own, or the operator's to read; another person's is not
        // found.
        (
            "GET",
            format!("/api/audit?person={alice}"),
            None,
            [
                ok, ok, missing, forbidden, forbidden, forbidden, forbidden, anon,
            ],
        ),
        (
            "GET",
            "/api/audit/chain".into(),
            None,
            [ok, ok, ok, forbidden, forbidden, forbidden, forbidden, anon],
        ),
        (
            "GET",
            format!("/api/audit/chain?person={alice}"),
            None,
            [
                ok, ok, missing, forbidden, forbidden, forbidden, forbidden, anon,
            ],
        ),
        (
            "GET",
            "/api/audit/checkpoint".into(),
            None,
            [ok, ok, ok, forbidden, forbidden, forbidden, forbidden, anon],
        ),
        (
            "GET",
            format!("/api/audit/checkpoint?person={alice}"),
            None,
            [
                ok, ok, missing, forbidden, forbidden, forbidden, forbidden, anon,
            ],
        ),
        (
            "POST",
            format!("/api/grants/{grant_id}/revoke"),
            None,
            [
                forbidden, ok, missing, forbidden, forbidden, forbidden, forbidden, anon,
            ],
        ),
        (
            "POST",
            "/api/proposals".into(),
            Some(new_proposal),
            [
                forbidden, forbidden, forbidden, forbidden, created, created, forbidden, anon,
            ],
        ),
        (
            "GET",
            "/api/proposals".into(),
            None,
            [ok, ok, ok, forbidden, ok, ok, ok, anon],
        ),
        // In review: its organisation, the officer and the operator; the others are told it
        // does not exist.
        (
            "GET",
            format!("/api/proposals/{in_review}"),
            None,
            [ok, missing, missing, forbidden, ok, missing, ok, anon],
        ),
        (
            "GET",
            format!("/api/proposals/{public}"),
            None,
            [ok, ok, ok, forbidden, ok, ok, ok, anon],
        ),
        (
            "POST",
            format!("/api/proposals/{in_review}/versions"),
            Some(revision("draft, changed")),
            [
                forbidden, forbidden, forbidden, forbidden, created, missing, forbidden, anon,
            ],
        ),
        // Public: another organisation sees it, and may not change it; its own organisation
        // is told the version is the same.
        (
            "POST",
            format!("/api/proposals/{public}/versions"),
            Some(revision("public")),
            [
                forbidden,
                forbidden,
                forbidden,
                forbidden,
                S::CONFLICT,
                forbidden,
                forbidden,
                anon,
            ],
        ),
        (
            "GET",
            "/api/reviews".into(),
            None,
            [
                forbidden, forbidden, forbidden, forbidden, forbidden, forbidden, ok, anon,
            ],
        ),
        (
            "POST",
            format!("/api/proposals/{in_review}/review"),
            Some(review),
            [
                forbidden, forbidden, forbidden, forbidden, forbidden, forbidden, ok, anon,
            ],
        ),
        (
            "POST",
            format!("/api/proposals/{public}/contributions"),
            Some(comment.clone()),
            [
                forbidden, created, created, forbidden, forbidden, forbidden, forbidden, anon,
            ],
        ),
        (
            "POST",
            format!("/api/proposals/{in_review}/contributions"),
            Some(comment),
            [
                forbidden, missing, missing, forbidden, forbidden, forbidden, forbidden, anon,
            ],
        ),
        (
            "POST",
            format!("/api/proposals/{public}/vote"),
            Some(vote),
            [
                forbidden, ok, ok, forbidden, forbidden, forbidden, forbidden, anon,
            ],
        ),
        (
            "POST",
            "/api/contests/thermostats/vote".into(),
            Some(contest_vote),
            [
                forbidden, ok, ok, forbidden, forbidden, forbidden, forbidden, anon,
            ],
        ),
        (
            "GET",
            "/api/contests/thermostats".into(),
            None,
            [ok, ok, ok, forbidden, ok, ok, ok, anon],
        ),
        (
            "GET",
            "/api/contests/nothing".into(),
            None,
            [
                missing, missing, missing, forbidden, missing, missing, missing, anon,
            ],
        ),
        (
            "POST",
            format!("/api/proposals/{public}/pledges"),
            Some(pledge.clone()),
            [
                forbidden, created, created, forbidden, forbidden, forbidden, forbidden, anon,
            ],
        ),
        (
            "POST",
            format!("/api/proposals/{in_review}/pledges"),
            Some(pledge),
            [
                forbidden, missing, missing, forbidden, forbidden, forbidden, forbidden, anon,
            ],
        ),
        (
            "POST",
            format!("/api/proposals/{public}/pledges/{alices_pledge}/withdraw"),
            None,
            [
                forbidden, ok, missing, forbidden, forbidden, forbidden, forbidden, anon,
            ],
        ),
        (
            "GET",
            "/api/pledges".into(),
            None,
            [
                forbidden, ok, ok, forbidden, forbidden, forbidden, forbidden, anon,
            ],
        ),
        (
            "GET",
            format!("/api/proposals/{in_review}/proof"),
            None,
            [ok, forbidden, forbidden, forbidden, ok, missing, ok, anon],
        ),
        (
            "GET",
            format!("/api/proposals/{public}/proof?version=1"),
            None,
            [ok, forbidden, forbidden, forbidden, ok, forbidden, ok, anon],
        ),
        (
            "POST",
            "/api/proofs/verify".into(),
            Some(proof),
            [ok, ok, ok, ok, ok, ok, ok, anon],
        ),
        (
            "POST",
            "/api/proposals/settle".into(),
            None,
            [
                ok, forbidden, forbidden, forbidden, forbidden, forbidden, forbidden, anon,
            ],
        ),
    ];
    let mut seen_by_others = String::new();
    for (method, path, body, expected) in &matrix {
        for (who, want) in WHO.iter().zip(expected) {
            let (got, value) = s.call(method, path, t(who), body.clone()).await;
            assert_eq!(got, *want, "{method} {path} as {who}: {value}");
            if !got.is_success() {
                let code = value["code"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{method} {path} as {who}: no JSON error: {value}"));
                assert!(!code.is_empty() && value["message"].is_string(), "{value}");
            }
            if *who != "alice" {
                seen_by_others.push_str(&value.to_string());
            }
        }
    }
    // No answer to anyone but Alice carried her records: not the account number, not a
    // counterparty, not a finding's label, not her salary (2450.00 EUR, 245000 in cents) as a
    // number of its own: a timestamp or a fuel figure with those digits inside is not one.
    for raw in [
        "FR7630004000031234",
        "Agence Dupont",
        "FRAIS DE GESTION",
        "2450",
        "245000",
    ] {
        let whole = |at: usize| {
            let digit = |i: Option<&u8>| i.is_some_and(u8::is_ascii_digit);
            !digit(
                at.checked_sub(1)
                    .and_then(|i| seen_by_others.as_bytes().get(i)),
            ) && !digit(seen_by_others.as_bytes().get(at + raw.len()))
        };
        assert!(
            !seen_by_others.match_indices(raw).any(|(at, _)| whole(at)),
            "`{raw}` reached someone other than Alice"
        );
    }
    // Lists are filtered to the caller, not merely allowed.
    let (_, bob_requests) = s.call("GET", "/api/requests", t("bob"), None).await;
    assert_eq!(bob_requests, json!([]));
    let (_, org2_grants) = s.call("GET", "/api/grants", t("org2"), None).await;
    assert!(
        org2_grants
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["requester"] == "Data Broker Inc"),
        "{org2_grants}"
    );
    let (_, bob_audit) = s.call("GET", "/api/audit", t("bob"), None).await;
    assert!(
        !bob_audit.to_string().contains(&format!("person {alice}")),
        "{bob_audit}"
    );
    let (_, check) = s
        .call("GET", &format!("/api/grants/{grant_id}"), t("org"), None)
        .await;
    assert_eq!(
        (check["live"].as_bool(), check["id"].as_u64()),
        (Some(false), Some(grant_id)),
        "{check}"
    );
    assert!(
        check["reason"].as_str().unwrap().contains("revoked"),
        "{check}"
    );
    // A revoked grant starts no run, for its person or its organisation; the refusal read
    // nothing, so the organisation is told why.
    let (st, refused) = s.json("POST", "/api/runs", t("org"), run_body).await;
    assert_eq!(st, forbidden, "{refused}");
    assert!(
        refused["message"].as_str().unwrap().contains("revoked"),
        "{refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_scoped_expire_and_revoke() {
    let s = Server::new();
    s.account("alice", Role::Person);
    let login = |scopes: Value| json!({"name": "alice", "password": PASSWORD, "scopes": scopes, "label": "phone"});
    let (st, e) = s
        .json(
            "POST",
            "/api/tokens",
            None,
            json!({"name": "alice", "password": "wrong password!"}),
        )
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );
    let (st, e) = s
        .json(
            "POST",
            "/api/tokens",
            None,
            json!({"name": "nobody", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        st,
        StatusCode::UNAUTHORIZED,
        "an unknown name answers like a wrong password: {e}"
    );
    let (st, e) = s
        .json("POST", "/api/tokens", None, login(json!(["publish"])))
        .await;
    assert_eq!(
        st,
        StatusCode::FORBIDDEN,
        "a person's token cannot publish: {e}"
    );
    let (st, read_only) = s
        .json("POST", "/api/tokens", None, login(json!(["read"])))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{read_only}");
    let secret = read_only["token"].as_str().unwrap().to_string();
    let (st, _) = s.call("GET", "/api/collections", Some(&secret), None).await;
    assert_eq!(st, StatusCode::OK);
    let (st, e) = s
        .call(
            "POST",
            "/api/imports?collection=bank.transactions",
            Some(&secret),
            Some(STATEMENT.as_bytes().to_vec()),
        )
        .await;
    assert_eq!(
        st,
        StatusCode::FORBIDDEN,
        "a read-only token cannot import: {e}"
    );
    assert!(
        e["message"].as_str().unwrap().contains("`Import` scope"),
        "{e}"
    );
    // The store keeps only a hash of the secret.
    let stored = s.pds.store.tokens(1).unwrap();
    assert!(stored.iter().all(|t| !t.hash.contains(&secret[4..])));
    let id = read_only["id"].as_u64().unwrap();
    // A read-only token cannot revoke the account's full-scope token (id 1).
    let (st, e) = s.call("DELETE", "/api/tokens/1", Some(&secret), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    assert!(s.pds.store.tokens(1).unwrap()[0].revoked_ms.is_none());
    // It revokes itself.
    let (st, _) = s
        .call("DELETE", &format!("/api/tokens/{id}"), Some(&secret), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = s.call("GET", "/api/me", Some(&secret), None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "a revoked token still works");
    // Issuing and revoking are audited, and the chain holds.
    let log = s.pds.store.audit_log().unwrap();
    insitu_core::audit::verify_all(s.pds.store.as_ref(), None).unwrap();
    use insitu_core::audit::AuditEvent::{TokenIssued, TokenRevoked};
    assert!(
        log.iter()
            .any(|e| matches!(e.event, TokenIssued { token, .. } if token == id))
    );
    assert!(
        log.iter()
            .any(|e| matches!(e.event, TokenRevoked { token, .. } if token == id))
    );
    // An expired token: zero days.
    let (_, expired) = s
        .json(
            "POST",
            "/api/tokens",
            None,
            json!({"name": "alice", "password": PASSWORD, "days": 0}),
        )
        .await;
    let (st, _) = s
        .call("GET", "/api/me", expired["token"].as_str(), None)
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "an expired token still works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_json_4xx_never_a_5xx() {
    let s = Server::new();
    let alice = s.account("alice", Role::Person);
    let a = Some(alice.as_str());
    for (method, path, body) in [
        (
            "POST",
            "/api/requests/1/approve",
            Some(b"{not json".to_vec()),
        ),
        ("POST", "/api/requests/abc/approve", Some(b"{}".to_vec())),
        ("GET", "/api/runs/99999999999999999999999", None),
        ("POST", "/api/runs", Some(b"{\"grant\": \"one\"}".to_vec())),
        ("POST", "/api/imports?format=pdf", Some(b"%PDF".to_vec())),
        (
            "POST",
            "/api/imports?collection=bank.transactions",
            Some(b"account,booked\nx,not a date\n".to_vec()),
        ),
        ("POST", "/api/imports", Some(b"\x00\x01\x02".to_vec())),
        ("GET", "/api/nothing-here", None),
        ("GET", "/api/grants/x", None),
        // Store errors: the thing named, never a command-line hint.
        (
            "POST",
            "/api/imports?collection=no.such",
            Some(b"a,b\n1,2\n".to_vec()),
        ),
        ("GET", "/api/runs/424242", None),
        ("POST", "/api/grants/424242/revoke", None),
    ] {
        let (st, e) = s.call(method, path, a, body).await;
        assert!(st.is_client_error(), "{method} {path}: {st} {e}");
        assert!(
            e["code"].is_string() && e["message"].is_string(),
            "{method} {path}: {e}"
        );
        let message = e["message"].as_str().unwrap_or_default();
        assert!(
            !message.contains("`insitu ") && !message.contains("hint:"),
            "{method} {path}: a command-line hint in an API answer: {e}"
        );
    }
    // A JSON body over the limit is refused before it is read whole.
    let big = vec![b' '; insitu_server::MAX_BODY + 1];
    let (st, e) = s.call("POST", "/api/runs", a, Some(big)).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{e}");
    assert!(e["code"].is_string(), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unbalanced_statement_is_imported_through_the_api_only_when_asked() {
    let s = Server::new();
    let alice = s.account("alice", Role::Person);
    let a = Some(alice.as_str());
    let camt = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../formats/tests/fixtures/camt/unbalanced.xml"
    ))
    .unwrap();
    let (st, e) = s
        .call("POST", "/api/imports?name=u.xml", a, Some(camt.clone()))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("does not add up"),
        "{e}"
    );
    let (st, e) = s
        .call(
            "POST",
            "/api/imports?unbalanced=maybe",
            a,
            Some(camt.clone()),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    let path = "/api/imports?name=u.xml&unbalanced=import";
    let (st, r) = s.call("POST", path, a, Some(camt.clone())).await;
    assert_eq!(
        (st, r["added"].as_u64()),
        (StatusCode::CREATED, Some(4)),
        "{r}"
    );
    assert!(
        r["notes"][0]
            .as_str()
            .unwrap()
            .contains("--unbalanced=import"),
        "{r}"
    );
    // Again: every record is named as already present.
    let (st, r) = s.call("POST", path, a, Some(camt)).await;
    assert_eq!(
        (st, r["duplicates"].as_u64()),
        (StatusCode::CREATED, Some(4)),
        "{r}"
    );
    assert!(!r["duplicate_lines"].as_str().unwrap().is_empty(), "{r}");
    let (_, doc) = s.call("GET", "/openapi.json", None, None).await;
    let params = doc["paths"]["/api/imports"]["post"]["parameters"]
        .as_array()
        .unwrap();
    assert!(
        params
            .iter()
            .any(|p| p["name"] == "unbalanced" && p["in"] == "query"),
        "{params:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_health_and_metrics_are_served() {
    let s = Server::new();
    let (st, doc) = s.call("GET", "/openapi.json", None, None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    for path in [
        "/api/tokens",
        "/api/requests/{id}/approve",
        "/api/runs/{id}/output",
        "/api/imports",
        "/api/audit",
        "/api/audit/chain",
        "/api/audit/checkpoint",
        "/api/returns",
        "/api/me/export",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is not documented");
    }
    assert!(doc["components"]["securitySchemes"]["token"].is_object());
    let (st, body) = s.call("GET", "/healthz", None, None).await;
    assert_eq!((st, body), (StatusCode::OK, Value::String("ok\n".into())));
    s.call("GET", "/api/me", None, None).await;
    // Run counts, fuel and failure reasons depend on people's data: the operator's only.
    let org = s.account("lab", Role::Organisation);
    let (st, _) = s.call("GET", "/metrics", None, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = s.call("GET", "/metrics", Some(&org), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let operator = s.account("root", Role::Operator);
    let (st, text) = s.call("GET", "/metrics", Some(&operator), None).await;
    assert_eq!(st, StatusCode::OK, "{text}");
    let text = text.as_str().unwrap().to_string();
    assert!(text.contains("insitu_runs_total 0"), "{text}");
    assert!(
        text.contains("insitu_http_responses_total{status=\"401\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("insitu_http_request_seconds_bucket{le=\"+Inf\"}"),
        "{text}"
    );
}

#[test]
fn the_binary_serves_on_loopback_and_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let added = common::add_account_with_cli(dir.path(), "root", "operator", PASSWORD);
    assert!(added.contains("(root, Operator) created"), "{added}");
    let (server, addr) = common::serve_binary(dir.path());
    let health = common::exchange(
        &addr,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(
        health.starts_with("HTTP/1.1 200") && health.ends_with("ok\n"),
        "{health}"
    );
    let body = json!({"name": "root", "password": PASSWORD}).to_string();
    let token = common::exchange(
        &addr,
        &format!(
            "POST /api/tokens HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(token.starts_with("HTTP/1.1 201"), "{token}");
    let (exit, log) = common::stop_binary(server);
    assert!(
        exit.success(),
        "the server did not stop cleanly on SIGTERM: {exit:?} {log}"
    );
    // The token issued before the stop is still there: acknowledged writes survive.
    let pds = Pds::open(dir.path()).unwrap();
    assert_eq!(pds.store.tokens(1).unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_over_its_rate_gets_429_and_others_do_not() {
    use insitu_server::limit::Rate;
    let dir = tempfile::tempdir().unwrap();
    let pds = Arc::new(Pds::open(dir.path()).unwrap());
    let slow = Rate {
        per_second: 0.5,
        burst: 3.0,
    };
    let app = router(AppState::new(
        pds.clone(),
        RateLimits {
            per_token: slow,
            per_address: Rate {
                per_second: 0.5,
                burst: 5.0,
            },
            ..RateLimits::default()
        },
    ));
    let store = pds.store.as_ref();
    let a = account::create(store, "alice", PASSWORD, Role::Person).unwrap();
    let b = account::create(store, "bob", PASSWORD, Role::Person).unwrap();
    let (ta, _) = account::issue_token(store, &a, &[], "", None).unwrap();
    let (tb, _) = account::issue_token(store, &b, &[], "", None).unwrap();
    let call = |token: &str, ip: [u8; 4]| {
        let mut req = Request::get("/api/me")
            .header("authorization", token)
            .body(Body::empty())
            .unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                ip, 4000,
            ))));
        app.clone().oneshot(req)
    };
    let (ta, tb) = (format!("Bearer {ta}"), format!("Bearer {tb}"));
    for _ in 0..3 {
        assert_eq!(
            call(&ta, [10, 0, 0, 1]).await.unwrap().status(),
            StatusCode::OK
        );
    }
    // The same token written another way is the same bucket: the key is the token's id.
    let respelled = format!("  {ta}  ");
    let over = call(&respelled, [10, 0, 0, 3]).await.unwrap();
    assert_eq!(over.status(), StatusCode::TOO_MANY_REQUESTS);
    let over = call(&ta, [10, 0, 0, 1]).await.unwrap();
    assert_eq!(over.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(over.headers().contains_key("retry-after"));
    let body: Value = serde_json::from_slice(
        &axum::body::to_bytes(over.into_body(), 1 << 16)
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(body["code"], "rate_limited");
    // Another token from another address is served. The address 10.0.0.1 has spent 4 of its
    // 5 (every request costs its address, before the token is known): one more passes, then
    // it is refused whatever the token.
    assert_eq!(
        call(&tb, [10, 0, 0, 2]).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        call(&tb, [10, 0, 0, 1]).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        call(&tb, [10, 0, 0, 1]).await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_exports_then_erases_their_account_with_their_password() {
    let s = Server::new();
    let bob = s.account("bob", Role::Person);
    let b = Some(bob.as_str());
    let (st, _) = s
        .call(
            "POST",
            "/api/imports?collection=bank.transactions",
            b,
            Some(STATEMENT.as_bytes().to_vec()),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let resp = s
        .app
        .clone()
        .oneshot(
            Request::get("/api/me/export")
                .header("authorization", format!("Bearer {bob}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "application/x-tar");
    let tar = axum::body::to_bytes(resp.into_body(), 1 << 24)
        .await
        .unwrap();
    assert_eq!(&tar[257..262], b"ustar");
    assert!(String::from_utf8_lossy(&tar).contains("Agence Dupont Immobilier"));
    let (st, e) = s
        .json(
            "DELETE",
            "/api/me",
            b,
            json!({"password": "not my password"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{e}");
    let person = s
        .pds
        .store
        .account_by_name("bob")
        .unwrap()
        .unwrap()
        .person
        .unwrap();
    assert_eq!(
        s.pds.store.count(person, "bank.transactions").unwrap(),
        3,
        "a wrong password erased data"
    );
    let (st, e) = s
        .json("DELETE", "/api/me", b, json!({"password": PASSWORD}))
        .await;
    assert_eq!(
        (st, e["records"].as_u64()),
        (StatusCode::OK, Some(3)),
        "{e}"
    );
    assert_eq!(s.pds.store.count(person, "bank.transactions").unwrap(), 0);
    let (st, _) = s.call("GET", "/api/me", b, None).await;
    assert_eq!(
        st,
        StatusCode::UNAUTHORIZED,
        "the erased account's token still works"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisation_returns_data_only_where_the_person_agreed_and_only_once() {
    let s = Server::new();
    let alice = s.account("alice", Role::Person);
    let org = s.account("Carrefour", Role::Organisation);
    let other = s.account("Data Broker Inc", Role::Organisation);
    let person = s
        .pds
        .store
        .account_by_name("alice")
        .unwrap()
        .unwrap()
        .person
        .unwrap();
    let (a, o, x) = (
        Some(alice.as_str()),
        Some(org.as_str()),
        Some(other.as_str()),
    );
    let purchases = b"{\"recorded\": \"2024-04-02\", \"product\": \"Chips nature 150 g\", \"declared_quantity\": 150, \"unit\": \"g\"}\n\
        {\"recorded\": \"2024-04-09\", \"product\": \"Jus d'orange 1 L\", \"declared_quantity\": 1000, \"unit\": \"ml\"}\n".to_vec();
    let push = format!("/api/returns?person={person}&collection=purchases.products");
    // Nothing is accepted before the person agrees.
    let (st, e) = s.call("POST", &push, o, Some(purchases.clone())).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{e}");
    let (st, r) = s
        .json(
            "POST",
            "/api/receptions",
            a,
            json!({"organisation": "Carrefour", "collection": "purchases.products"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let (st, e) = s
        .json(
            "POST",
            "/api/receptions",
            a,
            json!({"organisation": "nobody", "collection": "purchases.products"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    // The agreed organisation, into the agreed collection: once.
    let (st, first) = s.call("POST", &push, o, Some(purchases.clone())).await;
    assert_eq!(
        (st, first["read"].as_u64()),
        (StatusCode::CREATED, Some(2)),
        "{first}"
    );
    assert_eq!(s.pds.store.count(person, "purchases.products").unwrap(), 2);
    // Noninterference: the organisation is told what its file holds, never what the person's
    // store held. The same push into a store that now holds both records answers the same,
    // byte for byte, and names neither "added" nor "duplicates".
    let (_, again) = s.call("POST", &push, o, Some(purchases.clone())).await;
    assert_eq!(again, first);
    for field in ["added", "duplicates", "duplicate_lines", "clashes", "files"] {
        assert!(first.get(field).is_none(), "{field} in {first}");
    }
    // Another organisation, another collection, a person's own token: refused.
    assert_eq!(
        s.call("POST", &push, x, Some(purchases.clone())).await.0,
        StatusCode::NOT_FOUND
    );
    let elsewhere = format!("/api/returns?person={person}&collection=bank.transactions");
    assert_eq!(
        s.call("POST", &elsewhere, o, Some(purchases.clone()))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.call("POST", &push, a, Some(purchases.clone())).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(s.pds.store.count(person, "purchases.products").unwrap(), 2);
    // Audited, and shown to the person as returned by the organisation.
    let (_, audit) = s.call("GET", "/api/audit", a, None).await;
    assert!(
        audit
            .to_string()
            .contains("2 records returned by Carrefour into person"),
        "{audit}"
    );
    let (_, seen) = s.call("GET", "/api/receptions", x, None).await;
    assert_eq!(seen, json!([]));
    // Withdrawn: no more returns.
    let id = r["id"].as_u64().unwrap();
    let (st, _) = s
        .call("POST", &format!("/api/receptions/{id}/revoke"), a, None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        s.call("POST", &push, o, Some(purchases)).await.0,
        StatusCode::NOT_FOUND
    );
    // The agreement, its withdrawal and the returned records are audited; the chain holds.
    let log = s.pds.store.audit_log().unwrap();
    insitu_core::audit::verify_all(s.pds.store.as_ref(), None).unwrap();
    use insitu_core::audit::AuditEvent as E;
    let org = Some("Carrefour".to_string());
    assert!(
        log.iter().any(
            |e| matches!(&e.event, E::ReceptionAccepted { reception, .. } if *reception == id)
        )
    );
    assert!(
        log.iter()
            .any(|e| matches!(&e.event, E::ReceptionRevoked { reception, .. } if *reception == id))
    );
    assert!(log.iter().any(|e| matches!(&e.event, E::RecordsImported { returned_by, added: 2, .. } if *returned_by == org)));
}

/// Campaign and study endpoints: the association sees thresholded counts and, after an
/// acceptance, the member and what they released; the member sees their evidence; no one
/// else sees anything (404), and only the operator settles.
#[tokio::test]
async fn campaign_and_study_endpoints_answer_only_their_parties() {
    let s = Server::new();
    trust_examples(s.pds.store.as_ref());
    let operator = s.account("operator", Role::Operator);
    let alice = s.account("alice", Role::Person);
    let bob = s.account("bob", Role::Person);
    let dev = s.account("developer", Role::Developer);
    let ufc = s.account("ufc", Role::Organisation);
    let other = s.account("other", Role::Organisation);
    // Results come at each job's release time: within seconds here; counts nearly exact.
    let mut policy = s.pds.store.policy().unwrap();
    policy.member_deadline_ms = 2_000;
    policy.release_margin_ms = 0;
    policy.epsilon_per_month_micro = 1_000_000_000;
    policy.campaign_epsilon_micro = 100_000_000;
    s.pds.store.set_policy(&policy).unwrap();
    let (st, pkg) = s
        .call(
            "POST",
            "/api/packages",
            Some(&dev),
            Some(signed(insitu_plugins::FEE_SCANNER)),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{pkg}");
    let scanner = pkg["digest"].as_str().unwrap().to_string();
    let day =
        |ago: i64| insitu_core::import::format_date(insitu_testkit::now_ms() - ago * 86_400_000);
    for (token, fee) in [(&alice, "-45.00"), (&bob, "-30.00")] {
        let csv = format!(
            "account,booked,amount,counterparty,label\n\
             FR76,{},{fee} EUR,Agence Dupont Immobilier,FRAIS DE GESTION\n\
             FR76,{},2450.00 EUR,ACME SA,SALAIRE\n",
            day(40),
            day(35)
        );
        let (st, _) = s
            .call(
                "POST",
                "/api/imports?collection=bank.transactions",
                Some(token),
                Some(csv.into_bytes()),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);
        let me = s.call("GET", "/api/me", Some(token), None).await.1;
        let ask = json!({"person": me["person"], "plugin": "fee-scanner", "purpose": "campaigns", "days": 30});
        let (_, req) = s.json("POST", "/api/requests", Some(&ufc), ask).await;
        let (st, _) = s
            .json(
                "POST",
                &format!("/api/requests/{}/approve", req["id"]),
                Some(token),
                json!({}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);
    }

    let body = json!({"description": "agency fees", "brand": "Agence Dupont", "association": "ufc",
        "scanner": scanner, "params": {"rule": "agency-fee", "pattern": "frais de gestion", "agreed": "30.00 EUR"}});
    // Only an organisation opens a campaign: not a developer, not a person (Alice, who gave
    // the grants, included).
    for who in [&dev, &alice] {
        let (st, _) = s
            .json("POST", "/api/campaigns", Some(who), body.clone())
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
    }
    assert!(s.pds.store.jobs().unwrap().is_empty());
    let mut low_k = body.clone();
    low_k["k"] = json!(1);
    let (st, e) = s.json("POST", "/api/campaigns", Some(&ufc), low_k).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    let (st, c) = s
        .json("POST", "/api/campaigns", Some(&ufc), body.clone())
        .await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    let id = c["id"].as_u64().unwrap();
    let (st, _) = s.json("POST", "/api/campaigns", Some(&ufc), body).await;
    assert_eq!(
        st,
        StatusCode::CONFLICT,
        "a second campaign with the scanner, too soon"
    );
    let status = loop {
        let (st, c) = s
            .call("GET", &format!("/api/campaigns/{id}"), Some(&ufc), None)
            .await;
        assert_eq!(st, StatusCode::OK, "{c}");
        if c["status"] == "finished" {
            break c;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    // The progress gives no figure (when each member finished is theirs).
    assert_eq!(status["progress"], json!({"percent": 100}));
    // The member runs are the members' alone: the association that obtained the grants does
    // not see them, not even their usage.
    let (_, runs) = s.call("GET", "/api/runs", Some(&ufc), None).await;
    assert_eq!(runs, json!([]), "{runs}");
    let (_, runs) = s.call("GET", "/api/runs", Some(&alice), None).await;
    assert_eq!(runs.as_array().unwrap().len(), 1, "{runs}");
    let run_id = runs[0]["id"].as_u64().unwrap();
    for path in [
        format!("/api/runs/{run_id}"),
        format!("/api/runs/{run_id}/output"),
    ] {
        let (st, _) = s.call("GET", &path, Some(&ufc), None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
        let (st, _) = s.call("GET", &path, Some(&alice), None).await;
        assert_eq!(st, StatusCode::OK, "{path}");
    }
    assert_eq!(
        status["counts"]["matched"],
        json!({"shown": "fewer_than", "value": 5})
    );
    assert_eq!(
        status["counts"]["scanned"],
        json!({"shown": "fewer_than", "value": 5})
    );
    for (who, expected) in [
        (&other, StatusCode::NOT_FOUND),
        // Only organisations read campaigns: a person's account is refused by its role.
        (&alice, StatusCode::FORBIDDEN),
        (&dev, StatusCode::FORBIDDEN),
        (&operator, StatusCode::FORBIDDEN),
    ] {
        for path in [
            format!("/api/campaigns/{id}"),
            format!("/api/campaigns/{id}/claimants"),
        ] {
            let (st, _) = s.call("GET", &path, Some(who), None).await;
            assert_eq!(st, expected, "{path}");
        }
    }
    let (_, claimants) = s
        .call(
            "GET",
            &format!("/api/campaigns/{id}/claimants"),
            Some(&ufc),
            None,
        )
        .await;
    assert_eq!(claimants, json!([]));

    let (st, inv) = s.call("GET", "/api/invitations", Some(&alice), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(inv.as_array().unwrap().len(), 1, "{inv}");
    assert_eq!(inv[0]["findings"][0]["loss"]["minor"], 1500);
    let (_, none) = s.call("GET", "/api/invitations", Some(&bob), None).await;
    assert_eq!(none, json!([]));
    let (st, _) = s.call("GET", "/api/invitations", Some(&ufc), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let answer = json!({"accept": true, "findings": [0]});
    let path = format!("/api/invitations/{id}/answer");
    let (st, _) = s.json("POST", &path, Some(&bob), answer.clone()).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "bob was not invited");
    let (st, _) = s.json("POST", &path, Some(&ufc), answer.clone()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, m) = s.json("POST", &path, Some(&alice), answer.clone()).await;
    assert_eq!(st, StatusCode::OK, "{m}");
    let (st, _) = s.json("POST", &path, Some(&alice), answer).await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (_, claimants) = s
        .call(
            "GET",
            &format!("/api/campaigns/{id}/claimants"),
            Some(&ufc),
            None,
        )
        .await;
    assert_eq!(claimants[0]["name"], "alice");
    assert_eq!(claimants[0]["findings"].as_array().unwrap().len(), 1);

    let settle = json!({"amount": "100.00 EUR", "association_bps": 500});
    let settle_path = format!("/api/campaigns/{id}/settle");
    let (st, _) = s
        .json("POST", &settle_path, Some(&ufc), settle.clone())
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, split) = s
        .json("POST", &settle_path, Some(&operator), settle.clone())
        .await;
    assert_eq!(st, StatusCode::OK, "{split}");
    let total: i64 = split
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["amount"]["minor"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 10_000);
    let (st, _) = s.json("POST", &settle_path, Some(&operator), settle).await;
    assert_eq!(st, StatusCode::CONFLICT);

    // A study needs a study plugin; its status is for the organisation that opened it.
    let study =
        json!({"description": "usage", "plugin": scanner, "epsilon": 0.5, "reward": "0.50 EUR"});
    let (st, e) = s.json("POST", "/api/studies", Some(&ufc), study).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    let (_, pkg) = s
        .call(
            "POST",
            "/api/packages",
            Some(&dev),
            Some(signed(insitu_plugins::USAGE_ANALYTICS)),
        )
        .await;
    // A large ε (the policy above allows it) makes the noise on the cohort negligible, so that
    // an empty cohort is withheld every time, not only most of the time.
    let study = json!({"description": "usage", "plugin": pkg["digest"], "epsilon": 100.0, "reward": "0.50 EUR"});
    let (st, _) = s
        .json("POST", "/api/studies", Some(&alice), study.clone())
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, created) = s.json("POST", "/api/studies", Some(&ufc), study).await;
    assert_eq!(st, StatusCode::CREATED, "{created}");
    let sid = created["id"].as_u64().unwrap();
    let done = loop {
        let (st, v) = s
            .call("GET", &format!("/api/studies/{sid}"), Some(&ufc), None)
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        if v["status"] != "scheduled" {
            break v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(done["status"], "withheld", "no member consented: {done}");
    assert_eq!(done["release"], Value::Null);
    for (who, expected) in [
        (&other, StatusCode::NOT_FOUND),
        (&alice, StatusCode::FORBIDDEN),
    ] {
        let (st, _) = s
            .call("GET", &format!("/api/studies/{sid}"), Some(who), None)
            .await;
        assert_eq!(st, expected);
    }
    let (st, _) = s
        .call("GET", &format!("/api/studies/{id}"), Some(&ufc), None)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "a campaign is not a study");
}

/// Password guesses are throttled per account name (whatever the address) and per address
/// (whatever the name), before the password is checked; a right password costs nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_guesses_are_throttled_per_account_and_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let pds = Arc::new(Pds::open(dir.path()).unwrap());
    // The default bursts (10 per name, 30 per address), refilled slowly enough that the
    // test's own duration does not count.
    use insitu_server::limit::Rate;
    let defaults = RateLimits::default();
    let slow = |r: Rate| Rate {
        per_second: 1e-4,
        ..r
    };
    let limits = RateLimits {
        guesses_per_name: slow(defaults.guesses_per_name),
        guesses_per_address: slow(defaults.guesses_per_address),
        ..defaults
    };
    let app = router(AppState::new(pds.clone(), limits));
    let store = pds.store.as_ref();
    account::create(store, "alice", PASSWORD, Role::Person).unwrap();
    let login = |name: &str, password: &str, ip: [u8; 4]| {
        let mut req = Request::post("/api/tokens")
            .header("content-type", "application/json")
            .body(Body::from(
                json!({"name": name, "password": password}).to_string(),
            ))
            .unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                ip, 4000,
            ))));
        let app = app.clone();
        async move { app.oneshot(req).await.unwrap().status() }
    };
    // Right passwords, many times: never throttled.
    for _ in 0..15 {
        assert_eq!(
            login("alice", PASSWORD, [10, 0, 0, 1]).await,
            StatusCode::CREATED
        );
    }
    // Wrong ones from many addresses: the name's ten guesses, then 429, even for the right
    // password, and even written in capitals.
    let mut statuses = Vec::new();
    for i in 0..12u8 {
        statuses.push(login("alice", "not the password", [10, 1, 0, i]).await);
    }
    assert_eq!(statuses[..10], [StatusCode::UNAUTHORIZED; 10]);
    assert_eq!(statuses[10..], [StatusCode::TOO_MANY_REQUESTS; 2]);
    assert_eq!(
        login("alice", PASSWORD, [10, 2, 0, 1]).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        login(" ALICE", "not the password", [10, 2, 0, 2]).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // One address guessing many names: its thirty guesses, then 429.
    let mut throttled = 0;
    for i in 0..40 {
        if login(&format!("user{i}"), "not the password", [10, 3, 0, 1]).await
            == StatusCode::TOO_MANY_REQUESTS
        {
            throttled += 1;
        }
    }
    assert_eq!(throttled, 10);
}

/// A request to a person who does not exist is answered like one to a person who does (so
/// person ids cannot be enumerated), goes nowhere (not even to a person created later with
/// that id), and an organisation's requests are rate-limited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_do_not_tell_who_exists_and_are_rate_limited_per_organisation() {
    use insitu_server::limit::Rate;
    let dir = tempfile::tempdir().unwrap();
    let pds = Arc::new(Pds::open(dir.path()).unwrap());
    trust_examples(pds.store.as_ref());
    let limits = RateLimits {
        asks_per_organisation: Rate {
            per_second: 0.01,
            burst: 4.0,
        },
        ..RateLimits::default()
    };
    let s = Server {
        _dir: dir,
        app: router(AppState::new(pds.clone(), limits)),
        pds,
    };
    let dev = s.account("developer", Role::Developer);
    let (st, _) = s
        .call(
            "POST",
            "/api/packages",
            Some(&dev),
            Some(signed(insitu_plugins::EXFILTRATE)),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let alice = s.account("alice", Role::Person);
    let org = s.account("org", Role::Organisation);
    let other = s.account("other org", Role::Organisation);
    let ask =
        |person: u64| json!({"person": person, "plugin": "exfiltrate", "purpose": "p", "days": 30});
    // Person 1 is Alice; 2 does not exist yet.
    let (st1, known) = s.json("POST", "/api/requests", Some(&org), ask(1)).await;
    let (st2, unknown) = s.json("POST", "/api/requests", Some(&org), ask(2)).await;
    assert_eq!(
        (st1, st2),
        (StatusCode::CREATED, StatusCode::CREATED),
        "{unknown}"
    );
    let shape = |mut v: Value| {
        for k in ["id", "person"] {
            v[k] = Value::Null;
        }
        v
    };
    assert_eq!(shape(known.clone()), shape(unknown.clone()));
    for v in [&known, &unknown] {
        let (st, read) = s
            .call(
                "GET",
                &format!("/api/requests/{}", v["id"]),
                Some(&org),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(read["status"], "pending");
    }
    // Bob, created now, is person 2: the request made before he existed does not reach him.
    let bob = s.account("bob", Role::Person);
    assert_eq!(
        s.pds.store.account_by_name("bob").unwrap().unwrap().person,
        Some(2)
    );
    let (_, bobs) = s.call("GET", "/api/requests", Some(&bob), None).await;
    assert_eq!(bobs, json!([]));
    let path = format!("/api/requests/{}/approve", unknown["id"]);
    let (st, _) = s.json("POST", &path, Some(&bob), json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, alices) = s.call("GET", "/api/requests", Some(&alice), None).await;
    assert_eq!(alices.as_array().unwrap().len(), 1);
    // Two more pass (four in all), the fifth is refused; another organisation is not.
    for _ in 0..2 {
        let (st, _) = s.json("POST", "/api/requests", Some(&org), ask(1)).await;
        assert_eq!(st, StatusCode::CREATED);
    }
    let (st, e) = s.json("POST", "/api/requests", Some(&org), ask(1)).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "{e}");
    let (st, _) = s.json("POST", "/api/requests", Some(&other), ask(1)).await;
    assert_eq!(st, StatusCode::CREATED);
}

/// A person downloads their chain, page by page, and the latest checkpoint with their
/// inclusion proof, and checks both on their own: the chain links, the proof leads to the
/// signed root, and the head it proves is an entry of the chain. Nothing of anyone else's
/// chain comes with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_downloads_and_checks_their_chain_against_the_checkpoint() {
    use insitu_core::audit::{self, AuditEntry, Chain, ChainHead, PersonCheckpoint};
    let s = Server::new();
    let (a, b) = (
        s.account("alice", Role::Person),
        s.account("bob", Role::Person),
    );
    let (a, b) = (a.as_str(), b.as_str());
    let alice = s
        .pds
        .store
        .account_by_name("alice")
        .unwrap()
        .unwrap()
        .person
        .unwrap();
    for grant in 0..7 {
        s.pds
            .store
            .append_audit(audit::AuditEvent::GrantRevoked {
                grant,
                person: alice,
            })
            .unwrap();
    }
    let (st, _) = s.call("GET", "/api/audit/checkpoint", Some(a), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "no checkpoint yet");
    let key = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
    audit::publish_checkpoint(s.pds.store.as_ref(), &key, 0)
        .unwrap()
        .unwrap();

    // The chain, three entries a page.
    let mut entries: Vec<AuditEntry> = Vec::new();
    let mut origin;
    let mut after: Option<u64> = None;
    loop {
        let path = match after {
            Some(n) => format!("/api/audit/chain?limit=3&after={n}"),
            None => "/api/audit/chain?limit=3".into(),
        };
        let (st, page) = s.call("GET", &path, Some(a), None).await;
        assert_eq!(st, StatusCode::OK, "{page}");
        assert_eq!(page["chain"], json!({ "person": alice }));
        origin = page["origin"].as_str().unwrap().to_string();
        let got: Vec<AuditEntry> = serde_json::from_value(page["entries"].clone()).unwrap();
        assert!(got.len() <= 3);
        entries.extend(got);
        match page["next"].as_u64() {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(
        entries.len(),
        9,
        "person added, account created, 7 revocations"
    );
    audit::verify_chain(Chain::Person(alice), &origin, None, &entries).unwrap();

    let (st, cp) = s.call("GET", "/api/audit/checkpoint", Some(a), None).await;
    assert_eq!(st, StatusCode::OK, "{cp}");
    let cp: PersonCheckpoint = serde_json::from_value(cp).unwrap();
    audit::verify_signature(&cp.checkpoint).unwrap();
    assert_eq!(
        cp.checkpoint.key,
        audit::hex(key.verifying_key().as_bytes())
    );
    let proof = cp.proof.expect("her chain is in the checkpoint");
    assert!(proof.leads_to(&cp.checkpoint));
    let anchored: &ChainHead = &proof.head;
    assert_eq!(anchored.chain, Chain::Person(alice));
    assert_eq!(entries[anchored.seq as usize].head(), *anchored);
    let bob = s
        .pds
        .store
        .account_by_name("bob")
        .unwrap()
        .unwrap()
        .person
        .unwrap();
    let (_, raw) = s.call("GET", "/api/audit/checkpoint", Some(a), None).await;
    assert!(
        !raw.to_string().contains(&format!("\"person\":{bob}")),
        "another chain's head came with hers: {raw}"
    );

    // `/api/audit`, newest first, by cursor.
    let (_, newest) = s.call("GET", "/api/audit?limit=4", Some(a), None).await;
    let seqs: Vec<u64> = newest
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [8, 7, 6, 5]);
    let (_, older) = s
        .call("GET", "/api/audit?limit=4&before=5", Some(a), None)
        .await;
    let seqs: Vec<u64> = older
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [4, 3, 2, 1]);
    // Bob cannot read hers.
    let (st, _) = s
        .call(
            "GET",
            &format!("/api/audit/chain?person={alice}"),
            Some(b),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // The server keeps the latest checkpoint between downloads: one published since is the
    // one served next, with her new head.
    s.pds
        .store
        .append_audit(audit::AuditEvent::GrantRevoked {
            grant: 7,
            person: alice,
        })
        .unwrap();
    audit::publish_checkpoint(s.pds.store.as_ref(), &key, 0)
        .unwrap()
        .unwrap();
    let (st, next) = s.call("GET", "/api/audit/checkpoint", Some(a), None).await;
    assert_eq!(st, StatusCode::OK, "{next}");
    let next: PersonCheckpoint = serde_json::from_value(next).unwrap();
    assert_eq!(next.checkpoint.number, cp.checkpoint.number + 1);
    let proof = next.proof.expect("her chain is in the next checkpoint");
    assert!(proof.leads_to(&next.checkpoint));
    assert_eq!(
        proof.head.seq,
        anchored.seq + 1,
        "her head after the revocation"
    );
}

/// `insitu serve --checkpoint-every N` publishes a checkpoint every N seconds, whether or not
/// a chain moved, and reads the latest back for people's downloads, with no warning.
#[test]
fn serve_publishes_checkpoints_on_its_schedule() {
    use crate::cli_common::ok;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["person", "add", "Ada"]);
    let (server, _) = common::serve_binary_with(d, &["--checkpoint-every", "1"]);
    std::thread::sleep(std::time::Duration::from_millis(3_500));
    let (exit, log) = common::stop_binary(server);
    assert!(exit.success(), "{log}");
    // Its warnings (the log's default level): none about checkpoints.
    assert!(!log.contains("checkpoint"), "{log}");
    let pds = Pds::open(d).unwrap();
    let number = pds.store.latest_checkpoint_number().unwrap();
    assert!(number.is_some_and(|n| n >= 2), "checkpoints: {number:?}");
}

/// `insitu serve` settles a proposal whose deadline came, on its schedule (at start, then every
/// 10 s): the escrow pays the organisation less commission, and the pledge is paid.
#[test]
fn serve_settles_a_proposal_whose_deadline_came() {
    use crate::cli_common::ok;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["person", "add", "Ada"]);
    let deadline = (insitu_testkit::now_ms() + 1_500).to_string();
    ok(
        d,
        &[
            "proposal",
            "submit",
            "--org",
            "thermo",
            "--title",
            "A thermostat",
            "--description",
            "It learns.",
            "--goal",
            "50.00 EUR",
            "--deadline",
            &deadline,
        ],
    );
    ok(d, &crate::cli_common::review_args("approve", &[]));
    ok(
        d,
        &["pledge", "add", "1", "--person", "1", "--amount", "60.00"],
    );
    std::thread::sleep(std::time::Duration::from_millis(1_700));
    let (server, _) = common::serve_binary(d);
    std::thread::sleep(std::time::Duration::from_secs(2));
    let (exit, log) = common::stop_binary(server);
    assert!(exit.success(), "{log}");
    let pds = Pds::open(d).unwrap();
    let p = pds.store.proposal(1).unwrap();
    let s = p.settlement.expect("settled by serve");
    assert!(s.funded && s.held_minor == 6_000, "{s:?}");
    assert_eq!(
        pds.store.pledges(1).unwrap()[0].status,
        insitu_core::codesign::PledgeStatus::Paid
    );
}
