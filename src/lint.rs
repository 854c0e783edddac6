//! Template lint: what templates read, checked against the schemas, located at
//! template `file:line:column`.
//!
//! tera 1 keeps no positions in its syntax tree, so this module scans the
//! template text itself: `{{ … }}`, `{% … %}` and `{# … #}` tags, the variable
//! paths in their expressions, `if`/`for`/`set`/`include` structure. Each
//! template's `main.typ.tera` is walked with its includes expanded in place
//! (an include sees the includer's `set` variables and enclosing `if`s, as
//! tera renders it), and every path it reads (`c.*`, `a.*`, `b.*`,
//! `parent.*`, `doc.*`, `parent_number`) must be declared in the schema and
//! either required there or guarded by an enclosing `{% if path %}`.
//! Conditional requirements (`allOf` + `if`/`then`) count when an enclosing
//! `if` fixes the discriminating field (`{% if p.type == "organization" %}`).
//!
//! It also checks includes (tera and typst) stay inside `templates/` and
//! exist, that no record data is printed with `| safe`, that no template
//! reads the clock or the environment, and warns about schema fields no
//! template prints. It does not use the tera crate (rendering is `render`'s
//! job) and never renders anything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::diagnostic::{Diagnostic, Pos, edit_distance};
use crate::validate::PARTY_SCHEMA;
use crate::workspace::Workspace;

/// Contract fields pactum itself reads (numbering, references, policy), so a
/// template need not print them.
const PIPELINE_CONTRACT_FIELDS: &[&str] = &[
    "kind",
    "id",
    "template",
    "party_a",
    "party_b",
    "parent",
    "approvals",
    "waivers",
    // Held back from issuing while `draft` (build).
    "status",
    // The register's 合同信息登记表 columns (numbering::entry), which a
    // template need not print (a CNY-only contract need not spell out `CNY`).
    "title",
    "signing_date",
    "effective_date",
    "expiry_date",
    "amount",
    "currency",
];
/// Party fields pactum itself reads.
const PIPELINE_PARTY_FIELDS: &[&str] = &["kind", "id", "uscc_override"];
/// What templates see in `doc` (render::DocInfo).
const DOC_FIELDS: &[&str] = &[
    "title", "kind", "language", "number", "revision", "draft", "template",
];
/// tera functions whose result depends on the machine, not the inputs.
const IMPURE_FUNCTIONS: &[&str] = &["now", "get_random", "get_env"];
/// typst functions that read a file (argument = path).
const TYPST_FILE_FUNCTIONS: &[&str] = &[
    "import", "include", "read", "image", "json", "yaml", "toml", "csv", "xml", "cbor", "plugin",
];
/// Folders under `templates/` that are not document types.
const SHARED_FOLDERS: &[&str] = &["_lib", "clauses", "fonts"];
/// Deepest include nesting followed (deeper is an include cycle).
const MAX_INCLUDE_DEPTH: usize = 16;

/// What the lint found.
pub struct Lint {
    /// Problems in templates (errors) and schema fields nothing prints (warnings).
    pub diagnostics: Vec<Diagnostic>,
    /// Per template: the `.tera` files it includes, directly or not (paths under `templates/`).
    pub partials: BTreeMap<String, BTreeSet<String>>,
}

/// Lints every template of the workspace.
pub fn lint(ws: &Workspace) -> Lint {
    let mut linter = Linter::new(ws);
    linter.template_folders();
    let names: Vec<String> = ws.templates.keys().cloned().collect();
    for name in &names {
        linter.template(name);
    }
    linter.typst_files();
    linter.unreached_partials();
    linter.check_reads();
    linter.unused_fields();
    let partials = std::mem::take(&mut linter.reached_by);
    Lint {
        diagnostics: linter.finish(),
        partials,
    }
}

// ---------------------------------------------------------------------------
// Template text: tags and their positions.

/// A template file read once.
struct File {
    /// Path as shown in diagnostics (`<workspace>/templates/…`).
    path: PathBuf,
    text: String,
    line_starts: Vec<usize>,
    items: Vec<Item>,
}

impl File {
    fn pos(&self, offset: usize, width: usize) -> Pos {
        let line = self.line_starts.partition_point(|s| *s <= offset).max(1);
        let start = self.line_starts[line - 1];
        let column = self.text[start..offset.min(self.text.len())]
            .chars()
            .count()
            + 1;
        Pos {
            line,
            column,
            width: width.max(1),
        }
    }
}

#[derive(Debug, Clone)]
enum Item {
    /// Literal template text (typst markup) at a byte offset.
    Text { offset: usize, text: String },
    /// `{{ expr }}`: the expression and its byte offset.
    Print { offset: usize, expr: String },
    /// `{% … %}`: the statement and its byte offset.
    Tag { offset: usize, body: String },
    /// A tag that never closes.
    Unclosed { offset: usize },
}

fn scan(text: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let mut i = 0;
    let bytes = text.as_bytes();
    let mut raw = false;
    let mut text_start = 0;
    while i + 1 < bytes.len() {
        if bytes[i] != b'{' || !matches!(bytes[i + 1], b'{' | b'%' | b'#') {
            i += 1;
            continue;
        }
        let open = &text[i..i + 2];
        let close = match open {
            "{{" => "}}",
            "{%" => "%}",
            _ => "#}",
        };
        let Some(end) = find_close(text, i + 2, close, open != "{#") else {
            if !raw {
                items.push(Item::Unclosed { offset: i });
            }
            return items;
        };
        let mut inner_start = i + 2;
        let mut inner_end = end;
        if text[inner_start..inner_end].starts_with('-') {
            inner_start += 1;
        }
        if text[inner_start..inner_end].ends_with('-') {
            inner_end -= 1;
        }
        let lead =
            text[inner_start..inner_end].len() - text[inner_start..inner_end].trim_start().len();
        let body = text[inner_start..inner_end].trim().to_owned();
        let offset = inner_start + lead;
        if raw {
            if open == "{%" && body == "endraw" {
                items.push(Item::Text {
                    offset: text_start,
                    text: text[text_start..i].to_owned(),
                });
                raw = false;
                text_start = end + 2;
            }
            i = end + 2;
            continue;
        }
        if text_start < i {
            items.push(Item::Text {
                offset: text_start,
                text: text[text_start..i].to_owned(),
            });
        }
        match open {
            "{{" => items.push(Item::Print { offset, expr: body }),
            "{%" if body == "raw" => raw = true,
            "{%" => items.push(Item::Tag { offset, body }),
            _ => {}
        }
        i = end + 2;
        text_start = i;
    }
    if text_start < text.len() {
        items.push(Item::Text {
            offset: text_start,
            text: text[text_start..].to_owned(),
        });
    }
    items
}

/// The offset of `close` after `from`, skipping string literals when `strings`.
fn find_close(text: &str, from: usize, close: &str, strings: bool) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (k, ch) in text[from..].char_indices() {
        let at = from + k;
        match quote {
            Some(q) if ch == q => quote = None,
            Some(_) => {}
            None if strings && matches!(ch, '"' | '\'' | '`') => quote = Some(ch),
            None if text[at..].starts_with(close) => return Some(at),
            None => {}
        }
    }
    None
}

// ---------------------------------------------------------------------------
// Expressions: tokens and the variable paths they read.

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num,
    Op(String),
}

/// Tokens with their byte offset inside the expression.
fn tokenize(expr: &str) -> Vec<(usize, Tok)> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = expr.char_indices().collect();
    let mut k = 0;
    while k < chars.len() {
        let (at, c) = chars[k];
        if c.is_whitespace() {
            k += 1;
        } else if c.is_alphabetic() || c == '_' {
            let start = k;
            while k < chars.len() && (chars[k].1.is_alphanumeric() || chars[k].1 == '_') {
                k += 1;
            }
            let end = chars.get(k).map_or(expr.len(), |c| c.0);
            out.push((at, Tok::Ident(expr[chars[start].0..end].to_owned())));
        } else if c.is_ascii_digit() {
            while k < chars.len() && (chars[k].1.is_ascii_digit() || chars[k].1 == '.') {
                k += 1;
            }
            out.push((at, Tok::Num));
        } else if matches!(c, '"' | '\'' | '`') {
            let start = k + 1;
            k += 1;
            while k < chars.len() && chars[k].1 != c {
                k += 1;
            }
            let end = chars.get(k).map_or(expr.len(), |c| c.0);
            let from = chars.get(start).map_or(expr.len(), |c| c.0);
            out.push((at, Tok::Str(expr[from..end.max(from)].to_owned())));
            k += 1;
        } else {
            let two: String = chars[k..].iter().take(2).map(|c| c.1).collect();
            if matches!(two.as_str(), "==" | "!=" | ">=" | "<=") {
                out.push((at, Tok::Op(two)));
                k += 2;
            } else {
                out.push((at, Tok::Op(c.to_string())));
                k += 1;
            }
        }
    }
    out
}

