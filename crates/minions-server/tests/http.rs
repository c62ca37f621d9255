//! The server over real HTTP, with the test kit's fakes behind it.

// Helpers in test files unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use base64::Engine;
use common::*;
use minions_server::{RunLimits, ServerConfig};
use minions_testkit::Reply;
use serde_json::{Value, json};

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

fn chat_body(model: &str, stream: bool) -> Value {
    json!({"model": model, "stream": stream, "stream_options": {"include_usage": true}, "messages": [
        {"role": "system", "content": document()},
        {"role": "user", "content": "What is the launch code?"}
    ]})
}

/// Reads an SSE body into `data:` payloads.
async fn sse_data(response: reqwest::Response) -> Vec<String> {
    let text = response.text().await.unwrap();
    text.split("\n\n")
        .flat_map(|block| {
            block
                .lines()
                .filter_map(|l| l.strip_prefix("data: ").or_else(|| l.strip_prefix("data:")))
                .map(str::to_string)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_completions_answers_in_openai_format() {
    let h = start(ServerConfig::default()).await;
    for model in ["minions", "minion"] {
        let response = client()
            .post(format!("{}/v1/chat/completions", h.url))
            .json(&chat_body(model, false))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["object"], "chat.completion");
        assert_eq!(
            body["choices"][0]["message"]["content"],
            "The launch code is 7421."
        );
        assert!(body["usage"]["total_tokens"].as_u64().unwrap() > 0);
        assert_eq!(body["minions"]["protocol"], model);
        assert!(body["minions"]["remote_cost_usd"].as_f64().unwrap() > 0.0);
        assert!(!body.to_string().contains("sk-server-secret"));
    }
    // The documents never reached the remote model.
    for request in h.remote.requests() {
        assert!(
            !request
                .prompt_text()
                .contains("Routine notes about staffing")
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn streaming_sends_progress_then_the_answer_then_done() {
    let h = start(ServerConfig::default()).await;
    let response = client()
        .post(format!("{}/v1/chat/completions", h.url))
        .json(&chat_body("minions", true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let data = sse_data(response).await;
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert!(
        chunks.iter().any(|c| c["minions_event"]["type"] == "plan"),
        "progress events are streamed"
    );
    let answer: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(answer, "The launch code is 7421.");
    assert!(
        chunks
            .iter()
            .any(|c| c["choices"][0]["finish_reason"] == "stop")
    );
    assert!(
        chunks.last().unwrap()["usage"]["total_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn models_and_errors_in_openai_shape() {
    let h = start(ServerConfig::default()).await;
    let models: Value = client()
        .get(format!("{}/v1/models", h.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["minion", "minions"]);

    let response = client()
        .post(format!("{}/v1/chat/completions", h.url))
        .json(&json!({"model": "gpt-4o", "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown model")
    );
    assert_eq!(body["error"]["type"], "invalid_request_error");

    let response = client()
        .post(format!("{}/v1/chat/completions", h.url))
        .json(&json!({"model": "minions", "messages": [{"role": "system", "content": "x"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let response = client()
        .post(format!("{}/v1/chat/completions", h.url))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);

    h.remote
        .respond_with(|_| Reply::status(401, "Incorrect API key provided"));
    let response = client()
        .post(format!("{}/v1/chat/completions", h.url))
        .json(&chat_body("minion", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"].as_str().unwrap().contains("401"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_runs_api_replays_events_to_late_subscribers() {
    let h = start(ServerConfig::default()).await;
    let upload = base64::engine::general_purpose::STANDARD.encode(document());
    let response = client()
        .post(format!("{}/v1/runs", h.url))
        .json(&json!({"task": "What is the launch code?", "protocol": "minions",
                      "documents": [{"name": "notes.txt", "content_base64": upload}], "options": {"max_rounds": 2}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let run: Value = response.json().await.unwrap();
    let id = run["id"].as_str().unwrap().to_string();
    // Wait for the end, then subscribe: the whole run is replayed.
    for _ in 0..100 {
        let state: Value = client()
            .get(format!("{}/v1/runs/{id}", h.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if state["status"] != "running" {
            assert_eq!(state["status"], "done");
            assert_eq!(state["result"]["answer"], "The launch code is 7421.");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let response = client()
        .get(format!("{}/v1/runs/{id}/events", h.url))
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    let kinds: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    assert_eq!(kinds.first(), Some(&"run_started"));
    assert!(kinds.contains(&"plan") && kinds.contains(&"job_finished"));
    assert_eq!(kinds.last(), Some(&"end"));
    let missing = client()
        .get(format!("{}/v1/runs/nope", h.url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_can_be_cancelled() {
    let h = start(ServerConfig::default()).await;
    h.local
        .respond_with(|_| Reply::text("slow").after(Duration::from_secs(30)));
    let run: Value = client()
        .post(format!("{}/v1/runs", h.url))
        .json(&json!({"task": "q", "protocol": "minion", "documents": [{"text": document()}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = run["id"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let cancelled: Value = client()
        .delete(format!("{}/v1/runs/{id}", h.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cancelled["status"], "cancelled");
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_past_the_cap_queue_then_get_429_with_retry_after() {
    let h = start(ServerConfig {
        runs: RunLimits {
            concurrent: 1,
            queue_depth: 1,
            queue_wait: Duration::from_secs(20),
        },
        ..ServerConfig::default()
    })
    .await;
    h.local
        .respond_with(|_| Reply::text("slow").after(Duration::from_secs(30)));
    let body = json!({"task": "q", "protocol": "minion", "documents": [{"text": "some text"}]});
    let post = || {
        client()
            .post(format!("{}/v1/runs", h.url))
            .json(&body)
            .send()
    };
    let first = post().await.unwrap();
    assert_eq!(first.status(), 202);
    // The second waits in the queue for the first run's slot.
    let url = h.url.clone();
    let queued_body = body.clone();
    let queued = tokio::spawn(async move {
        client()
            .post(format!("{url}/v1/runs"))
            .json(&queued_body)
            .send()
            .await
            .unwrap()
            .status()
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The queue is full: the third is told to come back later.
    let third = post().await.unwrap();
    assert_eq!(third.status(), 429);
    assert_eq!(
        third
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("5")
    );
    let error: Value = third.json().await.unwrap();
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("retry after 5 s"),
        "{error}"
    );
    let id: Value = first.json().await.unwrap();
    client()
        .delete(format!("{}/v1/runs/{}", h.url, id["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        queued.await.unwrap(),
        202,
        "the queued run starts when a slot frees"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_refuses_what_the_cli_refuses_in_the_same_words() {
    let h = start(ServerConfig::default()).await;
    let body =
        json!({"task": "q", "documents": [{"text": "some text"}], "options": {"max_rounds": 0}});
    let answer = client()
        .post(format!("{}/v1/runs", h.url))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let error: Value = answer.json().await.unwrap();
    let expected = minions::RunOptions::default()
        .max_rounds(0)
        .build()
        .unwrap_err()
        .to_string();
    assert_eq!(error["error"]["message"], json!(expected));
    let unknown = client()
        .post(format!("{}/v1/runs", h.url))
        .json(&json!({"task": "q", "documents": [{"text": "t"}], "options": {"max_roundz": 2}}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_rule() {
    let h = start(ServerConfig {
        token: Some("s3cret".into()),
        ..ServerConfig::default()
    })
    .await;
    // The API and the metrics (they name models and spend) alike.
    for path in ["/v1/models", "/metrics"] {
        let anonymous = client()
            .get(format!("{}{path}", h.url))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), 401, "{path}");
        let body: Value = anonymous.json().await.unwrap();
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Bearer")
        );
        let wrong = client()
            .get(format!("{}{path}", h.url))
            .bearer_auth("s3cre7")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401, "{path}");
        let right = client()
            .get(format!("{}{path}", h.url))
            .bearer_auth("s3cret")
            .send()
            .await
            .unwrap();
        assert_eq!(right.status(), 200, "{path}");
    }
    let page = client().get(format!("{}/", h.url)).send().await.unwrap();
    assert_eq!(
        page.status(),
        200,
        "the page itself is public; its API calls carry the token"
    );
    assert!(!page.text().await.unwrap().contains("sk-server-secret"));

    let exposed = ServerConfig {
        bind: "0.0.0.0:8080".parse().unwrap(),
        ..ServerConfig::default()
    };
    assert!(exposed.check().unwrap_err().contains("--token"));
    let with_token = ServerConfig {
        token: Some("t".into()),
        ..exposed
    };
    assert!(with_token.check().is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_over_the_limit_get_413_naming_it() {
    let h = start(ServerConfig {
        max_body_bytes: 2000,
        ..ServerConfig::default()
    })
    .await;
    let big = json!({"task": "q", "documents": [{"text": "x".repeat(5000)}]});
    let response = client()
        .post(format!("{}/v1/runs", h.url))
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2000 bytes"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_third_party_openai_client_works() {
    use async_openai::Client;
    use async_openai::config::OpenAIConfig;
    use async_openai::types::chat::{
        ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
        CreateChatCompletionRequestArgs,
    };
    use futures::StreamExt;

    let h = start(ServerConfig::default()).await;
    let client = Client::with_config(
        OpenAIConfig::new()
            .with_api_base(format!("{}/v1", h.url))
            .with_api_key("unused"),
    );
    let request = CreateChatCompletionRequestArgs::default()
        .model("minions")
        .messages(vec![
            ChatCompletionRequestSystemMessage::from(document()).into(),
            ChatCompletionRequestUserMessage::from("What is the launch code?").into(),
        ])
        .build()
        .unwrap();
    let response = client.chat().create(request.clone()).await.unwrap();
    assert_eq!(
        response.choices[0].message.content.as_deref(),
        Some("The launch code is 7421.")
    );

    let mut streaming = request;
    streaming.stream = Some(true);
    let mut stream = client.chat().create_stream(streaming).await.unwrap();
    let mut answer = String::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        for choice in chunk.choices {
            if let Some(text) = choice.delta.content {
                answer.push_str(&text);
            }
        }
    }
    assert_eq!(answer, "The launch code is 7421.");
}

/// The curl examples of docs/server.md run as written (with this server's
/// port): the block marked `# docs-test`.
#[tokio::test(flavor = "multi_thread")]
async fn the_documented_curl_examples_work() {
    if std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_err()
    {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("curl examples skipped: no curl on PATH");
        }
        return;
    }
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/server.md"))
            .unwrap();
    let block = docs
        .split("```sh\n# docs-test\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap()
        .to_string();
    let h = start(ServerConfig::default()).await;
    let script = block.replace("http://127.0.0.1:8080", &h.url);
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("sh")
            .arg("-ec")
            .arg(script)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("\"object\":\"list\""), "{stdout}");
    assert!(stdout.contains("chat.completion"), "{stdout}");
    assert!(stdout.contains("data: [DONE]"), "{stdout}");
    assert!(stdout.contains("event: end"), "{stdout}");
    assert!(stdout.contains("\"status\":\"done\""), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn embedding_retrieval_uses_the_servers_embedder_or_is_refused() {
    // With an embedding model the server's runs embed (they used to fall
    // back to BM25 without a word); without one the request is refused.
    let h = start_with(ServerConfig::default(), true).await;
    h.remote.respond_with(|request| {
        if request.last_user_message().contains("Plan this round's work") {
            Reply::json(&json!({
                "tasks": [{"id": "code", "instruction": "Find the launch code.", "query": "launch code"}],
                "select": {"embedding": {"top_k": 2}}
            }))
        } else {
            common::remote(request)
        }
    });
    let mut body = chat_body("minions", false);
    body["minions"] = json!({"options": {"retrieval": "embedding"}});
    let response = client()
        .post(format!("{}/v1/chat/completions", h.url))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer["choices"][0]["message"]["content"], "The launch code is 7421.",
        "{answer}"
    );
    let embeds = h
        .local
        .requests()
        .iter()
        .filter(|r| r.path == "/api/embed")
        .count();
    assert!(embeds > 0, "the server's embedder was used");

    let without = start(ServerConfig::default()).await;
    let refused = client()
        .post(format!("{}/v1/chat/completions", without.url))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let error: Value = refused.json().await.unwrap();
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--embedding-model"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_runs_tokens_cost_and_savings() {
    let h = start(ServerConfig::default()).await;
    for model in ["minions", "minion"] {
        ask_through_chat(&h.url, model).await;
    }
    let response = client()
        .get(format!("{}/metrics", h.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    for line in [
        "minions_runs_total{protocol=\"minions\",outcome=\"answered\"} 1",
        "minions_runs_total{protocol=\"minion\",outcome=\"answered\"} 1",
        "# TYPE minions_remote_cost_usd counter",
        "# TYPE minions_saved_usd counter",
        "# TYPE minions_run_duration_seconds histogram",
        "# TYPE minions_queue_wait_seconds histogram",
        "minions_queue_depth 0",
        "minions_runs_in_progress 0",
    ] {
        assert!(text.contains(line), "{line} in:\n{text}");
    }
    let value = |prefix: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{prefix} in:\n{text}"))
    };
    assert!(value("minions_remote_cost_usd_total{model=\"openai/gpt-4o\"}") > 0.0);
    assert!(
        value("minions_tokens_total{side=\"local\",model=\"ollama/llama3.2\",kind=\"prompt\"}")
            > 0.0
    );
    assert!(value("minions_model_calls_total{side=\"remote\"}") >= 2.0);
    assert!(
        !text.contains("Routine notes"),
        "no document text in metrics"
    );
}

/// `GET url` as JSON.
async fn get_json(url: String) -> Value {
    client()
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Asks a question through the OpenAI-compatible endpoint; it must answer.
async fn ask_through_chat(url: &str, model: &str) {
    let response = client()
        .post(format!("{url}/v1/chat/completions"))
        .json(&chat_body(model, false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// A fresh path under target/ for one test's history file.
fn history_file(name: &str) -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/tmp/server-history")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("history.sqlite3")
}

#[tokio::test(flavor = "multi_thread")]
async fn past_runs_come_back_from_the_history_after_a_restart() {
    let path = history_file("restart");
    let mut bills = 0.0;
    {
        let h = start_recording(ServerConfig::default(), path.clone()).await;
        for model in ["minions", "minion"] {
            ask_through_chat(&h.url, model).await;
        }
        // Each listed run's bill: the summary must add up to them.
        let runs = get_json(format!("{}/v1/history", h.url)).await;
        for run in runs["runs"].as_array().unwrap() {
            bills += run["remote_cost_usd"].as_f64().unwrap();
        }
    }
    // A new server on the same file: the runs are still there.
    let h = start_recording(ServerConfig::default(), path.clone()).await;
    let runs = get_json(format!("{}/v1/history?limit=10", h.url)).await;
    let runs = runs["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{runs:?}");
    let protocols: Vec<&str> = runs
        .iter()
        .map(|r| r["protocol"].as_str().unwrap())
        .collect();
    assert_eq!(protocols, ["minion", "minions"], "newest first");
    assert!(
        runs.iter()
            .all(|r| r["answered"] == true && r["source"] == "server")
    );
    assert!(bills > 0.0);

    let summary = get_json(format!("{}/v1/history/summary?by=day", h.url)).await;
    let rows = summary["rows"].as_array().unwrap();
    let total = rows.last().unwrap();
    assert_eq!(total["key"], "total");
    assert_eq!(total["runs"], 2);
    assert!((total["spent_usd"].as_f64().unwrap() - bills).abs() < 1e-9);
    assert_eq!(rows.len(), 2, "one day and the total: {rows:?}");

    for (query, status, words) in [
        (
            "/v1/history/summary?by=week",
            400,
            "use day, month or model",
        ),
        ("/v1/history?since=yesterday", 400, "since yesterday"),
        ("/v1/history?by=day", 400, "/v1/history/summary"),
        ("/v1/history?limits=3", 400, "limits"),
    ] {
        let response = client()
            .get(format!("{}{query}", h.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{query}");
        let body = response.text().await.unwrap();
        assert!(body.contains(words), "{query}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_readable_history_the_api_says_why() {
    let h = start(ServerConfig::default()).await;
    let response = client()
        .get(format!("{}/v1/history", h.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("keeps no run history")
    );

    let path = history_file("corrupt");
    let h = start_recording(ServerConfig::default(), path.clone()).await;
    std::fs::write(
        &path,
        b"this is not a database, it is a text file of some length",
    )
    .unwrap();
    let _ = std::fs::remove_file(path.with_extension("sqlite3-wal"));
    let response = client()
        .get(format!("{}/v1/history", h.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert!(response.text().await.unwrap().contains("cannot be read"));
}

/// Starts a run through the runs API and waits for its result.
async fn run_to_end(url: &str, protocol: &str) -> Value {
    let response = client()
        .post(format!("{url}/v1/runs"))
        .json(&json!({"task": "What is the launch code?", "protocol": protocol,
                      "documents": [{"name": "notes.txt", "text": document()}], "options": {"max_rounds": 2}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..200 {
        let state = get_json(format!("{url}/v1/runs/{id}")).await;
        if state["status"] != "running" {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("run {id} did not end");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_prometheus_parser_reads_counters_that_match_the_runs() {
    let h = start(ServerConfig::default()).await;
    let mut results = Vec::new();
    for protocol in ["minions", "minion", "minions"] {
        let state = run_to_end(&h.url, protocol).await;
        assert_eq!(state["status"], "done", "{state}");
        results.push(state["result"].clone());
    }
    let text = client()
        .get(format!("{}/metrics", h.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .unwrap_or_else(|e| panic!("not Prometheus text: {e}\n{text}"));
    let value = |name: &str, labels: &[(&str, &str)]| -> f64 {
        scrape
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => 0.0,
            })
            .sum()
    };
    let sum = |pick: &dyn Fn(&Value) -> f64| -> f64 { results.iter().map(pick).sum() };
    assert_eq!(
        value(
            "minions_runs_total",
            &[("protocol", "minions"), ("outcome", "answered")]
        ),
        2.0
    );
    assert_eq!(
        value(
            "minions_runs_total",
            &[("protocol", "minion"), ("outcome", "answered")]
        ),
        1.0
    );
    let remote_prompt = sum(&|r| r["remote_usage"]["prompt_tokens"].as_f64().unwrap());
    assert_eq!(
        value(
            "minions_tokens_total",
            &[("side", "remote"), ("kind", "prompt")]
        ),
        remote_prompt
    );
    let local_completion = sum(&|r| r["local_usage"]["completion_tokens"].as_f64().unwrap());
    assert_eq!(
        value(
            "minions_tokens_total",
            &[("side", "local"), ("kind", "completion")]
        ),
        local_completion
    );
    let remote_calls = sum(&|r| r["remote_calls"].as_f64().unwrap());
    assert_eq!(
        value("minions_model_calls_total", &[("side", "remote")]),
        remote_calls
    );
    let cost = sum(&|r| {
        let c = &r["remote_cost"];
        c["input_usd"].as_f64().unwrap()
            + c["cached_input_usd"].as_f64().unwrap()
            + c["output_usd"].as_f64().unwrap()
    });
    let metered = value("minions_remote_cost_usd_total", &[]);
    assert!((metered - cost).abs() < 1e-9, "{metered} against {cost}");
    assert_eq!(value("minions_runs_in_progress", &[]), 0.0);
    assert_eq!(value("minions_queue_depth", &[]), 0.0);
    // One call-latency observation per remote call.
    let observed = scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == "minions_model_call_duration_seconds"
                && s.labels.get("side") == Some("remote")
        })
        .map(|s| match &s.value {
            prometheus_parse::Value::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
            _ => 0.0,
        });
    assert_eq!(observed, Some(remote_calls), "{text}");
}
