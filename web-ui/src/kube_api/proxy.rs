//! `services/{name}/proxy`: requests to a Service through the API.

#[allow(unused_imports)]
use super::*;

/// `services/{name}/proxy/{path}` (also `{name}:{port}` and `{scheme}:{name}:{port}`, as
/// `kubectl proxy` and `kubectl get --raw` send them): the request goes to the Service as a
/// `request` action, so it is recorded and replays, and the program's answer comes back as
/// it is. A Service that cannot answer gets the API server's 503 `error trying to reach
/// service`.
pub(super) fn service_proxy(
    st: &Cluster,
    ns: &str,
    name_port: &str,
    method: &Method,
    uri: &Uri,
    body: Bytes,
) -> Response {
    let parts: Vec<&str> = name_port.split(':').collect();
    let (name, port) = match parts.as_slice() {
        [name] => (*name, None),
        [name, port] => (*name, Some(*port)),
        [_scheme, name, port] => (*name, Some(*port)),
        _ => {
            return status(
                400,
                "BadRequest",
                &format!("invalid service name {name_port:?}"),
                json!({}),
            );
        }
    };
    // Everything after `.../services/{name}/proxy`, with the query.
    let marker = format!("/services/{name_port}/proxy");
    let path = uri.path().split_once(&marker).map_or("", |(_, rest)| rest);
    let path = match (path.is_empty(), uri.query()) {
        (true, None) => "/".to_string(),
        (true, Some(q)) => format!("/?{q}"),
        (false, None) => path.to_string(),
        (false, Some(q)) => format!("{path}?{q}"),
    };
    let Ok(body) = String::from_utf8(body.to_vec()) else {
        return status(
            400,
            "BadRequest",
            "kubesim records proxied requests as text: the body must be UTF-8",
            json!({}),
        );
    };
    let not_found = || {
        status(
            404,
            "NotFound",
            &format!("services \"{name}\" not found"),
            json!({"name": name, "kind": "services"}),
        )
    };
    {
        let sb = st.lock();
        let sim = sb.sim();
        let Some((_, svc)) = sim
            .store
            .services
            .lookup(ns, name)
            .and_then(|id| sim.store.services.get(id))
        else {
            return not_found();
        };
        // A port (by number or by name) the Service does not have: nothing listens there.
        if let Some(p) = port {
            let ports: Vec<_> = svc
                .spec
                .iter()
                .flat_map(|s| s.ports.iter().flatten())
                .collect();
            if !ports
                .iter()
                .any(|sp| sp.port.to_string() == p || sp.name.as_deref() == Some(p))
            {
                return status(
                    503,
                    "ServiceUnavailable",
                    &format!("no endpoints available for service \"{name_port}\""),
                    json!({"name": name_port, "kind": "services"}),
                );
            }
        }
    }
    let reply = st.request(crate::sandbox::Request {
        namespace: ns.to_string(),
        service: name.to_string(),
        method: method.as_str().to_string(),
        path,
        body,
    });
    match crate::node_ports::reply_response(reply) {
        Ok(res) => res,
        Err(why) => status(
            503,
            "ServiceUnavailable",
            &format!("error trying to reach service: {why}"),
            json!({}),
        ),
    }
}
