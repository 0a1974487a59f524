//! JSON patch (RFC 6902) as kube-apiserver applies it: with `gopkg.in/evanphx/json-patch.v4`
//! (v4.13, `patch.go`), which is more lenient than the RFC in ways a user can see:
//!
//! - `replace` of a missing object member adds it (the RFC wants an error);
//! - `add` or `replace` without `value` writes `null`;
//! - `test` of a missing member (or a `null` one) passes when the value is `null` or absent;
//! - `copy` from a missing object member writes `null`;
//! - negative array indices count from the end (`/list/-1`: the last item; for `add`, after it);
//! - array indices are read as Go's `strconv.Atoi` reads them (`+1` and `01` are 1);
//! - a path's first segment is not checked to be empty (`a/b` acts on `/b`).
//!
//! Failures are worded as the library words them; the API server wraps every one in a 422
//! with a generic message ([`super::PatchError::OperationFailed`]).
//! The `json-patch` crate follows the RFC, so it serves as the reference in the tests where
//! the two agree.

use serde_json::{Map, Value};

use super::depth;
use super::gofmt::{go_quote, json_kind};

/// evanphx's `ErrMissing`, `ErrInvalidIndex` and `ErrTestFailed` texts, appended with `: `.
const MISSING: &str = "missing value";
const INVALID_INDEX: &str = "invalid index referenced";
const TEST_FAILED: &str = "test failed";

/// Applies `ops` (the decoded body: each an operation object, or `null`) to `doc`.
/// `copy_limit` bounds the bytes `copy` operations may add (`AccumulatedCopySizeLimit`, which
/// the API server sets to 3 MiB); `max_depth` bounds how deep an operation may nest a value.
pub(super) fn apply(
    doc: &mut Value,
    ops: &[Value],
    copy_limit: usize,
    max_depth: usize,
) -> Result<(), Failure> {
    let empty = Map::new();
    let mut copied = 0;
    for op in ops {
        let op = op.as_object().unwrap_or(&empty);
        let kind = op.get("op").and_then(Value::as_str).unwrap_or("unknown");
        match kind {
            "add" => add(doc, op, max_depth)?,
            "remove" => remove(doc, op)?,
            "replace" => replace(doc, op, max_depth)?,
            "move" => move_(doc, op, max_depth)?,
            "test" => test(doc, op)?,
            "copy" => copy(doc, op, &mut copied, copy_limit, max_depth)?,
            other => return Err(Failure::Op(format!("Unexpected kind: {other}"))),
        }
    }
    Ok(())
}

/// Why a JSON patch failed.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Failure {
    /// An operation failed, with evanphx's message.
    Op(String),
    /// An operation would nest the document deeper than allowed.
    TooDeep,
}

fn fail<T>(message: String) -> Result<T, Failure> {
    Err(Failure::Op(message))
}

/// A string member of an operation (`path`, `from`): absent or `null` is `Err(None)`, another
/// JSON type is `Err(Some(decode error))`.
fn string_field<'a>(op: &'a Map<String, Value>, name: &str) -> Result<&'a str, Option<String>> {
    match op.get(name) {
        None | Some(Value::Null) => Err(None),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(Some(format!(
            "json: cannot unmarshal {} into Go value of type string",
            json_kind(other)
        ))),
    }
}

/// `Operation.Path()`'s error text.
fn path_error(e: Option<String>) -> String {
    e.unwrap_or_else(|| format!("operation missing path field: {MISSING}"))
}

/// `Operation.From()`'s error text.
fn from_error(e: Option<String>) -> String {
    e.unwrap_or_else(|| format!("operation, missing from field: {MISSING}"))
}

/// The operation's `value` (absent: `None`).
fn value(op: &Map<String, Value>) -> Option<&Value> {
    op.get("value")
}

/// RFC 6901 unescaping: `~1` is `/`, then `~0` is `~` (Go's `strings.Replacer` does both in
/// one left-to-right pass, which is the same for these two).
fn unescape(token: &str) -> String {
    if token.contains('~') {
        token.replace("~1", "/").replace("~0", "~")
    } else {
        token.to_owned()
    }
}

/// Go's `strconv.Atoi`, with its error text.
fn atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "strconv.Atoi: parsing {}: invalid syntax",
            go_quote(s)
        ));
    }
    let n: i64 = digits
        .parse()
        .map_err(|_| format!("strconv.Atoi: parsing {}: value out of range", go_quote(s)))?;
    Ok(if s.starts_with('-') { -n } else { n })
}

fn invalid_index(idx: i64) -> String {
    format!("Unable to access invalid index: {idx}: {INVALID_INDEX}")
}

