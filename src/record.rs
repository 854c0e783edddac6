//! Records: loading YAML files into `Record`s that remember where every value came from.
//!
//! A record directory is walked in sorted order; each `*.yaml`/`*.yml` file
//! holds one or several YAML documents (`---`), one record each. Every value's
//! position is kept in a JSON-pointer → position map so later stages
//! (schema validation, policy, font coverage) can point at `file:line:column`.
//! This module knows YAML; it knows nothing about schemas, templates or typst.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, StrInput};
use serde_json::{Map, Number, Value};

use crate::diagnostic::{Diagnostic, Pos};

/// A YAML file as read from disk; records share it.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as given (relative paths stay relative, for readable diagnostics).
    pub path: PathBuf,
    /// The whole file text.
    pub text: String,
}

/// What a record describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    /// A contracting party (organisation or individual).
    Party,
    /// A contract or agreement to be rendered.
    Contract,
}

/// One record: a YAML document with its id, kind, value and source positions.
#[derive(Debug, Clone)]
pub struct Record {
    /// The stable id, the key for numbering.
    pub id: String,
    /// Party or contract.
    pub kind: RecordKind,
    /// The record as JSON (the model schemas and templates see).
    pub value: Value,
    /// The file it came from.
    pub source: Arc<SourceFile>,
    /// Where the document starts.
    pub origin: Pos,
    spans: BTreeMap<String, Pos>,
    floats: BTreeSet<String>,
}

impl Record {
    /// The position of the value at `pointer`, or of its nearest ancestor.
    pub fn pos(&self, pointer: &str) -> Pos {
        let mut p = pointer;
        loop {
            if let Some(pos) = self.spans.get(p) {
                return *pos;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return self.origin,
            }
        }
    }

    /// Whether the value at `pointer` was written as a plain YAML float (e.g. `1280000.5`).
    pub fn was_float(&self, pointer: &str) -> bool {
        self.floats.contains(pointer)
    }

    /// A diagnostic located at the value at `pointer` in this record.
    pub fn diag(&self, pointer: &str, d: Diagnostic) -> Diagnostic {
        d.at(&self.source.path, &self.source.text, self.pos(pointer))
            .record(&self.id)
            .pointer(pointer)
    }

    /// The string at `pointer`, if there is one.
    pub fn str_at(&self, pointer: &str) -> Option<&str> {
        self.value.pointer(pointer).and_then(Value::as_str)
    }
}

/// All records of a run plus the problems found while loading them.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Records in file order, then document order.
    pub records: Vec<Record>,
    /// Malformed YAML, missing ids, duplicate ids.
    pub diagnostics: Vec<Diagnostic>,
}

/// Loads every `*.yaml`/`*.yml` file under `dir`, sorted by path.
pub fn load_dir(dir: &Path) -> std::io::Result<Loaded> {
    let mut loaded = Loaded::default();
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(std::io::Error::other)?;
        let is_yaml = matches!(
            entry.path().extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        );
        if entry.file_type().is_file() && is_yaml {
            files.push(entry.into_path());
        }
    }
    for path in files {
        let bytes = std::fs::read(&path)?;
        match String::from_utf8(bytes) {
            Ok(text) => load_text(&path, text, &mut loaded),
            Err(e) => loaded.diagnostics.push(
                Diagnostic::error(
                    "R101",
                    format!(
                        "file is not valid UTF-8 (invalid byte at offset {})",
                        e.utf8_error().valid_up_to()
                    ),
                )
                .in_file(&path)
                .hint("save the file as UTF-8"),
            ),
        }
    }
    check_duplicates(&mut loaded);
    Ok(loaded)
}

/// Parses one file's text and appends its records (or its YAML error).
pub fn load_text(path: &Path, text: String, loaded: &mut Loaded) {
    let source = Arc::new(SourceFile {
        path: path.to_path_buf(),
        text,
    });
    let mut docs = Vec::new();
    let mut diags = Vec::new();
    let result = {
        let mut b = Builder {
            parser: Parser::new_from_str(&source.text),
            spans: BTreeMap::new(),
            floats: BTreeSet::new(),
            anchors: HashMap::new(),
            diags: &mut diags,
        };
        b.documents(&mut docs)
    };
    if let Err(e) = result {
        // A syntax error makes the whole file unusable: report it and skip the file,
        // the other files still load and are checked.
        let m = e.marker();
        let pos = Pos {
            line: m.line(),
            column: m.col() + 1,
            width: 1,
        };
        loaded.diagnostics.push(
            Diagnostic::error("R102", format!("malformed YAML: {}", e.info()))
                .at(&source.path, &source.text, pos)
                .hint("check indentation, quotes and the `key: value` form near this place"),
        );
        return;
    }
    for d in diags {
        loaded.diagnostics.push(d.at_source(&source));
    }
    for doc in docs {
        if let Some(r) = into_record(doc, &source, &mut loaded.diagnostics) {
            loaded.records.push(r);
        }
    }
}

