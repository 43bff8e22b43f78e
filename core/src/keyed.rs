//! Keyed primitives: one rate limiter, breaker or bulkhead per key (tenant, route, city) in a
//! fixed-capacity, lock-free table.
//!
//! [`Keyed<T, N>`] holds `N` slots, each a key word and a pre-built `T`, and one shared
//! *overflow entry*. [`Keyed::get`] (or [`Keyed::entry`], which also says where it found it)
//! finds the key's slot by bounded linear probing and claims
//! an empty slot with one compare-and-swap; when the key's probe sequence is full it answers
//! with the overflow entry, so every key always gets a primitive and the memory is fixed by the
//! type. [`KeyedLimiter`], [`KeyedBulkhead`] and [`KeyedBreaker`] name the usual instances.
//!
//! The exact semantics, boundaries and concurrency guarantees are in
//! `docs/semantics/keyed.md`, included below.
#![doc = include_str!("../../docs/semantics/keyed.md")]

use core::mem::MaybeUninit;
use core::ops::Deref;

use crate::breaker::Breaker;
use crate::bulkhead::Bulkhead;
use crate::error::ConfigError;
use crate::limiter::{RateLimiter, RateLimiterConfig};
use crate::sync::{AtomicU64, CachePadded, Ordering, zeroed_array};
use crate::{BreakerConfig, Nanos};

/// The key word of a slot nobody has claimed.
const EMPTY: u64 = 0;

/// The key word stored for key 0, which cannot be stored as itself (0 marks an empty slot).
///
/// Keys 0 and `u64::MAX` therefore name the same entry: one more collision of the caller's
/// 64-bit hash, as likely as any other.
pub const KEY_ZERO_ALIAS: u64 = u64::MAX;

/// Fibonacci hashing's multiplier, 2⁶⁴ / φ rounded to odd: spreads sequential keys (tenant ids
/// 1, 2, 3…) over the whole table instead of filling one run of slots.
const FIB: u64 = 0x9E37_79B9_7F4A_7C15;

/// The word stored for `key`.
const fn stored(key: u64) -> u64 {
    if key == EMPTY { KEY_ZERO_ALIAS } else { key }
}

/// Where [`Keyed::entry`] found a key's primitive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Placement {
    /// The key already owned a slot.
    Existing,
    /// This call claimed an empty slot for the key (exactly one call per key sees this).
    Inserted,
    /// Every slot the key may probe belongs to other keys: the shared overflow entry.
    Overflow,
}

/// A key's primitive and where [`Keyed::entry`] found it: dereferences to `&T`.
#[derive(Debug)]
pub struct Entry<'a, T> {
    value: &'a T,
    placement: Placement,
}

impl<'a, T> Entry<'a, T> {
    /// Where the primitive was found.
    #[must_use]
    pub const fn placement(&self) -> Placement {
        self.placement
    }

    /// Whether this is the shared overflow entry rather than the key's own.
    #[must_use]
    pub const fn is_overflow(&self) -> bool {
        matches!(self.placement, Placement::Overflow)
    }

    /// The primitive, with the table's lifetime.
    #[must_use]
    pub const fn get(&self) -> &'a T {
        self.value
    }
}

impl<T> Deref for Entry<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value
    }
}

/// Counts of a table, read without stopping writers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct KeyedSnapshot {
    /// Slots owned by a key (at most `N`; never decreases).
    pub occupied: usize,
    /// The table's capacity `N`.
    pub capacity: usize,
    /// Lookups answered with the overflow entry since construction.
    pub overflows: u64,
}

