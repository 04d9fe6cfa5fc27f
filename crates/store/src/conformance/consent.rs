//! Plugins, publishers, requests, grants, receptions, accounts and tokens.

use super::{EVENTS, audit_mark, expect_audit, expect_err, grant};
use crate::{PersonId, PluginRecord, Publisher, Reception, Store, StoreError};
use insitu_model::account::{Account, Role, Scope, Token};
use insitu_model::audit::AuditEvent;
use insitu_model::request::{AccessRequest, Status};

fn plugin(digest: &str, name: &str) -> PluginRecord {
    PluginRecord {
        digest: digest.into(),
        name: name.into(),
        size: 1234,
        installed_at_ms: 5,
        imports: vec!["insitu:pds/data".into()],
        manifest: None,
        publisher: Some("acme".into()),
        development: false,
    }
}

pub(super) fn plugins(store: &dyn Store) {
    store.put_plugin(&plugin("d1", "fees")).expect("put_plugin");
    store
        .put_plugin(&plugin("d2", "other"))
        .expect("put_plugin");
    assert_eq!(store.plugin("d1").expect("plugin"), plugin("d1", "fees"));
    let digests: Vec<String> = store
        .plugins()
        .expect("plugins")
        .into_iter()
        .map(|p| p.digest)
        .collect();
    assert_eq!(digests, vec!["d1", "d2"]);
    let e = expect_audit(
        store,
        &Default::default(),
        "put_plugin",
        &["plugin_installed", "plugin_installed"],
    );
    assert_eq!(
        e[0],
        AuditEvent::PluginInstalled {
            digest: "d1".into(),
            name: "fees".into()
        }
    );
}

fn publisher(key: &str) -> Publisher {
    Publisher {
        name: "acme".into(),
        key: key.into(),
        trusted_ms: 3,
        revoked_ms: None,
    }
}

pub(super) fn publishers(store: &dyn Store) {
    assert_eq!(store.publisher("acme").expect("publisher"), None);
    store.trust_publisher(&publisher("k1")).expect("trust");
    store
        .trust_publisher(&publisher("k2"))
        .expect("trust again");
    assert_eq!(
        store.publishers().expect("publishers"),
        vec![publisher("k2")],
        "trusting a name again replaces its key"
    );
    let revoked = store.revoke_publisher("acme", 50).expect("revoke");
    assert_eq!(revoked.revoked_ms, Some(50));
    let n = audit_mark(store);
    let again = store.revoke_publisher("acme", 90).expect("revoke again");
    assert_eq!(
        again.revoked_ms,
        Some(50),
        "a second revocation keeps the first time"
    );
    expect_audit(store, &n, "a second revocation", &[]);
    assert_eq!(store.publisher("acme").expect("publisher"), Some(revoked));
    expect_err(
        "revoke unknown",
        store.revoke_publisher("nobody", 1),
        |e| matches!(e, StoreError::NoPublisher(n) if n == "nobody"),
    );
    expect_audit(
        store,
        &Default::default(),
        "publishers",
        &[
            "publisher_trusted",
            "publisher_trusted",
            "publisher_revoked",
        ],
    );
}

