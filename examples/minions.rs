//! Minions (plural): the remote model plans small jobs, the local model runs
//! them over chunks of the document, the remote model concludes. Mirrors the
//! README; needs Ollama running with `llama3.2` pulled, and `OPENAI_API_KEY`
//! set.
//!
//! ```text
//! ollama pull llama3.2
//! export OPENAI_API_KEY=...
//! cargo run -p minions --example minions
//! ```

// An example program: printing is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use minions::protocol::Event;
use minions::{
    ContextDocument, ModelSpec, ProtocolKind, RunModels, RunOptions, chat_model_from_env, run,
};

const CONTEXT: &str = "Patient John Doe is a 60-year-old male with a history of hypertension. In his latest checkup, \
his blood pressure was recorded at 160/100 mmHg, and he reported occasional chest discomfort during physical activity.
Recent laboratory results show that his LDL cholesterol level is elevated at 170 mg/dL, while his HDL remains within \
the normal range at 45 mg/dL. Other metabolic indicators, including fasting glucose and renal function, are unremarkable.";

const TASK: &str = "Based on the patient's blood pressure and LDL cholesterol readings in the context, evaluate whether \
these factors together suggest an increased risk for cardiovascular complications.";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match example().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn example() -> Result<(), Box<dyn std::error::Error>> {
    let local = chat_model_from_env(&"ollama/llama3.2".parse::<ModelSpec>()?)?;
    let remote = chat_model_from_env(&"openai/gpt-4o".parse::<ModelSpec>()?)?;
    let context = [ContextDocument::new("medical report", CONTEXT)];
    let spec = RunOptions::default()
        .protocol(ProtocolKind::Minions)
        .max_rounds(2)
        .build()?;

    // Watch the run as it happens.
    let (events, mut watch) = tokio::sync::mpsc::unbounded_channel();
    let printer = tokio::spawn(async move {
        while let Some(event) = watch.recv().await {
            match event {
                Event::Plan { round, jobs, .. } => println!("round {round}: {jobs} local jobs"),
                Event::JobFinished {
                    answer: Some(answer),
                    chunk,
                    ..
                } => println!("  {chunk}: {answer}"),
                _ => {}
            }
        }
    });
    let models = RunModels::new(remote, local);
    let transcript = run(&models, TASK, &context, &spec, Some(events)).await?;
    printer.await?;
    let result = &transcript.result;
    println!("\n{}\n", result.answer);
    println!(
        "remote: {} calls, ${:.4}; local: {} jobs ({} answered); remote-only would cost ${:.4}",
        result.remote_calls,
        result.remote_cost.total_usd(),
        result.jobs.total,
        result.jobs.answered,
        result.remote_only.cost_usd
    );
    Ok(())
}
