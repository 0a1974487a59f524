//! Jobs and CronJobs in whole runs: a Job's pods run to completion in parallel, a failing Job
//! reaches its backoff limit, a deadline ends a long Job, a CronJob fires in virtual time,
//! keeps its history and honours Forbid, and deleting it cascades to Jobs and pods.

use crate::support::{ScriptBuilder, rows, run_ok, section, sections};

/// A Job `name` running `image` with the given spec lines (at spec indentation).
fn job(name: &str, image: &str, restart: &str, extra: &[&str]) -> String {
    let extra: String = extra.iter().map(|l| format!("  {l}\n")).collect();
    format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata: {{name: {name}}}\nspec:\n{extra}  template:\n    spec:\n      restartPolicy: {restart}\n      containers: [{{name: work, image: {image}}}]\n"
    )
}

fn script() -> ScriptBuilder {
    ScriptBuilder::new()
        .image(
            "work:ok",
            "{crash: done, exitCode: 0, crashAfterSeconds: 5}",
        )
        .image(
            "work:fail",
            "{crash: boom, exitCode: 2, crashAfterSeconds: 2}",
        )
        .image("work:long", "{}")
}

#[test]
fn completions_three_parallelism_two_completes() {
    let out = run_ok(
        &script()
            .apply(&job(
                "pi",
                "work:ok",
                "Never",
                &["completions: 3", "parallelism: 2"],
            ))
            .kubectl("get jobs")
            .kubectl("get pods")
            .advance("30s")
            .kubectl("get jobs")
            .kubectl("get pods")
            .kubectl("get job pi -o yaml")
            .kubectl("get events")
            .kubectl("describe job pi")
            .kubectl("logs job/pi")
            .build(),
    );
    let t = &out.transcript;
    let first = section(t, "kubectl get jobs");
    assert!(
        first.starts_with("NAME   STATUS    COMPLETIONS   DURATION   AGE\n"),
        "{t}"
    );
    assert_eq!(&rows(first)[0][..3], ["pi", "Running", "0/3"]);
    // Two pods at once, named after the Job.
    let pods = rows(section(t, "kubectl get pods"));
    assert_eq!(pods.len(), 2, "{t}");
    assert!(
        pods[0][0].starts_with("pi-") && pods[0][0].len() == 8,
        "{t}"
    );
    let last = rows(sections(t, "kubectl get jobs")[1]);
    assert_eq!(&last[0][..3], ["pi", "Complete", "3/3"], "{t}");
    let pods = rows(sections(t, "kubectl get pods")[1]);
    assert_eq!(pods.len(), 3, "{t}");
    assert!(pods.iter().all(|r| r[2] == "Completed"), "{t}");
    let yaml = section(t, "kubectl get job pi -o yaml");
    let types: Vec<&str> = yaml
        .lines()
        .filter_map(|l| l.trim().strip_prefix("type: "))
        .collect();
    assert_eq!(types, ["SuccessCriteriaMet", "Complete"], "{yaml}");
    assert!(
        yaml.contains("batch.kubernetes.io/controller-uid"),
        "{yaml}"
    );
    assert!(yaml.contains("succeeded: 3"), "{yaml}");
    let events: Vec<&str> = section(t, "kubectl get events")
        .lines()
        .filter(|l| l.contains("job/pi"))
        .collect();
    assert_eq!(
        events
            .iter()
            .filter(|l| l.contains("SuccessfulCreate"))
            .count(),
        3,
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|l| l.contains("Completed") && l.contains("Job completed")),
        "{events:?}"
    );
}

fn events_of<'a>(t: &'a str, cmd: &str, object: &str) -> Vec<&'a str> {
    section(t, cmd)
        .lines()
        .filter(|l| l.contains(object))
        .collect()
}

