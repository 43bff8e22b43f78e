//! The measuring code the criterion benchmarks in `benches/benches/` share.
//!
//! Every hot path is measured alone (`1t`) and with a second thread working on the same object
//! for the whole timed interval (`2t`; for an operation that only reads, such as a percentile or
//! a deadline check, that shows the cost of read sharing). The hot paths of the primitives are
//! also measured with the second thread working on an object of its own
//! (`<operation>_separate/2t`), which shows whether two threads that share nothing slow each
//! other down (false sharing, or anything else shared behind the objects). Every case runs the
//! same measured loop through [`measure`], so the only difference
//! between a `1t` and a `2t` number is the other thread.
//!
//! Benchmark ids follow `<subject>/<operation>/<threads>`, with the raw atomic operation a
//! primitive is built on under the subject `baseline` (for example `baseline/fetch_add/1t`), so
//! `scripts/bench-report.py` can pair every benchmark with its baseline of the same thread count.
//! [`Group`] registers such a benchmark for each [`Threads`] case and prints, for a `2t` one, how
//! much the second thread did (the report's "background ops per op").
//!
//! Every object a thread works on, and every piece of state the second thread writes, sits in a
//! [`Padded`] of its own: otherwise it could share a cache line with the measured thread's stack
//! and turn a `_separate/2t` row into a false-sharing one.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::time::Duration;
use std::thread;
use std::time::Instant;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion};

/// Aligns a value to 128 bytes, so that it shares its cache line (and the adjacent-line
/// prefetcher's pair of lines) with nothing else.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct Padded<T>(pub T);

impl<T> core::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> core::ops::DerefMut for Padded<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// How many threads work on the measured object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threads {
    /// The measured thread alone.
    One,
    /// The measured thread, plus one background thread that runs its own operation on the same
    /// object in a loop for the whole timed interval.
    Two,
    /// The measured thread, plus one background thread that runs its own operation in a loop for
    /// the whole timed interval on an object of its own, on cache lines of its own (see
    /// [`Threads::object`]).
    TwoSeparate,
}

impl Threads {
    /// One thread, and two on one object, in the order the benchmarks report them.
    pub const ALL: [Threads; 2] = [Threads::One, Threads::Two];

    /// [`Threads::ALL`], then two threads on separate objects.
    pub const WITH_SEPARATE: [Threads; 3] = [Threads::One, Threads::Two, Threads::TwoSeparate];

    /// The suffix of a benchmark id: `1t` or `2t`.
    #[must_use]
    pub const fn suffix(self) -> &'static str {
        match self {
            Threads::One => "1t",
            Threads::Two | Threads::TwoSeparate => "2t",
        }
    }

    /// The benchmark id: `<name>/1t`, `<name>/2t`, or `<name>_separate/2t`.
    #[must_use]
    pub fn id(self, name: &str) -> String {
        match self {
            Threads::TwoSeparate => format!("{name}_separate/2t"),
            _ => format!("{name}/{}", self.suffix()),
        }
    }

    /// Whether a background thread runs during the measurement.
    #[must_use]
    pub const fn has_background(self) -> bool {
        !matches!(self, Threads::One)
    }

    /// The object the background thread works on: `shared` (the measured one) unless the case is
    /// [`Threads::TwoSeparate`], then `own`. Give both in a [`Padded`], so that the two objects
    /// share no cache line.
    #[must_use]
    pub const fn object<'a, T>(self, shared: &'a T, own: &'a T) -> &'a T {
        match self {
            Threads::TwoSeparate => own,
            Threads::One | Threads::Two => shared,
        }
    }
}

/// Pinning of the two threads of a 2-thread measurement to two different CPUs (Linux).
///
/// Left to the scheduler, the two threads can share one CPU and run in turns, each alone on the
/// object for a time slice: the measured thread then shows single-thread times while the
/// background thread still makes progress, and nothing tells the run apart from a contended one.
#[cfg(target_os = "linux")]
mod pin {
    use core::mem::{size_of, zeroed};

    /// A set of CPUs a thread may run on.
    pub(crate) struct CpuSet(libc::cpu_set_t);

    /// How many CPUs a `cpu_set_t` can name.
    const CAPACITY: usize = 8 * size_of::<libc::cpu_set_t>();

