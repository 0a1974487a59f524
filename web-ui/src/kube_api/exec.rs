//! `pods/{name}/exec`: `kubectl exec` over a WebSocket, as kubectl 1.37 speaks it first
//! (KEP-4006, client-go's `tools/remotecommand/websocket.go`): a GET with `Upgrade:
//! websocket` and the subprotocol `v5.channel.k8s.io` (`v4.channel.k8s.io` is accepted too).
//! Every binary message starts with its channel: 0 stdin, 1 stdout, 2 stderr, 3 the error
//! channel (a `metav1.Status`: `Success`, `NonZeroExitCode` with an `ExitCode` cause, or
//! `InternalError`), 4 terminal resizes; v5 adds `[255, channel]`, the client closing its
//! stdin. The server closes the connection normally after the status, and client-go reads
//! EOF on every stream.
//!
//! SPDY (`POST` with `Upgrade: SPDY/3.1`, kubectl's fallback when the WebSocket upgrade is
//! refused) is not served: the checks that refuse an exec (no pod, no such container, not
//! running) answer either request alike, so kubectl's fallback prints the real error, and a
//! request that passes them but is not a WebSocket gets a 400 that says so.
//!
//! The command runs in sim-core ([`sim_core::Sim::exec`]) on a blocking thread, the cluster
//! locked only while it runs; an exec that sent requests is recorded (an `exec` action) and
//! the journal saved. With `stdin` the input is read first: until the client closes it (or
//! the connection), then the command runs with it; with a TTY and a shell (`kubectl exec -it
//! POD -- sh`), one line at a time, each a command of its own, behind a `# ` prompt.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use sim_core::shell::{Exec, ExecError, ExecOutput};

#[allow(unused_imports)]
use super::*;

/// The subprotocols served, best first.
const PROTOCOLS: [&str; 2] = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

/// How long a session waits for its client's next message.
const IDLE: Duration = Duration::from_secs(15 * 60);

/// At most this much stdin is read before the command runs (a pasted script, not a file).
const MAX_STDIN: usize = 1 << 20;

/// What the query asks for (`corev1.PodExecOptions`).
struct Options {
    exec: Exec,
    stdin: bool,
    tty: bool,
}

fn flag(pairs: &[(String, String)], key: &str) -> bool {
    pairs
        .iter()
        .any(|(k, v)| k == key && matches!(v.as_str(), "true" | "1" | "True"))
}

/// The refusal of an exec as the API server (JSON Status) or the kubelet (plain text,
/// proxied as it is) answers it.
fn refusal(e: &ExecError) -> Response {
    match e {
        ExecError::ContainerNotRunning(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            e.to_string(),
        )
            .into_response(),
        ExecError::PodNotFound(name) => status(
            e.code(),
            e.reason(),
            &e.to_string(),
            json!({"name": name, "kind": "pods"}),
        ),
        _ => status(e.code(), e.reason(), &e.to_string(), json!({})),
    }
}

/// `GET|POST .../pods/{name}/exec?command=...&container=...&stdin=&stdout=&stderr=&tty=`.
pub(super) fn pod_exec(
    st: &Cluster,
    ns: &str,
    name: &str,
    uri: &Uri,
    ws: Option<WebSocketUpgrade>,
) -> Response {
    let pairs = query_pairs(uri);
    let command: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "command")
        .map(|(_, v)| v.clone())
        .collect();
    if command.is_empty() {
        return status(
            400,
            "BadRequest",
            "you must specify at least 1 command",
            json!({}),
        );
    }
    let container = pairs
        .iter()
        .find(|(k, _)| k == "container")
        .map(|(_, v)| v.clone())
        .filter(|c| !c.is_empty());
    let opts = Options {
        exec: Exec {
            namespace: ns.to_string(),
            pod: name.to_string(),
            container,
            command,
            stdin: String::new(),
        },
        stdin: flag(&pairs, "stdin"),
        tty: flag(&pairs, "tty"),
    };
    let checked = st
        .lock()
        .sim()
        .exec_target(ns, name, opts.exec.container.as_deref());
    if let Err(e) = checked {
        return refusal(&e);
    }
    let Some(ws) = ws else {
        return status(
            400,
            "BadRequest",
            "kubesim serves exec over WebSocket (v5.channel.k8s.io) only, not SPDY: use kubectl 1.31 or newer",
            json!({}),
        );
    };
    let st = st.clone();
    let typed = super::write::typed();
    let path = uri.path().to_string();
    ws.protocols(PROTOCOLS)
        .on_upgrade(move |socket| session(socket, st, opts, typed, path))
}

