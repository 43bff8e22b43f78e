//! Health with hysteresis: a four-state machine per check, and an aggregate of named checks.
//!
//! - [`HealthMachine`]: healthy / degraded / unhealthy / critical, moved by consecutive check
//!   results, with more successes needed to recover than failures to degrade, and a check interval
//!   per state; lock-free, its state in one atomic word;
//! - [`HealthAggregate<N>`]: `N` named checks (liveness, readiness, startup, dependencies, each
//!   dependency critical or not) folded into live / started / ready and an overall state.
//!
//! The transitions, boundaries and the comparison with Kubernetes probes are in
//! `docs/semantics/health.md`, included below.
#![doc = include_str!("../../docs/semantics/health.md")]

use crate::clock::Nanos;
use crate::error::ConfigError;
use crate::sync::{AtomicU64, Ordering, loom_const_fn};
use crate::word::Field;

/// The largest threshold: streaks are counted in 29 bits.
pub const MAX_THRESHOLD: u32 = (1 << 29) - 1;

/// State word: `| state:2 | failing:1 | streak:29 |` in the low 32 bits. `streak` counts the
/// consecutive results of one kind (`failing` = 1: failures) since the last transition or the
/// last result of the other kind; it saturates at [`MAX_THRESHOLD`].
const STREAK: Field = Field::new(0, 29);
const FAILING: Field = Field::new(29, 1);
const STATE: Field = Field::new(30, 2);
const _: () = assert!(Field::disjoint(&[STREAK, FAILING, STATE]));

/// The health of one check, from best to worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum HealthState {
    /// Passing.
    Healthy = 0,
    /// Failing a little: still serving, worth watching.
    Degraded = 1,
    /// Failing: should not receive traffic.
    Unhealthy = 2,
    /// Failing for a long time: needs intervention (restart, page).
    Critical = 3,
}

impl HealthState {
    /// All states, best first.
    pub const ALL: [HealthState; 4] = [
        HealthState::Healthy,
        HealthState::Degraded,
        HealthState::Unhealthy,
        HealthState::Critical,
    ];

    const fn from_bits(b: u64) -> HealthState {
        match b & 3 {
            0 => HealthState::Healthy,
            1 => HealthState::Degraded,
            2 => HealthState::Unhealthy,
            _ => HealthState::Critical,
        }
    }

    /// Whether the state is [`Unhealthy`](HealthState::Unhealthy) or
    /// [`Critical`](HealthState::Critical).
    #[must_use]
    pub const fn is_failing(self) -> bool {
        matches!(self, HealthState::Unhealthy | HealthState::Critical)
    }
}

/// Thresholds and intervals of a [`HealthMachine`].
///
/// Index `i` of `degrade_after` is the number of consecutive failures that move state `i` to
/// `i + 1` (Healthy → Degraded, Degraded → Unhealthy, Unhealthy → Critical); index `i` of
/// `recover_after` is the number of consecutive successes that move state `i + 1` back to `i`.
/// Hysteresis: `recover_after[i] > degrade_after[i]` for every `i`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthConfig {
    /// Consecutive failures to leave Healthy, Degraded, Unhealthy (one state worse). Default
    /// `[3, 3, 5]`.
    pub degrade_after: [u32; 3],
    /// Consecutive successes to leave Degraded, Unhealthy, Critical (one state better). Default
    /// `[5, 5, 10]`.
    pub recover_after: [u32; 3],
    /// When the next check is due in Healthy, Degraded, Unhealthy, Critical. Default
    /// `[10 s, 5 s, 2 s, 1 s]`: a failing check is checked more often.
    pub check_interval: [Nanos; 4],
    /// The state before any result. Default Healthy (use Unhealthy for a check that must pass
    /// before traffic is sent, like a Kubernetes readiness probe).
    pub initial: HealthState,
}

impl HealthConfig {
    /// The defaults listed on each field.
    pub const DEFAULT: HealthConfig = HealthConfig {
        degrade_after: [3, 3, 5],
        recover_after: [5, 5, 10],
        check_interval: [
            Nanos::from_secs(10),
            Nanos::from_secs(5),
            Nanos::from_secs(2),
            Nanos::from_secs(1),
        ],
        initial: HealthState::Healthy,
    };

