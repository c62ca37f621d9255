//! Running local jobs concurrently.

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt;
use minions_core::json::extract_as;
use minions_core::{ChatModel, ChatRequest, ChatResponse, Error, Message, ResponseFormat, Usage};
use serde::Deserialize;
use serde_json::Value;

use super::aggregate::{JobOutput, Outcome, normalise_outcome};
use crate::events::{Event, EventLog};
use crate::evidence::{
    evidence, figure_in_a_name, figure_off_topic, labelled_entry, untied_figures,
};
use crate::grounding::{
    answer_grounded, borne_out, figure_of_the_task, names_the_document, numbering_as_answer,
    only_links, only_the_answer, other_versions, reference_as_answer, restates, wrong_form,
};
use crate::plan::PlanTask;
use crate::prompts;
use crate::subject::missing_name;

/// One job: a task on a chunk.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub number: usize,
    pub task: Arc<PlanTask>,
    /// `document#index`.
    pub chunk_label: String,
    pub document: String,
    /// The heading path of the section the chunk starts in.
    pub section: Option<String>,
    pub text: Arc<str>,
    pub sample: u32,
    /// The chunk's BM25 rank for the task's query or the user's question
    /// (0 is the best match; `None` when it shares no word with either).
    pub rank: Option<usize>,
    /// Whether a guess dropped by the grounding checks is sent back to the
    /// worker, with why, for one more reading. Set on the chunks likeliest
    /// to hold the answer: there the 0.5B model misread a real line
    /// ("2023-10-24" for "Released on 2023-10-02"), and told so, it read
    /// it right (told that "4323" in "Issue #4323: ... according to PEP
    /// 3120" is an issue number, it did not).
    pub recheck: bool,
    /// The user's question, which every job serves whatever its task's
    /// words (see [`Job::off_subject`]).
    pub question: Arc<str>,
}

impl Job {
    /// What the worker was told beside its chunk: the task, its advice,
    /// and the document's name. An answer made only of these words
    /// restates them (see [`restates`]).
    fn asked(&self) -> String {
        format!(
            "{}\n{}\n{}",
            self.task.instruction, self.task.advice, self.document
        )
    }

    /// The words a job's answer should be about: the task, its advice and
    /// the user's question (see [`figure_off_topic`]).
    fn topic(&self) -> String {
        format!(
            "{}\n{}\n{}",
            self.task.instruction, self.task.advice, self.question
        )
    }

    /// The versions or names the task or the user's question asks about
    /// when neither the chunk nor its section's heading mentions them (see
    /// [`other_versions`], [`missing_name`]): the chunk is about something
    /// else, and no answer from it stands. The question counts as much as
    /// the task: asked in which year version 4 of the GNU General Public
    /// License was published, the 1.5B planner's round-2 task was "Find the
    /// year mentioned in the text.", and the licence's own "2007" from
    /// "Version 3, 29 June 2007" became the answer (run 39).
    pub(crate) fn off_subject(&self) -> Option<String> {
        self.off_subject_of(&self.excerpt())
    }

    /// [`Job::off_subject`] for the excerpt already built.
    fn off_subject_of(&self, excerpt: &str) -> Option<String> {
        [self.task.instruction.as_str(), &*self.question]
            .into_iter()
            .find_map(|asked| {
                other_versions(excerpt, asked)
                    .or_else(|| missing_name(excerpt, asked, &self.document))
            })
    }

    /// The chunk with its section's heading, as the worker saw it.
    fn excerpt(&self) -> String {
        match &self.section {
            Some(section) => format!("{section}\n{}", self.text),
            None => self.text.to_string(),
        }
    }
}

/// What the worker replies. `answer` may come as a number or an object from
/// sloppy models; it is turned into text.
#[derive(Debug, Deserialize)]
struct WorkerOutput {
    #[serde(default)]
    explanation: String,
    #[serde(default)]
    citation: Option<Value>,
    answer: Option<Value>,
}

fn as_text(value: Option<Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(text) => Some(text),
        other => Some(other.to_string()),
    }
}

/// How a job ended, with what it cost.
pub(crate) struct Finished {
    pub output: JobOutput,
    pub usage: Usage,
    pub calls: u32,
    /// Set when the local server could not be reached at all.
    pub unreachable: Option<Error>,
    /// Whether the local call itself failed (as opposed to its reply).
    pub call_failed: bool,
}

/// Settings every job shares.
pub(crate) struct JobSettings {
    pub temperature: f32,
    pub max_tokens: u32,
    pub round: u32,
    /// Time one local call may take.
    pub timeout: std::time::Duration,
    /// Re-asks of an unusable reply.
    pub max_json_retries: u32,
}

