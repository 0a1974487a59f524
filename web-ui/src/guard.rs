//! Who may reach the server, checked once for every route by one middleware ([`check`]):
//!
//! 1. **Host allow-list** (DNS rebinding): a page on `attacker.example` whose name later
//!    resolves to 127.0.0.1 sends `Host: attacker.example`; only this server's own names pass
//!    (the listen address, `localhost`, `127.0.0.1`, `[::1]`, and `serve --allow-host`), on
//!    the listening port.
//! 2. **Token** (`serve --token`, required off loopback): the API takes it as
//!    `Authorization: Bearer`, the pages as a cookie set by visiting the join URL
//!    `/?token=TOKEN`.
//! 3. **Cross-site writes** (CSRF): a POST, PUT, PATCH or DELETE that a browser marks as sent
//!    by another site (`Sec-Fetch-Site: cross-site|same-site`, or an `Origin` that is not this
//!    server) is refused. Clients that send neither header (kubectl, curl, the Python client)
//!    pass. This is the algorithm of Go 1.25's `net/http.CrossOriginProtection`.
//!
//! 4. **Form token**: a state-changing request to the pages' routes that no browser vouched
//!    for (no `Sec-Fetch-Site`, no `Origin`) and that a browser could send from another site
//!    without asking (a form's content types, or no body) must carry this server's form
//!    token, new at every start: every form on the pages has it in a hidden `_form` field,
//!    the pages' scripts send it as `X-Kubesim-Form`. That covers browsers too old to send
//!    either header; kubectl and the API are unaffected.
//!
//! A refusal on an API path (`/api`, `/apis`, `/scenarios/ID/k8s/...`) is a Kubernetes
//! `Status`, so kubectl prints its message; elsewhere it is one line of text.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// The cookie the join URL sets.
pub const COOKIE: &str = "kubesim_token";

/// What the middleware enforces beyond the fixed rules: extra Host names and the token.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    /// Host names (or `name:port`) accepted besides the listen address and loopback names
    /// (`serve --allow-host`), lowercase.
    pub allow_hosts: Vec<String>,
    /// The token every request must carry (none on loopback without `--token`).
    pub token: Option<String>,
}

/// Runs the three checks of this module, in order, before any route.
pub(crate) async fn check(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let listen = st.scenarios.addr.get().copied();
    let path = req.uri().path().to_owned();
    let headers = req.headers();
    if let Some(host) = header_str(headers, header::HOST)
        && !host_allowed(host, listen, &st.guard.allow_hosts)
    {
        return refuse(
            &path,
            StatusCode::FORBIDDEN,
            &format!(
                "Host {host:?} is not one of this server's names (a DNS rebinding attempt?); start kubesim serve with --allow-host NAME to accept it"
            ),
        );
    }
    if let Some(token) = &st.guard.token {
        if let Some(r) = join_url(&req, token) {
            return r;
        }
        if path != "/healthz" && !authorized(headers, token) {
            return refuse(
                &path,
                StatusCode::UNAUTHORIZED,
                "this sandbox needs its token: open the join URL kubesim serve printed (/?token=...), or send Authorization: Bearer TOKEN",
            );
        }
    }
    if (changes_state(req.method()) || is_upgrade(headers))
        && let Some(why) = cross_site(headers, listen, &st.guard.allow_hosts)
    {
        return refuse(&path, StatusCode::FORBIDDEN, &why);
    }
    let req = if changes_state(req.method()) && !is_api(&path) && !vouched(req.headers()) {
        match with_form_token(req, &st.form_token).await {
            Ok(req) => req,
            Err(r) => return r,
        }
    } else {
        req
    };
    next.run(req).await
}

/// The hidden field every form on the pages carries.
pub const FORM_FIELD: &str = "_form";
/// The header the pages' scripts send the form token in.
pub const FORM_HEADER: &str = "x-kubesim-form";

/// A new form token: 128 bits from the OS's randomness (std's `RandomState` keys are drawn
/// from it), as hex.
pub(crate) fn new_form_token() -> String {
    use std::hash::BuildHasher;
    let a = std::collections::hash_map::RandomState::new().hash_one(1u8);
    let b = std::collections::hash_map::RandomState::new().hash_one(2u8);
    format!("{a:016x}{b:016x}")
}

