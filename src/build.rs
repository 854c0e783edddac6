//! The pipeline: load → validate → number → render → typeset → checksum → write.
//!
//! `Project` holds one run's workspace and records and runs the stages in
//! order, collecting every diagnostic. A batch is all-or-nothing: PDFs are
//! typeset into a private temporary folder inside `--out` and moved into place
//! only when every document succeeded (or, with `--skip-invalid`, the valid
//! ones), so a failed run leaves no partial PDF behind.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::checksum;
use crate::cndate::parse_iso_date;
use crate::diagnostic::{self, Diagnostic, Pos};
use crate::policy::{self, Policy};
use crate::record::{self, Record, RecordKind};
use crate::render::{DocInfo, Inputs, Renderer};
use crate::typeset::{self, Fonts, Typesetter};
use crate::validate::{self, Schemas};
use crate::workspace::{self, Workspace, WorkspaceError};

/// Failures of the environment (exit code 2), as opposed to defects in the input.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The workspace could not be found or read.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
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

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BuildError {
    let path = path.to_path_buf();
    move |source| BuildError::Io {
        action,
        path,
        source,
    }
}

/// What `build` is asked to do, validated before any stage runs.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Folder of YAML records.
    pub records: PathBuf,
    /// Output folder for PDFs and `SHA256SUMS`.
    pub out: PathBuf,
    /// Workspace folder; found from `records` upwards when `None`.
    pub workspace: Option<PathBuf>,
    /// Build the valid records even when others have errors (the run still fails).
    pub skip_invalid: bool,
    /// Treat warnings as errors: a record with a warning is not built and the run fails.
    pub deny_warnings: bool,
}

/// One produced document.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Document {
    /// Record id.
    pub id: String,
    /// Contract number printed on it.
    pub number: String,
    /// File name inside the output folder.
    pub file: String,
    /// SHA-256 of the PDF.
    pub sha256: String,
}

/// The result of a run that could read its inputs: documents and diagnostics.
#[derive(Debug, Default, serde::Serialize)]
pub struct Outcome {
    /// Documents written (empty when the batch failed).
    pub documents: Vec<Document>,
    /// Every problem found, sorted by place.
    pub diagnostics: Vec<Diagnostic>,
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

/// A contract's number and PDF bytes, or the diagnostics that stopped it.
type Produced = Result<(String, Vec<u8>), Vec<Diagnostic>>;

/// One run's workspace and records, with the stages as methods.
pub struct Project {
    /// The located workspace.
    pub workspace: Workspace,
    /// All loaded records.
    pub records: Vec<Record>,
    /// Problems found so far.
    pub diagnostics: Vec<Diagnostic>,
}

impl Project {
    /// Locates the workspace and loads templates' metadata and all records.
    pub fn load(records_dir: &Path, workspace: Option<&Path>) -> Result<Project, BuildError> {
        if !records_dir.is_dir() {
            return Err(BuildError::Io {
                action: "read records folder",
                path: records_dir.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a folder"),
            });
        }
        let root = workspace::locate(records_dir, workspace)?;
        let (workspace, mut diagnostics) = workspace::load(&root)?;
        let loaded = record::load_dir(records_dir).map_err(io("read", records_dir))?;
        diagnostics.extend(loaded.diagnostics);
        Ok(Project {
            workspace,
            records: loaded.records,
            diagnostics,
        })
    }

    /// Validates every record (schemas, then the compliance policy on the
    /// records that passed their schema); returns the ids of contracts that
    /// can be built.
    pub fn validate(&mut self) -> Vec<String> {
        let (schemas, diags) = Schemas::compile(&self.workspace);
        self.diagnostics.extend(diags);
        let fonts = Fonts::get();
        let report = validate::validate(&self.records, &self.workspace, &schemas, &|c| {
            fonts.can_draw(c)
        });
        self.diagnostics.extend(report.diagnostics);
        let mut invalid = report.invalid;
        let (policy, diags) = Policy::load(&self.workspace);
        self.diagnostics.extend(diags);
        match policy {
            Some(policy) => {
                let checked = policy::check(&self.records, &self.workspace, &policy, &invalid);
                self.diagnostics.extend(checked.diagnostics);
                invalid.extend(checked.invalid);
            }
            // Without a valid policy nothing may get a number.
            None => invalid.extend(self.records.iter().map(|r| r.id.clone())),
        }
        validate::propagate_party_errors(&self.records, &mut invalid, &mut self.diagnostics);
        self.records
            .iter()
            .filter(|r| r.kind == RecordKind::Contract && !invalid.contains(&r.id))
            .map(|r| r.id.clone())
            .collect()
    }

    fn record(&self, id: &str) -> Option<&Record> {
        self.records.iter().find(|r| r.id == id)
    }

    /// The number printed on a contract; drafts show the pattern with `DRAFT` for the sequence.
    fn draft_number(&self, r: &Record) -> Option<String> {
        let t = self.workspace.templates.get(r.str_at("/template")?)?;
        let date = parse_iso_date(r.str_at("/signing_date")?)?;
        Some(t.number.draft(chrono::Datelike::year(&date)))
    }

