//! `cargo xtask bench --suite startup`: how long the release `minions`
//! takes to start its real work, command by command (median of several
//! runs, wall clock, output discarded).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 9;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn time(binary: &Path, args: &[&str], dir: &Path) -> Result<Duration, String> {
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let began = Instant::now();
        let status = Command::new(binary)
            .args(args)
            .current_dir(dir)
            .env("HOME", dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
        let took = began.elapsed();
        if !status.success() {
            return Err(format!("`minions {}` failed with {status}", args.join(" ")));
        }
        times.push(took);
    }
    Ok(median(times))
}

/// Builds the release binary and prints the table.
pub(crate) fn run() -> Result<(), String> {
    let built = Command::new("cargo")
        .args(["build", "--quiet", "--release", "-p", "minions-cli"])
        .status()
        .map_err(|e| e.to_string())?;
    if !built.success() {
        return Err("the release build failed".into());
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no workspace root")?
        .to_path_buf();
    let binary = root.join("target/release/minions");
    let dir = std::env::temp_dir().join(format!("minions-startup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("small.txt"), "hello world.\n").map_err(|e| e.to_string())?;
    println!("| command | median of {RUNS} (wall) |\n| --- | --- |");
    for args in [
        vec!["--help"],
        vec!["estimate", "-c", "small.txt"],
        vec!["demo"],
    ] {
        let took = time(&binary, &args, &dir)?;
        println!(
            "| `minions {}` | {:.1} ms |",
            args.join(" "),
            took.as_secs_f64() * 1000.0
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
