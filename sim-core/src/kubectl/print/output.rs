//! `-o json` and `-o yaml`, byte for byte as kubectl prints them.
//!
//! kubectl hides `metadata.managedFields` (`--show-managed-fields=false`), then:
//! - json: Go's `json.MarshalIndent(obj, "", "    ")` over an unstructured map, so keys are sorted
//!   by bytes and `<`, `>`, `&`, U+2028 and U+2029 are escaped as `\u003c` and so on;
//! - yaml: `sigs.k8s.io/yaml`, i.e. go-yaml v2 over the JSON: keys in go-yaml's natural order,
//!   block sequences not indented inside mappings, `{}`/`[]` for empty collections, strings that
//!   would read back as another type double-quoted (`"2"`, `"true"`, timestamps), multi-line
//!   strings as literal blocks (`|`), and plain or quoted scalars folded after column 80 as
//!   libyaml's emitter does.

use std::cmp::Ordering;

use serde_json::{Map, Value};

/// `kubectl get -o json`: four-space indentation, sorted keys, Go's escaping, a final newline.
pub fn to_json(value: &Value) -> String {
    let value = hide_managed_fields(value);
    let mut out = String::new();
    write_json(&value, 0, &mut out);
    out.push('\n');
    out
}

/// `kubectl get -o yaml`, see the module documentation.
pub fn to_yaml(value: &Value) -> String {
    let value = hide_managed_fields(value);
    let mut out = String::new();
    match &value {
        Value::Object(m) if !m.is_empty() => write_yaml_map(m, 0, &mut out),
        Value::Array(a) if !a.is_empty() => write_yaml_seq(a, 0, &mut out),
        other => {
            write_yaml_scalar(other, 0, &mut out);
            out.push('\n');
        }
    }
    out
}

/// Removes `metadata.managedFields` from the object and from each of its `items`.
fn hide_managed_fields(value: &Value) -> Value {
    let mut v = value.clone();
    strip(&mut v);
    if let Some(items) = v.get_mut("items").and_then(Value::as_array_mut) {
        items.iter_mut().for_each(strip);
    }
    v
}

fn strip(v: &mut Value) {
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
}

fn write_json(v: &Value, indent: usize, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => json_string(s, out),
        Value::Array(a) if a.is_empty() => out.push_str("[]"),
        Value::Array(a) => {
            out.push_str("[\n");
            for (i, item) in a.iter().enumerate() {
                pad(indent + 4, out);
                write_json(item, indent + 4, out);
                out.push_str(if i + 1 < a.len() { ",\n" } else { "\n" });
            }
            pad(indent, out);
            out.push(']');
        }
        Value::Object(m) if m.is_empty() => out.push_str("{}"),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push_str("{\n");
            for (i, k) in keys.iter().enumerate() {
                pad(indent + 4, out);
                json_string(k, out);
                out.push_str(": ");
                write_json(&m[k.as_str()], indent + 4, out);
                out.push_str(if i + 1 < keys.len() { ",\n" } else { "\n" });
            }
            pad(indent, out);
            out.push('}');
        }
    }
}

fn pad(n: usize, out: &mut String) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// Go's `encoding/json` string encoding with HTML escaping on.
fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// libyaml's preferred line width.
const BEST_WIDTH: usize = 80;

/// A block mapping whose keys start at column `indent`.
fn write_yaml_map(m: &Map<String, Value>, indent: usize, out: &mut String) {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort_by(|a, b| natural_cmp(a, b));
    for (i, k) in keys.iter().enumerate() {
        // The first key of a mapping inside a sequence item follows "- " on the same line.
        if i > 0 || !out.ends_with("- ") {
            pad(indent, out);
        }
        write_yaml_key(k, out);
        out.push(':');
        write_yaml_value(&m[k.as_str()], indent, out);
    }
}

/// The value after `key:`; `indent` is the key's column.
fn write_yaml_value(v: &Value, indent: usize, out: &mut String) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_yaml_map(m, indent + 2, out);
        }
        // go-yaml writes block sequences inside mappings without extra indentation.
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_yaml_seq(a, indent, out);
        }
        other => {
            out.push(' ');
            write_yaml_scalar(other, indent + 2, out);
            out.push('\n');
        }
    }
}

