//! portcullis: lock-free, allocation-free admission control for services whose dependencies fail.
//!
//! `#![no_std]` without `alloc`: every primitive is a plain struct of atomic words, built by a
//! `const fn`, that can live in a `static`, in caller memory, or in memory shared between
//! processes. Time is always an argument (`now: Nanos`); the crate never reads a clock, never
//! allocates, never locks, and holds no global state.
//!
//! # Contents
//!
//! - [`window`]: sliding windows of call outcomes, [`CountWindow`](window::CountWindow) (the last
//!   `N` calls) and [`TimeWindow`](window::TimeWindow) (the last `K` buckets of time), the evidence
//!   a circuit breaker decides on.
//! - [`retry`]: [`RetryPolicy`](retry::RetryPolicy) and the per-call
//!   [`RetryState`](retry::RetryState) (backoff, jitter, attempts, total time budget, server
//!   push-back, error classes as data), and the shared retry budgets
//!   [`RetryThrottle`](retry::RetryThrottle) (gRPC) and [`RatioBudget`](retry::RatioBudget)
//!   (Finagle).
//! - [`clock`]: [`Nanos`], the [`Clock`] trait and [`ManualClock`] (tests, simulation);
//!   `MonotonicClock` with the `std` feature.
//! - [`rng`]: seedable SplitMix64 generators for jitter, local or shared between threads.
//! - [`ConfigError`]: why a configuration was rejected.
//!
//! # Features
//!
//! - `std`: adds `clock::MonotonicClock`. Nothing else changes.
//! - `portable-atomic`: takes atomics from `portable-atomic` (without its lock-based fallback).
//!   Targets without 64-bit atomics (for example `thumbv7em`) build only if the final binary opts
//!   into portable-atomic's `critical-section` or `unsafe-assume-single-core` backend itself; the
//!   library never turns a global lock on by itself.
//!
//! # Verification
//!
//! Every concurrent primitive has a sequential reference model checked by proptest
//! (`core/tests/prop_*.rs`) and loom models of its interleavings (`core/tests/loom_*.rs`, run with
//! `RUSTFLAGS="--cfg loom"`); `core/tests/no_alloc.rs` proves that no path allocates.
#![no_std]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]
#![warn(clippy::std_instead_of_core, clippy::alloc_instead_of_core)]
#![doc(test(attr(deny(warnings))))]

#[cfg(feature = "std")]
extern crate std;

pub mod clock;
mod error;
pub mod retry;
pub mod rng;
mod sync;
pub mod window;
mod word;

pub use clock::{Clock, ManualClock, Nanos};
pub use error::ConfigError;
