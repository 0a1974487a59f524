//! Writes: create, update, patch, server-side apply, delete and the `scale` subresource.

#[allow(unused_imports)]
use super::*;

/// The object's uid, its JSON, the cluster's resourceVersion and now (as an API timestamp).
pub(super) fn snapshot(
    st: &Cluster,
    t: &Target<'_>,
    name: &str,
) -> Option<(String, Value, u64, String)> {
    let sb = st.lock();
    let sim = sb.sim();
    let o = lookup(sim, t.res, t.ns.unwrap_or(""), name)?;
    let now = serde_json::to_value(sim.store.time(sim.now()))
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    Some((
        o.metadata().uid.clone().unwrap_or_default(),
        o.to_value(),
        sim.store.resource_version(),
        now,
    ))
}

/// A server-side apply (`application/apply-patch+yaml`).
pub(super) fn is_apply(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.split(';').next().unwrap_or("").trim() == "application/apply-patch+yaml")
}

/// Runs a write on an existing object and, if it succeeded, gives its manager the fields it
/// changed.
pub(super) fn recorded(
    st: &Cluster,
    t: &Target<'_>,
    name: &str,
    write: impl FnOnce() -> Response,
) -> Response {
    let before = snapshot(st, t, name).map(|s| s.1);
    let r = write();
    if r.status().is_success() {
        record_update(st, t, name, before.as_ref());
    }
    r
}

/// After a write other than an apply: the fields it changed are now its manager's.
pub(super) fn record_update(st: &Cluster, t: &Target<'_>, name: &str, before: Option<&Value>) {
    if let Some((uid, after, rv, now)) = snapshot(st, t, name) {
        let mut m = st.managed();
        m.follow(rv);
        m.update(&uid, &t.manager, t.sub, before, &after, &now);
    }
}

/// The object's JSON with its `managedFields`, as a GET shows it (kubectl hides them unless
/// `--show-managed-fields`).
pub(super) fn with_managed_fields(st: &Cluster, o: &Object) -> Value {
    let mut v = o.to_value();
    if let Some(uid) = o.metadata().uid.as_deref()
        && let Some(mf) = st.managed().to_json(uid, o.api_version())
        && let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut)
    {
        meta.insert("managedFields".into(), mf);
    }
    v
}

/// A server-side apply's conflicts as the API server words them (`NewConflictError`).
pub(super) fn conflict_status(
    res: &Res,
    name: &str,
    conflicts: &[crate::managed::Conflict],
) -> Response {
    let path = |c: &crate::managed::Conflict| crate::managed::display(&c.path);
    let message = match conflicts {
        [one] => format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            one.manager,
            path(one)
        ),
        many => {
            let mut by_manager: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            for c in many {
                by_manager.entry(&c.manager).or_default().push(path(c));
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
    };
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|c| {
            json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with {}", c.manager),
                "field": path(c),
            })
        })
        .collect();
    let mut d = details(res, name);
    d["causes"] = Value::Array(causes);
    status(409, "Conflict", &message, d)
}

/// Decodes a request body's object, which must be of the URL's resource kind.
pub(super) fn decode_for(t: &Target<'_>, value: Value) -> Result<Object, Box<Response>> {
    let bad = |msg: &str| Box::new(status(400, "BadRequest", msg, json!({})));
    let obj = decode_value(value).map_err(|e| bad(&e.to_string()))?;
    if obj.kind() != t.res.kind.as_str() {
        return Err(bad(&format!(
            "the kind {} does not match the resource {}",
            obj.kind(),
            t.res.name
        )));
    }
    Ok(obj)
}

/// The kubectl word for a kind in the text commands the writes are recorded as.
pub(super) fn word(res: &Res) -> &'static str {
    res.singular
}

/// ` -n NS` for namespaced targets.
pub(super) fn ns_flag(t: &Target<'_>) -> String {
    t.ns.map(|n| format!(" -n {n}")).unwrap_or_default()
}

/// Runs `action` on the sandbox, labelled with the kubectl command that sent it, tells the
/// tabs, and returns kubectl's text output.
pub(super) fn act(st: &Cluster, action: Action) -> kubectl::Output {
    let typed = KUBECTL_COMMAND.try_with(Clone::clone).ok().flatten();
    st.act(action, typed)
}

