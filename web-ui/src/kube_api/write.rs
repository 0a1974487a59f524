//! Writes: every POST, PUT, PATCH and DELETE becomes one typed [`ApiCall`] that sim-core's
//! API server runs ([`sim_core::Sim::api`]) and the run records as it was sent, so the real
//! kubectl, the Python client and a replay go through one code path. Errors come back typed
//! and are rendered as the API server's `Status`; nothing here reads text to decide.
//!
//! Server-side apply (`application/apply-patch+yaml`) computes its merge and the field
//! ownership here, then writes through the same call.

#[allow(unused_imports)]
use super::*;
use sim_core::api::resource::{self, Resource};
use sim_core::apiserver::call::{ApiCall, FieldValidation, PropagationPolicy, Verb, WriteOptions};
use sim_core::apiserver::patch::{PatchType, SchemaMeta, strategic_merge_patch};

/// The media types a create or update body may have (protobuf is read into JSON before).
const OBJECT_TYPES: &[&str] = &[
    "application/json",
    "application/yaml",
    crate::protobuf::CONTENT_TYPE,
];

/// One write request: its call, run and recorded, answered with the object or the Status.
pub(super) fn write(
    st: &Cluster,
    t: &Target<'_>,
    method: &Method,
    q: &BTreeMap<String, String>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let res = resource::of(t.res.kind);
    let name = t.name.unwrap_or("");
    let fail = |e: ApiError| api_error(&e, t.res, name);
    let ctype = content_type(headers);
    let apply = *method == Method::PATCH && ctype == "application/apply-patch+yaml";
    let mut options = match write_options(q, t, apply) {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    if apply {
        if t.sub.is_some() {
            return fail(ApiError::MethodNotAllowed(format!(
                "kubesim does not support server-side apply on {}/{}",
                res.plural,
                t.sub.unwrap_or("")
            )));
        }
        return server_side_apply(st, t, res, name, q, body, options);
    }
    let verb = match *method {
        Method::POST => Verb::Create,
        Method::PUT => Verb::Update,
        Method::PATCH => Verb::Patch,
        _ => Verb::Delete,
    };
    let patch_type = match verb {
        Verb::Patch => match PatchType::from_content_type(&ctype) {
            Some(p) => Some(p),
            None => {
                return fail(ApiError::UnsupportedMediaType(format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json{}",
                    if ctype.is_empty() {
                        String::new()
                    } else {
                        format!(" (not {ctype:?})")
                    }
                )));
            }
        },
        _ => None,
    };
    if matches!(verb, Verb::Create | Verb::Update)
        && !ctype.is_empty()
        && !OBJECT_TYPES.contains(&ctype.as_str())
    {
        return fail(ApiError::UnsupportedMediaType(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (not {ctype:?})"
        )));
    }
    let body = match (verb, read_body(body, &ctype)) {
        (Verb::Delete, Ok(v)) => match delete_options(&v, &mut options) {
            Ok(()) => Value::Null,
            Err(e) => return fail(e),
        },
        (_, Ok(Value::Null)) => {
            return fail(ApiError::BadRequest("the request body is empty".into()));
        }
        (_, Ok(v)) => v,
        (_, Err(e)) => return fail(e),
    };
    let call = ApiCall {
        verb,
        resource: res.plural.into(),
        group: res.group.into(),
        namespace: t.ns.map(str::to_string),
        name: t.name.map(str::to_string),
        subresource: t.sub.map(str::to_string),
        patch_type,
        body,
        options,
    };
    let dry = call.options.dry_run;
    let before = t.name.and_then(|n| snapshot(st, t, n));
    match st.api(call, typed()) {
        Ok((mut v, warnings)) => {
            if !dry {
                keep_field_owners(st, t, verb, &v, before);
            }
            shift_times(&mut v, st.lock().wall_shift());
            let code = if verb == Verb::Create {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            with_warnings((code, json_body(&v)).into_response(), &warnings)
        }
        Err(e) => fail(e),
    }
}

