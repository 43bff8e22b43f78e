//! `breaker_ops`: a circuit breaker built from input-derived configs through `pcl_breaker_new` /
//! `pcl_breaker_init`, then driven through the C ABI by admissions, records (weighted, batched,
//! repeated, stale), releases, operator calls and clock steps (forward, backward, onto the
//! deadlines), checked after every step.
//!
//! Properties, for every run:
//! - construction: a config is accepted iff no rule of `docs/semantics/breaker.md` ("Configuration
//!   errors") is broken, and a refused one returns the `PCL_STATUS_INVALID_*` of a broken rule;
//! - every call returns a status its documentation lists;
//! - the state moves only along documented edges: an admission opens the half-open period
//!   (with a probe, `HALF_OPENED`) or reopens on the probe timeout (`OPENED`, refused); a record
//!   trips (closed or half-open to open) or closes (half-open to closed); an operator call moves
//!   to its state and reports the one it replaced; nothing else moves it. Every move advances the
//!   generation by exactly one, and the reported transition names the move;
//! - permits are of the kind the state admits (tracked, untracked, probe, shadow only in shadow
//!   mode);
//! - probes admitted in a half-open period never exceed `half_open_probes`;
//! - a permit of another generation, or an untracked or shadow permit, returns
//!   `PCL_STATUS_NOT_COUNTED` and changes nothing (window, failure count, probes, state);
//! - snapshot counts: `calls <= window_size` (count window), `failures, slow <= calls`, rates
//!   absent exactly when the window is empty;
//! - NULL pointers and invalid outcome codes, weights and permit kinds are reported and change
//!   nothing.
//!
//! On top of that, a sequential reference model (ported from `core/tests/prop_breaker.rs`, which
//! is written from the semantics page) predicts every decision and the whole snapshot exactly for
//! count-window breakers, and everything but the window counts for time-window breakers without a
//! rate rule (their decisions never read the window).
//!
//! Input: a flags byte, the config, then one operation per 1 to 12 bytes.
use crate::Bytes;
use core::ffi::c_void;
use portcullis::breaker::{GENERATIONS, TIME_RESOLUTION};
use portcullis::rng::SplitMix64;
use portcullis::window::WindowCounts;
use portcullis_ffi::breaker::{
    PCL_BREAKER_CLOSED, PCL_BREAKER_DISABLED, PCL_BREAKER_FORCED_OPEN, PCL_BREAKER_HALF_OPEN,
    PCL_BREAKER_MAX_PROBES, PCL_BREAKER_MAX_WEIGHT, PCL_BREAKER_MAX_WINDOW_BUCKETS,
    PCL_BREAKER_MAX_WINDOW_SIZE, PCL_BREAKER_METRICS_ONLY, PCL_BREAKER_NO_RATE,
    PCL_BREAKER_NOT_OPEN, PCL_BREAKER_OPEN, PCL_BREAKER_PERMIT_PROBE, PCL_BREAKER_PERMIT_SHADOW,
    PCL_BREAKER_PERMIT_TRACKED, PCL_BREAKER_PERMIT_UNTRACKED, PCL_BREAKER_TRANSITION_CLOSED,
    PCL_BREAKER_TRANSITION_HALF_OPENED, PCL_BREAKER_TRANSITION_NONE, PCL_BREAKER_TRANSITION_OPENED,
    PCL_BREAKER_WINDOW_COUNT, PCL_BREAKER_WINDOW_TIME, pcl_breaker, pcl_breaker_align,
    pcl_breaker_config, pcl_breaker_config_default, pcl_breaker_disable, pcl_breaker_force_close,
    pcl_breaker_force_open, pcl_breaker_free, pcl_breaker_ignore, pcl_breaker_init,
    pcl_breaker_metrics_only, pcl_breaker_new, pcl_breaker_permit, pcl_breaker_record,
    pcl_breaker_record_batch, pcl_breaker_record_weighted, pcl_breaker_reset, pcl_breaker_size,
    pcl_breaker_snapshot, pcl_breaker_state, pcl_breaker_stats, pcl_breaker_try_acquire,
};
use portcullis_ffi::status::pcl_status;
use portcullis_ffi::window::{
    PCL_OUTCOME_FAILURE, PCL_OUTCOME_SLOW_FAILURE, PCL_OUTCOME_SLOW_SUCCESS, PCL_OUTCOME_SUCCESS,
};
use std::alloc::Layout;
use std::collections::VecDeque;

const TICK: u64 = TIME_RESOLUTION.as_u64();
const LAST_TICK_TIME: u64 = u64::MAX - (TICK - 1);
const PPM: u64 = 1_000_000;
/// A value no call writes: shows that an optional output was left alone.
const UNWRITTEN: u64 = 0x5EED_0000_0000_0001;

/// The first multiple of the tick at or after `t`, saturating at the last one.
fn round_up(t: u64) -> u64 {
    if t > LAST_TICK_TIME { LAST_TICK_TIME } else { t.div_ceil(TICK) * TICK }
}

/// An outcome code as (failed, slow), or `None` for a code with no meaning.
fn decode_outcome(code: u32) -> Option<(bool, bool)> {
    match code {
        PCL_OUTCOME_SUCCESS => Some((false, false)),
        PCL_OUTCOME_FAILURE => Some((true, false)),
        PCL_OUTCOME_SLOW_SUCCESS => Some((false, true)),
        PCL_OUTCOME_SLOW_FAILURE => Some((true, true)),
        _ => None,
    }
}

