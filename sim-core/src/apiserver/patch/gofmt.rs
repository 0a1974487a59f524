//! Values in error messages as Go prints them, so the API server's messages come out word for
//! word: `fmt`'s `%v` and `%s`, `reflect` type names, `strconv.Quote`, and the kind words of
//! `encoding/json`'s type errors.
//!
//! The API server decodes a strategic merge patch with `UnmarshalCaseSensitivePreserveInts`,
//! so a JSON integer is a Go `int64` and any other number a `float64`; the helpers follow that.

use serde_json::{Map, Value};

/// The Go type of a decoded JSON value, as `reflect.TypeOf(v).String()` names it (`None`:
/// JSON null, Go's untyped `nil`).
pub(super) fn go_type(v: &Value) -> Option<&'static str> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() => "int64",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    })
}

/// `fmt.Sprintf("%s", reflect.TypeOf(v))`: a type name, or `%!s(<nil>)` for nil.
pub(super) fn go_type_s(v: &Value) -> &'static str {
    go_type(v).unwrap_or("%!s(<nil>)")
}

/// `fmt.Sprintf("%v", v)`: maps as `map[k:v ...]` with sorted keys, slices as `[a b]`, nil as
/// `<nil>`, strings bare.
pub(super) fn go_v(v: &Value) -> String {
    let mut out = String::new();
    write_v(&mut out, v);
    out
}

/// `%v` of a map.
pub(super) fn go_v_map(m: &Map<String, Value>) -> String {
    let mut out = String::new();
    write_map(&mut out, m);
    out
}

/// `%v` of a list of lists (`fmt.Sprint(slices)` in `sliceElementType`).
pub(super) fn go_v_lists(lists: &[&[Value]]) -> String {
    let mut out = String::from("[");
    for (i, list) in lists.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_list(&mut out, list);
    }
    out.push(']');
    out
}

/// `%v` of a list.
pub(super) fn go_v_list(list: &[Value]) -> String {
    let mut out = String::new();
    write_list(&mut out, list);
    out
}

fn write_v(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&go_number(n)),
        Value::String(s) => out.push_str(s),
        Value::Array(a) => write_list(out, a),
        Value::Object(m) => write_map(out, m),
    }
}

fn write_list(out: &mut String, list: &[Value]) {
    out.push('[');
    for (i, v) in list.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_v(out, v);
    }
    out.push(']');
}

fn write_map(out: &mut String, m: &Map<String, Value>) {
    // fmt sorts map keys; serde_json's map may keep insertion order (preserve_order), so sort.
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    out.push_str("map[");
    for (i, k) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(k);
        out.push(':');
        if let Some(v) = m.get(k) {
            write_v(out, v);
        }
    }
    out.push(']');
}

/// `fmt.Sprintf("%s", v)` of a directive's value: a string as it is, anything else in Go's
/// `%!s(type=value)` form.
pub(super) fn go_s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "%!s(<nil>)".to_owned(),
        Value::Bool(_) | Value::Number(_) => format!("%!s({}={})", go_type_s(v), go_v(v)),
        Value::Array(_) | Value::Object(_) => go_v(v),
    }
}

/// A number as `%v` prints it: integers in decimal, floats in `%g` form (`1e+06`, `0.5`).
fn go_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    match n.as_f64() {
        Some(f) => go_float(f),
        None => n.to_string(),
    }
}

/// strconv's shortest `%g`: exponent form when the exponent is below -4 or at least 6
/// (`1e+06`, `1.5e-05`), plain decimals otherwise (`123456`, `0.0001`).
fn go_float(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    // Rust's `{:e}` gives the shortest round-trip digits, as Go's shortest formatting does.
    let sci = format!("{f:e}");
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return sci;
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        format!("{f}")
    }
}

/// `strconv.Quote(s)`: double quotes, Go escapes for `"`, `\` and unprintable characters.
pub(super) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_quoted(&mut out, c, '"');
    }
    out.push('"');
    out
}

/// encoding/json's `quoteChar`: one byte of a body, in single quotes, as its syntax errors
/// show it (a byte above 0x7f is shown as the Latin-1 character of that value, as Go does).
pub(super) fn go_quote_byte(b: u8) -> String {
    match b {
        b'\'' => r"'\''".to_owned(),
        b'"' => "'\"'".to_owned(),
        _ => {
            let mut out = String::from("'");
            push_quoted(&mut out, char::from(b), '\'');
            out.push('\'');
            out
        }
    }
}

fn push_quoted(out: &mut String, c: char, quote: char) {
    match c {
        '\x07' => out.push_str(r"\a"),
        '\x08' => out.push_str(r"\b"),
        '\x0c' => out.push_str(r"\f"),
        '\n' => out.push_str(r"\n"),
        '\r' => out.push_str(r"\r"),
        '\t' => out.push_str(r"\t"),
        '\x0b' => out.push_str(r"\v"),
        '\\' => out.push_str(r"\\"),
        c if c == quote && quote == '"' => out.push_str("\\\""),
        c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!(r"\x{:02x}", c as u32)),
        c if !go_is_print(c) => {
            let n = c as u32;
            if n <= 0xffff {
                out.push_str(&format!(r"\u{n:04x}"));
            } else {
                out.push_str(&format!(r"\U{n:08x}"));
            }
        }
        c => out.push(c),
    }
}

/// An approximation of Go's `unicode.IsPrint` good for the characters messages meet: the
/// C1 controls, no-break space, soft hyphen, and format, separator and private-use characters
/// are not printable.
fn go_is_print(c: char) -> bool {
    let n = c as u32;
    !(matches!(n, 0x80..=0xa0 | 0xad | 0x2028 | 0x2029 | 0xfeff | 0xe000..=0xf8ff)
        || (0x200b..=0x200f).contains(&n)
        || (0x2060..=0x206f).contains(&n)
        || c.is_control())
}

pub(super) use crate::api::decode::json_kind;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_print_as_go_prints_them() {
        assert_eq!(
            go_v(&json!({"name": "a", "b": [1, 2.5, null], "c": {"d": true}})),
            "map[b:[1 2.5 <nil>] c:map[d:true] name:a]"
        );
        assert_eq!(go_v(&json!(1000000.0)), "1e+06");
        assert_eq!(go_v(&json!(0.00001)), "1e-05");
        assert_eq!(go_v(&json!(123456.5)), "123456.5");
        assert_eq!(go_s(&json!("merge")), "merge");
        assert_eq!(go_s(&json!(5)), "%!s(int64=5)");
        assert_eq!(go_type_s(&json!(null)), "%!s(<nil>)");
        assert_eq!(go_type_s(&json!([])), "[]interface {}");
        assert_eq!(go_quote("a\"b\\c\n\u{1}"), r#""a\"b\\c\n\x01""#);
        assert_eq!(go_quote_byte(b'x'), "'x'");
        assert_eq!(go_quote_byte(b'\''), r"'\''");
        assert_eq!(go_quote_byte(b'\n'), r"'\n'");
        assert_eq!(go_quote_byte(0xe2), "'â'");
        assert_eq!(go_quote_byte(0x85), r"'\u0085'");
    }
}
