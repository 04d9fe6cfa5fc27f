//! The tariff, ledger posting and licences.

use super::{audit_mark, expect_audit};
use crate::Store;
use insitu_model::audit::AuditEvent;
use insitu_model::ledger::{Entry, Movement, Party, Tariff};
use insitu_model::licence::{Licence, LicenceKind};
use insitu_model::output::Money;

pub(super) fn tariff(store: &dyn Store) {
    assert_eq!(store.tariff().expect("tariff"), Tariff::default());
    let t = Tariff {
        commission_bps: 1_500,
        access_fee: 70,
        ..Tariff::default()
    };
    store.set_tariff(&t).expect("set_tariff");
    assert_eq!(store.tariff().expect("tariff"), t);
    let e = expect_audit(store, &Default::default(), "set_tariff", &["tariff_set"]);
    assert!(matches!(
        e[0],
        AuditEvent::TariffSet {
            commission_bps: 1_500,
            access_fee: 70,
            ..
        }
    ));
}

fn entry(minor: i64, memo: &str) -> Entry {
    Entry {
        id: 0,
        at_ms: 77,
        key: String::new(),
        debit: Party::Organisation("acme".into()),
        credit: Party::Operator,
        amount: Money {
            minor,
            currency: "EUR".into(),
        },
        movement: Movement::Passage,
        memo: memo.into(),
    }
}

pub(super) fn post(store: &dyn Store) {
    assert_eq!(store.posting("run:1").expect("posting"), None);
    assert!(!store.posted("run:1").expect("posted"));
    let posted = store
        .post("run:1", vec![entry(10, "a"), entry(20, "b")])
        .expect("post");
    assert_eq!(posted.len(), 2);
    for (e, (minor, memo)) in posted.iter().zip([(10, "a"), (20, "b")]) {
        assert_ne!(e.id, 0);
        assert_eq!(
            *e,
            Entry {
                id: e.id,
                key: "run:1".into(),
                ..entry(minor, memo)
            },
            "a posted entry carries its id and key, and nothing else changes"
        );
    }
    assert!(posted[0].id < posted[1].id, "entries are numbered in order");
    assert!(store.posted("run:1").expect("posted"));
    assert_eq!(
        store.posting("run:1").expect("posting"),
        Some(posted.clone())
    );
    let e = expect_audit(store, &Default::default(), "post", &["ledger_posted"]);
    assert_eq!(
        e[0],
        AuditEvent::LedgerPosted {
            key: "run:1".into(),
            entries: 2
        }
    );
    // A key posted again adds nothing and answers what it holds.
    let n = audit_mark(store);
    let again = store
        .post("run:1", vec![entry(999, "retry")])
        .expect("post again");
    assert_eq!(again, posted, "a retried posting must not bill twice");
    assert_eq!(store.ledger().expect("ledger"), posted);
    expect_audit(store, &n, "post again", &[]);
    // A free run posts its key with no entries.
    let free = store.post("run:2", vec![]).expect("post nothing");
    assert!(free.is_empty());
    assert!(store.posted("run:2").expect("posted"));
    assert_eq!(store.posting("run:2").expect("posting"), Some(vec![]));
    let e = expect_audit(store, &n, "post nothing", &["ledger_posted"]);
    assert_eq!(
        e[0],
        AuditEvent::LedgerPosted {
            key: "run:2".into(),
            entries: 0
        }
    );
}

pub(super) fn post_many(store: &dyn Store) {
    let first = store.post("old", vec![entry(5, "old")]).expect("post");
    let n = audit_mark(store);
    assert_eq!(store.post_many(vec![]).expect("post_many nothing"), 0);
    let new = store
        .post_many(vec![
            ("a".into(), vec![entry(1, "a")]),
            ("old".into(), vec![entry(2, "again")]),
            ("b".into(), vec![entry(3, "b1"), entry(4, "b2")]),
        ])
        .expect("post_many");
    assert_eq!(new, 2, "keys that were new");
    let ledger = store.ledger().expect("ledger");
    let memos: Vec<&str> = ledger.iter().map(|e| e.memo.as_str()).collect();
    assert_eq!(
        memos,
        vec!["old", "a", "b1", "b2"],
        "the ledger, oldest first"
    );
    assert_eq!(store.posting("old").expect("posting"), Some(first));
    assert_eq!(
        store
            .posting("b")
            .expect("posting")
            .map(|v| v.iter().map(|e| e.key.clone()).collect::<Vec<_>>()),
        Some(vec!["b".to_string(), "b".to_string()])
    );
    let e = expect_audit(store, &n, "post_many", &["ledger_posted", "ledger_posted"]);
    assert_eq!(
        e[1],
        AuditEvent::LedgerPosted {
            key: "b".into(),
            entries: 2
        }
    );
}

