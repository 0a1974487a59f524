//! Patches of served kinds as kubectl and users send them, through [`apply_patch`] and the
//! schema walk: merge keys come from the strategy table, not from field names.

use serde_json::{Value, json};

use super::super::{
    PatchType, SchemaMeta, apply_patch, apply_patch_with, create_two_way_merge_patch,
};
use crate::store::Kind;

/// Applies `patch` of `patch_type` to `original` and compares with `want`.
#[track_caller]
fn check(kind: Kind, patch_type: PatchType, original: Value, patch: Value, want: Value) {
    let body = patch.to_string();
    match apply_patch(kind, patch_type, &original, body.as_bytes()) {
        Ok(got) => assert_eq!(got, want, "patch {body}"),
        Err(e) => panic!("patch {body} failed: {e:?}"),
    }
}

fn deployment(containers: Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}
            },
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": containers}
            }
        }
    })
}

fn with_containers(mut d: Value, containers: Value) -> Value {
    d["spec"]["template"]["spec"]["containers"] = containers;
    d
}

/// `kubectl set image deployment/web api=api:v2`: the two-way patch kubectl builds changes
/// the image and nothing else of the container.
#[test]
fn kubectl_set_image() {
    let original = deployment(json!([{
        "name": "api",
        "image": "api:v1",
        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
        "env": [{"name": "MODE", "value": "prod"}],
        "resources": {"limits": {"cpu": "500m"}}
    }]));
    let want = with_containers(
        original.clone(),
        json!([{
            "name": "api",
            "image": "api:v2",
            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
            "env": [{"name": "MODE", "value": "prod"}],
            "resources": {"limits": {"cpu": "500m"}}
        }]),
    );
    check(
        Kind::Deployment,
        PatchType::Strategic,
        original,
        json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "api"}],
            "containers": [{"image": "api:v2", "name": "api"}]
        }}}}),
        want,
    );
}

/// `kubectl set image` on a Deployment with a sidecar: `$setElementOrder` keeps the order.
#[test]
fn kubectl_set_image_keeps_the_sidecar_in_place() {
    let original = deployment(json!([
        {"name": "api", "image": "api:v1"},
        {"name": "proxy", "image": "envoy:1"}
    ]));
    let want = with_containers(
        original.clone(),
        json!([
            {"name": "api", "image": "api:v1"},
            {"name": "proxy", "image": "envoy:2"}
        ]),
    );
    check(
        Kind::Deployment,
        PatchType::Strategic,
        original,
        json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "api"}, {"name": "proxy"}],
            "containers": [{"image": "envoy:2", "name": "proxy"}]
        }}}}),
        want,
    );
}

/// `kubectl apply` of a manifest that switches the strategy to Recreate: the three-way patch
/// carries `$retainKeys` (DeploymentSpec.strategy is `patchStrategy: retainKeys`), so the
/// RollingUpdate parameters go with the old type.
#[test]
fn apply_switches_the_strategy_with_retain_keys() {
    let original = deployment(json!([{"name": "api", "image": "api:v1"}]));
    let mut want = original.clone();
    want["spec"]["strategy"] = json!({"type": "Recreate"});
    check(
        Kind::Deployment,
        PatchType::Strategic,
        original.clone(),
        json!({"spec": {"strategy": {
            "$retainKeys": ["type"],
            "type": "Recreate",
            "rollingUpdate": null
        }}}),
        want.clone(),
    );
    // Without `rollingUpdate: null`, `$retainKeys` alone clears it.
    check(
        Kind::Deployment,
        PatchType::Strategic,
        original,
        json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
        want,
    );
}

/// Container ports merge by `containerPort`, a Service's by `port`: the same field name with
/// two merge keys, which only the schema walk tells apart.
#[test]
fn ports_merge_by_their_own_keys() {
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{
            "name": "web", "image": "nginx",
            "ports": [{"containerPort": 80, "name": "http", "protocol": "TCP"}]
        }]}
    });
    let mut want = pod.clone();
    want["spec"]["containers"][0]["ports"] =
        json!([{"containerPort": 80, "name": "web", "protocol": "TCP"}]);
    check(
        Kind::Pod,
        PatchType::Strategic,
        pod.clone(),
        json!({"spec": {"containers": [{"name": "web", "ports": [{"containerPort": 80, "name": "web"}]}]}}),
        want,
    );
    // A new port goes first, as in Go when the patch carries no `$setElementOrder`.
    let mut want = pod.clone();
    want["spec"]["containers"][0]["ports"] = json!([
        {"containerPort": 8443, "name": "https"},
        {"containerPort": 80, "name": "http", "protocol": "TCP"}
    ]);
    check(
        Kind::Pod,
        PatchType::Strategic,
        pod,
        json!({"spec": {"containers": [{"name": "web", "ports": [{"containerPort": 8443, "name": "https"}]}]}}),
        want,
    );

    let service = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"app": "web"},
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]
        }
    });
    let mut want = service.clone();
    want["spec"]["ports"] =
        json!([{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 9090}]);
    check(
        Kind::Service,
        PatchType::Strategic,
        service,
        json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}]}}),
        want,
    );
}

