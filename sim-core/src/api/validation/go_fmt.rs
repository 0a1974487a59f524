//! Bad values rendered as `field.Error` prints them: Go's `%q` and `json.Marshal`.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// Go's `strconv.Quote`.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `json.Marshal` of a string: JSON with `<`, `>` and `&` escaped, as Go does by default.
pub(super) fn json_str(s: &str) -> String {
    serde_json::to_string(s)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// JSON of a `map[string]string` (keys sorted, as Go's encoder sorts them; nil is `null`).
pub(super) fn json_map(m: Option<&BTreeMap<String, String>>) -> String {
    match m {
        None => "null".to_owned(),
        Some(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}:{}", json_str(k), json_str(v)))
                .collect();
            format!("{{{}}}", items.join(","))
        }
    }
}

/// JSON of a `[]string`.
pub(super) fn json_strings(v: &[String]) -> String {
    let items: Vec<String> = v.iter().map(|s| json_str(s)).collect();
    format!("[{}]", items.join(","))
}

/// JSON of an `intstr.IntOrString` (its MarshalJSON: the bare int or the string).
pub(super) fn json_intstr(v: &IntOrString) -> String {
    match v {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => json_str(s),
    }
}

/// JSON of a `metav1.LabelSelector` (both fields `omitempty`, in declaration order).
pub(super) fn json_label_selector(sel: &LabelSelector) -> String {
    let mut parts = Vec::new();
    if let Some(m) = sel.match_labels.as_ref().filter(|m| !m.is_empty()) {
        parts.push(format!("\"matchLabels\":{}", json_map(Some(m))));
    }
    if let Some(list) = sel.match_expressions.as_ref().filter(|l| !l.is_empty()) {
        let items: Vec<String> = list
            .iter()
            .map(|r| {
                let mut s = format!(
                    "{{\"key\":{},\"operator\":{}",
                    json_str(&r.key),
                    json_str(&r.operator)
                );
                if let Some(v) = r.values.as_ref().filter(|v| !v.is_empty()) {
                    s.push_str(&format!(",\"values\":{}", json_strings(v)));
                }
                s.push('}');
                s
            })
            .collect();
        parts.push(format!("\"matchExpressions\":[{}]", items.join(",")));
    }
    format!("{{{}}}", parts.join(","))
}
