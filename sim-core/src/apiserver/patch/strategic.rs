//! The strategic merge patch: a port of the application half of apimachinery's
//! `pkg/util/strategicpatch/patch.go` (`StrategicMergeMapPatch` with the options the API
//! server uses: parallel lists merged, unmatched nulls ignored).
//!
//! It is a JSON merge patch that knows each field's type ([`Meta`]): lists with
//! `patchStrategy: merge` merge item by item on their merge key (or, for primitives, as a
//! set); other lists are replaced; `null` deletes. Directives steer it:
//!
//! - `$patch: replace` in a map replaces the map; `$patch: delete` empties it. In a list item,
//!   `delete` removes the items with its merge key and `replace` makes the list exactly the
//!   patch's other items.
//! - `$retainKeys: [...]` drops the original's fields it does not list (a union's other
//!   members); the patch may only set listed fields.
//! - `$setElementOrder/<list>: [...]` orders the merged list: the items it names in its
//!   order, the others where the original had them (`normalizeElementOrder`).
//! - `$deleteFromPrimitiveList/<list>: [...]` removes those values from a list of primitives.
//!
//! Order follows Go: without `$setElementOrder`, the patch's items keep the patch's order
//! and the original's other items are interleaved by their original order, which puts a new
//! item before the original's first one (`[a, b]` patched with `[c]` is `[c, a, b]`).
//!
//! Where apimachinery leaves a directive in place (inside a new subtree, inside a list that is
//! replaced, in a `$patch: replace` map) so does this port; the API server's decoding then
//! drops it as an unknown field, or refuses it under strict field validation.
//!
//! Work is bounded: both documents are checked to nest at most [`super::MAX_DEPTH`] levels
//! before the walk, and list operations index items by key rather than search them (Go's are
//! quadratic).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::aliasing;
use super::error::StrategicError;
use super::gofmt::{go_s, go_type, go_type_s, go_v_list, go_v_lists, go_v_map};
use super::meta::Meta;
use super::{MAX_DEPTH, depth};
use crate::api::strategy::FieldStrategy;

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";

type Object = Map<String, Value>;
type Result<T, E = StrategicError> = std::result::Result<T, E>;

/// Applies the strategic merge patch `patch` to `original` (both JSON objects; a `null` patch
/// changes nothing), walking the types with `meta`.
pub fn strategic_merge_patch<M: Meta>(original: &Value, patch: &Value, meta: &M) -> Result<Value> {
    if depth(original, MAX_DEPTH) > MAX_DEPTH || depth(patch, MAX_DEPTH) > MAX_DEPTH {
        return Err(StrategicError::TooDeep { limit: MAX_DEPTH });
    }
    let Value::Object(original) = original else {
        return Err(StrategicError::BadJsonDoc);
    };
    match patch {
        Value::Null => Ok(Value::Object(original.clone())),
        Value::Object(p) => merge_map(original.clone(), p.clone(), meta).map(Value::Object),
        _ => Err(StrategicError::BadJsonDoc),
    }
}

/// A field's patch strategy, read as `extractRetainKeysPatchStrategy` reads the tag (the
/// `retainKeys` half only matters when building patches).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Strategy {
    /// No strategy: maps merge, lists are replaced.
    Default,
    /// `merge`: lists merge.
    Merge,
    /// `replace`: maps are replaced too.
    Replace,
}

fn strategy_of(rules: Option<FieldStrategy>) -> Result<Strategy> {
    Ok(match strategy_parts(rules)?.1 {
        "merge" => Strategy::Merge,
        "replace" => Strategy::Replace,
        _ => Strategy::Default,
    })
}

/// Go's `extractRetainKeysPatchStrategy`: whether the tag has `retainKeys`, and its other
/// strategy (`""` if none).
pub(super) fn strategy_parts(rules: Option<FieldStrategy>) -> Result<(bool, &'static str)> {
    let tag = rules.map_or("", |r| r.patch_strategy);
    let parts: Vec<&'static str> = if tag.is_empty() {
        Vec::new()
    } else {
        tag.split(',').collect()
    };
    Ok(match parts.as_slice() {
        [] => (false, ""),
        ["retainKeys"] => (true, ""),
        [one] => (false, one),
        ["retainKeys", other] | [other, "retainKeys"] => (true, other),
        _ => {
            return Err(StrategicError::UnexpectedPatchStrategy {
                strategies: format!("[{}]", parts.join(" ")),
            });
        }
    })
}

