//! Verify: check an archive bundle in place and report every defect.
//!
//! Reads the zip without extracting anything to disk (with `bundle`, the only
//! module that knows zip). Before any entry is decompressed the central
//! directory is checked against fixed limits (entry count, declared sizes,
//! compression ratio), so a zip bomb is refused in bounded memory; entries
//! are then stream-hashed with a cap at their declared size, and only small
//! tag files are held in memory, each under a size cap. It checks: entry
//! names (unsafe paths, symlinks, duplicates, NFC and case collisions), the
//! BagIt structure, every manifest and tag manifest (missing, extra, changed),
//! Payload-Oxum, the handover chain and the bag's own entry in it, and the
//! register rows' PDF digests. Problems are data: the report lists them all.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256, Sha512};
use zip::ZipArchive;

use crate::bagit::{self, Oxum};
use crate::handover::{self, Entry, Event, Party};

/// Most entries an archive may have.
pub const MAX_ENTRIES: u64 = 50_000;
/// Largest central directory read (bytes).
pub const MAX_CENTRAL_DIRECTORY: u64 = 64 << 20;
/// Largest declared uncompressed size of one entry (bytes).
pub const MAX_ENTRY_BYTES: u64 = 1 << 30;
/// Largest declared uncompressed size of all entries together (bytes).
pub const MAX_TOTAL_BYTES: u64 = 64 << 30;
/// Highest compression ratio accepted for an entry larger than [`RATIO_FLOOR`].
pub const MAX_RATIO: u64 = 100;
/// Entries up to this size are not ratio-checked (tiny files compress well legitimately).
pub const RATIO_FLOOR: u64 = 1 << 20;
/// Largest tag file, record or register that is read into memory to be parsed (bytes).
pub const MAX_PARSED: u64 = 64 << 20;

/// The handover files a bag carries outside its tag manifest (they seal it, so it cannot seal them).
pub const HANDOVER_LOG: &str = "handover/handover.jsonl";
/// The printable 移交清单.
pub const HANDOVER_LIST: &str = "handover/handover-list.pdf";

/// What kind of defect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The archive as a whole is refused (not a zip, a zip bomb, over a limit).
    Refused,
    /// An entry name or type that is unsafe to extract.
    Unsafe,
    /// Listed in a manifest (or required) but absent.
    Missing,
    /// Present but listed nowhere.
    Extra,
    /// Content differs from its recorded digest.
    Changed,
    /// A tag file, manifest or record that cannot be read as what it should be.
    Malformed,
    /// Payload-Oxum does not match the payload.
    Oxum,
    /// The handover chain is broken or disagrees with the bag.
    Chain,
    /// A register row disagrees with the PDF in the bag.
    Register,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Refused => "refused",
            Kind::Unsafe => "unsafe",
            Kind::Missing => "missing",
            Kind::Extra => "extra",
            Kind::Changed => "changed",
            Kind::Malformed => "malformed",
            Kind::Oxum => "oxum",
            Kind::Chain => "chain",
            Kind::Register => "register",
        }
    }
}

/// One defect, tied to the entry it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// What kind.
    pub kind: Kind,
    /// The zip entry name (or the archive path for whole-archive problems).
    pub entry: String,
    /// A sentence saying what is wrong.
    pub message: String,
    /// The recorded value (digest, Oxum), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// The value found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
}

impl Problem {
    fn new(kind: Kind, entry: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            kind,
            entry: entry.into(),
            message: message.into(),
            expected: None,
            actual: None,
        }
    }

    fn values(mut self, expected: impl Into<String>, actual: impl Into<String>) -> Problem {
        self.expected = Some(expected.into());
        self.actual = Some(actual.into());
        self
    }
}

/// The bundle's own handover entry, as far as it could be read.
#[derive(Debug, Clone, Serialize)]
pub struct HandoverInfo {
    /// Its `seq`.
    pub seq: u64,
    /// Sender.
    pub from: Party,
    /// Addressee.
    pub to: Party,
    /// When.
    pub time: String,
    /// SHA-256 of its line (what a receipt anchors to).
    pub entry_sha256: String,
    /// Entries in the carried chain.
    pub chain_length: usize,
}

/// The result of verifying one archive.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The archive as given.
    pub archive: String,
    /// The bag's folder name, when one was found.
    pub bag: Option<String>,
    /// Entries in the zip.
    pub entries: usize,
    /// The payload actually found under `data/`.
    pub payload_bytes: u64,
    /// Payload files actually found.
    pub payload_files: u64,
    /// Documents (records under `data/records/`).
    pub documents: usize,
    /// SHA-256 of `tagmanifest-sha256.txt` as found.
    pub tagmanifest_sha256: Option<String>,
    /// The bag's handover entry.
    pub handover: Option<HandoverInfo>,
    /// True when `problems` is empty.
    pub ok: bool,
    /// Every defect found, sorted by entry.
    pub problems: Vec<Problem>,
}

impl Report {
    /// True when nothing is wrong.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    fn done(mut self, problems: Vec<Problem>) -> Report {
        self.ok = problems.is_empty();
        self.problems = problems;
        self
    }

    /// One line per problem, then a summary line.
    pub fn to_human(&self) -> String {
        let mut out = String::new();
        for p in &self.problems {
            out.push_str(&format!("{}: {}: {}", p.kind.label(), p.entry, p.message));
            if let (Some(e), Some(a)) = (&p.expected, &p.actual) {
                out.push_str(&format!(" (expected {e}, actual {a})"));
            }
            out.push('\n');
        }
        if self.ok() {
            out.push_str(&format!(
                "OK {}: bag {}, {} payload file(s), {} byte(s), {} document(s){}\n",
                self.archive,
                self.bag.as_deref().unwrap_or("?"),
                self.payload_files,
                self.payload_bytes,
                self.documents,
                self.handover
                    .as_ref()
                    .map(|h| format!(
                        ", handover entry {} ({} → {}, {}), chain of {} intact",
                        h.seq, h.from, h.to, h.time, h.chain_length
                    ))
                    .unwrap_or_default()
            ));
        } else {
            out.push_str(&format!(
                "FAILED {}: {} problem(s)\n",
                self.archive,
                self.problems.len()
            ));
        }
        out
    }
}

