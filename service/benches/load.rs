//! A bounded load test of `roteiro serve` on loopback (a benchmark, not a
//! timed test): concurrent clients post the situation corpus to
//! `/v1/decide` over keep-alive connections for a few seconds, in five
//! setups: the decision log off, the log on (a SQLite file) answering once
//! each decision is in the log's journal (`--log-durability commit`, the
//! default), once committed and synced (`sync`), and before (`buffered`),
//! and the log off with the bundle folder edited every second (hot
//! reload). Every
//! answer must be a complete 200 decision naming a bundle digest; the run
//! prints decisions/s and p50/p99 latency per setup, and the log's cost.
//!
//! `cargo bench -p roteiro-service --bench load` (ROTEIRO_LOAD_SECONDS and
//! ROTEIRO_LOAD_CLIENTS change the duration of a round and the number of clients,
//! ROTEIRO_LOAD_ROUNDS the number of rounds of log off and on,
//! ROTEIRO_LOAD_DATABASE_DIR the folder of the log's file,
//! ROTEIRO_LOAD_POSTGRES a PostgreSQL log instead of SQLite files).
#![expect(clippy::unwrap_used, reason = "a load test that cannot start must stop loudly")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use roteiro_decision_log::Durability;
use roteiro_engine::Bundle;

/// The allocator the `roteiro` binary uses (cli/src/main.rs), so the
/// service here runs as it does there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The corpus situations as JSON bodies.
fn bodies() -> Vec<String> {
    let mut bodies = Vec::new();
    for entry in std::fs::read_dir(root().join("tests/situations")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let value: serde_json::Value = serde_yaml::from_str(&text).unwrap();
        bodies.push(value.to_string());
    }
    bodies.sort();
    bodies
}

/// A copy of the shipped bundle in a folder of its own (the reload setup
/// edits it).
fn bundle_copy(name: &str) -> PathBuf {
    let target = std::env::temp_dir().join(format!("roteiro-load-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&target);
    copy_dir(&root().join("policies"), &target);
    target
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Starts a service on a free port; it runs until the process ends.
fn start(folder: &Path, log: Option<(&str, Durability)>) -> SocketAddr {
    let bundle = Bundle::load_dir(folder).unwrap();
    let log = log.map(|(address, durability)| roteiro_service::LogConfig::open(address, durability).unwrap());
    let config = roteiro_service::Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        folder: Some(folder.to_path_buf()),
        follow_releases: false,
        log,
        // The bench measures deciding and logging; a token check is one
        // SHA-256 of 64 bytes a request, and the budgets would stop it.
        auth: roteiro_service::Auth::InsecureNoAuth,
        tls: None,
        helpdesk: None,
        proxies: roteiro_service::TrustedProxies::default(),
        limits: roteiro_service::LimitsConfig {
            per_minute: u32::MAX,
            in_flight: 4096,
            ..Default::default()
        },
    };
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        roteiro_service::run(bundle, config, |addr| sender.send(addr).unwrap()).unwrap();
    });
    receiver.recv_timeout(Duration::from_secs(30)).unwrap()
}

/// One keep-alive connection posting situations.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Self {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        }
    }

    /// Posts `body`; the status and the answer's body.
    fn decide(&mut self, body: &str) -> (u16, Vec<u8>) {
        // A loopback Host: without tokens, the service lets in only
        // requests that name this machine.
        let request = format!(
            "POST /v1/decide HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.writer.write_all(request.as_bytes()).unwrap();
        let mut status_line = String::new();
        self.reader.read_line(&mut status_line).unwrap();
        let status = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            self.reader.read_line(&mut header).unwrap();
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap();
                }
            }
        }
        let mut answer = vec![0u8; length];
        self.reader.read_exact(&mut answer).unwrap();
        (status, answer)
    }
}

/// What one setup measured.
struct Measure {
    decisions: usize,
    failures: usize,
    seconds: f64,
    /// CPU time the whole process (service and clients) spent meanwhile.
    cpu_seconds: f64,
    latencies: Vec<Duration>,
}

impl Measure {
    fn per_second(&self) -> f64 {
        self.decisions as f64 / self.seconds
    }

