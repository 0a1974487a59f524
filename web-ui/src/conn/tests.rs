//! The connection limits, on the router (`oneshot`) and on a real listener.

use std::net::SocketAddr;

use axum::body::Body;
use axum::http::Request;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;
use crate::sandbox::Sandbox;
use crate::{DEMO, router};

fn state(limits: ConnLimits) -> AppState {
    AppState::new(Sandbox::new(DEMO, None).unwrap(), "conn test").with_conn_limits(limits)
}

fn from(ip: &str, uri: &str) -> Request<Body> {
    let mut req = Request::get(uri).body(Body::empty()).unwrap();
    let peer: SocketAddr = format!("{ip}:40000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(peer));
    req
}

async fn text(res: Response) -> String {
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    String::from_utf8_lossy(&body).into_owned()
}

#[tokio::test]
async fn a_client_holds_at_most_its_streams_and_gets_them_back_when_they_end() {
    let st = state(ConnLimits {
        streams_per_client: 2,
        ..ConnLimits::default()
    });
    let app = router(st.clone());
    let a = Some("10.0.0.1".parse().unwrap());
    let first = app
        .clone()
        .oneshot(from("10.0.0.1", "/stream"))
        .await
        .unwrap();
    let watch = "/api/v1/namespaces/default/pods?watch=true";
    let second = app.clone().oneshot(from("10.0.0.1", watch)).await.unwrap();
    assert_eq!(
        (first.status(), second.status()),
        (StatusCode::OK, StatusCode::OK)
    );
    assert_eq!(st.streams.held(a), 2);

    // A third: 429, as a Status on the API, as text on a page.
    let res = app.clone().oneshot(from("10.0.0.1", watch)).await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()[header::RETRY_AFTER], "1");
    let status = text(res).await;
    assert!(
        status.contains(r#""reason":"TooManyRequests""#)
            && status.contains("too many streams from this client: at most 2"),
        "{status}"
    );
    let res = app
        .clone()
        .oneshot(from("10.0.0.1", "/stream"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // Other clients, and requests that are not streams, are not affected.
    let other = app
        .clone()
        .oneshot(from("10.0.0.2", "/stream"))
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::OK);
    let res = app
        .clone()
        .oneshot(from("10.0.0.1", "/healthz"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // A stream that ends (the tab closed: its body dropped) frees its place.
    drop(first);
    assert_eq!(st.streams.held(a), 1);
    let again = app
        .clone()
        .oneshot(from("10.0.0.1", "/stream"))
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    drop((second, again, other));
    assert_eq!(st.streams.held(a), 0);
}

#[test]
fn streams_are_pages_streams_and_watches() {
    let is = |uri: &str| is_stream(&Request::get(uri).body(Body::empty()).unwrap());
    assert!(is("/stream"));
    assert!(is("/scenarios/x/stream"));
    assert!(is("/api/v1/pods?watch=1"));
    assert!(is("/apis/apps/v1/deployments?labelSelector=a&watch=true"));
    assert!(!is("/api/v1/pods?watch=false"));
    assert!(!is("/api/v1/pods"));
    assert!(!is("/streams"));
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_refused() {
    let app = router(state(ConnLimits {
        body_read_timeout: Duration::from_millis(100),
        ..ConnLimits::default()
    }));
    // A body that never ends (a client that stopped sending).
    let never = tokio_stream::pending::<Result<axum::body::Bytes, std::io::Error>>();
    let req = Request::post("/kubectl")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from_stream(never))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::REQUEST_TIMEOUT);
    assert!(text(res).await.contains("did not arrive within 0.1 s"));

    let big = "x".repeat(crate::BODY_LIMIT + 1);
    let req = Request::post("/api/v1/namespaces")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(big))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(text(res).await.contains("RequestEntityTooLarge"));

    // A body that arrives is passed on as it was.
    let req = Request::post("/kubectl")
        .header("sec-fetch-site", "same-origin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(Body::from("cmd=get+ns+default"))
        .unwrap();
    let res = app.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(text(res).await.contains("Active"));
}

/// Serves `limits` on a real listener.
async fn listen(limits: ConnLimits) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let st = state(limits);
    tokio::spawn(crate::serve_on(listener, st));
    addr
}

/// Everything the server sends until it closes the connection (bounded: 10 s at most).
async fn until_closed(s: &mut tokio::net::TcpStream) -> String {
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "the server closed the connection");
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn half_sent_headers_are_timed_out() {
    let addr = listen(ConnLimits {
        header_read_timeout: Duration::from_millis(200),
        ..ConnLimits::default()
    })
    .await;
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .await
        .unwrap();
    let got = until_closed(&mut s).await;
    assert!(!got.contains("200 OK"), "{got}");
    // A connection that says nothing at all is closed too.
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    until_closed(&mut idle).await;
}

#[tokio::test]
async fn connections_beyond_the_cap_get_a_503_and_the_cap_frees_up() {
    let addr = listen(ConnLimits {
        max_connections: 2,
        ..ConnLimits::default()
    })
    .await;
    let get = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let get = get.as_bytes();
    // Two connections held open, each having had an answer (so both were accepted).
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).contains("200 OK"));
        held.push(s);
    }
    let mut third = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _ = third.write_all(get).await;
    let got = until_closed(&mut third).await;
    assert!(
        got.starts_with("HTTP/1.1 503") && got.contains("2 connections open"),
        "{got}"
    );
    drop(held);
    // The server notices the closed connections as it reads them: a few tries at most.
    let mut answered = false;
    for _ in 0..100 {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let _ = s.write_all(get).await;
        if until_closed(&mut s).await.contains("200 OK") {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(answered, "a place is free again");
}
