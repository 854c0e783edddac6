//! The contract register: which number each record id was issued, every
//! revision with its hashes and what it was made from, voided numbers. The
//! only module that knows SQL.
//!
//! Two backends behind one interface, one file each: [`sqlite`] (embedded,
//! the default) and [`postgres`] (a server shared by several machines).
//! Nothing above this module knows which one it talks to: a [`Location`]
//! names the register, [`Register`] opens it, and a [`Batch`] is one issuing
//! transaction. A build takes the register's write lock before it reads a
//! sequence and commits only after its PDFs are on disk: a killed build rolls
//! back, so no number is skipped, and two builds never hand out the same
//! number. Both schemas are versioned and migrated forward on open.
//!
//! Architecture Invariant: no password of a register URL reaches a message,
//! an error or a log; every place that names a register uses
//! [`Location::display`].

pub mod copy;
mod postgres;
mod sqlite;

use std::path::PathBuf;
use std::time::Duration;

use chrono_tz::Tz;
use serde::Serialize;

/// The schema version this pactum writes (the same number means the same
/// tables in both backends).
pub const SCHEMA_VERSION: i64 = 3;

/// Register failures; all are environment errors (exit 2) and change nothing.
/// `register` names the register as [`Location::display`] does: a file
/// path, or a PostgreSQL URL without its password.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// Another process holds the write lock for longer than we wait.
    #[error(
        "register {register} is locked by another pactum process (waited {seconds} s); run again when it has finished, or raise --lock-timeout"
    )]
    Locked {
        /// The register.
        register: String,
        /// How long we waited.
        seconds: u64,
    },
    /// Not a readable pactum register.
    #[error(
        "register {register} is corrupt or not a pactum register ({detail}); restore it from your backup, or name the right register"
    )]
    Corrupt {
        /// The register.
        register: String,
        /// What the database said.
        detail: String,
    },
    /// Written by a newer pactum.
    #[error(
        "register {register} has schema version {found}, newer than this pactum understands ({SCHEMA_VERSION}); upgrade pactum"
    )]
    TooNew {
        /// The register.
        register: String,
        /// The version found.
        found: i64,
    },
    /// No contract has this number.
    #[error("no contract with number {0} in the register")]
    UnknownNumber(String),
    /// The number is already void.
    #[error("contract {0} is already void")]
    AlreadyVoid(String),
    /// Creating the register's folder failed.
    #[error("failed to create {path} ({source})")]
    Io {
        /// The folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Any other SQLite failure.
    #[error("register {register}: {source}")]
    Sql {
        /// The register file.
        register: String,
        /// The cause.
        source: rusqlite::Error,
    },
    /// The PostgreSQL server cannot be reached or the connection was lost.
    #[error(
        "register {register}: cannot reach the PostgreSQL server ({detail}); check that it runs and the host, port and sslmode are right"
    )]
    Unreachable {
        /// The register URL (no password).
        register: String,
        /// What the client said.
        detail: String,
    },
    /// The server refused the user or the password.
    #[error(
        "register {register}: the server refused the login ({detail}); check the user and the password (PGPASSWORD or ~/.pgpass)"
    )]
    Login {
        /// The register URL (no password).
        register: String,
        /// What the server said.
        detail: String,
    },
    /// The register URL or a PG* setting cannot be used.
    #[error("register {register}: {detail}")]
    Settings {
        /// The register URL (no password).
        register: String,
        /// What is wrong and how to fix it.
        detail: String,
    },
    /// Any other PostgreSQL failure.
    #[error("register {register}: {detail}")]
    Postgres {
        /// The register URL (no password).
        register: String,
        /// What the server said.
        detail: String,
    },
    /// `register copy` writes only into an empty register.
    #[error(
        "register copy refuses: target register {register} is not empty ({contracts} contracts); copy into a new SQLite file or an empty PostgreSQL database"
    )]
    NotEmpty {
        /// The target register.
        register: String,
        /// How many contracts it holds.
        contracts: u64,
    },
    /// What a copy wrote does not read back as the source's rows.
    #[error(
        "register {register}: the copy does not read back as written ({detail}); nothing was committed"
    )]
    CopyMismatch {
        /// The target register.
        register: String,
        /// The first table that differs.
        detail: String,
    },
}

