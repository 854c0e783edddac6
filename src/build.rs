//! The pipeline: load → validate → number → render → typeset → checksum → write.
//!
//! `Project` holds one run's workspace and records and runs the stages in
//! order, collecting every diagnostic. A batch is all-or-nothing: PDFs are
//! typeset into a private staging folder inside `--out` and moved into place
//! only when every document succeeded (or, with `--skip-invalid`, the valid
//! ones). In issue mode the register's write lock is held from the moment
//! numbers are planned until the PDFs are on disk, and the register commits
//! last: a build killed at any instant consumes no number.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::checksum;
use crate::cndate::parse_iso_date;
use crate::diagnostic::{self, Diagnostic, Pos};
pub use crate::numbering::Skipped;
use crate::numbering::{self, Plan};
use crate::policy::{self, Policy};
use crate::progress::Progress;
use crate::record::{Record, RecordKind};
use crate::register::{self, Register, RegisterError};
use crate::render::{DocInfo, Inputs, Renderer, TemplateError};
use crate::store::Store;
use crate::typeset::{self, Fonts, Typesetter};
use crate::validate::{self, Schemas};
use crate::workspace::{self, Workspace, WorkspaceError};

/// Failures of the environment (exit code 2), as opposed to defects in the input.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The workspace could not be found or read.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The register is locked, corrupt or unwritable.
    #[error(transparent)]
    Register(#[from] RegisterError),
    /// A flag's value cannot be used (e.g. `--only` matching no contract).
    #[error("{0}")]
    Usage(String),
    /// Reading records or writing outputs failed.
    #[error("failed to {action} {path} ({source})")]
    Io {
        /// What was being done ("read", "write", …).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

pub(crate) fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BuildError {
    let path = path.to_path_buf();
    move |source| BuildError::Io {
        action,
        path,
        source,
    }
}

/// Draft or issue.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Draft numbers and a 草稿 / DRAFT mark; the register is never opened.
    Draft,
    /// Numbers from the register.
    Issue {
        /// The register.
        register: register::Location,
        /// How long to wait for another build's lock.
        lock_timeout: Duration,
    },
}

/// What `build` is asked to do, validated before any stage runs.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Record files and folders: the contracts to build (see [`Project::load`]).
    pub records: Vec<PathBuf>,
    /// Only the contracts whose id matches one of these ids or globs.
    pub only: Vec<String>,
    /// Remove PDFs in `out` that this build did not write (voided or removed contracts).
    pub prune: bool,
    /// Typeset only this shard's share of the batch (issue mode; see [`Shard`]).
    pub shard: Option<Shard>,
    /// Output folder for PDFs, `SHA256SUMS`, `manifest.json` and `register.csv`.
    pub out: PathBuf,
    /// Workspace folder; found from `records` upwards when `None`.
    pub workspace: Option<PathBuf>,
    /// Build the valid records even when others have errors (the run still fails).
    pub skip_invalid: bool,
    /// Draft or issue mode.
    pub mode: Mode,
    /// Treat warnings as errors: a record with a warning is not built and the run fails.
    pub deny_warnings: bool,
    /// Also write each document's typst sources to `<dir>/<id>/`.
    pub emit_typst: Option<PathBuf>,
}

/// One of N shards of a batch (`--shard K/N`): every shard validates and
/// numbers the whole batch, and typesets the records whose id falls to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Shard {
    /// 1-based index.
    pub index: u32,
    /// How many shards the batch has.
    pub count: u32,
}

impl Shard {
    /// `K/N` with 1 ≤ K ≤ N; anything else is a sentence saying what is wrong.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = || format!("--shard `{s}` is not K/N with 1 ≤ K ≤ N (e.g. --shard 2/10)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            k.trim().parse::<u32>().map_err(|_| bad())?,
            n.trim().parse::<u32>().map_err(|_| bad())?,
        );
        if index < 1 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether the record `id` falls to this shard: a stable split by the
    /// id's SHA-256, so a record always lands in the same shard of N.
    pub fn owns(&self, id: &str) -> bool {
        let digest = checksum::sha256_hex(id.as_bytes());
        let head = u64::from_str_radix(&digest[..16], 16).unwrap_or(0);
        head % u64::from(self.count) == u64::from(self.index - 1)
    }
}

/// What a shard writes beside its documents (`shard.json`), for `gather`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct ShardInfo {
    /// The batch: SHA-256 over every record id of the whole batch with its content digest.
    pub batch: String,
    /// 1-based shard index.
    pub shard: u32,
    /// Shards in the batch.
    pub of: u32,
    /// The pactum that built it.
    pub pactum: String,
}

/// The shard file's name in a shard's output folder.
pub const SHARD_FILE: &str = "shard.json";

/// The register file used when neither `--register` nor `.pactum.toml` names one.
pub fn default_register(workspace_root: &Path) -> PathBuf {
    workspace_root.join(".pactum").join("register.sqlite")
}

/// The register a command uses: `given` (`--register`), else the
/// workspace's `.pactum.toml` `register` (a file there is relative to the
/// workspace), else [`default_register`].
pub fn register_location(
    given: Option<&str>,
    workspace_root: &Path,
    config: &crate::config::Config,
) -> Result<register::Location, String> {
    match (given, &config.register) {
        (Some(g), _) => register::Location::parse(g),
        (None, Some(c)) => match register::Location::parse(c)? {
            register::Location::Sqlite(p) if p.is_relative() => {
                Ok(register::Location::Sqlite(workspace_root.join(p)))
            }
            other => Ok(other),
        },
        (None, None) => Ok(register::Location::Sqlite(default_register(workspace_root))),
    }
}

/// One produced document.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Document {
    /// Record id.
    pub id: String,
    /// Contract number printed on it.
    pub number: String,
    /// 修改次第 (issue mode only).
    pub revision: Option<u32>,
    /// Template name.
    pub template: String,
    /// File name inside the output folder.
    pub file: String,
    /// SHA-256 of the PDF.
    pub sha256: String,
    /// Pages in the PDF.
    pub pages: usize,
    /// SHA-256 of the record content (contract, parties, parent number).
    pub content_sha256: String,
    /// SHA-256 over the template files it read ([`Document::made_from`]).
    pub template_sha256: String,
    /// What it is against the register: new, revised (and why), unchanged; draft.
    #[serde(flatten)]
    pub change: numbering::Change,
    /// The template files it read (path under `templates/` → SHA-256).
    #[serde(skip)]
    pub made_from: BTreeMap<String, String>,
}

/// The result of a run that could read its inputs: documents and diagnostics.
#[derive(Debug, Default, serde::Serialize)]
pub struct Outcome {
    /// Documents written (empty when the batch failed).
    pub documents: Vec<Document>,
    /// Contracts held back from issuing (`status: draft`).
    pub held_back: Vec<Skipped>,
    /// Contracts skipped because their number is void.
    pub void: Vec<Skipped>,
    /// PDFs in the output folder of voided, held-back or removed contracts:
    /// not written by this build, not in `SHA256SUMS` or `manifest.json`
    /// (`--prune` removes all but those of issued held-back contracts).
    pub stray: Vec<String>,
    /// Whether the stray files were removed (`--prune`).
    pub pruned: bool,
    /// Every problem found, sorted by place.
    pub diagnostics: Vec<Diagnostic>,
    /// Seconds spent inside typst (layout and PDF export), summed over threads.
    /// Exact with one worker; with several, time a document spends waiting for
    /// typst's shared thread pool counts too, so the sum is an upper bound.
    pub typst_seconds: f64,
    /// Seconds this run held the register's write lock (issue mode): the
    /// whole run for one build; for a shard, its reservation and its final
    /// transaction only.
    pub register_lock_seconds: f64,
}

