//! `check`: the build pipeline in draft mode without the writes, for CI.
//!
//! Runs the same stages as `build` (load → validate → number (draft) →
//! render → typeset) on every record, adds the template lint, treats typst
//! warnings as errors, and compares every document with the golden lock
//! (`pactum.lock` beside the records, texts in `golden/<id>.txt`): which
//! documents changed, were added or removed, with a unified and a word diff
//! of their text. `--update` rewrites the lock. An input-hash cache under
//! `<workspace>/.pactum/check-cache/` skips typesetting documents whose inputs
//! and pactum binary did not change (entries unused for 30 days are pruned).
//! `--report` hands page pictures to
//! `report`. It never opens the register and never writes a document.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::build::{self, BuildError, Project, io};
use crate::checksum::sha256_hex;
use crate::diagnostic::{self, Diagnostic, Pos};
use crate::lint;
use crate::numbering::{self, Plan};
use crate::progress::Progress;
use crate::record::RecordKind;
use crate::render::Renderer;
use crate::report::{self, ReportDoc};
use crate::typeset::{Raster, Typesetter};

/// What `check` is asked to do, validated before any stage runs.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Folder of YAML records.
    pub records: PathBuf,
    /// Workspace folder; found from `records` upwards when `None`.
    pub workspace: Option<PathBuf>,
    /// The lock file [default: `<records>/pactum.lock`].
    pub lock: Option<PathBuf>,
    /// Rewrite the lock (and golden texts) from this tree.
    pub update: bool,
    /// Write the HTML review page into this folder.
    pub report: Option<PathBuf>,
    /// A checkout of the base revision: "before" for the report.
    pub baseline: Option<PathBuf>,
    /// Use the input-hash cache.
    pub cache: bool,
}

/// How a document compares with the lock (or, in a report, with the baseline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Same PDF and text as the lock.
    Unchanged,
    /// Different PDF or text.
    Changed,
    /// Not in the lock.
    Added,
    /// In the lock, but no such contract any more.
    Removed,
    /// Could not be produced (see the diagnostics).
    Failed,
}

/// One document's result.
#[derive(Debug, Clone, Serialize)]
pub struct DocResult {
    /// Record id.
    pub id: String,
    /// Template name.
    pub template: String,
    /// Compared with the lock.
    pub status: Status,
    /// The hash of its inputs differs from the lock's.
    pub inputs_changed: bool,
    /// Its text differs from the lock's.
    pub text_changed: bool,
    /// Its PDF differs from the lock's.
    pub pdf_changed: bool,
    /// Pages now (0 when removed or failed).
    pub pages: usize,
    /// SHA-256 of the inputs now.
    pub inputs_sha256: Option<String>,
    /// SHA-256 of the PDF now.
    pub pdf_sha256: Option<String>,
    /// SHA-256 of the extracted text now.
    pub text_sha256: Option<String>,
    /// Unified diff of the text, golden → now.
    pub diff: Option<String>,
    /// Changed lines with `[-removed-]{+added+}` marks.
    pub word_diff: Vec<String>,
    /// Whether it was taken from the cache instead of typeset.
    pub cached: bool,
    /// Where the document's entry is in the lock (for annotations).
    #[serde(skip)]
    pub lock_line: Option<usize>,
    /// Where the record starts (for annotations on added documents).
    #[serde(skip)]
    pub record_at: Option<(PathBuf, usize)>,
}

/// Counts and time.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// Documents checked (produced or failed).
    pub documents: usize,
    /// Documents typeset in this run.
    pub typeset: usize,
    /// Documents taken from the cache.
    pub cached: usize,
    /// Wall time of the whole check, in seconds.
    pub seconds: f64,
}

/// The result of a check that could read its inputs.
#[derive(Debug, Serialize)]
pub struct CheckOutcome {
    /// Every document, sorted by id (unchanged ones too).
    pub documents: Vec<DocResult>,
    /// Every problem found (records, templates, typst), sorted by place.
    pub diagnostics: Vec<Diagnostic>,
    /// The lock file compared with.
    pub lock: PathBuf,
    /// Whether the lock existed.
    pub lock_found: bool,
    /// Whether `--update` rewrote the lock.
    pub updated: bool,
    /// The report page written, if any.
    pub report: Option<PathBuf>,
    /// Counts and time.
    pub stats: Stats,
}

