//! Synthetic bundles of 100, 1,000 and 10,000 rules, decided by the native
//! tree, by Rhai alone, and by plain Rust closures over the same rules (the
//! floor any rules engine is measured against).
//!
//! Every rule has the shape `caso.topic == "tK" && caso.a in [..] &&
//! caso.n <= K && !caso.flag`: an equality that discriminates (the topic,
//! 50 values) and three conditions after it. The generator below is the
//! only source of these bundles. Besides criterion's figures, the run ends
//! with one line per size giving the native/closure and Rhai/native ratios.

#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark whose generated bundle does not load must stop loudly"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, BatchSize, BenchmarkId, Criterion};
use roteiro_engine::{Bundle, Evaluation, Situation, SourceFile};

/// The allocator the `roteiro` binary uses (cli/src/main.rs), for the
/// engine and the closures alike.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SIZES: [usize; 3] = [100, 1_000, 10_000];
const TOPICS: usize = 50;
const LETTERS: usize = 5;

/// The rule `i` as data, shared by the YAML generator and the closures.
struct Shape {
    topic: String,
    letters: [String; 2],
    limit: i64,
}

fn shape(i: usize) -> Shape {
    Shape {
        topic: format!("t{}", i % TOPICS),
        letters: [format!("a{}", i % LETTERS), format!("a{}", (i + 1) % LETTERS)],
        limit: (i % 100) as i64,
    }
}

/// A whole bundle of `rules` rules in one procedure file, as the benches
/// load it.
fn generate(rules: usize) -> Vec<SourceFile> {
    generate_in(rules, 1)
}

/// A whole bundle of `rules` rules, as the files a process owner would
/// write, spread over `procedures` procedure files.
fn generate_in(rules: usize, procedures: usize) -> Vec<SourceFile> {
    let topics: Vec<String> = (0..TOPICS).map(|t| format!("t{t}")).collect();
    let letters: Vec<String> = (0..LETTERS).map(|l| format!("a{l}")).collect();
    let written: Vec<String> = (0..rules)
        .map(|i| {
            let rule = shape(i);
            format!(
                "  - id: r{i}\n    section: '{i}'\n    phase: a\n    when: caso.topic == \"{}\" && caso.a in [\"{}\", \"{}\"] && caso.n <= {} && !caso.flag\n    actions:\n      - {{id: passo{i}, text: Passo {i}}}\n",
                rule.topic, rule.letters[0], rule.letters[1], rule.limit
            )
        })
        .collect();
    let files = [
        (
            "bundle.yaml",
            "name: sintetico\nversion: '1'\ntimezone: {name: America/Sao_Paulo}\nlimits: {decision_ms: 60000}\nphases: [a]\noutputs:\n  route: {description: r, type: text}\n".to_string(),
        ),
        (
            "vocabulary.yaml",
            format!(
                "facts:\n  now: {{type: datetime, description: n, question: q, label: agora}}\n  caso.topic: {{type: enum, values: [{}], description: t, question: Qual?, label: assunto}}\n  caso.a: {{type: enum, values: [{}], description: a, question: Qual?, label: letra}}\n  caso.n: {{type: integer, description: n, question: Quantos?, label: número}}\n  caso.flag: {{type: bool, description: f, question: Flag?, label: marca}}\n",
                topics.join(", "),
                letters.join(", ")
            ),
        ),
        ("catalog.yaml", "teams: {t: Time}\nmacros: {}\n".to_string()),
        ("calendar.yaml", "business_hours: {}\nholidays: {}\n".to_string()),
    ];
    let per_file = rules.div_ceil(procedures.max(1)).max(1);
    let chunks = written.chunks(per_file).enumerate().map(|(k, chunk)| {
        // One file keeps the name and title the benches always loaded.
        let (path, title) = if procedures <= 1 {
            ("procedures/sintetico.yaml".to_string(), "Sintético".to_string())
        } else {
            (format!("procedures/sintetico-{k:03}.yaml"), format!("Sintético {k}"))
        };
        (
            path,
            format!("document: sintetico.txt\ntitle: {title}\nrules:\n{}", chunk.concat()),
        )
    });
    files
        .into_iter()
        .map(|(path, text)| (path.to_string(), text))
        .chain(chunks)
        .map(|(path, text)| SourceFile { path, text })
        .collect()
}

