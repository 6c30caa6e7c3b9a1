//! The service's state, one part per concern: the desk (the bundle being
//! served, its reloads, the log, the helpdesk, the metrics) and the gate
//! (who gets in, the budgets). A handler or a layer takes only the part it
//! needs (axum's `FromRef`), so no part depends on the whole.

use std::sync::Arc;

use axum::extract::FromRef;

use crate::desk::Desk;
use crate::gate::Gate;
use crate::guard::Guard;
use crate::limits::Limits;
use crate::metrics::Metrics;

/// Everything the service holds.
#[derive(Clone)]
pub struct App {
    /// The bundle being served, the log, the helpdesk, the metrics.
    pub desk: Arc<Desk>,
    /// Who gets in and the budgets.
    pub gate: Gate,
}

impl App {
    /// The state of a service serving `desk` behind `guard` and `limits`.
    pub fn new(desk: Desk, guard: Guard, limits: Limits) -> Self {
        Self {
            desk: Arc::new(desk),
            gate: Gate {
                guard: Arc::new(guard),
                limits: Arc::new(limits),
                replicas: None,
            },
        }
    }

    /// The same state, this replica counted among the others on its
    /// database (the budgets are shared among them).
    #[must_use]
    pub fn counted_in(mut self, registry: Arc<crate::replicas::Registry>) -> Self {
        self.gate.replicas = Some(registry);
        self
    }
}

impl FromRef<App> for Arc<Desk> {
    fn from_ref(app: &App) -> Self {
        app.desk.clone()
    }
}

impl FromRef<App> for Gate {
    fn from_ref(app: &App) -> Self {
        app.gate.clone()
    }
}

impl FromRef<App> for Arc<Guard> {
    fn from_ref(app: &App) -> Self {
        app.gate.guard.clone()
    }
}

impl FromRef<App> for Arc<Limits> {
    fn from_ref(app: &App) -> Self {
        app.gate.limits.clone()
    }
}

impl FromRef<App> for Arc<Metrics> {
    fn from_ref(app: &App) -> Self {
        app.desk.metrics.clone()
    }
}
