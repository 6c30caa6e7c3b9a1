//! One module per subcommand.

pub mod ask;
pub mod case;
pub mod check;
pub mod decide;
pub mod diff;
pub mod explain;
pub mod lint;
pub mod log;
pub mod push;
pub mod release;
pub mod replicas;
pub mod schema;
pub mod serve;
pub mod stats;
pub mod test;
pub mod token;
pub mod watch;
