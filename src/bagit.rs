//! BagIt 1.0 (RFC 8493) text formats: `bagit.txt`, `bag-info.txt`, manifest
//! lines, Payload-Oxum, and the rules for entry names.
//!
//! Pure functions over strings; shared by `bundle` (which writes bags) and
//! `verify` (which reads them). It knows neither files nor zip.

use std::fmt;

use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::is_nfc;

/// The whole `bagit.txt` of a BagIt 1.0 bag with UTF-8 tag files.
pub const BAGIT_TXT: &str = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";

/// Encodes a path for a manifest line: `%`, CR and LF are percent-encoded (RFC 8493 §2.1.3).
pub fn encode_path(path: &str) -> String {
    path.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Decodes a manifest path (the inverse of [`encode_path`]; other `%` sequences stay as they are).
pub fn decode_path(path: &str) -> String {
    path.replace("%0D", "\r")
        .replace("%0d", "\r")
        .replace("%0A", "\n")
        .replace("%0a", "\n")
        .replace("%25", "%")
}

/// A manifest body: `<hex>  <path>` per line, sorted by path. The two spaces
/// make it a file `sha256sum -c` / `sha512sum -c` accept as it is.
pub fn manifest(entries: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = entries.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted
        .iter()
        .map(|(path, hex)| format!("{hex}  {}\n", encode_path(path)))
        .collect()
}

/// One line of a manifest as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestLine {
    /// 1-based line number.
    pub line: usize,
    /// Lowercase hex digest.
    pub digest: String,
    /// The decoded path, relative to the bag's base folder.
    pub path: String,
}

/// Parses a manifest: the lines it understood, and `(line, message)` for those it did not.
/// `hex_len` is the digest length in hex characters (64 for SHA-256, 128 for SHA-512).
pub fn parse_manifest(text: &str, hex_len: usize) -> (Vec<ManifestLine>, BadLines) {
    let mut lines = Vec::new();
    let mut bad = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.is_empty() {
            continue;
        }
        let Some((digest, path)) = line.split_once([' ', '\t']) else {
            bad.push((
                i + 1,
                format!("line {} has no path after the digest", i + 1),
            ));
            continue;
        };
        // One or more spaces separate digest and path; `sha256sum` also writes ` *` for binary mode.
        let path = path.trim_start_matches([' ', '\t']);
        let path = path.strip_prefix('*').unwrap_or(path);
        let digest = digest.to_ascii_lowercase();
        if digest.len() != hex_len || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            bad.push((
                i + 1,
                format!(
                    "line {} does not start with a {hex_len}-character hex digest",
                    i + 1
                ),
            ));
            continue;
        }
        if path.is_empty() {
            bad.push((
                i + 1,
                format!("line {} has no path after the digest", i + 1),
            ));
            continue;
        }
        lines.push(ManifestLine {
            line: i + 1,
            digest,
            path: decode_path(path),
        });
    }
    (lines, bad)
}

/// Payload-Oxum: total payload bytes and file count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Oxum {
    /// Sum of the payload files' sizes in bytes.
    pub bytes: u64,
    /// Number of payload files.
    pub count: u64,
}

impl fmt::Display for Oxum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.bytes, self.count)
    }
}

impl Oxum {
    /// Parses `<octets>.<streams>`.
    pub fn parse(s: &str) -> Option<Oxum> {
        let (b, c) = s.trim().split_once('.')?;
        Some(Oxum {
            bytes: b.parse().ok()?,
            count: c.parse().ok()?,
        })
    }
}

/// A `bag-info.txt` body: `Label: value` lines in the given order (labels may repeat).
pub fn bag_info(fields: &[(&str, String)]) -> String {
    fields
        .iter()
        .map(|(label, value)| format!("{label}: {value}\n"))
        .collect()
}

/// `(label, value)` pairs of a tag file, in file order.
pub type Tags = Vec<(String, String)>;

/// `(line, message)` for lines that could not be read.
pub type BadLines = Vec<(usize, String)>;