/// A fixed-capacity, lock-free map from a `u64` key to a primitive `T`, with `N` slots and a
/// shared overflow entry.
///
/// # Semantics
///
/// A key's probe sequence is the `max_probe` slots starting at its home slot
/// ([`home_slot`](Keyed::home_slot)), wrapping around. [`get`](Keyed::get) returns the first
/// slot of that sequence owned by the key; else claims the first empty one (and stops there:
/// slots are never freed, so no key lives beyond an empty slot of its sequence); else, when all
/// `max_probe` slots belong to other keys, the overflow entry. Entries live as long as the table:
/// there is no eviction (see `docs/semantics/keyed.md` for why).
///
/// # Examples
///
/// ```
/// use portcullis::Nanos;
/// use portcullis::keyed::{KeyedLimiter, Placement};
/// use portcullis::limiter::{Quota, RateLimiterConfig};
/// let config = RateLimiterConfig::new(Quota::per_second(1, 1).unwrap());
/// let tenants = KeyedLimiter::<64>::limiters(4, config, Nanos::ZERO).unwrap();
/// let a = tenants.entry(7);
/// assert_eq!(a.placement(), Placement::Inserted);
/// assert!(a.try_acquire(Nanos::ZERO).is_admitted());
/// assert!(!tenants.get(7).try_acquire(Nanos::ZERO).is_admitted()); // tenant 7 is spent
/// assert!(tenants.get(8).try_acquire(Nanos::ZERO).is_admitted()); // tenant 8 is not
/// ```
///
/// # Panics
///
/// Never.
#[derive(Debug)]
pub struct Keyed<T, const N: usize> {
    /// Slot `i`'s owner: [`EMPTY`] until one `compare_exchange` claims it for a key, never
    /// written again. Packed apart from the primitives, eight to a cache line, so a probe
    /// sequence reads one or two lines however large `T` is.
    keys: [AtomicU64; N],
    /// Slot `i`'s primitive.
    values: [T; N],
    /// Bounded by `1..=N` at construction.
    max_probe: usize,
    overflow: T,
    /// Lookups answered with `overflow`; written only on that path, so on its own line.
    overflows: CachePadded<AtomicU64>,
}

/// Per-key rate limiters.
pub type KeyedLimiter<const N: usize> = Keyed<RateLimiter, N>;
/// Per-key bulkheads.
pub type KeyedBulkhead<const N: usize> = Keyed<Bulkhead, N>;
/// Per-key circuit breakers deciding on a window `W`.
pub type KeyedBreaker<W, const N: usize> = Keyed<Breaker<W>, N>;

impl<T, const N: usize> Keyed<T, N> {
    /// A table of `N` slots whose keys probe at most `max_probe` slots, each slot's primitive
    /// and the overflow entry built by `make` (called `N + 1` times, overflow entry first).
    ///
    /// # Examples
    ///
    /// ```
    /// use portcullis::keyed::Keyed;
    /// use portcullis::bulkhead::Bulkhead;
    /// use portcullis::ConfigError;
    /// let routes = Keyed::<Bulkhead, 16>::try_new(4, || Bulkhead::new(2)).unwrap();
    /// assert_eq!(routes.get(1).limit(), 2);
    /// let mut built = 0;
    /// let failing = Keyed::<Bulkhead, 16>::try_new(4, || {
    ///     built += 1;
    ///     if built < 3 { Bulkhead::new(2) } else { Err(ConfigError::ZeroCount { field: "limit" }) }
    /// });
    /// assert_eq!(failing.unwrap_err(), ConfigError::ZeroCount { field: "limit" });
    /// ```
    ///
    /// # Errors
    ///
    /// [`ConfigError::ZeroCount`] (`capacity`) if `N == 0`; [`ConfigError::OutOfRange`]
    /// (`max_probe`) unless `1 <= max_probe <= N`; then the first error `make` returns.
    ///
    /// # Panics
    ///
    /// Never (a panic inside `make` unwinds after dropping what was already built).
    pub fn try_new(
        max_probe: usize,
        mut make: impl FnMut() -> Result<T, ConfigError>,
    ) -> Result<Self, ConfigError> {
        if N == 0 {
            return Err(ConfigError::ZeroCount { field: "capacity" });
        }
        if max_probe == 0 || max_probe > N {
            return Err(ConfigError::OutOfRange {
                field: "max_probe",
                min: 1,
                max: N as u64,
                got: max_probe as u64,
            });
        }
        let overflow = make()?;
        let values = try_array(&mut make)?;
        Ok(Keyed {
            keys: zeroed_array(),
            values,
            max_probe,
            overflow,
            overflows: CachePadded(AtomicU64::new(0)),
        })
    }

    /// As [`try_new`](Keyed::try_new), for a `make` that cannot fail.
    ///
    /// # Errors
    ///
    /// [`ConfigError::ZeroCount`] (`capacity`) if `N == 0`; [`ConfigError::OutOfRange`]
    /// (`max_probe`) unless `1 <= max_probe <= N`.
    ///
    /// # Panics
    ///
    /// Never.
    pub fn new(max_probe: usize, mut make: impl FnMut() -> T) -> Result<Self, ConfigError> {
        Self::try_new(max_probe, || Ok(make()))
    }

