//! The breaker against a sequential reference model of its whole state machine.
//!
//! The model below is written from `docs/semantics/breaker.md`, not from the implementation: a
//! plain struct with a `VecDeque` for the window and exact nanosecond deadlines rounded up to the
//! documented tick. Random configurations and random operations (admissions, outcomes recorded
//! now or late from old generations, released permits, time moving forward and backward,
//! operator transitions) drive the real breaker and the model on one manual clock; every
//! decision and every snapshot must agree.
//!
//! A second property drives a breaker with maintenance profiles (`ProfiledBreaker`) the same way,
//! with profile switches among the operations: the model switches by replacing its configuration
//! and keeping everything else, as `docs/semantics/profiles.md` says a switch does.
//!
//! `PROPTEST_CASES` sets the number of cases (default 256).
#![cfg(not(loom))]

use std::collections::VecDeque;

use portcullis::breaker::{
    Breaker, BreakerConfig, ConfigSet, CountBreaker, GENERATIONS, Permit, Recorded, RejectReason,
    Rejected, State, TIME_RESOLUTION, Transition, Weight,
};
use portcullis::profile::ProfiledBreaker;
use portcullis::rng::SplitMix64;
use portcullis::window::{CountWindow, Outcome, WindowCounts};
use portcullis::{ConfigError, Nanos};
use proptest::prelude::*;

const N: usize = 4;
/// `N` as a count of calls.
const N_CALLS: u32 = 4;
const _: () = assert!(N_CALLS as usize == N);
const TICK: u64 = TIME_RESOLUTION.as_u64();
const LAST_TICK_TIME: u64 = u64::MAX - (TICK - 1);

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(256)
}

/// The first multiple of the tick at or after `t`, saturating at the last one.
fn round_up(t: u64) -> u64 {
    if t > LAST_TICK_TIME { LAST_TICK_TIME } else { t.div_ceil(TICK) * TICK }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Tracked,
    Probe,
    Untracked,
    Shadow(RejectReason, Option<u64>),
}

#[derive(Clone, Copy, Debug)]
struct ModelPermit {
    generation: u32,
    kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Decision {
    Admit { generation: u32, kind: Kind, transition: Transition },
    Reject { reason: RejectReason, retry_after: Option<u64>, transition: Transition },
}

struct Model {
    cfg: BreakerConfig,
    state: State,
    generation: u32,
    trips: u32,
    /// End of the open period, or probe timeout of the half-open period, in ns.
    deadline: u64,
    admitted: u32,
    successes: u32,
    failures: u32,
    slow: u32,
    window: VecDeque<Outcome>,
    consecutive: u64,
    tripped: u64,
    rejected: u64,
    rng: SplitMix64,
    /// The profile in force (always 0 without profiles).
    profile: u32,
}

impl Model {
    fn new(cfg: BreakerConfig) -> Model {
        Model {
            cfg,
            state: State::Closed,
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
            rng: SplitMix64::new(cfg.seed),
            profile: 0,
        }
    }

    fn enter(&mut self, state: State) {
        self.state = state;
        self.generation = (self.generation + 1) % GENERATIONS;
    }

    fn open_period(&mut self) -> u64 {
        let base = self.cfg.open_duration.as_u64();
        let max = self.cfg.max_open_duration.as_u64();
        let mut d = base;
        for _ in 1..self.trips {
            d = d.saturating_mul(2).min(max);
        }
        let d = d.min(max);
        if self.cfg.jitter_ppm == 0 {
            return d;
        }
        let span =
            u64::try_from(u128::from(d) * u128::from(self.cfg.jitter_ppm) / 1_000_000).unwrap();
        d + self.rng.below(span + 1)
    }

    fn trip(&mut self, now: u64) {
        self.trips = (self.trips + 1).min(15);
        let d = self.open_period();
        self.deadline = round_up(now.saturating_add(d));
        self.enter(State::Open);
        self.tripped += 1;
    }

