//! The handover log: who handed which bundle to whom, and who received it.
//!
//! Owns the entry format, the hash-chain rule and the log file. The log is
//! JSON Lines, append-only, by default `<workspace>/.pactum/handover.jsonl`.
//! Entry N (1-based `seq`) carries in `prev` the SHA-256 of line N-1 exactly
//! as stored (its UTF-8 bytes without the newline); entry 1 carries 64 zeros.
//! Appends hold an exclusive lock on the file and are fsynced. This module
//! knows neither zip nor typst.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::checksum::sha256_hex;

/// `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A unit and a person in it, written `unit/person` on the command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// 单位.
    pub unit: String,
    /// 经办人.
    pub person: String,
}

impl FromStr for Party {
    type Err = String;

    /// Splits at the last `/` (a unit name may hold one, a person's name does not).
    fn from_str(s: &str) -> Result<Party, String> {
        let (unit, person) = s
            .rsplit_once('/')
            .ok_or_else(|| format!("`{s}` is not UNIT/PERSON (e.g. \"法务部/张三\")"))?;
        let (unit, person) = (unit.trim(), person.trim());
        if unit.is_empty() || person.is_empty() {
            return Err(format!(
                "`{s}` is not UNIT/PERSON: both parts must be non-empty"
            ));
        }
        if s.chars().any(char::is_control) {
            return Err(format!("`{s}` contains a control character or line break"));
        }
        Ok(Party {
            unit: unit.to_owned(),
            person: person.to_owned(),
        })
    }
}

impl std::fmt::Display for Party {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.unit, self.person)
    }
}

/// What an entry records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Event {
    /// A bundle was made and handed over.
    Handover {
        /// 移交单位 / 移交人.
        from: Party,
        /// 接收单位 / 接收人.
        to: Party,
        /// 交接工作名称.
        purpose: String,
        /// The bag's name (its folder in the zip and its External-Identifier).
        bundle: String,
        /// Payload files (the count of Payload-Oxum).
        items: u64,
        /// Payload bytes (the octets of Payload-Oxum).
        bytes: u64,
        /// Digest algorithm of the digests below.
        algorithm: String,
        /// SHA-256 of the bag's `tagmanifest-sha256.txt`, which seals every other file of the bag.
        tagmanifest_sha256: String,
        /// SHA-256 of the printable 移交清单 PDF carried in the bundle.
        list_sha256: String,
    },
    /// A bundle was received and verified.
    Receipt {
        /// Who received it.
        by: Party,
        /// The sender, as the bundle's own handover entry names them.
        from: Option<Party>,
        /// The bag's name.
        bundle: String,
        /// `seq` of the sender's handover entry in the bundle.
        sender_seq: Option<u64>,
        /// SHA-256 of the sender's handover entry line (anchors the sender's chain).
        sender_entry_sha256: Option<String>,
        /// Digest algorithm.
        algorithm: String,
        /// SHA-256 of the received `tagmanifest-sha256.txt`.
        tagmanifest_sha256: Option<String>,
        /// `verified` or `defective`.
        result: String,
        /// How many problems verification reported.
        problems: u64,
    },
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// 1, 2, 3, … without gaps.
    pub seq: u64,
    /// When (RFC 3339 with the offset of the sender's workspace zone, from
    /// SOURCE_DATE_EPOCH when set; `Z` in entries written before zones were
    /// configured, which stay as they are: the chain hashes the line).
    pub time: String,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
    /// SHA-256 of the previous line, or [`GENESIS`].
    pub prev: String,
}

impl Entry {
    /// The line as stored (compact JSON, fields in declaration order, no newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("entries always serialise")
    }
}

/// A problem with a log's chain: the 1-based line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainProblem {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong, as a sentence.
    pub message: String,
}

/// A parsed log: its lines (as stored), the entries that parsed, and chain problems.
#[derive(Debug, Default)]
pub struct Chain {
    /// Every line, without its newline.
    pub lines: Vec<String>,
    /// The parsed entry of each line (`None` where it did not parse).
    pub entries: Vec<Option<Entry>>,
    /// Everything wrong with the chain.
    pub problems: Vec<ChainProblem>,
}

impl Chain {
    /// The `(seq, prev)` the next entry must carry.
    pub fn next(&self) -> (u64, String) {
        match self.lines.last() {
            Some(last) => (self.lines.len() as u64 + 1, sha256_hex(last.as_bytes())),
            None => (1, GENESIS.to_owned()),
        }
    }
}

