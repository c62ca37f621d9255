//! `minions chat`: questions in a loop, with follow-ups.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use minions::Transcript;
use minions::protocol::History;
use rustyline::error::ReadlineError;

use minions::ProtocolKind;

use crate::cli::ChatArgs;
use crate::error::{CliError, code};
use crate::history::Recorder;
use crate::progress::Style;
use crate::run::{Question, run_once};
use crate::settings::Effective;
use crate::setup;

const HELP: &str = "\
Ask a question and press Enter. Follow-up questions see the earlier answers.
  /protocol [minion|minions]  show or switch the protocol
  /cost                       remote and local usage of this session, and the savings
  /save FILE                  write every run of this session to FILE as JSON
  /help                       this text
  /quit                       leave (Ctrl-D works too; Ctrl-C cancels a running question)";

enum Line {
    Text(String),
    Interrupted,
    End,
}

/// Reads lines from a terminal (with editing and history) or from piped stdin.
enum Input {
    Terminal(Box<rustyline::DefaultEditor>),
    Piped(std::io::Lines<std::io::StdinLock<'static>>),
}

impl Input {
    fn open() -> Self {
        if std::io::stdin().is_terminal()
            && let Ok(editor) = rustyline::DefaultEditor::new()
        {
            return Input::Terminal(Box::new(editor));
        }
        Input::Piped(std::io::stdin().lock().lines())
    }

    fn read(&mut self) -> Line {
        match self {
            Input::Terminal(editor) => match editor.readline("minions> ") {
                Ok(line) => {
                    let _ = editor.add_history_entry(line.as_str());
                    Line::Text(line)
                }
                Err(ReadlineError::Interrupted) => Line::Interrupted,
                Err(_) => Line::End,
            },
            Input::Piped(lines) => match lines.next() {
                Some(Ok(line)) => Line::Text(line),
                _ => Line::End,
            },
        }
    }
}

/// Session totals for `/cost`.
fn cost(transcripts: &[Transcript]) -> String {
    let remote_calls: u32 = transcripts.iter().map(|t| t.result.remote_calls).sum();
    let remote_tokens: u64 = transcripts
        .iter()
        .map(|t| t.result.remote_usage.total_tokens())
        .sum();
    let remote_usd: f64 = transcripts
        .iter()
        .map(|t| t.result.remote_cost.total_usd())
        .sum();
    let local_calls: u32 = transcripts.iter().map(|t| t.result.local_calls).sum();
    let local_tokens: u64 = transcripts
        .iter()
        .map(|t| t.result.local_usage.total_tokens())
        .sum();
    let remote_only: f64 = transcripts
        .iter()
        .map(|t| t.result.remote_only.cost_usd)
        .sum();
    let savings = if remote_usd > 0.0 && remote_only > 0.0 {
        format!("{:.1}x cheaper", remote_only / remote_usd)
    } else {
        "no price known to compare".into()
    };
    format!(
        "{} question(s): remote {remote_calls} call(s), {remote_tokens} tokens, ${remote_usd:.4}; local {local_calls} call(s), {local_tokens} tokens; remote-only estimate ${remote_only:.4} ({savings})",
        transcripts.len()
    )
}

/// Writes JSON through a temporary file and a rename.
fn save(path: &Path, transcripts: &[Transcript]) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(&serde_json::json!({"runs": transcripts}))
        .map_err(std::io::Error::other)?;
    let directory = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = directory.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&temporary, json)?;
    std::fs::rename(&temporary, path)
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
pub(crate) fn chat(
    args: ChatArgs,
    settings: Effective,
    runtime: &tokio::runtime::Runtime,
) -> Result<u8, CliError> {
    if args.context.context.iter().any(|c| c == "-") {
        return Err(CliError::usage(
            "chat reads your questions from stdin, so the context cannot be stdin: give files",
        ));
    }
    runtime.block_on(setup::fetch_local_model(&settings))?;
    let engine = setup::engine(&settings)?;
    let documents = runtime.block_on(setup::documents(&args.context.context, &settings))?;
    let chars: usize = documents.iter().map(|d| d.chars()).sum();
    let count = documents.len();
    let context = setup::context(documents);
    let mut protocol = settings.protocol();
    let mut history = History::default();
    let recorder = Recorder::open(&settings, minions_history::Source::Cli);
    let mut transcripts: Vec<Transcript> = Vec::new();
    eprintln!(
        "Chatting over {count} document(s), {chars} characters, with {protocol}. /help for commands, Ctrl-D to leave."
    );
    let mut input = Input::open();
    loop {
        let line = match input.read() {
            Line::End => break,
            Line::Interrupted => continue,
            Line::Text(line) => line,
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(command) = line.strip_prefix('/') {
            let mut words = command.split_whitespace();
            match (words.next().unwrap_or_default(), words.next()) {
                ("quit" | "exit" | "q", _) => break,
                ("help" | "h" | "?", _) => eprintln!("{HELP}"),
                ("cost", _) => eprintln!("{}", cost(&transcripts)),
                ("protocol", None) => eprintln!("protocol: {protocol}"),
                ("protocol", Some(name)) => match name.parse::<ProtocolKind>() {
                    Ok(kind) => protocol = kind,
                    Err(error) => eprintln!("{error}"),
                },
                ("save", Some(file)) => match save(Path::new(file), &transcripts) {
                    Ok(()) => eprintln!("saved {} run(s) to {file}", transcripts.len()),
                    Err(error) => eprintln!("error: cannot write {file}: {error}"),
                },
                ("save", None) => eprintln!("usage: /save FILE"),
                (other, _) => eprintln!("unknown command /{other}; /help lists them"),
            }
            continue;
        }
        let outcome = runtime.block_on(run_once(
            &engine,
            &recorder,
            Question {
                protocol,
                task: line,
                context: &context,
                history: &history,
                style: Style::detect(args.quiet),
                transcript: None,
            },
        ));
        match outcome {
            Ok(ended) => {
                let result = &ended.transcript.result;
                match &ended.error {
                    None => {
                        println!("{}\n", result.answer);
                        history.push(line, &result.answer);
                    }
                    Some(error) if error.code == code::INTERRUPTED => eprintln!("(cancelled)"),
                    Some(error) => eprintln!("error: {}", error.message),
                }
                if !args.quiet || ended.error.is_some() {
                    eprintln!("{}\n", result.summary());
                }
                // Failed and cancelled runs count in /cost and /save too.
                transcripts.push(ended.transcript);
            }
            Err(error) => eprintln!("error: {}", error.message),
        }
    }
    Ok(code::OK)
}
