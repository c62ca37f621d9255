//! Project automation, run as `cargo xtask <command>`.
//!
//! `cargo xtask ci` runs exactly the checks of `.ci/run` (which calls it), so
//! a developer can reproduce CI with one command.

// A command-line tool: printing is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::{Command, ExitCode};

/// The CI steps, in order. The last one is the README's test command.
const CI_STEPS: &[&[&str]] = &[
    &["cargo", "fmt", "--all", "--", "--check"],
    &[
        "cargo",
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ],
    &["cargo", "test", "--workspace"],
];

const USAGE: &str = "usage: cargo xtask <command>

commands:
  ci      run what CI runs: cargo fmt --check, clippy -D warnings, cargo test --workspace";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => run_ci(),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("error: unknown command `{other}`\n\n{USAGE}");
            ExitCode::from(2)
        }
        None => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run_ci() -> ExitCode {
    for step in CI_STEPS {
        let line = step.join(" ");
        println!("==> {line}");
        let status = Command::new(step[0]).args(&step[1..]).status();
        match status {
            Ok(status) if status.success() => {}
            Ok(status) => {
                eprintln!("xtask ci: `{line}` failed ({status})");
                return ExitCode::FAILURE;
            }
            Err(err) => {
                eprintln!("xtask ci: cannot run `{line}`: {err}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("==> all CI steps passed");
    ExitCode::SUCCESS
}
