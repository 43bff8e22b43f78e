//! The discrete-event engine: clients calling a [`Dependency`] through policies composed from the
//! real core primitives, on a virtual clock.
//!
//! Every decision (admit, trip, retry, back off, hedge, shed) is made by the `portcullis` crate
//! itself; the engine only moves time forward from one event to the next and keeps the books.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use portcullis::breaker::{self, BreakerConfig, CountBreaker, TimeBreaker, Transition};
use portcullis::bulkhead::Bulkhead;
use portcullis::deadline::Deadline;
use portcullis::hedge::{HedgeConfig, HedgeDecision, HedgePolicy};
use portcullis::limiter::{Quota, RateLimiter, RateLimiterConfig};
use portcullis::ramp::{RampConfig, RampedBreaker, RampedRejection};
use portcullis::retry::{ErrorClass, RetryConfig, RetryDecision, RetryPolicy, RetryState};
use portcullis::retry::{
    RatioBudget, RatioBudgetConfig, RetryBudget, RetryThrottle, ThrottleConfig,
};
use portcullis::rng::SplitMix64;
use portcullis::throttle::{Throttle, ThrottleConfig as ClientThrottleConfig};
use portcullis::window::{CountWindow, Outcome, TimeWindow};
use portcullis::{ConfigError, Nanos};

use crate::model::{Dependency, exponential, secs, to_secs};

/// The largest breaker window a scenario may ask for.
pub const MAX_WINDOW: usize = 1_000;
/// The most buckets of a time-based breaker window.
pub const MAX_BUCKETS: usize = 60;
/// The buckets of an adaptive client-side throttle's window.
pub const THROTTLE_BUCKETS: usize = 20;

/// The window a breaker decides on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowSpec {
    /// The last `n` calls (at most [`MAX_WINDOW`]).
    Count(usize),
    /// The calls of the last `window` of time, in `buckets` buckets (at most [`MAX_BUCKETS`]).
    Time {
        /// The span of the window.
        window: Nanos,
        /// Its buckets.
        buckets: usize,
    },
}

/// The breakers the simulator builds: a count window or a time window, each plain or behind a
/// recovery ramp.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "one breaker per run, built once and borrowed by every permit: its size does not matter"
)]
enum SimBreaker {
    Count(CountBreaker<MAX_WINDOW>),
    Time(TimeBreaker<MAX_BUCKETS>),
    RampedCount(RampedBreaker<CountWindow<MAX_WINDOW>>),
    RampedTime(RampedBreaker<TimeWindow<MAX_BUCKETS>>),
}

/// A permit of either breaker.
#[derive(Debug)]
enum SimPermit<'b> {
    Count(breaker::Permit<'b, CountWindow<MAX_WINDOW>>),
    Time(breaker::Permit<'b, TimeWindow<MAX_BUCKETS>>),
}

impl SimBreaker {
    fn new(
        config: BreakerConfig,
        window: WindowSpec,
        ramp: Option<RampConfig>,
    ) -> Result<SimBreaker, ConfigError> {
        Ok(match (window, ramp) {
            (WindowSpec::Count(n), None) => {
                SimBreaker::Count(CountBreaker::with_window_size(config, n)?)
            }
            (WindowSpec::Time { window, buckets }, None) => {
                SimBreaker::Time(TimeBreaker::with_buckets(config, window, buckets)?)
            }
            (WindowSpec::Count(n), Some(r)) => SimBreaker::RampedCount(RampedBreaker::new(
                CountBreaker::with_window_size(config, n)?,
                r,
            )?),
            (WindowSpec::Time { window, buckets }, Some(r)) => SimBreaker::RampedTime(
                RampedBreaker::new(TimeBreaker::with_buckets(config, window, buckets)?, r)?,
            ),
        })
    }

    /// Admits an attempt, or refuses it with the state change the refusal made.
    fn try_acquire(&self, now: Nanos) -> Result<SimPermit<'_>, Transition> {
        let ramped = |r: RampedRejection| match r {
            RampedRejection::Breaker(r) => r.transition(),
            RampedRejection::Probe { transition, .. } => transition,
            RampedRejection::Ramp(_) => Transition::None,
        };
        match self {
            SimBreaker::Count(b) => {
                b.try_acquire(now).map(SimPermit::Count).map_err(|r| r.transition())
            }
            SimBreaker::Time(b) => {
                b.try_acquire(now).map(SimPermit::Time).map_err(|r| r.transition())
            }
            SimBreaker::RampedCount(b) => b.try_acquire(now).map(SimPermit::Count).map_err(ramped),
            SimBreaker::RampedTime(b) => b.try_acquire(now).map(SimPermit::Time).map_err(ramped),
        }
    }

    fn classify(&self, failed: bool, elapsed: Nanos) -> Outcome {
        match self {
            SimBreaker::Count(b) => b.classify(failed, elapsed),
            SimBreaker::Time(b) => b.classify(failed, elapsed),
            SimBreaker::RampedCount(b) => b.breaker().classify(failed, elapsed),
            SimBreaker::RampedTime(b) => b.breaker().classify(failed, elapsed),
        }
    }

    /// Records an attempt's outcome (through the ramp, which starts on a close).
    fn record(&self, permit: SimPermit<'_>, outcome: Outcome, now: Nanos) -> breaker::Recorded {
        match (self, permit) {
            (SimBreaker::RampedCount(b), SimPermit::Count(p)) => b.record(p, outcome, now),
            (SimBreaker::RampedTime(b), SimPermit::Time(p)) => b.record(p, outcome, now),
            (_, p) => p.record(outcome, now),
        }
    }
}

