//! `kubectl describe` for Deployments, ReplicaSets, Pods and Services.
//!
//! Port of `staging/src/k8s.io/kubectl/pkg/describe/describe.go`: describeDeployment,
//! describeReplicaSet, describePod, describeService, DescribePodTemplate, describeContainers,
//! DescribeProbe, DescribeEvents and the multi-line label, annotation and toleration helpers.
//! The text goes through the describe tabwriter (minwidth 0, padding 2), flushed before the
//! events table as `DescribeEvents` does.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStatus, Endpoints, Event, Pod, PodTemplateSpec, Probe,
    Service, Toleration, Volume,
};
use k8s_openapi::jiff::Timestamp;

use super::duration::since;
use super::get::join_host_port;
use super::table::DESCRIBE;
use super::util::{
    controller_of, format_label_selector, format_labels, int_or_string, rfc1123z, rfc1123z_opt, s,
    selector_string,
};

/// Annotations describe never shows.
const SKIP_ANNOTATIONS: &[&str] = &["kubectl.kubernetes.io/last-applied-configuration"];

/// Longest `key: value` annotation printed on one line.
const MAX_ANNOTATION_LEN: usize = 140;

/// kubectl's `PrefixWriter` over a tabwriter: two spaces per level, tab-separated cells.
pub(crate) struct PrefixWriter {
    done: String,
    buf: String,
}

impl PrefixWriter {
    pub(crate) fn new() -> Self {
        PrefixWriter {
            done: String::new(),
            buf: String::new(),
        }
    }

    /// `Write(level, ...)`: the text indented by `level` times two spaces.
    pub(crate) fn write(&mut self, level: usize, text: &str) {
        for _ in 0..level {
            self.buf.push_str("  ");
        }
        self.buf.push_str(text);
    }

    /// `WriteLine(...)`: the text and a newline.
    fn write_line(&mut self, text: &str) {
        self.buf.push_str(text);
        self.buf.push('\n');
    }

    /// `Flush()`: aligns what was written so far on its own.
    fn flush(&mut self) {
        self.done.push_str(&DESCRIBE.format(&self.buf));
        self.buf.clear();
    }

    /// The aligned text, without running it through the tabwriter (`printTemplate` in
    /// history.go writes to a plain buffer).
    pub(crate) fn into_raw(self) -> String {
        self.done + &self.buf
    }

    /// The aligned text.
    pub(crate) fn finish(mut self) -> String {
        self.flush();
        self.done
    }
}

/// `kubectl describe deployment`: metadata, replica counts, strategy, pod template, conditions,
/// the old and new ReplicaSets and the events.
pub fn describe_deployment(
    d: &Deployment,
    old_rss: &[ReplicaSet],
    new_rs: Option<&ReplicaSet>,
    events: &[Event],
    now: Timestamp,
) -> String {
    let mut w = PrefixWriter::new();
    let spec = d.spec.as_ref();
    let st = d.status.as_ref();
    w.write(0, &format!("Name:\t{}\n", s(&d.metadata.name)));
    w.write(0, &format!("Namespace:\t{}\n", s(&d.metadata.namespace)));
    w.write(
        0,
        &format!(
            "CreationTimestamp:\t{}\n",
            rfc1123z_opt(d.metadata.creation_timestamp.as_ref())
        ),
    );
    print_labels_multiline(&mut w, "Labels", d.metadata.labels.as_ref());
    print_annotations_multiline(&mut w, "Annotations", d.metadata.annotations.as_ref());
    w.write(
        0,
        &format!(
            "Selector:\t{}\n",
            selector_string(spec.map(|s| &s.selector))
        ),
    );
    w.write(
        0,
        &format!(
            "Replicas:\t{} desired | {} updated | {} total | {} available | {} unavailable\n",
            spec.and_then(|s| s.replicas).unwrap_or(1),
            st.and_then(|s| s.updated_replicas).unwrap_or(0),
            st.and_then(|s| s.replicas).unwrap_or(0),
            st.and_then(|s| s.available_replicas).unwrap_or(0),
            st.and_then(|s| s.unavailable_replicas).unwrap_or(0),
        ),
    );
    let strategy = spec.and_then(|s| s.strategy.as_ref());
    w.write(
        0,
        &format!(
            "StrategyType:\t{}\n",
            strategy.and_then(|s| s.type_.as_deref()).unwrap_or("")
        ),
    );
    w.write(
        0,
        &format!(
            "MinReadySeconds:\t{}\n",
            spec.and_then(|s| s.min_ready_seconds).unwrap_or(0)
        ),
    );
    if let Some(ru) = strategy.and_then(|s| s.rolling_update.as_ref()) {
        // The API server defaults both to 25%.
        let unavailable = ru
            .max_unavailable
            .as_ref()
            .map(int_or_string)
            .unwrap_or_else(|| "25%".to_string());
        let surge = ru
            .max_surge
            .as_ref()
            .map(int_or_string)
            .unwrap_or_else(|| "25%".to_string());
        w.write(
            0,
            &format!("RollingUpdateStrategy:\t{unavailable} max unavailable, {surge} max surge\n"),
        );
    }
    describe_pod_template(spec.map(|s| &s.template), &mut w);
    let conditions = st.and_then(|s| s.conditions.as_deref()).unwrap_or(&[]);
    if !conditions.is_empty() {
        w.write(0, "Conditions:\n  Type\tStatus\tReason\n");
        w.write(1, "----\t------\t------\n");
        for c in conditions {
            w.write(
                1,
                &format!("{} \t{}\t{}\n", c.type_, c.status, s(&c.reason)),
            );
        }
    }
    if !old_rss.is_empty() || new_rs.is_some() {
        let old: Vec<&ReplicaSet> = old_rss.iter().collect();
        let new: Vec<&ReplicaSet> = new_rs.into_iter().collect();
        w.write(
            0,
            &format!("OldReplicaSets:\t{}\n", replica_sets_by_labels(&old)),
        );
        w.write(
            0,
            &format!("NewReplicaSet:\t{}\n", replica_sets_by_labels(&new)),
        );
    }
    describe_events(events, &mut w, now);
    w.finish()
}

