//! The tariff, ledger posting and licences.

use super::{audit_len, expect_audit};
use crate::audit::AuditEvent;
use crate::ledger::{Entry, Movement, Party, Tariff};
use crate::licence::{Licence, LicenceKind};
use crate::output::Money;
use crate::store::Store;

pub(super) fn tariff(store: &dyn Store) {
    assert_eq!(store.tariff().expect("tariff"), Tariff::default());
    let t = Tariff {
        commission_bps: 1_500,
        access_fee: 70,
        ..Tariff::default()
    };
    store.set_tariff(&t).expect("set_tariff");
    assert_eq!(store.tariff().expect("tariff"), t);
    let e = expect_audit(store, 0, "set_tariff", &["tariff_set"]);
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
    let e = expect_audit(store, 0, "post", &["ledger_posted"]);
    assert_eq!(
        e[0],
        AuditEvent::LedgerPosted {
            key: "run:1".into(),
            entries: 2
        }
    );
    // A key posted again adds nothing and answers what it holds.
    let n = audit_len(store);
    let again = store
        .post("run:1", vec![entry(999, "retry")])
        .expect("post again");
    assert_eq!(again, posted, "a retried posting must not bill twice");
    assert_eq!(store.ledger().expect("ledger"), posted);
    expect_audit(store, n, "post again", &[]);
    // A free run posts its key with no entries.
    let free = store.post("run:2", vec![]).expect("post nothing");
    assert!(free.is_empty());
    assert!(store.posted("run:2").expect("posted"));
    assert_eq!(store.posting("run:2").expect("posting"), Some(vec![]));
    let e = expect_audit(store, n, "post nothing", &["ledger_posted"]);
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
    let n = audit_len(store);
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
    let e = expect_audit(store, n, "post_many", &["ledger_posted", "ledger_posted"]);
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
        0,
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
