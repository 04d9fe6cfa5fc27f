//! Runs, the audit chain, compiled hashes, the pseudonym key, and the errors of lookups.

use super::{
    EVENTS, FILE, audit_mark, event, expect_audit, expect_err, finished, grant, jobs,
    person_with_events,
};
use crate::{NewRecords, Store, StoreError, TimeRange};
use insitu_model::audit::{AuditEvent, GENESIS};
use insitu_model::meter::{Outcome, RunRecord};

pub(super) fn record(store: &dyn Store) {
    let p = store.add_person("ada").expect("add_person");
    let mut run = finished(RunRecord::new(p, 3, "d1", 100));
    run.read = vec![(EVENTS.into(), vec!["label".into()])];
    run.usage.records_read = 12;
    run.job = Some(4);
    let n = audit_mark(store);
    let stored = store.record_run(run.clone()).expect("record_run");
    assert_ne!(stored.id, 0);
    assert_eq!(
        stored,
        RunRecord {
            id: stored.id,
            ..run
        }
    );
    assert_eq!(store.run(stored.id).expect("run"), stored);
    let e = expect_audit(store, &n, "record_run", &["run"]);
    let AuditEvent::Run {
        run,
        person,
        grant,
        digest,
        records_read,
        outcome,
        job,
        ..
    } = &e[0]
    else {
        unreachable!()
    };
    assert_eq!(
        (
            *run,
            *person,
            *grant,
            digest.as_str(),
            *records_read,
            outcome.as_str(),
            *job
        ),
        (stored.id, p, 3, "d1", 12, "succeeded", Some(4))
    );
}

pub(super) fn begin_finish(store: &dyn Store) {
    let p = store.add_person("ada").expect("add_person");
    let n = audit_mark(store);
    let begun = store
        .begin_run(RunRecord::new(p, 1, "d1", 100))
        .expect("begin_run");
    assert_ne!(begun.id, 0);
    assert_eq!(store.run(begun.id).expect("run").outcome, Outcome::Running);
    expect_audit(store, &n, "begin_run", &[]);
    let done = store
        .finish_run(finished(begun.clone()))
        .expect("finish_run");
    assert_eq!(done.id, begun.id);
    assert_eq!(store.run(begun.id).expect("run"), done);
    assert_eq!(
        store.runs(None).expect("runs").len(),
        1,
        "finishing added a run"
    );
    expect_audit(store, &n, "finish_run", &["run"]);
    let n = audit_mark(store);
    assert!(
        store.finish_run(done.clone()).is_err(),
        "a finished run was finished again"
    );
    assert!(
        store
            .finish_run(RunRecord {
                id: done.id + 10,
                ..done
            })
            .is_err(),
        "a run never begun was finished"
    );
    expect_audit(store, &n, "refused finish_run", &[]);
}

pub(super) fn reserve_ids(store: &dyn Store) {
    let p = store.add_person("ada").expect("add_person");
    let a = store
        .record_run(finished(RunRecord::new(p, 1, "d1", 1)))
        .expect("record_run");
    let n = audit_mark(store);
    let first = store.reserve_run_ids(3).expect("reserve_run_ids");
    assert!(
        first > a.id,
        "reserved id {first} was given already ({})",
        a.id
    );
    expect_audit(store, &n, "reserve_run_ids", &[]);
    let b = store
        .record_run(finished(RunRecord::new(p, 1, "d1", 2)))
        .expect("record_run");
    let c = store
        .begin_run(RunRecord::new(p, 1, "d1", 3))
        .expect("begin_run");
    for id in [b.id, c.id] {
        assert!(
            !(first..first + 3).contains(&id),
            "run id {id} is in the reserved range {first}..{}",
            first + 3
        );
    }
    assert!(store.reserve_run_ids(2).expect("reserve") > c.id);
}

