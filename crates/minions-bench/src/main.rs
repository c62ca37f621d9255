//! `minions-bench`: what `cargo xtask bench` runs (in release mode).

// A benchmark report: printing is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use minions::RunOptions;
use minions::{ChatModel, ModelSettings, ModelSpec, Pricing, chat_model};
use minions_bench::runner::{Models, Protocol, QualityRun, run_quality};
use minions_bench::{Item, overhead, prefix, report, scripted};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Suite {
    /// Accuracy and cost of each protocol over a dataset.
    Quality,
    /// Our overhead over model latency.
    Overhead,
    /// What a prompt cache saves: chunk affinity on and off against a real llama.cpp server (--llamacpp-url).
    Prefix,
    /// The in-process model against llama-server on the same GGUF (--gguf, --llama-server; needs the `embedded` feature).
    Embedded,
}

/// Cost/quality comparisons and overhead figures.
#[derive(Debug, Parser)]
#[command(name = "minions-bench")]
struct Args {
    /// Which suite.
    #[arg(long, value_enum, default_value = "quality")]
    suite: Suite,
    /// Local model (provider/model); without --local, --remote, MINIONS_LOCAL and MINIONS_REMOTE, scripted stand-ins answer.
    #[arg(long)]
    local: Option<String>,
    /// Remote model (provider/model).
    #[arg(long)]
    remote: Option<String>,
    /// Price the remote model's tokens as this model's (provider/model, e.g.
    /// openai/gpt-4o), for a remote served locally that has no price.
    #[arg(long, value_name = "PROVIDER/MODEL")]
    price_as: Option<String>,
    /// An LLM judge (provider/model) for text answers the rules reject.
    #[arg(long)]
    judge: Option<String>,
    /// synthetic, real (the built-in real documents), sample, docs:DIR (a questions.jsonl naming files in DIR), longhealth:PATH, qasper:PATH, financebench:PATH[:PDF_DIR], or jsonl:PATH.
    #[arg(long, default_value = "synthetic")]
    dataset: String,
    /// Items at most (synthetic: how many to generate).
    #[arg(long, default_value_t = 8)]
    limit: usize,
    /// Synthetic documents' size in characters.
    #[arg(long, default_value_t = 40_000)]
    doc_chars: usize,
    /// Synthetic generator seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Synthetic: questions over each document (1 to 4), so that
    /// remote-only's later questions can use the prompt cache.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=4))]
    per_document: u64,
    /// Protocols to compare, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "remote-only,local-only,minion,minions"
    )]
    protocols: Vec<String>,
    /// Items run at once.
    #[arg(long, default_value_t = 2)]
    concurrency: usize,
    /// Seconds a model may stay silent before its call fails (a CPU model
    /// reading a long document whole takes many minutes).
    #[arg(long, default_value_t = 3600)]
    read_timeout: u64,
    /// Stop starting remote work once this much was spent (USD).
    #[arg(long)]
    budget_usd: Option<f64>,
    /// Rounds for minion and minions.
    #[arg(long, default_value_t = 2)]
    max_rounds: u32,
    /// Further run options for minion and minions, as the JSON the server
    /// takes, e.g. '{"local_max_tokens": 192, "max_jobs_per_round": 8}'.
    #[arg(long, value_name = "JSON")]
    options: Option<String>,
    /// Results file (JSON lines); rerunning the same command resumes it.
    #[arg(long)]
    results: Option<PathBuf>,
    /// Also write each Minion and Minions run's transcript (plans, job
    /// findings, decisions) into this directory, as ITEM.PROTOCOL.json.
    #[arg(long, value_name = "DIR")]
    transcripts: Option<PathBuf>,
    /// Start over instead of resuming.
    #[arg(long)]
    fresh: bool,
    /// Run nothing: print the table of the results file as it stands (a
    /// run still going, or one stopped part way).
    #[arg(long)]
    report_only: bool,
    /// Overhead: jobs in the Minions round.
    #[arg(long, default_value_t = 1000)]
    jobs: usize,
    /// Overhead: jobs in flight.
    #[arg(long, default_value_t = 32)]
    job_concurrency: usize,
    /// Overhead: the fake local model's latency in milliseconds.
    #[arg(long, default_value_t = 50)]
    latency_ms: u64,
    /// Prefix: the llama.cpp server's root URL (default: LLAMACPP_BASE_URL without /v1).
    #[arg(long, value_name = "URL")]
    llamacpp_url: Option<String>,
    /// Prefix: the model name the server serves.
    #[arg(long, default_value = "smollm2")]
    llamacpp_model: String,
    /// Prefix: chunks in the document (each read by three tasks).
    #[arg(long, default_value_t = 6)]
    chunks: usize,
    /// Embedded: the GGUF file both engines run.
    #[arg(long)]
    gguf: Option<PathBuf>,
    /// Embedded: the llama-server binary to compare with (skipped when absent).
    #[arg(long)]
    llama_server: Option<PathBuf>,
    /// Embedded: CPU threads for both engines.
    #[arg(long, default_value_t = 2)]
    threads: u32,
    /// Embedded: the sequences in flight to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,4,8")]
    sequences: Vec<u32>,
}

