//! The PostgreSQL register: one database that several machines number from.
//!
//! The same tables as the SQLite register (`sequences`, `contracts`,
//! `revisions`, `revision_files`) plus `pactum_schema` for the schema version.
//! PostgreSQL sequences are not gap-free (a rolled-back `nextval` is lost), so
//! numbers come from a counter row per scope in `sequences`, read `FOR UPDATE`
//! inside the transaction that records the issue: a transaction that does
//! not commit leaves the counter where it was. An issuing batch also takes a
//! transaction-scoped advisory lock, so two builds take turns as they do on
//! SQLite (and wait at most `--lock-timeout`, through `lock_timeout`).
//!
//! Connection settings follow libpq: the URL first, then `PGHOST`, `PGPORT`,
//! `PGUSER`, `PGDATABASE`, `PGPASSWORD`, `PGSSLMODE`, `PGCONNECT_TIMEOUT`,
//! then `~/.pgpass` (or `PGPASSFILE`) for the password. TLS is used when the
//! server offers it (`sslmode=prefer`, the default) and required with
//! `sslmode=require`; like libpq's `prefer` and `require`, the server's
//! certificate is not verified (`verify-ca`/`verify-full` are refused with a
//! message rather than silently weakened).

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use postgres::config::{Host, SslMode};
use postgres::error::SqlState;
use postgres::{Client, Config, NoTls, Transaction};

use super::{
    Dump, DumpContract, DumpFile, DumpRevision, Entry, Facts, MadeFrom, Prior, RESERVATION_SELECT,
    ROW_SELECT, RegisterError, Reservation, Revision, Row, SCHEMA_VERSION, Shown, Status,
};

/// The advisory lock every writing transaction takes ("pactum" in ASCII).
const LOCK_KEY: i64 = 0x7061_6374_756d;

/// Rows fetched at a time when the whole register is read (CSV export).
const PORTAL_ROWS: i32 = 512;

/// The URL with its password (in the authority or a `password=` parameter) replaced by `***`.
pub fn redact(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let rest = scheme_end + 3;
        let authority_end = out[rest..].find(['/', '?']).map_or(out.len(), |i| rest + i);
        if let Some(at) = out[rest..authority_end].rfind('@') {
            let userinfo = &out[rest..rest + at];
            if let Some(colon) = userinfo.find(':') {
                out.replace_range(rest + colon + 1..rest + at, "***");
            }
        }
    }
    if let Some(q) = out.find('?') {
        let (base, query) = out.split_at(q + 1);
        let query: Vec<String> = query
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k == "password" => format!("{k}=***"),
                _ => kv.to_owned(),
            })
            .collect();
        out = format!("{base}{}", query.join("&"));
    }
    out
}

/// An open PostgreSQL register.
pub struct Register {
    client: Client,
    name: String,
    timeout: Duration,
}

impl Register {
    /// Connects, creates the tables in an empty database, migrates older schemas.
    pub fn open(url: &str, timeout: Duration) -> Result<Register, RegisterError> {
        let name = redact(url);
        let (config, tls) = settings(url, &name)?;
        let client = match tls {
            false => config.connect(NoTls),
            true => config.connect(tls_connector(&name)?),
        }
        .map_err(|e| classify(&name, timeout, e))?;
        let mut reg = Register {
            client,
            name,
            timeout,
        };
        reg.migrate()?;
        Ok(reg)
    }

