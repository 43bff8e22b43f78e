//! Maintenance profiles: named configurations an operator switches between atomically, without
//! losing the state of the primitive they configure.
//!
//! - [`LimiterProfiles<P>`] holds `P` named [`Quota`]s. [`switch`](LimiterProfiles::switch) puts
//!   one in force on a [`RateLimiter`] through [`RateLimiter::reconfigure`], which keeps the
//!   permits already spent (its theoretical arrival time is converted, not reset);
//!   [`active`](LimiterProfiles::active) reads which profile is in force from the limiter itself,
//!   so the two can never disagree.
//! - [`BreakerProfiles<P>`] holds `P` named [`BreakerConfig`]s inside a breaker
//!   ([`ProfiledBreaker`]): [`switch_profile`](Breaker::switch_profile) is one atomic store of
//!   the index of the profile in force; the breaker's window, state, generation and counters
//!   are kept, and every decision reads the index once, so no decision mixes two profiles.
//!
//! When to switch (a maintenance window, a load test) is the caller's business.
//!
//! The exact semantics are in `docs/semantics/profiles.md`, included below.
#![doc = include_str!("../../docs/semantics/profiles.md")]

use core::fmt;

use crate::breaker::{Breaker, BreakerConfig, ConfigSet, sealed};
use crate::clock::Nanos;
use crate::error::ConfigError;
use crate::limiter::{Quota, RateLimiter};
use crate::sync::{AtomicU64, Ordering, loom_const_fn};
use crate::window::{CountWindow, TimeWindow, Window};

/// Why a switch of profile did not happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SwitchError {
    /// No profile has this name.
    UnknownProfile,
    /// Another reconfiguration of the limiter has not finished; nothing changed. (A breaker's
    /// switch never returns it: it is one store.)
    InProgress,
}

impl fmt::Display for SwitchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SwitchError::UnknownProfile => "no profile has this name",
            SwitchError::InProgress => "another reconfiguration is in progress",
        })
    }
}

impl core::error::Error for SwitchError {}

