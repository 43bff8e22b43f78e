//! The sliding windows beside the raw atomic operation they are built on, in one run.
//!
//! Group `window`; every id ends in `1t` (the measured thread alone) or `2t` (a second thread
//! works on the same object for the whole timed interval, see `portcullis_benches::measure`).
//! Times are per operation of the measured thread.
//!
//! | id | measured operation | what the second thread does (`2t`) |
//! | --- | --- | --- |
//! | `baseline/fetch_add` | `AtomicU64::fetch_add(1, Relaxed)` on one word | the same, same word |
//! | `baseline/fetch_add_separate/2t` | the same on a word on a cache line of its own | the same, on another such word |
//! | `count100/record_success` | `CountWindow<100>::record(Success)` into a window full of successes | records successes |
//! | `count100/record_success_separate/2t` | as `count100/record_success` | records successes into a window of its own |
//! | `count100/record_alternating` | `record` with outcomes in runs of 100 (100 failures, 100 successes, …), so every record evicts the other kind and updates the counts word | the same pattern (interleaved with the measured thread's, so only some of the records evict the other kind) |
//! | `count100/counts` | `CountWindow<100>::counts()` | records in runs of 100 as above, alone on the window, so every one of its records writes the counts word |
//! | `time10/record_success` | `TimeWindow<10>` over 1 s (buckets of 100 ms): `record(Success, now)`, `now` advancing 1 µs per record (a new bucket every 100,000 records) | records successes at the measured thread's time (published every 1,000 records) |
//! | `time10/record_success_separate/2t` | as `time10/record_success` | records successes into a window of its own, at a time of its own advancing 1 µs per record |
//! | `time10/record_failure` | the same with `Failure` (a second word per bucket) | records failures likewise |
//! | `time10/counts` | `counts(now)` on a window holding outcomes in all 10 buckets | records successes and failures in turn, `now` advancing 1 µs per record |
//! | `count10/…/1t`, `count1000/…/1t` | `record_success` and `counts` as for `count100`, with 10 and 1,000 slots | - |
//! | `time100/…/1t` | `record_success` and `counts` as for `time10`, with 100 buckets of 10 ms (a new bucket every 10,000 records) | - |
//!
//! The last two rows show how the cost grows with the window's size (the "Scaling" section of the
//! report): a record touches one slot or bucket whatever the size, a time window's `counts` sums
//! its `K` buckets.
//!
//! "Alternating" is in runs of 100 rather than success, failure, success, …: with an even `N`,
//! a per-record alternation puts back in each slot the kind it evicts, which is the cheap path.
//!
//! Every window, and the state either thread changes as it goes (its place in a pattern, its
//! time), is in a `Padded` of its own: the second thread reads the locals of the benchmark's
//! frame it captures, and a line it shares with state the measured thread writes would add false
//! sharing to what a `2t` row measures.
//!
//! The outcome passed to `record` goes through `black_box`, as a caller's outcome is known only
//! at run time; every result goes through `black_box`.

use core::hint::black_box;
use core::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis::Nanos;
use portcullis::window::{CountWindow, Outcome, TimeWindow};
use portcullis_benches::{Group, Padded, Threads};

/// Slots of the count window measured with one and two threads.
const N: usize = 100;
/// Buckets of the time window measured with one and two threads (over one second: 100 ms each).
const K: usize = 10;
/// How far `now` advances per record on the time window: 100,000 records per bucket.
const STEP_NS: u64 = 1_000;
/// Records between two publications of the measured thread's `now` to the background thread.
const PUBLISH_EVERY: u64 = 1_000;

/// The criterion group of every benchmark in this file.
const GROUP: &str = "window";

/// Outcomes in runs of `N`: `N` of one kind, then `N` of the other, and so on. Recorded by one
/// thread into a count window of `N` slots whose last `N` outcomes are of the other kind, every
/// record evicts an outcome of the other kind (the most expensive `record`).
#[derive(Debug)]
struct Runs {
    outcome: Outcome,
    left: u64,
    len: u64,
}

impl Runs {
    /// Starts with a run of `first`; runs of `len` outcomes (the slots of the window).
    const fn new(first: Outcome, len: usize) -> Runs {
        Runs { outcome: first, left: len as u64, len: len as u64 }
    }

    fn flip(&mut self) {
        self.outcome =
            if self.outcome == Outcome::Success { Outcome::Failure } else { Outcome::Success };
        self.left = self.len;
    }

