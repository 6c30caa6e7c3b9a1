//! One push queue worked by several processes at once, as replicas of
//! `serve` behind a balancer work it: every push written exactly once,
//! oldest first by number, one live push per marker however many
//! confirmations arrive together; on a SQLite file and (when
//! `ROTEIRO_TEST_POSTGRES` names one) PostgreSQL 15.
#![expect(clippy::unwrap_used, reason = "a test fails loudly on what it did not expect")]

#[path = "../../tests/support/postgres.rs"]
mod postgres;

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier, Mutex};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use roteiro_decision_log::cases::Cases;
use roteiro_decision_log::db::Db;
use roteiro_helpdesk::{deliver_due, Helpdesk, HelpdeskError, NewAction, Preview, PushState, Pushes, Ticket};

/// A helpdesk in memory that counts every write per marker, each write
/// slow enough for two workers to overlap.
#[derive(Default)]
struct Counting {
    written: Mutex<BTreeMap<String, usize>>,
    /// The markers in the order their writes arrived.
    order: Mutex<Vec<String>>,
}

impl Helpdesk for Counting {
    fn ticket(&self, id: &str) -> Result<Ticket, HelpdeskError> {
        Err(HelpdeskError::NotFound(id.to_string()))
    }

    fn find_action(&self, _id: &str, marker: &str) -> Result<Option<String>, HelpdeskError> {
        let written = self.written.lock().unwrap();
        Ok(written.contains_key(marker).then(|| format!("acao-{marker}")))
    }

    fn write_action(&self, _id: &str, action: &NewAction) -> Result<(), HelpdeskError> {
        std::thread::sleep(std::time::Duration::from_millis(5));
        *self.written.lock().unwrap().entry(action.marker.clone()).or_default() += 1;
        self.order.lock().unwrap().push(action.marker.clone());
        Ok(())
    }
}

fn preview(ticket: &str, marker: &str) -> Preview {
    Preview {
        ticket: ticket.into(),
        public: false,
        text: format!("texto\n{marker}"),
        marker: marker.into(),
    }
}

/// This run's moments: in 1990 plus a few days of its own, so pushes of
/// other tests (in 2026) are never due, and any left by an earlier run of
/// this test are set aside first.
fn era(address: &str) -> DateTime<Utc> {
    let mut db = Db::open(address).unwrap();
    db.execute(
        "UPDATE pushes SET state = 'falhou' WHERE state = 'fila' AND next_try_at < '2000'",
        &[],
    )
    .unwrap();
    Utc.with_ymd_and_hms(1990, 1, 1, 0, 0, 0).unwrap()
        + TimeDelta::seconds(i64::try_from(postgres::unique() % 1_000_000).unwrap())
}

fn two_workers_write_every_push_once(address: &str, tag: &str) {
    let at = era(address);
    let mut pushes = Pushes::open(address).unwrap();
    let markers: Vec<String> = (0..20).map(|n| format!("[roteiro {tag}-{n}]")).collect();
    let ids: Vec<i64> = markers
        .iter()
        .map(|marker| {
            pushes
                .enqueue(&preview(&format!("9{tag}"), marker), "Ana", at)
                .unwrap()
                .id
        })
        .collect();
    let helpdesk = Arc::new(Counting::default());
    let start = Arc::new(Barrier::new(2));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (helpdesk, start, address) = (helpdesk.clone(), start.clone(), address.to_string());
            std::thread::spawn(move || {
                let (mut pushes, mut cases) = (Pushes::open(&address).unwrap(), Cases::open(&address).unwrap());
                start.wait();
                deliver_due(helpdesk.as_ref(), &mut pushes, &mut cases, &|| at)
                    .unwrap()
                    .len()
            })
        })
        .collect();
    let tried: usize = workers.into_iter().map(|worker| worker.join().unwrap()).sum();
    assert_eq!(tried, 20, "each push tried by one worker only");
    let written = helpdesk.written.lock().unwrap().clone();
    assert_eq!(written.len(), 20);
    assert!(written.values().all(|count| *count == 1), "{written:?}");
    for id in &ids {
        assert_eq!(pushes.get(*id).unwrap().unwrap().state, PushState::Feito);
    }
    let listed: Vec<i64> = pushes
        .of_ticket(&format!("9{tag}"))
        .unwrap()
        .iter()
        .map(|push| push.id)
        .collect();
    assert_eq!(listed, ids, "a ticket's pushes listed by number");
    // Oldest first by number: push 2 before push 10 (text order would not).
    let order = helpdesk.order.lock().unwrap().clone();
    let place = |n: usize| order.iter().position(|marker| *marker == markers[n]).unwrap();
    assert!(place(2) < place(10), "{order:?}");
}

