//! Minion: the remote model chats with one local model that holds the
//! documents.

use minions_core::{ChatModel, ChatRequest, Message, ResponseFormat};
use serde::Deserialize;
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

use crate::events::Event;
use crate::ledger::{Halt, Ledger};
use crate::result::{JobStats, Protocol, StopReason};
use crate::{ContextDocument, MinionOptions, ProtocolError, Transcript, prompts};

#[derive(Debug, Deserialize)]
struct Question {
    message: String,
}

#[derive(Debug, Deserialize)]
struct Decision {
    decision: String,
    #[serde(default)]
    answer: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// Runs Minion: the remote model asks, the local model (which has the
/// documents) answers, for up to `max_rounds` local answers; the last round
/// forces a final answer. The remote model never receives the documents.
///
/// Events go to `events` as they happen; the returned [`Transcript`] holds
/// the [`crate::RunResult`] and every event.
pub async fn run_minion(
    remote: &dyn ChatModel,
    local: &dyn ChatModel,
    task: &str,
    context: &[ContextDocument],
    options: &MinionOptions,
    events: Option<UnboundedSender<Event>>,
) -> Result<Transcript, ProtocolError> {
    crate::cancellable(
        options.common.cancel.as_ref(),
        minion(remote, local, task, context, options, events),
    )
    .await
}

async fn minion(
    remote: &dyn ChatModel,
    local: &dyn ChatModel,
    task: &str,
    context: &[ContextDocument],
    options: &MinionOptions,
    events: Option<UnboundedSender<Event>>,
) -> Result<Transcript, ProtocolError> {
    let common = &options.common;
    let max_rounds = common.max_rounds.max(1);
    let (mut ledger, metadata, joined) = Ledger::begin(
        Protocol::Minion,
        remote,
        local,
        task,
        context,
        common,
        events,
    )?;
    let finish = |ledger: Ledger<'_>, answer: String, stop: StopReason, rounds: u32| {
        Ok(ledger.finish(
            Protocol::Minion,
            task,
            &joined,
            answer,
            stop,
            rounds,
            JobStats::default(),
        ))
    };

    let mut remote_messages = vec![
        Message::system(prompts::MINION_REMOTE_SYSTEM),
        Message::user(prompts::minion_first(
            task,
            &metadata,
            &common.history.render(),
        )),
    ];
    let question_format =
        ResponseFormat::json_schema("question", prompts::minion_question_schema());
    let first = ledger
        .remote_json::<Question>(
            0,
            "question",
            remote_messages.clone(),
            question_format,
            |q| {
                if q.message.trim().is_empty() {
                    Err("`message` is empty".into())
                } else {
                    Ok(())
                }
            },
        )
        .await;
    let (question, raw) = match first {
        Ok(found) => found,
        Err(Halt::Budget(reason)) => {
            return finish(ledger, String::new(), StopReason::Budget { reason }, 0);
        }
        Err(Halt::Failed(error)) => return Err(error),
    };
    remote_messages.push(Message::assistant(raw));
    let mut message = question.message;
    let mut local_messages = vec![Message::system(prompts::minion_local_system(&joined, task))];
    let decision_format =
        ResponseFormat::json_schema("decision", prompts::minion_decision_schema());

    for round in 1..=max_rounds {
        local_messages.push(Message::user(message.clone()));
        let request = ChatRequest::new(local_messages.clone())
            .with_temperature(common.local_temperature)
            .with_max_tokens(common.local_max_tokens);
        let began = Instant::now();
        let reply = local.chat(&request).await;
        ledger.local_time += began.elapsed();
        let reply = match reply {
            Ok(reply) => reply,
            Err(error) if error.is_unreachable() => {
                return Err(ProtocolError::LocalUnreachable(error));
            }
            Err(error) => return Err(ProtocolError::Local(error)),
        };
        ledger.count_local(reply.usage, 1);
        ledger.log.emit(Event::LocalMessage {
            round,
            content: reply.content.clone(),
            usage: reply.usage,
        });
        local_messages.push(Message::assistant(reply.content.clone()));
        let shared = ledger.redact(round, &reply.content);
        remote_messages.push(Message::user(prompts::minion_after_answer(
            &shared, round, max_rounds,
        )));

        let last = round == max_rounds;
        let decided = ledger
            .remote_json::<Decision>(round, "decision", remote_messages.clone(), decision_format.clone(), |d| {
                match (d.decision.as_str(), d.answer.as_deref(), d.message.as_deref()) {
                    ("final", Some(answer), _) if !answer.trim().is_empty() => Ok(()),
                    ("final", _, _) => Err("`decision` is \"final\" but `answer` is empty".into()),
                    ("ask", _, _) if last => {
                        Err("that was the last question: `decision` must be \"final\", with an `answer`".into())
                    }
                    ("ask", _, Some(message)) if !message.trim().is_empty() => Ok(()),
                    ("ask", _, _) => Err("`decision` is \"ask\" but `message` is empty".into()),
                    (other, _, _) => Err(format!("`decision` must be \"final\" or \"ask\", not {other:?}")),
                }
            })
            .await;
        let (decision, raw) = match decided {
            Ok(found) => found,
            // The best we have is the local model's last answer.
            Err(Halt::Budget(reason)) => {
                return finish(ledger, reply.content, StopReason::Budget { reason }, round);
            }
            Err(Halt::Failed(error)) => return Err(error),
        };
        remote_messages.push(Message::assistant(raw));
        if decision.decision == "final" {
            let answer = decision.answer.unwrap_or_default();
            let stop = if last {
                StopReason::MaxRounds
            } else {
                StopReason::Answered
            };
            return finish(ledger, answer, stop, round);
        }
        message = decision.message.unwrap_or_default();
    }
    // The loop always returns on its last round (the check forces "final").
    Err(ProtocolError::RemoteOutput {
        step: "decision",
        attempts: 0,
        reason: "no final answer".into(),
    })
}
