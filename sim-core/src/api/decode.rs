//! Manifests: YAML documents to typed objects (interim).

use super::Object;

/// One document of a manifest file.
#[derive(Clone, Debug)]
pub struct Manifest {
    /// The decoded object.
    pub object: Object,
    /// 1-based line where the document starts.
    pub line: usize,
}

/// Why a manifest could not be decoded.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[error("{message}")]
pub struct DecodeError {
    /// Line, where known.
    pub line: Option<usize>,
    /// What kubectl prints.
    pub message: String,
}

/// Decodes every document of a (multi-document) YAML text.
pub fn parse_manifests(yaml: &str) -> Result<Vec<Manifest>, DecodeError> {
    use serde::Deserialize;
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(yaml) {
        let value = serde_json::Value::deserialize(doc).map_err(|e| DecodeError {
            line: e.location().map(|l| l.line()),
            message: e.to_string(),
        })?;
        if value.is_null() {
            continue;
        }
        out.push(Manifest {
            object: decode_value(value)?,
            line: 1,
        });
    }
    Ok(out)
}

/// Decodes one object.
pub fn decode_value(value: serde_json::Value) -> Result<Object, DecodeError> {
    let kind = value
        .get("kind")
        .and_then(|k| k.as_str())
        .unwrap_or("")
        .to_string();
    let err = |e: serde_json::Error| DecodeError {
        line: None,
        message: e.to_string(),
    };
    Ok(match kind.as_str() {
        "Namespace" => Object::Namespace(serde_json::from_value(value).map_err(err)?),
        "Node" => Object::Node(serde_json::from_value(value).map_err(err)?),
        "Pod" => Object::Pod(serde_json::from_value(value).map_err(err)?),
        "ReplicaSet" => Object::ReplicaSet(serde_json::from_value(value).map_err(err)?),
        "Deployment" => Object::Deployment(serde_json::from_value(value).map_err(err)?),
        "Service" => Object::Service(serde_json::from_value(value).map_err(err)?),
        "Endpoints" => Object::Endpoints(serde_json::from_value(value).map_err(err)?),
        other => {
            return Err(DecodeError {
                line: None,
                message: format!("no matches for kind {other:?}"),
            });
        }
    })
}