/// A parsed YAML document before it becomes a record.
struct Doc {
    value: Value,
    origin: Pos,
    spans: BTreeMap<String, Pos>,
    floats: BTreeSet<String>,
}

fn into_record(doc: Doc, source: &Arc<SourceFile>, out: &mut Vec<Diagnostic>) -> Option<Record> {
    let here = |d: Diagnostic, ptr: &str| {
        let pos = doc.spans.get(ptr).copied().unwrap_or(doc.origin);
        d.at(&source.path, &source.text, pos).pointer(ptr)
    };
    let Value::Object(map) = &doc.value else {
        if doc.value.is_null() {
            return None; // an empty document (only comments) is not a record
        }
        out.push(here(
            Diagnostic::error("R103", "a record must be a mapping of `key: value` lines"),
            "",
        ));
        return None;
    };
    let id = match map.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            out.push(
                here(Diagnostic::error("R105", "`id` must be a string"), "/id")
                    .hint("ids look like `fw-2026-001`: lowercase letters, digits, `.`, `_`, `-`"),
            );
            return None;
        }
        None => {
            out.push(
                here(Diagnostic::error("R104", "record has no `id`"), "")
                    .hint("add a line `id: some-stable-id`; the id is the key the contract number is kept under"),
            );
            return None;
        }
    };
    if !valid_id(&id) {
        out.push(
            here(Diagnostic::error("R105", format!("invalid id `{id}`")), "/id").hint(
                "ids start with a lowercase letter or digit and use only a-z, 0-9, `.`, `_`, `-` (they become file names)",
            ),
        );
        return None;
    }
    let kind = match map.get("kind").and_then(Value::as_str) {
        Some("party") => RecordKind::Party,
        Some("contract") => RecordKind::Contract,
        Some(other) => {
            out.push(
                here(
                    Diagnostic::error("R106", format!("unknown record kind `{other}`")),
                    "/kind",
                )
                .record(&id)
                .hint("use `kind: party` or `kind: contract`"),
            );
            return None;
        }
        None => {
            out.push(
                here(Diagnostic::error("R106", "record has no `kind`"), "")
                    .record(&id)
                    .hint("add `kind: party` or `kind: contract`"),
            );
            return None;
        }
    };
    Some(Record {
        id,
        kind,
        value: doc.value,
        source: source.clone(),
        origin: doc.origin,
        spans: doc.spans,
        floats: doc.floats,
    })
}

/// Whether `id` has the form `[a-z0-9][a-z0-9._-]*` (it becomes a file name).
pub fn valid_id(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        && id.len() <= 128
}

fn check_duplicates(loaded: &mut Loaded) {
    let mut first: BTreeMap<&str, &Record> = BTreeMap::new();
    let mut diags = Vec::new();
    for r in &loaded.records {
        if let Some(prev) = first.get(r.id.as_str()) {
            let prev_at = format!(
                "{}:{}:{}",
                prev.source.path.display(),
                prev.pos("/id").line,
                prev.pos("/id").column
            );
            diags.push(
                r.diag(
                    "/id",
                    Diagnostic::error(
                        "R107",
                        format!("duplicate id `{}`: already used at {prev_at}", r.id),
                    ),
                )
                .hint("every record needs its own id; rename one of them"),
            );
        } else {
            first.insert(&r.id, r);
        }
    }
    // Keep the first record with each id; the later ones are reported and dropped.
    let mut seen = BTreeSet::new();
    loaded.records.retain(|r| seen.insert(r.id.clone()));
    loaded.diagnostics.extend(diags);
}

/// Builds JSON values and the pointer → position map from saphyr's event stream.
struct Builder<'a, 'd> {
    parser: Parser<'a, StrInput<'a>>,
    spans: BTreeMap<String, Pos>,
    floats: BTreeSet<String>,
    anchors: HashMap<usize, Value>,
    diags: &'d mut Vec<Diagnostic>,
}

