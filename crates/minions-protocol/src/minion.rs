//! Minion: the remote model chats with one local model that holds the
//! documents.

use minions_core::{ChatRequest, Message, ResponseFormat};

use crate::final_answer::FinalAnswerCheck;
use crate::input::{self, RunInput};
use crate::ledger::{Ledger, Outcome};
use crate::passages::{Excerpts, MAX_EXCERPT_TOKENS};
use crate::replies::MinionDecision;
use crate::{ContextDocument, ProtocolError, prompts};

/// Runs Minion: the local model (which has the documents) is first asked
/// the task as written, then the remote model asks, the local model
/// answers, for up to `max_rounds` local answers; the last round
/// offers the final decision only, and a remote model that still gives no
/// usable answer leaves the run with the local model's last answer. The
/// remote model never receives the documents.
pub(crate) async fn run(
    ledger: &mut Ledger<'_>,
    input: &RunInput<'_>,
) -> Result<Outcome, ProtocolError> {
    let spec = ledger.spec;
    let max_rounds = spec.max_rounds.max(1);
    let mut remote_messages = vec![Message::system(prompts::MINION_REMOTE_SYSTEM)];
    // The first question is the task itself, not a remote model's
    // rephrasing of it: a small remote model's first question dropped what
    // the task named ("Article 11 of which treaty" became "what treaty",
    // "who wrote the patch" became "what is the name of the patch"), and
    // the local model answered the question it was given. Asking the task
    // also saves a remote call. Measured in docs/benchmarks.md, run 19.
    let mut opening = Some(prompts::minion_opening(
        ledger.task,
        &input.metadata,
        &spec.history.render(),
    ));
    let mut message = ledger.task.to_string();
    let (mut excerpts, mut local_messages) = local_setup(ledger, input);

    let mut heard = Heard::new(input.documents, &input.joined, ledger.task);
    for round in 1..=max_rounds {
        ledger.enter_round(round);
        if let Some(excerpts) = excerpts.as_mut() {
            let query = format!("{} {}", ledger.task, message);
            let (text, note) = excerpts.for_question(&query);
            tracing::info!(%note, "the documents exceed the local window; sending excerpts");
            local_messages = vec![Message::system(prompts::minion_local_excerpts(
                &text,
                ledger.task,
            ))];
        }
        let said = ask_local(ledger, round, &message, &mut local_messages).await?;
        let shared = heard.local_answer(ledger, round, &said);
        let after = prompts::minion_after_answer(&shared, round, max_rounds);
        remote_messages.push(Message::user(match opening.take() {
            Some(opening) => format!("{opening}\n\n{after}"),
            None => after,
        }));

        let last = round == max_rounds;
        let decided = ledger
            .remote_json(
                round,
                "decision",
                remote_messages.clone(),
                ResponseFormat::json_schema("decision", MinionDecision::schema(last)),
                |value| {
                    let decision = MinionDecision::read(value, last)?;
                    if let MinionDecision::Final { answer } = &decision {
                        heard.check_final(answer)?;
                    }
                    Ok(decision)
                },
            )
            .await;
        let decision = match decided {
            Ok(decision) => decision,
            Err(crate::ledger::Halt::Unusable(reason)) => {
                let last_resort = ledger.findings_answer.clone().unwrap_or_default();
                return match heard.nothing_usable(round, &last_resort) {
                    Some(not_found) => Ok(not_found),
                    None => ledger.stopped(crate::ledger::Halt::Unusable(reason), round),
                };
            }
            Err(halt) => return ledger.stopped(halt, round),
        };
        match decision {
            MinionDecision::Final { answer } => return Ok(Outcome::answered(answer, round, last)),
            MinionDecision::Ask {
                message: next,
                provisional,
            } => {
                if provisional.is_some() {
                    ledger.best_answer = provisional.clone();
                }
                remote_messages.push(Message::assistant(
                    serde_json::json!({"decision": "ask", "answer": provisional, "message": next})
                        .to_string(),
                ));
                message = next;
            }
        }
    }
    // The last round only offers "final", and an unusable reply returns
    // above; this is for completeness.
    ledger.stopped(
        crate::ledger::Halt::Unusable("no final answer after the last round".into()),
        max_rounds,
    )
}

