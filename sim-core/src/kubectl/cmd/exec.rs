//! `kubectl exec (POD | TYPE/NAME) [-c CONTAINER] -- COMMAND [args...]`: the command runs in
//! the container through sim-core's shell ([`crate::shell`]), as the API's `pods/exec` runs
//! it; the console has no terminal, so `-i`/`-t` change nothing here.

use crate::action::exec_output;
use crate::apiserver::resource_of;
use crate::kubectl::args::{Args, parse_kind};
use crate::kubectl::cmd::logs::pod_for_logs;
use crate::kubectl::{Output, unknown_kind};
use crate::shell::Exec;
use crate::sim::Sim;
use crate::store::Kind;
use crate::store::pod::Phase;

pub(in crate::kubectl) fn exec(sim: &mut Sim, args: &Args, ns: &str) -> Output {
    let Some(first) = args.positional.first() else {
        return Output::err(
            "error: expected 'exec (POD | TYPE/NAME) [-c CONTAINER] [flags] -- COMMAND [args...]'.\nPOD or TYPE/NAME is a required argument for the exec command",
        );
    };
    if args.positional.len() > 1 {
        return Output::err(
            "error: exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead",
        );
    }
    if args.rest.is_empty() {
        return Output::err("error: you must specify at least one command for the container");
    }
    let pod = match first.split_once('/') {
        Some((k, n)) => match parse_kind(k) {
            Some(Kind::Pod) => sim.store.pods.lookup(ns, n),
            Some(kind @ (Kind::Deployment | Kind::ReplicaSet)) => {
                let exists = match kind {
                    Kind::Deployment => sim.store.deployments.lookup(ns, n).is_some(),
                    _ => sim.store.replicasets.lookup(ns, n).is_some(),
                };
                if !exists {
                    return Output::err(format!(
                        "Error from server (NotFound): {} {n:?} not found",
                        resource_of(kind)
                    ));
                }
                match pod_for_logs(sim, ns, kind, n) {
                    Some((id, _)) => Some(id),
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
    let Some(p) = pod.and_then(|id| sim.store.pods.get(id)) else {
        return Output::err(format!(
            "Error from server (NotFound): pods {:?} not found",
            first.rsplit('/').next().unwrap_or(first)
        ));
    };
    // exec.go `Run`: a finished pod is refused before anything is sent.
    if matches!(p.phase, Phase::Succeeded | Phase::Failed) {
        return Output::err(format!(
            "error: cannot exec into a container in a completed pod; current phase is {}",
            p.phase.as_str()
        ));
    }
    let names: Vec<String> = p
        .template
        .spec
        .iter()
        .flat_map(|s| s.containers.iter().map(|c| c.name.clone()))
        .collect();
    let all_names = names.join(", ");
    let mut out = Output::default();
    let container = match args.get(&["-c", "--container"]) {
        Some(c) => c.to_string(),
        None => {
            let annotated = p
                .template
                .metadata
                .as_ref()
                .and_then(|m| m.annotations.as_ref())
                .and_then(|a| a.get("kubectl.kubernetes.io/default-container"))
                .filter(|d| names.contains(d))
                .cloned();
            match annotated {
                Some(d) => d,
                None => {
                    if names.len() > 1 {
                        out.stderr.push_str(&format!(
                            "Defaulted container {:?} out of: {all_names}\n",
                            names[0]
                        ));
                    }
                    names.first().cloned().unwrap_or_default()
                }
            }
        }
    };
    if !names.contains(&container) {
        out.push(Output::err(format!(
            "error: container {container} is not valid for pod {} out of: {all_names}",
            p.name
        )));
        return out;
    }
    let exec = Exec {
        namespace: ns.to_string(),
        pod: p.name.to_string(),
        container: Some(container),
        command: args.rest.clone(),
        stdin: String::new(),
    };
    let ran = sim.exec(&exec);
    let mut printed = exec_output(&ran);
    printed.stderr = format!("{}{}", out.stderr, printed.stderr);
    printed
}
