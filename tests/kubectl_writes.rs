//! The API server's writes as the real kubectl 1.37.1 and the official Python client meet
//! them: dry runs that write nothing, `kubectl diff`, and errors worded and coded as a real
//! kube-apiserver answers them (each case was a wrong answer before the typed API server).

use super::kubectl_real::{Cluster, WEB};

const NS: [&str; 2] = ["-n", "live-coding"];

/// What a student would check after a dry run: the Deployment's replicas, image and
/// revisions, and how many actions the run recorded.
fn state(c: &Cluster) -> (String, String, usize) {
    let d = c.ok(&[
        "get",
        "deploy",
        "credit-scoring-api",
        "-n",
        "live-coding",
        "-o",
        "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image} {.metadata.annotations.deployment\\.kubernetes\\.io/revision}",
    ]);
    let rs = c.ok(&["get", "rs", "-n", "live-coding", "-o", "name"]);
    let run = c.ok(&["get", "--raw", "/export"]);
    (
        d,
        rs,
        run.matches("\n- ").count() + run.matches("\n  - ").count(),
    )
}

#[test]
fn server_dry_runs_of_every_write_change_nothing() {
    let c = Cluster::start();
    let dep = "deployment/credit-scoring-api";
    let before = state(&c);
    let p = c.ok(&[
        "scale",
        dep,
        "--replicas=7",
        "--dry-run=server",
        "-n",
        "live-coding",
    ]);
    assert_eq!(
        p,
        "deployment.apps/credit-scoring-api scaled (server dry run)\n"
    );
    let p = c.ok(&[
        "set",
        "image",
        dep,
        "api=registry.local/credit-scoring-api:v2",
        "--dry-run=server",
        "-n",
        "live-coding",
    ]);
    assert_eq!(
        p,
        "deployment.apps/credit-scoring-api image updated (server dry run)\n"
    );
    let p = c.ok(&[
        "patch",
        dep,
        "-n",
        "live-coding",
        "--dry-run=server",
        "-p",
        r#"{"spec":{"replicas":3}}"#,
    ]);
    // kubectl's `patch` prints no dry-run suffix (its printer is set up before the flag).
    assert!(
        p.starts_with("deployment.apps/credit-scoring-api patched"),
        "{p}"
    );
    let web = c.write("web.yaml", WEB);
    assert_eq!(
        c.ok(&["apply", "-f", &web, "--dry-run=server"]),
        "deployment.apps/web created (server dry run)\n"
    );
    assert_eq!(
        c.ok(&["create", "-f", &web, "--dry-run=server"]),
        "deployment.apps/web created (server dry run)\n"
    );
    let p = c.ok(&["delete", dep, "--dry-run=server", "-n", "live-coding"]);
    assert_eq!(
        p,
        "deployment.apps \"credit-scoring-api\" deleted from live-coding namespace (server dry run)\n"
    );
    assert_eq!(state(&c), before, "a server dry run changed the sandbox");
    let gone = c.kubectl(&["get", "deploy", "web", "-n", "live-coding"]);
    assert!(!gone.ok, "the dry-run create made the Deployment");
}

#[test]
fn rollout_undo_dry_run_makes_no_revision_and_the_real_undo_is_a_new_one() {
    let c = Cluster::start();
    let dep = "deployment/credit-scoring-api";
    c.ok(&[
        "set",
        "image",
        dep,
        "api=registry.local/credit-scoring-api:v2",
        "-n",
        "live-coding",
    ]);
    let before = state(&c);
    let p = c.ok(&[
        "rollout",
        "undo",
        dep,
        "--dry-run=server",
        "-n",
        "live-coding",
    ]);
    assert_eq!(
        p,
        "deployment.apps/credit-scoring-api rolled back (server dry run)\n"
    );
    assert_eq!(state(&c), before);
    c.ok(&["rollout", "undo", dep, "-n", "live-coding"]);
    let history = c.ok(&["rollout", "history", dep, "-n", "live-coding"]);
    assert!(history.contains("\n3 "), "{history}");
    assert!(!history.contains("\n1 "), "revision 1 became 3:\n{history}");
}

