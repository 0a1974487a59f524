//! `kubectl scale`.

use crate::apiserver::{kind_prefix, resource_of};
use crate::kubectl::args::{Args, target};
use crate::kubectl::{Output, server_error};
use crate::sim::Sim;
use crate::store::Kind;

pub(in crate::kubectl) fn scale(sim: &mut Sim, args: &Args, ns: &str) -> Output {
    let (kind, name) = match target(args) {
        Ok(t) => t,
        Err(o) => return o,
    };
    // scale.go marks --replicas required (cobra: `required flag(s) "replicas" not set`); the
    // COUNT message is Validate's answer to a negative count. A value that is not a number
    // fails in flag parsing.
    let Some(raw) = args.get(&["--replicas"]) else {
        return Output::err("error: required flag(s) \"replicas\" not set");
    };
    let Ok(n) = raw.parse::<i32>() else {
        return Output::err(format!(
            "error: invalid argument {raw:?} for \"--replicas\" flag: strconv.ParseInt: parsing {raw:?}: invalid syntax"
        ));
    };
    if n < 0 {
        return Output::err(
            "error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0",
        );
    }
    let dry = match super::patch::dry_run(args) {
        Ok(d) => d,
        Err(o) => return o,
    };
    if let Some(mode) = dry {
        return scale_dry_run(sim, kind, ns, &name, n, mode);
    }
    let r = match kind {
        Kind::Deployment => sim.scale_deployment(ns, &name, n),
        Kind::ReplicaSet => sim.scale_replica_set(ns, &name, n),
        _ => return Output::err(format!("error: cannot scale {}", resource_of(kind))),
    };
    match r {
        Ok(()) => Output::ok(format!("{}/{name} scaled\n", kind_prefix(kind_name(kind)))),
        Err(e) => Output::err(server_error(&e)),
    }
}

/// `--dry-run=server`: the scale subresource's patch as the real kubectl sends it, with
/// `dryRun=All`; `--dry-run=client` changes nothing and asks nothing.
fn scale_dry_run(sim: &mut Sim, kind: Kind, ns: &str, name: &str, n: i32, mode: &str) -> Output {
    use crate::apiserver::call::{ApiCall, Verb, WriteOptions};
    let what = kind_prefix(kind_name(kind));
    if mode == "client" {
        return Output::ok(format!("{what}/{name} scaled (dry run)\n"));
    }
    let res = crate::api::resource::of(kind);
    let call = ApiCall {
        verb: Verb::Patch,
        resource: res.plural.into(),
        group: res.group.into(),
        namespace: Some(ns.to_string()),
        name: Some(name.to_string()),
        subresource: Some("scale".into()),
        patch_type: Some(crate::apiserver::patch::PatchType::Merge),
        body: serde_json::json!({"spec": {"replicas": n}}),
        options: WriteOptions {
            dry_run: true,
            ..WriteOptions::default()
        },
    };
    match sim.api(&call) {
        Ok(_) => Output::ok(format!("{what}/{name} scaled (server dry run)\n")),
        Err(e) => Output::err(server_error(&e)),
    }
}

fn kind_name(kind: Kind) -> &'static str {
    kind.as_str()
}
