//! Create and update validation, with the API server's field paths, order and messages.
//!
//! Ports of kubernetes `pkg/apis/apps/validation/validation.go` (Deployment, ReplicaSet),
//! `pkg/apis/core/validation/validation.go` (ObjectMeta, PodSpec, containers, probes, resources,
//! Service, Namespace, Node, Endpoints), the registry strategies' update rules, and the message
//! helpers of apimachinery `pkg/util/validation/validation.go` and `field/errors.go`.
//!
//! Every function appends to one error list and never stops at the first error, so a student
//! sees everything the API server would list. Where Go iterates a map (labels, resources) the
//! order is random in Go; we use the map's sorted order.
//! Bad values are rendered as the current `field.Error.ErrorBody` prints them: `%v` for
//! int32/int64/bool, `%q` for strings, and JSON for everything else (kubernetes PR #132314,
//! v1.34+). So an IntOrString prints as `0` or `"25%"`, a label map as
//! `{"app":"x"}`, and internal types (which have no json tags) with Go field names, e.g.
//! `{"Type":"BlueGreen","RollingUpdate":null}`. Older servers (≤ 1.33) printed `%#v`,
//! e.g. `intstr.IntOrString{Type:0, IntVal:0, StrVal:""}`.
//!
//! The files follow Kubernetes' packages: [`names`] (apimachinery `util/validation`),
//! [`meta`] (ObjectMeta), [`apps`] (Deployment, ReplicaSet) and [`core`] (one file per kind of
//! the core group); [`go_fmt`] renders bad values as Go prints them.

mod apps;
mod autoscaling;
mod batch;
mod core;
mod go_fmt;
mod meta;
mod names;
mod networking;
mod policy;

use std::fmt;

use k8s_openapi::api::core::v1::Service;

use self::apps::{
    validate_deployment, validate_deployment_spec, validate_replica_set, validate_replica_set_spec,
};
use self::core::{
    validate_endpoints, validate_event, validate_namespace, validate_node,
    validate_node_port_range, validate_pod, validate_pod_update, validate_service,
    validate_service_body,
};
use self::go_fmt::{json_label_selector, json_strings};
use self::meta::{IMMUTABLE, IS_NEGATIVE, validate_object_meta_update};
use super::Object;

pub(crate) use self::go_fmt::go_quote;
pub use self::names::{
    is_config_map_key, is_dns1035_label, is_dns1123_label, is_dns1123_subdomain, is_env_var_name,
    is_qualified_name, is_valid_label_value, is_valid_port_name,
};

/// The kind of a field error, as apimachinery `field.ErrorType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorType {
    /// `Not found`.
    NotFound,
    /// `Required value`.
    Required,
    /// `Duplicate value`.
    Duplicate,
    /// `Invalid value`.
    Invalid,
    /// `Unsupported value` (a value outside an enumerated set).
    NotSupported,
    /// `Forbidden`.
    Forbidden,
    /// `Too long`.
    TooLong,
    /// `Too many`.
    TooMany,
    /// `Too few`.
    TooFew,
    /// `Too short`.
    TooShort,
    /// `Internal error`.
    Internal,
    /// `Invalid value` for a value of the wrong type.
    TypeInvalid,
}

/// One field error, as apimachinery `field.Error`.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    /// The field path, e.g. `spec.template.spec.containers[0].image`.
    pub field: String,
    /// What is wrong with it.
    pub error_type: ErrorType,
    /// The bad value rendered as the API server prints it (`"Never"`, `-1`, `0` for an
    /// IntOrString, `{"app":"x"}` for a map); `None` when not shown.
    pub bad_value: Option<String>,
    /// The explanation, e.g. `must be greater than or equal to 0`.
    pub detail: String,
}

/// An object failed validation; `Display` is what kubectl prints for the 422 Invalid Status.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct Invalid {
    /// The object's kind, e.g. `Deployment`.
    pub kind: &'static str,
    /// The object's name.
    pub name: String,
    /// Every field error, in the API server's order.
    pub causes: Vec<FieldError>,
}