/// `printReplicaSetsByLabels`: `name (current/desired replicas created)`, comma-separated.
fn replica_sets_by_labels(rss: &[&ReplicaSet]) -> String {
    let list: Vec<String> = rss
        .iter()
        .map(|rs| {
            format!(
                "{} ({}/{} replicas created)",
                s(&rs.metadata.name),
                rs.status.as_ref().map(|s| s.replicas).unwrap_or(0),
                rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            )
        })
        .collect();
    if list.is_empty() {
        "<none>".to_string()
    } else {
        list.join(", ")
    }
}

/// `kubectl describe replicaset`. `pods` are the pods the selector matches; only those whose
/// controller is this ReplicaSet are counted, as `getPodStatusForController` does.
pub fn describe_replicaset(
    rs: &ReplicaSet,
    pods: &[Pod],
    events: &[Event],
    now: Timestamp,
) -> String {
    let mut w = PrefixWriter::new();
    let spec = rs.spec.as_ref();
    w.write(0, &format!("Name:\t{}\n", s(&rs.metadata.name)));
    w.write(0, &format!("Namespace:\t{}\n", s(&rs.metadata.namespace)));
    w.write(
        0,
        &format!(
            "Selector:\t{}\n",
            format_label_selector(spec.map(|s| &s.selector))
        ),
    );
    print_labels_multiline(&mut w, "Labels", rs.metadata.labels.as_ref());
    print_annotations_multiline(&mut w, "Annotations", rs.metadata.annotations.as_ref());
    if let Some(c) = controller_of(&rs.metadata) {
        w.write(0, &format!("Controlled By:\t{}/{}\n", c.kind, c.name));
    }
    w.write(
        0,
        &format!(
            "Replicas:\t{} current / {} desired\n",
            rs.status.as_ref().map(|s| s.replicas).unwrap_or(0),
            spec.and_then(|s| s.replicas).unwrap_or(1)
        ),
    );
    let (mut running, mut waiting, mut succeeded, mut failed) = (0, 0, 0, 0);
    for pod in pods {
        let owned =
            controller_of(&pod.metadata).is_some_and(|c| match rs.metadata.uid.as_deref() {
                Some(uid) => c.uid == uid,
                None => {
                    c.kind == "ReplicaSet" && Some(c.name.as_str()) == rs.metadata.name.as_deref()
                }
            });
        if !owned {
            continue;
        }
        match pod.status.as_ref().and_then(|s| s.phase.as_deref()) {
            Some("Running") => running += 1,
            Some("Pending") => waiting += 1,
            Some("Succeeded") => succeeded += 1,
            Some("Failed") => failed += 1,
            _ => {}
        }
    }
    w.write(0, "Pods Status:\t");
    w.write(
        0,
        &format!(
            "{running} Running / {waiting} Waiting / {succeeded} Succeeded / {failed} Failed\n"
        ),
    );
    describe_pod_template(spec.and_then(|s| s.template.as_ref()), &mut w);
    let conditions = rs
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or(&[]);
    if !conditions.is_empty() {
        w.write(0, "Conditions:\n  Type\tStatus\tReason\n");
        w.write(1, "----\t------\t------\n");
        for c in conditions {
            w.write(
                1,
                &format!("{} \t{}\t{}\n", c.type_, c.status, s(&c.reason)),
            );
        }
    }
    describe_events(events, &mut w, now);
    w.finish()
}