impl Outcome {
    /// Whether any diagnostic is an error (exit code 1).
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Whether the run failed: an error, or a warning under `--deny-warnings`.
    pub fn failed(&self, deny_warnings: bool) -> bool {
        self.has_errors() || (deny_warnings && self.diagnostics.iter().any(Diagnostic::is_warning))
    }
}

/// Stack size of typesetting threads (typst's layout recursion needs more than rayon's 2 MiB).
const TYPESET_STACK: usize = 64 << 20;

/// Documents whose register rows and manifest entries are made at once (in
/// parallel) before they are written: enough to share out, little memory.
const MANIFEST_SLICE: usize = 256;

/// A typeset document waiting in the staging folder.
struct Typeset {
    sha256: String,
    pages: usize,
    template: String,
    /// Template files read (tera's and typst's), paths under `templates/`.
    read: BTreeSet<String>,
}

/// A contract's typeset result, or the diagnostics that stopped it.
type Produced = Result<Typeset, Vec<Diagnostic>>;

/// One contract after the render stage: what the typeset stage needs.
pub struct Rendered {
    /// Record id (also the PDF's document id).
    pub id: String,
    /// Template name.
    pub template: String,
    /// The typst markup tera produced.
    pub markup: String,
    /// The signing date: `today()` and the PDF timestamp.
    pub date: chrono::NaiveDate,
}

impl Rendered {
    /// The typeset job for this document.
    pub fn job<'a>(&'a self, emit: Option<&'a Path>) -> typeset::Job<'a> {
        typeset::Job {
            template: &self.template,
            markup: self.markup.clone(),
            date: self.date,
            ident: &self.id,
            emit,
        }
    }
}

