//! Loaders on tiny fixtures, resume after interruption, and the budget cap.

// Helpers in test files unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use minions::Pricing;
use minions_bench::runner::{Models, Protocol, QualityRun, load_records, run_quality};
use minions_bench::{
    Scoring, load_financebench, load_jsonl, load_longhealth, load_qasper, scripted, synthetic,
};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn loaders_read_their_formats() {
    let longhealth = load_longhealth(&fixture("longhealth.json")).unwrap();
    assert_eq!(longhealth.len(), 1);
    assert_eq!(longhealth[0].gold, ["B"]);
    assert_eq!(longhealth[0].scoring, Scoring::Choice);
    assert_eq!(longhealth[0].context.len(), 2);
    assert!(longhealth[0].question.contains("(B) Amoxicillin"));

    let qasper = load_qasper(&fixture("qasper.json")).unwrap();
    assert_eq!(qasper.len(), 2);
    assert_eq!(qasper[0].gold, ["TinyBench"]);
    assert!(qasper[0].context[0].text.contains("## Introduction"));
    assert_eq!(qasper[1].scoring, Scoring::NotInDocument);

    let finance = load_financebench(&fixture("financebench.jsonl"), None).unwrap();
    assert_eq!(finance[0].id, "financebench-fb_001");
    assert!(matches!(finance[0].scoring, Scoring::Numeric { .. }));
    assert!(finance[0].context[0].text.contains("$1,234 million"));

    let sample =
        load_jsonl(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/sample.jsonl")).unwrap();
    assert_eq!(sample.len(), 3);
    assert!(load_longhealth(&fixture("financebench.jsonl")).is_err());
}

fn results_file(name: &str) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("minions-bench-{name}-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

async fn quality_run(
    results: PathBuf,
    budget_usd: Option<f64>,
) -> (QualityRun, scripted::Scripted) {
    let stand_ins = scripted::start().await.unwrap();
    let run = QualityRun {
        items: synthetic(3, 8_000, 1),
        protocols: vec![Protocol::RemoteOnly, Protocol::MINIONS],
        models: Models {
            local: stand_ins.local.clone(),
            remote: stand_ins.remote.clone(),
            judge: None,
            scripted: true,
        },
        concurrency: 1,
        budget_usd,
        results,
        transcripts: None,
        pricing: Pricing::builtin(),
        max_rounds: 2,
        options: minions::RunOptions::default(),
    };
    (run, stand_ins)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_run_resumes_where_it_stopped() {
    let results = results_file("resume");
    let (run, stand_ins) = quality_run(results.clone(), None).await;
    let (records, budget_hit) = run_quality(&run, None).await.unwrap();
    assert!(!budget_hit);
    assert_eq!(records.len(), 6);
    assert!(
        records.iter().all(|r| r.scripted && r.error.is_none()),
        "{records:?}"
    );
    // Interrupt: keep only the first two lines, as if the process died.
    let text = std::fs::read_to_string(&results).unwrap();
    let kept: Vec<&str> = text.lines().take(2).collect();
    std::fs::write(&results, format!("{}\n", kept.join("\n"))).unwrap();
    let remote_calls_before = stand_ins.remote_server.request_count();
    let (records, _) = run_quality(&run, None).await.unwrap();
    assert_eq!(records.len(), 6);
    let on_disk = load_records(&results);
    assert_eq!(on_disk.len(), 6, "the missing four were run and appended");
    let mut pairs: Vec<(String, Protocol)> = on_disk
        .iter()
        .map(|r| (r.item.clone(), r.protocol))
        .collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.name().cmp(b.1.name())));
    pairs.dedup();
    assert_eq!(pairs.len(), 6, "nothing was run twice");
    assert!(stand_ins.remote_server.request_count() > remote_calls_before);
    // A third run has nothing left to do.
    let calls = stand_ins.remote_server.request_count();
    run_quality(&run, None).await.unwrap();
    assert_eq!(stand_ins.remote_server.request_count(), calls);
    let _ = std::fs::remove_file(&results);
}

#[tokio::test(flavor = "multi_thread")]
async fn transcripts_show_what_each_protocol_run_did() {
    let results = results_file("transcripts");
    let directory = results.with_extension("transcripts");
    let _ = std::fs::remove_dir_all(&directory);
    let (mut run, _stand_ins) = quality_run(results.clone(), None).await;
    run.transcripts = Some(directory.clone());
    let (records, _) = run_quality(&run, None).await.unwrap();
    let minions_runs: Vec<_> = records
        .iter()
        .filter(|r| r.protocol == Protocol::MINIONS)
        .collect();
    assert_eq!(minions_runs.len(), 3);
    for record in minions_runs {
        let path = directory.join(format!("{}.minions.json", record.item));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let transcript: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(transcript["result"]["answer"], record.answer.as_str());
        assert!(
            text.contains("job_finished") || text.contains("JobFinished"),
            "the jobs' findings are in it"
        );
    }
    // Remote-only has no transcript: it is one call.
    let files = std::fs::read_dir(&directory).unwrap().count();
    assert_eq!(files, 3);
    let _ = std::fs::remove_dir_all(&directory);
    let _ = std::fs::remove_file(&results);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_budget_caps_remote_spend() {
    let results = results_file("budget");
    let (run, _stand_ins) = quality_run(results.clone(), Some(0.001)).await;
    let (records, budget_hit) = run_quality(&run, None).await.unwrap();
    assert!(budget_hit);
    let spent: f64 = records.iter().map(|r| r.remote_cost_usd).sum();
    assert!(spent <= 0.001 + 1e-9, "spent {spent}");
    let saved = load_records(&results);
    assert!(
        saved.len() < 6,
        "runs stopped by the budget are not recorded, so a later run redoes them"
    );
    let _ = std::fs::remove_file(&results);
}
