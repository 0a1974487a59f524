//! The resource registry: one row per served kind, from which discovery, the API router,
//! the OpenAPI documents, kubectl's resource names and the scenario checks are derived.
//!
//! Adding a kind starts here (see "Adding a resource kind" in `docs/ARCHITECTURE.md`).

use std::sync::OnceLock;

use crate::store::Kind;

/// A subresource of a kind (`deployments/scale`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subresource {
    /// Its name after the slash (`scale`).
    pub name: &'static str,
    /// The group of the object it reads and writes (`autoscaling` for a Scale).
    pub group: &'static str,
    /// Its version.
    pub version: &'static str,
    /// Its kind (`Scale`).
    pub kind: &'static str,
    /// What can be done to it.
    pub verbs: &'static [&'static str],
}

/// One served resource type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resource {
    /// The kind of its objects.
    pub kind: Kind,
    /// Plural, as in URLs (`deployments`).
    pub plural: &'static str,
    /// Singular (`deployment`).
    pub singular: &'static str,
    /// kubectl's short names (`deploy`).
    pub short_names: &'static [&'static str],
    /// API group (`""` for core).
    pub group: &'static str,
    /// API version.
    pub version: &'static str,
    /// Whether its objects live in a namespace.
    pub namespaced: bool,
    /// Categories (`all`: listed by `kubectl get all`).
    pub categories: &'static [&'static str],
    /// Subresources.
    pub subresources: &'static [Subresource],
    /// What can be done to it (the verbs discovery lists).
    pub verbs: &'static [&'static str],
}

impl Resource {
    /// `apps/v1`, or `v1` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The resource as error messages name it (`deployments.apps`, `pods`).
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// [`Resource::qualified`], kept for the life of the process (messages name it often).
    pub fn qualified_name(&self) -> &'static str {
        static NAMES: OnceLock<Vec<(Kind, String)>> = OnceLock::new();
        let names =
            NAMES.get_or_init(|| RESOURCES.iter().map(|r| (r.kind, r.qualified())).collect());
        names
            .iter()
            .find(|(k, _)| *k == self.kind)
            .map_or(self.plural, |(_, n)| n.as_str())
    }

    /// How kubectl names its objects in output (`deployment.apps`, `pod`).
    pub fn kind_prefix(&self) -> &'static str {
        static NAMES: OnceLock<Vec<(Kind, String)>> = OnceLock::new();
        let names = NAMES.get_or_init(|| {
            RESOURCES
                .iter()
                .map(|r| {
                    let name = if r.group.is_empty() {
                        r.singular.to_string()
                    } else {
                        format!("{}.{}", r.singular, r.group)
                    };
                    (r.kind, name)
                })
                .collect()
        });
        names
            .iter()
            .find(|(k, _)| *k == self.kind)
            .map_or(self.singular, |(_, n)| n.as_str())
    }

    /// The URL prefix of its group-version (`/api/v1`, `/apis/apps/v1`).
    pub fn prefix(&self) -> String {
        if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        }
    }

    /// A subresource by name.
    pub fn subresource(&self, name: &str) -> Option<&'static Subresource> {
        self.subresources.iter().find(|s| s.name == name)
    }
}

/// The verbs of an object kind the API serves in full.
pub const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

const SCALE: Subresource = Subresource {
    name: "scale",
    group: "autoscaling",
    version: "v1",
    kind: "Scale",
    verbs: &["get", "patch", "update"],
};

/// `status` of a kind whose status kubesim derives from its own state (a pod's from the
/// kubelet, a node's from its lifecycle): read only.
const fn status(group: &'static str, kind: &'static str) -> Subresource {
    Subresource {
        name: "status",
        group,
        version: "v1",
        kind,
        verbs: &["get"],
    }
}

/// `status` of a kind whose stored object holds its status: written as the registry's status
/// strategy writes it (`apiserver/status.rs`), then the controllers sync as usual.
const fn writable_status(group: &'static str, kind: &'static str) -> Subresource {
    Subresource {
        name: "status",
        group,
        version: "v1",
        kind,
        verbs: &["get", "patch", "update"],
    }
}