/// `kubectl describe pod`.
pub fn describe_pod(pod: &Pod, events: &[Event], now: Timestamp) -> String {
    let mut w = PrefixWriter::new();
    let spec = pod.spec.as_ref();
    let st = pod.status.as_ref();
    let meta = &pod.metadata;
    w.write(0, &format!("Name:\t{}\n", s(&meta.name)));
    w.write(0, &format!("Namespace:\t{}\n", s(&meta.namespace)));
    if let Some(p) = spec.and_then(|s| s.priority) {
        w.write(0, &format!("Priority:\t{p}\n"));
    }
    if let Some(pc) = spec
        .and_then(|s| s.priority_class_name.as_deref())
        .filter(|p| !p.is_empty())
    {
        w.write(0, &format!("Priority Class Name:\t{pc}\n"));
    }
    if let Some(rc) = spec
        .and_then(|s| s.runtime_class_name.as_deref())
        .filter(|p| !p.is_empty())
    {
        w.write(0, &format!("Runtime Class Name:\t{rc}\n"));
    }
    if let Some(sa) = spec
        .and_then(|s| s.service_account_name.as_deref())
        .filter(|p| !p.is_empty())
    {
        w.write(0, &format!("Service Account:\t{sa}\n"));
    }
    match spec
        .and_then(|s| s.node_name.as_deref())
        .filter(|n| !n.is_empty())
    {
        None => w.write(0, "Node:\t<none>\n"),
        Some(n) => w.write(
            0,
            &format!("Node:\t{n}/{}\n", st.map(|x| s(&x.host_ip)).unwrap_or("")),
        ),
    }
    if let Some(t) = st.and_then(|s| s.start_time.as_ref()) {
        w.write(0, &format!("Start Time:\t{}\n", rfc1123z(t.0)));
    }
    print_labels_multiline(&mut w, "Labels", meta.labels.as_ref());
    print_annotations_multiline(&mut w, "Annotations", meta.annotations.as_ref());
    let phase = st.and_then(|s| s.phase.as_deref()).unwrap_or("");
    match &meta.deletion_timestamp {
        Some(del) if phase != "Failed" && phase != "Succeeded" => {
            w.write(
                0,
                &format!("Status:\tTerminating (lasts {})\n", since(del.0, now)),
            );
            w.write(
                0,
                &format!(
                    "Termination Grace Period:\t{}s\n",
                    meta.deletion_grace_period_seconds.unwrap_or(0)
                ),
            );
        }
        _ => w.write(0, &format!("Status:\t{phase}\n")),
    }
    if let Some(r) = st
        .and_then(|s| s.reason.as_deref())
        .filter(|r| !r.is_empty())
    {
        w.write(0, &format!("Reason:\t{r}\n"));
    }
    if let Some(m) = st
        .and_then(|s| s.message.as_deref())
        .filter(|m| !m.is_empty())
    {
        w.write(0, &format!("Message:\t{m}\n"));
    }
    w.write(
        0,
        &format!("IP:\t{}\n", st.map(|x| s(&x.pod_ip)).unwrap_or("")),
    );
    let ips = st.and_then(|s| s.pod_ips.as_deref()).unwrap_or(&[]);
    if ips.is_empty() {
        w.write(0, "IPs:\t<none>\n");
    } else {
        w.write(0, "IPs:\n");
        for ip in ips {
            w.write(1, &format!("IP:\t{}\n", ip.ip));
        }
    }
    if let Some(c) = controller_of(meta) {
        w.write(0, &format!("Controlled By:\t{}/{}\n", c.kind, c.name));
    }
    if let Some(n) = st
        .and_then(|s| s.nominated_node_name.as_deref())
        .filter(|n| !n.is_empty())
    {
        w.write(0, &format!("NominatedNodeName:\t{n}\n"));
    }
    let init_containers = spec
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or(&[]);
    let env = EnvSource::Pod(pod);
    if !init_containers.is_empty() {
        let statuses = st
            .and_then(|s| s.init_container_statuses.as_deref())
            .unwrap_or(&[]);
        describe_containers(
            "Init Containers",
            init_containers,
            Some(statuses),
            &env,
            &mut w,
            "",
        );
    }
    let containers = spec.map(|s| s.containers.as_slice()).unwrap_or(&[]);
    let statuses = st
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or(&[]);
    describe_containers("Containers", containers, Some(statuses), &env, &mut w, "");
    let conditions = st.and_then(|s| s.conditions.as_deref()).unwrap_or(&[]);
    let gates = spec
        .and_then(|s| s.readiness_gates.as_deref())
        .unwrap_or(&[]);
    if !gates.is_empty() {
        w.write(0, "Readiness Gates:\n  Type\tStatus\n");
        for g in gates {
            let status = conditions
                .iter()
                .find(|c| c.type_ == g.condition_type)
                .map(|c| c.status.as_str())
                .unwrap_or("<none>");
            w.write(1, &format!("{} \t{status} \n", g.condition_type));
        }
    }
    if !conditions.is_empty() {
        w.write(0, "Conditions:\n  Type\tStatus\n");
        for c in conditions {
            w.write(1, &format!("{} \t{} \n", c.type_, c.status));
        }
    }
    describe_volumes(
        spec.and_then(|s| s.volumes.as_deref()).unwrap_or(&[]),
        &mut w,
        "",
    );
    w.write(0, &format!("QoS Class:\t{}\n", pod_qos(pod)));
    print_labels_multiline(
        &mut w,
        "Node-Selectors",
        spec.and_then(|s| s.node_selector.as_ref()),
    );
    print_tolerations_multiline(
        &mut w,
        "Tolerations",
        spec.and_then(|s| s.tolerations.as_deref()).unwrap_or(&[]),
    );
    describe_events(events, &mut w, now);
    w.finish()
}

