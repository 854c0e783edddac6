//! How a `check` outcome is shown: for a person (human), for programs (JSON),
//! and for the CI systems' own readers: GitHub workflow commands
//! (`::error file=…,line=…::…`) and JUnit XML.
//!
//! Pure formatting of values `check` produced; it computes nothing.

use std::fmt::Write as _;

use crate::check::{CheckOutcome, DocResult, Status};
use crate::checksum::sha256_hex;
use crate::diagnostic::{Diagnostic, Severity};

/// What a difference is, in words.
fn what(d: &DocResult) -> String {
    match d.status {
        Status::Changed => {
            let kind = if d.text_changed {
                "text and PDF differ"
            } else {
                "PDF differs, text identical (layout only)"
            };
            let why = if d.inputs_changed {
                "inputs changed"
            } else {
                "same inputs: pactum or typst typesets differently"
            };
            format!("{kind} ({why})")
        }
        Status::Added => "not in the lock".into(),
        Status::Removed => "in the lock, but there is no such contract any more".into(),
        Status::Unchanged => "unchanged".into(),
        Status::Failed => "could not be produced".into(),
    }
}

fn code(status: Status) -> &'static str {
    match status {
        Status::Changed => "T440",
        Status::Added => "T441",
        Status::Removed => "T442",
        _ => "T440",
    }
}

fn label(status: Status) -> &'static str {
    match status {
        Status::Changed => "changed",
        Status::Added => "added",
        Status::Removed => "removed",
        Status::Unchanged => "unchanged",
        Status::Failed => "failed",
    }
}

/// The summary line.
fn summary(o: &CheckOutcome) -> String {
    let count = |s: Status| o.documents.iter().filter(|d| d.status == s).count();
    let errors = o.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = o.diagnostics.len() - errors;
    format!(
        "check: {} document(s): {} changed, {} added, {} removed, {} unchanged; {} typeset, {} from cache, in {:.2} s; {errors} error(s), {warnings} warning(s)",
        o.stats.documents + count(Status::Removed),
        count(Status::Changed),
        count(Status::Added),
        count(Status::Removed),
        count(Status::Unchanged),
        o.stats.typeset,
        o.stats.cached,
        o.stats.seconds,
    )
}

