//! The test harness: run the real `pactum` binary and read what it wrote.
//!
//! See tests/README.md. Everything here fails loudly: a missing peer tool
//! (pdftotext, pdffonts, sha256sum) is a test failure, never a silent skip.

#![allow(dead_code)] // each test binary uses a different part of the harness

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root, which is also the shipped workspace (templates/, schemas/).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The outcome of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `pactum` with `args` in the repository root.
pub fn pactum(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_pactum"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .expect("failed to start the pactum binary");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A fresh temporary folder, removed when dropped.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("pactum-test-")
        .tempdir()
        .expect("failed to create a temporary folder")
}

/// Runs a peer tool and returns its stdout; panics with a clear message if it is missing or fails.
pub fn tool(program: &str, args: &[&str], dir: &Path) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "`{program}` is needed by this test and could not run ({e}); .ci/run installs it"
            )
        });
    assert!(
        out.status.success(),
        "`{program} {}` failed:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The text of a PDF (pdftotext, reading order), with all whitespace removed so
/// line breaks typst chose do not split the strings a test looks for.
pub fn pdf_text(pdf: &Path) -> String {
    let dir = pdf.parent().unwrap_or(Path::new("."));
    let name = pdf.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    tool("pdftotext", &["-enc", "UTF-8", name, "-"], dir)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// Removes whitespace, for comparing with `pdf_text`.
pub fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}