/// Failures that stop verification before the archive could be judged (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("failed to read archive {path} ({source})")]
pub struct VerifyError {
    /// The archive path.
    pub path: std::path::PathBuf,
    /// The cause.
    pub source: std::io::Error,
}

/// Digests and size of one entry's content.
#[derive(Debug, Clone, Default)]
struct Hashed {
    sha256: String,
    sha512: String,
    size: u64,
    /// The zip's CRC-32 disagreed with the content (the bytes were edited inside the zip).
    crc_failed: bool,
}

/// A document as its record in the bag describes it.
struct DocRef {
    record: String,
    number: String,
    file: String,
}

/// Verifies the archive at `path`.
pub fn verify(path: &Path) -> Result<Report, VerifyError> {
    let err = |source| VerifyError {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(err)?;
    let display = path.display().to_string();
    let mut report = Report {
        archive: display.clone(),
        bag: None,
        entries: 0,
        payload_bytes: 0,
        payload_files: 0,
        documents: 0,
        tagmanifest_sha256: None,
        handover: None,
        ok: false,
        problems: Vec::new(),
    };
    // 1. The central directory, read by hand and bounded, before the zip crate sees it.
    let raw_names = match scan_central_directory(&mut file) {
        Ok(names) => names,
        Err(message) => {
            return Ok(report.done(vec![Problem::new(Kind::Refused, &display, message)]));
        }
    };
    file.seek(SeekFrom::Start(0)).map_err(err)?;
    let mut zip = match ZipArchive::new(BufReader::new(file)) {
        Ok(z) => z,
        Err(e) => {
            return Ok(report.done(vec![Problem::new(
                Kind::Refused,
                &display,
                format!("not a readable zip archive ({e})"),
            )]));
        }
    };
    report.entries = raw_names.len();
    let mut v = Verifier {
        problems: Vec::new(),
    };
    // 2. Names and declared sizes; a bomb stops everything here.
    let listing = v.check_listing(&mut zip, &raw_names, &display);
    if v.problems.iter().any(|p| p.kind == Kind::Refused) {
        return Ok(report.done(v.finish()));
    }
    // 3. Find the bag folder (entries are still hashed without one: a bomb must not hide there).
    let bag = find_bag(&listing);
    report.bag = bag.clone();
    let prefix = bag
        .as_ref()
        .map(|b| format!("{b}/"))
        .unwrap_or_else(|| "\0".into());
    // 4. Stream-hash every file; keep the texts we must parse.
    let mut hashed: BTreeMap<String, Hashed> = BTreeMap::new();
    let mut texts: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut docs: Vec<DocRef> = Vec::new();
    for item in &listing {
        if !item.is_file {
            continue;
        }
        let rel = item.name.strip_prefix(&prefix);
        let keep = rel.is_some_and(|r| {
            is_tag_text(r) || r == HANDOVER_LOG || r == "data/register.csv" || is_record(r)
        });
        let mut content = keep.then(Vec::new);
        match hash_entry(&mut zip, item, content.as_mut()) {
            Ok(h) => {
                if h.crc_failed {
                    v.problems.push(Problem::new(
                        Kind::Changed,
                        &item.name,
                        "content does not match the zip's CRC-32 (bytes were altered inside the archive)",
                    ));
                }
                hashed.insert(item.name.clone(), h);
            }
            Err(problem) => {
                v.problems.push(problem);
                continue;
            }
        }
        let Some(bytes) = content else { continue };
        let rel = rel.unwrap_or_default();
        if is_record(rel) {
            match record_ref(&bytes) {
                Ok((number, file)) => docs.push(DocRef {
                    record: item.name.clone(),
                    number,
                    file,
                }),
                Err(e) => v.problems.push(Problem::new(
                    Kind::Malformed,
                    &item.name,
                    format!("record is not a document entry ({e})"),
                )),
            }
        } else {
            texts.insert(rel.to_owned(), bytes);
        }
    }
    let Some(bag) = bag else {
        v.problems.push(Problem::new(
            Kind::Malformed,
            &display,
            "no `<folder>/bagit.txt`: the archive is not a BagIt bag in one top-level folder",
        ));
        return Ok(report.done(v.finish()));
    };
    report.documents = docs.len();
    let payload: Vec<(&String, &Hashed)> = hashed
        .iter()
        .filter(|(n, _)| n.starts_with(&format!("{prefix}data/")))
        .collect();
    let oxum = Oxum {
        bytes: payload.iter().map(|(_, h)| h.size).sum(),
        count: payload.len() as u64,
    };
    report.payload_bytes = oxum.bytes;
    report.payload_files = oxum.count;
    report.tagmanifest_sha256 = hashed
        .get(&format!("{prefix}tagmanifest-sha256.txt"))
        .map(|h| h.sha256.clone());
    let bag_ctx = Bag {
        prefix: &prefix,
        hashed: &hashed,
        texts: &texts,
        listing: &listing,
    };
    // 5. BagIt structure, manifests, Oxum.
    v.check_bagit_txt(&bag_ctx);
    let info = v.check_bag_info(&bag_ctx, &bag, oxum);
    v.check_manifests(&bag_ctx);
    // 6. The handover chain and this bag's entry.
    report.handover = v.check_handover(&bag_ctx, info.as_deref(), oxum);
    // 7. Register rows against the PDFs.
    v.check_register(&bag_ctx, &docs);
    Ok(report.done(v.finish()))
}

/// One entry of the listing.
struct Item {
    index: usize,
    name: String,
    size: u64,
    is_file: bool,
}

struct Verifier {
    problems: Vec<Problem>,
}

/// What the checks share about the bag.
struct Bag<'a> {
    prefix: &'a str,
    hashed: &'a BTreeMap<String, Hashed>,
    texts: &'a BTreeMap<String, Vec<u8>>,
    listing: &'a [Item],
}