    /// A transaction holding the register's write lock.
    fn locked(&mut self) -> Result<Transaction<'_>, RegisterError> {
        let (name, timeout) = (self.name.clone(), self.timeout);
        let err = move |e| classify(&name, timeout, e);
        let mut tx = self.client.transaction().map_err(&err)?;
        tx.batch_execute(&format!(
            "SET LOCAL lock_timeout = '{}ms'",
            timeout.as_millis().max(1)
        ))
        .map_err(&err)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
            .map_err(&err)?;
        Ok(tx)
    }

    fn migrate(&mut self) -> Result<(), RegisterError> {
        let name = self.name.clone();
        let timeout = self.timeout;
        let err = move |e| classify(&name, timeout, e);
        let register = self.name.clone();
        let mut tx = self.locked()?;
        let has_schema: bool = tx
            .query_one("SELECT to_regclass('pactum_schema') IS NOT NULL", &[])
            .map_err(&err)?
            .get(0);
        if !has_schema {
            let others: i64 = tx
                .query_one(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()",
                    &[],
                )
                .map_err(&err)?
                .get(0);
            if others > 0 {
                return Err(RegisterError::Corrupt {
                    register,
                    detail: format!(
                        "the database holds {others} other table(s) and no pactum register; give the register a database of its own"
                    ),
                });
            }
            tx.batch_execute(SCHEMA_2).map_err(&err)?;
            tx.batch_execute(MIGRATION_3).map_err(&err)?;
            tx.execute(
                "INSERT INTO pactum_schema (version) VALUES ($1)",
                &[&SCHEMA_VERSION],
            )
            .map_err(&err)?;
        } else {
            let found: i64 = tx
                .query_opt("SELECT max(version)::bigint FROM pactum_schema", &[])
                .map_err(&err)?
                .and_then(|r| r.get::<_, Option<i64>>(0))
                .unwrap_or(0);
            if found > SCHEMA_VERSION {
                return Err(RegisterError::TooNew { register, found });
            }
            if found < 2 {
                // Version 2 is the first PostgreSQL schema.
                return Err(RegisterError::Corrupt {
                    register,
                    detail: format!("unknown schema version {found}"),
                });
            }
            if found < 3 {
                tx.batch_execute(MIGRATION_3).map_err(&err)?;
            }
            if found < SCHEMA_VERSION {
                tx.execute("UPDATE pactum_schema SET version = $1", &[&SCHEMA_VERSION])
                    .map_err(&err)?;
            }
        }
        tx.commit().map_err(&err)
    }

    /// Starts an issuing batch: takes the write lock until commit or drop.
    pub fn begin(&mut self) -> Result<Batch<'_>, RegisterError> {
        let (name, timeout) = (self.name.clone(), self.timeout);
        let tx = self.locked()?;
        Ok(Batch {
            tx: RefCell::new(tx),
            name,
            timeout,
        })
    }

    /// A transaction without the write lock: reads see one snapshot.
    pub fn read(&mut self) -> Result<Batch<'_>, RegisterError> {
        let (name, timeout) = (self.name.clone(), self.timeout);
        let err = {
            let (name, timeout) = (name.clone(), timeout);
            move |e| classify(&name, timeout, e)
        };
        let mut tx = self.client.transaction().map_err(&err)?;
        tx.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            .map_err(&err)?;
        Ok(Batch {
            tx: RefCell::new(tx),
            name,
            timeout,
        })
    }

    /// The latest revision of every contract, in number order.
    pub fn list(&mut self) -> Result<Vec<Row>, RegisterError> {
        let (name, timeout) = (self.name.clone(), self.timeout);
        let err = move |e| classify(&name, timeout, e);
        let mut tx = self.client.transaction().map_err(&err)?;
        let mut all = Vec::new();
        each_row(&mut tx, &mut |r| all.push(r)).map_err(&err)?;
        tx.commit().map_err(&err)?;
        Ok(all)
    }

    /// Every revision of the contract with `number`, oldest first, with what each was made from.
    pub fn show(&mut self, number: &str) -> Result<Vec<Shown>, RegisterError> {
        let (name, timeout) = (self.name.clone(), self.timeout);
        let err = move |e| classify(&name, timeout, e);
        let rows = self
            .client
            .query(
                &format!("{ROW_SELECT} WHERE c.number = $1 ORDER BY r.revision"),
                &[&number],
            )
            .map_err(&err)?;
        if rows.is_empty() {
            return Err(RegisterError::UnknownNumber(number.to_owned()));
        }
        let mut shown = Vec::new();
        for r in &rows {
            let row = row_from_sql(r);
            let files = revision_files(&mut self.client, &row.record_id, row.revision.revision)
                .map_err(&err)?;
            shown.push(Shown {
                made_from: MadeFrom {
                    record_json: r.get(20),
                    files,
                },
                row,
            });
        }
        Ok(shown)
    }

    /// Marks a number void (作废) with a reason; it stays in the register and is never reused.
    pub fn void(&mut self, number: &str, reason: &str, at: &str) -> Result<(), RegisterError> {
        let (name, timeout) = (self.name.clone(), self.timeout);
        let err = move |e| classify(&name, timeout, e);
        let mut tx = self.locked()?;
        let status: Option<String> = tx
            .query_opt(
                "SELECT status FROM contracts WHERE number = $1 FOR UPDATE",
                &[&number],
            )
            .map_err(&err)?
            .map(|r| r.get(0));
        match status.as_deref() {
            None => return Err(RegisterError::UnknownNumber(number.to_owned())),
            Some("void") => return Err(RegisterError::AlreadyVoid(number.to_owned())),
            Some(_) => {}
        }
        tx.execute(
            "UPDATE contracts SET status = 'void', void_reason = $2, voided_at = $3 WHERE number = $1",
            &[&number, &reason, &at],
        )
        .map_err(&err)?;
        tx.commit().map_err(&err)
    }

    /// Everything the register holds, read in one `REPEATABLE READ`
    /// transaction (one snapshot of all four tables).
    pub fn dump(&mut self) -> Result<Dump, RegisterError> {
        let (name, timeout) = (self.name.clone(), self.timeout);
        let err = move |e| classify(&name, timeout, e);
        let mut tx = self
            .client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(&err)?;
        let dump = dump_from(&mut tx).map_err(&err)?;
        tx.commit().map_err(&err)?;
        Ok(dump)
    }

    /// Writes `dump` into this empty register in one transaction under the
    /// write lock; refuses a register holding anything, and commits only
    /// what reads back equal to `dump`.
    pub fn load(&mut self, dump: &Dump) -> Result<(), RegisterError> {
        let (name, timeout) = (self.name.clone(), self.timeout);
        let err = move |e| classify(&name, timeout, e);
        let register = self.name.clone();
        let mut tx = self.locked()?;
        let counts = tx
            .query_one(
                "SELECT (SELECT count(*) FROM contracts),
                        (SELECT count(*) FROM revisions) + (SELECT count(*) FROM revision_files)
                        + (SELECT count(*) FROM sequences) + (SELECT count(*) FROM reservations)",
                &[],
            )
            .map_err(&err)?;
        let (contracts, others): (i64, i64) = (counts.get(0), counts.get(1));
        if contracts > 0 || others > 0 {
            return Err(RegisterError::NotEmpty {
                register,
                contracts: contracts.max(0) as u64,
            });
        }
        load_into(&mut tx, dump).map_err(&err)?;
        let back = dump_from(&mut tx).map_err(&err)?;
        if let Some(detail) = dump.first_difference(&back) {
            return Err(RegisterError::CopyMismatch { register, detail });
        }
        tx.commit().map_err(&err)
    }
}

