//! Diagnostics: problems found in the user's input, each pointing at its source.
//!
//! Bad input is data, not an error: every stage appends `Diagnostic`s and the
//! run goes on, so one pass reports every problem. This module owns the
//! value, its human rendering (a source snippet with a caret) and its JSON
//! rendering. It knows nothing about YAML, schemas or typst.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// How bad a diagnostic is: errors stop the record, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The record cannot be built.
    Error,
    /// Worth a look; the record is still built.
    Warning,
}

/// A place in a source file: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Pos {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// How many characters the marked value spans on its first line (at least 1).
    #[serde(skip)]
    pub width: usize,
}

/// One problem in the input, with everything needed to find and fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Stable code of the check (`R102`, `S220`, `P0301`, …); `pactum explain CODE` describes it.
    pub code: &'static str,
    /// The file the problem is in, when it is in a file.
    pub file: Option<PathBuf>,
    /// Where in the file.
    pub pos: Option<Pos>,
    /// The record the problem belongs to, when known.
    pub record: Option<String>,
    /// JSON pointer of the offending value inside the record.
    pub pointer: Option<String>,
    /// What is wrong, in a plain sentence.
    pub message: String,
    /// How to fix it, when there is an obvious fix.
    pub hint: Option<String>,
    /// The source line the problem is on (for the snippet).
    #[serde(skip)]
    pub snippet: Option<String>,
}

impl Diagnostic {
    /// A new error with its code and message; add location with the builder methods.
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            file: None,
            pos: None,
            record: None,
            pointer: None,
            message: message.into(),
            hint: None,
            snippet: None,
        }
    }

    /// A new warning with its code and message.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// Attaches the file and position, taking the snippet line from `text`.
    pub fn at(mut self, file: &Path, text: &str, pos: Pos) -> Self {
        self.file = Some(file.to_path_buf());
        self.snippet = text
            .lines()
            .nth(pos.line.saturating_sub(1))
            .map(str::to_owned);
        self.pos = Some(pos);
        self
    }

    /// Attaches the file only (no position known).
    pub fn in_file(mut self, file: &Path) -> Self {
        self.file = Some(file.to_path_buf());
        self
    }

    /// Attaches the record id.
    pub fn record(mut self, id: impl Into<String>) -> Self {
        self.record = Some(id.into());
        self
    }

    /// Attaches the JSON pointer inside the record.
    pub fn pointer(mut self, pointer: impl Into<String>) -> Self {
        self.pointer = Some(pointer.into());
        self
    }

    /// Attaches a hint on how to fix the problem.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Whether this diagnostic stops a build.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:column` (or as much of it as is known).
    pub fn location(&self) -> Option<String> {
        let file = self.file.as_ref()?.display().to_string();
        Some(match self.pos {
            Some(p) => format!("{file}:{}:{}", p.line, p.column),
            None => file,
        })
    }

    /// Renders the diagnostic for a person reading a terminal or a log.
    pub fn to_human(&self, color: bool) -> String {
        let (label, code) = match self.severity {
            Severity::Error => ("error", "31"),
            Severity::Warning => ("warning", "33"),
        };
        let paint = |s: &str, c: &str| {
            if color {
                format!("\x1b[1;{c}m{s}\x1b[0m")
            } else {
                s.to_owned()
            }
        };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}{}: {}",
            paint(label, code),
            paint(&format!("[{}]", self.code), code),
            self.message
        );
        if let Some(loc) = self.location() {
            let _ = writeln!(out, "  --> {loc}");
        }
        if let (Some(line), Some(pos)) = (&self.snippet, self.pos) {
            let num = pos.line.to_string();
            let pad = " ".repeat(num.len());
            let indent: String = line
                .chars()
                .take(pos.column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            // Wide (CJK) characters take two terminal cells; count them so the caret lines up.
            let lead: usize = line
                .chars()
                .take(pos.column.saturating_sub(1))
                .map(|c| if is_wide(c) { 2 } else { 1 })
                .sum();
            let indent = if indent.contains('\t') {
                indent
            } else {
                " ".repeat(lead)
            };
            let width: usize = line
                .chars()
                .skip(pos.column.saturating_sub(1))
                .take(pos.width.max(1))
                .map(|c| if is_wide(c) { 2 } else { 1 })
                .sum();
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{num} | {line}");
            let _ = writeln!(
                out,
                "{pad} | {indent}{}",
                paint(&"^".repeat(width.max(1)), code)
            );
        }
        match (&self.record, &self.pointer) {
            (Some(r), Some(p)) => {
                let _ = writeln!(out, "  = record `{r}`, at {p}");
            }
            (Some(r), None) => {
                let _ = writeln!(out, "  = record `{r}`");
            }
            (None, Some(p)) => {
                let _ = writeln!(out, "  = at {p}");
            }
            (None, None) => {}
        }
        if let Some(h) = &self.hint {
            let _ = writeln!(out, "  = hint: {h}");
        }
        out
    }
}

/// Whether a character takes two cells in a terminal (CJK and full-width forms).
fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD)
}

/// Sorts diagnostics by file, position and message so output order never
/// depends on the order work happened in.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (&a.file, a.pos, &a.record, &a.pointer, &a.message)
            .cmp(&(&b.file, b.pos, &b.record, &b.pointer, &b.message))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_output_has_location_snippet_and_caret_under_the_value() {
        let text = "id: a\nuscc: 91350100M000100Y4Z\n";
        let d = Diagnostic::error("S220", "check character is Z, expected 3")
            .at(
                Path::new("p.yaml"),
                text,
                Pos {
                    line: 2,
                    column: 7,
                    width: 18,
                },
            )
            .record("a")
            .pointer("/uscc");
        let out = d.to_human(false);
        assert!(out.contains("--> p.yaml:2:7"), "{out}");
        assert!(out.contains("2 | uscc: 91350100M000100Y4Z"), "{out}");
        assert!(
            out.contains(&format!("  | {}{}", " ".repeat(6), "^".repeat(18))),
            "{out}"
        );
        assert!(out.contains("record `a`, at /uscc"), "{out}");
    }

    #[test]
    fn caret_counts_cjk_as_two_cells() {
        let d = Diagnostic::error("S000", "x").at(
            Path::new("p.yaml"),
            "名称: 甲",
            Pos {
                line: 1,
                column: 5,
                width: 1,
            },
        );
        // "名称: " is 2 wide chars + ':' + ' ' = 6 cells.
        assert!(
            d.to_human(false)
                .contains(&format!("| {}^^", " ".repeat(6)))
        );
    }
}
