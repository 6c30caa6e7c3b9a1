//! `roteiro test`: run policy tests and report rule coverage.

use std::path::{Path, PathBuf};

use roteiro_engine::SourceFile;

use crate::args::{BundleArgs, MomentArgs};
use crate::failure::Failure;
use crate::render::Style;
use crate::Status;

/// Arguments of `roteiro test`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Arquivo ou pasta de testes (padrão: o tests/ do próprio pacote).
    path: Option<PathBuf>,
    #[command(flatten)]
    bundle: BundleArgs,
    /// Every case decided as of `--now`, over each case's own.
    #[command(flatten)]
    moment: MomentArgs,
    /// Falha quando menos que esta porcentagem das regras dispara em algum teste.
    #[arg(long)]
    coverage_min: Option<f64>,
}

fn read_tests(path: &Path) -> std::io::Result<Vec<SourceFile>> {
    if !path.exists() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "arquivo ou pasta inexistente",
        ));
    }
    let mut files = Vec::new();
    let mut pending = vec![path.to_path_buf()];
    while let Some(current) = pending.pop() {
        if current.is_dir() {
            for entry in std::fs::read_dir(&current)? {
                pending.push(entry?.path());
            }
        } else if current.extension().is_some_and(|ext| ext == "yaml" || ext == "yml") {
            let text = std::fs::read_to_string(&current)?;
            files.push(SourceFile {
                path: current.display().to_string(),
                text,
            });
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// Runs the command.
pub fn run(args: &Args) -> Result<Status, Failure> {
    let bundle = args.bundle.load()?;
    let external =
        match &args.path {
            Some(path) => Some(read_tests(path).map_err(|err| {
                Failure::failed(format!("não foi possível ler os testes em {}: {err}", path.display()))
            })?),
            None => None,
        };
    let report = bundle.run_tests(external.as_deref(), args.moment.now)?;
    let style = Style::detect();
    for case in &report.cases {
        if case.passed() {
            say!("{} {} › {}", style.good("ok  "), case.file, case.name);
        } else {
            say!("{} {} › {}", style.bad("FAIL"), case.file, case.name);
            for failure in &case.failures {
                say!("       - {failure}");
            }
        }
    }
    let failed = report.failed();
    let passed = report.cases.len() - failed;
    say!("\ncobertura de regras: {:.1}%", report.coverage);
    if !report.never_fired.is_empty() {
        say!("regras que nenhum teste dispara: {}", report.never_fired.join(", "));
    }
    if !report.never_false.is_empty() {
        say!("condições que nunca foram falsas: {}", report.never_false.join(", "));
    }
    say!("{passed} passed, {failed} failed");
    let below = args.coverage_min.is_some_and(|min| report.coverage < min);
    if below {
        say!(
            "cobertura {:.1}% abaixo do mínimo {:.1}%",
            report.coverage,
            args.coverage_min.unwrap_or_default()
        );
    }
    Ok(if failed > 0 || below {
        Status::Failed
    } else {
        Status::Ok
    })
}
