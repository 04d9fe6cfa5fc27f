//! The store: isolation by person, schemas that cannot change under stored records, and the
//! audit chain written with every action (invariants 5 and 6).

use insitu_core::audit::{self, AuditEvent};
use insitu_core::store::prelude::*;
use insitu_core::store::redb::RedbStore;
use insitu_core::store::{Schema, StoreError, TimeRange};
use insitu_testkit::*;

#[test]
fn a_scan_never_crosses_people_or_collections() {
    let f = TestPds::new();
    let a = f.person_with_transactions("a");
    let b = f.store.add_person("b").unwrap();
    f.store
        .write_records(
            b,
            "bank.transactions",
            &[tx(1, -1, "B", None)],
            insitu_core::store::Source::File("t"),
        )
        .unwrap();
    let fields = vec!["label".to_string()];
    let mut cur = f
        .store
        .scan(b, "bank.transactions", TimeRange::ALL, &fields)
        .unwrap();
    let (batch, _) = cur.next_batch(100).unwrap().unwrap();
    assert_eq!(batch.len(), 1);
    assert!(cur.next_batch(100).unwrap().is_none());
    assert_eq!(f.store.count(a, "bank.transactions").unwrap(), 5);
    assert_eq!(f.store.count(a, "profile.secrets").unwrap(), 1);
}

#[test]
fn a_schema_cannot_change_once_defined() {
    let f = TestPds::new();
    let mut s = Schema::bank_transactions();
    f.store.define_collection(&s).unwrap();
    s.fields.pop();
    assert!(matches!(
        f.store.define_collection(&s),
        Err(StoreError::SchemaConflict(_))
    ));
    let bad = Schema {
        name: "Bad Name".into(),
        ..Schema::bank_transactions()
    };
    assert!(f.store.define_collection(&bad).is_err());
}

#[test]
fn every_action_is_in_the_audit_chain_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    {
        let s = RedbStore::open(&path).unwrap();
        s.define_collection(&Schema::bank_transactions()).unwrap();
        let p = s.add_person("a").unwrap();
        s.write_records(
            p,
            "bank.transactions",
            &[tx(1, -1, "X", None)],
            insitu_core::store::Source::File("file.csv"),
        )
        .unwrap();
    }
    let s = RedbStore::open(&path).unwrap();
    let log = s.audit_log().unwrap();
    audit::verify_all(&s, None).unwrap();
    let kinds: Vec<&AuditEvent> = log.iter().map(|e| &e.event).collect();
    assert!(matches!(
        kinds[..],
        [
            AuditEvent::CollectionDefined { .. },
            AuditEvent::PersonAdded { .. },
            AuditEvent::RecordsImported { added: 1, .. }
        ]
    ));
    assert_eq!(
        s.count(1, "bank.transactions").unwrap(),
        1,
        "an acknowledged write was lost"
    );
}

#[test]
fn a_failed_write_leaves_no_record_and_no_audit_entry() {
    let f = TestPds::new();
    let before = f.store.audit_log().unwrap().len();
    let err = f
        .store
        .write_records(
            99,
            "bank.transactions",
            &[tx(1, -1, "X", None)],
            insitu_core::store::Source::File("t"),
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::NoPerson(99)));
    assert_eq!(f.store.audit_log().unwrap().len(), before);
}

type ChainTable<'a> = redb::Table<'a, (u8, u64, u64), &'static str>;
type Tampering<'g> = Box<dyn Fn(&mut ChainTable<'_>) + 'g>;

/// Edits the legacy audit table of a closed store file directly, as an attacker with disk
/// access would.
fn tamper(path: &std::path::Path, edit: impl FnOnce(&mut redb::Table<u64, &str>)) {
    let db = redb::Database::create(path).unwrap();
    let tx = db.begin_write().unwrap();
    {
        let mut t = tx
            .open_table(redb::TableDefinition::<u64, &str>::new("audit"))
            .unwrap();
        edit(&mut t);
    }
    tx.commit().unwrap();
}

