//! The compliance policy: the organisation's and the law's rules that a JSON
//! Schema cannot express, read from `schemas/policy.yaml`.
//!
//! `Policy::load` reads and checks the policy file itself (located P0001
//! diagnostics); `check` runs the rules (codes P01xx–P06xx, see `codes`) over
//! records that passed their schema, applies the severity overrides of the
//! policy and the `waivers` of each contract, and says which records may not
//! be built. Amounts are compared as `Money` (integer fen), never as floats.
//!
//! What a "clause" is: a named entry under `clauses:` in the policy, made of
//! the record fields that carry its terms (`fields`, all present and not
//! empty) and optionally the clause file its template must include
//! (`partial`, i.e. `templates/clauses/<language>/<partial>.typ.tera`).
//! `required_clauses` lists, per template, the clauses its contracts need.
//!
//! This module knows records (as JSON with positions) and template files as
//! text; it does not know schemas, tera or typst.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::LazyLock;

use chrono::{Months, NaiveDate};
use regex::Regex;
use serde_json::Value;

use crate::cndate::parse_iso_date;
use crate::codes;
use crate::diagnostic::{Diagnostic, Pos, Severity, shorten};
use crate::money::{self, Money};
use crate::record::{self, Record, RecordKind, SourceFile, YamlDoc, escape_pointer};
use crate::store::Store;
use crate::workspace::{Language, Workspace};

/// The policy file's name inside `schemas/`.
pub const POLICY_FILE: &str = "policy.yaml";

/// One approval tier: contracts whose amount is below `below` (and not in a lower tier).
#[derive(Debug, Clone)]
pub struct Tier {
    /// The tier's name as records write it in `approvals[].tier` (普通, 重要, 重大).
    pub name: String,
    /// Exclusive upper bound of the amount; `None` for the top tier.
    pub below: Option<Money>,
    /// Who approves, for messages (部门负责人).
    pub approver: String,
    /// Accepted `approvals[].role` values; `*` matches any text (`*负责人`).
    pub roles: Vec<String>,
}

/// A clause a template may be required to have.
#[derive(Debug, Clone)]
pub struct Clause {
    /// How the clause is called in messages (争议解决).
    pub title: String,
    /// Record fields (top level) that carry the clause's terms.
    pub fields: Vec<String>,
    /// Clause file the template must include: `clauses/<lang>/<partial>.typ.tera`.
    pub partial: Option<String>,
}

/// The organisation's compliance policy, validated.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Where it was read from.
    pub path: PathBuf,
    /// Approval tiers, lowest first.
    pub tiers: Vec<Tier>,
    /// Allowed confidentiality levels.
    pub confidentiality_levels: Vec<String>,
    /// Clause definitions by name.
    pub clauses: BTreeMap<String, Clause>,
    /// Required clause names per template name.
    pub required_clauses: BTreeMap<String, Vec<String>>,
    /// 定金 limit in percent of the price (民法典 586: 20).
    pub deposit_max_percent: u32,
    /// Lease term limit in years (民法典 705: 20).
    pub lease_max_years: u32,
    /// Templates whose effective → expiry term is a lease term.
    pub lease_templates: Vec<String>,
    /// Days after expiry a payment may still fall due.
    pub due_grace_days: u32,
    /// Texts that mark a party's name or address as an unfilled form.
    pub placeholders: Vec<String>,
    /// Severity overrides: `None` switches a rule off.
    pub severity: BTreeMap<&'static str, Option<Severity>>,
}

/// A contract's written exception to one policy rule.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Waiver {
    /// The rule's code, e.g. `P0301`.
    pub rule: String,
    /// Why the rule does not apply, who decided and when.
    pub reason: String,
}

/// The waivers a record carries (`waivers: [{rule, reason}]`), as written.
pub fn waivers(record: &Record) -> Vec<Waiver> {
    record
        .value
        .get("waivers")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|w| Waiver {
                    rule: w
                        .get("rule")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    reason: w
                        .get("reason")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                })
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Loading the policy file
// ---------------------------------------------------------------------------

impl Policy {
    /// Reads `schemas/policy.yaml`; `None` (with P0001 diagnostics) when it is missing or wrong.
    pub fn load(ws: &Workspace) -> (Option<Policy>, Vec<Diagnostic>) {
        let path = ws.schemas_dir().join(POLICY_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                let d = Diagnostic::error("P0001", format!("cannot read the policy file ({e})"))
                    .in_file(&path)
                    .hint("every workspace needs schemas/policy.yaml; copy the one shipped with pactum and adjust it (README, \"Compliance policy\")");
                return (None, vec![d]);
            }
        };
        let text = match record::decode(&path, bytes) {
            Ok(t) => t,
            Err(d) => return (None, vec![*d]),
        };
        let source = SourceFile { path, text };
        let (docs, mut diags) = match record::parse_documents(&source) {
            Ok(parsed) => parsed,
            Err(d) => return (None, vec![*d]),
        };
        let mut docs = docs.into_iter().filter(|d| !d.value.is_null());
        let Some(doc) = docs.next() else {
            diags.push(
                Diagnostic::error("P0001", "the policy file is empty")
                    .in_file(&source.path)
                    .hint("see README, \"Compliance policy\", for its form"),
            );
            return (None, diags);
        };
        if let Some(extra) = docs.next() {
            diags.push(
                Diagnostic::error("P0001", "the policy file holds more than one YAML document")
                    .at(&source.path, &source.text, extra.origin)
                    .hint("remove the `---` and merge the documents"),
            );
        }
        let mut rd = Reader {
            doc: &doc,
            source: &source,
            diags,
        };
        let policy = rd.policy(ws);
        let failed = rd.diags.iter().any(Diagnostic::is_error);
        (policy.filter(|_| !failed), rd.diags)
    }

    /// The severity of `code` after the policy's overrides; `None` when switched off.
    fn severity_of(&self, code: &'static str) -> Option<Severity> {
        match self.severity.get(code) {
            Some(s) => *s,
            None => Some(codes::lookup(code).map_or(Severity::Error, |c| c.severity)),
        }
    }
}

/// Reads the policy document and reports every problem at its place.
struct Reader<'a> {
    doc: &'a YamlDoc,
    source: &'a SourceFile,
    diags: Vec<Diagnostic>,
}

const TOP_KEYS: &[&str] = &[
    "approval",
    "confidentiality",
    "clauses",
    "required_clauses",
    "deposit",
    "lease",
    "payment",
    "parties",
    "rules",
];

