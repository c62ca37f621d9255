//! The bookkeeping every run shares: calls, usage, budget, time, events.

use std::time::Duration;

use minions_core::json::extract_as;
use minions_core::tokens::approx_tokens;
use minions_core::{
    ChatModel, ChatRequest, ChatResponse, Cost, Message, ModelSpec, ResponseFormat, Usage,
};
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use crate::context::joined_context;
use crate::events::{Event, EventLog};
use crate::options::CommonOptions;
use crate::privacy;
use crate::result::{JobStats, Protocol, RemoteOnlyEstimate, RunResult, StopReason, Timing};
use crate::{ContextDocument, DocumentMetadata, ProtocolError, Transcript};
use tokio::sync::mpsc::UnboundedSender;

/// Why a step could not go on.
#[derive(Debug)]
pub(crate) enum Halt {
    /// A budget cap would be crossed by the next remote call.
    Budget(String),
    /// The run failed.
    Failed(ProtocolError),
}

impl From<ProtocolError> for Halt {
    fn from(error: ProtocolError) -> Self {
        Halt::Failed(error)
    }
}

/// The running totals of one run.
pub(crate) struct Ledger<'a> {
    pub(crate) remote: &'a dyn ChatModel,
    pub(crate) local: &'a dyn ChatModel,
    pub(crate) common: &'a CommonOptions,
    pub(crate) log: EventLog,
    pub(crate) remote_usage: Usage,
    pub(crate) local_usage: Usage,
    pub(crate) remote_calls: u32,
    pub(crate) local_calls: u32,
    pub(crate) remote_time: Duration,
    pub(crate) local_time: Duration,
    pub(crate) redactions: Vec<(String, usize)>,
    started: Instant,
}

impl<'a> Ledger<'a> {
    pub(crate) fn new(
        remote: &'a dyn ChatModel,
        local: &'a dyn ChatModel,
        common: &'a CommonOptions,
        log: EventLog,
    ) -> Self {
        Self {
            remote,
            local,
            common,
            log,
            remote_usage: Usage::default(),
            local_usage: Usage::default(),
            remote_calls: 0,
            local_calls: 0,
            remote_time: Duration::ZERO,
            local_time: Duration::ZERO,
            redactions: Vec::new(),
            started: Instant::now(),
        }
    }

    /// Starts a run's books: checks the inputs, announces the run, and
    /// returns the ledger with the documents' metadata (all the remote model
    /// may know of them) and the joined context (for the local model and the
    /// remote-only estimate).
    pub(crate) fn begin(
        protocol: Protocol,
        remote: &'a dyn ChatModel,
        local: &'a dyn ChatModel,
        task: &str,
        context: &[ContextDocument],
        common: &'a CommonOptions,
        events: Option<UnboundedSender<Event>>,
    ) -> Result<(Self, Vec<DocumentMetadata>, String), ProtocolError> {
        if task.trim().is_empty() {
            return Err(ProtocolError::EmptyTask);
        }
        if context.iter().all(|d| d.text.trim().is_empty()) {
            return Err(ProtocolError::EmptyContext);
        }
        let metadata: Vec<DocumentMetadata> =
            context.iter().map(ContextDocument::metadata).collect();
        let log = EventLog::new(events);
        log.emit(Event::RunStarted {
            protocol: protocol.as_str().into(),
            task: task.to_string(),
            documents: metadata.clone(),
            remote: remote.id().to_string(),
            local: local.id().to_string(),
        });
        Ok((
            Self::new(remote, local, common, log),
            metadata,
            joined_context(context),
        ))
    }

    fn remote_spec(&self) -> &ModelSpec {
        self.remote.id()
    }

    pub(crate) fn remote_cost(&self) -> Cost {
        self.common
            .pricing
            .cost(self.remote_spec(), &self.remote_usage)
    }

