//! The PostgreSQL the suites share: `ROTEIRO_TEST_POSTGRES`, which
//! `.ci/run` sets after starting the machine's PostgreSQL 15. Each crate's
//! tests include this file; the database outlives every run, so what a test
//! writes there is named uniquely to its run.
#![allow(dead_code, reason = "each test crate uses a different part")]

/// The database's address, or `None` after saying the test is skipped.
pub fn address() -> Option<String> {
    let address = std::env::var("ROTEIRO_TEST_POSTGRES")
        .ok()
        .filter(|address| !address.is_empty());
    if address.is_none() {
        eprintln!("skipped: ROTEIRO_TEST_POSTGRES names no PostgreSQL (.ci/run starts one)");
    }
    address
}

/// Ten digits no earlier run is likely to have used: the process id (which
/// comes back) with the clock's nanoseconds.
pub fn unique() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| u64::from(elapsed.subsec_nanos()));
    (u64::from(std::process::id()) * 1_000_000_000 + nanos) % 10_000_000_000
}

/// A ticket number of this run's own (eleven digits); `lane` (1 to 9)
/// keeps the tickets of one run apart.
pub fn ticket(lane: u8) -> String {
    format!("{lane}{:010}", unique())
}

/// A new database on the server of `shared`, for a test that needs one of
/// its own (releases and replicas are global to a database): its address
/// and its name.
#[allow(clippy::panic, reason = "a test without its database cannot go on")]
pub fn fresh_database(shared: &str, prefix: &str) -> (String, String) {
    let name = format!("roteiro_{prefix}_{}", unique());
    roteiro_decision_log::db::Db::open(shared)
        .and_then(|mut db| db.batch(&format!("CREATE DATABASE {name}")))
        .unwrap_or_else(|err| panic!("could not create the database {name}: {err}"));
    let (server, _) = shared.rsplit_once('/').unwrap_or((shared, ""));
    (format!("{server}/{name}"), name)
}
