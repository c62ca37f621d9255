//! The run history from the CLI's side: where it is, recording each run
//! (never failing one), and `minions history`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use minions::protocol::{RunEnded, RunObserver};
use minions_history::{Filter, HistoryStore, RunRecord, Source, StoredRun, SummaryRow};

use crate::cli::{HistoryArgs, HistoryCommand};
use crate::error::{CliError, code};
use crate::settings::{Effective, HISTORY_OFF as OFF};

/// The history file: the setting (`--history`, `MINIONS_HISTORY`, the
/// config file), else `minions/history.sqlite3` in the user data
/// directory; `None` when it is off or there is no such directory.
pub(crate) fn path_from(setting: Option<&str>) -> Option<PathBuf> {
    match setting.map(str::trim) {
        Some(OFF) | Some("") => None,
        Some(path) => Some(PathBuf::from(path)),
        None => dirs::data_dir().map(|dir| dir.join("minions").join("history.sqlite3")),
    }
}

/// Keeps each run's record. A history that cannot be opened or written
/// never fails a run: it is said once, and the runs go on.
pub(crate) struct Recorder {
    store: Option<Mutex<HistoryStore>>,
    source: Source,
    told: AtomicBool,
}

impl Recorder {
    /// The recorder for runs from `source` with these settings.
    pub(crate) fn open(settings: &Effective, source: Source) -> Arc<Self> {
        let recorder = Self {
            store: None,
            source,
            told: AtomicBool::new(false),
        };
        let Some(path) = path_from(settings.values.history.as_deref()) else {
            return Arc::new(recorder);
        };
        match HistoryStore::open(&path) {
            Ok(store) => Arc::new(Self {
                store: Some(Mutex::new(store)),
                ..recorder
            }),
            Err(error) => {
                recorder.tell(&error.to_string());
                Arc::new(recorder)
            }
        }
    }

    #[allow(clippy::print_stderr)]
    fn tell(&self, error: &str) {
        if !self.told.swap(true, Ordering::Relaxed) {
            eprintln!(
                "note: this run is not in the history ({error}); the run itself is unaffected. Use --history PATH for another file, or --no-history"
            );
        }
    }

    /// Records a run that ended, with where its transcript was written.
    fn record(&self, ended: &RunEnded<'_>, transcript: Option<&std::path::Path>) {
        let Some(store) = &self.store else {
            return;
        };
        let mut record = RunRecord::of(
            ended.result,
            self.source,
            ended.task,
            ended.private,
            ended.error,
            minions_history::now(),
        );
        if let Some(path) = transcript {
            record = record.with_transcript(path.display().to_string());
        }
        let written = store
            .lock()
            .map_err(|_| "an earlier write panicked".to_string())
            .and_then(|mut store| store.record(&record).map_err(|e| e.to_string()));
        if let Err(error) = written {
            self.tell(&error);
        }
    }

    /// The recorder as a run observer (for the server, MCP and each CLI
    /// run), noting where the run's transcript is written, if it is.
    pub(crate) fn observer(self: &Arc<Self>, transcript: Option<PathBuf>) -> RunObserver {
        let recorder = self.clone();
        Arc::new(move |ended: &RunEnded<'_>| recorder.record(ended, transcript.as_deref()))
    }
}

/// `minions history`.
#[allow(clippy::print_stdout)]
pub(crate) fn command(args: HistoryArgs, settings: &Effective) -> Result<u8, CliError> {
    let setting = args
        .history
        .as_deref()
        .or(settings.values.history.as_deref());
    let Some(path) = path_from(setting) else {
        return Err(CliError::usage(
            "the run history is off (history = \"off\"); name a file with --history PATH",
        ));
    };
    if !path.is_file() {
        if args.json {
            println!("[]");
        } else {
            println!("no runs recorded yet ({} does not exist)", path.display());
        }
        return Ok(code::OK);
    }
    let store = HistoryStore::open(&path).map_err(|e| CliError::usage(e.to_string()))?;
    let filter = Filter {
        since: args
            .since
            .as_deref()
            .map(|text| minions_history::parse_since(text, minions_history::now()))
            .transpose()
            .map_err(CliError::usage)?,
        protocol: args.protocol.map(|p| p.as_str().to_string()),
        model: args.model.clone(),
        failed: args.failed,
    };
    let failed = |e: minions_history::HistoryError| CliError::usage(e.to_string());
    match args.command {
        None => {
            let runs = store.list(&filter, args.limit).map_err(failed)?;
            print(args.json, &runs, || listing(&runs));
        }
        Some(HistoryCommand::Show { id }) => {
            let Some(run) = store.get(id).map_err(failed)? else {
                return Err(CliError::usage(format!(
                    "no run {id} in {}; `minions history` lists them",
                    path.display()
                )));
            };
            print(args.json, &run, || shown(&run));
        }
        Some(HistoryCommand::Summary { by }) => {
            let rows = store.summary(&filter, by).map_err(failed)?;
            print(args.json, &rows, || summary(&rows));
        }
    }
    Ok(code::OK)
}

#[allow(clippy::print_stdout)]
fn print<T: serde::Serialize>(json: bool, value: &T, text: impl FnOnce() -> String) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into())
        );
    } else {
        print!("{}", text());
    }
}

