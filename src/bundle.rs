//! Bundle: a build's output folder → one BagIt 1.0 bag in a zip, plus a
//! handover log entry and a printable 移交清单.
//!
//! With `verify`, the only module that knows zip. It first checks the output
//! folder (the sender's four-property check: digests against `SHA256SUMS`,
//! `manifest.json` and the register extract; counts; PDF/A and no
//! encryption; safe names) and refuses to bundle a folder that fails. The
//! zip is deterministic: entries sorted by name, every timestamp the
//! handover time (local time of the workspace's zone, as unzip shows it),
//! permissions 0644, PDFs stored and text deflated at a fixed
//! level. Order of effects: the zip is written to a temporary file and
//! synced, then the handover entry is appended to the locked log, then the
//! zip is renamed into place — the log never lacks an entry for a bundle
//! that exists.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufReader, Read, Write as _};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike as _, NaiveDate, TimeZone, Timelike as _, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};
use sha2::{Digest, Sha256, Sha512};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::bagit::{self, Oxum};
use crate::handover::{Entry, Event, Log, LogError, Party};
use crate::render::Renderer;
use crate::typeset::{Job, Typesetter};
use crate::verify::{HANDOVER_LIST, HANDOVER_LOG};

/// The handover list template, under `templates/`.
pub const LIST_TEMPLATE: &str = "_handover/main.typ.tera";

/// What `bundle` is asked to do, validated by [`BundleOptions::new`].
#[derive(Debug, Clone)]
pub struct BundleOptions {
    /// The `build --out` folder.
    pub out_dir: PathBuf,
    /// The zip to write (must not exist yet).
    pub archive: PathBuf,
    /// The bag's folder name inside the zip: the archive's file stem, NFC.
    pub bag: String,
    /// 移交单位 / 移交人.
    pub from: Party,
    /// 接收单位 / 接收人.
    pub to: Party,
    /// 交接工作名称.
    pub purpose: String,
    /// The handover log to append to.
    pub log: PathBuf,
    /// The workspace's `templates/` folder (for the 移交清单).
    pub templates_dir: PathBuf,
    /// The handover time.
    pub time: DateTime<Utc>,
    /// The workspace's zone: every time the bundle and the log show is local time in it.
    pub zone: Tz,
}

/// The purpose written when `--purpose` is not given.
pub const DEFAULT_PURPOSE: &str = "合同电子档案移交";

impl BundleOptions {
    /// Checks the arguments before any work: the archive's name makes a safe
    /// bag name, it does not exist yet, and the texts hold no line breaks.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        out_dir: &Path,
        archive: &Path,
        from: Party,
        to: Party,
        purpose: Option<&str>,
        log: PathBuf,
        templates_dir: PathBuf,
        epoch: Option<i64>,
        zone: Tz,
    ) -> Result<BundleOptions, BundleError> {
        let usage = |m: String| Err(BundleError::Usage(m));
        if !out_dir.join("manifest.json").is_file() {
            return usage(format!(
                "{} is not a build output folder (it has no manifest.json; run `pactum build` first)",
                out_dir.display()
            ));
        }
        if archive.exists() {
            return usage(format!(
                "{} already exists; a bundle is never overwritten (its handover is in the log): choose another name",
                archive.display()
            ));
        }
        let stem = archive
            .file_stem()
            .and_then(|s| s.to_str())
            .map(bagit::nfc)
            .unwrap_or_default();
        if stem.is_empty()
            || stem.starts_with('.')
            || stem.contains(['/', '\\'])
            || bagit::unsafe_name(&stem).is_some()
        {
            return usage(format!(
                "{} does not give a usable bag name (the file name without .zip becomes the folder inside the zip)",
                archive.display()
            ));
        }
        let purpose = purpose.map(str::trim).unwrap_or(DEFAULT_PURPOSE).to_owned();
        if purpose.is_empty() || purpose.chars().any(char::is_control) {
            return usage("--purpose must be one line of text".into());
        }
        let time = crate::handover::record_time(epoch)
            .ok_or_else(|| BundleError::Usage("SOURCE_DATE_EPOCH is out of range".into()))?;
        Ok(BundleOptions {
            out_dir: out_dir.to_path_buf(),
            archive: archive.to_path_buf(),
            bag: stem,
            from,
            to,
            purpose,
            log,
            templates_dir,
            time,
            zone,
        })
    }

    /// The handover time in the workspace's zone.
    fn local_time(&self) -> DateTime<Tz> {
        self.time.with_timezone(&self.zone)
    }

    /// The handover day in the workspace's zone (Bagging-Date, the 移交清单's date).
    fn local_date(&self) -> NaiveDate {
        self.local_time().date_naive()
    }
}

