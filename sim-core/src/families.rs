//! Public images by family, not by tag: `nginx:1.21-alpine`, `docker.io/library/busybox:1.36`
//! and `public.ecr.aws/docker/library/httpd:2.4` are all images kubesim runs, because
//! tutorials name them in every spelling. A tag that cannot exist still fails to pull, as it
//! does on a real cluster, by one documented rule ([`resolve`], `docs/images.md`):
//!
//! - the repository, after a Docker Hub or mirror prefix (`docker.io/library/`, `library/`,
//!   `docker.io/`, `index.docker.io/library/`, `registry-1.docker.io/library/`,
//!   `public.ecr.aws/docker/library/`, `mirror.gcr.io/library/`), is one of [`FAMILIES`];
//! - the tag (`latest` when there is none) is `-`-separated tokens: the first a version
//!   (`1`, `1.21`, `1.21.6`) within the family's published range, or one of its named tags;
//!   every further token one of its variant words (`alpine`, `alpine3.18`, `slim`,
//!   `bookworm`, `perl`, ...) or an eight-digit build date (`jammy-20240227`);
//! - a digest (`@sha256:` and 64 hex digits) pins any image of the family.
//!
//! So `nginx:1.2O` (a letter O) and `nginx:99` fail with the registry's `not found`.

/// What an image of a family does when a container runs it without a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A web server serving its document root on port 80 (`crate::servers`).
    WebServer(WebServer),
    /// A shell image: its default command is `sh` (no stdin: it exits 0 at once).
    Shell,
    /// A stand-in worker module (`redis`, `postgres`) when workers are available.
    StandIn(&'static str),
    /// MySQL: checks its root password variables as the image's entrypoint does, then
    /// listens on 3306 (`crate::servers::MySql`).
    MySql,
    /// Starts and stays running: kubesim does not interpret it (python's programs).
    Runs,
}

/// The web servers kubesim serves pages with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebServer {
    /// nginx: `/usr/share/nginx/html`, combined access log.
    Nginx,
    /// Apache httpd: `/usr/local/apache2/htdocs`, common access log.
    Httpd,
}

/// One family of public images.
#[derive(Debug, PartialEq, Eq)]
pub struct Family {
    /// The repository name on Docker Hub (`nginx`).
    pub name: &'static str,
    /// Published versions: (first major, last major, highest minor of those majors).
    pub versions: &'static [(u32, u32, u32)],
    /// Named tags that stand alone or start a tag (`stable`, `mainline`, `jammy`).
    pub named: &'static [&'static str],
    /// Variant words that may follow a version or a name (`alpine`, `slim`, `perl`).
    pub variants: &'static [&'static str],
    /// What it does.
    pub kind: Kind,
    /// The ports it listens on.
    pub ports: &'static [u16],
    /// What the catalogue says about it.
    pub about: &'static str,
}

