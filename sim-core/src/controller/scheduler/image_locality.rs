//! The ImageLocality plugin: a node that already has the pod's images scores higher, by their
//! size scaled by how many nodes have them (so one node holding a rare image does not draw every
//! pod). Port of `pkg/scheduler/framework/plugins/imagelocality/image_locality.go`. How many
//! nodes hold each image is kept as the kubelets pull ([`super::SchedSnapshot`]).

use std::collections::BTreeMap;

const MB: i64 = 1024 * 1024;
/// `minThreshold`: images smaller than this in all score nothing.
const MIN_THRESHOLD: i64 = 23 * MB;
/// `maxContainerThreshold`: per container, the sum at which the score is 100.
const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MB;

/// The pod's images that some node has: (normalised name, size, nodes that have it).
#[derive(Debug, Default)]
pub(crate) struct PodImages {
    images: Vec<(String, i64, u32)>,
    containers: i64,
    total_nodes: usize,
}

impl PodImages {
    /// `images`: each container's normalised image with its size; `image_nodes`: how many
    /// nodes have each image.
    pub(crate) fn new(
        images: Vec<(String, i64)>,
        image_nodes: &BTreeMap<String, u32>,
        total_nodes: usize,
    ) -> PodImages {
        let containers = images.len() as i64;
        PodImages {
            images: images
                .into_iter()
                .filter_map(|(name, size)| {
                    let n = *image_nodes.get(&name)?;
                    Some((name, size, n))
                })
                .collect(),
            containers,
            total_nodes,
        }
    }

    /// Whether any node has one of the pod's images (else every node scores 0).
    pub(crate) fn any(&self) -> bool {
        !self.images.is_empty()
    }

    /// The score every node gets when each of the pod's images is on every node (the common
    /// case once an image has been pulled across the cluster): then no node needs looking at.
    pub(crate) fn uniform(&self) -> Option<i64> {
        self.images
            .iter()
            .all(|(_, _, nodes)| *nodes as usize >= self.total_nodes)
            .then(|| self.score(|_| true))
    }

    /// `Score` for a node holding the images `has` says it holds.
    pub(crate) fn score(&self, has: impl Fn(&str) -> bool) -> i64 {
        let sum: i64 = self
            .images
            .iter()
            .filter(|(name, _, _)| has(name))
            .map(|(_, size, nodes)| scaled_image_score(*size, *nodes, self.total_nodes))
            .sum();
        calculate_priority(sum, self.containers)
    }
}

/// `scaledImageScore`: the size times the share of nodes that have the image.
fn scaled_image_score(size: i64, num_nodes: u32, total_nodes: usize) -> i64 {
    let spread = f64::from(num_nodes) / total_nodes.max(1) as f64;
    (size as f64 * spread) as i64
}

/// `calculatePriority`: the sum clamped between the thresholds, scaled to 0–100.
fn calculate_priority(sum: i64, containers: i64) -> i64 {
    let max = MAX_CONTAINER_THRESHOLD * containers.max(1);
    let sum = sum.clamp(MIN_THRESHOLD, max);
    super::resources::MAX_NODE_SCORE * (sum - MIN_THRESHOLD) / (max - MIN_THRESHOLD)
}

#[cfg(test)]
mod tests {
    use super::*;

    // image_locality_test.go's TestImageLocalityPriority: "two images spread on two nodes,
    // prefer the larger image one": a 250 MB image on one node of two scores
    // 100 * (125 MB − 23 MB) / (1000 MB − 23 MB) = 10; a 10 MB one scores 0.
    #[test]
    fn larger_and_more_common_images_score_more() {
        assert_eq!(
            calculate_priority(scaled_image_score(250 * MB, 1, 2), 1),
            10
        );
        assert_eq!(calculate_priority(scaled_image_score(10 * MB, 1, 2), 1), 0);
        // "if exceed limit, use limit": 2000 MB on every node of one.
        assert_eq!(
            calculate_priority(scaled_image_score(2000 * MB, 1, 1), 1),
            100
        );
        // Two containers double the limit.
        assert_eq!(
            calculate_priority(scaled_image_score(1000 * MB, 1, 1), 2),
            49
        );
    }

    #[test]
    fn only_images_some_node_has_count() {
        let nodes: BTreeMap<String, u32> = [("docker.io/library/a:1".to_string(), 2)].into();
        let p = PodImages::new(
            vec![
                ("docker.io/library/a:1".into(), 500 * MB),
                ("docker.io/library/b:1".into(), 500 * MB),
            ],
            &nodes,
            2,
        );
        assert!(p.any());
        // 500 MB on both nodes, two containers: 100 * (500 − 23) / (2000 − 23) = 24.
        assert_eq!(p.score(|_| true), 24);
        assert_eq!(p.score(|_| false), 0);
        assert!(!PodImages::new(vec![], &nodes, 2).any());
    }
}
