//! Tab completion of a console line, as kubectl's shell completion (`__complete`) answers it:
//! the commands first, then the resource types (names and short names) after a verb that
//! takes one, the objects' names of that type in the namespace after it (or after `TYPE/`),
//! the namespaces after `-n`, and a few flags after `-`.
//! And `kubectl edit`, which in kubesim's pages opens the object's YAML in the page's editor.

use crate::api::selector::Selector;
use crate::kubectl::args::{Args, parse_kind, split_words};
use crate::kubectl::list::list;
use crate::kubectl::{Output, print, unknown_kind};
use crate::sim::Sim;
use crate::store::Kind;

/// The commands the console runs (`config` and `edit` are the pages' own).
pub const VERBS: &[&str] = &[
    "annotate",
    "apply",
    "autoscale",
    "config",
    "cordon",
    "create",
    "delete",
    "describe",
    "diff",
    "drain",
    "edit",
    "exec",
    "expose",
    "get",
    "label",
    "logs",
    "patch",
    "replace",
    "rollout",
    "run",
    "scale",
    "set",
    "taint",
    "top",
    "uncordon",
];

/// The verbs whose next word is a resource type.
const TAKES_TYPE: &[&str] = &[
    "annotate",
    "autoscale",
    "delete",
    "describe",
    "edit",
    "expose",
    "get",
    "label",
    "patch",
    "scale",
];

/// Flags offered after `-` (the common ones of the verbs above).
const FLAGS: &[&str] = &[
    "--all-namespaces",
    "--dry-run=client",
    "--dry-run=server",
    "--namespace",
    "--output",
    "--selector",
    "--show-labels",
    "--watch",
    "--watch-only",
    "-A",
    "-l",
    "-n",
    "-o",
    "-w",
];

/// The words that complete the last word of `line` (the empty word after a space), in
/// order; `ns` is the namespace when the line names none. Each candidate is the whole word.
pub fn complete(sim: &Sim, line: &str, ns: &str) -> Vec<String> {
    let ends_in_space = line.is_empty() || line.ends_with(char::is_whitespace);
    let mut words = split_words(line).unwrap_or_default();
    if words.first().map(String::as_str) == Some("kubectl") {
        words.remove(0);
    }
    let partial = if ends_in_space {
        String::new()
    } else {
        words.pop().unwrap_or_default()
    };
    let starting = |c: &[String]| -> Vec<String> {
        let mut out: Vec<String> = c
            .iter()
            .filter(|w| w.starts_with(partial.as_str()))
            .cloned()
            .collect();
        out.sort();
        out.dedup();
        out
    };
    let Some(verb) = words.first().cloned() else {
        return starting(&VERBS.iter().map(|v| v.to_string()).collect::<Vec<_>>());
    };
    let args = Args::parse(&words[1..]);
    let ns = args.get(&["-n", "--namespace"]).unwrap_or(ns).to_string();
    // After a flag that takes a value.
    match words.last().map(String::as_str) {
        Some("-n" | "--namespace") => return starting(&names(sim, Kind::Namespace, &ns)),
        Some("-o" | "--output") => {
            return starting(&["json", "name", "wide", "yaml"].map(String::from));
        }
        _ => {}
    }
    if partial.starts_with('-') {
        return starting(&FLAGS.iter().map(|f| f.to_string()).collect::<Vec<_>>());
    }
    // The positional words after the verb.
    let mut positional = args.positional.clone();
    let types = |p: &str| -> Vec<String> {
        let mut out = Vec::new();
        for r in crate::api::resource::RESOURCES {
            out.push(r.plural.to_string());
            out.extend(r.short_names.iter().map(|s| s.to_string()));
        }
        out.retain(|w| w.starts_with(p));
        out
    };
    match verb.as_str() {
        "logs" | "exec" if positional.is_empty() => return starting(&names(sim, Kind::Pod, &ns)),
        "rollout" => {
            if positional.is_empty() {
                return starting(
                    &["history", "pause", "restart", "resume", "status", "undo"].map(String::from),
                );
            }
            positional.remove(0);
            if positional.is_empty() && !partial.contains('/') {
                // kubectl rollout takes deployments, daemonsets and statefulsets; kubesim
                // serves deployments.
                return starting(&["deployment".to_string(), "deploy".to_string()]);
            }
        }
        "set" if positional.is_empty() => return starting(&["image".to_string()]),
        "set" => {
            positional.remove(0);
        }
        "top" if positional.is_empty() => {
            return starting(&["node".to_string(), "pod".to_string()]);
        }
        "top" => return starting(&names(sim, kind_of(&positional[0]), &ns)),
        "cordon" | "uncordon" | "drain" | "taint" => {
            if verb == "taint" && positional.is_empty() && !partial.contains('/') {
                return starting(&["nodes".to_string()]);
            }
            return starting(&names(sim, Kind::Node, &ns));
        }
        v if TAKES_TYPE.contains(&v) || v == "rollout" || v == "set" => {}
        _ => return Vec::new(),
    }
    // TYPE/NAME in one word.
    if let Some((t, _)) = partial.split_once('/') {
        let Some(kind) = parse_kind(t) else {
            return Vec::new();
        };
        let full: Vec<String> = names(sim, kind, &ns)
            .into_iter()
            .map(|n| format!("{t}/{n}"))
            .collect();
        return starting(&full);
    }
    match positional.first() {
        None => starting(&types(&partial)),
        // `get pods,deploy` and `TYPE/NAME` words take no more names.
        Some(t) if t.contains('/') || t.contains(',') => Vec::new(),
        Some(t) => match parse_kind(t) {
            Some(kind) => starting(&names(sim, kind, &ns)),
            None => Vec::new(),
        },
    }
}