/// An open issuing transaction; dropped without `commit`, it rolls back.
pub struct Batch<'a> {
    tx: RefCell<Transaction<'a>>,
    name: String,
    timeout: Duration,
}

impl Batch<'_> {
    fn err(&self) -> impl Fn(postgres::Error) -> RegisterError + '_ {
        move |e| classify(&self.name, self.timeout, e)
    }

    /// What the register knows of `record_id`, if it was ever issued.
    pub fn prior(&self, record_id: &str) -> Result<Option<Prior>, RegisterError> {
        let mut tx = self.tx.borrow_mut();
        let Some(r) = tx
            .query_opt(
                "SELECT c.number, c.status, c.void_reason, r.revision, r.content_sha256, r.template_sha256,
                        r.pdf_sha256, r.issued_at, r.pactum_version, r.record_json
                 FROM contracts c JOIN revisions r ON r.record_id = c.record_id
                 WHERE c.record_id = $1 ORDER BY r.revision DESC LIMIT 1",
                &[&record_id],
            )
            .map_err(self.err())?
        else {
            return Ok(None);
        };
        let latest = revision_at(&r, 3);
        let files = revision_files(&mut *tx, record_id, latest.revision).map_err(self.err())?;
        Ok(Some(Prior {
            number: r.get(0),
            status: Status::from_db(r.get(1)),
            void_reason: r.get(2),
            latest,
            made_from: MadeFrom {
                record_json: r.get(9),
                files,
            },
        }))
    }

    /// The last sequence number used in `scope` (0 if none); the counter row
    /// stays locked until this batch ends.
    pub fn last_seq(&self, scope: &str) -> Result<u64, RegisterError> {
        let last: Option<i64> = self
            .tx
            .borrow_mut()
            .query_opt(
                "SELECT last FROM sequences WHERE scope = $1 FOR UPDATE",
                &[&scope],
            )
            .map_err(self.err())?
            .map(|r| r.get(0));
        Ok(last.unwrap_or(0).max(0) as u64)
    }

    /// The number reserved for `record_id`, if any.
    pub fn reserved(&self, record_id: &str) -> Result<Option<Reservation>, RegisterError> {
        Ok(self
            .tx
            .borrow_mut()
            .query_opt(
                &format!("{RESERVATION_SELECT} WHERE record_id = $1"),
                &[&record_id],
            )
            .map_err(self.err())?
            .map(|r| reservation_from_sql(&r)))
    }

    /// Reserves a number and moves its scope's counter past it.
    pub fn reserve(&self, r: &Reservation) -> Result<(), RegisterError> {
        let mut tx = self.tx.borrow_mut();
        let seq = r.seq as i64;
        tx.execute(
            "INSERT INTO reservations (record_id, number, scope, seq, template, batch) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&r.record_id, &r.number, &r.scope, &seq, &r.template, &r.batch],
        )
        .map_err(self.err())?;
        tx.execute(
            "INSERT INTO sequences (scope, last) VALUES ($1, $2)
             ON CONFLICT (scope) DO UPDATE SET last = GREATEST(sequences.last, excluded.last)",
            &[&r.scope, &seq],
        )
        .map_err(self.err())?;
        Ok(())
    }

    /// Numbers reserved and not yet issued, in number order.
    pub fn reservations(&self) -> Result<Vec<Reservation>, RegisterError> {
        Ok(self
            .tx
            .borrow_mut()
            .query(&format!("{RESERVATION_SELECT} ORDER BY scope, seq"), &[])
            .map_err(self.err())?
            .iter()
            .map(reservation_from_sql)
            .collect())
    }

    /// Records one issued document (a new number, a new revision, or nothing new).
    pub fn record(&self, e: &Entry) -> Result<(), RegisterError> {
        let mut tx = self.tx.borrow_mut();
        let err = self.err();
        let seq = e.seq as i64;
        let revision = e.revision.revision as i32;
        tx.execute(
            "INSERT INTO contracts (record_id, number, scope, seq, template, status)
             VALUES ($1, $2, $3, $4, $5, 'issued') ON CONFLICT (record_id) DO NOTHING",
            &[&e.record_id, &e.number, &e.scope, &seq, &e.template],
        )
        .map_err(&err)?;
        tx.execute(
            "INSERT INTO sequences (scope, last) VALUES ($1, $2)
             ON CONFLICT (scope) DO UPDATE SET last = GREATEST(sequences.last, excluded.last)",
            &[&e.scope, &seq],
        )
        .map_err(&err)?;
        tx.execute(
            "DELETE FROM reservations WHERE record_id = $1",
            &[&e.record_id],
        )
        .map_err(&err)?;
        let f = &e.facts;
        let inserted = tx
            .execute(
                "INSERT INTO revisions (record_id, revision, content_sha256, template_sha256, pdf_sha256, issued_at,
                    title, party_a, party_b, signing_date, effective_date, expiry_date, amount, currency, waivers,
                    record_json, pactum_version)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
                 ON CONFLICT (record_id, revision) DO NOTHING",
                &[
                    &e.record_id,
                    &revision,
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
            )
            .map_err(&err)?;
        if let (true, Some(files)) = (inserted > 0, &e.made_from.files) {
            // One statement for all of them: a round trip each would be most
            // of the time a shard holds the lock.
            let (paths, digests): (Vec<&String>, Vec<&String>) = files.iter().unzip();
            tx.execute(
                "INSERT INTO revision_files (record_id, revision, path, sha256)
                 SELECT $1, $2, p, d FROM unnest($3::text[], $4::text[]) AS f (p, d)",
                &[&e.record_id, &revision, &paths, &digests],
            )
            .map_err(&err)?;
        }
        Ok(())
    }

    /// Calls `f` with every contract's latest revision as this batch would
    /// leave the register, in number order, a few hundred rows at a time.
    pub fn each_row(&self, f: &mut dyn FnMut(Row)) -> Result<(), RegisterError> {
        each_row(&mut self.tx.borrow_mut(), f).map_err(self.err())
    }

    /// Makes everything recorded in this batch durable.
    pub fn commit(self) -> Result<(), RegisterError> {
        let (name, timeout) = (self.name, self.timeout);
        self.tx
            .into_inner()
            .commit()
            .map_err(|e| classify(&name, timeout, e))
    }
}