    /// The next outcome of the pattern.
    fn next_outcome(&mut self) -> Outcome {
        if self.left == 0 {
            self.flip();
        }
        self.left -= 1;
        self.outcome
    }

    /// Calls `f` with the next `n` outcomes of the pattern; the inner loop holds no test but the
    /// loop's own, so the measured loop costs what `record` costs.
    #[inline]
    fn run(&mut self, mut n: u64, mut f: impl FnMut(Outcome)) {
        while n > 0 {
            if self.left == 0 {
                self.flip();
            }
            let run = n.min(self.left);
            let o = self.outcome;
            for _ in 0..run {
                f(o);
            }
            n -= run;
            self.left -= run;
        }
    }
}

/// A count window of `S` slots holding `S` successes.
fn full_count_window<const S: usize>() -> CountWindow<S> {
    let w = CountWindow::<S>::new();
    for _ in 0..S {
        w.record(Outcome::Success);
    }
    assert_eq!(w.counts().calls, S as u64);
    w
}

/// An empty time window of `B` buckets over one second.
fn time_window<const B: usize>() -> TimeWindow<B> {
    TimeWindow::new(Nanos::from_secs(1)).expect("one second splits into whole buckets")
}

fn baseline_fetch_add(g: &mut Group<'_>, threads: Threads) {
    let word = Padded(AtomicU64::new(0));
    let own_word = Padded(AtomicU64::new(0));
    let theirs = threads.object(&word, &own_word);
    g.bench_loop(
        threads,
        "baseline/fetch_add",
        |n| {
            for _ in 0..n {
                black_box(word.fetch_add(1, Ordering::Relaxed));
            }
        },
        || {
            black_box(theirs.fetch_add(1, Ordering::Relaxed));
        },
    );
}

/// `count<S>/record_success`: the background thread (if any) records into the same window, or
/// into a window of its own with [`Threads::TwoSeparate`].
fn count_record_success<const S: usize>(g: &mut Group<'_>, threads: Threads) {
    let (w, own) = (Padded(full_count_window::<S>()), Padded(full_count_window::<S>()));
    let theirs = threads.object(&w, &own);
    g.bench_loop(
        threads,
        &format!("count{S}/record_success"),
        |n| {
            for _ in 0..n {
                black_box(w.record(black_box(Outcome::Success)));
            }
        },
        || {
            black_box(theirs.record(black_box(Outcome::Success)));
        },
    );
    assert_eq!(w.counts().failures, 0, "the window stayed full of successes");
}

/// Checks that [`Runs`] does what `count100/record_alternating` claims: recorded alone into a
/// window full of successes, every record changes the failure count (it evicts the other kind),
/// however the pattern is split between calls.
fn check_runs_evict_the_other_kind() {
    let w = full_count_window::<N>();
    let mut runs = Runs::new(Outcome::Failure, N);
    let mut failures = w.counts().failures;
    let mut check = |o| {
        w.record(o);
        let now = w.counts().failures;
        assert_ne!(now, failures, "a record evicted an outcome of its own kind");
        failures = now;
    };
    for n in [1, 7, 150, 42, 300] {
        runs.run(n, &mut check);
    }
    for _ in 0..250 {
        check(runs.next_outcome());
    }
}

fn count_record_alternating(g: &mut Group<'_>, threads: Threads) {
    check_runs_evict_the_other_kind();
    let w = Padded(full_count_window::<N>());
    // The window holds N successes: the measured pattern starts with a run of failures, so
    // (alone) each of its records evicts the other kind.
    let mut measured_runs = Padded(Runs::new(Outcome::Failure, N));
    let mut background_runs = Padded(Runs::new(Outcome::Failure, N));
    g.bench_loop(
        threads,
        "count100/record_alternating",
        |n| {
            measured_runs.run(n, |o| {
                black_box(w.record(black_box(o)));
            });
        },
        || {
            black_box(w.record(black_box(background_runs.next_outcome())));
        },
    );
}

fn count_counts<const S: usize>(g: &mut Group<'_>, threads: Threads) {
    let w = Padded(full_count_window::<S>());
    // Alone on the window (the measured thread only reads), and kept across samples, so every
    // background record evicts the other kind and writes the counts word the reader loads.
    let mut background_runs = Padded(Runs::new(Outcome::Failure, S));
    g.bench_loop(
        threads,
        &format!("count{S}/counts"),
        |n| {
            for _ in 0..n {
                black_box(&w.counts());
            }
        },
        || {
            black_box(w.record(black_box(background_runs.next_outcome())));
        },
    );
}

