//! Which cluster a Kubernetes API request reaches: the main page's sandbox (`/api/...`) or a
//! scenario's run (`/scenarios/{id}/k8s/api/...`, so a student's own kubectl, and a
//! Killercoda scenario's `verify.sh`, work against the exercise they have open).
//!
//! Both record what the API does to them the way their pages do: the sandbox as [`Action`](crate::sandbox::Action)s
//! (replayed by the scrubber and exports), a scenario as log entries (replayed by "reset
//! step"). The API layer (`kube_api`) sees only this type.

use std::sync::{Arc, MutexGuard};

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::response::Response;
use sim_core::Sim;
use sim_core::apiserver::call::ApiCall;
use sim_core::network::ServiceReply;
use tokio::sync::watch;

use crate::AppState;
use crate::sandbox::{Request, Sandbox};
use crate::scenario_run::ScenarioRun;
use crate::scenario_ui::Slot;

/// The cluster of one API request.
#[derive(Clone)]
pub(crate) enum Cluster {
    /// The main page's sandbox.
    Sandbox(AppState),
    /// A scenario's run.
    Scenario(AppState, Arc<Slot>),
}

/// A cluster, locked for the length of one request's work.
pub(crate) enum Locked<'a> {
    /// The sandbox.
    Sandbox(MutexGuard<'a, Sandbox>),
    /// A scenario's run.
    Scenario(MutexGuard<'a, ScenarioRun>),
}

impl Locked<'_> {
    /// The simulated cluster.
    pub(crate) fn sim(&self) -> &Sim {
        match self {
            Locked::Sandbox(s) => &s.sim,
            Locked::Scenario(r) => &r.session.sim,
        }
    }

    /// How far this response moves its timestamps (see [`WallShift`](crate::kube_api::WallShift)).
    pub(crate) fn wall_shift(&self) -> i64 {
        match self {
            Locked::Sandbox(s) => s.shown_shift.get(&s.sim),
            Locked::Scenario(r) => r.shown_shift.get(&r.session.sim),
        }
    }

    /// The simulated cluster, to change (reads that move nothing, such as `kubectl logs`).
    pub(crate) fn sim_mut(&mut self) -> &mut Sim {
        match self {
            Locked::Sandbox(s) => &mut s.sim,
            Locked::Scenario(r) => &mut r.session.sim,
        }
    }
}

impl Cluster {
    /// The server's state.
    pub(crate) fn app(&self) -> &AppState {
        match self {
            Cluster::Sandbox(st) | Cluster::Scenario(st, _) => st,
        }
    }

