//! The three patch types of the API server over JSON values: JSON patch (RFC 6902), JSON
//! merge patch (RFC 7386) and strategic merge patch for the lists Kubernetes merges by key.

use serde_json::Value;

use crate::store::Kind;

/// The patch types of a PATCH request, by Content-Type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PatchType {
    /// `application/json-patch+json` (RFC 6902).
    Json,
    /// `application/merge-patch+json` (RFC 7386).
    Merge,
    /// `application/strategic-merge-patch+json`.
    Strategic,
}

impl PatchType {
    /// The patch type a Content-Type names (parameters after `;` ignored).
    pub fn from_content_type(content_type: &str) -> Option<PatchType> {
        match content_type.split(';').next().unwrap_or("").trim() {
            "application/json-patch+json" => Some(PatchType::Json),
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            _ => None,
        }
    }
}

/// A patch that could not be applied, with the status the API server answers.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct PatchError {
    /// 400 for a malformed patch, 422 for one that does not apply.
    pub code: u16,
    /// What went wrong, as the patch library says it.
    pub message: String,
}

impl PatchError {
    /// The HTTP status code.
    pub fn code(&self) -> u16 {
        self.code
    }
}

impl From<PatchError> for crate::error::ApiError {
    fn from(e: PatchError) -> Self {
        crate::error::ApiError::Patch {
            code: e.code,
            message: e.message,
        }
    }
}

/// Applies a patch of `patch_type` to `original` (an object of `kind`), as the API server's
/// patch handler does; the patched object, not yet decoded or validated.
pub fn apply_patch(
    _kind: Kind,
    patch_type: PatchType,
    original: &Value,
    patch: &[u8],
) -> Result<Value, PatchError> {
    let p: Value = serde_json::from_slice(patch).map_err(|e| PatchError {
        code: 400,
        message: format!("error decoding patch: {e}"),
    })?;
    let mut merged = original.clone();
    match patch_type {
        PatchType::Json => {
            if !p.is_array() {
                return Err(PatchError {
                    code: 400,
                    message: "json: cannot unmarshal object into Go value of type jsonpatch.Patch"
                        .into(),
                });
            }
            json_patch(&mut merged, &p).map_err(|message| PatchError { code: 422, message })?;
        }
        PatchType::Merge => crate::apiserver::merge_patch(&mut merged, &p),
        PatchType::Strategic => strategic_merge(&mut merged, &p),
    }
    Ok(merged)
}

/// Applies an RFC 6902 JSON patch; the error says which operation failed and why.
pub fn json_patch(doc: &mut Value, ops: &Value) -> Result<(), String> {
    let ops = ops
        .as_array()
        .ok_or("json patch must be a list of operations")?;
    for (i, op) in ops.iter().enumerate() {
        let field = |k: &str| op.get(k).and_then(Value::as_str);
        let kind = field("op").ok_or(format!("operation {i} has no \"op\""))?;
        let path = field("path").ok_or(format!("operation {i} has no \"path\""))?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or(format!("operation {i} ({kind}) has no \"value\""))
        };
        let from = || field("from").ok_or(format!("operation {i} ({kind}) has no \"from\""));
        match kind {
            "add" => add(doc, path, value()?)?,
            "remove" => {
                remove(doc, path)?;
            }
            "replace" => {
                let v = value()?;
                *doc.pointer_mut(path).ok_or(format!(
                    "replace operation does not apply: doc is missing key: {path}"
                ))? = v;
            }
            "move" => {
                let v = remove(doc, from()?)?;
                add(doc, path, v)?;
            }
            "copy" => {
                let from = from()?;
                let v = doc.pointer(from).cloned().ok_or(format!(
                    "copy operation does not apply: doc is missing from path: {from}"
                ))?;
                add(doc, path, v)?;
            }
            "test" => {
                if doc.pointer(path) != Some(&value()?) {
                    return Err(format!("testing value {path} failed: test failed"));
                }
            }
            other => return Err(format!("Unexpected kind: {other}")),
        }
    }
    Ok(())
}

/// The parent of a JSON pointer and its last token, unescaped (`~1` is `/`, `~0` is `~`).
fn split(path: &str) -> Result<(&str, String), String> {
    let (parent, last) = path
        .rsplit_once('/')
        .ok_or(format!("invalid JSON pointer {path:?}"))?;
    Ok((parent, last.replace("~1", "/").replace("~0", "~")))
}

fn add(doc: &mut Value, path: &str, v: Value) -> Result<(), String> {
    if path.is_empty() {
        *doc = v;
        return Ok(());
    }
    let (parent, key) = split(path)?;
    let missing = || format!("add operation does not apply: doc is missing path: {path:?}");
    match doc.pointer_mut(parent).ok_or_else(missing)? {
        Value::Object(m) => {
            m.insert(key, v);
        }
        Value::Array(a) => {
            let i = if key == "-" {
                a.len()
            } else {
                key.parse::<usize>()
                    .ok()
                    .filter(|i| *i <= a.len())
                    .ok_or_else(missing)?
            };
            a.insert(i, v);
        }
        _ => return Err(missing()),
    }
    Ok(())
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, key) = split(path)?;
    let missing = || format!("remove operation does not apply: doc is missing path: {path:?}");
    match doc.pointer_mut(parent).ok_or_else(missing)? {
        Value::Object(m) => m.remove(&key).ok_or_else(missing),
        Value::Array(a) => {
            let i = key
                .parse::<usize>()
                .ok()
                .filter(|i| *i < a.len())
                .ok_or_else(missing)?;
            Ok(a.remove(i))
        }
        _ => Err(missing()),
    }
}