/// Whether a browser said where the request comes from (and [`cross_site`] let it pass).
fn vouched(h: &HeaderMap) -> bool {
    h.contains_key("sec-fetch-site") || h.contains_key(header::ORIGIN)
}

/// The request, if it carries the form token or is one a page on another site cannot send
/// without the browser asking first (any other content type); else the refusal.
async fn with_form_token(req: Request, token: &str) -> Result<Request, Response> {
    let path = req.uri().path().to_owned();
    let refused = || {
        refuse(
            &path,
            StatusCode::FORBIDDEN,
            "this form needs the page's form token: reload the page and try again (a form from another site, or from before the server restarted, does not have it)",
        )
    };
    if header_str(req.headers(), header::HeaderName::from_static(FORM_HEADER))
        .is_some_and(|t| same(t, token))
    {
        return Ok(req);
    }
    // The boundary parameter is case-sensitive; the media type is not.
    let content_type = header_str(req.headers(), header::CONTENT_TYPE)
        .unwrap_or("")
        .to_string();
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let form = matches!(
        media.as_str(),
        "" | "application/x-www-form-urlencoded" | "multipart/form-data" | "text/plain"
    );
    if !form {
        return Ok(req);
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, crate::BODY_LIMIT)
        .await
        .map_err(|_| refused())?;
    let given = match media.as_str() {
        "multipart/form-data" => {
            crate::routes::import::multipart_field(&content_type, &bytes, FORM_FIELD)
                .map(|v| String::from_utf8_lossy(v).into_owned())
        }
        "application/x-www-form-urlencoded" => url_field(&bytes, FORM_FIELD),
        _ => None,
    };
    if given.is_some_and(|g| same(&g, token)) {
        Ok(Request::from_parts(parts, axum::body::Body::from(bytes)))
    } else {
        Err(refused())
    }
}

