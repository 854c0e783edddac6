//! Command-line arguments: one struct per subcommand; `///` comments are the help text.
//!
//! Only clap lives here. Arguments are turned into the library's option
//! structs (`BuildOptions`, …) before any stage runs.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// pactum: contract records (YAML) → validated, numbered, checksummed PDF contracts.
#[derive(Debug, Parser)]
#[command(name = "pactum", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate records and typeset one PDF per contract, plus SHA256SUMS.
    Build(BuildArgs),
    /// Explain a diagnostic code (e.g. `pactum explain P0301`); without a code, list them all.
    Explain(ExplainArgs),
}

/// `pactum explain [CODE]`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The code shown in brackets in a diagnostic, e.g. P0301 or S220 (case does not matter).
    pub code: Option<String>,
}

/// How diagnostics and results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Readable text with source snippets, on stderr.
    Human,
    /// One JSON object on stdout: documents and diagnostics.
    Json,
}

/// `pactum build RECORDS --out DIR`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Folder of YAML records (*.yaml, *.yml; searched recursively).
    pub records: PathBuf,
    /// Folder to write the PDFs and SHA256SUMS into (created if missing).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Workspace folder holding templates/ and schemas/ [default: found from RECORDS upwards].
    #[arg(long)]
    pub workspace: Option<PathBuf>,
    /// Draft mode: documents carry a draft number and a 草稿 / DRAFT mark (the only mode until the register lands).
    #[arg(long)]
    pub draft: bool,
    /// Build the valid records even when others have errors; the run still exits 1.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Treat warnings as errors: records with warnings are not built and the run exits 1.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Output format for diagnostics and results.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}
