//! Minions: the remote model plans small jobs, local models run them in
//! parallel over chunks, Rust aggregates, the remote model synthesizes.

mod aggregate;
mod execute;
mod select;

use std::collections::HashMap;

use minions_core::{Message, ResponseFormat};

pub use crate::findings::{Findings, MergedAnswer, TaskFindings};
pub use crate::plan::{Plan, PlanChunking, PlanTask, Selection};

use self::aggregate::{JobOutput, Outcome as JobOutcome};
use self::execute::{JobSettings, run_jobs};
use self::select::{ChunkRef, Corpus, PlanBounds, Selected};
use crate::events::Event;
use crate::final_answer::FinalAnswerCheck;
use crate::input::RunInput;
use crate::ledger::{Ledger, Outcome};
use crate::prompts::{self, PlanLimits};
use crate::replies::Synthesis;
use crate::result::{JobStats, StopReason};
use crate::{ProtocolError, Retrieval};

/// The chunks round 1 reads: the task as written runs on the few that
/// best match it, before the remote model plans anything (see
/// [`Rounds::opening`]). Four is as many answers as the synthesizer is
/// shown for one task ([`aggregate::ANSWERS_SHOWN_PER_TASK`]).
const OPENING_CHUNKS: usize = 4;

/// Tokens a job's prompt needs besides its chunk: the worker's
/// instructions, the task and its advice.
const JOB_PROMPT_TOKENS: usize = 400;

/// The largest chunk, in characters, that fits the local window with the
/// job's instructions and its reply (and a repair's doubled reply).
/// Characters per token are taken as three, which errs small.
fn chunk_chars_for_window(window: u32, reply_tokens: u32) -> usize {
    let free = (window as usize).saturating_sub(JOB_PROMPT_TOKENS + 2 * reply_tokens as usize);
    free * 3
}

/// Runs Minions over the documents: each round the remote model plans
/// tasks, local jobs run them over the selected chunks (at most
/// `local_concurrency` at once), the findings are aggregated in Rust, and
/// the remote model decides whether it can answer. The remote model never
/// receives the documents, only what the jobs found.
pub(crate) async fn run(
    ledger: &mut Ledger<'_>,
    input: &RunInput<'_>,
) -> Result<Outcome, ProtocolError> {
    let bounds = plan_bounds(ledger)?;
    let mut corpus = Corpus::new(input.documents, ledger.task);
    let default_chunks = corpus.count(bounds.default_chunking);
    let mut rounds = Rounds {
        input,
        bounds,
        corpus,
        default_chunks,
        answered: HashMap::new(),
        scratchpad: String::new(),
        feedback: String::new(),
        earlier_plans: Vec::new(),
        all_findings: Vec::new(),
        heard: String::new(),
        planner_failed: false,
        final_check: FinalAnswerCheck::new(&input.joined, ledger.task),
        not_said: None,
    };
    let max_rounds = ledger.spec.max_rounds.max(1);
    for round in 1..=max_rounds {
        ledger.enter_round(round);
        let (plan, notes, selected) = match rounds.plan(ledger, round).await? {
            Ok(planned) => planned,
            Err(stopped) => return Ok(stopped),
        };
        let chunking = plan.chunking.unwrap_or_default();
        let (read, parts) = (selected.chunks.len(), rounds.corpus.count(chunking));
        let (findings, notes) = rounds
            .execute(ledger, round, &plan, notes, selected)
            .await?;
        // Nothing found anywhere, and nowhere left to look: the answer is
        // that the documents do not say. A remote model asked to write it
        // tends to make something up instead, and it would cost a call.
        let worked = findings.tasks.iter().any(|t| t.jobs > t.failed);
        let nothing = rounds
            .all_findings
            .iter()
            .all(|f| f.tasks.iter().all(|t| t.answers.is_empty()));
        let jobs: usize = findings.tasks.iter().map(|t| t.jobs).sum();
        let not_said = (worked && nothing).then(|| not_said(jobs, read, parts));
        if let Some(answer) = not_said.clone()
            && (read >= parts || round == max_rounds)
        {
            return Ok(Outcome {
                answer,
                stop: StopReason::NotFound,
                rounds: round,
            });
        }
        // Asked anyway, a remote model whose every answer is refused (it
        // named what nobody found: "the email address ... in the file
        // named COPYING", run 30) leaves the run with the same answer.
        rounds.not_said = not_said;
        if let Some(outcome) = rounds.synthesize(ledger, round, &findings, &notes).await? {
            return Ok(outcome);
        }
    }
    ledger.stopped(
        crate::ledger::Halt::Unusable("no final answer after the last round".into()),
        max_rounds,
    )
}