impl Bag<'_> {
    fn full(&self, rel: &str) -> String {
        format!("{}{rel}", self.prefix)
    }

    fn text(&self, rel: &str) -> Option<Result<&str, std::str::Utf8Error>> {
        self.texts.get(rel).map(|b| std::str::from_utf8(b))
    }

    fn hash(&self, rel: &str) -> Option<&Hashed> {
        self.hashed.get(&self.full(rel))
    }
}

impl Verifier {
    fn push(&mut self, p: Problem) {
        self.problems.push(p);
    }

    fn finish(mut self) -> Vec<Problem> {
        self.problems.sort_by(|a, b| {
            (a.kind != Kind::Refused, &a.entry, a.kind, &a.message).cmp(&(
                b.kind != Kind::Refused,
                &b.entry,
                b.kind,
                &b.message,
            ))
        });
        self.problems.dedup();
        self.problems
    }

    /// Names, types and declared sizes of every entry; refuses bombs.
    fn check_listing<R: Read + Seek>(
        &mut self,
        zip: &mut ZipArchive<R>,
        raw_names: &[Vec<u8>],
        archive: &str,
    ) -> Vec<Item> {
        // Exact duplicates (the zip reader keeps only one of them, so they are found in the raw listing).
        let mut seen: BTreeMap<&[u8], usize> = BTreeMap::new();
        for n in raw_names {
            *seen.entry(n.as_slice()).or_default() += 1;
        }
        for (n, count) in seen.iter().filter(|(_, c)| **c > 1) {
            self.push(Problem::new(
                Kind::Unsafe,
                String::from_utf8_lossy(n),
                format!("duplicate entry name ({count} entries share it; extraction would keep only one)"),
            ));
        }
        let mut items = Vec::new();
        let mut total: u64 = 0;
        let mut folded: BTreeMap<String, String> = BTreeMap::new();
        for index in 0..zip.len() {
            let entry = match zip.by_index_data(index) {
                Ok(e) => e,
                Err(e) => {
                    self.push(Problem::new(
                        Kind::Refused,
                        archive,
                        format!("entry {index} cannot be read ({e})"),
                    ));
                    continue;
                }
            };
            let name = match entry.name() {
                Ok(n) => n.into_owned(),
                Err(_) => String::from_utf8_lossy(entry.name_raw()).into_owned(),
            };
            let (size, compressed) = (entry.size(), entry.compressed_size());
            if let Some(why) = bagit::unsafe_name(&name) {
                self.push(Problem::new(Kind::Unsafe, &name, why));
            }
            let mode = entry.unix_mode().unwrap_or(0);
            let file_type = mode & 0o170000;
            if entry.is_symlink() || file_type == 0o120000 {
                self.push(Problem::new(
                    Kind::Unsafe,
                    &name,
                    "symbolic link (a bag holds regular files only)",
                ));
                continue;
            }
            if file_type != 0 && file_type != 0o100000 && file_type != 0o040000 {
                self.push(Problem::new(
                    Kind::Unsafe,
                    &name,
                    format!("special file (mode {mode:o}); a bag holds regular files only"),
                ));
                continue;
            }
            if entry.encrypted() {
                self.push(Problem::new(
                    Kind::Unsafe,
                    &name,
                    "encrypted entry (archives must hold no encrypted files)",
                ));
                continue;
            }
            let method = entry.compression();
            if !matches!(
                method,
                zip::CompressionMethod::Stored | zip::CompressionMethod::Deflated
            ) {
                self.push(Problem::new(
                    Kind::Unsafe,
                    &name,
                    format!("compression method {method:?} (only stored and deflate are allowed)"),
                ));
                continue;
            }
            // Collisions after NFC and case folding: two names that become one file on extraction.
            let key = bagit::nfc(&name).to_lowercase();
            if let Some(other) = folded.get(&key) {
                if other != &name {
                    self.push(Problem::new(
                        Kind::Unsafe,
                        &name,
                        format!("collides with `{other}` after Unicode NFC normalisation or case folding"),
                    ));
                }
            } else {
                folded.insert(key, name.clone());
            }
            if size > MAX_ENTRY_BYTES {
                self.push(Problem::new(
                    Kind::Refused,
                    &name,
                    format!(
                        "zip bomb: declares {size} bytes uncompressed (limit {MAX_ENTRY_BYTES})"
                    ),
                ));
            } else if size > RATIO_FLOOR && size / compressed.max(1) > MAX_RATIO {
                self.push(Problem::new(
                    Kind::Refused,
                    &name,
                    format!(
                        "zip bomb: expands {compressed} bytes to {size} (ratio over {MAX_RATIO}:1)"
                    ),
                ));
            }
            total = total.saturating_add(size);
            items.push(Item {
                index,
                is_file: !entry.is_dir(),
                name,
                size,
            });
        }
        if total > MAX_TOTAL_BYTES {
            self.push(Problem::new(
                Kind::Refused,
                archive,
                format!("zip bomb: entries declare {total} bytes in all (limit {MAX_TOTAL_BYTES})"),
            ));
        }
        items
    }