    /// The slot where `key`'s probe sequence starts: `⌊(key · 0x9E3779B97F4A7C15 mod 2⁶⁴) · N /
    /// 2⁶⁴⌋` (Fibonacci hashing, reduced by multiply-shift rather than a division).
    ///
    /// Keys 0 and [`KEY_ZERO_ALIAS`] share a home, as they share an entry.
    ///
    /// # Panics
    ///
    /// Never.
    #[must_use]
    #[inline]
    pub const fn home_slot(key: u64) -> usize {
        let h = stored(key).wrapping_mul(FIB);
        // Lossless: the product of two values below 2⁶⁴ shifted right by 64 is below `N`.
        #[allow(clippy::cast_possible_truncation, reason = "the result is below N, a usize")]
        let home = ((h as u128 * N as u128) >> 64) as usize;
        home
    }

    /// The primitive of `key`: its own slot (found or claimed now), or the shared overflow
    /// entry when its `max_probe` slots belong to other keys.
    ///
    /// # Semantics
    ///
    /// Linearizable per slot: a slot's key word goes from empty to one key by one
    /// compare-and-swap and never changes again, so concurrent first lookups of one key create
    /// exactly one entry (the loser of the race reads the winner's key and takes the same
    /// slot), and two keys never share a slot. Once a key owns a slot, every later lookup
    /// returns it: the probe prefix before it stays occupied forever.
    ///
    /// # Progress
    ///
    /// Lock-free and bounded: at most `max_probe` loads and `max_probe` compare-and-swaps, no
    /// retries (a failed CAS means the slot is now owned, which is final), plus one `fetch_add`
    /// on the overflow path.
    ///
    /// # Examples
    ///
    /// ```
    /// use portcullis::keyed::{Keyed, Placement};
    /// use portcullis::bulkhead::Bulkhead;
    /// // One slot: the second key overflows to the shared entry.
    /// let t = Keyed::<Bulkhead, 1>::try_new(1, || Bulkhead::new(1)).unwrap();
    /// assert_eq!(t.entry(10).placement(), Placement::Inserted);
    /// assert_eq!(t.entry(10).placement(), Placement::Existing);
    /// assert_eq!(t.entry(11).placement(), Placement::Overflow);
    /// assert_eq!(t.snapshot().overflows, 1);
    /// ```
    ///
    /// # Panics
    ///
    /// Never.
    #[inline]
    pub fn entry(&self, key: u64) -> Entry<'_, T> {
        let want = stored(key);
        for (word, value) in self.probe(key) {
            // Relaxed: the key word publishes nothing. Every slot's primitive was fully built
            // before the table could be shared (the reference that shares it carries that
            // happens-before edge), and the primitive orders its own state. What matters here is
            // only that the word goes EMPTY -> key once, which the CAS's atomicity gives in any
            // ordering (all operations on one atomic are totally ordered).
            let seen = word.load(Ordering::Relaxed);
            if seen == want {
                return Entry { value, placement: Placement::Existing };
            }
            if seen == EMPTY {
                match word.compare_exchange(EMPTY, want, Ordering::Relaxed, Ordering::Relaxed) {
                    Ok(_) => return Entry { value, placement: Placement::Inserted },
                    // Another thread claimed it first, possibly for this same key.
                    Err(now) if now == want => {
                        return Entry { value, placement: Placement::Existing };
                    }
                    Err(_) => {}
                }
            }
        }
        // Relaxed: a statistic, ordered with nothing.
        self.overflows.fetch_add(1, Ordering::Relaxed);
        Entry { value: &self.overflow, placement: Placement::Overflow }
    }

    /// The primitive of `key`: [`entry`](Keyed::entry) without the placement.
    ///
    /// # Examples
    ///
    /// ```
    /// use portcullis::keyed::KeyedBulkhead;
    /// let routes = KeyedBulkhead::<16>::bulkheads(4, 2).unwrap();
    /// let _p = routes.get(1).try_acquire(2).unwrap();
    /// assert!(routes.get(1).try_acquire(1).is_err());
    /// assert!(routes.get(2).try_acquire(1).is_ok());
    /// ```
    ///
    /// # Panics
    ///
    /// Never.
    #[inline]
    pub fn get(&self, key: u64) -> &T {
        self.entry(key).value
    }

    /// The primitive of `key` if it owns a slot, without claiming one or counting an overflow.
    ///
    /// # Panics
    ///
    /// Never.
    #[must_use]
    pub fn find(&self, key: u64) -> Option<&T> {
        let want = stored(key);
        for (word, value) in self.probe(key) {
            // Relaxed: as in `get`.
            match word.load(Ordering::Relaxed) {
                k if k == want => return Some(value),
                EMPTY => return None,
                _ => {}
            }
        }
        None
    }

    /// The shared overflow entry.
    #[must_use]
    pub const fn overflow_entry(&self) -> &T {
        &self.overflow
    }

    /// The bound on probed slots per lookup.
    #[must_use]
    pub const fn max_probe(&self) -> usize {
        self.max_probe
    }

    /// The keys that own a slot and their primitives, in slot order (key 0 reads as
    /// [`KEY_ZERO_ALIAS`]). Concurrent inserts may or may not be seen.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &T)> {
        self.keys.iter().zip(&self.values).filter_map(|(word, value)| {
            // Relaxed: as in `get`.
            let k = word.load(Ordering::Relaxed);
            (k != EMPTY).then_some((k, value))
        })
    }

    /// `key`'s probe sequence: the `max_probe` slots from its home, wrapping around.
    #[inline]
    fn probe(&self, key: u64) -> impl Iterator<Item = (&AtomicU64, &T)> {
        // `home < N`, so the splits are in bounds (`min` only spares a bounds check's panic).
        let home = Self::home_slot(key).min(N);
        let (keys_before, keys_from) = self.keys.split_at(home);
        let (values_before, values_from) = self.values.split_at(home);
        keys_from
            .iter()
            .zip(values_from)
            .chain(keys_before.iter().zip(values_before))
            .take(self.max_probe)
    }

    /// Occupancy and overflow counts (one pass over the key words).
    #[must_use]
    pub fn snapshot(&self) -> KeyedSnapshot {
        KeyedSnapshot {
            occupied: self.iter().count(),
            capacity: N,
            // Relaxed: a statistic.
            overflows: self.overflows.load(Ordering::Relaxed),
        }
    }
}