/// A failed recorded action as a Status, from kubectl's `Error from server (Reason): msg`.
pub(super) fn failed(out: &kubectl::Output, res: &Res, name: &str) -> Response {
    let text = out.stderr.trim();
    let text = text.strip_prefix("error: ").unwrap_or(text);
    if let Some(rest) = text.strip_prefix("Error from server (")
        && let Some((reason, msg)) = rest.split_once("): ")
    {
        let code = match reason {
            "NotFound" => 404,
            "AlreadyExists" | "Conflict" => 409,
            "Invalid" => 422,
            "Forbidden" => 403,
            _ => 400,
        };
        return status(code, reason, msg, details(res, name));
    }
    status(400, "BadRequest", text, details(res, name))
}

pub(super) fn parse_body(body: &Bytes) -> Result<Value, serde_json::Error> {
    serde_json::from_slice(body)
}

/// 400 for a body that is not JSON (kubectl always sends JSON).
pub(super) fn bad_json(e: &serde_json::Error) -> Response {
    status(
        400,
        "BadRequest",
        &format!("the request body is not valid JSON: {e}"),
        json!({}),
    )
}

/// POST: create. Pre-checked here (exists, namespace, validation) so errors carry the Status
/// kubectl expects; then recorded as an apply of the posted manifest.
/// POST: creates the object, whose fields are then its creator's.
pub(super) fn create(st: &Cluster, t: &Target<'_>, body: &Bytes) -> Response {
    let (r, name) = create_object(st, t, body);
    if let Some(name) = name.filter(|_| r.status().is_success()) {
        record_update(st, t, &name, None);
    }
    r
}

/// Creates the object of a POST body; its name, once known.
pub(super) fn create_object(
    st: &Cluster,
    t: &Target<'_>,
    body: &Bytes,
) -> (Response, Option<String>) {
    let r = create_inner(st, t, body);
    let name = parse_body(body).ok().and_then(|v| {
        v.pointer("/metadata/name")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    (r, name)
}

pub(super) fn create_inner(st: &Cluster, t: &Target<'_>, body: &Bytes) -> Response {
    let mut value = match parse_body(body) {
        Ok(v) => v,
        Err(e) => return bad_json(&e),
    };
    if let (Some(ns), Some(meta)) = (
        t.ns,
        value.get_mut("metadata").and_then(Value::as_object_mut),
    ) {
        match meta.get("namespace").and_then(Value::as_str) {
            None | Some("") => {
                meta.insert("namespace".into(), Value::String(ns.into()));
            }
            Some(n) if n != ns => {
                return status(
                    400,
                    "BadRequest",
                    "the namespace of the provided object does not match the namespace sent on the request",
                    json!({}),
                );
            }
            Some(_) => {}
        }
    }
    let mut obj = match decode_for(t, value.clone()) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let name = obj.name().to_string();
    let ns = t.ns.unwrap_or("");
    {
        let sb = st.lock();
        if lookup(sb.sim(), t.res, ns, &name).is_some() {
            let e = ApiError::AlreadyExists {
                resource: qualified(t.res),
                name: name.clone(),
            };
            return api_error(&e, t.res, &name);
        }
        if !ns.is_empty() && sb.sim().get_object(Kind::Namespace, "", ns).is_none() {
            let e = ApiError::not_found("namespaces", ns);
            return api_error(&e, t.res, ns);
        }
    }
    set_defaults(&mut obj);
    if let Err(inv) = validate(&obj) {
        return invalid(&inv);
    }
    // Created as sent: kubectl's `create` sends no last-applied annotation, a client-side
    // `apply` of a new object sends its own.
    let out = act(st, Action::Create(to_yaml(&value)));
    if out.code != 0 {
        return failed(&out, t.res, &name);
    }
    match lookup(st.lock().sim(), t.res, ns, &name) {
        Some(o) => (StatusCode::CREATED, json_body(&o.to_value())).into_response(),
        None => failed(&out, t.res, &name),
    }
}

/// DELETE: recorded as `kubectl delete KIND NAME --wait=false` (the owned objects go as the
/// garbage collector removes them); answers a Success Status.
pub(super) fn delete(st: &Cluster, t: &Target<'_>, name: &str) -> Response {
    if lookup(st.lock().sim(), t.res, t.ns.unwrap_or(""), name).is_none() {
        return not_found(t.res, name);
    }
    let cmd = format!("delete {} {name}{} --wait=false", word(t.res), ns_flag(t));
    let out = act(st, Action::Kubectl(cmd));
    if out.code != 0 {
        return failed(&out, t.res, name);
    }
    json_ok(json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
        "details": details(t.res, name),
    }))
}