    fn check_bagit_txt(&mut self, bag: &Bag) {
        let name = bag.full("bagit.txt");
        let Some(Ok(text)) = bag.text("bagit.txt") else {
            return; // missing: reported with the tag manifest; not UTF-8: below
        };
        let (fields, bad) = bagit::parse_tags(text);
        for (_, m) in bad {
            self.push(Problem::new(Kind::Malformed, &name, m));
        }
        match bagit::tag(&fields, "BagIt-Version") {
            Some("1.0") => {}
            other => self.push(Problem::new(
                Kind::Malformed,
                &name,
                format!(
                    "BagIt-Version is {}, expected 1.0",
                    other.unwrap_or("missing")
                ),
            )),
        }
        match bagit::tag(&fields, "Tag-File-Character-Encoding") {
            Some(e) if e.eq_ignore_ascii_case("UTF-8") => {}
            other => self.push(Problem::new(
                Kind::Malformed,
                &name,
                format!(
                    "Tag-File-Character-Encoding is {}, expected UTF-8",
                    other.unwrap_or("missing")
                ),
            )),
        }
    }

    /// Checks bag-info.txt and Payload-Oxum; returns its fields.
    fn check_bag_info(
        &mut self,
        bag: &Bag,
        folder: &str,
        oxum: Oxum,
    ) -> Option<Vec<(String, String)>> {
        let name = bag.full("bag-info.txt");
        let text = match bag.text("bag-info.txt") {
            None => {
                self.push(Problem::new(
                    Kind::Missing,
                    &name,
                    "bag-info.txt is missing",
                ));
                return None;
            }
            Some(Err(_)) => {
                self.push(Problem::new(Kind::Malformed, &name, "not UTF-8 text"));
                return None;
            }
            Some(Ok(t)) => t,
        };
        let (fields, bad) = bagit::parse_tags(text);
        for (_, m) in bad {
            self.push(Problem::new(Kind::Malformed, &name, m));
        }
        match bagit::tag(&fields, "Payload-Oxum").map(|s| (s, Oxum::parse(s))) {
            None => self.push(Problem::new(Kind::Malformed, &name, "no Payload-Oxum")),
            Some((s, None)) => self.push(Problem::new(
                Kind::Malformed,
                &name,
                format!("Payload-Oxum `{s}` is not <bytes>.<files>"),
            )),
            Some((_, Some(declared))) if declared != oxum => self.push(
                Problem::new(
                    Kind::Oxum,
                    &name,
                    format!(
                        "Payload-Oxum says {} byte(s) in {} file(s), the payload has {} byte(s) in {} file(s)",
                        declared.bytes, declared.count, oxum.bytes, oxum.count
                    ),
                )
                .values(declared.to_string(), oxum.to_string()),
            ),
            Some(_) => {}
        }
        match bagit::tag(&fields, "External-Identifier") {
            Some(id) if id == folder => {}
            other => self.push(
                Problem::new(
                    Kind::Malformed,
                    &name,
                    "External-Identifier does not name the bag folder",
                )
                .values(folder, other.unwrap_or("missing")),
            ),
        }
        match bagit::tag(&fields, "Bagging-Date") {
            Some(d) if crate::cndate::parse_iso_date(d).is_some() => {}
            other => self.push(Problem::new(
                Kind::Malformed,
                &name,
                format!(
                    "Bagging-Date is {}, expected YYYY-MM-DD",
                    other.unwrap_or("missing")
                ),
            )),
        }
        Some(fields)
    }