/// The statuses of the configuration rules `cfg` breaks (empty: valid), written from the
/// "Configuration errors" section of `docs/semantics/breaker.md` and the field comments of
/// `pcl_breaker_config` (0 turns `consecutive_failures`, the rates and `slow_call_duration_ns`
/// off).
pub fn config_errors(c: &pcl_breaker_config) -> Vec<pcl_status> {
    use pcl_status as S;
    if c.window_kind != PCL_BREAKER_WINDOW_COUNT && c.window_kind != PCL_BREAKER_WINDOW_TIME {
        return vec![S::InvalidBreakerWindowKind];
    }
    let mut e = Vec::new();
    let rate_on = c.failure_rate_ppm != 0 || c.slow_rate_ppm != 0;
    if u64::from(c.failure_rate_ppm) > PPM {
        e.push(S::InvalidBreakerFailureRate);
    }
    if u64::from(c.slow_rate_ppm) > PPM {
        e.push(S::InvalidBreakerSlowRate);
    }
    if rate_on
        && (c.min_calls == 0
            || (c.window_kind == PCL_BREAKER_WINDOW_COUNT && c.min_calls > c.window_size))
    {
        e.push(S::InvalidBreakerMinCalls);
    }
    if c.open_duration_ns == 0 {
        e.push(S::InvalidBreakerOpenDuration);
    }
    if c.max_open_duration_ns < c.open_duration_ns {
        e.push(S::InvalidBreakerMaxOpenDuration);
    }
    if u64::from(c.jitter_ppm) > PPM {
        e.push(S::InvalidBreakerJitter);
    }
    let max = u128::from(c.max_open_duration_ns);
    if max + max * u128::from(c.jitter_ppm) / u128::from(PPM) > u128::from(u64::MAX) {
        e.push(S::InvalidBreakerMaxOpenDuration);
    }
    if c.half_open_probes == 0 || c.half_open_probes > PCL_BREAKER_MAX_PROBES {
        e.push(S::InvalidBreakerHalfOpenProbes);
    }
    if c.successes_to_close == 0 || c.successes_to_close > c.half_open_probes {
        e.push(S::InvalidBreakerSuccessesToClose);
    }
    if c.half_open_by_rate && !rate_on {
        e.push(S::InvalidBreakerHalfOpenByRate);
    }
    if c.probe_timeout_ns == 0 {
        e.push(S::InvalidBreakerProbeTimeout);
    }
    if c.window_kind == PCL_BREAKER_WINDOW_COUNT {
        if c.window_size == 0 || c.window_size > PCL_BREAKER_MAX_WINDOW_SIZE {
            e.push(S::InvalidWindowSize);
        }
    } else {
        if c.window_buckets == 0 || c.window_buckets > PCL_BREAKER_MAX_WINDOW_BUCKETS {
            e.push(S::InvalidWindowBuckets);
        }
        if c.window_duration_ns == 0
            || (c.window_buckets != 0
                && !c.window_duration_ns.is_multiple_of(u64::from(c.window_buckets)))
        {
            e.push(S::InvalidWindowDuration);
        }
    }
    e
}

/// Picks one of `special` (by the low bits of a byte) or, past them, a raw value.
fn pick32(b: &mut Bytes<'_>, special: &[u32]) -> u32 {
    let i = usize::from(b.u8());
    special.get(i % (special.len() + 1)).copied().unwrap_or_else(|| b.u32())
}

fn pick64(b: &mut Bytes<'_>, special: &[u64]) -> u64 {
    let i = usize::from(b.u8());
    special.get(i % (special.len() + 1)).copied().unwrap_or_else(|| b.u64())
}

/// A config: small and valid unless `wild`, then anything near the boundaries.
fn decode_config(b: &mut Bytes<'_>, flags: u8) -> pcl_breaker_config {
    let mut c = pcl_breaker_config_default();
    let wild = flags & 0x40 != 0;
    c.window_kind = if flags & 1 == 0 { PCL_BREAKER_WINDOW_COUNT } else { PCL_BREAKER_WINDOW_TIME };
    c.shadow = flags & 0x02 != 0;
    c.count_rejections = flags & 0x04 != 0;
    if wild {
        if flags & 0x80 != 0 {
            c.window_kind = pick32(b, &[0, 1, 2, u32::MAX]);
        }
        c.window_size = pick32(b, &[0, 1, 4, 1024, 1025]);
        c.window_buckets = pick32(b, &[0, 1, 3, 128, 129]);
        c.window_duration_ns = pick64(b, &[0, 1, 3 * TICK, 128 * TICK, 7]);
        c.consecutive_failures = pick32(b, &[0, 1, 3, u32::MAX]);
        c.failure_rate_ppm = pick32(b, &[0, 1, 500_000, 1_000_000, 1_000_001]);
        c.slow_rate_ppm = pick32(b, &[0, 1, 1_000_000, 1_000_001]);
        c.min_calls = pick32(b, &[0, 1, 4, 1024, 1025]);
        c.slow_call_duration_ns = pick64(b, &[0, 1]);
        c.open_duration_ns = pick64(b, &[0, 1, TICK, u64::MAX / 2, u64::MAX]);
        c.max_open_duration_ns = pick64(b, &[0, 1, TICK, 4 * TICK, u64::MAX / 2, u64::MAX]);
        c.jitter_ppm = pick32(b, &[0, 1, 1_000_000, 1_000_001]);
        c.seed = u64::from(b.u8());
        c.half_open_probes = pick32(b, &[0, 1, 2, 4095, 4096]);
        c.successes_to_close = pick32(b, &[0, 1, 2, 4095, 4096]);
        c.half_open_by_rate = b.u8() & 1 == 1;
        c.probe_timeout_ns = pick64(b, &[0, 1, TICK, 10 * TICK, u64::MAX]);
        return c;
    }
    let size_raw = b.u8();
    c.window_size = u32::from(size_raw % 16) + 1;
    c.window_buckets = u32::from(size_raw % 8) + 1;
    let width = (u64::from(b.u8()) + 1) * (TICK / 4);
    c.window_duration_ns = width * u64::from(c.window_buckets);
    c.consecutive_failures = u32::from(b.u8() % 5);
    c.failure_rate_ppm = [0, 0, 1, 250_000, 500_000, 1_000_000][usize::from(b.u8() % 6)];
    c.slow_rate_ppm = [0, 0, 0, 500_000, 1_000_000][usize::from(b.u8() % 5)];
    let cap = if c.window_kind == PCL_BREAKER_WINDOW_COUNT { c.window_size } else { 8 };
    c.min_calls = u32::from(b.u8()) % cap + 1;
    c.slow_call_duration_ns = 0;
    let extra = u64::from(b.u16()) % TICK;
    c.open_duration_ns = (u64::from(b.u8() % 5) + 1) * TICK + extra;
    c.max_open_duration_ns = c.open_duration_ns << (b.u8() % 4);
    c.jitter_ppm = [0, 0, 250_000, 1_000_000][usize::from(b.u8() % 4)];
    c.seed = u64::from(b.u8());
    let probes_raw = b.u8();
    c.half_open_probes = u32::from(probes_raw % 4) + 1;
    c.successes_to_close = u32::from(probes_raw >> 4) % c.half_open_probes + 1;
    c.half_open_by_rate = flags & 0x08 != 0 && (c.failure_rate_ppm != 0 || c.slow_rate_ppm != 0);
    c.probe_timeout_ns = (u64::from(b.u8() % 20) + 1) * TICK - extra / 2;
    c
}

/// The sequential reference model of `core/tests/prop_breaker.rs`, on C codes.
struct Model {
    c: pcl_breaker_config,
    /// Whether the model's window counts are exact (count windows).
    counts_exact: bool,
    state: u32,
    generation: u32,
    trips: u32,
    /// End of the open period, or probe timeout of the half-open period, in ns.
    deadline: u64,
    admitted: u32,
    successes: u32,
    failures: u32,
    slow: u32,
    window: VecDeque<(bool, bool)>,
    consecutive: u64,
    tripped: u64,
    rejected: u64,
    rng: SplitMix64,
}

