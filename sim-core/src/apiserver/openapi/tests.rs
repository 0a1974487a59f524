use super::*;

/// The value at `pointer` (RFC 6901, `~1` for a slash) in the document of `group`.
fn at<'d>(group: &str, pointer: &str) -> &'d Value {
    let version = RESOURCES
        .iter()
        .find(|r| r.group == group)
        .map_or("v1", |r| r.version);
    let doc = document(group, version).expect("a served group-version");
    doc.pointer(pointer)
        .unwrap_or_else(|| panic!("{group}/{version} has no {pointer}"))
}

/// The schema `name` in the document of `group`.
fn schema<'d>(group: &str, name: &str) -> &'d Value {
    at(group, &format!("/components/schemas/{name}"))
}

#[test]
fn kinds_carry_their_group_version_kind_and_fields_their_descriptions() {
    let d = schema("apps", "io.k8s.api.apps.v1.Deployment");
    assert_eq!(
        d["x-kubernetes-group-version-kind"],
        json!([{"group": "apps", "version": "v1", "kind": "Deployment"}])
    );
    assert_eq!(d.get("required"), None, "metadata is optional");
    let strategy = &schema("apps", "io.k8s.api.apps.v1.DeploymentSpec")["properties"]["strategy"];
    assert_eq!(
        strategy["description"],
        "The deployment strategy to use to replace existing pods with new ones."
    );
    assert_eq!(strategy["x-kubernetes-patch-strategy"], "retainKeys");
    assert_eq!(
        strategy["allOf"][0]["$ref"],
        "#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy"
    );
    assert_eq!(
        schema("", "io.k8s.api.core.v1.Pod")["x-kubernetes-group-version-kind"],
        json!([{"group": "", "version": "v1", "kind": "Pod"}])
    );
    assert_eq!(
        schema("apps", "io.k8s.api.autoscaling.v1.Scale")["x-kubernetes-group-version-kind"],
        json!([{"group": "autoscaling", "version": "v1", "kind": "Scale"}])
    );
    assert_eq!(
        schema("apps", "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions")["x-kubernetes-group-version-kind"],
        json!([
            {"group": "", "version": "v1", "kind": "DeleteOptions"},
            {"group": "apps", "version": "v1", "kind": "DeleteOptions"},
        ])
    );
    assert_eq!(
        schema("apps", "io.k8s.api.apps.v1.DeploymentList")["properties"]["items"]["items"]["$ref"],
        "#/components/schemas/io.k8s.api.apps.v1.Deployment"
    );
}

#[test]
fn lists_merge_as_kubernetes_merges_them_and_required_fields_are_kubernetes_own() {
    for group in ["", "apps"] {
        let spec = schema(group, "io.k8s.api.core.v1.PodSpec");
        let containers = &spec["properties"]["containers"];
        assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
        assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
        assert_eq!(containers["x-kubernetes-list-type"], "map");
        assert_eq!(containers["x-kubernetes-list-map-keys"], json!(["name"]));
        assert_eq!(
            containers["items"]["$ref"],
            "#/components/schemas/io.k8s.api.core.v1.Container"
        );
        assert!(
            spec["required"]
                .as_array()
                .is_some_and(|r| r.contains(&json!("containers")))
        );
        let container = schema(group, "io.k8s.api.core.v1.Container");
        assert_eq!(container["required"], json!(["name"]));
    }
    let ports = &schema("", "io.k8s.api.core.v1.ServiceSpec")["properties"]["ports"];
    assert_eq!(
        ports["x-kubernetes-list-map-keys"],
        json!(["port", "protocol"])
    );
    let int_or_string = schema("apps", "io.k8s.apimachinery.pkg.util.intstr.IntOrString");
    assert_eq!(int_or_string["format"], "int-or-string");
    assert_eq!(
        int_or_string["oneOf"],
        json!([{"type": "integer"}, {"type": "string"}])
    );
    assert_eq!(
        schema("", "io.k8s.api.core.v1.LocalObjectReference").get("required"),
        None
    );
}

