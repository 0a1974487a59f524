//! No request can freeze the sandbox: a 1,000,000-replica Deployment posted to the API of a
//! real `kubesim serve` answers 201 once it is stored (with one burst of pods), the
//! ReplicaSet creates the rest at most 500 per sync on later syncs, `/healthz` answers while
//! the driver works, and at the sandbox's pod limit the Deployment says so as a full cluster
//! does (`FailedCreate`, `ReplicaFailure`).

use std::io::{Read, Write};
use std::net::SocketAddr;

/// A server on a loopback port around the paused demo, its pod limit lowered to `pods`.
fn serve(pods: usize) -> (tokio::runtime::Runtime, SocketAddr) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr = rt.block_on(async {
        let mut sandbox = web_ui::sandbox_for(&web_ui::ServeOptions {
            addr: "127.0.0.1:0".parse().unwrap(),
            scenario: None,
            seed: None,
            speed: 0.0,
            title: None,
            scenarios: None,
            guard: Default::default(),
            ingress_addr: None,
        })
        .unwrap();
        sandbox.sim.limits.pods = pods;
        let state = web_ui::AppState::new(sandbox, "limits test");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        web_ui::spawn_driver(state.clone());
        tokio::spawn(async move { web_ui::serve_on(listener, state).await });
        addr
    });
    (rt, addr)
}

/// `METHOD path` with a JSON body: (status code, body).
fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let code = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    // Chunked bodies: the JSON is between the first chunk size and the end.
    let body = match (body.find('{'), body.rfind('}')) {
        (Some(a), Some(b)) if a <= b => &body[a..=b],
        _ => body,
    };
    (code, body.to_string())
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/live-coding/deployments";
const HUGE: &str = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"huge"},
  "spec":{"replicas":1000000,"selector":{"matchLabels":{"app":"huge"}},
  "template":{"metadata":{"labels":{"app":"huge"}},
  "spec":{"containers":[{"name":"c","image":"nginx:1.27"}]}}}}"#;

/// The huge ReplicaSet's `status.replicas` (0 before it has one).
fn rs_replicas(addr: SocketAddr) -> i64 {
    let (code, text) = http(
        addr,
        "GET",
        "/apis/apps/v1/namespaces/live-coding/replicasets?labelSelector=app%3Dhuge",
        "",
    );
    assert_eq!(code, 200, "{text}");
    json(&text)["items"][0]["status"]["replicas"]
        .as_i64()
        .unwrap_or(0)
}

#[test]
fn a_million_replicas_answer_at_once_and_are_created_in_bursts_up_to_the_pod_limit() {
    const LIMIT: usize = 2_600;
    let (_rt, addr) = serve(LIMIT);
    let (code, text) = http(addr, "POST", DEPLOYMENTS, HUGE);
    assert_eq!(code, 201, "{text}");
    assert_eq!(json(&text)["spec"]["replicas"], 1_000_000);
    // The write answered after one bounded burst: 500 pods, the rest for later syncs.
    assert_eq!(rs_replicas(addr), 500);
    assert_eq!(http(addr, "GET", "/healthz", "").1, "ok");
    // Event by event (the sandbox is paused), no sync creates more than 500.
    let demo_pods = 10;
    let full = (LIMIT - demo_pods) as i64;
    let mut seen = vec![500];
    for _ in 0..5_000 {
        if *seen.last().unwrap() >= full {
            break;
        }
        let (code, _) = http(addr, "POST", "/control/step", "");
        assert_eq!(code, 200);
        let now = rs_replicas(addr);
        if now != *seen.last().unwrap() {
            seen.push(now);
        }
    }
    assert_eq!(seen.last(), Some(&full), "{seen:?}");
    assert!(
        seen.windows(2).all(|w| w[1] > w[0] && w[1] - w[0] <= 500),
        "{seen:?}"
    );
    // At the limit, the Deployment reports what the ReplicaSet could not create.
    let (_, text) = http(addr, "GET", &format!("{DEPLOYMENTS}/huge"), "");
    let d = json(&text);
    let failure = d["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "ReplicaFailure"))
        .unwrap_or_else(|| panic!("no ReplicaFailure: {text}"));
    assert_eq!(failure["reason"], "FailedCreate");
    let message = failure["message"].as_str().unwrap_or("");
    assert!(
        message.contains(&format!(
            "is forbidden: exceeded quota: sandbox-limits, requested: pods=1, used: pods={LIMIT}, limited: pods={LIMIT}"
        )),
        "{message}"
    );
    // The sandbox stays responsive while the driver runs at full speed.
    let (code, _) = http(addr, "POST", "/control/play?speed=max", "");
    assert_eq!(code, 200);
    for _ in 0..20 {
        assert_eq!(http(addr, "GET", "/healthz", "").1, "ok");
    }
    // The ReplicaSet controller's recorder lets 25 events about one ReplicaSet through at
    // once and then one per five minutes (client-go's spam filter), and the bursts of
    // `Created pod` used them up: the FailedCreate warning is written within five virtual
    // minutes, as on a real cluster.
    let mut text = String::new();
    for _ in 0..5_000 {
        let (code, got) = http(addr, "GET", "/api/v1/namespaces/live-coding/events", "");
        assert_eq!(code, 200);
        text = got;
        if text.contains("FailedCreate") {
            break;
        }
        http(addr, "POST", "/control/step", "");
    }
    assert!(text.contains("FailedCreate"), "{text}");
}
