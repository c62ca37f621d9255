//! The conformance suite every provider crate runs against the fake server.
//!
//! A provider test calls [`run`] with a factory that builds its client
//! against a [`FakeServer`]. Each check starts a fresh server, scripts it,
//! talks to it over real HTTP through the provider's [`ChatModel`], and
//! panics with the check's name when the provider misbehaves. Run it on
//! tokio's paused clock (`#[tokio::test(start_paused = true)]`) so that
//! retries and timeouts cost no real time.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use minions_core::json::extract_json;
use minions_core::{
    ChatModel, ChatRequest, ChatResponse, Error, ErrorKind, FinishReason, Message, ResponseFormat,
    StreamEvent, Usage,
};
use serde_json::json;

use crate::{ChatReply, FakeServer, RecordedRequest, Reply};

/// What the suite needs to know about a provider.
#[derive(Debug, Clone)]
pub struct Conformance {
    /// Name used in failure messages.
    pub provider: &'static str,
    /// The idle read timeout the factory configures (the timeout check
    /// waits three times as long).
    pub read_timeout: Duration,
    /// Whether the wire format reports prompt-cache hits (Ollama's does not).
    pub reports_cached_tokens: bool,
}

/// Builds the provider's client against a fake server.
pub type Factory<'a> = dyn Fn(&FakeServer) -> Arc<dyn ChatModel> + 'a;

/// Runs every check.
pub async fn run(spec: &Conformance, make: &Factory<'_>) {
    plain_chat_and_usage(spec, make).await;
    system_and_multi_turn(spec, make).await;
    json_schema_output(spec, make).await;
    streaming_equals_non_streaming(spec, make).await;
    unauthorized_is_not_retried(spec, make).await;
    not_found_is_not_retried(spec, make).await;
    rate_limit_is_retried(spec, make).await;
    server_error_is_retried(spec, make).await;
    dropped_answer_is_asked_again(spec, make).await;
    silence_times_out(spec, make).await;
    dropped_stream_is_an_error(spec, make).await;
    stream_without_end_is_an_error(spec, make).await;
    in_band_stream_error_is_an_error(spec, make).await;
    unknown_finish_reason_is_kept(spec, make).await;
    malformed_body_is_a_decode_error(spec, make).await;
}

fn user(text: &str) -> ChatRequest {
    ChatRequest::new(vec![Message::user(text)]).with_max_tokens(256)
}

/// Requests that asked a model something (not metadata look-ups).
pub fn chat_requests(server: &FakeServer) -> Vec<RecordedRequest> {
    server
        .requests()
        .into_iter()
        .filter(|r| {
            r.path.ends_with("/chat/completions")
                || r.path.ends_with("/v1/messages")
                || r.path == "/api/chat"
        })
        .collect()
}

async fn collect_stream(
    model: &dyn ChatModel,
    request: &ChatRequest,
) -> (String, Option<ChatResponse>, Option<Error>) {
    let mut text = String::new();
    let mut done = None;
    let mut error = None;
    match model.chat_stream(request).await {
        Err(e) => error = Some(e),
        Ok(mut stream) => {
            while let Some(item) = stream.next().await {
                match item {
                    Ok(StreamEvent::Delta(delta)) => text.push_str(&delta),
                    Ok(StreamEvent::Done(response)) => done = Some(response),
                    Err(e) => {
                        error = Some(e);
                        break;
                    }
                }
            }
        }
    }
    (text, done, error)
}

async fn plain_chat_and_usage(spec: &Conformance, make: &Factory<'_>) {
    let server = FakeServer::start().await;
    let usage = Usage {
        prompt_tokens: 100,
        completion_tokens: 7,
        cached_prompt_tokens: 40,
    };
    server.push(ChatReply::new("Hello from the fake").with_usage(usage));
    let model = make(&server);
    let response = match model.chat(&user("hi")).await {
        Ok(response) => response,
        Err(e) => panic!("{}: plain chat failed: {e}", spec.provider),
    };
    assert_eq!(
        response.content, "Hello from the fake",
        "{}: content",
        spec.provider
    );
    assert_eq!(
        response.finish_reason,
        Some(FinishReason::Stop),
        "{}: finish reason",
        spec.provider
    );
    assert_eq!(
        response.usage.prompt_tokens, 100,
        "{}: prompt tokens",
        spec.provider
    );
    assert_eq!(
        response.usage.completion_tokens, 7,
        "{}: completion tokens",
        spec.provider
    );
    if spec.reports_cached_tokens {
        assert_eq!(
            response.usage.cached_prompt_tokens, 40,
            "{}: cached tokens",
            spec.provider
        );
    }
    assert_eq!(
        chat_requests(&server).len(),
        1,
        "{}: one request",
        spec.provider
    );
}

