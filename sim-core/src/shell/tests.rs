use super::*;
use crate::sim::SimConfig;
use crate::time::SimDuration;

const WEB: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        env: [{name: GREETING, value: hello world}]
        ports: [{containerPort: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports: [{port: 80}]
";

fn sim() -> (Sim, String) {
    let mut sim = Sim::new(SimConfig::default());
    let out = crate::kubectl::apply_text(&mut sim, WEB, "STDIN", "default", false);
    assert_eq!(out.code, 0, "{}", out.stderr);
    sim.advance(SimDuration(60_000));
    let pod = sim
        .store
        .pods
        .all_names()
        .find(|(ns, n, _)| *ns == "default" && n.starts_with("web-"))
        .map(|(_, n, _)| n.to_string())
        .expect("a web pod");
    (sim, pod)
}

fn exec(sim: &mut Sim, pod: &str, command: &[&str]) -> ExecOutput {
    sim.exec(&Exec {
        namespace: "default".into(),
        pod: pod.into(),
        container: None,
        command: command.iter().map(|s| s.to_string()).collect(),
        stdin: String::new(),
    })
    .unwrap()
}

fn sh(sim: &mut Sim, pod: &str, script: &str) -> (String, String, i32) {
    let o = exec(sim, pod, &["sh", "-c", script]);
    (
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
        o.code,
    )
}

#[test]
fn printenv_and_env_show_what_the_kubelet_built() {
    let (mut sim, pod) = sim();
    let o = exec(&mut sim, &pod, &["printenv", "GREETING"]);
    assert_eq!((o.stdout.as_slice(), o.code), (&b"hello world\n"[..], 0));
    let o = exec(&mut sim, &pod, &["printenv", "NOPE"]);
    assert_eq!((o.stdout.as_slice(), o.code), (&b""[..], 1));
    let (env, _, _) = sh(&mut sim, &pod, "env");
    assert!(env.contains(&format!("HOSTNAME={pod}\n")), "{env}");
    assert!(env.contains("WEB_SERVICE_HOST=10."), "{env}");
    assert!(env.contains("HOME=/root\n"), "{env}");
}

#[test]
fn lists_pipes_and_variables() {
    let (mut sim, pod) = sim();
    assert_eq!(
        sh(
            &mut sim,
            &pod,
            "echo $GREETING; false || echo no && echo yes"
        ),
        ("hello world\nno\nyes\n".into(), String::new(), 0)
    );
    assert_eq!(
        sh(&mut sim, &pod, "env | grep ^GREETING= | head -n 1"),
        ("GREETING=hello world\n".into(), String::new(), 0)
    );
    assert_eq!(
        sh(&mut sim, &pod, "X=1; echo \"$X-$?\" '$X'"),
        ("1-0 $X\n".into(), String::new(), 0)
    );
    assert_eq!(sh(&mut sim, &pod, "exit 3; echo no").2, 3);
    assert_eq!(
        sh(&mut sim, &pod, "exec sh -c 'exit 4'; echo no"),
        (String::new(), String::new(), 4)
    );
    // Command substitution and arithmetic, as tutorials' loops use them.
    assert_eq!(
        sh(&mut sim, &pod, "i=0; while [ $i -lt 3 ]; do i=$((i+1)); done; echo \"n=$i $(echo a b)\" $(printf_missing 2>/dev/null) $(echo x; echo y)").0,
        "n=3 a b x y\n"
    );
    assert_eq!(sh(&mut sim, &pod, "echo $(hostname)").0, format!("{pod}\n"));
    // A nested shell's exit ends only that shell.
    assert_eq!(sh(&mut sim, &pod, "sh -c 'exit 5'; echo $?").0, "5\n");
    assert_eq!(
        sh(&mut sim, &pod, "for i in a b; do if [ $i = b ]; then echo B; else echo $i; fi; done; n=0; while [ $n != 000 ]; do n=${n}0; done; echo $n").0,
        "a\nB\n000\n"
    );
    assert_eq!(sh(&mut sim, &pod, "false").2, 1);
}

#[test]
fn unknown_commands_are_not_found() {
    let (mut sim, pod) = sim();
    assert_eq!(
        sh(&mut sim, &pod, "python -c x"),
        (String::new(), "sh: python: not found\n".into(), 127)
    );
    // nginx's image is Debian's: it has bash.
    assert_eq!(sh(&mut sim, &pod, "bash -c 'echo $0'").0, "sh\n");
    assert_eq!(
        sh(&mut sim, &pod, "nope 2>/dev/null || echo $?"),
        ("127\n".into(), String::new(), 0)
    );
    let o = exec(&mut sim, &pod, &["python"]);
    let why = o.internal.unwrap();
    assert!(
        why.contains("exec: \"python\": executable file not found in $PATH: unknown"),
        "{why}"
    );
    assert_eq!(o.code, 1);
}

#[test]
fn files_kubernetes_puts_in_every_container() {
    let (mut sim, pod) = sim();
    assert_eq!(
        sh(&mut sim, &pod, "cat /etc/hostname").0,
        format!("{pod}\n")
    );
    assert_eq!(sh(&mut sim, &pod, "hostname").0, format!("{pod}\n"));
    let (resolv, _, _) = sh(&mut sim, &pod, "cat /etc/resolv.conf");
    assert_eq!(
        resolv,
        "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"
    );
    assert_eq!(
        sh(
            &mut sim,
            &pod,
            "cat /var/run/secrets/kubernetes.io/serviceaccount/namespace"
        )
        .0,
        "default"
    );
    assert_eq!(
        sh(&mut sim, &pod, "cd /etc && ls"),
        ("hostname\nhosts\nresolv.conf\n".into(), String::new(), 0)
    );
    assert_eq!(
        sh(&mut sim, &pod, "cat /nope"),
        (
            String::new(),
            "cat: can't open '/nope': No such file or directory\n".into(),
            1
        )
    );
    let (hosts, _, _) = sh(&mut sim, &pod, "grep -c localhost /etc/hosts");
    assert_eq!(hosts, "2\n");
    assert_eq!(
        sh(&mut sim, &pod, "echo x > /tmp/f"),
        (
            String::new(),
            "sh: can't create /tmp/f: Read-only file system\n".into(),
            1
        )
    );
}

#[test]
fn ps_shows_the_containers_program_as_pid_1() {
    let (mut sim, pod) = sim();
    let (ps, _, _) = sh(&mut sim, &pod, "ps");
    assert_eq!(
        ps,
        "PID   USER     TIME  COMMAND\n    1 root      0:00 nginx\n    7 root      0:00 ps\n"
    );
}

#[test]
fn the_network_from_inside_a_pod() {
    let (mut sim, pod) = sim();
    let (out, _, code) = sh(&mut sim, &pod, "nslookup web");
    assert_eq!(code, 0);
    assert!(
        out.contains("Name:\tweb.default.svc.cluster.local\nAddress: 10."),
        "{out}"
    );
    let (out, _, code) = sh(&mut sim, &pod, "nslookup nope");
    assert_eq!(code, 1);
    assert!(
        out.contains("** server can't find nope.default.svc.cluster.local: NXDOMAIN"),
        "{out}"
    );
    let o = exec(
        &mut sim,
        &pod,
        &["curl", "-s", "http://web.default.svc.cluster.local/"],
    );
    assert_eq!(o.code, 0);
    assert_eq!(o.requests, 1);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("<h1>Welcome to nginx!</h1>"),
        "{o:?}"
    );
    let o = exec(&mut sim, &pod, &["curl", "http://nope/"]);
    assert_eq!(
        (String::from_utf8_lossy(&o.stderr).as_ref(), o.code),
        ("curl: (6) Could not resolve host: nope\n", 6)
    );
    let o = exec(&mut sim, &pod, &["curl", "-s", "nope"]);
    assert_eq!((o.stderr.is_empty(), o.code), (true, 6));
    let o = exec(&mut sim, &pod, &["wget", "-qO-", "http://nope/"]);
    assert_eq!(
        (String::from_utf8_lossy(&o.stderr).as_ref(), o.code),
        ("wget: bad address 'nope'\n", 1)
    );
    let o = exec(&mut sim, &pod, &["curl", "-s", "web:81"]);
    assert_eq!(o.code, 7);
}

#[test]
fn the_api_servers_and_kubelets_refusals() {
    let (mut sim, pod) = sim();
    let run = |sim: &mut Sim, pod: &str, c: Option<&str>| {
        sim.exec(&Exec {
            namespace: "default".into(),
            pod: pod.into(),
            container: c.map(str::to_string),
            command: vec!["true".into()],
            stdin: String::new(),
        })
    };
    assert_eq!(
        run(&mut sim, "nope", None).unwrap_err().to_string(),
        "pods \"nope\" not found"
    );
    let e = run(&mut sim, &pod, Some("x")).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("container x is not valid for pod {pod}")
    );
    assert_eq!((e.code(), e.reason()), (400, "BadRequest"));
    assert!(run(&mut sim, &pod, Some("nginx")).is_ok());
}

