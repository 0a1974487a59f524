//! `kubectl get` tables: the server-side columns of each kind and kubectl's decoration of them.
//!
//! Port of `pkg/printers/internalversion/printers.go` (printPod, printDeployment,
//! printReplicaSet, printService, printEndpoints, printNode, printNamespace, printEvent) and of
//! `decorateTable` in `cli-runtime/pkg/printers/tableprinter.go` (NAMESPACE, LABELS, kind prefix).

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{
    Container, ContainerStatus, Endpoints, Event, Namespace, Node, Pod, Service,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;

use super::GetOptions;
use super::duration::{age, since};
use super::table::render_get;
use super::util::{format_label_selector, format_labels, s, selector_string};

/// A column: its header and whether it is only shown with `-o wide` (priority 1).
pub(super) type Column = (&'static str, bool);

/// One object's cells (all columns, wide ones included) and the metadata kubectl decorates with.
pub(super) struct Row<'a> {
    pub(super) meta: &'a ObjectMeta,
    pub(super) cells: Vec<String>,
}

/// Applies kubectl's table decoration and prints the table.
///
/// `name_column` is the index of the column with format `name` that `--with-kind` prefixes with
/// `kind_prefix` (for example `deployment.apps`).
pub(super) fn print_table(
    columns: &[Column],
    rows: Vec<Row<'_>>,
    name_column: usize,
    kind_prefix: &str,
    opts: &GetOptions,
) -> String {
    if opts.cells {
        let rows: Vec<&[String]> = rows.iter().map(|r| r.cells.as_slice()).collect();
        return serde_json::json!({"columns": columns, "rows": rows}).to_string();
    }
    let visible: Vec<usize> = (0..columns.len())
        .filter(|&i| opts.wide || !columns[i].1)
        .collect();
    let mut headers: Vec<String> = Vec::new();
    if opts.with_namespace {
        headers.push("Namespace".to_string());
    }
    headers.extend(visible.iter().map(|&i| columns[i].0.to_string()));
    if opts.show_labels {
        headers.push("Labels".to_string());
    }
    let lines: Vec<Vec<String>> = rows
        .into_iter()
        .map(|mut row| {
            if opts.with_kind
                && let Some(name) = row.cells.get_mut(name_column)
            {
                *name = format!("{kind_prefix}/{name}");
            }
            let mut line = Vec::with_capacity(headers.len());
            if opts.with_namespace {
                line.push(s(&row.meta.namespace).to_string());
            }
            line.extend(
                visible
                    .iter()
                    .map(|&i| row.cells.get(i).cloned().unwrap_or_default()),
            );
            if opts.show_labels {
                line.push(format_labels(row.meta.labels.as_ref()));
            }
            line
        })
        .collect();
    render_get(&headers, &lines, opts.no_headers)
}

/// `kubectl get pods`: NAME, READY, STATUS, RESTARTS, AGE; wide adds IP, NODE, NOMINATED NODE,
/// READINESS GATES.
pub fn get_pods(pods: &[Pod], opts: &GetOptions, now: Timestamp) -> String {
    const COLUMNS: &[Column] = &[
        ("Name", false),
        ("Ready", false),
        ("Status", false),
        ("Restarts", false),
        ("Age", false),
        ("IP", true),
        ("Node", true),
        ("Nominated Node", true),
        ("Readiness Gates", true),
    ];
    let rows = pods
        .iter()
        .map(|p| Row {
            meta: &p.metadata,
            cells: pod_cells(p, now),
        })
        .collect();
    print_table(COLUMNS, rows, 0, "pod", opts)
}

/// The READY, STATUS and RESTARTS cells `kubectl get pods` shows for one pod
/// (`printPod`), for views that show pods the way kubectl does.
pub fn pod_status_cells(pod: &Pod, now: Timestamp) -> (String, String, String) {
    let s = pod_summary(pod, now);
    (format!("{}/{}", s.ready, s.total), s.reason, s.restarts)
}

/// What printPod computes for one pod.
struct PodSummary {
    ready: usize,
    total: usize,
    reason: String,
    restarts: String,
}

/// `printPod`'s STATUS logic: phase, init containers, waiting/terminated reasons, Terminating.
fn pod_summary(pod: &Pod, now: Timestamp) -> PodSummary {
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    let containers: &[Container] = spec.map(|s| s.containers.as_slice()).unwrap_or(&[]);
    let init_containers: &[Container] = spec
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or(&[]);
    let empty: Vec<ContainerStatus> = Vec::new();
    let init_statuses = status
        .and_then(|s| s.init_container_statuses.as_ref())
        .unwrap_or(&empty);
    let statuses = status
        .and_then(|s| s.container_statuses.as_ref())
        .unwrap_or(&empty);
    let conditions = status.and_then(|s| s.conditions.as_deref()).unwrap_or(&[]);

    let mut restarts: i64 = 0;
    let mut restartable_init_restarts: i64 = 0;
    let mut total = containers.len();
    let mut ready = 0;
    let mut last_restart: Option<Timestamp> = None;
    let mut last_restartable_init_restart: Option<Timestamp> = None;

    let phase = status.and_then(|s| s.phase.clone()).unwrap_or_default();
    let mut reason = phase.clone();
    let status_reason = status.and_then(|s| s.reason.clone()).unwrap_or_default();
    if !status_reason.is_empty() {
        reason = status_reason.clone();
    }
    for c in conditions {
        if c.type_ == "PodScheduled" && s(&c.reason) == "SchedulingGated" {
            reason = "SchedulingGated".to_string();
        }
    }

    let is_restartable = |name: &str| {
        init_containers
            .iter()
            .any(|c| c.name == name && c.restart_policy.as_deref() == Some("Always"))
    };
    total += init_containers
        .iter()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"))
        .count();

    let mut initializing = false;
    for (i, cs) in init_statuses.iter().enumerate() {
        restarts += i64::from(cs.restart_count);
        let finished = last_terminated_at(cs);
        last_restart = later(last_restart, finished);
        let restartable = is_restartable(&cs.name);
        if restartable {
            restartable_init_restarts += i64::from(cs.restart_count);
            last_restartable_init_restart = later(last_restartable_init_restart, finished);
        }
        let state = cs.state.as_ref();
        let terminated = state.and_then(|st| st.terminated.as_ref());
        let waiting = state.and_then(|st| st.waiting.as_ref());
        if terminated.is_some_and(|t| t.exit_code == 0) {
            continue;
        }
        if restartable && cs.started == Some(true) {
            if cs.ready {
                ready += 1;
            }
            continue;
        }
        if let Some(t) = terminated {
            reason = match t.reason.as_deref() {
                Some(r) if !r.is_empty() => format!("Init:{r}"),
                _ => match t.signal {
                    Some(sig) if sig != 0 => format!("Init:Signal:{sig}"),
                    _ => format!("Init:ExitCode:{}", t.exit_code),
                },
            };
        } else if let Some(r) = waiting
            .and_then(|w| w.reason.as_deref())
            .filter(|r| !r.is_empty() && *r != "PodInitializing")
        {
            reason = format!("Init:{r}");
        } else {
            reason = format!("Init:{i}/{}", init_containers.len());
        }
        initializing = true;
        break;
    }

    let initialized = conditions
        .iter()
        .any(|c| c.type_ == "Initialized" && c.status == "True");
    if !initializing || initialized {
        restarts = restartable_init_restarts;
        last_restart = last_restartable_init_restart;
        let mut has_running = false;
        for cs in statuses.iter().rev() {
            restarts += i64::from(cs.restart_count);
            last_restart = later(last_restart, last_terminated_at(cs));
            let state = cs.state.as_ref();
            let waiting_reason = state
                .and_then(|st| st.waiting.as_ref())
                .and_then(|w| w.reason.as_deref());
            let terminated = state.and_then(|st| st.terminated.as_ref());
            if let Some(r) = waiting_reason.filter(|r| !r.is_empty()) {
                reason = r.to_string();
            } else if let Some(t) = terminated {
                reason = match t.reason.as_deref() {
                    Some(r) if !r.is_empty() => r.to_string(),
                    _ => match t.signal {
                        Some(sig) if sig != 0 => format!("Signal:{sig}"),
                        _ => format!("ExitCode:{}", t.exit_code),
                    },
                };
            } else if cs.ready && state.and_then(|st| st.running.as_ref()).is_some() {
                has_running = true;
                ready += 1;
            }
        }
        // A pod whose main containers finished but one still runs is Running, or NotReady.
        if reason == "Completed" && has_running {
            let pod_ready = conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True");
            reason = if pod_ready { "Running" } else { "NotReady" }.to_string();
        }
    }

    let deleting = pod.metadata.deletion_timestamp.is_some();
    if deleting && status_reason == "NodeLost" {
        reason = "Unknown".to_string();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".to_string();
    }

    let restarts = match last_restart {
        Some(t) if restarts != 0 => format!("{restarts} ({} ago)", since(t, now)),
        _ => restarts.to_string(),
    };
    PodSummary {
        ready,
        total,
        reason,
        restarts,
    }
}

/// When the container last terminated (`lastState.terminated.finishedAt`).
fn last_terminated_at(cs: &ContainerStatus) -> Option<Timestamp> {
    cs.last_state
        .as_ref()
        .and_then(|st| st.terminated.as_ref())
        .and_then(|t| t.finished_at.as_ref())
        .map(|t| t.0)
}

/// The later of two optional times.
fn later(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn pod_cells(pod: &Pod, now: Timestamp) -> Vec<String> {
    let sum = pod_summary(pod, now);
    let status = pod.status.as_ref();
    let spec = pod.spec.as_ref();
    // The internal type carries podIPs; the v1 podIP converts into podIPs[0].
    let ip = status
        .and_then(|st| st.pod_ips.as_ref())
        .and_then(|ips| ips.first())
        .map(|ip| ip.ip.clone())
        .or_else(|| status.and_then(|st| st.pod_ip.clone()))
        .filter(|ip| !ip.is_empty())
        .unwrap_or_else(|| "<none>".to_string());
    let node = spec
        .and_then(|sp| sp.node_name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "<none>".to_string());
    let nominated = status
        .and_then(|st| st.nominated_node_name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "<none>".to_string());
    let gates = spec
        .and_then(|sp| sp.readiness_gates.as_deref())
        .unwrap_or(&[]);
    let readiness_gates = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let conditions = status
            .and_then(|st| st.conditions.as_deref())
            .unwrap_or(&[]);
        let true_conditions = gates
            .iter()
            .filter(|g| {
                conditions
                    .iter()
                    .find(|c| c.type_ == g.condition_type)
                    .is_some_and(|c| c.status == "True")
            })
            .count();
        format!("{true_conditions}/{}", gates.len())
    };
    vec![
        s(&pod.metadata.name).to_string(),
        format!("{}/{}", sum.ready, sum.total),
        sum.reason,
        sum.restarts,
        age(pod.metadata.creation_timestamp.as_ref(), now),
        ip,
        node,
        nominated,
        readiness_gates,
    ]
}

/// `layoutContainerCells`: container names and images, comma-separated.
pub(super) fn container_cells(containers: &[Container]) -> (String, String) {
    let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
    let images: Vec<&str> = containers.iter().map(|c| s(&c.image)).collect();
    (names.join(","), images.join(","))
}

/// `kubectl get deployments`: NAME, READY, UP-TO-DATE, AVAILABLE, AGE; wide adds CONTAINERS,
/// IMAGES, SELECTOR.
pub fn get_deployments(ds: &[Deployment], opts: &GetOptions, now: Timestamp) -> String {
    const COLUMNS: &[Column] = &[
        ("Name", false),
        ("Ready", false),
        ("Up-to-date", false),
        ("Available", false),
        ("Age", false),
        ("Containers", true),
        ("Images", true),
        ("Selector", true),
    ];
    let rows = ds
        .iter()
        .map(|d| {
            let spec = d.spec.as_ref();
            let st = d.status.as_ref();
            let desired = spec.and_then(|s| s.replicas).unwrap_or(1);
            let containers = spec
                .map(|s| {
                    s.template
                        .spec
                        .as_ref()
                        .map(|p| p.containers.as_slice())
                        .unwrap_or(&[])
                })
                .unwrap_or(&[]);
            let (names, images) = container_cells(containers);
            Row {
                meta: &d.metadata,
                cells: vec![
                    s(&d.metadata.name).to_string(),
                    format!(
                        "{}/{desired}",
                        st.and_then(|s| s.ready_replicas).unwrap_or(0)
                    ),
                    st.and_then(|s| s.updated_replicas).unwrap_or(0).to_string(),
                    st.and_then(|s| s.available_replicas)
                        .unwrap_or(0)
                        .to_string(),
                    age(d.metadata.creation_timestamp.as_ref(), now),
                    names,
                    images,
                    selector_string(spec.map(|s| &s.selector)),
                ],
            }
        })
        .collect();
    print_table(COLUMNS, rows, 0, "deployment.apps", opts)
}

/// `kubectl get replicasets`: NAME, DESIRED, CURRENT, READY, AGE; wide adds CONTAINERS, IMAGES,
/// SELECTOR.
pub fn get_replicasets(rss: &[ReplicaSet], opts: &GetOptions, now: Timestamp) -> String {
    const COLUMNS: &[Column] = &[
        ("Name", false),
        ("Desired", false),
        ("Current", false),
        ("Ready", false),
        ("Age", false),
        ("Containers", true),
        ("Images", true),
        ("Selector", true),
    ];
    let rows = rss
        .iter()
        .map(|rs| {
            let spec = rs.spec.as_ref();
            let st = rs.status.as_ref();
            let containers = spec
                .and_then(|s| s.template.as_ref())
                .and_then(|t| t.spec.as_ref())
                .map(|p| p.containers.as_slice())
                .unwrap_or(&[]);
            let (names, images) = container_cells(containers);
            Row {
                meta: &rs.metadata,
                cells: vec![
                    s(&rs.metadata.name).to_string(),
                    spec.and_then(|s| s.replicas).unwrap_or(1).to_string(),
                    st.map(|s| s.replicas).unwrap_or(0).to_string(),
                    st.and_then(|s| s.ready_replicas).unwrap_or(0).to_string(),
                    age(rs.metadata.creation_timestamp.as_ref(), now),
                    names,
                    images,
                    format_label_selector(spec.map(|s| &s.selector)),
                ],
            }
        })
        .collect();
    print_table(COLUMNS, rows, 0, "replicaset.apps", opts)
}

/// `kubectl get services`: NAME, TYPE, CLUSTER-IP, EXTERNAL-IP, PORT(S), AGE; wide adds SELECTOR.
pub fn get_services(svcs: &[Service], opts: &GetOptions, now: Timestamp) -> String {
    const COLUMNS: &[Column] = &[
        ("Name", false),
        ("Type", false),
        ("Cluster-IP", false),
        ("External-IP", false),
        ("Port(s)", false),
        ("Age", false),
        ("Selector", true),
    ];
    let rows = svcs
        .iter()
        .map(|svc| {
            let spec = svc.spec.as_ref();
            let cluster_ip = spec
                .and_then(|s| {
                    s.cluster_ips
                        .as_ref()
                        .and_then(|ips| ips.first().cloned())
                        .or_else(|| s.cluster_ip.clone())
                })
                .filter(|ip| !ip.is_empty())
                .unwrap_or_else(|| "<none>".to_string());
            let ports = spec
                .map(|s| port_string(s.ports.as_deref().unwrap_or(&[])))
                .unwrap_or_default();
            Row {
                meta: &svc.metadata,
                cells: vec![
                    s(&svc.metadata.name).to_string(),
                    service_type(svc).to_string(),
                    cluster_ip,
                    service_external_ip(svc, opts.wide),
                    if ports.is_empty() {
                        "<none>".to_string()
                    } else {
                        ports
                    },
                    age(svc.metadata.creation_timestamp.as_ref(), now),
                    format_labels(spec.and_then(|s| s.selector.as_ref())),
                ],
            }
        })
        .collect();
    print_table(COLUMNS, rows, 0, "service", opts)
}

/// The service type; the API server defaults an unset type to ClusterIP.
pub(crate) fn service_type(svc: &Service) -> &str {
    svc.spec
        .as_ref()
        .and_then(|s| s.type_.as_deref())
        .unwrap_or("ClusterIP")
}

/// `makePortString`: `80/TCP`, or `8080:30080/TCP` with a node port.
fn port_string(ports: &[k8s_openapi::api::core::v1::ServicePort]) -> String {
    ports
        .iter()
        .map(|p| {
            let proto = p.protocol.as_deref().unwrap_or("TCP");
            match p.node_port {
                Some(np) if np > 0 => format!("{}:{np}/{proto}", p.port),
                _ => format!("{}/{proto}", p.port),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// `getServiceExternalIP`: `<none>`, `<pending>`, the load balancer ingress, or external IPs.
fn service_external_ip(svc: &Service, wide: bool) -> String {
    let spec = svc.spec.as_ref();
    let external_ips: &[String] = spec.and_then(|s| s.external_ips.as_deref()).unwrap_or(&[]);
    match service_type(svc) {
        "ClusterIP" | "NodePort" => {
            if external_ips.is_empty() {
                "<none>".to_string()
            } else {
                external_ips.join(",")
            }
        }
        "LoadBalancer" => {
            let lb = load_balancer_status(svc, wide);
            if !external_ips.is_empty() {
                let mut all: Vec<String> = Vec::new();
                if !lb.is_empty() {
                    all.extend(lb.split(',').map(str::to_string));
                }
                all.extend(external_ips.iter().cloned());
                return all.join(",");
            }
            if lb.is_empty() {
                "<pending>".to_string()
            } else {
                lb
            }
        }
        "ExternalName" => spec
            .and_then(|s| s.external_name.clone())
            .unwrap_or_default(),
        _ => "<unknown>".to_string(),
    }
}

/// `loadBalancerStatusStringer`: sorted unique ingress IPs or hostnames, cut to 16 bytes unless wide.
fn load_balancer_status(svc: &Service, wide: bool) -> String {
    let mut set = std::collections::BTreeSet::new();
    let ingress = svc
        .status
        .as_ref()
        .and_then(|st| st.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_deref())
        .unwrap_or(&[]);
    for i in ingress {
        if let Some(ip) = i.ip.as_deref().filter(|ip| !ip.is_empty()) {
            set.insert(ip.to_string());
        } else if let Some(h) = i.hostname.as_deref().filter(|h| !h.is_empty()) {
            set.insert(h.to_string());
        }
    }
    let r = set.into_iter().collect::<Vec<_>>().join(",");
    if !wide && r.len() > 16 {
        // Go slices bytes; the ingress values are ASCII addresses and host names.
        let cut: String = r.chars().take(13).collect();
        return format!("{cut}...");
    }
    r
}

/// `kubectl get endpoints`: NAME, ENDPOINTS, AGE.
pub fn get_endpoints(eps: &[Endpoints], opts: &GetOptions, now: Timestamp) -> String {
    const COLUMNS: &[Column] = &[("Name", false), ("Endpoints", false), ("Age", false)];
    let rows = eps
        .iter()
        .map(|ep| Row {
            meta: &ep.metadata,
            cells: vec![
                s(&ep.metadata.name).to_string(),
                format_endpoints(ep),
                age(ep.metadata.creation_timestamp.as_ref(), now),
            ],
        })
        .collect();
    print_table(COLUMNS, rows, 0, "endpoints", opts)
}

/// `formatEndpoints` with all ports: up to three `ip:port` entries, then `+ N more...`.
fn format_endpoints(ep: &Endpoints) -> String {
    let subsets = ep.subsets.as_deref().unwrap_or(&[]);
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
            // Headless services may have no ports.
            count += addresses.len();
            for a in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(a.ip.clone());
            }
            continue;
        }
        for port in ports {
            count += addresses.len();
            for a in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(join_host_port(&a.ip, port.port));
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

/// `net.JoinHostPort`: brackets IPv6 addresses.
pub(crate) fn join_host_port(host: &str, port: i32) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `kubectl get nodes`: NAME, STATUS, ROLES, AGE, VERSION; wide adds INTERNAL-IP, EXTERNAL-IP,
/// OS-IMAGE, KERNEL-VERSION, CONTAINER-RUNTIME.
pub fn get_nodes(nodes: &[Node], opts: &GetOptions, now: Timestamp) -> String {
    const COLUMNS: &[Column] = &[
        ("Name", false),
        ("Status", false),
        ("Roles", false),
        ("Age", false),
        ("Version", false),
        ("Internal-IP", true),
        ("External-IP", true),
        ("OS-Image", true),
        ("Kernel-Version", true),
        ("Container-Runtime", true),
    ];
    let rows = nodes
        .iter()
        .map(|node| {
            let st = node.status.as_ref();
            let info = st.and_then(|s| s.node_info.as_ref());
            let or_unknown = |v: Option<&String>| {
                v.filter(|v| !v.is_empty())
                    .cloned()
                    .unwrap_or_else(|| "<unknown>".to_string())
            };
            let roles = node_roles(node);
            Row {
                meta: &node.metadata,
                cells: vec![
                    s(&node.metadata.name).to_string(),
                    node_status(node),
                    if roles.is_empty() {
                        "<none>".to_string()
                    } else {
                        roles.join(",")
                    },
                    age(node.metadata.creation_timestamp.as_ref(), now),
                    info.map(|i| i.kubelet_version.clone()).unwrap_or_default(),
                    node_address(node, "InternalIP"),
                    node_address(node, "ExternalIP"),
                    or_unknown(info.map(|i| &i.os_image)),
                    or_unknown(info.map(|i| &i.kernel_version)),
                    or_unknown(info.map(|i| &i.container_runtime_version)),
                ],
            }
        })
        .collect();
    print_table(COLUMNS, rows, 0, "node", opts)
}

/// `Ready`, `NotReady` or `Unknown`, plus `,SchedulingDisabled` for a cordoned node.
pub(crate) fn node_status(node: &Node) -> String {
    let conditions = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or(&[]);
    // Go keeps the last condition of each type in a map; only Ready is shown.
    let mut status: Vec<String> = Vec::new();
    if let Some(c) = conditions.iter().rev().find(|c| c.type_ == "Ready") {
        status.push(if c.status == "True" {
            "Ready".to_string()
        } else {
            "NotReady".to_string()
        });
    }
    if status.is_empty() {
        status.push("Unknown".to_string());
    }
    if node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
        status.push("SchedulingDisabled".to_string());
    }
    status.join(",")
}

/// `findNodeRoles`: `node-role.kubernetes.io/<role>` label keys and `kubernetes.io/role` values,
/// sorted and unique.
pub(crate) fn node_roles(node: &Node) -> Vec<String> {
    let mut roles = std::collections::BTreeSet::new();
    for (k, v) in node.metadata.labels.iter().flatten() {
        if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
            if !role.is_empty() {
                roles.insert(role.to_string());
            }
        } else if k == "kubernetes.io/role" && !v.is_empty() {
            roles.insert(v.clone());
        }
    }
    roles.into_iter().collect()
}

/// The first address of the given type, or `<none>`.
fn node_address(node: &Node, kind: &str) -> String {
    node.status
        .as_ref()
        .and_then(|s| s.addresses.as_deref())
        .and_then(|a| a.iter().find(|a| a.type_ == kind))
        .map(|a| a.address.clone())
        .unwrap_or_else(|| "<none>".to_string())
}

/// `kubectl get namespaces`: NAME, STATUS, AGE.
pub fn get_namespaces(nss: &[Namespace], opts: &GetOptions, now: Timestamp) -> String {
    const COLUMNS: &[Column] = &[("Name", false), ("Status", false), ("Age", false)];
    let rows = nss
        .iter()
        .map(|ns| Row {
            meta: &ns.metadata,
            cells: vec![
                s(&ns.metadata.name).to_string(),
                ns.status
                    .as_ref()
                    .and_then(|st| st.phase.clone())
                    .unwrap_or_default(),
                age(ns.metadata.creation_timestamp.as_ref(), now),
            ],
        })
        .collect();
    print_table(COLUMNS, rows, 0, "namespace", opts)
}

/// `kubectl get events`: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE; wide adds SUBOBJECT and SOURCE
/// before MESSAGE, then FIRST SEEN, COUNT, NAME.
pub fn get_events(events: &[Event], opts: &GetOptions, now: Timestamp) -> String {
    const COLUMNS: &[Column] = &[
        ("Last Seen", false),
        ("Type", false),
        ("Reason", false),
        ("Object", false),
        ("Subobject", true),
        ("Source", true),
        ("Message", false),
        ("First Seen", true),
        ("Count", true),
        ("Name", true),
    ];
    let rows = events
        .iter()
        .map(|e| {
            let first = match (&e.first_timestamp, &e.event_time) {
                (Some(t), _) => since(t.0, now),
                (None, Some(t)) => since(t.0, now),
                (None, None) => "<unknown>".to_string(),
            };
            let mut last = match &e.last_timestamp {
                Some(t) => since(t.0, now),
                None => first.clone(),
            };
            let mut count = e.count.unwrap_or(0);
            if let Some(series) = &e.series {
                last = series
                    .last_observed_time
                    .as_ref()
                    .map(|t| since(t.0, now))
                    .unwrap_or_else(|| "<unknown>".to_string());
                count = series.count.unwrap_or(0);
            } else if count == 0 {
                // Singleton events of the new API have no count.
                count = 1;
            }
            let obj = &e.involved_object;
            let kind = s(&obj.kind).to_lowercase();
            let target = match obj.name.as_deref() {
                Some(n) if !n.is_empty() => format!("{kind}/{n}"),
                _ => kind,
            };
            let source = e.source.as_ref();
            let component = first_non_empty(
                source.and_then(|s| s.component.as_deref()),
                e.reporting_component.as_deref(),
            );
            let host = first_non_empty(
                source.and_then(|s| s.host.as_deref()),
                e.reporting_instance.as_deref(),
            );
            let source = if host.is_empty() {
                component.to_string()
            } else {
                format!("{component}, {host}")
            };
            Row {
                meta: &e.metadata,
                cells: vec![
                    last,
                    s(&e.type_).to_string(),
                    s(&e.reason).to_string(),
                    target,
                    s(&obj.field_path).to_string(),
                    source,
                    s(&e.message).trim().to_string(),
                    first,
                    count.to_string(),
                    s(&e.metadata.name).to_string(),
                ],
            }
        })
        .collect();
    print_table(COLUMNS, rows, 9, "event", opts)
}

fn first_non_empty<'a>(a: Option<&'a str>, b: Option<&'a str>) -> &'a str {
    match a {
        Some(a) if !a.is_empty() => a,
        _ => b.unwrap_or(""),
    }
}

/// `printHorizontalPodAutoscaler`: NAME, REFERENCE (`Deployment/web`), TARGETS
/// (`formatHPAMetrics`: `cpu: 85%/50%`), MINPODS, MAXPODS, REPLICAS, AGE.
pub fn get_hpas(
    hpas: &[k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler],
    opts: &GetOptions,
    now: Timestamp,
) -> String {
    const COLUMNS: &[Column] = &[
        ("Name", false),
        ("Reference", false),
        ("Targets", false),
        ("MinPods", false),
        ("MaxPods", false),
        ("Replicas", false),
        ("Age", false),
    ];
    let rows = hpas
        .iter()
        .map(|h| {
            let spec = h.spec.clone().unwrap_or_default();
            let status = h.status.clone().unwrap_or_default();
            Row {
                meta: &h.metadata,
                cells: vec![
                    s(&h.metadata.name).to_string(),
                    format!(
                        "{}/{}",
                        spec.scale_target_ref.kind, spec.scale_target_ref.name
                    ),
                    format_hpa_metrics(
                        spec.metrics.as_deref().unwrap_or_default(),
                        status.current_metrics.as_deref().unwrap_or_default(),
                    ),
                    spec.min_replicas
                        .map_or_else(|| "<unset>".to_string(), |m| m.to_string()),
                    spec.max_replicas.to_string(),
                    status.current_replicas.unwrap_or(0).to_string(),
                    age(h.metadata.creation_timestamp.as_ref(), now),
                ],
            }
        })
        .collect();
    print_table(
        COLUMNS,
        rows,
        0,
        "horizontalpodautoscaler.autoscaling",
        opts,
    )
}

/// `formatHPAMetrics`: each metric's current/target, at most two, then `+ N more...`.
pub fn format_hpa_metrics(
    specs: &[k8s_openapi::api::autoscaling::v2::MetricSpec],
    statuses: &[k8s_openapi::api::autoscaling::v2::MetricStatus],
) -> String {
    if specs.is_empty() {
        return "<none>".to_string();
    }
    const MAXIMUM: usize = 2;
    let unknown = || "<unknown>".to_string();
    let q = |v: &Option<k8s_openapi::apimachinery::pkg::api::resource::Quantity>| {
        v.as_ref()
            .map(|q| q.0.clone())
            .unwrap_or_else(|| "0".into())
    };
    let mut list: Vec<String> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let st = statuses.get(i);
        let utilization =
            |target: &k8s_openapi::api::autoscaling::v2::MetricTarget,
             current: Option<&k8s_openapi::api::autoscaling::v2::MetricValueStatus>,
             name: &str| {
                if target.average_value.is_some() {
                    let cur = current.map_or_else(unknown, |c| q(&c.average_value));
                    format!("{name}: {cur}/{}", q(&target.average_value))
                } else {
                    let cur = current
                        .and_then(|c| c.average_utilization)
                        .map_or_else(unknown, |u| format!("{u}%"));
                    let tgt = target
                        .average_utilization
                        .map_or_else(|| "<auto>".to_string(), |u| format!("{u}%"));
                    format!("{name}: {cur}/{tgt}")
                }
            };
        let text = match (spec.type_.as_str(), spec) {
            (
                "Resource",
                k8s_openapi::api::autoscaling::v2::MetricSpec {
                    resource: Some(r), ..
                },
            ) => {
                let cur = st.and_then(|s| s.resource.as_ref()).map(|r| &r.current);
                utilization(&r.target, cur, &r.name)
            }
            (
                "ContainerResource",
                k8s_openapi::api::autoscaling::v2::MetricSpec {
                    container_resource: Some(r),
                    ..
                },
            ) => {
                let cur = st
                    .and_then(|s| s.container_resource.as_ref())
                    .map(|r| &r.current);
                utilization(&r.target, cur, &r.name)
            }
            ("Pods", k8s_openapi::api::autoscaling::v2::MetricSpec { pods: Some(p), .. }) => {
                let cur = st
                    .and_then(|s| s.pods.as_ref())
                    .map_or_else(unknown, |p| q(&p.current.average_value));
                format!("{cur}/{}", q(&p.target.average_value))
            }
            (
                "Object",
                k8s_openapi::api::autoscaling::v2::MetricSpec {
                    object: Some(o), ..
                },
            ) => {
                let cur = st.and_then(|s| s.object.as_ref()).map(|o| &o.current);
                if o.target.average_value.is_some() {
                    let c = cur.map_or_else(unknown, |c| q(&c.average_value));
                    format!("{c}/{} (avg)", q(&o.target.average_value))
                } else {
                    let c = cur.map_or_else(unknown, |c| q(&c.value));
                    format!("{c}/{}", q(&o.target.value))
                }
            }
            (
                "External",
                k8s_openapi::api::autoscaling::v2::MetricSpec {
                    external: Some(x), ..
                },
            ) => {
                let cur = st.and_then(|s| s.external.as_ref()).map(|x| &x.current);
                if x.target.average_value.is_some() {
                    let c = cur
                        .and_then(|c| c.average_value.as_ref())
                        .map_or_else(unknown, |v| v.0.clone());
                    format!("{c}/{} (avg)", q(&x.target.average_value))
                } else {
                    let c = cur.map_or_else(unknown, |c| q(&c.value));
                    format!("{c}/{}", q(&x.target.value))
                }
            }
            _ => "<unknown type>".to_string(),
        };
        list.push(text);
    }
    let count = list.len();
    if count > MAXIMUM {
        list.truncate(MAXIMUM);
        return format!("{} + {} more...", list.join(", "), count - MAXIMUM);
    }
    list.join(", ")
}

#[cfg(test)]
mod tests {
    //! Snapshot-style tests; the pod STATUS cases follow `TestPrintPod*` in printers_test.go.
    use super::*;
    use crate::kubectl::print::fixtures::*;

    fn check(actual: String, expected: &str) {
        assert_eq!(
            actual, expected,
            "\n--- actual ---\n{actual}\n--- expected ---\n{expected}"
        );
    }

    #[test]
    fn pods_in_every_state() {
        check(
            get_pods(&course_pods(), &GetOptions::default(), now()),
            "\
NAME                                 READY   STATUS              RESTARTS      AGE
credit-scoring-api-7c9d8f6b5-x2x7q   1/1     Running             0             60m
credit-scoring-api-5d8c7b9f4-4k8zt   0/1     ContainerCreating   0             20s
credit-scoring-api-5d8c7b9f4-9fj2m   0/1     Running             0             90s
credit-scoring-api-5d8c7b9f4-crash   0/1     CrashLoopBackOff    3 (45s ago)   5m
credit-scoring-api-5d8c7b9f4-pull1   0/1     ErrImagePull        0             30s
credit-scoring-api-5d8c7b9f4-pull2   0/1     ImagePullBackOff    0             2m10s
credit-scoring-api-5d8c7b9f4-oom     0/1     OOMKilled           1 (10s ago)   3m
credit-scoring-api-5d8c7b9f4-error   0/1     Error               0             3m
batch-report                         0/1     Completed           0             50m
credit-scoring-api-7c9d8f6b5-term1   1/1     Terminating         0             60m
sidecar-demo                         1/2     NotReady            0             4m
init-demo                            0/1     Init:0/1            0             15s
unscheduled                          0/1     Pending             0             8s
",
        );
    }

    #[test]
    fn pods_wide_with_namespace_and_kind() {
        let pods = course_pods();
        let opts = GetOptions {
            wide: true,
            with_kind: true,
            with_namespace: true,
            ..Default::default()
        };
        check(
            get_pods(&pods[..3], &opts, now()),
            "\
NAMESPACE     NAME                                     READY   STATUS              RESTARTS   AGE   IP           NODE     NOMINATED NODE   READINESS GATES
live-coding   pod/credit-scoring-api-7c9d8f6b5-x2x7q   1/1     Running             0          60m   10.244.1.5   node-1   <none>           <none>
live-coding   pod/credit-scoring-api-5d8c7b9f4-4k8zt   0/1     ContainerCreating   0          20s   <none>       node-2   <none>           <none>
live-coding   pod/credit-scoring-api-5d8c7b9f4-9fj2m   0/1     Running             0          90s   10.244.2.7   node-2   <none>           <none>
",
        );
    }

    #[test]
    fn pods_no_headers_and_labels() {
        let pods = course_pods();
        let opts = GetOptions {
            no_headers: true,
            show_labels: true,
            ..Default::default()
        };
        check(
            get_pods(&pods[..1], &opts, now()),
            "credit-scoring-api-7c9d8f6b5-x2x7q   1/1   Running   0     60m   app=credit-scoring-api,pod-template-hash=7c9d8f6b5\n",
        );
    }

    #[test]
    fn empty_list_prints_nothing() {
        check(get_pods(&[], &GetOptions::default(), now()), "");
    }

    #[test]
    fn deployment_mid_rollout() {
        check(
            get_deployments(&[course_deployment()], &GetOptions::default(), now()),
            "\
NAME                 READY   UP-TO-DATE   AVAILABLE   AGE
credit-scoring-api   10/10   2            10          60m
",
        );
        let opts = GetOptions {
            wide: true,
            with_kind: true,
            ..Default::default()
        };
        check(
            get_deployments(&[course_deployment()], &opts, now()),
            "\
NAME                                 READY   UP-TO-DATE   AVAILABLE   AGE   CONTAINERS   IMAGES                                     SELECTOR
deployment.apps/credit-scoring-api   10/10   2            10          60m   api          registry.local/credit-scoring-api:single   app=credit-scoring-api
",
        );
    }

    #[test]
    fn replicasets_old_and_new() {
        let opts = GetOptions {
            wide: true,
            ..Default::default()
        };
        check(
            get_replicasets(&[old_rs(), new_rs()], &opts, now()),
            "\
NAME                           DESIRED   CURRENT   READY   AGE   CONTAINERS   IMAGES                                       SELECTOR
credit-scoring-api-7c9d8f6b5   10        10        10      60m   api          registry.local/credit-scoring-api:baseline   app=credit-scoring-api,pod-template-hash=7c9d8f6b5
credit-scoring-api-5d8c7b9f4   2         2         0       2m    api          registry.local/credit-scoring-api:single     app=credit-scoring-api,pod-template-hash=5d8c7b9f4
",
        );
    }

    #[test]
    fn services_of_each_type() {
        check(
            get_services(&course_services(), &GetOptions::default(), now()),
            "\
NAME                 TYPE           CLUSTER-IP    EXTERNAL-IP   PORT(S)          AGE
credit-scoring-api   ClusterIP      10.96.45.12   <none>        80/TCP           60m
credit-scoring-np    NodePort       10.96.45.13   <none>        8080:30080/TCP   60m
credit-scoring-lb    LoadBalancer   10.96.45.14   <pending>     80:31380/TCP     60m
headless             ClusterIP      None          <none>        <none>           60m
",
        );
    }

    #[test]
    fn endpoints_more_than_three() {
        check(
            get_endpoints(&[course_endpoints()], &GetOptions::default(), now()),
            "\
NAME                 ENDPOINTS                                                     AGE
credit-scoring-api   10.244.1.5:8080,10.244.1.6:8080,10.244.2.7:8080 + 1 more...   60m
",
        );
    }

    #[test]
    fn nodes_ready_and_cordoned() {
        check(
            get_nodes(&course_nodes(), &GetOptions::default(), now()),
            "\
NAME            STATUS                     ROLES           AGE   VERSION
control-plane   Ready                      control-plane   2d    v1.35.0
node-1          Ready,SchedulingDisabled   <none>          2d    v1.35.0
node-2          NotReady                   <none>          2d    v1.35.0
",
        );
    }

    #[test]
    fn namespaces() {
        check(
            get_namespaces(&course_namespaces(), &GetOptions::default(), now()),
            "\
NAME          STATUS        AGE
default       Active        2d
live-coding   Terminating   60m
",
        );
    }

    #[test]
    fn events_plain_and_wide() {
        check(
            get_events(&course_events(), &GetOptions::default(), now()),
            "\
LAST SEEN   TYPE      REASON              OBJECT                                   MESSAGE
2m          Normal    ScalingReplicaSet   deployment/credit-scoring-api            Scaled up replica set credit-scoring-api-5d8c7b9f4 from 0 to 2
45s         Warning   BackOff             pod/credit-scoring-api-5d8c7b9f4-crash   Back-off restarting failed container api in pod credit-scoring-api-5d8c7b9f4-crash_live-coding(uid-crash)
",
        );
    }
}
