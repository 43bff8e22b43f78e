//! Proof that the hedging, deadline and health policies never allocate: a counting global
//! allocator, armed per thread, around every path of the histograms, the hedge policy and budget,
//! the deadline arithmetic and header codecs (success and every error), and the health machine
//! and aggregate.

use super::allocations_in;
use portcullis::deadline::{
    Deadline, decode_grpc_timeout, decode_timeout_millis, encode_grpc_timeout,
    encode_timeout_millis,
};
use portcullis::health::{CheckKind, CheckSpec, HealthAggregate, HealthConfig, HealthMachine};
use portcullis::hedge::{HedgeBudget, HedgeConfig, HedgePolicy};
use portcullis::histogram::{Histogram, RollingHistogram};
use portcullis::{Clock, ManualClock, Nanos};

#[test]
fn histograms_never_allocate() {
    let n = allocations_in(|| {
        let h = Histogram::<32, 36>::new();
        let r = RollingHistogram::<32, 36>::new(Nanos::from_millis(10)).unwrap();
        let clock = ManualClock::new(Nanos::ZERO);
        for i in 0..20_000u64 {
            let v = Nanos::new(i.wrapping_mul(0x9E37_79B9) >> (i % 40));
            h.record(v);
            r.record(v, clock.now());
            clock.advance(Nanos::new(if i % 5_000 == 0 { 1 << 30 } else { 997 }));
            if i % 1_000 == 0 {
                let _ = std::hint::black_box(h.percentiles(&[0, 500_000, 990_000, 1_000_000]));
                let _ = std::hint::black_box(r.percentiles(&[500_000, 950_000], clock.now()));
                let _ = std::hint::black_box((h.percentile(999_000), r.percentile(1, clock.now())));
                let _ = std::hint::black_box((h.count(), h.overflow_count(), r.count(Nanos::ZERO)));
                let _ = std::hint::black_box(h.bucket_range(v));
                let _ = std::hint::black_box((h.snapshot(), r.snapshot(clock.now())));
                let _ = std::hint::black_box(h.count_above(Nanos::from_micros(50)));
            }
        }
        h.record(Nanos::MAX);
        let _ = std::hint::black_box(h.percentile(1_000_000));
        h.reset();
        r.reset();
        let _ = std::hint::black_box((h.percentile(1), r.percentile(1, clock.now())));
        let _ = std::hint::black_box(RollingHistogram::<4, 4>::new(Nanos::ZERO).unwrap_err());
    });
    assert_eq!(n, 0);
}

#[test]
fn hedging_never_allocates() {
    let n = allocations_in(|| {
        let p: HedgePolicy =
            HedgePolicy::new(HedgeConfig { min_samples: 10, ..HedgeConfig::DEFAULT }).unwrap();
        let clock = ManualClock::new(Nanos::from_secs(1));
        for i in 0..20_000u64 {
            p.on_call();
            let mut sent = 0;
            while let portcullis::hedge::HedgeDecision::HedgeAfter(d) = p.decide(sent, clock.now())
            {
                let _ = std::hint::black_box(d);
                if p.try_launch(sent).is_err() {
                    break;
                }
                sent += 1;
            }
            let _ = std::hint::black_box(p.try_launch(sent));
            let deadline = Deadline::after(clock.now(), Nanos::from_millis(i % 100));
            let _ = std::hint::black_box(p.decide_before(0, clock.now(), deadline));
            p.record_latency(Nanos::from_micros(100 + i % 900), clock.now());
            clock.advance(Nanos::from_micros(if i % 3_000 == 0 { 20_000_000 } else { 70 }));
            if i % 7_000 == 0 {
                clock.set(clock.now().saturating_sub(Nanos::from_secs(3))); // backwards
            }
        }
        let b = HedgeBudget::new(20_000, 1).unwrap();
        let _ = std::hint::black_box((
            b.try_withdraw(),
            b.try_withdraw(),
            b.available(),
            b.balance_ppm(),
        ));
        b.deposit();
        let _ = std::hint::black_box(HedgeBudget::new(2_000_000, 1).unwrap_err());
        let _ = std::hint::black_box(
            HedgePolicy::<4, 4>::new(HedgeConfig { max_hedges: 0, ..HedgeConfig::DEFAULT })
                .unwrap_err(),
        );
        let _ = std::hint::black_box(HedgeConfig::DEFAULT.delay_for(
            1_000,
            Nanos::new(5),
            Nanos::new(9),
        ));
    });
    assert_eq!(n, 0);
}

