//! From a plan to jobs: chunking the documents, choosing the chunks each
//! task reads, and narrowing a plan that would run more jobs than a round
//! allows.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use minions_chunk::{Bm25Index, ChunkSpec, ChunkUnit, EmbeddingIndex, Headings, chunk};
use minions_core::Embedder;

use super::execute::Job;
use crate::ContextDocument;
use crate::plan::{Plan, PlanChunking, PlanTask, Selection};

/// A chunk of one document.
#[derive(Debug, Clone)]
pub(crate) struct ChunkRef {
    pub doc: usize,
    pub start: usize,
    pub end: usize,
    pub label: String,
    /// The heading path of the section the chunk starts in, if the
    /// document has headings.
    pub section: Option<String>,
}

/// The chunks of every document under one chunking, with retrieval indexes
/// built when first needed.
struct ChunkSet {
    chunks: Vec<ChunkRef>,
    bm25: Option<Bm25Index>,
    embeddings: Option<EmbeddingIndex>,
}

/// The documents, their chunkings so far, and which chunks each task's
/// query has already read (so that narrowed rounds look further).
pub(crate) struct Corpus<'a> {
    docs: &'a [ContextDocument],
    /// The user's question, which ranks chunks beside each task's query:
    /// to choose the jobs whose guesses are worth a second reading, and
    /// the order the remote model sees their answers in.
    question: &'a str,
    /// Each document's headings, found once.
    headings: Vec<Headings>,
    sets: HashMap<(ChunkUnit, usize, usize), ChunkSet>,
    /// Chunk labels each retrieval query has read.
    read: HashMap<String, HashSet<String>>,
}

/// How many of the chunks that best match a task's query, and as many
/// that best match the user's question, may have a dropped guess read
/// again. A few: on IDLE's changelog the chunk holding the answer ranked
/// first or second for the question, and every re-read costs a local call
/// (a re-read of a chunk far from the question only turns a made-up
/// answer into a real line that answers something else).
const RECHECKED_PER_QUERY: usize = 2;

/// What a round will run.
pub(crate) struct Selected {
    pub jobs: Vec<Job>,
    pub chunks: HashMap<String, ChunkRef>,
    /// Set when the plan was narrowed: what was done, for the planner.
    pub narrowed: Option<String>,
}

/// The bounds a plan is held to.
pub(crate) struct PlanBounds {
    pub max_tasks: usize,
    pub max_jobs: usize,
    pub min_chunk: usize,
    pub max_chunk: usize,
    pub max_samples: u32,
    pub default_chunking: PlanChunking,
}

impl<'a> Corpus<'a> {
    pub(crate) fn new(docs: &'a [ContextDocument], question: &'a str) -> Self {
        Self {
            docs,
            question,
            headings: docs.iter().map(|d| Headings::find(&d.text)).collect(),
            sets: HashMap::new(),
            read: HashMap::new(),
        }
    }

