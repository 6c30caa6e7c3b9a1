//! One module per subcommand.

pub mod check;
pub mod decide;
pub mod schema;
pub mod test;
