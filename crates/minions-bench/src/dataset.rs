//! Benchmark items: a built-in synthetic generator, a sample file, and
//! loaders for local copies of public long-document QA sets.

use std::path::Path;

use minions::ContextDocument;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How an answer is scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scoring {
    /// Normalised exact match against any of the gold answers, or a gold
    /// answer contained in the prediction.
    Text,
    /// The first number in the prediction within a relative tolerance of a
    /// gold number.
    Numeric {
        /// Relative tolerance, 0.01 for 1%.
        tolerance: f64,
    },
    /// A multiple-choice letter (A to E).
    Choice,
    /// One of named options: right when the option the prediction names
    /// first is a gold one. A comparison's answer often names both sides
    /// ("the Orion fund had 852 thousand euros against Trial ZX-4's 981"),
    /// so the gold being somewhere in it says nothing.
    Pick {
        /// Every option the question offers.
        options: Vec<String>,
    },
    /// The right answer is that the document does not say.
    NotInDocument,
}

/// One question with its context and gold answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Unique within the dataset.
    pub id: String,
    /// What kind of question (for reports).
    pub kind: String,
    /// The documents.
    pub context: Vec<ContextDocument>,
    /// The question.
    pub question: String,
    /// Accepted answers.
    pub gold: Vec<String>,
    /// How to score.
    pub scoring: Scoring,
}

/// Why a dataset could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not in the expected format.
    #[error("{path} is not a {format} file: {detail}")]
    Format {
        /// The file.
        path: String,
        /// The expected format.
        format: &'static str,
        /// What was wrong.
        detail: String,
    },
}

/// A deterministic generator (xorshift64*): the same seed gives the same
/// dataset on every machine.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.max(1) ^ 0x9e37_79b9_7f4a_7c15)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const ENTITIES: &[&str] = &[
    "Project Atlas",
    "the Harbor clinic",
    "Northwind Ltd",
    "the Delta plant",
    "Ward 7",
    "the Orion fund",
    "Vendor Kestrel",
    "the Lisbon office",
    "Trial ZX-4",
    "Unit Cobalt",
];
const FILLER: &[&str] = &[
    "The committee reviewed the schedule and agreed to revisit the staffing plan next quarter.",
    "Routine maintenance was completed without incident and the logs were archived.",
    "Several stakeholders asked for clearer reporting on the timeline and dependencies.",
    "The team discussed training needs and noted that onboarding material is out of date.",
    "No safety incidents were reported during the period covered by this section.",
    "Budget lines for travel and equipment remained within the approved envelope.",
    "A follow-up meeting was scheduled to confirm the remaining open action items.",
];

/// Filler text of about `chars` characters with the given sentences planted
/// at the given fractions of the way through, in sections.
fn document(rng: &mut Rng, chars: usize, planted: &[(f64, String)]) -> String {
    let mut text = String::with_capacity(chars + 512);
    let mut section = 1;
    let mut pending: Vec<&(f64, String)> = planted.iter().collect();
    pending.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut next = 0;
    while text.len() < chars || next < pending.len() {
        text.push_str(&format!("## Section {section}\n\n"));
        for _ in 0..4 {
            text.push_str(rng.pick(FILLER));
            text.push(' ');
        }
        text.push_str("\n\n");
        while next < pending.len() && (text.len() as f64) >= pending[next].0 * chars as f64 {
            text.push_str(&pending[next].1);
            text.push_str("\n\n");
            next += 1;
        }
        section += 1;
    }
    text
}

/// A synthetic dataset: `count` items, each a document of about
/// `doc_chars` characters with planted facts, and one question of four
/// kinds in turn: a single fact, a fact spread over two sections, a
/// comparison of two values, and a question the document does not answer.
pub fn synthetic(count: usize, doc_chars: usize, seed: u64) -> Vec<Item> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|i| {
            let entity = rng.pick(ENTITIES);
            let other = ENTITIES[(ENTITIES.iter().position(|e| *e == entity).unwrap_or(0)
                + 1
                + rng.below(ENTITIES.len() - 1))
                % ENTITIES.len()];
            let question = planted_question(&mut rng, i, entity, other);
            let text = document(&mut rng, doc_chars, &question.planted);
            let document = ContextDocument::new(format!("synthetic-{i:04}.md"), text);
            question.into_item(i, document)
        })
        .collect()
}

