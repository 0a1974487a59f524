//! Field management: who owns which fields of each object, as the API server's field manager
//! keeps it (`staging/src/k8s.io/apiserver/pkg/endpoints/handlers/fieldmanager` over
//! kubernetes-sigs/structured-merge-diff's `merge/update.go`).
//!
//! Every write through the API records its manager: an apply (`kubectl apply --server-side`)
//! owns exactly the fields it applied, any other write (operation `Update`, with its
//! subresource) owns what it changed. An apply that changes a field another manager owns is
//! a conflict, unless forced, which takes the field over; a field an applier owned and no
//! longer applies is removed when no one else owns it.
//!
//! The table is part of the [`Store`](crate::store::Store) (by object uid), so a replay of the
//! recorded API calls rebuilds it exactly, timestamps in virtual time included.

mod fieldset;
mod merge;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde_json::{Value, json};

pub use fieldset::{
    Comparison, FieldPath, FieldSet, PathElement, Scope, applied_fields, compare, display,
    fields_v1, from_fields_v1, remove_at, value_at,
};
pub use merge::merge;

use crate::store::{Kind, Store};
use crate::time::SimTime;

/// How a manager last wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    /// Server-side apply.
    Apply,
    /// Any other write.
    Update,
}

impl Operation {
    /// As `managedFields` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// One manager's fields of one object (a `ManagedFieldsEntry`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// `kubectl`, `kubectl-client-side-apply`, `kubectl-edit`...
    pub manager: String,
    /// Apply or Update.
    pub operation: Operation,
    /// The version the manager wrote (`apps/v1`).
    pub api_version: String,
    /// `scale` or `status` for writes through a subresource.
    pub subresource: Option<String>,
    /// When the manager last wrote.
    pub time: SimTime,
    /// What it owns.
    pub fields: FieldSet,
}

impl Entry {
    /// Whether this is the entry of `manager` writing with `operation` through `subresource`:
    /// a manager is its name, operation and subresource together (`BuildManagerIdentifier`;
    /// the version counts for updates only).
    fn is(
        &self,
        manager: &str,
        operation: Operation,
        subresource: Option<&str>,
        api_version: &str,
    ) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource.as_deref() == subresource
            && (operation == Operation::Apply || self.api_version == api_version)
    }

    /// The manager as conflict messages print it (`printManager`): `"kubectl"`, or
    /// `"kubectl" with subresource "scale" using apps/v1` for an update.
    pub fn printed(&self) -> String {
        let mut s = format!("{:?}", self.manager);
        if let Some(sub) = &self.subresource {
            s.push_str(&format!(" with subresource {sub:?}"));
        }
        if self.operation == Operation::Update {
            s.push_str(&format!(" using {}", self.api_version));
        }
        s
    }
}

/// The managers of one object, in the order they first wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ManagedFields {
    /// One entry per manager.
    pub entries: Vec<Entry>,
}

/// A field another manager owns, which an apply would change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The manager as printed ([`Entry::printed`]).
    pub manager: String,
    /// The field.
    pub path: FieldPath,
}

/// A server-side apply refused for its conflicts: 409 Conflict with one cause per field
/// (`internal.NewConflictError`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplyConflict {
    /// The conflicts, by manager then field.
    pub conflicts: Vec<Conflict>,
}

impl ApplyConflict {
    /// The Status message: `Apply failed with 1 conflict: conflict with "kubectl-scale" using
    /// apps/v1: .spec.replicas`, or one line per manager and field for several.
    pub fn message(&self) -> String {
        match self.conflicts.as_slice() {
            [one] => format!(
                "Apply failed with 1 conflict: conflict with {}: {}",
                one.manager,
                display(&one.path)
            ),
            many => {
                let mut by_manager: BTreeMap<&str, Vec<String>> = BTreeMap::new();
                for c in many {
                    by_manager
                        .entry(&c.manager)
                        .or_default()
                        .push(display(&c.path));
                }
                let lines: Vec<String> = by_manager
                    .iter()
                    .flat_map(|(m, paths)| {
                        std::iter::once(format!("conflicts with {m}:"))
                            .chain(paths.iter().map(|p| format!("- {p}")))
                    })
                    .collect();
                format!(
                    "Apply failed with {} conflicts: {}",
                    many.len(),
                    lines.join("\n")
                )
            }
        }
    }

