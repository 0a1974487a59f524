//! ConfigMap and Secret: `ValidateConfigMap`, `ValidateSecret` and their update rules
//! (`immutable`, a Secret's `type`).

use k8s_openapi::api::core::v1::{ConfigMap, Secret};

use crate::api::validation::Errs;
use crate::api::validation::go_fmt::go_quote;
use crate::api::validation::meta::{IMMUTABLE, NameRule, validate_object_meta};
use crate::api::validation::names::is_config_map_key;

/// `core.MaxSecretSize`: 1 MiB of values in one ConfigMap or Secret.
pub(super) const MAX_SECRET_SIZE: usize = 1024 * 1024;

/// The Forbidden detail of a change to an immutable ConfigMap or Secret.
const IMMUTABLE_SET: &str = "field is immutable when `immutable` is set";

/// The bad value the API server shows for a Secret's contents.
const REDACTED: &str = "<secret contents redacted>";

/// `ValidateConfigMap`: name, keys (`IsConfigMapKey`), no key in both `data` and
/// `binaryData`, at most [`MAX_SECRET_SIZE`] bytes of values. Go walks the maps in random
/// order; the keys here come sorted.
pub(in crate::api::validation) fn validate_config_map(cm: &ConfigMap, e: &mut Errs) {
    validate_object_meta(&cm.metadata, true, NameRule::Subdomain, e);
    let mut total = 0;
    let binary = cm.binary_data.as_ref();
    for (key, value) in cm.data.iter().flatten() {
        for m in is_config_map_key(key) {
            e.invalid_str(&format!("data[{key}]"), key, &m);
        }
        if binary.is_some_and(|b| b.contains_key(key)) {
            e.invalid_str(
                &format!("data[{key}]"),
                key,
                "duplicate of key present in binaryData",
            );
        }
        total += value.len();
    }
    for (key, value) in binary.into_iter().flatten() {
        for m in is_config_map_key(key) {
            e.invalid_str(&format!("binaryData[{key}]"), key, &m);
        }
        total += value.0.len();
    }
    if total > MAX_SECRET_SIZE {
        // The empty path: the error is about the whole object.
        e.too_long("", MAX_SECRET_SIZE);
    }
}

/// `ValidateConfigMapUpdate`: an immutable ConfigMap keeps `immutable`, `data` and
/// `binaryData`; then the create rules (metadata was checked by the caller).
pub(in crate::api::validation) fn validate_config_map_update(
    new: &ConfigMap,
    old: &ConfigMap,
    e: &mut Errs,
) {
    if old.immutable == Some(true) {
        if new.immutable != Some(true) {
            e.forbidden("immutable", IMMUTABLE_SET);
        }
        if non_empty(&new.data) != non_empty(&old.data) {
            e.forbidden("data", IMMUTABLE_SET);
        }
        if non_empty(&new.binary_data) != non_empty(&old.binary_data) {
            e.forbidden("binaryData", IMMUTABLE_SET);
        }
    }
    without_metadata(e, |e| validate_config_map(new, e));
}

/// `ValidateSecret`: name, keys, size, and the keys each built-in `type` requires.
pub(in crate::api::validation) fn validate_secret(secret: &Secret, e: &mut Errs) {
    validate_object_meta(&secret.metadata, true, NameRule::Subdomain, e);
    let data = secret.data.clone().unwrap_or_default();
    let mut total = 0;
    for (key, value) in &data {
        for m in is_config_map_key(key) {
            e.invalid_str(&format!("data[{key}]"), key, &m);
        }
        total += value.0.len();
    }
    if total > MAX_SECRET_SIZE {
        e.too_long("data", MAX_SECRET_SIZE);
    }
    let json_key = |e: &mut Errs, key: &str| match data.get(key) {
        None => e.required(&format!("data[{key}]"), ""),
        Some(v) => {
            if let Some(msg) = go_unmarshal_map_error(&v.0) {
                e.invalid(&format!("data[{key}]"), go_quote(REDACTED), &msg);
            }
        }
    };
    match secret.type_.as_deref().unwrap_or("") {
        "kubernetes.io/service-account-token" => {
            let name = secret
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("kubernetes.io/service-account.name"))
                .map_or("", String::as_str);
            if name.is_empty() {
                e.required(
                    "metadata.annotations[kubernetes.io/service-account.name]",
                    "",
                );
            }
        }
        "kubernetes.io/dockercfg" => json_key(e, ".dockercfg"),
        "kubernetes.io/dockerconfigjson" => json_key(e, ".dockerconfigjson"),
        // Either key may be empty, but one must be there.
        "kubernetes.io/basic-auth"
            if !data.contains_key("username") && !data.contains_key("password") =>
        {
            e.required("data[username]", "");
            e.required("data[password]", "");
        }
        "kubernetes.io/ssh-auth" if data.get("ssh-privatekey").is_none_or(|v| v.0.is_empty()) => {
            e.required("data[ssh-privatekey]", "");
        }
        "kubernetes.io/tls" => {
            for key in ["tls.crt", "tls.key"] {
                if !data.contains_key(key) {
                    e.required(&format!("data[{key}]"), "");
                }
            }
        }
        // Opaque, "" and any other type: no rules.
        _ => {}
    }
}

