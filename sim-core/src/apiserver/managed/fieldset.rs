//! Field sets as structured-merge-diff computes them (`typed/tofieldset.go`, `typed/compare.go`,
//! `fieldpath/serialize.go`): the paths of an object's fields, with the items of `map` lists
//! keyed by all their keys, `set` lists by value, and atomic lists and structs owned whole.
//!
//! The schema walk reads the served kinds' schemas ([`SchemaMeta`]) and the merge-key table
//! ([`strategy`]), the same the strategic merge patch and the OpenAPI documents use.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::api::strategy;
use crate::apiserver::patch::{Meta, SchemaMeta};
use crate::store::Kind;

/// One step of a field path: structured-merge-diff's `PathElement`. The order (fields, then
/// keys, then values) is its order too.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PathElement {
    /// A struct field or map key: `f:replicas`.
    Field(String),
    /// An item of a `map` list, by its key fields as a JSON object with sorted keys:
    /// `k:{"containerPort":80,"protocol":"TCP"}`.
    Key(String),
    /// An item of a `set` list, by its JSON value: `v:"a"`.
    Value(String),
}

/// A path to a field or list item.
pub type FieldPath = Vec<PathElement>;

/// A set of fields: what one manager owns.
pub type FieldSet = BTreeSet<FieldPath>;

/// Which part of an object a write touches: the main resource never owns `status`, the status
/// subresource owns nothing else (the strategies' `GetResetFields`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The object itself (create, update, patch, apply, `scale`).
    Main,
    /// The `status` subresource.
    Status,
}

/// Metadata that is identity or set by the server: no one's (`NewStripMetaManager`).
const SERVER_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// What a path of an object is, for the two walks that read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NodeKind {
    /// A scalar, an atomic list or struct, an empty object: owned as one field.
    Leaf,
    /// A list item or a map entry holding an object: a member, and a parent of its fields.
    Item,
    /// A map (`labels`) with entries: not owned by an apply, but an update that adds it adds
    /// its path too (`f:labels: {.: {}}`).
    Map,
}

/// A path's kind and value.
#[derive(Clone, Copy, Debug)]
struct Node<'a> {
    kind: NodeKind,
    value: &'a Value,
}

/// How a list's items are told apart.
#[derive(Clone, Copy, Debug)]
pub(super) enum ListKind {
    /// Replaced and owned whole.
    Atomic,
    /// Items are primitives, each its own member.
    Set,
    /// Items are objects, keyed by these fields.
    Map(&'static [&'static str]),
}

/// The list type of `field` of an object placed at `parent`.
pub(super) fn list_kind(parent: &SchemaMeta, field: &str) -> ListKind {
    let SchemaMeta::Schema(name) = parent else {
        return ListKind::Atomic;
    };
    let Some(s) = strategy::field(name, field) else {
        return ListKind::Atomic;
    };
    match s.list_type {
        Some("map") if !s.list_map_keys.is_empty() => ListKind::Map(s.list_map_keys),
        Some("set") => ListKind::Set,
        None if s.merges() => match s.merge_key.as_ref() {
            Some(k) => ListKind::Map(std::slice::from_ref(k)),
            None => ListKind::Set,
        },
        _ => ListKind::Atomic,
    }
}

/// Whether a value placed at `meta` is owned whole (`+structType=atomic`).
pub(super) fn is_atomic(meta: &SchemaMeta) -> bool {
    matches!(meta, SchemaMeta::Schema(name) if strategy::ATOMIC_STRUCTS.contains(name))
}

/// The path element of a list item, or `None` when the item cannot be told apart (a `map`
/// item missing a key without a default: the list is then owned whole).
pub(super) fn item_element(kind: ListKind, item: &Value) -> Option<PathElement> {
    match kind {
        ListKind::Atomic => None,
        ListKind::Set => Some(PathElement::Value(item.to_string())),
        ListKind::Map(keys) => {
            let obj = item.as_object()?;
            let mut key = Map::new();
            for k in keys {
                let v = match obj.get(*k) {
                    Some(v) if !v.is_null() => v.clone(),
                    _ => Value::from(strategy::list_map_key_default(k)?),
                };
                key.insert((*k).to_string(), v);
            }
            Some(PathElement::Key(Value::Object(key).to_string()))
        }
    }
}

/// The schema place of a whole object of `kind`.
fn root(kind: Kind) -> SchemaMeta {
    SchemaMeta::of(kind)
}

