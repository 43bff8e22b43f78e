//! Coordinated breakers against reference models.
//!
//! - The dependency map against a model written from `docs/semantics/coordination.md`: errors in
//!   the documented order (out-of-range edges, cycles found by depth-first search), and the
//!   watched sets by breadth-first search with hop counts, for random edge lists and bounds.
//! - A coordinated set against a reference made of plain `ProfiledBreaker`s: before each decision
//!   of a reference node, the test computes the rule itself (is a node within `max_depth` hops
//!   down?) and switches the node to its tight profile or to the operator's, then decides. Every
//!   decision, record and snapshot must agree, under random outcomes, kept permits recorded late,
//!   time steps, operator transitions and operator profile switches.
//!
//! `PROPTEST_CASES` sets the number of cases (default 256).
#![cfg(not(loom))]

use std::collections::VecDeque;

use portcullis::breaker::{BreakerConfig, Permit, Rejected, State, TIME_RESOLUTION};
use portcullis::coord::{Coordinated, DependencyMap};
use portcullis::profile::{BreakerProfiles, ProfiledBreaker};
use portcullis::window::{CountWindow, Outcome};
use portcullis::{ConfigError, Nanos};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(256)
}

const TICK: u64 = TIME_RESOLUTION.as_u64();

// ---- the map ----

const M: usize = 6;

/// The map's errors and watched sets, from the documentation.
fn model_map<const K: usize>(
    edges: &[(usize, usize)],
    depth: u32,
) -> Result<[u64; K], ConfigError> {
    if depth == 0 {
        return Err(ConfigError::ZeroCount { field: "max_depth" });
    }
    let max = K as u64 - 1;
    for &(a, b) in edges {
        if a >= K {
            return Err(ConfigError::OutOfRange { field: "dependent", min: 0, max, got: a as u64 });
        }
        if b >= M {
            return Err(ConfigError::OutOfRange {
                field: "dependency",
                min: 0,
                max,
                got: b as u64,
            });
        }
    }
    let next = |i: usize| edges.iter().filter(move |e| e.0 == i).map(|e| e.1);
    // A node is on a cycle if a depth-first search from its dependencies comes back to it.
    for start in 0..K {
        let mut stack: Vec<usize> = next(start).collect();
        let mut seen = [false; K];
        while let Some(n) = stack.pop() {
            if n == start {
                return Err(ConfigError::DependencyCycle { node: start as u64 });
            }
            if !seen[n] {
                seen[n] = true;
                stack.extend(next(n));
            }
        }
    }
    let mut watched = [0u64; K];
    for (i, w) in watched.iter_mut().enumerate() {
        // Hop counts by breadth-first search.
        let mut dist = [u32::MAX; K];
        let mut queue = VecDeque::from([(i, 0u32)]);
        while let Some((n, d)) = queue.pop_front() {
            for m in next(n) {
                if dist[m] == u32::MAX {
                    dist[m] = d + 1;
                    queue.push_back((m, d + 1));
                }
            }
        }
        *w = (0..K).filter(|&j| dist[j] <= depth).map(|j| 1u64 << j).sum();
    }
    Ok(watched)
}