/// What a plan may ask for in this run: the spec's limits, with chunks
/// capped by the local window.
fn plan_bounds(ledger: &Ledger<'_>) -> Result<PlanBounds, ProtocolError> {
    let spec = ledger.spec;
    let limits = &spec.limits;
    let mut max_chunk = limits.max_chunk_chars;
    if let Some(window) = ledger.local_context_tokens {
        max_chunk = max_chunk.min(chunk_chars_for_window(window, spec.local_max_tokens));
    }
    if max_chunk < limits.min_chunk_chars {
        return Err(ProtocolError::ContextTooLarge {
            model: ledger.local.id().to_string(),
            needed: JOB_PROMPT_TOKENS
                + 2 * spec.local_max_tokens as usize
                + limits.min_chunk_chars / 3,
            window: ledger.local_context_tokens.unwrap_or(0),
        });
    }
    let size = spec.chunk_size.min(max_chunk);
    Ok(PlanBounds {
        max_tasks: limits.num_tasks_per_round,
        max_jobs: spec.max_jobs_per_round,
        min_chunk: limits.min_chunk_chars,
        max_chunk,
        max_samples: limits.max_samples,
        default_chunking: PlanChunking {
            unit: limits.chunk_unit,
            size,
            overlap: limits.chunk_overlap.min(size / 2),
        },
    })
}

/// A plan ready to run: the plan, notes on what was fixed or narrowed,
/// and its jobs.
type Planned = (Plan, Vec<String>, Selected);

/// What carries over from one round to the next.
struct Rounds<'i, 'a> {
    input: &'i RunInput<'a>,
    bounds: PlanBounds,
    corpus: Corpus<'a>,
    default_chunks: usize,
    /// Chunks where each task id found verified answers (`answered_by`).
    answered: HashMap<String, Vec<ChunkRef>>,
    scratchpad: String,
    feedback: String,
    /// One line per earlier round, for the planner.
    earlier_plans: Vec<String>,
    all_findings: Vec<Findings>,
    /// Every finding the remote model was shown, without our counts (see
    /// [`aggregate::said`]), for checking that its final answer names
    /// nothing it was not told.
    heard: String,
    /// A planner whose replies stayed unusable is not asked again.
    planner_failed: bool,
    /// The rules a final answer must pass.
    final_check: FinalAnswerCheck,
    /// This round's answer when no job has found anything so far: that
    /// the documents do not say, and what was read.
    not_said: Option<String>,
}

impl Rounds<'_, '_> {
    /// The round's plan: asked for (and sent back while it cannot run), or
    /// the task itself when the planner cannot plan. `Err(outcome)` ends
    /// the run (a budget stop).
    /// What a plan may ask for this round, as the planner is told it.
    fn plan_limits(&self, spec: &crate::RunSpec) -> PlanLimits {
        let bounds = &self.bounds;
        let mut answered_ids: Vec<String> = self.answered.keys().cloned().collect();
        answered_ids.sort();
        let chunking = bounds.default_chunking;
        PlanLimits {
            max_tasks: bounds.max_tasks,
            max_jobs: bounds.max_jobs,
            chunk_chars: (bounds.min_chunk, bounds.max_chunk),
            default_chunking: (
                format!("{:?}", chunking.unit).to_lowercase(),
                chunking.size,
                chunking.overlap,
            ),
            default_chunks: self.default_chunks,
            max_samples: bounds.max_samples,
            embeddings: self.input.embedder.is_some() && spec.retrieval == Retrieval::Embedding,
            retrieval: spec.retrieval != Retrieval::None,
            answered_ids,
        }
    }