/// Go's `mergeMap`.
fn merge_map<M: Meta>(mut original: Object, mut patch: Object, meta: &M) -> Result<Object> {
    if let Some(directive) = patch.get(DIRECTIVE) {
        return match directive.as_str() {
            Some("replace") => {
                patch.remove(DIRECTIVE);
                Ok(patch)
            }
            Some("delete") => Ok(Object::new()),
            _ => Err(StrategicError::BadPatchType {
                directive: go_s(directive),
                map: go_v_map(&patch),
            }),
        };
    }
    apply_retain_keys(&mut original, &mut patch)?;
    merge_element_orders(&mut original, &mut patch, meta)?;

    for (key, patch_v) in patch {
        let (key, delete_list) = if key.starts_with(DELETE_FROM_PRIMITIVE_LIST) {
            let field = extract_key(&key, DELETE_FROM_PRIMITIVE_LIST)?;
            // `$deleteFromPrimitiveList/` (no field) keeps its key, and so deletes nothing.
            let field = if field.is_empty() { key.clone() } else { field };
            (field, true)
        } else {
            (key, false)
        };
        if patch_v.is_null() {
            original.remove(&key);
            continue;
        }
        let Some(original_v) = original.remove(&key) else {
            if !delete_list {
                insert_without_directives(&mut original, key, discard_nulls(patch_v));
            }
            continue;
        };
        let merged = match (original_v, patch_v) {
            (Value::Object(o), Value::Object(p)) => {
                let strategy = strategy_of(meta.strategy(&key))?;
                if strategy == Strategy::Replace {
                    Value::Object(p)
                } else {
                    Value::Object(merge_map(o, p, &meta.child(&key))?)
                }
            }
            (Value::Array(o), Value::Array(p)) => {
                let rules = meta.strategy(&key);
                let strategy = strategy_of(rules)?;
                if strategy == Strategy::Merge || delete_list {
                    let merge_key = rules.and_then(|r| r.merge_key).unwrap_or("");
                    let child = meta.child(&key);
                    Value::Array(merge_slice(o, p, &child, merge_key, delete_list)?.0)
                } else {
                    Value::Array(p)
                }
            }
            (o, p) if go_type(&o) == go_type(&p) => {
                insert_without_directives(&mut original, key, p);
                continue;
            }
            (o, p) => {
                if delete_list {
                    o
                } else {
                    insert_without_directives(&mut original, key, discard_nulls(p));
                    continue;
                }
            }
        };
        original.insert(key, merged);
    }
    Ok(original)
}

/// Sets `key` to `value` with its directives removed, or removes `key` when `value` is itself
/// a directive (`removeDirectives`).
fn insert_without_directives(original: &mut Object, key: String, value: Value) {
    if let Some(v) = remove_directives(value) {
        original.insert(key, v);
    }
}

/// Go's `removeDirectives`: a map with `$patch` goes away, in a map or a list, at any depth.
fn remove_directives(v: Value) -> Option<Value> {
    match v {
        Value::Object(m) => {
            if m.contains_key(DIRECTIVE) {
                return None;
            }
            Some(Value::Object(
                m.into_iter()
                    .filter_map(|(k, v)| remove_directives(v).map(|v| (k, v)))
                    .collect(),
            ))
        }
        Value::Array(a) => Some(Value::Array(
            a.into_iter().filter_map(remove_directives).collect(),
        )),
        v => Some(v),
    }
}

/// Go's `discardNullValuesFromPatch`: drops `null` members of maps, at any depth (`null`
/// list items stay).
fn discard_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, discard_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(discard_nulls).collect()),
        v => v,
    }
}

/// Go's `extractKey`: the field after `prefix/`.
fn extract_key(key: &str, prefix: &str) -> Result<String> {
    match key.split_once('/') {
        Some((p, field)) if p == prefix => Ok(field.to_owned()),
        _ if prefix == DELETE_FROM_PRIMITIVE_LIST => {
            Err(StrategicError::BadPatchFormatForPrimitiveList)
        }
        _ => Err(StrategicError::BadPatchFormatForSetElementOrderList),
    }
}

