//! The guard through the whole router: cross-site writes, foreign Hosts, the token, and GETs
//! that must not start a scenario.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use tower::ServiceExt;

use super::*;
use crate::sandbox::Sandbox;
use crate::{DEMO, ServeError, ServeOptions, check_exposure};

const ADDR: &str = "127.0.0.1:8080";
const TOKEN: &str = "s3cret-T0ken";

fn app(guard: Guard) -> (axum::Router, AppState) {
    let st = AppState::new(Sandbox::new(DEMO, None).unwrap(), "test").with_guard(guard);
    st.scenarios.addr.set(ADDR.parse().unwrap()).unwrap();
    (crate::router(st.clone()), st)
}

async fn send(
    app: &axum::Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (StatusCode, HeaderMap, String) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let body = axum::body::to_bytes(res.into_body(), 10 << 20)
        .await
        .unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// The Status an API refusal carries: (code, reason).
fn status_of(body: &str) -> (u64, String) {
    let v: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|_| panic!("not a Status: {body}"));
    assert_eq!(v["kind"], "Status", "{body}");
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    (
        v["code"].as_u64().unwrap_or(0),
        v["reason"].as_str().unwrap_or("").to_string(),
    )
}

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");
const JSON: (&str, &str) = ("content-type", "application/json");
const NAMESPACE: &str = r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"evil"}}"#;

#[tokio::test]
async fn cross_site_writes_are_refused_and_change_nothing() {
    let (app, st) = app(Guard::default());
    let rv = st.sb().sim.store.resource_version();
    let delete = "cmd=delete+deployment+credit-scoring-api+-n+live-coding";
    let cross: &[&[(&str, &str)]] = &[
        &[("origin", "http://evil.example")],
        &[("origin", "null")],
        &[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "localhost:8080"),
        ],
        &[("sec-fetch-site", "cross-site")],
        &[("sec-fetch-site", "same-site")],
        &[
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://evil.example"),
        ],
    ];
    for headers in cross {
        let mut h = headers.to_vec();
        h.push(FORM);
        let (status, _, body) = send(&app, "POST", "/kubectl", &h, delete).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{headers:?}: {body}");
        assert!(body.starts_with("cross-site request refused"), "{body}");
        assert_eq!(body.lines().count(), 1, "one line: {body}");
        let mut h = headers.to_vec();
        h.push(JSON);
        for uri in [
            "/api/v1/namespaces",
            "/scenarios/01-pods-and-labels/k8s/api/v1/namespaces",
        ] {
            let (status, _, body) = send(&app, "POST", uri, &h, NAMESPACE).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{headers:?} {uri}: {body}");
            assert_eq!(status_of(&body), (403, "Forbidden".into()), "{body}");
        }
        let (status, _, _) = send(&app, "POST", "/import", &h, "{}").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{headers:?}");
    }
    assert_eq!(st.sb().sim.store.resource_version(), rv, "nothing changed");
    assert!(st.sb().actions.is_empty(), "nothing was recorded");
    // Reads from anywhere pass (the browser keeps their answers from the other site).
    let (status, _, _) = send(&app, "GET", "/", &[("sec-fetch-site", "cross-site")], "").await;
    assert_eq!(status, StatusCode::OK);
    // The server's own pages, and clients that send neither header (kubectl, curl), pass.
    let own: &[&[(&str, &str)]] = &[
        &[],
        &[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080"),
        ],
        &[
            ("origin", "http://LOCALHOST:8080"),
            ("host", "localhost:8080"),
        ],
        &[("origin", "http://127.0.0.1:8080")],
        &[("sec-fetch-site", "same-origin")],
        &[("sec-fetch-site", "none")],
    ];
    for (i, headers) in own.iter().enumerate() {
        let mut h = headers.to_vec();
        h.push(JSON);
        let body = NAMESPACE.replace("evil", &format!("own-{i}"));
        let (status, _, text) = send(&app, "POST", "/api/v1/namespaces", &h, &body).await;
        assert_eq!(status, StatusCode::CREATED, "{headers:?}: {text}");
    }
}

