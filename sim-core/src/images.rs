//! The image catalogue: every image a sandbox runs without a script declaring it, and what it
//! does. A student whose pod sits in `ImagePullBackOff` (the lecture's own registry path, a
//! typo) finds here what kubesim can run instead; `kubesim images` prints it and
//! `kubesim serve` shows it at `/images`.

use crate::runtime::{DeclaredImages, WORKER_IMAGES, normalize, stand_in_module};

/// One image of the catalogue.
#[derive(Clone, Debug, PartialEq)]
pub struct CatalogImage {
    /// The image reference, as a manifest names it.
    pub image: String,
    /// What it is, in a sentence or two.
    pub about: &'static str,
    /// The ports its program listens on (what a `containerPort` should say).
    pub ports: &'static [u16],
    /// The worker module it runs, if it runs a real program.
    pub module: Option<&'static str>,
    /// The environment the image sets (a Dockerfile's `ENV`); a pod's `env` overrides it.
    pub env: Vec<(String, String)>,
}

/// Where the sandbox shows the catalogue (the page is `kubesim serve`'s).
pub const CATALOG_PAGE: &str = "/images";

/// The course API's endpoints, shared by its variants.
const CREDIT: &str = "The course's credit-scoring API (FastAPI-like, a real logistic model): `POST /predict` with an applicant's features answers `probability_of_default` and `decision`; `GET /` and `/healthz` answer when the model is loaded.";

/// What each image is: (image, ports, about). Every built-in image has exactly one line.
const ABOUT: &[(&str, &[u16], &str)] = &[
    ("registry.local/credit-scoring-api:single", &[8000], CREDIT),
    ("registry.local/credit-scoring-api:v1", &[8000], CREDIT),
    (
        "registry.local/credit-scoring-api:v2",
        &[8000],
        "The credit-scoring API, model version 2: the same endpoints, `model_version: v2` in its answers. The course's good new release.",
    ),
    (
        "registry.local/credit-scoring-api:broken",
        &[8000],
        "A broken release of the credit-scoring API: it starts, logs that the model file is missing, and answers 500 on `/`, `/healthz` and `/predict`, so a readiness probe never passes. The course's failed rollout.",
    ),
    (
        "registry.local/credit-scoring-api:slow-start",
        &[8000],
        "The credit-scoring API taking 45 s to load its model: 503 `model loading` until then. For startup and readiness probes.",
    ),
    (
        "registry.local/credit-scoring-api:leaky",
        &[8000],
        "The credit-scoring API with a memory leak: each request keeps 64 KiB more; a memory limit ends in OOMKilled.",
    ),
    (
        "registry.local/credit-scoring-api:flaky",
        &[8000],
        "The credit-scoring API whose `/healthz` starts failing after 2,000 requests: a readiness or liveness probe takes it out under load.",
    ),
    (
        "registry.local/credit-scoring-api:with-services",
        &[8000],
        "The credit-scoring API that connects at start to Redis (`REDIS_HOST`, default `redis`; `REDIS_PASSWORD`) and PostgreSQL (`POSTGRES_HOST`, default `postgres`; `POSTGRES_PASSWORD`): until both answer it exits with the client library's traceback and `RedisConnectionError`, so the pod crash-loops.",
    ),
    (
        "registry.local/text-generator:v1",
        &[8000],
        "A small character-level text generator: `POST /generate` with a prompt; a token is a character, so latency grows with `max_tokens`.",
    ),
    (
        "registry.local/clothes-gateway:v1",
        &[8000],
        "The two-tier app's gateway: `POST /predict` with an image, which it sends to the model server named by `MODEL_HOST`:`MODEL_PORT`.",
    ),
    (
        "registry.local/clothes-model:v1",
        &[8501],
        "The two-tier app's model server (TF-Serving-like, a real MLP on clothing images): `POST /v1/models/clothes-model:predict`, `GET /v1/models/clothes-model`.",
    ),
    (
        "nginx",
        &[80],
        "nginx (`nginx:latest`), as a declared image: it starts and stays ready; requests to it are not served by a program.",
    ),
    ("nginx:1.25", &[80], "nginx (see `nginx`)."),
    ("nginx:1.27", &[80], "nginx (see `nginx`)."),
    (
        "redis:7",
        &[6379],
        "Any `redis:*` tag: a Redis stand-in, not Redis: a small program speaking RESP2 (PING, AUTH, GET, SET with EX/PX/NX/XX, DEL, EXISTS, INCR, DECR, EXPIRE, TTL), its keys kept until the container restarts; a password with `args: [--requirepass, X]`.",
    ),
    (
        "postgres:16",
        &[5432],
        "Any `postgres:*` tag: a PostgreSQL stand-in, not PostgreSQL: it needs `POSTGRES_PASSWORD` (or `POSTGRES_HOST_AUTH_METHOD=trust`) as the real image does, reads `POSTGRES_USER` and `POSTGRES_DB`, checks logins and answers `SELECT` of literals.",
    ),
    (
        "busybox",
        &[],
        "busybox (`busybox:latest`), as a declared image: it starts and stays running (use it for `kubectl run` and `exec`).",
    ),
];

