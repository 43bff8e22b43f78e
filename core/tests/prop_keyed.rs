//! The keyed table against a sequential reference model (an array of optional keys probed the
//! same way), driven by random lookups and finds over a small key space so that homes collide
//! and tables fill; and per-key isolation of the primitives behind the entries.
#![cfg(not(loom))]

use portcullis::Nanos;
use portcullis::bulkhead::Bulkhead;
use portcullis::keyed::KeyedLimiter;
use portcullis::keyed::{KEY_ZERO_ALIAS, Keyed, Placement};
use portcullis::limiter::{Quota, RateLimiterConfig};
use portcullis::rng::SplitMix64;
use proptest::prelude::*;

/// Case count: `PROPTEST_CASES` when set (CI sizes it), else 256.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256);
    ProptestConfig::with_cases(cases)
}

const N: usize = 8;

/// The rule of `docs/semantics/keyed.md`, on plain data.
struct Model {
    slots: [Option<u64>; N],
    max_probe: usize,
    overflows: u64,
}

impl Model {
    fn stored(key: u64) -> u64 {
        if key == 0 { KEY_ZERO_ALIAS } else { key }
    }

    /// The slot index the key owns (`Some`), or `None` for the overflow entry.
    fn get(&mut self, key: u64) -> (Placement, Option<usize>) {
        let want = Self::stored(key);
        let home = Keyed::<Bulkhead, N>::home_slot(key);
        for i in 0..self.max_probe {
            let s = (home + i) % N;
            match self.slots[s] {
                Some(k) if k == want => return (Placement::Existing, Some(s)),
                None => {
                    self.slots[s] = Some(want);
                    return (Placement::Inserted, Some(s));
                }
                Some(_) => {}
            }
        }
        self.overflows += 1;
        (Placement::Overflow, None)
    }

    fn find(&self, key: u64) -> Option<usize> {
        let want = Self::stored(key);
        let home = Keyed::<Bulkhead, N>::home_slot(key);
        (0..self.max_probe).map(|i| (home + i) % N).find(|&s| self.slots[s] == Some(want))
    }
}

#[derive(Clone, Debug)]
enum Op {
    Get(u64),
    Find(u64),
}

fn key() -> impl Strategy<Value = u64> {
    prop_oneof![8 => 0u64..24, 1 => Just(u64::MAX), 1 => any::<u64>()]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![3 => key().prop_map(Op::Get), 1 => key().prop_map(Op::Find)]
}

proptest! {
    #![proptest_config(config())]

    /// Placement, slot identity, occupancy and overflow counts match the model after every
    /// operation; a key, once placed in a slot, keeps it.
    #[test]
    fn table_matches_model(max_probe in 1usize..=N, ops in prop::collection::vec(op(), 1..80)) {
        let table = Keyed::<Bulkhead, N>::bulkheads(max_probe, 1).unwrap();
        let mut model = Model { slots: [None; N], max_probe, overflows: 0 };
        let mut owner = std::collections::HashMap::<u64, usize>::new();
        for op in ops {
            match op {
                Op::Get(k) => {
                    let e = table.entry(k);
                    let (placement, slot) = model.get(k);
                    prop_assert_eq!(e.placement(), placement);
                    let addr = std::ptr::from_ref(e.get()) as usize;
                    match slot {
                        Some(_) => {
                            // The first placement fixes the key's primitive for good.
                            let known = *owner.entry(Model::stored(k)).or_insert(addr);
                            prop_assert_eq!(known, addr, "key {} moved", k);
                            prop_assert!(!std::ptr::eq(e.get(), table.overflow_entry()));
                        }
                        None => prop_assert!(std::ptr::eq(e.get(), table.overflow_entry())),
                    }
                }
                Op::Find(k) => {
                    let found = table.find(k).map(|b| std::ptr::from_ref(b) as usize);
                    prop_assert_eq!(found.is_some(), model.find(k).is_some());
                    if let Some(a) = found {
                        prop_assert_eq!(Some(&a), owner.get(&Model::stored(k)));
                    }
                }
            }
            let snap = table.snapshot();
            prop_assert_eq!(snap.occupied, model.slots.iter().flatten().count());
            prop_assert_eq!(snap.overflows, model.overflows);
            let mut keys: Vec<u64> = table.iter().map(|(k, _)| k).collect();
            let mut expect: Vec<u64> = model.slots.iter().flatten().copied().collect();
            keys.sort_unstable();
            expect.sort_unstable();
            prop_assert_eq!(keys, expect, "no key is stored twice, none is lost");
        }
    }
}