/// Keeps a local answer as the run's answer of last resort (the stop
/// reason says how it was reached), unless it only repeats the remote's
/// talk of "the small model" (seen with the 0.5B model when the question
/// was such talk) after a real one, or rests on figures that cannot answer
/// (`doubt`): then the one before stays, and when there is none the last
/// resort says that the documents do not say. A run still ends with what
/// it has, and never with a figure we know was made up or taken from the
/// wrong place. True when this answer was kept as a real one. An answer
/// that only restates the task is not kept either.
fn keep_as_last_resort(ledger: &mut Ledger<'_>, shared: &str, doubt: Option<&Doubt>) -> bool {
    let local_answer = answer_text(shared);
    if let Some(doubt) = doubt {
        if ledger.findings_answer.is_none() {
            ledger.findings_answer = Some(doubt.not_said());
        }
        return false;
    }
    if crate::grounding::restates(&local_answer, ledger.task)
        || crate::grounding::words(&local_answer).eq(crate::grounding::words(ledger.task))
    {
        // Seen with the 0.5B model on gpl3-08: it answered with the
        // question itself, and the run fell back to it as its answer.
        if ledger.findings_answer.is_none() {
            ledger.findings_answer = Some(ONLY_THE_QUESTION.to_string());
        }
        return false;
    }
    if crate::replies::comments_on_the_collaboration(&local_answer) {
        if ledger.findings_answer.is_none() {
            ledger.findings_answer = Some(local_answer);
        }
        return false;
    }
    ledger.findings_answer = Some(local_answer);
    true
}

/// The last resort of a run whose local model only ever repeated the task.
const ONLY_THE_QUESTION: &str = "No answer was found: the small model only repeated the question.";

/// What the remote model has been told in a run, for checking its final
/// answer: it may name nothing else, no figure the documents lack, and no
/// figure they hold only in passages about something else.
struct Heard<'a> {
    /// The rules a final answer must pass, with the documents' figures.
    rules: FinalAnswerCheck,
    /// The documents, for where a local answer's figures come from.
    documents: &'a [ContextDocument],
    /// The task and every local answer as the remote model saw them.
    text: String,
    /// Whether some local answer was kept as a real one.
    real_answer: bool,
    /// The doubtful figures of the last local answer that had some.
    doubt_last: Option<Doubt>,
    /// Every figure a local answer or a refused final answer took from the
    /// wrong place: a final answer may not state one, nor the last resort.
    from_elsewhere: Vec<String>,
}

impl<'a> Heard<'a> {
    fn new(documents: &'a [ContextDocument], joined: &str, task: &str) -> Self {
        Self {
            rules: FinalAnswerCheck::new(joined, task),
            documents,
            text: format!("{task}\n"),
            real_answer: false,
            doubt_last: None,
            from_elsewhere: Vec::new(),
        }
    }

    /// Records a local answer (redacted, kept as the last resort, its
    /// figures checked) and returns what the remote model is shown.
    fn local_answer(&mut self, ledger: &mut Ledger<'_>, round: u32, said: &str) -> String {
        let shared = ledger.redact(round, said);
        self.text.push_str(&shared);
        self.text.push('\n');
        let doubt = self.doubt(said);
        self.real_answer |= keep_as_last_resort(ledger, &shared, doubt.as_ref());
        let Some(doubt) = doubt else {
            return shared;
        };
        if let Doubt::Elsewhere(figures) = &doubt {
            self.remember_elsewhere(figures.clone());
        }
        let shared = format!("{shared}\n{}", doubt.note());
        self.doubt_last = Some(doubt);
        shared
    }

    /// What, if anything, is doubtful in a local answer's figures: made up
    /// (checked on all it said), or else taken from the wrong place
    /// (checked on its answer, which must restate the task).
    fn doubt(&self, said: &str) -> Option<Doubt> {
        let made_up = self.rules.figures().made_up_in(said, self.rules.task());
        if !made_up.is_empty() {
            return Some(Doubt::MadeUp(made_up));
        }
        let elsewhere = crate::elsewhere::figures_from_elsewhere(
            &answer_text(said),
            self.documents,
            self.rules.task(),
        );
        (!elsewhere.is_empty()).then_some(Doubt::Elsewhere(elsewhere))
    }

