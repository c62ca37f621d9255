//! How the embedded model runs: threads, context, sequences, batch, GPU.

use minions_core::env;

/// Settings of an embedded model, with defaults that suit a laptop CPU.
/// Each can be set with a `MINIONS_LLAMA_*` variable ([`LlamaSettings::from_env`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LlamaSettings {
    /// CPU threads for decoding (`MINIONS_LLAMA_THREADS`; default: the
    /// machine's cores, at most 8).
    pub threads: u32,
    /// Tokens one sequence holds, prompt and answer together
    /// (`MINIONS_LLAMA_CONTEXT`; default 4096, at most the model's training
    /// context).
    pub context_per_sequence: u32,
    /// Sequences decoded together in one batch: how many requests run at
    /// once (`MINIONS_LLAMA_SEQUENCES`; default 4).
    pub sequences: u32,
    /// Tokens per decode call (`MINIONS_LLAMA_BATCH`; default 512).
    pub batch: u32,
    /// Layers offloaded to a GPU (`MINIONS_LLAMA_GPU_LAYERS`; default 0;
    /// needs a GPU backend feature such as `cuda` or `metal`).
    pub gpu_layers: u32,
}

impl Default for LlamaSettings {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(4, |n| n.get() as u32);
        Self {
            threads: cores.clamp(1, 8),
            context_per_sequence: 4096,
            sequences: 4,
            batch: 512,
            gpu_layers: 0,
        }
    }
}

impl LlamaSettings {
    /// The defaults, with every `MINIONS_LLAMA_*` variable that is set laid
    /// over them. A value that is not a positive number is an error naming
    /// the variable.
    pub fn from_env() -> Result<Self, String> {
        let mut settings = Self::default();
        let read = |name: &str, min: u32| -> Result<Option<u32>, String> {
            match env::read(name) {
                None => Ok(None),
                Some(text) => match text.trim().parse::<u32>() {
                    Ok(n) if n >= min => Ok(Some(n)),
                    _ => Err(format!(
                        "{name}={text}: give a whole number of at least {min}"
                    )),
                },
            }
        };
        if let Some(n) = read("MINIONS_LLAMA_THREADS", 1)? {
            settings.threads = n;
        }
        if let Some(n) = read("MINIONS_LLAMA_CONTEXT", 256)? {
            settings.context_per_sequence = n;
        }
        if let Some(n) = read("MINIONS_LLAMA_SEQUENCES", 1)? {
            settings.sequences = n;
        }
        if let Some(n) = read("MINIONS_LLAMA_BATCH", 32)? {
            settings.batch = n;
        }
        if let Some(n) = read("MINIONS_LLAMA_GPU_LAYERS", 0)? {
            settings.gpu_layers = n;
        }
        Ok(settings)
    }
}
