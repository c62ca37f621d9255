//! `minions ask`.

use std::io::{IsTerminal, Read};

use minions::protocol::History;
use minions_history::Source;

use crate::cli::AskArgs;
use crate::error::CliError;
use crate::history::Recorder;
use crate::progress::Style;
use crate::run::{Question, run_once};
use crate::settings::Effective;
use crate::setup;

/// The question: the argument, `--task`, or stdin (when stdin is not a
/// terminal and is not the context).
fn task(args: &AskArgs) -> Result<String, CliError> {
    let given = args.task.clone().or_else(|| args.task_flag.clone());
    let task = match given {
        Some(task) => task,
        None if !std::io::stdin().is_terminal()
            && !args.context.context.iter().any(|c| c == "-") =>
        {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map_err(|e| {
                CliError::usage(format!("cannot read the question from stdin: {e}"))
            })?;
            text
        }
        None => {
            return Err(CliError::usage(
                "what is the question? Give it as an argument (minions ask \"...\" --context FILE), with --task, or on stdin",
            ));
        }
    };
    let task = task.trim().to_string();
    if task.is_empty() {
        return Err(CliError::usage("the question is empty"));
    }
    Ok(task)
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
pub(crate) async fn ask(args: AskArgs, settings: Effective) -> Result<u8, CliError> {
    setup::check_inputs(&args.context.context)?;
    let task = task(&args)?;
    setup::fetch_local_model(&settings).await?;
    let engine = setup::engine(&settings)?;
    let documents = setup::documents(&args.context.context, &settings).await?;
    let context = setup::context(documents);
    let style = Style::detect(args.output.quiet);
    let recorder = Recorder::open(&settings, Source::Cli);
    let ended = run_once(
        &engine,
        &recorder,
        Question {
            protocol: settings.protocol(),
            task: &task,
            context: &context,
            history: &History::default(),
            style,
            transcript: args.output.transcript.as_deref(),
        },
    )
    .await?;
    // However the run ended, the transcript is written, the cost is told,
    // and --json prints one object: nothing spent goes unreported.
    let result = &ended.transcript.result;
    let mut failures = Vec::new();
    if let Some(path) = &args.output.transcript
        && let Err(e) = ended.transcript.write_atomic(path)
    {
        failures.push(CliError::usage(format!(
            "cannot write the transcript to {}: {e}",
            path.display()
        )));
    }
    if args.output.json {
        println!(
            "{}",
            result.report(ended.error.as_ref().map(|e| e.message.as_str()))
        );
    } else {
        if !result.answer.is_empty() {
            println!("{}", result.answer);
        }
        if !args.output.quiet || ended.error.is_some() {
            eprintln!("\n{}", result.summary());
        }
    }
    let code = ended.code();
    match (ended.error, failures.pop()) {
        (Some(error), _) => Err(error),
        (None, Some(failure)) => Err(failure),
        (None, None) => Ok(code),
    }
}