/// The most questions [`synthetic_shared`] asks over one document: one of
/// each kind, so that no two questions name the same entity.
pub const SHARED_QUESTIONS_MAX: usize = 4;

/// The synthetic set as a user with several questions about one document
/// meets it: `count` items, `per_document` (at most
/// [`SHARED_QUESTIONS_MAX`]) over each document, which holds all of their
/// planted facts. Each question names its own entities, so one question's
/// facts never answer another's, and the unanswerable one stays
/// unanswerable. Remote-only's second and later questions over a document
/// can then reuse the provider's prompt cache, as they would for the user.
pub fn synthetic_shared(
    count: usize,
    doc_chars: usize,
    seed: u64,
    per_document: usize,
) -> Vec<Item> {
    let per_document = per_document.clamp(1, SHARED_QUESTIONS_MAX);
    let mut rng = Rng::new(seed);
    let mut items = Vec::with_capacity(count);
    while items.len() < count {
        let mut entities: Vec<&str> = ENTITIES.to_vec();
        for i in (1..entities.len()).rev() {
            entities.swap(i, rng.below(i + 1));
        }
        let first = items.len();
        let questions: Vec<PlantedQuestion> = (0..per_document.min(count - first))
            .map(|k| planted_question(&mut rng, first + k, entities[2 * k], entities[2 * k + 1]))
            .collect();
        let planted: Vec<(f64, String)> =
            questions.iter().flat_map(|q| q.planted.clone()).collect();
        let text = document(&mut rng, doc_chars, &planted);
        let shared = ContextDocument::new(
            format!("synthetic-doc-{:04}.md", first / per_document),
            text,
        );
        for (k, question) in questions.into_iter().enumerate() {
            items.push(question.into_item(first + k, shared.clone()));
        }
    }
    items
}

/// One synthetic question and the sentences that answer it.
struct PlantedQuestion {
    kind: &'static str,
    /// Sentences and how far through the document each goes (0 to 1).
    planted: Vec<(f64, String)>,
    question: String,
    gold: Vec<String>,
    scoring: Scoring,
}

impl PlantedQuestion {
    fn into_item(self, index: usize, document: ContextDocument) -> Item {
        Item {
            id: format!("synthetic-{index:04}"),
            kind: self.kind.to_string(),
            context: vec![document],
            question: self.question,
            gold: self.gold,
            scoring: self.scoring,
        }
    }
}

/// The `index`th question (its kind cycles through the four) about
/// `entity`, with `other` as the second entity where the kind needs one.
fn planted_question(rng: &mut Rng, index: usize, entity: &str, other: &str) -> PlantedQuestion {
    let a = 100 + rng.below(900);
    let b = 100 + rng.below(900);
    let b = if b == a { b + 7 } else { b };
    let code = format!(
        "{}-{}",
        ["KX", "QM", "TR", "VL"][rng.below(4)],
        1000 + rng.below(9000)
    );
    let (kind, planted, question, gold, scoring) = match index % 4 {
        0 => (
            "single_fact",
            vec![(
                0.3 + 0.4 * (rng.below(100) as f64 / 100.0),
                format!("The access code for {entity} is {code}."),
            )],
            format!("What is the access code for {entity}?"),
            vec![code.clone()],
            Scoring::Text,
        ),
        1 => (
            "two_sections",
            vec![
                (
                    0.2,
                    format!("The first shipment to {entity} contained {a} units."),
                ),
                (
                    0.8,
                    format!("The second shipment to {entity} contained {b} units."),
                ),
            ],
            format!("How many units did the two shipments to {entity} contain in total?"),
            vec![(a + b).to_string()],
            Scoring::Numeric { tolerance: 0.0 },
        ),
        2 => (
            "comparison",
            vec![
                (
                    0.25,
                    format!("The annual budget of {entity} was {a} thousand euros."),
                ),
                (
                    0.75,
                    format!("The annual budget of {other} was {b} thousand euros."),
                ),
            ],
            format!("Which had the larger annual budget, {entity} or {other}?"),
            vec![if a > b {
                entity.to_string()
            } else {
                other.to_string()
            }],
            Scoring::Pick {
                options: vec![entity.to_string(), other.to_string()],
            },
        ),
        _ => (
            "not_in_document",
            vec![(0.5, format!("The access code for {other} is {code}."))],
            format!("What is the access code for {entity}?"),
            vec!["not in the document".to_string()],
            Scoring::NotInDocument,
        ),
    };
    PlantedQuestion {
        kind,
        planted,
        question,
        gold,
        scoring,
    }
}

