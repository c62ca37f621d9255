//! What would it cost to send a document to a remote model whole?
//!
//! ```text
//! cargo run -p minions-tokens --example estimate -- FILE [--remote provider/model]
//! ```
//!
//! Counts the file's tokens with the remote model's tokenizer (exact for
//! OpenAI models, a close estimate for others) and prices one remote-only
//! call that reads it, with the built-in price table plus `MINIONS_PRICING`.
//! The remote model comes from `--remote`, else `MINIONS_REMOTE`, else
//! `openai/gpt-4o`.

// A command-line example: printing is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use minions_core::{ModelSpec, Pricing, Usage, env};
use minions_tokens::{Encoding, approx_tokens, count_tokens};

const USAGE: &str = "usage: estimate FILE [--remote provider/model]";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    let mut remote = env::read(env::MINIONS_REMOTE).unwrap_or_else(|| "openai/gpt-4o".into());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--remote" => {
                remote = args
                    .next()
                    .ok_or(format!("--remote needs a value\n{USAGE}"))?
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            flag if flag.starts_with('-') => return Err(format!("unknown flag `{flag}`\n{USAGE}")),
            file => path = Some(file.to_string()),
        }
    }
    let path = path.ok_or(format!("which file?\n{USAGE}"))?;
    let spec = ModelSpec::parse(&remote).map_err(|e| e.to_string())?;
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        format!("{path} is not UTF-8 text; this example reads plain text files only")
    })?;
    if text.trim().is_empty() {
        return Err(format!("{path} is empty: nothing to estimate"));
    }

    let encoding = Encoding::for_model(&spec.model);
    let tokens = count_tokens(&text, encoding);
    let pricing = Pricing::from_env().map_err(|e| e.to_string())?;
    println!("file:           {path}");
    println!("characters:     {}", text.chars().count());
    println!(
        "tokens:         {tokens} ({encoding:?}; quick estimate {})",
        approx_tokens(&text)
    );
    match pricing.price(&spec) {
        Some(price) => {
            let cost = price.cost(&Usage::new(tokens as u64, 0));
            println!(
                "remote-only:    ${:.4} to read it once with {spec} (${}/M input tokens, prices of {})",
                cost.total_usd(),
                price.input,
                pricing.taken()
            );
        }
        None => println!(
            "remote-only:    no price known for {spec}; add it to a price file named by {}",
            env::MINIONS_PRICING
        ),
    }
    Ok(())
}
