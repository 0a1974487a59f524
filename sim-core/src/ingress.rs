//! The ingress controller's data plane: a request that arrives with a `Host` and a path goes
//! where ingress-nginx (as minikube's and kind's ingress addons run it) would send it.
//!
//! - The Ingresses served are those [`Sim::ingress_is_ours`] accepts, oldest first (ingress-nginx
//!   sorts them by creation); their rules are merged per host.
//! - The host picks a server: a rule's exact host, else a wildcard `*.foo.com` that matches
//!   exactly one more label (`bar.foo.com`, not `foo.com` nor `a.bar.foo.com`), else the
//!   catch-all server of the rules without a host. The `Host` header is compared without its
//!   port and case.
//! - Inside the server the longest matching path wins, and at equal length `Exact` beats the
//!   others (nginx's `location =`). `Exact` matches the path as written; `Prefix` matches whole
//!   path elements (`/foo` matches `/foo`, `/foo/` and `/foo/bar`, not `/foobar`; a trailing
//!   slash in the rule is ignored), as the Ingress API defines it; `ImplementationSpecific`
//!   is ingress-nginx's plain prefix location (`/foo` also matches `/foobar`). The query is
//!   not part of the match.
//! - No path matched: the `defaultBackend` of the first Ingress that gave the server rules;
//!   for the catch-all server, that of the first Ingress with a `defaultBackend` and no rules
//!   (ingress-nginx's "catch-all" case); else ingress-nginx's own 404 page.
//! - The backend Service (in the Ingress's namespace, its port by number or name) gets the
//!   request through the Service network ([`Sim::send_to_endpoint`], as a `curl` to the
//!   Service): no such Service or port, or no ready endpoint, is nginx's 503 page; a refused
//!   or reset connection its 502, a timeout its 504.
//!
//! Not modelled: annotations (`nginx.ingress.kubernetes.io/rewrite-target` and the rest), TLS
//! (`spec.tls` is validated and printed, the listener speaks plain HTTP), `resource` backends
//! (503).

use k8s_openapi::api::networking::v1::{Ingress, IngressBackend};

use crate::network::{EndpointReply, ServiceReply};
use crate::program::HttpResponse;
use crate::sim::Sim;

/// Where the router sent a request: the Ingress's namespace and the backend it chose.
#[derive(Clone, Debug, PartialEq)]
pub struct Routed {
    /// Index of the Ingress in the list given to [`route`].
    pub ingress: usize,
    /// The backend.
    pub backend: IngressBackend,
}

/// What a request through the ingress did.
#[derive(Clone, Debug, PartialEq)]
pub struct IngressReply {
    /// The answer (ingress-nginx's own pages for 404, 502, 503 and 504).
    pub reply: ServiceReply,
    /// The Service the request went to (namespace, name), if the rules named one.
    pub service: Option<(String, String)>,
}

/// Whether a rule's path of type `path_type` matches `request` (a path without its query).
pub fn path_matches(path_type: &str, rule: &str, request: &str) -> bool {
    match path_type {
        "Exact" => rule == request,
        "Prefix" => {
            let prefix = rule.trim_end_matches('/');
            prefix.is_empty()
                || request == prefix
                || request
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('/'))
        }
        // ingress-nginx writes an nginx prefix location; an empty path is `/`.
        _ => request.starts_with(if rule.is_empty() { "/" } else { rule }),
    }
}

/// Whether a rule's `host` serves `request_host` (lower case, no port): exactly, or as a
/// wildcard covering one label.
pub fn host_matches(rule: &str, request_host: &str) -> bool {
    match rule.strip_prefix("*.") {
        Some(domain) => request_host
            .strip_suffix(domain)
            .and_then(|h| h.strip_suffix('.'))
            .is_some_and(|label| !label.is_empty() && !label.contains('.')),
        None => rule == request_host,
    }
}

/// The `Host` header as the router compares it: lower case, without a port.
pub fn normalize_host(host: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    // `[::1]:8081` keeps its brackets' content; `name:8081` loses the port.
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("").to_owned();
    }
    match host.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h.to_owned(),
        _ => host,
    }
}

