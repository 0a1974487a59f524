//! `kubectl get leases`: `printLease` of `pkg/printers/internalversion/printers.go`.

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::jiff::Timestamp;

use super::GetOptions;
use super::duration::age;
use super::get::{Column, Row, print_table};
use super::util::s;

/// `kubectl get leases`: NAME, HOLDER, AGE.
pub fn get_leases(leases: &[Lease], opts: &GetOptions, now: Timestamp) -> String {
    const COLUMNS: &[Column] = &[("Name", false), ("Holder", false), ("Age", false)];
    let rows = leases
        .iter()
        .map(|l| Row {
            meta: &l.metadata,
            cells: vec![
                s(&l.metadata.name).to_string(),
                l.spec
                    .as_ref()
                    .and_then(|s| s.holder_identity.clone())
                    .unwrap_or_default(),
                age(l.metadata.creation_timestamp.as_ref(), now),
            ],
        })
        .collect();
    print_table(COLUMNS, rows, 0, "lease.coordination.k8s.io", opts)
}