/// The `autoscaling/v1` Scale of a Deployment or ReplicaSet.
pub(super) fn scale_of(sim: &Sim, t: &Target<'_>, name: &str) -> Option<Value> {
    let v = lookup(sim, t.res, t.ns.unwrap_or(""), name)?.to_value();
    let selector = v
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let meta = &v["metadata"];
    Some(json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"],
            "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": v.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
        "status": {
            "replicas": v.pointer("/status/replicas").cloned().unwrap_or(json!(0)),
            "selector": selector,
        },
    }))
}

pub(super) fn scale_get(st: &Cluster, t: &Target<'_>, name: &str) -> Response {
    if !matches!(t.res.kind, Kind::Deployment | Kind::ReplicaSet) {
        return not_found_plain();
    }
    match scale_of(st.lock().sim(), t, name) {
        Some(s) => json_ok(s),
        None => not_found(t.res, name),
    }
}

/// PATCH (merge patch) or PUT (whole Scale, possibly without Content-Type) on `/scale`:
/// recorded as `kubectl scale`.
pub(super) fn scale_set(st: &Cluster, t: &Target<'_>, name: &str, body: &Bytes) -> Response {
    if !matches!(t.res.kind, Kind::Deployment | Kind::ReplicaSet) {
        return not_found_plain();
    }
    let v = match parse_body(body) {
        Ok(v) => v,
        Err(e) => return bad_json(&e),
    };
    let Some(replicas) = v.pointer("/spec/replicas").and_then(Value::as_i64) else {
        return status(
            422,
            "Invalid",
            "spec.replicas: Required value",
            details(t.res, name),
        );
    };
    if scale_of(st.lock().sim(), t, name).is_none() {
        return not_found(t.res, name);
    }
    let cmd = format!(
        "scale {}/{name} --replicas={replicas}{}",
        word(t.res),
        ns_flag(t)
    );
    let out = act(st, Action::Kubectl(cmd));
    if out.code != 0 {
        return failed(&out, t.res, name);
    }
    match scale_of(st.lock().sim(), t, name) {
        Some(s) => json_ok(s),
        None => not_found(t.res, name),
    }
}

/// PATCH. The patches kubectl's own commands send (client-side `apply`, `scale`, `set image`,
/// `rollout ...`) are recorded as those commands; any other patch is applied here to the live
/// object (strategic merge, JSON merge or JSON patch) and the result is recorded as a
/// `replace` of the whole object. `application/apply-patch+yaml` is server-side apply.
pub(super) fn patch(
    st: &Cluster,
    t: &Target<'_>,
    name: &str,
    q: &BTreeMap<String, String>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_string();
    let ctype = ctype.split(';').next().unwrap_or("").trim();
    if ctype == "application/apply-patch+yaml" {
        return server_side_apply(st, t, name, q, body);
    }
    let p = match parse_body(body) {
        Ok(v) => v,
        Err(e) => return bad_json(&e),
    };
    let ns = t.ns.unwrap_or("");
    let Some(live) = lookup(st.lock().sim(), t.res, ns, name) else {
        return not_found(t.res, name);
    };
    let target = format!("{}/{name}{}", word(t.res), ns_flag(t));
    let known = match ctype {
        "application/strategic-merge-patch+json" => strategic_action(t, &target, &p, true),
        "application/merge-patch+json" => strategic_action(t, &target, &p, false),
        "application/json-patch+json" => undo_action(st, t, &target, &live, &p),
        other => {
            return status(
                415,
                "UnsupportedMediaType",
                &format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (not {other:?})"
                ),
                details(t.res, name),
            );
        }
    };
    let Some(action) = known else {
        // Any other patch: merged here, recorded as the whole object it leaves.
        let mut merged = live.to_value();
        match ctype {
            "application/json-patch+json" => {
                if !p.is_array() {
                    return status(
                        400,
                        "BadRequest",
                        "json: cannot unmarshal object into Go value of type jsonpatch.Patch",
                        json!({}),
                    );
                }
                if let Err(e) = patches::json_patch(&mut merged, &p) {
                    // As the API server's patch handler answers: a generic 422 whose one
                    // cause is the patch library's error.
                    return status(
                        422,
                        "Invalid",
                        &e,
                        json!({"causes": [{"reason": "UnexpectedServerResponse", "message": e}]}),
                    );
                }
            }
            "application/merge-patch+json" => sim_core::apiserver::merge_patch(&mut merged, &p),
            _ => patches::strategic_merge(&mut merged, &p),
        }
        return replace_with(st, t, name, &live, merged);
    };
    if let Action::Apply(y) = &action {
        // Validate the new manifest first so an invalid apply answers 422 with its causes.
        if let Ok(mut o) = sim_core::api::decode::parse_manifests(y)
            .map_err(|_| ())
            .and_then(|m| m.into_iter().next().ok_or(()))
            .map(|m| m.object)
        {
            set_defaults(&mut o);
            if let Err(inv) = validate(&o) {
                return invalid(&inv);
            }
        }
    }
    let out = act(st, action);
    if out.code != 0 {
        return failed(&out, t.res, name);
    }
    match lookup(st.lock().sim(), t.res, ns, name) {
        Some(o) => json_ok(o.to_value()),
        None => not_found(t.res, name),
    }
}