impl Reader<'_> {
    fn get(&self, ptr: &str) -> Option<&Value> {
        self.doc.value.pointer(ptr)
    }

    fn err(&mut self, ptr: &str, message: String, hint: &str) {
        let mut d = Diagnostic::error("P0001", message)
            .at(&self.source.path, &self.source.text, self.doc.pos(ptr))
            .pointer(ptr);
        if !hint.is_empty() {
            d = d.hint(hint);
        }
        self.diags.push(d);
    }

    /// Checks that `ptr` is a mapping with only `allowed` keys and all `required` ones.
    fn mapping(&mut self, ptr: &str, allowed: &[&str], required: &[&str]) -> bool {
        let Some(Value::Object(map)) = self.get(ptr) else {
            let what = if ptr.is_empty() { "the policy" } else { ptr };
            self.err(
                ptr,
                format!("{what} must be a mapping of `key: value` lines"),
                "",
            );
            return false;
        };
        let unknown: Vec<String> = map
            .keys()
            .filter(|k| !allowed.contains(&k.as_str()))
            .cloned()
            .collect();
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|k| !map.contains_key(*k))
            .collect();
        for k in unknown {
            let child = format!("{ptr}/{}", escape_pointer(&k));
            self.err(
                &child,
                format!("unknown key `{}` in the policy", shorten(&k, 40)),
                &format!("known keys here: {}", allowed.join(", ")),
            );
        }
        for k in missing {
            self.err(
                ptr,
                format!(
                    "missing key `{k}`{}",
                    if ptr.is_empty() {
                        String::new()
                    } else {
                        format!(" in {ptr}")
                    }
                ),
                &format!("add `{k}: …`"),
            );
        }
        true
    }

    fn string(&mut self, ptr: &str) -> Option<String> {
        match self.get(ptr) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            _ => {
                self.err(ptr, format!("{ptr} must be a non-empty text"), "");
                None
            }
        }
    }

    fn strings(&mut self, ptr: &str, allow_empty: bool) -> Option<Vec<String>> {
        let Some(Value::Array(items)) = self.get(ptr) else {
            self.err(
                ptr,
                format!("{ptr} must be a list"),
                "write it as `[a, b]` or as `- a` lines",
            );
            return None;
        };
        let n = items.len();
        if n == 0 && !allow_empty {
            self.err(ptr, format!("{ptr} must not be empty"), "");
            return None;
        }
        let mut out = Vec::new();
        for i in 0..n {
            out.push(self.string(&format!("{ptr}/{i}"))?);
        }
        Some(out)
    }

    fn money(&mut self, ptr: &str) -> Option<Money> {
        let text = match self.get(ptr) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) if n.is_u64() => n.to_string(),
            _ => {
                self.err(
                    ptr,
                    format!("{ptr} must be an amount"),
                    "write amounts as quoted decimal strings, e.g. \"500000.00\"",
                );
                return None;
            }
        };
        match Money::parse(&text) {
            Ok(m) => Some(m),
            Err(e) => {
                self.err(
                    ptr,
                    format!("invalid amount `{}` ({e})", shorten(&text, 40)),
                    "write amounts as quoted decimal strings, e.g. \"500000.00\"",
                );
                None
            }
        }
    }

    fn number(&mut self, ptr: &str, min: u64, max: u64) -> Option<u32> {
        match self.get(ptr).and_then(Value::as_u64) {
            Some(n) if (min..=max).contains(&n) => u32::try_from(n).ok(),
            _ => {
                self.err(
                    ptr,
                    format!("{ptr} must be a whole number from {min} to {max}"),
                    "",
                );
                None
            }
        }
    }

    fn policy(&mut self, ws: &Workspace) -> Option<Policy> {
        if !self.mapping("", TOP_KEYS, TOP_KEYS) {
            return None;
        }
        let tiers = self.tiers();
        let levels = self.confidentiality();
        let clauses = self.clauses();
        let required = self.required_clauses(ws, clauses.as_ref());
        let deposit = self
            .mapping("/deposit", &["max_percent"], &["max_percent"])
            .then(|| self.number("/deposit/max_percent", 0, 100))
            .flatten();
        let lease = self.lease(ws);
        let grace = self
            .mapping("/payment", &["due_grace_days"], &["due_grace_days"])
            .then(|| self.number("/payment/due_grace_days", 0, 3660))
            .flatten();
        let placeholders = self
            .mapping("/parties", &["placeholders"], &["placeholders"])
            .then(|| self.strings("/parties/placeholders", true))
            .flatten();
        let severity = self.rules();
        let (lease_max_years, lease_templates) = lease?;
        Some(Policy {
            path: self.source.path.clone(),
            tiers: tiers?,
            confidentiality_levels: levels?,
            clauses: clauses?,
            required_clauses: required?,
            deposit_max_percent: deposit?,
            lease_max_years,
            lease_templates,
            due_grace_days: grace?,
            placeholders: placeholders?,
            severity: severity?,
        })
    }

    fn tiers(&mut self) -> Option<Vec<Tier>> {
        if !self.mapping("/approval", &["tiers"], &["tiers"]) {
            return None;
        }
        let Some(Value::Array(items)) = self.get("/approval/tiers") else {
            self.err(
                "/approval/tiers",
                "/approval/tiers must be a list of tiers, lowest first".into(),
                "",
            );
            return None;
        };
        let n = items.len();
        if n == 0 {
            self.err(
                "/approval/tiers",
                "at least one approval tier is needed".into(),
                "",
            );
            return None;
        }
        let mut tiers: Vec<Tier> = Vec::new();
        let mut ok = true;
        for i in 0..n {
            let p = format!("/approval/tiers/{i}");
            let last = i + 1 == n;
            if !self.mapping(
                &p,
                &["tier", "below", "approver", "roles"],
                &["tier", "approver", "roles"],
            ) {
                ok = false;
                continue;
            }
            let name = self.string(&format!("{p}/tier"));
            let approver = self.string(&format!("{p}/approver"));
            let roles = self.strings(&format!("{p}/roles"), false);
            let below = match (self.get(&format!("{p}/below")).is_some(), last) {
                (true, true) => {
                    self.err(
                        &format!("{p}/below"),
                        "the highest tier has no upper limit".into(),
                        "remove `below` from the last tier; it takes every amount above the tier before it",
                    );
                    ok = false;
                    None
                }
                (true, false) => self.money(&format!("{p}/below")),
                (false, true) => None,
                (false, false) => {
                    self.err(
                        &p,
                        "every tier but the last needs `below: AMOUNT` (the amount where the next tier starts)".into(),
                        "",
                    );
                    ok = false;
                    None
                }
            };
            let (Some(name), Some(approver), Some(roles)) = (name, approver, roles) else {
                ok = false;
                continue;
            };
            if let (Some(b), Some(prev)) = (below, tiers.last().and_then(|t| t.below))
                && b <= prev
            {
                self.err(
                    &format!("{p}/below"),
                    format!(
                        "tier `{name}` starts at {} but ends at {}; tiers go from the lowest amount up",
                        money::format_grouped(prev, "¥"),
                        money::format_grouped(b, "¥")
                    ),
                    "",
                );
                ok = false;
            }
            if tiers.iter().any(|t| t.name == name) {
                self.err(
                    &format!("{p}/tier"),
                    format!("tier `{name}` is listed twice"),
                    "",
                );
                ok = false;
            }
            tiers.push(Tier {
                name,
                below,
                approver,
                roles,
            });
        }
        ok.then_some(tiers)
    }

    fn confidentiality(&mut self) -> Option<Vec<String>> {
        if !self.mapping("/confidentiality", &["levels"], &["levels"]) {
            return None;
        }
        self.strings("/confidentiality/levels", false)
    }

    fn clauses(&mut self) -> Option<BTreeMap<String, Clause>> {
        let Some(Value::Object(map)) = self.get("/clauses") else {
            self.err(
                "/clauses",
                "/clauses must be a mapping of clause names to clauses".into(),
                "",
            );
            return None;
        };
        let names: Vec<String> = map.keys().cloned().collect();
        let mut out = BTreeMap::new();
        let mut ok = true;
        for name in names {
            let p = format!("/clauses/{}", escape_pointer(&name));
            if !self.mapping(&p, &["title", "fields", "partial"], &["title"]) {
                ok = false;
                continue;
            }
            let title = self.string(&format!("{p}/title"));
            let fields = match self.get(&format!("{p}/fields")) {
                None => Some(Vec::new()),
                Some(_) => self.strings(&format!("{p}/fields"), false),
            };
            let partial = match self.get(&format!("{p}/partial")) {
                None => Some(None),
                Some(_) => self.string(&format!("{p}/partial")).map(Some),
            };
            let (Some(title), Some(fields), Some(partial)) = (title, fields, partial) else {
                ok = false;
                continue;
            };
            if fields.is_empty() && partial.is_none() {
                self.err(
                    &p,
                    format!("clause `{name}` has neither `fields` nor `partial`, so it can never be missing"),
                    "list the record fields that carry the clause, or the clause file the template must include",
                );
                ok = false;
            }
            if let Some(part) = &partial
                && !part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
            {
                self.err(
                    &format!("{p}/partial"),
                    format!("`{}` is not a clause file name", shorten(part, 40)),
                    "give the file name without folder and extension, e.g. `dispute` for clauses/<language>/dispute.typ.tera",
                );
                ok = false;
            }
            out.insert(
                name,
                Clause {
                    title,
                    fields,
                    partial,
                },
            );
        }
        ok.then_some(out)
    }

    fn required_clauses(
        &mut self,
        ws: &Workspace,
        clauses: Option<&BTreeMap<String, Clause>>,
    ) -> Option<BTreeMap<String, Vec<String>>> {
        let Some(Value::Object(map)) = self.get("/required_clauses") else {
            self.err(
                "/required_clauses",
                "/required_clauses must map template names to lists of clause names".into(),
                "",
            );
            return None;
        };
        let templates: Vec<String> = map.keys().cloned().collect();
        let known = ws.templates.keys().cloned().collect::<Vec<_>>().join(", ");
        let mut out = BTreeMap::new();
        let mut ok = true;
        for t in templates {
            let p = format!("/required_clauses/{}", escape_pointer(&t));
            if !ws.templates.contains_key(&t) {
                // A policy may be shared by workspaces with different templates.
                self.diags.push(
                    Diagnostic::warning(
                        "P0001",
                        format!(
                            "no template `{}` in this workspace; its required clauses are not checked",
                            shorten(&t, 40)
                        ),
                    )
                    .at(&self.source.path, &self.source.text, self.doc.pos(&p))
                    .pointer(p.clone())
                    .hint(format!("templates here: {known}; check the spelling")),
                );
                continue;
            }
            let Some(names) = self.strings(&p, true) else {
                ok = false;
                continue;
            };
            for (i, n) in names.iter().enumerate() {
                if clauses.is_some_and(|c| !c.contains_key(n)) {
                    let defined = clauses
                        .map(|c| c.keys().cloned().collect::<Vec<_>>().join(", "))
                        .unwrap_or_default();
                    self.err(
                        &format!("{p}/{i}"),
                        format!("no clause `{}` under `clauses`", shorten(n, 40)),
                        &format!("clauses defined: {defined}"),
                    );
                    ok = false;
                }
            }
            out.insert(t, names);
        }
        ok.then_some(out)
    }

    fn lease(&mut self, ws: &Workspace) -> Option<(u32, Vec<String>)> {
        if !self.mapping(
            "/lease",
            &["max_years", "templates"],
            &["max_years", "templates"],
        ) {
            return None;
        }
        let years = self.number("/lease/max_years", 1, 100);
        let templates = self.strings("/lease/templates", true)?;
        for (i, t) in templates.iter().enumerate() {
            if !ws.templates.contains_key(t) {
                self.err(
                    &format!("/lease/templates/{i}"),
                    format!("no template `{}` in this workspace", shorten(t, 40)),
                    "",
                );
                return None;
            }
        }
        Some((years?, templates))
    }

    fn rules(&mut self) -> Option<BTreeMap<&'static str, Option<Severity>>> {
        let Some(Value::Object(map)) = self.get("/rules") else {
            self.err(
                "/rules",
                "/rules must be a mapping of rule codes to error, warning or off".into(),
                "write `rules: {}` to keep every rule's default severity",
            );
            return None;
        };
        let entries: Vec<(String, Value)> =
            map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (k, v) in entries {
            let p = format!("/rules/{}", escape_pointer(&k));
            let Some(code) = codes::lookup(&k).filter(|c| codes::is_policy_rule(c.code)) else {
                self.err(
                    &p,
                    format!("`{}` is not a policy rule", shorten(&k, 40)),
                    "policy rules are P0101…P0604; `pactum explain` lists them",
                );
                ok = false;
                continue;
            };
            let sev = match v.as_str() {
                Some("error") => Some(Severity::Error),
                Some("warning") => Some(Severity::Warning),
                Some("off") => None,
                _ => {
                    self.err(
                        &p,
                        format!("severity of {} must be error, warning or off", code.code),
                        "",
                    );
                    ok = false;
                    continue;
                }
            };
            out.insert(code.code, sev);
        }
        ok.then_some(out)
    }
}

