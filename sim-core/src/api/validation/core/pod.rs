//! Pods and pod templates: `ValidatePodSpec`, containers, probes, resources, `ValidatePodUpdate`.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{
    Container, Pod, PodSpec, PodTemplateSpec, Probe, ResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{validate_port_num_or_name, validate_protocol};
use crate::api::quantity::parse_quantity;
use crate::api::validation::Errs;
use crate::api::validation::go_fmt::go_quote;
use crate::api::validation::meta::{
    IS_NEGATIVE, NameRule, validate_annotations, validate_labels, validate_object_meta,
};
use crate::api::validation::names::{
    inclusive_range_error, is_dns1123_label, is_dns1123_subdomain, is_valid_port_name,
    is_valid_port_num,
};

/// `ValidatePodTemplateSpec` (note Go's path for template labels: `template.labels`).
pub(in crate::api::validation) fn validate_pod_template_spec(
    template: &PodTemplateSpec,
    path: &str,
    e: &mut Errs,
) {
    let meta = template.metadata.clone().unwrap_or_default();
    validate_labels(meta.labels.as_ref(), &format!("{path}.labels"), e);
    validate_annotations(meta.annotations.as_ref(), &format!("{path}.annotations"), e);
    validate_pod_spec(
        &template.spec.clone().unwrap_or_default(),
        &format!("{path}.spec"),
        e,
    );
}

/// `validatePodMetadataAndSpec`: the template rules plus the Pod-only image whitespace check.
pub(in crate::api::validation) fn validate_pod(p: &Pod, e: &mut Errs) {
    validate_object_meta(&p.metadata, true, NameRule::Subdomain, e);
    let spec = p.spec.clone().unwrap_or_default();
    validate_pod_spec(&spec, "spec", e);
    let lists = [
        ("containers", spec.containers.as_slice()),
        (
            "initContainers",
            spec.init_containers.as_deref().unwrap_or(&[]),
        ),
    ];
    for (list, containers) in lists {
        for (i, c) in containers.iter().enumerate() {
            let image = c.image.as_deref().unwrap_or("");
            if image.len() != image.trim().len() {
                e.invalid_str(
                    &format!("spec.{list}[{i}].image"),
                    image,
                    "must not have leading or trailing whitespace",
                );
            }
        }
    }
}

/// `ValidatePodSpec`, the parts a course manifest can reach, in Go's order.
fn validate_pod_spec(spec: &PodSpec, path: &str, e: &mut Errs) {
    if spec.termination_grace_period_seconds.is_none() {
        e.required(&format!("{path}.terminationGracePeriodSeconds"), "");
    }
    validate_volumes(spec, path, e);
    validate_containers(spec.containers.as_slice(), &format!("{path}.containers"), e);
    validate_init_containers(spec, &format!("{path}.initContainers"), e);
    let policy = spec.restart_policy.as_deref().unwrap_or("");
    let rp_path = format!("{path}.restartPolicy");
    match policy {
        "Always" | "OnFailure" | "Never" => {}
        "" => e.required(&rp_path, ""),
        other => e.not_supported(&rp_path, go_quote(other), &["Always", "OnFailure", "Never"]),
    }
    let dns = spec.dns_policy.as_deref().unwrap_or("");
    let dns_path = format!("{path}.dnsPolicy");
    match dns {
        "ClusterFirstWithHostNet" | "ClusterFirst" | "Default" | "None" => {}
        "" => e.required(&dns_path, ""),
        other => e.not_supported(
            &dns_path,
            go_quote(other),
            &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        ),
    }
    validate_labels(
        spec.node_selector.as_ref(),
        &format!("{path}.nodeSelector"),
        e,
    );
    if let Some(sa) = spec
        .service_account_name
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        for m in is_dns1123_subdomain(sa) {
            e.invalid_str(&format!("{path}.serviceAccountName"), sa, &m);
        }
    }
    if let Some(node) = spec.node_name.as_deref().filter(|s| !s.is_empty()) {
        for m in is_dns1123_subdomain(node) {
            e.invalid_str(&format!("{path}.nodeName"), node, &m);
        }
    }
    if let Some(ads) = spec.active_deadline_seconds
        && !(1..=i64::from(i32::MAX)).contains(&ads)
    {
        e.invalid(
            &format!("{path}.activeDeadlineSeconds"),
            ads.to_string(),
            &inclusive_range_error(1, i64::from(i32::MAX)),
        );
    }
    if let Some(h) = spec.hostname.as_deref().filter(|s| !s.is_empty()) {
        for m in is_dns1123_label(h) {
            e.invalid_str(&format!("{path}.hostname"), h, &m);
        }
    }
    if let Some(s) = spec.subdomain.as_deref().filter(|s| !s.is_empty()) {
        for m in is_dns1123_label(s) {
            e.invalid_str(&format!("{path}.subdomain"), s, &m);
        }
    }
}

