//! `kubectl describe pod` (`PodDescriber`) and the pod's QoS class.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::jiff::Timestamp;

use super::events::describe_events;
use super::template::{EnvSource, describe_containers, describe_volumes};
use super::{
    PrefixWriter, print_annotations_multiline, print_labels_multiline, print_tolerations_multiline,
};
use crate::kubectl::print::duration::since;
use crate::kubectl::print::util::{controller_of, rfc1123z, s};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubectl::print::describe::template::describe_probe;
    use crate::kubectl::print::describe::tests::check;
    use crate::kubectl::print::fixtures::*;
    use k8s_openapi::api::core::v1::Probe;

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