/// `ValidateSecretUpdate`: `type` never changes; an immutable Secret keeps `immutable` and
/// `data` (`stringData` was merged into `data` before); then the create rules.
pub(in crate::api::validation) fn validate_secret_update(new: &Secret, old: &Secret, e: &mut Errs) {
    let (new_type, old_type) = (
        new.type_.as_deref().unwrap_or(""),
        old.type_.as_deref().unwrap_or(""),
    );
    if new_type != old_type {
        e.invalid_str("type", new_type, IMMUTABLE);
    }
    if old.immutable == Some(true) {
        if new.immutable != Some(true) {
            e.forbidden("immutable", IMMUTABLE_SET);
        }
        if non_empty(&new.data) != non_empty(&old.data) {
            e.forbidden("data", IMMUTABLE_SET);
        }
    }
    without_metadata(e, |e| validate_secret(new, e));
}

/// Go's `reflect.DeepEqual` of two maps treats an absent map as unequal to an empty one, but
/// the API server stores both as absent (`omitempty`): compare what would be stored.
fn non_empty<T>(
    m: &Option<std::collections::BTreeMap<String, T>>,
) -> Option<&std::collections::BTreeMap<String, T>> {
    m.as_ref().filter(|m| !m.is_empty())
}

/// Runs create rules whose `metadata.` errors the update's own metadata rules already gave.
fn without_metadata(e: &mut Errs, f: impl FnOnce(&mut Errs)) {
    let mut create = Errs::default();
    f(&mut create);
    e.0.extend(
        create
            .0
            .into_iter()
            .filter(|c| !c.field.starts_with("metadata.")),
    );
}