/// Schema version 2, the first PostgreSQL schema: the tables of SQLite's
/// version 2, with `BIGINT` sequence numbers.
const SCHEMA_2: &str = "
CREATE TABLE pactum_schema (
    version BIGINT NOT NULL
);
CREATE TABLE sequences (
    scope TEXT PRIMARY KEY,
    last  BIGINT NOT NULL CHECK (last >= 0)
);
CREATE TABLE contracts (
    record_id   TEXT PRIMARY KEY,
    number      TEXT NOT NULL UNIQUE,
    scope       TEXT NOT NULL,
    seq         BIGINT NOT NULL,
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
    pactum_version  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (record_id, revision)
);
CREATE TABLE revision_files (
    record_id TEXT NOT NULL,
    revision  INTEGER NOT NULL,
    path      TEXT NOT NULL,
    sha256    TEXT NOT NULL,
    PRIMARY KEY (record_id, revision, path),
    FOREIGN KEY (record_id, revision) REFERENCES revisions (record_id, revision)
);
";

/// Schema version 3: numbers reserved by one shard for all shards of a batch.
const MIGRATION_3: &str = "
CREATE TABLE reservations (
    record_id TEXT PRIMARY KEY,
    number    TEXT NOT NULL UNIQUE,
    scope     TEXT NOT NULL,
    seq       BIGINT NOT NULL,
    template  TEXT NOT NULL,
    batch     TEXT NOT NULL,
    UNIQUE (scope, seq)
);
";