    fn reject(
        &mut self,
        reason: RejectReason,
        retry_after: Option<u64>,
        transition: Transition,
    ) -> Decision {
        if self.cfg.count_rejections {
            self.rejected += 1;
        }
        if self.cfg.shadow {
            Decision::Admit {
                generation: self.generation,
                kind: Kind::Shadow(reason, retry_after),
                transition,
            }
        } else {
            Decision::Reject { reason, retry_after, transition }
        }
    }

    fn acquire(&mut self, now: u64) -> Decision {
        let mut transition = Transition::None;
        loop {
            let generation = self.generation;
            return match self.state {
                State::Closed | State::MetricsOnly => {
                    Decision::Admit { generation, kind: Kind::Tracked, transition }
                }
                State::Disabled => {
                    Decision::Admit { generation, kind: Kind::Untracked, transition }
                }
                State::ForcedOpen => self.reject(RejectReason::ForcedOpen, None, transition),
                State::Open if now < self.deadline => {
                    self.reject(RejectReason::Open, Some(self.deadline - now), transition)
                }
                State::Open => {
                    self.enter(State::HalfOpen);
                    self.deadline = round_up(now.saturating_add(self.cfg.probe_timeout.as_u64()));
                    self.admitted = 0;
                    self.successes = 0;
                    self.failures = 0;
                    self.slow = 0;
                    transition = Transition::HalfOpened;
                    continue;
                }
                State::HalfOpen if now >= self.deadline => {
                    self.trip(now);
                    let after = Some(self.deadline.saturating_sub(now));
                    self.reject(RejectReason::Open, after, Transition::Opened)
                }
                State::HalfOpen if self.admitted < self.cfg.half_open_probes => {
                    self.admitted += 1;
                    Decision::Admit { generation, kind: Kind::Probe, transition }
                }
                State::HalfOpen => self.reject(RejectReason::HalfOpenFull, None, transition),
            };
        }
    }

    fn rule_reached(&self) -> bool {
        if self.cfg.consecutive_failures.is_some_and(|n| self.consecutive >= u64::from(n)) {
            return true;
        }
        let c = self.counts();
        if c.calls < u64::from(self.cfg.min_calls) {
            return false;
        }
        let reached = |part: u64, ppm: Option<u32>| {
            ppm.is_some_and(|p| u128::from(part) * 1_000_000 >= u128::from(p) * u128::from(c.calls))
        };
        reached(c.failures, self.cfg.failure_rate_ppm) || reached(c.slow, self.cfg.slow_rate_ppm)
    }

    fn clear(&mut self) {
        self.window.clear();
        self.consecutive = 0;
    }

    fn record(&mut self, p: ModelPermit, outcome: Outcome, weight: u32, now: u64) -> Recorded {
        let ignored = Recorded { transition: Transition::None, counted: false };
        let counted = Recorded { transition: Transition::None, counted: true };
        if p.generation != self.generation {
            return ignored;
        }
        match (p.kind, self.state) {
            (Kind::Tracked, State::Closed | State::MetricsOnly) => {
                for _ in 0..weight {
                    if self.window.len() == N {
                        self.window.pop_front();
                    }
                    self.window.push_back(outcome);
                }
                self.consecutive =
                    if outcome.is_failure() { self.consecutive + u64::from(weight) } else { 0 };
                if self.state == State::Closed && self.rule_reached() {
                    self.trip(now);
                    Recorded { transition: Transition::Opened, counted: true }
                } else {
                    counted
                }
            }
            (Kind::Probe, State::HalfOpen) if self.cfg.half_open_by_rate => {
                if outcome.is_failure() {
                    self.failures += 1;
                } else {
                    self.successes += 1;
                }
                if outcome.is_slow() {
                    self.slow += 1;
                }
                let probes = self.cfg.half_open_probes;
                if self.successes + self.failures < probes {
                    return counted;
                }
                let reached = |part: u32, ppm: Option<u32>| {
                    ppm.is_some_and(|r| {
                        u64::from(part) * 1_000_000 >= u64::from(r) * u64::from(probes)
                    })
                };
                if reached(self.failures, self.cfg.failure_rate_ppm)
                    || reached(self.slow, self.cfg.slow_rate_ppm)
                {
                    self.trip(now);
                    Recorded { transition: Transition::Opened, counted: true }
                } else {
                    self.close();
                    Recorded { transition: Transition::Closed, counted: true }
                }
            }
            (Kind::Probe, State::HalfOpen) => {
                let bad =
                    outcome.is_failure() || (outcome.is_slow() && self.cfg.slow_rate_ppm.is_some());
                if bad {
                    self.trip(now);
                    return Recorded { transition: Transition::Opened, counted: true };
                }
                self.successes += 1;
                if outcome.is_slow() {
                    self.slow += 1;
                }
                if self.successes >= self.cfg.successes_to_close {
                    self.close();
                    Recorded { transition: Transition::Closed, counted: true }
                } else {
                    counted
                }
            }
            _ => ignored,
        }
    }

