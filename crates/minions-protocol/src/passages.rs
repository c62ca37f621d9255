//! The passages of the documents that best match a question, for a small
//! model that reads better from a few short passages than from a long
//! text: Minion's local model gets them for every question.

use crate::ContextDocument;

/// The most document text, in tokens, one question's passages hold: what
/// Minion sends its local model when the documents are longer than this.
/// Three passages (see
/// [`Excerpts::new`]), even when the local window could hold more. The local model reads them
/// afresh each question; at about 1,000 tokens that is 4 to 6 seconds on
/// two cores, against 20 for 4,000 tokens and minutes for a whole window.
pub(crate) const MAX_EXCERPT_TOKENS: usize = 1_200;

/// The documents cut into passages: each question gets the best-matching
/// passages by BM25, in document order, as many as fit. A passage cut from inside a section
/// is shown (and ranked) with its section's heading, so that the local
/// model knows which release or chapter its figures belong to.
pub(crate) struct Excerpts {
    passages: Vec<String>,
    index: minions_chunk::Bm25Index,
    room_chars: usize,
}

impl Excerpts {
    pub(crate) fn new(documents: &[ContextDocument], room_tokens: usize) -> Self {
        // Chunks of a third of the room (three characters a token), so
        // that the three best passages fit: each long enough to hold a
        // clause with its context, few enough not to bury it.
        let size = room_tokens.clamp(300, 4000);
        let spec = minions_chunk::ChunkSpec::new(minions_chunk::ChunkUnit::Paragraphs, size, 0);
        let mut passages = Vec::new();
        for document in documents {
            let headings = minions_chunk::Headings::find(&document.text);
            if let Ok(chunks) = minions_chunk::chunk(&document.text, &spec) {
                passages.extend(chunks.iter().map(|c| {
                    let text = c.text(&document.text);
                    match headings.at(c.start) {
                        Some(section) => format!("(section: {section})\n{text}"),
                        None => text.to_string(),
                    }
                }));
            }
        }
        let index = minions_chunk::Bm25Index::build(
            &passages.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        Self {
            passages,
            index,
            // Three characters a token errs small, as the window check does.
            room_chars: room_tokens * 3,
        }
    }

    /// The excerpts for one question, and a note on what was sent.
    pub(crate) fn for_question(&mut self, query: &str) -> (String, String) {
        let mut picked: Vec<usize> = Vec::new();
        let mut used = 0;
        for hit in self.index.search(query, self.passages.len()) {
            let len = self.passages[hit.index].len() + 8;
            if used + len > self.room_chars {
                continue;
            }
            used += len;
            picked.push(hit.index);
        }
        picked.sort_unstable();
        let text = picked
            .iter()
            .map(|&i| self.passages[i].as_str())
            .collect::<Vec<_>>()
            .join("\n[...]\n");
        let note = format!(
            "{} of {} passages, {used} characters",
            picked.len(),
            self.passages.len()
        );
        (text, note)
    }
}
