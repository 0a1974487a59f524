//! `kubectl label` and `kubectl annotate`: `TYPE NAME` (or `TYPE/NAME`, or `TYPE -l SELECTOR`)
//! then `KEY=VALUE` to set and `KEY-` to remove, refusing to change a value without
//! `--overwrite`, as kubectl does. The object is updated as `kubectl replace` updates it, so
//! a pod that leaves its ReplicaSet's selector is released and replaced.

use std::collections::BTreeMap;

use crate::api::Object;
use crate::api::selector::Selector;
use crate::apiserver::kind_prefix;
use crate::apiserver::mutations::KubectlWrite;
use crate::apiserver::patch::PatchType;
use crate::error::ApiError;
use crate::kubectl::args::{Args, parse_kind};
use crate::kubectl::list::list;
use crate::kubectl::{Output, unknown_kind};
use crate::sim::Sim;

/// `kubectl label` (`annotate` false) or `kubectl annotate` (true).
pub(in crate::kubectl) fn label(sim: &mut Sim, args: &Args, ns: &str, annotate: bool) -> Output {
    let verb = if annotate { "annotate" } else { "label" };
    let p = &args.positional;
    let (kind_word, name, changes) = match p.first().map(|w| w.split_once('/')) {
        Some(Some((k, n))) => (k.to_string(), Some(n.to_string()), &p[1..]),
        Some(None) if args.has(&["-l", "--selector", "--all"]) => (p[0].clone(), None, &p[1..]),
        Some(None) if p.len() >= 2 => (p[0].clone(), Some(p[1].clone()), &p[2..]),
        _ => {
            return Output::err(format!(
                "error: one or more resources must be specified as <resource> <name> or <resource>/<name>\nSee 'kubectl {verb} -h' for help and examples"
            ));
        }
    };
    let Some(kind) = parse_kind(&kind_word) else {
        return unknown_kind(&kind_word);
    };
    let mut set: Vec<(String, String)> = Vec::new();
    let mut remove: Vec<String> = Vec::new();
    for c in changes {
        if let Some((k, v)) = c.split_once('=') {
            if k.is_empty() {
                return Output::err(format!("error: invalid {verb} spec: {c}"));
            }
            set.push((k.to_string(), v.to_string()));
        } else if let Some(k) = c.strip_suffix('-').filter(|k| !k.is_empty()) {
            remove.push(k.to_string());
        } else {
            return Output::err(format!("error: invalid {verb} spec: {c}"));
        }
    }
    if set.is_empty() && remove.is_empty() {
        return Output::err(format!("error: at least one {verb} update is required"));
    }
    // `--dry-run=server` sends the patch with `dryRun=All`; `client` is answered the same
    // way here (nothing is written either way), with kubectl's client suffix.
    let (dry, suffix) = match super::patch::dry_run_words(args) {
        Ok(d) => d,
        Err(o) => return o,
    };
    let objects: Vec<Object> = match name {
        Some(n) => match sim.get_object(kind, ns, &n) {
            Some(o) => vec![o],
            None => {
                let e = ApiError::not_found(crate::apiserver::resource_of(kind), &n);
                return Output::err(format!("Error from server (NotFound): {e}"));
            }
        },
        None => {
            let selector = match args.get(&["-l", "--selector"]).map(Selector::parse) {
                None => Selector::everything(),
                Some(Ok(s)) => s,
                Some(Err(e)) => return Output::err(format!("error: {e}")),
            };
            let scope = kind_scope(kind, ns);
            list(sim, kind, scope, &selector)
        }
    };
    let overwrite = args.has(&["--overwrite"]);
    let mut out = Output::default();
    for mut obj in objects {
        let prefix = kind_prefix(obj.kind());
        let name = obj.name().to_string();
        let meta = obj.metadata_mut();
        let map: &mut BTreeMap<String, String> = if annotate {
            meta.annotations.get_or_insert_with(BTreeMap::new)
        } else {
            meta.labels.get_or_insert_with(BTreeMap::new)
        };
        let before = map.clone();
        for (k, v) in &set {
            match map.get(k) {
                Some(old) if old != v && !overwrite => {
                    out.push(Output::err(format!(
                        "error: '{k}' already has a value ({old}), and --overwrite is false"
                    )));
                    return out;
                }
                _ => {
                    map.insert(k.clone(), v.clone());
                }
            }
        }
        for k in &remove {
            map.remove(k);
        }
        let changed = *map != before;
        let word = match (annotate, changed, set.is_empty()) {
            (true, _, _) => "annotated",
            (false, false, _) => "not labeled",
            (false, true, true) => "unlabeled",
            (false, true, false) => "labeled",
        };
        // label.go / annotate.go send a JSON merge patch of the map's change.
        let patch: serde_json::Map<String, serde_json::Value> = map
            .iter()
            .filter(|(k, v)| before.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone().into()))
            .chain(
                before
                    .keys()
                    .filter(|k| !map.contains_key(*k))
                    .map(|k| (k.clone(), serde_json::Value::Null)),
            )
            .collect();
        let field = if annotate { "annotations" } else { "labels" };
        let send = |sim: &mut Sim| {
            let kind = kind_of_obj(&obj)?;
            let body = serde_json::json!({"metadata": {field: patch}});
            let ns = obj.namespace().unwrap_or("");
            sim.kubectl_write(KubectlWrite::patch(kind, ns, &name, PatchType::Merge, body).dry(dry))
                .map(|_| ())
        };
        if changed && let Err(e) = send(sim) {
            out.push(match e {
                ApiError::Invalid(i) => Output::err(i.to_string()),
                e => Output::err(format!("Error from server ({}): {e}", e.reason())),
            });
            continue;
        }
        out.push(Output::ok(format!("{prefix}/{name} {word}{suffix}\n")));
    }
    out
}