/// PUT (`kubectl replace`): the whole object replaces the live one.
pub(super) fn put(st: &Cluster, t: &Target<'_>, name: &str, body: &Bytes) -> Response {
    let v = match parse_body(body) {
        Ok(v) => v,
        Err(e) => return bad_json(&e),
    };
    let Some(live) = lookup(st.lock().sim(), t.res, t.ns.unwrap_or(""), name) else {
        return not_found(t.res, name);
    };
    if let Some(rv) = v
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        && !rv.is_empty()
        && Some(rv) != live.metadata().resource_version.as_deref()
    {
        return status(
            409,
            "Conflict",
            &format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                qualified(t.res)
            ),
            details(t.res, name),
        );
    }
    replace_with(st, t, name, &live, v)
}

/// The new whole object `v` for the live `live`: checked (name, namespace, kind, validation
/// of the update) so errors are the API server's Statuses, then recorded as a `replace`
/// action of its spec, labels and annotations.
pub(super) fn replace_with(
    st: &Cluster,
    t: &Target<'_>,
    name: &str,
    live: &Object,
    mut v: Value,
) -> Response {
    if matches!(t.res.kind, Kind::Endpoints | Kind::Event) {
        return status(
            405,
            "MethodNotAllowed",
            &format!(
                "kubesim manages {} itself: they cannot be updated",
                t.res.name
            ),
            details(t.res, name),
        );
    }
    let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) else {
        return status(400, "BadRequest", "the object has no metadata", json!({}));
    };
    match meta.get("name").and_then(Value::as_str) {
        None | Some("") => {
            meta.insert("name".into(), name.into());
        }
        Some(n) if n != name => {
            return status(
                400,
                "BadRequest",
                &format!(
                    "the name of the object ({n}) does not match the name on the URL ({name})"
                ),
                json!({}),
            );
        }
        Some(_) => {}
    }
    if let Some(ns) = t.ns {
        match meta.get("namespace").and_then(Value::as_str) {
            None | Some("") => {
                meta.insert("namespace".into(), ns.into());
            }
            Some(n) if n != ns => {
                return status(
                    400,
                    "BadRequest",
                    "the namespace of the provided object does not match the namespace sent on the request",
                    json!({}),
                );
            }
            Some(_) => {}
        }
    }
    // What the API server keeps from the live object whatever the body says.
    for k in [
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "generation",
        "managedFields",
        "ownerReferences",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        meta.remove(k);
    }
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    let mut obj = match decode_for(t, v.clone()) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    set_defaults(&mut obj);
    // The stored object as the API server would hold it (kubesim's pods leave some defaults
    // implicit), so that only real changes count.
    let mut old = live.clone();
    set_defaults(&mut old);
    if let Err(inv) = validate_update(&old, &obj) {
        return invalid(&inv);
    }
    let out = act(st, Action::Replace(to_yaml(&v)));
    if out.code != 0 {
        return failed(&out, t.res, name);
    }
    match lookup(st.lock().sim(), t.res, t.ns.unwrap_or(""), name) {
        Some(o) => json_ok(o.to_value()),
        None => not_found(t.res, name),
    }
}

