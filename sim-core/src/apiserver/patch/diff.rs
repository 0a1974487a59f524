//! Building a strategic merge patch: a port of apimachinery's `CreateTwoWayMergeMapPatch`
//! (`diffMaps` and the functions under it), the patch `kubectl edit`, `kubectl set` and
//! `kubectl apply` (for its two halves) send. Applying the result to `original` with
//! [`strategic_merge_patch`](super::strategic_merge_patch) gives `modified`.
//!
//! Fields that changed are in the patch, fields that went away are `null`; lists that merge
//! send only their changed items, `{"<key>": ..., "$patch": "delete"}` for a removed item,
//! `$deleteFromPrimitiveList/<list>` for removed primitives, and `$setElementOrder/<list>`
//! when the order or the contents changed; a `retainKeys` field lists its members in
//! `$retainKeys`.
//!
//! As upstream, lists are compared after sorting by the printed merge key (or value), so
//! `[b, a]` becoming `[a, b]` in a list of primitives sends no order.

use serde_json::{Map, Value, json};

use super::aliasing::go_dedup;
use super::error::StrategicError;
use super::gofmt::{go_type, go_v};
use super::meta::Meta;
use super::strategic::{ElementKind, element_kind, normalize_slice_order, strategy_parts};
use super::{MAX_DEPTH, depth};

type Object = Map<String, Value>;
type Result<T, E = StrategicError> = std::result::Result<T, E>;

/// The strategic merge patch that turns `original` into `modified` (both JSON objects), with
/// `$setElementOrder` lists (`CreateTwoWayMergeMapPatch`).
pub fn create_two_way_merge_patch<M: Meta>(
    original: &Value,
    modified: &Value,
    meta: &M,
) -> Result<Value> {
    if depth(original, MAX_DEPTH) > MAX_DEPTH || depth(modified, MAX_DEPTH) > MAX_DEPTH {
        return Err(StrategicError::TooDeep { limit: MAX_DEPTH });
    }
    let empty = Object::new();
    let as_map = |v: &'_ Value| -> Result<Object> {
        match v {
            Value::Null => Ok(empty.clone()),
            Value::Object(m) => Ok(m.clone()),
            _ => Err(StrategicError::BadJsonDoc),
        }
    };
    let options = Options {
        set_element_order: true,
        retain_keys: false,
    };
    diff_maps(&as_map(original)?, &as_map(modified)?, meta, options).map(Value::Object)
}

/// Go's `DiffOptions` as the two-way diff sets them (it neither ignores additions nor
/// deletions).
#[derive(Clone, Copy, Debug)]
struct Options {
    /// Send `$setElementOrder` lists.
    set_element_order: bool,
    /// This map is a `retainKeys` field's value: list its members in `$retainKeys`.
    retain_keys: bool,
}

