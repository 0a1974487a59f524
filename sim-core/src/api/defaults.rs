//! API-server defaulting: what a created object gains before validation and storage.
//!
//! Port of kubernetes `pkg/apis/apps/v1/defaults.go` (`SetDefaults_Deployment`,
//! `SetDefaults_ReplicaSet`) and `pkg/apis/core/v1/defaults.go` (`SetDefaults_Pod`,
//! `SetDefaults_PodSpec`, `SetDefaults_Container`, `SetDefaults_ContainerPort`,
//! `SetDefaults_Probe`, `SetDefaults_HTTPGetAction`, `SetDefaults_Volume`,
//! `SetDefaults_SecretVolumeSource`, `SetDefaults_ConfigMapVolumeSource`, `SetDefaults_Service`,
//! `SetDefaults_Namespace`, `SetDefaults_NodeStatus`, `SetDefaults_EndpointPort`,
//! `SetDefaults_ObjectFieldSelector`) and `pkg/apis/networking/v1/defaults.go`
//! (`SetDefaults_IngressClass`) as the generated defaulters apply them to every nested
//! struct. Things the registry does at create time (cluster IP and node port allocation,
//! `ipFamilies`, clearing a cluster-scoped object's namespace, the ServiceAccount admission
//! plugin's `serviceAccountName`) are not defaults and are left to the store. A Namespace's
//! `status.phase: Active` *is* a default (`SetDefaults_NamespaceStatus`), so it is set here.
//! `SetDefaults_ResourceList`'s rounding of quantities up to milli precision is not ported.