/// Server-side apply (`kubectl apply --server-side`): the applied configuration is merged
/// into the live object as a strategic merge patch (or creates it). Field managers are not
/// tracked, so there are no conflicts and fields a manager stops applying stay.
pub(super) fn server_side_apply(
    st: &Cluster,
    t: &Target<'_>,
    name: &str,
    q: &BTreeMap<String, String>,
    body: &Bytes,
) -> Response {
    if q.get("fieldManager").is_none_or(String::is_empty) {
        return status(
            400,
            "BadRequest",
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
            json!({}),
        );
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return status(400, "BadRequest", "the body is not UTF-8", json!({}));
    };
    let applied: Value = match serde_yaml::from_str(text) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => {
            return status(
                400,
                "BadRequest",
                "the applied configuration is not an object",
                json!({}),
            );
        }
        Err(e) => {
            return status(
                400,
                "BadRequest",
                &format!("error decoding YAML: {e}"),
                json!({}),
            );
        }
    };
    let force = is_on(q, "force");
    let live = lookup(st.lock().sim(), t.res, t.ns.unwrap_or(""), name);
    match live {
        Some(live) => {
            let Some((uid, live_v, rv, now)) = snapshot(st, t, name) else {
                return not_found(t.res, name);
            };
            let mut merged = live_v.clone();
            patches::strategic_merge(&mut merged, &applied);
            // Conflicts with other managers, and the fields this manager stopped applying.
            let planned = {
                let mut m = st.managed();
                m.follow(rv);
                m.apply(
                    &uid,
                    &t.manager,
                    live.api_version(),
                    &applied,
                    Some(&live_v),
                    &mut merged,
                    force,
                    &now,
                )
            };
            let entries = match planned {
                Ok(e) => e,
                Err(conflicts) => return conflict_status(t.res, name, &conflicts),
            };
            let r = replace_with(st, t, name, &live, merged);
            if r.status().is_success() {
                st.managed().commit(&uid, entries);
            }
            r
        }
        None => {
            let mut v = applied.clone();
            if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut)
                && meta.get("name").is_none()
            {
                meta.insert("name".into(), name.into());
            }
            let (r, _) = create_object(st, t, &Bytes::from(v.to_string()));
            if r.status().is_success()
                && let Some((uid, mut created, rv, now)) = snapshot(st, t, name)
            {
                let mut m = st.managed();
                m.follow(rv);
                let version = created["apiVersion"].as_str().unwrap_or("v1").to_string();
                if let Ok(entries) = m.apply(
                    &uid,
                    &t.manager,
                    &version,
                    &applied,
                    None,
                    &mut created,
                    force,
                    &now,
                ) {
                    m.commit(&uid, entries);
                }
            }
            r
        }
    }
}

