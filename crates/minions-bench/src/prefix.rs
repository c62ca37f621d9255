//! What a prompt cache saves: one Minions round against a real llama.cpp
//! server, with the jobs that read one chunk run one after another on one
//! lane (`chunk_affinity`, the default) and interleaved with other chunks'
//! jobs (the order before it). A recording proxy between us and the
//! server keeps llama.cpp's own `timings` of every job: `prompt_n` is what
//! it had to read, `cache_n` what its cache already held.

use std::sync::Arc;
use std::time::Duration;

use minions::{
    ChatModel, ContextDocument, ModelSettings, ModelSpec, ProtocolKind, RunModels, RunOptions,
};
use minions_testkit::{RecordingProxy, Reply};
use serde_json::json;

use crate::scripted;

/// One measured round.
#[derive(Debug, Clone, PartialEq)]
pub struct PrefixRun {
    /// Whether the jobs of one chunk ran on one lane.
    pub chunk_affinity: bool,
    /// Jobs run.
    pub jobs: usize,
    /// Wall time of the local phase.
    pub local_wall: Duration,
    /// Prompt tokens the server read (its `timings.prompt_n`, summed).
    pub prompt_n: u64,
    /// Prompt tokens its cache already held (`timings.cache_n`, summed).
    pub cache_n: u64,
    /// Time the server spent reading prompts (`timings.prompt_ms`, summed).
    pub prompt_ms: f64,
}

impl PrefixRun {
    /// Jobs per minute of local wall time.
    pub fn jobs_per_minute(&self) -> f64 {
        self.jobs as f64 * 60.0 / self.local_wall.as_secs_f64().max(1e-9)
    }
}

/// The tasks of the round: every chunk is read by each of them.
const TASKS: [(&str, &str); 3] = [
    ("dose", "Find any medication dose."),
    ("date", "Find the date of the visit."),
    ("risk", "Find any risk the doctor names."),
];

/// A document of `chunks` chunks of about 1,200 characters, different for
/// each `tag` so that one run never finds another's chunks in the cache.
fn document(tag: &str, chunks: usize) -> String {
    (0..chunks)
        .map(|c| {
            (0..6)
                .map(|p| format!("{tag} visit {c}.{p}: the patient reported mild fatigue, blood pressure was stable, and the plan was to continue the current diet and walking routine for another month."))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// A scripted remote that plans every round as [`TASKS`] over all chunks
/// and then concludes, so that rounds against real local models differ
/// only in what is measured.
pub(crate) async fn fixed_planner() -> minions::Result<scripted::Scripted> {
    let stand_ins = scripted::start().await?;
    let tasks: Vec<_> = TASKS
        .iter()
        .map(|(id, instruction)| json!({"id": id, "instruction": instruction}))
        .collect();
    stand_ins.remote_server.respond_with(move |request| {
        if request.last_user_message().contains("Plan this round's work") {
            Reply::json(&json!({"tasks": tasks, "chunking": {"unit": "paragraphs", "size": 1500, "overlap": 0}, "select": "all"}))
        } else {
            Reply::json(&json!({"reasoning": "r", "decision": "final", "answer": "done"}))
        }
    });
    Ok(stand_ins)
}

/// One Minions round of [`TASKS`] over a `chunks`-chunk document tagged
/// `tag`, with `local` reading.
pub(crate) async fn fixed_round(
    remote: Arc<dyn ChatModel>,
    local: Arc<dyn ChatModel>,
    tag: &str,
    chunks: usize,
    options: RunOptions,
) -> minions::Result<minions::Transcript> {
    let context = [ContextDocument::new(
        format!("{tag}.txt"),
        document(tag, chunks),
    )];
    let spec = options
        .protocol(ProtocolKind::Minions)
        .max_rounds(1)
        .max_cost_ratio(0.0)
        .build()
        .map_err(|e| minions::Error::config(e.to_string()))?;
    minions::run(
        &RunModels::new(remote, local),
        "What happened at the visits?",
        &context,
        &spec,
        None,
    )
    .await
    .map_err(|e| minions::Error::config(e.to_string()))
}

/// Runs the round with and without chunk affinity against the llama.cpp
/// server at `upstream` (its root, `http://127.0.0.1:PORT`), serving
/// `model`.
pub async fn run_prefix(
    upstream: &str,
    model: &str,
    chunks: usize,
    concurrency: usize,
    max_tokens: u32,
) -> minions::Result<Vec<PrefixRun>> {
    let proxy = RecordingProxy::start(upstream).await;
    let spec = ModelSpec::new("llamacpp", model);
    let settings = ModelSettings::default().base_url(format!("{}/v1", proxy.url()));
    let local: Arc<dyn ChatModel> = minions::chat_model(&spec, &settings)?;
    let stand_ins = fixed_planner().await?;
    let mut runs = Vec::new();
    // Interleaved first: a cache warmed by the affinity run cannot help it.
    for (tag, affinity) in [("Alpha", false), ("Beta", true)] {
        let options = RunOptions {
            chunk_affinity: Some(affinity),
            ..RunOptions::default()
        }
        .local_concurrency(concurrency as u32)
        .local_max_tokens(max_tokens);
        let before = proxy.exchanges().len();
        let transcript = fixed_round(
            stand_ins.remote.clone(),
            local.clone(),
            tag,
            chunks,
            options,
        )
        .await?;
        let (mut prompt_n, mut cache_n, mut prompt_ms) = (0, 0, 0.0);
        for exchange in proxy
            .exchanges()
            .iter()
            .skip(before)
            .filter(|e| e.is_chat())
        {
            let timings = exchange
                .response_json()
                .and_then(|body| body.get("timings").cloned())
                .unwrap_or_default();
            prompt_n += timings["prompt_n"].as_u64().unwrap_or(0);
            cache_n += timings["cache_n"].as_u64().unwrap_or(0);
            prompt_ms += timings["prompt_ms"].as_f64().unwrap_or(0.0);
        }
        runs.push(PrefixRun {
            chunk_affinity: affinity,
            jobs: transcript.result.jobs.total,
            local_wall: transcript.result.timing.local,
            prompt_n,
            cache_n,
            prompt_ms,
        });
    }
    Ok(runs)
}

/// The runs as a markdown table.
pub fn markdown(runs: &[PrefixRun]) -> String {
    let mut out = String::from(
        "| jobs of one chunk | jobs | local wall | jobs/min | prompt tokens read (`prompt_n`) | from cache (`cache_n`) | prompt time |\n|---|---|---|---|---|---|---|\n",
    );
    for run in runs {
        out.push_str(&format!(
            "| {} | {} | {:.1} s | {:.1} | {} | {} | {:.1} s |\n",
            if run.chunk_affinity {
                "one lane (affinity)"
            } else {
                "interleaved"
            },
            run.jobs,
            run.local_wall.as_secs_f64(),
            run.jobs_per_minute(),
            run.prompt_n,
            run.cache_n,
            run.prompt_ms / 1000.0
        ));
    }
    out
}