/// One segment of a variable path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Seg {
    Key(String),
    /// `[n]` or a `for` loop item: any element of an array.
    Item,
}

fn show(segs: &[Seg]) -> String {
    let mut s = String::new();
    for seg in segs {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Item => s.push_str("[]"),
        }
    }
    s
}

/// A variable path as written in an expression.
#[derive(Debug, Clone)]
struct PathRef {
    /// Byte offset in the expression.
    at: usize,
    /// Length in bytes as written.
    len: usize,
    segs: Vec<Seg>,
    /// Used only as a truth value (`{% if x %}`, `x is defined`): tera treats a
    /// missing value as false there instead of failing.
    test: bool,
    /// Preceded by `not` (or `is undefined` / `is not defined`).
    negated: bool,
}

/// What an expression reads and does.
#[derive(Debug, Default)]
struct Expr {
    paths: Vec<PathRef>,
    /// Filters applied anywhere (`safe`, `money`, …) with their offsets.
    filters: Vec<(String, usize)>,
    /// Functions called, with their offsets.
    calls: Vec<(String, usize)>,
    /// `p == "lit"` / `p != "lit"`: (path index, literal, equal).
    comparisons: Vec<(usize, String, bool)>,
    /// Whether `or` appears (then no single operand is known to hold).
    has_or: bool,
    /// Number of top-level operands joined by `and` (1 = a single condition).
    operands: usize,
}

const KEYWORDS: &[&str] = &[
    "and", "or", "not", "in", "is", "true", "false", "True", "False",
];

fn analyse(expr: &str) -> Expr {
    let toks = tokenize(expr);
    let mut out = Expr {
        operands: 1,
        ..Expr::default()
    };
    let mut k = 0;
    let prev_op = |k: usize| -> Option<&Tok> { if k == 0 { None } else { Some(&toks[k - 1].1) } };
    while k < toks.len() {
        let (at, tok) = &toks[k];
        match tok {
            Tok::Ident(name) if name == "or" => {
                out.has_or = true;
                k += 1;
            }
            Tok::Ident(name) if name == "and" => {
                out.operands += 1;
                k += 1;
            }
            Tok::Ident(name) if KEYWORDS.contains(&name.as_str()) => k += 1,
            Tok::Ident(name) => {
                let after = toks.get(k + 1).map(|t| &t.1);
                let before = prev_op(k);
                if before == Some(&Tok::Op("|".into())) {
                    out.filters.push((name.clone(), *at));
                    k += 1;
                    continue;
                }
                if before == Some(&Tok::Ident("is".into()))
                    || (before == Some(&Tok::Ident("not".into()))
                        && k >= 2
                        && toks[k - 2].1 == Tok::Ident("is".into()))
                {
                    k += 1; // a test name: `is defined`, `is string`
                    continue;
                }
                if after == Some(&Tok::Op("(".into())) {
                    out.calls.push((name.clone(), *at));
                    k += 1;
                    continue;
                }
                if after == Some(&Tok::Op("=".into())) {
                    k += 1; // keyword argument name
                    continue;
                }
                // A variable path: ident (. ident | [literal])*
                let mut segs = vec![Seg::Key(name.clone())];
                let mut end = at + name.len();
                let mut j = k + 1;
                loop {
                    match (toks.get(j).map(|t| &t.1), toks.get(j + 1).map(|t| &t.1)) {
                        (Some(Tok::Op(dot)), Some(Tok::Ident(field))) if dot == "." => {
                            segs.push(Seg::Key(field.clone()));
                            end = toks[j + 1].0 + field.len();
                            j += 2;
                        }
                        (Some(Tok::Op(open)), Some(Tok::Num | Tok::Str(_)))
                            if open == "["
                                && toks.get(j + 2).map(|t| &t.1) == Some(&Tok::Op("]".into())) =>
                        {
                            match &toks[j + 1].1 {
                                Tok::Str(s) => segs.push(Seg::Key(s.clone())),
                                _ => segs.push(Seg::Item),
                            }
                            end = toks[j + 2].0 + 1;
                            j += 3;
                        }
                        _ => break,
                    }
                }
                let negated = before == Some(&Tok::Ident("not".into()));
                let next = toks.get(j).map(|t| &t.1);
                let starts_operand = match before {
                    None => true,
                    Some(Tok::Op(o)) => o == "(",
                    Some(Tok::Ident(w)) => w == "and" || w == "or" || w == "not",
                    _ => false,
                };
                let ends_operand = match next {
                    None => true,
                    Some(Tok::Op(o)) => o == ")",
                    Some(Tok::Ident(w)) => w == "and" || w == "or",
                    _ => false,
                };
                let mut test = starts_operand && ends_operand;
                let mut neg = negated;
                // `x is defined`, `x is not defined`, `x is undefined`
                if starts_operand && next == Some(&Tok::Ident("is".into())) {
                    let (not, name_at) = match toks.get(j + 1).map(|t| &t.1) {
                        Some(Tok::Ident(w)) if w == "not" => (true, j + 2),
                        _ => (false, j + 1),
                    };
                    if let Some(Tok::Ident(t)) = toks.get(name_at).map(|t| &t.1)
                        && (t == "defined" || t == "undefined")
                    {
                        test = true;
                        neg ^= not ^ (t == "undefined");
                    }
                }
                // `x == "lit"` / `x != "lit"`
                if let (Some(Tok::Op(op)), Some(Tok::Str(lit))) =
                    (next, toks.get(j + 1).map(|t| &t.1))
                    && (op == "==" || op == "!=")
                {
                    out.comparisons
                        .push((out.paths.len(), lit.clone(), (op == "==") != negated));
                }
                out.paths.push(PathRef {
                    at: *at,
                    len: end - at,
                    segs,
                    test,
                    negated: neg,
                });
                k = j;
            }
            _ => k += 1,
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Schemas: declared fields, requirements, key positions.

/// A schema file with the position of every key.
struct SchemaFile {
    path: PathBuf,
    text: String,
    json: Value,
    keys: BTreeMap<String, Pos>,
}

/// A node inside a schema file: its value and JSON pointer.
#[derive(Clone, Copy)]
struct Node<'a> {
    file: &'a SchemaFile,
    value: &'a Value,
}

impl<'a> Node<'a> {
    /// Follows a local `$ref` (`#/$defs/x`).
    fn resolve(self) -> Node<'a> {
        let mut node = self;
        for _ in 0..16 {
            match node.value.get("$ref").and_then(Value::as_str) {
                Some(r) if r.starts_with('#') => match node.file.json.pointer(&r[1..]) {
                    Some(v) => {
                        node = Node {
                            file: node.file,
                            value: v,
                        }
                    }
                    None => break,
                },
                _ => break,
            }
        }
        node
    }

    /// This node and the sub-schemas whose properties also describe it
    /// (`allOf`, `anyOf`, `oneOf`; not `then`/`else`, which only constrain).
    fn parts(self) -> Vec<Node<'a>> {
        let node = self.resolve();
        let mut out = vec![node];
        for key in ["allOf", "anyOf", "oneOf"] {
            if let Some(list) = node.value.get(key).and_then(Value::as_array) {
                for v in list {
                    out.extend(
                        Node {
                            file: node.file,
                            value: v,
                        }
                        .parts(),
                    );
                }
            }
        }
        out
    }

    /// The declaration of property `name`, if any part declares it, with its pointer.
    fn property(self, name: &str) -> Option<(Node<'a>, String)> {
        self.parts().into_iter().find_map(|p| {
            let v = p.value.get("properties")?.get(name)?;
            let ptr = pointer_of(p.file, v)?;
            Some((
                Node {
                    file: p.file,
                    value: v,
                }
                .resolve(),
                ptr,
            ))
        })
    }

    /// The schema of array items.
    fn items(self) -> Option<Node<'a>> {
        self.parts().into_iter().find_map(|p| {
            let v = p.value.get("items")?;
            Some(
                Node {
                    file: p.file,
                    value: v,
                }
                .resolve(),
            )
        })
    }

    /// Whether `name` is required here, given facts known about this object's
    /// fields (`field → possible values`).
    fn requires(self, name: &str, facts: &BTreeMap<String, BTreeSet<String>>) -> bool {
        let listed = |v: &Value| {
            v.get("required")
                .and_then(Value::as_array)
                .is_some_and(|r| r.iter().any(|x| x == name))
        };
        let all = self.parts();
        all.iter().any(|p| listed(p.value))
            || all.iter().any(|p| {
                let (Some(cond), Some(then)) = (p.value.get("if"), p.value.get("then")) else {
                    return false;
                };
                listed(then) && condition_holds(cond, facts)
            })
    }

    /// Every declared property (name, node, pointer), first declaration wins.
    fn properties(self) -> Vec<(String, Node<'a>, String)> {
        let mut out: Vec<(String, Node<'a>, String)> = Vec::new();
        for p in self.parts() {
            let Some(props) = p.value.get("properties").and_then(Value::as_object) else {
                continue;
            };
            for (name, v) in props {
                if v == &Value::Bool(false) || out.iter().any(|(n, _, _)| n == name) {
                    continue;
                }
                if let Some(ptr) = pointer_of(p.file, v) {
                    out.push((
                        name.clone(),
                        Node {
                            file: p.file,
                            value: v,
                        }
                        .resolve(),
                        ptr,
                    ));
                }
            }
        }
        out
    }

    /// The values a field may take (`enum`, `const`), when the schema lists them.
    fn choices(self) -> Option<BTreeSet<String>> {
        let node = self.resolve();
        if let Some(c) = node.value.get("const").and_then(Value::as_str) {
            return Some(BTreeSet::from([c.to_owned()]));
        }
        node.value.get("enum").and_then(Value::as_array).map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
    }
}