pub(super) fn by_person(store: &dyn Store) {
    let p = store.add_person("ada").expect("add_person");
    let q = store.add_person("bob").expect("add_person");
    let ids: Vec<u64> = [p, q, p]
        .into_iter()
        .map(|who| {
            store
                .record_run(finished(RunRecord::new(who, 1, "d1", 5)))
                .expect("record_run")
                .id
        })
        .collect();
    let of = |who| {
        store
            .runs(who)
            .expect("runs")
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(of(Some(p)), vec![ids[0], ids[2]]);
    assert_eq!(of(Some(q)), vec![ids[1]]);
    assert_eq!(of(None), ids);
    // By id, several at once: those that exist, once each, in id order, as stored.
    let by_id: Vec<u64> = store
        .runs_by_id(&[ids[2], ids[2] + 1000, ids[0], ids[2]])
        .expect("runs_by_id")
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(by_id, vec![ids[0], ids[2]]);
    assert_eq!(
        store.runs_by_id(&[ids[1]]).expect("runs_by_id"),
        vec![store.run(ids[1]).expect("run")]
    );
}

pub(super) fn visit_since(store: &dyn Store) {
    let p = store.add_person("ada").expect("add_person");
    let ids: Vec<u64> = [100, 200, 300, 400]
        .into_iter()
        .map(|t| {
            store
                .record_run(finished(RunRecord::new(p, 1, "d1", t)))
                .expect("record_run")
                .id
        })
        .collect();
    let visit = |since: i64, before: u64, stop_after: usize| {
        let mut seen = Vec::new();
        store
            .visit_runs_since(since, before, &mut |r| {
                seen.push(r.id);
                Ok(seen.len() < stop_after)
            })
            .expect("visit_runs_since");
        seen
    };
    assert_eq!(visit(250, u64::MAX, 9), ids[2..].to_vec());
    assert_eq!(visit(300, u64::MAX, 9), ids[2..].to_vec(), "at or after");
    assert_eq!(visit(250, ids[3], 9), vec![ids[2]], "before is exclusive");
    assert_eq!(visit(0, u64::MAX, 1), vec![ids[0]], "stops when told");
    assert_eq!(visit(500, u64::MAX, 9), Vec::<u64>::new());
}

pub(super) fn chain(store: &dyn Store) {
    assert!(
        store.audit_log().expect("audit_log").is_empty(),
        "a new store has audit entries"
    );
    let entries: Vec<_> = (0..3)
        .map(|i| {
            store
                .append_audit(AuditEvent::GrantRevoked {
                    grant: 40 + i,
                    person: 7,
                })
                .expect("append_audit")
        })
        .collect();
    assert_eq!(entries[0].seq, 0);
    assert_eq!(entries[0].prev, GENESIS);
    for w in entries.windows(2) {
        assert_eq!(w[1].chain, w[0].chain, "one person's entries, one chain");
        assert_eq!(w[1].seq, w[0].seq + 1, "seq increments");
        assert_eq!(
            w[1].prev, w[0].hash,
            "each entry's prev is the previous hash"
        );
        assert!(w[1].at_ms >= w[0].at_ms, "time goes backwards in the log");
    }
    assert_eq!(
        entries[2].event,
        AuditEvent::GrantRevoked {
            grant: 42,
            person: 7
        }
    );
    assert_eq!(
        store
            .audit_chain(insitu_model::audit::Chain::Person(7), None, 10)
            .expect("audit_chain"),
        entries,
        "the chain, oldest first"
    );
    // An action's own entry continues the chain of the person it is about.
    let p = store.add_person("ada").expect("add_person");
    let e = store
        .append_audit(AuditEvent::GrantRevoked {
            grant: 1,
            person: p,
        })
        .expect("append_audit");
    let log = store
        .audit_chain(insitu_model::audit::Chain::Person(p), None, 10)
        .expect("audit_chain");
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].event, AuditEvent::PersonAdded { person: p });
    assert_eq!((log[1].seq, &log[1].prev), (1, &log[0].hash));
    assert_eq!(log[1], e);
}

