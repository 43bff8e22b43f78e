//! portcullis: lock-free, allocation-free admission control for services whose dependencies fail.
//!
//! `#![no_std]` without `alloc`: every primitive is a plain struct of atomic words, built by a
//! `const fn`, that can live in a `static`, in caller memory, or in memory shared between
//! processes. Time is always an argument (`now: Nanos`); the crate never reads a clock, never
//! allocates, never locks, and holds no global state.
//!
//! # Contents
//!
//! - [`breaker`]: the circuit breaker, [`Breaker`] on a packed atomic state word, deciding on a
//!   window ([`CountBreaker`], [`TimeBreaker`]).
//! - [`coord`]: coordinated breakers, a fixed acyclic dependency map over up to 64 breakers
//!   where a dependency that is down tightens the breakers that depend on it (they decide with
//!   their last profile) until it recovers, [`Coordinated`](coord::Coordinated).
//! - [`window`]: sliding windows of call outcomes, [`CountWindow`](window::CountWindow) (the last
//!   `N` calls) and [`TimeWindow`](window::TimeWindow) (the last `K` buckets of time), the evidence
//!   a circuit breaker decides on.
//! - [`histogram`]: fixed-size lock-free latency histograms with log-linear buckets and a
//!   documented relative error, cumulative or rolling over the last one to two periods.
//! - [`hedge`]: when to send a hedged request: a delay from live percentiles, a maximum number of
//!   hedges per call and a lock-free budget of extra requests.
//! - [`deadline`]: absolute deadlines, remaining budgets, child deadlines with a reserve, splits
//!   over hops, retry clamping, and the `grpc-timeout` and milliseconds header codecs.
//! - [`health`]: a health state machine with hysteresis and per-state check intervals, and an
//!   aggregate of liveness, readiness, startup and dependency checks.
//! - [`bulkhead`]: [`Bulkhead`](bulkhead::Bulkhead), a semaphore of permits on one atomic word
//!   (try-acquire `n`, release with over-release detection, resize while permits are out, shadow
//!   mode), and its RAII [`Permit`](bulkhead::Permit).
//! - [`adaptive`]: concurrency limits that move with observed latency,
//!   [`Aimd`](adaptive::Aimd) and [`Gradient`](adaptive::Gradient), which feed a bulkhead's limit.
//! - [`keyed`]: per-key (tenant, route) rate limiters, bulkheads and breakers in a
//!   fixed-capacity lock-free table, [`Keyed`](keyed::Keyed), with a shared overflow entry when
//!   a key's probe sequence is full.
//! - [`limiter`]: [`RateLimiter`](limiter::RateLimiter), a token bucket implemented as GCRA on
//!   one atomic word: weighted permits, wait times, reservations, run-time reconfiguration.
//! - [`profile`]: maintenance profiles, named configurations switched atomically without losing
//!   state: rate-limiter quotas ([`LimiterProfiles`](profile::LimiterProfiles)) and breaker
//!   configurations ([`ProfiledBreaker`](profile::ProfiledBreaker)), whose closed admission still
//!   reads one word.
//! - [`ramp`]: slow recovery after a breaker closes ([`Ramp`](ramp::Ramp), linear or
//!   exponential) and a probabilistic half-open, together in
//!   [`RampedBreaker`](ramp::RampedBreaker).
//! - [`retry`]: [`RetryPolicy`](retry::RetryPolicy) and the per-call
//!   [`RetryState`](retry::RetryState) (backoff, jitter, attempts, total time budget, server
//!   push-back, error classes as data), and the shared retry budgets
//!   [`RetryThrottle`](retry::RetryThrottle) (gRPC) and [`RatioBudget`](retry::RatioBudget)
//!   (Finagle).
//! - [`throttle`]: adaptive client-side throttling, [`Throttle`](throttle::Throttle): reject
//!   locally with probability `max(0, (requests − K·accepts) / (requests + 1))` over a sliding
//!   window, with Envoy's aggression exponent and rejection cap.
//! - [`shard`]: cells (jump consistent hashing) and shuffle shards of `k` out of `n` workers,
//!   pure and allocation-free, with the expected overlap between two keys' shards.
//! - [`clock`]: [`Nanos`], the [`Clock`] trait and [`ManualClock`] (tests, simulation);
//!   `MonotonicClock`, and the cheap `CoarseClock` and `UpkeepClock`, with the `std` feature.
//! - [`rng`]: seedable SplitMix64 generators for jitter, local or shared between threads.
//! - [`ConfigError`]: why a configuration was rejected.
//!
//! # Features
//!
//! - `std`: adds `clock::MonotonicClock` and `bulkhead::Bulkhead::acquire_timeout` (a bounded,
//!   parking wait for permits). Nothing else changes.
//! - `std`: adds `clock::MonotonicClock`, `clock::CoarseClock` (`CLOCK_MONOTONIC_COARSE` through
//!   `libc`) and `clock::UpkeepClock` (refreshed by a background thread the caller starts).
//!   Nothing else changes.
//! - `portable-atomic`: takes atomics from `portable-atomic` (without its lock-based fallback).
//!   Targets without 64-bit atomics (for example `thumbv7em`) build only if the final binary opts
//!   into portable-atomic's `critical-section` or `unsafe-assume-single-core` backend itself; the
//!   library never turns a global lock on by itself.
//!
//! # Verification
//!
//! Every concurrent primitive has a sequential reference model checked by proptest
//! (`core/tests/prop_*.rs`) and loom models of its interleavings (`core/tests/loom_*.rs`, run with
//! `RUSTFLAGS="--cfg loom"`); `core/tests/no_alloc*.rs` prove that no path allocates.
#![no_std]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]
#![warn(clippy::std_instead_of_core, clippy::alloc_instead_of_core)]
#![doc(test(attr(deny(warnings))))]

#[cfg(feature = "std")]
extern crate std;

pub mod adaptive;
pub mod breaker;
pub mod bulkhead;
pub mod clock;
pub mod coord;
pub mod deadline;
mod div;
mod error;
pub mod health;
pub mod hedge;
pub mod histogram;
pub mod keyed;
pub mod limiter;
pub mod profile;
pub mod ramp;
pub mod retry;
pub mod rng;
pub mod shard;
mod sync;
pub mod throttle;
pub mod window;
mod word;

// Only the breaker's own names: `Permit`, `Rejected`, `State` and `Transition` stay in the
// module, since other primitives have their own.
pub use breaker::{Breaker, BreakerConfig, CountBreaker, TimeBreaker};
pub use clock::{Clock, ManualClock, Nanos};
pub use error::ConfigError;