/// `P` named quotas for a rate limiter.
///
/// # Examples
///
/// ```
/// use portcullis::Nanos;
/// use portcullis::limiter::{Quota, RateLimiter, RateLimiterConfig};
/// use portcullis::profile::LimiterProfiles;
/// let normal = Quota::per_second(100, 10).unwrap();
/// let maintenance = Quota::per_second(10, 1).unwrap();
/// let profiles =
///     LimiterProfiles::new([("normal", normal), ("maintenance", maintenance)]).unwrap();
/// let limiter = RateLimiter::new(RateLimiterConfig::new(normal), Nanos::ZERO);
/// assert_eq!(profiles.active(&limiter), Some("normal"));
/// profiles.switch(&limiter, "maintenance", Nanos::ZERO).unwrap();
/// assert_eq!(profiles.active(&limiter), Some("maintenance"));
/// assert_eq!(limiter.quota(), maintenance);
/// ```
///
/// # Panics
///
/// Never.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimiterProfiles<const P: usize> {
    profiles: [(&'static str, Quota); P],
}

impl<const P: usize> LimiterProfiles<P> {
    /// Profiles from `(name, quota)` pairs.
    ///
    /// # Errors
    ///
    /// [`ConfigError::ZeroCount`] (`profiles`) if `P == 0`; [`ConfigError::OutOfRange`]
    /// (`profile_name`) for an empty name (`min: 1`, `got: 0`: the name's length) or for a name
    /// used twice (`got`: the index of the second use; `max`: the index of the first, below
    /// which a later profile's index would have to be for its name to be new).
    pub fn new(profiles: [(&'static str, Quota); P]) -> Result<Self, ConfigError> {
        if P == 0 {
            return Err(ConfigError::ZeroCount { field: "profiles" });
        }
        for (i, (name, _)) in profiles.iter().enumerate() {
            if name.is_empty() {
                return Err(ConfigError::OutOfRange {
                    field: "profile_name",
                    min: 1,
                    max: u64::MAX,
                    got: 0,
                });
            }
            if let Some(first) = profiles.iter().take(i).position(|(n, _)| n == name) {
                return Err(ConfigError::OutOfRange {
                    field: "profile_name",
                    min: 0,
                    max: first as u64,
                    got: i as u64,
                });
            }
        }
        Ok(LimiterProfiles { profiles })
    }

    /// The quota of profile `name`.
    #[must_use]
    pub fn quota(&self, name: &str) -> Option<Quota> {
        self.profiles.iter().find(|(n, _)| *n == name).map(|(_, q)| *q)
    }

    /// The profiles, in the order given.
    #[must_use]
    pub const fn profiles(&self) -> &[(&'static str, Quota); P] {
        &self.profiles
    }

    /// Puts profile `name` in force on `limiter` at `now`, keeping its state.
    ///
    /// # Semantics
    ///
    /// Exactly [`RateLimiter::reconfigure`] with the profile's quota: permits spent before the
    /// switch stay spent (the bucket's fill level is kept, at the new rate), acquisitions never
    /// wait for it, and the switch takes effect atomically at one compare-and-swap.
    ///
    /// # Errors
    ///
    /// [`SwitchError::UnknownProfile`] if no profile has this name (nothing changes);
    /// [`SwitchError::InProgress`] if another reconfiguration of `limiter` has not finished.
    pub fn switch(&self, limiter: &RateLimiter, name: &str, now: Nanos) -> Result<(), SwitchError> {
        let quota = self.quota(name).ok_or(SwitchError::UnknownProfile)?;
        limiter.reconfigure(quota, now).map_err(|_| SwitchError::InProgress)
    }

    /// The profile in force on `limiter`: the first whose quota equals the limiter's, or `None`
    /// if the limiter runs a quota of no profile.
    #[must_use]
    pub fn active(&self, limiter: &RateLimiter) -> Option<&'static str> {
        let quota = limiter.quota();
        self.profiles.iter().find(|(_, q)| *q == quota).map(|(n, _)| *n)
    }
}

/// A breaker deciding with one of `P` named profiles, switched at run time.
pub type ProfiledBreaker<W, const P: usize> = Breaker<W, BreakerProfiles<P>>;

/// A profile whose configuration was rejected, and why.
///
/// # Examples
///
/// ```
/// use portcullis::ConfigError;
/// use portcullis::breaker::BreakerConfig;
/// use portcullis::profile::{ProfileError, ProfiledBreaker};
/// use portcullis::window::CountWindow;
/// let normal = BreakerConfig::DEFAULT;
/// let lenient = BreakerConfig { half_open_probes: 5, ..normal };
/// let err = ProfiledBreaker::<CountWindow<8>, 2>::with_profiles([
///     ("normal", normal),
///     ("lenient", lenient),
/// ])
/// .unwrap_err();
/// assert_eq!(
///     err,
///     ProfileError {
///         profile: 1,
///         name: "lenient",
///         error: ConfigError::ProfileMismatch { field: "half_open_probes" },
///     }
/// );
/// assert_eq!(
///     err.to_string(),
///     "profile 1 (\"lenient\"): half_open_probes must be the same in every profile"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProfileError {
    /// The index of the profile (0 for an empty set of profiles).
    pub profile: usize,
    /// Its name (empty for an empty set of profiles, or when the name is the problem).
    pub name: &'static str,
    /// The rule it broke.
    pub error: ConfigError,
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "profile {} ({:?}): {}", self.profile, self.name, self.error)
    }
}

impl core::error::Error for ProfileError {}

impl From<ProfileError> for ConfigError {
    fn from(e: ProfileError) -> ConfigError {
        e.error
    }
}