fn edges() -> impl Strategy<Value = Vec<(usize, usize)>> {
    prop_oneof![
        // Any pairs, some out of range: cycles and errors.
        prop::collection::vec((0..M + 2, 0..M + 2), 0..10),
        // Pairs from a lower to a higher node: acyclic.
        prop::collection::vec((0..M, 0..M), 0..12).prop_map(|v| {
            v.into_iter().filter(|(a, b)| a != b).map(|(a, b)| (a.min(b), a.max(b))).collect()
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn map_matches_model(edges in edges(), depth in 0u32..8, downs in prop::collection::vec(0u64..64, 1..8)) {
        let real = DependencyMap::<M>::new(&edges, depth);
        match model_map::<M>(&edges, depth) {
            Err(e) => prop_assert_eq!(real.unwrap_err(), e),
            Ok(watched) => {
                let real = real.unwrap();
                for (i, &w) in watched.iter().enumerate() {
                    prop_assert_eq!(real.watched(i), w, "node {}", i);
                }
                for down in downs {
                    let expected: u64 =
                        (0..M).filter(|&i| watched[i] & down != 0).map(|i| 1u64 << i).sum();
                    prop_assert_eq!(real.tightened(down), expected);
                }
            }
        }
    }
}

// ---- the coordinated set ----

const N: usize = 4;
const W: usize = 4;
const W_CALLS: u32 = 4;
const _: () = assert!(W_CALLS as usize == W);
type Node = ProfiledBreaker<CountWindow<W>, 2>;
type NodePermit<'a> = Permit<'a, CountWindow<W>, BreakerProfiles<2>>;

fn ticks(n: u64) -> Nanos {
    Nanos::new(n * TICK)
}

prop_compose! {
    /// A profile; the half-open rules and the seed come from `shared`.
    fn profile(shared: (u32, u32, u64))(
        consecutive in prop::option::of(1..4u32),
        rate in prop::option::of(prop_oneof![Just(250_000u32), Just(500_000), Just(1_000_000)]),
        min_calls in 1..=W_CALLS,
        open in 1..8u64,
        growth in 0..3u32,
        jitter in prop_oneof![Just(0u32), Just(500_000)],
        timeout in 1..10u64,
    ) -> BreakerConfig {
        let (probes, successes, seed) = shared;
        BreakerConfig {
            consecutive_failures: consecutive,
            failure_rate_ppm: rate,
            min_calls,
            open_duration: ticks(open),
            max_open_duration: ticks(open << growth),
            jitter_ppm: jitter,
            seed,
            half_open_probes: probes,
            successes_to_close: successes,
            probe_timeout: ticks(timeout),
            ..BreakerConfig::DEFAULT
        }
    }
}

fn node_profiles() -> impl Strategy<Value = [BreakerConfig; 2]> {
    (1..3u32, 0..3u32, any::<u64>())
        .prop_flat_map(|(probes, s, seed)| {
            let shared = (probes, 1 + s % probes, seed);
            (profile(shared), profile(shared))
        })
        .prop_map(|(a, b)| [a, b])
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Call(usize, Outcome),
    Acquire(usize),
    Record(usize, Outcome),
    Advance(u64),
    ForceOpen(usize),
    ForceClose(usize),
    Disable(usize),
    Switch(usize, usize),
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![3 => Just(Outcome::Failure), 2 => Just(Outcome::Success)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0..N, outcome()).prop_map(|(n, o)| Op::Call(n, o)),
        2 => (0..N).prop_map(Op::Acquire),
        2 => (any::<usize>(), outcome()).prop_map(|(k, o)| Op::Record(k, o)),
        4 => (0..3 * TICK).prop_map(Op::Advance),
        1 => (0..N).prop_map(Op::ForceOpen),
        1 => (0..N).prop_map(Op::ForceClose),
        1 => (0..N).prop_map(Op::Disable),
        1 => (0..N, 0..2usize).prop_map(|(n, i)| Op::Switch(n, i)),
    ]
}

fn dag() -> impl Strategy<Value = Vec<(usize, usize)>> {
    prop::collection::vec((0..N, 0..N), 0..6).prop_map(|v| {
        v.into_iter().filter(|(a, b)| a != b).map(|(a, b)| (a.min(b), a.max(b))).collect()
    })
}

/// A decision as seen from outside.
#[derive(Debug, PartialEq)]
enum Seen {
    Admit { generation: u32, probe: bool, transition: portcullis::breaker::Transition },
    Reject(Rejected),
}

fn seen(r: &Result<NodePermit<'_>, Rejected>) -> Seen {
    match r {
        Ok(p) => Seen::Admit {
            generation: p.generation(),
            probe: p.is_probe(),
            transition: p.transition(),
        },
        Err(r) => Seen::Reject(*r),
    }
}

/// The reference: plain breakers, the rule computed by the test.
struct Reference<'a> {
    nodes: &'a [Node; N],
    watched: [u64; N],
    operator: [usize; N],
}

impl Reference<'_> {
    /// Puts node `i` in the profile the rule gives.
    fn apply_rule(&self, i: usize) {
        let down = |s: State| matches!(s, State::Open | State::HalfOpen | State::ForcedOpen);
        let tight = (0..N).any(|j| self.watched[i] & (1 << j) != 0 && down(self.nodes[j].state()));
        let index = if tight { 1 } else { self.operator[i] };
        self.nodes[i].switch_profile_index(index).unwrap();
    }
}

fn build(profiles: &[[BreakerConfig; 2]; N]) -> [Node; N] {
    core::array::from_fn(|i| {
        Node::with_profiles([("normal", profiles[i][0]), ("tight", profiles[i][1])]).unwrap()
    })
}

