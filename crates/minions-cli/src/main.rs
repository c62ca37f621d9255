//! The `minions` command.

mod cli;
mod commands;
mod error;
mod history;
mod progress;
mod run;
mod settings;
mod setup;
mod telemetry;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command};
use crate::error::{CliError, code};

fn run(cli: Cli) -> Result<u8, CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::usage(format!("cannot start the async runtime: {e}")))?;
    let config = cli.config.as_deref();
    match cli.command {
        Command::Ask(args) => {
            let settings =
                settings::resolve(settings::from_flags(&args.models, &args.run), config)?;
            runtime.block_on(commands::ask::ask(args, settings))
        }
        Command::Chat(args) => {
            let settings =
                settings::resolve(settings::from_flags(&args.models, &args.run), config)?;
            commands::chat::chat(args, settings, &runtime)
        }
        Command::Estimate(args) => {
            let flags = settings::Settings {
                max_input_bytes: args.context.max_input_bytes,
                ..Default::default()
            };
            let settings = settings::resolve(flags, config)?;
            runtime.block_on(commands::estimate::estimate(args, settings))
        }
        Command::Providers(args) => {
            let settings = settings::resolve(
                settings::from_flags(&args.models, &Default::default()),
                config,
            )?;
            runtime.block_on(commands::providers::providers(args, settings))
        }
        Command::Config(args) => {
            let settings =
                settings::resolve(settings::from_flags(&args.models, &args.run), config)?;
            commands::config::show(args, settings)
        }
        Command::Demo(args) => runtime.block_on(commands::demo::demo(args)),
        Command::History(args) => {
            let settings = settings::resolve(settings::Settings::default(), config)?;
            history::command(args, &settings)
        }
        Command::Serve(args) => {
            let settings = settings::resolve(
                settings::from_flags(&args.models, &Default::default()),
                config,
            )?;
            runtime.block_on(commands::serve::serve(args, settings))
        }
        Command::Mcp(args) => {
            let settings =
                settings::resolve(settings::from_flags(&args.models, &args.run), config)?;
            runtime.block_on(commands::mcp::mcp(args, settings))
        }
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "minions",
                &mut std::io::stdout(),
            );
            Ok(code::OK)
        }
    }
}

#[allow(clippy::print_stderr)]
fn main() -> ExitCode {
    let cli = Cli::parse_from(cli::with_reference_form(std::env::args_os().collect()));
    let verbose = cli.verbose;
    let _telemetry = telemetry::init(verbose);
    match run(cli) {
        Ok(status) => ExitCode::from(status),
        Err(error) => {
            eprintln!("error: {}", error.message);
            if verbose > 0
                && let Some(detail) = &error.detail
            {
                eprintln!("detail: {detail}");
            }
            ExitCode::from(error.code)
        }
    }
}
