//! Cases: a helpdesk ticket's situation as it grows over days, everything
//! that happened to it, and the follow-ups it waits on, in the decision
//! log's database. `store` keeps them (SQLite or PostgreSQL, optimistic
//! versions); `desk` works a case with a bundle: opens it, merges answers,
//! decides again and keeps its follow-ups in step with each decision.

mod desk;
mod store;

pub use desk::{CaseDesk, CaseView, DeskError};
pub use store::{ticket, Case, CaseError, CaseEvent, CaseFollowUp, Cases};
