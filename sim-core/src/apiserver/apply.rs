//! `kubectl apply` done client-side, as the page's console and scripts apply manifests: the
//! three-way merge of the last-applied manifest, the manifest and the live object.

use std::collections::BTreeMap;

use serde_json::Value;

use super::mutations::KubectlWrite;
use super::{Applied, LAST_APPLIED, kind_of};
use crate::api::Object;
use crate::api::defaults::set_defaults;
use crate::apiserver::patch::PatchType;
use crate::error::ApiError;
use crate::sim::Sim;

impl Sim {
    /// `kubectl apply` of one object: create it, or three-way-merge it into the live one.
    /// `default_namespace` is used when the manifest has none.
    pub fn apply_object(
        &mut self,
        obj: Object,
        default_namespace: &str,
    ) -> Result<Applied, ApiError> {
        self.apply_object_with(obj, default_namespace, false)
    }

    /// [`Sim::apply_object`] as kubectl's client does it: the object is read, the three-way
    /// patch computed here, and the create (POST) or the patch sent to [`Sim::api`] with the
    /// field manager `kubectl-client-side-apply`, and `dryRun=All` when `dry_run`.
    pub fn apply_object_with(
        &mut self,
        obj: Object,
        default_namespace: &str,
        dry_run: bool,
    ) -> Result<Applied, ApiError> {
        self.apply_answered(obj, default_namespace, dry_run)
            .map(|(applied, _)| applied)
    }

    /// [`Sim::apply_object_with`], and the object the API server answered (the live one
    /// when nothing was sent): with `dry_run`, what `kubectl diff` shows as MERGED.
    pub fn apply_answered(
        &mut self,
        mut obj: Object,
        default_namespace: &str,
        dry_run: bool,
    ) -> Result<(Applied, Value), ApiError> {
        if obj.is_namespaced() && obj.namespace().is_none() {
            obj.metadata_mut().namespace = Some(default_namespace.into());
        }
        let manifest = strip_for_last_applied(obj.to_value());
        // kubectl sends its own last-applied text; keep it byte for byte so that its next
        // three-way diff is empty for an unchanged file ("unchanged"). Otherwise write ours.
        let last_applied = obj
            .metadata()
            .annotations
            .as_ref()
            .and_then(|a| a.get(LAST_APPLIED))
            .cloned()
            .unwrap_or_else(|| compact(&manifest));
        let kind = served_kind(&obj)?;
        let ns = obj.namespace().unwrap_or("").to_string();
        let name = obj.name().to_string();
        let live = self.get_object(kind, &ns, &name);
        let Some(live) = live else {
            obj.metadata_mut()
                .annotations
                .get_or_insert_with(BTreeMap::new)
                .insert(LAST_APPLIED.into(), last_applied.clone());
            let write = KubectlWrite::create(kind, &ns, obj.to_value());
            let created = self.kubectl_write(write.manager(CLIENT_SIDE_APPLY).dry(dry_run))?;
            return Ok((Applied::Created, created));
        };
        let live_value = live.to_value();
        let last: Value = live
            .metadata()
            .annotations
            .as_ref()
            .and_then(|a| a.get(LAST_APPLIED))
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or(Value::Object(Default::default()));
        // What the manifest says once the API server has defaulted it: lists compare equal to
        // the live (defaulted) ones unless the user really changed them.
        let mut defaulted = obj.clone();
        set_defaults(&mut defaulted);
        let defaulted = strip_for_last_applied(defaulted.to_value());
        let patch = three_way_patch(&last, &manifest, &defaulted, &live_value);
        let annotation_same = live
            .metadata()
            .annotations
            .as_ref()
            .and_then(|a| a.get(LAST_APPLIED))
            .is_some_and(|s| *s == last_applied);
        if patch.as_object().is_none_or(|m| m.is_empty()) && annotation_same {
            return Ok((Applied::Unchanged, live_value));
        }
        // The patch carries the new last-applied text, as kubectl's does.
        let mut patch = patch;
        if let Some(p) = patch.as_object_mut() {
            let meta = p
                .entry("metadata")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Some(meta) = meta.as_object_mut() {
                let annotations = meta
                    .entry("annotations")
                    .or_insert_with(|| Value::Object(Default::default()));
                if let Some(a) = annotations.as_object_mut() {
                    a.insert(LAST_APPLIED.into(), Value::String(last_applied));
                }
            }
        }
        let write = KubectlWrite::patch(kind, &ns, &name, PatchType::Merge, patch);
        let after = self.kubectl_write(write.manager(CLIENT_SIDE_APPLY).dry(dry_run))?;
        // A patch that changed nothing (the API server answers the object as it was).
        let stable = |v: &Value| {
            let mut v = v.clone();
            if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
                m.remove("resourceVersion");
                m.remove("managedFields");
            }
            v
        };
        let applied = if stable(&after) == stable(&live_value) {
            Applied::Unchanged
        } else {
            Applied::Configured
        };
        Ok((applied, after))
    }
}

