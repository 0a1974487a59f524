//! evanphx/json-patch v4's tables (`patch_test.go` at 84a4bb1, BSD-3-Clause, the library the
//! API server applies JSON patches with), applied by our port: `TestAllCases` (`Cases`,
//! `MutationTestCases`, `BadCases`, with the copy limit at 100 bytes as upstream sets it),
//! `TestAllTest` (`TestCases`, with upstream's exact failure message) and `TestAdd`'s index
//! rules. Skipped: the case on an empty document (the API server always has one), and
//! `TestEquality`/`TestMergePatch*` (library internals; the merge patch has its own tests).
//!
//! The `json-patch` crate implements the RFC; where both accept a case they must agree, and
//! the cases only v4 accepts are exactly its documented leniencies.

use serde_json::Value;

use super::super::MAX_DEPTH;
use super::super::json_patch::{Failure, apply};

const CASES: &[(&str, &str, &str)] = &[
    (
        r#"{ "foo": "bar"}"#,
        r#"[
         { "op": "add", "path": "/baz", "value": "qux" }
     ]"#,
        r#"{
       "baz": "qux",
       "foo": "bar"
     }"#,
    ),
    (
        r#"{ "foo": [ "bar", "baz" ] }"#,
        r#"[
     { "op": "add", "path": "/foo/1", "value": "qux" }
    ]"#,
        r#"{ "foo": [ "bar", "qux", "baz" ] }"#,
    ),
    (
        r#"{ "foo": [ "bar", "baz" ] }"#,
        r#"[
     { "op": "add", "path": "/foo/-1", "value": "qux" }
    ]"#,
        r#"{ "foo": [ "bar", "baz", "qux" ] }"#,
    ),
    (
        r#"{ "baz": "qux", "foo": "bar" }"#,
        r#"[ { "op": "remove", "path": "/baz" } ]"#,
        r#"{ "foo": "bar" }"#,
    ),
    (
        r#"{ "foo": [ "bar", "qux", "baz" ] }"#,
        r#"[ { "op": "remove", "path": "/foo/1" } ]"#,
        r#"{ "foo": [ "bar", "baz" ] }"#,
    ),
    (
        r#"{ "baz": "qux", "foo": "bar" }"#,
        r#"[ { "op": "replace", "path": "/baz", "value": "boo" } ]"#,
        r#"{ "baz": "boo", "foo": "bar" }"#,
    ),
    (
        r#"{
     "foo": {
       "bar": "baz",
       "waldo": "fred"
     },
     "qux": {
       "corge": "grault"
     }
   }"#,
        r#"[ { "op": "move", "from": "/foo/waldo", "path": "/qux/thud" } ]"#,
        r#"{
     "foo": {
       "bar": "baz"
     },
     "qux": {
       "corge": "grault",
       "thud": "fred"
     }
   }"#,
    ),
    (
        r#"{ "foo": [ "all", "grass", "cows", "eat" ] }"#,
        r#"[ { "op": "move", "from": "/foo/1", "path": "/foo/3" } ]"#,
        r#"{ "foo": [ "all", "cows", "eat", "grass" ] }"#,
    ),
    (
        r#"{ "foo": [ "all", "grass", "cows", "eat" ] }"#,
        r#"[ { "op": "move", "from": "/foo/1", "path": "/foo/2" } ]"#,
        r#"{ "foo": [ "all", "cows", "grass", "eat" ] }"#,
    ),
    (
        r#"{ "foo": "bar" }"#,
        r#"[ { "op": "add", "path": "/child", "value": { "grandchild": { } } } ]"#,
        r#"{ "foo": "bar", "child": { "grandchild": { } } }"#,
    ),
    (
        r#"{ "foo": ["bar"] }"#,
        r#"[ { "op": "add", "path": "/foo/-", "value": ["abc", "def"] } ]"#,
        r#"{ "foo": ["bar", ["abc", "def"]] }"#,
    ),
    (
        r#"{ "foo": "bar", "qux": { "baz": 1, "bar": null } }"#,
        r#"[ { "op": "remove", "path": "/qux/bar" } ]"#,
        r#"{ "foo": "bar", "qux": { "baz": 1 } }"#,
    ),
    (
        r#"{ "foo": "bar" }"#,
        r#"[ { "op": "add", "path": "/baz", "value": null } ]"#,
        r#"{ "baz": null, "foo": "bar" }"#,
    ),
    (
        r#"{ "foo": ["bar"]}"#,
        r#"[ { "op": "replace", "path": "/foo/0", "value": "baz"}]"#,
        r#"{ "foo": ["baz"]}"#,
    ),
    (
        r#"{ "foo": ["bar","baz"]}"#,
        r#"[ { "op": "replace", "path": "/foo/0", "value": "bum"}]"#,
        r#"{ "foo": ["bum","baz"]}"#,
    ),
    (
        r#"{ "foo": ["bar","qux","baz"]}"#,
        r#"[ { "op": "replace", "path": "/foo/1", "value": "bum"}]"#,
        r#"{ "foo": ["bar", "bum","baz"]}"#,
    ),
    (
        r#"[ {"foo": ["bar","qux","baz"]}]"#,
        r#"[ { "op": "replace", "path": "/0/foo/0", "value": "bum"}]"#,
        r#"[ {"foo": ["bum","qux","baz"]}]"#,
    ),
    (
        r#"[ {"foo": ["bar","qux","baz"], "bar": ["qux","baz"]}]"#,
        r#"[ { "op": "copy", "from": "/0/foo/0", "path": "/0/bar/0"}]"#,
        r#"[ {"foo": ["bar","qux","baz"], "bar": ["bar", "baz"]}]"#,
    ),
    (
        r#"[ {"foo": ["bar","qux","baz"], "bar": ["qux","baz"]}]"#,
        r#"[ { "op": "copy", "from": "/0/foo/0", "path": "/0/bar"}]"#,
        r#"[ {"foo": ["bar","qux","baz"], "bar": ["bar", "qux", "baz"]}]"#,
    ),
    (
        r#"[ { "foo": {"bar": ["qux","baz"]}, "baz": {"qux": "bum"}}]"#,
        r#"[ { "op": "copy", "from": "/0/foo/bar", "path": "/0/baz/bar"}]"#,
        r#"[ { "baz": {"bar": ["qux","baz"], "qux":"bum"}, "foo": {"bar": ["qux","baz"]}}]"#,
    ),
    (
        r#"{ "foo": ["bar"]}"#,
        r#"[{"op": "copy", "path": "/foo/0", "from": "/foo"}]"#,
        r#"{ "foo": [["bar"], "bar"]}"#,
    ),
    (
        r#"{ "foo": ["bar","qux","baz"]}"#,
        r#"[ { "op": "remove", "path": "/foo/-2"}]"#,
        r#"{ "foo": ["bar", "baz"]}"#,
    ),
    (
        r#"{ "foo": []}"#,
        r#"[ { "op": "add", "path": "/foo/-1", "value": "qux"}]"#,
        r#"{ "foo": ["qux"]}"#,
    ),
    (
        r#"{ "bar": [{"baz": null}]}"#,
        r#"[ { "op": "replace", "path": "/bar/0/baz", "value": 1 } ]"#,
        r#"{ "bar": [{"baz": 1}]}"#,
    ),
    (
        r#"{ "bar": [{"baz": 1}]}"#,
        r#"[ { "op": "replace", "path": "/bar/0/baz", "value": null } ]"#,
        r#"{ "bar": [{"baz": null}]}"#,
    ),
    (
        r#"{ "bar": [null]}"#,
        r#"[ { "op": "replace", "path": "/bar/0", "value": 1 } ]"#,
        r#"{ "bar": [1]}"#,
    ),
    (
        r#"{ "bar": [1]}"#,
        r#"[ { "op": "replace", "path": "/bar/0", "value": null } ]"#,
        r#"{ "bar": [null]}"#,
    ),
    (
        r#"{
      "id": "00000000-0000-0000-0000-000000000000",
      "parentID": "00000000-0000-0000-0000-000000000000"
		}"#,
        r#"[
 {
   "op": "test",
   "path": "",
   "value": {
     "id": "00000000-0000-0000-0000-000000000000",
     "parentID": "00000000-0000-0000-0000-000000000000"
   }
 },
 {
   "op": "replace",
   "path": "",
   "value": {
     "id": "759981e8-ec68-4639-a83e-513225914ecb",
     "originalID": "bar",
     "parentID": "00000000-0000-0000-0000-000000000000"
   }
 }
		]"#,
        r#"{
 "id" : "759981e8-ec68-4639-a83e-513225914ecb",
 "originalID" : "bar",
 "parentID" : "00000000-0000-0000-0000-000000000000"
		}"#,
    ),
];