// ---------------------------------------------------------------------------
// Checking records
// ---------------------------------------------------------------------------

/// The outcome of the policy checks.
#[derive(Debug, Default)]
pub struct Report {
    /// Problems found (already graded and waived).
    pub diagnostics: Vec<Diagnostic>,
    /// Ids of records that must not be built.
    pub invalid: BTreeSet<String>,
    /// Rules that found something to check in at least one record (for tests and reports).
    pub exercised: BTreeSet<&'static str>,
}

/// Runs every rule over the records in `store`, skipping the ids in `skip` (records that
/// failed their schema: checking them again would only repeat the problem).
pub fn check(store: &Store, ws: &Workspace, policy: &Policy, skip: &BTreeSet<String>) -> Report {
    let mut report = Report::default();
    let broken_templates = check_templates(ws, policy, &mut report);
    // Records are checked in parallel and their findings gathered in input order.
    use rayon::prelude::*;
    let checked: Vec<Checked> = store
        .entries()
        .par_iter()
        .filter(|e| !skip.contains(&e.id))
        .filter_map(|e| store.get(&e.id))
        .map(|r| {
            let mut exercised = BTreeSet::new();
            let diagnostics = check_record(&r, store, policy, &mut exercised);
            let invalid = diagnostics.iter().any(Diagnostic::is_error)
                || r.str_at("/template")
                    .is_some_and(|t| broken_templates.contains(t));
            Checked {
                diagnostics,
                invalid: invalid.then(|| r.id.clone()),
                exercised,
            }
        })
        .collect();
    for c in checked {
        report.diagnostics.extend(c.diagnostics);
        report.invalid.extend(c.invalid);
        report.exercised.extend(c.exercised);
    }
    report
}

/// One record's findings in [`check`].
struct Checked {
    diagnostics: Vec<Diagnostic>,
    invalid: Option<String>,
    exercised: BTreeSet<&'static str>,
}

/// Every rule over one record, graded and waived.
fn check_record(
    r: &Record,
    store: &Store,
    policy: &Policy,
    exercised: &mut BTreeSet<&'static str>,
) -> Vec<Diagnostic> {
    // A supplementary agreement's parent (amount tier, dates, parties).
    let parent = r.str_at("/parent").and_then(|p| store.get(p));
    let parent = parent.as_deref();
    let mut cx = Cx {
        r,
        policy,
        out: Vec::new(),
        exercised,
    };
    match r.kind {
        RecordKind::Party => cx.party(),
        RecordKind::Contract => {
            cx.approvals(parent);
            cx.confidentiality();
            cx.clauses();
            cx.money();
            cx.dispute();
            cx.dates(parent);
            cx.texts();
            cx.parties(parent);
        }
    }
    let raw = std::mem::take(&mut cx.out);
    grade_and_waive(r, policy, raw)
}

/// P0203: templates that must include a clause file and do not.
fn check_templates(ws: &Workspace, policy: &Policy, report: &mut Report) -> BTreeSet<String> {
    let mut broken = BTreeSet::new();
    for (name, required) in &policy.required_clauses {
        let Some(t) = ws.templates.get(name) else {
            continue;
        };
        let main = t.dir.join("main.typ.tera");
        let Ok(text) = std::fs::read_to_string(&main) else {
            continue;
        };
        let lang = match t.language {
            Language::Zh => "zh",
            Language::En => "en",
        };
        for clause_name in required {
            let Some(clause) = policy.clauses.get(clause_name) else {
                continue;
            };
            let Some(partial) = &clause.partial else {
                continue;
            };
            report.exercised.insert("P0203");
            let file = format!("clauses/{lang}/{partial}.typ.tera");
            if !text.contains(&file) {
                report.diagnostics.push(
                    Diagnostic::error(
                        "P0203",
                        format!(
                            "template `{name}` does not include the {} clause ({file}), which the policy requires; none of its contracts is built",
                            clause.title
                        ),
                    )
                    .in_file(&main)
                    .hint(format!(
                        "add `{{% include \"{file}\" %}}` where the clause belongs, or remove `{clause_name}` from required_clauses.{name} in {}",
                        shown_path(&policy.path)
                    )),
                );
                broken.insert(name.clone());
            }
        }
    }
    broken
}

/// Applies the policy's severity overrides and the record's waivers; adds the
/// waiver diagnostics (P0002–P0004).
fn grade_and_waive(r: &Record, policy: &Policy, raw: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let waivers = waivers(r);
    let mut valid: BTreeMap<&str, (usize, &str)> = BTreeMap::new();
    for (i, w) in waivers.iter().enumerate() {
        let ptr = format!("/waivers/{i}");
        match codes::lookup(&w.rule).filter(|c| codes::is_policy_rule(c.code)) {
            None => out.push(
                r.diag(
                    &format!("{ptr}/rule"),
                    Diagnostic::error("P0003", format!("`{}` is not a policy rule, so it cannot be waived", shorten(&w.rule, 40))),
                )
                .hint("waive the code a policy diagnostic shows (P0101…P0604); `pactum explain` lists them"),
            ),
            Some(c) if !c.waivable => out.push(
                r.diag(
                    &format!("{ptr}/rule"),
                    Diagnostic::error(
                        "P0003",
                        format!("rule {} ({}) cannot be waived", c.code, c.title),
                    ),
                )
                .hint("fix the record instead; `pactum explain` marks the rules that can be waived"),
            ),
            Some(c) => {
                if w.reason.trim().is_empty() {
                    out.push(
                        r.diag(
                            &format!("{ptr}/reason"),
                            Diagnostic::error("P0002", format!("the waiver of {} gives no reason", c.code)),
                        )
                        .hint("say why the rule does not apply, who decided and when, e.g. `reason: 经法务部张某2026年3月10日审核同意，超出部分按预付款处理`"),
                    );
                } else {
                    valid.insert(c.code, (i, w.reason.as_str()));
                }
            }
        }
    }
    let mut used = BTreeSet::new();
    for mut d in raw {
        let Some(severity) = policy.severity_of(d.code) else {
            continue; // switched off in the policy
        };
        d.severity = severity;
        if let Some((_, reason)) = valid.get(d.code) {
            used.insert(d.code);
            d.severity = Severity::Note;
            d.message = format!("{} (waived: {})", d.message, shorten(reason.trim(), 200));
            d.hint = None;
        }
        out.push(d);
    }
    for (code, (i, _)) in &valid {
        if !used.contains(code) {
            out.push(
                r.diag(
                    &format!("/waivers/{i}/rule"),
                    Diagnostic::warning(
                        "P0004",
                        format!("the waiver of {code} is not needed: the record passes that rule"),
                    ),
                )
                .hint("remove the waiver, so that it cannot hide a problem introduced later"),
            );
        }
    }
    out
}

/// The checks of one record, collecting raw (ungraded) diagnostics.
struct Cx<'a, 'e> {
    r: &'a Record,
    policy: &'a Policy,
    out: Vec<Diagnostic>,
    exercised: &'e mut BTreeSet<&'static str>,
}

/// A path for messages, without a leading `./`.
fn shown_path(path: &std::path::Path) -> String {
    path.strip_prefix(".").unwrap_or(path).display().to_string()
}

fn yuan(m: Money) -> String {
    money::format_grouped(m, "¥")
}

fn money_at(r: &Record, ptr: &str) -> Option<Money> {
    r.str_at(ptr).and_then(|s| Money::parse(s).ok())
}

fn date_at(r: &Record, ptr: &str) -> Option<NaiveDate> {
    r.str_at(ptr).and_then(parse_iso_date)
}

/// Whether a record value counts as present: there, not null, not blank, not empty.
fn present(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(_) => true,
    }
}

