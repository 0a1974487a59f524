//! The checks' rules: functions, comparisons said in words, the bounds on a check's shape.

use super::*;
use serde_json::json;
use sim_core::trace::ConditionTrace;

fn deployment(ns: &str, name: &str, rev: &str, available: i64) -> Json {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"namespace": ns, "name": name, "annotations": {"deployment.kubernetes.io/revision": rev}},
        "spec": {"replicas": 10}, "status": {"availableReplicas": available}})
}

fn trace(available: i32, revision: i64, reason: &str) -> Vec<DeploymentTrace> {
    vec![DeploymentTrace {
        namespace: "live".into(),
        name: "api".into(),
        revision,
        replicas: 10 + (10 - available).min(2),
        updated_replicas: 0,
        ready_replicas: available,
        available_replicas: available,
        unavailable_replicas: 10 - available,
        conditions: vec![ConditionTrace {
            type_: "Progressing".into(),
            status: if reason == "ProgressDeadlineExceeded" {
                "False"
            } else {
                "True"
            }
            .into(),
            reason: reason.into(),
        }],
        replica_sets: vec![],
        autoscaler: None,
    }]
}

fn second(t: f64, requests: u64, errors: u64, p99: f64) -> ServiceSecond {
    ServiceSecond {
        time: t,
        namespace: "live".into(),
        service: "api".into(),
        requests,
        errors,
        p50_ms: Some(p99 / 2.0),
        p99_ms: Some(p99),
        endpoints: 3,
        sampled: 3,
    }
}

