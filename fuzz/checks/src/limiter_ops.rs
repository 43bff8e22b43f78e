//! `limiter_ops`: a rate limiter with an input-derived quota, built through `pcl_limiter_new` /
//! `pcl_limiter_init`, driven through the C ABI by acquisitions of `n` permits, wait-time
//! queries, reservations, cancellations, reconfigurations and clock steps (forward, backward,
//! before the origin, the end of the limiter's range), checked after every step.
//!
//! Properties, for every run:
//! - construction and `pcl_limiter_reconfigure` accept a quota iff the rules of
//!   `docs/semantics/rate-limiter.md` ("Quota") hold, and otherwise return the
//!   `PCL_STATUS_INVALID_LIMITER_*` of a broken rule (nothing changed);
//! - every call returns a status its documentation lists;
//! - `wait_time(n)` predicts the next decision exactly: an acquisition is admitted iff the wait
//!   is zero, a refusal's `retry_after` equals it, a reservation is ready exactly that long after
//!   `now` (and refused as too far iff that is past `max_wait`); `available >= n` iff the wait is
//!   zero; `n` above the burst is `EXCEEDS_CAPACITY` everywhere; `n == 0` is always admitted;
//! - the bound: over every stretch between reconfigurations, the permits taken (admitted
//!   acquisitions and reservations, less cancelled ones) never exceed what the bucket held when
//!   the stretch began plus one per interval up to the latest instant one of them was due
//!   (`burst + elapsed / interval` from a full start);
//! - a reconfiguration keeps the fill level capped at the new burst (`available` after it is
//!   `min(available before, new burst)` at the same instant), puts the new interval and burst in
//!   force, and makes every earlier reservation uncancellable;
//! - with counting on, `admitted` and `rejected` count exactly the documented decisions;
//! - cancellations follow the contract (each reservation given back at most once; one refused
//!   may be tried again): a refused cancel changes nothing, a successful one gives back exactly
//!   the reservation's permits;
//! - NULL pointers are reported.
//!
//! Until the first reconfiguration a sequential model of GCRA written from the semantics page
//! (`tat`, relative to the origin, in 60 bits) also predicts every wait, decision, reservation,
//! cancellation and `available` exactly.
//!
//! Input: a flags byte, the quota, the origin, then one operation per 1 to 10 bytes.
use crate::Bytes;
use core::ffi::c_void;
use portcullis_ffi::limiter::{
    PCL_LIMITER_MAX_RATE_PER_SECOND, PCL_LIMITER_MAX_SPAN_NS, PCL_LIMITER_NOT_COUNTED,
    PCL_LIMITER_START_EMPTY, PCL_LIMITER_START_FULL, pcl_limiter, pcl_limiter_align,
    pcl_limiter_cancel, pcl_limiter_config, pcl_limiter_config_default, pcl_limiter_free,
    pcl_limiter_init, pcl_limiter_new, pcl_limiter_reconfigure, pcl_limiter_reservation,
    pcl_limiter_reserve, pcl_limiter_size, pcl_limiter_snapshot, pcl_limiter_stats,
    pcl_limiter_try_acquire, pcl_limiter_wait_time,
};
use portcullis_ffi::status::pcl_status;
use std::alloc::Layout;

const MAX_SPAN: u64 = PCL_LIMITER_MAX_SPAN_NS;
/// The largest theoretical arrival time the state holds (60 bits).
const TAT_MAX: u64 = (1 << 60) - 1;
/// The limiter tells instants apart up to about `2⁶⁰ − 2⁵⁶` ns after its origin: the last one
/// leaves room for a full span below `TAT_MAX`.
const NOW_MAX: u64 = TAT_MAX - MAX_SPAN;
const UNWRITTEN: u64 = 0x5EED_0000_0000_0002;