/// Go's `applyRetainKeysDirective`.
fn apply_retain_keys(original: &mut Object, patch: &mut Object) -> Result<()> {
    let Some(retain) = patch.remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let Value::Array(retain) = retain else {
        return Err(StrategicError::BadPatchFormatForRetainKeys);
    };
    // Only string items can name a field; others are kept in the list but match nothing.
    let listed: BTreeSet<&str> = retain.iter().filter_map(Value::as_str).collect();
    for (k, v) in patch.iter() {
        if v.is_null()
            || k.starts_with(DELETE_FROM_PRIMITIVE_LIST)
            || k.starts_with(SET_ELEMENT_ORDER)
        {
            continue;
        }
        if !listed.contains(k.as_str()) {
            return Err(StrategicError::BadPatchFormatForRetainKeys);
        }
    }
    original.retain(|k, _| listed.contains(k.as_str()));
    Ok(())
}

/// Go's `mergePatchIntoOriginal`: each `$setElementOrder/<list>` with its list, merged and
/// put in order; both keys leave the patch.
fn merge_element_orders<M: Meta>(
    original: &mut Object,
    patch: &mut Object,
    meta: &M,
) -> Result<()> {
    let keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    for key in keys {
        let Some(order) = patch.remove(&key) else {
            continue;
        };
        let Value::Array(order) = order else {
            return Err(bad_arg_type("[]interface {}", &order));
        };
        let field = extract_key(&key, SET_ELEMENT_ORDER)?;
        let original_list = match original.get(&field) {
            None => None,
            Some(Value::Array(a)) => Some(a.clone()),
            Some(other) => return Err(bad_arg_type("[]interface {}", other)),
        };
        let patch_list = match patch.get(&field) {
            None => None,
            Some(Value::Array(a)) => Some(a.clone()),
            Some(other) => return Err(bad_arg_type("[]interface {}", other)),
        };
        let rules = meta.strategy(&field);
        let strategy = strategy_of(rules)?;
        let merge_key = rules.and_then(|r| r.merge_key).unwrap_or("");
        validate_patch_with_order(patch_list.as_deref().unwrap_or(&[]), &order, merge_key)?;

        // Go's `originalFieldValue`, which merging may have written into.
        let mut original_items = original_list.clone().unwrap_or_default();
        let patch_items = patch_list.clone().unwrap_or_default();
        let merged = match (original_list, patch_list) {
            (Some(o), None) => o,
            (None, Some(p)) => match remove_directives(Value::Array(p)) {
                Some(Value::Array(p)) => p,
                _ => Vec::new(),
            },
            (Some(o), Some(p)) => {
                if strategy == Strategy::Merge {
                    let (merged, view) = merge_slice(o, p, &meta.child(&field), merge_key, false)?;
                    if !view.is_empty() {
                        original_items = view;
                    }
                    merged
                } else {
                    p
                }
            }
            (None, None) => continue,
        };
        let (in_order, server_only) = partition(merged, &order, merge_key)?;
        let kind = element_kind(&[&original_items, &patch_items])?;
        let merged = normalize_element_order(
            in_order,
            server_only,
            &order,
            &original_items,
            merge_key,
            kind,
        )?;
        original.insert(field.clone(), Value::Array(merged));
        patch.remove(&field);
    }
    Ok(())
}

fn bad_arg_type(expected: &'static str, actual: &Value) -> StrategicError {
    StrategicError::BadArgType {
        expected,
        actual: go_type_s(actual),
    }
}

/// Go's `validatePatchWithSetOrderList`: the patch's items (deletions and directives aside)
/// must appear in `$setElementOrder`, in its order.
fn validate_patch_with_order(patch: &[Value], order: &[Value], merge_key: &str) -> Result<()> {
    if order.is_empty() || patch.is_empty() {
        return Ok(());
    }
    let items: Vec<&Value> = if merge_key.is_empty() {
        patch.iter().collect()
    } else {
        let mut kept = Vec::new();
        for item in patch {
            let Value::Object(m) = item else {
                return Err(bad_arg_type("map[string]interface {}", item));
            };
            if m.get(DIRECTIVE).and_then(Value::as_str) != Some("delete") {
                kept.push(item);
            }
        }
        kept
    };
    let (mut p, mut o) = (0, 0);
    while p < items.len() && o < order.len() {
        if is_directive_map(items[p]) {
            p += 1;
            continue;
        }
        if merge_key_value_equal(items[p], &order[o], merge_key)? {
            p += 1;
        }
        o += 1;
    }
    if p < items.len() && o >= order.len() {
        return Err(StrategicError::OrderMismatch {
            patch: go_v_list(patch),
            order: go_v_list(order),
        });
    }
    Ok(())
}