impl SimPermit<'_> {
    fn transition(&self) -> Transition {
        match self {
            SimPermit::Count(p) => p.transition(),
            SimPermit::Time(p) => p.transition(),
        }
    }

    fn record(self, outcome: Outcome, now: Nanos) -> breaker::Recorded {
        match self {
            SimPermit::Count(p) => p.record(outcome, now),
            SimPermit::Time(p) => p.record(outcome, now),
        }
    }

    fn ignore(self) {
        match self {
            SimPermit::Count(p) => p.ignore(),
            SimPermit::Time(p) => p.ignore(),
        }
    }
}
/// Buckets of the ratio retry budget's window.
const BUDGET_BUCKETS: usize = 10;

/// A shared retry budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BudgetConfig {
    /// gRPC retry throttling.
    Throttle(ThrottleConfig),
    /// Finagle's ratio budget.
    Ratio(RatioBudgetConfig),
}

/// One client strategy: the policies wrapped around every call, each optional.
#[derive(Clone, Debug, PartialEq)]
pub struct Strategy {
    /// The name in reports.
    pub name: String,
    /// A circuit breaker and its window.
    pub breaker: Option<(BreakerConfig, WindowSpec)>,
    /// A retry policy.
    pub retry: Option<RetryConfig>,
    /// A retry budget shared by all calls (needs `retry`).
    pub budget: Option<BudgetConfig>,
    /// Hedged requests.
    pub hedge: Option<HedgeConfig>,
    /// A bulkhead: the most attempts in flight.
    pub bulkhead: Option<u32>,
    /// A client-side rate limiter on attempts.
    pub limiter: Option<Quota>,
    /// A recovery ramp (and probe gate) behind the breaker (needs `breaker`).
    pub ramp: Option<RampConfig>,
    /// Adaptive client-side throttling of attempts, over a window of this duration.
    pub client_throttle: Option<(ClientThrottleConfig, Nanos)>,
    /// How long the client waits for one attempt before counting it failed.
    pub attempt_timeout: Option<Nanos>,
}

impl Strategy {
    /// A strategy with no policy at all: one attempt per call.
    #[must_use]
    pub fn bare(name: &str) -> Strategy {
        Strategy {
            name: name.to_owned(),
            breaker: None,
            retry: None,
            budget: None,
            hedge: None,
            bulkhead: None,
            limiter: None,
            ramp: None,
            client_throttle: None,
            attempt_timeout: None,
        }
    }
}

/// The callers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Workload {
    /// New calls per second (Poisson arrivals).
    pub rate: f64,
    /// Arrivals stop after this; calls under way finish.
    pub duration: Nanos,
    /// Each call's deadline, from its arrival.
    pub deadline: Option<Nanos>,
}