impl Sim {
    /// `kubectl create -f` of one object: a POST, field manager `kubectl-create`.
    pub fn create_object_with(&mut self, obj: Object, dry_run: bool) -> Result<(), ApiError> {
        let kind = served_kind(&obj)?;
        let ns = obj.namespace().unwrap_or("").to_string();
        let write = KubectlWrite::create(kind, &ns, obj.to_value());
        self.kubectl_write(write.manager("kubectl-create").dry(dry_run))
            .map(|_| ())
    }

    /// `kubectl replace -f` of one object: a PUT, field manager `kubectl-replace`.
    pub fn replace_object_with(&mut self, obj: Object, dry_run: bool) -> Result<(), ApiError> {
        let kind = served_kind(&obj)?;
        let (ns, name) = (
            obj.namespace().unwrap_or("").to_string(),
            obj.name().to_string(),
        );
        let write = KubectlWrite::put(kind, &ns, &name, obj.to_value());
        self.kubectl_write(write.manager("kubectl-replace").dry(dry_run))
            .map(|_| ())
    }
}

/// The store's kind of a manifest's object, or the error for a kind kubesim does not serve.
fn served_kind(obj: &Object) -> Result<crate::store::Kind, ApiError> {
    kind_of(obj).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "kubesim cannot create objects of kind {}",
            obj.kind()
        ))
    })
}

/// The field manager of kubectl's client-side apply.
const CLIENT_SIDE_APPLY: &str = "kubectl-client-side-apply";

/// What kubectl stores as last-applied: the manifest without status and server fields.
fn strip_for_last_applied(mut v: Value) -> Value {
    if let Some(m) = v.as_object_mut() {
        m.remove("status");
        if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
            for k in [
                "creationTimestamp",
                "uid",
                "resourceVersion",
                "generation",
                "managedFields",
            ] {
                meta.remove(k);
            }
            if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
                a.remove(LAST_APPLIED);
                if a.is_empty() {
                    meta.remove("annotations");
                }
            }
        }
    }
    v
}

fn compact(v: &Value) -> String {
    let mut s = serde_json::to_string(v).unwrap_or_default();
    s.push('\n');
    s
}

/// `kubectl apply`'s three-way patch (`CreateThreeWayMergePatch`): every field the manifest
/// sets that differs from the live object, plus deletions of fields the previous manifest set
/// and this one dropped. Fields the manifest never mentions (server defaults, `kubectl scale`
/// on a manifest without replicas) are left alone; fields it does mention win over imperative
/// changes, so re-applying a manifest undoes a `kubectl scale` or `set image`.
pub fn three_way_patch(last: &Value, manifest: &Value, defaulted: &Value, live: &Value) -> Value {
    let mut patch = changes_from_live(manifest, defaulted, live);
    let deletions = only_deletions(&diff_merge_patch(last, manifest));
    merge_patch_keep_nulls(&mut patch, &deletions);
    patch
}

