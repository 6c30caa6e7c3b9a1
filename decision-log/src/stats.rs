//! `roteiro stats`: what the log says about real traffic.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::Record;

/// Counts over a set of logged decisions.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// Decisions counted.
    pub decisions: usize,
    /// Decisions by route (`nenhuma` when none was set).
    pub by_route: BTreeMap<String, usize>,
    /// Decisions by source document (procedure) of a fired rule.
    pub by_document: BTreeMap<String, usize>,
    /// Rules by fire count, most fired first.
    pub rules: Vec<(String, usize)>,
    /// Rules of the bundle that never fired in the period.
    pub never_fired: Vec<String>,
    /// Missing facts by how often analysts were asked, most first.
    pub most_missing: Vec<(String, usize)>,
    /// The slowest decisions: (record id, microseconds), slowest first.
    pub slowest: Vec<(i64, i64)>,
}

fn ranked(counts: BTreeMap<String, usize>) -> Vec<(String, usize)> {
    let mut list: Vec<(String, usize)> = counts.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    list
}

/// The numbers of `records`; `rule_ids` are the bundle's rules, for the
/// ones that never fired.
pub fn stats<'a>(records: &[Record], rule_ids: impl Iterator<Item = &'a str>) -> Stats {
    let mut stats = Stats {
        decisions: records.len(),
        ..Stats::default()
    };
    let mut rules: BTreeMap<String, usize> = BTreeMap::new();
    let mut missing: BTreeMap<String, usize> = BTreeMap::new();
    for record in records {
        let route = record.route.clone().unwrap_or_else(|| "nenhuma".into());
        *stats.by_route.entry(route).or_default() += 1;
        for document in &record.documents {
            *stats.by_document.entry(document.clone()).or_default() += 1;
        }
        for rule in &record.fired {
            *rules.entry(rule.clone()).or_default() += 1;
        }
        for fact in &record.missing {
            *missing.entry(fact.clone()).or_default() += 1;
        }
    }
    stats.never_fired = rule_ids
        .filter(|id| !rules.contains_key(*id))
        .map(str::to_string)
        .collect();
    stats.rules = ranked(rules);
    stats.most_missing = ranked(missing);
    let mut slowest: Vec<(i64, i64)> = records.iter().map(|r| (r.id, r.latency_us)).collect();
    slowest.sort_by_key(|(_, micros)| std::cmp::Reverse(*micros));
    slowest.truncate(10);
    stats.slowest = slowest;
    stats
}
