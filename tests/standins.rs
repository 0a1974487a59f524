//! The Redis and PostgreSQL stand-ins with the real kubectl 1.37.1 against `kubesim serve`:
//! `credit-scoring-api:with-services` connects to them for real as it starts, so it
//! crash-loops (redis-py's traceback and the API's `RedisConnectionError` in `kubectl logs`)
//! until `redis:7` and `postgres:16` Deployments with Services answer, then runs; a wrong
//! password from a Secret is PostgreSQL's own error in both pods' logs.

use super::kubectl_real::Cluster;

const API: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: api
          image: registry.local/credit-scoring-api:with-services
          ports: [{containerPort: 8000}]
          readinessProbe: {httpGet: {path: /healthz, port: 8000}, periodSeconds: 2}
";

/// A Deployment of `image` called `name` with a Service on `port`; `container` is added to
/// its container (indented YAML, e.g. `env:`).
fn backing(name: &str, image: &str, port: u16, container: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
        - name: {name}
          image: {image}
          ports: [{{containerPort: {port}}}]
{container}---
apiVersion: v1
kind: Service
metadata: {{name: {name}}}
spec:
  selector: {{app: {name}}}
  ports: [{{port: {port}}}]
"
    )
}

fn wait(c: &Cluster, args: &[&str]) {
    let mut all = vec!["wait", "-n", "default"];
    all.extend(args);
    let out = c.kubectl(&all);
    assert!(out.ok, "kubectl {all:?}: {}{}", out.stdout, out.stderr);
}

fn api_pod(c: &Cluster) -> String {
    let name = c.ok(&[
        "get", "pods", "-n", "default", "-l", "app=api", "-o", "name",
    ]);
    name.trim().to_string()
}

#[test]
fn redis_and_postgres_bring_the_api_from_crash_loop_to_running() {
    let c = Cluster::start_at(30.0);
    let api = c.write("api.yaml", API);
    assert_eq!(
        c.ok(&["apply", "-n", "default", "-f", &api]),
        "deployment.apps/api created\n"
    );
    wait(
        &c,
        &[
            "pod",
            "-l",
            "app=api",
            "--for=jsonpath={.status.containerStatuses[0].state.waiting.reason}=CrashLoopBackOff",
            "--timeout=60s",
        ],
    );
    let pod = api_pod(&c);
    let logs = c.ok(&["logs", &pod, "-n", "default", "--previous"]);
    assert!(
        logs.contains("socket.gaierror: [Errno -2] Name or service not known\n"),
        "{logs}"
    );
    assert!(
        logs.ends_with(
            "redis.exceptions.ConnectionError: Error -2 connecting to redis:6379. Name or service not known.\n\
             ERROR:    RedisConnectionError: cannot use Redis at redis:6379: Error -2 connecting to redis:6379. Name or service not known.\n"
        ),
        "{logs}"
    );

    let services = c.write(
        "services.yaml",
        &format!(
            "{}---\n{}",
            backing("redis", "redis:7", 6379, ""),
            backing(
                "postgres",
                "postgres:16",
                5432,
                "          env: [{name: POSTGRES_PASSWORD, value: example}]\n"
            )
        ),
    );
    let applied = c.ok(&["apply", "-n", "default", "-f", &services]);
    assert_eq!(
        applied,
        "deployment.apps/redis created\nservice/redis created\ndeployment.apps/postgres created\nservice/postgres created\n"
    );
    // The next restart (after the back-off, at most 5 virtual minutes) connects to both.
    wait(
        &c,
        &[
            "pod",
            "-l",
            "app=api",
            "--for=condition=Ready",
            "--timeout=120s",
        ],
    );
    let get = c.ok(&["get", "pods", "-n", "default", "-l", "app=api"]);
    let row: Vec<&str> = get
        .lines()
        .nth(1)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(row.get(1..3), Some(&["1/1", "Running"][..]), "{get}");
    assert_ne!(row.get(3), Some(&"0"), "it restarted before it ran: {get}");
    let logs = c.ok(&["logs", "deployment/api", "-n", "default"]);
    assert!(
        logs.starts_with(
            "INFO:     Connected to Redis at redis:6379\n\
             INFO:     Connected to PostgreSQL at postgres:5432 (database postgres)\n\
             INFO:     Started server process [1]\n"
        ),
        "{logs}"
    );
    let redis = c.ok(&["logs", "deployment/redis", "-n", "default"]);
    assert!(
        redis.contains("* Ready to accept connections tcp\n"),
        "{redis}"
    );
}

