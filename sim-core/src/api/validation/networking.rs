//! Ingress and IngressClass: kubernetes `pkg/apis/networking/validation/validation.go`
//! (`ValidateIngressCreate`, `ValidateIngressUpdate`, `ValidateIngressSpec`,
//! `validateHTTPIngressPath`, `validateIngressBackend`, `ValidateIngressClass`,
//! `ValidateIngressLoadBalancerStatus`) with the v1 API's options: secret names and wildcard
//! host rules checked strictly, backend Service names as DNS-1035 labels (the
//! `RelaxedServiceNameValidation` gate is alpha and off).

use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, Ingress, IngressBackend, IngressClass, IngressClassParametersReference,
    IngressSpec,
};

use super::Errs;
use super::go_fmt::go_quote;
use super::meta::{IMMUTABLE, NameRule, validate_object_meta};
use super::names::{
    is_dns1035_label, is_dns1123_label, is_dns1123_subdomain, is_valid_port_name,
    is_valid_port_num, is_wildcard_dns1123_subdomain,
};

/// The annotation that named an Ingress's class before `spec.ingressClassName`.
const ANNOTATION_INGRESS_CLASS: &str = "kubernetes.io/ingress.class";
/// `maxLenIngressClassController`.
const MAX_LEN_INGRESS_CLASS_CONTROLLER: usize = 250;
/// `supportedPathTypes.List()` (sorted).
const SUPPORTED_PATH_TYPES: &[&str] = &["Exact", "ImplementationSpecific", "Prefix"];
const INVALID_PATH_SEQUENCES: &[&str] = &["//", "/./", "/../", "%2f", "%2F"];
const INVALID_PATH_SUFFIXES: &[&str] = &["/..", "/."];

/// `ValidateIngressCreate`.
pub(super) fn validate_ingress_create(ing: &Ingress, e: &mut Errs) {
    validate_object_meta(&ing.metadata, true, NameRule::Subdomain, e);
    let spec = ing.spec.clone().unwrap_or_default();
    validate_ingress_spec(&spec, e);
    let annotation = ing
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(ANNOTATION_INGRESS_CLASS));
    if let (Some(a), Some(class)) = (annotation, spec.ingress_class_name.as_ref())
        && a != class
    {
        e.invalid_str(
            &format!("annotations.{ANNOTATION_INGRESS_CLASS}"),
            a,
            "must match `ingressClassName` when both are specified",
        );
    }
}

/// `ValidateIngressUpdate` after `ValidateObjectMetaUpdate` (which the caller ran): the spec
/// again, with the old object's leniencies (an invalid wildcard rule or secret name already
/// stored stays allowed).
pub(super) fn validate_ingress_update(new: &Ingress, old: &Ingress, e: &mut Errs) {
    let spec = new.spec.clone().unwrap_or_default();
    let old_spec = old.spec.clone().unwrap_or_default();
    let mut probe = Errs::default();
    for rule in old_spec.rules.iter().flatten() {
        if rule.host.as_deref().unwrap_or("").contains('*')
            && let Some(http) = &rule.http
        {
            validate_http_paths(&http.paths, "", &mut probe);
        }
    }
    let allow_wildcard = !probe.0.is_empty();
    let allow_secret = old_spec
        .tls
        .iter()
        .flatten()
        .any(|t| !tls_secret_name_errors(t.secret_name.as_deref().unwrap_or("")).is_empty());
    spec_checks(&spec, allow_wildcard, allow_secret, e);
}

fn validate_ingress_spec(spec: &IngressSpec, e: &mut Errs) {
    spec_checks(spec, false, false, e);
}