/// The error Go's `json.Unmarshal` gives for `bytes` into a `map[string]interface{}`, if any.
/// Syntax errors are named by their first bad character as Go's scanner names most of them.
fn go_unmarshal_map_error(bytes: &[u8]) -> Option<String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Some("unexpected end of JSON input".to_owned());
    }
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(serde_json::Value::Object(_) | serde_json::Value::Null) => None,
        Ok(v) => {
            let what = match v {
                serde_json::Value::Array(_) => "array",
                serde_json::Value::String(_) => "string",
                serde_json::Value::Number(_) => "number",
                _ => "bool",
            };
            Some(format!(
                "json: cannot unmarshal {what} into Go value of type map[string]interface {{}}"
            ))
        }
        Err(err) if err.is_eof() => Some("unexpected end of JSON input".to_owned()),
        Err(err) => {
            let line = bytes
                .split(|b| *b == b'\n')
                .nth(err.line().saturating_sub(1))
                .unwrap_or(&[]);
            let c = line
                .get(err.column().saturating_sub(1))
                .copied()
                .unwrap_or(b'?');
            Some(format!(
                "invalid character '{}' looking for beginning of value",
                char::from(c)
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::api::Object;
    use crate::api::decode::decode_value;
    use crate::api::defaults::set_defaults;
    use crate::api::validation::{validate, validate_update};

    fn obj(v: serde_json::Value) -> Object {
        let mut o = decode_value(v).expect("test object decodes");
        if o.namespace().is_none() {
            o.metadata_mut().namespace = Some("default".into());
        }
        set_defaults(&mut o);
        o
    }

    fn errors(o: &Object) -> Vec<String> {
        validate(o)
            .err()
            .map(|i| i.causes.iter().map(ToString::to_string).collect())
            .unwrap_or_default()
    }

    fn cm(data: serde_json::Value) -> Object {
        obj(serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cfg"}, "data": data}))
    }

    #[test]
    fn config_map_keys_follow_is_config_map_key() {
        // ValidateConfigMap's table: valid keys, then each kind of bad key.
        for ok in ["key", "KEY_NAME", "a.b-c_d", ".dot", "a..b"] {
            assert_eq!(
                errors(&cm(serde_json::json!({ok: "v"}))),
                Vec::<String>::new(),
                "{ok}"
            );
        }
        assert_eq!(
            errors(&cm(serde_json::json!({"a b": "v"}))),
            vec![
                "data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
            ]
        );
        let dots = errors(&cm(serde_json::json!({"..": "v", "..x": "v"})));
        assert_eq!(
            dots,
            vec![
                "data[..]: Invalid value: \"..\": must not be '..'",
                "data[..x]: Invalid value: \"..x\": must not start with '..'",
            ]
        );
        let long = "a".repeat(254);
        assert_eq!(
            errors(&cm(serde_json::json!({long.clone(): "v"}))),
            vec![format!(
                "data[{long}]: Invalid value: \"{long}\": must be no more than 253 characters"
            )]
        );
    }

    #[test]
    fn config_map_size_and_duplicate_keys() {
        let big = "x".repeat(super::MAX_SECRET_SIZE);
        assert!(errors(&cm(serde_json::json!({"a": big}))).is_empty());
        let over = "x".repeat(super::MAX_SECRET_SIZE + 1);
        assert_eq!(
            errors(&cm(serde_json::json!({"a": over}))),
            vec![": Too long: may not be more than 1048576 bytes"]
        );
        let both = obj(serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cfg"}, "data": {"k": "v"}, "binaryData": {"k": "AA=="}}));
        assert_eq!(
            errors(&both),
            vec!["data[k]: Invalid value: \"k\": duplicate of key present in binaryData"]
        );
    }

    #[test]
    fn an_immutable_config_map_refuses_a_change_of_its_data() {
        let old = obj(serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cfg"}, "immutable": true, "data": {"k": "v"}}));
        let same = old.clone();
        assert!(validate_update(&old, &same).is_ok());
        let changed = obj(serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cfg"}, "immutable": true, "data": {"k": "w"}}));
        let err = validate_update(&old, &changed).expect_err("immutable");
        assert_eq!(
            err.status_message(),
            "ConfigMap \"cfg\" is invalid: data: Forbidden: field is immutable when `immutable` is set"
        );
        let unset = obj(serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cfg"}, "data": {"k": "v"}}));
        let err = validate_update(&old, &unset).expect_err("immutable");
        assert_eq!(
            err.to_string(),
            "The ConfigMap \"cfg\" is invalid: immutable: Forbidden: field is immutable when `immutable` is set"
        );
        // A mutable one may change, and may become immutable.
        assert!(validate_update(&unset, &changed).is_ok());
    }

    fn secret(ty: &str, data: serde_json::Value) -> Object {
        obj(serde_json::json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s"}, "type": ty, "data": data}))
    }

    #[test]
    fn string_data_is_merged_into_data_and_type_defaults_to_opaque() {
        let s = obj(serde_json::json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s"}, "data": {"a": "b2xk", "b": "Yg=="},
            "stringData": {"a": "new"}}));
        let v = s.to_value();
        assert_eq!(v["data"], serde_json::json!({"a": "bmV3", "b": "Yg=="}));
        assert_eq!(v["type"], "Opaque");
        assert!(v.get("stringData").is_none());
    }

    #[test]
    fn secret_types_require_their_keys() {
        assert!(errors(&secret("Opaque", serde_json::json!({}))).is_empty());
        assert!(errors(&secret("example.com/custom", serde_json::json!({}))).is_empty());
        assert_eq!(
            errors(&secret(
                "kubernetes.io/tls",
                serde_json::json!({"tls.crt": "YQ=="})
            )),
            vec!["data[tls.key]: Required value"]
        );
        assert_eq!(
            errors(&secret(
                "kubernetes.io/dockerconfigjson",
                serde_json::json!({})
            )),
            vec!["data[.dockerconfigjson]: Required value"]
        );
        // "{" base64: eyI= is `{"`.
        assert_eq!(
            errors(&secret(
                "kubernetes.io/dockerconfigjson",
                serde_json::json!({".dockerconfigjson": "eyI="})
            )),
            vec![
                "data[.dockerconfigjson]: Invalid value: \"<secret contents redacted>\": unexpected end of JSON input"
            ]
        );
        assert!(
            errors(&secret(
                "kubernetes.io/dockerconfigjson",
                serde_json::json!({".dockerconfigjson": "eyJhdXRocyI6e319"})
            ))
            .is_empty()
        );
        assert_eq!(
            errors(&secret("kubernetes.io/basic-auth", serde_json::json!({}))),
            vec![
                "data[username]: Required value",
                "data[password]: Required value"
            ]
        );
        assert_eq!(
            errors(&secret("kubernetes.io/ssh-auth", serde_json::json!({}))),
            vec!["data[ssh-privatekey]: Required value"]
        );
        assert_eq!(
            errors(&secret(
                "kubernetes.io/service-account-token",
                serde_json::json!({})
            )),
            vec!["metadata.annotations[kubernetes.io/service-account.name]: Required value"]
        );
    }

    #[test]
    fn a_secret_keeps_its_type_and_an_immutable_one_its_data() {
        let old = secret("Opaque", serde_json::json!({"k": "YQ=="}));
        let other = secret(
            "kubernetes.io/basic-auth",
            serde_json::json!({"username": "YQ=="}),
        );
        assert_eq!(
            validate_update(&old, &other).expect_err("type").to_string(),
            "The Secret \"s\" is invalid: type: Invalid value: \"kubernetes.io/basic-auth\": field is immutable"
        );
        let frozen = obj(serde_json::json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s"}, "immutable": true, "data": {"k": "YQ=="}}));
        let changed = obj(serde_json::json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s"}, "immutable": true, "stringData": {"k": "b"}}));
        assert_eq!(
            validate_update(&frozen, &changed)
                .expect_err("immutable")
                .to_string(),
            "The Secret \"s\" is invalid: data: Forbidden: field is immutable when `immutable` is set"
        );
    }
}