/// Routes a request among `ingresses` (oldest first): see the module's rules.
pub fn route(ingresses: &[&Ingress], host: &str, path: &str) -> Option<Routed> {
    let host = normalize_host(host);
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let rules = |i: &Ingress| {
        i.spec
            .as_ref()
            .and_then(|s| s.rules.clone())
            .unwrap_or_default()
    };
    // The server: the rules (with their Ingress) of the exact host, else of a wildcard host
    // (the first that matches), else those without a host.
    let mut servers: [Vec<(usize, k8s_openapi::api::networking::v1::IngressRule)>; 3] =
        [Vec::new(), Vec::new(), Vec::new()];
    let mut wildcard: Option<String> = None;
    for (i, ing) in ingresses.iter().enumerate() {
        for rule in rules(ing) {
            let h = rule.host.clone().unwrap_or_default();
            if h.is_empty() {
                servers[2].push((i, rule));
            } else if h == host {
                servers[0].push((i, rule));
            } else if host_matches(&h, &host) && wildcard.as_ref().is_none_or(|w| *w == h) {
                wildcard = Some(h);
                servers[1].push((i, rule));
            }
        }
    }
    let catch_all = servers[0].is_empty() && servers[1].is_empty();
    let server = servers
        .into_iter()
        .find(|s| !s.is_empty())
        .unwrap_or_default();
    let mut best: Option<((usize, bool), Routed)> = None;
    for (i, rule) in &server {
        for p in rule.http.iter().flat_map(|h| h.paths.iter()) {
            let rule_path = p.path.as_deref().unwrap_or("");
            if !path_matches(&p.path_type, rule_path, path) {
                continue;
            }
            let rank = (rule_path.len(), p.path_type == "Exact");
            if best.as_ref().is_none_or(|(r, _)| rank > *r) {
                best = Some((
                    rank,
                    Routed {
                        ingress: *i,
                        backend: p.backend.clone(),
                    },
                ));
            }
        }
    }
    if let Some((_, routed)) = best {
        return Some(routed);
    }
    let default_of = |i: usize| {
        ingresses[i]
            .spec
            .as_ref()
            .and_then(|s| s.default_backend.clone())
            .map(|backend| Routed {
                ingress: i,
                backend,
            })
    };
    if catch_all {
        (0..ingresses.len())
            .filter(|&i| rules(ingresses[i]).is_empty())
            .find_map(default_of)
    } else {
        server.iter().find_map(|(i, _)| default_of(*i))
    }
}

/// One of nginx's own error pages.
fn nginx_page(status: u16, title: &str) -> ServiceReply {
    let body = format!(
        "<html>\r\n<head><title>{status} {title}</title></head>\r\n<body>\r\n<center><h1>{status} {title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    ServiceReply::Response {
        response: HttpResponse {
            status,
            content_type: Some("text/html".into()),
            body: body.into_bytes(),
        },
        pod: String::new(),
        latency_ms: 0.0,
    }
}

impl Sim {
    /// The Ingresses kubesim's controller serves, oldest first.
    pub fn served_ingresses(&self) -> Vec<&Ingress> {
        self.store
            .ingresses
            .iter()
            .map(|(_, (_, ing))| ing)
            .filter(|ing| self.ingress_is_ours(ing))
            .collect()
    }

