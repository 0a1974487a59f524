//! A write to the API as a value: what the real kubectl, the Python client or a script sent
//! (verb, resource, names, body and options), recorded in a run as an `api` step and replayed
//! through [`Sim::api`](crate::Sim::api).
//!
//! Recording the request itself, not a kubectl command line made from it, keeps the run
//! exact: a replay makes the same call on the same cluster at the same moment.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::patch::PatchType;
use crate::api::resource::{self, Resource};
use crate::controller::gc::Propagation;
use crate::error::ApiError;

/// A write's answer: the object it left (or would leave) and the warnings sent beside it, or
/// the API server's error.
pub type WriteResult = Result<(Value, Vec<String>), ApiError>;

/// The verbs that change the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Verb {
    /// POST on a collection.
    Create,
    /// PUT on an object (or its `scale`).
    Update,
    /// PATCH on an object (or its `scale`).
    Patch,
    /// DELETE on an object.
    Delete,
}

impl Verb {
    /// kubectl's past tense for it (`created`, `patched`).
    pub fn done(self) -> &'static str {
        match self {
            Verb::Create => "created",
            Verb::Update => "replaced",
            Verb::Patch => "patched",
            Verb::Delete => "deleted",
        }
    }
}

/// How strictly unknown and duplicate fields are treated (`?fieldValidation=`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldValidation {
    /// Refuse the request (kubectl's default).
    #[default]
    Strict,
    /// Accept it, warning about each field.
    Warn,
    /// Accept it and drop the fields.
    Ignore,
}

impl FieldValidation {
    /// The query value, or the API server's 400 for anything else.
    pub fn parse(s: &str) -> Result<FieldValidation, ApiError> {
        match s {
            "" | "Strict" => Ok(FieldValidation::Strict),
            "Warn" => Ok(FieldValidation::Warn),
            "Ignore" => Ok(FieldValidation::Ignore),
            other => Err(ApiError::BadRequest(format!(
                "fieldValidation parameter unsupported: {other}, must be one of [\"Ignore\" \"Warn\" \"Strict\"]"
            ))),
        }
    }
}

/// A write's options, as the query and the DeleteOptions body carry them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WriteOptions {
    /// `dryRun=All`: run defaulting, admission and validation, and write nothing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// `fieldManager`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_manager: Option<String>,
    /// `fieldValidation`.
    #[serde(default, skip_serializing_if = "is_strict")]
    pub field_validation: FieldValidation,
    /// `force`: a server-side apply takes the fields other managers own.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force: bool,
    /// A delete's `propagationPolicy` (`Background` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub propagation_policy: Option<PropagationPolicy>,
    /// A delete's `gracePeriodSeconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_period_seconds: Option<i64>,
    /// A delete's `preconditions.uid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precondition_uid: Option<String>,
    /// A delete's `preconditions.resourceVersion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precondition_resource_version: Option<String>,
}

fn is_strict(v: &FieldValidation) -> bool {
    *v == FieldValidation::Strict
}

/// A delete's `propagationPolicy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PropagationPolicy {
    /// Dependents go right after.
    Background,
    /// Dependents go first.
    Foreground,
    /// Dependents stay, without their ownerReference.
    Orphan,
}

impl From<PropagationPolicy> for Propagation {
    fn from(p: PropagationPolicy) -> Propagation {
        match p {
            PropagationPolicy::Background => Propagation::Background,
            PropagationPolicy::Foreground => Propagation::Foreground,
            PropagationPolicy::Orphan => Propagation::Orphan,
        }
    }
}

/// One write to the API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiCall {
    /// What to do.
    pub verb: Verb,
    /// The resource, as in URLs (`deployments`).
    pub resource: String,
    /// Its API group (`apps`; empty for core).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    /// The namespace of the URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The object's name (absent for a create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `scale` or `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
    /// A patch's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch_type: Option<PatchType>,
    /// The body: the object, the Scale, or the patch.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub body: Value,
    /// The request's options.
    #[serde(default, skip_serializing_if = "is_default")]
    pub options: WriteOptions,
}

fn is_default(o: &WriteOptions) -> bool {
    *o == WriteOptions::default()
}

impl ApiCall {
    /// The registry row of the call's resource, or the API server's 404.
    pub fn resource(&self) -> Result<&'static Resource, ApiError> {
        resource::by_plural(&self.group, &self.resource).ok_or_else(|| ApiError::NotFound {
            resource: String::new(),
            name: String::new(),
        })
    }

    /// How kubectl names the object it acts on (`deployment.apps/web`), for output.
    pub fn target(&self) -> String {
        let kind = match resource::by_plural(&self.group, &self.resource) {
            Some(r) if r.group.is_empty() => r.singular.to_string(),
            Some(r) => format!("{}.{}", r.singular, r.group),
            None => self.resource.clone(),
        };
        match &self.name {
            Some(n) => format!("{kind}/{n}"),
            None => kind,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_call_reads_back_as_it_was_written() {
        let call = ApiCall {
            verb: Verb::Patch,
            resource: "deployments".into(),
            group: "apps".into(),
            namespace: Some("live-coding".into()),
            name: Some("web".into()),
            subresource: None,
            patch_type: Some(PatchType::Strategic),
            body: json!({"spec": {"replicas": 3}}),
            options: WriteOptions {
                field_manager: Some("kubectl-edit".into()),
                ..WriteOptions::default()
            },
        };
        let yaml = serde_yaml::to_string(&call).unwrap();
        assert!(yaml.contains("patchType: strategic"), "{yaml}");
        assert!(!yaml.contains("dryRun"), "{yaml}");
        let back: ApiCall = serde_yaml::from_str(&yaml).unwrap();
        assert_eq!(back, call);
        assert_eq!(call.target(), "deployment.apps/web");
        let bad = serde_yaml::from_str::<ApiCall>("verb: frob\nresource: pods\n");
        assert!(bad.is_err());
        assert!(FieldValidation::parse("Sloppy").is_err());
    }
}