#[test]
fn every_served_path_is_there_with_the_operations_kubectl_reads() {
    for r in RESOURCES {
        let group = r.group;
        let kind = r.kind.as_str();
        let paths = at(group, "/paths").as_object().expect("paths");
        let prefix = r.prefix();
        let scope = if r.namespaced {
            "/namespaces/{namespace}"
        } else {
            ""
        };
        let collection = format!("{prefix}{scope}/{}", r.plural);
        let object = format!("{collection}/{{name}}");
        let me = json!({"group": group, "version": r.version, "kind": kind});
        assert!(paths.contains_key(&format!("{prefix}/")), "{prefix}/");
        assert_eq!(paths[&collection]["get"]["x-kubernetes-action"], "list");
        if r.verbs.contains(&"create") {
            assert_eq!(
                paths[&collection]["post"]["x-kubernetes-group-version-kind"],
                me
            );
        } else {
            // A read-only kind (the kubelets' Leases) offers no writes.
            assert!(paths[&collection].get("post").is_none(), "{collection}");
        }
        let get = &paths[&object]["get"];
        assert_eq!(get["x-kubernetes-group-version-kind"], me, "{object}");
        let list = format!("{}List", root(r.kind));
        assert_eq!(
            paths[&collection]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
                ["$ref"],
            format!("#/components/schemas/{list}")
        );
        if r.namespaced {
            let all = &paths[&format!("{prefix}/{}", r.plural)]["get"];
            assert_eq!(
                all["operationId"],
                format!("list{}{kind}ForAllNamespaces", Gv::new(group, r.version).id)
            );
        }
        // kubectl validates on the server only if every PATCH of the kind takes
        // `fieldValidation`, and computes a strategic merge patch only if it is offered.
        let mut patches = if r.verbs.contains(&"patch") {
            vec![object.clone()]
        } else {
            Vec::new()
        };
        for s in r.subresources {
            let path = format!("{object}/{}", s.name);
            assert!(paths.contains_key(&path), "{path}");
            if s.name != "proxy" && s.verbs.contains(&"patch") {
                patches.push(path);
            }
        }
        for p in patches {
            let patch = &paths[&p]["patch"];
            let names: Vec<&str> = patch["parameters"]
                .as_array()
                .expect("parameters")
                .iter()
                .filter_map(|q| q["name"].as_str())
                .collect();
            assert_eq!(
                names,
                ["dryRun", "fieldManager", "fieldValidation", "force"]
            );
            assert!(
                patch["requestBody"]["content"]
                    .get("application/strategic-merge-patch+json")
                    .is_some(),
                "{p}"
            );
        }
    }
    let scale = at(
        "apps",
        "/paths/~1apis~1apps~1v1~1namespaces~1{namespace}~1deployments~1{name}~1scale/put",
    );
    assert_eq!(
        scale["operationId"],
        "replaceAppsV1NamespacedDeploymentScale"
    );
    assert_eq!(scale["x-kubernetes-group-version-kind"]["kind"], "Scale");
    let log = at(
        "",
        "/paths/~1api~1v1~1namespaces~1{namespace}~1pods~1{name}~1log/get",
    );
    assert_eq!(log["description"], "read log of the specified Pod");
    let delete = at(
        "",
        "/paths/~1api~1v1~1namespaces~1{namespace}~1endpoints~1{name}/delete",
    );
    assert_eq!(delete["description"], "delete Endpoints");
    let evict = at(
        "",
        "/paths/~1api~1v1~1namespaces~1{namespace}~1pods~1{name}~1eviction/post",
    );
    assert_eq!(evict["operationId"], "createCoreV1NamespacedPodEviction");
    assert_eq!(evict["description"], "create eviction of a Pod");
    assert_eq!(evict["x-kubernetes-group-version-kind"]["kind"], "Eviction");
}

#[test]
fn every_ref_resolves_inside_its_document() {
    for (group, version) in group_versions() {
        let doc = document(group, version).expect("served");
        let mut names = Vec::new();
        refs(doc, &mut names);
        // discovery.k8s.io has one small kind; every other document well over a hundred refs.
        let least = match group {
            "discovery.k8s.io" | "coordination.k8s.io" => 20,
            "policy" => 50,
            _ => 100,
        };
        assert!(names.len() > least, "{group}: {}", names.len());
        for n in names {
            assert!(
                doc["components"]["schemas"].get(&n).is_some(),
                "{group}/{version}: {n}"
            );
        }
    }
    assert_eq!(document("apps", "v2"), None);
    assert_eq!(document("batch", "v2"), None);
}