/// Why a bundle was not written.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The output folder fails the sender's check (exit code 1): nothing written, nothing logged.
    #[error("refusing to bundle {}: {} problem(s):\n{}", path.display(), problems.len(), problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Refused {
        /// The output folder.
        path: PathBuf,
        /// What is wrong.
        problems: Vec<String>,
    },
    /// Bad arguments (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// The handover log could not be used.
    #[error(transparent)]
    Log(#[from] LogError),
    /// The 移交清单 could not be rendered or typeset.
    #[error("failed to make the handover list ({0})")]
    List(String),
    /// Reading or writing files failed (exit code 2).
    #[error("failed to {action} {path} ({source})")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl BundleError {
    /// 1 when the input has defects (the output folder or the log), 2 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            BundleError::Refused { .. } | BundleError::Log(LogError::Broken { .. }) => 1,
            _ => 2,
        }
    }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BundleError {
    let path = path.to_path_buf();
    move |source| BundleError::Io {
        action,
        path,
        source,
    }
}

/// What was written.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Bundled {
    /// The zip.
    pub archive: PathBuf,
    /// The bag folder inside it.
    pub bag: String,
    /// Contract documents in the bag.
    pub documents: usize,
    /// Payload bytes.
    pub payload_bytes: u64,
    /// Payload files.
    pub payload_files: u64,
    /// The handover entry appended to the log.
    pub entry: Entry,
    /// The log it was appended to.
    pub log: PathBuf,
}

/// One document of the output folder, checked.
struct Doc {
    /// The document entry of `manifest.json` (id, number, …, sources), verbatim.
    value: Value,
    id: String,
    number: String,
    revision: String,
    title: String,
    file: String,
    sha256: String,
    sha512: String,
    size: u64,
    pages: u64,
    signing_date: String,
}

/// A file of the bag and where its bytes come from.
struct Member {
    /// Path inside the bag (`data/…`, `bagit.txt`, …).
    path: String,
    content: Content,
}

enum Content {
    /// Bytes in memory (tag files, records, register, handover files).
    Bytes(Vec<u8>),
    /// A PDF streamed from disk when the zip is written; its SHA-256 is checked again then.
    Pdf { path: PathBuf, sha256: String },
}

