//! Test fixtures: the course Deployment `credit-scoring-api` in `live-coding`, mid-rollout from
//! revision 1 (`:baseline`) to revision 2 (`:single`), with pods in every state kubesim produces.
//!
//! "Now" is 2026-11-23T12:00:00Z; the Deployment was created an hour earlier.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Endpoints, Event, Namespace, Node, Pod, Service};
use k8s_openapi::jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// The fixed "now" of every test.
pub(crate) fn now() -> Timestamp {
    ts("2026-11-23T12:00:00Z")
}

/// Parses an RFC 3339 timestamp.
pub(crate) fn ts(s: &str) -> Timestamp {
    s.parse().expect("fixture timestamp")
}

/// `now` minus `secs` seconds, as RFC 3339.
pub(crate) fn ago(secs: i64) -> String {
    let t = now() - k8s_openapi::jiff::SignedDuration::from_secs(secs);
    t.to_string()
}

fn from<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("fixture object")
}

const DEPLOY_UID: &str = "0b6f3d1e-6c1a-4d8e-9a59-1f1f7f0e0001";
const OLD_RS_UID: &str = "0b6f3d1e-6c1a-4d8e-9a59-1f1f7f0e0002";
const NEW_RS_UID: &str = "0b6f3d1e-6c1a-4d8e-9a59-1f1f7f0e0003";

/// The pod template of the course Deployment with the given image and optional hash label.
pub(crate) fn template(image: &str, hash: Option<&str>) -> Value {
    let mut labels = json!({"app": "credit-scoring-api"});
    if let Some(h) = hash {
        labels["pod-template-hash"] = json!(h);
    }
    json!({
        "metadata": {"labels": labels},
        "spec": {
            "containers": [{
                "name": "api",
                "image": image,
                "imagePullPolicy": "IfNotPresent",
                "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                "readinessProbe": {
                    "httpGet": {"path": "/", "port": 8080, "scheme": "HTTP"},
                    "periodSeconds": 5, "timeoutSeconds": 5,
                    "successThreshold": 1, "failureThreshold": 3
                },
                "resources": {},
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File"
            }],
            "dnsPolicy": "ClusterFirst",
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
            "securityContext": {},
            "terminationGracePeriodSeconds": 30
        }
    })
}

/// The Deployment: 10 replicas, RollingUpdate maxSurge 2 / maxUnavailable 0, mid-rollout.
pub(crate) fn course_deployment() -> Deployment {
    from(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "credit-scoring-api",
            "namespace": "live-coding",
            "uid": DEPLOY_UID,
            "resourceVersion": "4711",
            "generation": 2,
            "creationTimestamp": ago(3600),
            "labels": {"app": "credit-scoring-api"},
            "annotations": {"deployment.kubernetes.io/revision": "2"}
        },
        "spec": {
            "replicas": 10,
            "selector": {"matchLabels": {"app": "credit-scoring-api"}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 2, "maxUnavailable": 0}
            },
            "minReadySeconds": 0,
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "template": template("registry.local/credit-scoring-api:single", None)
        },
        "status": {
            "observedGeneration": 2,
            "replicas": 12,
            "updatedReplicas": 2,
            "readyReplicas": 10,
            "availableReplicas": 10,
            "unavailableReplicas": 2,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                 "message": "Deployment has minimum availability.",
                 "lastUpdateTime": ago(3500), "lastTransitionTime": ago(3500)},
                {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated",
                 "message": "ReplicaSet \"credit-scoring-api-5d8c7b9f4\" is progressing.",
                 "lastUpdateTime": ago(120), "lastTransitionTime": ago(3600)}
            ]
        }
    }))
}

fn rs(
    name: &str,
    uid: &str,
    hash: &str,
    image: &str,
    revision: &str,
    created: i64,
    counts: Value,
) -> ReplicaSet {
    from(json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": "live-coding",
            "uid": uid,
            "creationTimestamp": ago(created),
            "labels": {"app": "credit-scoring-api", "pod-template-hash": hash},
            "annotations": {
                "deployment.kubernetes.io/desired-replicas": "10",
                "deployment.kubernetes.io/max-replicas": "12",
                "deployment.kubernetes.io/revision": revision
            },
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "Deployment", "name": "credit-scoring-api",
                "uid": DEPLOY_UID, "controller": true, "blockOwnerDeletion": true
            }]
        },
        "spec": {
            "replicas": counts["desired"],
            "selector": {"matchLabels": {"app": "credit-scoring-api", "pod-template-hash": hash}},
            "template": template(image, Some(hash))
        },
        "status": {
            "replicas": counts["current"],
            "readyReplicas": counts["ready"],
            "availableReplicas": counts["ready"],
            "fullyLabeledReplicas": counts["current"],
            "observedGeneration": 1
        }
    }))
}

