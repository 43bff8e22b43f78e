//! The rate limiter against a sequential reference model: the GCRA "virtual scheduling" rule of
//! ITU-T I.371 written directly on unbounded integers (`u128`), with the fill level as a rational
//! number for reconfiguration. Random operations on a manual clock: weighted acquisitions, wait
//! times, reservations and cancellations, steps forward and backward, reconfigurations; every
//! decision, wait time and snapshot is compared. Plus the exact-timing properties: a quota of R
//! per interval with burst B admits B at once, then exactly one per interval; over T the count
//! is B + R·T (± 1).
#![cfg(not(loom))]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    reason = "the model's u128 values stay far below 2^63 in these tests"
)]

use portcullis::limiter::{
    Decision, InsufficientCapacity, Quota, RateLimiter, RateLimiterConfig, ReserveError, Start,
};
use portcullis::{Clock, ManualClock, Nanos};
use proptest::prelude::*;

/// Case count: `PROPTEST_CASES` when set (CI sizes it), else 256.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256);
    ProptestConfig::with_cases(cases)
}

#[derive(Clone, Debug)]
enum Op {
    Acquire(u64),
    Wait(u64),
    Reserve {
        n: u64,
        max_wait: u64,
    },
    /// Cancels the `i`-th oldest outstanding reservation (modulo their number).
    Cancel(usize),
    Forward(u64),
    Backward(u64),
    Reconfigure {
        interval: u64,
        burst: u64,
    },
    Snapshot,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => (0u64..6).prop_map(Op::Acquire),
        2 => (0u64..6).prop_map(Op::Wait),
        3 => (0u64..6, 0u64..400).prop_map(|(n, max_wait)| Op::Reserve { n, max_wait }),
        2 => (0usize..4).prop_map(Op::Cancel),
        8 => (0u64..120).prop_map(Op::Forward),
        // Jumps of up to 19 × 2⁵⁶ ns: past the end of the limiter's 60-bit range.
        1 => (0u64..20).prop_map(|j| Op::Forward(j << 56)),
        2 => (0u64..80).prop_map(Op::Backward),
        1 => (1u64..40, 1u64..6).prop_map(|(interval, burst)| Op::Reconfigure { interval, burst }),
        2 => Just(Op::Snapshot),
    ]
}

/// `op` with every duration multiplied by `k` (intervals, time steps, maximum waits), so the
/// same shapes are checked at the scale of seconds and hours, near the limits of the word.
fn scaled(op: &Op, k: u64) -> Op {
    match *op {
        Op::Reserve { n, max_wait } => Op::Reserve { n, max_wait: max_wait.saturating_mul(k) },
        Op::Forward(d) => Op::Forward(d.saturating_mul(k)),
        Op::Backward(d) => Op::Backward(d.saturating_mul(k)),
        Op::Reconfigure { interval, burst } => Op::Reconfigure { interval: interval * k, burst },
        ref other => other.clone(),
    }
}

/// The last instant after the origin that the limiter tells apart (2⁶⁰ − 2⁵⁶ − 1 ns).
const LAST: u64 = (1 << 60) - (1 << 56) - 1;

/// The sequential specification.
struct Model {
    interval: u128,
    burst: u128,
    /// Theoretical arrival time relative to the origin.
    tat: u128,
    origin: u64,
    generation: u64,
    shadow: bool,
    admitted: u64,
    rejected: u64,
}

/// What the model remembers of a reservation, to decide a cancellation.
struct ModelReservation {
    tat_after: u128,
    generation: u64,
    cost: u128,
    ready_at: u64,
}

impl Model {
    fn span(&self) -> u128 {
        self.interval * self.burst
    }

    /// Time since the origin, read as the last instant of the 60-bit range beyond it.
    fn rel(&self, now: Nanos) -> u128 {
        u128::from(now.as_u64().saturating_sub(self.origin).min(LAST))
    }

    /// I.371: a cell at `t` conforms iff `t >= TAT − L`; with weight `n`, `TAT + (n−1)·I − L`
    /// where `L = (B − 1)·I`: equivalently `max(TAT, t) + n·I − t <= B·I`.
    fn acquire(&mut self, n: u64, now: Nanos) -> Result<Decision, InsufficientCapacity> {
        if n == 0 {
            return Ok(Decision::Admitted);
        }
        let t = self.rel(now);
        let n = u128::from(n);
        if n > self.burst {
            self.rejected += 1;
            return Err(InsufficientCapacity { requested: n as u64, burst: self.burst as u64 });
        }
        let next = self.tat.max(t) + n * self.interval;
        if next - t <= self.span() {
            self.tat = next;
            self.admitted += 1;
            Ok(Decision::Admitted)
        } else {
            self.rejected += 1;
            let retry_after = Nanos::new((next - t - self.span()) as u64);
            Ok(if self.shadow {
                Decision::ShadowAdmitted { retry_after }
            } else {
                Decision::Rejected { retry_after }
            })
        }
    }

