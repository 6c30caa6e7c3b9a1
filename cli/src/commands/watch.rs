//! `roteiro watch`: check, lint and test again whenever a bundle file changes.
//!
//! It polls the files' sizes and modification times instead of using an OS
//! notification crate: a bundle is a few dozen files, and polling twice a
//! second costs nothing while keeping the dependency tree small.

use std::path::{Path, PathBuf};
use std::time::Duration;

use roteiro_engine::{folder_fingerprint as fingerprint, Bundle};

use crate::commands::{check, lint};
use crate::failure::Failure;
use crate::render::Style;
use crate::Status;

/// Arguments of `roteiro watch`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Pasta do pacote de políticas.
    #[arg(long, default_value = "policies")]
    policies: PathBuf,
    /// De quanto em quanto tempo olhar as mudanças, em milissegundos.
    #[arg(long, default_value_t = 500)]
    interval_ms: u64,
    /// Para depois de tantas rodadas (padrão: nunca).
    #[arg(long)]
    max_runs: Option<u32>,
}

/// One round of check, lint and test; its status.
fn round(dir: &Path, style: Style) -> Status {
    let bundle = match Bundle::load_dir(dir) {
        Ok(bundle) => bundle,
        Err(err) => {
            say_raw!("{}", crate::failure::render_error(&err));
            return Status::InvalidBundle;
        }
    };
    let warnings = bundle.analyze();
    say_raw!("{}", check::render(&warnings, style));
    say!(
        "check: {} regras, {} aviso(s)",
        bundle.rule_ids().count(),
        warnings.len()
    );
    let findings = bundle.lint();
    say_raw!("{}", lint::render(&findings, style));
    match bundle.run_tests(None, None) {
        Ok(report) => {
            for case in report.cases.iter().filter(|c| !c.passed()) {
                say!("{} {} › {}", style.bad("FAIL"), case.file, case.name);
                for failure in &case.failures {
                    say!("       - {failure}");
                }
            }
            say!(
                "test: {} passed, {} failed, cobertura {:.1}%",
                report.cases.len() - report.failed(),
                report.failed(),
                report.coverage
            );
            if report.failed() > 0 || !findings.is_empty() || !warnings.is_empty() {
                Status::Failed
            } else {
                Status::Ok
            }
        }
        Err(err) => {
            say_raw!("{err}");
            Status::InvalidBundle
        }
    }
}

/// Runs the command until interrupted (or `--max-runs`).
pub fn run(args: &Args) -> Result<Status, Failure> {
    let style = Style::detect();
    let mut runs = 0;
    let mut last = None;
    loop {
        let current = fingerprint(&args.policies);
        if last.as_ref() != Some(&current) {
            say!("{}", style.heading(&format!("── {} ──", args.policies.display())));
            let status = round(&args.policies, style);
            runs += 1;
            if args.max_runs.is_some_and(|max| runs >= max) {
                return Ok(status);
            }
            last = Some(current);
        }
        std::thread::sleep(Duration::from_millis(args.interval_ms));
    }
}

#[cfg(test)]
mod tests {
    use roteiro_engine::folder_fingerprint as fingerprint;

    #[test]
    fn fingerprint_changes_when_a_file_changes() {
        let dir = std::env::temp_dir().join(format!("roteiro-watch-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("procedures")).expect("folder");
        std::fs::write(dir.join("procedures/a.yaml"), "a: 1\n").expect("write");
        let before = fingerprint(&dir);
        std::fs::write(dir.join("procedures/a.yaml"), "a: 22\n").expect("write");
        assert_ne!(before, fingerprint(&dir));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
