//! Archive bundles, the handover log and `verify`: independent BagIt
//! validation, byte-identical bundles, tamper detection, malicious zips.
//!
//! The samples are built once per test process (issue mode, own register);
//! every test bundles them into its own temporary folder with its own log.

mod support;

use std::collections::BTreeSet;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;
use support::{Run, pactum, pdf_text, repo, squeeze, tempdir, tool};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

const EPOCH: &str = "1795000000"; // 2026-11-18T11:06:40Z, 19:06:40 in Asia/Shanghai
const FROM: &str = "杭州云岫数据科技有限公司法务部/张三";
const TO: &str = "公司档案室/李四";

/// The samples built in issue mode, once per test process.
fn samples_out() -> &'static Path {
    static OUT: OnceLock<PathBuf> = OnceLock::new();
    OUT.get_or_init(|| {
        let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        // Folders of earlier runs of this test binary.
        if let Ok(entries) = std::fs::read_dir(&tmp) {
            for e in entries.flatten() {
                if e.file_name()
                    .to_string_lossy()
                    .starts_with("bundle-samples-")
                {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let dir = tmp.join(format!("bundle-samples-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("out");
        let run = pactum(&[
            "build",
            "samples",
            "--out",
            out.to_str().unwrap(),
            "--register",
            dir.join("register.sqlite").to_str().unwrap(),
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        out
    })
}

fn bundle_with(out: &Path, zip: &Path, log: &Path, epoch: &str, to: &str) -> Run {
    pactum(&[
        "bundle",
        out.to_str().unwrap(),
        "-o",
        zip.to_str().unwrap(),
        "--from",
        FROM,
        "--to",
        to,
        "--purpose",
        "2026年度合同电子档案移交",
        "--log",
        log.to_str().unwrap(),
        "--source-date-epoch",
        epoch,
    ])
}

/// Bundles the samples into `dir/<name>.zip` with the log `dir/sender.jsonl`.
fn bundle(dir: &Path, name: &str) -> PathBuf {
    let zip = dir.join(format!("{name}.zip"));
    let run = bundle_with(samples_out(), &zip, &dir.join("sender.jsonl"), EPOCH, TO);
    assert_eq!(run.code, 0, "{}", run.stderr);
    zip
}

/// `verify --format json`: exit code and report.
fn verify(zip: &Path) -> (i32, Value) {
    let run = pactum(&["verify", zip.to_str().unwrap(), "--format", "json"]);
    let report: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("verify printed no JSON ({e}): {}{}", run.stdout, run.stderr));
    (run.code, report)
}

/// `(kind, entry, message)` of every problem.
fn problems(report: &Value) -> Vec<(String, String, String)> {
    report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["kind"].as_str().unwrap().to_owned(),
                p["entry"].as_str().unwrap().to_owned(),
                p["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Asserts exit code 1 and a problem of `kind` on `entry` whose message contains `text`.
fn assert_problem(zip: &Path, kind: &str, entry: &str, text: &str) -> Value {
    let (code, report) = verify(zip);
    assert_eq!(code, 1, "verify accepted a defective archive: {report:#}");
    let found = problems(&report)
        .iter()
        .any(|(k, e, m)| k == kind && e == entry && m.contains(text));
    assert!(
        found,
        "no `{kind}` problem on `{entry}` containing `{text}`:\n{:#?}",
        problems(&report)
    );
    report
}

/// Every entry of a zip: name and content.
fn entries(zip: &Path) -> Vec<(String, Vec<u8>)> {
    let mut archive = ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).unwrap();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            (f.name().unwrap().into_owned(), data)
        })
        .collect()
}

/// Writes `entries` as a new zip (PDFs stored, the rest deflated), as a person re-zipping would.
fn write_zip(path: &Path, entries: &[(String, Vec<u8>)]) {
    let mut w = ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, data) in entries {
        let method = if name.ends_with(".pdf") {
            CompressionMethod::Stored
        } else {
            CompressionMethod::Deflated
        };
        w.start_file(
            name.as_str(),
            SimpleFileOptions::default().compression_method(method),
        )
        .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap();
}

/// Copies `src` to `dst` with `edit` applied to each entry (`None` drops it).
fn rewrite(src: &Path, dst: &Path, edit: impl Fn(&str, Vec<u8>) -> Option<Vec<u8>>) {
    let edited: Vec<(String, Vec<u8>)> = entries(src)
        .into_iter()
        .filter_map(|(n, d)| edit(&n, d).map(|d| (n, d)))
        .collect();
    write_zip(dst, &edited);
}

/// Extracts with a plain unzip (python's zipfile module where `unzip` is absent).
fn unzip(zip: &Path, into: &Path) {
    std::fs::create_dir_all(into).unwrap();
    let has_unzip = Command::new("unzip").arg("-v").output().is_ok();
    if has_unzip {
        tool("unzip", &["-q", zip.to_str().unwrap()], into);
    } else {
        tool(
            "python3",
            &["-m", "zipfile", "-e", zip.to_str().unwrap(), "."],
            into,
        );
    }
}

#[test]
fn a_bundle_of_the_samples_passes_verify_the_bagit_validator_and_sha256sum() {
    let dir = tempdir();
    let zip = bundle(dir.path(), "移交-2026-11");
    let (code, report) = verify(&zip);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["bag"], "移交-2026-11");
    assert_eq!(report["documents"], 13);
    assert_eq!(report["payload_files"], 27); // 13 PDFs, 13 records, register.csv
    assert_eq!(report["handover"]["seq"], 1);
    let human = pactum(&["verify", zip.to_str().unwrap()]);
    assert_eq!(human.code, 0);
    assert!(human.stdout.starts_with("OK "), "{}", human.stdout);

    // The zip's own structure: one top folder, sorted names, fixed stamps and modes, PDFs stored.
    let mut archive = ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
    let mut names = Vec::new();
    for i in 0..archive.len() {
        let f = archive.by_index(i).unwrap();
        let name = f.name().unwrap().into_owned();
        assert!(name.starts_with("移交-2026-11/"), "{name}");
        assert_eq!(f.unix_mode(), Some(0o100644), "{name}");
        // Local time of the workspace's zone (Asia/Shanghai), as unzip shows it.
        let t = f.last_modified().unwrap();
        assert_eq!(
            (t.year(), t.month(), t.day(), t.hour(), t.minute()),
            (2026, 11, 18, 19, 6),
            "{name}"
        );
        if name.ends_with(".pdf") {
            assert_eq!(f.compression(), CompressionMethod::Stored, "{name}");
        }
        names.push(name);
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    for required in [
        "bagit.txt",
        "bag-info.txt",
        "manifest-sha256.txt",
        "manifest-sha512.txt",
        "tagmanifest-sha256.txt",
        "data/register.csv",
        "data/documents/fw-2026-001.pdf",
        "data/records/fw-2026-001.json",
        "handover/handover.jsonl",
        "handover/handover-list.pdf",
    ] {
        assert!(
            names.contains(&format!("移交-2026-11/{required}")),
            "{required} missing"
        );
    }

    // Independent checks on a plain extraction.
    let ex = dir.path().join("ex");
    unzip(&zip, &ex);
    let bag = ex.join("移交-2026-11");
    let sums = tool("sha256sum", &["-c", "manifest-sha256.txt"], &bag);
    assert_eq!(sums.matches(": OK").count(), 27, "{sums}");
    tool("sha512sum", &["-c", "manifest-sha512.txt"], &bag);
    tool(
        "python3",
        &["-m", "bagit", "--validate", "移交-2026-11"],
        &ex,
    );
    let out = samples_out();
    assert_eq!(
        std::fs::read(bag.join("data/register.csv")).unwrap(),
        std::fs::read(out.join("register.csv")).unwrap()
    );
    let record: Value =
        serde_json::from_slice(&std::fs::read(bag.join("data/records/fw-2026-001.json")).unwrap())
            .unwrap();
    assert_eq!(record["sources"]["contract"]["id"], "fw-2026-001");
    let info = std::fs::read_to_string(bag.join("bag-info.txt")).unwrap();
    for line in [
        "Payload-Oxum: ",
        "Bagging-Date: 2026-11-18",
        "Bag-Count: 1 of 1",
        "External-Identifier: 移交-2026-11",
        "Source-Organization: 杭州云岫数据科技有限公司法务部",
        "Pactum-Version: ",
        "Pactum-Template-SHA256: service-zh ",
        "Pactum-Handover-Sequence: 1",
        // Issue 20: local time of the samples' zone with its offset.
        "Pactum-Handover-Time: 2026-11-18T19:06:40+08:00",
    ] {
        assert!(info.contains(line), "bag-info.txt lacks `{line}`:\n{info}");
    }
    let log = std::fs::read_to_string(dir.path().join("sender.jsonl")).unwrap();
    assert!(
        log.starts_with(r#"{"seq":1,"time":"2026-11-18T19:06:40+08:00","kind":"handover""#),
        "{log}"
    );
    assert!(
        human
            .stdout
            .contains(", 2026-11-18T19:06:40+08:00), chain of 1 intact"),
        "{}",
        human.stdout
    );

    // Negative control: the validator really looks at the files.
    std::fs::write(bag.join("data/register.csv"), "tampered").unwrap();
    let bad = Command::new("python3")
        .args(["-m", "bagit", "--validate", "移交-2026-11"])
        .current_dir(&ex)
        .output()
        .unwrap();
    assert!(!bad.status.success(), "bagit accepted a tampered bag");

    // The 移交清单: the 登记表 fields, the documents with digests, the checks, the signature lines.
    let text = pdf_text(&bag.join("handover/handover-list.pdf"));
    let fw1 = record["sha256"].as_str().unwrap();
    for needle in [
        "电子档案移交与接收登记表",
        "交接工作名称",
        "2026年度合同电子档案移交",
        "移交电子档案数量",
        "移交数据量",
        "载体起止顺序号",
        "移交载体类型、规格",
        "杭州云岫数据科技有限公司法务部",
        "公司档案室",
        "真实性",
        "完整性",
        "可用性",
        "安全性",
        "数字摘要",
        "SHA-256",
        "FW-2026-0001",
        fw1,
        "移交人（签字）",
        "接收人（签字）",
        "审核人（签字）",
        "一式两份",
        // The handover time as a Chinese reader writes it, with the offset.
        "移交时间",
        "2026年11月18日 19:06:40（UTC+08:00）",
        "移交日期 2026-11-18",
    ] {
        assert!(text.contains(&squeeze(needle)), "移交清单 lacks `{needle}`");
    }
    let tagmanifest = report["tagmanifest_sha256"].as_str().unwrap();
    assert!(
        text.contains(tagmanifest),
        "移交清单 lacks the tag manifest digest"
    );
    // Regression: a document's row and its digest row were once split across pages.
    let list = bag.join("handover");
    let pages: Vec<String> = (1..=2)
        .map(|p| {
            let p = p.to_string();
            squeeze(&tool(
                "pdftotext",
                &[
                    "-enc",
                    "UTF-8",
                    "-f",
                    &p,
                    "-l",
                    &p,
                    "handover-list.pdf",
                    "-",
                ],
                &list,
            ))
        })
        .collect();
    for e in std::fs::read_dir(bag.join("data/records")).unwrap() {
        let r: Value = serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap();
        let (number, sha) = (r["number"].as_str().unwrap(), r["sha256"].as_str().unwrap());
        let page = pages
            .iter()
            .find(|t| t.contains(number))
            .expect("every number is listed");
        assert!(
            page.contains(sha),
            "{number} and its digest are on different pages"
        );
    }
}

#[test]
fn two_bundles_of_the_same_output_are_byte_identical() {
    let (a, b) = (tempdir(), tempdir());
    let za = bundle(a.path(), "archive");
    let zb = bundle(b.path(), "archive");
    assert!(
        std::fs::read(&za).unwrap() == std::fs::read(&zb).unwrap(),
        "two bundles of the same output differ"
    );
    // Control: another handover time gives other bytes (the comparison can fail).
    let zc = b.path().join("later/archive.zip");
    std::fs::create_dir_all(zc.parent().unwrap()).unwrap();
    let run = bundle_with(
        samples_out(),
        &zc,
        &b.path().join("other.jsonl"),
        "1795086400",
        TO,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(std::fs::read(&za).unwrap() != std::fs::read(&zc).unwrap());
    // An existing archive is never overwritten.
    let again = bundle_with(samples_out(), &za, &a.path().join("x.jsonl"), EPOCH, TO);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
}

#[test]
fn one_flipped_byte_in_any_payload_or_tag_file_is_detected() {
    let dir = tempdir();
    let zip = bundle(dir.path(), "b");
    let all = entries(&zip);
    assert_eq!(all.len(), 34);
    for (name, _) in &all {
        let bad = dir.path().join("flipped.zip");
        rewrite(&zip, &bad, |n, mut d| {
            if n == name {
                let i = d.len() / 2;
                d[i] ^= 0x01;
            }
            Some(d)
        });
        let kind = if name.ends_with("handover.jsonl") {
            "chain"
        } else {
            "changed"
        };
        assert_problem(&bad, kind, name, "");
    }
}

#[test]
fn bytes_altered_inside_the_zip_are_reported_with_both_digests() {
    let dir = tempdir();
    let zip = bundle(dir.path(), "b");
    let name = "b/data/documents/fw-2026-001.pdf";
    let start = {
        let mut a = ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
        a.by_name(name).unwrap().data_start().unwrap()
    };
    let mut bytes = std::fs::read(&zip).unwrap();
    bytes[start as usize + 5000] ^= 0x20;
    let bad = dir.path().join("raw.zip");
    std::fs::write(&bad, bytes).unwrap();
    let report = assert_problem(&bad, "changed", name, "differs from manifest-sha256.txt");
    let p = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["entry"] == name && p["message"].as_str().unwrap().contains("sha256"))
        .unwrap();
    let expected = p["expected"].as_str().unwrap();
    assert_eq!(expected.len(), 64);
    assert_ne!(Some(expected), p["actual"].as_str());
    assert_problem(&bad, "changed", name, "CRC-32");
    assert_problem(&bad, "register", "b/data/register.csv", "FW-2026-0001");
}

#[test]
fn deleted_added_and_edited_entries_are_each_reported() {
    let dir = tempdir();
    let zip = bundle(dir.path(), "b");
    let pdf = "b/data/documents/fw-2026-001.pdf";

    let deleted = dir.path().join("deleted.zip");
    rewrite(&zip, &deleted, |n, d| (n != pdf).then_some(d));
    assert_problem(&deleted, "missing", pdf, "listed in manifest-sha256.txt");
    assert_problem(&deleted, "oxum", "b/bag-info.txt", "Payload-Oxum says");

    let mut with_extra = entries(&zip);
    with_extra.push(("b/data/notes.txt".into(), b"added later".to_vec()));
    with_extra.push(("b/.DS_Store".into(), vec![0; 8]));
    let added = dir.path().join("added.zip");
    write_zip(&added, &with_extra);
    assert_problem(
        &added,
        "extra",
        "b/data/notes.txt",
        "not listed in manifest-sha256.txt",
    );
    assert_problem(&added, "extra", "b/.DS_Store", "hidden or junk");
    assert_problem(&added, "oxum", "b/bag-info.txt", "");

    // Point the manifest line of one PDF at another PDF's digest.
    let all = entries(&zip);
    let manifest = String::from_utf8(
        all.iter()
            .find(|(n, _)| n == "b/manifest-sha256.txt")
            .unwrap()
            .1
            .clone(),
    )
    .unwrap();
    let digest_of = |file: &str| {
        manifest
            .lines()
            .find(|l| l.ends_with(file))
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    };
    let (mine, other) = (digest_of("fw-2026-001.pdf"), digest_of("fw-2026-002.pdf"));
    let edited = dir.path().join("edited.zip");
    rewrite(&zip, &edited, |n, d| {
        Some(if n == "b/manifest-sha256.txt" {
            String::from_utf8(d)
                .unwrap()
                .replace(
                    &format!("{mine}  data/documents/fw-2026-001.pdf"),
                    &format!("{other}  data/documents/fw-2026-001.pdf"),
                )
                .into_bytes()
        } else {
            d
        })
    });
    let report = assert_problem(
        &edited,
        "changed",
        "b/manifest-sha256.txt",
        "tagmanifest-sha256.txt",
    );
    let p = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["entry"] == pdf)
        .expect("the edited line is reported on the PDF");
    assert_eq!(
        (p["expected"].as_str(), p["actual"].as_str()),
        (Some(other.as_str()), Some(mine.as_str()))
    );

    // A register row whose PDF digest was changed.
    let register = dir.path().join("register.zip");
    rewrite(&zip, &register, |n, d| {
        Some(if n == "b/data/register.csv" {
            String::from_utf8(d)
                .unwrap()
                .replace(&mine, &"0".repeat(64))
                .into_bytes()
        } else {
            d
        })
    });
    assert_problem(&register, "register", "b/data/register.csv", "FW-2026-0001");
}

#[test]
fn handover_chain_edits_and_drops_are_detected_and_receipts_are_chained() {
    let dir = tempdir();
    let first = bundle(dir.path(), "first");
    let second = bundle(dir.path(), "second"); // same log: entry 2, chained to entry 1
    let (code, report) = verify(&second);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["handover"]["chain_length"], 2);
    let log = std::fs::read_to_string(dir.path().join("sender.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 2);
    let lines: Vec<&str> = log.lines().collect();
    let second_entry: Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(second_entry["seq"], 2);
    assert_eq!(second_entry["kind"], "handover");
    assert_eq!(second_entry["bundle"], "second");
    assert_eq!(second_entry["items"], 27);
    assert_eq!(second_entry["algorithm"], "sha256");
    assert_eq!(second_entry["to"]["person"], "李四");
    assert_eq!(
        second_entry["tagmanifest_sha256"],
        report["tagmanifest_sha256"]
    );
    assert_eq!(
        second_entry["prev"].as_str().unwrap(),
        support_sha256(lines[0].as_bytes())
    );

    let chain = "second/handover/handover.jsonl";
    let variant = |name: &str, edit: &dyn Fn(&str) -> String| {
        let path = dir.path().join(name);
        rewrite(&second, &path, |n, d| {
            Some(if n == chain {
                edit(&String::from_utf8(d).unwrap()).into_bytes()
            } else {
                d
            })
        });
        path
    };
    let edited_first = variant("e1.zip", &|t| t.replacen("李四", "王五", 1));
    assert_problem(
        &edited_first,
        "chain",
        chain,
        "line 1 was changed or removed",
    );
    let dropped_first = variant("d1.zip", &|t| {
        t.lines().skip(1).map(|l| format!("{l}\n")).collect()
    });
    assert_problem(&dropped_first, "chain", chain, "has seq 2, expected 1");
    let edited_last = variant("e2.zip", &|t| {
        let (one, two) = t.split_once('\n').unwrap();
        format!("{one}\n{}", two.replace("李四", "王五"))
    });
    assert_problem(&edited_last, "chain", chain, "entry 2: `to` disagrees");
    let dropped_last = variant("d2.zip", &|t| format!("{}\n", t.lines().next().unwrap()));
    assert_problem(
        &dropped_last,
        "chain",
        chain,
        "this bag is handover entry 2",
    );

    // Receiving: a verified bundle gets a `verified` receipt anchored to the sender's entry.
    let recv = dir.path().join("receiver.jsonl");
    let run = pactum(&[
        "handover",
        "receive",
        second.to_str().unwrap(),
        "--by",
        TO,
        "--log",
        recv.to_str().unwrap(),
        "--source-date-epoch",
        "1795100000",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let receipts = std::fs::read_to_string(&recv).unwrap();
    let receipt: Value = serde_json::from_str(receipts.lines().next().unwrap()).unwrap();
    assert_eq!(receipt["kind"], "receipt");
    assert_eq!(receipt["result"], "verified");
    assert_eq!(receipt["by"]["unit"], "公司档案室");
    assert_eq!(receipt["sender_seq"], 2);
    assert_eq!(
        receipt["sender_entry_sha256"].as_str().unwrap(),
        support_sha256(lines[1].as_bytes())
    );
    assert_eq!(receipt["prev"].as_str().unwrap(), "0".repeat(64));
    // 1795100000 = 2026-11-19T14:53:20Z; the receiver's workspace (the repository) is Asia/Shanghai.
    assert_eq!(receipt["time"], "2026-11-19T22:53:20+08:00");
    // A defective bundle is receipted as such, chained to the first receipt, and exits 1.
    let run = pactum(&[
        "handover",
        "receive",
        edited_last.to_str().unwrap(),
        "--by",
        TO,
        "--log",
        recv.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let receipts = std::fs::read_to_string(&recv).unwrap();
    let lines_r: Vec<&str> = receipts.lines().collect();
    let second_receipt: Value = serde_json::from_str(lines_r[1]).unwrap();
    assert_eq!(second_receipt["result"], "defective");
    assert_eq!(second_receipt["seq"], 2);
    assert_eq!(
        second_receipt["prev"].as_str().unwrap(),
        support_sha256(lines_r[0].as_bytes())
    );

    // A workspace log that was edited refuses further bundles (exit 1), and the first bundle still verifies.
    std::fs::write(
        dir.path().join("sender.jsonl"),
        log.replacen("李四", "王五", 1),
    )
    .unwrap();
    let run = bundle_with(
        samples_out(),
        &dir.path().join("third.zip"),
        &dir.path().join("sender.jsonl"),
        EPOCH,
        TO,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("is broken"), "{}", run.stderr);
    assert!(!dir.path().join("third.zip").exists());
    assert_eq!(verify(&first).0, 0);
}

fn support_sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

/// Rewrites the uncompressed size of `name` in its local and central headers.
fn patch_size(zip: &mut [u8], name: &str, size: u32) {
    let mut patched = 0;
    for i in 0..zip.len().saturating_sub(46) {
        let (sig, name_at, size_at) = match zip[i..i + 4] {
            [0x50, 0x4b, 0x03, 0x04] => ("local", 30, 22),
            [0x50, 0x4b, 0x01, 0x02] => ("central", 46, 24),
            _ => continue,
        };
        let len_at = if sig == "local" { 26 } else { 28 };
        let n = u16::from_le_bytes([zip[i + len_at], zip[i + len_at + 1]]) as usize;
        if zip.get(i + name_at..i + name_at + n) == Some(name.as_bytes()) {
            zip[i + size_at..i + size_at + 4].copy_from_slice(&size.to_le_bytes());
            patched += 1;
        }
    }
    assert_eq!(patched, 2, "headers of {name} not found");
}

/// Runs `pactum verify` under a 200 MB address-space limit (a normal verify needs under 100 MB),
/// so holding the 256 MiB bomb entry in memory would fail.
fn verify_limited(zip: &Path, dir: &Path) -> Run {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v 200000 && exec '{}' verify '{}' --format json",
            env!("CARGO_BIN_EXE_pactum"),
            zip.display()
        ))
        .current_dir(dir)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn listing(dir: &Path) -> BTreeSet<PathBuf> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap().path().to_path_buf())
        .collect()
}

#[test]
fn malicious_zips_are_refused_without_writing_anything() {
    let root = tempdir();
    let dir = root.path().join("work");
    std::fs::create_dir_all(&dir).unwrap();
    let opts = SimpleFileOptions::default();

    // zip-slip, absolute and backslash paths.
    let slip = dir.join("slip.zip");
    let mut w = ZipWriter::new(std::fs::File::create(&slip).unwrap());
    for name in [
        "b/bagit.txt",
        "../evil.txt",
        "b/../../evil2.txt",
        "/tmp/pactum-evil.txt",
        "b\\..\\evil3.txt",
    ] {
        w.start_file(name, opts).unwrap();
        w.write_all(b"x").unwrap();
    }
    w.finish().unwrap();

    // A symlink pointing out of the bag.
    let link = dir.join("link.zip");
    let mut w = ZipWriter::new(std::fs::File::create(&link).unwrap());
    w.start_file("b/bagit.txt", opts).unwrap();
    w.add_symlink("b/data/passwd", "/etc/passwd", opts).unwrap();
    w.finish().unwrap();

    // Duplicate names (the writer refuses them, so patch a second name into the first),
    // and two spellings of é that are one name after NFC.
    let dup = dir.join("dup.zip");
    let mut w = ZipWriter::new(std::fs::File::create(&dup).unwrap());
    for name in [
        "b/bagit.txt",
        "b/data/a.txt",
        "b/data/b.txt",
        "b/data/\u{e9}.txt",
        "b/data/e\u{301}.txt",
    ] {
        w.start_file(name, opts).unwrap();
        w.write_all(b"x").unwrap();
    }
    w.finish().unwrap();
    let mut bytes = std::fs::read(&dup).unwrap();
    let mut n = 0;
    for i in 0..bytes.len() - 12 {
        if &bytes[i..i + 12] == b"b/data/b.txt" {
            bytes[i + 7] = b'a';
            n += 1;
        }
    }
    assert_eq!(n, 2, "b.txt in the local and the central header");
    std::fs::write(&dup, bytes).unwrap();

    // Bombs: extreme ratio; a huge declared size; a size lie (declares 1000, inflates to 256 MiB); too many entries.
    let zeros = vec![0u8; 256 << 20];
    let ratio = dir.join("ratio.zip");
    let mut w = ZipWriter::new(std::fs::File::create(&ratio).unwrap());
    w.start_file(
        "b/data/zeros.bin",
        opts.compression_method(CompressionMethod::Deflated),
    )
    .unwrap();
    w.write_all(&zeros).unwrap();
    w.finish().unwrap();
    let mut lie = std::fs::read(&ratio).unwrap();
    patch_size(&mut lie, "b/data/zeros.bin", 1000);
    let lie_path = dir.join("lie.zip");
    std::fs::write(&lie_path, &lie).unwrap();
    let mut huge = std::fs::read(&ratio).unwrap();
    patch_size(&mut huge, "b/data/zeros.bin", u32::MAX - 1);
    let huge_path = dir.join("huge.zip");
    std::fs::write(&huge_path, &huge).unwrap();
    drop(zeros);
    let many = dir.join("many.zip");
    let mut w = ZipWriter::new(std::io::BufWriter::new(
        std::fs::File::create(&many).unwrap(),
    ));
    for i in 0..50_001 {
        w.start_file(
            format!("b/{i}"),
            opts.compression_method(CompressionMethod::Stored),
        )
        .unwrap();
    }
    w.finish().unwrap();

    let before = listing(root.path());
    let cases: [(&Path, &str, &str, &str); 12] = [
        (
            &slip,
            "unsafe",
            "../evil.txt",
            "leaves the extraction folder",
        ),
        (
            &slip,
            "unsafe",
            "b/../../evil2.txt",
            "leaves the extraction folder",
        ),
        (&slip, "unsafe", "/tmp/pactum-evil.txt", "absolute path"),
        (&slip, "unsafe", "b\\..\\evil3.txt", "backslash"),
        (&link, "unsafe", "b/data/passwd", "symbolic link"),
        (&dup, "unsafe", "b/data/a.txt", "duplicate entry name"),
        (&dup, "unsafe", "b/data/e\u{301}.txt", "not in Unicode NFC"),
        (
            &dup,
            "unsafe",
            "b/data/e\u{301}.txt",
            "collides with `b/data/\u{e9}.txt`",
        ),
        (&ratio, "refused", "b/data/zeros.bin", "zip bomb: expands"),
        (
            &huge_path,
            "refused",
            "b/data/zeros.bin",
            "zip bomb: declares",
        ),
        (
            &lie_path,
            "refused",
            "b/data/zeros.bin",
            "inflates beyond its declared 1000 bytes",
        ),
        (&many, "refused", many.to_str().unwrap(), "50001 entries"),
    ];
    for (zip, kind, entry, text) in cases {
        let run = verify_limited(zip, &dir);
        assert_eq!(
            run.code,
            1,
            "{}: {}{}",
            zip.display(),
            run.stdout,
            run.stderr
        );
        let report: Value = serde_json::from_str(&run.stdout).unwrap();
        assert!(
            problems(&report)
                .iter()
                .any(|(k, e, m)| k == kind && e == entry && m.contains(text)),
            "{}: no `{kind}` on `{entry}` with `{text}`: {:#?}",
            zip.display(),
            problems(&report)
        );
    }
    // Receiving a malicious bundle records a defective receipt and writes nothing else.
    let recv = dir.join("recv.jsonl");
    let run = pactum(&[
        "handover",
        "receive",
        slip.to_str().unwrap(),
        "--by",
        TO,
        "--log",
        recv.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        std::fs::read_to_string(&recv)
            .unwrap()
            .contains("\"result\":\"defective\"")
    );
    let mut after = listing(root.path());
    after.remove(&recv);
    assert_eq!(before, after, "verify or receive wrote files");
    assert!(!root.path().join("evil.txt").exists() && !Path::new("/tmp/pactum-evil.txt").exists());
    assert!(!repo().join("evil.txt").exists());
}

#[test]
fn bundle_refuses_a_draft_or_tampered_output_folder_and_bad_arguments() {
    let dir = tempdir();
    // A draft build is not archived.
    let draft = dir.path().join("draft");
    let run = pactum(&[
        "build",
        "samples",
        "--draft",
        "--out",
        draft.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let log = dir.path().join("log.jsonl");
    let run = bundle_with(&draft, &dir.path().join("d.zip"), &log, EPOCH, TO);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("draft build"), "{}", run.stderr);
    // A PDF changed after the build.
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    for e in std::fs::read_dir(samples_out()).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), out.join(e.file_name())).unwrap();
    }
    let mut pdf = std::fs::read(out.join("fw-2026-001.pdf")).unwrap();
    pdf[3000] ^= 1;
    std::fs::write(out.join("fw-2026-001.pdf"), pdf).unwrap();
    let run = bundle_with(&out, &dir.path().join("t.zip"), &log, EPOCH, TO);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("fw-2026-001.pdf does not match SHA256SUMS"),
        "{}",
        run.stderr
    );
    assert!(
        !dir.path().join("t.zip").exists() && !log.exists(),
        "a refused bundle wrote something"
    );
    // UNIT/PERSON is required.
    let run = bundle_with(
        samples_out(),
        &dir.path().join("u.zip"),
        &log,
        EPOCH,
        "档案室",
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("UNIT/PERSON"), "{}", run.stderr);
    // A missing archive is a usage error for verify.
    let run = pactum(&["verify", dir.path().join("nope.zip").to_str().unwrap()]);
    assert_eq!(run.code, 2);
}

/// Issue 20: entries that an earlier pactum wrote in UTC (`Z`) are never
/// rewritten: the next entry chains to them byte for byte and `verify`
/// accepts the chain; the zone of the workspace (`.pactum.toml`) decides the
/// times of new entries, bag-info and the 移交清单.
#[test]
fn utc_entries_of_an_earlier_log_chain_on_unchanged_and_the_workspace_zone_sets_new_times() {
    let dir = tempdir();
    bundle(dir.path(), "first");
    let log_path = dir.path().join("sender.jsonl");
    let old = std::fs::read_to_string(&log_path).unwrap().replace(
        r#""time":"2026-11-18T19:06:40+08:00""#,
        r#""time":"2026-11-18T11:06:40Z""#,
    );
    assert!(old.contains("11:06:40Z"), "{old}");
    std::fs::write(&log_path, &old).unwrap();

    // A workspace set to UTC (a copy of the shipped one).
    let ws = support::workspace_copy();
    std::fs::write(ws.path().join(".pactum.toml"), "time_zone = \"UTC\"\n").unwrap();
    let second = dir.path().join("second.zip");
    let run = pactum(&[
        "bundle",
        samples_out().to_str().unwrap(),
        "-o",
        second.to_str().unwrap(),
        "--from",
        FROM,
        "--to",
        TO,
        "--workspace",
        ws.path().to_str().unwrap(),
        "--log",
        log_path.to_str().unwrap(),
        "--source-date-epoch",
        EPOCH,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (code, report) = verify(&second);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["handover"]["chain_length"], 2);
    assert_eq!(report["handover"]["time"], "2026-11-18T11:06:40+00:00");
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.starts_with(&old), "the old entry was rewritten:\n{log}");
    let entry: Value = serde_json::from_str(log.lines().nth(1).unwrap()).unwrap();
    assert_eq!(entry["time"], "2026-11-18T11:06:40+00:00");
    assert_eq!(
        entry["prev"].as_str().unwrap(),
        support_sha256(old.lines().next().unwrap().as_bytes())
    );
    let ex = dir.path().join("ex");
    unzip(&second, &ex);
    let chain = std::fs::read_to_string(ex.join("second/handover/handover.jsonl")).unwrap();
    assert_eq!(chain, log, "the bag carries the chain as the log holds it");
    let text = pdf_text(&ex.join("second/handover/handover-list.pdf"));
    assert!(
        text.contains(&squeeze("2026年11月18日 11:06:40（UTC+00:00）")),
        "{text}"
    );
}