/// A contract's status in the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Issued and in force as far as the register knows.
    Issued,
    /// 作废: kept, marked, never reused.
    Void,
}

impl Status {
    /// The Chinese label used in the 合同信息登记表.
    pub fn label_zh(self) -> &'static str {
        match self {
            Status::Issued => "有效",
            Status::Void => "作废",
        }
    }

    pub(crate) fn from_db(s: &str) -> Status {
        if s == "void" {
            Status::Void
        } else {
            Status::Issued
        }
    }

    /// The value both backends store in `contracts.status`.
    pub(crate) fn to_db(self) -> &'static str {
        match self {
            Status::Issued => "issued",
            Status::Void => "void",
        }
    }
}

/// The register's knowledge of one record id before this build.
#[derive(Debug, Clone)]
pub struct Prior {
    /// The issued number.
    pub number: String,
    /// Issued or void.
    pub status: Status,
    /// Why it was voided.
    pub void_reason: Option<String>,
    /// The latest revision.
    pub latest: Revision,
    /// What the latest revision was made from.
    pub made_from: MadeFrom,
}

/// One revision (修改次第) of an issued contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revision {
    /// 0 for the first issue, then 1, 2, …
    pub revision: u32,
    /// SHA-256 of the record content (contract, its parties, parent number).
    pub content_sha256: String,
    /// SHA-256 of the template files.
    pub template_sha256: String,
    /// SHA-256 of the PDF.
    pub pdf_sha256: String,
    /// When it was issued (RFC 3339 with the offset of the workspace's zone;
    /// `Z` in rows written before zones were configured). Shown through
    /// `localtime::local`, never rewritten.
    pub issued_at: String,
    /// The pactum version that typeset it (empty for revisions issued
    /// before the register recorded it).
    pub pactum: String,
}

/// What a revision was made from, for saying why the next one exists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MadeFrom {
    /// The contract record as issued (canonical JSON).
    pub record_json: String,
    /// The template files the document read (path under `templates/` →
    /// SHA-256); `None` for revisions issued before the register recorded them.
    pub files: Option<std::collections::BTreeMap<String, String>>,
}

/// What a build records for one document it issued.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// Record id.
    pub record_id: String,
    /// Contract number.
    pub number: String,
    /// Sequence scope (pattern without the sequence).
    pub scope: String,
    /// Sequence number within the scope.
    pub seq: u64,
    /// Template name.
    pub template: String,
    /// The revision and its hashes.
    pub revision: Revision,
    /// Register columns taken from the record at issue time.
    pub facts: Facts,
    /// The record as issued and the template files read.
    pub made_from: MadeFrom,
}

/// The 合同信息登记表 columns that come from the record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Facts {
    /// 合同名称.
    pub title: String,
    /// 甲方 name.
    pub party_a: String,
    /// 乙方 name.
    pub party_b: String,
    /// 签署日期.
    pub signing_date: String,
    /// 生效日期.
    pub effective_date: String,
    /// 到期日期.
    pub expiry_date: String,
    /// 金额 (decimal string).
    pub amount: String,
    /// 币种.
    pub currency: String,
    /// Waived policy rules with their reasons ("P0301: reason; …").
    pub waivers: String,
}

/// A number reserved for a record id by one shard of a batch for all shards
/// (`build --shard`), not yet issued: the shard that typesets the record
/// issues it when it commits; a rerun of a killed shard completes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reservation {
    /// Record id.
    pub record_id: String,
    /// The reserved number.
    pub number: String,
    /// Sequence scope.
    pub scope: String,
    /// Sequence number within the scope.
    pub seq: u64,
    /// Template name.
    pub template: String,
    /// The batch it was reserved for (digest of the batch's record ids).
    pub batch: String,
}

/// One row of the register listing (the latest revision of a contract).
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Contract number.
    pub number: String,
    /// Record id.
    pub record_id: String,
    /// Template name.
    pub template: String,
    /// Issued or void.
    pub status: Status,
    /// Why it was voided.
    pub void_reason: Option<String>,
    /// The latest revision.
    pub revision: Revision,
    /// Record facts of the latest revision.
    pub facts: Facts,
}

