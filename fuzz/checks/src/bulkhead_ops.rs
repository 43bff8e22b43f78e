//! `bulkhead_ops`: a bulkhead with an input-derived limit, built through `pcl_bulkhead_new` /
//! `pcl_bulkhead_init`, driven through the C ABI by acquisitions of `n` permits (immediate and
//! with a short timeout), releases (over-releases included), resizes and shadow-mode switches,
//! checked after every step against a sequential model written from
//! `docs/semantics/bulkhead.md`.
//!
//! Properties: construction and `pcl_bulkhead_resize` accept exactly the limits
//! `0..=PCL_BULKHEAD_MAX_LIMIT` (`PCL_STATUS_INVALID_BULKHEAD_LIMIT` otherwise, limit unchanged);
//! every call returns a status its documentation lists; an acquisition is admitted iff
//! `in_flight + n <= limit` (`EXCEEDS_CAPACITY` for `n > limit`, `NO_PERMITS` otherwise), or in
//! shadow mode unless it would pass `2²⁴ − 1` in flight; `in_flight` always equals the permits
//! acquired and not released, so it never exceeds them; a release of more than are out returns
//! `PCL_STATUS_OVER_RELEASE`, releases nothing, is counted, and never grows capacity (the limit
//! and `available` are unchanged); `available = limit − in_flight` (0 when over the limit);
//! `admitted`, `rejected` and `over_releases` count exactly the documented events; NULL
//! pointers are reported.
//!
//! Input: a flags byte, the limit, then one operation per 1 to 5 bytes.
use crate::Bytes;
use core::ffi::c_void;
use portcullis_ffi::bulkhead::{
    PCL_BULKHEAD_MAX_LIMIT, pcl_bulkhead, pcl_bulkhead_acquire_timeout, pcl_bulkhead_align,
    pcl_bulkhead_config_default, pcl_bulkhead_free, pcl_bulkhead_init, pcl_bulkhead_new,
    pcl_bulkhead_release, pcl_bulkhead_resize, pcl_bulkhead_set_shadow, pcl_bulkhead_size,
    pcl_bulkhead_snapshot, pcl_bulkhead_stats, pcl_bulkhead_try_acquire,
};
use portcullis_ffi::status::pcl_status;
use std::alloc::Layout;

/// The most permits the state word can count in flight (reached only in shadow mode).
const MAX_IN_FLIGHT: u64 = (1 << 24) - 1;

#[derive(Debug, Default)]
struct Model {
    in_flight: u64,
    limit: u64,
    shadow: bool,
    admitted: u64,
    rejected: u64,
    over_releases: u64,
}

impl Model {
    /// The status of acquiring `n`, applied.
    fn acquire(&mut self, n: u32) -> pcl_status {
        let n = u64::from(n);
        let refusal = if n > self.limit {
            Some(pcl_status::ExceedsCapacity)
        } else if self.in_flight + n > self.limit {
            Some(pcl_status::NoPermits)
        } else {
            None
        };
        match refusal {
            None => {
                self.in_flight += n;
                self.admitted += 1;
                pcl_status::Ok
            }
            Some(_) if self.shadow && self.in_flight + n <= MAX_IN_FLIGHT => {
                self.in_flight += n;
                self.rejected += 1;
                pcl_status::Ok
            }
            Some(r) => {
                self.rejected += 1;
                r
            }
        }
    }

    fn release(&mut self, n: u32) -> pcl_status {
        if u64::from(n) > self.in_flight {
            self.over_releases += 1;
            pcl_status::OverRelease
        } else {
            self.in_flight -= u64::from(n);
            pcl_status::Ok
        }
    }
}

