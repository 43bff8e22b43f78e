//! Rate limiters for C: a GCRA token bucket on one atomic word. Semantics:
//! `docs/semantics/rate-limiter.md`.
//!
//! Time is an argument: every decision takes `now_ns` on the caller's clock (the `_now` variants
//! read `pcl_now_ns()`), and the limiter's origin is the `now_ns` given to `_init`/`_new` through
//! the config. Every process sharing a limiter must use the same clock.
//!
//! Thread-safety: every function on a live limiter may be called from any number of threads at
//! once (lock-free); `_init`, `_new` and `_free` must not race with other calls on the same
//! object.

use core::ffi::c_void;

use portcullis::limiter::{
    Decision, Quota, RateLimiter, RateLimiterConfig, RawReservation, Reservation, ReserveError,
    Start,
};
use portcullis::{ConfigError, Nanos};

use crate::boundary::{
    Config, free_boxed, init_object, new_object, normalize_bool, read_bool, with, write_opt,
    write_out,
};
use crate::clock::pcl_now_ns;
use crate::status::pcl_status;

/// `start`: the bucket starts full (a burst is admitted at once).
pub const PCL_LIMITER_START_FULL: u32 = 0;
/// `start`: the bucket starts empty (the first permit comes back one interval after the origin).
pub const PCL_LIMITER_START_EMPTY: u32 = 1;
/// The largest `rate_per_second`.
pub const PCL_LIMITER_MAX_RATE_PER_SECOND: u64 = 1_000_000_000;
/// The largest `interval_ns`, `burst` and `interval_ns × burst`.
pub const PCL_LIMITER_MAX_SPAN_NS: u64 = 72_057_594_037_927_936;
/// Counters of `pcl_limiter_stats` when counting is off.
pub const PCL_LIMITER_NOT_COUNTED: u64 = u64::MAX;

/// The `tat` field of the state word of `pcl_limiter_state_word` (`word & MASK`).
pub const PCL_LIMITER_WORD_TAT_MASK: u64 = 0x0fff_ffff_ffff_ffff;
/// The generation field of that word (`(word >> SHIFT) & MASK`); its low bit selects the
/// configuration slot.
pub const PCL_LIMITER_WORD_GENERATION_SHIFT: u32 = 60;
/// See `PCL_LIMITER_WORD_GENERATION_SHIFT`.
pub const PCL_LIMITER_WORD_GENERATION_MASK: u64 = 7;
/// The last instant, relative to the origin, that a limiter tells apart (about 34.3 years): a
/// later `now_ns − origin_ns` reads as this one.
pub const PCL_LIMITER_MAX_RELATIVE_NOW_NS: u64 = 1_080_863_910_568_919_039;
const _: () = {
    use portcullis::limiter::{GENERATION_BITS, MAX_RELATIVE_NOW_NS, TAT_BITS};
    assert!(PCL_LIMITER_WORD_TAT_MASK == (1 << TAT_BITS) - 1);
    assert!(PCL_LIMITER_WORD_GENERATION_SHIFT == TAT_BITS);
    assert!(PCL_LIMITER_WORD_GENERATION_MASK == (1 << GENERATION_BITS) - 1);
    assert!(PCL_LIMITER_MAX_RELATIVE_NOW_NS == MAX_RELATIVE_NOW_NS);
};

/// `sizeof` a `pcl_limiter`, for static or shared-memory placement.
pub const PCL_LIMITER_SIZE: usize = 512;
/// Required alignment of a `pcl_limiter`.
pub const PCL_LIMITER_ALIGN: usize = 128;

/// A rate limiter (opaque to C).
#[derive(Debug)]
pub struct pcl_limiter(RateLimiter);

const _: () = assert!(size_of::<pcl_limiter>() == PCL_LIMITER_SIZE);
const _: () = assert!(align_of::<pcl_limiter>() == PCL_LIMITER_ALIGN);
const _: () = assert!(PCL_LIMITER_MAX_SPAN_NS == portcullis::limiter::MAX_SPAN_NS);
const _: () = assert!(PCL_LIMITER_MAX_RATE_PER_SECOND == portcullis::limiter::MAX_RATE_PER_SECOND);

