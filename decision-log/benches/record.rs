//! What one logged decision costs, part by part: building its record on
//! the request thread, and writing records to a SQLite file in the batches
//! the writer uses. The load benchmark (`service/benches/load.rs`) gives
//! the cost as a share of a busy service's throughput; this one says where
//! it goes.
#![expect(clippy::unwrap_used, reason = "a benchmark that cannot start must stop loudly")]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use roteiro_decision_log::{Made, Row};
use roteiro_engine::{Bundle, Decision, Situation};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The corpus, decided.
fn corpus(bundle: &Bundle) -> Vec<(Situation, Decision)> {
    let mut decided = Vec::new();
    for entry in std::fs::read_dir(root().join("tests/situations")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let situation = bundle.parse_situation(&text, "corpus").unwrap();
        let now = situation.now().unwrap();
        let decision = bundle.decide(&situation, now).unwrap();
        decided.push((situation, decision));
    }
    decided
}

fn made(situation: &Situation) -> Made<'static> {
    Made {
        origin: "bench",
        now: situation.now().unwrap(),
        latency: Duration::from_micros(30),
        keep_personal: false,
        analyst: None,
    }
}

fn benchmarks(c: &mut Criterion) {
    let bundle = Bundle::load_dir(&root().join("policies")).unwrap();
    let decided = corpus(&bundle);
    let mut group = c.benchmark_group("log");
    group.throughput(Throughput::Elements(decided.len() as u64));
    group.bench_function("build the rows of the corpus", |b| {
        b.iter(|| {
            for (situation, decision) in &decided {
                black_box(Row::of(&bundle, situation, decision, made(situation)));
            }
        })
    });
    // Rows are built afresh for every batch, as the service builds them:
    // each is stamped when it is built, so `logged_at` grows and its index
    // is appended to. Writing the same rows again would insert each stamp
    // in the middle of the index and measure a log no service writes.
    let rows = |count: usize| -> Vec<Row> {
        decided
            .iter()
            .cycle()
            .take(count)
            .map(|(situation, decision)| Row::of(&bundle, situation, decision, made(situation)))
            .collect()
    };
    let folder = std::env::temp_dir().join(format!("roteiro-record-bench-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let path = folder.join("log.db");
    let mut store = roteiro_decision_log::open(path.to_str().unwrap()).unwrap();
    group.throughput(Throughput::Elements(1000));
    group.bench_function("write a batch of 1,000 records to SQLite (the writer's batch)", |b| {
        b.iter_batched(
            || rows(1000),
            |rows| store.append(black_box(&rows)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    // With answers waiting for their commit, four clients give commits of
    // a few rows: what a commit costs on its own, with and without the
    // fsync of `synchronous=FULL`.
    group.throughput(Throughput::Elements(4));
    group.bench_function("commit 4 records (synchronous=NORMAL)", |b| {
        b.iter_batched(
            || rows(4),
            |rows| store.append(black_box(&rows)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    store.sync_every_commit().unwrap();
    group.bench_function("commit 4 records (synchronous=FULL)", |b| {
        b.iter_batched(
            || rows(4),
            |rows| store.append(black_box(&rows)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();
    drop(store);
    let _ = std::fs::remove_dir_all(folder);
}

criterion_group!(benches, benchmarks);
criterion_main!(benches);
