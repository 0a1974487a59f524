//! The sandbox's journal: acknowledged actions on disk, replayed after a crash.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

use super::*;
use crate::{DEMO, router};

fn form(uri: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header("sec-fetch-site", "same-origin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn server(dir: &Path) -> (axum::Router, AppState, PathBuf) {
    let journal = Journal::in_dir(dir, DEMO, None);
    let path = journal.path.clone();
    let sb = match journal.restore(None) {
        Some(r) => r.unwrap(),
        None => Sandbox::new(DEMO, None).unwrap(),
    };
    let st = AppState::new(sb, "t").with_journal(journal);
    sync(&st, st.journal.as_ref().unwrap());
    (router(st.clone()), st, path)
}

#[tokio::test]
async fn acknowledged_actions_survive_a_kill_and_a_torn_line_is_dropped() {
    let dir = std::env::temp_dir().join(format!("kubesim-sandbox-journal-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (app, st, path) = server(&dir);
    assert!(!path.exists(), "nothing done, nothing written");
    for cmd in ["create+namespace+one", "create+namespace+two"] {
        let res = app
            .clone()
            .oneshot(form("/kubectl", &format!("cmd={cmd}")))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("create namespace two"),
        "on disk before the answer: {text}"
    );
    let actions = st.sb().actions.clone();
    assert_eq!(actions.len(), 2);
    // `kill -9` half-way through the next append.
    std::fs::write(&path, format!("{text}{{\"line\":\"action\",\"atMs\":12")).unwrap();

    let (app, st, _) = server(&dir);
    assert_eq!(st.sb().actions, actions, "replayed");
    let res = app
        .oneshot(form("/kubectl", "cmd=get+ns+two"))
        .await
        .unwrap();
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&body).contains("Active"));
    let compacted = std::fs::read_to_string(&path).unwrap();
    assert!(
        !compacted.contains("\"atMs\":12\n") && compacted.ends_with('\n'),
        "{compacted}"
    );
    assert_eq!(read(compacted.as_bytes()).unwrap().actions, actions);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_imported_run_replaces_the_journal() {
    let dir = std::env::temp_dir().join(format!("kubesim-sandbox-import-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (app, st, path) = server(&dir);
    app.clone()
        .oneshot(form("/kubectl", "cmd=create+namespace+before"))
        .await
        .unwrap();
    let file = "steps:\n  - echo: 'kubesim: recorded actions follow'\n  - kubectl: create namespace imported\n";
    let res = app
        .clone()
        .oneshot(
            Request::post("/import")
                .header("sec-fetch-site", "same-origin")
                .header(header::ACCEPT, "application/json")
                .body(Body::from(file))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let loaded = read(&std::fs::read(&path).unwrap()).unwrap();
    assert!(loaded.scenario.contains("recorded") || loaded.scenario.contains("steps"));
    assert_eq!(loaded.actions, st.sb().actions);
    assert!(
        loaded
            .actions
            .iter()
            .all(|a| a.action != Action::Kubectl("create namespace before".into()))
    );
    let _ = std::fs::remove_dir_all(&dir);
}