/// Checks the chain rule on a log's text: every line is an entry, `seq` counts
/// 1, 2, 3 …, and `prev` is the SHA-256 of the line before (64 zeros for the first).
pub fn check_chain(text: &str) -> Chain {
    let mut chain = Chain::default();
    if text.is_empty() {
        return chain;
    }
    let body = match text.strip_suffix('\n') {
        Some(b) => b,
        None => {
            chain.problems.push(ChainProblem {
                line: text.split('\n').count(),
                message: "the last line has no newline (the log was cut off or edited)".into(),
            });
            text
        }
    };
    for (i, line) in body.split('\n').enumerate() {
        let n = i + 1;
        let entry = match serde_json::from_str::<Entry>(line) {
            Ok(e) => Some(e),
            Err(e) => {
                chain.problems.push(ChainProblem {
                    line: n,
                    message: format!("line {n} is not a handover log entry ({e})"),
                });
                None
            }
        };
        if let Some(e) = &entry {
            if e.seq != n as u64 {
                chain.problems.push(ChainProblem {
                    line: n,
                    message: format!(
                        "entry on line {n} has seq {}, expected {n} (an entry was removed, added or reordered)",
                        e.seq
                    ),
                });
            }
            let expected = match chain.lines.last() {
                Some(prev) => sha256_hex(prev.as_bytes()),
                None => GENESIS.to_owned(),
            };
            if e.prev != expected {
                chain.problems.push(ChainProblem {
                    line: n,
                    message: if n == 1 {
                        format!("entry 1 has prev {}, expected {GENESIS} (the log does not start at its first entry)", e.prev)
                    } else {
                        format!(
                            "entry on line {n} has prev {}, but line {} hashes to {expected} (line {} was changed or removed)",
                            e.prev,
                            n - 1,
                            n - 1
                        )
                    },
                });
            }
        }
        chain.lines.push(line.to_owned());
        chain.entries.push(entry);
    }
    chain
}

/// Handover log failures of the environment (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// Reading, locking or writing the log failed.
    #[error("failed to {action} handover log {path} ({source})")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The log file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The log's chain is broken: nothing may be appended until it is repaired.
    #[error("handover log {path} is broken, nothing appended:\n{}", problems.iter().map(|p| format!("  {}", p.message)).collect::<Vec<_>>().join("\n"))]
    Broken {
        /// The log file.
        path: PathBuf,
        /// What is wrong.
        problems: Vec<ChainProblem>,
    },
}

/// An open log, exclusively locked until dropped.
pub struct Log {
    file: File,
    path: PathBuf,
    chain: Chain,
}

impl Log {
    /// Opens (creating it and its folder if needed) and locks the log, and checks its chain.
    pub fn open(path: &Path) -> Result<Log, LogError> {
        let io = |action| {
            let path = path.to_path_buf();
            move |source| LogError::Io {
                action,
                path,
                source,
            }
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io("create the folder of"))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io("open"))?;
        file.lock().map_err(io("lock"))?;
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(io("read"))?;
        let chain = check_chain(&text);
        if !chain.problems.is_empty() {
            return Err(LogError::Broken {
                path: path.to_path_buf(),
                problems: chain.problems,
            });
        }
        Ok(Log {
            file,
            path: path.to_path_buf(),
            chain,
        })
    }

    /// The chain as read.
    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    /// The entry that appending `event` at `time` would write.
    pub fn next_entry(&self, time: &str, event: Event) -> Entry {
        let (seq, prev) = self.chain.next();
        Entry {
            seq,
            time: time.to_owned(),
            event,
            prev,
        }
    }

    /// Appends `entry` (made by [`Log::next_entry`]) and syncs the file.
    pub fn append(&mut self, entry: &Entry) -> Result<(), LogError> {
        let (seq, prev) = self.chain.next();
        assert!(
            entry.seq == seq && entry.prev == prev,
            "entry was not made by next_entry on this log"
        );
        let io = |action| {
            let path = self.path.clone();
            move |source| LogError::Io {
                action,
                path,
                source,
            }
        };
        let line = entry.to_line();
        self.file.seek(SeekFrom::End(0)).map_err(io("seek"))?;
        self.file
            .write_all(format!("{line}\n").as_bytes())
            .map_err(io("append to"))?;
        self.file.sync_all().map_err(io("sync"))?;
        self.chain.lines.push(line);
        self.chain.entries.push(Some(entry.clone()));
        Ok(())
    }

    /// The log's text (every line with its newline), as it now stands.
    pub fn text(&self) -> String {
        self.chain.lines.iter().map(|l| format!("{l}\n")).collect()
    }
}

/// The time to record: `epoch` seconds (SOURCE_DATE_EPOCH) when given, else the clock.
pub fn record_time(epoch: Option<i64>) -> Option<chrono::DateTime<chrono::Utc>> {
    let secs = match epoch {
        Some(s) => s,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
    };
    chrono::DateTime::from_timestamp(secs, 0)
}

/// RFC 3339 with seconds and the offset of `zone`, as entries store it.
pub fn format_time(t: chrono::DateTime<chrono::Utc>, zone: chrono_tz::Tz) -> String {
    crate::localtime::rfc3339(t, zone)
}