    /// Whether a final answer may stand (see [`FinalAnswerCheck::check`]):
    /// what the remote model was told is the task and the local answers,
    /// and it states no figure taken from the wrong place, by a local
    /// answer or by itself (those are kept: a run never ends with one).
    fn check_final(&mut self, answer: &str) -> Result<(), String> {
        self.rules.check(answer, &self.text)?;
        self.remember_elsewhere(crate::elsewhere::figures_from_elsewhere(
            answer,
            self.documents,
            self.rules.task(),
        ));
        let stated = self.wrong_place_figures_in(answer);
        if stated.is_empty() {
            return Ok(());
        }
        Err(format!(
            "the answer states {}, which the documents hold only in passages about something else, none about what the task asks: \
the small model took it from the wrong place. If nothing else it reported answers the task, say that the documents do not say.",
            stated.join(", ")
        ))
    }

    /// Adds figures taken from the wrong place to those already known.
    fn remember_elsewhere(&mut self, figures: Vec<String>) {
        for figure in figures {
            if !self.from_elsewhere.contains(&figure) {
                self.from_elsewhere.push(figure);
            }
        }
    }

    /// The figures taken from the wrong place that `text` states.
    fn wrong_place_figures_in(&self, text: &str) -> Vec<String> {
        self.from_elsewhere
            .iter()
            .filter(|figure| crate::evidence::holds(text, figure))
            .cloned()
            .collect()
    }

    /// The end of a run whose remote model gave no usable final answer
    /// when nothing the local model said answers either: every local
    /// answer rested on figures the documents never hold or hold only of
    /// something else, or the one left (`last_resort`) states a figure
    /// taken from the wrong place or lacks the form the task asks for (no
    /// "@" for an email address). Then the documents do not say. (Its
    /// final answers may have been refused for another reason: in run 10
    /// the 1.5B remote kept passing on "1.5GB" as what "the small model
    /// answered".)
    fn nothing_usable(&self, round: u32, last_resort: &str) -> Option<Outcome> {
        let wrong_place = self.wrong_place_figures_in(last_resort);
        let answer = if let Some(doubt) = self.doubt_last.as_ref().filter(|_| !self.real_answer) {
            doubt.not_said()
        } else if !wrong_place.is_empty() {
            Doubt::Elsewhere(wrong_place).not_said()
        } else if let Some(form) = crate::grounding::wrong_form(last_resort, self.rules.task()) {
            format!("The documents do not say: the only answer found was not {form}.")
        } else {
            return None;
        };
        Some(Outcome {
            answer,
            stop: crate::result::StopReason::NotFound,
            rounds: round,
        })
    }
}

/// Figures of a local answer that cannot answer the task, and why.
#[derive(Debug, Clone, PartialEq)]
enum Doubt {
    /// They occur nowhere in the documents (see
    /// [`DocumentFigures::made_up_in`](crate::grounding::DocumentFigures::made_up_in)).
    MadeUp(Vec<String>),
    /// The documents hold them only in passages about something else (see
    /// [`figures_from_elsewhere`](crate::elsewhere::figures_from_elsewhere)).
    Elsewhere(Vec<String>),
}

impl Doubt {
    /// What the remote model hears beside the local answer. It cannot
    /// check the documents itself; the note says only where a figure is
    /// not, no document text. Measured on pyenv's README: the 0.5B local
    /// model answered "1.5GB" and "1.4 MB" to questions the README does not
    /// answer, and the remote model passed both on as answers; on the
    /// JDK's configuration, "393216 bytes" for the JVM's heap (runs 24 to
    /// 47).
    fn note(&self) -> String {
        let why = match self {
            Self::MadeUp(_) => "occurs nowhere in them; the small model may have made it up",
            Self::Elsewhere(_) => {
                "occurs in them only in passages about something else, none about what the task asks; the small model took it from the wrong place"
            }
        };
        format!("[checked against the documents: {} {why}]", self.figures())
    }

