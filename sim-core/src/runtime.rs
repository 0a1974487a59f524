//! Container images and what they do when they run.
//!
//! An image either runs a real program (a WebAssembly inference worker, [`crate::program`]):
//! its start, probes and requests are then what that program does; or its behaviour is
//! declared: how long it takes to pull and to start serving, whether it crashes, whether its
//! readiness and liveness checks pass. Either way pull time, size and stop time are declared
//! here, as a registry and a node would know them.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::families::{Family, Kind};
use crate::program::{ProgramRef, Programs};
use crate::time::SimDuration;

/// What an image does when a container runs it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageBehavior {
    /// Seconds a pull of this image takes (when the node does not have it yet).
    #[serde(default = "default_pull_seconds")]
    pub pull_seconds: f64,
    /// Seconds from container start until the program answers requests and probes.
    #[serde(default)]
    pub start_seconds: f64,
    /// If set, the program exits with this line on stderr.
    #[serde(default)]
    pub crash: Option<String>,
    /// Exit code of a crash.
    #[serde(default = "default_exit_code")]
    pub exit_code: i32,
    /// Seconds the program runs before it crashes.
    #[serde(default)]
    pub crash_after_seconds: f64,
    /// Whether the readiness check passes.
    #[serde(default)]
    pub ready: Readiness,
    /// The liveness check starts failing this many seconds after start.
    #[serde(default)]
    pub liveness_fail_after_seconds: Option<f64>,
    /// Seconds the program takes to exit after SIGTERM (capped by the grace period).
    #[serde(default = "default_stop_seconds")]
    pub stop_seconds: f64,
    /// Lines the program prints when it starts.
    #[serde(default)]
    pub logs: Vec<String>,
    /// Image size in bytes, as the kubelet reports in the Pulled event.
    #[serde(default = "default_size")]
    pub size_bytes: u64,
    /// The worker module this image runs (a built-in module name, e.g. `credit-scoring-api`).
    #[serde(default)]
    pub module: Option<String>,
    /// Environment the image sets (like a Dockerfile's `ENV`); the pod spec's `env` wins.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The program, once `module` is resolved.
    #[serde(skip)]
    pub program: Option<ProgramRef>,
    /// The public image family it belongs to (`crate::families`), which says whether its
    /// default command is a shell and whether a `command` replaces its server.
    #[serde(skip)]
    pub family: Option<&'static Family>,
}

fn default_pull_seconds() -> f64 {
    1.0
}
fn default_exit_code() -> i32 {
    1
}
fn default_stop_seconds() -> f64 {
    1.0
}
fn default_size() -> u64 {
    52_428_800
}

impl Default for ImageBehavior {
    fn default() -> Self {
        ImageBehavior {
            pull_seconds: default_pull_seconds(),
            start_seconds: 0.0,
            crash: None,
            exit_code: default_exit_code(),
            crash_after_seconds: 0.0,
            ready: Readiness::Always,
            liveness_fail_after_seconds: None,
            stop_seconds: default_stop_seconds(),
            logs: Vec::new(),
            size_bytes: default_size(),
            module: None,
            env: BTreeMap::new(),
            program: None,
            family: None,
        }
    }
}

/// When a container's readiness check passes.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Readiness {
    /// Once the program has started.
    #[default]
    Always,
    /// Never: the program answers 503.
    Never,
    /// This many seconds after container start.
    AfterSeconds(f64),
    /// Each check passes with this probability (drawn from the seeded generator).
    Probability(f64),
}

impl<'de> Deserialize<'de> for Readiness {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Word(String),
            Map(RawMap),
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        struct RawMap {
            after_seconds: Option<f64>,
            probability: Option<f64>,
        }
        let bad = || {
            serde::de::Error::custom(
                "ready must be `always`, `never`, {afterSeconds: N} or {probability: P}",
            )
        };
        match Raw::deserialize(d)? {
            Raw::Word(w) if w == "always" => Ok(Readiness::Always),
            Raw::Word(w) if w == "never" => Ok(Readiness::Never),
            Raw::Word(_) => Err(bad()),
            Raw::Map(RawMap {
                after_seconds: Some(s),
                probability: None,
            }) if s >= 0.0 => Ok(Readiness::AfterSeconds(s)),
            Raw::Map(RawMap {
                after_seconds: None,
                probability: Some(p),
            }) if (0.0..=1.0).contains(&p) => Ok(Readiness::Probability(p)),
            Raw::Map(_) => Err(bad()),
        }
    }
}

impl ImageBehavior {
    /// Time from start until the program answers.
    pub fn start_delay(&self) -> SimDuration {
        SimDuration::from_secs_f64(self.start_seconds)
    }
}

/// Where the kubelet finds images.
pub trait ContainerRuntime: std::fmt::Debug + Send {
    /// The behaviour of `image`, or `None` when no registry knows it (ErrImagePull).
    fn lookup(&self, image: &str) -> Option<Arc<ImageBehavior>>;
}