/// Go's `diffMaps`.
fn diff_maps<M: Meta>(
    original: &Object,
    modified: &Object,
    meta: &M,
    options: Options,
) -> Result<Object> {
    let mut patch = Object::new();
    let mut retain: Vec<Value> = Vec::new();
    for (key, modified_v) in modified {
        if options.retain_keys && !modified_v.is_null() {
            retain.push(Value::String(key.clone()));
        }
        let Some(original_v) = original.get(key) else {
            patch.insert(key.clone(), modified_v.clone());
            continue;
        };
        if key == "$patch" {
            // Go's `handleDirectiveMarker`: only a changed directive is sent.
            let (Some(o), Some(m)) = (original_v.as_str(), modified_v.as_str()) else {
                return Err(StrategicError::InvalidDirectiveValue);
            };
            if o != m {
                patch.insert(key.clone(), modified_v.clone());
            }
            continue;
        }
        if go_type(original_v) != go_type(modified_v) {
            patch.insert(key.clone(), modified_v.clone());
            continue;
        }
        match (original_v, modified_v) {
            (Value::Object(o), Value::Object(m)) => {
                let (retain_keys, strategy) = strategy_parts(meta.strategy(key))?;
                if strategy == "replace" {
                    patch.insert(key.clone(), modified_v.clone());
                    continue;
                }
                let options = Options {
                    retain_keys,
                    ..options
                };
                let diff = diff_maps(o, m, &meta.child(key), options)?;
                if !diff.is_empty() {
                    patch.insert(key.clone(), Value::Object(diff));
                }
            }
            (Value::Array(o), Value::Array(m)) => {
                let rules = meta.strategy(key);
                let (retain_keys, strategy) = strategy_parts(rules)?;
                if strategy != "merge" {
                    if o != m {
                        patch.insert(key.clone(), modified_v.clone());
                    }
                    continue;
                }
                let options = Options {
                    retain_keys,
                    ..options
                };
                let merge_key = rules.and_then(|r| r.merge_key).unwrap_or("");
                let lists = diff_lists(o, m, &meta.child(key), merge_key, options)?;
                if !lists.patch.is_empty() {
                    patch.insert(key.clone(), Value::Array(lists.patch));
                }
                if !lists.deletions.is_empty() {
                    patch.insert(
                        format!("$deleteFromPrimitiveList/{key}"),
                        Value::Array(lists.deletions),
                    );
                }
                if !lists.order.is_empty() {
                    patch.insert(format!("$setElementOrder/{key}"), Value::Array(lists.order));
                }
            }
            (o, m) => {
                if o != m {
                    patch.insert(key.clone(), m.clone());
                }
            }
        }
    }
    // Go's `updatePatchIfMissing`: what went away is null.
    for key in original.keys() {
        if !modified.contains_key(key) {
            patch.insert(key.clone(), Value::Null);
        }
    }
    let clears_fields = original
        .iter()
        .any(|(k, v)| !v.is_null() && !modified.contains_key(k));
    if !retain.is_empty() && (!patch.is_empty() || clears_fields) {
        retain.sort_by_key(go_v);
        patch.insert("$retainKeys".to_owned(), Value::Array(retain));
    }
    Ok(patch)
}

/// What a merging list's diff sends: changed and new items (then deletion directives, for
/// maps), removed primitives, and the order.
#[derive(Debug, Default)]
struct ListDiff {
    patch: Vec<Value>,
    deletions: Vec<Value>,
    order: Vec<Value>,
}

/// Go's `diffLists`.
fn diff_lists<M: Meta>(
    original: &[Value],
    modified: &[Value],
    meta: &M,
    merge_key: &str,
    options: Options,
) -> Result<ListDiff> {
    if original.is_empty() {
        return Ok(ListDiff {
            patch: modified.to_vec(),
            ..ListDiff::default()
        });
    }
    let kind = element_kind(&[original, modified])?;
    let mut diff = ListDiff::default();
    match kind {
        ElementKind::Map => {
            let (patch, deletions) =
                diff_lists_of_maps(original, modified, meta, merge_key, options)?;
            diff.patch = normalize_slice_order(patch, modified, merge_key, kind)?;
            let order_same = is_order_same(original, modified, merge_key)?;
            diff.patch.extend(deletions);
            if options.set_element_order && (!diff.patch.is_empty() || !order_same) {
                diff.order = modified
                    .iter()
                    .map(|v| json!({merge_key: v.get(merge_key).cloned().unwrap_or(Value::Null)}))
                    .collect();
            }
        }
        ElementKind::Primitive => {
            let mut sorted_original = original.to_vec();
            sorted_original.sort_by_key(go_v);
            let (patch, deletions) = diff_lists_of_scalars(&sorted_original, modified);
            diff.patch = normalize_slice_order(patch, modified, merge_key, kind)?;
            // Go sorted the original in place before comparing it with the modified list, so
            // a list that was only reordered into sorted order sends no order.
            if options.set_element_order && (!deletions.is_empty() || sorted_original != modified) {
                diff.order = modified.to_vec();
            }
            diff.deletions = deletions;
        }
    }
    Ok(diff)
}

