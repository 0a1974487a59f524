//! `kubectl patch`: the page's console sends the same typed call the real kubectl's PATCH
//! becomes (`Sim::api`), so a patch typed in the page and one sent by the real kubectl take
//! one code path.

use crate::api::resource;
use crate::apiserver::call::{ApiCall, Verb, WriteOptions};
use crate::apiserver::kind_prefix;
use crate::apiserver::patch::PatchType;
use crate::kubectl::args::{Args, target};
use crate::kubectl::{Output, server_error};
use crate::sim::Sim;

/// `--dry-run`'s value: `none` (absent), `server` or `client`; anything else is kubectl's
/// own error.
/// `--dry-run`: whether to send `dryRun=All`, and the words kubectl prints after what it did.
/// `client` is answered by a server dry run here too (nothing is written either way).
pub(in crate::kubectl) fn dry_run_words(args: &Args) -> Result<(bool, &'static str), Output> {
    Ok(match dry_run(args)? {
        None => (false, ""),
        Some("server") => (true, " (server dry run)"),
        Some(_) => (true, " (dry run)"),
    })
}

pub(in crate::kubectl) fn dry_run(args: &Args) -> Result<Option<&'static str>, Output> {
    match args.get(&["--dry-run"]) {
        None if args.has(&["--dry-run"]) => Ok(Some("client")),
        None | Some("none") => Ok(None),
        Some("server") => Ok(Some("server")),
        Some("client") => Ok(Some("client")),
        Some(other) => Err(Output::err(format!(
            "error: Invalid dry-run value ({other}). Must be \"none\", \"server\", or \"client\"."
        ))),
    }
}

pub(in crate::kubectl) fn patch(sim: &mut Sim, args: &Args, ns: &str) -> Output {
    let (kind, name) = match target(args) {
        Ok(t) => t,
        Err(o) => return o,
    };
    let Some(text) = args.get(&["-p", "--patch"]) else {
        return Output::err(
            "error: must specify --patch or --patch-file containing the contents of the patch",
        );
    };
    let patch_type = match args.get(&["--type"]).unwrap_or("strategic") {
        "strategic" => PatchType::Strategic,
        "merge" => PatchType::Merge,
        "json" => PatchType::Json,
        other => {
            return Output::err(format!(
                "error: --type must be one of [json merge strategic], not {other:?}"
            ));
        }
    };
    // kubectl reads the patch as YAML (JSON is YAML) and sends it as JSON.
    let body: serde_json::Value = match serde_yaml::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return Output::err(format!("error: unable to parse {text:?}: {e}"));
        }
    };
    let dry = match dry_run(args) {
        Ok(d) => d,
        Err(o) => return o,
    };
    let res = resource::of(kind);
    let call = ApiCall {
        verb: Verb::Patch,
        resource: res.plural.into(),
        group: res.group.into(),
        namespace: res.namespaced.then(|| ns.to_string()),
        name: Some(name.clone()),
        subresource: args.get(&["--subresource"]).map(str::to_string),
        patch_type: Some(patch_type),
        body,
        options: WriteOptions {
            dry_run: dry.is_some(),
            field_manager: Some("kubectl-patch".into()),
            ..WriteOptions::default()
        },
    };
    let before = sim.api_get(res, call.namespace.as_deref(), &name).ok();
    match sim.api(&call) {
        Ok(after) => {
            // The answer carries the managers; the stored object's own fields tell a change.
            let mut after = after;
            if let Some(m) = after.get_mut("metadata").and_then(|m| m.as_object_mut()) {
                m.remove("managedFields");
            }
            let unchanged = before.is_some_and(|b| b.to_value() == after);
            let suffix = match (dry, unchanged) {
                (Some("client"), _) => " (dry run)",
                (_, true) => " (no change)",
                _ => "",
            };
            Output::ok(format!(
                "{}/{name} patched{suffix}\n",
                kind_prefix(kind.as_str())
            ))
        }
        Err(e) => Output::err(server_error(&e)),
    }
}

#[cfg(test)]
mod tests {
    use crate::kubectl::{NoFiles, run};
    use crate::{Sim, SimConfig};

