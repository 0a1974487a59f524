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
/// `TotalAnnotationSizeLimitB`: 256 KiB for all of an object's annotations, keys included.
pub(super) const TOTAL_ANNOTATION_SIZE_LIMIT_B: usize = 256 * (1 << 10);

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

/// `ValidateAnnotations`: each key is a qualified name (in any case), and the keys and values
/// together hold at most [`TOTAL_ANNOTATION_SIZE_LIMIT_B`] bytes (`ValidateAnnotationsSize`).
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
    let total: usize = ann
        .into_iter()
        .flatten()
        .map(|(k, v)| k.len() + v.len())
        .sum();
    if total > TOTAL_ANNOTATION_SIZE_LIMIT_B {
        e.too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT_B);
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

    use std::collections::BTreeMap;

    use k8s_openapi::api::core::v1::Namespace;

    use super::TOTAL_ANNOTATION_SIZE_LIMIT_B;
    use crate::api::Object;
    use crate::api::validation::tests::{check, course_with};
    use crate::api::validation::{ErrorType, validate};

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

    /// A namespace `n` with these annotations, validated: the rendered causes.
    fn annotated(annotations: &[(&str, String)]) -> Vec<String> {
        let mut ns = Namespace::default();
        ns.metadata.name = Some("n".to_owned());
        let ann: BTreeMap<String, String> = annotations
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        ns.metadata.annotations = Some(ann);
        match validate(&Object::Namespace(ns)) {
            Ok(()) => Vec::new(),
            Err(inv) => inv.causes.iter().map(ToString::to_string).collect(),
        }
    }

    /// `TestValidateAnnotations`' size cases: keys and values count, the limit itself passes.
    #[test]
    fn annotations_total_size() {
        let limit = TOTAL_ANNOTATION_SIZE_LIMIT_B;
        assert_eq!(limit, 262_144);
        let at_limit = [("a", "x".repeat(limit - 1))];
        assert_eq!(annotated(&at_limit), Vec::<String>::new());
        let split = [
            ("a", "x".repeat(limit / 2 - 1)),
            ("b", "x".repeat(limit / 2 - 1)),
        ];
        assert_eq!(annotated(&split), Vec::<String>::new());
        let over = [("a", "x".repeat(limit))];
        assert_eq!(
            annotated(&over),
            ["metadata.annotations: Too long: may not be more than 262144 bytes"]
        );
        let over = [("a", "x".repeat(limit / 2)), ("b", "x".repeat(limit / 2))];
        assert_eq!(annotated(&over).len(), 1);
    }

    /// What the API server's 422 carries and kubectl prints for too many annotation bytes.
    #[test]
    fn annotations_too_long_renders_as_the_api_server_does() {
        let mut ns = Namespace::default();
        ns.metadata.name = Some("n".to_owned());
        ns.metadata.annotations = Some(BTreeMap::from([(
            "a".to_owned(),
            "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT_B),
        )]));
        let inv = validate(&Object::Namespace(ns)).expect_err("too long");
        let cause = &inv.causes[0];
        assert_eq!(cause.field, "metadata.annotations");
        assert_eq!(cause.error_type, ErrorType::TooLong);
        assert_eq!(cause.error_type.cause_type(), "FieldValueTooLong");
        assert_eq!(cause.body(), "Too long: may not be more than 262144 bytes");
        assert_eq!(
            inv.status_message(),
            "Namespace \"n\" is invalid: metadata.annotations: Too long: may not be more than 262144 bytes"
        );
        assert_eq!(
            inv.to_string(),
            "The Namespace \"n\" is invalid: metadata.annotations: Too long: may not be more than 262144 bytes"
        );
    }

    /// Pod templates carry the same rule, at the template's path.
    #[test]
    fn template_annotations_total_size() {
        let big = "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT_B);
        let y = course_with(
            "labels: {phase: live-coding, app: rest-api}\n    spec",
            &format!(
                "labels: {{phase: live-coding, app: rest-api}}\n      annotations: {{a: {big}}}\n    spec"
            ),
        );
        assert_eq!(
            check(&y),
            ["spec.template.annotations: Too long: may not be more than 262144 bytes"]
        );
    }

    /// `TestValidateAnnotations`' key cases: qualified names, case does not matter.
    #[test]
    fn annotation_keys_are_qualified_names() {
        let ok = [
            ("simple", String::new()),
            ("Now-With.Dots_And-Caps", String::new()),
            ("example.com/MyKey", String::new()),
            ("EXAMPLE.com/key", String::new()),
        ];
        assert_eq!(annotated(&ok), Vec::<String>::new());
        assert_eq!(
            annotated(&[("a b", String::new())]),
            [
                "metadata.annotations: Invalid value: \"a b\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
            ]
        );
        assert_eq!(annotated(&[("a/b/c", String::new())]).len(), 1);
        assert_eq!(annotated(&[("/a", String::new())]).len(), 1);
    }
}
