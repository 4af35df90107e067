//! The edge snapshot at 1,000,000 entries: its size, the time to check and
//! load it (what an edge isolate does after each download), and one
//! membership check — a hit, and a miss (the worst case: a full search).
//! The same code runs in the worker; `tests/edge/` measures it in workerd.
//!
//!     cargo bench -p clausum-core --bench snapshot

#![expect(missing_docs, reason = "criterion_group! generates an undocumented public function")]

use std::hint::black_box;

use clausum_core::{
    blocklist::{
        BlocklistLookup, ListType, entry_key,
        snapshot::{Snapshot, SnapshotBuilder, edge_digest_key},
    },
    synthetic,
    wire::Flow,
};
use criterion::{Criterion, criterion_group, criterion_main};

const ENTRIES: usize = 1_000_000;
const NOW: i64 = 1_800_000_000_000;
const ENTRY: &str = "bl_0192f3a4b5c6d7e8f90a1b2c3d4e5f60";

fn bench(c: &mut Criterion) {
    let key = edge_digest_key(b"an edge token of the benchmark", "org_bench");
    let mut builder = SnapshotBuilder::new(key.clone());
    let mut hit = None;
    // Every synthetic entry, as if all were `block` (the snapshot ships only
    // those): the largest snapshot a million entries can make.
    for (t, raw, _, scope) in synthetic::blocklist(ENTRIES, 1) {
        let v = t.normalize(&raw).expect("synthetic values are valid");
        if t == ListType::Email && hit.is_none() {
            hit = Some(v.clone());
        }
        builder.push(t, &v, scope, None, entry_key(ENTRY));
    }
    let bytes = builder.finish();
    let snapshot = Snapshot::parse(bytes.clone(), key.clone()).expect("parses");
    eprintln!(
        "snapshot: {} entries, {} bytes ({:.1} MiB) held in memory",
        snapshot.len(),
        snapshot.byte_len(),
        snapshot.byte_len() as f64 / (1024.0 * 1024.0)
    );
    let hit = hit.expect("the synthetic list has emails");

    let mut g = c.benchmark_group("snapshot_1m");
    g.sample_size(10);
    g.bench_function("check_and_load", |b| {
        b.iter_batched(
            || bytes.clone(),
            |b| Snapshot::parse(b, key.clone()).expect("parses"),
            criterion::BatchSize::LargeInput,
        )
    });
    g.finish();

    let mut g = c.benchmark_group("snapshot_1m_lookup");
    g.bench_function("email_hit", |b| {
        b.iter(|| {
            let h = snapshot.lookup(ListType::Email, black_box(&hit), Flow::Payin, NOW);
            assert!(h.is_some());
            h
        })
    });
    g.bench_function("email_miss", |b| {
        b.iter(|| {
            snapshot.lookup(ListType::Email, black_box("nobody@example.org"), Flow::Payin, NOW)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
