//! A run written out (`/export`, a `kubesim run` script) and opened again (`/import`, from
//! app.js or a plain `multipart/form-data` form).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::done;
use crate::AppState;
use crate::sandbox::{Revision, Sandbox};

pub(crate) async fn export(State(st): State<AppState>) -> Response {
    let text = st.sb().export();
    (
        [
            (header::CONTENT_TYPE, "application/yaml"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"kubesim-run.yaml\"",
            ),
        ],
        text,
    )
        .into_response()
}

/// The contents of field `name` of a `multipart/form-data` body (what a plain form with a file
/// input sends), or `None` if the body is not multipart or has no such field.
pub(crate) fn multipart_field<'a>(
    content_type: &str,
    body: &'a [u8],
    name: &str,
) -> Option<&'a [u8]> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    let boundary = params
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))?
        .trim_matches('"');
    let delimiter = format!("--{boundary}").into_bytes();
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let mut rest = &body[find(body, &delimiter)? + delimiter.len()..];
    let wanted = format!("name=\"{name}\"");
    loop {
        // Each part: CRLF, headers, a blank line, the contents, CRLF, the next delimiter.
        let part_end = find(rest, &delimiter)?;
        let part = &rest[..part_end];
        let head_end = find(part, b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&part[..head_end]);
        if head.lines().any(|l| {
            l.to_ascii_lowercase().starts_with("content-disposition:") && l.contains(&wanted)
        }) {
            let contents = &part[head_end + 4..];
            return Some(contents.strip_suffix(b"\r\n").unwrap_or(contents));
        }
        rest = &rest[part_end + delimiter.len()..];
    }
}

/// Opens an exported run: the file's text as the body (app.js), or a plain form's
/// `multipart/form-data` with the file in field `run` (without JavaScript; answered with a
/// redirect to the page, or the reason it cannot be opened).
pub(crate) async fn import(State(st): State<AppState>, h: HeaderMap, body: Bytes) -> Response {
    let content_type = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let from_form = content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data");
    let file: &[u8] = if from_form {
        match multipart_field(content_type, &body, "run") {
            Some(f) if !f.is_empty() => f,
            _ => {
                return refused(
                    from_form,
                    StatusCode::BAD_REQUEST,
                    "choose a run file to open",
                );
            }
        }
    } else {
        &body
    };
    let text = match sim_core::script::from_utf8(file) {
        Ok(t) => t.to_string(),
        Err(e) => {
            return refused(
                from_form,
                StatusCode::BAD_REQUEST,
                &format!("the run file must be UTF-8 text: {e}"),
            );
        }
    };
    let begun = st.sb().revision();
    // Replaying a run can take a while: it runs off the async workers and outside the
    // sandbox's lock (the sandbox keeps serving), and stops if the client goes away (this
    // future is dropped, and with it `_gone`).
    let cancel = Arc::new(AtomicBool::new(false));
    let _gone = CancelOnDrop(cancel.clone());
    let opened = tokio::task::spawn_blocking(move || {
        Sandbox::open_unless(&text, &|| cancel.load(Ordering::Relaxed))
    })
    .await;
    let sb = match opened {
        Ok(Ok(sb)) => sb,
        Ok(Err(e)) => {
            return refused(
                from_form,
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("cannot open this run: {e}"),
            );
        }
        Err(e) => {
            tracing_or_log(&e);
            return (StatusCode::INTERNAL_SERVER_ERROR, "import failed").into_response();
        }
    };
    match swap_in(&st, begun, sb) {
        Ok(()) => done(&h, serde_json::json!({"ok": true})),
        Err(why) => refused(from_form, StatusCode::CONFLICT, why),
    }
}

/// Replaces the sandbox with `sb`, atomically, if it is still the one (at the same edit) it
/// was when the import began; otherwise nothing changes and the reason is returned. The old
/// sandbox is dropped outside the lock (a large cluster takes a while to free).
fn swap_in(st: &AppState, begun: Revision, sb: Sandbox) -> Result<(), &'static str> {
    let old = {
        let mut current = st.sb();
        if current.revision() != begun {
            return Err(
                "the sandbox changed while the run was being opened (someone acted in it, went back in time or opened another run), so it was not replaced: open the run again to replace it",
            );
        }
        std::mem::replace(&mut *current, sb)
    };
    st.notify();
    drop(old);
    Ok(())
}