fn items(args: &Args) -> Result<Vec<Item>, String> {
    let (kind, path) = args
        .dataset
        .split_once(':')
        .unwrap_or((args.dataset.as_str(), ""));
    let mut items = match kind {
        "synthetic" if args.per_document > 1 => minions_bench::synthetic_shared(
            args.limit,
            args.doc_chars,
            args.seed,
            args.per_document as usize,
        ),
        "synthetic" => minions_bench::synthetic(args.limit, args.doc_chars, args.seed),
        "sample" => minions_bench::load_jsonl(
            &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/sample.jsonl"),
        )
        .map_err(|e| e.to_string())?,
        "jsonl" => minions_bench::load_jsonl(path.as_ref()).map_err(|e| e.to_string())?,
        "real" => minions_bench::load_document_set(&minions_bench::real_documents_dir())
            .map_err(|e| e.to_string())?,
        "docs" => minions_bench::load_document_set(path.as_ref()).map_err(|e| e.to_string())?,
        "longhealth" => minions_bench::load_longhealth(path.as_ref()).map_err(|e| e.to_string())?,
        "qasper" => minions_bench::load_qasper(path.as_ref()).map_err(|e| e.to_string())?,
        "financebench" => {
            let (file, pdfs) = path
                .split_once(':')
                .map_or((path, None), |(f, d)| (f, Some(PathBuf::from(d))));
            minions_bench::load_financebench(file.as_ref(), pdfs.as_deref())
                .map_err(|e| e.to_string())?
        }
        other => {
            return Err(format!(
                "unknown dataset `{other}`: synthetic, real, sample, docs:DIR, longhealth:PATH, qasper:PATH, financebench:PATH, jsonl:PATH"
            ));
        }
    };
    items.truncate(args.limit);
    if items.is_empty() {
        return Err("the dataset has no items".into());
    }
    Ok(items)
}

/// A model by name. A slow model reading a whole long document in one
/// request (remote-only over 100,000 characters on a CPU) sends nothing for
/// many minutes, so the silence allowed is `read_timeout`, not the usual 600 s.
fn model(name: &str, read_timeout: Duration) -> Result<Arc<dyn ChatModel>, String> {
    let spec: ModelSpec = name.parse().map_err(|e| format!("{name}: {e}"))?;
    let settings = ModelSettings::default().http(minions::HttpConfig {
        read_timeout,
        ..minions::HttpConfig::default()
    });
    chat_model(&spec, &settings).map_err(|e| e.to_string())
}

/// The price table, with the remote model priced as `price_as` when given.
fn pricing(price_as: Option<&str>, models: &Models) -> Result<Pricing, String> {
    let mut pricing = Pricing::from_env().map_err(|e| e.to_string())?;
    if let Some(name) = price_as {
        let spec: ModelSpec = name
            .parse()
            .map_err(|e| format!("--price-as {name}: {e}"))?;
        let price = pricing.price(&spec).ok_or_else(|| {
            format!("--price-as {name}: no price known for it (see docs/pricing.md to add one)")
        })?;
        pricing.set(models.remote.id(), price);
    }
    Ok(pricing)
}

