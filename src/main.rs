//! The `pactum` binary: parse arguments, call the library, map the outcome to an exit code.
//!
//! Exit codes: 0 fine, 1 the input has defects, 2 usage or environment error.

/// mimalloc: workers free what other workers allocated (typst's shared caches)
/// without waiting on each other's locks (see Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::IsTerminal as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser as _;
use pactum::build::{BuildOptions, Mode, build, register_location};
use pactum::bundle::{BundleOptions, bundle};
use pactum::check::{CheckOptions, check};
use pactum::cli::{
    BuildArgs, BundleArgs, CheckArgs, CheckFormat, Cli, Command, ExplainArgs, ExportFormat, Format,
    HandoverAction, HandoverArgs, LogLocation, NewArgs, RegisterAction, RegisterArgs,
    RegisterLocation, VerifyArgs,
};
use pactum::codes;
use pactum::handover;
use pactum::progress::{Progress, Reporter, Silent};
use pactum::register::{self, Register};
use pactum::skeleton::{self, NewOptions};
use pactum::{annotate, localtime, numbering, workspace};

/// `text` padded with spaces to `columns` terminal columns (a CJK character
/// takes two), for tables whose cells mix Chinese and Latin text.
fn pad(text: &str, columns: usize) -> String {
    let width = unicode_width::UnicodeWidthStr::width(text);
    format!("{text}{}", " ".repeat(columns.saturating_sub(width)))
}

/// `print!` to stdout; see [`stdout_failed`].
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = write!(std::io::stdout(), $($arg)*) {
            stdout_failed(e)
        }
    }};
}

/// `println!` to stdout; see [`stdout_failed`].
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            stdout_failed(e)
        }
    }};
}