    /// Checks every rule, returning the first that fails.
    ///
    /// # Errors
    ///
    /// [`ConfigError::OutOfRange`] for a threshold outside `1..=MAX_THRESHOLD`
    /// (`field: "degrade_after[i]"` or `"recover_after[i]"`); [`ConfigError::HysteresisImpossible`]
    /// when `recover_after[i] <= degrade_after[i]`; [`ConfigError::ZeroDuration`] for a zero
    /// `check_interval[i]`.
    pub const fn validate(&self) -> Result<(), ConfigError> {
        const DEGRADE: [&str; 3] = ["degrade_after[0]", "degrade_after[1]", "degrade_after[2]"];
        const RECOVER: [&str; 3] = ["recover_after[0]", "recover_after[1]", "recover_after[2]"];
        const INTERVAL: [&str; 4] =
            ["check_interval[0]", "check_interval[1]", "check_interval[2]", "check_interval[3]"];
        let mut i = 0;
        while i < 3 {
            #[allow(clippy::indexing_slicing, reason = "i < 3 by the loop condition")]
            let (d, r, df, rf) =
                (self.degrade_after[i], self.recover_after[i], DEGRADE[i], RECOVER[i]);
            if d == 0 || d > MAX_THRESHOLD {
                return Err(range(df, d));
            }
            if r == 0 || r > MAX_THRESHOLD {
                return Err(range(rf, r));
            }
            if r <= d {
                return Err(ConfigError::HysteresisImpossible {
                    field: rf,
                    value: r,
                    degrade_after: d,
                });
            }
            i += 1;
        }
        let mut i = 0;
        while i < 4 {
            #[allow(clippy::indexing_slicing, reason = "i < 4 by the loop condition")]
            if self.check_interval[i].as_u64() == 0 {
                return Err(ConfigError::ZeroDuration { field: INTERVAL[i] });
            }
            i += 1;
        }
        Ok(())
    }
}

const fn range(field: &'static str, value: u32) -> ConfigError {
    ConfigError::OutOfRange { field, min: 1, max: MAX_THRESHOLD as u64, got: value as u64 }
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The effect of one result on a [`HealthMachine`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use]
pub struct HealthTransition {
    /// The state before the result.
    pub from: HealthState,
    /// The state after it.
    pub to: HealthState,
}

impl HealthTransition {
    /// Whether the result changed the state.
    #[must_use]
    pub const fn changed(&self) -> bool {
        self.from as u8 != self.to as u8
    }
}

/// A [`HealthMachine`] at one moment (one load of its state word), for metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HealthSnapshot {
    /// The state.
    pub state: HealthState,
    /// Consecutive failures since the last success or transition (0 if the streak is of
    /// successes).
    pub consecutive_failures: u32,
    /// Consecutive successes since the last failure or transition (0 if the streak is of
    /// failures).
    pub consecutive_successes: u32,
}

/// When a check should run next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckDue {
    /// Now (no result yet, or the state's interval has passed since the last result).
    Now,
    /// After this much more time.
    In(Nanos),
}

/// The pure transition: the word after a result, given the config.
#[allow(clippy::indexing_slicing, reason = "i - 1 < 3 and i < 3 are checked before each index")]
const fn step(config: &HealthConfig, word: u64, success: bool) -> u64 {
    let state = STATE.get(word);
    let failing = FAILING.get(word) == 1;
    let streak = STREAK.get(word);
    let same_kind = failing != success;
    let run = if same_kind && streak < MAX_THRESHOLD as u64 {
        streak + 1
    } else if same_kind {
        streak
    } else {
        1
    };
    let kind = if success { 0 } else { 1 };
    #[allow(clippy::cast_possible_truncation, reason = "state <= 3")]
    let i = state as usize;
    let next_state = if success {
        if i > 0 && i <= 3 && run >= config.recover_after[i - 1] as u64 {
            Some(state - 1)
        } else {
            None
        }
    } else if i < 3 && run >= config.degrade_after[i] as u64 {
        Some(state + 1)
    } else {
        None
    };
    match next_state {
        // A transition restarts the count in the new state.
        Some(s) => STATE.place(s) | FAILING.place(kind),
        None => STATE.place(state) | FAILING.place(kind) | STREAK.place(run),
    }
}