/// `validateInitContainers`: names are unique across init and regular containers, and probes
/// and lifecycle hooks are only allowed on restartable (sidecar) init containers.
fn validate_init_containers(spec: &PodSpec, path: &str, e: &mut Errs) {
    let mut names: BTreeSet<&str> = spec.containers.iter().map(|c| c.name.as_str()).collect();
    for (i, c) in spec.init_containers.iter().flatten().enumerate() {
        let p = format!("{path}[{i}]");
        validate_container_common(c, &p, e);
        let mut restart_always = false;
        if let Some(rp) = c.restart_policy.as_deref() {
            if rp != "Always" {
                e.not_supported(&format!("{p}.restartPolicy"), go_quote(rp), &["Always"]);
            }
            restart_always = rp == "Always";
        }
        if names.contains(c.name.as_str()) {
            e.duplicate(&format!("{p}.name"), go_quote(&c.name));
        } else if !c.name.is_empty() {
            names.insert(c.name.as_str());
        }
        if restart_always {
            validate_lifecycle(c, &p, e);
            validate_probes(c, &p, e);
        } else {
            const NOT_SIDECAR: &str =
                "may not be set for init containers without restartPolicy=Always";
            if c.lifecycle.is_some() {
                e.forbidden(&format!("{p}.lifecycle"), NOT_SIDECAR);
            }
            if c.liveness_probe.is_some() {
                e.forbidden(&format!("{p}.livenessProbe"), NOT_SIDECAR);
            }
            if c.readiness_probe.is_some() {
                e.forbidden(&format!("{p}.readinessProbe"), NOT_SIDECAR);
            }
            if c.startup_probe.is_some() {
                e.forbidden(&format!("{p}.startupProbe"), NOT_SIDECAR);
            }
        }
    }
}

/// `validateLifecycle`: each hook needs exactly one handler.
fn validate_lifecycle(c: &Container, path: &str, e: &mut Errs) {
    let Some(l) = &c.lifecycle else { return };
    for (name, hook) in [("postStart", &l.post_start), ("preStop", &l.pre_stop)] {
        let Some(h) = hook else { continue };
        let probe_like = Probe {
            exec: h.exec.clone(),
            http_get: h.http_get.clone(),
            tcp_socket: h.tcp_socket.clone(),
            ..Probe::default()
        };
        validate_handler(
            &probe_like,
            h.sleep.is_some(),
            &format!("{path}.lifecycle.{name}"),
            e,
        );
    }
}

/// The three probes of a container, in Go's order.
fn validate_probes(c: &Container, p: &str, e: &mut Errs) {
    if let Some(pr) = &c.liveness_probe {
        let path = format!("{p}.livenessProbe");
        validate_probe(pr, &path, e);
        check_success_threshold_one(pr, &path, e);
    }
    if let Some(pr) = &c.readiness_probe {
        let path = format!("{p}.readinessProbe");
        validate_probe(pr, &path, e);
        if let Some(t) = pr.termination_grace_period_seconds {
            e.invalid(
                &format!("{path}.terminationGracePeriodSeconds"),
                t.to_string(),
                "must not be set for readinessProbes",
            );
        }
    }
    if let Some(pr) = &c.startup_probe {
        let path = format!("{p}.startupProbe");
        validate_probe(pr, &path, e);
        check_success_threshold_one(pr, &path, e);
    }
}

