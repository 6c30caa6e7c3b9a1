//! The argument groups several commands share (clap `flatten`): the
//! bundle, the moment, the situation. Each is written once, so a flag
//! means the same on every command.

use std::path::PathBuf;

use chrono::{DateTime, FixedOffset};
use roteiro_engine::{Bundle, Situation};

use crate::clock;
use crate::failure::Failure;
use crate::source;

/// The bundle a command reads.
#[derive(Debug, Clone, clap::Args)]
pub struct BundleArgs {
    /// Pasta do pacote de políticas (padrão: ./policies, senão o pacote embutido).
    #[arg(long, global = true)]
    pub policies: Option<PathBuf>,
}

impl BundleArgs {
    /// The bundle, or its problems (exit status 3).
    pub fn load(&self) -> Result<Bundle, Failure> {
        source::bundle(self.policies.as_deref())
    }
}

/// The moment a command decides as of.
#[derive(Debug, Clone, clap::Args)]
pub struct MomentArgs {
    /// Decide como neste momento (RFC 3339), acima do `now` da situação.
    #[arg(long, global = true, value_parser = clock::parse)]
    pub now: Option<DateTime<FixedOffset>>,
}

/// The situation a command decides on.
#[derive(Debug, Clone, clap::Args)]
pub struct SituationArgs {
    /// Arquivo da situação (YAML ou JSON, pelo conteúdo); `-` lê a entrada padrão.
    pub situation: String,
    #[command(flatten)]
    pub moment: MomentArgs,
    /// Ignora (com aviso) campos que o vocabulário não conhece, em vez de recusá-los.
    #[arg(long)]
    pub lenient: bool,
}

impl SituationArgs {
    /// The bundle and the situation, pinned to `--now` when given.
    pub fn load(&self, bundle: &BundleArgs) -> Result<(Bundle, Situation), Failure> {
        source::bundle_and_situation(
            bundle.policies.as_deref(),
            &self.situation,
            self.moment.now,
            self.lenient,
        )
    }
}
