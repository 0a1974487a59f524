//! Validation (interim).

use super::Object;

/// A field error.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    /// Path.
    pub field: String,
    /// Text.
    pub detail: String,
}

/// An invalid object.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("The {kind} {name:?} is invalid: {}", causes.iter().map(|c| format!("{}: {}", c.field, c.detail)).collect::<Vec<_>>().join(", "))]
pub struct Invalid {
    /// Kind.
    pub kind: &'static str,
    /// Name.
    pub name: String,
    /// Causes.
    pub causes: Vec<FieldError>,
}

/// Create validation.
pub fn validate(_obj: &Object) -> Result<(), Invalid> {
    Ok(())
}

/// Update validation.
pub fn validate_update(_old: &Object, new: &Object) -> Result<(), Invalid> {
    validate(new)
}