    /// `details.causes`: `FieldManagerConflict`, `conflict with "kubectl"`, the field.
    pub fn causes(&self) -> Vec<Value> {
        self.conflicts
            .iter()
            .map(|c| {
                json!({
                    "reason": "FieldManagerConflict",
                    "message": format!("conflict with {}", c.manager),
                    "field": display(&c.path),
                })
            })
            .collect()
    }
}

/// One apply by `manager`, for [`ManagedFields::apply`].
#[derive(Clone, Copy, Debug)]
pub struct Applier<'a> {
    /// The object's kind.
    pub kind: Kind,
    /// The field manager.
    pub manager: &'a str,
    /// The version applied (`apps/v1`).
    pub api_version: &'a str,
    /// `force=true`: take conflicting fields over.
    pub force: bool,
    /// Now.
    pub now: SimTime,
}

/// One other write, for [`ManagedFields::update`].
#[derive(Clone, Copy, Debug)]
pub struct Updater<'a> {
    /// The object's kind.
    pub kind: Kind,
    /// The field manager.
    pub manager: &'a str,
    /// The version written (`apps/v1`).
    pub api_version: &'a str,
    /// `scale` or `status`.
    pub subresource: Option<&'a str>,
    /// Now.
    pub now: SimTime,
}

impl ManagedFields {
    /// An apply of `config` onto `live` (none: the apply creates the object) whose merge is
    /// `merged` (`Updater.Apply`). Removes from `merged` what this manager applied last time,
    /// no longer applies and no one else owns (`prune`), then checks the change against every
    /// other manager: a field one owns that would change is a conflict, or with `force` moves
    /// to this manager. Returns the managers after the write; nothing is stored here.
    pub fn apply(
        &self,
        a: &Applier<'_>,
        config: &Value,
        live: Option<&Value>,
        merged: &mut Value,
    ) -> Result<ManagedFields, ApplyConflict> {
        let set = applied_fields(a.kind, config);
        let mine = |e: &Entry| e.is(a.manager, Operation::Apply, None, a.api_version);
        let last = self
            .entries
            .iter()
            .find(|e| mine(e))
            .map(|e| e.fields.clone())
            .unwrap_or_default();
        let others: Vec<&Entry> = self.entries.iter().filter(|e| !mine(e)).collect();
        // Parents before their fields (the set's order): a removed item goes whole, before
        // its key fields could be removed from under it.
        for p in last.difference(&set) {
            let owned = |s: &FieldSet| {
                s.range(p.clone()..)
                    .next()
                    .is_some_and(|q| q.starts_with(p))
            };
            if !owned(&set) && !others.iter().any(|e| owned(&e.fields)) {
                remove_at(merged, p);
            }
        }
        let cmp = compare(a.kind, live, merged, Scope::Main);
        let changed = cmp.changed();
        let entry = Entry {
            manager: a.manager.to_string(),
            operation: Operation::Apply,
            api_version: a.api_version.to_string(),
            subresource: None,
            time: a.now,
            fields: set,
        };
        let mut conflicts = Vec::new();
        let mut out = ManagedFields::default();
        let mut placed = false;
        for e in &self.entries {
            // The applier keeps its place among the managers.
            if mine(e) {
                out.entries.push(entry.clone());
                placed = true;
                continue;
            }
            let taken: FieldSet = e.fields.intersection(&changed).cloned().collect();
            conflicts.extend(taken.iter().map(|p| Conflict {
                manager: e.printed(),
                path: p.clone(),
            }));
            let mut e = e.clone();
            e.fields
                .retain(|p| !taken.contains(p) && !cmp.removed.contains(p));
            if !e.fields.is_empty() {
                out.entries.push(e);
            }
        }
        if !conflicts.is_empty() && !a.force {
            conflicts.sort_by(|x, y| (&x.manager, &x.path).cmp(&(&y.manager, &y.path)));
            return Err(ApplyConflict { conflicts });
        }
        if !placed {
            out.entries.push(entry);
        }
        out.entries.retain(|e| !e.fields.is_empty());
        Ok(out)
    }

