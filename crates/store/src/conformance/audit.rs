//! The audit chains (one per person, one for the operator) and checkpoints.

use crate::Store;
use crate::verify::{verify_all, verify_chain_in};
use insitu_model::audit::{AuditEvent, Chain, ChainHead, GENESIS};
use insitu_model::checkpoint::Checkpoint;

fn revoked(grant: u64, person: u64) -> AuditEvent {
    AuditEvent::GrantRevoked { grant, person }
}

pub(super) fn chains(store: &dyn Store) {
    let ada = store.add_person("ada").expect("add_person");
    let bob = store.add_person("bob").expect("add_person");
    store
        .append_audit(AuditEvent::CollectionDefined {
            collection: "x".into(),
        })
        .expect("append_audit");
    for g in 1..=4 {
        let e = store.append_audit(revoked(g, ada)).expect("append_audit");
        assert_eq!(e.chain, Chain::Person(ada));
        assert_eq!(e.seq, g, "seq counts in the person's chain");
    }
    let b = store.append_audit(revoked(9, bob)).expect("append_audit");
    assert_eq!(
        (b.chain, b.seq),
        (Chain::Person(bob), 1),
        "another person's chain counts on its own"
    );

    let a = store
        .audit_chain(Chain::Person(ada), None, 100)
        .expect("audit_chain");
    assert_eq!(a.len(), 5);
    assert!(a.iter().all(|e| e.event.person() == Some(ada)));
    assert_eq!(
        a[0].prev, GENESIS,
        "a fresh store's chains start at GENESIS"
    );
    let o = store
        .audit_chain(Chain::Operator, None, 100)
        .expect("audit_chain");
    assert_eq!(
        o.len(),
        1,
        "an event about no person is in the operator's chain"
    );
    // Pages by seq.
    let page = store
        .audit_chain(Chain::Person(ada), Some(1), 2)
        .expect("audit_chain");
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 3]);
    assert!(
        store
            .audit_chain(Chain::Person(ada), Some(4), 10)
            .expect("audit_chain")
            .is_empty()
    );
    assert!(
        store
            .audit_chain(Chain::Person(999), None, 10)
            .expect("audit_chain")
            .is_empty()
    );
    // Heads by chain key.
    let heads = store.audit_heads().expect("audit_heads");
    assert_eq!(
        heads,
        vec![
            o[0].head(),
            a[4].head(),
            ChainHead {
                chain: Chain::Person(bob),
                seq: 1,
                hash: b.hash.clone()
            }
        ]
    );
    assert_eq!(
        store.audit_head(Chain::Person(ada)).expect("audit_head"),
        Some(a[4].head())
    );
    assert_eq!(store.audit_head(Chain::Legacy).expect("audit_head"), None);
    assert_eq!(store.audit_origin().expect("audit_origin"), GENESIS);
    for h in &heads {
        let r = verify_chain_in(store, h.chain, None).expect("verify");
        assert_eq!(r.entries, h.seq + 1);
    }
}

pub(super) fn concurrent(store: &dyn Store) {
    const THREADS: u64 = 8;
    const EACH: u64 = 25;
    let people: Vec<u64> = (0..THREADS)
        .map(|i| store.add_person(&format!("p{i}")).expect("add_person"))
        .collect();
    let start = std::sync::Barrier::new(THREADS as usize);
    std::thread::scope(|s| {
        for &p in &people {
            let start = &start;
            s.spawn(move || {
                start.wait();
                for g in 0..EACH {
                    store.append_audit(revoked(g, p)).expect("append_audit");
                }
            });
        }
    });
    for &p in &people {
        let chain = store
            .audit_chain(Chain::Person(p), None, 1000)
            .expect("audit_chain");
        assert_eq!(
            chain.len() as u64,
            EACH + 1,
            "person {p}: an append was lost"
        );
        let grants: Vec<u64> = chain
            .iter()
            .filter_map(|e| match e.event {
                AuditEvent::GrantRevoked { grant, .. } => Some(grant),
                _ => None,
            })
            .collect();
        assert_eq!(
            grants,
            (0..EACH).collect::<Vec<_>>(),
            "person {p}: out of order"
        );
    }
    let reports = verify_all(store, None).expect("every chain verifies");
    assert_eq!(reports.len(), THREADS as usize);
}

fn checkpoint(number: u64, heads: Vec<ChainHead>) -> Checkpoint {
    let mut c = Checkpoint::unsigned(number, 1_000 + number as i64, heads, [number as u8; 32]);
    c.signed.key = "k".repeat(64);
    c.signed.signature = "s".repeat(128);
    c
}

pub(super) fn checkpoints(store: &dyn Store) {
    assert_eq!(store.latest_checkpoint().expect("latest_checkpoint"), None);
    let number = || {
        store
            .latest_checkpoint_number()
            .expect("latest_checkpoint_number")
    };
    assert_eq!(number(), None);
    let p = store.add_person("ada").expect("add_person");
    let first = checkpoint(1, store.audit_heads().expect("audit_heads"));
    store.put_checkpoint(&first).expect("put_checkpoint");
    assert_eq!(
        store.latest_checkpoint().expect("latest_checkpoint"),
        Some(first.clone())
    );
    assert_eq!(number(), Some(1));
    store.append_audit(revoked(1, p)).expect("append_audit");
    let second = checkpoint(2, store.audit_heads().expect("audit_heads"));
    for taken in [checkpoint(1, vec![]), checkpoint(3, vec![])] {
        let n = taken.signed.number;
        assert!(
            matches!(
                store.put_checkpoint(&taken),
                Err(crate::StoreError::CheckpointTaken(m)) if m == n
            ),
            "checkpoint {n} stored out of turn"
        );
    }
    store.put_checkpoint(&second).expect("put_checkpoint");
    assert_eq!(
        store.latest_checkpoint().expect("latest_checkpoint"),
        Some(second.clone())
    );
    assert_eq!(number(), Some(2));
    assert_eq!(store.checkpoint(1).expect("checkpoint"), Some(first));
    assert_eq!(store.checkpoint(2).expect("checkpoint"), Some(second));
    assert_eq!(store.checkpoint(3).expect("checkpoint"), None);
}