#[test]
fn the_index_names_each_document_by_a_hash_of_its_content() {
    let index = index();
    let paths = index["paths"].as_object().expect("paths");
    assert_eq!(
        paths.keys().collect::<Vec<_>>(),
        [
            "api/v1",
            "apis/apps/v1",
            "apis/autoscaling/v2",
            "apis/batch/v1",
            "apis/coordination.k8s.io/v1",
            "apis/discovery.k8s.io/v1",
            "apis/networking.k8s.io/v1",
            "apis/policy/v1"
        ]
    );
    for (path, entry) in paths {
        let p = published(path).expect("published");
        assert_eq!(p.json, p.document.to_string());
        assert_eq!(p.hash, format!("{:016X}", fnv64a(p.json.as_bytes())));
        assert_eq!(
            entry["serverRelativeURL"],
            format!("/openapi/v3/{path}?hash={}", p.hash)
        );
    }
    assert!(published("apis/batch/v2").is_none());
    assert_eq!(fnv64a(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv64a(b"a"), 0xaf63_dc4c_8601_ec8c);
}

/// The reference's form of a parameter or a `$ref`: its name.
fn param_name(p: &Value) -> String {
    p.get("name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            p.get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.rsplit('/').next())
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

/// The networking.k8s.io/v1 document against kube-apiserver's (v1.36.0), reduced as
/// `testdata/networking_v1_reference.json` is: the Ingress and IngressClass paths with their
/// operation ids, parameters and response codes, and every schema they reach with its
/// fields' types, `required`, list types and group-version-kind.
#[test]
fn the_networking_document_matches_kubernetes_for_ingresses() {
    let reference: Value =
        serde_json::from_str(include_str!("testdata/networking_v1_reference.json"))
            .expect("reference JSON");
    let doc = document("networking.k8s.io", "v1").expect("networking document");
    let mut ours = serde_json::Map::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if !path.contains("ingress") {
            continue;
        }
        let mut ops = serde_json::Map::new();
        for (method, op) in item.as_object().expect("path item") {
            if method == "parameters" {
                let mut names: Vec<String> = op
                    .as_array()
                    .expect("parameters")
                    .iter()
                    .map(param_name)
                    .collect();
                names.sort();
                ops.insert(method.clone(), json!(names));
                continue;
            }
            let mut params: Vec<String> = op["parameters"]
                .as_array()
                .map(|a| a.iter().map(param_name).collect())
                .unwrap_or_default();
            params.sort();
            let responses: Vec<&String> = op["responses"]
                .as_object()
                .expect("responses")
                .keys()
                .collect();
            ops.insert(
                method.clone(),
                json!({"operationId": op["operationId"], "parameters": params, "responses": responses}),
            );
        }
        ours.insert(path.clone(), Value::Object(ops));
    }
    // The deprecated `watch/` paths are left out in every group kubesim serves (a watch is
    // a list with `watch=true`).
    let want: Vec<(&String, &Value)> = reference["paths"]
        .as_object()
        .expect("reference paths")
        .iter()
        .filter(|(p, _)| !p.contains("/watch/"))
        .collect();
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        want.iter().map(|(p, _)| *p).collect::<Vec<_>>()
    );
    for (path, ops) in want {
        assert_eq!(&ours[path], ops, "{path}");
    }
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for (name, want) in reference["schemas"].as_object().expect("reference schemas") {
        let ours = schemas
            .get(name)
            .unwrap_or_else(|| panic!("{name} missing"));
        let mut props = serde_json::Map::new();
        for (field, p) in ours["properties"].as_object().expect("properties") {
            let mut kept: serde_json::Map<String, Value> = p
                .as_object()
                .expect("property")
                .iter()
                .filter(|(k, _)| k.starts_with("x-kubernetes") || *k == "type")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if let Some(t) = p.get("items").and_then(|i| i.get("type")) {
                kept.insert("itemsType".into(), t.clone());
            }
            props.insert(field.clone(), Value::Object(kept));
        }
        assert_eq!(
            Value::Object(props),
            want["properties"],
            "{name} properties"
        );
        // The same fields, in any order (Kubernetes lists them in Go field order).
        let sorted = |v: Option<&Value>| {
            let mut r: Vec<String> = v
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            r.sort();
            r
        };
        assert_eq!(
            sorted(ours.get("required")),
            sorted(want.get("required")),
            "{name} required"
        );
        assert_eq!(
            ours.get("x-kubernetes-group-version-kind")
                .cloned()
                .unwrap_or(Value::Null),
            want["gvk"],
            "{name} group-version-kind"
        );
    }
}

/// What `/work/shared/openapi-v3/apis__autoscaling__v2_openapi.json` (Kubernetes 1.36's
/// published document) says of the HPA and its lists, which kubectl's explain and apply read.
#[test]
fn the_autoscaling_document_has_the_published_required_fields_and_list_types() {
    let hpa = schema(
        "autoscaling",
        "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
    );
    assert_eq!(hpa["required"], json!(["spec"]));
    let status = schema(
        "autoscaling",
        "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus",
    );
    assert_eq!(
        status["properties"]["conditions"]["x-kubernetes-list-type"],
        "map"
    );
    assert_eq!(
        status["properties"]["conditions"]["x-kubernetes-list-map-keys"],
        json!(["type"])
    );
    assert_eq!(
        status["properties"]["conditions"]["x-kubernetes-patch-strategy"],
        "merge"
    );
    assert_eq!(
        status["properties"]["currentMetrics"]["x-kubernetes-list-type"],
        "atomic"
    );
    let spec = schema(
        "autoscaling",
        "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec",
    );
    assert_eq!(
        spec["properties"]["metrics"]["x-kubernetes-list-type"],
        "atomic"
    );
    let mut required: Vec<&str> = spec["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    required.sort_unstable();
    assert_eq!(required, ["maxReplicas", "scaleTargetRef"]);
}