/// Edits the per-chain audit tables (entries keyed (kind, person, seq), heads keyed (kind,
/// person)) of a closed store file directly.
fn tamper_chains(
    path: &std::path::Path,
    edit: impl FnOnce(&mut ChainTable<'_>, &mut redb::Table<(u8, u64), &str>),
) {
    let db = redb::Database::create(path).unwrap();
    let tx = db.begin_write().unwrap();
    {
        let mut t = tx
            .open_table(redb::TableDefinition::<(u8, u64, u64), &str>::new(
                "audit_chains",
            ))
            .unwrap();
        let mut h = tx
            .open_table(redb::TableDefinition::<(u8, u64), &str>::new("audit_heads"))
            .unwrap();
        edit(&mut t, &mut h);
    }
    tx.commit().unwrap();
}

/// A person with five entries in their chain (and the operator's chain beside it).
fn person_with_history(path: &std::path::Path) -> u64 {
    let s = RedbStore::open(path).unwrap();
    s.define_collection(&Schema::bank_transactions()).unwrap();
    let p = s.add_person("a").unwrap();
    for grant in 1..=4 {
        s.append_audit(AuditEvent::GrantRevoked { grant, person: p })
            .unwrap();
    }
    p
}

#[test]
fn each_kind_of_tampering_with_the_stored_audit_log_is_detected() {
    use redb::ReadableTable;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let p = person_with_history(&path);
    let pristine = std::fs::read(&path).unwrap();
    let verify = || audit::verify_all(&RedbStore::open(&path).unwrap(), None).map(drop);
    verify().unwrap();

    let get = |t: &ChainTable<'_>, k: u64| t.get((2, p, k)).unwrap().unwrap().value().to_string();
    let cases: [(&str, Tampering<'_>); 5] = [
        (
            "edited",
            Box::new(|t| {
                let e = get(t, 1).replace("\"grant\":1", "\"grant\":3");
                t.insert((2, p, 1), e.as_str()).unwrap();
            }),
        ),
        (
            "deleted",
            Box::new(|t| {
                t.remove((2, p, 1)).unwrap();
            }),
        ),
        (
            "reordered",
            Box::new(|t| {
                let (a, b) = (get(t, 1), get(t, 2));
                t.insert((2, p, 1), b.as_str()).unwrap();
                t.insert((2, p, 2), a.as_str()).unwrap();
            }),
        ),
        (
            "inserted",
            Box::new(|t| {
                let last = get(t, 4);
                t.insert((2, p, 5), last.as_str()).unwrap();
            }),
        ),
        (
            "moved to another person",
            Box::new(|t| {
                let e = get(t, 4);
                t.remove((2, p, 4)).unwrap();
                t.insert((2, p + 1, 0), e.as_str()).unwrap();
            }),
        ),
    ];
    for (what, edit) in cases {
        std::fs::write(&path, &pristine).unwrap();
        tamper_chains(&path, |t, _| edit(t));
        assert!(verify().is_err(), "{what} entry not detected");
    }
}

/// The end of a chain rewritten as an attacker with disk access would: its last `cut` entries
/// removed, `new` entries appended in their place with hashes recomputed, and the head moved
/// to match, so that the chain alone verifies.
fn rewrite_end(path: &std::path::Path, p: u64, cut: u64, new: &[AuditEvent]) {
    use redb::ReadableTable;
    tamper_chains(path, |t, heads| {
        let last = heads
            .get((2, p))
            .unwrap()
            .map(|v| serde_json::from_str::<audit::ChainHead>(v.value()).unwrap())
            .unwrap()
            .seq;
        for seq in last + 1 - cut..=last {
            t.remove((2, p, seq)).unwrap();
        }
        let keep = last - cut;
        let prev: audit::AuditEntry =
            serde_json::from_str(t.get((2, p, keep)).unwrap().unwrap().value()).unwrap();
        let mut head = prev.head();
        for (i, event) in new.iter().enumerate() {
            let e = audit::AuditEntry::next(
                audit::Chain::Person(p),
                Some(&head),
                "",
                prev.at_ms + 1 + i as i64,
                event.clone(),
            );
            t.insert((2, p, e.seq), serde_json::to_string(&e).unwrap().as_str())
                .unwrap();
            head = e.head();
        }
        heads
            .insert((2, p), serde_json::to_string(&head).unwrap().as_str())
            .unwrap();
    });
}

fn operator_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[9; 32])
}

