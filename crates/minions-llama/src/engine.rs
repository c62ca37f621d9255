//! The decoding loop: one thread owns the llama.cpp context and decodes
//! every active sequence together, one batch per step, so concurrent
//! requests share each pass over the model instead of queueing for it.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;
use minions_core::FinishReason;
use tokio::sync::oneshot;

use crate::LlamaSettings;
use crate::backend::backend;

/// One request for the engine: the prompt already tokenized.
pub(crate) struct Job {
    pub prompt: Vec<LlamaToken>,
    pub max_tokens: u32,
    pub temperature: f32,
    pub seed: u32,
    /// A GBNF grammar the answer must follow.
    pub grammar: Option<String>,
    pub stop: Vec<String>,
    /// Dropped by the caller when it stops waiting: the sequence is then
    /// dropped too.
    pub reply: oneshot::Sender<Result<Generated, String>>,
}

/// What a sequence produced.
#[derive(Debug)]
pub(crate) struct Generated {
    pub text: String,
    pub prompt_tokens: u64,
    /// Prompt tokens found in the sequence's cache, not read again.
    pub cached_tokens: u64,
    pub completion_tokens: u64,
    pub finish: FinishReason,
}

/// A sequence in progress.
struct Active {
    job: Job,
    /// Greedy, or temperature and seed.
    sampler: LlamaSampler,
    /// The job's grammar, consulted only when the sampled token breaks it.
    grammar: Option<LlamaSampler>,
    /// Prompt tokens already in the cache.
    fed: usize,
    /// Of those, the ones an earlier job left there.
    reused: usize,
    /// The next position in this sequence.
    position: i32,
    /// The token to feed next, once the prompt is in.
    last: Option<LlamaToken>,
    bytes: Vec<u8>,
    generated: u64,
    /// Index in the current batch whose logits to sample, if any.
    logits_at: Option<i32>,
}

/// Runs until every sender of `jobs` is gone. `peak` records the most
/// sequences one decode call carried.
pub(crate) fn run(
    model: Arc<LlamaModel>,
    settings: LlamaSettings,
    jobs: Receiver<Job>,
    peak: Arc<AtomicUsize>,
) {
    let sequences = settings.sequences.max(1);
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(settings.context_per_sequence * sequences))
        .with_n_seq_max(sequences)
        .with_n_batch(settings.batch)
        .with_n_ubatch(settings.batch)
        .with_n_threads(settings.threads as i32)
        .with_n_threads_batch(settings.threads as i32);
    let context = backend().and_then(|backend| {
        model
            .new_context(backend, params)
            .map_err(|e| format!("llama.cpp could not create a context: {e}"))
    });
    let mut context = match context {
        Ok(context) => context,
        Err(message) => {
            for job in jobs {
                let _ = job.reply.send(Err(message.clone()));
            }
            return;
        }
    };
    let mut batch = LlamaBatch::new(settings.batch as usize, 1);
    let mut slots: Vec<Option<Active>> = (0..sequences).map(|_| None).collect();
    // What each sequence's cache holds, kept after its job ends: the next
    // job that starts the same way (the same system text and chunk) reuses
    // it instead of reading it again.
    let mut cached: Vec<Vec<LlamaToken>> = vec![Vec::new(); sequences as usize];
    loop {
        if !admit(&jobs, &mut slots, &mut cached, &model, &mut context) {
            return;
        }
        // A caller that stopped waiting frees its sequence at once.
        for slot in slots.iter_mut() {
            if slot.as_ref().is_some_and(|a| a.job.reply.is_closed()) {
                *slot = None;
            }
        }
        batch.clear();
        fill(&mut batch, &mut slots, &mut cached, settings.batch as usize);
        if batch.n_tokens() == 0 {
            continue;
        }
        let carried = slots.iter().flatten().count();
        peak.fetch_max(carried, Ordering::Relaxed);
        if let Err(error) = context.decode(&mut batch) {
            let message = format!("llama.cpp could not decode: {error}");
            for (seq, slot) in slots.iter_mut().enumerate() {
                if let Some(active) = slot.take() {
                    let _ = active.job.reply.send(Err(message.clone()));
                }
                let _ = context.clear_kv_cache_seq(Some(seq as u32), None, None);
                cached[seq].clear();
            }
            continue;
        }
        for slot in slots.iter_mut() {
            let Some(active) = slot.as_mut() else {
                continue;
            };
            let Some(index) = active.logits_at.take() else {
                continue;
            };
            let token = sample(active, &context, index);
            if let Some(finish) = step(active, &model, token)
                && let Some(active) = slot.take()
            {
                finish_job(active, finish);
            }
        }
    }
}