    fn sim() -> Sim {
        let mut sim = Sim::new(SimConfig::default());
        let out = run(
            &mut sim,
            "create deployment web --image=nginx:1 --replicas=2",
            &NoFiles,
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        sim
    }

    #[test]
    fn the_console_patches_through_the_api_server_with_its_errors() {
        let mut sim = sim();
        let o = run(
            &mut sim,
            r#"patch deploy web -p '{"spec":{"replicas":3}}'"#,
            &NoFiles,
        );
        assert_eq!(o.stdout, "deployment.apps/web patched\n", "{}", o.stderr);
        let o = run(
            &mut sim,
            r#"patch deploy web -p '{"spec":{"replicas":3}}'"#,
            &NoFiles,
        );
        assert_eq!(o.stdout, "deployment.apps/web patched (no change)\n");
        let o = run(
            &mut sim,
            r#"patch deploy web --type merge -p '{"spec":{"replicas":-1}}'"#,
            &NoFiles,
        );
        assert_eq!(
            o.stderr.trim(),
            "The Deployment \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"
        );
        let rv = sim.store.resource_version();
        let o = run(
            &mut sim,
            r#"patch deploy/web --dry-run=server -p '{"spec":{"replicas":9}}'"#,
            &NoFiles,
        );
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert_eq!(sim.store.resource_version(), rv, "a dry run wrote");
        let o = run(
            &mut sim,
            r#"patch deploy web --type json -p '[{"op":"replace","path":"/spec/replicas","value":1}]'"#,
            &NoFiles,
        );
        assert_eq!(o.code, 0, "{}", o.stderr);
        let v = sim
            .get_object(crate::store::Kind::Deployment, "default", "web")
            .unwrap()
            .to_value();
        assert_eq!(v["spec"]["replicas"], 1);
        let o = run(&mut sim, "patch deploy web --type yaml -p '{}'", &NoFiles);
        assert!(o.stderr.contains("--type must be one of"), "{}", o.stderr);
    }

    #[test]
    fn scale_and_delete_take_a_server_dry_run() {
        let mut sim = sim();
        let rv = sim.store.resource_version();
        let o = run(
            &mut sim,
            "scale deploy web --replicas=5 --dry-run=server",
            &NoFiles,
        );
        assert_eq!(
            o.stdout, "deployment.apps/web scaled (server dry run)\n",
            "{}",
            o.stderr
        );
        let o = run(&mut sim, "delete deploy web --dry-run=server", &NoFiles);
        assert_eq!(
            o.stdout, "deployment.apps \"web\" deleted from default namespace (server dry run)\n",
            "{}",
            o.stderr
        );
        assert_eq!(sim.store.resource_version(), rv, "a dry run wrote");
        assert!(
            sim.get_object(crate::store::Kind::Deployment, "default", "web")
                .is_some()
        );
    }

    #[test]
    fn every_console_write_takes_a_server_dry_run_and_sends_what_kubectl_sends() {
        let mut sim = sim();
        let o = run(&mut sim, "set image deploy/web nginx=nginx:2", &NoFiles);
        assert_eq!(
            o.stdout, "deployment.apps/web image updated\n",
            "{}",
            o.stderr
        );
        sim.run_until(sim.now() + crate::SimDuration::from_secs(60), |_| false);
        let rv = sim.store.resource_version();
        for (line, said) in [
            (
                "set image deploy/web nginx=nginx:3 --dry-run=server",
                "deployment.apps/web image updated (server dry run)\n",
            ),
            (
                "rollout undo deploy/web --dry-run=server",
                "deployment.apps/web rolled back (server dry run)\n",
            ),
            (
                "rollout pause deploy/web --dry-run=server",
                "deployment.apps/web paused (server dry run)\n",
            ),
            (
                "rollout restart deploy/web --dry-run=server",
                "deployment.apps/web restarted (server dry run)\n",
            ),
            (
                "scale deploy/web --replicas=4 --dry-run=client",
                "deployment.apps/web scaled (dry run)\n",
            ),
            (
                "label deploy/web tier=api --dry-run=server",
                "deployment.apps/web labeled (server dry run)\n",
            ),
            (
                "annotate deploy/web note=x --dry-run=client",
                "deployment.apps/web annotated (dry run)\n",
            ),
        ] {
            let o = run(&mut sim, line, &NoFiles);
            assert_eq!(o.stdout, said, "{line}: {}", o.stderr);
        }
        assert_eq!(sim.store.resource_version(), rv, "a dry run wrote");
        // The real thing goes through the API server: its validation answers.
        let o = run(&mut sim, "set image deploy/web nginx=", &NoFiles);
        assert_ne!(o.code, 0, "an empty image was accepted: {}", o.stdout);
        let o = run(&mut sim, "rollout undo deploy/web", &NoFiles);
        assert_eq!(
            o.stdout, "deployment.apps/web rolled back\n",
            "{}",
            o.stderr
        );
        let image = sim
            .get_object(crate::store::Kind::Deployment, "default", "web")
            .unwrap()
            .to_value()["spec"]["template"]["spec"]["containers"][0]["image"]
            .clone();
        assert_eq!(image, "nginx:1");
    }

    #[test]
    fn apply_create_and_replace_go_through_the_api_server_and_take_a_dry_run() {
        let mut sim = sim();
        struct Files(&'static str);
        impl crate::kubectl::FileSource for Files {
            fn read(&self, path: &str) -> Result<String, String> {
                match path {
                    "web.yaml" => Ok(self.0.to_string()),
                    _ => Err(format!("the path {path:?} does not exist")),
                }
            }
        }
        let files = Files(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 5\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: nginx, image: 'nginx:1'}]}\n",
        );
        let rv = sim.store.resource_version();
        for (line, said) in [
            (
                "apply -f web.yaml --dry-run=server",
                "deployment.apps/web configured (server dry run)\n",
            ),
            (
                "replace -f web.yaml --dry-run=client",
                "deployment.apps/web replaced (dry run)\n",
            ),
        ] {
            let o = run(&mut sim, line, &files);
            assert_eq!(o.stdout, said, "{line}: {}", o.stderr);
        }
        let o = run(&mut sim, "delete deploy web", &NoFiles);
        assert_eq!(o.code, 0, "{}", o.stderr);
        let rv_gone = sim.store.resource_version();
        let o = run(&mut sim, "create -f web.yaml --dry-run=server", &files);
        assert_eq!(
            o.stdout, "deployment.apps/web created (server dry run)\n",
            "{}",
            o.stderr
        );
        assert_eq!(sim.store.resource_version(), rv_gone, "a dry run wrote");
        assert!(rv_gone > rv);
        let o = run(&mut sim, "apply -f web.yaml", &files);
        assert_eq!(o.stdout, "deployment.apps/web created\n", "{}", o.stderr);
        let o = run(&mut sim, "apply -f web.yaml", &files);
        assert_eq!(o.stdout, "deployment.apps/web unchanged\n", "{}", o.stderr);
    }
}
