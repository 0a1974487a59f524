//! Reads: get, list (as JSON or a server-side `Table`), `pods/log`, and the timestamps moved to wall time.

#[allow(unused_imports)]
use std::sync::atomic::{AtomicI64, Ordering};

use super::*;

/// `pods/{name}/log` (`kubectl logs`): the container's lines as text/plain; `container`,
/// `previous` and `tailLines` as kubectl sends them. Reading changes nothing, so it is not
/// recorded in the run.
pub(super) fn pod_log(
    st: &Cluster,
    t: &Target<'_>,
    name: &str,
    q: &BTreeMap<String, String>,
) -> Response {
    let ns = t.ns.unwrap_or("default");
    let tail_lines = match q.get("tailLines") {
        None => None,
        Some(n) => match n.parse::<usize>() {
            Ok(n) => Some(n),
            Err(_) => {
                return status(
                    400,
                    "BadRequest",
                    &format!("tailLines: Invalid value: {n:?}: must be a non-negative integer"),
                    json!({}),
                );
            }
        },
    };
    let options = sim_core::apiserver::log::LogOptions {
        container: q.get("container").cloned(),
        previous: is_on(q, "previous"),
        tail_lines,
    };
    match st.lock().sim().pod_log(ns, name, &options) {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain")], text).into_response(),
        Err(e) => api_error(&e, t.res, name),
    }
}

pub(super) fn is_on(q: &BTreeMap<String, String>, key: &str) -> bool {
    q.get(key).is_some_and(|v| v == "true" || v == "1")
}

/// How far to move the API's timestamps so that kubectl, which computes ages against the
/// wall clock (`describe`, `get events`), sees the virtual ages: virtual time `t` is shown as
/// `wall_now - (virtual_now - t)`. sim-core's own timestamps stay deterministic (virtual time
/// from the run's epoch).
///
/// The shift a cluster last showed is kept while the exact one stays within
/// [`WallShift::SLACK_SECS`] of it: the virtual clock moves in ticks and lags the wall clock
/// by a little more each time the machine is busy, and a shift recomputed per response
/// would move an object's `creationTimestamp` by a second between two requests (`kubectl
/// diff` compares a GET with a dry-run PATCH, and would show it as a change).
#[derive(Debug)]
pub(crate) struct WallShift(AtomicI64);

impl Default for WallShift {
    fn default() -> WallShift {
        WallShift(AtomicI64::new(i64::MIN))
    }
}

impl WallShift {
    /// How far the shown ages may drift from the virtual ones before the shift moves.
    pub(crate) const SLACK_SECS: i64 = 3;

    /// The shift (whole seconds) for a response about `sim` now.
    pub(crate) fn get(&self, sim: &Sim) -> i64 {
        let wall_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let virtual_ms = sim.store.epoch_unix_ms + i64::try_from(sim.now().millis()).unwrap_or(0);
        self.settle(wall_ms, virtual_ms)
    }

    /// The shift for these two clocks: the one last shown if it is close enough.
    pub(super) fn settle(&self, wall_ms: i64, virtual_ms: i64) -> i64 {
        // Whole seconds, so the fractional part of a MicroTime stays as it is.
        let exact = wall_ms.saturating_sub(virtual_ms).div_euclid(1000);
        let held = self.0.load(Ordering::Relaxed);
        if held != i64::MIN && held.abs_diff(exact) < Self::SLACK_SECS.unsigned_abs() {
            return held;
        }
        self.0.store(exact, Ordering::Relaxed);
        exact
    }
}

/// Moves every timestamp in `v` (RFC 3339 strings in UTC, outside labels and annotations)
/// by `shift_secs`.
pub(super) fn shift_times(v: &mut Value, shift_secs: i64) {
    if shift_secs == 0 {
        return;
    }
    match v {
        Value::String(s) => {
            // `2026-01-01T00:00:00Z` or `2026-01-01T00:00:00.000000Z`.
            let b = s.as_bytes();
            if b.len() >= 20
                && b[4] == b'-'
                && b[10] == b'T'
                && b[19..]
                    .iter()
                    .all(|c| c.is_ascii_digit() || *c == b'.' || *c == b'Z')
                && s.ends_with('Z')
                && let Ok(t) = s[..19].parse::<k8s_openapi::jiff::civil::DateTime>()
                && let Ok(ts) = t.to_zoned(k8s_openapi::jiff::tz::TimeZone::UTC)
                && let Ok(moved) = ts
                    .timestamp()
                    .checked_add(k8s_openapi::jiff::SignedDuration::from_secs(shift_secs))
            {
                let rest = s[19..].to_string();
                *s = format!("{}{rest}", moved.strftime("%Y-%m-%dT%H:%M:%S"));
            }
        }
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k != "annotations" && k != "labels" {
                    shift_times(x, shift_secs);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| shift_times(x, shift_secs)),
        _ => {}
    }
}

/// The resource name in messages: `deployments.apps`, `pods`.
pub(super) fn qualified(res: &Res) -> String {
    resource_of(res.kind).to_string()
}

pub(super) fn not_found(res: &Res, name: &str) -> Response {
    api_error(&ApiError::not_found(&qualified(res), name), res, name)
}