    /// Every manifest and tag manifest against the entries; extra files.
    fn check_manifests(&mut self, bag: &Bag) {
        let mut payload_manifests = Vec::new();
        let mut tag_manifests = Vec::new();
        let mut listed_payload: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut listed_tags: BTreeSet<String> = BTreeSet::new();
        for item in bag.listing.iter().filter(|i| i.is_file) {
            let Some(rel) = item.name.strip_prefix(bag.prefix) else {
                continue;
            };
            let (is_tag, alg) = if let Some(a) = manifest_alg(rel, "tagmanifest-") {
                (true, a)
            } else if let Some(a) = manifest_alg(rel, "manifest-") {
                (false, a)
            } else {
                continue;
            };
            if alg != "sha256" && alg != "sha512" {
                self.push(Problem::new(
                    Kind::Malformed,
                    &item.name,
                    format!("manifest for unsupported algorithm `{alg}` (pactum bags use sha256 and sha512)"),
                ));
                continue;
            }
            if is_tag {
                tag_manifests.push((rel.to_owned(), alg.to_owned()));
            } else {
                payload_manifests.push((rel.to_owned(), alg.to_owned()));
            }
        }
        for (required, present) in [
            (
                "manifest-sha256.txt",
                payload_manifests
                    .iter()
                    .any(|(m, _)| m == "manifest-sha256.txt"),
            ),
            (
                "tagmanifest-sha256.txt",
                tag_manifests
                    .iter()
                    .any(|(m, _)| m == "tagmanifest-sha256.txt"),
            ),
            ("bagit.txt", bag.hash("bagit.txt").is_some()),
        ] {
            if !present {
                self.push(Problem::new(
                    Kind::Missing,
                    bag.full(required),
                    format!("{required} is missing"),
                ));
            }
        }
        for (manifest, alg) in payload_manifests.iter().chain(&tag_manifests) {
            let is_tag = manifest.starts_with("tagmanifest-");
            let name = bag.full(manifest);
            let text = match bag.text(manifest) {
                Some(Ok(t)) => t,
                _ => {
                    self.push(Problem::new(Kind::Malformed, &name, "not UTF-8 text"));
                    continue;
                }
            };
            let hex_len = if alg == "sha256" { 64 } else { 128 };
            let (lines, bad) = bagit::parse_manifest(text, hex_len);
            for (_, m) in bad {
                self.push(Problem::new(Kind::Malformed, &name, m));
            }
            let mut seen = BTreeSet::new();
            for line in lines {
                let path = &line.path;
                if !seen.insert(path.clone()) {
                    self.push(Problem::new(
                        Kind::Malformed,
                        &name,
                        format!("line {} lists `{path}` a second time", line.line),
                    ));
                    continue;
                }
                if let Some(why) = bagit::unsafe_name(path) {
                    self.push(Problem::new(
                        Kind::Unsafe,
                        &name,
                        format!("line {} names an unsafe path `{path}` ({why})", line.line),
                    ));
                    continue;
                }
                let in_data = path.starts_with("data/");
                if is_tag == in_data {
                    self.push(Problem::new(
                        Kind::Malformed,
                        &name,
                        format!(
                            "line {} lists `{path}`, which belongs in the {} manifest",
                            line.line,
                            if in_data { "payload" } else { "tag" }
                        ),
                    ));
                    continue;
                }
                if is_tag {
                    listed_tags.insert(path.clone());
                } else {
                    listed_payload
                        .entry(path.clone())
                        .or_default()
                        .push(manifest.clone());
                }
                let full = bag.full(path);
                match bag.hashed.get(&full) {
                    None => self.push(Problem::new(
                        Kind::Missing,
                        &full,
                        format!(
                            "listed in {manifest} (line {}) but not in the archive",
                            line.line
                        ),
                    )),
                    Some(h) => {
                        let actual = if alg == "sha256" {
                            &h.sha256
                        } else {
                            &h.sha512
                        };
                        if actual != &line.digest {
                            self.push(
                                Problem::new(
                                    Kind::Changed,
                                    &full,
                                    format!("{alg} differs from {manifest} line {}", line.line),
                                )
                                .values(&line.digest, actual),
                            );
                        }
                    }
                }
            }
            if is_tag {
                // Each tag manifest must seal the tag files that describe the payload.
                let mut must = vec!["bagit.txt".to_owned(), "bag-info.txt".to_owned()];
                must.extend(payload_manifests.iter().map(|(m, _)| m.clone()));
                for m in must {
                    if bag.hash(&m).is_some() && !seen.contains(&m) {
                        self.push(Problem::new(
                            Kind::Malformed,
                            &name,
                            format!("does not list `{m}`, so changes to it would go unnoticed"),
                        ));
                    }
                }
            }
        }
        // Files that no manifest lists.
        let all_payload: Vec<&String> = payload_manifests.iter().map(|(m, _)| m).collect();
        for item in bag.listing.iter().filter(|i| i.is_file) {
            let Some(rel) = item.name.strip_prefix(bag.prefix) else {
                self.push(Problem::new(
                    Kind::Extra,
                    &item.name,
                    "outside the bag folder",
                ));
                continue;
            };
            let junk = if bagit::is_junk(rel) {
                " (hidden or junk file)"
            } else {
                ""
            };
            if rel.starts_with("data/") {
                let listed = listed_payload.get(rel);
                let missing_from: Vec<&str> = all_payload
                    .iter()
                    .filter(|m| !listed.is_some_and(|l| l.contains(m)))
                    .map(|m| m.as_str())
                    .collect();
                if !missing_from.is_empty() {
                    self.push(Problem::new(
                        Kind::Extra,
                        &item.name,
                        format!(
                            "payload file not listed in {}{junk}",
                            missing_from.join(", ")
                        ),
                    ));
                }
            } else if manifest_alg(rel, "tagmanifest-").is_none()
                && rel != HANDOVER_LOG
                && rel != HANDOVER_LIST
                && !listed_tags.contains(rel)
            {
                self.push(Problem::new(
                    Kind::Extra,
                    &item.name,
                    format!("tag file not listed in any tag manifest{junk}"),
                ));
            }
        }
    }

    /// The carried chain, and the last entry against bag-info.txt and the bag's digests.
    fn check_handover(
        &mut self,
        bag: &Bag,
        info: Option<&[(String, String)]>,
        oxum: Oxum,
    ) -> Option<HandoverInfo> {
        let log_name = bag.full(HANDOVER_LOG);
        if bag.hash(HANDOVER_LIST).is_none() {
            self.push(Problem::new(
                Kind::Missing,
                bag.full(HANDOVER_LIST),
                "the printable handover list (移交清单) is missing",
            ));
        }
        let text = match bag.text(HANDOVER_LOG) {
            None => {
                self.push(Problem::new(
                    Kind::Missing,
                    &log_name,
                    "the handover chain is missing",
                ));
                return None;
            }
            Some(Err(_)) => {
                self.push(Problem::new(Kind::Chain, &log_name, "not UTF-8 text"));
                return None;
            }
            Some(Ok(t)) => t,
        };
        let chain = handover::check_chain(text);
        for p in &chain.problems {
            self.push(Problem::new(Kind::Chain, &log_name, &p.message));
        }
        let info = info?;
        let expected = match expected_entry(bag, info, oxum) {
            Ok(e) => e,
            Err(m) => {
                self.push(Problem::new(Kind::Malformed, bag.full("bag-info.txt"), m));
                return None;
            }
        };
        let (Some(last_line), Some(last)) = (chain.lines.last(), chain.entries.last()) else {
            self.push(Problem::new(
                Kind::Chain,
                &log_name,
                "the chain has no entries",
            ));
            return None;
        };
        if last.as_ref().map(|e| e.seq) != Some(expected.seq)
            || chain.lines.len() as u64 != expected.seq
        {
            self.push(Problem::new(
                Kind::Chain,
                &log_name,
                format!(
                    "the chain ends with entry {} of {} line(s), but this bag is handover entry {} (bag-info.txt): entries were dropped or added",
                    last.as_ref().map_or("?".to_owned(), |e| e.seq.to_string()),
                    chain.lines.len(),
                    expected.seq
                ),
            ));
        }
        let Some(last) = last else {
            return None;
        };
        self.compare_entry(bag, &log_name, last, &expected);
        if last == &expected && last_line != &expected.to_line() {
            self.push(Problem::new(
                Kind::Chain,
                &log_name,
                format!("entry {} is not stored in canonical form (fields added, reordered or re-spaced)", last.seq),
            ));
        }
        let Event::Handover { from, to, .. } = &last.event else {
            return None;
        };
        Some(HandoverInfo {
            seq: last.seq,
            from: from.clone(),
            to: to.clone(),
            time: last.time.clone(),
            entry_sha256: crate::checksum::sha256_hex(last_line.as_bytes()),
            chain_length: chain.lines.len(),
        })
    }