use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, ReplicaSet, ReplicaSetSpec,
    RollingUpdateDeployment,
};
use k8s_openapi::api::core::v1::{
    ClientIPConfig, Container, HTTPGetAction, LifecycleHandler, Pod, PodSecurityContext, PodSpec,
    PodTemplateSpec, Probe, Service, ServiceSpec, SessionAffinityConfig,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::Object;

/// Applies the API server's defaults to `obj`, in place. Idempotent.
pub fn set_defaults(obj: &mut Object) {
    match obj {
        Object::Deployment(d) => deployment(d),
        Object::ReplicaSet(rs) => replica_set(rs),
        Object::Pod(p) => pod(p),
        Object::Service(s) => service(s),
        Object::Namespace(ns) => {
            // SetDefaults_Namespace: every named namespace carries its own name as a label.
            if let Some(name) = ns.metadata.name.clone().filter(|n| !n.is_empty()) {
                ns.metadata
                    .labels
                    .get_or_insert_default()
                    .insert("kubernetes.io/metadata.name".to_owned(), name);
            }
            // SetDefaults_NamespaceStatus: the generated defaulter always visits the status.
            let status = ns.status.get_or_insert_default();
            if status.phase.as_deref().unwrap_or("").is_empty() {
                status.phase = Some("Active".to_owned());
            }
        }
        Object::Node(n) => {
            // SetDefaults_NodeStatus: allocatable defaults to capacity.
            if let Some(status) = n.status.as_mut()
                && status.allocatable.is_none()
            {
                status.allocatable.clone_from(&status.capacity);
            }
        }
        Object::Endpoints(ep) => {
            for port in ep
                .subsets
                .iter_mut()
                .flatten()
                .flat_map(|s| s.ports.iter_mut().flatten())
            {
                port.protocol.get_or_insert_with(|| "TCP".to_owned());
            }
        }
        Object::Event(_) => {}
        // networking/v1 has no Ingress defaults (pathType is required).
        Object::Ingress(_) => {}
        Object::IngressClass(c) => {
            // SetDefaults_IngressClass: a parameters reference is cluster-scoped by default.
            if let Some(p) = c.spec.as_mut().and_then(|s| s.parameters.as_mut()) {
                p.scope.get_or_insert_with(|| "Cluster".to_owned());
            }
        }
        Object::HorizontalPodAutoscaler(h) => super::hpa_defaults::hpa(h),
        Object::ConfigMap(_) => {}
        Object::Secret(secret) => self::secret(secret),
        // policy/v1 has no PodDisruptionBudget defaults.
        Object::PodDisruptionBudget(_) => {}
        Object::Job(job) => super::batch_defaults::job(job),
        Object::CronJob(cj) => super::batch_defaults::cronjob(cj),
        // core/v1 has no ResourceQuota defaults.
        Object::ResourceQuota(_) => {}
        Object::LimitRange(lr) => super::limitranger::limit_range_defaults(lr),
        // Leases are the kubelets' and read only here.
        Object::Lease(_) => {}
        Object::EndpointSlice(slice) => {
            // SetDefaults_EndpointPort: a port's name defaults to "" and its protocol to TCP.
            for port in slice.ports.iter_mut().flatten() {
                port.name.get_or_insert_with(String::new);
                port.protocol.get_or_insert_with(|| "TCP".to_owned());
            }
        }
    }
}

/// `SetDefaults_Secret` (`type: Opaque`), after the v1 conversion's merge of the write-only
/// `stringData` into `data` (`Convert_v1_Secret_To_core_Secret`: each key overwrites, and
/// `stringData` is never stored).
fn secret(secret: &mut k8s_openapi::api::core::v1::Secret) {
    if let Some(strings) = secret.string_data.take() {
        let data = secret.data.get_or_insert_default();
        for (k, v) in strings {
            data.insert(k, k8s_openapi::ByteString(v.into_bytes()));
        }
    }
    if secret.type_.as_deref().unwrap_or("").is_empty() {
        secret.type_ = Some("Opaque".to_owned());
    }
}

/// `SetDefaults_Deployment` plus the pod template's defaults.
fn deployment(d: &mut Deployment) {
    let spec: &mut DeploymentSpec = d.spec.get_or_insert_default();
    spec.replicas.get_or_insert(1);
    let strategy: &mut DeploymentStrategy = spec.strategy.get_or_insert_default();
    let t = strategy
        .type_
        .get_or_insert_with(|| "RollingUpdate".to_owned());
    if t == "RollingUpdate" {
        let ru: &mut RollingUpdateDeployment = strategy.rolling_update.get_or_insert_default();
        ru.max_unavailable
            .get_or_insert_with(|| IntOrString::String("25%".to_owned()));
        ru.max_surge
            .get_or_insert_with(|| IntOrString::String("25%".to_owned()));
    }
    spec.revision_history_limit.get_or_insert(10);
    spec.progress_deadline_seconds.get_or_insert(600);
    pod_template(&mut spec.template);
}

/// `SetDefaults_ReplicaSet` plus the pod template's defaults.
fn replica_set(rs: &mut ReplicaSet) {
    let spec: &mut ReplicaSetSpec = rs.spec.get_or_insert_default();
    spec.replicas.get_or_insert(1);
    if let Some(t) = spec.template.as_mut() {
        pod_template(t);
    }
}

pub(super) fn pod_template(t: &mut PodTemplateSpec) {
    pod_spec(t.spec.get_or_insert_default());
}

/// `SetDefaults_Pod`'s resources: requests default to limits, per resource (a Pod only, not
/// a template; the admission plugins see a controller's pods with them).
pub fn requests_from_limits(spec: &mut PodSpec) {
    for c in spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten())
    {
        if let Some(res) = c.resources.as_mut()
            && let Some(limits) = res.limits.clone()
        {
            let requests = res.requests.get_or_insert_default();
            for (k, v) in limits {
                requests.entry(k).or_insert(v);
            }
        }
    }
}

/// Whether [`requests_from_limits`] would change `spec`.
pub fn lacks_requests_from_limits(spec: &PodSpec) -> bool {
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .filter_map(|c| c.resources.as_ref())
        .any(|r| {
            r.limits
                .iter()
                .flatten()
                .any(|(k, _)| !r.requests.as_ref().is_some_and(|req| req.contains_key(k)))
        })
}

/// `SetDefaults_Pod`: only for Pods themselves, not templates.
fn pod(p: &mut Pod) {
    let name = p.metadata.name.clone().unwrap_or_default();
    let spec = p.spec.get_or_insert_default();
    requests_from_limits(spec);
    spec.enable_service_links.get_or_insert(true);
    pod_spec(spec);
    // Admission runs on every create and update of a pod (`api/admission.rs`).
    super::admission::admit_pod(spec, &name);
}