/// Writes the 10,000-rule bundle to `dir` in two shapes, `one-file` and
/// `per-100` (a hundred procedure files), for the binary's timings
/// (cli/benches/commands.sh).
fn write_bundles(dir: &std::path::Path) {
    for (name, procedures) in [("one-file", 1), ("per-100", 100)] {
        for file in generate_in(10_000, procedures) {
            let path = dir.join(name).join(&file.path);
            std::fs::create_dir_all(path.parent().expect("a folder")).expect("folder written");
            std::fs::write(&path, file.text).expect("file written");
        }
    }
}

const SITUATION: &str = "now: 2026-12-08T10:15:00-03:00\ncaso: {topic: t7, a: a2, n: 40, flag: false}\n";

/// The situation as the closures see it.
struct Facts {
    topic: &'static str,
    a: &'static str,
    n: i64,
    flag: bool,
}

const FACTS: Facts = Facts {
    topic: "t7",
    a: "a2",
    n: 40,
    flag: false,
};

type Closure = Box<dyn Fn(&Facts) -> bool>;

/// The same rules as native closures: the baseline.
fn closures(rules: usize) -> Vec<(String, Closure)> {
    (0..rules)
        .map(|i| {
            let rule = shape(i);
            let test: Closure = Box::new(move |facts: &Facts| {
                facts.topic == rule.topic
                    && rule.letters.iter().any(|l| l == facts.a)
                    && facts.n <= rule.limit
                    && !facts.flag
            });
            (format!("r{i}"), test)
        })
        .collect()
}

/// What the closures decide: the ids of the rules that fire.
fn decide_with_closures(rules: &[(String, Closure)], facts: &Facts) -> Vec<String> {
    rules
        .iter()
        .filter(|(_, test)| test(facts))
        .map(|(id, _)| id.clone())
        .collect()
}

fn loaded(rules: usize, evaluation: Evaluation) -> Option<(Bundle, Situation)> {
    let mut bundle = Bundle::from_files(generate(rules)).unwrap_or_else(|err| panic!("{err}"));
    bundle.set_evaluation(evaluation);
    let situation = bundle.parse_situation(SITUATION, "sintetica").expect("valid situation");
    Some((bundle, situation))
}

fn benchmarks(c: &mut Criterion) {
    let mut group = c.benchmark_group("synthetic");
    group.sample_size(20).measurement_time(Duration::from_secs(3));
    for rules in SIZES {
        let Some((native, situation)) = loaded(rules, Evaluation::Native) else {
            return;
        };
        let Some(now) = situation.now() else { return };
        group.bench_with_input(BenchmarkId::new("native", rules), &rules, |b, _| {
            b.iter(|| native.decide(black_box(&situation), now).map(|d| d.actions.len()))
        });
        if let Some((rhai, situation)) = loaded(rules, Evaluation::Rhai) {
            group.bench_with_input(BenchmarkId::new("rhai", rules), &rules, |b, _| {
                b.iter(|| rhai.decide(black_box(&situation), now).map(|d| d.actions.len()))
            });
        }
        let baseline = closures(rules);
        group.bench_with_input(BenchmarkId::new("closures", rules), &rules, |b, _| {
            b.iter(|| decide_with_closures(&baseline, black_box(&FACTS)).len())
        });
    }
    group.finish();

    let mut load = c.benchmark_group("synthetic load");
    load.sample_size(10).measurement_time(Duration::from_secs(5));
    for rules in SIZES {
        let files = generate(rules);
        load.bench_with_input(BenchmarkId::new("load and validate", rules), &rules, |b, _| {
            // Copying the files and dropping the bundle are not loading
            // (the drop alone is a twentieth of it): both stay outside.
            b.iter_batched(
                || files.clone(),
                |files| Bundle::from_files(black_box(files)),
                BatchSize::PerIteration,
            )
        });
    }
    load.finish();
    ratios();
}

