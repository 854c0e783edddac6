//! The workspace: the folder holding `templates/` and `schemas/`.
//!
//! Finds it (from the records directory upwards, or as given), reads each
//! template's `template.toml` and the workspace's settings (`.pactum.toml`,
//! through `config`), and knows where schema files are. It reads files; it
//! does not parse templates, run schemas or typeset.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::{self, Config, ConfigError};
use crate::diagnostic::{Diagnostic, Pos};
use crate::number::NumberPattern;

/// Failures to find or read the workspace (environment errors, exit 2).
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// No `templates/` + `schemas/` pair above the records directory.
    #[error(
        "no workspace found above {0} (looked for a folder holding both `templates/` and `schemas/`; pass --workspace DIR)"
    )]
    NotFound(PathBuf),
    /// A given workspace lacks a required folder.
    #[error("{0} is not a workspace (it has no `templates/` or no `schemas/` folder)")]
    NotAWorkspace(PathBuf),
    /// Reading a file or folder failed.
    #[error("failed to read {path} ({source})")]
    Io {
        /// What was being read.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// `.pactum.toml` cannot be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Whether a document type is a contract or an agreement (affects wording only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DocKind {
    /// 合同 / contract.
    Contract,
    /// 协议 / agreement.
    Agreement,
}

/// The language a template writes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Simplified Chinese.
    Zh,
    /// English.
    En,
}

/// `template.toml` as written by a template author.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateToml {
    title: String,
    kind: DocKind,
    schema: String,
    language: Language,
    number: String,
    #[serde(default)]
    parent_template: Option<String>,
}

/// One document type: `templates/<name>/`.
#[derive(Debug, Clone)]
pub struct Template {
    /// Folder name, the value of a record's `template` field.
    pub name: String,
    /// Document title, e.g. 服务合同.
    pub title: String,
    /// Contract or agreement.
    pub kind: DocKind,
    /// Schema file name inside `schemas/`.
    pub schema: String,
    /// Language of the text.
    pub language: Language,
    /// Contract number pattern.
    pub number: NumberPattern,
    /// For supplementary agreements: the template their parent must use (if restricted).
    pub parent_template: Option<String>,
    /// The template folder.
    pub dir: PathBuf,
}

/// The folder under `templates/` that typesetting serves from memory (the
/// plain paragraphs of the generated markup, see `typeset::split_plain`); a
/// real folder by that name would be shadowed, so it is an error (`T433`).
pub const CHUNKS_FOLDER: &str = "_chunks";

/// A located workspace with its document types.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The workspace folder.
    pub root: PathBuf,
    /// Document types by name (sorted).
    pub templates: BTreeMap<String, Template>,
    /// The settings of `.pactum.toml` (or their defaults).
    pub config: Config,
}

impl Workspace {
    /// `root/templates`.
    pub fn templates_dir(&self) -> PathBuf {
        self.join("templates")
    }

    /// `root/schemas`.
    pub fn schemas_dir(&self) -> PathBuf {
        self.join("schemas")
    }

    fn join(&self, name: &str) -> PathBuf {
        sub(&self.root, name)
    }
}

/// Finds the workspace: `given` if set, else the first folder from `start` upwards
/// that holds both `templates/` and `schemas/`.
pub fn locate(start: &Path, given: Option<&Path>) -> Result<PathBuf, WorkspaceError> {
    let is_ws = |p: &Path| p.join("templates").is_dir() && p.join("schemas").is_dir();
    if let Some(g) = given {
        return if is_ws(g) {
            Ok(g.to_path_buf())
        } else {
            Err(WorkspaceError::NotAWorkspace(g.to_path_buf()))
        };
    }
    let abs = std::path::absolute(start).map_err(|source| WorkspaceError::Io {
        path: start.to_path_buf(),
        source,
    })?;
    // Walk the relative path first so diagnostics keep short relative paths.
    let mut rel = Some(start.to_path_buf());
    let mut cur = Some(abs.as_path());
    while let Some(dir) = cur {
        if is_ws(dir) {
            return Ok(match rel {
                Some(r) if is_ws(&r) => normalize(&r),
                _ => dir.to_path_buf(),
            });
        }
        cur = dir.parent();
        rel = rel.map(|r| r.join(".."));
    }
    Err(WorkspaceError::NotFound(start.to_path_buf()))
}

/// `root/name`, without a leading `./` when the workspace is the current
/// folder. Every path into the workspace is made with it, so template folders
/// and `templates_dir()` always share their prefix (hashes use paths relative to it).
fn sub(root: &Path, name: &str) -> PathBuf {
    if root == Path::new(".") {
        PathBuf::from(name)
    } else {
        root.join(name)
    }
}

