//! Validation: records against JSON Schemas, custom formats, references and fonts.
//!
//! Every problem of every record becomes a located `Diagnostic`; nothing
//! here stops at the first error. Schema errors are worded for people (not the
//! schema engine's phrasing) and carry a hint where the fix is obvious.
//! Placeholders left by `pactum new` (`<fill in>`) are reported once each
//! (S207) and hide every other finding about their value. This module knows
//! jsonschema; it does not know templates' markup or typst.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

use crate::cndate::parse_iso_date;
use crate::diagnostic::{Diagnostic, Pos, edit_distance, shorten};
use crate::ident;
use crate::money::Money;
use crate::placeholder;
use crate::record::{Record, RecordKind, escape_pointer};
use crate::store::Store;
use crate::workspace::Workspace;

/// The schema every party record is checked against.
pub const PARTY_SCHEMA: &str = "party.schema.json";

/// A party field that, when present, turns a failing 统一社会信用代码 check
/// into a warning. Some codes really issued fail the check (DOMAIN.md §2),
/// so the override exists, but it must be written down with a reason.
pub const USCC_OVERRIDE: &str = "uscc_override";

/// Compiled schemas by file name, with their JSON (descriptions for hints).
pub struct Schemas {
    validators: BTreeMap<String, Validator>,
    documents: BTreeMap<String, Value>,
}

impl Schemas {
    /// Compiles the party schema and every schema a template names.
    /// Problems in schema files are diagnostics on the schema file.
    pub fn compile(ws: &Workspace) -> (Schemas, Vec<Diagnostic>) {
        let mut names: BTreeSet<String> = ws.templates.values().map(|t| t.schema.clone()).collect();
        names.insert(PARTY_SCHEMA.to_owned());
        let mut validators = BTreeMap::new();
        let mut documents = BTreeMap::new();
        let mut diags = Vec::new();
        for name in names {
            let path = ws.schemas_dir().join(&name);
            match compile_one(&path) {
                Ok((v, json)) => {
                    validators.insert(name.clone(), v);
                    documents.insert(name, json);
                }
                Err(d) => diags.push(*d),
            }
        }
        (
            Schemas {
                validators,
                documents,
            },
            diags,
        )
    }
}

fn compile_one(path: &Path) -> Result<(Validator, Value), Box<Diagnostic>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Box::new(Diagnostic::error("S200", format!("failed to read schema ({e})")).in_file(path))
    })?;
    let json: Value = serde_json::from_str(&text).map_err(|e| {
        let pos = Pos {
            line: e.line(),
            column: e.column(),
            width: 1,
        };
        Box::new(
            Diagnostic::error("S200", format!("schema is not valid JSON: {e}"))
                .at(path, &text, pos),
        )
    })?;
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .with_format("uscc", |s: &str| ident::uscc_check(s).is_ok())
        .with_format("cn-resident-id", |s: &str| {
            ident::resident_id_check(s).is_ok()
        })
        .with_format("money", |s: &str| Money::parse(s).is_ok())
        .with_format("date", |s: &str| parse_iso_date(s).is_some())
        .build(&json)
        .map_err(|e| {
            Box::new(
                Diagnostic::error("S200", format!("schema is not a valid JSON Schema: {e}"))
                    .in_file(path)
                    .pointer(e.instance_path().as_str().to_owned()),
            )
        })?;
    Ok((validator, json))
}

/// The outcome of validation: which records are usable, and every problem found.
#[derive(Debug, Default)]
pub struct Report {
    /// Ids of records that have at least one error (directly or through a party).
    pub invalid: BTreeSet<String>,
    /// All problems, unsorted.
    pub diagnostics: Vec<Diagnostic>,
}

/// Validates all records: schema, formats, references and font coverage.
///
/// `can_draw` tells whether some embedded font has a glyph for a character;
/// `tick` is called after each record (progress).
pub fn validate(
    store: &Store,
    ws: &Workspace,
    schemas: &Schemas,
    can_draw: &(dyn Fn(char) -> bool + Sync),
    tick: &(dyn Fn() + Sync),
) -> Report {
    // Records are checked in parallel (rayon's pool: one thread per core or
    // `RAYON_NUM_THREADS`) and their findings gathered in input order.
    use rayon::prelude::*;
    let checked: Vec<(Vec<Diagnostic>, Option<String>)> = store
        .entries()
        .par_iter()
        .map(|e| {
            let found = check_record(store, ws, schemas, can_draw, &e.id);
            tick();
            found
        })
        .collect();
    let mut report = Report::default();
    for (diags, invalid) in checked {
        report.diagnostics.extend(diags);
        report.invalid.extend(invalid);
    }
    report
}

