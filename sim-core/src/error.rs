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
        }
    }

    /// A NotFound for `resource`/`name`.
    pub fn not_found(resource: &str, name: &str) -> ApiError {
        ApiError::NotFound {
            resource: resource.into(),
            name: name.into(),
        }
    }
}
