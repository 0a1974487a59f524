//! `kubectl create quota NAME [--hard=RESOURCE=QUANTITY,...] [--scopes=SCOPE,...]`: the
//! ResourceQuota kubectl's `pkg/cmd/create/create_quota.go` builds (`populateResourceListV1`,
//! `parseScopes`), created as `kubectl create` creates it.

use serde_json::{Map, Value, json};

use super::create::finish;
use crate::api::quantity::parse_quantity;
use crate::kubectl::Output;
use crate::kubectl::args::Args;
use crate::sim::Sim;

/// `kubectl create quota` (also `resourcequota`).
pub(in crate::kubectl) fn quota(sim: &mut Sim, args: &Args, ns: &str) -> Output {
    let Some(name) = args.positional.get(1) else {
        return Output::err(
            "error: exactly one NAME is required, got 0\nSee 'kubectl create quota -h' for help and examples",
        );
    };
    let mut spec = Map::new();
    if let Some(hard) = args.get(&["--hard"]).filter(|h| !h.is_empty()) {
        let mut list = Map::new();
        for statement in hard.split(',') {
            let parts: Vec<&str> = statement.split('=').collect();
            let [resource, value] = parts.as_slice() else {
                return Output::err(format!(
                    "error: Invalid argument syntax {statement}, expected <resource>=<value>"
                ));
            };
            if let Err(e) = parse_quantity(value) {
                return Output::err(format!("error: {e}"));
            }
            list.insert((*resource).to_string(), json!(value));
        }
        spec.insert("hard".into(), Value::Object(list));
    }
    if let Some(scopes) = args.get(&["--scopes"]).filter(|s| !s.is_empty()) {
        let mut list = Vec::new();
        for scope in scopes.split(',') {
            if scope.is_empty() {
                return Output::err("error: invalid resource quota scope \"\"");
            }
            list.push(json!(scope));
        }
        spec.insert("scopes".into(), Value::Array(list));
    }
    let obj = json!({
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": name},
        "spec": spec,
        "status": {},
    });
    finish(sim, args, ns, &obj, "created")
}

#[cfg(test)]
mod tests {
    use crate::kubectl::{NoFiles, run};
    use crate::sim::{Sim, SimConfig};

    #[test]
    fn create_quota_builds_the_hard_list_and_refuses_bad_syntax() {
        let mut s = Sim::new(SimConfig::default());
        let out = run(
            &mut s,
            "create quota q --hard=pods=2,requests.cpu=1",
            &NoFiles,
        );
        assert_eq!(out.stdout, "resourcequota/q created\n", "{}", out.stderr);
        let yaml = run(&mut s, "get quota q -o yaml", &NoFiles).stdout;
        assert!(
            yaml.contains("  hard:\n    pods: \"2\"\n    requests.cpu: \"1\"\n"),
            "{yaml}"
        );
        assert!(
            yaml.contains("  used:\n    pods: \"0\"\n    requests.cpu: \"0\"\n"),
            "{yaml}"
        );
        let bad = run(&mut s, "create quota r --hard=pods", &NoFiles);
        assert_eq!(
            bad.stderr.trim(),
            "error: Invalid argument syntax pods, expected <resource>=<value>"
        );
    }
}