/// One record's schema, reference and glyph findings, and its id when they
/// hold an error (or its file changed since the scan: the store reports R111).
fn check_record(
    store: &Store,
    ws: &Workspace,
    schemas: &Schemas,
    can_draw: &dyn Fn(char) -> bool,
    id: &str,
) -> (Vec<Diagnostic>, Option<String>) {
    let Some(r) = store.get(id) else {
        return (Vec::new(), Some(id.to_owned()));
    };
    let r = &*r;
    let mut diags = Vec::new();
    let schema_name = match r.kind {
        RecordKind::Party => Some(PARTY_SCHEMA.to_owned()),
        RecordKind::Contract => template_schema(r, ws, &mut diags),
    };
    // Placeholders left by `pactum new`: one S207 each, and no other
    // finding about a value that is still to be written.
    let holes = placeholder::find(&r.value);
    let schema_doc = schema_name.as_ref().and_then(|n| schemas.documents.get(n));
    for hole in &holes {
        let d = placeholder::diagnostic(r, schema_doc, hole);
        diags.push(if matches!(hole.as_str(), "/party_a" | "/party_b") {
            let hint = d.hint.clone().unwrap_or_default();
            d.hint(format!("{hint} {}", party_ids(store)))
        } else {
            d
        });
    }
    let unfilled = |d: &Diagnostic| {
        d.pointer
            .as_deref()
            .is_some_and(|p| holes.iter().any(|h| placeholder::covers(h, p)))
    };
    if let Some(name) = schema_name {
        match schemas.validators.get(&name) {
            Some(v) => diags.extend(one_per_value(
                v.iter_errors(&r.value)
                    .map(|e| schema_diag(r, &e))
                    .filter(|d| !unfilled(d))
                    .collect(),
            )),
            None => diags.push(r.diag(
                "",
                Diagnostic::error("S201", format!(
                    "cannot check this record: schema `{name}` has errors (reported on the schema file)"
                )),
            )),
        }
    }
    if r.kind == RecordKind::Contract {
        check_references(r, store, &mut diags);
    }
    check_glyphs(r, &r.value, String::new(), can_draw, &mut diags);
    let invalid = diags.iter().any(Diagnostic::is_error).then(|| r.id.clone());
    (diags, invalid)
}

/// Marks contracts whose party is invalid as invalid too (S202, once per
/// contract). Run after every check that can make a party invalid (schema,
/// policy), so a contract is never built with a broken party.
pub fn propagate_party_errors(
    store: &Store,
    invalid: &mut BTreeSet<String>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let parties_invalid = store
        .entries()
        .iter()
        .any(|e| e.kind == RecordKind::Party && invalid.contains(&e.id));
    if !parties_invalid {
        return; // nothing to pass on: spares reading every contract again
    }
    let contracts: Vec<&str> = store
        .entries()
        .iter()
        .filter(|e| e.kind == RecordKind::Contract && !invalid.contains(&e.id))
        .map(|e| e.id.as_str())
        .collect();
    for r in contracts.into_iter().filter_map(|id| store.get(id)) {
        for field in ["party_a", "party_b"] {
            if let Some(pid) = r.str_at(&format!("/{field}"))
                && invalid.contains(pid)
                && !invalid.contains(&r.id)
            {
                invalid.insert(r.id.clone());
                diagnostics.push(
                    r.diag(
                        &format!("/{field}"),
                        Diagnostic::error(
                            "S202",
                            format!("party `{pid}` has errors (reported on the party record)"),
                        )
                        .hint("fix the party record; this contract is built once it is valid"),
                    ),
                );
            }
        }
    }
}

/// Drops a pattern error (S215) where a format check (S22x) already explains
/// the same value better: `"1,280,000.00"` gets the money message only.
fn one_per_value(diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let formats: BTreeSet<Option<String>> = diags
        .iter()
        .filter(|d| d.code.starts_with("S22"))
        .map(|d| d.pointer.clone())
        .collect();
    diags
        .into_iter()
        .filter(|d| d.code != "S215" || !formats.contains(&d.pointer))
        .collect()
}

fn template_schema(r: &Record, ws: &Workspace, diags: &mut Vec<Diagnostic>) -> Option<String> {
    let known = || ws.templates.keys().cloned().collect::<Vec<_>>().join(", ");
    match r.value.get("template") {
        Some(Value::String(t)) => match ws.templates.get(t) {
            Some(t) => Some(t.schema.clone()),
            None => {
                diags.push(
                    r.diag(
                        "/template",
                        Diagnostic::error("S203", format!("unknown template `{t}`")),
                    )
                    .hint(format!("templates in this workspace: {}", known())),
                );
                None
            }
        },
        _ => {
            diags.push(
                r.diag(
                    "",
                    Diagnostic::error("S203", "contract has no `template` field"),
                )
                .hint(format!("add `template: NAME`, one of: {}", known())),
            );
            None
        }
    }
}

