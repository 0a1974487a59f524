//! `kubectl top pod|node`: what kubectl's `top` prints from the metrics API
//! (`crate::metrics`), including its answers when there are no metrics yet
//! (`verifyEmptyMetrics`: "metrics not available yet" for pods younger than two minutes).

use crate::kubectl::Output;
use crate::kubectl::args::Args;
use crate::kubectl::print::{self, NodeTop, PodTop};
use crate::sim::Sim;

/// `metricsCreationDelay` in top_pod.go.
const METRICS_CREATION_DELAY_MS: u64 = 2 * 60 * 1000;

pub(in crate::kubectl) fn top(sim: &mut Sim, args: &Args, ns: &str) -> Output {
    let what = args.positional.first().map(String::as_str).unwrap_or("");
    let name = args.positional.get(1).cloned();
    let no_headers = args.has(&["--no-headers"]);
    match what {
        "pod" | "pods" | "po" => top_pods(sim, args, ns, name.as_deref(), no_headers),
        "node" | "nodes" | "no" => top_nodes(sim, name.as_deref(), no_headers),
        "" => Output::err(
            "Display resource (CPU/memory) usage.\n\nAvailable Commands:\n  node          Display resource (CPU/memory) usage of nodes\n  pod           Display resource (CPU/memory) usage of pods",
        ),
        other => Output::err(format!(
            "error: unknown command \"{other}\" for \"kubectl top\""
        )),
    }
}

/// Go's `time.Duration.String()` for whole milliseconds (`2m30s`, `1h0m0s`).
fn go_duration(ms: u64) -> String {
    let s = ms / 1000;
    let frac = ms % 1000;
    let secs = if frac == 0 {
        format!("{}s", s % 60)
    } else {
        let f = format!("{frac:03}");
        format!("{}.{}s", s % 60, f.trim_end_matches('0'))
    };
    match (s / 3600, (s / 60) % 60) {
        (0, 0) => secs,
        (0, m) => format!("{m}m{secs}"),
        (h, m) => format!("{h}h{m}m{secs}"),
    }
}

fn top_pods(sim: &Sim, args: &Args, ns: &str, name: Option<&str>, no_headers: bool) -> Output {
    let all = args.has(&["-A", "--all-namespaces"]);
    let selector = match args
        .get(&["-l", "--selector"])
        .map(crate::api::selector::Selector::parse)
        .transpose()
    {
        Ok(s) => s,
        Err(e) => return Output::err(format!("error: {e}")),
    };
    let mut rows = Vec::new();
    let mut candidates = Vec::new();
    for (pns, pname, id) in sim.store.pods.all_names() {
        if !all && pns != ns {
            continue;
        }
        if name.is_some_and(|n| n != pname) {
            continue;
        }
        let Some(p) = sim.store.pods.get(id) else {
            continue;
        };
        if selector.as_ref().is_some_and(|s| !s.matches(p.labels())) {
            continue;
        }
        candidates.push((pns.to_string(), pname.to_string(), p.created));
        if let Some(u) = sim.pod_usage(id) {
            rows.push(PodTop {
                namespace: pns.to_string(),
                name: pname.to_string(),
                containers: u
                    .containers
                    .iter()
                    .map(|c| (c.name.clone(), c.cpu_nanocores, c.memory_bytes))
                    .collect(),
            });
        }
    }
    if let Some(n) = name
        && rows.is_empty()
    {
        return Output::err(format!(
            "Error from server (NotFound): podmetrics.metrics.k8s.io \"{ns}/{n}\" not found"
        ));
    }
    let mut out = Output::ok(String::new());
    if rows.is_empty() {
        // verifyEmptyMetrics
        let now = sim.now().millis();
        for (pns, pname, created) in &candidates {
            let age = now.saturating_sub(created.millis());
            if age > METRICS_CREATION_DELAY_MS {
                return Output::err(format!(
                    "error: Metrics not available for pod {pns}/{pname}, age: {}",
                    go_duration(age)
                ));
            }
        }
        if !candidates.is_empty() {
            return Output::err("error: metrics not available yet");
        }
        out.stderr = if all {
            "No resources found\n".into()
        } else {
            format!("No resources found in {ns} namespace.\n")
        };
    }
    out.stdout = print::top_pods(&rows, all, args.has(&["--containers"]), no_headers);
    out
}

fn top_nodes(sim: &Sim, name: Option<&str>, no_headers: bool) -> Output {
    let mut rows = Vec::new();
    for (_, nname, id) in sim.store.nodes.all_names() {
        if name.is_some_and(|n| n != nname) {
            continue;
        }
        let Some(n) = sim.store.nodes.get(id) else {
            continue;
        };
        rows.push(NodeTop {
            name: nname.to_string(),
            usage: sim
                .node_usage(id)
                .map(|u| (u.cpu_nanocores, u.memory_bytes)),
            allocatable: (n.alloc_cpu, n.alloc_mem),
        });
    }
    if let Some(n) = name
        && rows.iter().all(|r| r.usage.is_none())
    {
        return Output::err(format!(
            "Error from server (NotFound): nodemetrics.metrics.k8s.io \"{n}\" not found"
        ));
    }
    if rows.iter().all(|r| r.usage.is_none()) {
        return Output::err("error: metrics not available yet");
    }
    Output::ok(print::top_nodes(&rows, no_headers))
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_print_as_go_prints_them() {
        assert_eq!(super::go_duration(150_000), "2m30s");
        assert_eq!(super::go_duration(3_600_000), "1h0m0s");
        assert_eq!(super::go_duration(5_000), "5s");
        assert_eq!(super::go_duration(150_500), "2m30.5s");
    }
}