#[test]
fn an_exec_action_reads_and_writes_as_its_script_step() {
    let yaml =
        "exec:\n  namespace: default\n  pod: web-1\n  command:\n  - sh\n  - -c\n  - curl web\n";
    let a: crate::action::Action = serde_yaml::from_str(yaml).unwrap();
    assert_eq!(serde_yaml::to_string(&a).unwrap(), yaml);
}

#[test]
fn the_consoles_kubectl_exec() {
    let (mut sim, pod) = sim();
    let run = |sim: &mut Sim, line: &str| crate::kubectl::run(sim, line, &crate::kubectl::NoFiles);
    let o = run(&mut sim, "exec deploy/web -- printenv GREETING");
    assert_eq!((o.stdout.as_str(), o.code), ("hello world\n", 0));
    let o = run(&mut sim, &format!("exec {pod} -- sh -c 'exit 3'"));
    assert_eq!(
        (o.stderr.as_str(), o.code),
        ("command terminated with exit code 3\n", 3)
    );
    let o = run(&mut sim, &format!("exec {pod} -c nope -- true"));
    assert_eq!(
        o.stderr,
        format!("error: container nope is not valid for pod {pod} out of: nginx\n")
    );
    let o = run(&mut sim, "exec nope -- true");
    assert_eq!(
        o.stderr,
        "Error from server (NotFound): pods \"nope\" not found\n"
    );
    let o = run(&mut sim, &format!("exec {pod} ls"));
    assert!(
        o.stderr.contains("Use exec [POD] -- [COMMAND] instead"),
        "{o:?}"
    );
}
