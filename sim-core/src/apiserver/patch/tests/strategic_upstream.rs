//! apimachinery's strategic merge patch tables, applied by our engine: the application half
//! of `pkg/util/strategicpatch/patch_test.go` (`TestCustomStrategicMergePatch`,
//! `TestStrategicMergePatch`, `TestReplaceWithRawExtension`), with the tables copied as they
//! are into `strategic_data/*.yaml`.
//!
//! Upstream runs each case against its test struct `MergeItem`; [`MergeItemMeta`] answers the
//! same questions from the same tags. Application is checked both ways:
//! `original + twoWay = modified` (or `twoWayResult`) and `current + threeWay = result`.
//!
//! The same tables check the two-way patch we build ([`create_two_way_merge_patch`]): for
//! every case, `CreateTwoWayMergePatch(original, modified)` must be its `twoWay`. Three-way
//! patches (`CreateThreeWayMergePatch`, kubectl apply's) are not built here.
//!
//! Not ported: `TestSortMergeLists` (a test helper's test, though the helper is ported below
//! because the structured tables need it), `TestUnknownField` and the "bad struct"/"nil
//! struct" cases of `TestStrategicMergePatch` (Go reflection). Unknown fields differ on
//! purpose: upstream's struct lookup fails on a field `MergeItem` lacks, ours merges it as a
//! plain map (no case here depends on it).

use serde::Deserialize;
use serde_json::{Map, Value};

use super::super::gofmt::go_v;
use super::super::strategic_merge_patch as apply;
use super::super::{Meta, StrategicError, create_two_way_merge_patch};
use crate::api::strategy::FieldStrategy;

/// apimachinery's test types `MergeItem` and `RetainKeysMergeItem`, and what their fields
/// hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MergeItemMeta {
    MergeItem,
    RetainKeysMergeItem,
    /// `simpleMap`'s strings, the ints of the int lists, `replacingItem`'s raw JSON.
    Other,
}

impl Meta for MergeItemMeta {
    fn child(&self, field: &str) -> MergeItemMeta {
        use MergeItemMeta::*;
        match (self, field) {
            (MergeItem | RetainKeysMergeItem, "mergingList" | "nonMergingList") => MergeItem,
            (MergeItem, "mergeItemPtr" | "retainKeysMergingList") => MergeItem,
            (MergeItem, "retainKeysMap") => RetainKeysMergeItem,
            _ => Other,
        }
    }

    fn strategy(&self, field: &str) -> Option<FieldStrategy> {
        use MergeItemMeta::*;
        let (field, patch_strategy, key) = match (self, field) {
            (MergeItem | RetainKeysMergeItem, "mergingList") => {
                ("mergingList", "merge", Some("name"))
            }
            (MergeItem, "mergeItemPtr") => ("mergeItemPtr", "merge", Some("name")),
            (MergeItem | RetainKeysMergeItem, "mergingIntList") => {
                ("mergingIntList", "merge", None)
            }
            (MergeItem, "replacingItem") => ("replacingItem", "replace", None),
            (MergeItem, "retainKeysMap") => ("retainKeysMap", "retainKeys", None),
            (MergeItem, "retainKeysMergingList") => {
                ("retainKeysMergingList", "merge,retainKeys", Some("name"))
            }
            _ => return None,
        };
        Some(FieldStrategy {
            schema: "mergeItem",
            field,
            patch_strategy,
            merge_key: key,
            list_type: None,
            list_map_keys: &[],
        })
    }
}

/// One case of a table; absent documents are `{}` (structured tables) or `null` (raw ones),
/// as upstream's conversions make them.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Case<T> {
    description: String,
    original: Option<T>,
    two_way: Option<T>,
    modified: Option<T>,
    current: Option<T>,
    three_way: Option<T>,
    result: Option<T>,
    two_way_result: Option<T>,
    expected_error: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Structured {
    test_cases: Vec<Case<Value>>,
}

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).unwrap_or_else(|e| panic!("bad YAML {text:?}: {e}"))
}

