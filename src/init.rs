//! `pactum init DIR`: a new workspace, ready to build: the shipped document
//! types (templates, clause library, shared typst), their schemas and the
//! compliance policy, example records, and the embedded fonts with their
//! licences (for `--emit-typst` reproductions; pactum itself reads fonts
//! from the binary). Everything comes from the binary, not from a source tree.

use std::path::{Path, PathBuf};

/// Files of a new workspace: path inside it, and content (compiled in from
/// this repository; the example records are `samples/` under `records/`).
static FILES: &[(&str, &[u8])] = &[
    (
        "schemas/msa-en.schema.json",
        include_bytes!("../schemas/msa-en.schema.json"),
    ),
    (
        "schemas/nda-zh.schema.json",
        include_bytes!("../schemas/nda-zh.schema.json"),
    ),
    (
        "schemas/party.schema.json",
        include_bytes!("../schemas/party.schema.json"),
    ),
    (
        "schemas/policy.yaml",
        include_bytes!("../schemas/policy.yaml"),
    ),
    (
        "schemas/service-zh.schema.json",
        include_bytes!("../schemas/service-zh.schema.json"),
    ),
    (
        "schemas/supplement-zh.schema.json",
        include_bytes!("../schemas/supplement-zh.schema.json"),
    ),
    (
        "templates/_handover/main.typ.tera",
        include_bytes!("../templates/_handover/main.typ.tera"),
    ),
    (
        "templates/_lib/contract.typ",
        include_bytes!("../templates/_lib/contract.typ"),
    ),
    (
        "templates/clauses/en/confidentiality.typ.tera",
        include_bytes!("../templates/clauses/en/confidentiality.typ.tera"),
    ),
    (
        "templates/clauses/en/dispute.typ.tera",
        include_bytes!("../templates/clauses/en/dispute.typ.tera"),
    ),
    (
        "templates/clauses/en/force-majeure.typ.tera",
        include_bytes!("../templates/clauses/en/force-majeure.typ.tera"),
    ),
    (
        "templates/clauses/en/general.typ.tera",
        include_bytes!("../templates/clauses/en/general.typ.tera"),
    ),
    (
        "templates/clauses/en/liability.typ.tera",
        include_bytes!("../templates/clauses/en/liability.typ.tera"),
    ),
    (
        "templates/clauses/en/money.typ.tera",
        include_bytes!("../templates/clauses/en/money.typ.tera"),
    ),
    (
        "templates/clauses/en/notices.typ.tera",
        include_bytes!("../templates/clauses/en/notices.typ.tera"),
    ),
    (
        "templates/clauses/en/party.typ.tera",
        include_bytes!("../templates/clauses/en/party.typ.tera"),
    ),
    (
        "templates/clauses/zh/breach.typ.tera",
        include_bytes!("../templates/clauses/zh/breach.typ.tera"),
    ),
    (
        "templates/clauses/zh/confidentiality.typ.tera",
        include_bytes!("../templates/clauses/zh/confidentiality.typ.tera"),
    ),
    (
        "templates/clauses/zh/dispute.typ.tera",
        include_bytes!("../templates/clauses/zh/dispute.typ.tera"),
    ),
    (
        "templates/clauses/zh/force-majeure.typ.tera",
        include_bytes!("../templates/clauses/zh/force-majeure.typ.tera"),
    ),
    (
        "templates/clauses/zh/general.typ.tera",
        include_bytes!("../templates/clauses/zh/general.typ.tera"),
    ),
    (
        "templates/clauses/zh/notices.typ.tera",
        include_bytes!("../templates/clauses/zh/notices.typ.tera"),
    ),
    (
        "templates/clauses/zh/party.typ.tera",
        include_bytes!("../templates/clauses/zh/party.typ.tera"),
    ),
    (
        "templates/fonts/OFL-LibertinusSerif.txt",
        include_bytes!("../templates/fonts/OFL-LibertinusSerif.txt"),
    ),
    (
        "templates/fonts/OFL-NotoSansCJKsc.txt",
        include_bytes!("../templates/fonts/OFL-NotoSansCJKsc.txt"),
    ),
    (
        "templates/fonts/OFL-NotoSerifSC.txt",
        include_bytes!("../templates/fonts/OFL-NotoSerifSC.txt"),
    ),
    (
        "templates/msa-en/main.typ.tera",
        include_bytes!("../templates/msa-en/main.typ.tera"),
    ),
    (
        "templates/msa-en/template.toml",
        include_bytes!("../templates/msa-en/template.toml"),
    ),
    (
        "templates/nda-zh/main.typ.tera",
        include_bytes!("../templates/nda-zh/main.typ.tera"),
    ),
    (
        "templates/nda-zh/template.toml",
        include_bytes!("../templates/nda-zh/template.toml"),
    ),
    (
        "templates/service-zh/main.typ.tera",
        include_bytes!("../templates/service-zh/main.typ.tera"),
    ),
    (
        "templates/service-zh/template.toml",
        include_bytes!("../templates/service-zh/template.toml"),
    ),
    (
        "templates/supplement-zh/main.typ.tera",
        include_bytes!("../templates/supplement-zh/main.typ.tera"),
    ),
    (
        "templates/supplement-zh/template.toml",
        include_bytes!("../templates/supplement-zh/template.toml"),
    ),
    (
        "records/contracts/bm-2026-001.yaml",
        include_bytes!("../samples/contracts/bm-2026-001.yaml"),
    ),
    (
        "records/contracts/bm-2026-002.yaml",
        include_bytes!("../samples/contracts/bm-2026-002.yaml"),
    ),
    (
        "records/contracts/fw-2025-007.yaml",
        include_bytes!("../samples/contracts/fw-2025-007.yaml"),
    ),
    (
        "records/contracts/fw-2025-011.yaml",
        include_bytes!("../samples/contracts/fw-2025-011.yaml"),
    ),
    (
        "records/contracts/fw-2026-001.yaml",
        include_bytes!("../samples/contracts/fw-2026-001.yaml"),
    ),
    (
        "records/contracts/fw-2026-002.yaml",
        include_bytes!("../samples/contracts/fw-2026-002.yaml"),
    ),
    (
        "records/contracts/fw-2026-003.yaml",
        include_bytes!("../samples/contracts/fw-2026-003.yaml"),
    ),
    (
        "records/contracts/fw-2026-004.yaml",
        include_bytes!("../samples/contracts/fw-2026-004.yaml"),
    ),
    (
        "records/contracts/fw-2026-005.yaml",
        include_bytes!("../samples/contracts/fw-2026-005.yaml"),
    ),
    (
        "records/contracts/msa-2026-001.yaml",
        include_bytes!("../samples/contracts/msa-2026-001.yaml"),
    ),
    (
        "records/contracts/msa-2026-002.yaml",
        include_bytes!("../samples/contracts/msa-2026-002.yaml"),
    ),
    (
        "records/contracts/supplements-2026.yaml",
        include_bytes!("../samples/contracts/supplements-2026.yaml"),
    ),
    (
        "records/parties/central-china.yaml",
        include_bytes!("../samples/parties/central-china.yaml"),
    ),
    (
        "records/parties/jinlan-consulting.yaml",
        include_bytes!("../samples/parties/jinlan-consulting.yaml"),
    ),
    (
        "records/parties/lanchuan-it.yaml",
        include_bytes!("../samples/parties/lanchuan-it.yaml"),
    ),
    (
        "records/parties/pengyu-systems.yaml",
        include_bytes!("../samples/parties/pengyu-systems.yaml"),
    ),
    (
        "records/parties/xiling-software.yaml",
        include_bytes!("../samples/parties/xiling-software.yaml"),
    ),
    (
        "records/parties/yunxiu-data.yaml",
        include_bytes!("../samples/parties/yunxiu-data.yaml"),
    ),
    (
        "records/parties/zhao-shuhua.yaml",
        include_bytes!("../samples/parties/zhao-shuhua.yaml"),
    ),
];

