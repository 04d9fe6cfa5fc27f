//! Paged listings: each owner's rows, newest first, every row on exactly one page, and never
//! another owner's.

use std::fmt::Debug;

use super::consent::{reception, request};
use super::jobs::{campaign, member};
use super::{finished, grant};
use crate::{Owner, Page, PersonId, Store, StoreError};
use insitu_model::consent::Origin;
use insitu_model::job::MemberOutcome;
use insitu_model::meter::RunRecord;

/// Asserts that `page` lists exactly `want` (newest first): walked by pages of 1, 2, 3 and
/// more than all, each row once and in order; and that every page starting `before` a row
/// holds the rows after it.
#[track_caller]
fn pages<T: Debug + PartialEq>(
    what: &str,
    want: &[T],
    id: impl Fn(&T) -> u64,
    page: impl Fn(Page) -> Result<Vec<T>, StoreError>,
) {
    for size in [1, 2, 3, want.len() + 1] {
        let mut got = Vec::new();
        let mut before = None;
        for _ in 0..=want.len() + 1 {
            let rows = page(Page {
                before,
                limit: size,
            })
            .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(
                rows.len() <= size,
                "{what}: a page holds more than its limit"
            );
            let full = rows.len() == size;
            before = rows.last().map(&id);
            got.extend(rows);
            if !full {
                break;
            }
        }
        assert_eq!(
            got, want,
            "{what}: walking pages of {size} does not give each row once, newest first"
        );
    }
    for (i, row) in want.iter().enumerate() {
        let rows = page(Page {
            before: Some(id(row)),
            limit: 2,
        })
        .unwrap_or_else(|e| panic!("{what}: {e}"));
        let rest: Vec<&T> = want[i + 1..].iter().take(2).collect();
        assert_eq!(
            rows.iter().collect::<Vec<_>>(),
            rest,
            "{what}: the page before {} is not the rows after it",
            id(row)
        );
    }
}

fn org(name: &str) -> Owner {
    Owner::Organisation(name.into())
}

/// `store`'s rows that `keep` keeps, newest first.
fn newest_first<T>(mut all: Vec<T>, keep: impl Fn(&T) -> bool) -> Vec<T> {
    all.retain(keep);
    all.reverse();
    all
}

pub(super) fn runs(store: &dyn Store) {
    let p = store.add_person("ada").expect("add_person");
    let q = store.add_person("bob").expect("add_person");
    let run = |who: PersonId, requester: Option<&str>, job: Option<u64>| {
        let mut r = finished(RunRecord::new(who, 1, "d1", 5));
        r.requester = requester.map(str::to_string);
        r.job = job;
        r
    };
    for (i, (who, requester, job)) in [
        (p, Some("acme"), None),
        (q, Some("acme"), None),
        (p, None, None),
        (q, Some("globex"), None),
        (p, Some("acme"), Some(3)),
        (p, Some("acme"), None),
        (q, None, Some(3)),
    ]
    .into_iter()
    .enumerate()
    {
        if i % 2 == 0 {
            store
                .record_run(run(who, requester, job))
                .expect("record_run");
        } else {
            // Begun, then finished: listed once.
            let mut begun = run(who, requester, job);
            begun.outcome = insitu_model::meter::Outcome::Running;
            let begun = store.begin_run(begun).expect("begin_run");
            store
                .finish_run(RunRecord {
                    id: begun.id,
                    ..run(who, requester, job)
                })
                .expect("finish_run");
        }
    }
    let all = store.runs(None).expect("runs");
    let check = |what: &str, owner: Owner, keep: &dyn Fn(&RunRecord) -> bool| {
        let want = newest_first(all.clone(), keep);
        pages(what, &want, |r| r.id, |page| store.runs_page(&owner, page));
    };
    check("every run", Owner::All, &|_| true);
    check("ada's runs", Owner::Person(p), &|r| r.person == p);
    check("bob's runs", Owner::Person(q), &|r| r.person == q);
    check("the runs acme started outside a job", org("acme"), &|r| {
        r.job.is_none() && r.requester.as_deref() == Some("acme")
    });
    check("the runs globex started", org("globex"), &|r| {
        r.requester.as_deref() == Some("globex")
    });
    check("nobody's runs", Owner::Person(99), &|_| false);
    check("no organisation's runs", org("initech"), &|_| false);

    // An erased person's runs leave every listing.
    store.erase_person(p, 50).expect("erase_person");
    let all = store.runs(None).expect("runs");
    let want = newest_first(all, |r| {
        r.person == q && r.requester.as_deref() == Some("acme")
    });
    pages(
        "acme's runs after ada's erasure",
        &want,
        |r| r.id,
        |page| store.runs_page(&org("acme"), page),
    );
    pages(
        "ada's runs after her erasure",
        &[],
        |r: &RunRecord| r.id,
        |page| store.runs_page(&Owner::Person(p), page),
    );
}

