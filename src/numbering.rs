//! Numbering: which number and revision (修改次第) each document of a build gets.
//!
//! Draft mode prints the template's pattern with `DRAFT` for the sequence.
//! Issue mode asks the register (inside the build's locked transaction): an
//! id seen before keeps its number; a new id gets the next number of its
//! scope. A revision (修改次第) means the document changed: an issued
//! document is planned with its latest revision and the PDF it expects; only
//! when the bytes typeset under that revision differ (what it prints changed,
//! apart from the revision mark) does the build plan it again as the next
//! revision. [`why`] says what differs from the revision before. The plan is
//! pure data: the build may re-plan without a failed record so that a failure
//! never leaves a gap.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Datelike;
use serde_json::Value;

use crate::build::{Document, Project};
use crate::checksum::sha256_hex;
use crate::cndate::parse_iso_date;
use crate::diagnostic::Diagnostic;
use crate::record::Record;
use crate::register::{Batch, Entry, Facts, MadeFrom, Prior, RegisterError, Revision, Status};

/// The number and revision one document is printed with.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The contract number (a draft number in draft mode).
    pub number: String,
    /// 修改次第; `None` in draft mode.
    pub revision: Option<u32>,
    /// For supplementary agreements: the parent's number.
    pub parent_number: Option<String>,
    /// Sequence scope and number (issue mode; 0 when the number was issued before).
    pub scope: String,
    /// Sequence number within the scope.
    pub seq: u64,
    /// SHA-256 of the record content (contract, parties, parent and its number).
    pub content_sha256: String,
    /// The PDF hash the register holds for this very revision, if any.
    pub expected_pdf: Option<String>,
    /// What the register knew of this record id before the build (issue mode).
    pub prior: Option<Box<Prior>>,
}

impl Plan {
    /// What the typeset result depends on: number, revision, parent number.
    /// A changed digest means the document must be typeset again.
    pub fn digest(&self) -> String {
        sha256_hex(
            format!(
                "{}\0{:?}\0{:?}",
                self.number, self.revision, self.parent_number
            )
            .as_bytes(),
        )
    }
}

