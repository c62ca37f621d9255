//! How much our own code adds on top of model latency.
//!
//! A fake local server answers every job after a fixed delay; a Minions
//! round of many jobs at a given concurrency should then take
//! `ceil(jobs / concurrency) x delay` and nothing more. The difference is
//! our overhead: chunking, planning, HTTP, parsing, aggregation.

use std::time::Duration;

use minions::{ContextDocument, ProtocolKind, RunModels, RunOptions};
use minions_testkit::Reply;
use serde_json::json;

use crate::scripted;

/// The measured figures.
#[derive(Debug, Clone, PartialEq)]
pub struct OverheadReport {
    /// Jobs in the Minions round.
    pub jobs: usize,
    /// Jobs in flight.
    pub concurrency: usize,
    /// The fake local model's delay per call.
    pub latency: Duration,
    /// Wall time of the local phase.
    pub local_wall: Duration,
    /// `ceil(jobs / concurrency) x latency`.
    pub ideal: Duration,
    /// Wall time of the whole run (remote calls included, instant here).
    pub total_wall: Duration,
    /// Process CPU time per job (the fake servers run in this process too,
    /// so this is an upper bound of ours).
    pub cpu_per_job: Duration,
    /// Peak resident memory of the process, in bytes.
    pub peak_rss: u64,
    /// The same number of requests sent by a bare HTTP client to the same
    /// fake at the same concurrency: what the fake, loopback HTTP and the
    /// timer cost without any of our code.
    pub baseline_wall: Duration,
    /// Minion: rounds run.
    pub minion_rounds: u32,
    /// Minion: wall time of its local calls.
    pub minion_local_wall: Duration,
    /// Minion: `rounds x latency`.
    pub minion_ideal: Duration,
    /// Minion: the same number of calls, each carrying the whole document
    /// as Minion's do, sent one after another by a bare HTTP client.
    pub minion_baseline: Duration,
}

/// User plus system CPU time of this process, from Linux's /proc.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may contain spaces) start at ")".
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 (1-based), 12 and 13 here; Linux
    // reports them in 1/100 s.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// Peak resident memory of this process, from Linux's /proc.
pub fn peak_rss() -> u64 {
    peak_rss_of("self")
}