/// A scenario: callers, a dependency, and the strategies compared on it.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// Short name (file and directory names).
    pub name: String,
    /// One line for the report.
    pub description: String,
    /// The seed; `--seed` overrides it.
    pub seed: u64,
    /// The width of the time series buckets.
    pub bucket: Nanos,
    /// The callers.
    pub workload: Workload,
    /// The dependency.
    pub dependency: Dependency,
    /// The strategies, each run on its own copy of the scenario with the same seed.
    pub strategies: Vec<Strategy>,
}

/// What happened in one bucket of time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bucket {
    /// First attempts sent to the dependency.
    pub first: u64,
    /// Retries sent.
    pub retries: u64,
    /// Hedges sent.
    pub hedges: u64,
    /// Calls that ended successfully.
    pub succeeded: u64,
    /// Calls that ended in failure (including rejections and deadlines).
    pub failed: u64,
    /// The breaker's state at the end of the bucket (0 closed, 1 open, 2 half-open).
    pub breaker: u8,
}

impl Bucket {
    /// Attempts the dependency received in the bucket.
    #[must_use]
    pub const fn load(&self) -> u64 {
        self.first + self.retries + self.hedges
    }
}

/// The figures of one strategy's run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// Calls made by the callers.
    pub calls: u64,
    /// Calls that succeeded.
    pub succeeded: u64,
    /// Calls refused by a policy before reaching the dependency.
    pub rejected: u64,
    /// Calls that ended at their deadline.
    pub timed_out: u64,
    /// Attempts the dependency received (first attempts, retries and hedges).
    pub attempts: u64,
    /// Retries among them.
    pub retries: u64,
    /// Hedges among them.
    pub hedges: u64,
    /// The most attempts received in one second (per bucket, scaled to a second).
    pub peak_load: f64,
    /// `peak_load` divided by the callers' rate: the peak amplification of the offered load.
    pub peak_factor: f64,
    /// Caller latency of successful calls, in seconds: p50, p90, p99, p99.9.
    pub latency: [f64; 4],
    /// Times the breaker opened.
    pub trips: u64,
    /// Trips while the dependency's intended error rate had stayed below the threshold for the
    /// last second.
    pub false_trips: u64,
    /// From the failure's onset to the first trip, in seconds.
    pub detect: Option<f64>,
    /// From the dependency's healing to the breaker's closing, in seconds.
    pub recover: Option<f64>,
    /// When the last call ended, in seconds.
    pub completion: f64,
}

impl Summary {
    /// Succeeded calls per call.
    #[must_use]
    pub fn success_rate(&self) -> f64 {
        if self.calls == 0 { 0.0 } else { ratio(self.succeeded, self.calls) }
    }

    /// Attempts per call: the load the callers put on the dependency per unit of demand.
    #[must_use]
    pub fn amplification(&self) -> f64 {
        if self.calls == 0 { 0.0 } else { ratio(self.attempts, self.calls) }
    }
}

/// `a / b` as a float.
#[must_use]
pub fn ratio(a: u64, b: u64) -> f64 {
    #[allow(clippy::cast_precision_loss, reason = "counts far below 2^53")]
    let r = a as f64 / b as f64;
    r
}

/// One strategy's run.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// The strategy's name.
    pub strategy: String,
    /// The figures.
    pub summary: Summary,
    /// The time series.
    pub buckets: Vec<Bucket>,
    /// Breaker state changes: time and new state (0 closed, 1 open, 2 half-open).
    pub transitions: Vec<(Nanos, u8)>,
    /// Caller latencies of the successful calls, sorted, in nanoseconds.
    pub latencies: Vec<u64>,
}

#[derive(Clone, Copy, Debug)]
enum Ev {
    Arrive,
    Done { attempt: usize },
    Retry { call: usize },
    Hedge { call: usize, sent: u32, epoch: u32 },
    Expire { call: usize },
    Tick,
}