/// One check's health: four states with hysteresis, lock-free.
///
/// # Semantics
///
/// Each result is a success or a failure. In state `i`, the `degrade_after[i]`-th consecutive
/// failure moves to `i + 1` (the boundary result itself transitions); in state `i + 1`, the
/// `recover_after[i]`-th consecutive success moves back to `i`. A result of the other kind restarts
/// the count; a transition restarts it too, so falling two states takes
/// `degrade_after[0] + degrade_after[1]` consecutive failures. Critical absorbs further failures,
/// Healthy further successes.
///
/// [`next_check`](Self::next_check) answers when the next check is due: `check_interval[state]`
/// after the latest result (by `now`) recorded, or now if none.
///
/// Concurrency: the state, the kind and the length of the current streak are one atomic word;
/// each result is one CAS loop over a pure transition function, so concurrent results are
/// applied one at a time in the order of their CASes (linearizable: a single word, every change
/// an RMW). Lock-free.
///
/// # Examples
///
/// ```
/// use portcullis::{Nanos, health::{CheckDue, HealthConfig, HealthMachine, HealthState}};
/// let m = HealthMachine::new(HealthConfig::DEFAULT).unwrap(); // degrade after 3, recover after 5
/// let t = Nanos::from_secs(1);
/// for _ in 0..2 { let _ = m.record(false, t); }
/// assert_eq!(m.state(), HealthState::Healthy);
/// assert!(m.record(false, t).changed());                  // the 3rd failure degrades
/// assert_eq!(m.state(), HealthState::Degraded);
/// assert_eq!(m.next_check(t), CheckDue::In(Nanos::from_secs(5)));
/// for _ in 0..4 { let _ = m.record(true, t); }
/// assert_eq!(m.state(), HealthState::Degraded);           // 4 successes are not enough
/// assert_eq!(m.record(true, t).to, HealthState::Healthy); // the 5th recovers
/// ```
///
/// # Errors
///
/// [`new`](Self::new) returns the first rule of [`HealthConfig::validate`] that fails.
///
/// # Panics
///
/// Never.
#[derive(Debug)]
pub struct HealthMachine {
    config: HealthConfig,
    word: AtomicU64,
    /// One more than the latest `now` a result was recorded at (0: none).
    last: AtomicU64,
}

impl HealthMachine {
    loom_const_fn! {
        /// A machine in `config.initial`, with no result yet.
        ///
        /// # Errors
        ///
        /// The first rule of [`HealthConfig::validate`] that fails.
        pub fn new(config: HealthConfig) -> Result<Self, ConfigError> {
            if let Err(e) = config.validate() {
                return Err(e);
            }
            Ok(HealthMachine {
                config,
                word: AtomicU64::new(STATE.place(config.initial as u64)),
                last: AtomicU64::new(0),
            })
        }
    }

    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &HealthConfig {
        &self.config
    }

    /// The current state (one load).
    #[must_use]
    pub fn state(&self) -> HealthState {
        // Relaxed: the word is self-contained; nothing else is published through it.
        HealthState::from_bits(STATE.get(self.word.load(Ordering::Relaxed)))
    }

    /// The state and the current streak, from one load (wait-free).
    #[must_use]
    pub fn snapshot(&self) -> HealthSnapshot {
        let w = self.word.load(Ordering::Relaxed);
        #[allow(clippy::cast_possible_truncation, reason = "the streak field is 29 bits")]
        let streak = STREAK.get(w) as u32;
        let failing = FAILING.get(w) == 1;
        HealthSnapshot {
            state: HealthState::from_bits(STATE.get(w)),
            consecutive_failures: if failing { streak } else { 0 },
            consecutive_successes: if failing { 0 } else { streak },
        }
    }

    /// Applies one check result (`success` or not) obtained at `now`. Lock-free.
    pub fn record(&self, success: bool, now: Nanos) -> HealthTransition {
        // Relaxed: the transition reads and writes only this word, and a CAS reads the latest
        // value in its modification order, so results are applied one at a time.
        let mut cur = self.word.load(Ordering::Relaxed);
        let next = loop {
            let next = step(&self.config, cur, success);
            if next == cur {
                break next;
            }
            match self.word.compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => break next,
                Err(actual) => cur = actual,
            }
        };
        // fetch_max: a result reported late never moves the last check time back.
        self.last.fetch_max(now.as_u64().saturating_add(1), Ordering::Relaxed);
        HealthTransition {
            from: HealthState::from_bits(STATE.get(cur)),
            to: HealthState::from_bits(STATE.get(next)),
        }
    }

    /// When the next check is due at `now`.
    #[must_use]
    pub fn next_check(&self, now: Nanos) -> CheckDue {
        let last = self.last.load(Ordering::Relaxed);
        if last == 0 {
            return CheckDue::Now;
        }
        let state = self.state() as usize;
        let interval = match self.config.check_interval.get(state) {
            Some(i) => i.as_u64(),
            None => 0,
        };
        let due = (last - 1).saturating_add(interval);
        if now.as_u64() >= due {
            CheckDue::Now
        } else {
            CheckDue::In(Nanos::new(due - now.as_u64()))
        }
    }

    /// Returns to `config.initial` with no streak and no result (for example after a restart of
    /// the dependency).
    pub fn reset(&self) {
        self.word.store(STATE.place(self.config.initial as u64), Ordering::Relaxed);
        self.last.store(0, Ordering::Relaxed);
    }
}