/// `*` matches any text (including none); everything else literally.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return pattern == text;
    };
    if parts.len() == 1 {
        return pattern == text;
    }
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// A diagnostic at the value at `ptr`, narrowed to `found` when it can be
/// seen on the value's first source line (so the caret marks the words).
fn diag_in(r: &Record, ptr: &str, found: &str, d: Diagnostic) -> Diagnostic {
    let mut d = r.diag(ptr, d);
    if let Some(pos) = d.pos
        && let Some(line) = r.source.text.lines().nth(pos.line.saturating_sub(1))
        && let Some((start, _)) = line.char_indices().nth(pos.column.saturating_sub(1))
        && let Some(off) = line.get(start..).and_then(|l| l.find(found))
    {
        let column = line[..start + off].chars().count() + 1;
        let narrowed = Pos {
            line: pos.line,
            column,
            width: found.chars().count().max(1),
        };
        d = d.at(&r.source.path, &r.source.text, narrowed);
    }
    d
}

impl Cx<'_, '_> {
    fn push(&mut self, d: Diagnostic) {
        self.out.push(d);
    }

    fn ran(&mut self, code: &'static str) {
        self.exercised.insert(code);
    }

    // --- P01xx approvals ---------------------------------------------------

    /// The amount that sets the tier, and where it comes from (for messages).
    fn tier_amount(&self, parent: Option<&Record>) -> Option<(Money, String)> {
        if let Some(m) = money_at(self.r, "/amount") {
            return Some((m, format!("the amount {}", yuan(m))));
        }
        if let Some(m) = money_at(self.r, "/amount_change") {
            return Some((m, format!("the changed amount {}", yuan(m))));
        }
        let m = money_at(parent?, "/amount")?;
        Some((m, format!("the parent contract's amount {}", yuan(m))))
    }

    fn approvals(&mut self, parent: Option<&Record>) {
        let Some(Value::Array(items)) = self.r.value.get("approvals") else {
            return;
        };
        let tiers = &self.policy.tiers;
        let names = tiers
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let signing = date_at(self.r, "/signing_date");
        // The highest tier index any fitting approval reaches.
        let mut reached: Option<usize> = None;
        for (i, a) in items.iter().enumerate() {
            self.ran("P0102");
            let tier_name = a.get("tier").and_then(Value::as_str).unwrap_or_default();
            let role = a.get("role").and_then(Value::as_str).unwrap_or_default();
            match tiers.iter().position(|t| t.name == tier_name) {
                None => self.push(
                    diag_in(
                        self.r,
                        &format!("/approvals/{i}/tier"),
                        tier_name,
                        Diagnostic::error(
                            "P0102",
                            format!(
                                "`{}` is not an approval tier of the policy",
                                shorten(tier_name, 40)
                            ),
                        ),
                    )
                    .hint(format!("the tiers are {names}")),
                ),
                Some(t) if !tiers[t].roles.iter().any(|p| glob(p, role)) => {
                    let tier = &tiers[t];
                    let accepted = tier
                        .roles
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(" or ");
                    self.push(
                        diag_in(
                            self.r,
                            &format!("/approvals/{i}/role"),
                            role,
                            Diagnostic::error(
                                "P0102",
                                format!(
                                    "a {}合同 is approved by {}, but this approval's role is `{}`",
                                    tier.name,
                                    tier.approver,
                                    shorten(role, 40)
                                ),
                            ),
                        )
                        .hint(format!(
                            "the policy accepts the role {accepted} at tier {} (`*` stands for any text); record the approval under the tier this role may give, or correct the role",
                            tier.name
                        )),
                    );
                }
                Some(t) => reached = reached.max(Some(t)),
            }
            self.ran("P0103");
            if let (Some(signed), Some(date_text)) =
                (signing, a.get("date").and_then(Value::as_str))
                && let Some(date) = parse_iso_date(date_text)
                && date > signed
            {
                self.push(
                    diag_in(
                        self.r,
                        &format!("/approvals/{i}/date"),
                        date_text,
                        Diagnostic::error(
                            "P0103",
                            format!("approval dated {date}, after the contract was signed on {signed}"),
                        ),
                    )
                    .hint("approval comes before signing: correct the date, or waive P0103 with the reason (e.g. the ratification 事后追认 and who gave it)"),
                );
            }
        }
        self.ran("P0101");
        let (needed, amount) = match self.tier_amount(parent) {
            Some((m, source)) => {
                let t = tiers
                    .iter()
                    .position(|t| t.below.is_none_or(|b| m < b))
                    .unwrap_or(tiers.len() - 1);
                (t, Some(source))
            }
            None => (0, None),
        };
        if reached.is_some_and(|r| r >= needed) {
            return;
        }
        let tier = &tiers[needed];
        let range = match (
            needed.checked_sub(1).and_then(|p| tiers[p].below),
            tier.below,
        ) {
            (None, Some(hi)) => format!("below {}", yuan(hi)),
            (Some(lo), Some(hi)) => format!("at least {} and below {}", yuan(lo), yuan(hi)),
            (Some(lo), None) => format!("{} or more", yuan(lo)),
            (None, None) => "any amount".to_owned(),
        };
        let why = match amount {
            Some(source) => format!("{source} is {range}, so this is a {}合同", tier.name),
            None => format!("the contract has no amount, so it is a {}合同", tier.name),
        };
        let recorded = match reached {
            Some(r) => format!("the highest approval recorded is at tier {}", tiers[r].name),
            None => "no approval with a fitting role is recorded".to_owned(),
        };
        let role_example = tier.roles.first().map_or(tier.approver.as_str(), |r| {
            if r.contains('*') {
                tier.approver.as_str()
            } else {
                r.as_str()
            }
        });
        self.push(
            self.r
                .diag(
                    "/approvals",
                    Diagnostic::error(
                        "P0101",
                        format!("{why}, which needs approval by {}; {recorded}", tier.approver),
                    ),
                )
                .hint(format!(
                    "add `- {{ tier: {}, approver: NAME, role: {role_example}, date: YYYY-MM-DD }}` under approvals, or correct the amount",
                    tier.name
                )),
        );
    }

    // --- P02xx confidentiality and clauses -------------------------------

    fn confidentiality(&mut self) {
        self.ran("P0201");
        let levels = &self.policy.confidentiality_levels;
        let list = levels.join(", ");
        match self.r.value.get("confidentiality") {
            Some(Value::String(s)) if levels.contains(s) => {}
            Some(v) if present(Some(v)) => {
                let shown = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                self.push(
                    diag_in(
                        self.r,
                        "/confidentiality",
                        &shown,
                        Diagnostic::error(
                            "P0201",
                            format!("`{}` is not a confidentiality level of the policy", shorten(&shown, 40)),
                        ),
                    )
                    .hint(format!("use one of: {list}")),
                );
            }
            _ => self.push(
                self.r
                    .diag(
                        "",
                        Diagnostic::error("P0201", "the contract has no confidentiality level (保密等级)"),
                    )
                    .pointer("/confidentiality")
                    .hint(format!(
                        "add `confidentiality: LEVEL`, one of {list} (一级 core information for senior management only, 二级 sensitive, 三级 general)"
                    )),
            ),
        }
    }

    fn clauses(&mut self) {
        let Some(template) = self.r.str_at("/template") else {
            return;
        };
        let Some(required) = self.policy.required_clauses.get(template) else {
            return;
        };
        for name in required {
            let Some(clause) = self.policy.clauses.get(name) else {
                continue;
            };
            if clause.fields.is_empty() {
                continue;
            }
            self.ran("P0202");
            let missing: Vec<&str> = clause
                .fields
                .iter()
                .map(String::as_str)
                .filter(|f| !present(self.r.value.get(*f)))
                .collect();
            if missing.is_empty() {
                continue;
            }
            let fields = missing
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let first = missing[0];
            // Point at a blank value where there is one, else at `template:` (why it is required).
            let at = if self.r.value.get(first).is_some() {
                format!("/{first}")
            } else {
                "/template".to_owned()
            };
            self.push(
                self.r
                    .diag(
                        &at,
                        Diagnostic::error(
                            "P0202",
                            format!(
                                "the {} clause is required in {template} contracts, but {fields} {} missing or empty",
                                clause.title,
                                if missing.len() == 1 { "is" } else { "are" }
                            ),
                        ),
                    )
                    .pointer(format!("/{first}"))
                    .hint(format!(
                        "add {}; the policy ({}, required_clauses.{template}) requires this clause",
                        missing.iter().map(|f| format!("`{f}: …`")).collect::<Vec<_>>().join(" and "),
                        shown_path(&self.policy.path)
                    )),
            );
        }
    }

    // --- P03xx money ------------------------------------------------------

