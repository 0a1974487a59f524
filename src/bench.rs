//! `kubesim bench`: fixed scenarios, timed.

use anyhow::Result;

/// Runs the benchmark scenarios.
pub(crate) fn run(_only: &[String]) -> Result<()> {
    anyhow::bail!("kubesim bench is not built yet")
}