/// A block sequence whose dashes are at column `indent`.
fn write_yaml_seq(a: &[Value], indent: usize, out: &mut String) {
    for (i, item) in a.iter().enumerate() {
        if i > 0 || !out.ends_with("- ") {
            pad(indent, out);
        }
        out.push_str("- ");
        match item {
            Value::Object(m) if !m.is_empty() => write_yaml_map(m, indent + 2, out),
            Value::Array(inner) if !inner.is_empty() => write_yaml_seq(inner, indent + 2, out),
            other => {
                write_yaml_scalar(other, indent + 2, out);
                out.push('\n');
            }
        }
    }
}

fn write_yaml_key(k: &str, out: &mut String) {
    // Keys are simple keys: never folded, never block scalars.
    match string_style(k, false) {
        Style::Plain => out.push_str(k),
        Style::Single => single_quoted(k, usize::MAX, 0, out),
        Style::Double | Style::Literal => double_quoted(k, usize::MAX, 0, out),
    }
}

/// A scalar or empty collection; `indent` is the column continuation lines start at.
fn write_yaml_scalar(v: &Value, indent: usize, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
        Value::String(s) => match string_style(s, true) {
            Style::Plain => plain(s, BEST_WIDTH, indent, out),
            Style::Single => single_quoted(s, BEST_WIDTH, indent, out),
            Style::Double => double_quoted(s, BEST_WIDTH, indent, out),
            Style::Literal => literal(s, indent, out),
        },
    }
}

#[derive(Debug, PartialEq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// go-yaml v2's `stringv` plus libyaml's `yaml_emitter_select_scalar_style`.
fn string_style(s: &str, block_allowed: bool) -> Style {
    if s.contains('\n') && block_allowed && literal_allowed(s) {
        return Style::Literal;
    }
    if s.contains('\n') || resolves_to_non_string(s) {
        return Style::Double;
    }
    if plain_allowed(s) {
        Style::Plain
    } else if single_allowed(s) {
        Style::Single
    } else {
        Style::Double
    }
}

/// libyaml refuses block scalars for strings with special characters or trailing spaces before
/// a line break.
fn literal_allowed(s: &str) -> bool {
    !s.chars().any(|c| is_special(c) && c != '\n')
        && !s.contains(" \n")
        && !s.ends_with(' ')
        && !s.starts_with(' ') // would need an indentation indicator; double quotes are safe
}

/// Characters libyaml will not write unescaped.
fn is_special(c: char) -> bool {
    let printable = matches!(c, '\t' | '\n' | '\r' | ' '..='~')
        || c == '\u{85}'
        || ('\u{a0}'..='\u{d7ff}').contains(&c)
        || ('\u{e000}'..='\u{fffd}').contains(&c) && c != '\u{feff}'
        || ('\u{10000}'..='\u{10ffff}').contains(&c);
    !printable || c == '\t' || c == '\r'
}

/// Whether go-yaml v2 would read the plain text back as something other than a string.
fn resolves_to_non_string(s: &str) -> bool {
    const OTHER: &[&str] = &[
        "", "~", "null", "Null", "NULL", "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
        "true", "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
        ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
        "-.Inf", "-.INF", "<<",
    ];
    OTHER.contains(&s)
        || is_yaml_int(s)
        || is_yaml_float(s)
        || is_base60_float(s)
        || is_timestamp(s)
}

/// `strconv.ParseInt(s, 0, 64)` / `ParseUint` as go-yaml v2 tries them.
fn is_yaml_int(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let plain = body.replace('_', "");
    if plain.is_empty() {
        return false;
    }
    let underscores_ok =
        !body.contains('_') || body.len() > 1 && body.starts_with('0') && !body.starts_with("0_");
    if !underscores_ok && body.contains('_') {
        return false;
    }
    let lower = plain.to_ascii_lowercase();
    if let Some(hex) = lower.strip_prefix("0x") {
        return !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit());
    }
    if let Some(bin) = lower.strip_prefix("0b") {
        return !bin.is_empty() && bin.chars().all(|c| c == '0' || c == '1');
    }
    if let Some(oct) = lower.strip_prefix("0o") {
        return !oct.is_empty() && oct.chars().all(|c| ('0'..='7').contains(&c));
    }
    if plain.len() > 1 && plain.starts_with('0') {
        return plain.chars().all(|c| ('0'..='7').contains(&c));
    }
    !body.contains('_') && plain.chars().all(|c| c.is_ascii_digit())
}