/// Runs `bundle`.
pub fn bundle(opts: &BundleOptions) -> Result<Bundled, BundleError> {
    // 1. The sender's check of the output folder.
    let checked = check_out_dir(&opts.out_dir)?;
    let mut members: Vec<Member> = Vec::new();
    let mut digests: Vec<(String, String, String, u64)> = Vec::new(); // path, sha256, sha512, size
    for d in &checked.docs {
        let path = format!("data/documents/{}", d.file);
        digests.push((path.clone(), d.sha256.clone(), d.sha512.clone(), d.size));
        members.push(Member {
            path,
            content: Content::Pdf {
                path: opts.out_dir.join(&d.file),
                sha256: d.sha256.clone(),
            },
        });
        let record = serde_json::to_string_pretty(&d.value).unwrap_or_default() + "\n";
        let path = format!("data/records/{}.json", d.id);
        digests.push(digest_of(&path, record.as_bytes()));
        members.push(Member {
            path,
            content: Content::Bytes(record.into_bytes()),
        });
    }
    digests.push(digest_of("data/register.csv", &checked.register_csv));
    members.push(Member {
        path: "data/register.csv".into(),
        content: Content::Bytes(checked.register_csv.clone()),
    });
    let oxum = Oxum {
        bytes: digests.iter().map(|d| d.3).sum(),
        count: digests.len() as u64,
    };

    // 2. The log, locked from here until the entry is appended.
    let mut log = Log::open(&opts.log)?;
    let (seq, prev) = log.chain().next();
    let time = crate::handover::format_time(opts.time, opts.zone);

    // 3. Tag files; bag-info.txt names this handover so the bag and its entry seal each other.
    let mut info: Vec<(&str, String)> = vec![
        ("Source-Organization", opts.from.unit.clone()),
        ("Contact-Name", opts.from.person.clone()),
        ("External-Description", opts.purpose.clone()),
        ("External-Identifier", opts.bag.clone()),
        (
            "Bagging-Date",
            opts.local_date().format("%Y-%m-%d").to_string(),
        ),
        ("Bag-Count", "1 of 1".into()),
        ("Bag-Size", human_size(oxum.bytes)),
        ("Payload-Oxum", oxum.to_string()),
        (
            "Bag-Software-Agent",
            format!("pactum {}", env!("CARGO_PKG_VERSION")),
        ),
        ("Pactum-Version", checked.pactum_version.clone()),
        ("Pactum-Build-Mode", "issue".into()),
        ("Pactum-Documents", checked.docs.len().to_string()),
    ];
    for (template, sha) in &checked.templates {
        info.push(("Pactum-Template-SHA256", format!("{template} {sha}")));
    }
    info.extend([
        ("Pactum-Handover-Sequence", seq.to_string()),
        ("Pactum-Handover-Time", time.clone()),
        ("Pactum-Handover-To-Unit", opts.to.unit.clone()),
        ("Pactum-Handover-To-Person", opts.to.person.clone()),
        ("Pactum-Handover-Previous", prev.clone()),
    ]);
    let bag_info = bagit::bag_info(&info);
    let manifest256 = bagit::manifest(
        &digests
            .iter()
            .map(|d| (d.0.clone(), d.1.clone()))
            .collect::<Vec<_>>(),
    );
    let manifest512 = bagit::manifest(
        &digests
            .iter()
            .map(|d| (d.0.clone(), d.2.clone()))
            .collect::<Vec<_>>(),
    );
    let tag_files: Vec<(&str, Vec<u8>)> = vec![
        ("bagit.txt", bagit::BAGIT_TXT.as_bytes().to_vec()),
        ("bag-info.txt", bag_info.into_bytes()),
        ("manifest-sha256.txt", manifest256.into_bytes()),
        ("manifest-sha512.txt", manifest512.into_bytes()),
    ];
    let tagmanifest = bagit::manifest(
        &tag_files
            .iter()
            .map(|(p, b)| ((*p).to_owned(), crate::checksum::sha256_hex(b)))
            .collect::<Vec<_>>(),
    );
    let tagmanifest_sha256 = crate::checksum::sha256_hex(tagmanifest.as_bytes());
    for (p, b) in tag_files {
        members.push(Member {
            path: p.to_owned(),
            content: Content::Bytes(b),
        });
    }
    members.push(Member {
        path: "tagmanifest-sha256.txt".into(),
        content: Content::Bytes(tagmanifest.into_bytes()),
    });

    // 4. The 移交清单, then the entry that seals it and the tag manifest.
    let list = handover_list(opts, &checked, oxum, seq, &prev, &tagmanifest_sha256)?;
    let entry = log.next_entry(
        &time,
        Event::Handover {
            from: opts.from.clone(),
            to: opts.to.clone(),
            purpose: opts.purpose.clone(),
            bundle: opts.bag.clone(),
            items: oxum.count,
            bytes: oxum.bytes,
            algorithm: "sha256".into(),
            tagmanifest_sha256: tagmanifest_sha256.clone(),
            list_sha256: crate::checksum::sha256_hex(&list),
        },
    );
    let chain = format!("{}{}\n", log.text(), entry.to_line());
    members.push(Member {
        path: HANDOVER_LIST.into(),
        content: Content::Bytes(list),
    });
    members.push(Member {
        path: HANDOVER_LOG.into(),
        content: Content::Bytes(chain.into_bytes()),
    });

    // 5. Zip to a temporary file, entry to the log, zip into place.
    let tmp = temp_path(&opts.archive);
    let written = write_zip(&tmp, &opts.bag, &mut members, opts.local_time());
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    if let Err(e) = log.append(&entry) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.into());
    }
    std::fs::rename(&tmp, &opts.archive).map_err(io("move into place", &opts.archive))?;
    if let Some(dir) = opts.archive.parent().and_then(|d| File::open(d).ok()) {
        let _ = dir.sync_all();
    }
    Ok(Bundled {
        archive: opts.archive.clone(),
        bag: opts.bag.clone(),
        documents: checked.docs.len(),
        payload_bytes: oxum.bytes,
        payload_files: oxum.count,
        entry,
        log: opts.log.clone(),
    })
}

