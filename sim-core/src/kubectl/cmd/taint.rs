//! `kubectl taint node NAME... KEY[=VALUE]:EFFECT... [KEY[:EFFECT]-]... [--overwrite] [--all]`:
//! a port of kubectl's `cmd/taint` (`parseTaints`, `reorganizeTaints`, its messages). kubectl
//! computes the new taint list on the client and sends it as a strategic merge patch of
//! `spec.taints` (an atomic list, so the whole list), which `Sim::api` runs as the real
//! kubectl's PATCH is run.

use k8s_openapi::api::core::v1::Taint;

use crate::api::Object;
use crate::api::validation::{is_qualified_name, is_valid_label_value};
use crate::apiserver::mutations::KubectlWrite;
use crate::apiserver::patch::PatchType;
use crate::kubectl::args::Args;
use crate::kubectl::{Output, server_error};
use crate::sim::Sim;
use crate::store::Kind;

const USAGE: &str = "\nSee 'kubectl taint -h' for help and examples";

/// `parseTaint`: `KEY=VALUE:EFFECT`, `KEY:EFFECT` or `KEY`.
fn parse_taint(spec: &str) -> Result<Taint, String> {
    let invalid = || format!("invalid taint spec: {spec}");
    let parts: Vec<&str> = spec.split(':').collect();
    let (key, value, effect) = match parts.as_slice() {
        [key] => (*key, "", ""),
        [kv, effect] => {
            if !matches!(*effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
                return Err(format!(
                    "invalid taint effect: {effect}, unsupported taint effect"
                ));
            }
            let kv: Vec<&str> = kv.split('=').collect();
            match kv.as_slice() {
                [k] => (*k, "", *effect),
                [k, v] => {
                    let errs = is_valid_label_value(v);
                    if !errs.is_empty() {
                        return Err(format!("{}, {}", invalid(), errs.join("; ")));
                    }
                    (*k, *v, *effect)
                }
                _ => return Err(invalid()),
            }
        }
        _ => return Err(invalid()),
    };
    let errs = is_qualified_name(key);
    if !errs.is_empty() {
        return Err(format!("{}, {}", invalid(), errs.join("; ")));
    }
    Ok(Taint {
        key: key.into(),
        value: (!value.is_empty()).then(|| value.into()),
        effect: effect.into(),
        time_added: None,
    })
}

/// `Taint.ToString`: `key=value:effect`, `key:effect`, `key=value:` or `key`.
fn taint_string(t: &Taint) -> String {
    match (t.value.as_deref().unwrap_or(""), t.effect.as_str()) {
        ("", "") => t.key.clone(),
        ("", e) => format!("{}:{e}", t.key),
        (v, e) => format!("{}={v}:{e}", t.key),
    }
}

/// `parseTaints`: the taints to add and to remove.
fn parse_taints(specs: &[&str]) -> Result<(Vec<Taint>, Vec<Taint>), String> {
    let (mut add, mut remove) = (Vec::new(), Vec::<Taint>::new());
    for spec in specs {
        if let Some(s) = spec.strip_suffix('-') {
            let t = parse_taint(s)?;
            remove.push(Taint { value: None, ..t });
        } else {
            let t = parse_taint(spec)?;
            if t.effect.is_empty() {
                return Err(format!("invalid taint spec: {spec}"));
            }
            if add
                .iter()
                .any(|a: &Taint| a.key == t.key && a.effect == t.effect)
            {
                // Go's %v of the struct: {Key Value Effect TimeAdded}.
                return Err(format!(
                    "duplicated taints with the same key and effect: {{{} {} {} <nil>}}",
                    t.key,
                    t.value.as_deref().unwrap_or(""),
                    t.effect
                ));
            }
            add.push(t);
        }
    }
    Ok((add, remove))
}

/// `reorganizeTaints`: the new list (added first, then the old ones not replaced, less the
/// removed ones), the word kubectl prints, and the removals that found nothing.
fn reorganize(
    old: &[Taint],
    overwrite: bool,
    add: &[Taint],
    remove: &[Taint],
) -> (&'static str, Vec<Taint>, Vec<String>) {
    let mut new: Vec<Taint> = add.to_vec();
    for o in old {
        if !new.iter().any(|t| t.key == o.key && t.effect == o.effect) {
            new.push(o.clone());
        }
    }
    let added = old.len() != new.len();
    let mut errors = Vec::new();
    let mut deleted = false;
    for r in remove {
        let before = new.len();
        new.retain(|t| !(t.key == r.key && (r.effect.is_empty() || t.effect == r.effect)));
        deleted = new.len() != before;
        if !deleted {
            errors.push(format!("taint {:?} not found", taint_string(r)));
        }
    }
    let word = if (added && deleted) || overwrite {
        "modified"
    } else if added {
        "tainted"
    } else {
        "untainted"
    };
    (word, new, errors)
}

