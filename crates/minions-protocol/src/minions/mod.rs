//! Minions: the remote model plans small jobs, local models run them in
//! parallel over chunks, Rust aggregates, the remote model synthesizes.

mod aggregate;
mod execute;
mod plan;

use std::collections::HashMap;
use std::sync::Arc;

use minions_chunk::{Bm25Index, ChunkSpec, ChunkUnit, EmbeddingIndex, chunk};
use minions_core::{ChatModel, Message, ResponseFormat};
use serde::Deserialize;
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

pub use aggregate::{Findings, MergedAnswer, TaskFindings};
pub use plan::{Plan, PlanChunking, PlanTask, Selection};

use self::aggregate::{JobOutput, Outcome};
use self::execute::{Job, JobSettings, run_jobs};
use crate::events::Event;
use crate::ledger::{Halt, Ledger};
use crate::prompts::{self, PlanLimits};
use crate::result::{JobStats, Protocol, StopReason};
use crate::{ContextDocument, MinionsOptions, ProtocolError, Transcript};

/// A chunk of one document.
#[derive(Debug, Clone)]
struct ChunkRef {
    doc: usize,
    start: usize,
    end: usize,
    label: String,
}

/// The chunks of every document under one chunking, with retrieval indexes
/// built when first needed.
struct ChunkSet {
    chunks: Vec<ChunkRef>,
    bm25: Option<Bm25Index>,
    embeddings: Option<EmbeddingIndex>,
}

/// The documents and their chunkings so far.
struct Corpus<'a> {
    docs: &'a [ContextDocument],
    sets: HashMap<(ChunkUnit, usize, usize), ChunkSet>,
}

impl<'a> Corpus<'a> {
    fn text(&self, chunk: &ChunkRef) -> &'a str {
        self.docs[chunk.doc]
            .text
            .get(chunk.start..chunk.end)
            .unwrap_or_default()
    }

    fn set(&mut self, spec: ChunkSpec) -> Result<&mut ChunkSet, String> {
        let key = (spec.unit, spec.size, spec.overlap);
        if !self.sets.contains_key(&key) {
            let mut chunks = Vec::new();
            for (doc, document) in self.docs.iter().enumerate() {
                for c in chunk(&document.text, &spec).map_err(|e| e.to_string())? {
                    chunks.push(ChunkRef {
                        doc,
                        start: c.start,
                        end: c.end,
                        label: format!("{}#{}", document.name, c.index),
                    });
                }
            }
            self.sets.insert(
                key,
                ChunkSet {
                    chunks,
                    bm25: None,
                    embeddings: None,
                },
            );
        }
        self.sets
            .get_mut(&key)
            .ok_or_else(|| "internal error: chunk set vanished".to_string())
    }
}

#[derive(Debug, Deserialize)]
struct Synthesis {
    decision: String,
    #[serde(default)]
    answer: Option<String>,
    #[serde(default)]
    feedback: Option<String>,
    #[serde(default)]
    scratchpad: Option<String>,
}

fn chunk_bounds_ok(chunking: &PlanChunking, options: &MinionsOptions) -> Result<(), String> {
    let (min, max) = if chunking.unit == ChunkUnit::Tokens {
        (options.min_chunk_chars / 4, options.max_chunk_chars / 4)
    } else {
        (options.min_chunk_chars, options.max_chunk_chars)
    };
    if chunking.size < min || chunking.size > max {
        return Err(format!(
            "chunking size {} is outside {min} to {max} for unit {:?}",
            chunking.size, chunking.unit
        ));
    }
    if chunking.overlap > chunking.size / 2 {
        return Err(format!(
            "chunking overlap {} is more than half the size {}",
            chunking.overlap, chunking.size
        ));
    }
    Ok(())
}

