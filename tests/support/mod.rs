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
///
/// A `build` must say `--draft` or `--register FILE`: a test must never issue
/// numbers into the repository's own register (`.pactum/register.sqlite`).
pub fn pactum(args: &[&str]) -> Run {
    assert!(
        args.first() != Some(&"build") || args.contains(&"--draft") || args.contains(&"--register"),
        "a test ran `pactum build` in issue mode on the repository's register: pass --draft or --register"
    );
    pactum_in(&repo(), args)
}

/// Runs `pactum` with `args` in `dir` (e.g. a copied workspace, so paths stay relative).
pub fn pactum_in(dir: &Path, args: &[&str]) -> Run {
    pactum_env(dir, &[], args)
}

/// [`pactum_in`] with environment variables set (`SOURCE_DATE_EPOCH`, `TZ`).
pub fn pactum_env(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_pactum"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("SOURCE_DATE_EPOCH")
        .envs(env.iter().copied())
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

/// A copy of the shipped workspace (templates without the embedded fonts,
/// schemas, samples with their lock and golden texts) in a fresh temporary
/// folder, for tests that change files.
pub fn workspace_copy() -> tempfile::TempDir {
    let dir = tempdir();
    for top in ["templates", "schemas", "samples"] {
        copy_tree(&repo().join(top), &dir.path().join(top));
    }
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("failed to create a folder in the copy");
    for e in std::fs::read_dir(from).expect("failed to read a workspace folder") {
        let e = e.unwrap();
        let name = e.file_name();
        if name == "fonts" {
            continue; // compiled into the binary; 30 MB not worth copying
        }
        let (src, dst) = (e.path(), to.join(&name));
        if e.file_type().unwrap().is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).expect("failed to copy a workspace file");
        }
    }
}

/// Replaces `from` (which must occur) by `to` in a file.
pub fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(text.contains(from), "`{from}` not in {}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// Names in `dir` that start with a dot (e.g. a staging folder left behind).
pub fn hidden_entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

/// How many PDFs `dir` holds (none when it does not exist).
pub fn pdf_count(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension() == Some("pdf".as_ref()))
            .count()
    })
}