pub(in crate::kubectl) fn taint(sim: &mut Sim, args: &Args) -> Output {
    // Resources first, then taint changes (`Complete`).
    let mut resources: Vec<&str> = Vec::new();
    let mut specs: Vec<&str> = Vec::new();
    for s in &args.positional {
        let is_taint = s.contains('=') || s.contains(':') || s.ends_with('-');
        if is_taint {
            specs.push(s);
        } else if !specs.is_empty() {
            return Output::err(format!(
                "error: all resources must be specified before taint changes: {s}"
            ));
        } else {
            resources.push(s);
        }
    }
    let Some(kind) = resources.first() else {
        return Output::err("error: one or more resources must be specified as <resource> <name>");
    };
    if specs.is_empty() {
        return Output::err("error: at least one taint update is required");
    }
    let (add, remove) = match parse_taints(&specs) {
        Ok(x) => x,
        Err(e) => return Output::err(format!("error: {e}{USAGE}")),
    };
    match crate::kubectl::args::parse_kind(kind) {
        Some(Kind::Node) => {}
        Some(_) => {
            return Output::err(format!(
                "error: invalid resource type {}, only node types are supported",
                kind.to_lowercase()
            ));
        }
        None => return crate::kubectl::unknown_kind(kind),
    }
    let mut conflicts = Vec::new();
    for a in &add {
        for r in remove.iter().filter(|r| r.key == a.key) {
            if r.effect.is_empty() || r.effect == a.effect {
                conflicts.push(format!("{}={}", r.key, r.effect));
            }
        }
    }
    if !conflicts.is_empty() {
        return Output::err(format!(
            "error: can not both modify and remove the following taint(s) in the same command: {}",
            conflicts.join(", ")
        ));
    }
    let all = args.has(&["--all"]);
    let names: Vec<String> = if all {
        sim.store
            .nodes
            .iter()
            .map(|(_, n)| n.name.to_string())
            .collect()
    } else if resources.len() < 2 {
        return Output::err(
            "error: at least one resource name must be specified since 'all' parameter is not set",
        );
    } else {
        resources[1..].iter().map(|s| s.to_string()).collect()
    };
    let overwrite = args.has(&["--overwrite"]) && args.get(&["--overwrite"]) != Some("false");
    let (dry, suffix) = match super::patch::dry_run_words(args) {
        Ok(d) => d,
        Err(o) => return o,
    };
    let mut out = String::new();
    let mut errs = Vec::new();
    for name in names {
        let Some(Object::Node(n)) = sim.get_object(Kind::Node, "", &name) else {
            errs.push(format!(
                "Error from server (NotFound): nodes {name:?} not found"
            ));
            continue;
        };
        let old = n
            .spec
            .as_ref()
            .and_then(|s| s.taints.clone())
            .unwrap_or_default();
        if !overwrite {
            let exists: Vec<&str> = add
                .iter()
                .filter(|a| old.iter().any(|o| o.key == a.key && o.effect == a.effect))
                .map(|a| a.key.as_str())
                .collect();
            if !exists.is_empty() {
                errs.push(format!(
                    "error: node {name} already has {} taint(s) with same effect(s) and --overwrite is false",
                    exists.join(",")
                ));
                continue;
            }
        }
        let (word, new, missing) = reorganize(&old, overwrite, &add, &remove);
        if !missing.is_empty() {
            // kubectl's CheckErr: one error with its `error: `, an aggregate one per line.
            errs.push(if missing.len() == 1 {
                format!("error: {}", missing[0])
            } else {
                missing.join("\n")
            });
            continue;
        }
        let taints = serde_json::to_value(&new).unwrap_or(serde_json::Value::Null);
        let body = if new.is_empty() {
            serde_json::json!({"spec": {"taints": null}})
        } else {
            serde_json::json!({"spec": {"taints": taints}})
        };
        let write = KubectlWrite::patch(Kind::Node, "", &name, PatchType::Strategic, body).dry(dry);
        match sim.kubectl_write(write) {
            Ok(_) => out.push_str(&format!("node/{name} {word}{suffix}\n")),
            Err(e) => errs.push(server_error(&e)),
        }
    }
    if errs.is_empty() {
        Output::ok(out)
    } else {
        let mut o = Output::err(errs.join("\n"));
        o.stdout = out;
        o
    }
}