/// Configuration of a `pcl_limiter`. Start from `pcl_limiter_config_default()`.
///
/// The rate is `rate_per_second` when it is non-zero (the interval is then
/// `⌈10⁹ / rate_per_second⌉` ns), else one permit every `interval_ns`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct pcl_limiter_config {
    /// `sizeof(pcl_limiter_config)` as the caller compiled it (set by the default).
    pub size: usize,
    /// Permits per second, `1..=PCL_LIMITER_MAX_RATE_PER_SECOND`; 0 to use `interval_ns`.
    /// Default 100.
    pub rate_per_second: u64,
    /// The emission interval (one permit every `interval_ns`), used when `rate_per_second` is 0;
    /// `1..=PCL_LIMITER_MAX_SPAN_NS`. Default 0.
    pub interval_ns: u64,
    /// The most permits available at once, `>= 1`, with `interval × burst <=
    /// PCL_LIMITER_MAX_SPAN_NS`. Default 100.
    pub burst: u64,
    /// The caller's clock reading that the limiter's time starts from (pass the current
    /// `pcl_now_ns()`, or 0 for a virtual clock that starts at 0). Default 0.
    pub origin_ns: u64,
    /// `PCL_LIMITER_START_FULL` or `PCL_LIMITER_START_EMPTY`. Default full.
    pub start: u32,
    /// Count admitted and refused decisions (one extra write per decision). Default false.
    pub counting: bool,
    /// Shadow mode: decide and count, but always admit (nothing taken on a refusal). Default
    /// false.
    pub shadow: bool,
}

// SAFETY: repr(C), starts with `size: usize`, plain integers and bools; every bool is read back
// with `read_bool`, never as a Rust bool.
unsafe impl Config for pcl_limiter_config {
    const MIN_SIZE: usize = size_of::<pcl_limiter_config>();
    unsafe fn sanitize(raw: *mut Self) {
        // SAFETY: `raw` points to a writable `Self` (trait contract); each field is one byte.
        unsafe {
            normalize_bool(&raw mut (*raw).counting);
            normalize_bool(&raw mut (*raw).shadow);
        }
    }
    fn defaults() -> Self {
        pcl_limiter_config {
            size: size_of::<Self>(),
            rate_per_second: 100,
            interval_ns: 0,
            burst: 100,
            origin_ns: 0,
            start: PCL_LIMITER_START_FULL,
            counting: false,
            shadow: false,
        }
    }
}

/// Permits reserved by `pcl_limiter_reserve`, as plain data: use them from `ready_at_ns`, or
/// give them back once with `pcl_limiter_cancel`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct pcl_limiter_reservation {
    /// The permits reserved.
    pub permits: u64,
    /// The instant (on the caller's clock) from which they may be used.
    pub ready_at_ns: u64,
    /// Private to the library (what `pcl_limiter_cancel` checks).
    pub private_word: u64,
    /// Private to the library.
    pub private_cost: u64,
}

/// What `pcl_limiter_state_word` gives: the words a caller reads to decide
/// `pcl_limiter_try_acquire` inline, and what they are relative to.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct pcl_limiter_words {
    /// The limiter's state word.
    pub state: *const u64,
    /// Four words: the interval and span (`interval × burst`, ns) of even generations, then
    /// those of odd generations.
    pub slots: *const u64,
    /// The limiter's origin (`origin_ns` of its config).
    pub origin_ns: u64,
    /// Whether counting is on (then decide with `pcl_limiter_try_acquire`).
    pub counting: bool,
    /// Whether shadow mode is on (then decide with `pcl_limiter_try_acquire`).
    pub shadow: bool,
}

