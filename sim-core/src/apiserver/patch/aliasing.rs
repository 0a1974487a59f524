//! What Go's slices do behind the strategic merge patch's back, which its results depend on.
//!
//! `mergeSlice` works on the original list in place: deleting an item shifts the rest left
//! inside the same array (the last slot keeps a stale copy), appending a new item writes into
//! the array's spare capacity when there is room, and merging primitives appends the patch
//! to the original and deduplicates in place. The caller, `mergePatchIntoOriginal`, keeps its
//! own view of the original (the first `len` slots of that array) and uses it as "the
//! original order" when it applies `$setElementOrder`, so items the patch added or moved show
//! up in it. Two upstream cases ("add map and delete map from merging list", with and without
//! conflict) only pass because of this.
//!
//! How much spare capacity a list has is not visible in JSON: it is how the Go slice was
//! built. We model the capacity `encoding/json` gives a decoded list, and `append` from
//! empty gives in general: the next power of two (exact up to 256 items). It reproduces the
//! upstream tables; the API server's own lists come from typed objects whose capacities
//! depend on how they were decoded and copied, so there the outcome was never certain.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::strategic::identity;

/// The capacity we assume a list of `len` items has.
pub(super) fn go_capacity(len: usize) -> usize {
    if len == 0 { 0 } else { len.next_power_of_two() }
}

/// Go's `deduplicateScalars` on `items`, in place: for each item, every later duplicate is
/// overwritten by the current last item and the list shrinks. Returns the new length;
/// `items` keeps what Go's array holds afterwards, stale slots included.
///
/// Go rescans from each duplicate it fills (quadratic); this finds the same duplicates, in the
/// same order, through an index of positions.
pub(super) fn go_dedup(items: &mut [Value]) -> usize {
    let mut positions: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for (i, v) in items.iter().enumerate() {
        positions.entry(identity(v)).or_default().insert(i);
    }
    let Some(mut last) = items.len().checked_sub(1) else {
        return 0;
    };
    let mut i = 0;
    while i < last {
        let id = identity(&items[i]);
        // Go scans upwards from i + 1; the slots it fills come from the end, so the next
        // duplicate it meets is always the lowest one left above i.
        while i < last {
            let next = positions
                .get(&id)
                .and_then(|p| p.range(i + 1..=last).next().copied());
            let Some(j) = next else {
                break;
            };
            let moved = items[last].clone();
            let moved_id = identity(&moved);
            if let Some(p) = positions.get_mut(&id) {
                p.remove(&j);
            }
            if let Some(p) = positions.get_mut(&moved_id) {
                p.remove(&last);
                if j != last {
                    p.insert(j);
                }
            }
            items[j] = moved;
            last -= 1;
        }
        i += 1;
    }
    last + 1
}

/// The caller's view of a list of maps after `mergeSlice` merged `patch` into it: the
/// original's first `len` slots once the `$patch: delete` items have shifted it and the new
/// items have filled its spare capacity.
pub(super) fn view_after_map_merge(
    original: &[Value],
    patch: &[Value],
    merge_key: &str,
) -> Vec<Value> {
    let key = |v: &Value| v.as_object().and_then(|m| m.get(merge_key)).map(identity);
    let mut slots: Vec<Value> = original.to_vec();
    let mut alive: BTreeSet<usize> = (0..original.len()).collect();
    let mut by_key: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for (i, v) in original.iter().enumerate() {
        if let Some(k) = key(v) {
            by_key.entry(k).or_default().insert(i);
        }
    }
    let directive = |v: &Value| v.get("$patch").and_then(Value::as_str).map(str::to_owned);
    // Deletions, in the patch's order, each removing the first match until none is left.
    // Removing an item leaves the old last item in the slot the list shrank away from.
    let mut stale: BTreeMap<usize, Value> = BTreeMap::new();
    for item in patch {
        if directive(item).as_deref() != Some("delete") {
            continue;
        }
        let Some(k) = key(item) else { continue };
        while let Some(&first) = by_key.get(&k).and_then(|p| p.iter().next()) {
            if let Some(&last) = alive.iter().next_back() {
                stale.insert(alive.len() - 1, original[last].clone());
            }
            alive.remove(&first);
            if let Some(p) = by_key.get_mut(&k) {
                p.remove(&first);
            }
        }
    }
    let survivors: Vec<Value> = alive.iter().map(|&i| original[i].clone()).collect();
    let mut len = survivors.len();
    for (slot, v) in slots.iter_mut().zip(survivors.iter().chain(stale.values())) {
        *slot = v.clone();
    }
    // `$patch: replace` makes the patch's items the list: nothing is appended to this array.
    if patch
        .iter()
        .any(|i| directive(i).as_deref() == Some("replace"))
    {
        return slots;
    }
    let mut present: BTreeSet<String> = survivors.iter().filter_map(key).collect();
    let capacity = go_capacity(original.len());
    for item in patch.iter().filter(|i| directive(i).is_none()) {
        let Some(k) = key(item) else { continue };
        if !present.insert(k) {
            continue;
        }
        if len >= capacity {
            // Go moves to a bigger array; the view keeps the old one.
            break;
        }
        if let Some(slot) = slots.get_mut(len) {
            *slot = item.clone();
        }
        len += 1;
    }
    slots
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(v: Value) -> Vec<Value> {
        match v {
            Value::Array(a) => a,
            _ => Vec::new(),
        }
    }

    #[test]
    fn dedup_moves_items_as_go_does() {
        // Go: [a a b c] -> i=0 finds a at 1, fills it with c: [a c b | c].
        let mut items = values(json!(["a", "a", "b", "c"]));
        assert_eq!(go_dedup(&mut items), 3);
        assert_eq!(items, values(json!(["a", "c", "b", "c"])));
        // A duplicate moved into the hole is found again.
        let mut items = values(json!([1, 2, 1, 1]));
        assert_eq!(go_dedup(&mut items), 2);
        assert_eq!(&items[..2], &values(json!([1, 2]))[..]);
        let mut items = values(json!([1, 2, 3, 2, 4]));
        assert_eq!(go_dedup(&mut items), 4);
        assert_eq!(items, values(json!([1, 2, 3, 4, 4])));
        assert_eq!(go_dedup(&mut []), 0);
    }

    #[test]
    fn the_view_sees_shifts_and_appends() {
        let original = values(json!([{"name": 1}, {"name": 2}, {"name": 4}]));
        let patch = values(json!([{"name": 3}, {"$patch": "delete", "name": 1}]));
        assert_eq!(
            view_after_map_merge(&original, &patch, "name"),
            values(json!([{"name": 2}, {"name": 4}, {"name": 3}]))
        );
        // No room: the third item goes to a new array.
        let original = values(json!([{"name": 1}, {"name": 4}]));
        let patch = values(json!([{"name": 2}, {"name": 3}, {"$patch": "delete", "name": 1}]));
        assert_eq!(
            view_after_map_merge(&original, &patch, "name"),
            values(json!([{"name": 4}, {"name": 2}]))
        );
    }
}