#[allow(clippy::needless_pass_by_value, reason = "proptest values")]
#[allow(
    clippy::many_single_char_names,
    reason = "c: coordinated, r: reference, t: time, p/q: permits"
)]
fn run(
    profiles: &[[BreakerConfig; 2]; N],
    edges: Vec<(usize, usize)>,
    depth: u32,
    ops: Vec<Op>,
) -> Result<(), TestCaseError> {
    let map = DependencyMap::<N>::new(&edges, depth).unwrap();
    let c = Coordinated::new(map, build(profiles)).unwrap();
    let ref_nodes = build(profiles);
    // The reference computes the watched sets with the model, not with the map under test.
    let watched = model_map::<N>(&edges, depth).unwrap();
    let mut r = Reference { nodes: &ref_nodes, watched, operator: [0; N] };
    let mut now = 0u64;
    let mut kept: Vec<(usize, NodePermit<'_>, NodePermit<'_>)> = Vec::new();
    for op in ops {
        let t = Nanos::new(now);
        match op {
            Op::Call(i, _) | Op::Acquire(i) => {
                let node = c.node(i).unwrap();
                let real = node.try_acquire(t);
                r.apply_rule(i);
                let expected = ref_nodes[i].try_acquire(t);
                prop_assert_eq!(seen(&real), seen(&expected), "node {} at {}", i, now);
                if let (Ok(p), Ok(q)) = (real, expected) {
                    if let Op::Call(_, o) = op {
                        let got = node.record(p, o, t);
                        r.apply_rule(i);
                        prop_assert_eq!(got, q.record(o, t));
                    } else if kept.len() < 6 {
                        kept.push((i, p, q));
                    }
                }
            }
            Op::Record(k, o) if !kept.is_empty() => {
                let (i, p, q) = kept.remove(k % kept.len());
                let got = c.node(i).unwrap().record(p, o, t);
                r.apply_rule(i);
                prop_assert_eq!(got, q.record(o, t));
            }
            Op::Record(..) => {}
            Op::Advance(d) => now += d,
            Op::ForceOpen(i) => {
                prop_assert_eq!(
                    c.node(i).unwrap().breaker().force_open(),
                    ref_nodes[i].force_open()
                );
            }
            Op::ForceClose(i) => {
                prop_assert_eq!(
                    c.node(i).unwrap().breaker().force_close(),
                    ref_nodes[i].force_close()
                );
            }
            Op::Disable(i) => {
                prop_assert_eq!(c.node(i).unwrap().breaker().disable(), ref_nodes[i].disable());
            }
            Op::Switch(i, index) => {
                c.node(i).unwrap().breaker().switch_profile_index(index).unwrap();
                r.operator[i] = index;
            }
        }
        let t = Nanos::new(now);
        let mut down = 0u64;
        for (i, reference) in ref_nodes.iter().enumerate() {
            let node = c.node(i).unwrap();
            let mut a = node.breaker().snapshot(t);
            let mut b = reference.snapshot(t);
            // The reference's index is the rule's; the coordinated node's is the operator's.
            prop_assert_eq!(a.profile as usize, r.operator[i]);
            a.profile = 0;
            b.profile = 0;
            prop_assert_eq!(a, b, "node {}", i);
            if matches!(a.state, State::Open | State::HalfOpen | State::ForcedOpen) {
                down |= 1 << i;
            }
        }
        prop_assert_eq!(c.down(), down);
        prop_assert_eq!(c.tightened(), map.tightened(down));
        for i in 0..N {
            let node = c.node(i).unwrap();
            let tight = r.watched[i] & down != 0;
            prop_assert_eq!(node.is_tightened(), tight);
            prop_assert_eq!(node.effective_profile(), if tight { 1 } else { r.operator[i] });
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn coordinated_set_matches_reference(
        profiles in prop::array::uniform4(node_profiles()),
        edges in dag(),
        depth in 1u32..4,
        ops in prop::collection::vec(op(), 1..150),
    ) {
        run(&profiles, edges, depth, ops)?;
    }
}

/// The generated runs do tighten nodes and do trip them while tightened (a check that never
/// leaves the normal profiles would prove little).
#[test]
fn generated_runs_tighten_and_trip_tightened_nodes() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut tightened, mut trips_while_tight) = (0u32, 0u32);
    for _ in 0..64 {
        let profiles =
            prop::array::uniform4(node_profiles()).new_tree(&mut runner).unwrap().current();
        let ops = prop::collection::vec(op(), 100..150).new_tree(&mut runner).unwrap().current();
        let map = DependencyMap::<N>::new(&[(0, 1), (1, 2), (2, 3)], 3).unwrap();
        let c = Coordinated::new(map, build(&profiles)).unwrap();
        let mut now = 0;
        for op in ops {
            if let Op::Call(i, o) = op {
                let node = c.node(i).unwrap();
                let tight = node.is_tightened();
                tightened += u32::from(tight);
                if let Ok(p) = node.try_acquire(Nanos::new(now)) {
                    let r = node.record(p, o, Nanos::new(now));
                    if tight && r.transition == portcullis::breaker::Transition::Opened {
                        trips_while_tight += 1;
                    }
                }
            } else if let Op::Advance(d) = op {
                now += d;
            }
        }
    }
    assert!(tightened > 100 && trips_while_tight > 10, "{tightened} {trips_while_tight}");
}
