//! A pod template's part of describe (`DescribePodTemplate`): containers with their state,
//! probes and environment, and volumes. Deployments, ReplicaSets, Pods and rollout history
//! print it.

use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStatus, Pod, PodTemplateSpec, Probe, Volume,
};

use super::{
    PrefixWriter, print_annotations_multiline, print_labels_multiline, print_tolerations_multiline,
};
use crate::kubectl::print::util::{int_or_string, rfc1123z_opt, s};

/// `DescribePodTemplate`.
pub(crate) fn describe_pod_template(template: Option<&PodTemplateSpec>, w: &mut PrefixWriter) {
    w.write(0, "Pod Template:\n");
    let Some(template) = template else {
        w.write(1, "<unset>");
        return;
    };
    let meta = template.metadata.as_ref();
    print_labels_multiline(w, "  Labels", meta.and_then(|m| m.labels.as_ref()));
    if let Some(a) = meta
        .and_then(|m| m.annotations.as_ref())
        .filter(|a| !a.is_empty())
    {
        print_annotations_multiline(w, "  Annotations", Some(a));
    }
    let spec = template.spec.as_ref();
    if let Some(sa) = spec
        .and_then(|s| s.service_account_name.as_deref())
        .filter(|s| !s.is_empty())
    {
        w.write(1, &format!("Service Account:\t{sa}\n"));
    }
    let init = spec
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or(&[]);
    if !init.is_empty() {
        describe_containers("Init Containers", init, None, &EnvSource::Template, w, "  ");
    }
    let containers = spec.map(|s| s.containers.as_slice()).unwrap_or(&[]);
    describe_containers(
        "Containers",
        containers,
        None,
        &EnvSource::Template,
        w,
        "  ",
    );
    describe_volumes(
        spec.and_then(|s| s.volumes.as_deref()).unwrap_or(&[]),
        w,
        "  ",
    );
    if let Some(pc) = spec
        .and_then(|s| s.priority_class_name.as_deref())
        .filter(|s| !s.is_empty())
    {
        w.write(1, &format!("Priority Class Name:\t{pc}\n"));
    }
    print_labels_multiline(
        w,
        "  Node-Selectors",
        spec.and_then(|s| s.node_selector.as_ref()),
    );
    print_tolerations_multiline(
        w,
        "  Tolerations",
        spec.and_then(|s| s.tolerations.as_deref()).unwrap_or(&[]),
    );
}

/// Where `valueFrom.fieldRef` environment values come from: a live pod, or nothing for templates.
pub(super) enum EnvSource<'a> {
    Pod(&'a Pod),
    Template,
}

impl EnvSource<'_> {
    /// `EnvValueRetriever`: the common downward-API fields of the pod.
    fn field(&self, path: &str) -> String {
        let EnvSource::Pod(pod) = self else {
            return String::new();
        };
        let st = pod.status.as_ref();
        match path {
            "metadata.name" => s(&pod.metadata.name).to_string(),
            "metadata.namespace" => s(&pod.metadata.namespace).to_string(),
            "metadata.uid" => s(&pod.metadata.uid).to_string(),
            "spec.nodeName" => pod
                .spec
                .as_ref()
                .map(|x| s(&x.node_name))
                .unwrap_or("")
                .to_string(),
            "spec.serviceAccountName" => pod
                .spec
                .as_ref()
                .map(|x| s(&x.service_account_name))
                .unwrap_or("")
                .to_string(),
            "status.hostIP" => st.map(|x| s(&x.host_ip)).unwrap_or("").to_string(),
            "status.podIP" => st.map(|x| s(&x.pod_ip)).unwrap_or("").to_string(),
            _ => String::new(),
        }
    }
}