/// Checks a plan and turns it into jobs, or says what is wrong with it.
async fn plan_jobs(
    plan: &Plan,
    corpus: &mut Corpus<'_>,
    answered: &HashMap<String, Vec<ChunkRef>>,
    options: &MinionsOptions,
) -> Result<(Vec<Job>, HashMap<String, ChunkRef>), String> {
    if plan.tasks.is_empty() {
        return Err("the plan has no tasks".into());
    }
    if plan.tasks.len() > options.num_tasks_per_round {
        return Err(format!(
            "the plan has {} tasks; at most {} per round",
            plan.tasks.len(),
            options.num_tasks_per_round
        ));
    }
    let mut seen = Vec::new();
    for task in &plan.tasks {
        if !plan::valid_id(&task.id) {
            return Err(format!(
                "task id {:?} must be 1 to 32 lowercase letters, digits, _ or -",
                task.id
            ));
        }
        if seen.contains(&&task.id) {
            return Err(format!("task id {:?} is used twice", task.id));
        }
        seen.push(&task.id);
        if task.instruction.trim().is_empty() {
            return Err(format!("task {:?} has no instruction", task.id));
        }
    }
    if plan.samples == 0 || plan.samples > options.max_samples {
        return Err(format!(
            "samples must be 1 to {}, not {}",
            options.max_samples, plan.samples
        ));
    }
    let (unit, size, overlap) = options.default_chunking;
    let chunking = plan.chunking.unwrap_or(PlanChunking {
        unit,
        size,
        overlap,
    });
    chunk_bounds_ok(&chunking, options)?;

    // Which chunks each task runs on.
    let mut selected: Vec<Vec<ChunkRef>> = Vec::new();
    match &plan.select {
        Selection::AnsweredBy(id) => {
            let Some(chunks) = answered.get(id) else {
                let known: Vec<&String> = answered.keys().collect();
                return Err(format!(
                    "answered_by {id:?} names no earlier task with answers (known: {known:?})"
                ));
            };
            selected = vec![chunks.clone(); plan.tasks.len()];
        }
        Selection::All => {
            let set = corpus.set(ChunkSpec::new(
                chunking.unit,
                chunking.size,
                chunking.overlap,
            ))?;
            selected = vec![set.chunks.clone(); plan.tasks.len()];
        }
        Selection::Bm25 { top_k } | Selection::Embedding { top_k } => {
            if *top_k == 0 {
                return Err("top_k must be at least 1".into());
            }
            let embed = matches!(plan.select, Selection::Embedding { .. });
            if embed && options.embedder.is_none() {
                return Err("embedding selection is not available in this run: use bm25".into());
            }
            let spec = ChunkSpec::new(chunking.unit, chunking.size, chunking.overlap);
            let docs = corpus.docs;
            let set = corpus.set(spec)?;
            let texts: Vec<&str> = set
                .chunks
                .iter()
                .map(|c| docs[c.doc].text.get(c.start..c.end).unwrap_or_default())
                .collect();
            for task in &plan.tasks {
                let hits = match (&options.embedder, embed) {
                    (Some(embedder), true) => {
                        if set.embeddings.is_none() {
                            set.embeddings = Some(
                                EmbeddingIndex::build(embedder.as_ref(), &texts)
                                    .await
                                    .map_err(|e| {
                                        format!("embedding the chunks failed ({e}): use bm25")
                                    })?,
                            );
                        }
                        let index = set.embeddings.as_ref().ok_or("no embedding index")?;
                        index
                            .search(embedder.as_ref(), task.retrieval_query(), *top_k)
                            .await
                            .map_err(|e| format!("embedding the query failed ({e}): use bm25"))?
                    }
                    _ => set
                        .bm25
                        .get_or_insert_with(|| Bm25Index::build(&texts))
                        .search(task.retrieval_query(), *top_k),
                };
                selected.push(hits.iter().map(|h| set.chunks[h.index].clone()).collect());
            }
        }
    }
    let total: usize = selected.iter().map(Vec::len).sum::<usize>() * plan.samples as usize;
    if total > options.max_jobs_per_round {
        return Err(format!(
            "the plan would run {total} jobs, more than the {} allowed per round: select fewer chunks (bm25 with a smaller top_k), use larger chunks, or fewer tasks or samples",
            options.max_jobs_per_round
        ));
    }
    let mut jobs = Vec::with_capacity(total);
    let mut refs = HashMap::new();
    for (task, chunks) in plan.tasks.iter().zip(selected) {
        let task = Arc::new(task.clone());
        for chunk in chunks {
            refs.entry(chunk.label.clone())
                .or_insert_with(|| chunk.clone());
            let text: Arc<str> = Arc::from(corpus.text(&chunk));
            for sample in 0..plan.samples {
                jobs.push(Job {
                    number: jobs.len(),
                    task: task.clone(),
                    chunk_label: chunk.label.clone(),
                    document: corpus.docs[chunk.doc].name.clone(),
                    text: text.clone(),
                    sample,
                });
            }
        }
    }
    Ok((jobs, refs))
}