/// `samples/..` → `.`, `a/b/../..` → `.`: the relative workspace path without
/// `..` steps back into folders it came from, so diagnostics and CI
/// annotations show `templates/x/main.typ.tera`, not `samples/../templates/…`.
/// Lexical, but only ever applied to a path built as `start/..(/..)*` that was
/// just checked to be the workspace.
fn normalize(p: &Path) -> PathBuf {
    let mut out: Vec<std::path::Component> = Vec::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir
                if matches!(out.last(), Some(std::path::Component::Normal(_))) =>
            {
                out.pop();
            }
            c => out.push(c),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}

/// The settings of the workspace at `root` (see [`load`]), for commands that
/// need no more of it than that.
pub fn config(root: &Path) -> Result<Config, WorkspaceError> {
    Ok(load(root)?.0.config)
}

/// Reads every `templates/<name>/template.toml`; problems in them are
/// diagnostics. Then `.pactum.toml`, which is refused as a whole when it is
/// wrong (its default zone depends on the templates' language).
pub fn load(root: &Path) -> Result<(Workspace, Vec<Diagnostic>), WorkspaceError> {
    let tdir = sub(root, "templates");
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WorkspaceError::Io { path, source }
    };
    let mut names: Vec<PathBuf> = Vec::new();
    for e in std::fs::read_dir(&tdir).map_err(io(&tdir))? {
        let e = e.map_err(io(&tdir))?;
        if e.path().join("template.toml").is_file() {
            names.push(e.path());
        }
    }
    names.sort();
    let mut templates = BTreeMap::new();
    let mut diags = Vec::new();
    for dir in names {
        let Some(name) = dir.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            continue;
        };
        let toml_path = dir.join("template.toml");
        let text = std::fs::read_to_string(&toml_path).map_err(io(&toml_path))?;
        let at = |span: Option<std::ops::Range<usize>>| {
            let offset = span.map(|s| s.start).unwrap_or(0);
            let before = &text[..offset.min(text.len())];
            Pos {
                line: before.matches('\n').count() + 1,
                column: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
                width: 1,
            }
        };
        let meta: TemplateToml = match toml::from_str(&text) {
            Ok(m) => m,
            Err(e) => {
                diags.push(
                    Diagnostic::error("T401", format!("invalid template.toml: {}", e.message()))
                        .at(&toml_path, &text, at(e.span())),
                );
                continue;
            }
        };
        let number = match NumberPattern::parse(&meta.number) {
            Ok(n) => n,
            Err(e) => {
                let offset = text.find("number").map(|s| s..s + 1);
                diags.push(
                    Diagnostic::error(
                        "T402",
                        format!("invalid number pattern `{}`: {e}", meta.number),
                    )
                    .at(&toml_path, &text, at(offset))
                    .hint("a pattern looks like `FW-{year}-{seq:04}`"),
                );
                continue;
            }
        };
        if !dir.join("main.typ.tera").is_file() {
            diags.push(
                Diagnostic::error("T403", format!("template `{name}` has no main.typ.tera"))
                    .in_file(&toml_path),
            );
            continue;
        }
        if !sub(root, "schemas").join(&meta.schema).is_file() {
            let offset = text.find("schema").map(|s| s..s + 1);
            diags.push(
                Diagnostic::error(
                    "T404",
                    format!("schema file `schemas/{}` does not exist", meta.schema),
                )
                .at(&toml_path, &text, at(offset)),
            );
            continue;
        }
        templates.insert(
            name.clone(),
            Template {
                name,
                title: meta.title,
                kind: meta.kind,
                schema: meta.schema,
                language: meta.language,
                number,
                parent_template: meta.parent_template,
                dir,
            },
        );
    }
    let reserved = tdir.join(CHUNKS_FOLDER);
    if reserved.exists() {
        diags.push(
            Diagnostic::error(
                "T433",
                format!("`templates/{CHUNKS_FOLDER}` is a reserved name: pactum serves files of its own under it while typesetting, so typst would never read what is there"),
            )
            .in_file(&reserved)
            .hint("rename it; shared typst code belongs in templates/_lib"),
        );
    }
    let writes_chinese = templates.values().any(|t| t.language == Language::Zh);
    let config = config::load(root, writes_chinese)?;
    Ok((
        Workspace {
            root: root.to_path_buf(),
            templates,
            config,
        },
        diags,
    ))
}
