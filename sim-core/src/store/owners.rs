//! The owner graph: who owns whom, for cascading deletion (the garbage collector's graph).

use petgraph::Direction;
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use std::collections::BTreeMap;

use super::ObjId;

/// Directed edges owner → dependent, over object ids. `StableGraph` keeps indices valid when
/// nodes are removed, and every walk is sorted by id so results never depend on insertion order.
#[derive(Debug, Default)]
pub struct OwnerGraph {
    graph: StableDiGraph<ObjId, ()>,
    index: BTreeMap<ObjId, NodeIndex>,
    /// Each owner's direct dependents, sorted by id, kept as edges change: controllers ask
    /// for them on every sync, and collecting and sorting the graph's neighbours each time
    /// was a measurable share of a large run.
    sorted: BTreeMap<ObjId, Vec<ObjId>>,
}

impl OwnerGraph {
    fn node(&mut self, id: ObjId) -> NodeIndex {
        if let Some(&ix) = self.index.get(&id) {
            return ix;
        }
        let ix = self.graph.add_node(id);
        self.index.insert(id, ix);
        ix
    }

    /// Records that `owner` owns `dependent` (idempotent).
    pub fn link(&mut self, owner: ObjId, dependent: ObjId) {
        let (o, d) = (self.node(owner), self.node(dependent));
        if self.graph.find_edge(o, d).is_none() {
            self.graph.add_edge(o, d, ());
            let list = self.sorted.entry(owner).or_default();
            if let Err(at) = list.binary_search(&dependent) {
                list.insert(at, dependent);
            }
        }
    }

    /// Removes the edge `owner` → `dependent` (orphaning or release).
    pub fn unlink(&mut self, owner: ObjId, dependent: ObjId) {
        if let (Some(&o), Some(&d)) = (self.index.get(&owner), self.index.get(&dependent))
            && let Some(e) = self.graph.find_edge(o, d)
        {
            self.graph.remove_edge(e);
            self.forget_edge(owner, dependent);
        }
    }

    fn forget_edge(&mut self, owner: ObjId, dependent: ObjId) {
        if let Some(list) = self.sorted.get_mut(&owner) {
            if let Ok(at) = list.binary_search(&dependent) {
                list.remove(at);
            }
            if list.is_empty() {
                self.sorted.remove(&owner);
            }
        }
    }

    /// Forgets an object and every edge touching it.
    pub fn remove(&mut self, id: ObjId) {
        if let Some(ix) = self.index.remove(&id) {
            let owners: Vec<ObjId> = self
                .graph
                .neighbors_directed(ix, Direction::Incoming)
                .map(|n| self.graph[n])
                .collect();
            for owner in owners {
                self.forget_edge(owner, id);
            }
            self.sorted.remove(&id);
            self.graph.remove_node(ix);
        }
    }

    /// The direct dependents of `owner`, sorted by id.
    pub fn dependents(&self, owner: ObjId) -> Vec<ObjId> {
        self.dependents_sorted(owner).to_vec()
    }

    /// The direct dependents of `owner`, sorted by id, without a copy.
    pub fn dependents_sorted(&self, owner: ObjId) -> &[ObjId] {
        self.sorted.get(&owner).map_or(&[], Vec::as_slice)
    }

    /// Number of direct dependents.
    pub fn dependent_count(&self, owner: ObjId) -> usize {
        self.dependents_sorted(owner).len()
    }

    /// Every transitive dependent of `owner` (not `owner` itself), deepest last, sorted per level.
    pub fn descendants(&self, owner: ObjId) -> Vec<ObjId> {
        let mut out = Vec::new();
        let mut frontier = vec![owner];
        while !frontier.is_empty() {
            let mut next = Vec::new();
            for id in frontier {
                next.extend(self.dependents(id));
            }
            next.sort_unstable();
            next.dedup();
            out.extend(next.iter().copied());
            frontier = next;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cascade_walks_the_whole_tree() {
        let mut g = OwnerGraph::default();
        g.link(1, 3);
        g.link(1, 2);
        g.link(2, 10);
        g.link(3, 11);
        g.link(3, 11);
        assert_eq!(g.dependents(1), vec![2, 3]);
        assert_eq!(g.descendants(1), vec![2, 3, 10, 11]);
        g.unlink(3, 11);
        assert_eq!(g.descendants(1), vec![2, 3, 10]);
        g.remove(2);
        assert_eq!(g.descendants(1), vec![3]);
        assert_eq!(g.dependent_count(1), 1);
        assert_eq!(g.dependents(3), Vec::<ObjId>::new());
        g.link(3, 12);
        g.remove(12);
        assert_eq!(g.dependents(3), Vec::<ObjId>::new());
    }
}