/// Every built-in image, in the order of [`ABOUT`] (the course's images first), each with its
/// module and environment from the runtime's own table.
pub fn catalog() -> Vec<CatalogImage> {
    ABOUT
        .iter()
        .map(|(image, ports, about)| {
            let worker = WORKER_IMAGES
                .iter()
                .find(|(name, _, _)| normalize(name) == normalize(image));
            let module = worker
                .map(|(_, m, _)| *m)
                .or_else(|| stand_in_module(&normalize(image)));
            let env = worker
                .map(|(_, _, env)| {
                    env.iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect()
                })
                .unwrap_or_default();
            CatalogImage {
                image: image.to_string(),
                about,
                ports,
                module,
                env,
            }
        })
        .collect()
}

/// Every image reference a sandbox knows without declaring it (normalized), for the check
/// that the catalogue lists them all.
pub fn builtin_names() -> Vec<String> {
    let mut names: Vec<String> = DeclaredImages::builtin().names().collect();
    names.extend(WORKER_IMAGES.iter().map(|(n, _, _)| normalize(n)));
    names.sort();
    names.dedup();
    names
}

/// The catalogue as `kubesim images` prints it: one block per image.
pub fn render_text() -> String {
    let mut out = String::new();
    for i in catalog() {
        out.push_str(&i.image);
        if !i.ports.is_empty() {
            let ports: Vec<String> = i.ports.iter().map(u16::to_string).collect();
            out.push_str(&format!("  (port {})", ports.join(", ")));
        }
        out.push('\n');
        out.push_str(&format!("    {}\n", i.about.replace('`', "")));
        if let Some(m) = i.module {
            out.push_str(&format!("    runs the worker module {m}"));
            if !i.env.is_empty() {
                let env: Vec<String> = i.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
                out.push_str(&format!(" with {}", env.join(" ")));
            }
            out.push('\n');
        }
    }
    out.push_str(
        "\nAny other image goes to ErrImagePull, then ImagePullBackOff, as on a cluster whose registry does not have it.\nA script can declare more images (docs/scripts.md, `images:`).\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_lists_every_built_in_image_once() {
        let listed: Vec<String> = catalog().iter().map(|i| normalize(&i.image)).collect();
        let mut sorted = listed.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), listed.len(), "an image listed twice");
        assert_eq!(
            sorted,
            builtin_names(),
            "every image the runtime knows is described, and nothing else"
        );
    }

    #[test]
    fn worker_images_show_their_module_and_environment() {
        let c = catalog();
        let broken = c
            .iter()
            .find(|i| i.image == "registry.local/credit-scoring-api:broken")
            .expect("listed");
        assert_eq!(broken.module, Some("credit-scoring-api"));
        assert!(broken.env.contains(&("BROKEN".into(), "1".into())));
        let text = render_text();
        assert!(text.contains(
            "registry.local/credit-scoring-api:broken  (port 8000)\n    A broken release"
        ));
        assert!(text.contains(
            "runs the worker module credit-scoring-api with BROKEN=1 MODEL_VERSION=broken"
        ));
        let nginx = c.iter().find(|i| i.image == "nginx:1.27").expect("listed");
        assert_eq!((nginx.module, nginx.ports), (None, &[80u16][..]));
    }
}