const MUTATION_CASES: &[(&str, &str)] = &[
    (
        r#"{ "foo": "bar", "qux": { "baz": 1, "bar": null } }"#,
        r#"[ { "op": "remove", "path": "/qux/bar" } ]"#,
    ),
    (
        r#"{ "foo": "bar", "qux": { "baz": 1, "bar": null } }"#,
        r#"[ { "op": "replace", "path": "/qux/baz", "value": null } ]"#,
    ),
];

const BAD_CASES: &[(&str, &str)] = &[
    (
        r#"{ "foo": "bar" }"#,
        r#"[ { "op": "add", "path": "/baz/bat", "value": "qux" } ]"#,
    ),
    (
        r#"{ "a": { "b": { "d": 1 } } }"#,
        r#"[ { "op": "remove", "path": "/a/b/c" } ]"#,
    ),
    (
        r#"{ "a": { "b": { "d": 1 } } }"#,
        r#"[ { "op": "move", "from": "/a/b/c", "path": "/a/b/e" } ]"#,
    ),
    (
        r#"{ "a": { "b": [1] } }"#,
        r#"[ { "op": "remove", "path": "/a/b/1" } ]"#,
    ),
    (
        r#"{ "a": { "b": [1] } }"#,
        r#"[ { "op": "move", "from": "/a/b/1", "path": "/a/b/2" } ]"#,
    ),
    (
        r#"{ "foo": "bar" }"#,
        r#"[ { "op": "add", "pathz": "/baz", "value": "qux" } ]"#,
    ),
    (
        r#"{ "foo": "bar" }"#,
        r#"[ { "op": "add", "path": "", "value": "qux" } ]"#,
    ),
    (
        r#"{ "foo": ["bar","baz"]}"#,
        r#"[ { "op": "replace", "path": "/foo/2", "value": "bum"}]"#,
    ),
    (
        r#"{ "foo": ["bar","baz"]}"#,
        r#"[ { "op": "add", "path": "/foo/-4", "value": "bum"}]"#,
    ),
    (
        r#"{ "name":{ "foo": "bat", "qux": "bum"}}"#,
        r#"[ { "op": "replace", "path": "/foo/bar", "value":"baz"}]"#,
    ),
    (
        r#"{ "foo": ["bar"]}"#,
        r#"[ {"op": "add", "path": "/foo/2", "value": "bum"}]"#,
    ),
    (
        r#"{ "foo": []}"#,
        r#"[ {"op": "remove", "path": "/foo/-"}]"#,
    ),
    (
        r#"{ "foo": []}"#,
        r#"[ {"op": "remove", "path": "/foo/-1"}]"#,
    ),
    (
        r#"{ "foo": ["bar"]}"#,
        r#"[ {"op": "remove", "path": "/foo/-2"}]"#,
    ),
    (r#"{}"#, r#"[ {"op":null,"path":""} ]"#),
    (r#"{}"#, r#"[ {"op":"add","path":null} ]"#),
    (r#"{}"#, r#"[ { "op": "copy", "from": null }]"#),
    (
        r#"{ "foo": ["bar"]}"#,
        r#"[{"op": "copy", "path": "/foo/6666666666", "from": "/"}]"#,
    ),
    (
        r#"{ "foo": ["bar"]}"#,
        r#"[{"op": "copy", "path": "/foo/2", "from": "/foo/0"}]"#,
    ),
    (
        r#"{ "foo": [ "all", "grass", "cows", "eat" ] }"#,
        r#"[ { "op": "move", "from": "/foo/1", "path": "/foo/4" } ]"#,
    ),
];

const TEST_CASES: &[(&str, &str, bool, &str)] = &[
    (
        r#"{
      "baz": "qux",
      "foo": [ "a", 2, "c" ]
    }"#,
        r#"[
      { "op": "test", "path": "/baz", "value": "qux" },
      { "op": "test", "path": "/foo/1", "value": 2 }
    ]"#,
        true,
        "",
    ),
    (
        r#"{ "baz": "qux" }"#,
        r#"[ { "op": "test", "path": "/baz", "value": "bar" } ]"#,
        false,
        "/baz",
    ),
    (
        r#"{
      "baz": "qux",
      "foo": ["a", 2, "c"]
    }"#,
        r#"[
      { "op": "test", "path": "/baz", "value": "qux" },
      { "op": "test", "path": "/foo/1", "value": "c" }
    ]"#,
        false,
        "/foo/1",
    ),
    (
        r#"{ "baz": "qux" }"#,
        r#"[ { "op": "test", "path": "/foo", "value": 42 } ]"#,
        false,
        "/foo",
    ),
    (
        r#"{ "baz": "qux" }"#,
        r#"[ { "op": "test", "path": "/foo", "value": null } ]"#,
        true,
        "",
    ),
    (
        r#"{ "foo": null }"#,
        r#"[ { "op": "test", "path": "/foo", "value": null } ]"#,
        true,
        "",
    ),
    (
        r#"{ "foo": {} }"#,
        r#"[ { "op": "test", "path": "/foo", "value": null } ]"#,
        false,
        "/foo",
    ),
    (
        r#"{ "foo": [] }"#,
        r#"[ { "op": "test", "path": "/foo", "value": null } ]"#,
        false,
        "/foo",
    ),
    (
        r#"{ "baz/foo": "qux" }"#,
        r#"[ { "op": "test", "path": "/baz~1foo", "value": "qux"} ]"#,
        true,
        "",
    ),
    (
        r#"{ "foo": [] }"#,
        r#"[ { "op": "test", "path": "/foo"} ]"#,
        false,
        "/foo",
    ),
    (
        r#"{ "baz": [] }"#,
        r#"[ { "op": "test", "path": "/foo"} ]"#,
        true,
        "/foo",
    ),
];

