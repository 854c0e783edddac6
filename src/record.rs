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
        nearest(&self.spans, pointer, self.origin)
    }

    /// Whether the value at `pointer` was written as a plain YAML float (e.g. `1280000.5`).
    pub fn was_float(&self, pointer: &str) -> bool {
        self.floats.contains(pointer)
    }

    /// The value at `pointer` as written in the file (its first line), e.g.
    /// `1280000.00` where the parsed number would print as `1280000.0`.
    pub fn source_text(&self, pointer: &str) -> Option<String> {
        let pos = self.spans.get(pointer)?;
        let line = self.source.text.lines().nth(pos.line.checked_sub(1)?)?;
        Some(
            line.chars()
                .skip(pos.column.saturating_sub(1))
                .take(pos.width)
                .collect(),
        )
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

/// The `*.yaml`/`*.yml` files under `dir`, sorted by path.
pub fn yaml_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
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
    Ok(files)
}

/// The UTF-8 byte order mark some Windows editors write at the start of a file.
const BOM: char = '\u{feff}';

/// Turns a file's bytes into text: UTF-8, with a leading byte order mark
/// removed. Anything else is an R101 diagnostic that points at the first
/// bad byte and, when the bytes look like GBK/GB18030, says so.
pub fn decode(path: &Path, bytes: Vec<u8>) -> Result<String, Box<Diagnostic>> {
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            if text.starts_with(BOM) {
                text.drain(..BOM.len_utf8());
            }
            Ok(text)
        }
        Err(e) => {
            let bytes = e.as_bytes();
            let valid = e.utf8_error().valid_up_to();
            let before = String::from_utf8_lossy(bytes.get(..valid).unwrap_or_default());
            let before = before.strip_prefix(BOM).unwrap_or(&before);
            let pos = Pos {
                line: before.matches('\n').count() + 1,
                column: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
                width: 1,
            };
            let hint = if looks_like_gbk(bytes) {
                "the file looks GBK/GB18030-encoded (as older Windows editors save Chinese text); \
                 save it as UTF-8, e.g. `iconv -f GB18030 -t UTF-8 in.yaml > out.yaml`"
            } else {
                "save the file as UTF-8"
            };
            let shown = String::from_utf8_lossy(bytes);
            Err(Box::new(
                Diagnostic::error(
                    "R101",
                    format!(
                        "file is not valid UTF-8 (invalid byte 0x{:02X} at offset {valid})",
                        bytes.get(valid).copied().unwrap_or(0)
                    ),
                )
                .at(path, &shown, pos)
                .hint(hint),
            ))
        }
    }
}

/// Whether every non-ASCII byte forms a GBK/GB18030 two-byte character
/// (lead 0x81–0xFE, trail 0x40–0xFE except 0x7F) and there is at least one.
fn looks_like_gbk(bytes: &[u8]) -> bool {
    let mut i = 0;
    let mut pairs = 0;
    while let Some(&b) = bytes.get(i) {
        if b < 0x80 {
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            Some(&t) if (0x81..=0xFE).contains(&b) && (0x40..=0xFE).contains(&t) && t != 0x7F => {
                pairs += 1;
                i += 2;
            }
            _ => return false,
        }
    }
    pairs > 0
}

/// Parses one file's text and appends its records (or its YAML error).
pub fn load_text(path: &Path, text: String, loaded: &mut Loaded) {
    let source = Arc::new(SourceFile {
        path: path.to_path_buf(),
        text,
    });
    let (docs, diags) = match parse_documents(&source) {
        Ok(parsed) => parsed,
        Err(d) => {
            // A syntax error makes the whole file unusable: report it and skip the file,
            // the other files still load and are checked.
            loaded.diagnostics.push(*d);
            return;
        }
    };
    loaded.diagnostics.extend(diags);
    let before = loaded.records.len();
    let has_content = docs.iter().any(|d| !d.value.is_null());
    for doc in docs {
        if let Some(r) = into_record(doc, &source, &mut loaded.diagnostics) {
            loaded.records.push(r);
        }
    }
    if loaded.records.len() == before && !has_content {
        loaded.diagnostics.push(
            Diagnostic::warning(
                "R109",
                "file holds no records (it is empty or only comments)",
            )
            .in_file(&source.path)
            .hint("add a record (`kind: …`, `id: …`), or delete the file"),
        );
    }
}

