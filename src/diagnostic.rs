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
    /// Worth a look; the record is still built (fails the run with `--deny-warnings`).
    Warning,
    /// For the record only, never fails a run: e.g. a policy rule waived with a reason.
    Note,
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

    /// A new note (e.g. a waived rule) with its code and message.
    pub fn note(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Note,
            ..Diagnostic::error(code, message)
        }
    }

    /// Whether this diagnostic stops a build.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Whether this diagnostic is a warning (fails a build with `--deny-warnings`).
    pub fn is_warning(&self) -> bool {
        self.severity == Severity::Warning
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
            Severity::Note => ("note", "36"),
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
            let (line, column, width) = window(line, pos.column, pos.width.max(1));
            let before: Vec<char> = line.chars().take(column.saturating_sub(1)).collect();
            // Wide (CJK) characters take two terminal cells; count them so the caret lines up.
            let indent: String = if before.contains(&'\t') {
                before
                    .iter()
                    .map(|c| if *c == '\t' { '\t' } else { ' ' })
                    .collect()
            } else {
                " ".repeat(before.iter().map(|c| cells(*c)).sum())
            };
            let width: usize = line
                .chars()
                .skip(column.saturating_sub(1))
                .take(width)
                .map(cells)
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

/// The longest source line shown in full; longer ones are cut around the marked value.
const MAX_SNIPPET: usize = 100;

/// Cuts a long line to a window around the marked value, with `…` where
/// text was left out; returns the shown text and the column and width of
/// the mark inside it. A 100 000-character value must not flood a terminal.
fn window(line: &str, column: usize, width: usize) -> (String, usize, usize) {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= MAX_SNIPPET {
        return (line.to_owned(), column, width);
    }
    let width = width.min(MAX_SNIPPET / 2);
    let start = column.saturating_sub(1).saturating_sub(20).min(chars.len());
    let end = (column.saturating_sub(1) + width + 20)
        .min(chars.len())
        .max(start);
    let mut shown = String::new();
    let mut column = column - start;
    if start > 0 {
        shown.push('…');
        column += 1;
    }
    shown.extend(chars.get(start..end).unwrap_or_default());
    if end < chars.len() {
        shown.push('…');
    }
    (shown, column, width)
}

/// Terminal cells a character takes.
fn cells(c: char) -> usize {
    if is_wide(c) { 2 } else { 1 }
}

/// Shortens a value quoted in a message to at most `max` characters (`…` marks the cut).
pub fn shorten(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => std::borrow::Cow::Borrowed(text),
        Some((cut, _)) => std::borrow::Cow::Owned(format!("{}…", &text[..cut])),
    }
}

/// Whether a character takes two cells in a terminal (CJK and full-width forms).
fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD)
}

/// Levenshtein distance in characters, for "did you mean …?" hints.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
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
    fn long_lines_are_cut_around_the_value_and_the_caret_still_points_at_it() {
        let line = format!("title: {}BAD{}", "x".repeat(5000), "y".repeat(5000));
        let d = Diagnostic::error("S000", "x").at(
            Path::new("p.yaml"),
            &line,
            Pos {
                line: 1,
                column: 5008,
                width: 3,
            },
        );
        let out = d.to_human(false);
        let shown = out.lines().nth(3).unwrap();
        let caret = out.lines().nth(4).unwrap();
        assert!(shown.chars().count() < 80, "{shown}");
        let at = caret.chars().position(|c| c == '^').unwrap();
        let marked: String = shown.chars().skip(at).take(3).collect();
        assert_eq!(marked, "BAD", "{out}");
        assert_eq!(caret.matches('^').count(), 3);
        assert_eq!(shorten("abcdef", 3), "abc…");
        assert_eq!(shorten("abc", 3), "abc");
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
