//! SSE and NDJSON decoding: every split of the bytes decodes the same, and a
//! dropped connection is an error, never a silently short answer.

// Helpers in test files unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

use futures::{StreamExt, stream};
use minions_core::{Error, ErrorKind};
use minions_http::{HttpClient, SseEvent, ndjson_lines, sse_events};
use minions_testkit::{ChatReply, FakeServer};
use serde_json::{Value, json};

const SSE_BODY: &str = "event: message_start\ndata: {\"text\": \"h\u{e9}llo\"}\n\n: a comment\n\ndata: {\"text\": \"\u{4e2d}\u{6587} \u{1F600}\"}\n\ndata: line one\r\ndata: line two\r\n\r\ndata: [DONE]\n\n";

const NDJSON_BODY: &str =
    "{\"t\":\"h\u{e9}llo\"}\n\n{\"t\":\"\u{4e2d}\u{6587}\"}\r\n{\"t\":\"\u{1F600}\",\"done\":true}";

type Chunk = Result<Vec<u8>, std::io::Error>;

fn split_at(body: &[u8], cut: usize) -> Vec<Chunk> {
    vec![Ok(body[..cut].to_vec()), Ok(body[cut..].to_vec())]
}

fn byte_by_byte(body: &[u8]) -> Vec<Chunk> {
    body.iter().map(|b| Ok(vec![*b])).collect()
}

async fn decode_sse(chunks: Vec<Chunk>) -> Vec<SseEvent> {
    sse_events("test", stream::iter(chunks))
        .map(|e| e.unwrap())
        .collect()
        .await
}

async fn decode_ndjson(chunks: Vec<Chunk>) -> Vec<Value> {
    ndjson_lines::<Value, _, _, _>("test", stream::iter(chunks))
        .map(|e| e.unwrap())
        .collect()
        .await
}

#[tokio::test]
async fn sse_decodes_identically_at_every_split() {
    let body = SSE_BODY.as_bytes();
    let reference = decode_sse(vec![Ok(body.to_vec())]).await;
    let data: Vec<&str> = reference.iter().map(|e| e.data.as_str()).collect();
    assert_eq!(
        data,
        [
            "{\"text\": \"h\u{e9}llo\"}",
            "{\"text\": \"\u{4e2d}\u{6587} \u{1F600}\"}",
            "line one\nline two",
            "[DONE]"
        ]
    );
    assert_eq!(reference[0].event, "message_start");
    assert_eq!(reference[1].event, "message");
    for cut in 0..=body.len() {
        assert_eq!(
            decode_sse(split_at(body, cut)).await,
            reference,
            "split at byte {cut}"
        );
    }
    assert_eq!(decode_sse(byte_by_byte(body)).await, reference);
}

#[tokio::test]
async fn ndjson_decodes_identically_at_every_split() {
    let body = NDJSON_BODY.as_bytes();
    let reference = decode_ndjson(vec![Ok(body.to_vec())]).await;
    assert_eq!(
        reference,
        vec![
            json!({"t": "h\u{e9}llo"}),
            json!({"t": "\u{4e2d}\u{6587}"}),
            json!({"t": "\u{1F600}", "done": true})
        ]
    );
    for cut in 0..=body.len() {
        assert_eq!(
            decode_ndjson(split_at(body, cut)).await,
            reference,
            "split at byte {cut}"
        );
    }
    assert_eq!(decode_ndjson(byte_by_byte(body)).await, reference);
}

#[tokio::test]
async fn ndjson_reports_bad_lines_and_cut_off_streams() {
    let bad: Vec<Chunk> = vec![Ok(b"{\"a\":1}\nnot json\n".to_vec())];
    let items: Vec<Result<Value, Error>> =
        ndjson_lines("ollama", stream::iter(bad)).collect().await;
    assert!(items[0].is_ok());
    let error = items[1].as_ref().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode);
    assert!(error.to_string().contains("not json"), "{error}");

    let cut: Vec<Chunk> = vec![Ok(b"{\"a\":1}\n{\"b\":".to_vec())];
    let items: Vec<Result<Value, Error>> =
        ndjson_lines("ollama", stream::iter(cut)).collect().await;
    assert_eq!(items[1].as_ref().unwrap_err().kind(), ErrorKind::Stream);

    let dropped: Vec<Chunk> = vec![
        Ok(b"{\"a\":1}\n".to_vec()),
        Err(std::io::Error::other("reset by peer")),
    ];
    let items: Vec<Result<Value, Error>> = ndjson_lines("ollama", stream::iter(dropped))
        .collect()
        .await;
    assert_eq!(items.len(), 2);
    assert!(
        items[1]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("reset by peer")
    );
}

#[tokio::test]
async fn an_sse_stream_dropped_mid_way_is_an_error() {
    let server = FakeServer::start().await;
    server.push(
        ChatReply::new("one two three four five six")
            .chunked(4)
            .drop_after(3),
    );
    let client = HttpClient::new("openai").unwrap();
    let request = client
        .reqwest()
        .post(format!("{}/chat/completions", server.openai_base_url()))
        .json(&json!({"model": "m", "stream": true, "messages": []}))
        .build()
        .unwrap();
    let response = client.send(request).await.unwrap();
    let items: Vec<Result<SseEvent, Error>> = sse_events("openai", response.bytes_stream())
        .collect()
        .await;
    let (events, errors): (Vec<_>, Vec<_>) = items.into_iter().partition(Result::is_ok);
    assert!(events.len() >= 3, "the first chunks arrived: {events:?}");
    assert_eq!(errors.len(), 1);
    let error = errors.into_iter().next().unwrap().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Stream);
    assert!(error.to_string().contains("openai"), "{error}");
    assert!(!events.iter().any(|e| e.as_ref().unwrap().data == "[DONE]"));
}

#[tokio::test]
async fn an_ndjson_stream_dropped_mid_way_is_an_error() {
    let server = FakeServer::start().await;
    server.push(
        ChatReply::new("one two three four five six")
            .chunked(4)
            .drop_after(2),
    );
    let client = HttpClient::new("ollama").unwrap();
    let request = client
        .reqwest()
        .post(format!("{}/api/chat", server.url()))
        .json(&json!({"model": "llama3.2", "messages": []}))
        .build()
        .unwrap();
    let response = client.send(request).await.unwrap();
    let items: Vec<Result<Value, Error>> = ndjson_lines("ollama", response.bytes_stream())
        .collect()
        .await;
    assert_eq!(items.len(), 3, "{items:?}");
    assert_eq!(items[2].as_ref().unwrap_err().kind(), ErrorKind::Stream);
}