    /// Whether a remote call with these messages could cross a budget cap,
    /// counting its prompt (estimated) and its whole `max_tokens`.
    fn budget_check(&self, messages: &[Message]) -> Result<(), String> {
        let budget = self.common.budget;
        let prompt: u64 = messages
            .iter()
            .map(|m| approx_tokens(&m.content) as u64 + 4)
            .sum();
        let next = Usage::new(prompt, u64::from(self.common.remote_max_tokens));
        if let Some(cap) = budget.max_remote_tokens {
            let projected = self.remote_usage.total_tokens() + next.total_tokens();
            if projected > cap {
                return Err(format!(
                    "the next remote call could bring remote tokens to {projected}, over the cap of {cap} (spent so far: {})",
                    self.remote_usage.total_tokens()
                ));
            }
        }
        if let Some(cap) = budget.max_remote_usd {
            let spent = self.remote_cost().total_usd();
            let projected = spent
                + self
                    .common
                    .pricing
                    .cost(self.remote_spec(), &next)
                    .total_usd();
            if projected > cap {
                return Err(format!(
                    "the next remote call could bring remote cost to ${projected:.4}, over the cap of ${cap:.4} (spent so far: ${spent:.4})"
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
        messages: Vec<Message>,
        format: ResponseFormat,
    ) -> Result<ChatResponse, Halt> {
        if let Err(reason) = self.budget_check(&messages) {
            return Err(Halt::Budget(reason));
        }
        let request = ChatRequest::new(messages)
            .with_temperature(self.common.remote_temperature)
            .with_max_tokens(self.common.remote_max_tokens)
            .with_response_format(format);
        let began = Instant::now();
        let response = self.remote.chat(&request).await;
        self.remote_time += began.elapsed();
        self.remote_calls += 1;
        let response = response.map_err(|e| Halt::Failed(ProtocolError::Remote(e)))?;
        self.remote_usage += response.usage;
        self.log.emit(Event::RemoteMessage {
            round,
            step: step.to_string(),
            content: response.content.clone(),
            usage: response.usage,
        });
        self.emit_usage();
        Ok(response)
    }

    /// A remote call whose answer must parse as `T` and pass `check`. An
    /// answer that does not is sent back with the reason, up to
    /// `max_json_retries` times; every attempt's usage counts. Returns the
    /// value and the raw text (for the conversation).
    pub(crate) async fn remote_json<T: DeserializeOwned>(
        &mut self,
        round: u32,
        step: &'static str,
        mut messages: Vec<Message>,
        format: ResponseFormat,
        check: impl Fn(&T) -> Result<(), String>,
    ) -> Result<(T, String), Halt> {
        let attempts = self.common.max_json_retries + 1;
        let mut last_reason = String::new();
        for _ in 0..attempts {
            let response = self
                .remote_call(round, step, messages.clone(), format.clone())
                .await?;
            let parsed = extract_as::<T>(&response.content)
                .map_err(|e| e.to_string())
                .and_then(|value| check(&value).map(|()| value));
            match parsed {
                Ok(value) => return Ok((value, response.content)),
                Err(reason) => {
                    tracing::warn!(step, %reason, "remote answer not usable; asking again");
                    messages.push(Message::assistant(response.content));
                    messages.push(Message::user(crate::prompts::json_retry(&reason)));
                    last_reason = reason;
                }
            }
        }
        Err(Halt::Failed(ProtocolError::RemoteOutput {
            step,
            attempts,
            reason: last_reason,
        }))
    }

    /// Counts a local call made elsewhere (concurrent jobs).
    pub(crate) fn count_local(&mut self, usage: Usage, calls: u32) {
        self.local_usage += usage;
        self.local_calls += calls;
    }

    /// Redacts text bound for the remote model, when the privacy filter is on
    /// or terms were given, and records what was redacted.
    pub(crate) fn redact(&mut self, round: u32, text: &str) -> String {
        let privacy = &self.common.privacy;
        if !privacy.enabled && privacy.terms.is_empty() {
            return text.to_string();
        }
        let (clean, counts) = privacy::redact(text, privacy);
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

    /// Closes the books: the result and the transcript.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn finish(
        self,
        protocol: Protocol,
        task: &str,
        context: &str,
        answer: String,
        stop: StopReason,
        rounds: u32,
        jobs: JobStats,
    ) -> Transcript {
        if let StopReason::Budget { reason } = &stop {
            self.log.emit(Event::BudgetStop {
                reason: reason.clone(),
            });
        }
        if !answer.is_empty() {
            self.log.emit(Event::Answer {
                answer: answer.clone(),
            });
        }
        let remote_cost = self.remote_cost();
        let remote_only = RemoteOnlyEstimate::estimate(
            &self.common.pricing,
            self.remote_spec(),
            context,
            task,
            &answer,
        );
        let actual = remote_cost.total_usd();
        let savings_ratio =
            (actual > 0.0 && remote_only.cost_usd > 0.0).then(|| remote_only.cost_usd / actual);
        let total = self.started.elapsed();
        let timing = Timing {
            total,
            remote: self.remote_time,
            local: self.local_time,
            overhead: total.saturating_sub(self.remote_time + self.local_time),
        };
        let result = RunResult {
            protocol,
            answer,
            stop,
            rounds,
            remote_model: self.remote.id().to_string(),
            local_model: self.local.id().to_string(),
            remote_usage: self.remote_usage,
            local_usage: self.local_usage,
            remote_calls: self.remote_calls,
            local_calls: self.local_calls,
            remote_cost,
            remote_only,
            savings_ratio,
            timing,
            jobs,
            redactions: self.redactions,
        };
        Transcript {
            version: 1,
            task: task.to_string(),
            result,
            events: self.log.events(),
        }
    }
}
