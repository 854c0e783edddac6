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

// PostgreSQL (tests/README.md, "PostgreSQL"): a throwaway cluster started by
// tests/support/pg-cluster (.ci/run does it), one fresh database per test.

/// The cluster's role that must give a password (scram-sha-256), and its password.
pub const PG_PASSWORD_ROLE: &str = "pactum_pw";
/// See [`PG_PASSWORD_ROLE`]; URL-safe, so it goes into a URL as it is.
pub const PG_PASSWORD: &str = "pactum-pw-secret";

/// How this process's tests use the server: how many databases are held, and
/// whether one test holds it alone (to restart it).
struct ServerUse {
    shared: usize,
    exclusive: bool,
}
static PG_SERVER: std::sync::Mutex<ServerUse> = std::sync::Mutex::new(ServerUse {
    shared: 0,
    exclusive: false,
});
static PG_SERVER_FREED: std::sync::Condvar = std::sync::Condvar::new();

/// A test's share of the server, given back on drop (also when the test panics).
///
/// Not a `RwLock`: std's lets a waiting writer block new readers, so a test
/// taking its second database while a restart test waits would deadlock. Here a
/// shared hold waits only while a test holds the server alone.
struct PgHold {
    exclusive: bool,
}

impl PgHold {
    fn take(exclusive: bool) -> PgHold {
        let mut use_ = PG_SERVER.lock().unwrap_or_else(|e| e.into_inner());
        while use_.exclusive || (exclusive && use_.shared > 0) {
            use_ = PG_SERVER_FREED
                .wait(use_)
                .unwrap_or_else(|e| e.into_inner());
        }
        if exclusive {
            use_.exclusive = true;
        } else {
            use_.shared += 1;
        }
        PgHold { exclusive }
    }
}

impl Drop for PgHold {
    fn drop(&mut self) {
        let mut use_ = PG_SERVER.lock().unwrap_or_else(|e| e.into_inner());
        if self.exclusive {
            use_.exclusive = false;
        } else {
            use_.shared -= 1;
        }
        PG_SERVER_FREED.notify_all();
    }
}

/// A fresh database on the test server, dropped (`WITH (FORCE)`) when this value is dropped.
pub struct PgDb {
    /// Superuser URL of this database: the server's URL with the database name replaced.
    pub url: String,
    /// The database's name (`pactum_<pid>_<n>_<hint>`).
    pub name: String,
    /// The server's URL (`PACTUM_TEST_POSTGRES`), which creates and drops databases.
    admin: String,
    hold: PgHold,
}

impl PgDb {
    /// This database's URL as `user`, with `password` in it when given.
    pub fn url_as(&self, user: &str, password: Option<&str>) -> String {
        pg_url(&self.url, user, password)
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        match psql_try(&self.admin, &sql, &[]) {
            Ok(_) => {}
            // A second panic while a failed test unwinds would abort and hide its message.
            Err(e) if std::thread::panicking() => eprintln!("could not drop {}: {e}", self.name),
            Err(e) => panic!("could not drop the test database {} ({e})", self.name),
        }
    }
}

/// A fresh database on the server named by `PACTUM_TEST_POSTGRES`, or `None`
/// (with a note on stderr) when it is unset; under `CI=true` an unset variable
/// fails the test instead, so CI never passes a test whose real part was skipped.
pub fn postgres_db(name_hint: &str) -> Option<PgDb> {
    create_db(name_hint, false)
}

/// [`postgres_db`] for a test that calls [`pg_restart`]: it waits until no other
/// test of this process holds a database, and holds the server alone until
/// dropped. It must be the only database its test holds (or it waits forever).
pub fn postgres_db_exclusive(name_hint: &str) -> Option<PgDb> {
    create_db(name_hint, true)
}

