//! The register benchmark: issuing on PostgreSQL against SQLite, two shard
//! processes against one process, and how long a shard holds the register's
//! lock. Prints figures as ratios measured side by side in one run (rounds
//! interleaved, medians); asserts nothing about time.
//!
//! Needs `PACTUM_TEST_POSTGRES` (a superuser URL; `tests/bench/run` starts a
//! throwaway cluster when it is unset) and `psql`.
//! `PACTUM_BENCH_REGISTER_SIZE` sets the batch (default 200 contracts).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_pactum");
const ROUNDS: usize = 3;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn psql(url: &str, sql: &str) {
    let out = Command::new("psql")
        .args(["-X", "-q", "-w", "-v", "ON_ERROR_STOP=1", url, "-c", sql])
        .output()
        .expect("psql is needed (apt-get install postgresql-client)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh database on the server; its URL.
fn database(admin: &str, name: &str) -> String {
    psql(
        admin,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    );
    psql(admin, &format!("CREATE DATABASE {name}"));
    let (base, query) = admin.split_once('?').unwrap_or((admin, ""));
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    format!("{base}/{name}?{query}")
}

fn build(records: &Path, out: &Path, register: &str, shard: Option<&str>) -> Command {
    let mut c = Command::new(BIN);
    c.args(["build", records.to_str().unwrap(), "--workspace"])
        .arg(repo())
        .arg("--out")
        .arg(out)
        .args([
            "--register",
            register,
            "--format",
            "json",
            "--lock-timeout",
            "600",
        ])
        .env("RAYON_NUM_THREADS", "1")
        .env("SOURCE_DATE_EPOCH", "1764000000");
    if let Some(s) = shard {
        c.args(["--shard", s]);
    }
    c
}

fn check(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON outcome")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let Ok(admin) = std::env::var("PACTUM_TEST_POSTGRES") else {
        eprintln!(
            "register bench: PACTUM_TEST_POSTGRES is not set (tests/bench/run starts a cluster)"
        );
        std::process::exit(2);
    };
    let n: usize = std::env::var("PACTUM_BENCH_REGISTER_SIZE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("records");
    let status = Command::new(BIN)
        .args(["synth", "--count", &n.to_string(), "--out"])
        .arg(&records)
        .status()
        .unwrap();
    assert!(status.success());
    let (mut sqlite, mut pg, mut one, mut two, mut lock_share) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let out = |tag: &str| dir.path().join(format!("{tag}-{round}"));
        // SQLite and PostgreSQL, one process of one thread each, fresh registers.
        let reg = dir.path().join(format!("r-{round}.sqlite"));
        let t = Instant::now();
        check(
            &build(&records, &out("lite"), reg.to_str().unwrap(), None)
                .output()
                .unwrap(),
        );
        sqlite.push(t.elapsed().as_secs_f64());
        let url = database(&admin, &format!("bench_pg_{round}"));
        let t = Instant::now();
        check(&build(&records, &out("pg"), &url, None).output().unwrap());
        let single = t.elapsed().as_secs_f64();
        pg.push(single);
        one.push(single);
        // Two shard processes of one thread each, at once, on one PostgreSQL register.
        let url = database(&admin, &format!("bench_shards_{round}"));
        let t = Instant::now();
        let children: Vec<_> = (1..=2)
            .map(|k| {
                build(
                    &records,
                    &out(&format!("s{k}")),
                    &url,
                    Some(&format!("{k}/2")),
                )
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
            })
            .collect();
        let started = t;
        for c in children {
            let outcome = check(&c.wait_with_output().unwrap());
            let wall = started.elapsed().as_secs_f64();
            lock_share.push(
                outcome["register_lock_seconds"]
                    .as_f64()
                    .unwrap_or(f64::NAN)
                    / wall,
            );
        }
        two.push(t.elapsed().as_secs_f64());
    }
    let (lite, pg, one, two) = (median(sqlite), median(pg), median(one), median(two));
    println!(
        "register bench: {n} contracts, 1 thread per process, {ROUNDS} interleaved rounds (medians)"
    );
    println!("  SQLite register            {lite:8.2} s");
    println!(
        "  PostgreSQL register        {pg:8.2} s   {:.3}x the SQLite time (target within 1.10x)",
        pg / lite
    );
    println!(
        "  2 shards at once (PG)      {two:8.2} s   {:.2}x the speed of one process (target >= 1.8x)",
        one / two
    );
    println!(
        "  register lock held by a shard: median {:.1} % of its wall time (target <= 5 %)",
        100.0 * median(lock_share)
    );
    for round in 0..ROUNDS {
        psql(
            &admin,
            &format!("DROP DATABASE IF EXISTS bench_pg_{round} WITH (FORCE)"),
        );
        psql(
            &admin,
            &format!("DROP DATABASE IF EXISTS bench_shards_{round} WITH (FORCE)"),
        );
    }
}
