//! Loading the shipped bundle and deciding on a representative situation.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use roteiro_engine::{Bundle, Situation};

/// The allocator the `roteiro` binary uses (cli/src/main.rs), so decisions
/// are timed as the binary makes them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn policies() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policies")
}

const SITUATION: &str = "
now: 2026-12-08T10:15:00-03:00
analyst: {name: Carla}
contact: {kind: cliente, channel: telefone, name: Maria Souza, phone: '(21) 99999-0000'}
client: {code: '48213', plan: essencial, plan_active: true, in_onboarding: false, franchise: false}
request: {topic: sistema_bloqueado}
billing: {due_date: 2026-12-05, payment_method: boleto}
system: {blocked: false}
";

fn benchmarks(c: &mut Criterion) {
    let dir = policies();
    c.bench_function("load and compile the shipped bundle", |b| {
        b.iter(|| Bundle::load_dir(black_box(&dir)).map(|bundle| bundle.rule_ids().count()))
    });
    let Ok(bundle) = Bundle::load_dir(&dir) else {
        return;
    };
    let Ok(situation) = bundle.parse_situation(SITUATION, "bench") else {
        return;
    };
    let Some(now) = situation.now() else {
        return;
    };
    c.bench_function("decide: blocked system, complete situation", |b| {
        b.iter(|| bundle.decide(black_box(&situation), now).map(|d| d.actions.len()))
    });
    let sparse = bundle.parse_situation("now: 2026-12-08T10:15:00-03:00\nrequest: {topic: treinamento}", "bench");
    if let Ok(sparse) = sparse {
        c.bench_function("decide: training with most facts missing", |b| {
            b.iter(|| bundle.decide(black_box(&sparse), now).map(|d| d.missing.len()))
        });
    }
    // Where an analyst starts: no topic yet, so every rule about one is
    // explored over the topics it could be.
    let empty = bundle.parse_situation("now: 2026-12-08T10:15:00-03:00\nrequest: {urgent: false}", "bench");
    if let Ok(empty) = empty {
        c.bench_function("decide: no topic yet", |b| {
            b.iter(|| bundle.decide(black_box(&empty), now).map(|d| d.missing.len()))
        });
    }
    c.bench_function("parse a situation", |b| {
        b.iter(|| bundle.parse_situation(black_box(SITUATION), "bench").is_ok())
    });
    corpus(c, &bundle);
}

/// The `tests/situations` corpus: one decision per situation (the median
/// docs/performance.md reports), and the batch API over 100 copies of it.
fn corpus(c: &mut Criterion, bundle: &Bundle) {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/situations");
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    let texts: Vec<String> = entries
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path()).ok())
        .collect();
    let situations: Vec<Situation> = texts
        .iter()
        .filter_map(|text| bundle.parse_situation(text, "corpus").ok())
        .collect();
    let Some(now) = situations.first().and_then(Situation::now) else {
        return;
    };
    let mut group = c.benchmark_group("corpus");
    group.throughput(Throughput::Elements(situations.len() as u64));
    group.bench_function("decide each situation", |b| {
        b.iter(|| situations.iter().filter(|s| bundle.decide(s, now).is_ok()).count())
    });
    group.bench_function("parse and decide each situation", |b| {
        b.iter(|| {
            texts
                .iter()
                .filter_map(|text| bundle.parse_situation(text, "corpus").ok())
                .filter(|s| bundle.decide(s, now).is_ok())
                .count()
        })
    });
    let many: Vec<Situation> = situations
        .iter()
        .cycle()
        .take(situations.len() * 100)
        .cloned()
        .collect();
    group.throughput(Throughput::Elements(many.len() as u64));
    group.bench_function("decide_batch on every core", |b| {
        b.iter(|| bundle.decide_batch(black_box(&many), now).len())
    });
    // A replay (what `roteiro diff` does): each decision is read where it
    // is made and dropped there, so nothing is kept and no thread frees
    // another's memory.
    group.bench_function("replay on every core, each decision read where it is made", |b| {
        b.iter(|| {
            roteiro_engine::in_parallel(black_box(&many), |situation| {
                bundle
                    .decide(situation, now)
                    .map_or(0, |decision| decision.actions.len())
            })
            .len()
        })
    });
    // The same decisions kept, on one core: what the batch is faster than.
    group.bench_function("the same batch on one core", |b| {
        b.iter(|| {
            many.iter()
                .map(|situation| bundle.decide(black_box(situation), now))
                .collect::<Vec<_>>()
                .len()
        })
    });
    group.finish();
    median_over_corpus(bundle, &texts, now);
}

/// The figures are medians over the corpus, which no criterion
/// benchmark of the whole corpus gives: each situation is timed on its own
/// (a warm-up, then the mean of many runs), deciding only and parsing then
/// deciding, and the lines printed give the median, the 90th percentile
/// and the slowest.
fn median_over_corpus(bundle: &Bundle, texts: &[String], now: chrono::DateTime<chrono::FixedOffset>) {
    const RUNS: u32 = 2_000;
    let time = |run: &dyn Fn()| {
        for _ in 0..RUNS / 10 {
            run();
        }
        let start = std::time::Instant::now();
        for _ in 0..RUNS {
            run();
        }
        start.elapsed().as_secs_f64() * 1e6 / f64::from(RUNS)
    };
    let parsed: Vec<Situation> = texts
        .iter()
        .filter_map(|text| bundle.parse_situation(text, "corpus").ok())
        .collect();
    let deciding: Vec<f64> = parsed
        .iter()
        .map(|situation| time(&|| drop(black_box(bundle.decide(black_box(situation), now)))))
        .collect();
    let parsing: Vec<f64> = texts
        .iter()
        .map(|text| {
            time(&|| {
                let situation = bundle.parse_situation(black_box(text), "corpus");
                drop(black_box(situation.map(|situation| bundle.decide(&situation, now))));
            })
        })
        .collect();
    for (what, target, mut means) in [
        ("one decision", "≤ 10 µs", deciding),
        ("parse and decide", "≤ 40 µs", parsing),
    ] {
        means.sort_by(f64::total_cmp);
        let at = |fraction: f64| {
            means
                .get(((means.len() as f64 - 1.0) * fraction).round() as usize)
                .copied()
        };
        if let (Some(median), Some(p90), Some(max)) = (at(0.5), at(0.9), at(1.0)) {
            println!(
                "corpus, {what} per situation over {} situations: median {median:.1} µs, p90 {p90:.1} µs, slowest {max:.1} µs (issue 11 target: median {target})",
                means.len()
            );
        }
    }
}

criterion_group!(benches, benchmarks);
criterion_main!(benches);
