//! Turning job outputs into findings for the remote model, deterministically.

use crate::findings::{Findings, MergedAnswer, TaskFindings};
use crate::grounding::wrong_form;
use crate::plan::PlanTask;
use minions_core::tokens::approx_tokens;

/// What one job produced.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// The chunk answered the task.
    Answer {
        answer: String,
        citation: Option<String>,
        explanation: String,
        /// Whether the citation was found in the chunk.
        verified: bool,
        /// How many of the task's distinctive words surround the answer
        /// in its chunk (see [`crate::evidence::Evidence::support`]).
        support: usize,
    },
    /// The chunk held nothing relevant.
    Nothing,
    /// The worker answered, but its answer is not in the chunk (a number or
    /// most of its words are not there), or is an issue number where the
    /// task asks for something else: a guess, dropped. Holds why.
    Ungrounded(String),
    /// The job failed, with the reason.
    Failed(String),
}

/// A finished job, for aggregation.
#[derive(Debug, Clone)]
pub(crate) struct JobOutput {
    pub number: usize,
    pub task: String,
    pub chunk: String,
    /// The heading path of the section the chunk starts in.
    pub section: Option<String>,
    /// The chunk's BM25 rank for the task's query or the question (see
    /// `Job::rank`).
    pub rank: Option<usize>,
    pub outcome: Outcome,
}

/// Answers that mean "nothing here", whatever a model spells them as: the
/// usual words for nothing, a bare lead-in with nothing after it ("The
/// answer is:"), or a loop of the same words.
fn is_null_answer(answer: &str) -> bool {
    if crate::replies::repeats_itself(answer) {
        return true;
    }
    let mut key = merge_key(answer);
    for lead in ["the answer is", "answer", "the answer"] {
        if let Some(rest) = key.strip_prefix(lead) {
            key = rest
                .trim_matches(|c: char| !c.is_alphanumeric())
                .to_string();
            break;
        }
    }
    matches!(
        key.as_str(),
        "" | "null"
            | "none"
            | "n/a"
            | "na"
            | "unknown"
            | "not found"
            | "not mentioned"
            | "not specified"
            | "not available"
            | "not applicable"
            | "no information"
            | "not stated"
    )
}

/// Answers equal under this key are merged: case, spacing and trailing
/// punctuation do not matter.
fn merge_key(answer: &str) -> String {
    answer
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .trim_end_matches(['.', ',', ';', ':', '!'])
        .trim_matches(['"', '\''])
        .to_string()
}

pub(crate) fn normalise_outcome(outcome: Outcome) -> Outcome {
    match outcome {
        Outcome::Answer { answer, .. }
            if is_null_answer(&answer) || crate::replies::describes_the_documents(&answer) =>
        {
            Outcome::Nothing
        }
        other => other,
    }
}

/// How many answers to one task the remote model is shown. On the GPL the
/// 0.5B workers gave about 19 different answers to one task, most of them
/// guesses about chunks that do not hold the answer, and the 1.5B
/// synthesizer picked a wrong one from the middle of the list ("the GNU
/// Lesser General Public License" for section 13's Affero). The best few,
/// ordered as [`aggregate`] orders them, keep the right one in most runs
/// and cost a fraction of the tokens.
pub(crate) const ANSWERS_SHOWN_PER_TASK: usize = 4;