/// What a named check is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckKind {
    /// The process works at all (failing: restart it).
    Liveness,
    /// The process can serve traffic now.
    Readiness,
    /// The process has finished starting.
    Startup,
    /// A dependency; only a `critical` one makes the whole unready.
    Dependency {
        /// Whether the service cannot serve without it.
        critical: bool,
    },
}

/// One named check of a [`HealthAggregate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckSpec {
    /// The check's name (for reports and [`HealthAggregate::find`]).
    pub name: &'static str,
    /// What it is for.
    pub kind: CheckKind,
    /// Its thresholds and intervals.
    pub config: HealthConfig,
}

/// The folded health of a [`HealthAggregate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AggregateStatus {
    /// No liveness check is failing.
    pub live: bool,
    /// No startup check is failing.
    pub started: bool,
    /// Started, no readiness check failing, and no critical dependency failing.
    pub ready: bool,
    /// The worst state of all checks, where a non-critical dependency counts at most as
    /// Degraded.
    pub overall: HealthState,
}

/// `N` named checks folded into live / started / ready and an overall state.
///
/// # Semantics
///
/// "Failing" is Unhealthy or Critical. `live`: no liveness check failing. `started`: no startup
/// check failing. `ready`: started, no readiness check failing, no critical dependency failing;
/// a non-critical dependency never makes the whole unready, and lowers `overall` to Degraded at
/// most. With no check of a kind, the corresponding answer is `true`.
///
/// # Examples
///
/// ```
/// use portcullis::Nanos;
/// use portcullis::health::{CheckKind, CheckSpec, HealthAggregate, HealthConfig, HealthState};
/// let c = HealthConfig {
///     degrade_after: [1, 1, 1],
///     recover_after: [2, 2, 2],
///     ..HealthConfig::DEFAULT
/// };
/// let agg = HealthAggregate::new([
///     CheckSpec { name: "db", kind: CheckKind::Dependency { critical: true }, config: c },
///     CheckSpec { name: "cache", kind: CheckKind::Dependency { critical: false }, config: c },
/// ]).unwrap();
/// let t = Nanos::ZERO;
/// for _ in 0..3 { let _ = agg.record(1, false, t); }      // cache: Critical
/// let s = agg.status();
/// assert!(s.ready && s.overall == HealthState::Degraded);
/// let _ = agg.record(0, false, t);
/// let _ = agg.record(0, false, t);                         // db: Unhealthy
/// assert!(!agg.status().ready);
/// assert_eq!(agg.find("db").map(|m| m.state()), Some(HealthState::Unhealthy));
/// ```
///
/// # Errors
///
/// [`new`](Self::new) returns the first [`HealthConfig::validate`] error of the checks, in order.
///
/// # Panics
///
/// Never.
#[derive(Debug)]
pub struct HealthAggregate<const N: usize> {
    specs: [CheckSpec; N],
    machines: [HealthMachine; N],
}

impl<const N: usize> HealthAggregate<N> {
    /// The aggregate of `specs`, each check in its initial state.
    ///
    /// # Errors
    ///
    /// The first configuration error among the checks, in order.
    pub fn new(specs: [CheckSpec; N]) -> Result<Self, ConfigError> {
        for s in &specs {
            s.config.validate()?;
        }
        let machines = core::array::from_fn(|i| {
            let config = specs.get(i).map_or(HealthConfig::DEFAULT, |s| s.config);
            HealthMachine {
                word: AtomicU64::new(STATE.place(config.initial as u64)),
                last: AtomicU64::new(0),
                config,
            }
        });
        Ok(HealthAggregate { specs, machines })
    }

    /// The checks' specifications.
    #[must_use]
    pub const fn specs(&self) -> &[CheckSpec; N] {
        &self.specs
    }

