//! The bookkeeping every run shares: calls, usage, budget, time, events,
//! and the best answer so far. The ledger lives outside the protocol's
//! future, so a run that fails or is cancelled still reports what it spent.

use std::time::Duration;

use minions_core::json::{extract_json, salvage_truncated};
use minions_core::tokens::approx_tokens;
use minions_core::{ChatModel, ChatRequest, ChatResponse, Cost, Message, ResponseFormat, Usage};
use minions_tokens::{Encoding, count_tokens};
use tokio::time::Instant;

use crate::events::{Event, EventLog};
use crate::result::{JobStats, RemoteOnlyEstimate, RunResult, StopReason, Timing};
use crate::{ProtocolError, RunSpec, Transcript, privacy, prompts};

/// Why a remote step could not give what was asked.
#[derive(Debug)]
pub(crate) enum Halt {
    /// A budget cap would be crossed by the next remote call.
    Budget(String),
    /// The remote model's replies stayed unusable after the re-asks.
    Unusable(String),
    /// The run failed.
    Failed(ProtocolError),
}

/// How a protocol ended, for [`Ledger::finish`].
pub(crate) struct Outcome {
    pub answer: String,
    pub stop: StopReason,
    pub rounds: u32,
}

impl Outcome {
    /// The remote model's final answer in `round`: on the last round it was
    /// required, not chosen.
    pub(crate) fn answered(answer: String, round: u32, last: bool) -> Self {
        let stop = if last {
            StopReason::MaxRounds
        } else {
            StopReason::Answered
        };
        Self {
            answer,
            stop,
            rounds: round,
        }
    }
}

/// Output tokens assumed for a typical remote reply (not its `max_tokens`
/// ceiling): for the next call when checking the cost cap, and for the
/// answer of the remote-only estimate, which the cap and the run's summary
/// share, so that a run shows one remote-only figure.
const EXPECTED_REPLY_TOKENS: u64 = 300;

/// The cost cap never allows less than this many prompt tokens' worth (and
/// a typical reply): a protocol's own prompts cost about this much for a
/// round or two, so over a short document (under about 30,000 characters)
/// a cap of "what reading it whole would cost" would refuse every question.
/// What a run may spend stays bounded, and small.
pub(crate) const COST_CAP_FLOOR_TOKENS: u64 = 8_000;

/// The running totals of one run.
pub(crate) struct Ledger<'a> {
    pub(crate) remote: &'a dyn ChatModel,
    pub(crate) local: &'a dyn ChatModel,
    pub(crate) spec: &'a RunSpec,
    pub(crate) task: &'a str,
    pub(crate) log: EventLog,
    pub(crate) remote_usage: Usage,
    pub(crate) local_usage: Usage,
    pub(crate) remote_calls: u32,
    pub(crate) local_calls: u32,
    pub(crate) remote_time: Duration,
    pub(crate) local_time: Duration,
    /// When the local or remote call in flight began: a run cancelled (or
    /// failed) while it waits still counts that wait on its side.
    local_since: Option<Instant>,
    remote_since: Option<Instant>,
    pub(crate) redactions: Vec<(String, usize)>,
    pub(crate) jobs: JobStats,
    /// Remote replies that had to be asked for again.
    pub(crate) reasks: u32,
    /// The local side's context window per request, when its server says.
    pub(crate) local_context_tokens: Option<u32>,
    /// The remote model's latest usable answer, even a provisional one.
    pub(crate) best_answer: Option<String>,
    /// What the local side found so far, as an answer of last resort.
    pub(crate) findings_answer: Option<String>,
    /// The documents' index for the verbatim bound (none when it is off).
    pub(crate) verbatim: Option<crate::verbatim::VerbatimGuard>,
    remote_only_prompt_tokens: u64,
    rounds: u32,
    started: Instant,
}