/// Every served type, in discovery order (`get all` lists pods, services, deployments,
/// replicasets in this order).
pub const RESOURCES: &[Resource] = &[
    Resource {
        kind: Kind::Pod,
        plural: "pods",
        singular: "pod",
        short_names: &["po"],
        group: "",
        version: "v1",
        namespaced: true,
        categories: &["all"],
        subresources: &[
            Subresource {
                name: "eviction",
                group: "policy",
                version: "v1",
                kind: "Eviction",
                verbs: &["create"],
            },
            Subresource {
                name: "log",
                group: "",
                version: "v1",
                kind: "Pod",
                verbs: &["get"],
            },
            status("", "Pod"),
        ],
        verbs: ALL_VERBS,
    },
    Resource {
        kind: Kind::Service,
        plural: "services",
        singular: "service",
        short_names: &["svc"],
        group: "",
        version: "v1",
        namespaced: true,
        categories: &["all"],
        subresources: &[
            Subresource {
                name: "proxy",
                group: "",
                version: "v1",
                kind: "ServiceProxyOptions",
                verbs: &["create", "delete", "get", "patch", "update"],
            },
            writable_status("", "Service"),
        ],
        verbs: ALL_VERBS,
    },
    Resource {
        kind: Kind::Endpoints,
        plural: "endpoints",
        singular: "endpoints",
        short_names: &["ep"],
        group: "",
        version: "v1",
        namespaced: true,
        categories: &[],
        subresources: &[],
        verbs: ALL_VERBS,
    },
    Resource {
        kind: Kind::Event,
        plural: "events",
        singular: "event",
        short_names: &["ev"],
        group: "",
        version: "v1",
        namespaced: true,
        categories: &[],
        subresources: &[],
        verbs: ALL_VERBS,
    },
    Resource {
        kind: Kind::Namespace,
        plural: "namespaces",
        singular: "namespace",
        short_names: &["ns"],
        group: "",
        version: "v1",
        namespaced: false,
        categories: &[],
        subresources: &[status("", "Namespace")],
        verbs: &[
            "create", "delete", "get", "list", "patch", "update", "watch",
        ],
    },
    Resource {
        kind: Kind::Node,
        plural: "nodes",
        singular: "node",
        short_names: &["no"],
        group: "",
        version: "v1",
        namespaced: false,
        categories: &[],
        subresources: &[status("", "Node")],
        verbs: ALL_VERBS,
    },
    Resource {
        kind: Kind::Deployment,
        plural: "deployments",
        singular: "deployment",
        short_names: &["deploy"],
        group: "apps",
        version: "v1",
        namespaced: true,
        categories: &["all"],
        subresources: &[SCALE, writable_status("apps", "Deployment")],
        verbs: ALL_VERBS,
    },
    Resource {
        kind: Kind::ReplicaSet,
        plural: "replicasets",
        singular: "replicaset",
        short_names: &["rs"],
        group: "apps",
        version: "v1",
        namespaced: true,
        categories: &["all"],
        subresources: &[SCALE, writable_status("apps", "ReplicaSet")],
        verbs: ALL_VERBS,
    },
    Resource {
        kind: Kind::Ingress,
        plural: "ingresses",
        singular: "ingress",
        short_names: &["ing"],
        group: "networking.k8s.io",
        version: "v1",
        namespaced: true,
        categories: &[],
        subresources: &[writable_status("networking.k8s.io", "Ingress")],
        verbs: ALL_VERBS,
    },
    Resource {
        kind: Kind::IngressClass,
        plural: "ingressclasses",
        singular: "ingressclass",
        short_names: &[],
        group: "networking.k8s.io",
        version: "v1",
        namespaced: false,
        categories: &[],
        subresources: &[],
        verbs: ALL_VERBS,
    },
    Resource {
        kind: Kind::HorizontalPodAutoscaler,
        plural: "horizontalpodautoscalers",
        singular: "horizontalpodautoscaler",
        short_names: &["hpa"],
        group: "autoscaling",
        version: "v2",
        namespaced: true,
        categories: &["all"],
        subresources: &[Subresource {
            name: "status",
            group: "autoscaling",
            version: "v2",
            kind: "HorizontalPodAutoscaler",
            verbs: &["get", "patch", "update"],
        }],
        verbs: ALL_VERBS,
    },
    Resource {
        kind: Kind::ConfigMap,
        plural: "configmaps",
        singular: "configmap",
        short_names: &["cm"],
        group: "",
        version: "v1",
        namespaced: true,
        categories: &[],
        subresources: &[],
        verbs: ALL_VERBS,
    },
    Resource {
        kind: Kind::Secret,
        plural: "secrets",
        singular: "secret",
        short_names: &[],
        group: "",
        version: "v1",
        namespaced: true,
        categories: &[],
        subresources: &[],
        verbs: ALL_VERBS,
    },
    Resource {
        kind: Kind::EndpointSlice,
        plural: "endpointslices",
        singular: "endpointslice",
        short_names: &[],
        group: "discovery.k8s.io",
        version: "v1",
        namespaced: true,
        categories: &[],
        subresources: &[],
        verbs: ALL_VERBS,
    },
    Resource {
        kind: Kind::PodDisruptionBudget,
        plural: "poddisruptionbudgets",
        singular: "poddisruptionbudget",
        short_names: &["pdb"],
        group: "policy",
        version: "v1",
        namespaced: true,
        categories: &[],
        subresources: &[],
        verbs: ALL_VERBS,
    },
    // batch/v1: CronJobs and Jobs (both in `all`, with a writable status), in discovery's
    // alphabetical order, so `get all` lists cronjobs before jobs as kubectl does.
    Resource {
        kind: Kind::CronJob,
        plural: "cronjobs",
        singular: "cronjob",
        short_names: &["cj"],
        group: "batch",
        version: "v1",
        namespaced: true,
        categories: &["all"],
        subresources: &[writable_status("batch", "CronJob")],
        verbs: ALL_VERBS,
    },
    Resource {
        kind: Kind::Job,
        plural: "jobs",
        singular: "job",
        short_names: &[],
        group: "batch",
        version: "v1",
        namespaced: true,
        categories: &["all"],
        subresources: &[writable_status("batch", "Job")],
        verbs: ALL_VERBS,
    },
    Resource {
        kind: Kind::ResourceQuota,
        plural: "resourcequotas",
        singular: "resourcequota",
        short_names: &["quota"],
        group: "",
        version: "v1",
        namespaced: true,
        categories: &[],
        subresources: &[],
        verbs: ALL_VERBS,
    },
    Resource {
        kind: Kind::LimitRange,
        plural: "limitranges",
        singular: "limitrange",
        short_names: &["limits"],
        group: "",
        version: "v1",
        namespaced: true,
        categories: &[],
        subresources: &[],
        verbs: ALL_VERBS,
    },
    // The kubelets' node leases, derived from the nodes (`kubelet/lease.rs`): read only.
    Resource {
        kind: Kind::Lease,
        plural: "leases",
        singular: "lease",
        short_names: &[],
        group: "coordination.k8s.io",
        version: "v1",
        namespaced: true,
        categories: &[],
        subresources: &[],
        verbs: &["get", "list", "watch"],
    },
];