fn reservation_from_sql(r: &postgres::Row) -> Reservation {
    Reservation {
        record_id: r.get(0),
        number: r.get(1),
        scope: r.get(2),
        seq: r.get::<_, i64>(3).max(0) as u64,
        template: r.get(4),
        batch: r.get(5),
    }
}

fn each_row(tx: &mut Transaction<'_>, f: &mut dyn FnMut(Row)) -> Result<(), postgres::Error> {
    let portal = tx.bind(
        &format!(
            "{ROW_SELECT} WHERE r.revision = (SELECT MAX(revision) FROM revisions WHERE record_id = c.record_id) ORDER BY c.scope, c.seq, c.number"
        ),
        &[],
    )?;
    loop {
        let rows = tx.query_portal(&portal, PORTAL_ROWS)?;
        if rows.is_empty() {
            return Ok(());
        }
        for r in &rows {
            f(row_from_sql(r));
        }
    }
}

fn revision_at(r: &postgres::Row, at: usize) -> Revision {
    Revision {
        revision: r.get::<_, i32>(at).max(0) as u32,
        content_sha256: r.get(at + 1),
        template_sha256: r.get(at + 2),
        pdf_sha256: r.get(at + 3),
        issued_at: r.get(at + 4),
        pactum: r.get(at + 5),
    }
}