/// One tenant exhausting its quota leaves the others untouched; overflowed keys share one.
#[test]
fn tenants_are_isolated_and_overflow_is_shared() {
    let quota = Quota::per_second(1, 2).unwrap();
    let t = KeyedLimiter::<4>::limiters(4, RateLimiterConfig::new(quota), Nanos::ZERO).unwrap();
    for key in 1..=4 {
        assert!(t.get(key).try_acquire(Nanos::ZERO).is_admitted());
        assert!(t.get(key).try_acquire(Nanos::ZERO).is_admitted());
        assert!(!t.get(key).try_acquire(Nanos::ZERO).is_admitted(), "key {key} spent");
    }
    // The table is full: keys 5 and 6 share the overflow limiter's burst of 2.
    assert!(t.entry(5).is_overflow());
    assert!(t.get(5).try_acquire(Nanos::ZERO).is_admitted());
    assert!(t.get(6).try_acquire(Nanos::ZERO).is_admitted());
    assert!(!t.get(6).try_acquire(Nanos::ZERO).is_admitted());
    // Time refills every key on its own.
    assert!(t.get(1).try_acquire(Nanos::from_secs(1)).is_admitted());
    assert_eq!(t.snapshot().occupied, 4);
}

/// Overflows at 75 % fill by probe bound: 16 tables of 1,024 bulkheads, 768 random keys each
/// (SplitMix64 seeds 0..16), then 768 sequential ids. The numbers printed are the ones quoted
/// in `docs/semantics/keyed.md`
/// (`cargo test -p portcullis --test prop_keyed overflow_by_probe_bound -- --nocapture`).
#[test]
fn overflow_by_probe_bound() {
    // A table of 1,024 bulkheads is about 260 KiB: built on a thread with room for it.
    std::thread::Builder::new()
        .stack_size(16 << 20)
        .spawn(overflows_at_three_quarters)
        .unwrap()
        .join()
        .unwrap();
}

fn overflows_at_three_quarters() {
    let mut totals = Vec::new();
    for probe in [8, 16, 32, 64] {
        let mut total = 0;
        let mut worst = 0;
        for seed in 0..16 {
            let t = Keyed::<Bulkhead, 1024>::bulkheads(probe, 1).unwrap();
            let mut rng = SplitMix64::new(seed);
            for _ in 0..768 {
                t.get(rng.next_u64());
            }
            let overflows = t.snapshot().overflows;
            assert_eq!(t.snapshot().occupied as u64 + overflows, 768);
            total += overflows;
            worst = worst.max(overflows);
        }
        println!(
            "max_probe {probe:>2}: {total:>3} overflows in 16 x 768 keys (worst table {worst})"
        );
        totals.push(total);
    }
    assert!(totals.windows(2).all(|w| w[1] <= w[0]), "a longer probe never overflows more");
    // 0.06 per table expected at max_probe 64 (linear probing at load 3/4).
    assert!(totals[3] <= 4, "{totals:?}");
    // Sequential ids, the worst case for a weak hash, spread by Fibonacci hashing.
    let seq = Keyed::<Bulkhead, 1024>::bulkheads(8, 1).unwrap();
    for k in 1..=768 {
        assert!(!seq.entry(k).is_overflow(), "sequential key {k}");
    }
}

/// Memory is fixed by the type: `N` key words, `N + 1` primitives and one padded counter line
/// (the sizes quoted in `docs/semantics/keyed.md`, printed by
/// `cargo test -p portcullis --test prop_keyed memory_is_bounded_by_the_type -- --nocapture`).
#[test]
fn memory_is_bounded_by_the_type() {
    use std::mem::size_of;
    fn expect<T, const N: usize>() -> usize {
        let raw = 8 * N + (N + 1) * size_of::<T>() + 128 + size_of::<usize>();
        raw.next_multiple_of(std::mem::align_of::<Keyed<T, N>>())
    }
    let limiter = size_of::<KeyedLimiter<1024>>();
    let bulkhead = size_of::<Keyed<Bulkhead, 1024>>();
    let breaker = size_of::<Keyed<portcullis::CountBreaker<64>, 1024>>();
    println!(
        "RateLimiter {} B, KeyedLimiter<1024> {limiter} B",
        size_of::<portcullis::limiter::RateLimiter>()
    );
    println!("Bulkhead {} B, KeyedBulkhead<1024> {bulkhead} B", size_of::<Bulkhead>());
    println!(
        "CountBreaker<64> {} B, KeyedBreaker<_, 1024> {breaker} B",
        size_of::<portcullis::CountBreaker<64>>()
    );
    assert_eq!(limiter, expect::<portcullis::limiter::RateLimiter, 1024>());
    assert_eq!(bulkhead, expect::<Bulkhead, 1024>());
    assert_eq!(breaker, expect::<portcullis::CountBreaker<64>, 1024>());
}
