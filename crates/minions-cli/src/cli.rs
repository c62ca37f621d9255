//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use minions::ProtocolKind;
use minions::protocol::{Retrieval, RunOptions};

/// Answer questions over long documents: a local model reads them, a remote
/// model plans and concludes, and you pay for a fraction of the remote
/// tokens.
#[derive(Debug, Parser)]
#[command(name = "minions", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// More logging on stderr (-v: info, -vv: debug, -vvv: trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Read settings from this file instead of ./minions.toml or the user config file.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Answer one question over the context and exit.
    Ask(AskArgs),
    /// Ask questions over the context interactively, with follow-ups.
    Chat(ChatArgs),
    /// Show the context's size and what a remote-only call would cost.
    Estimate(EstimateArgs),
    /// List providers, their variables and whether keys are set; --check contacts them.
    Providers(ProvidersArgs),
    /// Print the effective settings and where each came from.
    Config(ConfigArgs),
    /// Run a whole question offline against scripted stand-in models, to see how it works.
    Demo(DemoArgs),
    /// Serve the protocols over HTTP: an OpenAI-compatible endpoint, a runs API and a web page.
    Serve(ServeArgs),
    /// Serve the protocols as MCP tools (ask, estimate) over stdio, or streamable HTTP with --http.
    #[command(long_about = MCP_ABOUT)]
    Mcp(McpArgs),
    /// List, show and sum past runs: what was spent and saved, on which models, and which runs failed.
    History(HistoryArgs),
    /// Print shell completions.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Parses `--protocol`: any name [`ProtocolKind`] knows.
fn protocol(text: &str) -> Result<ProtocolKind, String> {
    text.parse::<ProtocolKind>().map_err(|e| e.to_string())
}

/// Parses `--retrieval`.
fn retrieval(text: &str) -> Result<Retrieval, String> {
    text.parse::<Retrieval>()
}

/// Where the documents come from.
#[derive(Debug, Clone, Args)]
pub(crate) struct ContextArgs {
    /// A file, directory, URL, or - for stdin; repeat -c for more than one.
    #[arg(short = 'c', long = "context", value_name = "PATH", required = true, action = clap::ArgAction::Append)]
    pub context: Vec<String>,
    /// Largest input in bytes (a file, a download, a directory's text).
    #[arg(long, value_name = "BYTES")]
    pub max_input_bytes: Option<u64>,
}

/// Models and protocol options, shared by ask, chat and estimate.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ModelArgs {
    /// Local model as provider/model (default ollama/llama3.2; env MINIONS_LOCAL).
    #[arg(long, value_name = "PROVIDER/MODEL")]
    pub local: Option<String>,
    /// Remote model as provider/model (default openai/gpt-4o; env MINIONS_REMOTE).
    #[arg(long, value_name = "PROVIDER/MODEL")]
    pub remote: Option<String>,
    /// Several endpoints of the local model, comma-separated; requests are spread over them.
    #[arg(long, value_name = "URL,URL", value_delimiter = ',')]
    pub local_endpoints: Option<Vec<String>>,
    /// Keep retrying a local server that answered before and now fails (restarting, loading its model) for up to this many seconds (default 30; 0 keeps the usual 5 quick attempts).
    #[arg(long, value_name = "SECS")]
    pub local_retry_secs: Option<u64>,
    /// Keep the run history in this SQLite file (default: minions/history.sqlite3 in the user data directory; env MINIONS_HISTORY).
    #[arg(long, value_name = "PATH")]
    pub history: Option<String>,
    /// Keep no run history.
    #[arg(long, conflicts_with = "history")]
    pub no_history: bool,
}