/// A diagnostic found inside a document before the source file is attached.
trait AtSource {
    fn at_source(self, source: &SourceFile) -> Diagnostic;
}

impl AtSource for Diagnostic {
    fn at_source(self, source: &SourceFile) -> Diagnostic {
        let pos = self.pos.unwrap_or(Pos {
            line: 1,
            column: 1,
            width: 1,
        });
        self.at(&source.path, &source.text, pos)
    }
}

fn pos_of(span: &Span) -> Pos {
    let width = if span.end.line() == span.start.line() {
        span.end.col().saturating_sub(span.start.col()).max(1)
    } else {
        1
    };
    Pos {
        line: span.start.line(),
        column: span.start.col() + 1,
        width,
    }
}

impl<'a> Builder<'a, '_> {
    fn next(&mut self) -> Result<(Event<'a>, Span), ScanError> {
        match self.parser.next_event() {
            Some(r) => r,
            None => Ok((
                Event::StreamEnd,
                Span::empty(saphyr_parser::Marker::new(0, 1, 0)),
            )),
        }
    }

    fn documents(&mut self, docs: &mut Vec<Doc>) -> Result<(), ScanError> {
        loop {
            let (ev, span) = self.next()?;
            match ev {
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
                Event::StreamEnd => return Ok(()),
                Event::DocumentStart(_) => {
                    self.spans.clear();
                    self.floats.clear();
                    self.anchors.clear();
                    let (ev, span) = self.next()?;
                    let origin = pos_of(&span);
                    let value = match ev {
                        Event::DocumentEnd => Value::Null,
                        ev => self.node(ev, span, String::new())?,
                    };
                    docs.push(Doc {
                        value,
                        origin,
                        spans: std::mem::take(&mut self.spans),
                        floats: std::mem::take(&mut self.floats),
                    });
                }
                _ => {
                    // A node outside a document cannot happen in a well-formed stream.
                    return Err(ScanError::new_str(span.start, "unexpected content"));
                }
            }
        }
    }

    fn node(&mut self, ev: Event<'a>, span: Span, ptr: String) -> Result<Value, ScanError> {
        let pos = pos_of(&span);
        self.spans.insert(ptr.clone(), pos);
        let (value, anchor) = match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let forced_str = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let v = if style == ScalarStyle::Plain && !forced_str {
                    let (v, float) = resolve_plain(&text);
                    if float {
                        self.floats.insert(ptr.clone());
                    }
                    v
                } else {
                    Value::String(text.into_owned())
                };
                (v, anchor)
            }
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (ev, span) = self.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    let child = format!("{ptr}/{}", items.len());
                    items.push(self.node(ev, span, child)?);
                }
                (Value::Array(items), anchor)
            }
            Event::MappingStart(anchor, _) => {
                let mut map = Map::new();
                loop {
                    let (ev, kspan) = self.next()?;
                    if matches!(ev, Event::MappingEnd) {
                        break;
                    }
                    let key = match ev {
                        Event::Scalar(text, ..) => text.into_owned(),
                        other => {
                            // Complex keys are legal YAML but mean nothing in a record.
                            let v = self.node(other, kspan, format!("{ptr}/?"))?;
                            v.to_string()
                        }
                    };
                    let child = format!("{ptr}/{}", escape_pointer(&key));
                    let (vev, vspan) = self.next()?;
                    let value = self.node(vev, vspan, child.clone())?;
                    if map.contains_key(&key) {
                        self.diags.push(Diagnostic {
                            pos: Some(pos_of(&kspan)),
                            pointer: Some(child),
                            hint: Some("remove one of the two lines".into()),
                            ..Diagnostic::error("R108", format!("duplicate key `{key}`"))
                        });
                    } else {
                        map.insert(key, value);
                    }
                }
                (Value::Object(map), anchor)
            }
            Event::Alias(id) => match self.anchors.get(&id) {
                Some(v) => (v.clone(), 0),
                None => return Err(ScanError::new_str(span.start, "unknown alias")),
            },
            _ => return Err(ScanError::new_str(span.start, "unexpected YAML event")),
        };
        if anchor != 0 {
            self.anchors.insert(anchor, value.clone());
        }
        Ok(value)
    }
}

/// Escapes a mapping key for use in a JSON pointer (RFC 6901).
pub fn escape_pointer(key: &str) -> Cow<'_, str> {
    if key.contains(['~', '/']) {
        Cow::Owned(key.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(key)
    }
}