/// Plans every buildable contract. Records that cannot be numbered get a
/// diagnostic (with their record id) and no plan; a voided record gets a note
/// (N501) and no plan. `force_new_revision`: issued records whose PDF typeset
/// under their latest revision differed from the issued one.
pub fn plan(
    project: &Project,
    buildable: &[String],
    batch: Option<&Batch>,
    force_new_revision: &BTreeSet<String>,
    diags: &mut Vec<Diagnostic>,
    voided: &mut Vec<Skipped>,
) -> Result<BTreeMap<String, Plan>, RegisterError> {
    let mut counters: BTreeMap<String, u64> = BTreeMap::new();
    let mut plans: BTreeMap<String, Plan> = BTreeMap::new();
    let mut priors: BTreeMap<String, Prior> = BTreeMap::new();
    let mut parents: BTreeMap<String, String> = BTreeMap::new();
    // What each record brings to its plan, read in parallel.
    use rayon::prelude::*;
    let read: Vec<Option<Read>> = buildable.par_iter().map(|id| read(project, id)).collect();
    // Pass 1: numbers, in record order (so a rerun hands out the same numbers).
    for (id, read) in buildable.iter().zip(read) {
        let Some(Read {
            template,
            year,
            parent,
            content_sha256,
        }) = read
        else {
            continue;
        };
        let pattern = &project.workspace.templates[template].number;
        let (number, scope, seq) = match batch {
            None => (pattern.draft(year), String::new(), 0),
            Some(b) => match b.prior(id)? {
                Some(p) if p.status == Status::Void => {
                    let Some(r) = project.record(id) else {
                        continue;
                    };
                    diags.push(
                        r.diag(
                            "/id",
                            Diagnostic::note(
                                "N501",
                                format!(
                                    "skipped: contract {} (record `{id}`) was voided: {}",
                                    p.number,
                                    p.void_reason.as_deref().unwrap_or("no reason given")
                                ),
                            ),
                        )
                        .hint("a voided number is never issued again; to issue this contract anew, give the record a new id (it then gets a new number), or remove the record"),
                    );
                    voided.push(Skipped {
                        id: id.clone(),
                        number: Some(p.number.clone()),
                        reason: p.void_reason.clone().unwrap_or_default(),
                    });
                    continue;
                }
                Some(p) => {
                    let n = p.number.clone();
                    priors.insert(id.clone(), p);
                    (n, String::new(), 0)
                }
                // Reserved by a shard of this batch (`build --shard`): that number.
                None => match b.reserved(id)? {
                    Some(r) => (r.number, r.scope, r.seq),
                    None => {
                        let scope = pattern.scope(year);
                        let next = match counters.get(&scope) {
                            Some(n) => n + 1,
                            None => b.last_seq(&scope)? + 1,
                        };
                        counters.insert(scope.clone(), next);
                        (pattern.format(year, next), scope, next)
                    }
                },
            },
        };
        if let Some(pid) = parent {
            parents.insert(id.clone(), pid);
        }
        plans.insert(
            id.clone(),
            Plan {
                number,
                revision: None,
                parent_number: None,
                scope,
                seq,
                content_sha256: content_sha256.unwrap_or_default(),
                expected_pdf: None,
                prior: None,
            },
        );
    }
    // Pass 2: parents' numbers and the content hashes that include them; revisions.
    let ids: Vec<String> = plans.keys().cloned().collect();
    for id in ids {
        if let Some(pid) = parents.get(&id) {
            let Some(r) = project.record(&id) else {
                plans.remove(&id); // its file changed since the scan (R111)
                continue;
            };
            match parent_number(project, pid, &plans, batch)? {
                Ok(n) => {
                    let content = canonical_json(&project.sources(&r, Some(&n)));
                    let plan = plans.get_mut(&id).expect("present");
                    plan.content_sha256 = sha256_hex(content.as_bytes());
                    plan.parent_number = Some(n);
                }
                Err(why) => {
                    diags.push(r.diag("/parent", Diagnostic::error("N502", why)).hint(
                        "issue the parent contract first (fix its errors), or correct `parent`",
                    ));
                    plans.remove(&id);
                    continue;
                }
            }
        }
        let plan = plans.get_mut(&id).expect("present");
        if batch.is_some() {
            match priors.remove(&id) {
                None => plan.revision = Some(0),
                Some(p) => {
                    if force_new_revision.contains(&id) {
                        plan.revision = Some(p.latest.revision + 1);
                    } else {
                        plan.revision = Some(p.latest.revision);
                        plan.expected_pdf = Some(p.latest.pdf_sha256.clone());
                    }
                    plan.prior = Some(Box::new(p));
                }
            }
        }
    }
    Ok(plans)
}

/// A contract the build read but did not issue, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Skipped {
    /// Record id.
    pub id: String,
    /// Its number, when it has one (a voided contract).
    pub number: Option<String>,
    /// Why it was not issued.
    pub reason: String,
}

/// What one record brings to its plan.
struct Read<'a> {
    template: &'a str,
    year: i32,
    /// The parent's id (supplementary agreements).
    parent: Option<String>,
    /// The content hash, unless it includes a parent's number (known in pass 2).
    content_sha256: Option<String>,
}

/// Reads a contract for planning; `None` when it has no template and signing
/// year, or when its file changed since the scan (R111, reported by the store).
fn read<'a>(project: &'a Project, id: &str) -> Option<Read<'a>> {
    let r = project.record(id)?;
    let (template, year) = template_and_year(project, &r)?;
    let parent = r.str_at("/parent").map(str::to_owned);
    let content_sha256 = match parent {
        Some(_) => None,
        None => Some(sha256_hex(
            canonical_json(&project.sources(&r, None)).as_bytes(),
        )),
    };
    Some(Read {
        template,
        year,
        parent,
        content_sha256,
    })
}

fn template_and_year<'a>(project: &'a Project, r: &Record) -> Option<(&'a str, i32)> {
    let t = r.str_at("/template")?;
    let (name, _) = project.workspace.templates.get_key_value(t)?;
    let date = parse_iso_date(r.str_at("/signing_date")?)?;
    Some((name.as_str(), date.year()))
}

