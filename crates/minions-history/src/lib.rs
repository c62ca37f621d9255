//! Run history: every run's bill, kept in SQLite.
//!
//! Each run from the CLI, `minions serve` and `minions mcp` is recorded
//! when it ends, however it ends: the question (or only its SHA-256 when
//! privacy is on; never the documents), protocol, models, usage and cost
//! on each side, the remote-only estimate, what was saved, why it stopped,
//! its error, its timing and where its transcript is. `minions history`
//! lists, shows and sums them.
//!
//! The store is one SQLite file in WAL mode with a busy timeout, so several
//! processes (a server and a CLI run) write to it at once; each record is
//! one transaction, so a process killed mid-write leaves the file whole.
//! Callers treat every error here as a note, never as a run's failure.

mod record;
mod schema;
mod summary;
mod time;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, params};

pub use record::{RunRecord, Source, question_sha256};
pub use summary::{Grouping, SummaryRow};
pub use time::{now, parse_since, utc_minute};

/// Why the history could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// SQLite refused (a corrupt file, a locked database, a full disk).
    #[error("run history {path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The directory for the database could not be made.
    #[error("run history {path}: cannot create its directory: {source}")]
    Directory {
        /// The database file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file was written by a newer minions.
    #[error(
        "run history {path}: written by a newer minions (schema {found}, this one knows {known}); use that version, or another file with --history"
    )]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
}

/// How long a writer waits for another process's transaction to end.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs `step` again while another process holds the lock it needs, for
/// up to [`BUSY_TIMEOUT`]. Switching a new file to WAL takes an exclusive
/// lock, and SQLite answers "database is locked" at once instead of calling
/// the busy handler: two `minions` processes opening a fresh history at
/// the same moment saw one of them fail (the two-writers test, in CI).
fn while_busy<T>(mut step: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let began = std::time::Instant::now();
    loop {
        match step() {
            Err(rusqlite::Error::SqliteFailure(error, _))
                if matches!(
                    error.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) && began.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// One run, as stored: its row id and its record.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredRun {
    /// The row id (`minions history show ID`).
    pub id: i64,
    /// What was recorded.
    #[serde(flatten)]
    pub record: RunRecord,
}

/// Which runs a listing or a summary covers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Runs that ended at or after this Unix time.
    pub since: Option<i64>,
    /// Only this protocol (`minion`, `minions`).
    pub protocol: Option<String>,
    /// Only runs whose remote or local model contains this text.
    pub model: Option<String>,
    /// Only runs that ended without an answer (failed, cancelled, or a
    /// budget stop).
    pub failed: bool,
}

/// The run history in one SQLite file.
#[derive(Debug)]
pub struct HistoryStore {
    path: PathBuf,
    conn: Connection,
}

impl HistoryStore {
    /// Opens (creating it and its directory when missing) the history at
    /// `path`, and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, HistoryError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| HistoryError::Directory {
                path: path.clone(),
                source,
            })?;
        }
        let sqlite = |source| HistoryError::Sqlite {
            path: path.clone(),
            source,
        };
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sqlite)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sqlite)?;
        // WAL: readers never block the writer, and writers from several
        // processes take turns (the busy timeout waits for the turn).
        while_busy(|| conn.pragma_update(None, "journal_mode", "wal")).map_err(sqlite)?;
        conn.pragma_update(None, "synchronous", "normal")
            .map_err(sqlite)?;
        schema::migrate(&conn).map_err(|error| match error {
            schema::MigrateError::Sqlite(source) => HistoryError::Sqlite {
                path: path.clone(),
                source,
            },
            schema::MigrateError::TooNew { found, known } => HistoryError::TooNew {
                path: path.clone(),
                found,
                known,
            },
        })?;
        Ok(Self { path, conn })
    }

    /// Where the history is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn error(&self, source: rusqlite::Error) -> HistoryError {
        HistoryError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Records one run, in one transaction; returns its id.
    pub fn record(&mut self, run: &RunRecord) -> Result<i64, HistoryError> {
        let path = &self.path;
        let error = |source| HistoryError::Sqlite {
            path: path.clone(),
            source,
        };
        let transaction = self.conn.transaction().map_err(error)?;
        record::insert(&transaction, run).map_err(error)?;
        let id = transaction.last_insert_rowid();
        transaction.commit().map_err(error)?;
        Ok(id)
    }

    /// The runs `filter` covers, newest first, at most `limit`.
    pub fn list(&self, filter: &Filter, limit: usize) -> Result<Vec<StoredRun>, HistoryError> {
        let (clause, values) = where_clause(filter);
        let sql = format!(
            "SELECT {} FROM runs {clause} ORDER BY ended_at DESC, id DESC LIMIT ?",
            record::COLUMNS
        );
        let mut values = values;
        values.push(rusqlite::types::Value::Integer(
            i64::try_from(limit).unwrap_or(i64::MAX),
        ));
        let mut statement = self.conn.prepare(&sql).map_err(|e| self.error(e))?;
        let rows = statement
            .query_map(rusqlite::params_from_iter(values), record::from_row)
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(e))
    }

    /// One run by id.
    pub fn get(&self, id: i64) -> Result<Option<StoredRun>, HistoryError> {
        let sql = format!("SELECT {} FROM runs WHERE id = ?1", record::COLUMNS);
        let mut statement = self.conn.prepare(&sql).map_err(|e| self.error(e))?;
        let mut rows = statement
            .query_map(params![id], record::from_row)
            .map_err(|e| self.error(e))?;
        rows.next().transpose().map_err(|e| self.error(e))
    }

    /// Spent, remote-only and saved, per model, day or month (and a total
    /// row, keyed `total`, last).
    pub fn summary(
        &self,
        filter: &Filter,
        grouping: Grouping,
    ) -> Result<Vec<SummaryRow>, HistoryError> {
        let (clause, values) = where_clause(filter);
        summary::query(&self.conn, &clause, values, grouping).map_err(|e| self.error(e))
    }
}

/// The `WHERE` clause of a filter, with its values.
fn where_clause(filter: &Filter) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;
    let mut terms = Vec::new();
    let mut values = Vec::new();
    if let Some(since) = filter.since {
        terms.push("ended_at >= ?");
        values.push(Value::Integer(since));
    }
    if let Some(protocol) = &filter.protocol {
        terms.push("protocol = ?");
        values.push(Value::Text(protocol.clone()));
    }
    if let Some(model) = &filter.model {
        terms.push("(instr(remote_model, ?) > 0 OR instr(local_model, ?) > 0)");
        values.push(Value::Text(model.clone()));
        values.push(Value::Text(model.clone()));
    }
    if filter.failed {
        terms.push("answered = 0");
    }
    if terms.is_empty() {
        (String::new(), values)
    } else {
        (format!("WHERE {}", terms.join(" AND ")), values)
    }
}
