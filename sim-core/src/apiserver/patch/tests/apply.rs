//! What the API server answers to each kind of bad PATCH: the status code, the reason and the
//! message `handlers/patch.go` gives (and kubectl prints after `Error from server`).

use serde_json::{Value, json};

use super::super::{
    MAX_BODY_BYTES, MAX_DEPTH, MAX_JSON_PATCH_OPERATIONS, PatchError, PatchType, StrategicError,
    apply_patch,
};
use crate::store::Kind;

fn pod() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "finalizers": ["a"]},
        "spec": {"containers": [{"name": "web", "image": "nginx"}]}
    })
}

/// Applies `body` to a Pod and returns the Status the API server would answer with.
#[track_caller]
fn status(patch_type: PatchType, body: &str) -> (u16, &'static str, String) {
    match apply_patch(Kind::Pod, patch_type, &pod(), body.as_bytes()) {
        Ok(v) => panic!("{body} applied: {v}"),
        Err(e) => (e.code(), e.reason(), e.to_string()),
    }
}

fn bad_request(message: &str) -> (u16, &'static str, String) {
    (400, "BadRequest", message.to_owned())
}

#[test]
fn content_types() {
    use PatchType::*;
    for (header, want) in [
        ("application/json-patch+json", Some(Json)),
        ("application/merge-patch+json", Some(Merge)),
        ("application/strategic-merge-patch+json", Some(Strategic)),
        (
            "application/strategic-merge-patch+json; charset=utf-8",
            Some(Strategic),
        ),
        ("application/merge-patch+json;charset=UTF-8", Some(Merge)),
        ("application/apply-patch+yaml", Some(Apply)),
        ("application/json", None),
        ("Application/Merge-Patch+JSON", None),
        // Go trims nothing: a space before `;` is part of the type.
        ("application/merge-patch+json ; charset=utf-8", None),
        ("", None),
    ] {
        assert_eq!(PatchType::from_content_type(header), want, "{header:?}");
    }
    for t in [Json, Merge, Strategic, Apply] {
        assert_eq!(PatchType::from_content_type(t.content_type()), Some(t));
    }
}

