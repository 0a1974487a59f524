//! The mutating admission plugins every pod passes through on a default API server, as the
//! stored pod shows them: `Priority` (no class: `priority: 0`), `ServiceAccount` (the
//! namespace's `default` account; the v1 conversion copies it to the deprecated
//! `serviceAccount`, and its projected token volume `kube-api-access-xxxxx` mounted read-only
//! at [`TOKEN_MOUNT_PATH`] in every container and init container, as `mountServiceAccountToken`
//! does) and `DefaultTolerationSeconds` (`controller/taint.rs`). They change pods only, never
//! templates. Idempotent, so an update compares like with like.
//!
//! The token volume's five characters are random in Kubernetes (`SimpleNameGenerator`); here
//! they are a hash of the pod's name ([`token_volume_name`]), so a pod a controller creates
//! from its shared template gets the same name every time `Store::pod_object` builds it.
//! kubesim stores no ServiceAccount objects: only the pod's `automountServiceAccountToken`
//! can turn the mount off (the `default` account leaves it on).

use k8s_openapi::api::core::v1::{
    ConfigMapProjection, Container, DownwardAPIProjection, DownwardAPIVolumeFile, KeyToPath,
    ObjectFieldSelector, PodSpec, ProjectedVolumeSource, ServiceAccountTokenProjection, Volume,
    VolumeMount, VolumeProjection,
};

/// `DefaultAPITokenMountPath`: where every container finds its service account's token.
pub const TOKEN_MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// `ServiceAccountVolumeName` and the dash `generateName` adds.
pub const TOKEN_VOLUME_PREFIX: &str = "kube-api-access-";
/// The ConfigMap the root CA publisher keeps in every namespace (`controller/root_ca.rs`).
pub const ROOT_CA_CONFIGMAP: &str = "kube-root-ca.crt";
/// `serviceaccount.WarnOnlyBoundTokenExpirationSeconds`: one hour and seven seconds.
pub const TOKEN_EXPIRATION_SECONDS: i64 = 3607;

/// The token volume's name for the pod named `pod`.
pub fn token_volume_name(pod: &str) -> String {
    format!(
        "{TOKEN_VOLUME_PREFIX}{}",
        crate::rng::hashed_suffix(pod.as_bytes())
    )
}

/// `TokenVolumeSource`: the token, the cluster's CA and the pod's namespace.
pub fn token_volume(name: String) -> Volume {
    Volume {
        name,
        projected: Some(ProjectedVolumeSource {
            default_mode: Some(420),
            sources: Some(vec![
                VolumeProjection {
                    service_account_token: Some(ServiceAccountTokenProjection {
                        path: "token".into(),
                        expiration_seconds: Some(TOKEN_EXPIRATION_SECONDS),
                        audience: None,
                    }),
                    ..Default::default()
                },
                VolumeProjection {
                    config_map: Some(ConfigMapProjection {
                        name: ROOT_CA_CONFIGMAP.into(),
                        items: Some(vec![KeyToPath {
                            key: "ca.crt".into(),
                            path: "ca.crt".into(),
                            mode: None,
                        }]),
                        optional: None,
                    }),
                    ..Default::default()
                },
                VolumeProjection {
                    downward_api: Some(DownwardAPIProjection {
                        items: Some(vec![DownwardAPIVolumeFile {
                            path: "namespace".into(),
                            field_ref: Some(ObjectFieldSelector {
                                api_version: Some("v1".into()),
                                field_path: "metadata.namespace".into(),
                            }),
                            ..Default::default()
                        }]),
                    }),
                    ..Default::default()
                },
            ]),
        }),
        ..Default::default()
    }
}

/// Whether `c` already mounts something at [`TOKEN_MOUNT_PATH`] (which keeps the token out).
pub fn has_token_mount(c: &Container) -> bool {
    c.volume_mounts
        .iter()
        .flatten()
        .any(|m| m.mount_path == TOKEN_MOUNT_PATH)
}