#[test]
fn deadlines_and_headers_never_allocate() {
    let n = allocations_in(|| {
        let mut buf = [0u8; 16];
        for i in 0..10_000u64 {
            let now = Nanos::new(i * 1_000);
            let d =
                Deadline::after(now, Nanos::new(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (i % 64)));
            let _ = std::hint::black_box((d.remaining(now), d.is_expired(now), d.is_never()));
            let _ = std::hint::black_box((
                d.child(Nanos::new(500)),
                d.child_with_timeout(now, Nanos::new(9), Nanos::new(i)),
            ));
            let _ =
                std::hint::black_box((d.split(now, 3), d.next_hop(now, 2), d.min(Deadline::NEVER)));
            let _ = std::hint::black_box(d.retry_after(now, Nanos::new(i), Nanos::new(10)));
            if let Ok(n) = d.to_grpc_timeout(now, &mut buf) {
                let _ = std::hint::black_box(decode_grpc_timeout(&buf[..n]).unwrap());
                let _ = std::hint::black_box(Deadline::from_grpc_timeout(now, &buf[..n]).unwrap());
            }
            if let Ok(n) = encode_timeout_millis(Nanos::new(i * 1_234_567), &mut buf) {
                let _ = std::hint::black_box(decode_timeout_millis(&buf[..n]).unwrap());
            }
        }
        // Every error path.
        for bad in [&b""[..], b"1", b"m", b"1s", b"123456789n", b"-1S", b"99999999H"] {
            let _ = std::hint::black_box(decode_grpc_timeout(bad).unwrap_err());
        }
        for bad in [&b""[..], b"x", b"99999999999999999999"] {
            let _ = std::hint::black_box(decode_timeout_millis(bad).unwrap_err());
        }
        let _ = std::hint::black_box(encode_grpc_timeout(Nanos::ZERO, &mut buf).unwrap_err());
        let _ = std::hint::black_box(encode_grpc_timeout(Nanos::MAX, &mut [0u8; 2]).unwrap_err());
        let _ = std::hint::black_box(encode_timeout_millis(Nanos::new(5), &mut buf).unwrap_err());
        let _ = std::hint::black_box(encode_timeout_millis(Nanos::MAX, &mut [0u8; 2]).unwrap_err());
        let _ = std::hint::black_box(
            Deadline::at(Nanos::ZERO).to_grpc_timeout(Nanos::new(1), &mut buf).unwrap_err(),
        );
    });
    assert_eq!(n, 0);
}

#[test]
fn health_never_allocates() {
    let n = allocations_in(|| {
        let c = HealthConfig {
            degrade_after: [1, 2, 3],
            recover_after: [2, 3, 4],
            ..HealthConfig::DEFAULT
        };
        let m = HealthMachine::new(c).unwrap();
        let agg = HealthAggregate::new([
            CheckSpec { name: "live", kind: CheckKind::Liveness, config: c },
            CheckSpec { name: "start", kind: CheckKind::Startup, config: c },
            CheckSpec { name: "ready", kind: CheckKind::Readiness, config: c },
            CheckSpec { name: "db", kind: CheckKind::Dependency { critical: true }, config: c },
            CheckSpec { name: "cache", kind: CheckKind::Dependency { critical: false }, config: c },
        ])
        .unwrap();
        for i in 0..10_000u64 {
            let ok = (i / 7) % 3 != 0;
            let now = Nanos::from_millis(i);
            let _ = std::hint::black_box(m.record(ok, now));
            let _ = std::hint::black_box((m.state(), m.next_check(now), m.snapshot()));
            #[allow(clippy::cast_possible_truncation)]
            let _ = std::hint::black_box(agg.record((i % 6) as usize, ok, now));
            let _ = std::hint::black_box((
                agg.status(),
                agg.find("db").map(HealthMachine::state),
                agg.check(9).is_none(),
            ));
        }
        m.reset();
        let _ = std::hint::black_box(
            HealthMachine::new(HealthConfig { recover_after: [1, 1, 1], ..c }).unwrap_err(),
        );
    });
    assert_eq!(n, 0);
}