/// The families tutorials use.
pub const FAMILIES: &[Family] = &[
    Family {
        name: "nginx",
        versions: &[(1, 1, 29)],
        named: &["latest", "stable", "mainline"],
        variants: &[
            "alpine", "slim", "perl", "otel", "bookworm", "bullseye", "trixie",
        ],
        kind: Kind::WebServer(WebServer::Nginx),
        ports: &[80],
        about: "nginx: serves /usr/share/nginx/html on port 80, the real \"Welcome to nginx!\" page by default and the files a ConfigMap volume mounts there; a missing file is nginx's 404 page; each request is an access-log line (combined format) in `kubectl logs`.",
    },
    Family {
        name: "httpd",
        versions: &[(2, 2, 4)],
        named: &["latest"],
        variants: &["alpine", "bookworm", "bullseye", "trixie"],
        kind: Kind::WebServer(WebServer::Httpd),
        ports: &[80],
        about: "Apache httpd: serves /usr/local/apache2/htdocs on port 80 (\"It works!\" by default, or the files a ConfigMap volume mounts there); a missing file is Apache's 404 page; each request is an access-log line (common format).",
    },
    Family {
        name: "busybox",
        versions: &[(1, 1, 37)],
        named: &["latest", "stable", "unstable"],
        variants: &["musl", "glibc", "uclibc"],
        kind: Kind::Shell,
        ports: &[],
        about: "busybox: runs the container's command and args through kubesim's shell (`sleep` in virtual time, `echo` to the log, loops, `wget`/`nslookup` to Services, `exit N`); with no command, `sh` without input exits 0 at once (Completed; CrashLoopBackOff under a Deployment), as on a real cluster.",
    },
    Family {
        name: "alpine",
        versions: &[(3, 3, 22)],
        named: &["latest", "edge"],
        variants: &[],
        kind: Kind::Shell,
        ports: &[],
        about: "alpine: like busybox (its `sh` is busybox's).",
    },
    Family {
        name: "ubuntu",
        versions: &[(10, 26, 10)],
        named: &[
            "latest", "rolling", "devel", "bionic", "focal", "jammy", "noble", "oracular",
            "plucky", "questing", "xenial", "trusty",
        ],
        variants: &[],
        kind: Kind::Shell,
        ports: &[],
        about: "ubuntu: like busybox (`bash` runs as kubesim's `sh`); with no command, `bash` without input exits 0 at once.",
    },
    Family {
        name: "debian",
        versions: &[(6, 13, 12)],
        named: &[
            "latest",
            "stable",
            "oldstable",
            "testing",
            "unstable",
            "sid",
            "experimental",
            "buster",
            "bullseye",
            "bookworm",
            "trixie",
            "forky",
        ],
        variants: &["slim", "backports"],
        kind: Kind::Shell,
        ports: &[],
        about: "debian: like ubuntu.",
    },
    Family {
        name: "redis",
        versions: &[(2, 8, 9)],
        named: &["latest"],
        variants: &["alpine", "bookworm", "bullseye", "trixie"],
        kind: Kind::StandIn("redis"),
        ports: &[6379],
        about: "A Redis stand-in, not Redis: a small program speaking RESP2 (PING, AUTH, GET, SET with EX/PX/NX/XX, DEL, EXISTS, INCR, DECR, EXPIRE, TTL), its keys kept until the container restarts; a password with `args: [--requirepass, X]`.",
    },
    Family {
        name: "postgres",
        versions: &[(9, 18, 6)],
        named: &["latest"],
        variants: &["alpine", "bookworm", "bullseye", "trixie"],
        kind: Kind::StandIn("postgres"),
        ports: &[5432],
        about: "A PostgreSQL stand-in, not PostgreSQL: it needs `POSTGRES_PASSWORD` (or `POSTGRES_HOST_AUTH_METHOD=trust`) as the real image does, reads `POSTGRES_USER` and `POSTGRES_DB`, checks logins and answers `SELECT` of literals.",
    },
    Family {
        name: "mysql",
        versions: &[(5, 5, 7), (8, 9, 6)],
        named: &["latest", "lts", "innovation"],
        variants: &["oracle", "oraclelinux8", "oraclelinux9", "debian"],
        kind: Kind::MySql,
        ports: &[3306],
        about: "mysql: checks `MYSQL_ROOT_PASSWORD`, `MYSQL_ALLOW_EMPTY_PASSWORD` or `MYSQL_RANDOM_ROOT_PASSWORD` as the image's entrypoint does (without one it exits 1 with the image's message, and crash-loops), then logs that it is ready for connections on port 3306 and stays ready. It speaks no MySQL protocol: no client can query it.",
    },
    Family {
        name: "python",
        versions: &[(2, 2, 7), (3, 3, 14)],
        named: &["latest", "alpine", "slim"],
        variants: &[
            "alpine",
            "slim",
            "bookworm",
            "bullseye",
            "trixie",
            "windowsservercore",
        ],
        kind: Kind::Runs,
        ports: &[],
        about: "python: the container starts and stays running, but kubesim does not run Python: `python -m http.server` and scripts are out of scope (nothing answers). A `command` the shell knows (`sh -c ...`, `sleep`, `echo`) runs as in busybox.",
    },
];