    /// Round 1's plan, made without the remote model: the task as the
    /// user wrote it, on the [`OPENING_CHUNKS`] chunks that best match it
    /// (every chunk when the run offers no retrieval). The 1.5B planner's
    /// instructions lost what the task named, as Minion's first questions
    /// did ("Who wrote the patch that added mousewheel scrolling" became
    /// "Find the patch that added ...", "For Python 2.7.18, which
    /// environments" lost the version), it chose every chunk for every
    /// question (13 to 52 jobs, each a chance of a wrong answer), and the
    /// plan call was a third of a run's remote tokens (run 22). The remote model
    /// plans from round 2 on, when these findings did not answer. `None`
    /// when no chunk can be selected; then the planner plans round 1.
    async fn opening(&mut self, task: &str, retrieval: Retrieval) -> Option<Planned> {
        let select = match retrieval {
            Retrieval::None => Selection::All,
            Retrieval::Embedding if self.input.embedder.is_some() => Selection::Embedding {
                top_k: OPENING_CHUNKS,
            },
            _ => Selection::Bm25 {
                top_k: OPENING_CHUNKS,
            },
        };
        // The default chunks (3,000 characters), not Minion's 1,200-character
        // passages: with those, the chunk that answers fell out of the best
        // four more often, and the GPL went from 4 of its first 6 right to
        // 2 (run 26).
        let plan = task_plan(task, &self.bounds, select);
        let selected = self
            .corpus
            .select(
                &plan,
                &self.answered,
                self.input.embedder,
                self.bounds.max_jobs,
            )
            .await
            .map_err(|reason| tracing::info!(%reason, "the opening plan cannot run; planning"))
            .ok()?;
        let parts = self.corpus.count(plan.chunking.unwrap_or_default());
        let note = match plan.select {
            Selection::All => format!("round 1 ran the task as written on all {parts} chunks"),
            _ => format!(
                "round 1 ran the task as written on the {} of {parts} chunks that best match it",
                selected.chunks.len()
            ),
        };
        Some((plan, vec![note], selected))
    }

    /// After a planner that could not plan: the task itself again, on
    /// the next best-matching chunks. `None` when none can be selected.
    async fn task_again(&mut self, task: &str) -> Option<Planned> {
        let bounds = &self.bounds;
        let fallback = task_plan(task, bounds, bm25_jobs(bounds));
        let selected = self
            .corpus
            .select(
                &fallback,
                &self.answered,
                self.input.embedder,
                bounds.max_jobs,
            )
            .await
            .ok()?;
        let note = "the task itself ran again on the next best-matching chunks".to_string();
        Some((fallback, vec![note], selected))
    }

    async fn plan(
        &mut self,
        ledger: &mut Ledger<'_>,
        round: u32,
    ) -> Result<Result<Planned, Outcome>, ProtocolError> {
        let spec = ledger.spec;
        let task = ledger.task;
        if round == 1
            && !spec.plan_first_round
            && let Some(opening) = self.opening(task, spec.retrieval).await
        {
            return Ok(Ok(opening));
        }
        if self.planner_failed
            && let Some(again) = self.task_again(task).await
        {
            return Ok(Ok(again));
        }
        let bounds = &self.bounds;
        let plan_limits = self.plan_limits(spec);
        let mut messages = vec![
            Message::system(prompts::MINIONS_PLAN_SYSTEM),
            Message::user(prompts::minions_plan(
                task,
                &self.input.metadata,
                round,
                spec.max_rounds.max(1),
                &plan_limits,
                &self.scratchpad,
                &self.feedback,
                &self.earlier_plans.join("\n"),
                &spec.history.render(),
            )),
        ];
        let plan_format = ResponseFormat::json_schema("plan", prompts::plan_schema(&plan_limits));
        let mut last_reason = String::new();
        for _ in 0..=spec.limits.max_replans {
            let planned = ledger
                .remote_json(
                    round,
                    "plan",
                    messages.clone(),
                    plan_format.clone(),
                    |value| read_plan(value, bounds, task),
                )
                .await;
            let (plan, notes) = match planned {
                Ok(found) => found,
                // A planner that cannot plan leaves the task itself to the
                // local models, over the chunks that best match it.
                Err(crate::ledger::Halt::Unusable(reason)) => {
                    tracing::info!(%reason, "no usable plan; running the task itself");
                    self.planner_failed = true;
                    let note = format!(
                        "no usable plan came back ({reason}), so the task itself ran on the best-matching chunks"
                    );
                    (task_plan(task, bounds, bm25_jobs(bounds)), vec![note])
                }
                Err(halt) => return ledger.stopped(halt, round - 1).map(Err),
            };
            let built = self
                .corpus
                .select(&plan, &self.answered, self.input.embedder, bounds.max_jobs)
                .await;
            match built {
                Ok(selected) => return Ok(Ok((plan, notes, selected))),
                Err(reason) => {
                    ledger.log.emit(Event::PlanRejected {
                        round,
                        reason: reason.clone(),
                    });
                    messages.push(Message::assistant(
                        serde_json::to_string(&plan).unwrap_or_default(),
                    ));
                    messages.push(Message::user(format!(
                        "This plan cannot be run: {reason}\nSend a corrected plan as the same JSON object."
                    )));
                    last_reason = reason;
                }
            }
        }
        ledger
            .stopped(
                crate::ledger::Halt::Unusable(format!(
                    "the remote model's plan was still invalid after {} attempts: {last_reason}",
                    spec.limits.max_replans + 1
                )),
                round - 1,
            )
            .map(Err)
    }