    /// Renders and typesets one contract into PDF bytes, or located diagnostics.
    fn produce(&self, renderer: &Renderer, ts: &Typesetter, id: &str) -> Produced {
        let r = self.record(id).ok_or_else(Vec::new)?;
        let fail = |msg: String| vec![r.diag("", Diagnostic::error("T408", msg))];
        let tname = r.str_at("/template").unwrap_or_default();
        let template = self
            .workspace
            .templates
            .get(tname)
            .ok_or_else(|| fail(format!("unknown template `{tname}`")))?;
        let number = self.draft_number(r).ok_or_else(|| {
            fail("cannot form a number: signing_date is missing or invalid".into())
        })?;
        let party = |field: &str| {
            r.str_at(field)
                .and_then(|pid| self.record(pid))
                .map(|p| &p.value)
                .ok_or_else(|| fail(format!("party in `{field}` not found")))
        };
        let (party_a, party_b) = (party("/party_a")?, party("/party_b")?);
        let parent = match r.str_at("/parent") {
            Some(pid) => {
                let p = self
                    .record(pid)
                    .ok_or_else(|| fail(format!("parent contract `{pid}` not found")))?;
                let n = self
                    .draft_number(p)
                    .ok_or_else(|| fail(format!("parent contract `{pid}` has no number")))?;
                Some((&p.value, n))
            }
            None => None,
        };
        let doc = DocInfo {
            title: &template.title,
            kind: template.kind,
            language: template.language,
            number: &number,
            draft: true,
            template: &template.name,
        };
        let inputs = Inputs {
            contract: &r.value,
            party_a,
            party_b,
            parent: parent.as_ref().map(|(v, n)| (*v, n.as_str())),
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
        let job = typeset::Job {
            template: &template.name,
            markup,
            date,
            ident: &r.id,
        };
        let pdf = ts.pdf(&job).map_err(|problems| {
            problems
                .into_iter()
                .map(|p| {
                    let templates = self.workspace.templates_dir();
                    let mut d = Diagnostic::error("T407", format!("typst: {}", p.message)).record(&r.id);
                    match (&p.file, p.line_col) {
                        (Some(f), Some((line, column))) => {
                            let path = templates.join(f);
                            let text = std::fs::read_to_string(&path).unwrap_or_default();
                            d = d.at(&path, &text, Pos { line, column, width: 1 });
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
                .collect::<Vec<_>>()
        })?;
        Ok((number, pdf))
    }
}

/// Runs `build`: every valid contract becomes `<id>.pdf` in `out`, plus `SHA256SUMS`.
pub fn build(opts: &BuildOptions) -> Result<Outcome, BuildError> {
    let mut project = Project::load(&opts.records, opts.workspace.as_deref())?;
    let mut buildable = project.validate();
    if opts.deny_warnings {
        // A warning is an error now: its record is not built.
        let warned: std::collections::BTreeSet<&str> = project
            .diagnostics
            .iter()
            .filter(|d| d.is_warning())
            .filter_map(|d| d.record.as_deref())
            .collect();
        buildable.retain(|id| !warned.contains(id.as_str()));
    }
    let templates_dir = project.workspace.templates_dir();
    let renderer = match Renderer::new(&templates_dir) {
        Ok(r) => Some(r),
        Err(e) => {
            project.diagnostics.push(
                Diagnostic::error("T405", format!("templates cannot be loaded: {}", e.message))
                    .in_file(&templates_dir),
            );
            None
        }
    };
    let mut outcome = Outcome::default();
    // Valid records are typeset even when others failed, so that one run
    // reports every problem; nothing is moved into place unless allowed.
    if let Some(renderer) = renderer {
        let created_out = !opts.out.exists();
        std::fs::create_dir_all(&opts.out).map_err(io("create", &opts.out))?;
        let staging = Staging::new(&opts.out)?;
        let ts = Typesetter::new(&templates_dir);
        let results: Vec<(String, Produced)> = buildable
            .par_iter()
            .map(|id| (id.clone(), project.produce(&renderer, &ts, id)))
            .collect();
        let mut staged = BTreeMap::new();
        for (id, result) in results {
            match result {
                Ok((number, pdf)) => {
                    let file = format!("{id}.pdf");
                    staging.write(&file, &pdf)?;
                    staged.insert(
                        file.clone(),
                        Document {
                            id,
                            number,
                            file,
                            sha256: checksum::sha256_hex(&pdf),
                        },
                    );
                }
                Err(diags) => project.diagnostics.extend(diags),
            }
        }
        let failed = project
            .diagnostics
            .iter()
            .any(|d| d.is_error() || (opts.deny_warnings && d.is_warning()));
        if !failed || opts.skip_invalid {
            let sums: Vec<(String, String)> = staged
                .values()
                .map(|d| (d.file.clone(), d.sha256.clone()))
                .collect();
            staging.write("SHA256SUMS", checksum::sha256sums(&sums).as_bytes())?;
            staging.commit(staged.keys().map(String::as_str).chain(["SHA256SUMS"]))?;
            outcome.documents = staged.into_values().collect();
        } else {
            drop(staging);
            if created_out {
                // Leave no trace of a failed run: the folder did not exist before.
                let _ = std::fs::remove_dir(&opts.out);
            }
        }
    }
    outcome.diagnostics = project.diagnostics;
    diagnostic::sort(&mut outcome.diagnostics);
    Ok(outcome)
}

/// A private folder inside the output folder; files are fsynced there and
/// renamed into place on commit. Dropped without commit, it is removed.
struct Staging {
    dir: PathBuf,
    out: PathBuf,
}

impl Staging {
    fn new(out: &Path) -> Result<Staging, BuildError> {
        let dir = out.join(format!(".pactum-staging-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io("clean", &dir))?;
        }
        std::fs::create_dir(&dir).map_err(io("create", &dir))?;
        Ok(Staging {
            dir,
            out: out.to_path_buf(),
        })
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), BuildError> {
        let path = self.dir.join(name);
        let mut f = std::fs::File::create(&path).map_err(io("create", &path))?;
        f.write_all(bytes).map_err(io("write", &path))?;
        f.sync_all().map_err(io("sync", &path))?;
        Ok(())
    }

    fn commit<'a>(self, names: impl Iterator<Item = &'a str>) -> Result<(), BuildError> {
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

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