fn revision_files(
    client: &mut impl postgres::GenericClient,
    record_id: &str,
    revision: u32,
) -> Result<Option<std::collections::BTreeMap<String, String>>, postgres::Error> {
    let revision = revision as i32;
    let files: std::collections::BTreeMap<String, String> = client
        .query(
            "SELECT path, sha256 FROM revision_files WHERE record_id = $1 AND revision = $2",
            &[&record_id, &revision],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    Ok((!files.is_empty()).then_some(files))
}

fn row_from_sql(r: &postgres::Row) -> Row {
    Row {
        number: r.get(0),
        record_id: r.get(1),
        template: r.get(2),
        status: Status::from_db(r.get(3)),
        void_reason: r.get(4),
        revision: revision_at(r, 5),
        facts: Facts {
            title: r.get(11),
            party_a: r.get(12),
            party_b: r.get(13),
            signing_date: r.get(14),
            effective_date: r.get(15),
            expiry_date: r.get(16),
            amount: r.get(17),
            currency: r.get(18),
            waivers: r.get(19),
        },
    }
}

/// Sorts PostgreSQL failures into what a user acts on: a lock held too long,
/// a server not reachable, a login refused, anything else.
fn classify(name: &str, timeout: Duration, e: postgres::Error) -> RegisterError {
    let register = name.to_owned();
    if let Some(db) = e.as_db_error() {
        let detail = db.message().to_owned();
        let code = db.code();
        return if *code == SqlState::LOCK_NOT_AVAILABLE {
            RegisterError::Locked {
                register,
                seconds: timeout.as_secs(),
            }
        } else if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            RegisterError::Login { register, detail }
        } else if *code == SqlState::INVALID_CATALOG_NAME {
            RegisterError::Settings {
                register,
                detail: format!(
                    "{detail}; create the database first (createdb), or name another one in the URL"
                ),
            }
        } else if code.code().starts_with("57") || code.code().starts_with("08") {
            RegisterError::Unreachable { register, detail }
        } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
            RegisterError::Postgres {
                register,
                detail: format!(
                    "{detail}; the register's role needs the rights README \"PostgreSQL register\" lists"
                ),
            }
        } else {
            RegisterError::Postgres { register, detail }
        };
    }
    let detail =
        std::error::Error::source(&e).map_or_else(|| e.to_string(), |s| format!("{e}: {s}"));
    RegisterError::Unreachable { register, detail }
}

/// The client configuration from the URL and libpq's environment; `true`
/// when TLS is to be tried.
fn settings(url: &str, name: &str) -> Result<(Config, bool), RegisterError> {
    let bad = |detail: String| RegisterError::Settings {
        register: name.to_owned(),
        detail,
    };
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if url.contains("sslmode=verify") || env("PGSSLMODE").is_some_and(|m| m.starts_with("verify")) {
        return Err(bad(
            "sslmode verify-ca and verify-full are not supported yet; use sslmode=require (encrypted, certificate not verified) on a network you trust".into(),
        ));
    }
    let mut c: Config = url.parse().map_err(|e: postgres::Error| {
        bad(format!(
            "the URL cannot be read ({}); write it as postgres://USER@HOST:PORT/DATABASE",
            redact(&e.to_string())
        ))
    })?;
    if c.get_hosts().is_empty() {
        let hosts = env("PGHOST").unwrap_or_else(|| "/var/run/postgresql".into());
        for h in hosts.split(',') {
            if h.starts_with('/') {
                c.host_path(h);
            } else {
                c.host(h);
            }
        }
    }
    if c.get_ports().is_empty()
        && let Some(p) = env("PGPORT")
    {
        let port = p
            .parse::<u16>()
            .map_err(|_| bad(format!("PGPORT `{p}` is not a port number")))?;
        c.port(port);
    }
    if c.get_user().is_none() {
        let user = env("PGUSER")
            .or_else(|| env("USER"))
            .unwrap_or_else(|| "postgres".into());
        c.user(&user);
    }
    let user = c.get_user().unwrap_or_default().to_owned();
    if c.get_dbname().is_none() {
        c.dbname(&env("PGDATABASE").unwrap_or_else(|| user.clone()));
    }
    if c.get_password().is_none() {
        if let Some(pw) = env("PGPASSWORD") {
            c.password(pw);
        } else if let Some(pw) = pgpass(&c) {
            c.password(pw);
        }
    }
    if !url.contains("sslmode=")
        && let Some(mode) = env("PGSSLMODE")
    {
        c.ssl_mode(match mode.as_str() {
            "disable" => SslMode::Disable,
            "allow" | "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            other => {
                return Err(bad(format!(
                    "PGSSLMODE `{other}` is not one of disable, prefer, require"
                )));
            }
        });
    }
    if c.get_connect_timeout().is_none() {
        let secs = env("PGCONNECT_TIMEOUT")
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(10);
        c.connect_timeout(Duration::from_secs(secs.max(1)));
    }
    if c.get_application_name().is_none() {
        c.application_name("pactum");
    }
    // TLS over a Unix socket is neither offered nor needed.
    let all_sockets = c.get_hosts().iter().all(|h| !matches!(h, Host::Tcp(_)));
    let tls = c.get_ssl_mode() != SslMode::Disable && !all_sockets;
    if all_sockets && c.get_ssl_mode() == SslMode::Require {
        c.ssl_mode(SslMode::Prefer);
    }
    Ok((c, tls))
}

