//! ConfigMaps and Secrets with the real kubectl 1.37.1 against `kubesim serve`: created with
//! kubectl's generators (sent as protobuf), printed by `get` and `describe`, read by a
//! Deployment's containers through `env`, `envFrom` and a volume, and a missing ConfigMap
//! keeping a container in CreateContainerConfigError until it is created.

use super::kubectl_real::Cluster;

const NS: [&str; 2] = ["-n", "default"];

fn args<'a>(a: &[&'a str]) -> Vec<&'a str> {
    let mut v = a.to_vec();
    v.extend(NS);
    v
}

#[test]
fn kubectl_creates_gets_and_describes_configmaps_and_secrets() {
    let c = Cluster::start();
    let props = c.write("app.properties", "color=blue\nsize=3\n");
    assert_eq!(
        c.ok(&args(&[
            "create",
            "configmap",
            "app-cfg",
            "--from-literal=color=blue",
            &format!("--from-file={props}"),
        ])),
        "configmap/app-cfg created\n"
    );
    assert_eq!(
        c.ok(&args(&[
            "create",
            "secret",
            "generic",
            "db",
            "--from-literal=password=s3cr3t",
            "--from-literal=user=admin",
        ])),
        "secret/db created\n"
    );
    let cms = c.ok(&args(&["get", "cm"]));
    let header: Vec<&str> = cms.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "DATA", "AGE"], "{cms}");
    assert!(
        cms.lines().any(|l| l.starts_with("app-cfg            2 ")),
        "{cms}"
    );
    // The root CA publisher's ConfigMap is in every namespace, as on a real cluster.
    assert!(
        cms.lines().any(|l| l.starts_with("kube-root-ca.crt   1 ")),
        "{cms}"
    );
    let secrets = c.ok(&args(&["get", "secrets"]));
    assert!(
        secrets.starts_with("NAME   TYPE     DATA   AGE\ndb     Opaque   2      "),
        "{secrets}"
    );
    // Secret data is base64 in JSON, as the API server sends it.
    assert_eq!(
        c.ok(&args(&[
            "get",
            "secret",
            "db",
            "-o",
            "jsonpath={.data.password}"
        ])),
        "czNjcjN0"
    );
    let describe = c.ok(&args(&["describe", "secret", "db"]));
    assert!(
        describe.ends_with("Type:  Opaque\n\nData\n====\npassword:  6 bytes\nuser:      5 bytes\n"),
        "{describe}"
    );
    let describe = c.ok(&args(&["describe", "configmap", "app-cfg"]));
    assert!(
        describe.contains("Data\n====\napp.properties:\n----\ncolor=blue\nsize=3\n\n\ncolor:\n----\nblue\n\n\nBinaryData\n====\n\nEvents:  <none>\n"),
        "{describe}"
    );
    // The API server's own checks, in its words.
    let bad = c.kubectl(&args(&[
        "create",
        "secret",
        "generic",
        "cert",
        "--type=kubernetes.io/tls",
        "--from-literal=tls.crt=x",
    ]));
    assert_eq!(
        bad.stderr,
        "error: failed to create secret Secret \"cert\" is invalid: data[tls.key]: Required value\n"
    );
    let frozen = c.write(
        "frozen.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: frozen, namespace: default}\nimmutable: true\ndata: {a: \"1\"}\n",
    );
    c.ok(&["apply", "-f", &frozen]);
    let p = c.kubectl(&args(&[
        "patch",
        "cm",
        "frozen",
        "-p",
        r#"{"data":{"a":"2"}}"#,
    ]));
    assert_eq!(
        p.stderr,
        "The ConfigMap \"frozen\" is invalid: data: Forbidden: field is immutable when `immutable` is set\n"
    );
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: reader, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: reader}}
  template:
    metadata: {labels: {app: reader}}
    spec:
      containers:
      - name: api
        image: registry.local/credit-scoring-api:single
        env:
        - name: COLOR
          valueFrom: {configMapKeyRef: {name: settings, key: color}}
        - name: DB_PASSWORD
          valueFrom: {secretKeyRef: {name: db, key: password}}
        envFrom:
        - configMapRef: {name: settings}
          prefix: CFG_
        volumeMounts:
        - {name: config, mountPath: /etc/config}
      volumes:
      - name: config
        configMap: {name: settings}
";

