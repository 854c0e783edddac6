//! One batch on several machines: `build --shard K/N` processes numbering
//! from one PostgreSQL register (and one SQLite file), gathered with
//! `pactum gather`, give exactly the folder one unsharded build writes,
//! whatever the order and timing; a killed shard leaves only reservations,
//! which a rerun completes; bad shard flags are refused before any work.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use support::{pactum_env, postgres_db, psql, repo, tempdir};

const EPOCH: &str = "1764000000";

/// A records folder: the sample parties plus the sample contracts and `n`
/// more service contracts, so each of three shards has several documents.
fn batch(dir: &Path, n: usize) -> PathBuf {
    let records = dir.join("records");
    for sub in ["parties", "contracts"] {
        std::fs::create_dir_all(records.join(sub)).unwrap();
        for e in std::fs::read_dir(repo().join("samples").join(sub)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), records.join(sub).join(e.file_name())).unwrap();
        }
    }
    let template =
        std::fs::read_to_string(repo().join("samples/contracts/fw-2026-003.yaml")).unwrap();
    for i in 0..n {
        let text = template.replace("id: fw-2026-003", &format!("id: s-{i:03}"));
        std::fs::write(records.join(format!("contracts/s-{i:03}.yaml")), text).unwrap();
    }
    records
}

fn build_cmd(records: &Path, out: &Path, register: &str, shard: Option<&str>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pactum"));
    c.args(["build", records.to_str().unwrap(), "--workspace", ".", "-q"])
        .arg("--out")
        .arg(out)
        .args(["--register", register, "--lock-timeout", "300"])
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .env("NO_COLOR", "1")
        .current_dir(repo());
    if let Some(s) = shard {
        c.args(["--shard", s]);
    }
    c
}

