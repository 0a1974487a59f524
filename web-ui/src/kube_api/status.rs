//! The API server's `Status` answers.

#[allow(unused_imports)]
use super::*;

pub(super) fn json_body(v: &Value) -> impl IntoResponse + use<> {
    ([(header::CONTENT_TYPE, "application/json")], v.to_string())
}

pub(super) fn json_ok(v: Value) -> Response {
    json_body(&v).into_response()
}

/// What a real API server answers for a URL it does not serve.
pub(super) fn not_found_plain() -> Response {
    status(
        404,
        "NotFound",
        "the server could not find the requested resource",
        json!({}),
    )
}

pub(super) fn details(res: &Res, name: &str) -> Value {
    json!({"name": name, "group": res.group, "kind": res.plural})
}

/// A `Status` object with `code` as the HTTP status too.
pub(super) fn status(code: u16, reason: &str, message: &str, details: Value) -> Response {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "details": details, "code": code,
    });
    (
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        json_body(&body),
    )
        .into_response()
}

/// The Status for an error of a request's options or of the storage behind a read, as the API
/// server builds each (`apierrors.NewBadRequest`, `NewInvalid`, `NewTimeoutError`,
/// `NewResourceExpired`, and `ErrorToAPIStatus` for an error it does not classify): details only
/// where the API server sends them, no `reason` for an unclassified 500.
pub(super) fn request_error(e: &ApiError) -> Response {
    let mut body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": e.to_string(), "code": e.code(),
    });
    if !e.reason().is_empty() {
        body["reason"] = json!(e.reason());
    }
    let mut retry_after = None;
    match e {
        ApiError::InvalidOptions(inv) => {
            let causes: Vec<Value> = inv
                .causes
                .iter()
                .map(|c| json!({"reason": c.error_type.cause_type(), "message": c.body(), "field": c.field}))
                .collect();
            body["details"] = json!({"group": inv.group, "kind": inv.kind, "causes": causes});
        }
        ApiError::TooLargeResourceVersion {
            retry_after_seconds,
            ..
        } => {
            let mut details = json!({"causes": [{
                "reason": "ResourceVersionTooLarge",
                "message": "Too large resource version",
            }]});
            if *retry_after_seconds > 0 {
                details["retryAfterSeconds"] = json!(retry_after_seconds);
                retry_after = Some(retry_after_seconds.to_string());
            }
            body["details"] = details;
        }
        ApiError::Invalid(inv) => return invalid(inv),
        _ => {}
    }
    let code = StatusCode::from_u16(e.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = (code, json_body(&body)).into_response();
    if let Some(secs) = retry_after
        && let Ok(v) = header::HeaderValue::from_str(&secs)
    {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

/// The Status of an error about one object of `res`: its details name the object, except
/// for the errors whose details are their own (options, resource versions) or that have none.
pub(super) fn api_error(e: &ApiError, res: &Res, name: &str) -> Response {
    match e {
        ApiError::Invalid(inv) => invalid(inv),
        ApiError::InvalidOptions(_) | ApiError::TooLargeResourceVersion { .. } => request_error(e),
        _ if e.reason().is_empty() => request_error(e),
        // `NewGenericServerResponse`: details that name no resource, so kubectl prints
        // `The request is invalid`.
        ApiError::Patch(_) => status(e.code(), e.reason(), &e.to_string(), json!({})),
        // `NewApplyConflict`: details with the causes only.
        // `NewTooManyRequests`: the causes only (an eviction's `DisruptionBudget`).
        ApiError::TooManyRequests { causes, .. } => {
            let causes: Vec<Value> = causes
                .iter()
                .map(|(reason, message)| json!({"reason": reason, "message": message}))
                .collect();
            status(
                e.code(),
                e.reason(),
                &e.to_string(),
                json!({"causes": causes}),
            )
        }
        ApiError::ApplyConflict(c) => status(
            e.code(),
            e.reason(),
            &e.to_string(),
            json!({"causes": c.causes()}),
        ),
        _ => status(e.code(), e.reason(), &e.to_string(), details(res, name)),
    }
}

/// 422 Invalid with one cause per field error (kubectl prints the causes, not the message).
pub(super) fn invalid(inv: &Invalid) -> Response {
    let causes: Vec<Value> = inv
        .causes
        .iter()
        .map(
            |c| json!({"reason": c.error_type.cause_type(), "message": c.body(), "field": c.field}),
        )
        .collect();
    status(
        422,
        "Invalid",
        &inv.status_message(),
        json!({"name": inv.name, "kind": inv.kind, "causes": causes}),
    )
}
