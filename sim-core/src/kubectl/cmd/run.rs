//! `kubectl run`: the Pod of kubectl's generator.

use super::apply::apply_text;
use crate::kubectl::Output;
use crate::kubectl::args::Args;
use crate::sim::Sim;

/// `kubectl run NAME --image=IMAGE [--labels=k=v,...] [--port=N] [--restart=Always|OnFailure|Never]
/// [--env=K=V]... [--dry-run=client -o yaml]`: the Pod kubectl's generator builds (label
/// `run=NAME` unless `--labels` is given), created as `kubectl create` would.
pub(in crate::kubectl) fn run_pod(sim: &mut Sim, args: &Args, ns: &str) -> Output {
    let Some(name) = args.positional.first() else {
        return Output::err("error: NAME is required for run");
    };
    let Some(image) = args.get(&["--image"]) else {
        return Output::err("error: required flag(s) \"image\" not set");
    };
    let restart = args.get(&["--restart"]).unwrap_or("Always");
    if !matches!(restart, "Always" | "OnFailure" | "Never") {
        return Output::err(format!("error: invalid restart policy: {restart}"));
    }
    let mut labels: Vec<(String, String)> = Vec::new();
    match args.get(&["--labels", "-l"]) {
        Some(l) => {
            for pair in l.split(',').filter(|p| !p.is_empty()) {
                let Some((k, v)) = pair.split_once('=') else {
                    return Output::err(format!("error: invalid label spec: {pair}"));
                };
                labels.push((k.to_string(), v.to_string()));
            }
        }
        None => labels.push(("run".into(), name.clone())),
    }
    let mut container = serde_json::json!({"image": image, "name": name, "resources": {}});
    let envs: Vec<serde_json::Value> = args
        .all(&["--env"])
        .into_iter()
        .map(|e| {
            let (k, v) = e.split_once('=').unwrap_or((e, ""));
            serde_json::json!({"name": k, "value": v})
        })
        .collect();
    if !envs.is_empty() {
        container["env"] = serde_json::Value::Array(envs);
    }
    if let Some(port) = args.get(&["--port"]) {
        let Ok(port) = port.parse::<u16>() else {
            return Output::err(format!("error: invalid port {port:?}"));
        };
        container["ports"] = serde_json::json!([{"containerPort": port}]);
    }
    let labels: serde_json::Map<String, serde_json::Value> = labels
        .into_iter()
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect();
    let pod = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"labels": labels, "name": name},
        "spec": {"containers": [container], "dnsPolicy": "ClusterFirst", "restartPolicy": restart},
        "status": {},
    });
    let yaml = match serde_yaml::to_string(&pod) {
        Ok(y) => y,
        Err(e) => return Output::err(format!("error: {e}")),
    };
    if args.get(&["--dry-run"]).is_some_and(|d| d != "none") {
        return match args.get(&["-o", "--output"]) {
            Some("yaml") => Output::ok(yaml),
            _ => Output::ok(format!("pod/{name} created (dry run)\n")),
        };
    }
    apply_text(sim, &yaml, "run", ns, true)
}
