//! Server-side apply's field management, as the API server's structured-merge-diff does it:
//! every field of an object is owned by the managers that set it (`kubectl-client-side-apply`,
//! `kubectl-scale`, `kubectl` for `apply --server-side`...). An apply that changes a field
//! another manager owns is a conflict (409, unless `--force-conflicts`, which takes the
//! field over); a field the applier owned and no longer applies is removed, unless someone
//! else owns it too; any other write makes its manager the owner of the fields it changed.
//!
//! Field sets are paths such as `["f:spec", "f:replicas"]`; items of keyed lists
//! (containers by name, ports by number...) are `k:{"name":"api"}`, other lists are
//! atomic (owned whole). The table lives beside the cluster (per object uid), so ownership
//! is not part of a recorded run: the scrubber or a reset step forgets it.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use sim_core::api::resource::RESOURCES;
use sim_core::apiserver::patch::{Meta, SchemaMeta};

/// A path to a field.
pub(crate) type FieldPath = Vec<String>;

/// How a manager last wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Operation {
    /// Server-side apply.
    Apply,
    /// Any other write.
    Update,
}

/// One manager's fields of one object.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    manager: String,
    operation: Operation,
    /// `scale` for writes through that subresource: a manager is its name, operation and
    /// subresource together.
    subresource: Option<String>,
    /// RFC 3339, wall clock.
    time: String,
    fields: BTreeSet<FieldPath>,
}

/// The managers of every object of one cluster, by uid.
#[derive(Debug, Default)]
pub(crate) struct Managed {
    objects: BTreeMap<String, Vec<Entry>>,
    /// The cluster's resourceVersion at the last write: a smaller one means the cluster was
    /// rebuilt (scrubber, reset step) and the table is forgotten.
    last_rv: u64,
}

/// A field another manager owns with another value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Conflict {
    /// The manager as the API server prints it: `"kubectl" with subresource "scale" using
    /// apps/v1 at 2026-11-24T10:00:00Z`.
    pub manager: String,
    pub path: FieldPath,
}

impl Entry {
    /// The manager as the API server's conflict messages print it.
    fn printed(&self, api_version: &str) -> String {
        let mut s = format!("{:?}", self.manager);
        if let Some(sub) = &self.subresource {
            s.push_str(&format!(" with subresource {sub:?}"));
        }
        if self.operation == Operation::Update {
            s.push_str(&format!(" using {api_version} at {}", self.time));
        }
        s
    }

    /// This manager's apply entry (not one of its updates).
    fn is_apply_of(&self, manager: &str) -> bool {
        self.manager == manager && self.operation == Operation::Apply && self.subresource.is_none()
    }
}

/// The fields an object or an applied configuration sets. Identity and server-set metadata
/// and `status` are no one's.
pub(crate) fn fields_of(v: &Value) -> BTreeSet<FieldPath> {
    let mut out = BTreeSet::new();
    let Some(top) = v.as_object() else {
        return out;
    };
    // Lists are keyed as the object's schema keys them (`x-kubernetes-list-map-keys`).
    let root = top
        .get("kind")
        .and_then(Value::as_str)
        .and_then(|k| RESOURCES.iter().find(|r| r.kind.as_str() == k))
        .map_or(SchemaMeta::Unknown, |r| SchemaMeta::of(r.kind));
    let meta_schema = root.child("metadata");
    for (k, val) in top {
        match k.as_str() {
            "apiVersion" | "kind" | "status" => {}
            "metadata" => {
                if let Some(m) = val.as_object() {
                    for (mk, mv) in m {
                        if matches!(
                            mk.as_str(),
                            "name"
                                | "namespace"
                                | "uid"
                                | "resourceVersion"
                                | "generation"
                                | "creationTimestamp"
                                | "managedFields"
                                | "selfLink"
                                | "deletionTimestamp"
                                | "deletionGracePeriodSeconds"
                                | "generateName"
                        ) {
                            continue;
                        }
                        walk(
                            &meta_schema,
                            mk,
                            mv,
                            &mut vec!["f:metadata".into(), format!("f:{mk}")],
                            &mut out,
                        );
                    }
                }
            }
            _ => walk(&root, k, val, &mut vec![format!("f:{k}")], &mut out),
        }
    }
    out
}

