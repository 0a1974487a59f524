//! Interning pools looked up by a hash of the value: one pass over the value and one probe
//! of a hash table per lookup, where an ordered set of strings walks a dozen string
//! comparisons down its tree (S2 interns a wording for every event it records).
//! The hash is FNV-1a (64 bits) with no random key, and the table is an `IndexSet`, so a run
//! is the same on every machine; the pool is never iterated for output, only looked up and
//! pruned.

use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::Arc;

use indexmap::IndexSet;

/// Shared copies of values, found by content.
#[derive(Debug)]
pub(crate) struct Pool<T: ?Sized> {
    set: IndexSet<Arc<T>, BuildHasherDefault<Fnv64>>,
}

impl<T: ?Sized> Default for Pool<T> {
    fn default() -> Self {
        Pool {
            set: IndexSet::default(),
        }
    }
}

impl<T: ?Sized + Hash + Eq> Pool<T> {
    /// The pooled copy equal to `value`, if there is one.
    pub(crate) fn get(&self, value: &T) -> Option<&Arc<T>> {
        self.set.get(value)
    }

    /// Pools `value` (not pooled yet).
    pub(crate) fn insert(&mut self, value: Arc<T>) {
        self.set.insert(value);
    }

    /// How many values are pooled.
    pub(crate) fn len(&self) -> usize {
        self.set.len()
    }

    /// Forgets the values nothing else holds any more.
    pub(crate) fn retain_used(&mut self) {
        self.set.retain(|v| Arc::strong_count(v) > 1);
    }
}

/// FNV-1a of the concatenation of `parts` (a message's hash, for keys that must not hold it).
pub(crate) fn fnv64(parts: &[&[u8]]) -> u64 {
    let mut h = Fnv64::default();
    for p in parts {
        h.write(p);
    }
    h.finish()
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a, 64 bits.
#[derive(Debug)]
struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64(FNV_OFFSET)
    }
}

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