fn check_references(r: &Record, store: &Store, diags: &mut Vec<Diagnostic>) {
    for field in ["party_a", "party_b"] {
        let ptr = format!("/{field}");
        let Some(pid) = r.str_at(&ptr) else { continue };
        if pid.trim() == placeholder::PLACEHOLDER {
            continue; // reported as S207
        }
        match store.kind(pid) {
            Some(RecordKind::Party) => {}
            Some(_) => diags.push(r.diag(
                &ptr,
                Diagnostic::error("S204", format!("`{pid}` is a contract, not a party")),
            )
            .hint("`party_a` and `party_b` name party records (`kind: party`); a supplementary agreement names the contract it changes in `parent`")),
            None => diags.push(
                r.diag(
                    &ptr,
                    Diagnostic::error("S204", format!("no party with id `{pid}`")),
                )
                .hint(suggest(pid, store, RecordKind::Party, &r.id)),
            ),
        }
    }
    if let Some(pid) = r.str_at("/parent")
        && pid.trim() != placeholder::PLACEHOLDER
    {
        match store.kind(pid) {
            Some(RecordKind::Contract) => {}
            _ => diags.push(
                r.diag(
                    "/parent",
                    Diagnostic::error(
                        "S205",
                        format!("no contract with id `{pid}` to be the parent"),
                    ),
                )
                .hint(suggest(pid, store, RecordKind::Contract, &r.id)),
            ),
        }
    }
}

/// The party ids a reference may name, for the hint of a party placeholder.
fn party_ids(store: &Store) -> String {
    let ids: Vec<&str> = store
        .entries()
        .iter()
        .filter(|e| e.kind == RecordKind::Party)
        .map(|e| e.id.as_str())
        .collect();
    match ids.len() {
        0 => "(no party records yet: add one with `kind: party`)".to_owned(),
        1..=8 => format!("(parties: {})", ids.join(", ")),
        n => format!("(parties: {}, … {} more)", ids[..8].join(", "), n - 8),
    }
}

/// A hint naming the closest existing id of the right kind (never the asking record itself).
fn suggest(missing: &str, store: &Store, kind: RecordKind, asking: &str) -> String {
    let best = store
        .entries()
        .iter()
        .filter(|e| e.kind == kind && e.id != asking)
        .map(|e| (edit_distance(missing, &e.id), e.id.as_str()))
        .min();
    match best {
        Some((d, id)) if d <= missing.len().max(3) / 2 => format!("did you mean `{id}`?"),
        _ => "check the id against the records in the records folder".into(),
    }
}

/// Reports characters no embedded font can draw, one diagnostic per field.
fn check_glyphs(
    r: &Record,
    v: &Value,
    ptr: String,
    can_draw: &dyn Fn(char) -> bool,
    diags: &mut Vec<Diagnostic>,
) {
    match v {
        Value::String(s) => {
            let missing: BTreeSet<char> = s
                .chars()
                .filter(|c| !c.is_whitespace() && !c.is_control() && !can_draw(*c))
                .collect();
            if !missing.is_empty() {
                let list: Vec<String> = missing
                    .iter()
                    .map(|c| format!("`{c}` (U+{:04X})", *c as u32))
                    .collect();
                diags.push(
                    r.diag(
                        &ptr,
                        Diagnostic::error("S206", format!(
                            "no embedded font can draw {}",
                            list.join(", ")
                        )),
                    )
                    .hint("use a standard character (CJK Ext B+ and symbols beyond the fonts are not printable), or add a font to templates/fonts"),
                );
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check_glyphs(r, item, format!("{ptr}/{i}"), can_draw, diags);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                check_glyphs(
                    r,
                    item,
                    format!("{ptr}/{}", escape_pointer(k)),
                    can_draw,
                    diags,
                );
            }
        }
        _ => {}
    }
}