fn digest_of(path: &str, bytes: &[u8]) -> (String, String, String, u64) {
    (
        path.to_owned(),
        format!("{:x}", Sha256::digest(bytes)),
        format!("{:x}", Sha512::digest(bytes)),
        bytes.len() as u64,
    )
}

fn temp_path(archive: &Path) -> PathBuf {
    let name = archive
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    archive.with_file_name(format!(".{name}.pactum-tmp-{}", std::process::id()))
}

/// Writes the members under `<bag>/`, sorted by name, with fixed metadata.
fn write_zip(
    tmp: &Path,
    bag: &str,
    members: &mut [Member],
    time: DateTime<impl TimeZone>,
) -> Result<(), BundleError> {
    members.sort_by(|a, b| a.path.cmp(&b.path));
    let file = File::create(tmp).map_err(io("create", tmp))?;
    let mut zip = ZipWriter::new(std::io::BufWriter::new(file));
    // DOS time holds 1980–2107; clamp so any SOURCE_DATE_EPOCH gives a valid, fixed stamp.
    let year = time.year().clamp(1980, 2107) as u16;
    let stamp = zip::DateTime::from_date_and_time(
        year,
        time.month() as u8,
        time.day() as u8,
        time.hour() as u8,
        time.minute() as u8,
        time.second() as u8,
    )
    .unwrap_or_default();
    let base = SimpleFileOptions::default()
        .last_modified_time(stamp)
        .unix_permissions(0o644);
    let zip_err = |e: zip::result::ZipError| BundleError::Io {
        action: "write",
        path: tmp.to_path_buf(),
        source: std::io::Error::other(e),
    };
    for m in members.iter() {
        let name = format!("{bag}/{}", m.path);
        match &m.content {
            Content::Bytes(b) => {
                // PDFs are stored (already compressed inside); text is deflated at a fixed level.
                let opts = if m.path.ends_with(".pdf") {
                    base.compression_method(CompressionMethod::Stored)
                } else {
                    base.compression_method(CompressionMethod::Deflated)
                        .compression_level(Some(6))
                };
                zip.start_file(name, opts).map_err(zip_err)?;
                zip.write_all(b).map_err(io("write", tmp))?;
            }
            Content::Pdf { path, sha256 } => {
                zip.start_file(name, base.compression_method(CompressionMethod::Stored))
                    .map_err(zip_err)?;
                let mut reader = BufReader::new(File::open(path).map_err(io("read", path))?);
                let mut hasher = Sha256::new();
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = reader.read(&mut buf).map_err(io("read", path))?;
                    if n == 0 {
                        break;
                    }
                    hasher.update(&buf[..n]);
                    zip.write_all(&buf[..n]).map_err(io("write", tmp))?;
                }
                let actual = format!("{:x}", hasher.finalize());
                if &actual != sha256 {
                    return Err(BundleError::Refused {
                        path: path.clone(),
                        problems: vec![format!(
                            "{} changed while it was being bundled (sha256 was {sha256}, now {actual})",
                            path.display()
                        )],
                    });
                }
            }
        }
    }
    let inner = zip.finish().map_err(zip_err)?;
    let file = inner.into_inner().map_err(|e| BundleError::Io {
        action: "write",
        path: tmp.to_path_buf(),
        source: e.into_error(),
    })?;
    file.sync_all().map_err(io("sync", tmp))?;
    Ok(())
}