/// The row of a kind.
pub fn of(kind: Kind) -> &'static Resource {
    // Every Kind has a row (a unit test checks it); Pod is never reached as a fallback.
    RESOURCES
        .iter()
        .find(|r| r.kind == kind)
        .unwrap_or(&RESOURCES[0])
}

/// The resource of a URL: a group and a plural.
pub fn by_plural(group: &str, plural: &str) -> Option<&'static Resource> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.plural == plural)
}

/// The resource a kubectl word names: plural, singular, short name or kind, any case, with an
/// optional group (`deployments.apps`).
pub fn by_word(word: &str) -> Option<&'static Resource> {
    let word = word.to_ascii_lowercase();
    let (name, group) = match word.split_once('.') {
        Some((n, g)) => (n.to_string(), Some(g.to_string())),
        None => (word, None),
    };
    RESOURCES.iter().find(|r| {
        group.as_deref().is_none_or(|g| g == r.group)
            && (r.plural == name
                || r.singular == name
                || r.short_names.contains(&name.as_str())
                || r.kind.as_str().eq_ignore_ascii_case(&name))
    })
}

/// The served group-versions, core first (`v1`, `apps/v1`).
pub fn group_versions() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for r in RESOURCES {
        if !out.contains(&(r.group, r.version)) {
            out.push((r.group, r.version));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_row_and_words_find_it() {
        let kinds = [
            Kind::Namespace,
            Kind::Node,
            Kind::Pod,
            Kind::ReplicaSet,
            Kind::Deployment,
            Kind::Service,
            Kind::Endpoints,
            Kind::Event,
            Kind::Ingress,
            Kind::IngressClass,
            Kind::HorizontalPodAutoscaler,
            Kind::ConfigMap,
            Kind::Secret,
            Kind::EndpointSlice,
            Kind::PodDisruptionBudget,
            Kind::Job,
            Kind::CronJob,
            Kind::ResourceQuota,
            Kind::LimitRange,
            Kind::Lease,
        ];
        for k in kinds {
            let rows: Vec<_> = RESOURCES.iter().filter(|r| r.kind == k).collect();
            assert_eq!(rows.len(), 1, "{k:?}");
            assert_eq!(of(k).kind, k);
            assert_eq!(of(k).api_version(), k.api_version());
        }
        assert_eq!(by_word("deploy").map(|r| r.kind), Some(Kind::Deployment));
        assert_eq!(
            by_word("Deployments.apps").map(|r| r.kind),
            Some(Kind::Deployment)
        );
        assert_eq!(by_word("deployments.core"), None);
        assert_eq!(by_word("po").map(|r| r.kind), Some(Kind::Pod));
        assert_eq!(
            by_word("ReplicaSet").map(|r| r.kind),
            Some(Kind::ReplicaSet)
        );
        assert_eq!(by_word("frobs"), None);
        assert_eq!(
            group_versions(),
            vec![
                ("", "v1"),
                ("apps", "v1"),
                ("networking.k8s.io", "v1"),
                ("autoscaling", "v2"),
                ("discovery.k8s.io", "v1"),
                ("policy", "v1"),
                ("batch", "v1"),
                ("coordination.k8s.io", "v1")
            ]
        );
        assert_eq!(by_word("ing").map(|r| r.kind), Some(Kind::Ingress));
        assert_eq!(of(Kind::Ingress).kind_prefix(), "ingress.networking.k8s.io");
        assert_eq!(
            by_word("hpa").map(|r| r.kind),
            Some(Kind::HorizontalPodAutoscaler)
        );
        assert_eq!(by_word("cm").map(|r| r.kind), Some(Kind::ConfigMap));
        assert_eq!(by_word("secret").map(|r| r.kind), Some(Kind::Secret));
        assert_eq!(of(Kind::Deployment).qualified(), "deployments.apps");
        assert_eq!(of(Kind::Pod).prefix(), "/api/v1");
        assert_eq!(of(Kind::Deployment).qualified_name(), "deployments.apps");
        assert_eq!(of(Kind::Deployment).kind_prefix(), "deployment.apps");
        assert_eq!(of(Kind::Endpoints).kind_prefix(), "endpoints");
        assert_eq!(
            by_word("endpointslices").map(|r| r.kind),
            Some(Kind::EndpointSlice)
        );
        assert_eq!(
            by_word("pdb").map(|r| r.kind),
            Some(Kind::PodDisruptionBudget)
        );
        assert_eq!(by_word("cj").map(|r| r.kind), Some(Kind::CronJob));
        assert_eq!(by_word("jobs.batch").map(|r| r.kind), Some(Kind::Job));
        assert_eq!(by_word("quota").map(|r| r.kind), Some(Kind::ResourceQuota));
        assert_eq!(by_word("limits").map(|r| r.kind), Some(Kind::LimitRange));
        assert_eq!(
            of(Kind::EndpointSlice).qualified(),
            "endpointslices.discovery.k8s.io"
        );
    }
}