/// The kind of a listed object.
fn kind_of_obj(obj: &crate::api::Object) -> Result<crate::store::Kind, ApiError> {
    crate::apiserver::kind_of(obj)
        .ok_or_else(|| ApiError::BadRequest(format!("no kind {:?} is served", obj.kind())))
}

/// Namespaced kinds are listed in `ns`; cluster-scoped ones everywhere.
fn kind_scope(kind: crate::store::Kind, ns: &str) -> Option<&str> {
    crate::api::resource::of(kind).namespaced.then_some(ns)
}

#[cfg(test)]
mod tests {
    use crate::kubectl::{NoFiles, run};
    use crate::sim::{Sim, SimConfig};
    use crate::store::Kind;
    use crate::time::SimDuration;

    #[test]
    fn labels_set_overwrite_and_remove_as_kubectl_says() {
        let mut s = Sim::new(SimConfig::default());
        s.advance(SimDuration::from_secs(1));
        let mut k = |cmd: &str| run(&mut s, cmd, &NoFiles);
        assert_eq!(k("run hello --image=nginx").code, 0);
        assert_eq!(k("label pod hello tier=web").stdout, "pod/hello labeled\n");
        assert_eq!(
            k("label pod/hello tier=db").stderr.trim(),
            "error: 'tier' already has a value (web), and --overwrite is false"
        );
        assert_eq!(
            k("label pod hello tier=db --overwrite").stdout,
            "pod/hello labeled\n"
        );
        assert_eq!(
            k("label pod hello tier=db").stdout,
            "pod/hello not labeled\n"
        );
        assert_eq!(k("label pod hello tier-").stdout, "pod/hello unlabeled\n");
        assert_eq!(
            k("annotate pod hello owner=ml").stdout,
            "pod/hello annotated\n"
        );
        assert_eq!(
            k("label pods -l run=hello team=a").stdout,
            "pod/hello labeled\n"
        );
        assert!(
            k("label pod nope x=y")
                .stderr
                .contains("pods \"nope\" not found")
        );
        let pod = s
            .get_object(Kind::Pod, "default", "hello")
            .unwrap()
            .to_value();
        assert_eq!(pod["metadata"]["labels"]["team"], "a");
        assert!(pod["metadata"]["labels"].get("tier").is_none());
        assert_eq!(pod["metadata"]["annotations"]["owner"], "ml");
    }
}
