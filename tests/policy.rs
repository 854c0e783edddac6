//! The compliance policy from the outside: a broken or missing policy file,
//! a template that lost a required clause, `pactum explain`, `--deny-warnings`,
//! the JSON diagnostics and waivers in the PDF metadata.

mod support;

use std::path::Path;

use support::{pactum, repo, tempdir, tool};

/// A copy of the shipped workspace (templates without fonts, which are
/// embedded in the binary, and schemas) in a fresh temporary folder.
fn workspace_copy() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let (src, dst) = (e.path(), to.join(e.file_name()));
            if e.file_name() == "fonts" {
                continue;
            }
            if src.is_dir() {
                copy(&src, &dst);
            } else {
                std::fs::copy(&src, &dst).unwrap();
            }
        }
    }
    let dir = tempdir();
    copy(&repo().join("templates"), &dir.path().join("templates"));
    copy(&repo().join("schemas"), &dir.path().join("schemas"));
    dir
}

fn build(records: &str, ws: &Path, extra: &[&str]) -> (support::Run, tempfile::TempDir) {
    let out = tempdir();
    let out_dir = out.path().join("out");
    let mut args = vec![
        "build",
        records,
        "--workspace",
        ws.to_str().unwrap(),
        "--draft",
        "--out",
        out_dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    (pactum(&args), out)
}

#[test]
fn a_missing_policy_file_stops_every_contract() {
    let ws = workspace_copy();
    std::fs::remove_file(ws.path().join("schemas/policy.yaml")).unwrap();
    let (run, out) = build("samples", ws.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error[P0001]: cannot read the policy file"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("schemas/policy.yaml"), "{}", run.stderr);
    assert!(!out.path().join("out").exists(), "nothing may be written");
}

#[test]
fn a_broken_policy_file_is_reported_at_each_wrong_place() {
    let ws = workspace_copy();
    let path = ws.path().join("schemas/policy.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let broken = text
        .replace("below: \"5000000.00\"", "below: \"400000.00\"")
        .replace("  nda-zh: [", "  nda: [")
        .replace(
            "deposit:\n  max_percent: 20",
            "deposit:\n  max_percent: 120\n  min_percent: 0",
        )
        .replace("rules: {}", "rules: { P0302: off, P0301: sometimes }");
    assert_ne!(text, broken);
    std::fs::write(&path, &broken).unwrap();
    let (run, _out) = build("samples", ws.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let line_of = |needle: &str| broken.lines().position(|l| l.contains(needle)).unwrap() + 1;
    for (needle, message) in [
        (
            "below: \"400000.00\"",
            "tier `重要` starts at ¥500,000.00 but ends at ¥400,000.00",
        ),
        ("  nda: [", "no template `nda` in this workspace"),
        (
            "max_percent: 120",
            "/deposit/max_percent must be a whole number from 0 to 100",
        ),
        ("min_percent", "unknown key `min_percent` in the policy"),
        ("rules:", "severity of P0301 must be error, warning or off"),
    ] {
        let place = format!("schemas/policy.yaml:{}:", line_of(needle));
        let found = run
            .stderr
            .split("[P0001]")
            .any(|d| d.contains(message) && d.contains(&place));
        assert!(found, "no P0001 `{message}` at {place}:\n{}", run.stderr);
    }
    // No contract gets through without a valid policy.
    assert!(run.stderr.contains("nothing written"), "{}", run.stderr);
}

#[test]
fn a_template_that_drops_a_required_clause_builds_none_of_its_contracts() {
    let ws = workspace_copy();
    let main = ws.path().join("templates/service-zh/main.typ.tera");
    let text = std::fs::read_to_string(&main).unwrap();
    let include = "{% include \"clauses/zh/dispute.typ.tera\" %}";
    assert!(text.contains(include));
    std::fs::write(&main, text.replace(include, "双方协商解决。")).unwrap();
    let (run, out) = build("samples", ws.path(), &["--skip-invalid"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "error[P0203]: template `service-zh` does not include the 争议解决 clause (clauses/zh/dispute.typ.tera)"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("templates/service-zh/main.typ.tera"),
        "{}",
        run.stderr
    );
    // --skip-invalid builds the others, but no service contract.
    let built: Vec<String> = std::fs::read_dir(out.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(built.iter().any(|f| f == "bm-2026-001.pdf"), "{built:?}");
    assert!(!built.iter().any(|f| f.starts_with("fw-")), "{built:?}");
}

#[test]
fn explain_describes_every_code_and_refuses_unknown_ones() {
    let listed = [
        "R101", "R102", "R103", "R104", "R105", "R106", "R107", "R108", "S200", "S201", "S202",
        "S203", "S204", "S205", "S206", "S210", "S211", "S212", "S213", "S214", "S215", "S219",
        "S220", "S221", "S222", "S223", "S229", "T401", "T402", "T403", "T404", "T405", "T406",
        "T407", "T408",
    ];
    let all: Vec<&str> = pactum::codes::CODES.iter().map(|c| c.code).collect();
    for code in listed {
        assert!(all.contains(&code), "{code} is not in the table");
    }
    for code in &all {
        let run = pactum(&["explain", &code.to_lowercase()]);
        assert_eq!(run.code, 0, "{code}: {}", run.stderr);
        assert!(
            run.stdout.starts_with(&format!("{code}: ")),
            "{}",
            run.stdout
        );
        assert!(run.stdout.contains("default severity"), "{}", run.stdout);
    }
    let waivable = pactum(&["explain", "P0301"]);
    assert!(
        waivable.stdout.contains("may waive it"),
        "{}",
        waivable.stdout
    );
    let list = pactum(&["explain"]);
    assert_eq!(list.code, 0);
    assert_eq!(
        list.stdout
            .lines()
            .filter(|l| l
                .split_whitespace()
                .next()
                .is_some_and(|w| all.contains(&w)))
            .count(),
        all.len()
    );
    let unknown = pactum(&["explain", "P9999"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("unknown code `P9999`"),
        "{}",
        unknown.stderr
    );
    assert!(
        unknown.stderr.contains("hint: codes starting with P9")
            || unknown
                .stderr
                .contains("run `pactum explain` to list every code")
    );
}

#[test]
fn every_code_the_source_emits_is_in_the_explain_table() {
    let re = regex::Regex::new(r#""([RST][1-4][0-9]{2}|P0[0-9]{3})""#).unwrap();
    let mut seen = 0;
    // Every source file, in src/ and its area folders.
    let files: Vec<std::path::PathBuf> = walkdir::WalkDir::new(repo().join("src"))
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    for path in files {
        if path.file_name().is_some_and(|n| n == "codes.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for c in re.captures_iter(&text) {
            seen += 1;
            assert!(
                pactum::codes::lookup(&c[1]).is_some(),
                "{} uses {} which `pactum explain` does not know",
                path.display(),
                &c[1]
            );
        }
    }
    assert!(seen > 40, "the scan found only {seen} codes");
}

#[test]
fn warnings_pass_unless_deny_warnings_and_then_nothing_is_written() {
    let case = "tests/cases/bad/58-waiver-not-needed";
    let (run, out) = build(case, &repo(), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("warning[P0004]"), "{}", run.stderr);
    assert!(out.path().join("out/fw-case-001.pdf").exists());

    let (run, out) = build(case, &repo(), &["--deny-warnings"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "nothing written, no number issued (warnings are errors with --deny-warnings)"
        ),
        "{}",
        run.stderr
    );
    assert!(!out.path().join("out").exists());

    // A waived rule is a note, which never fails a run.
    let (run, _out) = build(
        "tests/cases/bad/57-waiver-applied",
        &repo(),
        &["--deny-warnings"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn json_diagnostics_carry_every_documented_field() {
    let (run, _out) = build(
        "tests/cases/bad/30-approval-tier",
        &repo(),
        &["--format", "json"],
    );
    assert_eq!(run.code, 1);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("stdout is JSON");
    let d = &v["diagnostics"][0];
    assert_eq!(d["severity"], "error");
    assert_eq!(d["code"], "P0101");
    assert_eq!(d["file"], "tests/cases/bad/30-approval-tier/contract.yaml");
    assert_eq!(d["pos"]["line"], 13);
    assert_eq!(d["pos"]["column"], 3);
    assert_eq!(d["record"], "fw-case-001");
    assert_eq!(d["pointer"], "/approvals");
    assert!(d["message"].as_str().unwrap().contains("重要合同"));
    assert!(d["hint"].as_str().unwrap().contains("tier: 重要"));
}

#[test]
fn a_waiver_and_its_reason_are_kept_in_the_pdf_metadata() {
    let (run, out) = build("tests/cases/bad/57-waiver-applied", &repo(), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("note[P0301]"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("(waived: 经法务部王某2026年3月10日审核同意"),
        "{}",
        run.stderr
    );
    let info = tool("pdfinfo", &["fw-case-001.pdf"], &out.path().join("out"));
    let keywords = info
        .lines()
        .find(|l| l.starts_with("Keywords:"))
        .unwrap_or_default();
    assert!(
        keywords.contains("waiver P0301: 经法务部王某2026年3月10日审核同意，超出部分按预付款处理"),
        "{info}"
    );
    // The waivers are also readable from the library, for the register.
    let loaded =
        pactum::store::load_dir(&repo().join("tests/cases/bad/57-waiver-applied")).unwrap();
    let contract = loaded
        .records
        .iter()
        .find(|r| r.id == "fw-case-001")
        .unwrap();
    let waivers = pactum::policy::waivers(contract);
    assert_eq!(waivers.len(), 1);
    assert_eq!(waivers[0].rule, "P0301");
}

#[test]
fn the_policy_can_grade_a_rule_down_or_switch_it_off() {
    let ws = workspace_copy();
    let path = ws.path().join("schemas/policy.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("rules: {}", "rules: { P0502: warning }"),
    )
    .unwrap();
    let case = repo().join("tests/cases/bad/46-due-outside-term");
    let (run, _out) = build(case.to_str().unwrap(), ws.path(), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr.matches("warning[P0502]").count(),
        2,
        "{}",
        run.stderr
    );

    std::fs::write(&path, text.replace("rules: {}", "rules: { P0502: off }")).unwrap();
    let (run, _out) = build(case.to_str().unwrap(), ws.path(), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("P0502"), "{}", run.stderr);
}

/// `pactum explain | head -1`: the reader goes away; pactum ends quietly
/// (exit 0, nothing on stderr) instead of panicking on the broken pipe.
#[test]
fn a_closed_stdout_ends_pactum_quietly() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pactum"))
        .arg("explain")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Close the only reading end before pactum writes: its first write fails.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