#[test]
fn a_deployment_waits_for_its_config_map_then_reads_it_through_env_env_from_and_a_volume() {
    let c = Cluster::start_at(20.0);
    c.ok(&args(&[
        "create",
        "secret",
        "generic",
        "db",
        "--from-literal=password=s3cr3t",
    ]));
    let file = c.write("reader.yaml", DEPLOYMENT);
    c.ok(&["apply", "-f", &file]);
    // The volume cannot be mounted yet: the pod stays in ContainerCreating.
    let waiting = c.kubectl(&args(&[
        "wait",
        "pod",
        "-l",
        "app=reader",
        "--for=jsonpath={.status.containerStatuses[0].state.waiting.reason}=ContainerCreating",
        "--timeout=30s",
    ]));
    assert!(waiting.ok, "{}{}", waiting.stdout, waiting.stderr);
    let events = c.ok(&args(&["get", "events"]));
    assert!(
        events.contains(
            "MountVolume.SetUp failed for volume \"config\" : configmap \"settings\" not found"
        ),
        "{events}"
    );

    c.ok(&args(&[
        "create",
        "configmap",
        "settings",
        "--from-literal=color=blue",
        "--from-literal=size=3",
    ]));
    let running = c.kubectl(&args(&[
        "wait",
        "pod",
        "-l",
        "app=reader",
        "--for=jsonpath={.status.phase}=Running",
        "--timeout=60s",
    ]));
    assert!(running.ok, "{}{}", running.stdout, running.stderr);

    // What the student sees from inside the pod, through the real kubectl exec.
    assert_eq!(
        c.ok(&[
            "exec",
            "-n",
            "default",
            "deploy/reader",
            "--",
            "printenv",
            "COLOR",
            "DB_PASSWORD",
            "CFG_size"
        ]),
        "blue\ns3cr3t\n3\n"
    );
    assert_eq!(
        c.ok(&[
            "exec",
            "-n",
            "default",
            "deploy/reader",
            "--",
            "cat",
            "/etc/config/size"
        ]),
        "3"
    );

    // The run replays: the exported script rebuilds a cluster whose container started with
    // the ConfigMap's and Secret's values, and exports byte for byte the same.
    let run = c.ok(&["get", "--raw", "/export"]);
    let replayed = web_ui::sandbox::Sandbox::open(&run).unwrap();
    assert_eq!(replayed.export(), run);
    let sim = &replayed.sim;
    let pod = sim
        .store
        .pods
        .names_in("default")
        .find(|(n, _)| n.starts_with("reader-"))
        .map(|(_, id)| id)
        .expect("the reader pod");
    let env = sim_core::kubelet::config::env(sim, pod, 0).expect("its env");
    let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("COLOR"), Some("blue"));
    assert_eq!(get("DB_PASSWORD"), Some("s3cr3t"));
    assert_eq!(get("CFG_size"), Some("3"));
    let files = sim_core::kubelet::mounts::files(sim, pod, 0);
    assert_eq!(
        files.get("/etc/config/color").map(Vec::as_slice),
        Some(&b"blue"[..])
    );
}

#[test]
fn a_missing_config_map_key_is_create_container_config_error_until_the_config_map_exists() {
    let c = Cluster::start_at(20.0);
    let pod = c.write(
        "pod.yaml",
        "apiVersion: v1
kind: Pod
metadata: {name: needs-config, namespace: default}
spec:
  containers:
  - name: app
    image: nginx:1.27
    env:
    - name: MODE
      valueFrom: {configMapKeyRef: {name: later, key: mode}}
",
    );
    c.ok(&["apply", "-f", &pod]);
    let stuck = c.kubectl(&args(&[
        "wait",
        "pod/needs-config",
        "--for=jsonpath={.status.containerStatuses[0].state.waiting.reason}=CreateContainerConfigError",
        "--timeout=30s",
    ]));
    assert!(stuck.ok, "{}{}", stuck.stdout, stuck.stderr);
    let get = c.ok(&args(&["get", "pod", "needs-config"]));
    assert!(get.contains("CreateContainerConfigError"), "{get}");
    let msg = c.ok(&args(&[
        "get",
        "pod",
        "needs-config",
        "-o",
        "jsonpath={.status.containerStatuses[0].state.waiting.message}",
    ]));
    assert_eq!(msg, "configmap \"later\" not found");
    let describe = c.ok(&args(&["describe", "pod", "needs-config"]));
    assert!(
        describe.contains("Error: configmap \"later\" not found"),
        "{describe}"
    );
    c.ok(&args(&[
        "create",
        "configmap",
        "later",
        "--from-literal=mode=fast",
    ]));
    let running = c.kubectl(&args(&[
        "wait",
        "pod/needs-config",
        "--for=jsonpath={.status.phase}=Running",
        "--timeout=60s",
    ]));
    assert!(running.ok, "{}{}", running.stdout, running.stderr);
}
