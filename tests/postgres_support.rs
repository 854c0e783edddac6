//! The PostgreSQL test harness against the real server: fresh databases per
//! test, dropped afterwards; the password role; restarting the server.
//!
//! Without `PACTUM_TEST_POSTGRES` these tests say "skipped" and pass, except
//! under `CI=true`, where they fail (tests/README.md, "PostgreSQL").

mod support;

use support::{PG_PASSWORD, PG_PASSWORD_ROLE, psql, psql_try};

/// The server's superuser URL, for looking at databases from outside.
fn admin() -> String {
    std::env::var("PACTUM_TEST_POSTGRES").unwrap()
}

fn database_exists(name: &str) -> bool {
    let sql = format!("SELECT count(*) FROM pg_database WHERE datname = '{name}'");
    psql(&admin(), &sql).trim() == "1"
}

/// A psql session on `db` sleeping for a minute, once the server shows it connected.
fn sleeping_session(db: &support::PgDb) -> std::process::Child {
    let session = std::process::Command::new("psql")
        .args(["-X", "-q", "-w", &db.url, "-c", "SELECT pg_sleep(60)"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let connected = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = '{}'",
        db.name
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while psql(&admin(), &connected).trim() == "0" {
        assert!(
            std::time::Instant::now() < deadline,
            "the psql session never connected"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    session
}

#[test]
fn two_databases_are_distinct_usable_and_dropped_even_with_a_session_open() {
    let Some(a) = support::postgres_db("self test a") else {
        return;
    };
    let Some(b) = support::postgres_db("self test b") else {
        return;
    };
    assert_ne!(a.name, b.name);
    assert_ne!(a.url, b.url);
    assert_eq!(psql(&a.url, "select 1"), "1\n");
    assert_eq!(psql(&a.url, "select current_database()").trim(), a.name);
    assert_eq!(psql(&b.url, "select current_database()").trim(), b.name);

    // A table made in one is not in the other.
    psql(&a.url, "CREATE TABLE t (n int); INSERT INTO t VALUES (7)");
    assert_eq!(psql(&a.url, "SELECT n FROM t"), "7\n");
    let err = psql_try(&b.url, "SELECT n FROM t", &[]).unwrap_err();
    assert!(err.contains(r#"relation "t" does not exist"#), "{err}");

    // A session still open (as a killed build's might be) does not stop the drop.
    let mut session = sleeping_session(&a);
    let (a_name, b_name) = (a.name.clone(), b.name.clone());
    drop(a);
    assert!(!database_exists(&a_name), "{a_name} survived its PgDb");
    assert!(
        !session.wait().unwrap().success(),
        "the open session was not ended by the drop"
    );
    assert!(
        database_exists(&b_name),
        "dropping one database dropped the other"
    );
    drop(b);
    assert!(!database_exists(&b_name), "{b_name} survived its PgDb");
}

#[test]
fn the_password_role_cannot_connect_without_its_password() {
    let Some(db) = support::postgres_db("password") else {
        return;
    };
    let who = "SELECT current_user";

    let none = psql_try(&db.url_as(PG_PASSWORD_ROLE, None), who, &[]).unwrap_err();
    assert!(none.contains("no password supplied"), "{none}");
    let wrong = psql_try(&db.url_as(PG_PASSWORD_ROLE, Some("wrong")), who, &[]).unwrap_err();
    assert!(wrong.contains("password authentication failed"), "{wrong}");
    let wrong_env = psql_try(
        &db.url_as(PG_PASSWORD_ROLE, None),
        who,
        &[("PGPASSWORD", "wrong")],
    );
    assert!(
        wrong_env
            .unwrap_err()
            .contains("password authentication failed")
    );

    let env = psql_try(
        &db.url_as(PG_PASSWORD_ROLE, None),
        who,
        &[("PGPASSWORD", PG_PASSWORD)],
    );
    assert_eq!(env.unwrap().trim(), PG_PASSWORD_ROLE);
    let in_url = db.url_as(PG_PASSWORD_ROLE, Some(PG_PASSWORD));
    assert_eq!(psql(&in_url, who).trim(), PG_PASSWORD_ROLE);
    // It owns the test database, so it can make a register there.
    psql(
        &in_url,
        "CREATE TABLE mine (n int); INSERT INTO mine VALUES (1)",
    );
    assert_eq!(
        psql(
            &db.url,
            "SELECT tableowner FROM pg_tables WHERE tablename = 'mine'"
        )
        .trim(),
        PG_PASSWORD_ROLE
    );
}

#[test]
fn a_restart_cuts_sessions_and_keeps_committed_data() {
    let Some(db) = support::postgres_db_exclusive("restart") else {
        return;
    };
    psql(
        &db.url,
        "CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)",
    );
    let started = "SELECT pg_postmaster_start_time()";
    let before = psql(&db.url, started);

    let mut session = sleeping_session(&db);
    support::pg_restart(&db);

    assert!(
        !session.wait().unwrap().success(),
        "a session survived the restart"
    );
    assert_ne!(psql(&db.url, started), before, "the server did not restart");
    assert_eq!(psql(&db.url, "SELECT n FROM kept"), "42\n");
}