/// `P` named [`BreakerConfig`]s and the index of the one in force: the configuration of a
/// [`ProfiledBreaker`].
///
/// # Semantics
///
/// Built by [`Breaker::with_profiles`], which checks every profile against the breaker's window
/// and the rules that tie profiles together (`docs/semantics/profiles.md`). Profile 0 is in force
/// at first. The index is one atomic word, written only by
/// [`switch_profile`](Breaker::switch_profile).
///
/// # Panics
///
/// Never.
#[derive(Debug)]
pub struct BreakerProfiles<const P: usize> {
    /// The index of the profile in force, always `< P`. Relaxed on both sides: the profiles are
    /// immutable from construction (published with the breaker itself), so the index publishes
    /// nothing but itself, and a decision that loads the old index is one that happened before
    /// the switch.
    index: AtomicU64,
    profiles: [(&'static str, BreakerConfig); P],
}

impl<const P: usize> BreakerProfiles<P> {
    /// The profile at `index` (which is `< P`).
    pub(crate) fn get(&self, index: usize) -> &BreakerConfig {
        match self.profiles.get(index) {
            Some((_, c)) => c,
            // Unreachable: indices are checked where they are stored. Falling back to the
            // shared profile 0 keeps every path panic-free.
            None => sealed::Sealed::shared(self),
        }
    }

    /// The index in force.
    fn index(&self) -> usize {
        // Relaxed: see the field.
        usize::try_from(self.index.load(Ordering::Relaxed)).unwrap_or(0)
    }
}

impl<const P: usize> ConfigSet for BreakerProfiles<P> {}

impl<const P: usize> sealed::Sealed for BreakerProfiles<P> {
    fn active(&self) -> &BreakerConfig {
        self.get(self.index())
    }

    fn shared(&self) -> &BreakerConfig {
        match self.profiles.first() {
            Some((_, c)) => c,
            // P = 0 is rejected at construction; a default keeps the path panic-free.
            None => &BreakerConfig::DEFAULT,
        }
    }

    fn active_index(&self) -> usize {
        self.index()
    }
}

/// Whether two names are the same (`==` on `str` is not `const`).
#[allow(clippy::indexing_slicing, reason = "i < a.len() == b.len() by the loop condition")]
const fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The first field that every profile must share and `b` sets differently from `a`.
const fn shared_mismatch(a: &BreakerConfig, b: &BreakerConfig) -> Option<&'static str> {
    if a.half_open_probes != b.half_open_probes {
        Some("half_open_probes")
    } else if a.successes_to_close != b.successes_to_close {
        Some("successes_to_close")
    } else if a.half_open_by_rate != b.half_open_by_rate {
        Some("half_open_by_rate")
    } else if a.shadow != b.shadow {
        Some("shadow")
    } else if a.count_rejections != b.count_rejections {
        Some("count_rejections")
    } else if a.seed != b.seed {
        Some("seed")
    } else {
        None
    }
}

/// Checks `profiles` for a window of `capacity` calls (`None` for a time window).
#[allow(clippy::indexing_slicing, reason = "i, j < P by the loop conditions")]
const fn check<const P: usize>(
    profiles: &[(&'static str, BreakerConfig); P],
    capacity: Option<u64>,
) -> Result<(), ProfileError> {
    if P == 0 {
        let error = ConfigError::ZeroCount { field: "profiles" };
        return Err(ProfileError { profile: 0, name: "", error });
    }
    let mut i = 0;
    while i < P {
        let (name, config) = &profiles[i];
        if name.is_empty() {
            let error =
                ConfigError::OutOfRange { field: "profile_name", min: 1, max: u64::MAX, got: 0 };
            return Err(ProfileError { profile: i, name, error });
        }
        let mut j = 0;
        while j < i {
            if same_name(profiles[j].0, name) {
                let error = ConfigError::OutOfRange {
                    field: "profile_name",
                    min: 0,
                    max: j as u64,
                    got: i as u64,
                };
                return Err(ProfileError { profile: i, name, error });
            }
            j += 1;
        }
        if let Err(error) = config.validate(capacity) {
            return Err(ProfileError { profile: i, name, error });
        }
        if let Some(field) = shared_mismatch(&profiles[0].1, config) {
            let error = ConfigError::ProfileMismatch { field };
            return Err(ProfileError { profile: i, name, error });
        }
        i += 1;
    }
    Ok(())
}

loom_const_fn! {
    /// The profiles, profile 0 in force.
    fn profiles_of<const P: usize>(
        profiles: [(&'static str, BreakerConfig); P],
    ) -> BreakerProfiles<P> {
        BreakerProfiles { index: AtomicU64::new(0), profiles }
    }
}

/// The jitter seed every profile shares (0 for no profile).
const fn seed_of<const P: usize>(profiles: &[(&'static str, BreakerConfig); P]) -> u64 {
    match profiles.first() {
        Some((_, c)) => c.seed,
        None => 0,
    }
}

impl<const N: usize, const P: usize> Breaker<CountWindow<N>, BreakerProfiles<P>> {
    loom_const_fn! {
        /// A closed breaker deciding on the last `N` calls with one of `profiles`, the first in
        /// force.
        ///
        /// # Errors
        ///
        /// The first profile that breaks a rule, with the rule: [`ConfigError::ZeroCount`]
        /// (`profiles`) for `P = 0`; [`ConfigError::OutOfRange`] (`profile_name`) for an empty
        /// name (`got: 0`) or one used twice (`max`: the index of its first use, `got`: of the
        /// second); any rule of [`BreakerConfig::validate`] for a window of `N` calls;
        /// [`ConfigError::ProfileMismatch`] for a field that must be the same in every profile.
        ///
        /// # Examples
        ///
        /// ```
        /// use portcullis::Nanos;
        /// use portcullis::breaker::{BreakerConfig, State, Transition};
        /// use portcullis::profile::ProfiledBreaker;
        /// use portcullis::window::{CountWindow, Outcome};
        /// let normal = BreakerConfig { consecutive_failures: Some(3), ..BreakerConfig::DEFAULT };
        /// let lenient = BreakerConfig { consecutive_failures: Some(10), ..normal };
        /// let b = ProfiledBreaker::<CountWindow<16>, 2>::with_profiles([
        ///     ("normal", normal),
        ///     ("maintenance", lenient),
        /// ])
        /// .unwrap();
        /// let fail = |n: usize| {
        ///     (0..n)
        ///         .map(|_| b.try_acquire(Nanos::ZERO).unwrap().record(Outcome::Failure, Nanos::ZERO))
        ///         .last()
        /// };
        /// let _ = fail(2);
        /// assert_eq!(b.switch_profile("maintenance"), Ok("normal"));
        /// let _ = fail(5); // 7 consecutive failures: below the lenient 10
        /// assert_eq!(b.state(), State::Closed);
        /// assert_eq!(b.switch_profile("normal"), Ok("maintenance"));
        /// // The count was kept: the next failure (the 8th) trips under the normal rule.
        /// assert_eq!(fail(1).unwrap().transition, Transition::Opened);
        /// ```
        pub fn with_profiles(
            profiles: [(&'static str, BreakerConfig); P],
        ) -> Result<Self, ProfileError> {
            if let Err(e) = check(&profiles, Some(N as u64)) {
                return Err(e);
            }
            let seed = seed_of(&profiles);
            Ok(Breaker::build(profiles_of(profiles), seed, CountWindow::new()))
        }
    }
}

impl<const N: usize, const P: usize> Breaker<CountWindow<N>, BreakerProfiles<P>> {
    loom_const_fn! {
        /// A closed breaker deciding on the last `size` calls, using `size` of the window's `N`
        /// slots, with one of `profiles`: for callers that choose the size at run time.
        ///
        /// # Errors
        ///
        /// The window's [`ConfigError::OutOfRange`] (`window_size`) unless `1 <= size <= N`, as
        /// profile 0's; then as [`with_profiles`](Self::with_profiles), with every `min_calls`
        /// checked against `size`.
        pub fn with_profiles_and_window_size(
            profiles: [(&'static str, BreakerConfig); P],
            size: usize,
        ) -> Result<Self, ProfileError> {
            let window = match CountWindow::with_size(size) {
                Ok(w) => w,
                Err(error) => {
                    let name = match profiles.first() {
                        Some((n, _)) => n,
                        None => "",
                    };
                    return Err(ProfileError { profile: 0, name, error });
                }
            };
            if let Err(e) = check(&profiles, Some(size as u64)) {
                return Err(e);
            }
            let seed = seed_of(&profiles);
            Ok(Breaker::build(profiles_of(profiles), seed, window))
        }
    }
}

impl<const K: usize, const P: usize> Breaker<TimeWindow<K>, BreakerProfiles<P>> {
    loom_const_fn! {
        /// A closed breaker deciding on the calls of the last `window` of time, in `K` buckets,
        /// with one of `profiles`, the first in force.
        ///
        /// # Errors
        ///
        /// As the count window's `with_profiles` (without a bound of `min_calls`), then the
        /// window's own errors ([`TimeWindow::new`]) as profile 0's.
        pub fn with_profiles(
            profiles: [(&'static str, BreakerConfig); P],
            window: Nanos,
        ) -> Result<Self, ProfileError> {
            if let Err(e) = check(&profiles, None) {
                return Err(e);
            }
            let seed = seed_of(&profiles);
            match TimeWindow::new(window) {
                Ok(w) => Ok(Breaker::build(profiles_of(profiles), seed, w)),
                Err(error) => {
                    let name = match profiles.first() {
                        Some((n, _)) => n,
                        None => "",
                    };
                    Err(ProfileError { profile: 0, name, error })
                }
            }
        }
    }
}

impl<W: Window, const P: usize> Breaker<W, BreakerProfiles<P>> {
    /// The configuration in force.
    #[must_use]
    pub fn config(&self) -> &BreakerConfig {
        self.config.get(self.config.index())
    }

    /// The profiles, in the order given.
    #[must_use]
    pub const fn profiles(&self) -> &[(&'static str, BreakerConfig); P] {
        &self.config.profiles
    }

    /// The name of the profile in force.
    #[must_use]
    pub fn active_profile(&self) -> &'static str {
        match self.config.profiles.get(self.config.index()) {
            Some((name, _)) => name,
            None => "",
        }
    }

    /// The index of the profile in force.
    #[must_use]
    pub fn active_profile_index(&self) -> usize {
        self.config.index()
    }

    /// Puts profile `name` in force; returns the name of the profile it replaced.
    ///
    /// # Semantics
    ///
    /// One atomic store of the profile's index: every later decision decides with the new
    /// profile, every decision under way finishes with the one it read. The window, the state,
    /// the generation, the failure count, the open period under way and the counters are kept,
    /// and the switch itself never changes the state (see `docs/semantics/profiles.md` for which
    /// fields take effect when).
    ///
    /// # Errors
    ///
    /// [`SwitchError::UnknownProfile`] if no profile has this name (nothing changes).
    pub fn switch_profile(&self, name: &str) -> Result<&'static str, SwitchError> {
        let index = self
            .config
            .profiles
            .iter()
            .position(|(n, _)| *n == name)
            .ok_or(SwitchError::UnknownProfile)?;
        let previous = self.switch_profile_index(index)?;
        Ok(self.config.profiles.get(previous).map_or("", |(n, _)| n))
    }

    /// Puts the profile at `index` in force; returns the index it replaced.
    ///
    /// # Errors
    ///
    /// [`SwitchError::UnknownProfile`] if `index >= P` (nothing changes).
    pub fn switch_profile_index(&self, index: usize) -> Result<usize, SwitchError> {
        if index >= P {
            return Err(SwitchError::UnknownProfile);
        }
        // Relaxed: see the field. A swap rather than a store, so the caller learns what it
        // replaced even when two operators switch at once.
        let previous = self.config.index.swap(index as u64, Ordering::Relaxed);
        Ok(usize::try_from(previous).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limiter::RateLimiterConfig;

    fn q(rate: u64, burst: u64) -> Quota {
        Quota::per_second(rate, burst).unwrap()
    }

    #[test]
    fn config_errors_are_precise() {
        assert_eq!(
            LimiterProfiles::<0>::new([]).unwrap_err(),
            ConfigError::ZeroCount { field: "profiles" }
        );
        assert_eq!(
            LimiterProfiles::new([("a", q(1, 1)), ("", q(2, 1))]).unwrap_err(),
            ConfigError::OutOfRange { field: "profile_name", min: 1, max: u64::MAX, got: 0 }
        );
        assert_eq!(
            LimiterProfiles::new([("a", q(1, 1)), ("b", q(2, 1)), ("a", q(3, 1))]).unwrap_err(),
            ConfigError::OutOfRange { field: "profile_name", min: 0, max: 0, got: 2 }
        );
    }

    #[test]
    fn switching_keeps_the_spent_permits_and_unknown_names_change_nothing() {
        let profiles =
            LimiterProfiles::new([("normal", q(10, 10)), ("lenient", q(100, 20))]).unwrap();
        let limiter = RateLimiter::new(RateLimiterConfig::new(q(10, 10)), Nanos::ZERO);
        assert!(limiter.try_acquire_n(10, Nanos::ZERO).unwrap().is_admitted());
        assert_eq!(
            profiles.switch(&limiter, "nope", Nanos::ZERO),
            Err(SwitchError::UnknownProfile)
        );
        assert_eq!(profiles.active(&limiter), Some("normal"));
        profiles.switch(&limiter, "lenient", Nanos::ZERO).unwrap();
        assert_eq!(profiles.active(&limiter), Some("lenient"));
        // The bucket was empty and stays empty: the switch does not hand out a fresh burst.
        assert_eq!(limiter.snapshot(Nanos::ZERO).available, 0);
        assert!(!limiter.try_acquire(Nanos::ZERO).is_admitted());
        // …but refills at the lenient rate: 100 per second.
        assert_eq!(limiter.snapshot(Nanos::from_millis(100)).available, 10);
        profiles.switch(&limiter, "normal", Nanos::from_millis(100)).unwrap();
        assert_eq!(limiter.quota(), q(10, 10));
        let other = RateLimiter::new(RateLimiterConfig::new(q(7, 7)), Nanos::ZERO);
        assert_eq!(profiles.active(&other), None);
        assert_eq!(profiles.quota("lenient"), Some(q(100, 20)));
        assert_eq!(profiles.profiles().len(), 2);
    }

    mod breaker_profiles {
        use super::super::*;
        use crate::breaker::{RejectReason, State, TIME_RESOLUTION, Transition};
        use crate::window::Outcome;

        const T0: Nanos = Nanos::ZERO;

        fn ticks(n: u64) -> Nanos {
            Nanos::new(n * TIME_RESOLUTION.as_u64())
        }

        /// Consecutive rule `n`, a constant open period of `open` ticks, no jitter.
        fn cfg(n: u32, open: u64) -> BreakerConfig {
            BreakerConfig {
                consecutive_failures: Some(n),
                open_duration: ticks(open),
                max_open_duration: ticks(open * 4),
                jitter_ppm: 0,
                probe_timeout: ticks(100),
                ..BreakerConfig::DEFAULT
            }
        }

        type B = ProfiledBreaker<CountWindow<8>, 2>;

        fn fail<W: Window, const P: usize>(
            b: &ProfiledBreaker<W, P>,
            now: Nanos,
        ) -> crate::breaker::Recorded {
            b.try_acquire(now).unwrap().record(Outcome::Failure, now)
        }

        #[test]
        fn profile_errors_name_the_profile_and_the_rule() {
            let ok = cfg(3, 1000);
            let err = |r: Result<B, ProfileError>| r.unwrap_err();
            assert_eq!(
                ProfiledBreaker::<CountWindow<8>, 0>::with_profiles([]).unwrap_err(),
                ProfileError {
                    profile: 0,
                    name: "",
                    error: ConfigError::ZeroCount { field: "profiles" }
                }
            );
            assert_eq!(
                err(B::with_profiles([("a", ok), ("", ok)])).error,
                ConfigError::OutOfRange { field: "profile_name", min: 1, max: u64::MAX, got: 0 }
            );
            assert_eq!(
                err(B::with_profiles([("a", ok), ("a", ok)])),
                ProfileError {
                    profile: 1,
                    name: "a",
                    error: ConfigError::OutOfRange {
                        field: "profile_name",
                        min: 0,
                        max: 0,
                        got: 1
                    }
                }
            );
            // Each profile is checked against the breaker's one window.
            let wide = BreakerConfig { failure_rate_ppm: Some(500_000), min_calls: 9, ..ok };
            assert_eq!(
                err(B::with_profiles([("a", ok), ("b", wide)])),
                ProfileError {
                    profile: 1,
                    name: "b",
                    error: ConfigError::MinCallsExceedWindow { min_calls: 9, window: 8 }
                }
            );
            assert!(
                ProfiledBreaker::<TimeWindow<4>, 2>::with_profiles(
                    [("a", ok), ("b", wide)],
                    ticks(4)
                )
                .is_ok()
            );
            assert_eq!(
                ProfiledBreaker::<TimeWindow<4>, 2>::with_profiles(
                    [("a", ok), ("b", ok)],
                    ticks(0)
                )
                .unwrap_err()
                .error,
                ConfigError::ZeroDuration { field: "window_duration" }
            );
            let base = BreakerConfig { half_open_probes: 2, successes_to_close: 2, ..ok };
            let mismatches = [
                (BreakerConfig { half_open_probes: 3, ..base }, "half_open_probes"),
                (BreakerConfig { successes_to_close: 1, ..base }, "successes_to_close"),
                (BreakerConfig { shadow: true, ..base }, "shadow"),
                (BreakerConfig { count_rejections: true, ..base }, "count_rejections"),
                (BreakerConfig { seed: 7, ..base }, "seed"),
            ];
            for (other, field) in mismatches {
                let e = err(B::with_profiles([("a", base), ("b", other)]));
                assert_eq!(e.profile, 1);
                assert_eq!(e.error, ConfigError::ProfileMismatch { field });
                assert_eq!(ConfigError::from(e).field(), field);
            }
            let by_rate =
                BreakerConfig { failure_rate_ppm: Some(500_000), half_open_by_rate: true, ..base };
            let plain = BreakerConfig { failure_rate_ppm: Some(500_000), ..base };
            assert_eq!(
                err(B::with_profiles([("a", plain), ("b", by_rate)])).error,
                ConfigError::ProfileMismatch { field: "half_open_by_rate" }
            );
        }

        #[test]
        fn a_switch_keeps_window_state_and_generation_and_applies_to_the_next_decision() {
            let b = B::with_profiles([("strict", cfg(3, 1000)), ("lenient", cfg(6, 10))]).unwrap();
            assert_eq!((b.active_profile(), b.active_profile_index()), ("strict", 0));
            for _ in 0..2 {
                assert_eq!(fail(&b, T0).transition, Transition::None);
            }
            assert_eq!(b.switch_profile("lenient"), Ok("strict"));
            let s = b.snapshot(T0);
            assert_eq!((s.counts.failures, s.consecutive_failures, s.generation), (2, 2, 0));
            assert_eq!((s.state, s.profile), (State::Closed, 1));
            assert_eq!(b.config().consecutive_failures, Some(6));
            // The 3rd..5th failures trip the strict rule but not the lenient one.
            for _ in 0..3 {
                assert_eq!(fail(&b, T0).transition, Transition::None);
            }
            // Back to strict: a switch never trips by itself; the next outcome is judged.
            assert_eq!(b.switch_profile_index(0), Ok(1));
            assert_eq!(b.state(), State::Closed);
            assert_eq!(fail(&b, T0).transition, Transition::Opened);
            // Strict's open period: 1000 ticks. A switch now keeps the period under way.
            assert_eq!(b.open_remaining(T0), Some(ticks(1000)));
            assert_eq!(b.switch_profile("lenient"), Ok("strict"));
            assert_eq!(b.open_remaining(T0), Some(ticks(1000)));
            let r = b.try_acquire(ticks(999)).unwrap_err();
            assert_eq!(r.reason(), RejectReason::Open);
            // A failed probe reopens with lenient's period, doubled by the kept trip count.
            let probe = b.try_acquire(ticks(1000)).unwrap();
            assert!(probe.is_probe());
            assert_eq!(probe.record(Outcome::Failure, ticks(1000)).transition, Transition::Opened);
            let s = b.snapshot(ticks(1000));
            assert_eq!((s.consecutive_trips, s.generation), (2, 3));
            assert_eq!(s.open_remaining, Some(ticks(20)));
        }

        #[test]
        fn run_time_window_sizes_are_checked_for_every_profile() {
            let wide =
                BreakerConfig { failure_rate_ppm: Some(500_000), min_calls: 5, ..cfg(3, 10) };
            let sized = |size| {
                ProfiledBreaker::<CountWindow<8>, 2>::with_profiles_and_window_size(
                    [("a", cfg(3, 10)), ("b", wide)],
                    size,
                )
            };
            assert_eq!(sized(5).unwrap().window().size(), 5);
            assert_eq!(
                sized(4).unwrap_err(),
                ProfileError {
                    profile: 1,
                    name: "b",
                    error: ConfigError::MinCallsExceedWindow { min_calls: 5, window: 4 }
                }
            );
            assert_eq!(
                sized(9).unwrap_err().error,
                ConfigError::OutOfRange { field: "window_size", min: 1, max: 8, got: 9 }
            );
        }

        #[test]
        fn unknown_profiles_change_nothing() {
            let b = B::with_profiles([("a", cfg(3, 1000)), ("b", cfg(6, 10))]).unwrap();
            assert_eq!(b.switch_profile("c"), Err(SwitchError::UnknownProfile));
            assert_eq!(b.switch_profile_index(2), Err(SwitchError::UnknownProfile));
            assert_eq!(b.active_profile(), "a");
            assert_eq!(b.profiles()[1].0, "b");
            assert_eq!(b.config(), &cfg(3, 1000));
        }

        #[test]
        fn the_probe_timeout_of_the_profile_in_force_when_the_period_starts_holds() {
            let quick = BreakerConfig { probe_timeout: ticks(5), ..cfg(1, 10) };
            let slow = BreakerConfig { probe_timeout: ticks(50), ..cfg(1, 10) };
            let b = B::with_profiles([("quick", quick), ("slow", slow)]).unwrap();
            assert_eq!(fail(&b, T0).transition, Transition::Opened);
            let probe = b.try_acquire(ticks(10)).unwrap();
            assert_eq!(probe.transition(), Transition::HalfOpened);
            let token = probe.into_token();
            let _ = b.switch_profile("slow");
            // The half-open period's deadline was set under "quick": 10 + 5 ticks.
            let r = b.try_acquire(ticks(15)).unwrap_err();
            assert_eq!(r.transition(), Transition::Opened);
            b.ignore_token(token);
        }

        #[test]
        fn classify_and_slow_probes_follow_the_profile_in_force() {
            let plain = BreakerConfig { slow_call_duration: Some(ticks(1)), ..cfg(1, 10) };
            let slow_rule = BreakerConfig {
                slow_call_duration: Some(ticks(2)),
                slow_rate_ppm: Some(1_000_000),
                min_calls: 8,
                ..cfg(1, 10)
            };
            let b = B::with_profiles([("plain", plain), ("slow", slow_rule)]).unwrap();
            assert_eq!(b.classify(false, ticks(2)), Outcome::SlowSuccess);
            let _ = b.switch_profile("slow");
            assert_eq!(b.classify(false, ticks(2)), Outcome::Success);
            let _ = b.switch_profile("plain");
            assert_eq!(fail(&b, T0).transition, Transition::Opened);
            let probe = b.try_acquire(ticks(10)).unwrap();
            let _ = b.switch_profile("slow");
            // Under "slow", a slow probe counts as failed.
            assert_eq!(
                probe.record(Outcome::SlowSuccess, ticks(10)).transition,
                Transition::Opened
            );
        }

        #[test]
        fn a_profiled_breaker_can_live_in_a_static() {
            static B2: ProfiledBreaker<CountWindow<4>, 2> =
                match ProfiledBreaker::<CountWindow<4>, 2>::with_profiles([
                    ("normal", BreakerConfig::DEFAULT),
                    (
                        "lenient",
                        BreakerConfig { consecutive_failures: Some(50), ..BreakerConfig::DEFAULT },
                    ),
                ]) {
                    Ok(b) => b,
                    Err(_) => panic!("invalid profiles"),
                };
            assert_eq!(B2.active_profile(), "normal");
            assert!(B2.try_acquire(T0).is_ok());
        }
    }
}
