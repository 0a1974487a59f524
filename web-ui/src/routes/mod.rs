//! The HTTP handlers, grouped by page.

pub(crate) mod scenario;