#[derive(Debug)]
struct Item {
    at: u64,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Item {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Item {
    // Reversed: the heap pops the earliest event; ties in insertion order, so runs replay.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

#[derive(Debug)]
struct Call {
    start: Nanos,
    deadline: Nanos,
    retry: Option<RetryState>,
    in_flight: u32,
    hedges: u32,
    /// Bumped when a retry is scheduled, so hedge timers of the previous attempt lapse.
    epoch: u32,
    done: bool,
}

#[derive(Debug)]
struct Attempt<'b> {
    call: usize,
    sent: Nanos,
    failed: bool,
    permit: Option<SimPermit<'b>>,
    bulkhead: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    First,
    Retry,
    Hedge,
}

/// The primitives of one strategy, built and validated.
struct Policies {
    breaker: Option<SimBreaker>,
    retry: Option<RetryPolicy>,
    throttle: Option<RetryThrottle>,
    ratio: Option<RatioBudget<BUDGET_BUCKETS>>,
    hedge: Option<HedgePolicy>,
    bulkhead: Option<Bulkhead>,
    limiter: Option<RateLimiter>,
    client_throttle: Option<Throttle<THROTTLE_BUCKETS>>,
}

impl Policies {
    fn build(s: &Strategy) -> Result<Policies, ConfigError> {
        if s.ramp.is_some() && s.breaker.is_none() {
            return Err(ConfigError::MissingRule { field: "ramp", needs: "a circuit breaker" });
        }
        Ok(Policies {
            breaker: s.breaker.map(|(c, w)| SimBreaker::new(c, w, s.ramp)).transpose()?,
            retry: s.retry.map(RetryPolicy::new).transpose()?,
            throttle: match s.budget {
                Some(BudgetConfig::Throttle(c)) => Some(RetryThrottle::new(c)?),
                _ => None,
            },
            ratio: match s.budget {
                Some(BudgetConfig::Ratio(c)) => Some(RatioBudget::new(c)?),
                _ => None,
            },
            hedge: s.hedge.map(HedgePolicy::new).transpose()?,
            bulkhead: s.bulkhead.map(Bulkhead::new).transpose()?,
            limiter: s.limiter.map(|q| RateLimiter::new(RateLimiterConfig::new(q), Nanos::ZERO)),
            client_throttle: s
                .client_throttle
                .map(|(c, window)| Throttle::new(c, window))
                .transpose()?,
        })
    }

    fn budget(&self) -> Option<&dyn RetryBudget> {
        if let Some(t) = &self.throttle {
            return Some(t);
        }
        self.ratio.as_ref().map(|r| r as &dyn RetryBudget)
    }
}

/// Checks that every primitive of `strategy` accepts its configuration.
///
/// # Errors
///
/// The first [`ConfigError`] of the core.
pub fn validate(strategy: &Strategy) -> Result<(), ConfigError> {
    Policies::build(strategy).map(|_| ())
}

/// The time the dependency's intended error rate first reaches `threshold`, and the time it
/// last falls back below it, scanned every 10 ms.
#[must_use]
pub fn onset_and_heal(dep: &Dependency, threshold: f64, until: f64) -> (Option<f64>, Option<f64>) {
    let (mut onset, mut heal, mut above) = (None, None, false);
    let mut i = 0u32;
    loop {
        let t = f64::from(i) * 0.01;
        if t > until {
            break;
        }
        let now_above = dep.error_rate_at(t) >= threshold;
        if now_above && onset.is_none() {
            onset = Some(t);
        }
        if above && !now_above {
            heal = Some(t);
        }
        above = now_above;
        i += 1;
    }
    (onset, heal)
}

fn state_code(t: Transition) -> Option<u8> {
    match t {
        Transition::None => None,
        Transition::Opened => Some(1),
        Transition::HalfOpened => Some(2),
        Transition::Closed => Some(0),
    }
}

struct Engine<'b> {
    scenario: &'b Scenario,
    p: &'b Policies,
    /// Arrivals draw from their own stream, so every strategy of a scenario sees the same calls
    /// at the same instants (common random numbers: differences come from the policies).
    arrivals: SplitMix64,
    /// The dependency's draws and the retry seeds.
    rng: SplitMix64,
    now: Nanos,
    seq: u64,
    heap: BinaryHeap<Item>,
    calls: Vec<Call>,
    attempts: Vec<Attempt<'b>>,
    recent: VecDeque<Nanos>,
    buckets: Vec<Bucket>,
    transitions: Vec<(Nanos, u8)>,
    latencies: Vec<u64>,
    summary: Summary,
    timeout: Option<Nanos>,
}

impl Engine<'_> {
    fn at(&mut self, at: Nanos, ev: Ev) {
        self.seq += 1;
        self.heap.push(Item { at: at.as_u64(), seq: self.seq, ev });
    }

