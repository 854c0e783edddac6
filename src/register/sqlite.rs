//! The SQLite register (embedded), in one file, by default
//! `<workspace>/.pactum/register.sqlite`.
//!
//! A build takes the write lock (`BEGIN IMMEDIATE`) before it reads a
//! sequence and commits only after its PDFs are on disk: a killed build rolls
//! back, so no number is skipped, and two builds never hand out the same
//! number. The schema is versioned (`PRAGMA user_version`) from the first
//! release; `migrate` brings older files forward.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};

use super::{
    Dump, DumpContract, DumpFile, DumpRevision, Entry, Facts, MadeFrom, Prior, RESERVATION_SELECT,
    ROW_SELECT, RegisterError, Reservation, Revision, Row, SCHEMA_VERSION, Shown, Status,
};

/// An open register file.
pub struct Register {
    conn: Connection,
    path: PathBuf,
    timeout: Duration,
}

impl Register {
    /// Opens (creating if missing) the register at `path`, waiting up to
    /// `timeout` for another process's lock, and migrates its schema.
    pub fn open(path: &Path, timeout: Duration) -> Result<Register, RegisterError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| RegisterError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let conn = Connection::open(path).map_err(|e| classify(path, timeout, e))?;
        conn.busy_timeout(timeout)
            .map_err(|e| classify(path, timeout, e))?;
        let mut reg = Register {
            conn,
            path: path.to_path_buf(),
            timeout,
        };
        reg.check_integrity()?;
        reg.migrate()?;
        Ok(reg)
    }

    fn err(&self, e: rusqlite::Error) -> RegisterError {
        classify(&self.path, self.timeout, e)
    }

    fn check_integrity(&self) -> Result<(), RegisterError> {
        let result: String = self
            .conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if result != "ok" {
            return Err(RegisterError::Corrupt {
                register: self.path.display().to_string(),
                detail: result,
            });
        }
        Ok(())
    }

    /// Brings the schema to `SCHEMA_VERSION`, one step per version, each in its own transaction.
    fn migrate(&mut self) -> Result<(), RegisterError> {
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if version > SCHEMA_VERSION {
            return Err(RegisterError::TooNew {
                register: self.path.display().to_string(),
                found: version,
            });
        }
        if version == SCHEMA_VERSION {
            return Ok(());
        }
        let path = self.path.clone();
        let timeout = self.timeout;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| classify(&path, timeout, e))?;
        // Re-read under the lock: another process may have migrated meanwhile.
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| classify(&path, timeout, e))?;
        if version < 1 {
            tx.execute_batch(MIGRATION_1)
                .map_err(|e| classify(&path, timeout, e))?;
        }
        if version < 2 {
            tx.execute_batch(MIGRATION_2)
                .map_err(|e| classify(&path, timeout, e))?;
        }
        if version < 3 {
            tx.execute_batch(MIGRATION_3)
                .map_err(|e| classify(&path, timeout, e))?;
        }
        tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))
            .map_err(|e| classify(&path, timeout, e))?;
        tx.commit().map_err(|e| classify(&path, timeout, e))
    }

    /// Starts an issuing batch: takes the write lock until commit or drop.
    pub fn begin(&mut self) -> Result<Batch<'_>, RegisterError> {
        let path = self.path.clone();
        let timeout = self.timeout;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| classify(&path, timeout, e))?;
        Ok(Batch { tx, path, timeout })
    }

    /// A deferred transaction: reads see one snapshot, no write lock is taken.
    pub fn read(&mut self) -> Result<Batch<'_>, RegisterError> {
        let path = self.path.clone();
        let timeout = self.timeout;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(|e| classify(&path, timeout, e))?;
        Ok(Batch { tx, path, timeout })
    }

    /// The latest revision of every contract, in number order.
    pub fn list(&self) -> Result<Vec<Row>, RegisterError> {
        let mut all = Vec::new();
        each_row(&self.conn, &mut |r| all.push(r)).map_err(|e| self.err(e))?;
        Ok(all)
    }

    /// Every revision of the contract with `number`, oldest first, with what each was made from.
    pub fn show(&self, number: &str) -> Result<Vec<Shown>, RegisterError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "{ROW_SELECT} WHERE c.number = ?1 ORDER BY r.revision"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([number], |r| {
                Ok((row_from_sql(r)?, r.get::<_, String>(20)?))
            })
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        if rows.is_empty() {
            return Err(RegisterError::UnknownNumber(number.to_owned()));
        }
        rows.into_iter()
            .map(|(row, record_json)| {
                let files = revision_files(&self.conn, &row.record_id, row.revision.revision)
                    .map_err(|e| self.err(e))?;
                Ok(Shown {
                    row,
                    made_from: MadeFrom { record_json, files },
                })
            })
            .collect()
    }

    /// Marks a number void (作废) with a reason; it stays in the register and is never reused.
    pub fn void(&mut self, number: &str, reason: &str, at: &str) -> Result<(), RegisterError> {
        let path = self.path.clone();
        let timeout = self.timeout;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| classify(&path, timeout, e))?;
        let status: Option<String> = tx
            .query_row(
                "SELECT status FROM contracts WHERE number = ?1",
                [number],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| classify(&path, timeout, e))?;
        match status.as_deref() {
            None => return Err(RegisterError::UnknownNumber(number.to_owned())),
            Some("void") => return Err(RegisterError::AlreadyVoid(number.to_owned())),
            Some(_) => {}
        }
        tx.execute(
            "UPDATE contracts SET status = 'void', void_reason = ?2, voided_at = ?3 WHERE number = ?1",
            params![number, reason, at],
        )
        .map_err(|e| classify(&path, timeout, e))?;
        tx.commit().map_err(|e| classify(&path, timeout, e))
    }

    /// Everything the register holds, read in one transaction.
    pub fn dump(&mut self) -> Result<Dump, RegisterError> {
        let (path, timeout) = (self.path.clone(), self.timeout);
        let tx = self
            .conn
            .transaction()
            .map_err(|e| classify(&path, timeout, e))?;
        let dump = dump_from(&tx).map_err(|e| classify(&path, timeout, e))?;
        tx.commit().map_err(|e| classify(&path, timeout, e))?;
        Ok(dump)
    }

    /// Writes `dump` into this empty register in one transaction under the
    /// write lock; refuses a register holding anything, and commits only
    /// what reads back equal to `dump`.
    pub fn load(&mut self, dump: &Dump) -> Result<(), RegisterError> {
        let (path, timeout) = (self.path.clone(), self.timeout);
        let err = |e| classify(&path, timeout, e);
        let register = path.display().to_string();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let (contracts, others): (i64, i64) = tx
            .query_row(
                "SELECT (SELECT count(*) FROM contracts),
                        (SELECT count(*) FROM revisions) + (SELECT count(*) FROM revision_files)
                        + (SELECT count(*) FROM sequences) + (SELECT count(*) FROM reservations)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(err)?;
        if contracts > 0 || others > 0 {
            return Err(RegisterError::NotEmpty {
                register,
                contracts: contracts.max(0) as u64,
            });
        }
        load_into(&tx, dump).map_err(err)?;
        let back = dump_from(&tx).map_err(err)?;
        if let Some(detail) = dump.first_difference(&back) {
            return Err(RegisterError::CopyMismatch { register, detail });
        }
        tx.commit().map_err(err)
    }
}