/// `ValidateVolumes`: names (required, DNS-1123 label, unique).
fn validate_volumes(spec: &PodSpec, path: &str, e: &mut Errs) {
    let mut seen = BTreeSet::new();
    for (i, v) in spec.volumes.iter().flatten().enumerate() {
        let p = format!("{path}.volumes[{i}].name");
        if v.name.is_empty() {
            e.required(&p, "");
        } else {
            for m in is_dns1123_label(&v.name) {
                e.invalid_str(&p, &v.name, &m);
            }
            if !seen.insert(v.name.as_str()) {
                e.duplicate(&p, go_quote(&v.name));
            }
        }
    }
}

/// `validateContainers`.
fn validate_containers(containers: &[Container], path: &str, e: &mut Errs) {
    if containers.is_empty() {
        e.required(path, "");
        return;
    }
    let mut names = BTreeSet::new();
    for (i, c) in containers.iter().enumerate() {
        let p = format!("{path}[{i}]");
        validate_container_common(c, &p, e);
        if !names.insert(c.name.as_str()) {
            e.duplicate(&format!("{p}.name"), go_quote(&c.name));
        }
        validate_lifecycle(c, &p, e);
        validate_probes(c, &p, e);
        if c.restart_policy.is_some() {
            e.forbidden(
                &format!("{p}.restartPolicy"),
                "may not be set for non-init containers",
            );
        }
    }
}

fn check_success_threshold_one(probe: &Probe, path: &str, e: &mut Errs) {
    let st = probe.success_threshold.unwrap_or(1);
    if st != 1 {
        e.invalid(
            &format!("{path}.successThreshold"),
            st.to_string(),
            "must be 1",
        );
    }
}

/// `validateContainerCommon`.
fn validate_container_common(c: &Container, path: &str, e: &mut Errs) {
    let name_path = format!("{path}.name");
    if c.name.is_empty() {
        e.required(&name_path, "");
    } else {
        for m in is_dns1123_label(&c.name) {
            e.invalid_str(&name_path, &c.name, &m);
        }
    }
    if c.image.as_deref().unwrap_or("").is_empty() {
        e.required(&format!("{path}.image"), "");
    }
    let tmp = format!("{path}.terminationMessagePolicy");
    match c.termination_message_policy.as_deref().unwrap_or("") {
        "File" | "FallbackToLogsOnError" => {}
        "" => e.required(&tmp, ""),
        other => e.not_supported(&tmp, go_quote(other), &["File", "FallbackToLogsOnError"]),
    }
    validate_container_ports(c, &format!("{path}.ports"), e);
    for (i, env) in c.env.iter().flatten().enumerate() {
        if env.name.is_empty() {
            e.required(&format!("{path}.env[{i}].name"), "");
        }
    }
    let pp = format!("{path}.imagePullPolicy");
    match c.image_pull_policy.as_deref().unwrap_or("") {
        "Always" | "IfNotPresent" | "Never" => {}
        "" => e.required(&pp, ""),
        other => e.not_supported(&pp, go_quote(other), &["Always", "IfNotPresent", "Never"]),
    }
    if let Some(r) = &c.resources {
        validate_resources(r, &format!("{path}.resources"), e);
    }
}

/// `validateContainerPorts`.
fn validate_container_ports(c: &Container, path: &str, e: &mut Errs) {
    let mut names = BTreeSet::new();
    for (i, port) in c.ports.iter().flatten().enumerate() {
        let p = format!("{path}[{i}]");
        if let Some(name) = port.name.as_deref().filter(|n| !n.is_empty()) {
            let msgs = is_valid_port_name(name);
            if !msgs.is_empty() {
                for m in msgs {
                    e.invalid_str(&format!("{p}.name"), name, &m);
                }
            } else if !names.insert(name) {
                e.duplicate(&format!("{p}.name"), go_quote(name));
            }
        }
        if port.container_port == 0 {
            e.required(&format!("{p}.containerPort"), "");
        } else {
            for m in is_valid_port_num(i64::from(port.container_port)) {
                e.invalid(
                    &format!("{p}.containerPort"),
                    port.container_port.to_string(),
                    &m,
                );
            }
        }
        if let Some(hp) = port.host_port.filter(|h| *h != 0) {
            for m in is_valid_port_num(i64::from(hp)) {
                e.invalid(&format!("{p}.hostPort"), hp.to_string(), &m);
            }
        }
        validate_protocol(port.protocol.as_deref(), &format!("{p}.protocol"), e);
    }
}