    fn bucket(&mut self) -> &mut Bucket {
        let i = usize::try_from(self.now.as_u64() / self.scenario.bucket.as_u64()).unwrap_or(0);
        if self.buckets.len() <= i {
            self.buckets.resize(i + 1, Bucket::default());
        }
        &mut self.buckets[i]
    }

    fn transition(&mut self, t: Transition) {
        if let Some(code) = state_code(t) {
            self.transitions.push((self.now, code));
            if code == 1 {
                self.summary.trips += 1;
            }
        }
    }

    fn finish(&mut self, call: usize, ok: bool) {
        let c = &mut self.calls[call];
        if c.done {
            return;
        }
        c.done = true;
        let latency = self.now.saturating_sub(c.start);
        self.summary.completion = to_secs(self.now);
        if ok {
            self.summary.succeeded += 1;
            self.latencies.push(latency.as_u64());
            self.bucket().succeeded += 1;
        } else {
            self.bucket().failed += 1;
        }
    }

    /// Sends one attempt of `call`; `false` if a policy refused it.
    fn send(&mut self, call: usize, kind: Kind) -> bool {
        let now = self.now;
        let p = self.p;
        if let Some(l) = &p.limiter
            && !l.try_acquire(now).is_admitted()
        {
            return false;
        }
        if let Some(t) = &p.client_throttle
            && t.try_acquire(now).is_err()
        {
            return false;
        }
        let permit = match &p.breaker {
            Some(b) => match b.try_acquire(now) {
                Ok(permit) => {
                    self.transition(permit.transition());
                    Some(permit)
                }
                Err(t) => {
                    self.transition(t);
                    return false;
                }
            },
            None => None,
        };
        let bulkhead = match &p.bulkhead {
            Some(b) => {
                if b.try_acquire_raw(1).is_err() {
                    if let Some(permit) = permit {
                        permit.ignore();
                    }
                    return false;
                }
                true
            }
            None => false,
        };
        let b = self.bucket();
        match kind {
            Kind::First => b.first += 1,
            Kind::Retry => b.retries += 1,
            Kind::Hedge => b.hedges += 1,
        }
        self.summary.attempts += 1;
        match kind {
            Kind::Retry => self.summary.retries += 1,
            Kind::Hedge => self.summary.hedges += 1,
            Kind::First => {}
        }
        let second_ago = now.saturating_sub(Nanos::from_secs(1));
        while self.recent.front().is_some_and(|&t| t < second_ago) {
            self.recent.pop_front();
        }
        self.recent.push_back(now);
        #[allow(clippy::cast_precision_loss, reason = "small counts")]
        let load = self.recent.len() as f64;
        let (mut failed, latency) =
            self.scenario.dependency.serve(to_secs(now), load, &mut self.rng);
        let mut latency = secs(latency).max(Nanos::new(1));
        if let Some(t) = self.timeout
            && latency > t
        {
            failed = true;
            latency = t;
        }
        let id = self.attempts.len();
        self.attempts.push(Attempt { call, sent: now, failed, permit, bulkhead });
        self.at(now.saturating_add(latency), Ev::Done { attempt: id });
        let c = &mut self.calls[call];
        c.in_flight += 1;
        let (hedges, epoch, deadline) = (c.hedges, c.epoch, c.deadline);
        if let Some(h) = &p.hedge
            && let HedgeDecision::HedgeAfter(d) =
                h.decide_before(hedges, now, Deadline::at(deadline))
        {
            self.at(now.saturating_add(d), Ev::Hedge { call, sent: hedges, epoch });
        }
        true
    }