    impl CpuSet {
        fn empty() -> CpuSet {
            // SAFETY: `cpu_set_t` is an array of integers, for which all bits zero is a valid
            // value (the empty set).
            CpuSet(unsafe { zeroed() })
        }

        /// The CPUs the calling thread may run on.
        pub(crate) fn current() -> Option<CpuSet> {
            let mut set = CpuSet::empty();
            // SAFETY:
            // - `set.0` is a live, writable `cpu_set_t`, and the size passed is its size;
            // - pid 0 names the calling thread.
            let rc =
                unsafe { libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &raw mut set.0) };
            (rc == 0).then_some(set)
        }

        /// The set of `cpu` alone (`cpu` below `CAPACITY`, as [`CpuSet::first_two`] returns).
        pub(crate) fn only(cpu: usize) -> CpuSet {
            let mut set = CpuSet::empty();
            if cpu < CAPACITY {
                // SAFETY: `cpu` is below the number of CPUs a `cpu_set_t` holds, checked above.
                unsafe { libc::CPU_SET(cpu, &mut set.0) };
            }
            set
        }

        /// The two lowest-numbered CPUs of the set, if it has two.
        pub(crate) fn first_two(&self) -> Option<(usize, usize)> {
            let mut cpus = (0..CAPACITY).filter(|&cpu| {
                // SAFETY: `cpu` is below the number of CPUs a `cpu_set_t` holds (the range).
                unsafe { libc::CPU_ISSET(cpu, &self.0) }
            });
            Some((cpus.next()?, cpus.next()?))
        }

        /// Restricts the calling thread to this set; whether that succeeded.
        pub(crate) fn apply(&self) -> bool {
            // SAFETY:
            // - `self.0` is a live `cpu_set_t`, and the size passed is its size;
            // - pid 0 names the calling thread.
            unsafe {
                libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &raw const self.0) == 0
            }
        }
    }

    /// For a 2-thread measurement: the calling thread's current CPUs (to restore afterwards),
    /// then one CPU for the measured thread and another for the background thread; `None` when
    /// the process may use fewer than two CPUs.
    pub(crate) fn plan() -> Option<(CpuSet, CpuSet, CpuSet)> {
        let original = CpuSet::current()?;
        let (a, b) = original.first_two()?;
        Some((original, CpuSet::only(a), CpuSet::only(b)))
    }
}

/// Elsewhere the threads are left to the scheduler.
#[cfg(not(target_os = "linux"))]
mod pin {
    pub(crate) struct CpuSet;

    impl CpuSet {
        pub(crate) fn apply(&self) -> bool {
            false
        }
    }

    pub(crate) fn plan() -> Option<(CpuSet, CpuSet, CpuSet)> {
        None
    }
}

/// Background operations the second thread runs between two checks of its stop flag. Small
/// enough that it stops promptly, large enough that the flag check is noise.
const BATCH: u64 = 64;

/// How much the background thread did while the measured loop ran, summed over all the samples
/// of one benchmark; a check that a `2t` number really was measured under contention.
#[derive(Debug, Default)]
pub struct Tally {
    measured: AtomicU64,
    background: AtomicU64,
}

impl Tally {
    /// A tally with nothing counted.
    #[must_use]
    pub const fn new() -> Tally {
        Tally { measured: AtomicU64::new(0), background: AtomicU64::new(0) }
    }

    /// Background operations per measured operation, over every sample counted so far; `None`
    /// before any measured operation.
    #[must_use]
    #[allow(clippy::cast_precision_loss, reason = "a ratio for display; 2^53 operations is far")]
    pub fn background_per_measured(&self) -> Option<f64> {
        let m = self.measured.load(Ordering::Relaxed);
        let b = self.background.load(Ordering::Relaxed);
        (m != 0).then(|| b as f64 / m as f64)
    }

    /// Adds one timed run: `measured` operations of the measured thread, `background` of the
    /// other.
    fn count(&self, measured: u64, background: u64) {
        self.measured.fetch_add(measured, Ordering::Relaxed);
        self.background.fetch_add(background, Ordering::Relaxed);
    }

