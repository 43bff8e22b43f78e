//! The one place that names an atomic implementation.
//!
//! Every primitive imports its atomics from here, never from `core::sync::atomic`, `loom` or
//! `portable_atomic` directly (`scripts/test.sh` fails if another file of the core names them).
//! Three sources:
//!
//! - `--cfg loom`: loom's model-checked atomics, so `core/tests/loom_*.rs` explore every
//!   interleaving of the real code;
//! - feature `portable-atomic`: `portable_atomic`, built with `default-features = false` and
//!   `require-cas`, so a target without lock-free compare-and-swap fails to build instead of
//!   silently taking a global lock (its `fallback` feature is never enabled by this crate);
//! - otherwise `core::sync::atomic`.
//!
//! loom's atomics cannot be built in a `const fn`, so constructors are declared through
//! `loom_const_fn!`: `const` in normal builds, plain under loom.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU64, Ordering, fence};

#[cfg(all(not(loom), feature = "portable-atomic"))]
pub(crate) use portable_atomic::{AtomicU64, Ordering, fence};

#[cfg(all(not(loom), not(feature = "portable-atomic")))]
pub(crate) use core::sync::atomic::{AtomicU64, Ordering, fence};

/// Atomics that are never model-checked: the [`ManualClock`](crate::clock::ManualClock) that tests
/// and the simulator drive from outside a loom model.
pub(crate) mod plain {
    #[cfg(feature = "portable-atomic")]
    pub(crate) use portable_atomic::{AtomicU64, Ordering};

    #[cfg(not(feature = "portable-atomic"))]
    pub(crate) use core::sync::atomic::{AtomicU64, Ordering};
}

/// An array of `N` atomics, all zero.
///
/// Every primitive's initial state is the all-zero word, so one helper serves them all.
#[cfg(not(loom))]
pub(crate) const fn zeroed_array<const N: usize>() -> [AtomicU64; N] {
    [const { AtomicU64::new(0) }; N]
}

/// An array of `N` atomics, all zero (loom build: not `const`).
#[cfg(loom)]
pub(crate) fn zeroed_array<const N: usize>() -> [AtomicU64; N] {
    core::array::from_fn(|_| AtomicU64::new(0))
}

/// Declares a function that is `const` in normal builds and non-`const` under `--cfg loom`,
/// whose atomics have no `const` constructor.
macro_rules! loom_const_fn {
    ($(#[$meta:meta])* $vis:vis fn $($rest:tt)*) => {
        #[cfg(not(loom))]
        $(#[$meta])* $vis const fn $($rest)*
        #[cfg(loom)]
        $(#[$meta])* $vis fn $($rest)*
    };
}
pub(crate) use loom_const_fn;

/// A value on a cache line of its own, so that two hot words written by different threads do not
/// invalidate each other (false sharing).
///
/// 128 bytes: x86-64 prefetches cache lines in adjacent pairs and Apple/ARM big cores use 128-byte
/// lines (the same choice as crossbeam-utils' `CachePadded` on these targets).
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct CachePadded<T>(pub(crate) T);

impl<T> core::ops::Deref for CachePadded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}