#[test]
fn a_failing_job_stops_at_its_backoff_limit_after_backing_off() {
    let out = run_ok(
        &script()
            .apply(&job("flaky", "work:fail", "Never", &["backoffLimit: 2"]))
            .advance("12s")
            .kubectl("get pods")
            .advance("2m")
            .kubectl("get jobs")
            .kubectl("get pods")
            .kubectl("get job flaky -o yaml")
            .kubectl("get events")
            .build(),
    );
    let t = &out.transcript;
    // The first pod failed at about 3 s; its replacement waits the 10 s back-off.
    assert_eq!(rows(section(t, "kubectl get pods")).len(), 1, "{t}");
    let jobs = rows(section(t, "kubectl get jobs"));
    assert_eq!(&jobs[0][..3], ["flaky", "Failed", "0/1"], "{t}");
    let pods = rows(sections(t, "kubectl get pods")[1]);
    assert_eq!(pods.len(), 3, "{t}");
    assert!(pods.iter().all(|r| r[2] == "Error"), "{t}");
    let yaml = section(t, "kubectl get job flaky -o yaml");
    assert!(yaml.contains("failed: 3"), "{yaml}");
    assert!(yaml.contains("reason: BackoffLimitExceeded"), "{yaml}");
    assert!(yaml.contains("type: Failed"), "{yaml}");
    let events = events_of(t, "kubectl get events", "job/flaky");
    assert!(
        events.iter().any(|l| l.contains("Warning")
            && l.contains("BackoffLimitExceeded")
            && l.contains("Job has reached the specified backoff limit")),
        "{events:?}"
    );
}

#[test]
fn on_failure_restarts_count_against_the_backoff_limit() {
    let out = run_ok(
        &script()
            .apply(&job(
                "retry",
                "work:fail",
                "OnFailure",
                &["backoffLimit: 2"],
            ))
            .advance("3m")
            .kubectl("get jobs")
            .kubectl("get pods")
            .build(),
    );
    let t = &out.transcript;
    let jobs = rows(section(t, "kubectl get jobs"));
    assert_eq!(&jobs[0][..2], ["retry", "Failed"], "{t}");
    // One pod, restarted in place, then deleted when the Job failed.
    assert!(
        section(t, "kubectl get pods").contains("No resources found"),
        "{t}"
    );
}

#[test]
fn active_deadline_seconds_fails_a_long_job() {
    let out = run_ok(
        &script()
            .apply(&job(
                "long",
                "work:long",
                "Never",
                &["activeDeadlineSeconds: 30"],
            ))
            .advance("29s")
            .kubectl("get jobs")
            .advance("1m")
            .kubectl("get jobs")
            .kubectl("get job long -o yaml")
            .kubectl("get events")
            .build(),
    );
    let t = &out.transcript;
    assert_eq!(
        &rows(section(t, "kubectl get jobs"))[0][..2],
        ["long", "Running"],
        "{t}"
    );
    assert_eq!(
        &rows(sections(t, "kubectl get jobs")[1])[0][..2],
        ["long", "Failed"],
        "{t}"
    );
    let yaml = section(t, "kubectl get job long -o yaml");
    assert!(yaml.contains("reason: DeadlineExceeded"), "{yaml}");
    assert!(yaml.contains("failed: 1"), "{yaml}");
    let events = events_of(t, "kubectl get events", "job/long");
    assert!(
        events.iter().any(|l| l.contains("DeadlineExceeded")
            && l.contains("Job was active longer than specified deadline")),
        "{events:?}"
    );
    assert!(
        events.iter().any(|l| l.contains("SuccessfulDelete")),
        "{events:?}"
    );
}

fn cronjob(name: &str, image: &str, extra: &[&str]) -> String {
    let extra: String = extra.iter().map(|l| format!("  {l}\n")).collect();
    format!(
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: {name}}}\nspec:\n  schedule: '*/1 * * * *'\n{extra}  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: OnFailure\n          containers: [{{name: work, image: {image}}}]\n"
    )
}