/// go-yaml v2's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let b = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exp) = match b.find(['e', 'E']) {
        Some(i) => (&b[..i], Some(&b[i + 1..])),
        None => (b, None),
    };
    let digits = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exp_ok = match exp {
        None => true,
        Some(e) => digits(e.strip_prefix(['-', '+']).unwrap_or(e)),
    };
    mantissa_ok && exp_ok
}

/// go-yaml v2's `isBase60Float`: `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
fn is_base60_float(s: &str) -> bool {
    let b = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (main, frac) = match b.split_once('.') {
        Some((m, f)) => (m, Some(f)),
        None => (b, None),
    };
    if frac.is_some_and(|f| !f.chars().all(|c| c.is_ascii_digit() || c == '_')) {
        return false;
    }
    let mut parts = main.split(':');
    let Some(head) = parts.next() else {
        return false;
    };
    let head_ok = head.starts_with(|c: char| c.is_ascii_digit())
        && head.chars().all(|c| c.is_ascii_digit() || c == '_');
    let mut n = 0;
    for p in parts {
        n += 1;
        let ok = match p.len() {
            1 => p.chars().all(|c| c.is_ascii_digit()),
            2 => {
                p.as_bytes()[0].is_ascii_digit()
                    && p.as_bytes()[0] <= b'5'
                    && p.as_bytes()[1].is_ascii_digit()
            }
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    head_ok && n > 0
}

/// go-yaml v2's timestamp formats: `2006-1-2`, `2006-1-2 15:4:5.999999999` and
/// `2006-1-2T15:4:5.999999999Z07:00` (also with a lower-case `t`).
fn is_timestamp(s: &str) -> bool {
    let (date, time) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some((&s[i..i + 1], &s[i + 1..]))),
        None => (s, None),
    };
    let num = |t: &str, min: usize, max: usize| {
        (min..=max).contains(&t.len()) && t.chars().all(|c| c.is_ascii_digit())
    };
    let d: Vec<&str> = date.split('-').collect();
    if !(d.len() == 3 && num(d[0], 4, 4) && num(d[1], 1, 2) && num(d[2], 1, 2)) {
        return false;
    }
    let Some((sep, rest)) = time else {
        return true;
    };
    // The zone is required after T and absent after a space.
    let (clock, zone) = if sep == " " {
        (rest, "")
    } else if let Some(c) = rest.strip_suffix('Z') {
        (c, "Z")
    } else {
        match rest.rfind(['+', '-']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => return false,
        }
    };
    if sep != " " && zone.is_empty() {
        return false;
    }
    if zone.len() > 1 {
        let z: Vec<&str> = zone[1..].split(':').collect();
        if !(z.len() == 2 && num(z[0], 2, 2) && num(z[1], 2, 2)) {
            return false;
        }
    }
    let (hms, frac) = match clock.split_once('.') {
        Some((h, f)) => (h, Some(f)),
        None => (clock, None),
    };
    let t: Vec<&str> = hms.split(':').collect();
    t.len() == 3 && t.iter().all(|p| num(p, 1, 2)) && frac.is_none_or(|f| num(f, 1, 9))
}

/// libyaml's `yaml_emitter_analyze_scalar`, block context: may the string be written plain?
fn plain_allowed(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    if chars.is_empty() || s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    if chars[0] == ' ' || chars[chars.len() - 1] == ' ' {
        return false;
    }
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let followed_by_blank = next.is_none_or(|n| n == ' ');
        if is_special(c) {
            return false;
        }
        if i == 0 {
            if matches!(
                c,
                '#' | ','
                    | '['
                    | ']'
                    | '{'
                    | '}'
                    | '&'
                    | '*'
                    | '!'
                    | '|'
                    | '>'
                    | '\''
                    | '"'
                    | '%'
                    | '@'
                    | '`'
            ) {
                return false;
            }
            if matches!(c, '?' | ':' | '-') && followed_by_blank {
                return false;
            }
        } else {
            if c == ':' && followed_by_blank {
                return false;
            }
            if c == '#' && chars[i - 1] == ' ' {
                return false;
            }
        }
    }
    true
}

/// Single quotes are refused only for special characters and breaks next to spaces.
fn single_allowed(s: &str) -> bool {
    !s.chars().any(|c| is_special(c) && c != '\n')
}