/// The fields under `field` of an object whose schema place is `parent`.
fn walk(
    parent: &SchemaMeta,
    field: &str,
    v: &Value,
    path: &mut FieldPath,
    out: &mut BTreeSet<FieldPath>,
) {
    let here = parent.child(field);
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, val) in m {
                path.push(format!("f:{k}"));
                walk(&here, k, val, path, out);
                path.pop();
            }
        }
        Value::Array(items) if !items.is_empty() => match list_key(parent, field) {
            Some(key) => {
                for item in items {
                    let Some(kv) = item.get(key) else {
                        // An item without its key cannot be told apart: the list is atomic.
                        out.insert(path.clone());
                        return;
                    };
                    path.push(key_elem(key, kv));
                    out.insert(path.clone());
                    if let Some(m) = item.as_object() {
                        for (k, val) in m {
                            path.push(format!("f:{k}"));
                            walk(&here, k, val, path, out);
                            path.pop();
                        }
                    }
                    path.pop();
                }
            }
            None => {
                out.insert(path.clone());
            }
        },
        _ => {
            out.insert(path.clone());
        }
    }
}

/// The key a list's items are told apart by in field sets: the first of its
/// `x-kubernetes-list-map-keys` (`None`: an atomic list, owned whole).
fn list_key(parent: &SchemaMeta, field: &str) -> Option<&'static str> {
    let s = parent.strategy(field)?;
    match s.list_type {
        Some("map") => s.list_map_keys.first().copied(),
        None if s.merges() => s.merge_key,
        _ => None,
    }
}

fn key_elem(key: &str, v: &Value) -> String {
    format!("k:{}", json!({ key: v }))
}

/// The value at `path`, if set.
fn value_at<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = v;
    for p in path {
        cur = step(cur, p)?;
    }
    Some(cur)
}

fn step<'a>(cur: &'a Value, p: &str) -> Option<&'a Value> {
    if let Some(f) = p.strip_prefix("f:") {
        return cur.get(f);
    }
    let key: Value = serde_json::from_str(p.strip_prefix("k:")?).ok()?;
    let (k, want) = key.as_object()?.iter().next()?;
    cur.as_array()?.iter().find(|i| i.get(k) == Some(want))
}