#[test]
fn a_cronjob_fires_every_minute_and_keeps_three_successful_jobs() {
    let out = run_ok(
        &script()
            .apply(&cronjob("hello", "work:ok", &[]))
            .kubectl("get cronjobs")
            .advance("5m30s")
            .kubectl("get cj")
            .kubectl("get jobs")
            .kubectl("get events")
            .kubectl("describe cronjob hello")
            .build(),
    );
    let t = &out.transcript;
    let first = section(t, "kubectl get cronjobs");
    assert!(
        first.starts_with(
            "NAME    SCHEDULE      TIMEZONE   SUSPEND   ACTIVE   LAST SCHEDULE   AGE\n"
        ),
        "{t}"
    );
    assert_eq!(
        &rows(first)[0][..6],
        ["hello", "*/1 * * * *", "<none>", "False", "0", "<none>"]
    );
    let jobs = rows(section(t, "kubectl get jobs"));
    assert_eq!(jobs.len(), 3, "{t}");
    assert!(
        jobs.iter().all(|r| r[1] == "Complete" && r[2] == "1/1"),
        "{t}"
    );
    // Names are the scheduled minute since the epoch, one minute apart.
    let minutes: Vec<i64> = jobs
        .iter()
        .map(|r| r[0].trim_start_matches("hello-").parse().expect("minutes"))
        .collect();
    assert_eq!(
        minutes.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>(),
        [1, 1],
        "{t}"
    );
    let events = events_of(t, "kubectl get events", "cronjob/hello");
    let has = |reason: &str, text: &str| {
        events
            .iter()
            .any(|l| l.contains(reason) && l.contains(text))
    };
    assert!(has("SuccessfulCreate", "Created job hello-"), "{events:?}");
    assert!(!has("UnexpectedJob", ""), "{events:?}");
    assert!(has("SawCompletedJob", "condition: Complete"), "{events:?}");
    assert!(has("SuccessfulDelete", "Deleted job hello-"), "{events:?}");
    let describe = section(t, "kubectl describe cronjob hello");
    for line in [
        "Schedule:                      */1 * * * *\n",
        "Concurrency Policy:            Allow\n",
        "Suspend:                       False\n",
        "Successful Job History Limit:  3\n",
        "Failed Job History Limit:      1\n",
        "Starting Deadline Seconds:     <unset>\n",
        "Active Jobs:         <none>\n",
    ] {
        assert!(describe.contains(line), "{line:?} in\n{describe}");
    }
}

#[test]
fn forbid_skips_a_run_while_one_is_active() {
    let out = run_ok(
        &script()
            .apply(&cronjob(
                "busy",
                "work:long",
                &["concurrencyPolicy: Forbid"],
            ))
            .advance("3m30s")
            .kubectl("get jobs")
            .kubectl("get cronjob busy")
            .kubectl("get events")
            .build(),
    );
    let t = &out.transcript;
    let jobs = rows(section(t, "kubectl get jobs"));
    assert_eq!(jobs.len(), 1, "{t}");
    assert_eq!(jobs[0][1], "Running", "{t}");
    assert_eq!(
        rows(section(t, "kubectl get cronjob busy"))[0][4],
        "1",
        "{t}"
    );
    let events = events_of(t, "kubectl get events", "cronjob/busy");
    assert!(
        events.iter().any(|l| l.contains("JobAlreadyActive")
            && l.contains("Not starting job because prior execution is running and concurrency policy is Forbid")),
        "{events:?}"
    );
}

#[test]
fn deleting_a_cronjob_deletes_its_jobs_and_their_pods() {
    let out = run_ok(
        &script()
            .apply(&cronjob("tick", "work:long", &[]))
            .advance("2m10s")
            .kubectl("get jobs")
            .kubectl("delete cronjob tick")
            .advance("1m")
            .kubectl("get jobs")
            .kubectl("get pods")
            .build(),
    );
    let t = &out.transcript;
    assert_eq!(rows(section(t, "kubectl get jobs")).len(), 2, "{t}");
    assert_eq!(
        section(t, "kubectl delete cronjob tick"),
        "cronjob.batch \"tick\" deleted from default namespace\n"
    );
    assert!(
        sections(t, "kubectl get jobs")[1].contains("No resources found"),
        "{t}"
    );
    assert!(
        section(t, "kubectl get pods").contains("No resources found"),
        "{t}"
    );
}

