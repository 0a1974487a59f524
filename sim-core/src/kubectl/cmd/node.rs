//! `kubectl cordon`, `uncordon` and `drain`.

use crate::api::Object;
use crate::apiserver::mutations::KubectlWrite;
use crate::apiserver::patch::PatchType;
use crate::kubectl::args::Args;
use crate::kubectl::{Clock, Output, server_error};
use crate::sim::Sim;
use crate::store::Kind;

pub(in crate::kubectl) fn cordon(sim: &mut Sim, args: &Args, on: bool) -> Output {
    let Some(name) = args.positional.first() else {
        return Output::err("error: USAGE: cordon NODE");
    };
    let Some(Object::Node(n)) = sim.get_object(Kind::Node, "", name) else {
        return Output::err(format!(
            "Error from server (NotFound): nodes {name:?} not found"
        ));
    };
    let current = n
        .spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false);
    if current == on {
        return Output::ok(format!(
            "node/{name} already {}\n",
            if on { "cordoned" } else { "uncordoned" }
        ));
    }
    // cordon.go: a strategic merge patch of `spec.unschedulable` (false is Go's zero value,
    // omitted: uncordoning deletes the key).
    let body = serde_json::json!({"spec": {"unschedulable": if on { serde_json::json!(true) } else { serde_json::Value::Null }}});
    let (dry, suffix) = match super::patch::dry_run_words(args) {
        Ok(d) => d,
        Err(o) => return o,
    };
    let write = KubectlWrite::patch(Kind::Node, "", name, PatchType::Strategic, body).dry(dry);
    match sim.kubectl_write(write) {
        Ok(_) => Output::ok(format!(
            "node/{name} {}{suffix}\n",
            if on { "cordoned" } else { "uncordoned" }
        )),
        Err(e) => Output::err(server_error(&e)),
    }
}

pub(in crate::kubectl) fn drain(sim: &mut Sim, args: &Args, clock: &mut dyn Clock) -> Output {
    let mut out = cordon(sim, args, true);
    if out.code != 0 {
        return out;
    }
    let Some(name) = args.positional.first().cloned() else {
        return out;
    };
    let Some(id) = sim.store.nodes.lookup("", &name) else {
        return out;
    };
    let force = args.has(&["--force"]) && args.get(&["--force"]) != Some("false");
    // GetPodsForDeletion lists the node's pods in namespace/name order. Finished pods go
    // without a check; a pod with no controller stops the drain unless --force
    // (filters.go unreplicatedFilter).
    let mut pods: Vec<(String, String, u64, bool)> = sim
        .store
        .nodes
        .get(id)
        .map(|n| n.pods.iter().copied().collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| sim.store.pods.get(p))
        .map(|p| {
            let finished = matches!(
                p.phase,
                crate::store::pod::Phase::Succeeded | crate::store::pod::Phase::Failed
            );
            (
                p.namespace.to_string(),
                p.name.to_string(),
                p.id,
                p.owner.is_none() && !finished,
            )
        })
        .collect();
    pods.sort();
    let unmanaged: Vec<String> = pods
        .iter()
        .filter(|p| p.3)
        .map(|p| format!("{}/{}", p.0, p.1))
        .collect();
    if !unmanaged.is_empty() {
        if !force {
            let err = format!(
                "cannot delete cannot delete Pods that declare no controller (use --force to override): {}",
                unmanaged.join(", ")
            );
            // drain.go RunDrain: the node's error, the pending nodes, then the aggregate error.
            out.push(Output::err(format!(
                "error: unable to drain node {name:?} due to error: {err}, continuing command...\nThere are pending nodes to be drained:\n {name}\nerror: {err}"
            )));
            return out;
        }
        out.stderr.push_str(&format!(
            "Warning: deleting Pods that declare no controller: {}\n",
            unmanaged.join(", ")
        ));
    }
    let grace = args
        .get(&["--grace-period"])
        .and_then(|g| g.parse::<i64>().ok())
        .filter(|g| *g >= 0);
    // evictPods: one eviction per pod, all at once; each waits (polling every second) until
    // its pod is gone and then prints `pod/x evicted`. Virtual time moves meanwhile.
    let mut pending: Vec<(u64, String)> = pods
        .iter()
        .map(|(ns, pod, id, _)| {
            out.stdout.push_str(&format!("evicting pod {ns}/{pod}\n"));
            (*id, pod.clone())
        })
        .collect();
    for (id, _) in &pending {
        sim.delete_pod(*id, grace);
    }
    sim.settle();
    let deadline = sim.now() + crate::time::SimDuration::from_secs(3600);
    let mut evicted = Vec::new();
    while !pending.is_empty() && sim.now() < deadline {
        pending.retain(|(id, pod)| {
            if sim.store.pods.get(*id).is_some() {
                return true;
            }
            evicted.push(pod.clone());
            false
        });
        if pending.is_empty() {
            break;
        }
        // The next poll, one second later.
        let next = sim.now() + crate::time::SimDuration::from_secs(1);
        clock.run_until(sim, next, &mut |_| false);
    }
    for pod in evicted {
        out.stdout.push_str(&format!("pod/{pod} evicted\n"));
    }
    if !pending.is_empty() {
        out.push(Output::err(format!(
            "error: unable to drain node {name:?} due to error: error when waiting for pod {:?} terminating: global timeout reached: 1h0m0s, continuing command...\nThere are pending nodes to be drained:\n {name}",
            pending[0].1
        )));
        return out;
    }
    out.stdout.push_str(&format!("node/{name} drained\n"));
    out
}
