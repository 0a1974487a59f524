//! `kubectl create job` and `kubectl create cronjob`: the Job and CronJob kubectl builds
//! (`pkg/cmd/create/create_job.go`, `create_cronjob.go`), created as `kubectl create` creates,
//! or printed with `--dry-run=client -o yaml`.

use serde_json::{Value, json};

use super::create::finish;
use crate::api::Object;
use crate::kubectl::Output;
use crate::kubectl::args::Args;
use crate::sim::Sim;
use crate::store::Kind;

fn name_of<'a>(args: &'a Args, what: &str) -> Result<&'a str, Output> {
    args.positional.get(1).map(String::as_str).ok_or_else(|| {
        Output::err(format!(
            "error: exactly one NAME is required, got 0\nSee 'kubectl create {what} -h' for help and examples"
        ))
    })
}

/// One container named after the object, with the image and the command after `--`.
fn container(name: &str, image: &str, command: &[String]) -> Value {
    let mut c = json!({"image": image, "name": name, "resources": {}});
    if !command.is_empty() {
        c["command"] = json!(command);
    }
    c
}

/// `kubectl create job NAME --image=IMAGE [-- COMMAND...]` (restartPolicy Never) or
/// `kubectl create job NAME --from=cronjob/NAME` (the CronJob's job template, annotated
/// `cronjob.kubernetes.io/instantiate: manual` and owned by the CronJob).
pub(in crate::kubectl) fn job(sim: &mut Sim, args: &Args, ns: &str) -> Output {
    let name = match name_of(args, "job") {
        Ok(n) => n,
        Err(o) => return o,
    };
    let image = args.get(&["--image"]);
    let from = args.get(&["--from"]);
    let obj = match (image, from) {
        (None, None) => return Output::err("error: either --image or --from must be specified"),
        (Some(_), Some(_)) => {
            return Output::err("error: --image and --from are mutually exclusive");
        }
        (Some(image), None) => json!({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": name},
            "spec": {
                "template": {
                    "metadata": {},
                    "spec": {
                        "containers": [container(name, image, &args.rest)],
                        "restartPolicy": "Never",
                    },
                },
            },
            "status": {},
        }),
        (None, Some(_)) if !args.rest.is_empty() => {
            return Output::err("error: cannot specify --from and command");
        }
        (None, Some(from)) => {
            let Some(("cronjob" | "cronjobs" | "cj" | "cronjob.batch" | "cronjobs.batch", cj_name)) =
                from.split_once('/')
            else {
                return Output::err(format!(
                    "error: unknown object type {}",
                    from.split('/').next().unwrap_or(from)
                ));
            };
            let Some(Object::CronJob(cj)) = sim.get_object(Kind::CronJob, ns, cj_name) else {
                return Output::err(format!(
                    "Error from server (NotFound): cronjobs.batch {cj_name:?} not found"
                ));
            };
            let spec = cj.spec.clone().unwrap_or_default();
            let tm = spec.job_template.metadata.clone().unwrap_or_default();
            let mut annotations = serde_json::Map::new();
            annotations.insert("cronjob.kubernetes.io/instantiate".into(), "manual".into());
            for (k, v) in tm.annotations.unwrap_or_default() {
                annotations.insert(k, v.into());
            }
            let mut meta = json!({
                "name": name,
                "annotations": annotations,
                // Not a NewControllerRef: kubectl leaves blockOwnerDeletion unset.
                "ownerReferences": [{
                    "apiVersion": "batch/v1",
                    "kind": "CronJob",
                    "name": cj_name,
                    "uid": cj.metadata.uid.clone().unwrap_or_default(),
                    "controller": true,
                }],
            });
            if let Some(labels) = tm.labels {
                meta["labels"] = json!(labels);
            }
            json!({
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": meta,
                "spec": serde_json::to_value(spec.job_template.spec.unwrap_or_default())
                    .unwrap_or(Value::Null),
                "status": {},
            })
        }
    };
    finish(sim, args, ns, &obj, "created")
}

