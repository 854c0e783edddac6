//! `register copy`, against the real PostgreSQL server (tests/support: one
//! fresh database per test): a SQLite register with a void and a second
//! revision copied to PostgreSQL and back shows the same export, CSV and
//! `show` text everywhere, numbers nothing new on a rebuild, and goes on
//! numbering where the source would; a target that holds anything is refused
//! and left as it was.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use support::{PG_PASSWORD, PG_PASSWORD_ROLE, edit, pactum_in, postgres_db, workspace_copy};

/// The default register of a copied workspace.
const LOCAL: &str = ".pactum/register.sqlite";

/// `pactum register --register REGISTER ARGS…` in `ws`, which must succeed; its stdout.
fn register(ws: &Path, reg: &str, args: &[&str]) -> String {
    let mut all = vec!["register", "--register", reg];
    all.extend_from_slice(args);
    let run = pactum_in(ws, &all);
    assert_eq!(run.code, 0, "{all:?}: {}", run.stderr);
    run.stdout
}

/// What a person reads from a register: the JSON export, the 登记表 CSV, and
/// `register show` of every number.
#[derive(Debug, PartialEq)]
struct Seen {
    json: String,
    csv: String,
    shown: BTreeMap<String, String>,
}

fn seen(ws: &Path, reg: &str) -> Seen {
    let json = register(ws, reg, &["export", "--format", "json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    let shown = rows
        .iter()
        .map(|r| {
            let number = r["number"].as_str().unwrap().to_owned();
            let text = register(ws, reg, &["show", &number]);
            (number, text)
        })
        .collect();
    Seen {
        json,
        csv: register(ws, reg, &["export", "--format", "csv"]),
        shown,
    }
}

/// `pactum build samples --out OUT --register REGISTER --format json` in `ws`;
/// each document's id → (number, revision, change).
fn build(ws: &Path, out: &str, reg: &str) -> BTreeMap<String, (String, u64, String)> {
    // One issue time for every build, so the two registers' 签发时间 compare.
    let run = support::pactum_env(
        ws,
        &[("SOURCE_DATE_EPOCH", "1764000000")],
        &[
            "build",
            "samples",
            "--out",
            out,
            "--register",
            reg,
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let outcome: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    outcome["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap().to_owned(),
                (
                    d["number"].as_str().unwrap().to_owned(),
                    d["revision"].as_u64().unwrap(),
                    d["change"].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect()
}

/// The samples issued into the workspace's SQLite register, then fw-2026-002
/// voided and fw-2026-003's title changed and issued again as 修改次第 01.
/// Returns the voided number.
fn issued_with_a_void_and_a_revision(ws: &Path) -> String {
    let first = build(ws, "o1", LOCAL);
    assert!(first.values().all(|d| d.2 == "new"), "{first:?}");
    let voided = first["fw-2026-002"].0.clone();
    register(
        ws,
        LOCAL,
        &["void", &voided, "--reason", "签约主体变更，作废重签"],
    );
    edit(
        &ws.join("samples/contracts/fw-2026-003.yaml"),
        "title: 智能仓储管理系统实施服务合同",
        "title: 智能仓储管理系统实施及运维服务合同",
    );
    let second = build(ws, "o2", LOCAL);
    assert_eq!(second["fw-2026-003"].1, 1, "{second:?}");
    assert_eq!(second["fw-2026-003"].2, "revised");
    assert!(
        !second.contains_key("fw-2026-002"),
        "a void record was built"
    );
    voided
}

/// The line `register copy` prints, checked against the export it describes;
/// `named` is how it names the source.
fn assert_copied(stderr: &str, ws: &Path, from: &str, named: &str, to: &str) {
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&register(ws, from, &["export", "--format", "json"])).unwrap();
    let revisions: u64 = rows
        .iter()
        .map(|r| r["revision"]["revision"].as_u64().unwrap() + 1)
        .sum();
    // Outside a workspace the export is in UTC, as the copy compares it.
    let outside = support::tempdir();
    let from_abs = if from.starts_with("postgres") {
        from.to_owned()
    } else {
        ws.join(from).display().to_string()
    };
    let utc_csv = register(outside.path(), &from_abs, &["export", "--format", "csv"]);
    let want = format!(
        "copied {} contracts, {revisions} revisions from {named} to {to}; both registers export the same 合同信息登记表 (SHA-256 {})\n",
        rows.len(),
        pactum::checksum::sha256_hex(utc_csv.as_bytes())
    );
    assert_eq!(stderr, want);
}

#[test]
fn a_sqlite_register_copied_to_postgres_and_back_reads_the_same_and_numbers_on_where_it_was() {
    let Some(db) = postgres_db("copy") else {
        return;
    };
    let ws = workspace_copy();
    let ws = ws.path();
    let voided = issued_with_a_void_and_a_revision(ws);
    let local = seen(ws, LOCAL);
    assert!(local.shown[&voided].contains("status     作废 (签约主体变更，作废重签)"));
    assert!(local.csv.contains("智能仓储管理系统实施及运维服务合同"));

    // SQLite → PostgreSQL.
    let run = pactum_in(ws, &["register", "copy", "--to", &db.url]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The default register, named as the workspace finds it.
    assert_copied(&run.stderr, ws, LOCAL, "./.pactum/register.sqlite", &db.url);
    assert_eq!(seen(ws, &db.url), local);

    // A build of the same records against the copy issues nothing new.
    let before: BTreeMap<String, (String, u64)> = serde_json::from_str::<Vec<serde_json::Value>>(
        &register(ws, LOCAL, &["export", "--format", "json"]),
    )
    .unwrap()
    .iter()
    .map(|r| {
        (
            r["record_id"].as_str().unwrap().to_owned(),
            (
                r["number"].as_str().unwrap().to_owned(),
                r["revision"]["revision"].as_u64().unwrap(),
            ),
        )
    })
    .collect();
    let rebuilt = build(ws, "o3", &db.url);
    assert_eq!(rebuilt.len() + 1, before.len(), "{rebuilt:?}");
    for (id, (number, revision, change)) in &rebuilt {
        assert_eq!(change, "unchanged", "{id} in {rebuilt:?}");
        assert_eq!((number, *revision), (&before[id].0, before[id].1), "{id}");
    }
    assert_eq!(seen(ws, &db.url), local, "the rebuild changed the copy");

    // PostgreSQL → a new SQLite file.
    let run = pactum_in(
        ws,
        &[
            "register",
            "--register",
            &db.url,
            "copy",
            "--to",
            "back.sqlite",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_copied(&run.stderr, ws, &db.url, &db.url, "back.sqlite");
    assert_eq!(seen(ws, "back.sqlite"), local);
    // What no export shows came along too: when the number was voided, and the counters.
    let stored = |file: &str| -> String {
        let conn = rusqlite::Connection::open(ws.join(file)).unwrap();
        let voided: String = conn
            .query_row(
                "SELECT number || '|' || voided_at FROM contracts WHERE status = 'void'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let mut stmt = conn
            .prepare("SELECT scope || '|' || last FROM sequences ORDER BY scope")
            .unwrap();
        let counters: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        format!("{voided}\n{}\n", counters.join("\n"))
    };
    let on_server = support::psql(
        &db.url,
        "SELECT number || '|' || voided_at FROM contracts WHERE status = 'void';
         SELECT scope || '|' || last FROM sequences ORDER BY scope COLLATE \"C\"",
    );
    assert!(
        stored(LOCAL).starts_with(&format!("{voided}|20")),
        "{}",
        stored(LOCAL)
    );
    assert_eq!(stored("back.sqlite"), stored(LOCAL));
    assert_eq!(on_server, stored(LOCAL));

    // The sequence counters came along: a new record gets the same next
    // number from the copy as from the original.
    let text = std::fs::read_to_string(ws.join("samples/contracts/fw-2026-004.yaml")).unwrap();
    std::fs::write(
        ws.join("samples/contracts/fw-2026-099.yaml"),
        text.replace("id: fw-2026-004", "id: fw-2026-099"),
    )
    .unwrap();
    let on_copy = build(ws, "o4", "back.sqlite");
    let on_original = build(ws, "o5", LOCAL);
    assert_eq!(on_copy["fw-2026-099"].2, "new");
    assert_eq!(on_copy["fw-2026-099"], on_original["fw-2026-099"]);
    assert_eq!(seen(ws, "back.sqlite").csv, seen(ws, LOCAL).csv);
}

#[test]
fn a_target_that_holds_anything_is_refused_and_left_unchanged() {
    let Some(db) = postgres_db("copy refused") else {
        return;
    };
    let Some(empty) = postgres_db("copy empty") else {
        return;
    };
    let ws = workspace_copy();
    let ws = ws.path();
    issued_with_a_void_and_a_revision(ws);
    let contracts = serde_json::from_str::<Vec<serde_json::Value>>(&register(
        ws,
        LOCAL,
        &["export", "--format", "json"],
    ))
    .unwrap()
    .len();

    // A database whose pactum tables exist but are empty is a fine target.
    register(ws, &empty.url, &["list"]);
    let run = pactum_in(ws, &["register", "copy", "--to", &empty.url]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    // Copying again into a register that holds contracts.
    let run = pactum_in(ws, &["register", "copy", "--to", &empty.url]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.stderr.lines().next().unwrap(),
        format!(
            "error: register copy refuses: target register {} is not empty ({contracts} contracts); copy into a new SQLite file or an empty PostgreSQL database",
            empty.url
        )
    );
    assert_eq!(seen(ws, &empty.url), seen(ws, LOCAL));

    // An SQLite file holding a register, whether another or the source itself.
    let run = pactum_in(ws, &["register", "copy", "--to", "other.sqlite"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for target in ["other.sqlite", LOCAL] {
        let bytes = std::fs::read(ws.join(target)).unwrap();
        let run = pactum_in(
            ws,
            &["register", "--register", &empty.url, "copy", "--to", target],
        );
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!(
                "target register {target} is not empty ({contracts} contracts)"
            )),
            "{}",
            run.stderr
        );
        assert!(
            std::fs::read(ws.join(target)).unwrap() == bytes,
            "{target} changed"
        );
    }

    // Only the sequence counters left (every contract deleted by hand): still not empty.
    register(ws, &db.url, &["list"]);
    support::psql(
        &db.url,
        "INSERT INTO sequences (scope, last) VALUES ('FW-2026-', 5)",
    );
    let run = pactum_in(ws, &["register", "copy", "--to", &db.url]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("is not empty (0 contracts)"),
        "{}",
        run.stderr
    );
    assert_eq!(
        support::psql(&db.url, "SELECT count(*) FROM contracts").trim(),
        "0",
        "a refused copy wrote into the target"
    );

    // A target URL with a password is refused before anything is opened, without showing it.
    let with_password = db.url_as(PG_PASSWORD_ROLE, Some(PG_PASSWORD));
    let run = pactum_in(ws, &["register", "copy", "--to", &with_password]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("carries a password"), "{}", run.stderr);
    assert!(!run.stderr.contains(PG_PASSWORD), "{}", run.stderr);
}
