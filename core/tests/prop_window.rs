//! Both sliding windows against a sequential reference model (a `Vec` of timestamped outcomes),
//! driven by the same random operations on a manual clock: steps forward, steps backward, jumps
//! of millions of window lengths (past the wrap of the bucket tags), resets and reads.
#![cfg(not(loom))]

use portcullis::window::{CountWindow, Outcome, TimeWindow, WindowCounts};
use portcullis::{Clock, ManualClock, Nanos};
use proptest::prelude::*;

/// Case count: `PROPTEST_CASES` when set (CI sizes it), else 256.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256);
    ProptestConfig::with_cases(cases)
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        Just(Outcome::Success),
        Just(Outcome::Failure),
        Just(Outcome::SlowSuccess),
        Just(Outcome::SlowFailure),
    ]
}

/// What the model counts in a list of outcomes.
fn tally<'a>(outcomes: impl Iterator<Item = &'a Outcome>) -> WindowCounts {
    let mut c = WindowCounts::default();
    for o in outcomes {
        c.calls += 1;
        c.failures += u64::from(o.is_failure());
        c.slow += u64::from(o.is_slow());
    }
    c
}

// ---------------------------------------------------------------------------------------------
// Count window

#[derive(Clone, Debug)]
enum CountOp {
    Record(Outcome),
    Reset,
}

fn count_op() -> impl Strategy<Value = CountOp> {
    prop_oneof![10 => outcome().prop_map(CountOp::Record), 1 => Just(CountOp::Reset)]
}

/// Runs `ops` against a `CountWindow<N>` and the model "the last N outcomes since the last reset",
/// comparing after every step.
fn check_count<const N: usize>(ops: &[CountOp]) -> Result<(), TestCaseError> {
    check_count_sized::<N>(N, ops)
}