/// Parses `bag-info.txt` (or `bagit.txt`): `(label, value)` pairs in file order,
/// with continuation lines (starting with whitespace) folded into the value,
/// and `(line, message)` for lines that are not `Label: value`.
pub fn parse_tags(text: &str) -> (Tags, BadLines) {
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut bad = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            match fields.last_mut() {
                Some((_, v)) => {
                    v.push(' ');
                    v.push_str(line.trim());
                }
                None => bad.push((i + 1, format!("line {} continues no field", i + 1))),
            }
            continue;
        }
        match line.split_once(':') {
            Some((label, value)) if !label.trim().is_empty() => {
                fields.push((label.trim().to_owned(), value.trim().to_owned()));
            }
            _ => bad.push((i + 1, format!("line {} is not `Label: value`", i + 1))),
        }
    }
    (fields, bad)
}

/// The first value of `label` (labels compare case-insensitively, as RFC 8493 asks).
pub fn tag<'a>(fields: &'a [(String, String)], label: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(l, _)| l.eq_ignore_ascii_case(label))
        .map(|(_, v)| v.as_str())
}

/// The NFC form of `s`.
pub fn nfc(s: &str) -> String {
    s.nfc().collect()
}

/// Why an entry name is unsafe to extract, if it is: absolute, drive letters,
/// `..` or `.` segments, empty segments, backslashes, control characters, not NFC.
pub fn unsafe_name(name: &str) -> Option<&'static str> {
    let bare = name.strip_suffix('/').unwrap_or(name);
    if name.starts_with('/') {
        Some("absolute path")
    } else if name.contains('\\') {
        Some("backslash in the name (a path separator on Windows)")
    } else if name.len() >= 2 && name.as_bytes()[1] == b':' {
        Some("drive letter in the name")
    } else if bare.split('/').any(|s| s == "..") {
        Some("`..` segment: the path leaves the extraction folder")
    } else if bare.split('/').any(|s| s == ".") {
        Some("`.` segment in the path")
    } else if bare.is_empty() || bare.split('/').any(str::is_empty) {
        Some("empty path segment")
    } else if name.chars().any(char::is_control) {
        Some("control character in the name")
    } else if !is_nfc(name) {
        Some("name is not in Unicode NFC form")
    } else {
        None
    }
}

/// Whether a path has a hidden (dot) segment or is a known junk file (`__MACOSX`, `Thumbs.db`, `desktop.ini`).
pub fn is_junk(path: &str) -> bool {
    path.split('/').any(|s| {
        s.starts_with('.')
            || s == "__MACOSX"
            || s.eq_ignore_ascii_case("Thumbs.db")
            || s.eq_ignore_ascii_case("desktop.ini")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_lines_are_sorted_two_space_and_round_trip_encoded_paths() {
        let m = manifest(&[
            ("data/b.pdf".into(), "bb".repeat(32)),
            ("data/a%\n.pdf".into(), "aa".repeat(32)),
        ]);
        assert_eq!(
            m,
            format!(
                "{}  data/a%25%0A.pdf\n{}  data/b.pdf\n",
                "aa".repeat(32),
                "bb".repeat(32)
            )
        );
        let (lines, bad) = parse_manifest(&m, 64);
        assert!(bad.is_empty());
        assert_eq!(lines[0].path, "data/a%\n.pdf");
        assert_eq!(lines[1].line, 2);
        let (_, bad) = parse_manifest("xyz  data/a\nabc\n", 64);
        assert_eq!(bad.len(), 2);
    }

    #[test]
    fn oxum_and_tags_parse() {
        assert_eq!(
            Oxum::parse("1234.5"),
            Some(Oxum {
                bytes: 1234,
                count: 5
            })
        );
        assert_eq!(Oxum::parse("12a.5"), None);
        let (fields, bad) = parse_tags("A: 1\nB-C: two\n  more\nbroken\n");
        assert_eq!(tag(&fields, "b-c"), Some("two more"));
        assert_eq!(bad, vec![(4, "line 4 is not `Label: value`".to_owned())]);
    }

    #[test]
    fn unsafe_names_are_named_and_ordinary_ones_pass() {
        for bad in [
            "/etc/passwd",
            "a/../../x",
            "a\\b",
            "C:/x",
            "a//b",
            "./a",
            "a/\u{7}",
            "e\u{301}.pdf",
        ] {
            assert!(unsafe_name(bad).is_some(), "{bad:?} passed");
        }
        for good in ["bag/data/fw-2026-001.pdf", "bag/data/", "移交/é.pdf"] {
            assert_eq!(unsafe_name(good), None, "{good:?}");
        }
        assert!(
            is_junk("bag/data/.DS_Store") && is_junk("__MACOSX/x") && !is_junk("bag/data/a.pdf")
        );
    }
}