/// Writes text word by word, breaking at a single space once the line is past `width`
/// (libyaml's `write_plain` / `write_single_quoted`), continuation lines at `indent`.
fn fold(s: &str, width: usize, indent: usize, quoted: bool, out: &mut String) {
    let chars: Vec<char> = s.chars().collect();
    let mut prev_space = false;
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let next_space = chars.get(i + 1) == Some(&' ');
            let at_edge = quoted && (i == 0 || i + 1 == chars.len());
            if !prev_space && !next_space && !at_edge && column(out) > width {
                out.push('\n');
                pad(indent, out);
            } else {
                out.push(' ');
            }
            prev_space = true;
        } else {
            if quoted && c == '\'' {
                out.push('\'');
            }
            out.push(c);
            prev_space = false;
        }
    }
}

/// The column the next character goes to.
fn column(out: &str) -> usize {
    out.rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
}

fn plain(s: &str, width: usize, indent: usize, out: &mut String) {
    fold(s, width, indent, false, out);
}

fn single_quoted(s: &str, width: usize, indent: usize, out: &mut String) {
    out.push('\'');
    fold(s, width, indent, true, out);
    out.push('\'');
}

/// libyaml's `write_double_quoted`: escapes, and folds at spaces past `width` (a space that
/// starts the continuation line is written as `\ `).
fn double_quoted(s: &str, width: usize, indent: usize, out: &mut String) {
    out.push('"');
    let chars: Vec<char> = s.chars().collect();
    let mut prev_space = false;
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            if !prev_space && i != 0 && i + 1 != chars.len() && column(out) > width {
                out.push('\n');
                pad(indent, out);
                if chars.get(i + 1) == Some(&' ') {
                    out.push('\\');
                }
            } else {
                out.push(' ');
            }
            prev_space = true;
            continue;
        }
        prev_space = false;
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if is_special(c) => {
                let n = c as u32;
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02X}"));
                } else if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04X}"));
                } else {
                    out.push_str(&format!("\\U{n:08X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A literal block scalar (`|`, `|-` or `|+`) with its lines at `indent`.
fn literal(s: &str, indent: usize, out: &mut String) {
    let trailing = s.len() - s.trim_end_matches('\n').len();
    out.push('|');
    match trailing {
        0 => out.push('-'),
        1 => {}
        _ => out.push('+'),
    }
    let body = s.strip_suffix('\n').unwrap_or(s);
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            pad(indent, out);
            out.push_str(line);
        }
    }
}

/// go-yaml v2's `keyList.Less`: letters compare by code point, a non-letter sorts before a
/// letter, and runs of digits compare as numbers (`a9` < `a10`).
fn natural_cmp(a: &str, b: &str) -> Ordering {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            i += 1;
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let (mut an, mut bn): (i64, i64) = (0, 0);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an
                .saturating_mul(10)
                .saturating_add(i64::from(ar[ai] as u8 - b'0'));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn
                .saturating_mul(10)
                .saturating_add(i64::from(br[bi] as u8 - b'0'));
            bi += 1;
        }
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

#[cfg(test)]
mod tests {
    //! Expected texts follow go-yaml v2's encode_test.go cases and kubectl's printed objects.
    use super::*;
    use crate::kubectl::print::fixtures::*;
    use serde_json::json;

    fn check(actual: String, expected: &str) {
        assert_eq!(
            actual, expected,
            "\n--- actual ---\n{actual}\n--- expected ---\n{expected}"
        );
    }

    #[test]
    fn json_sorted_four_spaces_html_escaped() {
        check(
            to_json(
                &json!({"metadata": {"name": "a", "managedFields": [{"manager": "kubectl"}]},
                "kind": "Pod", "spec": {"containers": [], "x": {}}, "note": "<none> & more"}),
            ),
            "{\n    \"kind\": \"Pod\",\n    \"metadata\": {\n        \"name\": \"a\"\n    },\n    \"note\": \"\\u003cnone\\u003e \\u0026 more\",\n    \"spec\": {\n        \"containers\": [],\n        \"x\": {}\n    }\n}\n",
        );
    }

    #[test]
    fn yaml_scalar_styles() {
        let cases = [
            ("2", "\"2\""),
            ("true", "\"true\""),
            ("yes", "\"yes\""),
            ("", "\"\""),
            ("2026-11-23T11:00:00Z", "\"2026-11-23T11:00:00Z\""),
            ("1:20", "\"1:20\""),
            ("1e3", "\"1e3\""),
            ("0x1F", "\"0x1F\""),
            ("25%", "25%"),
            (
                "registry.local/credit-scoring-api:single",
                "registry.local/credit-scoring-api:single",
            ),
            ("*", "'*'"),
            ("- x", "'- x'"),
            ("a: b", "'a: b'"),
            ("it's", "it's"),
            ("'quoted'", "'''quoted'''"),
            (" lead", "' lead'"),
            (
                "ReplicaSet \"x\" is progressing.",
                "ReplicaSet \"x\" is progressing.",
            ),
        ];
        for (input, want) in cases {
            check(to_yaml(&json!({"k": input})), &format!("k: {want}\n"));
        }
    }

    #[test]
    fn yaml_literal_and_folding() {
        check(
            to_yaml(&json!({"a": "{\"x\":1}\n", "b": "one\ntwo"})),
            "a: |\n  {\"x\":1}\nb: |-\n  one\n  two\n",
        );
        let long = "Back-off restarting failed container api in pod credit-scoring-api-5d8c7b9f4-crash_live-coding(uid-crash) and more words";
        check(
            to_yaml(&json!({"message": long})),
            "message: Back-off restarting failed container api in pod credit-scoring-api-5d8c7b9f4-crash_live-coding(uid-crash)\n  and more words\n",
        );
    }

    #[test]
    fn natural_key_order() {
        let mut keys = vec![
            "a10",
            "a9",
            "a_b",
            "aB",
            "app",
            "app.kubernetes.io/name",
            "pod-template-hash",
            "podIP",
        ];
        keys.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            keys,
            [
                "a_b",
                "a9",
                "a10",
                "aB",
                "app",
                "app.kubernetes.io/name",
                "pod-template-hash",
                "podIP"
            ]
        );
    }

    #[test]
    fn deployment_yaml() {
        let v = serde_json::to_value(course_deployment()).expect("json");
        check(
            to_yaml(&v),
            "\
apiVersion: apps/v1
kind: Deployment
metadata:
  annotations:
    deployment.kubernetes.io/revision: \"2\"
  creationTimestamp: \"2026-11-23T11:00:00Z\"
  generation: 2
  labels:
    app: credit-scoring-api
  name: credit-scoring-api
  namespace: live-coding
  resourceVersion: \"4711\"
  uid: 0b6f3d1e-6c1a-4d8e-9a59-1f1f7f0e0001
spec:
  minReadySeconds: 0
  progressDeadlineSeconds: 600
  replicas: 10
  revisionHistoryLimit: 10
  selector:
    matchLabels:
      app: credit-scoring-api
  strategy:
    rollingUpdate:
      maxSurge: 2
      maxUnavailable: 0
    type: RollingUpdate
  template:
    metadata:
      labels:
        app: credit-scoring-api
    spec:
      containers:
      - image: registry.local/credit-scoring-api:single
        imagePullPolicy: IfNotPresent
        name: api
        ports:
        - containerPort: 8080
          protocol: TCP
        readinessProbe:
          failureThreshold: 3
          httpGet:
            path: /
            port: 8080
            scheme: HTTP
          periodSeconds: 5
          successThreshold: 1
          timeoutSeconds: 5
        resources: {}
        terminationMessagePath: /dev/termination-log
        terminationMessagePolicy: File
      dnsPolicy: ClusterFirst
      restartPolicy: Always
      schedulerName: default-scheduler
      securityContext: {}
      terminationGracePeriodSeconds: 30
status:
  availableReplicas: 10
  conditions:
  - lastTransitionTime: \"2026-11-23T11:01:40Z\"
    lastUpdateTime: \"2026-11-23T11:01:40Z\"
    message: Deployment has minimum availability.
    reason: MinimumReplicasAvailable
    status: \"True\"
    type: Available
  - lastTransitionTime: \"2026-11-23T11:00:00Z\"
    lastUpdateTime: \"2026-11-23T11:58:00Z\"
    message: ReplicaSet \"credit-scoring-api-5d8c7b9f4\" is progressing.
    reason: ReplicaSetUpdated
    status: \"True\"
    type: Progressing
  observedGeneration: 2
  readyReplicas: 10
  replicas: 12
  unavailableReplicas: 2
  updatedReplicas: 2
",
        );
    }
}
