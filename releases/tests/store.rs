//! Releases stored, approved, activated and rolled back, on a SQLite file
//! and (when `ROTEIRO_TEST_POSTGRES` names one) a fresh PostgreSQL 15
//! database: a failing gate stores nothing, approval takes a second
//! person, a rollback brings back the earlier digest and its decisions.
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test fails loudly on what it did not expect"
)]

#[path = "../../tests/support/postgres.rs"]
mod postgres;

use chrono::{DateTime, TimeZone, Utc};
use roteiro_engine::{Bundle, SourceFile};
use roteiro_releases::{changes, prepare, Releases, State};

fn shipped() -> Vec<SourceFile> {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    Bundle::load_dir(&folder).unwrap().files().to_vec()
}

/// `files` with `from` replaced by `to` in the file at `path`.
fn edited(files: &[SourceFile], path: &str, from: &str, to: &str) -> Vec<SourceFile> {
    let mut files = files.to_vec();
    let file = files.iter_mut().find(|file| file.path == path).unwrap();
    assert!(file.text.contains(from), "{path} has no `{from}`");
    file.text = file.text.replacen(from, to, 1);
    files
}

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, hour, 0, 0).unwrap()
}

/// The route the bundle of the active release gives a full training.
fn route_of_active(releases: &mut Releases) -> String {
    let active = releases.active().unwrap().unwrap();
    let bundle = roteiro_releases::load(&active.version, releases.files(&active.version).unwrap().unwrap()).unwrap();
    assert_eq!(
        bundle.info().version.to_string(),
        active.version,
        "decisions name the release"
    );
    let situation = bundle
        .parse_situation(
            "client: {plan: essencial, plan_active: true, in_onboarding: false, franchise: false}\nrequest: {topic: treinamento, module: financeiro, scope: completo}\n",
            "t",
        )
        .unwrap();
    let now = chrono::DateTime::parse_from_rfc3339("2026-12-08T10:15:00-03:00").unwrap();
    let decision = bundle.decide(&situation, now).unwrap();
    serde_json::to_value(&decision.outputs).unwrap()["route"]
        .as_str()
        .unwrap()
        .to_string()
}

fn the_whole_path(address: &str) {
    let mut releases = Releases::open(address).unwrap();
    let files = shipped();

    // A new rule no test fires: coverage falls below the bundle's 100%.
    let untested = edited(
        &files,
        "procedures/004-agendamento-io.yaml",
        "rules:\n",
        "rules:\n  - id: io.nova_sem_teste\n    section: \"1\"\n    title: Sem teste\n    phase: triagem\n    when: request.topic == \"xml\" && client.franchise\n    actions:\n      - id: io.nova_sem_teste.a\n        text: Confira a nota.\n\n",
    );
    let (gates, draft) = prepare(untested, "sem teste", &[], at(12));
    assert!(draft.is_none(), "a failing gate gives nothing to publish");
    let coverage = gates
        .gates
        .iter()
        .find(|gate| gate.name.contains("cobertura"))
        .unwrap_or_else(|| panic!("{gates:?}"));
    assert!(!coverage.passed);
    assert!(
        coverage.failures[0].contains("io.nova_sem_teste"),
        "{:?}",
        coverage.failures
    );
    // A broken test expectation fails its gate with the case's name.
    let wrong = edited(
        &files,
        "tests/004-agendamento-io.yaml",
        "outputs: {route: io, io_scheduling: true}",
        "outputs: {route: gr, io_scheduling: true}",
    );
    let (gates, draft) = prepare(wrong, "teste errado", &[], at(12));
    assert!(draft.is_none());
    let tests = gates.gates.iter().find(|gate| gate.name.contains("testes")).unwrap();
    assert!(tests.failures[0].contains("cenário 1"), "{:?}", tests.failures);
    assert!(releases.list().unwrap().is_empty(), "nothing stored");
    assert!(releases.active().unwrap().is_none());

    // The shipped bundle asks for approval: published, it waits.
    let (gates, draft) = prepare(files.clone(), "primeira versão", &[], at(12));
    assert!(gates.passed(), "{gates:?}");
    let first = releases.publish(&draft.unwrap(), "ana", at(12)).unwrap();
    assert_eq!(first.version, "2026.12.07-1");
    assert_eq!(first.state, State::Proposta);
    assert!(releases.active().unwrap().is_none(), "a proposed release is not served");
    let own = releases.approve(&first.version, "ana", "", at(13)).unwrap_err();
    assert!(own.to_string().contains("outra pessoa"), "{own}");
    let approved = releases.approve(&first.version, "bruno", "conferido", at(13)).unwrap();
    assert_eq!(approved.state, State::Ativa);
    assert_eq!(approved.approved_by.as_deref(), Some("bruno"));
    assert_eq!(route_of_active(&mut releases), "io");

    // The same files again: nothing to publish.
    let (_, same) = prepare(files.clone(), "de novo", &[], at(12));
    assert!(releases.publish(&same.unwrap(), "ana", at(14)).is_err());

    // A second version: one text reworded.
    let second_files = edited(
        &files,
        "procedures/004-agendamento-io.yaml",
        "frisando, que",
        "com clareza, que",
    );
    let (_, draft) = prepare(second_files.clone(), "texto mais claro", &[], at(12));
    let second = releases.publish(&draft.unwrap(), "ana", at(15)).unwrap();
    assert_eq!(second.version, "2026.12.07-2");
    releases.approve(&second.version, "bruno", "", at(15)).unwrap();
    assert_eq!(releases.active().unwrap().unwrap().digest, second.digest);
    let said = changes::between(&files, &second_files);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].contains("regra `io.agendar`") && said[0].contains("com clareza"),
        "{said:?}"
    );

    // Rolled back: the first digest again, with who and why.
    assert!(
        releases.roll_back(&first.version, "bruno", " ", at(16)).is_err(),
        "a rollback says why"
    );
    let back = releases
        .roll_back(&first.version, "bruno", "texto confundiu os analistas", at(16))
        .unwrap();
    assert_eq!(back.state, State::Ativa);
    assert_eq!(releases.active().unwrap().unwrap().digest, first.digest);
    assert_eq!(route_of_active(&mut releases), "io");
    let events = releases.events(10).unwrap();
    assert_eq!(events[0].kind, "revertida");
    assert_eq!(events[0].who, "bruno");
    assert_eq!(events[0].note, "texto confundiu os analistas");
    let listed = releases.list().unwrap();
    assert_eq!(
        listed.iter().map(|r| (r.version.as_str(), r.state)).collect::<Vec<_>>(),
        [("2026.12.07-2", State::Publicada), ("2026.12.07-1", State::Ativa)]
    );
    assert!(
        releases.roll_back(&first.version, "bruno", "de novo", at(17)).is_err(),
        "already active"
    );
}

#[test]
fn releases_on_a_sqlite_file() {
    let folder = std::env::temp_dir().join(format!("roteiro-releases-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    the_whole_path(folder.join("log.db").to_str().unwrap());
    let _ = std::fs::remove_dir_all(folder);
}

#[test]
fn releases_on_postgres() {
    let Some(shared) = postgres::address() else { return };
    let (address, _) = postgres::fresh_database(&shared, "releases");
    the_whole_path(&address);
}
