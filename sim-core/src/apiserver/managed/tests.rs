//! Ownership, conflicts, force, removal and list keys, after structured-merge-diff's
//! `merge/*_test.go` scenarios, over Deployments.

use serde_json::{Value, json};

use super::*;
use crate::time::SimTime;

fn dep(replicas: i64, image: &str, sidecar: bool) -> Value {
    let mut containers = vec![json!({"name": "api", "image": image})];
    if sidecar {
        containers.push(json!({"name": "log", "image": "busybox"}));
    }
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "d", "labels": {"app": "web"}},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": containers}}},
    })
}

fn applier(manager: &str, force: bool) -> Applier<'_> {
    Applier {
        kind: Kind::Deployment,
        manager,
        api_version: "apps/v1",
        force,
        now: SimTime::ZERO,
    }
}

fn updater<'a>(manager: &'a str, subresource: Option<&'a str>) -> Updater<'a> {
    Updater {
        kind: Kind::Deployment,
        manager,
        api_version: "apps/v1",
        subresource,
        now: SimTime::ZERO,
    }
}

/// Applies `config` onto `live`: the managers after it and the object it leaves.
fn check_apply(
    m: &ManagedFields,
    manager: &str,
    force: bool,
    config: &Value,
    live: Option<&Value>,
) -> Result<(ManagedFields, Value), ApplyConflict> {
    let mut merged = match live {
        Some(l) => merge(Kind::Deployment, l, config),
        None => config.clone(),
    };
    let out = m.apply(&applier(manager, force), config, live, &mut merged)?;
    Ok((out, merged))
}

fn owned_by(m: &ManagedFields, manager: &str) -> Vec<String> {
    m.entries
        .iter()
        .filter(|e| e.manager == manager)
        .flat_map(|e| e.fields.iter().map(|p| display(p)))
        .collect()
}

#[test]
fn an_applied_configuration_owns_its_leaves_and_keyed_items() {
    let set = applied_fields(Kind::Deployment, &dep(3, "nginx", false));
    let shown: Vec<String> = set.iter().map(|p| display(p)).collect();
    assert_eq!(
        shown,
        [
            ".metadata.labels.app",
            ".spec.replicas",
            ".spec.template.spec.containers[name=\"api\"]",
            ".spec.template.spec.containers[name=\"api\"].image",
            ".spec.template.spec.containers[name=\"api\"].name",
        ]
    );
    assert_eq!(
        fields_v1(&set),
        json!({
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
                "k:{\"name\":\"api\"}": {".": {}, "f:image": {}, "f:name": {}},
            }}}},
        })
    );
    assert_eq!(from_fields_v1(&fields_v1(&set)), Some(set));
}

