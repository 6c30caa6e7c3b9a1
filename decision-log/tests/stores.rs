//! The log's stores through the library: decisions of the shipped bundle
//! appended to a real SQLite file (and to PostgreSQL 15 when
//! `ROTEIRO_TEST_POSTGRES` names one), read back after reopening, filtered
//! and pruned. `tests/decision_log.rs` at the root drives the same through
//! `roteiro serve`.
#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on what it did not expect"
)]

#[path = "../../tests/support/postgres.rs"]
mod postgres;
use std::path::PathBuf;

use chrono::{DateTime, Duration, Utc};
use roteiro_decision_log::{open, Filter, Made, Row};
use roteiro_engine::Bundle;

const SITUATIONS: [&str; 3] = [
    "now: 2026-12-08T10:15:00-03:00\nanalyst: {name: Carla}\ncontact: {name: Maria Souza, phone: '(21) 99999-0000'}\nclient: {plan_active: true, in_onboarding: true}\nrequest: {topic: treinamento, scope: completo}\n",
    "now: 2026-12-08T10:20:00-03:00\nrequest: {topic: configuracao_sat}\n",
    "now: 2026-12-08T10:25:00-03:00\ncontact: {kind: nao_cliente}\nrequest: {topic: bug}\n",
];

/// The rows of the three situations, told apart by their latency.
fn rows(bundle: &Bundle, first_latency_us: u64) -> Vec<Row> {
    SITUATIONS
        .iter()
        .zip(first_latency_us..)
        .map(|(text, latency)| {
            let situation = bundle.parse_situation(text, "s.yaml").expect("valid");
            let now = situation.now().expect("pinned");
            let decision = bundle.decide(&situation, now).expect("decides");
            let made = Made {
                origin: "teste",
                now,
                latency: std::time::Duration::from_micros(latency),
                keep_personal: false,
                analyst: None,
            };
            Row::of(bundle, &situation, &decision, made)
        })
        .collect()
}