    /// Prints the ratio for benchmark `id` (with its group: `window/count100/counts/2t`) on
    /// standard error, where `scripts/bench-report.py` reads it; only once enough operations were
    /// measured for it to mean something (not in criterion's `--test` mode, which runs each
    /// benchmark once).
    pub fn print(&self, id: &str) {
        if self.measured.load(Ordering::Relaxed) < 10_000 {
            return;
        }
        if let Some(r) = self.background_per_measured() {
            eprintln!("{id}: background thread ran {r:.2} operations per measured operation");
        }
    }
}

/// Runs `body` on the calling thread and returns what it returns; with [`Threads::Two`] or
/// [`Threads::TwoSeparate`], a background thread runs `background` in a loop meanwhile. `body` is
/// given a reader of how many background operations have completed so far (0 with
/// [`Threads::One`]).
///
/// The background thread has completed a first batch of operations when `body` starts (so it is
/// running, not still being created), and is stopped only after `body` returns. On Linux the two
/// threads are pinned to two different CPUs meanwhile (the calling thread's CPUs are restored
/// afterwards), so that they run at the same time. Thread creation, pinning and joining are
/// outside `body`. With [`Threads::One`], `background` is not run and nothing is pinned.
///
/// # Panics
///
/// If the background thread panics (the benchmark is then wrong, not slow).
fn beside_background<B, R>(
    threads: Threads,
    mut background: B,
    body: impl FnOnce(&dyn Fn() -> u64) -> R,
) -> R
where
    B: FnMut() + Send,
{
    if threads == Threads::One {
        return body(&|| 0);
    }
    // `progress` is written only by the background thread and read by this one only outside the
    // timed intervals; `stop` is written once, after them. Each on its own line, so neither adds
    // traffic to the measured object's lines.
    let progress = Padded(AtomicU64::new(0));
    let stop = Padded(AtomicBool::new(false));
    // Relaxed: a progress counter, not a publication of other memory.
    let done_so_far = || progress.load(Ordering::Relaxed);
    let pins = pin::plan();
    if let Some((_, measured_cpu, _)) = &pins {
        measured_cpu.apply();
    }
    let result = thread::scope(|s| {
        let (progress, stop, pins) = (&progress, &stop, &pins);
        // `move`: the background thread owns `background` (for a caller's `&mut` closure, the
        // reference) instead of reaching it through a local of this frame on every call. This
        // thread writes its frame as it measures (a `black_box` result on every iteration), and a
        // local read from here on every background call could share that line: false sharing in
        // the measuring code itself, which slowed some `_separate/2t` rows severalfold.
        let worker = s.spawn(move || {
            if let Some((_, _, background_cpu)) = pins {
                background_cpu.apply();
            }
            let mut done = 0u64;
            loop {
                for _ in 0..BATCH {
                    background();
                }
                done += BATCH;
                progress.store(done, Ordering::Relaxed);
                if stop.load(Ordering::Relaxed) {
                    break;
                }
            }
        });
        while done_so_far() == 0 {
            assert!(!worker.is_finished(), "the background thread stopped before the timing");
            core::hint::spin_loop();
        }
        let result = body(&done_so_far);
        stop.store(true, Ordering::Relaxed);
        assert!(worker.join().is_ok(), "the background thread panicked");
        result
    });
    if let Some((original, _, _)) = &pins {
        original.apply();
    }
    result
}

/// Times `measured(iters)`, which must run the measured operation `iters` times, on the calling
/// thread, and returns the elapsed wall time (what criterion's `iter_custom` expects).
///
/// With [`Threads::Two`], a background thread runs `background` in a loop on the same object for
/// the whole timed interval (with [`Threads::TwoSeparate`] likewise, `background` working on an
/// object of its own, which is the caller's to give it): timing starts only once that thread has
/// completed a first batch of operations (so it is running, not still being created), and it is
/// stopped only after the timer has been read. On Linux the two threads are pinned to two
/// different CPUs for the measurement (the calling thread's CPUs are restored afterwards), so
/// that they run at the same time. Thread creation, pinning and joining are outside the timed
/// interval. With [`Threads::One`], `background` is not run and nothing is pinned.
///
/// # Panics
///
/// If the background thread panics (the benchmark is then wrong, not slow).
pub fn measure<M, B>(
    threads: Threads,
    iters: u64,
    measured: M,
    background: B,
    tally: &Tally,
) -> Duration
where
    M: FnOnce(u64),
    B: FnMut() + Send,
{
    beside_background(threads, background, |done_so_far| {
        let before = done_so_far();
        let start = Instant::now();
        measured(iters);
        let elapsed = start.elapsed();
        let after = done_so_far();
        if threads.has_background() {
            tally.count(iters, after - before);
        }
        elapsed
    })
}