    /// Field-by-field differences between the bag's last chain entry and what the bag says it must be.
    fn compare_entry(&mut self, bag: &Bag, log_name: &str, actual: &Entry, expected: &Entry) {
        let seq = actual.seq;
        let chain = |field: &str, e: String, a: String| {
            Problem::new(
                Kind::Chain,
                log_name,
                format!(
                    "entry {seq}: `{field}` disagrees with the bag (bag-info.txt or its contents)"
                ),
            )
            .values(e, a)
        };
        if actual.time != expected.time {
            self.push(chain("time", expected.time.clone(), actual.time.clone()));
        }
        if actual.prev != expected.prev {
            self.push(chain("prev", expected.prev.clone(), actual.prev.clone()));
        }
        let (
            Event::Handover {
                from: ef,
                to: et,
                purpose: ep,
                bundle: eb,
                items: ei,
                bytes: ebytes,
                algorithm: ea,
                tagmanifest_sha256: etm,
                list_sha256: el,
            },
            Event::Handover {
                from,
                to,
                purpose,
                bundle,
                items,
                bytes,
                algorithm,
                tagmanifest_sha256,
                list_sha256,
            },
        ) = (&expected.event, &actual.event)
        else {
            self.push(Problem::new(
                Kind::Chain,
                log_name,
                format!(
                    "entry {seq} is not a handover entry, but the bag's own entry must come last"
                ),
            ));
            return;
        };
        if from != ef {
            self.push(chain("from", ef.to_string(), from.to_string()));
        }
        if to != et {
            self.push(chain("to", et.to_string(), to.to_string()));
        }
        if purpose != ep {
            self.push(chain("purpose", ep.clone(), purpose.clone()));
        }
        if bundle != eb {
            self.push(chain("bundle", eb.clone(), bundle.clone()));
        }
        if items != ei || bytes != ebytes {
            self.push(chain(
                "items/bytes",
                format!("{ei} files, {ebytes} bytes"),
                format!("{items} files, {bytes} bytes"),
            ));
        }
        if algorithm != ea {
            self.push(chain("algorithm", ea.clone(), algorithm.clone()));
        }
        if tagmanifest_sha256 != etm {
            self.push(
                Problem::new(
                    Kind::Changed,
                    bag.full("tagmanifest-sha256.txt"),
                    format!("sha256 differs from handover entry {seq}"),
                )
                .values(tagmanifest_sha256.clone(), etm.clone()),
            );
        }
        if list_sha256 != el {
            self.push(
                Problem::new(
                    Kind::Changed,
                    bag.full(HANDOVER_LIST),
                    format!("sha256 differs from handover entry {seq}"),
                )
                .values(list_sha256.clone(), el.clone()),
            );
        }
    }

    /// Each document's register row must carry the digest of the PDF in the bag.
    fn check_register(&mut self, bag: &Bag, docs: &[DocRef]) {
        let name = bag.full("data/register.csv");
        let text = match bag.text("data/register.csv") {
            None => {
                if !docs.is_empty() {
                    self.push(Problem::new(
                        Kind::Missing,
                        &name,
                        "the register extract (合同信息登记表) is missing",
                    ));
                }
                return;
            }
            Some(Err(_)) => {
                self.push(Problem::new(Kind::Malformed, &name, "not UTF-8 text"));
                return;
            }
            Some(Ok(t)) => t,
        };
        let by_number = match register_digests(text) {
            Ok(r) => r,
            Err(m) => {
                self.push(Problem::new(Kind::Malformed, &name, m));
                return;
            }
        };
        for d in docs {
            let pdf = format!("data/documents/{}", d.file);
            let Some(h) = bag.hash(&pdf) else {
                self.push(Problem::new(
                    Kind::Missing,
                    bag.full(&pdf),
                    format!("named by {} but not in the archive", d.record),
                ));
                continue;
            };
            match by_number.get(d.number.as_str()) {
                None => self.push(Problem::new(
                    Kind::Register,
                    &name,
                    format!("no row for contract {} ({pdf})", d.number),
                )),
                Some((line, sha)) if sha != &h.sha256 => self.push(
                    Problem::new(
                        Kind::Register,
                        &name,
                        format!(
                            "row {line} ({}): PDF SHA-256 does not match {pdf}",
                            d.number
                        ),
                    )
                    .values(sha, &h.sha256),
                ),
                Some(_) => {}
            }
        }
        let named: BTreeSet<String> = docs
            .iter()
            .map(|d| bag.full(&format!("data/documents/{}", d.file)))
            .collect();
        for item in bag.listing.iter().filter(|i| i.is_file) {
            if item.name.starts_with(&bag.full("data/documents/")) && !named.contains(&item.name) {
                self.push(Problem::new(
                    Kind::Register,
                    &item.name,
                    "no record in data/records/ names this document",
                ));
            }
        }
    }
}

