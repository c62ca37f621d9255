//! `minions ask`.

use std::io::{IsTerminal, Read};

use minions::protocol::{History, StopReason};

use crate::cli::AskArgs;
use crate::error::{CliError, code};
use crate::progress::Style;
use crate::run::run_once;
use crate::settings::Effective;
use crate::{report, setup};

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
    let task = task(&args)?;
    let models = setup::models(&settings)?;
    let documents = setup::documents(&args.context.context, &settings).await?;
    let context = setup::context(&documents);
    let style = Style::detect(args.output.quiet);
    let transcript = run_once(
        &models,
        &settings,
        settings.protocol(),
        &task,
        &context,
        &History::default(),
        style,
    )
    .await?;
    if let Some(path) = &args.output.transcript {
        transcript.write_atomic(path).map_err(|e| {
            CliError::usage(format!(
                "cannot write the transcript to {}: {e}",
                path.display()
            ))
        })?;
    }
    let result = &transcript.result;
    if args.output.json {
        println!("{}", report::json(result));
    } else {
        if !result.answer.is_empty() {
            println!("{}", result.answer);
        }
        if !args.output.quiet {
            eprintln!("\n{}", report::summary(result));
        }
    }
    Ok(match result.stop {
        StopReason::Budget { .. } => code::BUDGET,
        _ => code::OK,
    })
}