/// A limiter's state at one moment.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct pcl_limiter_stats {
    /// Permits `pcl_limiter_try_acquire` would admit now.
    pub available: u64,
    /// The emission interval in force.
    pub interval_ns: u64,
    /// The burst in force.
    pub burst: u64,
    /// Admitting decisions (reservations included), or `PCL_LIMITER_NOT_COUNTED`.
    pub admitted: u64,
    /// Refusing decisions, or `PCL_LIMITER_NOT_COUNTED`.
    pub rejected: u64,
    /// Whether shadow mode is on.
    pub shadow: bool,
}

/// The `pcl_status` for a rejected quota: one per field.
fn config_status(e: ConfigError) -> pcl_status {
    match e.field() {
        "rate" => pcl_status::InvalidLimiterRate,
        "interval" => pcl_status::InvalidLimiterInterval,
        _ => pcl_status::InvalidLimiterBurst,
    }
}

fn quota(rate_per_second: u64, interval_ns: u64, burst: u64) -> Result<Quota, pcl_status> {
    if rate_per_second == 0 {
        Quota::per_interval(Nanos::new(interval_ns), burst)
    } else {
        Quota::per_second(rate_per_second, burst)
    }
    .map_err(config_status)
}

fn build(cfg: &pcl_limiter_config) -> Result<pcl_limiter, pcl_status> {
    let q = quota(cfg.rate_per_second, cfg.interval_ns, cfg.burst)?;
    let start = match cfg.start {
        PCL_LIMITER_START_FULL => Start::Full,
        PCL_LIMITER_START_EMPTY => Start::Empty,
        _ => return Err(pcl_status::InvalidLimiterStart),
    };
    // SAFETY: fields of a local config, readable as a byte.
    let (counting, shadow) =
        unsafe { (read_bool(&raw const cfg.counting), read_bool(&raw const cfg.shadow)) };
    let config = RateLimiterConfig::new(q).start(start).counting(counting).shadow(shadow);
    Ok(pcl_limiter(RateLimiter::new(config, Nanos::new(cfg.origin_ns))))
}

/// The default limiter configuration (`size` set; 100 per second, burst 100, full).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_limiter_config_default() -> pcl_limiter_config {
    pcl_limiter_config::defaults()
}

/// `sizeof` a `pcl_limiter` (equals `PCL_LIMITER_SIZE`).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_limiter_size() -> usize {
    size_of::<pcl_limiter>()
}

/// Required alignment of a `pcl_limiter` (equals `PCL_LIMITER_ALIGN`).
#[unsafe(no_mangle)]
pub extern "C" fn pcl_limiter_align() -> usize {
    align_of::<pcl_limiter>()
}

/// Initialises a limiter in caller memory (see `pcl_count_window_init` for the rules on `mem`);
/// config errors are `PCL_STATUS_INVALID_LIMITER_*`.
///
/// # Safety
///
/// `mem` must be NULL or valid for writes of `size` bytes and hold no live object in use;
/// `config` NULL or a readable config whose `size` field is truthful.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_limiter_init(
    mem: *mut c_void,
    size: usize,
    config: *const pcl_limiter_config,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { init_object(mem, size, config, build) }
}

/// Creates a limiter on the heap; free it with `pcl_limiter_free`.
///
/// # Safety
///
/// `config` as for `pcl_limiter_init`; `limiter_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_limiter_new(
    config: *const pcl_limiter_config,
    limiter_out: *mut *mut pcl_limiter,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { new_object(config, limiter_out, build) }
}

/// Frees a limiter made by `pcl_limiter_new`. NULL is a no-op.
///
/// # Safety
///
/// `limiter` must be NULL or a pointer from `pcl_limiter_new`, not yet freed, with no call on it
/// running or following.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pcl_limiter_free(limiter: *mut pcl_limiter) {
    // SAFETY: forwarded caller guarantees.
    unsafe { free_boxed(limiter) }
}