    fn wait(&self, n: u64, now: Nanos) -> Result<Nanos, InsufficientCapacity> {
        if n == 0 {
            return Ok(Nanos::ZERO);
        }
        let t = self.rel(now);
        let n = u128::from(n);
        if n > self.burst {
            return Err(InsufficientCapacity { requested: n as u64, burst: self.burst as u64 });
        }
        let next = self.tat.max(t) + n * self.interval;
        Ok(Nanos::new((next - t).saturating_sub(self.span()) as u64))
    }

    fn reserve(
        &mut self,
        n: u64,
        now: Nanos,
        max_wait: u64,
    ) -> Result<(u64, ModelReservation), ReserveError> {
        if n == 0 {
            let ready_at = now.as_u64();
            return Ok((
                ready_at,
                ModelReservation { tat_after: 0, generation: 0, cost: 0, ready_at },
            ));
        }
        let t = self.rel(now);
        let n128 = u128::from(n);
        if n128 > self.burst {
            self.rejected += 1;
            return Err(ReserveError::InsufficientCapacity(InsufficientCapacity {
                requested: n,
                burst: self.burst as u64,
            }));
        }
        let next = self.tat.max(t) + n128 * self.interval;
        let wait = (next - t).saturating_sub(self.span());
        // Beyond the 60-bit word the debt cannot be recorded: refused as too far too.
        if wait > u128::from(max_wait) || next > (1 << 60) - 1 {
            self.rejected += 1;
            return Err(ReserveError::TooFar { wait: Nanos::new(wait as u64) });
        }
        self.tat = next;
        self.admitted += 1;
        let ready_at = (t + wait) as u64 + self.origin;
        Ok((
            ready_at,
            ModelReservation {
                tat_after: next,
                generation: self.generation,
                cost: n128 * self.interval,
                ready_at,
            },
        ))
    }

    fn cancel(&mut self, r: &ModelReservation, now: Nanos) -> bool {
        if r.cost == 0 {
            return true;
        }
        if now.as_u64() >= r.ready_at || r.generation != self.generation || self.tat != r.tat_after
        {
            return false;
        }
        self.tat -= r.cost;
        true
    }

    /// Keeps the fill level `(span − debt) / interval` (a rational, possibly negative), capped
    /// at the new burst, never gaining a fraction of a permit.
    fn reconfigure(&mut self, interval: u64, burst: u64, now: Nanos) {
        let t = self.rel(now);
        let debt = self.tat.saturating_sub(t) as i128;
        let level_num = self.span() as i128 - debt; // level = level_num / old interval
        let (ni, nb) = (i128::from(interval), i128::from(burst));
        let oi = self.interval as i128;
        let new_debt = if level_num >= 0 {
            let kept = (level_num * ni).div_euclid(oi); // floor
            (ni * nb - kept).max(0)
        } else {
            ni * nb + (-level_num * ni + oi - 1) / oi // ceil of the debt
        };
        // A debt that no longer fits the 60-bit word saturates at its end (documented).
        self.tat = (t + new_debt as u128).min((1 << 60) - 1);
        self.interval = u128::from(interval);
        self.burst = u128::from(burst);
        self.generation += 1;
    }

    fn available(&self, now: Nanos) -> u64 {
        let t = self.rel(now);
        let debt = self.tat.saturating_sub(t);
        if debt >= self.span() { 0 } else { ((self.span() - debt) / self.interval) as u64 }
    }
}