/// Applies `patch` to `doc` with upstream's test copy limit.
fn apply_v4(doc: &str, patch: &str, copy_limit: usize) -> Result<Value, String> {
    let mut doc: Value = serde_json::from_str(doc).map_err(|e| e.to_string())?;
    let ops = match serde_json::from_str(patch).map_err(|e| e.to_string())? {
        Value::Array(ops) => ops,
        other => return Err(format!("not a patch: {other}")),
    };
    match apply(&mut doc, &ops, copy_limit, MAX_DEPTH) {
        Ok(()) => Ok(doc),
        Err(Failure::Op(m)) => Err(m),
        Err(Failure::TooDeep) => Err("too deep".to_owned()),
    }
}

/// The RFC's answer, from the `json-patch` crate (`None`: it refuses the patch).
fn apply_rfc(doc: &str, patch: &str) -> Option<Value> {
    let mut doc: Value = serde_json::from_str(doc).ok()?;
    let patch: json_patch::Patch = serde_json::from_str(patch).ok()?;
    json_patch::patch(&mut doc, &patch).ok()?;
    Some(doc)
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// `TestAllCases`: the good cases give their result, the mutation cases change the document,
/// the bad cases fail.
#[test]
fn all_cases() {
    for (doc, patch, result) in CASES {
        // Upstream compares results as JSON objects, so for a document that is a list both
        // sides decode to nil and any result passes; two of those four results are wrong
        // (copying `"bar"` to `/0/bar/0` inserts it, to `/0/bar` replaces the list with it).
        // Those four are checked against the RFC instead.
        let want = if doc.trim_start().starts_with('[') {
            apply_rfc(doc, patch)
        } else {
            Some(json(result))
        };
        assert_eq!(apply_v4(doc, patch, 100).ok(), want, "{patch}");
    }
    for (doc, patch) in MUTATION_CASES {
        let out = apply_v4(doc, patch, 100);
        assert!(
            out.as_ref().is_ok_and(|o| *o != json(doc)),
            "{patch}: {out:?}"
        );
    }
    for (doc, patch) in BAD_CASES {
        assert!(apply_v4(doc, patch, 100).is_err(), "{patch} applied");
    }
}

/// `TestAllCases`' two copy-size cases: each copy of a 48-`A` string adds 50 bytes (its quotes
/// count), so two fit a limit of 100 and two copies of 49 `A`s do not.
#[test]
fn accumulated_copy_size() {
    let copy_twice = r#"[ { "op": "copy", "path": "/foo/-", "from": "/foo/1" },
                          { "op": "copy", "path": "/foo/-", "from": "/foo/1" }]"#;
    let a48 = "A".repeat(48);
    let doc = format!(r#"{{ "foo": ["A", "{a48}"] }}"#);
    let want = format!(r#"{{ "foo": ["A", "{a48}", "{a48}", "{a48}"] }}"#);
    assert_eq!(apply_v4(&doc, copy_twice, 100), Ok(json(&want)));
    let a49 = "A".repeat(49);
    let doc = format!(r#"{{ "foo": ["A", "{a49}"] }}"#);
    assert_eq!(
        apply_v4(&doc, copy_twice, 100),
        Err("Unable to complete the copy, the accumulated size increase of copy is 102, exceeding the limit 100".to_owned())
    );
}

/// `TestAllTest`: `test` passes or fails with `testing value <path> failed: test failed`.
#[test]
fn all_test() {
    for (doc, patch, passes, failed_path) in TEST_CASES {
        let out = apply_v4(doc, patch, 0);
        if *passes {
            assert!(out.is_ok(), "{patch}: {out:?}");
        } else {
            assert_eq!(
                out,
                Err(format!("testing value {failed_path} failed: test failed")),
                "{patch}"
            );
        }
    }
}

/// `TestAdd`: adding to an empty list at 0 or -1 works, at 1 or -2 it does not.
#[test]
fn add_index_rules() {
    for (index, error) in [
        ("0", None),
        (
            "1",
            Some("Unable to access invalid index: 1: invalid index referenced"),
        ),
        ("-1", None),
        (
            "-2",
            Some("Unable to access invalid index: -2: invalid index referenced"),
        ),
    ] {
        let patch = format!(r#"[{{"op": "add", "path": "/l/{index}", "value": 1}}]"#);
        let out = apply_v4(r#"{"l": []}"#, &patch, 0);
        match error {
            None => assert_eq!(out, Ok(json(r#"{"l": [1]}"#)), "{index}"),
            Some(e) => assert_eq!(
                out,
                Err(format!("error in add for path: '/l/{index}': {e}"))
            ),
        }
    }
}

/// Where the RFC (the `json-patch` crate) accepts a case, v4 gives the same result; the cases
/// only v4 accepts use its negative indices.
#[test]
fn agrees_with_the_rfc_where_the_rfc_applies() {
    let mut only_v4 = Vec::new();
    for (doc, patch, _) in CASES {
        match apply_rfc(doc, patch) {
            Some(rfc) => assert_eq!(apply_v4(doc, patch, 100), Ok(rfc), "{patch}"),
            None => only_v4.push(*patch),
        }
    }
    assert_eq!(
        only_v4,
        [
            r#"[
     { "op": "add", "path": "/foo/-1", "value": "qux" }
    ]"#,
            r#"[ { "op": "remove", "path": "/foo/-2"}]"#,
            r#"[ { "op": "add", "path": "/foo/-1", "value": "qux"}]"#,
        ]
    );
}

/// v4's leniencies beyond the tables, each against the RFC's refusal.
#[test]
fn lenient_where_the_api_server_is() {
    let doc = r#"{"metadata": {"labels": {"app": "web"}}, "spec": {"ports": [80, 443]}}"#;
    for (patch, want) in [
        // `replace` of a missing member adds it.
        (
            r#"[{"op": "replace", "path": "/metadata/labels/tier", "value": "db"}]"#,
            r#"{"metadata": {"labels": {"app": "web", "tier": "db"}}, "spec": {"ports": [80, 443]}}"#,
        ),
        // `add` without a value adds null.
        (
            r#"[{"op": "add", "path": "/spec/x"}]"#,
            r#"{"metadata": {"labels": {"app": "web"}}, "spec": {"ports": [80, 443], "x": null}}"#,
        ),
        // `test` of a missing member passes against null.
        (r#"[{"op": "test", "path": "/spec/x", "value": null}]"#, doc),
        // `copy` from a missing member copies null.
        (
            r#"[{"op": "copy", "from": "/spec/none", "path": "/spec/y"}]"#,
            r#"{"metadata": {"labels": {"app": "web"}}, "spec": {"ports": [80, 443], "y": null}}"#,
        ),
        // Indices are read as Go's strconv.Atoi reads them.
        (
            r#"[{"op": "replace", "path": "/spec/ports/+1", "value": 8443}]"#,
            r#"{"metadata": {"labels": {"app": "web"}}, "spec": {"ports": [80, 8443]}}"#,
        ),
    ] {
        assert_eq!(apply_rfc(doc, patch), None, "the RFC accepts {patch}");
        assert_eq!(apply_v4(doc, patch, 0), Ok(json(want)), "{patch}");
    }
}

/// evanphx's messages for what the RFC calls errors, as the API server logs them.
#[test]
fn failures_are_worded_as_evanphx_words_them() {
    let doc = r#"{"a": {"b": [1]}, "s": "x"}"#;
    for (patch, message) in [
        (
            r#"[{"op": "add", "path": "/x/y", "value": 1}]"#,
            r#"add operation does not apply: doc is missing path: "/x/y": missing value"#,
        ),
        (
            r#"[{"op": "remove", "path": "/a/c"}]"#,
            "error in remove for path: '/a/c': Unable to remove nonexistent key: c: missing value",
        ),
        (
            r#"[{"op": "remove", "path": "/a/b/-"}]"#,
            r#"error in remove for path: '/a/b/-': strconv.Atoi: parsing "-": invalid syntax"#,
        ),
        (
            r#"[{"op": "replace", "path": "/a/b/3", "value": 1}]"#,
            "replace operation does not apply: doc is missing key: /a/b/3: missing value",
        ),
        (
            r#"[{"op": "move", "from": "/a/x", "path": "/y"}]"#,
            "error in move for path: 'x': Unable to remove nonexistent key: x: missing value",
        ),
        (
            r#"[{"op": "move", "from": "/a", "path": "/a/b/0"}]"#,
            "move operation does not apply: doc is missing destination path: /a/b/0: missing value",
        ),
        (
            r#"[{"op": "test", "path": "/s/t", "value": 1}]"#,
            "test operation does not apply: is missing path: /s/t: missing value",
        ),
        (
            r#"[{"op": "copy", "from": "/a/b/5", "path": "/c"}]"#,
            "error in copy for from: '/a/b/5': Unable to access invalid index: 5: invalid index referenced",
        ),
        (
            r#"[{"op": "add", "value": 1}]"#,
            "add operation failed to decode path: missing value",
        ),
        (
            r#"[{"op": "replace", "path": 7, "value": 1}]"#,
            "replace operation failed to decode path: json: cannot unmarshal number into Go value of type string",
        ),
        (
            r#"[{"op": "move", "path": "/z"}]"#,
            "move operation failed to decode from: operation, missing from field: missing value",
        ),
        (
            r#"[{"op": "upsert", "path": "/z"}]"#,
            "Unexpected kind: upsert",
        ),
        (r#"[{"path": "/z"}]"#, "Unexpected kind: unknown"),
        (
            r#"[{"op": "replace", "path": "", "value": 1}]"#,
            "replace operation value must be object or array: %!w(<nil>)",
        ),
    ] {
        assert_eq!(apply_v4(doc, patch, 0), Err(message.to_owned()), "{patch}");
    }
}