pub(super) fn consent(store: &dyn Store) {
    let p = store.add_person("ada").expect("add_person");
    let q = store.add_person("bob").expect("add_person");
    // Requests: acme's and globex's, to ada, bob and nobody.
    for (who, requester, nowhere) in [
        (p, "acme", false),
        (q, "acme", false),
        (77, "acme", true),
        (p, "globex", false),
        (q, "acme", false),
        (p, "acme", false),
    ] {
        let r = store
            .add_request(insitu_model::request::AccessRequest {
                requester: requester.into(),
                ..request(who, nowhere)
            })
            .expect("add_request");
        if r.id.is_multiple_of(2) && !nowhere {
            // A decision rewrites the request and lists it once.
            store.decide_request(r.id, None).expect("decide_request");
        }
    }
    let all = store.requests(None).expect("requests");
    for (what, owner, keep) in [
        (
            "ada's requests",
            Owner::Person(p),
            Box::new(|r: &insitu_model::request::AccessRequest| r.person == p && !r.nowhere)
                as Box<dyn Fn(&_) -> bool>,
        ),
        (
            "the requests to nobody",
            Owner::Person(77),
            Box::new(|_: &_| false),
        ),
        (
            "acme's requests, the one that went nowhere too",
            org("acme"),
            Box::new(|r: &insitu_model::request::AccessRequest| r.requester == "acme"),
        ),
        ("every request", Owner::All, Box::new(|_: &_| true)),
    ] {
        let want = newest_first(all.clone(), keep);
        pages(
            what,
            &want,
            |r| r.id,
            |page| store.requests_page(&owner, page),
        );
    }

    // Grants: given directly, or to acme or globex; one revoked.
    for (who, requester) in [
        (p, Some("acme")),
        (q, Some("acme")),
        (p, None),
        (q, Some("globex")),
        (p, Some("acme")),
    ] {
        let mut g = grant(who, "d1");
        g.origin = requester.map(|r| Origin {
            requester: r.into(),
            purpose: "fees".into(),
            request: 1,
        });
        let g = store.add_grant(g).expect("add_grant");
        if g.id == 2 {
            store.revoke_grant(g.id, 10).expect("revoke_grant");
        }
    }
    let all = store.grants(None).expect("grants");
    let requester =
        |g: &insitu_model::consent::Grant| g.origin.as_ref().map(|o| o.requester.clone());
    for (what, owner, keep) in [
        (
            "ada's grants",
            Owner::Person(p),
            Box::new(move |g: &insitu_model::consent::Grant| g.person == p)
                as Box<dyn Fn(&_) -> bool>,
        ),
        (
            "the grants acme obtained",
            org("acme"),
            Box::new(move |g: &_| requester(g).as_deref() == Some("acme")),
        ),
        ("every grant", Owner::All, Box::new(|_: &_| true)),
    ] {
        let want = newest_first(all.clone(), keep);
        pages(
            what,
            &want,
            |g| g.id,
            |page| store.grants_page(&owner, page),
        );
    }

    // Receptions.
    for (who, organisation) in [(p, "acme"), (q, "acme"), (p, "globex"), (p, "acme")] {
        let r = store
            .add_reception(crate::Reception {
                organisation: organisation.into(),
                ..reception(who)
            })
            .expect("add_reception");
        if r.id == 1 {
            store.revoke_reception(r.id, 10).expect("revoke_reception");
        }
    }
    let all = store.receptions(None).expect("receptions");
    for (what, owner, keep) in [
        (
            "ada's receptions",
            Owner::Person(p),
            Box::new(move |r: &crate::Reception| r.person == p) as Box<dyn Fn(&_) -> bool>,
        ),
        (
            "the receptions naming globex",
            org("globex"),
            Box::new(|r: &crate::Reception| r.organisation == "globex"),
        ),
        ("every reception", Owner::All, Box::new(|_: &_| true)),
    ] {
        let want = newest_first(all.clone(), keep);
        pages(
            what,
            &want,
            |r| r.id,
            |page| store.receptions_page(&owner, page),
        );
    }
}