/// `kubectl create cronjob NAME --image=IMAGE --schedule='CRON' [--restart=OnFailure|Never]
/// [-- COMMAND...]`.
pub(in crate::kubectl) fn cronjob(sim: &mut Sim, args: &Args, ns: &str) -> Output {
    let name = match name_of(args, "cronjob") {
        Ok(n) => n,
        Err(o) => return o,
    };
    let missing: Vec<&str> = [("image", "--image"), ("schedule", "--schedule")]
        .into_iter()
        .filter(|(_, f)| args.get(&[f]).is_none())
        .map(|(n, _)| n)
        .collect();
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(|m| format!("{m:?}")).collect();
        return Output::err(format!(
            "error: required flag(s) {} not set",
            list.join(", ")
        ));
    }
    let image = args.get(&["--image"]).unwrap_or("");
    let schedule = args.get(&["--schedule"]).unwrap_or("");
    let restart = args.get(&["--restart"]).unwrap_or("OnFailure");
    let obj = json!({
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name},
        "spec": {
            "jobTemplate": {
                "metadata": {"name": name},
                "spec": {
                    "template": {
                        "metadata": {},
                        "spec": {
                            "containers": [container(name, image, &args.rest)],
                            "restartPolicy": restart,
                        },
                    },
                },
            },
            "schedule": schedule,
        },
        "status": {},
    });
    finish(sim, args, ns, &obj, "created")
}

#[cfg(test)]
mod tests {
    use crate::kubectl::{NoFiles, run};
    use crate::sim::{Sim, SimConfig};
    use crate::time::SimDuration;

    fn out(s: &mut Sim, cmd: &str) -> (i32, String, String) {
        let o = run(s, cmd, &NoFiles);
        (o.code, o.stdout, o.stderr)
    }

    #[test]
    fn create_job_and_cronjob_build_what_kubectl_builds() {
        let mut s = Sim::new(SimConfig::default());
        s.advance(SimDuration::from_secs(1));
        let (code, yaml, _) = out(
            &mut s,
            "kubectl create job pi --image=perl --dry-run=client -o yaml -- perl -e 1",
        );
        assert_eq!(code, 0);
        assert_eq!(
            yaml,
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: pi\nspec:\n  template:\n    metadata: {}\n    spec:\n      containers:\n      - command:\n        - perl\n        - -e\n        - \"1\"\n        image: perl\n        name: pi\n        resources: {}\n      restartPolicy: Never\nstatus: {}\n"
        );
        assert_eq!(
            out(&mut s, "kubectl create job pi").2,
            "error: either --image or --from must be specified\n"
        );
        assert_eq!(
            out(&mut s, "kubectl create cronjob c --image=busybox").2,
            "error: required flag(s) \"schedule\" not set\n"
        );
        let (code, o, e) = out(
            &mut s,
            "kubectl create cronjob hello --image=busybox --schedule='*/5 * * * *'",
        );
        assert_eq!(
            (code, o.as_str()),
            (0, "cronjob.batch/hello created\n"),
            "{e}"
        );
        let (code, o, e) = out(&mut s, "kubectl create job once --from=cronjob/hello");
        assert_eq!((code, o.as_str()), (0, "job.batch/once created\n"), "{e}");
        let yaml = out(&mut s, "kubectl get job once -o yaml").1;
        assert!(
            yaml.contains("cronjob.kubernetes.io/instantiate: manual"),
            "{yaml}"
        );
        assert!(yaml.contains("restartPolicy: OnFailure"), "{yaml}");
        assert!(yaml.contains("kind: CronJob"), "{yaml}");
        assert_eq!(
            out(&mut s, "kubectl create job x --from=cronjob/nope").2,
            "Error from server (NotFound): cronjobs.batch \"nope\" not found\n"
        );
        let table = out(&mut s, "kubectl get jobs,cronjobs").1;
        assert!(table.contains("job.batch/once"), "{table}");
        assert!(table.contains("cronjob.batch/hello"), "{table}");
    }
}