fn licence(members: Vec<u64>) -> Licence {
    Licence {
        id: 0,
        organisation: "school".into(),
        kind: LicenceKind::Sponsorship,
        plugin: "coaching".into(),
        members,
        seats: 10,
        run_quota: Some(20),
        since_ms: 0,
        until_ms: 1_000,
        price: Money {
            minor: 5_000,
            currency: "EUR".into(),
        },
    }
}

pub(super) fn licences(store: &dyn Store) {
    let l = store.add_licence(licence(vec![1, 2])).expect("add_licence");
    assert_ne!(l.id, 0);
    assert_eq!(
        l,
        Licence {
            id: l.id,
            ..licence(vec![1, 2])
        }
    );
    let m = store.add_licence(licence(vec![])).expect("add_licence");
    assert_ne!(m.id, l.id);
    assert_eq!(store.licences().expect("licences"), vec![l.clone(), m]);
    let e = expect_audit(
        store,
        &Default::default(),
        "add_licence",
        &["licence_granted", "licence_granted"],
    );
    assert_eq!(
        e[0],
        AuditEvent::LicenceGranted {
            licence: l.id,
            organisation: "school".into(),
            plugin: "coaching".into(),
            members: vec![1, 2]
        }
    );
}

/// The trait's methods are called from many threads at once: ids stay distinct, and what is
/// done once (a key's posting, a job's reservation, a close) is done once, whichever thread
/// wins.
pub(super) fn concurrent(store: &dyn Store) {
    const THREADS: usize = 8;
    /// Rounds of racing posts, each of one new key, so that a race shows more surely.
    const ROUNDS: usize = 8;
    let p = store.add_person("ada").expect("add_person");
    let job = store.add_job(super::jobs::campaign()).expect("add_job");
    let finished = insitu_model::job::Job {
        status: insitu_model::job::JobStatus::Finished { at_ms: 1 },
        ..job.clone()
    };
    let n = audit_mark(store);
    let start = std::sync::Barrier::new(THREADS);
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|i| {
                let (start, finished) = (&start, &finished);
                s.spawn(move || {
                    start.wait();
                    let person = store.add_person("twin").expect("add_person");
                    let posted: Vec<Vec<Entry>> = (0..ROUNDS)
                        .map(|r| {
                            start.wait();
                            let key = format!("run:{r}");
                            store
                                .post(&key, vec![entry(i as i64 + 1, "race")])
                                .expect("post")
                        })
                        .collect();
                    let reserved = store
                        .reserve_budget(job.id, &[p], "2026-11", 300_000, 1_000_000)
                        .expect("reserve_budget");
                    let closed = store.close_job(finished, vec![], &[(p, 1)], "2026-11");
                    (person, posted, reserved, closed.is_ok())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| panic!("a thread panicked")))
            .collect()
    });
    let mut people: Vec<u64> = results.iter().map(|r| r.0).collect();
    people.sort_unstable();
    people.dedup();
    assert_eq!(people.len(), THREADS, "two threads got the same person id");
    assert_eq!(
        store.ledger().expect("ledger").len(),
        ROUNDS,
        "a key was posted twice"
    );
    assert!(
        results.iter().all(|r| r.1 == results[0].1),
        "threads posting one key were answered different entries"
    );
    assert!(results.iter().all(|r| r.2 == vec![true]));
    assert_eq!(
        results.iter().filter(|r| r.3).count(),
        1,
        "a job was closed more than once"
    );
    assert_eq!(
        store.budget_spent(p, "2026-11").expect("budget_spent"),
        300_001,
        "the reservation (once) and the close's spend (once)"
    );
    let kinds: Vec<String> = super::audit_since(store, &n)
        .iter()
        .map(|e| super::kind(&e.event))
        .filter(|k| k != "person_added")
        .collect();
    let mut sorted = kinds.clone();
    sorted.sort();
    let mut expected = vec!["budget_reserved", "job_closed"];
    expected.extend(["ledger_posted"; ROUNDS]);
    assert_eq!(sorted, expected, "one audit entry per action done");
}
