//! Proof that coordinated breakers never allocate: the counting allocator around the map's
//! construction (including every error), the pure propagation, and a coordinated chain through
//! trips, tightened decisions, probes and recoveries.

use portcullis::Nanos;
use portcullis::breaker::BreakerConfig;
use portcullis::coord::{Coordinated, DependencyMap};
use portcullis::profile::ProfiledBreaker;
use portcullis::window::{CountWindow, Outcome};

use super::allocations_in;

#[test]
fn coordination_never_allocates() {
    let normal = BreakerConfig {
        consecutive_failures: Some(4),
        open_duration: Nanos::from_millis(20),
        max_open_duration: Nanos::from_millis(80),
        probe_timeout: Nanos::from_millis(50),
        ..BreakerConfig::DEFAULT
    };
    let tight = BreakerConfig { consecutive_failures: Some(1), ..normal };
    let n = allocations_in(|| {
        assert!(DependencyMap::<0>::new(&[], 1).is_err());
        assert!(DependencyMap::<3>::new(&[(0, 1)], 0).is_err());
        assert!(DependencyMap::<3>::new(&[(0, 5)], 1).is_err());
        assert!(DependencyMap::<3>::new(&[(0, 1), (1, 2), (2, 0)], 1).is_err());
        let map = DependencyMap::<3>::new(&[(0, 1), (1, 2)], 2).unwrap();
        for down in 0..8 {
            std::hint::black_box(map.tightened(down));
        }
        let node = || {
            ProfiledBreaker::<CountWindow<8>, 2>::with_profiles([
                ("normal", normal),
                ("tight", tight),
            ])
            .unwrap()
        };
        let c = Coordinated::new(map, [node(), node(), node()]).unwrap();
        let sized = ProfiledBreaker::<CountWindow<8>, 2>::with_profiles_and_window_size(
            [("normal", normal), ("tight", tight)],
            4,
        );
        std::hint::black_box(sized.unwrap());
        for i in 0..20_000u64 {
            let now = Nanos::from_millis(i / 3);
            let node = c.node(usize::try_from(i % 3).unwrap()).unwrap();
            let outcome =
                if (i / 500) % 2 == 0 || i % 11 == 0 { Outcome::Success } else { Outcome::Failure };
            if let Ok(p) = node.try_acquire(now) {
                if i % 2 == 0 {
                    let _ = std::hint::black_box(node.record(p, outcome, now));
                } else {
                    let token = p.into_token();
                    let _ = std::hint::black_box(node.record_token(token, outcome, now));
                }
            }
            std::hint::black_box((node.is_tightened(), node.effective_profile(), c.tightened()));
            std::hint::black_box(node.classify(false, Nanos::from_millis(3)));
        }
    });
    assert_eq!(n, 0);
}