/// Cutting entries off the end of a chain, and rewriting its end with recomputed hashes,
/// leave a chain that verifies on its own: the signed checkpoint catches both.
#[test]
fn truncation_and_a_rewritten_suffix_are_caught_by_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let p = person_with_history(&path);
    {
        let s = RedbStore::open(&path).unwrap();
        let pds_store: &dyn insitu_core::store::Store = &s;
        let c = audit::publish_checkpoint(pds_store, &operator_key(), 0)
            .unwrap()
            .unwrap();
        assert_eq!(c.signed.number, 1);
        assert!(
            audit::publish_checkpoint(pds_store, &operator_key(), 3_600_000)
                .unwrap()
                .is_none(),
            "the latest is not an hour old: no new checkpoint"
        );
    }
    let pristine = std::fs::read(&path).unwrap();
    let key = audit::hex(operator_key().verifying_key().as_bytes());
    let person = |path: &std::path::Path| {
        let s = RedbStore::open(path).unwrap();
        audit::verify_person(&s, p, Some(&key)).map(|(r, _)| r)
    };
    let chain_alone = |path: &std::path::Path| {
        audit::verify_chain_in(
            &RedbStore::open(path).unwrap(),
            audit::Chain::Person(p),
            None,
        )
        .map(drop)
    };
    let report = person(&path).unwrap();
    assert_eq!((report.entries, report.anchored), (5, Some(4)));

    // Truncated: the last two entries cut off, the head moved back.
    rewrite_end(&path, p, 2, &[]);
    chain_alone(&path).expect("the cut chain verifies on its own");
    let err = person(&path).unwrap_err().to_string();
    assert!(err.contains("cut off its end"), "{err}");
    assert!(
        audit::verify_store(&RedbStore::open(&path).unwrap(), Some(&key)).is_err(),
        "verifying every chain misses the truncation"
    );

    // Rewritten: the last two entries replaced by others with recomputed hashes.
    std::fs::write(&path, &pristine).unwrap();
    let forged = [1, 2].map(|grant| AuditEvent::GrantRevoked { grant, person: p });
    rewrite_end(&path, p, 2, &forged);
    chain_alone(&path).expect("the rewritten chain verifies on its own");
    let err = person(&path).unwrap_err().to_string();
    assert!(err.contains("rewritten"), "{err}");
    assert!(audit::verify_store(&RedbStore::open(&path).unwrap(), Some(&key)).is_err());

    // A checkpoint signed by another key is refused when the operator's key is known.
    std::fs::write(&path, &pristine).unwrap();
    let other = audit::hex(
        ed25519_dalek::SigningKey::from_bytes(&[1; 32])
            .verifying_key()
            .as_bytes(),
    );
    let s = RedbStore::open(&path).unwrap();
    assert!(audit::verify_person(&s, p, Some(&other)).is_err());

    // Entries appended after the checkpoint are not anchored yet, and say so.
    s.append_audit(AuditEvent::GrantRevoked {
        grant: 9,
        person: p,
    })
    .unwrap();
    let (r, n) = audit::verify_person(&s, p, Some(&key)).unwrap();
    assert_eq!(
        (r.entries, r.anchored, r.unanchored(), n),
        (6, Some(4), 1, Some(1))
    );
}