    fn done(&mut self, id: usize) {
        let now = self.now;
        let p = self.p;
        let a = &mut self.attempts[id];
        let (call, failed, elapsed) = (a.call, a.failed, now.saturating_sub(a.sent));
        let permit = a.permit.take();
        if a.bulkhead
            && let Some(b) = &p.bulkhead
        {
            let _ = b.release(1);
        }
        if let (Some(b), Some(permit)) = (&p.breaker, permit) {
            let r = b.record(permit, b.classify(failed, elapsed), now);
            self.transition(r.transition);
        }
        if let Some(t) = &p.client_throttle {
            // Accepted: the backend served it (neither refused nor failed).
            let _ = t.record(!failed, now);
        }
        if !failed {
            if let Some(h) = &p.hedge {
                h.record_latency(elapsed, now);
            }
            if let Some(b) = p.budget() {
                b.record_success(now);
            }
        }
        let c = &mut self.calls[call];
        c.in_flight -= 1;
        if c.done {
            return;
        }
        if !failed {
            self.finish(call, true);
            return;
        }
        if c.in_flight > 0 {
            return; // a hedge of this call is still under way
        }
        let decision = if let (Some(policy), Some(state)) = (&p.retry, c.retry.as_mut()) {
            match p.budget() {
                Some(b) => state.decide_with_budget(policy, ErrorClass::Retryable, now, b),
                None => state.decide(policy, ErrorClass::Retryable, now),
            }
        } else {
            self.finish(call, false);
            return;
        };
        match decision {
            RetryDecision::Retry { delay, .. } => {
                c.epoch += 1;
                self.at(now.saturating_add(delay), Ev::Retry { call });
            }
            RetryDecision::Stop(_) => self.finish(call, false),
        }
    }

    fn arrive(&mut self) {
        let now = self.now;
        let w = self.scenario.workload;
        let deadline = w.deadline.map_or(Nanos::MAX, |d| now.saturating_add(d));
        let retry =
            self.p.retry.as_ref().map(|policy| {
                RetryState::with_deadline(policy, now, deadline, self.rng.next_u64())
            });
        let call = self.calls.len();
        self.calls.push(Call {
            start: now,
            deadline,
            retry,
            in_flight: 0,
            hedges: 0,
            epoch: 0,
            done: false,
        });
        self.summary.calls += 1;
        if let Some(b) = self.p.budget() {
            b.record_request(now);
        }
        if let Some(h) = &self.p.hedge {
            h.on_call();
        }
        if deadline != Nanos::MAX {
            self.at(deadline, Ev::Expire { call });
        }
        if !self.send(call, Kind::First) {
            self.summary.rejected += 1;
            self.finish(call, false);
        }
        let next = now.saturating_add(secs(exponential(&mut self.arrivals, 1.0 / w.rate)));
        if next < w.duration {
            self.at(next, Ev::Arrive);
        }
    }

    fn step(&mut self, ev: Ev) {
        match ev {
            Ev::Arrive => self.arrive(),
            Ev::Done { attempt } => self.done(attempt),
            Ev::Retry { call } => {
                if !self.calls[call].done && !self.send(call, Kind::Retry) {
                    self.summary.rejected += 1;
                    self.finish(call, false);
                }
            }
            Ev::Hedge { call, sent, epoch } => {
                let c = &self.calls[call];
                if c.done || c.epoch != epoch || c.in_flight == 0 || c.hedges != sent {
                    return;
                }
                if let Some(h) = &self.p.hedge
                    && h.try_launch(sent).is_ok()
                {
                    self.calls[call].hedges += 1;
                    let _ = self.send(call, Kind::Hedge);
                }
            }
            Ev::Expire { call } => {
                if !self.calls[call].done {
                    self.summary.timed_out += 1;
                    self.finish(call, false);
                }
            }
            Ev::Tick => {
                let state = self.transitions.last().map_or(0, |&(_, s)| s);
                self.bucket().breaker = state;
                let next = self.now.saturating_add(self.scenario.bucket);
                if next < self.scenario.workload.duration {
                    self.at(next, Ev::Tick);
                }
            }
        }
    }
}