    pub(crate) fn text(&self, chunk: &ChunkRef) -> &'a str {
        self.docs[chunk.doc]
            .text
            .get(chunk.start..chunk.end)
            .unwrap_or_default()
    }

    /// How many chunks a chunking makes.
    pub(crate) fn count(&mut self, chunking: PlanChunking) -> usize {
        self.set(chunking).map(|s| s.chunks.len()).unwrap_or(0)
    }

    fn set(&mut self, chunking: PlanChunking) -> Result<&mut ChunkSet, String> {
        let spec = ChunkSpec::new(chunking.unit, chunking.size, chunking.overlap);
        let key = (spec.unit, spec.size, spec.overlap);
        if !self.sets.contains_key(&key) {
            let mut chunks = Vec::new();
            for (doc, document) in self.docs.iter().enumerate() {
                for c in chunk(&document.text, &spec).map_err(|e| e.to_string())? {
                    chunks.push(ChunkRef {
                        doc,
                        start: c.start,
                        end: c.end,
                        label: format!("{}#{}", document.name, c.index),
                        section: self.headings[doc].at(c.start).map(str::to_string),
                    });
                }
            }
            self.sets.insert(
                key,
                ChunkSet {
                    chunks,
                    bm25: None,
                    embeddings: None,
                },
            );
        }
        self.sets
            .get_mut(&key)
            .ok_or_else(|| "internal error: chunk set vanished".to_string())
    }

    /// The `k` chunks that best match `query` by BM25 and that this query
    /// has not read yet.
    fn best_unread(
        &mut self,
        chunking: PlanChunking,
        query: &str,
        k: usize,
    ) -> Result<Vec<ChunkRef>, String> {
        let spec = ChunkSpec::new(chunking.unit, chunking.size, chunking.overlap);
        let key = (spec.unit, spec.size, spec.overlap);
        self.set(chunking)?;
        let Corpus {
            docs, sets, read, ..
        } = self;
        let set = sets.get_mut(&key).ok_or("internal error: no chunk set")?;
        let (chunks, index) = bm25(docs, set);
        let seen = read.get(query);
        let already = seen.map_or(0, HashSet::len);
        let unread = |c: &&ChunkRef| seen.is_none_or(|labels| !labels.contains(&c.label));
        let mut picked: Vec<ChunkRef> = index
            .search(query, k + already)
            .iter()
            .map(|h| &chunks[h.index])
            .filter(unread)
            .take(k)
            .cloned()
            .collect();
        // A query whose words match few chunks (or none: the planner's
        // keywords need not be the document's) still gets its k chunks,
        // spread evenly over the unread rest, so that no round is left with
        // nothing to read and no part of the documents is never looked at.
        if picked.len() < k {
            let rest: Vec<&ChunkRef> = chunks
                .iter()
                .filter(unread)
                .filter(|c| !picked.iter().any(|p| p.label == c.label))
                .collect();
            picked.extend(spread(&rest, k - picked.len()).into_iter().cloned());
        }
        Ok(picked)
    }

    /// Each chunk's rank by BM25 for the task's query or the user's
    /// question, whichever ranks it higher (0 is the best match). Chunks
    /// that share no word with either are left out.
    fn ranks(
        &mut self,
        chunking: PlanChunking,
        query: &str,
    ) -> Result<HashMap<String, usize>, String> {
        let docs = self.docs;
        let question = self.question;
        let set = self.set(chunking)?;
        let (chunks, index) = bm25(docs, set);
        let mut ranks: HashMap<String, usize> = HashMap::new();
        for q in [query, question] {
            for (rank, hit) in index.search(q, chunks.len()).iter().enumerate() {
                ranks
                    .entry(chunks[hit.index].label.clone())
                    .and_modify(|r| *r = (*r).min(rank))
                    .or_insert(rank);
            }
        }
        Ok(ranks)
    }

    async fn nearest(
        &mut self,
        chunking: PlanChunking,
        embedder: &dyn Embedder,
        query: &str,
        k: usize,
    ) -> Result<Vec<ChunkRef>, String> {
        let docs = self.docs;
        let set = self.set(chunking)?;
        if set.embeddings.is_none() {
            let texts = indexed_texts(docs, &set.chunks);
            let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
            set.embeddings = Some(
                EmbeddingIndex::build(embedder, &texts)
                    .await
                    .map_err(|e| format!("embedding the chunks failed ({e}): use bm25"))?,
            );
        }
        let index = set.embeddings.as_ref().ok_or("no embedding index")?;
        let hits = index
            .search(embedder, query, k)
            .await
            .map_err(|e| format!("embedding the query failed ({e}): use bm25"))?;
        Ok(hits.iter().map(|h| set.chunks[h.index].clone()).collect())
    }

    /// Turns a (normalised) plan into jobs. A plan whose selection would
    /// run more than `max_jobs` jobs is narrowed, not refused: each task
    /// keeps the chunks that best match its query by BM25 (skipping chunks
    /// that query already read in earlier rounds), at most `max_jobs` in
    /// all. Errors are plans that cannot run at all (an embedding selection
    /// without an embedder, an unknown `answered_by`), sent back to the
    /// planner.
    pub(crate) async fn select(
        &mut self,
        plan: &Plan,
        answered: &HashMap<String, Vec<ChunkRef>>,
        embedder: Option<&dyn Embedder>,
        max_jobs: usize,
    ) -> Result<Selected, String> {
        let chunking = plan.chunking.unwrap_or_default();
        let max_jobs = max_jobs.max(1);
        let mut selected: Vec<Vec<ChunkRef>> = Vec::new();
        for task in &plan.tasks {
            let chunks = match &plan.select {
                Selection::AnsweredBy(id) => answered.get(id).cloned().ok_or_else(|| {
                    let known: Vec<&String> = answered.keys().collect();
                    format!(
                        "answered_by {id:?} names no earlier task with answers (known: {known:?})"
                    )
                })?,
                Selection::All => self.set(chunking)?.chunks.clone(),
                Selection::Bm25 { top_k } => {
                    self.best_unread(chunking, task.retrieval_query(), (*top_k).max(1))?
                }
                Selection::Embedding { top_k } => {
                    let embedder = embedder
                        .ok_or("embedding selection is not available in this run: use bm25")?;
                    self.nearest(chunking, embedder, task.retrieval_query(), (*top_k).max(1))
                        .await?
                }
            };
            selected.push(chunks);
        }
        let samples = plan.samples.max(1) as usize;
        let requested: usize = selected.iter().map(Vec::len).sum::<usize>() * samples;
        let mut narrowed = None;
        if requested > max_jobs {
            let per_task = (max_jobs / (plan.tasks.len() * samples)).max(1);
            for (task, chunks) in plan.tasks.iter().zip(selected.iter_mut()) {
                if chunks.len() > per_task {
                    *chunks = self.best_unread(chunking, task.retrieval_query(), per_task)?;
                }
            }
            let kept: usize = selected.iter().map(Vec::len).sum::<usize>() * samples;
            narrowed = Some(format!(
                "the plan asked for {requested} jobs, more than the {max_jobs} a round may run, so each task ran on at most the {per_task} chunk(s) that best match its query by keyword retrieval ({kept} jobs); chunks a query has read are skipped in later rounds, so the next round can look further"
            ));
        }
        let (jobs, chunks) = self.jobs(plan, chunking, selected)?;
        Ok(Selected {
            jobs,
            chunks,
            narrowed,
        })
    }

    /// The jobs for each task's chunks, `samples` of each. A job on one of
    /// the chunks likeliest to hold the answer may have a dropped guess
    /// read again (see `Job::recheck`).
    fn jobs(
        &mut self,
        plan: &Plan,
        chunking: PlanChunking,
        selected: Vec<Vec<ChunkRef>>,
    ) -> Result<(Vec<Job>, HashMap<String, ChunkRef>), String> {
        let mut jobs = Vec::new();
        let mut chunks = HashMap::new();
        let question: Arc<str> = Arc::from(self.question);
        for (task, task_chunks) in plan.tasks.iter().zip(selected) {
            let task = Arc::new(task.clone());
            let ranks = self.ranks(chunking, task.retrieval_query())?;
            for chunk in task_chunks {
                self.read
                    .entry(task.retrieval_query().to_string())
                    .or_default()
                    .insert(chunk.label.clone());
                let text: Arc<str> = Arc::from(self.text(&chunk));
                chunks
                    .entry(chunk.label.clone())
                    .or_insert_with(|| chunk.clone());
                for sample in 0..plan.samples.max(1) {
                    let mut job = Job {
                        number: jobs.len(),
                        task: task.clone(),
                        chunk_label: chunk.label.clone(),
                        document: self.docs[chunk.doc].name.clone(),
                        section: chunk.section.clone(),
                        text: text.clone(),
                        sample,
                        rank: ranks.get(&chunk.label).copied(),
                        recheck: false,
                        question: question.clone(),
                    };
                    // A chunk about another release cannot answer however
                    // carefully it is read again.
                    job.recheck = job.rank.is_some_and(|r| r < RECHECKED_PER_QUERY)
                        && job.off_subject().is_none();
                    jobs.push(job);
                }
            }
        }
        Ok((jobs, chunks))
    }
}