/// Whether an `if` schema (`properties.f.const`) is satisfied by the facts.
fn condition_holds(cond: &Value, facts: &BTreeMap<String, BTreeSet<String>>) -> bool {
    let Some(props) = cond.get("properties").and_then(Value::as_object) else {
        return false;
    };
    !props.is_empty()
        && props.iter().all(|(field, c)| {
            let wanted: Option<BTreeSet<String>> = match (c.get("const"), c.get("enum")) {
                (Some(Value::String(v)), _) => Some(BTreeSet::from([v.clone()])),
                (_, Some(Value::Array(a))) => Some(
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect(),
                ),
                _ => None,
            };
            match (wanted, facts.get(field)) {
                (Some(w), Some(known)) => !known.is_empty() && known.is_subset(&w),
                _ => false,
            }
        })
}

/// The JSON pointer of a value inside its file (found by identity).
fn pointer_of(file: &SchemaFile, target: &Value) -> Option<String> {
    fn walk(v: &Value, target: *const Value, ptr: &mut String) -> bool {
        if std::ptr::eq(v, target) {
            return true;
        }
        let len = ptr.len();
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    ptr.push('/');
                    ptr.push_str(&k.replace('~', "~0").replace('/', "~1"));
                    if walk(child, target, ptr) {
                        return true;
                    }
                    ptr.truncate(len);
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    ptr.push_str(&format!("/{i}"));
                    if walk(child, target, ptr) {
                        return true;
                    }
                    ptr.truncate(len);
                }
            }
            _ => {}
        }
        false
    }
    let mut ptr = String::new();
    walk(&file.json, target, &mut ptr).then_some(ptr)
}

/// Position of every object key in a JSON text, by the JSON pointer of its value.
fn key_positions(text: &str) -> BTreeMap<String, Pos> {
    struct P<'t> {
        chars: Vec<char>,
        i: usize,
        line: usize,
        col: usize,
        out: BTreeMap<String, Pos>,
        _t: std::marker::PhantomData<&'t ()>,
    }
    impl P<'_> {
        fn peek(&self) -> Option<char> {
            self.chars.get(self.i).copied()
        }
        fn bump(&mut self) -> Option<char> {
            let c = self.peek()?;
            self.i += 1;
            if c == '\n' {
                self.line += 1;
                self.col = 1;
            } else {
                self.col += 1;
            }
            Some(c)
        }
        fn ws(&mut self) {
            while self.peek().is_some_and(char::is_whitespace) {
                self.bump();
            }
        }
        fn string(&mut self) -> String {
            let mut s = String::new();
            self.bump(); // opening quote
            while let Some(c) = self.bump() {
                match c {
                    '"' => break,
                    '\\' => {
                        if let Some(e) = self.bump() {
                            s.push(e);
                        }
                    }
                    c => s.push(c),
                }
            }
            s
        }
        fn value(&mut self, ptr: &str, depth: usize) {
            self.ws();
            match self.peek() {
                Some('{') if depth < 64 => {
                    self.bump();
                    loop {
                        self.ws();
                        match self.peek() {
                            Some('"') => {
                                let (line, column) = (self.line, self.col);
                                let key = self.string();
                                let child =
                                    format!("{ptr}/{}", key.replace('~', "~0").replace('/', "~1"));
                                self.out.insert(
                                    child.clone(),
                                    Pos {
                                        line,
                                        column,
                                        width: key.chars().count() + 2,
                                    },
                                );
                                self.ws();
                                self.bump(); // ':'
                                self.value(&child, depth + 1);
                                self.ws();
                                if self.peek() == Some(',') {
                                    self.bump();
                                }
                            }
                            Some('}') => {
                                self.bump();
                                break;
                            }
                            None => break,
                            _ => {
                                self.bump();
                            }
                        }
                    }
                }
                Some('[') if depth < 64 => {
                    self.bump();
                    let mut n = 0;
                    loop {
                        self.ws();
                        match self.peek() {
                            Some(']') => {
                                self.bump();
                                break;
                            }
                            None => break,
                            _ => {
                                self.value(&format!("{ptr}/{n}"), depth + 1);
                                n += 1;
                                self.ws();
                                if self.peek() == Some(',') {
                                    self.bump();
                                }
                            }
                        }
                    }
                }
                Some('"') => {
                    self.string();
                }
                Some(_) => {
                    while self
                        .peek()
                        .is_some_and(|c| !matches!(c, ',' | '}' | ']') && !c.is_whitespace())
                    {
                        self.bump();
                    }
                }
                None => {}
            }
        }
    }
    let mut p = P {
        chars: text.chars().collect(),
        i: 0,
        line: 1,
        col: 1,
        out: BTreeMap::new(),
        _t: std::marker::PhantomData,
    };
    p.value("", 0);
    p.out
}

// ---------------------------------------------------------------------------
// The walk.

/// What a template variable stands for.
#[derive(Debug, Clone)]
enum Binding {
    /// A path into the document's data (`c.services[]`, `a`, …).
    Data(Vec<Seg>),
    /// A value computed in the template; `tainted` when made from record data.
    Local { tainted: bool },
    /// tera's `loop` object.
    Loop,
}