/// `ValidateIngressSpec`.
fn spec_checks(spec: &IngressSpec, allow_wildcard: bool, allow_secret: bool, e: &mut Errs) {
    let rules = spec.rules.as_deref().unwrap_or(&[]);
    if rules.is_empty() && spec.default_backend.is_none() {
        // The bad value is Go's nil (or empty) slice as JSON.
        let bad = if spec.rules.is_some() { "[]" } else { "null" };
        e.invalid(
            "spec",
            bad.to_owned(),
            "either `defaultBackend` or `rules` must be specified",
        );
    }
    if let Some(b) = &spec.default_backend {
        validate_ingress_backend(b, "spec.defaultBackend", e);
    }
    for (i, rule) in rules.iter().enumerate() {
        let path = format!("spec.rules[{i}]");
        let host = rule.host.as_deref().unwrap_or("");
        let mut wildcard = false;
        if !host.is_empty() {
            if host.parse::<std::net::IpAddr>().is_ok() {
                e.invalid_str(
                    &format!("{path}.host"),
                    host,
                    "must be a DNS name, not an IP address",
                );
            }
            let msgs = if host.contains('*') {
                wildcard = true;
                is_wildcard_dns1123_subdomain(host)
            } else {
                is_dns1123_subdomain(host)
            };
            for m in msgs {
                e.invalid_str(&format!("{path}.host"), host, &m);
            }
        }
        if (!wildcard || !allow_wildcard)
            && let Some(http) = &rule.http
        {
            validate_http_paths(&http.paths, &format!("{path}.http"), e);
        }
    }
    for (i, tls) in spec.tls.iter().flatten().enumerate() {
        for (j, host) in tls.hosts.iter().flatten().enumerate() {
            let field = format!("spec.tls[{i}].hosts[{j}]");
            let msgs = if host.contains('*') {
                is_wildcard_dns1123_subdomain(host)
            } else {
                is_dns1123_subdomain(host)
            };
            for m in msgs {
                e.invalid_str(&field, host, &m);
            }
        }
        if !allow_secret {
            let name = tls.secret_name.as_deref().unwrap_or("");
            for m in tls_secret_name_errors(name) {
                e.invalid_str(&format!("spec.tls[{i}].secretName"), name, &m);
            }
        }
    }
    if let Some(class) = &spec.ingress_class_name {
        for m in is_dns1123_subdomain(class) {
            e.invalid_str("spec.ingressClassName", class, &m);
        }
    }
}

fn tls_secret_name_errors(name: &str) -> Vec<String> {
    if name.is_empty() {
        Vec::new()
    } else {
        is_dns1123_subdomain(name)
    }
}

/// `validateHTTPIngressRuleValue`.
fn validate_http_paths(paths: &[HTTPIngressPath], base: &str, e: &mut Errs) {
    let field = |rest: &str| {
        if base.is_empty() {
            rest.to_owned()
        } else {
            format!("{base}.{rest}")
        }
    };
    if paths.is_empty() {
        e.required(&field("paths"), "");
    }
    for (i, p) in paths.iter().enumerate() {
        validate_http_ingress_path(p, &field(&format!("paths[{i}]")), e);
    }
}

/// `validateHTTPIngressPath`: pathType required and known; Exact and Prefix paths absolute
/// and clean; an ImplementationSpecific path absolute when set; then the backend.
fn validate_http_ingress_path(p: &HTTPIngressPath, base: &str, e: &mut Errs) {
    let path = p.path.as_deref().unwrap_or("");
    let path_field = format!("{base}.path");
    match p.path_type.as_str() {
        "" => {
            // k8s-openapi decodes a missing pathType as "" (Go's nil pointer).
            e.required(&format!("{base}.pathType"), "pathType must be specified");
            return;
        }
        "Exact" | "Prefix" => {
            if !path.starts_with('/') {
                e.invalid_str(&path_field, path, "must be an absolute path");
            }
            if !path.is_empty() {
                for seq in INVALID_PATH_SEQUENCES {
                    if path.contains(seq) {
                        e.invalid_str(&path_field, path, &format!("must not contain '{seq}'"));
                    }
                }
                for suffix in INVALID_PATH_SUFFIXES {
                    if path.ends_with(suffix) {
                        e.invalid_str(&path_field, path, &format!("cannot end with '{suffix}'"));
                    }
                }
            }
        }
        "ImplementationSpecific" => {
            if !path.is_empty() && !path.starts_with('/') {
                e.invalid_str(&path_field, path, "must be an absolute path");
            }
        }
        other => e.not_supported(
            &format!("{base}.pathType"),
            go_quote(other),
            SUPPORTED_PATH_TYPES,
        ),
    }
    validate_ingress_backend(&p.backend, &format!("{base}.backend"), e);
}

