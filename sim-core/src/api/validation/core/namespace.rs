//! Namespaces: `ValidateNamespace` (a cluster-scoped DNS-1123 label).

use k8s_openapi::api::core::v1::Namespace;

use crate::api::validation::Errs;
use crate::api::validation::meta::{NameRule, validate_object_meta};

pub(in crate::api::validation) fn validate_namespace(ns: &Namespace, e: &mut Errs) {
    validate_object_meta(&ns.metadata, false, NameRule::Label, e);
}

#[cfg(test)]
mod tests {
    //! Cases of `TestValidateNamespace`.

    use crate::api::validation::tests::check;

    #[test]
    fn namespace_rules() {
        assert_eq!(
            check("{apiVersion: v1, kind: Namespace, metadata: {name: a.b}}"),
            [
                "metadata.name: Invalid value: \"a.b\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
            ]
        );
        assert_eq!(
            check("{apiVersion: v1, kind: Namespace, metadata: {namespace: x}}"),
            ["metadata.name: Required value: name or generateName is required"]
        );
    }
}