    /// Any other write by `u.manager` that took the object from `old` (none: created) to `new`
    /// (`Updater.Update`, always forced): what it changed is now its own and no one else's;
    /// what it removed is no one's.
    pub fn update(&mut self, u: &Updater<'_>, old: Option<&Value>, new: &Value) {
        let scope = if u.subresource == Some("status") {
            Scope::Status
        } else {
            Scope::Main
        };
        let cmp = compare(u.kind, old, new, scope);
        let changed = cmp.changed();
        let mine = |e: &Entry| e.is(u.manager, Operation::Update, u.subresource, u.api_version);
        for e in self.entries.iter_mut().filter(|e| !mine(e)) {
            e.fields
                .retain(|p| !changed.contains(p) && !cmp.removed.contains(p));
        }
        match self.entries.iter_mut().find(|e| mine(e)) {
            Some(e) => {
                e.fields.retain(|p| !cmp.removed.contains(p));
                e.fields.extend(changed);
                e.time = u.now;
            }
            None => self.entries.push(Entry {
                manager: u.manager.to_string(),
                operation: Operation::Update,
                api_version: u.api_version.to_string(),
                subresource: u.subresource.map(str::to_string),
                time: u.now,
                fields: changed,
            }),
        }
        self.entries.retain(|e| !e.fields.is_empty());
    }

    /// `metadata.managedFields` as the API shows it, in the API server's order (operation,
    /// time, manager, version, subresource: `sortEncodedManagedFields`); `None` when no one
    /// manages anything.
    pub fn to_json(&self, store: &Store) -> Option<Value> {
        if self.entries.is_empty() {
            return None;
        }
        let mut sorted: Vec<&Entry> = self.entries.iter().collect();
        sorted.sort_by(|p, q| {
            (
                p.operation,
                p.time.millis() / 1000,
                &p.manager,
                &p.api_version,
                &p.subresource,
            )
                .cmp(&(
                    q.operation,
                    q.time.millis() / 1000,
                    &q.manager,
                    &q.api_version,
                    &q.subresource,
                ))
        });
        Some(Value::Array(
            sorted
                .into_iter()
                .map(|e| {
                    let mut v = json!({
                        "manager": e.manager,
                        "operation": e.operation.as_str(),
                        "apiVersion": e.api_version,
                        "time": store.time(e.time),
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

    /// Managers read from a request's `metadata.managedFields` (a client may set them, as
    /// kubectl does when it moves client-side apply's fields to its server-side apply
    /// manager); `None` when they cannot be read, and the live managers stay.
    pub fn from_json(v: &Value, now: SimTime) -> Option<ManagedFields> {
        let mut entries = Vec::new();
        for e in v.as_array()? {
            let operation = match e.get("operation")?.as_str()? {
                "Apply" => Operation::Apply,
                "Update" => Operation::Update,
                _ => return None,
            };
            entries.push(Entry {
                manager: e.get("manager")?.as_str()?.to_string(),
                operation,
                api_version: e.get("apiVersion")?.as_str()?.to_string(),
                subresource: e
                    .get("subresource")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                time: now,
                fields: from_fields_v1(e.get("fieldsV1")?)?,
            });
        }
        Some(ManagedFields { entries })
    }
}
