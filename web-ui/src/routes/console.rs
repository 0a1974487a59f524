//! What the consoles of the sandbox and the scenario pages share: the namespace a command
//! runs in, a watch streamed as the cluster changes (`get -w`, `rollout status`), `edit`
//! (the object into the page's YAML editor) and tab completion. kubectl's behaviour is
//! sim-core's (`sim_core::kubectl::{Watch, edit, complete}`); this only carries it to the page.

use axum::body::Bytes;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use sim_core::kubectl::Output;

use crate::cluster::Cluster;

/// `cmd` run in the console's namespace, as kubectl runs a command in its context's: with
/// `-n NS` added unless it names a namespace (`-n`, `--namespace`, `-A`) or reads files
/// (whose objects name theirs). The recorded action carries the namespace, so a replay does
/// not depend on the page.
pub(crate) fn in_namespace(cmd: &str, words: &[String], ns: &str) -> String {
    let named = words.iter().any(|w| {
        matches!(w.as_str(), "-n" | "--namespace" | "-A" | "--all-namespaces")
            || w.starts_with("--namespace=")
            || w.starts_with("--all-namespaces=")
            || (w.starts_with("-n") && !w.starts_with("--"))
            || w == "-f"
            || w.starts_with("--filename")
            || w.starts_with("-f=")
    });
    if named {
        return cmd.to_string();
    }
    // Flags after `--` belong to the container's command.
    match cmd.find(" -- ") {
        Some(i) => format!("{} -n {ns}{}", &cmd[..i], &cmd[i..]),
        None => format!("{cmd} -n {ns}"),
    }
}

/// Whether `ns` can name a namespace (a DNS label).
pub(crate) fn valid_namespace(ns: &str) -> bool {
    sim_core::api::validation::is_dns1123_label(ns).is_empty()
}

/// A namespace picked on a page (the picker's form): empty is "all namespaces" (`None`); a
/// name the API server would refuse is a 400.
pub(crate) fn picked_namespace(ns: &str) -> Result<Option<String>, Box<axum::response::Response>> {
    use axum::response::IntoResponse;
    let ns = ns.trim();
    if ns.is_empty() {
        return Ok(None);
    }
    if !valid_namespace(ns) {
        return Err(Box::new(
            (
                axum::http::StatusCode::BAD_REQUEST,
                format!("{ns:?} is not a valid namespace name"),
            )
                .into_response(),
        ));
    }
    Ok(Some(ns.to_string()))
}

/// `kubectl config ...` in a console whose context is the page's (`current` its namespace):
/// what it prints, and the namespace `set-context --current --namespace=NS` moves the page,
/// the console and the kubeconfig to. `view` is the kubeconfig in a namespace.
pub(crate) fn config(
    words: &[String],
    current: &str,
    view: &dyn Fn(&str) -> String,
) -> (Output, Option<String>) {
    let out = |stdout: String, stderr: &str, code: i32| Output {
        stdout,
        stderr: stderr.to_string(),
        code,
    };
    let arg = |name: &str| {
        words.iter().enumerate().find_map(|(i, w)| {
            w.strip_prefix(&format!("{name}="))
                .map(str::to_string)
                .or_else(|| (w == name).then(|| words.get(i + 1).cloned()).flatten())
        })
    };
    match words.get(1).map(String::as_str) {
        Some("set-context") => {
            let Some(ns) = arg("--namespace") else {
                return (
                    out(
                        String::new(),
                        "error: kubesim's console changes only the namespace: config set-context --current --namespace=NAME\n",
                        1,
                    ),
                    None,
                );
            };
            if !valid_namespace(&ns) {
                return (
                    out(
                        String::new(),
                        &format!(
                            "error: {ns:?} is not a valid namespace name (lowercase letters, digits and '-')\n"
                        ),
                        1,
                    ),
                    None,
                );
            }
            (
                out("Context \"kubesim\" modified.\n".into(), "", 0),
                Some(ns),
            )
        }
        Some("current-context") => (out("kubesim\n".into(), "", 0), None),
        Some("view") => (out(view(current), "", 0), None),
        _ => (
            out(
                String::new(),
                "error: kubesim's console supports config set-context --current --namespace=NAME, config view and config current-context\n",
                1,
            ),
            None,
        ),
    }
}

