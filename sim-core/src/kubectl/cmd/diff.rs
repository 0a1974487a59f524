//! `kubectl diff -f`: what applying the files would change, as the API server would merge
//! them. kubectl sends each object's apply as a dry run, then runs `diff -u -N` between the
//! live objects and the merged ones written as YAML (managed fields left out); the exit code
//! is 0 when nothing would change, 1 when something would, and more on an error.

use serde_json::Value;
use similar::TextDiff;

use crate::api::decode::parse_manifests_each;
use crate::api::resource;
use crate::apiserver::kind_of;
use crate::error::ApiError;
use crate::kubectl::args::Args;
use crate::kubectl::print::to_yaml;
use crate::kubectl::{FileSource, Output};
use crate::sim::Sim;

pub(in crate::kubectl) fn diff(
    sim: &mut Sim,
    args: &Args,
    ns: &str,
    files: &dyn FileSource,
) -> Output {
    // `CheckDiffErr`: every error's exit code is one more than elsewhere, so 1 stays "differs".
    let texts = match super::apply::read_files(args, files) {
        Ok(t) => t,
        Err(o) => return error(o.stderr),
    };
    let mut out = Output::default();
    let mut changed = false;
    for (path, text) in texts {
        let manifests = match parse_manifests_each(&text) {
            Ok(m) => m,
            Err(e) => return error(format!("error: error parsing {path}: {e}")),
        };
        for m in manifests {
            let obj = match m {
                Ok(m) => m.object,
                Err(e) => return error(format!("Error from server (BadRequest): {e}")),
            };
            match one(sim, obj, ns) {
                Ok(Some(text)) => {
                    changed = true;
                    out.stdout.push_str(&text);
                }
                Ok(None) => {}
                Err(e) => {
                    return error(format!("Error from server ({}): {e}", e.reason()));
                }
            }
        }
    }
    out.code = i32::from(changed);
    out
}

/// kubectl diff's exit code for an error.
fn error(stderr: String) -> Output {
    Output {
        stderr: format!("{}\n", stderr.trim_end()),
        code: 2,
        ..Output::default()
    }
}

/// The unified diff of one object, if applying it changes anything.
fn one(sim: &mut Sim, obj: crate::api::Object, ns: &str) -> Result<Option<String>, ApiError> {
    let kind = kind_of(&obj)
        .ok_or_else(|| ApiError::BadRequest(format!("no kind {:?} is served", obj.kind())))?;
    let res = resource::of(kind);
    let name = obj.name().to_string();
    let obj_ns = match (res.namespaced, obj.namespace()) {
        (false, _) => String::new(),
        (true, Some(n)) if !n.is_empty() => n.to_string(),
        (true, _) => ns.to_string(),
    };
    let live = sim.get_object(kind, &obj_ns, &name).map(|o| o.to_value());
    let (_, merged) = sim.apply_answered(obj, ns, true)?;
    let yaml = |v: &Option<Value>| v.as_ref().map(to_yaml).unwrap_or_default();
    let (before, after) = (yaml(&live), yaml(&Some(merged)));
    if before == after {
        return Ok(None);
    }
    // Named as kubectl names its files: group.version.Kind.namespace.name.
    let group = if res.group.is_empty() {
        String::new()
    } else {
        format!("{}.", res.group)
    };
    let file = if res.namespaced {
        format!(
            "{group}{}.{}.{obj_ns}.{name}",
            res.version,
            res.kind.as_str()
        )
    } else {
        format!("{group}{}.{}.{name}", res.version, res.kind.as_str())
    };
    let (a, b) = (format!("/tmp/LIVE/{file}"), format!("/tmp/MERGED/{file}"));
    let diff = TextDiff::from_lines(&before, &after);
    let mut text = format!("diff -u -N {a} {b}\n");
    text.push_str(
        &diff
            .unified_diff()
            .context_radius(3)
            .header(&a, &b)
            .to_string(),
    );
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use crate::kubectl::{FileSource, NoFiles, run};
    use crate::sim::{Sim, SimConfig};

    struct Files(String);
    impl FileSource for Files {
        fn read(&self, path: &str) -> Result<String, String> {
            match path {
                "web.yaml" => Ok(self.0.clone()),
                _ => Err(format!("the path {path:?} does not exist")),
            }
        }
    }

    fn web(replicas: u32, image: &str) -> Files {
        Files(format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec: {{containers: [{{name: web, image: '{image}'}}]}}\n"
        ))
    }

    #[test]
    fn diff_shows_the_servers_merge_exits_1_and_writes_nothing() {
        let mut sim = Sim::new(SimConfig::default());
        let o = run(&mut sim, "diff -f web.yaml", &web(2, "web:v1"));
        assert_eq!(o.code, 1, "a new object is a change: {}", o.stderr);
        assert!(o.stdout.starts_with("diff -u -N /tmp/LIVE/apps.v1.Deployment.default.web /tmp/MERGED/apps.v1.Deployment.default.web\n--- /tmp/LIVE/"), "{}", o.stdout);
        assert!(o.stdout.contains("\n+  replicas: 2\n"), "{}", o.stdout);
        assert!(
            sim.get_object(crate::store::Kind::Deployment, "default", "web")
                .is_none()
        );
        let o = run(&mut sim, "apply -f web.yaml", &web(2, "web:v1"));
        assert_eq!(o.code, 0, "{}", o.stderr);
        sim.run_until(sim.now() + crate::SimDuration::from_secs(30), |_| false);
        let o = run(&mut sim, "diff -f web.yaml", &web(2, "web:v1"));
        assert_eq!((o.code, o.stdout.as_str()), (0, ""), "{}", o.stderr);
        let rv = sim.store.resource_version();
        let o = run(&mut sim, "diff -f web.yaml", &web(3, "web:v2"));
        assert_eq!(o.code, 1, "{}", o.stderr);
        for line in [
            "-  replicas: 2",
            "+  replicas: 3",
            "-      - image: web:v1",
            "+      - image: web:v2",
            "-  generation: 1",
            "+  generation: 2",
        ] {
            assert!(
                o.stdout.contains(&format!("\n{line}\n")),
                "{line:?}:\n{}",
                o.stdout
            );
        }
        for noise in [
            "creationTimestamp",
            "resourceVersion",
            "uid:",
            "managedFields",
        ] {
            assert!(
                !o.stdout
                    .lines()
                    .any(|l| (l.starts_with('-') || l.starts_with('+')) && l.contains(noise)),
                "{noise}:\n{}",
                o.stdout
            );
        }
        assert_eq!(sim.store.resource_version(), rv, "kubectl diff wrote");
        let o = run(&mut sim, "diff -f nope.yaml", &NoFiles);
        assert_eq!(o.code, 2, "{}", o.stderr);
    }
}