fn read(path: &Path) -> Result<String, DatasetError> {
    std::fs::read_to_string(path).map_err(|source| DatasetError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn format_error(path: &Path, format: &'static str, detail: impl ToString) -> DatasetError {
    DatasetError::Format {
        path: path.display().to_string(),
        format,
        detail: detail.to_string(),
    }
}

/// Our own JSONL format (the sample file): one [`Item`] per line.
pub fn load_jsonl(path: &Path) -> Result<Vec<Item>, DatasetError> {
    read(path)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(n, line)| {
            serde_json::from_str(line).map_err(|e| {
                format_error(path, "minions-bench JSONL", format!("line {}: {e}", n + 1))
            })
        })
        .collect()
}

/// One line of a document-set file (`questions.jsonl` of the `real` set):
/// an item whose context is files or directories next to the file, read
/// the way `minions ask -c PATH` reads them.
#[derive(Debug, Deserialize)]
struct DocumentItem {
    id: String,
    kind: String,
    documents: Vec<String>,
    question: String,
    gold: Vec<String>,
    scoring: Scoring,
}

/// The built-in set of real documents nobody on the team wrote (licences,
/// manuals, changelogs and configuration that ship with Debian, Python and
/// pyenv), with hand-written questions: `data/real/questions.jsonl`.
pub fn real_documents_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join("real")
}

/// A document set: `questions.jsonl` in `dir`, each line naming the files
/// or directories (relative to `dir`) that form its context. Each is loaded
/// once through `minions-ingest`, so HTML is read as text and a directory
/// as its files, as the CLI would.
pub fn load_document_set(dir: &Path) -> Result<Vec<Item>, DatasetError> {
    let path = dir.join("questions.jsonl");
    let mut loaded: std::collections::HashMap<String, ContextDocument> =
        std::collections::HashMap::new();
    let mut items = Vec::new();
    for (n, line) in read(&path)?.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row: DocumentItem = serde_json::from_str(line).map_err(|e| {
            format_error(&path, "document-set JSONL", format!("line {}: {e}", n + 1))
        })?;
        let mut context = Vec::new();
        for name in &row.documents {
            if !loaded.contains_key(name) {
                let document = minions_ingest::load_path(
                    &dir.join(name),
                    &minions_ingest::IngestOptions::default(),
                )
                .map_err(|e| {
                    format_error(&path, "document-set JSONL", format!("line {}: {e}", n + 1))
                })?;
                loaded.insert(
                    name.clone(),
                    ContextDocument {
                        name: name.clone(),
                        ..ContextDocument::from(document)
                    },
                );
            }
            if let Some(document) = loaded.get(name) {
                context.push(document.clone());
            }
        }
        items.push(Item {
            id: row.id,
            kind: row.kind,
            context,
            question: row.question,
            gold: row.gold,
            scoring: row.scoring,
        });
    }
    Ok(items)
}

/// LongHealth (`benchmark_v5.json`): patients keyed by id, each with
/// `texts` (a map of clinical documents) and `questions` with `question`,
/// `answer_a` to `answer_e` and `correct` (the correct answer's text).
pub fn load_longhealth(path: &Path) -> Result<Vec<Item>, DatasetError> {
    let json: Value =
        serde_json::from_str(&read(path)?).map_err(|e| format_error(path, "LongHealth JSON", e))?;
    let patients = json
        .as_object()
        .ok_or_else(|| format_error(path, "LongHealth JSON", "expected an object of patients"))?;
    let mut items = Vec::new();
    for (patient_id, patient) in patients {
        let texts = patient
            .get("texts")
            .and_then(Value::as_object)
            .ok_or_else(|| {
                format_error(
                    path,
                    "LongHealth JSON",
                    format!("{patient_id} has no texts"),
                )
            })?;
        let context: Vec<ContextDocument> = texts
            .iter()
            .map(|(name, text)| {
                ContextDocument::new(
                    format!("{patient_id}/{name}"),
                    text.as_str().unwrap_or_default(),
                )
            })
            .collect();
        for (n, question) in patient
            .get("questions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let field = |key: &str| {
                question
                    .get(key)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            let letters = ["a", "b", "c", "d", "e"];
            let options: Vec<String> = letters
                .iter()
                .map(|l| field(&format!("answer_{l}")))
                .collect();
            let correct = field("correct");
            let Some(index) = options.iter().position(|o| *o == correct) else {
                continue;
            };
            let choices: String = letters
                .iter()
                .zip(&options)
                .map(|(l, o)| format!("\n({}) {o}", l.to_uppercase()))
                .collect();
            items.push(Item {
                id: format!("longhealth-{patient_id}-{n}"),
                kind: "multiple_choice".into(),
                context: context.clone(),
                question: format!(
                    "{}\nAnswer with the letter of the correct option.{choices}",
                    field("question")
                ),
                gold: vec![letters[index].to_uppercase()],
                scoring: Scoring::Choice,
            });
        }
    }
    Ok(items)
}