impl ErrorType {
    /// The text Go prints for the type (`ErrorType.String()`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::NotFound => "Not found",
            ErrorType::Required => "Required value",
            ErrorType::Duplicate => "Duplicate value",
            ErrorType::Invalid | ErrorType::TypeInvalid => "Invalid value",
            ErrorType::NotSupported => "Unsupported value",
            ErrorType::Forbidden => "Forbidden",
            ErrorType::TooLong => "Too long",
            ErrorType::TooMany => "Too many",
            ErrorType::TooFew => "Too few",
            ErrorType::TooShort => "Too short",
            ErrorType::Internal => "Internal error",
        }
    }

    /// The Status cause `reason` (`metav1.CauseType`), e.g. `FieldValueInvalid`.
    pub fn cause_type(self) -> &'static str {
        match self {
            ErrorType::NotFound => "FieldValueNotFound",
            ErrorType::Required => "FieldValueRequired",
            ErrorType::Duplicate => "FieldValueDuplicate",
            ErrorType::Invalid => "FieldValueInvalid",
            ErrorType::NotSupported => "FieldValueNotSupported",
            ErrorType::Forbidden => "FieldValueForbidden",
            ErrorType::TooLong => "FieldValueTooLong",
            ErrorType::TooMany => "FieldValueTooMany",
            ErrorType::TooFew => "FieldValueTooFew",
            ErrorType::TooShort => "FieldValueTooShort",
            ErrorType::Internal => "InternalError",
            ErrorType::TypeInvalid => "FieldValueTypeInvalid",
        }
    }
}

impl FieldError {
    /// The error without its field (Go's `ErrorBody`); this is a Status cause's `message`.
    pub fn body(&self) -> String {
        let mut s = self.error_type.as_str().to_owned();
        let hides_value = matches!(
            self.error_type,
            ErrorType::Required
                | ErrorType::Forbidden
                | ErrorType::TooLong
                | ErrorType::TooShort
                | ErrorType::Internal
        );
        if !hides_value && let Some(v) = &self.bad_value {
            s.push_str(": ");
            s.push_str(v);
        }
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }
}

impl fmt::Display for FieldError {
    /// `spec.replicas: Invalid value: -1: must be greater than or equal to 0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

impl Invalid {
    /// The Status `message` the API server sends:
    /// `Deployment.apps "x" is invalid: [cause, cause]` (brackets only for several causes).
    pub fn status_message(&self) -> String {
        let group = match self.kind {
            "Deployment" | "ReplicaSet" => ".apps",
            "Ingress" | "IngressClass" => ".networking.k8s.io",
            "Job" | "CronJob" => ".batch",
            _ => "",
        };
        let causes: Vec<String> = self.causes.iter().map(ToString::to_string).collect();
        let list = if causes.len() == 1 {
            causes[0].clone()
        } else {
            format!("[{}]", causes.join(", "))
        };
        format!(
            "{}{group} {} is invalid: {list}",
            self.kind,
            go_quote(&self.name)
        )
    }
}

impl fmt::Display for Invalid {
    /// kubectl's rendering: `The Deployment "x" is invalid: <cause>` for one cause; for several,
    /// the same prefix followed by one `\n* <cause>` line per cause.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "The {} {} is invalid: ", self.kind, go_quote(&self.name))?;
        if self.causes.len() == 1 {
            write!(f, "{}", self.causes[0])
        } else {
            for c in &self.causes {
                write!(f, "\n* {c}")?;
            }
            Ok(())
        }
    }
}

/// Validates an object for create; `obj` must already carry its defaults.
pub fn validate(obj: &Object) -> Result<(), Invalid> {
    let mut e = Errs::default();
    match obj {
        Object::Deployment(d) => validate_deployment(d, &mut e),
        Object::ReplicaSet(rs) => validate_replica_set(rs, &mut e),
        Object::Pod(p) => validate_pod(p, &mut e),
        Object::Service(s) => validate_service(s, &mut e),
        Object::Namespace(ns) => validate_namespace(ns, &mut e),
        Object::Node(n) => validate_node(n, &mut e),
        Object::Endpoints(ep) => validate_endpoints(ep, &mut e),
        Object::Event(ev) => validate_event(ev, &mut e),
        Object::Ingress(ing) => networking::validate_ingress_create(ing, &mut e),
        Object::IngressClass(c) => networking::validate_ingress_class(c, &mut e),
        Object::HorizontalPodAutoscaler(h) => autoscaling::validate_hpa(h, &mut e),
        Object::ConfigMap(cm) => core::validate_config_map(cm, &mut e),
        Object::Secret(s) => core::validate_secret(s, &mut e),
        // Only the EndpointSlice controller writes slices here (writes through the API are
        // refused as for Endpoints), so `ValidateEndpointSlice` has nothing to check yet.
        Object::EndpointSlice(_) => {}
        Object::PodDisruptionBudget(pdb) => policy::validate_pdb(pdb, &mut e),
        Object::Job(job) => batch::validate_job(job, &mut e),
        Object::CronJob(cj) => batch::validate_cronjob(cj, &mut e),
        Object::ResourceQuota(q) => core::quota::validate_resource_quota(q, &mut e),
        Object::LimitRange(lr) => core::quota::validate_limit_range(lr, &mut e),
        // Read only: writes are refused before validation.
        Object::Lease(_) => {}
    }
    e.finish(obj)
}

