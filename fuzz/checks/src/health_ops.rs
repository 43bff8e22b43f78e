//! `health_ops`: random configurations (valid and not) and random result sequences on a
//! `HealthMachine`, checked against a sequential model written from `docs/semantics/health.md`.
//!
//! Properties: construction accepts exactly the configurations the rules allow and reports an
//! error naming a field otherwise; every transition moves at most one state; state, streaks,
//! transitions and the next-check time equal the model's after every step; a reset returns to the
//! initial state with no streak and no result.
use crate::Bytes;
use portcullis::Nanos;
use portcullis::health::{CheckDue, HealthConfig, HealthMachine, HealthState, MAX_THRESHOLD};

struct Model {
    state: usize,
    failures: u32,
    successes: u32,
    last: Option<u64>,
}

impl Model {
    fn record(&mut self, c: &HealthConfig, success: bool, now: u64) -> (usize, usize) {
        let from = self.state;
        if success {
            self.failures = 0;
            self.successes = (self.successes + 1).min(MAX_THRESHOLD);
            if self.state > 0 && self.successes >= c.recover_after[self.state - 1] {
                self.state -= 1;
                self.successes = 0;
            }
        } else {
            self.successes = 0;
            self.failures = (self.failures + 1).min(MAX_THRESHOLD);
            if self.state < 3 && self.failures >= c.degrade_after[self.state] {
                self.state += 1;
                self.failures = 0;
            }
        }
        // The last check time is kept as `now + 1` saturating, so the clock's last nanosecond
        // reads as the one before it.
        let now = now.min(u64::MAX - 1);
        self.last = Some(self.last.map_or(now, |l| l.max(now)));
        (from, self.state)
    }

    fn next_check(&self, c: &HealthConfig, now: u64) -> CheckDue {
        match self.last {
            None => CheckDue::Now,
            Some(l) => {
                let due = l.saturating_add(c.check_interval[self.state].as_u64());
                if now >= due { CheckDue::Now } else { CheckDue::In(Nanos::new(due - now)) }
            }
        }
    }
}

/// Runs one input.
pub fn check(data: &[u8]) {
    let mut b = Bytes::new(data);
    let wild = b.u8() & 1 == 1;
    let threshold = |b: &mut Bytes<'_>| {
        if wild { b.u32() >> (b.u8() % 32) } else { u32::from(b.u8() % 6) }
    };
    let degrade_after = [threshold(&mut b), threshold(&mut b), threshold(&mut b)];
    let recover_after = [threshold(&mut b), threshold(&mut b), threshold(&mut b)];
    let check_interval = [0; 4].map(|_: u8| Nanos::new(u64::from(b.u8() % 50)));
    let initial = HealthState::ALL[usize::from(b.u8() % 4)];
    let c = HealthConfig { degrade_after, recover_after, check_interval, initial };
    let valid = (0..3).all(|i| {
        let (d, r) = (degrade_after[i], recover_after[i]);
        (1..=MAX_THRESHOLD).contains(&d) && (1..=MAX_THRESHOLD).contains(&r) && r > d
    }) && check_interval.iter().all(|i| i.as_u64() > 0);
    let m = match HealthMachine::new(c) {
        Ok(m) => {
            assert!(valid, "accepted an invalid config {c:?}");
            m
        }
        Err(e) => {
            assert!(!valid, "refused a valid config {c:?}: {e}");
            let f = e.field();
            assert!(
                f.starts_with("degrade_after[")
                    || f.starts_with("recover_after[")
                    || f.starts_with("check_interval["),
                "error {e} names no field"
            );
            return;
        }
    };
    let mut model = Model { state: initial as usize, failures: 0, successes: 0, last: None };
    let mut now = u64::from(b.u16());
    let mut ops = 0;
    while !b.is_empty() && ops < 4096 {
        ops += 1;
        let op = b.u8();
        match op % 8 {
            0..=4 => {
                let success = op & 0x80 != 0;
                let t = m.record(success, Nanos::new(now));
                let (from, to) = model.record(&c, success, now);
                assert_eq!((t.from, t.to), (HealthState::ALL[from], HealthState::ALL[to]));
                assert_eq!(t.changed(), from != to);
                assert!(from.abs_diff(to) <= 1, "one state at a time");
            }
            5 => now = now.saturating_add(u64::from(b.u8())),
            6 => {
                now = if op & 0x80 != 0 {
                    now.saturating_sub(u64::from(b.u8()))
                } else {
                    u64::MAX - u64::from(b.u8())
                }
            }
            _ => {
                m.reset();
                model = Model { state: initial as usize, failures: 0, successes: 0, last: None };
            }
        }
        let snap = m.snapshot();
        assert_eq!(snap.state, HealthState::ALL[model.state]);
        assert_eq!(m.state(), snap.state);
        assert_eq!(
            (snap.consecutive_failures, snap.consecutive_successes),
            (model.failures, model.successes)
        );
        for probe in [now, now.saturating_add(1), now.saturating_add(25), now.saturating_sub(60)] {
            assert_eq!(
                m.next_check(Nanos::new(probe)),
                model.next_check(&c, probe),
                "next_check({probe})"
            );
        }
    }
}
