//! Command-line arguments: one struct per subcommand; `///` comments are the help text.
//!
//! Only clap lives here. `main` turns these into the library's option
//! structs (`BuildOptions`, …) before any stage runs.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::handover::Party;

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
    /// Create a new workspace: the shipped document types, schemas, compliance policy, example records and fonts.
    Init(InitArgs),
    /// Write a record skeleton for TEMPLATE from its schema: required fields as `<fill in>`, optional ones commented out.
    New(NewArgs),
    /// Validate records and typeset one PDF per contract, plus SHA256SUMS, manifest.json and register.csv.
    Build(BuildArgs),
    /// The whole pipeline in draft mode without writing documents: validate, lint templates,
    /// typeset every contract and compare it with the golden lock (for CI).
    Check(CheckArgs),
    /// Read or change the contract register (合同信息登记).
    Register(RegisterArgs),
    /// Combine the output folders of the shards of one batch (`build --shard K/N`) into one delivery.
    Gather(GatherArgs),
    /// Generate N valid synthetic service contracts (and parties) for benchmarks.
    Synth(SynthArgs),
    /// Pack a build's output folder into one BagIt bag in a zip, with a 移交清单 and a handover log entry.
    Bundle(BundleArgs),
    /// Check an archive bundle in place: manifests, Payload-Oxum, handover chain, register digests (exit 1 on any defect).
    Verify(VerifyArgs),
    /// The handover log: record the receipt of a bundle.
    Handover(HandoverArgs),
    /// Explain a diagnostic code (e.g. `pactum explain P0301`); without a code, list them all.
    Explain(ExplainArgs),
}

/// `pactum init DIR`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The folder to create (it must not exist, or be empty).
    pub dir: PathBuf,
}

/// `pactum new TEMPLATE [--id ID] [--out FILE]`.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The document type: a folder under <workspace>/templates (e.g. service-zh).
    pub template: String,
    /// The record's id [default: the placeholder `<fill in>`].
    #[arg(long)]
    pub id: Option<String>,
    /// Write the skeleton to FILE (never replacing one) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Workspace folder holding templates/ and schemas/ [default: found from the output folder, else the current folder, upwards].
    #[arg(long, value_name = "DIR")]
    pub workspace: Option<PathBuf>,
}

/// `pactum explain [CODE]`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The code shown in brackets in a diagnostic, e.g. P0301 or S220 (case does not matter).
    pub code: Option<String>,
}

/// `pactum synth --count N --out DIR`.
#[derive(Debug, clap::Args)]
pub struct SynthArgs {
    /// How many contracts to generate.
    #[arg(long, default_value_t = 100)]
    pub count: usize,
    /// Folder to write the records into (parties/ and contracts/).
    #[arg(long, short)]
    pub out: PathBuf,
    /// A folder holding contracts/fw-2026-003.yaml to model the records on
    /// (default: the shipped sample, built into pactum).
    #[arg(long)]
    pub samples: Option<PathBuf>,
}

/// How diagnostics and results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Readable text with source snippets, on stderr.
    Human,
    /// One JSON object on stdout: documents and diagnostics.
    Json,
}

/// Where the register is: `--register FILE|URL`, or the workspace's `.pactum.toml`, or its default.
#[derive(Debug, Clone, clap::Args)]
pub struct RegisterLocation {
    /// Register: an SQLite file, or a PostgreSQL URL postgres://USER@HOST:PORT/DATABASE (the
    /// password from PGPASSWORD or ~/.pgpass, never in the URL) [default: `register` in
    /// <workspace>/.pactum.toml, else <workspace>/.pactum/register.sqlite].
    #[arg(long, value_name = "FILE|URL", global = true)]
    pub register: Option<String>,
    /// Seconds to wait when another pactum process holds the register.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, global = true)]
    pub lock_timeout: u64,
}

