//! Earlier questions and answers, for follow-up questions in a chat.

use minions_core::excerpt;
use minions_core::tokens::approx_tokens;
use serde::{Deserialize, Serialize};

/// Answers are cut to this many characters in the history.
const ANSWER_CHARS: usize = 600;

/// One earlier exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    /// What was asked.
    pub task: String,
    /// What was answered.
    pub answer: String,
}

/// Earlier exchanges of a conversation, kept compact: long answers are cut
/// and the oldest turns dropped so the history stays within a token budget.
/// The remote model sees it with each new question; the documents are never
/// part of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    turns: Vec<Turn>,
    max_tokens: usize,
}

impl Default for History {
    fn default() -> Self {
        Self::new(1500)
    }
}

impl History {
    /// An empty history of at most `max_tokens` (estimated) tokens.
    pub fn new(max_tokens: usize) -> Self {
        Self {
            turns: Vec::new(),
            max_tokens,
        }
    }

    /// Adds an exchange, dropping the oldest ones while over budget (the
    /// newest always stays).
    pub fn push(&mut self, task: impl Into<String>, answer: &str) {
        self.turns.push(Turn {
            task: task.into(),
            answer: excerpt(answer.trim(), ANSWER_CHARS),
        });
        while self.turns.len() > 1 && approx_tokens(&self.render()) > self.max_tokens {
            self.turns.remove(0);
        }
    }

    /// The turns kept.
    pub fn turns(&self) -> &[Turn] {
        &self.turns
    }

    /// Whether there is no history.
    pub fn is_empty(&self) -> bool {
        self.turns.is_empty()
    }

    /// The history as prompt text; empty when there is none.
    pub fn render(&self) -> String {
        self.turns
            .iter()
            .map(|t| format!("Q: {}\nA: {}", t.task, t.answer))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_within_budget_keeping_the_newest() {
        let mut history = History::new(100);
        for i in 0..20 {
            history.push(format!("question {i}"), &"a long answer ".repeat(100));
        }
        assert!(approx_tokens(&history.render()) <= 200);
        assert_eq!(
            history.turns().last().map(|t| t.task.as_str()),
            Some("question 19")
        );
        assert!(history.turns()[0].answer.chars().count() <= ANSWER_CHARS + 1);
    }
}