/// The registry prefixes that name Docker Hub's official images (or a mirror of them).
const HUB_PREFIXES: &[&str] = &[
    "docker.io/library/",
    "index.docker.io/library/",
    "registry-1.docker.io/library/",
    "public.ecr.aws/docker/library/",
    "mirror.gcr.io/library/",
    "library/",
    "docker.io/",
    "index.docker.io/",
];

/// Repositories a vendor publishes its own image under, with the family they are.
const VENDOR_REPOS: &[(&str, &str)] = &[("public.ecr.aws/nginx/nginx", "nginx")];

/// The family of an image reference and its tag, or `None` when no registry has it.
pub fn resolve(image: &str) -> Option<(&'static Family, String)> {
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    if let Some(d) = digest {
        let hex = d.strip_prefix("sha256:")?;
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
    }
    let repo_and_tag = HUB_PREFIXES
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name);
    let (repo, tag) = match repo_and_tag.split_once(':') {
        Some((r, t)) => (r, Some(t)),
        None => (repo_and_tag, None),
    };
    let repo = VENDOR_REPOS
        .iter()
        .find(|(r, _)| *r == repo)
        .map_or(repo, |(_, f)| *f);
    let family = FAMILIES.iter().find(|f| f.name == repo)?;
    match tag {
        Some(t) if !tag_exists(family, t) => None,
        Some(t) => Some((family, t.to_string())),
        // A digest alone pins an image of the family; no tag means `latest`.
        None => Some((family, "latest".to_string())),
    }
}

/// Whether an image has `bash`: the Debian-based images do, busybox and the Alpine ones
/// (`alpine`, any `-alpine` tag) do not.
pub fn has_bash(image: &str) -> bool {
    resolve(image)
        .is_some_and(|(f, tag)| !matches!(f.name, "busybox" | "alpine") && !tag.contains("alpine"))
}

/// Whether `tag` is one the family publishes, by the rule in the module's documentation.
pub fn tag_exists(f: &Family, tag: &str) -> bool {
    let mut tokens = tag.split('-');
    let Some(first) = tokens.next() else {
        return false;
    };
    let head_ok = version_in_range(f, first)
        || f.named.contains(&first)
        || f.variants.contains(&first)
        || variant(f, first);
    head_ok && tokens.all(|t| f.variants.contains(&t) || variant(f, t) || is_date(t))
}

/// `alpine3.18`: an Alpine-based variant pinned to an Alpine release.
fn variant(f: &Family, token: &str) -> bool {
    token
        .strip_prefix("alpine")
        .is_some_and(|v| !v.is_empty() && f.variants.contains(&"alpine") && is_version(v).is_some())
}

fn is_date(t: &str) -> bool {
    t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit())
}

/// `1`, `1.21`, `1.21.6` as (major, minor).
fn is_version(v: &str) -> Option<(u32, Option<u32>)> {
    let parts: Vec<&str> = v.split('.').collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let mut nums = Vec::new();
    for p in &parts {
        if p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        nums.push(p.parse::<u32>().ok()?);
    }
    Some((nums[0], nums.get(1).copied()))
}