/// The chunk set's chunks and its BM25 index, built on first use.
fn bm25<'s>(docs: &[ContextDocument], set: &'s mut ChunkSet) -> (&'s [ChunkRef], &'s Bm25Index) {
    let ChunkSet { chunks, bm25, .. } = set;
    let index = bm25.get_or_insert_with(|| {
        let texts = indexed_texts(docs, chunks);
        Bm25Index::build(&texts.iter().map(String::as_str).collect::<Vec<_>>())
    });
    (chunks, index)
}

/// What retrieval ranks a chunk by: its section's heading path, then its
/// text, so that a chunk cut from the middle of a section still matches
/// the words of its heading (a release number, a chapter's name).
fn indexed_texts(docs: &[ContextDocument], chunks: &[ChunkRef]) -> Vec<String> {
    chunks
        .iter()
        .map(|c| {
            let text = docs[c.doc].text.get(c.start..c.end).unwrap_or_default();
            match &c.section {
                Some(section) => format!("{section}\n{text}"),
                None => text.to_string(),
            }
        })
        .collect()
}

/// `n` of `items` (all of them when there are no more), evenly spaced from
/// the first to the last.
fn spread<T: Copy>(items: &[T], n: usize) -> Vec<T> {
    if n >= items.len() {
        return items.to_vec();
    }
    if n == 1 {
        return vec![items[items.len() / 2]];
    }
    (0..n)
        .map(|i| items[i * (items.len() - 1) / (n - 1)])
        .collect()
}