    /// The answer of a run whose local answers named only such figures.
    fn not_said(&self) -> String {
        let why = match self {
            Self::MadeUp(_) => "which occurs nowhere in them",
            Self::Elsewhere(_) => "which they hold only in passages about something else",
        };
        format!(
            "The documents do not say: the only answer found named {}, {why}.",
            self.figures()
        )
    }

    /// The figures, as a list for a sentence.
    fn figures(&self) -> String {
        match self {
            Self::MadeUp(figures) | Self::Elsewhere(figures) => figures.join(", "),
        }
    }
}

/// How the local model will see the documents. When they fit its window,
/// it holds them whole and sees the whole conversation; when they do not,
/// each question gets the excerpts that best match it, within the window,
/// and nothing is ever cut by the server.
fn local_setup<'a>(ledger: &Ledger<'_>, input: &RunInput<'a>) -> (Option<Excerpts>, Vec<Message>) {
    let excerpt_budget = excerpt_room(
        ledger.local_context_tokens.map(|window| window as usize),
        input::fixed_local_tokens(ledger),
        input::context_tokens(&input.joined),
    );
    let excerpts = excerpt_budget.map(|room| Excerpts::new(input.documents, room));
    let local_messages = match &excerpts {
        Some(_) => Vec::new(),
        None => vec![Message::system(prompts::minion_local_system(
            &input.joined,
            ledger.task,
        ))],
    };
    (excerpts, local_messages)
}

/// Documents up to this many tokens go to the local model whole (when its
/// window holds them); longer ones are sent as the passages that best match
/// each question, [`MAX_EXCERPT_TOKENS`] of them. Tokens as
/// [`input::context_tokens`] counts them (with its 15% margin).
///
/// Measured with Qwen2.5-Coder 0.5B (2026-12-01, run 18's probe): read
/// whole, pyenv's README (9,000 tokens) and the GPL (10,100) got 9 of 16
/// questions right; given only the three passages that match the question
/// best (about 1,000 tokens), the same model answered 15 of those 16 plus
/// IDLE's changelog questions it had missed with 4,000 tokens of passages.
/// A small model loses the line that answers in a long prompt; a short one
/// puts it in front of it. (Runs 4 and 5 on 2026-11-29 had measured the
/// opposite with 4,000-token excerpts: too long to help, too short to hold
/// everything.)
const WHOLE_UP_TO_TOKENS: usize = MAX_EXCERPT_TOKENS;

/// Tokens of excerpts each question gets, or `None` when the documents go
/// whole: they fit the local window (`window` less the chat's `fixed`
/// needs) and are at most [`WHOLE_UP_TO_TOKENS`].
fn excerpt_room(window: Option<usize>, fixed: usize, documents: usize) -> Option<usize> {
    let window_room = window.map(|window| window.saturating_sub(fixed));
    let fits_window = window_room.is_none_or(|room| documents <= room);
    if fits_window && documents <= WHOLE_UP_TO_TOKENS {
        return None;
    }
    Some(window_room.map_or(MAX_EXCERPT_TOKENS, |room| room.min(MAX_EXCERPT_TOKENS)))
}

/// Asks the local model `message` in the conversation `local_messages`
/// (which gets the question and the reply), and counts and reports the
/// call. Returns what it said, marked when the token limit cut it off.
async fn ask_local(
    ledger: &mut Ledger<'_>,
    round: u32,
    message: &str,
    local_messages: &mut Vec<Message>,
) -> Result<String, ProtocolError> {
    let spec = ledger.spec;
    local_messages.push(Message::user(message.to_string()));
    // The conversation moves into the request and back, so the whole
    // context in its system message is not copied each round.
    let request = ChatRequest::new(std::mem::take(local_messages))
        .with_temperature(spec.local_temperature)
        .with_max_tokens(spec.local_max_tokens);
    let began = ledger.local_began();
    let reply = crate::local_call::call(ledger.local, &request, spec.local_timeout).await;
    ledger.local_ended(began);
    *local_messages = request.messages;
    let reply = reply.map_err(crate::local_call::LocalFailure::into_protocol_error)?;
    ledger.count_local(reply.usage, 1);
    ledger.log.emit(crate::Event::LocalMessage {
        round,
        content: reply.content.clone(),
        usage: reply.usage,
        seconds: began.elapsed().as_secs_f64(),
    });
    let mut said = reply.content.clone();
    if reply.is_truncated() {
        // Say so rather than pass on half an answer as if it were whole.
        said.push_str("\n[the small model's answer was cut off at its token limit]");
    }
    local_messages.push(Message::assistant(reply.content));
    Ok(said)
}