/// Turns one schema error into a diagnostic worded for the record's author.
fn schema_diag(r: &Record, e: &ValidationError) -> Diagnostic {
    let ptr = e.instance_path().as_str().to_owned();
    let instance = e.instance();
    let d = match e.kind() {
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let child = format!("{ptr}/{}", escape_pointer(name));
            return r
                .diag(
                    &ptr,
                    Diagnostic::error("S210", format!("missing required field `{name}`")),
                )
                .pointer(child)
                .hint(format!("add a line `{name}: …`"));
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let name = unexpected.first().cloned().unwrap_or_default();
            let child = format!("{ptr}/{}", escape_pointer(&name));
            return r
                .diag(
                    &child,
                    Diagnostic::error(
                        "S211",
                        format!("unknown field `{}`", unexpected.join("`, `")),
                    ),
                )
                .hint("check the spelling against the schema; unknown fields are not allowed");
        }
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(set) => set
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            // Numbers are shown as written (`1280000.00`), not as parsed (`1280000.0`).
            let found = match (instance.as_ref(), r.source_text(&ptr)) {
                (Value::Number(_), Some(raw)) => format!("the number {}", shorten(&raw, 40)),
                _ => describe(instance),
            };
            let d = Diagnostic::error(
                "S212",
                format!("expected {} {expected}, found {found}", article(&expected)),
            );
            if r.was_float(&ptr) && expected == "string" {
                d.hint(format!(
                    "money and other exact numbers are decimal strings: write it in quotes, e.g. \"{}\"",
                    r.source_text(&ptr)
                        .unwrap_or_else(|| r.value.pointer(&ptr).map(|v| v.to_string()).unwrap_or_default())
                ))
            } else if expected == "string" && instance.is_number() {
                d.hint("put the value in quotes")
            } else {
                d
            }
        }
        ValidationErrorKind::Format { format } => {
            return format_diag(r, &ptr, format, instance);
        }
        ValidationErrorKind::Enum { options } => {
            let opts: Vec<String> = options
                .as_array()
                .map(|a| a.iter().map(|v| v.to_string()).collect())
                .unwrap_or_default();
            Diagnostic::error(
                "S213",
                format!("{} is not one of the allowed values", describe(instance)),
            )
            .hint(format!("use one of: {}", opts.join(", ")))
        }
        ValidationErrorKind::Constant { expected_value } => Diagnostic::error(
            "S214",
            format!("must be {expected_value}, found {}", describe(instance)),
        ),
        ValidationErrorKind::Pattern { pattern } => Diagnostic::error(
            "S215",
            format!("{} does not have the required form", describe(instance)),
        )
        .hint(format!("it must match the pattern {pattern}")),
        ValidationErrorKind::Maximum { limit } | ValidationErrorKind::Minimum { limit } => {
            let found = r.source_text(&ptr).unwrap_or_else(|| instance.to_string());
            let bound = if matches!(e.kind(), ValidationErrorKind::Maximum { .. }) {
                "at most"
            } else {
                "at least"
            };
            Diagnostic::error(
                "S219",
                format!("must be {bound} {limit}, found {}", shorten(&found, 40)),
            )
        }
        ValidationErrorKind::MinLength { limit: 1 } => {
            Diagnostic::error("S219", "must not be empty")
                .hint("write the value, or remove the line if the field is optional")
        }
        ValidationErrorKind::MinItems { limit } => {
            Diagnostic::error("S219", format!("the list needs at least {limit} item(s)"))
        }
        _ => Diagnostic::error("S219", shorten(&e.to_string(), 200)),
    };
    r.diag(&ptr, d)
}

/// Format failures get the checker's own reason (e.g. the expected check character).
fn format_diag(r: &Record, ptr: &str, format: &str, instance: &Value) -> Diagnostic {
    let full = instance.as_str().unwrap_or_default();
    let s = shorten(full, 40);
    let s = s.as_ref();
    let (message, hint) = match format {
        "uscc" => (
            match ident::uscc_check(full) {
                Err(e) => format!("invalid 统一社会信用代码 `{s}`: {e}"),
                Ok(()) => format!("invalid 统一社会信用代码 `{s}`"),
            },
            format!(
                "copy the code again from the business licence; if a code really issued fails the check, add `{USCC_OVERRIDE}: <reason>` to the party"
            ),
        ),
        "cn-resident-id" => (
            match ident::resident_id_check(full) {
                Err(e) => format!("invalid 居民身份证号码: {e}"),
                Ok(()) => "invalid 居民身份证号码".to_owned(),
            },
            "copy the number again from the ID card".to_owned(),
        ),
        "money" => (
            match Money::parse(full) {
                Err(e) => format!("invalid amount `{s}`: {e}"),
                Ok(_) => format!("invalid amount `{s}`"),
            },
            "write amounts as a quoted decimal string with at most 2 decimals, e.g. \"1280000.00\""
                .to_owned(),
        ),
        "date" => (
            format!("invalid date `{s}`"),
            "write dates as YYYY-MM-DD, e.g. 2026-11-20".to_owned(),
        ),
        other => (format!("`{s}` is not a valid {other}"), String::new()),
    };
    let code = match format {
        "uscc" => "S220",
        "cn-resident-id" => "S221",
        "money" => "S222",
        "date" => "S223",
        _ => "S229",
    };
    let overridden = format == "uscc"
        && r.kind == RecordKind::Party
        && r.str_at(&format!("/{USCC_OVERRIDE}"))
            .is_some_and(|reason| !reason.trim().is_empty());
    let d = if overridden {
        Diagnostic::warning(code, format!("{message} (accepted by `{USCC_OVERRIDE}`)"))
    } else {
        let d = Diagnostic::error(code, message);
        if hint.is_empty() { d } else { d.hint(hint) }
    };
    r.diag(ptr, d)
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "nothing (null)".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("\"{}\"", shorten(s, 60)),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}
