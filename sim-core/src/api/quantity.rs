//! Resource quantities (interim).

use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;

/// Why a quantity is invalid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)]
pub struct QuantityError;

fn milli(q: &str) -> Result<i64, QuantityError> {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(q.len());
    let n: f64 = q[..split].parse().map_err(|_| QuantityError)?;
    let f = match &q[split..] {
        "" => 1.0,
        "m" => 0.001,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1048576.0,
        "Gi" => 1073741824.0,
        "Ti" => 1099511627776.0,
        _ => return Err(QuantityError),
    };
    Ok((n * f * 1000.0).ceil() as i64)
}

/// CPU in millicores.
pub fn cpu_millis(q: &K8sQuantity) -> Result<i64, QuantityError> {
    milli(&q.0)
}

/// Memory in bytes.
pub fn memory_bytes(q: &K8sQuantity) -> Result<i64, QuantityError> {
    Ok((milli(&q.0)? + 999) / 1000)
}