/// `SetDefaults_PodSpec` and the defaults of everything nested in it.
fn pod_spec(spec: &mut PodSpec) {
    spec.dns_policy
        .get_or_insert_with(|| "ClusterFirst".to_owned());
    spec.restart_policy
        .get_or_insert_with(|| "Always".to_owned());
    spec.security_context
        .get_or_insert_with(PodSecurityContext::default);
    spec.termination_grace_period_seconds.get_or_insert(30);
    spec.scheduler_name
        .get_or_insert_with(|| "default-scheduler".to_owned());
    for c in spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten())
    {
        container(c);
    }
    for v in spec.volumes.iter_mut().flatten() {
        let has_source = v.aws_elastic_block_store.is_some()
            || v.azure_disk.is_some()
            || v.azure_file.is_some()
            || v.cephfs.is_some()
            || v.cinder.is_some()
            || v.config_map.is_some()
            || v.csi.is_some()
            || v.downward_api.is_some()
            || v.empty_dir.is_some()
            || v.ephemeral.is_some()
            || v.fc.is_some()
            || v.flex_volume.is_some()
            || v.flocker.is_some()
            || v.gce_persistent_disk.is_some()
            || v.git_repo.is_some()
            || v.glusterfs.is_some()
            || v.host_path.is_some()
            || v.image.is_some()
            || v.iscsi.is_some()
            || v.nfs.is_some()
            || v.persistent_volume_claim.is_some()
            || v.photon_persistent_disk.is_some()
            || v.portworx_volume.is_some()
            || v.projected.is_some()
            || v.quobyte.is_some()
            || v.rbd.is_some()
            || v.scale_io.is_some()
            || v.secret.is_some()
            || v.storageos.is_some()
            || v.vsphere_volume.is_some();
        if !has_source {
            v.empty_dir = Some(Default::default());
        }
        // 0644: the default file mode of secret, configMap, downwardAPI and projected volumes.
        if let Some(s) = v.secret.as_mut() {
            s.default_mode.get_or_insert(0o644);
        }
        if let Some(c) = v.config_map.as_mut() {
            c.default_mode.get_or_insert(0o644);
        }
        if let Some(d) = v.downward_api.as_mut() {
            d.default_mode.get_or_insert(0o644);
        }
        if let Some(p) = v.projected.as_mut() {
            p.default_mode.get_or_insert(0o644);
            for token in p
                .sources
                .iter_mut()
                .flatten()
                .filter_map(|s| s.service_account_token.as_mut())
            {
                token.expiration_seconds.get_or_insert(3600);
            }
        }
        if let Some(h) = v.host_path.as_mut() {
            h.type_.get_or_insert_with(String::new);
        }
    }
    // With host networking every container port is also a host port.
    if spec.host_network == Some(true) {
        for c in spec
            .containers
            .iter_mut()
            .chain(spec.init_containers.iter_mut().flatten())
        {
            for p in c.ports.iter_mut().flatten() {
                if p.host_port.unwrap_or(0) == 0 {
                    p.host_port = Some(p.container_port);
                }
            }
        }
    }
}

/// `SetDefaults_Container` and its ports, probes, lifecycle hooks and env field refs.
fn container(c: &mut Container) {
    // `resources` is a struct in the Go type, not a pointer: `resources: {}` and no
    // `resources` decode to the same value, so they must store (and hash) the same. kubectl
    // sends `{}` on every container it re-encodes from Go (`create deployment`, a rollback's
    // template).
    if c.resources.as_ref().is_some_and(|r| {
        r.limits.as_ref().is_none_or(|m| m.is_empty())
            && r.requests.as_ref().is_none_or(|m| m.is_empty())
            && r.claims.as_ref().is_none_or(|v| v.is_empty())
    }) {
        c.resources = None;
    }
    if c.image_pull_policy.as_deref().unwrap_or("").is_empty() {
        let latest = image_tag(c.image.as_deref().unwrap_or("")) == "latest";
        c.image_pull_policy = Some(if latest { "Always" } else { "IfNotPresent" }.to_owned());
    }
    c.termination_message_path
        .get_or_insert_with(|| "/dev/termination-log".to_owned());
    c.termination_message_policy
        .get_or_insert_with(|| "File".to_owned());
    for p in c.ports.iter_mut().flatten() {
        p.protocol.get_or_insert_with(|| "TCP".to_owned());
    }
    for p in [
        c.liveness_probe.as_mut(),
        c.readiness_probe.as_mut(),
        c.startup_probe.as_mut(),
    ]
    .into_iter()
    .flatten()
    {
        probe(p);
    }
    if let Some(l) = c.lifecycle.as_mut() {
        for h in [l.post_start.as_mut(), l.pre_stop.as_mut()]
            .into_iter()
            .flatten()
        {
            lifecycle_handler(h);
        }
    }
    for env in c.env.iter_mut().flatten() {
        if let Some(fr) = env.value_from.as_mut().and_then(|v| v.field_ref.as_mut()) {
            fr.api_version.get_or_insert_with(|| "v1".to_owned());
        }
    }
}

