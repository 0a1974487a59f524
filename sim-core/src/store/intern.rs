//! Interning pools looked up by a hash of the value: one pass over the value and a few
//! integer comparisons per lookup, where an ordered set of strings walks a dozen string
//! comparisons down its tree (S2 interns a wording for every event it records).
//! The hash is FNV-1a (64 bits), so a run is the same on every machine; it decides only
//! where a value is kept, never an order anything is read in.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Shared copies of values, found by content.
#[derive(Debug)]
pub(crate) struct Pool<T: ?Sized> {
    /// The first value with each hash.
    first: BTreeMap<u64, Arc<T>>,
    /// Further values whose hash an earlier one has (almost never any).
    more: BTreeMap<u64, Vec<Arc<T>>>,
    len: usize,
}

impl<T: ?Sized> Default for Pool<T> {
    fn default() -> Self {
        Pool {
            first: BTreeMap::new(),
            more: BTreeMap::new(),
            len: 0,
        }
    }
}

impl<T: ?Sized + Hash + Eq> Pool<T> {
    /// The pooled copy equal to `value`, if there is one.
    pub(crate) fn get(&self, value: &T) -> Option<&Arc<T>> {
        let h = hash(value);
        let first = self.first.get(&h)?;
        if **first == *value {
            return Some(first);
        }
        self.more.get(&h)?.iter().find(|v| ***v == *value)
    }

    /// Pools `value` (not pooled yet).
    pub(crate) fn insert(&mut self, value: Arc<T>) {
        match self.first.entry(hash(&*value)) {
            Entry::Vacant(v) => {
                v.insert(value);
            }
            Entry::Occupied(o) => self.more.entry(*o.key()).or_default().push(value),
        }
        self.len += 1;
    }

    /// How many values are pooled.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Forgets the values nothing else holds any more.
    pub(crate) fn retain_used(&mut self) {
        let used = |v: &Arc<T>| Arc::strong_count(v) > 1;
        self.more.retain(|_, vs| {
            vs.retain(used);
            !vs.is_empty()
        });
        self.first.retain(|_, v| used(v));
        // A hash whose first value went keeps its next one first.
        let orphans: Vec<u64> = self
            .more
            .keys()
            .copied()
            .filter(|h| !self.first.contains_key(h))
            .collect();
        for h in orphans {
            if let Some(mut vs) = self.more.remove(&h) {
                let head = vs.remove(0);
                self.first.insert(h, head);
                if !vs.is_empty() {
                    self.more.insert(h, vs);
                }
            }
        }
        self.len = self.first.len() + self.more.values().map(Vec::len).sum::<usize>();
    }
}

fn hash<T: ?Sized + Hash>(value: &T) -> u64 {
    let mut h = Fnv64(FNV_OFFSET);
    value.hash(&mut h);
    h.finish()
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a, 64 bits.
struct Fnv64(u64);

impl Hasher for Fnv64 {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_share_one_copy_and_unused_ones_go() {
        let mut pool: Pool<str> = Pool::default();
        assert!(pool.get("a").is_none());
        pool.insert(Arc::from("a"));
        pool.insert(Arc::from("b"));
        let a = pool.get("a").cloned().expect("pooled");
        assert_eq!(&*a, "a");
        assert_eq!(pool.len(), 2);
        pool.retain_used();
        assert_eq!(pool.len(), 1);
        assert!(pool.get("b").is_none());
        assert!(Arc::ptr_eq(pool.get("a").expect("held"), &a));
    }

    /// A value whose hash is the same for all.
    #[derive(Debug, PartialEq, Eq)]
    struct Colliding(u32);

    impl Hash for Colliding {
        fn hash<H: Hasher>(&self, state: &mut H) {
            state.write_u8(7);
        }
    }

    #[test]
    fn values_with_one_hash_are_told_apart() {
        let mut pool: Pool<Colliding> = Pool::default();
        let (a, b, c) = (Arc::new(Colliding(1)), Arc::new(Colliding(2)), Colliding(3));
        pool.insert(a.clone());
        pool.insert(b.clone());
        assert!(Arc::ptr_eq(pool.get(&Colliding(1)).expect("first"), &a));
        assert!(Arc::ptr_eq(pool.get(&Colliding(2)).expect("second"), &b));
        assert!(pool.get(&c).is_none());
        // The first goes; the second is still found.
        drop(a);
        pool.retain_used();
        assert_eq!(pool.len(), 1);
        assert!(Arc::ptr_eq(pool.get(&Colliding(2)).expect("second"), &b));
        assert!(pool.get(&Colliding(1)).is_none());
    }

    #[test]
    fn fnv_1a_matches_its_reference_values() {
        let mut h = Fnv64(FNV_OFFSET);
        h.write(b"a");
        assert_eq!(h.finish(), 0xaf63_dc4c_8601_ec8c);
    }
}
