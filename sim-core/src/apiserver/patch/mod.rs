//! The API server's patch engines: what kube-apiserver does with the body of a PATCH of each
//! content type, from reading the body to the patched object it then decodes
//! (`staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go`: `jsonPatcher`,
//! `smpPatcher`, `interpretStrategicMergePatchError`).
//!
//! - `application/json-patch+json`: RFC 6902 operations, applied as evanphx/json-patch v4
//!   applies them (`json_patch.rs`); at most 10,000 of them.
//! - `application/merge-patch+json`: RFC 7386 (`merge.rs`).
//! - `application/strategic-merge-patch+json`: Kubernetes' strategic merge patch
//!   ([`strategic_merge_patch`]), walking the kind's schema ([`SchemaMeta`]).
//!
//! [`create_two_way_merge_patch`] builds a strategic merge patch from two objects, as kubectl
//! does for `edit` and `set`.
//!
//! Server-side apply (`application/apply-patch+yaml`) is not here: it is field management,
//! not a patch. Decoding the result into the kind (and the 422 when that fails) is the
//! caller's, as are defaulting and validation.
//!
//! Every failure is a [`PatchError`] carrying the status code, reason and message the API
//! server would answer with. Work is bounded: bodies over 3 MiB, nesting over
//! [`MAX_DEPTH`] levels and JSON patches over 10,000 operations are refused before they are
//! walked.

mod aliasing;
mod body;
mod diff;
mod error;
mod gofmt;
mod json_patch;
mod merge;
mod meta;
mod strategic;
#[cfg(test)]
mod tests;

use serde_json::Value;

pub use diff::create_two_way_merge_patch;
pub use error::{PatchError, StrategicError};
pub use meta::{Meta, SchemaMeta};
pub use strategic::strategic_merge_patch;

use crate::store::Kind;
use gofmt::{go_quote, json_kind};

/// The largest body the API server reads (`MaxRequestBodyBytes`, 3 MiB by default).
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;
/// The most operations a JSON patch may have (`maxJSONPatchOperations`).
pub const MAX_JSON_PATCH_OPERATIONS: usize = 10_000;
/// The most bytes a JSON patch's `copy` operations may add (`JSONPatchMaxCopyBytes`).
pub const MAX_COPY_BYTES: usize = 3 * 1024 * 1024;
/// How deep a patch, and what it builds, may nest. Kubernetes objects nest about 20 levels;
/// the API server itself stops only at Go's 10,000, which would take our recursive walks
/// off the stack.
pub const MAX_DEPTH: usize = 100;

/// The three patch types, by content type (`json`, `merge`, `strategic` in a recorded call).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PatchType {
    /// `application/json-patch+json` (RFC 6902).
    Json,
    /// `application/merge-patch+json` (RFC 7386).
    Merge,
    /// `application/strategic-merge-patch+json`.
    Strategic,
    /// `application/apply-patch+yaml`: server-side apply (the body is the applied
    /// configuration, run by `Sim::api` with field management, never as a patch here).
    Apply,
}

impl PatchType {
    /// The patch type of a request's `Content-Type`, parameters after `;` ignored. Like the
    /// API server, it compares the media type exactly (no case folding or trimming).
    pub fn from_content_type(content_type: &str) -> Option<PatchType> {
        // Go cuts at a `;` only past the first byte (`idx > 0`).
        let media = match content_type.find(';') {
            Some(i) if i > 0 => &content_type[..i],
            _ => content_type,
        };
        Some(match media {
            "application/json-patch+json" => PatchType::Json,
            "application/merge-patch+json" => PatchType::Merge,
            "application/strategic-merge-patch+json" => PatchType::Strategic,
            "application/apply-patch+yaml" => PatchType::Apply,
            _ => return None,
        })
    }

    /// The content type (`application/merge-patch+json`).
    pub fn content_type(self) -> &'static str {
        match self {
            PatchType::Json => "application/json-patch+json",
            PatchType::Merge => "application/merge-patch+json",
            PatchType::Strategic => "application/strategic-merge-patch+json",
            PatchType::Apply => "application/apply-patch+yaml",
        }
    }
}

/// Applies the PATCH body `patch` of type `patch_type` to `original`, an object of `kind` as
/// the API returns it, and returns the patched object for the caller to decode.
pub fn apply_patch(
    kind: Kind,
    patch_type: PatchType,
    original: &Value,
    patch: &[u8],
) -> Result<Value, PatchError> {
    apply_patch_with(&SchemaMeta::of(kind), patch_type, original, patch)
}

