//! The redb backend against the store conformance suite (`insitu_store::conformance`): every check on
//! a fresh store file of its own, and the store's acknowledged state across reopening.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use insitu_store::Store;
use insitu_store::conformance;
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
