//! The image catalogue: every image a sandbox runs without a script declaring it, and what it
//! does. A student whose pod sits in `ImagePullBackOff` (the lecture's own registry path, a
//! typo) finds here what kubesim can run instead; `kubesim images` prints it and
//! `kubesim serve` shows it at `/images`.

use crate::families::{FAMILIES, Family, Kind};
use crate::runtime::{DeclaredImages, WORKER_IMAGES, normalize};

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
    /// For a public image family: the tags it takes (any of them runs the same).
    pub tags: Option<String>,
}

/// How a public image may be spelled, for the catalogue's footer and the docs.
pub const SPELLINGS: &str = "A public image may be named as `X`, `library/X`, `docker.io/X`, `docker.io/library/X`, `index.docker.io/library/X`, `public.ecr.aws/docker/library/X` or `mirror.gcr.io/library/X` (and nginx as `public.ecr.aws/nginx/nginx`), with a tag (`latest` when there is none) and/or a digest (`@sha256:` and 64 hex digits). A tag is words joined by hyphens: first a version within the family's published range (`1`, `1.21`, `1.21.6`) or one of its named tags, then any of its variant words (an `alpine` variant may carry its Alpine release, `alpine3.18`) or an eight-digit build date. Any other tag (`nginx:1.2O`, `nginx:99`) is not found, as on a real registry.";

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
            let module = worker.map(|(_, m, _)| *m);
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
                tags: None,
            }
        })
        .chain(FAMILIES.iter().map(family_entry))
        .collect()
}

/// A public image family as a catalogue entry.
fn family_entry(f: &'static Family) -> CatalogImage {
    let versions: Vec<String> = f
        .versions
        .iter()
        .map(|&(lo, hi, minor)| {
            if lo == hi {
                format!("{lo}.0 to {lo}.{minor}")
            } else {
                format!("{lo} to {hi} (minor versions up to .{minor})")
            }
        })
        .collect();
    let named: Vec<String> = f.named.iter().map(|n| format!("`{n}`")).collect();
    let mut tags = format!(
        "any tag: versions {}; {}",
        versions.join(", "),
        named.join(", ")
    );
    if !f.variants.is_empty() {
        let v: Vec<String> = f.variants.iter().map(|n| format!("`-{n}`")).collect();
        tags.push_str(&format!("; variants {}", v.join(", ")));
    }
    tags.push_str("; any digest.");
    CatalogImage {
        image: f.name.to_string(),
        about: f.about,
        ports: f.ports,
        module: match f.kind {
            Kind::StandIn(m) => Some(m),
            _ => None,
        },
        env: Vec::new(),
        tags: Some(tags),
    }
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
        if let Some(t) = &i.tags {
            out.push_str(&format!("    {}\n", t.replace('`', "")));
        }
    }
    out.push_str(&format!("\n{}\n", SPELLINGS.replace('`', "")));
    out.push_str(
        "Any other image goes to ErrImagePull, then ImagePullBackOff, as on a cluster whose registry does not have it.\nA script can declare more images (docs/scripts.md, `images:`).\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_lists_every_built_in_image_once() {
        let listed: Vec<String> = catalog()
            .iter()
            .filter(|i| i.tags.is_none())
            .map(|i| normalize(&i.image))
            .collect();
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
        let nginx = c.iter().find(|i| i.image == "nginx").expect("listed");
        assert_eq!((nginx.module, nginx.ports), (None, &[80u16][..]));
        let redis = c.iter().find(|i| i.image == "redis").expect("listed");
        assert_eq!(redis.module, Some("redis"));
        assert!(text.contains("nginx  (port 80)\n"), "{text}");
        assert!(
            text.contains(
                "any tag: versions 1.0 to 1.29; latest, stable, mainline; variants -alpine"
            ),
            "{text}"
        );
        assert!(text.contains("public.ecr.aws/docker/library/X"));
    }
}