    fn money(&mut self) {
        let amount = money_at(self.r, "/amount");
        if let (Some(amount), Some(deposit)) = (amount, money_at(self.r, "/deposit")) {
            self.ran("P0301");
            let max_percent = u128::from(self.policy.deposit_max_percent);
            let (a, d) = (u128::from(amount.fen()), u128::from(deposit.fen()));
            if d * 100 > a * max_percent {
                let limit =
                    Money::from_fen(u64::try_from(a * max_percent / 100).unwrap_or(u64::MAX))
                        .unwrap_or(amount);
                let basis = (d * 10_000).checked_div(a).unwrap_or(0);
                self.push(
                    diag_in(
                        self.r,
                        "/deposit",
                        self.r.str_at("/deposit").unwrap_or_default(),
                        Diagnostic::error(
                            "P0301",
                            format!(
                                "定金 {} is {}.{:02}% of the contract price {}; 民法典 第586条 allows at most {max_percent}% ({})",
                                yuan(deposit),
                                basis / 100,
                                basis % 100,
                                yuan(amount),
                                yuan(limit)
                            ),
                        ),
                    )
                    .hint(format!(
                        "lower `deposit` to at most \"{limit}\" (the excess has no effect as 定金), or waive P0301 with the reason if it is meant as an advance payment"
                    )),
                );
            }
        }
        if let (Some(amount), Some(Value::Array(items))) =
            (amount, self.r.value.get("payment_schedule"))
        {
            self.ran("P0302");
            let mut total: u128 = 0;
            for (i, _) in items.iter().enumerate() {
                match money_at(self.r, &format!("/payment_schedule/{i}/amount")) {
                    Some(m) => total += u128::from(m.fen()),
                    None => return, // the schema reported it
                }
            }
            let want = u128::from(amount.fen());
            if total != want {
                let show = |fen: u128| {
                    u64::try_from(fen)
                        .ok()
                        .and_then(Money::from_fen)
                        .map_or_else(|| format!("¥{}.{:02}", fen / 100, fen % 100), yuan)
                };
                let diff = if total > want {
                    format!("{} too much", show(total - want))
                } else {
                    format!("{} short", show(want - total))
                };
                self.push(
                    self.r
                        .diag(
                            "/payment_schedule",
                            Diagnostic::error(
                                "P0302",
                                format!(
                                    "the payment schedule adds up to {}, not the contract amount {} ({diff})",
                                    show(total),
                                    yuan(amount)
                                ),
                            ),
                        )
                        .hint("change an instalment (or `amount`) so that the instalments add up exactly to the amount; the document prints the amount as their total"),
                );
            }
        }
    }

    // --- P04xx dispute ----------------------------------------------------

    fn dispute(&mut self) {
        let (Some(method), Some(body)) = (
            self.r.str_at("/dispute/method"),
            self.r.str_at("/dispute/body"),
        ) else {
            return;
        };
        self.ran("P0402");
        if let Some(m) = ALTERNATIVE.iter().find_map(|re| re.find(body)) {
            self.push(
                diag_in(
                    self.r,
                    "/dispute/body",
                    m.as_str(),
                    Diagnostic::error(
                        "P0402",
                        format!(
                            "arbitration is offered as an alternative to a court: `{}`",
                            shorten(m.as_str(), 60)
                        ),
                    ),
                )
                .hint("choose one forum: arbitration before one named commission, or one named court (法释〔2006〕7号 第7条)"),
            );
            return;
        }
        match method {
            "arbitration" => {
                self.ran("P0401");
                let named = named_commissions(body);
                let problem = if !unnamed_commission(body).is_empty() || named.is_empty() {
                    Some(format!(
                        "`{}` names no particular arbitration commission",
                        shorten(body, 60)
                    ))
                } else if named.len() > 1 {
                    Some(format!(
                        "`{}` names {} arbitration commissions; an arbitration agreement names exactly one",
                        shorten(body, 60),
                        named.len()
                    ))
                } else {
                    None
                };
                if let Some(message) = problem {
                    self.push(
                        diag_in(self.r, "/dispute/body", body, Diagnostic::error("P0401", message)).hint(
                            "write the full name of the one commission, e.g. 北京仲裁委员会 or 上海国际仲裁中心; without a chosen commission the arbitration agreement is void (仲裁法 第16条、第18条)",
                        ),
                    );
                }
            }
            "court" => {
                self.ran("P0403");
                if !court_named(body) {
                    self.push(
                        diag_in(
                            self.r,
                            "/dispute/body",
                            body,
                            Diagnostic::error("P0403", format!("`{}` does not name a particular court", shorten(body, 60))),
                        )
                        .hint("write the full name of one court at a place connected with the dispute, e.g. 北京市海淀区人民法院 (民事诉讼法 第35条)"),
                    );
                }
            }
            _ => {}
        }
    }

    // --- P05xx dates ------------------------------------------------------

    fn dates(&mut self, parent: Option<&Record>) {
        let signing = date_at(self.r, "/signing_date");
        let effective = date_at(self.r, "/effective_date");
        let expiry = date_at(self.r, "/expiry_date");
        self.ran("P0501");
        let waive = "correct the date, or waive P0501 with the reason if the dates are agreed on purpose (e.g. 追溯生效)";
        if let (Some(s), Some(e)) = (signing, effective)
            && e < s
        {
            self.push(
                self.r
                    .diag(
                        "/effective_date",
                        Diagnostic::error("P0501", format!("effective_date {e} is before signing_date {s}: the contract would take effect before it is signed")),
                    )
                    .hint(waive),
            );
        }
        if let (Some(e), Some(x)) = (effective, expiry)
            && x < e
        {
            self.push(
                self.r
                    .diag(
                        "/expiry_date",
                        Diagnostic::error(
                            "P0501",
                            format!("expiry_date {x} is before effective_date {e}"),
                        ),
                    )
                    .hint(waive),
            );
        }
        if let Some(parent) = parent
            && let (Some(s), Some(ps)) = (signing, date_at(parent, "/signing_date"))
            && s < ps
        {
            self.push(
                self.r
                    .diag(
                        "/signing_date",
                        Diagnostic::error(
                            "P0501",
                            format!("the supplementary agreement is signed on {s}, before its parent contract `{}` (signed {ps})", parent.id),
                        ),
                    )
                    .hint(waive),
            );
        }
        if let (Some(e), Some(x), Some(Value::Array(items))) =
            (effective, expiry, self.r.value.get("payment_schedule"))
        {
            self.ran("P0502");
            let grace = self.policy.due_grace_days;
            let latest = x
                .checked_add_days(chrono::Days::new(u64::from(grace)))
                .unwrap_or(x);
            for i in 0..items.len() {
                let ptr = format!("/payment_schedule/{i}/due");
                let Some(due) = date_at(self.r, &ptr) else {
                    continue;
                };
                let problem = if due < e {
                    format!(
                        "payment {} is due on {due}, before the contract takes effect on {e}",
                        i + 1
                    )
                } else if due > latest {
                    format!(
                        "payment {} is due on {due}, more than {grace} days after the contract expires on {x}",
                        i + 1
                    )
                } else {
                    continue;
                };
                self.push(
                    diag_in(self.r, &ptr, self.r.str_at(&ptr).unwrap_or_default(), Diagnostic::error("P0502", problem)).hint(format!(
                        "move the due date into the term (a final payment may fall due up to {grace} days after expiry: payment.due_grace_days in the policy), or change the term"
                    )),
                );
            }
        }
        if let (Some(e), Some(x), Some(template)) = (effective, expiry, self.r.str_at("/template"))
            && self.policy.lease_templates.iter().any(|t| t == template)
        {
            self.ran("P0503");
            let max = self.policy.lease_max_years;
            if e.checked_add_months(Months::new(12 * max))
                .is_none_or(|limit| x > limit)
            {
                self.push(
                    self.r
                        .diag(
                            "/expiry_date",
                            Diagnostic::error(
                                "P0503",
                                format!("the lease runs from {e} to {x}, longer than {max} years (民法典 第705条)"),
                            ),
                        )
                        .hint(format!("end the lease within {max} years; a renewal can be agreed when it ends, the excess is void")),
                );
            }
        }
    }

    // --- free text: amounts in words, dispute wording, lease terms --------

    fn texts(&mut self) {
        let r = self.r;
        let mut texts = Vec::new();
        collect_texts(&r.value, String::new(), &mut texts);
        for (ptr, text) in &texts {
            self.words(ptr, text);
            for sentence in text.split(['。', '；', ';', '\n', '！', '？']) {
                self.dispute_text(ptr, sentence);
                self.lease_text(ptr, sentence);
            }
        }
        self.words_fields(&r.value, String::new());
    }

    /// P0303 for `¥1,280,000.00（大写：人民币壹佰贰拾捌万元整）` in text.
    fn words(&mut self, ptr: &str, text: &str) {
        for c in WORDS_INLINE.captures_iter(text) {
            let (Some(all), Some(fig), Some(words)) = (
                c.get(0),
                c.name("fig").or_else(|| c.name("fig2")),
                c.name("words"),
            ) else {
                continue;
            };
            let Ok(figure) = Money::parse(&fig.as_str().replace(',', "")) else {
                continue;
            };
            self.ran("P0303");
            self.compare_words(ptr, all.as_str(), words.as_str(), figure);
        }
    }