pub(super) fn memberships(store: &dyn Store) {
    let [a, b] = ["a", "b"].map(|n| store.add_person(n).expect("add_person"));
    let mut jobs = Vec::new();
    for people in [vec![a, b], vec![b], vec![a], vec![a, b]] {
        let job = store.add_job(campaign()).expect("add_job").id;
        jobs.push(job);
        let members = people
            .iter()
            .map(|p| (None, member(*p, MemberOutcome::Matched { findings: 1 })))
            .collect();
        store.record_members(job, members).expect("record_members");
    }
    store
        .answer_invitation(
            jobs[0],
            a,
            insitu_model::job::Answer::Declined { at_ms: 20 },
        )
        .expect("answer_invitation");
    for who in [a, b] {
        let want = newest_first(store.memberships(who).expect("memberships"), |_| true);
        assert_eq!(want.len(), 3, "every membership");
        pages(
            "a person's memberships",
            &want,
            |m| m.job,
            |page| store.memberships_page(who, page),
        );
    }
    store.erase_person(a, 50).expect("erase_person");
    pages(
        "an erased person's memberships",
        &[],
        |m: &insitu_model::job::Member| m.job,
        |page| store.memberships_page(a, page),
    );
}

pub(super) fn ledger(store: &dyn Store) {
    use insitu_model::ledger::{Entry, Movement, Party};
    let line = |debit: Party, credit: Party, minor: i64| Entry {
        id: 0,
        at_ms: 77,
        key: String::new(),
        debit,
        credit,
        amount: insitu_model::output::Money {
            minor,
            currency: "EUR".into(),
        },
        movement: Movement::Passage,
        memo: "m".into(),
    };
    let acme = || Party::Organisation("acme".into());
    let acme2 = || Party::Organisation("acme2".into());
    let dev = || Party::Developer("3".into());
    for (i, (debit, credit)) in [
        (acme(), Party::Operator),
        (acme(), Party::Person(3)),
        (acme2(), Party::Person(33)),
        (Party::Person(3), acme()),
        (acme(), dev()),
        (Party::Operator, Party::Person(3)),
        (acme(), acme()),
    ]
    .into_iter()
    .enumerate()
    {
        let key = format!("run:{i}");
        store
            .post(
                &key,
                vec![
                    line(debit.clone(), credit.clone(), i as i64),
                    line(credit, debit, 1),
                ],
            )
            .expect("post");
    }
    let all = store.ledger().expect("ledger");
    for party in [
        acme(),
        acme2(),
        dev(),
        Party::Operator,
        Party::Person(3),
        Party::Person(33),
        Party::Person(4),
        Party::Developer("4".into()),
    ] {
        let want: Vec<Entry> = all
            .iter()
            .filter(|e| e.debit == party || e.credit == party)
            .cloned()
            .collect();
        assert_eq!(
            store.ledger_of(&party).expect("ledger_of"),
            want,
            "{party}'s entries, each once, oldest first, and no one else's"
        );
        let newest = newest_first(want, |_| true);
        pages(
            &format!("{party}'s ledger lines"),
            &newest,
            |e| e.id,
            |page| store.ledger_page(&party, page),
        );
    }
}