/// Groups outputs by task, drops empty answers, merges identical ones,
/// orders them (verified first, then by how well their best chunk matches
/// the task's query or the question, then by how many chunks gave them),
/// keeps [`ANSWERS_SHOWN_PER_TASK`] of them and as many of those as fit in
/// `token_budget`.
pub(crate) fn aggregate(
    tasks: &[PlanTask],
    outputs: &[JobOutput],
    token_budget: usize,
) -> Findings {
    let mut outputs: Vec<&JobOutput> = outputs.iter().collect();
    outputs.sort_by_key(|o| o.number);
    let mut findings = Findings::default();
    for task in tasks {
        let mut found = TaskFindings {
            id: task.id.clone(),
            instruction: task.instruction.clone(),
            jobs: 0,
            empty: 0,
            failed: 0,
            failures: Vec::new(),
            answers: Vec::new(),
            not_shown: 0,
        };
        let mut keys: Vec<String> = Vec::new();
        // The best support and chunk rank of each merged answer, beside it.
        let mut ranks: Vec<(usize, usize)> = Vec::new();
        for output in outputs.iter().filter(|o| o.task == task.id) {
            found.jobs += 1;
            match &output.outcome {
                // A dropped guess found nothing that is in the chunk.
                Outcome::Nothing | Outcome::Ungrounded(_) => found.empty += 1,
                Outcome::Failed(reason) => {
                    found.failed += 1;
                    if found.failures.len() < 3 && !found.failures.contains(reason) {
                        found.failures.push(reason.clone());
                    }
                }
                Outcome::Answer {
                    answer,
                    citation,
                    explanation,
                    verified,
                    support,
                } => {
                    let key = merge_key(answer);
                    let rank = output.rank.unwrap_or(usize::MAX);
                    let merged = match keys.iter().position(|k| *k == key) {
                        Some(at) => {
                            ranks[at] = (ranks[at].0.max(*support), ranks[at].1.min(rank));
                            &mut found.answers[at]
                        }
                        None => {
                            keys.push(key);
                            ranks.push((*support, rank));
                            found.answers.push(MergedAnswer {
                                answer: answer.trim().to_string(),
                                chunks: Vec::new(),
                                citations: Vec::new(),
                                sections: Vec::new(),
                                explanation: explanation.trim().to_string(),
                                verified: false,
                            });
                            let last = found.answers.len() - 1;
                            &mut found.answers[last]
                        }
                    };
                    merged.verified |= *verified;
                    if !merged.chunks.contains(&output.chunk) {
                        merged.chunks.push(output.chunk.clone());
                    }
                    if let Some(section) = &output.section
                        && merged.sections.len() < 2
                        && !merged.sections.contains(section)
                    {
                        merged.sections.push(section.clone());
                    }
                    if let Some(citation) =
                        citation.as_deref().map(str::trim).filter(|c| !c.is_empty())
                        && merged.citations.len() < 3
                        && !merged.citations.iter().any(|c| c == citation)
                    {
                        merged.citations.push(citation.to_string());
                    }
                }
            }
        }
        keep_likeliest(&mut found, ranks);
        findings.tasks.push(found);
    }
    fit_budget(&mut findings, token_budget);
    findings
}

/// Orders a task's answers (`ranks`: each one's best support and best
/// chunk rank) and keeps the first [`ANSWERS_SHOWN_PER_TASK`]: verified
/// first, then the one whose paragraph holds the most of the task's words
/// (the GPL's "29 June 2007" beside "Version 3" before the "20 December
/// 1996" of a treaty), then the best-ranked chunk (a chunk that matches
/// the question is likelier to hold its answer than one that does not),
/// then the most chunks; ties keep the order they were found in.
fn keep_likeliest(found: &mut TaskFindings, ranks: Vec<(usize, usize)>) {
    let mut ordered: Vec<(MergedAnswer, (usize, usize))> =
        found.answers.drain(..).zip(ranks).collect();
    ordered.sort_by_key(|(a, (support, rank))| {
        (
            std::cmp::Reverse(a.verified),
            std::cmp::Reverse(*support),
            *rank,
            std::cmp::Reverse(a.chunks.len()),
        )
    });
    found.not_shown = ordered.len().saturating_sub(ANSWERS_SHOWN_PER_TASK);
    found.answers = ordered
        .into_iter()
        .take(ANSWERS_SHOWN_PER_TASK)
        .map(|(a, _)| a)
        .collect();
}

/// Drops the least-supported answers across all tasks until the rendered
/// findings fit the budget; each task keeps its best answer while possible.
fn fit_budget(findings: &mut Findings, token_budget: usize) {
    while approx_tokens(&render(findings)) > token_budget {
        let weakest = findings
            .tasks
            .iter()
            .enumerate()
            .filter_map(|(t, task)| {
                task.answers
                    .last()
                    .map(|a| (t, task.answers.len(), a.chunks.len()))
            })
            // Prefer to cut from tasks with more answers, then the least
            // supported answer, then the later task.
            .max_by_key(|&(t, count, support)| (count, std::cmp::Reverse(support), t));
        let Some((t, _, _)) = weakest else {
            break;
        };
        findings.tasks[t].answers.pop();
        findings.omitted += 1;
    }
}