/// `kubectl describe service` without a clock: event ages are measured from the newest event's
/// last timestamp. Prefer [`describe_service_at`], which takes "now" like the other describers.
pub fn describe_service(svc: &Service, endpoints: Option<&Endpoints>, events: &[Event]) -> String {
    let now = events
        .iter()
        .filter_map(|e| {
            e.last_timestamp
                .as_ref()
                .or(e.first_timestamp.as_ref())
                .map(|t| t.0)
        })
        .max()
        .unwrap_or(Timestamp::UNIX_EPOCH);
    describe_service_at(svc, endpoints, events, now)
}

/// `kubectl describe service`. kubectl reads EndpointSlices; kubesim passes the Endpoints object,
/// whose ready addresses are the slices' ready endpoints.
pub fn describe_service_at(
    svc: &Service,
    endpoints: Option<&Endpoints>,
    events: &[Event],
    now: Timestamp,
) -> String {
    let mut w = PrefixWriter::new();
    let spec = svc.spec.as_ref();
    w.write(0, &format!("Name:\t{}\n", s(&svc.metadata.name)));
    w.write(0, &format!("Namespace:\t{}\n", s(&svc.metadata.namespace)));
    print_labels_multiline(&mut w, "Labels", svc.metadata.labels.as_ref());
    print_annotations_multiline(&mut w, "Annotations", svc.metadata.annotations.as_ref());
    w.write(
        0,
        &format!(
            "Selector:\t{}\n",
            format_labels(spec.and_then(|s| s.selector.as_ref()))
        ),
    );
    w.write(0, &format!("Type:\t{}\n", super::get::service_type(svc)));
    if let Some(p) = spec.and_then(|s| s.ip_family_policy.as_deref()) {
        w.write(0, &format!("IP Family Policy:\t{p}\n"));
    }
    let families = spec.and_then(|s| s.ip_families.as_deref()).unwrap_or(&[]);
    let families = if families.is_empty() {
        "<none>".to_string()
    } else {
        families.join(",")
    };
    w.write(0, &format!("IP Families:\t{families}\n"));
    w.write(
        0,
        &format!("IP:\t{}\n", spec.map(|x| s(&x.cluster_ip)).unwrap_or("")),
    );
    let ips = spec.and_then(|s| s.cluster_ips.as_deref()).unwrap_or(&[]);
    w.write(
        0,
        &format!(
            "IPs:\t{}\n",
            if ips.is_empty() {
                "<none>".to_string()
            } else {
                ips.join(",")
            }
        ),
    );
    if let Some(ext) = spec
        .and_then(|s| s.external_ips.as_deref())
        .filter(|e| !e.is_empty())
    {
        w.write(0, &format!("External IPs:\t{}\n", ext.join(",")));
    }
    if let Some(lb) = spec
        .and_then(|s| s.load_balancer_ip.as_deref())
        .filter(|e| !e.is_empty())
    {
        w.write(0, &format!("Desired LoadBalancer IP:\t{lb}\n"));
    }
    if let Some(n) = spec
        .and_then(|s| s.external_name.as_deref())
        .filter(|e| !e.is_empty())
    {
        w.write(0, &format!("External Name:\t{n}\n"));
    }
    let ingress = svc
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_deref())
        .unwrap_or(&[]);
    if !ingress.is_empty() {
        let list: Vec<String> = ingress
            .iter()
            .map(|i| match i.ip.as_deref().filter(|ip| !ip.is_empty()) {
                Some(ip) => match &i.ip_mode {
                    Some(mode) => format!("{ip} ({mode})"),
                    None => ip.to_string(),
                },
                None => s(&i.hostname).to_string(),
            })
            .collect();
        w.write(0, &format!("LoadBalancer Ingress:\t{}\n", list.join(", ")));
    }
    for sp in spec.and_then(|s| s.ports.as_deref()).unwrap_or(&[]) {
        let port_name = s(&sp.name);
        let name = if port_name.is_empty() {
            "<unset>"
        } else {
            port_name
        };
        let proto = sp.protocol.as_deref().unwrap_or("TCP");
        w.write(0, &format!("Port:\t{name}\t{}/{proto}\n", sp.port));
        let target = sp
            .target_port
            .as_ref()
            .map(int_or_string)
            .unwrap_or_else(|| sp.port.to_string());
        w.write(0, &format!("TargetPort:\t{target}/{proto}\n"));
        if let Some(ap) = &sp.app_protocol {
            w.write(0, &format!("AppProtocol:\t{ap}\n"));
        }
        if let Some(np) = sp.node_port.filter(|np| *np != 0) {
            w.write(0, &format!("NodePort:\t{name}\t{np}/{proto}\n"));
        }
        w.write(
            0,
            &format!("Endpoints:\t{}\n", service_endpoints(endpoints, port_name)),
        );
    }
    w.write(
        0,
        &format!(
            "Session Affinity:\t{}\n",
            spec.map(|x| s(&x.session_affinity)).unwrap_or("")
        ),
    );
    if let Some(p) = spec
        .and_then(|s| s.external_traffic_policy.as_deref())
        .filter(|p| !p.is_empty())
    {
        w.write(0, &format!("External Traffic Policy:\t{p}\n"));
    }
    if let Some(p) = spec.and_then(|s| s.internal_traffic_policy.as_deref()) {
        w.write(0, &format!("Internal Traffic Policy:\t{p}\n"));
    }
    if let Some(p) = spec
        .and_then(|s| s.health_check_node_port)
        .filter(|p| *p != 0)
    {
        w.write(0, &format!("HealthCheck NodePort:\t{p}\n"));
    }
    if let Some(r) = spec
        .and_then(|s| s.load_balancer_source_ranges.as_deref())
        .filter(|r| !r.is_empty())
    {
        w.write(
            0,
            &format!("LoadBalancer Source Ranges:\t{}\n", r.join(",")),
        );
    }
    if let Some(t) = spec.and_then(|s| s.traffic_distribution.as_deref()) {
        w.write(0, &format!("Traffic Distribution:\t{t}\n"));
    }
    describe_events(events, &mut w, now);
    w.finish()
}

