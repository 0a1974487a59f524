//! Bad input: clear kubectl/API-server errors, the run stops at a failing change naming
//! the step and its line, and nothing half-applied is left behind.

use sim_core::script::ScriptError;

use crate::support::*;

fn web_with(spec_line: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  {spec_line}\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      containers: [{{name: web, image: nginx}}]\n"
    )
}

fn step_error(e: &ScriptError) -> (usize, usize, &str) {
    match e {
        ScriptError::Step {
            step,
            line,
            message,
        } => (*step, *line, message.as_str()),
        other => panic!("not a step error: {other}"),
    }
}

#[test]
fn an_unknown_field_is_a_strict_decoding_error_and_stops_the_run() {
    let text = ScriptBuilder::new()
        .step("echo: first")
        .apply(&web_with("replcas: 3"))
        .kubectl("get deploy")
        .build();
    let (out, e) = run_err(&text);
    let msg = "Error from server (BadRequest): error when creating \"STDIN\": Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.replcas\"";
    // Step 2 starts on line 5: seed, cluster, steps:, the echo.
    assert_eq!(step_error(&e), (2, 5, msg));
    assert_eq!(e.to_string(), format!("step 2 (line 5) failed: {msg}"));
    assert!(
        out.transcript.ends_with(&format!("{msg}\n")),
        "{}",
        out.transcript
    );
    assert!(!out.transcript.contains("get deploy"), "the run went on");
    assert!(records(&out).is_empty(), "nothing was created");
}

#[test]
fn an_invalid_deployment_gets_the_api_servers_invalid_message() {
    let text = ScriptBuilder::new()
        .apply(&web_with(
            "strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0}}",
        ))
        .build();
    let (out, e) = run_err(&text);
    assert_eq!(
        step_error(&e),
        (
            1,
            4,
            "The Deployment \"web\" is invalid: spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"
        )
    );
    assert!(records(&out).is_empty());
}

#[test]
fn a_multi_document_apply_applies_every_valid_document() {
    let mut s = Session::new(&ScriptBuilder::new());
    let service = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n";
    let good = web_with("replicas: 2").replace("name: web}", "name: good}");
    let out = s.apply(&format!(
        "{}---\n{good}---\n{service}---\n{}",
        web_with("replcas: 3"),
        web_with("strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0}}")
            .replace("name: web}", "name: bad}")
    ));
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stdout,
        "deployment.apps/good created\nservice/web created\n"
    );
    assert_eq!(
        out.stderr,
        "Error from server (BadRequest): error when creating \"STDIN\": Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.replcas\"\n\
         The Deployment \"bad\" is invalid: spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0\n"
    );
    // `service/kubernetes` is there from the start, as on a real cluster.
    let names = s.ok("get deploy,svc -o name");
    assert_eq!(
        names,
        "deployment.apps/good\nservice/kubernetes\nservice/web\n"
    );
}

#[test]
fn broken_yaml_applies_nothing() {
    let mut s = Session::new(&ScriptBuilder::new());
    let out = s.apply(&format!(
        "{}---\napiVersion: v1\nkind: Service\nmetadata: {{name: web\n",
        web_with("replicas: 2")
    ));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .starts_with("error: error parsing STDIN: error converting YAML to JSON: yaml: "),
        "{}",
        out.stderr
    );
    assert_eq!(
        s.kubectl("get deploy").stderr,
        "No resources found in default namespace.\n"
    );
}

#[test]
fn failing_commands_print_kubectls_errors_and_change_nothing() {
    let mut s = Session::new(&ScriptBuilder::new());
    s.apply(&web_with("replicas: 2"));
    s.advance(30);
    let before = s.dep("web");
    for (cmd, err) in [
        (
            "frobnicate pods",
            "error: unknown command \"frobnicate\" for \"kubectl\"\n",
        ),
        (
            "rollout undo deployment/web --to-revision=99",
            "error: unable to find specified revision 99 in history\n",
        ),
        (
            "rollout undo deployment/web",
            "error: no rollout history found for deployment \"web\"\n",
        ),
        (
            "delete deployment nope",
            "Error from server (NotFound): deployments.apps \"nope\" not found\n",
        ),
        (
            "delete pod/nope",
            "Error from server (NotFound): pods \"nope\" not found\n",
        ),
        // scale.go: MarkFlagRequired("replicas"), answered by cobra.
        (
            "scale deployment web",
            "error: required flag(s) \"replicas\" not set\n",
        ),
        (
            "scale deployment web --replicas=-1",
            "error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0\n",
        ),
    ] {
        let e = s.fails(cmd);
        assert!(e.starts_with(err), "{cmd}: {e}");
    }
    s.advance(30);
    assert_eq!(s.dep("web"), before);
}

#[test]
fn a_failing_change_stops_the_run_but_a_failing_read_does_not() {
    let text = ScriptBuilder::new()
        .apply(&web_with("replicas: 2"))
        .kubectl("get pods nope")
        .kubectl("describe deployment nope")
        .kubectl("rollout undo deployment/web --to-revision=99")
        .kubectl("get pods")
        .build();
    let (out, e) = run_err(&text);
    assert_eq!(
        step_error(&e),
        (
            4,
            17,
            "error: unable to find specified revision 99 in history"
        )
    );
    assert_eq!(
        section(&out.transcript, "kubectl get pods nope"),
        "Error from server (NotFound): pods \"nope\" not found\n"
    );
    assert_eq!(
        section(&out.transcript, "kubectl describe deployment nope"),
        "Error from server (NotFound): deployments.apps \"nope\" not found\n"
    );
    assert!(!out.transcript.contains("$ kubectl get pods\n"));
}

/// `kubesim run` refuses a script it cannot run sensibly before anything runs, as compilers
/// do: `FILE:LINE: MESSAGE` on stderr, exit code 1, nothing on stdout.
#[test]
fn kubesim_run_refuses_bad_scripts_with_file_and_line() {
    let dir = std::env::temp_dir().join(format!("kubesim-run-refused-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases: [(&str, &[u8], usize, &str); 6] = [
        ("empty", b"", 1, "the script is empty"),
        (
            "no-unit",
            b"steps:\n  - echo: hi\n  - advance: 5\n",
            3,
            "a number needs a unit",
        ),
        (
            "zero-nodes",
            b"cluster: {nodes: 0}\nsteps:\n  - echo: hi\n",
            1,
            "at least one node",
        ),
        (
            "many-nodes",
            b"cluster: {nodes: 1000000}\nsteps:\n  - echo: hi\n",
            1,
            "limit of 5000",
        ),
        (
            "module",
            b"images:\n  x:\n    module: no-such-module\nsteps:\n  - echo: hi\n",
            3,
            "no worker module \"no-such-module\"",
        ),
        (
            "utf8",
            b"steps:\n  - echo: ok\n  - echo: caf\xe9\n",
            3,
            "invalid UTF-8",
        ),
    ];
    for (name, text, line, message) in cases {
        let file = dir.join(format!("{name}.yaml"));
        std::fs::write(&file, text).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubesim"))
            .arg("run")
            .arg(&file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(out.stdout.is_empty(), "{name}: nothing ran");
        let want = format!("{}:{line}: ", file.display());
        assert!(
            stderr.starts_with(&want) && stderr.contains(message),
            "{name}: {stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
