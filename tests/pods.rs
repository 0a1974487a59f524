//! What a student sees of failing pods: CrashLoopBackOff with the built-in
//! `credit-scoring-api:with-services` image, and an image tag typo (k8s-semantics §14).

use crate::support::*;

fn single_pod_deployment(image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api}}\nspec:\n  replicas: 1\n  selector: {{matchLabels: {{app: api}}}}\n  template:\n    metadata: {{labels: {{app: api}}}}\n    spec:\n      containers: [{{name: api, image: \"{image}\"}}]\n"
    )
}

#[test]
fn the_with_services_image_crash_loops_looking_for_redis() {
    let mut s = Session::new(&ScriptBuilder::new());
    s.apply(&single_pod_deployment(
        "registry.local/credit-scoring-api:with-services",
    ));
    s.advance(180);
    let pod = s.ok("get pods -o name");
    let pod = pod.trim().strip_prefix("pod/").unwrap().to_string();

    let table = s.ok("get pods");
    let row = &rows(&table)[0];
    // Pulled at about 1 s; each run lasts 1 s, and each start waits for the runtime to create
    // and start the container (60-300 ms). Restarts at about 2 (immediate), 13, 34, 75 and
    // 156 s (back-off 10, 20, 40, 80 s); the last exit is 22 s before 180 s.
    assert_eq!(
        row[1..4],
        ["0/1", "CrashLoopBackOff", "5 (22s ago)"],
        "{table}"
    );

    let redis = "redis.exceptions.ConnectionError: Error -2 connecting to redis:6379. Name or service not known.\n";
    assert_eq!(s.ok(&format!("logs {pod}")), redis);
    assert_eq!(s.ok("logs deployment/api --previous"), redis);

    let describe = s.ok(&format!("describe pod {pod}"));
    for line in [
        "    State:          Waiting\n      Reason:       CrashLoopBackOff\n",
        "    Last State:     Terminated\n      Reason:       Error\n      Exit Code:    1\n",
        "    Restart Count:  5\n",
    ] {
        assert!(describe.contains(line), "no {line:?} in\n{describe}");
    }
    let backoff = describe
        .lines()
        .find(|l| l.contains("Back-off restarting"))
        .unwrap_or_else(|| panic!("no BackOff event\n{describe}"));
    assert!(backoff.starts_with("  Warning  BackOff"), "{backoff}");
    // doBackOff records the event on every pod sync while waiting (every 10 s): waits of
    // 10, 20, 40 and 80 s, and 22 s of the current one, fold into one event.
    assert!(backoff.contains("  2s (x18 over "), "{backoff}");
    assert!(
        backoff.contains(&format!(
            "Back-off restarting failed container api in pod {pod}_default("
        )),
        "{backoff}"
    );
}

#[test]
fn an_image_tag_typo_fails_to_pull_then_backs_off() {
    let mut s = Session::new(&ScriptBuilder::new());
    s.apply("apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: [{name: web, image: \"nginx:1.277\"}]\n");
    // The pull takes a second and fails: ErrImagePull, then ImagePullBackOff.
    s.sim.advance(sim_core::SimDuration(1_500));
    assert_eq!(rows(&s.ok("get pods"))[0][1..3], ["0/1", "ErrImagePull"]);
    s.advance(5);
    assert_eq!(
        rows(&s.ok("get pods"))[0][1..3],
        ["0/1", "ImagePullBackOff"]
    );
    // Pulls at 0, 11 and 32 s (back-off 10 s, then 20 s), each failing a second later.
    s.advance(30);
    let describe = s.ok("describe pod web");
    assert!(
        describe.contains("    State:          Waiting\n      Reason:       ImagePullBackOff\n"),
        "{describe}"
    );
    let events: Vec<&str> = describe
        .lines()
        .skip_while(|l| !l.starts_with("Events:"))
        .collect();
    let find = |needle: &str| -> Vec<&str> {
        events
            .iter()
            .copied()
            .filter(|l| l.contains(needle))
            .collect()
    };
    let not_found = "Failed to pull image \"nginx:1.277\": rpc error: code = NotFound desc = failed to pull and unpack image \"nginx:1.277\": failed to resolve reference \"nginx:1.277\": nginx:1.277: not found";
    // Identical events fold into one line with a count, as client-go's correlator does.
    for (needle, count) in [
        (not_found, "3s (x3 over 35s)"),
        ("Error: ErrImagePull", "3s (x3 over 35s)"),
        ("Error: ImagePullBackOff", "2s (x3 over 34s)"),
    ] {
        let lines = find(needle);
        assert_eq!(lines.len(), 1, "{needle}:\n{}", events.join("\n"));
        assert!(lines[0].starts_with("  Warning  Failed"), "{}", lines[0]);
        assert!(lines[0].contains(count), "{} lacks {count}", lines[0]);
    }
    assert_eq!(find("Back-off pulling image \"nginx:1.277\"").len(), 1);
    assert!(
        find(not_found)[0].ends_with(
            "not found. kubesim's registry has the images `kubesim images` lists (and /images)"
        ),
        "the event names the image catalogue"
    );
    assert_eq!(
        s.fails("logs web"),
        "Error from server (BadRequest): container \"web\" in pod \"web\" is waiting to start: trying and failing to pull image\n"
    );
}

#[test]
fn kubectl_run_creates_the_pod_its_generator_builds() {
    let mut s = Session::new(&ScriptBuilder::new());
    assert_eq!(
        s.ok("run web --image=nginx:1.27 --port=80"),
        "pod/web created\n"
    );
    // --dry-run prints the manifest, as a student uses it to start a YAML file, and creates
    // nothing.
    let yaml = s.ok("run draft --image=nginx --dry-run=client -o yaml");
    assert!(
        yaml.starts_with(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    run: draft\n  name: draft\n"
        ),
        "{yaml}"
    );
    s.advance(10);
    let pods = s.ok("get pods --show-labels");
    let table = rows(&pods);
    assert_eq!(table.len(), 1, "{pods}");
    assert_eq!(table[0][0], "web");
    assert_eq!(table[0][2], "Running");
    assert!(pods.contains("run=web"), "{pods}");
    let out = s.kubectl("run nameless");
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("NAME is required")
            || out.stderr.contains("required flag(s) \"image\" not set"),
        "{}",
        out.stderr
    );
    let out = s.kubectl("run x");
    assert!(
        out.stderr.contains("required flag(s) \"image\" not set"),
        "{}",
        out.stderr
    );
}

#[test]
fn kubesim_images_lists_what_a_sandbox_runs() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .arg("images")
        .output()
        .expect("kubesim runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("registry.local/credit-scoring-api:single  (port 8000)\n    The course's credit-scoring API"),
        "{text}"
    );
    assert!(text.contains("registry.local/credit-scoring-api:broken  (port 8000)\n"));
    assert!(text.contains("redis  (port 6379)\n"));
    assert!(text.contains("nginx  (port 80)\n"), "{text}");
    assert!(text.contains("docker.io/library/X"), "{text}");
    assert!(text.contains("Any other image goes to ErrImagePull, then ImagePullBackOff"));
}