#[test]
fn kubectl_diff_shows_the_servers_merge_and_writes_nothing() {
    let c = Cluster::start();
    let web = c.write("web.yaml", WEB);
    c.ok(&["apply", "-f", &web]);
    let same = c.kubectl(&["diff", "-f", &web]);
    assert!(
        same.ok && same.stdout.is_empty(),
        "an unchanged manifest has no diff (exit 0):\n{}{}",
        same.stdout,
        same.stderr
    );
    let changed = c.write(
        "web3.yaml",
        &WEB.replace("replicas: 2", "replicas: 3")
            .replace("web:v1", "web:v2"),
    );
    let before = state(&c);
    let diff = c.kubectl(&["diff", "-f", &changed]);
    assert!(!diff.ok, "a changed manifest exits 1:\n{}", diff.stderr);
    assert!(diff.stderr.is_empty(), "{}", diff.stderr);
    for line in [
        "-  replicas: 2",
        "+  replicas: 3",
        "-      - image: registry.local/web:v1",
        "+      - image: registry.local/web:v2",
        "-  generation: 1",
        "+  generation: 2",
    ] {
        assert!(
            diff.stdout.contains(line),
            "{line:?} missing:\n{}",
            diff.stdout
        );
    }
    for noise in ["creationTimestamp", "resourceVersion", "uid:"] {
        assert!(
            !diff
                .stdout
                .lines()
                .any(|l| (l.starts_with('-') || l.starts_with('+')) && l.contains(noise)),
            "{noise} changed in the diff:\n{}",
            diff.stdout
        );
    }
    assert_eq!(state(&c), before, "kubectl diff changed the sandbox");
    let replicas = c.ok(&[
        "get",
        "deploy",
        "web",
        "-n",
        "live-coding",
        "-o",
        "jsonpath={.spec.replicas}",
    ]);
    assert_eq!(replicas, "2");
}

#[test]
fn patches_are_validated_as_the_api_server_validates_them() {
    let c = Cluster::start();
    let web = c.write("web.yaml", WEB);
    c.ok(&["apply", "-f", &web]);
    // A strategic merge patch of replicas is an update, not `kubectl scale`.
    let p = c.kubectl(&[
        "patch",
        "deploy",
        "web",
        "-n",
        "live-coding",
        "-p",
        r#"{"spec":{"replicas":-1}}"#,
    ]);
    assert!(!p.ok);
    assert_eq!(
        p.stderr.trim(),
        "The Deployment \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"
    );
    // A changed selector is immutable: 422 in one line.
    let moved = c.write("moved.yaml", &WEB.replace("{app: web}", "{app: web2}"));
    let p = c.kubectl(&["apply", "-f", &moved]);
    assert!(!p.ok);
    let err = p.stderr.trim();
    assert!(
        err.starts_with("The Deployment \"web\" is invalid: spec.selector: Invalid value: ")
            && err.ends_with("field is immutable")
            && !err.contains('\n'),
        "{err}"
    );
    // A value is a value: never read as arguments of a command.
    let p = c.kubectl(&[
        "patch",
        "deploy",
        "web",
        "-n",
        "live-coding",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:9 -n default"}]}}}}"#,
    ]);
    assert!(p.ok, "{}", p.stderr);
    let image = c.ok(&[
        "get",
        "deploy",
        "web",
        "-n",
        "live-coding",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    assert_eq!(image, "nginx:9 -n default");
    let in_default = c.ok(&["get", "deploy", "-n", "default", "-o", "name"]);
    assert_eq!(in_default, "", "a patch reached namespace default");
    // A merge patch naming an old resourceVersion conflicts.
    let p = c.kubectl(&[
        "patch",
        "deploy",
        "web",
        "-n",
        "live-coding",
        "--type",
        "merge",
        "-p",
        r#"{"metadata":{"resourceVersion":"1"},"spec":{"replicas":5}}"#,
    ]);
    assert!(!p.ok);
    assert!(
        p.stderr.contains("Error from server (Conflict)")
            && p.stderr.contains("the object has been modified"),
        "{}",
        p.stderr
    );
    let _ = NS;
}

#[test]
fn the_python_clients_patch_stores_the_image_it_sent() {
    let c = Cluster::start();
    let script = c.write(
        "client.py",
        r#"import sys
from kubernetes import client, config
config.load_kube_config(config_file=sys.argv[1])
apps = client.AppsV1Api()
body = {"spec": {"template": {"spec": {"containers": [{"name": "api", "image": "nginx:9 -n default"}]}}}}
d = apps.patch_namespaced_deployment("credit-scoring-api", "live-coding", body)
print("image", d.spec.template.spec.containers[0].image)
try:
    apps.patch_namespaced_deployment("credit-scoring-api", "live-coding", {"spec": {"replicas": -1}})
except client.exceptions.ApiException as e:
    print("error", e.status, e.reason)
d = apps.patch_namespaced_deployment("credit-scoring-api", "live-coding", {"spec": {"replicas": 2}}, dry_run="All")
print("dry", d.spec.replicas, apps.read_namespaced_deployment("credit-scoring-api", "live-coding").spec.replicas)
print("default", len(apps.list_namespaced_deployment("default").items))
"#,
    );
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg(c.dir.join("kubeconfig"))
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("image nginx:9 -n default\n"), "{stdout}");
    assert!(
        stdout.contains("error 422 Unprocessable Entity\n"),
        "{stdout}"
    );
    assert!(stdout.contains("dry 2 10\n"), "{stdout}");
    assert!(stdout.contains("default 0\n"), "{stdout}");
}

#[test]
fn a_run_written_through_every_verb_exports_and_replays_byte_for_byte() {
    let c = Cluster::start();
    let web = c.write("web.yaml", WEB);
    c.ok(&["create", "-f", &web]);
    c.ok(&[
        "apply",
        "-f",
        &c.write("web2.yaml", &WEB.replace("web:v1", "web:v2")),
    ]);
    c.ok(&["scale", "deploy/web", "--replicas=3", "-n", "live-coding"]);
    c.ok(&[
        "patch",
        "deploy",
        "web",
        "-n",
        "live-coding",
        "--type",
        "json",
        "-p",
        r#"[{"op":"add","path":"/metadata/labels","value":{"tier":"api"}}]"#,
    ]);
    c.ok(&[
        "patch",
        "deploy",
        "web",
        "-n",
        "live-coding",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"minReadySeconds":2}}"#,
    ]);
    c.ok(&["rollout", "undo", "deploy/web", "-n", "live-coding"]);
    c.ok(&["apply", "--server-side", "-f", &c.write("svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: live-coding}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n")]);
    c.ok(&["delete", "svc", "web", "-n", "live-coding"]);
    let body = c.ok(&["get", "--raw", "/export"]);
    assert!(body.matches("- api:").count() >= 8, "{body}");
    let replayed = web_ui::sandbox::Sandbox::open(&body).unwrap();
    let again = replayed.export();
    let strip = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(
        strip(&again),
        strip(&body),
        "the replayed run exports differently"
    );
    let d = replayed
        .sim
        .get_object(sim_core::store::Kind::Deployment, "live-coding", "web")
        .unwrap()
        .to_value();
    assert_eq!(d["spec"]["replicas"], 3);
    assert_eq!(d["metadata"]["labels"]["tier"], "api");
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.local/web:v1"
    );
}