/// A decision as the C caller sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decision {
    Admit { generation: u32, kind: u32, transition: u32, shadow: u32 },
    Reject { status: pcl_status, retry_after: Option<u64> },
}

impl Model {
    fn new(c: pcl_breaker_config) -> Model {
        Model {
            c,
            counts_exact: c.window_kind == PCL_BREAKER_WINDOW_COUNT,
            state: PCL_BREAKER_CLOSED,
            generation: 0,
            trips: 0,
            deadline: 0,
            admitted: 0,
            successes: 0,
            failures: 0,
            slow: 0,
            window: VecDeque::new(),
            consecutive: 0,
            tripped: 0,
            rejected: 0,
            rng: SplitMix64::new(c.seed),
        }
    }

    fn enter(&mut self, state: u32) {
        self.state = state;
        self.generation = (self.generation + 1) % GENERATIONS;
    }

    fn open_period(&mut self) -> u64 {
        let (base, max) = (self.c.open_duration_ns, self.c.max_open_duration_ns);
        let mut d = base;
        for _ in 1..self.trips {
            d = d.saturating_mul(2).min(max);
        }
        let d = d.min(max);
        if self.c.jitter_ppm == 0 {
            return d;
        }
        let span = u64::try_from(u128::from(d) * u128::from(self.c.jitter_ppm) / u128::from(PPM))
            .expect("jitter span fits");
        d + self.rng.below(span + 1)
    }

    fn trip(&mut self, now: u64) {
        self.trips = (self.trips + 1).min(15);
        let d = self.open_period();
        self.deadline = round_up(now.saturating_add(d));
        self.enter(PCL_BREAKER_OPEN);
        self.tripped += 1;
    }

    fn reject(
        &mut self,
        status: pcl_status,
        retry_after: Option<u64>,
        transition: u32,
    ) -> Decision {
        if self.c.count_rejections {
            self.rejected += 1;
        }
        if self.c.shadow {
            Decision::Admit {
                generation: self.generation,
                kind: PCL_BREAKER_PERMIT_SHADOW,
                transition,
                shadow: status as u32,
            }
        } else {
            Decision::Reject { status, retry_after }
        }
    }

    fn acquire(&mut self, now: u64) -> Decision {
        let mut transition = PCL_BREAKER_TRANSITION_NONE;
        let ok = pcl_status::Ok as u32;
        loop {
            let generation = self.generation;
            let admit = |kind| Decision::Admit { generation, kind, transition, shadow: ok };
            return match self.state {
                PCL_BREAKER_CLOSED | PCL_BREAKER_METRICS_ONLY => admit(PCL_BREAKER_PERMIT_TRACKED),
                PCL_BREAKER_DISABLED => admit(PCL_BREAKER_PERMIT_UNTRACKED),
                PCL_BREAKER_FORCED_OPEN => {
                    self.reject(pcl_status::RejectedForcedOpen, None, transition)
                }
                PCL_BREAKER_OPEN if now < self.deadline => {
                    self.reject(pcl_status::RejectedOpen, Some(self.deadline - now), transition)
                }
                PCL_BREAKER_OPEN => {
                    self.enter(PCL_BREAKER_HALF_OPEN);
                    self.deadline = round_up(now.saturating_add(self.c.probe_timeout_ns));
                    self.admitted = 0;
                    self.successes = 0;
                    self.failures = 0;
                    self.slow = 0;
                    transition = PCL_BREAKER_TRANSITION_HALF_OPENED;
                    continue;
                }
                _ if now >= self.deadline => {
                    self.trip(now);
                    let after = Some(self.deadline.saturating_sub(now));
                    self.reject(pcl_status::RejectedOpen, after, PCL_BREAKER_TRANSITION_OPENED)
                }
                _ if self.admitted < self.c.half_open_probes => {
                    self.admitted += 1;
                    admit(PCL_BREAKER_PERMIT_PROBE)
                }
                _ => self.reject(pcl_status::RejectedHalfOpenFull, None, transition),
            };
        }
    }

    fn counts(&self) -> WindowCounts {
        let calls = self.window.len() as u64;
        let failures = self.window.iter().filter(|o| o.0).count() as u64;
        let slow = self.window.iter().filter(|o| o.1).count() as u64;
        WindowCounts { calls, failures, slow }
    }

    fn rule_reached(&self) -> bool {
        let c = &self.c;
        if c.consecutive_failures != 0 && self.consecutive >= u64::from(c.consecutive_failures) {
            return true;
        }
        let w = self.counts();
        if w.calls < u64::from(c.min_calls) {
            return false;
        }
        let reached = |part: u64, ppm: u32| {
            ppm != 0 && u128::from(part) * u128::from(PPM) >= u128::from(ppm) * u128::from(w.calls)
        };
        reached(w.failures, c.failure_rate_ppm) || reached(w.slow, c.slow_rate_ppm)
    }

    fn clear(&mut self) {
        self.window.clear();
        self.consecutive = 0;
    }

    fn close(&mut self) {
        self.clear();
        self.trips = 0;
        self.enter(PCL_BREAKER_CLOSED);
    }

    /// (counted, transition).
    fn record(
        &mut self,
        p: pcl_breaker_permit,
        o: (bool, bool),
        weight: u32,
        now: u64,
    ) -> (bool, u32) {
        const IGNORED: (bool, u32) = (false, PCL_BREAKER_TRANSITION_NONE);
        const COUNTED: (bool, u32) = (true, PCL_BREAKER_TRANSITION_NONE);
        if p.generation != self.generation {
            return IGNORED;
        }
        let (failed, slow) = o;
        match (p.kind, self.state) {
            (PCL_BREAKER_PERMIT_TRACKED, PCL_BREAKER_CLOSED | PCL_BREAKER_METRICS_ONLY) => {
                let size = self.c.window_size as usize;
                for _ in 0..weight {
                    if self.window.len() == size {
                        self.window.pop_front();
                    }
                    self.window.push_back(o);
                }
                self.consecutive = if failed { self.consecutive + u64::from(weight) } else { 0 };
                if self.state == PCL_BREAKER_CLOSED && self.rule_reached() {
                    self.trip(now);
                    (true, PCL_BREAKER_TRANSITION_OPENED)
                } else {
                    COUNTED
                }
            }
            (PCL_BREAKER_PERMIT_PROBE, PCL_BREAKER_HALF_OPEN) if self.c.half_open_by_rate => {
                if failed {
                    self.failures += 1;
                } else {
                    self.successes += 1;
                }
                if slow {
                    self.slow += 1;
                }
                let probes = self.c.half_open_probes;
                if self.successes + self.failures < probes {
                    return COUNTED;
                }
                let reached = |part: u32, ppm: u32| {
                    ppm != 0 && u64::from(part) * PPM >= u64::from(ppm) * u64::from(probes)
                };
                if reached(self.failures, self.c.failure_rate_ppm)
                    || reached(self.slow, self.c.slow_rate_ppm)
                {
                    self.trip(now);
                    (true, PCL_BREAKER_TRANSITION_OPENED)
                } else {
                    self.close();
                    (true, PCL_BREAKER_TRANSITION_CLOSED)
                }
            }
            (PCL_BREAKER_PERMIT_PROBE, PCL_BREAKER_HALF_OPEN) => {
                if failed || (slow && self.c.slow_rate_ppm != 0) {
                    self.trip(now);
                    return (true, PCL_BREAKER_TRANSITION_OPENED);
                }
                self.successes += 1;
                if slow {
                    self.slow += 1;
                }
                if self.successes >= self.c.successes_to_close {
                    self.close();
                    (true, PCL_BREAKER_TRANSITION_CLOSED)
                } else {
                    COUNTED
                }
            }
            _ => IGNORED,
        }
    }