/// `describeContainers`. `statuses` is `None` for templates (no state is printed).
pub(super) fn describe_containers(
    label: &str,
    containers: &[Container],
    statuses: Option<&[ContainerStatus]>,
    env: &EnvSource<'_>,
    w: &mut PrefixWriter,
    space: &str,
) {
    let none = if containers.is_empty() { " <none>" } else { "" };
    w.write(0, &format!("{space}{label}:{none}\n"));
    let name_indent = if space.is_empty() { "" } else { " " };
    for c in containers {
        let status = statuses.and_then(|ss| ss.iter().find(|st| st.name == c.name));
        w.write(1, &format!("{name_indent}{}:\n", c.name));
        if let Some(st) = status {
            w.write(2, &format!("Container ID:\t{}\n", s(&st.container_id)));
        }
        w.write(2, &format!("Image:\t{}\n", s(&c.image)));
        if let Some(st) = status {
            w.write(2, &format!("Image ID:\t{}\n", st.image_id));
        }
        let ports = c.ports.as_deref().unwrap_or(&[]);
        let port_list = |f: &dyn Fn(&k8s_openapi::api::core::v1::ContainerPort) -> i32| -> String {
            ports
                .iter()
                .map(|p| {
                    let proto = p.protocol.as_deref().unwrap_or("TCP");
                    match p.name.as_deref().filter(|n| !n.is_empty()) {
                        Some(n) => format!("{}/{proto} ({n})", f(p)),
                        None => format!("{}/{proto}", f(p)),
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let port_string = port_list(&|p| p.container_port);
        if port_string.contains(',') {
            w.write(2, &format!("Ports:\t{port_string}\n"));
        } else {
            w.write(2, &format!("Port:\t{}\n", or_none(&port_string)));
        }
        let host_ports = port_list(&|p| p.host_port.unwrap_or(0));
        if host_ports.contains(',') {
            w.write(2, &format!("Host Ports:\t{host_ports}\n"));
        } else {
            w.write(2, &format!("Host Port:\t{}\n", or_none(&host_ports)));
        }
        for (title, lines) in [("Command", &c.command), ("Args", &c.args)] {
            if let Some(lines) = lines.as_ref().filter(|l| !l.is_empty()) {
                w.write(2, &format!("{title}:\n"));
                for l in lines {
                    for part in l.split('\n') {
                        w.write(3, &format!("{part}\n"));
                    }
                }
            }
        }
        if let Some(st) = status {
            describe_state("State", st.state.as_ref(), w);
            if st
                .last_state
                .as_ref()
                .and_then(|l| l.terminated.as_ref())
                .is_some()
            {
                describe_state("Last State", st.last_state.as_ref(), w);
            }
            w.write(
                2,
                &format!("Ready:\t{}\n", if st.ready { "True" } else { "False" }),
            );
            w.write(2, &format!("Restart Count:\t{}\n", st.restart_count));
        }
        if let Some(r) = &c.resources {
            for (title, list) in [("Limits", &r.limits), ("Requests", &r.requests)] {
                if let Some(list) = list.as_ref().filter(|l| !l.is_empty()) {
                    w.write(2, &format!("{title}:\n"));
                    for (name, q) in list {
                        w.write(3, &format!("{name}:\t{}\n", q.0));
                    }
                }
            }
        }
        for (title, probe) in [
            ("Liveness", &c.liveness_probe),
            ("Readiness", &c.readiness_probe),
            ("Startup", &c.startup_probe),
        ] {
            if let Some(p) = probe {
                w.write(2, &format!("{title}:\t{}\n", describe_probe(p)));
            }
        }
        let env_from = c.env_from.as_deref().unwrap_or(&[]);
        if !env_from.is_empty() {
            w.write(2, "Environment Variables from:\n");
            for e in env_from {
                let (from, name, optional) = if let Some(cm) = &e.config_map_ref {
                    ("ConfigMap", cm.name.as_str(), cm.optional == Some(true))
                } else if let Some(sec) = &e.secret_ref {
                    ("Secret", sec.name.as_str(), sec.optional == Some(true))
                } else {
                    ("", "", false)
                };
                match e.prefix.as_deref().filter(|p| !p.is_empty()) {
                    None => w.write(3, &format!("{name}\t{from}\tOptional: {optional}\n")),
                    Some(p) => w.write(
                        3,
                        &format!("{name}\t{from} with prefix '{p}'\tOptional: {optional}\n"),
                    ),
                }
            }
        }
        let envs = c.env.as_deref().unwrap_or(&[]);
        w.write(
            2,
            &format!(
                "Environment:{}\n",
                if envs.is_empty() { "\t<none>" } else { "" }
            ),
        );
        for e in envs {
            let Some(vf) = &e.value_from else {
                for (i, line) in s(&e.value).split('\n').enumerate() {
                    if i == 0 {
                        w.write(3, &format!("{}:\t{line}\n", e.name));
                    } else {
                        w.write(3, &format!("\t{line}\n"));
                    }
                }
                continue;
            };
            if let Some(f) = &vf.field_ref {
                let api = f.api_version.as_deref().unwrap_or("v1");
                w.write(
                    3,
                    &format!(
                        "{}:\t{} ({api}:{})\n",
                        e.name,
                        env.field(&f.field_path),
                        f.field_path
                    ),
                );
            } else if let Some(r) = &vf.resource_field_ref {
                w.write(3, &format!("{}:\t ({})\n", e.name, r.resource));
            } else if let Some(k) = &vf.secret_key_ref {
                w.write(
                    3,
                    &format!(
                        "{}:\t<set to the key '{}' in secret '{}'>\tOptional: {}\n",
                        e.name,
                        k.key,
                        k.name,
                        k.optional == Some(true)
                    ),
                );
            } else if let Some(k) = &vf.config_map_key_ref {
                w.write(
                    3,
                    &format!(
                        "{}:\t<set to the key '{}' of config map '{}'>\tOptional: {}\n",
                        e.name,
                        k.key,
                        k.name,
                        k.optional == Some(true)
                    ),
                );
            }
        }
        let mut mounts: Vec<_> = c.volume_mounts.iter().flatten().collect();
        w.write(
            2,
            &format!(
                "Mounts:{}\n",
                if mounts.is_empty() { "\t<none>" } else { "" }
            ),
        );
        mounts.sort_by(|a, b| a.mount_path.cmp(&b.mount_path));
        for m in mounts {
            let mut flags = vec![if m.read_only == Some(true) {
                "ro".to_string()
            } else {
                "rw".to_string()
            }];
            if let Some(sp) = m.sub_path.as_deref().filter(|p| !p.is_empty()) {
                flags.push(format!("path={sp:?}"));
            }
            w.write(
                3,
                &format!("{} from {} ({})\n", m.mount_path, m.name, flags.join(",")),
            );
        }
    }
}

fn or_none(v: &str) -> &str {
    if v.is_empty() { "<none>" } else { v }
}

/// `describeStatus`: Running with its start, Waiting with its reason, or Terminated with reason,
/// message, exit code, signal and times.
fn describe_state(name: &str, state: Option<&ContainerState>, w: &mut PrefixWriter) {
    let state = state.cloned().unwrap_or_default();
    if let Some(r) = &state.running {
        w.write(2, &format!("{name}:\tRunning\n"));
        w.write(
            3,
            &format!("Started:\t{}\n", rfc1123z_opt(r.started_at.as_ref())),
        );
    } else if let Some(wt) = &state.waiting {
        w.write(2, &format!("{name}:\tWaiting\n"));
        if let Some(r) = wt.reason.as_deref().filter(|r| !r.is_empty()) {
            w.write(3, &format!("Reason:\t{r}\n"));
        }
    } else if let Some(t) = &state.terminated {
        w.write(2, &format!("{name}:\tTerminated\n"));
        if let Some(r) = t.reason.as_deref().filter(|r| !r.is_empty()) {
            w.write(3, &format!("Reason:\t{r}\n"));
        }
        if let Some(m) = t.message.as_deref().filter(|m| !m.is_empty()) {
            w.write(3, &format!("Message:\t{m}\n"));
        }
        w.write(3, &format!("Exit Code:\t{}\n", t.exit_code));
        if let Some(sig) = t.signal.filter(|s| *s > 0) {
            w.write(3, &format!("Signal:\t{sig}\n"));
        }
        w.write(
            3,
            &format!("Started:\t{}\n", rfc1123z_opt(t.started_at.as_ref())),
        );
        w.write(
            3,
            &format!("Finished:\t{}\n", rfc1123z_opt(t.finished_at.as_ref())),
        );
    } else {
        w.write(2, &format!("{name}:\tWaiting\n"));
    }
}

/// `DescribeProbe`: `http-get http://:8080/ delay=0s timeout=5s period=5s #success=1 #failure=3`.
///
/// Unset fields take the API server's defaults (timeout 1s, period 10s, success 1, failure 3).
pub(crate) fn describe_probe(p: &Probe) -> String {
    let attrs = format!(
        "delay={}s timeout={}s period={}s #success={} #failure={}",
        p.initial_delay_seconds.unwrap_or(0),
        p.timeout_seconds.unwrap_or(1),
        p.period_seconds.unwrap_or(10),
        p.success_threshold.unwrap_or(1),
        p.failure_threshold.unwrap_or(3),
    );
    if let Some(e) = &p.exec {
        return format!(
            "exec [{}] {attrs}",
            e.command.as_deref().unwrap_or(&[]).join(" ")
        );
    }
    if let Some(h) = &p.http_get {
        let scheme = h.scheme.as_deref().unwrap_or("HTTP").to_lowercase();
        let port = int_or_string(&h.port);
        let host = s(&h.host);
        let authority = if port.is_empty() {
            host.to_string()
        } else if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let path = s(&h.path);
        // url.URL.String inserts a slash before a relative path when there is a host.
        let slash = if !path.is_empty() && !path.starts_with('/') && !authority.is_empty() {
            "/"
        } else {
            ""
        };
        return format!("http-get {scheme}://{authority}{slash}{path} {attrs}");
    }
    if let Some(t) = &p.tcp_socket {
        return format!(
            "tcp-socket {}:{} {attrs}",
            s(&t.host),
            int_or_string(&t.port)
        );
    }
    if let Some(g) = &p.grpc {
        return format!("grpc <pod>:{} {} {attrs}", g.port, s(&g.service));
    }
    format!("unknown {attrs}")
}

/// `describeVolumes` for the volume types kubesim creates; others print `<unknown>` as kubectl
/// does for types it cannot describe.
pub(super) fn describe_volumes(volumes: &[Volume], w: &mut PrefixWriter, space: &str) {
    if volumes.is_empty() {
        w.write(0, &format!("{space}Volumes:\t<none>\n"));
        return;
    }
    w.write(0, &format!("{space}Volumes:\n"));
    let name_indent = if space.is_empty() { "" } else { " " };
    for v in volumes {
        w.write(1, &format!("{name_indent}{}:\n", v.name));
        if let Some(e) = &v.empty_dir {
            let size = e
                .size_limit
                .as_ref()
                .map(|q| q.0.clone())
                .filter(|q| !q.is_empty() && q != "0");
            w.write(
                2,
                &format!(
                    "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t{}\n    SizeLimit:\t{}\n",
                    s(&e.medium),
                    size.as_deref().unwrap_or("<unset>")
                ),
            );
        } else if let Some(c) = &v.config_map {
            w.write(
                2,
                &format!(
                    "Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t{}\n    Optional:\t{}\n",
                    c.name,
                    c.optional == Some(true)
                ),
            );
        } else if let Some(sec) = &v.secret {
            w.write(
                2,
                &format!(
                    "Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t{}\n    Optional:\t{}\n",
                    s(&sec.secret_name),
                    sec.optional == Some(true)
                ),
            );
        } else if let Some(h) = &v.host_path {
            w.write(
                2,
                &format!(
                    "Type:\tHostPath (bare host directory volume)\n    Path:\t{}\n    HostPathType:\t{}\n",
                    h.path,
                    h.type_.as_deref().unwrap_or("<none>")
                ),
            );
        } else if let Some(c) = &v.persistent_volume_claim {
            w.write(
                2,
                &format!(
                    "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n    ClaimName:\t{}\n    ReadOnly:\t{}\n",
                    c.claim_name,
                    c.read_only == Some(true)
                ),
            );
        } else if let Some(p) = &v.projected {
            w.write(
                2,
                "Type:\tProjected (a volume that contains injected data from multiple sources)\n",
            );
            for src in p.sources.iter().flatten() {
                if let Some(sec) = &src.secret {
                    w.write(
                        2,
                        &format!(
                            "SecretName:\t{}\n    Optional:\t{}\n",
                            sec.name,
                            sec.optional == Some(true)
                        ),
                    );
                } else if src.downward_api.is_some() {
                    w.write(2, "DownwardAPI:\ttrue\n");
                } else if let Some(cm) = &src.config_map {
                    w.write(
                        2,
                        &format!(
                            "ConfigMapName:\t{}\n    Optional:\t{}\n",
                            cm.name,
                            cm.optional == Some(true)
                        ),
                    );
                } else if let Some(t) = &src.service_account_token {
                    w.write(
                        2,
                        &format!(
                            "TokenExpirationSeconds:\t{}\n",
                            t.expiration_seconds.unwrap_or(3600)
                        ),
                    );
                }
            }
        } else {
            w.write(1, "<unknown>\n");
        }
    }
}