/// An enclosing `if` branch or `for` body.
#[derive(Debug, Clone, Default)]
struct Scope {
    /// Paths known to be present (truthy) in this branch.
    guards: Vec<Vec<Seg>>,
    /// Paths known to hold one of these values in this branch.
    facts: Vec<(Vec<Seg>, Fact)>,
    /// Conditions of the `if`/`elif`s before the current branch (for `elif`/`else`).
    earlier: Vec<Condition>,
    /// Variables bound by this scope (`for` item, `set` inside it).
    vars: BTreeMap<String, Binding>,
    /// What opened this scope.
    kind: ScopeKind,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum ScopeKind {
    #[default]
    If,
    For,
    Other(String),
    /// A macro body: not linted (macros cannot see the context).
    Macro,
}

#[derive(Debug, Clone)]
enum Fact {
    /// One of these values.
    In(BTreeSet<String>),
    /// None of these values.
    NotIn(BTreeSet<String>),
}

/// A condition reduced to what it tells about paths when it holds or not.
#[derive(Debug, Clone, Default)]
struct Condition {
    /// Truthy paths when it holds (all operands joined by `and`).
    present: Vec<Vec<Seg>>,
    /// Paths known to be present when it does NOT hold (a single `not x`).
    present_if_false: Vec<Vec<Seg>>,
    /// Value facts when it holds.
    facts: Vec<(Vec<Seg>, Fact)>,
    /// Value facts when it does not hold (single comparison).
    facts_if_false: Vec<(Vec<Seg>, Fact)>,
}

/// One read of a data path at a place in a template file.
#[derive(Debug, Clone)]
struct Read {
    file: usize,
    offset: usize,
    len: usize,
    /// As written (`p.uscc`).
    written: String,
    /// Resolved (`a.uscc`).
    path: Vec<Seg>,
    template: String,
    guarded: Vec<Vec<Seg>>,
    facts: Vec<(Vec<Seg>, Fact)>,
    test: bool,
}

/// A problem found while walking, before deciding on shared partials.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Finding {
    file: usize,
    offset: usize,
    len: usize,
    code: &'static str,
    error: bool,
    message: String,
    hint: Option<String>,
}

struct Linter<'w> {
    ws: &'w Workspace,
    templates_dir: PathBuf,
    files: Vec<File>,
    by_name: BTreeMap<String, usize>,
    schemas: BTreeMap<String, Option<SchemaFile>>,
    reads: Vec<Read>,
    findings: BTreeSet<Finding>,
    diagnostics: Vec<Diagnostic>,
    /// `.tera` files reached from some template.
    reached: BTreeSet<String>,
    /// `.tera` files reached, per template.
    reached_by: BTreeMap<String, BTreeSet<String>>,
    /// Schema file → normalized paths read through it.
    used: BTreeMap<String, BTreeSet<Vec<Seg>>>,
}

impl<'w> Linter<'w> {
    fn new(ws: &'w Workspace) -> Self {
        let mut linter = Linter {
            ws,
            templates_dir: ws.templates_dir(),
            files: Vec::new(),
            by_name: BTreeMap::new(),
            schemas: BTreeMap::new(),
            reads: Vec::new(),
            findings: BTreeSet::new(),
            diagnostics: Vec::new(),
            reached: BTreeSet::new(),
            reached_by: BTreeMap::new(),
            used: BTreeMap::new(),
        };
        let mut names: Vec<String> = ws.templates.values().map(|t| t.schema.clone()).collect();
        names.push(PARTY_SCHEMA.to_owned());
        for name in names {
            let path = ws.schemas_dir().join(&name);
            let file = std::fs::read_to_string(&path).ok().and_then(|text| {
                let json = serde_json::from_str(&text).ok()?;
                let keys = key_positions(&text);
                Some(SchemaFile {
                    path,
                    text,
                    json,
                    keys,
                })
            });
            // Unreadable schemas are reported by validation (S200).
            linter.schemas.insert(name, file);
        }
        linter
    }

    /// The template file with tera name `name` (path relative to `templates/`), loaded once.
    fn file(&mut self, name: &str) -> Option<usize> {
        if let Some(i) = self.by_name.get(name) {
            return Some(*i);
        }
        let path = self.templates_dir.join(name);
        let text = std::fs::read_to_string(&path).ok()?;
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let items = scan(&text);
        self.files.push(File {
            path,
            text,
            line_starts,
            items,
        });
        let i = self.files.len() - 1;
        self.by_name.insert(name.to_owned(), i);
        Some(i)
    }

    fn find(
        &mut self,
        file: usize,
        offset: usize,
        len: usize,
        code: &'static str,
        message: String,
        hint: Option<String>,
    ) {
        self.findings.insert(Finding {
            file,
            offset,
            len,
            code,
            error: true,
            message,
            hint,
        });
    }

    /// Template folders without `template.toml` (they would be silently skipped).
    fn template_folders(&mut self) {
        let Ok(entries) = std::fs::read_dir(&self.templates_dir) else {
            return;
        };
        let mut dirs: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        for dir in dirs {
            let name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if SHARED_FOLDERS.contains(&name.as_str()) || name.starts_with(['_', '.']) {
                continue;
            }
            if dir.join("main.typ.tera").is_file() && !dir.join("template.toml").is_file() {
                self.diagnostics.push(
                    Diagnostic::error(
                        "T426",
                        format!("template folder `{name}` has a main.typ.tera but no template.toml, so it is not a template"),
                    )
                    .in_file(&dir.join("main.typ.tera"))
                    .hint("add template.toml with title, kind, schema, language and number"),
                );
            }
        }
    }

    /// Walks one template's main file with its includes.
    fn template(&mut self, name: &str) {
        let main = format!("{name}/main.typ.tera");
        let Some(file) = self.file(&main) else {
            return; // reported by the workspace (T403)
        };
        self.reached.insert(main);
        let mut scopes = vec![Scope {
            vars: BTreeMap::from([
                ("c".to_owned(), Binding::Data(vec![Seg::Key("c".into())])),
                ("a".to_owned(), Binding::Data(vec![Seg::Key("a".into())])),
                ("b".to_owned(), Binding::Data(vec![Seg::Key("b".into())])),
                (
                    "parent".to_owned(),
                    Binding::Data(vec![Seg::Key("parent".into())]),
                ),
                (
                    "parent_number".to_owned(),
                    Binding::Data(vec![Seg::Key("parent_number".into())]),
                ),
                (
                    "doc".to_owned(),
                    Binding::Data(vec![Seg::Key("doc".into())]),
                ),
            ]),
            kind: ScopeKind::Other("template".into()),
            ..Scope::default()
        }];
        self.walk(name, file, &mut scopes, 0);
    }

    fn walk(&mut self, template: &str, file: usize, scopes: &mut Vec<Scope>, depth: usize) {
        let items = self.files[file].items.clone();
        let base = scopes.len();
        for item in items {
            let in_macro = scopes.iter().any(|s| s.kind == ScopeKind::Macro);
            match item {
                Item::Unclosed { offset } => self.find(
                    file,
                    offset,
                    2,
                    "T431",
                    "this tag is never closed".into(),
                    Some("close it with `}}`, `%}` or `#}`".into()),
                ),
                Item::Text { offset, text } if !in_macro => {
                    self.typst_refs(file, offset, &text, &format!("/{template}"), true);
                }
                Item::Text { .. } => {}
                Item::Print { offset, expr } if !in_macro => {
                    let e = analyse(&expr);
                    self.reads_of(template, file, offset, &e, scopes, false);
                    self.safety(file, offset, &e, scopes);
                }
                Item::Print { .. } => {}
                Item::Tag { offset, body } => {
                    self.tag(template, file, offset, &body, scopes, depth, in_macro);
                }
            }
        }
        // Scopes left open at the end of an included file belong to it.
        scopes.truncate(base.max(1));
    }