/// Output that cannot be written: a reader that went away (`pactum register
/// list | head`) ends the process quietly, as with other command-line tools;
/// anything else (a full disk) is an environment error.
fn stdout_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("error: cannot write the output ({e})");
    std::process::exit(2)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Init(args) => match pactum::init::init(&args.dir) {
            Ok(done) => {
                let d = args.dir.display();
                let ignored = pactum::init::GITIGNORE.join(" ");
                let gitignore = match done.gitignore {
                    pactum::init::Gitignore::Created => format!("wrote .gitignore ({ignored})"),
                    pactum::init::Gitignore::Appended(n) => {
                        format!("added {n} line(s) to .gitignore ({ignored})")
                    }
                    pactum::init::Gitignore::Unchanged => {
                        format!(".gitignore already has {ignored}")
                    }
                };
                eprintln!(
                    "created workspace {d} ({} files): templates/, schemas/ (with policy.yaml), records/ (examples)\n{gitignore}; the register .pactum/register.sqlite is not ignored: commit it\nnext: cd {d} && pactum build records --out out",
                    done.files
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
        Command::New(args) => run_new(args),
        Command::Build(args) => run_build(&args),
        Command::Check(args) => run_check(&args),
        Command::Synth(args) => {
            match pactum::synth::generate(args.samples.as_deref(), &args.out, args.count) {
                Ok(n) => {
                    eprintln!("wrote {n} contract(s) into {}", args.out.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: failed to generate records: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Register(args) => match run_register(&args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
        Command::Bundle(args) => run_bundle(&args),
        Command::Gather(args) => run_gather(&args),
        Command::Verify(args) => run_verify(&args),
        Command::Handover(args) => run_handover(&args),
        Command::Explain(args) => run_explain(&args),
    }
}

fn run_new(args: NewArgs) -> ExitCode {
    let opts = NewOptions {
        template: args.template,
        id: args.id,
        out: args.out,
        workspace: args.workspace,
    };
    match skeleton::new(&opts) {
        Ok(Some(text)) => {
            out!("{text}");
            ExitCode::SUCCESS
        }
        Ok(None) => {
            if let Some(out) = &opts.out {
                eprintln!(
                    "wrote {}: replace every `{}`, then run `pactum check`",
                    out.display(),
                    pactum::placeholder::PLACEHOLDER
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run_gather(args: &pactum::cli::GatherArgs) -> ExitCode {
    let fail = |e: &dyn std::fmt::Display| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    };
    let root = match workspace::locate(Path::new("."), args.workspace.as_deref()) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    let (register, zone) = match (
        register_for(&args.register, &root),
        workspace::config(&root),
    ) {
        (Ok(r), Ok(c)) => (r, c.time_zone),
        (Err(e), _) => return fail(&e),
        (_, Err(e)) => return fail(&e),
    };
    match pactum::gather::gather(&args.shards, &args.out, &register, zone) {
        Ok(g) => {
            eprintln!(
                "gathered {} document(s) of {} shard(s) of batch {} into {}",
                g.documents,
                g.shards,
                &g.batch[..12],
                args.out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn run_explain(args: &ExplainArgs) -> ExitCode {
    let Some(code) = &args.code else {
        out!("{}", codes::listing());
        return ExitCode::SUCCESS;
    };
    match codes::lookup(code) {
        Some(c) => {
            out!("{}", codes::explain(c));
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("error: unknown code `{code}`");
            eprintln!("  = hint: {}", codes::suggest(code));
            ExitCode::from(2)
        }
    }
}

/// The workspace root and the handover log for `loc` (the log defaults to the workspace's).
fn log_location(
    loc: &LogLocation,
) -> Result<(Option<std::path::PathBuf>, std::path::PathBuf), String> {
    let root = workspace::locate(Path::new("."), loc.workspace.as_deref());
    match (&loc.log, root) {
        (Some(log), root) => Ok((root.ok(), log.clone())),
        (None, Ok(root)) => Ok((
            Some(root.clone()),
            root.join(".pactum").join("handover.jsonl"),
        )),
        (None, Err(e)) => Err(format!("{e}; or pass --log FILE")),
    }
}

/// Writes `value` to stdout as pretty JSON, streamed (the outcome of a large
/// batch is never held as one string); see [`stdout_failed`] for write errors.
fn print_json(value: &impl serde::Serialize) -> bool {
    use std::io::Write as _;
    let mut w = std::io::BufWriter::new(std::io::stdout().lock());
    match serde_json::to_writer_pretty(&mut w, value) {
        Ok(()) => {
            if let Err(e) = writeln!(w).and_then(|()| w.flush()) {
                stdout_failed(e)
            }
            true
        }
        Err(e) if e.is_io() => stdout_failed(e.into()),
        Err(e) => {
            eprintln!("error: failed to write JSON ({e})");
            false
        }
    }
}

fn run_bundle(args: &BundleArgs) -> ExitCode {
    let fail = |e: &dyn std::fmt::Display, code: u8| {
        eprintln!("error: {e}");
        ExitCode::from(code)
    };
    let (root, log) = match log_location(&args.log) {
        Ok(l) => l,
        Err(e) => return fail(&e, 2),
    };
    let Some(root) = root else {
        return fail(
            &"no workspace found (the 移交清单 template lives in <workspace>/templates/_handover); pass --workspace DIR",
            2,
        );
    };
    let zone = match workspace::config(&root) {
        Ok(c) => c.time_zone,
        Err(e) => return fail(&e, 2),
    };
    let opts = match BundleOptions::new(
        &args.out_dir,
        &args.archive,
        args.from.clone(),
        args.to.clone(),
        args.purpose.as_deref(),
        log,
        root.join("templates"),
        args.log.source_date_epoch,
        zone,
    ) {
        Ok(o) => o,
        Err(e) => return fail(&e, e.exit_code()),
    };
    match bundle(&opts) {
        Ok(b) => {
            if args.format == Format::Json {
                if !print_json(&b) {
                    return ExitCode::from(2);
                }
            } else {
                eprintln!(
                    "bundled {} document(s), {} payload file(s), {} byte(s) into {} (bag {}); handover entry {} ({} → {}) appended to {}",
                    b.documents,
                    b.payload_files,
                    b.payload_bytes,
                    b.archive.display(),
                    b.bag,
                    b.entry.seq,
                    opts.from,
                    opts.to,
                    b.log.display()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, e.exit_code()),
    }
}

fn run_verify(args: &VerifyArgs) -> ExitCode {
    let report = match pactum::verify::verify(&args.archive) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match args.format {
        Format::Json => {
            if !print_json(&report) {
                return ExitCode::from(2);
            }
        }
        Format::Human => out!("{}", report.to_human()),
    }
    if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn run_handover(args: &HandoverArgs) -> ExitCode {
    let HandoverAction::Receive {
        archive,
        by,
        log,
        format,
    } = &args.action;
    let fail = |e: &dyn std::fmt::Display, code: u8| {
        eprintln!("error: {e}");
        ExitCode::from(code)
    };
    let (root, log_path) = match log_location(log) {
        Ok(l) => l,
        Err(e) => return fail(&e, 2),
    };
    // The receiver's workspace zone; a log kept outside any workspace is in UTC.
    let zone = match root.as_deref().map(workspace::config).transpose() {
        Ok(c) => c.map_or(chrono_tz::Tz::UTC, |c| c.time_zone),
        Err(e) => return fail(&e, 2),
    };
    let Some(time) = handover::record_time(log.source_date_epoch) else {
        return fail(&"SOURCE_DATE_EPOCH is out of range", 2);
    };
    let time = handover::format_time(time, zone);
    let received = match handover::receive(archive, by, &log_path, &time) {
        Ok(r) => r,
        Err(e) => {
            let code = match &e {
                handover::ReceiveError::Log(handover::LogError::Broken { .. }) => 1,
                _ => 2,
            };
            return fail(&e, code);
        }
    };
    match format {
        Format::Json => {
            if !print_json(&received) {
                return ExitCode::from(2);
            }
        }
        Format::Human => {
            out!("{}", received.report.to_human());
            if let Some(h) = &received.report.handover
                && &h.to != by
            {
                eprintln!(
                    "note: the bundle was addressed to {}, received by {by}",
                    h.to
                );
            }
            eprintln!(
                "receipt entry {} ({}) appended to {}",
                received.receipt.seq,
                if received.report.ok() {
                    "verified"
                } else {
                    "defective"
                },
                received.log.display()
            );
        }
    }
    if received.report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The register for `loc` in the workspace at `root` ([`register_location`]).
fn register_for(loc: &RegisterLocation, root: &Path) -> Result<register::Location, String> {
    let config = workspace::config(root).map_err(|e| e.to_string())?;
    register_location(loc.register.as_deref(), root, &config)
}

fn run_build(args: &BuildArgs) -> ExitCode {
    let mode = if args.draft {
        Mode::Draft
    } else {
        let first = args.records.first().map_or(Path::new("."), |p| p.as_path());
        let start = if first.is_file() {
            first
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
        } else {
            first
        };
        let root = match workspace::locate(start, args.workspace.as_deref()) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        let register = match register_for(&args.register, &root) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        Mode::Issue {
            register,
            lock_timeout: Duration::from_secs(args.register.lock_timeout),
        }
    };
    let shard = match shard_of(args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let opts = BuildOptions {
        records: args.records.clone(),
        only: args.only.clone(),
        prune: args.prune,
        shard,
        out: args.out.clone(),
        workspace: args.workspace.clone(),
        skip_invalid: args.skip_invalid,
        mode,
        emit_typst: args.emit_typst.clone(),
        deny_warnings: args.deny_warnings,
    };
    let started = std::time::Instant::now();
    let reporter = Reporter::stderr();
    let progress: &dyn Progress = if args.quiet || args.format == Format::Json {
        &Silent
    } else {
        &reporter
    };
    let outcome = match build(&opts, progress) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match args.format {
        Format::Json => {
            if !print_json(&outcome) {
                return ExitCode::from(2);
            }
        }
        Format::Human => {
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            for d in &outcome.diagnostics {
                eprint!("{}", d.to_human(color));
            }
            let errors = outcome.diagnostics.iter().filter(|d| d.is_error()).count();
            let warnings = outcome
                .diagnostics
                .iter()
                .filter(|d| d.is_warning())
                .count();
            let notes = outcome.diagnostics.len() - errors - warnings;
            let mut counts = format!("{errors} error(s), {warnings} warning(s)");
            if notes > 0 {
                counts.push_str(&format!(", {notes} note(s)"));
            }
            let failed = outcome.failed(args.deny_warnings);
            if outcome.documents.is_empty() && failed {
                let fix = if errors == 0 {
                    "warnings are errors with --deny-warnings"
                } else {
                    "fix the errors, or pass --skip-invalid to build the valid records"
                };
                eprintln!("{counts}; nothing written, no number issued ({fix})");
            } else if !args.quiet {
                if !args.draft {
                    eprint!("{}", issue_summary(&outcome));
                }
                let pages: usize = outcome.documents.iter().map(|d| d.pages).sum();
                let secs = started.elapsed().as_secs_f64();
                eprintln!(
                    "built {} document(s), {pages} page(s) into {} ({}) in {secs:.2} s, {:.1} documents/s; {counts}",
                    outcome.documents.len(),
                    args.out.display(),
                    if args.draft { "draft" } else { "issued" },
                    outcome.documents.len() as f64 / secs.max(0.001),
                );
            }
        }
    }
    if outcome.failed(args.deny_warnings) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The shard `build` runs as: `--shard K/N`, or `--shards N` with the index
/// from the scheduler's environment.
fn shard_of(args: &BuildArgs) -> Result<Option<pactum::build::Shard>, String> {
    if let Some(spec) = &args.shard {
        return pactum::build::Shard::parse(spec).map(Some);
    }
    let Some(n) = args.shards else {
        return Ok(None);
    };
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let index = match (var("JOB_COMPLETION_INDEX"), var("PACTUM_SHARD_INDEX")) {
        (Some(i), _) => i
            .trim()
            .parse::<u32>()
            .map(|i| i + 1)
            .map_err(|_| format!("JOB_COMPLETION_INDEX `{i}` is not a number"))?,
        (None, Some(i)) => i
            .trim()
            .parse::<u32>()
            .map_err(|_| format!("PACTUM_SHARD_INDEX `{i}` is not a number"))?,
        (None, None) => {
            return Err(format!(
                "--shards {n} needs the shard index from JOB_COMPLETION_INDEX (0-based) or PACTUM_SHARD_INDEX (1-based); or give --shard K/{n}"
            ));
        }
    };
    pactum::build::Shard::parse(&format!("{index}/{n}")).map(Some)
}

/// Names shown per group in the human summary; `--format json` lists all.
const SUMMARY_NAMES: usize = 20;

/// What an issue build did, for people: the new, revised (with why),
/// unchanged, held-back and void documents, each group named.
fn issue_summary(o: &pactum::build::Outcome) -> String {
    use pactum::numbering::Change;
    let mut out = String::new();
    let mut group = |label: &str, items: Vec<String>| {
        if items.is_empty() {
            return;
        }
        out.push_str(&format!("{label} ({}):\n", items.len()));
        for item in items.iter().take(SUMMARY_NAMES) {
            out.push_str(&format!("  {item}\n"));
        }
        if items.len() > SUMMARY_NAMES {
            out.push_str(&format!(
                "  … and {} more (--format json lists every document)\n",
                items.len() - SUMMARY_NAMES
            ));
        }
    };
    let of = |want: fn(&Change) -> bool| -> Vec<&pactum::build::Document> {
        o.documents.iter().filter(|d| want(&d.change)).collect()
    };
    group(
        "newly numbered",
        of(|c| *c == Change::New)
            .iter()
            .map(|d| format!("{} {}", d.number, d.id))
            .collect(),
    );
    group(
        "new revision",
        of(|c| matches!(c, Change::Revised { .. }))
            .iter()
            .map(|d| {
                let why = match &d.change {
                    Change::Revised { why } => why.describe(),
                    _ => String::new(),
                };
                format!(
                    "{} {} 修改次第 {:02}: {why}",
                    d.number,
                    d.id,
                    d.revision.unwrap_or(0)
                )
            })
            .collect(),
    );
    group(
        "unchanged",
        of(|c| *c == Change::Unchanged)
            .iter()
            .map(|d| {
                format!(
                    "{} {} 修改次第 {:02}",
                    d.number,
                    d.id,
                    d.revision.unwrap_or(0)
                )
            })
            .collect(),
    );
    group(
        "held back",
        o.held_back
            .iter()
            .map(|s| format!("{} ({})", s.id, s.reason))
            .collect(),
    );
    group(
        "skipped, void",
        o.void
            .iter()
            .map(|s| {
                format!(
                    "{} {} ({})",
                    s.number.as_deref().unwrap_or(""),
                    s.id,
                    s.reason
                )
            })
            .collect(),
    );
    out
}

fn run_check(args: &CheckArgs) -> ExitCode {
    let opts = CheckOptions {
        records: args.records.clone(),
        workspace: args.workspace.clone(),
        lock: args.lock.clone(),
        update: args.update,
        report: args.report.clone(),
        baseline: args.baseline.clone(),
        cache: !args.no_cache,
    };
    let reporter = Reporter::stderr();
    let progress: &dyn Progress = if args.quiet || args.format != CheckFormat::Human {
        &Silent
    } else {
        &reporter
    };
    let outcome = match check(&opts, progress) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let records = args.records.display().to_string();
    match args.format {
        CheckFormat::Human => {
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            eprint!("{}", annotate::human(&outcome, color, &records));
        }
        CheckFormat::Json => match annotate::json(&outcome) {
            Ok(s) => outln!("{s}"),
            Err(e) => {
                eprintln!("error: failed to write JSON ({e})");
                return ExitCode::from(2);
            }
        },
        CheckFormat::Github => out!("{}", annotate::github(&outcome)),
        CheckFormat::Junit => out!("{}", annotate::junit(&outcome)),
    }
    if outcome.failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn run_register(args: &RegisterArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let located = workspace::locate(Path::new("."), args.workspace.as_deref());
    let (root, location) = match (located, &args.location.register) {
        (Ok(root), _) => {
            let location = register_for(&args.location, &root)?;
            (Some(root), location)
        }
        // A register given outside any workspace is read without one.
        (Err(_), Some(p)) if args.workspace.is_none() => (None, register::Location::parse(p)?),
        (Err(e), _) => return Err(e.into()),
    };
    // Times are shown in the workspace's zone (stored `Z` rows too); UTC without a workspace.
    let zone = match &root {
        Some(root) => workspace::config(root)?.time_zone,
        None => chrono_tz::Tz::UTC,
    };
    if !location.exists() {
        return Err(format!(
            "no register at {} (it is created by the first `pactum build` without --draft)",
            location.display()
        )
        .into());
    }
    let mut reg = Register::open(&location, Duration::from_secs(args.location.lock_timeout))?;
    match &args.action {
        RegisterAction::List => {
            outln!(
                "{} {} {} {} 合同名称 / record",
                pad("合同编号", 22),
                pad("修改", 4),
                pad("状态", 6),
                pad("签署日期", 12)
            );
            for r in reg.list()? {
                outln!(
                    "{} {} {} {} {} ({})",
                    pad(&r.number, 22),
                    pad(&format!("{:02}", r.revision.revision), 4),
                    pad(r.status.label_zh(), 6),
                    pad(&r.facts.signing_date, 12),
                    r.facts.title,
                    r.record_id
                );
            }
            // Numbers reserved by shards that have not finished: never silently skipped.
            for r in reg.reservations()? {
                outln!(
                    "{} {} {} {} (record {}: reserved by a shard of batch {} that has not finished; run that shard again)",
                    pad(&r.number, 22),
                    pad("—", 4),
                    pad("预留", 6),
                    pad("", 12),
                    r.record_id,
                    r.batch.get(..12).unwrap_or(&r.batch)
                );
            }
        }
        RegisterAction::Show { number } => {
            let shown = reg.show(number)?;
            let first = &shown[0].row;
            outln!("合同编号   {}", first.number);
            outln!("record     {}", first.record_id);
            outln!("template   {}", first.template);
            outln!(
                "status     {}{}",
                first.status.label_zh(),
                first
                    .void_reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            );
            for (k, s) in shown.iter().enumerate() {
                let r = &s.row;
                let why = match k.checked_sub(1).map(|j| &shown[j]) {
                    None => "first issue".to_owned(),
                    Some(prev) => numbering::why(
                        (
                            &prev.row.revision.content_sha256,
                            &prev.row.revision.pactum,
                            &prev.made_from,
                        ),
                        (&r.revision.content_sha256, &r.revision.pactum, &s.made_from),
                    )
                    .describe(),
                };
                let files = match &s.made_from.files {
                    None => "\n  made from: template files not recorded (issued before pactum recorded them)".to_owned(),
                    Some(files) => {
                        let mut text = format!(
                            "\n  made from: pactum {}, {} template file(s)",
                            if r.revision.pactum.is_empty() { "?" } else { &r.revision.pactum },
                            files.len()
                        );
                        for (path, sha) in files {
                            text.push_str(&format!("\n    templates/{path}  {sha}"));
                        }
                        text
                    }
                };
                outln!(
                    "\n修改次第 {:02}  issued {}\n  why      {why}\n  合同名称 {}\n  甲方 {}  乙方 {}\n  签署 {}  生效 {}  到期 {}  金额 {} {}\n  content  {}\n  template {}\n  pdf      {}{}",
                    r.revision.revision,
                    localtime::local(&r.revision.issued_at, zone),
                    r.facts.title,
                    r.facts.party_a,
                    r.facts.party_b,
                    r.facts.signing_date,
                    r.facts.effective_date,
                    r.facts.expiry_date,
                    r.facts.amount,
                    r.facts.currency,
                    r.revision.content_sha256,
                    r.revision.template_sha256,
                    r.revision.pdf_sha256,
                    if r.facts.waivers.is_empty() {
                        String::new()
                    } else {
                        format!("\n  waivers  {}", r.facts.waivers)
                    }
                );
                outln!("{}", files.trim_start_matches('\n'));
            }
        }
        RegisterAction::Void { number, reason } => {
            if reason.trim().is_empty() {
                return Err("a void needs a reason: --reason \"…\"".into());
            }
            reg.void(number, reason.trim(), &numbering::issue_time(zone))?;
            eprintln!("voided {number}: {}", reason.trim());
        }
        RegisterAction::Export { format, output } => {
            let mut rows = reg.list()?;
            let text = match format {
                ExportFormat::Csv => register::to_csv(&rows, zone),
                ExportFormat::Json => {
                    for r in &mut rows {
                        r.revision.issued_at = localtime::local(&r.revision.issued_at, zone);
                    }
                    serde_json::to_string_pretty(&rows)? + "\n"
                }
            };
            match output {
                Some(p) => std::fs::write(p, text)?,
                None => out!("{text}"),
            }
        }
        RegisterAction::Copy { to } => {
            let to = register::Location::parse(to)?;
            let timeout = Duration::from_secs(args.location.lock_timeout);
            let done = register::copy::copy(&mut reg, &location, &to, timeout)?;
            eprintln!(
                "copied {} contracts, {} revisions from {} to {}; both registers export the same 合同信息登记表 (SHA-256 {})",
                done.contracts,
                done.revisions,
                location.display(),
                to.display(),
                done.csv_sha256
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
