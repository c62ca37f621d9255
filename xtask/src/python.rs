//! `cargo xtask python`: builds the Python package's wheel with maturin,
//! installs it in a fresh virtual environment and runs its pytest suite
//! against the demo's stand-ins (`minions-stand-ins`), as CI does.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// maturin, pinned, in its own environment under target/ (kept between
/// runs): the build tool, never installed into the user's environment.
const MATURIN: &str = "maturin==1.16.0";
/// What the tests import besides the package: pytest, and pydantic for the
/// reference README's Minions example.
const TEST_REQUIREMENTS: &[&str] = &["pytest==9.2.0", "pydantic==2.14.4"];

fn run(command: &mut Command) -> Result<(), String> {
    let shown = format!("{command:?}");
    let status = command
        .status()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

fn venv(path: &Path, fresh: bool) -> Result<PathBuf, String> {
    let python = path.join("bin").join("python");
    if fresh || !python.exists() {
        let mut command = Command::new("python3");
        command.args(["-m", "venv"]);
        if fresh {
            command.arg("--clear");
        }
        run(command.arg(path))?;
    }
    Ok(python)
}

/// Builds (dev profile, or release with `--release`), installs and tests.
pub(crate) fn test(args: &[String]) -> Result<(), String> {
    let release = args.iter().any(|a| a == "--release");
    if let Some(other) = args.iter().find(|a| *a != "--release") {
        return Err(format!("unknown option `{other}`: --release"));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("xtask has no parent directory")?
        .to_path_buf();
    let target = root.join("target");
    run(Command::new("cargo").current_dir(&root).args([
        "build",
        "-p",
        "minions-testkit",
        "--bin",
        "minions-stand-ins",
    ]))?;

    let build_python = venv(&target.join("py-build"), false)?;
    if !Command::new(&build_python)
        .args(["-m", "maturin", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        run(Command::new(&build_python).args(["-m", "pip", "install", "-q", MATURIN]))?;
    }
    let wheels = target.join("wheels");
    let _ = std::fs::remove_dir_all(&wheels);
    let began = Instant::now();
    run(Command::new(&build_python)
        .current_dir(root.join("crates/minions-py"))
        .args(["-m", "maturin", "build", "--profile"])
        .arg(if release { "release" } else { "dev" })
        .arg("-o")
        .arg(&wheels))?;
    let built = began.elapsed().as_secs();
    let wheel = std::fs::read_dir(&wheels)
        .map_err(|e| format!("{}: {e}", wheels.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or("maturin built no wheel")?;
    let size = std::fs::metadata(&wheel).map(|m| m.len()).unwrap_or(0);
    println!(
        "wheel {} ({:.1} MB) built in {built} s",
        wheel.display(),
        size as f64 / 1e6
    );

    // A fresh environment each time: the install itself is under test.
    let python = venv(&target.join("py-test"), true)?;
    run(Command::new(&python)
        .args(["-m", "pip", "install", "-q"])
        .arg(&wheel)
        .args(TEST_REQUIREMENTS))?;
    run(Command::new(&python)
        .current_dir(root.join("crates/minions-py"))
        .args(["-m", "pytest", "-q", "tests"]))
}
