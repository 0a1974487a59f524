//! The simulation's one source of randomness: a seeded ChaCha8 generator, whose output is
//! the same on every platform and every rand release.

use rand::{Rng, SeedableRng, rngs::ChaCha8Rng};

/// The alphabet Kubernetes uses for generated name suffixes and template hashes
/// (`k8s.io/apimachinery/pkg/util/rand`): no vowels, no confusable digits.
pub const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// One seeded generator; every random choice of a run draws from it, in a fixed order.
#[derive(Debug)]
pub struct SimRng {
    rng: ChaCha8Rng,
    seed: u64,
}

impl SimRng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> SimRng {
        SimRng {
            rng: ChaCha8Rng::seed_from_u64(seed),
            seed,
        }
    }

    /// The seed this generator started from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// A uniform number in `0..n` (n > 0), without modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let x = self.rng.next_u64();
            if x < zone {
                return x % n;
            }
        }
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        // 53 random bits give a uniform float in [0, 1).
        let x = (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        x < p
    }

    /// Five characters from [`NAME_ALPHABET`], as `generateName` appends to a pod's name.
    pub fn name_suffix(&mut self) -> String {
        (0..5)
            .map(|_| NAME_ALPHABET[self.below(NAME_ALPHABET.len() as u64) as usize] as char)
            .collect()
    }
}

/// A UID for object number `id` of a run with `seed`: a version-4-shaped UUID derived by
/// hashing, so UIDs cost no storage and draw nothing from the generator.
pub fn uid_for(seed: u64, id: u64) -> String {
    let a = splitmix64(seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let b = splitmix64(a ^ id);
    let a = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x4000;
    let b = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0xFFFF,
        b >> 48,
        b & 0xFFFF_FFFF_FFFF
    )
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-32a, the hash Kubernetes' `ComputeHash` uses for pod-template-hash.
pub fn fnv32a(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// `rand.SafeEncodeString(fmt.Sprint(hash))`: the decimal digits mapped into the alphabet.
pub fn safe_encode(hash: u32) -> String {
    hash.to_string()
        .bytes()
        .map(|d| NAME_ALPHABET[(d as usize) % NAME_ALPHABET.len()] as char)
        .collect()
}

/// A 64-bit hash of some words (SplitMix64 finalizer over each): seeds that depend on what
/// they are for, not on how many draws came before.
pub fn mix64(words: &[u64]) -> u64 {
    let mut h: u64 = 0x243F_6A88_85A3_08D3;
    for &w in words {
        h ^= w;
        h = h.wrapping_add(0x9E37_79B9_7F4A_7C15);
        h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h ^= h >> 31;
    }
    h
}

/// Five characters from [`NAME_ALPHABET`] derived from `key` by hashing: a generated-looking
/// suffix that is the same whenever it is derived for the same object, so it costs no storage
/// and draws nothing from the generator.
pub fn hashed_suffix(key: &[u8]) -> String {
    let words: Vec<u64> = key
        .chunks(8)
        .map(|c| {
            let mut b = [0u8; 8];
            b[..c.len()].copy_from_slice(c);
            u64::from_le_bytes(b)
        })
        .chain(std::iter::once(key.len() as u64))
        .collect();
    let mut h = mix64(&words);
    let n = NAME_ALPHABET.len() as u64;
    (0..5)
        .map(|_| {
            let c = NAME_ALPHABET[(h % n) as usize] as char;
            h /= n;
            c
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_draws() {
        let mut a = SimRng::new(7);
        let mut b = SimRng::new(7);
        let xs: Vec<_> = (0..20).map(|_| a.name_suffix()).collect();
        let ys: Vec<_> = (0..20).map(|_| b.name_suffix()).collect();
        assert_eq!(xs, ys);
        assert_ne!(
            xs,
            (0..20)
                .map(|_| SimRng::new(8).name_suffix())
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn uids_look_like_kubernetes_uids_and_differ() {
        let u = uid_for(0, 1);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(uid_for(0, 1), uid_for(0, 2));
        assert_ne!(uid_for(0, 1), uid_for(1, 1));
    }

    #[test]
    fn hashed_suffixes_are_stable_and_differ_by_key() {
        let a = hashed_suffix(b"default/web-1");
        assert_eq!(a, hashed_suffix(b"default/web-1"));
        assert_eq!(a.len(), 5);
        assert!(a.bytes().all(|c| NAME_ALPHABET.contains(&c)), "{a}");
        assert_ne!(a, hashed_suffix(b"default/web-2"));
    }

    #[test]
    fn template_hashes_use_the_safe_alphabet() {
        // Digit *bytes* ('0' = 48) are taken modulo 27, exactly as SafeEncodeString does,
        // so only ten letters can appear.
        let s = safe_encode(1234567890);
        assert!(s.chars().all(|c| "456789bcdf".contains(c)), "{s}");
        assert_eq!(fnv32a(b""), 0x811c9dc5);
        assert_eq!(fnv32a(b"a"), 0xe40c292c);
    }
}