/// Median over `samples` loads of `files` after one to warm up; each
/// bundle is dropped once its time is taken, as dropping is not loading.
fn load_median(files: &[SourceFile], samples: usize) -> Duration {
    let mut times: Vec<Duration> = (0..=samples)
        .map(|_| {
            let files = files.to_vec();
            let started = Instant::now();
            let bundle = Bundle::from_files(files);
            let time = started.elapsed();
            drop(black_box(bundle));
            time
        })
        .skip(1)
        .collect();
    times.sort_unstable();
    times[samples / 2]
}

/// Median over `samples` of the mean time of `f`: each sample repeats it
/// for at least 100 µs, so the clock's own cost (tens of nanoseconds, a
/// tenth of a decision over 100 rules) does not count.
fn median(samples: usize, mut f: impl FnMut()) -> Duration {
    for _ in 0..3 {
        f();
    }
    let started = Instant::now();
    f();
    let once = started.elapsed().as_nanos().max(1);
    let repeats = u32::try_from((100_000 / once).clamp(1, 1_000_000)).unwrap_or(1);
    let mut times: Vec<Duration> = (0..samples)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..repeats {
                f();
            }
            started.elapsed() / repeats
        })
        .collect();
    times.sort();
    times[samples / 2]
}

/// One line per size: how far the native tree is from closures, and how
/// far Rhai is from the native tree.
fn ratios() {
    println!("\nratios (medians of 101 samples of at least 100 µs; load per rule over 5 loads, drop excluded):");
    for rules in SIZES {
        let (Some((native, situation)), Some((rhai, _))) =
            (loaded(rules, Evaluation::Native), loaded(rules, Evaluation::Rhai))
        else {
            return;
        };
        let Some(now) = situation.now() else { return };
        // The three must agree before their times mean anything.
        let fired = |bundle: &Bundle| -> Vec<String> {
            bundle
                .decide(&situation, now)
                .map(|d| d.actions.iter().map(|a| a.rule.to_string()).collect())
                .unwrap_or_default()
        };
        let baseline = closures(rules);
        assert_eq!(fired(&native), decide_with_closures(&baseline, &FACTS));
        assert_eq!(fired(&native), fired(&rhai));
        let native_time = median(101, || {
            black_box(native.decide(&situation, now).map(|d| d.actions.len()).ok());
        });
        let rhai_time = median(101, || {
            black_box(rhai.decide(&situation, now).map(|d| d.actions.len()).ok());
        });
        let closure_time = median(101, || {
            black_box(decide_with_closures(&baseline, &FACTS).len());
        });
        let files = generate(rules);
        let load_time = load_median(&files, 5);
        println!(
            "{rules:>6} rules: native {native_time:>10.1?} | rhai {rhai_time:>10.1?} | closures {closure_time:>9.1?} | native/closures {:>6.1}x | rhai/native {:>5.1}x | load {:.1?}/rule",
            native_time.as_secs_f64() / closure_time.as_secs_f64().max(1e-9),
            rhai_time.as_secs_f64() / native_time.as_secs_f64().max(1e-9),
            load_time / u32::try_from(rules).unwrap_or(1),
        );
    }
}

criterion_group!(benches, benchmarks);

fn main() {
    // `ROTEIRO_WRITE_SYNTHETIC=DIR` writes the bundles instead of timing.
    if let Some(dir) = std::env::var_os("ROTEIRO_WRITE_SYNTHETIC") {
        write_bundles(std::path::Path::new(&dir));
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
