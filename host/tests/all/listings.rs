//! Listings that scale: every list endpoint answers a page at a time, newest first, with a
//! `Link: <...>; rel="next"` header while there is more. Walking the links gives each of the
//! caller's rows once, never another owner's; a bad cursor or limit is a 400 with the API's
//! error body.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use insitu_core::account::{self, Role};
use insitu_core::codesign::{self, Content, Decision, Proposal, Status as ProposalStatus};
use insitu_core::consent::{Grant, GrantedCollection, Origin};
use insitu_core::job::{CampaignSpec, Job, JobKind, JobStatus, Member, MemberOutcome};
use insitu_core::ledger::{Entry, Movement, Party};
use insitu_core::meter::{Outcome, RunRecord};
use insitu_core::output::Money;
use insitu_core::pds::Pds;
use insitu_core::request::{AccessRequest, Status};
use insitu_core::store::{PersonId, Proposals, Reception, TimeRange};
use insitu_server::{AppState, limit::RateLimits, router};
use serde_json::Value;
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";

struct World {
    _dir: tempfile::TempDir,
    app: axum::Router,
    pds: Arc<Pds>,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let pds = Arc::new(Pds::open(dir.path()).unwrap());
        let app = router(AppState::new(pds.clone(), RateLimits::default()));
        World {
            _dir: dir,
            app,
            pds,
        }
    }

    /// An account and a token with all of its role's scopes; the person, for a person.
    fn account(&self, name: &str, role: Role) -> (String, Option<PersonId>) {
        let store = self.pds.store.as_ref();
        let a = account::create(store, name, PASSWORD, role).unwrap();
        let token = account::issue_token(store, &a, &[], "test", None)
            .unwrap()
            .0;
        (token, a.person)
    }

    /// GET `path`: the status, the `Link` header and the body.
    async fn get(&self, path: &str, token: &str) -> (StatusCode, Option<String>, Value) {
        let req = Request::builder()
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let link = resp
            .headers()
            .get("link")
            .map(|v| v.to_str().unwrap().to_string());
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
            .await
            .unwrap();
        (status, link, serde_json::from_slice(&bytes).unwrap())
    }

    /// Every row of a listing, walking its `Link`s from `first`: each page at most `limit`
    /// rows, newest first, each but the last full and its cursor the last row shown (except
    /// invitations: a page of the person's own memberships, of which some are not
    /// invitations). Returns the ids
    /// (by `id`) in the order served.
    async fn walk(&self, first: &str, token: &str, limit: usize, id: &str) -> Vec<u64> {
        let mut ids = Vec::new();
        let mut path = first.to_string();
        for _ in 0..100 {
            let (st, link, body) = self.get(&path, token).await;
            assert_eq!(st, StatusCode::OK, "{path}: {body}");
            let rows = body.as_array().unwrap_or_else(|| panic!("{path}: {body}"));
            assert!(rows.len() <= limit, "{path}: {} rows", rows.len());
            ids.extend(rows.iter().map(|r| r[id].as_u64().unwrap()));
            let Some(link) = link else { return ids };
            let next = link
                .strip_prefix('<')
                .and_then(|l| l.split_once(">; rel=\"next\""))
                .map(|(p, _)| p.to_string())
                .unwrap_or_else(|| panic!("{path}: a malformed Link {link}"));
            assert!(next.contains(&format!("limit={limit}")), "{next}");
            // The cursor is the last row shown, and only a full page has a next one: the
            // boundaries are the caller's own rows, nobody else's.
            if id == "id" {
                assert!(
                    next.contains(&format!("after={}&", ids.last().unwrap_or(&0))),
                    "{path}: the cursor {next} is not the last row shown"
                );
                assert_eq!(rows.len(), limit, "{path}: a page before the last is short");
            }
            path = next;
        }
        panic!("{first}: the links never end");
    }
}

fn request(person: PersonId, requester: &str, nowhere: bool) -> AccessRequest {
    AccessRequest {
        id: 0,
        requester: requester.into(),
        person,
        plugin_digest: "d1".into(),
        data: vec![],
        purpose: "fees".into(),
        days: 30,
        created_ms: 7,
        status: Status::Pending,
        nowhere,
    }
}

