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
    json!({"name": name, "group": res.group, "kind": res.name})
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

pub(super) fn api_error(e: &ApiError, res: &Res, name: &str) -> Response {
    if let ApiError::Invalid(inv) = e {
        return invalid(inv);
    }
    status(e.code(), e.reason(), &e.to_string(), details(res, name))
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
