//! Server-side apply's merge of an applied configuration into the live object
//! (structured-merge-diff's `typed/merge.go`): objects merge field by field, `map` lists item
//! by item on all their keys, `set` lists as a union, and atomic lists and structs are
//! replaced. Items keep the live order; new ones follow in the configuration's order.

use serde_json::{Map, Value};

use super::fieldset::{ListKind, is_atomic, item_element, list_kind};
use crate::apiserver::patch::{Meta, SchemaMeta};
use crate::store::Kind;

/// The live object of `kind` with the configuration merged in.
pub fn merge(kind: Kind, live: &Value, config: &Value) -> Value {
    match (live, config) {
        (Value::Object(l), Value::Object(c)) => {
            Value::Object(merge_object(&SchemaMeta::of(kind), l, c))
        }
        _ => config.clone(),
    }
}

/// Two objects placed at `meta`, field by field.
fn merge_object(
    meta: &SchemaMeta,
    live: &Map<String, Value>,
    config: &Map<String, Value>,
) -> Map<String, Value> {
    let mut out = live.clone();
    for (k, c) in config {
        let merged = merge_field(meta, k, live.get(k), c);
        out.insert(k.clone(), merged);
    }
    out
}

/// Field `field` of an object placed at `parent`.
fn merge_field(parent: &SchemaMeta, field: &str, live: Option<&Value>, config: &Value) -> Value {
    let here = parent.child(field);
    match (live, config) {
        (Some(Value::Object(l)), Value::Object(c)) if !is_atomic(&here) => {
            Value::Object(merge_object(&here, l, c))
        }
        (Some(Value::Array(l)), Value::Array(c)) => match list_kind(parent, field) {
            ListKind::Atomic => config.clone(),
            kind => merge_list(&here, kind, l, c).unwrap_or_else(|| config.clone()),
        },
        _ => config.clone(),
    }
}

/// A `set` or `map` list; `None` when an item cannot be told apart (the list is then replaced).
fn merge_list(
    item_meta: &SchemaMeta,
    kind: ListKind,
    live: &[Value],
    config: &[Value],
) -> Option<Value> {
    let live_keys: Vec<_> = live
        .iter()
        .map(|i| item_element(kind, i))
        .collect::<Option<_>>()?;
    let config_keys: Vec<_> = config
        .iter()
        .map(|i| item_element(kind, i))
        .collect::<Option<_>>()?;
    let mut out = Vec::with_capacity(live.len().max(config.len()));
    for (item, key) in live.iter().zip(&live_keys) {
        let applied = config_keys
            .iter()
            .position(|k| k == key)
            .map(|i| &config[i]);
        out.push(match (applied, item, kind) {
            (Some(Value::Object(c)), Value::Object(l), ListKind::Map(_)) => {
                Value::Object(merge_object(item_meta, l, c))
            }
            (Some(c), _, _) => c.clone(),
            (None, _, _) => item.clone(),
        });
    }
    for (item, key) in config.iter().zip(&config_keys) {
        if !live_keys.contains(key) {
            out.push(item.clone());
        }
    }
    Some(Value::Array(out))
}
