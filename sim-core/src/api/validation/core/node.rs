//! Nodes: `ValidateNode`, the parts kubesim's nodes can violate (a DNS-1123 subdomain name,
//! `validateNodeTaints`).

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Node;

use crate::api::validation::Errs;
use crate::api::validation::go_fmt::go_quote;
use crate::api::validation::meta::{NameRule, validate_object_meta};
use crate::api::validation::names::{is_qualified_name, is_valid_label_value};

pub(in crate::api::validation) fn validate_node(n: &Node, e: &mut Errs) {
    validate_object_meta(&n.metadata, false, NameRule::Subdomain, e);
    validate_node_taints(n, e);
}

/// `validateNodeTaints`: each key a qualified name, each value a label value, each effect one
/// of the three, and no two taints with the same key and effect.
fn validate_node_taints(n: &Node, e: &mut Errs) {
    let taints = n
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or(&[]);
    let mut seen: BTreeSet<(&str, &str)> = BTreeSet::new();
    for (i, t) in taints.iter().enumerate() {
        let path = format!("spec.taints[{i}]");
        for m in is_qualified_name(&t.key) {
            e.invalid_str(&format!("{path}.key"), &t.key, &m);
        }
        let value = t.value.as_deref().unwrap_or("");
        let msgs = is_valid_label_value(value);
        if !msgs.is_empty() {
            e.invalid_str(&format!("{path}.value"), value, &msgs.join(";"));
        }
        match t.effect.as_str() {
            "" => e.required(&format!("{path}.effect"), ""),
            "NoSchedule" | "PreferNoSchedule" | "NoExecute" => {}
            other => e.not_supported(
                &format!("{path}.effect"),
                go_quote(other),
                &["NoSchedule", "PreferNoSchedule", "NoExecute"],
            ),
        }
        if !seen.insert((t.effect.as_str(), t.key.as_str())) {
            // field.Duplicate(idxPath, currTaint) of the internal core.Taint, printed with %#v.
            let bad = format!(
                "core.Taint{{Key:{}, Value:{}, Effect:{}, TimeAdded:(*v1.Time)(nil)}}",
                go_quote(&t.key),
                go_quote(value),
                go_quote(&t.effect)
            );
            e.push(
                &path,
                crate::api::validation::ErrorType::Duplicate,
                Some(bad),
                "taints must be unique by key and effect pair",
            );
        }
    }
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

    #[test]
    fn taints_are_validated() {
        assert_eq!(
            check(
                "{apiVersion: v1, kind: Node, metadata: {name: node-1}, spec: {taints: [{key: dedicated, value: gpu, effect: NoSchedule}, {key: soft, effect: PreferNoSchedule}]}}"
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            check(
                "{apiVersion: v1, kind: Node, metadata: {name: node-1}, spec: {taints: [{key: a, effect: Sometimes}, {key: 'b c', effect: NoSchedule}, {key: d, effect: NoExecute}, {key: d, effect: NoExecute}]}}"
            ),
            vec![
                "spec.taints[0].effect: Unsupported value: \"Sometimes\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"".to_string(),
                "spec.taints[1].key: Invalid value: \"b c\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')".to_string(),
                "spec.taints[3]: Duplicate value: core.Taint{Key:\"d\", Value:\"\", Effect:\"NoExecute\", TimeAdded:(*v1.Time)(nil)}: taints must be unique by key and effect pair".to_string(),
            ]
        );
    }
}
