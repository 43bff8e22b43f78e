//! Maintenance profiles: named rate-limiter configurations an operator switches between
//! atomically, without losing the limiter's state.
//!
//! [`LimiterProfiles<P>`] holds `P` named [`Quota`]s. [`switch`](LimiterProfiles::switch) puts
//! one in force on a [`RateLimiter`] through [`RateLimiter::reconfigure`], which keeps the
//! permits already spent (its theoretical arrival time is converted, not reset);
//! [`active`](LimiterProfiles::active) reads which profile is in force from the limiter itself,
//! so the two can never disagree. When to switch (a maintenance window, a load test) is the
//! caller's business.
//!
//! The exact semantics are in `docs/semantics/profiles.md`, included below.
#![doc = include_str!("../../docs/semantics/profiles.md")]

use core::fmt;

use crate::clock::Nanos;
use crate::error::ConfigError;
use crate::limiter::{Quota, RateLimiter};

/// Why a [`LimiterProfiles::switch`] did not happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SwitchError {
    /// No profile has this name.
    UnknownProfile,
    /// Another reconfiguration of the limiter has not finished; nothing changed.
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
}