/// The findings as text for the remote model.
pub(crate) fn render(findings: &Findings) -> String {
    let mut out = String::new();
    let total_jobs: usize = findings.tasks.iter().map(|t| t.jobs).sum();
    let total_failed: usize = findings.tasks.iter().map(|t| t.failed).sum();
    if total_jobs > 0 && total_failed == total_jobs {
        out.push_str(&format!(
            "All {total_jobs} local jobs failed this round, so there are no findings. Consider smaller chunks or simpler tasks.\n\n"
        ));
    }
    if total_jobs > total_failed && findings.tasks.iter().all(|t| t.answers.is_empty()) {
        out.push_str(
            "No job found an answer in its chunk this round: unless your notes already hold one, the documents read so far do not say.\n\n",
        );
    }
    for task in &findings.tasks {
        let answered = task.chunks_answered(true);
        let unverified = task.chunks_answered(false);
        out.push_str(&format!("Task {} ({}):\n", task.id, task.instruction));
        out.push_str(&format!(
            "  {} jobs: {} chunk(s) answered, {} unverified, {} found nothing, {} failed\n",
            task.jobs, answered, unverified, task.empty, task.failed
        ));
        if task.jobs == 0 {
            out.push_str("  No chunk was selected for this task (nothing matched its query).\n");
        }
        for reason in &task.failures {
            out.push_str(&format!("  failure: {reason}\n"));
        }
        for answer in &task.answers {
            let label = if answer.verified {
                ""
            } else {
                " UNVERIFIED: its citation is not in the excerpt"
            };
            out.push_str(&format!(
                "  - answer: {:?} (from {}){label}\n",
                answer.answer,
                answer.chunks.join(", ")
            ));
            for section in &answer.sections {
                out.push_str(&format!("    in section: {section:?}\n"));
            }
            // An unverified answer's citation is not in its excerpt, or
            // does not hold the answer: it supports nothing. (Its
            // explanation was kept only if the excerpt bears it out.)
            if answer.verified {
                for citation in &answer.citations {
                    out.push_str(&format!("    citation: {citation:?}\n"));
                }
            }
            if !answer.explanation.is_empty() {
                out.push_str(&format!("    explanation: {}\n", answer.explanation));
            }
        }
        if task.not_shown > 0 {
            out.push_str(&format!(
                "  ({} more answer(s), from chunks that match the task less well, not shown)\n",
                task.not_shown
            ));
        }
        out.push('\n');
    }
    if findings.omitted > 0 {
        out.push_str(&format!(
            "({} less-supported answer(s) left out to keep this short.)\n",
            findings.omitted
        ));
    }
    out
}

/// What the local side said in a round, as the remote model was shown it,
/// without our own counts: each task's instruction, and each shown
/// answer's words, documents, sections, citations (verified ones, the only
/// ones shown) and explanation. A final answer may name only what these
/// hold; "4 jobs" is not a source for "4 days" (run 28).
pub(crate) fn said(findings: &Findings) -> String {
    let mut out = String::new();
    for task in &findings.tasks {
        out.push_str(&task.instruction);
        out.push('\n');
        for answer in &task.answers {
            out.push_str(&answer.answer);
            out.push('\n');
            for chunk in &answer.chunks {
                // The document's name, not the chunk's number.
                out.push_str(
                    chunk
                        .rsplit_once('#')
                        .map_or(chunk.as_str(), |(doc, _)| doc),
                );
                out.push('\n');
            }
            for line in answer
                .sections
                .iter()
                .chain(answer.citations.iter().filter(|_| answer.verified))
            {
                out.push_str(line);
                out.push('\n');
            }
            out.push_str(&answer.explanation);
            out.push('\n');
        }
    }
    out
}

/// An answer built from the findings alone, for a run whose remote model
/// gave no usable final answer: the verified answers per task, then the
/// unverified ones, or a plain statement that nothing was found.
pub(crate) fn fallback_answer(rounds: &[Findings]) -> String {
    let mut found = Vec::new();
    let mut unverified = Vec::new();
    let mut jobs = 0;
    for findings in rounds {
        for task in &findings.tasks {
            jobs += task.jobs;
            for answer in &task.answers {
                let line = format!(
                    "- {}: {} (from {})",
                    task.instruction,
                    answer.answer,
                    answer.chunks.join(", ")
                );
                if answer.verified {
                    found.push(line);
                } else {
                    unverified.push(line);
                }
            }
        }
    }
    let mut out = String::new();
    if found.is_empty() && unverified.is_empty() {
        out.push_str(&format!(
            "The documents do not appear to state this: {jobs} local job(s) read the selected chunks and none found it."
        ));
        return out;
    }
    out.push_str("The remote model gave no final answer; this is what the local models found in the documents.\n");
    if !found.is_empty() {
        out.push_str(&found.join("\n"));
        out.push('\n');
    }
    if !unverified.is_empty() {
        out.push_str("Unverified (the quoted words were not found in the text):\n");
        out.push_str(&unverified.join("\n"));
        out.push('\n');
    }
    out.trim_end().to_string()
}