/// `validateIngressBackend`.
fn validate_ingress_backend(b: &IngressBackend, base: &str, e: &mut Errs) {
    match (&b.resource, &b.service) {
        (Some(_), Some(_)) => {
            e.invalid(
                base,
                go_quote(""),
                "cannot set both resource and service backends",
            );
        }
        (Some(r), None) => {
            let field = format!("{base}.resource");
            if let Some(g) = &r.api_group {
                for m in is_dns1123_subdomain(g) {
                    e.invalid_str(&format!("{field}.apiGroup"), g, &m);
                }
            }
            for (name, v) in [("kind", &r.kind), ("name", &r.name)] {
                if v.is_empty() {
                    e.required(&format!("{field}.{name}"), "");
                } else {
                    for m in path_segment_name_errors(v) {
                        e.invalid_str(&format!("{field}.{name}"), v, &m);
                    }
                }
            }
        }
        (None, Some(s)) => {
            if s.name.is_empty() {
                e.required(&format!("{base}.service.name"), "");
            } else {
                for m in is_dns1035_label(&s.name) {
                    e.invalid_str(&format!("{base}.service.name"), &s.name, &m);
                }
            }
            let port = s.port.clone().unwrap_or_default();
            let name = port.name.as_deref().unwrap_or("");
            let number = port.number.unwrap_or(0);
            if !name.is_empty() && number != 0 {
                e.invalid(
                    base,
                    go_quote(""),
                    "cannot set both port name & port number",
                );
            } else if !name.is_empty() {
                for m in is_valid_port_name(name) {
                    e.invalid_str(&format!("{base}.service.port.name"), name, &m);
                }
            } else if number != 0 {
                for m in is_valid_port_num(i64::from(number)) {
                    e.invalid(
                        &format!("{base}.service.port.number"),
                        number.to_string(),
                        &m,
                    );
                }
            } else {
                e.required(base, "port name or number is required");
            }
        }
        (None, None) => {
            e.invalid(
                base,
                go_quote(""),
                "resource or service backend is required",
            );
        }
    }
}

/// apimachinery `content.IsPathSegmentName`.
fn path_segment_name_errors(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    if name == "." || name == ".." {
        out.push(format!("may not be '{name}'"));
    }
    for illegal in ["/", "%"] {
        if name.contains(illegal) {
            out.push(format!("may not contain '{illegal}'"));
        }
    }
    out
}

/// `ValidateIngressClass`.
pub(super) fn validate_ingress_class(c: &IngressClass, e: &mut Errs) {
    validate_object_meta(&c.metadata, false, NameRule::Subdomain, e);
    let spec = c.spec.clone().unwrap_or_default();
    let controller = spec.controller.as_deref().unwrap_or("");
    if controller.is_empty() {
        e.required("spec.controller", "");
    } else {
        if controller.len() > MAX_LEN_INGRESS_CLASS_CONTROLLER {
            e.too_long("spec.controller", MAX_LEN_INGRESS_CLASS_CONTROLLER);
        }
        validate_domain_prefixed_path("spec.controller", controller, e);
    }
    if let Some(p) = &spec.parameters {
        validate_parameters(p, e);
    }
}

/// `ValidateIngressClassUpdate` after the metadata: the controller is immutable, then the
/// create rules.
pub(super) fn validate_ingress_class_update(new: &IngressClass, old: &IngressClass, e: &mut Errs) {
    let controller = |c: &IngressClass| c.spec.as_ref().and_then(|s| s.controller.clone());
    if controller(new) != controller(old) {
        e.invalid_str(
            "spec.controller",
            &controller(new).unwrap_or_default(),
            IMMUTABLE,
        );
    }
    validate_ingress_class(new, e);
}