/// Typesets documents in parallel and returns the results in input order.
///
/// Each worker takes the next document and runs typst inside its own rayon
/// pool: with more documents than cores that pool has one thread, so typst's
/// inner parallel sections run inline on the worker instead of being handed
/// to a shared pool and waited for (a handover per section, and on a shared
/// pool a waiting worker would pick up another *document* and nest it inside
/// the first, growing memory and stack depth with the batch). With fewer
/// documents than cores the spare cores go to each document's pool. Workers:
/// `RAYON_NUM_THREADS` or the number of cores.
pub fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
) -> std::io::Result<Vec<R>> {
    let cores = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let workers = cores.min(items.len().max(1));
    let pool_threads = (cores / workers).max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<R>>> =
        std::sync::Mutex::new((0..items.len()).map(|_| None).collect());
    let work = || {
        loop {
            let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(item) = items.get(k) else { break };
            let r = f(item);
            if let Ok(mut all) = results.lock() {
                all[k] = Some(r);
            }
        }
    };
    let pools = (0..workers)
        .map(|i| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(pool_threads)
                .stack_size(TYPESET_STACK)
                .thread_name(move |t| format!("pactum-typeset-{i}.{t}"))
                .build()
                .map_err(std::io::Error::other)
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    std::thread::scope(|scope| {
        let handles: Vec<_> = pools
            .iter()
            .map(|pool| scope.spawn(|| pool.install(work)))
            .collect();
        for h in handles {
            h.join()
                .map_err(|_| std::io::Error::other("a typesetting thread panicked"))?;
        }
        Ok::<(), std::io::Error>(())
    })?;
    let all = results
        .into_inner()
        .map_err(|_| std::io::Error::other("a typesetting thread panicked"))?;
    Ok(all.into_iter().flatten().collect())
}

/// One run's workspace and records, with the stages as methods.
pub struct Project {
    /// The located workspace.
    pub workspace: Workspace,
    /// The run's records (read again from their files by each stage that needs one).
    pub store: Store,
    /// Problems found so far.
    pub diagnostics: Vec<Diagnostic>,
}

impl Project {
    /// Locates the workspace and loads templates' metadata and the records
    /// of the records folder that holds `paths` (see [`records_folder`]).
    pub fn load(paths: &[PathBuf], workspace: Option<&Path>) -> Result<Project, BuildError> {
        let Some(first) = paths.first() else {
            return Err(BuildError::Usage("no records given".into()));
        };
        for p in paths {
            if !p.exists() {
                return Err(BuildError::Io {
                    action: "read records",
                    path: p.clone(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "no such file or folder",
                    ),
                });
            }
        }
        let root = workspace::locate(&folder_of(first), workspace)?;
        let (workspace, mut diagnostics) = workspace::load(&root)?;
        let mut folders: Vec<PathBuf> = paths.iter().map(|p| records_folder(p, &root)).collect();
        folders.sort();
        folders.dedup();
        // A folder inside another is read with it.
        let nested: Vec<PathBuf> = folders
            .iter()
            .filter(|f| folders.iter().any(|o| o != *f && f.starts_with(o)))
            .cloned()
            .collect();
        folders.retain(|f| !nested.contains(f));
        let (store, diags) = Store::scan(&folders).map_err(io("read", first))?;
        diagnostics.extend(diags);
        Ok(Project {
            workspace,
            store,
            diagnostics,
        })
    }

    /// Validates every record (schemas, then the compliance policy on the
    /// records that passed their schema); returns the ids of contracts that
    /// can be built.
    pub fn validate(&mut self, progress: &dyn Progress) -> Vec<String> {
        let (schemas, diags) = Schemas::compile(&self.workspace);
        self.diagnostics.extend(diags);
        let fonts = Fonts::get();
        let report = validate::validate(
            &self.store,
            &self.workspace,
            &schemas,
            &|c| fonts.can_draw(c),
            &|| progress.tick(),
        );
        self.diagnostics.extend(report.diagnostics);
        let mut invalid = report.invalid;
        let (policy, diags) = Policy::load(&self.workspace);
        self.diagnostics.extend(diags);
        match policy {
            Some(policy) => {
                let checked = policy::check(&self.store, &self.workspace, &policy, &invalid);
                self.diagnostics.extend(checked.diagnostics);
                invalid.extend(checked.invalid);
            }
            // Without a valid policy nothing may get a number.
            None => invalid.extend(self.store.entries().iter().map(|e| e.id.clone())),
        }
        validate::propagate_party_errors(&self.store, &mut invalid, &mut self.diagnostics);
        self.store
            .entries()
            .iter()
            .filter(|e| e.kind == RecordKind::Contract && !invalid.contains(&e.id))
            .map(|e| e.id.clone())
            .collect()
    }

    /// The record with this id (see [`Store::get`]).
    pub fn record(&self, id: &str) -> Option<Arc<Record>> {
        self.store.get(id)
    }

    /// Everything a contract's document prints from records: the contract, its
    /// parties, and for a supplementary agreement the parent and its number.
    /// Its hash decides whether a rebuild is a new revision.
    pub(crate) fn sources(&self, r: &Record, parent_number: Option<&str>) -> Value {
        let linked = |f: &str| {
            r.str_at(f)
                .and_then(|id| self.record(id))
                .map_or(Value::Null, |p| p.value.clone())
        };
        serde_json::json!({
            "contract": r.value,
            "party_a": linked("/party_a"),
            "party_b": linked("/party_b"),
            "parent": linked("/parent"),
            "parent_number": parent_number,
        })
    }

    /// Every template loaded for rendering ([`Renderer::new`] of the
    /// workspace's templates); a template that tera cannot parse is a
    /// diagnostic (`T405`) and there is no renderer.
    pub fn renderer(&mut self, loaded: Result<Renderer, TemplateError>) -> Option<Renderer> {
        let templates_dir = self.workspace.templates_dir();
        match loaded {
            Ok(r) => Some(r),
            Err(e) => {
                self.diagnostics.push(
                    Diagnostic::error("T405", format!("templates cannot be loaded: {}", e.message))
                        .in_file(&templates_dir),
                );
                None
            }
        }
    }

    /// The render stage for one contract: its template, parties, parent and
    /// plan → typst markup, with the date the typeset stage needs.
    pub fn render(
        &self,
        renderer: &Renderer,
        id: &str,
        plan: &Plan,
    ) -> Result<Rendered, Vec<Diagnostic>> {
        let r = self.record(id).ok_or_else(Vec::new)?;
        let fail = |msg: String| vec![r.diag("", Diagnostic::error("T408", msg))];
        let tname = r.str_at("/template").unwrap_or_default();
        let template = self
            .workspace
            .templates
            .get(tname)
            .ok_or_else(|| fail(format!("unknown template `{tname}`")))?;
        let party = |field: &str| {
            r.str_at(field)
                .and_then(|pid| self.record(pid))
                .ok_or_else(|| fail(format!("party in `{field}` not found")))
        };
        let (party_a, party_b) = (party("/party_a")?, party("/party_b")?);
        let parent = match (r.str_at("/parent"), &plan.parent_number) {
            (Some(pid), Some(n)) => {
                let p = self
                    .record(pid)
                    .ok_or_else(|| fail(format!("parent contract `{pid}` not found")))?;
                Some((p, n.as_str()))
            }
            _ => None,
        };
        let revision = plan
            .revision
            .map_or_else(|| "—".to_owned(), |r| format!("{r:02}"));
        let doc = DocInfo {
            title: &template.title,
            kind: template.kind,
            language: template.language,
            number: &plan.number,
            revision: &revision,
            draft: plan.revision.is_none(),
            template: &template.name,
        };
        let inputs = Inputs {
            contract: &r.value,
            party_a: &party_a.value,
            party_b: &party_b.value,
            parent: parent.as_ref().map(|(p, n)| (&p.value, *n)),
        };
        let markup = renderer.render(template, &doc, &inputs).map_err(|e| {
            vec![
                r.diag(
                    "",
                    Diagnostic::error(
                        "T406",
                        format!("template `{tname}` failed to render: {}", e.message),
                    ),
                )
                .hint("this is a template problem unless the message names a field of this record"),
            ]
        })?;
        let date = parse_iso_date(r.str_at("/signing_date").unwrap_or_default())
            .ok_or_else(|| fail("signing_date is missing or invalid".into()))?;
        Ok(Rendered {
            id: id.to_owned(),
            template: template.name.clone(),
            markup,
            date,
        })
    }

    /// Renders and typesets one contract into the staging folder.
    fn produce(
        &self,
        renderer: &Renderer,
        ts: &Typesetter,
        staging: &Staging,
        id: &str,
        plan: &Plan,
        emit_typst: Option<&Path>,
    ) -> Produced {
        let rendered = self.render(renderer, id, plan)?;
        let emit_dir = emit_typst.map(|d| d.join(id));
        let pdf = ts
            .pdf(&rendered.job(emit_dir.as_deref()))
            .map_err(|problems| self.typst_diagnostics(id, problems))?;
        let sha256 = staging
            .write(&format!("{id}.pdf"), &pdf.bytes)
            .map_err(|e| {
                let d = Diagnostic::error("T409", e.to_string());
                self.record(id)
                    .map(|r| r.diag("", d))
                    .into_iter()
                    .collect::<Vec<_>>()
            })?;
        Ok(Typeset {
            sha256,
            pages: pdf.pages,
            template: rendered.template,
            read: pdf.read.into_iter().collect(),
        })
    }

    /// typst's errors for one contract as diagnostics (`T407`), located in the
    /// template file they come from, or in the record when they come from
    /// generated markup.
    pub fn typst_diagnostics(
        &self,
        id: &str,
        problems: Vec<typeset::TypstProblem>,
    ) -> Vec<Diagnostic> {
        self.typst_diagnostics_as(id, "T407", "typst", problems)
    }

    /// typst problems as error diagnostics with `code`, messages prefixed with `what`.
    pub(crate) fn typst_diagnostics_as(
        &self,
        id: &str,
        code: &'static str,
        what: &str,
        problems: Vec<typeset::TypstProblem>,
    ) -> Vec<Diagnostic> {
        let Some(r) = self.record(id) else {
            return Vec::new();
        };
        let tname = r.str_at("/template").unwrap_or_default();
        let templates = self.workspace.templates_dir();
        problems
            .into_iter()
            .map(|p| {
                let mut d =
                    Diagnostic::error(code, format!("{what}: {}", p.message)).record(&r.id);
                match (&p.file, p.line_col) {
                    (Some(f), Some((line, column))) => {
                        let path = templates.join(f);
                        let text = std::fs::read_to_string(&path).unwrap_or_default();
                        d = d.at(
                            &path,
                            &text,
                            Pos {
                                line,
                                column,
                                width: 1,
                            },
                        );
                    }
                    (None, Some((line, column))) => {
                        d.message = format!(
                            "{} (in the markup generated from templates/{tname}/main.typ.tera, line {line}:{column}: `{}`)",
                            d.message,
                            p.line_text.as_deref().unwrap_or("").trim()
                        );
                        d = d.at(&r.source.path, &r.source.text, r.origin);
                    }
                    _ => d = d.at(&r.source.path, &r.source.text, r.origin),
                }
                if let Some(h) = p.hints.first() {
                    d = d.hint(h.clone());
                }
                d
            })
            .collect()
    }
}

/// The folder of a record path (itself when it is a folder).
fn folder_of(p: &Path) -> PathBuf {
    if p.is_dir() {
        p.to_path_buf()
    } else {
        match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }
}

/// The records folder read for a record file or folder `p`: the nearest
/// folder from `p` upwards, below the workspace root, that has a `parties/`
/// subfolder (the layout `pactum init` and `synth` write), so that one
/// contract file or `contracts/2026/` is built with the parties and parents
/// beside it; else the folder given (or the file's folder).
pub fn records_folder(p: &Path, workspace_root: &Path) -> PathBuf {
    let start = folder_of(p);
    let root = std::path::absolute(workspace_root).unwrap_or_else(|_| workspace_root.to_path_buf());
    let mut cur = start.clone();
    loop {
        let abs = std::path::absolute(&cur).unwrap_or_else(|_| cur.clone());
        if abs == root || !abs.starts_with(&root) {
            return start;
        }
        if cur.join("parties").is_dir() {
            return cur;
        }
        match cur.parent() {
            Some(up) if !up.as_os_str().is_empty() => cur = up.to_path_buf(),
            _ => return start,
        }
    }
}

/// The contracts a build is about: those in the record files and folders
/// given, narrowed by `--only` ids or globs. A pattern that matches no
/// contract is a usage error.
fn select(
    project: &Project,
    paths: &[PathBuf],
    only: &[String],
) -> Result<BTreeSet<String>, BuildError> {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let wanted: Vec<PathBuf> = paths.iter().map(|p| abs(p)).collect();
    let mut selected: BTreeSet<String> = project
        .store
        .contracts_with_files()
        .filter(|(_, file)| {
            let file = abs(file);
            wanted.iter().any(|w| file == *w || file.starts_with(w))
        })
        .map(|(id, _)| id.to_owned())
        .collect();
    if !only.is_empty() {
        let mut matchers = Vec::new();
        for pattern in only {
            let glob = globset::Glob::new(pattern).map_err(|e| {
                BuildError::Usage(format!("--only `{pattern}` is not a valid glob ({e})"))
            })?;
            matchers.push((pattern, glob.compile_matcher()));
        }
        for (pattern, m) in &matchers {
            if !selected.iter().any(|id| m.is_match(id)) {
                return Err(BuildError::Usage(format!(
                    "--only `{pattern}` matches no contract in {}; give a record id (e.g. fw-2026-001) or a glob (fw-2026-*)",
                    paths
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        selected.retain(|id| matchers.iter().any(|(_, m)| m.is_match(id)));
    }
    Ok(selected)
}

/// Runs `build`: every valid contract becomes `<id>.pdf` in `out`, plus
/// `SHA256SUMS`, `manifest.json` and, in issue mode, `register.csv`.
pub fn build(opts: &BuildOptions, progress: &dyn Progress) -> Result<Outcome, BuildError> {
    // The embedded fonts (for the glyph check, then typst) are parsed while
    // the records load.
    std::thread::spawn(Fonts::get);
    let mut project = Project::load(&opts.records, opts.workspace.as_deref())?;
    let selected = select(&project, &opts.records, &opts.only)?;
    progress.stage("validating", project.store.len() as u64);
    let templates_dir = project.workspace.templates_dir();
    // The templates load while the records are validated.
    let (mut buildable, loaded) = std::thread::scope(|scope| {
        let loading = scope.spawn(|| Renderer::new(&templates_dir));
        let buildable = project.validate(progress);
        let loaded = loading
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (buildable, loaded)
    });
    progress.finish();
    // Contracts outside the selection are read (as parents) but neither built
    // nor reported on.
    let outside: BTreeSet<String> = project
        .store
        .contracts_with_files()
        .map(|(id, _)| id.to_owned())
        .filter(|id| !selected.contains(id))
        .collect();
    project
        .diagnostics
        .retain(|d| d.record.as_ref().is_none_or(|r| !outside.contains(r)));
    buildable.retain(|id| selected.contains(id));
    let mut outcome = Outcome::default();
    if matches!(opts.mode, Mode::Issue { .. }) {
        // Held back (`status: draft`): validated, never numbered.
        buildable.retain(|id| {
            let Some(r) = project.record(id) else {
                return true;
            };
            if r.str_at("/status") != Some("draft") {
                return true;
            }
            if opts.shard.is_some_and(|sh| !sh.owns(id)) {
                return false; // another shard says so
            }
            project.diagnostics.push(
                r.diag(
                    "/status",
                    Diagnostic::note("N503", format!("held back from issuing: `{id}` has status: draft")),
                )
                .hint("it is validated but gets no number; set `status: approved` to issue it (`build --draft` typesets it)"),
            );
            outcome.held_back.push(Skipped {
                id: id.clone(),
                number: None,
                reason: "status: draft".into(),
            });
            false
        });
    }
    if opts.deny_warnings {
        // A warning is an error now: its record is not built.
        let warned: BTreeSet<&str> = project
            .diagnostics
            .iter()
            .filter(|d| d.is_warning())
            .filter_map(|d| d.record.as_deref())
            .collect();
        buildable.retain(|id| !warned.contains(id.as_str()));
    }
    let renderer = project.renderer(loaded);
    let Some(renderer) = renderer else {
        outcome.diagnostics = std::mem::take(&mut project.diagnostics);
        diagnostic::sort(&mut outcome.diagnostics);
        return Ok(outcome);
    };
    // Open the register before anything is written. One build takes its write
    // lock now and holds it to the end; a shard takes it only for short
    // transactions: reserving the whole batch's new numbers now, and
    // recording its own documents at the end.
    let open = || match &opts.mode {
        Mode::Draft => Ok(None),
        Mode::Issue {
            register,
            lock_timeout,
        } => Register::open(register, *lock_timeout).map(Some),
    };
    // A shard has two connections: one it plans through (reservations, then
    // short read transactions), one that records its documents at the end.
    let (mut held_register, mut shard_reader, mut shard_committer) = match opts.shard {
        None => (open()?, None, None),
        Some(_) => (None, open()?, open()?),
    };
    let held = match held_register.as_mut() {
        Some(r) => Some(r.begin()?),
        None => None,
    };
    let mut locked_since = held.is_some().then(std::time::Instant::now);
    let mut shard_info = None;
    match (opts.shard, shard_reader.as_mut()) {
        (Some(shard), Some(reg)) => {
            let (info, held_for) = reserve_batch(&project, &mut buildable, reg, shard)?;
            shard_info = Some(info);
            outcome.register_lock_seconds += held_for;
        }
        (Some(shard), None) => buildable.retain(|id| shard.owns(id)), // draft
        _ => {}
    }
    let created_out = !opts.out.exists();
    std::fs::create_dir_all(&opts.out).map_err(io("create", &opts.out))?;
    let mut staging = Staging::new(&opts.out)?;
    let ts = Typesetter::new(&templates_dir);
    let tera_files = tera_files(&project);
    let digests = FileDigests::new(&templates_dir);

    // Plan numbers, typeset, and re-plan until no planned document fails, so a
    // failure never leaves a gap in a sequence. An issued document is planned
    // with its latest revision first; if its bytes differ from the issued PDF,
    // what it prints changed and it is planned again as the next revision.
    // Results are cached by plan digest (a digest per document, for up to
    // tens of thousands of documents).
    let mut done: BTreeMap<String, (String, Typeset)> = BTreeMap::new();
    let mut force_new_revision = BTreeSet::new();
    let plans = loop {
        let mut diags = Vec::new();
        let read = match shard_reader.as_mut() {
            Some(r) => Some(r.read()?),
            None => None,
        };
        // (Two calls: the held batch and a read batch borrow different registers.)
        let plans = match &read {
            Some(b) => numbering::plan(
                &project,
                &buildable,
                Some(b),
                &force_new_revision,
                &mut diags,
                &mut outcome.void,
            )?,
            None => numbering::plan(
                &project,
                &buildable,
                held.as_ref(),
                &force_new_revision,
                &mut diags,
                &mut outcome.void,
            )?,
        };
        drop(read); // a shard plans in a short read transaction
        let failed_planning: BTreeSet<String> = diags
            .iter()
            .filter(|d| d.is_error())
            .filter_map(|d| d.record.clone())
            .collect();
        project.diagnostics.extend(diags);
        // A record whose file changed since the scan has no plan (R111).
        project.diagnostics.extend(project.store.take_problems());
        buildable.retain(|id| plans.contains_key(id));
        if !failed_planning.is_empty() {
            buildable.retain(|id| !failed_planning.contains(id));
            continue;
        }
        let todo: Vec<&String> = buildable
            .iter()
            .filter(|id| done.get(*id).is_none_or(|(p, _)| *p != plans[*id].digest()))
            .collect();
        progress.stage("typesetting", todo.len() as u64);
        let results: Vec<(String, Produced)> = parallel_map(&todo, |id| {
            let r = project.produce(
                &renderer,
                &ts,
                &staging,
                id,
                &plans[*id],
                opts.emit_typst.as_deref(),
            );
            let r = r.map(|mut t| {
                t.read
                    .extend(tera_files.get(&t.template).into_iter().flatten().cloned());
                t
            });
            progress.tick();
            ((*id).clone(), r)
        })
        .map_err(io("typeset into", &opts.out))?;
        progress.finish();
        let mut failed = BTreeSet::new();
        for (id, result) in results {
            match result {
                Ok(t) => {
                    done.insert(id.clone(), (plans[&id].digest(), t));
                }
                Err(diags) => {
                    project.diagnostics.extend(diags);
                    failed.insert(id);
                }
            }
        }
        // Printed differently under the same revision mark: a new revision.
        let drifted: Vec<String> = buildable
            .iter()
            .filter(|id| {
                done.get(*id).is_some_and(|(_, t)| {
                    plans[*id]
                        .expected_pdf
                        .as_ref()
                        .is_some_and(|e| e != &t.sha256)
                })
            })
            .cloned()
            .collect();
        if failed.is_empty() && drifted.is_empty() {
            break plans;
        }
        if !failed.is_empty() && !opts.skip_invalid {
            break plans; // the batch fails as a whole; numbers do not matter any more
        }
        buildable.retain(|id| !failed.contains(id));
        force_new_revision.extend(drifted);
    };
    // One build holds its batch from the start; a shard takes the write lock
    // only to record its documents, once its PDFs are on disk and its
    // manifest is written (see below).
    let issuing = matches!(opts.mode, Mode::Issue { .. });
    let mut batch = held;
    if shard_committer.is_some() {
        staging.sync()?;
    }
    project.diagnostics.extend(project.store.take_problems());
    // PDFs in the output folder that this build will not write, and why.
    let mut stray = Vec::new();
    for name in pdfs_not_written(&opts.out, &buildable) {
        let id = name.trim_end_matches(".pdf");
        let void = outcome.void.iter().find(|s| s.id == id);
        let held = outcome.held_back.iter().any(|s| s.id == id);
        let (why, prunable) = if let Some(v) = void {
            (
                format!("contract {} is void", v.number.as_deref().unwrap_or("")),
                true,
            )
        } else if held {
            // An issued contract put back to draft keeps its issued PDF.
            let issued_before = match (&batch, shard_reader.as_mut()) {
                (Some(b), _) => b.prior(id)?.is_some(),
                (None, Some(r)) => r.read()?.prior(id)?.is_some(),
                (None, None) => false,
            };
            match issued_before {
                true => (
                    format!(
                        "`{id}` is held back (status: draft); its issued revision stays in the register, and --prune keeps the file"
                    ),
                    false,
                ),
                false => (
                    format!("`{id}` is held back (status: draft) and was never issued"),
                    true,
                ),
            }
        } else if !project.store.contracts_with_files().any(|(c, _)| c == id) {
            (format!("no record has the id `{id}`"), true)
        } else {
            continue; // a contract outside the selection, or one that failed
        };
        if !(opts.prune && prunable) {
            project.diagnostics.push(
                Diagnostic::warning(
                    "N504",
                    format!("{name} was not written by this build ({why}); it is not listed in SHA256SUMS or manifest.json"),
                )
                .in_file(&opts.out.join(&name))
                .hint("delete it, or build again with --prune to remove the files of voided, removed and never-issued contracts"),
            );
        }
        stray.push((name, prunable));
    }
    let failed = project
        .diagnostics
        .iter()
        .any(|d| d.is_error() || (opts.deny_warnings && d.is_warning()));
    let abandon = |batch, staging| {
        drop(batch); // rolls back: no number consumed
        drop(staging);
        if created_out {
            let _ = std::fs::remove_dir(&opts.out); // leave no trace of a failed run
        }
    };
    if failed && !opts.skip_invalid {
        abandon(batch, staging);
    } else {
        let issued_at = numbering::issue_time(project.workspace.config.time_zone);
        let mut documents = Vec::new();
        for id in &buildable {
            let (Some((_, t)), Some(plan)) = (done.remove(id), plans.get(id)) else {
                continue;
            };
            let made_from = digests.of(&t.read);
            let change = match &plan.prior {
                _ if !issuing => numbering::Change::Draft,
                None => numbering::Change::New,
                Some(p) if Some(p.latest.revision) == plan.revision => numbering::Change::Unchanged,
                Some(p) => {
                    let record_json = project
                        .record(id)
                        .map(|r| numbering::canonical_json(&r.value))
                        .unwrap_or_default();
                    let now = register::MadeFrom {
                        record_json,
                        files: Some(made_from.clone()),
                    };
                    numbering::Change::Revised {
                        why: numbering::why(
                            (&p.latest.content_sha256, &p.latest.pactum, &p.made_from),
                            (&plan.content_sha256, env!("CARGO_PKG_VERSION"), &now),
                        ),
                    }
                }
            };
            documents.push(Document {
                id: id.clone(),
                number: plan.number.clone(),
                revision: plan.revision,
                template: t.template,
                file: format!("{id}.pdf"),
                sha256: t.sha256,
                pages: t.pages,
                content_sha256: plan.content_sha256.clone(),
                template_sha256: files_digest(&made_from),
                change,
                made_from,
            });
        }
        drop(done);
        documents.sort_by(|a, b| a.file.cmp(&b.file));
        // The files besides the PDFs, with their SHA-256 (PDF digests are
        // known; these are hashed as they are written).
        let mut others: Vec<(&str, String)> = Vec::new();
        // One pass over the records: each document's register row and its
        // manifest entry (the records it was made from).
        let mode = if issuing { "issue" } else { "draft" };
        let mut manifest = staging.manifest(mode)?;
        // Made in parallel a slice at a time (the records are read again),
        // written in order. One build records each entry as it goes; a shard
        // keeps its entries and records them under the lock afterwards.
        let mut kept: Vec<register::Entry> = Vec::new();
        for slice in documents.chunks(MANIFEST_SLICE) {
            use rayon::prelude::*;
            type Made = (Option<register::Entry>, serde_json::Result<String>);
            let made: Vec<Option<Made>> = slice
                .par_iter()
                .map(|d| {
                    // None: R111, the batch fails below.
                    let (r, plan) = (project.record(&d.id)?, plans.get(&d.id)?);
                    let sources = project.sources(&r, plan.parent_number.as_deref());
                    // An unchanged document's revision is in the register already.
                    let entry = (issuing && d.change != numbering::Change::Unchanged)
                        .then(|| numbering::entry(&r, &sources, d, plan, &issued_at));
                    Some((entry, Manifest::entry(d, sources)))
                })
                .collect();
            for (entry, text) in made.into_iter().flatten() {
                match (&batch, entry) {
                    (Some(batch), Some(entry)) => batch.record(&entry)?,
                    (None, Some(entry)) => kept.push(entry),
                    (_, None) => {}
                }
                manifest.add(text)?;
            }
        }
        let manifest_sha256 = manifest.finish()?;
        if let Some(r) = shard_committer.as_mut() {
            let b = r.begin()?; // waiting for another shard is not holding
            locked_since = Some(std::time::Instant::now());
            for entry in &kept {
                b.record(entry)?;
            }
            batch = Some(b);
        }
        drop(kept);
        // A shard's folder is not a delivery: `gather` writes the 登记表 of
        // the whole batch, so a shard does not export the register under its lock.
        if let (Some(batch), None) = (&batch, &shard_info) {
            let zone = project.workspace.config.time_zone;
            let sha256 = staging.write_with("register.csv", |w| batch.write_csv(w, zone))?;
            others.push(("register.csv", sha256));
        }
        others.push(("manifest.json", manifest_sha256));
        if let Some(info) = &shard_info {
            let text = serde_json::to_string_pretty(info)
                .map_err(std::io::Error::from)
                .map_err(io("write", &opts.out.join(SHARD_FILE)))?
                + "\n";
            others.push((SHARD_FILE, staging.write(SHARD_FILE, text.as_bytes())?));
        }
        let pdfs = documents
            .iter()
            .map(|d| (d.file.as_str(), d.sha256.as_str()));
        let sums: Vec<(&str, &str)> = pdfs
            .chain(others.iter().map(|(n, h)| (*n, h.as_str())))
            .collect();
        staging.write("SHA256SUMS", checksum::sha256sums(&sums).as_bytes())?;
        let names = sums.iter().map(|(n, _)| *n).chain(["SHA256SUMS"]);
        // A record file that changed while the register rows and the manifest
        // were written (R111) leaves them incomplete: nothing is committed.
        let late = project.store.take_problems();
        if late.is_empty() {
            // PDFs on disk first, then the register commits.
            staging.commit(names)?;
            if let Some(batch) = batch {
                batch.commit()?;
            }
            if opts.prune {
                for (name, _) in stray.iter().filter(|(_, prunable)| *prunable) {
                    let path = opts.out.join(name);
                    std::fs::remove_file(&path).map_err(io("remove", &path))?;
                    project.diagnostics.push(
                        Diagnostic::note(
                            "N504",
                            format!("removed {name}: not written by this build (--prune)"),
                        )
                        .in_file(&path),
                    );
                }
                outcome.pruned = stray.iter().any(|(_, prunable)| *prunable);
            }
            outcome.stray = stray.into_iter().map(|(name, _)| name).collect();
            outcome.documents = documents;
        } else {
            project.diagnostics.extend(late);
            abandon(batch, staging);
        }
    }
    outcome.diagnostics = project.diagnostics;
    outcome.typst_seconds = ts.busy().as_secs_f64();
    outcome.register_lock_seconds += locked_since.map_or(0.0, |t| t.elapsed().as_secs_f64());
    diagnostic::sort(&mut outcome.diagnostics);
    Ok(outcome)
}

/// Reserves a number for every new record id of the whole batch, exactly
/// as one unsharded build would number them, then narrows `buildable` to the
/// shard's share. Every shard of the batch reserves the same numbers: the
/// first one writes them, the others find them. The batch is planned from a
/// snapshot without the lock (reading and hashing every record is most of
/// the work); under the lock the plan is only checked (its new ids still
/// unreserved, each scope's counter where the plan started) and written. If
/// another build moved on in between, it plans again; the last attempt plans
/// under the lock. Also returns how long the lock was held.
fn reserve_batch(
    project: &Project,
    buildable: &mut Vec<String>,
    register: &mut Register,
    shard: Shard,
) -> Result<(ShardInfo, f64), BuildError> {
    const ATTEMPTS: usize = 4;
    let mut held_for = 0.0;
    for attempt in 1..=ATTEMPTS {
        let last = attempt == ATTEMPTS;
        let snapshot = if last { None } else { Some(register.read()?) };
        let planned = match &snapshot {
            Some(r) => Some(plan_batch(project, buildable, r, shard)?),
            None => None,
        };
        drop(snapshot);
        if let Some(p) = &planned
            && p.new.is_empty()
        {
            buildable.retain(|id| shard.owns(id));
            return Ok((p.info.clone(), held_for));
        }
        let b = register.begin()?;
        let locked = std::time::Instant::now();
        let planned = match planned {
            Some(p) if still_as_planned(&b, &p)? => p,
            Some(_) if !last => {
                drop(b);
                held_for += locked.elapsed().as_secs_f64();
                continue;
            }
            _ => plan_batch(project, buildable, &b, shard)?,
        };
        for r in &planned.new {
            b.reserve(r)?;
        }
        b.commit()?;
        held_for += locked.elapsed().as_secs_f64();
        buildable.retain(|id| shard.owns(id));
        return Ok((planned.info, held_for));
    }
    unreachable!("the last attempt returns")
}

/// The whole batch planned against `b`: the shard file's contents and the
/// reservations still to write.
struct BatchPlan {
    info: ShardInfo,
    new: Vec<register::Reservation>,
}

fn plan_batch(
    project: &Project,
    buildable: &[String],
    b: &register::Batch,
    shard: Shard,
) -> Result<BatchPlan, BuildError> {
    let mut all = buildable.to_vec();
    let plans = loop {
        let mut diags = Vec::new();
        let plans = numbering::plan(
            project,
            &all,
            Some(b),
            &BTreeSet::new(),
            &mut diags,
            &mut Vec::new(),
        )?;
        let failed: BTreeSet<String> = diags
            .iter()
            .filter(|d| d.is_error())
            .filter_map(|d| d.record.clone())
            .collect();
        all.retain(|id| plans.contains_key(id) && !failed.contains(id));
        if failed.is_empty() {
            break plans;
        }
    };
    let mut batch_text = String::new();
    for id in &all {
        batch_text.push_str(&format!("{id}\0{}\n", plans[id].content_sha256));
    }
    let digest = checksum::sha256_hex(batch_text.as_bytes());
    // The reservation names the batch and its shard count, so a shard run
    // with another N than the batch's other shards is refused before it works.
    let tag = format!("{digest}/{}", shard.count);
    if let Some(other) = b
        .reservations()?
        .into_iter()
        .find(|r| r.batch.starts_with(&digest) && r.batch != tag)
    {
        let n = other.batch.rsplit('/').next().unwrap_or("?");
        return Err(BuildError::Usage(format!(
            "--shard {}/{}: this batch's other shards run as N = {n}; give every shard of one batch the same N",
            shard.index, shard.count
        )));
    }
    let mut new = Vec::new();
    for id in &all {
        let p = &plans[id];
        if p.prior.is_some() || b.reserved(id)?.is_some() {
            continue;
        }
        let template = project
            .record(id)
            .and_then(|r| r.str_at("/template").map(str::to_owned))
            .unwrap_or_default();
        new.push(register::Reservation {
            record_id: id.clone(),
            number: p.number.clone(),
            scope: p.scope.clone(),
            seq: p.seq,
            template,
            batch: tag.clone(),
        });
    }
    Ok(BatchPlan {
        info: ShardInfo {
            batch: digest,
            shard: shard.index,
            of: shard.count,
            pactum: env!("CARGO_PKG_VERSION").to_owned(),
        },
        new,
    })
}

/// Whether reservations planned from a snapshot still hold under the lock:
/// none of their ids has been issued or reserved since, and each scope's
/// counter still ends just before the first number planned in it.
fn still_as_planned(b: &register::Batch, p: &BatchPlan) -> Result<bool, BuildError> {
    let mut first: BTreeMap<&str, u64> = BTreeMap::new();
    for r in &p.new {
        if b.reserved(&r.record_id)?.is_some() || b.prior(&r.record_id)?.is_some() {
            return Ok(false);
        }
        let seq = first.entry(r.scope.as_str()).or_insert(r.seq);
        *seq = (*seq).min(r.seq);
    }
    for (scope, seq) in first {
        if b.last_seq(scope)? + 1 != seq {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The `<id>.pdf` files in `out` that a build writing `written` (record
/// ids) does not write, sorted.
fn pdfs_not_written(out: &Path, written: &[String]) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(out) else {
        return Vec::new();
    };
    let written: BTreeSet<&str> = written.iter().map(String::as_str).collect();
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| {
            name.strip_suffix(".pdf")
                .is_some_and(|id| !written.contains(id))
        })
        .collect();
    names.sort();
    names
}

/// Per template: the tera files its documents are made from (its
/// `main.typ.tera` and `template.toml` and every partial it includes,
/// conditional or not), paths under `templates/`.
fn tera_files(project: &Project) -> BTreeMap<String, BTreeSet<String>> {
    let partials = crate::lint::lint(&project.workspace).partials;
    project
        .workspace
        .templates
        .keys()
        .map(|name| {
            let mut files: BTreeSet<String> = partials.get(name).cloned().unwrap_or_default();
            files.insert(format!("{name}/main.typ.tera"));
            files.insert(format!("{name}/template.toml"));
            (name.clone(), files)
        })
        .collect()
}

/// SHA-256 over a document's template files and their digests.
fn files_digest(files: &BTreeMap<String, String>) -> String {
    let mut all = String::new();
    for (path, sha256) in files {
        all.push_str(path);
        all.push('\0');
        all.push_str(sha256);
        all.push('\n');
    }
    checksum::sha256_hex(all.as_bytes())
}

/// SHA-256 of template files, each read once per build.
struct FileDigests {
    root: PathBuf,
    known: std::sync::Mutex<BTreeMap<String, String>>,
}

impl FileDigests {
    fn new(templates_dir: &Path) -> Self {
        FileDigests {
            root: templates_dir.to_path_buf(),
            known: std::sync::Mutex::new(BTreeMap::new()),
        }
    }

    /// The digest of each file (paths under `templates/`); a file that
    /// cannot be read has the digest `unreadable`.
    fn of(&self, paths: &BTreeSet<String>) -> BTreeMap<String, String> {
        let Ok(mut known) = self.known.lock() else {
            return BTreeMap::new();
        };
        paths
            .iter()
            .map(|p| {
                let sha = known
                    .entry(p.clone())
                    .or_insert_with(|| {
                        std::fs::read(self.root.join(p))
                            .map_or_else(|_| "unreadable".to_owned(), |b| checksum::sha256_hex(&b))
                    })
                    .clone();
                (p.clone(), sha)
            })
            .collect()
    }
}

/// A private folder inside the output folder; files are fsynced there and
/// renamed into place on commit. Dropped without commit, it is removed.
pub(crate) struct Staging {
    dir: PathBuf,
    out: PathBuf,
    syncer: Syncer,
}

impl Staging {
    const PREFIX: &'static str = ".pactum-staging-";

    pub(crate) fn new(out: &Path) -> Result<Staging, BuildError> {
        remove_stale_staging(out);
        let dir = out.join(format!("{}{}", Self::PREFIX, std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io("clean", &dir))?;
        }
        std::fs::create_dir(&dir).map_err(io("create", &dir))?;
        Ok(Staging {
            syncer: Syncer::start().map_err(io("start the file syncer for", &dir))?,
            dir,
            out: out.to_path_buf(),
        })
    }

    /// Writes `name` and returns its SHA-256.
    pub(crate) fn write(&self, name: &str, bytes: &[u8]) -> Result<String, BuildError> {
        self.write_with(name, |w| w.write_all(bytes))
    }

    /// Creates `name`, lets `fill` write it, hands it to the syncer, and
    /// returns its SHA-256.
    pub(crate) fn write_with(
        &self,
        name: &str,
        fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<String, BuildError> {
        let mut f = self.create(name)?;
        fill(&mut f.w).map_err(io("write", &f.path))?;
        f.finish()
    }

    fn create(&self, name: &str) -> Result<StagedFile, BuildError> {
        let path = self.dir.join(name);
        let f = std::fs::File::create(&path).map_err(io("create", &path))?;
        Ok(StagedFile {
            w: checksum::HashingWriter::new(std::io::BufWriter::new(f)),
            path,
            syncer: self.syncer.handle(),
        })
    }

    /// Starts `manifest.json`: each document with the records it was made
    /// from (as they were at build time), written one document at a time so
    /// a large batch never holds the whole manifest in memory.
    pub(crate) fn manifest(&self, mode: &str) -> Result<Manifest, BuildError> {
        let mut file = self.create("manifest.json")?;
        write!(
            file.w,
            "{{\n  \"pactum\": \"{}\",\n  \"mode\": \"{mode}\",\n  \"documents\": [",
            env!("CARGO_PKG_VERSION")
        )
        .map_err(io("write", &file.path))?;
        Ok(Manifest { file, count: 0 })
    }

    /// Waits until every staged file is on disk, then moves them into place.
    /// Waits until every file written so far is on disk; files written
    /// afterwards are synced by their writer.
    fn sync(&mut self) -> Result<(), BuildError> {
        self.syncer.wait()
    }

    pub(crate) fn commit<'a>(
        mut self,
        names: impl Iterator<Item = &'a str>,
    ) -> Result<(), BuildError> {
        self.syncer.wait()?;
        for name in names {
            let to = self.out.join(name);
            std::fs::rename(self.dir.join(name), &to).map_err(io("move into place", &to))?;
        }
        if let Ok(d) = std::fs::File::open(&self.out) {
            let _ = d.sync_all(); // make the renames durable where the platform allows it
        }
        Ok(())
    }
}

/// A file being written into the staging folder, hashed as it is written.
struct StagedFile {
    w: checksum::HashingWriter<std::io::BufWriter<std::fs::File>>,
    path: PathBuf,
    syncer: Option<SyncHandle>,
}

impl StagedFile {
    /// Flushes the file and hands it to the syncer; returns the SHA-256 of its
    /// bytes (no file is read back).
    fn finish(self) -> Result<String, BuildError> {
        let (w, sha256) = self.w.finish();
        let f = w
            .into_inner()
            .map_err(|e| e.into_error())
            .map_err(io("write", &self.path))?;
        match self.syncer {
            Some(syncer) => syncer.sync(f, self.path)?,
            None => f.sync_all().map_err(io("sync", &self.path))?,
        }
        Ok(sha256)
    }
}

/// Files waiting for the syncer at most; a writer waits when it is this far behind.
const SYNC_BACKLOG: usize = 64;

/// Makes staged files durable (fsync) on a thread of its own, so typesetting
/// workers never wait for the disk: they hand each written file over and go
/// on. [`Syncer::wait`] returns once every file handed over is synced, or
/// with the first file that could not be.
struct Syncer {
    handle: Option<SyncHandle>,
    thread: Option<std::thread::JoinHandle<Result<(), BuildError>>>,
}

/// Where writers hand their files to the [`Syncer`].
#[derive(Clone)]
struct SyncHandle(std::sync::mpsc::SyncSender<(std::fs::File, PathBuf)>);

impl SyncHandle {
    fn sync(&self, file: std::fs::File, path: PathBuf) -> Result<(), BuildError> {
        // The syncer stops only when it is waited for or dropped: then nobody writes.
        self.0.send((file, path)).map_err(|e| {
            let (_, path) = e.0;
            BuildError::Io {
                action: "sync",
                path,
                source: std::io::Error::other("the file syncer has stopped"),
            }
        })
    }
}

impl Syncer {
    fn start() -> std::io::Result<Syncer> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<(std::fs::File, PathBuf)>(SYNC_BACKLOG);
        let thread = std::thread::Builder::new()
            .name("pactum-sync".into())
            .spawn(move || {
                let mut first_error = None;
                for (file, path) in rx {
                    if first_error.is_none()
                        && let Err(e) = file.sync_all()
                    {
                        first_error = Some(io("sync", &path)(e));
                    }
                }
                first_error.map_or(Ok(()), Err)
            })?;
        Ok(Syncer {
            handle: Some(SyncHandle(tx)),
            thread: Some(thread),
        })
    }

    /// Where to hand files over; after [`Syncer::wait`] there is none and
    /// files are synced by their writer.
    fn handle(&self) -> Option<SyncHandle> {
        self.handle.clone()
    }

    /// Waits until every file handed over is synced.
    fn wait(&mut self) -> Result<(), BuildError> {
        self.handle = None; // the last sender is gone once the staged files are closed
        match self.thread.take().map(std::thread::JoinHandle::join) {
            None => Ok(()),
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(BuildError::Io {
                action: "sync",
                path: PathBuf::new(),
                source: std::io::Error::other("the file syncer panicked"),
            }),
        }
    }
}

/// `manifest.json` being written (see [`Staging::manifest`]).
pub(crate) struct Manifest {
    file: StagedFile,
    count: usize,
}

impl Manifest {
    /// One document with its `sources` ([`Project::sources`]), as the
    /// manifest lists it.
    fn entry(d: &Document, sources: Value) -> serde_json::Result<String> {
        let mut v = serde_json::to_value(d)?;
        if let Some(obj) = v.as_object_mut() {
            // What the build did is not what the document is: a rebuild
            // writes the same manifest.
            obj.remove("change");
            obj.remove("why");
            obj.insert("sources".into(), sources);
        }
        Self::text(&v)
    }

    /// A manifest entry as written: pretty JSON indented into the list, so
    /// entries read back (`gather`) are written byte for byte as they were.
    pub(crate) fn text(v: &Value) -> serde_json::Result<String> {
        let text = serde_json::to_string_pretty(v)?;
        let mut out = String::with_capacity(text.len() + text.len() / 8);
        for (k, line) in text.lines().enumerate() {
            if k > 0 {
                out.push('\n');
            }
            out.push_str("    ");
            out.push_str(line);
        }
        Ok(out)
    }

    /// Appends one document's [`Manifest::entry`].
    pub(crate) fn add(&mut self, entry: serde_json::Result<String>) -> Result<(), BuildError> {
        let w = &mut self.file.w;
        let sep: &[u8] = if self.count == 0 { b"\n" } else { b",\n" };
        entry
            .map_err(std::io::Error::from)
            .and_then(|entry| w.write_all(sep).and(w.write_all(entry.as_bytes())))
            .map_err(io("write", &self.file.path))?;
        self.count += 1;
        Ok(())
    }

    /// Closes the list and the file; returns its SHA-256.
    pub(crate) fn finish(mut self) -> Result<String, BuildError> {
        let end: &[u8] = if self.count == 0 {
            b"]\n}\n"
        } else {
            b"\n  ]\n}\n"
        };
        self.file
            .w
            .write_all(end)
            .map_err(io("write", &self.file.path))?;
        self.file.finish()
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Removes staging folders left by builds that were killed (their process is gone).
fn remove_stale_staging(out: &Path) {
    let Ok(entries) = std::fs::read_dir(out) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(Staging::PREFIX) else {
            continue;
        };
        // Only where we can tell that the owner is gone (Linux /proc); elsewhere leave it.
        if Path::new("/proc/self").exists() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names of `n` files, each file holding its own name.
    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("file-{i:03}.txt")).collect()
    }

    #[test]
    fn more_files_than_the_sync_backlog_from_two_writers_are_all_committed() {
        let out = tempfile::tempdir().unwrap();
        let staging = Staging::new(out.path()).unwrap();
        let all = names(3 * SYNC_BACKLOG + 1);
        std::thread::scope(|s| {
            for half in all.chunks(all.len().div_ceil(2)) {
                let staging = &staging;
                s.spawn(move || {
                    for name in half {
                        let sha = staging.write(name, name.as_bytes()).unwrap();
                        assert_eq!(sha, checksum::sha256_hex(name.as_bytes()));
                    }
                });
            }
        });
        staging.commit(all.iter().map(String::as_str)).unwrap();
        for name in &all {
            assert_eq!(
                std::fs::read_to_string(out.path().join(name)).unwrap(),
                *name
            );
        }
        let left: Vec<_> = std::fs::read_dir(out.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().starts_with(Staging::PREFIX))
            .collect();
        assert!(left.is_empty(), "staging folder left behind: {left:?}");
    }

    #[test]
    fn a_file_written_after_the_syncer_finished_is_synced_by_its_writer() {
        let out = tempfile::tempdir().unwrap();
        let mut staging = Staging::new(out.path()).unwrap();
        staging.write("before", b"1").unwrap();
        staging.syncer.wait().unwrap();
        assert!(staging.syncer.handle().is_none());
        staging.write("after", b"2").unwrap();
        staging.commit(["before", "after"].into_iter()).unwrap();
        assert_eq!(std::fs::read(out.path().join("after")).unwrap(), b"2");
    }
}
