//! The OpenAPI v3 documents kubectl reads (`apply` validation, `explain`).

#[allow(unused_imports)]
use super::*;

pub(super) async fn openapi_index() -> Response {
    json_ok(json!({"paths": {
        "api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=kubesim1"},
        "apis/apps/v1": {"serverRelativeURL": "/openapi/v3/apis/apps/v1?hash=kubesim1"},
    }}))
}

/// One group-version document: a PATCH operation per kind carrying the `fieldValidation`
/// parameter and no `requestBody`, so kubectl validates on the server and patches with its
/// compiled-in types.
pub(super) async fn openapi_group(uri: Uri) -> Response {
    let group = match uri.path() {
        "/openapi/v3/api/v1" => "",
        "/openapi/v3/apis/apps/v1" => "apps",
        _ => return not_found_plain(),
    };
    let mut paths = serde_json::Map::new();
    for r in RESOURCES.iter().filter(|r| r.group == group) {
        let prefix = if group.is_empty() {
            "/api/v1".to_string()
        } else {
            format!("/apis/{group}/v1")
        };
        let path = if r.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", r.name)
        } else {
            format!("{prefix}/{}/{{name}}", r.name)
        };
        paths.insert(
            path,
            json!({"patch": {
                "x-kubernetes-group-version-kind": {"group": group, "version": "v1", "kind": r.kind.as_str()},
                "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}],
            }}),
        );
    }
    json_ok(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (kubesim stub)", "version": "v1.37.0"},
        "paths": paths,
    }))
}