#[test]
fn deleting_a_job_deletes_its_pods() {
    let out = run_ok(
        &script()
            .apply(&job(
                "sleepy",
                "work:long",
                "Never",
                &["parallelism: 2", "completions: 4"],
            ))
            .advance("10s")
            .kubectl("get pods")
            .kubectl("delete job sleepy")
            .advance("1m")
            .kubectl("get pods")
            .build(),
    );
    let t = &out.transcript;
    assert_eq!(rows(section(t, "kubectl get pods")).len(), 2, "{t}");
    assert!(
        sections(t, "kubectl get pods")[1].contains("No resources found"),
        "{t}"
    );
}

#[test]
fn job_runs_are_byte_identical() {
    let text = script()
        .apply(&cronjob("hello", "work:ok", &[]))
        .apply(&job("flaky", "work:fail", "Never", &["backoffLimit: 1"]))
        .advance("4m")
        .kubectl("get jobs,cronjobs")
        .kubectl("get pods")
        .build();
    assert_eq!(run_ok(&text).transcript, run_ok(&text).transcript);
}

/// A sandbox for the real kubectl (its kubeconfig's namespace `live-coding`) whose `work:ok`
/// image exits 0 after 5 s, its clock at 20 times the wall clock's pace.
fn served() -> crate::kubectl_real::Cluster {
    crate::kubectl_real::Cluster::start_script(
        "seed: 7\ncluster: {nodes: 2}\nimages:\n  work:ok: {crash: done, exitCode: 0, crashAfterSeconds: 5}\nsteps:\n  - kubectl: create namespace live-coding\n".into(),
        20.0,
    )
}

#[test]
fn real_kubectl_creates_a_job_and_waits_for_it_to_complete() {
    let c = served();
    // kubectl create job sends the Job as protobuf.
    let out = c.ok(&["create", "job", "pi", "--image=work:ok", "--", "echo", "hi"]);
    assert_eq!(out, "job.batch/pi created\n");
    let out = c.ok(&[
        "wait",
        "--for=condition=complete",
        "job/pi",
        "--timeout=60s",
    ]);
    assert_eq!(out, "job.batch/pi condition met\n");
    let out = c.ok(&["get", "jobs"]);
    let row: Vec<&str> = out
        .lines()
        .nth(1)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(&row[..3], ["pi", "Complete", "1/1"], "{out}");
    // The real kubectl's describe reads the Job and its events through the API.
    let describe = c.ok(&["describe", "job", "pi"]);
    assert!(
        describe.contains("Pods Statuses:    0 Active (0 Ready) / 1 Succeeded / 0 Failed"),
        "{describe}"
    );
    assert!(
        describe.contains("Normal  Completed         "),
        "{describe}"
    );
    assert!(
        describe.contains("job-controller  Job completed"),
        "{describe}"
    );
    // The pod kubectl's generator asked for: restartPolicy Never, the command as given.
    let spec = c.ok(&[
        "get",
        "job",
        "pi",
        "-o",
        "jsonpath={.spec.template.spec.restartPolicy} {.spec.template.spec.containers[0].command} {.spec.selector.matchLabels}",
    ]);
    assert!(
        spec.starts_with("Never [\"echo\",\"hi\"] {\"batch.kubernetes.io/controller-uid\":"),
        "{spec}"
    );
    // A manifest with three completions, two at a time.
    let manifest = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: three}\nspec:\n  completions: 3\n  parallelism: 2\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: w, image: work:ok}]\n";
    c.ok(&["apply", "-f", &c.write("three.yaml", manifest)]);
    let out = c.ok(&[
        "wait",
        "--for=condition=complete",
        "job/three",
        "--timeout=60s",
    ]);
    assert_eq!(out, "job.batch/three condition met\n");
    let out = c.ok(&["get", "job", "three", "-o", "jsonpath={.status.succeeded}"]);
    assert_eq!(out, "3");
    let pods = c.ok(&["get", "pods", "-l", "job-name=three", "-o", "name"]);
    assert_eq!(pods.lines().count(), 3, "{pods}");
    // Deleting the Job takes its pods with it.
    c.ok(&["delete", "job", "three", "--wait=false"]);
    let pods = c.ok(&[
        "wait",
        "--for=delete",
        "pod",
        "-l",
        "job-name=three",
        "--timeout=60s",
    ]);
    assert!(!pods.contains("error"), "{pods}");
}

