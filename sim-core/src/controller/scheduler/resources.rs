//! NodeResourcesFit's LeastAllocated score and NodeResourcesBalancedAllocation over CPU and
//! memory, and the framework's `DefaultNormalizeScore`. Port of
//! `pkg/scheduler/framework/plugins/noderesources` (`least_allocated.go`,
//! `balanced_allocation.go`, `resource_allocation.go`) and `plugins/helper/normalize_score.go`.

/// `framework.MaxNodeScore`.
pub(crate) const MAX_NODE_SCORE: i64 = 100;

/// `leastRequestedScore`: the unused share of one resource, 0–100 (0 when over capacity).
fn least_requested(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    (capacity - requested) * MAX_NODE_SCORE / capacity
}

/// `leastResourceScorer` over CPU and memory with weight 1 each; `requested` counts every pod
/// on the node and this one, with the default requests for containers that ask for none.
pub(crate) fn least_allocated(requested: (i64, i64), allocatable: (i64, i64)) -> i64 {
    (least_requested(requested.0, allocatable.0) + least_requested(requested.1, allocatable.1)) / 2
}

/// `balancedResourceScorer` over CPU and memory: `(1 - std) * 100` where the standard
/// deviation of two fractions is half their difference (each capped at 1; a resource the node
/// has none of is left out). Counts the requests as they are (`useRequested`), not the
/// scheduler's defaults.
pub(crate) fn balanced_allocation(requested: (i64, i64), allocatable: (i64, i64)) -> i64 {
    let mut fractions = [0f64; 2];
    let mut n = 0;
    for (r, a) in [(requested.0, allocatable.0), (requested.1, allocatable.1)] {
        if a == 0 {
            continue;
        }
        fractions[n] = (r as f64 / a as f64).min(1.0);
        n += 1;
    }
    let std = if n == 2 {
        ((fractions[0] - fractions[1]) / 2.0).abs()
    } else {
        0.0
    };
    ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
}

/// `DefaultNormalizeScore`: scale to 0–`MAX_NODE_SCORE` by the highest score; reversed, the
/// highest scores 0. All zero stays zero, or becomes `MAX_NODE_SCORE` when reversed.
pub(crate) fn default_normalize(scores: impl Iterator<Item = i64>, reverse: bool) -> Normalizer {
    let max = scores.max().unwrap_or(0);
    Normalizer { max, reverse }
}

/// The normalisation `default_normalize` found, applied one score at a time (so a pass over
/// the feasible nodes needs no second buffer).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Normalizer {
    max: i64,
    reverse: bool,
}

impl Normalizer {
    pub(crate) fn apply(self, score: i64) -> i64 {
        if self.max == 0 {
            return if self.reverse { MAX_NODE_SCORE } else { score };
        }
        let s = MAX_NODE_SCORE * score / self.max;
        if self.reverse { MAX_NODE_SCORE - s } else { s }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // least_allocated_test.go, "nothing scheduled, resources requested, differently sized
    // nodes": cpu 3000/4000 and memory 5000/10000 score (25+50)/2 = 37; on the 6000/10000
    // node (50+50)/2 = 50.
    #[test]
    fn least_allocated_table() {
        assert_eq!(least_allocated((3000, 5000), (4000, 10000)), 37);
        assert_eq!(least_allocated((3000, 5000), (6000, 10000)), 50);
        // "resources requested with more than the node": the over-committed resource scores 0.
        assert_eq!(least_allocated((8000, 5000), (4000, 10000)), 25);
        assert_eq!(least_allocated((0, 0), (4000, 10000)), 100);
        assert_eq!(least_allocated((100, 0), (0, 10000)), 50);
    }

    // balanced_allocation_test.go: "nothing scheduled, resources requested, differently sized
    // nodes": cpu 3000/4000 = 0.75 and memory 5000/10000 = 0.5, std 0.125, score 87; on the
    // 6000/10000 node cpu 0.5 and memory 0.5, score 100.
    #[test]
    fn balanced_allocation_table() {
        assert_eq!(balanced_allocation((3000, 5000), (4000, 10000)), 87);
        assert_eq!(balanced_allocation((3000, 5000), (6000, 10000)), 100);
        // "requested resources at node capacity": both fractions capped at 1.
        assert_eq!(balanced_allocation((6000, 10000), (4000, 10000)), 100);
        // cpu 0.6, memory 0.25: std 0.175, score 82.
        assert_eq!(balanced_allocation((3000, 5000), (5000, 20000)), 82);
        // A resource the node lacks is left out: one fraction, std 0.
        assert_eq!(balanced_allocation((3000, 5000), (0, 20000)), 100);
    }

    // normalize_score_test.go's TestDefaultNormalizeScore.
    #[test]
    fn default_normalize_table() {
        let run = |scores: &[i64], reverse: bool| -> Vec<i64> {
            let n = default_normalize(scores.iter().copied(), reverse);
            scores.iter().map(|s| n.apply(*s)).collect()
        };
        assert_eq!(run(&[1, 2, 3, 4, 5], false), vec![20, 40, 60, 80, 100]);
        assert_eq!(run(&[1, 2, 3, 4, 5], true), vec![80, 60, 40, 20, 0]);
        assert_eq!(run(&[1000, 10, 20, 30], false), vec![100, 1, 2, 3]);
        assert_eq!(run(&[1000, 10, 20, 30], true), vec![0, 99, 98, 97]);
        assert_eq!(run(&[1, 1, 1, 1], false), vec![100, 100, 100, 100]);
        assert_eq!(run(&[1, 1, 1, 1], true), vec![0, 0, 0, 0]);
        assert_eq!(run(&[0, 0, 0, 0], false), vec![0, 0, 0, 0]);
        assert_eq!(run(&[0, 0, 0, 0], true), vec![100, 100, 100, 100]);
    }
}
