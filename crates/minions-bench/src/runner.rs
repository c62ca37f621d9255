//! Running every protocol over every item, with results appended as they
//! arrive so that an interrupted run resumes where it stopped.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::StreamExt;
use minions::protocol::{RemoteOnlyEstimate, StopReason};
use minions::tokens::{Encoding, count_tokens};
use minions::{
    ChatModel, ChatRequest, Engine, Message, Pricing, ProtocolKind, RunModels, RunOptions, Usage,
};
use serde::{Deserialize, Serialize};

use crate::score::is_correct;
use crate::{Item, Scoring};

/// What the bench compares: the two baselines, and every protocol of
/// [`ProtocolKind`] (a new protocol shows up here without an edit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// The remote model reads the whole context.
    RemoteOnly,
    /// The local model alone reads the whole context.
    LocalOnly,
    /// One of our protocols.
    Run(ProtocolKind),
}

impl Protocol {
    /// Minion.
    pub const MINION: Protocol = Protocol::Run(ProtocolKind::Minion);
    /// Minions.
    pub const MINIONS: Protocol = Protocol::Run(ProtocolKind::Minions);

    /// Every protocol, in report order.
    pub fn all() -> Vec<Protocol> {
        let mut all = vec![Protocol::RemoteOnly, Protocol::LocalOnly];
        all.extend(ProtocolKind::ALL.map(Protocol::Run));
        all
    }

    /// The name used in flags and files.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::RemoteOnly => "remote-only",
            Protocol::LocalOnly => "local-only",
            Protocol::Run(kind) => kind.as_str(),
        }
    }

    /// Parses a name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::all().into_iter().find(|p| p.name() == name.trim())
    }
}

impl Serialize for Protocol {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Protocol {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Protocol::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown protocol `{name}`")))
    }
}

/// One protocol on one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The item.
    pub item: String,
    /// Its kind.
    pub kind: String,
    /// The protocol.
    pub protocol: Protocol,
    /// What it answered.
    pub answer: String,
    /// Whether that was right.
    pub correct: bool,
    /// Why it was not run, if it was not.
    pub skipped: Option<String>,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// Remote tokens.
    pub remote_usage: Usage,
    /// Local tokens.
    pub local_usage: Usage,
    /// Remote dollars.
    pub remote_cost_usd: f64,
    /// What a remote-only call on this item costs (for the savings column).
    pub remote_only_cost_usd: f64,
    /// Wall time in seconds.
    pub latency_s: f64,
    /// Whether scripted stand-ins answered.
    pub scripted: bool,
    /// The run ended without an answer it stands by: it failed, a budget
    /// stopped it, the remote model's replies were unusable and a fallback
    /// filled in, or the answer is empty. Such an answer is never counted
    /// as a real one, even when the scorer would accept it.
    #[serde(default)]
    pub no_answer: bool,
    /// How the run ended (the protocols' stop reason, `answered` for the
    /// baselines), for reading results.
    #[serde(default)]
    pub stop: String,
    /// The documents the item asks about (names), so results over the same
    /// documents can be grouped (prompt caching).
    #[serde(default)]
    pub document: String,
    /// Remote-only: what the call costs when the document's prefix is read
    /// from the provider's prompt cache (a second question on the same
    /// document).
    #[serde(default)]
    pub cached_cost_usd: Option<f64>,
}

/// The models of a run.
#[derive(Clone)]
pub struct Models {
    /// The local model.
    pub local: Arc<dyn ChatModel>,
    /// The remote model.
    pub remote: Arc<dyn ChatModel>,
    /// An LLM judge, for answers the rules cannot score.
    pub judge: Option<Arc<dyn ChatModel>>,
    /// Whether these are scripted stand-ins.
    pub scripted: bool,
}