#[tokio::test]
async fn hosts_outside_the_allow_list_are_refused() {
    let (app, st) = app(Guard {
        allow_hosts: vec!["sandbox.lan".into(), "proxy.example:443".into()],
        token: None,
    });
    for host in [
        "attacker.example",
        "attacker.example:8080",
        "localhost",
        "localhost:9999",
        "127.0.0.2:8080",
        "sandbox.lan:9999",
        "proxy.example",
        "",
        "[::1",
    ] {
        let (status, _, body) = send(&app, "GET", "/export", &[("host", host)], "").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{host:?}: {body}");
        assert!(body.contains("--allow-host"), "{body}");
        let h = [("host", host), JSON];
        let (status, _, body) = send(&app, "POST", "/api/v1/namespaces", &h, NAMESPACE).await;
        assert_eq!(status_of(&body), (403, "Forbidden".into()), "{host:?}");
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    assert!(st.sb().actions.is_empty());
    for host in [
        "localhost:8080",
        "LocalHost:8080",
        "127.0.0.1:8080",
        "[::1]:8080",
        "sandbox.lan:8080",
        "proxy.example:443",
    ] {
        let (status, _, _) = send(&app, "GET", "/export", &[("host", host)], "").await;
        assert_eq!(status, StatusCode::OK, "{host:?}");
    }
}

#[test]
fn on_every_interface_any_ip_literal_is_the_servers_own_but_names_must_be_allowed() {
    let any = Some("0.0.0.0:8080".parse().unwrap());
    let lan = Some("192.168.1.5:8080".parse().unwrap());
    let cases = [
        ("192.168.1.5:8080", any, true),
        ("10.0.0.7:8080", any, true),
        ("[fe80::1]:8080", any, true),
        ("10.0.0.7:8081", any, false),
        ("kubesim.example:8080", any, false),
        ("192.168.1.5:8080", lan, true),
        ("10.0.0.7:8080", lan, false),
        ("localhost:8080", lan, true),
        // No listener known (a test calling the router): any port.
        ("localhost:1234", None, true),
        ("evil.example:1234", None, false),
    ];
    for (host, listen, ok) in cases {
        assert_eq!(host_allowed(host, listen, &[]), ok, "{host} on {listen:?}");
    }
}

#[tokio::test]
async fn a_token_guards_the_api_and_the_pages() {
    let (app, _) = app(Guard {
        allow_hosts: Vec::new(),
        token: Some(TOKEN.into()),
    });
    let pods = "/api/v1/namespaces/live-coding/pods";
    let (status, _, body) = send(&app, "GET", pods, &[], "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(status_of(&body), (401, "Unauthorized".into()));
    let wrong = format!("Bearer {TOKEN}x");
    let (status, _, _) = send(&app, "GET", pods, &[("authorization", &wrong)], "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let bearer = format!("Bearer {TOKEN}");
    let (status, _, _) = send(&app, "GET", pods, &[("authorization", &bearer)], "").await;
    assert_eq!(status, StatusCode::OK);
    // The pages: refused, then the join URL sets the cookie and drops the token from the URL.
    let (status, _, body) = send(&app, "GET", "/", &[], "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("join URL"), "{body}");
    let (status, _, _) = send(&app, "GET", "/?token=nope", &[], "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, h, _) = send(&app, "GET", &format!("/?token={TOKEN}"), &[], "").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(h[header::LOCATION], "/");
    let cookie = h[header::SET_COOKIE].to_str().unwrap();
    for part in [
        &format!("{COOKIE}={TOKEN}") as &str,
        "HttpOnly",
        "SameSite=Strict",
    ] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let join = format!("/scenarios?a=1&token={TOKEN}&b=2");
    let (_, h, _) = send(&app, "GET", &join, &[], "").await;
    assert_eq!(h[header::LOCATION], "/scenarios?a=1&b=2");
    let jar = format!("other=1; {COOKIE}={TOKEN}");
    let (status, _, _) = send(&app, "GET", "/", &[("cookie", &jar)], "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = send(&app, "GET", "/", &[("cookie", "kubesim_token=x")], "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Writes need it too; the health check does not.
    let (status, _, _) = send(&app, "POST", "/control/pause", &[], "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = send(&app, "GET", "/healthz", &[], "").await;
    assert_eq!(status, StatusCode::OK);
    // The kubeconfig carries the token, for the server the client reached.
    let h = [("cookie", jar.as_str()), ("host", "127.0.0.1:8080")];
    let (_, _, kubeconfig) = send(&app, "GET", "/kubeconfig", &h, "").await;
    assert!(
        kubeconfig.contains(&format!("token: {TOKEN}"))
            && kubeconfig.contains("server: http://127.0.0.1:8080")
            && kubeconfig.contains("user: kubesim"),
        "{kubeconfig}"
    );
    let sc = "/scenarios/01-pods-and-labels/kubeconfig";
    let (_, _, kubeconfig) = send(&app, "GET", sc, &h, "").await;
    assert!(
        kubeconfig.contains(&format!("token: {TOKEN}")),
        "{kubeconfig}"
    );
}

#[test]
fn tokens_compare_whole() {
    assert!(same(TOKEN, TOKEN));
    assert!(!same("s3cret-T0kex", TOKEN));
    assert!(!same("s3cret", TOKEN));
    assert!(!same("", TOKEN));
}

#[test]
fn a_sandbox_on_the_network_needs_a_token() {
    let opts = |addr: &str, token: Option<&str>| ServeOptions {
        addr: addr.parse().unwrap(),
        scenario: None,
        seed: None,
        speed: 1.0,
        title: None,
        scenarios: None,
        guard: Guard {
            allow_hosts: Vec::new(),
            token: token.map(str::to_string),
        },
        ingress_addr: None,
    };
    let err = check_exposure(&opts("0.0.0.0:8080", None)).unwrap_err();
    assert!(matches!(err, ServeError::TokenRequired(_)));
    let msg = err.to_string();
    assert!(
        msg.contains("--token") && msg.contains("--token-file") && msg.contains("127.0.0.1"),
        "{msg}"
    );
    assert!(check_exposure(&opts("192.168.1.5:8080", None)).is_err());
    assert!(check_exposure(&opts("[::]:8080", None)).is_err());
    assert!(matches!(
        check_exposure(&opts("0.0.0.0:8080", Some(""))),
        Err(ServeError::EmptyToken)
    ));
    assert!(check_exposure(&opts("0.0.0.0:8080", Some(TOKEN))).is_ok());
    assert!(check_exposure(&opts("127.0.0.1:8080", None)).is_ok());
    assert!(check_exposure(&opts("[::1]:8080", None)).is_ok());
}

#[tokio::test]
async fn gets_never_start_a_scenario_or_run_its_scripts() {
    let (app, st) = app(Guard::default());
    let id = "01-pods-and-labels";
    let (status, _, page) = send(&app, "GET", &format!("/scenarios/{id}"), &[], "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(&format!(
            "method=post action=\"/scenarios/{id}/start\"><input type=hidden name=_form value={}>",
            st.form_token
        )),
        "{page}"
    );
    let api = format!("/scenarios/{id}/k8s/api/v1/namespaces/default/pods");
    let (status, _, body) = send(&app, "GET", &api, &[], "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(status_of(&body), (404, "NotFound".into()));
    assert!(body.contains("not started"), "{body}");
    for uri in ["state", "stream", "kubeconfig", "pod/default/x"] {
        send(&app, "GET", &format!("/scenarios/{id}/{uri}"), &[], "").await;
    }
    assert!(st.scenarios.slot(id).is_none(), "a GET started the run");
    // Another site cannot press Start.
    let start = format!("/scenarios/{id}/start");
    let evil = [("origin", "http://evil.example"), FORM];
    let (status, _, _) = send(&app, "POST", &start, &evil, "").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(st.scenarios.slot(id).is_none());
    // The page's own button does, and then shows the run.
    let own = format!("_form={}", st.form_token);
    let (status, h, _) = send(&app, "POST", &start, &[FORM], &own).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(h[header::LOCATION], format!("/scenarios/{id}"));
    assert!(st.scenarios.slot(id).is_some());
    let (_, _, page) = send(&app, "GET", &format!("/scenarios/{id}"), &[], "").await;
    assert!(page.contains("Step 1 of"), "{page}");
    let (status, _, _) = send(&app, "GET", &api, &[], "").await;
    assert_eq!(status, StatusCode::OK);
}

/// A browser too old to say where a request comes from (no `Origin`, no `Sec-Fetch-Site`):
/// a form posted from another site has no form token and is refused; the page's own forms
/// carry it (hidden field, or the scripts' header) and pass; kubectl's API is unaffected.
#[tokio::test]
async fn forms_without_origin_need_the_servers_form_token() {
    let (app, st) = app(Guard::default());
    let cmd = "cmd=kubectl+delete+deployment+credit-scoring-api+-n+live-coding";
    for (headers, body) in [
        (vec![FORM], cmd.to_string()),
        (vec![FORM], format!("{cmd}&_form=not-{}", st.form_token)),
        (vec![("content-type", "text/plain")], cmd.to_string()),
        (
            vec![("content-type", "multipart/form-data; boundary=B")],
            "--B\r\nContent-Disposition: form-data; name=\"cmd\"\r\n\r\nx\r\n--B--\r\n".to_string(),
        ),
    ] {
        let (status, _, text) = send(&app, "POST", "/kubectl", &headers, &body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{headers:?} {body}");
        assert!(text.contains("form token"), "{text}");
    }
    let (_, _, page) = send(&app, "GET", "/", &[], "").await;
    assert!(page.contains(&format!(
        "<meta name=\"kubesim-form\" content=\"{}\">",
        st.form_token
    )));
    assert_eq!(
        page.matches("name=\"_form\"").count(),
        page.matches("method=\"post\"").count(),
        "every form carries the token"
    );
    let deployments = || st.sb().sim.store.deployments.len();
    assert_eq!(deployments(), 1, "nothing was deleted");
    // The page's own form (hidden field) and its scripts (header) pass.
    let with_field = format!("cmd=kubectl+get+pods&_form={}", st.form_token);
    let json = ("accept", "application/json");
    let (status, _, _) = send(&app, "POST", "/kubectl", &[FORM, json], &with_field).await;
    assert_eq!(status, StatusCode::OK);
    let token = st.form_token.to_string();
    let (status, _, _) = send(
        &app,
        "POST",
        "/kubectl",
        &[FORM, json, ("x-kubesim-form", token.as_str())],
        "cmd=kubectl+get+pods",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // A multipart form (the no-JavaScript import) with the field passes the guard.
    let body = format!(
        "--B\r\nContent-Disposition: form-data; name=\"_form\"\r\n\r\n{token}\r\n--B\r\nContent-Disposition: form-data; name=\"run\"; filename=\"r.yaml\"\r\n\r\nsteps: [{{nope: 1}}]\r\n--B--\r\n"
    );
    let (status, _, _) = send(
        &app,
        "POST",
        "/import",
        &[("content-type", "multipart/form-data; boundary=B")],
        &body,
    )
    .await;
    assert_ne!(status, StatusCode::FORBIDDEN, "the guard let it through");
    // kubectl's API needs no form token.
    let ns = r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"api-ok"}}"#;
    let (status, _, _) = send(
        &app,
        "POST",
        "/api/v1/namespaces",
        &[("content-type", "application/json")],
        ns,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
}

/// Browsers let any page open a WebSocket to the server, so an upgrade (`kubectl exec`'s
/// `curl` moves the cluster) is checked as a write is; kubectl sends no Origin and passes.
#[tokio::test]
async fn a_cross_site_websocket_exec_is_refused() {
    let (app, _) = app(Guard::default());
    let exec = "/api/v1/namespaces/live-coding/pods/x/exec?command=true";
    let ws = [
        ("connection", "upgrade"),
        ("upgrade", "websocket"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("sec-websocket-protocol", "v5.channel.k8s.io"),
    ];
    let mut h = ws.to_vec();
    h.push(("origin", "http://evil.example"));
    let (status, _, body) = send(&app, "GET", exec, &h, "").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(status_of(&body), (403, "Forbidden".into()), "{body}");
    // Without an Origin the request reaches the API (no such pod there).
    let (_, _, body) = send(&app, "GET", exec, &ws, "").await;
    assert_eq!(status_of(&body), (404, "NotFound".into()), "{body}");
}