fn run(mut c: Command) {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn gather(shards: &[PathBuf], out: &Path, register: &str) -> support::Run {
    let mut args = vec!["gather".to_owned()];
    args.extend(shards.iter().map(|s| s.to_str().unwrap().to_owned()));
    args.extend([
        "--out".into(),
        out.to_str().unwrap().into(),
        "--register".into(),
        register.into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    pactum_env(&repo(), &[("SOURCE_DATE_EPOCH", EPOCH)], &args)
}

/// Every file of `a` is in `b` with the same bytes, and nothing else is.
fn assert_same_folder(a: &Path, b: &Path) {
    let names = |d: &Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(a), names(b));
    for n in names(a) {
        assert!(
            std::fs::read(a.join(&n)).unwrap() == std::fs::read(b.join(&n)).unwrap(),
            "{n} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

#[test]
fn three_shards_at_once_or_in_any_order_write_exactly_what_one_build_writes() {
    let (Some(one), Some(together), Some(reversed)) = (
        postgres_db("shards_one"),
        postgres_db("shards_together"),
        postgres_db("shards_reversed"),
    ) else {
        return;
    };
    let dir = tempdir();
    let records = batch(dir.path(), 9);
    let whole = dir.path().join("whole");
    run(build_cmd(&records, &whole, &one.url, None));
    // Three processes at once on one register.
    let outs: Vec<PathBuf> = (1..=3).map(|k| dir.path().join(format!("t{k}"))).collect();
    let children: Vec<_> = outs
        .iter()
        .enumerate()
        .map(|(k, out)| {
            build_cmd(&records, out, &together.url, Some(&format!("{}/3", k + 1)))
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
    // Every shard typeset a share, and the shares are the whole batch.
    let counts: Vec<usize> = outs.iter().map(|o| support::pdf_count(o)).collect();
    assert!(counts.iter().all(|c| *c > 0), "{counts:?}");
    assert_eq!(counts.iter().sum::<usize>(), support::pdf_count(&whole));
    let gathered = dir.path().join("gathered");
    let g = gather(&outs, &gathered, &together.url);
    assert_eq!(g.code, 0, "{}", g.stderr);
    assert_same_folder(&whole, &gathered);
    // One after the other, last shard first.
    let outs: Vec<PathBuf> = (1..=3).map(|k| dir.path().join(format!("r{k}"))).collect();
    for k in [3, 1, 2] {
        run(build_cmd(
            &records,
            &outs[k - 1],
            &reversed.url,
            Some(&format!("{k}/3")),
        ));
    }
    let g = gather(&outs, &dir.path().join("gathered2"), &reversed.url);
    assert_eq!(g.code, 0, "{}", g.stderr);
    assert_same_folder(&whole, &dir.path().join("gathered2"));
    // Nothing is left reserved.
    assert_eq!(
        psql(&reversed.url, "SELECT count(*) FROM reservations").trim(),
        "0"
    );
}

#[test]
fn shards_on_one_sqlite_register_write_what_one_build_writes() {
    let dir = tempdir();
    let records = batch(dir.path(), 4);
    let whole = dir.path().join("whole");
    run(build_cmd(
        &records,
        &whole,
        dir.path().join("one.sqlite").to_str().unwrap(),
        None,
    ));
    let reg = dir.path().join("shared.sqlite");
    let outs: Vec<PathBuf> = (1..=2).map(|k| dir.path().join(format!("s{k}"))).collect();
    for k in [2, 1] {
        run(build_cmd(
            &records,
            &outs[k - 1],
            reg.to_str().unwrap(),
            Some(&format!("{k}/2")),
        ));
    }
    let g = gather(&outs, &dir.path().join("g"), reg.to_str().unwrap());
    assert_eq!(g.code, 0, "{}", g.stderr);
    assert_same_folder(&whole, &dir.path().join("g"));
}

#[test]
fn a_killed_shard_leaves_reservations_only_and_running_it_again_completes_the_batch() {
    let (Some(reference), Some(db)) = (postgres_db("kill_ref"), postgres_db("kill_shard")) else {
        return;
    };
    let dir = tempdir();
    let records = batch(dir.path(), 6);
    let whole = dir.path().join("whole");
    let started = Instant::now();
    run(build_cmd(&records, &whole, &reference.url, None));
    let full = started.elapsed();
    let outs: Vec<PathBuf> = (1..=2).map(|k| dir.path().join(format!("s{k}"))).collect();
    // Shard 1 killed again and again; shard 2 runs through in between.
    for step in 0..6u32 {
        let mut child = build_cmd(&records, &outs[0], &db.url, Some("1/2"))
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // All within the first half of one build's time: shard 1 never finishes.
        std::thread::sleep(full * step / 12);
        let _ = child.kill();
        let _ = child.wait();
        // Whatever is issued or reserved is what one build issues.
        let Ok(issued) = support::psql_try(
            &db.url,
            "SELECT record_id, number FROM contracts UNION ALL SELECT record_id, number FROM reservations ORDER BY 1",
            &[],
        ) else {
            continue; // killed before the register's tables existed
        };
        let expected = psql(
            &reference.url,
            "SELECT record_id, number FROM contracts ORDER BY 1",
        );
        for line in issued.lines() {
            assert!(
                expected.lines().any(|e| e == line),
                "{line} is not what one build issues"
            );
        }
        if step == 2 {
            run(build_cmd(&records, &outs[1], &db.url, Some("2/2")));
        }
    }
    // While shard 1 has not finished, gather refuses and the register shows what is reserved.
    let list = pactum_env(&repo(), &[], &["register", "--register", &db.url, "list"]);
    let reserved: usize = psql(&db.url, "SELECT count(*) FROM reservations")
        .trim()
        .parse()
        .unwrap();
    assert_eq!(
        list.stdout.matches("预留").count(),
        reserved,
        "{}",
        list.stdout
    );
    run(build_cmd(&records, &outs[0], &db.url, Some("1/2")));
    assert_eq!(
        psql(&db.url, "SELECT count(*) FROM reservations").trim(),
        "0"
    );
    let g = gather(&outs, &dir.path().join("g"), &db.url);
    assert_eq!(g.code, 0, "{}", g.stderr);
    assert_same_folder(&whole, &dir.path().join("g"));
}

#[test]
fn bad_shard_flags_and_mismatched_shards_are_refused_before_any_work() {
    let dir = tempdir();
    let records = batch(dir.path(), 2);
    let reg = dir.path().join("r.sqlite");
    for spec in ["3/2", "0/2", "x/2", "2"] {
        let out = build_cmd(
            &records,
            &dir.path().join("o"),
            reg.to_str().unwrap(),
            Some(spec),
        )
        .output()
        .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{spec}: {stderr}");
        assert!(stderr.contains("is not K/N"), "{stderr}");
        assert!(!dir.path().join("o").exists() && !reg.exists());
    }
    // --shards N takes the index from a Kubernetes Indexed Job (0-based).
    let mut c = build_cmd(&records, &dir.path().join("k"), reg.to_str().unwrap(), None);
    c.args(["--shards", "2"]).env("JOB_COMPLETION_INDEX", "1");
    run(c);
    let info = std::fs::read_to_string(dir.path().join("k/shard.json")).unwrap();
    assert!(
        info.contains("\"shard\": 2") && info.contains("\"of\": 2"),
        "{info}"
    );
    let mut c = build_cmd(
        &records,
        &dir.path().join("k2"),
        reg.to_str().unwrap(),
        None,
    );
    c.args(["--shards", "2"]).env_remove("JOB_COMPLETION_INDEX");
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    // Shard 1 of the same batch run with another N, while shard 1/2 has not run:
    // its reservations say N = 2.
    let out = build_cmd(
        &records,
        &dir.path().join("x"),
        reg.to_str().unwrap(),
        Some("1/3"),
    )
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("other shards run as N = 2"), "{stderr}");
    assert!(!dir.path().join("x").exists());
    // gather refuses a missing shard, and folders of another batch.
    let g = gather(
        &[dir.path().join("k")],
        &dir.path().join("g"),
        reg.to_str().unwrap(),
    );
    assert_eq!(g.code, 2, "{}", g.stderr);
    assert!(
        g.stderr.contains("shard(s) 1/2 of batch") && g.stderr.contains("missing"),
        "{}",
        g.stderr
    );
    assert!(!dir.path().join("g").exists());
}