fn is_directive_map(v: &Value) -> bool {
    v.as_object().is_some_and(|m| m.contains_key(DIRECTIVE))
}

/// Go's `mergeKeyValueEqual`.
fn merge_key_value_equal(left: &Value, right: &Value, merge_key: &str) -> Result<bool> {
    if merge_key.is_empty() {
        return Ok(left == right);
    }
    let key_of = |v: &Value| -> Result<Value> {
        let Value::Object(m) = v else {
            return Err(bad_arg_type("map[string]interface {}", v));
        };
        m.get(merge_key)
            .cloned()
            .ok_or_else(|| no_merge_key(m, merge_key))
    };
    Ok(key_of(left)? == key_of(right)?)
}

fn no_merge_key(m: &Object, key: &str) -> StrategicError {
    StrategicError::NoMergeKey {
        map: go_v_map(m),
        key: key.to_owned(),
    }
}

/// The JSON type the items of some lists share (Go's `sliceElementType`): `None` for nil.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ElementKind {
    Map,
    Primitive,
}

pub(super) fn element_kind(lists: &[&[Value]]) -> Result<ElementKind> {
    let mut first: Option<Option<&'static str>> = None;
    for v in lists.iter().flat_map(|l| l.iter()) {
        let t = go_type(v);
        match first {
            None => {
                if v.is_array() {
                    return Err(StrategicError::NoListOfLists);
                }
                first = Some(t);
            }
            Some(f) if f != t => {
                return Err(StrategicError::ElementTypesDiffer {
                    lists: go_v_lists(lists),
                });
            }
            Some(_) => {}
        }
    }
    match first {
        None => Err(StrategicError::NoElements),
        Some(_) if lists.iter().flat_map(|l| l.iter()).any(Value::is_object) => {
            Ok(ElementKind::Map)
        }
        Some(_) => Ok(ElementKind::Primitive),
    }
}

/// Go's `mergeSlice`: merges a list with `patchStrategy: merge` (or one a
/// `$deleteFromPrimitiveList` names); `meta` is the items' type. Returns the merged list and
/// what the caller's view of the original list holds afterwards ([`aliasing`]).
fn merge_slice<M: Meta>(
    original: Vec<Value>,
    patch: Vec<Value>,
    meta: &M,
    merge_key: &str,
    delete_list: bool,
) -> Result<(Vec<Value>, Vec<Value>)> {
    if original.is_empty() && patch.is_empty() {
        return Ok((original, Vec::new()));
    }
    let kind = element_kind(&[&original, &patch])?;
    if kind == ElementKind::Primitive {
        if delete_list {
            let gone: BTreeSet<String> = patch.iter().map(identity).collect();
            let kept = original
                .iter()
                .filter(|v| !gone.contains(&identity(v)))
                .cloned()
                .collect();
            return Ok((kept, original));
        }
        // `append(original, patch...)` then an in-place deduplication: with room to spare,
        // both happen in the original's own array, which the order below then reads.
        let mut both: Vec<Value> = original.iter().chain(&patch).cloned().collect();
        let len = aliasing::go_dedup(&mut both);
        let view = if both.len() <= aliasing::go_capacity(original.len()) {
            both[..original.len()].to_vec()
        } else {
            original
        };
        both.truncate(len);
        let (in_patch, server_only) = partition(both, &patch, "")?;
        let merged = normalize_element_order(in_patch, server_only, &patch, &view, "", kind)?;
        return Ok((merged, view));
    }
    if merge_key.is_empty() {
        return Err(StrategicError::NoMergeKeyForList { name: meta.name() });
    }
    let view = aliasing::view_after_map_merge(&original, &patch, merge_key);
    let (original, patch) = merge_slice_with_special_elements(original, patch, merge_key)?;
    let merged = merge_slice_without_special_elements(original.clone(), &patch, merge_key, meta)?;
    let (in_patch, server_only) = partition(merged, &patch, merge_key)?;
    let merged =
        normalize_element_order(in_patch, server_only, &patch, &original, merge_key, kind)?;
    Ok((merged, view))
}

