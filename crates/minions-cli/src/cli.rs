//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
    /// Print shell completions.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Which protocol runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ProtocolChoice {
    /// The remote model chats with one local model that holds the whole context.
    Minion,
    /// The remote model plans jobs that local models run in parallel over chunks.
    Minions,
}

/// How Minions selects chunks by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Retrieval {
    /// BM25 keyword retrieval is offered to the planner.
    Bm25,
    /// Embedding retrieval is offered too (needs --embedding-model).
    Embedding,
    /// Every chunk: no retrieval is offered.
    None,
}

/// Where the documents come from.
#[derive(Debug, Clone, Args)]
pub(crate) struct ContextArgs {
    /// Files, directories, URLs, or - for stdin. Repeat or separate with spaces.
    #[arg(short = 'c', long = "context", value_name = "PATH", num_args = 1.., required = true)]
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
}

/// Protocol options.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct RunArgs {
    /// Protocol to run (default minions).
    #[arg(short, long, value_enum)]
    pub protocol: Option<ProtocolChoice>,
    /// Rounds at most; the last one must give the final answer (default 3).
    #[arg(long, value_name = "N")]
    pub max_rounds: Option<u32>,
    /// Minions: local jobs in flight at once (default 4).
    #[arg(long, value_name = "N")]
    pub local_concurrency: Option<usize>,
    /// Minions: jobs one round may run (default 128).
    #[arg(long, value_name = "N")]
    pub max_jobs_per_round: Option<usize>,
    /// Minions: suggested chunk size in characters (default 3000).
    #[arg(long, value_name = "CHARS")]
    pub chunk_size: Option<usize>,
    /// Minions: retrieval offered to the planner (default bm25).
    #[arg(long, value_enum)]
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
    /// Redact emails, phone and card numbers, ids and IP addresses before anything reaches the remote model.
    #[arg(long)]
    pub privacy: bool,
    /// Also redact this term (repeatable).
    #[arg(long, value_name = "TERM")]
    pub redact: Vec<String>,
    /// Remote sampling temperature (default 0).
    #[arg(long, value_name = "T")]
    pub remote_temperature: Option<f32>,
    /// Remote answer limit in tokens (default 2048).
    #[arg(long, value_name = "N")]
    pub remote_max_tokens: Option<u32>,
    /// Local sampling temperature (default 0).
    #[arg(long, value_name = "T")]
    pub local_temperature: Option<f32>,
    /// Local answer limit in tokens (default 1024).
    #[arg(long, value_name = "N")]
    pub local_max_tokens: Option<u32>,
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

#[derive(Debug, Clone, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on; anything beyond loopback needs --token.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub bind: std::net::SocketAddr,
    /// Bearer token required on every /v1 route (env MINIONS_SERVER_TOKEN).
    #[arg(
        long,
        env = "MINIONS_SERVER_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
    /// Largest request body in bytes, documents included.
    #[arg(long, default_value_t = 32 << 20, value_name = "BYTES")]
    pub max_body_bytes: usize,
    /// Runs at once; more get HTTP 429.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub max_runs: usize,
    #[command(flatten)]
    pub models: ModelArgs,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct DemoArgs {
    /// Protocol to run (default minions).
    #[arg(short, long, value_enum)]
    pub protocol: Option<ProtocolChoice>,
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