/// Field `name` of a urlencoded form body.
fn url_field(body: &[u8], name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// POST, PUT, PATCH and DELETE (and anything unknown): the methods a cross-site page must not
/// send. GET, HEAD and OPTIONS never change state.
fn changes_state(m: &Method) -> bool {
    !matches!(
        *m,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// A WebSocket (or other) upgrade: a GET that opens a session which may change state
/// (`kubectl exec`), and which browsers let any page open, so it is checked as a write is.
fn is_upgrade(h: &HeaderMap) -> bool {
    h.contains_key(header::UPGRADE)
}

fn header_str(h: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Whether `host` (a Host header: `name`, `name:port`, `[v6]:port`) names this server.
///
/// The names: `localhost`, `127.0.0.1`, `::1`, the listen IP, and `allowed` (a bare name
/// matches on the listening port, `name:port` exactly). When the server listens on every
/// interface (`0.0.0.0`, `::`) any IP literal is its own address; rebinding needs a DNS name,
/// which must then be allowed by name. Without a known listen address (tests calling the
/// router directly) any port passes.
pub(crate) fn host_allowed(
    host: &str,
    listen: Option<std::net::SocketAddr>,
    allowed: &[String],
) -> bool {
    let host = host.trim().to_ascii_lowercase();
    if allowed.iter().any(|a| a.contains(':') && *a == host) {
        return true;
    }
    let Some((name, port)) = split_host(&host) else {
        return false;
    };
    if let Some(l) = listen
        && port != l.port()
    {
        return false;
    }
    if matches!(name, "localhost" | "127.0.0.1" | "::1") || allowed.iter().any(|a| a == name) {
        return true;
    }
    match (name.parse::<std::net::IpAddr>(), listen) {
        (Ok(ip), Some(l)) => ip == l.ip() || l.ip().is_unspecified(),
        _ => false,
    }
}

/// `name:port` → (name, port); the port defaults to 80, a v6 literal loses its brackets.
fn split_host(host: &str) -> Option<(&str, u16)> {
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        (v6, after.strip_prefix(':'))
    } else {
        match host.split_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (host, None),
        }
    };
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => 80,
    };
    (!name.is_empty()).then_some((name, port))
}

/// Why a state-changing request comes from another site, if it does.
fn cross_site(
    h: &HeaderMap,
    listen: Option<std::net::SocketAddr>,
    allowed: &[String],
) -> Option<String> {
    if let Some(site) = header_str(h, header::HeaderName::from_static("sec-fetch-site")) {
        return matches!(site, "cross-site" | "same-site")
            .then(|| format!("cross-site request refused (Sec-Fetch-Site: {site}): state-changing requests must come from this server's own pages"));
    }
    let origin = header_str(h, header::ORIGIN)?;
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    let own = match (authority, header_str(h, header::HOST)) {
        (Some(a), Some(host)) => a.eq_ignore_ascii_case(host),
        (Some(a), None) => host_allowed(a, listen, allowed),
        (None, _) => false,
    };
    (!own).then(|| format!("cross-site request refused (Origin: {origin}): state-changing requests must come from this server's own pages"))
}

/// Whether the request carries the token, as a bearer token or as the join URL's cookie.
fn authorized(h: &HeaderMap, token: &str) -> bool {
    let bearer = header_str(h, header::AUTHORIZATION)
        .and_then(|a| a.strip_prefix("Bearer "))
        .is_some_and(|t| same(t.trim(), token));
    bearer
        || h.get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .any(|(k, v)| k == COOKIE && same(v, token))
}

/// The join URL (`GET /?token=TOKEN`, on any page): with the right token, sets the cookie
/// and redirects to the same page without the token in its URL (so it stays out of history
/// and Referer headers). `None` when the URL carries no token.
fn join_url(req: &Request, token: &str) -> Option<Response> {
    if req.method() != Method::GET {
        return None;
    }
    let query = req.uri().query()?;
    let mut given = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|kv| match kv.strip_prefix("token=") {
            Some(t) => {
                given = Some(t);
                false
            }
            None => true,
        })
        .collect();
    let given = given?;
    if !same(given, token) {
        return Some(refuse(
            req.uri().path(),
            StatusCode::UNAUTHORIZED,
            "this join URL's token is wrong: use the one kubesim serve printed",
        ));
    }
    let mut to = req.uri().path().to_owned();
    if !rest.is_empty() {
        to = format!("{to}?{}", rest.join("&"));
    }
    Some(
        (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, to),
                (
                    header::SET_COOKIE,
                    format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"),
                ),
            ],
        )
            .into_response(),
    )
}

/// Compares a given token with the real one in time that depends only on their lengths, so
/// the answer's timing does not tell an attacker how many leading bytes were right.
fn same(given: &str, token: &str) -> bool {
    let (a, b) = (given.as_bytes(), token.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Whether `path` belongs to a Kubernetes API (the sandbox's or a scenario's).
fn is_api(path: &str) -> bool {
    let api =
        |p: &str| p == "/api" || p == "/apis" || p.starts_with("/api/") || p.starts_with("/apis/");
    api(path)
        || path
            .strip_prefix("/scenarios/")
            .and_then(|r| r.split_once('/'))
            .and_then(|(_, r)| r.strip_prefix("k8s"))
            .is_some_and(|r| r.is_empty() || api(r))
}

/// A refusal: a `Status` for the API (kubectl prints its message), one line of text
/// elsewhere.
pub(crate) fn refuse(path: &str, code: StatusCode, message: &str) -> Response {
    if is_api(path) {
        let reason = match code {
            StatusCode::UNAUTHORIZED => "Unauthorized",
            StatusCode::TOO_MANY_REQUESTS => "TooManyRequests",
            StatusCode::REQUEST_TIMEOUT => "Timeout",
            StatusCode::PAYLOAD_TOO_LARGE => "RequestEntityTooLarge",
            StatusCode::BAD_REQUEST => "BadRequest",
            _ => "Forbidden",
        };
        let body = serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "details": {}, "code": code.as_u16(),
        });
        return (
            code,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
    }
    (code, format!("{message}\n")).into_response()
}

#[cfg(test)]
mod tests;