    fn release(&mut self, p: pcl_breaker_permit) {
        if p.kind == PCL_BREAKER_PERMIT_PROBE
            && p.generation == self.generation
            && self.state == PCL_BREAKER_HALF_OPEN
            && self.admitted > 0
        {
            self.admitted -= 1;
        }
    }

    fn operate(&mut self, op: u8) -> u32 {
        let prev = self.state;
        match op {
            0 => self.enter(PCL_BREAKER_FORCED_OPEN),
            1 => {
                self.clear();
                self.enter(PCL_BREAKER_CLOSED);
            }
            2 => self.enter(PCL_BREAKER_DISABLED),
            3 => {
                self.clear();
                self.enter(PCL_BREAKER_METRICS_ONLY);
            }
            _ => {
                self.clear();
                self.tripped = 0;
                self.rejected = 0;
                self.enter(PCL_BREAKER_CLOSED);
            }
        }
        self.trips = 0;
        prev
    }

    fn check(&self, s: &pcl_breaker_stats, now: u64, at: &str) {
        assert_eq!(s.state, self.state, "{at}: state");
        assert_eq!(s.generation, self.generation, "{at}: generation");
        if self.counts_exact {
            let c = self.counts();
            assert_eq!(
                (s.calls, s.failures, s.slow),
                (c.calls, c.failures, c.slow),
                "{at}: counts"
            );
            assert_eq!(
                (s.failure_rate_ppm, s.slow_rate_ppm),
                (
                    c.failure_rate_ppm().unwrap_or(PCL_BREAKER_NO_RATE),
                    c.slow_rate_ppm().unwrap_or(PCL_BREAKER_NO_RATE)
                ),
                "{at}: rates"
            );
        }
        assert_eq!(s.consecutive_failures, self.consecutive, "{at}: consecutive failures");
        assert_eq!(s.consecutive_trips, self.trips, "{at}: consecutive trips");
        let half = self.state == PCL_BREAKER_HALF_OPEN;
        let probe = |v: u32| if half { v } else { 0 };
        assert_eq!(
            (s.probes_admitted, s.probe_successes, s.probe_failures),
            (probe(self.admitted), probe(self.successes), probe(self.failures)),
            "{at}: probes"
        );
        assert_eq!(s.times_tripped, self.tripped, "{at}: times tripped");
        assert_eq!(s.rejected, self.rejected, "{at}: rejected");
        let remaining = if self.state == PCL_BREAKER_OPEN {
            self.deadline.saturating_sub(now)
        } else {
            PCL_BREAKER_NOT_OPEN
        };
        assert_eq!(s.open_remaining_ns, remaining, "{at}: open remaining");
    }
}

/// What kind of step ran, for the state-edge check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Acquire,
    Record,
    /// An operator call to this state.
    Operator(u32),
    /// Anything that must not move the state.
    Still,
}

/// A breaker on the heap (`_new`) or in caller memory (`_init`).
struct Object {
    ptr: *mut pcl_breaker,
    placed: Option<Layout>,
}

impl Object {
    fn create(cfg: &pcl_breaker_config, in_place: bool) -> (pcl_status, Option<Object>) {
        if in_place {
            let layout = Layout::from_size_align(pcl_breaker_size(), pcl_breaker_align())
                .expect("documented layout");
            // SAFETY: non-zero size.
            let mem = unsafe { std::alloc::alloc(layout) };
            assert!(!mem.is_null());
            // SAFETY: `mem` is writable for `layout.size()` bytes; `cfg` is a valid config.
            let st = unsafe { pcl_breaker_init(mem.cast::<c_void>(), layout.size(), cfg) };
            if st == pcl_status::Ok {
                (st, Some(Object { ptr: mem.cast(), placed: Some(layout) }))
            } else {
                // SAFETY: allocated above with `layout`.
                unsafe { std::alloc::dealloc(mem, layout) };
                (st, None)
            }
        } else {
            let mut p: *mut pcl_breaker = core::ptr::null_mut();
            // SAFETY: `cfg` is a valid config; `p` is writable.
            let st = unsafe { pcl_breaker_new(cfg, &mut p) };
            if st == pcl_status::Ok {
                assert!(!p.is_null());
                (st, Some(Object { ptr: p, placed: None }))
            } else {
                assert!(p.is_null(), "no breaker on error");
                (st, None)
            }
        }
    }
}

impl Drop for Object {
    fn drop(&mut self) {
        match self.placed {
            // SAFETY: allocated in `create` with `layout`; the breaker holds no resources.
            Some(layout) => unsafe { std::alloc::dealloc(self.ptr.cast(), layout) },
            // SAFETY: from `pcl_breaker_new`, freed once.
            None => unsafe { pcl_breaker_free(self.ptr) },
        }
    }
}

fn snapshot(b: *const pcl_breaker, now: u64) -> pcl_breaker_stats {
    let mut s = pcl_breaker_stats::default();
    // SAFETY: `b` is live; `s` is writable.
    assert_eq!(unsafe { pcl_breaker_snapshot(b, now, &mut s) }, pcl_status::Ok);
    let mut state = u32::MAX;
    // SAFETY: as above.
    assert_eq!(unsafe { pcl_breaker_state(b, &mut state) }, pcl_status::Ok);
    assert_eq!(state, s.state, "state and snapshot agree");
    s
}

/// The parts of a snapshot that a call which changes nothing must leave alone.
fn unchanged_part(s: &pcl_breaker_stats) -> [u64; 10] {
    [
        u64::from(s.state),
        u64::from(s.generation),
        s.calls,
        s.failures,
        s.slow,
        s.consecutive_failures,
        u64::from(s.probes_admitted),
        u64::from(s.probe_successes),
        u64::from(s.probe_failures),
        s.times_tripped,
    ]
}