#[cfg(test)]
mod tests {
    //! Cases of kubectl's `TestTaint` and `TestParseTaints`.

    use super::*;
    use crate::kubectl::{NoFiles, run};
    use crate::sim::SimConfig;
    use crate::time::SimDuration;

    #[test]
    fn parses_taint_specs_as_kubectl_does() {
        let t = parse_taint("dedicated=gpu:NoSchedule").unwrap();
        assert_eq!(taint_string(&t), "dedicated=gpu:NoSchedule");
        assert_eq!(
            taint_string(&parse_taint("a:NoExecute").unwrap()),
            "a:NoExecute"
        );
        assert_eq!(
            parse_taint("a=b:Never").unwrap_err(),
            "invalid taint effect: Never, unsupported taint effect"
        );
        assert_eq!(
            parse_taint("a=b=c:NoSchedule").unwrap_err(),
            "invalid taint spec: a=b=c:NoSchedule"
        );
        assert_eq!(
            parse_taint("a:b:c").unwrap_err(),
            "invalid taint spec: a:b:c"
        );
        assert_eq!(
            parse_taints(&["a=b:"]).unwrap_err(),
            "invalid taint effect: , unsupported taint effect"
        );
        assert_eq!(parse_taints(&["a"]).unwrap_err(), "invalid taint spec: a");
        assert_eq!(
            parse_taints(&["a=b:NoSchedule", "a=c:NoSchedule"]).unwrap_err(),
            "duplicated taints with the same key and effect: {a c NoSchedule <nil>}"
        );
    }

    #[test]
    fn taint_overwrite_and_remove_print_kubectls_words() {
        let mut s = Sim::new(SimConfig::default());
        s.advance(SimDuration::from_secs(1));
        let mut k = |cmd: &str| run(&mut s, cmd, &NoFiles);
        assert_eq!(
            k("taint node node-1 dedicated=gpu:NoSchedule").stdout,
            "node/node-1 tainted\n"
        );
        assert_eq!(
            k("taint nodes node-1 dedicated=cpu:NoSchedule")
                .stderr
                .trim(),
            "error: node node-1 already has dedicated taint(s) with same effect(s) and --overwrite is false"
        );
        assert_eq!(
            k("taint node node-1 dedicated=cpu:NoSchedule --overwrite").stdout,
            "node/node-1 modified\n"
        );
        assert_eq!(
            k("taint no node-1 soft:PreferNoSchedule").stdout,
            "node/node-1 tainted\n"
        );
        assert_eq!(
            k("taint node node-1 dedicated:NoSchedule-").stdout,
            "node/node-1 untainted\n"
        );
        assert_eq!(
            k("taint node node-1 dedicated:NoSchedule-").stderr.trim(),
            "error: taint \"dedicated:NoSchedule\" not found"
        );
        assert_eq!(
            k("taint node node-1 x=y:NoSchedule x-").stderr.trim(),
            "error: can not both modify and remove the following taint(s) in the same command: x="
        );
        assert_eq!(
            k("taint pod hello a:NoSchedule").stderr.trim(),
            "error: invalid resource type pod, only node types are supported"
        );
        assert_eq!(
            k("taint node node-1 a:NoSchedule- b:NoSchedule-")
                .stderr
                .trim(),
            "taint \"a:NoSchedule\" not found\ntaint \"b:NoSchedule\" not found"
        );
        assert!(
            k("taint node node-1 a=b")
                .stderr
                .starts_with("error: invalid taint spec: a=b, name part must consist of")
        );
        let node = s.get_object(Kind::Node, "", "node-1").unwrap().to_value();
        assert_eq!(
            node["spec"]["taints"],
            serde_json::json!([{"key": "soft", "effect": "PreferNoSchedule"}])
        );
        let mut k = |cmd: &str| run(&mut s, cmd, &NoFiles);
        assert_eq!(
            k("taint node node-1 soft-").stdout,
            "node/node-1 untainted\n"
        );
        let node = s.get_object(Kind::Node, "", "node-1").unwrap().to_value();
        assert!(node["spec"].get("taints").is_none(), "{node}");
    }
}
