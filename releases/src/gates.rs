//! The gates a bundle passes before it may be published: it loads, the
//! static analysis (`check --strict`) and the writing rules (`lint`) find
//! nothing, every policy test passes and the tests fire at least the share
//! of rules the bundle asks (`publishing.coverage_min`). Each failure is
//! said in Portuguese with its file and line, as the commands say it.

use roteiro_engine::{Bundle, SourceFile};
use serde::{Deserialize, Serialize};

/// Most failures kept per gate (all are counted).
const MAX_FAILURES: usize = 50;

/// One gate and what it found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gate {
    /// What it checks, in words.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// What failed, each with its file and line.
    pub failures: Vec<String>,
}

/// Every gate of one bundle, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gates {
    /// The gates.
    pub gates: Vec<Gate>,
    /// Share of the rules the policy tests fire, when they ran.
    pub coverage: Option<f64>,
}

impl Gates {
    /// Whether every gate passed.
    pub fn passed(&self) -> bool {
        self.gates.iter().all(|gate| gate.passed)
    }
}

fn gate(name: &str, failures: Vec<String>) -> Gate {
    let mut failures = failures;
    if failures.len() > MAX_FAILURES {
        let more = failures.len() - MAX_FAILURES;
        failures.truncate(MAX_FAILURES);
        failures.push(format!("... e mais {more}"));
    }
    Gate {
        name: name.to_string(),
        passed: failures.is_empty(),
        failures,
    }
}

/// The bundle of `files` through every gate; the bundle itself when it
/// loads.
pub fn run(files: Vec<SourceFile>) -> (Gates, Option<Bundle>) {
    let bundle = match Bundle::from_files(files) {
        Ok(bundle) => bundle,
        Err(err) => {
            let problems = err.problems.iter().map(ToString::to_string).collect();
            let gates = Gates {
                gates: vec![gate("o pacote carrega", problems)],
                coverage: None,
            };
            return (gates, None);
        }
    };
    let mut gates = vec![gate("o pacote carrega", Vec::new())];
    let warnings = bundle
        .analyze()
        .iter()
        .map(|w| format!("{}: aviso [{}] `{}`: {}", w.location, w.kind, w.item, w.message))
        .collect();
    gates.push(gate("check --strict sem avisos", warnings));
    let findings = bundle
        .lint()
        .iter()
        .map(|f| {
            format!(
                "{}: [{}] `{}` › `{}`: {}",
                f.location, f.lint, f.rule, f.item, f.message
            )
        })
        .collect();
    gates.push(gate("lint sem problemas de escrita", findings));
    let coverage = match bundle.run_tests(None, None) {
        Ok(report) => {
            let failed = report
                .cases
                .iter()
                .filter(|case| !case.passed())
                .map(|case| format!("{} › {}: {}", case.file, case.name, case.failures.join("; ")))
                .collect();
            gates.push(gate("todos os testes de política passam", failed));
            let minimum = bundle.publishing().coverage_min;
            let below = (report.coverage < minimum)
                .then(|| {
                    format!(
                        "cobertura de regras {:.1}% abaixo do mínimo {:.1}% (bundle.yaml, publishing.coverage_min); regras que nenhum teste dispara: {}",
                        report.coverage,
                        minimum,
                        report.never_fired.join(", ")
                    )
                })
                .into_iter()
                .collect();
            gates.push(gate("cobertura de regras no mínimo do pacote", below));
            Some(report.coverage)
        }
        Err(err) => {
            let problems = err.problems.iter().map(ToString::to_string).collect();
            gates.push(gate("todos os testes de política passam", problems));
            None
        }
    };
    (Gates { gates, coverage }, Some(bundle))
}