/// A hint for a YAML syntax error: tabs, or the nearest line above the error
/// that opens a bracket or a quote it does not close (the parser often
/// notices such a mistake only a line or two later).
fn syntax_hint(text: &str, line: usize, info: &str) -> String {
    if info.contains("tab") {
        return "indent with spaces; YAML does not allow tabs in indentation".into();
    }
    let first = line.saturating_sub(10).max(1);
    let lines: Vec<&str> = text.lines().collect();
    for n in (first..=line).rev() {
        let Some(l) = lines.get(n - 1) else { continue };
        if let Some(what) = unclosed(l) {
            return format!(
                "{what} on line {n} is not closed on that line; close it, or put the whole value in quotes"
            );
        }
    }
    "check indentation, quotes and the `key: value` form near this place".into()
}

/// The opener a single line leaves unclosed: a quote, `[` or `{` (outside quotes and comments).
fn unclosed(line: &str) -> Option<&'static str> {
    let mut quote: Option<char> = None;
    let (mut square, mut curly) = (0i32, 0i32);
    let mut prev = ' ';
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q && prev != '\\' => quote = None,
            (Some(_), _) => {}
            (None, '#') if prev.is_whitespace() => break,
            (None, '"' | '\'') if prev.is_whitespace() || matches!(prev, '[' | '{' | ',' | ':') => {
                quote = Some(c)
            }
            (None, '[') => square += 1,
            (None, ']') => square -= 1,
            (None, '{') => curly += 1,
            (None, '}') => curly -= 1,
            _ => {}
        }
        prev = c;
    }
    match (quote, square > 0, curly > 0) {
        (Some('"'), ..) => Some("the `\"` quote"),
        (Some(_), ..) => Some("the `'` quote"),
        (None, true, _) => Some("a `[`"),
        (None, false, true) => Some("a `{`"),
        _ => None,
    }
}

/// One parsed YAML document: its value as JSON and where every value is.
#[derive(Debug, Clone)]
pub struct YamlDoc {
    /// The document as a JSON value (YAML 1.2 core schema; dates stay strings).
    pub value: Value,
    /// Where the document starts.
    pub origin: Pos,
    spans: BTreeMap<String, Pos>,
    floats: BTreeSet<String>,
}

impl YamlDoc {
    /// The position of the value at `pointer`, or of its nearest ancestor.
    pub fn pos(&self, pointer: &str) -> Pos {
        nearest(&self.spans, pointer, self.origin)
    }

    /// Whether the value at `pointer` was written as a plain YAML float.
    pub fn was_float(&self, pointer: &str) -> bool {
        self.floats.contains(pointer)
    }
}

fn nearest(spans: &BTreeMap<String, Pos>, pointer: &str, origin: Pos) -> Pos {
    let mut p = pointer;
    loop {
        if let Some(pos) = spans.get(p) {
            return *pos;
        }
        match p.rfind('/') {
            Some(i) => p = &p[..i],
            None => return origin,
        }
    }
}

/// Parses every YAML document of a file, keeping positions; any YAML file
/// of the workspace (records, `schemas/policy.yaml`) is read through here.
///
/// `Ok` holds the documents and the located problems that do not spoil a
/// document (duplicate keys); `Err` is the syntax error that spoils the file.
pub fn parse_documents(
    source: &SourceFile,
) -> Result<(Vec<YamlDoc>, Vec<Diagnostic>), Box<Diagnostic>> {
    let mut docs = Vec::new();
    let mut diags = Vec::new();
    let result = {
        let mut b = Builder {
            parser: Parser::new_from_str(&source.text),
            spans: BTreeMap::new(),
            floats: BTreeSet::new(),
            anchors: HashMap::new(),
            diags: &mut diags,
            depth: 0,
            nodes: 0,
        };
        b.documents(&mut docs)
    };
    if let Err(e) = result {
        let d = match e {
            BuildError::Scan(e) => {
                let m = e.marker();
                let pos = Pos {
                    line: m.line(),
                    column: m.col() + 1,
                    width: 1,
                };
                Diagnostic::error("R102", format!("malformed YAML: {}", e.info()))
                    .at(&source.path, &source.text, pos)
                    .hint(syntax_hint(&source.text, pos.line, e.info()))
            }
            BuildError::TooBig(pos, what) => Diagnostic::error(
                "R110",
                format!("document too large: {what}"),
            )
            .at(&source.path, &source.text, pos)
            .hint(format!(
                "a record holds at most {MAX_NODES} values nested at most {MAX_DEPTH} deep; \
                     split the data or remove the aliases (`*name`) that multiply it"
            )),
        };
        return Err(Box::new(d));
    }
    let diags = diags.into_iter().map(|d| d.at_source(source)).collect();
    Ok((docs, diags))
}

