//! Services: `ValidateService`, and the node-port allocator's range check.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{validate_port_num_or_name, validate_protocol};
use crate::api::validation::Errs;
use crate::api::validation::go_fmt::{go_quote, json_str};
use crate::api::validation::meta::{NameRule, validate_labels, validate_object_meta};
use crate::api::validation::names::{
    is_dns1123_label, is_dns1123_subdomain, is_qualified_name, is_valid_port_num,
};

pub(in crate::api::validation) fn validate_service(s: &Service, e: &mut Errs) {
    validate_object_meta(&s.metadata, true, NameRule::Dns1035, e);
    validate_service_body(s, e);
    if e.0.is_empty() {
        validate_node_port_range(s, e);
    }
}

/// `ValidateService` after ObjectMeta.
pub(in crate::api::validation) fn validate_service_body(s: &Service, e: &mut Errs) {
    let spec = s.spec.clone().unwrap_or_default();
    let ports = spec.ports.as_deref().unwrap_or(&[]);
    let t = spec.type_.as_deref().unwrap_or("");
    let headless = spec.cluster_ip.as_deref() == Some("None");
    if ports.is_empty() && !headless && t != "ExternalName" {
        e.required("spec.ports", "");
    }
    if t == "ExternalName" {
        let cname = spec.external_name.as_deref().unwrap_or("");
        let cname = cname.strip_suffix('.').unwrap_or(cname);
        if cname.is_empty() {
            e.required("spec.externalName", "");
        } else {
            for m in is_dns1123_subdomain(cname) {
                e.invalid_str("spec.externalName", cname, &m);
            }
        }
    }
    let mut names = BTreeSet::new();
    for (i, sp) in ports.iter().enumerate() {
        let p = format!("spec.ports[{i}]");
        let name = sp.name.as_deref().unwrap_or("");
        if ports.len() > 1 && name.is_empty() {
            e.required(&format!("{p}.name"), "");
        } else if !name.is_empty() {
            for m in is_dns1123_label(name) {
                e.invalid_str(&format!("{p}.name"), name, &m);
            }
            if !names.insert(name) {
                e.duplicate(&format!("{p}.name"), go_quote(name));
            }
        }
        for m in is_valid_port_num(i64::from(sp.port)) {
            e.invalid(&format!("{p}.port"), sp.port.to_string(), &m);
        }
        validate_protocol(sp.protocol.as_deref(), &format!("{p}.protocol"), e);
        let target = sp.target_port.clone().unwrap_or(IntOrString::Int(0));
        validate_port_num_or_name(&target, &format!("{p}.targetPort"), e);
        if let Some(ap) = &sp.app_protocol {
            for m in is_qualified_name(ap) {
                e.invalid_str(&format!("{p}.appProtocol"), ap, &m);
            }
        }
    }
    validate_labels(spec.selector.as_ref(), "spec.selector", e);
    match spec.session_affinity.as_deref().unwrap_or("") {
        "" => e.required("spec.sessionAffinity", ""),
        "ClientIP" | "None" => {}
        other => e.not_supported(
            "spec.sessionAffinity",
            go_quote(other),
            &["ClientIP", "None"],
        ),
    }
    match t {
        "" => e.required("spec.type", ""),
        "ClusterIP" | "NodePort" | "LoadBalancer" | "ExternalName" => {}
        other => e.not_supported(
            "spec.type",
            go_quote(other),
            &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"],
        ),
    }
    if t == "ClusterIP" {
        for (i, sp) in ports.iter().enumerate() {
            if sp.node_port.unwrap_or(0) != 0 {
                e.forbidden(
                    &format!("spec.ports[{i}].nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                );
            }
        }
    }
    let mut node_ports = BTreeSet::new();
    for (i, sp) in ports.iter().enumerate() {
        let np = sp.node_port.unwrap_or(0);
        if np != 0 && !node_ports.insert((sp.protocol.clone().unwrap_or_default(), np)) {
            e.duplicate(&format!("spec.ports[{i}].nodePort"), np.to_string());
        }
    }
    let mut seen = BTreeSet::new();
    for (i, sp) in ports.iter().enumerate() {
        let proto = sp.protocol.clone().unwrap_or_default();
        if !seen.insert((proto.clone(), sp.port)) {
            e.duplicate(
                &format!("spec.ports[{i}]"),
                format!(
                    "{{\"Name\":\"\",\"Protocol\":{},\"AppProtocol\":null,\"Port\":{},\"TargetPort\":0,\"NodePort\":0}}",
                    json_str(&proto),
                    sp.port
                ),
            );
        }
    }
    let externally_accessible = t == "LoadBalancer"
        || t == "NodePort"
        || (t == "ClusterIP" && spec.external_ips.as_ref().is_some_and(|v| !v.is_empty()));
    let etp = spec.external_traffic_policy.as_deref().unwrap_or("");
    if !externally_accessible {
        if !etp.is_empty() {
            e.invalid_str(
                "spec.externalTrafficPolicy",
                etp,
                "may only be set for externally-accessible services",
            );
        }
    } else if etp.is_empty() {
        e.required("spec.externalTrafficPolicy", "");
    } else if etp != "Cluster" && etp != "Local" {
        e.not_supported(
            "spec.externalTrafficPolicy",
            go_quote(etp),
            &["Cluster", "Local"],
        );
    }
    match spec.internal_traffic_policy.as_deref() {
        None if matches!(t, "NodePort" | "LoadBalancer" | "ClusterIP") => {
            e.required("spec.internalTrafficPolicy", "");
        }
        Some(itp) if itp != "Cluster" && itp != "Local" => {
            e.not_supported(
                "spec.internalTrafficPolicy",
                go_quote(itp),
                &["Cluster", "Local"],
            );
        }
        _ => {}
    }
}

/// The node-port allocator's range check, which runs in the registry after validation passed
/// and reports through its own Invalid error.
pub(in crate::api::validation) fn validate_node_port_range(s: &Service, e: &mut Errs) {
    let ports = s
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_deref())
        .unwrap_or(&[]);
    for (i, sp) in ports.iter().enumerate() {
        let np = sp.node_port.unwrap_or(0);
        if np != 0 && !(30000..=32767).contains(&np) {
            e.invalid(
                &format!("spec.ports[{i}].nodePort"),
                np.to_string(),
                "provided port is not in the valid range. The range of valid ports is 30000-32767",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    //! Cases of `TestValidateService` (`pkg/apis/core/validation/validation_test.go`).

    use crate::api::validation::tests::check;

    #[test]
    fn service_rules() {
        let y = "\
apiVersion: v1
kind: Service
metadata: {name: 1svc, namespace: default}
spec:
  type: Fancy
  ports: [{port: 0, nodePort: 80}, {port: 0, protocol: HTTP}]
";
        assert_eq!(
            check(y),
            [
                "metadata.name: Invalid value: \"1svc\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
                "spec.ports[0].name: Required value",
                "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
                "spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive",
                "spec.ports[1].name: Required value",
                "spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive",
                "spec.ports[1].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
                "spec.ports[1].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive",
                "spec.type: Unsupported value: \"Fancy\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"",
            ]
        );
        let y = "{apiVersion: v1, kind: Service, metadata: {name: s, namespace: d}, spec: {type: NodePort, ports: [{port: 80, nodePort: 80}]}}";
        assert_eq!(
            check(y),
            [
                "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767"
            ]
        );
        let y = "{apiVersion: v1, kind: Service, metadata: {name: s, namespace: d}, spec: {ports: [{port: 80, nodePort: 30001}, {name: b, port: 80}], sessionAffinity: Sticky}}";
        assert_eq!(
            check(y),
            [
                "spec.ports[0].name: Required value",
                "spec.sessionAffinity: Unsupported value: \"Sticky\": supported values: \"ClientIP\", \"None\"",
                "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
                "spec.ports[1]: Duplicate value: {\"Name\":\"\",\"Protocol\":\"TCP\",\"AppProtocol\":null,\"Port\":80,\"TargetPort\":0,\"NodePort\":0}",
            ]
        );
        let y = "{apiVersion: v1, kind: Service, metadata: {name: s, namespace: d}, spec: {}}";
        assert_eq!(check(y), ["spec.ports: Required value"]);
    }
}