/// Revision 1, still at 10 replicas.
pub(crate) fn old_rs() -> ReplicaSet {
    rs(
        "credit-scoring-api-7c9d8f6b5",
        OLD_RS_UID,
        "7c9d8f6b5",
        "registry.local/credit-scoring-api:baseline",
        "1",
        3600,
        json!({"desired": 10, "current": 10, "ready": 10}),
    )
}

/// Revision 2, two surge pods created, none ready yet.
pub(crate) fn new_rs() -> ReplicaSet {
    rs(
        "credit-scoring-api-5d8c7b9f4",
        NEW_RS_UID,
        "5d8c7b9f4",
        "registry.local/credit-scoring-api:single",
        "2",
        120,
        json!({"desired": 2, "current": 2, "ready": 0}),
    )
}

/// A pod of the course Deployment with the given status.
fn pod(name: &str, hash: &str, created: i64, node: Option<&str>, status: Value) -> Value {
    let (rs_name, rs_uid) = if hash == "7c9d8f6b5" {
        ("credit-scoring-api-7c9d8f6b5", OLD_RS_UID)
    } else {
        ("credit-scoring-api-5d8c7b9f4", NEW_RS_UID)
    };
    let image = if hash == "7c9d8f6b5" {
        "registry.local/credit-scoring-api:baseline"
    } else {
        "registry.local/credit-scoring-api:single"
    };
    let mut spec = template(image, Some(hash))["spec"].clone();
    if let Some(n) = node {
        spec["nodeName"] = json!(n);
    }
    spec["serviceAccountName"] = json!("default");
    spec["priority"] = json!(0);
    spec["tolerations"] = json!([
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
    ]);
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "live-coding",
            "uid": format!("uid-{name}"),
            "creationTimestamp": ago(created),
            "labels": {"app": "credit-scoring-api", "pod-template-hash": hash},
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_name,
                "uid": rs_uid, "controller": true, "blockOwnerDeletion": true
            }]
        },
        "spec": spec,
        "status": status
    })
}

fn conditions(initialized: bool, ready: bool, scheduled_ago: i64) -> Value {
    let b = |v: bool| if v { "True" } else { "False" };
    json!([
        {"type": "PodReadyToStartContainers", "status": "True", "lastTransitionTime": ago(scheduled_ago)},
        {"type": "Initialized", "status": b(initialized), "lastTransitionTime": ago(scheduled_ago)},
        {"type": "Ready", "status": b(ready), "lastTransitionTime": ago(scheduled_ago)},
        {"type": "ContainersReady", "status": b(ready), "lastTransitionTime": ago(scheduled_ago)},
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": ago(scheduled_ago)}
    ])
}

fn api_status(ready: bool, restarts: i32, state: Value, last_state: Value, image: &str) -> Value {
    json!({
        "name": "api",
        "image": image,
        "imageID": "",
        "containerID": "containerd://0123456789abcdef",
        "ready": ready,
        "started": ready,
        "restartCount": restarts,
        "state": state,
        "lastState": last_state
    })
}

/// A running, ready pod of the old ReplicaSet (the first of `course_pods`).
pub(crate) fn ready_old_pod() -> Pod {
    from(pod(
        "credit-scoring-api-7c9d8f6b5-x2x7q",
        "7c9d8f6b5",
        3600,
        Some("node-1"),
        json!({
            "phase": "Running",
            "conditions": conditions(true, true, 3590),
            "hostIP": "172.18.0.3",
            "hostIPs": [{"ip": "172.18.0.3"}],
            "podIP": "10.244.1.5",
            "podIPs": [{"ip": "10.244.1.5"}],
            "startTime": ago(3595),
            "qosClass": "BestEffort",
            "containerStatuses": [api_status(true, 0,
                json!({"running": {"startedAt": ago(3590)}}), json!({}),
                "registry.local/credit-scoring-api:baseline")]
        }),
    ))
}

