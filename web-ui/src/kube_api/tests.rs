use crate::sandbox::Action;
use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt;

use super::*;
use crate::sandbox::Sandbox;

async fn call(app: &Router, req: Request<Body>) -> (StatusCode, String, String) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let ct = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, ct, String::from_utf8_lossy(&body).into_owned())
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn an_oversized_body_is_a_status_and_the_sandbox_keeps_serving() {
    let st = AppState::new(Sandbox::new(crate::DEMO, None).unwrap(), "test");
    let app = crate::router(st.clone());
    let big = format!(
        "{{\"metadata\":{{\"name\":\"x\"}},\"pad\":\"{}\"}}",
        "a".repeat(3 << 20)
    );
    let req = Request::post("/api/v1/namespaces/live-coding/pods")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(big))
        .unwrap();
    let (status, ct, body) = call(&app, req).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(ct.starts_with("application/json"), "{ct}");
    assert!(body.contains("\"kind\":\"Status\""), "{body}");
    let (status, _, _) = call(&app, get("/api/v1/namespaces/live-coding/pods")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_change_is_labelled_on_the_timeline_with_what_the_student_typed() {
    let st = AppState::new(Sandbox::new(crate::DEMO, None).unwrap(), "test");
    let app = crate::router(st.clone());
    let req = Request::patch("/apis/apps/v1/namespaces/live-coding/deployments/credit-scoring-api")
        .header(header::CONTENT_TYPE, "application/merge-patch+json")
        .header("Kubectl-Command", "kubectl patch")
        .body(Body::from(r#"{"metadata":{"labels":{"team":"ml"}}}"#))
        .unwrap();
    let (status, _, body) = call(&app, req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let last = st.sb().actions.last().cloned().expect("recorded");
    assert_eq!(last.typed.as_deref(), Some("kubectl patch"));
    let svg = crate::timeline::render(&st.sb());
    assert!(svg.contains("kubectl patch"), "{svg}");
}

#[tokio::test]
async fn a_watch_sends_what_changed_and_what_left_its_selector() {
    let st = AppState::new(Sandbox::new(crate::DEMO, None).unwrap(), "test");
    let t = st.sb().sim.now() + sim_core::SimDuration::from_secs(30);
    st.sb().run_to(t);
    let app = crate::router(st.clone());
    let res = app
        .clone()
        .oneshot(get(
            "/api/v1/namespaces/live-coding/pods?watch=1&labelSelector=app%3Drest-api&timeoutSeconds=3",
        ))
        .await
        .unwrap();
    let mut body = res.into_body().into_data_stream();
    use tokio_stream::StreamExt;
    let mut text = String::new();
    let mut read_until = async |text: &mut String, what: &str| {
        while !text.contains(what) {
            match body.next().await {
                Some(Ok(b)) => text.push_str(&String::from_utf8_lossy(&b)),
                _ => panic!("the watch ended before {what:?}: {text}"),
            }
        }
    };
    read_until(&mut text, "\n").await;
    let added = text.matches("\"type\":\"ADDED\"").count();
    assert_eq!(added, 10, "the ten pods first: {text}");
    // Two more pods: ADDED, then MODIFIED as they start.
    st.sb().act(Action::Kubectl(
        "scale deployment credit-scoring-api --replicas=12 -n live-coding".into(),
    ));
    st.notify();
    text.clear();
    read_until(&mut text, "ADDED").await;
    let t = st.sb().sim.now() + sim_core::SimDuration::from_secs(5);
    st.sb().run_to(t);
    st.notify();
    read_until(&mut text, "MODIFIED").await;
    // A pod relabelled out of the selector is DELETED for this watcher.
    let pod = kubectl::list(
        &st.sb().sim,
        Kind::Pod,
        Some("live-coding"),
        &Selector::everything(),
    )[0]
    .name()
    .to_string();
    let req = Request::patch(format!("/api/v1/namespaces/live-coding/pods/{pod}"))
        .header(header::CONTENT_TYPE, "application/merge-patch+json")
        .body(Body::from(r#"{"metadata":{"labels":{"app":"elsewhere"}}}"#))
        .unwrap();
    let (status, _, out) = call(&app, req).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    read_until(&mut text, "DELETED").await;
    assert!(text.contains(&pod), "{text}");
}

#[tokio::test]
async fn a_watch_from_a_lists_version_sees_a_deletion_that_came_in_between() {
    // kubectl delete's wait: list the pod by name, then watch from the list's
    // resourceVersion. A pod gone between the two must still reach the watch as DELETED.
    let st = AppState::new(Sandbox::new(crate::DEMO, None).unwrap(), "test");
    let t = st.sb().sim.now() + sim_core::SimDuration::from_secs(30);
    st.sb().run_to(t);
    let app = crate::router(st.clone());
    let pod = kubectl::list(
        &st.sb().sim,
        Kind::Pod,
        Some("live-coding"),
        &Selector::everything(),
    )[0]
    .name()
    .to_string();
    let pods = "/api/v1/namespaces/live-coding/pods";
    let (status, _, list) = call(
        &app,
        get(&format!("{pods}?fieldSelector=metadata.name%3D{pod}")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let v: Value = serde_json::from_str(&list).unwrap();
    let rv = v["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let req = Request::delete(format!("{pods}/{pod}?gracePeriodSeconds=0"))
        .body(Body::empty())
        .unwrap();
    let (status, _, out) = call(&app, req).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let t = st.sb().sim.now() + sim_core::SimDuration::from_secs(5);
    st.sb().run_to(t);
    assert!(
        st.sb()
            .sim
            .get_object(Kind::Pod, "live-coding", &pod)
            .is_none()
    );
    let res = app
        .clone()
        .oneshot(get(&format!(
            "{pods}?watch=1&resourceVersion={rv}&fieldSelector=metadata.name%3D{pod}&timeoutSeconds=2"
        )))
        .await
        .unwrap();
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("\"type\":\"DELETED\""), "{text}");
    assert!(text.contains(&pod), "{text}");
    // Another pod that changed meanwhile is not this watch's: the field selector holds.
    assert_eq!(text.matches("\"type\"").count(), 1, "{text}");
}

#[tokio::test]
async fn discovery_is_aggregated_when_asked_exactly_else_legacy() {
    let st = AppState::new(Sandbox::new(crate::DEMO, None).unwrap(), "test");
    let app = crate::router(st);
    let ask = |path: &str, accept: &str| {
        Request::get(path)
            .header(header::ACCEPT, accept)
            .body(Body::empty())
            .unwrap()
    };
    let v2 =
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
    let (_, ct, body) = call(&app, ask("/apis", v2)).await;
    assert_eq!(
        ct,
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    );
    let v: Value = serde_json::from_str(&body).unwrap();
    let deps = &v["items"][0]["versions"][0]["resources"][0];
    assert_eq!(v["items"][0]["metadata"]["name"], "apps");
    assert_eq!(deps["resource"], "deployments");
    assert_eq!(deps["scope"], "Namespaced");
    assert_eq!(deps["shortNames"], json!(["deploy"]));
    assert_eq!(deps["subresources"][0]["subresource"], "scale");
    assert_eq!(deps["subresources"][0]["responseKind"]["kind"], "Scale");
    let (_, ct, body) = call(&app, ask("/api", &v2.replace("v=v2;", "v=v2beta1;"))).await;
    assert!(ct.contains("v=v2beta1"), "{ct}");
    assert!(body.contains("\"resource\":\"pods\""), "{body}");
    // A client that asks for nothing aggregated gets legacy discovery.
    let (_, ct, body) = call(&app, ask("/apis", "application/json")).await;
    assert_eq!(ct, "application/json");
    assert!(body.contains("APIGroupList"), "{body}");
}

#[tokio::test]
async fn the_services_proxy_reaches_the_real_program() {
    let st = AppState::new(Sandbox::new(crate::DEMO, None).unwrap(), "test");
    let app = crate::router(st.clone());
    let base = "/api/v1/namespaces/live-coding/services";
    for (name, path, want) in [
        ("credit-scoring-api", "/proxy/healthz", r#"{"status":"ok"}"#),
        (
            "credit-scoring-api:80",
            "/proxy/healthz",
            r#"{"status":"ok"}"#,
        ),
        (
            "http:credit-scoring-api:80",
            "/proxy/",
            r#"{"status":"ok","model_version":"v1"}"#,
        ),
        (
            "credit-scoring-api",
            "/proxy",
            r#"{"status":"ok","model_version":"v1"}"#,
        ),
    ] {
        let (status, ct, body) = call(&app, get(&format!("{base}/{name}{path}"))).await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::OK, want),
            "{name}{path}"
        );
        assert_eq!(ct, "application/json");
    }
    let predict = Request::post(format!("{base}/credit-scoring-api:80/proxy/predict"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"age":35,"income":52000,"loan_amount":12000,"loan_term_months":36,"credit_history_years":8,"existing_debt":3000}"#))
        .unwrap();
    let (status, _, body) = call(&app, predict).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        r#"{"probability_of_default":0.139101,"decision":"approve"}"#
    );
    // The program's own errors come back as they are.
    let (status, _, body) = call(&app, get(&format!("{base}/credit-scoring-api/proxy/nope"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // Every proxied request is in the run.
    let file = st.sb().export();
    assert_eq!(file.matches("- request:").count(), 6, "{file}");
    assert!(file.contains("path: /healthz"), "{file}");

    // What the API server answers when there is nothing to reach.
    let (status, _, body) = call(&app, get(&format!("{base}/nope/proxy/"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body.contains(r#""message":"services \"nope\" not found""#),
        "{body}"
    );
    let (status, _, body) = call(&app, get(&format!("{base}/credit-scoring-api:81/proxy/"))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body.contains("no endpoints available for service"),
        "{body}"
    );
    st.sb().act(Action::Kubectl(
        "scale deployment/credit-scoring-api --replicas=0 -n live-coding".into(),
    ));
    {
        let mut sb = st.sb();
        let t = sb.sim.now() + sim_core::SimDuration::from_secs(60);
        sb.run_to(t);
    }
    let (status, _, body) = call(
        &app,
        get(&format!("{base}/credit-scoring-api/proxy/healthz")),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body.contains("error trying to reach service: Failed to connect to credit-scoring-api.live-coding port 80: Connection refused"),
        "{body}"
    );
}

#[tokio::test]
async fn openapi_documents_are_served_under_their_hash_and_cached_for_good() {
    let st = AppState::new(Sandbox::new(crate::DEMO, None).unwrap(), "test");
    let app = crate::router(st);
    let (status, ct, body) = call(&app, get("/openapi/v3")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct, "application/json");
    let index: Value = serde_json::from_str(&body).unwrap();
    let url = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_string();
    let hash = url.split_once("?hash=").unwrap().1.to_string();

    let res = app.clone().oneshot(get(&url)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let h = |name| res.headers().get(name).and_then(|v| v.to_str().ok());
    assert_eq!(h(header::CONTENT_TYPE), Some("application/json"));
    assert_eq!(h(header::CACHE_CONTROL), Some("public, immutable"));
    assert_eq!(h(header::ETAG), Some(format!("\"{hash}\"").as_str()));
    assert!(h(header::EXPIRES).is_some_and(|e| e.ends_with(" GMT")));

    // The same document under the scenario clusters' prefix, and without a hash (not cached).
    let nested = format!("/scenarios/any/k8s{url}");
    let (status, _, doc) = call(&app, get(&nested)).await;
    assert_eq!(status, StatusCode::OK);
    let doc: Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(doc["openapi"], "3.0.0");
    let res = app
        .clone()
        .oneshot(get("/openapi/v3/apis/apps/v1"))
        .await
        .unwrap();
    assert_eq!(res.headers().get(header::CACHE_CONTROL), None);

    let res = app
        .clone()
        .oneshot(get("/openapi/v3/apis/apps/v1?hash=stale"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        res.headers().get(header::LOCATION).unwrap(),
        format!("v1?hash={hash}").as_str()
    );
    let req = Request::get(&url)
        .header(header::IF_NONE_MATCH, format!("\"{hash}\""))
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = call(&app, req).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert_eq!(body, "");

    let (status, _, body) = call(&app, get("/openapi/v3/apis/storage.k8s.io/v1")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("\"reason\":\"NotFound\""), "{body}");
}

/// A read's bad parameters, each with the Status kube-apiserver answers: code, reason (`None`
/// for an unclassified 500, which has none) and message. None of them changes the sandbox.
#[tokio::test]
async fn bad_read_parameters_get_the_api_servers_status_and_change_nothing() {
    let st = AppState::new(Sandbox::new(crate::DEMO, None).unwrap(), "test");
    let app = crate::router(st.clone());
    let rv = st.sb().sim.store.resource_version();
    let pods = "/api/v1/namespaces/live-coding/pods";
    let deployments = "/apis/apps/v1/namespaces/live-coding/deployments";
    let too_large = format!(
        "Timeout: Too large resource version: {}, current: {rv}",
        rv + 1
    );
    let not_a_number = "resourceVersion: Invalid value: \"abc\": strconv.ParseUint: parsing \"abc\": invalid syntax";
    let cases: Vec<(String, u16, Option<&str>, String)> = vec![
        (format!("{pods}?timeoutSeconds=x"), 400, Some("BadRequest"), "strconv.ParseInt: parsing \"x\": invalid syntax".into()),
        (format!("{pods}?limit=abc"), 400, Some("BadRequest"), "strconv.ParseInt: parsing \"abc\": invalid syntax".into()),
        (format!("{pods}?watch=1&timeoutSeconds=1.5"), 400, Some("BadRequest"), "strconv.ParseInt: parsing \"1.5\": invalid syntax".into()),
        (format!("{pods}?labelSelector=a+in+(b"), 400, Some("BadRequest"), "unable to parse requirement: found '', expected: ',' or ')'".into()),
        (format!("{pods}?labelSelector=app%3D"), 200, None, String::new()),
        (format!("{pods}?fieldSelector=metadata.nam%3Dx"), 400, Some("BadRequest"), "field label not supported: metadata.nam".into()),
        (format!("{pods}?fieldSelector=status.phase"), 400, Some("BadRequest"), "invalid selector: 'status.phase'; can't understand 'status.phase'".into()),
        (format!("{pods}?fieldSelector=metadata.name%3Da%3Db"), 400, Some("BadRequest"), "invalid field selector: unescaped character in value: 61".into()),
        (format!("{deployments}?fieldSelector=spec.replicas%3D1"), 400, Some("BadRequest"), "\"spec.replicas\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"".into()),
        ("/api/v1/nodes?fieldSelector=metadata.namespace%3Dx".to_string(), 400, Some("BadRequest"), "field label not supported: metadata.namespace".into()),
        (format!("{pods}?resourceVersion=abc"), 500, None, not_a_number.into()),
        (format!("{pods}?resourceVersion=abc&limit=500"), 400, Some("BadRequest"), format!("invalid resource version: {not_a_number}")),
        (format!("{pods}?resourceVersion={}", rv + 1), 504, Some("Timeout"), too_large.clone()),
        (format!("{pods}?watch=true&resourceVersion=abc"), 500, None, not_a_number.into()),
        (format!("{pods}/x?resourceVersion=abc"), 500, None, not_a_number.into()),
        (format!("{pods}?sendInitialEvents=true"), 422, Some("Invalid"), "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list".into()),
        (format!("{deployments}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"), 422, Some("Invalid"), "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled".into()),
        (format!("{pods}?resourceVersionMatch=Exact"), 422, Some("Invalid"), "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided".into()),
        (format!("{pods}?continue=abc!"), 400, Some("BadRequest"), "invalid continue token: continue key is not valid: illegal base64 data at input byte 3".into()),
        ("/scenarios/UNKNOWN/k8s/api/v1/pods".into(), 404, Some("NotFound"), "the server could not find the requested resource".into()),
    ];
    for (uri, code, reason, message) in &cases {
        let (status, ct, body) = call(&app, get(uri)).await;
        assert_eq!(status.as_u16(), *code, "{uri}: {body}");
        if *code == 200 {
            continue;
        }
        assert!(ct.starts_with("application/json"), "{uri}: {ct}");
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{uri}: {e}: {body}"));
        assert_eq!(v["kind"], "Status", "{uri}");
        assert_eq!(v["status"], "Failure", "{uri}");
        assert_eq!(v["code"], *code, "{uri}");
        assert_eq!(v["reason"].as_str(), *reason, "{uri}");
        assert_eq!(v["message"], message.as_str(), "{uri}");
    }
    // The details kubectl and client-go read.
    let (_, _, body) = call(&app, get(&cases[16].0)).await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["details"],
        json!({"group": "meta.k8s.io", "kind": "ListOptions", "causes": [{
            "reason": "FieldValueForbidden",
            "message": "Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled",
            "field": "sendInitialEvents",
        }]})
    );
    let res = app.clone().oneshot(get(&cases[12].0)).await.unwrap();
    assert_eq!(
        res.headers().get(header::RETRY_AFTER).map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    let (_, _, body) = call(&app, get(&cases[10].0)).await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(
        v.get("details").is_none() && v.get("reason").is_none(),
        "{body}"
    );

    // A JSON body is decoded as the API server decodes it: no coercion.
    let req = Request::post(deployments)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
                "spec":{"replicas":"10","selector":{"matchLabels":{"app":"web"}},
                "template":{"metadata":{"labels":{"app":"web"}},
                "spec":{"containers":[{"name":"c","image":"nginx"}]}}}}"#,
        ))
        .unwrap();
    let (status, _, body) = call(&app, req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["reason"], "BadRequest");
    assert_eq!(
        v["message"],
        "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
    );

    assert_eq!(st.sb().sim.store.resource_version(), rv, "nothing changed");
    assert!(st.sb().actions.is_empty(), "nothing recorded");
}

/// What is not an error: any `watch` but `0`/`false` is a watch, a negative limit is no
/// limit, a field selector filters by the kind's fields.
#[tokio::test]
async fn read_parameters_the_api_server_accepts() {
    let st = AppState::new(Sandbox::new(crate::DEMO, None).unwrap(), "test");
    let t = st.sb().sim.now() + sim_core::SimDuration::from_secs(30);
    st.sb().run_to(t);
    let app = crate::router(st.clone());
    let pods = "/api/v1/namespaces/live-coding/pods";
    let names = |body: &str| -> Vec<String> {
        let v: Value = serde_json::from_str(body).unwrap();
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    let (status, _, all) = call(&app, get(&format!("{pods}?limit=-1&watch=false"))).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let all = names(&all);
    assert_eq!(all.len(), 10);
    let (_, _, running) = call(
        &app,
        get(&format!("{pods}?fieldSelector=status.phase%3DRunning")),
    )
    .await;
    assert_eq!(names(&running), all);
    let (_, _, pending) = call(
        &app,
        get(&format!("{pods}?fieldSelector=status.phase%21%3DRunning")),
    )
    .await;
    assert!(names(&pending).is_empty(), "{pending}");
    let one = format!("{pods}?fieldSelector=metadata.name%3D%3D{}", all[3]);
    let (_, _, body) = call(&app, get(&one)).await;
    assert_eq!(names(&body), [all[3].clone()]);
    let (status, _, body) = call(&app, get(&format!("{pods}?resourceVersion=0&limit=500"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // watch=maybe is a watch; a negative timeout ends it at once.
    let res = app
        .clone()
        .oneshot(get(&format!("{pods}?watch=maybe&timeoutSeconds=1")))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = axum::body::to_bytes(res.into_body(), 1 << 22)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&body);
    assert_eq!(text.matches("\"type\":\"ADDED\"").count(), 10, "{text}");
    let (status, _, body) = call(&app, get(&format!("{pods}?watch=1&timeoutSeconds=-1"))).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, ""));
}

/// Bad writes of every kind, each answered with a Status of the API server's code and
/// reason; none of them changes the sandbox or is recorded in the run.
#[tokio::test]
async fn bad_writes_get_a_status_and_change_and_record_nothing() {
    let st = AppState::new(Sandbox::new(crate::DEMO, None).unwrap(), "test");
    let app = crate::router(st.clone());
    let rv = st.sb().sim.store.resource_version();
    let actions = st.sb().actions.len();
    let dep = "/apis/apps/v1/namespaces/live-coding/deployments/credit-scoring-api";
    let deps = "/apis/apps/v1/namespaces/live-coding/deployments";
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let deep_object = format!("{}1{}", "{\"a\":".repeat(200), "}".repeat(200));
    let cases: Vec<(&str, String, &str, String, u16, &str)> = vec![
        (
            "PATCH",
            dep.to_string(),
            "application/merge-patch+json",
            "{".into(),
            400,
            "BadRequest",
        ),
        (
            "PATCH",
            dep.to_string(),
            "application/strategic-merge-patch+json",
            "[1]".into(),
            400,
            "BadRequest",
        ),
        (
            "PATCH",
            dep.to_string(),
            "application/strategic-merge-patch+json",
            r#"{"spec":{"$patch":"frob"}}"#.into(),
            500,
            "",
        ),
        (
            "PATCH",
            dep.to_string(),
            "application/strategic-merge-patch+json",
            r#"{"spec":{"strategy":{"$retainKeys":"type"}}}"#.into(),
            400,
            "BadRequest",
        ),
        (
            "PATCH",
            dep.to_string(),
            "application/json-patch+json",
            r#"{"op":"add"}"#.into(),
            400,
            "BadRequest",
        ),
        (
            "PATCH",
            dep.to_string(),
            "application/json-patch+json",
            r#"[{"op":"remove","path":"/spec/nope"}]"#.into(),
            422,
            "Invalid",
        ),
        (
            "PATCH",
            dep.to_string(),
            "application/json-patch+json",
            r#"[{"op":"frob","path":"/spec"}]"#.into(),
            422,
            "Invalid",
        ),
        (
            "PATCH",
            dep.to_string(),
            "application/merge-patch+json",
            r#"{"spec":{"replicas":"10"}}"#.into(),
            400,
            "BadRequest",
        ),
        (
            "PATCH",
            dep.to_string(),
            "application/merge-patch+json",
            r#"{"spec":{"replicas":-1}}"#.into(),
            422,
            "Invalid",
        ),
        (
            "PATCH",
            dep.to_string(),
            "application/merge-patch+json",
            r#"{"metadata":{"resourceVersion":"1"}}"#.into(),
            409,
            "Conflict",
        ),
        (
            "PATCH",
            dep.to_string(),
            "application/merge-patch+json",
            deep.clone(),
            400,
            "BadRequest",
        ),
        (
            "PATCH",
            dep.to_string(),
            "application/strategic-merge-patch+json",
            deep_object.clone(),
            400,
            "BadRequest",
        ),
        (
            "PATCH",
            dep.to_string(),
            "text/plain",
            "{}".into(),
            415,
            "UnsupportedMediaType",
        ),
        (
            "PATCH",
            format!("{dep}?dryRun=Some"),
            "application/merge-patch+json",
            "{}".into(),
            400,
            "BadRequest",
        ),
        (
            "PATCH",
            format!("{dep}?fieldValidation=Sloppy"),
            "application/merge-patch+json",
            "{}".into(),
            400,
            "BadRequest",
        ),
        (
            "PATCH",
            format!("{dep}?force=true"),
            "application/merge-patch+json",
            "{}".into(),
            400,
            "BadRequest",
        ),
        (
            "POST",
            deps.to_string(),
            "text/plain",
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x"}}"#.into(),
            415,
            "UnsupportedMediaType",
        ),
        // What an HTML form on another site can send without a CORS preflight: refused as the
        // API server refuses it, before the body is read.
        (
            "POST",
            deps.to_string(),
            "application/x-www-form-urlencoded",
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x"}}"#.into(),
            415,
            "UnsupportedMediaType",
        ),
        (
            "POST",
            deps.to_string(),
            "multipart/form-data; boundary=x",
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x"}}"#.into(),
            415,
            "UnsupportedMediaType",
        ),
        (
            "PUT",
            dep.to_string(),
            "text/plain;charset=UTF-8",
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"credit-scoring-api"}}"#.into(),
            415,
            "UnsupportedMediaType",
        ),
        (
            "POST",
            deps.to_string(),
            "application/json",
            "not json".into(),
            400,
            "BadRequest",
        ),
        (
            "POST",
            deps.to_string(),
            "application/json",
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"}}"#.into(),
            400,
            "BadRequest",
        ),
        (
            "POST",
            deps.to_string(),
            "application/json",
            deep.clone(),
            400,
            "BadRequest",
        ),
        (
            "PUT",
            dep.to_string(),
            "application/json",
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"other"}}"#.into(),
            400,
            "BadRequest",
        ),
        (
            "DELETE",
            dep.to_string(),
            "application/json",
            r#"{"propagationPolicy":"Sideways"}"#.into(),
            400,
            "BadRequest",
        ),
        (
            "DELETE",
            dep.to_string(),
            "application/json",
            r#"{"preconditions":{"uid":"nope"}}"#.into(),
            409,
            "Conflict",
        ),
        (
            "DELETE",
            "/apis/apps/v1/namespaces/live-coding/deployments/nope".to_string(),
            "",
            String::new(),
            404,
            "NotFound",
        ),
        (
            "PATCH",
            format!("{dep}/status"),
            "application/merge-patch+json",
            r#"{"status":{"replicas":-1}}"#.into(),
            422,
            "Invalid",
        ),
        (
            "PATCH",
            "/api/v1/namespaces/live-coding/pods/any/status".to_string(),
            "application/merge-patch+json",
            "{}".into(),
            405,
            "MethodNotAllowed",
        ),
    ];
    for (method, uri, ctype, body, code, reason) in cases {
        let mut req = Request::builder().method(method).uri(uri.as_str());
        if !ctype.is_empty() {
            req = req.header(header::CONTENT_TYPE, ctype);
        }
        let (status, _, text) = call(&app, req.body(Body::from(body.clone())).unwrap()).await;
        let what = format!("{method} {uri} {ctype} {}", &body[..body.len().min(60)]);
        assert_eq!(status.as_u16(), code, "{what}: {text}");
        let v: Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{what}: not JSON: {text}"));
        assert_eq!(v["kind"], "Status", "{what}");
        // An error the API server does not classify (a 500) has no reason.
        let got = v["reason"].as_str().unwrap_or("");
        assert_eq!(got, reason, "{what}: {text}");
        assert!(
            v["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: {text}"
        );
    }
    assert_eq!(
        st.sb().sim.store.resource_version(),
        rv,
        "a bad write changed the store"
    );
    assert_eq!(st.sb().actions.len(), actions, "a bad write was recorded");
}

#[test]
fn timestamps_keep_their_shift_while_the_virtual_clock_lags_a_little() {
    let shift = WallShift::default();
    // Virtual time 10 s behind the wall clock, 0.99 s before a second's boundary.
    let first = shift.settle(1_000_000_990, 999_990_000);
    assert_eq!(first, 10);
    // 20 ms later the exact shift crosses into 11 s: an object's creationTimestamp must not
    // move between kubectl diff's GET and its dry-run PATCH.
    assert_eq!(shift.settle(1_000_001_010, 999_990_000), first);
    assert_eq!(shift.settle(1_000_002_500, 999_990_000), first);
    // A sandbox paused for a while (or scrubbed back) shows the new ages.
    assert_eq!(shift.settle(1_000_004_000, 999_990_000), 14);
    assert_eq!(shift.settle(1_000_004_000, 999_000_000), 1_004);
}
