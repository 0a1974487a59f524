//! ObjectMeta, labels, annotations and label selectors: apimachinery
//! `pkg/api/validation/objectmeta.go` and `pkg/apis/meta/v1/validation/validation.go`.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::Errs;
use super::names::{
    is_dns1035_label, is_dns1123_label, is_dns1123_subdomain, is_qualified_name,
    is_valid_label_value,
};

/// `FieldImmutableErrorMsg`.
pub(super) const IMMUTABLE: &str = "field is immutable";
/// `IsNegativeErrorMsg`.
pub(super) const IS_NEGATIVE: &str = "must be greater than or equal to 0";

/// Which name rule an object kind uses (`ValidateNameFunc`).
#[derive(Clone, Copy)]
pub(super) enum NameRule {
    Subdomain,
    Label,
    Dns1035,
}

impl NameRule {
    fn check(self, name: &str, prefix: bool) -> Vec<String> {
        // A generateName prefix may end in '-' (Go's maskTrailingDash).
        let masked;
        let name = if prefix && name.len() > 1 && name.ends_with('-') {
            masked = format!("{}a", &name[..name.len() - 1]);
            masked.as_str()
        } else {
            name
        };
        match self {
            NameRule::Subdomain => is_dns1123_subdomain(name),
            NameRule::Label => is_dns1123_label(name),
            NameRule::Dns1035 => is_dns1035_label(name),
        }
    }
}

/// `ValidateObjectMeta`.
pub(super) fn validate_object_meta(
    meta: &ObjectMeta,
    namespaced: bool,
    rule: NameRule,
    e: &mut Errs,
) {
    if let Some(g) = meta.generate_name.as_deref().filter(|g| !g.is_empty()) {
        for m in rule.check(g, true) {
            e.invalid_str("metadata.generateName", g, &m);
        }
    }
    match meta.name.as_deref().unwrap_or("") {
        "" => e.required("metadata.name", "name or generateName is required"),
        name => {
            for m in rule.check(name, false) {
                e.invalid_str("metadata.name", name, &m);
            }
        }
    }
    // A cluster-scoped object's namespace is cleared by the API server before validation
    // (`rest.BeforeCreate` → `EnsureObjectNamespaceMatchesRequestNamespace`), so Go's
    // "not allowed on this type" is never seen through kubectl; it is not reported here either.
    let ns = meta.namespace.as_deref().unwrap_or("");
    if namespaced {
        if ns.is_empty() {
            e.required("metadata.namespace", "");
        } else {
            for m in is_dns1123_label(ns) {
                e.invalid_str("metadata.namespace", ns, &m);
            }
        }
    }
    e.nonnegative("metadata.generation", meta.generation.unwrap_or(0));
    validate_labels(meta.labels.as_ref(), "metadata.labels", e);
    validate_annotations(meta.annotations.as_ref(), "metadata.annotations", e);
}

/// `ValidateObjectMetaUpdate` (the parts kubesim's objects can violate).
pub(super) fn validate_object_meta_update(new: &ObjectMeta, old: &ObjectMeta, e: &mut Errs) {
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    if s(&new.name) != s(&old.name) {
        e.invalid_str("metadata.name", &s(&new.name), IMMUTABLE);
    }
    if s(&new.namespace) != s(&old.namespace) {
        e.invalid_str("metadata.namespace", &s(&new.namespace), IMMUTABLE);
    }
    if new.uid.is_some() && s(&new.uid) != s(&old.uid) {
        e.invalid_str("metadata.uid", &s(&new.uid), IMMUTABLE);
    }
    validate_labels(new.labels.as_ref(), "metadata.labels", e);
    validate_annotations(new.annotations.as_ref(), "metadata.annotations", e);
}

/// `ValidateLabels`: each key is a qualified name, each value a label value.
pub(super) fn validate_labels(labels: Option<&BTreeMap<String, String>>, path: &str, e: &mut Errs) {
    for (k, v) in labels.into_iter().flatten() {
        for m in is_qualified_name(k) {
            e.invalid_str(path, k, &m);
        }
        for m in is_valid_label_value(v) {
            e.invalid_str(path, v, &m);
        }
    }
}

/// `ValidateAnnotations` (keys only; the 256 KiB total is not checked).
pub(super) fn validate_annotations(
    ann: Option<&BTreeMap<String, String>>,
    path: &str,
    e: &mut Errs,
) {
    for k in ann.into_iter().flatten().map(|(k, _)| k) {
        for m in is_qualified_name(&k.to_lowercase()) {
            e.invalid_str(path, k, &m);
        }
    }
}

/// `ValidateLabelSelector`.
pub(super) fn validate_label_selector(sel: &LabelSelector, path: &str, e: &mut Errs) {
    validate_labels(sel.match_labels.as_ref(), &format!("{path}.matchLabels"), e);
    for (i, r) in sel.match_expressions.iter().flatten().enumerate() {
        let p = format!("{path}.matchExpressions[{i}]");
        let n_values = r.values.as_ref().map_or(0, Vec::len);
        match r.operator.as_str() {
            "In" | "NotIn" => {
                if n_values == 0 {
                    e.required(
                        &format!("{p}.values"),
                        "must be specified when `operator` is 'In' or 'NotIn'",
                    );
                }
            }
            "Exists" | "DoesNotExist" => {
                if n_values > 0 {
                    e.forbidden(
                        &format!("{p}.values"),
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    );
                }
            }
            op => e.invalid_str(
                &format!("{p}.operator"),
                op,
                "not a valid selector operator",
            ),
        }
        for m in is_qualified_name(&r.key) {
            e.invalid_str(&format!("{p}.key"), &r.key, &m);
        }
        for (j, v) in r.values.iter().flatten().enumerate() {
            for m in is_valid_label_value(v) {
                e.invalid_str(&format!("{p}.values[{j}]"), v, &m);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! `TestValidateObjectMeta…` and `TestValidateLabels` cases of `objectmeta_test.go`.

    use crate::api::validation::tests::{check, course_with};

    #[test]
    fn bad_labels() {
        let y = course_with(
            "labels: {phase: live-coding, app: rest-api}\nspec",
            "labels: {'a/b/c': x, ok: -bad}\nspec",
        );
        assert_eq!(
            check(&y),
            [
                "metadata.labels: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                "metadata.labels: Invalid value: \"-bad\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
            ]
        );
    }

    #[test]
    fn namespace_is_required_for_namespaced_kinds() {
        assert_eq!(
            check(
                "{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, image: i}]}}"
            ),
            ["metadata.namespace: Required value"]
        );
    }
}