fn check(
    start_interval: u64,
    start_burst: u64,
    empty: bool,
    shadow: bool,
    origin: u64,
    ops: &[Op],
) -> Result<(), TestCaseError> {
    let quota = Quota::per_interval(Nanos::new(start_interval), start_burst).unwrap();
    let cfg = RateLimiterConfig::new(quota)
        .start(if empty { Start::Empty } else { Start::Full })
        .counting(true)
        .shadow(shadow);
    let limiter = RateLimiter::new(cfg, Nanos::new(origin));
    let mut model = Model {
        interval: u128::from(start_interval),
        burst: u128::from(start_burst),
        tat: if empty { u128::from(start_interval * start_burst) } else { 0 },
        origin,
        generation: 0,
        shadow,
        admitted: 0,
        rejected: 0,
    };
    let clock = ManualClock::new(Nanos::new(origin + 50));
    let mut outstanding = Vec::new();
    for op in ops {
        let now = clock.now();
        match *op {
            Op::Acquire(n) => {
                prop_assert_eq!(
                    limiter.try_acquire_n(n, now),
                    model.acquire(n, now),
                    "{:?} at {}",
                    op,
                    now
                );
                if n == 1 {
                    // The single-permit path agrees with the weighted one (no state change).
                    prop_assert_eq!(limiter.wait_time(1, now), model.wait(1, now));
                }
            }
            Op::Wait(n) => {
                let wait = limiter.wait_time(n, now);
                prop_assert_eq!(wait, model.wait(n, now), "{:?} at {}", op, now);
                // Exactness of the real limiter, probed read-only: nothing to wait at now + wait,
                // one nanosecond left one nanosecond before. (Only inside the clock range: before
                // the origin every reading is the origin, after the range's end time stops.)
                if let Ok(w) = wait {
                    let due = now.saturating_add(w);
                    let in_range = now.as_u64() >= origin && due.as_u64() - origin <= LAST;
                    if n > 0 && w > Nanos::ZERO && in_range {
                        let before = due.saturating_sub(Nanos::new(1));
                        prop_assert_eq!(limiter.wait_time(n, before), Ok(Nanos::new(1)));
                        prop_assert_eq!(limiter.wait_time(n, due), Ok(Nanos::ZERO));
                    }
                }
            }
            Op::Reserve { n, max_wait } => {
                let real = limiter.reserve(n, now, Nanos::new(max_wait));
                let expected = model.reserve(n, now, max_wait);
                match (real, expected) {
                    (Ok(r), Ok((ready_at, m))) => {
                        prop_assert_eq!(r.ready_at(), Nanos::new(ready_at), "{:?}", op);
                        prop_assert_eq!(r.permits(), n);
                        outstanding.push((r, m));
                    }
                    (Err(a), Err(b)) => prop_assert_eq!(a, b, "{:?} at {}", op, now),
                    (a, b) => {
                        prop_assert!(false, "{:?}: real {:?}, model {:?}", op, a, b.map(|x| x.0));
                    }
                }
            }
            Op::Cancel(i) => {
                if !outstanding.is_empty() {
                    let (r, m) = outstanding.remove(i % outstanding.len());
                    prop_assert_eq!(
                        limiter.cancel(r, now),
                        model.cancel(&m, now),
                        "{:?} at {}",
                        op,
                        now
                    );
                }
            }
            Op::Forward(d) => {
                clock.advance(Nanos::new(d));
            }
            Op::Backward(d) => clock.set(now.saturating_sub(Nanos::new(d))),
            Op::Reconfigure { interval, burst } => {
                let q = Quota::per_interval(Nanos::new(interval), burst).unwrap();
                prop_assert!(limiter.reconfigure(q, now).is_ok());
                model.reconfigure(interval, burst, now);
                prop_assert_eq!(limiter.quota(), q);
            }
            Op::Snapshot => {}
        }
        let now = clock.now();
        let s = limiter.snapshot(now);
        prop_assert_eq!(s.available, model.available(now), "available after {:?} at {}", op, now);
        prop_assert_eq!(s.interval, Nanos::new(model.interval as u64));
        prop_assert_eq!(s.burst, model.burst as u64);
        prop_assert_eq!(s.admitted, Some(model.admitted), "after {:?}", op);
        prop_assert_eq!(s.rejected, Some(model.rejected), "after {:?}", op);
        prop_assert_eq!(s.shadow, shadow);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn limiter_matches_model(
        interval in 1u64..40,
        burst in 1u64..6,
        empty in any::<bool>(),
        shadow in any::<bool>(),
        origin in prop_oneof![Just(0u64), 0u64..1_000, Just(1u64 << 61)],
        ops in prop::collection::vec(op(), 0..80),
    ) {
        check(interval, burst, empty, shadow, origin, &ops)?;
    }

    /// The same model at large scales: intervals up to 39 × 2⁴⁸ ns (bursts up to 5, so the span
    /// stays within 2⁵⁶ ns), clock origins up to 2⁶³.
    #[test]
    fn limiter_matches_model_at_scale(
        k in prop_oneof![Just(1_000_000_000u64), Just(1u64 << 48), 1u64..1 << 30],
        interval in 1u64..40,
        burst in 1u64..6,
        empty in any::<bool>(),
        origin in prop_oneof![Just(0u64), Just(1u64 << 63)],
        ops in prop::collection::vec(op(), 0..60),
    ) {
        let ops: Vec<Op> = ops.iter().map(|o| scaled(o, k)).collect();
        check(interval * k, burst, empty, false, origin, &ops)?;
    }

    /// A quota of one per `interval` with burst `burst` admits `burst` at once, then exactly one
    /// per interval: never at `k·interval − 1`, always at `k·interval`.
    #[test]
    fn burst_then_one_per_interval(interval in 1u64..1_000_000, burst in 1u64..50, t0 in 0u64..1 << 40) {
        let q = Quota::per_interval(Nanos::new(interval), burst).unwrap();
        let l = RateLimiter::new(RateLimiterConfig::new(q), Nanos::ZERO);
        let t0 = Nanos::new(t0);
        for _ in 0..burst {
            prop_assert_eq!(l.try_acquire(t0), Decision::Admitted);
        }
        prop_assert_eq!(l.try_acquire(t0), Decision::Rejected { retry_after: Nanos::new(interval) });
        for k in 1..=20u64 {
            let due = t0.saturating_add(Nanos::new(k * interval));
            prop_assert_eq!(l.try_acquire(due.saturating_sub(Nanos::new(1))), Decision::Rejected { retry_after: Nanos::new(1) });
            prop_assert_eq!(l.try_acquire(due), Decision::Admitted);
            prop_assert!(!l.try_acquire(due).is_admitted());
        }
    }

    /// Over `secs` seconds of greedy polling at a random step no longer than the interval,
    /// `burst + rate·secs` are admitted, − 1 at most (the last poll may fall just before the last
    /// boundary); the rates divide 10⁹, so the interval is exact. A burst of at least 2 absorbs
    /// the lateness of each poll; with a burst of 1 lateness is lost (see the semantics page).
    #[test]
    fn long_run_count_is_burst_plus_rate_times_duration(
        rate in prop::sample::select(vec![1u64, 2, 4, 5, 8, 10, 16, 20, 25, 40, 50, 100, 125, 200, 250, 500, 1_000]),
        burst in 2u64..20,
        secs in 1u64..30,
        step_us in 1u64..1_000_000,
    ) {
        let step_us = step_us.min(1_000_000 / rate);
        let l = RateLimiter::new(RateLimiterConfig::new(Quota::per_second(rate, burst).unwrap()), Nanos::ZERO);
        let end = secs * 1_000_000_000;
        let mut admitted = 0u64;
        let mut t = 0u64;
        while t <= end {
            while l.try_acquire(Nanos::new(t)).is_admitted() {
                admitted += 1;
            }
            t += step_us * 1_000;
        }
        let expected = burst + rate * secs;
        prop_assert!(admitted <= expected, "{} > {}", admitted, expected);
        prop_assert!(admitted + 1 >= expected, "{} + 1 < {}", admitted, expected);
    }
}

/// Exactly B + R·T when polled at every interval boundary (R = 7/s does not divide 10⁹: the
/// interval rounds up to 142,857,143 ns, so the count never exceeds R·T).
#[test]
fn long_run_exact_at_boundaries() {
    for (rate, burst, secs) in [(10u64, 5u64, 60u64), (7, 3, 100), (1_000, 1, 10)] {
        let q = Quota::per_second(rate, burst).unwrap();
        let l = RateLimiter::new(RateLimiterConfig::new(q), Nanos::ZERO);
        let mut admitted = 0u64;
        let step = q.interval().as_u64();
        let mut t = 0u64;
        while t <= secs * 1_000_000_000 {
            while l.try_acquire(Nanos::new(t)).is_admitted() {
                admitted += 1;
            }
            t += step;
        }
        let expected = burst + rate * secs;
        assert!(
            admitted.abs_diff(expected) <= 1,
            "R={rate} B={burst} T={secs}: {admitted} vs {expected}"
        );
    }
}

#[test]
fn errors_display_their_rule() {
    assert_eq!(
        Quota::per_interval(Nanos::new(1 << 30), 1 << 30).unwrap_err().to_string(),
        "burst: interval × burst (1073741824 ns × 1073741824) must not exceed 72057594037927936 ns"
    );
    assert_eq!(
        Quota::per_second(0, 1).unwrap_err().to_string(),
        "rate must be in 1..=1000000000, got 0"
    );
    assert_eq!(
        Quota::per_second(1, 0).unwrap_err().to_string(),
        "burst must be in 1..=72057594037927936, got 0"
    );
    assert_eq!(
        InsufficientCapacity { requested: 3, burst: 2 }.to_string(),
        "3 permits requested but the burst is 2"
    );
}