/// Validates a write to the `status` subresource (the status strategies' `ValidateUpdate`):
/// the new status's own rules; spec and labels were kept from the stored object.
pub fn validate_status_update(new: &Object) -> Result<(), Invalid> {
    let mut e = Errs::default();
    match new {
        Object::Deployment(d) => apps::validate_deployment_status(d, &mut e),
        Object::ReplicaSet(rs) => apps::validate_replica_set_status(rs, &mut e),
        Object::Ingress(ing) => networking::validate_ingress_status(ing, &mut e),
        Object::HorizontalPodAutoscaler(h) => autoscaling::validate_hpa_status(h, &mut e),
        _ => {}
    }
    e.finish(new)
}

/// Validates an update of `old` into `new`: the create rules plus immutability (metadata name
/// and namespace, Deployment/ReplicaSet `spec.selector`, most of a Pod's spec, a Service's
/// cluster IP).
pub fn validate_update(old: &Object, new: &Object) -> Result<(), Invalid> {
    let mut e = Errs::default();
    validate_object_meta_update(new.metadata(), old.metadata(), &mut e);
    match (old, new) {
        (Object::Deployment(o), Object::Deployment(n)) => {
            let spec = n.spec.clone().unwrap_or_default();
            validate_deployment_spec(&spec, "spec", &mut e);
            let old_sel = o.spec.as_ref().map(|s| &s.selector);
            if old_sel != Some(&spec.selector) {
                e.invalid(
                    "spec.selector",
                    json_label_selector(&spec.selector),
                    IMMUTABLE,
                );
            }
        }
        (Object::ReplicaSet(o), Object::ReplicaSet(n)) => {
            let spec = n.spec.clone().unwrap_or_default();
            validate_replica_set_spec(&spec, "spec", &mut e);
            let old_sel = o.spec.as_ref().map(|s| &s.selector);
            if old_sel != Some(&spec.selector) {
                e.invalid(
                    "spec.selector",
                    json_label_selector(&spec.selector),
                    IMMUTABLE,
                );
            }
        }
        (Object::Pod(o), Object::Pod(n)) => validate_pod_update(o, n, &mut e),
        (Object::Service(o), Object::Service(n)) => {
            // ValidateServiceUpdate: cluster IPs first, then the whole of ValidateService.
            let ip = |s: &Service| {
                s.spec
                    .as_ref()
                    .and_then(|s| s.cluster_ip.clone())
                    .unwrap_or_default()
            };
            let (old_ip, new_ip) = (ip(o), ip(n));
            if !old_ip.is_empty() && !new_ip.is_empty() && old_ip != new_ip {
                e.invalid(
                    "spec.clusterIPs[0]",
                    json_strings(&[new_ip]),
                    "may not change once set",
                );
            }
            validate_service_body(n, &mut e);
            if e.0.is_empty() {
                validate_node_port_range(n, &mut e);
            }
        }
        (Object::Ingress(o), Object::Ingress(n)) => {
            networking::validate_ingress_update(n, o, &mut e);
        }
        (Object::IngressClass(o), Object::IngressClass(n)) => {
            let mut create = Errs::default();
            networking::validate_ingress_class_update(n, o, &mut create);
            e.0.extend(
                create
                    .0
                    .into_iter()
                    .filter(|c| !c.field.starts_with("metadata.")),
            );
        }
        (Object::ConfigMap(o), Object::ConfigMap(n)) => {
            core::validate_config_map_update(n, o, &mut e);
        }
        (Object::Secret(o), Object::Secret(n)) => core::validate_secret_update(n, o, &mut e),
        (Object::Job(o), Object::Job(n)) => batch::validate_job_update(n, o, &mut e),
        (_, n) => {
            // Kinds without extra update rules re-run their create rules minus metadata.name
            // (whose immutability was checked above).
            let mut create = Errs::default();
            match n {
                Object::Namespace(ns) => validate_namespace(ns, &mut create),
                Object::Node(node) => validate_node(node, &mut create),
                Object::Endpoints(ep) => validate_endpoints(ep, &mut create),
                Object::Event(ev) => validate_event(ev, &mut create),
                Object::HorizontalPodAutoscaler(h) => autoscaling::validate_hpa(h, &mut create),
                Object::CronJob(cj) => batch::validate_cronjob(cj, &mut create),
                Object::ResourceQuota(q) => core::quota::validate_resource_quota(q, &mut create),
                Object::LimitRange(l) => core::quota::validate_limit_range(l, &mut create),
                _ => {}
            }
            e.0.extend(
                create
                    .0
                    .into_iter()
                    .filter(|c| !c.field.starts_with("metadata.")),
            );
        }
    }
    e.finish(new)
}

