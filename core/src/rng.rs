//! Seedable random numbers for jitter, with the state in the object, never in a global.
//!
//! # Semantics
//!
//! [`SplitMix64`] is Steele, Lea and Flood's SplitMix64 (OOPSLA 2014; the constants are those of
//! Vigna's public-domain `splitmix64.c`): a 64-bit counter advanced by the odd "golden gamma",
//! then mixed. Because the state is a counter, [`AtomicSplitMix64`] can advance it with one
//! `fetch_add`, which makes it a lock-free, wait-free generator that a primitive can embed and
//! share between threads. Single-threaded, both produce the same sequence for the same seed, so
//! a simulation replays exactly. Not a cryptographic generator.

use crate::sync::{AtomicU64, Ordering};

/// The increment of the SplitMix64 counter: 2⁶⁴ divided by the golden ratio, made odd.
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 output function (Stafford's "Mix13" variant).
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniformly distributed value in `0..bound` from a 64-bit random word, without modulo bias
/// worth measuring: Lemire's multiply-shift (the top 64 bits of `x · bound`). Returns 0 when
/// `bound` is 0.
#[must_use]
pub const fn scale(x: u64, bound: u64) -> u64 {
    // The product of two u64 fits in u128; the high half is < bound.
    ((x as u128 * bound as u128) >> 64) as u64
}

/// A seedable SplitMix64 generator owned by one thread (`&mut self`).
///
/// # Examples
///
/// ```
/// use portcullis::rng::SplitMix64;
/// let mut a = SplitMix64::new(42);
/// let mut b = SplitMix64::new(42);
/// assert_eq!(a.next_u64(), b.next_u64()); // same seed, same sequence
/// assert!(a.below(10) < 10);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator starting from `seed` (any value, zero included).
    #[must_use]
    pub const fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The generator's state: `SplitMix64::new(g.state())` continues `g`'s sequence exactly (for
    /// callers that keep a generator as plain data).
    #[must_use]
    pub const fn state(&self) -> u64 {
        self.state
    }

    /// The next 64 random bits.
    pub const fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix(self.state)
    }

    /// A value in `0..bound` (0 when `bound` is 0).
    pub const fn below(&mut self, bound: u64) -> u64 {
        scale(self.next_u64(), bound)
    }
}

/// A SplitMix64 generator shared by threads: one wait-free `fetch_add` per draw.
///
/// Each draw takes a distinct counter value, so concurrent callers never get the same number
/// from the same state; which caller gets which value depends on the interleaving. Drawn from one
/// thread, the sequence equals [`SplitMix64`]'s for the same seed.
///
/// # Examples
///
/// ```
/// use portcullis::rng::{AtomicSplitMix64, SplitMix64};
/// let shared = AtomicSplitMix64::new(7);
/// let mut local = SplitMix64::new(7);
/// assert_eq!(shared.next_u64(), local.next_u64());
/// ```
#[derive(Debug)]
pub struct AtomicSplitMix64 {
    state: AtomicU64,
}

impl AtomicSplitMix64 {
    crate::sync::loom_const_fn! {
        /// A shared generator starting from `seed`.
        #[must_use]
        pub fn new(seed: u64) -> AtomicSplitMix64 {
            AtomicSplitMix64 { state: AtomicU64::new(seed) }
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&self) -> u64 {
        // Relaxed: only the uniqueness of each counter value matters (every RMW reads the latest
        // value in the word's modification order); no other memory is published through it.
        let prev = self.state.fetch_add(GOLDEN_GAMMA, Ordering::Relaxed);
        mix(prev.wrapping_add(GOLDEN_GAMMA))
    }

    /// A value in `0..bound` (0 when `bound` is 0).
    pub fn below(&self, bound: u64) -> u64 {
        scale(self.next_u64(), bound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_reference_splitmix64_vectors() {
        // First outputs of Vigna's splitmix64.c for seed 1234567.
        let mut g = SplitMix64::new(1_234_567);
        assert_eq!(g.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(g.next_u64(), 3_203_168_211_198_807_973);
        assert_eq!(g.next_u64(), 9_817_491_932_198_370_423);
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut g = SplitMix64::new(9);
        let mut seen = [false; 7];
        for _ in 0..1_000 {
            let v = g.below(7);
            assert!(v < 7);
            seen[usize::try_from(v).unwrap()] = true;
        }
        assert!(seen.iter().all(|s| *s));
        assert_eq!(g.below(0), 0);
    }

    #[cfg(not(loom))]
    #[test]
    fn shared_and_local_agree_single_threaded() {
        let shared = AtomicSplitMix64::new(u64::MAX);
        let mut local = SplitMix64::new(u64::MAX);
        for _ in 0..100 {
            assert_eq!(shared.next_u64(), local.next_u64());
        }
    }
}