/// The CrashLoopBackOff pod: 3 restarts, the last one 45 seconds ago.
pub(crate) fn crashloop_pod() -> Pod {
    from(pod(
        "credit-scoring-api-5d8c7b9f4-crash",
        "5d8c7b9f4",
        300,
        Some("node-2"),
        json!({
            "phase": "Running",
            "conditions": conditions(true, false, 295),
            "hostIP": "172.18.0.4",
            "podIP": "10.244.2.9",
            "podIPs": [{"ip": "10.244.2.9"}],
            "startTime": ago(298),
            "containerStatuses": [api_status(false, 3,
                json!({"waiting": {"reason": "CrashLoopBackOff",
                    "message": "back-off 40s restarting failed container=api pod=credit-scoring-api-5d8c7b9f4-crash_live-coding(uid-crash)"}}),
                json!({"terminated": {"exitCode": 1, "reason": "Error",
                    "startedAt": ago(50), "finishedAt": ago(45)}}),
                "registry.local/credit-scoring-api:single")]
        }),
    ))
}

/// Pods in each state kubesim produces, in a fixed order.
pub(crate) fn course_pods() -> Vec<Pod> {
    let new = "registry.local/credit-scoring-api:single";
    let waiting = |reason: &str| json!({"waiting": {"reason": reason}});
    let mut pods = vec![
        ready_old_pod(),
        from(pod(
            "credit-scoring-api-5d8c7b9f4-4k8zt",
            "5d8c7b9f4",
            20,
            Some("node-2"),
            json!({
                "phase": "Pending",
                "conditions": conditions(true, false, 19),
                "hostIP": "172.18.0.4",
                "startTime": ago(19),
                "containerStatuses": [api_status(false, 0, waiting("ContainerCreating"), json!({}), new)]
            }),
        )),
        from(pod(
            "credit-scoring-api-5d8c7b9f4-9fj2m",
            "5d8c7b9f4",
            90,
            Some("node-2"),
            json!({
                "phase": "Running",
                "conditions": conditions(true, false, 88),
                "hostIP": "172.18.0.4",
                "podIP": "10.244.2.7",
                "podIPs": [{"ip": "10.244.2.7"}],
                "startTime": ago(89),
                "containerStatuses": [api_status(false, 0, json!({"running": {"startedAt": ago(80)}}), json!({}), new)]
            }),
        )),
        crashloop_pod(),
        from(pod(
            "credit-scoring-api-5d8c7b9f4-pull1",
            "5d8c7b9f4",
            30,
            Some("node-1"),
            json!({
                "phase": "Pending",
                "conditions": conditions(true, false, 29),
                "containerStatuses": [api_status(false, 0, waiting("ErrImagePull"), json!({}), new)]
            }),
        )),
        from(pod(
            "credit-scoring-api-5d8c7b9f4-pull2",
            "5d8c7b9f4",
            130,
            Some("node-1"),
            json!({
                "phase": "Pending",
                "conditions": conditions(true, false, 129),
                "containerStatuses": [api_status(false, 0, waiting("ImagePullBackOff"), json!({}), new)]
            }),
        )),
        from(pod(
            "credit-scoring-api-5d8c7b9f4-oom",
            "5d8c7b9f4",
            180,
            Some("node-2"),
            json!({
                "phase": "Running",
                "conditions": conditions(true, false, 179),
                "containerStatuses": [api_status(false, 1,
                    json!({"terminated": {"exitCode": 137, "reason": "OOMKilled", "startedAt": ago(20), "finishedAt": ago(10)}}),
                    json!({"terminated": {"exitCode": 137, "reason": "OOMKilled", "startedAt": ago(30), "finishedAt": ago(10)}}),
                    new)]
            }),
        )),
        from(pod(
            "credit-scoring-api-5d8c7b9f4-error",
            "5d8c7b9f4",
            180,
            Some("node-2"),
            json!({
                "phase": "Failed",
                "conditions": conditions(true, false, 179),
                "containerStatuses": [api_status(false, 0,
                    json!({"terminated": {"exitCode": 1, "reason": "Error", "startedAt": ago(170), "finishedAt": ago(160)}}),
                    json!({}), new)]
            }),
        )),
    ];
    let mut completed = pod(
        "batch-report",
        "5d8c7b9f4",
        3000,
        Some("node-1"),
        json!({
            "phase": "Succeeded",
            "conditions": conditions(true, false, 2990),
            "containerStatuses": [api_status(false, 0,
                json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": ago(2990), "finishedAt": ago(2900)}}),
                json!({}), new)]
        }),
    );
    completed["metadata"]["ownerReferences"] = json!(null);
    pods.push(from(completed));

    let mut term = pod(
        "credit-scoring-api-7c9d8f6b5-term1",
        "7c9d8f6b5",
        3600,
        Some("node-1"),
        json!({
            "phase": "Running",
            "conditions": conditions(true, true, 3590),
            "podIP": "10.244.1.8",
            "containerStatuses": [api_status(true, 0, json!({"running": {"startedAt": ago(3590)}}), json!({}),
                "registry.local/credit-scoring-api:baseline")]
        }),
    );
    term["metadata"]["deletionTimestamp"] = json!(ago(-25));
    term["metadata"]["deletionGracePeriodSeconds"] = json!(30);
    pods.push(from(term));

    let mut sidecar = pod(
        "sidecar-demo",
        "5d8c7b9f4",
        240,
        Some("node-1"),
        json!({
            "phase": "Running",
            "conditions": conditions(true, false, 239),
            "containerStatuses": [
                api_status(true, 0, json!({"running": {"startedAt": ago(230)}}), json!({}), new),
                {"name": "migrate", "image": "busybox", "imageID": "", "ready": false, "restartCount": 0,
                 "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": ago(235), "finishedAt": ago(200)}}}
            ]
        }),
    );
    sidecar["spec"]["containers"]
        .as_array_mut()
        .expect("containers")
        .push(json!({"name": "migrate", "image": "busybox"}));
    sidecar["metadata"]["ownerReferences"] = json!(null);
    pods.push(from(sidecar));

    let mut init = pod(
        "init-demo",
        "5d8c7b9f4",
        15,
        Some("node-2"),
        json!({
            "phase": "Pending",
            "conditions": conditions(false, false, 14),
            "initContainerStatuses": [{"name": "wait-db", "image": "busybox", "imageID": "", "ready": false,
                "restartCount": 0, "state": {"running": {"startedAt": ago(10)}}}],
            "containerStatuses": [api_status(false, 0, waiting("PodInitializing"), json!({}), new)]
        }),
    );
    init["spec"]["initContainers"] = json!([{"name": "wait-db", "image": "busybox"}]);
    init["metadata"]["ownerReferences"] = json!(null);
    pods.push(from(init));

    let mut pending = pod(
        "unscheduled",
        "5d8c7b9f4",
        8,
        None,
        json!({
            "phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "message": "0/3 nodes are available: 3 Insufficient cpu.", "lastTransitionTime": ago(8)}]
        }),
    );
    pending["metadata"]["ownerReferences"] = json!(null);
    pods.push(from(pending));
    pods
}

