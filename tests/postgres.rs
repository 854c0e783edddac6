//! The PostgreSQL register, against a real server (tests/support: one fresh
//! database per test): the same numbers, bytes and 登记表 as SQLite; many
//! processes issuing at once; builds killed at any instant, a dropped
//! connection and a restarted server; and the faults a user meets (bad
//! password, unreachable server, a database that is not a register, a newer
//! schema), each one line, exit 2, nothing consumed, no password shown.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{PG_PASSWORD, PG_PASSWORD_ROLE, pactum_env, postgres_db, psql, repo, tempdir};

/// A records folder: the sample parties plus `n` service contracts `<prefix>-NNN`.
fn batch(dir: &Path, prefix: &str, n: usize) -> PathBuf {
    let records = dir.join(format!("records-{prefix}"));
    std::fs::create_dir_all(records.join("parties")).unwrap();
    for e in std::fs::read_dir(repo().join("samples/parties")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), records.join("parties").join(e.file_name())).unwrap();
    }
    let template =
        std::fs::read_to_string(repo().join("samples/contracts/fw-2026-003.yaml")).unwrap();
    for i in 0..n {
        let text = template.replace("id: fw-2026-003", &format!("id: {prefix}-{i:03}"));
        std::fs::write(records.join(format!("{prefix}-{i:03}.yaml")), text).unwrap();
    }
    records
}

const EPOCH: (&str, &str) = ("SOURCE_DATE_EPOCH", "1764000000");

fn build(records: &Path, out: &Path, register: &str) -> support::Run {
    pactum_env(
        &repo(),
        &[EPOCH],
        &[
            "build",
            records.to_str().unwrap(),
            "--workspace",
            ".",
            "--out",
            out.to_str().unwrap(),
            "--register",
            register,
            "--lock-timeout",
            "300",
        ],
    )
}

/// `pactum build` of `records` into `out` as a child process (kill, cut, restart tests).
fn build_cmd(records: &Path, out: &Path, register: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pactum"));
    c.args(["build", records.to_str().unwrap(), "--workspace", ".", "-q"])
        .arg("--out")
        .arg(out)
        .args(["--register", register, "--lock-timeout", "300"])
        .env("SOURCE_DATE_EPOCH", EPOCH.1)
        .current_dir(repo());
    c
}