/// As `check_count`, for a window of capacity `N` using `size` slots.
fn check_count_sized<const N: usize>(size: usize, ops: &[CountOp]) -> Result<(), TestCaseError> {
    let w = CountWindow::<N>::with_size(size).expect("valid size");
    let mut model: Vec<Outcome> = Vec::new();
    for op in ops {
        match *op {
            CountOp::Record(o) => {
                prop_assert!(w.record(o), "a sequential record is always counted");
                model.push(o);
            }
            CountOp::Reset => {
                w.reset();
                model.clear();
            }
        }
        let expected = tally(model.iter().rev().take(size));
        prop_assert_eq!(w.counts(), expected, "after {:?}", op);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn count_window_1_matches_model(ops in prop::collection::vec(count_op(), 0..60)) {
        check_count::<1>(&ops)?;
    }

    #[test]
    fn count_window_3_matches_model(ops in prop::collection::vec(count_op(), 0..60)) {
        check_count::<3>(&ops)?;
    }

    #[test]
    fn count_window_runtime_size_matches_model(size in 1usize..=32, ops in prop::collection::vec(count_op(), 0..100)) {
        check_count_sized::<32>(size, &ops)?;
    }

    #[test]
    fn count_window_16_matches_model(ops in prop::collection::vec(count_op(), 0..120)) {
        check_count::<16>(&ops)?;
    }
}

/// `record_batch` of a slice leaves a window exactly as one `record` per outcome does, for
/// batches shorter and longer than the window, and reports every outcome landed.
fn check_batches<const N: usize>(batches: &[Vec<Outcome>]) -> Result<(), TestCaseError> {
    let by_batch = CountWindow::<N>::new();
    let single = CountWindow::<N>::new();
    for batch in batches {
        prop_assert_eq!(by_batch.record_batch(batch), batch.len());
        for &o in batch {
            single.record(o);
        }
        prop_assert_eq!(by_batch.counts(), single.counts(), "after a batch of {}", batch.len());
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn count_window_batches_match_single_records(
        batches in prop::collection::vec(prop::collection::vec(outcome(), 0..40), 0..12)
    ) {
        check_batches::<1>(&batches)?;
        check_batches::<7>(&batches)?;
        check_batches::<32>(&batches)?;
    }
}

// ---------------------------------------------------------------------------------------------
// Time window

/// Bucket width used by the model tests.
const W: u64 = 10;

#[derive(Clone, Debug)]
enum TimeOp {
    Record(Outcome),
    /// Clock forward by this many nanoseconds (0 to 3 buckets).
    Forward(u64),
    /// Clock backward by this many nanoseconds (0 to 2 buckets), saturating at 0.
    Backward(u64),
    /// Clock forward by `2^24 · laps + extra` window laps and `skew` nanoseconds: idle gaps around
    /// the wrap of the 24-bit bucket tags.
    Jump {
        laps_pow: bool,
        extra: u64,
        skew: u64,
    },
    Reset,
    /// Read at the current time (reads also happen after every step).
    Read,
}

fn time_op() -> impl Strategy<Value = TimeOp> {
    prop_oneof![
        8 => outcome().prop_map(TimeOp::Record),
        6 => (0..3 * W).prop_map(TimeOp::Forward),
        2 => (0..2 * W).prop_map(TimeOp::Backward),
        1 => (any::<bool>(), 0u64..3, 0..W).prop_map(|(laps_pow, extra, skew)| TimeOp::Jump {
            laps_pow,
            extra,
            skew
        }),
        1 => Just(TimeOp::Reset),
        1 => Just(TimeOp::Read),
    ]
}

fn epoch(now: Nanos) -> u64 {
    (now.as_u64() / W).min(u64::MAX - 1)
}

/// The reference model of a `TimeWindow<K>` with buckets of `W` ns: the outcomes accepted since
/// the last reset with their epochs, and the newest epoch any record reached.
struct TimeModel {
    buckets: u64,
    accepted: Vec<(u64, Outcome)>,
    newest: Option<u64>,
}

impl TimeModel {
    fn record(&mut self, o: Outcome, now: Nanos) -> bool {
        let e = epoch(now);
        if self.newest.is_some_and(|n| n.saturating_sub(e) >= self.buckets) {
            return false; // older than the window
        }
        self.newest = Some(self.newest.map_or(e, |n| n.max(e)));
        self.accepted.push((e, o));
        true
    }

    fn counts(&self, now: Nanos) -> WindowCounts {
        let Some(newest) = self.newest else { return WindowCounts::default() };
        let e = epoch(now).max(newest);
        let k = self.buckets;
        tally(self.accepted.iter().filter(|(re, _)| *re + k > e && *re <= e).map(|(_, o)| o))
    }
}

fn check_time<const K: usize>(start: u64, ops: &[TimeOp]) -> Result<(), TestCaseError> {
    check_time_sized::<K>(K, start, ops)
}

/// As `check_time`, for a window of capacity `K` using `buckets` buckets.
fn check_time_sized<const K: usize>(
    buckets: usize,
    start: u64,
    ops: &[TimeOp],
) -> Result<(), TestCaseError> {
    let b = buckets as u64;
    let w = TimeWindow::<K>::with_buckets(Nanos::new(W * b), buckets).expect("valid config");
    let mut model = TimeModel { buckets: b, accepted: Vec::new(), newest: None };
    let clock = ManualClock::new(Nanos::new(start));
    let lap_ns = W * b;
    for op in ops {
        let now = clock.now();
        match *op {
            TimeOp::Record(o) => {
                prop_assert_eq!(w.record(o, now), model.record(o, now), "record at {}", now);
            }
            TimeOp::Forward(d) => {
                clock.advance(Nanos::new(d));
            }
            TimeOp::Backward(d) => clock.set(now.saturating_sub(Nanos::new(d))),
            TimeOp::Jump { laps_pow, extra, skew } => {
                let laps = if laps_pow { (1u64 << 24) + extra } else { (1u64 << 22) + extra };
                clock.advance(Nanos::new(laps * lap_ns + skew));
            }
            TimeOp::Reset => {
                w.reset();
                model.accepted.clear();
            }
            TimeOp::Read => {}
        }
        let now = clock.now();
        prop_assert_eq!(w.counts(now), model.counts(now), "after {:?} at {}", op, now);
        // A read in the past reads at the newest recorded time.
        prop_assert_eq!(w.counts(Nanos::ZERO), model.counts(Nanos::ZERO));
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn time_window_1_matches_model(start in 0u64..1_000, ops in prop::collection::vec(time_op(), 0..60)) {
        check_time::<1>(start, &ops)?;
    }

    #[test]
    fn time_window_3_matches_model(start in 0u64..1_000, ops in prop::collection::vec(time_op(), 0..80)) {
        check_time::<3>(start, &ops)?;
    }

    #[test]
    fn time_window_8_matches_model(start in 0u64..1_000, ops in prop::collection::vec(time_op(), 0..120)) {
        check_time::<8>(start, &ops)?;
    }

    #[test]
    fn time_window_runtime_buckets_match_model(buckets in 1usize..=16, start in 0u64..1_000, ops in prop::collection::vec(time_op(), 0..100)) {
        check_time_sized::<16>(buckets, start, &ops)?;
    }

    #[test]
    fn time_window_near_end_of_clock(ops in prop::collection::vec(time_op(), 0..40)) {
        // Start a few windows before Nanos::MAX: epochs saturate instead of overflowing.
        check_time::<3>(u64::MAX - 200, &ops)?;
    }
}