/// One revision of a contract as `register show` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct Shown {
    /// The revision's row.
    #[serde(flatten)]
    pub row: Row,
    /// What it was made from.
    pub made_from: MadeFrom,
}

/// Where a register is: an SQLite file or a PostgreSQL database.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// An SQLite file (created on first use).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://` or `postgresql://`), with
    /// libpq's environment (`PGHOST`, `PGUSER`, `PGPASSWORD`, `PGSSLMODE`, …)
    /// and `~/.pgpass` for what it leaves out.
    Postgres(String),
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Location({})", self.display())
    }
}

impl Location {
    /// `postgres://…` and `postgresql://…` name a PostgreSQL register; anything else is a file.
    ///
    /// A URL that carries a password is refused: it would stand in the
    /// process list, the shell history or a committed `.pactum.toml`. The
    /// password comes from `PGPASSWORD` or `~/.pgpass`, as with libpq.
    pub fn parse(s: &str) -> Result<Location, String> {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            if postgres::redact(s) != s {
                return Err(format!(
                    "the register URL {} carries a password; leave it out and give it in ~/.pgpass or PGPASSWORD",
                    postgres::redact(s)
                ));
            }
            Ok(Location::Postgres(s.to_owned()))
        } else {
            Ok(Location::Sqlite(PathBuf::from(s)))
        }
    }

    /// How messages name the register: the path, or the URL with any password replaced by `***`.
    pub fn display(&self) -> String {
        match self {
            Location::Sqlite(p) => p.display().to_string(),
            Location::Postgres(url) => postgres::redact(url),
        }
    }

    /// Whether the register exists already (a PostgreSQL register is created
    /// in an existing database, so it always "exists").
    pub fn exists(&self) -> bool {
        match self {
            Location::Sqlite(p) => p.exists(),
            Location::Postgres(_) => true,
        }
    }
}

/// Every revision with its contract, in the column order both backends read
/// rows in (`row_from_sql`); the latest-revision and per-number filters follow.
pub(super) const ROW_SELECT: &str = "SELECT c.number, c.record_id, c.template, c.status, c.void_reason,
    r.revision, r.content_sha256, r.template_sha256, r.pdf_sha256, r.issued_at, r.pactum_version,
    r.title, r.party_a, r.party_b, r.signing_date, r.effective_date, r.expiry_date, r.amount, r.currency, r.waivers,
    r.record_json
    FROM contracts c JOIN revisions r ON r.record_id = c.record_id";

/// A reservation's columns, in the order both backends read them.
pub(super) const RESERVATION_SELECT: &str =
    "SELECT record_id, number, scope, seq, template, batch FROM reservations";

/// An open register.
pub struct Register {
    backend: Backend,
}

enum Backend {
    Sqlite(sqlite::Register),
    Postgres(postgres::Register),
}

impl Register {
    /// Opens the register at `location` (creating an SQLite file, or the
    /// tables in an empty PostgreSQL database), waiting up to `timeout` for
    /// another process's lock, and migrates its schema.
    pub fn open(location: &Location, timeout: Duration) -> Result<Register, RegisterError> {
        let backend = match location {
            Location::Sqlite(path) => Backend::Sqlite(sqlite::Register::open(path, timeout)?),
            Location::Postgres(url) => Backend::Postgres(postgres::Register::open(url, timeout)?),
        };
        Ok(Register { backend })
    }