/// `kubectl edit` in a console: the object's YAML for the page's editor, and what the
/// console says (kubectl would open `$EDITOR`; here applying from the editor is the edit).
pub(crate) fn edit(sim: &sim_core::Sim, cmd: &str) -> (Output, Option<String>) {
    match sim_core::kubectl::edit(sim, cmd) {
        Ok(e) => (
            Output {
                stdout: format!(
                    "Editing {} in the YAML editor: change it there and press \"kubectl apply\" to save the edit.\n",
                    e.target
                ),
                stderr: String::new(),
                code: 0,
            },
            Some(e.yaml),
        ),
        Err(o) => (o, None),
    }
}

/// The completions of `line` as JSON: `{"words": [...]}`.
pub(crate) fn completions(sim: &sim_core::Sim, line: &str, ns: &str) -> Response {
    let words = sim_core::kubectl::complete(sim, line, ns);
    axum::Json(serde_json::json!({ "words": words })).into_response()
}

/// Adds one ended watch (its command line and everything it printed) to a scrollback.
pub(crate) type Record = Box<dyn FnOnce(String) + Send>;

/// What a streamed watch printed, written to the scrollback when it ends, however it ends
/// (done, stopped with Ctrl-C, the tab gone, the server stopping).
struct Transcript {
    text: String,
    /// It ended by the client going away (Ctrl-C, Stop, the tab closed).
    interrupted: bool,
    record: Option<Record>,
}

impl Transcript {
    /// The watch ended by itself (or the server is stopping): no `^C`.
    fn ended(&mut self) {
        self.interrupted = false;
    }
}

impl Drop for Transcript {
    fn drop(&mut self) {
        if self.interrupted {
            self.text.push_str("^C\n");
        }
        if let Some(record) = self.record.take() {
            record(std::mem::take(&mut self.text));
        }
    }
}

/// The consoles' running watches, by number. The page's Ctrl-C posts to `/console/stop/{n}`
/// and waits: the watch ends at once and what it printed is in the scrollback before the
/// student's next command, whether or not the server has yet seen the page drop the stream
/// (a response with nothing new to send does not notice a closed connection).
#[derive(Default)]
pub(crate) struct Watches {
    next: std::sync::atomic::AtomicU64,
    running: std::sync::Mutex<std::collections::HashMap<u64, Stop>>,
}

/// Stops one watch; the watch answers on the enclosed sender once its transcript is recorded.
type Stop = tokio::sync::oneshot::Sender<tokio::sync::oneshot::Sender<()>>;