#[derive(Default)]
struct Errs(Vec<FieldError>);

impl Errs {
    fn push(&mut self, field: &str, t: ErrorType, bad: Option<String>, detail: &str) {
        self.0.push(FieldError {
            field: field.to_owned(),
            error_type: t,
            bad_value: bad,
            detail: detail.to_owned(),
        });
    }
    fn invalid(&mut self, field: &str, bad: String, detail: &str) {
        self.push(field, ErrorType::Invalid, Some(bad), detail);
    }
    fn invalid_str(&mut self, field: &str, bad: &str, detail: &str) {
        self.invalid(field, go_quote(bad), detail);
    }
    fn required(&mut self, field: &str, detail: &str) {
        self.push(field, ErrorType::Required, None, detail);
    }
    fn forbidden(&mut self, field: &str, detail: &str) {
        self.push(field, ErrorType::Forbidden, None, detail);
    }
    fn duplicate(&mut self, field: &str, bad: String) {
        self.push(field, ErrorType::Duplicate, Some(bad), "");
    }
    /// `field.NotSupported`: the detail lists the quoted valid values.
    fn not_supported(&mut self, field: &str, bad: String, valid: &[&str]) {
        let quoted: Vec<String> = valid.iter().map(|v| go_quote(v)).collect();
        let detail = format!("supported values: {}", quoted.join(", "));
        self.push(field, ErrorType::NotSupported, Some(bad), &detail);
    }
    /// `field.TooLong`: the value is not shown. Kubernetes 1.32 and later word it
    /// `may not be more than N bytes`; older servers said `must have at most N bytes`.
    fn too_long(&mut self, field: &str, max_bytes: usize) {
        let unit = if max_bytes == 1 { "byte" } else { "bytes" };
        let detail = format!("may not be more than {max_bytes} {unit}");
        self.push(field, ErrorType::TooLong, None, &detail);
    }
    /// `ValidateNonnegativeField`.
    fn nonnegative(&mut self, field: &str, v: i64) {
        if v < 0 {
            self.invalid(field, v.to_string(), IS_NEGATIVE);
        }
    }
    fn finish(self, obj: &Object) -> Result<(), Invalid> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Invalid {
                kind: obj.kind(),
                name: obj.name().to_owned(),
                causes: self.0,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    //! The entry points and the messages, across kinds (`TestValidateDeployment`'s rendering,
    //! `TestValidate…Update`), and the helpers the other files' tests share.

    use super::*;
    use crate::api::decode::parse_manifests;
    use crate::api::defaults::set_defaults;
    use crate::api::fixtures::COURSE;

    /// Decodes, defaults and validates `yaml`; returns the rendered causes (empty when valid).
    pub(super) fn check(yaml: &str) -> Vec<String> {
        let docs = parse_manifests(yaml).unwrap_or_else(|e| panic!("decode failed: {e}"));
        let mut out = Vec::new();
        for d in docs {
            let mut obj = d.object;
            set_defaults(&mut obj);
            if let Err(inv) = validate(&obj) {
                out.extend(inv.causes.iter().map(ToString::to_string));
            }
        }
        out
    }

    pub(super) fn course_with(from: &str, to: &str) -> String {
        assert!(COURSE.contains(from), "fixture lacks {from:?}");
        COURSE.replacen(from, to, 1)
    }

    pub(super) fn invalid_of(yaml: &str) -> Invalid {
        let mut obj = parse_manifests(yaml).expect("decodes").remove(0).object;
        set_defaults(&mut obj);
        validate(&obj).expect_err("should be invalid")
    }

    #[test]
    fn course_manifest_is_valid() {
        assert_eq!(check(COURSE), Vec::<String>::new());
    }

    #[test]
    fn other_kinds_are_valid() {
        let y = "\
apiVersion: v1
kind: Namespace
metadata: {name: live-coding}
---
apiVersion: v1
kind: Service
metadata: {name: credit-scoring-api, namespace: live-coding}
spec:
  type: NodePort
  selector: {app: rest-api}
  ports: [{port: 80, targetPort: 8080, nodePort: 30080}]
---
apiVersion: v1
kind: Pod
metadata: {name: bare, namespace: live-coding}
spec:
  containers: [{name: c, image: nginx, resources: {requests: {cpu: 250m, memory: 64Mi}, limits: {cpu: '1', memory: 128Mi}}}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs, namespace: live-coding}
spec:
  replicas: 2
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec: {containers: [{name: c, image: nginx}]}
---
apiVersion: v1
kind: Node
metadata: {name: node-1}
---
apiVersion: v1
kind: Endpoints
metadata: {name: credit-scoring-api, namespace: live-coding}
subsets: [{addresses: [{ip: 10.0.0.1}], ports: [{port: 8080}]}]
";
        assert_eq!(check(y), Vec::<String>::new());
    }

    #[test]
    fn bad_name_and_message_rendering() {
        let inv = invalid_of(&course_with(
            "name: credit-scoring-api\n  namespace",
            "name: Bad_Name\n  namespace",
        ));
        assert_eq!(inv.kind, "Deployment");
        assert_eq!(
            inv.to_string(),
            "The Deployment \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        );
    }

    #[test]
    fn several_causes_render_as_a_list() {
        let y = course_with("replicas: 10", "replicas: -1").replace(
            "{maxSurge: 2, maxUnavailable: 0}",
            "{maxSurge: 0, maxUnavailable: 0}",
        );
        let inv = invalid_of(&y);
        assert_eq!(
            inv.to_string(),
            "The Deployment \"credit-scoring-api\" is invalid: \n\
             * spec.replicas: Invalid value: -1: must be greater than or equal to 0\n\
             * spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"
        );
        assert!(inv.status_message().starts_with(
            "Deployment.apps \"credit-scoring-api\" is invalid: [spec.replicas: Invalid value: -1"
        ));
        assert_eq!(
            inv.causes[0].body(),
            "Invalid value: -1: must be greater than or equal to 0"
        );
        assert_eq!(inv.causes[0].error_type.cause_type(), "FieldValueInvalid");
    }

    #[test]
    fn update_rules() {
        let load = |y: &str| {
            let mut o = parse_manifests(y).expect("decodes").remove(0).object;
            set_defaults(&mut o);
            o
        };
        let old = load(COURSE);
        let new = load(&course_with(
            "image: registry.local/credit-scoring-api:single",
            "image: x:2",
        ));
        assert_eq!(validate_update(&old, &new), Ok(()));
        let moved = load(&course_with(
            "    matchLabels: {phase: live-coding, app: rest-api}",
            "    matchLabels: {app: rest-api}",
        ));
        let err = validate_update(&old, &moved).expect_err("selector is immutable");
        assert_eq!(
            err.causes
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            [
                "spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"rest-api\"}}: field is immutable"
            ]
        );
        let pod = "{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: d}, spec: {containers: [{name: c, image: i}]}}";
        let old = load(pod);
        assert_eq!(
            validate_update(&old, &load(&pod.replace("image: i", "image: j"))),
            Ok(())
        );
        let err = validate_update(&old, &load(&pod.replace("name: c", "name: d")))
            .expect_err("forbidden");
        assert_eq!(err.causes[0].field, "spec");
        assert_eq!(err.causes[0].error_type, ErrorType::Forbidden);
        let err =
            validate_update(&old, &load(&pod.replace("name: p", "name: q"))).expect_err("rename");
        assert_eq!(
            err.causes[0].to_string(),
            "metadata.name: Invalid value: \"q\": field is immutable"
        );
        let svc = "{apiVersion: v1, kind: Service, metadata: {name: s, namespace: d}, spec: {clusterIP: 10.0.0.1, ports: [{port: 80}]}}";
        let err = validate_update(&load(svc), &load(&svc.replace("10.0.0.1", "10.0.0.2")))
            .expect_err("ip");
        assert_eq!(
            err.causes[0].to_string(),
            "spec.clusterIPs[0]: Invalid value: [\"10.0.0.2\"]: may not change once set"
        );
    }

    #[test]
    fn odd_input_never_panics() {
        for y in [
            "{apiVersion: v1, kind: Pod, metadata: {name: \"ü\", namespace: \"-\"}, spec: {containers: [{name: \"\", resources: {limits: {cpu: 99999999999999999999999999999999999E}, requests: {cpu: 1e1000}}}]}}",
            "{apiVersion: v1, kind: Service, metadata: {name: \"\"}, spec: {type: ExternalName, ports: [{port: -5, targetPort: \"\"}]}}",
            "{apiVersion: apps/v1, kind: Deployment, metadata: {generateName: x-}, spec: {strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: \"99999999999999999999%\", maxUnavailable: \"%\"}}}}",
        ] {
            if let Ok(docs) = parse_manifests(y) {
                for d in docs {
                    let mut o = d.object;
                    set_defaults(&mut o);
                    let _ = validate(&o).map_err(|e| e.to_string());
                    let _ = validate_update(&o, &o);
                }
            }
        }
    }
}
