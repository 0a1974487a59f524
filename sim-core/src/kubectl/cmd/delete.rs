//! `kubectl delete`: by name, `KIND/NAME` or `-f`, with cascade and grace period, waiting
//! until the objects are gone.

use super::apply::read_files;
use crate::api::decode::parse_manifests;
use crate::apiserver::call::PropagationPolicy;
use crate::apiserver::kind_prefix;
use crate::kubectl::args::{Args, parse_kind};
use crate::kubectl::{Clock, FileSource, Output, server_error, unknown_kind};
use crate::sim::Sim;
use crate::store::Kind;

pub(in crate::kubectl) fn delete(
    sim: &mut Sim,
    args: &Args,
    ns: &str,
    files: &dyn FileSource,
    clock: &mut dyn Clock,
) -> Output {
    let propagation = match args.get(&["--cascade"]) {
        Some("orphan") | Some("false") => PropagationPolicy::Orphan,
        Some("foreground") => PropagationPolicy::Foreground,
        _ => PropagationPolicy::Background,
    };
    let mut targets: Vec<(Kind, String, String, Option<String>)> = Vec::new();
    if args.has(&["-f", "--filename"]) {
        let texts = match read_files(args, files) {
            Ok(t) => t,
            Err(o) => return o,
        };
        for (path, text) in texts {
            match parse_manifests(&text) {
                Ok(ms) => {
                    for m in ms {
                        let Some(kind) = parse_kind(m.object.kind()) else {
                            continue;
                        };
                        let obj_ns = m.object.namespace().unwrap_or(ns).to_string();
                        targets.push((
                            kind,
                            obj_ns,
                            m.object.name().to_string(),
                            Some(path.clone()),
                        ));
                    }
                }
                Err(e) => return Output::err(format!("error: error parsing {path}: {e}")),
            }
        }
    } else {
        let p = &args.positional;
        if p.iter().any(|w| w.contains('/')) {
            for w in p {
                let Some((k, n)) = w.split_once('/') else {
                    return Output::err(
                        "error: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form",
                    );
                };
                let Some(kind) = parse_kind(k) else {
                    return unknown_kind(k);
                };
                targets.push((kind, ns.to_string(), n.to_string(), None));
            }
        } else {
            let Some(kw) = p.first() else {
                return Output::err(
                    "error: You must provide one or more resources by argument or filename.",
                );
            };
            let Some(kind) = parse_kind(kw) else {
                return unknown_kind(kw);
            };
            let selector = args.get(&["-l", "--selector"]);
            let all = args.has(&["--all"]) && args.get(&["--all"]) != Some("false");
            if p.len() < 2 && selector.is_none() && !all {
                return Output::err(
                    "error: resource(s) were provided, but no name, label selector, or --all flag specified",
                );
            }
            if p.len() >= 2 && (selector.is_some() || all) {
                return Output::err("error: name cannot be provided when a selector is specified");
            }
            for n in &p[1..] {
                targets.push((kind, ns.to_string(), n.clone(), None));
            }
            if selector.is_some() || all {
                // The objects the selector (or --all) picks, listed first as kubectl does.
                let sel = match selector.map(crate::api::selector::Selector::parse) {
                    Some(Ok(s)) => s,
                    Some(Err(e)) => return Output::err(format!("error: {e}")),
                    None => crate::api::selector::Selector::everything(),
                };
                let namespaced = crate::api::resource::of(kind).namespaced;
                let all_ns = args.has(&["-A", "--all-namespaces"]);
                let scope = (namespaced && !all_ns).then_some(ns);
                for o in crate::kubectl::list::list(sim, kind, scope, &sel) {
                    let o_ns = o.namespace().unwrap_or(ns).to_string();
                    targets.push((kind, o_ns, o.name().to_string(), None));
                }
                if targets.is_empty() {
                    return Output {
                        stderr: "No resources found\n".into(),
                        ..Output::default()
                    };
                }
            }
        }
    }
    let mut out = Output::default();
    // delete_flags.go: --now is grace 1; --force alone is grace 0; grace 0 without --force
    // becomes 1.
    let force = args.has(&["--force"]) && args.get(&["--force"]) != Some("false");
    let mut grace = match args.get(&["--grace-period"]).map(str::parse::<i64>) {
        Some(Ok(g)) => Some(g).filter(|g| *g >= 0),
        Some(Err(_)) => return Output::err("error: invalid argument for \"--grace-period\" flag"),
        None => None,
    };
    if args.has(&["--now"]) {
        grace = Some(1);
    }
    if force && grace.is_none() {
        grace = Some(0);
    }
    if grace == Some(0) && !force {
        grace = Some(1);
    }
    if force {
        out.stderr.push_str("Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.\n");
    }
    let dry = match super::patch::dry_run(args) {
        Ok(d) => d,
        Err(o) => return o,
    };
    let wait = args.get(&["--wait"]) != Some("false") && dry.is_none();
    let mut waiting: Vec<(Kind, String, String)> = Vec::new();
    for (kind, obj_ns, name, path) in targets {
        let cluster_scoped = !crate::api::resource::of(kind).namespaced;
        let ns_for = if cluster_scoped { "" } else { obj_ns.as_str() };
        // kubectl's DELETE with its options; `--dry-run=client` asks nothing.
        let done = match dry {
            Some("client") => Ok(()),
            _ => send_delete(sim, kind, ns_for, &name, propagation, grace, dry.is_some()),
        };
        match done {
            Ok(()) => {
                let what = kind_prefix(kind.as_str());
                let suffix = if cluster_scoped {
                    String::new()
                } else {
                    format!(" from {obj_ns} namespace")
                };
                let verb = if grace == Some(0) {
                    "force deleted"
                } else {
                    "deleted"
                };
                let dry_suffix = match dry {
                    Some("server") => " (server dry run)",
                    Some(_) => " (dry run)",
                    None => "",
                };
                out.push(Output::ok(format!(
                    "{what} {name:?} {verb}{suffix}{dry_suffix}\n"
                )));
                waiting.push((kind, ns_for.to_string(), name));
            }
            Err(e) => {
                let msg = match path {
                    Some(p) => format!(
                        "Error from server ({}): error when deleting {p:?}: {e}",
                        e.reason()
                    ),
                    None => server_error(&e),
                };
                out.push(Output::err(msg));
            }
        }
    }
    // kubectl waits until the objects are gone (--wait defaults to true); the cluster's time
    // moves meanwhile.
    if wait && !waiting.is_empty() {
        let until =
            sim.now() + crate::time::SimDuration::from_secs(grace.unwrap_or(30).max(0) as u64 + 60);
        let until = until.min(sim.now() + crate::time::SimDuration::from_secs(3600));
        clock.run_until(sim, until, &mut |s| {
            waiting
                .iter()
                .all(|(k, n, name)| s.get_object(*k, n, name).is_none())
        });
    }
    out
}