/// The interval of a quota, or the statuses of the rules it breaks.
pub fn quota(rate: u64, interval: u64, burst: u64) -> Result<(u64, u64), Vec<pcl_status>> {
    let mut e = Vec::new();
    let t = if rate != 0 {
        if rate > PCL_LIMITER_MAX_RATE_PER_SECOND {
            e.push(pcl_status::InvalidLimiterRate);
        }
        1_000_000_000u64.div_ceil(rate)
    } else {
        if interval == 0 || interval > MAX_SPAN {
            e.push(pcl_status::InvalidLimiterInterval);
        }
        interval
    };
    if burst == 0 || burst > MAX_SPAN || u128::from(t) * u128::from(burst) > u128::from(MAX_SPAN) {
        e.push(pcl_status::InvalidLimiterBurst);
    }
    if e.is_empty() { Ok((t, burst)) } else { Err(e) }
}

/// The statuses of the config rules `c` breaks (empty: valid).
pub fn config_errors(c: &pcl_limiter_config) -> Vec<pcl_status> {
    let mut e = quota(c.rate_per_second, c.interval_ns, c.burst).err().unwrap_or_default();
    if c.start != PCL_LIMITER_START_FULL && c.start != PCL_LIMITER_START_EMPTY {
        e.push(pcl_status::InvalidLimiterStart);
    }
    e
}

/// GCRA on plain integers, from the semantics page.
#[derive(Clone, Copy, Debug)]
struct Gcra {
    tat: u64,
    interval: u64,
    span: u64,
}

impl Gcra {
    /// The wait before `cost` fits at `rel`.
    fn wait(&self, cost: u64, rel: u64) -> u64 {
        (self.tat.max(rel) + cost - rel).saturating_sub(self.span)
    }

    fn available(&self, rel: u64) -> u64 {
        let debt = self.tat.saturating_sub(rel);
        if debt >= self.span { 0 } else { (self.span - debt) / self.interval }
    }
}

/// A reservation the caller holds.
#[derive(Clone, Copy, Debug)]
struct Held {
    r: pcl_limiter_reservation,
    /// The stretch (number of reconfigurations before it) it was made in.
    stretch: u32,
    /// The model's `tat` right after it (exact mode).
    tat_after: u64,
}

/// A stretch of the run between reconfigurations: what the bound is computed over.
#[derive(Clone, Copy, Debug)]
struct Stretch {
    interval: u64,
    burst: u64,
    /// The smallest `tat` the stretch can start from, relative to the origin.
    tat_floor: u64,
    /// Permits taken in it.
    taken: u64,
    /// The latest relative instant a permit taken in it was due.
    latest: u64,
}

impl Stretch {
    fn check(&self, at: &str) {
        if self.taken == 0 {
            return;
        }
        // tat >= tat_floor + taken · interval and tat <= latest + span.
        let taken = i128::from(self.taken) * i128::from(self.interval);
        let allowed = i128::from(self.latest) + i128::from(self.interval) * i128::from(self.burst)
            - i128::from(self.tat_floor);
        assert!(
            taken <= allowed,
            "{at}: {} permits taken, more than the bucket and its refill allow ({self:?})",
            self.taken
        );
    }
}

struct Run {
    l: *const pcl_limiter,
    c: pcl_limiter_config,
    now: u64,
    /// The exact model, until the first reconfiguration.
    model: Option<Gcra>,
    stretch: Stretch,
    stretches: u32,
    held: Vec<Held>,
    admitted: u64,
    rejected: u64,
}

impl Run {
    fn rel(&self) -> u64 {
        self.now.saturating_sub(self.c.origin_ns).min(NOW_MAX)
    }

    fn abs(&self, rel: u64) -> u64 {
        rel.saturating_add(self.c.origin_ns)
    }

    fn snapshot(&self, at: &str) -> pcl_limiter_stats {
        self.snapshot_at(self.now, at)
    }