async fn system_and_multi_turn(spec: &Conformance, make: &Factory<'_>) {
    let server = FakeServer::start().await;
    server.push(Reply::text("third answer"));
    let model = make(&server);
    let turns = [
        "You are terse.",
        "first question",
        "first answer",
        "second question",
    ];
    let request = ChatRequest::new(vec![
        Message::system(turns[0]),
        Message::user(turns[1]),
        Message::assistant(turns[2]),
        Message::user(turns[3]),
    ]);
    let response = model.chat(&request).await;
    assert!(
        response.is_ok(),
        "{}: multi-turn chat failed: {response:?}",
        spec.provider
    );
    let sent = chat_requests(&server);
    let prompt = sent
        .first()
        .map(RecordedRequest::prompt_text)
        .unwrap_or_default();
    let mut last = 0;
    for turn in turns {
        let Some(found) = prompt[last..].find(turn) else {
            panic!(
                "{}: `{turn}` missing or out of order in {prompt:?}",
                spec.provider
            );
        };
        last += found + turn.len();
    }
}

async fn json_schema_output(spec: &Conformance, make: &Factory<'_>) {
    let server = FakeServer::start().await;
    server.push(Reply::json(&json!({"answer": "42", "confidence": 0.9})));
    let model = make(&server);
    let schema = json!({
        "type": "object",
        "properties": {"answer": {"type": "string"}, "confidence": {"type": "number"}},
        "required": ["answer", "confidence"]
    });
    let request = user("What is six times seven?")
        .with_response_format(ResponseFormat::json_schema("answer", schema));
    let response = match model.chat(&request).await {
        Ok(response) => response,
        Err(e) => panic!("{}: structured chat failed: {e}", spec.provider),
    };
    let value = extract_json(&response.content);
    assert_eq!(
        value.ok(),
        Some(json!({"answer": "42", "confidence": 0.9})),
        "{}: structured content {:?}",
        spec.provider,
        response.content
    );
}

async fn streaming_equals_non_streaming(spec: &Conformance, make: &Factory<'_>) {
    let server = FakeServer::start().await;
    let text = "Streaming h\u{e9}llo, \u{4e2d}\u{6587} and \u{1F600} in small pieces.";
    server.push(ChatReply::new(text).chunked(3));
    server.push(ChatReply::new(text).chunked(3));
    let model = make(&server);
    let whole = model.chat(&user("stream please")).await;
    let (streamed, done, error) = collect_stream(model.as_ref(), &user("stream please")).await;
    assert!(
        error.is_none(),
        "{}: stream failed: {error:?}",
        spec.provider
    );
    let whole = match whole {
        Ok(whole) => whole,
        Err(e) => panic!("{}: chat failed: {e}", spec.provider),
    };
    assert_eq!(streamed, whole.content, "{}: streamed text", spec.provider);
    let Some(done) = done else {
        panic!("{}: stream had no Done event", spec.provider);
    };
    assert_eq!(
        done.content, whole.content,
        "{}: Done content",
        spec.provider
    );
    assert_eq!(
        done.finish_reason,
        Some(FinishReason::Stop),
        "{}: Done finish reason",
        spec.provider
    );
    assert!(
        done.usage.completion_tokens > 0,
        "{}: stream usage {:?}",
        spec.provider,
        done.usage
    );
}

async fn expect_error_without_retry(
    spec: &Conformance,
    make: &Factory<'_>,
    reply: Reply,
    what: &str,
) -> Error {
    let server = FakeServer::start().await;
    server.push(reply).push(Reply::text("must not be reached"));
    let model = make(&server);
    let error = match model.chat(&user("hi")).await {
        Ok(response) => panic!("{}: {what} should fail, got {response:?}", spec.provider),
        Err(error) => error,
    };
    assert!(
        !error.is_retryable(),
        "{}: {what} must not be retryable: {error}",
        spec.provider
    );
    assert_eq!(
        chat_requests(&server).len(),
        1,
        "{}: {what} must not be retried",
        spec.provider
    );
    error
}

async fn unauthorized_is_not_retried(spec: &Conformance, make: &Factory<'_>) {
    let error =
        expect_error_without_retry(spec, make, Reply::status(401, "invalid key"), "401").await;
    assert_eq!(
        error.status(),
        Some(401),
        "{}: 401 status: {error}",
        spec.provider
    );
}

async fn not_found_is_not_retried(spec: &Conformance, make: &Factory<'_>) {
    let error =
        expect_error_without_retry(spec, make, Reply::status(404, "no such model"), "404").await;
    assert!(
        matches!(error.kind(), ErrorKind::Http | ErrorKind::InvalidRequest),
        "{}: 404 kind: {error:?}",
        spec.provider
    );
}