impl<'a> Ledger<'a> {
    /// Opens the books and announces the run. `context_tokens` (the
    /// documents, counted once by the caller) feeds the remote-only estimate
    /// and the cost cap.
    pub(crate) fn open(
        models: (&'a dyn ChatModel, &'a dyn ChatModel),
        spec: &'a RunSpec,
        task: &'a str,
        context_tokens: usize,
        documents: Vec<crate::DocumentMetadata>,
        log: EventLog,
    ) -> Self {
        let (remote, local) = models;
        let encoding = Encoding::for_model(&remote.id().model);
        let remote_only_prompt_tokens =
            RemoteOnlyEstimate::prompt_tokens(context_tokens, count_tokens(task, encoding));
        log.emit(Event::RunStarted {
            protocol: spec.protocol.as_str().into(),
            task: task.to_string(),
            documents,
            remote: remote.id().to_string(),
            local: local.id().to_string(),
        });
        Self {
            remote,
            local,
            spec,
            task,
            log,
            remote_usage: Usage::default(),
            local_usage: Usage::default(),
            remote_calls: 0,
            local_calls: 0,
            remote_time: Duration::ZERO,
            local_time: Duration::ZERO,
            local_since: None,
            remote_since: None,
            redactions: Vec::new(),
            jobs: JobStats::default(),
            reasks: 0,
            local_context_tokens: None,
            best_answer: None,
            findings_answer: None,
            verbatim: None,
            remote_only_prompt_tokens,
            rounds: 0,
            started: Instant::now(),
        }
    }

    pub(crate) fn remote_cost(&self) -> Cost {
        self.spec.pricing.cost(self.remote.id(), &self.remote_usage)
    }

    /// Notes that local work begins now; [`Self::local_ended`] counts it.
    pub(crate) fn local_began(&mut self) -> Instant {
        let now = Instant::now();
        self.local_since = Some(now);
        now
    }

    /// Counts the local work begun at `began` as local time.
    pub(crate) fn local_ended(&mut self, began: Instant) {
        self.local_since = None;
        self.local_time += began.elapsed();
    }

    /// Notes that round `round` has begun (for the books of a failed run).
    pub(crate) fn enter_round(&mut self, round: u32) {
        self.rounds = round;
    }

    /// Whether a remote call with these messages could cross a cap: the
    /// token and dollar budgets (counting the call's whole `max_tokens`), or
    /// the cost cap relative to the remote-only estimate (counting a typical
    /// reply).
    fn budget_check(&self, messages: &[Message]) -> Result<(), String> {
        let spec = self.spec;
        let prompt: u64 = messages
            .iter()
            .map(|m| approx_tokens(&m.content) as u64 + 4)
            .sum();
        let next = Usage::new(prompt, u64::from(spec.remote_max_tokens));
        if let Some(cap) = spec.budget_tokens {
            let projected = self.remote_usage.total_tokens() + next.total_tokens();
            if projected > cap {
                return Err(format!(
                    "the next remote call could bring remote tokens to {projected}, over the cap of {cap} (spent so far: {})",
                    self.remote_usage.total_tokens()
                ));
            }
        }
        let spent = self.remote_cost().total_usd();
        if let Some(cap) = spec.budget_usd {
            let projected = spent + spec.pricing.cost(self.remote.id(), &next).total_usd();
            if projected > cap {
                return Err(format!(
                    "the next remote call could bring remote cost to ${projected:.4}, over the cap of ${cap:.4} (spent so far: ${spent:.4})"
                ));
            }
        }
        if spec.max_cost_ratio > 0.0 {
            let estimate = self.remote_only(EXPECTED_REPLY_TOKENS).cost_usd;
            let floor = spec
                .pricing
                .cost(
                    self.remote.id(),
                    &Usage::new(COST_CAP_FLOOR_TOKENS, EXPECTED_REPLY_TOKENS),
                )
                .total_usd();
            let allowance = (estimate * spec.max_cost_ratio).max(floor);
            let typical = Usage::new(prompt, EXPECTED_REPLY_TOKENS);
            let projected = spent + spec.pricing.cost(self.remote.id(), &typical).total_usd();
            // Only a priced remote model has a bill to cap.
            if estimate > 0.0 && projected > allowance {
                return Err(format!(
                    "the next remote call would bring remote cost to ${projected:.4}, over the allowance of ${allowance:.4}: {:.2}x the remote-only estimate of ${estimate:.4}, and never less than {COST_CAP_FLOOR_TOKENS} prompt tokens' worth (max_cost_ratio; 0 turns this off)",
                    spec.max_cost_ratio
                ));
            }
        }
        Ok(())
    }

    /// One remote call: budget check, the call, usage, the event.
    pub(crate) async fn remote_call(
        &mut self,
        round: u32,
        step: &'static str,
        request: ChatRequest,
    ) -> Result<ChatResponse, Halt> {
        if let Err(reason) = self.budget_check(&request.messages) {
            return Err(Halt::Budget(reason));
        }
        let began = Instant::now();
        self.remote_since = Some(began);
        let response =
            crate::telemetry::chat(self.remote, crate::telemetry::Side::Remote, &request).await;
        self.remote_since = None;
        self.remote_time += began.elapsed();
        self.remote_calls += 1;
        let response = response.map_err(|e| Halt::Failed(ProtocolError::Remote(e)))?;
        self.remote_usage += response.usage;
        self.log.emit(Event::RemoteMessage {
            round,
            step: step.to_string(),
            content: response.content.clone(),
            usage: response.usage,
            seconds: began.elapsed().as_secs_f64(),
        });
        self.emit_usage();
        Ok(response)
    }

