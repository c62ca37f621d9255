//! The on-device model against llama-server: the same GGUF, the same
//! threads, the same Minions round (3 tasks over 6 chunks, 18 jobs) at 1, 4
//! and 8 sequences in flight. Built with the `embedded` feature.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use minions::llama::{EmbeddedModel, LlamaSettings};
use minions::{ChatModel, ModelSettings, ModelSpec, RunOptions};

use crate::overhead::{peak_rss, peak_rss_of};
use crate::prefix::{fixed_planner, fixed_round};

/// One measured round.
#[derive(Debug, Clone)]
pub struct EngineRun {
    /// `embedded` or `llama-server`.
    pub engine: &'static str,
    /// Sequences decoded together (server slots, jobs in flight).
    pub sequences: u32,
    /// Jobs in the round.
    pub jobs: usize,
    /// Wall time of the local phase.
    pub local_wall: Duration,
    /// Prompt and answer tokens the local model handled.
    pub prompt_tokens: u64,
    /// Answer tokens.
    pub completion_tokens: u64,
    /// Time to load the model (embedded) or until the server is healthy.
    pub load: Duration,
    /// Peak resident memory: this process (embedded) or the server's.
    pub peak_rss: u64,
}

impl EngineRun {
    fn of(
        engine: &'static str,
        sequences: u32,
        result: &minions::RunResult,
        load: Duration,
        peak_rss: u64,
    ) -> Self {
        Self {
            engine,
            sequences,
            jobs: result.jobs.total,
            local_wall: result.timing.local,
            prompt_tokens: result.local_usage.prompt_tokens,
            completion_tokens: result.local_usage.completion_tokens,
            load,
            peak_rss,
        }
    }
}

/// A llama-server child, stopped on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> minions::Result<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| minions::Error::config(format!("no free port: {e}")))
}

async fn start_server(
    binary: &Path,
    gguf: &Path,
    threads: u32,
    sequences: u32,
    context: u32,
) -> minions::Result<(Server, String, Duration)> {
    let port = free_port()?;
    let began = Instant::now();
    let child = Command::new(binary)
        .arg("-m")
        .arg(gguf)
        .args(["-t", &threads.to_string(), "-tb", &threads.to_string()])
        .args(["-np", &sequences.to_string()])
        .args(["-c", &(context * sequences).to_string()])
        .args(["--port", &port.to_string(), "--host", "127.0.0.1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| minions::Error::config(format!("cannot start {}: {e}", binary.display())))?;
    let server = Server(child);
    let url = format!("http://127.0.0.1:{port}");
    let client = minions::http::HttpClient::new("llama-server")?;
    loop {
        if began.elapsed() > Duration::from_secs(120) {
            return Err(minions::Error::config(
                "llama-server did not become healthy in 120 s",
            ));
        }
        let request = client
            .reqwest()
            .get(format!("{url}/health"))
            .build()
            .map_err(|e| minions::Error::config(e.to_string()))?;
        if client
            .reqwest()
            .execute(request)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok((server, url, began.elapsed()))
}

/// Measures both engines at each number of sequences.
pub async fn run_embedded(
    gguf: &Path,
    server_binary: Option<&PathBuf>,
    threads: u32,
    sequence_counts: &[u32],
    max_tokens: u32,
) -> minions::Result<Vec<EngineRun>> {
    let planner = fixed_planner().await?;
    let context = 2048;
    let mut runs = Vec::new();
    for &sequences in sequence_counts {
        let options = || {
            RunOptions::default()
                .local_concurrency(sequences)
                .local_max_tokens(max_tokens)
        };
        let settings = LlamaSettings {
            threads,
            context_per_sequence: context,
            sequences,
            batch: 512,
            gpu_layers: 0,
        };
        let embedded = Arc::new(EmbeddedModel::new(gguf, settings)?);
        let began = Instant::now();
        embedded.probe().await?;
        let load = began.elapsed();
        let local: Arc<dyn ChatModel> = embedded.clone();
        let transcript = fixed_round(
            planner.remote.clone(),
            local,
            &format!("Embedded{sequences}"),
            6,
            options(),
        )
        .await?;
        runs.push(EngineRun::of(
            "embedded",
            sequences,
            &transcript.result,
            load,
            peak_rss(),
        ));
        tracing::info!(
            sequences,
            peak = embedded.peak_batched_sequences(),
            "embedded round done"
        );
        drop(embedded);

        let Some(binary) = server_binary else {
            continue;
        };
        let (server, url, load) = start_server(binary, gguf, threads, sequences, context).await?;
        let spec = ModelSpec::new("llamacpp", "model");
        let local = minions::chat_model(
            &spec,
            &ModelSettings::default().base_url(format!("{url}/v1")),
        )?;
        let transcript = fixed_round(
            planner.remote.clone(),
            local,
            &format!("Server{sequences}"),
            6,
            options(),
        )
        .await?;
        runs.push(EngineRun::of(
            "llama-server",
            sequences,
            &transcript.result,
            load,
            peak_rss_of(&server.0.id().to_string()),
        ));
    }
    Ok(runs)
}

/// The runs as a markdown table.
pub fn markdown(runs: &[EngineRun]) -> String {
    let mut out = String::from(
        "| engine | sequences | jobs | local wall | jobs/min | tokens/s (prompt + answer) | answer tokens/s | load | peak memory |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for run in runs {
        let seconds = run.local_wall.as_secs_f64().max(1e-9);
        out.push_str(&format!(
            "| {} | {} | {} | {:.1} s | {:.1} | {:.0} | {:.1} | {:.2} s | {:.0} MB |\n",
            run.engine,
            run.sequences,
            run.jobs,
            seconds,
            run.jobs as f64 * 60.0 / seconds,
            (run.prompt_tokens + run.completion_tokens) as f64 / seconds,
            run.completion_tokens as f64 / seconds,
            run.load.as_secs_f64(),
            run.peak_rss as f64 / 1e6
        ));
    }
    out
}