async fn expect_retry_then_success(
    spec: &Conformance,
    make: &Factory<'_>,
    first: Reply,
    what: &str,
) {
    let server = FakeServer::start().await;
    server.push(first).push(Reply::text("after the retry"));
    let model = make(&server);
    match model.chat(&user("hi")).await {
        Ok(response) => assert_eq!(
            response.content, "after the retry",
            "{}: {what}",
            spec.provider
        ),
        Err(e) => panic!("{}: {what} should be retried, got {e}", spec.provider),
    }
    assert_eq!(
        chat_requests(&server).len(),
        2,
        "{}: {what} retried once",
        spec.provider
    );
}

async fn rate_limit_is_retried(spec: &Conformance, make: &Factory<'_>) {
    expect_retry_then_success(spec, make, Reply::rate_limited(1), "429").await;
}

async fn server_error_is_retried(spec: &Conformance, make: &Factory<'_>) {
    expect_retry_then_success(spec, make, Reply::status(500, "internal error"), "500").await;
}

async fn dropped_answer_is_asked_again(spec: &Conformance, make: &Factory<'_>) {
    // The connection drops after the headers and part of the body: the
    // answer never reached the caller, so it is asked for again.
    let first = ChatReply::new("a whole answer that will not arrive").drop_after(1);
    expect_retry_then_success(spec, make, first.into(), "a dropped answer").await;
}

async fn silence_times_out(spec: &Conformance, make: &Factory<'_>) {
    let server = FakeServer::start().await;
    server.push(Reply::text("too late").after(spec.read_timeout * 3));
    let model = make(&server);
    let error = model.chat(&user("hi")).await.err();
    assert_eq!(
        error.as_ref().map(Error::kind),
        Some(ErrorKind::Timeout),
        "{}: silence must time out: {error:?}",
        spec.provider
    );
}

async fn expect_stream_error(
    spec: &Conformance,
    make: &Factory<'_>,
    reply: ChatReply,
    what: &str,
) -> Error {
    let server = FakeServer::start().await;
    server.push(reply);
    let model = make(&server);
    let (_, done, error) = collect_stream(model.as_ref(), &user("stream please")).await;
    assert!(
        done.is_none(),
        "{}: {what} must not end with Done: {done:?}",
        spec.provider
    );
    match error {
        Some(error) => error,
        None => panic!("{}: {what} must be an error", spec.provider),
    }
}

async fn dropped_stream_is_an_error(spec: &Conformance, make: &Factory<'_>) {
    let reply = ChatReply::new("a long answer that will be cut")
        .chunked(3)
        .drop_after(2);
    let error = expect_stream_error(spec, make, reply, "a dropped stream").await;
    assert_eq!(
        error.kind(),
        ErrorKind::Stream,
        "{}: dropped stream: {error:?}",
        spec.provider
    );
}

async fn stream_without_end_is_an_error(spec: &Conformance, make: &Factory<'_>) {
    let reply = ChatReply::new("an answer with no end marker").without_stream_end();
    expect_stream_error(spec, make, reply, "a stream without its end marker").await;
}

async fn in_band_stream_error_is_an_error(spec: &Conformance, make: &Factory<'_>) {
    let reply = ChatReply::new("an answer interrupted by an error")
        .chunked(4)
        .with_mid_stream_error("model crashed");
    let error = expect_stream_error(spec, make, reply, "an in-band stream error").await;
    assert!(
        error.to_string().contains("model crashed"),
        "{}: in-band error text: {error}",
        spec.provider
    );
}

async fn unknown_finish_reason_is_kept(spec: &Conformance, make: &Factory<'_>) {
    let server = FakeServer::start().await;
    let mut reply = ChatReply::new("odd ending");
    reply.finish_reason = FinishReason::Other("brand_new_reason".into());
    server.push(reply);
    let model = make(&server);
    match model.chat(&user("hi")).await {
        Ok(response) => assert_eq!(
            response.finish_reason,
            Some(FinishReason::Other("brand_new_reason".into())),
            "{}: unknown finish reason",
            spec.provider
        ),
        Err(e) => panic!(
            "{}: an unknown finish reason must not fail the decode: {e}",
            spec.provider
        ),
    }
}

async fn malformed_body_is_a_decode_error(spec: &Conformance, make: &Factory<'_>) {
    let server = FakeServer::start().await;
    server.push(Reply::malformed_json());
    let model = make(&server);
    let error = model.chat(&user("hi")).await.err();
    assert_eq!(
        error.as_ref().map(Error::kind),
        Some(ErrorKind::Decode),
        "{}: malformed body: {error:?}",
        spec.provider
    );
}
