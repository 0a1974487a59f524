//! `kubectl get pdb`: `printPodDisruptionBudget` of `pkg/printers/internalversion/printers.go`.

use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::Timestamp;

use super::GetOptions;
use super::duration::age;
use super::get::{Column, Row, print_table};
use super::util::s;

/// `kubectl get poddisruptionbudgets`: NAME, MIN AVAILABLE, MAX UNAVAILABLE, ALLOWED
/// DISRUPTIONS, AGE; an unset bound is `N/A`.
pub fn get_pdbs(pdbs: &[PodDisruptionBudget], opts: &GetOptions, now: Timestamp) -> String {
    const COLUMNS: &[Column] = &[
        ("Name", false),
        ("Min Available", false),
        ("Max Unavailable", false),
        ("Allowed Disruptions", false),
        ("Age", false),
    ];
    let bound = |v: Option<&IntOrString>| match v {
        Some(IntOrString::Int(i)) => i.to_string(),
        Some(IntOrString::String(s)) => s.clone(),
        None => "N/A".into(),
    };
    let rows = pdbs
        .iter()
        .map(|p| {
            let spec = p.spec.as_ref();
            Row {
                meta: &p.metadata,
                cells: vec![
                    s(&p.metadata.name).to_string(),
                    bound(spec.and_then(|s| s.min_available.as_ref())),
                    bound(spec.and_then(|s| s.max_unavailable.as_ref())),
                    p.status
                        .as_ref()
                        .map_or(0, |s| s.disruptions_allowed)
                        .to_string(),
                    age(p.metadata.creation_timestamp.as_ref(), now),
                ],
            }
        })
        .collect();
    print_table(COLUMNS, rows, 0, "poddisruptionbudget.policy", opts)
}