/// What the `ServiceAccount` plugin gives a pod: the token volume's name, and whether the
/// volume is still to be added (a volume named `kube-api-access-…` already there is reused).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenMount {
    /// The volume every container without a mount at the path mounts.
    pub volume: String,
    /// Whether the pod lacks the volume itself.
    pub add_volume: bool,
}

/// `shouldAutomount` and `mountServiceAccountToken` as a plan for the pod named `pod`: `None`
/// when the pod opts out or every container already mounts something at the path.
pub fn token_mount(spec: &PodSpec, pod: &str) -> Option<TokenMount> {
    if spec.automount_service_account_token == Some(false) {
        return None;
    }
    let needed = spec
        .init_containers
        .iter()
        .flatten()
        .chain(&spec.containers)
        .any(|c| !has_token_mount(c));
    if !needed {
        return None;
    }
    let existing = spec
        .volumes
        .iter()
        .flatten()
        .find(|v| v.name.starts_with(TOKEN_VOLUME_PREFIX));
    Some(match existing {
        Some(v) => TokenMount {
            volume: v.name.clone(),
            add_volume: false,
        },
        None => TokenMount {
            volume: token_volume_name(pod),
            add_volume: true,
        },
    })
}

/// The read-only mount of the token volume every container without one gets.
pub fn token_volume_mount(volume: &str) -> VolumeMount {
    VolumeMount {
        name: volume.into(),
        read_only: Some(true),
        mount_path: TOKEN_MOUNT_PATH.into(),
        ..Default::default()
    }
}