    /// Starts an issuing batch: takes the write lock until commit or drop.
    pub fn begin(&mut self) -> Result<Batch<'_>, RegisterError> {
        Ok(Batch {
            inner: match &mut self.backend {
                Backend::Sqlite(r) => BatchInner::Sqlite(r.begin()?),
                Backend::Postgres(r) => BatchInner::Postgres(r.begin()?),
            },
        })
    }

    /// A transaction that only reads (no write lock): what a shard plans
    /// from while other shards typeset and commit. Dropped, it changes nothing.
    pub fn read(&mut self) -> Result<Batch<'_>, RegisterError> {
        Ok(Batch {
            inner: match &mut self.backend {
                Backend::Sqlite(r) => BatchInner::Sqlite(r.read()?),
                Backend::Postgres(r) => BatchInner::Postgres(r.read()?),
            },
        })
    }

    /// Numbers reserved by shards and not yet issued, in number order.
    pub fn reservations(&mut self) -> Result<Vec<Reservation>, RegisterError> {
        let b = self.read()?;
        b.reservations()
    }

    /// The latest revision of every contract, in number order.
    pub fn list(&mut self) -> Result<Vec<Row>, RegisterError> {
        match &mut self.backend {
            Backend::Sqlite(r) => r.list(),
            Backend::Postgres(r) => r.list(),
        }
    }

    /// Every revision of the contract with `number`, oldest first, with what each was made from.
    pub fn show(&mut self, number: &str) -> Result<Vec<Shown>, RegisterError> {
        match &mut self.backend {
            Backend::Sqlite(r) => r.show(number),
            Backend::Postgres(r) => r.show(number),
        }
    }

    /// Marks a number void (作废) with a reason; it stays in the register and is never reused.
    pub fn void(&mut self, number: &str, reason: &str, at: &str) -> Result<(), RegisterError> {
        match &mut self.backend {
            Backend::Sqlite(r) => r.void(number, reason, at),
            Backend::Postgres(r) => r.void(number, reason, at),
        }
    }

    /// Everything the register holds, read in one transaction (a consistent
    /// snapshot while builds go on).
    pub fn dump(&mut self) -> Result<Dump, RegisterError> {
        match &mut self.backend {
            Backend::Sqlite(r) => r.dump(),
            Backend::Postgres(r) => r.dump(),
        }
    }

    /// Writes `dump` into this register in one transaction under the write
    /// lock, after checking that the register is empty ([`RegisterError::NotEmpty`])
    /// and before committing that it reads back equal to `dump`
    /// ([`RegisterError::CopyMismatch`]); on any error nothing is written.
    pub fn load(&mut self, dump: &Dump) -> Result<(), RegisterError> {
        match &mut self.backend {
            Backend::Sqlite(r) => r.load(dump),
            Backend::Postgres(r) => r.load(dump),
        }
    }
}

/// An open issuing transaction; dropped without `commit`, it changes nothing.
pub struct Batch<'a> {
    inner: BatchInner<'a>,
}

enum BatchInner<'a> {
    Sqlite(sqlite::Batch<'a>),
    Postgres(postgres::Batch<'a>),
}

impl Batch<'_> {
    /// What the register knows of `record_id`, if it was ever issued.
    pub fn prior(&self, record_id: &str) -> Result<Option<Prior>, RegisterError> {
        match &self.inner {
            BatchInner::Sqlite(b) => b.prior(record_id),
            BatchInner::Postgres(b) => b.prior(record_id),
        }
    }

    /// The last sequence number used in `scope` (0 if none); reserved numbers count as used.
    pub fn last_seq(&self, scope: &str) -> Result<u64, RegisterError> {
        match &self.inner {
            BatchInner::Sqlite(b) => b.last_seq(scope),
            BatchInner::Postgres(b) => b.last_seq(scope),
        }
    }

    /// The number reserved for `record_id` and not yet issued, if any.
    pub fn reserved(&self, record_id: &str) -> Result<Option<Reservation>, RegisterError> {
        match &self.inner {
            BatchInner::Sqlite(b) => b.reserved(record_id),
            BatchInner::Postgres(b) => b.reserved(record_id),
        }
    }

    /// Reserves a number (and moves its scope's counter past it).
    pub fn reserve(&self, r: &Reservation) -> Result<(), RegisterError> {
        match &self.inner {
            BatchInner::Sqlite(b) => b.reserve(r),
            BatchInner::Postgres(b) => b.reserve(r),
        }
    }

    /// Numbers reserved and not yet issued, in number order.
    pub fn reservations(&self) -> Result<Vec<Reservation>, RegisterError> {
        match &self.inner {
            BatchInner::Sqlite(b) => b.reservations(),
            BatchInner::Postgres(b) => b.reservations(),
        }
    }

    /// Records one issued document (a new number, a new revision, or nothing
    /// new); a reservation of its number is used up.
    pub fn record(&self, e: &Entry) -> Result<(), RegisterError> {
        match &self.inner {
            BatchInner::Sqlite(b) => b.record(e),
            BatchInner::Postgres(b) => b.record(e),
        }
    }

    /// Writes the register as this batch would leave it as CSV ([`to_csv`]),
    /// one row at a time (a large register is never held in memory).
    pub fn write_csv(&self, w: &mut dyn std::io::Write, zone: Tz) -> std::io::Result<()> {
        w.write_all(csv_header().as_bytes())?;
        let mut failed = None;
        let mut line = |row: Row| {
            if failed.is_none() {
                failed = w.write_all(csv_line(&row, zone).as_bytes()).err();
            }
        };
        match &self.inner {
            BatchInner::Sqlite(b) => b.each_row(&mut line),
            BatchInner::Postgres(b) => b.each_row(&mut line),
        }
        .map_err(std::io::Error::other)?;
        failed.map_or(Ok(()), Err)
    }

    /// Makes everything recorded in this batch durable.
    pub fn commit(self) -> Result<(), RegisterError> {
        match self.inner {
            BatchInner::Sqlite(b) => b.commit(),
            BatchInner::Postgres(b) => b.commit(),
        }
    }
}