fn create_db(name_hint: &str, exclusive: bool) -> Option<PgDb> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNTER: AtomicUsize = AtomicUsize::new(0);

    let admin = match std::env::var("PACTUM_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var("CI").as_deref() == Ok("true") => panic!(
            "PACTUM_TEST_POSTGRES is not set under CI=true: a PostgreSQL test must not skip in CI \
             (.ci/run starts a cluster with tests/support/pg-cluster and exports it)"
        ),
        _ => {
            eprintln!(
                "skipped: PACTUM_TEST_POSTGRES not set (tests/support/pg-cluster start DIR prints one)"
            );
            return None;
        }
    };
    let hold = PgHold::take(exclusive);
    let hint: String = name_hint
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut name = format!("pactum_{}_{n}_{hint}", std::process::id());
    name.truncate(63); // PostgreSQL's identifier limit; the name is ASCII
    // Owned by the password role, so a test can also work in it as that role
    // (PostgreSQL 15 gives the public schema's rights to the database owner).
    psql(
        &admin,
        &format!("CREATE DATABASE \"{name}\" OWNER {PG_PASSWORD_ROLE}"),
    );
    let url = pg_url_db(&admin, &name);
    Some(PgDb {
        url,
        name,
        admin,
        hold,
    })
}

/// Runs `sql` (one or more statements; the output is the last one's) with
/// `psql` and returns its rows unaligned (`|` between columns, one row a line);
/// fails the test if psql cannot connect or a statement fails.
pub fn psql(url: &str, sql: &str) -> String {
    psql_try(url, sql, &[]).unwrap_or_else(|e| panic!("psql `{sql}` failed on {url}: {e}"))
}

/// [`psql`] with variables set (`PGPASSWORD`), returning psql's stderr on failure.
/// Never prompts for a password (`-w`), and reads neither `~/.pgpass` nor a
/// `PGPASSWORD` from the test's environment.
pub fn psql_try(url: &str, sql: &str, env: &[(&str, &str)]) -> Result<String, String> {
    let out = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-w",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            url,
            "-c",
            sql,
        ])
        .env_remove("PGPASSWORD")
        .env("PGPASSFILE", "/dev/null")
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "`psql` is needed by this test and could not run ({e}); .ci/run installs postgresql"
            )
        });
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// Restarts the test server (`pg_ctl restart -m fast` on `PACTUM_TEST_POSTGRES_DIR`):
/// every open connection is cut. Takes the exclusive database of the calling
/// test, so no other test of this process is using the server at the time.
pub fn pg_restart(db: &PgDb) {
    assert!(
        db.hold.exclusive,
        "pg_restart needs a database from postgres_db_exclusive: other tests share the server"
    );
    let dir = std::env::var("PACTUM_TEST_POSTGRES_DIR").unwrap_or_else(|_| {
        panic!("PACTUM_TEST_POSTGRES_DIR (the cluster's folder) is not set; .ci/run exports it next to PACTUM_TEST_POSTGRES")
    });
    let script = repo().join("tests/support/pg-cluster");
    tool(script.to_str().unwrap(), &["restart", &dir], &repo());
}

/// `url` with the database name replaced: `postgres://USER@HOST/DB?PARAMS`,
/// where HOST may be empty (then `host=` in PARAMS names the socket folder).
fn pg_url_db(url: &str, dbname: &str) -> String {
    let (scheme, userinfo, host, _, params) = pg_url_parts(url);
    format!("{scheme}{userinfo}{host}/{dbname}{params}")
}

/// `url` as another user, with `password` when given.
fn pg_url(url: &str, user: &str, password: Option<&str>) -> String {
    let (scheme, _, host, db, params) = pg_url_parts(url);
    let userinfo = match password {
        Some(p) => format!("{user}:{p}@"),
        None => format!("{user}@"),
    };
    format!("{scheme}{userinfo}{host}{db}{params}")
}

/// Splits a libpq URL into scheme, `user[:password]@`, host, `/db` and `?params` (each may be empty).
fn pg_url_parts(url: &str) -> (&str, &str, &str, &str, &str) {
    let rest_at = url.find("://").map_or_else(
        || panic!("PACTUM_TEST_POSTGRES must be a postgres:// URL, got `{url}`"),
        |i| i + 3,
    );
    let (scheme, rest) = url.split_at(rest_at);
    let (rest, params) = rest.split_at(rest.find('?').unwrap_or(rest.len()));
    let (authority, db) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (userinfo, host) = authority.split_at(authority.rfind('@').map_or(0, |i| i + 1));
    (scheme, userinfo, host, db, params)
}
