//! Watches (`?watch=1`), read from the store's change log.

#[allow(unused_imports)]
use super::*;

/// How many changes each cluster keeps for its watchers once one watches.
pub(super) const CHANGE_LOG: usize = 50_000;

/// `?watch=1`: a stream of `{"type", "object"}` lines, for `opts` already read from the query
/// (`ListOptions::parse`). A watch-list (`sendInitialEvents`) never gets here: the WatchList
/// feature is off, so validation refuses it with the 422 such a server gives, and kubectl falls
/// back to LIST + WATCH instead of waiting forever for a bookmark (kubectl-surface §4.7).
///
/// After every change of the cluster (its `changed` signal, at most 20 times a second) the
/// watcher reads the store's change log from the resourceVersion it last saw, looks up only
/// the objects of its kind that changed, and sends them as `ADDED`/`MODIFIED`, or `DELETED`
/// with the last state it sent when an object is gone or no longer selected. So a watch
/// costs what changed, not the size of its kind, and many watchers cost nothing while the
/// cluster is still. It lists its kind instead (and diffs with what it sent) at the start,
/// when it fell more than [`CHANGE_LOG`] changes behind, after the cluster was rebuilt
/// (scrubber, reset step) and for events. Objects changed after the requested
/// resourceVersion are sent as `MODIFIED` first; deletions from before the watch started
/// cannot be replayed. A watcher that went away is noticed at its next write. The watch ends
/// after `timeoutSeconds`, or 30 minutes (the API server's `minRequestTimeout`), or at once
/// for a negative timeout.
pub(super) fn watch(
    st: &Cluster,
    t: &Target<'_>,
    opts: ListOptions,
    headers: &HeaderMap,
) -> Response {
    let since = match opts.check_watch() {
        Ok(rv) => rv,
        Err(e) => return request_error(&e),
    };
    let Some(timeout) = opts.watch_timeout_seconds(1800) else {
        return ([(header::CONTENT_TYPE, "application/json")], "").into_response();
    };
    let ListOptions {
        label_selector: selector,
        field_selector: fields,
        ..
    } = opts;
    let as_table = wants_table(headers);
    let kind = t.res.kind;
    let api_version = t.res.api_version();
    let ns = t.ns.map(str::to_string);
    let st = st.clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::convert::Infallible>>(64);
    tokio::spawn(async move {
        let mut changes = st.subscribe();
        let mut shutdown = st.shutdown();
        let deadline = tokio::time::sleep(std::time::Duration::from_secs(timeout));
        tokio::pin!(deadline);
        // What this watcher has sent: (namespace, name) -> (resourceVersion, object).
        let mut sent: BTreeMap<(String, String), (u64, Object)> = BTreeMap::new();
        // The store's resourceVersion this watcher has caught up with (None: list first).
        let mut seen: Option<u64> = None;
        loop {
            let lines = {
                let mut sb = st.lock();
                let current = sb.sim().store.resource_version();
                // The (namespace, name) of this kind changed since `seen`, from the store's
                // change log; `None` when the watcher must list its kind again: the first
                // time, after the log forgot changes it had not read, when the cluster was
                // rebuilt (the scrubber, a reset step: resourceVersions went back), or for
                // events, which the log does not carry.
                let changed: Option<std::collections::BTreeSet<(String, String)>> = seen
                    .filter(|s| *s <= current && kind != Kind::Event)
                    .and_then(|s| sb.sim().store.changes_since(s))
                    .map(|changes| {
                        changes
                            .filter(|c| {
                                c.kind == kind && ns.as_deref().is_none_or(|n| *n == *c.namespace)
                            })
                            .map(|c| (c.namespace.to_string(), c.name.to_string()))
                            .collect()
                    });
                if changed.is_none() && kind != Kind::Event {
                    // Keep a change log from now on (a no-op once kept).
                    sb.sim_mut().store.keep_changes(CHANGE_LOG);
                }
                let sim = sb.sim();
                let wanted = |o: &Object| {
                    let labels = o.metadata().labels.clone().unwrap_or_default();
                    selector.matches(&labels) && fields.matches(o)
                };
                let entry = |o: Object| {
                    let rv = o
                        .metadata()
                        .resource_version
                        .as_deref()
                        .and_then(|r| r.parse().ok())
                        .unwrap_or(0);
                    let key = (
                        o.namespace().unwrap_or("").to_string(),
                        o.name().to_string(),
                    );
                    (key, (rv, o))
                };
                // The matching objects now, among those that may have changed.
                let (now, keys): (BTreeMap<_, _>, Option<_>) = match &changed {
                    None => (
                        kubectl::list(sim, kind, ns.as_deref(), &selector)
                            .into_iter()
                            .filter(|o| fields.is_empty() || wanted(o))
                            .map(entry)
                            .collect(),
                        None,
                    ),
                    Some(keys) => (
                        keys.iter()
                            .filter_map(|(o_ns, name)| sim.get_object(kind, o_ns, name))
                            .filter(|o| wanted(o))
                            .map(entry)
                            .collect(),
                        Some(keys),
                    ),
                };
                // Watching from a resourceVersion: objects of the kind that changed since then
                // and are gone now were deleted in between, after the client's list (kubectl
                // delete waits on such a watch); they are DELETED, known by name only.
                let vanished: Vec<(String, String)> = match (seen, since) {
                    (None, 1..) if kind != Kind::Event && selector.is_empty() && !as_table => sim
                        .store
                        .changes_since(since)
                        .map(|changes| {
                            changes
                                .filter(|c| {
                                    c.kind == kind
                                        && ns.as_deref().is_none_or(|n| *n == *c.namespace)
                                })
                                .map(|c| (c.namespace.to_string(), c.name.to_string()))
                                .filter(|k| !now.contains_key(k) && fields.selects_name(&k.0, &k.1))
                                .collect::<std::collections::BTreeSet<_>>()
                                .into_iter()
                                .collect()
                        })
                        .unwrap_or_default(),
                    _ => Vec::new(),
                };
                let rv = current.to_string();
                let mut lines = String::new();
                for (o_ns, name) in &vanished {
                    let mut meta = json!({"name": name, "resourceVersion": rv});
                    if !o_ns.is_empty() {
                        meta["namespace"] = json!(o_ns);
                    }
                    let object =
                        json!({"apiVersion": api_version, "kind": kind.as_str(), "metadata": meta});
                    lines.push_str(&json!({"type": "DELETED", "object": object}).to_string());
                    lines.push('\n');
                }
                let shift = sb.wall_shift();
                let mut line = |ty: &str, o: &Object| {
                    let mut object = if as_table {
                        table(sim, kind, std::slice::from_ref(o), &rv, None)
                    } else {
                        o.to_value()
                    };
                    shift_times(&mut object, shift);
                    lines.push_str(&json!({"type": ty, "object": object}).to_string());
                    lines.push('\n');
                };
                let first = seen.is_none();
                for (key, (rv, o)) in &now {
                    match sent.get(key) {
                        // No resourceVersion: the current state first, as ADDED.
                        None if first && since == 0 => line("ADDED", o),
                        None if first && *rv <= since => {}
                        None if first => line("MODIFIED", o),
                        None => line("ADDED", o),
                        Some((old, _)) if old != rv => line("MODIFIED", o),
                        Some(_) => {}
                    }
                }
                // Gone, or no longer selected: DELETED with the last state sent.
                let gone: Vec<(String, String)> = sent
                    .keys()
                    .filter(|k| keys.is_none_or(|ks| ks.contains(*k)) && !now.contains_key(*k))
                    .cloned()
                    .collect();
                for k in gone {
                    if let Some((_, o)) = sent.remove(&k) {
                        line("DELETED", &o);
                    }
                }
                if keys.is_none() {
                    sent.clear();
                }
                sent.extend(now);
                seen = Some(current);
                lines
            };
            if !lines.is_empty() && tx.send(Ok(Bytes::from(lines))).await.is_err() {
                return; // the client went away
            }
            tokio::select! {
                r = changes.changed() => if r.is_err() { return },
                _ = tx.closed() => return,
                _ = shutdown.changed() => return,
                _ = &mut deadline => return,
            }
            // At most 20 updates a second per watcher.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        axum::body::Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx)),
    )
        .into_response()
}