/// Takes `n` permits at `now_ns`, all or nothing (`n == 0` is always admitted).
///
/// Returns `PCL_STATUS_OK`, `PCL_STATUS_RATE_LIMITED` (nothing taken; the same request fits
/// `*retry_after_ns_out` from now if nothing else is taken meanwhile), `PCL_STATUS_EXCEEDS_CAPACITY`
/// (`n` above the burst: never admissible) or `PCL_STATUS_NULL_ARGUMENT`. In shadow mode a
/// refusal is returned as `PCL_STATUS_OK` (nothing taken, the refusal counted).
/// `retry_after_ns_out` may be NULL; it is written only on `PCL_STATUS_RATE_LIMITED`. One CAS;
/// lock-free.
///
/// # Safety
///
/// `limiter` must be NULL or a live limiter; `retry_after_ns_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_limiter_try_acquire(
    limiter: *const pcl_limiter,
    n: u64,
    now_ns: u64,
    retry_after_ns_out: *mut u64,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(limiter, |l| match l.0.try_acquire_n(n, Nanos::new(now_ns)) {
            Ok(Decision::Admitted | Decision::ShadowAdmitted { .. }) => pcl_status::Ok,
            Ok(Decision::Rejected { retry_after }) => {
                write_opt(retry_after_ns_out, retry_after.as_u64());
                pcl_status::RateLimited
            }
            Err(_) => pcl_status::ExceedsCapacity,
        })
    }
}

/// `pcl_limiter_try_acquire` at `pcl_now_ns()`.
///
/// # Safety
///
/// As `pcl_limiter_try_acquire`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_limiter_try_acquire_now(
    limiter: *const pcl_limiter,
    n: u64,
    retry_after_ns_out: *mut u64,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { pcl_limiter_try_acquire(limiter, n, pcl_now_ns(), retry_after_ns_out) }
}

/// How long from `now_ns` until `n` permits fit, into `*wait_ns_out` (0: now). Takes nothing.
/// Returns `PCL_STATUS_EXCEEDS_CAPACITY` for `n` above the burst.
///
/// # Safety
///
/// `limiter` must be NULL or a live limiter; `wait_ns_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_limiter_wait_time(
    limiter: *const pcl_limiter,
    n: u64,
    now_ns: u64,
    wait_ns_out: *mut u64,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(limiter, |l| match l.0.wait_time(n, Nanos::new(now_ns)) {
            Ok(w) => write_out(wait_ns_out, w.as_u64()),
            Err(_) => pcl_status::ExceedsCapacity,
        })
    }
}

/// `pcl_limiter_wait_time` at `pcl_now_ns()`.
///
/// # Safety
///
/// As `pcl_limiter_wait_time`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_limiter_wait_time_now(
    limiter: *const pcl_limiter,
    n: u64,
    wait_ns_out: *mut u64,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { pcl_limiter_wait_time(limiter, n, pcl_now_ns(), wait_ns_out) }
}

/// Reserves `n` permits at `now_ns` for the earliest time they fit, if that is at most
/// `max_wait_ns` away: on `PCL_STATUS_OK` they are taken and `*reservation_out` says from when
/// they may be used (`ready_at_ns`).
///
/// Returns `PCL_STATUS_OK`, `PCL_STATUS_RESERVATION_TOO_FAR` (nothing taken),
/// `PCL_STATUS_EXCEEDS_CAPACITY` (`n` above the burst) or `PCL_STATUS_NULL_ARGUMENT`
/// (`reservation_out` is checked before anything is taken). One CAS; lock-free.
///
/// # Safety
///
/// `limiter` must be NULL or a live limiter; `reservation_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_limiter_reserve(
    limiter: *const pcl_limiter,
    n: u64,
    now_ns: u64,
    max_wait_ns: u64,
    reservation_out: *mut pcl_limiter_reservation,
) -> pcl_status {
    if reservation_out.is_null() {
        return pcl_status::NullArgument;
    }
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(limiter, |l| match l.0.reserve(n, Nanos::new(now_ns), Nanos::new(max_wait_ns)) {
            Ok(r) => {
                let raw = r.into_raw();
                let out = pcl_limiter_reservation {
                    permits: raw.permits,
                    ready_at_ns: raw.ready_at.as_u64(),
                    private_word: raw.word,
                    private_cost: raw.cost,
                };
                write_out(reservation_out, out)
            }
            Err(ReserveError::InsufficientCapacity(_)) => pcl_status::ExceedsCapacity,
            Err(ReserveError::TooFar { .. }) => pcl_status::ReservationTooFar,
        })
    }
}

