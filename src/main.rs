//! The `pactum` binary: parse arguments, call the library, map the outcome to an exit code.
//!
//! Exit codes: 0 fine, 1 the input has defects, 2 usage or environment error.

use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::Parser as _;
use pactum::build::{BuildOptions, build};
use pactum::cli::{BuildArgs, Cli, Command, Format};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Build(args) => run_build(&args),
    }
}

fn run_build(args: &BuildArgs) -> ExitCode {
    let opts = BuildOptions {
        records: args.records.clone(),
        out: args.out.clone(),
        workspace: args.workspace.clone(),
        skip_invalid: args.skip_invalid,
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
            let warnings = outcome.diagnostics.len() - errors;
            if outcome.documents.is_empty() && errors > 0 {
                eprintln!(
                    "{errors} error(s), {warnings} warning(s); nothing written (fix the errors, or pass --skip-invalid to build the valid records)"
                );
            } else {
                eprintln!(
                    "built {} document(s) into {} (draft); {errors} error(s), {warnings} warning(s)",
                    outcome.documents.len(),
                    args.out.display()
                );
            }
        }
    }
    if outcome.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
