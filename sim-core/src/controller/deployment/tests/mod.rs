//! Tables ported from kubernetes `pkg/controller/deployment/*_test.go` and
//! `pkg/controller/deployment/util/deployment_util_test.go`, one module per Go file.
//!
//! Each case builds a [`Sim`], puts the Deployment and its ReplicaSets into exactly the state
//! the Go case describes by writing the store, and calls the controller function under test
//! directly (no `settle()`), so the assertions see the controller's own writes: the
//! equivalent of the Go tests' recorded fake-client actions.

mod progress;
mod recreate;
mod rolling;
mod sync;
mod util;

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStatus, DeploymentStrategy, ReplicaSet, ReplicaSetSpec,
    RollingUpdateDeployment,
};
use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::SyncCtx;
use super::util as dutil;
use crate::sim::{Sim, SimConfig};
use crate::store::ObjId;
use crate::time::SimTime;

/// An int fencepost.
fn int(v: i32) -> IntOrString {
    IntOrString::Int(v)
}

/// A percentage fencepost.
fn pct(s: &str) -> IntOrString {
    IntOrString::String(s.into())
}

/// A pod template running `image`, labelled `foo=bar`.
fn template(image: &str) -> PodTemplateSpec {
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(BTreeMap::from([("foo".to_string(), "bar".to_string())])),
            ..Default::default()
        }),
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "app".into(),
                image: Some(image.into()),
                ..Default::default()
            }],
            ..Default::default()
        }),
    }
}

/// Go's `newDeployment("foo", replicas, nil, &maxSurge, &maxUnavailable, {"foo": "bar"})`.
/// Go's helper defaults both fenceposts to 0 (so the both-zero rule makes unavailable 1).
fn rolling(replicas: i32, surge: IntOrString, unavailable: IntOrString) -> Deployment {
    Deployment {
        metadata: ObjectMeta {
            name: Some("foo".into()),
            namespace: Some("default".into()),
            generation: Some(1),
            annotations: Some(BTreeMap::new()),
            ..Default::default()
        },
        spec: Some(DeploymentSpec {
            replicas: Some(replicas),
            selector: LabelSelector {
                match_labels: Some(BTreeMap::from([("foo".to_string(), "bar".to_string())])),
                ..Default::default()
            },
            strategy: Some(DeploymentStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateDeployment {
                    max_surge: Some(surge),
                    max_unavailable: Some(unavailable),
                }),
            }),
            template: template("foo/new"),
            ..Default::default()
        }),
        status: None,
    }
}

/// A Recreate Deployment (progress_test.go's `currentDeployment` is Recreate too).
fn recreate(replicas: i32) -> Deployment {
    let mut d = rolling(replicas, int(0), int(0));
    if let Some(s) = d.spec.as_mut() {
        s.strategy = Some(DeploymentStrategy {
            type_: Some("Recreate".into()),
            rolling_update: None,
        });
    }
    d
}

/// An API timestamp `secs` after virtual time zero of a default [`SimConfig`].
fn at(secs: u64) -> Time {
    let base = crate::sim::DEFAULT_EPOCH_UNIX_MS / 1000;
    let t = k8s_openapi::jiff::Timestamp::from_second(base + secs as i64)
        .expect("a timestamp near the default epoch");
    Time(t)
}

/// A simulated cluster holding one Deployment, and the sync context the controller functions
/// take.
struct Fx {
    sim: Sim,
    cx: SyncCtx,
}

impl Fx {
    /// Stores `d` without letting any controller run.
    fn new(d: Deployment) -> Fx {
        let mut sim = Sim::new(SimConfig::default());
        let id = sim.store.next_id();
        sim.store
            .deployments
            .insert(id, "default".into(), "foo".into(), (id, d.clone()));
        Fx {
            sim,
            cx: SyncCtx::new(id, &d, Vec::new()),
        }
    }

    /// The Deployment's stored status (the controller writes it in place).
    fn status(&self) -> DeploymentStatus {
        self.sim
            .deployment_status(self.cx.id)
            .cloned()
            .unwrap_or_default()
    }

    /// Go's `rs(name, replicas, selector, timestamp)`: an owned ReplicaSet of `replicas`,
    /// created `created_secs` after virtual time zero, with an old template, fully synced
    /// (observedGeneration == generation) and no pods yet.
    fn rs(&mut self, name: &str, replicas: i32, created_secs: u64) -> ObjId {
        let t = template(&format!("foo/{name}"));
        let id = self.sim.store.next_id();
        let rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                labels: t.metadata.as_ref().and_then(|m| m.labels.clone()),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(replicas),
                selector: LabelSelector::default(),
                template: Some(t.clone()),
                ..Default::default()
            }),
            status: None,
        };
        self.sim.insert_rs(id, rs, Arc::new(t), Some(self.cx.id));
        let created = self.time(created_secs);
        self.edit(id, |rs| {
            rs.metadata.creation_timestamp = Some(created);
            rs.status
                .get_or_insert_with(Default::default)
                .observed_generation = rs.metadata.generation;
        });
        self.cx.rs_list.push(id);
        id
    }

    /// Like [`Fx::rs`] with status counts: Go's `newRSWithStatus` / `newRSWithAvailable`.
    fn rs_with_status(&mut self, name: &str, spec: i32, replicas: i32, available: i32) -> ObjId {
        let id = self.rs(name, spec, 0);
        self.edit(id, |rs| {
            let s = rs.status.get_or_insert_with(Default::default);
            s.replicas = replicas;
            s.available_replicas = Some(available);
        });
        id
    }

    /// Changes a stored ReplicaSet in place (the test's "informer cache").
    fn edit(&mut self, id: ObjId, f: impl FnOnce(&mut ReplicaSet)) {
        let e = self
            .sim
            .store
            .replicasets
            .get_mut(id)
            .expect("the fixture created this ReplicaSet");
        f(&mut e.rs);
    }

    /// Sets an annotation on a ReplicaSet.
    fn annotate(&mut self, id: ObjId, key: &str, value: &str) {
        self.edit(id, |rs| {
            rs.metadata
                .annotations
                .get_or_insert_with(BTreeMap::new)
                .insert(key.into(), value.into());
        });
    }

    /// A ReplicaSet's spec.replicas; `None` once it was deleted.
    fn spec(&self, id: ObjId) -> Option<i32> {
        self.sim.rs_obj(id).map(dutil::rs_replicas)
    }

    /// An API timestamp `secs` after virtual time zero.
    fn time(&self, secs: u64) -> Time {
        self.sim.store.time(SimTime(secs * 1000))
    }
}