/// `validateHandler`: exactly one of exec, httpGet, tcpSocket, grpc (and sleep, for hooks).
fn validate_handler(probe: &Probe, has_sleep: bool, path: &str, e: &mut Errs) {
    let mut handlers = 0;
    let mut handler = |e: &mut Errs, name: &str| -> bool {
        if handlers > 0 {
            e.forbidden(
                &format!("{path}.{name}"),
                "may not specify more than 1 handler type",
            );
            false
        } else {
            handlers += 1;
            true
        }
    };
    if let Some(exec) = &probe.exec
        && handler(e, "exec")
        && exec.command.as_ref().is_none_or(Vec::is_empty)
    {
        e.required(&format!("{path}.exec.command"), "");
    }
    if let Some(http) = &probe.http_get
        && handler(e, "httpGet")
    {
        let p = format!("{path}.httpGet");
        if http.path.as_deref().unwrap_or("").is_empty() {
            e.required(&format!("{p}.path"), "");
        }
        validate_port_num_or_name(&http.port, &format!("{p}.port"), e);
        let scheme = http.scheme.as_deref().unwrap_or("");
        if scheme != "HTTP" && scheme != "HTTPS" {
            e.not_supported(&format!("{p}.scheme"), go_quote(scheme), &["HTTP", "HTTPS"]);
        }
    }
    if let Some(tcp) = &probe.tcp_socket
        && handler(e, "tcpSocket")
    {
        validate_port_num_or_name(&tcp.port, &format!("{path}.tcpSocket.port"), e);
    }
    if let Some(grpc) = &probe.grpc
        && handler(e, "grpc")
    {
        validate_port_num_or_name(
            &IntOrString::Int(grpc.port),
            &format!("{path}.grpc.port"),
            e,
        );
    }
    // A sleep action's own bounds depend on the grace period; only its count is checked here.
    if has_sleep {
        handler(e, "sleep");
    }
    if handlers == 0 {
        e.required(path, "must specify a handler type");
    }
}

/// `validateProbe`.
fn validate_probe(probe: &Probe, path: &str, e: &mut Errs) {
    validate_handler(probe, false, path, e);
    for (field, v) in [
        ("initialDelaySeconds", probe.initial_delay_seconds),
        ("timeoutSeconds", probe.timeout_seconds),
        ("periodSeconds", probe.period_seconds),
        ("successThreshold", probe.success_threshold),
        ("failureThreshold", probe.failure_threshold),
    ] {
        e.nonnegative(&format!("{path}.{field}"), i64::from(v.unwrap_or(0)));
    }
    if let Some(t) = probe.termination_grace_period_seconds
        && t <= 0
    {
        e.invalid(
            &format!("{path}.terminationGracePeriodSeconds"),
            t.to_string(),
            "must be greater than 0",
        );
    }
}

/// `ValidateResourceRequirements` for cpu, memory and the other standard resources.
fn validate_resources(r: &ResourceRequirements, path: &str, e: &mut Errs) {
    let lim_path = format!("{path}.limits");
    let req_path = format!("{path}.requests");
    for (name, q) in r.limits.iter().flatten() {
        let p = format!("{lim_path}[{name}]");
        validate_resource_name(name, &p, e);
        validate_quantity_value(&q.0, &p, e);
    }
    for (name, q) in r.requests.iter().flatten() {
        let p = format!("{req_path}[{name}]");
        validate_resource_name(name, &p, e);
        validate_quantity_value(&q.0, &p, e);
        let limit = r.limits.as_ref().and_then(|l| l.get(name));
        if let (Some(limit), Ok(req_q)) = (limit, parse_quantity(q.0.trim()))
            && let Ok(lim_q) = parse_quantity(limit.0.trim())
            && req_q > lim_q
        {
            // Both quantities print in Go's canonical form (`Quantity.String()`).
            e.invalid(
                &req_path,
                go_quote(&req_q.to_string()),
                &format!("must be less than or equal to {name} limit of {lim_q}"),
            );
        }
    }
}