/// apimachinery `IsDomainPrefixedPath`.
fn validate_domain_prefixed_path(field: &str, v: &str, e: &mut Errs) {
    let Some((host, path)) = v
        .split_once('/')
        .filter(|(h, p)| !h.is_empty() && !p.is_empty())
    else {
        e.invalid_str(
            field,
            v,
            "must be a domain-prefixed path (such as \"acme.io/foo\")",
        );
        return;
    };
    for m in is_dns1123_subdomain(host) {
        e.invalid_str(field, host, &m);
    }
    let ok = path
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || b"/-._~%!$&'()*+,;=:".contains(&c));
    if !ok {
        e.invalid_str(
            field,
            path,
            "Invalid path (regex used for validation is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')",
        );
    }
}

/// `validateIngressClassParametersReference`.
fn validate_parameters(p: &IngressClassParametersReference, e: &mut Errs) {
    let base = "spec.parameters";
    if let Some(g) = &p.api_group {
        for m in is_dns1123_subdomain(g) {
            e.invalid_str(&format!("{base}.apiGroup"), g, &m);
        }
    }
    for (name, v) in [("kind", &p.kind), ("name", &p.name)] {
        if v.is_empty() {
            e.required(&format!("{base}.{name}"), "");
        } else {
            for m in path_segment_name_errors(v) {
                e.invalid_str(&format!("{base}.{name}"), v, &m);
            }
        }
    }
    let Some(scope) = p.scope.as_deref() else {
        e.required(&format!("{base}.scope"), "");
        return;
    };
    match scope {
        "Namespace" => match p.namespace.as_deref() {
            None => e.required(
                &format!("{base}.namespace"),
                "`parameters.scope` is set to 'Namespace'",
            ),
            Some(ns) => {
                for m in is_dns1123_label(ns) {
                    e.invalid_str(&format!("{base}.namespace"), ns, &m);
                }
            }
        },
        "Cluster" => {
            if p.namespace.is_some() {
                e.forbidden(
                    &format!("{base}.namespace"),
                    "`parameters.scope` is set to 'Cluster'",
                );
            }
        }
        other => e.not_supported(
            &format!("{base}.scope"),
            go_quote(other),
            &["Cluster", "Namespace"],
        ),
    }
}

