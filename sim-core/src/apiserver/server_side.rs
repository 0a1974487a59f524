//! Server-side apply (`PATCH` with `application/apply-patch+yaml`, `kubectl apply
//! --server-side`) and the field managers every other API write records, over the
//! [`managed`](super::managed) table in the store.

use serde_json::Value;

use super::call::{ApiCall, Verb};
use super::managed::{Applier, ManagedFields, Updater, merge};
use super::rest::Written;
use crate::api::Object;
use crate::api::resource::Resource;
use crate::error::ApiError;
use crate::sim::Sim;

/// The manager of a write that names none: kubectl's, as the API server derives it from the
/// User-Agent of the page's console, which is kubectl.
const DEFAULT_MANAGER: &str = "kubectl";

impl Sim {
    /// An apply of the configuration `call.body` onto the object `name` (created when absent):
    /// merged as structured-merge-diff merges, checked against the other managers' fields,
    /// fields this manager dropped removed, then written as an update (or create).
    pub(super) fn api_apply(
        &mut self,
        res: &'static Resource,
        ns: Option<&str>,
        name: &str,
        call: &ApiCall,
        w: &mut Written<'_>,
    ) -> Result<Value, ApiError> {
        let manager = call
            .options
            .field_manager
            .as_deref()
            .filter(|m| !m.is_empty())
            .ok_or_else(|| {
                ApiError::BadRequest(
                    "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch".into(),
                )
            })?;
        let mut config = call.body.clone();
        let Some(meta) = config.get_mut("metadata").and_then(Value::as_object_mut) else {
            return Err(ApiError::BadRequest(
                "error decoding YAML: the applied configuration has no metadata".into(),
            ));
        };
        match meta.get("name").and_then(Value::as_str) {
            None | Some("") => {
                meta.insert("name".into(), name.into());
            }
            Some(n) if n != name => {
                return Err(ApiError::BadRequest(format!(
                    "the name of the object ({n}) does not match the name on the URL ({name})"
                )));
            }
            Some(_) => {}
        }
        let api_version = res.api_version();
        let applier = Applier {
            kind: res.kind,
            manager,
            api_version: &api_version,
            force: call.options.force,
            now: self.store.now,
        };
        let dry = w.opts.dry_run;
        match self.api_get(res, ns, name) {
            Err(ApiError::NotFound { .. }) => {
                let mut created = config.clone();
                let managers = ManagedFields::default()
                    .apply(&applier, &config, None, &mut created)
                    .map_err(ApiError::ApplyConflict)?;
                let mut v = self.api_create(res, ns, created, w)?;
                if !dry {
                    self.keep_managers(&v, managers);
                    self.with_managed_fields(&mut v);
                }
                Ok(v)
            }
            Err(e) => Err(e),
            Ok(live) => {
                let live_v = live.to_value();
                let mut merged = merge(res.kind, &live_v, &config);
                let managers = self
                    .managers_of(&live)
                    .apply(&applier, &config, Some(&live_v), &mut merged)
                    .map_err(ApiError::ApplyConflict)?;
                let mut v = self.api_update(res, ns, name, &live, merged, w)?;
                if !dry {
                    self.keep_managers(&v, managers);
                    self.with_managed_fields(&mut v);
                }
                Ok(v)
            }
        }
    }

    /// After any other write that changed the cluster: its manager owns what it changed
    /// (`before`: the object as it was, none for a create), a deleted object has no managers.
    pub(super) fn record_manager(
        &mut self,
        res: &'static Resource,
        call: &ApiCall,
        before: Option<&Object>,
        sent: Option<&Value>,
        result: &Value,
    ) {
        let ns = call.namespace.as_deref().filter(|_| res.namespaced);
        if call.verb == Verb::Delete {
            if let Some(uid) = before.and_then(|o| o.metadata().uid.clone()) {
                self.store.managed.remove(&uid);
            }
            return;
        }
        let name = call
            .name
            .as_deref()
            .or_else(|| result.pointer("/metadata/name").and_then(Value::as_str));
        let Some(after) = name.and_then(|n| self.api_get(res, ns, n).ok()) else {
            return;
        };
        let Some(uid) = after.metadata().uid.clone() else {
            return;
        };
        let before_v = before.map(Object::to_value);
        let after_v = after.to_value();
        let api_version = res.api_version();
        let manager = call
            .options
            .field_manager
            .as_deref()
            .filter(|m| !m.is_empty())
            .unwrap_or(DEFAULT_MANAGER);
        // A client may write the managers themselves (kubectl moving client-side apply's
        // fields to its server-side manager; `decodeLiveOrNew`): an empty list resets them, a
        // list that cannot be read leaves the live ones.
        let mut managers = match sent.map(|v| ManagedFields::from_json(v, self.store.now)) {
            Some(Some(m)) => m,
            _ => self.managers_of(&after),
        };
        managers.update(
            &Updater {
                kind: res.kind,
                manager,
                api_version: &api_version,
                subresource: call.subresource.as_deref(),
                now: self.store.now,
            },
            before_v.as_ref(),
            &after_v,
        );
        self.keep_managers_of(&uid, managers);
    }

    /// The managers of an object.
    fn managers_of(&self, o: &Object) -> ManagedFields {
        o.metadata()
            .uid
            .as_deref()
            .and_then(|uid| self.store.managed.get(uid))
            .cloned()
            .unwrap_or_default()
    }

    /// Stores the managers of the object whose JSON is `v`.
    fn keep_managers(&mut self, v: &Value, managers: ManagedFields) {
        if let Some(uid) = v.pointer("/metadata/uid").and_then(Value::as_str) {
            let uid = uid.to_string();
            self.keep_managers_of(&uid, managers);
        }
    }

    fn keep_managers_of(&mut self, uid: &str, managers: ManagedFields) {
        if managers.entries.is_empty() {
            self.store.managed.remove(uid);
        } else {
            self.store.managed.insert(uid.to_string(), managers);
        }
    }

    /// Puts an object's `metadata.managedFields` into its JSON, as the API returns objects
    /// (kubectl hides them unless `--show-managed-fields`).
    pub fn with_managed_fields(&self, v: &mut Value) {
        let Some(uid) = v.pointer("/metadata/uid").and_then(Value::as_str) else {
            return;
        };
        let Some(json) = self
            .store
            .managed
            .get(uid)
            .and_then(|m| m.to_json(&self.store))
        else {
            return;
        };
        if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("managedFields".into(), json);
        }
    }
}