fn validate_resource_name(name: &str, path: &str, e: &mut Errs) {
    let standard =
        matches!(name, "cpu" | "memory" | "ephemeral-storage") || name.starts_with("hugepages-");
    if !name.contains('/') && !standard {
        e.invalid_str(path, name, "must be a standard resource for containers");
    }
}

/// `ValidateResourceQuantityValue`. A quantity that does not parse never gets here in Kubernetes
/// (it fails to decode; see `decode`), but objects built in code can carry one.
fn validate_quantity_value(q: &str, path: &str, e: &mut Errs) {
    match parse_quantity(q.trim()) {
        Ok(v) if v.is_negative() => e.invalid_str(path, &v.to_string(), IS_NEGATIVE),
        Ok(_) => {}
        Err(err) => e.invalid_str(path, q, &err.to_string()),
    }
}

/// `ValidatePodUpdate`: only images, activeDeadlineSeconds, tolerations (additions) and
/// terminationGracePeriodSeconds may change; labels and annotations are metadata.
pub(in crate::api::validation) fn validate_pod_update(old: &Pod, new: &Pod, e: &mut Errs) {
    let new_spec = new.spec.clone().unwrap_or_default();
    validate_pod_spec(&new_spec, "spec", e);
    let mut old_spec = old.spec.clone().unwrap_or_default();
    // Copy the mutable fields from new to old; anything else that differs is forbidden.
    for (o, n) in old_spec.containers.iter_mut().zip(&new_spec.containers) {
        o.image.clone_from(&n.image);
    }
    if let (Some(o), Some(n)) = (old_spec.init_containers.as_mut(), &new_spec.init_containers) {
        for (o, n) in o.iter_mut().zip(n) {
            o.image.clone_from(&n.image);
        }
    }
    old_spec.active_deadline_seconds = new_spec.active_deadline_seconds;
    old_spec.tolerations.clone_from(&new_spec.tolerations);
    old_spec.termination_grace_period_seconds = new_spec.termination_grace_period_seconds;
    if old_spec != new_spec {
        e.forbidden(
            "spec",
            "pod updates may not change fields other than `spec.containers[*].image`,\
             `spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` \
             (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` \
             (allow it to be set to 1 if it was previously negative)",
        );
    }
}

#[cfg(test)]
mod tests {
    //! Cases of `pkg/apis/core/validation/validation_test.go` (`TestValidateContainers`,
    //! `TestValidateProbe`, `TestValidateResourceRequirements`, `TestValidatePodSpec`).

    use crate::api::fixtures::COURSE;
    use crate::api::validation::tests::{check, course_with};

    #[test]
    fn container_rules() {
        let y = course_with(
            "        - name: api\n          image: registry.local/credit-scoring-api:single\n",
            "        - name: API\n        - name: API\n          image: x\n",
        );
        assert_eq!(
            check(&y),
            [
                "spec.template.spec.containers[0].name: Invalid value: \"API\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
                "spec.template.spec.containers[0].image: Required value",
                "spec.template.spec.containers[1].name: Invalid value: \"API\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
                "spec.template.spec.containers[1].name: Duplicate value: \"API\"",
            ]
        );
        let y = course_with("containerPort: 8080", "containerPort: 70000, name: HTTP");
        assert_eq!(
            check(&y),
            [
                "spec.template.spec.containers[0].ports[0].name: Invalid value: \"HTTP\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                "spec.template.spec.containers[0].ports[0].name: Invalid value: \"HTTP\": must contain at least one letter (a-z)",
                "spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
            ]
        );
        let head = COURSE
            .split("      containers:\n")
            .next()
            .unwrap_or_default();
        let y = format!("{head}      containers: []\n");
        assert_eq!(check(&y), ["spec.template.spec.containers: Required value"]);
    }