/// The checks that need no model: bounds of one snapshot.
fn check_bounds(s: &pcl_breaker_stats, c: &pcl_breaker_config, at: &str) {
    assert!(s.state <= PCL_BREAKER_METRICS_ONLY, "{at}: state {}", s.state);
    assert!(s.generation < GENERATIONS, "{at}: generation {}", s.generation);
    if c.window_kind == PCL_BREAKER_WINDOW_COUNT {
        assert!(
            s.calls <= u64::from(c.window_size),
            "{at}: {} calls in a window of {}",
            s.calls,
            c.window_size
        );
    }
    assert!(s.failures <= s.calls && s.slow <= s.calls, "{at}: a subset exceeds the calls: {s:?}");
    for rate in [s.failure_rate_ppm, s.slow_rate_ppm] {
        if s.calls == 0 {
            assert_eq!(rate, PCL_BREAKER_NO_RATE, "{at}: a rate of an empty window");
        } else {
            assert!(u64::from(rate) <= PPM, "{at}: rate {rate}");
        }
    }
    assert!(
        s.probes_admitted <= c.half_open_probes,
        "{at}: {} probes admitted of {}",
        s.probes_admitted,
        c.half_open_probes
    );
    assert_eq!(
        s.open_remaining_ns == PCL_BREAKER_NOT_OPEN,
        s.state != PCL_BREAKER_OPEN,
        "{at}: open remaining"
    );
    if !c.count_rejections {
        assert_eq!(s.rejected, 0, "{at}: rejections counted while counting is off");
    }
}

/// The state-edge check between two snapshots around one step that reported `transition`.
fn check_edge(
    step: Step,
    before: &pcl_breaker_stats,
    after: &pcl_breaker_stats,
    transition: u32,
    probes_expire_at_once: bool,
    at: &str,
) {
    let (from, to) = (before.state, after.state);
    let next_gen = (before.generation + 1) % GENERATIONS;
    let moved = match step {
        Step::Operator(target) => {
            assert_eq!(to, target, "{at}: operator call to {target} left {to}");
            true
        }
        Step::Acquire => match (from, to, transition) {
            (f, t, PCL_BREAKER_TRANSITION_NONE) if f == t => false,
            // At the end of the clock the probe deadline saturates at the last tick, already
            // reached: the admission that half-opens the breaker also times its probes out (two
            // documented moves in one call).
            (PCL_BREAKER_OPEN, PCL_BREAKER_OPEN, PCL_BREAKER_TRANSITION_OPENED)
                if probes_expire_at_once =>
            {
                assert_eq!(
                    after.generation,
                    (before.generation + 2) % GENERATIONS,
                    "{at}: two moves"
                );
                assert_eq!(after.times_tripped, before.times_tripped + 1, "{at}: times tripped");
                return;
            }
            (PCL_BREAKER_OPEN, PCL_BREAKER_HALF_OPEN, PCL_BREAKER_TRANSITION_HALF_OPENED)
            | (PCL_BREAKER_HALF_OPEN, PCL_BREAKER_OPEN, PCL_BREAKER_TRANSITION_OPENED) => true,
            e => panic!("{at}: an admission moved {e:?} (from, to, transition)"),
        },
        Step::Record => match (from, to, transition) {
            (f, t, PCL_BREAKER_TRANSITION_NONE) if f == t => false,
            (
                PCL_BREAKER_CLOSED | PCL_BREAKER_HALF_OPEN,
                PCL_BREAKER_OPEN,
                PCL_BREAKER_TRANSITION_OPENED,
            )
            | (PCL_BREAKER_HALF_OPEN, PCL_BREAKER_CLOSED, PCL_BREAKER_TRANSITION_CLOSED) => true,
            e => panic!("{at}: a record moved {e:?} (from, to, transition)"),
        },
        Step::Still => {
            assert_eq!(from, to, "{at}: a step that moves nothing moved the state");
            false
        }
    };
    let want_gen = if moved { next_gen } else { before.generation };
    assert_eq!(after.generation, want_gen, "{at}: generation after {step:?} {from} -> {to}");
    let tripped = moved && to == PCL_BREAKER_OPEN && !matches!(step, Step::Operator(_));
    let want_tripped = match step {
        Step::Operator(_) if after.times_tripped == 0 => 0, // reset
        _ => before.times_tripped + u64::from(tripped),
    };
    assert_eq!(after.times_tripped, want_tripped, "{at}: times tripped");
}

/// A permit held by the caller, and whether it was already recorded or released.
#[derive(Clone, Copy, Debug)]
struct Held {
    p: pcl_breaker_permit,
    recorded: bool,
    released: bool,
}

impl Held {
    fn used(&self) -> bool {
        self.recorded || self.released
    }

    /// Whether the caller contract allows recording it (again): a permit is recorded or released
    /// exactly once, except that recording twice is documented (it counts twice in its
    /// generation) and that a permit of an ended generation changes nothing whatever is done
    /// with it. So only a released probe of the current period may not be recorded.
    fn can_record(&self, generation: u32) -> bool {
        !(self.released
            && self.p.kind == PCL_BREAKER_PERMIT_PROBE
            && self.p.generation == generation)
    }

    /// Whether releasing it (again) is allowed: not for a used probe of the current period.
    fn can_release(&self, generation: u32) -> bool {
        !(self.used() && self.p.kind == PCL_BREAKER_PERMIT_PROBE && self.p.generation == generation)
    }
}

struct Run {
    b: *const pcl_breaker,
    c: pcl_breaker_config,
    model: Option<Model>,
    now: u64,
    held: Vec<Held>,
    /// Probes admitted in the current half-open period and not released (counted here, without
    /// the model).
    live_probes: u32,
    probe_period: u32,
    last: pcl_breaker_stats,
}

impl Run {
    fn after(&mut self, step: Step, transition: u32, at: &str) -> pcl_breaker_stats {
        let s = snapshot(self.b, self.now);
        check_bounds(&s, &self.c, at);
        let at_once = round_up(self.now.saturating_add(self.c.probe_timeout_ns)) <= self.now;
        check_edge(step, &self.last, &s, transition, at_once, at);
        if s.generation != self.probe_period {
            self.probe_period = s.generation;
            self.live_probes = 0;
        }
        assert!(
            self.live_probes <= self.c.half_open_probes,
            "{at}: {} live probes",
            self.live_probes
        );
        if let Some(m) = &self.model {
            m.check(&s, self.now, at);
        }
        self.last = s;
        s
    }