/// A value's identity for Go's `==` on decoded JSON: its type and value (an `int64` 1 and a
/// `float64` 1 differ, as `1` and `1.0` serialize differently).
pub(super) fn identity(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// A merge key's value, or `None` for an item without it (Go's `findMapInSliceBasedOnKeyValue`
/// needs the key present; `null` is a value).
fn key_value<'a>(item: &'a Value, merge_key: &str) -> Option<&'a Value> {
    item.as_object().and_then(|m| m.get(merge_key))
}

/// Go's `mergeSliceWithSpecialElements`: applies the items' `$patch` directives to the
/// original and returns it with the plain patch items. `$patch: replace` makes those items
/// the whole list.
fn merge_slice_with_special_elements(
    original: Vec<Value>,
    patch: Vec<Value>,
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>)> {
    let mut plain = Vec::new();
    let mut deleted = BTreeSet::new();
    let mut replace = false;
    for item in patch {
        let Value::Object(m) = &item else {
            plain.push(item);
            continue;
        };
        let Some(directive) = m.get(DIRECTIVE) else {
            plain.push(item);
            continue;
        };
        match directive.as_str() {
            Some("delete") => match m.get(merge_key) {
                Some(v) => {
                    deleted.insert(identity(v));
                }
                None => return Err(no_merge_key(m, merge_key)),
            },
            // Go goes on through the list, to check and drop the other directives.
            Some("replace") => replace = true,
            Some("merge") => return Err(StrategicError::MergeDirectiveInList),
            _ => {
                return Err(StrategicError::BadPatchType {
                    directive: go_s(directive),
                    map: go_v_map(m),
                });
            }
        }
    }
    if replace {
        return Ok((plain, Vec::new()));
    }
    let original = original
        .into_iter()
        .filter(|item| key_value(item, merge_key).is_none_or(|v| !deleted.contains(&identity(v))))
        .collect();
    Ok((original, plain))
}

/// Go's `mergeSliceWithoutSpecialElements`: each patch item merges into the first original
/// item with its merge key, or is appended as it is.
fn merge_slice_without_special_elements<M: Meta>(
    mut original: Vec<Value>,
    patch: &[Value],
    merge_key: &str,
    meta: &M,
) -> Result<Vec<Value>> {
    let mut at: BTreeMap<String, usize> = BTreeMap::new();
    for (i, item) in original.iter().enumerate() {
        if let Some(v) = key_value(item, merge_key) {
            at.entry(identity(v)).or_insert(i);
        }
    }
    for item in patch {
        let Value::Object(m) = item else {
            return Err(bad_arg_type("map[string]interface {}", item));
        };
        let Some(key) = m.get(merge_key) else {
            return Err(no_merge_key(m, merge_key));
        };
        let key = identity(key);
        match at.get(&key) {
            Some(&i) => {
                let base = match std::mem::take(&mut original[i]) {
                    Value::Object(o) => o,
                    _ => Object::new(),
                };
                original[i] = Value::Object(merge_map(base, m.clone(), meta)?);
            }
            None => {
                at.insert(key, original.len());
                original.push(item.clone());
            }
        }
    }
    Ok(original)
}

/// Splits `merged` into the items `by` names (by merge key, or by value for primitives) and
/// the others, each keeping its order (`partitionMapsByPresentInList`,
/// `partitionPrimitivesByPresentInList`).
fn partition(
    merged: Vec<Value>,
    by: &[Value],
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>)> {
    if merge_key.is_empty() {
        let named: BTreeSet<String> = by.iter().map(identity).collect();
        return Ok(merged
            .into_iter()
            .partition(|v| named.contains(&identity(v))));
    }
    // Go searches `by` from the start for each item and fails on the first item that is not
    // a map before a match: index the maps up to that one.
    let mut named = BTreeSet::new();
    let mut not_a_map = None;
    for (i, v) in by.iter().enumerate() {
        match v {
            Value::Object(m) => {
                if let Some(k) = m.get(merge_key) {
                    named.insert(identity(k));
                }
            }
            _ => {
                not_a_map = Some(i);
                break;
            }
        }
    }
    let (mut in_by, mut others) = (Vec::new(), Vec::new());
    for item in merged {
        let Value::Object(m) = &item else {
            return Err(bad_arg_type("map[string]interface {}", &item));
        };
        let Some(k) = m.get(merge_key) else {
            return Err(no_merge_key(m, merge_key));
        };
        if named.contains(&identity(k)) {
            in_by.push(item);
        } else if let Some(index) = not_a_map {
            return Err(StrategicError::NotAMap { index });
        } else {
            others.push(item);
        }
    }
    Ok((in_by, others))
}