    #[test]
    fn probe_rules() {
        let cases: &[(&str, &str, &[&str])] = &[
            (
                "no_handler",
                "httpGet: {port: 8080, path: /}",
                &[
                    "spec.template.spec.containers[0].readinessProbe: Required value: must specify a handler type",
                ],
            ),
            (
                "two_handlers",
                "httpGet: {port: 8080, path: /}\n            tcpSocket: {port: 8080}",
                &[
                    "spec.template.spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
                ],
            ),
            (
                "negative_period",
                "httpGet: {port: 8080, path: /}\n            initialDelaySeconds: -3",
                &[
                    "spec.template.spec.containers[0].readinessProbe.initialDelaySeconds: Invalid value: -3: must be greater than or equal to 0",
                ],
            ),
            (
                "port_out_of_range",
                "httpGet: {port: 0, path: /}",
                &[
                    "spec.template.spec.containers[0].readinessProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive",
                ],
            ),
        ];
        for (name, handler, want) in cases {
            let h = if *name == "no_handler" {
                "initialDelaySeconds: 1".to_owned()
            } else {
                (*handler).to_owned()
            };
            let y = course_with("httpGet: {port: 8080, path: /}", &h);
            assert_eq!(check(&y), *want, "case {name}");
        }
        let y = course_with("readinessProbe:", "livenessProbe:")
            .replace("successThreshold: 1", "successThreshold: 2");
        assert_eq!(
            check(&y),
            [
                "spec.template.spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"
            ]
        );
    }

    #[test]
    fn resources_requests_over_limits() {
        let y = course_with(
            "ports: [{containerPort: 8080}]",
            "ports: [{containerPort: 8080}]\n          resources: {requests: {cpu: '2', memory: 1Gi}, limits: {cpu: 0.5, memory: 1024Mi}}",
        );
        assert_eq!(
            check(&y),
            [
                "spec.template.spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 500m"
            ]
        );
        let y = course_with(
            "ports: [{containerPort: 8080}]",
            "ports: [{containerPort: 8080}]\n          resources: {requests: {gpu: '1', cpu: '-1'}}",
        );
        assert_eq!(
            check(&y),
            [
                "spec.template.spec.containers[0].resources.requests[cpu]: Invalid value: \"-1\": must be greater than or equal to 0",
                "spec.template.spec.containers[0].resources.requests[gpu]: Invalid value: \"gpu\": must be a standard resource for containers",
            ]
        );
    }

    #[test]
    fn bare_pod_rules() {
        let pod = |spec: &str| {
            format!(
                "{{apiVersion: v1, kind: Pod, metadata: {{name: p, namespace: d}}, spec: {spec}}}"
            )
        };
        assert_eq!(
            check(&pod(
                "{restartPolicy: Never, containers: [{name: c, image: i}]}"
            )),
            Vec::<String>::new()
        );
        assert_eq!(
            check(&pod(
                "{restartPolicy: Sometimes, dnsPolicy: Google, containers: [{name: c, image: ' i', imagePullPolicy: Sometimes}]}"
            )),
            [
                "spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\"",
                "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
                "spec.dnsPolicy: Unsupported value: \"Google\": supported values: \"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\"",
                "spec.containers[0].image: Invalid value: \" i\": must not have leading or trailing whitespace",
            ]
        );
        assert_eq!(
            check(&pod(
                "{containers: [{name: c, image: i}], initContainers: [{name: c, image: i, readinessProbe: {tcpSocket: {port: 1}}}, {name: s, image: i, restartPolicy: Always, readinessProbe: {tcpSocket: {port: 0}}}]}"
            )),
            [
                "spec.initContainers[0].name: Duplicate value: \"c\"",
                "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
                "spec.initContainers[1].readinessProbe.tcpSocket.port: Invalid value: 0: must be between 1 and 65535, inclusive",
            ]
        );
    }
}