/// Images declared in a script (plus every image kubesim ships).
#[derive(Clone, Debug, Default)]
pub struct DeclaredImages {
    images: BTreeMap<String, Arc<ImageBehavior>>,
    programs: Option<Arc<dyn Programs>>,
}

/// An image name, the module it runs and its environment (name, module, env).
pub type WorkerImage = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// The course's images that run a worker module: name, module, image environment.
pub const WORKER_IMAGES: &[WorkerImage] = &[
    (
        "registry.local/credit-scoring-api:single",
        "credit-scoring-api",
        &[],
    ),
    (
        "registry.local/credit-scoring-api:v1",
        "credit-scoring-api",
        &[],
    ),
    (
        "registry.local/credit-scoring-api:v2",
        "credit-scoring-api",
        &[("MODEL_VERSION", "v2")],
    ),
    // Connects to Redis and PostgreSQL as it starts (the stand-ins below answer); the image's
    // default password is the one the course's `postgres:16` Deployment sets.
    (
        "registry.local/credit-scoring-api:with-services",
        "credit-scoring-api-services",
        &[("POSTGRES_PASSWORD", "example")],
    ),
    (
        "registry.local/credit-scoring-api:broken",
        "credit-scoring-api",
        &[("BROKEN", "1"), ("MODEL_VERSION", "broken")],
    ),
    (
        "registry.local/credit-scoring-api:slow-start",
        "credit-scoring-api",
        &[("STARTUP_SECONDS", "45")],
    ),
    (
        "registry.local/credit-scoring-api:leaky",
        "credit-scoring-api",
        &[("LEAK_BYTES_PER_REQUEST", "65536")],
    ),
    (
        "registry.local/credit-scoring-api:flaky",
        "credit-scoring-api",
        &[("FAIL_READINESS_AFTER_REQUESTS", "2000")],
    ),
    ("registry.local/text-generator:v1", "text-generator", &[]),
    ("registry.local/clothes-gateway:v1", "clothes-gateway", &[]),
    ("registry.local/clothes-model:v1", "clothes-model", &[]),
];

/// The stand-in module an image runs, if its family has one (`redis:*`, `postgres:*`: small
/// programs that speak just enough of the real server's protocol, `docs/worker-abi.md`,
/// "Stand-ins", not the real servers).
pub fn stand_in_module(image: &str) -> Option<&'static str> {
    match crate::families::resolve(image)?.0.kind {
        Kind::StandIn(module) => Some(module),
        _ => None,
    }
}

impl DeclaredImages {
    /// The images every sandbox knows without declaring them: the course's images and a few
    /// common public ones, all behaving well.
    pub fn builtin() -> DeclaredImages {
        let mut d = DeclaredImages::default();
        for name in [
            "registry.local/credit-scoring-api:single",
            "registry.local/text-generator:v1",
            "registry.local/clothes-gateway:v1",
            "registry.local/clothes-model:v1",
        ] {
            d.insert(name, ImageBehavior::default());
        }
        d.insert(
            "registry.local/credit-scoring-api:with-services",
            ImageBehavior {
                crash: Some(
                    "redis.exceptions.ConnectionError: Error -2 connecting to redis:6379. Name or service not known."
                        .into(),
                ),
                crash_after_seconds: 1.0,
                ..ImageBehavior::default()
            },
        );
        d
    }

    /// The built-in images with their worker programs from `programs`: the course's images
    /// then run real models. Without programs this is [`DeclaredImages::builtin`].
    pub fn builtin_with(programs: Option<Arc<dyn Programs>>) -> DeclaredImages {
        let mut d = DeclaredImages::builtin();
        if programs.is_none() {
            return d;
        }
        d.programs = programs;
        for (name, module, env) in WORKER_IMAGES {
            d.insert(
                name,
                ImageBehavior {
                    module: Some(module.to_string()),
                    env: env
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                    ..ImageBehavior::default()
                },
            );
        }
        d
    }

    /// Declares (or overrides) an image. An image naming a `module` gets its program when a
    /// node pulls it ([`ContainerRuntime::lookup`]): compiling a module takes a while, so only
    /// the images a run uses are compiled.
    pub fn insert(&mut self, image: &str, behavior: ImageBehavior) {
        self.images.insert(normalize(image), Arc::new(behavior));
    }

    /// The images declared, by normalized name.
    pub fn names(&self) -> impl Iterator<Item = String> + '_ {
        self.images.keys().cloned()
    }

    /// Whether `module` names a known program.
    pub fn knows_module(&self, module: &str) -> bool {
        self.programs.as_ref().is_some_and(|p| p.has(module))
    }
}