/// Jobs failing in a row (calls that errored, not replies we could not
/// parse) before the run stops: the endpoint is down, and retrying job
/// after job would take forever.
pub(crate) fn breaker_threshold(concurrency: usize) -> usize {
    (concurrency * 2).max(6)
}

/// Words of a lead-in that small models put before a quote ("The excerpt
/// states: '...'"), which is not part of what they quote.
const LEAD_IN_WORDS: &[&str] = &[
    "excerpt",
    "states",
    "says",
    "text",
    "citation",
    "quote",
    "reads",
    "document",
    "explanation",
];

/// Whether a citation occurs in the chunk, ignoring case, spacing and
/// quotes around it, and a lead-in such as "The excerpt states:" before
/// the quote (Qwen2.5-Coder 0.5B writes one before most of its citations,
/// which left the one right answer among a changelog's findings shown as
/// unverified).
pub(crate) fn citation_found(citation: &str, chunk: &str) -> bool {
    let squash = |text: &str| {
        text.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    let chunk = squash(chunk);
    let found = |quote: &str| {
        let cited = squash(quote.trim().trim_matches(['"', '\'', '`']));
        let cited = cited.trim_end_matches(['.', '…', '"', '\'', '`']);
        !cited.is_empty() && chunk.contains(cited)
    };
    // Quotes joined by an ellipsis ("... 160/100 mmHg ... 170 mg/dL") are
    // found when each of them is: an answer of two values, stated apart,
    // can only be cited that way.
    let found_all = |quote: &str| {
        let parts: Vec<&str> = quote
            .split(['…'])
            .flat_map(|p| p.split("..."))
            .map(|p| p.trim().trim_matches(['"', '\'', '`']).trim())
            .filter(|p| !p.is_empty())
            .collect();
        !parts.is_empty() && parts.iter().all(|p| found(p))
    };
    if found(citation) || found_all(citation) {
        return true;
    }
    citation.split_once(':').is_some_and(|(lead, quote)| {
        let lead = lead.to_lowercase();
        lead.chars().count() <= 60
            && LEAD_IN_WORDS.iter().any(|w| lead.contains(w))
            && (found(quote) || found_all(quote))
    })
}

/// Runs one job: one local call, and one repair attempt when the output is
/// not the JSON asked for or was cut off by the token limit (with twice the
/// token limit). Errors other than an unreachable server make the job fail,
/// not the run.
async fn run_job(
    local: &dyn ChatModel,
    job: Job,
    settings: &JobSettings,
    log: &EventLog,
) -> Finished {
    let began = std::time::Instant::now();
    log.emit(Event::JobStarted {
        round: settings.round,
        job: job.number,
        task: job.task.id.clone(),
        chunk: job.chunk_label.clone(),
    });
    let mut messages = worker_messages(&job);
    // Extra samples are only worth it if they can differ.
    let temperature = if job.sample > 0 {
        settings.temperature.max(0.7)
    } else {
        settings.temperature
    };
    let mut usage = Usage::default();
    let mut calls = 0;
    let mut max_tokens = settings.max_tokens;
    let mut reason = String::new();
    let mut unreachable = None;
    let mut call_failed = false;
    // A dropped guess sent back for another reading, which stands if the
    // re-read brings no usable reply.
    let mut guess = None;
    // The first reply and as many re-asks as the run allows the remote
    // model's replies (`max_json_retries`).
    for attempt in 0..=settings.max_json_retries {
        let request = worker_request(&messages, temperature, max_tokens);
        let reply = match crate::local_call::call(local, &request, settings.timeout).await {
            Ok(reply) => reply,
            Err(failure) => {
                reason = failure.reason();
                if let crate::local_call::LocalFailure::Unreachable(error) = failure {
                    unreachable = Some(error);
                }
                call_failed = true;
                break;
            }
        };
        usage += reply.usage;
        calls += 1;
        match read_reply(&reply, max_tokens) {
            Ok(worker) => {
                let misread_figure = names_a_figure(&worker);
                let outcome = judge(worker, &job);
                if let Outcome::Ungrounded(why) = &outcome
                    && job.recheck
                    && misread_figure
                    && guess.is_none()
                    && attempt < settings.max_json_retries
                {
                    messages.push(Message::assistant(reply.content));
                    messages.push(Message::user(prompts::worker_recheck(why)));
                    guess = Some(outcome);
                    continue;
                }
                return finished(
                    job,
                    outcome,
                    (usage, calls, began),
                    None,
                    false,
                    settings,
                    log,
                );
            }
            Err(why) => {
                reason = why;
                if attempt < settings.max_json_retries {
                    messages.push(Message::assistant(reply.content));
                    messages.push(Message::user(prompts::worker_repair(&reason)));
                    // Twice the room once: a reply cut off at the limit
                    // gets space to finish, not a doubling every time.
                    if attempt == 0 {
                        max_tokens = max_tokens.saturating_mul(2);
                    }
                }
            }
        }
    }
    finished(
        job,
        guess.unwrap_or(Outcome::Failed(reason)),
        (usage, calls, began),
        unreachable,
        call_failed,
        settings,
        log,
    )
}

/// Whether a worker's answer names a figure (has a digit). Only such a
/// dropped guess is read again: the misread a second reading was seen to
/// mend is a figure ("2023-10-24" beside "Released on 2023-10-02"), an
/// answer that only repeats the task names nothing a re-read could
/// correct, and every re-read is one more local call.
fn names_a_figure(worker: &WorkerOutput) -> bool {
    worker
        .answer
        .as_ref()
        .is_some_and(|answer| answer.to_string().bytes().any(|b| b.is_ascii_digit()))
}

/// One call's request: the conversation so far, asking for a finding.
fn worker_request(messages: &[Message], temperature: f32, max_tokens: u32) -> ChatRequest {
    ChatRequest::new(messages.to_vec())
        .with_temperature(temperature)
        .with_max_tokens(max_tokens)
        .with_response_format(ResponseFormat::json_schema(
            "finding",
            prompts::worker_schema(),
        ))
}

/// The finding in a worker's reply, or why there is none to use.
fn read_reply(reply: &ChatResponse, max_tokens: u32) -> Result<WorkerOutput, String> {
    if reply.is_truncated() {
        return Err(format!(
            "the reply was cut off by the token limit ({max_tokens} tokens)"
        ));
    }
    extract_as::<WorkerOutput>(&reply.content).map_err(|e| e.reason)
}

/// A job's conversation: the worker's instructions, then the chunk and
/// the task (the chunk first, so that jobs on one chunk share a prefix).
fn worker_messages(job: &Job) -> Vec<Message> {
    vec![
        Message::system(prompts::WORKER_SYSTEM),
        Message::user(prompts::worker(
            &job.document,
            job.section.as_deref(),
            &job.text,
            &job.task.instruction,
            &job.task.advice,
        )),
    ]
}

/// A worker's explanation, kept only when its chunk bears all of it out
/// (see `borne_out`) and it says more than the answer in the task's words
/// (see `only_links`), even beside a real citation: a worker that quoted a
/// real IDLE entry explained that "the release added support for Jupyter
/// notebooks, which was a feature added in IDLE 3.1b1", and the remote
/// passed it on (run 28).
fn kept_explanation(explanation: String, answer: &str, chunk: &str, task: &str) -> String {
    if borne_out(&explanation, chunk, task) && !only_links(&explanation, answer, task) {
        explanation
    } else {
        String::new()
    }
}

/// What a parsed worker reply comes to: an answer (its citation checked
/// against the chunk), nothing, or a guess when the answer is not in the
/// chunk it read. A citation verifies an answer only when it is in the
/// chunk and holds the answer (the grounding rules, with the citation as
/// the text): on IDLE's changelog the 0.5B model quoted a real line of its
/// chunk beside whatever answer it made up ("'Exit IDLE'" beside
/// "bpo-45495: Add context keywords..."), and such answers were shown to
/// the remote model as verified.
///
/// An answer that only repeats the task or names the document (see
/// [`restates`], [`names_the_document`]), one without the form the task
/// asks for (see [`wrong_form`]), one that is only a section or list
/// number (see [`numbering_as_answer`]), and one from
/// an excerpt (chunk and section heading) that names none of the versions
/// the task asks about (see [`other_versions`]), are dropped too.
fn judge(worker: WorkerOutput, job: &Job) -> Outcome {
    let (chunk, task) = (&*job.text, job.task.instruction.as_str());
    // The chunk with its heading, built once for the checks that read it.
    let excerpt = job.excerpt();
    let off_subject = job.off_subject_of(&excerpt);
    let outcome = match as_text(worker.answer) {
        Some(answer) => {
            let mut citation = as_text(worker.citation);
            // A citation that is only the answer again ("pyenv-virtualenv"
            // cited as "pyenv-virtualenv") shows where the answer is, not
            // that it answers: the chunk's own sentence says more.
            let cited = citation.as_deref().is_some_and(|c| {
                citation_found(c, chunk)
                    && answer_grounded(&answer, c, task)
                    && !only_the_answer(c, &answer)
            });
            // An answer the chunk holds as written is checked against the
            // chunk's own sentence around it (see `evidence`), which stands
            // in for a citation the worker made up.
            let found = evidence(&answer, chunk, task);
            let support = found.as_ref().map_or(0, |e| e.support);
            let verified = cited || found.is_some();
            if !cited && let Some(found) = found {
                citation = Some(found.quote);
            }
            let explanation = kept_explanation(worker.explanation, &answer, chunk, task);
            Outcome::Answer {
                answer,
                citation,
                explanation,
                verified,
                support,
            }
        }
        None => Outcome::Nothing,
    };
    let outcome = normalise_outcome(outcome);
    let form = match &outcome {
        Outcome::Answer { answer, .. } => wrong_form(answer, task),
        _ => None,
    };
    match outcome {
        Outcome::Answer { answer, .. } if !answer_grounded(&answer, chunk, task) => {
            Outcome::Ungrounded(format!("{answer:?} is not in the excerpt"))
        }
        Outcome::Answer {
            answer,
            verified: false,
            ..
        } if untied_figures(&answer, chunk, task) => Outcome::Ungrounded(format!(
            "{answer:?} is the task's words around a figure the excerpt never ties to the task"
        )),
        Outcome::Answer { answer, .. }
            if restates(&answer, &job.asked())
                || figure_of_the_task(&answer, task)
                || names_the_document(&answer, &job.document) =>
        {
            Outcome::Ungrounded(format!(
                "{answer:?} only repeats the task or the document's name and names no answer"
            ))
        }
        Outcome::Answer { answer, .. } if form.is_some() => Outcome::Ungrounded(format!(
            "{answer:?} is not {}, which the task asks for",
            form.unwrap_or_default()
        )),
        Outcome::Answer { answer, .. } if reference_as_answer(&answer, chunk, task) => {
            entry_for_reference(&answer, chunk, task, off_subject.is_some())
        }
        Outcome::Answer { answer, .. } if numbering_as_answer(&answer, &excerpt, task) => {
            Outcome::Ungrounded(format!(
                "{answer:?} only numbers a section or a list item in the excerpt, and the task is not about the numbering"
            ))
        }
        Outcome::Answer { answer, .. } if off_subject.is_some() => Outcome::Ungrounded(format!(
            "{answer:?} comes from an excerpt that never mentions {}, which the task asks about",
            off_subject.unwrap_or_default()
        )),
        Outcome::Answer {
            answer,
            citation: Some(quote),
            ..
        } if figure_off_topic(&answer, &quote, &job.topic(), &job.document) => Outcome::Ungrounded(
            format!("{answer:?} comes from {quote:?}, which holds none of the task's words"),
        ),
        Outcome::Answer {
            answer,
            citation: Some(quote),
            ..
        } if figure_in_a_name(&answer, &quote, &job.topic(), &job.document) => Outcome::Ungrounded(
            format!("{answer:?} only ends a longer name in {quote:?}, not one the task asks about"),
        ),
        other => other,
    }
}

/// An answer that is only a change reference: the entry it labels, when
/// that entry is about the task and the excerpt is on the task's subject
/// (see [`labelled_entry`]); otherwise a guess.
fn entry_for_reference(answer: &str, chunk: &str, task: &str, off_subject: bool) -> Outcome {
    match labelled_entry(answer, chunk, task).filter(|_| !off_subject) {
        Some(entry) => Outcome::Answer {
            answer: entry.answer,
            citation: Some(entry.quote),
            explanation: String::new(),
            verified: true,
            support: entry.support,
        },
        None => Outcome::Ungrounded(format!(
            "{answer:?} is only an issue or change number in the excerpt, and the task is not about one"
        )),
    }
}

fn finished(
    job: Job,
    outcome: Outcome,
    (usage, calls, began): (Usage, u32, std::time::Instant),
    unreachable: Option<Error>,
    call_failed: bool,
    settings: &JobSettings,
    log: &EventLog,
) -> Finished {
    let (answer, citation, explanation, error) = match &outcome {
        Outcome::Answer {
            answer,
            citation,
            explanation,
            ..
        } => (
            Some(answer.clone()),
            citation.clone(),
            Some(explanation.clone()),
            None,
        ),
        Outcome::Nothing => (None, None, None, None),
        Outcome::Ungrounded(answer) => (
            None,
            None,
            Some(format!("dropped as a guess: {answer}")),
            None,
        ),
        Outcome::Failed(reason) => (None, None, None, Some(reason.clone())),
    };
    log.emit(Event::JobFinished {
        round: settings.round,
        job: job.number,
        task: job.task.id.clone(),
        chunk: job.chunk_label.clone(),
        answer,
        citation,
        explanation,
        error,
        usage,
        seconds: began.elapsed().as_secs_f64(),
    });
    Finished {
        output: JobOutput {
            number: job.number,
            task: job.task.id.clone(),
            chunk: job.chunk_label,
            section: job.section,
            rank: job.rank,
            outcome,
        },
        usage,
        calls,
        unreachable,
        call_failed,
    }
}

/// How a round of jobs ended.
pub(crate) struct Ran {
    pub outputs: Vec<JobOutput>,
    pub usage: Usage,
    pub calls: u32,
    /// Why the round stopped early: the local server is unreachable, or
    /// its calls failed `breaker_threshold` times in a row.
    pub stopped: Option<crate::ProtocolError>,
}

/// Runs the jobs with at most `concurrency` in flight. Stops at the first
/// job that finds the local server unreachable, or when calls fail job
/// after job (the jobs still in flight are dropped, which cancels them),
/// and returns why, with the usage so far.
pub(crate) async fn run_jobs(
    local: &dyn ChatModel,
    jobs: Vec<Job>,
    concurrency: usize,
    chunk_affinity: bool,
    settings: &JobSettings,
    log: &EventLog,
) -> Ran {
    let threshold = breaker_threshold(concurrency);
    let concurrency = concurrency.max(1);
    let lanes = if chunk_affinity {
        lanes(jobs, concurrency)
    } else {
        jobs.into_iter().map(|job| vec![job]).collect()
    };
    // Each lane runs its jobs one after another; up to `concurrency` lanes
    // run at once, so at most `concurrency` jobs are in flight.
    let mut stream = futures::stream::iter(lanes)
        .map(|lane| {
            Box::pin(futures::stream::iter(lane).then(|job| run_job(local, job, settings, log)))
        })
        .flatten_unordered(concurrency);
    let mut ran = Ran {
        outputs: Vec::new(),
        usage: Usage::default(),
        calls: 0,
        stopped: None,
    };
    let mut failing = 0;
    while let Some(done) = stream.next().await {
        ran.usage += done.usage;
        ran.calls += done.calls;
        if let Some(error) = done.unreachable {
            ran.stopped = Some(crate::ProtocolError::LocalUnreachable(error));
            return ran;
        }
        failing = if done.call_failed { failing + 1 } else { 0 };
        let last = match &done.output.outcome {
            Outcome::Failed(reason) => reason.clone(),
            _ => String::new(),
        };
        ran.outputs.push(done.output);
        if failing >= threshold {
            ran.stopped = Some(crate::ProtocolError::LocalFailing {
                failures: failing,
                last,
            });
            return ran;
        }
    }
    ran
}

/// Groups the jobs into lanes of jobs that read the same chunk, so that a
/// server with a prompt cache reads each chunk once per lane instead of
/// once per job (the chunk comes before the task in the prompt). When there
/// are fewer chunks than `concurrency`, the longest lanes are split, so
/// that as many jobs still run at once.
fn lanes(jobs: Vec<Job>, concurrency: usize) -> Vec<Vec<Job>> {
    let mut lanes: Vec<Vec<Job>> = Vec::new();
    let mut lane_of: HashMap<String, usize> = HashMap::new();
    for job in jobs {
        match lane_of.get(&job.chunk_label) {
            Some(&lane) => lanes[lane].push(job),
            None => {
                lane_of.insert(job.chunk_label.clone(), lanes.len());
                lanes.push(vec![job]);
            }
        }
    }
    while lanes.len() < concurrency {
        let Some((longest, _)) = lanes
            .iter()
            .enumerate()
            .filter(|(_, lane)| lane.len() > 1)
            .max_by_key(|(_, lane)| lane.len())
        else {
            break;
        };
        let half = lanes[longest].len() / 2;
        let rest = lanes[longest].split_off(half);
        lanes.push(rest);
    }
    lanes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jobs(tasks: &[&str], chunks: &[&str]) -> Vec<Job> {
        // Task-major, as plans are laid out: every chunk for the first
        // task, then every chunk for the next.
        let mut jobs = Vec::new();
        for task in tasks {
            let task = Arc::new(PlanTask {
                id: task.to_string(),
                instruction: task.to_string(),
                advice: String::new(),
                query: String::new(),
            });
            for chunk in chunks {
                jobs.push(Job {
                    number: jobs.len(),
                    task: task.clone(),
                    chunk_label: chunk.to_string(),
                    document: "d".into(),
                    section: None,
                    text: Arc::from("text"),
                    sample: 0,
                    rank: None,
                    recheck: false,
                    question: Arc::from(task.instruction.as_str()),
                });
            }
        }
        jobs
    }

    /// A job of `task` on `chunk`.
    fn on(chunk: &str, task: &str) -> Job {
        let mut job = jobs(&[task], &["d#0"]).remove(0);
        job.text = Arc::from(chunk);
        job
    }

    #[test]
    fn an_explanation_goes_on_only_when_the_chunk_bears_it_out() {
        let chunk = "What's New in IDLE 3.1b1?\n\n- Issue #4815: Offer conversion to UTF-8 if source files have no encoding declaration.";
        // No name the chunk lacks (see `missing_name`): the explanation is
        // what is judged.
        let task = "Which IDLE release added support for notebooks?";
        let reply = |explanation: &str| WorkerOutput {
            explanation: explanation.into(),
            citation: Some(Value::String("Offer conversion to UTF-8".into())),
            answer: Some(Value::String("Offer conversion to UTF-8".into())),
        };
        let explained = |judged: Outcome| match judged {
            Outcome::Answer { explanation, .. } => explanation,
            other => panic!("{other:?}"),
        };
        // A real citation does not carry an explanation the chunk lacks.
        let made_up = "The release added support for Jupyter notebooks, which was a feature added in IDLE 3.1b1.";
        assert_eq!(explained(judge(reply(made_up), &on(chunk, task))), "");
        let own_words =
            "Source files that have no encoding declaration get an offer of conversion.";
        assert_eq!(
            explained(judge(reply(own_words), &on(chunk, task))),
            own_words
        );
    }

    #[test]
    fn a_citation_of_only_the_answer_gives_way_to_the_chunks_sentence() {
        let chunk = "## Plugins\n\nUse pyenv-virtualenv to manage virtualenvs with pyenv.\n";
        let reply = WorkerOutput {
            explanation: String::new(),
            citation: Some(Value::String("pyenv-virtualenv".into())),
            answer: Some(Value::String("pyenv-virtualenv".into())),
        };
        let judged = judge(
            reply,
            &on(chunk, "Which fork is recommended for virtualenvs?"),
        );
        assert!(
            matches!(&judged, Outcome::Answer { citation: Some(c), verified: true, .. }
                if c == "Use pyenv-virtualenv to manage virtualenvs with pyenv."),
            "{judged:?}"
        );
    }

    #[test]
    fn a_section_number_does_not_answer_how_long() {
        let task = "Find how long the written offer must remain valid.";
        let job = on(
            "  6. Conveying Non-Source Forms.\n\n  a written offer, valid for at least three years, to give anyone the source.",
            task,
        );
        let reply = |answer: &str| WorkerOutput {
            explanation: String::new(),
            citation: Some(Value::String("valid for at least three years".into())),
            answer: Some(Value::String(answer.into())),
        };
        let judged = judge(reply("6"), &job);
        assert!(
            matches!(&judged, Outcome::Ungrounded(why) if why.contains("only numbers a section")),
            "{judged:?}"
        );
        let judged = judge(reply("three years"), &job);
        assert!(
            matches!(judged, Outcome::Answer { verified: true, .. }),
            "{judged:?}"
        );
    }

    #[test]
    fn an_answer_from_an_excerpt_that_never_names_the_tasks_subject_is_dropped() {
        let task = "What colour is the background of the 'IDLE Dark' theme?";
        let reply = |answer: &str| WorkerOutput {
            explanation: String::new(),
            citation: None,
            answer: Some(Value::String(answer.into())),
        };
        let mut gray = on(
            "bpo-35771: the foreground is the same as normal text and the background is a contrasting gray.",
            task,
        );
        gray.section = Some("What's New in IDLE 3.8.0".into());
        let judged = judge(reply("gray"), &gray);
        assert!(
            matches!(&judged, Outcome::Ungrounded(why) if why.contains("never mentions IDLE Dark")),
            "{judged:?}"
        );
        let cobalt = on(
            "- Issue #24820: IDLE now has an 'IDLE Dark' built-in text color theme, with a cobalt blue background.",
            task,
        );
        let judged = judge(reply("cobalt blue"), &cobalt);
        assert!(
            matches!(judged, Outcome::Answer { verified: true, .. }),
            "{judged:?}"
        );
    }

    #[test]
    fn the_users_question_rules_out_excerpts_as_the_task_does() {
        // The planner's task lost what the user asked about.
        let mut job = on(
            "GNU GENERAL PUBLIC LICENSE\nVersion 3, 29 June 2007\n",
            "Find the year mentioned in the text.",
        );
        let reply = |answer: &str| WorkerOutput {
            explanation: String::new(),
            citation: None,
            answer: Some(Value::String(answer.into())),
        };
        assert!(matches!(judge(reply("2007"), &job), Outcome::Answer { .. }));
        job.question =
            Arc::from("In which year was version 4 of the GNU General Public License published?");
        let judged = judge(reply("2007"), &job);
        assert!(
            matches!(&judged, Outcome::Ungrounded(why) if why.contains("never mentions 4")),
            "{judged:?}"
        );
        // An excerpt about another entity than the question's, the same.
        let mut job = on(
            "The access code for Unit Cobalt is TR-1886.",
            "Find the access code in the text.",
        );
        job.question = Arc::from("What is the access code for the Delta plant?");
        let judged = judge(reply("TR-1886"), &job);
        assert!(
            matches!(&judged, Outcome::Ungrounded(why) if why.contains("never mentions Delta")),
            "{judged:?}"
        );
    }

    #[test]
    fn a_reference_answer_is_replaced_by_its_entry_or_dropped() {
        let task = "Which item was put at the top of the Run menu when it was reordered?";
        let job = on(
            "bpo-33855: Minimally test all non-trivial modules.\n\n\
bpo-37748: Reorder the Run menu.  Put the most common choice,\nRun Module, at the top.\n",
            task,
        );
        let reply = |answer: &str| WorkerOutput {
            explanation: String::new(),
            citation: Some(Value::String(answer.into())),
            answer: Some(Value::String(answer.into())),
        };
        let judged = judge(reply("bpo-37748"), &job);
        assert!(
            matches!(&judged, Outcome::Answer { answer, citation: Some(quote), verified: true, .. }
                if answer.contains("Run Module") && quote.starts_with("bpo-37748")),
            "{judged:?}"
        );
        // An entry about something else is still no answer.
        let judged = judge(reply("bpo-33855"), &job);
        assert!(
            matches!(&judged, Outcome::Ungrounded(why) if why.contains("issue or change number")),
            "{judged:?}"
        );
    }

    #[test]
    fn an_answer_that_repeats_the_task_is_dropped() {
        let task = "Read the README.md file for the minimum required RAM for pyenv.";
        let mut job = on("pyenv needs a POSIX shell and git.", task);
        job.document = "pyenv-README.md".into();
        let reply = |answer: &str| WorkerOutput {
            explanation: String::new(),
            citation: Some(Value::String("pyenv-README.md".into())),
            answer: Some(Value::String(answer.into())),
        };
        let judged = judge(reply(task), &job);
        assert!(
            matches!(&judged, Outcome::Ungrounded(why) if why.contains("only repeats the task")),
            "{judged:?}"
        );
        let judged = judge(reply("The pyenv-README.md file."), &job);
        assert!(matches!(judged, Outcome::Ungrounded(_)), "{judged:?}");
        let judged = judge(reply("a POSIX shell"), &job);
        assert!(matches!(judged, Outcome::Answer { .. }), "{judged:?}");
    }

    #[test]
    fn an_answer_from_an_excerpt_about_another_release_is_dropped() {
        let task = "Find the date when IDLE 3.12.0 was released.";
        let reply = WorkerOutput {
            explanation: String::new(),
            citation: Some(Value::String("Released on 2016-12-23".into())),
            answer: Some(Value::String("2016-12-23".into())),
        };
        let mut job = on(
            "bpo-28572: Add 10% to coverage.\nReleased on 2016-12-23",
            task,
        );
        let judged = judge(reply, &job);
        assert!(
            matches!(&judged, Outcome::Ungrounded(why) if why.contains("never mentions 3.12.0")),
            "{judged:?}"
        );
        // The section's heading names the release the chunk is about.
        job.section = Some("What's New in IDLE 3.12.0".into());
        let reply = WorkerOutput {
            explanation: String::new(),
            citation: Some(Value::String("Released on 2016-12-23".into())),
            answer: Some(Value::String("2016-12-23".into())),
        };
        assert!(matches!(
            judge(reply, &job),
            Outcome::Answer { verified: true, .. }
        ));
    }

    fn shape(lanes: &[Vec<Job>]) -> Vec<Vec<(String, String)>> {
        lanes
            .iter()
            .map(|lane| {
                lane.iter()
                    .map(|j| (j.chunk_label.clone(), j.task.id.clone()))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn lanes_keep_one_chunk_together_and_every_job() {
        let lanes = lanes(jobs(&["a", "b", "c"], &["c1", "c2", "c3", "c4", "c5"]), 4);
        assert_eq!(lanes.len(), 5);
        for lane in &lanes {
            assert!(lane.iter().all(|j| j.chunk_label == lane[0].chunk_label));
            assert_eq!(lane.len(), 3);
        }
        assert_eq!(lanes.iter().map(Vec::len).sum::<usize>(), 15);
    }

    #[test]
    fn fewer_chunks_than_lanes_split_so_all_slots_work() {
        let lanes = lanes(jobs(&["a", "b", "c", "d", "e", "f"], &["c1"]), 4);
        assert_eq!(lanes.len(), 4, "{:?}", shape(&lanes));
        assert_eq!(lanes.iter().map(Vec::len).sum::<usize>(), 6);
        // One job in all: one lane, nothing to split.
        assert_eq!(lanes_len(jobs(&["a"], &["c1"]), 8), 1);
    }

    fn lanes_len(jobs: Vec<Job>, concurrency: usize) -> usize {
        lanes(jobs, concurrency).len()
    }

    #[test]
    fn the_worker_is_told_its_section_and_issue_numbers_are_not_answers() {
        let mut job = jobs(&["lines"], &["NEWS.txt#4"]).remove(0);
        job.section = Some("What's New in IDLE 3.5.0".into());
        let prompt = &worker_messages(&job)[1].content;
        assert!(
            prompt.contains("starting in the section \"What's New in IDLE 3.5.0\""),
            "{prompt}"
        );
        let chunk = "bpo-32984: IDLE - set __file__ while running a startup file.";
        let reply = |answer: &str| WorkerOutput {
            explanation: String::new(),
            citation: Some(Value::String("bpo-32984".into())),
            answer: Some(Value::String(answer.into())),
        };
        let judged = judge(
            reply("32984"),
            &on(chunk, "How many lines of code does idlelib have?"),
        );
        assert!(
            matches!(&judged, Outcome::Ungrounded(why) if why.contains("issue or change number")),
            "{judged:?}"
        );
        let judged = judge(reply("32984"), &on(chunk, "Which bpo issue set __file__?"));
        assert!(
            matches!(judged, Outcome::Answer { verified: true, .. }),
            "{judged:?}"
        );
    }

    #[test]
    fn a_citation_verifies_only_the_answer_it_holds() {
        let chunk = "bpo-45495: Add context keywords 'case' and 'match' to completions list.\n\
bpo-37748: Reorder the Run menu.  Put the most common choice,\nRun Module, at the top.";
        let task = "Find the top item in the Run menu after it has been reordered.";
        let reply = |answer: &str, citation: &str| WorkerOutput {
            explanation: String::new(),
            citation: Some(Value::String(citation.into())),
            answer: Some(Value::String(answer.into())),
        };
        let right = judge(
            reply(
                "The top item is 'Run Module'.",
                "The excerpt states: 'Put the most common choice, Run Module, at the top.'",
            ),
            &on(chunk, task),
        );
        assert!(
            matches!(right, Outcome::Answer { verified: true, .. }),
            "{right:?}"
        );
        // A quote that holds the answer verifies it (whether it is the
        // right answer is the synthesizer's to weigh).
        let held = judge(
            reply(
                "The top item in the Run menu is 'Add context'.",
                "bpo-45495: Add context keywords 'case' and 'match' to completions list.",
            ),
            &on(chunk, task),
        );
        assert!(matches!(held, Outcome::Answer { verified: true, .. }));
        // A real line of the chunk beside an answer it does not hold.
        let made_up = judge(
            reply(
                "The top item in the Run menu is 'Match keywords'.",
                "bpo-37748: Reorder the Run menu.",
            ),
            &on(chunk, task),
        );
        assert!(
            matches!(
                made_up,
                Outcome::Answer {
                    verified: false,
                    ..
                }
            ),
            "{made_up:?}"
        );
    }

    #[test]
    fn a_quote_after_a_lead_in_is_found() {
        let chunk = "bpo-37748: Reorder the Run menu.  Put the most common choice,\nRun Module, at the top.";
        assert!(citation_found("'Run Module, at the top.'", chunk));
        assert!(citation_found(
            "The excerpt states: 'bpo-37748: Reorder the Run menu. Put the most common choice, Run Module, at the top.'",
            chunk
        ));
        // A lead-in before words the chunk does not have, and a quote the
        // chunk does not have, are still not found.
        assert!(!citation_found(
            "The excerpt states: 'Exit IDLE is first.'",
            chunk
        ));
        assert!(!citation_found("Reorder: the Run menu is sorted", chunk));
        assert!(!citation_found("The excerpt states:", chunk));
    }

    #[test]
    fn quotes_joined_by_an_ellipsis_are_found_when_each_is() {
        let chunk = "his blood pressure was recorded at 160/100 mmHg, and he reported chest discomfort. \
Recent laboratory results show that his LDL cholesterol level is elevated at 170 mg/dL.";
        assert!(citation_found(
            "blood pressure was recorded at 160/100 mmHg ... LDL cholesterol level is elevated at 170 mg/dL",
            chunk
        ));
        assert!(citation_found(
            "The excerpt states: \"160/100 mmHg\" … \"170 mg/dL\"",
            chunk
        ));
        // One quote the chunk lacks, or nothing but the ellipsis, is not.
        assert!(!citation_found(
            "blood pressure was recorded at 160/100 mmHg ... LDL is 190 mg/dL",
            chunk
        ));
        assert!(!citation_found("...", chunk));
    }
}