    #[allow(clippy::too_many_arguments)]
    fn tag(
        &mut self,
        template: &str,
        file: usize,
        offset: usize,
        body: &str,
        scopes: &mut Vec<Scope>,
        depth: usize,
        in_macro: bool,
    ) {
        let (word, rest) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
        let rest_at = offset + body.len() - rest.len();
        let rest_at = rest_at + (rest.len() - rest.trim_start().len());
        let rest = rest.trim();
        match word {
            "macro" => scopes.push(Scope {
                kind: ScopeKind::Macro,
                ..Scope::default()
            }),
            "endmacro" => pop(scopes, |k| *k == ScopeKind::Macro),
            _ if in_macro => {}
            "if" => {
                let e = analyse(rest);
                self.reads_of(template, file, rest_at, &e, scopes, true);
                self.safety(file, rest_at, &e, scopes);
                let cond = self.condition(&e, scopes);
                let mut scope = Scope {
                    kind: ScopeKind::If,
                    ..Scope::default()
                };
                scope.guards = cond.present.clone();
                scope.facts = cond.facts.clone();
                scope.earlier.push(cond);
                scopes.push(scope);
            }
            "elif" | "else" => {
                let e = (word == "elif").then(|| analyse(rest));
                if let Some(e) = &e {
                    self.reads_of(template, file, rest_at, e, scopes, true);
                }
                let cond = e.as_ref().map(|e| self.condition(e, scopes));
                let Some(top) = scopes.last_mut() else { return };
                if top.kind != ScopeKind::If {
                    // `{% else %}` of a `for` (empty loop): nothing is known.
                    top.guards.clear();
                    top.facts.clear();
                    return;
                }
                top.guards.clear();
                top.facts.clear();
                for earlier in &top.earlier {
                    top.guards.extend(earlier.present_if_false.clone());
                    top.facts.extend(earlier.facts_if_false.clone());
                }
                if let Some(cond) = cond {
                    top.guards.extend(cond.present.clone());
                    top.facts.extend(cond.facts.clone());
                    top.earlier.push(cond);
                }
            }
            "endif" => pop(scopes, |k| *k == ScopeKind::If),
            "for" => {
                let Some((vars, iter)) = rest.split_once(" in ") else {
                    return;
                };
                let iter_at = rest_at + vars.len() + 4;
                let e = analyse(iter);
                self.reads_of(template, file, iter_at, &e, scopes, false);
                let source = e
                    .paths
                    .first()
                    .filter(|_| e.paths.len() == 1)
                    .and_then(|p| self.resolve(&p.segs, scopes));
                let mut scope = Scope {
                    kind: ScopeKind::For,
                    ..Scope::default()
                };
                let names: Vec<&str> = vars.split(',').map(str::trim).collect();
                let tainted = !e.paths.is_empty();
                match (names.as_slice(), source) {
                    ([item], Some(Binding::Data(mut path))) => {
                        path.push(Seg::Item);
                        scope.vars.insert((*item).to_owned(), Binding::Data(path));
                    }
                    _ => {
                        for n in names {
                            scope.vars.insert(n.to_owned(), Binding::Local { tainted });
                        }
                    }
                }
                scope.vars.insert("loop".into(), Binding::Loop);
                scopes.push(scope);
            }
            "endfor" => pop(scopes, |k| *k == ScopeKind::For),
            "set" | "set_global" => {
                let Some((name, value)) = rest.split_once('=') else {
                    return;
                };
                let value_at = rest_at + name.len() + 1;
                let lead = value.len() - value.trim_start().len();
                let e = analyse(value.trim_start());
                self.reads_of(template, file, value_at + lead, &e, scopes, false);
                self.safety(file, value_at + lead, &e, scopes);
                let simple = e.paths.len() == 1
                    && e.filters.is_empty()
                    && e.calls.is_empty()
                    && value.trim() == {
                        let p = &e.paths[0];
                        &value.trim_start()[p.at..p.at + p.len]
                    };
                let binding = match (
                    simple,
                    e.paths.first().and_then(|p| self.resolve(&p.segs, scopes)),
                ) {
                    (true, Some(b)) => b,
                    _ => Binding::Local {
                        tainted: e.paths.iter().any(|p| {
                            matches!(
                                self.resolve(&p.segs, scopes),
                                Some(Binding::Data(_)) | Some(Binding::Local { tainted: true })
                            )
                        }),
                    },
                };
                // tera 1: only `for` loops (and macros) open a frame; `if` does not.
                let target = if word == "set_global" {
                    0
                } else {
                    scopes
                        .iter()
                        .rposition(|s| matches!(s.kind, ScopeKind::For | ScopeKind::Macro))
                        .unwrap_or(0)
                };
                scopes[target].vars.insert(name.trim().to_owned(), binding);
            }
            "include" | "extends" | "import" => {
                let e = tokenize(rest);
                let names: Vec<(usize, String)> = e
                    .iter()
                    .filter_map(|(at, t)| match t {
                        Tok::Str(s) => Some((*at, s.clone())),
                        _ => None,
                    })
                    .collect();
                let optional = rest.contains("ignore missing");
                for (at, name) in names {
                    let Some(target) =
                        self.include_target(file, rest_at + at, name.len() + 2, &name, optional)
                    else {
                        continue;
                    };
                    self.reached_by
                        .entry(template.to_owned())
                        .or_default()
                        .insert(name.clone());
                    if word == "include" {
                        if depth >= MAX_INCLUDE_DEPTH {
                            self.find(
                                file,
                                rest_at + at,
                                name.len() + 2,
                                "T424",
                                format!("`{name}` is included too deeply (an include cycle?)"),
                                None,
                            );
                            continue;
                        }
                        self.reached.insert(name.clone());
                        self.walk(template, target, scopes, depth + 1);
                    } else {
                        self.reached.insert(name.clone());
                    }
                    if word == "import" {
                        break;
                    }
                }
            }
            "filter" => {
                let name = rest
                    .split(|c: char| !c.is_alphanumeric() && c != '_')
                    .next()
                    .unwrap_or("");
                if name == "safe" {
                    self.find(
                        file,
                        rest_at,
                        4,
                        "T423",
                        "`{% filter safe %}` turns off escaping for everything inside it".into(),
                        Some("record data must never become typst markup; write markup in the template and print values with `{{ … }}`".into()),
                    );
                }
                scopes.push(Scope {
                    kind: ScopeKind::Other("filter".into()),
                    ..Scope::default()
                });
            }
            "block" => scopes.push(Scope {
                kind: ScopeKind::Other("block".into()),
                ..Scope::default()
            }),
            "endfilter" | "endblock" => pop(scopes, |k| matches!(k, ScopeKind::Other(_))),
            _ => {}
        }
    }

    /// Checks a tera include name: inside `templates/`, and an existing template file.
    fn include_target(
        &mut self,
        file: usize,
        offset: usize,
        len: usize,
        name: &str,
        optional: bool,
    ) -> Option<usize> {
        if name.starts_with('/') || name.contains('\\') || name.split('/').any(|s| s == "..") {
            self.find(
                file,
                offset,
                len,
                "T425",
                format!("include `{name}` leaves the templates folder"),
                Some("includes are named by their path under templates/, e.g. \"clauses/zh/breach.typ.tera\"".into()),
            );
            return None;
        }
        let path = self.templates_dir.join(name);
        if path.is_file() && !self.inside_templates(&path) {
            self.find(
                file,
                offset,
                len,
                "T425",
                format!("include `{name}` is a link that leads out of the templates folder"),
                None,
            );
            return None;
        }
        if !path.is_file() || !name.ends_with(".tera") {
            if optional {
                return None;
            }
            let hint = self.closest_partial(name);
            self.findings.insert(Finding {
                file,
                offset,
                len,
                code: "T424",
                error: true,
                message: format!("unknown include `{name}`: there is no templates/{name}"),
                hint,
            });
            return None;
        }
        self.file(name)
    }

    fn inside_templates(&self, path: &Path) -> bool {
        match (path.canonicalize(), self.templates_dir.canonicalize()) {
            (Ok(p), Ok(root)) => p.starts_with(root),
            _ => false,
        }
    }

    /// "did you mean" for an unknown include.
    fn closest_partial(&self, name: &str) -> Option<String> {
        let mut best: Option<(usize, String)> = None;
        for e in walkdir::WalkDir::new(&self.templates_dir)
            .sort_by_file_name()
            .into_iter()
            .flatten()
        {
            if !e.file_type().is_file() || e.path().extension().is_none_or(|x| x != "tera") {
                continue;
            }
            let rel = e
                .path()
                .strip_prefix(&self.templates_dir)
                .unwrap_or(e.path())
                .to_string_lossy()
                .replace('\\', "/");
            let d = edit_distance(name, &rel);
            if best.as_ref().is_none_or(|(b, _)| d < *b) {
                best = Some((d, rel));
            }
        }
        best.filter(|(d, _)| *d <= name.len() / 3 + 1)
            .map(|(_, n)| format!("did you mean \"{n}\"?"))
    }

