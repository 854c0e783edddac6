//! Contract number patterns such as "FW-{year}-{seq:04}": parsing a pattern
//! from template.toml, and rendering a number, its draft form, and the scope
//! a sequence counts in.
//!
//! This module only formats; which sequence number comes next is decided by
//! the register, keyed by [`NumberPattern::scope`].

use std::fmt;
use std::str::FromStr;

/// The widest `{seq:N}`; wider padding makes no sense for a document count.
const MAX_WIDTH: usize = 12;

/// A parsed number pattern: literal text, `{year}`, and exactly one `{seq:N}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NumberPattern {
    /// Pieces before the sequence.
    before: Vec<Piece>,
    /// Zero-padded minimum width of the sequence.
    width: usize,
    /// Pieces after the sequence.
    after: Vec<Piece>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Year,
}

/// Why a string is not a number pattern; positions are 1-based characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PatternError {
    /// A `}` with no `{` before it.
    StrayClose { position: usize },
    /// A `{` not closed before the end or before another `{`.
    Unclosed { position: usize },
    /// A placeholder other than `{year}`, `{seq}` and `{seq:N}`.
    UnknownPlaceholder { position: usize, name: String },
    /// `{seq:N}` whose N is not a number from 1 to 12.
    BadWidth { position: usize, width: String },
    /// No `{seq}`: numbers would not be unique.
    MissingSeq,
    /// A second `{seq}`.
    DuplicateSeq { position: usize },
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternError::StrayClose { position } => {
                write!(f, "'}}' at character {position} closes nothing")
            }
            PatternError::Unclosed { position } => {
                write!(f, "'{{' at character {position} is not closed")
            }
            PatternError::UnknownPlaceholder { position, name } => write!(
                f,
                "unknown placeholder {{{name}}} at character {position}; use {{year}} or {{seq:N}}"
            ),
            PatternError::BadWidth { position, width } => write!(
                f,
                "sequence width '{width}' at character {position} is not a number from 1 to {MAX_WIDTH}"
            ),
            PatternError::MissingSeq => {
                f.write_str("pattern has no {seq} placeholder, so numbers would repeat")
            }
            PatternError::DuplicateSeq { position } => {
                write!(
                    f,
                    "second {{seq}} at character {position}; a pattern has exactly one"
                )
            }
        }
    }
}

impl std::error::Error for PatternError {}

impl NumberPattern {
    /// Parses a pattern; literal text may hold any character but `{` and `}`.
    pub fn parse(pattern: &str) -> Result<NumberPattern, PatternError> {
        let mut before = Vec::new();
        let mut after = Vec::new();
        let mut width = None;
        let mut literal = String::new();
        let mut chars = pattern.chars().enumerate();
        while let Some((i, c)) = chars.next() {
            let position = i + 1;
            match c {
                '}' => return Err(PatternError::StrayClose { position }),
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some((_, '}')) => break,
                            Some((_, '{')) | None => {
                                return Err(PatternError::Unclosed { position });
                            }
                            Some((_, c)) => name.push(c),
                        }
                    }
                    let pieces = if width.is_some() {
                        &mut after
                    } else {
                        &mut before
                    };
                    if !literal.is_empty() {
                        pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                    }
                    match name.as_str() {
                        "year" => pieces.push(Piece::Year),
                        "seq" => set_width(&mut width, 1, position)?,
                        _ => match name.strip_prefix("seq:") {
                            Some(w) => set_width(&mut width, parse_width(w, position)?, position)?,
                            None => {
                                return Err(PatternError::UnknownPlaceholder { position, name });
                            }
                        },
                    }
                }
                _ => literal.push(c),
            }
        }
        let Some(width) = width else {
            return Err(PatternError::MissingSeq);
        };
        if !literal.is_empty() {
            after.push(Piece::Literal(literal));
        }
        Ok(NumberPattern {
            before,
            width,
            after,
        })
    }

    /// The pattern for `year` with the sequence left out ("FW-2026-"): the key
    /// under which sequence numbers count, so each year starts again at 1.
    pub fn scope(&self, year: i32) -> String {
        let mut out = render(&self.before, year);
        out.push_str(&render(&self.after, year));
        out
    }

    /// The number for `year` and `seq`: "FW-2026-0007"; a sequence wider than
    /// the pattern's width is printed in full rather than cut.
    pub fn format(&self, year: i32, seq: u64) -> String {
        self.with_seq(year, &format!("{seq:0width$}", width = self.width))
    }

    /// The placeholder number of an unregistered draft: "FW-2026-DRAFT".
    pub fn draft(&self, year: i32) -> String {
        self.with_seq(year, "DRAFT")
    }

    /// The minimum width of the sequence.
    pub fn seq_width(&self) -> usize {
        self.width
    }

    fn with_seq(&self, year: i32, seq: &str) -> String {
        let mut out = render(&self.before, year);
        out.push_str(seq);
        out.push_str(&render(&self.after, year));
        out
    }
}