/// `env` merges by name; `$patch: delete` removes one variable; the patch's items keep the
/// patch's order.
#[test]
fn env_merge_with_delete() {
    let original = deployment(json!([{
        "name": "api", "image": "api:v1",
        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    }]));
    let want = with_containers(
        original.clone(),
        json!([{
            "name": "api", "image": "api:v1",
            "env": [{"name": "B", "value": "20"}, {"name": "C", "value": "3"}]
        }]),
    );
    check(
        Kind::Deployment,
        PatchType::Strategic,
        original,
        json!({"spec": {"template": {"spec": {"containers": [{
            "name": "api",
            "env": [
                {"name": "A", "$patch": "delete"},
                {"name": "B", "value": "20"},
                {"name": "C", "value": "3"}
            ]
        }]}}}}),
        want,
    );
}

/// `metadata.finalizers` (`patchStrategy: merge`, a set) merges as a union, and
/// `$deleteFromPrimitiveList/finalizers` removes from it.
#[test]
fn finalizers_union_and_delete() {
    let ns = |finalizers: Value| {
        json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "team", "finalizers": finalizers}
        })
    };
    check(
        Kind::Namespace,
        PatchType::Strategic,
        ns(json!(["a.example/x", "b.example/y"])),
        json!({"metadata": {"finalizers": ["b.example/y", "c.example/z"]}}),
        ns(json!(["a.example/x", "b.example/y", "c.example/z"])),
    );
    check(
        Kind::Namespace,
        PatchType::Strategic,
        ns(json!(["a.example/x", "b.example/y"])),
        json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a.example/x"]}}),
        ns(json!(["b.example/y"])),
    );
    // A merge patch replaces the list.
    check(
        Kind::Namespace,
        PatchType::Merge,
        ns(json!(["a.example/x", "b.example/y"])),
        json!({"metadata": {"finalizers": ["c.example/z"]}}),
        ns(json!(["c.example/z"])),
    );
}

/// A value that looks like a command line is a string like any other.
#[test]
fn image_with_spaces_is_kept_verbatim() {
    let original = deployment(json!([{"name": "web", "image": "nginx:1"}]));
    let want = with_containers(
        original.clone(),
        json!([{"name": "web", "image": "nginx:9 -n default"}]),
    );
    let patch = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "web", "image": "nginx:9 -n default"}
    ]}}}});
    for patch_type in [PatchType::Strategic, PatchType::Merge] {
        check(
            Kind::Deployment,
            patch_type,
            original.clone(),
            patch.clone(),
            want.clone(),
        );
    }
    check(
        Kind::Deployment,
        PatchType::Json,
        original,
        json!([{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "nginx:9 -n default"}]),
        want,
    );
}

/// Maps merge key by key and `null` deletes; atomic lists (tolerations) are replaced; a
/// `$patch: replace` map replaces, `$patch: delete` empties.
#[test]
fn maps_atomic_lists_and_map_directives() {
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "labels": {"app": "web", "tier": "front"}},
        "spec": {
            "containers": [{"name": "web", "image": "nginx"}],
            "nodeSelector": {"disk": "ssd", "zone": "a"},
            "tolerations": [{"key": "a", "operator": "Exists"}],
            "affinity": {"nodeAffinity": {}}
        }
    });
    let mut want = pod.clone();
    want["metadata"]["labels"] = json!({"app": "web", "version": "2"});
    want["spec"]["nodeSelector"] = json!({"zone": "b"});
    want["spec"]["tolerations"] = json!([{"key": "b", "operator": "Exists"}]);
    // `$patch: delete` leaves an empty map (handleDirectiveInMergeMap), not no map.
    want["spec"]["affinity"] = json!({});
    check(
        Kind::Pod,
        PatchType::Strategic,
        pod,
        json!({
            "metadata": {"labels": {"tier": null, "version": "2"}},
            "spec": {
                "nodeSelector": {"$patch": "replace", "zone": "b"},
                "tolerations": [{"key": "b", "operator": "Exists"}],
                "affinity": {"$patch": "delete"}
            }
        }),
        want,
    );
}