/// An open issuing transaction; dropped without `commit`, it changes nothing.
pub struct Batch<'a> {
    tx: rusqlite::Transaction<'a>,
    path: PathBuf,
    timeout: Duration,
}

impl Batch<'_> {
    fn err(&self, e: rusqlite::Error) -> RegisterError {
        classify(&self.path, self.timeout, e)
    }

    /// What the register knows of `record_id`, if it was ever issued.
    pub fn prior(&self, record_id: &str) -> Result<Option<Prior>, RegisterError> {
        self.tx
            .prepare_cached(
                "SELECT c.number, c.status, c.void_reason, r.revision, r.content_sha256, r.template_sha256, r.pdf_sha256, r.issued_at, r.pactum_version, r.record_json
                 FROM contracts c JOIN revisions r ON r.record_id = c.record_id
                 WHERE c.record_id = ?1 ORDER BY r.revision DESC LIMIT 1",
            )
            .and_then(|mut stmt| {
                stmt.query_row([record_id], |r| {
                    Ok(Prior {
                        number: r.get(0)?,
                        status: Status::from_db(&r.get::<_, String>(1)?),
                        void_reason: r.get(2)?,
                        latest: revision_at(r, 3)?,
                        made_from: MadeFrom {
                            record_json: r.get(9)?,
                            files: None,
                        },
                    })
                })
                .optional()
            })
            .and_then(|prior| match prior {
                Some(mut p) => {
                    p.made_from.files = revision_files(&self.tx, record_id, p.latest.revision)?;
                    Ok(Some(p))
                }
                None => Ok(None),
            })
            .map_err(|e| self.err(e))
    }

    /// The last sequence number used in `scope` (0 if none).
    pub fn last_seq(&self, scope: &str) -> Result<u64, RegisterError> {
        let last: Option<i64> = self
            .tx
            .query_row(
                "SELECT last FROM sequences WHERE scope = ?1",
                [scope],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(last.unwrap_or(0).max(0) as u64)
    }

    /// The number reserved for `record_id`, if any.
    pub fn reserved(&self, record_id: &str) -> Result<Option<Reservation>, RegisterError> {
        self.tx
            .prepare_cached(&format!("{RESERVATION_SELECT} WHERE record_id = ?1"))
            .and_then(|mut stmt| stmt.query_row([record_id], reservation_from_sql).optional())
            .map_err(|e| self.err(e))
    }

    /// Reserves a number and moves its scope's counter past it.
    pub fn reserve(&self, r: &Reservation) -> Result<(), RegisterError> {
        let seq = r.seq as i64;
        self.tx
            .execute(
                "INSERT INTO reservations (record_id, number, scope, seq, template, batch) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![r.record_id, r.number, r.scope, seq, r.template, r.batch],
            )
            .and_then(|_| {
                self.tx.execute(
                    "INSERT INTO sequences (scope, last) VALUES (?1, ?2)
                     ON CONFLICT(scope) DO UPDATE SET last = MAX(last, excluded.last)",
                    params![r.scope, seq],
                )
            })
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Numbers reserved and not yet issued, in number order.
    pub fn reservations(&self) -> Result<Vec<Reservation>, RegisterError> {
        self.tx
            .prepare(&format!("{RESERVATION_SELECT} ORDER BY scope, seq"))
            .and_then(|mut stmt| {
                stmt.query_map([], reservation_from_sql)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.err(e))
    }

    /// Records one issued document (a new number, a new revision, or nothing new).
    pub fn record(&self, e: &Entry) -> Result<(), RegisterError> {
        let run = |sql: &str, p: &[&dyn rusqlite::ToSql]| {
            // Prepared once per batch, not once per document.
            self.tx
                .prepare_cached(sql)
                .and_then(|mut stmt| stmt.execute(p))
                .map_err(|err| self.err(err))
        };
        run(
            "INSERT INTO contracts (record_id, number, scope, seq, template, status)
             VALUES (?1, ?2, ?3, ?4, ?5, 'issued') ON CONFLICT(record_id) DO NOTHING",
            &[
                &e.record_id,
                &e.number,
                &e.scope,
                &(e.seq as i64),
                &e.template,
            ],
        )?;
        run(
            "INSERT INTO sequences (scope, last) VALUES (?1, ?2)
             ON CONFLICT(scope) DO UPDATE SET last = MAX(last, excluded.last)",
            &[&e.scope, &(e.seq as i64)],
        )?;
        run(
            "DELETE FROM reservations WHERE record_id = ?1",
            &[&e.record_id],
        )?;
        let f = &e.facts;
        let inserted = run(
            "INSERT INTO revisions (record_id, revision, content_sha256, template_sha256, pdf_sha256, issued_at,
                title, party_a, party_b, signing_date, effective_date, expiry_date, amount, currency, waivers, record_json,
                pactum_version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
             ON CONFLICT(record_id, revision) DO NOTHING",
            &[
                &e.record_id,
                &e.revision.revision,
                &e.revision.content_sha256,
                &e.revision.template_sha256,
                &e.revision.pdf_sha256,
                &e.revision.issued_at,
                &f.title,
                &f.party_a,
                &f.party_b,
                &f.signing_date,
                &f.effective_date,
                &f.expiry_date,
                &f.amount,
                &f.currency,
                &f.waivers,
                &e.made_from.record_json,
                &e.revision.pactum,
            ],
        )?;
        // A revision recorded before keeps the files it was recorded with.
        if let (true, Some(files)) = (inserted > 0, &e.made_from.files) {
            for (path, sha256) in files {
                run(
                    "INSERT INTO revision_files (record_id, revision, path, sha256) VALUES (?1, ?2, ?3, ?4)",
                    &[&e.record_id, &e.revision.revision, path, sha256],
                )?;
            }
        }
        Ok(())
    }

    /// Calls `f` with every contract's latest revision as this batch would
    /// leave the register, in number order, one row at a time.
    pub fn each_row(&self, f: &mut dyn FnMut(Row)) -> Result<(), RegisterError> {
        each_row(&self.tx, f).map_err(|e| self.err(e))
    }

    /// Makes everything recorded in this batch durable.
    pub fn commit(self) -> Result<(), RegisterError> {
        let (path, timeout) = (self.path.clone(), self.timeout);
        self.tx.commit().map_err(|e| classify(&path, timeout, e))
    }
}

const MIGRATION_1: &str = "
CREATE TABLE sequences (
    scope TEXT PRIMARY KEY,
    last  INTEGER NOT NULL CHECK (last >= 0)
);
CREATE TABLE contracts (
    record_id   TEXT PRIMARY KEY,
    number      TEXT NOT NULL UNIQUE,
    scope       TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    template    TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('issued', 'void')),
    void_reason TEXT,
    voided_at   TEXT,
    UNIQUE (scope, seq)
);
CREATE TABLE revisions (
    record_id       TEXT NOT NULL REFERENCES contracts (record_id),
    revision        INTEGER NOT NULL CHECK (revision >= 0),
    content_sha256  TEXT NOT NULL,
    template_sha256 TEXT NOT NULL,
    pdf_sha256      TEXT NOT NULL,
    issued_at       TEXT NOT NULL,
    title           TEXT NOT NULL,
    party_a         TEXT NOT NULL,
    party_b         TEXT NOT NULL,
    signing_date    TEXT NOT NULL,
    effective_date  TEXT NOT NULL,
    expiry_date     TEXT NOT NULL,
    amount          TEXT NOT NULL,
    currency        TEXT NOT NULL,
    waivers         TEXT NOT NULL,
    record_json     TEXT NOT NULL,
    PRIMARY KEY (record_id, revision)
);
";

/// What each revision was made from: the pactum that typeset it and the
/// template files it read with their digests. Revisions issued before this
/// version have no rows here and an empty `pactum_version`: the register
/// says so rather than guess, and no revision moves because of the upgrade
/// (a build compares what a document prints, not these digests).
const MIGRATION_2: &str = "
ALTER TABLE revisions ADD COLUMN pactum_version TEXT NOT NULL DEFAULT '';
CREATE TABLE revision_files (
    record_id TEXT NOT NULL,
    revision  INTEGER NOT NULL,
    path      TEXT NOT NULL,
    sha256    TEXT NOT NULL,
    PRIMARY KEY (record_id, revision, path),
    FOREIGN KEY (record_id, revision) REFERENCES revisions (record_id, revision)
);
";

/// Numbers reserved by one shard for all shards of a batch (`build --shard`).
const MIGRATION_3: &str = "
CREATE TABLE reservations (
    record_id TEXT PRIMARY KEY,
    number    TEXT NOT NULL UNIQUE,
    scope     TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    template  TEXT NOT NULL,
    batch     TEXT NOT NULL,
    UNIQUE (scope, seq)
);
";

fn reservation_from_sql(r: &rusqlite::Row) -> rusqlite::Result<Reservation> {
    Ok(Reservation {
        record_id: r.get(0)?,
        number: r.get(1)?,
        scope: r.get(2)?,
        seq: r.get::<_, i64>(3)?.max(0) as u64,
        template: r.get(4)?,
        batch: r.get(5)?,
    })
}

/// Calls `f` with every contract's latest revision, in number order, one
/// row at a time (a large register is never held in memory).
fn each_row(conn: &Connection, f: &mut dyn FnMut(Row)) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(&format!(
        "{ROW_SELECT} WHERE r.revision = (SELECT MAX(revision) FROM revisions WHERE record_id = c.record_id) ORDER BY c.scope, c.seq, c.number"
    ))?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        f(row_from_sql(r)?);
    }
    Ok(())
}

