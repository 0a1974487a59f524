//! Writes: every POST, PUT, PATCH and DELETE becomes one typed [`ApiCall`] that sim-core's
//! API server runs ([`sim_core::Sim::api`]) and the run records as it was sent, so the real
//! kubectl, the Python client and a replay go through one code path. Errors come back typed
//! and are rendered as the API server's `Status`; nothing here reads text to decide.
//!
//! Server-side apply (`application/apply-patch+yaml`) is one more patch type: sim-core merges
//! the applied configuration and keeps the field managers.

#[allow(unused_imports)]
use super::*;
use sim_core::api::resource;
use sim_core::apiserver::call::{ApiCall, FieldValidation, PropagationPolicy, Verb, WriteOptions};
use sim_core::apiserver::patch::PatchType;

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
    // The manager of an apply is named, never guessed from the User-Agent.
    if apply && q.get("fieldManager").is_none_or(String::is_empty) {
        options.field_manager = None;
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
    let body_type = if apply {
        "application/yaml"
    } else {
        ctype.as_str()
    };
    let body = match (verb, read_body(body, body_type)) {
        (Verb::Delete, Ok(v)) => match delete_options(&v, &mut options) {
            Ok(()) => Value::Null,
            Err(e) => return fail(e),
        },
        (_, Ok(Value::Null)) => {
            return fail(ApiError::BadRequest("the request body is empty".into()));
        }
        (_, Ok(v)) if apply && !v.is_object() => {
            return fail(ApiError::BadRequest(
                "the applied configuration is not an object".into(),
            ));
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
    let created = verb == Verb::Create
        || (apply
            && t.name
                .is_some_and(|n| lookup(st.lock().sim(), t.res, t.ns.unwrap_or(""), n).is_none()));
    match st.api(call, typed()) {
        Ok((mut v, warnings)) => {
            shift_times(&mut v, st.lock().wall_shift());
            let code = if created {
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
pub(super) fn with_warnings(mut r: Response, warnings: &[String]) -> Response {
    for w in warnings {
        let quoted = serde_json::Value::String(w.clone()).to_string();
        if let Ok(v) = header::HeaderValue::from_str(&format!("299 - {quoted}")) {
            r.headers_mut().append(header::WARNING, v);
        }
    }
    r
}

/// The kubectl command line that sent the request (the timeline's label).
pub(super) fn typed() -> Option<String> {
    KUBECTL_COMMAND.try_with(Clone::clone).ok().flatten()
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
    let force = apply && is_on(q, "force");
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
        force,
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

/// GET on `scale`.
pub(super) fn scale_get(st: &Cluster, t: &Target<'_>, name: &str) -> Response {
    let res = resource::of(t.res.kind);
    match st.lock().sim().api_scale(res, t.ns, name) {
        Ok(s) => json_ok(s),
        Err(e) => api_error(&e, t.res, name),
    }
}

/// The object's JSON with its `managedFields`, as a GET shows it (kubectl hides them unless
/// `--show-managed-fields`).
pub(super) fn with_managed_fields(sim: &sim_core::Sim, o: &Object) -> Value {
    let mut v = o.to_value();
    sim.with_managed_fields(&mut v);
    v
}