/// A count of permits: mostly small, now and then near the limits of the fields.
fn permits(b: &mut Bytes<'_>, limit: u64) -> u32 {
    let x = b.u8();
    match x % 16 {
        0 => 0,
        1 => u32::try_from(limit).unwrap_or(u32::MAX),
        2 => u32::try_from(limit + 1).unwrap_or(u32::MAX),
        3 => [u32::MAX, 1 << 24, (1 << 24) - 1, PCL_BULKHEAD_MAX_LIMIT, PCL_BULKHEAD_MAX_LIMIT + 1]
            [usize::from(x >> 4) % 5],
        4 => b.u32(),
        _ => u32::from(x >> 4) % 5 + 1,
    }
}

/// A limit: mostly small, now and then at or past the maximum.
fn limit(b: &mut Bytes<'_>) -> u32 {
    let x = b.u8();
    match x % 8 {
        0 => 0,
        1 => PCL_BULKHEAD_MAX_LIMIT - u32::from(x >> 3) % 2,
        2 => PCL_BULKHEAD_MAX_LIMIT + 1 + u32::from(x >> 3),
        3 => b.u32(),
        _ => u32::from(x >> 3) % 12 + 1,
    }
}

fn snapshot(h: *const pcl_bulkhead) -> pcl_bulkhead_stats {
    let mut s = pcl_bulkhead_stats::default();
    // SAFETY: `h` is live; `s` is writable.
    assert_eq!(unsafe { pcl_bulkhead_snapshot(h, &mut s) }, pcl_status::Ok);
    s
}