/// The tag `parsers.ParseImageName` finds: `latest` when the image has neither tag nor digest,
/// `""` when it has only a digest.
fn image_tag(image: &str) -> &str {
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    let last = name.rsplit('/').next().unwrap_or(name);
    match last.rsplit_once(':') {
        Some((_, tag)) => tag,
        None if digest.is_some() => "",
        None => "latest",
    }
}

/// `SetDefaults_Probe` (zero or unset fields get the defaults) and its HTTP action.
fn probe(p: &mut Probe) {
    for (field, default) in [
        (&mut p.timeout_seconds, 1),
        (&mut p.period_seconds, 10),
        (&mut p.success_threshold, 1),
        (&mut p.failure_threshold, 3),
    ] {
        if field.unwrap_or(0) == 0 {
            *field = Some(default);
        }
    }
    if let Some(h) = p.http_get.as_mut() {
        http_get(h);
    }
}

fn lifecycle_handler(h: &mut LifecycleHandler) {
    if let Some(g) = h.http_get.as_mut() {
        http_get(g);
    }
}

/// `SetDefaults_HTTPGetAction`.
fn http_get(h: &mut HTTPGetAction) {
    if h.path.as_deref().unwrap_or("").is_empty() {
        h.path = Some("/".to_owned());
    }
    if h.scheme.as_deref().unwrap_or("").is_empty() {
        h.scheme = Some("HTTP".to_owned());
    }
}

/// `SetDefaults_Service`.
fn service(s: &mut Service) {
    let spec: &mut ServiceSpec = s.spec.get_or_insert_default();
    let affinity = spec
        .session_affinity
        .get_or_insert_with(|| "None".to_owned());
    if affinity == "None" {
        spec.session_affinity_config = None;
    }
    if affinity == "ClientIP" {
        let timeout = spec
            .session_affinity_config
            .as_ref()
            .and_then(|c| c.client_ip.as_ref())
            .and_then(|c| c.timeout_seconds);
        if timeout.is_none() {
            // DefaultClientIPServiceAffinitySeconds: 3 hours.
            spec.session_affinity_config = Some(SessionAffinityConfig {
                client_ip: Some(ClientIPConfig {
                    timeout_seconds: Some(10800),
                }),
            });
        }
    }
    let t = spec
        .type_
        .get_or_insert_with(|| "ClusterIP".to_owned())
        .clone();
    for sp in spec.ports.iter_mut().flatten() {
        sp.protocol.get_or_insert_with(|| "TCP".to_owned());
        let unset = match &sp.target_port {
            None => true,
            Some(IntOrString::Int(0)) => true,
            Some(IntOrString::String(s)) => s.is_empty(),
            Some(IntOrString::Int(_)) => false,
        };
        if unset {
            sp.target_port = Some(IntOrString::Int(sp.port));
        }
    }
    let has_external_ips = spec.external_ips.as_ref().is_some_and(|v| !v.is_empty());
    let externally_accessible =
        t == "LoadBalancer" || t == "NodePort" || (t == "ClusterIP" && has_external_ips);
    if externally_accessible
        && spec
            .external_traffic_policy
            .as_deref()
            .unwrap_or("")
            .is_empty()
    {
        spec.external_traffic_policy = Some("Cluster".to_owned());
    }
    if spec.internal_traffic_policy.is_none()
        && matches!(t.as_str(), "ClusterIP" | "NodePort" | "LoadBalancer")
    {
        spec.internal_traffic_policy = Some("Cluster".to_owned());
    }
    if t == "LoadBalancer" {
        spec.allocate_load_balancer_node_ports.get_or_insert(true);
    }
}