/// Makes a plan runnable without a round trip where the fix is obvious:
/// ids made simple and unique, too many tasks cut, chunking and samples
/// held to their bounds. What cannot be fixed is said in the error.
pub(crate) fn normalise(
    mut plan: Plan,
    bounds: &PlanBounds,
    user_task: &str,
) -> Result<(Plan, Vec<String>), String> {
    let mut notes = Vec::new();
    plan.tasks.retain(|t| !t.instruction.trim().is_empty());
    if plan.tasks.is_empty() {
        return Err("the plan has no task with an instruction".into());
    }
    // Two words are not an instruction a small model can act on ("bm25");
    // such a task runs the user's question itself.
    for task in &mut plan.tasks {
        if task.instruction.split_whitespace().count() < 3 {
            notes.push(format!(
                "task {:?} had no usable instruction ({:?}), so it ran the question itself",
                task.id, task.instruction
            ));
            task.instruction = user_task.to_string();
            task.query = user_task.to_string();
            task.advice.clear();
        }
    }
    // The same instruction twice is the same work twice.
    let mut seen_work: Vec<(String, String)> = Vec::new();
    let before = plan.tasks.len();
    plan.tasks.retain(|t| {
        let key = (
            t.instruction.trim().to_lowercase(),
            t.query.trim().to_lowercase(),
        );
        let fresh = !seen_work.contains(&key);
        seen_work.push(key);
        fresh
    });
    if plan.tasks.len() < before {
        notes.push(format!(
            "{} duplicate task(s) were dropped",
            before - plan.tasks.len()
        ));
    }
    if plan.tasks.len() > bounds.max_tasks {
        notes.push(format!(
            "only the first {} of {} tasks ran",
            bounds.max_tasks,
            plan.tasks.len()
        ));
        plan.tasks.truncate(bounds.max_tasks);
    }
    let mut seen: Vec<String> = Vec::new();
    for (n, task) in plan.tasks.iter_mut().enumerate() {
        let mut id = simple_id(&task.id);
        if id.is_empty() {
            id = format!("t{}", n + 1);
        }
        if seen.contains(&id) {
            id = format!("{id}_{}", n + 1);
        }
        task.id = id.clone();
        seen.push(id);
    }
    let mut chunking = plan.chunking.unwrap_or(bounds.default_chunking);
    let (min, max) = if chunking.unit == ChunkUnit::Tokens {
        (bounds.min_chunk / 4, bounds.max_chunk / 4)
    } else {
        (bounds.min_chunk, bounds.max_chunk)
    };
    if chunking.size < min || chunking.size > max {
        let size = chunking.size.clamp(min, max);
        notes.push(format!(
            "chunk size {} was outside {min} to {max}, {size} was used",
            chunking.size
        ));
        chunking.size = size;
    }
    chunking.overlap = chunking.overlap.min(chunking.size / 2);
    plan.chunking = Some(chunking);
    plan.samples = plan.samples.clamp(1, bounds.max_samples.max(1));
    Ok((plan, notes))
}