    /// A remote call whose reply must pass `read` (which parses and checks
    /// it). An unusable reply is sent back with the reason, up to
    /// `max_json_retries` times, and each retry differs from the last: the
    /// reason is in the conversation, the temperature is raised a little
    /// (a server at temperature 0 would repeat itself), and a reply cut off
    /// by the token limit gets twice the room once; each re-ask carries
    /// another sampling seed. Every attempt's usage counts.
    pub(crate) async fn remote_json<T>(
        &mut self,
        round: u32,
        step: &'static str,
        mut messages: Vec<Message>,
        format: ResponseFormat,
        mut read: impl FnMut(&serde_json::Value) -> Result<T, String>,
    ) -> Result<T, Halt> {
        let attempts = self.spec.limits.max_json_retries + 1;
        let mut max_tokens = self.spec.remote_max_tokens;
        let mut temperature = self.spec.remote_temperature;
        let mut widened = false;
        let mut last_reason = String::new();
        for attempt in 0..attempts {
            let mut request = ChatRequest::new(messages.clone())
                .with_temperature(temperature)
                .with_max_tokens(max_tokens)
                .with_response_format(format.clone());
            if attempt > 0 {
                // Another seed on each re-ask: llama.cpp repeated the same
                // reply three times over at a raised temperature without it.
                request = request.with_seed(u64::from(attempt));
            }
            let response = self.remote_call(round, step, request).await?;
            let salvaged = if response.is_truncated() {
                // What the model finished before the limit may be enough
                // (the decision and the answer come before long notes).
                salvage_truncated(&response.content).map(|v| read(&v))
            } else {
                None
            };
            if let Some(Ok(value)) = salvaged {
                tracing::info!(
                    step,
                    "used the complete part of a reply cut by the token limit"
                );
                return Ok(value);
            }
            let reason = if response.is_truncated() {
                let reason = format!(
                    "your reply was cut off at the limit of {max_tokens} tokens before the JSON was complete; keep every field short"
                );
                if !widened {
                    widened = true;
                    max_tokens = max_tokens.saturating_mul(2);
                }
                reason
            } else {
                match extract_json(&response.content)
                    .map_err(|e| e.reason)
                    .and_then(|v| read(&v))
                {
                    Ok(value) => return Ok(value),
                    Err(reason) => reason,
                }
            };
            tracing::info!(step, attempt, %reason, "remote reply not usable; asking again");
            self.reasks += u32::from(attempt + 1 < attempts);
            messages.push(Message::assistant(response.content));
            messages.push(Message::user(prompts::json_retry(&reason)));
            temperature = temperature.max(0.4);
            last_reason = reason;
        }
        Err(Halt::Unusable(format!(
            "the remote model's {step} was not usable after {attempts} attempts: {last_reason}"
        )))
    }

    /// Counts local calls made elsewhere.
    pub(crate) fn count_local(&mut self, usage: Usage, calls: u32) {
        self.local_usage += usage;
        self.local_calls += calls;
    }

    /// Makes local text fit to send to the remote model: long runs copied
    /// from the documents are elided (the verbatim bound), then personal
    /// data is redacted when the privacy filter is on or terms were given.
    /// What was removed is counted per kind and announced.
    pub(crate) fn redact(&mut self, round: u32, text: &str) -> String {
        let spec = self.spec;
        let mut counts = Vec::new();
        let mut clean = match &self.verbatim {
            Some(guard) => {
                let (bounded, elided) = guard.bound(text);
                if elided > 0 {
                    counts.push(("verbatim".to_string(), elided));
                }
                bounded
            }
            None => text.to_string(),
        };
        if spec.privacy || !spec.redact.is_empty() {
            let filter = privacy::Privacy {
                enabled: spec.privacy,
                terms: spec.redact.clone(),
            };
            let (redacted, found) = privacy::redact(&clean, &filter);
            clean = redacted;
            counts.extend(found);
        }
        if !counts.is_empty() {
            for (kind, n) in &counts {
                match self.redactions.iter_mut().find(|(k, _)| k == kind) {
                    Some((_, total)) => *total += n,
                    None => self.redactions.push((kind.clone(), *n)),
                }
            }
            self.log.emit(Event::Redacted { round, counts });
        }
        clean
    }