fn grant(person: PersonId, requester: Option<&str>) -> Grant {
    Grant {
        id: 0,
        person,
        plugin_digest: "d1".into(),
        collections: vec![GrantedCollection {
            name: "bank.transactions".into(),
            fields: vec!["amount".into()],
        }],
        window: TimeRange::ALL,
        created_ms: 1_000,
        expires_ms: None,
        revoked_ms: None,
        origin: requester.map(|r| Origin {
            requester: r.into(),
            purpose: "fees".into(),
            request: 1,
        }),
    }
}

fn run(person: PersonId, requester: Option<&str>, job: Option<u64>) -> RunRecord {
    let mut r = RunRecord::new(person, 1, "d1", 5);
    r.outcome = Outcome::Succeeded;
    r.requester = requester.map(str::to_string);
    r.job = job;
    r
}

fn campaign() -> Job {
    Job {
        id: 0,
        kind: JobKind::Campaign(CampaignSpec {
            description: "bank fees".into(),
            brand: "bank".into(),
            association: "consumers".into(),
            k: 5,
            epsilon_micro: 500_000,
            period: "2026-11".into(),
        }),
        owner: "acme".into(),
        plugin_digest: "d1".into(),
        params: vec![],
        created_ms: 11,
        status: JobStatus::Running,
        release: None,
        counts: None,
        release_ms: 99,
    }
}