/// `ValidateIngressLoadBalancerStatus` (the IPs and hostnames a status write sets).
pub(super) fn validate_ingress_status(ing: &Ingress, e: &mut Errs) {
    let entries = ing
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|l| l.ingress.as_ref());
    for (i, entry) in entries.into_iter().flatten().enumerate() {
        let base = format!("status.loadBalancer.ingress[{i}]");
        if let Some(ip) = entry.ip.as_deref().filter(|ip| !ip.is_empty())
            && ip.parse::<std::net::IpAddr>().is_err()
        {
            e.invalid_str(
                &format!("{base}.ip"),
                ip,
                "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
            );
        }
        if let Some(h) = entry.hostname.as_deref().filter(|h| !h.is_empty()) {
            for m in is_dns1123_subdomain(h) {
                e.invalid_str(&format!("{base}.hostname"), h, &m);
            }
            if h.parse::<std::net::IpAddr>().is_ok() {
                e.invalid_str(
                    &format!("{base}.hostname"),
                    h,
                    "must be a DNS name, not an IP address",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Cases from `TestValidateIngress`, `TestValidateIngressCreate` and
    //! `TestValidateIngressClass` of `pkg/apis/networking/validation/validation_test.go`,
    //! rendered as kubectl prints them.

    use crate::api::validation::tests::check;

    const BASE: &str = "\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: default}
spec:
  rules:
  - host: api.local
    http:
      paths:
      - path: /predict
        pathType: Prefix
        backend:
          service: {name: web, port: {number: 80}}
";

    fn with(from: &str, to: &str) -> Vec<String> {
        assert!(BASE.contains(from), "fixture lacks {from:?}");
        check(&BASE.replacen(from, to, 1))
    }

    #[test]
    fn a_plain_ingress_is_valid() {
        assert_eq!(check(BASE), Vec::<String>::new());
        assert_eq!(
            with("host: api.local", "host: '*.foo.com'"),
            Vec::<String>::new()
        );
        assert_eq!(
            with("pathType: Prefix", "pathType: ImplementationSpecific"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn path_types_and_paths() {
        assert_eq!(
            with("pathType: Prefix", "pathType: Foo"),
            [
                "spec.rules[0].http.paths[0].pathType: Unsupported value: \"Foo\": supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\""
            ]
        );
        assert_eq!(
            with("        pathType: Prefix\n", ""),
            ["spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"]
        );
        assert_eq!(
            with("path: /predict", "path: predict"),
            [
                "spec.rules[0].http.paths[0].path: Invalid value: \"predict\": must be an absolute path"
            ]
        );
        assert_eq!(
            with("path: /predict", "path: /a//b"),
            ["spec.rules[0].http.paths[0].path: Invalid value: \"/a//b\": must not contain '//'"]
        );
        assert_eq!(
            with("path: /predict", "path: /a/.."),
            ["spec.rules[0].http.paths[0].path: Invalid value: \"/a/..\": cannot end with '/..'"]
        );
        assert_eq!(
            with(
                "path: /predict\n        pathType: Prefix",
                "path: predict\n        pathType: ImplementationSpecific"
            ),
            [
                "spec.rules[0].http.paths[0].path: Invalid value: \"predict\": must be an absolute path"
            ]
        );
    }

    #[test]
    fn hosts_backends_and_the_default_backend() {
        assert_eq!(
            with("host: api.local", "host: '*.*.foo.com'"),
            [
                "spec.rules[0].host: Invalid value: \"*.*.foo.com\": a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
            ]
        );
        assert_eq!(
            with("host: api.local", "host: 127.0.0.1"),
            [
                "spec.rules[0].host: Invalid value: \"127.0.0.1\": must be a DNS name, not an IP address"
            ]
        );
        assert_eq!(
            with("port: {number: 80}", "port: {number: 80, name: http}"),
            [
                "spec.rules[0].http.paths[0].backend: Invalid value: \"\": cannot set both port name & port number"
            ]
        );
        assert_eq!(
            with("port: {number: 80}", "port: {}"),
            [
                "spec.rules[0].http.paths[0].backend: Required value: port name or number is required"
            ]
        );
        assert_eq!(
            with("port: {number: 80}", "port: {number: 70000}"),
            [
                "spec.rules[0].http.paths[0].backend.service.port.number: Invalid value: 70000: must be between 1 and 65535, inclusive"
            ]
        );
        assert_eq!(
            with("name: web, port", "name: 1web, port"),
            [
                "spec.rules[0].http.paths[0].backend.service.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
            ]
        );
        let no_rules = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: default}\nspec: {}\n";
        assert_eq!(
            check(no_rules),
            ["spec: Invalid value: null: either `defaultBackend` or `rules` must be specified"]
        );
        let default_only = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: default}\nspec:\n  defaultBackend:\n    service: {name: web, port: {name: http}}\n";
        assert_eq!(check(default_only), Vec::<String>::new());
        let class_mismatch = BASE.replace(
            "metadata: {name: web, namespace: default}",
            "metadata: {name: web, namespace: default, annotations: {kubernetes.io/ingress.class: nginx}}\n",
        ) + "  ingressClassName: kubesim\n";
        assert_eq!(
            check(&class_mismatch),
            [
                "annotations.kubernetes.io/ingress.class: Invalid value: \"nginx\": must match `ingressClassName` when both are specified"
            ]
        );
    }

    #[test]
    fn ingress_classes() {
        let class = |controller: &str| {
            format!(
                "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {{name: kubesim}}\nspec: {{controller: {controller}}}\n"
            )
        };
        assert_eq!(check(&class("kubesim.dev/ingress")), Vec::<String>::new());
        assert_eq!(
            check(&class("foo")),
            [
                "spec.controller: Invalid value: \"foo\": must be a domain-prefixed path (such as \"acme.io/foo\")"
            ]
        );
        assert_eq!(
            check(
                "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: x}\nspec: {}\n"
            ),
            ["spec.controller: Required value"]
        );
    }
}