    fn cpu_per_decision(&self) -> Duration {
        Duration::from_secs_f64(self.cpu_seconds / self.decisions.max(1) as f64)
    }

    fn percentile(&self, p: f64) -> Duration {
        let index = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies.get(index).copied().unwrap_or_default()
    }
}

/// CPU time this process has used (user and system, all threads), from
/// `/proc/self/stat`. With both cores busy, the throughput the log costs
/// is the CPU it adds per decision; the two figures should agree.
fn process_cpu_seconds() -> f64 {
    cpu_seconds(Path::new("/proc/self/stat"))
}

/// CPU time (user and system) of the process or thread whose `stat` file
/// is at `path`.
fn cpu_seconds(path: &Path) -> f64 {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    // Fields after the command name (which may hold spaces) in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let field = |index: usize| fields.get(index).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // USER_HZ is 100 on every Linux this runs on.
    (field(11) + field(12)) as f64 / 100.0
}

/// CPU time of the log's writer thread (`roteiro-log`) so far.
fn writer_cpu_seconds() -> f64 {
    let mut total = 0.0;
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let task = task.unwrap().path();
        if std::fs::read_to_string(task.join("comm")).unwrap_or_default().trim() == "roteiro-log" {
            total += cpu_seconds(&task.join("stat"));
        }
    }
    total
}

