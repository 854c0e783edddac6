//! The bad-input corpus: each folder `tests/cases/bad/<NN-name>/` holds the
//! records of one case and `expected.txt`, the exact human output (stderr,
//! `NO_COLOR`) of `pactum build tests/cases/bad/<NN-name> --workspace . --out
//! <tmp>`, with the temporary folder written `[OUT]`.
//!
//! `UPDATE_EXPECT=1 cargo test --release --test corpus` rewrites the
//! expected files; read the diff before committing it (tests/README.md).

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use support::{pactum, repo, tempdir};

/// Every case folder, sorted.
fn cases() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(repo().join("tests/cases/bad"))
        .expect("tests/cases/bad exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Replaces the run time in the summary line (` in 0.12 s, 8.3 documents/s`) with `[TIME]`.
fn redact_timing(s: &str) -> String {
    s.lines()
        .map(|l| match (l.find(" in "), l.find(" documents/s")) {
            (Some(a), Some(b)) if a < b && l.starts_with("built ") => {
                format!("{} in [TIME]{}", &l[..a], &l[b + " documents/s".len()..])
            }
            _ => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + if s.ends_with('\n') { "\n" } else { "" }
}

/// Runs one case; returns the exit code and stderr with the output folder redacted.
fn run_case(dir: &Path, extra: &[&str]) -> (i32, String) {
    let tmp = tempdir();
    let out = tmp.path().join("out");
    let out_str = out.to_str().unwrap();
    let name = dir.file_name().unwrap().to_str().unwrap();
    let records = format!("tests/cases/bad/{name}");
    let mut args = vec![
        "build",
        &records,
        "--workspace",
        ".",
        "--draft",
        "--out",
        out_str,
    ];
    args.extend_from_slice(extra);
    let run = pactum(&args);
    (
        run.code,
        redact_timing(&run.stderr.replace(out_str, "[OUT]")),
    )
}

#[test]
fn every_bad_input_case_gives_exactly_the_expected_diagnostics() {
    let cases = cases();
    assert!(cases.len() >= 40, "the corpus needs at least 40 cases");
    let update = std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1");
    let results: Vec<(PathBuf, i32, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .chunks(cases.len().div_ceil(8))
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|dir| {
                            let (code, stderr) = run_case(dir, &[]);
                            (dir.clone(), code, stderr)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut failures = Vec::new();
    for (dir, code, stderr) in results {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        // Nothing may panic, and the exit code must say what the output says.
        assert!(!stderr.contains("panicked"), "{name} panicked:\n{stderr}");
        let has_error = stderr.lines().any(|l| l.starts_with("error["));
        assert_eq!(
            code,
            if has_error { 1 } else { 0 },
            "{name}: exit code {code} does not fit its output:\n{stderr}"
        );
        let expected_path = dir.join("expected.txt");
        if update {
            std::fs::write(&expected_path, &stderr).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|_| {
            panic!("{name} has no expected.txt; run with UPDATE_EXPECT=1 to create it")
        });
        if expected != stderr {
            failures.push(format!(
                "--- {name}/expected.txt\n{expected}\n+++ actual\n{stderr}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) differ (UPDATE_EXPECT=1 rewrites them):\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The codes of the error diagnostics in a case's expected output.
fn expected_codes(dir: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(dir.join("expected.txt")).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.strip_prefix("error["))
        .filter_map(|l| l.split(']').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_record_that_breaks_five_rules_gets_five_located_diagnostics_in_one_run() {
    let tmp = tempdir();
    let out = tmp.path().join("out");
    let run = pactum(&[
        "build",
        "tests/cases/bad/65-five-rules",
        "--workspace",
        ".",
        "--draft",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON on stdout");
    let diags: Vec<&serde_json::Value> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["record"] == "fw-case-001")
        .collect();
    let mut places = BTreeMap::new();
    for d in &diags {
        assert_eq!(d["severity"], "error");
        assert!(
            d["file"]
                .as_str()
                .unwrap()
                .ends_with("65-five-rules/contract.yaml"),
            "{d}"
        );
        let line = d["pos"]["line"]
            .as_u64()
            .expect("every diagnostic has a line");
        places.insert(d["code"].as_str().unwrap().to_owned(), line);
    }
    // Five broken rules (the wrong role also leaves the tier unapproved: P0101).
    for code in ["P0501", "P0102", "P0301", "P0302", "P0401"] {
        assert!(places.contains_key(code), "{code} missing: {places:?}");
    }
    let lines: BTreeSet<u64> = places.values().copied().collect();
    assert!(
        lines.len() >= 5,
        "diagnostics must point at five places: {places:?}"
    );
}

#[test]
fn every_policy_rule_fails_in_a_fixture_and_is_exercised_by_the_samples_that_pass() {
    // Failing: some corpus case reports each rule as an error.
    let mut failing = BTreeSet::new();
    for dir in cases() {
        failing.extend(expected_codes(&dir));
    }
    let rules: Vec<&str> = pactum::codes::CODES
        .iter()
        .map(|c| c.code)
        .filter(|c| pactum::codes::is_policy_rule(c))
        .collect();
    for code in &rules {
        // P0203 is about a template, which the corpus (run against the shipped
        // workspace) cannot break: tests/policy.rs breaks a copy of it.
        if *code == "P0203" {
            continue;
        }
        assert!(failing.contains(*code), "no corpus case fails {code}");
    }
    // The waiver checks too (P0001, the policy file itself, is tests/policy.rs's).
    for code in ["P0002", "P0003"] {
        assert!(failing.contains(code), "no corpus case fails {code}");
    }

    // Passing: the samples build without a single diagnostic ...
    let tmp = tempdir();
    let out = tmp.path().join("out");
    let run = pactum(&[
        "build",
        "samples",
        "--draft",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        !run.stderr.contains('['),
        "samples must pass every check:\n{}",
        run.stderr
    );
    // ... and every rule found something to check in them.
    let root = repo();
    let (store, diags) = pactum::store::Store::scan(&[root.join("samples")]).unwrap();
    assert!(diags.is_empty(), "{diags:?}");
    let (ws, _) = pactum::workspace::load(&root).unwrap();
    let (policy, diags) = pactum::policy::Policy::load(&ws);
    assert!(diags.is_empty(), "{diags:?}");
    let report = pactum::policy::check(&store, &ws, &policy.unwrap(), &BTreeSet::new());
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
    for code in &rules {
        assert!(
            report.exercised.contains(code),
            "no sample exercises {code}"
        );
    }
}
