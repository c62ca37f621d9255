//! The checks a remote model's final answer must pass in both protocols.
//! A refused answer goes back to the remote model with the reason, and it
//! may answer again; the rules are the same whether it heard one local
//! model (Minion) or read many jobs' findings (Minions).

use crate::grounding::{self, DocumentFigures};

/// What a final answer is checked against: the documents' figures and
/// words (a figure the user wrote in the task is not made up) and the
/// task as the user wrote it.
pub(crate) struct FinalAnswerCheck {
    figures: DocumentFigures,
    task: String,
}

impl FinalAnswerCheck {
    /// Gathers the documents' figures once, for every answer of the run.
    pub(crate) fn new(documents: &str, task: &str) -> Self {
        Self {
            figures: DocumentFigures::of(documents).and(task),
            task: task.to_string(),
        }
    }

    /// The task as the user wrote it.
    pub(crate) fn task(&self) -> &str {
        &self.task
    }

    /// The figures and names the documents and the task hold.
    pub(crate) fn figures(&self) -> &DocumentFigures {
        &self.figures
    }

    /// Whether a final answer may stand: it names only what the remote
    /// model was told (`told`: the task and everything shown to it), in the
    /// form the task asks for, says more than the task's own words, and
    /// states no figure the documents lack.
    pub(crate) fn check(&self, answer: &str, told: &str) -> Result<(), String> {
        grounding::told_only(answer, told)?;
        no_untold_figures(answer, told)?;
        grounding::in_the_asked_form(answer, &self.task)?;
        only_restates(answer, &self.task)?;
        no_made_up_figures(answer, &self.figures, &self.task)
    }
}

/// Refuses a final answer that states a figure nothing the remote model
/// was told holds (`told`: the task and what the local side said, in
/// digits or words). [`grounding::told_only`] looks only at long numbers
/// and names; a short one counts too: with every GPL job's answer dropped,
/// the remote model answered "4 days" to how long a copyright holder has to
/// notify, a figure it could only have taken from the job counts (run 28).
fn no_untold_figures(answer: &str, told: &str) -> Result<(), String> {
    let untold = DocumentFigures::of(told).missing_from(answer);
    if untold.is_empty() {
        return Ok(());
    }
    Err(format!(
        "the answer states {}, which nothing the small models reported contains: you know the documents only through them. \
Answer with a figure they reported; if they reported none, say that the documents do not say.",
        untold.join(", ")
    ))
}

/// Refuses a final answer that states a figure the documents never
/// contain. The remote model was told, beside the local answer, that the
/// figure occurs nowhere; passing it on anyway is how made-up figures
/// became answers to questions the documents do not answer ("1.5GB of
/// RAM", "1,300 lines" in run 4). The reason goes back to the remote model,
/// which may answer again from what the documents support.
fn no_made_up_figures(answer: &str, figures: &DocumentFigures, task: &str) -> Result<(), String> {
    let missing = figures.made_up_in(answer, task);
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "the answer states {}, which occurs nowhere in the documents: the small model made it up. \
Answer only with what the documents support; if they do not answer the task, say plainly that the documents do not say.",
        missing.join(", ")
    ))
}

/// Refuses a final answer that only repeats the task's words: asked which
/// IDLE release added support for Jupyter notebooks (none did), the local
/// model answered "The IDLE release added support for Jupyter notebooks."
/// and the remote model passed it on as the answer (run 20).
fn only_restates(answer: &str, task: &str) -> Result<(), String> {
    if grounding::restates(answer, task) && !crate::replies::says_not_there(answer) {
        return Err(
            "the answer only repeats the task's words and names nothing the task asks for. \
Answer with what the small model found; if it found nothing, say that the documents do not say"
                .into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GPL: &str = "GNU GENERAL PUBLIC LICENSE Version 3, 29 June 2007. \
You may convey a work based on the Program. The GNU Affero General Public License applies to section 13.";

    #[test]
    fn an_answer_told_and_in_the_documents_stands() {
        let check = FinalAnswerCheck::new(GPL, "What is the date of version 3?");
        let told = "What is the date of version 3?\n- answer: \"29 June 2007\"";
        assert_eq!(check.check("29 June 2007", told), Ok(()));
    }

    #[test]
    fn a_figure_the_documents_lack_is_refused_even_when_told() {
        let check = FinalAnswerCheck::new(GPL, "What is the date of version 3?");
        let told = "What is the date of version 3?\n- answer: \"20 December 1996\"";
        let refused = check.check("20 December 1996", told).unwrap_err();
        assert!(refused.contains("1996"), "{refused}");
    }

    #[test]
    fn a_small_figure_nobody_reported_is_refused() {
        let check = FinalAnswerCheck::new(GPL, "Which version is this?");
        let told = "Which version is this?\n- answer: \"version three\"";
        assert_eq!(check.check("3", told), Ok(()), "a figure reported in words");
        // "13" is in the documents, but nobody reported it.
        let refused = check.check("13", told).unwrap_err();
        assert!(refused.contains("13"), "{refused}");
    }

    #[test]
    fn a_name_nobody_mentioned_is_refused() {
        let check = FinalAnswerCheck::new(GPL, "Which license may be combined?");
        let told =
            "Which license may be combined?\n- answer: \"the GNU Affero General Public License\"";
        assert!(check.check("the MIT License", told).is_err());
        assert_eq!(
            check.check("the GNU Affero General Public License", told),
            Ok(())
        );
    }

    #[test]
    fn an_answer_in_the_wrong_form_or_only_the_task_is_refused() {
        let check = FinalAnswerCheck::new(GPL, "Which email address should violations go to?");
        let told = "Which email address should violations go to?\n- answer: \"https://fsf.org/\"";
        assert!(check.check("https://fsf.org/", told).is_err());
        assert_eq!(
            check.check("The documents do not say.", told),
            Ok(()),
            "saying the documents do not say is always allowed"
        );
        let check = FinalAnswerCheck::new(GPL, "Which section covers conveying?");
        let told = "Which section covers conveying?";
        assert!(check.check("The section covers conveying.", told).is_err());
    }
}
