//! Chunking and BM25 indexing throughput, memory and query latency on a
//! generated text. Run it through `cargo xtask bench --suite chunk`, which
//! builds it in release mode:
//!
//! ```text
//! cargo run --release -p minions-chunk --example chunk_bench -- [--mb 100] [--size 3000] [--unit chars]
//! ```

// A benchmark report: printing is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::time::{Duration, Instant};

use minions_chunk::{Bm25Index, ChunkSpec, ChunkUnit, chunk};

/// A small deterministic generator (xorshift64*): the text must be the same
/// on every run so that figures compare.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Skewed towards small indexes, like word frequencies in real text.
    fn zipfish(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((u * u * u) * n as f64) as usize % n
    }
}

fn vocabulary(rng: &mut Rng, words: usize) -> Vec<String> {
    const SYLLABLES: &[&str] = &[
        "ka", "to", "ri", "men", "sa", "lo", "pre", "dis", "tion", "al", "er", "in", "ca", "vo",
        "nu", "bel", "str", "ex",
    ];
    (0..words)
        .map(|_| {
            (0..1 + rng.below(3))
                .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
                .collect()
        })
        .collect()
}

fn generate(bytes: usize, words: &[String], rng: &mut Rng) -> String {
    let mut text = String::with_capacity(bytes + 1024);
    while text.len() < bytes {
        for _ in 0..3 + rng.below(5) {
            for w in 0..8 + rng.below(12) {
                if w > 0 {
                    text.push(' ');
                }
                text.push_str(&words[rng.zipfish(words.len())]);
                if rng.below(40) == 0 {
                    text.push_str(&format!(" {}", rng.below(1000)));
                }
            }
            text.push_str(". ");
        }
        text.push_str("\n\n");
    }
    text
}

/// Peak resident memory of this process, from Linux's /proc.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

fn main() -> ExitCode {
    let mut mb = 100usize;
    let mut size = 3000usize;
    let mut unit = ChunkUnit::Chars;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next();
        match (arg.as_str(), value) {
            ("--mb", Some(v)) => mb = v.parse().unwrap_or(mb),
            ("--size", Some(v)) => size = v.parse().unwrap_or(size),
            ("--unit", Some(v)) => {
                unit = match v.as_str() {
                    "chars" => ChunkUnit::Chars,
                    "paragraphs" => ChunkUnit::Paragraphs,
                    "sections" => ChunkUnit::Sections,
                    "code" => ChunkUnit::Code,
                    other => {
                        eprintln!(
                            "error: unknown unit `{other}` (chars, paragraphs, sections, code)"
                        );
                        return ExitCode::from(2);
                    }
                }
            }
            (other, _) => {
                eprintln!(
                    "error: unknown or incomplete argument `{other}`\nusage: chunk_bench [--mb N] [--size CHARS] [--unit chars|paragraphs|sections|code]"
                );
                return ExitCode::from(2);
            }
        }
    }

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let words = vocabulary(&mut rng, 30_000);
    let text = generate(mb << 20, &words, &mut rng);
    let input = text.len() as f64;
    let rss_after_input = peak_rss_bytes().unwrap_or(0);

    let started = Instant::now();
    let spec = ChunkSpec::new(unit, size, size / 30);
    let chunks = match chunk(&text, &spec) {
        Ok(chunks) => chunks,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let chunked = started.elapsed();
    let texts: Vec<&str> = chunks.iter().map(|c| c.text(&text)).collect();
    let index = Bm25Index::build(&texts);
    let total = started.elapsed();
    let peak = peak_rss_bytes().unwrap_or(0);

    let mut latencies = Vec::with_capacity(1000);
    let mut found = 0usize;
    for _ in 0..1000 {
        let query = format!(
            "{} {} {}",
            words[rng.below(words.len())],
            words[rng.zipfish(words.len())],
            words[rng.below(2000)]
        );
        let began = Instant::now();
        let hits = index.search(&query, 12);
        latencies.push(began.elapsed());
        found += hits.len();
    }
    latencies.sort();

    println!("| measure | value |");
    println!("| --- | --- |");
    println!(
        "| input | {:.1} MB generated text, {} distinct words |",
        input / 1e6,
        index.vocabulary()
    );
    println!(
        "| chunking | {unit:?}, size {size}, overlap {}: {} chunks |",
        spec.overlap,
        chunks.len()
    );
    println!("| chunk time | {:.3} s |", chunked.as_secs_f64());
    println!(
        "| BM25 index time | {:.3} s |",
        (total - chunked).as_secs_f64()
    );
    println!(
        "| chunk + index | {:.3} s ({:.0} MB/s) |",
        total.as_secs_f64(),
        input / 1e6 / total.as_secs_f64()
    );
    println!(
        "| peak memory | {:.0} MB = {:.2}x the input (text alone: {:.2}x) |",
        peak as f64 / 1e6,
        peak as f64 / input,
        rss_after_input as f64 / input
    );
    println!(
        "| query, top 12 of {} chunks | median {:.3} ms, p99 {:.3} ms, max {:.3} ms ({} hits) |",
        chunks.len(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        found
    );
    ExitCode::SUCCESS
}