pub(super) fn compiled(store: &dyn Store) {
    assert_eq!(store.compiled_hash("k").expect("compiled_hash"), None);
    store.set_compiled_hash("k", "h1").expect("set");
    store.set_compiled_hash("other", "h9").expect("set");
    assert_eq!(store.compiled_hash("k").expect("get"), Some("h1".into()));
    store.set_compiled_hash("k", "h2").expect("set again");
    assert_eq!(store.compiled_hash("k").expect("get"), Some("h2".into()));
    expect_audit(store, &Default::default(), "set_compiled_hash", &[]);
}

pub(super) fn components(store: &dyn Store) {
    assert_eq!(store.component("d1").expect("component"), None);
    let big: Vec<u8> = (0..3 << 20).map(|i: u32| (i % 251) as u8).collect();
    store.put_component("d1", &big).expect("put_component");
    store.put_component("d2", b"\0asm").expect("put_component");
    assert_eq!(store.component("d1").expect("component"), Some(big.clone()));
    assert_eq!(
        store.component("d2").expect("component"),
        Some(b"\0asm".to_vec())
    );
    // A second put of a digest replaces its bytes (a repair).
    store.put_component("d1", b"other").expect("put again");
    assert_eq!(
        store.component("d1").expect("component"),
        Some(b"other".to_vec())
    );
    assert_eq!(
        store.component("d2").expect("component"),
        Some(b"\0asm".to_vec())
    );
    expect_audit(store, &Default::default(), "put_component", &[]);
}

pub(super) fn pseudonym(store: &dyn Store) {
    let key = store.pseudonym_key().expect("pseudonym_key");
    assert_ne!(key, [0u8; 32], "the pseudonym key is not random");
    let p = person_with_events(store, "ada");
    store
        .write_records(p, EVENTS, &[event(1, 1, "a", None)], FILE)
        .expect("write_records");
    assert_eq!(
        store.pseudonym_key().expect("pseudonym_key"),
        key,
        "the key changed"
    );
    let hex = insitu_model::audit::hex(&key);
    let log = serde_json::to_string(&store.audit_log().expect("audit_log")).unwrap_or_default();
    assert!(!log.contains(&hex), "the pseudonym key is in the audit log");
}

