//! Errors the simulated API server returns, shaped like its `Status` objects.

use crate::api::validation::{FieldError, Invalid};

/// Why an API request failed; `Display` is the Status message kubectl prints after
/// `Error from server (<reason>): `.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// The object (or its namespace) does not exist.
    #[error("{resource} {name:?} not found")]
    NotFound {
        /// `deployments.apps`, `namespaces`, ...
        resource: String,
        /// Object name.
        name: String,
    },
    /// Create of an existing name.
    #[error("{resource} {name:?} already exists")]
    AlreadyExists {
        /// Resource.
        resource: String,
        /// Name.
        name: String,
    },
    /// Field validation failed.
    #[error("{0}")]
    Invalid(#[from] Invalid),
    /// The request itself is malformed (decoding, unknown fields).
    #[error("{0}")]
    BadRequest(String),
    /// The request is understood but not allowed now.
    #[error("{0}")]
    Forbidden(String),
    /// A write that names a resourceVersion (or UID) the object no longer has, or a
    /// server-side apply that conflicts with another manager.
    #[error("{0}")]
    Conflict(String),
    /// A server-side apply that would change fields other managers own: 409 Conflict with one
    /// `FieldManagerConflict` cause per field.
    #[error("{}", .0.message())]
    ApplyConflict(crate::apiserver::managed::ApplyConflict),
    /// The verb is not served for this resource.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// A body in a format the API does not read for this request.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A body over the API server's limit.
    #[error("{0}")]
    RequestEntityTooLarge(String),
    /// A patch that could not be applied, with the code, reason and message the API server
    /// gives it.
    #[error(transparent)]
    Patch(#[from] crate::apiserver::patch::PatchError),
    /// The request's options failed validation: 422 Invalid, e.g.
    /// `ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: …`.
    #[error("{}", .0.message())]
    InvalidOptions(InvalidOptions),
    /// A read of a resourceVersion newer than the store's: 504 Timeout, with a cause
    /// `ResourceVersionTooLarge`, after which the client may retry.
    #[error("Timeout: Too large resource version: {requested}, current: {current}")]
    TooLargeResourceVersion {
        /// The resourceVersion asked for.
        requested: u64,
        /// The store's.
        current: u64,
        /// `details.retryAfterSeconds` (and the `Retry-After` header); 0 for none.
        retry_after_seconds: u32,
    },
    /// 410 Expired: a `continue` token or resourceVersion from history the store no longer
    /// has.
    #[error("{0}")]
    Expired(String),
    /// 429 TooManyRequests: an eviction a disruption budget forbids now, with its causes
    /// (type, message), e.g. `DisruptionBudget`; the client may retry.
    #[error("{message}")]
    TooManyRequests {
        /// The Status message.
        message: String,
        /// The causes: (`reason`, `message`).
        causes: Vec<(String, String)>,
    },
    /// An error the API server does not classify (a plain Go error reaching
    /// `ErrorToAPIStatus`): 500 with no reason and no details. A resourceVersion that is not a
    /// number, on a read the watch cache serves, is one.
    #[error("{0}")]
    Unclassified(String),
}

/// Options of a request that failed validation (`apierrors.NewInvalid` with no name).
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidOptions {
    /// `meta.k8s.io`.
    pub group: &'static str,
    /// `ListOptions`.
    pub kind: &'static str,
    /// Every field error, in the validator's order.
    pub causes: Vec<FieldError>,
}

impl InvalidOptions {
    /// The Status message: `ListOptions.meta.k8s.io "" is invalid: <causes>`, the causes as
    /// `utilerrors.Aggregate` prints them (one bare, several in brackets, repeats dropped).
    pub fn message(&self) -> String {
        let mut seen: Vec<String> = Vec::new();
        for c in &self.causes {
            let text = c.to_string();
            if !seen.contains(&text) {
                seen.push(text);
            }
        }
        let list = match seen.as_slice() {
            [] => String::new(),
            [one] => format!(": {one}"),
            many => format!(": [{}]", many.join(", ")),
        };
        format!("{}.{} \"\" is invalid{list}", self.kind, self.group)
    }
}

impl ApiError {
    /// The Status `reason` (`NotFound`, `AlreadyExists`, `Invalid`, `BadRequest`); `""` for an
    /// unclassified error, whose Status has none.
    pub fn reason(&self) -> &'static str {
        match self {
            ApiError::NotFound { .. } => "NotFound",
            ApiError::AlreadyExists { .. } => "AlreadyExists",
            ApiError::Invalid(_) => "Invalid",
            ApiError::BadRequest(_) => "BadRequest",
            ApiError::Forbidden(_) => "Forbidden",
            ApiError::Conflict(_) | ApiError::ApplyConflict(_) => "Conflict",
            ApiError::MethodNotAllowed(_) => "MethodNotAllowed",
            ApiError::UnsupportedMediaType(_) => "UnsupportedMediaType",
            ApiError::RequestEntityTooLarge(_) => "RequestEntityTooLarge",
            ApiError::Patch(e) => e.reason(),
            ApiError::InvalidOptions(_) => "Invalid",
            ApiError::TooLargeResourceVersion { .. } => "Timeout",
            ApiError::Expired(_) => "Expired",
            ApiError::TooManyRequests { .. } => "TooManyRequests",
            ApiError::Unclassified(_) => "",
        }
    }

    /// The HTTP status code.
    pub fn code(&self) -> u16 {
        match self {
            ApiError::NotFound { .. } => 404,
            ApiError::AlreadyExists { .. } => 409,
            ApiError::Invalid(_) => 422,
            ApiError::BadRequest(_) => 400,
            ApiError::Forbidden(_) => 403,
            ApiError::Conflict(_) | ApiError::ApplyConflict(_) => 409,
            ApiError::MethodNotAllowed(_) => 405,
            ApiError::UnsupportedMediaType(_) => 415,
            ApiError::RequestEntityTooLarge(_) => 413,
            ApiError::Patch(e) => e.code(),
            ApiError::InvalidOptions(_) => 422,
            ApiError::TooLargeResourceVersion { .. } => 504,
            ApiError::Expired(_) => 410,
            ApiError::TooManyRequests { .. } => 429,
            ApiError::Unclassified(_) => 500,
        }
    }

    /// The Conflict of a write whose resourceVersion precondition failed.
    pub fn modified(resource: &str, name: &str) -> ApiError {
        ApiError::Conflict(format!(
            "Operation cannot be fulfilled on {resource} {name:?}: the object has been modified; please apply your changes to the latest version and try again"
        ))
    }

    /// A NotFound for `resource`/`name`.
    pub fn not_found(resource: &str, name: &str) -> ApiError {
        ApiError::NotFound {
            resource: resource.into(),
            name: name.into(),
        }
    }
}
