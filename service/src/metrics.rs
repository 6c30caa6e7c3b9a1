//! `/metrics` in the Prometheus text format, counted by hand: a few
//! counters and one histogram do not need a metrics library.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 10] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0];

#[derive(Default)]
struct Counts {
    decisions_by_route: BTreeMap<String, u64>,
    rule_fired: BTreeMap<String, u64>,
    latency_buckets: [u64; BUCKETS.len()],
    latency_count: u64,
    latency_sum: f64,
    requests_by_status: BTreeMap<u16, u64>,
    reloads: u64,
    failed_reloads: u64,
}

/// The service's counters.
#[derive(Default)]
pub struct Metrics {
    counts: Mutex<Counts>,
}

impl Metrics {
    fn with<R>(&self, f: impl FnOnce(&mut Counts) -> R) -> R {
        f(&mut self.counts.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// One decision: its route (or `nenhuma`), the rules it fired, how long.
    pub fn decided(&self, route: &str, fired: impl Iterator<Item = String>, took: Duration) {
        let seconds = took.as_secs_f64();
        self.with(|counts| {
            *counts.decisions_by_route.entry(route.to_string()).or_default() += 1;
            for rule in fired {
                *counts.rule_fired.entry(rule).or_default() += 1;
            }
            for (bucket, bound) in counts.latency_buckets.iter_mut().zip(BUCKETS) {
                if seconds <= bound {
                    *bucket += 1;
                }
            }
            counts.latency_count += 1;
            counts.latency_sum += seconds;
        });
    }

    /// One answered request.
    pub fn answered(&self, status: u16) {
        self.with(|counts| *counts.requests_by_status.entry(status).or_default() += 1);
    }

    /// One reload, accepted or refused.
    pub fn reloaded(&self, accepted: bool) {
        self.with(|counts| {
            if accepted {
                counts.reloads += 1;
            } else {
                counts.failed_reloads += 1;
            }
        });
    }

    /// Everything, in the Prometheus text format.
    pub fn render(&self) -> String {
        self.with(|counts| {
            let mut out = String::new();
            let _ = writeln!(out, "# HELP roteiro_decisions_total Decisões tomadas, por rota.");
            let _ = writeln!(out, "# TYPE roteiro_decisions_total counter");
            for (route, n) in &counts.decisions_by_route {
                let _ = writeln!(out, "roteiro_decisions_total{{route=\"{route}\"}} {n}");
            }
            let _ = writeln!(out, "# HELP roteiro_decision_seconds Tempo de cada decisão.");
            let _ = writeln!(out, "# TYPE roteiro_decision_seconds histogram");
            for (bound, n) in BUCKETS.iter().zip(counts.latency_buckets) {
                let _ = writeln!(out, "roteiro_decision_seconds_bucket{{le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(
                out,
                "roteiro_decision_seconds_bucket{{le=\"+Inf\"}} {}",
                counts.latency_count
            );
            let _ = writeln!(out, "roteiro_decision_seconds_sum {}", counts.latency_sum);
            let _ = writeln!(out, "roteiro_decision_seconds_count {}", counts.latency_count);
            let _ = writeln!(out, "# HELP roteiro_rule_fired_total Vezes que cada regra disparou.");
            let _ = writeln!(out, "# TYPE roteiro_rule_fired_total counter");
            for (rule, n) in &counts.rule_fired {
                let _ = writeln!(out, "roteiro_rule_fired_total{{rule=\"{rule}\"}} {n}");
            }
            let _ = writeln!(
                out,
                "# HELP roteiro_requests_total Requisições respondidas, por status."
            );
            let _ = writeln!(out, "# TYPE roteiro_requests_total counter");
            for (status, n) in &counts.requests_by_status {
                let _ = writeln!(out, "roteiro_requests_total{{status=\"{status}\"}} {n}");
            }
            let _ = writeln!(out, "# HELP roteiro_reloads_total Recargas do pacote aceitas.");
            let _ = writeln!(out, "# TYPE roteiro_reloads_total counter");
            let _ = writeln!(out, "roteiro_reloads_total {}", counts.reloads);
            let _ = writeln!(
                out,
                "# HELP roteiro_reload_failures_total Recargas recusadas (pacote inválido)."
            );
            let _ = writeln!(out, "# TYPE roteiro_reload_failures_total counter");
            let _ = writeln!(out, "roteiro_reload_failures_total {}", counts.failed_reloads);
            out
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_render_as_prometheus_text() {
        let metrics = Metrics::default();
        metrics.decided("io", ["io.agendar".to_string()].into_iter(), Duration::from_micros(700));
        metrics.reloaded(false);
        let text = metrics.render();
        assert!(text.contains("roteiro_decisions_total{route=\"io\"} 1"));
        assert!(text.contains("roteiro_decision_seconds_bucket{le=\"0.0005\"} 0"));
        assert!(text.contains("roteiro_decision_seconds_bucket{le=\"0.001\"} 1"));
        assert!(text.contains("roteiro_rule_fired_total{rule=\"io.agendar\"} 1"));
        assert!(text.contains("roteiro_reload_failures_total 1"));
    }
}