fn changes_from_live(manifest: &Value, defaulted: &Value, live: &Value) -> Value {
    let mut out = serde_json::Map::new();
    if let Value::Object(m) = manifest {
        for (k, mv) in m {
            let dv = defaulted.get(k).unwrap_or(mv);
            match (mv, live.get(k)) {
                (Value::Object(_), Some(lv @ Value::Object(_))) => {
                    let sub = changes_from_live(mv, dv, lv);
                    if sub.as_object().is_some_and(|o| !o.is_empty()) {
                        out.insert(k.clone(), sub);
                    }
                }
                (_, lv) if lv != Some(dv) => {
                    out.insert(k.clone(), dv.clone());
                }
                _ => {}
            }
        }
    }
    Value::Object(out)
}

fn only_deletions(patch: &Value) -> Value {
    let mut out = serde_json::Map::new();
    if let Value::Object(m) = patch {
        for (k, v) in m {
            match v {
                Value::Null => {
                    out.insert(k.clone(), Value::Null);
                }
                Value::Object(_) => {
                    let sub = only_deletions(v);
                    if sub.as_object().is_some_and(|o| !o.is_empty()) {
                        out.insert(k.clone(), sub);
                    }
                }
                _ => {}
            }
        }
    }
    Value::Object(out)
}

fn merge_patch_keep_nulls(target: &mut Value, extra: &Value) {
    if let (Value::Object(t), Value::Object(e)) = (target, extra) {
        for (k, v) in e {
            match (t.get_mut(k), v) {
                (Some(tv @ Value::Object(_)), Value::Object(_)) => merge_patch_keep_nulls(tv, v),
                (Some(_), _) => {}
                (None, v) => {
                    t.insert(k.clone(), v.clone());
                }
            }
        }
    }
}

/// The JSON merge patch that turns `from` into `to` (RFC 7386): removed keys become null.
pub fn diff_merge_patch(from: &Value, to: &Value) -> Value {
    match (from, to) {
        (Value::Object(a), Value::Object(b)) => {
            let mut out = serde_json::Map::new();
            for (k, va) in a {
                match b.get(k) {
                    None => {
                        out.insert(k.clone(), Value::Null);
                    }
                    Some(vb) if vb != va => {
                        let d = diff_merge_patch(va, vb);
                        out.insert(k.clone(), d);
                    }
                    _ => {}
                }
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    out.insert(k.clone(), vb.clone());
                }
            }
            Value::Object(out)
        }
        (_, to) => to.clone(),
    }
}

/// Applies a JSON merge patch (RFC 7386).
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn three_way_apply_reverts_imperative_changes_to_fields_it_sets() {
        // `kubectl scale --replicas=5` then re-applying a manifest that says 3 goes back to 3;
        // `kubectl rollout pause` (a field the manifest never set) survives.
        let last = json!({"spec": {"replicas": 3, "template": {"image": "a"}}});
        let new = json!({"spec": {"replicas": 3, "template": {"image": "b"}}});
        let mut live = json!({"spec": {"replicas": 5, "paused": true, "template": {"image": "a"}}});
        let patch = three_way_patch(&last, &new, &new, &live);
        merge_patch(&mut live, &patch);
        assert_eq!(
            live,
            json!({"spec": {"replicas": 3, "paused": true, "template": {"image": "b"}}})
        );
        // A field dropped from the manifest is removed from the live object.
        let newer = json!({"spec": {"template": {"image": "b"}}});
        let patch = three_way_patch(&new, &newer, &newer, &live);
        merge_patch(&mut live, &patch);
        assert_eq!(
            live,
            json!({"spec": {"paused": true, "template": {"image": "b"}}})
        );
        // Nothing differs: an empty patch ("unchanged").
        assert_eq!(three_way_patch(&newer, &newer, &newer, &live), json!({}));
    }
}