    fn close(&mut self) {
        self.clear();
        self.trips = 0;
        self.enter(State::Closed);
    }

    fn release(&mut self, p: ModelPermit) {
        if p.kind == Kind::Probe
            && p.generation == self.generation
            && self.state == State::HalfOpen
            && self.admitted > 0
        {
            self.admitted -= 1;
        }
    }

    fn operate(&mut self, op: OperatorOp) -> State {
        let prev = self.state;
        match op {
            OperatorOp::ForceOpen => self.enter(State::ForcedOpen),
            OperatorOp::ForceClose => {
                self.clear();
                self.enter(State::Closed);
            }
            OperatorOp::Disable => self.enter(State::Disabled),
            OperatorOp::MetricsOnly => {
                self.clear();
                self.enter(State::MetricsOnly);
            }
            OperatorOp::Reset => {
                self.clear();
                self.tripped = 0;
                self.rejected = 0;
                self.enter(State::Closed);
            }
        }
        self.trips = 0;
        prev
    }

    fn counts(&self) -> WindowCounts {
        let calls = self.window.len() as u64;
        let failures = self.window.iter().filter(|o| o.is_failure()).count() as u64;
        let slow = self.window.iter().filter(|o| o.is_slow()).count() as u64;
        WindowCounts { calls, failures, slow }
    }
}

#[derive(Clone, Copy, Debug)]
enum OperatorOp {
    ForceOpen,
    ForceClose,
    Disable,
    MetricsOnly,
    Reset,
}

#[derive(Clone, Debug)]
enum Op {
    /// Ask for a permit and keep it.
    Acquire,
    /// Ask for a permit and record its outcome at once.
    Call(Outcome),
    /// Record the outcome of an outstanding permit (possibly of an old generation), with a weight.
    Record(usize, Outcome, u32),
    /// Release an outstanding permit without an outcome.
    Ignore(usize),
    /// Move the clock forward.
    Advance(u64),
    /// Move the clock backward.
    Rewind(u64),
    /// Jump to the nanosecond a deadline (end of the open period, probe timeout) falls, or the
    /// one before it.
    Boundary(bool),
    Operator(OperatorOp),
    /// Put profile `i % P` in force (profiled breakers only).
    Switch(usize),
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        Just(Outcome::Success),
        Just(Outcome::Failure),
        Just(Outcome::SlowSuccess),
        Just(Outcome::SlowFailure),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Acquire),
        6 => outcome().prop_map(Op::Call),
        4 => (any::<usize>(), outcome(), prop_oneof![3 => Just(1u32), 1 => 1..=4u32])
            .prop_map(|(i, o, w)| Op::Record(i, o, w)),
        1 => any::<usize>().prop_map(Op::Ignore),
        3 => prop_oneof![0..4u64, 0..(TICK * 8), Just(TICK)].prop_map(Op::Advance),
        4 => (0..(TICK * 40)).prop_map(Op::Advance),
        1 => (0..(TICK * 20)).prop_map(Op::Rewind),
        3 => any::<bool>().prop_map(Op::Boundary),
        1 => prop_oneof![
            Just(OperatorOp::ForceOpen),
            Just(OperatorOp::ForceClose),
            Just(OperatorOp::Disable),
            Just(OperatorOp::MetricsOnly),
            Just(OperatorOp::Reset),
        ]
        .prop_map(Op::Operator),
    ]
}

