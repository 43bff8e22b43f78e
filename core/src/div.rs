//! Division by a divisor fixed at construction, without a division instruction.
//!
//! The windows divide on every record (a record's sequence number by the window size, a time by
//! the bucket width), by a divisor that is chosen at run time but never changes afterwards. A
//! hardware 64-bit `div` takes tens of cycles on x86-64 and sits on the record's critical path
//! (the slot address depends on it); [`Divisor`] replaces it by one 64×64→128-bit multiplication,
//! a subtraction, an addition and two shifts, with a multiplier computed once.
//!
//! The method is Granlund and Montgomery's, "Division by Invariant Integers using
//! Multiplication" (PLDI 1994), figure 4.1, for `N = 64`: with `l = ⌈log₂ d⌉` and
//! `m' = ⌊2⁶⁴ · (2ˡ − d) / d⌋ + 1`, every `n < 2⁶⁴` has
//! `⌊n / d⌋ = (t + ((n − t) >> min(l, 1))) >> max(l − 1, 0)` where `t` is the high word of
//! `m' · n`. It is exact for every divisor `1 ≤ d < 2⁶⁴` and every 64-bit `n` (their theorem
//! 4.2); the tests compare it with `/` and `%` on edge cases and random values.

/// A divisor `d ≥ 1` with its precomputed multiplier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Divisor {
    d: u64,
    magic: u64,
    sh1: u32,
    sh2: u32,
}

impl Divisor {
    /// The divisor `d`, which must be at least 1 (a zero divisor gives the divisor 1; callers
    /// validate `d` before).
    pub(crate) const fn new(d: u64) -> Divisor {
        let d = if d == 0 { 1 } else { d };
        // l = ⌈log₂ d⌉ in 0..=64.
        let l = if d == 1 { 0 } else { 64 - (d - 1).leading_zeros() };
        // 2ˡ − d < d, so the quotient is below 2⁶⁴ − 1 and the + 1 cannot overflow.
        let above = (1u128 << l) - d as u128;
        #[allow(clippy::cast_possible_truncation, reason = "the quotient is below 2^64 - 1")]
        let magic = ((above << 64) / d as u128) as u64 + 1;
        Divisor { d, magic, sh1: if l == 0 { 0 } else { 1 }, sh2: l.saturating_sub(1) }
    }

    /// The divisor.
    pub(crate) const fn get(self) -> u64 {
        self.d
    }

    /// `n / d`.
    #[inline]
    pub(crate) const fn div(self, n: u64) -> u64 {
        #[allow(clippy::cast_possible_truncation, reason = "the high word of a 128-bit product")]
        let t = ((self.magic as u128 * n as u128) >> 64) as u64;
        // n ≥ t (t = ⌊m'·n / 2⁶⁴⌋ with m' ≤ 2⁶⁴), so the subtraction does not wrap, and the sum
        // is at most n: no overflow.
        (t + ((n - t) >> self.sh1)) >> self.sh2
    }

    /// `(n / d, n % d)`.
    #[inline]
    pub(crate) const fn div_rem(self, n: u64) -> (u64, u64) {
        let q = self.div(n);
        (q, n - q * self.d)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::Divisor;

    fn check(d: u64, n: u64) {
        let div = Divisor::new(d);
        assert_eq!(div.div_rem(n), (n / d, n % d), "{n} / {d}");
    }

    /// Numerators where an off-by-one would show: around 0, the multiples of `d`, the powers of
    /// two and the top of the range.
    fn edges(d: u64) -> impl Iterator<Item = u64> {
        let multiples =
            [1u64, 2, 3, 1 << 20, u64::MAX / d - 1, u64::MAX / d].into_iter().flat_map(move |k| {
                let m = k.saturating_mul(d);
                [m.saturating_sub(1), m, m.saturating_add(1)]
            });
        let powers = (0..64).flat_map(|s| {
            let p = 1u64 << s;
            [p - 1, p, p + 1]
        });
        [0, 1, 2, u64::MAX - 1, u64::MAX].into_iter().chain(multiples).chain(powers)
    }

    #[test]
    fn exact_on_edges_for_small_divisors() {
        for d in 1..=4_100 {
            for n in edges(d) {
                check(d, n);
            }
        }
    }

    #[test]
    fn exact_on_edges_for_the_window_sizes_and_large_divisors() {
        let large = (1..64).flat_map(|s| {
            let p = 1u64 << s;
            [p - 1, p, p + 1]
        });
        let sizes = [10_000, 65_535, 65_536, 1_000_000_000, u64::MAX - 1, u64::MAX];
        for d in large.chain(sizes) {
            for n in edges(d) {
                check(d, n);
            }
        }
    }

    #[test]
    fn exact_on_every_numerator_below_a_bound() {
        for d in [1, 3, 7, 100, 641, 1_000] {
            for n in 0..200_000 {
                check(d, n);
            }
        }
    }

    #[test]
    fn exact_on_pseudo_random_pairs() {
        // splitmix64, so the test is reproducible and needs no dependency.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        for _ in 0..1_000_000 {
            let (a, b) = (next(), next());
            // Divisors of every magnitude: shift a random value right by a random amount.
            let d = (a >> (b % 64)).max(1);
            check(d, next());
        }
    }

    #[test]
    fn zero_is_read_as_one() {
        assert_eq!(Divisor::new(0).get(), 1);
        assert_eq!(Divisor::new(0).div_rem(17), (17, 0));
    }
}
