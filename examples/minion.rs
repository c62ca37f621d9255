//! Minion (singular): the remote model chats with a local model that holds
//! the document. Mirrors the README; needs Ollama running with `llama3.2`
//! pulled, and `OPENAI_API_KEY` set.
//!
//! ```text
//! ollama pull llama3.2
//! export OPENAI_API_KEY=...
//! cargo run -p minions --example minion
//! ```

// An example program: printing is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

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
    // Up to two questions to the local model, as in the Python example.
    let spec = RunOptions::default()
        .protocol(ProtocolKind::Minion)
        .max_rounds(2)
        .build()?;

    let transcript = run(&RunModels::new(remote, local), TASK, &context, &spec, None).await?;
    let result = &transcript.result;
    println!("{}\n", result.answer);
    println!(
        "remote: {} calls, {} tokens, ${:.4} (reading everything remotely: ${:.4})",
        result.remote_calls,
        result.remote_usage.total_tokens(),
        result.remote_cost.total_usd(),
        result.remote_only.cost_usd
    );
    Ok(())
}