/// Protocol options.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct RunArgs {
    /// Protocol to run: minion or minions (default minions).
    #[arg(short, long, value_parser = protocol, value_name = "NAME")]
    pub protocol: Option<ProtocolKind>,
    /// Rounds at most; the last one must give the final answer (default 3).
    #[arg(long, value_name = "N")]
    pub max_rounds: Option<u32>,
    /// Minions: local jobs in flight at once (default 4).
    #[arg(long, value_name = "N")]
    pub local_concurrency: Option<u32>,
    /// Minions: jobs one round may run; bigger plans are narrowed by retrieval (default 128).
    #[arg(long, value_name = "N")]
    pub max_jobs_per_round: Option<u32>,
    /// Minions: suggested chunk size in characters (default 3000).
    #[arg(long, value_name = "CHARS")]
    pub chunk_size: Option<u32>,
    /// Minions: retrieval offered to the planner: bm25, embedding or none (default bm25).
    #[arg(long, value_parser = retrieval, value_name = "KIND")]
    pub retrieval: Option<Retrieval>,
    /// Embedding model for --retrieval embedding, as provider/model.
    #[arg(long, value_name = "PROVIDER/MODEL")]
    pub embedding_model: Option<String>,
    /// Stop before remote spend could exceed this many dollars.
    #[arg(long, value_name = "USD")]
    pub budget_usd: Option<f64>,
    /// Stop before remote tokens could exceed this many.
    #[arg(long, value_name = "TOKENS")]
    pub budget_tokens: Option<u64>,
    /// Stop before remote spend exceeds this multiple of the remote-only cost (default 1; 0 is off).
    #[arg(long, value_name = "RATIO")]
    pub max_cost_ratio: Option<f64>,
    /// Redact emails, phone and card numbers, ids and IP addresses before anything reaches the remote model.
    #[arg(long)]
    pub privacy: bool,
    /// Also redact this term (repeatable).
    #[arg(long, value_name = "TERM")]
    pub redact: Vec<String>,
    /// The longest run of the documents' own text the remote may see in the local model's words; longer runs become [...] (default 120; 0 is off).
    #[arg(long, value_name = "CHARS")]
    pub max_verbatim_chars: Option<u32>,
    /// Remote sampling temperature (default 0).
    #[arg(long, value_name = "T")]
    pub remote_temperature: Option<f32>,
    /// Remote answer limit in tokens (default 2048).
    #[arg(long, value_name = "N")]
    pub remote_max_tokens: Option<u32>,
    /// Local sampling temperature (default 0).
    #[arg(long, value_name = "T")]
    pub local_temperature: Option<f32>,
    /// Local answer limit in tokens (default 384).
    #[arg(long, value_name = "N")]
    pub local_max_tokens: Option<u32>,
    /// Seconds one local call may take (default 300).
    #[arg(long, value_name = "SECS")]
    pub local_timeout: Option<u32>,
    /// Interleave the jobs of one chunk with others instead of running them one after another (which lets a prompt cache read each chunk once).
    #[arg(long)]
    pub no_chunk_affinity: bool,
    /// Minions: let the remote model plan round 1 too, instead of running the task as written on the chunks that best match it.
    #[arg(long)]
    pub plan_first_round: bool,
}

impl RunArgs {
    /// The flags as run options.
    pub(crate) fn options(&self) -> RunOptions {
        RunOptions {
            protocol: self.protocol,
            max_rounds: self.max_rounds,
            local_concurrency: self.local_concurrency,
            max_jobs_per_round: self.max_jobs_per_round,
            chunk_size: self.chunk_size,
            retrieval: self.retrieval,
            budget_usd: self.budget_usd,
            budget_tokens: self.budget_tokens,
            max_cost_ratio: self.max_cost_ratio,
            privacy: self.privacy.then_some(true),
            redact: (!self.redact.is_empty()).then(|| self.redact.clone()),
            max_verbatim_chars: self.max_verbatim_chars,
            remote_temperature: self.remote_temperature,
            remote_max_tokens: self.remote_max_tokens,
            local_temperature: self.local_temperature,
            local_max_tokens: self.local_max_tokens,
            local_timeout_secs: self.local_timeout,
            chunk_affinity: self.no_chunk_affinity.then_some(false),
            plan_first_round: self.plan_first_round.then_some(true),
        }
    }
}