/// QASPER (`qasper-dev-v0.3.json` and friends): papers keyed by id with
/// `title`, `abstract`, `full_text` sections of paragraphs, and `qas` with
/// answers that are extractive spans, free-form text, yes/no, or
/// unanswerable.
pub fn load_qasper(path: &Path) -> Result<Vec<Item>, DatasetError> {
    let json: Value =
        serde_json::from_str(&read(path)?).map_err(|e| format_error(path, "QASPER JSON", e))?;
    let papers = json
        .as_object()
        .ok_or_else(|| format_error(path, "QASPER JSON", "expected an object of papers"))?;
    let mut items = Vec::new();
    for (paper_id, paper) in papers {
        let text = qasper_text(paper);
        for (n, qa) in json_array(paper, "qas").enumerate() {
            let (gold, unanswerable) = qasper_gold(qa);
            if gold.is_empty() && !unanswerable {
                continue;
            }
            let scoring = if gold.is_empty() {
                Scoring::NotInDocument
            } else {
                Scoring::Text
            };
            items.push(Item {
                id: format!("qasper-{paper_id}-{n}"),
                kind: "paper_qa".into(),
                context: vec![ContextDocument::new(paper_id.clone(), text.clone())],
                question: json_str(qa, "question").to_string(),
                gold: if gold.is_empty() {
                    vec!["not in the document".into()]
                } else {
                    gold
                },
                scoring,
            });
        }
    }
    Ok(items)
}

/// The items of `value`'s array field `key` (none when it is missing).
fn json_array<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    value
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// `value`'s string field `key` ("" when it is missing).
fn json_str<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// A QASPER paper as text: title, abstract, then each section's name and
/// paragraphs.
fn qasper_text(paper: &Value) -> String {
    let mut text = format!(
        "# {}\n\n{}\n\n",
        json_str(paper, "title"),
        json_str(paper, "abstract")
    );
    for section in json_array(paper, "full_text") {
        text.push_str(&format!("## {}\n\n", json_str(section, "section_name")));
        for paragraph in json_array(section, "paragraphs") {
            text.push_str(paragraph.as_str().unwrap_or_default());
            text.push_str("\n\n");
        }
    }
    text
}

/// A QASPER question's gold answers (yes/no, extractive spans, free-form
/// answers of every annotator), and whether an annotator found it
/// unanswerable.
fn qasper_gold(qa: &Value) -> (Vec<String>, bool) {
    let mut gold = Vec::new();
    let mut unanswerable = false;
    for answer in json_array(qa, "answers") {
        let answer = answer.get("answer").unwrap_or(answer);
        if answer.get("unanswerable").and_then(Value::as_bool) == Some(true) {
            unanswerable = true;
        }
        match answer.get("yes_no").and_then(Value::as_bool) {
            Some(true) => gold.push("yes".to_string()),
            Some(false) => gold.push("no".to_string()),
            None => {}
        }
        gold.extend(
            json_array(answer, "extractive_spans").filter_map(|s| s.as_str().map(str::to_string)),
        );
        let free = json_str(answer, "free_form_answer");
        if !free.is_empty() {
            gold.push(free.to_string());
        }
    }
    (gold, unanswerable)
}