/// Every path of `obj` with what it is, for `scope`.
fn nodes(kind: Kind, obj: &Value, scope: Scope) -> BTreeMap<FieldPath, Node<'_>> {
    let mut out = BTreeMap::new();
    let Some(top) = obj.as_object() else {
        return out;
    };
    let root = root(kind);
    let mut path = Vec::new();
    for (k, v) in top {
        let wanted = match scope {
            Scope::Main => !matches!(k.as_str(), "apiVersion" | "kind" | "status"),
            Scope::Status => k == "status",
        };
        if !wanted {
            continue;
        }
        path.push(PathElement::Field(k.clone()));
        if k == "metadata" {
            let meta = root.child("metadata");
            for (mk, mv) in v.as_object().into_iter().flatten() {
                if SERVER_METADATA.contains(&mk.as_str()) {
                    continue;
                }
                path.push(PathElement::Field(mk.clone()));
                walk(&meta, mk, mv, &mut path, &mut out);
                path.pop();
            }
        } else {
            walk(&root, k, v, &mut path, &mut out);
        }
        path.pop();
    }
    out
}

/// The paths under `field` (value `v`) of an object placed at `parent`; `path` ends with it.
fn walk<'a>(
    parent: &SchemaMeta,
    field: &str,
    v: &'a Value,
    path: &mut FieldPath,
    out: &mut BTreeMap<FieldPath, Node<'a>>,
) {
    let here = parent.child(field);
    let entry = matches!(parent, SchemaMeta::MapOf(_));
    let leaf = Node {
        kind: NodeKind::Leaf,
        value: v,
    };
    match v {
        Value::Object(m) if !m.is_empty() && !is_atomic(&here) => {
            for (k, x) in m {
                path.push(PathElement::Field(k.clone()));
                walk(&here, k, x, path, out);
                path.pop();
            }
            let kind = if entry {
                Some(NodeKind::Item)
            } else if matches!(here, SchemaMeta::MapOf(_)) {
                Some(NodeKind::Map)
            } else {
                None
            };
            if let Some(kind) = kind {
                out.insert(path.clone(), Node { kind, value: v });
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let kind = list_kind(parent, field);
            let elements: Option<Vec<PathElement>> =
                items.iter().map(|i| item_element(kind, i)).collect();
            let Some(elements) = elements else {
                out.insert(path.clone(), leaf);
                return;
            };
            for (pe, item) in elements.into_iter().zip(items) {
                path.push(pe);
                out.insert(
                    path.clone(),
                    Node {
                        kind: NodeKind::Item,
                        value: item,
                    },
                );
                if let (ListKind::Map(_), Some(m)) = (kind, item.as_object()) {
                    for (k, x) in m {
                        path.push(PathElement::Field(k.clone()));
                        walk(&here, k, x, path, out);
                        path.pop();
                    }
                }
                path.pop();
            }
        }
        // An empty list is no field (`typed/tofieldset.go`); an empty object is one.
        Value::Array(_) => {}
        _ => {
            out.insert(path.clone(), leaf);
        }
    }
}

/// The fields an applied configuration sets (`ToFieldSet`): leaves, list items and map
/// entries; never identity, server-set metadata or, for the main resource, `status`.
pub fn applied_fields(kind: Kind, config: &Value) -> FieldSet {
    nodes(kind, config, Scope::Main)
        .into_iter()
        .filter(|(_, n)| n.kind != NodeKind::Map)
        .map(|(p, _)| p)
        .collect()
}

/// What changed from one object to the next (`typed.Comparison`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Paths the new object has and the old did not.
    pub added: FieldSet,
    /// Paths the old object had and the new does not.
    pub removed: FieldSet,
    /// Fields both have, with another value.
    pub modified: FieldSet,
}

impl Comparison {
    /// Added and modified: what a writer now sets.
    pub fn changed(&self) -> FieldSet {
        self.added.union(&self.modified).cloned().collect()
    }
}

/// Compares `old` (none: a create) with `new` within `scope`.
pub fn compare(kind: Kind, old: Option<&Value>, new: &Value, scope: Scope) -> Comparison {
    let before = old.map(|o| nodes(kind, o, scope)).unwrap_or_default();
    let after = nodes(kind, new, scope);
    let mut c = Comparison::default();
    for (p, n) in &after {
        match before.get(p) {
            None => {
                c.added.insert(p.clone());
            }
            Some(b)
                if n.kind == NodeKind::Leaf && (b.kind != NodeKind::Leaf || b.value != n.value) =>
            {
                c.modified.insert(p.clone());
            }
            Some(_) => {}
        }
    }
    for p in before.keys() {
        if !after.contains_key(p) {
            c.removed.insert(p.clone());
        }
    }
    c
}

/// The parsed key fields of a `k:` element.
fn key_fields(key: &str) -> Option<Map<String, Value>> {
    match serde_json::from_str(key) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}