/// A ClusterIP, a NodePort, a pending LoadBalancer and a headless Service.
pub(crate) fn course_services() -> Vec<Service> {
    let svc = |name: &str, ty: &str, ip: &str, ports: Value| -> Service {
        from(json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": "live-coding", "creationTimestamp": ago(3600),
                         "labels": {"app": "credit-scoring-api"}},
            "spec": {
                "type": ty,
                "clusterIP": ip,
                "clusterIPs": [ip],
                "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": "SingleStack",
                "ports": ports,
                "selector": {"app": "credit-scoring-api"},
                "sessionAffinity": "None",
                "internalTrafficPolicy": "Cluster"
            }
        }))
    };
    vec![
        svc(
            "credit-scoring-api",
            "ClusterIP",
            "10.96.45.12",
            json!([{"port": 80, "targetPort": 8080, "protocol": "TCP"}]),
        ),
        svc(
            "credit-scoring-np",
            "NodePort",
            "10.96.45.13",
            json!([{"port": 8080, "targetPort": 8080, "nodePort": 30080, "protocol": "TCP"}]),
        ),
        svc(
            "credit-scoring-lb",
            "LoadBalancer",
            "10.96.45.14",
            json!([{"port": 80, "targetPort": 8080, "nodePort": 31380, "protocol": "TCP"}]),
        ),
        svc("headless", "ClusterIP", "None", json!([])),
    ]
}