    /// Runs the round's jobs and aggregates what they found.
    async fn execute(
        &mut self,
        ledger: &mut Ledger<'_>,
        round: u32,
        plan: &Plan,
        mut notes: Vec<String>,
        selected: Selected,
    ) -> Result<(Findings, Vec<String>), ProtocolError> {
        let spec = ledger.spec;
        let Selected {
            jobs,
            chunks: labels,
            narrowed,
        } = selected;
        if let Some(narrowed) = narrowed {
            ledger.log.emit(Event::PlanNarrowed {
                round,
                reason: narrowed.clone(),
            });
            notes.push(narrowed);
        }
        ledger.log.emit(Event::Plan {
            round,
            plan: plan.clone(),
            jobs: jobs.len(),
        });
        let settings = JobSettings {
            temperature: spec.local_temperature,
            max_tokens: spec.local_max_tokens,
            round,
            timeout: spec.local_timeout,
            max_json_retries: spec.limits.max_json_retries,
        };
        let began = ledger.local_began();
        let ran = run_jobs(
            ledger.local,
            jobs,
            spec.local_concurrency,
            spec.chunk_affinity,
            &settings,
            &ledger.log,
        )
        .await;
        ledger.local_ended(began);
        ledger.count_local(ran.usage, ran.calls);
        count_jobs(&mut ledger.jobs, &ran.outputs);
        ledger.emit_usage();
        if let Some(error) = ran.stopped {
            return Err(error);
        }
        for output in &ran.outputs {
            if let (JobOutcome::Answer { verified: true, .. }, Some(chunk)) =
                (&output.outcome, labels.get(&output.chunk))
            {
                let list = self.answered.entry(output.task.clone()).or_default();
                if !list.iter().any(|c| c.label == chunk.label) {
                    list.push(chunk.clone());
                }
            }
        }
        let findings =
            aggregate::aggregate(&plan.tasks, &ran.outputs, spec.limits.findings_token_budget);
        ledger.log.emit(Event::RoundFinished {
            round,
            findings: findings.clone(),
        });
        self.all_findings.push(findings.clone());
        ledger.findings_answer =
            Some(ledger.redact(round, &aggregate::fallback_answer(&self.all_findings)));
        Ok((findings, notes))
    }

    /// Shows the findings to the remote model: its final answer ends the
    /// run; otherwise its notes and feedback carry over to the next round.
    async fn synthesize(
        &mut self,
        ledger: &mut Ledger<'_>,
        round: u32,
        findings: &Findings,
        notes: &[String],
    ) -> Result<Option<Outcome>, ProtocolError> {
        let max_rounds = ledger.spec.max_rounds.max(1);
        let mut shared = aggregate::render(findings);
        if !notes.is_empty() {
            shared.push_str(&format!(
                "Notes on this round's plan: {}.\n",
                notes.join("; ")
            ));
        }
        let shared = ledger.redact(round, &shared);
        self.earlier_plans
            .push(summarise_round(round, findings, notes));
        self.heard.push_str(&aggregate::said(findings));
        let sources = format!("{}\n{}\n{}", ledger.task, self.scratchpad, self.heard);
        let final_check = &self.final_check;
        let last = round == max_rounds;
        let messages = vec![
            Message::system(prompts::MINIONS_SYNTH_SYSTEM),
            Message::user(prompts::minions_synthesize(
                ledger.task,
                round,
                max_rounds,
                &shared,
                &self.scratchpad,
            )),
        ];
        let decided = ledger
            .remote_json(
                round,
                "synthesis",
                messages,
                ResponseFormat::json_schema("synthesis", Synthesis::schema(last)),
                |value| {
                    let synthesis = Synthesis::read(value, last)?;
                    if let Synthesis::Final { answer } = &synthesis {
                        final_check.check(answer, &sources)?;
                    }
                    Ok(synthesis)
                },
            )
            .await;
        match decided {
            Err(crate::ledger::Halt::Unusable(reason)) => {
                let not_found = |answer: String| {
                    Ok(Some(Outcome {
                        answer,
                        stop: StopReason::NotFound,
                        rounds: round,
                    }))
                };
                if let Some(form) =
                    aggregate::none_in_the_asked_form(&self.all_findings, ledger.task)
                {
                    tracing::info!(%reason, "no usable synthesis, and no finding has the asked form");
                    return not_found(format!(
                        "The documents do not say: no answer the local models found was {form}."
                    ));
                }
                if let Some(not_said) = self.not_said.take() {
                    tracing::info!(%reason, "no usable synthesis, and no job found anything");
                    return not_found(not_said);
                }
                ledger
                    .stopped(crate::ledger::Halt::Unusable(reason), round)
                    .map(Some)
            }
            Err(halt) => ledger.stopped(halt, round).map(Some),
            Ok(Synthesis::Final { answer }) => Ok(Some(Outcome::answered(answer, round, last))),
            Ok(Synthesis::Continue {
                provisional,
                feedback,
                scratchpad,
            }) => {
                if provisional.is_some() {
                    ledger.best_answer = provisional;
                }
                if let Some(notes) = scratchpad {
                    self.scratchpad = notes;
                }
                self.feedback = feedback;
                Ok(None)
            }
        }
    }
}

