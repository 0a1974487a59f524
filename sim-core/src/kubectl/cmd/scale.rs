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
    if !matches!(kind, Kind::Deployment | Kind::ReplicaSet) {
        return Output::err(format!("error: cannot scale {}", resource_of(kind)));
    }
    let what = kind_prefix(kind_name(kind));
    // `--dry-run=client` changes nothing and asks nothing; `server` sends the same patch
    // with `dryRun=All`.
    if dry == Some("client") {
        return Output::ok(format!("{what}/{name} scaled (dry run)\n"));
    }
    match sim.scale(kind, ns, &name, n, dry.is_some()) {
        Ok(()) => Output::ok(format!(
            "{what}/{name} scaled{}\n",
            if dry.is_some() {
                " (server dry run)"
            } else {
                ""
            }
        )),
        Err(e) => Output::err(server_error(&e)),
    }
}

fn kind_name(kind: Kind) -> &'static str {
    kind.as_str()
}