/// The DELETE kubectl sends: `propagationPolicy`, `gracePeriodSeconds` and, for
/// `--dry-run=server`, `dryRun=All` (a missing object is still NotFound).
fn send_delete(
    sim: &mut Sim,
    kind: Kind,
    ns: &str,
    name: &str,
    propagation: PropagationPolicy,
    grace: Option<i64>,
    dry_run: bool,
) -> Result<(), crate::error::ApiError> {
    use crate::apiserver::call::{ApiCall, Verb, WriteOptions};
    let res = crate::api::resource::of(kind);
    sim.api(&ApiCall {
        verb: Verb::Delete,
        resource: res.plural.into(),
        group: res.group.into(),
        namespace: res.namespaced.then(|| ns.to_string()),
        name: Some(name.to_string()),
        subresource: None,
        patch_type: None,
        body: serde_json::Value::Null,
        options: WriteOptions {
            dry_run,
            propagation_policy: Some(propagation),
            grace_period_seconds: grace,
            ..WriteOptions::default()
        },
    })
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use crate::kubectl::{NoFiles, run};
    use crate::sim::{Sim, SimConfig};

    #[test]
    fn a_selector_or_all_picks_what_to_delete_as_kubectl_does() {
        let mut sim = Sim::new(SimConfig::default());
        for (name, app) in [("a", "web"), ("b", "web"), ("c", "db")] {
            let o = run(
                &mut sim,
                &format!("run {name} --image=nginx:1.27 --labels=app={app}"),
                &NoFiles,
            );
            assert_eq!(o.code, 0, "{}", o.stderr);
        }
        let o = run(&mut sim, "delete pod -l app=web --wait=false", &NoFiles);
        assert_eq!(
            o.stdout,
            "pod \"a\" deleted from default namespace\npod \"b\" deleted from default namespace\n"
        );
        let o = run(&mut sim, "delete pod -l app=nothing", &NoFiles);
        assert_eq!((o.code, o.stderr.as_str()), (0, "No resources found\n"));
        let o = run(&mut sim, "delete pod c -l app=db", &NoFiles);
        assert_eq!(
            o.stderr,
            "error: name cannot be provided when a selector is specified\n"
        );
        let o = run(&mut sim, "delete pod", &NoFiles);
        assert!(
            o.stderr
                .contains("no name, label selector, or --all flag specified")
        );
        // --all picks the Terminating ones too, as a real cluster lists them until they go.
        let o = run(&mut sim, "delete pods --all --wait=false", &NoFiles);
        assert!(
            o.stdout
                .ends_with("pod \"c\" deleted from default namespace\n"),
            "{}",
            o.stdout
        );
    }
}