/// Dollars with four decimals, or a dash for nothing.
fn usd(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("${v:.4}"))
}

/// At most `width` characters of one line.
fn clipped(text: &str, width: usize) -> String {
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() <= width {
        line.to_string()
    } else {
        let kept: String = line.chars().take(width.saturating_sub(3)).collect();
        format!("{kept}...")
    }
}

fn listing(runs: &[StoredRun]) -> String {
    if runs.is_empty() {
        return "no runs match\n".to_string();
    }
    let mut out = format!(
        "{:>5}  {:<16}  {:<7}  {:<24}  {:<10}  {:>9}  {:>11}  {:>9}  question\n",
        "id", "ended (UTC)", "proto", "remote", "stop", "spent", "remote-only", "saved"
    );
    for run in runs {
        let r = &run.record;
        let question = r
            .question
            .clone()
            .unwrap_or_else(|| format!("(private, sha256 {})", &r.question_sha256[..12]));
        out.push_str(&format!(
            "{:>5}  {:<16}  {:<7}  {:<24}  {:<10}  {:>9}  {:>11}  {:>9}  {}\n",
            run.id,
            minions_history::utc_minute(r.ended_at),
            r.protocol,
            clipped(&r.remote_model, 24),
            r.stop,
            usd(Some(r.remote_cost_usd)),
            usd(Some(r.remote_only_cost_usd)),
            usd(r.saved_usd),
            clipped(&question, 60)
        ));
    }
    out
}

fn shown(run: &StoredRun) -> String {
    let r = &run.record;
    let mut lines = vec![
        format!(
            "run {} ({}, from {}), ended {} UTC after {:.1}s",
            run.id,
            r.protocol,
            r.source,
            minions_history::utc_minute(r.ended_at),
            r.total_secs
        ),
        format!(
            "question: {}",
            r.question.as_deref().unwrap_or("(not kept: --privacy)")
        ),
        format!("question sha256: {}", r.question_sha256),
        format!(
            "remote {}: {} call(s), {} in ({} cached), {} out, {}",
            r.remote_model,
            r.remote_calls,
            r.remote_prompt_tokens,
            r.remote_cached_tokens,
            r.remote_completion_tokens,
            usd(Some(r.remote_cost_usd))
        ),
        format!(
            "local {}: {} call(s), {} in, {} out",
            r.local_model, r.local_calls, r.local_prompt_tokens, r.local_completion_tokens
        ),
        format!(
            "remote-only estimate {}; saved {}{}",
            usd(Some(r.remote_only_cost_usd)),
            usd(r.saved_usd),
            r.savings_ratio
                .map(|x| format!(" ({x:.1}x cheaper)"))
                .unwrap_or_default()
        ),
        format!(
            "stop: {}{}",
            r.stop,
            r.stop_detail
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        ),
        format!(
            "time: remote {:.1}s, local {:.1}s; {} round(s)",
            r.remote_secs, r.local_secs, r.rounds
        ),
    ];
    if let Some(error) = &r.error {
        lines.push(format!("error: {error}"));
    }
    if let Some(path) = &r.transcript {
        lines.push(format!("transcript: {path}"));
    }
    lines.join("\n") + "\n"
}

fn summary(rows: &[SummaryRow]) -> String {
    let mut out = format!(
        "{:<28}  {:>5}  {:>10}  {:>10}  {:>12}  {:>10}  {:>9}\n",
        "", "runs", "no answer", "spent", "remote-only", "saved", "saved %"
    );
    for row in rows {
        let percent = if row.remote_only_usd > 0.0 {
            format!("{:.0}%", 100.0 * row.saved_usd / row.remote_only_usd)
        } else {
            "-".to_string()
        };
        out.push_str(&format!(
            "{:<28}  {:>5}  {:>10}  {:>10}  {:>12}  {:>10}  {:>9}\n",
            clipped(&row.key, 28),
            row.runs,
            row.without_answer,
            usd(Some(row.spent_usd)),
            usd(Some(row.remote_only_usd)),
            usd(Some(row.saved_usd)),
            percent
        ));
    }
    out
}