/// Runs the three plugins over the spec of the pod named `pod`.
pub fn admit_pod(spec: &mut PodSpec, pod: &str) {
    if spec.priority.is_none() && spec.priority_class_name.as_deref().unwrap_or("").is_empty() {
        spec.priority = Some(0);
    }
    if spec
        .service_account_name
        .as_deref()
        .unwrap_or("")
        .is_empty()
    {
        let sa = spec
            .service_account
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "default".into());
        spec.service_account_name = Some(sa);
    }
    spec.service_account.clone_from(&spec.service_account_name);
    if let Some(plan) = token_mount(spec, pod) {
        let mount = token_volume_mount(&plan.volume);
        for c in spec
            .init_containers
            .iter_mut()
            .flatten()
            .chain(spec.containers.iter_mut())
        {
            if !has_token_mount(c) {
                c.volume_mounts.get_or_insert_default().push(mount.clone());
            }
        }
        if plan.add_volume {
            spec.volumes
                .get_or_insert_default()
                .push(token_volume(plan.volume));
        }
    }
    crate::controller::taint::default_toleration_seconds(spec);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_pod_gets_priority_account_and_tolerations() {
        let mut s = PodSpec::default();
        admit_pod(&mut s, "web");
        assert_eq!(s.priority, Some(0));
        assert_eq!(s.service_account_name.as_deref(), Some("default"));
        assert_eq!(s.service_account.as_deref(), Some("default"));
        assert_eq!(s.tolerations.as_ref().map(Vec::len), Some(2));
        let once = s.clone();
        admit_pod(&mut s, "web");
        assert_eq!(s, once, "idempotent");
    }

    #[test]
    fn a_named_account_and_class_are_kept() {
        let mut s = PodSpec {
            service_account_name: Some("builder".into()),
            priority_class_name: Some("high".into()),
            ..Default::default()
        };
        admit_pod(&mut s, "web");
        assert_eq!(s.priority, None);
        assert_eq!(s.service_account.as_deref(), Some("builder"));
    }

    fn two_containers() -> PodSpec {
        PodSpec {
            init_containers: Some(vec![Container {
                name: "init".into(),
                ..Default::default()
            }]),
            containers: vec![
                Container {
                    name: "app".into(),
                    ..Default::default()
                },
                Container {
                    name: "side".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        }
    }

    fn mounts(c: &Container) -> Vec<(String, String, Option<bool>)> {
        c.volume_mounts
            .iter()
            .flatten()
            .map(|m| (m.name.clone(), m.mount_path.clone(), m.read_only))
            .collect()
    }

    #[test]
    fn every_container_gets_the_token_volume_read_only() {
        let mut s = two_containers();
        admit_pod(&mut s, "web-1");
        let vols = s.volumes.clone().unwrap_or_default();
        assert_eq!(vols.len(), 1);
        let name = vols[0].name.clone();
        assert!(
            name.starts_with("kube-api-access-") && name.len() == 21,
            "{name}"
        );
        let p = vols[0].projected.clone().expect("projected");
        assert_eq!(p.default_mode, Some(420));
        let srcs = p.sources.unwrap_or_default();
        assert_eq!(
            srcs[0]
                .service_account_token
                .as_ref()
                .map(|t| (t.path.as_str(), t.expiration_seconds)),
            Some(("token", Some(3607)))
        );
        let cm = srcs[1].config_map.as_ref().expect("configMap");
        assert_eq!(cm.name, "kube-root-ca.crt");
        assert_eq!(
            cm.items.as_ref().map(|i| i[0].path.as_str()),
            Some("ca.crt")
        );
        let d = srcs[2].downward_api.as_ref().expect("downwardAPI");
        let item = &d.items.as_ref().expect("items")[0];
        assert_eq!(item.path, "namespace");
        assert_eq!(
            item.field_ref.as_ref().map(|f| f.field_path.as_str()),
            Some("metadata.namespace")
        );
        let want = vec![(name.clone(), TOKEN_MOUNT_PATH.to_string(), Some(true))];
        for c in s.init_containers.iter().flatten().chain(&s.containers) {
            assert_eq!(mounts(c), want, "{}", c.name);
        }
        let once = s.clone();
        admit_pod(&mut s, "web-1");
        assert_eq!(s, once, "idempotent on update");
    }

    #[test]
    fn the_volume_name_is_stable_for_a_pod_and_differs_between_pods() {
        let (mut a, mut a2, mut b) = (two_containers(), two_containers(), two_containers());
        admit_pod(&mut a, "web-1");
        admit_pod(&mut a2, "web-1");
        admit_pod(&mut b, "web-2");
        let name = |s: &PodSpec| s.volumes.as_ref().map(|v| v[0].name.clone());
        assert_eq!(name(&a), name(&a2));
        assert_ne!(name(&a), name(&b));
    }

    #[test]
    fn automount_false_gets_no_token() {
        let mut s = PodSpec {
            automount_service_account_token: Some(false),
            ..two_containers()
        };
        admit_pod(&mut s, "web-1");
        assert_eq!(s.volumes, None);
        assert!(s.containers.iter().all(|c| c.volume_mounts.is_none()));
    }

    #[test]
    fn a_mount_at_the_path_keeps_the_token_out_of_that_container() {
        let own = VolumeMount {
            name: "mine".into(),
            mount_path: TOKEN_MOUNT_PATH.into(),
            ..Default::default()
        };
        let mut s = PodSpec {
            containers: vec![Container {
                name: "app".into(),
                volume_mounts: Some(vec![own.clone()]),
                ..Default::default()
            }],
            ..Default::default()
        };
        admit_pod(&mut s, "web-1");
        assert_eq!(s.volumes, None, "no container needs the token");
        assert_eq!(s.containers[0].volume_mounts, Some(vec![own.clone()]));

        // With a second container that lacks it, only that one gets the mount.
        let mut s = PodSpec {
            containers: vec![
                s.containers[0].clone(),
                Container {
                    name: "side".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        admit_pod(&mut s, "web-1");
        assert_eq!(s.volumes.as_ref().map(Vec::len), Some(1));
        assert_eq!(s.containers[0].volume_mounts, Some(vec![own]));
        assert_eq!(
            s.containers[1].volume_mounts.as_ref().map(Vec::len),
            Some(1)
        );
    }
}
