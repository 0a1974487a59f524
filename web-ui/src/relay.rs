//! `kubesim sandbox-relay`: the one door out of a scenario script's sandbox. Inside
//! bubblewrap's network namespace there is only loopback; the relay listens there on the
//! server's port, runs the script, and forwards each connection to the server's API over
//! the Unix socket bound into the sandbox (`scripts.rs`), so the script's kubectl finds the
//! server where its kubeconfig says and reaches nothing else.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Listens on `listen`, runs `command`, forwards every connection to `socket` until the
/// command exits, and returns its exit code (128 + the signal if a signal ended it).
pub async fn sandbox_relay(
    listen: SocketAddr,
    socket: PathBuf,
    command: Vec<OsString>,
) -> std::io::Result<i32> {
    let Some((program, args)) = command.split_first() else {
        return Err(std::io::Error::other("no command to run"));
    };
    // Bound before the command starts: its first kubectl call finds the port open.
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let mut child = tokio::process::Command::new(program).args(args).spawn()?;
    loop {
        tokio::select! {
            status = child.wait() => {
                let status = status?;
                use std::os::unix::process::ExitStatusExt;
                return Ok(status
                    .code()
                    .or_else(|| status.signal().map(|s| 128 + s))
                    .unwrap_or(1));
            }
            accepted = listener.accept() => {
                let Ok((mut tcp, _)) = accepted else { continue };
                let socket = socket.clone();
                tokio::spawn(async move {
                    if let Ok(mut up) = tokio::net::UnixStream::connect(&socket).await {
                        let _ = tokio::io::copy_bidirectional(&mut tcp, &mut up).await;
                    }
                });
            }
        }
    }
}