/// What to run.
#[derive(Clone)]
pub struct QualityRun {
    /// The items.
    pub items: Vec<Item>,
    /// The protocols.
    pub protocols: Vec<Protocol>,
    /// The models.
    pub models: Models,
    /// Items run at once.
    pub concurrency: usize,
    /// Stop starting remote work once this much was spent in this run.
    pub budget_usd: Option<f64>,
    /// Where results are appended.
    pub results: PathBuf,
    /// Where each Minion and Minions run's transcript is written (every
    /// event: plans, job findings, decisions), as `ITEM.PROTOCOL.json`;
    /// none when unset. What the results' one-line answers cannot show:
    /// why a protocol answered what it did.
    pub transcripts: Option<PathBuf>,
    /// Prices.
    pub pricing: Pricing,
    /// Rounds for Minion and Minions.
    pub max_rounds: u32,
    /// Further run options for the protocols (local and remote limits, job
    /// caps, ...); `max_rounds` and the budget above are laid over them.
    pub options: RunOptions,
}

const SYSTEM: &str = "Answer the question using only the document. Be brief. If the document does not say, answer that it is not in the document.";

fn joined(item: &Item) -> String {
    item.context
        .iter()
        .map(|d| format!("### {}\n\n{}", d.name, d.text))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The documents an item asks about, as one key.
pub fn document_key(item: &Item) -> String {
    item.context
        .iter()
        .map(|d| d.name.as_str())
        .collect::<Vec<_>>()
        .join(" + ")
}

/// Results already in the file: the (item, protocol) pairs done.
pub fn load_records(path: &Path) -> Vec<Record> {
    std::fs::read_to_string(path)
        .map(|text| {
            text.lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect()
        })
        .unwrap_or_default()
}

struct Shared {
    file: Mutex<std::fs::File>,
    spent: Mutex<f64>,
}

impl Shared {
    fn append(&self, record: &Record) -> std::io::Result<()> {
        let mut line = serde_json::to_string(record).map_err(std::io::Error::other)?;
        line.push('\n');
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.write_all(line.as_bytes())?;
        file.flush()
    }

    fn spent(&self) -> f64 {
        *self.spent.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn spend(&self, usd: f64) {
        *self.spent.lock().unwrap_or_else(|p| p.into_inner()) += usd;
    }
}

/// Runs what is not in the results file yet; returns every record (old and
/// new) and whether the budget stopped the run.
pub async fn run_quality(
    run: &QualityRun,
    progress: Option<&indicatif::ProgressBar>,
) -> std::io::Result<(Vec<Record>, bool)> {
    if let Some(parent) = run.results.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut records = load_records(&run.results);
    let done: HashSet<(String, Protocol)> = records
        .iter()
        .map(|r| (r.item.clone(), r.protocol))
        .collect();
    let shared = Arc::new(Shared {
        file: Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&run.results)?,
        ),
        spent: Mutex::new(0.0),
    });
    // Questions about the same documents run one protocol after another,
    // each protocol over all of them before the next, so that a server's
    // prompt cache still holds the documents when the next question comes
    // (remote-only's second question reads them from cache, as it would at
    // a provider), and every document finishes before the next begins.
    let mut documents: Vec<String> = Vec::new();
    for item in &run.items {
        let key = document_key(item);
        if !documents.contains(&key) {
            documents.push(key);
        }
    }
    let mut work = Vec::new();
    for key in &documents {
        for protocol in &run.protocols {
            for item in run.items.iter().filter(|i| document_key(i) == *key) {
                if !done.contains(&(item.id.clone(), *protocol)) {
                    work.push((item.clone(), *protocol));
                }
            }
        }
    }
    if let Some(bar) = progress {
        bar.set_length(work.len() as u64);
    }
    let budget_hit = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut stream = futures::stream::iter(work)
        .map(|(item, protocol)| {
            let shared = shared.clone();
            let budget_hit = budget_hit.clone();
            async move {
                if let Some(budget) = run.budget_usd
                    && shared.spent() >= budget
                {
                    budget_hit.store(true, std::sync::atomic::Ordering::Relaxed);
                    return None;
                }
                let record = run_one(
                    run,
                    &item,
                    protocol,
                    run.budget_usd.map(|b| (b - shared.spent()).max(0.0)),
                )
                .await;
                shared.spend(record.remote_cost_usd);
                Some(record)
            }
        })
        .buffer_unordered(run.concurrency.max(1));
    while let Some(outcome) = stream.next().await {
        if let Some(bar) = progress {
            bar.inc(1);
        }
        if let Some(record) = outcome {
            // A record stopped by the budget is not final: a later run redoes it.
            if record
                .skipped
                .as_deref()
                .is_some_and(|s| s.starts_with("budget"))
            {
                budget_hit.store(true, std::sync::atomic::Ordering::Relaxed);
            } else {
                shared.append(&record)?;
            }
            records.push(record);
        }
    }
    Ok((
        records,
        budget_hit.load(std::sync::atomic::Ordering::Relaxed),
    ))
}