/// A document of a structured case, as upstream's `sortJsonOrFail(testObjectToJSONOrFail(..))`
/// makes it: absent is `{}`, merging lists sorted.
fn structured(doc: &Option<Value>) -> Value {
    match doc {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(v) => sort_merge_lists(v, &MergeItemMeta::MergeItem),
    }
}

/// Upstream's `sortMergeListsByNameMap`: merging lists of maps sorted by the merge key's
/// printed value, merging lists of scalars deduplicated and sorted by their printed value
/// (as strings: `10` before `2`), `$retainKeys` and `$deleteFromPrimitiveList` lists sorted.
fn sort_merge_lists(v: &Value, meta: &MergeItemMeta) -> Value {
    let Value::Object(m) = v else {
        return v.clone();
    };
    let mut out = Map::new();
    for (k, v) in m {
        let sorted = if k == "$retainKeys" || k.starts_with("$deleteFromPrimitiveList") {
            match v {
                Value::Array(a) => Value::Array(sort_scalars(a.clone())),
                other => other.clone(),
            }
        } else if k.starts_with("$setElementOrder") || k == "$patch" {
            v.clone()
        } else {
            let child = meta.child(k);
            let rules = meta.strategy(k);
            match v {
                Value::Object(_) => sort_merge_lists(v, &child),
                Value::Array(a) if rules.is_some_and(|r| r.merges()) => {
                    sort_list(a, &child, rules.and_then(|r| r.merge_key).unwrap_or(""))
                }
                other => other.clone(),
            }
        };
        out.insert(k.clone(), sorted);
    }
    Value::Object(out)
}

fn sort_list(items: &[Value], meta: &MergeItemMeta, merge_key: &str) -> Value {
    if !items.iter().any(Value::is_object) {
        let mut unique: Vec<Value> = Vec::new();
        for v in items {
            if !unique.contains(v) {
                unique.push(v.clone());
            }
        }
        return Value::Array(sort_scalars(unique));
    }
    let mut items: Vec<Value> = items.iter().map(|i| sort_merge_lists(i, meta)).collect();
    items.sort_by_key(|i| {
        i.get(merge_key)
            .map(go_v)
            .unwrap_or_else(|| "<nil>".to_owned())
    });
    Value::Array(items)
}

fn sort_scalars(mut items: Vec<Value>) -> Vec<Value> {
    items.sort_by_key(go_v);
    items
}

/// Applies `patch` to `original` and compares with `expected` (a document, or an error whose
/// message contains the text); a failure is described for the report.
fn check(
    name: &str,
    original: &Value,
    patch: &Value,
    expected: Result<&Value, &str>,
) -> Option<String> {
    let got = apply(original, patch, &MergeItemMeta::MergeItem);
    let ok = match (&got, expected) {
        (Ok(got), Ok(want)) => got == want,
        (Err(e), Err(want)) => e.to_string().contains(want),
        _ => false,
    };
    if ok {
        return None;
    }
    let got = match got {
        Ok(v) => v.to_string(),
        Err(e) => format!("error {e:?}"),
    };
    let want = match expected {
        Ok(v) => v.to_string(),
        Err(e) => format!("error containing {e:?}"),
    };
    Some(format!(
        "{name}\n  original: {original}\n  patch:    {patch}\n  want:     {want}\n  got:      {got}"
    ))
}