/// record id → number, from `register export --format json`.
fn numbers(register: &str) -> BTreeMap<String, String> {
    let run = pactum_env(
        &repo(),
        &[],
        &[
            "register",
            "--register",
            register,
            "export",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).unwrap();
    rows.iter()
        .map(|r| {
            (
                r["record_id"].as_str().unwrap().to_owned(),
                r["number"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn assert_contiguous(numbers: &BTreeMap<String, String>, prefix: &str) {
    let mut seqs: Vec<u64> = numbers
        .values()
        .filter_map(|n| n.strip_prefix(prefix))
        .map(|s| s.parse().unwrap())
        .collect();
    seqs.sort();
    let want: Vec<u64> = (1..=seqs.len() as u64).collect();
    assert_eq!(
        seqs, want,
        "numbers are not 1..n without gaps or duplicates"
    );
}

fn export_csv(register: &str) -> String {
    let run = pactum_env(
        &repo(),
        &[],
        &[
            "register",
            "--register",
            register,
            "export",
            "--format",
            "csv",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout
}

#[test]
fn the_samples_issue_the_same_numbers_bytes_and_register_on_postgres_as_on_sqlite() {
    let Some(db) = postgres_db("samples") else {
        return;
    };
    let dir = tempdir();
    let sqlite = dir.path().join("r.sqlite");
    let samples = repo().join("samples");
    let run = build(&samples, &dir.path().join("lite"), sqlite.to_str().unwrap());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = build(&samples, &dir.path().join("pg"), &db.url);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for e in std::fs::read_dir(dir.path().join("lite")).unwrap() {
        let name = e.unwrap().file_name();
        assert!(
            std::fs::read(dir.path().join("lite").join(&name)).unwrap()
                == std::fs::read(dir.path().join("pg").join(&name)).unwrap(),
            "{name:?} differs between the SQLite and the PostgreSQL register"
        );
    }
    assert_eq!(export_csv(sqlite.to_str().unwrap()), export_csv(&db.url));
    // An unchanged rebuild: the same numbers, nothing new.
    let before = export_csv(&db.url);
    let run = build(&samples, &dir.path().join("pg2"), &db.url);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(export_csv(&db.url), before);
    // Void, show and the versioned schema, as on SQLite.
    let number = numbers(&db.url)["fw-2026-002"].clone();
    let run = pactum_env(
        &repo(),
        &[],
        &[
            "register",
            "--register",
            &db.url,
            "void",
            &number,
            "--reason",
            "作废重签",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let show = pactum_env(
        &repo(),
        &[],
        &["register", "--register", &db.url, "show", &number],
    );
    assert!(
        show.stdout.contains("作废") && show.stdout.contains("why      first issue"),
        "{}",
        show.stdout
    );
    assert_eq!(
        psql(&db.url, "SELECT version FROM pactum_schema").trim(),
        pactum::register::SCHEMA_VERSION.to_string()
    );
    // The counter rows are what a rerun numbers from.
    assert_eq!(
        psql(
            &db.url,
            "SELECT last FROM sequences WHERE scope = 'FW-2026-'"
        )
        .trim(),
        "5"
    );
}

#[test]
fn four_processes_issuing_at_once_never_duplicate_or_skip_a_number() {
    let Some(db) = postgres_db("concurrent") else {
        return;
    };
    let dir = tempdir();
    let batches: Vec<PathBuf> = ["a", "b", "c", "d"]
        .iter()
        .map(|p| batch(dir.path(), p, 6))
        .collect();
    let children: Vec<_> = batches
        .iter()
        .enumerate()
        .map(|(k, records)| {
            build_cmd(records, &dir.path().join(format!("out-{k}")), &db.url)
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let all = numbers(&db.url);
    assert_eq!(all.len(), 24);
    assert_contiguous(&all, "FW-2026-");
    let distinct: BTreeSet<&String> = all.values().collect();
    assert_eq!(distinct.len(), 24, "a number was handed out twice");
}

#[test]
fn a_build_killed_at_any_instant_consumes_no_number_and_a_rerun_finishes_the_same() {
    let Some(db) = postgres_db("killed") else {
        return;
    };
    let Some(reference) = postgres_db("killed_ref") else {
        return;
    };
    let dir = tempdir();
    let records = batch(dir.path(), "k", 16);
    let started = Instant::now();
    let run = build(&records, &dir.path().join("ref"), &reference.url);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let full = started.elapsed();
    let expected = numbers(&reference.url);
    let out = dir.path().join("out");
    // Kills spread over the whole run, the last ones in its final moments
    // (the PDFs renamed, COMMIT sent but perhaps not acknowledged).
    let mut delays: Vec<Duration> = (0..8).map(|k| full * k / 8).collect();
    delays.extend((1..=6).map(|k| full.saturating_sub(Duration::from_millis(15 * k))));
    for delay in delays {
        let mut child = build_cmd(&records, &out, &db.url)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        let now = numbers(&db.url);
        assert!(
            now.is_empty() || now.len() == expected.len(),
            "half a batch recorded: {now:?}"
        );
        for (id, n) in &now {
            assert_eq!(Some(n), expected.get(id), "after a kill at {delay:?}");
        }
        // No transaction is left holding the lock.
        let idle = psql(
            &db.url,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
        );
        assert_eq!(idle.trim(), "0", "a killed build left a transaction open");
    }
    let run = build(&records, &out, &db.url);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(numbers(&db.url), expected);
    assert_contiguous(&numbers(&db.url), "FW-2026-");
}

#[test]
fn a_connection_dropped_mid_batch_is_exit_2_with_nothing_recorded() {
    let Some(db) = postgres_db("dropped") else {
        return;
    };
    let dir = tempdir();
    let records = batch(dir.path(), "d", 40);
    let child = build_cmd(&records, &dir.path().join("out"), &db.url)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the build holds the register's lock, then cut its connection.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let held = psql(
            &db.url,
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted",
        );
        if held.trim() != "0" {
            break;
        }
        assert!(Instant::now() < deadline, "the build never took the lock");
        std::thread::sleep(Duration::from_millis(20));
    }
    psql(
        &db.url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pactum'",
    );
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("register postgres://"), "{stderr}");
    assert!(numbers(&db.url).is_empty());
    assert_eq!(support::pdf_count(&dir.path().join("out")), 0);
    let run = build(&records, &dir.path().join("out"), &db.url);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_contiguous(&numbers(&db.url), "FW-2026-");
}

#[test]
fn a_server_restarted_mid_batch_consumes_nothing_and_a_rerun_completes() {
    let Some(db) = support::postgres_db_exclusive("restart") else {
        return;
    };
    let dir = tempdir();
    let records = batch(dir.path(), "r", 40);
    let child = build_cmd(&records, &dir.path().join("out"), &db.url)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    support::pg_restart(&db);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Either the build had not connected yet and waited for the server
    // (exit 0), or it lost the connection (exit 2, nothing recorded).
    match out.status.code() {
        Some(2) => {
            assert!(
                stderr.contains("cannot reach the PostgreSQL server"),
                "{stderr}"
            );
            assert!(numbers(&db.url).is_empty());
        }
        Some(0) => assert_contiguous(&numbers(&db.url), "FW-2026-"),
        other => panic!("exit {other:?}: {stderr}"),
    }
    let run = build(&records, &dir.path().join("out"), &db.url);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let all = numbers(&db.url);
    assert_eq!(all.len(), 40);
    assert_contiguous(&all, "FW-2026-");
}

#[test]
fn faults_are_one_line_exit_2_name_the_register_and_never_show_the_password() {
    let Some(db) = postgres_db("faults") else {
        return;
    };
    let dir = tempdir();
    let samples = repo().join("samples");
    let as_role = db.url_as(PG_PASSWORD_ROLE, None);
    let one_line = |run: &support::Run| {
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
        assert!(!run.stderr.contains(PG_PASSWORD), "{}", run.stderr);
        assert!(!run.stdout.contains(PG_PASSWORD), "{}", run.stdout);
    };
    let issue = |url: &str, env: &[(&str, &str)]| {
        pactum_env(
            &repo(),
            env,
            &[
                "build",
                samples.to_str().unwrap(),
                "--out",
                dir.path().join("o").to_str().unwrap(),
                "--register",
                url,
            ],
        )
    };
    // A wrong password.
    let run = issue(
        &as_role,
        &[("PGPASSWORD", "wrong"), ("PGPASSFILE", "/dev/null")],
    );
    one_line(&run);
    assert!(run.stderr.contains("refused the login"), "{}", run.stderr);
    // The right one from PGPASSWORD, and from a .pgpass file.
    let run = issue(&as_role, &[("PGPASSWORD", PG_PASSWORD)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let pgpass = dir.path().join("pgpass");
    std::fs::write(
        &pgpass,
        format!("localhost:*:*:{PG_PASSWORD_ROLE}:{PG_PASSWORD}\n"),
    )
    .unwrap();
    let run = pactum_env(
        &repo(),
        &[("PGPASSFILE", pgpass.to_str().unwrap())],
        &["register", "--register", &as_role, "list"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("FW-2026-0001"), "{}", run.stdout);
    // A password in the URL is refused before anything connects, and not echoed.
    let run = issue(&db.url_as(PG_PASSWORD_ROLE, Some(PG_PASSWORD)), &[]);
    one_line(&run);
    assert!(
        run.stderr.contains("carries a password") && run.stderr.contains(":***@"),
        "{}",
        run.stderr
    );
    // A server that is not there.
    let run = issue(
        "postgres://postgres@/nothing?host=/nonexistent-socket-dir&port=5432",
        &[],
    );
    one_line(&run);
    assert!(
        run.stderr.contains("cannot reach the PostgreSQL server"),
        "{}",
        run.stderr
    );
    // A database that holds something else.
    let Some(other) = postgres_db("not_a_register") else {
        return;
    };
    psql(&other.url, "CREATE TABLE invoices (id int)");
    let run = issue(&other.url, &[]);
    one_line(&run);
    assert!(
        run.stderr.contains("not a pactum register"),
        "{}",
        run.stderr
    );
    // A register written by a newer pactum.
    psql(&db.url, "UPDATE pactum_schema SET version = 99");
    let before = psql(&db.url, "SELECT count(*) FROM revisions");
    let run = issue(&db.url, &[]);
    one_line(&run);
    assert!(run.stderr.contains("schema version 99"), "{}", run.stderr);
    assert_eq!(psql(&db.url, "SELECT count(*) FROM revisions"), before);
}

#[test]
fn the_least_privilege_role_of_the_readme_can_issue_void_and_export() {
    let Some(db) = postgres_db("least_privilege") else {
        return;
    };
    let dir = tempdir();
    let samples = repo().join("samples");
    // The owner creates the tables once (the first open).
    let run = pactum_env(&repo(), &[], &["register", "--register", &db.url, "list"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The role README "PostgreSQL register" describes, with exactly its grants.
    let role = format!("issuer_{}", db.name);
    psql(
        &db.url,
        &format!(
            "CREATE ROLE {role} LOGIN PASSWORD '{PG_PASSWORD}';
             GRANT CONNECT ON DATABASE {name} TO {role};
             GRANT USAGE ON SCHEMA public TO {role};
             GRANT SELECT ON pactum_schema TO {role};
             GRANT SELECT, INSERT, UPDATE ON sequences, contracts TO {role};
             GRANT SELECT, INSERT ON revisions, revision_files TO {role};
             GRANT SELECT, INSERT, DELETE ON reservations TO {role};",
            name = db.name
        ),
    );
    let url = db.url_as(&role, None);
    let env = [("PGPASSWORD", PG_PASSWORD), EPOCH];
    let run = pactum_env(
        &repo(),
        &env,
        &[
            "build",
            samples.to_str().unwrap(),
            "--out",
            dir.path().join("o").to_str().unwrap(),
            "--register",
            &url,
            // As one shard of one: reserving and issuing need the same grants.
            "--shard",
            "1/1",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        psql(&db.url, "SELECT count(*) FROM reservations").trim(),
        "0"
    );
    let number = numbers(&db.url)["fw-2026-001"].clone();
    let run = pactum_env(
        &repo(),
        &env,
        &[
            "register",
            "--register",
            &url,
            "void",
            &number,
            "--reason",
            "测试",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = pactum_env(
        &repo(),
        &env,
        &["register", "--register", &url, "export", "--format", "csv"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // It cannot delete what the register holds.
    let denied = support::psql_try(
        &url,
        "DELETE FROM revisions",
        &[("PGPASSWORD", PG_PASSWORD)],
    );
    assert!(denied.is_err_and(|e| e.contains("permission denied")));
    psql(
        &db.url,
        &format!(
            "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}; REVOKE ALL ON SCHEMA public FROM {role}; REVOKE ALL ON DATABASE {} FROM {role}",
            db.name
        ),
    );
    drop(db);
    let admin = std::env::var("PACTUM_TEST_POSTGRES").unwrap();
    psql(&admin, &format!("DROP ROLE {role}"));
}

#[test]
fn tls_is_used_when_the_server_offers_it() {
    let Some(db) = postgres_db("tls") else {
        return;
    };
    let port = match std::env::var("PACTUM_TEST_POSTGRES_TLS_PORT") {
        Ok(p) => p,
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!(
                "PACTUM_TEST_POSTGRES_TLS_PORT is not set; .ci/run starts the cluster with a TLS port"
            )
        }
        Err(_) => {
            eprintln!("skipped: PACTUM_TEST_POSTGRES_TLS_PORT not set");
            return;
        }
    };
    // The server's loopback port accepts TLS connections only (hostssl), so a
    // register that opens there spoke TLS; with sslmode=disable it is refused.
    let tcp = format!("postgres://postgres@127.0.0.1:{port}/{}", db.name);
    let run = pactum_env(&repo(), &[], &["register", "--register", &tcp, "list"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = pactum_env(
        &repo(),
        &[],
        &[
            "register",
            "--register",
            &format!("{tcp}?sslmode=require"),
            "list",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = pactum_env(
        &repo(),
        &[],
        &[
            "register",
            "--register",
            &format!("{tcp}?sslmode=disable"),
            "list",
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no encryption"), "{}", run.stderr);
    // The tables were made over TLS.
    assert_eq!(
        psql(&db.url, "SELECT count(*) FROM pactum_schema").trim(),
        "1"
    );
}