    fn acquire(&mut self) -> Option<pcl_breaker_permit> {
        let before = self.last;
        let mut p = pcl_breaker_permit {
            generation: u32::MAX,
            kind: u32::MAX,
            transition: u32::MAX,
            shadow_rejection: u32::MAX,
        };
        let mut retry = UNWRITTEN;
        // SAFETY: `b` is live; the outputs are writable.
        let st = unsafe { pcl_breaker_try_acquire(self.b, self.now, &mut p, &mut retry) };
        let expected = self.model.as_mut().map(|m| m.acquire(self.now));
        let transition =
            if st == pcl_status::Ok { p.transition } else { PCL_BREAKER_TRANSITION_NONE };
        // A refused admission reports no transition through C: the snapshot shows it.
        let reopened = st == pcl_status::RejectedOpen
            && snapshot(self.b, self.now).generation != before.generation;
        let transition = if reopened { PCL_BREAKER_TRANSITION_OPENED } else { transition };
        if st == pcl_status::Ok {
            if p.kind == PCL_BREAKER_PERMIT_PROBE {
                if p.generation != self.probe_period {
                    self.live_probes = 0;
                }
                self.probe_period = p.generation;
                self.live_probes += 1;
            }
        }
        let s = self.after(Step::Acquire, transition, "try_acquire");
        match st {
            pcl_status::Ok => {
                assert_eq!(p.generation, s.generation, "a permit of the current generation");
                let want_kind = match before.state {
                    PCL_BREAKER_CLOSED | PCL_BREAKER_METRICS_ONLY => PCL_BREAKER_PERMIT_TRACKED,
                    PCL_BREAKER_DISABLED => PCL_BREAKER_PERMIT_UNTRACKED,
                    _ if p.kind == PCL_BREAKER_PERMIT_SHADOW => PCL_BREAKER_PERMIT_SHADOW,
                    PCL_BREAKER_OPEN | PCL_BREAKER_HALF_OPEN => PCL_BREAKER_PERMIT_PROBE,
                    st => panic!("admitted in state {st} without shadow mode ({p:?})"),
                };
                assert_eq!(p.kind, want_kind, "permit kind in state {}", before.state);
                if p.kind == PCL_BREAKER_PERMIT_SHADOW {
                    assert!(self.c.shadow, "a shadow permit without shadow mode");
                    assert!(
                        [
                            pcl_status::RejectedOpen,
                            pcl_status::RejectedHalfOpenFull,
                            pcl_status::RejectedForcedOpen
                        ]
                        .iter()
                        .any(|r| *r as u32 == p.shadow_rejection),
                        "shadow rejection {}",
                        p.shadow_rejection
                    );
                } else {
                    assert_eq!(p.shadow_rejection, pcl_status::Ok as u32);
                }
            }
            pcl_status::RejectedOpen => {
                assert!(!self.c.shadow, "shadow mode admits");
                assert_eq!(s.state, PCL_BREAKER_OPEN);
                assert_ne!(retry, UNWRITTEN, "retry-after of an open breaker");
            }
            pcl_status::RejectedHalfOpenFull | pcl_status::RejectedForcedOpen => {
                assert!(!self.c.shadow, "shadow mode admits");
                assert_eq!(retry, UNWRITTEN, "no retry-after for {st:?}");
            }
            st => panic!("try_acquire returned {st:?}"),
        }
        if let Some(d) = expected {
            let got = if st == pcl_status::Ok {
                Decision::Admit {
                    generation: p.generation,
                    kind: p.kind,
                    transition: p.transition,
                    shadow: p.shadow_rejection,
                }
            } else {
                Decision::Reject { status: st, retry_after: (retry != UNWRITTEN).then_some(retry) }
            };
            assert_eq!(got, d, "try_acquire at {}", self.now);
        }
        (st == pcl_status::Ok).then_some(p)
    }

    /// Records `p`, checking the generation rule and the model.
    fn record(&mut self, p: pcl_breaker_permit, code: u32, weight: u32) {
        let before = self.last;
        let mut transition = u32::MAX;
        // SAFETY: `b` is live; `p` and `transition` are valid.
        let st = unsafe {
            if weight == 1 && code % 2 == 0 {
                pcl_breaker_record(self.b, &p, code, self.now, &mut transition)
            } else {
                pcl_breaker_record_weighted(self.b, &p, code, weight, self.now, &mut transition)
            }
        };
        let valid_kind = p.kind <= PCL_BREAKER_PERMIT_SHADOW;
        let outcome = decode_outcome(code);
        let valid =
            valid_kind && outcome.is_some() && (1..=PCL_BREAKER_MAX_WEIGHT).contains(&weight);
        if !valid {
            assert_eq!(
                st,
                pcl_status::InvalidArgument,
                "record of kind {}, code {code}, weight {weight}",
                p.kind
            );
            let s = self.after(Step::Still, PCL_BREAKER_TRANSITION_NONE, "invalid record");
            assert_eq!(
                unchanged_part(&s),
                unchanged_part(&before),
                "an invalid record changed the breaker"
            );
            return;
        }
        let o = outcome.expect("valid");
        let expected = self.model.as_mut().map(|m| m.record(p, o, weight, self.now));
        let s = self.after(Step::Record, transition, "record");
        let stale = p.generation != before.generation
            || p.kind == PCL_BREAKER_PERMIT_UNTRACKED
            || p.kind == PCL_BREAKER_PERMIT_SHADOW;
        match st {
            pcl_status::Ok => assert!(
                !stale,
                "a stale or untracked permit counted: {p:?} at generation {}",
                before.generation
            ),
            pcl_status::NotCounted => {}
            st => panic!("record returned {st:?}"),
        }
        if stale {
            assert_eq!(st, pcl_status::NotCounted);
            assert_eq!(transition, PCL_BREAKER_TRANSITION_NONE);
            assert_eq!(
                unchanged_part(&s),
                unchanged_part(&before),
                "a stale record changed the breaker ({p:?})"
            );
        }
        if let Some((counted, t)) = expected {
            assert_eq!(
                (st == pcl_status::Ok, transition),
                (counted, t),
                "record of {p:?} at {}",
                self.now
            );
        }
    }