#[test]
fn real_kubectl_creates_cronjobs_and_jobs_from_them() {
    let c = served();
    let out = c.ok(&[
        "create",
        "cronjob",
        "hello",
        "--image=work:ok",
        "--schedule=*/1 * * * *",
        "--",
        "date",
    ]);
    assert_eq!(out, "cronjob.batch/hello created\n");
    let out = c.ok(&["get", "cronjobs"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        [
            "NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST", "SCHEDULE", "AGE"
        ]
    );
    assert!(
        lines[1].starts_with("hello   */1 * * * *   <none>     False     0        <none>"),
        "{out}"
    );
    let out = c.ok(&["create", "job", "manual", "--from=cronjob/hello"]);
    assert_eq!(out, "job.batch/manual created\n");
    let owner = c.ok(&[
        "get",
        "job",
        "manual",
        "-o",
        "jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {.metadata.annotations}",
    ]);
    assert_eq!(
        owner,
        "CronJob/hello {\"cronjob.kubernetes.io/instantiate\":\"manual\"}"
    );
    let out = c.ok(&[
        "wait",
        "--for=condition=complete",
        "job/manual",
        "--timeout=60s",
    ]);
    assert_eq!(out, "job.batch/manual condition met\n");
}

#[test]
fn ttl_seconds_after_finished_deletes_the_job_and_its_pods() {
    let out = run_ok(
        &script()
            .apply(&job(
                "brief",
                "work:ok",
                "Never",
                &["ttlSecondsAfterFinished: 20"],
            ))
            .advance("15s")
            .kubectl("get jobs")
            .advance("30s")
            .kubectl("get jobs")
            .kubectl("get pods")
            .build(),
    );
    let t = &out.transcript;
    assert_eq!(
        &rows(section(t, "kubectl get jobs"))[0][..2],
        ["brief", "Complete"],
        "{t}"
    );
    assert!(
        sections(t, "kubectl get jobs")[1].contains("No resources found"),
        "{t}"
    );
    assert!(
        section(t, "kubectl get pods").contains("No resources found"),
        "{t}"
    );
}

#[test]
fn a_suspended_job_runs_nothing_until_resumed() {
    let suspended = job(
        "later",
        "work:long",
        "Never",
        &["parallelism: 2", "completions: 2", "suspend: true"],
    );
    let resumed = suspended.replace("suspend: true", "suspend: false");
    let out = run_ok(
        &script()
            .apply(&suspended)
            .advance("10s")
            .kubectl("get jobs")
            .kubectl("get pods")
            .apply(&resumed)
            .advance("5s")
            .kubectl("get pods")
            .kubectl("get events")
            .build(),
    );
    let t = &out.transcript;
    assert_eq!(
        &rows(section(t, "kubectl get jobs"))[0][..3],
        ["later", "Suspended", "0/2"],
        "{t}"
    );
    assert!(
        section(t, "kubectl get pods").contains("No resources found"),
        "{t}"
    );
    assert_eq!(rows(sections(t, "kubectl get pods")[1]).len(), 2, "{t}");
    let events = events_of(t, "kubectl get events", "job/later");
    assert!(
        events
            .iter()
            .any(|l| l.contains("Suspended") && l.contains("Job suspended")),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|l| l.contains("Resumed") && l.contains("Job resumed")),
        "{events:?}"
    );
}