fn assert_no_failures(table: &str, failures: Vec<String>, checked: usize) {
    assert!(
        failures.is_empty(),
        "{} of {checked} cases of {table} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The structured tables: documents as YAML values, merging lists sorted by key.
fn run_structured(table: &str, text: &str, three_way: bool) {
    let cases: Structured = serde_yaml::from_str(text).unwrap_or_else(|e| panic!("{table}: {e}"));
    let (mut failures, mut checked) = (Vec::new(), 0);
    for c in &cases.test_cases {
        let expected = structured(if c.two_way_result.is_some() {
            &c.two_way_result
        } else {
            &c.modified
        });
        checked += 1;
        failures.extend(check(
            &format!("{}/TwoWay", c.description),
            &structured(&c.original),
            &structured(&c.two_way),
            Ok(&expected),
        ));
        // A conflict case without a result only checks that building the patch fails.
        if three_way && c.result.is_some() {
            checked += 1;
            failures.extend(check(
                &format!("{}/ThreeWay", c.description),
                &structured(&c.current),
                &structured(&c.three_way),
                Ok(&structured(&c.result)),
            ));
        }
    }
    assert_no_failures(table, failures, checked);
}

/// The raw tables: documents as YAML text, as they are.
fn run_raw(table: &str, text: &str, three_way: bool) {
    let cases: Vec<Case<String>> =
        serde_yaml::from_str(text).unwrap_or_else(|e| panic!("{table}: {e}"));
    let doc = |d: &Option<String>| yaml(d.as_deref().unwrap_or(""));
    let (mut failures, mut checked) = (Vec::new(), 0);
    for c in &cases {
        let expected = doc(if c.two_way_result.is_some() {
            &c.two_way_result
        } else {
            &c.modified
        });
        let expected = match &c.expected_error {
            Some(e) => Err(e.as_str()),
            None => Ok(&expected),
        };
        // Upstream's raw documents go through `json.Unmarshal` into a map, where `null`
        // leaves it nil, and a nil original is merged as `{}`.
        let original = match doc(&c.original) {
            Value::Null => Value::Object(Map::new()),
            v => v,
        };
        checked += 1;
        failures.extend(check(
            &format!("{}/TwoWay", c.description),
            &original,
            &doc(&c.two_way),
            expected,
        ));
        if three_way && c.result.is_some() {
            checked += 1;
            failures.extend(check(
                &format!("{}/ThreeWay", c.description),
                &doc(&c.current),
                &doc(&c.three_way),
                Ok(&doc(&c.result)),
            ));
        }
    }
    assert_no_failures(table, failures, checked);
}

/// `TestCustomStrategicMergePatch`: `customStrategicMergePatchTestCaseData`.
#[test]
fn custom_strategic_merge_patch() {
    run_structured(
        "customStrategicMergePatchTestCaseData",
        include_str!("strategic_data/custom.yaml"),
        false,
    );
}

/// `TestCustomStrategicMergePatch`: `customStrategicMergePatchRawTestCases` ($setElementOrder
/// and $deleteFromPrimitiveList edge cases, and the errors for a mismatched order and a
/// missing merge key).
#[test]
fn custom_strategic_merge_patch_raw() {
    run_raw(
        "customStrategicMergePatchRawTestCases",
        include_str!("strategic_data/custom_raw.yaml"),
        false,
    );
}

/// `TestStrategicMergePatch`: `createStrategicMergePatchTestCaseData`.
#[test]
fn strategic_merge_patch() {
    run_structured(
        "createStrategicMergePatchTestCaseData",
        include_str!("strategic_data/create.yaml"),
        true,
    );
}

/// `TestStrategicMergePatch`: `strategicMergePatchRawTestCases` (merging and non-merging lists,
/// int lists, `$retainKeys`, `$setElementOrder`, `$deleteFromPrimitiveList`, `$patch`).
#[test]
fn strategic_merge_patch_raw() {
    run_raw(
        "strategicMergePatchRawTestCases",
        include_str!("strategic_data/raw.yaml"),
        true,
    );
}

/// `TestReplaceWithRawExtension`: `replaceRawExtensionPatchTestCases`.
#[test]
fn replace_with_raw_extension() {
    run_raw(
        "replaceRawExtensionPatchTestCases",
        include_str!("strategic_data/raw_extension.yaml"),
        true,
    );
}

/// `TestStrategicMergePatch`'s "bad original"/"bad patch" cases, in the form the engine takes
/// documents (parsed JSON: a body that does not parse is refused before it, see `apply.rs`).
#[test]
fn bad_documents() {
    let meta = MergeItemMeta::MergeItem;
    assert_eq!(
        apply(
            &Value::String("x".into()),
            &Value::Object(Map::new()),
            &meta
        ),
        Err(StrategicError::BadJsonDoc)
    );
    assert_eq!(
        apply(&Value::Object(Map::new()), &Value::Bool(true), &meta),
        Err(StrategicError::BadJsonDoc)
    );
}

/// Compares the two-way patch built from `original` and `modified` with `want`.
fn check_creation(name: &str, original: &Value, modified: &Value, want: &Value) -> Option<String> {
    match create_two_way_merge_patch(original, modified, &MergeItemMeta::MergeItem) {
        Ok(got) if got == *want => None,
        got => Some(format!(
            "{name}\n  original: {original}\n  modified: {modified}\n  want:     {want}\n  got:      {got:?}"
        )),
    }
}

/// `TestStrategicMergePatch`'s `testTwoWayPatch`: the patch `CreateTwoWayMergePatch` builds
/// for each structured case is its `twoWay` (the inputs sorted as upstream sorts them).
#[test]
fn create_two_way_merge_patch_structured() {
    let cases: Structured = serde_yaml::from_str(include_str!("strategic_data/create.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Vec::new();
    for c in &cases.test_cases {
        failures.extend(check_creation(
            &c.description,
            &structured(&c.original),
            &structured(&c.modified),
            &structured(&c.two_way),
        ));
    }
    assert_no_failures(
        "createStrategicMergePatchTestCaseData",
        failures,
        cases.test_cases.len(),
    );
}

/// `testTwoWayPatchForRawTestCase` over the raw tables.
#[test]
fn create_two_way_merge_patch_raw() {
    for (table, text) in [
        (
            "strategicMergePatchRawTestCases",
            include_str!("strategic_data/raw.yaml"),
        ),
        (
            "replaceRawExtensionPatchTestCases",
            include_str!("strategic_data/raw_extension.yaml"),
        ),
    ] {
        let cases: Vec<Case<String>> =
            serde_yaml::from_str(text).unwrap_or_else(|e| panic!("{table}: {e}"));
        let doc = |d: &Option<String>| yaml(d.as_deref().unwrap_or(""));
        let mut failures = Vec::new();
        for c in &cases {
            failures.extend(check_creation(
                &c.description,
                &doc(&c.original),
                &doc(&c.modified),
                &doc(&c.two_way),
            ));
        }
        assert_no_failures(table, failures, cases.len());
    }
}

/// `TestNumberConversion`: large numbers survive building and applying a patch.
#[test]
fn number_conversion() {
    for (old, new, patch, result) in [
        ("{}", "{}", "{}", "{}"),
        (
            r#"{"int32":1000000}"#,
            r#"{"int32":1000000,"name":"newname"}"#,
            r#"{"name":"newname"}"#,
            r#"{"int32":1000000,"name":"newname"}"#,
        ),
        (
            r#"{"int32":2147483647}"#,
            r#"{"int32":2147483647,"name":"newname"}"#,
            r#"{"name":"newname"}"#,
            r#"{"int32":2147483647,"name":"newname"}"#,
        ),
        (
            r#"{"int64":9223372036854775807}"#,
            r#"{"int64":9223372036854775807,"name":"newname"}"#,
            r#"{"name":"newname"}"#,
            r#"{"int64":9223372036854775807,"name":"newname"}"#,
        ),
        (
            r#"{"float32":3.4028234663852886e+38}"#,
            r#"{"float32":3.4028234663852886e+38,"name":"newname"}"#,
            r#"{"name":"newname"}"#,
            r#"{"float32":3.4028234663852886e+38,"name":"newname"}"#,
        ),
        (
            r#"{"float64":1.7976931348623157e+308}"#,
            r#"{"float64":1.7976931348623157e+308,"name":"newname"}"#,
            r#"{"name":"newname"}"#,
            r#"{"float64":1.7976931348623157e+308,"name":"newname"}"#,
        ),
    ] {
        let json = |s: &str| -> Value { serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}")) };
        let meta = MergeItemMeta::Other;
        let built = create_two_way_merge_patch(&json(old), &json(new), &meta);
        assert_eq!(built, Ok(json(patch)), "{new}");
        assert_eq!(
            apply(&json(old), &json(patch), &meta),
            Ok(json(result)),
            "{new}"
        );
    }
}