    fn snapshot_at(&self, now: u64, at: &str) -> pcl_limiter_stats {
        let mut s = pcl_limiter_stats::default();
        // SAFETY: `l` is live; `s` is writable.
        assert_eq!(unsafe { pcl_limiter_snapshot(self.l, now, &mut s) }, pcl_status::Ok);
        assert!(
            s.available <= s.burst,
            "{at}: {} available of a burst of {}",
            s.available,
            s.burst
        );
        assert_eq!(
            (s.interval_ns, s.burst),
            (self.stretch.interval, self.stretch.burst),
            "{at}: quota in force"
        );
        assert_eq!(s.shadow, self.c.shadow, "{at}: mode");
        if self.c.counting {
            assert_eq!((s.admitted, s.rejected), (self.admitted, self.rejected), "{at}: counters");
        } else {
            assert_eq!(
                (s.admitted, s.rejected),
                (PCL_LIMITER_NOT_COUNTED, PCL_LIMITER_NOT_COUNTED),
                "{at}: counters off"
            );
        }
        s
    }

    /// Checks everything after a step.
    fn after(&self, at: &str) {
        let s = self.snapshot(at);
        self.stretch.check(at);
        if let Some(m) = &self.model {
            assert_eq!(s.available, m.available(self.rel()), "{at}: available at {}", self.now);
        }
    }

    fn wait_time(&self, n: u64) -> Option<u64> {
        let mut w = UNWRITTEN;
        // SAFETY: `l` is live; `w` is writable.
        let st = unsafe { pcl_limiter_wait_time(self.l, n, self.now, &mut w) };
        let fits = n
            .checked_mul(self.stretch.interval)
            .is_some_and(|c| c <= self.stretch.interval * self.stretch.burst);
        if !fits {
            assert_eq!(
                st,
                pcl_status::ExceedsCapacity,
                "wait_time({n}) above the burst {}",
                self.stretch.burst
            );
            return None;
        }
        assert_eq!(st, pcl_status::Ok, "wait_time({n})");
        if n == 0 {
            assert_eq!(w, 0, "n == 0 waits zero");
        }
        if let Some(m) = &self.model {
            if n > 0 {
                assert_eq!(w, m.wait(n * m.interval, self.rel()), "wait_time({n}) at {}", self.now);
            }
        }
        Some(w)
    }

    fn take(&mut self, n: u64, due: u64) {
        self.stretch.taken += n;
        self.stretch.latest = self.stretch.latest.max(due);
    }

    fn acquire(&mut self, n: u64) {
        let wait = self.wait_time(n);
        let before = self.snapshot("before acquire");
        if let Some(w) = wait {
            if n >= 1 {
                assert_eq!(
                    before.available >= n,
                    w == 0,
                    "available {} vs wait {w} for {n}",
                    before.available
                );
            }
        }
        let mut retry = UNWRITTEN;
        // SAFETY: `l` is live; `retry` is writable.
        let st = unsafe { pcl_limiter_try_acquire(self.l, n, self.now, &mut retry) };
        match wait {
            None => {
                assert_eq!(st, pcl_status::ExceedsCapacity, "acquire({n}) above the burst");
                assert_eq!(retry, UNWRITTEN);
                self.rejected += 1;
            }
            Some(_) if n == 0 => assert_eq!(st, pcl_status::Ok, "acquire(0)"),
            Some(0) => {
                assert_eq!(st, pcl_status::Ok, "acquire({n}) with no wait");
                assert_eq!(retry, UNWRITTEN);
                self.admitted += 1;
                let rel = self.rel();
                self.take(n, rel);
                if let Some(m) = self.model.as_mut() {
                    m.tat = m.tat.max(rel) + n * m.interval;
                }
            }
            Some(w) => {
                self.rejected += 1;
                if self.c.shadow {
                    assert_eq!(st, pcl_status::Ok, "shadow mode admits");
                    assert_eq!(retry, UNWRITTEN);
                } else {
                    assert_eq!(st, pcl_status::RateLimited, "acquire({n}) with a wait of {w}");
                    assert_eq!(retry, w, "retry_after equals wait_time");
                }
            }
        }
        self.after("acquire");
    }