    fn batch(&mut self, picks: &[(pcl_breaker_permit, u32)]) {
        let before = self.last;
        let permits: Vec<pcl_breaker_permit> = picks.iter().map(|x| x.0).collect();
        let codes: Vec<u32> = picks.iter().map(|x| x.1).collect();
        let (mut counted, mut transition) = (usize::MAX, u32::MAX);
        // SAFETY: `b` is live; the arrays hold `n` elements; the outputs are writable.
        let st = unsafe {
            pcl_breaker_record_batch(
                self.b,
                permits.as_ptr(),
                codes.as_ptr(),
                picks.len(),
                self.now,
                &mut counted,
                &mut transition,
            )
        };
        let valid = picks
            .iter()
            .all(|(p, c)| p.kind <= PCL_BREAKER_PERMIT_SHADOW && decode_outcome(*c).is_some());
        if !valid {
            assert_eq!(st, pcl_status::InvalidArgument, "batch with an invalid entry");
            let s = self.after(Step::Still, PCL_BREAKER_TRANSITION_NONE, "invalid batch");
            assert_eq!(
                unchanged_part(&s),
                unchanged_part(&before),
                "an invalid batch changed the breaker"
            );
            return;
        }
        assert_eq!(st, pcl_status::Ok, "batch");
        let current = picks.iter().filter(|(p, _)| {
            p.generation == before.generation
                && (p.kind == PCL_BREAKER_PERMIT_TRACKED || p.kind == PCL_BREAKER_PERMIT_PROBE)
        });
        assert!(
            counted <= current.count(),
            "batch counted {counted} of {picks:?} at generation {}",
            before.generation
        );
        if let Some(m) = self.model.as_mut() {
            let (mut c, mut t) = (0usize, PCL_BREAKER_TRANSITION_NONE);
            for &(p, code) in picks {
                let (k, tr) = m.record(p, decode_outcome(code).expect("valid"), 1, self.now);
                c += usize::from(k);
                if tr != PCL_BREAKER_TRANSITION_NONE {
                    t = tr;
                }
            }
            assert_eq!((counted, transition), (c, t), "batch of {picks:?}");
        }
        let s = self.after(Step::Record, transition, "record_batch");
        if counted == 0 {
            assert_eq!(
                unchanged_part(&s),
                unchanged_part(&before),
                "a batch that counted nothing changed the breaker"
            );
        }
    }

    fn ignore(&mut self, p: pcl_breaker_permit) {
        let before = self.last;
        // SAFETY: `b` is live; `p` is readable.
        let st = unsafe { pcl_breaker_ignore(self.b, &p) };
        if p.kind > PCL_BREAKER_PERMIT_SHADOW {
            assert_eq!(st, pcl_status::InvalidArgument);
        } else {
            assert_eq!(st, pcl_status::Ok);
            if p.kind == PCL_BREAKER_PERMIT_PROBE
                && p.generation == self.probe_period
                && self.live_probes > 0
            {
                self.live_probes -= 1;
            }
            if let Some(m) = self.model.as_mut() {
                m.release(p);
            }
        }
        let s = self.after(Step::Still, PCL_BREAKER_TRANSITION_NONE, "ignore");
        let mut a = unchanged_part(&s);
        let mut bb = unchanged_part(&before);
        // Releasing a current probe frees its place: only `probes_admitted` may change.
        a[6] = 0;
        bb[6] = 0;
        assert_eq!(a, bb, "ignore changed more than the probe count");
        assert!(s.probes_admitted <= before.probes_admitted);
    }

    fn operator(&mut self, op: u8) {
        let before = self.last;
        let mut prev = u32::MAX;
        let target = [
            PCL_BREAKER_FORCED_OPEN,
            PCL_BREAKER_CLOSED,
            PCL_BREAKER_DISABLED,
            PCL_BREAKER_METRICS_ONLY,
            PCL_BREAKER_CLOSED,
        ][usize::from(op)];
        // SAFETY: `b` is live; `prev` is writable.
        let st = unsafe {
            match op {
                0 => pcl_breaker_force_open(self.b, &mut prev),
                1 => pcl_breaker_force_close(self.b, &mut prev),
                2 => pcl_breaker_disable(self.b, &mut prev),
                3 => pcl_breaker_metrics_only(self.b, &mut prev),
                _ => pcl_breaker_reset(self.b, &mut prev),
            }
        };
        assert_eq!(st, pcl_status::Ok);
        assert_eq!(prev, before.state, "an operator call reports the state it replaced");
        if let Some(m) = self.model.as_mut() {
            assert_eq!(m.operate(op), prev);
        }
        let s = self.after(Step::Operator(target), PCL_BREAKER_TRANSITION_NONE, "operator");
        assert_eq!(s.consecutive_trips, 0, "an operator call resets the trip count");
        if op != 0 && op != 2 {
            assert_eq!(
                (s.calls, s.consecutive_failures),
                (0, 0),
                "operator {op} empties the window"
            );
        }
        if op == 4 {
            assert_eq!((s.times_tripped, s.rejected), (0, 0), "reset zeroes the counters");
        }
    }

    fn nulls(&mut self) {
        let before = self.last;
        let null = core::ptr::null_mut::<u32>();
        let no_time = core::ptr::null_mut::<u64>();
        let no_permit = core::ptr::null_mut::<pcl_breaker_permit>();
        let p = pcl_breaker_permit::default();
        let code = PCL_OUTCOME_FAILURE;
        // SAFETY: NULL is allowed by every contract here; `b` is live.
        unsafe {
            assert_eq!(
                pcl_breaker_try_acquire(self.b, self.now, no_permit, no_time),
                pcl_status::NullArgument
            );
            assert_eq!(
                pcl_breaker_try_acquire(
                    core::ptr::null(),
                    self.now,
                    &mut pcl_breaker_permit::default(),
                    no_time
                ),
                pcl_status::NullArgument
            );
            assert_eq!(
                pcl_breaker_record(self.b, core::ptr::null(), code, self.now, null),
                pcl_status::NullArgument
            );
            assert_eq!(
                pcl_breaker_record(core::ptr::null(), &p, code, self.now, null),
                pcl_status::NullArgument
            );
            assert_eq!(pcl_breaker_ignore(self.b, core::ptr::null()), pcl_status::NullArgument);
            assert_eq!(
                pcl_breaker_snapshot(self.b, self.now, core::ptr::null_mut()),
                pcl_status::NullArgument
            );
            assert_eq!(pcl_breaker_state(self.b, core::ptr::null_mut()), pcl_status::NullArgument);
            assert_eq!(pcl_breaker_force_open(core::ptr::null(), null), pcl_status::NullArgument);
            assert_eq!(
                pcl_breaker_record_batch(
                    self.b,
                    core::ptr::null(),
                    core::ptr::null(),
                    3,
                    self.now,
                    core::ptr::null_mut(),
                    null
                ),
                pcl_status::NullArgument
            );
            let (mut counted, mut t) = (7usize, 7u32);
            assert_eq!(
                pcl_breaker_record_batch(
                    self.b,
                    core::ptr::null(),
                    core::ptr::null(),
                    0,
                    self.now,
                    &mut counted,
                    &mut t
                ),
                pcl_status::Ok
            );
            assert_eq!((counted, t), (0, PCL_BREAKER_TRANSITION_NONE), "an empty batch");
        }
        let s = self.after(Step::Still, PCL_BREAKER_TRANSITION_NONE, "NULL arguments");
        assert_eq!(
            unchanged_part(&s),
            unchanged_part(&before),
            "a NULL argument changed the breaker"
        );
    }
}