    /// A request that reaches the ingress controller with `Host: host`: routed by the
    /// served Ingresses' rules and sent to the backend Service's pods.
    pub fn ingress_request(
        &mut self,
        host: &str,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> IngressReply {
        let seq = self.store.next_request_seq();
        let ingresses = self.served_ingresses();
        let routed = route(&ingresses, host, path).map(|r| {
            let ns = ingresses[r.ingress]
                .metadata
                .namespace
                .clone()
                .unwrap_or_default();
            (ns, r.backend)
        });
        let not_found = IngressReply {
            reply: nginx_page(404, "Not Found"),
            service: None,
        };
        let Some((ns, backend)) = routed else {
            return not_found;
        };
        let unavailable = |service: Option<(String, String)>| IngressReply {
            reply: nginx_page(503, "Service Temporarily Unavailable"),
            service,
        };
        let Some(svc) = backend.service else {
            return unavailable(None);
        };
        let service = Some((ns.clone(), svc.name.clone()));
        let Some(route) = self
            .store
            .services
            .lookup(&ns, &svc.name)
            .and_then(|id| self.route_service(id))
        else {
            return unavailable(service);
        };
        let port = svc.port.unwrap_or_default();
        let known_port = self
            .store
            .services
            .lookup(&ns, &svc.name)
            .and_then(|id| self.store.services.get(id))
            .and_then(|(_, s)| s.spec.as_ref()?.ports.clone())
            .unwrap_or_default()
            .iter()
            .any(|p| match (port.number, port.name.as_deref()) {
                (Some(n), _) if n != 0 => p.port == n,
                (_, Some(name)) => p.name.as_deref() == Some(name),
                _ => false,
            });
        if !known_port {
            return unavailable(service);
        }
        let reply = match self.send_to_endpoint(&route, seq, method, path, body) {
            EndpointReply::NoEndpoint => return unavailable(service),
            EndpointReply::Answered {
                response,
                pod,
                latency_ms,
            } => ServiceReply::Response {
                response,
                pod,
                latency_ms,
            },
            EndpointReply::Refused | EndpointReply::Reset => nginx_page(502, "Bad Gateway"),
            EndpointReply::Timeout => nginx_page(504, "Gateway Time-out"),
        };
        IngressReply { reply, service }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Object;
    use crate::api::decode::parse_manifests;

    /// The Ingress API's path matching examples (kubernetes.io, "Ingress: Examples"), one
    /// row per case: path type, rule paths, request path, the rule path that matches.
    #[test]
    fn the_ingress_documentation_examples() {
        let cases: &[(&str, &[&str], &str, Option<&str>)] = &[
            ("Prefix", &["/"], "/anything/at/all", Some("/")),
            ("Exact", &["/foo"], "/foo", Some("/foo")),
            ("Exact", &["/foo"], "/bar", None),
            ("Exact", &["/foo"], "/foo/", None),
            ("Exact", &["/foo/"], "/foo", None),
            ("Prefix", &["/foo"], "/foo", Some("/foo")),
            ("Prefix", &["/foo"], "/foo/", Some("/foo")),
            ("Prefix", &["/foo/"], "/foo", Some("/foo/")),
            ("Prefix", &["/foo/"], "/foo/", Some("/foo/")),
            ("Prefix", &["/aaa/bb"], "/aaa/bbb", None),
            ("Prefix", &["/aaa/bbb"], "/aaa/bbb", Some("/aaa/bbb")),
            ("Prefix", &["/aaa/bbb/"], "/aaa/bbb", Some("/aaa/bbb/")),
            ("Prefix", &["/aaa/bbb"], "/aaa/bbb/", Some("/aaa/bbb")),
            ("Prefix", &["/aaa/bbb"], "/aaa/bbb/ccc", Some("/aaa/bbb")),
            ("Prefix", &["/aaa/bbb"], "/aaa/bbbxyz", None),
            ("Prefix", &["/", "/aaa"], "/aaa/ccc", Some("/aaa")),
            (
                "Prefix",
                &["/", "/aaa", "/aaa/bbb"],
                "/aaa/bbb",
                Some("/aaa/bbb"),
            ),
            ("Prefix", &["/", "/aaa", "/aaa/bbb"], "/ccc", Some("/")),
            ("Prefix", &["/aaa"], "/ccc", None),
            // ingress-nginx's ImplementationSpecific: a plain string prefix.
            (
                "ImplementationSpecific",
                &["/aaa/bb"],
                "/aaa/bbb",
                Some("/aaa/bb"),
            ),
            ("ImplementationSpecific", &[""], "/x", Some("")),
            // The query is not part of the path.
            ("Exact", &["/foo"], "/foo?x=1", Some("/foo")),
        ];
        for (ty, paths, request, want) in cases {
            let ing = ingress(&format!(
                "rules:\n  - http:\n      paths:\n{}",
                paths
                    .iter()
                    .map(|p| format!(
                        "        - {{path: '{p}', pathType: {ty}, backend: {{service: {{name: 's{}', port: {{number: 80}}}}}}}}\n",
                        p.len()
                    ))
                    .collect::<String>()
            ));
            let got = route(&[&ing], "example.com", request)
                .and_then(|r| r.backend.service)
                .map(|s| s.name);
            assert_eq!(
                got,
                want.map(|p| format!("s{}", p.len())),
                "{ty} {paths:?} {request}"
            );
        }
    }

    fn ingress(spec: &str) -> Ingress {
        let yaml = format!(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: x, namespace: default}}\nspec:\n  {}",
            spec.replace('\n', "\n  ")
        );
        match parse_manifests(&yaml).expect("decodes").remove(0).object {
            Object::Ingress(i) => i,
            other => panic!("not an Ingress: {}", other.kind()),
        }
    }