fn kind_of(word: &str) -> Kind {
    parse_kind(word).unwrap_or(Kind::Pod)
}

/// The names of `kind` in `ns` (every one for a cluster-scoped kind).
fn names(sim: &Sim, kind: Kind, ns: &str) -> Vec<String> {
    let scope = crate::api::resource::of(kind).namespaced.then_some(ns);
    list(sim, kind, scope, &Selector::everything())
        .iter()
        .map(|o| o.name().to_string())
        .collect()
}

/// What `kubectl edit TYPE/NAME` opens: the object as `get -o yaml` prints it, with what an
/// `apply` of it must not carry (resourceVersion, uid, managedFields, status, the
/// last-applied annotation) left out, under kubectl's comment header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// `deployment.apps/NAME`.
    pub target: String,
    /// The YAML to edit.
    pub yaml: String,
}

/// The object `kubectl edit` (split into words, `edit` first) names, ready for the editor;
/// kubectl's error when there is none.
pub fn edit(sim: &Sim, line: &str) -> Result<Edit, Output> {
    let words = split_words(line).map_err(|e| Output::err(format!("error: {e}")))?;
    let words: Vec<String> = words.into_iter().skip_while(|w| w == "kubectl").collect();
    let args = Args::parse(words.get(1..).unwrap_or_default());
    let ns = args.get(&["-n", "--namespace"]).unwrap_or("default");
    let (kind_word, name) = match (args.positional.first(), args.positional.get(1)) {
        (Some(w), _) if w.contains('/') => {
            let (k, n) = w.split_once('/').unwrap_or_default();
            (k.to_string(), n.to_string())
        }
        (Some(k), Some(n)) => (k.clone(), n.clone()),
        _ => {
            return Err(Output::err(
                "error: you must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'",
            ));
        }
    };
    let Some(kind) = parse_kind(&kind_word) else {
        return Err(unknown_kind(&kind_word));
    };
    let res = crate::api::resource::of(kind);
    let scope = if res.namespaced { ns } else { "" };
    let Some(obj) = sim.get_object(kind, scope, &name) else {
        return Err(Output::err(format!(
            "Error from server (NotFound): {} {name:?} not found",
            crate::apiserver::resource_of(kind)
        )));
    };
    let mut v = obj.to_value();
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    if let Some(m) = v.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        for f in [
            "resourceVersion",
            "uid",
            "managedFields",
            "creationTimestamp",
            "generation",
        ] {
            m.remove(f);
        }
        if let Some(a) = m.get_mut("annotations").and_then(|a| a.as_object_mut()) {
            a.remove("kubectl.kubernetes.io/last-applied-configuration");
            a.remove("deployment.kubernetes.io/revision");
            if a.is_empty() {
                m.remove("annotations");
            }
        }
    }
    Ok(Edit {
        target: format!("{}/{name}", res.kind_prefix()),
        yaml: format!(
            "# Please edit the object below. Applying it (kubectl apply) saves the edit.\n# Status and the fields the server sets are left out.\n#\n{}",
            print::to_yaml(&v)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubectl::{NoFiles, run};
    use crate::sim::SimConfig;

    fn check(sim: &Sim, line: &str, want: &[&str]) {
        assert_eq!(complete(sim, line, "default"), want, "completing {line:?}");
    }

    #[test]
    fn tab_completes_verbs_kinds_and_names_in_the_namespace() {
        let mut sim = Sim::new(SimConfig::default());
        for cmd in [
            "create deployment web --image=nginx:1.27",
            "create deployment worker --image=nginx:1.27",
            "create namespace team-b",
            "create deployment other --image=nginx:1.27 -n team-b",
        ] {
            assert_eq!(run(&mut sim, cmd, &NoFiles).code, 0, "{cmd}");
        }
        check(&sim, "ro", &["rollout"]);
        check(&sim, "kubectl de", &["delete", "describe"]);
        check(&sim, "get deploy", &["deploy", "deployments"]);
        check(&sim, "get po", &["po", "poddisruptionbudgets", "pods"]);
        check(&sim, "get deploy ", &["web", "worker"]);
        check(&sim, "describe deployments w", &["web", "worker"]);
        check(&sim, "get deploy wo", &["worker"]);
        check(&sim, "edit deploy/we", &["deploy/web"]);
        check(&sim, "get deploy -n team-b ", &["other"]);
        check(&sim, "get pods -n team", &["team-b"]);
        check(&sim, "rollout st", &["status"]);
        check(&sim, "rollout status ", &["deploy", "deployment"]);
        check(&sim, "rollout status deploy ", &["web", "worker"]);
        check(&sim, "get pods --wa", &["--watch", "--watch-only"]);
        check(&sim, "get frobs ", &[]);
        assert_eq!(complete(&sim, "get deploy ", "team-b"), ["other"]);
    }

    #[test]
    fn edit_opens_the_object_without_what_an_apply_must_not_carry() {
        let mut sim = Sim::new(SimConfig::default());
        run(
            &mut sim,
            "create deployment web --image=nginx:1.27",
            &NoFiles,
        );
        let e = edit(&sim, "edit deploy/web").unwrap();
        assert_eq!(e.target, "deployment.apps/web");
        assert!(e.yaml.starts_with("# Please edit the object below."));
        assert!(e.yaml.contains("name: web") && e.yaml.contains("image: nginx:1.27"));
        assert!(!e.yaml.contains("resourceVersion") && !e.yaml.contains("\nstatus:"));
        // Applying it, changed, is the edit.
        let changed = e.yaml.replace("nginx:1.27", "nginx:1.28");
        let o = crate::kubectl::apply_text(&mut sim, &changed, "edit", "default", false);
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert!(
            run(&mut sim, "get deploy web -o yaml", &NoFiles)
                .stdout
                .contains("nginx:1.28")
        );
        let o = edit(&sim, "edit deploy nope").unwrap_err();
        assert_eq!(
            o.stderr,
            "Error from server (NotFound): deployments.apps \"nope\" not found\n"
        );
        assert!(
            run(&mut sim, "edit deploy/web", &NoFiles)
                .stderr
                .contains("YAML editor")
        );
    }
}