    fn reserve(&mut self, n: u64, max_wait: u64) {
        let wait = self.wait_time(n);
        let mut r = pcl_limiter_reservation {
            permits: 9,
            ready_at_ns: 9,
            private_word: 9,
            private_cost: 9,
        };
        // SAFETY: `l` is live; `r` is writable.
        let st = unsafe { pcl_limiter_reserve(self.l, n, self.now, max_wait, &mut r) };
        let rel = self.rel();
        match wait {
            None => {
                assert_eq!(st, pcl_status::ExceedsCapacity, "reserve({n}) above the burst");
                self.rejected += 1;
            }
            Some(_) if n == 0 => {
                assert_eq!(st, pcl_status::Ok, "reserve(0)");
                assert_eq!((r.permits, r.ready_at_ns), (0, self.now), "reserve(0) is ready now");
                self.held.push(Held { r, stretch: self.stretches, tat_after: u64::MAX });
            }
            Some(w) => {
                let span = self.stretch.interval * self.stretch.burst;
                // The new tat is `rel + span + w` when there is a wait, at most `rel + span`
                // otherwise; the state word holds 60 bits.
                let overflow = w > 0
                    && u128::from(rel) + u128::from(span) + u128::from(w) > u128::from(TAT_MAX);
                if w > max_wait || overflow {
                    assert_eq!(
                        st,
                        pcl_status::ReservationTooFar,
                        "reserve({n}) waiting {w} > {max_wait}"
                    );
                    self.rejected += 1;
                } else {
                    assert_eq!(st, pcl_status::Ok, "reserve({n}) waiting {w} <= {max_wait}");
                    assert_eq!(r.permits, n);
                    assert_eq!(r.ready_at_ns, self.abs(rel + w), "ready at now + wait");
                    self.admitted += 1;
                    self.take(n, rel + w);
                    let mut tat_after = u64::MAX;
                    if let Some(m) = self.model.as_mut() {
                        m.tat = m.tat.max(rel) + n * m.interval;
                        tat_after = m.tat;
                    }
                    if self.held.len() < 16 {
                        self.held.push(Held { r, stretch: self.stretches, tat_after });
                    }
                }
            }
        }
        self.after("reserve");
    }

    fn cancel(&mut self, i: usize) {
        let h = self.held[i];
        // SAFETY: `l` is live; the reservation is readable.
        let st = unsafe { pcl_limiter_cancel(self.l, &h.r, self.now) };
        assert!(matches!(st, pcl_status::Ok | pcl_status::NotCancelled), "cancel returned {st:?}");
        if h.r.permits == 0 {
            assert_eq!(st, pcl_status::Ok, "a reservation of nothing cancels");
        } else if self.now >= h.r.ready_at_ns {
            assert_eq!(
                st,
                pcl_status::NotCancelled,
                "cancelled at {} once ready at {}",
                self.now,
                h.r.ready_at_ns
            );
        } else if h.stretch != self.stretches {
            assert_eq!(st, pcl_status::NotCancelled, "cancelled across a reconfiguration");
        } else if let Some(m) = self.model.as_mut() {
            let want = m.tat == h.tat_after;
            assert_eq!(
                st == pcl_status::Ok,
                want,
                "cancel: tat {} after the reservation {}",
                m.tat,
                h.tat_after
            );
            if want {
                m.tat -= h.r.permits * m.interval;
            }
        }
        if st == pcl_status::Ok && h.r.permits > 0 {
            assert!(self.stretch.taken >= h.r.permits, "cancelled more than was taken");
            self.stretch.taken -= h.r.permits;
            // Cancel each reservation at most once (the documented contract): a copy cancelled
            // again after the word came back to the same value would give back whatever was
            // taken since, not this reservation.
            self.held.swap_remove(i);
        }
        self.after("cancel");
    }

    fn reconfigure(&mut self, rate: u64, interval: u64, burst: u64) {
        let before = self.snapshot("before reconfigure");
        // SAFETY: `l` is live.
        let st = unsafe { pcl_limiter_reconfigure(self.l, rate, interval, burst, self.now) };
        match quota(rate, interval, burst) {
            Err(e) => {
                assert!(
                    e.contains(&st),
                    "reconfigure({rate}, {interval}, {burst}): {st:?}, broken {e:?}"
                );
                self.after("refused reconfigure");
                let s = self.snapshot("refused reconfigure");
                assert_eq!(
                    s.available, before.available,
                    "a refused reconfiguration changed the fill"
                );
            }
            Ok((t, b)) => {
                assert_eq!(st, pcl_status::Ok, "reconfigure({rate}, {interval}, {burst})");
                self.model = None;
                self.stretches += 1;
                let rel = self.rel();
                self.stretch =
                    Stretch { interval: t, burst: b, tat_floor: rel, taken: 0, latest: 0 };
                let s = self.snapshot("reconfigure");
                assert_eq!(
                    s.available,
                    before.available.min(b),
                    "the fill level is kept, capped at the new burst"
                );
                self.after("reconfigure");
            }
        }
    }