    /// The machine of check `index`.
    #[must_use]
    pub fn check(&self, index: usize) -> Option<&HealthMachine> {
        self.machines.get(index)
    }

    /// The machine of the first check named `name`.
    #[must_use]
    pub fn find(&self, name: &str) -> Option<&HealthMachine> {
        let i = self.specs.iter().position(|s| s.name == name)?;
        self.machines.get(i)
    }

    /// Records a result of check `index`; `None` if there is no such check.
    pub fn record(&self, index: usize, success: bool, now: Nanos) -> Option<HealthTransition> {
        self.machines.get(index).map(|m| m.record(success, now))
    }

    /// The folded status: one load per check.
    #[must_use]
    pub fn status(&self) -> AggregateStatus {
        let mut s = AggregateStatus {
            live: true,
            started: true,
            ready: true,
            overall: HealthState::Healthy,
        };
        let mut not_ready = false;
        for (spec, m) in self.specs.iter().zip(self.machines.iter()) {
            let st = m.state();
            let failing = st.is_failing();
            let counted = match spec.kind {
                CheckKind::Liveness => {
                    s.live &= !failing;
                    st
                }
                CheckKind::Startup => {
                    s.started &= !failing;
                    st
                }
                CheckKind::Readiness | CheckKind::Dependency { critical: true } => {
                    not_ready |= failing;
                    st
                }
                CheckKind::Dependency { critical: false } => st.min(HealthState::Degraded),
            };
            s.overall = s.overall.max(counted);
        }
        s.ready = s.started && !not_ready;
        s
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    const T: Nanos = Nanos::ZERO;

    #[test]
    fn validation() {
        let d = HealthConfig::DEFAULT;
        assert_eq!(d.validate(), Ok(()));
        let bad = HealthConfig { degrade_after: [3, 0, 5], ..d };
        assert_eq!(
            bad.validate(),
            Err(ConfigError::OutOfRange {
                field: "degrade_after[1]",
                min: 1,
                max: u64::from(MAX_THRESHOLD),
                got: 0
            })
        );
        let bad = HealthConfig { recover_after: [5, 5, 5], ..d };
        assert_eq!(
            bad.validate(),
            Err(ConfigError::HysteresisImpossible {
                field: "recover_after[2]",
                value: 5,
                degrade_after: 5
            })
        );
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "recover_after[2] must be greater than the 5 consecutive failures it undoes (hysteresis), got 5"
        );
        let bad = HealthConfig { recover_after: [5, MAX_THRESHOLD + 1, 10], ..d };
        assert_eq!(
            bad.validate(),
            Err(ConfigError::OutOfRange {
                field: "recover_after[1]",
                min: 1,
                max: u64::from(MAX_THRESHOLD),
                got: u64::from(MAX_THRESHOLD) + 1
            })
        );
        let bad = HealthConfig {
            check_interval: [Nanos::new(1), Nanos::new(1), Nanos::new(1), Nanos::ZERO],
            ..d
        };
        assert_eq!(
            HealthMachine::new(bad).unwrap_err(),
            ConfigError::ZeroDuration { field: "check_interval[3]" }
        );
        let spec = CheckSpec { name: "x", kind: CheckKind::Liveness, config: bad };
        assert!(HealthAggregate::new([spec]).is_err());
    }

    #[test]
    fn walks_down_and_up_with_hysteresis() {
        let c = HealthConfig {
            degrade_after: [1, 2, 3],
            recover_after: [2, 3, 4],
            ..HealthConfig::DEFAULT
        };
        let m = HealthMachine::new(c).unwrap();
        assert_eq!(
            m.record(false, T),
            HealthTransition { from: HealthState::Healthy, to: HealthState::Degraded }
        );
        assert!(!m.record(false, T).changed());
        assert_eq!(m.record(false, T).to, HealthState::Unhealthy);
        let _ = m.record(false, T);
        let _ = m.record(true, T); // breaks the failure streak
        let _ = m.record(false, T);
        let _ = m.record(false, T);
        assert_eq!(m.state(), HealthState::Unhealthy);
        assert_eq!(m.record(false, T).to, HealthState::Critical);
        for _ in 0..10 {
            assert_eq!(m.record(false, T).to, HealthState::Critical, "critical absorbs");
        }
        for _ in 0..3 {
            let _ = m.record(true, T);
        }
        assert_eq!(m.state(), HealthState::Critical);
        assert_eq!(m.record(true, T).to, HealthState::Unhealthy);
        for _ in 0..2 {
            let _ = m.record(true, T);
        }
        assert_eq!(m.record(true, T).to, HealthState::Degraded);
        let _ = m.record(true, T);
        assert_eq!(m.record(true, T).to, HealthState::Healthy);
        assert!(!m.record(true, T).changed());
        let s = m.snapshot();
        assert_eq!(
            (s.state, s.consecutive_successes, s.consecutive_failures),
            (HealthState::Healthy, 1, 0)
        );
        let _ = m.record(false, T);
        assert_eq!(m.snapshot().consecutive_failures, 0, "the transition restarted the count");
        assert_eq!(m.snapshot().state, HealthState::Degraded);
        m.reset();
        assert_eq!(m.state(), HealthState::Healthy);
        assert_eq!(m.config().degrade_after, [1, 2, 3]);
    }

