//! Models by Hugging Face reference (`hf.co/OWNER/REPO:QUANT`, the form
//! Ollama users know), downloaded once into the user's cache: resumed when
//! a download was interrupted, checked against the hub's SHA-256, with
//! `HF_ENDPOINT` and `HF_TOKEN` honoured.
//!
//! Written on our own HTTP client rather than the `hf-hub` crate: one file
//! by URL needs a listing, a ranged GET and a hash, while `hf-hub` 1.0 pulls
//! in some two hundred crates for its Xet storage client.

use std::path::{Path, PathBuf};

use futures::StreamExt;
use minions_core::{ApiKey, Error, Result, env};
use minions_http::reqwest::header::{AUTHORIZATION, RANGE};
use minions_http::{HttpClient, secret_header};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The public hub, unless `HF_ENDPOINT` names another (a mirror, or a fake
/// one in tests).
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";
/// The quantization taken when a reference names none.
pub const DEFAULT_QUANT: &str = "Q4_K_M";

/// A model on the hub: `hf.co/OWNER/REPO` with an optional `:QUANT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubModel {
    /// `OWNER/REPO`.
    pub repo: String,
    /// The quantization tag (`Q4_K_M`, `Q8_0`, ...), if one was named.
    pub quant: Option<String>,
}

impl HubModel {
    /// Reads `hf.co/OWNER/REPO[:QUANT]` (also `huggingface.co/...`); `None`
    /// for anything else, such as a file path.
    pub fn parse(reference: &str) -> Option<Self> {
        let rest = reference
            .strip_prefix("hf.co/")
            .or_else(|| reference.strip_prefix("huggingface.co/"))?;
        let (repo, quant) = match rest.rsplit_once(':') {
            Some((repo, quant)) if !quant.is_empty() => (repo, Some(quant.to_string())),
            _ => (rest.trim_end_matches(':'), None),
        };
        let mut parts = repo.split('/');
        let (Some(owner), Some(name), None) = (parts.next(), parts.next(), parts.next()) else {
            return None;
        };
        (!owner.is_empty() && !name.is_empty()).then(|| Self {
            repo: repo.to_string(),
            quant,
        })
    }
}

impl std::fmt::Display for HubModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.quant {
            Some(quant) => write!(f, "hf.co/{}:{quant}", self.repo),
            None => write!(f, "hf.co/{}", self.repo),
        }
    }
}

/// Where downloaded models live: `MINIONS_MODEL_CACHE`, or the user's
/// cache directory (`~/.cache/minions/models` on Linux).
pub fn cache_dir() -> PathBuf {
    env::read("MINIONS_MODEL_CACHE")
        .map(PathBuf::from)
        .or_else(|| dirs::cache_dir().map(|d| d.join("minions").join("models")))
        .unwrap_or_else(|| PathBuf::from(".minions-models"))
}

#[derive(Debug, Deserialize)]
struct Listing {
    #[serde(default)]
    siblings: Vec<Sibling>,
}

#[derive(Debug, Clone, Deserialize)]
struct Sibling {
    rfilename: String,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    lfs: Option<Lfs>,
}

#[derive(Debug, Clone, Deserialize)]
struct Lfs {
    sha256: String,
    #[serde(default)]
    size: Option<u64>,
}

/// The hub's endpoint and token, from `HF_ENDPOINT` and `HF_TOKEN`.
#[derive(Debug, Clone)]
pub struct Hub {
    endpoint: String,
    token: Option<ApiKey>,
    http: HttpClient,
}

impl Hub {
    /// The hub the environment names.
    pub fn from_env() -> Result<Self> {
        let endpoint = env::read("HF_ENDPOINT").unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
        let token = env::read("HF_TOKEN").or_else(|| env::read("HUGGING_FACE_HUB_TOKEN"));
        Self::new(&endpoint, token)
    }

