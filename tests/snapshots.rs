//! Whole transcripts of short fixed scripts, compared with `tests/snapshots/*.txt`.
//! Determinism makes them stable; each was read against real kubectl output once.

use crate::support::*;

#[test]
fn apply_get_describe_and_history_transcript() {
    let text = ScriptBuilder::new()
        .image("registry.local/credit-scoring-api:v2", "{startSeconds: 2}")
        .apply(&namespace("demo"))
        .apply(&deployment(
            "credit-scoring-api",
            "demo",
            3,
            "registry.local/credit-scoring-api:single",
            &["strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}"],
        ))
        .wait("credit-scoring-api", "demo")
        .advance("1m")
        .kubectl("get pods -n demo")
        .kubectl("get deploy,rs -n demo -o wide")
        .kubectl("set image deployment/credit-scoring-api api=registry.local/credit-scoring-api:v2 -n demo")
        .wait("credit-scoring-api", "demo")
        .kubectl("describe deployment credit-scoring-api -n demo")
        .kubectl("rollout history deployment/credit-scoring-api -n demo")
        .build();
    assert_snapshot("apply_get_describe_history", &run_ok(&text).transcript);
}

#[test]
fn crash_loop_transcript() {
    let text = ScriptBuilder::new()
        .apply("apiVersion: v1\nkind: Pod\nmetadata: {name: api, labels: {app: api}}\nspec:\n  containers: [{name: api, image: \"registry.local/credit-scoring-api:with-services\"}]\n")
        .advance("90s")
        .kubectl("get pods")
        .kubectl("logs api")
        .kubectl("describe pod api")
        .build();
    assert_snapshot("crash_loop", &run_ok(&text).transcript);
}
