//! Proof that the retry policies and budgets never allocate: a counting global allocator, armed
//! per thread, around every path (every backoff × jitter, push-backs, stops, deadlines, header
//! parsing, both budgets with time jumps and `decide_with_budget`).

use super::allocations_in;
use portcullis::retry::{
    Backoff, ClassTable, ErrorClass, Jitter, RatioBudget, RatioBudgetConfig, RetryConfig,
    RetryPolicy, RetryState, RetryThrottle, ThrottleConfig,
};
use portcullis::{Clock, ManualClock, Nanos};

const BACKOFFS: [Backoff; 4] = [
    Backoff::Constant,
    Backoff::Linear,
    Backoff::Exponential { multiplier_permille: 1_500 },
    Backoff::Fibonacci,
];
const JITTERS: [Jitter; 5] = [
    Jitter::None,
    Jitter::Full,
    Jitter::Equal,
    Jitter::Decorrelated,
    Jitter::Proportional { ppm: 200_000 },
];
const CLASSES: [ErrorClass; 5] = [
    ErrorClass::Retryable,
    ErrorClass::Retryable,
    ErrorClass::RetryableAfter(Nanos::from_millis(30)),
    ErrorClass::NotRetryable,
    ErrorClass::StopRetrying,
];

#[test]
fn retry_policies_never_allocate() {
    let n = allocations_in(|| {
        for b in BACKOFFS {
            for j in JITTERS {
                let p = RetryPolicy::new(RetryConfig {
                    max_attempts: 1_000,
                    backoff: b,
                    base_delay: Nanos::from_millis(1),
                    max_delay: Nanos::from_secs(5),
                    jitter: j,
                    total_budget: Nanos::from_secs(60),
                    pushback_min: Nanos::from_millis(10),
                    pushback_max: Nanos::from_secs(1),
                })
                .unwrap();
                let clock = ManualClock::new(Nanos::ZERO);
                let mut s = RetryState::new(&p, clock.now(), 3);
                for i in 0..2_000u64 {
                    #[allow(clippy::cast_possible_truncation)]
                    let class = CLASSES[(i % 5) as usize];
                    let _ = std::hint::black_box(s.decide(&p, class, clock.now()));
                    clock.advance(Nanos::from_millis(40));
                }
                std::hint::black_box(p.backoff_delay(u32::MAX));
                let _ = std::hint::black_box(RetryPolicy::new(RetryConfig {
                    max_attempts: 0,
                    ..*p.config()
                }));
            }
        }
        let table = ClassTable::EMPTY.with(14).with(8);
        for id in 0..100 {
            std::hint::black_box(table.classify(id));
        }
        for h in [&b"120"[..], b"-1", b"007", b"", b"2147483648"] {
            std::hint::black_box(ErrorClass::from_pushback_header(h));
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn retry_budgets_never_allocate() {
    let n = allocations_in(|| {
        let throttle = RetryThrottle::new(ThrottleConfig::DEFAULT).unwrap();
        let ratio = RatioBudget::<10>::new(RatioBudgetConfig::DEFAULT).unwrap();
        let p = RetryPolicy::new(RetryConfig::DEFAULT).unwrap();
        let clock = ManualClock::new(Nanos::ZERO);
        for i in 0..50_000u64 {
            let now = clock.now();
            throttle.record_failure();
            if i % 3 == 0 {
                throttle.record_success();
            }
            ratio.deposit(now);
            std::hint::black_box(ratio.try_withdraw(now));
            std::hint::black_box(ratio.balance(now));
            let mut s = RetryState::new(&p, now, i);
            let _ = std::hint::black_box(s.decide_with_budget(
                &p,
                ErrorClass::Retryable,
                now,
                &throttle,
            ));
            let _ =
                std::hint::black_box(s.decide_with_budget(&p, ErrorClass::Retryable, now, &ratio));
            clock.advance(Nanos::new(if i % 1_000 == 999 { 1 << 45 } else { 77_777 }));
            if i % 10_007 == 0 {
                clock.set(clock.now().saturating_sub(Nanos::from_secs(3))); // backwards
            }
        }
    });
    assert_eq!(n, 0);
}