fn simultaneous_confirmations_queue_one_push(address: &str, tag: &str) {
    let at = era(address);
    let marker = format!("[roteiro {tag}-confirma]");
    let start = Arc::new(Barrier::new(4));
    let confirming: Vec<_> = (0..4)
        .map(|_| {
            let (start, address, marker, ticket) =
                (start.clone(), address.to_string(), marker.clone(), format!("8{tag}"));
            std::thread::spawn(move || {
                let mut pushes = Pushes::open(&address).unwrap();
                start.wait();
                pushes.enqueue(&preview(&ticket, &marker), "Ana", at).unwrap().id
            })
        })
        .collect();
    let ids: Vec<i64> = confirming.into_iter().map(|thread| thread.join().unwrap()).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "one push for one marker: {ids:?}");
    let mut pushes = Pushes::open(address).unwrap();
    assert_eq!(pushes.of_ticket(&format!("8{tag}")).unwrap().len(), 1);
}

fn a_claim_is_held_until_it_runs_out(address: &str, tag: &str) {
    let at = era(address);
    let (mut one, mut two) = (Pushes::open(address).unwrap(), Pushes::open(address).unwrap());
    let queued = one
        .enqueue(
            &preview(&format!("7{tag}"), &format!("[roteiro {tag}-claim]")),
            "Ana",
            at,
        )
        .unwrap();
    let claimed = one.claim_next("replica-um", at).unwrap().unwrap();
    assert_eq!(claimed.id, queued.id);
    assert!(
        two.claim_next("replica-dois", at).unwrap().is_none(),
        "held by the first"
    );
    let later = at + TimeDelta::minutes(roteiro_helpdesk::CLAIM_MINUTES);
    let taken = two.claim_next("replica-dois", later).unwrap().unwrap();
    assert_eq!(taken.id, queued.id, "a claim whose holder died is taken over");
    // Set aside, so no later run finds it due.
    Db::open(address)
        .unwrap()
        .execute("UPDATE pushes SET state = 'falhou' WHERE claim = 'replica-dois'", &[])
        .unwrap();
}

fn sqlite_file(name: &str) -> (std::path::PathBuf, String) {
    let folder = std::env::temp_dir().join(format!("roteiro-claims-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    let address = folder.join("log.db").to_string_lossy().into_owned();
    (folder, address)
}

#[test]
fn two_workers_on_a_sqlite_file_write_every_push_once_oldest_first() {
    let (folder, address) = sqlite_file("workers");
    two_workers_write_every_push_once(&address, "1");
    simultaneous_confirmations_queue_one_push(&address, "1");
    a_claim_is_held_until_it_runs_out(&address, "1");
    std::fs::remove_dir_all(folder).unwrap();
}

#[test]
fn two_workers_on_postgres_write_every_push_once_oldest_first() {
    let Some(address) = postgres::address() else { return };
    let tag = postgres::unique().to_string();
    two_workers_write_every_push_once(&address, &tag);
    simultaneous_confirmations_queue_one_push(&address, &tag);
    a_claim_is_held_until_it_runs_out(&address, &tag);
}