/// Removes the field (or keyed item) at `path`.
fn remove_at(v: &mut Value, path: &[String]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    let mut cur = v;
    for p in parent {
        let next = if let Some(f) = p.strip_prefix("f:") {
            cur.get_mut(f)
        } else {
            let Some(key) = p
                .strip_prefix("k:")
                .and_then(|k| serde_json::from_str::<Value>(k).ok())
            else {
                return;
            };
            let Some((k, want)) = key.as_object().and_then(|o| o.iter().next()) else {
                return;
            };
            cur.as_array_mut()
                .and_then(|a| a.iter_mut().find(|i| i.get(k) == Some(want)))
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    if let Some(f) = last.strip_prefix("f:") {
        if let Some(m) = cur.as_object_mut() {
            m.remove(f);
        }
    } else if let Some(key) = last
        .strip_prefix("k:")
        .and_then(|k| serde_json::from_str::<Value>(k).ok())
        && let Some((k, want)) = key.as_object().and_then(|o| o.iter().next())
        && let Some(a) = cur.as_array_mut()
    {
        a.retain(|i| i.get(k) != Some(want));
    }
}

/// `.spec.template.spec.containers[name="api"].image`, as the API server writes a path.
pub(crate) fn display(path: &[String]) -> String {
    let mut s = String::new();
    for p in path {
        if let Some(f) = p.strip_prefix("f:") {
            s.push('.');
            s.push_str(f);
        } else if let Some(k) = p.strip_prefix("k:") {
            let key: Value = serde_json::from_str(k).unwrap_or(Value::Null);
            if let Some((name, v)) = key.as_object().and_then(|o| o.iter().next()) {
                s.push_str(&format!("[{name}={v}]"));
            }
        }
    }
    s
}

/// The path of a keyed list item itself (`...containers[name="api"]`).
fn is_item(p: &[String]) -> bool {
    p.last().is_some_and(|l| l.starts_with("k:"))
}

/// Whether `a` is `b` or lies under it, or the other way round.
fn overlaps(a: &[String], b: &[String]) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

impl Managed {
    /// Forgets everything if the cluster was rebuilt since the last write.
    pub(crate) fn follow(&mut self, rv: u64) {
        if rv < self.last_rv {
            self.objects.clear();
        }
        self.last_rv = rv;
    }

    /// An apply by `manager` of `applied` onto the object `uid`, whose state after merging the
    /// applied configuration is `merged` (`live`: before). Fails with the conflicts unless
    /// `force` (which takes the fields over); else removes from `merged` the fields this
    /// manager applied before and no longer does (unless another manager owns them).
    ///
    /// Nothing changes here until [`Managed::commit`] stores the entries returned, once the
    /// write succeeded.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn apply(
        &self,
        uid: &str,
        manager: &str,
        api_version: &str,
        applied: &Value,
        live: Option<&Value>,
        merged: &mut Value,
        force: bool,
        now: &str,
    ) -> Result<Vec<Entry>, Vec<Conflict>> {
        let set = fields_of(applied);
        let mut entries = self.objects.get(uid).cloned().unwrap_or_default();
        let mut conflicts = Vec::new();
        let mut taken: Vec<(usize, FieldPath)> = Vec::new();
        for (i, e) in entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.is_apply_of(manager))
        {
            // A keyed item's own path only says it exists: values conflict, not items.
            for p in e.fields.iter().filter(|p| set.contains(*p) && !is_item(p)) {
                let before = live.and_then(|l| value_at(l, p));
                if before.is_some() && before != value_at(applied, p) {
                    conflicts.push(Conflict {
                        manager: e.printed(api_version),
                        path: p.clone(),
                    });
                    taken.push((i, p.clone()));
                }
            }
        }
        if !conflicts.is_empty() && !force {
            return Err(conflicts);
        }
        for (i, p) in &taken {
            entries[*i].fields.remove(p);
        }
        // Fields this manager applied before and no longer applies.
        let before: BTreeSet<FieldPath> = entries
            .iter()
            .filter(|e| e.is_apply_of(manager))
            .flat_map(|e| e.fields.iter().cloned())
            .collect();
        let others: Vec<&FieldPath> = entries
            .iter()
            .filter(|e| !e.is_apply_of(manager))
            .flat_map(|e| e.fields.iter())
            .collect();
        for p in before.difference(&set) {
            let kept = set.iter().any(|q| overlaps(p, q)) || others.iter().any(|q| overlaps(p, q));
            if !kept {
                remove_at(merged, p);
            }
        }
        entries.retain(|e| !e.is_apply_of(manager));
        entries.push(Entry {
            manager: manager.to_string(),
            operation: Operation::Apply,
            subresource: None,
            time: now.to_string(),
            fields: set,
        });
        entries.retain(|e| !e.fields.is_empty());
        Ok(entries)
    }

    /// Stores the managers of `uid` an [`Managed::apply`] planned.
    pub(crate) fn commit(&mut self, uid: &str, entries: Vec<Entry>) {
        self.objects.insert(uid.to_string(), entries);
    }

    /// Any other write by `manager` that took the object `uid` from `old` (none: created) to
    /// `new`: the fields it changed are now this manager's alone; fields it removed are no
    /// one's.
    pub(crate) fn update(
        &mut self,
        uid: &str,
        manager: &str,
        subresource: Option<&str>,
        old: Option<&Value>,
        new: &Value,
        now: &str,
    ) {
        let after = fields_of(new);
        let changed: BTreeSet<FieldPath> = after
            .iter()
            .filter(|p| {
                let was = old.and_then(|o| value_at(o, p));
                if is_item(p) {
                    // An item is this writer's if it added it.
                    was.is_none()
                } else {
                    was != value_at(new, p)
                }
            })
            .cloned()
            .collect();
        let removed: Vec<FieldPath> = old
            .map(fields_of)
            .unwrap_or_default()
            .into_iter()
            .filter(|p| !after.contains(p))
            .collect();
        if changed.is_empty() && removed.is_empty() {
            return;
        }
        let entries = self.objects.entry(uid.to_string()).or_default();
        for e in entries.iter_mut() {
            e.fields
                .retain(|p| !changed.contains(p) && !removed.contains(p));
        }
        match entries.iter_mut().find(|e| {
            e.manager == manager
                && e.operation == Operation::Update
                && e.subresource.as_deref() == subresource
        }) {
            Some(e) => {
                e.fields.extend(changed);
                e.time = now.to_string();
            }
            None => entries.push(Entry {
                manager: manager.to_string(),
                operation: Operation::Update,
                subresource: subresource.map(str::to_string),
                time: now.to_string(),
                fields: changed,
            }),
        }
        entries.retain(|e| !e.fields.is_empty());
    }

    /// Forgets a deleted object.
    pub(crate) fn forget(&mut self, uid: &str) {
        self.objects.remove(uid);
    }

    /// `metadata.managedFields` of the object `uid`, as the API shows it.
    pub(crate) fn to_json(&self, uid: &str, api_version: &str) -> Option<Value> {
        let entries = self.objects.get(uid).filter(|e| !e.is_empty())?;
        Some(Value::Array(
            entries
                .iter()
                .map(|e| {
                    let mut v = json!({
                        "manager": e.manager,
                        "operation": match e.operation {
                            Operation::Apply => "Apply",
                            Operation::Update => "Update",
                        },
                        "apiVersion": api_version,
                        "time": e.time,
                        "fieldsType": "FieldsV1",
                        "fieldsV1": fields_v1(&e.fields),
                    });
                    if let Some(sub) = &e.subresource {
                        v["subresource"] = json!(sub);
                    }
                    v
                })
                .collect(),
        ))
    }
}

