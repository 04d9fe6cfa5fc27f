//! The web pages through the router: sign-in and cookie flags, CSRF on every form, the
//! consent screen and an approval with narrowing, run, revoke, access history, upload, and
//! that one person's pages never show another's requests.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use insitu_core::account::{self, Role};
use insitu_core::pds::Pds;
use insitu_server::{AppState, limit::RateLimits, router};
use tower::ServiceExt;

use crate::common;

mod errors;
mod imports;

const PASSWORD: &str = "correct horse battery";

struct Site {
    _dir: tempfile::TempDir,
    app: axum::Router,
    pds: Arc<Pds>,
    /// fee-scanner, installed from the trusted example publisher.
    plugin: insitu_core::store::PluginRecord,
}

struct Reply {
    status: StatusCode,
    location: String,
    cookie: String,
    body: String,
}

impl Site {
    fn new() -> Site {
        Site::on(std::sync::Arc::new(insitu_core::clock::SystemClock))
    }

    /// A site on `clock` (a `ManualClock`, for a test that moves time).
    fn on(clock: Arc<dyn insitu_core::clock::Clock>) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let (pds, plugin) = insitu_testkit::pds_with_fee_scanner_on(dir.path(), clock);
        let pds = Arc::new(pds);
        let app = router(AppState::new(pds.clone(), RateLimits::default()));
        Site {
            _dir: dir,
            app,
            pds,
            plugin,
        }
    }

    /// Installs the plugin at `path`, signed by the trusted example publisher.
    fn install(&self, path: &str) -> insitu_core::store::PluginRecord {
        insitu_core::package::install(
            self.pds.store.as_ref(),
            self.pds.runner.sandbox(),
            &insitu_testkit::signed(path),
            insitu_core::package::InstallMode::Verified,
        )
        .unwrap()
    }

    /// Sends a request as a browser asking for English: the tests read the English pages
    /// (`every_page_of_every_role_speaks_french_and_english` reads both).
    async fn send(
        &self,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        form: Option<String>,
    ) -> Reply {
        self.send_in("en", method, path, cookie, form).await
    }

    /// Sends a request as a browser whose `Accept-Language` is `lang`.
    async fn send_in(
        &self,
        lang: &str,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        form: Option<String>,
    ) -> Reply {
        let cookie = cookie.map(|c| format!("insitu_session={c}"));
        let mut headers = vec![("accept-language", lang)];
        if let Some(c) = &cookie {
            headers.push(("cookie", c));
        }
        let body = form.map(|f| ("application/x-www-form-urlencoded", f.into_bytes()));
        let (status, headers, bytes) = crate::common::answer(
            &self.app,
            crate::common::request(method, path, &headers, body),
        )
        .await;
        let header = |n: &str| {
            headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let (location, cookie) = (header("location"), header("set-cookie"));
        Reply {
            status,
            location,
            cookie,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn sign_in(&self, name: &str) -> String {
        let r = self
            .send(
                "POST",
                "/login",
                None,
                Some(format!("name={name}&password=correct+horse+battery")),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        r.cookie
            .split(';')
            .next()
            .and_then(|c| c.strip_prefix("insitu_session="))
            .unwrap()
            .to_string()
    }
}

fn csrf(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    page[at..at + 64].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_approves_with_narrowing_runs_revokes_and_reads_the_history() {
    let site = Site::new();
    let store = site.pds.store.as_ref();
    let plugin = site.plugin.clone();
    let alice = account::create(store, "alice", PASSWORD, Role::Person)
        .unwrap()
        .person
        .unwrap();
    account::create(store, "bob", PASSWORD, Role::Person).unwrap();
    let req = insitu_core::request::ask(
        store,
        "UFC <Que> Choisir",
        alice,
        &plugin,
        "class action",
        30,
    )
    .unwrap();

    // Signed out: every page sends to the sign-in form; a wrong password says so.
    let r = site.send("GET", "/", None, None).await;
    assert_eq!(
        (r.status, r.location.as_str()),
        (StatusCode::SEE_OTHER, "/login")
    );
    let r = site
        .send(
            "POST",
            "/login",
            None,
            Some("name=alice&password=nope".into()),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("The name or the password is wrong"));
    let r = site
        .send(
            "POST",
            "/login",
            None,
            Some("name=alice&password=correct+horse+battery".into()),
        )
        .await;
    for flag in ["HttpOnly", "Secure", "SameSite=Strict"] {
        assert!(
            r.cookie.contains(flag),
            "cookie without {flag}: {}",
            r.cookie
        );
    }
    // A sign-in posted from another site is refused (login CSRF).
    let resp = site
        .app
        .clone()
        .oneshot(
            Request::post("/login")
                .header("host", "127.0.0.1:7878")
                .header("origin", "https://evil.example")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from("name=alice&password=correct+horse+battery"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(!resp.headers().contains_key("set-cookie"));
    let a = site.sign_in("alice").await;
    let b = site.sign_in("bob").await;

    // The home page lists the request; the consent screen says who, what, how long, to whom,
    // who pays, and escapes what the requester wrote.
    let home = site.send("GET", "/", Some(&a), None).await;
    assert!(
        home.body
            .contains(&format!("href=\"/requests/{}\"", req.id)),
        "{}",
        home.body
    );
    let screen = site
        .send("GET", &format!("/requests/{}", req.id), Some(&a), None)
        .await;
    assert_eq!(screen.status, StatusCode::OK);
    for part in [
        "Who asks:",
        "For what:</dt><dd>class action",
        "30 days",
        "to you alone",
        "the fields you keep, and the date of each record",
        "pays €0.03 per run",
        "UFC &lt;Que&gt; Choisir",
    ] {
        assert!(screen.body.contains(part), "consent screen lacks `{part}`");
    }
    assert!(
        !screen.body.contains("UFC <Que>"),
        "the requester's name was not escaped"
    );
    // Bob does not see Alice's request.
    let r = site
        .send("GET", &format!("/requests/{}", req.id), Some(&b), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(
        !site
            .send("GET", "/", Some(&b), None)
            .await
            .body
            .contains("Que")
    );

    // Without the CSRF token, or with Bob's, nothing is decided.
    let approve = format!("/requests/{}/approve", req.id);
    let narrowed =
        "keep=bank.transactions%2Famount&keep=bank.transactions%2Flabel&months=6&days=14";
    let r = site
        .send("POST", &approve, Some(&a), Some(narrowed.into()))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let bobs = csrf(&site.send("GET", "/", Some(&b), None).await.body);
    let r = site
        .send(
            "POST",
            &approve,
            Some(&a),
            Some(format!("csrf={bobs}&{narrowed}")),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        store.request(req.id).unwrap().status,
        insitu_core::request::Status::Pending
    );

    // Approve with narrowing: two of three fields, 6 months, 14 days.
    let token = csrf(&screen.body);
    let r = site
        .send(
            "POST",
            &approve,
            Some(&a),
            Some(format!("csrf={token}&{narrowed}")),
        )
        .await;
    assert_eq!(
        (r.status, r.location.as_str()),
        (StatusCode::SEE_OTHER, "/"),
        "{}",
        r.body
    );
    let grant = store.grants(Some(alice)).unwrap().pop().unwrap();
    assert_eq!(grant.collections[0].fields, vec!["amount", "label"]);
    let days = (grant.expires_ms.unwrap() - grant.created_ms) / 86_400_000;
    assert_eq!(days, 14);

    // Upload a statement, then run under the grant from the page.
    let statement = "account,booked,amount,counterparty,label\nA,2099-01-05,-45.00 EUR,Agence,FRAIS DE GESTION\n";
    let (content_type, upload) = common::import_form(&token, "releve.csv", statement);
    let resp = site
        .app
        .clone()
        .oneshot(
            Request::post("/import")
                .header("accept-language", "en")
                .header("cookie", format!("insitu_session={a}"))
                .header("content-type", content_type)
                .body(Body::from(upload))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = resp.status();
    let page = String::from_utf8_lossy(
        &axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap(),
    )
    .into_owned();
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains(
            "<span lang=\"\" translate=\"no\">releve.csv</span> (CSV) into Bank transactions: \
             1 record read, 1 added"
        ),
        "{page}"
    );
    let run = format!("/grants/{}/run", grant.id);
    let params = "params=rule%3Dagency-fee%0Apattern%3Dfrais+de+gestion%0Aagreed%3D30.00+EUR";
    let r = site
        .send(
            "POST",
            &run,
            Some(&a),
            Some(format!("csrf={token}&{params}")),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let run_page = site.send("GET", &r.location, Some(&a), None).await;
    assert!(
        run_page.body.contains("Outcome: succeeded"),
        "{}",
        run_page.body
    );
    assert!(
        run_page
            .body
            .contains("charged 45.00 EUR where 30.00 EUR was agreed"),
        "{}",
        run_page.body
    );
    assert_eq!(
        site.send("GET", &r.location, Some(&b), None).await.status,
        StatusCode::NOT_FOUND
    );

    // Revoke, then the history shows it, newest first.
    let r = site
        .send(
            "POST",
            &format!("/grants/{}/revoke", grant.id),
            Some(&a),
            Some(format!("csrf={token}")),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(store.grant(grant.id).unwrap().revoked_ms.is_some());
    let history = site.send("GET", "/history", Some(&a), None).await.body;
    // Written to the person, with the plugin by its name.
    let revoked = history
        .find(&format!("You withdrew grant {}", grant.id))
        .expect("the revocation is in the history");
    let granted = history
        .find("You let fee-scanner read Bank transactions")
        .expect("the grant is in the history");
    assert!(revoked < granted, "the history is not newest first");
    assert!(
        !site
            .send("GET", "/history", Some(&b), None)
            .await
            .body
            .contains("You let fee-scanner read")
    );
    let french = site
        .send_in("fr", "GET", "/history", Some(&a), None)
        .await
        .body;
    assert!(
        french.contains(&format!("Vous avez retiré l'autorisation {}", grant.id)),
        "the history speaks French"
    );

    // Signing out revokes the session.
    let r = site
        .send("POST", "/logout", Some(&a), Some(format!("csrf={token}")))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        site.send("GET", "/", Some(&a), None).await.location,
        "/login"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_answers_every_role_as_it_should() {
    let site = Site::new();
    let store = site.pds.store.as_ref();
    // A plugin an organisation may run (fee-scanner's campaign grants serve no single run
    // for an organisation).
    let plugin = site.install(insitu_plugins::EXFILTRATE);
    let alice = account::create(store, "alice", PASSWORD, Role::Person)
        .unwrap()
        .person
        .unwrap();
    account::create(store, "bob", PASSWORD, Role::Person).unwrap();
    account::create(store, "developer", PASSWORD, Role::Developer).unwrap();
    account::create(store, "org", PASSWORD, Role::Organisation).unwrap();
    account::create(store, "operator", PASSWORD, Role::Operator).unwrap();
    account::create(store, "officer", PASSWORD, Role::Officer).unwrap();
    let (public, in_review) = proposals(store, "org");
    let alices_pledge = insitu_core::codesign::pledge(store, public, alice, 700)
        .unwrap()
        .id;
    let ask = |purpose: &str| {
        insitu_core::request::ask(store, "org", alice, &plugin, purpose, 30)
            .unwrap()
            .id
    };
    let (to_approve, to_deny, granted) = (ask("a"), ask("b"), ask("c"));
    let grant =
        insitu_core::request::approve(store, granted, &insitu_core::request::Narrowing::default())
            .unwrap();
    let statement = "account,booked,amount,counterparty,label\nFR76,2099-01-05,-45.00 EUR,Agence Dupont,FRAIS DE GESTION\n";
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
    // The organisation's run, whose plugin fails with every label it read in its error text:
    // Alice's to read, not the organisation's.
    let params = [("channel", "message"), ("needle", "x")]
        .map(|(k, v)| (k.to_string(), insitu_core::output::Scalar::parse(v)))
        .to_vec();
    let run = site
        .pds
        .runner
        .run(insitu_core::run::RunRequest {
            person: alice,
            grant: grant.id,
            digest: grant.plugin_digest.clone(),
            params,
            limits: None,
            requester: Some("org".into()),
            as_of: None,
        })
        .await
        .unwrap();
    assert!(matches!(
        run.outcome,
        insitu_core::meter::Outcome::Failed { .. }
    ));

    const WHO: [&str; 7] = [
        "operator",
        "alice",
        "bob",
        "developer",
        "org",
        "officer",
        "anonymous",
    ];
    let mut cookies = std::collections::BTreeMap::new();
    let mut tokens = std::collections::BTreeMap::new();
    for who in &WHO[..6] {
        let c = site.sign_in(who).await;
        tokens.insert(
            *who,
            csrf(&site.send("GET", "/", Some(&c), None).await.body),
        );
        cookies.insert(*who, c);
    }
    use StatusCode as S;
    let (ok, moved, forbidden, missing) = (S::OK, S::SEE_OTHER, S::FORBIDDEN, S::NOT_FOUND);
    // A deadline two months ahead (a proposal's may be at most two years away).
    let deadline = insitu_core::import::format_date(insitu_testkit::now_ms() + 60 * 86_400_000);
    let new_proposal = format!("title=t&description=d&goal=1.00+EUR&deadline={deadline}");
    let new_version = format!("title=changed&description=d&goal=1.00+EUR&deadline={deadline}");
    // (method, path, form without the CSRF token, expected for operator, alice, bob,
    // developer, org, officer, anonymous). Signed out, every page sends to the sign-in form (303). A
    // role the action is not for is refused (403) by the same table as the API's
    // (`auth::Action`); the right role gets 404 for what is not its own.
    let cases: Vec<(&str, String, &str, [StatusCode; 7])> = vec![
        ("GET", "/".into(), "", [ok, ok, ok, ok, ok, ok, moved]),
        (
            "GET",
            format!("/requests/{to_approve}"),
            "",
            [forbidden, ok, missing, forbidden, missing, forbidden, moved],
        ),
        (
            "POST",
            format!("/requests/{to_approve}/approve"),
            "days=7",
            [
                forbidden, moved, missing, forbidden, forbidden, forbidden, moved,
            ],
        ),
        (
            "POST",
            format!("/requests/{to_deny}/deny"),
            "",
            [
                forbidden, moved, missing, forbidden, forbidden, forbidden, moved,
            ],
        ),
        (
            "POST",
            format!("/grants/{}/run", grant.id),
            "params=",
            [
                forbidden, moved, missing, forbidden, missing, forbidden, moved,
            ],
        ),
        (
            "GET",
            format!("/runs/{}", run.id),
            "",
            [forbidden, ok, missing, forbidden, ok, forbidden, moved],
        ),
        (
            "GET",
            "/history".into(),
            "",
            [forbidden, ok, ok, forbidden, forbidden, forbidden, moved],
        ),
        (
            "GET",
            "/data/bank.transactions?q=frais&from=2024-01-01".into(),
            "",
            [forbidden, ok, ok, forbidden, forbidden, forbidden, moved],
        ),
        // The listings' own pages (the older pages of the home page's sections).
        (
            "GET",
            "/requests?after=999".into(),
            "",
            [forbidden, ok, ok, forbidden, ok, forbidden, moved],
        ),
        (
            "GET",
            "/grants".into(),
            "",
            [forbidden, ok, ok, forbidden, missing, forbidden, moved],
        ),
        (
            "GET",
            "/runs".into(),
            "",
            [forbidden, ok, ok, forbidden, ok, forbidden, moved],
        ),
        (
            "GET",
            "/receptions".into(),
            "",
            [forbidden, ok, ok, forbidden, missing, forbidden, moved],
        ),
        (
            "GET",
            "/invitations".into(),
            "",
            [forbidden, ok, ok, forbidden, forbidden, forbidden, moved],
        ),
        (
            "GET",
            "/earnings?after=999".into(),
            "",
            [forbidden, ok, ok, forbidden, forbidden, forbidden, moved],
        ),
        (
            "GET",
            "/jobs".into(),
            "",
            [
                forbidden, forbidden, forbidden, forbidden, ok, forbidden, moved,
            ],
        ),
        (
            "GET",
            "/invoice.csv".into(),
            "",
            [
                forbidden, forbidden, forbidden, forbidden, ok, forbidden, moved,
            ],
        ),
        (
            "GET",
            "/export".into(),
            "",
            [forbidden, ok, ok, forbidden, forbidden, forbidden, moved],
        ),
        (
            "POST",
            "/erase".into(),
            "password=wrong+password",
            [
                forbidden, forbidden, forbidden, forbidden, forbidden, forbidden, moved,
            ],
        ),
        (
            "POST",
            format!("/grants/{}/revoke", grant.id),
            "",
            [
                forbidden, moved, missing, forbidden, forbidden, forbidden, moved,
            ],
        ),
        // Co-design: the proposals' pages, the officer's queue, and every form.
        (
            "GET",
            "/proposals".into(),
            "",
            [ok, ok, ok, forbidden, ok, ok, moved],
        ),
        (
            "GET",
            format!("/proposals/{in_review}"),
            "",
            [ok, missing, missing, forbidden, ok, ok, moved],
        ),
        (
            "GET",
            format!("/proposals/{public}"),
            "",
            [ok, ok, ok, forbidden, ok, ok, moved],
        ),
        (
            "GET",
            "/reviews".into(),
            "",
            [
                forbidden, forbidden, forbidden, forbidden, forbidden, ok, moved,
            ],
        ),
        (
            "POST",
            "/proposals".into(),
            new_proposal.as_str(),
            [
                forbidden, forbidden, forbidden, forbidden, moved, forbidden, moved,
            ],
        ),
        (
            "POST",
            format!("/proposals/{in_review}/versions"),
            new_version.as_str(),
            [
                forbidden, forbidden, forbidden, forbidden, moved, forbidden, moved,
            ],
        ),
        (
            "POST",
            format!("/proposals/{in_review}/review"),
            "decision=request_changes&reasons=name+the+study",
            [
                forbidden, forbidden, forbidden, forbidden, forbidden, moved, moved,
            ],
        ),
        (
            "POST",
            format!("/proposals/{public}/contributions"),
            "kind=comment&text=hi",
            [
                forbidden, moved, moved, forbidden, forbidden, forbidden, moved,
            ],
        ),
        (
            "POST",
            format!("/proposals/{in_review}/contributions"),
            "kind=comment&text=hi",
            [
                forbidden, missing, missing, forbidden, forbidden, forbidden, moved,
            ],
        ),
        (
            "POST",
            format!("/proposals/{public}/vote"),
            "choice=0",
            [
                forbidden, moved, moved, forbidden, forbidden, forbidden, moved,
            ],
        ),
        (
            "POST",
            "/contests/none/vote".into(),
            "choice=1",
            [
                forbidden,
                S::CONFLICT,
                S::CONFLICT,
                forbidden,
                forbidden,
                forbidden,
                moved,
            ],
        ),
        (
            "POST",
            format!("/proposals/{public}/pledges"),
            "amount=5",
            [
                forbidden, moved, moved, forbidden, forbidden, forbidden, moved,
            ],
        ),
        (
            "POST",
            format!("/proposals/{public}/pledges/{alices_pledge}/withdraw"),
            "",
            [
                forbidden, moved, missing, forbidden, forbidden, forbidden, moved,
            ],
        ),
    ];
    let mut seen_by_others = String::new();
    for (method, path, form, expected) in &cases {
        for (who, want) in WHO.iter().zip(expected) {
            let form = (*method == "POST").then(|| {
                let token = tokens.get(who).cloned().unwrap_or_default();
                format!("csrf={token}&{form}")
            });
            let r = site
                .send(method, path, cookies.get(who).map(String::as_str), form)
                .await;
            assert_eq!(r.status, *want, "{method} {path} as {who}: {}", r.body);
            if *who != "alice" {
                seen_by_others.push_str(&r.body);
            }
        }
    }
    // Alice's own pages do show her data (so the check below can fail).
    let hers = site
        .send(
            "GET",
            &format!("/runs/{}", run.id),
            cookies.get("alice").map(String::as_str),
            None,
        )
        .await;
    assert!(hers.body.contains("FRAIS DE GESTION"), "{}", hers.body);
    // How the run went is Alice's alone: the organisation's run page says so.
    assert!(seen_by_others.contains("no output for you"));
    assert!(
        seen_by_others.contains("is the person&#39;s to know")
            || seen_by_others.contains("is the person's to know")
    );
    assert!(!seen_by_others.contains("FRAIS DE GESTION"));
    assert!(store.grant(grant.id).unwrap().revoked_ms.is_some());
    assert_ne!(
        store.request(to_deny).unwrap().status,
        insitu_core::request::Status::Pending
    );
}

/// Two proposals of `org`'s: one public (approved by the officer `olga`), one in review.
fn proposals(store: &dyn insitu_core::store::Store, org: &str) -> (u64, u64) {
    use insitu_core::codesign::{self, Content, Decision, Tier};
    let content = |title: &str| Content {
        title: title.into(),
        description: "A thermostat <that learns>".into(),
        options: vec!["Round".into(), "Square".into()],
        studies: vec![],
        goal: insitu_core::output::Money {
            minor: 10_000,
            currency: "EUR".into(),
        },
        deadline_ms: store.now_ms() + 30 * 86_400_000,
        tiers: vec![Tier {
            name: "Backer".into(),
            min_minor: 2_000,
            reward: "early access".into(),
        }],
    };
    let public = codesign::submit(store, org, None, content("public"))
        .unwrap()
        .id;
    codesign::review(store, public, "olga", Decision::Approve, "").unwrap();
    let in_review = codesign::submit(store, org, None, content("draft"))
        .unwrap()
        .id;
    (public, in_review)
}

/// A new person account `name`, with the test password; its person id.
fn person(site: &Site, name: &str) -> u64 {
    account::create(site.pds.store.as_ref(), name, PASSWORD, Role::Person)
        .unwrap()
        .person
        .unwrap()
}

/// The organisation `ufc` runs a campaign over Alice's and Bob's statements (both granted):
/// Alice's matches (an invitation with the finding "FRAIS DE GESTION MARS"), Bob's does not.
async fn invite(site: &Site, alice: u64, bob: u64) -> insitu_core::job::Job {
    let store = site.pds.store.as_ref();
    account::create(store, "ufc", PASSWORD, Role::Organisation).unwrap();
    // Counts come at the campaign's release time: within seconds here, and nearly exact.
    let mut policy = store.policy().unwrap();
    policy.member_deadline_ms = 2_000;
    policy.release_margin_ms = 0;
    policy.epsilon_per_month_micro = 1_000_000_000;
    policy.campaign_epsilon_micro = 100_000_000;
    store.set_policy(&policy).unwrap();
    let day =
        |ago: i64| insitu_core::import::format_date(insitu_testkit::now_ms() - ago * 86_400_000);
    for (person, label) in [(alice, "FRAIS DE GESTION MARS"), (bob, "LOYER")] {
        let statement = format!(
            "account,booked,amount,counterparty,label\nFR76,{},-45.00 EUR,Agence Dupont,{label}\nFR76,{},-45.00 EUR,Agence Dupont,FRAIS DE GESTION AVRIL\n",
            day(60),
            day(30)
        );
        let statement = if person == bob {
            statement.replace("FRAIS DE GESTION AVRIL", "LOYER AVRIL")
        } else {
            statement
        };
        let opts = insitu_core::import::ImportOptions {
            collection: Some("bank.transactions".into()),
            ..Default::default()
        };
        insitu_core::import::import_bytes(
            store,
            person,
            "releve.csv",
            statement.as_bytes(),
            &opts,
            &mut |_, _| {},
        )
        .unwrap();
        let r =
            insitu_core::request::ask(store, "ufc", person, &site.plugin, "campaigns", 30).unwrap();
        insitu_core::request::approve(store, r.id, &insitu_core::request::Narrowing::default())
            .unwrap();
    }
    let job = insitu_core::campaign::open(
        store,
        insitu_core::campaign::NewCampaign {
            owner: "ufc".into(),
            description: "management fees above the lease".into(),
            brand: "Agence Dupont".into(),
            association: "ufc".into(),
            plugin_digest: site.plugin.digest.clone(),
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
    insitu_core::campaign::scan(&site.pds.runner, job.id, &Default::default())
        .await
        .unwrap();
    job
}

/// A person's page shows their campaign invitation with the evidence (to them alone), and
/// they join by ticking what to share; the association's page shows only thresholded counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_answers_a_campaign_invitation_from_their_page() {
    let clock = insitu_core::clock::ManualClock::at(insitu_testkit::now_ms());
    let site = Site::on(clock.clone());
    let store = site.pds.store.as_ref();
    let (alice, bob) = (person(&site, "alice"), person(&site, "bob"));
    let job = invite(&site, alice, bob).await;

    let a = site.sign_in("alice").await;
    let page = site.send("GET", "/", Some(&a), None).await.body;
    assert!(page.contains("Campaign invitations"), "{page}");
    assert!(page.contains("FRAIS DE GESTION MARS"), "{page}");
    assert!(page.contains(&format!("/invitations/{}/answer", job.id)));
    let b = site.sign_in("bob").await;
    let bobs = site.send("GET", "/", Some(&b), None).await.body;
    assert!(
        !bobs.contains("FRAIS DE GESTION"),
        "bob sees alice's evidence"
    );
    let path = format!("/invitations/{}/answer", job.id);
    let r = site
        .send(
            "POST",
            &path,
            Some(&b),
            Some(format!("csrf={}&decision=accept&finding=0", csrf(&bobs))),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "bob was not invited");
    let r = site
        .send(
            "POST",
            &path,
            Some(&a),
            Some("csrf=forged&decision=accept&finding=0".into()),
        )
        .await;
    assert_ne!(r.status, StatusCode::SEE_OTHER, "a forged form is refused");
    let release = store.job(job.id).unwrap().release_ms;
    assert!(
        insitu_core::campaign::claimants(store, &store.job(job.id).unwrap(), release)
            .unwrap()
            .is_empty()
    );
    let r = site
        .send(
            "POST",
            &path,
            Some(&a),
            Some(format!("csrf={}&decision=accept&finding=1", csrf(&page))),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let claimants =
        insitu_core::campaign::claimants(store, &store.job(job.id).unwrap(), release).unwrap();
    assert_eq!(claimants.len(), 1);
    assert_eq!(claimants[0].findings.len(), 1);
    assert!(claimants[0].findings[0].label.contains("AVRIL"));
    let after = site.send("GET", "/", Some(&a), None).await.body;
    assert!(after.contains("You joined and shared 1 finding"), "{after}");

    clock.set(release);
    let u = site.sign_in("ufc").await;
    let org = site.send("GET", "/", Some(&u), None).await.body;
    assert!(org.contains("Your campaigns"), "{org}");
    assert!(org.contains("fewer than 5"), "{org}");
    // The picture of the campaigns draws the same released counts, at the release date.
    assert!(
        org.contains("<title id=\"campaignschart-title\">")
            && org.contains("One campaign, 1 released."),
        "{org}"
    );
    assert!(
        !org.contains("FRAIS DE GESTION MARS"),
        "an unshared finding leaked"
    );
}

/// A person's earnings and peer contacts, an organisation's invoice, a developer's revenue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn earnings_invoices_revenue_and_contacts_are_on_their_owners_pages() {
    let site = Site::new();
    let store = site.pds.store.as_ref();
    let alice = account::create(store, "alice", PASSWORD, Role::Person)
        .unwrap()
        .person
        .unwrap();
    let bob = account::create(store, "bob", PASSWORD, Role::Person)
        .unwrap()
        .person
        .unwrap();
    account::create(store, "org", PASSWORD, Role::Organisation).unwrap();
    account::create(store, "insitu-examples", PASSWORD, Role::Developer).unwrap();
    store
        .set_tariff(&insitu_core::ledger::Tariff {
            member_share_bps: 5_000,
            ..Default::default()
        })
        .unwrap();
    let plugin = site.install(insitu_plugins::EXFILTRATE);
    let r = insitu_core::request::ask(store, "org", alice, &plugin, "study", 30).unwrap();
    let grant = insitu_core::request::approve(store, r.id, &Default::default()).unwrap();
    let run = site
        .pds
        .runner
        .run(insitu_core::run::RunRequest {
            person: alice,
            grant: grant.id,
            digest: grant.plugin_digest.clone(),
            params: vec![
                (
                    "channel".into(),
                    insitu_core::output::Scalar::Text("log".into()),
                ),
                (
                    "needle".into(),
                    insitu_core::output::Scalar::Text("x".into()),
                ),
            ],
            limits: None,
            requester: Some("org".into()),
            as_of: None,
        })
        .await
        .unwrap();
    assert!(matches!(
        run.outcome,
        insitu_core::meter::Outcome::Succeeded
    ));
    insitu_core::peer::offer(store, alice, "29-1051.00", "ten years in a hospital").unwrap();
    let contact = insitu_core::peer::ask(store, bob, "29-1051.00").unwrap();

    let a = site.sign_in("alice").await;
    let page = site.send("GET", "/", Some(&a), None).await.body;
    assert!(page.contains("My earnings"), "{page}");
    assert!(
        page.contains("<title id=\"earnings0-title\">What I earned each month"),
        "{page}"
    );
    assert!(
        page.contains("member&#39;s share") || page.contains("member's share"),
        "{page}"
    );
    assert!(page.contains("People to talk with"), "{page}");
    assert!(
        !page.contains("bob"),
        "the seeker's name before alice accepts: {page}"
    );
    let b = site.sign_in("bob").await;
    let bobs = site.send("GET", "/", Some(&b), None).await.body;
    assert!(
        !bobs.contains("alice"),
        "the mentor's name before she accepts: {bobs}"
    );
    let path = format!("/contacts/{}/answer", contact.id);
    let r = site
        .send(
            "POST",
            &path,
            Some(&b),
            Some(format!("csrf={}&decision=accept", csrf(&bobs))),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "only the mentor answers");
    let r = site
        .send(
            "POST",
            &path,
            Some(&a),
            Some(format!("csrf={}&decision=accept", csrf(&page))),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let bobs = site.send("GET", "/", Some(&b), None).await.body;
    assert!(bobs.contains("alice"), "both accepted: {bobs}");

    let o = site.sign_in("org").await;
    let org = site.send("GET", "/", Some(&o), None).await.body;
    assert!(org.contains("Invoice and usage, this month"), "{org}");
    assert!(
        org.contains("<title id=\"invoices0-title\">What you paid each month"),
        "{org}"
    );
    let csv = site.send("GET", "/invoice.csv", Some(&o), None).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.body
            .starts_with("line,date,key,movement,from,to,amount,currency,memo"),
        "{}",
        csv.body
    );
    assert!(csv.body.contains("access_fee"), "{}", csv.body);
    assert!(
        csv.body.contains(&format!("run:{}", run.id)),
        "{}",
        csv.body
    );
    let d = site.sign_in("insitu-examples").await;
    let dev = site.send("GET", "/", Some(&d), None).await.body;
    assert!(dev.contains("Revenue per plugin"), "{dev}");
    assert!(dev.contains("exfiltrate (EUR)"), "{dev}");
}

/// A person's page draws their spending by month over two years and the charges that come
/// back, and what each live grant can see against all they keep; their history draws who
/// touched their data on a timeline. Each picture is an `svg` named by its title, with its
/// figures in a sentence (and a table) in the page's language; nobody else's page shows them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persons_pictures_say_their_figures_in_their_language() {
    let site = Site::new();
    let store = site.pds.store.as_ref();
    let (alice, _bob) = (person(&site, "alice"), person(&site, "bob"));
    account::create(store, "ufc", PASSWORD, Role::Organisation).unwrap();
    // Rent on the 1st of each of the last 14 months, a phone bill in 3 of them, and a salary
    // (a credit, not spending).
    let (y, m, _) = insitu_formats::time::civil_from_days(insitu_testkit::now_ms() / 86_400_000);
    let mut statement = String::from("account,booked,amount,counterparty,label\n");
    for back in 0..14 {
        let i = y * 12 + m - 1 - back;
        let day = format!("{}-{:02}-01", i / 12, i % 12 + 1);
        statement.push_str(&format!("FR76,{day},-800.00 EUR,Agence Dupont,LOYER\n"));
        statement.push_str(&format!("FR76,{day},2500.00 EUR,Employer,SALAIRE\n"));
        if back < 3 {
            statement.push_str(&format!("FR76,{day},-20.00 EUR,,PRLV SFR {back}\n"));
        }
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
    let r = insitu_core::request::ask(store, "ufc", alice, &site.plugin, "fees", 30).unwrap();
    let grant = insitu_core::request::approve(store, r.id, &Default::default()).unwrap();

    let a = site.sign_in("alice").await;
    let home = site.send("GET", "/", Some(&a), None).await.body;
    for part in [
        "role=\"img\" aria-labelledby=\"spending0-title\"",
        "<title id=\"spending0-title\">Spending by month over the last two years, in EUR</title>",
        // 14 × 800 + 3 × 20; the credits are not spending.
        "€11,260.00 in all over 24 months",
        "One charge comes back most months: Agence Dupont (€800.00 a month, 14 months).",
        "What each grant can see",
        "Can see Bank transactions: ",
        // Collections and fields by their names (`locales/*/{collections,fields}.ftl`).
        "Kept from it: Bank transactions: Account",
    ] {
        assert!(home.contains(part), "the home page lacks `{part}`: {home}");
    }
    assert!(home.contains(&format!("aria-labelledby=\"grant{}-title\"", grant.id)));
    assert!(
        !home.contains("PRLV SFR"),
        "3 months of 14 is not most months"
    );
    let fr = site.send_in("fr", "GET", "/", Some(&a), None).await.body;
    for part in [
        "Vos dépenses mois par mois, ces deux dernières années, en EUR",
        "11\u{202f}260,00\u{a0}€ en tout sur 24 mois",
        "Agence Dupont (800,00\u{a0}€ par mois, 14 mois)",
        "Elle voit Opérations bancaires",
        "Elle ne voit pas : Opérations bancaires: Compte",
    ] {
        assert!(
            fr.contains(part),
            "the French home page lacks `{part}`: {fr}"
        );
    }

    let history = site.send("GET", "/history", Some(&a), None).await.body;
    for part in [
        "<title id=\"timeline-title\">Who touched my data, and when</title>",
        "requests: 1, grants given: 1, revoked: 0, imports: 1.",
        "\nufc\n</text>",
    ] {
        assert!(
            history.contains(part),
            "the history lacks `{part}`: {history}"
        );
    }

    // Bob's page shows none of it.
    let b = site.sign_in("bob").await;
    let bobs = site.send("GET", "/", Some(&b), None).await.body;
    assert!(
        !bobs.contains("Agence Dupont") && !bobs.contains("<svg"),
        "{bobs}"
    );
    assert!(bobs.contains("No data yet."), "{bobs}");
}

/// Everything a forged form could change: the audit log, requests, grants, runs, tokens,
/// people, records, contacts, campaign memberships, and proposals with their contributions,
/// pledges and votes.
fn everything(store: &dyn insitu_core::store::Store, alice: u64, bob: u64) -> String {
    let tokens: Vec<_> = store
        .accounts()
        .unwrap()
        .iter()
        .flat_map(|a| store.tokens(a.id).unwrap())
        .map(|t| (t.id, t.revoked_ms))
        .collect();
    let codesign: Vec<_> = insitu_core::store::walk(
        64,
        |p: &insitu_core::codesign::Proposal| p.id,
        |page| store.proposals_page(&insitu_core::store::Proposals::All, page),
    )
    .unwrap()
    .into_iter()
    .map(|p| {
        let votes = store.votes(&p.ballot()).unwrap();
        let (c, x) = (
            store.contributions(p.id).unwrap(),
            store.pledges(p.id).unwrap(),
        );
        (
            format!("{p:?}"),
            format!("{c:?}"),
            format!("{x:?}"),
            format!("{votes:?}"),
        )
    })
    .collect();
    format!(
        "{} {:?} {:?} {} {tokens:?} {:?} {} {:?} {:?} {codesign:?}",
        store.audit_log().unwrap().len(),
        store.requests(None).unwrap(),
        store.grants(None).unwrap(),
        store.runs(None).unwrap().len(),
        store.people().unwrap(),
        store.count(alice, "bank.transactions").unwrap_or(0),
        insitu_core::peer::contacts_of(store, alice).unwrap(),
        (
            store.memberships(alice).unwrap(),
            store.memberships(bob).unwrap()
        ),
    )
}

/// Every form of the pages, from one table: posted without its CSRF token, or with a forged
/// one, or with another person's, it is refused (403) and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_form_refuses_a_missing_or_forged_csrf_token_and_changes_nothing() {
    let site = Site::new();
    let store = site.pds.store.as_ref();
    let (alice, bob) = (person(&site, "alice"), person(&site, "bob"));
    let job = invite(&site, alice, bob).await;
    let grant = store
        .grants(Some(alice))
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
    let to_approve = insitu_core::request::ask(store, "ufc", alice, &site.plugin, "a", 30).unwrap();
    let to_deny = insitu_core::request::ask(store, "ufc", alice, &site.plugin, "b", 30).unwrap();
    insitu_core::peer::offer(store, alice, "29-1051.00", "ten years in a hospital").unwrap();
    let contact = insitu_core::peer::ask(store, bob, "29-1051.00").unwrap();
    let (public, _) = proposals(store, "ufc");
    let pledge = insitu_core::codesign::pledge(store, public, alice, 700)
        .unwrap()
        .id;
    let a = site.sign_in("alice").await;
    let b = site.sign_in("bob").await;
    let bobs = csrf(&site.send("GET", "/", Some(&b), None).await.body);
    let upload = |token: &str| {
        format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n\
             --XyZ\r\nContent-Disposition: form-data; name=\"collection\"\r\n\r\nbank.transactions\r\n\
             --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r.csv\"\r\n\r\n\
             account,booked,amount,counterparty,label\nB,2099-01-05,-1.00 EUR,X,Y\n\r\n--XyZ--\r\n"
        )
    };
    // (path, the form's other fields). `/import` is multipart.
    let forms: Vec<(String, String)> = vec![
        (
            format!("/requests/{}/approve", to_approve.id),
            "days=7".into(),
        ),
        (format!("/requests/{}/deny", to_deny.id), String::new()),
        (format!("/grants/{}/run", grant.id), "params=".into()),
        (format!("/grants/{}/revoke", grant.id), String::new()),
        (
            format!("/invitations/{}/answer", job.id),
            "decision=accept&finding=0".into(),
        ),
        (
            format!("/contacts/{}/answer", contact.id),
            "decision=accept".into(),
        ),
        (
            "/erase".into(),
            format!("password={}", PASSWORD.replace(' ', "+")),
        ),
        (
            format!("/proposals/{public}/contributions"),
            "kind=comment&text=hi".into(),
        ),
        (format!("/proposals/{public}/vote"), "choice=0".into()),
        ("/contests/none/vote".into(), "choice=1".into()),
        (format!("/proposals/{public}/pledges"), "amount=5".into()),
        (
            format!("/proposals/{public}/pledges/{pledge}/withdraw"),
            String::new(),
        ),
        ("/logout".into(), String::new()),
        ("/import".into(), String::new()),
    ];
    let before = everything(store, alice, bob);
    for (path, fields) in &forms {
        for (why, token) in [
            ("without a token", None),
            ("with a forged token", Some("0".repeat(64))),
            ("with Bob's token", Some(bobs.clone())),
        ] {
            let r = if path == "/import" {
                let resp = site
                    .app
                    .clone()
                    .oneshot(
                        Request::post("/import")
                            .header("cookie", format!("insitu_session={a}"))
                            .header("content-type", "multipart/form-data; boundary=XyZ")
                            .body(Body::from(upload(token.as_deref().unwrap_or(""))))
                            .unwrap(),
                    )
                    .await
                    .unwrap();
                resp.status()
            } else {
                let form = match &token {
                    Some(t) => format!("csrf={t}&{fields}"),
                    None => fields.clone(),
                };
                site.send("POST", path, Some(&a), Some(form)).await.status
            };
            assert_eq!(r, StatusCode::FORBIDDEN, "POST {path} {why}");
            assert_eq!(
                everything(store, alice, bob),
                before,
                "POST {path} {why} changed something"
            );
        }
    }
    // The same forms with Alice's token do go through (so the table can fail).
    let mine = csrf(&site.send("GET", "/", Some(&a), None).await.body);
    let r = site
        .send(
            "POST",
            &format!("/requests/{}/deny", to_deny.id),
            Some(&a),
            Some(format!("csrf={mine}")),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_ne!(everything(store, alice, bob), before);
}

/// A sign-in session and an API token are two kinds: an API token sent as the pages' cookie
/// (even a read-only one, whose CSRF token anyone can derive) is sent to the sign-in form,
/// and a session sent as a bearer token is refused by the API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_token_is_not_a_session_and_a_session_is_not_an_api_token() {
    use sha2::Digest as _;
    let site = Site::new();
    let store = site.pds.store.as_ref();
    let alice = account::create(store, "alice", PASSWORD, Role::Person).unwrap();
    let person = alice.person.unwrap();
    let req = insitu_core::request::ask(store, "ufc", person, &site.plugin, "a", 30).unwrap();
    let (read_only, _) =
        account::issue_token(store, &alice, &[account::Scope::Read], "reader", None).unwrap();
    let derived = insitu_core::audit::hex(&sha2::Sha256::digest(
        format!("insitu-csrf:{read_only}").as_bytes(),
    ));
    let r = site.send("GET", "/", Some(&read_only), None).await;
    assert_eq!(
        (r.status, r.location.as_str()),
        (StatusCode::SEE_OTHER, "/login")
    );
    let r = site
        .send(
            "POST",
            &format!("/requests/{}/deny", req.id),
            Some(&read_only),
            Some(format!("csrf={derived}")),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location, "/login");
    assert_eq!(
        store.request(req.id).unwrap().status,
        insitu_core::request::Status::Pending,
        "a read-only API token denied a request through the pages"
    );
    // The session, as a bearer token on the API: 401.
    let session = site.sign_in("alice").await;
    let resp = site
        .app
        .clone()
        .oneshot(
            Request::get("/api/me")
                .header("authorization", format!("Bearer {session}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // And the session does work on the pages (so the checks above can fail).
    let r = site.send("GET", "/", Some(&session), None).await;
    assert_eq!(r.status, StatusCode::OK);
}

/// A request refused before its page's handler runs (a path segment that is not an id, a form
/// that does not parse, a method the page does not take) answers an error page with its status,
/// like any other refusal, never axum's plain text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_request_for_a_page_answers_an_error_page() {
    let site = Site::new();
    account::create(site.pds.store.as_ref(), "alice", PASSWORD, Role::Person).unwrap();
    let alice = site.sign_in("alice").await;
    for (method, path, form, status) in [
        ("GET", "/runs/abc", None, StatusCode::BAD_REQUEST),
        (
            "POST",
            "/grants/x/revoke",
            Some("csrf=x"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/login",
            Some("name=alice"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("GET", "/logout", None, StatusCode::METHOD_NOT_ALLOWED),
    ] {
        let r = site
            .send(method, path, Some(&alice), form.map(str::to_string))
            .await;
        assert_eq!(r.status, status, "{method} {path}: {}", r.body);
        assert!(
            r.body.starts_with("<!doctype html>") && r.body.contains("role=\"alert\""),
            "{method} {path}: not an error page: {}",
            r.body
        );
    }
}

/// The words of a page a person reads: its text without the markup.
fn visible_text(html: &str) -> String {
    let html = match (html.find("<style>"), html.find("</style>")) {
        (Some(a), Some(b)) if a < b => format!("{}{}", &html[..a], &html[b..]),
        _ => html.to_string(),
    };
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Every page of every role, in French and in English, through the router: each speaks the
/// language asked for (`<html lang>`, a word of its own), shows no message key, and no page
/// asked a catalogue for a message it lacks. The switch's cookie outranks the browser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_of_every_role_speaks_french_and_english() {
    use insitu_server::pages::locale::{self, Lang};
    let site = Site::new();
    let store = site.pds.store.as_ref();
    let alice = person(&site, "alice");
    let bob = person(&site, "bob");
    // A campaign invitation for Alice (and the organisation `ufc`).
    let job = invite(&site, alice, bob).await;
    account::create(store, "insitu-examples", PASSWORD, Role::Developer).unwrap();
    account::create(store, "operator", PASSWORD, Role::Operator).unwrap();
    store
        .set_tariff(&insitu_core::ledger::Tariff {
            member_share_bps: 5_000,
            ..Default::default()
        })
        .unwrap();
    // A request waiting for Alice, a grant and a run for `ufc`, with its ledger lines.
    let plugin = site.install(insitu_plugins::EXFILTRATE);
    let pending = insitu_core::request::ask(store, "ufc", alice, &plugin, "a <study>", 30)
        .unwrap()
        .id;
    let r = insitu_core::request::ask(store, "ufc", alice, &plugin, "study", 30).unwrap();
    let grant = insitu_core::request::approve(store, r.id, &Default::default()).unwrap();
    let run = site
        .pds
        .runner
        .run(insitu_core::run::RunRequest {
            person: alice,
            grant: grant.id,
            digest: grant.plugin_digest.clone(),
            params: [("channel", "log"), ("needle", "x")]
                .map(|(k, v)| (k.to_string(), insitu_core::output::Scalar::parse(v)))
                .to_vec(),
            limits: None,
            requester: Some("ufc".into()),
            as_of: None,
        })
        .await
        .unwrap();
    insitu_core::peer::offer(store, alice, "29-1051.00", "ten years in a hospital").unwrap();
    insitu_core::peer::ask(store, bob, "29-1051.00").unwrap();
    // Co-design: a public proposal with a signed comment, a suggestion, a vote and a pledge,
    // and one in review with the officer's reasons.
    account::create(store, "olga", PASSWORD, Role::Officer).unwrap();
    let (public, in_review) = proposals(store, "ufc");
    {
        use insitu_core::codesign::{self, Decision, Kind};
        codesign::contribute(store, public, alice, Kind::Comment, "Yes", Some("Alice M.")).unwrap();
        codesign::contribute(store, public, bob, Kind::Suggestion, "Hexagonal", None).unwrap();
        codesign::vote(store, &codesign::Ballot::Options(public), alice, 1).unwrap();
        codesign::pledge(store, public, alice, 2_500).unwrap();
        codesign::review(
            store,
            in_review,
            "olga",
            Decision::RequestChanges,
            "Name the study.",
        )
        .unwrap();
    }
    let (proposal, draft) = (
        format!("/proposals/{public}"),
        format!("/proposals/{in_review}"),
    );

    let mut cookies = std::collections::BTreeMap::new();
    for who in ["alice", "bob", "ufc", "insitu-examples", "operator", "olga"] {
        cookies.insert(who, site.sign_in(who).await);
    }
    let (runs, request) = (format!("/runs/{}", run.id), format!("/requests/{pending}"));
    // (who, path, expected status): every page of each role, and error pages.
    let pages: Vec<(&str, &str, StatusCode)> = vec![
        ("anonymous", "/login", StatusCode::OK),
        ("alice", "/", StatusCode::OK),
        ("alice", "/history", StatusCode::OK),
        ("alice", "/data/bank.transactions", StatusCode::OK),
        (
            "alice",
            "/data/bank.transactions?from=x",
            StatusCode::BAD_REQUEST,
        ),
        ("alice", &request, StatusCode::OK),
        ("alice", &runs, StatusCode::OK),
        ("alice", "/requests/999999", StatusCode::NOT_FOUND),
        ("bob", "/", StatusCode::OK),
        ("bob", "/history", StatusCode::OK),
        ("ufc", "/", StatusCode::OK),
        ("ufc", &runs, StatusCode::OK),
        ("ufc", "/history", StatusCode::FORBIDDEN),
        ("alice", "/requests", StatusCode::OK),
        ("alice", "/grants", StatusCode::OK),
        ("alice", "/runs", StatusCode::OK),
        ("alice", "/receptions", StatusCode::OK),
        ("alice", "/invitations", StatusCode::OK),
        ("alice", "/earnings", StatusCode::OK),
        ("ufc", "/requests", StatusCode::OK),
        ("ufc", "/runs", StatusCode::OK),
        ("ufc", "/grants", StatusCode::NOT_FOUND),
        ("ufc", "/jobs", StatusCode::OK),
        ("insitu-examples", "/", StatusCode::OK),
        ("operator", "/", StatusCode::OK),
        ("alice", "/proposals", StatusCode::OK),
        ("alice", &proposal, StatusCode::OK),
        ("alice", &draft, StatusCode::NOT_FOUND),
        ("ufc", "/proposals", StatusCode::OK),
        ("ufc", &proposal, StatusCode::OK),
        ("ufc", &draft, StatusCode::OK),
        ("olga", "/", StatusCode::OK),
        ("olga", "/reviews", StatusCode::OK),
        ("olga", "/proposals", StatusCode::OK),
        ("olga", &draft, StatusCode::OK),
        ("operator", "/proposals", StatusCode::OK),
    ];
    let mut keys = locale::keys(Lang::Fr);
    keys.extend(locale::keys(Lang::En));
    // Keys of one word (`none`, `run`) are words too; the record of misses covers them.
    keys.retain(|k| k.contains('-'));
    let mut seen = 0;
    // A sentence of the footer, in each language.
    for (lang, own_word) in [
        ("fr", "vos données restent chez vous"),
        ("en", "keeps your data with you"),
    ] {
        for (who, path, want) in &pages {
            let cookie = cookies.get(who).map(String::as_str);
            let r = site.send_in(lang, "GET", path, cookie, None).await;
            let at = format!("{path} as {who} in {lang}");
            assert_eq!(r.status, *want, "{at}: {}", r.body);
            assert!(
                r.body.contains(&format!("<html lang=\"{lang}\">")),
                "{at}: {}",
                r.body
            );
            let text = visible_text(&r.body);
            assert!(text.contains(own_word), "{at} is not in {lang}: {text}");
            for key in &keys {
                let shown = text.match_indices(key.as_str()).any(|(i, _)| {
                    let before = text[..i].chars().next_back();
                    let after = text[i + key.len()..].chars().next();
                    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '-');
                    !word(before) && !word(after)
                });
                assert!(!shown, "{at} shows the message key `{key}`: {text}");
            }
            seen += 1;
        }
    }
    assert_eq!(seen, 2 * pages.len());
    // The French pages say it in French.
    let fr = site
        .send_in(
            "fr",
            "GET",
            "/",
            cookies.get("alice").map(String::as_str),
            None,
        )
        .await
        .body;
    assert!(fr.contains("Demandes qui attendent votre réponse"), "{fr}");
    assert!(
        fr.contains(&format!("/invitations/{}/answer", job.id)),
        "{fr}"
    );
    let consent = site
        .send_in(
            "fr",
            "GET",
            &request,
            cookies.get("alice").map(String::as_str),
            None,
        )
        .await
        .body;
    assert!(
        consent.contains("ufc aimerait utiliser certaines de vos données"),
        "{consent}"
    );
    assert!(
        consent.contains("a &lt;study&gt;"),
        "the purpose was not escaped: {consent}"
    );
    assert!(consent.contains("Vous ne payez rien."), "{consent}");
    // A vote in the history is said in words, not as the store keys its ballot.
    let history = site
        .send_in(
            "fr",
            "GET",
            "/history",
            cookies.get("alice").map(String::as_str),
            None,
        )
        .await
        .body;
    assert!(
        history.contains(&format!(
            "Vous avez voté entre les options de la proposition {public}"
        )),
        "{history}"
    );
    assert!(!history.contains("proposal:"), "{history}");
    // The switch: a cookie for a year, back to the page it was on, and it outranks the browser.
    let r = site
        .send_in("en", "GET", "/language/fr?back=/history", None, None)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location, "/history");
    assert!(r.cookie.starts_with("insitu_lang=fr;"), "{}", r.cookie);
    let away = site
        .send_in(
            "en",
            "GET",
            "/language/fr?back=//elsewhere.example",
            None,
            None,
        )
        .await;
    assert_eq!(away.location, "/");
    let req = Request::get("/login")
        .header("accept-language", "en")
        .header("cookie", "insitu_lang=fr")
        .body(Body::empty())
        .unwrap();
    let resp = site.app.clone().oneshot(req).await.unwrap();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&body).contains("Se connecter à Insitu"));
    // No page asked for a message a catalogue lacks.
    assert_eq!(locale::missing_messages(), Vec::<String>::new());
}

/// The language is kept on the account: the switch, signed in, stores it; the next sign-in, in
/// a browser that asks for English, sets the language cookie to it and the pages speak it. A
/// switch without the session (as from another site: the session cookie is `SameSite=Strict`)
/// changes no account.
#[tokio::test]
async fn the_language_chosen_signed_in_follows_the_account_to_the_next_sign_in() {
    let site = Site::new();
    let alice = person(&site, "alice");
    let _ = alice;
    let account = || site.pds.store.account_by_name("alice").unwrap().unwrap();
    assert_eq!(account().language, None);
    // Without the session: nothing stored.
    let r = site.send("GET", "/language/fr?back=/", None, None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.cookie.contains("insitu_lang=fr"), "{}", r.cookie);
    assert_eq!(account().language, None);
    // Signed in: stored on the account.
    let session = site.sign_in("alice").await;
    site.send("GET", "/language/fr?back=/", Some(&session), None)
        .await;
    assert_eq!(account().language.as_deref(), Some("fr"));
    // A new browser asking for English signs in: the account's language comes with the session.
    let resp = site
        .app
        .clone()
        .oneshot(
            Request::post("/login")
                .header("accept-language", "en")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from("name=alice&password=correct+horse+battery"))
                .unwrap(),
        )
        .await
        .unwrap();
    let cookies: Vec<String> = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("insitu_lang=fr;")),
        "{cookies:?}"
    );
    let secret = cookies
        .iter()
        .find_map(|c| c.split(';').next()?.strip_prefix("insitu_session="))
        .unwrap()
        .to_string();
    let home = site
        .app
        .clone()
        .oneshot(
            Request::get("/")
                .header("accept-language", "en")
                .header("cookie", format!("insitu_session={secret}; insitu_lang=fr"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let body = axum::body::to_bytes(home.into_body(), 1 << 24)
        .await
        .unwrap();
    assert!(
        String::from_utf8_lossy(&body).contains("lang=\"fr\""),
        "the page speaks French"
    );
}

/// A person browses their own records: a page of 50 at a time, oldest first, with the next
/// page's link keeping the filters; a text search, a date range and an amount range; each
/// record says which grant can read it (inside the grant's window) or nobody. Nobody else's
/// records show, and a bad filter is a clear 400.
#[tokio::test]
async fn a_person_browses_their_records_with_filters_pages_and_who_can_read_each() {
    use insitu_core::store::Value;
    let site = Site::new();
    let store = site.pds.store.as_ref();
    let alice = person(&site, "alice");
    person(&site, "bob");
    let day = 86_400_000i64;
    let jan_2024 = 1_704_067_200_000i64;
    // 120 transactions, one a day from 2024-01-01; every tenth a rent payment of -700.00.
    let rows: Vec<Vec<(&str, Value)>> = (0..120)
        .map(|i| {
            let rent = i % 10 == 0;
            vec![
                ("account", Value::Text("FR76".into())),
                ("booked", Value::Timestamp(jan_2024 + i * day)),
                (
                    "amount",
                    Value::Money {
                        minor: if rent { -70_000 } else { -(100 + i) },
                        currency: "EUR".into(),
                    },
                ),
                (
                    "label",
                    Value::Text(if rent {
                        "LOYER".into()
                    } else {
                        format!("CB SHOP {i}")
                    }),
                ),
            ]
        })
        .collect();
    crate::common::write_named(store, alice, "bank.transactions", &rows);
    // A grant of two fields over February 2024 only.
    store
        .add_grant(insitu_core::consent::Grant {
            id: 0,
            person: alice,
            plugin_digest: site.plugin.digest.clone(),
            collections: vec![insitu_core::consent::GrantedCollection {
                name: "bank.transactions".into(),
                fields: vec!["amount".into(), "label".into()],
            }],
            window: insitu_core::store::TimeRange {
                since: Some(jan_2024 + 31 * day),
                until: Some(jan_2024 + 60 * day),
            },
            created_ms: store.now_ms(),
            expires_ms: None,
            revoked_ms: None,
            origin: None,
        })
        .unwrap();

    let a = site.sign_in("alice").await;
    let home = site.send("GET", "/", Some(&a), None).await.body;
    assert!(home.contains("href=\"/data/bank.transactions\""), "{home}");
    let first = site
        .send("GET", "/data/bank.transactions", Some(&a), None)
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let rows_of = |body: &str| body.matches("<tr><td").count();
    assert_eq!(rows_of(&first.body), 50);
    assert!(first.body.contains("Jan 1, 2024") && !first.body.contains("Feb 20, 2024"));
    // Inside the grant's window: fee-scanner and the fields; outside: nobody.
    let feb_row = first.body.find("Feb 1, 2024").unwrap();
    let jan_row = first.body.find("Jan 31, 2024").unwrap();
    assert!(first.body[feb_row..].contains("fee-scanner (Amount, Description)"));
    // Columns by their labels, in the visitor's language.
    assert!(first.body.contains("<th scope=\"col\">Counterparty</th>"));
    let french = site
        .send_in("fr", "GET", "/data/bank.transactions", Some(&a), None)
        .await
        .body;
    assert!(french.contains("<th scope=\"col\">Tiers</th>"), "{french}");
    // The collection by its name in the visitor's language.
    assert!(
        french.contains("<h1>Mes données : Opérations bancaires</h1>"),
        "{french}"
    );
    let french_home = site.send_in("fr", "GET", "/", Some(&a), None).await.body;
    assert!(
        french_home.contains("<a href=\"/data/bank.transactions\">Opérations bancaires</a>"),
        "{french_home}"
    );
    assert!(
        french.contains("fee-scanner (Montant, Libellé)"),
        "{french}"
    );
    assert!(
        first.body[jan_row..feb_row].contains("nobody"),
        "{}",
        &first.body[jan_row..feb_row]
    );
    // The next pages: 50, then 20, then no link.
    let next = |body: &str| {
        body.split("href=\"")
            .find(|x| x.starts_with("/data/bank.transactions?after="))
            .map(|x| x[..x.find('"').unwrap()].replace("&amp;", "&"))
    };
    let second = site
        .send("GET", &next(&first.body).unwrap(), Some(&a), None)
        .await
        .body;
    assert_eq!(rows_of(&second), 50);
    assert!(second.contains("Feb 20, 2024") && !second.contains("Jan 1, 2024"));
    let third = site
        .send("GET", &next(&second).unwrap(), Some(&a), None)
        .await
        .body;
    assert_eq!(rows_of(&third), 20);
    assert_eq!(next(&third), None);
    // Search, dates and amounts, and the next link keeps them.
    let rent = site
        .send("GET", "/data/bank.transactions?q=loyer", Some(&a), None)
        .await
        .body;
    assert_eq!(rows_of(&rent), 12);
    let dated = site
        .send(
            "GET",
            "/data/bank.transactions?from=2024-02-01&to=2024-02-10",
            Some(&a),
            None,
        )
        .await
        .body;
    assert_eq!(rows_of(&dated), 10);
    let cheap = site
        .send(
            "GET",
            "/data/bank.transactions?min=-1.50&max=-1.10",
            Some(&a),
            None,
        )
        .await
        .body;
    // -1.10 to -1.50: i from 10 to 50, rent days excepted (10, 20, 30, 40, 50).
    assert_eq!(rows_of(&cheap), 36);
    let wide = site
        .send("GET", "/data/bank.transactions?q=shop", Some(&a), None)
        .await
        .body;
    let link = next(&wide).unwrap();
    assert!(link.contains("&q=shop"), "{link}");
    // Nobody else's records; an organisation is refused; bad input is a clear 400.
    let b = site.sign_in("bob").await;
    let bobs = site
        .send("GET", "/data/bank.transactions", Some(&b), None)
        .await;
    assert!(bobs.body.contains("No record matches.") && !bobs.body.contains("LOYER"));
    for (path, status) in [
        ("/data/no.such", StatusCode::NOT_FOUND),
        (
            "/data/bank.transactions?from=yesterday",
            StatusCode::BAD_REQUEST,
        ),
        ("/data/bank.transactions?min=lots", StatusCode::BAD_REQUEST),
        ("/data/bank.transactions?after=x", StatusCode::BAD_REQUEST),
    ] {
        let r = site.send("GET", path, Some(&a), None).await;
        assert_eq!(r.status, status, "{path}: {}", r.body);
    }
    let fr = site
        .send_in(
            "fr",
            "GET",
            "/data/bank.transactions?from=hier",
            Some(&a),
            None,
        )
        .await
        .body;
    assert!(fr.contains("n'est pas une date"), "{fr}");
}