/// `time<B>/<op>`: records of `outcome`. The background thread (if any) records into the same
/// window, or into a window of its own with [`Threads::TwoSeparate`].
fn time_record<const B: usize>(g: &mut Group<'_>, threads: Threads, op: &str, outcome: Outcome) {
    let (w, own) = (Padded(time_window::<B>()), Padded(time_window::<B>()));
    let theirs = threads.object(&w, &own);
    // The measured thread's `now`, kept across samples so time never goes backwards; the
    // background thread records at the last published value, at most `PUBLISH_EVERY` records
    // behind, which is well inside the window.
    let mut now = Padded(0u64);
    let clock = Padded(AtomicU64::new(0));
    // On a window of its own, the background thread keeps a time of its own instead (advancing
    // as the measured thread's does), so that it reads no line the measured thread writes.
    let separate = threads == Threads::TwoSeparate;
    let mut own_now = Padded(0u64);
    g.bench_loop(
        threads,
        &format!("time{B}/{op}"),
        |n| {
            let mut left = n;
            while left > 0 {
                let run = left.min(PUBLISH_EVERY);
                // Relaxed: the background thread needs a recent time, not a fence.
                clock.store(*now, Ordering::Relaxed);
                for _ in 0..run {
                    black_box(w.record(black_box(outcome), Nanos::new(*now)));
                    *now += STEP_NS;
                }
                left -= run;
            }
        },
        || {
            let t = if separate {
                *own_now += STEP_NS;
                *own_now
            } else {
                clock.load(Ordering::Relaxed)
            };
            black_box(theirs.record(black_box(outcome), Nanos::new(t)));
        },
    );
    // (`now` is still 0 when a filter skipped this benchmark.)
    assert!(*now == 0 || w.counts(Nanos::new(*now)).calls > 0, "the records landed in the window");
}

fn time_counts<const B: usize>(g: &mut Group<'_>, threads: Threads) {
    let w = Padded(time_window::<B>());
    // Outcomes in all B buckets: one second of records, 1 ms apart, successes and failures in
    // turn (what a read costs does not depend on how many outcomes a bucket counts).
    let span = Nanos::from_secs(1).as_u64();
    let fill_step = Nanos::from_millis(1).as_u64();
    let mut now = 0u64;
    let mut failed = false;
    while now < span {
        w.record(Outcome::from_parts(failed, false), Nanos::new(now));
        failed = !failed;
        now += fill_step;
    }
    let read_at = Nanos::new(now - fill_step);
    assert_eq!(w.counts(read_at).calls, span / fill_step, "every bucket holds outcomes");
    // The background thread goes on from there (its outcome and time, which it changes on every
    // record), kept across samples so its time never goes backwards. A read at `read_at` reads
    // at the window's newest time, which it advances.
    let mut next = Padded((failed, now));
    g.bench_loop(
        threads,
        &format!("time{B}/counts"),
        |n| {
            for _ in 0..n {
                black_box(&w.counts(black_box(read_at)));
            }
        },
        || {
            let (failed, now) = &mut *next;
            black_box(w.record(black_box(Outcome::from_parts(*failed, false)), Nanos::new(*now)));
            *failed = !*failed;
            *now += STEP_NS;
        },
    );
}

fn window(c: &mut Criterion) {
    let mut g = Group::new(c, GROUP);
    for threads in Threads::ALL {
        baseline_fetch_add(&mut g, threads);
        count_record_success::<N>(&mut g, threads);
        count_record_alternating(&mut g, threads);
        count_counts::<N>(&mut g, threads);
        time_record::<K>(&mut g, threads, "record_success", Outcome::Success);
        time_record::<K>(&mut g, threads, "record_failure", Outcome::Failure);
        time_counts::<K>(&mut g, threads);
    }
    // Two threads that share nothing.
    baseline_fetch_add(&mut g, Threads::TwoSeparate);
    count_record_success::<N>(&mut g, Threads::TwoSeparate);
    time_record::<K>(&mut g, Threads::TwoSeparate, "record_success", Outcome::Success);
    // How the cost grows with the size, one thread.
    let one = Threads::One;
    count_record_success::<10>(&mut g, one);
    count_record_success::<1000>(&mut g, one);
    count_counts::<10>(&mut g, one);
    count_counts::<1000>(&mut g, one);
    time_record::<100>(&mut g, one, "record_success", Outcome::Success);
    time_counts::<100>(&mut g, one);
    g.finish();
}

criterion_group!(benches, window);
criterion_main!(benches);
