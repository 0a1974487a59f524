//! Errors the simulated API server returns, shaped like its `Status` objects.

use crate::api::validation::Invalid;

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
}

impl ApiError {
    /// The Status `reason` (`NotFound`, `AlreadyExists`, `Invalid`, `BadRequest`).
    pub fn reason(&self) -> &'static str {
        match self {
            ApiError::NotFound { .. } => "NotFound",
            ApiError::AlreadyExists { .. } => "AlreadyExists",
            ApiError::Invalid(_) => "Invalid",
            ApiError::BadRequest(_) => "BadRequest",
            ApiError::Forbidden(_) => "Forbidden",
            ApiError::Conflict(_) => "Conflict",
            ApiError::MethodNotAllowed(_) => "MethodNotAllowed",
            ApiError::UnsupportedMediaType(_) => "UnsupportedMediaType",
            ApiError::RequestEntityTooLarge(_) => "RequestEntityTooLarge",
            ApiError::Patch(e) => e.reason(),
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
            ApiError::Conflict(_) => 409,
            ApiError::MethodNotAllowed(_) => 405,
            ApiError::UnsupportedMediaType(_) => 415,
            ApiError::RequestEntityTooLarge(_) => 413,
            ApiError::Patch(e) => e.code(),
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