/// The parent's number: planned in this build, or issued before (issue mode).
fn parent_number(
    project: &Project,
    pid: &str,
    plans: &BTreeMap<String, Plan>,
    batch: Option<&Batch>,
) -> Result<Result<String, String>, RegisterError> {
    if let Some(p) = plans.get(pid) {
        return Ok(Ok(p.number.clone()));
    }
    Ok(match batch {
        Some(b) => match b.prior(pid)? {
            Some(p) if p.status == Status::Issued => Ok(p.number),
            Some(p) => Err(format!("parent contract {} (`{pid}`) is void", p.number)),
            // Reserved for this batch, typeset by another shard.
            None => match b.reserved(pid)? {
                Some(r) => Ok(r.number),
                None => Err(format!("parent contract `{pid}` has no issued number")),
            },
        },
        // Draft mode: a parent that could not be planned has errors of its own.
        None => match project.record(pid) {
            Some(_) => Err(format!(
                "parent contract `{pid}` has errors, so it has no number"
            )),
            None => Err(format!("no contract with id `{pid}`")),
        },
    })
}

/// JSON with object keys sorted, so a hash does not depend on field order in the YAML.
pub fn canonical_json(v: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = serde_json::Map::new();
                for k in keys {
                    out.insert(k.clone(), sorted(&m[k]));
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(v).to_string()
}

/// The register entry for a document issued in this build.
///
/// `sources` is [`Project::sources`] of the record (the parties' names come from it).
pub fn entry(r: &Record, sources: &Value, d: &Document, plan: &Plan, issued_at: &str) -> Entry {
    let s = |p: &str| r.str_at(p).unwrap_or_default().to_owned();
    let name = |party: &str| {
        sources
            .pointer(&format!("/{party}/name"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let waivers = r
        .value
        .get("waivers")
        .and_then(Value::as_array)
        .map(|ws| {
            ws.iter()
                .map(|w| {
                    format!(
                        "{}: {}",
                        w.get("rule").and_then(Value::as_str).unwrap_or("?"),
                        w.get("reason").and_then(Value::as_str).unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default();
    Entry {
        record_id: d.id.clone(),
        number: plan.number.clone(),
        scope: plan.scope.clone(),
        seq: plan.seq,
        template: d.template.clone(),
        revision: Revision {
            revision: plan.revision.unwrap_or(0),
            content_sha256: plan.content_sha256.clone(),
            template_sha256: d.template_sha256.clone(),
            pdf_sha256: d.sha256.clone(),
            issued_at: issued_at.to_owned(),
            pactum: env!("CARGO_PKG_VERSION").to_owned(),
        },
        facts: Facts {
            title: s("/title"),
            party_a: name("party_a"),
            party_b: name("party_b"),
            signing_date: s("/signing_date"),
            effective_date: s("/effective_date"),
            expiry_date: s("/expiry_date"),
            amount: s("/amount"),
            currency: s("/currency"),
            waivers,
        },
        made_from: MadeFrom {
            record_json: canonical_json(&r.value),
            files: Some(d.made_from.clone()),
        },
    }
}

/// What a document of an issue build is, against the register.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase", tag = "change")]
pub enum Change {
    /// Draft mode: the register was not asked.
    Draft,
    /// Newly numbered (revision 00).
    New,
    /// A new revision of an issued contract, and why.
    Revised {
        /// What differs from the revision before.
        why: Why,
    },
    /// Prints exactly what its latest revision printed: same number, revision, bytes.
    Unchanged,
}

/// Why a revision exists: what differs between it and the revision before.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Why {
    /// Top-level fields of the contract record that changed, added or removed.
    pub record_fields: Vec<String>,
    /// The records it points to changed (parties, parent or its number).
    pub linked_records: bool,
    /// Template files (under `templates/`) changed, newly read or no longer read.
    pub template_files: Vec<String>,
    /// The revision before has no list of template files (issued before
    /// pactum recorded them), so template changes cannot be named.
    pub template_files_unrecorded: bool,
    /// The pactum version before and now, when it changed.
    pub pactum: Option<(String, String)>,
}

impl Why {
    /// One line for people: "record changed (amount); template files changed: …".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.record_fields.is_empty() {
            parts.push(format!(
                "record changed ({})",
                self.record_fields.join(", ")
            ));
        }
        if self.linked_records {
            parts.push("parties or parent changed".to_owned());
        }
        if !self.template_files.is_empty() {
            parts.push(format!(
                "template files changed: {}",
                self.template_files
                    .iter()
                    .map(|f| format!("templates/{f}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        } else if self.template_files_unrecorded {
            parts.push("template files (not recorded for the revision before)".to_owned());
        }
        if let Some((before, now)) = &self.pactum {
            parts.push(format!("pactum {before} → {now}"));
        }
        if parts.is_empty() {
            "the typeset output changed with the same inputs (pactum, typst or fonts)".to_owned()
        } else {
            parts.join("; ")
        }
    }
}

/// What differs between the revision before (`prev`) and this one (`now`),
/// each given by its content digest, pactum version and what it was made from.
pub fn why(prev: (&str, &str, &MadeFrom), now: (&str, &str, &MadeFrom)) -> Why {
    let (prev_content, prev_pactum, prev_made) = prev;
    let (content, pactum, made) = now;
    let fields = |json: &str| -> BTreeMap<String, Value> {
        match serde_json::from_str::<Value>(json) {
            Ok(Value::Object(m)) => m.into_iter().collect(),
            _ => BTreeMap::new(),
        }
    };
    let record_fields = changed_keys(&fields(&prev_made.record_json), &fields(&made.record_json));
    let mut why = Why {
        linked_records: record_fields.is_empty() && prev_content != content,
        record_fields,
        ..Why::default()
    };
    match (&prev_made.files, &made.files) {
        (Some(before), Some(after)) => why.template_files = changed_keys(before, after),
        _ => why.template_files_unrecorded = true,
    }
    if !prev_pactum.is_empty() && prev_pactum != pactum {
        why.pactum = Some((prev_pactum.to_owned(), pactum.to_owned()));
    }
    why
}

/// When a revision is issued: `SOURCE_DATE_EPOCH` if set (reproducible runs),
/// else now; RFC 3339 in the workspace's `zone` with its offset.
///
/// This is the only clock reading of a build; it reaches the register and its
/// export, never a PDF.
pub fn issue_time(zone: chrono_tz::Tz) -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| crate::localtime::rfc3339(t, zone))
        .unwrap_or_default()
}

/// The keys whose values differ between two maps (changed, added or removed), sorted.
fn changed_keys<V: PartialEq>(
    before: &BTreeMap<String, V>,
    after: &BTreeMap<String, V>,
) -> Vec<String> {
    before
        .keys()
        .chain(after.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn why_names_the_changed_fields_and_template_files() {
        let files = |v: &[(&str, &str)]| {
            Some(
                v.iter()
                    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                    .collect(),
            )
        };
        let before = MadeFrom {
            record_json: r#"{"amount":"1.00","id":"a","title":"x"}"#.into(),
            files: files(&[
                ("_lib/contract.typ", "1"),
                ("clauses/zh/breach.typ.tera", "2"),
            ]),
        };
        let after = MadeFrom {
            record_json: r#"{"amount":"2.00","id":"a","title":"x","status":"approved"}"#.into(),
            files: files(&[
                ("_lib/contract.typ", "1"),
                ("clauses/zh/breach.typ.tera", "3"),
            ]),
        };
        let w = why(("c1", "0.1.0", &before), ("c2", "0.1.0", &after));
        assert_eq!(w.record_fields, ["amount", "status"]);
        assert!(!w.linked_records);
        assert_eq!(w.template_files, ["clauses/zh/breach.typ.tera"]);
        assert_eq!(
            w.describe(),
            "record changed (amount, status); template files changed: templates/clauses/zh/breach.typ.tera"
        );
        // Same record, other parties; the revision before has no file list.
        let old = MadeFrom {
            files: None,
            ..after.clone()
        };
        let w = why(("c1", "", &old), ("c2", "0.2.0", &after));
        assert!(w.linked_records && w.template_files_unrecorded && w.pactum.is_none());
        // Nothing differs: the typesetter did it.
        let w = why(("c2", "0.1.0", &after), ("c2", "0.2.0", &after));
        assert!(w.describe().starts_with("pactum 0.1.0 → 0.2.0"));
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let a: Value = serde_json::from_str(r#"{"b":1,"a":{"y":[{"d":1,"c":2}],"x":2}}"#).unwrap();
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"x":2,"y":[{"c":2,"d":1}]},"b":1}"#
        );
    }
}