    fn nulls(&self) {
        let l = self.l;
        // SAFETY: NULL is allowed by every contract here.
        unsafe {
            assert_eq!(
                pcl_limiter_try_acquire(core::ptr::null(), 1, 0, core::ptr::null_mut()),
                pcl_status::NullArgument
            );
            assert_eq!(
                pcl_limiter_wait_time(l, 1, self.now, core::ptr::null_mut()),
                pcl_status::NullArgument
            );
            assert_eq!(
                pcl_limiter_reserve(l, 1, self.now, u64::MAX, core::ptr::null_mut()),
                pcl_status::NullArgument
            );
            assert_eq!(
                pcl_limiter_cancel(l, core::ptr::null(), self.now),
                pcl_status::NullArgument
            );
            assert_eq!(
                pcl_limiter_snapshot(l, self.now, core::ptr::null_mut()),
                pcl_status::NullArgument
            );
            assert_eq!(
                pcl_limiter_reconfigure(core::ptr::null(), 1, 0, 1, 0),
                pcl_status::NullArgument
            );
        }
        self.after("NULL arguments");
    }
}

fn pick64(b: &mut Bytes<'_>, special: &[u64]) -> u64 {
    let i = usize::from(b.u8());
    special.get(i % (special.len() + 1)).copied().unwrap_or_else(|| b.u64())
}

/// A quota: small unless `wild`, then anything near the boundaries. (rate, interval, burst).
fn decode_quota(b: &mut Bytes<'_>, wild: bool) -> (u64, u64, u64) {
    if wild {
        let rate = pick64(b, &[0, 0, 1, 3, 1_000_000_000, 1_000_000_001]);
        let interval = pick64(b, &[0, 1, 7, MAX_SPAN, MAX_SPAN + 1, 1 << 40]);
        let burst = pick64(b, &[0, 1, 3, MAX_SPAN, MAX_SPAN + 1, 1 << 16]);
        return (rate, interval, burst);
    }
    let x = b.u8();
    let burst = u64::from(x % 8) + 1;
    if x & 0x80 != 0 {
        (u64::from(b.u16() % 2000) + 1, 0, burst)
    } else {
        (0, u64::from(b.u16()) + 1, burst)
    }
}

