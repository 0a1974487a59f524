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
    // evictPods: one eviction per pod, all at once, each through the `pods/eviction`
    // subresource. A 429 (a disruption budget) is retried every 5 s, printing `evicting pod`
    // again; an evicted pod is polled every second until it is gone. `--timeout` (kubectl's
    // default is none; the console stops after an hour) bounds it all. Virtual time moves
    // meanwhile.
    let global = args
        .get(&["--timeout"])
        .and_then(|t| crate::time::parse_duration(t).ok())
        .filter(|d| d.millis() > 0)
        .unwrap_or(crate::time::SimDuration::from_secs(3600));
    let deadline = sim.now() + global;
    enum State {
        Evict(crate::time::SimTime),
        Waiting,
        Done,
    }
    let mut states: Vec<(String, String, u64, State)> = pods
        .iter()
        .map(|(ns, pod, id, _)| (ns.clone(), pod.clone(), *id, State::Evict(sim.now())))
        .collect();
    let mut errors: Vec<String> = Vec::new();
    loop {
        let now = sim.now();
        for (ns, pod, _, state) in &mut states {
            let State::Evict(at) = *state else { continue };
            if at > now {
                continue;
            }
            // Each try prints first, then looks at the timeout (so a retry due after it
            // prints once more).
            out.stdout.push_str(&format!("evicting pod {ns}/{pod}\n"));
            if now >= deadline {
                errors.push(format!(
                    "error when evicting pods/{pod:?} -n {ns:?}: global timeout reached: {global}"
                ));
                *state = State::Done;
                continue;
            }
            match sim.kubectl_write(KubectlWrite::evict(ns, pod, grace)) {
                Ok(_) => *state = State::Waiting,
                Err(e) if e.code() == 404 => *state = State::Done,
                Err(e) if e.code() == 429 => {
                    out.stderr.push_str(&format!(
                        "error when evicting pods/{pod:?} -n {ns:?} (will retry after 5s): {e}\n"
                    ));
                    *state = State::Evict(now + crate::time::SimDuration::from_secs(5));
                }
                Err(e) => {
                    errors.push(format!("error when evicting pods/{pod:?} -n {ns:?}: {e}"));
                    *state = State::Done;
                }
            }
        }
        for (_, pod, id, state) in &mut states {
            if matches!(state, State::Waiting) && sim.store.pods.get(*id).is_none() {
                out.stdout.push_str(&format!("pod/{pod} evicted\n"));
                *state = State::Done;
            }
        }
        if states.iter().all(|s| matches!(s.3, State::Done)) {
            break;
        }
        if now >= deadline {
            for (_, pod, _, state) in &mut states {
                if matches!(state, State::Waiting) {
                    errors.push(format!(
                        "error when waiting for pod {pod:?} terminating: global timeout reached: {global}"
                    ));
                    *state = State::Done;
                }
            }
            if states.iter().all(|s| matches!(s.3, State::Done)) {
                break;
            }
        }
        // The next poll (a second later, the last at the timeout) or retry (5 s after a
        // refusal: kubectl sleeps through its timeout), whichever comes first.
        let mut next: Option<crate::time::SimTime> = None;
        for (_, _, _, state) in &states {
            let t = match state {
                State::Waiting => (now + crate::time::SimDuration::from_secs(1)).min(deadline),
                State::Evict(at) => *at,
                State::Done => continue,
            };
            next = Some(next.map_or(t, |n| n.min(t)));
        }
        let Some(next) = next.filter(|n| *n > now) else {
            break;
        };
        clock.run_until(sim, next, &mut |_| false);
    }
    if !errors.is_empty() {
        // utilerrors.NewAggregate: one error bare, several in brackets.
        let err = if errors.len() == 1 {
            errors.remove(0)
        } else {
            format!("[{}]", errors.join(", "))
        };
        out.push(Output::err(format!(
            "error: unable to drain node {name:?} due to error: {err}, continuing command...\nThere are pending nodes to be drained:\n {name}\nerror: {err}"
        )));
        return out;
    }
    out.stdout.push_str(&format!("node/{name} drained\n"));
    out
}
