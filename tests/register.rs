//! Issue mode and the contract register: numbers, revisions, crash safety,
//! concurrency, void, export. Every test uses its own temporary register.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use support::{
    edit, hidden_entries, pactum, pactum_env, pdf_count, pdf_text, repo, tempdir, workspace_copy,
};

/// A records folder: the sample parties plus `n` copies of a service contract with ids `<prefix>-NNN`.
fn batch(dir: &Path, prefix: &str, n: usize) -> PathBuf {
    let records = dir.join(format!("records-{prefix}"));
    std::fs::create_dir_all(records.join("parties")).unwrap();
    for e in std::fs::read_dir(repo().join("samples/parties")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), records.join("parties").join(e.file_name())).unwrap();
    }
    let template =
        std::fs::read_to_string(repo().join("samples/contracts/fw-2026-003.yaml")).unwrap();
    assert!(template.contains("id: fw-2026-003"));
    for i in 0..n {
        let text = template.replace("id: fw-2026-003", &format!("id: {prefix}-{i:03}"));
        std::fs::write(records.join(format!("{prefix}-{i:03}.yaml")), text).unwrap();
    }
    records
}

fn build(records: &Path, out: &Path, reg: &Path) -> support::Run {
    pactum(&[
        "build",
        records.to_str().unwrap(),
        "--workspace",
        ".",
        "--out",
        out.to_str().unwrap(),
        "--register",
        reg.to_str().unwrap(),
    ])
}

