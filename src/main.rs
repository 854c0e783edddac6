//! The `pactum` binary: parse arguments, call the library, map the outcome to an exit code.
//!
//! Exit codes: 0 fine, 1 the input has defects, 2 usage or environment error.

use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::Parser as _;
use pactum::build::{BuildOptions, build};
use pactum::cli::{BuildArgs, Cli, Command, ExplainArgs, Format};
use pactum::codes;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Build(args) => run_build(&args),
        Command::Explain(args) => run_explain(&args),
    }
}

fn run_explain(args: &ExplainArgs) -> ExitCode {
    let Some(code) = &args.code else {
        print!("{}", codes::listing());
        return ExitCode::SUCCESS;
    };
    match codes::lookup(code) {
        Some(c) => {
            print!("{}", codes::explain(c));
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("error: unknown code `{code}`");
            eprintln!("  = hint: {}", codes::suggest(code));
            ExitCode::from(2)
        }
    }
}

fn run_build(args: &BuildArgs) -> ExitCode {
    let opts = BuildOptions {
        records: args.records.clone(),
        out: args.out.clone(),
        workspace: args.workspace.clone(),
        skip_invalid: args.skip_invalid,
        deny_warnings: args.deny_warnings,
    };
    let outcome = match build(&opts) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match args.format {
        Format::Json => match serde_json::to_string_pretty(&outcome) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("error: failed to write JSON ({e})");
                return ExitCode::from(2);
            }
        },
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
                eprintln!("{counts}; nothing written ({fix})");
            } else {
                eprintln!(
                    "built {} document(s) into {} (draft); {counts}",
                    outcome.documents.len(),
                    args.out.display()
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