/// Runs one input.
pub fn check(data: &[u8]) {
    let mut b = Bytes::new(data);
    let flags = b.u8();
    let mut c = pcl_bulkhead_config_default();
    c.limit = limit(&mut b);
    c.shadow = flags & 1 != 0;
    let in_place = flags & 2 != 0;
    let layout =
        Layout::from_size_align(pcl_bulkhead_size(), pcl_bulkhead_align()).expect("layout");
    let mut heap: *mut pcl_bulkhead = core::ptr::null_mut();
    let mut mem: *mut u8 = core::ptr::null_mut();
    // SAFETY: `c` is a valid config; the outputs are writable; `mem` (when used) is allocated
    // with the documented layout.
    let st = unsafe {
        if in_place {
            mem = std::alloc::alloc(layout);
            assert!(!mem.is_null());
            pcl_bulkhead_init(mem.cast::<c_void>(), layout.size(), &c)
        } else {
            pcl_bulkhead_new(&c, &mut heap)
        }
    };
    let free = |mem: *mut u8, heap: *mut pcl_bulkhead| {
        if in_place {
            // SAFETY: allocated above with `layout`; the bulkhead holds no resources.
            unsafe { std::alloc::dealloc(mem, layout) };
        } else {
            // SAFETY: NULL or from `pcl_bulkhead_new`, freed once.
            unsafe { pcl_bulkhead_free(heap) };
        }
    };
    if c.limit > PCL_BULKHEAD_MAX_LIMIT {
        assert_eq!(st, pcl_status::InvalidBulkheadLimit, "limit {}", c.limit);
        assert!(heap.is_null(), "no bulkhead on error");
        free(mem, heap);
        return;
    }
    assert_eq!(st, pcl_status::Ok, "limit {}", c.limit);
    let h: *const pcl_bulkhead = if in_place { mem.cast::<pcl_bulkhead>() } else { heap };
    let mut m = Model { limit: u64::from(c.limit), shadow: c.shadow, ..Model::default() };
    // The permits the caller holds (acquired and not released): never fewer than in flight.
    let mut held: u64 = 0;
    let mut ops = 0;
    while !b.is_empty() && ops < 4096 {
        ops += 1;
        let op = b.u8();
        let before = snapshot(h);
        match op % 10 {
            0..=3 => {
                let n = permits(&mut b, m.limit);
                // SAFETY: `h` is live.
                let st = unsafe { pcl_bulkhead_try_acquire(h, n) };
                assert_eq!(st, m.acquire(n), "try_acquire({n}) with {before:?}");
                if st == pcl_status::Ok {
                    held += u64::from(n);
                }
            }
            4 => {
                // A timed wait: sequentially nothing frees a permit, so it decides as an
                // immediate attempt would (a timeout of at most 30 µs keeps runs fast).
                let n = permits(&mut b, m.limit);
                let timeout = u64::from(b.u8() % 4) * 10_000;
                // SAFETY: `h` is live.
                let st = unsafe { pcl_bulkhead_acquire_timeout(h, n, timeout) };
                assert_eq!(st, m.acquire(n), "acquire_timeout({n}, {timeout}) with {before:?}");
                if st == pcl_status::Ok {
                    held += u64::from(n);
                }
            }
            5 | 6 => {
                // Releases: usually some of what is held, sometimes more than is out.
                let x = b.u8();
                let n = if x & 0x80 != 0 || held == 0 {
                    permits(&mut b, m.limit)
                } else {
                    u32::try_from(u64::from(x) % held + 1).unwrap_or(u32::MAX)
                };
                // SAFETY: `h` is live.
                let st = unsafe { pcl_bulkhead_release(h, n) };
                assert_eq!(st, m.release(n), "release({n}) with {before:?}");
                let s = snapshot(h);
                if st == pcl_status::OverRelease {
                    assert_eq!(
                        (s.in_flight, s.limit, s.available),
                        (before.in_flight, before.limit, before.available),
                        "an over-release changed the bulkhead"
                    );
                } else {
                    held -= u64::from(n);
                }
            }
            7 => {
                let l = limit(&mut b);
                // SAFETY: `h` is live.
                let st = unsafe { pcl_bulkhead_resize(h, l) };
                if l > PCL_BULKHEAD_MAX_LIMIT {
                    assert_eq!(st, pcl_status::InvalidBulkheadLimit, "resize({l})");
                    assert_eq!(
                        snapshot(h).limit,
                        before.limit,
                        "a refused resize changed the limit"
                    );
                } else {
                    assert_eq!(st, pcl_status::Ok, "resize({l})");
                    m.limit = u64::from(l);
                }
            }
            8 => {
                let on = op & 0x80 != 0;
                // SAFETY: `h` is live.
                assert_eq!(unsafe { pcl_bulkhead_set_shadow(h, on) }, pcl_status::Ok);
                m.shadow = on;
            }
            _ => {
                // SAFETY: NULL is allowed by every contract here.
                unsafe {
                    assert_eq!(
                        pcl_bulkhead_try_acquire(core::ptr::null(), 1),
                        pcl_status::NullArgument
                    );
                    assert_eq!(
                        pcl_bulkhead_release(core::ptr::null(), 1),
                        pcl_status::NullArgument
                    );
                    assert_eq!(pcl_bulkhead_resize(core::ptr::null(), 1), pcl_status::NullArgument);
                    assert_eq!(
                        pcl_bulkhead_set_shadow(core::ptr::null(), true),
                        pcl_status::NullArgument
                    );
                    assert_eq!(
                        pcl_bulkhead_snapshot(h, core::ptr::null_mut()),
                        pcl_status::NullArgument
                    );
                }
            }
        }
        let s = snapshot(h);
        assert_eq!(u64::from(s.in_flight), m.in_flight, "in flight after op {op}: {s:?}");
        assert!(
            u64::from(s.in_flight) <= held,
            "{} in flight, {held} acquired and not released",
            s.in_flight
        );
        assert_eq!(u64::from(s.limit), m.limit, "limit: {s:?}");
        assert_eq!(u64::from(s.available), m.limit.saturating_sub(m.in_flight), "available: {s:?}");
        assert_eq!(s.shadow, m.shadow, "mode");
        assert_eq!(
            (s.admitted, s.rejected, s.over_releases),
            (m.admitted, m.rejected, m.over_releases),
            "counters: {s:?}"
        );
        if !m.shadow && before.in_flight <= before.limit {
            assert!(s.in_flight <= s.limit.max(before.in_flight), "oversubscribed: {s:?}");
        }
    }
    free(mem, heap);
}