/// The register as JSON rows (number, record_id, revision, status …).
fn export(reg: &Path) -> Vec<serde_json::Value> {
    let run = pactum(&[
        "register",
        "--register",
        reg.to_str().unwrap(),
        "export",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str::<Vec<serde_json::Value>>(&run.stdout).unwrap()
}

fn numbers(reg: &Path) -> BTreeMap<String, String> {
    export(reg)
        .iter()
        .map(|r| {
            (
                r["record_id"].as_str().unwrap().to_owned(),
                r["number"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Asserts that the numbers of a scope are exactly prefix-0001 … prefix-N, each once.
fn assert_contiguous(numbers: &BTreeMap<String, String>, prefix: &str) {
    let mut seqs: Vec<u32> = numbers
        .values()
        .filter_map(|n| n.strip_prefix(prefix))
        .map(|s| s.parse().unwrap())
        .collect();
    seqs.sort();
    let expected: Vec<u32> = (1..=seqs.len() as u32).collect();
    assert_eq!(seqs, expected, "gap or duplicate in {prefix}*: {numbers:?}");
}

#[test]
fn rebuilding_keeps_numbers_and_bytes_and_a_changed_record_alone_gets_a_new_revision() {
    let dir = tempdir();
    let reg = dir.path().join("r.sqlite");
    let (one, two, three) = (
        dir.path().join("1"),
        dir.path().join("2"),
        dir.path().join("3"),
    );
    assert_eq!(build(&repo().join("samples"), &one, &reg).code, 0);
    let first = export(&reg);
    assert_eq!(build(&repo().join("samples"), &two, &reg).code, 0);
    assert_eq!(
        export(&reg),
        first,
        "an unchanged rebuild changed the register"
    );
    for e in std::fs::read_dir(&one).unwrap() {
        let name = e.unwrap().file_name();
        assert!(
            std::fs::read(one.join(&name)).unwrap() == std::fs::read(two.join(&name)).unwrap(),
            "{name:?} differs after an unchanged rebuild"
        );
    }
    // Change one field of one record (a contract without supplements).
    let records = dir.path().join("samples");
    copy_dir(&repo().join("samples"), &records);
    let f = records.join("contracts/fw-2026-004.yaml");
    let text = std::fs::read_to_string(&f).unwrap();
    let changed = text.replacen("signing_place: ", "signing_place: 改在", 1);
    assert_ne!(text, changed);
    std::fs::write(&f, changed).unwrap();
    assert_eq!(build(&records, &three, &reg).code, 0);
    let after = export(&reg);
    for (before, now) in first.iter().zip(&after) {
        let id = before["record_id"].as_str().unwrap();
        assert_eq!(before["number"], now["number"]);
        let pdf = format!("{id}.pdf");
        let same_pdf =
            std::fs::read(one.join(&pdf)).unwrap() == std::fs::read(three.join(&pdf)).unwrap();
        if id == "fw-2026-004" {
            assert_eq!(
                now["revision"]["revision"], 1,
                "changed record keeps revision"
            );
            assert!(!same_pdf, "changed record's PDF did not change");
        } else {
            assert_eq!(before, now, "{id} changed in the register");
            assert!(same_pdf, "{id}.pdf changed although its record did not");
        }
    }
    let show = pactum(&[
        "register",
        "--register",
        reg.to_str().unwrap(),
        "show",
        after_number(&after, "fw-2026-004"),
    ]);
    assert_eq!(show.code, 0);
    assert!(
        show.stdout.contains("修改次第 00") && show.stdout.contains("修改次第 01"),
        "{}",
        show.stdout
    );
    assert!(pdf_text(&three.join("fw-2026-004.pdf")).contains("修改次第：01"));
}

fn after_number<'a>(rows: &'a [serde_json::Value], id: &str) -> &'a str {
    rows.iter().find(|r| r["record_id"] == id).unwrap()["number"]
        .as_str()
        .unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.unwrap();
        let dest = to.join(e.path().strip_prefix(from).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

#[test]
fn a_build_killed_at_any_point_leaves_no_gap_no_duplicate_no_partial_pdf_and_a_rerun_finishes_the_same()
 {
    let dir = tempdir();
    let records = batch(dir.path(), "k", 24);
    // Reference: an uninterrupted run on a fresh register.
    let ref_reg = dir.path().join("ref.sqlite");
    let started = Instant::now();
    assert_eq!(
        build(&records, &dir.path().join("ref-out"), &ref_reg).code,
        0
    );
    let full = started.elapsed();
    let expected = numbers(&ref_reg);
    assert_eq!(expected.len(), 24);

    let reg = dir.path().join("r.sqlite");
    let out = dir.path().join("out");
    for step in 0..10u32 {
        let delay = full * step / 10;
        let mut child = Command::new(env!("CARGO_BIN_EXE_pactum"))
            .args([
                "build",
                records.to_str().unwrap(),
                "--workspace",
                ".",
                "--out",
            ])
            .arg(&out)
            .arg("--register")
            .arg(&reg)
            .current_dir(repo())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL: no destructor, no cleanup
        let _ = child.wait();
        // Whatever the register holds is contiguous and the same as the reference.
        if reg.exists() {
            let now = numbers(&reg);
            assert_contiguous(&now, "FW-2026-");
            for (id, n) in &now {
                assert_eq!(Some(n), expected.get(id), "after kill at {delay:?}");
            }
        }
        assert_no_partial_pdf(&out);
    }
    let run = build(&records, &out, &reg);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        numbers(&reg),
        expected,
        "the rerun did not finish with the same numbers"
    );
    assert_no_partial_pdf(&out);
    let leftovers = hidden_entries(&out);
    assert!(
        leftovers.is_empty(),
        "stale staging left behind: {leftovers:?}"
    );
}

fn assert_no_partial_pdf(out: &Path) {
    let Ok(entries) = std::fs::read_dir(out) else {
        return;
    };
    for e in entries {
        let e = e.unwrap();
        let name = e.file_name().into_string().unwrap();
        if name.ends_with(".pdf") {
            let bytes = std::fs::read(e.path()).unwrap();
            let tail = &bytes[bytes.len().saturating_sub(32)..];
            assert!(
                bytes.starts_with(b"%PDF-") && tail.windows(5).any(|w| w == b"%%EOF"),
                "{name} is a partial PDF"
            );
        }
    }
}

#[test]
fn two_builds_at_the_same_time_on_one_register_never_hand_out_the_same_number() {
    let dir = tempdir();
    let a = batch(dir.path(), "a", 12);
    let b = batch(dir.path(), "b", 12);
    let reg = dir.path().join("r.sqlite");
    let spawn = |records: &Path, out: &str| {
        Command::new(env!("CARGO_BIN_EXE_pactum"))
            .args([
                "build",
                records.to_str().unwrap(),
                "--workspace",
                ".",
                "--out",
            ])
            .arg(dir.path().join(out))
            .arg("--register")
            .arg(&reg)
            .current_dir(repo())
            .output()
    };
    let (ra, rb) = std::thread::scope(|s| {
        let ha = s.spawn(|| spawn(&a, "out-a").unwrap());
        let hb = s.spawn(|| spawn(&b, "out-b").unwrap());
        (ha.join().unwrap(), hb.join().unwrap())
    });
    assert!(
        ra.status.success(),
        "{}",
        String::from_utf8_lossy(&ra.stderr)
    );
    assert!(
        rb.status.success(),
        "{}",
        String::from_utf8_lossy(&rb.stderr)
    );
    let all = numbers(&reg);
    assert_eq!(all.len(), 24);
    assert_contiguous(&all, "FW-2026-");
    let distinct: BTreeSet<&String> = all.values().collect();
    assert_eq!(distinct.len(), 24, "a number was handed out twice");
}

#[test]
fn a_locked_register_is_exit_2_and_changes_nothing() {
    let dir = tempdir();
    let reg = dir.path().join("r.sqlite");
    assert_eq!(
        build(&repo().join("samples"), &dir.path().join("o1"), &reg).code,
        0
    );
    let before = std::fs::read(&reg).unwrap();
    let conn = rusqlite::Connection::open(&reg).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    let out = dir.path().join("o2");
    let run = pactum(&[
        "build",
        "samples",
        "--out",
        out.to_str().unwrap(),
        "--register",
        reg.to_str().unwrap(),
        "--lock-timeout",
        "1",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("is locked by another pactum process"),
        "{}",
        run.stderr
    );
    conn.execute_batch("ROLLBACK").unwrap();
    drop(conn);
    assert_eq!(std::fs::read(&reg).unwrap(), before, "the register changed");
    assert!(
        !out.exists() || std::fs::read_dir(&out).unwrap().next().is_none(),
        "output written"
    );
}

#[test]
fn a_corrupt_register_is_exit_2_and_left_as_it_was() {
    let dir = tempdir();
    let reg = dir.path().join("r.sqlite");
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&reg, &garbage).unwrap();
    let out = dir.path().join("o");
    let run = build(&repo().join("samples"), &out, &reg);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("corrupt or not a pactum register"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(&reg).unwrap(), garbage);
    assert!(!out.join("fw-2026-001.pdf").exists());
}

#[test]
fn a_voided_number_is_kept_marked_never_reused_and_its_record_is_skipped() {
    let dir = tempdir();
    let reg = dir.path().join("r.sqlite");
    assert_eq!(
        build(&repo().join("samples"), &dir.path().join("o1"), &reg).code,
        0
    );
    let number = after_number(&export(&reg), "fw-2026-002").to_owned();
    let run = pactum(&[
        "register",
        "--register",
        reg.to_str().unwrap(),
        "void",
        &number,
        "--reason",
        "签约主体变更，作废重签",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let row = export(&reg)
        .into_iter()
        .find(|r| r["number"] == number.as_str())
        .unwrap();
    assert_eq!(row["status"], "void");
    assert_eq!(row["void_reason"], "签约主体变更，作废重签");
    // The voided record is skipped with a note that says so; nothing new is issued.
    let before = export(&reg);
    let run = build(&repo().join("samples"), &dir.path().join("o2"), &reg);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("[N501]") && run.stderr.contains("was voided: 签约主体变更，作废重签"),
        "{}",
        run.stderr
    );
    assert!(!dir.path().join("o2/fw-2026-002.pdf").exists());
    assert_eq!(export(&reg), before);
    // The record under a new id gets a new number; the voided one is not reused.
    let records = dir.path().join("samples");
    copy_dir(&repo().join("samples"), &records);
    let f = records.join("contracts/fw-2026-002.yaml");
    let text = std::fs::read_to_string(&f)
        .unwrap()
        .replace("id: fw-2026-002", "id: fw-2026-002-r");
    std::fs::write(&f, text).unwrap();
    let run = build(&records, &dir.path().join("o3"), &reg);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let now = numbers(&reg);
    assert_eq!(now["fw-2026-002"], number);
    assert_ne!(now["fw-2026-002-r"], number);
    assert_contiguous(&now, "FW-2026-");
    // `register list` shows it as 作废, with the columns lined up on a
    // terminal although the cells mix Chinese (two columns) and Latin.
    let list = pactum(&["register", "--register", reg.to_str().unwrap(), "list"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(
        list.stdout
            .lines()
            .any(|l| l.starts_with(&number) && l.contains("作废")),
        "{}",
        list.stdout
    );
    let title_columns: BTreeSet<usize> = list.stdout.lines().map(fifth_field_column).collect();
    assert_eq!(title_columns.len(), 1, "{}", list.stdout);
}

/// The terminal column where the fifth whitespace-separated field of `line` starts.
fn fifth_field_column(line: &str) -> usize {
    let mut fields = 0;
    let mut after_space = true;
    for (i, c) in line.char_indices() {
        if c.is_whitespace() {
            after_space = true;
            continue;
        }
        if after_space {
            fields += 1;
            if fields == 5 {
                return unicode_width::UnicodeWidthStr::width(&line[..i]);
            }
        }
        after_space = false;
    }
    usize::MAX
}

#[test]
fn the_register_export_is_a_csv_with_bom_and_the_registration_columns_and_build_writes_it_too() {
    let dir = tempdir();
    let reg = dir.path().join("r.sqlite");
    let out = dir.path().join("o");
    assert_eq!(build(&repo().join("samples"), &out, &reg).code, 0);
    let csv_path = dir.path().join("export.csv");
    let run = pactum(&[
        "register",
        "--register",
        reg.to_str().unwrap(),
        "export",
        "--format",
        "csv",
        "-o",
        csv_path.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let bytes = std::fs::read(&csv_path).unwrap();
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "no UTF-8 BOM");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "合同编号,合同名称,模板,甲方,乙方,签署日期,生效日期,到期日期,金额,币种,修改次第,状态,PDF摘要(SHA-256),签发时间,作废原因,豁免规则"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 13);
    let fw = rows
        .iter()
        .find(|r| r.contains(",云平台运维服务合同,"))
        .unwrap();
    assert!(
        fw.contains("北京云岫数据科技有限公司") && fw.contains(",1280000.00,CNY,00,有效,"),
        "{fw}"
    );
    // The PDF digest in the register is the digest of the file build wrote.
    let sums = std::fs::read_to_string(out.join("SHA256SUMS")).unwrap();
    let digest = fw.split(',').nth(12).unwrap();
    assert!(sums.contains(digest));
    // 签发时间: the clock (no SOURCE_DATE_EPOCH here) in the samples' zone, Asia/Shanghai.
    let issued = fw.split(',').nth(13).unwrap();
    assert!(
        issued.len() == 25 && issued.ends_with("+08:00") && issued.as_bytes()[10] == b'T',
        "{issued}"
    );
    assert_eq!(
        std::fs::read(out.join("register.csv")).unwrap(),
        std::fs::read(&csv_path).unwrap()
    );
}

#[test]
fn a_supplement_whose_parent_has_no_issued_number_is_an_error() {
    let dir = tempdir();
    let records = dir.path().join("samples");
    copy_dir(&repo().join("samples"), &records);
    // Break the parent of the supplements (remove its title): it cannot be issued.
    let f = records.join("contracts/fw-2026-001.yaml");
    let text = std::fs::read_to_string(&f).unwrap();
    let broken: String = text
        .lines()
        .filter(|l| !l.starts_with("title:"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&f, broken).unwrap();
    let reg = dir.path().join("r.sqlite");
    let run = pactum(&[
        "build",
        records.to_str().unwrap(),
        "--workspace",
        ".",
        "--out",
        dir.path().join("o").to_str().unwrap(),
        "--register",
        reg.to_str().unwrap(),
        "--skip-invalid",
    ]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("[N502]")
            && run
                .stderr
                .contains("parent contract `fw-2026-001` has no issued number"),
        "{}",
        run.stderr
    );
    // The other contracts were issued without a gap.
    let now = numbers(&reg);
    assert!(!now.contains_key("fw-2026-001") && !now.contains_key("bc-2026-001"));
    assert_contiguous(&now, "FW-2026-");
    assert_contiguous(&now, "BC-2026-");
}

/// The files `pid` has open, resolved (Linux /proc).
#[cfg(target_os = "linux")]
fn open_files(pid: u32) -> Vec<PathBuf> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|fds| {
            fds.flatten()
                .filter_map(|fd| std::fs::read_link(fd.path()).ok())
                .collect()
        })
        .unwrap_or_default()
}

// Linux only: it watches the build through /proc to change a record at a
// known moment.
#[cfg(target_os = "linux")]
#[test]
fn a_record_changed_while_the_build_runs_is_r111_and_nothing_is_issued() {
    let dir = tempdir();
    let reg = dir.path().join("r.sqlite");
    let first = batch(dir.path(), "ra", 2);
    assert_eq!(build(&first, &dir.path().join("o1"), &reg).code, 0);
    let before = numbers(&reg);
    // More records than the store keeps parsed (256), so that the build
    // reads rb-001 from disk again after the scan.
    let records = batch(dir.path(), "rb", 270);

    // Hold the register's write lock, so that the build stops right after
    // it has read and validated every record and opened the register.
    let conn = rusqlite::Connection::open(&reg).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    let out = dir.path().join("o2");
    let child = Command::new(env!("CARGO_BIN_EXE_pactum"))
        .args(["build", records.to_str().unwrap(), "--workspace", "."])
        .args(["--out", out.to_str().unwrap()])
        .args(["--register", reg.to_str().unwrap(), "--lock-timeout", "120"])
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let reg_path = reg.canonicalize().unwrap();
    let started = Instant::now();
    while !open_files(child.id()).contains(&reg_path) {
        assert!(
            started.elapsed().as_secs() < 60,
            "the build never opened the register"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Now a record changes on disk, and the lock is let go.
    edit(
        &records.join("rb-001.yaml"),
        "id: rb-001",
        "id: rb-001\n# edited while the build ran",
    );
    conn.execute_batch("ROLLBACK").unwrap();
    drop(conn);
    let run = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("R111"), "{stderr}");
    assert!(stderr.contains("rb-001.yaml"), "{stderr}");
    assert_eq!(numbers(&reg), before, "a number was issued");
    assert_eq!(pdf_count(&out), 0, "a PDF was written");
}

/// Issue 20: the issue time is local time of the workspace's zone with its
/// offset (`.pactum.toml`, default Asia/Shanghai for Chinese templates), the
/// same bytes under one SOURCE_DATE_EPOCH whatever the machine's TZ, stored
/// `Z` rows shown in the zone, and an unknown zone refused before any work.
#[test]
fn issue_times_are_local_time_of_the_workspace_zone_reproducible_and_a_bad_zone_is_refused() {
    let ws = workspace_copy();
    let dir = ws.path();
    let epoch = ("SOURCE_DATE_EPOCH", "1795000000"); // 2026-11-18T11:06:40Z
    let build_in = |out: &str, reg: &str, env: &[(&str, &str)]| {
        pactum_env(
            dir,
            env,
            &["build", "samples", "--out", out, "--register", reg],
        )
    };
    let read = |p: &str| std::fs::read(dir.join(p)).unwrap();
    let register = |reg: &str, args: &[&str]| {
        let mut all = vec!["register", "--register", reg];
        all.extend(args);
        pactum_env(dir, &[], &all)
    };

    // No .pactum.toml and Chinese templates: Asia/Shanghai.
    let run = build_in("o1", "r1.sqlite", &[epoch]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let csv = String::from_utf8(read("o1/register.csv")).unwrap();
    assert_eq!(
        csv.matches(",2026-11-18T19:06:40+08:00,").count(),
        13,
        "{csv}"
    );
    // Same epoch on a machine in another zone: the same bytes.
    let run = build_in("o2", "r2.sqlite", &[epoch, ("TZ", "America/New_York")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(read("o1/register.csv") == read("o2/register.csv"));
    assert!(read("o1/SHA256SUMS") == read("o2/SHA256SUMS"));
    let shown = register("r1.sqlite", &["show", "FW-2026-0001"]);
    assert!(
        shown.stdout.contains("issued 2026-11-18T19:06:40+08:00"),
        "{}",
        shown.stdout
    );

    // The workspace's zone decides how stored times are shown and new ones written.
    std::fs::write(dir.join(".pactum.toml"), "time_zone = \"Europe/Berlin\"\n").unwrap();
    let shown = register("r1.sqlite", &["show", "FW-2026-0001"]);
    assert!(
        shown.stdout.contains("issued 2026-11-18T12:06:40+01:00"),
        "{}",
        shown.stdout
    );
    let exported = register("r1.sqlite", &["export", "--format", "csv"]);
    assert_eq!(
        exported
            .stdout
            .matches(",2026-11-18T12:06:40+01:00,")
            .count(),
        13
    );
    let run = build_in("o3", "r3.sqlite", &[epoch]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let stored: String = rusqlite::Connection::open(dir.join("r3.sqlite"))
        .unwrap()
        .query_row("SELECT issued_at FROM revisions LIMIT 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, "2026-11-18T12:06:40+01:00");

    // A row stored in UTC (`Z`, before zones) is shown converted, and left as stored.
    let db = rusqlite::Connection::open(dir.join("r1.sqlite")).unwrap();
    db.execute(
        "UPDATE revisions SET issued_at = '2026-11-18T11:06:40Z'",
        [],
    )
    .unwrap();
    drop(db);
    std::fs::write(dir.join(".pactum.toml"), "time_zone = \"UTC\"\n").unwrap();
    let rows = register("r1.sqlite", &["export", "--format", "json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&rows.stdout).unwrap();
    assert!(
        rows.iter()
            .all(|r| r["revision"]["issued_at"] == "2026-11-18T11:06:40+00:00"),
        "{rows:#?}"
    );

    // An unknown zone: one located sentence with a hint, exit 2, nothing issued.
    std::fs::write(dir.join(".pactum.toml"), "time_zone = \"Asia/Shangai\"\n").unwrap();
    let run = build_in("o4", "r4.sqlite", &[epoch]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "error: .pactum.toml:1:13: unknown time zone `Asia/Shangai` (did you mean \"Asia/Shanghai\"? time_zone takes an IANA name)\n"
    );
    assert!(!dir.join("r4.sqlite").exists() && !dir.join("o4").exists());
    let shown = register("r1.sqlite", &["show", "FW-2026-0001"]);
    assert_eq!(shown.code, 2, "{}", shown.stdout);
    assert!(
        shown.stderr.contains("unknown time zone"),
        "{}",
        shown.stderr
    );
    // An unknown key is refused too (room for later keys, no silent typos).
    std::fs::write(dir.join(".pactum.toml"), "timezone = \"UTC\"\n").unwrap();
    let run = build_in("o5", "r5.sqlite", &[epoch]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(".pactum.toml:1:1: invalid .pactum.toml: unknown field `timezone`"),
        "{}",
        run.stderr
    );
}
