//! The redb backend against the store conformance suite (`insitu_store::conformance`): every check on
//! a fresh store file of its own, and the store's acknowledged state across reopening.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use insitu_model::clock::ManualClock;
use insitu_store::conformance;
use insitu_store::prelude::*;
use insitu_store::redb::RedbStore;

#[test]
fn redb_passes_every_conformance_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let n = AtomicU32::new(0);
    conformance::run_all(&|| {
        let path = dir
            .path()
            .join(format!("{}.redb", n.fetch_add(1, Ordering::Relaxed)));
        Arc::new(RedbStore::open(&path).expect("open a fresh store")) as Arc<dyn Store>
    });
    assert_eq!(
        n.load(Ordering::Relaxed) as usize,
        conformance::CHECKS.len(),
        "one fresh store per check"
    );
}

#[test]
fn redb_keeps_what_it_acknowledged_across_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("insitu.redb");
    conformance::survives_reopening(&|| {
        Arc::new(RedbStore::open(&path).expect("open the store")) as Arc<dyn Store>
    });
}

#[test]
fn redb_stamps_its_times_by_the_clock_it_was_opened_with() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 2200-01-01: far from any system clock, so a time read from it is caught.
    let at = 7_258_118_400_000;
    let clock = ManualClock::at(at);
    let store = RedbStore::open_with_clock(&dir.path().join("insitu.redb"), clock.clone())
        .expect("open the store");
    assert_eq!(store.now_ms(), at);
    conformance::clock(&store);
    assert_eq!(store.audit_log().expect("audit_log")[0].at_ms, at);
    clock.advance(1_000);
    store.add_person("bob").expect("add_person");
    assert_eq!(
        store
            .audit_log()
            .expect("audit_log")
            .last()
            .expect("an entry")
            .at_ms,
        at + 1_000
    );
}