/// An outcome code, now and then one with no meaning.
fn outcome_code(b: &mut Bytes<'_>) -> u32 {
    let x = b.u8();
    match x % 16 {
        0..=13 => u32::from(x % 4) + 1,
        14 => 0,
        _ => 5 + u32::from(x >> 4),
    }
}

/// A weight: mostly 1, sometimes up to the maximum, now and then invalid.
fn weight(b: &mut Bytes<'_>) -> u32 {
    let x = b.u8();
    match x % 8 {
        0..=3 => 1,
        4 => 2 + u32::from(x >> 6),
        5 => u32::from(x >> 3) % PCL_BREAKER_MAX_WEIGHT + 1,
        6 => 0,
        _ => PCL_BREAKER_MAX_WEIGHT + 1 + u32::from(x >> 3),
    }
}

/// Runs one input.
pub fn check(data: &[u8]) {
    let mut b = Bytes::new(data);
    let flags = b.u8();
    let c = decode_config(&mut b, flags);
    let errors = config_errors(&c);
    let (st, obj) = Object::create(&c, flags & 0x10 != 0);
    if !errors.is_empty() || st != pcl_status::Ok {
        assert!(errors.contains(&st), "config {c:?}: got {st:?}, broken rules {errors:?}");
        return;
    }
    let obj = obj.expect("created");
    let bp = obj.ptr.cast_const();
    let rate_rule = c.failure_rate_ppm != 0 || c.slow_rate_ppm != 0;
    let model = (c.window_kind == PCL_BREAKER_WINDOW_COUNT || !rate_rule).then(|| Model::new(c));
    let now = match b.u8() % 4 {
        0 => u64::MAX - TICK * 64 + u64::from(b.u16()),
        1 => 0,
        _ => u64::from(b.u32()) << 8,
    };
    let last = snapshot(bp, now);
    assert_eq!(last.state, PCL_BREAKER_CLOSED, "a new breaker is closed");
    let mut r = Run {
        b: bp,
        c,
        model,
        now,
        held: Vec::new(),
        live_probes: 0,
        probe_period: last.generation,
        last,
    };
    let mut ops = 0;
    while !b.is_empty() && ops < 2048 {
        ops += 1;
        let op = b.u8();
        match op % 16 {
            0 | 1 => {
                if let Some(p) = r.acquire() {
                    if r.held.len() < 16 {
                        r.held.push(Held { p, recorded: false, released: false });
                    } else {
                        r.ignore(p);
                    }
                }
            }
            2 | 3 => {
                // A call: admitted, and its outcome recorded at once.
                if let Some(p) = r.acquire() {
                    let code = outcome_code(&mut b);
                    r.record(p, code, 1);
                    let recorded = decode_outcome(code).is_some();
                    if !recorded {
                        r.ignore(p);
                    }
                    if r.held.len() < 16 {
                        r.held.push(Held { p, recorded, released: !recorded });
                    }
                }
            }
            4 | 5 if !r.held.is_empty() => {
                // Record a held permit; a used one again (a repeat, or stale by now).
                let i = usize::from(b.u8()) % r.held.len();
                let (code, w) = (outcome_code(&mut b), weight(&mut b));
                let h = r.held[i];
                if h.can_record(r.last.generation) {
                    r.record(h.p, code, w);
                    if decode_outcome(code).is_some() && (1..=PCL_BREAKER_MAX_WEIGHT).contains(&w) {
                        r.held[i].recorded = true;
                    }
                }
            }
            6 if !r.held.is_empty() => {
                // Release a held permit, unless that would release a current probe twice or
                // after its outcome (the caller contract: record or release exactly once).
                let i = usize::from(b.u8()) % r.held.len();
                let h = r.held[i];
                if h.can_release(r.last.generation) {
                    r.ignore(h.p);
                    r.held[i].released = true;
                }
            }
            7 if !r.held.is_empty() => {
                // A batch of up to 8 held permits, with their outcomes.
                let n = usize::from(b.u8() % 8) + 1;
                let mut picks = Vec::new();
                for _ in 0..n {
                    let i = usize::from(b.u8()) % r.held.len();
                    if picks.iter().any(|(j, _)| *j == i)
                        || !r.held[i].can_record(r.last.generation)
                    {
                        continue;
                    }
                    picks.push((i, outcome_code(&mut b)));
                }
                let batch: Vec<_> = picks.iter().map(|&(i, code)| (r.held[i].p, code)).collect();
                r.batch(&batch);
                if batch.iter().all(|(_, code)| decode_outcome(*code).is_some()) {
                    for (i, _) in picks {
                        r.held[i].recorded = true;
                    }
                }
            }
            8 => {
                r.now = r.now.saturating_add(u64::from(b.u16()) % (8 * TICK));
                r.after(Step::Still, PCL_BREAKER_TRANSITION_NONE, "clock");
            }
            9 => {
                r.now = r.now.saturating_add(u64::from(b.u16()) * 40 * TICK / 65_536);
                r.after(Step::Still, PCL_BREAKER_TRANSITION_NONE, "clock");
            }
            10 => {
                r.now = r.now.saturating_sub(u64::from(b.u16()) * 20 * TICK / 65_536);
                r.after(Step::Still, PCL_BREAKER_TRANSITION_NONE, "clock");
            }
            11 => {
                // Onto a deadline (the end of the open period, the probe timeout) or the
                // nanosecond before it.
                let before = u64::from(op >> 7);
                let deadline = match &r.model {
                    Some(m) if matches!(m.state, PCL_BREAKER_OPEN | PCL_BREAKER_HALF_OPEN) => {
                        Some(m.deadline)
                    }
                    Some(_) => None,
                    None if r.last.state == PCL_BREAKER_OPEN => {
                        Some(r.now.saturating_add(r.last.open_remaining_ns))
                    }
                    None if r.last.state == PCL_BREAKER_HALF_OPEN => {
                        Some(r.now.saturating_add(c.probe_timeout_ns))
                    }
                    None => None,
                };
                if let Some(d) = deadline {
                    r.now = d.saturating_sub(before);
                }
                r.after(Step::Still, PCL_BREAKER_TRANSITION_NONE, "clock");
            }
            12 => r.operator(b.u8() % 5),
            13 => r.nulls(),
            14 => {
                // A permit of no known kind is refused whole.
                let mut p = r.held.first().map_or(pcl_breaker_permit::default(), |h| h.p);
                p.kind = PCL_BREAKER_PERMIT_SHADOW + 1 + u32::from(b.u8());
                if op & 0x80 == 0 {
                    r.record(p, PCL_OUTCOME_FAILURE, 1);
                } else {
                    r.ignore(p);
                }
            }
            _ => {
                // Forget the used permits (keeps room for new ones).
                r.held.retain(|h| !h.used());
                r.after(Step::Still, PCL_BREAKER_TRANSITION_NONE, "read");
            }
        }
    }
    drop(obj);
}