fn world() -> Arc<World> {
    let pod = |name: &str, ready: &str| {
        json!({"metadata": {"namespace": "live", "name": name, "labels": {"app": "api"}},
            "spec": {"containers": [{"name": "api", "image": "registry.local/credit-scoring-api:v1"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": ready}]}})
    };
    let mut objects = BTreeMap::new();
    objects.insert("deployments", vec![deployment("live", "api", "3", 10)]);
    objects.insert("pods", vec![pod("api-1", "True"), pod("api-2", "False")]);
    objects.insert(
        "endpoints",
        vec![json!({"metadata": {"namespace": "live", "name": "api"},
            "subsets": [{"addresses": [{"ip": "10.0.0.1"}], "notReadyAddresses": [{"ip": "10.0.0.2"}]}]})],
    );
    Arc::new(World {
        objects,
        now: 100.0,
        step_start: 40.0,
        deployments: vec![
            (40.0, trace(10, 2, "NewReplicaSetAvailable")),
            (50.0, trace(8, 3, "ReplicaSetUpdated")),
            (70.0, trace(10, 3, "ProgressDeadlineExceeded")),
        ],
        services: vec![second(60.0, 50, 0, 80.0), second(99.0, 50, 5, 250.0)],
        answers: vec![RequestTrace {
            namespace: "live".into(),
            url: "http://api.live/predict".into(),
            method: "POST".into(),
            status: 200,
            body: "{\"score\": 0.7}".into(),
            pod: Some("api-1".into()),
            latency_ms: Some(3.0),
        }],
    })
}

/// Compiles and evaluates; returns (passed, description).
fn check(src: &str) -> (bool, String) {
    let e = Expr::compile(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    let o = e.evaluate(&world());
    (o.passed, o.describe())
}

#[test]
fn objects_read_as_the_api_shows_them() {
    for src in [
        "deployment('live','api').status.availableReplicas == 10",
        "deployment('live', 'api').spec.replicas == 10",
        "revision('live', 'api') == 3",
        "size(pods) == 2",
        "pods.exists(p, p.metadata.name == 'api-2')",
        "podsOf('live', 'app=api').all(p, p.spec.containers[0].image.endsWith(':v1'))",
        "readyPods('live', 'app=api') == 1",
        "pods.filter(p, isReady(p)).size() == 1",
        "readyEndpoints('live', 'api') == 1",
        "elapsed == 60.0",
    ] {
        assert_eq!(check(src), (true, String::new()), "{src}");
    }
}

#[test]
fn history_covers_the_step() {
    for src in [
        "minAvailable('live', 'api') == 8",
        "maxAvailable('live', 'api') == 10",
        "maxReplicas('live', 'api') == 12",
        "maxUnavailable('live', 'api') == 2",
        "everCondition('live', 'api', 'Progressing', 'ProgressDeadlineExceeded')",
        "!everCondition('live', 'api', 'Available', 'MinimumReplicasUnavailable')",
        "everRevision('live', 'api', 2) && everRevision('live', 'api', 3)",
        "requests('live', 'api') == 100 && errors('live', 'api') == 5",
        "p99('live', 'api') == 250.0 && p99('live', 'api', 30) > 200",
        "p50('live', 'api', 10) == 125.0",
        "requests('live', 'api', 10) == 50",
        "answers().exists(a, a.status == 200 && a.json.score > 0.5)",
    ] {
        assert_eq!(check(src), (true, String::new()), "{src}");
    }
}

#[test]
fn a_failed_check_shows_the_values_found() {
    let (ok, why) = check("revision('live','api') == 3 && minAvailable('live','api') >= 10");
    assert!(!ok);
    assert_eq!(why, "minAvailable('live','api') = 8");
    let (ok, why) = check("deployment('live','api').status.availableReplicas < 5");
    assert!(!ok);
    assert_eq!(
        why,
        "deployment('live','api').status.availableReplicas = 10"
    );
    let (ok, why) = check("deployment('live','web').status.availableReplicas == 10");
    assert!(!ok);
    assert!(
        why.contains("deployments.apps \"web\" not found in namespace \"live\""),
        "{why}"
    );
    let (ok, why) = check("p99('live', 'nope') < 200");
    assert!(!ok);
    assert!(
        why.contains("no request to service \"nope\" has succeeded"),
        "{why}"
    );
    let (ok, why) = check("deployment('live','api').status.readyReplicas == 10");
    assert!(!ok);
    assert!(why.contains("no field \"readyReplicas\""), "{why}");
}

/// A failed check speaks to the student: sentences, never a raw `(error: ...)`.
#[test]
fn a_failed_check_says_what_is_missing_in_words() {
    let said = |src: &str| {
        let o = Expr::compile(src).unwrap().evaluate(&world());
        assert!(!o.passed, "{src}");
        let text = o.said.join(" ");
        assert!(
            !text.contains("(error:") && !text.is_empty(),
            "{src}: {text}"
        );
        text
    };
    assert_eq!(
        said("service('live-coding','redis').spec.ports[0].port == 6379"),
        "There is no Service named `redis` in namespace `live-coding` yet."
    );
    assert_eq!(
        said("deployment('live','api').status.readyReplicas == 10"),
        "`deployment('live','api').status.readyReplicas` has no value yet: the field `readyReplicas` is not set on that object."
    );
    assert_eq!(
        said("revision('live','api') == 3 && minAvailable('live','api') >= 10"),
        "`minAvailable('live','api')` is 8; this step needs it >= 10."
    );
    assert_eq!(
        said("deployment('live','api').spec.replicas == 3"),
        "`deployment('live','api').spec.replicas` is 10; this step needs it to be 3."
    );
    assert_eq!(
        said("node('gone').spec.unschedulable"),
        "There is no node named `gone`."
    );
    assert!(said("p99('live', 'nope') < 200").starts_with("No request to service \"nope\""));
}

#[test]
fn the_largest_checks_allowed_compile_and_evaluate_on_a_small_thread() {
    // What overflowed a 2 MiB stack and aborted the server before the bounds: refused
    // with a reason now.
    for src in [
        format!("1 == 1{}", " + 1".repeat(100)),
        format!("1 == {}1{}", "[".repeat(16), "]".repeat(16)),
        format!("size(pods){} == 1", ".x".repeat(60)),
    ] {
        let e = Expr::compile(&src).unwrap_err();
        assert!(e.message.contains("at most"), "{}", e.message);
    }
    // The largest shapes allowed, on a thread the size of a server's worker.
    let ops = MAX_OPERATORS - 1;
    let shapes = [
        format!("1 == 1{}", " + 1".repeat(ops)),
        format!("true{}", " && true".repeat(ops)),
        format!("{}true", "!".repeat(ops)),
        format!(
            "1 == {}1{}",
            "[".repeat(MAX_NESTING),
            "]".repeat(MAX_NESTING)
        ),
        format!(
            "{}1 + 1{} == 2",
            "(".repeat(MAX_NESTING),
            ")".repeat(MAX_NESTING)
        ),
        format!(
            "{}1{}{} == 2",
            "(".repeat(MAX_NESTING),
            " + 1".repeat(ops - MAX_NESTING),
            ")".repeat(MAX_NESTING)
        ),
        format!(
            "size({}[1]{}) == 1",
            "[".repeat(MAX_NESTING - 2),
            "]".repeat(MAX_NESTING - 2)
        ),
    ];
    let world = world();
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            for src in shapes {
                let e = Expr::compile(&src).unwrap_or_else(|e| panic!("{src}: {e}"));
                let _ = e.evaluate(&world);
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn compile_errors_say_where() {
    let e = Expr::compile("deployment('a','b').status.x ==").unwrap_err();
    assert_eq!(e.line, 1);
    assert!(e.column > 1, "{e:?}");
    let e = Expr::compile("deploymnt('a','b').spec.replicas == 1").unwrap_err();
    assert!(
        e.message.contains("unknown function \"deploymnt\""),
        "{e:?}"
    );
    let e = Expr::compile("deployment(a, 'b').spec.replicas == 1").unwrap_err();
    assert!(e.message.contains("unknown variable \"a\""), "{e:?}");
    assert!(Expr::compile("pods.all(p, p.status.phase == 'Running') && size(pods) > 0").is_ok());
}

#[test]
fn splitting_respects_strings_and_brackets() {
    assert_eq!(
        split_top("a('x && y') && (b || c) && d == 'e&&'", &["&&"]),
        vec!["a('x && y')", "(b || c)", "d == 'e&&'"]
    );
    assert_eq!(split_comparison("f(a, 'b') >= 10"), vec!["f(a, 'b')", "10"]);
    assert_eq!(split_comparison("x < y"), vec!["x", "y"]);
    assert!(split_comparison("everCondition('a', 'b', 'c', 'd')").is_empty());
}