/// Reads a plan: the schema's shape, normalised, and no instruction copied
/// from our prompt.
fn read_plan(
    value: &serde_json::Value,
    bounds: &PlanBounds,
    task: &str,
) -> Result<(Plan, Vec<String>), String> {
    let plan: Plan = serde_json::from_value(value.clone())
        .map_err(|e| format!("the plan does not match the schema: {e}"))?;
    let (plan, notes) = select::normalise(plan, bounds, task)?;
    for planned in &plan.tasks {
        if prompts::copies_prompt(&planned.instruction) {
            return Err(format!(
                "task {:?}'s instruction repeats the instructions' own text; write the instruction for this task",
                planned.id
            ));
        }
    }
    Ok((plan, notes))
}

/// The most chunks the plan of last resort reads: as many as a round may
/// run, up to 16.
fn bm25_jobs(bounds: &PlanBounds) -> Selection {
    Selection::Bm25 {
        top_k: bounds.max_jobs.clamp(1, 16),
    }
}

/// A plan made without the remote model: the user's task as the one
/// instruction, on the chunks `select` picks (round 1, and the plan of last
/// resort when the planner cannot plan).
fn task_plan(task: &str, bounds: &PlanBounds, select: Selection) -> Plan {
    Plan {
        tasks: vec![PlanTask {
            id: "task".into(),
            instruction: task.to_string(),
            advice: String::new(),
            query: task.to_string(),
        }],
        chunking: Some(bounds.default_chunking),
        select,
        samples: 1,
    }
}

/// The answer of a run whose jobs found nothing: the documents do not
/// say, after `jobs` jobs read `read` of the documents' `parts`.
fn not_said(jobs: usize, read: usize, parts: usize) -> String {
    let what = if read >= parts {
        format!("every part of them ({parts} parts)")
    } else {
        format!("the {read} of {parts} parts that best match the question")
    };
    format!("The documents do not say: {jobs} local job(s) read {what} and none found it.")
}

fn count_jobs(stats: &mut JobStats, outputs: &[JobOutput]) {
    for output in outputs {
        stats.total += 1;
        match output.outcome {
            JobOutcome::Answer { verified: true, .. } => stats.answered += 1,
            JobOutcome::Answer {
                verified: false, ..
            } => stats.unverified += 1,
            JobOutcome::Nothing => stats.empty += 1,
            JobOutcome::Ungrounded(_) => stats.guesses += 1,
            JobOutcome::Failed(_) => stats.failed += 1,
        }
    }
}

/// One line per round for the next plan: what each task found.
fn summarise_round(round: u32, findings: &Findings, notes: &[String]) -> String {
    let tasks: Vec<String> = findings
        .tasks
        .iter()
        .map(|t| {
            let answered = t.chunks_answered(true);
            format!(
                "{} ({}: {answered} of {} chunks answered)",
                t.id, t.instruction, t.jobs
            )
        })
        .collect();
    let mut line = format!("Round {round}: {}", tasks.join("; "));
    if !notes.is_empty() {
        line.push_str(&format!(" [{}]", notes.join("; ")));
    }
    line
}