/// Takes new jobs into free sequences: waits for one when nothing runs.
/// Returns false when no job can come any more and nothing runs.
fn admit(
    jobs: &Receiver<Job>,
    slots: &mut [Option<Active>],
    cached: &mut [Vec<LlamaToken>],
    model: &LlamaModel,
    context: &mut LlamaContext<'_>,
) -> bool {
    loop {
        if slots.iter().all(Option::is_some) {
            return true;
        }
        let idle = slots.iter().all(Option::is_none);
        let job = if idle {
            match jobs.recv() {
                Ok(job) => job,
                Err(_) => return false,
            }
        } else {
            match jobs.try_recv() {
                Ok(job) => job,
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return true,
            }
        };
        if job.reply.is_closed() {
            continue;
        }
        let grammar = match &job.grammar {
            None => None,
            Some(grammar) => match LlamaSampler::grammar(model, grammar, "root") {
                Ok(sampler) => Some(sampler),
                Err(error) => {
                    let _ = job
                        .reply
                        .send(Err(format!("llama.cpp refused the JSON grammar: {error}")));
                    continue;
                }
            },
        };
        // The free sequence whose cache shares the longest start with this
        // prompt; at least the last prompt token is always read again, for
        // its logits.
        let Some((free, shared)) = slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| slot.is_none())
            .map(|(seq, _)| (seq, common_prefix(&cached[seq], &job.prompt)))
            .max_by_key(|(_, shared)| *shared)
        else {
            return true;
        };
        let keep = shared.min(job.prompt.len().saturating_sub(1));
        if !matches!(
            context.clear_kv_cache_seq(Some(free as u32), Some(keep as u32), None),
            Ok(true)
        ) {
            // The cache could not drop the tail: start this sequence afresh.
            let _ = context.clear_kv_cache_seq(Some(free as u32), None, None);
            cached[free].clear();
        }
        let keep = keep.min(cached[free].len());
        cached[free].truncate(keep);
        let sampler = base_sampler(&job);
        slots[free] = Some(Active {
            job,
            sampler,
            grammar,
            fed: keep,
            reused: keep,
            position: keep as i32,
            last: None,
            bytes: Vec::new(),
            generated: 0,
            logits_at: None,
        });
    }
}

/// How many tokens `a` and `b` share at their start.
fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Greedy at temperature 0; otherwise temperature sampling with the job's
/// seed.
fn base_sampler(job: &Job) -> LlamaSampler {
    if job.temperature <= 0.0 {
        LlamaSampler::greedy()
    } else {
        LlamaSampler::chain_simple([
            LlamaSampler::temp(job.temperature),
            LlamaSampler::dist(job.seed),
        ])
    }
}

/// Samples the next token. The grammar is checked against the token the
/// model wants first, and applied to every candidate only when that token
/// breaks it: most tokens of a JSON answer are allowed anyway, and
/// constraining the whole vocabulary at every step would cost more than the
/// model's own pass over a small model.
fn sample(active: &mut Active, context: &LlamaContext<'_>, index: i32) -> LlamaToken {
    let wanted = active.sampler.sample(context, index);
    let Some(grammar) = active.grammar.as_mut() else {
        return wanted;
    };
    let mut alone = LlamaTokenDataArray::new(vec![LlamaTokenData::new(wanted, 1.0, 0.0)], false);
    alone.apply_sampler(grammar);
    let allowed = alone.data.first().is_some_and(|d| d.logit().is_finite());
    let token = if allowed {
        wanted
    } else {
        let mut all = context.token_data_array_ith(index);
        all.apply_sampler(grammar);
        all.apply_sampler(&mut active.sampler);
        all.selected_token().unwrap_or(wanted)
    };
    grammar.accept(token);
    token
}

/// Puts one step of every active sequence into the batch: the next token of
/// those generating, then as much prompt as fits of those still reading.
fn fill(
    batch: &mut LlamaBatch<'_>,
    slots: &mut [Option<Active>],
    cached: &mut [Vec<LlamaToken>],
    capacity: usize,
) {
    for (seq, slot) in slots.iter_mut().enumerate() {
        let Some(active) = slot.as_mut() else {
            continue;
        };
        let Some(token) = active.last else { continue };
        if batch
            .add(token, active.position, &[seq as i32], true)
            .is_ok()
        {
            active.logits_at = Some(batch.n_tokens() - 1);
            active.position += 1;
            cached[seq].push(token);
        }
    }
    for (seq, slot) in slots.iter_mut().enumerate() {
        let Some(active) = slot.as_mut() else {
            continue;
        };
        if active.last.is_some() || active.fed >= active.job.prompt.len() {
            continue;
        }
        while active.fed < active.job.prompt.len() && (batch.n_tokens() as usize) < capacity {
            let is_last = active.fed + 1 == active.job.prompt.len();
            let token = active.job.prompt[active.fed];
            if batch
                .add(token, active.position, &[seq as i32], is_last)
                .is_err()
            {
                break;
            }
            active.fed += 1;
            active.position += 1;
            cached[seq].push(token);
            if is_last {
                active.logits_at = Some(batch.n_tokens() - 1);
            }
        }
    }
}

/// Takes a sampled token; says why the sequence ends, if it does.
fn step(active: &mut Active, model: &LlamaModel, token: LlamaToken) -> Option<FinishReason> {
    let vocab = model.vocab();
    if vocab.is_eog(token) {
        return Some(FinishReason::Stop);
    }
    active.generated += 1;
    active.last = Some(token);
    active
        .bytes
        .extend_from_slice(&vocab.token_to_piece(token, false, None));
    if let Some(at) = active
        .job
        .stop
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| find(&active.bytes, s.as_bytes()))
        .min()
    {
        active.bytes.truncate(at);
        return Some(FinishReason::Stop);
    }
    if active.generated >= u64::from(active.job.max_tokens) {
        return Some(FinishReason::Length);
    }
    None
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn finish_job(active: Active, finish: FinishReason) {
    let generated = Generated {
        text: String::from_utf8_lossy(&active.bytes).into_owned(),
        prompt_tokens: active.job.prompt.len() as u64,
        cached_tokens: active.reused as u64,
        completion_tokens: active.generated,
        finish,
    };
    let _ = active.job.reply.send(Ok(generated));
}