/// `pactum gather SHARD_DIR… --out DIR`.
#[derive(Debug, clap::Args)]
pub struct GatherArgs {
    /// The shards' output folders (each with its shard.json), all of one batch.
    #[arg(required = true, num_args = 1..)]
    pub shards: Vec<PathBuf>,
    /// The folder to write the delivery into (created if missing).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Workspace folder holding templates/ and schemas/ [default: found from the current folder upwards].
    #[arg(long)]
    pub workspace: Option<PathBuf>,
    /// The register the shards numbered from (the 登记表 comes from it).
    #[command(flatten)]
    pub register: RegisterLocation,
}

/// `pactum build RECORDS… --out DIR`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Record files or folders (*.yaml, *.yml; folders searched recursively): the contracts to
    /// build. Parties and parents are read from the whole records folder (the nearest folder
    /// above with a parties/ subfolder).
    #[arg(required = true, num_args = 1..)]
    pub records: Vec<PathBuf>,
    /// Only the contracts with these ids or globs (e.g. fw-2026-001 'bm-*'; comma-separated or
    /// repeated). A pattern that matches no contract is an error.
    #[arg(long, value_name = "ID", num_args = 1.., value_delimiter = ',')]
    pub only: Vec<String>,
    /// Remove PDFs in --out that this build did not write (voided, held-back or removed contracts).
    #[arg(long)]
    pub prune: bool,
    /// Typeset only shard K of N of the batch (1 ≤ K ≤ N); every shard validates and numbers the
    /// whole batch from the same register, holding its lock only for short transactions.
    #[arg(
        long,
        value_name = "K/N",
        env = "PACTUM_SHARD",
        conflicts_with = "shards"
    )]
    pub shard: Option<String>,
    /// Shard of N, the index taken from the scheduler: JOB_COMPLETION_INDEX (a Kubernetes Indexed
    /// Job, 0-based) or PACTUM_SHARD_INDEX (1-based).
    #[arg(long, value_name = "N")]
    pub shards: Option<u32>,
    /// Folder to write the PDFs and checksums into (created if missing).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Workspace folder holding templates/ and schemas/ [default: found from RECORDS upwards].
    #[arg(long)]
    pub workspace: Option<PathBuf>,
    /// Draft mode: draft numbers and a 草稿 / DRAFT mark; the register is not opened.
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
    /// No progress bar and no summary line (diagnostics are still printed).
    #[arg(long, short)]
    pub quiet: bool,
    /// Also write each document's typst sources to DIR/<id>/ (for `typst compile` outside pactum).
    #[arg(long, value_name = "DIR")]
    pub emit_typst: Option<PathBuf>,
    /// The register to number from.
    #[command(flatten)]
    pub register: RegisterLocation,
}

/// `pactum check RECORDS`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Folder of YAML records (*.yaml, *.yml; searched recursively).
    pub records: PathBuf,
    /// Workspace folder holding templates/ and schemas/ [default: found from RECORDS upwards].
    #[arg(long)]
    pub workspace: Option<PathBuf>,
    /// The golden lock [default: RECORDS/pactum.lock; texts in golden/ beside it].
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
    /// Rewrite the lock and golden texts from this tree (refused while there are errors).
    #[arg(long)]
    pub update: bool,
    /// Write an HTML review page (before/after page pictures, text diffs) to DIR/index.html.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// A checkout of the base revision (e.g. from `git worktree add`): the "before" of the report.
    #[arg(long, value_name = "DIR", requires = "report")]
    pub baseline: Option<PathBuf>,
    /// Output format: human (stderr), json, github (workflow commands) or junit (XML), on stdout.
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,
    /// Typeset every document, ignoring the cache in <workspace>/.pactum/check-cache.
    #[arg(long)]
    pub no_cache: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Diagnostics with snippets, diffs and a summary, on stderr.
    Human,
    /// One JSON object on stdout.
    Json,
    /// GitHub Actions workflow commands (`::error file=…,line=…::…`) on stdout.
    Github,
    /// JUnit XML on stdout.
    Junit,
}

/// `pactum register …`.
#[derive(Debug, clap::Args)]
pub struct RegisterArgs {
    /// Workspace folder [default: the current folder or the first parent holding templates/ and schemas/].
    #[arg(long, global = true)]
    pub workspace: Option<PathBuf>,
    /// The register file.
    #[command(flatten)]
    pub location: RegisterLocation,
    /// What to do with the register.
    #[command(subcommand)]
    pub action: RegisterAction,
}