    /// P0303 for a field `X_words` next to a money field `X`.
    fn words_fields(&mut self, v: &Value, ptr: String) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let p = format!("{ptr}/{}", escape_pointer(k));
                    if let (Some(base), Some(words)) = (k.strip_suffix("_words"), child.as_str())
                        && let Some(figure) = map
                            .get(base)
                            .and_then(Value::as_str)
                            .and_then(|s| Money::parse(s).ok())
                    {
                        self.ran("P0303");
                        self.compare_words(&p, words, words, figure);
                    }
                    self.words_fields(child, p);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    self.words_fields(child, format!("{ptr}/{i}"));
                }
            }
            _ => {}
        }
    }

    fn compare_words(&mut self, ptr: &str, found: &str, words: &str, figure: Money) {
        let words = words.trim();
        let correct = money::cny_upper_with_prefix(figure);
        match money::parse_cny_upper(words) {
            Some(fen) if u64::try_from(fen).ok() == Some(figure.fen()) => {}
            Some(fen) => {
                let read = u64::try_from(fen).ok().and_then(Money::from_fen).map_or_else(|| fen.to_string(), yuan);
                self.push(
                    diag_in(
                        self.r,
                        ptr,
                        found,
                        Diagnostic::error(
                            "P0303",
                            format!("the amount in words `{}` reads {read}, but the figure is {}", shorten(words, 60), yuan(figure)),
                        ),
                    )
                    .hint(format!("for {} write {correct}; if the words are right, correct the figure", yuan(figure))),
                );
            }
            None => self.push(
                diag_in(
                    self.r,
                    ptr,
                    found,
                    Diagnostic::error(
                        "P0303",
                        format!("`{}` is not a well-formed amount in words (人民币大写)", shorten(words, 60)),
                    ),
                )
                .hint(format!(
                    "for {} write {correct} (capital digits 壹贰叁…, units 拾佰仟万亿, 整 after 元)",
                    yuan(figure)
                )),
            ),
        }
    }

    /// P0401, P0402, P0403 in clause text (e.g. a supplementary agreement's new wording).
    fn dispute_text(&mut self, ptr: &str, sentence: &str) {
        if !sentence.contains("仲裁")
            && !sentence.to_lowercase().contains("arbitrat")
            && !sentence.contains("法院")
        {
            return;
        }
        if sentence.contains("仲裁") || sentence.to_lowercase().contains("arbitrat") {
            self.ran("P0401");
            self.ran("P0402");
        }
        // A court's role after an award (enforcement, setting aside, interim
        // measures) is not a choice of forum, and its court follows from the law.
        let after_award = ["执行", "保全", "撤销"]
            .iter()
            .any(|w| sentence.contains(w))
            || ["enforce", "set aside", "interim"]
                .iter()
                .any(|w| sentence.to_lowercase().contains(w));
        if after_award {
            return;
        }
        if let Some(m) = ALTERNATIVE.iter().find_map(|re| re.find(sentence)) {
            self.push(
                diag_in(
                    self.r,
                    ptr,
                    m.as_str(),
                    Diagnostic::error(
                        "P0402",
                        format!("arbitration is offered as an alternative to a court: `{}`", shorten(m.as_str(), 60)),
                    ),
                )
                .hint("choose one forum: arbitration before one named commission, or one named court; an agreement allowing either is void as an arbitration agreement (法释〔2006〕7号 第7条)"),
            );
        }
        for found in unnamed_commission(sentence) {
            self.push(
                diag_in(
                    self.r,
                    ptr,
                    &found,
                    Diagnostic::error(
                        "P0401",
                        format!("`{found}` does not name a particular arbitration commission"),
                    ),
                )
                .hint("name the one commission by its full name, e.g. 北京仲裁委员会; without a chosen commission the arbitration agreement is void (仲裁法 第16条、第18条)"),
            );
        }
        let named = named_commissions(sentence);
        if named.len() > 1 {
            self.push(
                diag_in(
                    self.r,
                    ptr,
                    &named[1],
                    Diagnostic::error(
                        "P0401",
                        format!("{} arbitration commissions are named in one clause ({}); name exactly one", named.len(), named.join("、")),
                    ),
                )
                .hint("keep one commission; a choice between commissions is unclear and may make the agreement void (仲裁法 第18条)"),
            );
        }
        if ["争议", "纠纷", "诉讼", "起诉", "管辖"]
            .iter()
            .any(|w| sentence.contains(w))
        {
            for found in unnamed_courts(sentence) {
                self.ran("P0403");
                self.push(
                    diag_in(
                        self.r,
                        ptr,
                        &found,
                        Diagnostic::error("P0403", format!("`{found}` does not name a particular court")),
                    )
                    .hint("write the full name of one court at a place connected with the dispute, e.g. 北京市海淀区人民法院 (民事诉讼法 第35条)"),
                );
            }
        }
    }

    /// P0503 in clause text: 租赁期限为二十五年 / 租期自…至….
    fn lease_text(&mut self, ptr: &str, sentence: &str) {
        let max = self.policy.lease_max_years;
        let too_long = |found: &str, years: String| {
            Diagnostic::error(
                "P0503",
                format!(
                    "the lease term `{}` is {years}, longer than the {max} years 民法典 第705条 allows",
                    shorten(found, 60)
                ),
            )
        };
        let hint = format!(
            "limit the lease to {max} years; a renewal can be agreed when it ends (the excess is void)"
        );
        if let Some(c) = LEASE_RANGE.captures(sentence) {
            self.ran("P0503");
            let date = |y: &str, m: &str, d: &str| -> Option<NaiveDate> {
                NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
            };
            let from = date(&c["y1"], &c["m1"], &c["d1"]);
            let to = date(&c["y2"], &c["m2"], &c["d2"]);
            if let (Some(from), Some(to), Some(all)) = (from, to, c.get(0))
                && from
                    .checked_add_months(Months::new(12 * max))
                    .is_none_or(|limit| to > limit)
            {
                let years = format!("from {from} to {to}");
                self.push(
                    diag_in(self.r, ptr, all.as_str(), too_long(all.as_str(), years)).hint(hint),
                );
            }
            return;
        }
        if let Some(c) = LEASE_YEARS.captures(sentence) {
            self.ran("P0503");
            let (Some(all), Some(n)) = (c.get(0), c.name("n").or_else(|| c.name("n2"))) else {
                return;
            };
            // The words up to the unit: 租赁期限为二十五年 / lease term of 25 years.
            let end = sentence[n.end()..]
                .find(['年', 's'])
                .map_or(all.end(), |i| {
                    n.end()
                        + i
                        + sentence[n.end() + i..]
                            .chars()
                            .next()
                            .map_or(0, char::len_utf8)
                });
            let found = &sentence[all.start()..end];
            if let Some(years) = count(n.as_str())
                && years > u64::from(max)
            {
                self.push(
                    diag_in(
                        self.r,
                        ptr,
                        found,
                        too_long(found, format!("{years} years")),
                    )
                    .hint(hint),
                );
            }
        }
    }

    // --- P06xx parties ----------------------------------------------------

    fn placeholder(&self, text: &str) -> Option<String> {
        self.policy
            .placeholders
            .iter()
            .find(|p| text.contains(p.as_str()))
            .cloned()
    }

    fn party(&mut self) {
        self.ran("P0601");
        for (field, what) in [("name", "name"), ("address", "address (住所)")] {
            let ptr = format!("/{field}");
            match self.r.str_at(&ptr) {
                Some(s) if s.trim().is_empty() => self.push(
                    self.r
                        .diag(
                            &ptr,
                            Diagnostic::error("P0601", format!("the party's {what} is blank")),
                        )
                        .hint(format!(
                            "write the party's full {what} as on its licence or ID card"
                        )),
                ),
                Some(s) => {
                    if let Some(p) = self.placeholder(s) {
                        self.push(
                            diag_in(
                                self.r,
                                &ptr,
                                s,
                                Diagnostic::error(
                                    "P0601",
                                    format!(
                                        "the party's {what} `{}` still holds the placeholder `{p}`",
                                        shorten(s, 40)
                                    ),
                                ),
                            )
                            .hint(format!("fill in the party's real {what}")),
                        );
                    }
                }
                None => self.push(
                    self.r
                        .diag(
                            "",
                            Diagnostic::error("P0601", format!("the party has no {what}")),
                        )
                        .pointer(ptr.clone())
                        .hint(format!("add `{field}: …`")),
                ),
            }
        }
        let organisation = self.r.str_at("/type") == Some("organization");
        let (field, name) = if organisation {
            ("uscc", "统一社会信用代码")
        } else {
            ("resident_id", "公民身份号码")
        };
        if !present(self.r.value.get(field)) {
            let who = if organisation {
                "organisation"
            } else {
                "person"
            };
            self.push(
                self.r
                    .diag(
                        "/type",
                        Diagnostic::error("P0601", format!("the {who} has no {name} (`{field}`)")),
                    )
                    .pointer(format!("/{field}"))
                    .hint(format!(
                        "add `{field}: …` as written on the {}",
                        if organisation {
                            "business licence"
                        } else {
                            "ID card"
                        }
                    )),
            );
        }
        if organisation {
            self.ran("P0602");
            if !present(self.r.value.get("legal_representative")) {
                self.push(
                    self.r
                        .diag(
                            "/type",
                            Diagnostic::error("P0602", "the organisation has no signatory: `legal_representative` (法定代表人) is missing"),
                        )
                        .pointer("/legal_representative")
                        .hint("add `legal_representative: NAME`; the party block names the person who signs for the organisation"),
                );
            }
        }
    }

    fn parties(&mut self, parent: Option<&Record>) {
        let (Some(a), Some(b)) = (self.r.str_at("/party_a"), self.r.str_at("/party_b")) else {
            return;
        };
        self.ran("P0604");
        if a == b {
            self.push(
                diag_in(
                    self.r,
                    "/party_b",
                    b,
                    Diagnostic::error("P0604", format!("甲方 and 乙方 are the same party `{b}`")),
                )
                .hint("a contract needs two different parties; check `party_a` and `party_b`"),
            );
        }
        let Some(parent) = parent else {
            return;
        };
        self.ran("P0603");
        let (pa, pb) = (parent.str_at("/party_a"), parent.str_at("/party_b"));
        if pa == Some(b) && pb == Some(a) && a != b {
            self.push(
                diag_in(
                    self.r,
                    "/party_a",
                    a,
                    Diagnostic::error(
                        "P0603",
                        format!(
                            "甲方 and 乙方 are swapped relative to the parent contract `{}`",
                            parent.id
                        ),
                    ),
                )
                .hint(format!(
                    "write `party_a: {b}` and `party_b: {a}`, as in the parent contract"
                )),
            );
            return;
        }
        for (field, role, mine, theirs) in [("party_a", "甲方", a, pa), ("party_b", "乙方", b, pb)]
        {
            if let Some(theirs) = theirs
                && theirs != mine
            {
                self.push(
                    diag_in(
                        self.r,
                        &format!("/{field}"),
                        mine,
                        Diagnostic::error(
                            "P0603",
                            format!("{role} is `{mine}`, but the parent contract `{}` was made with `{theirs}` as {role}", parent.id),
                        ),
                    )
                    .hint(format!(
                        "a supplementary agreement binds the parties of the original contract: write `{field}: {theirs}` (a change of party is a different instrument; if it is meant, waive P0603 with the reason)"
                    )),
                );
            }
        }
    }
}