/// `clients` connections posting the corpus round-robin for `seconds`.
fn load(addr: SocketAddr, clients: usize, seconds: u64, bodies: &Arc<Vec<String>>) -> Measure {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let cpu_at_start = process_cpu_seconds();
    let workers: Vec<_> = (0..clients)
        .map(|worker| {
            let (stop, bodies) = (stop.clone(), bodies.clone());
            std::thread::spawn(move || {
                let mut client = Client::connect(addr);
                let (mut latencies, mut failures) = (Vec::new(), 0usize);
                let mut next = worker;
                while !stop.load(Ordering::Relaxed) {
                    let body = &bodies[next % bodies.len()];
                    next += 1;
                    let sent = Instant::now();
                    let (status, answer) = client.decide(body);
                    latencies.push(sent.elapsed());
                    // A torn answer would be cut short (its length is the
                    // header's) or lack the bundle's digest; parsing every
                    // answer in full would load the clients more than the
                    // server on two cores.
                    let whole = answer.first() == Some(&b'{')
                        && answer.trim_ascii_end().last() == Some(&b'}')
                        && answer.windows(9).any(|w| w == b"\"digest\":");
                    if status != 200 || !whole {
                        failures += 1;
                    }
                }
                (latencies, failures)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut measure = Measure {
        decisions: 0,
        failures: 0,
        seconds: 0.0,
        cpu_seconds: 0.0,
        latencies: Vec::new(),
    };
    for worker in workers {
        let (latencies, failures) = worker.join().unwrap();
        measure.decisions += latencies.len();
        measure.failures += failures;
        measure.latencies.extend(latencies);
    }
    measure.seconds = started.elapsed().as_secs_f64();
    measure.cpu_seconds = process_cpu_seconds() - cpu_at_start;
    measure.latencies.sort();
    measure
}

/// Edits a policy file every second while `stop` is unset, so the service
/// reloads a changed bundle about once a second.
fn edit_every_second(folder: PathBuf, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let path = folder.join("catalog.yaml");
        let original = std::fs::read_to_string(&path).unwrap();
        let mut edits = 0;
        while !stop.load(Ordering::Relaxed) {
            edits += 1;
            std::fs::write(&path, format!("{original}\n# edição {edits}\n")).unwrap();
            std::thread::sleep(Duration::from_secs(1));
        }
        edits
    })
}

/// The run with the median throughput.
fn median(mut runs: Vec<Measure>) -> Measure {
    runs.sort_by(|a, b| a.per_second().total_cmp(&b.per_second()));
    runs.swap_remove(runs.len() / 2)
}

fn report(name: &str, measure: &Measure) {
    println!(
        "{name:<34} {:>8.0} decisões/s   CPU {:>7.2?}/decisão   p50 {:>8.2?}   p99 {:>8.2?}   {} decisões, {} falhas",
        measure.per_second(),
        measure.cpu_per_decision(),
        measure.percentile(0.50),
        measure.percentile(0.99),
        measure.decisions,
        measure.failures
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing
    // and only checks that the load test builds.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let seconds = std::env::var("ROTEIRO_LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let clients = std::env::var("ROTEIRO_LOAD_CLIENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4);
    let rounds = std::env::var("ROTEIRO_LOAD_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let bodies = Arc::new(bodies());
    println!(
        "carga: {clients} clientes, {seconds} s por cenário, {} situações do corpus",
        bodies.len()
    );

    // Log off and on alternate in short rounds, ten of each. On two cores
    // shared with the clients the machine drifts by more than the log
    // costs (the same setup gave 9,000 and 12,000 decisions/s in two runs,
    // and single rounds of the same service differ by up to 30%), so off
    // and on are measured side by side, many times, and summed.
    let quiet = start(&bundle_copy("sem-log"), None);
    // ROTEIRO_LOAD_DATABASE_DIR puts the log elsewhere (/dev/shm: the
    // same work without the disk's file system).
    let database_dir = std::env::var_os("ROTEIRO_LOAD_DATABASE_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let file = |name: &str| {
        let path = database_dir.join(format!("roteiro-load-{name}{}.db", std::process::id()));
        path.to_string_lossy().into_owned()
    };
    // ROTEIRO_LOAD_POSTGRES: the three logs in one PostgreSQL database.
    let postgres = std::env::var("ROTEIRO_LOAD_POSTGRES")
        .ok()
        .filter(|url| !url.is_empty());
    let [database, buffered_database, synced_database] =
        ["", "buffered-", "sync-"].map(|name| postgres.clone().unwrap_or_else(|| file(name)));
    println!(
        "log em {}",
        if postgres.is_some() {
            "PostgreSQL"
        } else {
            "arquivos SQLite"
        }
    );
    let logged = start(&bundle_copy("com-log"), Some((&database, Durability::Commit)));
    let buffered = start(
        &bundle_copy("com-log-buffered"),
        Some((&buffered_database, Durability::Buffered)),
    );
    load(quiet, clients, 1, &bodies);
    load(logged, clients, 1, &bodies);
    let synced = start(&bundle_copy("com-log-sync"), Some((&synced_database, Durability::Sync)));
    load(buffered, clients, 1, &bodies);
    load(synced, clients, 1, &bodies);
    let (mut offs, mut ons, mut costs, mut cpu_costs) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut buffereds, mut commit_costs, mut synceds) = (Vec::new(), Vec::new(), Vec::new());
    // The writer threads' CPU while the commit setup runs (the others'
    // writers are idle then).
    let mut writer_cpu = 0.0;
    for _ in 0..rounds {
        let off = load(quiet, clients, seconds, &bodies);
        let writer_before = writer_cpu_seconds();
        let on = load(logged, clients, seconds, &bodies);
        writer_cpu += writer_cpu_seconds() - writer_before;
        let early = load(buffered, clients, seconds, &bodies);
        synceds.push(load(synced, clients, seconds, &bodies));
        costs.push(100.0 * (1.0 - on.per_second() / off.per_second()));
        cpu_costs.push(100.0 * (on.cpu_seconds / on.decisions as f64 / (off.cpu_seconds / off.decisions as f64) - 1.0));
        commit_costs.push(100.0 * (1.0 - on.per_second() / early.per_second()));
        offs.push(off);
        ons.push(on);
        buffereds.push(early);
    }
    commit_costs.sort_by(f64::total_cmp);
    costs.sort_by(f64::total_cmp);
    cpu_costs.sort_by(f64::total_cmp);
    let overall = |runs: &[Measure]| {
        let decisions: usize = runs.iter().map(|run| run.decisions).sum();
        let seconds: f64 = runs.iter().map(|run| run.seconds).sum();
        let cpu: f64 = runs.iter().map(|run| run.cpu_seconds).sum();
        (decisions as f64 / seconds, cpu / decisions.max(1) as f64)
    };
    let ((off_rate, off_cpu), (on_rate, on_cpu)) = (overall(&offs), overall(&ons));
    let (buffered_rate, _) = overall(&buffereds);
    let (synced_rate, _) = overall(&synceds);
    let logged_decisions: usize = ons.iter().map(|run| run.decisions).sum();
    let failures = offs
        .iter()
        .chain(&ons)
        .chain(&buffereds)
        .chain(&synceds)
        .map(|run| run.failures)
        .sum::<usize>();
    let without_log = median(offs);
    let with_log = median(ons);
    let with_buffered_log = median(buffereds);
    report(&format!("log desligado (mediana de {rounds})"), &without_log);
    report(&format!("log ligado, commit (mediana de {rounds})"), &with_log);
    report(
        &format!("log ligado, buffered (mediana de {rounds})"),
        &with_buffered_log,
    );
    report(&format!("log ligado, sync (mediana de {rounds})"), &median(synceds));

    let folder = bundle_copy("recarga");
    let reloading = start(&folder, None);
    load(reloading, clients, 1, &bodies);
    let stop = Arc::new(AtomicBool::new(false));
    let editor = edit_every_second(folder, stop.clone());
    let under_reload = load(reloading, clients, seconds, &bodies);
    stop.store(true, Ordering::Relaxed);
    let edits = editor.join().unwrap();
    report(&format!("recarga a cada segundo ({edits} edições)"), &under_reload);

    let rounds = |costs: &[f64]| {
        let listed = costs
            .iter()
            .map(|cost| format!("{cost:.1}%"))
            .collect::<Vec<_>>()
            .join(", ");
        (costs.get(costs.len() / 2).copied().unwrap_or_default(), listed)
    };
    // Over all rounds: the writer's work does not stop with its round (a
    // checkpoint of the write-ahead log may run on into the next round,
    // with the log off), so single rounds swing both ways around the cost
    // while the totals keep all of it on the log's side.
    let (commit_cost, listed) = rounds(&commit_costs);
    println!(
        "custo de esperar o commit: {:.1}% das decisões/s do buffered, somadas as rodadas; por rodada: mediana {commit_cost:.1}% ({listed}) (meta: no máximo 15%, p99 abaixo de 5 ms)",
        100.0 * (1.0 - on_rate / buffered_rate)
    );
    println!(
        "custo de esperar o sync (fsync a cada commit): {:.1}% das decisões/s do buffered",
        100.0 * (1.0 - synced_rate / buffered_rate)
    );
    println!(
        "custo do log (commit): {:.1}% das decisões/s, {:+.1}% de CPU por decisão, somadas as {} rodadas",
        100.0 * (1.0 - on_rate / off_rate),
        100.0 * (on_cpu / off_cpu - 1.0),
        costs.len()
    );
    // What the writer thread itself took, which the machine's drift does
    // not blur: its CPU per logged decision, against the process's CPU per
    // decision with the log off.
    let writer_per_decision = writer_cpu / logged_decisions.max(1) as f64;
    println!(
        "  linha de escrita do log: {:.1?} de CPU por decisão, {:.1}% da CPU de uma decisão sem log",
        Duration::from_secs_f64(writer_per_decision),
        100.0 * writer_per_decision / off_cpu
    );
    let (cost, listed) = rounds(&costs);
    println!("  por rodada: mediana {cost:.1}% das decisões/s ({listed})");
    let (cost, listed) = rounds(&cpu_costs);
    println!("  por rodada: mediana {cost:+.1}% de CPU por decisão ({listed})");
    let failures = failures + under_reload.failures;
    assert_eq!(failures, 0, "every answer must be a whole 200 decision");
    for file in [&database, &buffered_database, &synced_database] {
        if postgres.is_some() {
            break;
        }
        for suffix in ["", "-wal", "-shm", ".journal.lock"] {
            let _ = std::fs::remove_file(format!("{file}{suffix}"));
        }
    }
    // The services are never closed: their journals stay behind.
    let process = std::process::id().to_string();
    for entry in std::fs::read_dir(&database_dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("roteiro-load-") && name.contains(&process) && name.contains(".journal") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    for name in ["sem-log", "com-log", "com-log-buffered", "com-log-sync", "recarga"] {
        let _ =
            std::fs::remove_dir_all(std::env::temp_dir().join(format!("roteiro-load-{name}-{}", std::process::id())));
    }
}