#[test]
fn apply_switches_a_deployment_to_recreate_as_a_real_server_does() {
    let c = Cluster::start();
    let web = c.write("web.yaml", WEB);
    c.ok(&["apply", "-f", &web]);
    // The live strategy is the defaulted RollingUpdate; kubectl's patch carries `$retainKeys`
    // for the union, which drops `rollingUpdate`.
    let recreate = c.write(
        "recreate.yaml",
        &WEB.replace(
            "spec:\n  replicas: 2\n",
            "spec:\n  replicas: 2\n  strategy:\n    type: Recreate\n",
        ),
    );
    let diff = c.kubectl(&["diff", "-f", &recreate]);
    assert!(
        !diff.ok && diff.stderr.is_empty(),
        "{}{}",
        diff.stdout,
        diff.stderr
    );
    assert!(
        diff.stdout.contains("+    type: Recreate"),
        "{}",
        diff.stdout
    );
    assert_eq!(
        c.ok(&["apply", "-f", &recreate]),
        "deployment.apps/web configured\n"
    );
    let strategy = c.ok(&[
        "get",
        "deploy",
        "web",
        "-n",
        "live-coding",
        "-o",
        "jsonpath={.spec.strategy}",
    ]);
    assert_eq!(strategy, r#"{"type":"Recreate"}"#);
}

#[test]
fn api_resources_lists_every_kind_of_the_registry() {
    let c = Cluster::start();
    let out = c.ok(&["api-resources"]);
    for r in sim_core::api::resource::RESOURCES {
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(r.plural))
            .unwrap_or_else(|| panic!("{} missing:\n{out}", r.plural));
        assert!(line.contains(&r.api_version()), "{line}");
        assert!(line.ends_with(r.kind.as_str()), "{line}");
        for s in r.short_names {
            assert!(line.contains(s), "{line}");
        }
    }
    let scale = c.ok(&[
        "get",
        "--raw",
        "/apis/apps/v1/namespaces/live-coding/deployments/credit-scoring-api/scale",
    ]);
    assert!(scale.contains("\"kind\":\"Scale\""), "{scale}");
}

#[test]
fn field_validation_refuses_warns_or_ignores_unknown_fields() {
    let c = Cluster::start();
    let typo = c.write("typo.yaml", &WEB.replace("replicas: 2", "replcas: 2"));
    let strict = c.kubectl(&["apply", "-f", &typo]);
    assert!(!strict.ok);
    assert!(
        strict.stderr.contains("unknown field \"spec.replcas\""),
        "{}",
        strict.stderr
    );
    let warn = c.kubectl(&["create", "--validate=warn", "-f", &typo]);
    assert!(warn.ok, "{}", warn.stderr);
    assert!(
        warn.stderr
            .contains("Warning: unknown field \"spec.replcas\""),
        "{}",
        warn.stderr
    );
    c.ok(&[
        "delete",
        "deploy",
        "web",
        "-n",
        "live-coding",
        "--wait=false",
    ]);
    let ignore = c.kubectl(&["create", "--validate=false", "-f", &typo]);
    assert!(ignore.ok, "{}", ignore.stderr);
    assert!(!ignore.stderr.contains("Warning"), "{}", ignore.stderr);
}