/// Sends one message on `channel`.
async fn send(socket: &mut WebSocket, channel: u8, data: &[u8]) -> bool {
    let mut frame = Vec::with_capacity(data.len() + 1);
    frame.push(channel);
    frame.extend_from_slice(data);
    socket.send(Message::Binary(frame.into())).await.is_ok()
}

/// The error channel's Status for a finished command (the container runtime's streaming
/// server, `remotecommand.ServeExec`).
fn exit_status(command: &[String], out: &ExecOutput) -> serde_json::Value {
    if let Some(why) = &out.internal {
        return json!({"metadata": {}, "status": "Failure",
            "message": format!("Internal error occurred: {why}"), "reason": "InternalError",
            "details": {"causes": [{"message": why}]}, "code": 500});
    }
    if out.code == 0 {
        return json!({"metadata": {}, "status": "Success"});
    }
    json!({"metadata": {}, "status": "Failure",
        "message": format!(
            "command terminated with non-zero exit code: error executing command [{}], exit code {}",
            command.join(" "),
            out.code
        ),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": out.code.to_string()}]}})
}

/// Runs one exec on a blocking thread (the cluster locked only there), saving the journal
/// when it was recorded.
async fn run(
    st: &Cluster,
    exec: Exec,
    typed: Option<String>,
    path: &str,
) -> Result<ExecOutput, ExecError> {
    let cluster = st.clone();
    let ran = tokio::task::spawn_blocking(move || cluster.exec(exec, typed))
        .await
        .unwrap_or_else(|_| Ok(ExecOutput::default()));
    if ran.as_ref().is_ok_and(|o| o.requests > 0) {
        st.save(path).await;
    }
    ran
}

/// What the client sent next: stdin bytes, stdin closed, or the end.
enum Input {
    Stdin(Vec<u8>),
    StdinClosed,
    Gone,
}

async fn next_input(socket: &mut WebSocket) -> Input {
    loop {
        let Ok(Some(Ok(msg))) = tokio::time::timeout(IDLE, socket.recv()).await else {
            return Input::Gone;
        };
        match msg {
            Message::Binary(b) => match b.first() {
                Some(0) => return Input::Stdin(b[1..].to_vec()),
                Some(255) if b.get(1) == Some(&0) => return Input::StdinClosed,
                // Resizes and other channels: nothing to do.
                _ => {}
            },
            Message::Close(_) => return Input::Gone,
            _ => {}
        }
    }
}

async fn finish(mut socket: WebSocket, status: serde_json::Value) {
    let _ = send(&mut socket, 3, status.to_string().as_bytes()).await;
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: 1000,
            reason: "".into(),
        })))
        .await;
    // Let the client read the close frame before the connection drops.
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(m)) = socket.recv().await {
            if matches!(m, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

fn is_shell(command: &[String]) -> bool {
    command.len() == 1 && matches!(command[0].rsplit('/').next(), Some("sh" | "ash" | "bash"))
}

async fn session(
    mut socket: WebSocket,
    st: Cluster,
    mut opts: Options,
    typed: Option<String>,
    path: String,
) {
    if opts.stdin && opts.tty && is_shell(&opts.exec.command) {
        return repl(socket, st, opts, typed, path).await;
    }
    if opts.stdin {
        let mut input: Vec<u8> = Vec::new();
        while let Input::Stdin(b) = next_input(&mut socket).await {
            input.extend_from_slice(&b);
            if input.len() > MAX_STDIN {
                break;
            }
        }
        opts.exec.stdin = String::from_utf8_lossy(&input).into_owned();
    }
    let command = opts.exec.command.clone();
    let out = match run(&st, opts.exec, typed, &path).await {
        Ok(o) => o,
        // The pod went away between the check and the run.
        Err(e) => ExecOutput {
            internal: Some(e.to_string()),
            ..ExecOutput::default()
        },
    };
    let (stdout, stderr) = if opts.tty {
        // A terminal: one stream, with carriage returns.
        let mut all = out.stdout.clone();
        all.extend_from_slice(&out.stderr);
        (crlf(&all), Vec::new())
    } else {
        (out.stdout.clone(), out.stderr.clone())
    };
    if !stdout.is_empty() {
        send(&mut socket, 1, &stdout).await;
    }
    if !stderr.is_empty() {
        send(&mut socket, 2, &stderr).await;
    }
    finish(socket, exit_status(&command, &out)).await;
}

/// `\n` as a terminal wants it.
fn crlf(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    for &c in b {
        if c == b'\n' {
            out.push(b'\r');
        }
        out.push(c);
    }
    out
}

/// `kubectl exec -it POD -- sh`: a line editor over the raw terminal (echo, backspace,
/// Ctrl-C, Ctrl-D), each line run as `sh -c LINE` on its own; `exit [N]` ends it.
async fn repl(
    mut socket: WebSocket,
    st: Cluster,
    opts: Options,
    typed: Option<String>,
    path: String,
) {
    const PROMPT: &[u8] = b"# ";
    let mut line: Vec<u8> = Vec::new();
    let mut last = 0;
    if !send(&mut socket, 1, PROMPT).await {
        return;
    }
    loop {
        let bytes = match next_input(&mut socket).await {
            Input::Stdin(b) => b,
            Input::StdinClosed | Input::Gone => break,
        };
        let mut echo: Vec<u8> = Vec::new();
        for c in bytes {
            match c {
                b'\r' | b'\n' => {
                    echo.extend_from_slice(b"\r\n");
                    send(&mut socket, 1, &echo).await;
                    echo.clear();
                    let text = String::from_utf8_lossy(&line).trim().to_string();
                    line.clear();
                    if text == "exit" || text.starts_with("exit ") {
                        let code = text[4..]
                            .trim()
                            .parse::<i64>()
                            .map_or(last, |n| (n & 0xff) as i32);
                        let out = ExecOutput {
                            code,
                            ..ExecOutput::default()
                        };
                        return finish(socket, exit_status(&opts.exec.command, &out)).await;
                    }
                    if !text.is_empty() {
                        let exec = Exec {
                            command: vec!["sh".into(), "-c".into(), text],
                            ..opts.exec.clone()
                        };
                        match run(&st, exec, typed.clone(), &path).await {
                            Ok(o) => {
                                let mut all = o.stdout;
                                all.extend_from_slice(&o.stderr);
                                send(&mut socket, 1, &crlf(&all)).await;
                                last = o.code;
                            }
                            Err(e) => {
                                send(&mut socket, 1, format!("{e}\r\n").as_bytes()).await;
                                return finish(
                                    socket,
                                    exit_status(
                                        &opts.exec.command,
                                        &ExecOutput {
                                            internal: Some(e.to_string()),
                                            ..ExecOutput::default()
                                        },
                                    ),
                                )
                                .await;
                            }
                        }
                    }
                    echo.extend_from_slice(PROMPT);
                }
                // Backspace or delete: one character back.
                0x7f | 0x08 if line.pop().is_some() => echo.extend_from_slice(b"\x08 \x08"),
                // Ctrl-C: the line is dropped.
                0x03 => {
                    line.clear();
                    echo.extend_from_slice(b"^C\r\n");
                    echo.extend_from_slice(PROMPT);
                    last = 130;
                }
                // Ctrl-D on an empty line: the shell ends.
                0x04 if line.is_empty() => {
                    echo.extend_from_slice(b"\r\n");
                    send(&mut socket, 1, &echo).await;
                    let out = ExecOutput {
                        code: last,
                        ..ExecOutput::default()
                    };
                    return finish(socket, exit_status(&opts.exec.command, &out)).await;
                }
                c if (c >= 0x20 || c == b'\t') && line.len() < 4096 => {
                    line.push(c);
                    echo.push(c);
                }
                _ => {}
            }
        }
        if !echo.is_empty() && !send(&mut socket, 1, &echo).await {
            return;
        }
    }
    let out = ExecOutput {
        code: last,
        ..ExecOutput::default()
    };
    finish(socket, exit_status(&opts.exec.command, &out)).await;
}

/// `pods/{name}/portforward` over plain SPDY (kubectl's fallback when the WebSocket upgrade
/// is refused, and older clients): not served; the WebSocket tunnel is (`portforward.rs`).
pub(super) fn port_forward_unserved() -> Response {
    status(
        400,
        "BadRequest",
        "kubesim serves port-forward over WebSocket (SPDY/3.1+portforward.k8s.io) only, not plain SPDY: use kubectl 1.31 or newer",
        json!({}),
    )
}