fn version_in_range(f: &Family, v: &str) -> bool {
    let Some((major, minor)) = is_version(v) else {
        return false;
    };
    f.versions.iter().any(|&(lo, hi, max_minor)| {
        (lo..=hi).contains(&major) && minor.is_none_or(|m| m <= max_minor)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_resolve_to_a_family_or_fail_to_pull() {
        let hex = "a".repeat(64);
        let digest = format!("nginx@sha256:{hex}");
        let tagged_digest = format!("docker.io/library/busybox:1.36@sha256:{hex}");
        let table: &[(&str, Option<(&str, &str)>)] = &[
            ("nginx", Some(("nginx", "latest"))),
            ("nginx:1.19", Some(("nginx", "1.19"))),
            ("nginx:1.21-alpine", Some(("nginx", "1.21-alpine"))),
            ("nginx:alpine", Some(("nginx", "alpine"))),
            ("nginx:stable", Some(("nginx", "stable"))),
            ("nginx:stable-alpine", Some(("nginx", "stable-alpine"))),
            (
                "nginx:mainline-alpine-slim",
                Some(("nginx", "mainline-alpine-slim")),
            ),
            (
                "nginx:1.25.3-alpine3.18",
                Some(("nginx", "1.25.3-alpine3.18")),
            ),
            ("nginx:1.27-perl", Some(("nginx", "1.27-perl"))),
            (
                "public.ecr.aws/nginx/nginx:stable-perl",
                Some(("nginx", "stable-perl")),
            ),
            (
                "public.ecr.aws/nginx/nginx:alpine",
                Some(("nginx", "alpine")),
            ),
            ("busybox:1.36", Some(("busybox", "1.36"))),
            ("busybox:1.36.1-musl", Some(("busybox", "1.36.1-musl"))),
            (
                "docker.io/library/busybox:1.37.0",
                Some(("busybox", "1.37.0")),
            ),
            ("library/alpine:3.19", Some(("alpine", "3.19"))),
            ("docker.io/alpine", Some(("alpine", "latest"))),
            (
                "index.docker.io/library/ubuntu:22.04",
                Some(("ubuntu", "22.04")),
            ),
            (
                "public.ecr.aws/docker/library/httpd:2.4",
                Some(("httpd", "2.4")),
            ),
            ("httpd:2.4-alpine", Some(("httpd", "2.4-alpine"))),
            ("ubuntu:jammy", Some(("ubuntu", "jammy"))),
            ("ubuntu:jammy-20240227", Some(("ubuntu", "jammy-20240227"))),
            ("debian:bookworm-slim", Some(("debian", "bookworm-slim"))),
            ("debian:12-slim", Some(("debian", "12-slim"))),
            ("redis:7-alpine", Some(("redis", "7-alpine"))),
            ("postgres:16-alpine", Some(("postgres", "16-alpine"))),
            ("mysql:8.0", Some(("mysql", "8.0"))),
            ("mysql:5.7", Some(("mysql", "5.7"))),
            ("python:3.12-slim", Some(("python", "3.12-slim"))),
            (
                "python:3.12-slim-bookworm",
                Some(("python", "3.12-slim-bookworm")),
            ),
            (digest.as_str(), Some(("nginx", "latest"))),
            (tagged_digest.as_str(), Some(("busybox", "1.36"))),
            // Tags no registry has.
            ("nginx:1.2O", None),
            ("nginx:99", None),
            ("nginx:1.277", None),
            ("nginx:latset", None),
            ("nginx:1.21-alpne", None),
            ("busybox:2", None),
            ("httpd:2.5", None),
            ("mysql:6", None),
            ("python:4", None),
            ("nginx:1..2", None),
            ("nginx:-alpine", None),
            ("nginx@sha256:abc", None),
            ("nginx@md5:abc", None),
            // Not a family, or a registry that is not Docker Hub's.
            ("nginxx", None),
            ("quay.io/nginx/nginx:1.25", None),
            ("registry.local/nginx:1.25", None),
        ];
        for (image, want) in table {
            let got = resolve(image).map(|(f, t)| (f.name, t));
            let want = want.map(|(f, t)| (f, t.to_string()));
            assert_eq!(got, want, "{image}");
        }
    }

    #[test]
    fn debian_based_images_have_bash() {
        assert!(has_bash("nginx:1.27"));
        assert!(has_bash("ubuntu"));
        assert!(!has_bash("nginx:1.27-alpine"));
        assert!(!has_bash("busybox"));
        assert!(!has_bash("registry.local/credit-scoring-api:v1"));
    }

    #[test]
    fn every_family_takes_latest_and_its_newest_version() {
        for f in FAMILIES {
            assert!(tag_exists(f, "latest"), "{}", f.name);
            let &(_, hi, minor) = f.versions.last().expect("versions");
            assert!(tag_exists(f, &format!("{hi}.{minor}")), "{}", f.name);
            assert!(!tag_exists(f, &format!("{}", hi + 1)), "{}", f.name);
        }
    }
}
