//! `kubectl rollout status|history|undo|pause|resume|restart`.

use crate::apiserver::{UndoOrApiError, resource_of};
use crate::controller::deployment::util;
use crate::error::ApiError;
use crate::kubectl::args::{Args, target};
use crate::kubectl::print;
use crate::kubectl::{Output, server_error};
use crate::sim::Sim;
use crate::store::Kind;

/// What `kubectl rollout status` would print now, and whether it would stop: `Some(0)` done,
/// `Some(1)` failed, `None` still waiting.
pub fn rollout_status(sim: &Sim, ns: &str, name: &str) -> (String, Option<i32>) {
    let Some((_, d)) = sim
        .store
        .deployments
        .lookup(ns, name)
        .and_then(|id| sim.store.deployments.get(id))
    else {
        return (
            format!("Error from server (NotFound): deployments.apps {name:?} not found"),
            Some(1),
        );
    };
    let st = d.status.clone().unwrap_or_default();
    if d.metadata.generation.unwrap_or(0) > st.observed_generation.unwrap_or(0) {
        return (
            "Waiting for deployment spec update to be observed...".into(),
            None,
        );
    }
    if util::get_condition(&st, "Progressing").and_then(|c| c.reason.as_deref())
        == Some(util::reason::TIMED_OUT)
    {
        return (
            format!("error: deployment {name:?} exceeded its progress deadline"),
            Some(1),
        );
    }
    let replicas = util::replicas(d);
    let updated = st.updated_replicas.unwrap_or(0);
    let total = st.replicas.unwrap_or(0);
    let available = st.available_replicas.unwrap_or(0);
    if updated < replicas {
        return (
            format!(
                "Waiting for deployment {name:?} rollout to finish: {updated} out of {replicas} new replicas have been updated..."
            ),
            None,
        );
    }
    if total > updated {
        return (
            format!(
                "Waiting for deployment {name:?} rollout to finish: {} old replicas are pending termination...",
                total - updated
            ),
            None,
        );
    }
    if available < updated {
        return (
            format!(
                "Waiting for deployment {name:?} rollout to finish: {available} of {updated} updated replicas are available..."
            ),
            None,
        );
    }
    (
        format!("deployment {name:?} successfully rolled out"),
        Some(0),
    )
}

pub(in crate::kubectl) fn rollout(sim: &mut Sim, args: &Args, ns: &str) -> Output {
    let Some(sub) = args.positional.first().cloned() else {
        return Output::err(
            "error: rollout needs a subcommand: status, history, undo, pause, resume, restart",
        );
    };
    let rest = Args {
        positional: args.positional[1..].to_vec(),
        flags: Vec::new(),
        rest: Vec::new(),
    };
    let (kind, name) = match target(&rest) {
        Ok(t) => t,
        Err(o) => return o,
    };
    if kind != Kind::Deployment {
        return Output::err(format!(
            "error: kubesim rolls out deployments only, not {}",
            resource_of(kind)
        ));
    }
    let Ok(id) = sim.deployment_id(ns, &name) else {
        return Output::err(format!(
            "Error from server (NotFound): deployments.apps {name:?} not found"
        ));
    };
    let (dry, suffix) = match super::patch::dry_run_words(args) {
        Ok(d) => d,
        Err(o) => return o,
    };
    match sub.as_str() {
        "status" => {
            let (line, code) = rollout_status(sim, ns, &name);
            match code {
                Some(1) => Output::err(line),
                _ => Output::ok(format!("{line}\n")),
            }
        }
        "history" => {
            let rss: Vec<_> = sim
                .revisions(id)
                .into_iter()
                .filter_map(|(_, r)| sim.store.replicasets.get(r))
                .map(|e| e.rs.clone())
                .collect();
            let label = format!("deployment.apps/{name}");
            match args.get(&["--revision"]).map(|v| v.parse::<i64>()) {
                None => Output::ok(print::rollout_history(&label, &rss)),
                Some(Ok(n)) => match print::replicaset_for_revision(&rss, n) {
                    Some(rs) => Output::ok(print::rollout_history_revision(&label, rs, n)),
                    None => Output::err("error: unable to find the specified revision"),
                },
                Some(Err(_)) => Output::err("error: invalid argument for \"--revision\" flag"),
            }
        }
        "undo" => {
            let to = match args.get(&["--to-revision"]).map(|v| v.parse::<i64>()) {
                None => 0,
                Some(Ok(n)) => n,
                Some(Err(_)) => {
                    return Output::err("error: invalid argument for \"--to-revision\" flag");
                }
            };
            match sim.rollout_undo(ns, &name, to, dry) {
                Ok(msg) => Output::ok(format!("{msg}{suffix}\n")),
                Err(UndoOrApiError::Undo(e)) => Output::err(format!("error: {e}")),
                Err(UndoOrApiError::Api(e)) => Output::err(server_error(&e)),
            }
        }
        "pause" | "resume" => {
            let pause = sub == "pause";
            match sim.set_paused(ns, &name, pause, dry) {
                Ok(true) => Output::ok(format!(
                    "deployment.apps/{name} {}{suffix}\n",
                    if pause { "paused" } else { "resumed" }
                )),
                // objectpauser.go / objectresumer.go refuse before patching.
                Ok(false) => Output::err(format!(
                    "error: deployments.apps {name:?} {}",
                    if pause {
                        "is already paused"
                    } else {
                        "is not paused"
                    }
                )),
                Err(e) => Output::err(server_error(&e)),
            }
        }
        "restart" => match sim.rollout_restart(ns, &name, dry) {
            Ok(()) => Output::ok(format!("deployment.apps/{name} restarted{suffix}\n")),
            Err(ApiError::BadRequest(m)) => Output::err(format!("error: {m}")),
            Err(e) => Output::err(server_error(&e)),
        },
        other => Output::err(format!(
            "error: unknown command \"{other}\" for \"kubectl rollout\""
        )),
    }
}
