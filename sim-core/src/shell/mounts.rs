//! The files a container's volumes mount, for the shell's file view ([`super::fs`]).
//!
//! This is the one place volumes plug into `kubectl exec`: a ConfigMap, Secret, downwardAPI or
//! projected volume adds its files here, at `volumeMounts[].mountPath` (with `subPath` and
//! `items[].path` applied), as the kubelet's volume plugins write them.

use crate::sim::Sim;
use crate::store::ObjId;

impl Sim {
    /// The files the volumes of container `ci` of `pod` mount, as (absolute path, content).
    /// No volume kind writes files yet, so there are none.
    pub fn volume_files(&self, pod: ObjId, ci: usize) -> Vec<(String, Vec<u8>)> {
        let _ = (pod, ci);
        Vec::new()
    }
}
