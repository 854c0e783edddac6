//! Batch benchmark: `cargo bench --bench batch` (or `tests/bench/run`).
//!
//! For each size N (env `PACTUM_BENCH_SIZES`, default `100,1000,10000`) it
//! generates N synthetic service contracts (`pactum synth`), issues them with
//! `pactum build` into a fresh register, and prints wall time, documents per
//! second, peak RSS and the share of CPU time spent inside typst. It then
//! compares thread counts, and — when a `typst` CLI is on PATH — the same
//! documents (written by `--emit-typst`) through the typst CLI one process per
//! document and in typst's own bundle (batch) mode. It prints figures; it
//! asserts nothing about speed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_pactum");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What one measured run of a command gave.
struct Measured {
    wall: f64,
    cpu: f64,
    peak_rss_mb: f64,
    stdout: String,
}

/// Runs `cmd` under GNU time for wall, CPU and peak RSS.
fn measure(args: &[&str], env: &[(&str, &str)]) -> Measured {
    let stats = tempfile::NamedTempFile::new().expect("temp file");
    let started = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-o")
        .arg(stats.path())
        .args(["-f", "%e %U %S %M"])
        .args(args)
        .envs(env.iter().copied())
        .current_dir(repo())
        .output()
        .expect("GNU time is needed (apt-get install time)");
    let wall_clock = started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(stats.path()).unwrap_or_default();
    let f: Vec<f64> = text
        .lines()
        .last()
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    let get = |i: usize| f.get(i).copied().unwrap_or(0.0);
    Measured {
        wall: if get(0) > 0.0 { get(0) } else { wall_clock },
        cpu: get(1) + get(2),
        peak_rss_mb: get(3) / 1024.0,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    }
}

fn synth(dir: &Path, n: usize) -> PathBuf {
    let records = dir.join(format!("records-{n}"));
    let status = Command::new(BIN)
        .args(["synth", "--count", &n.to_string(), "--out"])
        .arg(&records)
        .current_dir(repo())
        .status()
        .expect("pactum synth");
    assert!(status.success());
    records
}