/// Human output (for stderr): diagnostics with snippets, each difference with
/// its unified diff and word diff, then a summary and what to do next.
pub fn human(o: &CheckOutcome, color: bool, records: &str) -> String {
    let paint = |s: &str, c: &str| {
        if color {
            format!("\x1b[{c}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    };
    let mut out = String::new();
    for d in &o.diagnostics {
        out.push_str(&d.to_human(color));
    }
    for d in o.differences() {
        let _ = writeln!(
            out,
            "{} {} ({}): {}",
            paint(&format!("{:<8}", label(d.status)), "1;33"),
            d.id,
            d.template,
            what(d)
        );
        // An added or removed document's diff is its whole text: JSON and the report carry it.
        if let Some(diff) = d.diff.as_ref().filter(|_| d.status == Status::Changed) {
            for line in diff.lines() {
                let c = match line.chars().next() {
                    Some('+') if !line.starts_with("+++") => "32",
                    Some('-') if !line.starts_with("---") => "31",
                    Some('@') => "36",
                    _ => "",
                };
                if c.is_empty() {
                    let _ = writeln!(out, "    {line}");
                } else {
                    let _ = writeln!(out, "    {}", paint(line, c));
                }
            }
        }
        if !d.word_diff.is_empty() && d.status == Status::Changed {
            let _ = writeln!(out, "  word diff:");
            for line in &d.word_diff {
                let _ = writeln!(out, "    {}", line.trim());
            }
        }
    }
    let stale = o
        .documents
        .iter()
        .filter(|d| d.status == Status::Unchanged && d.inputs_changed)
        .count();
    if stale > 0 && !o.updated {
        let _ = writeln!(
            out,
            "note: {stale} document(s) have new inputs but identical output; `--update` refreshes their input hashes"
        );
    }
    let _ = writeln!(out, "{}", summary(o));
    if o.updated {
        let _ = writeln!(out, "lock updated: {}", o.lock.display());
    } else if o.differences().next().is_some() {
        if !o.lock_found {
            let _ = writeln!(out, "no lock at {}", o.lock.display());
        }
        let _ = writeln!(
            out,
            "hint: if these changes are intended, run `pactum check {records} --update` and commit {} with the golden/ texts",
            o.lock.display()
        );
    }
    if let Some(r) = &o.report {
        let _ = writeln!(out, "report: {}", r.display());
    }
    out
}

/// The outcome as one JSON object.
pub fn json(o: &CheckOutcome) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(o)
}

/// GitHub's escaping of a workflow command's message.
pub fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// GitHub's escaping of a workflow command's property value.
pub fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn gh_command(kind: &str, props: &[(&str, String)], message: &str) -> String {
    let props: Vec<String> = props
        .iter()
        .map(|(k, v)| format!("{k}={}", gh_property(v)))
        .collect();
    if props.is_empty() {
        format!("::{kind}::{}\n", gh_data(message))
    } else {
        format!("::{kind} {}::{}\n", props.join(","), gh_data(message))
    }
}

fn gh_path(p: &std::path::Path) -> String {
    let s = p.display().to_string().replace('\\', "/");
    s.strip_prefix("./").map(str::to_owned).unwrap_or(s)
}

/// GitHub Actions workflow commands: one annotation per diagnostic and per
/// difference, each document's diff in a collapsed group.
pub fn github(o: &CheckOutcome) -> String {
    let mut out = String::new();
    for d in &o.diagnostics {
        let kind = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut props = Vec::new();
        if let Some(f) = &d.file {
            props.push(("file", gh_path(f)));
            if let Some(p) = d.pos {
                props.push(("line", p.line.to_string()));
                props.push(("col", p.column.to_string()));
                props.push(("endColumn", (p.column + p.width.max(1)).to_string()));
            }
        }
        props.push(("title", format!("pactum {}", d.code)));
        out.push_str(&gh_command(kind, &props, &message_with_context(d)));
    }
    for d in o.differences() {
        let mut props = Vec::new();
        match (&d.record_at, d.lock_line) {
            (Some((file, line)), _) if d.status == Status::Added => {
                props.push(("file", gh_path(file)));
                props.push(("line", line.to_string()));
            }
            (_, Some(line)) => {
                props.push(("file", gh_path(&o.lock)));
                props.push(("line", line.to_string()));
            }
            _ => {}
        }
        props.push((
            "title",
            format!("pactum {}: document {}", code(d.status), label(d.status)),
        ));
        let mut msg = format!("{} ({}): {}", d.id, d.template, what(d));
        for line in d.word_diff.iter().take(20) {
            msg.push('\n');
            msg.push_str(line.trim());
        }
        out.push_str(&gh_command("error", &props, &msg));
    }
    for d in o.differences() {
        if let Some(diff) = &d.diff {
            // Diff lines are document text: stop command processing while they print.
            let token = sha256_hex(diff.as_bytes());
            let _ = writeln!(out, "::group::text diff of {}", gh_data(&d.id));
            let _ = writeln!(out, "::stop-commands::{token}");
            out.push_str(diff);
            if !diff.ends_with('\n') {
                out.push('\n');
            }
            let _ = writeln!(out, "::{token}::");
            out.push_str("::endgroup::\n");
        }
    }
    let _ = writeln!(out, "{}", summary(o));
    out
}

fn message_with_context(d: &Diagnostic) -> String {
    let mut msg = d.message.clone();
    match (&d.record, &d.pointer) {
        (Some(r), Some(p)) => {
            let _ = write!(msg, " (record `{r}`, at {p})");
        }
        (Some(r), None) => {
            let _ = write!(msg, " (record `{r}`)");
        }
        _ => {}
    }
    if let Some(h) = &d.hint {
        let _ = write!(msg, "\nhint: {h}");
    }
    msg
}

/// Text safe inside XML: escaped, and without characters XML 1.0 forbids.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || matches!(c as u32, 0xFFFE | 0xFFFF) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

struct Case {
    name: String,
    classname: &'static str,
    failure: Option<(String, String, String)>,
    out: String,
}

/// JUnit XML: suite `files` has one test case per file with diagnostics
/// (failed when it has errors; warnings in system-out), suite `documents` one
/// test case per document (failed when it changed, was added or removed, or
/// could not be produced).
pub fn junit(o: &CheckOutcome) -> String {
    let mut by_file: std::collections::BTreeMap<String, Vec<&Diagnostic>> = Default::default();
    for d in &o.diagnostics {
        let name = d
            .file
            .as_ref()
            .map_or_else(|| "(workspace)".to_owned(), |f| gh_path(f));
        by_file.entry(name).or_default().push(d);
    }
    let mut files = Vec::new();
    for (name, diags) in by_file {
        let errors: Vec<&&Diagnostic> = diags.iter().filter(|d| d.is_error()).collect();
        let text =
            |ds: &[&&Diagnostic]| -> String { ds.iter().map(|d| d.to_human(false)).collect() };
        let warnings: Vec<&&Diagnostic> = diags.iter().filter(|d| !d.is_error()).collect();
        files.push(Case {
            name,
            classname: "pactum.files",
            failure: errors.first().map(|first| {
                (
                    format!(
                        "{} error(s); first: [{}] {}",
                        errors.len(),
                        first.code,
                        first.message
                    ),
                    first.code.to_owned(),
                    text(&errors),
                )
            }),
            out: text(&warnings),
        });
    }
    let mut docs = Vec::new();
    for d in &o.documents {
        let failure = match d.status {
            Status::Unchanged => None,
            Status::Failed => Some((
                "could not be produced (see the diagnostics of its record)".to_owned(),
                "failed".to_owned(),
                o.diagnostics
                    .iter()
                    .filter(|x| x.record.as_deref() == Some(&d.id))
                    .map(|x| x.to_human(false))
                    .collect(),
            )),
            s => Some((
                format!("{} {}: {}", d.id, label(s), what(d)),
                code(s).to_owned(),
                d.diff.clone().unwrap_or_default(),
            )),
        };
        docs.push(Case {
            name: d.id.clone(),
            classname: "pactum.documents",
            failure,
            out: String::new(),
        });
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let total = files.len() + docs.len();
    let failures = files
        .iter()
        .chain(&docs)
        .filter(|c| c.failure.is_some())
        .count();
    let _ = writeln!(
        out,
        "<testsuites name=\"pactum check\" tests=\"{total}\" failures=\"{failures}\" errors=\"0\" time=\"{:.3}\">",
        o.stats.seconds
    );
    for (suite, cases) in [("files", &files), ("documents", &docs)] {
        let f = cases.iter().filter(|c| c.failure.is_some()).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{suite}\" tests=\"{}\" failures=\"{f}\" errors=\"0\" skipped=\"0\" time=\"0\">",
            cases.len()
        );
        for c in cases.iter() {
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" time=\"0\"",
                xml(&c.name),
                c.classname
            );
            if c.failure.is_none() && c.out.is_empty() {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(">\n");
            if let Some((message, kind, body)) = &c.failure {
                let _ = writeln!(
                    out,
                    "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                    xml(message),
                    xml(kind),
                    xml(body)
                );
            }
            if !c.out.is_empty() {
                let _ = writeln!(out, "      <system-out>{}</system-out>", xml(&c.out));
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_escaping_follows_the_workflow_command_rules() {
        assert_eq!(gh_data("50% done\nnext\r"), "50%25 done%0Anext%0D");
        assert_eq!(gh_property("a:b,c%"), "a%3Ab%2Cc%25");
    }

    #[test]
    fn xml_text_is_escaped_and_control_characters_replaced() {
        assert_eq!(
            xml("<a & \"b\">\u{1}"),
            "&lt;a &amp; &quot;b&quot;&gt;\u{FFFD}"
        );
    }
}
