//! The Movidesk stand-in of the tests as a program, for the page's
//! browser test: serves the documented API on a loopback port with the
//! token in `ROTEIRO_MOVIDESK_TOKEN` and one ticket per argument, prints
//! its base URL, and runs until killed.
#![expect(clippy::expect_used, reason = "a test helper fails loudly")]

#[path = "../tests/standin/mod.rs"]
mod standin;

use std::io::Write;

fn main() {
    let token = std::env::var("ROTEIRO_MOVIDESK_TOKEN").expect("ROTEIRO_MOVIDESK_TOKEN");
    let running = standin::StandIn::start(&token, std::time::Duration::from_secs(60));
    for id in std::env::args().skip(1) {
        running.put_ticket(serde_json::json!({
            "id": id,
            "subject": "Dúvida sobre boleto",
            "status": "Novo",
            "clients": [{"id": "c1", "businessName": "Padaria Pão Quente"}],
            "actions": [],
        }));
    }
    println!("{}", running.base());
    std::io::stdout().flush().expect("stdout");
    loop {
        std::thread::park();
    }
}