#[test]
fn a_pod_failure_policy_fails_the_job_on_an_exit_code() {
    let policy = [
        "backoffLimit: 6",
        "podFailurePolicy:",
        "  rules:",
        "  - action: FailJob",
        "    onExitCodes: {operator: In, values: [2]}",
    ];
    let out = run_ok(
        &script()
            .apply(&job("strict", "work:fail", "Never", &policy))
            .advance("30s")
            .kubectl("get jobs")
            .kubectl("get pods")
            .kubectl("get job strict -o yaml")
            .build(),
    );
    let t = &out.transcript;
    assert_eq!(
        &rows(section(t, "kubectl get jobs"))[0][..2],
        ["strict", "Failed"],
        "{t}"
    );
    // The first failure ends it: no replacement pod.
    let pods = rows(section(t, "kubectl get pods"));
    assert_eq!(pods.len(), 1, "{t}");
    let yaml = section(t, "kubectl get job strict -o yaml");
    assert!(yaml.contains("reason: PodFailurePolicy"), "{yaml}");
    // kubectl folds the long message at 80 columns, as yaml.v2 does.
    let message = format!(
        "message: Container work for pod default/{} failed with exit code 2 matching\n      FailJob rule at index 0",
        pods[0][0]
    );
    assert!(yaml.contains(&message), "{yaml}");
}

#[test]
fn replace_deletes_the_running_job_for_the_next() {
    let out = run_ok(
        &script()
            .apply(&cronjob(
                "fresh",
                "work:long",
                &["concurrencyPolicy: Replace"],
            ))
            .advance("2m10s")
            .kubectl("get jobs")
            .kubectl("get events")
            .build(),
    );
    let t = &out.transcript;
    let jobs = rows(section(t, "kubectl get jobs"));
    assert_eq!(jobs.len(), 1, "{t}");
    let events = events_of(t, "kubectl get events", "cronjob/fresh");
    assert!(
        events
            .iter()
            .any(|l| l.contains("SuccessfulDelete") && l.contains("Deleted job fresh-")),
        "{events:?}"
    );
    assert_eq!(
        events
            .iter()
            .filter(|l| l.contains("SuccessfulCreate"))
            .count(),
        2,
        "{events:?}"
    );
}

#[test]
fn a_suspended_cronjob_starts_nothing_until_resumed() {
    let suspended = cronjob("nap", "work:ok", &["suspend: true"]);
    let resumed = suspended.replace("suspend: true", "suspend: false");
    let out = run_ok(
        &script()
            .apply(&suspended)
            .advance("3m30s")
            .kubectl("get cronjobs")
            .kubectl("get jobs")
            .apply(&resumed)
            .advance("20s")
            .kubectl("get cronjobs")
            .kubectl("get jobs")
            .build(),
    );
    let t = &out.transcript;
    let cj = rows(section(t, "kubectl get cronjobs"));
    assert_eq!(&cj[0][3..6], ["True", "0", "<none>"], "{t}");
    assert!(
        section(t, "kubectl get jobs").contains("No resources found"),
        "{t}"
    );
    // Resumed, it starts one Job at once for the most recent of the three start times it
    // missed (`mostRecentScheduleTime`), not one per missed minute.
    let cj = rows(sections(t, "kubectl get cronjobs")[1]);
    assert_eq!(cj[0][3], "False", "{t}");
    assert_eq!(rows(sections(t, "kubectl get jobs")[1]).len(), 1, "{t}");
}

#[test]
fn resuming_after_two_hours_warns_of_too_many_missed_start_times() {
    let suspended = cronjob("late", "work:ok", &["suspend: true"]);
    let resumed = suspended.replace("suspend: true", "suspend: false");
    let out = run_ok(
        &script()
            .apply(&suspended)
            .advance("2h")
            .apply(&resumed)
            .advance("5s")
            .kubectl("get jobs")
            .kubectl("get events")
            .build(),
    );
    let t = &out.transcript;
    assert_eq!(rows(section(t, "kubectl get jobs")).len(), 1, "{t}");
    let events = events_of(t, "kubectl get events", "cronjob/late");
    assert!(
        events.iter().any(|l| l.contains("Warning")
            && l.contains("TooManyMissedTimes")
            && l.contains("too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew")),
        "{events:?}"
    );
}