fn slug(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

async fn quality(args: Args) -> Result<(), String> {
    let items = items(&args)?;
    let protocols: Vec<Protocol> = args
        .protocols
        .iter()
        .map(|p| {
            Protocol::parse(p).ok_or_else(|| {
                format!("unknown protocol `{p}`: remote-only, local-only, minion, minions")
            })
        })
        .collect::<Result<_, _>>()?;
    // Kept alive while the run lasts: the stand-ins' servers.
    let (models, _stand_ins) = quality_models(&args).await?;
    let results = results_path(&args, &models);
    if args.fresh && !args.report_only {
        let _ = std::fs::remove_file(&results);
    }
    let run = QualityRun {
        items,
        protocols,
        models: models.clone(),
        concurrency: args.concurrency,
        budget_usd: args.budget_usd,
        results: results.clone(),
        transcripts: args.transcripts.clone(),
        pricing: pricing(args.price_as.as_deref(), &models)?,
        max_rounds: args.max_rounds,
        options: match &args.options {
            Some(json) => {
                serde_json::from_str::<RunOptions>(json).map_err(|e| format!("--options: {e}"))?
            }
            None => RunOptions::default(),
        },
    };
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:30} {pos}/{len} item x protocol runs {elapsed}",
    ) {
        bar.set_style(style);
    }
    let (records, budget_hit) = if args.report_only {
        (minions_bench::runner::load_records(&results), false)
    } else {
        run_quality(&run, Some(&bar))
            .await
            .map_err(|e| format!("cannot write {}: {e}", results.display()))?
    };
    bar.finish_and_clear();
    report_quality(&args, &run, records);
    if budget_hit {
        println!(
            "The budget of ${:.4} was reached: some runs were not made. Rerun to resume.",
            args.budget_usd.unwrap_or_default()
        );
    }
    Ok(())
}

/// The quality suite's models: the ones named (flags, then `MINIONS_LOCAL`
/// and `MINIONS_REMOTE`), or scripted stand-ins when none is, returned
/// with them so that their servers live as long as the run.
async fn quality_models(args: &Args) -> Result<(Models, Option<scripted::Scripted>), String> {
    let local_name = args
        .local
        .clone()
        .or_else(|| minions::env::read(minions::env::MINIONS_LOCAL));
    let remote_name = args
        .remote
        .clone()
        .or_else(|| minions::env::read(minions::env::MINIONS_REMOTE));
    if local_name.is_none() && remote_name.is_none() {
        let stand_ins = scripted::start().await.map_err(|e| e.to_string())?;
        eprintln!(
            "No models configured: scripted stand-ins on 127.0.0.1 answer. The figures show token flow and overhead, not quality."
        );
        let models = Models {
            local: stand_ins.local.clone(),
            remote: stand_ins.remote.clone(),
            judge: None,
            scripted: true,
        };
        return Ok((models, Some(stand_ins)));
    }
    let read_timeout = Duration::from_secs(args.read_timeout);
    let models = Models {
        local: model(
            local_name.as_deref().unwrap_or("ollama/llama3.2"),
            read_timeout,
        )?,
        remote: model(
            remote_name.as_deref().unwrap_or("openai/gpt-4o"),
            read_timeout,
        )?,
        judge: args
            .judge
            .as_deref()
            .map(|name| model(name, read_timeout))
            .transpose()?,
        scripted: false,
    };
    Ok((models, None))
}

/// Where results go: `--results`, or a name made of the dataset and the
/// models under `target/bench/`.
fn results_path(args: &Args, models: &Models) -> PathBuf {
    if let Some(path) = &args.results {
        return path.clone();
    }
    let dataset = if args.dataset == "synthetic" {
        match args.per_document {
            1 => format!("synthetic-{}c-s{}", args.doc_chars, args.seed),
            n => format!("synthetic-{}c-s{}-q{n}", args.doc_chars, args.seed),
        }
    } else {
        args.dataset.clone()
    };
    let name = format!(
        "quality-{}-{}-{}",
        slug(&dataset),
        slug(&models.local.id().to_string()),
        slug(&models.remote.id().to_string())
    );
    PathBuf::from("target/bench").join(format!(
        "{name}{}.jsonl",
        if models.scripted { "-scripted" } else { "" }
    ))
}