/// The nearest-rank percentile `q` (in `0..=1`) of sorted `v`, in seconds.
#[must_use]
pub fn percentile(v: &[u64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "q in 0..=1 times a small length"
    )]
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    to_secs(Nanos::new(v[rank - 1]))
}

/// The breaker's failure-rate threshold of `strategy` as a fraction (0.5 without a rate rule),
/// the line between "failing" and "healthy" for detection and false trips.
#[must_use]
pub fn threshold(strategy: &Strategy) -> f64 {
    strategy.breaker.and_then(|(c, _)| c.failure_rate_ppm).map_or(0.5, |ppm| f64::from(ppm) / 1e6)
}

/// Runs one strategy of `scenario` with `seed`.
///
/// # Errors
///
/// The [`ConfigError`] of the first primitive that rejects its configuration.
pub fn run(scenario: &Scenario, strategy: &Strategy, seed: u64) -> Result<Run, ConfigError> {
    let policies = Policies::build(strategy)?;
    if scenario.bucket == Nanos::ZERO {
        return Err(ConfigError::ZeroDuration { field: "bucket" });
    }
    if scenario.workload.rate.is_nan() || scenario.workload.rate <= 0.0 {
        return Err(ConfigError::ZeroCount { field: "rate" });
    }
    let mut e = Engine {
        scenario,
        p: &policies,
        arrivals: SplitMix64::new(seed),
        rng: SplitMix64::new(seed ^ 0x5DEE_CE66_D1CE_4E5B),
        now: Nanos::ZERO,
        seq: 0,
        heap: BinaryHeap::new(),
        calls: Vec::new(),
        attempts: Vec::new(),
        recent: VecDeque::new(),
        buckets: Vec::new(),
        transitions: Vec::new(),
        latencies: Vec::new(),
        summary: Summary::default(),
        timeout: strategy.attempt_timeout,
    };
    e.at(Nanos::ZERO, Ev::Arrive);
    if policies.breaker.is_some() {
        e.at(scenario.bucket.saturating_sub(Nanos::new(1)), Ev::Tick);
    }
    while let Some(item) = e.heap.pop() {
        e.now = Nanos::new(item.at);
        e.step(item.ev);
    }
    let Engine { mut summary, buckets, transitions, mut latencies, .. } = e;
    latencies.sort_unstable();
    for (i, q) in [0.5, 0.9, 0.99, 0.999].into_iter().enumerate() {
        summary.latency[i] = percentile(&latencies, q);
    }
    let per_second = 1.0 / to_secs(scenario.bucket);
    summary.peak_load = buckets.iter().map(|b| ratio(b.load(), 1) * per_second).fold(0.0, f64::max);
    summary.peak_factor = summary.peak_load / scenario.workload.rate;
    if policies.breaker.is_some() {
        let th = threshold(strategy);
        let dep = &scenario.dependency;
        let (onset, heal) = onset_and_heal(dep, th, to_secs(scenario.workload.duration));
        let opened = |after: f64| {
            transitions
                .iter()
                .find(|&&(t, s)| s == 1 && to_secs(t) >= after)
                .map(|&(t, _)| to_secs(t))
        };
        summary.detect = onset.and_then(|o| opened(o).map(|t| t - o));
        summary.recover = heal.and_then(|h| {
            let closed = transitions.iter().find(|&&(t, s)| s == 0 && to_secs(t) >= h);
            closed.map(|&(t, _)| to_secs(t) - h)
        });
        summary.false_trips = transitions
            .iter()
            .filter(|&&(t, s)| {
                let t = to_secs(t);
                // False: the intended rate stayed below the threshold for the whole last second.
                s == 1 && (0..=100).all(|i| dep.error_rate_at(t - f64::from(i) * 0.01) < th)
            })
            .count() as u64;
    }
    Ok(Run { strategy: strategy.name.clone(), summary, buckets, transitions, latencies })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Latency, Phase};

    fn scenario(strategies: Vec<Strategy>) -> Scenario {
        Scenario {
            name: "t".into(),
            description: String::new(),
            seed: 1,
            bucket: Nanos::from_secs(1),
            workload: Workload { rate: 100.0, duration: Nanos::from_secs(30), deadline: None },
            dependency: Dependency {
                error_rate: 0.0,
                latency: Latency::Fixed { value: 0.01 },
                phases: vec![Phase {
                    from: 10.0,
                    to: 20.0,
                    error_rate: 1.0,
                    error_rate_end: 1.0,
                    latency_factor: 1.0,
                    capacity: None,
                    capacity_end: None,
                }],
                sine: None,
                capacity: None,
                error_latency_factor: 1.0,
                refusal_cost: 0.0,
            },
            strategies,
        }
    }

    fn breaker() -> Strategy {
        Strategy {
            breaker: Some((
                BreakerConfig {
                    consecutive_failures: None,
                    failure_rate_ppm: Some(500_000),
                    min_calls: 20,
                    open_duration: Nanos::from_secs(1),
                    max_open_duration: Nanos::from_secs(1),
                    jitter_ppm: 0,
                    ..BreakerConfig::DEFAULT
                },
                WindowSpec::Count(50),
            )),
            ..Strategy::bare("breaker")
        }
    }

    #[test]
    fn bare_calls_fail_exactly_in_the_outage() {
        let s = scenario(vec![]);
        let r = run(&s, &Strategy::bare("bare"), 7).unwrap();
        assert_eq!(r.summary.attempts, r.summary.calls);
        // A third of the time is a total outage: about a third of the calls fail.
        let failed = r.summary.calls - r.summary.succeeded;
        let third = r.summary.calls / 3;
        assert!(failed.abs_diff(third) < third / 10, "{failed} vs {third}");
        assert!(r.buckets[15].succeeded == 0 && r.buckets[5].failed == 0);
    }

    #[test]
    fn breaker_trips_fast_and_recovers() {
        let s = scenario(vec![]);
        let r = run(&s, &breaker(), 7).unwrap();
        let d = r.summary.detect.unwrap();
        // 20 calls at 100/s fill min_calls in about 0.2 s.
        assert!(d < 0.5, "{d}");
        let rec = r.summary.recover.unwrap();
        // Open 1 s, then one probe closes it.
        assert!(rec <= 1.1, "{rec}");
        assert_eq!(r.summary.false_trips, 0);
        // Open during the outage: most calls are rejected, not sent.
        assert!(r.summary.rejected > 600, "{}", r.summary.rejected);
        assert!(r.buckets[15].breaker != 0);
    }

    #[test]
    fn retries_multiply_the_load_in_an_outage() {
        let s = scenario(vec![]);
        let retry = RetryConfig {
            max_attempts: 4,
            jitter: portcullis::retry::Jitter::None,
            ..RetryConfig::DEFAULT
        };
        let r = run(&s, &Strategy { retry: Some(retry), ..Strategy::bare("retry") }, 7).unwrap();
        let outage = r.buckets[12].load();
        let healthy = r.buckets[5].load();
        assert!(outage > 3 * healthy, "{outage} vs {healthy}");
    }

    #[test]
    fn time_window_breaker_trips_and_recovers_too() {
        let s = scenario(vec![]);
        let mut b = breaker();
        if let Some((_, w)) = b.breaker.as_mut() {
            *w = WindowSpec::Time { window: Nanos::from_secs(2), buckets: 10 };
        }
        let r = run(&s, &b, 7).unwrap();
        // A 2 s window reaches a 50 % failure rate once the outage fills half of it: about 1 s
        // (one bucket, 0.2 s, of tolerance either way), later than the 50-call window.
        let d = r.summary.detect.unwrap();
        assert!((0.8..=1.2).contains(&d), "{d}");
        assert!(d > run(&s, &breaker(), 7).unwrap().summary.detect.unwrap());
        assert!(r.summary.recover.unwrap() <= 1.1, "{:?}", r.summary.recover);
        assert!(r.summary.rejected > 600, "{}", r.summary.rejected);
    }

    #[test]
    fn same_seed_same_run_other_seed_other_run() {
        let s = scenario(vec![]);
        let a = run(&s, &breaker(), 3).unwrap();
        let b = run(&s, &breaker(), 3).unwrap();
        let c = run(&s, &breaker(), 4).unwrap();
        assert_eq!(a, b);
        assert_ne!(a.summary.calls, c.summary.calls);
    }
}