async fn judge(judge: &dyn ChatModel, item: &Item, answer: &str) -> bool {
    let prompt = format!(
        "Question: {}\nReference answer(s): {}\nCandidate answer: {answer}\n\nIs the candidate answer correct? Reply with JSON {{\"correct\": true}} or {{\"correct\": false}}.",
        item.question,
        item.gold.join(" | ")
    );
    let request = ChatRequest::new(vec![Message::user(prompt)])
        .with_temperature(0.0)
        .with_max_tokens(50);
    match judge.chat(&request).await {
        Ok(response) => minions::json::extract_json(&response.content)
            .ok()
            .and_then(|v| v.get("correct").and_then(serde_json::Value::as_bool))
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// Remote dollars with every prompt token priced at the full rate. A local
/// server standing in for the remote (llama.cpp) caches any prefix it has
/// seen and says so, where a provider caches only long prefixes (OpenAI:
/// 1,024 tokens and more) or marked ones: pricing its cache hits would
/// flatter every row. Remote-only's cached price is its own column.
fn cold_cost(run: &QualityRun, usage: &Usage) -> f64 {
    let mut cold = *usage;
    cold.cached_prompt_tokens = 0;
    run.pricing.cost(run.models.remote.id(), &cold).total_usd()
}

/// Runs one protocol on one item.
pub async fn run_one(
    run: &QualityRun,
    item: &Item,
    protocol: Protocol,
    budget_left: Option<f64>,
) -> Record {
    let models = &run.models;
    let context = joined(item);
    let estimate = RemoteOnlyEstimate::estimate(
        &run.pricing,
        models.remote.id(),
        &context,
        &item.question,
        "a short answer",
    );
    let mut record = Record {
        item: item.id.clone(),
        kind: item.kind.clone(),
        protocol,
        answer: String::new(),
        correct: false,
        skipped: None,
        error: None,
        remote_usage: Usage::default(),
        local_usage: Usage::default(),
        remote_cost_usd: 0.0,
        remote_only_cost_usd: estimate.cost_usd,
        latency_s: 0.0,
        scripted: models.scripted,
        no_answer: false,
        stop: "answered".into(),
        document: document_key(item),
        cached_cost_usd: None,
    };
    let began = Instant::now();
    let ran = match protocol {
        Protocol::RemoteOnly | Protocol::LocalOnly => {
            ask_whole(run, item, protocol, &context, budget_left, &mut record).await
        }
        Protocol::Run(kind) => run_protocol(run, item, kind, budget_left, &mut record).await,
    };
    if !ran {
        return record;
    }
    record.latency_s = began.elapsed().as_secs_f64();
    record.no_answer |= record.answer.trim().is_empty() || record.error.is_some();
    if record.error.is_none() && record.skipped.is_none() && !record.no_answer {
        record.correct = is_correct(&record.answer, &item.gold, &item.scoring);
        if !record.correct
            && matches!(item.scoring, Scoring::Text)
            && let Some(judge_model) = &models.judge
        {
            record.correct = judge(judge_model.as_ref(), item, &record.answer).await;
        }
    }
    record
}

/// Asks the remote or the local model the question over the whole
/// context, into `record`. False when it was not asked (the context does
/// not fit the remote window, or the call would cross the budget).
async fn ask_whole(
    run: &QualityRun,
    item: &Item,
    protocol: Protocol,
    context: &str,
    budget_left: Option<f64>,
    record: &mut Record,
) -> bool {
    let models = &run.models;
    let model = if protocol == Protocol::RemoteOnly {
        &models.remote
    } else {
        &models.local
    };
    let window = model.capabilities().max_context_tokens.unwrap_or(128_000) as usize;
    let tokens = count_tokens(context, Encoding::O200kBase);
    if protocol == Protocol::RemoteOnly && tokens + 1024 > window {
        record.skipped = Some(format!(
            "the context has {tokens} tokens, more than the remote window of {window}"
        ));
        return false;
    }
    if protocol == Protocol::RemoteOnly
        && budget_left.is_some_and(|left| record.remote_only_cost_usd > left)
    {
        record.skipped = Some("budget: a remote-only call would cross the budget".into());
        return false;
    }
    let request = ChatRequest::new(vec![
        Message::system(SYSTEM),
        Message::user(format!(
            "Document:\n{context}\n\nQuestion: {}",
            item.question
        )),
    ])
    .with_temperature(0.0)
    .with_max_tokens(512);
    match model.chat(&request).await {
        Ok(response) => {
            record.answer = response.content;
            if protocol == Protocol::RemoteOnly {
                record.remote_usage = response.usage;
                record.remote_cost_usd = cold_cost(run, &response.usage);
                // Everything before the question is the same for
                // every question on these documents: a provider's
                // prompt cache serves it from the second one on.
                let question = count_tokens(&item.question, Encoding::O200kBase) as u64 + 16;
                let mut warm = response.usage;
                warm.cached_prompt_tokens = warm.prompt_tokens.saturating_sub(question);
                record.cached_cost_usd =
                    Some(run.pricing.cost(models.remote.id(), &warm).total_usd());
            } else {
                record.local_usage = response.usage;
            }
        }
        Err(error) => {
            record.stop = "failed".into();
            record.error = Some(error.to_string());
        }
    }
    true
}

/// Runs Minion or Minions on the item, into `record`: what it answered
/// and spent, however it ended. False when its options were refused.
async fn run_protocol(
    run: &QualityRun,
    item: &Item,
    kind: ProtocolKind,
    budget_left: Option<f64>,
    record: &mut Record,
) -> bool {
    let models = &run.models;
    let mut options = run
        .options
        .clone()
        .protocol(kind)
        .max_rounds(run.max_rounds);
    options.budget_usd = budget_left.filter(|left| *left > 0.0);
    // The bench measures what a run costs and whether it answers: a
    // cost cap that stops it early would hide both, and a CPU model
    // reading a long document may need more than the usual time.
    options.max_cost_ratio = options.max_cost_ratio.or(Some(0.0));
    options.local_timeout_secs = options.local_timeout_secs.or(Some(1800));
    let engine = Engine::new(
        RunModels::new(models.remote.clone(), models.local.clone()),
        run.pricing.clone(),
        options,
    );
    let spec = match engine.spec(RunOptions::default()) {
        Ok(spec) => spec,
        Err(error) => {
            record.error = Some(error.to_string());
            return false;
        }
    };
    let (transcript, error) = match engine.run(&item.question, &item.context, &spec, None).await {
        Ok(transcript) => (transcript, None),
        Err(failure) => (*failure.transcript, Some(failure.error.to_string())),
    };
    if let Some(directory) = &run.transcripts {
        // Item ids come from the dataset: only their plain characters make
        // the file name.
        let id: String = item
            .id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = directory.join(format!("{id}.{}.json", kind.as_str()));
        // The record is the result: a transcript that cannot be written
        // is logged, not a reason to lose the run.
        if let Err(e) =
            std::fs::create_dir_all(directory).and_then(|()| transcript.write_atomic(&path))
        {
            tracing::warn!(path = %path.display(), error = %e, "cannot write the transcript");
        }
    }
    let result = transcript.result;
    // A failed run still spent: its usage counts.
    record.answer = result.answer;
    record.remote_usage = result.remote_usage;
    record.local_usage = result.local_usage;
    record.remote_cost_usd = cold_cost(run, &result.remote_usage);
    record.error = error;
    record.no_answer = !matches!(
        result.stop,
        StopReason::Answered | StopReason::MaxRounds | StopReason::NotFound
    );
    record.stop = result.stop.kind().into();
    if let StopReason::Budget { reason } = result.stop {
        record.skipped = Some(format!("budget: {reason}"));
    }
    true
}