impl CheckOutcome {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Documents that differ from the lock.
    pub fn differences(&self) -> impl Iterator<Item = &DocResult> {
        self.documents
            .iter()
            .filter(|d| matches!(d.status, Status::Changed | Status::Added | Status::Removed))
    }

    /// Whether the run fails: errors, or differences the lock does not accept.
    pub fn failed(&self) -> bool {
        self.has_errors() || (!self.updated && self.differences().next().is_some())
    }
}

// ---------------------------------------------------------------------------
// The lock.

const LOCK_VERSION: u32 = 1;

/// `pactum.lock` as stored.
#[derive(Debug, Default, Deserialize)]
struct Lock {
    version: u32,
    #[serde(default)]
    document: Vec<LockEntry>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
struct LockEntry {
    id: String,
    template: String,
    inputs: String,
    pdf: String,
    text: String,
    pages: usize,
}

fn lock_text(entries: &[LockEntry]) -> String {
    let mut out = String::from(
        "# pactum.lock: the golden documents `pactum check` compares against (draft mode).\n\
         # Written by `pactum check --update`; review its diff and commit it. Do not edit.\n\
         # inputs = SHA-256 of the records and template files a document is made from,\n\
         # pdf / text = SHA-256 of the PDF and of its text (the text is golden/<id>.txt).\n",
    );
    out.push_str(&format!("\nversion = {LOCK_VERSION}\n"));
    for e in entries {
        out.push_str(&format!(
            "\n[[document]]\nid = {}\ntemplate = {}\ninputs = \"{}\"\npdf = \"{}\"\ntext = \"{}\"\npages = {}\n",
            toml_str(&e.id),
            toml_str(&e.template),
            e.inputs,
            e.pdf,
            e.text,
            e.pages
        ));
    }
    out
}

fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Reads the lock; a missing lock is empty, a broken one is a diagnostic.
fn read_lock(path: &Path, diags: &mut Vec<Diagnostic>) -> Option<(Lock, String)> {
    let text = std::fs::read_to_string(path).ok()?;
    match toml::from_str::<Lock>(&text) {
        Ok(lock) if lock.version == LOCK_VERSION => Some((lock, text)),
        Ok(lock) => {
            diags.push(
                Diagnostic::error(
                    "T445",
                    format!("lock version {} is not supported (this pactum writes version {LOCK_VERSION})", lock.version),
                )
                .in_file(path)
                .hint("run `pactum check --update` to rewrite it"),
            );
            None
        }
        Err(e) => {
            let offset = e.span().map_or(0, |s| s.start).min(text.len());
            let before = &text[..offset];
            let pos = Pos {
                line: before.matches('\n').count() + 1,
                column: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
                width: 1,
            };
            diags.push(
                Diagnostic::error("T445", format!("the lock cannot be read: {}", e.message()))
                    .at(path, &text, pos)
                    .hint("it is written by `pactum check --update`; restore it from version control or rewrite it"),
            );
            None
        }
    }
}

/// Line of each document's `id = …` in the lock text.
fn lock_lines(text: &str) -> BTreeMap<String, usize> {
    text.lines()
        .enumerate()
        .filter_map(|(n, l)| {
            let v = l.strip_prefix("id = ")?;
            let id: String = toml::from_str::<BTreeMap<String, String>>(&format!("x = {v}"))
                .ok()?
                .remove("x")?;
            Some((id, n + 1))
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Producing documents (shared by this tree and the baseline).

/// What typesetting one document gave.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Produced {
    pdf_sha256: String,
    text_sha256: String,
    pages: usize,
    text: String,
}

/// One document of a tree: its inputs hash, what producing it gave, and
/// whether that came from the cache.
type Run = (String, Result<Produced, Vec<Diagnostic>>, bool);

/// One tree (this one or the baseline) loaded and planned in draft mode.
struct Tree {
    project: Project,
    renderer: Option<Renderer>,
    plans: BTreeMap<String, Plan>,
    ts: Typesetter,
    /// Per template: SHA-256 of the files it can read (see `template_inputs`).
    template_inputs: BTreeMap<String, String>,
}

impl Tree {
    /// load → validate → (lint) → draft plan.
    fn load(records: &Path, workspace: Option<&Path>, with_lint: bool) -> Result<Tree, BuildError> {
        let mut project = Project::load(&[records.to_path_buf()], workspace)?;
        let buildable = project.validate(&crate::progress::Silent);
        let found = lint::lint(&project.workspace);
        if with_lint {
            project.diagnostics.extend(found.diagnostics);
        }
        let template_inputs = template_inputs(&project, &found.partials)?;
        let renderer = project.renderer(Renderer::new(&project.workspace.templates_dir()));
        let mut diags = Vec::new();
        let plans = numbering::plan(
            &project,
            &buildable,
            None,
            &BTreeSet::new(),
            &mut diags,
            &mut Vec::new(),
        )?;
        project.diagnostics.extend(diags);
        let ts = Typesetter::new(&project.workspace.templates_dir());
        Ok(Tree {
            project,
            renderer,
            plans,
            ts,
            template_inputs,
        })
    }

    /// SHA-256 of everything a document is made from: the template files it
    /// can read, the records it prints and its (draft) number. Not the pactum
    /// version: a document whose inputs are unchanged but whose bytes differ
    /// was changed by pactum or typst, and `check` says so.
    fn inputs(&self, id: &str) -> String {
        let plan = &self.plans[id];
        let template = self
            .project
            .record(id)
            .and_then(|r| r.str_at("/template").map(str::to_owned))
            .unwrap_or_default();
        let files = self
            .template_inputs
            .get(&template)
            .map_or("", String::as_str);
        sha256_hex(
            format!(
                "pactum-inputs-v1\0{template}\0{files}\0{}\0{}",
                plan.content_sha256, plan.number
            )
            .as_bytes(),
        )
    }

    /// Renders and typesets one document (typst warnings are errors here).
    fn produce(&self, id: &str) -> Result<Produced, Vec<Diagnostic>> {
        let renderer = self.renderer.as_ref().ok_or_else(Vec::new)?;
        let rendered = self.project.render(renderer, id, &self.plans[id])?;
        let checked = self
            .ts
            .check(&rendered.job(None))
            .map_err(|p| self.project.typst_diagnostics(id, p))?;
        if !checked.pdf.warnings.is_empty() {
            return Err(self.project.typst_diagnostics_as(
                id,
                "T432",
                "typst warning (an error in `check`)",
                checked.pdf.warnings,
            ));
        }
        Ok(Produced {
            pdf_sha256: sha256_hex(&checked.pdf.bytes),
            text_sha256: sha256_hex(checked.text.as_bytes()),
            pages: checked.pdf.pages,
            text: checked.text,
        })
    }

    /// Every planned document, from the cache or typeset, in parallel.
    fn produce_all(
        &self,
        cache: Option<&Cache>,
        progress: &dyn Progress,
    ) -> Result<BTreeMap<String, Run>, BuildError> {
        let ids: Vec<&String> = self.plans.keys().collect();
        progress.stage("checking", ids.len() as u64);
        let results = build::parallel_map(&ids, |id| {
            let inputs = self.inputs(id);
            let hit = cache.and_then(|c| c.get(&inputs));
            let result = match hit {
                Some(p) => (inputs, Ok(p), true),
                None => {
                    let r = self.produce(id);
                    if let (Some(c), Ok(p)) = (cache, &r) {
                        c.put(&inputs, p);
                    }
                    (inputs, r, false)
                }
            };
            progress.tick();
            ((*id).clone(), result)
        })
        .map_err(io(
            "run the typesetting threads for",
            &self.project.workspace.root,
        ))?;
        progress.finish();
        Ok(results.into_iter().collect())
    }

    /// The pages of one document as pictures (for the report).
    fn pages(&self, id: &str) -> Option<Vec<Raster>> {
        let renderer = self.renderer.as_ref()?;
        let plan = self.plans.get(id)?;
        let rendered = self.project.render(renderer, id, plan).ok()?;
        self.ts
            .rasterize(&rendered.job(None), report::PIXELS_PER_PT)
            .ok()
    }

    /// Ids of all contract records (valid or not).
    fn contract_ids(&self) -> BTreeSet<String> {
        self.project
            .store
            .entries()
            .iter()
            .filter(|e| e.kind == RecordKind::Contract)
            .map(|e| e.id.clone())
            .collect()
    }
}

/// Per template, SHA-256 over the files its documents can depend on: its own
/// folder, the shared typst library `_lib/`, and the partials it includes.
/// A change to one clause re-typesets only the documents whose templates
/// include it.
fn template_inputs(
    project: &Project,
    partials: &BTreeMap<String, BTreeSet<String>>,
) -> Result<BTreeMap<String, String>, BuildError> {
    let root = project.workspace.templates_dir();
    let mut lib = Vec::new();
    collect(&root, &root.join("_lib"), &mut lib)?;
    let mut out = BTreeMap::new();
    for (name, t) in &project.workspace.templates {
        let mut files = lib.clone();
        collect(&root, &t.dir, &mut files)?;
        for p in partials.get(name).into_iter().flatten() {
            let path = root.join(p);
            if let Ok(bytes) = std::fs::read(&path) {
                files.push((p.clone(), bytes));
            }
        }
        files.sort();
        files.dedup();
        let mut all = Vec::new();
        for (rel, bytes) in &files {
            all.extend_from_slice(rel.as_bytes());
            all.push(0);
            all.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            all.extend_from_slice(bytes);
        }
        out.insert(name.clone(), sha256_hex(&all));
    }
    Ok(out)
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) -> Result<(), BuildError> {
    if !dir.is_dir() {
        return Ok(());
    }
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.map_err(|e| BuildError::Io {
            action: "read",
            path: dir.to_path_buf(),
            source: std::io::Error::other(e),
        })?;
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(root).unwrap_or(e.path());
            let bytes = std::fs::read(e.path()).map_err(io("read", e.path()))?;
            out.push((rel.to_string_lossy().replace('\\', "/"), bytes));
        }
    }
    Ok(())
}

/// Days an unused `check` cache entry is kept.
const CACHE_DAYS: u64 = 30;

/// The input-hash cache: one JSON file per (inputs, pactum binary).
struct Cache {
    dir: PathBuf,
    binary: String,
}

impl Cache {
    /// A cache in `dir`, or `None` when this binary cannot be identified
    /// (then every document is typeset).
    fn open(dir: PathBuf) -> Option<Cache> {
        let exe = std::env::current_exe().ok()?;
        let meta = std::fs::metadata(&exe).ok()?;
        let modified = meta
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_nanos();
        std::fs::create_dir_all(&dir).ok()?;
        Some(Cache {
            dir,
            // A rebuilt binary may typeset differently: its size and time are part of the key.
            binary: format!("{}\0{}\0{modified}", env!("CARGO_PKG_VERSION"), meta.len()),
        })
    }