/// Gives back the permits of `reservation` at `now_ns` if nothing was taken after it and they
/// are not valid yet (`now_ns < ready_at_ns`); all or nothing.
///
/// Returns `PCL_STATUS_OK` (given back, or a reservation of 0 permits), `PCL_STATUS_NOT_CANCELLED`
/// (nothing given back) or `PCL_STATUS_NULL_ARGUMENT`. Cancel each reservation at most once: a
/// copy cancelled again gives nothing back unless the limiter's word has returned to exactly
/// the value the reservation left. One CAS.
///
/// # Safety
///
/// `limiter` must be NULL or a live limiter; `reservation` NULL or a readable reservation.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_limiter_cancel(
    limiter: *const pcl_limiter,
    reservation: *const pcl_limiter_reservation,
    now_ns: u64,
) -> pcl_status {
    // SAFETY: NULL is handled; otherwise the caller guarantees a readable reservation.
    let Some(r) = (unsafe { reservation.as_ref() }).copied() else {
        return pcl_status::NullArgument;
    };
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(limiter, |l| {
            let raw = RawReservation {
                permits: r.permits,
                ready_at: Nanos::new(r.ready_at_ns),
                word: r.private_word,
                cost: r.private_cost,
            };
            if l.0.cancel(Reservation::from_raw(raw), Nanos::new(now_ns)) {
                pcl_status::Ok
            } else {
                pcl_status::NotCancelled
            }
        })
    }
}

/// Replaces the rate and burst at `now_ns`, keeping the fill level (capped at the new burst).
/// `rate_per_second`, `interval_ns` and `burst` mean what they mean in `pcl_limiter_config`.
///
/// Returns `PCL_STATUS_OK`, `PCL_STATUS_INVALID_LIMITER_RATE` / `_INTERVAL` / `_BURST` (nothing
/// changed), `PCL_STATUS_RECONFIGURE_IN_PROGRESS` (another reconfiguration is running; nothing
/// changed) or `PCL_STATUS_NULL_ARGUMENT`. Outstanding reservations can no longer be cancelled.
///
/// # Safety
///
/// `limiter` must be NULL or a live limiter.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_limiter_reconfigure(
    limiter: *const pcl_limiter,
    rate_per_second: u64,
    interval_ns: u64,
    burst: u64,
    now_ns: u64,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(limiter, |l| match quota(rate_per_second, interval_ns, burst) {
            Ok(q) => match l.0.reconfigure(q, Nanos::new(now_ns)) {
                Ok(()) => pcl_status::Ok,
                Err(_) => pcl_status::ReconfigureInProgress,
            },
            Err(s) => s,
        })
    }
}