impl<const N: usize> Keyed<RateLimiter, N> {
    /// Per-key rate limiters, each with `config` and clock origin `now`.
    ///
    /// # Errors
    ///
    /// As [`Keyed::new`].
    pub fn limiters(
        max_probe: usize,
        config: RateLimiterConfig,
        now: Nanos,
    ) -> Result<Self, ConfigError> {
        Self::new(max_probe, || RateLimiter::new(config, now))
    }
}

impl<const N: usize> Keyed<Bulkhead, N> {
    /// Per-key bulkheads of `limit` permits each.
    ///
    /// # Errors
    ///
    /// As [`Keyed::new`], then [`Bulkhead::new`]'s.
    pub fn bulkheads(max_probe: usize, limit: u32) -> Result<Self, ConfigError> {
        Self::try_new(max_probe, || Bulkhead::new(limit))
    }
}

impl<const W: usize, const N: usize> Keyed<Breaker<crate::window::CountWindow<W>>, N> {
    /// Per-key breakers deciding on each key's last `W` calls.
    ///
    /// # Errors
    ///
    /// As [`Keyed::new`], then [`Breaker::new`](crate::CountBreaker::new)'s.
    pub fn count_breakers(max_probe: usize, config: BreakerConfig) -> Result<Self, ConfigError> {
        Self::try_new(max_probe, || Breaker::<crate::window::CountWindow<W>>::new(config))
    }
}