/// The `.gitignore` of a new workspace: what pactum writes that is rebuilt
/// from the records (build outputs, the `check` cache, SQLite's transient
/// journal files) and the copies of the fonts the binary carries. The
/// register (`.pactum/register.sqlite`) and the handover log
/// (`.pactum/handover.jsonl`) are deliberately not ignored: they are the only
/// durable state, the record of every number issued and every handover, and
/// an ignored file is one `git clean -X` away from being deleted.
pub const GITIGNORE: &[&str] = &[
    "/out/",
    "/.pactum/check-cache/",
    "/.pactum/*-journal",
    "/.pactum/*-wal",
    "/.pactum/*-shm",
    "/templates/fonts/",
];

/// The comment above [`GITIGNORE`]'s lines.
const GITIGNORE_HEADER: &str = "# pactum: outputs, caches and the font copies (rebuilt or shipped in the binary).\n\
# Not ignored on purpose: .pactum/register.sqlite (the number register) and\n\
# .pactum/handover.jsonl (the handover log) are the workspace's durable state.\n";

/// What `init` did to the workspace's `.gitignore`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gitignore {
    /// There was none; pactum wrote one.
    Created,
    /// There was one; pactum appended this many missing lines.
    Appended(usize),
    /// There was one that already had every line.
    Unchanged,
}