    /// typst `import`/`include`/`read(…)` paths in literal markup; in
    /// template text only after `#` (prose may say "include"), in `.typ` files anywhere.
    fn typst_refs(
        &mut self,
        file: usize,
        offset: usize,
        text: &str,
        virtual_dir: &str,
        need_hash: bool,
    ) {
        for func in TYPST_FILE_FUNCTIONS {
            for (at, _) in text.match_indices(func) {
                let before = text[..at].chars().next_back();
                let ok_before = match before {
                    Some('#') => true,
                    _ if need_hash => false,
                    Some(c) => !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.')),
                    None => true,
                };
                if !ok_before {
                    continue;
                }
                let after = &text[at + func.len()..];
                let rest = if matches!(*func, "import" | "include") {
                    let t = after.trim_start_matches([' ', '\t']);
                    if t.len() == after.len() {
                        continue;
                    }
                    t
                } else {
                    match after.strip_prefix('(') {
                        Some(t) => t.trim_start_matches([' ', '\t']),
                        None => continue,
                    }
                };
                let Some(quoted) = rest.strip_prefix('"') else {
                    continue;
                };
                let Some(end) = quoted.find('"') else {
                    continue;
                };
                let target_at = offset + at + func.len() + (after.len() - rest.len());
                self.typst_ref(file, target_at, &quoted[..end], virtual_dir);
            }
        }
    }

    fn typst_ref(&mut self, file: usize, offset: usize, target: &str, virtual_dir: &str) {
        let len = target.chars().count() + 2;
        if target.starts_with('@') {
            self.find(
                file,
                offset,
                len,
                "T428",
                format!("typst package `{target}` is not available: documents may only use files under templates/"),
                Some("copy what you need into templates/_lib/".into()),
            );
            return;
        }
        let joined = if target.starts_with('/') {
            target.to_owned()
        } else {
            format!("{virtual_dir}/{target}")
        };
        let mut parts: Vec<&str> = Vec::new();
        for seg in joined.split('/') {
            match seg {
                "" | "." => {}
                ".." => {
                    if parts.pop().is_none() {
                        self.find(
                            file,
                            offset,
                            len,
                            "T425",
                            format!("typst file `{target}` is outside the templates folder"),
                            Some("typst reads files only under templates/; paths starting with `/` start there".into()),
                        );
                        return;
                    }
                }
                s => parts.push(s),
            }
        }
        let path = self.templates_dir.join(parts.join("/"));
        if !path.is_file() {
            self.find(
                file,
                offset,
                len,
                "T424",
                format!(
                    "typst file `{target}` does not exist (looked for templates/{})",
                    parts.join("/")
                ),
                None,
            );
        } else if !self.inside_templates(&path) {
            self.find(
                file,
                offset,
                len,
                "T425",
                format!("typst file `{target}` is a link that leads out of the templates folder"),
                None,
            );
        }
    }