/// Builds `[T; N]` from `f` without allocating, stopping at (and returning) the first error
/// after dropping what was built.
fn try_array<T, E, const N: usize>(mut f: impl FnMut() -> Result<T, E>) -> Result<[T; N], E> {
    /// Drops the first `init` elements if building stops early (an error or a panic in `f`).
    struct Guard<'a, T, const N: usize> {
        array: &'a mut [MaybeUninit<T>; N],
        init: usize,
    }
    impl<T, const N: usize> Drop for Guard<'_, T, N> {
        fn drop(&mut self) {
            for item in self.array.iter_mut().take(self.init) {
                // SAFETY: the first `init` elements were written by `try_array` and not moved
                // out: the guard is forgotten once the array is complete.
                unsafe { item.assume_init_drop() };
            }
        }
    }

    let mut array = [const { MaybeUninit::<T>::uninit() }; N];
    let mut guard = Guard { array: &mut array, init: 0 };
    while guard.init < N {
        let value = f()?;
        if let Some(item) = guard.array.get_mut(guard.init) {
            item.write(value);
        }
        guard.init += 1;
    }
    core::mem::forget(guard);
    // SAFETY:
    // - all `N` elements were written (the loop ran `init` from 0 to `N`, writing each index,
    //   which `get_mut` found since it is below `N`);
    // - `[MaybeUninit<T>; N]` and `[T; N]` have the same size and layout;
    // - `array` is `MaybeUninit`, so reading it out leaves no double drop behind.
    Ok(unsafe { array.as_ptr().cast::<[T; N]>().read() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::CountWindow;

    #[test]
    fn config_errors_are_precise() {
        assert_eq!(
            Keyed::<Bulkhead, 0>::bulkheads(1, 1).unwrap_err(),
            ConfigError::ZeroCount { field: "capacity" }
        );
        assert_eq!(
            Keyed::<Bulkhead, 4>::bulkheads(0, 1).unwrap_err(),
            ConfigError::OutOfRange { field: "max_probe", min: 1, max: 4, got: 0 }
        );
        assert_eq!(
            Keyed::<Bulkhead, 4>::bulkheads(5, 1).unwrap_err(),
            ConfigError::OutOfRange { field: "max_probe", min: 1, max: 4, got: 5 }
        );
        assert_eq!(
            Keyed::<Bulkhead, 4>::bulkheads(4, crate::bulkhead::MAX_LIMIT + 1).unwrap_err().field(),
            "limit"
        );
        let bad = BreakerConfig {
            failure_rate_ppm: Some(500_000),
            min_calls: 9,
            ..BreakerConfig::default()
        };
        assert_eq!(
            Keyed::<Breaker<CountWindow<8>>, 4>::count_breakers(2, bad).unwrap_err(),
            ConfigError::MinCallsExceedWindow { min_calls: 9, window: 8 }
        );
    }

    #[test]
    fn an_error_midway_drops_what_was_built() {
        use core::cell::Cell;
        #[derive(Debug)]
        struct Counted<'a>(&'a Cell<i32>);
        impl Drop for Counted<'_> {
            fn drop(&mut self) {
                self.0.set(self.0.get() - 1);
            }
        }
        let live = Cell::new(0);
        let calls = Cell::new(0);
        let result = Keyed::<Counted<'_>, 4>::try_new(2, || {
            calls.set(calls.get() + 1);
            if calls.get() == 4 {
                return Err(ConfigError::ZeroCount { field: "x" });
            }
            live.set(live.get() + 1);
            Ok(Counted(&live))
        });
        assert_eq!(result.unwrap_err(), ConfigError::ZeroCount { field: "x" });
        assert_eq!(live.get(), 0, "the overflow entry and two slots were dropped");
        let t = Keyed::<Counted<'_>, 4>::new(2, || {
            live.set(live.get() + 1);
            Counted(&live)
        })
        .unwrap();
        assert_eq!(live.get(), 5);
        drop(t);
        assert_eq!(live.get(), 0);
    }

    #[test]
    fn homes_cover_the_table_and_key_zero_has_an_entry() {
        let mut seen = [false; 8];
        for key in 1..=64u64 {
            let h = Keyed::<(), 8>::home_slot(key);
            assert!(h < 8);
            seen[h] = true;
        }
        assert!(seen.iter().all(|&s| s), "sequential keys reach every slot");
        let t = Keyed::<Bulkhead, 8>::bulkheads(8, 1).unwrap();
        assert_eq!(t.entry(0).placement(), Placement::Inserted);
        assert_eq!(t.entry(u64::MAX).placement(), Placement::Existing);
        let mut keys = t.iter().map(|(k, _)| k);
        assert_eq!((keys.next(), keys.next()), (Some(KEY_ZERO_ALIAS), None));
    }

    #[test]
    fn probing_wraps_and_stops_at_the_bound() {
        // Three keys whose home is slot 3 of 4: the second wraps to slot 0, the third finds both
        // of its `max_probe = 2` slots taken and overflows.
        let same_home: [u64; 3] = {
            let mut keys = [0u64; 3];
            let mut n = 0;
            let mut k = 1u64;
            while n < 3 {
                if Keyed::<(), 4>::home_slot(k) == 3 {
                    keys[n] = k;
                    n += 1;
                }
                k += 1;
            }
            keys
        };
        let t = Keyed::<Bulkhead, 4>::bulkheads(2, 1).unwrap();
        let [a, b, c] = same_home;
        assert_eq!(t.entry(a).placement(), Placement::Inserted);
        let eb = t.entry(b);
        assert_eq!(eb.placement(), Placement::Inserted);
        assert!(core::ptr::eq(eb.get(), &raw const t.values[0]), "wrapped from slot 3 to slot 0");
        assert!(t.entry(c).is_overflow());
        assert!(t.find(c).is_none());
        assert!(core::ptr::eq(t.find(b).unwrap(), eb.get()));
        assert_eq!(t.snapshot(), KeyedSnapshot { occupied: 2, capacity: 4, overflows: 1 });
        // Lookup of an absent key stops at the first empty slot of its sequence.
        let t2 = Keyed::<Bulkhead, 4>::bulkheads(4, 1).unwrap();
        assert!(t2.find(a).is_none());
        assert_eq!(t2.snapshot().occupied, 0);
    }
}