    pub(crate) fn emit_usage(&self) {
        self.log.emit(Event::Usage {
            remote: self.remote_usage,
            local: self.local_usage,
            remote_cost_usd: self.remote_cost().total_usd(),
        });
    }

    fn remote_only(&self, completion_tokens: u64) -> RemoteOnlyEstimate {
        RemoteOnlyEstimate::priced(
            &self.spec.pricing,
            self.remote.id(),
            self.remote_only_prompt_tokens,
            completion_tokens,
        )
    }

    /// The answer of a run that could not get a final one from the remote
    /// model: its latest usable answer, else what the local side found.
    pub(crate) fn best_effort_answer(&self) -> String {
        self.best_answer
            .clone()
            .or_else(|| self.findings_answer.clone())
            .unwrap_or_default()
    }

    /// Ends a stopped run with the best answer so far, saying how it was
    /// reached: a budget stop keeps the remote model's latest answer (else
    /// the findings); a remote model whose replies stayed unusable is not
    /// trusted for its provisional answers, so the findings come first.
    pub(crate) fn stopped(&self, halt: Halt, rounds: u32) -> Result<Outcome, ProtocolError> {
        let (stop, answer) = match halt {
            Halt::Failed(error) => return Err(error),
            Halt::Budget(reason) => (StopReason::Budget { reason }, self.best_effort_answer()),
            Halt::Unusable(reason) => (
                StopReason::Fallback { reason },
                self.findings_answer
                    .clone()
                    .or_else(|| self.best_answer.clone())
                    .unwrap_or_default(),
            ),
        };
        Ok(Outcome {
            answer,
            stop,
            rounds,
        })
    }

    /// Closes the books: the result and the transcript.
    pub(crate) fn finish(self, outcome: Outcome) -> Transcript {
        match &outcome.stop {
            StopReason::Budget { reason } => self.log.emit(Event::BudgetStop {
                reason: reason.clone(),
            }),
            StopReason::Fallback { reason } => self.log.emit(Event::Fallback {
                reason: reason.clone(),
            }),
            _ => {}
        }
        if !outcome.answer.is_empty() {
            self.log.emit(Event::Answer {
                answer: outcome.answer.clone(),
            });
        }
        let remote_only = self.remote_only(EXPECTED_REPLY_TOKENS);
        let remote_cost = self.remote_cost();
        let actual = remote_cost.total_usd();
        // A run that gave no answer saved nothing: a ratio would flatter it.
        let answered = outcome.stop.answers(&outcome.answer);
        let savings_ratio = (answered && actual > 0.0 && remote_only.cost_usd > 0.0)
            .then(|| remote_only.cost_usd / actual);
        let total = self.started.elapsed();
        let timing = Timing {
            total,
            remote: self.remote_time,
            local: self.local_time,
            overhead: total.saturating_sub(self.remote_time + self.local_time),
        };
        let result = RunResult {
            protocol: self.spec.protocol,
            answer: outcome.answer,
            stop: outcome.stop,
            rounds: outcome.rounds,
            remote_model: self.remote.id().to_string(),
            local_model: self.local.id().to_string(),
            remote_usage: self.remote_usage,
            local_usage: self.local_usage,
            remote_calls: self.remote_calls,
            local_calls: self.local_calls,
            remote_reasks: self.reasks,
            remote_cost,
            remote_only,
            savings_ratio,
            timing,
            jobs: self.jobs,
            redactions: self.redactions,
        };
        Transcript {
            version: 2,
            task: self.task.to_string(),
            result,
            events: self.log.events(),
        }
    }

    /// Closes the books of a run that failed or was cancelled: what it
    /// spent, and why it ended.
    pub(crate) fn fail(mut self, error: &ProtocolError) -> Transcript {
        // A call cut short by the cancel (or a failure elsewhere) was still
        // waited for: its time belongs to its side, not to "other".
        if let Some(began) = self.local_since.take() {
            self.local_time += began.elapsed();
        }
        if let Some(began) = self.remote_since.take() {
            self.remote_time += began.elapsed();
        }
        let stop = match error {
            ProtocolError::Cancelled => StopReason::Cancelled,
            other => StopReason::Failed {
                error: other.to_string(),
            },
        };
        self.log.emit(Event::Failed {
            error: error.to_string(),
        });
        let rounds = self.rounds;
        self.finish(Outcome {
            answer: String::new(),
            stop,
            rounds,
        })
    }
}
