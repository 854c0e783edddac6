//! `register copy`: moves a register into an empty one, SQLite to PostgreSQL
//! or back, and proves the move by what people read from it.
//!
//! The backends do the SQL: [`Register::dump`] reads every table as plain
//! values, [`Register::load`] writes them into an empty register in one
//! transaction and rolls back unless they read back equal. This file only
//! compares what the two registers show afterwards: the 合同信息登记表 CSV
//! (the bytes `register export --format csv` writes) and the JSON of every
//! revision of every number, both with times in UTC so zones cannot differ.
//! It knows no SQL and no backend.

use std::time::Duration;

use chrono_tz::Tz;

use super::{Location, Register, RegisterError, to_csv};

/// What a finished copy moved, and the digest both registers' CSV share.
#[derive(Debug, Clone)]
pub struct Copied {
    /// Contracts copied.
    pub contracts: usize,
    /// Revisions copied.
    pub revisions: usize,
    /// SHA-256 of the 合同信息登记表 CSV (UTC), the same from both registers.
    pub csv_sha256: String,
}

/// Why a copy failed; every variant is an environment error (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// Opening, reading or writing a register failed (nothing was committed
    /// to the target), or the target is not empty.
    #[error(transparent)]
    Register(#[from] RegisterError),
    /// The copy was committed, but the two registers do not show the same.
    #[error(
        "register copy: the {what} of {to} differs from {from} at line {line} (source: `{from_line}`, copy: `{to_line}`); the copy was committed: inspect it, then remove it before copying again"
    )]
    Differs {
        /// Which export differs.
        what: &'static str,
        /// The source register (`source` is a reserved field name for thiserror).
        from: String,
        /// The target register.
        to: String,
        /// The first differing line, from 1.
        line: usize,
        /// That line in the source's export (empty past its end).
        from_line: String,
        /// That line in the target's export (empty past its end).
        to_line: String,
    },
    /// A register's rows cannot be written as JSON (never expected).
    #[error("register copy: the JSON export cannot be written ({0})")]
    Json(#[from] serde_json::Error),
}

/// Copies everything `source` (at `from`) holds into the empty register at
/// `to`, then compares both registers' CSV and JSON exports.
///
/// A new SQLite file that the copy created is removed again when the copy
/// fails before committing, so a failure leaves the target as it was.
pub fn copy(
    source: &mut Register,
    from: &Location,
    to: &Location,
    timeout: Duration,
) -> Result<Copied, CopyError> {
    // Numbers reserved by unfinished shards are not copied: finish them first.
    let reserved = source.reservations()?;
    if let Some(r) = reserved.first() {
        return Err(CopyError::Register(RegisterError::Settings {
            register: from.display(),
            detail: format!(
                "{} number(s) are reserved by shards that have not finished (first {} for `{}`); rerun those shards, then copy",
                reserved.len(),
                r.number,
                r.record_id
            ),
        }));
    }
    let dump = source.dump()?;
    let created = match to {
        Location::Sqlite(p) => (!p.exists()).then(|| p.clone()),
        Location::Postgres(_) => None,
    };
    let loaded = Register::open(to, timeout).and_then(|mut target| {
        target.load(&dump)?;
        Ok(target)
    });
    let mut target = match loaded {
        Ok(target) => target,
        Err(e) => {
            // The connection is closed by now (the register was dropped).
            if let Some(path) = created {
                let _ = std::fs::remove_file(&path);
                let mut journal = path.into_os_string();
                journal.push("-journal");
                let _ = std::fs::remove_file(journal);
            }
            return Err(e.into());
        }
    };
    let csv = to_csv(&source.list()?, Tz::UTC);
    compare(
        "合同信息登记表 CSV",
        &csv,
        &to_csv(&target.list()?, Tz::UTC),
        from,
        to,
    )?;
    compare(
        "JSON export of every revision",
        &every_revision(source)?,
        &every_revision(&mut target)?,
        from,
        to,
    )?;
    Ok(Copied {
        contracts: dump.contracts.len(),
        revisions: dump.revisions.len(),
        csv_sha256: crate::checksum::sha256_hex(csv.as_bytes()),
    })
}

/// `register export --format json` and `register show` of every number, in
/// one JSON text, with every time in UTC.
fn every_revision(reg: &mut Register) -> Result<String, CopyError> {
    let utc = |t: &mut String| *t = crate::localtime::local(t, Tz::UTC);
    let mut rows = reg.list()?;
    let mut shown = Vec::with_capacity(rows.len());
    for r in &mut rows {
        let mut revisions = reg.show(&r.number)?;
        for s in &mut revisions {
            utc(&mut s.row.revision.issued_at);
        }
        shown.push(revisions);
        utc(&mut r.revision.issued_at);
    }
    let all = serde_json::json!({ "export": rows, "show": shown });
    Ok(serde_json::to_string_pretty(&all)? + "\n")
}

/// `Ok` when `a` and `b` are the same bytes, else the first differing line.
fn compare(
    what: &'static str,
    a: &str,
    b: &str,
    from: &Location,
    to: &Location,
) -> Result<(), CopyError> {
    if a == b {
        return Ok(());
    }
    let (mut la, mut lb) = (a.split('\n'), b.split('\n'));
    let mut line = 1;
    loop {
        match (la.next(), lb.next()) {
            (x, y) if x != y => {
                let show = |l: Option<&str>| l.unwrap_or("").trim_end_matches('\r').to_owned();
                return Err(CopyError::Differs {
                    what,
                    from: from.display(),
                    to: to.display(),
                    line,
                    from_line: show(x),
                    to_line: show(y),
                });
            }
            (None, None) => unreachable!("different texts have a differing line"),
            _ => line += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_names_the_first_differing_line_of_either_text() {
        let (a, b) = (
            Location::Sqlite("a.sqlite".into()),
            Location::Sqlite("b.sqlite".into()),
        );
        assert!(compare("CSV", "x\r\ny\r\n", "x\r\ny\r\n", &a, &b).is_ok());
        let e = compare("CSV", "x\r\ny\r\n", "x\r\nz\r\n", &a, &b).unwrap_err();
        let CopyError::Differs {
            line,
            from_line,
            to_line,
            ..
        } = &e
        else {
            panic!("{e}")
        };
        assert_eq!((*line, from_line.as_str(), to_line.as_str()), (2, "y", "z"));
        assert!(
            e.to_string()
                .contains("of b.sqlite differs from a.sqlite at line 2"),
            "{e}"
        );
        // A text that stops early differs at the first line it lacks.
        let e = compare("CSV", "x\ny\n", "x\n", &a, &b).unwrap_err();
        assert!(matches!(e, CopyError::Differs { line: 2, .. }), "{e}");
    }
}