/// `formatEndpointSlices` for one service port: up to three ready `ip:port`, then `+ N more...`;
/// `<none>` when there are no endpoints at all.
fn service_endpoints(endpoints: Option<&Endpoints>, port_name: &str) -> String {
    let subsets = endpoints.and_then(|e| e.subsets.as_deref()).unwrap_or(&[]);
    if subsets.is_empty() {
        return "<none>".to_string();
    }
    const MAX: usize = 3;
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0;
    for ss in subsets {
        let addresses = ss.addresses.as_deref().unwrap_or(&[]);
        let ports = ss.ports.as_deref().unwrap_or(&[]);
        if ports.is_empty() {
            for a in addresses {
                if list.len() == MAX {
                    more = true;
                }
                if !more {
                    list.push(a.ip.clone());
                }
                count += 1;
            }
            continue;
        }
        for port in ports.iter().filter(|p| s(&p.name) == port_name) {
            for a in addresses {
                if list.len() == MAX {
                    more = true;
                }
                if !more {
                    list.push(join_host_port(&a.ip, port.port));
                }
                count += 1;
            }
        }
    }
    let ret = list.join(",");
    if more {
        format!("{ret} + {} more...", count - MAX)
    } else {
        ret
    }
}

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
enum EnvSource<'a> {
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
fn describe_containers(
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
fn describe_volumes(volumes: &[Volume], w: &mut PrefixWriter, space: &str) {
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

/// `qos.GetPodQOS`: `status.qosClass` when set, otherwise computed from requests and limits.
fn pod_qos(pod: &Pod) -> String {
    if let Some(q) = pod
        .status
        .as_ref()
        .and_then(|s| s.qos_class.as_deref())
        .filter(|q| !q.is_empty())
    {
        return q.to_string();
    }
    let spec = pod.spec.as_ref();
    let all = spec
        .map(|s| {
            s.containers
                .iter()
                .chain(s.init_containers.iter().flatten())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let zero = |q: &str| {
        q.trim_start_matches('0').is_empty() || q.trim_start_matches(['0', '.']).is_empty()
    };
    let mut any = false;
    let mut guaranteed = true;
    for c in &all {
        let r = c.resources.as_ref();
        let get = |m: Option<
            &BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
        >,
                   k: &str| {
            m.and_then(|m| m.get(k))
                .map(|q| q.0.clone())
                .filter(|q| !zero(q))
        };
        for res in ["cpu", "memory"] {
            let req = get(r.and_then(|r| r.requests.as_ref()), res);
            let lim = get(r.and_then(|r| r.limits.as_ref()), res);
            any |= req.is_some() || lim.is_some();
            match (&req, &lim) {
                (_, None) => guaranteed = false,
                (Some(req), Some(lim)) if req != lim => guaranteed = false,
                _ => {}
            }
        }
    }
    if !any {
        "BestEffort".to_string()
    } else if guaranteed {
        "Guaranteed".to_string()
    } else {
        "Burstable".to_string()
    }
}

/// `printLabelsMultiline`: the first `k=v` after the title, the rest on continuation lines.
pub(crate) fn print_labels_multiline(
    w: &mut PrefixWriter,
    title: &str,
    labels: Option<&BTreeMap<String, String>>,
) {
    w.write(0, &format!("{title}:\t"));
    let Some(labels) = labels.filter(|l| !l.is_empty()) else {
        w.write_line("<none>");
        return;
    };
    for (i, (k, v)) in labels.iter().enumerate() {
        if i != 0 {
            w.write(0, "\t");
        }
        w.write(0, &format!("{k}={v}\n"));
    }
}

/// `printAnnotationsMultiline`: sorted, long or multi-line values on their own indented lines,
/// the last-applied-configuration annotation hidden.
pub(crate) fn print_annotations_multiline(
    w: &mut PrefixWriter,
    title: &str,
    annotations: Option<&BTreeMap<String, String>>,
) {
    w.write(0, &format!("{title}:\t"));
    let keys: Vec<(&String, &String)> = annotations
        .into_iter()
        .flatten()
        .filter(|(k, _)| !SKIP_ANNOTATIONS.contains(&k.as_str()))
        .collect();
    if keys.is_empty() {
        w.write_line("<none>");
        return;
    }
    for (i, (k, v)) in keys.into_iter().enumerate() {
        if i != 0 {
            w.write(0, "\t");
        }
        let value = v.strip_suffix('\n').unwrap_or(v);
        if value.len() + k.len() + 2 > MAX_ANNOTATION_LEN || value.contains('\n') {
            w.write(0, &format!("{k}:\n"));
            for line in value.split('\n') {
                w.write(
                    0,
                    &format!("\t  {}\n", shorten(line, MAX_ANNOTATION_LEN - 2)),
                );
            }
        } else {
            w.write(0, &format!("{k}: {value}\n"));
        }
    }
}

/// Go's `shorten`: cut at `max` bytes and add `...`.
fn shorten(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// `printTolerationsMultiline`: `key=value:Effect op=Exists for 300s`, sorted by key.
fn print_tolerations_multiline(w: &mut PrefixWriter, title: &str, tolerations: &[Toleration]) {
    w.write(0, &format!("{title}:\t"));
    if tolerations.is_empty() {
        w.write_line("<none>");
        return;
    }
    let mut sorted: Vec<&Toleration> = tolerations.iter().collect();
    sorted.sort_by(|a, b| s(&a.key).cmp(s(&b.key)));
    for (i, t) in sorted.into_iter().enumerate() {
        if i != 0 {
            w.write(0, "\t");
        }
        let mut line = s(&t.key).to_string();
        if let Some(v) = t.value.as_deref().filter(|v| !v.is_empty()) {
            line.push_str(&format!("={v}"));
        }
        if let Some(e) = t.effect.as_deref().filter(|e| !e.is_empty()) {
            line.push_str(&format!(":{e}"));
        }
        if t.operator.as_deref() == Some("Exists") && s(&t.value).is_empty() {
            if !s(&t.key).is_empty() || !s(&t.effect).is_empty() {
                line.push_str(" op=Exists");
            } else {
                line.push_str("op=Exists");
            }
        }
        if let Some(secs) = t.toleration_seconds {
            line.push_str(&format!(" for {secs}s"));
        }
        w.write(0, &format!("{line}\n"));
    }
}

/// `DescribeEvents`: `Events:  <none>`, or a table sorted by last timestamp with ages such as
/// `45s (x5 over 4m10s)`.
pub(crate) fn describe_events(events: &[Event], w: &mut PrefixWriter, now: Timestamp) {
    if events.is_empty() {
        w.write(0, "Events:\t<none>\n");
        return;
    }
    w.flush();
    let mut sorted: Vec<&Event> = events.iter().collect();
    // SortableEvents orders by lastTimestamp; a stable sort keeps equal times in list order.
    sorted.sort_by_key(|e| e.last_timestamp.as_ref().map(|t| t.0));
    w.write(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
    w.write(1, "----\t------\t----\t----\t-------\n");
    let age = |t: Option<Timestamp>| {
        t.map(|t| since(t, now))
            .unwrap_or_else(|| "<unknown>".to_string())
    };
    for e in sorted {
        let first = match &e.event_time {
            Some(t) => age(Some(t.0)),
            None => age(e.first_timestamp.as_ref().map(|t| t.0)),
        };
        let count = e.count.unwrap_or(0);
        let interval = if let Some(series) = &e.series {
            format!(
                "{} (x{} over {first})",
                age(series.last_observed_time.as_ref().map(|t| t.0)),
                series.count.unwrap_or(0)
            )
        } else if count > 1 {
            format!(
                "{} (x{count} over {first})",
                age(e.last_timestamp.as_ref().map(|t| t.0))
            )
        } else {
            first
        };
        let source = e
            .source
            .as_ref()
            .and_then(|s| s.component.as_deref())
            .filter(|c| !c.is_empty())
            .or(e.reporting_component.as_deref())
            .unwrap_or("");
        let mut message = s(&e.message).trim().to_string();
        if let Some(fp) = e
            .involved_object
            .field_path
            .as_deref()
            .filter(|f| !f.is_empty())
        {
            message = format!("{fp}: {message}");
        }
        w.write(
            1,
            &format!(
                "{}\t{}\t{interval}\t{source}\t{message}\n",
                s(&e.type_),
                s(&e.reason)
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    //! Whole-text snapshots of the course objects; layouts follow describe_test.go.
    use super::*;
    use crate::kubectl::print::fixtures::*;

    fn check(actual: String, expected: &str) {
        assert_eq!(
            actual, expected,
            "\n--- actual ---\n{actual}\n--- expected ---\n{expected}"
        );
    }

    #[test]
    fn deployment_mid_rollout() {
        let events = course_events();
        check(describe_deployment(&course_deployment(), &[old_rs()], Some(&new_rs()), &events[..1], now()),
"\
Name:                   credit-scoring-api
Namespace:              live-coding
CreationTimestamp:      Mon, 23 Nov 2026 11:00:00 +0000
Labels:                 app=credit-scoring-api
Annotations:            deployment.kubernetes.io/revision: 2
Selector:               app=credit-scoring-api
Replicas:               10 desired | 2 updated | 12 total | 10 available | 2 unavailable
StrategyType:           RollingUpdate
MinReadySeconds:        0
RollingUpdateStrategy:  0 max unavailable, 2 max surge
Pod Template:
  Labels:  app=credit-scoring-api
  Containers:
   api:
    Image:         registry.local/credit-scoring-api:single
    Port:          8080/TCP
    Host Port:     0/TCP
    Readiness:     http-get http://:8080/ delay=0s timeout=5s period=5s #success=1 #failure=3
    Environment:   <none>
    Mounts:        <none>
  Volumes:         <none>
  Node-Selectors:  <none>
  Tolerations:     <none>
Conditions:
  Type           Status  Reason
  ----           ------  ------
  Available      True    MinimumReplicasAvailable
  Progressing    True    ReplicaSetUpdated
OldReplicaSets:  credit-scoring-api-7c9d8f6b5 (10/10 replicas created)
NewReplicaSet:   credit-scoring-api-5d8c7b9f4 (2/2 replicas created)
Events:
  Type    Reason             Age   From                   Message
  ----    ------             ----  ----                   -------
  Normal  ScalingReplicaSet  2m    deployment-controller  Scaled up replica set credit-scoring-api-5d8c7b9f4 from 0 to 2
");
    }

    #[test]
    fn crashloop_pod_with_events() {
        let events = course_events();
        check(describe_pod(&crashloop_pod(), &events[1..], now()),
"\
Name:             credit-scoring-api-5d8c7b9f4-crash
Namespace:        live-coding
Priority:         0
Service Account:  default
Node:             node-2/172.18.0.4
Start Time:       Mon, 23 Nov 2026 11:55:02 +0000
Labels:           app=credit-scoring-api
                  pod-template-hash=5d8c7b9f4
Annotations:      <none>
Status:           Running
IP:               10.244.2.9
IPs:
  IP:           10.244.2.9
Controlled By:  ReplicaSet/credit-scoring-api-5d8c7b9f4
Containers:
  api:
    Container ID:   containerd://0123456789abcdef
    Image:          registry.local/credit-scoring-api:single
    Image ID:       
    Port:           8080/TCP
    Host Port:      0/TCP
    State:          Waiting
      Reason:       CrashLoopBackOff
    Last State:     Terminated
      Reason:       Error
      Exit Code:    1
      Started:      Mon, 23 Nov 2026 11:59:10 +0000
      Finished:     Mon, 23 Nov 2026 11:59:15 +0000
    Ready:          False
    Restart Count:  3
    Readiness:      http-get http://:8080/ delay=0s timeout=5s period=5s #success=1 #failure=3
    Environment:    <none>
    Mounts:         <none>
Conditions:
  Type                        Status
  PodReadyToStartContainers   True 
  Initialized                 True 
  Ready                       False 
  ContainersReady             False 
  PodScheduled                True 
Volumes:                      <none>
QoS Class:                    BestEffort
Node-Selectors:               <none>
Tolerations:                  node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
                              node.kubernetes.io/unreachable:NoExecute op=Exists for 300s
Events:
  Type     Reason   Age                  From     Message
  ----     ------   ----                 ----     -------
  Warning  BackOff  45s (x5 over 4m10s)  kubelet  spec.containers{api}: Back-off restarting failed container api in pod credit-scoring-api-5d8c7b9f4-crash_live-coding(uid-crash)
");
    }

    #[test]
    fn replicaset_counts_only_its_pods() {
        check(
            describe_replicaset(&new_rs(), &course_pods(), &[], now()),
            "\
Name:           credit-scoring-api-5d8c7b9f4
Namespace:      live-coding
Selector:       app=credit-scoring-api,pod-template-hash=5d8c7b9f4
Labels:         app=credit-scoring-api
                pod-template-hash=5d8c7b9f4
Annotations:    deployment.kubernetes.io/desired-replicas: 10
                deployment.kubernetes.io/max-replicas: 12
                deployment.kubernetes.io/revision: 2
Controlled By:  Deployment/credit-scoring-api
Replicas:       2 current / 2 desired
Pods Status:    3 Running / 3 Waiting / 0 Succeeded / 1 Failed
Pod Template:
  Labels:  app=credit-scoring-api
           pod-template-hash=5d8c7b9f4
  Containers:
   api:
    Image:         registry.local/credit-scoring-api:single
    Port:          8080/TCP
    Host Port:     0/TCP
    Readiness:     http-get http://:8080/ delay=0s timeout=5s period=5s #success=1 #failure=3
    Environment:   <none>
    Mounts:        <none>
  Volumes:         <none>
  Node-Selectors:  <none>
  Tolerations:     <none>
Events:            <none>
",
        );
    }

    #[test]
    fn service_with_endpoints() {
        let svcs = course_services();
        check(
            describe_service_at(&svcs[1], Some(&course_endpoints()), &[], now()),
            "\
Name:                     credit-scoring-np
Namespace:                live-coding
Labels:                   app=credit-scoring-api
Annotations:              <none>
Selector:                 app=credit-scoring-api
Type:                     NodePort
IP Family Policy:         SingleStack
IP Families:              IPv4
IP:                       10.96.45.13
IPs:                      10.96.45.13
Port:                     <unset>  8080/TCP
TargetPort:               8080/TCP
NodePort:                 <unset>  30080/TCP
Endpoints:                10.244.1.5:8080,10.244.1.6:8080,10.244.2.7:8080 + 1 more...
Session Affinity:         None
Internal Traffic Policy:  Cluster
Events:                   <none>
",
        );
    }

    #[test]
    fn terminating_pod_and_probe_kinds() {
        let pods = course_pods();
        let out = describe_pod(&pods[9], &[], now());
        assert!(
            out.contains("Status:                    Terminating (lasts <invalid>)\n"),
            "{out}"
        );
        assert!(out.contains("Termination Grace Period:  30s\n"), "{out}");
        let probe: Probe = serde_json::from_value(serde_json::json!({
            "tcpSocket": {"port": 5432}, "periodSeconds": 3
        }))
        .expect("probe");
        assert_eq!(
            describe_probe(&probe),
            "tcp-socket :5432 delay=0s timeout=1s period=3s #success=1 #failure=3"
        );
        let probe: Probe = serde_json::from_value(serde_json::json!({
            "exec": {"command": ["cat", "/tmp/healthy"]}, "initialDelaySeconds": 5
        }))
        .expect("probe");
        assert_eq!(
            describe_probe(&probe),
            "exec [cat /tmp/healthy] delay=5s timeout=1s period=10s #success=1 #failure=3"
        );
    }
}
