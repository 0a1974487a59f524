//! Server-side apply's field management and the status subresource as the real kubectl 1.37.1
//! meets them: two appliers conflicting, `--force-conflicts`, `--show-managed-fields`, a
//! client-side apply's fields, and `kubectl patch --subresource=status`.

use super::kubectl_real::{Cluster, WEB};

fn get(c: &Cluster, path: &str) -> String {
    c.ok(&[
        "get",
        "deploy",
        "web",
        "-n",
        "live-coding",
        "-o",
        &format!("jsonpath={{{path}}}"),
    ])
}

#[test]
fn two_server_side_appliers_conflict_and_force_moves_the_field() {
    let c = Cluster::start();
    let ci = c.write("ci.yaml", WEB);
    c.ok(&["apply", "--server-side", "--field-manager=ci", "-f", &ci]);
    let dev = c.write("dev.yaml", &WEB.replace("replicas: 2", "replicas: 3"));
    let p = c.kubectl(&["apply", "--server-side", "--field-manager=dev", "-f", &dev]);
    assert!(!p.ok);
    assert!(
        p.stderr.starts_with(
            "error: Apply failed with 1 conflict: conflict with \"ci\": .spec.replicas\n"
        ),
        "{}",
        p.stderr
    );
    assert_eq!(get(&c, ".spec.replicas"), "2", "a conflict writes nothing");
    c.ok(&[
        "apply",
        "--server-side",
        "--field-manager=dev",
        "--force-conflicts",
        "-f",
        &dev,
    ]);
    assert_eq!(get(&c, ".spec.replicas"), "3");
    let yaml = c.ok(&[
        "get",
        "deploy",
        "web",
        "-n",
        "live-coding",
        "-o",
        "yaml",
        "--show-managed-fields",
    ]);
    // Both appliers share the image; only dev owns the replicas now.
    let entry = |m: &str| {
        let start = yaml
            .find(&format!("manager: {m}\n"))
            .unwrap_or_else(|| panic!("{m} in {yaml}"));
        let before = &yaml[..start];
        let from = before.rfind("  - apiVersion").unwrap_or(0);
        yaml[from..start].to_string()
    };
    assert!(entry("dev").contains("f:replicas: {}"), "{yaml}");
    assert!(!entry("ci").contains("f:replicas"), "{yaml}");
    assert!(entry("ci").contains("k:{\"name\":\"web\"}:"), "{yaml}");
    // Without the flag, kubectl hides them.
    let plain = c.ok(&["get", "deploy", "web", "-n", "live-coding", "-o", "yaml"]);
    assert!(!plain.contains("managedFields"), "{plain}");
}

#[test]
fn a_client_side_applied_field_conflicts_with_another_server_side_manager() {
    let c = Cluster::start();
    let file = c.write("web.yaml", WEB);
    c.ok(&["apply", "-f", &file]);
    let other = c.write("other.yaml", &WEB.replace("replicas: 2", "replicas: 5"));
    let p = c.kubectl(&[
        "apply",
        "--server-side",
        "--field-manager=other",
        "-f",
        &other,
    ]);
    assert!(!p.ok);
    assert!(
        p.stderr
            .contains("conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"),
        "{}",
        p.stderr
    );
    assert_eq!(get(&c, ".spec.replicas"), "2");
}

#[test]
fn kubectl_patches_the_status_subresource_and_the_controller_keeps_syncing() {
    let c = Cluster::start();
    c.ok(&["apply", "-f", &c.write("web.yaml", WEB)]);
    let out = c.ok(&[
        "patch",
        "deploy",
        "web",
        "-n",
        "live-coding",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"spec":{"replicas":9},"status":{"conditions":[{"type":"Audited","status":"True","reason":"Checked"}]}}"#,
    ]);
    assert_eq!(out, "deployment.apps/web patched\n");
    assert_eq!(
        get(&c, ".status.conditions[?(@.type==\"Audited\")].reason"),
        "Checked",
        "the controller keeps a condition it does not manage"
    );
    assert_eq!(
        get(&c, ".spec.replicas"),
        "2",
        "a status write ignores the spec"
    );
    assert_eq!(get(&c, ".metadata.generation"), "1");
    let p = c.kubectl(&[
        "patch",
        "deploy",
        "web",
        "-n",
        "live-coding",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"replicas":-1}}"#,
    ]);
    assert!(
        p.stderr
            .contains("status.replicas: Invalid value: -1: must be greater than or equal to 0"),
        "{}",
        p.stderr
    );
    // Discovery lists the verbs.
    let apps = c.ok(&["get", "--raw", "/apis/apps/v1"]);
    assert!(
        apps.contains(r#""name":"deployments/status""#)
            && apps.contains(r#""verbs":["get","patch","update"]"#),
        "{apps}"
    );
}