/// The form the task asks for (see [`wrong_form`]) when some round found
/// answers and none of them has it: then the documents do not say,
/// whatever the remote model made of them. Asked how much disk space each
/// Python version takes, the workers of a planned round (asked to find the
/// mentions of disk space) described pyenv's README, the remote model
/// passed the description on three times, and the run ended with the
/// descriptions as its fallback (run 47).
pub(crate) fn none_in_the_asked_form(rounds: &[Findings], task: &str) -> Option<&'static str> {
    let mut answers = rounds
        .iter()
        .flat_map(|findings| &findings.tasks)
        .flat_map(|task| &task.answers)
        .peekable();
    answers.peek()?;
    // Nothing has the form of the task's ask: it names the form, if any.
    let form = wrong_form("", task)?;
    answers
        .all(|found| wrong_form(&found.answer, task).is_some())
        .then_some(form)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str) -> PlanTask {
        PlanTask {
            id: id.into(),
            instruction: format!("find {id}"),
            advice: String::new(),
            query: String::new(),
        }
    }

    fn answer(number: usize, task: &str, chunk: &str, text: &str) -> JobOutput {
        JobOutput {
            number,
            task: task.into(),
            chunk: chunk.into(),
            section: None,
            rank: None,
            outcome: normalise_outcome(Outcome::Answer {
                answer: text.into(),
                citation: Some(format!("cited {text}")),
                explanation: "seen".into(),
                verified: true,
                support: 0,
            }),
        }
    }

    #[test]
    fn findings_none_of_which_has_the_asked_form_say_so() {
        let found = |texts: &[&str]| {
            let outputs: Vec<JobOutput> = texts
                .iter()
                .enumerate()
                .map(|(i, text)| answer(i, "disk", &format!("r#{i}"), text))
                .collect();
            vec![aggregate(&[task("disk")], &outputs, 10_000)]
        };
        let task = "How much disk space does each version take?";
        let described = found(&["The README mentions disk space.", "See the usage section."]);
        assert_eq!(none_in_the_asked_form(&described, task), Some("an amount"));
        let one_amount = found(&["The README mentions disk space.", "About 40 MB."]);
        assert_eq!(none_in_the_asked_form(&one_amount, task), None);
        // No findings is another ending's; a task of no particular form,
        // none.
        assert_eq!(none_in_the_asked_form(&found(&[]), task), None);
        assert_eq!(none_in_the_asked_form(&described, "Which file?"), None);
    }

    #[test]
    fn merges_identical_answers_and_drops_nulls() {
        let outputs = vec![
            answer(2, "bp", "r#2", "160/100 mmHg."),
            answer(1, "bp", "r#1", "160/100  mmhg"),
            answer(3, "bp", "r#3", "N/A"),
            answer(4, "bp", "r#4", "150/90 mmHg"),
            JobOutput {
                number: 5,
                task: "bp".into(),
                chunk: "r#5".into(),
                section: None,
                rank: None,
                outcome: Outcome::Failed("cut off".into()),
            },
        ];
        let mut outputs = outputs;
        outputs[0].section = Some("Visit 2 › Vitals".into());
        let findings = aggregate(&[task("bp")], &outputs, 10_000);
        let bp = &findings.tasks[0];
        assert_eq!((bp.jobs, bp.empty, bp.failed), (5, 1, 1));
        assert_eq!(bp.answers[0].sections, ["Visit 2 › Vitals"]);
        assert_eq!(bp.answers.len(), 2);
        assert_eq!(
            bp.answers[0].answer, "160/100  mmhg",
            "the first job's spelling, by job number"
        );
        assert_eq!(bp.answers[0].chunks, ["r#1", "r#2"]);
        assert_eq!(bp.answers[1].chunks, ["r#4"]);
        let text = render(&findings);
        assert!(
            text.contains("5 jobs: 3 chunk(s) answered, 0 unverified, 1 found nothing, 1 failed"),
            "{text}"
        );
        assert!(text.contains("failure: cut off"));
        assert!(
            text.contains("    in section: \"Visit 2 › Vitals\"\n"),
            "the remote model learns where an answer came from: {text}"
        );
    }

    #[test]
    fn the_budget_drops_the_weakest_answers_first() {
        let tasks: Vec<PlanTask> = (0..6).map(|t| task(&format!("t{t}"))).collect();
        let mut outputs = Vec::new();
        for t in &tasks {
            let n = outputs.len();
            outputs.push(answer(n, &t.id, "d#0", "strong"));
            outputs.push(answer(n + 1, &t.id, "d#1", "strong"));
            for i in 2..5 {
                outputs.push(answer(
                    n + i,
                    &t.id,
                    &format!("d#{i}"),
                    &format!("weak answer number {i} with some words"),
                ));
            }
        }
        let findings = aggregate(&tasks, &outputs, 600);
        assert!(findings.omitted > 0);
        assert!(
            findings
                .tasks
                .iter()
                .all(|t| t.answers[0].answer == "strong")
        );
        assert!(approx_tokens(&render(&findings)) <= 600);
        // Same input, same output.
        assert_eq!(findings, aggregate(&tasks, &outputs, 600));
    }

    #[test]
    fn answers_from_chunks_that_match_the_question_come_first_and_few_are_shown() {
        // Six guesses, none verified; the right one is from the chunk that
        // matches the question best, found late.
        let mut outputs: Vec<JobOutput> = (0..6)
            .map(|i| {
                let mut output = answer(i, "a", &format!("d#{i}"), &format!("guess {i}"));
                if let Outcome::Answer { verified, .. } = &mut output.outcome {
                    *verified = false;
                }
                output.rank = Some(10 - i);
                output
            })
            .collect();
        outputs[0].rank = None;
        outputs[5].rank = Some(0);
        // Two unranked chunks agree: support does not outrank a match.
        outputs.push(answer(6, "a", "d#6", "guess 0"));
        if let Outcome::Answer { verified, .. } = &mut outputs[6].outcome {
            *verified = false;
        }
        // A verified answer from an unranked chunk still comes first.
        outputs.push(answer(7, "a", "d#7", "verified"));
        let findings = aggregate(&[task("a")], &outputs, 10_000);
        let shown: Vec<&str> = findings.tasks[0]
            .answers
            .iter()
            .map(|a| a.answer.as_str())
            .collect();
        assert_eq!(shown, ["verified", "guess 5", "guess 4", "guess 3"]);
        assert_eq!(findings.tasks[0].not_shown, 3);
        let text = render(&findings);
        assert!(
            text.contains(
                "(3 more answer(s), from chunks that match the task less well, not shown)"
            ),
            "{text}"
        );
        assert!(!text.contains("guess 0"), "{text}");
    }

    #[test]
    fn what_was_said_holds_the_findings_but_not_the_counts() {
        let outputs = vec![
            answer(0, "t1", "gpl-3.txt#7", "30 days"),
            JobOutput {
                outcome: Outcome::Nothing,
                ..answer(1, "t1", "gpl-3.txt#12", "")
            },
        ];
        let findings = aggregate(&[task("t1")], &outputs, 10_000);
        assert!(render(&findings).contains("2 jobs"));
        let said = said(&findings);
        assert!(
            said.contains("30 days") && said.contains("cited 30 days"),
            "{said}"
        );
        assert!(said.contains("gpl-3.txt"), "{said}");
        assert!(
            !said.contains('2') && !said.contains('7'),
            "no count or chunk number: {said}"
        );
    }

    #[test]
    fn all_failed_is_said_plainly() {
        let outputs = vec![JobOutput {
            number: 0,
            task: "a".into(),
            chunk: "d#0".into(),
            section: None,
            rank: None,
            outcome: Outcome::Failed("500".into()),
        }];
        let text = render(&aggregate(&[task("a")], &outputs, 1000));
        assert!(text.starts_with("All 1 local jobs failed"), "{text}");
    }
}