/// The password for this connection from the password file (`PGPASSFILE`,
/// else `~/.pgpass`): lines `host:port:database:user:password`, `*` matching
/// anything, `\:` and `\\` escaped, as libpq reads it. A socket connection
/// matches the host `localhost`.
fn pgpass(c: &Config) -> Option<String> {
    let path = std::env::var_os("PGPASSFILE")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".pgpass")))?;
    pgpass_lookup(&std::fs::read_to_string(path).ok()?, c)
}

/// The password a password file's `text` gives for the connection `c`.
fn pgpass_lookup(text: &str, c: &Config) -> Option<String> {
    let host = match c.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        _ => "localhost".to_owned(),
    };
    let port = c.get_ports().first().copied().unwrap_or(5432).to_string();
    let db = c.get_dbname().unwrap_or_default();
    let user = c.get_user().unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map(pgpass_fields)
        .find(|f| {
            f.len() == 5
                && [host.as_str(), port.as_str(), db, user]
                    .iter()
                    .zip(f)
                    .all(|(want, got)| got == "*" || got == want)
        })
        .map(|f| f[4].clone())
}

/// The fields of one `.pgpass` line, with `\:` and `\\` unescaped.
fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '\\' => {
                if let Some(next) = chars.next() {
                    fields.last_mut().expect("one field").push(next);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            _ => fields.last_mut().expect("one field").push(ch),
        }
    }
    fields
}

/// TLS as libpq's `prefer`/`require` do it: encrypted, the server's
/// certificate accepted without verification (the handshake's signatures
/// are still checked, so the session key belongs to that certificate).
fn tls_connector(name: &str) -> Result<tokio_postgres_rustls::MakeRustlsConnect, RegisterError> {
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, SignatureScheme};

    #[derive(Debug)]
    struct Unverified(Arc<rustls::crypto::CryptoProvider>);

    impl ServerCertVerifier for Unverified {
        fn verify_server_cert(
            &self,
            _end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| RegisterError::Settings {
            register: name.to_owned(),
            detail: format!("TLS cannot be set up ({e})"),
        })?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Unverified(provider)))
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// Every row of the four tables, as [`Dump`] values.
fn dump_from(tx: &mut Transaction<'_>) -> Result<Dump, postgres::Error> {
    let contracts = tx
        .query(
            "SELECT record_id, number, scope, seq, template, status, void_reason, voided_at FROM contracts",
            &[],
        )?
        .iter()
        .map(|r| DumpContract {
            record_id: r.get(0),
            number: r.get(1),
            scope: r.get(2),
            seq: r.get::<_, i64>(3).max(0) as u64,
            template: r.get(4),
            status: Status::from_db(r.get(5)),
            void_reason: r.get(6),
            voided_at: r.get(7),
        })
        .collect();
    let revisions = tx
        .query(
            "SELECT record_id, revision, content_sha256, template_sha256, pdf_sha256, issued_at, pactum_version,
                title, party_a, party_b, signing_date, effective_date, expiry_date, amount, currency, waivers,
                record_json
             FROM revisions",
            &[],
        )?
        .iter()
        .map(|r| DumpRevision {
            record_id: r.get(0),
            revision: revision_at(r, 1),
            facts: Facts {
                title: r.get(7),
                party_a: r.get(8),
                party_b: r.get(9),
                signing_date: r.get(10),
                effective_date: r.get(11),
                expiry_date: r.get(12),
                amount: r.get(13),
                currency: r.get(14),
                waivers: r.get(15),
            },
            record_json: r.get(16),
        })
        .collect();
    let files = tx
        .query(
            "SELECT record_id, revision, path, sha256 FROM revision_files",
            &[],
        )?
        .iter()
        .map(|r| DumpFile {
            record_id: r.get(0),
            revision: r.get::<_, i32>(1).max(0) as u32,
            path: r.get(2),
            sha256: r.get(3),
        })
        .collect();
    let sequences = tx
        .query("SELECT scope, last FROM sequences", &[])?
        .iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1).max(0) as u64))
        .collect();
    Ok(Dump {
        contracts,
        revisions,
        files,
        sequences,
    }
    .sorted())
}