/// What `init` wrote.
#[derive(Debug, Clone, Copy)]
pub struct Initialized {
    /// Files of the workspace written (templates, schemas, records, fonts).
    pub files: usize,
    /// What happened to `.gitignore`.
    pub gitignore: Gitignore,
}

/// Why a workspace could not be made.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The target exists and holds something.
    #[error(
        "{0} already exists and holds files; pactum init only writes into a new folder or one with nothing but hidden entries (such as .git)"
    )]
    NotEmpty(PathBuf),
    /// Reading or writing failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// Where.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> InitError {
    let path = path.to_path_buf();
    move |source| InitError::Io {
        action,
        path,
        source,
    }
}

/// The bytes of a shipped file by its path in a new workspace (e.g.
/// `records/contracts/fw-2026-003.yaml`), if there is one.
pub(crate) fn shipped(path: &str) -> Option<&'static [u8]> {
    FILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, data)| *data)
}

/// Every file of a new workspace: [`FILES`] and the embedded fonts.
fn files() -> impl Iterator<Item = (String, &'static [u8])> {
    let fonts = crate::typeset::FONT_FILES
        .iter()
        .map(|(name, data)| (format!("templates/fonts/{name}"), *data));
    FILES
        .iter()
        .map(|(path, data)| ((*path).to_owned(), *data))
        .chain(fonts)
}

/// Writes a new workspace into `dir` and says what it wrote.
/// `dir` must not exist, or hold only hidden entries (such as `.git`). All or
/// nothing: the files are written into a hidden staging folder first, and
/// renamed into place at the end. An existing `.gitignore` is kept and only
/// gets the lines of [`GITIGNORE`] it lacks.
pub fn init(dir: &Path) -> Result<Initialized, InitError> {
    if dir.exists() {
        let entries = std::fs::read_dir(dir).map_err(|_| InitError::NotEmpty(dir.to_path_buf()))?;
        let visible = entries
            .flatten()
            .any(|e| !e.file_name().to_string_lossy().starts_with('.'));
        if visible {
            return Err(InitError::NotEmpty(dir.to_path_buf()));
        }
        // Stage inside the folder, then move the top-level entries out.
        let staging = dir.join(format!(".pactum-init-{}", std::process::id()));
        let result = write_all(&staging).and_then(|n| move_out(&staging, dir).map(|()| n));
        let _ = std::fs::remove_dir_all(&staging);
        let files = result?;
        let gitignore = merge_gitignore(dir)?;
        return Ok(Initialized { files, gitignore });
    }
    let files = write_new_folder(
        dir,
        "pactum-init",
        |action, path, e| io(action, path)(e),
        |staging| {
            let n = write_all(staging)?;
            let path = staging.join(".gitignore");
            std::fs::write(&path, gitignore_text(&[])).map_err(io("write", &path))?;
            Ok(n)
        },
    )?;
    Ok(Initialized {
        files,
        gitignore: Gitignore::Created,
    })
}

/// The lines of [`GITIGNORE`] that `existing` lacks, under the header (empty when none).
fn gitignore_text(existing: &[&str]) -> String {
    let missing: Vec<&&str> = GITIGNORE.iter().filter(|l| !existing.contains(l)).collect();
    if missing.is_empty() {
        return String::new();
    }
    let mut text = GITIGNORE_HEADER.to_owned();
    for l in missing {
        text.push_str(l);
        text.push('\n');
    }
    text
}

/// Writes `dir/.gitignore`, or appends to an existing one the lines it lacks
/// (through a temporary file renamed over it, so it is never half-written).
fn merge_gitignore(dir: &Path) -> Result<Gitignore, InitError> {
    let path = dir.join(".gitignore");
    let old = match std::fs::read_to_string(&path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io("read", &path)(e)),
    };
    let lines: Vec<&str> = old
        .as_deref()
        .unwrap_or("")
        .lines()
        .map(str::trim)
        .collect();
    let added = gitignore_text(&lines);
    if added.is_empty() {
        return Ok(Gitignore::Unchanged);
    }
    let mut text = old.clone().unwrap_or_default();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(&added);
    let tmp = dir.join(format!(".gitignore.pactum-init-{}", std::process::id()));
    std::fs::write(&tmp, text).map_err(io("write", &tmp))?;
    std::fs::rename(&tmp, &path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io("write", &path)(e)
    })?;
    Ok(match old {
        None => Gitignore::Created,
        Some(_) => Gitignore::Appended(added.lines().filter(|l| !l.starts_with('#')).count()),
    })
}

