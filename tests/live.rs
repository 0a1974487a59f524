//! `kubesim scenario check --kubeconfig`: a step's checks and verify script against a cluster
//! kubesim does not run, here another `kubesim serve` reached only through its kubeconfig,
//! as kind or GKE would be.

use std::path::Path;
use std::process::Command;

use crate::kubectl_real::Cluster;

const SCENARIO: &str = r#"title: Scale the shop
summary: A graded exercise
setup:
  cluster: {nodes: 1}
  namespace: shop
steps:
  - title: Three replicas
    text: Scale `web` in `shop` to three.
    checks:
      - name: web has three replicas
        cel: deployment('shop', 'web').spec.replicas == 3
      - name: never fewer than one available
        cel: minAvailable('shop', 'web') >= 1
"#;

fn check(c: &Cluster, file: &Path, step: &str) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .args(["scenario", "check"])
        .arg(file)
        .args(["--step", step, "--kubeconfig"])
        .arg(c.dir.join("kubeconfig"))
        .env("PATH", crate::kubectl_real::path_with_kubectl())
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn a_step_is_checked_against_a_cluster_reached_by_its_kubeconfig() {
    let c = Cluster::start();
    let dir = std::env::temp_dir().join(format!("kubesim-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("shop.yaml");
    std::fs::write(&file, SCENARIO).unwrap();

    let (ok, out) = check(&c, &file, "1");
    assert!(!ok, "{out}");
    assert!(out.contains("✗ web has three replicas"), "{out}");
    assert!(out.contains("`web`"), "the sandbox's sentence: {out}");

    c.ok(&["create", "namespace", "shop"]);
    c.ok(&[
        "-n",
        "shop",
        "create",
        "deployment",
        "web",
        "--image=nginx:1.27",
        "--replicas=3",
    ]);
    // Not available yet: the history check sees the present only, and says so.
    let (_, out) = check(&c, &file, "1");
    assert!(out.contains("✓ web has three replicas"), "{out}");
    c.ok(&[
        "-n",
        "shop",
        "rollout",
        "status",
        "deployment/web",
        "--timeout=60s",
    ]);
    let (ok, out) = check(&c, &file, "1");
    assert!(ok, "{out}");
    assert!(out.contains("✓ web has three replicas"), "{out}");
    assert!(
        out.contains("sees the cluster as it is now"),
        "history is said: {out}"
    );

    let (ok, out) = check(&c, &file, "2");
    assert!(!ok);
    assert!(out.contains("there is no step 2"), "{out}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_killercoda_steps_verify_script_runs_with_the_given_kubeconfig() {
    let c = Cluster::start();
    let folder =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/killercoda/deploy-and-scale");
    let (ok, out) = check(&c, &folder, "1");
    assert!(!ok, "{out}");
    assert!(out.contains("✗ verify script"), "{out}");
    c.ok(&["create", "deployment", "web", "--image=nginx:1.27"]);
    let (ok, out) = check(&c, &folder, "1");
    assert!(ok, "{out}");
    assert!(out.contains("✓ verify script"), "{out}");
}