/// Sets its flag when dropped: the import's handler future is dropped when its client goes
/// away.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// A replay that panicked: the detail goes to the server's log, not to the client.
fn tracing_or_log(e: &tokio::task::JoinError) {
    eprintln!("kubesim: an import's replay failed: {e}");
}

/// Why a run was not opened: plain text for app.js, a small page with a way back for a form.
fn refused(from_form: bool, status: StatusCode, why: &str) -> Response {
    if !from_form {
        return (status, why.to_string()).into_response();
    }
    let why = why
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let page = format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>kubesim · run not opened</title><link rel=\"stylesheet\" href=\"/assets/app.css\"><main class=\"refused\"><h1>The run was not opened</h1><pre class=\"error-line\">{why}</pre><p><a class=\"button\" href=\"/\">back to the sandbox</a></p></main></html>"
    );
    (status, Html(page)).into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;
    use crate::routes::tests::{app, call, form};
    use crate::{DEMO, router};

    #[tokio::test]
    async fn export_and_import_round_trip() {
        let app = app();
        call(
            &app,
            form(
                "/kubectl",
                "cmd=scale+deployment%2Fcredit-scoring-api+--replicas%3D4+-n+live-coding",
            ),
        )
        .await;
        let (status, file) = call(&app, Request::get("/export").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            file.contains(
                "kubectl: scale deployment/credit-scoring-api --replicas=4 -n live-coding"
            ),
            "{file}"
        );
        let other = router(AppState::new(Sandbox::new(DEMO, None).unwrap(), "other"));
        let (status, _) = call(
            &other,
            Request::post("/import")
                .header("sec-fetch-site", "same-origin")
                .header(header::ACCEPT, "application/json")
                .body(Body::from(file))
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        call(&other, form("/control/step", "")).await;
        let (_, json) = call(&other, form("/kubectl", "cmd=get+deploy+-n+live-coding")).await;
        assert!(
            json.contains("/4"),
            "the imported run replays the scale: {json}"
        );
    }

    fn multipart(file: &str) -> Request<Body> {
        let body = format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--XyZ\r\nContent-Disposition: form-data; name=\"run\"; filename=\"kubesim-run.yaml\"\r\nContent-Type: application/yaml\r\n\r\n{file}\r\n--XyZ--\r\n"
        );
        Request::post("/import")
            .header("sec-fetch-site", "same-origin")
            .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XyZ")
            .body(Body::from(body))
            .unwrap()
    }

    #[tokio::test]
    async fn a_run_opens_from_a_plain_form_without_javascript() {
        let app = app();
        let (status, page) = call(&app, Request::get("/").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains(r#"<form class="import" method="post" action="/import" enctype="multipart/form-data"><input type="hidden" name="_form""#),
            "the open form posts without JavaScript"
        );
        call(
            &app,
            form(
                "/kubectl",
                "cmd=scale+deployment%2Fcredit-scoring-api+--replicas%3D4+-n+live-coding",
            ),
        )
        .await;
        let (_, file) = call(&app, Request::get("/export").body(Body::empty()).unwrap()).await;
        let other = router(AppState::new(Sandbox::new(DEMO, None).unwrap(), "other"));
        let res = other.clone().oneshot(multipart(&file)).await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "back to the page");
        call(&other, form("/control/step", "")).await;
        let (_, json) = call(&other, form("/kubectl", "cmd=get+deploy+-n+live-coding")).await;
        assert!(
            json.contains("/4"),
            "the opened run replays the scale: {json}"
        );

        // A bad file: the reason, as a page with a way back; the sandbox is untouched.
        let (status, page) = call(&other, multipart("steps: [{nonsense: 1}]")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            page.contains("cannot open this run") && page.contains(r#"href="/""#),
            "{page}"
        );
        let (status, page) = call(&other, multipart("")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("choose a run file"), "{page}");
        let (_, json) = call(&other, form("/kubectl", "cmd=get+deploy+-n+live-coding")).await;
        assert!(json.contains("/4"), "{json}");
    }

    async fn import(app: &axum::Router, file: &str) -> (StatusCode, String) {
        call(
            app,
            Request::post("/import")
                .header("sec-fetch-site", "same-origin")
                .header(header::ACCEPT, "application/json")
                .body(Body::from(file.to_string()))
                .unwrap(),
        )
        .await
    }

    #[tokio::test]
    async fn bad_imports_are_refused_before_anything_is_built() {
        let app = app();
        let cases = [
            (
                "steps:\n  - echo: a\n  - frob: 1\n",
                "line 3",
                "unknown field `frob`",
            ),
            (
                "cluster: {nodes: 1000000}\n",
                "line 1",
                "1000000 nodes is more than the sandbox's limit of 5000",
            ),
            (
                "steps:\n  - advance: 99999999999999999999h\n",
                "line 2",
                "too long",
            ),
            (
                "steps:\n  - advance: 5\n",
                "line 2",
                "a number needs a unit",
            ),
            (
                "steps:\n  - advance: 300h\n  - advance: 300h\n  - advance: 300h\n",
                "line 4",
                "more than the limit of 30 days",
            ),
            ("", "line 1", "the script is empty"),
        ];
        for (file, line, why) in cases {
            let (status, body) = import(&app, file).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{file:?}: {body}");
            assert!(
                body.contains(line) && body.contains(why) && !body.contains("\"ok\""),
                "{file:?}: {body}"
            );
        }
        let (status, body) = import(&app, "steps: [{echo: café}]").await;
        assert_eq!(status, StatusCode::OK, "UTF-8 text is fine: {body}");
    }

    #[tokio::test]
    async fn an_import_does_not_replace_a_sandbox_that_changed_meanwhile() {
        let st = AppState::new(Sandbox::new(DEMO, None).unwrap(), "t");
        let app = router(st.clone());
        let begun = st.sb().revision();
        let opened = Sandbox::open("steps:\n  - echo: other\n").unwrap();
        // The student acts while the run is being replayed.
        call(&app, form("/kubectl", "cmd=create+namespace+mine")).await;
        let why = swap_in(&st, begun, opened).unwrap_err();
        assert!(why.contains("the sandbox changed"), "{why}");
        let (_, json) = call(&app, form("/kubectl", "cmd=get+ns+mine")).await;
        assert!(
            json.contains("Active"),
            "the student's work is kept: {json}"
        );

        // Unchanged since it began: replaced.
        let begun = st.sb().revision();
        let opened = Sandbox::open("steps:\n  - echo: other\n").unwrap();
        swap_in(&st, begun, opened).unwrap();
        assert_ne!(st.sb().revision(), begun);
        // Time running is not a change; a scrub back rebuilds the history, which is.
        let begun = st.sb().revision();
        let t = st.sb().sim.now();
        st.sb().run_to(t + sim_core::SimDuration::from_secs(10));
        assert_eq!(st.sb().revision(), begun, "time moving changes nothing");
        st.sb().scrub(t).unwrap();
        assert_ne!(st.sb().revision(), begun);
    }

    #[test]
    fn an_import_stops_when_its_client_goes_away() {
        let file = "steps:\n  - echo: 'kubesim: recorded actions follow'\n  - advance: 10d\n";
        let calls = std::cell::Cell::new(0);
        let r = Sandbox::open_unless(file, &|| {
            calls.set(calls.get() + 1);
            calls.get() > 3
        });
        assert!(
            matches!(r, Err(crate::sandbox::SandboxError::Cancelled)),
            "{r:?}"
        );
        assert_eq!(calls.get(), 4, "checked between virtual minutes");
    }

    #[test]
    fn multipart_fields_are_found_by_name() {
        let body = b"--b\r\nContent-Disposition: form-data; name=\"run\"; filename=\"r.yaml\"\r\n\r\na: 1\r\n\r\nb: --c\r\n--b--\r\n";
        let ct = "multipart/form-data; boundary=b";
        assert_eq!(
            multipart_field(ct, body, "run"),
            Some(&b"a: 1\r\n\r\nb: --c"[..])
        );
        assert_eq!(multipart_field(ct, body, "other"), None);
        assert_eq!(multipart_field("text/plain", body, "run"), None);
        assert_eq!(multipart_field(ct, b"garbage", "run"), None);
        let quoted = "multipart/form-data; boundary=\"b\"";
        assert!(multipart_field(quoted, body, "run").is_some());
    }
}