/// A store whose audit entries were written before they named their hashing scheme, as one
/// global chain (the stored JSON of that code, verbatim), still opens and verifies: the old
/// chain is kept as the legacy chain, and each new chain (people's, the operator's) starts
/// from its last hash.
#[test]
fn an_audit_log_written_before_hash_versions_still_verifies_and_grows() {
    const LEGACY: [&str; 2] = [
        r#"{"seq":0,"at_ms":1764000000000,"event":{"kind":"person_added","person":1},"prev":"0000000000000000000000000000000000000000000000000000000000000000","hash":"c2c38e09db3918d13060651d95ccec8315285a006b094f8ccb8d25809173d417"}"#,
        r#"{"seq":1,"at_ms":1764000000001,"event":{"kind":"account_created","account":1,"role":"person","person":1},"prev":"c2c38e09db3918d13060651d95ccec8315285a006b094f8ccb8d25809173d417","hash":"3fe8f6fee30abcf7ebc1b3d969e6061f5d15ef9a2982c38f1c3823963543d77c"}"#,
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    drop(RedbStore::open(&path).unwrap());
    tamper(&path, |t| {
        for (seq, entry) in LEGACY.iter().enumerate() {
            t.insert(seq as u64, *entry).unwrap();
        }
    });
    let s = RedbStore::open(&path).unwrap();
    let legacy_head = "3fe8f6fee30abcf7ebc1b3d969e6061f5d15ef9a2982c38f1c3823963543d77c";
    assert_eq!(s.audit_origin().unwrap(), legacy_head);
    let b = s.add_person("b").unwrap();
    s.append_audit(AuditEvent::GrantRevoked {
        grant: 1,
        person: 7,
    })
    .unwrap();
    s.append_audit(AuditEvent::CollectionDefined {
        collection: "x".into(),
    })
    .unwrap();
    let log = s.audit_log().unwrap();
    let versions: Vec<u8> = log.iter().map(|e| e.version).collect();
    assert_eq!(
        versions,
        [0, 0, audit::VERSION, audit::VERSION, audit::VERSION]
    );
    // Every new chain's first entry links to the legacy chain's last hash.
    for chain in [
        audit::Chain::Operator,
        audit::Chain::Person(7),
        audit::Chain::Person(b),
    ] {
        let first = s.audit_chain(chain, None, 1).unwrap();
        assert_eq!(first[0].prev, legacy_head, "{chain}");
    }
    let reports = audit::verify_all(&s, None).unwrap();
    assert_eq!(
        reports.len(),
        4,
        "the legacy chain, the operator's, two people's"
    );
    // The legacy chain is still checked: an edit of it is caught.
    drop(s);
    tamper(&path, |t| {
        let e = LEGACY[1].replace("\"role\":\"person\"", "\"role\":\"operator\"");
        t.insert(1, e.as_str()).unwrap();
    });
    assert!(audit::verify_all(&RedbStore::open(&path).unwrap(), None).is_err());
}

/// A run is stored as running when it starts (with its id, before it reads anything). One the
/// host was executing when it stopped is marked failed at the next start, for the person to
/// see, with its audit entry; a second start finds nothing left.
#[test]
fn a_run_interrupted_by_a_stop_is_marked_failed_at_the_next_start() {
    let f = TestPds::new();
    let p = f.person_with_transactions("alice");
    let begun = f
        .store
        .begin_run(insitu_core::meter::RunRecord::new(
            p,
            1,
            "digest",
            insitu_testkit::now_ms(),
        ))
        .unwrap();
    assert_eq!(
        f.store.run(begun.id).unwrap().outcome,
        insitu_core::meter::Outcome::Running
    );
    assert_eq!(f.runner.fail_interrupted().unwrap(), 1);
    let run = f.store.run(begun.id).unwrap();
    assert!(
        matches!(
            run.outcome,
            insitu_core::meter::Outcome::Failed {
                reason: insitu_core::meter::FailureReason::Host,
                ..
            }
        ),
        "{:?}",
        run.outcome
    );
    assert!(
        f.store
            .audit_log()
            .unwrap()
            .iter()
            .any(|e| matches!(e.event, AuditEvent::Run { run, .. } if run == begun.id))
    );
    assert_eq!(f.runner.fail_interrupted().unwrap(), 0);
    // A finished run cannot be finished again.
    assert!(f.store.finish_run(run).is_err());
}

/// `Pds::builder(dir).store(s)` runs the PDS on the store it is given (the seam a second backend
/// or a shared store comes in through), not on a fresh `insitu.redb` in the data directory; and
/// a clock given beside such a store is refused, since the store stamps times by its own.
#[test]
fn the_builder_runs_the_pds_on_the_store_it_is_given() {
    use insitu_core::clock::ManualClock;
    use insitu_core::pds::Pds;
    use std::sync::Arc;

    let elsewhere = tempfile::tempdir().unwrap();
    let at = 7_258_118_400_000; // 2200-01-01
    let store: Arc<dyn Store> = Arc::new(
        RedbStore::open_with_clock(&elsewhere.path().join("shared.redb"), ManualClock::at(at))
            .unwrap(),
    );
    let alice = store.add_person("alice").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = insitu_core::sandbox::SandboxConfig::new(dir.path().join("plugins"));
    config.pool = 4;
    let pds = Pds::builder(dir.path())
        .store(store.clone())
        .sandbox(config)
        .open()
        .unwrap();
    assert_eq!(pds.store.person(alice).unwrap().name, "alice");
    assert_eq!(pds.store.now_ms(), at);
    assert!(
        !dir.path().join("insitu.redb").exists(),
        "the builder opened a store of its own"
    );
    // The standard collections are defined on the store given.
    assert!(store.collection("bank.transactions").is_ok());

    let err = Pds::builder(dir.path())
        .store(store)
        .clock(ManualClock::at(0))
        .open()
        .err()
        .expect("a clock beside a store is refused");
    assert!(err.to_string().contains("its own clock"), "{err}");
}

/// A proof is checked from its entry to the operator chain's head and to the latest
/// checkpoint's anchor, reading only what follows its entry (so that a proof's check does not
/// cost the whole chain): its entry edited with the stored hash left alone (backdated), the
/// entry before it rewritten, an entry after it edited, or the anchored entry before it
/// rewritten, each refuses it. An earlier entry bears on no part of it, is not read, and is
/// left to `audit verify`.
#[test]
fn a_proof_is_checked_from_its_entry_to_the_head_and_the_anchor() {
    use insitu_core::codesign::{self, Content, Reader};
    use redb::ReadableTable;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let token = |token| AuditEvent::TokenIssued { account: 1, token };
    let proof = {
        let s = RedbStore::open(&path).unwrap();
        for t in 0..3 {
            s.append_audit(token(t)).unwrap();
        }
        // The checkpoint anchors the operator chain before the proposal's entry.
        audit::publish_checkpoint(&s, &operator_key(), 0)
            .unwrap()
            .unwrap();
        let content = Content {
            title: "A thermostat that learns".into(),
            description: "From the heating study.".into(),
            options: vec![],
            studies: vec![],
            goal: insitu_core::output::Money {
                minor: 5_000,
                currency: "EUR".into(),
            },
            deadline_ms: now_ms() + 10 * 86_400_000,
            tiers: vec![],
        };
        // One entry between the anchor and the proposal's.
        s.append_audit(token(7)).unwrap();
        let p = codesign::submit(&s, "Thermo", None, content).unwrap();
        s.append_audit(token(9)).unwrap();
        codesign::prove(&s, p.id, 1, &Reader::Organisation("Thermo".into())).unwrap()
    };
    let anchor = {
        let s = RedbStore::open(&path).unwrap();
        let c = s.latest_checkpoint().unwrap().unwrap();
        c.head(audit::Chain::Operator).unwrap().seq
    };
    assert!(
        anchor + 1 < proof.seq,
        "anchor {anchor}, proof {}",
        proof.seq
    );
    let pristine = std::fs::read(&path).unwrap();
    let check = |proof: &codesign::Proof| {
        let s = RedbStore::open(&path).unwrap();
        codesign::verify_proof(&s, &Default::default(), proof).map_err(|e| e.to_string())
    };
    check(&proof).expect("the proof holds");
    // Replaces `from` by `to` in the operator chain's entry `seq`, as one with disk access.
    let edit = |seq: u64, from: &str, to: &str| {
        std::fs::write(&path, &pristine).unwrap();
        tamper_chains(&path, |t, _| {
            let v = t.get((1, 0, seq)).unwrap().unwrap().value().to_string();
            assert!(v.contains(from), "{v}");
            t.insert((1, 0, seq), v.replacen(from, to, 1).as_str())
                .unwrap();
        });
    };

    // Backdated: the entry's time moved, its stored hash left; the proof says the same time.
    let at = format!("\"at_ms\":{}", proof.at_ms);
    edit(
        proof.seq,
        &at,
        &format!("\"at_ms\":{}", proof.at_ms - 86_400_000),
    );
    let mut backdated = proof.clone();
    backdated.at_ms -= 86_400_000;
    let err = check(&backdated).unwrap_err();
    assert!(err.contains("edited"), "{err}");

    // The entry before it, not the anchor, rewritten (another hash): the proof's entry no
    // longer follows it.
    let hash_of = |seq: u64| {
        let s = RedbStore::open(&path).unwrap();
        s.audit_chain(audit::Chain::Operator, seq.checked_sub(1), 1)
            .unwrap()
            .remove(0)
            .hash
    };
    let before = hash_of(proof.seq - 1);
    edit(
        proof.seq - 1,
        &format!("\"hash\":\"{before}\""),
        &format!("\"hash\":\"{}\"", "1".repeat(64)),
    );
    let err = check(&proof).unwrap_err();
    assert!(err.contains("does not follow"), "{err}");

    // An entry after it edited.
    edit(proof.seq + 1, "\"token\":9", "\"token\":8");
    let err = check(&proof).unwrap_err();
    assert!(err.contains("edited"), "{err}");

    // The anchored entry, before it, rewritten (another hash): read on its own.
    edit(anchor, &hash_of(anchor), &"0".repeat(64));
    let err = check(&proof).unwrap_err();
    assert!(err.contains("rewritten"), "{err}");

    // An entry before it and before the anchor: not read by the proof's check; the whole
    // store's verification reports it.
    edit(0, "\"token\":0", "\"token\":5");
    check(&proof).expect("an earlier entry bears on no part of the proof");
    let whole = audit::verify_all(&RedbStore::open(&path).unwrap(), None);
    assert!(whole.is_err(), "audit verify sees the edit");
}