/// Output options.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct OutputArgs {
    /// Print one JSON object (answer, usage, cost, savings, timing) on stdout and nothing else.
    #[arg(long)]
    pub json: bool,
    /// Write the whole run (every event and the result) to this JSON file.
    #[arg(long, value_name = "FILE")]
    pub transcript: Option<PathBuf>,
    /// No progress on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct AskArgs {
    /// The question; also --task, or read from stdin when neither is given and stdin is not the context.
    pub task: Option<String>,
    /// The question (alternative to the positional argument).
    #[arg(long = "task", value_name = "TEXT", conflicts_with = "task")]
    pub task_flag: Option<String>,
    #[command(flatten)]
    pub context: ContextArgs,
    #[command(flatten)]
    pub models: ModelArgs,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct ChatArgs {
    #[command(flatten)]
    pub context: ContextArgs,
    #[command(flatten)]
    pub models: ModelArgs,
    #[command(flatten)]
    pub run: RunArgs,
    /// No progress on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct EstimateArgs {
    #[command(flatten)]
    pub context: ContextArgs,
    /// Remote model to price, as provider/model.
    #[arg(long, value_name = "PROVIDER/MODEL")]
    pub remote: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct ProvidersArgs {
    /// Contact the configured local and remote endpoints (and check the Ollama model is pulled).
    #[arg(long)]
    pub check: bool,
    #[command(flatten)]
    pub models: ModelArgs,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct ConfigArgs {
    #[command(flatten)]
    pub models: ModelArgs,
    #[command(flatten)]
    pub run: RunArgs,
}

/// Who may talk to `serve` and `mcp --http`.
#[derive(Debug, Clone, Args)]
pub(crate) struct AccessArgs {
    /// Bearer token every HTTP request must carry (`Authorization: Bearer TOKEN`); required to listen beyond loopback (env MINIONS_SERVER_TOKEN).
    #[arg(
        long,
        env = "MINIONS_SERVER_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on, as HOST:PORT (localhost:8080 works); anything beyond loopback needs --token.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub bind: String,
    #[command(flatten)]
    pub access: AccessArgs,
    /// Largest request body in bytes, documents included.
    #[arg(long, default_value_t = 32 << 20, value_name = "BYTES")]
    pub max_body_bytes: usize,
    /// Runs at once; more wait in a queue.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub max_runs: usize,
    /// Requests that may wait for a free run; more get HTTP 429 with Retry-After.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub queue_depth: usize,
    /// Seconds a queued request waits for a free run before HTTP 429.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub queue_wait: u64,
    #[command(flatten)]
    pub models: ModelArgs,
}

const MCP_ABOUT: &str = "Serve the protocols as Model Context Protocol tools, so that an agent (Claude Desktop, Claude Code, Cursor, ...) hands long documents to the local model instead of reading them itself.

Tools: `ask` (a question over files, directories or text; progress is reported and a cancelled call stops the run) and `estimate` (what a remote-only read would cost).

Transports:
  stdio (default)   the client spawns `minions mcp` and speaks JSON-RPC on its stdin and stdout; logs go to stderr.
  --http ADDR       streamable HTTP at http://ADDR/mcp; beyond loopback it needs --token, and every request must send `Authorization: Bearer TOKEN`.

Documents are read only under the --allow-dir directories and the roots the client declares; other paths are refused. Models, keys and run options come from the same flags, MINIONS_* variables and minions.toml as `minions ask`. See docs/mcp.md for client configuration.";

#[derive(Debug, Clone, Args)]
pub(crate) struct McpArgs {
    /// Serve streamable HTTP on HOST:PORT (at /mcp) instead of stdio; beyond loopback it needs --token.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<String>,
    #[command(flatten)]
    pub access: AccessArgs,
    /// A directory whose files the tools may read (repeat for several); the client's roots are added.
    #[arg(long = "allow-dir", value_name = "DIR")]
    pub allow_dirs: Vec<PathBuf>,
    #[command(flatten)]
    pub models: ModelArgs,
    #[command(flatten)]
    pub run: RunArgs,
}

/// `minions history`: lists runs, newest first; `show` and `summary` below.
#[derive(Debug, Clone, Args)]
pub(crate) struct HistoryArgs {
    #[command(subcommand)]
    pub command: Option<HistoryCommand>,
    /// Runs since: days or hours back (7d, 12h) or a UTC date (2026-11-01, 2026-11).
    #[arg(long, global = true, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only this protocol (minion or minions).
    #[arg(long, global = true, value_parser = protocol, value_name = "NAME")]
    pub protocol: Option<ProtocolKind>,
    /// Only runs whose remote or local model name contains this.
    #[arg(long, global = true, value_name = "TEXT")]
    pub model: Option<String>,
    /// Only runs that ended without an answer (failed, cancelled, stopped by a budget).
    #[arg(long, global = true)]
    pub failed: bool,
    /// At most this many runs in a listing.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub limit: usize,
    /// The history file (default: minions/history.sqlite3 in the user data directory; env MINIONS_HISTORY).
    #[arg(long, global = true, value_name = "PATH")]
    pub history: Option<String>,
    /// Print JSON.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Clone, Subcommand)]
pub(crate) enum HistoryCommand {
    /// One run, with everything recorded of it.
    Show {
        /// The run's id (the first column of the listing).
        id: i64,
    },
    /// What was spent, what remote-only would have cost, and what was saved, per model, day or month.
    Summary {
        /// Group by model, day or month.
        #[arg(long, default_value = "model", value_name = "GROUP")]
        by: minions_history::Grouping,
    },
}

#[derive(Debug, Clone, Args)]
pub(crate) struct DemoArgs {
    /// Protocol to run: minion or minions (default minions).
    #[arg(short, long, value_parser = protocol, value_name = "NAME")]
    pub protocol: Option<ProtocolKind>,
    /// Print one JSON object on stdout instead of the answer and summary.
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn every_flag_and_subcommand_has_help() {
        let command = Cli::command();
        command.clone().debug_assert();
        let mut missing = Vec::new();
        for sub in command.get_subcommands() {
            if sub.get_about().is_none() {
                missing.push(sub.get_name().to_string());
            }
            for arg in sub.get_arguments() {
                if arg.get_help().is_none() && arg.get_id() != "help" && arg.get_id() != "version" {
                    missing.push(format!("{} {}", sub.get_name(), arg.get_id()));
                }
            }
        }
        assert!(missing.is_empty(), "without help text: {missing:?}");
    }
}

/// The Python reference's CLI form, `minions --context PATH --protocol
/// minion`, has no subcommand: when the first argument after the global
/// flags is one of `chat`'s (`--context`, `-c`, `--protocol`, `-p`), `chat`
/// is put before it, so that form starts an interactive chat as it does
/// there. Anything else is left for clap to parse (and explain).
pub(crate) fn with_reference_form(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut at = 1;
    while let Some(arg) = args.get(at).and_then(|a| a.to_str()) {
        let verbosity = arg.len() > 1 && arg.starts_with('-') && arg[1..].chars().all(|c| c == 'v');
        if verbosity || arg == "--verbose" || arg.starts_with("--config=") {
            at += 1;
        } else if arg == "--config" {
            at += 2;
        } else {
            break;
        }
    }
    let starts_chat = args.get(at).and_then(|a| a.to_str()).is_some_and(|arg| {
        ["--context", "-c", "--protocol", "-p"].contains(&arg)
            || arg.starts_with("--context=")
            || arg.starts_with("--protocol=")
    });
    if starts_chat {
        args.insert(at, "chat".into());
    }
    args
}

#[cfg(test)]
mod reference_form_tests {
    use super::with_reference_form;

    fn words(line: &str) -> Vec<String> {
        let args = line.split(' ').map(std::ffi::OsString::from).collect();
        with_reference_form(args)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn the_reference_form_starts_chat() {
        assert_eq!(
            words("minions --context a.txt --protocol minion"),
            [
                "minions",
                "chat",
                "--context",
                "a.txt",
                "--protocol",
                "minion"
            ]
        );
        assert_eq!(
            words("minions -v --config m.toml -p minions -c a.txt"),
            [
                "minions", "-v", "--config", "m.toml", "chat", "-p", "minions", "-c", "a.txt"
            ]
        );
        assert_eq!(words("minions ask q -c a.txt")[1], "ask");
        assert_eq!(words("minions --help"), ["minions", "--help"]);
        assert_eq!(words("minions"), ["minions"]);
    }
}