/// The entry the bag's own handover entry must be, rebuilt from bag-info.txt and the digests found.
fn expected_entry(bag: &Bag, info: &[(String, String)], oxum: Oxum) -> Result<Entry, String> {
    let get = |label: &str| {
        bagit::tag(info, label)
            .map(str::to_owned)
            .ok_or_else(|| format!("no {label}: the bag cannot be tied to its handover entry"))
    };
    let seq = get("Pactum-Handover-Sequence")?;
    // The entry must match what the bag declares; a payload that differs from
    // its declaration is reported once, as an Oxum problem.
    let oxum = bagit::tag(info, "Payload-Oxum")
        .and_then(Oxum::parse)
        .unwrap_or(oxum);
    Ok(Entry {
        seq: seq
            .parse()
            .map_err(|_| format!("Pactum-Handover-Sequence `{seq}` is not a number"))?,
        time: get("Pactum-Handover-Time")?,
        event: Event::Handover {
            from: Party {
                unit: get("Source-Organization")?,
                person: get("Contact-Name")?,
            },
            to: Party {
                unit: get("Pactum-Handover-To-Unit")?,
                person: get("Pactum-Handover-To-Person")?,
            },
            purpose: get("External-Description")?,
            bundle: get("External-Identifier")?,
            items: oxum.count,
            bytes: oxum.bytes,
            algorithm: "sha256".into(),
            tagmanifest_sha256: bag
                .hash("tagmanifest-sha256.txt")
                .map(|h| h.sha256.clone())
                .unwrap_or_default(),
            list_sha256: bag
                .hash(HANDOVER_LIST)
                .map(|h| h.sha256.clone())
                .unwrap_or_default(),
        },
        prev: get("Pactum-Handover-Previous")?,
    })
}

/// `sha256` for `manifest-sha256.txt` with prefix `manifest-`.
fn manifest_alg<'a>(rel: &'a str, prefix: &str) -> Option<&'a str> {
    rel.strip_prefix(prefix)?.strip_suffix(".txt")
}

fn is_tag_text(rel: &str) -> bool {
    rel == "bagit.txt"
        || rel == "bag-info.txt"
        || ["manifest-", "tagmanifest-"]
            .iter()
            .any(|p| matches!(manifest_alg(rel, p), Some("sha256" | "sha512")))
}

fn is_record(rel: &str) -> bool {
    rel.strip_prefix("data/records/")
        .is_some_and(|r| r.ends_with(".json") && !r.contains('/'))
}

/// The number and PDF file a record names.
fn record_ref(bytes: &[u8]) -> Result<(String, String), String> {
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let s = |k: &str| {
        v.get(k)
            .and_then(|x| x.as_str())
            .map(str::to_owned)
            .ok_or_else(|| format!("no `{k}`"))
    };
    Ok((s("number")?, s("file")?))
}

/// The bag folder: the one top-level folder holding `bagit.txt`.
fn find_bag(listing: &[Item]) -> Option<String> {
    let mut found = listing.iter().filter_map(|i| {
        let (folder, rest) = i.name.split_once('/')?;
        (rest == "bagit.txt" && !folder.is_empty()).then(|| folder.to_owned())
    });
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

/// Streams one entry through SHA-256 and SHA-512, never past its declared size;
/// copies it into `keep` when asked (only for entries under [`MAX_PARSED`]).
fn hash_entry<R: Read + Seek>(
    zip: &mut ZipArchive<R>,
    item: &Item,
    mut keep: Option<&mut Vec<u8>>,
) -> Result<Hashed, Problem> {
    if keep.is_some() && item.size > MAX_PARSED {
        return Err(Problem::new(
            Kind::Refused,
            &item.name,
            format!(
                "declares {} bytes, more than the {MAX_PARSED} a tag file or record may have",
                item.size
            ),
        ));
    }
    let mut reader = zip.by_index(item.index).map_err(|e| {
        Problem::new(
            Kind::Changed,
            &item.name,
            format!("entry cannot be read ({e})"),
        )
    })?;
    let mut sha256 = Sha256::new();
    let mut sha512 = Sha512::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size: u64 = 0;
    let mut crc_failed = false;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.to_string().contains("Invalid checksum") && size == item.size => {
                // Every byte was read; only the zip's CRC-32 disagrees. The digests below say how.
                crc_failed = true;
                break;
            }
            Err(e) if e.to_string().contains("larger than its declared") => {
                return Err(Problem::new(
                    Kind::Refused,
                    &item.name,
                    format!("zip bomb: inflates beyond its declared {} bytes", item.size),
                ));
            }
            Err(e) => {
                return Err(Problem::new(
                    Kind::Changed,
                    &item.name,
                    format!("content is corrupt and cannot be decompressed ({e})"),
                ));
            }
        };
        size += n as u64;
        if size > item.size {
            return Err(Problem::new(
                Kind::Refused,
                &item.name,
                format!("zip bomb: inflates beyond its declared {} bytes", item.size),
            ));
        }
        sha256.update(&buf[..n]);
        sha512.update(&buf[..n]);
        if let Some(k) = keep.as_mut() {
            k.extend_from_slice(&buf[..n]);
        }
    }
    Ok(Hashed {
        sha256: format!("{:x}", sha256.finalize()),
        sha512: format!("{:x}", sha512.finalize()),
        size,
        crc_failed,
    })
}