prop_compose! {
    fn config()(
        consecutive in prop::option::of(1..5u32),
        failure_rate in prop::option::of(prop_oneof![Just(1u32), Just(250_000), Just(500_000), Just(1_000_000)]),
        slow_rate in prop::option::of(prop_oneof![Just(500_000u32), Just(1_000_000)]),
        min_calls in 1..=N_CALLS,
        base_ticks in 1..6u64,
        base_extra in 0..TICK,
        growth in 0..4u32,
        jitter_ppm in prop_oneof![Just(0u32), Just(250_000), Just(1_000_000)],
        seed in any::<u64>(),
        probes in 1..4u32,
        successes_pick in 0..4u32,
        timeout_ticks in 1..20u64,
        by_rate in any::<bool>(),
        shadow in any::<bool>(),
        count_rejections in any::<bool>(),
    ) -> BreakerConfig {
        let base = base_ticks * TICK + base_extra;
        BreakerConfig {
            consecutive_failures: consecutive,
            failure_rate_ppm: failure_rate,
            slow_rate_ppm: slow_rate,
            min_calls,
            slow_call_duration: None,
            open_duration: Nanos::new(base),
            max_open_duration: Nanos::new(base << growth),
            jitter_ppm,
            seed,
            half_open_probes: probes,
            successes_to_close: 1 + successes_pick % probes,
            half_open_by_rate: by_rate && (failure_rate.is_some() || slow_rate.is_some()),
            probe_timeout: Nanos::new(timeout_ticks * TICK - base_extra / 2),
            shadow,
            count_rejections,
        }
    }
}

fn real_decision<C: ConfigSet>(r: &Result<Permit<'_, CountWindow<N>, C>, Rejected>) -> Decision {
    match r {
        Ok(p) => {
            let kind = match p.shadow_rejection() {
                Some(rej) => Kind::Shadow(rej.reason(), rej.retry_after().map(Nanos::as_u64)),
                None if p.is_probe() => Kind::Probe,
                // Tracked and untracked permits look alike from outside; the model's kind is
                // checked through what their outcomes do.
                None => Kind::Tracked,
            };
            Decision::Admit { generation: p.generation(), kind, transition: p.transition() }
        }
        Err(rej) => Decision::Reject {
            reason: rej.reason(),
            retry_after: rej.retry_after().map(Nanos::as_u64),
            transition: rej.transition(),
        },
    }
}

/// The model's decision as seen from outside (untracked looks like tracked).
fn visible(d: Decision) -> Decision {
    match d {
        Decision::Admit { generation, kind: Kind::Untracked, transition } => {
            Decision::Admit { generation, kind: Kind::Tracked, transition }
        }
        d => d,
    }
}

fn check_snapshot<C: ConfigSet>(
    b: &Breaker<CountWindow<N>, C>,
    m: &Model,
    now: u64,
) -> Result<(), TestCaseError> {
    let s = b.snapshot(Nanos::new(now));
    prop_assert_eq!(s.profile, m.profile);
    prop_assert_eq!(s.state, m.state);
    prop_assert_eq!(b.state(), m.state);
    prop_assert_eq!(s.generation, m.generation);
    let c = m.counts();
    prop_assert_eq!(s.counts, c);
    prop_assert_eq!(s.failure_rate_ppm, c.failure_rate_ppm());
    prop_assert_eq!(s.slow_rate_ppm, c.slow_rate_ppm());
    prop_assert_eq!(s.consecutive_failures, m.consecutive);
    prop_assert_eq!(s.consecutive_trips, m.trips);
    let half = m.state == State::HalfOpen;
    prop_assert_eq!(s.probes_admitted, if half { m.admitted } else { 0 });
    prop_assert_eq!(s.probe_successes, if half { m.successes } else { 0 });
    prop_assert_eq!(s.probe_failures, if half { m.failures } else { 0 });
    prop_assert_eq!(s.times_tripped, m.tripped);
    prop_assert_eq!(s.rejected, m.rejected);
    let remaining = (m.state == State::Open).then(|| Nanos::new(m.deadline.saturating_sub(now)));
    prop_assert_eq!(s.open_remaining, remaining);
    prop_assert_eq!(b.open_remaining(Nanos::new(now)), remaining);
    Ok(())
}