/// The output folder after the sender's check.
struct Checked {
    docs: Vec<Doc>,
    register_csv: Vec<u8>,
    register_rows: usize,
    pactum_version: String,
    /// Each template with the digest of the files its documents read (one
    /// pair per distinct set: documents that include other clauses differ).
    templates: BTreeSet<(String, String)>,
    pdf_pages: u64,
}

/// The sender's four-property check of a build output folder; every problem is collected.
fn check_out_dir(dir: &Path) -> Result<Checked, BundleError> {
    let mut problems = Vec::new();
    let manifest_path = dir.join("manifest.json");
    let manifest_bytes = std::fs::read(&manifest_path).map_err(io("read", &manifest_path))?;
    let manifest: Value =
        serde_json::from_slice(&manifest_bytes).map_err(|e| BundleError::Refused {
            path: dir.to_path_buf(),
            problems: vec![format!("manifest.json is not JSON ({e})")],
        })?;
    let refuse = |problems: Vec<String>| BundleError::Refused {
        path: dir.to_path_buf(),
        problems,
    };
    if manifest["mode"] != "issue" {
        return Err(refuse(vec![
            "it is a draft build (manifest.json mode is not `issue`): only issued documents are archived".into(),
        ]));
    }
    // SHA256SUMS covers every output; check it first.
    let sums_path = dir.join("SHA256SUMS");
    let mut summed = BTreeSet::new();
    match std::fs::read_to_string(&sums_path) {
        Err(e) => problems.push(format!("SHA256SUMS cannot be read ({e})")),
        Ok(text) => {
            let (lines, bad) = bagit::parse_manifest(&text, 64);
            problems.extend(bad.into_iter().map(|(_, m)| format!("SHA256SUMS: {m}")));
            for l in lines {
                if l.path.contains('/') || bagit::unsafe_name(&l.path).is_some() {
                    problems.push(format!("SHA256SUMS names an unsafe path `{}`", l.path));
                    continue;
                }
                match file_digests(&dir.join(&l.path)) {
                    Err(e) => problems.push(format!("{} cannot be read ({e})", l.path)),
                    Ok((sha, _, _)) if sha != l.digest => problems.push(format!(
                        "{} does not match SHA256SUMS (expected {}, actual {sha})",
                        l.path, l.digest
                    )),
                    Ok(_) => {}
                }
                summed.insert(l.path);
            }
        }
    }
    for required in ["manifest.json", "register.csv"] {
        if !summed.contains(required) {
            problems.push(format!("SHA256SUMS does not list {required}"));
        }
    }
    let register_path = dir.join("register.csv");
    let register_csv = std::fs::read(&register_path).unwrap_or_default();
    let register_text = String::from_utf8_lossy(&register_csv).into_owned();
    let register = match crate::verify::register_digests(&register_text) {
        Ok(r) => r,
        Err(m) => {
            problems.push(format!("register.csv: {m}"));
            BTreeMap::new()
        }
    };
    let mut docs = Vec::new();
    let mut ids = BTreeSet::new();
    let mut templates = BTreeSet::new();
    let empty = Vec::new();
    let list = manifest["documents"].as_array().unwrap_or(&empty);
    if list.is_empty() {
        problems.push("manifest.json lists no documents".into());
    }
    let mut pdf_pages = 0;
    for v in list {
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
        let (id, file, number, sha256) = (s("id"), s("file"), s("number"), s("sha256"));
        if id.is_empty() || file.is_empty() || number.is_empty() {
            problems.push(format!(
                "a manifest.json document lacks id, file or number: {v}"
            ));
            continue;
        }
        if !ids.insert(id.clone())
            || file.contains('/')
            || !file.ends_with(".pdf")
            || bagit::unsafe_name(&file).is_some()
            || bagit::is_junk(&file)
            || bagit::unsafe_name(&id).is_some()
            || id.contains('/')
        {
            problems.push(format!(
                "document `{id}` has an unsafe or duplicate name (`{file}`)"
            ));
            continue;
        }
        if !summed.contains(&file) {
            problems.push(format!("{file} is not listed in SHA256SUMS"));
        }
        let path = dir.join(&file);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                problems.push(format!("{file} cannot be read ({e})"));
                continue;
            }
        };
        let actual = format!("{:x}", Sha256::digest(&bytes));
        if actual != sha256 {
            problems.push(format!(
                "{file} does not match manifest.json (expected {sha256}, actual {actual})"
            ));
        }
        // 可用性: an archival format, readable, not encrypted.
        if !bytes.starts_with(b"%PDF-") {
            problems.push(format!("{file} is not a PDF"));
        } else if !contains(&bytes, b"pdfaid:part") {
            problems.push(format!(
                "{file} is not PDF/A (no pdfaid:part in its metadata)"
            ));
        }
        if contains(&bytes, b"/Encrypt") {
            problems.push(format!("{file} is encrypted"));
        }
        match register.get(number.as_str()) {
            None => problems.push(format!("register.csv has no row for {number} ({file})")),
            Some((line, r)) if *r != actual => problems.push(format!(
                "register.csv row {line} ({number}) has PDF SHA-256 {r}, but {file} is {actual}"
            )),
            Some(_) => {}
        }
        let template = s("template");
        let template_sha = s("template_sha256");
        if !template.is_empty() {
            templates.insert((template, template_sha));
        }
        let pages = v["pages"].as_u64().unwrap_or_default();
        pdf_pages += pages;
        docs.push(Doc {
            value: v.clone(),
            title: v["sources"]["contract"]["title"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            signing_date: v["sources"]["contract"]["signing_date"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            revision: v["revision"]
                .as_u64()
                .map_or_else(|| "—".into(), |r| format!("{r:02}")),
            id,
            number,
            file,
            sha512: format!("{:x}", Sha512::digest(&bytes)),
            size: bytes.len() as u64,
            sha256: actual,
            pages,
        });
    }
    if !problems.is_empty() {
        return Err(refuse(problems));
    }
    docs.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(Checked {
        register_rows: register.len(),
        docs,
        register_csv,
        pactum_version: manifest["pactum"].as_str().unwrap_or("unknown").to_owned(),
        templates,
        pdf_pages,
    })
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// SHA-256, SHA-512 and size of a file, streamed.
fn file_digests(path: &Path) -> std::io::Result<(String, String, u64)> {
    let mut r = BufReader::new(File::open(path)?);
    let (mut a, mut b) = (Sha256::new(), Sha512::new());
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0;
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        a.update(&buf[..n]);
        b.update(&buf[..n]);
        size += n as u64;
    }
    Ok((
        format!("{:x}", a.finalize()),
        format!("{:x}", b.finalize()),
        size,
    ))
}

