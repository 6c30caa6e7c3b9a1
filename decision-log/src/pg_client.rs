//! A PostgreSQL connection that can be dropped anywhere. The synchronous
//! client closes its session on drop by blocking on a runtime of its own,
//! which panics inside another runtime ("Cannot start a runtime from within
//! a runtime"): a `serve` task that held a connection, or the service's
//! shutdown dropping it, aborted the process on SIGTERM. Here the close
//! runs on a plain thread of its own, whoever drops the connection.

use std::ops::{Deref, DerefMut};

/// A connection to PostgreSQL.
pub struct PgClient(Option<postgres::Client>);

impl PgClient {
    /// Wraps an open connection.
    pub fn new(client: postgres::Client) -> Self {
        Self(Some(client))
    }
}

impl Deref for PgClient {
    type Target = postgres::Client;

    fn deref(&self) -> &postgres::Client {
        // Taken only by Drop.
        self.0
            .as_ref()
            .unwrap_or_else(|| unreachable!("a PgClient holds its connection until dropped"))
    }
}

impl DerefMut for PgClient {
    fn deref_mut(&mut self) -> &mut postgres::Client {
        self.0
            .as_mut()
            .unwrap_or_else(|| unreachable!("a PgClient holds its connection until dropped"))
    }
}

impl Drop for PgClient {
    fn drop(&mut self) {
        let Some(client) = self.0.take() else { return };
        // Joined: the session is over when the drop returns. Without a
        // thread to spare, the socket is left to the process's end rather
        // than closed where closing would abort.
        match std::thread::Builder::new()
            .name("roteiro-pg-close".into())
            .spawn(move || drop(client))
        {
            Ok(closing) => {
                let _ = closing.join();
            }
            Err(err) => tracing::warn!("conexão ao PostgreSQL não fechada: {err}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dropped inside a tokio runtime, as a `serve` task drops it: no
    /// panic, no abort.
    #[test]
    fn a_connection_dropped_inside_a_runtime_closes_without_panicking() {
        let Ok(address) = std::env::var("ROTEIRO_TEST_POSTGRES") else {
            eprintln!("ROTEIRO_TEST_POSTGRES not set: skipped");
            return;
        };
        let client = PgClient::new(postgres::Client::connect(&address, postgres::NoTls).expect("connects"));
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        runtime.block_on(async move { drop(client) });
    }
}