/// Go's `normalizeElementOrder`: the patch's items in the patch's (or `$setElementOrder`'s)
/// order, the server-only items in the original's order, then the two interleaved.
fn normalize_element_order(
    patch: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: &str,
    kind: ElementKind,
) -> Result<Vec<Value>> {
    let patch = normalize_slice_order(patch, patch_order, merge_key, kind)?;
    let server_only = normalize_slice_order(server_only, server_order, merge_key, kind)?;
    Ok(merge_sorted_slice(
        server_only,
        patch,
        server_order,
        merge_key,
        kind,
    ))
}

/// Where an item sits in `order`: by merge key for maps, by value for primitives; the first
/// occurrence (Go's `index`, which treats a missing or `null` key alike).
struct Positions(BTreeMap<String, usize>);

impl Positions {
    fn new(order: &[Value], merge_key: &str, kind: ElementKind) -> Positions {
        let mut at = BTreeMap::new();
        for (i, v) in order.iter().enumerate() {
            at.entry(position_key(v, merge_key, kind)).or_insert(i);
        }
        Positions(at)
    }

    fn of(&self, v: &Value, merge_key: &str, kind: ElementKind) -> Option<usize> {
        self.0.get(&position_key(v, merge_key, kind)).copied()
    }
}

fn position_key(v: &Value, merge_key: &str, kind: ElementKind) -> String {
    match kind {
        ElementKind::Map => key_value(v, merge_key)
            .filter(|k| !k.is_null())
            .map_or_else(|| "null".to_owned(), identity),
        ElementKind::Primitive => identity(v),
    }
}

/// Go's `normalizeSliceOrder`: sorts `items` by their place in `order`, stably; maps marked
/// `$patch: delete` go last.
///
/// Go sorts with a comparator that calls an item missing from `order` "less" than anything,
/// which is no order at all; every caller passes items that `order` has (the patch's own
/// items, or the original's, or those `$setElementOrder` was checked to name), so a stable
/// sort by position is the same. Missing items, should one come, sort last.
pub(super) fn normalize_slice_order(
    items: Vec<Value>,
    order: &[Value],
    merge_key: &str,
    kind: ElementKind,
) -> Result<Vec<Value>> {
    let (mut items, deleted) = if kind == ElementKind::Map {
        for v in items.iter().chain(order) {
            let Value::Object(m) = v else {
                return Err(bad_arg_type("map[string]interface {}", v));
            };
            if !m.contains_key(merge_key) {
                return Err(no_merge_key(m, merge_key));
            }
        }
        items
            .into_iter()
            .partition::<Vec<_>, _>(|v| v.get(DIRECTIVE).and_then(Value::as_str) != Some("delete"))
    } else {
        (items, Vec::new())
    };
    let positions = Positions::new(order, merge_key, kind);
    items.sort_by_key(|v| positions.of(v, merge_key, kind).unwrap_or(usize::MAX));
    items.extend(deleted);
    Ok(items)
}

/// Go's `mergeSortedSlice`: interleaves the server-only items (`left`) into the patch's
/// (`right`), each keeping its order. At each step the left item goes first only when both
/// are in the original and it came first there, so new items come before the rest.
fn merge_sorted_slice(
    left: Vec<Value>,
    right: Vec<Value>,
    server_order: &[Value],
    merge_key: &str,
    kind: ElementKind,
) -> Vec<Value> {
    let positions = Positions::new(server_order, merge_key, kind);
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => {
                match (
                    positions.of(l, merge_key, kind),
                    positions.of(r, merge_key, kind),
                ) {
                    (Some(li), Some(ri)) => li < ri,
                    _ => false,
                }
            }
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
    out
}