/// The 合同信息登记表 as CSV: UTF-8 with a BOM so spreadsheet programs read
/// the Chinese correctly; times in `zone` with their offset.
pub fn to_csv(rows: &[Row], zone: Tz) -> String {
    let mut out = csv_header();
    for r in rows {
        out.push_str(&csv_line(r, zone));
    }
    out
}

/// The CSV header of the PDF digest column, which `verify` and `bundle`
/// find the column by.
pub const CSV_PDF_SHA256: &str = "PDF摘要(SHA-256)";

/// The first line of [`to_csv`], with the byte order mark. Every header is
/// Chinese, like the 登记表 a legal team keeps; the README lists each with its
/// English name.
fn csv_header() -> String {
    let header = [
        "合同编号",
        "合同名称",
        "模板",
        "甲方",
        "乙方",
        "签署日期",
        "生效日期",
        "到期日期",
        "金额",
        "币种",
        "修改次第",
        "状态",
        CSV_PDF_SHA256,
        "签发时间",
        "作废原因",
        "豁免规则",
    ];
    format!("\u{feff}{}\r\n", header.map(csv_field).join(","))
}

/// One row of [`to_csv`].
fn csv_line(r: &Row, zone: Tz) -> String {
    let f = &r.facts;
    let cells = [
        r.number.as_str(),
        &f.title,
        &r.template,
        &f.party_a,
        &f.party_b,
        &f.signing_date,
        &f.effective_date,
        &f.expiry_date,
        &f.amount,
        &f.currency,
        &format!("{:02}", r.revision.revision),
        r.status.label_zh(),
        &r.revision.pdf_sha256,
        &crate::localtime::local(&r.revision.issued_at, zone),
        r.void_reason.as_deref().unwrap_or(""),
        &f.waivers,
    ];
    format!("{}\r\n", cells.map(csv_field).join(","))
}

/// Quotes a CSV field when needed (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Everything a register holds, as plain values: what `register copy`
/// moves from one backend to the other. Each list is sorted by its key in
/// byte order (not a database collation), so two dumps compare with `==`.
/// A dump is held in memory: a register of 100 000 revisions is some 100 MB.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dump {
    /// Every contract, by record id.
    pub contracts: Vec<DumpContract>,
    /// Every revision, by record id and revision.
    pub revisions: Vec<DumpRevision>,
    /// Every recorded template file, by record id, revision and path.
    pub files: Vec<DumpFile>,
    /// Every sequence counter (scope, last sequence number used), by scope.
    pub sequences: Vec<(String, u64)>,
}

/// One row of `contracts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpContract {
    /// Record id.
    pub record_id: String,
    /// Contract number.
    pub number: String,
    /// Sequence scope.
    pub scope: String,
    /// Sequence number within the scope.
    pub seq: u64,
    /// Template name.
    pub template: String,
    /// Issued or void.
    pub status: Status,
    /// Why it was voided.
    pub void_reason: Option<String>,
    /// When it was voided (as stored).
    pub voided_at: Option<String>,
}

/// One row of `revisions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpRevision {
    /// Record id.
    pub record_id: String,
    /// The revision, its hashes, time and pactum version.
    pub revision: Revision,
    /// The register columns taken from the record.
    pub facts: Facts,
    /// The record as issued (canonical JSON).
    pub record_json: String,
}