/// evanphx's `findObject`: the container (an object or an array) holding the path's last
/// token, and that token unescaped.
fn find_object<'a>(doc: &'a mut Value, path: &str) -> Option<(&'a mut Value, String)> {
    let split: Vec<&str> = path.split('/').collect();
    if split.len() < 2 {
        return None;
    }
    let (last, parents) = split[1..].split_last()?;
    let mut cur = doc;
    for part in parents {
        let next = match cur {
            Value::Object(m) => m.get_mut(&unescape(part))?,
            Value::Array(a) => {
                let len = a.len();
                a.get_mut(array_get_index(part, len).ok()?)?
            }
            _ => return None,
        };
        // A null, a string or a number cannot hold the next token.
        if !(next.is_object() || next.is_array()) {
            return None;
        }
        cur = next;
    }
    Some((cur, unescape(last)))
}

/// The index `partialArray.get` and `remove` read from a token (negative: from the end).
fn array_get_index(key: &str, len: usize) -> Result<usize, String> {
    let idx = atoi(key)?;
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let i = if idx < 0 {
        if idx < -len {
            return Err(invalid_index(idx));
        }
        idx + len
    } else {
        idx
    };
    if i >= len {
        return Err(invalid_index(idx));
    }
    usize::try_from(i).map_err(|_| invalid_index(idx))
}

/// `container.get(key)`: `Ok(None)` for a missing member or a `null` (Go keeps `null` as a nil
/// node, the same as absent).
fn get<'a>(container: &'a Value, key: &str) -> Result<Option<&'a Value>, String> {
    let found = match container {
        Value::Object(m) => m.get(key),
        Value::Array(a) => a.get(array_get_index(key, a.len())?),
        _ => None,
    };
    Ok(found.filter(|v| !v.is_null()))
}

/// `container.add(key, val)`.
fn add_to(container: &mut Value, key: String, val: Value) -> Result<(), String> {
    match container {
        Value::Object(m) => {
            m.insert(key, val);
            Ok(())
        }
        Value::Array(a) => {
            if key == "-" {
                a.push(val);
                return Ok(());
            }
            let idx = atoi(&key)
                .map_err(|e| format!("value was not a proper array index: '{key}': {e}"))?;
            let size = i64::try_from(a.len() + 1).unwrap_or(i64::MAX);
            let i = if idx < 0 {
                if idx < -size {
                    return Err(invalid_index(idx));
                }
                idx + size
            } else {
                idx
            };
            if i >= size {
                return Err(invalid_index(idx));
            }
            let i = usize::try_from(i).map_err(|_| invalid_index(idx))?;
            a.insert(i, val);
            Ok(())
        }
        _ => Err(MISSING.to_owned()),
    }
}

/// `container.remove(key)`, returning what was there.
fn remove_from(container: &mut Value, key: &str) -> Result<Value, String> {
    match container {
        Value::Object(m) => m
            .remove(key)
            .ok_or_else(|| format!("Unable to remove nonexistent key: {key}: {MISSING}")),
        Value::Array(a) => {
            let i = array_get_index(key, a.len())?;
            Ok(a.remove(i))
        }
        _ => Err(MISSING.to_owned()),
    }
}

/// Refuses a value that would sit deeper than `max_depth` at `path`.
fn check_depth(path: &str, val: &Value, max_depth: usize) -> Result<(), Failure> {
    let at = path.split('/').count().saturating_sub(1);
    if at + depth(val, max_depth) > max_depth {
        return Err(Failure::TooDeep);
    }
    Ok(())
}

fn add(doc: &mut Value, op: &Map<String, Value>, max_depth: usize) -> Result<(), Failure> {
    let Ok(path) = string_field(op, "path") else {
        return fail(format!("add operation failed to decode path: {MISSING}"));
    };
    let val = value(op).cloned().unwrap_or(Value::Null);
    check_depth(path, &val, max_depth)?;
    let Some((con, key)) = find_object(doc, path) else {
        return fail(format!(
            "add operation does not apply: doc is missing path: \"{path}\": {MISSING}"
        ));
    };
    add_to(con, key, val).or_else(|e| fail(format!("error in add for path: '{path}': {e}")))
}

fn remove(doc: &mut Value, op: &Map<String, Value>) -> Result<(), Failure> {
    let Ok(path) = string_field(op, "path") else {
        return fail(format!("remove operation failed to decode path: {MISSING}"));
    };
    let Some((con, key)) = find_object(doc, path) else {
        return fail(format!(
            "remove operation does not apply: doc is missing path: \"{path}\": {MISSING}"
        ));
    };
    match remove_from(con, &key) {
        Ok(_) => Ok(()),
        Err(e) => fail(format!("error in remove for path: '{path}': {e}")),
    }
}