/// Volumes are `merge,retainKeys`: `kubectl apply` moving a volume from emptyDir to a
/// ConfigMap sends `$retainKeys` in the item, which drops the old source.
#[test]
fn volume_source_switch_with_retain_keys() {
    let original = deployment(json!([{"name": "api", "image": "api:v1"}]));
    let mut original = original;
    original["spec"]["template"]["spec"]["volumes"] =
        json!([{"name": "data", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}]);
    let mut want = original.clone();
    want["spec"]["template"]["spec"]["volumes"] = json!([
        {"name": "data", "configMap": {"name": "cfg"}},
        {"name": "tmp", "emptyDir": {}}
    ]);
    check(
        Kind::Deployment,
        PatchType::Strategic,
        original,
        json!({"spec": {"template": {"spec": {
            "$setElementOrder/volumes": [{"name": "data"}, {"name": "tmp"}],
            "volumes": [{"$retainKeys": ["configMap", "name"], "configMap": {"name": "cfg"}, "name": "data"}]
        }}}}),
        want,
    );
}

/// `kubectl scale` and `kubectl label` send merge patches; JSON patches reach into lists.
#[test]
fn merge_and_json_patches_of_a_deployment() {
    let original = deployment(json!([{"name": "api", "image": "api:v1"}]));
    let mut want = original.clone();
    want["spec"]["replicas"] = json!(5);
    want["metadata"]["labels"] = json!({"app": "web", "team": "a"});
    check(
        Kind::Deployment,
        PatchType::Merge,
        original.clone(),
        json!({"spec": {"replicas": 5}, "metadata": {"labels": {"team": "a"}}}),
        want.clone(),
    );
    check(
        Kind::Deployment,
        PatchType::Json,
        original,
        json!([
            {"op": "test", "path": "/spec/replicas", "value": 3},
            {"op": "replace", "path": "/spec/replicas", "value": 5},
            // v4: `replace` of a missing label adds it.
            {"op": "replace", "path": "/metadata/labels/team", "value": "a"}
        ]),
        want,
    );
}

/// Fields the schema does not have merge as plain maps; decoding the result is the caller's.
#[test]
fn unknown_fields_merge_plainly() {
    let original = deployment(json!([{"name": "api", "image": "api:v1"}]));
    let mut want = original.clone();
    want["spec"]["extra"] = json!({"a": 1, "list": [2]});
    let mut first = original.clone();
    first["spec"]["extra"] = json!({"a": 1, "list": [1]});
    check(
        Kind::Deployment,
        PatchType::Strategic,
        first,
        json!({"spec": {"extra": {"list": [2]}}}),
        want,
    );
}

/// `kubectl scale` patches the scale subresource, an `autoscaling/v1 Scale`.
#[test]
fn scale_subresource() {
    let scale = json!({
        "apiVersion": "autoscaling/v1", "kind": "Scale",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 3},
        "status": {"replicas": 3, "selector": "app=web"}
    });
    let mut want = scale.clone();
    want["spec"]["replicas"] = json!(5);
    let meta = SchemaMeta::named("io.k8s.api.autoscaling.v1.Scale");
    assert_eq!(
        meta,
        Some(SchemaMeta::Schema("io.k8s.api.autoscaling.v1.Scale"))
    );
    for t in [PatchType::Merge, PatchType::Strategic] {
        let got = meta.map(|m| apply_patch_with(&m, t, &scale, br#"{"spec":{"replicas":5}}"#));
        assert_eq!(got, Some(Ok(want.clone())), "{t:?}");
    }
}

/// The two-way patch of a Deployment is what kubectl sends: `kubectl set image`'s, and the
/// strategy switch with `$retainKeys`; applied, it gives the modified object back.
#[test]
fn two_way_patches_are_kubectls() {
    let meta = SchemaMeta::of(Kind::Deployment);
    let original = deployment(json!([{"name": "api", "image": "api:v1"}]));
    let modified = with_containers(
        original.clone(),
        json!([{"name": "api", "image": "api:v2"}]),
    );
    let patch = json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "api"}],
        "containers": [{"image": "api:v2", "name": "api"}]
    }}}});
    assert_eq!(
        create_two_way_merge_patch(&original, &modified, &meta),
        Ok(patch.clone())
    );
    check(
        Kind::Deployment,
        PatchType::Strategic,
        original.clone(),
        patch,
        modified,
    );

    let mut modified = original.clone();
    modified["spec"]["strategy"] = json!({"type": "Recreate"});
    let patch = json!({"spec": {"strategy": {
        "$retainKeys": ["type"],
        "rollingUpdate": null,
        "type": "Recreate"
    }}});
    assert_eq!(
        create_two_way_merge_patch(&original, &modified, &meta),
        Ok(patch.clone())
    );
    check(
        Kind::Deployment,
        PatchType::Strategic,
        original,
        patch,
        modified,
    );
}