    /// Plain `.typ` files under templates/ (the shared library).
    fn typst_files(&mut self) {
        let mut paths = Vec::new();
        for e in walkdir::WalkDir::new(&self.templates_dir)
            .sort_by_file_name()
            .into_iter()
            .flatten()
        {
            if e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "typ") {
                paths.push(e.path().to_path_buf());
            }
        }
        for path in paths {
            let rel = path
                .strip_prefix(&self.templates_dir)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            let Some(file) = self.file(&rel) else {
                continue;
            };
            let dir = format!("/{}", rel.rsplit_once('/').map_or("", |(d, _)| d));
            let text = self.files[file].text.clone();
            self.typst_refs(file, 0, &text, &dir, false);
        }
    }

    /// `.tera` partials that no template includes.
    fn unreached_partials(&mut self) {
        let mut names = Vec::new();
        for e in walkdir::WalkDir::new(&self.templates_dir)
            .sort_by_file_name()
            .into_iter()
            .flatten()
        {
            if e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "tera") {
                let rel = e
                    .path()
                    .strip_prefix(&self.templates_dir)
                    .unwrap_or(e.path())
                    .to_string_lossy()
                    .replace('\\', "/");
                names.push((rel, e.path().to_path_buf()));
            }
        }
        for (rel, path) in names {
            let is_main = rel.ends_with("/main.typ.tera") && rel.matches('/').count() == 1;
            if !is_main && !self.reached.contains(&rel) {
                self.diagnostics.push(
                    Diagnostic::warning("T429", format!("`{rel}` is not included by any template"))
                        .in_file(&path)
                        .hint("remove it, or include it where it belongs"),
                );
            }
        }
    }

    /// What a variable name stands for here.
    fn resolve(&self, segs: &[Seg], scopes: &[Scope]) -> Option<Binding> {
        let Some(Seg::Key(first)) = segs.first() else {
            return None;
        };
        let binding = scopes.iter().rev().find_map(|s| s.vars.get(first))?;
        Some(match binding {
            Binding::Data(base) => {
                let mut p = base.clone();
                p.extend(segs[1..].iter().cloned());
                Binding::Data(p)
            }
            other => other.clone(),
        })
    }

    /// Facts and guards a condition gives.
    fn condition(&self, e: &Expr, scopes: &[Scope]) -> Condition {
        let mut c = Condition::default();
        if e.has_or {
            return c;
        }
        let single = e.operands == 1;
        for (i, p) in e.paths.iter().enumerate() {
            let Some(Binding::Data(path)) = self.resolve(&p.segs, scopes) else {
                continue;
            };
            if p.test {
                if p.negated {
                    if single {
                        c.present_if_false.push(path.clone());
                    }
                } else {
                    c.present.push(path.clone());
                }
            }
            for (idx, lit, equal) in &e.comparisons {
                if *idx != i {
                    continue;
                }
                let set = BTreeSet::from([lit.clone()]);
                let (yes, no) = if *equal {
                    (Fact::In(set.clone()), Fact::NotIn(set))
                } else {
                    (Fact::NotIn(set.clone()), Fact::In(set))
                };
                c.facts.push((path.clone(), yes));
                if single {
                    c.facts_if_false.push((path.clone(), no));
                }
            }
        }
        c
    }

    /// Records every data path an expression reads.
    fn reads_of(
        &mut self,
        template: &str,
        file: usize,
        offset: usize,
        e: &Expr,
        scopes: &[Scope],
        condition: bool,
    ) {
        let guards: Vec<Vec<Seg>> = scopes
            .iter()
            .flat_map(|s| s.guards.iter().cloned())
            .collect();
        let facts: Vec<(Vec<Seg>, Fact)> = scopes
            .iter()
            .flat_map(|s| s.facts.iter().cloned())
            .collect();
        for (name, at) in &e.calls {
            if IMPURE_FUNCTIONS.contains(&name.as_str()) {
                self.find(
                    file,
                    offset + at,
                    name.len(),
                    "T427",
                    format!("`{name}()` depends on the machine, not the records: the same inputs would give different documents"),
                    Some("take dates from the record (e.g. `c.signing_date | date_cn`)".into()),
                );
            }
        }
        for p in &e.paths {
            let written = show(&p.segs);
            match self.resolve(&p.segs, scopes) {
                Some(Binding::Data(path)) => self.reads.push(Read {
                    file,
                    offset: offset + p.at,
                    len: p.len,
                    written,
                    path,
                    template: template.to_owned(),
                    guarded: guards.clone(),
                    facts: facts.clone(),
                    test: condition && p.test,
                }),
                Some(Binding::Loop) => {
                    let field = match p.segs.get(1) {
                        Some(Seg::Key(k)) => k.as_str(),
                        _ => "",
                    };
                    if !["index", "index0", "first", "last"].contains(&field) {
                        self.find(
                            file,
                            offset + p.at,
                            p.len,
                            "T420",
                            format!("`{written}` does not exist: tera's loop has index, index0, first and last"),
                            None,
                        );
                    }
                }
                Some(Binding::Local { .. }) => {}
                None => {
                    let Seg::Key(first) = &p.segs[0] else {
                        continue;
                    };
                    self.find(
                        file,
                        offset + p.at,
                        first.len(),
                        "T420",
                        format!("variable `{first}` is not defined here (template `{template}`)"),
                        Some("templates see `doc`, `c` (the contract), `a` and `b` (the parties), `parent` and `parent_number`, and what `set`/`for` define before this point".into()),
                    );
                }
            }
        }
    }

    /// `| safe` on anything but a literal.
    fn safety(&mut self, file: usize, offset: usize, e: &Expr, scopes: &[Scope]) {
        let Some((_, at)) = e.filters.iter().find(|(f, _)| f == "safe") else {
            return;
        };
        let data: Vec<String> = e
            .paths
            .iter()
            .filter(|p| {
                matches!(
                    self.resolve(&p.segs, scopes),
                    Some(Binding::Data(_)) | Some(Binding::Local { tainted: true })
                )
            })
            .map(|p| show(&p.segs))
            .collect();
        if let Some(first) = data.first() {
            self.find(
                file,
                offset + at,
                4,
                "T423",
                format!("`| safe` prints `{first}` without escaping: record data would become typst markup"),
                Some("remove `| safe`; values are escaped for typst so they print literally".into()),
            );
        }
    }

    /// The schemas a root reads from, for template `t`.
    fn roots(&self, template: &str, root: &str) -> Vec<(&SchemaFile, String)> {
        let Some(t) = self.ws.templates.get(template) else {
            return Vec::new();
        };
        let get = |name: &str| {
            self.schemas
                .get(name)
                .and_then(Option::as_ref)
                .map(|f| (f, name.to_owned()))
        };
        match root {
            "c" => get(&t.schema).into_iter().collect(),
            "a" | "b" => get(PARTY_SCHEMA).into_iter().collect(),
            "parent" => match &t.parent_template {
                Some(p) => self
                    .ws
                    .templates
                    .get(p)
                    .and_then(|pt| get(&pt.schema))
                    .into_iter()
                    .collect(),
                None => {
                    let names: BTreeSet<&String> =
                        self.ws.templates.values().map(|t| &t.schema).collect();
                    names.into_iter().filter_map(|n| get(n)).collect()
                }
            },
            _ => Vec::new(),
        }
    }

    /// Checks every recorded read against the schemas.
    fn check_reads(&mut self) {
        let reads = std::mem::take(&mut self.reads);
        // (file, offset, path as written) → templates that declare the path.
        let mut declared_somewhere: BTreeSet<(usize, usize)> = BTreeSet::new();
        let mut undeclared: Vec<(Read, String, bool)> = Vec::new();
        for read in &reads {
            match self.check_read(read) {
                Verdict::Fine => {
                    declared_somewhere.insert((read.file, read.offset));
                }
                Verdict::Unguarded(message, hint) => {
                    declared_somewhere.insert((read.file, read.offset));
                    self.findings.insert(Finding {
                        file: read.file,
                        offset: read.offset,
                        len: read.len,
                        code: "T422",
                        error: true,
                        message,
                        hint: Some(hint),
                    });
                }
                Verdict::Undeclared(message) => {
                    let guarded = read.test || covered(&read.guarded, &read.path);
                    undeclared.push((read.clone(), message, guarded));
                }
            }
        }
        // A guarded optional field of a shared partial may be missing from some
        // templates' schemas, as long as one template using the partial declares it.
        let is_partial = |r: &Read, files: &[File], dir: &Path| {
            !files[r.file]
                .path
                .strip_prefix(dir)
                .is_ok_and(|p| p.components().count() == 2 && p.ends_with("main.typ.tera"))
        };
        for (read, message, guarded) in undeclared {
            if guarded
                && is_partial(&read, &self.files, &self.templates_dir)
                && declared_somewhere.contains(&(read.file, read.offset))
            {
                continue;
            }
            self.findings.insert(Finding {
                file: read.file,
                offset: read.offset,
                len: read.len,
                code: "T421",
                error: true,
                message,
                hint: Some(
                    "declare the field in the schema, or fix the name in the template".into(),
                ),
            });
        }
    }

    fn check_read(&mut self, read: &Read) -> Verdict {
        let Some(Seg::Key(root)) = read.path.first() else {
            return Verdict::Fine;
        };
        let t = read.template.clone();
        let via = if read.written == show(&read.path) {
            String::new()
        } else {
            format!(" (`{}` here)", read.written)
        };
        let rest = &read.path[1..];
        match root.as_str() {
            "doc" => match rest.first() {
                None => Verdict::Fine,
                Some(Seg::Key(k)) if DOC_FIELDS.contains(&k.as_str()) && rest.len() == 1 => {
                    Verdict::Fine
                }
                _ => Verdict::Undeclared(format!(
                    "`{}`{via} does not exist: `doc` has {}",
                    show(&read.path),
                    DOC_FIELDS.join(", ")
                )),
            },
            "parent" | "parent_number" => {
                let Some((cschema, _)) = self.roots(&t, "c").into_iter().next() else {
                    return Verdict::Fine;
                };
                let node = Node {
                    file: cschema,
                    value: &cschema.json,
                };
                if node.property("parent").is_none() {
                    return Verdict::Undeclared(format!(
                        "`{}`{via} is never set for template `{t}`: its schema ({}) has no `parent` field",
                        show(&read.path),
                        display(&cschema.path)
                    ));
                }
                let exists = node.requires("parent", &BTreeMap::new())
                    || covered(&read.guarded, &[Seg::Key("parent".into())])
                    || covered(&read.guarded, &[Seg::Key("parent_number".into())]);
                if !(exists || (read.test && rest.is_empty())) {
                    return Verdict::Unguarded(
                        format!(
                            "`{}`{via} is only set when the record has a `parent`, which is optional in {}",
                            show(&read.path),
                            display(&cschema.path)
                        ),
                        format!("wrap it in `{{% if {root} %}}`"),
                    );
                }
                if root == "parent_number" {
                    return Verdict::Fine;
                }
                self.check_in_schemas(read, &t, "parent", rest, &via)
            }
            "c" | "a" | "b" => self.check_in_schemas(read, &t, root, rest, &via),
            _ => Verdict::Fine,
        }
    }

    /// Walks `rest` through every schema of `root`: declared in any, required in all or guarded.
    fn check_in_schemas(
        &mut self,
        read: &Read,
        t: &str,
        root: &str,
        rest: &[Seg],
        via: &str,
    ) -> Verdict {
        let roots = self.roots(t, root);
        if roots.is_empty() {
            return Verdict::Fine; // schema unreadable: reported by validation
        }
        let mut nodes: Vec<Node> = roots
            .iter()
            .map(|(f, _)| Node {
                file: f,
                value: &f.json,
            })
            .collect();
        let root_path = vec![read.path[0].clone()];
        let mut prefix = root_path.clone();
        let mut verdict = Verdict::Fine;
        let mut used: Vec<(String, Vec<Seg>)> = Vec::new();
        for (i, seg) in rest.iter().enumerate() {
            let parent = prefix.clone();
            prefix.push(seg.clone());
            let mut next = Vec::new();
            let mut required_all = true;
            for node in &nodes {
                match seg {
                    Seg::Item => match node.items() {
                        Some(items) => next.push(items),
                        None => required_all = false,
                    },
                    Seg::Key(k) => match node.property(k) {
                        Some((child, _)) => {
                            let facts = facts_for(&read.facts, &parent, *node);
                            if !node.requires(k, &facts) {
                                required_all = false;
                            }
                            next.push(child);
                        }
                        None => required_all = false,
                    },
                }
            }
            if next.is_empty() {
                let schema = roots
                    .iter()
                    .map(|(f, _)| display(&f.path))
                    .collect::<Vec<_>>()
                    .join(", ");
                verdict = Verdict::Undeclared(if i == 0 {
                    format!(
                        "`{}`{via} is not declared in {schema} (template `{t}`)",
                        show(&read.path)
                    )
                } else {
                    format!(
                        "`{}`{via} is not declared in {schema} (template `{t}`): `{}` has no field `{}`",
                        show(&read.path),
                        show(&parent),
                        show(std::slice::from_ref(seg))
                    )
                });
                break;
            }
            for (f, name) in &roots {
                if next.iter().any(|n| std::ptr::eq(n.file, *f)) {
                    used.push((name.clone(), prefix[1..].to_vec()));
                }
            }
            // A bare truth test (`{% if c.x.y %}`) is false when any part is missing.
            if !required_all
                && !read.test
                && !covered(&read.guarded, &prefix)
                && matches!(verdict, Verdict::Fine)
            {
                let what = show(&prefix);
                verdict = Verdict::Unguarded(
                    if i + 1 == rest.len() {
                        format!(
                            "`{}`{via} is optional in the schema but printed without a guard (template `{t}`): a record without it fails to render",
                            show(&read.path)
                        )
                    } else {
                        format!(
                            "`{}`{via} reads inside `{what}`, which is optional in the schema and not guarded (template `{t}`)",
                            show(&read.path)
                        )
                    },
                    format!(
                        "wrap it in `{{% if {what} %}}…{{% endif %}}`, or make `{what}` required in the schema"
                    ),
                );
            }
            nodes = next;
        }
        // Seen prefixes count as used even when the rest is undeclared.
        for (schema, path) in used {
            self.used.entry(schema).or_default().insert(path);
        }
        verdict
    }

    /// Schema fields that no template reads (warnings at the field's key).
    fn unused_fields(&mut self) {
        let mut per_schema: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for t in self.ws.templates.values() {
            per_schema
                .entry(t.schema.clone())
                .or_default()
                .push(t.name.clone());
        }
        if !self.ws.templates.is_empty() {
            per_schema.insert(PARTY_SCHEMA.to_owned(), vec!["(all)".into()]);
        }
        for (schema, templates) in per_schema {
            let Some(Some(file)) = self.schemas.get(&schema) else {
                continue;
            };
            let used = self.used.get(&schema).cloned().unwrap_or_default();
            let skip: &[&str] = if schema == PARTY_SCHEMA {
                PIPELINE_PARTY_FIELDS
            } else {
                PIPELINE_CONTRACT_FIELDS
            };
            let mut unused = Vec::new();
            let root = Node {
                file,
                value: &file.json,
            };
            for (name, node, ptr) in root.properties() {
                if skip.contains(&name.as_str()) {
                    continue;
                }
                unused_below(node, vec![Seg::Key(name)], ptr, &used, &mut unused, 0);
            }
            let who = if schema == PARTY_SCHEMA {
                "any template".to_owned()
            } else if templates.len() == 1 {
                format!("template `{}`", templates[0])
            } else {
                format!("templates {}", templates.join(", "))
            };
            for (path, ptr) in unused {
                let pos = file.keys.get(&ptr).copied().unwrap_or(Pos {
                    line: 1,
                    column: 1,
                    width: 1,
                });
                self.diagnostics.push(
                    Diagnostic::warning(
                        "T430",
                        format!("schema field `{}` is not printed by {who}", show(&path)),
                    )
                    .at(&file.path, &file.text, pos)
                    .pointer(ptr)
                    .hint(
                        "print it in the template, or remove it from the schema if nobody needs it",
                    ),
                );
            }
        }
    }

    fn finish(mut self) -> Vec<Diagnostic> {
        for f in std::mem::take(&mut self.findings) {
            let file = &self.files[f.file];
            let pos = file.pos(
                f.offset,
                file.text[f.offset.min(file.text.len())..]
                    .chars()
                    .take(f.len)
                    .count(),
            );
            let d = if f.error {
                Diagnostic::error(f.code, f.message)
            } else {
                Diagnostic::warning(f.code, f.message)
            };
            let d = d.at(&file.path, &file.text, pos);
            self.diagnostics.push(match f.hint {
                Some(h) => d.hint(h),
                None => d,
            });
        }
        self.diagnostics.dedup();
        self.diagnostics
    }
}