/// The addresses of the limiter's state word and configuration slots, its origin and its flags
/// into `*words_out`, for callers that decide `pcl_limiter_try_acquire` inline with atomics of
/// their own, without a call (the Go package does, to avoid a cgo call).
///
/// Only when `counting` and `shadow` are both false; otherwise call `pcl_limiter_try_acquire`.
/// For `n >= 1` permits at `now_ns` (`n == 0` is admitted without reading anything):
///
/// 1. `rel = now_ns − origin_ns` (0 if `now_ns < origin_ns`), at most
///    `PCL_LIMITER_MAX_RELATIVE_NOW_NS`.
/// 2. `word = __atomic_load_n(state, __ATOMIC_ACQUIRE)`.
/// 3. Load the four slot words (relaxed is enough, after step 2); with
///    `g = (word >> PCL_LIMITER_WORD_GENERATION_SHIFT) & PCL_LIMITER_WORD_GENERATION_MASK`,
///    `interval = slots[2 * (g & 1)]`, `span = slots[2 * (g & 1) + 1]`.
/// 4. `cost = n × interval`; if it overflows 64 bits or exceeds `span`: exceeds the capacity
///    (step 6).
/// 5. `tat = word & PCL_LIMITER_WORD_TAT_MASK`, `new_tat = max(tat, rel) + cost` (no overflow).
///    If `new_tat − rel <= span`, compare-and-swap `*state` from `word` to
///    `(word & ~PCL_LIMITER_WORD_TAT_MASK) | new_tat` with release (or stronger) ordering, keeping
///    every bit above `tat` as it is: success is `PCL_STATUS_OK`; failure goes back to step 2
///    (or 3 with the value the CAS found). Otherwise `PCL_STATUS_RATE_LIMITED` with
///    `retry_after = new_tat − rel − span`.
/// 6. Before returning a refusal, reload the word (acquire); if its generation differs from
///    `word`'s, a reconfiguration completed meanwhile (the slot read may be half-written): go
///    back to step 3 with the new word.
///
/// The result is exactly `pcl_limiter_try_acquire`'s, and inline decisions mix freely with
/// calls on the same limiter. Never write the slots, nor the state word except by that CAS. The
/// pointers are valid while the limiter lives; the layout is part of this version of the ABI
/// (as the object sizes are).
///
/// Returns `PCL_STATUS_OK` or `PCL_STATUS_NULL_ARGUMENT` (nothing written).
///
/// # Safety
///
/// `limiter` must be NULL or a live limiter; `words_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_limiter_state_word(
    limiter: *const pcl_limiter,
    words_out: *mut pcl_limiter_words,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(limiter, |l| {
            let raw = l.0.raw_words();
            let out = pcl_limiter_words {
                state: raw.state,
                slots: raw.slots.cast::<u64>(),
                origin_ns: raw.origin.as_u64(),
                counting: raw.counting,
                shadow: raw.shadow,
            };
            write_out(words_out, out)
        })
    }
}

/// The limiter's state at `now_ns` into `*stats_out`.
///
/// # Safety
///
/// `limiter` must be NULL or a live limiter; `stats_out` NULL or valid for one write.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_limiter_snapshot(
    limiter: *const pcl_limiter,
    now_ns: u64,
    stats_out: *mut pcl_limiter_stats,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        with(limiter, |l| {
            let s = l.0.snapshot(Nanos::new(now_ns));
            let out = pcl_limiter_stats {
                available: s.available,
                interval_ns: s.interval.as_u64(),
                burst: s.burst,
                admitted: s.admitted.unwrap_or(PCL_LIMITER_NOT_COUNTED),
                rejected: s.rejected.unwrap_or(PCL_LIMITER_NOT_COUNTED),
                shadow: s.shadow,
            };
            write_out(stats_out, out)
        })
    }
}

/// `pcl_limiter_snapshot` at `pcl_now_ns()`.
///
/// # Safety
///
/// As `pcl_limiter_snapshot`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_limiter_snapshot_now(
    limiter: *const pcl_limiter,
    stats_out: *mut pcl_limiter_stats,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { pcl_limiter_snapshot(limiter, pcl_now_ns(), stats_out) }
}

/// `pcl_limiter_reserve` at `pcl_now_ns()`.
///
/// # Safety
///
/// As `pcl_limiter_reserve`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_limiter_reserve_now(
    limiter: *const pcl_limiter,
    n: u64,
    max_wait_ns: u64,
    reservation_out: *mut pcl_limiter_reservation,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { pcl_limiter_reserve(limiter, n, pcl_now_ns(), max_wait_ns, reservation_out) }
}

/// `pcl_limiter_cancel` at `pcl_now_ns()`.
///
/// # Safety
///
/// As `pcl_limiter_cancel`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn pcl_limiter_cancel_now(
    limiter: *const pcl_limiter,
    reservation: *const pcl_limiter_reservation,
) -> pcl_status {
    // SAFETY: forwarded caller guarantees.
    unsafe { pcl_limiter_cancel(limiter, reservation, pcl_now_ns()) }
}