/// One row of `revision_files`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpFile {
    /// Record id.
    pub record_id: String,
    /// Revision.
    pub revision: u32,
    /// Path under `templates/`.
    pub path: String,
    /// Its SHA-256.
    pub sha256: String,
}

impl Dump {
    /// Sorts every list by its key in byte order, whatever order the backend read it in.
    pub(crate) fn sorted(mut self) -> Dump {
        self.contracts.sort_by(|a, b| a.record_id.cmp(&b.record_id));
        self.revisions.sort_by(|a, b| {
            (&a.record_id, a.revision.revision).cmp(&(&b.record_id, b.revision.revision))
        });
        self.files.sort_by(|a, b| {
            (&a.record_id, a.revision, &a.path).cmp(&(&b.record_id, b.revision, &b.path))
        });
        self.sequences.sort();
        self
    }

    /// The first table in which `self` and `other` differ, named with the
    /// first differing key, for [`RegisterError::CopyMismatch`].
    pub(crate) fn first_difference(&self, other: &Dump) -> Option<String> {
        fn first<T: PartialEq>(a: &[T], b: &[T], key: impl Fn(&T) -> String) -> Option<String> {
            if a == b {
                return None;
            }
            let at = a.iter().zip(b).position(|(x, y)| x != y);
            Some(match at {
                Some(i) => format!("at {}", key(&a[i])),
                None => format!("{} rows written, {} read back", a.len(), b.len()),
            })
        }
        let tables = [
            first(&self.contracts, &other.contracts, |c| c.record_id.clone())
                .map(|d| format!("contracts {d}")),
            first(&self.revisions, &other.revisions, |r| {
                format!("{} revision {}", r.record_id, r.revision.revision)
            })
            .map(|d| format!("revisions {d}")),
            first(&self.files, &other.files, |f| {
                format!("{} revision {} {}", f.record_id, f.revision, f.path)
            })
            .map(|d| format!("revision_files {d}")),
            first(&self.sequences, &other.sequences, |s| s.0.clone())
                .map(|d| format!("sequences {d}")),
        ];
        tables.into_iter().flatten().next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, number: &str, seq: u64, revision: u32, pdf: &str) -> Entry {
        sqlite::tests::entry(id, number, seq, revision, pdf)
    }

    #[test]
    fn csv_has_a_bom_the_columns_and_quotes_fields_with_commas() {
        let row = Row {
            number: "FW-2026-0001".into(),
            record_id: "a".into(),
            template: "service-zh".into(),
            status: Status::Issued,
            void_reason: None,
            revision: entry("a", "", 1, 0, "p0").revision,
            facts: entry("a", "", 1, 0, "p0").facts,
        };
        let csv = to_csv(&[row], Tz::Asia__Shanghai);
        assert!(csv.starts_with("\u{feff}合同编号,合同名称,模板,甲方,乙方,签署日期,生效日期,到期日期,金额,币种,修改次第,状态,PDF摘要(SHA-256),签发时间,作废原因,豁免规则\r\n"));
        // A time stored in UTC is shown in the zone.
        assert!(csv.contains(",p0,2026-11-23T08:00:00+08:00,"), "{csv}");
        assert!(csv.contains("FW-2026-0001,\"服务合同, \"\"甲\"\"\",service-zh"));
        assert!(csv.contains(",00,有效,p0,"));
    }

    #[test]
    fn a_postgres_url_with_a_password_is_refused_without_showing_it() {
        let e =
            Location::parse("postgres://pactum:s3cret@db.example:5432/contracts?sslmode=require")
                .unwrap_err();
        assert!(
            e.contains("postgres://pactum:***@db.example:5432/contracts?sslmode=require"),
            "{e}"
        );
        let e =
            Location::parse("postgresql:///contracts?host=/run/pg&password=s3cret").unwrap_err();
        assert!(!e.contains("s3cret"), "{e}");
        let l = Location::parse("postgres://pactum@db.example/contracts").unwrap();
        assert_eq!(l.display(), "postgres://pactum@db.example/contracts");
        assert_eq!(
            Location::parse(".pactum/register.sqlite").unwrap(),
            Location::Sqlite(".pactum/register.sqlite".into())
        );
    }
}
