//! JSON merge patch (RFC 7386) as kube-apiserver applies it: `jsonpatch.MergePatch` of
//! evanphx/json-patch v4 (`merge.go`), which is the RFC's algorithm ([`json_patch::merge`])
//! plus one difference: it also drops `null` members of objects inside the patch's lists
//! (`pruneAryNulls`), except in a list that replaces an object of the original.
//! `{"spec":{"containers":[{"name":"a","image":null}]}}` sets the containers to
//! `[{"name":"a"}]`, where the RFC would keep `"image": null`.

use serde_json::Value;

/// Merges `patch` (an object or a list; [`super::apply_patch`] refuses other bodies) into
/// `original`. A list patch replaces the whole document, as in evanphx's `MergePatch`.
pub(super) fn merge_patch(original: &Value, mut patch: Value) -> Value {
    match &mut patch {
        Value::Array(items) => {
            prune_list(items);
            patch
        }
        Value::Object(_) => {
            prune_lists_in(Some(original), &mut patch);
            let mut doc = original.clone();
            json_patch::merge(&mut doc, &patch);
            doc
        }
        _ => patch,
    }
}

/// Walks the objects of `patch` beside `original` and prunes the lists evanphx prunes: every
/// list except one that replaces an object of the original.
fn prune_lists_in(original: Option<&Value>, patch: &mut Value) {
    let Value::Object(members) = patch else {
        return;
    };
    for (key, value) in members.iter_mut() {
        let before = original.and_then(|o| o.get(key)).filter(|v| !v.is_null());
        match value {
            Value::Object(_) => prune_lists_in(before, value),
            Value::Array(items) if !before.is_some_and(Value::is_object) => prune_list(items),
            _ => {}
        }
    }
}

/// evanphx's `pruneAryNulls`: keeps `null` items, drops `null` members of the objects inside,
/// at any depth.
fn prune_list(items: &mut [Value]) {
    for item in items {
        prune_nulls(item);
    }
}

/// evanphx's `pruneNulls`.
fn prune_nulls(v: &mut Value) {
    match v {
        Value::Object(members) => {
            members.retain(|_, m| !m.is_null());
            members.values_mut().for_each(prune_nulls);
        }
        Value::Array(items) => prune_list(items),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_follows_the_rfc_and_prunes_nulls_in_lists() {
        let original = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1], "f": {"g": 1}});
        let patch = json!({
            "a": null,
            "b": {"c": null, "x": {"y": null, "z": 1}},
            "e": [{"k": null, "l": 1}, null, [{"m": null}]],
            "f": [{"n": null}],
            "h": {"i": [{"j": null}]},
        });
        assert_eq!(
            merge_patch(&original, patch),
            json!({
                "b": {"d": 3, "x": {"z": 1}},
                "e": [{"l": 1}, null, [{}]],
                // A list replacing an object is taken as it is.
                "f": [{"n": null}],
                "h": {"i": [{}]},
            })
        );
        assert_eq!(merge_patch(&original, json!([{"a": null}])), json!([{}]));
    }
}