/// The merge key of a list Kubernetes merges by key (`patchMergeKey` in the API types), by
/// the list's field name; other lists are replaced whole.
/// The merge key of a list field (`None`: an atomic list), as Kubernetes' types declare
/// it; server-side apply's field sets key list items the same way.
pub fn merge_key(field: &str, items: &[Value]) -> Option<&'static str> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets" => "name",
        "volumeMounts" | "volumeDevices" => "mountPath",
        "conditions" => "type",
        "ownerReferences" => "uid",
        "hostAliases" => "ip",
        "topologySpreadConstraints" => "topologyKey",
        // Container ports merge by containerPort, a Service's by port.
        "ports" if items.iter().any(|p| p.get("containerPort").is_some()) => "containerPort",
        "ports" => "port",
        _ => return None,
    })
}

/// Applies a strategic merge patch: maps merge as in a JSON merge patch (null deletes),
/// lists with a merge key merge item by item (`$patch: delete` removes one), other lists
/// are replaced; `$patch: replace` replaces a map; other `$` directives
/// (`$setElementOrder`, `$retainKeys`) are dropped.
pub fn strategic_merge(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if p.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut p = p.clone();
        p.remove("$patch");
        *target = Value::Object(p);
        strip_directives(target);
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let Value::Object(t) = target else { return };
    for (k, v) in p {
        if k.starts_with('$') {
            continue;
        }
        match v {
            Value::Null => {
                t.remove(k);
            }
            Value::Array(items) => {
                let key = merge_key(k, items).filter(|key| {
                    items.iter().all(|i| i.get(*key).is_some())
                        && t.get(k).and_then(Value::as_array).is_some()
                });
                match key {
                    Some(key) => {
                        let Some(Value::Array(list)) = t.get_mut(k) else {
                            continue;
                        };
                        merge_list(list, items, key);
                    }
                    None => {
                        let mut v = v.clone();
                        strip_directives(&mut v);
                        t.insert(k.clone(), v);
                    }
                }
            }
            _ => strategic_merge(t.entry(k.clone()).or_insert(Value::Null), v),
        }
    }
}

fn merge_list(list: &mut Vec<Value>, items: &[Value], key: &str) {
    for item in items {
        let k = &item[key];
        let at = list.iter().position(|x| &x[key] == k);
        let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
        match (at, delete) {
            (Some(i), true) => {
                list.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => strategic_merge(&mut list[i], item),
            (None, false) => {
                let mut v = item.clone();
                strip_directives(&mut v);
                list.push(v);
            }
        }
    }
}

/// Removes `$` keys and nulls from a value that is inserted whole.
fn strip_directives(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|k, x| !k.starts_with('$') && !x.is_null());
            m.values_mut().for_each(strip_directives);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_directives),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_patch_ops() {
        let mut d = json!({"a": {"b": [1, 2]}, "c": "x"});
        json_patch(
            &mut d,
            &json!([
                {"op": "add", "path": "/a/b/-", "value": 3},
                {"op": "add", "path": "/a/b/0", "value": 0},
                {"op": "remove", "path": "/c"},
                {"op": "replace", "path": "/a/b/1", "value": 9},
                {"op": "copy", "from": "/a/b", "path": "/d"},
                {"op": "move", "from": "/d", "path": "/a~1e"},
                {"op": "test", "path": "/a/b/3", "value": 3},
            ]),
        )
        .unwrap();
        assert_eq!(d, json!({"a": {"b": [0, 9, 2, 3]}, "a/e": [0, 9, 2, 3]}));
        let e = json_patch(&mut d, &json!([{"op": "remove", "path": "/nope"}])).unwrap_err();
        assert!(e.contains("missing path"), "{e}");
        let e = json_patch(
            &mut d,
            &json!([{"op": "test", "path": "/a/b/0", "value": 1}]),
        )
        .unwrap_err();
        assert!(e.contains("test failed"), "{e}");
    }

    #[test]
    fn strategic_merge_merges_containers_by_name() {
        let mut d = json!({"spec": {"containers": [
            {"name": "a", "image": "a:1", "ports": [{"containerPort": 80}]},
            {"name": "b", "image": "b:1"},
        ], "tolerations": [{"key": "x"}]}});
        strategic_merge(
            &mut d,
            &json!({"spec": {
                "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
                "containers": [
                    {"name": "a", "image": "a:2", "env": [{"name": "E", "value": "1"}]},
                    {"name": "b", "$patch": "delete"},
                    {"name": "c", "image": "c:1"},
                ],
                "tolerations": [{"key": "y"}],
            }}),
        );
        assert_eq!(
            d,
            json!({"spec": {"containers": [
                {"name": "a", "image": "a:2", "ports": [{"containerPort": 80}],
                 "env": [{"name": "E", "value": "1"}]},
                {"name": "c", "image": "c:1"},
            ], "tolerations": [{"key": "y"}]}})
        );
    }
}