/// Resolves a plain scalar by the YAML 1.2 core schema; the flag says "was a float".
///
/// Dates such as `2026-11-20` stay strings (YAML 1.2 has no timestamp type).
fn resolve_plain(text: &str) -> (Value, bool) {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return (Value::Null, false),
        "true" | "True" | "TRUE" => return (Value::Bool(true), false),
        "false" | "False" | "FALSE" => return (Value::Bool(false), false),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = text.parse::<i64>() {
            return (Value::Number(i.into()), false);
        }
        if let Ok(u) = text.parse::<u64>() {
            return (Value::Number(u.into()), false);
        }
    }
    if let Some(hex) = text.strip_prefix("0x")
        && let Ok(i) = i64::from_str_radix(hex, 16)
    {
        return (Value::Number(i.into()), false);
    }
    if let Some(oct) = text.strip_prefix("0o")
        && let Ok(i) = i64::from_str_radix(oct, 8)
    {
        return (Value::Number(i.into()), false);
    }
    let looks_float = digits
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && digits.bytes().any(|b| b.is_ascii_digit())
        && digits.starts_with(|c: char| c.is_ascii_digit() || c == '.');
    if looks_float
        && let Ok(f) = text.parse::<f64>()
        && let Some(n) = Number::from_f64(f)
    {
        return (Value::Number(n), true);
    }
    (Value::String(text.to_owned()), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Loaded {
        let mut l = Loaded::default();
        load_text(Path::new("t.yaml"), text.to_owned(), &mut l);
        check_duplicates(&mut l);
        l
    }

    #[test]
    fn positions_point_at_values_in_nested_maps_and_lists() {
        let l = load("kind: party\nid: a\ncontact:\n  phone: \"010\"\nlist:\n  - x\n  - {k: v}\n");
        let r = &l.records[0];
        assert_eq!(
            (r.pos("/contact/phone").line, r.pos("/contact/phone").column),
            (4, 10)
        );
        assert_eq!((r.pos("/list/1/k").line, r.pos("/list/1/k").column), (7, 9));
        // A missing child falls back to its parent.
        assert_eq!(r.pos("/contact/email").line, 4);
    }

    #[test]
    fn several_documents_give_several_records() {
        let l = load("kind: party\nid: a\n---\nkind: party\nid: b\n");
        let ids: Vec<_> = l.records.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(l.records[1].pos("/id").line, 5);
    }

    #[test]
    fn plain_scalars_resolve_by_the_core_schema_and_dates_stay_strings() {
        let l = load(
            "kind: party\nid: a\nd: 2026-11-20\nn: 12\nf: 1280000.5\nq: \"1.5\"\nb: true\nz: ~\n",
        );
        let v = &l.records[0].value;
        assert_eq!(v["d"], "2026-11-20");
        assert_eq!(v["n"], 12);
        assert!(v["f"].is_f64());
        assert!(l.records[0].was_float("/f"));
        assert_eq!(v["q"], "1.5");
        assert_eq!(v["b"], true);
        assert!(v["z"].is_null());
    }

    #[test]
    fn malformed_yaml_is_located() {
        let l = load("kind: party\nid: a\nname: [unclosed\nx: 1\n");
        assert_eq!(l.records.len(), 0);
        let d = &l.diagnostics[0];
        assert!(d.message.starts_with("malformed YAML"), "{}", d.message);
        assert!(d.pos.is_some());
    }

    #[test]
    fn duplicate_ids_name_both_places() {
        let l = load("kind: party\nid: a\n---\nkind: party\nid: a\n");
        assert_eq!(l.records.len(), 1);
        let d = &l.diagnostics[0];
        assert!(
            d.message.contains("already used at t.yaml:2:5"),
            "{}",
            d.message
        );
        assert_eq!(d.pos.unwrap().line, 5);
    }

    #[test]
    fn ids_that_could_escape_the_output_folder_are_refused() {
        let l = load("kind: party\nid: ../x\n");
        assert!(l.records.is_empty());
        assert!(l.diagnostics[0].message.contains("invalid id"));
        assert!(valid_id("fw-2026-001.a_b") && !valid_id("A") && !valid_id(".x"));
    }

    #[test]
    fn duplicate_keys_are_reported() {
        let l = load("kind: party\nid: a\nname: x\nname: y\n");
        assert!(
            l.diagnostics
                .iter()
                .any(|d| d.message == "duplicate key `name`" && d.pos.unwrap().line == 4)
        );
    }
}