impl Watches {
    fn running(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<u64, Stop>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn start(
        &self,
    ) -> (
        u64,
        tokio::sync::oneshot::Receiver<tokio::sync::oneshot::Sender<()>>,
    ) {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let (stop, stopped) = tokio::sync::oneshot::channel();
        self.running().insert(n, stop);
        (n, stopped)
    }

    fn end(&self, n: u64) {
        self.running().remove(&n);
    }

    /// Stops watch `n` and waits until what it printed is recorded; false if it had ended.
    async fn stop(&self, n: u64) -> bool {
        let Some(stop) = self.running().remove(&n) else {
            return false;
        };
        let (recorded, done) = tokio::sync::oneshot::channel();
        if stop.send(recorded).is_err() {
            return false;
        }
        // The watch records within one poll; a lost answer is not worth holding the page for.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), done).await;
        true
    }
}

/// `POST /console/stop/{n}`: the page's Ctrl-C for watch `n` (204 once recorded, 404 if it
/// had already ended).
pub(crate) async fn stop(
    axum::extract::State(st): axum::extract::State<crate::AppState>,
    axum::extract::Path(n): axum::extract::Path<u64>,
) -> axum::http::StatusCode {
    if st.watches.stop(n).await {
        axum::http::StatusCode::NO_CONTENT
    } else {
        axum::http::StatusCode::NOT_FOUND
    }
}

/// Streams the watch `cmd` (`typed` as the student typed it) as plain text: what kubectl
/// prints at once, then what it prints after each change of `cluster`, at most 20 times a
/// second, until the command ends (the rollout completes, fails, `--timeout`), the page
/// stops it ([`stop`]), the client goes away or the server stops. The cluster is locked only
/// for each poll. A watch kubectl would refuse answers as a command does (JSON). The
/// response's `X-Kubesim-Watch` header is the watch's number.
pub(crate) fn stream_watch(cluster: Cluster, cmd: &str, typed: &str, record: Record) -> Response {
    let started = {
        let locked = cluster.lock();
        sim_core::kubectl::start_watch(locked.sim(), cmd)
    };
    let mut watch = match started {
        Ok(w) => w,
        Err(out) => {
            record(format!("$ kubectl {typed}\n{}{}", out.stdout, out.stderr));
            return axum::Json(super::output_json(&out)).into_response();
        }
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::convert::Infallible>>(64);
    let mut transcript = Transcript {
        text: format!("$ kubectl {typed}\n"),
        interrupted: true,
        record: Some(record),
    };
    let watches = cluster.app().watches.clone();
    let (n, mut stopped) = watches.start();
    tokio::spawn(async move {
        let mut changes = cluster.subscribe();
        let mut shutdown = cluster.shutdown();
        let stopped_by_page = loop {
            let polled = {
                let locked = cluster.lock();
                watch.poll(locked.sim())
            };
            let chunk = polled.out.stdout + &polled.out.stderr;
            transcript.text.push_str(&chunk);
            if !chunk.is_empty() && tx.send(Ok(Bytes::from(chunk))).await.is_err() {
                break None; // the tab stopped it or went away
            }
            if polled.done.is_some() {
                transcript.ended();
                break None;
            }
            tokio::select! {
                r = changes.changed() => if r.is_err() { break None },
                _ = tx.closed() => break None,
                _ = shutdown.changed() => { transcript.ended(); break None },
                r = &mut stopped => break r.ok(),
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        watches.end(n);
        drop(transcript);
        if let Some(recorded) = stopped_by_page {
            let _ = recorded.send(());
        }
    });
    (
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (
                header::HeaderName::from_static("x-kubesim-watch"),
                n.to_string(),
            ),
        ],
        axum::body::Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx)),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tokio_stream::StreamExt;
    use tower::ServiceExt;

    use crate::AppState;
    use crate::routes::tests::{call, form};
    use crate::sandbox::{Action, Sandbox};

    type Lines = axum::body::BodyDataStream;

    /// Reads the stream until `what` shows (the test fails if it ends first).
    async fn read_until(body: &mut Lines, text: &mut String, what: &str) {
        while !text.contains(what) {
            match body.next().await {
                Some(Ok(b)) => text.push_str(&String::from_utf8_lossy(&b)),
                _ => panic!("the watch ended before {what:?}: {text}"),
            }
        }
    }

    async fn watch(st: &AppState, uri: &str, cmd: &str) -> Lines {
        let res = crate::router(st.clone())
            .oneshot(form(uri, &format!("cmd={}", cmd.replace(' ', "+"))))
            .await
            .unwrap();
        assert_eq!(res.headers()["x-kubesim-watch"], "1");
        res.into_body().into_data_stream()
    }

    fn later(st: &AppState, secs: u64) {
        let t = st.sb().sim.now() + sim_core::SimDuration::from_secs(secs);
        st.sb().run_to(t);
        st.notify();
    }

    #[tokio::test]
    async fn a_watch_streams_a_row_per_change_and_goes_to_the_scrollback_when_closed() {
        let st = AppState::new(Sandbox::new(crate::DEMO, None).unwrap(), "test");
        let mut body = watch(&st, "/kubectl", "get deploy -w").await;
        let mut text = String::new();
        read_until(&mut body, &mut text, "credit-scoring-api   10/10").await;
        assert!(text.starts_with("NAME                 READY"), "{text}");
        st.sb().act(Action::Kubectl(
            "scale deployment credit-scoring-api --replicas=12 -n live-coding".into(),
        ));
        st.notify();
        read_until(&mut body, &mut text, "credit-scoring-api   10/12").await;
        later(&st, 30);
        read_until(&mut body, &mut text, "12/12").await;
        assert_eq!(text.matches("NAME").count(), 1, "the header once: {text}");
        // Ctrl-C: the page drops the request; the watch ends and the scrollback has it.
        drop(body);
        st.notify();
        for _ in 0..200 {
            if st.console().out.contains("get deploy -w") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let out = st.console().out.clone();
        assert!(
            out.starts_with("$ kubectl get deploy -w\nNAME") && out.ends_with("^C\n"),
            "{out}"
        );
    }

    #[tokio::test]
    async fn the_pages_ctrl_c_records_the_watch_before_the_next_command_while_the_stream_is_open() {
        let st = AppState::new(Sandbox::new(crate::DEMO, None).unwrap(), "test");
        let app = crate::router(st.clone());
        let mut body = watch(&st, "/kubectl", "get deploy -w").await;
        let mut text = String::new();
        read_until(&mut body, &mut text, "credit-scoring-api   10/10").await;
        // Nothing changes, so nothing is written: the server cannot see a closed connection.
        // The page's Ctrl-C says so, and waits until the watch is in the scrollback.
        let (status, _) = call(&app, form("/console/stop/1", "")).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, json) = call(&app, form("/kubectl", "cmd=get+deploy+-n+live-coding")).await;
        assert!(json.contains("credit-scoring-api"), "{json}");
        let out = st.console().out.clone();
        assert!(
            out.starts_with("$ kubectl get deploy -w\nNAME")
                && out.contains("10/10")
                && out.contains("^C\n$ kubectl get deploy -n live-coding\nNAME"),
            "{out}"
        );
        assert!(body.next().await.is_none(), "the stream ends");
        let (status, _) = call(&app, form("/console/stop/1", "")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "a watch is stopped once");
    }

    #[tokio::test]
    async fn rollout_status_streams_until_the_rollout_completes() {
        let st = AppState::new(Sandbox::new(crate::DEMO, None).unwrap(), "test");
        st.sb().act(Action::Kubectl(
            "set image deployment/credit-scoring-api api=registry.local/credit-scoring-api:v2 -n live-coding".into(),
        ));
        let mut body = watch(&st, "/kubectl", "rollout status deploy/credit-scoring-api").await;
        let mut text = String::new();
        read_until(&mut body, &mut text, "\n").await;
        assert_eq!(
            text,
            "Waiting for deployment \"credit-scoring-api\" rollout to finish: 2 out of 10 new replicas have been updated...\n"
        );
        for _ in 0..30 {
            later(&st, 10);
        }
        read_until(&mut body, &mut text, "successfully rolled out").await;
        assert!(body.next().await.is_none(), "and the stream ends: {text}");
        for _ in 0..200 {
            if st.console().out.contains("rolled out") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let out = st.console().out.clone();
        assert!(
            out.ends_with("deployment \"credit-scoring-api\" successfully rolled out\n"),
            "no ^C: {out}"
        );
    }

    #[tokio::test]
    async fn tab_completes_and_edit_fills_the_editor_without_javascript_too() {
        let st = AppState::new(Sandbox::new(crate::DEMO, None).unwrap(), "test");
        let app = crate::router(st.clone());
        let get = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();
        let (status, json) = call(&app, get("/complete?line=get+deploy+cr")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(json, r#"{"words":["credit-scoring-api"]}"#);
        let (_, json) = call(&app, get("/complete?line=rollout+stat")).await;
        assert_eq!(json, r#"{"words":["status"]}"#);
        let (_, json) = call(
            &app,
            form("/kubectl", "cmd=edit+deploy%2Fcredit-scoring-api"),
        )
        .await;
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            v["stdout"],
            "Editing deployment.apps/credit-scoring-api in the YAML editor: change it there and press \"kubectl apply\" to save the edit.\n"
        );
        assert!(
            v["edit"]
                .as_str()
                .unwrap()
                .contains("name: credit-scoring-api"),
            "{v}"
        );
        let (_, page) = call(&app, get("/")).await;
        assert!(
            page.contains("# Please edit the object below.")
                && page.contains("Editing deployment.apps/credit-scoring-api"),
            "the page's editor and console have it: {page}"
        );
        let (_, json) = call(&app, form("/kubectl", "cmd=edit+deploy+nope")).await;
        assert!(
            json.contains("deployments.apps \\\"nope\\\" not found"),
            "{json}"
        );
    }
}