/// A strategic merge (or merge) patch, as the action it stands for.
/// `None` when it is not one of the patches kubectl's own commands send. `strategic` tells a
/// strategic merge patch (containers merge by name) from a JSON merge patch.
pub(super) fn strategic_action(
    t: &Target<'_>,
    target: &str,
    p: &Value,
    strategic: bool,
) -> Option<Action> {
    // Client-side apply: the new manifest is the patch's last-applied annotation.
    if let Some(last) = p
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(LAST_APPLIED))
        .and_then(Value::as_str)
    {
        let mut manifest: Value = serde_json::from_str(last).ok()?;
        // Keep kubectl's own last-applied text with the manifest, so that the next apply of
        // the same file finds nothing to change.
        if let Some(meta) = manifest.get_mut("metadata").and_then(Value::as_object_mut) {
            let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
            if let Some(a) = annotations.as_object_mut() {
                a.insert(LAST_APPLIED.into(), Value::String(last.to_string()));
            }
        }
        return Some(Action::Apply(to_yaml(&manifest)));
    }
    if !matches!(t.res.kind, Kind::Deployment | Kind::ReplicaSet) {
        return None;
    }
    if let Some(n) = only_at(p, &["spec", "replicas"]).and_then(Value::as_i64) {
        return Some(Action::Kubectl(format!("scale {target} --replicas={n}")));
    }
    if t.res.kind != Kind::Deployment {
        return None;
    }
    if let Some(Value::Bool(paused)) = only_at(p, &["spec", "paused"]) {
        let verb = if *paused { "pause" } else { "resume" };
        return Some(Action::Kubectl(format!("rollout {verb} {target}")));
    }
    if only_at(
        p,
        &[
            "spec",
            "template",
            "metadata",
            "annotations",
            "kubectl.kubernetes.io/restartedAt",
        ],
    )
    .is_some()
    {
        return Some(Action::Kubectl(format!("rollout restart {target}")));
    }
    // `kubectl set image`: containers (merged by name, so only in a strategic merge patch)
    // with only name and image.
    let cs = only_at(p, &["spec", "template", "spec", "containers"])
        .and_then(Value::as_array)
        .filter(|_| strategic)?;
    let pairs: Vec<String> = cs
        .iter()
        .map(|c| {
            let o = c.as_object()?;
            if o.keys().any(|k| k != "name" && k != "image") {
                return None;
            }
            Some(format!(
                "{}={}",
                o.get("name")?.as_str()?,
                o.get("image")?.as_str()?
            ))
        })
        .collect::<Option<_>>()?;
    (!pairs.is_empty()).then(|| Action::Kubectl(format!("set image {target} {}", pairs.join(" "))))
}

/// The value at `path` when the patch holds nothing else (one key at every level).
pub(super) fn only_at<'v>(p: &'v Value, path: &[&str]) -> Option<&'v Value> {
    let mut v = p;
    for k in path {
        let m = v.as_object().filter(|m| m.len() == 1)?;
        v = m.get(*k)?;
    }
    Some(v)
}

/// `kubectl rollout undo`'s JSON patch: `replace /spec/template` with an old ReplicaSet's
/// template (and `/metadata/annotations`); recorded as `rollout undo --to-revision=R` for
/// that ReplicaSet's revision. `None` for any other JSON patch.
pub(super) fn undo_action(
    st: &Cluster,
    t: &Target<'_>,
    target: &str,
    live: &Object,
    p: &Value,
) -> Option<Action> {
    if t.res.kind != Kind::Deployment {
        return None;
    }
    let ops = p.as_array()?;
    if !ops.iter().all(|op| {
        op["op"] == "replace"
            && (op["path"] == "/spec/template" || op["path"] == "/metadata/annotations")
    }) {
        return None;
    }
    let template = ops
        .iter()
        .find(|op| op["path"] == "/spec/template")
        .map(|op| comparable_template(&op["value"]))?;
    let uid = live.metadata().uid.clone().unwrap_or_default();
    let sb = st.lock();
    let rss = kubectl::list(sb.sim(), Kind::ReplicaSet, t.ns, &Selector::everything());
    let revision = rss
        .iter()
        .filter(|rs| {
            rs.metadata()
                .owner_references
                .as_deref()
                .unwrap_or(&[])
                .iter()
                .any(|o| o.uid == uid)
        })
        .find_map(|rs| {
            let v = rs.to_value();
            (comparable_template(&v["spec"]["template"]) == template)
                .then(|| {
                    rs.metadata()
                        .annotations
                        .as_ref()?
                        .get("deployment.kubernetes.io/revision")
                        .cloned()
                })
                .flatten()
        })?;
    Some(Action::Kubectl(format!(
        "rollout undo {target} --to-revision={revision}"
    )))
}

/// A pod template without what differs between a ReplicaSet's copy and kubectl's rollback
/// body: the hash label, and the empty objects and nulls Go's encoder adds
/// (`resources: {}`, `creationTimestamp: null`).
pub(super) fn comparable_template(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(l) = v
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        l.remove("pod-template-hash");
    }
    prune(&mut v);
    v
}

/// Removes nulls and empty objects, recursively.
pub(super) fn prune(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for x in m.values_mut() {
                prune(x);
            }
            m.retain(|_, x| !x.is_null() && x.as_object().is_none_or(|o| !o.is_empty()));
        }
        Value::Array(a) => a.iter_mut().for_each(prune),
        _ => {}
    }
}