fn into_record(
    doc: YamlDoc,
    source: &Arc<SourceFile>,
    out: &mut Vec<Diagnostic>,
) -> Option<Record> {
    let here = |d: Diagnostic, ptr: &str| {
        let pos = doc.spans.get(ptr).copied().unwrap_or(doc.origin);
        let d = d.at(&source.path, &source.text, pos);
        if ptr.is_empty() { d } else { d.pointer(ptr) }
    };
    let Value::Object(map) = &doc.value else {
        if doc.value.is_null() {
            return None; // an empty document (only comments) is not a record
        }
        out.push(
            here(
                Diagnostic::error("R103", "a record must be a mapping of `key: value` lines"),
                "",
            )
            .hint("write the record as `kind: …`, `id: …` lines; a leading `- ` makes the document a list"),
        );
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
    if id.trim() == crate::placeholder::PLACEHOLDER {
        out.push(
            here(Diagnostic::error(crate::placeholder::CODE, "fill in `id`"), "/id").hint(
                "a stable id such as `fw-2026-001` (a-z, 0-9, `.`, `_`, `-`); the rest of the record is checked once it has one",
            ),
        );
        return None;
    }
    if !valid_id(&id) {
        out.push(
            here(
                Diagnostic::error("R105", format!("invalid id `{}`", crate::diagnostic::shorten(&id, 60))),
                "/id",
            ).hint(
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
                    Diagnostic::error(
                        "R106",
                        format!(
                            "unknown record kind `{}`",
                            crate::diagnostic::shorten(other, 40)
                        ),
                    ),
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

/// R107 on `r`, whose id was first used in `first` at `first_pos`.
pub(crate) fn duplicate_id(r: &Record, first: &Path, first_pos: Pos) -> Diagnostic {
    let at = format!(
        "{}:{}:{}",
        first.display(),
        first_pos.line,
        first_pos.column
    );
    r.diag(
        "/id",
        Diagnostic::error(
            "R107",
            format!("duplicate id `{}`: already used at {at}", r.id),
        ),
    )
    .hint("every record needs its own id; rename one of them")
}

/// How deep values may nest in one document; the builder recurses per level,
/// so this bounds its stack use (real records nest three or four levels).
pub const MAX_DEPTH: usize = 64;

/// How many values one document may hold after aliases are expanded; stops
/// "billion laughs" alias bombs from exhausting memory.
pub const MAX_NODES: usize = 100_000;

/// Builds JSON values and the pointer → position map from saphyr's event stream.
struct Builder<'a, 'd> {
    parser: Parser<'a, StrInput<'a>>,
    spans: BTreeMap<String, Pos>,
    floats: BTreeSet<String>,
    /// Anchored values with their size in values, for the alias budget.
    anchors: HashMap<usize, (Value, usize)>,
    diags: &'d mut Vec<Diagnostic>,
    depth: usize,
    nodes: usize,
}

/// Why a document could not be built.
enum BuildError {
    /// saphyr's syntax error.
    Scan(ScanError),
    /// Too deep or too many values: where, and what.
    TooBig(Pos, String),
}

impl From<ScanError> for BuildError {
    fn from(e: ScanError) -> Self {
        BuildError::Scan(e)
    }
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
    fn next(&mut self) -> Result<(Event<'a>, Span), BuildError> {
        match self.parser.next_event() {
            Some(r) => Ok(r?),
            None => Ok((
                Event::StreamEnd,
                Span::empty(saphyr_parser::Marker::new(0, 1, 0)),
            )),
        }
    }

    fn documents(&mut self, docs: &mut Vec<YamlDoc>) -> Result<(), BuildError> {
        loop {
            let (ev, span) = self.next()?;
            match ev {
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
                Event::StreamEnd => return Ok(()),
                Event::DocumentStart(_) => {
                    self.spans.clear();
                    self.floats.clear();
                    self.anchors.clear();
                    self.nodes = 0;
                    let (ev, span) = self.next()?;
                    let origin = pos_of(&span);
                    let value = match ev {
                        Event::DocumentEnd => Value::Null,
                        ev => self.node(ev, span, String::new())?,
                    };
                    docs.push(YamlDoc {
                        value,
                        origin,
                        spans: std::mem::take(&mut self.spans),
                        floats: std::mem::take(&mut self.floats),
                    });
                }
                _ => {
                    // A node outside a document cannot happen in a well-formed stream.
                    return Err(ScanError::new_str(span.start, "unexpected content").into());
                }
            }
        }
    }

    fn node(&mut self, ev: Event<'a>, span: Span, ptr: String) -> Result<Value, BuildError> {
        let pos = pos_of(&span);
        self.depth += 1;
        let result = self.node_inner(ev, span, ptr, pos);
        self.depth -= 1;
        result
    }

    fn node_inner(
        &mut self,
        ev: Event<'a>,
        span: Span,
        ptr: String,
        pos: Pos,
    ) -> Result<Value, BuildError> {
        if self.depth > MAX_DEPTH {
            return Err(BuildError::TooBig(
                pos,
                format!("values nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        let first = self.nodes;
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(BuildError::TooBig(
                pos,
                format!("more than {MAX_NODES} values in one document"),
            ));
        }
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
                    if map.contains_key(&key) {
                        // Parse the second value aside, so positions keep pointing at the first.
                        let first = self.spans.get(&child).copied();
                        let kept = std::mem::take(&mut self.spans);
                        self.node(vev, vspan, child.clone())?;
                        self.spans = kept;
                        let line = first.map_or(String::new(), |p| {
                            format!(" (first set on line {})", p.line)
                        });
                        self.diags.push(Diagnostic {
                            pos: Some(pos_of(&kspan)),
                            pointer: Some(child),
                            hint: Some(
                                "remove one of the two lines; only the first value is used".into(),
                            ),
                            ..Diagnostic::error(
                                "R108",
                                format!(
                                    "duplicate key `{}`{line}",
                                    crate::diagnostic::shorten(&key, 40)
                                ),
                            )
                        });
                    } else {
                        let value = self.node(vev, vspan, child.clone())?;
                        map.insert(key, value);
                    }
                }
                (Value::Object(map), anchor)
            }
            Event::Alias(id) => match self.anchors.get(&id) {
                Some((v, size)) => {
                    // An alias copies its anchor's values: count them before copying.
                    self.nodes += size;
                    if self.nodes > MAX_NODES {
                        return Err(BuildError::TooBig(
                            pos,
                            format!(
                                "more than {MAX_NODES} values in one document once aliases are expanded"
                            ),
                        ));
                    }
                    (v.clone(), 0)
                }
                None => return Err(ScanError::new_str(span.start, "unknown alias").into()),
            },
            _ => return Err(ScanError::new_str(span.start, "unexpected YAML event").into()),
        };
        if anchor != 0 {
            self.anchors
                .insert(anchor, (value.clone(), self.nodes - first));
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
    fn ids_that_could_escape_the_output_folder_are_refused() {
        let l = load("kind: party\nid: ../x\n");
        assert!(l.records.is_empty());
        assert!(l.diagnostics[0].message.contains("invalid id"));
        assert!(valid_id("fw-2026-001.a_b") && !valid_id("A") && !valid_id(".x"));
    }

    #[test]
    fn syntax_errors_name_the_line_that_leaves_a_bracket_or_quote_open() {
        let l = load("kind: party\nid: a\nname: [x\naddress: y\n");
        let hint = l.diagnostics[0].hint.as_deref().unwrap();
        assert!(hint.contains("a `[` on line 3"), "{hint}");
        assert_eq!(unclosed("name: \"a # b"), Some("the `\"` quote"));
        assert_eq!(unclosed("name: a # [x"), None);
        assert_eq!(unclosed("list: [a, \"b]\"]"), None);
    }

    #[test]
    fn a_bom_is_dropped_and_gbk_is_recognised() {
        let text = decode(Path::new("t.yaml"), "\u{feff}kind: party\n".into()).unwrap();
        assert_eq!(text, "kind: party\n");
        // 名称 in GBK
        let d = decode(
            Path::new("t.yaml"),
            b"id: a\nname: \xc3\xfb\xb3\xc6\n".to_vec(),
        )
        .unwrap_err();
        assert_eq!(d.code, "R101");
        assert_eq!((d.pos.unwrap().line, d.pos.unwrap().column), (2, 7));
        assert!(d.hint.unwrap().contains("GBK"));
        let d = decode(Path::new("t.yaml"), b"id: \xff\n".to_vec()).unwrap_err();
        assert!(!d.hint.unwrap().contains("GBK"));
    }

    #[test]
    fn deep_nesting_and_alias_bombs_are_refused_not_followed() {
        let deep = format!(
            "kind: party\nid: a\nx: {}{}\n",
            "[".repeat(100),
            "]".repeat(100)
        );
        assert_eq!(load(&deep).diagnostics[0].code, "R110");
        let mut bomb = String::from("kind: party\nid: a\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        assert_eq!(load(&bomb).diagnostics[0].code, "R110");
    }

    #[test]
    fn empty_files_are_a_warning() {
        let l = load("# only a comment\n");
        assert!(l.records.is_empty());
        assert_eq!(l.diagnostics[0].code, "R109");
        assert!(!l.diagnostics[0].is_error());
    }

    #[test]
    fn duplicate_keys_are_reported() {
        let l = load("kind: party\nid: a\nname: x\nname: y\n");
        assert!(l.diagnostics.iter().any(|d| d.message
            == "duplicate key `name` (first set on line 3)"
            && d.pos.unwrap().line == 4));
    }
}