/// Go's `isOrderSame`.
fn is_order_same(original: &[Value], modified: &[Value], merge_key: &str) -> Result<bool> {
    if original.len() != modified.len() {
        return Ok(false);
    }
    for (o, m) in original.iter().zip(modified) {
        if key_of(o, merge_key)? != key_of(m, merge_key)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// An item's merge key value, with Go's errors for a non-map and a missing key.
fn key_of<'a>(item: &'a Value, merge_key: &str) -> Result<&'a Value> {
    let Value::Object(m) = item else {
        return Err(StrategicError::BadArgType {
            expected: "map[string]interface {}",
            actual: super::gofmt::go_type_s(item),
        });
    };
    m.get(merge_key).ok_or_else(|| StrategicError::NoMergeKey {
        map: super::gofmt::go_v_map(m),
        key: merge_key.to_owned(),
    })
}

/// Go's `diffListsOfScalars` over the sorted original: the added values and the removed
/// ones, compared by their printed form.
fn diff_lists_of_scalars(original: &[Value], modified: &[Value]) -> (Vec<Value>, Vec<Value>) {
    let mut modified_sorted = modified.to_vec();
    modified_sorted.sort_by_key(go_v);
    let (mut added, mut removed) = (Vec::new(), Vec::new());
    let (mut o, mut m) = (0, 0);
    while o < original.len() || m < modified_sorted.len() {
        let os = original.get(o).map(go_v);
        let ms = modified_sorted.get(m).map(go_v);
        match (os, ms) {
            (Some(a), Some(b)) if a == b => {
                o += 1;
                m += 1;
            }
            (None, Some(_)) => {
                added.push(modified_sorted[m].clone());
                m += 1;
            }
            (Some(a), Some(b)) if a > b => {
                added.push(modified_sorted[m].clone());
                m += 1;
            }
            _ => {
                removed.push(original[o].clone());
                o += 1;
            }
        }
    }
    let len = go_dedup(&mut removed);
    removed.truncate(len);
    (added, removed)
}

/// Go's `diffListsOfMaps`: both lists sorted by the printed merge key, walked together.
fn diff_lists_of_maps<M: Meta>(
    original: &[Value],
    modified: &[Value],
    meta: &M,
    merge_key: &str,
    options: Options,
) -> Result<(Vec<Value>, Vec<Value>)> {
    let sorted = |list: &[Value]| -> Result<Vec<(String, Value)>> {
        let mut out = Vec::with_capacity(list.len());
        for item in list {
            out.push((go_v(key_of(item, merge_key)?), item.clone()));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    };
    let (original, modified) = (sorted(original)?, sorted(modified)?);
    let (mut patch, mut deletions) = (Vec::new(), Vec::new());
    let (mut o, mut m) = (0, 0);
    while o < original.len() || m < modified.len() {
        match (original.get(o), modified.get(m)) {
            (Some((ok, ov)), Some((mk, mv))) if ok == mk => {
                if let (Value::Object(a), Value::Object(b)) = (ov, mv) {
                    let mut diff = diff_maps(a, b, meta, options)?;
                    if !diff.is_empty() {
                        diff.insert(merge_key.to_owned(), key_of(mv, merge_key)?.clone());
                        patch.push(Value::Object(diff));
                    }
                }
                o += 1;
                m += 1;
            }
            (None, Some((_, mv))) => {
                patch.push(mv.clone());
                m += 1;
            }
            (Some((ok, _)), Some((mk, mv))) if ok > mk => {
                patch.push(mv.clone());
                m += 1;
            }
            (Some((_, ov)), _) => {
                deletions
                    .push(json!({merge_key: key_of(ov, merge_key)?.clone(), "$patch": "delete"}));
                o += 1;
            }
            (None, None) => break,
        }
    }
    Ok((patch, deletions))
}