pub(super) fn request(person: PersonId, nowhere: bool) -> AccessRequest {
    AccessRequest {
        id: 0,
        requester: "acme".into(),
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

pub(super) fn requests(store: &dyn Store) {
    let p = store.add_person("ada").expect("add_person");
    let q = store.add_person("bob").expect("add_person");
    let n = audit_mark(store);
    let r = store.add_request(request(p, false)).expect("add_request");
    assert_ne!(r.id, 0);
    assert_eq!(
        r,
        AccessRequest {
            id: r.id,
            ..request(p, false)
        }
    );
    assert_eq!(store.request(r.id).expect("request"), r);
    let e = expect_audit(store, &n, "add_request", &["request_opened"]);
    assert_eq!(
        e[0],
        AuditEvent::RequestOpened {
            request: r.id,
            person: p,
            requester: "acme".into(),
            digest: "d1".into()
        }
    );
    let r2 = store.add_request(request(q, false)).expect("add_request");
    assert_eq!(store.requests(Some(p)).expect("requests"), vec![r.clone()]);
    assert_eq!(store.requests(None).expect("requests"), vec![r, r2]);
    expect_err(
        "a request to an unknown person",
        store.add_request(request(99, false)),
        |e| matches!(e, StoreError::NoPerson(99)),
    );
}

pub(super) fn nowhere(store: &dyn Store) {
    let n = audit_mark(store);
    let r = store
        .add_request(request(77, true))
        .expect("a request that goes nowhere");
    assert_ne!(r.id, 0);
    assert_eq!(store.request(r.id).expect("request"), r, "it is kept");
    expect_audit(store, &n, "a request that goes nowhere", &[]);
    assert!(store.requests(Some(77)).expect("requests").is_empty());
    expect_err(
        "deciding it",
        store.decide_request(r.id, None),
        |e| matches!(e, StoreError::NoRequest(id) if *id == r.id),
    );
    expect_err(
        "approving it",
        store.decide_request(r.id, Some(grant(77, "d1"))),
        |e| matches!(e, StoreError::NoRequest(_)),
    );
    assert!(store.grants(None).expect("grants").is_empty());
    expect_audit(store, &n, "deciding a request that went nowhere", &[]);
}

pub(super) fn decide(store: &dyn Store) {
    let p = store.add_person("ada").expect("add_person");
    let yes = store.add_request(request(p, false)).expect("add_request");
    let no = store.add_request(request(p, false)).expect("add_request");
    let n = audit_mark(store);
    let (r, g) = store
        .decide_request(yes.id, Some(grant(p, "d1")))
        .expect("approve");
    let g = g.expect("the stored grant");
    assert_ne!(g.id, 0);
    assert_eq!(store.grant(g.id).expect("grant"), g);
    assert!(
        matches!(r.status, Status::Approved { grant, .. } if grant == g.id),
        "{:?}",
        r.status
    );
    assert_eq!(store.request(yes.id).expect("request"), r);
    let e = expect_audit(store, &n, "approve", &["grant_created", "request_decided"]);
    assert_eq!(
        e[1],
        AuditEvent::RequestDecided {
            request: yes.id,
            person: p,
            approved: true
        }
    );
    let n = audit_mark(store);
    let (denied, none) = store.decide_request(no.id, None).expect("deny");
    assert!(none.is_none() && matches!(denied.status, Status::Denied { .. }));
    expect_audit(store, &n, "deny", &["request_decided"]);
    // Decided once: deciding again changes nothing and stores no grant.
    let n = audit_mark(store);
    let (again, g2) = store
        .decide_request(no.id, Some(grant(p, "d1")))
        .expect("decide again");
    assert_eq!((again, g2), (denied, None));
    assert_eq!(store.grants(None).expect("grants").len(), 1);
    expect_audit(store, &n, "deciding again", &[]);
}

/// The times the store stamps itself (audit entries, a request's decision) are read from its
/// own clock (`Clocked::now_ms`) while it acts: between what it answered just before and just
/// after. On a store whose clock stands still (a test's `ManualClock`), they are that time.
pub(super) fn clock(store: &dyn Store) {
    let before = store.now_ms();
    let p = store.add_person("ada").expect("add_person");
    let r = store.add_request(request(p, false)).expect("add_request");
    let (r, _) = store
        .decide_request(r.id, Some(grant(p, "d1")))
        .expect("approve");
    let after = store.now_ms();
    assert!(
        before <= after,
        "the store's clock went back: {before} then {after}"
    );
    let Status::Approved { at_ms, .. } = r.status else {
        panic!("not approved: {:?}", r.status)
    };
    assert!(
        (before..=after).contains(&at_ms),
        "the decision is stamped {at_ms}, not by the store's clock ({before}..={after})"
    );
    for e in store.audit_log().expect("audit_log") {
        assert!(
            (before..=after).contains(&e.at_ms),
            "audit entry {} is stamped {}, not by the store's clock ({before}..={after})",
            e.seq,
            e.at_ms
        );
    }
}

pub(super) fn grants(store: &dyn Store) {
    let p = store.add_person("ada").expect("add_person");
    let q = store.add_person("bob").expect("add_person");
    let n = audit_mark(store);
    let g = store.add_grant(grant(p, "d1")).expect("add_grant");
    assert_ne!(g.id, 0);
    assert_eq!(
        g,
        insitu_model::consent::Grant {
            id: g.id,
            ..grant(p, "d1")
        }
    );
    let h = store.add_grant(grant(q, "d2")).expect("add_grant");
    assert_eq!(store.grants(Some(p)).expect("grants"), vec![g.clone()]);
    assert_eq!(
        store.grants(None).expect("grants"),
        vec![g.clone(), h.clone()]
    );
    let e = expect_audit(store, &n, "add_grant", &["grant_created", "grant_created"]);
    assert_eq!(
        e[0],
        AuditEvent::GrantCreated {
            grant: g.id,
            person: p,
            digest: "d1".into(),
            collections: vec![EVENTS.into()]
        }
    );
    let n = audit_mark(store);
    let r = store.revoke_grant(g.id, 4_000).expect("revoke_grant");
    assert_eq!(r.revoked_ms, Some(4_000));
    assert_eq!(store.grant(g.id).expect("grant"), r);
    // By id, several at once: those that exist, once each, in id order, as stored now.
    assert_eq!(
        store
            .grants_by_id(&[h.id, h.id + 1000, g.id, h.id])
            .expect("grants_by_id"),
        vec![r.clone(), h.clone()]
    );
    assert_eq!(store.grants_by_id(&[]).expect("grants_by_id"), vec![]);
    let again = store.revoke_grant(g.id, 5_000).expect("revoke again");
    assert_eq!(again.revoked_ms, Some(4_000));
    let e = expect_audit(store, &n, "revoke_grant twice", &["grant_revoked"]);
    assert_eq!(
        e[0],
        AuditEvent::GrantRevoked {
            grant: g.id,
            person: p
        }
    );
    expect_err(
        "a grant for nobody",
        store.add_grant(grant(99, "d1")),
        |e| matches!(e, StoreError::NoPerson(99)),
    );
}

pub(super) fn reception(person: PersonId) -> Reception {
    Reception {
        id: 0,
        person,
        organisation: "acme".into(),
        collection: EVENTS.into(),
        created_ms: 8,
        revoked_ms: None,
    }
}

pub(super) fn receptions(store: &dyn Store) {
    let p = store.add_person("ada").expect("add_person");
    let q = store.add_person("bob").expect("add_person");
    let n = audit_mark(store);
    let r = store.add_reception(reception(p)).expect("add_reception");
    assert_ne!(r.id, 0);
    assert_eq!(
        r,
        Reception {
            id: r.id,
            ..reception(p)
        }
    );
    let s = store.add_reception(reception(q)).expect("add_reception");
    assert_eq!(
        store.receptions(Some(p)).expect("receptions"),
        vec![r.clone()]
    );
    assert_eq!(
        store.receptions(None).expect("receptions"),
        vec![r.clone(), s]
    );
    let revoked = store.revoke_reception(r.id, 60).expect("revoke");
    assert_eq!(revoked.revoked_ms, Some(60));
    let again = store.revoke_reception(r.id, 70).expect("revoke again");
    assert_eq!(again.revoked_ms, Some(60));
    expect_audit(
        store,
        &n,
        "receptions",
        &[
            "reception_accepted",
            "reception_accepted",
            "reception_revoked",
        ],
    );
    expect_err("for nobody", store.add_reception(reception(99)), |e| {
        matches!(e, StoreError::NoPerson(99))
    });
}

pub(super) fn account(name: &str, person: Option<PersonId>) -> Account {
    Account {
        id: 0,
        name: name.into(),
        role: if person.is_some() {
            Role::Person
        } else {
            Role::Organisation
        },
        person,
        password: "$argon2id$fake".into(),
        created_ms: 9,
        language: None,
    }
}

pub(super) fn accounts(store: &dyn Store) {
    let a = store
        .add_account(account("Acme", None))
        .expect("add_account");
    assert_ne!(a.id, 0);
    assert_eq!(
        a,
        Account {
            id: a.id,
            ..account("Acme", None)
        }
    );
    let n = audit_mark(store);
    expect_err(
        "the same name in other case",
        store.add_account(account("ACME", None)),
        |e| matches!(e, StoreError::NameTaken(n) if n == "Acme"),
    );
    expect_audit(store, &n, "a refused account", &[]);
    let b = store
        .add_account(account("Globex", None))
        .expect("add_account");
    assert_eq!(store.account(a.id).expect("account"), Some(a.clone()));
    assert_eq!(store.account(999).expect("account"), None);
    assert_eq!(
        store.account_by_name("acme").expect("by name"),
        Some(a.clone())
    );
    assert_eq!(store.account_by_name("Initech").expect("by name"), None);
    assert_eq!(store.accounts().expect("accounts"), vec![a.clone(), b]);
    let e = expect_audit(
        store,
        &Default::default(),
        "add_account",
        &["account_created", "account_created"],
    );
    assert_eq!(
        e[0],
        AuditEvent::AccountCreated {
            account: a.id,
            role: Role::Organisation,
            person: None
        }
    );
    // The pages' language is kept on the account, unaudited, and can be cleared.
    let n = audit_mark(store);
    let fr = store.set_language(a.id, Some("fr")).expect("set_language");
    assert_eq!(fr.language.as_deref(), Some("fr"));
    assert_eq!(store.account(a.id).expect("account"), Some(fr.clone()));
    assert_eq!(store.account_by_name("Acme").expect("by name"), Some(fr));
    let none = store.set_language(a.id, None).expect("set_language");
    assert_eq!(none, a);
    expect_err("no account", store.set_language(999, Some("fr")), |e| {
        matches!(e, StoreError::NoAccount(999))
    });
    expect_audit(store, &n, "set_language", &[]);
}

pub(super) fn token(account: u64, hash: &str) -> Token {
    Token {
        id: 0,
        account,
        hash: hash.into(),
        scopes: vec![Scope::Read, Scope::Run],
        label: "cli".into(),
        created_ms: 10,
        expires_ms: Some(100),
        revoked_ms: None,
        session: false,
    }
}

pub(super) fn tokens(store: &dyn Store) {
    let a = store
        .add_account(account("Acme", None))
        .expect("add_account");
    let b = store
        .add_account(account("Globex", None))
        .expect("add_account");
    let n = audit_mark(store);
    let t = store.add_token(token(a.id, "h1")).expect("add_token");
    assert_ne!(t.id, 0);
    assert_eq!(
        t,
        Token {
            id: t.id,
            ..token(a.id, "h1")
        }
    );
    let u = store.add_token(token(b.id, "h2")).expect("add_token");
    assert_eq!(store.token_by_hash("h1").expect("by hash"), Some(t.clone()));
    assert_eq!(store.token_by_hash("h3").expect("by hash"), None);
    assert_eq!(store.tokens(a.id).expect("tokens"), vec![t.clone()]);
    assert_eq!(store.tokens(b.id).expect("tokens"), vec![u]);
    let r = store.revoke_token(t.id, 20).expect("revoke_token");
    assert_eq!(r.revoked_ms, Some(20));
    assert_eq!(store.token_by_hash("h1").expect("by hash"), Some(r));
    assert_eq!(
        store.revoke_token(t.id, 30).expect("again").revoked_ms,
        Some(20)
    );
    let e = expect_audit(
        store,
        &n,
        "tokens",
        &["token_issued", "token_issued", "token_revoked"],
    );
    assert_eq!(
        e[2],
        AuditEvent::TokenRevoked {
            account: a.id,
            token: t.id
        }
    );
}

/// A plugin's unrevoked grants, read by its digest: never another plugin's, never a revoked
/// one, nor an erased person's (whose grants the erasure revoked).
pub(super) fn unrevoked(store: &dyn Store) {
    let [p, q, r] = ["ada", "bob", "cy"].map(|n| store.add_person(n).expect("add_person"));
    let mut made = Vec::new();
    for (who, digest) in [
        (p, "d1"),
        (q, "d1"),
        (p, "d2"),
        (r, "d1"),
        (q, "d10"),
        (r, "d2"),
        (p, "d1"),
    ] {
        made.push(store.add_grant(grant(who, digest)).expect("add_grant"));
    }
    let check = |what: &str, sizes: [usize; 4]| {
        let all = store.grants(None).expect("grants");
        for (digest, size) in ["d1", "d2", "d10", "d3"].into_iter().zip(sizes) {
            let want: Vec<_> = all
                .iter()
                .filter(|g| g.plugin_digest == digest && g.revoked_ms.is_none())
                .cloned()
                .collect();
            assert_eq!(
                want.len(),
                size,
                "{what}: the check's own count for {digest}"
            );
            assert_eq!(
                store.unrevoked_grants(digest).expect("unrevoked_grants"),
                want,
                "{what}: {digest}'s unrevoked grants, by id, as stored now"
            );
        }
    };
    check("as given", [4, 2, 1, 0]);
    store.revoke_grant(made[1].id, 2_000).expect("revoke_grant");
    store.revoke_grant(made[2].id, 2_000).expect("revoke_grant");
    check("after two revocations", [3, 1, 1, 0]);
    store.erase_person(r, 3_000).expect("erase_person");
    check("after cy's erasure", [2, 0, 1, 0]);
}