/// A `Revision` from six columns starting at `at`: revision, content,
/// template and PDF digests, issue time, pactum version (the order both
/// queries select them in).
fn revision_at(r: &rusqlite::Row, at: usize) -> rusqlite::Result<Revision> {
    Ok(Revision {
        revision: r.get(at)?,
        content_sha256: r.get(at + 1)?,
        template_sha256: r.get(at + 2)?,
        pdf_sha256: r.get(at + 3)?,
        issued_at: r.get(at + 4)?,
        pactum: r.get(at + 5)?,
    })
}

/// The template files recorded for one revision; `None` when none were
/// recorded (issued before schema version 2).
fn revision_files(
    conn: &Connection,
    record_id: &str,
    revision: u32,
) -> rusqlite::Result<Option<std::collections::BTreeMap<String, String>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT path, sha256 FROM revision_files WHERE record_id = ?1 AND revision = ?2",
    )?;
    let files = stmt
        .query_map(params![record_id, revision], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<std::collections::BTreeMap<String, String>>>()?;
    Ok((!files.is_empty()).then_some(files))
}

fn row_from_sql(r: &rusqlite::Row) -> rusqlite::Result<Row> {
    Ok(Row {
        number: r.get(0)?,
        record_id: r.get(1)?,
        template: r.get(2)?,
        status: Status::from_db(&r.get::<_, String>(3)?),
        void_reason: r.get(4)?,
        revision: revision_at(r, 5)?,
        facts: Facts {
            title: r.get(11)?,
            party_a: r.get(12)?,
            party_b: r.get(13)?,
            signing_date: r.get(14)?,
            effective_date: r.get(15)?,
            expiry_date: r.get(16)?,
            amount: r.get(17)?,
            currency: r.get(18)?,
            waivers: r.get(19)?,
        },
    })
}