/// Inserts every row of `dump` (parents before children, for the foreign
/// keys), each statement prepared once.
fn load_into(tx: &mut Transaction<'_>, dump: &Dump) -> Result<(), postgres::Error> {
    let stmt = tx.prepare(
        "INSERT INTO contracts (record_id, number, scope, seq, template, status, void_reason, voided_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )?;
    for c in &dump.contracts {
        tx.execute(
            &stmt,
            &[
                &c.record_id,
                &c.number,
                &c.scope,
                &(c.seq as i64),
                &c.template,
                &c.status.to_db(),
                &c.void_reason,
                &c.voided_at,
            ],
        )?;
    }
    let stmt = tx.prepare(
        "INSERT INTO revisions (record_id, revision, content_sha256, template_sha256, pdf_sha256, issued_at,
            pactum_version, title, party_a, party_b, signing_date, effective_date, expiry_date, amount, currency,
            waivers, record_json)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )?;
    for r in &dump.revisions {
        let (v, f) = (&r.revision, &r.facts);
        tx.execute(
            &stmt,
            &[
                &r.record_id,
                &(v.revision as i32),
                &v.content_sha256,
                &v.template_sha256,
                &v.pdf_sha256,
                &v.issued_at,
                &v.pactum,
                &f.title,
                &f.party_a,
                &f.party_b,
                &f.signing_date,
                &f.effective_date,
                &f.expiry_date,
                &f.amount,
                &f.currency,
                &f.waivers,
                &r.record_json,
            ],
        )?;
    }
    let stmt = tx.prepare(
        "INSERT INTO revision_files (record_id, revision, path, sha256) VALUES ($1, $2, $3, $4)",
    )?;
    for f in &dump.files {
        tx.execute(
            &stmt,
            &[&f.record_id, &(f.revision as i32), &f.path, &f.sha256],
        )?;
    }
    let stmt = tx.prepare("INSERT INTO sequences (scope, last) VALUES ($1, $2)")?;
    for (scope, last) in &dump.sequences {
        tx.execute(&stmt, &[scope, &(*last as i64)])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_the_password_wherever_the_url_carries_it() {
        assert_eq!(
            redact("postgres://u:p%40ss@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact("postgres:///db?host=/tmp&password=x&sslmode=disable"),
            "postgres:///db?host=/tmp&password=***&sslmode=disable"
        );
    }

    #[test]
    fn pgpass_lines_match_with_wildcards_and_escapes() {
        assert_eq!(
            pgpass_fields(r"db.example:5432:*:pactum:pa\:ss\\word"),
            ["db.example", "5432", "*", "pactum", r"pa:ss\word"]
        );
        let text =
            "# comment\nother:5432:*:*:no\ndb.example:*:contracts:pactum:yes\n*:*:*:*:fallback\n";
        let mut c = Config::new();
        c.host("db.example").dbname("contracts").user("pactum");
        assert_eq!(pgpass_lookup(text, &c).as_deref(), Some("yes"));
        c.dbname("other");
        assert_eq!(pgpass_lookup(text, &c).as_deref(), Some("fallback"));
        let mut socket = Config::new();
        socket
            .host_path("/run/pg")
            .dbname("contracts")
            .user("pactum");
        assert_eq!(
            pgpass_lookup("localhost:5432:contracts:pactum:sock\n", &socket).as_deref(),
            Some("sock")
        );
    }
}