/// Writes the new folder `dir` (which does not exist, or is empty) all at
/// once: `write` fills a hidden staging folder beside it, `.<name>.<tag>-<pid>`,
/// which is then renamed to `dir`; on any failure the staging folder is
/// removed and `dir` is left as it was. `io_error` turns a failed file
/// operation (what was being done, where) into the caller's error.
pub(crate) fn write_new_folder<T, E>(
    dir: &Path,
    tag: &str,
    io_error: impl Fn(&'static str, &Path, std::io::Error) -> E,
    write: impl FnOnce(&Path) -> Result<T, E>,
) -> Result<T, E> {
    let name = dir
        .file_name()
        .map_or_else(|| "new".into(), |n| n.to_string_lossy().into_owned());
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent).map_err(|e| io_error("create", parent, e))?;
    let staging = parent.join(format!(".{name}.{tag}-{}", std::process::id()));
    let result = write(&staging).and_then(|t| {
        std::fs::rename(&staging, dir).map_err(|e| io_error("move into place", dir, e))?;
        Ok(t)
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

/// The top-level folders of a new workspace.
const TOP_LEVEL: &[&str] = &["templates", "schemas", "records"];

/// Moves the [`TOP_LEVEL`] folders from `staging` into `dir`, one rename
/// each; if one fails, those already moved are moved back, so that `dir` is
/// left as it was.
fn move_out(staging: &Path, dir: &Path) -> Result<(), InitError> {
    for (k, top) in TOP_LEVEL.iter().enumerate() {
        let to = dir.join(top);
        if let Err(e) = std::fs::rename(staging.join(top), &to) {
            for back in &TOP_LEVEL[..k] {
                let _ = std::fs::rename(dir.join(back), staging.join(back));
            }
            return Err(io("move into place", &to)(e));
        }
    }
    Ok(())
}

fn write_all(root: &Path) -> Result<usize, InitError> {
    let mut n = 0;
    for (rel, data) in files() {
        let path = root.join(&rel);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(io("create", p))?;
        }
        std::fs::write(&path, data).map_err(io("write", &path))?;
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Files under `dir` of this repository, as paths relative to it.
    fn repo_files(dir: &str) -> BTreeSet<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        walkdir::WalkDir::new(root.join(dir))
            .into_iter()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                e.path()
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    }

    #[test]
    fn a_new_workspace_has_every_shipped_template_schema_font_and_sample_record() {
        let mut expected = repo_files("templates");
        expected.extend(repo_files("schemas"));
        for dir in ["samples/parties", "samples/contracts"] {
            expected.extend(
                repo_files(dir)
                    .into_iter()
                    .map(|p| p.replacen("samples/", "records/", 1)),
            );
        }
        let listed: BTreeSet<String> = files().map(|(p, _)| p).collect();
        let tops: BTreeSet<&str> = listed.iter().filter_map(|p| p.split('/').next()).collect();
        assert_eq!(tops, TOP_LEVEL.iter().copied().collect());
        assert_eq!(
            listed, expected,
            "src/init.rs lists other files than the repository has"
        );
        assert_eq!(listed.len(), files().count(), "a file is listed twice");
    }

    #[test]
    fn a_failed_move_puts_back_the_folders_already_moved() {
        let tmp = tempfile::tempdir().unwrap();
        let staging = tmp.path().join("staging");
        let dir = tmp.path().join("ws");
        for top in TOP_LEVEL {
            std::fs::create_dir_all(staging.join(top)).unwrap();
            std::fs::write(staging.join(top).join("f"), top).unwrap();
        }
        // `schemas` appears in the target meanwhile, holding a file: the
        // second rename fails.
        std::fs::create_dir_all(dir.join("schemas")).unwrap();
        std::fs::write(dir.join("schemas/mine"), "x").unwrap();
        let err = move_out(&staging, &dir).unwrap_err();
        assert!(err.to_string().contains("move into place"), "{err}");
        assert!(!dir.join("templates").exists(), "templates left behind");
        assert_eq!(
            std::fs::read_to_string(staging.join("templates/f")).unwrap(),
            "templates"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("schemas/mine")).unwrap(),
            "x"
        );
        assert!(!dir.join("records").exists());

        // Without the obstacle, all three move.
        std::fs::remove_dir_all(dir.join("schemas")).unwrap();
        move_out(&staging, &dir).unwrap();
        for top in TOP_LEVEL {
            assert_eq!(
                std::fs::read_to_string(dir.join(top).join("f")).unwrap(),
                *top
            );
        }
    }
}