impl FromStr for NumberPattern {
    type Err = PatternError;

    fn from_str(s: &str) -> Result<NumberPattern, PatternError> {
        NumberPattern::parse(s)
    }
}

impl fmt::Display for NumberPattern {
    /// The pattern in its canonical spelling: "FW-{year}-{seq:4}".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let write_pieces = |f: &mut fmt::Formatter<'_>, pieces: &[Piece]| {
            pieces.iter().try_for_each(|p| match p {
                Piece::Literal(text) => f.write_str(text),
                Piece::Year => f.write_str("{year}"),
            })
        };
        write_pieces(f, &self.before)?;
        write!(f, "{{seq:{}}}", self.width)?;
        write_pieces(f, &self.after)
    }
}

fn set_width(slot: &mut Option<usize>, width: usize, position: usize) -> Result<(), PatternError> {
    if slot.is_some() {
        return Err(PatternError::DuplicateSeq { position });
    }
    *slot = Some(width);
    Ok(())
}

/// "04", "4" and "12" are widths; the leading zero of "04" is the usual
/// printf spelling and means the same as "4".
fn parse_width(text: &str, position: usize) -> Result<usize, PatternError> {
    let bad = || PatternError::BadWidth {
        position,
        width: text.to_owned(),
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    text.parse::<usize>()
        .ok()
        .filter(|w| (1..=MAX_WIDTH).contains(w))
        .ok_or_else(bad)
}

fn render(pieces: &[Piece], year: i32) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Literal(text) => out.push_str(text),
            Piece::Year => out.push_str(&year.to_string()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> NumberPattern {
        NumberPattern::parse(s).unwrap()
    }

    #[test]
    fn template_patterns() {
        for (pattern, number, scope, draft) in [
            (
                "FW-{year}-{seq:04}",
                "FW-2026-0007",
                "FW-2026-",
                "FW-2026-DRAFT",
            ),
            (
                "BM-{year}-{seq:04}",
                "BM-2026-0007",
                "BM-2026-",
                "BM-2026-DRAFT",
            ),
            (
                "BC-{year}-{seq:04}",
                "BC-2026-0007",
                "BC-2026-",
                "BC-2026-DRAFT",
            ),
            (
                "MSA-{year}-{seq:04}",
                "MSA-2026-0007",
                "MSA-2026-",
                "MSA-2026-DRAFT",
            ),
        ] {
            let pat = p(pattern);
            assert_eq!(pat.format(2026, 7), number);
            assert_eq!(pat.scope(2026), scope);
            assert_eq!(pat.draft(2026), draft);
            assert_eq!(pat.seq_width(), 4);
        }
    }

    #[test]
    fn other_layouts() {
        let pat = p("HT{year}{seq:5}");
        assert_eq!(pat.format(2026, 42), "HT202600042");
        assert_eq!(pat.scope(2026), "HT2026");
        assert_eq!(pat.draft(2027), "HT2027DRAFT");

        let pat = p("{seq:04}/{year}");
        assert_eq!(pat.format(2026, 3), "0003/2026");
        assert_eq!(pat.scope(2026), "/2026");
        assert_eq!(pat.draft(2026), "DRAFT/2026");

        let pat = p("{seq}");
        assert_eq!(pat.format(2026, 0), "0");
        assert_eq!(pat.format(2026, 123), "123");
        assert_eq!(pat.scope(2026), "");

        let pat = p("合同〔{year}〕第{seq:3}号");
        assert_eq!(pat.format(2026, 9), "合同〔2026〕第009号");
        assert_eq!(pat.scope(2026), "合同〔2026〕第号");

        let pat = p("{year}-{year}-{seq:12}");
        assert_eq!(pat.format(2026, 1), "2026-2026-000000000001");
    }

    #[test]
    fn wide_sequence_printed_in_full() {
        let pat = p("FW-{year}-{seq:04}");
        assert_eq!(pat.format(2026, 12345), "FW-2026-12345");
        assert_eq!(pat.format(2026, u64::MAX), format!("FW-2026-{}", u64::MAX));
    }

    #[test]
    fn scope_changes_with_year() {
        let pat = p("FW-{year}-{seq:04}");
        assert_ne!(pat.scope(2026), pat.scope(2027));
    }

    #[test]
    fn display_is_canonical_and_reparses() {
        let pat = p("FW-{year}-{seq:04}");
        assert_eq!(pat.to_string(), "FW-{year}-{seq:4}");
        assert_eq!(p(&pat.to_string()), pat);
        assert_eq!(
            "{seq}".parse::<NumberPattern>().unwrap().to_string(),
            "{seq:1}"
        );
    }

    #[test]
    fn errors() {
        use PatternError::*;
        let unknown = |position, name: &str| UnknownPlaceholder {
            position,
            name: name.to_owned(),
        };
        let bad_width = |position, width: &str| BadWidth {
            position,
            width: width.to_owned(),
        };
        let cases = [
            ("", MissingSeq),
            ("FW-{year}", MissingSeq),
            ("FW-{year}-{seq:04}-{seq}", DuplicateSeq { position: 20 }),
            ("FW-{yr}-{seq}", unknown(4, "yr")),
            ("FW-{Year}-{seq}", unknown(4, "Year")),
            ("FW-{}-{seq}", unknown(4, "")),
            ("FW-{ seq }", unknown(4, " seq ")),
            ("FW-{seq:}", bad_width(4, "")),
            ("FW-{seq:0}", bad_width(4, "0")),
            ("FW-{seq:13}", bad_width(4, "13")),
            ("FW-{seq:-4}", bad_width(4, "-4")),
            ("FW-{seq:+4}", bad_width(4, "+4")),
            (
                "FW-{seq:99999999999999999999999}",
                bad_width(4, "99999999999999999999999"),
            ),
            ("FW-{seq:04", Unclosed { position: 4 }),
            ("FW-{year-{seq}", Unclosed { position: 4 }),
            ("FW-}{seq}", StrayClose { position: 4 }),
            ("FW-{seq}}", StrayClose { position: 9 }),
            ("合同{", Unclosed { position: 3 }),
        ];
        for (pattern, want) in cases {
            assert_eq!(NumberPattern::parse(pattern), Err(want), "{pattern:?}");
        }
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            NumberPattern::parse("FW-{yr}-{seq}")
                .unwrap_err()
                .to_string(),
            "unknown placeholder {yr} at character 4; use {year} or {seq:N}"
        );
        assert_eq!(
            PatternError::MissingSeq.to_string(),
            "pattern has no {seq} placeholder, so numbers would repeat"
        );
        assert_eq!(
            PatternError::StrayClose { position: 2 }.to_string(),
            "'}' at character 2 closes nothing"
        );
    }
}