    /// Locks the cluster.
    pub(crate) fn lock(&self) -> Locked<'_> {
        match self {
            Cluster::Sandbox(st) => Locked::Sandbox(st.sb()),
            Cluster::Scenario(_, slot) => Locked::Scenario(slot.lock()),
        }
    }

    /// One write to the API now, recorded when it changed the cluster, and the tabs told;
    /// `typed` is the kubectl command line that sent it (the timeline's label).
    pub(crate) fn api(
        &self,
        call: ApiCall,
        typed: Option<String>,
    ) -> sim_core::apiserver::call::WriteResult {
        let dry = call.options.dry_run;
        let r = match self {
            Cluster::Sandbox(st) => st.sb().api(call, typed),
            Cluster::Scenario(_, slot) => slot.lock().api(call),
        };
        if !dry {
            self.notify();
        }
        r
    }

    /// Sends one request to a Service now, recorded; the program's answer as it gave it.
    pub(crate) fn request(&self, request: Request) -> ServiceReply {
        let reply = match self {
            Cluster::Sandbox(st) => st.sb().request(request),
            Cluster::Scenario(_, slot) => slot.lock().request(request),
        };
        self.notify();
        reply
    }

    /// Runs a command in a container now (`kubectl exec`), recorded when it sent requests.
    pub(crate) fn exec(
        &self,
        exec: sim_core::shell::Exec,
        typed: Option<String>,
    ) -> Result<sim_core::shell::ExecOutput, sim_core::shell::ExecError> {
        let r = match self {
            Cluster::Sandbox(st) => st.sb().exec(exec, typed),
            Cluster::Scenario(_, slot) => slot.lock().exec(exec),
        };
        if r.as_ref().is_ok_and(|o| o.requests > 0) {
            self.notify();
        }
        r
    }

    /// Brings the cluster's journal on disk (the sandbox's, or the scenario's progress) up to
    /// date after a change made by a GET (an exec over a WebSocket), which the middleware that
    /// saves after writes does not see; `path` is the request's.
    pub(crate) async fn save(&self, path: &str) {
        match self {
            Cluster::Sandbox(st) => {
                if let Some(journal) = st.journal.clone() {
                    let st = st.clone();
                    let _ = tokio::task::spawn_blocking(move || {
                        crate::journal::sync(&st, &journal);
                    })
                    .await;
                }
            }
            Cluster::Scenario(st, slot) => {
                let id = path
                    .strip_prefix("/scenarios/")
                    .and_then(|r| r.split('/').next())
                    .unwrap_or_default()
                    .to_string();
                let (scenarios, slot) = (st.scenarios.clone(), slot.clone());
                let _ = tokio::task::spawn_blocking(move || scenarios.save_slot(&id, &slot)).await;
            }
        }
    }

    /// Tells every tab (and every watch) that the cluster changed.
    pub(crate) fn notify(&self) {
        match self {
            Cluster::Sandbox(st) => st.notify(),
            Cluster::Scenario(_, slot) => slot.notify(),
        }
    }

    /// Fires after each change of the cluster.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        match self {
            Cluster::Sandbox(st) => st.changed.subscribe(),
            Cluster::Scenario(_, slot) => slot.changed.subscribe(),
        }
    }

    /// Fires when the server stops.
    pub(crate) fn shutdown(&self) -> watch::Receiver<bool> {
        self.app().shutdown.subscribe()
    }
}

/// `/scenarios/{id}/k8s/...` reaches the scenario's run, once started (a POST from its page:
/// the API never starts a run, so a GET never runs its scripts); anything else, the sandbox.
impl FromRequestParts<AppState> for Cluster {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Response> {
        let params: Path<std::collections::BTreeMap<String, String>> =
            match Path::from_request_parts(parts, st).await {
                Ok(p) => p,
                Err(_) => return Ok(Cluster::Sandbox(st.clone())),
            };
        let Some(id) = params.get("scenario") else {
            return Ok(Cluster::Sandbox(st.clone()));
        };
        let page = match st.scenarios.started(id) {
            Ok(slot) => return Ok(Cluster::Scenario(st.clone(), slot)),
            Err(page) => page,
        };
        // The scenario pages answer with HTML; the API answers with a Status, as the API server
        // does for a URL it does not serve (kubectl then prints its message). A scenario that
        // cannot start keeps its code, with the page's text when it is text.
        use axum::http::{StatusCode, header};
        use axum::response::IntoResponse;
        let mut code = page.status();
        let (reason, message) = if code == StatusCode::OK {
            // The start page: the scenario exists but nobody started it.
            code = StatusCode::NOT_FOUND;
            (
                "NotFound",
                format!(
                    "the scenario {id:?} is not started: open /scenarios/{id} in the browser and press Start"
                ),
            )
        } else if code == StatusCode::NOT_FOUND {
            (
                "NotFound",
                "the server could not find the requested resource".to_owned(),
            )
        } else {
            let is_text = page
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|c| c.starts_with("text/plain"));
            let text = axum::body::to_bytes(page.into_body(), 64 << 10)
                .await
                .ok()
                .filter(|_| is_text)
                .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
                .filter(|t| !t.is_empty());
            let reason = match code {
                StatusCode::UNPROCESSABLE_ENTITY => "Invalid",
                StatusCode::SERVICE_UNAVAILABLE => "ServiceUnavailable",
                _ => "InternalError",
            };
            (
                reason,
                text.unwrap_or_else(|| format!("the scenario {id:?} cannot be served")),
            )
        };
        let body = serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "details": {}, "code": code.as_u16(),
        });
        Err((
            code,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response())
    }
}