/// FinanceBench (`financebench_open_source.jsonl`): one question a line with
/// `question`, `answer`, `doc_name` and `evidence` (passages). With
/// `pdf_dir`, the filing `DOC_NAME.pdf` in it is the context; without, the
/// evidence passages are (an easier, documented approximation).
pub fn load_financebench(path: &Path, pdf_dir: Option<&Path>) -> Result<Vec<Item>, DatasetError> {
    let mut items = Vec::new();
    for (n, line) in read(path)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
    {
        let row: Value = serde_json::from_str(line).map_err(|e| {
            format_error(path, "FinanceBench JSONL", format!("line {}: {e}", n + 1))
        })?;
        let field = |key: &str| {
            row.get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let doc_name = field("doc_name");
        let from_pdf = pdf_dir
            .map(|dir| dir.join(format!("{doc_name}.pdf")))
            .filter(|p| p.is_file())
            .and_then(|p| {
                minions_ingest::load_path(&p, &minions_ingest::IngestOptions::default()).ok()
            });
        let context = match from_pdf {
            Some(document) => vec![ContextDocument {
                name: doc_name.clone(),
                ..ContextDocument::from(document)
            }],
            None => {
                let evidence: Vec<String> = row
                    .get("evidence")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|e| {
                        e.get("evidence_text")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                    .collect();
                vec![ContextDocument::new(
                    doc_name.clone(),
                    evidence.join("\n\n"),
                )]
            }
        };
        let answer = field("answer");
        let scoring = if answer.chars().any(|c| c.is_ascii_digit()) {
            Scoring::Numeric { tolerance: 0.01 }
        } else {
            Scoring::Text
        };
        let id = row
            .get("financebench_id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| format!("{n}"));
        items.push(Item {
            id: format!("financebench-{id}"),
            kind: "finance_qa".into(),
            context,
            question: field("question"),
            gold: vec![answer],
            scoring,
        });
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_documents_hold_every_question_and_leave_the_unanswerable_one_unanswered() {
        let items = synthetic_shared(10, 20_000, 7, 4);
        assert_eq!(items.len(), 10);
        assert_eq!(items, synthetic_shared(10, 20_000, 7, 4));
        // Four questions a document, the last document with the two left.
        let names: Vec<&str> = items.iter().map(|i| i.context[0].name.as_str()).collect();
        assert_eq!(names[0], names[3]);
        assert_ne!(names[3], names[4]);
        assert_eq!(names[8], names[9]);
        for item in &items {
            let text = &item.context[0].text;
            assert!(text.len() >= 20_000);
            match item.kind.as_str() {
                "single_fact" => assert!(text.contains(&item.gold[0])),
                "not_in_document" => {
                    let entity = item
                        .question
                        .trim_start_matches("What is the access code for ")
                        .trim_end_matches('?');
                    assert!(!text.contains(&format!("access code for {entity}")));
                }
                "two_sections" => {
                    let entity = item
                        .question
                        .trim_start_matches("How many units did the two shipments to ")
                        .trim_end_matches(" contain in total?");
                    assert_eq!(text.matches(&format!("shipment to {entity} ")).count(), 2);
                }
                _ => {}
            }
        }
        // Asked for more than one of each kind a document, it asks four.
        let capped = synthetic_shared(8, 10_000, 1, 9);
        assert_eq!(capped[0].context[0].name, capped[3].context[0].name);
        assert_ne!(capped[3].context[0].name, capped[4].context[0].name);
    }

    #[test]
    fn synthetic_is_deterministic_and_plants_its_facts() {
        let first = synthetic(8, 20_000, 7);
        assert_eq!(first, synthetic(8, 20_000, 7));
        assert_ne!(first, synthetic(8, 20_000, 8));
        let kinds: Vec<&str> = first.iter().map(|i| i.kind.as_str()).collect();
        assert_eq!(
            &kinds[..4],
            [
                "single_fact",
                "two_sections",
                "comparison",
                "not_in_document"
            ]
        );
        for item in &first {
            let text = &item.context[0].text;
            assert!(text.len() >= 20_000, "{}", text.len());
            match item.scoring {
                Scoring::Text if item.kind == "single_fact" => {
                    assert!(text.contains(&item.gold[0]))
                }
                Scoring::NotInDocument => {
                    let entity = item
                        .question
                        .trim_start_matches("What is the access code for ")
                        .trim_end_matches('?');
                    assert!(!text.contains(&format!("access code for {entity}")));
                }
                _ => {}
            }
        }
    }
}