/// An id of lowercase letters, digits, `_` and `-`, at most 32 long.
fn simple_id(id: &str) -> String {
    id.trim()
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(32)
        .collect()
}

impl PlanTask {
    /// The text used to retrieve chunks for this task.
    pub fn retrieval_query(&self) -> &str {
        if self.query.trim().is_empty() {
            &self.instruction
        } else {
            &self.query
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_picks_evenly_from_first_to_last() {
        let items: Vec<usize> = (0..10).collect();
        assert_eq!(spread(&items, 3), vec![0, 4, 9]);
        assert_eq!(spread(&items, 1), vec![5]);
        assert_eq!(spread(&items[..2], 5), vec![0, 1]);
        assert!(spread(&items, 0).is_empty());
    }

    #[test]
    fn a_query_that_matches_nothing_still_reads_spread_chunks() {
        let text: String = (0..40)
            .map(|i| format!("Paragraph {i} talks about routine maintenance of the boilers.\n\n"))
            .collect();
        let docs = [ContextDocument::new("a.txt", text)];
        let mut corpus = Corpus::new(&docs, "");
        let chunking = PlanChunking {
            unit: ChunkUnit::Chars,
            size: 500,
            overlap: 0,
        };
        let total = corpus.count(chunking);
        assert!(total >= 4, "{total} chunks");
        let picked = corpus
            .best_unread(chunking, "quantum entanglement", 3)
            .unwrap();
        assert_eq!(picked.len(), 3, "no round may be left with nothing to read");
        let labels: HashSet<&str> = picked.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels.len(), 3);
        // One match and two spread chunks: the match comes first.
        let picked = corpus.best_unread(chunking, "Paragraph 17", 3).unwrap();
        assert_eq!(picked.len(), 3);
        assert!(corpus.text(&picked[0]).contains("Paragraph 17"));
    }

    #[test]
    fn chunks_carry_their_section_and_rank_by_its_words() {
        // Two releases whose entries look alike: only the heading says
        // which release a date belongs to, and it is in neither entry's
        // later chunks.
        let mut text = String::new();
        for (release, date) in [("3.12.0", "2023-10-02"), ("3.5.0", "2015-09-13")] {
            text.push_str(&format!(
                "What's New in IDLE {release}\nReleased on {date}\n=======\n\n"
            ));
            for i in 0..6 {
                text.push_str(&format!("bpo-{i}: fix the editor's colour handling.\n\n"));
            }
        }
        let docs = [ContextDocument::new("NEWS.txt", text)];
        let mut corpus = Corpus::new(&docs, "");
        let chunking = PlanChunking {
            unit: ChunkUnit::Chars,
            size: 120,
            overlap: 0,
        };
        assert!(corpus.count(chunking) >= 6);
        let picked = corpus.best_unread(chunking, "3.5.0 colour", 2).unwrap();
        for chunk in &picked {
            // In the section, or holding its heading (a chunk that starts
            // in the section before).
            let section = chunk.section.as_deref().unwrap_or_default();
            assert!(
                section.starts_with("What's New in IDLE 3.5.0")
                    || corpus.text(chunk).contains("IDLE 3.5.0"),
                "{:?} is from {section:?}",
                corpus.text(chunk)
            );
        }
        // A chunk cut below its heading still names it.
        assert!(picked.iter().any(|c| !corpus.text(c).contains("3.5.0")));
    }
}