    fn backend_of(ings: &[&Ingress], host: &str, path: &str) -> Option<String> {
        route(ings, host, path).and_then(|r| r.backend.service.map(|s| s.name))
    }

    #[test]
    fn exact_beats_prefix_of_the_same_path() {
        let ing = ingress(
            "rules:
- http:
    paths:
    - {path: /foo, pathType: Prefix, backend: {service: {name: prefix, port: {number: 80}}}}
    - {path: /foo, pathType: Exact, backend: {service: {name: exact, port: {number: 80}}}}
",
        );
        assert_eq!(backend_of(&[&ing], "h", "/foo").as_deref(), Some("exact"));
        assert_eq!(
            backend_of(&[&ing], "h", "/foo/x").as_deref(),
            Some("prefix")
        );
    }

    #[test]
    fn hosts_exact_then_wildcard_then_catch_all() {
        let ing = ingress(
            "rules:
- host: api.foo.com
  http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: exact, port: {number: 80}}}}]}
- host: '*.foo.com'
  http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: wild, port: {number: 80}}}}]}
- http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: any, port: {number: 80}}}}]}
",
        );
        let b = |h: &str| backend_of(&[&ing], h, "/");
        assert_eq!(b("api.foo.com").as_deref(), Some("exact"));
        assert_eq!(b("API.foo.com:8081").as_deref(), Some("exact"));
        assert_eq!(b("web.foo.com").as_deref(), Some("wild"));
        assert_eq!(b("a.web.foo.com").as_deref(), Some("any"));
        assert_eq!(b("foo.com").as_deref(), Some("any"));
        assert_eq!(b("127.0.0.1:8081").as_deref(), Some("any"));
        assert!(host_matches("*.foo.com", "bar.foo.com"));
        assert!(!host_matches("*.foo.com", "foo.com"));
        assert!(!host_matches("*.foo.com", "baz.bar.foo.com"));
        assert!(!host_matches("*.foo.com", ".foo.com"));
    }

    #[test]
    fn a_known_host_without_a_matching_path_does_not_fall_through() {
        let api = ingress(
            "rules:
- host: api.local
  http: {paths: [{path: /predict, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}]}
",
        );
        let catch_all = ingress("defaultBackend: {service: {name: fallback, port: {number: 80}}}");
        let ings = [&api, &catch_all];
        assert_eq!(
            backend_of(&ings, "api.local", "/predict").as_deref(),
            Some("api")
        );
        // The host's server has no `/`: nginx's 404, not the other Ingress's backend.
        assert_eq!(backend_of(&ings, "api.local", "/other"), None);
        // An unknown host reaches the catch-all server, whose default is the rule-less
        // Ingress's defaultBackend.
        assert_eq!(
            backend_of(&ings, "other.local", "/").as_deref(),
            Some("fallback")
        );
        assert_eq!(backend_of(&[&api], "other.local", "/"), None);
        // An Ingress's own defaultBackend serves its hosts' unmatched paths.
        let with_default = ingress(
            "defaultBackend: {service: {name: own, port: {number: 80}}}
rules:
- host: api.local
  http: {paths: [{path: /predict, pathType: Exact, backend: {service: {name: api, port: {number: 80}}}}]}
",
        );
        assert_eq!(
            backend_of(&[&with_default], "api.local", "/x").as_deref(),
            Some("own")
        );
    }

    #[test]
    fn the_oldest_ingress_wins_a_tie() {
        let a = ingress(
            "rules: [{host: h, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: first, port: {number: 80}}}}]}}]",
        );
        let b = ingress(
            "rules: [{host: h, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: second, port: {number: 80}}}}]}}]",
        );
        assert_eq!(backend_of(&[&a, &b], "h", "/").as_deref(), Some("first"));
    }

    #[test]
    fn hosts_are_compared_without_port_and_case() {
        assert_eq!(normalize_host("API.Local:8081"), "api.local");
        assert_eq!(normalize_host("api.local"), "api.local");
        assert_eq!(normalize_host("[::1]:8081"), "::1");
    }
}