    #[test]
    fn next_check_follows_the_state_interval() {
        let m = HealthMachine::new(HealthConfig {
            degrade_after: [1, 1, 1],
            recover_after: [2, 2, 2],
            ..HealthConfig::DEFAULT
        })
        .unwrap();
        assert_eq!(m.next_check(Nanos::from_secs(7)), CheckDue::Now);
        let _ = m.record(true, Nanos::from_secs(100));
        assert_eq!(m.next_check(Nanos::from_secs(101)), CheckDue::In(Nanos::from_secs(9)));
        assert_eq!(
            m.next_check(Nanos::from_secs(110)),
            CheckDue::Now,
            "due exactly at last + interval"
        );
        let _ = m.record(false, Nanos::from_secs(105));
        assert_eq!(m.next_check(Nanos::from_secs(105)), CheckDue::In(Nanos::from_secs(5)));
        let _ = m.record(false, Nanos::from_secs(50)); // late report: last stays at 105
        assert_eq!(m.state(), HealthState::Unhealthy);
        assert_eq!(m.next_check(Nanos::from_secs(105)), CheckDue::In(Nanos::from_secs(2)));
    }

    #[test]
    fn streak_saturates() {
        let c = HealthConfig {
            degrade_after: [1, 1, 1],
            recover_after: [MAX_THRESHOLD, MAX_THRESHOLD, MAX_THRESHOLD],
            ..HealthConfig::DEFAULT
        };
        let w = STATE.place(3) | FAILING.place(0) | STREAK.place(u64::from(MAX_THRESHOLD) - 1);
        let w = step(&c, w, true);
        assert_eq!(STATE.get(w), 2, "the MAX-th success recovers");
        let w = STATE.place(0) | STREAK.place(u64::from(MAX_THRESHOLD));
        assert_eq!(step(&c, w, true), w, "a saturated streak stays");
    }

    #[test]
    fn aggregate_kinds() {
        let c = HealthConfig {
            degrade_after: [1, 1, 1],
            recover_after: [2, 2, 2],
            ..HealthConfig::DEFAULT
        };
        let unready = HealthConfig { initial: HealthState::Unhealthy, ..c };
        let agg = HealthAggregate::new([
            CheckSpec { name: "live", kind: CheckKind::Liveness, config: c },
            CheckSpec { name: "start", kind: CheckKind::Startup, config: unready },
            CheckSpec { name: "ready", kind: CheckKind::Readiness, config: c },
        ])
        .unwrap();
        let s = agg.status();
        assert!(s.live && !s.started && !s.ready);
        assert_eq!(s.overall, HealthState::Unhealthy);
        let _ = agg.record(1, true, T);
        let _ = agg.record(1, true, T);
        let s = agg.status();
        assert!(s.started && s.ready && s.overall == HealthState::Degraded);
        let _ = agg.record(0, false, T);
        let _ = agg.record(0, false, T);
        let s = agg.status();
        assert!(!s.live && s.ready, "liveness does not decide readiness");
        let _ = agg.record(2, false, T);
        assert!(agg.status().ready, "degraded readiness is still ready");
        let _ = agg.record(2, false, T);
        assert!(!agg.status().ready);
        assert_eq!(agg.record(3, true, T), None);
        assert!(agg.check(3).is_none() && agg.find("nope").is_none());
        assert_eq!(agg.specs()[2].name, "ready");
        let empty = HealthAggregate::<0>::new([]).unwrap();
        assert_eq!(
            empty.status(),
            AggregateStatus {
                live: true,
                started: true,
                ready: true,
                overall: HealthState::Healthy
            }
        );
    }
}
