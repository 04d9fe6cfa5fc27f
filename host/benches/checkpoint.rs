//! A person's checkpoint download (`GET /api/audit/checkpoint`'s work) over a checkpoint of
//! `PEOPLE` chains (default 100,000): from the checkpoint and tree the server keeps
//! ([`LatestCheckpoint`]), against the baseline measured in the same run, the latest
//! checkpoint read and its tree built for each download (what every download did before).
//! Both from a redb store, with the checkpoint's heads made up (the tree does not look at
//! the chains behind them).
//!
//! Run with `cargo bench -p insitu --bench checkpoint`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use insitu_core::audit::{self, Chain, ChainHead, LatestCheckpoint};
use insitu_core::store::AuditStore;

fn people() -> u64 {
    std::env::var("PEOPLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn download(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = insitu_core::store::redb::RedbStore::open(&dir.path().join("insitu.redb")).unwrap();
    let n = people();
    let heads: Vec<ChainHead> = (1..=n)
        .map(|p| ChainHead {
            chain: Chain::Person(p),
            seq: p % 17,
            hash: audit::hex(&[p as u8; 32]),
        })
        .collect();
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let cp = audit::sign(1, 1, heads, [9; 32], &key);
    store.put_checkpoint(&cp).unwrap();
    let me = Chain::Person(n / 2);
    let kept = LatestCheckpoint::default();
    let proved = kept.proof_for(&store, me).unwrap().unwrap();
    assert!(proved.proof.as_ref().unwrap().leads_to(&proved.checkpoint));

    let mut g = c.benchmark_group(format!("checkpoint_download_{n}_chains"));
    g.sample_size(10);
    g.bench_function("baseline: read the checkpoint and build its tree", |b| {
        b.iter(|| {
            let cp = store.latest_checkpoint().unwrap().unwrap();
            black_box(cp.prove(me))
        })
    });
    g.bench_function("kept between downloads", |b| {
        b.iter(|| black_box(kept.proof_for(&store, me).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, download);
criterion_main!(benches);
