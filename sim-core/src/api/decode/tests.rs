use super::*;

const COURSE: &str = crate::api::fixtures::COURSE;

fn check_err(yaml: &str) -> DecodeError {
    parse_manifests(yaml).expect_err("should fail to decode")
}

#[test]
fn course_manifest_decodes() {
    let docs = parse_manifests(COURSE).expect("decodes");
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].line, 1);
    let Object::Deployment(d) = &docs[0].object else {
        panic!("not a Deployment")
    };
    let spec = d.spec.as_ref().expect("spec");
    assert_eq!(spec.replicas, Some(10));
    assert_eq!(docs[0].object.name(), "credit-scoring-api");
    assert_eq!(docs[0].object.namespace(), Some("live-coding"));
}

#[test]
fn multi_document_file() {
    let y = format!(
        "# leading comment\n---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: live-coding}}\n---\n---   # empty\n{COURSE}---\napiVersion: v1\nkind: Service\nmetadata: {{name: svc, namespace: live-coding}}\nspec:\n  type: NodePort\n  ports: [{{port: 80, targetPort: 8080}}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec: {{containers: [{{name: c, image: nginx}}]}}\n...\n"
    );
    let docs = parse_manifests(&y).expect("decodes");
    let kinds: Vec<(&str, usize)> = docs.iter().map(|d| (d.object.kind(), d.line)).collect();
    assert_eq!(
        kinds,
        [
            ("Namespace", 3),
            ("Deployment", 8),
            ("Service", 38),
            ("Pod", 45)
        ]
    );
}

#[test]
fn list_expands() {
    let y = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: a}}\n- {apiVersion: apps/v1, kind: ReplicaSet, metadata: {name: b}}\n";
    let docs = parse_manifests(y).expect("decodes");
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[1].object.kind(), "ReplicaSet");
    assert!(parse_manifests("").expect("empty is fine").is_empty());
    assert!(
        parse_manifests("# nothing\n---\n")
            .expect("empty is fine")
            .is_empty()
    );
}

#[test]
fn unknown_fields_are_all_reported() {
    let y = COURSE
        .replace("replicas: 10", "replcas: 10")
        .replace("image: registry", "imagee: registry");
    let err = check_err(&y);
    assert_eq!(
        err.to_string(),
        "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.replcas\", unknown field \"spec.template.spec.containers[0].imagee\""
    );
    assert_eq!(err.line(), Some(1));
}