pub(super) fn wants_table(h: &HeaderMap) -> bool {
    h.get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("as=Table"))
}

/// The query's parameters in order, each value as sent (list and watch read the first of each).
pub(super) fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map(|Query(q)| q)
        .unwrap_or_default()
}

/// A LIST, with `opts` already read from the query (`ListOptions::parse`); the storage checks
/// of its resourceVersion and continue token come before any object is read.
pub(super) fn list(
    st: &Cluster,
    t: &Target<'_>,
    opts: &ListOptions,
    q: &BTreeMap<String, String>,
    headers: &HeaderMap,
) -> Response {
    let mut sb = st.lock();
    // A client may watch from this list's resourceVersion (kubectl delete's wait does): keep
    // the change log from here on, so what changes in between reaches that watch.
    if t.res.kind != sim_core::store::Kind::Event {
        sb.sim_mut().store.keep_changes(super::watch::CHANGE_LOG);
    }
    let current = sb.sim().store.resource_version();
    if let Err(e) = opts.check_list(current) {
        return request_error(&e);
    }
    let objs: Vec<Object> = kubectl::list(sb.sim(), t.res.kind, t.ns, &opts.label_selector)
        .into_iter()
        .filter(|o| opts.field_selector.matches(o))
        .collect();
    let rv = current.to_string();
    if wants_table(headers) {
        let mut v = table(
            sb.sim(),
            t.res.kind,
            &objs,
            &rv,
            q.get("includeObject").map(String::as_str),
        );
        shift_times(&mut v, sb.wall_shift());
        return json_ok(v);
    }
    let shift = sb.wall_shift();
    let items: Vec<Value> = objs
        .iter()
        .map(|o| {
            let mut v = with_managed_fields(sb.sim(), o);
            shift_times(&mut v, shift);
            v
        })
        .collect();
    json_ok(json!({
        "kind": format!("{}List", t.res.kind.as_str()),
        "apiVersion": t.res.kind.api_version(),
        "metadata": {"resourceVersion": rv},
        "items": items,
    }))
}

/// A `meta.k8s.io/v1` Table of `objs` with the columns `kubectl get` shows for the kind, the
/// cells computed from the simulated now.
pub(super) fn table(
    sim: &Sim,
    kind: Kind,
    objs: &[Object],
    rv: &str,
    include: Option<&str>,
) -> Value {
    let opts = GetOptions {
        cells: true,
        ..GetOptions::default()
    };
    let now = sim.store.now_timestamp();
    let cells: Value =
        serde_json::from_str(&kubectl::render(kind, objs, &opts, now)).unwrap_or(Value::Null);
    let columns: Vec<Value> = cells["columns"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "name": c[0].as_str().unwrap_or(""),
                "type": "string",
                "format": if i == 0 { "name" } else { "" },
                "description": "",
                "priority": if c[1].as_bool().unwrap_or(false) { 1 } else { 0 },
            })
        })
        .collect();
    let rows: Vec<Value> = cells["rows"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .zip(objs)
        .map(|(cells, o)| {
            let object = match include {
                Some("Object") => o.to_value(),
                Some("None") => Value::Null,
                _ => json!({
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": o.to_value().get("metadata").cloned().unwrap_or(Value::Null),
                }),
            };
            json!({"cells": cells, "object": object})
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rv},
        "columnDefinitions": columns,
        "rows": rows,
    })
}

pub(super) fn lookup(sim: &Sim, res: &Res, ns: &str, name: &str) -> Option<Object> {
    if res.kind == Kind::Event {
        return kubectl::list(sim, Kind::Event, Some(ns), &Selector::everything())
            .into_iter()
            .find(|o| o.name() == name);
    }
    sim.get_object(res.kind, ns, name)
}

/// A GET of one object; a `resourceVersion` (the first sent) is checked as the watch cache
/// checks it before the object is looked up.
pub(super) fn get_one(
    st: &Cluster,
    t: &Target<'_>,
    name: &str,
    resource_version: Option<&str>,
    headers: &HeaderMap,
) -> Response {
    let sb = st.lock();
    if let Err(e) = list::check_get(resource_version, sb.sim().store.resource_version()) {
        return request_error(&e);
    }
    let Some(obj) = lookup(sb.sim(), t.res, t.ns.unwrap_or(""), name) else {
        return not_found(t.res, name);
    };
    let shift = sb.wall_shift();
    let mut v = if wants_table(headers) {
        let rv = sb.sim().store.resource_version().to_string();
        table(sb.sim(), t.res.kind, &[obj], &rv, None)
    } else {
        with_managed_fields(sb.sim(), &obj)
    };
    shift_times(&mut v, shift);
    json_ok(v)
}

/// The manager of a write: `fieldManager`, else the User-Agent up to its first `/`.
pub(super) fn field_manager(q: &BTreeMap<String, String>, headers: &HeaderMap) -> String {
    if let Some(m) = q.get("fieldManager").filter(|m| !m.is_empty()) {
        return m.chars().take(128).collect();
    }
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .and_then(|ua| ua.split('/').next())
        .filter(|p| !p.is_empty())
        .map_or_else(|| "unknown".to_string(), |p| p.chars().take(128).collect())
}
