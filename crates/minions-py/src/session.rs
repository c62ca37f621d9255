//! A run on the package's shared runtime: started at once, waited for in
//! slices (so that the caller can look at Ctrl-C between them), cancelled
//! on request, and always ending with an outcome that says what it spent.

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use minions::{RunFailure, Transcript};
use serde_json::{Value, json};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::request::RunRequest;

/// One runtime for every run of the process: a Python program may start
/// many runs, and each would otherwise pay for its own threads.
fn runtime() -> Result<&'static Runtime, String> {
    static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("minions-rs")
                .build()
                .map_err(|e| format!("cannot start the async runtime: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// How a run ended, as the Python side reads it: `ok`, the error when there
/// is one, whether it was cancelled, whether it answered and what it cost
/// (by the engine's own rules, so that Python need not repeat them), and the
/// transcript, which holds the answer and the usage either way.
fn outcome(result: Result<Transcript, RunFailure>) -> Value {
    let (transcript, error, cancelled) = match result {
        Ok(transcript) => (transcript, None, false),
        Err(failure) => {
            let cancelled = matches!(failure.error, minions::protocol::ProtocolError::Cancelled);
            (
                *failure.transcript,
                Some(failure.error.to_string()),
                cancelled,
            )
        }
    };
    let result = &transcript.result;
    json!({
        "ok": error.is_none(),
        "error": error,
        "cancelled": cancelled,
        "answered": error.is_none() && result.answered(),
        "remote_cost_usd": result.remote_cost.total_usd(),
        "summary": result.summary(),
        "transcript": transcript,
    })
}

/// A run in progress.
pub struct Session {
    cancel: CancellationToken,
    receiver: Mutex<Option<oneshot::Receiver<Value>>>,
    ended: Mutex<Option<Value>>,
}

/// What [`Session::wait_for`] saw.
pub enum Waited {
    /// The run ended: its outcome.
    Ended(Value),
    /// Still running after the slice.
    Running,
}

impl Session {
    /// Checks `request` and starts the run. Errors are the request's (an
    /// unknown option, a missing key, an empty context): nothing ran.
    pub fn start(request: RunRequest) -> Result<Self, String> {
        let prepared = request.prepare()?;
        let cancel = CancellationToken::new();
        let spec = prepared.spec.with_cancel(cancel.clone());
        let (sender, receiver) = oneshot::channel();
        runtime()?.spawn(async move {
            let result = prepared
                .engine
                .run(&prepared.task, &prepared.documents, &spec, None)
                .await;
            // The receiver is gone only when the Python object was dropped:
            // nobody is left to tell.
            let _ = sender.send(outcome(result));
        });
        Ok(Self {
            cancel,
            receiver: Mutex::new(Some(receiver)),
            ended: Mutex::new(None),
        })
    }

    /// Waits up to `slice` for the run to end (blocking this thread).
    pub fn wait_for(&self, slice: Duration) -> Result<Waited, String> {
        if let Some(ended) = self.ended() {
            return Ok(Waited::Ended(ended));
        }
        let mut guard = self
            .receiver
            .lock()
            .map_err(|_| "the run's state was poisoned by a panic".to_string())?;
        let Some(receiver) = guard.as_mut() else {
            return Err("the run ended without an outcome".into());
        };
        let received = runtime()?.block_on(async { tokio::time::timeout(slice, receiver).await });
        match received {
            Err(_elapsed) => Ok(Waited::Running),
            Ok(Ok(value)) => {
                *guard = None;
                if let Ok(mut ended) = self.ended.lock() {
                    *ended = Some(value.clone());
                }
                Ok(Waited::Ended(value))
            }
            Ok(Err(_)) => {
                *guard = None;
                Err("the run stopped without an outcome (its task panicked)".into())
            }
        }
    }

    /// The outcome, once the run has ended and been waited for.
    pub fn ended(&self) -> Option<Value> {
        self.ended.lock().ok().and_then(|e| e.clone())
    }

    /// Asks the run to stop; it ends soon after, reporting what it spent.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // A run nobody can wait for any more spends for nothing.
        self.cancel.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minions_testkit::{FakeServer, Reply};

    fn request(local: &FakeServer, remote: &FakeServer) -> RunRequest {
        serde_json::from_value(json!({
            "protocol": "minion",
            "task": "What is the LDL?",
            "context": ["The LDL cholesterol is 170 mg/dL."],
            "local": {"provider": "ollama", "model": "llama3.2", "base_url": local.url()},
            "remote": {"provider": "openai", "model": "gpt-4o", "api_key": "k", "base_url": remote.openai_base_url()},
            "options": {"max_rounds": 1},
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn wait(session: &Session) -> Value {
        for _ in 0..600 {
            if let Ok(Waited::Ended(value)) = session.wait_for(Duration::from_millis(100)) {
                return value;
            }
        }
        panic!("the run did not end in a minute");
    }

    #[test]
    fn a_run_ends_with_its_answer_and_bill() {
        let (local, remote) = match runtime() {
            Ok(rt) => rt.block_on(async { (FakeServer::start().await, FakeServer::start().await) }),
            Err(e) => panic!("{e}"),
        };
        // Minion asks the local model the task first; the remote decides.
        local.push(Reply::text("The LDL cholesterol is 170 mg/dL."));
        remote.push(Reply::json(
            &json!({"reasoning": "told", "decision": "final", "answer": "170 mg/dL"}),
        ));
        let session = Session::start(request(&local, &remote)).unwrap_or_else(|e| panic!("{e}"));
        let ended = wait(&session);
        assert_eq!(ended["ok"], true, "{ended}");
        assert_eq!(ended["answered"], true);
        assert_eq!(ended["transcript"]["result"]["answer"], "170 mg/dL");
        assert_eq!(ended["transcript"]["result"]["remote_reasks"], 0, "{ended}");
        assert!(ended["transcript"]["result"]["remote_usage"]["prompt_tokens"].as_u64() > Some(0));
    }

    #[test]
    fn a_cancelled_run_still_reports_what_it_spent() {
        let (local, remote) = match runtime() {
            Ok(rt) => rt.block_on(async { (FakeServer::start().await, FakeServer::start().await) }),
            Err(e) => panic!("{e}"),
        };
        // The local model, asked first, takes a minute: the run is
        // cancelled long before, and no remote call is made.
        local.push(Reply::text("late").after(Duration::from_secs(60)));
        let session = Session::start(request(&local, &remote)).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            session.wait_for(Duration::from_millis(500)),
            Ok(Waited::Running)
        ));
        session.cancel();
        let ended = wait(&session);
        assert_eq!(ended["ok"], false);
        assert_eq!(ended["cancelled"], true);
        assert_eq!(ended["answered"], false);
        assert_eq!(ended["transcript"]["result"]["remote_calls"], 0, "{ended}");
        // What it spent is still reported: the local wait, and no remote.
        let summary = ended["summary"].as_str().unwrap_or_default();
        assert!(
            summary.contains("remote openai/gpt-4o: 0 call(s)"),
            "{summary}"
        );
        assert!(
            ended["transcript"]["result"]["timing"]["local"].as_f64() > Some(0.3),
            "{ended}"
        );
    }
}