fn shipped() -> Bundle {
    Bundle::load_dir(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policies")).expect("loads")
}

/// Appends the three rows, reopens the database and checks what came back.
fn round_trip(address: &str, first_latency_us: u64) -> DateTime<Utc> {
    let bundle = shipped();
    let before = Utc::now() - Duration::seconds(1);
    open(address)
        .expect("opens")
        .append(&rows(&bundle, first_latency_us))
        .expect("appends");
    let mut store = open(address).expect("reopens");
    let since = Filter {
        since: Some(before),
        ..Filter::default()
    };
    let ours: Vec<_> = (store.read(&since).expect("reads").into_iter())
        .filter(|record| record.origin == "teste" && record.latency_us >= first_latency_us as i64)
        .collect();
    assert_eq!(ours.len(), 3, "{ours:#?}");
    let first = &ours[0];
    assert_eq!(first.route.as_deref(), Some("gr"));
    assert_eq!(first.analyst.as_deref(), Some("Carla"));
    assert_eq!(first.decided_as_of, "2026-12-08T10:15:00-03:00");
    assert_eq!(first.bundle_digest, bundle.info().digest.to_string());
    assert!(first.fired.iter().any(|rule| rule == "io.filtro.onboarding"));
    assert!(first.documents.iter().any(|doc| doc.starts_with("004_")));
    assert_eq!(first.situation["contact"]["name"], "***", "personal facts masked");
    assert_eq!(first.situation["contact"]["phone"], "***");
    assert_eq!(ours[2].route.as_deref(), Some("financeiro"));
    assert!(ours[2].missing.iter().any(|fact| fact == "billing.payment_confirmed"));
    let financeiro = Filter {
        since: Some(before),
        route: Some("financeiro".into()),
        ..Filter::default()
    };
    assert!(store
        .read(&financeiro)
        .expect("reads")
        .iter()
        .all(|record| record.route.as_deref() == Some("financeiro")));
    before
}

#[test]
fn decisions_written_to_a_sqlite_file_read_back_after_reopening_and_prune() {
    let folder = std::env::temp_dir().join(format!("roteiro-log-stores-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("folder");
    let file = folder.join("log.db");
    let address = file.to_str().expect("utf-8 path");
    round_trip(address, 1);
    assert!(file.is_file(), "a real file on disk");
    let mut store = open(address).expect("reopens");
    assert_eq!(store.prune(Utc::now() + Duration::seconds(1)).expect("prunes"), 3);
    assert!(store.read(&Filter::default()).expect("reads").is_empty());
    let _ = std::fs::remove_dir_all(&folder);
}

#[test]
fn decisions_written_to_postgresql_read_back_after_reopening() {
    let Some(address) = postgres::address() else { return };
    // Other tests share this database: only our rows are looked at.
    round_trip(&address, 1_000_000 + u64::from(std::process::id()));
    // And none is left behind, whatever the clock said when they were
    // written (the suite also runs under a faked future clock, and a row
    // from the future would outlive the next run's pruning): the log test
    // that counts rows runs in another binary, never at the same time.
    let mut store = open(&address).expect("reopens");
    store.prune(Utc::now() + Duration::days(365 * 100)).expect("prunes");
}

/// Collects rows, keeping personal facts or not.
struct Collect(roteiro_decision_log::Logging, std::sync::Mutex<Vec<Row>>);

impl roteiro_decision_log::Recorder for Collect {
    fn logging(&self) -> roteiro_decision_log::Logging {
        self.0
    }

    fn record(&self, row: Row) -> roteiro_decision_log::Receipt {
        self.1.lock().unwrap().push(row);
        roteiro_decision_log::Receipt::settled(true)
    }
}

#[test]
fn decide_and_record_hands_one_row_per_decision_only_to_a_recorder_that_records() {
    use roteiro_decision_log::{decide_and_record, Logging};
    let bundle = shipped();
    let situation = bundle.parse_situation(SITUATIONS[0], "s.yaml").expect("valid");
    let clock = chrono::DateTime::parse_from_rfc3339("2027-01-01T00:00:00-03:00").unwrap();
    for (keep_personal, name) in [(false, "***"), (true, "Maria Souza")] {
        let keeps = Logging::On { keep_personal };
        let recorder = Collect(keeps, std::sync::Mutex::default());
        let decided = decide_and_record(&bundle, &situation, clock, "ask", &recorder).expect("decides");
        assert_eq!(decided.decision.outputs["route"], "gr");
        let rows = recorder.1.into_inner().unwrap();
        assert_eq!(rows.len(), 1);
        let record = rows[0].record();
        assert_eq!(record.origin, "ask");
        assert_eq!(record.situation["contact"]["name"], name);
        // The situation's own moment wins over the one given.
        assert_eq!(record.decided_as_of, "2026-12-08T10:15:00-03:00");
    }
    let silent = Collect(Logging::Off, std::sync::Mutex::default());
    decide_and_record(&bundle, &situation, clock, "ask", &silent).expect("decides");
    assert!(
        silent.1.into_inner().unwrap().is_empty(),
        "no row built when nothing records"
    );
    let none: Option<Collect> = None;
    assert!(decide_and_record(&bundle, &situation, clock, "decide", &none).is_ok());
}

#[cfg(unix)]
#[test]
fn a_new_log_its_wal_and_its_journal_are_readable_by_their_owner_alone() {
    use std::os::unix::fs::PermissionsExt;
    let folder = std::env::temp_dir().join(format!("roteiro-private-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    let database = folder.join("roteiro.db");
    let address = database.to_str().unwrap().to_string();
    let writer = roteiro_decision_log::LogWriter::open(&address).expect("opens");
    let bundle = shipped();
    for row in rows(&bundle, 1) {
        writer.log(row);
    }
    assert!(writer.flush(std::time::Duration::from_secs(10)), "written");
    // While the writer lives: the database, its WAL and shared memory,
    // and the journal beside them.
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&folder).unwrap() {
        let entry = entry.unwrap();
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        let name = entry.file_name().to_string_lossy().into_owned();
        assert_eq!(mode, 0o600, "{name} is {mode:o}");
        seen.push(name);
    }
    assert!(seen.iter().any(|name| name == "roteiro.db"), "{seen:?}");
    assert!(seen.iter().any(|name| name == "roteiro.db-wal"), "{seen:?}");
    assert!(seen.iter().any(|name| name.contains("journal")), "{seen:?}");
    writer.close();
    std::fs::remove_dir_all(folder).unwrap();
}