/// The API server's `Warning` headers (`299 - "unknown field \"spec.x\""`), which kubectl
/// prints as `Warning: unknown field "spec.x"`.
fn with_warnings(mut r: Response, warnings: &[String]) -> Response {
    for w in warnings {
        let quoted = serde_json::Value::String(w.clone()).to_string();
        if let Ok(v) = header::HeaderValue::from_str(&format!("299 - {quoted}")) {
            r.headers_mut().append(header::WARNING, v);
        }
    }
    r
}

/// The kubectl command line that sent the request (the timeline's label).
fn typed() -> Option<String> {
    KUBECTL_COMMAND.try_with(Clone::clone).ok().flatten()
}

/// After a write: the fields it changed are its manager's; a deleted object has none.
fn keep_field_owners(
    st: &Cluster,
    t: &Target<'_>,
    verb: Verb,
    result: &Value,
    before: Option<(String, Value, u64, String)>,
) {
    match verb {
        Verb::Delete => {
            if let Some((uid, ..)) = before {
                st.managed().forget(&uid);
            }
        }
        _ => {
            let name = t
                .name
                .or_else(|| result.pointer("/metadata/name").and_then(Value::as_str));
            if let Some(name) = name {
                record_update(st, t, name, before.as_ref().map(|b| &b.1));
            }
        }
    }
}

/// The request's Content-Type without parameters (`""` when absent).
fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// A body as JSON (`Null` when empty); YAML for `application/yaml`.
fn read_body(body: &Bytes, ctype: &str) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    if ctype == "application/yaml" {
        let text = std::str::from_utf8(body)
            .map_err(|_| ApiError::BadRequest("the request body is not UTF-8".into()))?;
        return serde_yaml::from_str(text)
            .map_err(|e| ApiError::BadRequest(format!("error decoding YAML: {e}")));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("the request body is not valid JSON: {e}")))
}

/// The options in a write's query, checked as the API server checks them.
fn write_options(
    q: &BTreeMap<String, String>,
    t: &Target<'_>,
    apply: bool,
) -> Result<WriteOptions, ApiError> {
    let dry_run = match q.get("dryRun").map(String::as_str) {
        None | Some("") => false,
        Some("All") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "dryRun: Unsupported value: [\"{other}\"]: supported values: \"All\""
            )));
        }
    };
    let field_validation =
        FieldValidation::parse(q.get("fieldValidation").map_or("", String::as_str))?;
    if t.manager.len() > 128 {
        return Err(ApiError::BadRequest(
            "fieldManager: Too long: may not be more than 128 bytes".into(),
        ));
    }
    if !apply && q.contains_key("force") {
        return Err(ApiError::BadRequest(
            "force: Forbidden: may not be specified for non-apply patch".into(),
        ));
    }
    let propagation_policy = match q.get("propagationPolicy") {
        None => None,
        Some(p) => Some(propagation(p)?),
    };
    let grace_period_seconds = match q.get("gracePeriodSeconds") {
        None => None,
        Some(g) => Some(g.parse().map_err(|_| {
            ApiError::BadRequest(format!("gracePeriodSeconds: invalid value {g:?}"))
        })?),
    };
    Ok(WriteOptions {
        dry_run,
        field_manager: Some(t.manager.clone()).filter(|m| !m.is_empty()),
        field_validation,
        propagation_policy,
        grace_period_seconds,
        ..WriteOptions::default()
    })
}

fn propagation(p: &str) -> Result<PropagationPolicy, ApiError> {
    match p {
        "Background" => Ok(PropagationPolicy::Background),
        "Foreground" => Ok(PropagationPolicy::Foreground),
        "Orphan" => Ok(PropagationPolicy::Orphan),
        other => Err(ApiError::BadRequest(format!(
            "propagationPolicy: Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\""
        ))),
    }
}

