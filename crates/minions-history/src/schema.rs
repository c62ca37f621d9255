//! The schema and its migrations, numbered by SQLite's `user_version`.
//!
//! A migration is appended, never edited: a file made by an older minions
//! is brought forward step by step, each step in its own transaction.

use rusqlite::Connection;

/// The migrations, in order; `user_version` is how many have run.
const MIGRATIONS: &[&str] = &[
    // 1: one row per run.
    "CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at INTEGER NOT NULL,
        ended_at INTEGER NOT NULL,
        source TEXT NOT NULL,
        question TEXT,
        question_sha256 TEXT NOT NULL,
        protocol TEXT NOT NULL,
        remote_model TEXT NOT NULL,
        local_model TEXT NOT NULL,
        remote_prompt_tokens INTEGER NOT NULL,
        remote_cached_tokens INTEGER NOT NULL,
        remote_completion_tokens INTEGER NOT NULL,
        local_prompt_tokens INTEGER NOT NULL,
        local_completion_tokens INTEGER NOT NULL,
        remote_calls INTEGER NOT NULL,
        local_calls INTEGER NOT NULL,
        rounds INTEGER NOT NULL,
        remote_cost_usd REAL NOT NULL,
        remote_only_cost_usd REAL NOT NULL,
        saved_usd REAL,
        savings_ratio REAL,
        answered INTEGER NOT NULL,
        stop TEXT NOT NULL,
        stop_detail TEXT,
        error TEXT,
        total_secs REAL NOT NULL,
        remote_secs REAL NOT NULL,
        local_secs REAL NOT NULL,
        transcript TEXT
    );
    CREATE INDEX runs_ended_at ON runs (ended_at);",
];

/// Why the schema could not be brought up to date.
#[derive(Debug)]
pub(crate) enum MigrateError {
    Sqlite(rusqlite::Error),
    TooNew { found: i64, known: i64 },
}

impl From<rusqlite::Error> for MigrateError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Sqlite(error)
    }
}

/// Runs the migrations the file has not had. Two processes opening a new
/// file at once are serialised by the immediate transaction: the second
/// sees the first's version and runs nothing.
pub(crate) fn migrate(conn: &Connection) -> Result<(), MigrateError> {
    let known = MIGRATIONS.len() as i64;
    loop {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let step = next_step(conn, known);
        match step {
            Ok(Some(version)) => {
                let applied = conn
                    .execute_batch(MIGRATIONS[version as usize])
                    .and_then(|()| conn.pragma_update(None, "user_version", version + 1));
                match applied {
                    Ok(()) => conn.execute_batch("COMMIT")?,
                    Err(error) => {
                        let _ = conn.execute_batch("ROLLBACK");
                        return Err(error.into());
                    }
                }
            }
            Ok(None) => {
                conn.execute_batch("COMMIT")?;
                return Ok(());
            }
            Err(error) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(error);
            }
        }
    }
}

/// The migration to run next, or `None` when the file is up to date.
fn next_step(conn: &Connection, known: i64) -> Result<Option<i64>, MigrateError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version > known {
        return Err(MigrateError::TooNew {
            found: version,
            known,
        });
    }
    Ok((version < known).then_some(version))
}