/// Every string of a contract that holds clause text, with its pointer.
/// Skipped: identifiers and references, the structured dispute (checked on
/// its own), approvals, waivers, and a change's `before` (the old wording
/// that the change replaces).
fn collect_texts<'v>(v: &'v Value, ptr: String, out: &mut Vec<(String, &'v str)>) {
    const SKIP: &[&str] = &[
        "/id",
        "/kind",
        "/template",
        "/party_a",
        "/party_b",
        "/parent",
        "/dispute",
        "/approvals",
        "/waivers",
    ];
    if SKIP.contains(&ptr.as_str()) || (ptr.starts_with("/changes/") && ptr.ends_with("/before")) {
        return;
    }
    match v {
        Value::String(s) => out.push((ptr, s)),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_texts(item, format!("{ptr}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                collect_texts(item, format!("{ptr}/{}", escape_pointer(k)), out);
            }
        }
        _ => {}
    }
}

fn re(pattern: &str) -> Regex {
    // The patterns are literals of this file, tested by the unit tests below.
    Regex::new(pattern).unwrap_or_else(|e| unreachable!("bad built-in pattern {pattern}: {e}"))
}

/// `¥1,280,000.00（大写：人民币壹佰贰拾捌万元整）` or `1280000元（大写：…）`.
static WORDS_INLINE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?:[¥￥]\s*(?P<fig>[0-9][0-9,]*(?:\.[0-9]{1,2})?)|(?P<fig2>[0-9][0-9,]*(?:\.[0-9]{1,2})?)\s*元)\s*[（(]\s*大写\s*[：:]?\s*(?P<words>[^）)]{1,80}?)\s*[）)]",
    )
});

/// Arbitration and a court offered as alternatives, in either order.
static ALTERNATIVE: LazyLock<[Regex; 3]> = LazyLock::new(|| {
    [
        re(
            r"仲裁[^。；;]{0,40}?(?:或者|或|也可以|也可|亦可)[^。；;]{0,30}?(?:诉讼|起诉|人民法院|法院)",
        ),
        re(
            r"(?:诉讼|起诉|人民法院|法院)[^。；;]{0,40}?(?:或者|或|也可以|也可|亦可)[^。；;]{0,30}?仲裁",
        ),
        re(r"(?i)arbitration\b.{0,80}?\bor\b.{0,60}?\b(?:court|courts|litigation|sue)\b"),
    ]
});

/// A commission's kind word; its name is the run of Han characters before it.
static COMMISSION_ZH: LazyLock<Regex> =
    LazyLock::new(|| re(r"仲裁(?:委员会|院|中心)(?:\p{Han}{0,4}分会)?"));

/// An English institution name: capitalised words ending in Arbitration
/// Commission / Center / Centre / Court, or … Court of (International) Arbitration.
static COMMISSION_EN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?:[A-Z][\w'’.-]*\s+)+Arbitration\s+(?:Commission|Center|Centre|Court)|(?:[A-Z][\w'’.-]*\s+)*Court\s+of\s+(?:International\s+)?Arbitration",
    )
});

/// Words that, just before 仲裁委员会 / 人民法院, show that no particular body is named.
const GENERIC: &[&str] = &[
    "提交",
    "交由",
    "向",
    "由",
    "的",
    "至",
    "或",
    "及",
    "和",
    "当地",
    "所在地",
    "住所地",
    "有关",
    "相关",
    "一家",
    "任一",
    "任何",
    "其他",
    "有权",
    "有管辖权",
    "原告",
    "被告",
    "甲方",
    "乙方",
    "一方",
];

/// The trailing run of Han characters of `text` (the words just before a match).
fn han_tail(text: &str) -> &str {
    let start = text
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_han(*c))
        .last()
        .map_or(text.len(), |(i, _)| i);
    &text[start..]
}

/// Whether the words before 仲裁委员会 / 人民法院 name no particular body.
fn generic_prefix(prefix: &str) -> bool {
    after_verb(prefix).is_empty()
        || GENERIC.iter().any(|g| prefix.ends_with(g))
        || prefix.contains("所在地")
        || prefix.contains("住所地")
        || prefix.contains("有管辖权")
}

/// The commissions named in `text` (each with its name).
fn named_commissions(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut from = 0;
    for m in COMMISSION_ZH.find_iter(text) {
        let prefix = han_tail(&text[from..m.start()]);
        from = m.end();
        if !generic_prefix(prefix) {
            out.push(format!("{}{}", after_verb(prefix), m.as_str()));
        }
    }
    for m in COMMISSION_EN.find_iter(text) {
        let lower = m.as_str().to_lowercase();
        let generic = ["the ", "a ", "an ", "any "]
            .iter()
            .any(|g| lower.starts_with(g))
            || ["competent", "relevant", "local"]
                .iter()
                .any(|g| lower.contains(g));
        if !generic {
            out.push(m.as_str().to_owned());
        }
    }
    out
}

/// The name in a run of Han characters, without the verb or conjunction
/// before it: 可提交北京仲裁委员会 → 北京仲裁委员会, 或上海仲裁委员会 → 上海仲裁委员会.
fn after_verb(run: &str) -> &str {
    const VERBS: &[&str] = &[
        "提交", "交由", "申请", "向", "由", "至", "或者", "或", "及", "和", "经",
    ];
    let cut = VERBS
        .iter()
        .filter_map(|v| run.rfind(v).map(|j| j + v.len()))
        .max()
        .unwrap_or(0);
    &run[cut..]
}

/// 仲裁委员会 / 仲裁机构 without a name before it: 提交仲裁委员会, 甲方所在地仲裁委员会.
fn unnamed_commission(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut from = 0;
    for (i, m) in text.match_indices("仲裁") {
        if i < from {
            continue;
        }
        let rest = &text[i + m.len()..];
        let Some(body) = ["委员会", "机构"].iter().find(|b| rest.starts_with(**b)) else {
            continue;
        };
        let prefix = han_tail(&text[from..i]);
        from = i + m.len() + body.len();
        if *body == "机构" || generic_prefix(prefix) {
            out.push(format!("{}仲裁{body}", after_verb(prefix)));
        }
    }
    let lower = text.to_lowercase();
    for generic in [
        "an arbitration commission",
        "the arbitration commission",
        "an arbitration institution",
        "a competent arbitration",
    ] {
        if let Some(i) = lower.find(generic) {
            out.push(text.get(i..i + generic.len()).unwrap_or(generic).to_owned());
        }
    }
    out
}

/// Whether a court's name (the whole `dispute.body`) names one particular court.
fn court_named(body: &str) -> bool {
    let body = body.trim();
    if let Some(prefix) = body.strip_suffix("人民法院") {
        return zh_court_prefix_named(prefix);
    }
    let lower = body.to_lowercase();
    let generic = [
        "competent",
        "jurisdiction",
        "where",
        "domicile",
        "relevant",
        "appropriate",
        "local",
    ];
    let starts_generic = [
        "court",
        "the court",
        "a court",
        "any court",
        "people's court",
    ]
    .iter()
    .any(|g| lower.starts_with(g));
    !starts_generic && !generic.iter().any(|g| lower.contains(g))
}

