//! Proof that the keyed table never allocates: the counting allocator around construction
//! (including configuration errors and an error midway), lookups that insert, find, overflow and
//! miss, iteration, snapshots and admissions through the entries.

use portcullis::bulkhead::Bulkhead;
use portcullis::keyed::{KeyedBulkhead, KeyedLimiter};
use portcullis::limiter::{Quota, RateLimiterConfig};
use portcullis::{ConfigError, CountBreaker, Nanos, keyed::Keyed};

use super::allocations_in;

#[test]
fn keyed_tables_never_allocate() {
    let n = allocations_in(|| {
        assert!(KeyedBulkhead::<8>::bulkheads(9, 1).is_err());
        assert!(KeyedBulkhead::<0>::bulkheads(1, 1).is_err());
        let mut calls = 0;
        let midway = Keyed::<Bulkhead, 8>::try_new(4, || {
            calls += 1;
            if calls == 5 { Err(ConfigError::ZeroCount { field: "x" }) } else { Bulkhead::new(1) }
        });
        assert!(midway.is_err());

        let quota = Quota::per_second(10, 2).unwrap();
        let limiters =
            KeyedLimiter::<16>::limiters(4, RateLimiterConfig::new(quota), Nanos::ZERO).unwrap();
        let bulkheads = KeyedBulkhead::<16>::bulkheads(4, 2).unwrap();
        let breakers =
            Keyed::<CountBreaker<8>, 4>::count_breakers(2, portcullis::BreakerConfig::DEFAULT)
                .unwrap();
        for i in 0..10_000u64 {
            let key = i % 40; // more keys than slots: inserts, hits and overflows
            let now = Nanos::from_millis(i);
            let _ = std::hint::black_box(limiters.get(key).try_acquire(now));
            if let Ok(p) = bulkheads.get(key).try_acquire(1) {
                drop(p);
            }
            if let Ok(p) = breakers.get(key).try_acquire(now) {
                let _ = p.record(breakers.get(key).classify(i % 7 == 0, Nanos::ZERO), now);
            }
            std::hint::black_box(limiters.find(key ^ 1));
            if i % 1_000 == 0 {
                std::hint::black_box(limiters.snapshot());
                std::hint::black_box(bulkheads.iter().count());
            }
        }
        assert!(limiters.snapshot().overflows > 0);
    });
    assert_eq!(n, 0);
}