#[test]
fn container_ports_are_keyed_by_port_and_protocol_with_its_default() {
    let mut d = dep(1, "nginx", false);
    d["spec"]["template"]["spec"]["containers"][0]["ports"] = json!([
        {"containerPort": 53, "protocol": "UDP"},
        {"containerPort": 53},
    ]);
    d["spec"]["selector"] = json!({"matchLabels": {"app": "web"}});
    let set = applied_fields(Kind::Deployment, &d);
    let shown: Vec<String> = set.iter().map(|p| display(p)).collect();
    for want in [
        ".spec.template.spec.containers[name=\"api\"].ports[containerPort=53,protocol=\"TCP\"]",
        ".spec.template.spec.containers[name=\"api\"].ports[containerPort=53,protocol=\"UDP\"].protocol",
        // A label selector is atomic: one field.
        ".spec.selector",
    ] {
        assert!(shown.iter().any(|s| s == want), "{want} in {shown:#?}");
    }
    let v1 = fields_v1(&set).to_string();
    assert!(
        v1.contains(r#""k:{\"containerPort\":53,\"protocol\":\"UDP\"}""#),
        "{v1}"
    );
    // Both items survive a merge: they are two items, not one.
    let mut one = dep(1, "nginx", false);
    one["spec"]["template"]["spec"]["containers"][0]["ports"] =
        json!([{"containerPort": 53, "protocol": "UDP"}]);
    let mut two = dep(1, "nginx", false);
    two["spec"]["template"]["spec"]["containers"][0]["ports"] = json!([{"containerPort": 53}]);
    let merged = merge(Kind::Deployment, &one, &two);
    assert_eq!(
        merged["spec"]["template"]["spec"]["containers"][0]["ports"],
        json!([{"containerPort": 53, "protocol": "UDP"}, {"containerPort": 53}])
    );
}

#[test]
fn another_managers_field_conflicts_unless_forced_or_unchanged() {
    let v1 = dep(3, "nginx", false);
    let (m, live) = check_apply(&ManagedFields::default(), "kubectl", false, &v1, None).unwrap();
    // kubectl scale takes .spec.replicas.
    let scaled = dep(5, "nginx", false);
    let mut m = m;
    m.update(&updater("kubectl", Some("scale")), Some(&live), &scaled);
    assert_eq!(owned_by(&m, "kubectl").len(), 5, "{m:?}");
    let e = check_apply(&m, "kubectl", false, &v1, Some(&scaled)).unwrap_err();
    assert_eq!(
        e.message(),
        "Apply failed with 1 conflict: conflict with \"kubectl\" with subresource \"scale\" using apps/v1: .spec.replicas"
    );
    assert_eq!(
        e.causes(),
        [json!({
            "reason": "FieldManagerConflict",
            "message": "conflict with \"kubectl\" with subresource \"scale\" using apps/v1",
            "field": ".spec.replicas",
        })]
    );
    // Applying the value the field has is no conflict: the field is shared.
    let (shared, _) = check_apply(&m, "kubectl", false, &scaled, Some(&scaled)).unwrap();
    assert_eq!(shared.entries.len(), 2);
    // Forced, the field changes hands and the scaler, owning nothing, is gone.
    let (forced, merged) = check_apply(&m, "kubectl", true, &v1, Some(&scaled)).unwrap();
    assert_eq!(merged["spec"]["replicas"], 3);
    assert_eq!(forced.entries.len(), 1);
    assert_eq!(forced.entries[0].operation, Operation::Apply);
}

#[test]
fn two_appliers_conflict_with_one_cause_per_field() {
    let (m, live) = check_apply(
        &ManagedFields::default(),
        "ci",
        false,
        &dep(3, "a", false),
        None,
    )
    .unwrap();
    let e = check_apply(&m, "dev", false, &dep(4, "b", false), Some(&live)).unwrap_err();
    assert_eq!(
        e.message(),
        "Apply failed with 2 conflicts: conflicts with \"ci\":\n- .spec.replicas\n- .spec.template.spec.containers[name=\"api\"].image"
    );
    assert_eq!(e.causes().len(), 2);
}

#[test]
fn a_field_no_longer_applied_is_removed_unless_someone_else_owns_it() {
    let with = dep(3, "nginx", true);
    let (m, live) = check_apply(&ManagedFields::default(), "kubectl", false, &with, None).unwrap();
    // The sidecar is dropped from the applied file: it goes, with its fields.
    let without = dep(3, "nginx", false);
    let (mut m, live) = check_apply(&m, "kubectl", false, &without, Some(&live)).unwrap();
    assert_eq!(live, without);
    // A label another manager added stays when the applier never had it.
    let mut labelled = without.clone();
    labelled["metadata"]["labels"]["team"] = json!("ml");
    m.update(&updater("kubectl-label", None), Some(&live), &labelled);
    let (m, live) = check_apply(&m, "kubectl", false, &without, Some(&labelled)).unwrap();
    assert_eq!(live["metadata"]["labels"]["team"], "ml");
    assert_eq!(owned_by(&m, "kubectl-label"), [".metadata.labels.team"]);
    // A label both applied and the applier drops stays: the other applier still owns it.
    let (m, _) = check_apply(&m, "other", false, &labelled, Some(&live)).unwrap();
    let mut dropped = without.clone();
    dropped["metadata"]["labels"] = json!({});
    let (_, after) = check_apply(&m, "kubectl", false, &dropped, Some(&live)).unwrap();
    assert_eq!(after["metadata"]["labels"]["app"], "web");
}

#[test]
fn an_update_owns_what_it_changed_and_takes_it_from_others() {
    let mut m = ManagedFields::default();
    let created = dep(1, "a", false);
    m.update(&updater("kubectl-create", None), None, &created);
    let v1 = fields_v1(&m.entries[0].fields);
    // A map the write added is a member too (`f:labels: {.: {}}`).
    assert_eq!(v1["f:metadata"]["f:labels"], json!({".": {}, "f:app": {}}));
    let edited = dep(1, "b", false);
    m.update(&updater("kubectl-edit", None), Some(&created), &edited);
    assert_eq!(
        owned_by(&m, "kubectl-edit"),
        [".spec.template.spec.containers[name=\"api\"].image"]
    );
    assert!(
        !owned_by(&m, "kubectl-create")
            .iter()
            .any(|p| p.ends_with("image"))
    );
    // A status write owns status fields only.
    let mut with_status = edited.clone();
    with_status["status"] = json!({"replicas": 1});
    with_status["spec"]["replicas"] = json!(9);
    m.update(&updater("ctl", Some("status")), Some(&edited), &with_status);
    assert_eq!(owned_by(&m, "ctl"), [".status.replicas"]);
}