/// `all` filtered by `keep`, newest first (by `id`).
fn newest<T>(all: Vec<T>, keep: impl Fn(&T) -> bool, id: impl Fn(&T) -> u64) -> Vec<u64> {
    let mut ids: Vec<u64> = all.iter().filter(|r| keep(r)).map(id).collect();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_listing_pages_by_link_each_row_once_and_only_the_callers() {
    let w = World::new();
    let (alice_t, alice) = w.account("alice", Role::Person);
    let (bob_t, bob) = w.account("bob", Role::Person);
    let (acme_t, _) = w.account("acme", Role::Organisation);
    let (globex_t, _) = w.account("globex", Role::Organisation);
    let (alice, bob) = (alice.unwrap(), bob.unwrap());
    let store = w.pds.store.as_ref();

    // Rows of several owners, interleaved, more than a page of 2 each.
    for i in 0..10u64 {
        let (who, org) = [(alice, "acme"), (bob, "acme"), (alice, "globex")][i as usize % 3];
        store.add_request(request(who, org, false)).unwrap();
        store
            .add_grant(grant(who, (i % 4 != 3).then_some(org)))
            .unwrap();
        store
            .record_run(run(who, (i % 4 != 3).then_some(org), None))
            .unwrap();
        store
            .add_reception(Reception {
                id: 0,
                person: who,
                organisation: org.into(),
                collection: "bank.transactions".into(),
                created_ms: 8,
                revoked_ms: None,
            })
            .unwrap();
    }
    // A request that went nowhere (acme's own), and a campaign run of acme's on Alice's data
    // (the member's alone).
    store.add_request(request(77, "acme", true)).unwrap();
    store.record_run(run(alice, Some("acme"), Some(1))).unwrap();
    // Campaigns Alice and Bob are members of: matched (an invitation) or not.
    for (people, outcome) in [
        (vec![alice, bob], MemberOutcome::Matched { findings: 1 }),
        (vec![alice], MemberOutcome::NoMatch),
        (vec![alice, bob], MemberOutcome::Matched { findings: 2 }),
        (vec![alice], MemberOutcome::Matched { findings: 1 }),
        (vec![bob], MemberOutcome::Matched { findings: 1 }),
    ] {
        let job = store.add_job(campaign()).unwrap().id;
        let members = people
            .iter()
            .map(|p| {
                (
                    Some(run(*p, Some("acme"), Some(job))),
                    Member {
                        job: 0,
                        person: *p,
                        run: 0,
                        outcome: outcome.clone(),
                        answer: None,
                    },
                )
            })
            .collect();
        store.record_members(job, members).unwrap();
    }

    // Ledger lines: acme pays Alice, Bob and globex in turn; every fifth line is dated at a
    // release time still to come, and is listed to nobody yet.
    let later = w.pds.store.now_ms() + 86_400_000;
    for i in 0..12u64 {
        let credit = [
            Party::Person(alice),
            Party::Person(bob),
            Party::Organisation("globex".into()),
        ][i as usize % 3]
            .clone();
        let line = Entry {
            id: 0,
            at_ms: if i % 5 == 4 { later } else { 10 },
            key: format!("test:{i}"),
            debit: Party::Organisation("acme".into()),
            credit,
            amount: Money {
                minor: 100,
                currency: "EUR".into(),
            },
            movement: Movement::Reward,
            memo: String::new(),
        };
        store.post(&format!("test:{i}"), vec![line]).unwrap();
    }
    let shown = |party: Party| {
        newest(
            store.ledger().unwrap(),
            |e: &Entry| (e.debit == party || e.credit == party) && e.at_ms < later,
            |e| e.id,
        )
    };

    // Tokens: every sign-in adds one; Alice's and Bob's interleaved.
    let alice_account = store.account_by_name("alice").unwrap().unwrap();
    let bob_account = store.account_by_name("bob").unwrap().unwrap();
    for i in 0..4 {
        for a in [&alice_account, &bob_account] {
            account::issue_token(store, a, &[], &format!("t{i}"), None).unwrap();
        }
    }
    let tokens =
        |a: &account::Account| newest(store.tokens(a.id).unwrap(), |t| t.account == a.id, |t| t.id);
    // Proposals: acme's and globex's interleaved, two in three approved; Alice pledges to one
    // of acme's that acme then changes, which puts it back in review: she still sees it.
    let (olga_t, _) = w.account("olga", Role::Officer);
    let content = |title: &str| Content {
        title: title.into(),
        description: "A design.".into(),
        options: vec![],
        studies: vec![],
        goal: Money {
            minor: 10_000,
            currency: "EUR".into(),
        },
        deadline_ms: store.now_ms() + 30 * 86_400_000,
        tiers: vec![],
    };
    for i in 0..9 {
        let org = ["acme", "globex"][i % 2];
        let p = codesign::submit(store, org, None, content(&format!("p{i}"))).unwrap();
        if i % 3 != 2 {
            codesign::review(store, p.id, "olga", Decision::Approve, "").unwrap();
        }
    }
    let proposals = insitu_core::store::walk(
        64,
        |p: &Proposal| p.id,
        |page| store.proposals_page(&Proposals::All, page),
    )
    .unwrap();
    let pledged = proposals
        .iter()
        .find(|p| p.organisation == "acme" && p.is_public())
        .unwrap()
        .id;
    codesign::pledge(store, pledged, alice, 500).unwrap();
    codesign::revise(store, pledged, "acme", content("changed")).unwrap();
    let proposals = insitu_core::store::walk(
        64,
        |p: &Proposal| p.id,
        |page| store.proposals_page(&Proposals::All, page),
    )
    .unwrap();
    let proposals_for =
        |keep: &dyn Fn(&Proposal) -> bool| newest(proposals.clone(), keep, |p| p.id);
    let requests = store.requests(None).unwrap();
    let grants = store.grants(None).unwrap();
    let runs = store.runs(None).unwrap();
    let receptions = store.receptions(None).unwrap();
    let org_of = |g: &Grant| g.origin.as_ref().map(|o| o.requester.clone());
    let cases: Vec<(&str, &str, &str, Vec<u64>)> = vec![
        (
            "/api/proposals",
            alice_t.as_str(),
            "id",
            proposals_for(&|p| p.is_public() || p.id == pledged),
        ),
        (
            "/api/proposals",
            bob_t.as_str(),
            "id",
            proposals_for(&|p| p.is_public()),
        ),
        (
            "/api/proposals",
            acme_t.as_str(),
            "id",
            proposals_for(&|p| p.is_public() || p.organisation == "acme"),
        ),
        (
            "/api/proposals",
            olga_t.as_str(),
            "id",
            proposals_for(&|_| true),
        ),
        (
            "/api/reviews",
            olga_t.as_str(),
            "id",
            proposals_for(&|p| p.status == ProposalStatus::InReview),
        ),
        (
            "/api/tokens",
            alice_t.as_str(),
            "id",
            tokens(&alice_account),
        ),
        ("/api/tokens", bob_t.as_str(), "id", tokens(&bob_account)),
        (
            "/api/requests",
            alice_t.as_str(),
            "id",
            newest(
                requests.clone(),
                |r| r.person == alice && !r.nowhere,
                |r| r.id,
            ),
        ),
        (
            "/api/requests",
            acme_t.as_str(),
            "id",
            newest(requests.clone(), |r| r.requester == "acme", |r| r.id),
        ),
        (
            "/api/requests",
            globex_t.as_str(),
            "id",
            newest(requests, |r| r.requester == "globex", |r| r.id),
        ),
        (
            "/api/grants",
            bob_t.as_str(),
            "id",
            newest(grants.clone(), |g| g.person == bob, |g| g.id),
        ),
        (
            "/api/grants",
            acme_t.as_str(),
            "id",
            newest(grants, |g| org_of(g).as_deref() == Some("acme"), |g| g.id),
        ),
        (
            "/api/runs",
            alice_t.as_str(),
            "id",
            newest(runs.clone(), |r| r.person == alice, |r| r.id),
        ),
        (
            "/api/runs",
            acme_t.as_str(),
            "id",
            newest(
                runs,
                |r| r.job.is_none() && r.requester.as_deref() == Some("acme"),
                |r| r.id,
            ),
        ),
        (
            "/api/receptions",
            alice_t.as_str(),
            "id",
            newest(receptions.clone(), |r| r.person == alice, |r| r.id),
        ),
        (
            "/api/receptions",
            globex_t.as_str(),
            "id",
            newest(receptions, |r| r.organisation == "globex", |r| r.id),
        ),
        (
            "/api/invitations",
            alice_t.as_str(),
            "job",
            newest(
                store.memberships(alice).unwrap(),
                |m| matches!(m.outcome, MemberOutcome::Matched { .. }),
                |m| m.job,
            ),
        ),
        (
            "/api/invitations",
            bob_t.as_str(),
            "job",
            newest(
                store.memberships(bob).unwrap(),
                |m| matches!(m.outcome, MemberOutcome::Matched { .. }),
                |m| m.job,
            ),
        ),
        (
            "/api/ledger",
            alice_t.as_str(),
            "id",
            shown(Party::Person(alice)),
        ),
        (
            "/api/ledger",
            acme_t.as_str(),
            "id",
            shown(Party::Organisation("acme".into())),
        ),
    ];
    for (path, token, id, want) in cases {
        assert!(want.len() > 2, "{path}: the case needs more than a page");
        for limit in [1, 2, 3] {
            let got = w
                .walk(&format!("{path}?limit={limit}"), token, limit, id)
                .await;
            assert_eq!(
                got, want,
                "{path} by pages of {limit}: each of the caller's rows once, newest first"
            );
        }
        // No query: one page of the default size holds them all, and links nowhere.
        let (st, link, body) = w.get(path, token).await;
        assert_eq!((st, link), (StatusCode::OK, None), "{path}");
        assert_eq!(body.as_array().unwrap().len(), want.len(), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_cursor_or_limit_is_a_400_with_the_error_body() {
    let w = World::new();
    let (alice_t, alice) = w.account("alice", Role::Person);
    let store = w.pds.store.as_ref();
    for _ in 0..3 {
        store
            .add_grant(grant(alice.unwrap(), Some("acme")))
            .unwrap();
    }
    for path in [
        "/api/tokens",
        "/api/runs",
        "/api/requests",
        "/api/grants",
        "/api/receptions",
        "/api/invitations",
        "/api/ledger",
    ] {
        for query in [
            "after=abc",
            "after=-1",
            "after=1.5",
            "after=99999999999999999999999",
            "limit=-1",
            "limit=x",
            "limit=99999999999999999999999",
        ] {
            let (st, link, body) = w.get(&format!("{path}?{query}"), &alice_t).await;
            assert_eq!(st, StatusCode::BAD_REQUEST, "{path}?{query}: {body}");
            assert_eq!(body["code"], "bad_request", "{path}?{query}: {body}");
            assert!(link.is_none());
        }
    }
    // Out of range but well formed: clamped, never an error.
    let (st, link, body) = w.get("/api/grants?limit=0", &alice_t).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        body.as_array().unwrap().len(),
        1,
        "a limit of 0 is taken as 1"
    );
    assert!(link.is_some_and(|l| l.contains("limit=1")));
    let (st, _, body) = w.get("/api/grants?limit=100000", &alice_t).await;
    assert_eq!((st, body.as_array().unwrap().len()), (StatusCode::OK, 3));
    let (st, link, body) = w.get("/api/grants?after=0", &alice_t).await;
    assert_eq!(
        (st, link, body),
        (StatusCode::OK, None, Value::Array(vec![]))
    );
}

/// The pages: a browser signed in as `name`, reading `path` in `lang`.
impl World {
    async fn sign_in(&self, name: &str) -> String {
        let req = Request::builder()
            .method("POST")
            .uri("/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "name={name}&password=correct+horse+battery"
            )))
            .unwrap();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let cookie = resp.headers()["set-cookie"].to_str().unwrap();
        cookie
            .split(';')
            .next()
            .and_then(|c| c.strip_prefix("insitu_session="))
            .unwrap()
            .to_string()
    }

    async fn page(&self, path: &str, cookie: &str, lang: &str) -> (StatusCode, String) {
        let req = Request::builder()
            .uri(path)
            .header("accept-language", lang)
            .header("cookie", format!("insitu_session={cookie}"))
            .body(Body::empty())
            .unwrap();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The ids a listing's pages show, walking their "older" links from `first`: `row` is
    /// the text before each row's id (`href="/runs/`), `path` the listing's own path.
    async fn walk_pages(&self, first: &str, cookie: &str, path: &str, row: &str) -> Vec<u64> {
        self.walk_pages_of(first, cookie, path, row, 20).await
    }

    /// [`World::walk_pages`] for a listing of at most `rows` rows a page.
    async fn walk_pages_of(
        &self,
        first: &str,
        cookie: &str,
        path: &str,
        row: &str,
        rows: usize,
    ) -> Vec<u64> {
        let mut ids = Vec::new();
        let mut at = first.to_string();
        for _ in 0..100 {
            let (st, body) = self.page(&at, cookie, "en").await;
            assert_eq!(st, StatusCode::OK, "{at}: {body}");
            let mut shown = ids_after(&body, row);
            // A grant's row has two forms (revoke, run), each naming it, and a picture's
            // table of figures repeats the rows it draws (the organisation's campaigns).
            let mut once = std::collections::HashSet::new();
            shown.retain(|id| once.insert(*id));
            assert!(shown.len() <= rows, "{at}: {} rows", shown.len());
            ids.extend(&shown);
            let link = format!("href=\"{path}?after=");
            let Some(next) = ids_after(&body, &link).first().copied() else {
                return ids;
            };
            assert_eq!(
                Some(&next),
                shown.last(),
                "{at}: the older page follows the last row"
            );
            assert!(body.contains("rel=\"next\""), "{at}");
            at = format!("{path}?after={next}");
        }
        panic!("{first}: the older links never end");
    }
}

/// A ledger line: organisation `org` pays person `who` 1 EUR, at `at_ms`.
fn paid(org: &str, who: PersonId, at_ms: i64) -> Entry {
    Entry {
        id: 0,
        at_ms,
        key: String::new(),
        debit: Party::Organisation(org.into()),
        credit: Party::Person(who),
        amount: Money {
            minor: 100,
            currency: "EUR".into(),
        },
        movement: Movement::Reward,
        memo: format!("from {org}"),
    }
}

/// The numbers that follow each `before` in `text`, in order.
fn ids_after(text: &str, before: &str) -> Vec<u64> {
    text.match_indices(before)
        .filter_map(|(i, _)| {
            let rest = &text[i + before.len()..];
            let end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            rest[..end].parse().ok()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_show_the_newest_rows_and_link_to_older_ones() {
    let w = World::new();
    let (_, alice) = w.account("alice", Role::Person);
    let (_, bob) = w.account("bob", Role::Person);
    w.account("acme", Role::Organisation);
    w.account("globex", Role::Organisation);
    let (alice, bob) = (alice.unwrap(), bob.unwrap());
    let store = w.pds.store.as_ref();
    // 45 of each for Alice (20 a page: three pages), interleaved with Bob's and globex's.
    for i in 0..60u64 {
        let (who, org) = if i % 4 == 3 {
            (bob, "globex")
        } else {
            (alice, "acme")
        };
        store.add_request(request(who, org, false)).unwrap();
        store.add_grant(grant(who, Some(org))).unwrap();
        store.record_run(run(who, Some(org), None)).unwrap();
        store
            .post(&format!("test:{i}"), vec![paid(org, who, 10)])
            .unwrap();
    }
    // Alice's lines dated at a release time still to come: on no page yet.
    let later = store.now_ms() + 86_400_000;
    for i in 0..3 {
        store
            .post(&format!("later:{i}"), vec![paid("acme", alice, later)])
            .unwrap();
    }
    let cookie = w.sign_in("alice").await;
    let requests = store.requests(None).unwrap();
    let grants = store.grants(None).unwrap();
    let runs = store.runs(None).unwrap();
    let lines = store.ledger().unwrap();
    let cases = [
        (
            "/requests",
            "href=\"/requests/",
            newest(requests.clone(), |r| r.person == alice, |r| r.id),
        ),
        (
            "/grants",
            "action=\"/grants/",
            newest(grants, |g| g.person == alice, |g| g.id),
        ),
        (
            "/runs",
            "href=\"/runs/",
            newest(runs.clone(), |r| r.person == alice, |r| r.id),
        ),
        (
            "/earnings",
            "id=\"line-",
            newest(
                lines,
                |e| e.credit == Party::Person(alice) && e.at_ms < later,
                |e| e.id,
            ),
        ),
    ];
    for (path, row, want) in &cases {
        assert_eq!(want.len(), 45);
        let got = w.walk_pages(path, &cookie, path, row).await;
        assert_eq!(
            &got, want,
            "{path}: each of Alice's rows once, newest first"
        );
    }
    // The home page shows the newest page of each, with the link to the older one, in both
    // languages.
    for (lang, older) in [("en", "Older"), ("fr", "Plus anciens")] {
        let (st, body) = w.page("/", &cookie, lang).await;
        assert_eq!(st, StatusCode::OK);
        for (path, row, want) in &cases {
            let mut shown = ids_after(&body, row);
            shown.dedup();
            assert_eq!(shown, want[..20], "{path} on the home page in {lang}");
            assert!(
                body.contains(&format!(
                    "href=\"{path}?after={}\" rel=\"next\">{older}<",
                    want[19]
                )),
                "{path}'s older link in {lang}"
            );
        }
    }
    // The organisation's pages: its own requests and runs, never globex's.
    let acme = w.sign_in("acme").await;
    let want = newest(runs, |r| r.requester.as_deref() == Some("acme"), |r| r.id);
    let got = w.walk_pages("/runs", &acme, "/runs", "href=\"/runs/").await;
    assert_eq!(got, want, "acme's runs");
    let want = newest(requests, |r| r.requester == "acme", |r| r.id);
    let got = w
        .walk_pages("/requests", &acme, "/requests", "<tr><td>")
        .await;
    assert_eq!(got, want, "acme's requests");
    // acme's campaigns (it opened them, or is their association), never globex's alone.
    let mut want = Vec::new();
    for id in 1..=50u64 {
        let mut j = campaign();
        if let JobKind::Campaign(c) = &mut j.kind {
            // The description names the job's id (ids are given from 1).
            c.description = format!("j{id}");
            c.association = if id % 7 == 0 { "acme" } else { "consumers" }.into();
        }
        j.owner = if id % 3 == 0 { "globex" } else { "acme" }.into();
        if id % 3 != 0 || id % 7 == 0 {
            want.push(id);
        }
        assert_eq!(store.add_job(j).unwrap().id, id);
    }
    want.reverse();
    let got = w.walk_pages("/jobs", &acme, "/jobs", "<td>j").await;
    assert_eq!(got, want, "acme's campaigns");
    // A cursor that is not a number is an error page, not a 500.
    for path in ["/runs?after=x", "/grants?after=-1", "/requests?after=1e3"] {
        let (st, body) = w.page(path, &cookie, "en").await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert!(body.contains("<html"), "{path}: an error page");
    }
}

/// The access history is read a page of 100 entries at a time, newest first, each entry once,
/// with an "older" link while there is more; a bad cursor is a 400 page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_pages_through_the_whole_chain_newest_first() {
    let w = World::new();
    let (_, alice) = w.account("alice", Role::Person);
    let alice = alice.unwrap();
    for grant in 0..250 {
        w.pds
            .store
            .append_audit(insitu_core::audit::AuditEvent::GrantRevoked {
                grant,
                person: alice,
            })
            .unwrap();
    }
    let head = w
        .pds
        .store
        .audit_head(insitu_core::audit::Chain::Person(alice))
        .unwrap()
        .unwrap()
        .seq;
    let cookie = w.sign_in("alice").await;
    let got = w
        .walk_pages_of(
            "/history",
            &cookie,
            "/history",
            "<tr><td class=\"num\">",
            100,
        )
        .await;
    assert_eq!(got, (0..=head).rev().collect::<Vec<_>>());
    let (st, body) = w.page("/history?after=x", &cookie, "en").await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
}