pub(super) fn jobs(store: &dyn Store) {
    use insitu_model::job::{Job, JobKind};
    for (owner, association) in [
        ("acme", "consumers"),
        ("globex", "acme"),
        ("acme", "acme"),
        ("globex", "consumers"),
        ("acme", "globex"),
    ] {
        let mut j = campaign();
        j.owner = owner.into();
        if let JobKind::Campaign(c) = &mut j.kind {
            c.association = association.into();
        }
        let j = store.add_job(j).expect("add_job");
        if j.id == 2 {
            let mut closed = j.clone();
            closed.status = insitu_model::job::JobStatus::Finished { at_ms: 99 };
            store
                .close_job(&closed, vec![], &[], super::jobs::PERIOD)
                .expect("close_job");
        }
    }
    let all = store.jobs().expect("jobs");
    let association = |j: &Job| match &j.kind {
        JobKind::Campaign(c) => Some(c.association.clone()),
        JobKind::Study(_) => None,
    };
    for name in ["acme", "globex", "consumers", "initech"] {
        let want = newest_first(all.clone(), |j| {
            j.owner == name || association(j).as_deref() == Some(name)
        });
        pages(
            &format!("{name}'s jobs"),
            &want,
            |j: &Job| j.id,
            |page| store.jobs_page(&org(name), page),
        );
    }
    pages(
        "every job",
        &newest_first(all, |_| true),
        |j: &Job| j.id,
        |page| store.jobs_page(&Owner::All, page),
    );
    pages(
        "a person's jobs",
        &[],
        |j: &Job| j.id,
        |page| store.jobs_page(&Owner::Person(1), page),
    );
}

pub(super) fn tokens(store: &dyn Store) {
    use insitu_model::account::{Role, Token};
    let account = |name: &str| {
        store
            .add_account(insitu_model::account::Account {
                id: 0,
                name: name.into(),
                role: Role::Organisation,
                person: None,
                password: String::new(),
                created_ms: 1,
                language: None,
            })
            .expect("add_account")
            .id
    };
    let (a, b) = (account("acme"), account("globex"));
    for (i, who) in [a, b, a, a, b, a].into_iter().enumerate() {
        let t = store
            .add_token(Token {
                id: 0,
                account: who,
                hash: format!("hash{i}"),
                label: "t".into(),
                scopes: vec![],
                created_ms: 2,
                expires_ms: None,
                revoked_ms: None,
                session: false,
            })
            .expect("add_token");
        if i == 2 {
            store.revoke_token(t.id, 3).expect("revoke_token");
        }
    }
    for who in [a, b, 99] {
        let want = newest_first(store.tokens(who).expect("tokens"), |_| true);
        assert!(
            want.iter().all(|t| t.account == who),
            "another account's token"
        );
        pages(
            "an account's tokens",
            &want,
            |t: &Token| t.id,
            |page| store.tokens_page(who, page),
        );
    }
    assert_eq!(store.tokens(a).expect("tokens").len(), 4);
}

pub(super) fn proposals(store: &dyn Store) {
    use super::codesign::{DEADLINE, proposal};
    use crate::Proposals;
    use insitu_model::codesign::{Decision, Review, Status};
    let put = |org: &str, public: bool, contest: Option<&str>| {
        let mut p = proposal(org, public);
        p.contest = contest.map(String::from);
        store.put_proposal(p).expect("put_proposal")
    };
    let a = put("thermo", false, None);
    put("thermo", true, Some("x"));
    put("other", true, Some("x"));
    put("other", false, Some("y"));
    let e = put("thermo", true, None);
    // Settled: unfunded (no pledge), still public, out of the unsettled listing.
    let e = store
        .settle_proposal(e.id, 1_000, DEADLINE)
        .expect("settle_proposal");
    assert!(e.settled() && e.is_public());
    // Approved after it was listed in review: it moves from one listing to the other.
    let mut a = store.proposal(a.id).expect("proposal");
    a.reviews.push(Review {
        version: 1,
        officer: "olga".into(),
        decision: Decision::Approve,
        reasons: String::new(),
        at_ms: 3,
    });
    a.status = Status::Public;
    store.put_proposal(a).expect("approve");
    let every: Vec<_> = (1..=99)
        .filter_map(|id| store.proposal(id).ok())
        .rev()
        .collect();
    assert_eq!(every.len(), 5, "five proposals were stored");
    for which in [
        Proposals::All,
        Proposals::Of("thermo".into()),
        Proposals::Of("other".into()),
        Proposals::Of("nobody".into()),
        Proposals::Public,
        Proposals::InReview,
        Proposals::Contest("x".into()),
        Proposals::Contest("y".into()),
        Proposals::Contest("z".into()),
        Proposals::Unsettled,
    ] {
        let want: Vec<_> = every.iter().filter(|p| which.admits(p)).cloned().collect();
        pages(
            &format!("proposals {which:?}"),
            &want,
            |p| p.id,
            |page| store.proposals_page(&which, page),
        );
    }
}