/// [`apply_patch`] for an object whose type `meta` describes: a subresource such as
/// `autoscaling/v1 Scale` (`SchemaMeta::named("io.k8s.api.autoscaling.v1.Scale")`), or a
/// test schema.
pub fn apply_patch_with<M: Meta>(
    meta: &M,
    patch_type: PatchType,
    original: &Value,
    patch: &[u8],
) -> Result<Value, PatchError> {
    if patch.len() > MAX_BODY_BYTES {
        return Err(PatchError::BodyTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let patched = match patch_type {
        PatchType::Json => apply_json_patch(original, patch)?,
        PatchType::Merge => apply_merge_patch(original, patch)?,
        PatchType::Strategic => {
            let patch = match body::parse(patch, MAX_DEPTH) {
                Ok(p) => p,
                Err(body::SyntaxError(m)) => return Err(PatchError::BadRequest(m)),
            };
            if !(patch.is_object() || patch.is_null()) {
                return Err(PatchError::BadRequest(format!(
                    "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                    json_kind(&patch)
                )));
            }
            strategic_merge_patch(original, &patch, meta)?
        }
        PatchType::Apply => {
            return Err(PatchError::BadRequest(
                "an apply patch is not applied as a patch".into(),
            ));
        }
    };
    if !patched.is_object() {
        return Err(not_an_object(&patched));
    }
    Ok(patched)
}

/// `jsonPatcher.applyJSPatch` for `application/json-patch+json`.
fn apply_json_patch(original: &Value, patch: &[u8]) -> Result<Value, PatchError> {
    let ops = match body::parse(patch, MAX_DEPTH) {
        Ok(v) => v,
        Err(body::SyntaxError(m)) => return Err(PatchError::BadRequest(m)),
    };
    // `jsonpatch.DecodePatch`: a list of operation objects (`null` is an empty list, a `null`
    // item an empty operation).
    let ops = match ops {
        Value::Null => Vec::new(),
        Value::Array(ops) => ops,
        other => {
            return Err(PatchError::BadRequest(format!(
                "json: cannot unmarshal {} into Go value of type jsonpatch.Patch",
                json_kind(&other)
            )));
        }
    };
    if let Some(op) = ops.iter().find(|op| !(op.is_object() || op.is_null())) {
        return Err(PatchError::BadRequest(format!(
            "json: cannot unmarshal {} into Go value of type jsonpatch.Operation",
            json_kind(op)
        )));
    }
    if ops.len() > MAX_JSON_PATCH_OPERATIONS {
        return Err(PatchError::TooManyOperations {
            max: MAX_JSON_PATCH_OPERATIONS,
            got: ops.len(),
        });
    }
    let mut doc = original.clone();
    match json_patch::apply(&mut doc, &ops, MAX_COPY_BYTES, MAX_DEPTH) {
        Ok(()) => Ok(doc),
        Err(json_patch::Failure::Op(detail)) => Err(PatchError::OperationFailed { detail }),
        Err(json_patch::Failure::TooDeep) => Err(PatchError::TooDeep { limit: MAX_DEPTH }),
    }
}

/// `jsonpatch.MergePatch` for `application/merge-patch+json`: anything but an object or a
/// list is `Invalid JSON Patch`.
fn apply_merge_patch(original: &Value, patch: &[u8]) -> Result<Value, PatchError> {
    const BAD: &str = "Invalid JSON Patch";
    let patch =
        body::parse(patch, MAX_DEPTH).map_err(|_| PatchError::BadRequest(BAD.to_owned()))?;
    if !(patch.is_object() || patch.is_array()) {
        return Err(PatchError::BadRequest(BAD.to_owned()));
    }
    Ok(merge::merge_patch(original, patch))
}

/// What the API server says when the patched JSON does not decode into an object: the
/// decoder first reads `apiVersion` and `kind` into a struct.
fn not_an_object(patched: &Value) -> PatchError {
    PatchError::NotAnObject {
        value: go_quote(&serde_json::to_string(patched).unwrap_or_default()),
        detail: format!(
            "couldn't get version/kind; json parse error: json: cannot unmarshal {} into Go value of type struct {{ APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }}",
            json_kind(patched)
        ),
    }
}

/// How deep `v` nests (a scalar: 0; `{}`: 1), counted no further than `limit + 1`, so the
/// count itself never recurses deeper than that.
fn depth(v: &Value, limit: usize) -> usize {
    let children: Box<dyn Iterator<Item = &Value>> = match v {
        Value::Object(m) => Box::new(m.values()),
        Value::Array(a) => Box::new(a.iter()),
        _ => return 0,
    };
    if limit == 0 {
        return 1;
    }
    1 + children.map(|c| depth(c, limit - 1)).max().unwrap_or(0)
}