/// Reads the end of central directory (and its zip64 form) and the raw entry
/// names, refusing archives over the entry and directory limits before anything
/// else is read or allocated.
fn scan_central_directory(file: &mut File) -> Result<Vec<Vec<u8>>, String> {
    let len = file
        .seek(SeekFrom::End(0))
        .map_err(|e| format!("cannot read the archive ({e})"))?;
    let tail_len = len.min(22 + 65_535);
    let mut tail = vec![0u8; tail_len as usize];
    read_at(file, len - tail_len, &mut tail)?;
    // The record whose comment ends exactly at the end of the file; a signature
    // inside a comment is not mistaken for it. Failing that, the last signature.
    let candidates: Vec<usize> = (0..tail.len().saturating_sub(21))
        .rev()
        .filter(|&i| tail[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])
        .collect();
    let eocd = candidates
        .iter()
        .copied()
        .find(|&i| i + 22 + u16::from_le_bytes([tail[i + 20], tail[i + 21]]) as usize == tail.len())
        .or(candidates.first().copied())
        .ok_or("not a zip archive (no end of central directory record)")?;
    let u16_at = |b: &[u8], i: usize| u16::from_le_bytes([b[i], b[i + 1]]) as u64;
    let u32_at =
        |b: &[u8], i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as u64;
    let u64_at =
        |b: &[u8], i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or_default());
    let eocd_pos = len - tail_len + eocd as u64;
    let mut entries = u16_at(&tail, eocd + 10);
    let mut cd_size = u32_at(&tail, eocd + 12);
    let mut cd_end = eocd_pos;
    if entries == 0xFFFF || cd_size == 0xFFFF_FFFF || u32_at(&tail, eocd + 16) == 0xFFFF_FFFF {
        // zip64: the locator sits just before the EOCD and points at the zip64 EOCD.
        if eocd_pos >= 20 {
            let mut loc = [0u8; 20];
            read_at(file, eocd_pos - 20, &mut loc)?;
            if loc[..4] == [0x50, 0x4b, 0x06, 0x07] {
                let at = u64_at(&loc, 8);
                let mut rec = [0u8; 56];
                if at.checked_add(56).is_some_and(|e| e <= len) {
                    read_at(file, at, &mut rec)?;
                    if rec[..4] == [0x50, 0x4b, 0x06, 0x06] {
                        entries = u64_at(&rec, 32);
                        cd_size = u64_at(&rec, 40);
                        cd_end = at;
                    }
                }
            }
        }
    }
    if entries > MAX_ENTRIES {
        return Err(format!("zip bomb: {entries} entries (limit {MAX_ENTRIES})"));
    }
    if cd_size > MAX_CENTRAL_DIRECTORY || cd_size > cd_end {
        return Err(format!(
            "central directory of {cd_size} bytes is over the limit ({MAX_CENTRAL_DIRECTORY}) or larger than the archive"
        ));
    }
    let mut cd = vec![0u8; cd_size as usize];
    read_at(file, cd_end - cd_size, &mut cd)?;
    let mut names = Vec::new();
    let mut at = 0usize;
    while at + 46 <= cd.len() && cd[at..at + 4] == [0x50, 0x4b, 0x01, 0x02] {
        let n = u16_at(&cd, at + 28) as usize;
        let extra = u16_at(&cd, at + 30) as usize;
        let comment = u16_at(&cd, at + 32) as usize;
        let Some(name) = cd.get(at + 46..at + 46 + n) else {
            break;
        };
        names.push(name.to_vec());
        at += 46 + n + extra + comment;
    }
    if names.len() as u64 != entries {
        return Err(format!(
            "central directory lists {} entries, the end record says {entries}",
            names.len()
        ));
    }
    Ok(names)
}

fn read_at(file: &mut File, at: u64, buf: &mut [u8]) -> Result<(), String> {
    file.seek(SeekFrom::Start(at))
        .and_then(|_| file.read_exact(buf))
        .map_err(|e| format!("cannot read the archive ({e})"))
}

/// 合同编号 → (line, PDF SHA-256) from a 合同信息登记表 CSV (found by header name).
pub(crate) fn register_digests(text: &str) -> Result<BTreeMap<String, (usize, String)>, String> {
    let rows = parse_csv(text.strip_prefix('\u{feff}').unwrap_or(text));
    let header = rows.first().ok_or("the register is empty")?;
    let col = |label: &str| header.iter().position(|h| h == label);
    // `PDF SHA-256`: the header of registers written before every header was Chinese.
    let sha = col(crate::register::CSV_PDF_SHA256).or_else(|| col("PDF SHA-256"));
    let (Some(number_col), Some(sha_col)) = (col("合同编号"), sha) else {
        return Err(format!(
            "the header lacks the columns 合同编号 and {}",
            crate::register::CSV_PDF_SHA256
        ));
    };
    let mut out = BTreeMap::new();
    for (i, row) in rows.iter().enumerate().skip(1) {
        if let (Some(n), Some(s)) = (row.get(number_col), row.get(sha_col)) {
            out.insert(n.clone(), (i + 1, s.clone()));
        }
    }
    Ok(out)
}

/// RFC 4180 CSV: quoted fields with `""` escapes, CRLF or LF line ends.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_reads_quotes_commas_and_crlf() {
        let rows = parse_csv("a,\"b, \"\"c\"\"\",d\r\n1,,3\r\n");
        assert_eq!(rows, vec![vec!["a", "b, \"c\"", "d"], vec!["1", "", "3"]]);
    }

    #[test]
    fn register_digests_read_the_chinese_header_and_the_one_of_older_bundles() {
        for header in ["PDF摘要(SHA-256)", "PDF SHA-256"] {
            let csv = format!("\u{feff}合同编号,{header},签发时间\r\nFW-2026-0001,ab12,x\r\n");
            let d = register_digests(&csv).unwrap();
            assert_eq!(d["FW-2026-0001"], (2, "ab12".to_owned()), "{header}");
        }
        assert_eq!(
            register_digests("合同编号,摘要\r\n").unwrap_err(),
            "the header lacks the columns 合同编号 and PDF摘要(SHA-256)"
        );
    }

    #[test]
    fn tag_texts_and_records_are_recognised() {
        assert!(is_tag_text("manifest-sha512.txt") && is_tag_text("bagit.txt"));
        assert!(!is_tag_text("manifest-md5.txt") && !is_tag_text("data/bagit.txt"));
        assert!(is_record("data/records/a.json") && !is_record("data/records/x/a.json"));
    }
}