/// Prints the tables over the items every protocol answered, and writes
/// them and the plot beside the results.
fn report_quality(args: &Args, run: &QualityRun, records: Vec<minions_bench::runner::Record>) {
    let models = &run.models;
    // Side by side means on the same items: an item counts once every
    // protocol asked for has a result for it.
    let complete: Vec<&str> = run
        .items
        .iter()
        .filter(|i| {
            run.protocols
                .iter()
                .all(|p| records.iter().any(|r| r.item == i.id && r.protocol == *p))
        })
        .map(|i| i.id.as_str())
        .collect();
    if complete.len() < run.items.len() {
        println!(
            "{} of {} items have results for every protocol; the table covers those.",
            complete.len(),
            run.items.len()
        );
    }
    let current: Vec<_> = records
        .into_iter()
        .filter(|r| complete.contains(&r.item.as_str()))
        .collect();
    let summaries = report::summarise(&current);
    let title = format!(
        "{} items of `{}`: local {}, remote {}{}",
        complete.len(),
        args.dataset,
        models.local.id(),
        models.remote.id(),
        args.price_as
            .as_deref()
            .map(|p| format!(" (priced as {p})"))
            .unwrap_or_default()
    );
    let table = format!(
        "{}\nBy document (right answers, remote tokens per question, and their share of remote-only's):\n\n{}",
        report::markdown(&summaries, models.scripted, &title),
        report::by_document(&current)
    );
    println!("{table}");
    let svg_path = run.results.with_extension("svg");
    let _ = std::fs::write(&svg_path, report::svg(&summaries, models.scripted));
    let _ = std::fs::write(run.results.with_extension("md"), &table);
    println!(
        "results: {} (one JSON line per item and protocol); plot: {}",
        run.results.display(),
        svg_path.display()
    );
}

/// The prefix suite: the server's URL from the flag or LLAMACPP_BASE_URL.
async fn prefix(args: &Args) -> Result<(), String> {
    let url = args
        .llamacpp_url
        .clone()
        .or_else(|| minions::env::read(minions::env::LLAMACPP_BASE_URL))
        .ok_or("the prefix suite needs a llama.cpp server: --llamacpp-url http://127.0.0.1:PORT (or LLAMACPP_BASE_URL); `cargo xtask models start` starts one")?;
    let root = url
        .trim_end_matches('/')
        .trim_end_matches("/v1")
        .to_string();
    let max_tokens = args
        .options
        .as_deref()
        .and_then(|o| serde_json::from_str::<serde_json::Value>(o).ok())
        .and_then(|o| o["local_max_tokens"].as_u64())
        .unwrap_or(48) as u32;
    let runs = prefix::run_prefix(
        &root,
        &args.llamacpp_model,
        args.chunks,
        args.job_concurrency,
        max_tokens,
    )
    .await
    .map_err(|e| e.to_string())?;
    println!("{}", prefix::markdown(&runs));
    Ok(())
}

/// The embedded suite, when built with the `embedded` feature.
#[cfg(feature = "embedded")]
async fn embedded(args: &Args) -> Result<(), String> {
    let gguf = args
        .gguf
        .clone()
        .ok_or("the embedded suite needs --gguf PATH (cargo xtask models puts SmolLM2 under target/real-models/weights)")?;
    let runs = minions_bench::embedded::run_embedded(
        &gguf,
        args.llama_server.as_ref(),
        args.threads,
        &args.sequences,
        48,
    )
    .await
    .map_err(|e| e.to_string())?;
    println!("{}", minions_bench::embedded::markdown(&runs));
    Ok(())
}

#[cfg(not(feature = "embedded"))]
async fn embedded(_args: &Args) -> Result<(), String> {
    Err("the embedded suite needs the on-device model: cargo xtask bench --suite embedded (which builds with --features embedded)".into())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let outcome = match args.suite {
        Suite::Quality => quality(args).await,
        Suite::Overhead => overhead::run_overhead(
            args.jobs,
            args.job_concurrency,
            Duration::from_millis(args.latency_ms),
        )
        .await
        .map(|report| println!("{}", overhead::markdown(&report)))
        .map_err(|e| e.to_string()),
        Suite::Prefix => prefix(&args).await,
        Suite::Embedded => embedded(&args).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