/// Runs Minions over the documents: each round the remote model plans
/// tasks, local jobs run them over the selected chunks (at most
/// `local_concurrency` at once), the findings are aggregated in Rust, and
/// the remote model decides whether it can answer. The remote model never
/// receives the documents, only what the jobs found.
pub async fn run_minions(
    remote: &dyn ChatModel,
    local: &dyn ChatModel,
    task: &str,
    context: &[ContextDocument],
    options: &MinionsOptions,
    events: Option<UnboundedSender<Event>>,
) -> Result<Transcript, ProtocolError> {
    crate::cancellable(
        options.common.cancel.as_ref(),
        minions(remote, local, task, context, options, events),
    )
    .await
}

async fn minions(
    remote: &dyn ChatModel,
    local: &dyn ChatModel,
    task: &str,
    context: &[ContextDocument],
    options: &MinionsOptions,
    events: Option<UnboundedSender<Event>>,
) -> Result<Transcript, ProtocolError> {
    let common = &options.common;
    let max_rounds = common.max_rounds.max(1);
    let (mut ledger, metadata, joined) = Ledger::begin(
        Protocol::Minions,
        remote,
        local,
        task,
        context,
        common,
        events,
    )?;
    let mut corpus = Corpus {
        docs: context,
        sets: HashMap::new(),
    };
    let mut answered: HashMap<String, Vec<ChunkRef>> = HashMap::new();
    let mut stats = JobStats::default();
    let mut scratchpad = String::new();
    let mut feedback = String::new();
    let mut earlier_plans: Vec<String> = Vec::new();
    let (unit, size, overlap) = options.default_chunking;
    let default_chunks = corpus
        .set(ChunkSpec::new(unit, size, overlap))
        .map(|s| s.chunks.len())
        .unwrap_or(0);
    let plan_format = ResponseFormat::json_schema("plan", prompts::plan_schema());
    let synthesis_format = ResponseFormat::json_schema("synthesis", prompts::synthesis_schema());

    macro_rules! finish {
        ($answer:expr, $stop:expr, $rounds:expr) => {
            return Ok(ledger.finish(
                Protocol::Minions,
                task,
                &joined,
                $answer,
                $stop,
                $rounds,
                stats,
            ))
        };
    }

    for round in 1..=max_rounds {
        // Plan, sending invalid plans back with the reason.
        let mut answered_ids: Vec<String> = answered.keys().cloned().collect();
        answered_ids.sort();
        let limits = PlanLimits {
            max_tasks: options.num_tasks_per_round,
            max_jobs: options.max_jobs_per_round,
            chunk_chars: (options.min_chunk_chars, options.max_chunk_chars),
            default_chunking: (format!("{unit:?}").to_lowercase(), size, overlap),
            default_chunks,
            max_samples: options.max_samples,
            embeddings: options.embedder.is_some(),
            answered_ids,
        };
        let mut messages = vec![
            Message::system(prompts::MINIONS_PLAN_SYSTEM),
            Message::user(prompts::minions_plan(
                task,
                &metadata,
                round,
                max_rounds,
                &limits,
                &scratchpad,
                &feedback,
                &earlier_plans.join("\n"),
                &common.history.render(),
            )),
        ];
        let mut accepted = None;
        let mut last_reason = String::new();
        for _ in 0..=options.max_replans {
            let (plan, raw) = match ledger
                .remote_json::<Plan>(round, "plan", messages.clone(), plan_format.clone(), |_| {
                    Ok(())
                })
                .await
            {
                Ok(found) => found,
                Err(Halt::Budget(reason)) => {
                    finish!(String::new(), StopReason::Budget { reason }, round - 1)
                }
                Err(Halt::Failed(error)) => return Err(error),
            };
            let overhead_start = Instant::now();
            let built = plan_jobs(&plan, &mut corpus, &answered, options).await;
            tracing::debug!(
                elapsed_ms = overhead_start.elapsed().as_millis() as u64,
                "planned jobs"
            );
            match built {
                Ok((jobs, refs)) => {
                    accepted = Some((plan, jobs, refs));
                    break;
                }
                Err(reason) => {
                    ledger.log.emit(Event::PlanRejected {
                        round,
                        reason: reason.clone(),
                    });
                    messages.push(Message::assistant(raw));
                    messages.push(Message::user(format!(
                        "This plan cannot be run: {reason}\nSend a corrected plan as the same JSON object."
                    )));
                    last_reason = reason;
                }
            }
        }
        let Some((plan, jobs, labels)) = accepted else {
            return Err(ProtocolError::InvalidPlan {
                attempts: options.max_replans + 1,
                reason: last_reason,
            });
        };
        ledger.log.emit(Event::Plan {
            round,
            plan: plan.clone(),
            jobs: jobs.len(),
        });

        // Execute.
        let settings = JobSettings {
            temperature: common.local_temperature,
            max_tokens: common.local_max_tokens,
            round,
        };
        let began = Instant::now();
        let (outputs, usage, calls, unreachable) = run_jobs(
            local,
            jobs,
            options.local_concurrency,
            &settings,
            &ledger.log,
        )
        .await;
        ledger.local_time += began.elapsed();
        ledger.count_local(usage, calls);
        ledger.emit_usage();
        if let Some(error) = unreachable {
            return Err(ProtocolError::LocalUnreachable(error));
        }
        count_jobs(&mut stats, &outputs);
        for output in &outputs {
            if let (Outcome::Answer { .. }, Some(chunk)) =
                (&output.outcome, labels.get(&output.chunk))
            {
                let list = answered.entry(output.task.clone()).or_default();
                if !list.iter().any(|c| c.label == chunk.label) {
                    list.push(chunk.clone());
                }
            }
        }

        // Aggregate and synthesize.
        let findings = aggregate::aggregate(&plan.tasks, &outputs, options.findings_token_budget);
        ledger.log.emit(Event::RoundFinished {
            round,
            findings: findings.clone(),
        });
        let shared = ledger.redact(round, &aggregate::render(&findings));
        earlier_plans.push(summarise_round(round, &findings));
        let last = round == max_rounds;
        let messages = vec![
            Message::system(prompts::MINIONS_SYNTH_SYSTEM),
            Message::user(prompts::minions_synthesize(
                task,
                round,
                max_rounds,
                &shared,
                &scratchpad,
            )),
        ];
        let decided = ledger
            .remote_json::<Synthesis>(round, "synthesis", messages, synthesis_format.clone(), |s| {
                let has_answer = s.answer.as_deref().is_some_and(|a| !a.trim().is_empty());
                match s.decision.as_str() {
                    "final" if has_answer => Ok(()),
                    "final" => Err("`decision` is \"final\" but `answer` is empty".into()),
                    "continue" if last && !has_answer => {
                        Err("this is the last round: `decision` must be \"final\", with an `answer`".into())
                    }
                    "continue" => Ok(()),
                    other => Err(format!("`decision` must be \"final\" or \"continue\", not {other:?}")),
                }
            })
            .await;
        let synthesis = match decided {
            Ok((synthesis, _)) => synthesis,
            Err(Halt::Budget(reason)) => {
                finish!(String::new(), StopReason::Budget { reason }, round)
            }
            Err(Halt::Failed(error)) => return Err(error),
        };
        if synthesis.decision == "final" || last {
            // On the last round the answer was required, not chosen.
            let stop = if last {
                StopReason::MaxRounds
            } else {
                StopReason::Answered
            };
            finish!(synthesis.answer.unwrap_or_default(), stop, round);
        }
        if let Some(notes) = synthesis.scratchpad.filter(|s| !s.trim().is_empty()) {
            scratchpad = notes;
        }
        feedback = synthesis.feedback.unwrap_or_default();
    }
    Err(ProtocolError::RemoteOutput {
        step: "synthesis",
        attempts: 0,
        reason: "no final answer".into(),
    })
}

fn count_jobs(stats: &mut JobStats, outputs: &[JobOutput]) {
    for output in outputs {
        stats.total += 1;
        match output.outcome {
            Outcome::Answer { .. } => stats.answered += 1,
            Outcome::Nothing => stats.empty += 1,
            Outcome::Failed(_) => stats.failed += 1,
        }
    }
}

/// One line per round for the next plan: what each task found.
fn summarise_round(round: u32, findings: &Findings) -> String {
    let tasks: Vec<String> = findings
        .tasks
        .iter()
        .map(|t| {
            let answered: usize = t.answers.iter().map(|a| a.chunks.len()).sum();
            format!(
                "{} ({}: {answered} of {} chunks answered)",
                t.id, t.instruction, t.jobs
            )
        })
        .collect();
    format!("Round {round}: {}", tasks.join("; "))
}