/// Register subcommands.
#[derive(Debug, Subcommand)]
pub enum RegisterAction {
    /// List every contract number with its latest revision and status.
    List,
    /// Show every revision of one contract number.
    Show {
        /// The contract number, e.g. FW-2026-0001.
        number: String,
    },
    /// Void (作废) a number: it stays in the register, marked, and is never reused.
    Void {
        /// The contract number.
        number: String,
        /// Why it is voided (kept in the register).
        #[arg(long)]
        reason: String,
    },
    /// Export the 合同信息登记表.
    Export {
        /// csv (UTF-8 with BOM, opens in spreadsheets) or json.
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
        /// Write to this file instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Copy the whole register into an empty one (SQLite to PostgreSQL or back), then check that
    /// both export the same 合同信息登记表 and revisions.
    Copy {
        /// The target: a new SQLite file or an empty register, or a PostgreSQL URL of an empty
        /// database (the password from PGPASSWORD or ~/.pgpass, never in the URL).
        #[arg(long, value_name = "FILE|URL")]
        to: String,
    },
}

/// Register export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// 合同信息登记表 as CSV, UTF-8 with BOM.
    Csv,
    /// JSON array of rows.
    Json,
}

/// Where the handover log is and what time to record: shared by `bundle` and `handover receive`.
#[derive(Debug, Clone, clap::Args)]
pub struct LogLocation {
    /// Handover log (JSON Lines) [default: <workspace>/.pactum/handover.jsonl].
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Workspace folder [default: the current folder or the first parent holding templates/ and schemas/].
    #[arg(long)]
    pub workspace: Option<PathBuf>,
    /// Record this time (seconds since 1970, UTC) instead of the clock; fixes every timestamp in the bundle.
    #[arg(long, env = "SOURCE_DATE_EPOCH", value_name = "SECONDS")]
    pub source_date_epoch: Option<i64>,
}

/// `pactum bundle OUT_DIR -o ARCHIVE.zip --from UNIT/PERSON --to UNIT/PERSON`.
#[derive(Debug, clap::Args)]
pub struct BundleArgs {
    /// A `pactum build` output folder (issue mode: PDFs, manifest.json, register.csv, SHA256SUMS).
    pub out_dir: PathBuf,
    /// The zip to write; its file name without .zip names the bag folder inside. Never overwritten.
    #[arg(long = "output", short = 'o', value_name = "ARCHIVE.zip")]
    pub archive: PathBuf,
    /// 移交单位/移交人, e.g. "法务部/张三" (split at the last /).
    #[arg(long, value_name = "UNIT/PERSON")]
    pub from: Party,
    /// 接收单位/接收人, e.g. "档案室/李四".
    #[arg(long, value_name = "UNIT/PERSON")]
    pub to: Party,
    /// 交接工作名称 [default: 合同电子档案移交].
    #[arg(long)]
    pub purpose: Option<String>,
    /// The handover log and the time to record.
    #[command(flatten)]
    pub log: LogLocation,
    /// human: a summary on stderr; json: the handover entry on stdout.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// `pactum verify ARCHIVE.zip`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The bundle to check (read in place; nothing is extracted).
    pub archive: PathBuf,
    /// human: one line per problem and a summary on stdout; json: the full report.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// `pactum handover …`.
#[derive(Debug, clap::Args)]
pub struct HandoverArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: HandoverAction,
}

/// Handover subcommands.
#[derive(Debug, Subcommand)]
pub enum HandoverAction {
    /// Verify a received bundle and append a receipt entry (with the result) to the receiver's log.
    Receive {
        /// The bundle received.
        archive: PathBuf,
        /// 接收单位/接收人, e.g. "档案室/李四".
        #[arg(long, value_name = "UNIT/PERSON")]
        by: Party,
        /// The receiver's handover log and the time to record.
        #[command(flatten)]
        log: LogLocation,
        /// human: the verification report and the receipt; json: both as one object.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
}