impl ContainerRuntime for DeclaredImages {
    fn lookup(&self, image: &str) -> Option<Arc<ImageBehavior>> {
        let key = normalize(image);
        let family;
        let b = match self.images.get(&key) {
            Some(b) => b,
            None => {
                family = Arc::new(self.family_behavior(image)?);
                &family
            }
        };
        match (&b.module, &b.program, &self.programs) {
            (Some(module), None, Some(programs)) => {
                let program = programs.program(module).map(ProgramRef);
                Some(Arc::new(ImageBehavior {
                    program,
                    ..ImageBehavior::clone(b)
                }))
            }
            _ => Some(b.clone()),
        }
    }
}

impl DeclaredImages {
    /// What an image of a public family does (`crate::families`), or `None` when its name
    /// or tag is not one a registry has.
    fn family_behavior(&self, image: &str) -> Option<ImageBehavior> {
        let (f, tag) = crate::families::resolve(image)?;
        let mut b = ImageBehavior {
            family: Some(f),
            ..ImageBehavior::default()
        };
        match f.kind {
            Kind::WebServer(server) => {
                b.program = Some(ProgramRef(Arc::new(crate::servers::Web::new(server, &tag))));
            }
            Kind::MySql => b.program = Some(ProgramRef(Arc::new(crate::servers::MySql))),
            // Without worker programs (a script run without them) a stand-in is declared.
            Kind::StandIn(module) if self.programs.is_some() => {
                b.module = Some(module.to_string());
            }
            // PID 1 (`sh`, `sleep`) ignores SIGTERM: a deletion waits out the grace period.
            Kind::Shell => b.stop_seconds = f64::from(u32::MAX),
            Kind::StandIn(_) | Kind::Runs => {}
        }
        Some(b)
    }
}

/// `nginx` and `docker.io/library/nginx:latest` are the same image.
pub fn normalize(image: &str) -> String {
    let image = image.strip_prefix("docker.io/library/").unwrap_or(image);
    let image = image.strip_prefix("docker.io/").unwrap_or(image);
    let last = image.rsplit('/').next().unwrap_or(image);
    if last.contains(':') || last.contains('@') {
        image.to_string()
    } else {
        format!("{image}:latest")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaviour_reads_from_yaml() {
        let b: ImageBehavior =
            serde_yaml::from_str("{crash: boom, exitCode: 2, ready: {afterSeconds: 5}}").unwrap();
        assert_eq!(b.crash.as_deref(), Some("boom"));
        assert_eq!(b.exit_code, 2);
        assert_eq!(b.ready, Readiness::AfterSeconds(5.0));
        let b: ImageBehavior = serde_yaml::from_str("{ready: never}").unwrap();
        assert_eq!(b.ready, Readiness::Never);
        assert!(serde_yaml::from_str::<ImageBehavior>("{ready: sometimes}").is_err());
        assert!(serde_yaml::from_str::<ImageBehavior>("{startSecs: 1}").is_err());
    }

    /// Programs that know no module: enough to see which module an image names.
    #[derive(Debug)]
    struct NoPrograms;
    impl Programs for NoPrograms {
        fn program(&self, _: &str) -> Option<Arc<dyn crate::program::Program>> {
            None
        }
    }

    #[test]
    fn redis_and_postgres_of_any_tag_run_the_stand_ins() {
        let imgs = DeclaredImages::builtin_with(Some(Arc::new(NoPrograms)));
        let module = |image: &str| imgs.lookup(image).and_then(|b| b.module.clone());
        assert_eq!(module("redis:7").as_deref(), Some("redis"));
        assert_eq!(
            module("docker.io/library/redis:7.2").as_deref(),
            Some("redis")
        );
        assert_eq!(module("redis").as_deref(), Some("redis"));
        assert_eq!(module("postgres:16").as_deref(), Some("postgres"));
        assert_eq!(module("postgres:16-alpine").as_deref(), Some("postgres"));
        assert_eq!(
            module("registry.local/credit-scoring-api:with-services").as_deref(),
            Some("credit-scoring-api-services")
        );
        assert_eq!(module("redisx:1"), None);
        assert!(imgs.lookup("redisx:1").is_none());
        // Without programs (a script run without workers), the declared behaviour stays.
        let declared = DeclaredImages::builtin();
        assert_eq!(
            declared.lookup("redis:7").map(|b| b.module.clone()),
            Some(None)
        );
        assert_eq!(
            declared.lookup("redis:6").map(|b| b.module.clone()),
            Some(None)
        );
        assert!(declared.lookup("redis:99").is_none());
    }

    #[test]
    fn image_names_normalise() {
        assert_eq!(normalize("nginx"), "nginx:latest");
        assert_eq!(normalize("docker.io/library/nginx:1.25"), "nginx:1.25");
        assert_eq!(
            normalize("registry.local:5000/api"),
            "registry.local:5000/api:latest"
        );
        let imgs = DeclaredImages::builtin();
        assert!(
            imgs.lookup("registry.local/credit-scoring-api:single")
                .is_some()
        );
        assert!(
            imgs.lookup("registry.local/credit-scoring-api:singel")
                .is_none()
        );
    }
}