    fn path(&self, inputs: &str) -> PathBuf {
        let key = sha256_hex(format!("{}\0{inputs}", self.binary).as_bytes());
        self.dir.join(format!("{key}.json"))
    }

    fn get(&self, inputs: &str) -> Option<Produced> {
        let path = self.path(inputs);
        let bytes = std::fs::read(&path).ok()?;
        let p: Produced = serde_json::from_slice(&bytes).ok()?;
        // A damaged entry is a miss, never a wrong answer.
        let hit = sha256_hex(p.text.as_bytes()) == p.text_sha256;
        if hit {
            // Used now: keeps it from being pruned (see `prune`).
            let _ = std::fs::File::options()
                .append(true)
                .open(&path)
                .and_then(|f| f.set_modified(std::time::SystemTime::now()));
        }
        hit.then_some(p)
    }

    /// Drops entries no run has used for [`CACHE_DAYS`] days: those of older
    /// pactum binaries and of inputs that are gone. Best effort, like `put`;
    /// the clock decides only what is deleted from the cache, never an output.
    fn prune(&self) {
        let Some(cutoff) = std::time::SystemTime::now()
            .checked_sub(std::time::Duration::from_secs(CACHE_DAYS * 24 * 60 * 60))
        else {
            return;
        };
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for e in entries.flatten() {
            let stale = e
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t < cutoff);
            if stale && e.path().extension().is_some_and(|x| x == "json") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }

    /// Best effort: a cache that cannot be written only makes the next run slower.
    fn put(&self, inputs: &str, p: &Produced) {
        let path = self.path(inputs);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        if let Ok(json) = serde_json::to_vec(p)
            && std::fs::write(&tmp, json).is_ok()
            && std::fs::rename(&tmp, &path).is_err()
        {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

// ---------------------------------------------------------------------------
// The check.

/// The lock used when `--lock` is not given.
pub fn default_lock(records: &Path) -> PathBuf {
    records.join("pactum.lock")
}

/// Where the golden texts of a lock live.
pub fn golden_dir(lock: &Path) -> PathBuf {
    lock.parent().unwrap_or(Path::new(".")).join("golden")
}

/// Runs `check`.
pub fn check(opts: &CheckOptions, progress: &dyn Progress) -> Result<CheckOutcome, BuildError> {
    let started = Instant::now();
    let lock_path = opts
        .lock
        .clone()
        .unwrap_or_else(|| default_lock(&opts.records));
    let tree = Tree::load(&opts.records, opts.workspace.as_deref(), true)?;
    let cache = if opts.cache {
        Cache::open(
            tree.project
                .workspace
                .root
                .join(".pactum")
                .join("check-cache"),
        )
    } else {
        None
    };
    let produced = if tree.renderer.is_some() {
        tree.produce_all(cache.as_ref(), progress)?
    } else {
        BTreeMap::new()
    };
    if let Some(c) = &cache {
        c.prune();
    }

    let mut diagnostics = tree.project.diagnostics.clone();
    let lock = read_lock(&lock_path, &mut diagnostics);
    let lock_found = lock.is_some() || lock_path.exists();
    let lines = lock
        .as_ref()
        .map(|(_, t)| lock_lines(t))
        .unwrap_or_default();
    let locked: BTreeMap<String, LockEntry> = lock
        .map(|(l, _)| l.document.into_iter().map(|e| (e.id.clone(), e)).collect())
        .unwrap_or_default();
    let golden = golden_dir(&lock_path);

    let mut stats = Stats::default();
    let mut documents = Vec::new();
    let mut texts: BTreeMap<String, String> = BTreeMap::new();
    let mut new_lock = Vec::new();
    for (id, (inputs, result, cached)) in produced {
        stats.documents += 1;
        let template = tree
            .project
            .record(&id)
            .and_then(|r| r.str_at("/template").map(str::to_owned))
            .unwrap_or_default();
        let record_at = tree
            .project
            .record(&id)
            .map(|r| (r.source.path.clone(), r.origin.line));
        let mut doc = DocResult {
            id: id.clone(),
            template: template.clone(),
            status: Status::Failed,
            inputs_changed: false,
            text_changed: false,
            pdf_changed: false,
            pages: 0,
            inputs_sha256: Some(inputs.clone()),
            pdf_sha256: None,
            text_sha256: None,
            diff: None,
            word_diff: Vec::new(),
            cached,
            lock_line: lines.get(&id).copied(),
            record_at,
        };
        match result {
            Err(diags) => {
                diagnostics.extend(diags);
                // Keep its lock entry: a failure is reported as an error, not as a change.
                if let Some(e) = locked.get(&id) {
                    new_lock.push(e.clone());
                }
            }
            Ok(p) => {
                if cached {
                    stats.cached += 1;
                } else {
                    stats.typeset += 1;
                }
                doc.pages = p.pages;
                doc.pdf_sha256 = Some(p.pdf_sha256.clone());
                doc.text_sha256 = Some(p.text_sha256.clone());
                match locked.get(&id) {
                    None => doc.status = Status::Added,
                    Some(e) => {
                        doc.inputs_changed = e.inputs != inputs;
                        doc.pdf_changed = e.pdf != p.pdf_sha256;
                        doc.text_changed = e.text != p.text_sha256;
                        doc.status = if doc.pdf_changed || doc.text_changed {
                            Status::Changed
                        } else {
                            Status::Unchanged
                        };
                    }
                }
                if doc.status != Status::Unchanged {
                    let old = std::fs::read_to_string(golden.join(format!("{id}.txt")))
                        .unwrap_or_default();
                    if doc.status == Status::Added || doc.text_changed {
                        let (unified, words) = text_diff(&old, &p.text, &id);
                        doc.diff = Some(unified);
                        doc.word_diff = words;
                    }
                }
                new_lock.push(LockEntry {
                    id: id.clone(),
                    template,
                    inputs,
                    pdf: p.pdf_sha256,
                    text: p.text_sha256,
                    pages: p.pages,
                });
                if opts.update || opts.report.is_some() {
                    texts.insert(id.clone(), p.text);
                }
            }
        }
        documents.push(doc);
    }
    // Lock entries without a contract record: removed.
    let current = tree.contract_ids();
    for (id, e) in &locked {
        if !current.contains(id) && tree.renderer.is_some() {
            let old = std::fs::read_to_string(golden.join(format!("{id}.txt"))).unwrap_or_default();
            let (unified, words) = text_diff(&old, "", id);
            documents.push(DocResult {
                id: id.clone(),
                template: e.template.clone(),
                status: Status::Removed,
                inputs_changed: true,
                text_changed: true,
                pdf_changed: true,
                pages: 0,
                inputs_sha256: None,
                pdf_sha256: None,
                text_sha256: None,
                diff: Some(unified),
                word_diff: words,
                cached: false,
                lock_line: lines.get(id).copied(),
                record_at: None,
            });
        } else if !current.contains(id) {
            new_lock.push(e.clone()); // templates broken: nothing is known, keep it
        }
    }
    documents.sort_by(|a, b| a.id.cmp(&b.id));
    new_lock.sort_by(|a, b| a.id.cmp(&b.id));
    diagnostic::sort(&mut diagnostics);
    diagnostics.dedup();

    let errors = diagnostics.iter().any(Diagnostic::is_error);
    let mut updated = false;
    if opts.update && !errors {
        write_lock(&lock_path, &new_lock, &texts)?;
        updated = true;
    }

    let mut outcome = CheckOutcome {
        documents,
        diagnostics,
        lock: lock_path,
        lock_found,
        updated,
        report: None,
        stats,
    };
    if let Some(dir) = &opts.report {
        let page = write_report(opts, &tree, &outcome, &texts, &golden, cache.as_ref(), dir)?;
        outcome.report = Some(page);
    }
    outcome.stats.seconds = started.elapsed().as_secs_f64();
    Ok(outcome)
}

/// Writes the lock and the golden texts; removes golden texts of documents no longer locked.
fn write_lock(
    path: &Path,
    entries: &[LockEntry],
    texts: &BTreeMap<String, String>,
) -> Result<(), BuildError> {
    let golden = golden_dir(path);
    std::fs::create_dir_all(&golden).map_err(io("create", &golden))?;
    let write_if_changed = |p: &Path, content: &str| -> Result<(), BuildError> {
        if std::fs::read_to_string(p).ok().as_deref() != Some(content) {
            let tmp = p.with_extension("tmp");
            std::fs::write(&tmp, content).map_err(io("write", &tmp))?;
            std::fs::rename(&tmp, p).map_err(io("move into place", p))?;
        }
        Ok(())
    };
    for e in entries {
        if let Some(text) = texts.get(&e.id) {
            write_if_changed(&golden.join(format!("{}.txt", e.id)), text)?;
        }
    }
    let keep: BTreeSet<String> = entries.iter().map(|e| format!("{}.txt", e.id)).collect();
    for entry in std::fs::read_dir(&golden)
        .map_err(io("read", &golden))?
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".txt") && !keep.contains(&name) {
            std::fs::remove_file(entry.path()).map_err(io("remove", &entry.path()))?;
        }
    }
    write_if_changed(path, &lock_text(entries))
}

/// The review page: documents that differ from the baseline (or, without one,
/// from the lock), with pictures of their pages and their text diff.
#[allow(clippy::too_many_arguments)]
fn write_report(
    opts: &CheckOptions,
    tree: &Tree,
    outcome: &CheckOutcome,
    texts: &BTreeMap<String, String>,
    golden: &Path,
    cache: Option<&Cache>,
    dir: &Path,
) -> Result<PathBuf, BuildError> {
    let mut docs = Vec::new();
    let baseline_note;
    match &opts.baseline {
        Some(base_root) => {
            let rel = records_within_workspace(&opts.records, &tree.project.workspace.root)?;
            let base_records = base_root.join(&rel);
            let base = Tree::load(&base_records, Some(base_root), false)?;
            let before = if base.renderer.is_some() {
                base.produce_all(cache, &crate::progress::Silent)?
            } else {
                BTreeMap::new()
            };
            baseline_note = format!("before: {}", base_records.display());
            let ids: BTreeSet<&String> = before.keys().chain(texts.keys()).collect();
            for id in ids {
                let old = before.get(id).and_then(|(_, r, _)| r.as_ref().ok());
                let new = texts.get(id);
                let new_doc = outcome.documents.iter().find(|d| &d.id == id);
                let status = match (old, new) {
                    (Some(o), Some(_)) => {
                        let nd = new_doc.expect("documents with text are in the outcome");
                        if nd.pdf_sha256.as_deref() == Some(&o.pdf_sha256) {
                            continue;
                        }
                        Status::Changed
                    }
                    (None, Some(_)) => Status::Added,
                    (Some(_), None) if new_doc.is_none() => Status::Removed,
                    _ => continue, // failed on one side: the diagnostics say why
                };
                let old_text = old.map(|o| o.text.as_str()).unwrap_or("");
                let new_text = new.map(String::as_str).unwrap_or("");
                let (diff, _) = text_diff(old_text, new_text, id);
                let template = new_doc
                    .map(|d| d.template.clone())
                    .or_else(|| {
                        base.project
                            .record(id)
                            .and_then(|r| r.str_at("/template").map(str::to_owned))
                    })
                    .unwrap_or_default();
                docs.push(ReportDoc {
                    id: id.clone(),
                    template,
                    status,
                    before: if old.is_some() { base.pages(id) } else { None },
                    after: if new.is_some() { tree.pages(id) } else { None },
                    diff,
                });
            }
        }
        None => {
            baseline_note = format!(
                "before: the golden texts of {} (no --baseline given, so no pictures of the old pages)",
                outcome.lock.display()
            );
            for d in outcome.differences() {
                let old = std::fs::read_to_string(golden.join(format!("{}.txt", d.id)))
                    .unwrap_or_default();
                let new = texts.get(&d.id).map(String::as_str).unwrap_or("");
                let (diff, _) = text_diff(&old, new, &d.id);
                docs.push(ReportDoc {
                    id: d.id.clone(),
                    template: d.template.clone(),
                    status: d.status,
                    before: None,
                    after: if d.status == Status::Removed {
                        None
                    } else {
                        tree.pages(&d.id)
                    },
                    diff,
                });
            }
        }
    }
    report::write(dir, &docs, &baseline_note)
}

/// The records folder as a path inside the workspace (to find it in the baseline).
fn records_within_workspace(records: &Path, root: &Path) -> Result<PathBuf, BuildError> {
    let r = records.canonicalize().map_err(io("read", records))?;
    let w = root.canonicalize().map_err(io("read", root))?;
    r.strip_prefix(&w)
        .map(Path::to_path_buf)
        .map_err(|_| BuildError::Io {
            action: "find the records folder in the baseline for",
            path: records.to_path_buf(),
            source: std::io::Error::other("the records folder is not inside the workspace"),
        })
}

// ---------------------------------------------------------------------------
// Diffs.

/// A unified diff (golden → now) and the changed lines with word marks.
pub fn text_diff(old: &str, new: &str, id: &str) -> (String, Vec<String>) {
    let diff = similar::TextDiff::from_lines(old, new);
    let unified = diff
        .unified_diff()
        .context_radius(2)
        .header(&format!("a/golden/{id}.txt"), &format!("b/{id}.txt"))
        .to_string();
    let mut words = Vec::new();
    for group in diff.grouped_ops(0) {
        let mut removed = String::new();
        let mut added = String::new();
        for op in &group {
            for change in diff.iter_changes(op) {
                match change.tag() {
                    similar::ChangeTag::Delete => removed.push_str(change.value()),
                    similar::ChangeTag::Insert => added.push_str(change.value()),
                    similar::ChangeTag::Equal => {}
                }
            }
        }
        words.extend(word_diff(&removed, &added));
    }
    (unified, words)
}

/// Splits text into words for diffing: runs of letters/digits (Latin), single
/// CJK characters and punctuation, runs of whitespace.
fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    let class = |c: char| {
        if c.is_whitespace() {
            1
        } else if c.is_ascii_alphanumeric() || (c.is_alphanumeric() && (c as u32) < 0x2E80) {
            2
        } else {
            0 // one token per character
        }
    };
    let mut prev_class = 0;
    for (i, c) in text.char_indices() {
        let k = class(c);
        if let Some(s) = start
            && (k != prev_class || k == 0)
        {
            out.push(&text[s..i]);
            start = None;
        }
        if start.is_none() {
            start = Some(i);
        }
        prev_class = k;
    }
    if let Some(s) = start {
        out.push(&text[s..]);
    }
    out
}

/// Lines of `new` (or of `old` when lines were only removed) with `[-…-]{+…+}` marks.
fn word_diff(old: &str, new: &str) -> Vec<String> {
    let a = tokens(old);
    let b = tokens(new);
    let ops = similar::capture_diff_slices(similar::Algorithm::Myers, &a, &b);
    let mut marked = String::new();
    for op in ops {
        match op {
            similar::DiffOp::Equal { new_index, len, .. } => {
                marked.extend(b[new_index..new_index + len].iter().copied());
            }
            similar::DiffOp::Delete {
                old_index, old_len, ..
            } => {
                marked.push_str(&format!(
                    "[-{}-]",
                    a[old_index..old_index + old_len].concat()
                ));
            }
            similar::DiffOp::Insert {
                new_index, new_len, ..
            } => {
                marked.push_str(&format!(
                    "{{+{}+}}",
                    b[new_index..new_index + new_len].concat()
                ));
            }
            similar::DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                marked.push_str(&format!(
                    "[-{}-]{{+{}+}}",
                    a[old_index..old_index + old_len].concat(),
                    b[new_index..new_index + new_len].concat()
                ));
            }
        }
    }
    marked
        .lines()
        .filter(|l| l.contains("[-") || l.contains("{+"))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_diff_marks_the_changed_word_in_cjk_and_latin_text() {
        let w = word_diff(
            "任何一方均不对间接损失负责\n",
            "任何一方均不对直接损失负责\n",
        );
        assert_eq!(w, vec!["任何一方均不对[-间-]{+直+}接损失负责".to_owned()]);
        let w = word_diff(
            "shall not exceed the total Fees\n",
            "shall not exceed twice the total Fees\n",
        );
        assert_eq!(
            w,
            vec!["shall not exceed {+twice +}the total Fees".to_owned()]
        );
    }

    #[test]
    fn lock_text_round_trips_and_knows_the_line_of_each_document() {
        let entries = vec![LockEntry {
            id: "fw-1".into(),
            template: "service-zh".into(),
            inputs: "a".repeat(64),
            pdf: "b".repeat(64),
            text: "c".repeat(64),
            pages: 3,
        }];
        let text = lock_text(&entries);
        let lock: Lock = toml::from_str(&text).unwrap();
        assert_eq!(lock.document, entries);
        let line = lock_lines(&text)["fw-1"];
        assert_eq!(text.lines().nth(line - 1), Some("id = \"fw-1\""));
    }
}