#[test]
fn wrong_type_names_the_field() {
    let err = check_err(&COURSE.replace("replicas: 10", "replicas: ten"));
    assert_eq!(
        err.to_string(),
        "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
    );
    let DecodeError::Malformed { field, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(field.as_deref(), Some("spec.replicas"));

    let err = check_err(&COURSE.replace("containerPort: 8080", "containerPort: http"));
    assert_eq!(
        err.to_string(),
        "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field ContainerPort.spec.template.spec.containers.ports.containerPort of type int32"
    );
    let err = check_err(&COURSE.replace(
        "labels: {phase: live-coding, app: rest-api}\nspec",
        "labels: {phase: [a]}\nspec",
    ));
    assert_eq!(
        err.to_string(),
        "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type string"
    );
    let err = check_err(&COURSE.replace("replicas: 10", "replicas: 1.5"));
    assert!(err.to_string().ends_with("cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32"), "{err}");
    let err = check_err(&COURSE.replace("      containers:", "      containers: 3\n      x:"));
    assert!(
        err.to_string().contains(
            "Go struct field PodSpec.spec.template.spec.containers of type []v1.Container"
        ),
        "{err}"
    );
}

#[test]
fn bad_quantity_fails_decoding() {
    let y = "{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, image: i, resources: {requests: {cpu: abc}}}]}}";
    assert_eq!(
        check_err(y).to_string(),
        "Pod in version \"v1\" cannot be handled as a Pod: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    );
    let ok = "{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, image: i, resources: {requests: {cpu: 1, memory: 128Mi}}}]}}";
    assert!(parse_manifests(ok).is_ok());
}

#[test]
fn missing_type_info() {
    let err = check_err("metadata: {name: x}\n");
    assert_eq!(
        err.to_string(),
        "error validating data: [apiVersion not set, kind not set]; if you choose to ignore these errors, turn validation off with --validate=false"
    );
    let err = check_err("apiVersion: v1\nmetadata: {name: x}\n").with_source("x.yaml");
    assert_eq!(
        err.to_string(),
        "error validating \"x.yaml\": error validating data: kind not set; if you choose to ignore these errors, turn validation off with --validate=false"
    );
}

#[test]
fn unknown_kind() {
    let err = check_err(&COURSE.replace("kind: Deployment", "kind: Deploymnt"))
        .with_source("deploy.yaml");
    assert_eq!(
        err.to_string(),
        "resource mapping not found for name: \"credit-scoring-api\" namespace: \"live-coding\" from \"deploy.yaml\": no matches for kind \"Deploymnt\" in version \"apps/v1\"\nensure CRDs are installed first"
    );
    let err = check_err(&COURSE.replace("apps/v1", "apps/v1beta1"));
    assert!(
        err.to_string()
            .contains("no matches for kind \"Deployment\" in version \"apps/v1beta1\"")
    );
    assert!(matches!(
        check_err("{apiVersion: v1, kind: Deployment}"),
        DecodeError::NoKindMatch { .. }
    ));
}

#[test]
fn yaml_syntax_error_has_line_and_column() {
    let y = format!(
        "{COURSE}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n   bad: indent: here\n"
    );
    let err = check_err(&y).with_source("x.yaml");
    let DecodeError::Yaml {
        line,
        column,
        message,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*line, Some(35));
    assert!(column.is_some());
    assert_eq!(message, "mapping values are not allowed in this context");
    assert_eq!(
        err.to_string(),
        "error parsing x.yaml: error converting YAML to JSON: yaml: line 35: mapping values are not allowed in this context"
    );
    let err = check_err("--- {a: 1}\n");
    assert_eq!(err.line(), Some(1));
}

#[test]
fn yaml_1_1_scalars_where_the_schema_wants_them() {
    let y = "{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, image: i, stdin: yes, tty: off, volumeMounts: [{name: s, mountPath: /s, readOnly: yes}]}], volumes: [{name: s, secret: {secretName: s, defaultMode: 0644}}]}}";
    let obj = parse_manifests(y).expect("decodes").remove(0).object;
    let v = obj.to_value();
    assert_eq!(v["spec"]["volumes"][0]["secret"]["defaultMode"], 420);
    assert_eq!(v["spec"]["containers"][0]["stdin"], true);
    assert_eq!(v["spec"]["containers"][0]["tty"], false);
    assert_eq!(
        v["spec"]["containers"][0]["volumeMounts"][0]["readOnly"],
        true
    );
    // Anything else in an integer field is still a type error.
    assert!(parse_manifests(&y.replace("0644", "0x1Z")).is_err());
}

#[test]
fn a_json_body_is_not_coerced() {
    let mut body: Value = serde_json::from_str(
        r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x"},
            "spec":{"replicas":"10","selector":{"matchLabels":{"a":"b"}},
            "template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}"#,
    )
    .expect("json");
    let err = decode_value(body.clone()).expect_err("a string is not an int32");
    assert_eq!(
        err.to_string(),
        "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
    );
    assert!(matches!(&err, DecodeError::Malformed { field: Some(f), .. } if f == "spec.replicas"));
    body["spec"]["replicas"] = serde_json::json!(true);
    assert!(
        decode_value(body.clone())
            .expect_err("bool")
            .to_string()
            .ends_with("cannot unmarshal bool into Go struct field DeploymentSpec.spec.replicas of type int32")
    );
    body["spec"]["template"]["spec"]["containers"][0]["stdin"] = serde_json::json!("yes");
    body["spec"]["replicas"] = serde_json::json!(10);
    assert!(
        decode_value(body)
            .expect_err("no YAML 1.1 reading of JSON strings")
            .to_string()
            .ends_with("cannot unmarshal string into Go struct field Container.spec.template.spec.containers.stdin of type bool")
    );
}

#[test]
fn yaml_is_read_as_kubectl_reads_it() {
    let replicas = |r: &str| {
        parse_manifests(&COURSE.replace("replicas: 10", &format!("replicas: {r}")))
            .map(|d| d[0].object.to_value()["spec"]["replicas"].clone())
            .map_err(|e| e.to_string())
    };
    assert_eq!(replicas("10"), Ok(serde_json::json!(10)));
    assert_eq!(replicas("1_0"), Ok(serde_json::json!(10)));
    assert_eq!(replicas("0x0A"), Ok(serde_json::json!(10)));
    assert_eq!(replicas("012"), Ok(serde_json::json!(10)));
    assert_eq!(replicas("+10"), Ok(serde_json::json!(10)));
    // A whole float is written as an integer by json.Marshal.
    assert_eq!(replicas("10.0"), Ok(serde_json::json!(10)));
    // `09` is not octal; YAML 1.1 reads it as the float 9.
    assert_eq!(replicas("09"), Ok(serde_json::json!(9)));
    let refused = "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32";
    assert_eq!(replicas("\"10\""), Err(refused.to_owned()));
    assert_eq!(replicas("'10'"), Err(refused.to_owned()));
    assert_eq!(replicas("!!str 10"), Err(refused.to_owned()));
    assert!(replicas("yes").is_err_and(|e| e.ends_with(
        "cannot unmarshal bool into Go struct field DeploymentSpec.spec.replicas of type int32"
    )));

    // A label value YAML 1.1 reads as a boolean is refused, as on a real cluster.
    let label = |v: &str| {
        parse_manifests(&format!(
            "{{apiVersion: v1, kind: Pod, metadata: {{name: p, labels: {{enabled: {v}}}}}}}"
        ))
        .map(|d| d[0].object.to_value()["metadata"]["labels"]["enabled"].clone())
        .map_err(|e| e.to_string())
    };
    assert_eq!(
        label("yes"),
        Err("Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal bool into Go struct field ObjectMeta.metadata.labels of type string".into())
    );
    assert_eq!(label("'yes'"), Ok(serde_json::json!("yes")));
    assert_eq!(label("\"on\""), Ok(serde_json::json!("on")));
    assert_eq!(label("yesterday"), Ok(serde_json::json!("yesterday")));
    assert_eq!(label("2024-01-01"), Ok(serde_json::json!("2024-01-01")));
    assert_eq!(label("1.2.3"), Ok(serde_json::json!("1.2.3")));

    // Keys are strings (a YAML 1.1 boolean key becomes "true"); merge keys apply.
    let y = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: &base\n    app: web\n    yes: x\n  annotations:\n    <<: *base\n    app: mine\n";
    let v = parse_manifests(y).expect("decodes")[0].object.to_value();
    assert_eq!(
        v["metadata"]["labels"],
        serde_json::json!({"app": "web", "true": "x"})
    );
    assert_eq!(
        v["metadata"]["annotations"],
        serde_json::json!({"app": "mine", "true": "x"})
    );
    // Block and escaped scalars are strings.
    let y = "{apiVersion: v1, kind: Pod, metadata: {name: p, annotations: {a: \"y\\u0065s\", b: \"10\"}}}";
    let v = parse_manifests(y).expect("decodes")[0].object.to_value();
    assert_eq!(
        v["metadata"]["annotations"],
        serde_json::json!({"a": "yes", "b": "10"})
    );
    let y =
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    a: |-\n      yes\n";
    let v = parse_manifests(y).expect("decodes")[0].object.to_value();
    assert_eq!(v["metadata"]["annotations"]["a"], "yes");
}

#[test]
fn to_yaml_quotes_what_yaml_1_1_would_misread() {
    let v = serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "labels": {"on": "yes", "n": "1_000", "o": "0644", "t": "true", "plain": "web"}},
    });
    let text = to_yaml(&v);
    assert!(text.contains("\"on\": \"yes\""), "{text}");
    assert!(text.contains("plain: web"), "{text}");
    let again = parse_manifests(&text).expect("reads back")[0]
        .object
        .to_value();
    assert_eq!(again["metadata"], v["metadata"]);
}

#[test]
fn not_an_object() {
    let err = check_err("just a string\n");
    assert!(
        matches!(
            err,
            DecodeError::NotAnObject {
                found: "string",
                line: Some(1),
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn yaml_round_trip() {
    let obj = parse_manifests(COURSE).expect("decodes").remove(0).object;
    let again = parse_manifests(&to_yaml(&obj.to_value()))
        .expect("decodes")
        .remove(0)
        .object;
    assert_eq!(obj, again);
}
