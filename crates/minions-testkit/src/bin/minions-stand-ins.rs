//! `minions-stand-ins`: the demo's stand-in models as HTTP servers on
//! 127.0.0.1 (a remote that speaks OpenAI's API, a local that speaks
//! Ollama's), so that any client (the Python package's tests, `minions ask`,
//! curl) can run the Python README's example offline. Prints one line of
//! variables to export, then serves until killed.

// Printing where the servers listen is this program's job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;

use minions_testkit::{FakeServer, RecordedRequest, Reply};

fn serving(reply: fn(&str, &str) -> String) -> impl Fn(&RecordedRequest) -> Reply {
    move |request| Reply::text(reply(&request.last_user_message(), &request.prompt_text()))
}

#[tokio::main]
async fn main() {
    let remote = FakeServer::start().await;
    remote.respond_with(serving(minions_demo::remote_reply));
    let local = FakeServer::start().await;
    local.respond_with(serving(minions_demo::local_reply));
    println!(
        "export OPENAI_BASE_URL={} OPENAI_API_KEY=stand-in OLLAMA_HOST={}",
        remote.openai_base_url(),
        local.url()
    );
    // A reader waits for that line: send it now, not when the buffer fills.
    let _ = std::io::stdout().flush();
    eprintln!(
        "stand-ins for openai/gpt-4o and ollama/llama3.2 (they answer the Python README's example only); stop with Ctrl-C"
    );
    std::future::pending::<()>().await;
}