    /// A hub at `endpoint`, with an optional token.
    pub fn new(endpoint: &str, token: Option<String>) -> Result<Self> {
        let endpoint = endpoint.trim_end_matches('/').to_string();
        let http = HttpClient::builder("hf.co")
            .key_var("HF_TOKEN")
            .connect_hint(format!(
                "is {endpoint} reachable? Set HF_ENDPOINT for a mirror, or give the path of a downloaded .gguf file"
            ))
            .build()?;
        Ok(Self {
            endpoint,
            token: token.map(ApiKey::new),
            http,
        })
    }

    fn get(&self, url: &str) -> Result<minions_http::reqwest::RequestBuilder> {
        let mut builder = self.http.reqwest().get(url);
        if let Some(token) = &self.token {
            builder = builder.header(AUTHORIZATION, secret_header(token, "Bearer ")?);
        }
        Ok(builder)
    }

    /// The model's GGUF file: from the cache when it is there, downloaded
    /// (or the download resumed) otherwise. `progress` hears bytes done and
    /// the total.
    pub async fn fetch(
        &self,
        model: &HubModel,
        cache: &Path,
        mut progress: impl FnMut(u64, u64) + Send,
    ) -> Result<PathBuf> {
        let dir = cache.join(model.repo.replace('/', "--"));
        // A finished download is used without asking the hub, so a model
        // once fetched works offline. (Only verified files get their name.)
        if let Some(cached) = cached(&dir, model) {
            return Ok(cached);
        }
        let file = self.pick(model).await?;
        let target = dir.join(&file.rfilename);
        let expected_size = file.lfs.as_ref().and_then(|l| l.size).or(file.size);
        if let Ok(meta) = tokio::fs::metadata(&target).await
            && expected_size.is_none_or(|size| size == meta.len())
        {
            tracing::debug!(path = %target.display(), "model already downloaded");
            return Ok(target);
        }
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| Error::config(format!("cannot create {}: {e}", dir.display())))?;
        let partial = dir.join(format!("{}.part", file.rfilename));
        let url = format!(
            "{}/{}/resolve/main/{}",
            self.endpoint, model.repo, file.rfilename
        );
        let digest = self
            .download(&url, &partial, expected_size, &mut progress)
            .await?;
        if let Some(lfs) = &file.lfs
            && !lfs.sha256.eq_ignore_ascii_case(&digest)
        {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(Error::config(format!(
                "{model}: the downloaded {} does not match the hub's checksum (sha256 {digest}, expected {}); it was deleted, try again",
                file.rfilename, lfs.sha256
            )));
        }
        tokio::fs::rename(&partial, &target)
            .await
            .map_err(|e| Error::config(format!("cannot move the download into place: {e}")))?;
        Ok(target)
    }

    /// The GGUF file of the model that matches its quantization.
    async fn pick(&self, model: &HubModel) -> Result<Sibling> {
        let url = format!("{}/api/models/{}?blobs=true", self.endpoint, model.repo);
        let request = self
            .get(&url)?
            .build()
            .map_err(|e| Error::config(format!("cannot ask the hub about {model}: {e}")))?;
        let listing: Listing = match self.http.send_json(request).await {
            Ok(listing) => listing,
            Err(error) if matches!(error.status(), Some(401 | 403 | 404)) => {
                return Err(Error::config(format!(
                    "{model}: the hub has no such model, or it needs a token (HF_TOKEN): {error}"
                )));
            }
            Err(error) => return Err(error),
        };
        let ggufs: Vec<Sibling> = listing
            .siblings
            .into_iter()
            .filter(|s| s.rfilename.to_ascii_lowercase().ends_with(".gguf"))
            .collect();
        let names = || {
            ggufs
                .iter()
                .map(|s| s.rfilename.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if ggufs.is_empty() {
            return Err(Error::config(format!(
                "{model} has no .gguf file: pick a GGUF repository (often named ...-GGUF)"
            )));
        }
        let quant = model
            .quant
            .as_deref()
            .unwrap_or(DEFAULT_QUANT)
            .to_ascii_lowercase();
        let mut matching: Vec<&Sibling> = ggufs
            .iter()
            .filter(|s| s.rfilename.to_ascii_lowercase().contains(&quant))
            .collect();
        if matching.is_empty() && model.quant.is_none() && ggufs.len() == 1 {
            matching.push(&ggufs[0]);
        }
        match matching.as_slice() {
            [one] if one.rfilename.contains("-of-") => Err(Error::config(format!(
                "{model}: {} is one part of a split model, which is not supported; pick a quantization in one file ({})",
                one.rfilename,
                names()
            ))),
            [one] => Ok((*one).clone()),
            [] => Err(Error::config(format!(
                "{model}: no .gguf file for quantization {}; the repository has: {}",
                model.quant.as_deref().unwrap_or(DEFAULT_QUANT),
                names()
            ))),
            _ => Err(Error::config(format!(
                "{model}: several files match; name one with :QUANT. Files: {}",
                names()
            ))),
        }
    }

    /// Downloads `url` into `partial`, continuing a partial file; returns
    /// the SHA-256 of the whole file.
    async fn download(
        &self,
        url: &str,
        partial: &Path,
        expected: Option<u64>,
        progress: &mut (impl FnMut(u64, u64) + Send),
    ) -> Result<String> {
        let io =
            |e: std::io::Error| Error::config(format!("cannot write {}: {e}", partial.display()));
        let mut hasher = Sha256::new();
        let mut have: u64 = 0;
        if let Ok(mut existing) = tokio::fs::File::open(partial).await {
            let mut buffer = vec![0u8; 1 << 20];
            loop {
                let n = existing.read(&mut buffer).await.map_err(io)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buffer[..n]);
                have += n as u64;
            }
        }
        let mut builder = self.get(url)?;
        if have > 0 {
            builder = builder.header(RANGE, format!("bytes={have}-"));
        }
        let request = builder
            .build()
            .map_err(|e| Error::config(format!("cannot build the download request: {e}")))?;
        let response = self.http.send(request).await?;
        let resumed = response.status().as_u16() == 206;
        if have > 0 && !resumed {
            // The server sent the whole file: start over.
            tracing::info!("the server does not resume downloads; starting over");
            hasher = Sha256::new();
            have = 0;
        } else if resumed {
            tracing::info!(bytes = have, "resuming the download");
        }
        let total = expected
            .or_else(|| response.content_length().map(|len| len + have))
            .unwrap_or(0);
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(resumed)
            .truncate(!resumed)
            .open(partial)
            .await
            .map_err(io)?;
        let mut body = response.bytes_stream();
        progress(have, total);
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| self.http.broken_body(&e))?;
            file.write_all(&chunk).await.map_err(io)?;
            hasher.update(&chunk);
            have += chunk.len() as u64;
            progress(have, total);
        }
        file.flush().await.map_err(io)?;
        if let Some(size) = expected
            && size != have
        {
            return Err(Error::stream(
                "hf.co",
                format!("the download stopped at {have} of {size} bytes; run again to resume"),
            ));
        }
        Ok(format!("{:x}", hasher.finalize()))
    }
}

/// The one finished download in `dir` that matches the model's
/// quantization, if there is exactly one.
fn cached(dir: &Path, model: &HubModel) -> Option<PathBuf> {
    let quant = model
        .quant
        .as_deref()
        .unwrap_or(DEFAULT_QUANT)
        .to_ascii_lowercase();
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            name.ends_with(".gguf") && name.contains(&quant)
        })
        .collect();
    (found.len() == 1).then(|| found.remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_like_ollamas() {
        assert_eq!(
            HubModel::parse("hf.co/bartowski/SmolLM2-135M-Instruct-GGUF:Q4_K_M"),
            Some(HubModel {
                repo: "bartowski/SmolLM2-135M-Instruct-GGUF".into(),
                quant: Some("Q4_K_M".into())
            })
        );
        assert_eq!(
            HubModel::parse("huggingface.co/a/b").map(|m| m.quant),
            Some(None)
        );
        assert_eq!(HubModel::parse("models/x.gguf"), None);
        assert_eq!(HubModel::parse("hf.co/only-owner"), None);
        assert_eq!(HubModel::parse("hf.co/a/b/c"), None);
    }
}