/// A field set as `fieldsV1`: nested objects, `{}` at each owned leaf, `".": {}` on owned
/// keyed items.
fn fields_v1(set: &BTreeSet<FieldPath>) -> Value {
    let mut root = Value::Object(Map::new());
    for path in set {
        let mut cur = &mut root;
        for p in path {
            let Value::Object(m) = cur else { break };
            cur = m
                .entry(p.clone())
                .or_insert_with(|| Value::Object(Map::new()));
        }
        if path.last().is_some_and(|p| p.starts_with("k:"))
            && let Value::Object(m) = cur
        {
            m.insert(".".into(), Value::Object(Map::new()));
        }
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(replicas: i64, image: &str, sidecar: bool) -> Value {
        let mut containers = vec![json!({"name": "api", "image": image})];
        if sidecar {
            containers.push(json!({"name": "log", "image": "busybox"}));
        }
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "d", "labels": {"app": "web"}},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": containers}}},
        })
    }

    #[test]
    fn field_sets_key_list_items_and_skip_identity() {
        let set = fields_of(&dep(3, "nginx", false));
        let shown: Vec<String> = set.iter().map(|p| display(p)).collect();
        assert_eq!(
            shown,
            [
                ".metadata.labels.app",
                ".spec.replicas",
                ".spec.template.spec.containers[name=\"api\"]",
                ".spec.template.spec.containers[name=\"api\"].image",
                ".spec.template.spec.containers[name=\"api\"].name",
            ]
        );
    }

    #[test]
    fn another_managers_field_conflicts_unless_forced_or_equal() {
        let mut m = Managed::default();
        let v1 = dep(3, "nginx", false);
        let mut merged = v1.clone();
        let e = m
            .apply(
                "u",
                "kubectl",
                "apps/v1",
                &v1,
                None,
                &mut merged,
                false,
                "t",
            )
            .unwrap();
        m.commit("u", e);
        // kubectl scale takes .spec.replicas.
        let scaled = dep(5, "nginx", false);
        m.update("u", "kubectl", Some("scale"), Some(&v1), &scaled, "t");
        // Applying 3 again conflicts with kubectl-scale on .spec.replicas only.
        let mut merged = scaled.clone();
        let err = m
            .apply(
                "u",
                "kubectl",
                "apps/v1",
                &v1,
                Some(&scaled),
                &mut merged,
                false,
                "t",
            )
            .unwrap_err();
        assert_eq!(
            err,
            [Conflict {
                manager: "\"kubectl\" with subresource \"scale\" using apps/v1 at t".into(),
                path: vec!["f:spec".into(), "f:replicas".into()],
            }]
        );
        // Applying the value the field has is no conflict: the field is shared.
        let e = m
            .apply(
                "u",
                "kubectl",
                "apps/v1",
                &dep(5, "nginx", false),
                Some(&scaled),
                &mut merged,
                false,
                "t",
            )
            .unwrap();
        m.commit("u", e);
        // Forced, the field changes hands.
        let e = m
            .apply(
                "u",
                "kubectl",
                "apps/v1",
                &v1,
                Some(&scaled),
                &mut merged,
                true,
                "t",
            )
            .unwrap();
        m.commit("u", e);
        let json = m.to_json("u", "apps/v1").unwrap();
        assert!(!json.to_string().contains("scale"), "{json}");
    }

    #[test]
    fn a_field_no_longer_applied_is_removed_unless_someone_else_owns_it() {
        let mut m = Managed::default();
        let with = dep(3, "nginx", true);
        let mut merged = with.clone();
        let e = m
            .apply(
                "u",
                "kubectl",
                "apps/v1",
                &with,
                None,
                &mut merged,
                false,
                "t",
            )
            .unwrap();
        m.commit("u", e);
        // The sidecar is dropped from the applied file: it goes.
        let without = dep(3, "nginx", false);
        let mut merged = with.clone();
        let e = m
            .apply(
                "u",
                "kubectl",
                "apps/v1",
                &without,
                Some(&with),
                &mut merged,
                false,
                "t",
            )
            .unwrap();
        m.commit("u", e);
        assert_eq!(merged, without);
        // A label another manager added stays when the applier never had it.
        let mut labelled = without.clone();
        labelled["metadata"]["labels"]["team"] = json!("ml");
        m.update("u", "kubectl-label", None, Some(&without), &labelled, "t");
        let mut merged = labelled.clone();
        let e = m
            .apply(
                "u",
                "kubectl",
                "apps/v1",
                &without,
                Some(&labelled),
                &mut merged,
                false,
                "t",
            )
            .unwrap();
        m.commit("u", e);
        assert_eq!(merged["metadata"]["labels"]["team"], "ml");
        let v1 = m.to_json("u", "apps/v1").unwrap();
        let label = v1
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["manager"] == "kubectl-label")
            .expect("kubectl-label's entry");
        assert_eq!(label["operation"], "Update");
        assert_eq!(
            label["fieldsV1"],
            json!({"f:metadata": {"f:labels": {"f:team": {}}}}),
        );
    }

    #[test]
    fn a_rebuilt_cluster_forgets_ownership() {
        let mut m = Managed::default();
        m.follow(10);
        m.update("u", "x", None, None, &dep(1, "a", false), "t");
        m.follow(4);
        assert!(m.to_json("u", "apps/v1").is_none());
    }
}