fn replace(doc: &mut Value, op: &Map<String, Value>, max_depth: usize) -> Result<(), Failure> {
    let path = match string_field(op, "path") {
        Ok(p) => p,
        Err(e) => {
            return fail(format!(
                "replace operation failed to decode path: {}",
                path_error(e)
            ));
        }
    };
    let val = value(op).cloned().unwrap_or(Value::Null);
    check_depth(path, &val, max_depth)?;
    if path.is_empty() {
        // The whole document; Go wraps a nil error here, hence `%!w(<nil>)`.
        if !(val.is_object() || val.is_array()) {
            return fail("replace operation value must be object or array: %!w(<nil>)".to_owned());
        }
        *doc = val;
        return Ok(());
    }
    let Some((con, key)) = find_object(doc, path) else {
        return fail(format!(
            "replace operation does not apply: doc is missing path: {path}: {MISSING}"
        ));
    };
    match con {
        // A missing member is no error in v4: `replace` adds it.
        Value::Object(m) => {
            m.insert(key, val);
            Ok(())
        }
        Value::Array(a) => match array_get_index(&key, a.len()) {
            Ok(i) => {
                a[i] = val;
                Ok(())
            }
            Err(_) => fail(format!(
                "replace operation does not apply: doc is missing key: {path}: {MISSING}"
            )),
        },
        _ => fail(format!(
            "replace operation does not apply: doc is missing path: {path}: {MISSING}"
        )),
    }
}

fn move_(doc: &mut Value, op: &Map<String, Value>, max_depth: usize) -> Result<(), Failure> {
    let from = match string_field(op, "from") {
        Ok(f) => f,
        Err(e) => {
            return fail(format!(
                "move operation failed to decode from: {}",
                from_error(e)
            ));
        }
    };
    let Some((con, key)) = find_object(doc, from) else {
        return fail(format!(
            "move operation does not apply: doc is missing from path: {from}: {MISSING}"
        ));
    };
    if let Err(e) = get(con, &key) {
        return fail(format!("error in move for path: '{key}': {e}"));
    }
    let val = match remove_from(con, &key) {
        Ok(v) => v,
        Err(e) => return fail(format!("error in move for path: '{key}': {e}")),
    };
    let path = match string_field(op, "path") {
        Ok(p) => p,
        Err(e) => {
            return fail(format!(
                "move operation failed to decode path: {}",
                path_error(e)
            ));
        }
    };
    check_depth(path, &val, max_depth)?;
    let Some((con, key)) = find_object(doc, path) else {
        return fail(format!(
            "move operation does not apply: doc is missing destination path: {path}: {MISSING}"
        ));
    };
    add_to(con, key, val).or_else(|e| fail(format!("error in move for path: '{path}': {e}")))
}

fn test(doc: &mut Value, op: &Map<String, Value>) -> Result<(), Failure> {
    let path = match string_field(op, "path") {
        Ok(p) => p,
        Err(e) => {
            return fail(format!(
                "test operation failed to decode path: {}",
                path_error(e)
            ));
        }
    };
    // `null` and absent are the same on both sides: Go holds both as a nil node.
    let expected = value(op).filter(|v| !v.is_null());
    if path.is_empty() {
        if expected == Some(&*doc) {
            return Ok(());
        }
        return fail(format!("testing value {path} failed: {TEST_FAILED}"));
    }
    let Some((con, key)) = find_object(doc, path) else {
        return fail(format!(
            "test operation does not apply: is missing path: {path}: {MISSING}"
        ));
    };
    match get(con, &key) {
        Err(e) => fail(format!("error in test for path: '{path}': {e}")),
        Ok(actual) if actual == expected => Ok(()),
        Ok(_) => fail(format!("testing value {path} failed: {TEST_FAILED}")),
    }
}

fn copy(
    doc: &mut Value,
    op: &Map<String, Value>,
    copied: &mut usize,
    limit: usize,
    max_depth: usize,
) -> Result<(), Failure> {
    let from = match string_field(op, "from") {
        Ok(f) => f,
        Err(e) => {
            return fail(format!(
                "copy operation failed to decode from: {}",
                from_error(e)
            ));
        }
    };
    let Some((con, key)) = find_object(doc, from) else {
        return fail(format!(
            "copy operation does not apply: doc is missing from path: {from}: {MISSING}"
        ));
    };
    // A missing member copies as null (Go deep-copies a nil node).
    let val = match get(con, &key) {
        Ok(v) => v.cloned(),
        Err(e) => return fail(format!("error in copy for from: '{from}': {e}")),
    };
    let Ok(path) = string_field(op, "path") else {
        return fail(format!("copy operation failed to decode path: {MISSING}"));
    };
    let val = val.unwrap_or(Value::Null);
    check_depth(path, &val, max_depth)?;
    let Some((con, key)) = find_object(doc, path) else {
        return fail(format!(
            "copy operation does not apply: doc is missing destination path: {path}: {MISSING}"
        ));
    };
    if !val.is_null() {
        *copied += serde_json::to_vec(&val).map(|b| b.len()).unwrap_or(0);
    }
    if limit > 0 && *copied > limit {
        return fail(format!(
            "Unable to complete the copy, the accumulated size increase of copy is {copied}, exceeding the limit {limit}"
        ));
    }
    add_to(con, key, val).or_else(|e| fail(format!("error while adding value during copy: {e}")))
}
