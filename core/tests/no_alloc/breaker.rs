//! Every path of the breaker runs without allocating.
//!
//! A counting global allocator counts the allocations made by this thread while armed; every
//! breaker path is exercised while armed and the count must stay 0. A positive control proves
//! that an allocation made while armed is counted.

use super::allocations;
use core::fmt::Write as _;

use portcullis::breaker::{
    BreakerConfig, CountBreaker, RejectReason, State, TIME_RESOLUTION, TimeBreaker, Transition,
    Weight,
};
use portcullis::window::Outcome;
use portcullis::{ManualClock, Nanos};

/// A fixed buffer that `Display` can write into without allocating.
struct Buf {
    bytes: [u8; 128],
    len: usize,
}

impl core::fmt::Write for Buf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        self.bytes.get_mut(self.len..end).ok_or(core::fmt::Error)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[allow(clippy::too_many_lines, reason = "one armed region covering every path")]
#[allow(clippy::many_single_char_names, reason = "short-lived handles, one per section")]
fn every_path() -> usize {
    let tick = TIME_RESOLUTION.as_u64();
    let at = |ticks: u64| Nanos::new(ticks * tick);
    let config = BreakerConfig {
        consecutive_failures: Some(2),
        failure_rate_ppm: Some(900_000),
        slow_rate_ppm: Some(900_000),
        min_calls: 4,
        slow_call_duration: Some(Nanos::new(10)),
        open_duration: at(10),
        max_open_duration: at(40),
        jitter_ppm: 100_000,
        seed: 3,
        half_open_probes: 2,
        successes_to_close: 2,
        half_open_by_rate: false,
        probe_timeout: at(5),
        shadow: false,
        count_rejections: true,
    };
    let mut steps = 0;

    // Construction, closed admission, recording, trip.
    let b = CountBreaker::<8>::new(config).unwrap();
    let p = b.try_acquire(at(0)).unwrap();
    let heavy = Weight::new(Weight::MAX).unwrap();
    assert_eq!(p.record_weighted(Outcome::Success, heavy, at(0)).transition, Transition::None);
    let p = b.try_acquire(at(0)).unwrap();
    assert_eq!(p.record(Outcome::SlowFailure, at(0)).transition, Transition::None);
    let p = b.try_acquire(at(0)).unwrap();
    assert_eq!(p.record(Outcome::Failure, at(0)).transition, Transition::Opened);
    steps += 1;

    // Open rejection, retry-after, snapshot, Display.
    let r = b.try_acquire(at(1)).unwrap_err();
    assert_eq!(r.reason(), RejectReason::Open);
    assert!(b.open_remaining(at(1)).is_some());
    let s = b.snapshot(at(1));
    assert_eq!(s.rejected, 1);
    let mut buf = Buf { bytes: [0; 128], len: 0 };
    write!(buf, "{r}").unwrap();
    assert!(buf.len > 0);
    steps += 1;

    // Half-open: probes, full, release, success, close.
    let p1 = b.try_acquire(at(20)).unwrap();
    assert_eq!(p1.transition(), Transition::HalfOpened);
    let p2 = b.try_acquire(at(20)).unwrap();
    assert_eq!(b.try_acquire(at(20)).unwrap_err().reason(), RejectReason::HalfOpenFull);
    p2.ignore();
    let p3 = b.try_acquire(at(20)).unwrap();
    drop(p3);
    let p4 = b.try_acquire(at(20)).unwrap();
    assert_eq!(p1.record(Outcome::Success, at(20)).transition, Transition::None);
    assert_eq!(p4.record(Outcome::Success, at(20)).transition, Transition::Closed);
    steps += 1;

    // Failed probe, probe timeout, late outcome.
    for _ in 0..2 {
        let p = b.try_acquire(at(21)).unwrap();
        let _ = p.record(Outcome::Failure, at(21));
    }
    assert_eq!(b.state(), State::Open);
    let probe = b.try_acquire(at(100)).unwrap();
    assert_eq!(
        b.try_acquire(at(100)).unwrap().record(Outcome::Failure, at(100)).transition,
        Transition::Opened
    );
    assert!(!probe.record(Outcome::Success, at(100)).counted);
    let p = b.try_acquire(at(200)).unwrap();
    let r = b.try_acquire(at(300)).unwrap_err();
    assert_eq!(r.transition(), Transition::Opened);
    drop(p);
    steps += 1;

    // Operator transitions.
    let _ = b.force_open();
    assert_eq!(b.try_acquire(at(0)).unwrap_err().reason(), RejectReason::ForcedOpen);
    let _ = b.disable();
    let p = b.try_acquire(at(0)).unwrap();
    assert!(!p.record(Outcome::Failure, at(0)).counted);
    let _ = b.metrics_only();
    let p = b.try_acquire(at(0)).unwrap();
    assert!(p.record(Outcome::Failure, at(0)).counted);
    let _ = b.force_close();
    let _ = b.reset();
    steps += 1;

    // The one-shot `call`, classification, a permit recorded on the wrong breaker.
    let clock = ManualClock::new(at(0));
    let r: Result<Result<u8, u8>, _> = b.call(&clock, || {
        clock.advance(Nanos::new(11));
        Ok(1)
    });
    assert_eq!(r, Ok(Ok(1)));
    assert_eq!(b.classify(true, Nanos::new(11)), Outcome::SlowFailure);
    let other = CountBreaker::<8>::new(config).unwrap();
    let p = other.try_acquire(at(0)).unwrap();
    assert!(!b.record(p, Outcome::Failure, at(0)).counted);
    steps += 1;

    // Shadow mode.
    let shadow = CountBreaker::<8>::new(BreakerConfig { shadow: true, ..config }).unwrap();
    let _ = shadow.force_open();
    let p = shadow.try_acquire(at(0)).unwrap();
    assert!(p.shadow_rejection().is_some());
    assert!(!p.record(Outcome::Failure, at(0)).counted);
    steps += 1;

    // Half-open decided by rate.
    let rated =
        CountBreaker::<8>::new(BreakerConfig { half_open_by_rate: true, ..config }).unwrap();
    let _ = rated.force_close();
    for _ in 0..2 {
        let p = rated.try_acquire(at(0)).unwrap();
        let _ = p.record(Outcome::Failure, at(0));
    }
    let p1 = rated.try_acquire(at(100)).unwrap();
    let p2 = rated.try_acquire(at(100)).unwrap();
    assert!(p1.record(Outcome::Failure, at(100)).counted);
    // 1 failure in 2 probes: 50 % < 90 %.
    assert_eq!(p2.record(Outcome::Success, at(100)).transition, Transition::Closed);
    steps += 1;

    // Time-window breaker.
    let t = TimeBreaker::<4>::new(config, at(4)).unwrap();
    for i in 0..2 {
        let p = t.try_acquire(at(i)).unwrap();
        let _ = p.record(Outcome::Failure, at(i));
    }
    assert_eq!(t.state(), State::Open);
    let _ = t.snapshot(at(4));
    steps += 1;

    // The record in two halves (count, then settle): counted, then a trip left to settle.
    let split = CountBreaker::<8>::new(config).unwrap();
    let counted = split.count_token(split.admit_tracked().unwrap(), Outcome::Failure, heavy, at(0));
    assert_eq!(counted.recorded(), None);
    assert_eq!(split.settle(counted, at(0)).transition, Transition::Opened);
    steps += 1;

    steps
}

#[test]
fn every_breaker_path_allocates_nothing() {
    let (n, steps) = allocations(every_path);
    assert_eq!(steps, 10, "every section ran");
    assert_eq!(n, 0, "breaker paths allocated {n} times");
}