enum Verdict {
    Fine,
    /// Message, hint.
    Unguarded(String, String),
    Undeclared(String),
}

fn pop(scopes: &mut Vec<Scope>, is: impl Fn(&ScopeKind) -> bool) {
    if scopes.len() > 1 && scopes.last().is_some_and(|s| is(&s.kind)) {
        scopes.pop();
    }
}

/// Whether some guard shows `path` is present (a guard on `x.y.z` shows `x.y` too).
fn covered(guards: &[Vec<Seg>], path: &[Seg]) -> bool {
    guards.iter().any(|g| g.starts_with(path))
}

/// Facts about the fields of the object at `object` (keyed by field name),
/// with `NotIn` turned into the remaining choices of the field's enum.
fn facts_for(
    facts: &[(Vec<Seg>, Fact)],
    object: &[Seg],
    node: Node,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, fact) in facts {
        let Some((Seg::Key(field), parent)) = path.split_last() else {
            continue;
        };
        if parent != object {
            continue;
        }
        let choices = node.property(field).and_then(|(n, _)| n.choices());
        let set = match (fact, choices) {
            (Fact::In(s), _) => s.clone(),
            (Fact::NotIn(s), Some(all)) => all.difference(s).cloned().collect(),
            (Fact::NotIn(_), None) => continue,
        };
        let entry = out.entry(field.clone()).or_insert_with(|| set.clone());
        *entry = entry.intersection(&set).cloned().collect();
    }
    out
}

/// Collects the highest unused fields under `node`.
fn unused_below(
    node: Node,
    path: Vec<Seg>,
    ptr: String,
    used: &BTreeSet<Vec<Seg>>,
    out: &mut Vec<(Vec<Seg>, String)>,
    depth: usize,
) {
    if !used.iter().any(|u| u.starts_with(&path)) {
        out.push((path, ptr));
        return;
    }
    if depth > 8 {
        return;
    }
    let mut node = node;
    let mut path = path;
    if let Some(items) = node.items() {
        node = items;
        path.push(Seg::Item);
    }
    for (name, child, child_ptr) in node.properties() {
        let mut p = path.clone();
        p.push(Seg::Key(name));
        unused_below(child, p, child_ptr, used, out, depth + 1);
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_finds_tags_with_offsets_and_whitespace_control() {
        let text = "a {{ c.x }} b {%- if c.y -%} d {# note #} {% endif %}";
        let items = scan(text);
        let prints: Vec<_> = items
            .iter()
            .filter_map(|i| match i {
                Item::Print { offset, expr } => Some((*offset, expr.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(prints, vec![(5, "c.x".to_owned())]);
        let tags: Vec<_> = items
            .iter()
            .filter_map(|i| match i {
                Item::Tag { offset, body } => Some((*offset, body.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(tags[0], (18, "if c.y".to_owned()));
        assert_eq!(&text[18..24], "if c.y");
        assert_eq!(tags[1].1, "endif");
    }

    #[test]
    fn expressions_give_paths_filters_tests_and_comparisons() {
        let e = analyse(r#"c.notices and c.notices.party_a and not b.x"#);
        let paths: Vec<String> = e.paths.iter().map(|p| show(&p.segs)).collect();
        assert_eq!(paths, ["c.notices", "c.notices.party_a", "b.x"]);
        assert!(e.paths.iter().all(|p| p.test));
        assert!(e.paths[2].negated);
        assert_eq!(e.operands, 3);

        let e = analyse(r#"amt | money(symbol="USD ") ~ c.items[0].name"#);
        assert_eq!(e.filters[0].0, "money");
        let paths: Vec<String> = e.paths.iter().map(|p| show(&p.segs)).collect();
        assert_eq!(paths, ["amt", "c.items[].name"]);
        assert!(!e.paths[0].test);

        let e = analyse(r#"p.type == "organization""#);
        assert_eq!(e.comparisons, vec![(0, "organization".to_owned(), true)]);
        assert!(!e.paths[0].test);

        let e = analyse("c.x is not defined");
        assert!(e.paths[0].test && e.paths[0].negated);
    }

    #[test]
    fn key_positions_point_at_nested_keys() {
        let text = "{\n  \"properties\": {\n    \"a\": { \"type\": \"string\" }\n  }\n}\n";
        let keys = key_positions(text);
        assert_eq!(keys["/properties/a"].line, 3);
        assert_eq!(keys["/properties/a"].column, 5);
        assert_eq!(keys["/properties/a/type"].column, 12);
    }
}

#[cfg(test)]
mod workspace_tests {
    use super::*;

    #[test]
    fn shipped_templates_have_no_lint_errors() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let (ws, _) = crate::workspace::load(root).unwrap();
        let diags = lint(&ws).diagnostics;
        for d in &diags {
            eprint!("{}", d.to_human(false));
        }
        assert!(!diags.iter().any(Diagnostic::is_error));
        // No warnings either: every declared field is printed or read by pactum.
        assert!(diags.is_empty(), "{} diagnostic(s)", diags.len());
        let partials = lint(&ws).partials;
        assert!(partials["msa-en"].contains("clauses/en/liability.typ.tera"));
        assert!(
            !partials["msa-en"]
                .iter()
                .any(|p| p.starts_with("clauses/zh/"))
        );
    }
}