/// A DELETE's `DeleteOptions` body, merged into the query's options.
fn delete_options(v: &Value, o: &mut WriteOptions) -> Result<(), ApiError> {
    if v.is_null() {
        return Ok(());
    }
    let Some(m) = v.as_object() else {
        return Err(ApiError::BadRequest(
            "json: cannot unmarshal into Go value of type v1.DeleteOptions".into(),
        ));
    };
    if let Some(p) = m.get("propagationPolicy").and_then(Value::as_str) {
        o.propagation_policy = Some(propagation(p)?);
    }
    if let Some(g) = m.get("gracePeriodSeconds") {
        o.grace_period_seconds = Some(g.as_i64().ok_or_else(|| {
            ApiError::BadRequest(
                "json: cannot unmarshal into Go struct field DeleteOptions.gracePeriodSeconds of type int64".into(),
            )
        })?);
    }
    if let Some(d) = m.get("dryRun").and_then(Value::as_array) {
        for x in d {
            match x.as_str() {
                Some("All") => o.dry_run = true,
                other => {
                    return Err(ApiError::BadRequest(format!(
                        "dryRun: Unsupported value: [{}]: supported values: \"All\"",
                        other.unwrap_or("")
                    )));
                }
            }
        }
    }
    if let Some(p) = m.get("preconditions") {
        o.precondition_uid = p.get("uid").and_then(Value::as_str).map(str::to_string);
        o.precondition_resource_version = p
            .get("resourceVersion")
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    Ok(())
}

/// Server-side apply (`kubectl apply --server-side`): the applied configuration is merged
/// into the live object as a strategic merge patch (or creates it), conflicts with other
/// field managers are refused (409) unless `force`, and fields this manager stops applying
/// are removed; the result is written as an update (or create) call.
fn server_side_apply(
    st: &Cluster,
    t: &Target<'_>,
    res: &Resource,
    name: &str,
    q: &BTreeMap<String, String>,
    body: &Bytes,
    options: WriteOptions,
) -> Response {
    let fail = |e: ApiError| api_error(&e, t.res, name);
    if options.field_manager.is_none() || q.get("fieldManager").is_none_or(String::is_empty) {
        return fail(ApiError::BadRequest(
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch".into(),
        ));
    }
    let applied = match read_body(body, "application/yaml") {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => {
            return fail(ApiError::BadRequest(
                "the applied configuration is not an object".into(),
            ));
        }
        Err(e) => return fail(e),
    };
    let force = is_on(q, "force");
    let dry = options.dry_run;
    let call = |verb: Verb, body: Value| ApiCall {
        verb,
        resource: res.plural.into(),
        group: res.group.into(),
        namespace: t.ns.map(str::to_string),
        name: (verb != Verb::Create).then(|| name.to_string()),
        subresource: None,
        patch_type: None,
        body,
        options: options.clone(),
    };
    match snapshot(st, t, name) {
        Some((uid, live_v, rv, now)) => {
            let api_version = live_v["apiVersion"].as_str().unwrap_or("v1").to_string();
            let mut merged =
                match strategic_merge_patch(&live_v, &applied, &SchemaMeta::of(res.kind)) {
                    Ok(m) => m,
                    Err(e) => return fail(ApiError::Patch(e.into())),
                };
            // Conflicts with other managers, and the fields this manager stopped applying.
            let planned = {
                let mut m = st.managed();
                m.follow(rv);
                m.apply(
                    &uid,
                    &t.manager,
                    &api_version,
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
            match st.api(call(Verb::Update, merged), typed()) {
                Ok((mut v, warnings)) => {
                    if !dry {
                        st.managed().commit(&uid, entries);
                    }
                    shift_times(&mut v, st.lock().wall_shift());
                    with_warnings(json_ok(v), &warnings)
                }
                Err(e) => fail(e),
            }
        }
        None => {
            let mut v = applied.clone();
            if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut)
                && meta.get("name").is_none()
            {
                meta.insert("name".into(), name.into());
            }
            match st.api(call(Verb::Create, v), typed()) {
                Ok((mut created, _)) => {
                    shift_times(&mut created, st.lock().wall_shift());
                    if !dry && let Some((uid, mut created, rv, now)) = snapshot(st, t, name) {
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
                    (StatusCode::CREATED, json_body(&created)).into_response()
                }
                Err(e) => fail(e),
            }
        }
    }
}

/// GET on `scale`.
pub(super) fn scale_get(st: &Cluster, t: &Target<'_>, name: &str) -> Response {
    let res = resource::of(t.res.kind);
    match st.lock().sim().api_scale(res, t.ns, name) {
        Ok(s) => json_ok(s),
        Err(e) => api_error(&e, t.res, name),
    }
}

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