/// Every lookup of a missing thing fails with its own error naming it, and no refused call
/// leaves an audit entry.
pub(super) fn errors(store: &dyn Store) {
    let p = person_with_events(store, "ada");
    let job = store.add_job(jobs::campaign()).expect("add_job");
    let n = audit_mark(store);
    let no_coll = |e: &StoreError| matches!(e, StoreError::NoCollection(c) if c == "nope");
    let no_person = |e: &StoreError| matches!(e, StoreError::NoPerson(99));
    expect_err("person", store.person(99), no_person);
    expect_err("collection", store.collection("nope"), no_coll);
    expect_err("count", store.count(p, "nope"), no_coll);
    expect_err(
        "records_at",
        store.records_at(p, "nope", &[(1, 1)]),
        no_coll,
    );
    assert!(
        matches!(store.scan(p, "nope", TimeRange::ALL, &[]), Err(StoreError::NoCollection(c)) if c == "nope"),
        "scan of an unknown collection"
    );
    let recs = [event(1, 1, "a", None)];
    expect_err(
        "write_records",
        store.write_records(p, "nope", &recs, FILE),
        no_coll,
    );
    expect_err(
        "write_records",
        store.write_records(99, EVENTS, &recs, FILE),
        no_person,
    );
    let w = [NewRecords {
        collection: EVENTS,
        records: &recs,
        source: FILE,
    }];
    expect_err(
        "write_collections",
        store.write_collections(99, &[], &w),
        no_person,
    );
    expect_err(
        "plugin",
        store.plugin("nope"),
        |e| matches!(e, StoreError::NoPlugin(d) if d == "nope"),
    );
    expect_err("request", store.request(99), |e| {
        matches!(e, StoreError::NoRequest(99))
    });
    expect_err("decide_request", store.decide_request(99, None), |e| {
        matches!(e, StoreError::NoRequest(99))
    });
    expect_err("grant", store.grant(99), |e| {
        matches!(e, StoreError::NoGrant(99))
    });
    expect_err("revoke_grant", store.revoke_grant(99, 1), |e| {
        matches!(e, StoreError::NoGrant(99))
    });
    expect_err("add_grant", store.add_grant(grant(99, "d")), no_person);
    expect_err("run", store.run(99), |e| matches!(e, StoreError::NoRun(99)));
    expect_err("revoke_token", store.revoke_token(99, 1), |e| {
        matches!(e, StoreError::NoToken(99))
    });
    expect_err("revoke_reception", store.revoke_reception(99, 1), |e| {
        matches!(e, StoreError::NoReception(99))
    });
    expect_err("erase_person", store.erase_person(99, 1), no_person);
    expect_err("put_offer", store.put_offer(jobs::offer(99)), no_person);
    let no_job = |e: &StoreError| matches!(e, StoreError::NoJob(99));
    expect_err("job", store.job(99), no_job);
    expect_err("record_members", store.record_members(99, vec![]), no_job);
    let answer = insitu_model::job::Answer::Declined { at_ms: 1 };
    expect_err(
        "answer_invitation",
        store.answer_invitation(99, p, answer),
        no_job,
    );
    let ghost = insitu_model::job::Job { id: 99, ..job };
    expect_err(
        "close_job",
        store.close_job(&ghost, vec![], &[], "2026-11"),
        no_job,
    );
    // Lookups that answer "none" rather than an error.
    assert_eq!(store.publisher("nope").expect("publisher"), None);
    assert_eq!(store.account(99).expect("account"), None);
    assert_eq!(
        store.account_by_name("nope").expect("account_by_name"),
        None
    );
    assert_eq!(store.token_by_hash("nope").expect("token_by_hash"), None);
    assert_eq!(store.source_name(p, "nope").expect("source_name"), None);
    assert_eq!(store.posting("nope").expect("posting"), None);
    assert!(!store.posted("nope").expect("posted"));
    assert_eq!(store.budget_spent(p, "2026-11").expect("budget_spent"), 0);
    assert!(store.members(99).expect("members").is_empty());
    assert!(store.memberships(p).expect("memberships").is_empty());
    assert!(store.billing(Some(99)).expect("billing").is_empty());
    expect_audit(store, &n, "refused calls", &[]);
}

/// The runs stored as running, read by their index: a run leaves it when it is finished, or
/// when its person is erased.
pub(super) fn running(store: &dyn Store) {
    let [p, q] = ["ada", "bob"].map(|n| store.add_person(n).expect("add_person"));
    let mut begun = Vec::new();
    for (who, at) in [(p, 10), (q, 20), (p, 30), (q, 40)] {
        begun.push(
            store
                .begin_run(RunRecord::new(who, 1, "d1", at))
                .expect("begin_run"),
        );
    }
    store
        .record_run(finished(RunRecord::new(p, 1, "d1", 50)))
        .expect("record_run");
    let check = |what: &str, size: usize| {
        let want: Vec<RunRecord> = store
            .runs(None)
            .expect("runs")
            .into_iter()
            .filter(|r| r.outcome == Outcome::Running)
            .collect();
        assert_eq!(want.len(), size, "{what}: the check's own count");
        assert_eq!(
            store.running_runs().expect("running_runs"),
            want,
            "{what}: the runs stored as running, by id, and no other"
        );
    };
    check("as begun", 4);
    store
        .finish_run(finished(begun[2].clone()))
        .expect("finish_run");
    check("after one finished", 3);
    store.erase_person(q, 60).expect("erase_person");
    check("after bob's erasure", 1);
}
