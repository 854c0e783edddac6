//! `pactum new TEMPLATE`: a record skeleton written from the template's JSON
//! Schema, for an author to fill in.
//!
//! The skeleton opens with the `yaml-language-server` schema line, then has
//! every field the schema requires (and every field the compliance policy
//! requires of this template, e.g. `confidentiality`) with the placeholder
//! `<fill in>`, and the optional fields commented out; each field is preceded
//! by its schema description and, for an enumeration, the allowed values.
//! `const` fields (`kind`, `template`) are written with their value. The
//! schema is read as plain JSON (see `placeholder`); nothing here validates,
//! and the output never depends on anything but the workspace's files and
//! the arguments. Writing is all or nothing and never replaces a file.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use crate::placeholder::{self, PLACEHOLDER};
use crate::policy::Policy;
use crate::record::valid_id;
use crate::workspace::{self, Workspace, WorkspaceError};

/// Why no skeleton was written (all exit 2).
#[derive(Debug, thiserror::Error)]
pub enum NewError {
    /// The workspace could not be found or read.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// No template of that name.
    #[error("unknown template `{name}`; templates in this workspace: {known}")]
    UnknownTemplate {
        /// The name asked for.
        name: String,
        /// The workspace's templates, comma-separated.
        known: String,
    },
    /// `--id` is not a valid record id.
    #[error(
        "invalid id `{0}` (ids start with a lowercase letter or digit and use only a-z, 0-9, `.`, `_`, `-`)"
    )]
    InvalidId(String),
    /// The template's schema cannot be read.
    #[error("failed to read schema {path} ({reason})")]
    Schema {
        /// The schema file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// `--out` names a file that exists.
    #[error(
        "{0} already exists; pactum new never replaces a file (choose another --out, or delete it)"
    )]
    Exists(PathBuf),
    /// Writing failed.
    #[error("failed to {action} {path} ({source})")]
    Io {
        /// What was being done.
        action: &'static str,
        /// Where.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// What `pactum new` was asked for, checked.
#[derive(Debug, Clone)]
pub struct NewOptions {
    /// The template's name (a folder under templates/).
    pub template: String,
    /// The record id; `None` writes the placeholder.
    pub id: Option<String>,
    /// The file to write; `None` for stdout.
    pub out: Option<PathBuf>,
    /// The workspace folder; `None` to search from the output folder upwards, then from the current one.
    pub workspace: Option<PathBuf>,
}

/// Builds the skeleton text for `opts` (nothing is written).
pub fn render(opts: &NewOptions) -> Result<String, NewError> {
    if let Some(id) = &opts.id
        && !valid_id(id)
    {
        return Err(NewError::InvalidId(id.clone()));
    }
    let out_dir = match opts.out.as_deref().map(Path::parent) {
        Some(Some(p)) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let start = if out_dir.is_dir() {
        out_dir.clone()
    } else {
        PathBuf::from(".")
    };
    let root = match (
        workspace::locate(&start, opts.workspace.as_deref()),
        &opts.workspace,
    ) {
        (Err(_), None) => workspace::locate(Path::new("."), None)?,
        (found, _) => found?,
    };
    let (ws, _) = workspace::load(&root)?;
    let Some(template) = ws.templates.get(&opts.template) else {
        return Err(NewError::UnknownTemplate {
            name: opts.template.clone(),
            known: ws.templates.keys().cloned().collect::<Vec<_>>().join(", "),
        });
    };
    let path = ws.schemas_dir().join(&template.schema);
    let schema: Value = std::fs::read_to_string(&path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
        .map_err(|reason| NewError::Schema {
            path: path.clone(),
            reason,
        })?;
    let line = format!(
        "# yaml-language-server: $schema={}\n",
        relative(&out_dir, &path)
    );
    Ok(line
        + &skeleton(
            &schema,
            &policy_fields(&ws, &opts.template),
            opts.id.as_deref(),
        ))
}

/// Writes the skeleton for `opts` to its `--out` file (or returns it for stdout).
/// The file appears whole or not at all, and an existing file is never replaced.
pub fn new(opts: &NewOptions) -> Result<Option<String>, NewError> {
    let text = render(opts)?;
    let Some(out) = &opts.out else {
        return Ok(Some(text));
    };
    if out.exists() {
        return Err(NewError::Exists(out.clone()));
    }
    write_new(out, text.as_bytes())?;
    Ok(None)
}

/// Writes `bytes` to a temporary file beside `out`, then links it into place,
/// which fails rather than replace a file that appeared meanwhile.
fn write_new(out: &Path, bytes: &[u8]) -> Result<(), NewError> {
    let io = |action: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| NewError::Io {
            action,
            path,
            source,
        }
    };
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(io("create", dir))?;
    let name = out
        .file_name()
        .map_or_else(|| "record".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.pactum-new-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp).map_err(io("write", &tmp))?;
        f.write_all(bytes).map_err(io("write", &tmp))?;
        f.sync_all().map_err(io("write", &tmp))?;
        match std::fs::hard_link(&tmp, out) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(NewError::Exists(out.to_path_buf()))
            }
            // A file system without hard links: rename (the check above stands).
            Err(_) => std::fs::rename(&tmp, out).map_err(io("move into place", out)),
        }
    })();
    let _ = std::fs::remove_file(&tmp);
    result
}