/// Runs one input.
pub fn check(data: &[u8]) {
    let mut b = Bytes::new(data);
    let flags = b.u8();
    let mut c = pcl_limiter_config_default();
    let (rate, interval, burst) = decode_quota(&mut b, flags & 0x40 != 0);
    c.rate_per_second = rate;
    c.interval_ns = interval;
    c.burst = burst;
    c.start = if flags & 0x80 != 0 { u32::from(b.u8() % 3) } else { u32::from(flags & 1) };
    c.counting = flags & 0x02 != 0;
    c.shadow = flags & 0x04 != 0;
    c.origin_ns = match b.u8() % 4 {
        0 => 0,
        1 => u64::MAX - u64::from(b.u32()),
        _ => u64::from(b.u32()) << 16,
    };
    let errors = config_errors(&c);
    let in_place = flags & 0x08 != 0;
    let layout = Layout::from_size_align(pcl_limiter_size(), pcl_limiter_align()).expect("layout");
    let mut heap: *mut pcl_limiter = core::ptr::null_mut();
    let mut mem: *mut u8 = core::ptr::null_mut();
    // SAFETY: `c` is a valid config; the outputs are writable; `mem` (when used) is allocated
    // with the documented layout.
    let st = unsafe {
        if in_place {
            mem = std::alloc::alloc(layout);
            assert!(!mem.is_null());
            pcl_limiter_init(mem.cast::<c_void>(), layout.size(), &c)
        } else {
            pcl_limiter_new(&c, &mut heap)
        }
    };
    let l: *const pcl_limiter = if in_place { mem.cast::<pcl_limiter>() } else { heap };
    if !errors.is_empty() || st != pcl_status::Ok {
        assert!(errors.contains(&st), "config {c:?}: got {st:?}, broken rules {errors:?}");
        assert!(heap.is_null(), "no limiter on error");
        if in_place {
            // SAFETY: allocated above with `layout`.
            unsafe { std::alloc::dealloc(mem, layout) };
        }
        return;
    }
    let (t, burst) = quota(rate, interval, burst).expect("valid");
    let span = t * burst;
    let tat0 = if c.start == PCL_LIMITER_START_FULL { 0 } else { span };
    let mut r = Run {
        l,
        c,
        now: 0,
        model: Some(Gcra { tat: tat0, interval: t, span }),
        stretch: Stretch { interval: t, burst, tat_floor: tat0, taken: 0, latest: 0 },
        stretches: 0,
        held: Vec::new(),
        admitted: 0,
        rejected: 0,
    };
    r.now = match b.u8() % 8 {
        0 => c.origin_ns.saturating_sub(u64::from(b.u16())),
        1 => c
            .origin_ns
            .saturating_add(NOW_MAX - span.min(NOW_MAX))
            .saturating_sub(u64::from(b.u16())),
        _ => c.origin_ns.saturating_add(u64::from(b.u16())),
    };
    r.after("new");
    let mut ops = 0;
    while !b.is_empty() && ops < 2048 {
        ops += 1;
        let op = b.u8();
        let burst_now = r.stretch.burst;
        let mut n = || {
            let x = b.u8();
            match x % 8 {
                0 => 0,
                1 => burst_now + 1 + u64::from(x >> 3),
                2 => u64::MAX - u64::from(x >> 3),
                _ => u64::from(x >> 3) % burst_now.min(32) + 1,
            }
        };
        match op % 12 {
            0..=2 => {
                let n = n();
                r.acquire(n);
            }
            3 | 4 => {
                let n = n();
                let max_wait =
                    pick64(&mut b, &[0, 1, r.stretch.interval, 4 * r.stretch.interval, u64::MAX]);
                r.reserve(n, max_wait);
            }
            5 if !r.held.is_empty() => {
                let i = usize::from(b.u8()) % r.held.len();
                let before = r.held.len();
                r.cancel(i);
                if op & 0x80 != 0 && r.held.len() == before {
                    r.held.swap_remove(i);
                }
            }
            6 => {
                r.now = r.now.saturating_add(u64::from(b.u16()) % (3 * r.stretch.interval + 1));
                r.after("clock");
            }
            7 => {
                r.now = r.now.saturating_add(u64::from(b.u8()).saturating_mul(r.stretch.interval));
                r.after("clock");
            }
            8 => {
                r.now = r.now.saturating_sub(u64::from(b.u16()) % (4 * r.stretch.interval + 1));
                r.after("clock");
            }
            9 => {
                // Far jumps: before the origin, an hour back, the end of the range.
                r.now = match b.u8() % 4 {
                    0 => c.origin_ns.saturating_sub(1),
                    1 => r.now.saturating_sub(3_600_000_000_000),
                    2 => c.origin_ns.saturating_add(NOW_MAX).saturating_sub(u64::from(b.u8())),
                    _ => u64::MAX,
                };
                r.after("clock");
            }
            10 if r.stretches < 7 => {
                let (rate, interval, burst) = decode_quota(&mut b, op & 0x80 != 0);
                r.reconfigure(rate, interval, burst);
            }
            11 => r.nulls(),
            _ => r.after("read"),
        }
    }
    if in_place {
        // SAFETY: allocated above with `layout`; the limiter holds no resources.
        unsafe { std::alloc::dealloc(mem, layout) };
    } else {
        // SAFETY: from `pcl_limiter_new`, freed once.
        unsafe { pcl_limiter_free(heap) };
    }
}
