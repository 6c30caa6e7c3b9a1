//! Who gets in and how much each caller may ask: the part of the
//! service's state the access layer, the login and the token refresh
//! take, and nothing else does.

use std::sync::Arc;

use crate::guard::Guard;
use crate::limits::Limits;
use crate::replicas::Registry;

/// The guard and the budgets.
#[derive(Clone)]
pub struct Gate {
    /// Who gets in.
    pub guard: Arc<Guard>,
    /// The budgets: per address, per token, failed logins, in flight.
    pub limits: Arc<Limits>,
    /// This replica among the others on the database, when there is one:
    /// how many share the budgets.
    pub replicas: Option<Arc<Registry>>,
}
