//! Downloads from a fake Hugging Face hub on 127.0.0.1 (never the
//! internet): the file matching the quantization, the token sent, an
//! interrupted download resumed with a Range request, the checksum checked,
//! and a finished download used again without asking the hub.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use minions_llama::hub::{Hub, HubModel};
use sha2::{Digest, Sha256};

struct FakeHub {
    file: Vec<u8>,
    sha256: String,
    /// Requests for the file, with their Range header.
    ranges: Mutex<Vec<Option<String>>>,
    /// The first download is cut off after this many bytes.
    cut_first_at: Option<usize>,
    downloads: AtomicUsize,
    tokens: Mutex<Vec<Option<String>>>,
}

async fn listing(State(hub): State<Arc<FakeHub>>, headers: HeaderMap) -> Response {
    hub.tokens.lock().unwrap().push(
        headers
            .get(header::AUTHORIZATION)
            .map(|v| v.to_str().unwrap().to_string()),
    );
    let size = hub.file.len();
    axum::Json(serde_json::json!({
        "id": "acme/tiny-GGUF",
        "siblings": [
            {"rfilename": "README.md", "size": 10},
            {"rfilename": "tiny-Q8_0.gguf", "size": size, "lfs": {"sha256": "00", "size": size}},
            {"rfilename": "tiny-Q4_K_M.gguf", "size": size, "lfs": {"sha256": hub.sha256, "size": size}}
        ]
    }))
    .into_response()
}

async fn resolve(
    State(hub): State<Arc<FakeHub>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    assert_eq!(file, "tiny-Q4_K_M.gguf", "the quantization asked for");
    let range = headers
        .get(header::RANGE)
        .map(|v| v.to_str().unwrap().to_string());
    hub.ranges.lock().unwrap().push(range.clone());
    let n = hub.downloads.fetch_add(1, Ordering::SeqCst);
    let start = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.trim_end_matches('-').parse::<usize>().ok())
        .unwrap_or(0);
    let end = match (n, hub.cut_first_at) {
        (0, Some(cut)) => cut,
        _ => hub.file.len(),
    };
    let body = hub.file[start..end].to_vec();
    let status = if start > 0 {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    (status, body).into_response()
}

async fn start(hub: Arc<FakeHub>) -> String {
    let app = Router::new()
        .route("/api/models/acme/tiny-GGUF", get(listing))
        .route("/acme/tiny-GGUF/resolve/main/{file}", get(resolve))
        .with_state(hub);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn fake(cut_first_at: Option<usize>, sha_override: Option<&str>) -> Arc<FakeHub> {
    let mut file = b"GGUF".to_vec();
    file.extend((0..200_000u32).map(|i| (i % 251) as u8));
    let sha256 = sha_override
        .map(str::to_string)
        .unwrap_or_else(|| format!("{:x}", Sha256::digest(&file)));
    Arc::new(FakeHub {
        file,
        sha256,
        ranges: Mutex::new(Vec::new()),
        cut_first_at,
        downloads: AtomicUsize::new(0),
        tokens: Mutex::new(Vec::new()),
    })
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("minions-hub-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test]
async fn an_interrupted_download_resumes_is_verified_and_is_then_used_offline() {
    let served = fake(Some(70_000), None);
    let url = start(served.clone()).await;
    let hub = Hub::new(&url, Some("hf_secret".into())).unwrap();
    let model = HubModel::parse("hf.co/acme/tiny-GGUF:Q4_K_M").unwrap();
    let cache = scratch("resume");

    let first = hub.fetch(&model, &cache, |_, _| {}).await.unwrap_err();
    assert!(first.to_string().contains("run again to resume"), "{first}");

    let mut seen = Vec::new();
    let path = hub
        .fetch(&model, &cache, |done, total| seen.push((done, total)))
        .await
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), served.file);
    assert!(
        path.ends_with("acme--tiny-GGUF/tiny-Q4_K_M.gguf"),
        "{}",
        path.display()
    );
    assert_eq!(
        served.ranges.lock().unwrap().clone(),
        [None, Some("bytes=70000-".to_string())],
        "the second request continues where the first stopped"
    );
    assert_eq!(seen.first(), Some(&(70_000, served.file.len() as u64)));
    assert_eq!(
        seen.last(),
        Some(&(served.file.len() as u64, served.file.len() as u64))
    );
    assert!(
        seen.windows(2).all(|w| w[0].0 <= w[1].0),
        "progress only grows"
    );
    assert!(
        served
            .tokens
            .lock()
            .unwrap()
            .iter()
            .all(|t| t.as_deref() == Some("Bearer hf_secret")),
        "HF_TOKEN goes with every request"
    );

    // Offline now: a hub that is gone does not matter.
    let gone = Hub::new("http://127.0.0.1:9", None).unwrap();
    let again = gone.fetch(&model, &cache, |_, _| {}).await.unwrap();
    assert_eq!(again, path);
    let _ = std::fs::remove_dir_all(&cache);
}

#[tokio::test]
async fn a_checksum_mismatch_deletes_the_download_and_says_so() {
    let served = fake(None, Some("ab".repeat(32).as_str()));
    let url = start(served.clone()).await;
    let hub = Hub::new(&url, None).unwrap();
    let cache = scratch("checksum");
    let model = HubModel::parse("hf.co/acme/tiny-GGUF").unwrap();
    let error = hub.fetch(&model, &cache, |_, _| {}).await.unwrap_err();
    let text = error.to_string();
    assert!(text.contains("does not match the hub's checksum"), "{text}");
    let left: Vec<_> = std::fs::read_dir(cache.join("acme--tiny-GGUF"))
        .unwrap()
        .flatten()
        .collect();
    assert!(left.is_empty(), "nothing unverified is kept: {left:?}");
    let missing = hub
        .fetch(
            &HubModel::parse("hf.co/acme/tiny-GGUF:Q2_K").unwrap(),
            &cache,
            |_, _| {},
        )
        .await
        .unwrap_err();
    assert!(
        missing.to_string().contains("tiny-Q4_K_M.gguf"),
        "{missing}"
    );
    let _ = std::fs::remove_dir_all(&cache);
}