/// The Endpoints of `credit-scoring-api`: four ready addresses and one not ready.
pub(crate) fn course_endpoints() -> Endpoints {
    from(json!({
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": "credit-scoring-api", "namespace": "live-coding", "creationTimestamp": ago(3600)},
        "subsets": [{
            "addresses": [
                {"ip": "10.244.1.5", "nodeName": "node-1"},
                {"ip": "10.244.1.6", "nodeName": "node-1"},
                {"ip": "10.244.2.7", "nodeName": "node-2"},
                {"ip": "10.244.2.8", "nodeName": "node-2"}
            ],
            "notReadyAddresses": [{"ip": "10.244.2.9", "nodeName": "node-2"}],
            "ports": [{"port": 8080, "protocol": "TCP"}]
        }]
    }))
}

/// A control-plane node, a cordoned worker and a NotReady worker.
pub(crate) fn course_nodes() -> Vec<Node> {
    let node = |name: &str, labels: Value, ready: &str, unschedulable: bool, ip: &str| -> Node {
        from(json!({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "creationTimestamp": ago(2 * 86400), "labels": labels},
            "spec": {"unschedulable": unschedulable, "podCIDR": "10.244.0.0/24"},
            "status": {
                "conditions": [{"type": "Ready", "status": ready, "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": ago(10), "lastTransitionTime": ago(2 * 86400)}],
                "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
                "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
                "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
                "nodeInfo": {
                    "machineID": "m", "systemUUID": "s", "bootID": "b",
                    "kernelVersion": "6.8.0-kubesim", "osImage": "kubesim OS",
                    "containerRuntimeVersion": "containerd://2.1.0", "kubeletVersion": "v1.35.0",
                    "kubeProxyVersion": "", "operatingSystem": "linux", "architecture": "amd64"
                }
            }
        }))
    };
    vec![
        node(
            "control-plane",
            json!({"node-role.kubernetes.io/control-plane": ""}),
            "True",
            false,
            "172.18.0.2",
        ),
        node(
            "node-1",
            json!({"kubernetes.io/hostname": "node-1"}),
            "True",
            true,
            "172.18.0.3",
        ),
        node(
            "node-2",
            json!({"kubernetes.io/hostname": "node-2"}),
            "False",
            false,
            "172.18.0.4",
        ),
    ]
}

/// `default` (Active) and `live-coding` (Terminating).
pub(crate) fn course_namespaces() -> Vec<Namespace> {
    vec![
        from(json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "default", "creationTimestamp": ago(2 * 86400)},
            "status": {"phase": "Active"}})),
        from(json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "live-coding", "creationTimestamp": ago(3600)},
            "status": {"phase": "Terminating"}})),
    ]
}

/// Events about the Deployment and the crashing pod.
pub(crate) fn course_events() -> Vec<Event> {
    vec![
        from(json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "credit-scoring-api.187a1", "namespace": "live-coding"},
            "involvedObject": {"kind": "Deployment", "namespace": "live-coding", "name": "credit-scoring-api",
                "uid": DEPLOY_UID, "apiVersion": "apps/v1"},
            "reason": "ScalingReplicaSet",
            "message": "Scaled up replica set credit-scoring-api-5d8c7b9f4 from 0 to 2",
            "source": {"component": "deployment-controller"},
            "firstTimestamp": ago(120), "lastTimestamp": ago(120), "count": 1, "type": "Normal"
        })),
        from(json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "credit-scoring-api-5d8c7b9f4-crash.187b2", "namespace": "live-coding"},
            "involvedObject": {"kind": "Pod", "namespace": "live-coding", "name": "credit-scoring-api-5d8c7b9f4-crash",
                "uid": "uid-credit-scoring-api-5d8c7b9f4-crash", "apiVersion": "v1", "fieldPath": "spec.containers{api}"},
            "reason": "BackOff",
            "message": "Back-off restarting failed container api in pod credit-scoring-api-5d8c7b9f4-crash_live-coding(uid-crash)",
            "source": {"component": "kubelet", "host": "node-2"},
            "firstTimestamp": ago(250), "lastTimestamp": ago(45), "count": 5, "type": "Warning"
        })),
    ]
}
