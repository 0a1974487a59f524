//! `kubectl logs`: a pod's (or a Deployment's, ReplicaSet's or Job's first pod's) container
//! log.

use crate::apiserver::resource_of;
use crate::kubectl::args::{Args, parse_kind};
use crate::kubectl::{Output, unknown_kind};
use crate::sim::Sim;
use crate::store::Kind;

/// The pod `kubectl logs TYPE/NAME` reads: the owner's selector lists the pods, sorted as
/// `podutils.ByLogging` (assigned, Running < Unknown < Pending, ready, ready longer, more
/// restarts, older), ties in name order. Returns the pod and how many matched.
pub(in crate::kubectl) fn pod_for_logs(
    sim: &Sim,
    ns: &str,
    kind: Kind,
    name: &str,
) -> Option<(u64, usize)> {
    use crate::api::selector::label_selector_matches;
    use crate::store::pod::Phase;
    let selector = match kind {
        Kind::Deployment => sim
            .store
            .deployments
            .lookup(ns, name)
            .and_then(|id| sim.store.deployments.get(id))
            .and_then(|(_, d)| d.spec.as_ref().map(|s| s.selector.clone()))?,
        Kind::Job => sim
            .store
            .jobs
            .lookup(ns, name)
            .and_then(|id| sim.store.jobs.get(id))
            .and_then(|e| e.job.spec.as_ref().and_then(|s| s.selector.clone()))?,
        _ => sim
            .store
            .replicasets
            .lookup(ns, name)
            .and_then(|id| sim.store.replicasets.get(id))
            .and_then(|e| e.rs.spec.as_ref().map(|s| s.selector.clone()))?,
    };
    let mut pods: Vec<&crate::store::PodState> = sim
        .store
        .pods
        .all_names()
        .filter(|(o_ns, _, _)| *o_ns == ns)
        .filter_map(|(_, _, id)| sim.store.pods.get(id))
        .filter(|p| label_selector_matches(&selector, p.labels()))
        .collect();
    let phase_rank = |p: Phase| match p {
        Phase::Unknown => 1,
        Phase::Pending => 2,
        _ => 0,
    };
    pods.sort_by(|a, b| {
        a.node
            .is_none()
            .cmp(&b.node.is_none())
            .then(phase_rank(a.phase).cmp(&phase_rank(b.phase)))
            .then(b.ready.cmp(&a.ready))
            .then(if a.ready && b.ready {
                a.ready_changed.cmp(&b.ready_changed)
            } else {
                std::cmp::Ordering::Equal
            })
            .then(b.max_restarts().cmp(&a.max_restarts()))
            .then(a.created.cmp(&b.created))
    });
    pods.first().map(|p| (p.id, pods.len()))
}

pub(in crate::kubectl) fn logs(sim: &mut Sim, args: &Args, ns: &str) -> Output {
    let Some(first) = args.positional.first() else {
        return Output::err("error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.");
    };
    let mut out = Output::default();
    let pod_id = match first.split_once('/') {
        Some((k, n)) => match parse_kind(k) {
            Some(Kind::Pod) => sim.store.pods.lookup(ns, n),
            Some(kind @ (Kind::Deployment | Kind::ReplicaSet | Kind::Job)) => {
                let exists = match kind {
                    Kind::Deployment => sim.store.deployments.lookup(ns, n).is_some(),
                    Kind::Job => sim.store.jobs.lookup(ns, n).is_some(),
                    _ => sim.store.replicasets.lookup(ns, n).is_some(),
                };
                if !exists {
                    return Output::err(format!(
                        "Error from server (NotFound): {} {n:?} not found",
                        resource_of(kind)
                    ));
                }
                // logsforobject.go: GetFirstPod, then `Found N pods, using pod/x` on stderr.
                match pod_for_logs(sim, ns, kind, n) {
                    Some((id, count)) => {
                        if count > 1 {
                            let name = sim.store.pods.get(id).map(|p| p.name.clone());
                            out.stderr.push_str(&format!(
                                "Found {count} pods, using pod/{}\n",
                                name.unwrap_or_default()
                            ));
                        }
                        Some(id)
                    }
                    None => {
                        return Output::err(format!(
                            "error: timed out waiting for the condition on {}/{n}",
                            resource_of(kind)
                        ));
                    }
                }
            }
            _ => return unknown_kind(k),
        },
        None => sim.store.pods.lookup(ns, first),
    };
    let Some(id) = pod_id else {
        return Output::err(format!(
            "Error from server (NotFound): pods {:?} not found",
            first.rsplit('/').next().unwrap_or(first)
        ));
    };
    let Some(p) = sim.store.pods.get(id) else {
        return Output::err("error: pod vanished");
    };
    let names: Vec<String> = p
        .template
        .spec
        .iter()
        .flat_map(|s| s.containers.iter().map(|c| c.name.clone()))
        .collect();
    let all_names = names.join(", ");
    // logsforobject.go: the `kubectl.kubernetes.io/default-container` annotation, else the
    // first container (saying so on stderr when there are others); a container that does not
    // exist is refused client-side.
    let requested = match args.get(&["-c", "--container"]) {
        Some(c) => Some(c.to_string()),
        None => {
            let annotated = p
                .template
                .metadata
                .as_ref()
                .and_then(|m| m.annotations.as_ref())
                .and_then(|a| a.get("kubectl.kubernetes.io/default-container"))
                .filter(|d| !d.is_empty())
                .cloned();
            match annotated {
                Some(d) if names.contains(&d) => Some(d),
                Some(d) => {
                    out.stderr.push_str(&format!(
                        "Default container name {d:?} not found in pod {}\n",
                        p.name
                    ));
                    None
                }
                None => None,
            }
        }
    };
    let requested = requested.unwrap_or_else(|| {
        if names.len() > 1 {
            out.stderr.push_str(&format!(
                "Defaulted container {:?} out of: {all_names}\n",
                names[0]
            ));
        }
        names.first().cloned().unwrap_or_default()
    });
    let Some(ci) = names.iter().position(|n| *n == requested) else {
        out.push(Output::err(format!(
            "error: container {requested} is not valid for pod {} out of: {all_names}",
            p.name
        )));
        return out;
    };
    let c = &p.containers[ci];
    let previous = args.has(&["-p", "--previous"]);
    if !c.has_started() {
        let reason = match &c.state {
            crate::store::pod::CState::Waiting { reason, .. } => reason.as_str(),
            _ => "ContainerCreating",
        };
        out.push(Output::err(format!(
            "Error from server (BadRequest): container {:?} in pod {:?} is waiting to start: {}",
            names[ci],
            p.name,
            if reason == "ContainerCreating" {
                "ContainerCreating".to_string()
            } else {
                "trying and failing to pull image".to_string()
            }
        )));
        return out;
    }
    if previous && c.last.is_none() {
        out.push(Output::err(format!(
            "Error from server (BadRequest): previous terminated container {:?} in pod {:?} not found",
            names[ci], p.name
        )));
        return out;
    }
    let lines = if previous { &c.previous_logs } else { &c.logs };
    let tail = args.get(&["--tail"]).and_then(|v| v.parse::<usize>().ok());
    let skip = tail.map_or(0, |t| lines.len().saturating_sub(t));
    out.push(Output::ok(
        lines
            .iter()
            .skip(skip)
            .map(|(_, l)| format!("{l}\n"))
            .collect::<String>(),
    ));
    out
}
