//! API objects: decoding manifests, defaults, validation, selectors and quantities.
