//! Cases from apimachinery `fields/selector_test.go` (`TestSelectorParse`,
//! `TestSplitTerms`, `TestSplitTerm`, `TestEscapeValue`), `internalversion/validation`
//! (`TestValidateListOptions`) and apiserver `storage/continue_test.go`.
use super::*;
use k8s_openapi::api::core::v1::{Event, ObjectReference, Pod, PodSpec, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// Parses `query` for `kind`: the options, or the Status code, reason and message.
fn check(query: &str, kind: Kind) -> Result<ListOptions, (u16, &'static str, String)> {
    let pairs: Vec<(&str, &str)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    ListOptions::parse(pairs, kind).map_err(|e| (e.code(), e.reason(), e.to_string()))
}

fn err(query: &str, kind: Kind) -> (u16, &'static str, String) {
    check(query, kind).expect_err(query)
}

#[test]
fn booleans_are_true_unless_zero_or_false() {
    for (v, want) in [
        ("true", true),
        ("1", true),
        ("maybe", true),
        ("", true),
        ("0", false),
        ("false", false),
        ("FALSE", false),
        ("False", false),
    ] {
        let o = check(&format!("watch={v}&allowWatchBookmarks={v}"), Kind::Pod).expect(v);
        assert_eq!((o.watch, o.allow_watch_bookmarks), (want, want), "{v:?}");
    }
    let o = check("", Kind::Pod).expect("empty");
    assert!(!o.watch && o.send_initial_events.is_none());
}

#[test]
fn integers_fail_as_strconv_does() {
    assert_eq!(
        err("timeoutSeconds=x", Kind::Pod),
        (
            400,
            "BadRequest",
            "strconv.ParseInt: parsing \"x\": invalid syntax".into()
        )
    );
    assert_eq!(
        err("limit=1.5", Kind::Pod).2,
        "strconv.ParseInt: parsing \"1.5\": invalid syntax"
    );
    assert_eq!(
        err("limit=", Kind::Pod).2,
        "strconv.ParseInt: parsing \"\": invalid syntax"
    );
    assert_eq!(
        err("limit=99999999999999999999", Kind::Pod).2,
        "strconv.ParseInt: parsing \"99999999999999999999\": value out of range"
    );
    // timeoutSeconds comes first in metav1.ListOptions, then limit, then the selectors.
    assert_eq!(
        err("labelSelector=a+in+(b&limit=x&timeoutSeconds=y", Kind::Pod).2,
        "strconv.ParseInt: parsing \"y\": invalid syntax"
    );
    let o = check("limit=-1&timeoutSeconds=+30", Kind::Pod).expect("negative limit");
    assert_eq!((o.limit, o.timeout_seconds), (-1, Some(30)));
    // Only the first value counts.
    assert_eq!(check("limit=5&limit=x", Kind::Pod).expect("first").limit, 5);
}

#[test]
fn bad_label_selectors_are_the_parsers_messages() {
    assert_eq!(
        err("labelSelector=a in (b", Kind::Pod),
        (
            400,
            "BadRequest",
            "unable to parse requirement: found '', expected: ',' or ')'".into()
        )
    );
    assert_eq!(
        err("labelSelector=x=a,", Kind::Pod).2,
        "found '', expected: identifier after ','"
    );
}

#[test]
fn validation_gives_422_for_list_options() {
    let (code, reason, msg) = err(
        "watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan",
        Kind::Deployment,
    );
    assert_eq!((code, reason), (422, "Invalid"));
    assert_eq!(
        msg,
        "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled"
    );
    assert_eq!(
        err("sendInitialEvents=false", Kind::Pod).2,
        "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list"
    );
    assert_eq!(
        err("resourceVersionMatch=Exact", Kind::Pod).2,
        "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"
    );
    assert_eq!(
        err("resourceVersion=5&resourceVersionMatch=exact", Kind::Pod).2,
        "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Unsupported value: \"exact\": supported values: \"Exact\", \"NotOlderThan\", \"\""
    );
    assert_eq!(
        err("resourceVersion=0&resourceVersionMatch=Exact", Kind::Pod).2,
        "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""
    );
    assert_eq!(
        err("watch=true&resourceVersionMatch=Exact", Kind::Pod).2,
        "ListOptions.meta.k8s.io \"\" is invalid: [resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided, resourceVersionMatch: Unsupported value: \"Exact\": supported values: \"NotOlderThan\"]"
    );
    let ok = check(
        "resourceVersion=5&resourceVersionMatch=NotOlderThan",
        Kind::Pod,
    )
    .expect("valid");
    assert_eq!(
        ok.resource_version_match,
        Some(ResourceVersionMatch::NotOlderThan)
    );
}

#[test]
fn field_labels_are_checked_per_kind_after_validation() {
    assert_eq!(
        err("fieldSelector=metadata.nam=x", Kind::Pod),
        (
            400,
            "BadRequest",
            "field label not supported: metadata.nam".into()
        )
    );
    for (kind, label, ok) in [
        (Kind::Pod, "status.phase", true),
        (Kind::Pod, "spec.hostNetwork", true),
        (Kind::Pod, "status.podIPs", true),
        (Kind::Pod, "spec.host", true),
        (Kind::Pod, "metadata.labels", false),
        (Kind::Node, "spec.unschedulable", true),
        (Kind::Node, "metadata.namespace", false),
        (Kind::Namespace, "status.phase", true),
        (Kind::Namespace, "metadata.namespace", false),
        (Kind::Event, "involvedObject.uid", true),
        (Kind::Event, "reportingComponent", true),
        (Kind::Event, "message", false),
        (Kind::Deployment, "metadata.namespace", true),
        (Kind::Deployment, "spec.replicas", false),
        (Kind::ReplicaSet, "status.replicas", false),
        (Kind::Service, "spec.type", false),
        (Kind::Endpoints, "metadata.name", true),
    ] {
        assert_eq!(
            convert_field_label(kind, label).is_ok(),
            ok,
            "{kind:?} {label}"
        );
    }
    assert_eq!(
        err("fieldSelector=status.replicas=0", Kind::ReplicaSet).2,
        "\"status.replicas\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
    );
    assert_eq!(
        err("fieldSelector=metadata.namespace=x", Kind::Node).2,
        "field label not supported: metadata.namespace"
    );
    // Spaces are part of the label.
    assert_eq!(
        err("fieldSelector=metadata.name = x", Kind::Pod).2,
        "field label not supported: metadata.name "
    );
    // The first label in sorted order is the one reported.
    assert_eq!(
        err("fieldSelector=zz=1,aa=2", Kind::Pod).2,
        "field label not supported: aa"
    );
    // Validation (422) comes before the labels (400).
    assert_eq!(
        err("fieldSelector=nope=1&sendInitialEvents=true", Kind::Pod).0,
        422
    );
    let o = check("fieldSelector=spec.host=n1", Kind::Pod).expect("spec.host");
    assert_eq!(
        o.field_selector.requires_exact_match("spec.nodeName"),
        Some("n1")
    );
}

#[test]
fn field_selector_syntax() {
    let parse = |s: &str| FieldSelector::parse(s).map(|f| f.to_string());
    for (input, want) in [
        ("", ""),
        ("a=b", "a=b"),
        ("a==b", "a=b"),
        ("a!=b", "a!=b"),
        ("b=2,a=1", "a=1,b=2"),
        ("a=b,,c=d", "a=b,c=d"),
        ("a=", "a="),
        ("a=b\\,c", "a=b\\,c"),
        ("a=b\\=c", "a=b\\=c"),
        ("a=b\\\\c", "a=b\\\\c"),
    ] {
        assert_eq!(parse(input).as_deref(), Ok(want), "{input:?}");
    }
    assert_eq!(
        FieldSelector::parse("a=b\\,c").expect("escaped").terms()[0].value,
        "b,c"
    );
    assert_eq!(
        parse("a").unwrap_err().to_string(),
        "invalid selector: 'a'; can't understand 'a'"
    );
    assert_eq!(
        parse("a=b,c").unwrap_err().to_string(),
        "invalid selector: 'a=b,c'; can't understand 'c'"
    );
    assert_eq!(
        parse("a=b=c").unwrap_err().to_string(),
        "invalid field selector: unescaped character in value: 61"
    );
    assert_eq!(
        parse("x!==y").unwrap_err().to_string(),
        "invalid field selector: unescaped character in value: 61"
    );
    assert_eq!(
        parse("a=b\\x").unwrap_err().to_string(),
        "invalid field selector: invalid escape sequence: \\x"
    );
    assert_eq!(
        parse("a=b\\").unwrap_err().to_string(),
        "invalid field selector: invalid escape sequence: \\"
    );
}

fn pod(phase: &str, ip: Option<&str>) -> Object {
    Object::Pod(Pod {
        metadata: ObjectMeta {
            name: Some("p".into()),
            namespace: Some("ns".into()),
            ..Default::default()
        },
        spec: Some(PodSpec {
            node_name: Some("node-1".into()),
            ..Default::default()
        }),
        status: Some(PodStatus {
            phase: Some(phase.into()),
            pod_ip: ip.map(str::to_owned),
            ..Default::default()
        }),
    })
}

#[test]
fn matching_reads_the_kinds_selectable_fields() {
    let sel = |s: &str, kind| {
        FieldSelector::parse(s)
            .expect("parses")
            .convert(kind)
            .expect("supported")
    };
    let running = pod("Running", Some("10.0.0.7"));
    assert!(sel("status.phase=Running", Kind::Pod).matches(&running));
    assert!(!sel("status.phase!=Running", Kind::Pod).matches(&running));
    assert!(sel("spec.host=node-1,metadata.namespace=ns", Kind::Pod).matches(&running));
    assert!(sel("spec.hostNetwork=false", Kind::Pod).matches(&running));
    assert!(sel("status.podIP=10.0.0.7", Kind::Pod).matches(&running));
    // status.podIPs is accepted but never in the set: only "" matches it.
    assert!(!sel("status.podIPs=10.0.0.7", Kind::Pod).matches(&running));
    assert!(sel("status.podIPs=", Kind::Pod).matches(&running));
    assert!(!sel("status.phase=Running", Kind::Pod).matches(&pod("Pending", None)));
    let ev = Object::Event(Event {
        metadata: ObjectMeta {
            name: Some("e".into()),
            namespace: Some("ns".into()),
            ..Default::default()
        },
        involved_object: ObjectReference {
            kind: Some("Deployment".into()),
            name: Some("web".into()),
            uid: Some("u-1".into()),
            ..Default::default()
        },
        type_: Some("Normal".into()),
        ..Default::default()
    });
    let describe =
        "involvedObject.uid=u-1,involvedObject.name=web,involvedObject.kind=Deployment,type=Normal";
    assert!(sel(describe, Kind::Event).matches(&ev));
    assert!(!sel("involvedObject.kind=Pod", Kind::Event).matches(&ev));
}

#[test]
fn resource_versions_by_where_the_read_is_served() {
    let list = |q: &str| check(q, Kind::Pod).expect(q);
    let code = |r: Result<(), ApiError>| r.map_err(|e| (e.code(), e.reason(), e.to_string()));
    // From the watch cache: not a number is a 500 without a reason.
    assert_eq!(
        code(list("resourceVersion=abc").check_list(10)),
        Err((
            500,
            "",
            "resourceVersion: Invalid value: \"abc\": strconv.ParseUint: parsing \"abc\": invalid syntax".into()
        ))
    );
    assert_eq!(
        code(list("resourceVersion=-1").check_list(10))
            .unwrap_err()
            .2,
        "resourceVersion: Invalid value: \"-1\": strconv.ParseUint: parsing \"-1\": invalid syntax"
    );
    assert_eq!(
        code(list("resourceVersion=11").check_list(10)),
        Err((
            504,
            "Timeout",
            "Timeout: Too large resource version: 11, current: 10".into()
        ))
    );
    assert!(list("resourceVersion=0").check_list(10).is_ok());
    assert!(list("resourceVersion=7").check_list(10).is_ok());
    assert!(list("resourceVersion=0&limit=500").check_list(10).is_ok());
    // With a limit (kubectl always sends 500), from etcd: a 400.
    assert_eq!(
        code(list("resourceVersion=abc&limit=500").check_list(10)),
        Err((
            400,
            "BadRequest",
            "invalid resource version: resourceVersion: Invalid value: \"abc\": strconv.ParseUint: parsing \"abc\": invalid syntax".into()
        ))
    );
    assert_eq!(
        code(list("resourceVersion=7&limit=500").check_list(10))
            .unwrap_err()
            .0,
        410
    );
    assert!(list("resourceVersion=10&limit=500").check_list(10).is_ok());
    assert_eq!(
        code(list("resourceVersion=11&resourceVersionMatch=Exact").check_list(10))
            .unwrap_err()
            .0,
        500
    );
    // A watch from a version that is not a number.
    let w = list("watch=1&resourceVersion=abc");
    assert_eq!(w.check_watch().map_err(|e| e.code()), Err(500));
    assert_eq!(list("watch=1&resourceVersion=42").check_watch(), Ok(42));
    // One object.
    assert!(check_get(None, 10).is_ok());
    assert!(check_get(Some(""), 10).is_ok());
    assert_eq!(check_get(Some("x"), 10).map_err(|e| e.code()), Err(500));
    assert_eq!(check_get(Some("11"), 10).map_err(|e| e.code()), Err(504));
}

#[test]
fn watch_timeouts() {
    let t = |q: &str| check(q, Kind::Pod).expect(q).watch_timeout_seconds(1800);
    assert_eq!(t("watch=1"), Some(1800));
    assert_eq!(t("watch=1&timeoutSeconds=0"), Some(1800));
    assert_eq!(t("watch=1&timeoutSeconds=5"), Some(5));
    assert_eq!(t("watch=1&timeoutSeconds=-5"), None);
}

#[test]
fn continue_tokens_decode_as_storage_does() {
    use base64_encode as enc;
    let dec = |t: &str| decode_continue(t).map_err(|e| e.to_string());
    assert_eq!(
        dec(&enc(
            br#"{"v":"meta.k8s.io/v1","rv":5,"start":"ns/p\u0000"}"#
        )),
        Ok(ContinueToken {
            resource_version: 5,
            start_key: "ns/p\0".into()
        })
    );
    assert_eq!(
        dec("abc!"),
        Err("continue key is not valid: illegal base64 data at input byte 3".into())
    );
    assert_eq!(
        dec("abcde"),
        Err("continue key is not valid: illegal base64 data at input byte 4".into())
    );
    assert_eq!(
        dec("foo"),
        Err(
            "continue key is not valid: invalid character '~' looking for beginning of value"
                .into()
        )
    );
    assert_eq!(
        dec(&enc(b"{\"v\":")),
        Err("continue key is not valid: unexpected end of JSON input".into())
    );
    assert_eq!(
        dec(&enc(b"{} x")),
        Err("continue key is not valid: invalid character 'x' after top-level value".into())
    );
    assert_eq!(
        dec(&enc(b"\"s\"")),
        Err("continue key is not valid: json: cannot unmarshal string into Go value of type storage.continueToken".into())
    );
    assert_eq!(
        dec(&enc(br#"{"v":"meta.k8s.io/v1","rv":"5","start":"a"}"#)),
        Err("continue key is not valid: json: cannot unmarshal string into Go struct field continueToken.rv of type int64".into())
    );
    assert_eq!(
        dec(&enc(br#"{"V":"meta.k8s.io/v1","RV":0,"start":"a"}"#)),
        Err("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)".into())
    );
    assert_eq!(
        dec(&enc(br#"{"v":"meta.k8s.io/v1","rv":3}"#)),
        Err("continue key is not valid: encoded start key empty (version meta.k8s.io/v1)".into())
    );
    assert_eq!(
        dec(&enc(br#"{"v":"meta.k8s.io/v1","rv":3,"start":"../x"}"#)),
        Err("continue key is not valid: ../x".into())
    );
    assert_eq!(
        dec(&enc(br#"{"v":"x","rv":3,"start":"a"}"#)),
        Err("continue key is not valid: server does not recognize this encoded version x".into())
    );
    // On a LIST: a 400 for a bad token, 410 for a good one kubesim cannot continue.
    let list = |q: String| check(&q, Kind::Pod).expect("parses");
    let good = enc(br#"{"v":"meta.k8s.io/v1","rv":3,"start":"a"}"#);
    assert_eq!(
        list("continue=abc!".into()).check_list(9).map_err(|e| e.to_string()),
        Err("invalid continue token: continue key is not valid: illegal base64 data at input byte 3".into())
    );
    assert_eq!(
        list(format!("continue={good}&resourceVersion=3"))
            .check_list(9)
            .map_err(|e| e.to_string()),
        Err("specifying resource version is not allowed when using continue".into())
    );
    assert_eq!(
        list(format!("continue={good}"))
            .check_list(9)
            .map_err(|e| e.code()),
        Err(410)
    );
}

/// Base64 with the URL alphabet, unpadded (the tests' token encoder).
fn base64_encode(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let v = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(A[((v >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}