/// [`measure`] of an operation that is the same call every time: runs `op` `iters` times.
pub fn measure_each<M, B>(
    threads: Threads,
    iters: u64,
    mut op: M,
    background: B,
    tally: &Tally,
) -> Duration
where
    M: FnMut(),
    B: FnMut() + Send,
{
    measure(
        threads,
        iters,
        |n| {
            for _ in 0..n {
                op();
            }
        },
        background,
        tally,
    )
}

/// A criterion benchmark group that knows its name, so that a `2t` benchmark can print how much
/// its second thread did under its full id (`<group>/<id>`, which `scripts/bench-report.py`
/// reads). Dereferences to criterion's group, for benchmarks that need no second thread.
pub struct Group<'a> {
    inner: BenchmarkGroup<'a, WallTime>,
    name: &'static str,
}

impl<'a> Group<'a> {
    /// The criterion group `name`.
    #[must_use]
    pub fn new(c: &'a mut Criterion, name: &'static str) -> Group<'a> {
        Group { inner: c.benchmark_group(name), name }
    }

    /// Benchmarks `op`, one call per iteration, as `threads.id(name)`, the second thread (if
    /// any) running `background` ([`measure_each`]).
    pub fn bench(
        &mut self,
        threads: Threads,
        name: &str,
        mut op: impl FnMut(),
        background: impl FnMut() + Send,
    ) {
        let tally = Tally::new();
        let id = threads.id(name);
        // What the background thread reads on every call (the closure's captures) on lines of
        // their own.
        let mut background = Padded(background);
        self.inner.bench_function(&id, |b| {
            b.iter_custom(|iters| measure_each(threads, iters, &mut op, &mut background.0, &tally));
        });
        self.report(threads, &id, &tally);
    }

    /// The rows `name` of a baseline operation `op` on one word: at 1 thread, at 2 threads on one
    /// word, and at 2 threads on separate words (each word on a line of its own), the second
    /// thread doing the same.
    pub fn word_baselines(&mut self, name: &str, op: impl Fn(&AtomicU64) + Sync) {
        let word = Padded(AtomicU64::new(0));
        let own_word = Padded(AtomicU64::new(0));
        for threads in Threads::WITH_SEPARATE {
            let theirs = threads.object(&word, &own_word);
            self.bench(threads, name, || op(&word), || op(theirs));
        }
    }

    /// The `baseline/fetch_add` rows ([`word_baselines`](Self::word_baselines)) of a relaxed
    /// `fetch_add`.
    pub fn fetch_add_baselines(&mut self) {
        self.word_baselines("baseline/fetch_add", |w| {
            core::hint::black_box(w.fetch_add(1, Ordering::Relaxed));
        });
    }

    /// Benchmarks `measured(n)`, which must run the operation `n` times, as `threads.id(name)`,
    /// the second thread (if any) running `background` ([`measure`]).
    pub fn bench_loop(
        &mut self,
        threads: Threads,
        name: &str,
        mut measured: impl FnMut(u64),
        background: impl FnMut() + Send,
    ) {
        let tally = Tally::new();
        let id = threads.id(name);
        // As in `bench`.
        let mut background = Padded(background);
        self.inner.bench_function(&id, |b| {
            b.iter_custom(|iters| {
                measure(threads, iters, &mut measured, &mut background.0, &tally)
            });
        });
        self.report(threads, &id, &tally);
    }

    /// Prints, for a `2t` benchmark, how much the second thread did.
    fn report(&self, threads: Threads, id: &str, tally: &Tally) {
        if threads.has_background() {
            tally.print(&format!("{}/{id}", self.name));
        }
    }

    /// Ends the group (criterion's `finish`).
    pub fn finish(self) {
        self.inner.finish();
    }
}

impl core::fmt::Debug for Group<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Group").field("name", &self.name).finish_non_exhaustive()
    }
}

impl<'a> core::ops::Deref for Group<'a> {
    type Target = BenchmarkGroup<'a, WallTime>;
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl core::ops::DerefMut for Group<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}