fn human_size(bytes: u64) -> String {
    let units = ["bytes", "KB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

/// Splits a hex digest into groups of 8 for printing (readers compare digests in groups).
fn groups(hex: &str) -> Vec<String> {
    hex.as_bytes()
        .chunks(8)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect()
}

/// Renders and typesets the 移交清单 (电子档案移交与接收登记表) through the workspace's template.
fn handover_list(
    opts: &BundleOptions,
    checked: &Checked,
    oxum: Oxum,
    seq: u64,
    prev: &str,
    tagmanifest_sha256: &str,
) -> Result<Vec<u8>, BundleError> {
    let n = checked.docs.len();
    let dates: BTreeSet<&str> = checked
        .docs
        .iter()
        .map(|d| d.signing_date.as_str())
        .filter(|d| !d.is_empty())
        .collect();
    let range = match (dates.first(), dates.last()) {
        (Some(a), Some(b)) if a != b => format!("，签署日期 {a} 至 {b}"),
        (Some(a), _) => format!("，签署日期 {a}"),
        _ => String::new(),
    };
    let gb = format!("{:.3}", oxum.bytes as f64 / 1_073_741_824.0);
    let data = json!({
        "bag": opts.bag,
        "seq": seq,
        "time": crate::localtime::chinese(opts.time, opts.zone),
        "date": opts.local_date().format("%Y-%m-%d").to_string(),
        "purpose": opts.purpose,
        "description": format!(
            "合同电子文件 {n} 件（PDF/A-2b），附各件来源记录（JSON）{n} 份、合同信息登记表（CSV）1 份{range}。"
        ),
        "from": opts.from,
        "to": opts.to,
        "documents": checked.docs.iter().enumerate().map(|(i, d)| json!({
            "n": i + 1,
            "number": d.number,
            "revision": d.revision,
            "title": d.title,
            "pages": d.pages,
            "file": format!("data/documents/{}", d.file),
            "sha256": groups(&d.sha256),
        })).collect::<Vec<_>>(),
        "count": n,
        "files": oxum.count,
        "bytes": oxum.bytes,
        "gb": gb,
        "tagmanifest": groups(tagmanifest_sha256),
        "prev": groups(prev),
        "checks": [
            {
                "name": "真实性",
                "content": format!("{n} 件 PDF 的 SHA-256 与构建清单（manifest.json）及 SHA256SUMS 一致；与合同信息登记表所记 PDF 摘要一致；包内每个文件另记 SHA-256 与 SHA-512（BagIt 清单），标签清单摘要见下表。"),
                "result": "通过",
            },
            {
                "name": "完整性",
                "content": format!("合同 {n} 件、来源记录 {n} 份、登记表有对应行 {n} 行（登记表共 {} 行），数量一致；共 {} 页；数据包文件 {} 个、{} 字节（Payload-Oxum）。", checked.register_rows, checked.pdf_pages, oxum.count, oxum.bytes),
                "result": "通过",
            },
            {
                "name": "可用性",
                "content": format!("{n} 件 PDF 均为 PDF/A-2b、未加密；记录为 JSON，登记表为 UTF-8 CSV；数据包为未加密 zip（PDF 存储不压缩，文本 deflate），BagIt 1.0。"),
                "result": "通过",
            },
            {
                "name": "安全性",
                "content": "文件名均为 Unicode NFC，无绝对路径、“..”、反斜杠或符号链接；无隐藏文件或非归档文件。病毒检测未由本工具执行，由接收方按规定进行。",
                "result": "通过",
            },
        ],
        "pactum": env!("CARGO_PKG_VERSION"),
    });
    let renderer = Renderer::new(&opts.templates_dir).map_err(|e| BundleError::List(e.message))?;
    let markup = renderer
        .render_value(LIST_TEMPLATE, &data)
        .map_err(|e| BundleError::List(format!("templates/{LIST_TEMPLATE}: {}", e.message)))?;
    let ts = Typesetter::new(&opts.templates_dir);
    let job = Job {
        template: "_handover",
        markup,
        date: opts.local_date(),
        ident: &opts.bag,
        emit: None,
    };
    let pdf = ts.pdf(&job).map_err(|problems| {
        BundleError::List(
            problems
                .iter()
                .map(|p| format!("typst: {}", p.message))
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    Ok(pdf.bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_groups() {
        assert_eq!(human_size(512), "512 bytes");
        assert_eq!(human_size(3 * 1024 * 1024), "3.0 MB");
        assert_eq!(
            groups("0123456789abcdef01"),
            vec!["01234567", "89abcdef", "01"]
        );
    }
}