/// What the local model said, as an answer a user can read: small models
/// often reply in the JSON shape of the worker prompt they were tuned on
/// (`{"explanation": ..., "answer": ...}`); then its `answer` is the text.
fn answer_text(said: &str) -> String {
    let answer = minions_core::json::extract_json(said)
        .ok()
        .and_then(|value| {
            value
                .get("answer")
                .and_then(serde_json::Value::as_str)
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_string)
        })
        .unwrap_or_else(|| said.trim().to_string());
    without_prompt_echo(&answer).to_string()
}

/// The local prompt opens with "A supervisor is working on this task:";
/// small models echo it as their answer's first words (Qwen2.5-Coder 0.5B:
/// "The supervisor is working on this task: Violations ..."). The echo is
/// dropped, so that a fallback answer is the model's answer, not our words.
fn without_prompt_echo(answer: &str) -> &str {
    for opening in [
        "a supervisor is working on this task:",
        "the supervisor is working on this task:",
    ] {
        if answer
            .get(..opening.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(opening))
        {
            let rest = answer[opening.len()..].trim();
            if !rest.is_empty() {
                return rest;
            }
        }
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::{MAX_EXCERPT_TOKENS, WHOLE_UP_TO_TOKENS, answer_text, excerpt_room};

    #[test]
    fn long_documents_are_sent_as_capped_excerpts() {
        // Short documents go whole, up to the whole-document limit.
        assert_eq!(excerpt_room(Some(32_768), 2_000, 1_000), None);
        assert_eq!(excerpt_room(None, 2_000, 1_000), None);
        assert_eq!(excerpt_room(Some(32_768), 2_000, WHOLE_UP_TO_TOKENS), None);
        // Longer: excerpts, even when the window could hold them, and when
        // the window is not known.
        assert_eq!(
            excerpt_room(Some(32_768), 2_000, WHOLE_UP_TO_TOKENS + 1),
            Some(MAX_EXCERPT_TOKENS)
        );
        assert_eq!(
            excerpt_room(None, 2_000, WHOLE_UP_TO_TOKENS + 1),
            Some(MAX_EXCERPT_TOKENS)
        );
        assert_eq!(
            excerpt_room(Some(32_768), 2_000, 40_000),
            Some(MAX_EXCERPT_TOKENS)
        );
        // A window too small for the cap gets what it has.
        assert_eq!(
            excerpt_room(Some(6_000), 2_000, 5_000),
            Some(MAX_EXCERPT_TOKENS)
        );
        assert_eq!(excerpt_room(Some(1_900), 1_000, 40_000), Some(900));
        assert_eq!(excerpt_room(Some(1_000), 2_000, 40_000), Some(0));
    }

    #[test]
    fn a_local_json_reply_falls_back_to_its_answer_text() {
        let said =
            r#"{"explanation": "Section 8 says so.", "citation": "30 days", "answer": "30 days"}"#;
        assert_eq!(answer_text(said), "30 days");
        assert_eq!(
            answer_text("  The notice is 30 days. "),
            "The notice is 30 days."
        );
        assert_eq!(answer_text(r#"{"answer": ""}"#), r#"{"answer": ""}"#);
    }

    #[test]
    fn an_echo_of_our_prompt_is_not_the_answer() {
        assert_eq!(
            answer_text(
                "The supervisor is working on this task: Report them to the copyright holder."
            ),
            "Report them to the copyright holder."
        );
        assert_eq!(
            answer_text(r#"{"answer": "A SUPERVISOR is working on this task: 30 days"}"#),
            "30 days"
        );
        // Nothing after the echo: kept as it is (the run says what it has).
        assert_eq!(
            answer_text("The supervisor is working on this task:"),
            "The supervisor is working on this task:"
        );
        assert_eq!(
            answer_text("The supervisor signs it."),
            "The supervisor signs it."
        );
    }
}
