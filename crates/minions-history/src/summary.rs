//! What was spent and saved, grouped.

use rusqlite::Connection;
use rusqlite::types::Value;
use serde::Serialize;

/// How a summary groups runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grouping {
    /// By remote model.
    #[default]
    Model,
    /// By day (UTC, `YYYY-MM-DD`).
    Day,
    /// By month (UTC, `YYYY-MM`).
    Month,
}

impl std::str::FromStr for Grouping {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "model" => Ok(Self::Model),
            "day" => Ok(Self::Day),
            "month" => Ok(Self::Month),
            other => Err(format!("group by `{other}`: use model, day or month")),
        }
    }
}

impl Grouping {
    fn key(self) -> &'static str {
        match self {
            Grouping::Model => "remote_model",
            Grouping::Day => "strftime('%Y-%m-%d', ended_at, 'unixepoch')",
            Grouping::Month => "strftime('%Y-%m', ended_at, 'unixepoch')",
        }
    }
}

/// One group's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryRow {
    /// The model, day or month; `total` for the last row.
    pub key: String,
    /// Runs.
    pub runs: i64,
    /// Runs that ended without an answer.
    pub without_answer: i64,
    /// Remote spend over every run.
    pub spent_usd: f64,
    /// Spent on the runs that ended without an answer (part of
    /// `spent_usd`).
    pub spent_without_answer_usd: f64,
    /// What reading everything remotely would have cost, for the runs that
    /// answered.
    pub remote_only_usd: f64,
    /// `remote_only_usd` minus what those runs spent.
    pub saved_usd: f64,
    /// Remote tokens (prompt and completion) over every run.
    pub remote_tokens: i64,
    /// Local tokens over every run.
    pub local_tokens: i64,
}

const FIGURES: &str = "COUNT(*), \
    SUM(answered = 0), \
    TOTAL(remote_cost_usd), \
    TOTAL(CASE WHEN answered = 0 THEN remote_cost_usd ELSE 0 END), \
    TOTAL(CASE WHEN answered = 1 THEN remote_only_cost_usd ELSE 0 END), \
    TOTAL(saved_usd), \
    TOTAL(remote_prompt_tokens + remote_completion_tokens), \
    TOTAL(local_prompt_tokens + local_completion_tokens)";

fn row(key: String, row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<SummaryRow> {
    Ok(SummaryRow {
        key,
        runs: row.get(at)?,
        without_answer: row.get::<_, Option<i64>>(at + 1)?.unwrap_or(0),
        spent_usd: row.get(at + 2)?,
        spent_without_answer_usd: row.get(at + 3)?,
        remote_only_usd: row.get(at + 4)?,
        saved_usd: row.get(at + 5)?,
        remote_tokens: row.get::<_, f64>(at + 6)? as i64,
        local_tokens: row.get::<_, f64>(at + 7)? as i64,
    })
}

pub(crate) fn query(
    conn: &Connection,
    clause: &str,
    values: Vec<Value>,
    grouping: Grouping,
) -> rusqlite::Result<Vec<SummaryRow>> {
    let key = grouping.key();
    let sql = format!("SELECT {key}, {FIGURES} FROM runs {clause} GROUP BY 1 ORDER BY 1");
    let mut statement = conn.prepare(&sql)?;
    let mut rows: Vec<SummaryRow> = statement
        .query_map(rusqlite::params_from_iter(values.iter()), |r| {
            row(r.get(0)?, r, 1)
        })?
        .collect::<Result<_, _>>()?;
    let total_sql = format!("SELECT {FIGURES} FROM runs {clause}");
    let total = conn.query_row(&total_sql, rusqlite::params_from_iter(values.iter()), |r| {
        row("total".to_string(), r, 0)
    })?;
    rows.push(total);
    Ok(rows)
}
