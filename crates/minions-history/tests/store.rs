//! The store on real files: round trips, filters, sums, several writer
//! processes at once, a writer killed mid-write, and a corrupt file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use minions_history::{Filter, Grouping, HistoryStore, RunRecord, question_sha256};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("minions-history-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("history.sqlite3")
}

/// A run ended at `ended_at` (Unix time), answered or not.
fn run(ended_at: i64, remote: &str, spent: f64, answered: bool) -> RunRecord {
    RunRecord {
        started_at: ended_at - 10,
        ended_at,
        source: "cli".into(),
        question: Some("What is the LDL?".into()),
        question_sha256: question_sha256("What is the LDL?"),
        protocol: "minions".into(),
        remote_model: remote.into(),
        local_model: "ollama/llama3.2".into(),
        remote_prompt_tokens: 1_000,
        remote_cached_tokens: 0,
        remote_completion_tokens: 100,
        local_prompt_tokens: 20_000,
        local_completion_tokens: 500,
        remote_calls: 2,
        local_calls: 12,
        rounds: 1,
        remote_cost_usd: spent,
        remote_only_cost_usd: 0.05,
        saved_usd: answered.then_some(0.05 - spent),
        savings_ratio: answered.then_some(0.05 / spent),
        answered,
        stop: if answered { "answered" } else { "failed" }.into(),
        stop_detail: None,
        error: (!answered).then(|| "openai: HTTP 500".to_string()),
        total_secs: 10.0,
        remote_secs: 3.0,
        local_secs: 6.5,
        transcript: None,
    }
}

#[test]
fn runs_come_back_as_written_and_filter_and_sum() {
    let path = scratch("roundtrip");
    let mut store = HistoryStore::open(&path).unwrap();
    let day = 86_400;
    let first = run(20 * day, "openai/gpt-4o", 0.01, true);
    let id = store.record(&first).unwrap();
    store
        .record(&run(20 * day + 60, "anthropic/claude", 0.02, false))
        .unwrap();
    store
        .record(&run(21 * day, "openai/gpt-4o", 0.01, true))
        .unwrap();

    assert_eq!(store.get(id).unwrap().unwrap().record, first);
    assert!(store.get(id + 100).unwrap().is_none());

    let all = store.list(&Filter::default(), 10).unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].record.ended_at, 21 * day, "newest first");
    let failed = store
        .list(
            &Filter {
                failed: true,
                ..Filter::default()
            },
            10,
        )
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].record.remote_model, "anthropic/claude");
    let gpt = store
        .list(
            &Filter {
                model: Some("gpt-4o".into()),
                ..Filter::default()
            },
            10,
        )
        .unwrap();
    assert_eq!(gpt.len(), 2);
    let recent = store
        .list(
            &Filter {
                since: Some(21 * day),
                ..Filter::default()
            },
            10,
        )
        .unwrap();
    assert_eq!(recent.len(), 1);
    assert_eq!(store.list(&Filter::default(), 1).unwrap().len(), 1);

    let by_day = store.summary(&Filter::default(), Grouping::Day).unwrap();
    let keys: Vec<&str> = by_day.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["1970-01-21", "1970-01-22", "total"]);
    let total = by_day.last().unwrap();
    assert_eq!(total.runs, 3);
    assert_eq!(total.without_answer, 1);
    assert!((total.spent_usd - 0.04).abs() < 1e-9, "{total:?}");
    assert!((total.spent_without_answer_usd - 0.02).abs() < 1e-9);
    // Only the answered runs count towards remote-only and savings.
    assert!((total.remote_only_usd - 0.10).abs() < 1e-9);
    assert!((total.saved_usd - 0.08).abs() < 1e-9);
    let by_model = store.summary(&Filter::default(), Grouping::Model).unwrap();
    assert_eq!(by_model[0].key, "anthropic/claude");
    assert_eq!(by_model[1].runs, 2);
}

/// Not a test on its own: the writer the tests below start as a separate
/// process (this test binary, run again with `MINIONS_HISTORY_CHILD` set).
#[test]
fn child_writer() {
    let Ok(path) = std::env::var("MINIONS_HISTORY_CHILD") else {
        return;
    };
    let count: usize = std::env::var("MINIONS_HISTORY_COUNT")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX);
    let mut store = HistoryStore::open(&path).unwrap();
    for n in 0..count {
        store
            .record(&run(n as i64, "openai/gpt-4o", 0.001, true))
            .unwrap();
    }
}

fn writer(path: &std::path::Path, count: Option<usize>) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "child_writer",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("MINIONS_HISTORY_CHILD", path);
    if let Some(count) = count {
        command.env("MINIONS_HISTORY_COUNT", count.to_string());
    }
    command
}

#[test]
fn two_processes_write_at_once_and_lose_nothing() {
    let path = scratch("two-writers");
    let children: Vec<_> = (0..2)
        .map(|_| writer(&path, Some(200)).spawn().unwrap())
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let store = HistoryStore::open(&path).unwrap();
    assert_eq!(store.list(&Filter::default(), 10_000).unwrap().len(), 400);
}

#[test]
fn a_writer_killed_mid_write_leaves_the_file_whole() {
    let path = scratch("killed");
    let mut child = writer(&path, None).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(700));
    child.kill().unwrap();
    let _ = child.wait();
    let mut store = HistoryStore::open(&path).unwrap();
    let before = store.list(&Filter::default(), usize::MAX).unwrap().len();
    assert!(
        before > 0,
        "the writer wrote something before it was killed"
    );
    store.record(&run(1, "openai/gpt-4o", 0.001, true)).unwrap();
    let check: String = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    assert_eq!(
        store.list(&Filter::default(), usize::MAX).unwrap().len(),
        before + 1
    );
}

#[test]
fn a_corrupt_file_is_an_error_naming_it_not_a_panic() {
    let path = scratch("corrupt");
    std::fs::write(&path, b"this is not a database, it is a shopping list").unwrap();
    let error = HistoryStore::open(&path).unwrap_err().to_string();
    assert!(error.contains("history.sqlite3"), "{error}");
}