/// Whether a list item is the one `pe` names.
fn is_item(item: &Value, pe: &PathElement) -> bool {
    match pe {
        PathElement::Field(_) => false,
        PathElement::Value(v) => serde_json::from_str::<Value>(v).is_ok_and(|want| *item == want),
        PathElement::Key(k) => key_fields(k).is_some_and(|want| {
            want.iter().all(|(name, w)| match item.get(name) {
                Some(v) if !v.is_null() => v == w,
                _ => strategy::list_map_key_default(name).is_some_and(|d| w == d),
            })
        }),
    }
}

/// The value at `path`, if set.
pub fn value_at<'a>(v: &'a Value, path: &[PathElement]) -> Option<&'a Value> {
    let mut cur = v;
    for pe in path {
        cur = match pe {
            PathElement::Field(f) => cur.get(f)?,
            _ => cur.as_array()?.iter().find(|i| is_item(i, pe))?,
        };
    }
    Some(cur)
}

/// Removes the field or list item at `path` (nothing if it is not there).
pub fn remove_at(v: &mut Value, path: &[PathElement]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = v;
    for pe in parents {
        let next = match pe {
            PathElement::Field(f) => cur.get_mut(f),
            _ => cur
                .as_array_mut()
                .and_then(|a| a.iter_mut().find(|i| is_item(i, pe))),
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    match last {
        PathElement::Field(f) => {
            if let Some(m) = cur.as_object_mut() {
                m.remove(f);
            }
        }
        _ => {
            if let Some(a) = cur.as_array_mut() {
                a.retain(|i| !is_item(i, last));
            }
        }
    }
}

/// A path as the API server prints it in conflicts (`fieldpath.Path.String`):
/// `.spec.template.spec.containers[name="api"].ports[containerPort=80,protocol="TCP"]`.
pub fn display(path: &[PathElement]) -> String {
    let mut s = String::new();
    for pe in path {
        match pe {
            PathElement::Field(f) => {
                s.push('.');
                s.push_str(f);
            }
            PathElement::Key(k) => {
                let fields: Vec<String> = key_fields(k)
                    .unwrap_or_default()
                    .iter()
                    .map(|(n, v)| format!("{n}={v}"))
                    .collect();
                s.push_str(&format!("[{}]", fields.join(",")));
            }
            PathElement::Value(v) => s.push_str(&format!("[={v}]")),
        }
    }
    s
}

impl PathElement {
    /// The element as `fieldsV1` writes it (`f:name`, `k:{...}`, `v:...`).
    pub fn encoded(&self) -> String {
        match self {
            PathElement::Field(f) => format!("f:{f}"),
            PathElement::Key(k) => format!("k:{k}"),
            PathElement::Value(v) => format!("v:{v}"),
        }
    }

    /// An element from its `fieldsV1` form.
    pub fn decode(s: &str) -> Option<PathElement> {
        let (tag, rest) = s.split_at_checked(2)?;
        match tag {
            "f:" => Some(PathElement::Field(rest.to_string())),
            "k:" => key_fields(rest).map(|m| PathElement::Key(Value::Object(m).to_string())),
            "v:" => serde_json::from_str::<Value>(rest)
                .ok()
                .map(|v| PathElement::Value(v.to_string())),
            _ => None,
        }
    }
}

/// A field set as `fieldsV1`: a trie of encoded elements, `{}` at each member leaf and
/// `".": {}` on a member that also has owned children.
pub fn fields_v1(set: &FieldSet) -> Value {
    #[derive(Default)]
    struct Trie {
        member: bool,
        children: BTreeMap<String, Trie>,
    }
    fn render(t: &Trie) -> Value {
        let mut m: Map<String, Value> = t
            .children
            .iter()
            .map(|(k, c)| (k.clone(), render(c)))
            .collect();
        if t.member && !m.is_empty() {
            m.insert(".".into(), Value::Object(Map::new()));
        }
        Value::Object(m)
    }
    let mut root = Trie::default();
    for path in set {
        let mut cur = &mut root;
        for pe in path {
            cur = cur.children.entry(pe.encoded()).or_default();
        }
        cur.member = true;
    }
    render(&root)
}

/// A `fieldsV1` trie read back into a field set (`None`: not one).
pub fn from_fields_v1(v: &Value) -> Option<FieldSet> {
    fn read(v: &Value, path: &mut FieldPath, out: &mut FieldSet) -> Option<()> {
        let m = v.as_object()?;
        if m.is_empty() && !path.is_empty() {
            out.insert(path.clone());
        }
        for (k, child) in m {
            if k == "." {
                out.insert(path.clone());
                continue;
            }
            path.push(PathElement::decode(k)?);
            read(child, path, out)?;
            path.pop();
        }
        Some(())
    }
    let mut out = FieldSet::new();
    read(v, &mut Vec::new(), &mut out)?;
    Some(out)
}