/// What `handover receive` did.
#[derive(Debug, Serialize)]
pub struct Received {
    /// The verification report of the bundle.
    pub report: crate::verify::Report,
    /// The receipt entry appended.
    pub receipt: Entry,
    /// The log it was appended to.
    pub log: PathBuf,
}

/// Why a receipt could not be recorded (exit code 2, or 1 for a broken log).
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    /// The archive could not be read at all.
    #[error(transparent)]
    Verify(#[from] crate::verify::VerifyError),
    /// The receiver's log could not be used.
    #[error(transparent)]
    Log(#[from] LogError),
}

/// Verifies `archive` and appends a receipt with the result to the log at `log_path`.
/// A defective bundle is still receipted (as `defective`): the log records what arrived.
pub fn receive(
    archive: &Path,
    by: &Party,
    log_path: &Path,
    time: &str,
) -> Result<Received, ReceiveError> {
    let report = crate::verify::verify(archive)?;
    let mut log = Log::open(log_path)?;
    let sender = report.handover.as_ref();
    let event = Event::Receipt {
        by: by.clone(),
        from: sender.map(|h| h.from.clone()),
        bundle: report.bag.clone().unwrap_or_else(|| {
            archive
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        }),
        sender_seq: sender.map(|h| h.seq),
        sender_entry_sha256: sender.map(|h| h.entry_sha256.clone()),
        algorithm: "sha256".into(),
        tagmanifest_sha256: report.tagmanifest_sha256.clone(),
        result: if report.ok() { "verified" } else { "defective" }.into(),
        problems: report.problems.len() as u64,
    };
    let receipt = log.next_entry(time, event);
    log.append(&receipt)?;
    Ok(Received {
        report,
        receipt,
        log: log_path.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handover(seq: u64, prev: &str) -> Entry {
        Entry {
            seq,
            time: "2026-11-23T00:00:00Z".into(),
            event: Event::Handover {
                from: "法务部/张三".parse().unwrap(),
                to: "档案室/李四".parse().unwrap(),
                purpose: "x".into(),
                bundle: "b".into(),
                items: 1,
                bytes: 2,
                algorithm: "sha256".into(),
                tagmanifest_sha256: "t".into(),
                list_sha256: "l".into(),
            },
            prev: prev.into(),
        }
    }

    #[test]
    fn party_splits_at_the_last_slash_and_refuses_half_names() {
        let p: Party = "A/B 公司/王芳".parse().unwrap();
        assert_eq!((p.unit.as_str(), p.person.as_str()), ("A/B 公司", "王芳"));
        assert!("法务部".parse::<Party>().is_err());
        assert!("法务部/ ".parse::<Party>().is_err());
        assert!("a/b\nc".parse::<Party>().is_err());
    }

    #[test]
    fn chain_links_each_line_to_the_one_before_and_reports_edits_and_drops() {
        let one = handover(1, GENESIS).to_line();
        let two = handover(2, &sha256_hex(one.as_bytes())).to_line();
        let good = format!("{one}\n{two}\n");
        let c = check_chain(&good);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(c.next().0, 3);
        assert_eq!(c.next().1, sha256_hex(two.as_bytes()));

        let edited = good.replacen("李四", "王五", 1);
        let p = check_chain(&edited).problems;
        assert_eq!(p.len(), 1);
        assert!(
            p[0].message.contains("line 1 was changed or removed"),
            "{p:?}"
        );

        let dropped = format!("{two}\n");
        let p = check_chain(&dropped).problems;
        assert!(
            p.iter()
                .any(|p| p.message.contains("has seq 2, expected 1"))
        );
        assert!(p.iter().any(|p| p.message.contains("does not start")));

        assert!(
            check_chain(&format!("{one}\n{{\n")).problems[0]
                .message
                .contains("line 2 is not a handover log entry")
        );
    }

    #[test]
    fn entry_lines_keep_their_field_order() {
        let line = handover(1, GENESIS).to_line();
        assert!(line.starts_with(r#"{"seq":1,"time":"2026-11-23T00:00:00Z","kind":"handover","from":{"unit":"法务部","person":"张三"}"#), "{line}");
        assert!(line.ends_with(&format!(r#""prev":"{GENESIS}"}}"#)));
    }

    #[test]
    fn a_log_appends_under_lock_and_refuses_a_broken_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/handover.jsonl");
        let mut log = Log::open(&path).unwrap();
        let e = log.next_entry("2026-11-23T00:00:00Z", handover(0, "").event);
        log.append(&e).unwrap();
        drop(log);
        let log = Log::open(&path).unwrap();
        assert_eq!(log.chain().lines.len(), 1);
        drop(log);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("\"seq\":1", "\"seq\":7")).unwrap();
        assert!(matches!(Log::open(&path), Err(LogError::Broken { .. })));
    }
}