/// Top-level fields the policy requires of `template`'s contracts (the
/// confidentiality level and the fields of its required clauses): the
/// skeleton asks for them as if the schema did, so a filled-in skeleton
/// passes the policy too.
fn policy_fields(ws: &Workspace, template: &str) -> BTreeSet<String> {
    let (Some(policy), _) = Policy::load(ws) else {
        return BTreeSet::new();
    };
    let mut fields = BTreeSet::from(["confidentiality".to_owned()]);
    for clause in policy.required_clauses.get(template).into_iter().flatten() {
        if let Some(c) = policy.clauses.get(clause) {
            fields.extend(c.fields.iter().cloned());
        }
    }
    fields
}

/// `target` relative to the folder `from`, with `/` separators (for the schema line).
fn relative(from: &Path, target: &Path) -> String {
    let abs = |p: &Path| {
        std::fs::canonicalize(p).unwrap_or_else(|_| {
            std::env::current_dir()
                .map(|cwd| cwd.join(p))
                .unwrap_or_else(|_| p.to_path_buf())
        })
    };
    let (from, target) = (abs(from), abs(target));
    let a: Vec<Component> = from.components().collect();
    let b: Vec<Component> = target.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = vec!["..".to_owned(); a.len() - common];
    parts.extend(
        b[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

/// The skeleton's YAML for a record checked against `schema` (without the schema line).
pub fn skeleton(schema: &Value, also_required: &BTreeSet<String>, id: Option<&str>) -> String {
    let mut w = Writer {
        root: schema,
        out: String::new(),
    };
    if let Some(d) = schema.get("description").and_then(Value::as_str) {
        w.line(0, true, &d.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    w.object(schema, 0, false, also_required, id, false);
    w.out
}

struct Writer<'a> {
    root: &'a Value,
    out: String,
}

impl<'a> Writer<'a> {
    /// One line at `indent`, commented out when `commented`.
    fn line(&mut self, indent: usize, commented: bool, text: &str) {
        if commented {
            self.out
                .push_str(&format!("{}# {text}\n", " ".repeat(indent)));
        } else {
            self.out
                .push_str(&format!("{}{text}\n", " ".repeat(indent)));
        }
    }

    /// The comment above a field: description, allowed values, conditions.
    fn comment(&mut self, indent: usize, node: &Value, conditions: &[String]) {
        let mut parts = Vec::new();
        if let Some(d) = placeholder::description(self.root, node) {
            parts.push(d.split_whitespace().collect::<Vec<_>>().join(" "));
        }
        let values = placeholder::allowed(self.root, node);
        if !values.is_empty() {
            parts.push(format!("One of: {}.", values.join(" | ")));
        }
        if !conditions.is_empty() {
            parts.push(format!("Required when {}.", conditions.join(", or when ")));
        }
        if !parts.is_empty() {
            self.out
                .push_str(&format!("{}# {}\n", " ".repeat(indent), parts.join(" ")));
        }
    }

    /// The fields of an object schema at `indent`. A list item (`item`)
    /// starts with `- ` on its first field's line, and its required fields
    /// come first, so that the `- ` is never inside a commented-out line.
    fn object(
        &mut self,
        node: &'a Value,
        indent: usize,
        commented: bool,
        also_required: &BTreeSet<String>,
        id: Option<&str>,
        item: bool,
    ) {
        let node = placeholder::resolve(self.root, node);
        let Some(props) = node.get("properties").and_then(Value::as_object) else {
            return;
        };
        let listed: BTreeSet<&str> = node
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let required = |k: &str| listed.contains(k) || also_required.contains(k);
        let conditions = conditional_requirements(node);
        let any_required = props.keys().any(|k| required(k));
        let mut fields: Vec<(&String, &'a Value)> = props.iter().collect();
        if item {
            fields.sort_by_key(|(k, _)| !required(k)); // stable: schema order otherwise
        }
        let field_indent = if item { indent + 2 } else { indent };
        let mut first = item;
        for (name, field) in fields {
            let is_required = required(name);
            // Inside a commented-out object, only what it requires (or all, if nothing is).
            if commented && any_required && !is_required {
                continue;
            }
            let off = commented || !is_required;
            let (at, lead) = if std::mem::take(&mut first) {
                (indent, "- ")
            } else {
                (field_indent, "")
            };
            self.comment(at, field, conditions.get(name).map_or(&[], Vec::as_slice));
            let resolved = placeholder::resolve(self.root, field);
            let value = if name == "id" {
                Some(id.unwrap_or(PLACEHOLDER).to_owned())
            } else {
                resolved.get("const").map(placeholder::plain)
            };
            let key = format!("{lead}{name}:");
            let child_indent = field_indent + 2;
            if let Some(v) = value {
                self.line(at, off, &format!("{key} {}", scalar(&v)));
            } else if resolved.get("properties").is_some() {
                self.line(at, off, &key);
                self.object(resolved, child_indent, off, &BTreeSet::new(), None, false);
            } else if let Some(items) = resolved.get("items") {
                self.line(at, off, &key);
                let element = placeholder::resolve(self.root, items);
                if element.get("properties").is_some() {
                    self.object(element, child_indent, off, &BTreeSet::new(), None, true);
                } else {
                    self.line(child_indent, off, &format!("- {PLACEHOLDER}"));
                }
            } else {
                self.line(at, off, &format!("{key} {PLACEHOLDER}"));
            }
        }
    }
}

/// For an object with `allOf: [{if: {properties: {m: {const: v}}}, then: {required: [f]}}]`:
/// field → the conditions (`` `m` is `v` ``) under which it is required.
fn conditional_requirements(node: &Value) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for rule in node
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let condition = rule
            .pointer("/if/properties")
            .and_then(Value::as_object)
            .map(|props| {
                props
                    .iter()
                    .filter_map(|(k, v)| {
                        Some(format!(
                            "`{k}` is `{}`",
                            placeholder::plain(v.get("const")?)
                        ))
                    })
                    .collect::<Vec<_>>()
                    .join(" and ")
            });
        let Some(condition) = condition.filter(|c| !c.is_empty()) else {
            continue;
        };
        for f in rule
            .pointer("/then/required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            out.entry(f.to_owned()).or_default().push(condition.clone());
        }
    }
    out
}

/// A scalar as YAML: plain when it reads back as the same string, else double-quoted.
fn scalar(s: &str) -> String {
    let word = !s.is_empty()
        && s.chars().all(|c| c.is_alphanumeric() || "-_.".contains(c))
        && !s.starts_with(['-', '.'])
        && !matches!(s, "true" | "false" | "null" | "yes" | "no" | "on" | "off")
        && s.parse::<f64>().is_err();
    if s == PLACEHOLDER || word {
        s.to_owned()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "required": ["kind", "id", "when", "approvals", "dispute"],
            "properties": {
                "kind": {"const": "contract", "description": "kind"},
                "id": {"type": "string"},
                "when": {"$ref": "#/$defs/date", "description": "signing date"},
                "level": {"enum": ["一级", "二级"], "description": "level"},
                "approvals": {"type": "array", "items": {"$ref": "#/$defs/approval"}},
                "dispute": {
                    "type": "object",
                    "required": ["method"],
                    "properties": {
                        "method": {"enum": ["arbitration", "court"]},
                        "connection": {"type": "string", "description": "link"}
                    },
                    "allOf": [{"if": {"properties": {"method": {"const": "court"}}},
                               "then": {"required": ["connection"]}}]
                }
            },
            "$defs": {
                "date": {"type": "string", "description": "ISO date"},
                "approval": {"type": "object", "required": ["tier", "date"], "properties": {
                    "tier": {"type": "string", "description": "tier"},
                    "date": {"$ref": "#/$defs/date"}}}
            }
        })
    }

    #[test]
    fn required_fields_get_placeholders_optional_ones_are_commented_out() {
        let got = skeleton(&schema(), &BTreeSet::new(), Some("fw-1"));
        let want = "\
# kind
kind: contract
id: fw-1
# signing date
when: <fill in>
# level One of: 一级 | 二级.
# level: <fill in>
approvals:
  # tier
  - tier: <fill in>
    # ISO date
    date: <fill in>
dispute:
  # One of: arbitration | court.
  method: <fill in>
  # link Required when `method` is `court`.
  # connection: <fill in>
";
        assert_eq!(got, want);
    }

    #[test]
    fn policy_fields_are_asked_for_and_the_id_defaults_to_the_placeholder() {
        let got = skeleton(&schema(), &BTreeSet::from(["level".to_owned()]), None);
        assert!(got.contains("\nlevel: <fill in>\n"), "{got}");
        assert!(got.contains("\nid: <fill in>\n"), "{got}");
    }

    #[test]
    fn schema_lines_are_relative_to_the_output_folder() {
        let tmp = std::env::temp_dir();
        assert_eq!(
            relative(&tmp.join("a/b"), &tmp.join("schemas/x.json")),
            "../../schemas/x.json"
        );
    }
}