/// Sorts SQLite failures into "locked" and "corrupt", which users act on differently.
fn classify(path: &Path, timeout: Duration, e: rusqlite::Error) -> RegisterError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => RegisterError::Locked {
            register: path.display().to_string(),
            seconds: timeout.as_secs(),
        },
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => RegisterError::Corrupt {
            register: path.display().to_string(),
            detail: e.to_string(),
        },
        _ => RegisterError::Sql {
            register: path.display().to_string(),
            source: e,
        },
    }
}

/// Every row of the four tables, as [`Dump`] values.
fn dump_from(conn: &Connection) -> rusqlite::Result<Dump> {
    let contracts = conn
        .prepare(
            "SELECT record_id, number, scope, seq, template, status, void_reason, voided_at FROM contracts",
        )?
        .query_map([], |r| {
            Ok(DumpContract {
                record_id: r.get(0)?,
                number: r.get(1)?,
                scope: r.get(2)?,
                seq: r.get::<_, i64>(3)?.max(0) as u64,
                template: r.get(4)?,
                status: Status::from_db(&r.get::<_, String>(5)?),
                void_reason: r.get(6)?,
                voided_at: r.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let revisions = conn
        .prepare(
            "SELECT record_id, revision, content_sha256, template_sha256, pdf_sha256, issued_at, pactum_version,
                title, party_a, party_b, signing_date, effective_date, expiry_date, amount, currency, waivers,
                record_json
             FROM revisions",
        )?
        .query_map([], |r| {
            Ok(DumpRevision {
                record_id: r.get(0)?,
                revision: revision_at(r, 1)?,
                facts: Facts {
                    title: r.get(7)?,
                    party_a: r.get(8)?,
                    party_b: r.get(9)?,
                    signing_date: r.get(10)?,
                    effective_date: r.get(11)?,
                    expiry_date: r.get(12)?,
                    amount: r.get(13)?,
                    currency: r.get(14)?,
                    waivers: r.get(15)?,
                },
                record_json: r.get(16)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let files = conn
        .prepare("SELECT record_id, revision, path, sha256 FROM revision_files")?
        .query_map([], |r| {
            Ok(DumpFile {
                record_id: r.get(0)?,
                revision: r.get(1)?,
                path: r.get(2)?,
                sha256: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let sequences = conn
        .prepare("SELECT scope, last FROM sequences")?
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Dump {
        contracts,
        revisions,
        files,
        sequences,
    }
    .sorted())
}

/// Inserts every row of `dump` (parents before children, for the foreign keys).
fn load_into(conn: &Connection, dump: &Dump) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(
        "INSERT INTO contracts (record_id, number, scope, seq, template, status, void_reason, voided_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for c in &dump.contracts {
        stmt.execute(params![
            c.record_id,
            c.number,
            c.scope,
            c.seq as i64,
            c.template,
            c.status.to_db(),
            c.void_reason,
            c.voided_at
        ])?;
    }
    let mut stmt = conn.prepare(
        "INSERT INTO revisions (record_id, revision, content_sha256, template_sha256, pdf_sha256, issued_at,
            pactum_version, title, party_a, party_b, signing_date, effective_date, expiry_date, amount, currency,
            waivers, record_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?;
    for r in &dump.revisions {
        let (v, f) = (&r.revision, &r.facts);
        stmt.execute(params![
            r.record_id,
            v.revision,
            v.content_sha256,
            v.template_sha256,
            v.pdf_sha256,
            v.issued_at,
            v.pactum,
            f.title,
            f.party_a,
            f.party_b,
            f.signing_date,
            f.effective_date,
            f.expiry_date,
            f.amount,
            f.currency,
            f.waivers,
            r.record_json
        ])?;
    }
    let mut stmt = conn.prepare(
        "INSERT INTO revision_files (record_id, revision, path, sha256) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for f in &dump.files {
        stmt.execute(params![f.record_id, f.revision, f.path, f.sha256])?;
    }
    let mut stmt = conn.prepare("INSERT INTO sequences (scope, last) VALUES (?1, ?2)")?;
    for (scope, last) in &dump.sequences {
        stmt.execute(params![scope, *last as i64])?;
    }
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(crate) fn entry(id: &str, number: &str, seq: u64, revision: u32, pdf: &str) -> Entry {
        Entry {
            record_id: id.into(),
            number: number.into(),
            scope: "FW-2026-".into(),
            seq,
            template: "service-zh".into(),
            revision: Revision {
                revision,
                content_sha256: format!("c{revision}"),
                template_sha256: "t".into(),
                pdf_sha256: pdf.into(),
                issued_at: "2026-11-23T00:00:00Z".into(),
                pactum: "0.1.0".into(),
            },
            facts: Facts {
                title: "服务合同, \"甲\"".into(),
                ..Facts::default()
            },
            made_from: MadeFrom {
                record_json: "{}".into(),
                files: Some([("_lib/contract.typ".to_owned(), format!("f{revision}"))].into()),
            },
        }
    }

    #[test]
    fn a_dropped_batch_changes_nothing_and_a_committed_one_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.sqlite");
        let mut reg = Register::open(&path, Duration::from_secs(1)).unwrap();
        {
            let b = reg.begin().unwrap();
            b.record(&entry("a", "FW-2026-0001", 1, 0, "p0")).unwrap();
            // dropped: rolled back
        }
        assert_eq!(reg.begin().unwrap().last_seq("FW-2026-").unwrap(), 0);
        let b = reg.begin().unwrap();
        b.record(&entry("a", "FW-2026-0001", 1, 0, "p0")).unwrap();
        b.record(&entry("a", "FW-2026-0001", 1, 1, "p1")).unwrap();
        b.commit().unwrap();
        let b = reg.begin().unwrap();
        assert_eq!(b.last_seq("FW-2026-").unwrap(), 1);
        let prior = b.prior("a").unwrap().unwrap();
        assert_eq!(
            (prior.number.as_str(), prior.latest.revision),
            ("FW-2026-0001", 1)
        );
        drop(b);
        assert_eq!(reg.show("FW-2026-0001").unwrap().len(), 2);
        assert_eq!(reg.list().unwrap().len(), 1);
    }

    #[test]
    fn void_keeps_the_number_and_refuses_a_second_void() {
        let dir = tempfile::tempdir().unwrap();
        let mut reg = Register::open(&dir.path().join("r.sqlite"), Duration::from_secs(1)).unwrap();
        let b = reg.begin().unwrap();
        b.record(&entry("a", "FW-2026-0001", 1, 0, "p0")).unwrap();
        b.commit().unwrap();
        reg.void("FW-2026-0001", "签错对象", "2026-11-23T00:00:00Z")
            .unwrap();
        assert!(matches!(
            reg.void("FW-2026-0001", "again", "x"),
            Err(RegisterError::AlreadyVoid(_))
        ));
        assert!(matches!(
            reg.void("FW-2026-9999", "x", "x"),
            Err(RegisterError::UnknownNumber(_))
        ));
        let rows = reg.list().unwrap();
        assert_eq!(rows[0].status, Status::Void);
        assert_eq!(rows[0].void_reason.as_deref(), Some("签错对象"));
    }

    #[test]
    fn a_version_1_register_is_migrated_and_keeps_its_revisions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.sqlite");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATION_1).unwrap();
            conn.execute_batch(
                "PRAGMA user_version = 1;
                 INSERT INTO contracts VALUES ('a', 'FW-2026-0001', 'FW-2026-', 1, 'service-zh', 'issued', NULL, NULL);
                 INSERT INTO sequences VALUES ('FW-2026-', 1);
                 INSERT INTO revisions VALUES ('a', 0, 'c', 't', 'p', '2026-11-23T00:00:00Z',
                    'x', 'A', 'B', '2026-01-01', '2026-01-01', '2027-01-01', '1.00', 'CNY', '', '{\"id\":\"a\"}');",
            )
            .unwrap();
        }
        let mut reg = Register::open(&path, Duration::from_secs(1)).unwrap();
        let b = reg.begin().unwrap();
        let prior = b.prior("a").unwrap().unwrap();
        assert_eq!(prior.latest.revision, 0);
        assert_eq!(prior.latest.pdf_sha256, "p");
        assert_eq!(prior.latest.pactum, "");
        assert_eq!(prior.made_from.record_json, r#"{"id":"a"}"#);
        assert_eq!(prior.made_from.files, None);
        // The next revision records its files.
        b.record(&entry("a", "FW-2026-0001", 1, 1, "p1")).unwrap();
        b.commit().unwrap();
        let shown = reg.show("FW-2026-0001").unwrap();
        assert_eq!(shown.len(), 2);
        assert_eq!(shown[0].made_from.files, None);
        assert_eq!(
            shown[1].made_from.files.as_ref().unwrap()["_lib/contract.typ"],
            "f1"
        );
        let version: i64 = reg
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }

    #[test]
    fn a_file_that_is_not_a_database_is_reported_as_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.sqlite");
        std::fs::write(&path, vec![b'x'; 4096]).unwrap();
        assert!(matches!(
            Register::open(&path, Duration::from_secs(1)),
            Err(RegisterError::Corrupt { .. })
        ));
    }
}