#[test]
fn json_patch_bodies() {
    use PatchType::Json;
    assert_eq!(
        status(Json, r#"{"op": "add"}"#),
        bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    );
    assert_eq!(
        status(Json, "[1]"),
        bad_request("json: cannot unmarshal number into Go value of type jsonpatch.Operation")
    );
    assert_eq!(
        status(Json, r#"[{"op": "add", "path": "/x", "value": 1},]"#),
        bad_request("invalid character ']' looking for beginning of value")
    );
    assert_eq!(
        status(Json, ""),
        bad_request("unexpected end of JSON input")
    );
    // `null` is an empty patch.
    assert_eq!(apply_patch(Kind::Pod, Json, &pod(), b"null"), Ok(pod()));
}

/// A failed operation is a 422 whose Status message is generic; the library's message is
/// kept beside it.
#[test]
fn json_patch_operation_failures() {
    let fail = |body: &str| apply_patch(Kind::Pod, PatchType::Json, &pod(), body.as_bytes());
    let e = fail(r#"[{"op": "remove", "path": "/spec/nodeName"}]"#).unwrap_err();
    assert_eq!((e.code(), e.reason()), (422, "Invalid"));
    assert_eq!(
        e.to_string(),
        "the server rejected our request due to an error in our request"
    );
    assert_eq!(
        e,
        PatchError::OperationFailed {
            detail: "error in remove for path: '/spec/nodeName': Unable to remove nonexistent key: nodeName: missing value".to_owned()
        }
    );
    assert_eq!(
        fail(r#"[{"op": "test", "path": "/metadata/name", "value": "q"}]"#),
        Err(PatchError::OperationFailed {
            detail: "testing value /metadata/name failed: test failed".to_owned()
        })
    );
    assert_eq!(
        fail(r#"[{"op": "add", "path": "/metadata/annotations/a", "value": "1"}]"#),
        Err(PatchError::OperationFailed {
            detail: r#"add operation does not apply: doc is missing path: "/metadata/annotations/a": missing value"#.to_owned()
        })
    );
    // Replacing the whole object with a list leaves nothing the decoder takes for an object.
    let e = fail(r#"[{"op": "replace", "path": "", "value": [1]}]"#).unwrap_err();
    assert_eq!((e.code(), e.reason()), (422, "Invalid"));
    assert_eq!(
        e.to_string(),
        r#" "" is invalid: patch: Invalid value: "[1]": couldn't get version/kind; json parse error: json: cannot unmarshal array into Go value of type struct { APIVersion string "json:\"apiVersion,omitempty\""; Kind string "json:\"kind,omitempty\"" }"#
    );
}

#[test]
fn merge_patch_bodies() {
    use PatchType::Merge;
    for body in ["{", "null", "\"x\"", "1", "true", ""] {
        assert_eq!(
            status(Merge, body),
            bad_request("Invalid JSON Patch"),
            "{body}"
        );
    }
    // A list is a valid merge patch that replaces the object, which then does not decode.
    let (code, reason, _) = status(Merge, r#"[{"a": null}]"#);
    assert_eq!((code, reason), (422, "Invalid"));
}

#[test]
fn strategic_patch_bodies() {
    use PatchType::Strategic;
    assert_eq!(
        status(Strategic, "[]"),
        bad_request("json: cannot unmarshal array into Go value of type map[string]interface {}")
    );
    assert_eq!(
        status(Strategic, r#""spec""#),
        bad_request("json: cannot unmarshal string into Go value of type map[string]interface {}")
    );
    assert_eq!(
        status(Strategic, "{spec: {}}"),
        bad_request("invalid character 's' looking for beginning of object key string")
    );
    // `null` decodes to a nil map: nothing changes.
    assert_eq!(
        apply_patch(Kind::Pod, Strategic, &pod(), b"null"),
        Ok(pod())
    );
}

/// `interpretStrategicMergePatchError`: malformed directives are 400s, lists of lists 422,
/// the rest 500 with the error's own words and no reason.
#[test]
fn strategic_errors() {
    use PatchType::Strategic;
    assert_eq!(
        status(
            Strategic,
            r#"{"metadata": {"$retainKeys": "name", "name": "q"}}"#
        ),
        bad_request("invalid patch format of retainKeys")
    );
    assert_eq!(
        status(
            Strategic,
            r#"{"metadata": {"$retainKeys": ["name"], "labels": {"a": "b"}}}"#
        ),
        bad_request("invalid patch format of retainKeys")
    );
    assert_eq!(
        status(
            Strategic,
            r#"{"metadata": {"$deleteFromPrimitiveListfinalizers": ["a"]}}"#
        ),
        bad_request("invalid patch format of primitive list")
    );
    assert_eq!(
        status(Strategic, r#"{"spec": {"$setElementOrderx": [], "x": []}}"#),
        bad_request("invalid patch format of setElementOrder list")
    );
    let mut no_finalizers = pod();
    no_finalizers["metadata"]["finalizers"] = json!([]);
    let e = apply_patch(
        Kind::Pod,
        Strategic,
        &no_finalizers,
        br#"{"metadata": {"finalizers": [["a"]]}}"#,
    )
    .unwrap_err();
    assert_eq!(e, PatchError::Strategic(StrategicError::NoListOfLists));
    assert_eq!(
        (e.code(), e.reason(), e.to_string()),
        (
            422,
            "Invalid",
            "the server rejected our request due to an error in our request".to_owned()
        )
    );
    for (body, message) in [
        (
            r#"{"spec": {"containers": [{"image": "nginx:2"}]}}"#,
            "map: map[image:nginx:2] does not contain declared merge key: name",
        ),
        (
            r#"{"spec": {"containers": [{"name": "web", "$patch": "merge"}]}}"#,
            "merging lists cannot yet be specified in the patch",
        ),
        (
            r#"{"spec": {"containers": [{"name": "web", "$patch": "remove"}]}}"#,
            "unknown patch type: remove in map: map[$patch:remove name:web]",
        ),
        (
            r#"{"spec": {"$patch": "merge"}}"#,
            "unknown patch type: merge in map: map[$patch:merge]",
        ),
        (
            r#"{"metadata": {"finalizers": [1]}}"#,
            "list element types are not identical: [[a] [1]]",
        ),
        (
            r#"{"spec": {"$setElementOrder/containers": [{"name": "other"}], "containers": [{"name": "web", "image": "x"}]}}"#,
            "The order in patch list:\n[map[image:x name:web]]\n doesn't match $setElementOrder list:\n[map[name:other]]\n",
        ),
        (
            r#"{"spec": {"$setElementOrder/containers": "web"}}"#,
            "expected a []interface {}, but received a string",
        ),
    ] {
        assert_eq!(
            status(Strategic, body),
            (500, "", message.to_owned()),
            "{body}"
        );
    }
}

/// The work bounds: the body size, the operation count and the nesting depth.
#[test]
fn limits() {
    let big = format!(
        r#"{{"metadata": {{"annotations": {{"a": "{}"}}}}}}"#,
        "x".repeat(MAX_BODY_BYTES)
    );
    let e = apply_patch(Kind::Pod, PatchType::Merge, &pod(), big.as_bytes()).unwrap_err();
    assert_eq!(
        (e.code(), e.reason(), e.to_string()),
        (
            413,
            "RequestEntityTooLarge",
            "Request entity too large: limit is 3145728".to_owned()
        )
    );

    let ops =
        vec![json!({"op": "test", "path": "/kind", "value": "Pod"}); MAX_JSON_PATCH_OPERATIONS + 1];
    let body = serde_json::to_string(&ops).unwrap_or_default();
    let e = apply_patch(Kind::Pod, PatchType::Json, &pod(), body.as_bytes()).unwrap_err();
    assert_eq!(
        (e.code(), e.to_string()),
        (
            413,
            "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001"
                .to_owned()
        )
    );

    // Nesting: the body's, for every patch type, and what a JSON patch builds.
    let deep = |n: usize| format!("{}1{}", r#"{"a":"#.repeat(n), "}".repeat(n));
    for t in [PatchType::Strategic, PatchType::Merge] {
        assert!(apply_patch(Kind::Pod, t, &pod(), deep(MAX_DEPTH).as_bytes()).is_ok());
        let e = apply_patch(Kind::Pod, t, &pod(), deep(MAX_DEPTH + 1).as_bytes()).unwrap_err();
        assert_eq!(e.code(), 400, "{t:?}");
    }
    assert_eq!(
        status(PatchType::Strategic, &deep(100_000)),
        bad_request("invalid character '{' exceeded max depth")
    );
    // What a JSON patch builds: a value 97 deep fits the body, not at depth 4; a copy of a
    // 60-deep value into its own deepest member would be 122 deep.
    let nested = |n: usize| (0..n).fold(json!(1), |v, _| json!({"a": v}));
    let add = json!([{"op": "add", "path": "/spec/containers/0/x", "value": nested(97)}]);
    let copy = json!([
        {"op": "add", "path": "/spec/x", "value": nested(60)},
        {"op": "copy", "from": "/spec/x", "path": format!("/spec/x{}/b", "/a".repeat(59))}
    ]);
    for ops in [add, copy] {
        assert_eq!(
            apply_patch(
                Kind::Pod,
                PatchType::Json,
                &pod(),
                ops.to_string().as_bytes()
            ),
            Err(PatchError::TooDeep { limit: MAX_DEPTH })
        );
    }
    assert_eq!(
        PatchError::from(StrategicError::TooDeep { limit: MAX_DEPTH }).code(),
        400
    );
}