fn run(
    cfg: BreakerConfig,
    start: u64,
    ops: &[Op],
    trace: &mut Vec<Transition>,
) -> Result<(), TestCaseError> {
    let b = CountBreaker::<N>::new(cfg).map_err(|e| TestCaseError::fail(e.to_string()))?;
    drive(&b, Model::new(cfg), start, ops, trace, None)
}

/// Profile switches: the real switch (by index) and the profiles' configurations.
type Switch<'a> = (&'a dyn Fn(usize) -> usize, &'a [BreakerConfig]);

#[allow(clippy::many_single_char_names, reason = "b: breaker, m: model, r: result, i/o: op fields")]
fn drive<C: ConfigSet>(
    b: &Breaker<CountWindow<N>, C>,
    mut m: Model,
    start: u64,
    ops: &[Op],
    trace: &mut Vec<Transition>,
    switch: Option<Switch<'_>>,
) -> Result<(), TestCaseError> {
    let mut now = start;
    let mut outstanding: Vec<(Permit<'_, CountWindow<N>, C>, ModelPermit)> = Vec::new();
    for op in ops {
        match *op {
            Op::Acquire | Op::Call(_) => {
                let real = b.try_acquire(Nanos::new(now));
                let expected = m.acquire(now);
                prop_assert_eq!(real_decision(&real), visible(expected));
                trace.push(decision_transition(expected));
                if let (Ok(permit), Decision::Admit { generation, kind, .. }) = (real, expected) {
                    let mp = ModelPermit { generation, kind };
                    if let Op::Call(o) = *op {
                        let r = permit.record(o, Nanos::new(now));
                        prop_assert_eq!(r, m.record(mp, o, 1, now));
                        trace.push(r.transition);
                    } else if outstanding.len() < 8 {
                        outstanding.push((permit, mp));
                    } else {
                        permit.ignore();
                        m.release(mp);
                    }
                }
            }
            Op::Record(i, o, w) if !outstanding.is_empty() => {
                let (permit, mp) = outstanding.remove(i % outstanding.len());
                let weight = Weight::new(w).expect("1..=4");
                let r = if (i >> 8) % 2 == 0 {
                    permit.record_weighted(o, weight, Nanos::new(now))
                } else {
                    // The same record in its two halves, as the C ABI makes it: only a trip or
                    // a probe's outcome is left to `settle`, and settling anything else returns
                    // what `count_token` already reported.
                    let counted = b.count_token(permit.into_token(), o, weight, Nanos::new(now));
                    let r = b.settle(counted, Nanos::new(now));
                    match counted.recorded() {
                        Some(early) => prop_assert_eq!(early, r),
                        None if !matches!(mp.kind, Kind::Probe) => {
                            prop_assert_eq!(r.transition, Transition::Opened);
                        }
                        None => {}
                    }
                    r
                };
                prop_assert_eq!(r, m.record(mp, o, w, now));
                trace.push(r.transition);
            }
            Op::Ignore(i) if !outstanding.is_empty() => {
                let (permit, mp) = outstanding.remove(i % outstanding.len());
                permit.ignore();
                m.release(mp);
            }
            Op::Record(..) | Op::Ignore(_) => {}
            Op::Advance(d) => now = now.saturating_add(d),
            Op::Rewind(d) => now = now.saturating_sub(d),
            Op::Boundary(before) => {
                if matches!(m.state, State::Open | State::HalfOpen) {
                    now = m.deadline.saturating_sub(u64::from(before));
                }
            }
            Op::Operator(o) => {
                let prev = match o {
                    OperatorOp::ForceOpen => b.force_open(),
                    OperatorOp::ForceClose => b.force_close(),
                    OperatorOp::Disable => b.disable(),
                    OperatorOp::MetricsOnly => b.metrics_only(),
                    OperatorOp::Reset => b.reset(),
                };
                prop_assert_eq!(prev, m.operate(o));
            }
            Op::Switch(i) => {
                if let Some((real, cfgs)) = switch {
                    let i = i % cfgs.len();
                    let prev = real(i);
                    prop_assert_eq!(prev, m.profile as usize);
                    m.cfg = cfgs[i];
                    m.profile = u32::try_from(i).expect("i < 3");
                }
            }
        }
        check_snapshot(b, &m, now)?;
    }
    Ok(())
}

fn decision_transition(d: Decision) -> Transition {
    match d {
        Decision::Admit { transition, .. } | Decision::Reject { transition, .. } => transition,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn breaker_matches_model(
        cfg in config(),
        start in prop_oneof![Just(0u64), 0..(1u64 << 40), Just(u64::MAX - TICK * 64)],
        ops in prop::collection::vec(op(), 1..200),
    ) {
        let mut trace = Vec::new();
        run(cfg, start, &ops, &mut trace)?;
    }
}

/// A configuration like `base` in the fields every profile must share, and free in the others.
fn profile_like(base: BreakerConfig) -> impl Strategy<Value = BreakerConfig> {
    config().prop_map(move |c| {
        let mut c = BreakerConfig {
            half_open_probes: base.half_open_probes,
            successes_to_close: base.successes_to_close,
            half_open_by_rate: base.half_open_by_rate,
            shadow: base.shadow,
            count_rejections: base.count_rejections,
            seed: base.seed,
            ..c
        };
        if c.half_open_by_rate && c.failure_rate_ppm.is_none() && c.slow_rate_ppm.is_none() {
            c.failure_rate_ppm = Some(500_000);
        }
        c
    })
}

fn profiles() -> impl Strategy<Value = [BreakerConfig; 3]> {
    config().prop_flat_map(|base| {
        (Just(base), profile_like(base), profile_like(base)).prop_map(|(a, b, c)| [a, b, c])
    })
}

fn profiled_op() -> impl Strategy<Value = Op> {
    prop_oneof![12 => op(), 1 => any::<usize>().prop_map(Op::Switch)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn profiled_breaker_matches_model(
        cfgs in profiles(),
        start in prop_oneof![Just(0u64), 0..(1u64 << 40)],
        ops in prop::collection::vec(profiled_op(), 1..200),
    ) {
        let b = ProfiledBreaker::<CountWindow<N>, 3>::with_profiles([
            ("a", cfgs[0]),
            ("b", cfgs[1]),
            ("c", cfgs[2]),
        ])
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let real = |i: usize| b.switch_profile_index(i).expect("i < 3");
        let mut trace = Vec::new();
        drive(&b, Model::new(cfgs[0]), start, &ops, &mut trace, Some((&real, &cfgs)))?;
        prop_assert_eq!(b.config(), &cfgs[b.active_profile_index()]);
    }
}

/// The generated operations do reach every transition (a model check that never leaves the
/// closed state would prove little).
#[test]
fn generated_runs_reach_every_transition() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut seen = [false; 3];
    for _ in 0..64 {
        let cfg = config().new_tree(&mut runner).unwrap().current();
        let ops = prop::collection::vec(op(), 100..200).new_tree(&mut runner).unwrap().current();
        let mut trace = Vec::new();
        run(cfg, 0, &ops, &mut trace).unwrap();
        for t in trace {
            match t {
                Transition::Opened => seen[0] = true,
                Transition::HalfOpened => seen[1] = true,
                Transition::Closed => seen[2] = true,
                Transition::None => {}
            }
        }
    }
    assert_eq!(seen, [true; 3]);
}

#[test]
fn model_rejects_what_the_breaker_rejects() {
    // The generator only builds valid configs; one invalid one checks the error path is wired.
    let bad = BreakerConfig { half_open_probes: 0, ..BreakerConfig::DEFAULT };
    assert_eq!(
        CountBreaker::<N>::new(bad).unwrap_err(),
        ConfigError::ZeroCount { field: "half_open_probes" }
    );
}
