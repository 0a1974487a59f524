//! `kubectl autoscale deployment NAME --min=N --max=M --cpu-percent=P`: the autoscaling/v2
//! HorizontalPodAutoscaler kubectl 1.37 creates (`POST .../horizontalpodautoscalers` with
//! `fieldManager=kubectl-autoscale`), named after its target unless `--name` is given.

use serde_json::json;

use crate::apiserver::mutations::KubectlWrite;
use crate::kubectl::args::{Args, target};
use crate::kubectl::{Output, server_error};
use crate::sim::Sim;
use crate::store::Kind;

fn int_flag(args: &Args, flag: &str) -> Result<Option<i32>, Output> {
    match args.get(&[flag]) {
        None => Ok(None),
        Some(raw) => raw.parse::<i32>().map(Some).map_err(|_| {
            Output::err(format!(
                "error: invalid argument {raw:?} for \"{flag}\" flag: strconv.ParseInt: parsing {raw:?}: invalid syntax"
            ))
        }),
    }
}

pub(in crate::kubectl) fn autoscale(sim: &mut Sim, args: &Args, ns: &str) -> Output {
    let (kind, name) = match target(args) {
        Ok(t) => t,
        Err(o) => return o,
    };
    let (min, max, cpu) = match (
        int_flag(args, "--min"),
        int_flag(args, "--max"),
        int_flag(args, "--cpu-percent"),
    ) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        (Err(o), _, _) | (_, Err(o), _) | (_, _, Err(o)) => return o,
    };
    // autoscale.go Validate: --max is required and at least 1; --min at most --max.
    let max = max.unwrap_or(-1);
    if max < 1 {
        return Output::err(format!(
            "error: --max=MAXPODS is required and must be at least 1, max: {max}"
        ));
    }
    if let Some(min) = min
        && min > max
    {
        return Output::err(format!(
            "error: --max=MAXPODS must be larger or equal to --min=MINPODS, max: {max}, min: {min}"
        ));
    }
    if !matches!(kind, Kind::Deployment | Kind::ReplicaSet) {
        return Output::err(format!(
            "error: cannot autoscale a {}: not scalable",
            kind.as_str()
        ));
    }
    let hpa_name = args.get(&["--name"]).unwrap_or(&name).to_string();
    let mut spec = json!({
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind.as_str(), "name": name},
        "maxReplicas": max,
    });
    if let Some(min) = min.filter(|m| *m >= 0) {
        spec["minReplicas"] = json!(min);
    }
    if let Some(cpu) = cpu.filter(|c| *c >= 0) {
        spec["metrics"] = json!([{
            "type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": cpu}},
        }]);
    }
    let body = json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": hpa_name, "namespace": ns},
        "spec": spec,
    });
    // The target must exist (kubectl reads it first).
    if sim.get_object(kind, ns, &name).is_none() {
        return Output::err(format!(
            "Error from server (NotFound): {} {name:?} not found",
            crate::apiserver::resource_of(kind)
        ));
    }
    let write =
        KubectlWrite::create(Kind::HorizontalPodAutoscaler, ns, body).manager("kubectl-autoscale");
    match sim.kubectl_write(write) {
        Ok(_) => Output::ok(format!(
            "horizontalpodautoscaler.autoscaling/{hpa_name} autoscaled\n"
        )),
        Err(e) => Output::err(server_error(&e)),
    }
}