#[test]
fn a_wrong_password_from_a_secret_is_postgres_own_error() {
    let c = Cluster::start_at(30.0);
    c.ok(&[
        "create",
        "secret",
        "generic",
        "db",
        "-n",
        "default",
        "--from-literal=redis-password=r3dis",
        "--from-literal=password=example",
        // The API's copy has a typo.
        "--from-literal=api-password=exmaple",
    ]);
    let secret = |key: &str| {
        format!(
            "{{name: {}, valueFrom: {{secretKeyRef: {{name: db, key: {key}}}}}}}",
            key.to_uppercase().replace('-', "_")
        )
    };
    let services = c.write(
        "services.yaml",
        &format!(
            "{}---\n{}",
            backing("redis", "redis:7", 6379, "          args: [\"--requirepass\", \"r3dis\"]\n"),
            backing(
                "postgres",
                "postgres:16",
                5432,
                "          env: [{name: POSTGRES_PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}]\n",
            )
        ),
    );
    c.ok(&["apply", "-n", "default", "-f", &services]);
    wait(
        &c,
        &[
            "deployment/redis",
            "deployment/postgres",
            "--for=condition=Available",
            "--timeout=60s",
        ],
    );
    let api = API.replace(
        "          readinessProbe",
        &format!(
            "          env:\n            - {}\n            - {{name: POSTGRES_PASSWORD, valueFrom: {{secretKeyRef: {{name: db, key: api-password}}}}}}\n          readinessProbe",
            secret("redis-password")
        ),
    );
    let api = c.write("api.yaml", &api);
    c.ok(&["apply", "-n", "default", "-f", &api]);
    wait(
        &c,
        &[
            "pod",
            "-l",
            "app=api",
            "--for=jsonpath={.status.containerStatuses[0].lastState.terminated.exitCode}=1",
            "--timeout=60s",
        ],
    );
    let pod = api_pod(&c);
    let logs = c.ok(&["logs", &pod, "-n", "default", "--previous"]);
    // Redis took the password (AUTH, then PING); PostgreSQL refused the API's.
    assert!(
        logs.starts_with(
            "INFO:     Connected to Redis at redis:6379\nTraceback (most recent call last):\n"
        ),
        "{logs}"
    );
    let fatal = "FATAL:  password authentication failed for user \"postgres\"";
    let pg_ip = c.ok(&[
        "get",
        "service",
        "postgres",
        "-n",
        "default",
        "-o",
        "jsonpath={.spec.clusterIP}",
    ]);
    assert!(
        logs.contains(&format!(
            "psycopg2.OperationalError: connection to server at \"postgres\" ({pg_ip}), port 5432 failed: {fatal}\n\nERROR:    PostgresConnectionError: "
        )),
        "{logs}"
    );
    let server = c.ok(&["logs", "deployment/postgres", "-n", "default"]);
    assert!(server.contains(&format!("UTC [68] {fatal}\n")), "{server}");

    // Fixing the Secret is enough: the kubelet reads it again at the next restart.
    c.ok(&["delete", "secret", "db", "-n", "default"]);
    c.ok(&[
        "create",
        "secret",
        "generic",
        "db",
        "-n",
        "default",
        "--from-literal=redis-password=r3dis",
        "--from-literal=password=example",
        "--from-literal=api-password=example",
    ]);
    wait(
        &c,
        &[
            "pod",
            "-l",
            "app=api",
            "--for=condition=Ready",
            "--timeout=120s",
        ],
    );
}
