//! Nodes: `ValidateNode`, the parts kubesim's nodes can violate (a DNS-1123 subdomain name).

use k8s_openapi::api::core::v1::Node;

use crate::api::validation::Errs;
use crate::api::validation::meta::{NameRule, validate_object_meta};

pub(in crate::api::validation) fn validate_node(n: &Node, e: &mut Errs) {
    validate_object_meta(&n.metadata, false, NameRule::Subdomain, e);
}

#[cfg(test)]
mod tests {
    //! Cases of `TestValidateNode`.

    use crate::api::validation::tests::check;

    #[test]
    fn node_names_are_subdomains() {
        assert_eq!(
            check("{apiVersion: v1, kind: Node, metadata: {name: node.a}}"),
            Vec::<String>::new()
        );
    }
}