#[cfg(test)]
mod tests {
    //! Cases from `pkg/apis/apps/v1/defaults_test.go` (`TestSetDefaultDeployment`,
    //! `TestSetDefaultReplicaSetReplicas`) and `pkg/apis/core/v1/defaults_test.go`
    //! (`TestSetDefaultPodSpec…`, `TestSetDefaultContainer…`, `TestSetDefaultProbe`,
    //! `TestSetDefaultServiceTargetPort`, `TestSetDefaultNamespace`, image pull policy table).
    use super::*;
    use crate::api::decode::decode_value;
    use serde_json::{Value, json};

    /// Decodes `input`, defaults it, and returns the JSON the API server would show.
    fn check(input: Value) -> Value {
        let mut obj = decode_value(input).expect("decodes");
        set_defaults(&mut obj);
        let once = obj.clone();
        set_defaults(&mut obj);
        assert_eq!(once, obj, "defaulting is idempotent");
        obj.to_value()
    }

    fn deploy(spec: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": spec})
    }

    #[test]
    fn empty_resources_are_no_resources_as_in_go() {
        let with = |resources: Value| {
            check(deploy(
                json!({"selector": {"matchLabels": {"a": "b"}}, "template": {
                    "metadata": {"labels": {"a": "b"}},
                    "spec": {"containers": [{"name": "c", "image": "i:1", "resources": resources}]},
                }}),
            ))
        };
        let empty = with(json!({}));
        assert_eq!(empty, with(json!({"limits": {}, "requests": {}})));
        assert!(
            empty["spec"]["template"]["spec"]["containers"][0]
                .get("resources")
                .is_none()
        );
        let set = with(json!({"limits": {"cpu": "1"}}));
        assert_eq!(
            set["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"],
            "1"
        );
    }

