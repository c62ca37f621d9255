//! The PyO3 module `minions_rs._native`: strings in, strings out. The
//! Python side (`python/minions_rs`) gives it the reference's shapes.

use std::time::Duration;

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

use crate::request::{ClientSpec, RunRequest};
use crate::session::{Session, Waited};

create_exception!(
    _native,
    MinionsError,
    PyException,
    "Any error of minions_rs."
);
create_exception!(
    _native,
    ConfigurationError,
    MinionsError,
    "A client or run that cannot start as given (missing key, unknown provider or option, empty context); nothing was spent."
);

/// How long one wait lasts before Python gets to look at Ctrl-C.
const SLICE: Duration = Duration::from_millis(100);

fn configuration(message: String) -> PyErr {
    ConfigurationError::new_err(message)
}

/// Checks a client description (JSON) by building its model: an unknown
/// provider or a missing key fails here, when the client is made.
#[pyfunction]
fn check_client(spec: &str, local: bool) -> PyResult<()> {
    let spec: ClientSpec = serde_json::from_str(spec).map_err(|e| configuration(e.to_string()))?;
    spec.model(local).map(|_| ()).map_err(configuration)
}

/// The providers this build knows.
#[pyfunction]
fn known_providers() -> Vec<&'static str> {
    minions::known_providers()
}

/// A run, started when made.
#[pyclass(name = "Run", frozen)]
struct PyRun {
    session: Session,
}

#[pymethods]
impl PyRun {
    /// Starts the run a JSON request describes; raises ConfigurationError
    /// when it cannot start.
    #[new]
    fn new(request: &str) -> PyResult<Self> {
        let request: RunRequest =
            serde_json::from_str(request).map_err(|e| configuration(e.to_string()))?;
        let session = Session::start(request).map_err(configuration)?;
        Ok(Self { session })
    }

    /// Waits for the end without holding the GIL, looking at signals
    /// between slices: Ctrl-C cancels the run, waits for it to report what
    /// it spent, and raises KeyboardInterrupt. Returns the outcome as JSON.
    fn wait(&self, py: Python<'_>) -> PyResult<String> {
        loop {
            let waited = py
                .detach(|| self.session.wait_for(SLICE))
                .map_err(MinionsError::new_err)?;
            match waited {
                Waited::Ended(outcome) => return Ok(outcome.to_string()),
                Waited::Running => {
                    if let Err(interrupt) = py.check_signals() {
                        self.session.cancel();
                        // A cancelled run ends at its next step; give it a
                        // few seconds to settle its bill.
                        for _ in 0..50 {
                            if let Ok(Waited::Ended(_)) = py.detach(|| self.session.wait_for(SLICE))
                            {
                                break;
                            }
                        }
                        return Err(interrupt);
                    }
                }
            }
        }
    }

    /// The outcome as JSON once the run has ended, else None.
    fn outcome(&self) -> Option<String> {
        self.session.ended().map(|v| v.to_string())
    }

    /// Asks the run to stop; `wait` then returns a cancelled outcome.
    fn cancel(&self) {
        self.session.cancel();
    }
}

/// Library warnings (retries, a server that went away) on stderr, as the
/// CLI shows them; `MINIONS_LOG` (an `env_logger`-style filter) changes the
/// level.
fn log_to_stderr() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MINIONS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // Another subscriber set by the host program wins.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .try_init();
}

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    log_to_stderr();
    let py = module.py();
    module.add("MinionsError", py.get_type::<MinionsError>())?;
    module.add("ConfigurationError", py.get_type::<ConfigurationError>())?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add_class::<PyRun>()?;
    module.add_function(wrap_pyfunction!(check_client, module)?)?;
    module.add_function(wrap_pyfunction!(known_providers, module)?)?;
    Ok(())
}