/// Peak resident memory of process `pid` (or `self`), from Linux's /proc.
pub fn peak_rss_of(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Runs the overhead suite.
pub async fn run_overhead(
    jobs: usize,
    concurrency: usize,
    latency: Duration,
) -> minions::Result<OverheadReport> {
    let stand_ins = scripted::start().await?;
    stand_ins.remote_server.respond_with(|request| {
        let prompt = request.last_user_message();
        if prompt.contains("Plan this round's work") {
            Reply::json(
                &json!({"tasks": [{"id": "t", "instruction": "Find the code."}],
                "chunking": {"unit": "paragraphs", "size": 500, "overlap": 0}, "select": "all"}),
            )
        } else if prompt.contains("always \"final\"") || prompt.contains("Findings of round") {
            Reply::json(&json!({"reasoning": "r", "decision": "final", "answer": "done"}))
        } else {
            Reply::json(&json!({"reasoning": "r", "decision": "ask", "message": "And then?"}))
        }
    });
    stand_ins.local_server.respond_with(move |_| {
        Reply::json(&json!({"explanation": "nothing", "citation": null, "answer": null}))
            .after(latency)
    });
    // One paragraph per chunk: 400 characters each, chunks of at most 500.
    let paragraph = "word ".repeat(80);
    let text = (0..jobs)
        .map(|i| format!("{i} {paragraph}"))
        .collect::<Vec<_>>()
        .join("\n\n");
    let context = [ContextDocument::new("overhead.txt", text)];
    // The planned round reads every chunk; round 1 as written would read
    // only the four that best match the task.
    let spec = RunOptions::default()
        .protocol(ProtocolKind::Minions)
        .plan_first_round(true)
        .local_concurrency(concurrency as u32)
        .max_jobs_per_round(jobs.max(1) as u32)
        .max_rounds(1)
        .max_cost_ratio(0.0)
        .build()
        .map_err(|e| minions::Error::config(e.to_string()))?;
    let models = RunModels::new(stand_ins.remote.clone(), stand_ins.local.clone());
    let cpu_before = cpu_time();
    let transcript = minions::run(&models, "Find the code.", &context, &spec, None)
        .await
        .map_err(|e| minions::Error::config(e.to_string()))?;
    let cpu = cpu_time().saturating_sub(cpu_before);
    let result = transcript.result;
    let rounds = (jobs as u32).div_ceil(concurrency.max(1) as u32);

    let tiny = json!({"model": "llama3.2", "stream": false, "messages": [{"role": "user", "content": "x"}]});
    let baseline_wall = baseline(
        &stand_ins.local_server.url(),
        &tiny,
        result.jobs.total,
        concurrency,
    )
    .await?;

    let minion_spec = RunOptions::default()
        .protocol(ProtocolKind::Minion)
        .max_rounds(5)
        .max_cost_ratio(0.0)
        .build()
        .map_err(|e| minions::Error::config(e.to_string()))?;
    let minion = minions::run(&models, "Find the code.", &context[..], &minion_spec, None)
        .await
        .map_err(|e| minions::Error::config(e.to_string()))?
        .result;
    // Minion's local calls carry the whole document: the floor for them is
    // the same bytes over the same loopback to the same fake, one at a time.
    let with_document = json!({"model": "llama3.2", "stream": false, "messages": [
        {"role": "system", "content": context[0].text.as_ref()}, {"role": "user", "content": "x"}]});
    let minion_baseline = baseline(
        &stand_ins.local_server.url(),
        &with_document,
        minion.local_calls as usize,
        1,
    )
    .await?;
    Ok(OverheadReport {
        jobs: result.jobs.total,
        concurrency,
        latency,
        local_wall: result.timing.local,
        ideal: latency * rounds,
        total_wall: result.timing.total,
        cpu_per_job: cpu / (result.jobs.total.max(1) as u32),
        peak_rss: peak_rss(),
        baseline_wall,
        minion_rounds: minion.rounds,
        minion_local_wall: minion.timing.local,
        minion_ideal: latency * minion.rounds,
        minion_baseline,
    })
}

/// Sends `requests` bare requests to the fake local server, `concurrency`
/// at a time, with a plain HTTP client: the floor our protocol round is
/// compared with.
async fn baseline(
    url: &str,
    body: &serde_json::Value,
    requests: usize,
    concurrency: usize,
) -> minions::Result<Duration> {
    use futures::StreamExt;
    let client = minions::http::HttpClient::new("baseline")?;
    let url = format!("{url}/api/chat");
    let body = serde_json::to_vec(body).map_err(|e| minions::Error::config(e.to_string()))?;
    let began = std::time::Instant::now();
    let outcomes: Vec<minions::Result<()>> = futures::stream::iter(0..requests)
        .map(|_| {
            let (client, url, body) = (&client, &url, &body);
            async move {
                let request = client
                    .reqwest()
                    .post(url.as_str())
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .build()
                    .map_err(|e| minions::Error::config(e.to_string()))?;
                let response = client.send(request).await?;
                client.read_body(response).await.map(|_| ())
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    outcomes.into_iter().collect::<minions::Result<Vec<()>>>()?;
    Ok(began.elapsed())
}

/// The report as a markdown table.
pub fn markdown(report: &OverheadReport) -> String {
    let over = |actual: Duration, ideal: Duration| {
        100.0 * (actual.as_secs_f64() / ideal.as_secs_f64().max(1e-9) - 1.0)
    };
    format!(
        "### Overhead (fake local model answering after {} ms)\n\n\
| measure | value |\n| --- | --- |\n\
| Minions round | {} jobs at concurrency {} |\n\
| local phase wall time | {:.3} s |\n\
| ideal ceil(jobs / concurrency) x latency | {:.3} s |\n\
| over ideal | {:+.1}% |\n\
| baseline: the same requests from a bare HTTP client | {:.3} s ({:+.1}% over ideal) |\n\
| our code over the baseline | {:+.1}% of the ideal |\n\
| whole run wall time | {:.3} s |\n\
| CPU time per job (this process, fake servers included) | {:.3} ms |\n\
| peak memory | {:.0} MB |\n\
| Minion | {} rounds: local wall {:.3} s, ideal {:.3} s ({:+.1}%) |\n\
| Minion baseline: as many calls carrying the document, from a bare client | {:.3} s ({:+.1}% over ideal); our code {:+.1}% of the ideal |\n",
        report.latency.as_millis(),
        report.jobs,
        report.concurrency,
        report.local_wall.as_secs_f64(),
        report.ideal.as_secs_f64(),
        over(report.local_wall, report.ideal),
        report.baseline_wall.as_secs_f64(),
        over(report.baseline_wall, report.ideal),
        100.0 * (report.local_wall.as_secs_f64() - report.baseline_wall.as_secs_f64())
            / report.ideal.as_secs_f64().max(1e-9),
        report.total_wall.as_secs_f64(),
        report.cpu_per_job.as_secs_f64() * 1e3,
        report.peak_rss as f64 / 1e6,
        report.minion_rounds,
        report.minion_local_wall.as_secs_f64(),
        report.minion_ideal.as_secs_f64(),
        over(report.minion_local_wall, report.minion_ideal),
        report.minion_baseline.as_secs_f64(),
        over(report.minion_baseline, report.minion_ideal),
        100.0 * (report.minion_local_wall.as_secs_f64() - report.minion_baseline.as_secs_f64())
            / report.minion_ideal.as_secs_f64().max(1e-9),
    )
}