    #[test]
    fn deployment_defaults() {
        let v = check(deploy(json!({
            "selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
        })));
        let spec = &v["spec"];
        assert_eq!(spec["replicas"], 1);
        assert_eq!(
            spec["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
        );
        assert_eq!(spec["revisionHistoryLimit"], 10);
        assert_eq!(spec["progressDeadlineSeconds"], 600);
        let pod = &spec["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "Always");
        assert_eq!(pod["terminationGracePeriodSeconds"], 30);
        assert_eq!(pod["dnsPolicy"], "ClusterFirst");
        assert_eq!(pod["schedulerName"], "default-scheduler");
        assert_eq!(pod["securityContext"], json!({}));
        assert_eq!(
            pod.get("enableServiceLinks"),
            None,
            "templates do not get SetDefaults_Pod"
        );
        let c = &pod["containers"][0];
        assert_eq!(c["imagePullPolicy"], "Always");
        assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
        assert_eq!(c["terminationMessagePolicy"], "File");
    }

    #[test]
    fn deployment_partial_strategies() {
        let v = check(deploy(json!({"strategy": {"type": "Recreate"}})));
        assert_eq!(v["spec"]["strategy"], json!({"type": "Recreate"}));
        let v = check(deploy(
            json!({"strategy": {"rollingUpdate": {"maxSurge": 2}}}),
        ));
        assert_eq!(
            v["spec"]["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2, "maxUnavailable": "25%"}})
        );
        let v = check(deploy(json!({"replicas": 0, "revisionHistoryLimit": 0})));
        assert_eq!(v["spec"]["replicas"], 0);
        assert_eq!(v["spec"]["revisionHistoryLimit"], 0);
    }

    #[test]
    fn replica_set_defaults() {
        let v = check(
            json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "r"},
            "spec": {"selector": {}, "template": {"spec": {"containers": [{"name": "c", "image": "i:1"}]}}}}),
        );
        assert_eq!(v["spec"]["replicas"], 1);
        assert_eq!(
            v["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
            "IfNotPresent"
        );
    }

    #[test]
    fn image_pull_policy_table() {
        for (image, want) in [
            ("nginx", "Always"),
            ("nginx:latest", "Always"),
            ("nginx:1.25", "IfNotPresent"),
            ("registry.local:5000/app", "Always"),
            ("registry.local:5000/app:v2", "IfNotPresent"),
            ("registry.local/credit-scoring-api:single", "IfNotPresent"),
            ("nginx@sha256:abcd", "IfNotPresent"),
            ("nginx:latest@sha256:abcd", "Always"),
        ] {
            let v = check(
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                "spec": {"containers": [{"name": "c", "image": image}]}}),
            );
            assert_eq!(
                v["spec"]["containers"][0]["imagePullPolicy"], want,
                "{image}"
            );
        }
        let v = check(
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "nginx", "imagePullPolicy": "Never"}]}}),
        );
        assert_eq!(v["spec"]["containers"][0]["imagePullPolicy"], "Never");
    }

    #[test]
    fn pod_defaults() {
        let v = check(
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "i:1",
                "ports": [{"containerPort": 80}],
                "resources": {"limits": {"cpu": "1"}, "requests": {"memory": "1Mi"}},
                "livenessProbe": {"httpGet": {"port": 80}},
                "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 5}}],
                "volumes": [{"name": "v"}, {"name": "s", "secret": {"secretName": "x"}}]}}),
        );
        let spec = &v["spec"];
        assert_eq!(spec["enableServiceLinks"], true);
        let c = &spec["containers"][0];
        assert_eq!(c["ports"][0]["protocol"], "TCP");
        assert_eq!(
            c["resources"]["requests"],
            json!({"cpu": "1", "memory": "1Mi"})
        );
        assert_eq!(
            c["livenessProbe"],
            json!({"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"}, "timeoutSeconds": 1,
                   "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3})
        );
        assert_eq!(c["readinessProbe"]["periodSeconds"], 5);
        assert_eq!(spec["volumes"][0]["emptyDir"], json!({}));
        assert_eq!(spec["volumes"][1]["secret"]["defaultMode"], 420);
    }

    #[test]
    fn service_defaults() {
        let v = check(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
            "spec": {"ports": [{"port": 80}, {"port": 81, "targetPort": "http"}]}}),
        );
        let spec = &v["spec"];
        assert_eq!(spec["type"], "ClusterIP");
        assert_eq!(spec["sessionAffinity"], "None");
        assert_eq!(spec["internalTrafficPolicy"], "Cluster");
        assert_eq!(spec.get("externalTrafficPolicy"), None);
        assert_eq!(
            spec["ports"][0],
            json!({"port": 80, "protocol": "TCP", "targetPort": 80})
        );
        assert_eq!(spec["ports"][1]["targetPort"], "http");
        let v = check(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
            "spec": {"type": "NodePort", "ports": [{"port": 80, "targetPort": 8080}]}}),
        );
        assert_eq!(v["spec"]["externalTrafficPolicy"], "Cluster");
        assert_eq!(v["spec"]["ports"][0]["targetPort"], 8080);
    }

    #[test]
    fn client_ip_affinity_and_host_network() {
        let v = check(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
            "spec": {"sessionAffinity": "ClientIP", "ports": [{"port": 80}]}}),
        );
        assert_eq!(
            v["spec"]["sessionAffinityConfig"],
            json!({"clientIP": {"timeoutSeconds": 10800}})
        );
        let v = check(
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 80}]}]}}),
        );
        assert_eq!(v["spec"]["containers"][0]["ports"][0]["hostPort"], 80);
    }

    #[test]
    fn namespace_and_node_defaults() {
        let v = check(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "live-coding"}}),
        );
        assert_eq!(
            v["metadata"]["labels"],
            json!({"kubernetes.io/metadata.name": "live-coding"})
        );
        assert_eq!(v["status"], json!({"phase": "Active"}));
        let v = check(
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"},
            "status": {"capacity": {"cpu": "4"}}}),
        );
        assert_eq!(v["status"]["allocatable"], json!({"cpu": "4"}));
    }
}