/// Issues `records` into a fresh register; returns the measurement and typst's seconds.
fn issue(
    dir: &Path,
    records: &Path,
    tag: &str,
    threads: &str,
    emit: Option<&Path>,
) -> (Measured, f64, usize) {
    let out = dir.join(format!("out-{tag}"));
    let reg = dir.join(format!("reg-{tag}.sqlite"));
    let mut args = vec![
        BIN.to_owned(),
        "build".into(),
        records.display().to_string(),
        "--workspace".into(),
        repo().display().to_string(),
        "--out".into(),
        out.display().to_string(),
        "--register".into(),
        reg.display().to_string(),
        "--format".into(),
        "json".into(),
    ];
    if let Some(e) = emit {
        args.push("--emit-typst".into());
        args.push(e.display().to_string());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let m = measure(&refs, &[("RAYON_NUM_THREADS", threads)]);
    let v: serde_json::Value = serde_json::from_str(&m.stdout).expect("JSON outcome");
    let typst = v["typst_seconds"].as_f64().unwrap_or(0.0);
    let docs = v["documents"].as_array().map_or(0, Vec::len);
    let _ = std::fs::remove_dir_all(&out);
    (m, typst, docs)
}

fn typst_cli() -> Option<String> {
    let out = Command::new("typst").arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn main() {
    let sizes: Vec<usize> = std::env::var("PACTUM_BENCH_SIZES")
        .unwrap_or_else(|_| "100,1000,10000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let dir = tempfile::Builder::new()
        .prefix("pactum-bench-")
        .tempdir()
        .expect("temp dir");
    // target/<profile>/pactum: the build the figures are for.
    let profile = Path::new(BIN)
        .parent()
        .and_then(Path::file_name)
        .map_or("?".into(), |p| p.to_string_lossy().into_owned());
    println!(
        "pactum batch benchmark: service contracts (8 pages each), {threads} thread(s), issue mode, `{profile}` build"
    );
    println!();
    println!("| N | wall s | documents/s | s/document | peak RSS MB |");
    println!("|---:|---:|---:|---:|---:|");
    let mut per_doc_default = None;
    let mut rss = Vec::new();
    for &n in &sizes {
        let records = synth(dir.path(), n);
        let (m, _, docs) = issue(
            dir.path(),
            &records,
            &format!("{n}"),
            &threads.to_string(),
            None,
        );
        assert_eq!(docs, n);
        println!(
            "| {n} | {:.2} | {:.1} | {:.4} | {:.0} |",
            m.wall,
            n as f64 / m.wall,
            m.wall / n as f64,
            m.peak_rss_mb,
        );
        per_doc_default.get_or_insert(m.wall / n as f64);
        rss.push((n, m.peak_rss_mb));
        let _ = std::fs::remove_dir_all(&records);
    }
    // Compare the largest size with the one before it (e.g. 10,000 with 1,000).
    if rss.len() >= 2 {
        let (n1, r1) = rss[rss.len() - 2];
        let (n2, r2) = rss[rss.len() - 1];
        println!("\npeak RSS at N={n2} is {:.2}× the peak at N={n1}", r2 / r1);
    }

    // Thread scaling on 1,000 documents (or the largest size below that), so
    // the run is long against the fixed start-up and the last document's tail.
    let n = sizes
        .iter()
        .copied()
        .filter(|&n| n <= 1000)
        .max()
        .unwrap_or(sizes[0]);
    let records = synth(dir.path(), n);
    // In interleaved rounds, compared by medians (this machine's speed drifts).
    let mut ones = Vec::new();
    let mut twos = Vec::new();
    let mut inside = Vec::new();
    for round in 1..=ROUNDS {
        let (one, typst, _) = issue(dir.path(), &records, &format!("t1-{round}"), "1", None);
        let (two, ..) = issue(
            dir.path(),
            &records,
            &format!("t2-{round}"),
            &threads.to_string(),
            None,
        );
        ones.push(one.wall);
        twos.push(two.wall);
        inside.push((typst, one.cpu));
    }
    let list = |v: &[f64]| {
        v.iter()
            .map(|s| format!("{s:.2}"))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    let (one, two) = (median(ones.clone()), median(twos.clone()));
    println!(
        "\nthreads (N={n}, {ROUNDS} interleaved rounds): 1 thread {} s, {threads} threads {} s; medians {one:.2} s and {two:.2} s: {:.2}× faster",
        list(&ones),
        list(&twos),
        one / two
    );
    // With one worker typst's time is exact (with several, time spent waiting
    // for typst's shared thread pool is counted too). The round with the
    // median share is shown.
    inside.sort_by(|a, b| (a.0 / a.1).total_cmp(&(b.0 / b.1)));
    let (typst, cpu) = inside[inside.len() / 2];
    println!(
        "time inside typst (layout + PDF export), 1 thread, N={n}: {typst:.2} s of {cpu:.2} s CPU = {:.1} %; everything else {:.1} % (median of {ROUNDS} rounds)",
        100.0 * typst / cpu,
        100.0 * (1.0 - typst / cpu)
    );

    let _ = std::fs::remove_dir_all(&records);

    // The typst CLI on the same documents.
    let Some(version) = typst_cli() else {
        println!(
            "\ntypst CLI not found on PATH: CLI comparison skipped (tests/bench/run installs it)"
        );
        return;
    };
    let n = n.min(100);
    let records = synth(dir.path(), n);
    let emit = dir.path().join("emit");
    issue(
        dir.path(),
        &records,
        "emit",
        &threads.to_string(),
        Some(&emit),
    );
    let fonts = repo().join("templates/fonts");
    let mut ids: Vec<String> = std::fs::read_dir(&emit)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    ids.sort();
    // typst's bundle mode: one source that includes every document into its own #document.
    let bundle_root = dir.path().join("bundle");
    std::fs::create_dir_all(&bundle_root).unwrap();
    let mut src = String::new();
    for id in &ids {
        let from = emit.join(id);
        for e in walkdir::WalkDir::new(&from) {
            let e = e.unwrap();
            let rel = e.path().strip_prefix(&from).unwrap();
            // Template files are shared; main.typ and its paragraph files
            // (`_chunks/`, different in every document) go under the document's id.
            let own = rel == Path::new("main.typ") || rel.starts_with("_chunks");
            let dest = if own {
                bundle_root.join(id).join(rel)
            } else {
                bundle_root.join(rel)
            };
            if e.file_type().is_file() {
                std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
                if rel == Path::new("main.typ") {
                    let text = std::fs::read_to_string(e.path()).unwrap();
                    let text = text.replace(
                        "#include \"/_chunks/",
                        &format!("#include \"/{id}/_chunks/"),
                    );
                    std::fs::write(dest, text).unwrap();
                } else {
                    std::fs::copy(e.path(), dest).unwrap();
                }
            }
        }
        src.push_str(&format!(
            "#document(\"{id}.pdf\")[#include \"/{id}/main.typ\"]\n"
        ));
    }
    std::fs::write(bundle_root.join("bundle.typ"), src).unwrap();
    // This machine's speed drifts over minutes, so the three are measured in
    // interleaved rounds and compared by their medians.
    let mut rounds = Vec::new();
    for round in 1..=CLI_ROUNDS {
        let (ours, ..) = issue(
            dir.path(),
            &records,
            &format!("same-{round}"),
            &threads.to_string(),
            None,
        );
        let each = cli_each(&emit, &ids, &fonts, dir.path());
        let bundle = bundle_mode(&bundle_root, &fonts, dir.path(), ids.len());
        rounds.push((ours.wall / n as f64, each, bundle));
    }
    println!("\n{version}, N={n} (same documents as pactum wrote with --emit-typst), s/document:");
    println!(
        "| round | pactum build (validate, number, typeset, checksum, register) | typst CLI, one process per document | typst CLI bundle mode (one process) |"
    );
    println!("|---|---:|---:|---:|");
    let cell = |b: &Result<f64, String>| match b {
        Ok(s) => format!("{s:.4}"),
        Err(e) => format!("failed: {e}"),
    };
    for (k, (ours, each, bundle)) in rounds.iter().enumerate() {
        println!("| {} | {ours:.4} | {each:.4} | {} |", k + 1, cell(bundle));
    }
    let ours = median(rounds.iter().map(|r| r.0).collect());
    let each = median(rounds.iter().map(|r| r.1).collect());
    let bundles: Vec<f64> = rounds.iter().filter_map(|r| r.2.clone().ok()).collect();
    let bundle = (bundles.len() == rounds.len()).then(|| median(bundles));
    println!(
        "| median | {ours:.4} | {each:.4} | {} |",
        bundle.map_or("failed".to_owned(), |b| format!("{b:.4}"))
    );
    println!(
        "\npactum is {:.1}× faster per document than the CLI one process each (medians)",
        each / ours
    );
    if let Some(bundle) = bundle {
        println!(
            "pactum takes {:.2}× the time per document of typst's bundle mode (medians)",
            ours / bundle
        );
    }
}

/// Rounds of the thread comparison.
const ROUNDS: usize = 3;

/// Rounds of the CLI comparison: more than for threads, because each round
/// sets a pactum build of a couple of seconds against a CLI loop several times
/// as long, and a short sample swings with this machine's drift by a fifth.
const CLI_ROUNDS: usize = 5;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Seconds per document, one typst CLI process per document (sequential: the
/// CLI parallelises inside one document).
fn cli_each(emit: &Path, ids: &[String], fonts: &Path, scratch: &Path) -> f64 {
    let started = Instant::now();
    for id in ids {
        let root = emit.join(id);
        let st = Command::new("typst")
            .args(["compile", "--root"])
            .arg(&root)
            .arg("--font-path")
            .arg(fonts)
            .arg("--ignore-system-fonts")
            .arg(root.join("main.typ"))
            .arg(scratch.join("cli.pdf"))
            .status()
            .expect("typst compile");
        assert!(st.success(), "typst compile failed on {id}");
    }
    started.elapsed().as_secs_f64() / ids.len() as f64
}

/// Seconds per document in typst's bundle mode, or typst's first error line.
fn bundle_mode(root: &Path, fonts: &Path, scratch: &Path, n: usize) -> Result<f64, String> {
    let out_dir = scratch.join("bundle-out");
    let _ = std::fs::remove_dir_all(&out_dir);
    let started = Instant::now();
    let out = Command::new("typst")
        .args([
            "compile",
            "--features",
            "bundle",
            "--format",
            "bundle",
            "--root",
        ])
        .arg(root)
        .arg("--font-path")
        .arg(fonts)
        .arg("--ignore-system-fonts")
        .arg(root.join("bundle.typ"))
        .arg(&out_dir)
        .output()
        .expect("typst compile bundle");
    let seconds = started.elapsed().as_secs_f64() / n as f64;
    if out.status.success() {
        Ok(seconds)
    } else {
        Err(String::from_utf8_lossy(&out.stderr)
            .lines()
            .next()
            .unwrap_or("")
            .replace('|', "/"))
    }
}