/// Whether the text before 人民法院 names a place: ends in 省/市/区/县/州/旗/盟
/// (after an optional 中级/高级/第N中级) and holds no generic words.
fn zh_court_prefix_named(prefix: &str) -> bool {
    if GENERIC
        .iter()
        .any(|g| prefix.contains(g) && *g != "和" && *g != "及")
    {
        return false;
    }
    let trimmed = prefix
        .trim_end_matches("中级")
        .trim_end_matches("高级")
        .trim_end_matches(|c: char| "第一二三四五六七八九十".contains(c));
    trimmed.ends_with(['省', '市', '区', '县', '州', '旗', '盟'])
}

/// 人民法院 in clause text without a place before it: 向人民法院, 有管辖权的人民法院.
fn unnamed_courts(text: &str) -> Vec<String> {
    text.match_indices("人民法院")
        .filter_map(|(i, m)| {
            let prefix = han_tail(&text[..i]);
            let named = !generic_prefix(prefix) && zh_court_prefix_named(after_verb(prefix));
            (!named).then(|| format!("{}{m}", after_verb(prefix)))
        })
        .collect()
}

fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3FFFF)
}

/// 租赁期限为二十五年 / 租期30年 / lease term of 25 years.
static LEASE_YEARS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?:租赁期限|租赁期|租期)[^。；;，,0-9零〇一二两三四五六七八九十百]{0,8}(?P<n>[0-9]{1,6}|[零〇一二两三四五六七八九十百]{1,6})\s*(?:个)?年(?:[^0-9]|$)|(?i:lease\s+term\s+of\s+)(?P<n2>[0-9]{1,6})\s+years",
    )
});

/// 租期自2026年1月1日起至2050年12月31日止.
static LEASE_RANGE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?:租赁期限|租赁期|租期)[^。；;]{0,12}?(?P<y1>[0-9]{4})年(?P<m1>[0-9]{1,2})月(?P<d1>[0-9]{1,2})日[^。；;0-9]{0,6}?至\s*(?P<y2>[0-9]{4})年(?P<m2>[0-9]{1,2})月(?P<d2>[0-9]{1,2})日",
    )
});

/// A count written in Arabic or Chinese numerals (二十五, 三十, 一百, 25); `None` if unreadable.
fn count(text: &str) -> Option<u64> {
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    let digit = |c: char| {
        "零一二三四五六七八九"
            .find(c)
            .map(|i| (i / 3) as u64)
            .or(match c {
                '〇' => Some(0),
                '两' => Some(2),
                _ => None,
            })
    };
    let mut total = 0u64;
    let mut current: Option<u64> = None;
    for c in text.chars() {
        match c {
            '十' => {
                total += current.unwrap_or(1) * 10;
                current = None;
            }
            '百' => {
                total += current.unwrap_or(1) * 100;
                current = None;
            }
            c => current = Some(digit(c)?),
        }
    }
    Some(total + current.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_patterns_compile() {
        LazyLock::force(&WORDS_INLINE);
        LazyLock::force(&ALTERNATIVE);
        LazyLock::force(&COMMISSION_ZH);
        LazyLock::force(&COMMISSION_EN);
        LazyLock::force(&LEASE_YEARS);
        LazyLock::force(&LEASE_RANGE);
    }

    #[test]
    fn role_globs() {
        assert!(glob("*负责人", "法务部负责人"));
        assert!(glob("*负责人", "负责人"));
        assert!(!glob("*负责人", "负责人助理"));
        assert!(glob("董事会*", "董事会（2026年第三次会议决议）"));
        assert!(glob("总经理", "总经理") && !glob("总经理", "副总经理"));
        assert!(glob("*", "") && glob("a*b*c", "aXbYc") && !glob("a*b*c", "aXc"));
    }

    #[test]
    fn chinese_counts() {
        assert_eq!(count("二十五"), Some(25));
        assert_eq!(count("十"), Some(10));
        assert_eq!(count("三十"), Some(30));
        assert_eq!(count("一百"), Some(100));
        assert_eq!(count("两"), Some(2));
        assert_eq!(count("25"), Some(25));
        assert_eq!(count("九十九"), Some(99));
    }

    #[test]
    fn source_002s_dispute_clause_fails_both_arbitration_tests() {
        let s = "协商不成,可提交仲裁委员会仲裁或向人民法院提起诉讼";
        assert!(ALTERNATIVE.iter().any(|r| r.is_match(s)));
        assert_eq!(unnamed_commission(s), ["仲裁委员会"]);
        assert!(named_commissions(s).is_empty());
    }

    #[test]
    fn a_court_enforcing_an_award_is_not_a_second_forum() {
        let texts = [
            "提交北京仲裁委员会仲裁，仲裁裁决或者调解书可以向有管辖权的人民法院申请执行",
            "争议提交北京仲裁委员会仲裁；一方可以向人民法院申请财产保全",
        ];
        for text in texts {
            let found = check_text(text);
            assert!(found.is_empty(), "{text}: {found:?}");
        }
        assert_eq!(
            check_text("协商不成,可提交仲裁委员会仲裁或向人民法院提起诉讼"),
            ["P0401", "P0402", "P0403"]
        );
    }

    /// The codes the clause-text checks find in `text` (as a supplement's new wording).
    fn check_text(text: &str) -> Vec<&'static str> {
        let yaml = format!("kind: contract\nid: t\nchanges:\n  - after: {text}\n");
        let mut loaded = crate::record::Loaded::default();
        crate::record::load_text(std::path::Path::new("t.yaml"), yaml, &mut loaded);
        let r = &loaded.records[0];
        let policy = Policy {
            path: PathBuf::from("policy.yaml"),
            tiers: vec![],
            confidentiality_levels: vec![],
            clauses: BTreeMap::new(),
            required_clauses: BTreeMap::new(),
            deposit_max_percent: 20,
            lease_max_years: 20,
            lease_templates: vec![],
            due_grace_days: 60,
            placeholders: vec![],
            severity: BTreeMap::new(),
        };
        let mut exercised = BTreeSet::new();
        let mut cx = Cx {
            r,
            policy: &policy,
            out: Vec::new(),
            exercised: &mut exercised,
        };
        cx.texts();
        let mut codes: Vec<&'static str> = cx.out.iter().map(|d| d.code).collect();
        codes.sort_unstable();
        codes
    }

    #[test]
    fn named_and_unnamed_commissions() {
        assert_eq!(
            named_commissions("提交北京仲裁委员会仲裁"),
            ["北京仲裁委员会"]
        );
        assert_eq!(
            named_commissions("可提交北京仲裁委员会或上海仲裁委员会仲裁"),
            ["北京仲裁委员会", "上海仲裁委员会"]
        );
        assert_eq!(
            named_commissions("London Court of International Arbitration").len(),
            1
        );
        assert_eq!(
            named_commissions("中国国际经济贸易仲裁委员会上海分会").len(),
            1
        );
        assert_eq!(named_commissions("深圳国际仲裁院").len(), 1);
        assert_eq!(
            named_commissions("Shanghai International Arbitration Center").len(),
            1
        );
        assert_eq!(named_commissions("北京仲裁委员会或上海仲裁委员会").len(), 2);
        assert!(unnamed_commission("北京仲裁委员会").is_empty());
        assert_eq!(unnamed_commission("甲方所在地仲裁委员会").len(), 1);
        assert_eq!(unnamed_commission("仲裁委员会").len(), 1);
        assert_eq!(unnamed_commission("提交仲裁机构").len(), 1);
    }

    #[test]
    fn courts() {
        assert!(court_named("北京市海淀区人民法院"));
        assert!(court_named("北京市第一中级人民法院"));
        assert!(court_named("Nanjing Xuanwu District People's Court"));
        assert!(!court_named("有管辖权的人民法院"));
        assert!(!court_named("甲方所在地人民法院"));
        assert!(!court_named("人民法院"));
        assert!(!court_named("the competent court"));
        assert_eq!(unnamed_courts("向有管辖权的人民法院起诉").len(), 1);
        assert_eq!(unnamed_courts("向人民法院起诉").len(), 1);
        assert!(unnamed_courts("向北京市海淀区人民法院起诉").is_empty());
    }

    #[test]
    fn lease_terms_in_text() {
        let c = LEASE_YEARS.captures("租赁期限为二十五年").unwrap();
        assert_eq!(count(&c["n"]), Some(25));
        assert!(LEASE_YEARS.captures("租期自2026年1月1日起").is_none());
        let c = LEASE_RANGE
            .captures("租期自2026年1月1日起至2050年12月31日止")
            .unwrap();
        assert_eq!(&c["y2"], "2050");
    }

    #[test]
    fn amounts_in_words_inline() {
        let c = WORDS_INLINE
            .captures("本合同价款总额为¥1,280,000.00（大写：人民币壹佰贰拾捌万元整）。")
            .unwrap();
        assert_eq!(&c["fig"], "1,280,000.00");
        assert_eq!(&c["words"], "人民币壹佰贰拾捌万元整");
    }
}
