//! Coordinated breakers: a small fixed dependency map between breakers, so that a dependency's
//! trip tightens the breakers of the services that depend on it.
//!
//! [`DependencyMap<N>`] says which of `N` breakers depends on which (an acyclic graph, checked at
//! construction) and how far a trip propagates (`max_depth` hops). [`Coordinated<W, P, N>`] owns
//! `N` [`ProfiledBreaker`]s and applies one pure rule at every decision: a breaker decides with
//! its **last profile** (its tightened one) while any breaker it depends on, within `max_depth`
//! hops, is down (open, half-open or forced open); otherwise with the profile its operator put in
//! force. Nothing is stored by the propagation itself: a decision reads the state words of the
//! breakers it watches, so a dependency's recovery releases its dependents at their next decision,
//! and no update can be lost or applied out of order.
//!
//! The rule, its bounds, recovery, cycles and the comparison with uncoordinated breakers are in
//! `docs/semantics/coordination.md`, included below.
#![doc = include_str!("../../docs/semantics/coordination.md")]

use crate::breaker::sealed::Sealed;
use crate::breaker::{BreakerConfig, Permit, PermitToken, Recorded, Rejected, State, Weight};
use crate::clock::Nanos;
use crate::error::ConfigError;
use crate::profile::{BreakerProfiles, ProfiledBreaker};
use crate::window::{Outcome, Window};

/// The most breakers one map can hold: a node set is one 64-bit mask.
pub const MAX_NODES: usize = 64;

/// Which of `N` breakers depends on which, and how far a trip propagates.
///
/// # Semantics
///
/// An edge `(dependent, dependency)` says that the service behind breaker `dependent` calls the
/// service behind breaker `dependency`, so that the second's failure soon becomes the first's.
/// Node `i` *watches* the nodes it reaches by following at most `max_depth` edges (its
/// dependencies, their dependencies, …): while one of them is down, `i` is tightened. A node
/// never watches itself: the map must be acyclic.
///
/// # Examples
///
/// ```
/// use portcullis::ConfigError;
/// use portcullis::coord::DependencyMap;
/// // 0 (checkout) -> 1 (payments) -> 2 (fraud scoring)
/// let map = DependencyMap::<3>::new(&[(0, 1), (1, 2)], 2).unwrap();
/// assert_eq!(map.watched(0), 0b110); // payments, and fraud scoring two hops away
/// assert_eq!(map.watched(1), 0b100);
/// assert_eq!(map.watched(2), 0);
/// assert_eq!(map.tightened(0b100), 0b011); // fraud scoring down: both callers tighten
/// let one_hop = DependencyMap::<3>::new(&[(0, 1), (1, 2)], 1).unwrap();
/// assert_eq!(one_hop.tightened(0b100), 0b010);
/// assert_eq!(
///     DependencyMap::<3>::new(&[(0, 1), (1, 2), (2, 0)], 2).unwrap_err(),
///     ConfigError::DependencyCycle { node: 0 }
/// );
/// ```
///
/// # Panics
///
/// Never.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DependencyMap<const N: usize> {
    /// For each node, the mask of the nodes it watches.
    watched: [u64; N],
    max_depth: u32,
}

impl<const N: usize> DependencyMap<N> {
    /// A map of `N` nodes with `edges`, each `(dependent, dependency)`, propagating trips at most
    /// `max_depth` hops (a bound above `N − 1` is the whole transitive closure).
    ///
    /// # Errors
    ///
    /// In this order: [`ConfigError::ZeroCount`] (`nodes`) for `N = 0`;
    /// [`ConfigError::OutOfRange`] (`nodes`) for `N` above [`MAX_NODES`];
    /// [`ConfigError::ZeroCount`] (`max_depth`) for a bound of 0; [`ConfigError::OutOfRange`]
    /// (`dependent` or `dependency`, `max: N − 1`) for the first edge that names a node out of
    /// range; [`ConfigError::DependencyCycle`] with the smallest node on a cycle (an edge from a
    /// node to itself included). Duplicate edges are accepted.
    #[allow(clippy::indexing_slicing, reason = "every index is checked below N first")]
    pub const fn new(edges: &[(usize, usize)], max_depth: u32) -> Result<Self, ConfigError> {
        if N == 0 {
            return Err(ConfigError::ZeroCount { field: "nodes" });
        }
        if N > MAX_NODES {
            return Err(ConfigError::OutOfRange {
                field: "nodes",
                min: 1,
                max: MAX_NODES as u64,
                got: N as u64,
            });
        }
        if max_depth == 0 {
            return Err(ConfigError::ZeroCount { field: "max_depth" });
        }
        // One hop: the direct dependencies of each node.
        let mut direct = [0u64; N];
        let mut e = 0;
        while e < edges.len() {
            let (dependent, dependency) = edges[e];
            let max = N as u64 - 1;
            if dependent >= N {
                let got = dependent as u64;
                return Err(ConfigError::OutOfRange { field: "dependent", min: 0, max, got });
            }
            if dependency >= N {
                let got = dependency as u64;
                return Err(ConfigError::OutOfRange { field: "dependency", min: 0, max, got });
            }
            direct[dependent] |= 1 << dependency;
            e += 1;
        }
        // The transitive closure (Warshall's algorithm on bit rows): a node on a cycle reaches
        // itself.
        let mut closure = direct;
        let mut k = 0;
        while k < N {
            let mut i = 0;
            while i < N {
                if closure[i] & (1 << k) != 0 {
                    closure[i] |= closure[k];
                }
                i += 1;
            }
            k += 1;
        }
        let mut i = 0;
        while i < N {
            if closure[i] & (1 << i) != 0 {
                return Err(ConfigError::DependencyCycle { node: i as u64 });
            }
            i += 1;
        }
        // Breadth-first, one hop per round, at most `max_depth` rounds; acyclic, so a frontier
        // empties within N − 1 rounds whatever the bound.
        let mut watched = [0u64; N];
        let mut i = 0;
        while i < N {
            let mut seen = direct[i];
            let mut frontier = direct[i];
            let mut depth = 1;
            while depth < max_depth && frontier != 0 {
                let mut next = 0u64;
                let mut j = 0;
                while j < N {
                    if frontier & (1 << j) != 0 {
                        next |= direct[j];
                    }
                    j += 1;
                }
                frontier = next & !seen;
                seen |= next;
                depth += 1;
            }
            watched[i] = seen;
            i += 1;
        }
        Ok(DependencyMap { watched, max_depth })
    }

    /// The mask of the nodes `node` watches (0 for a node out of range).
    #[must_use]
    pub const fn watched(&self, node: usize) -> u64 {
        if node < N {
            #[allow(clippy::indexing_slicing, reason = "node < N")]
            self.watched[node]
        } else {
            0
        }
    }

    /// The nodes that are tightened while the nodes of `down` are down: node `i` is in the
    /// result exactly when `watched(i) & down != 0`. Pure.
    #[must_use]
    #[allow(clippy::indexing_slicing, reason = "i < N by the loop condition")]
    pub const fn tightened(&self, down: u64) -> u64 {
        let mut out = 0;
        let mut i = 0;
        while i < N {
            if self.watched[i] & down != 0 {
                out |= 1 << i;
            }
            i += 1;
        }
        out
    }

    /// The propagation bound given at construction.
    #[must_use]
    pub const fn max_depth(&self) -> u32 {
        self.max_depth
    }
}

/// Whether a breaker in `state` counts as down for the breakers that depend on it.
const fn is_down(state: State) -> bool {
    matches!(state, State::Open | State::HalfOpen | State::ForcedOpen)
}

/// `N` breakers, each with `P` profiles, coordinated by a [`DependencyMap`].
///
/// # Semantics
///
/// See the [module documentation](self). Every breaker is reached through a [`Node`]; its
/// decisions ([`Node::try_acquire`], [`Node::record`]) choose the profile by the rule, once per
/// decision. A permit recorded directly with [`Permit::record`] decides with the operator's
/// profile, without coordination.
///
/// # Examples
///
/// ```
/// use portcullis::Nanos;
/// use portcullis::breaker::{BreakerConfig, State, Transition};
/// use portcullis::coord::{Coordinated, DependencyMap};
/// use portcullis::profile::ProfiledBreaker;
/// use portcullis::window::{CountWindow, Outcome};
/// let normal = BreakerConfig { consecutive_failures: Some(5), ..BreakerConfig::DEFAULT };
/// let tight = BreakerConfig { consecutive_failures: Some(1), ..normal };
/// let node = || {
///     ProfiledBreaker::<CountWindow<8>, 2>::with_profiles([("normal", normal), ("tight", tight)])
///         .unwrap()
/// };
/// // 0 (the API) depends on 1 (the database).
/// let map = DependencyMap::<2>::new(&[(0, 1)], 1).unwrap();
/// let c = Coordinated::new(map, [node(), node()]).unwrap();
/// let (api, db) = (c.node(0).unwrap(), c.node(1).unwrap());
/// let t = Nanos::ZERO;
/// let _ = db.breaker().force_open(); // the database is down
/// assert!(api.is_tightened());
/// // One failure of the API now trips it, under its tight profile.
/// let p = api.try_acquire(t).unwrap();
/// assert_eq!(api.record(p, Outcome::Failure, t).transition, Transition::Opened);
/// assert_eq!(api.breaker().state(), State::Open);
/// ```
///
/// # Panics
///
/// Never.
#[derive(Debug)]
pub struct Coordinated<W, const P: usize, const N: usize> {
    map: DependencyMap<N>,
    nodes: [ProfiledBreaker<W, P>; N],
}

impl<W: Window, const P: usize, const N: usize> Coordinated<W, P, N> {
    /// Coordinates `nodes` (node `i` is `nodes[i]`) by `map`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::OutOfRange`] (`profiles`, `min: 2`) if `P < 2`: every breaker needs a
    /// tightened profile (its last) besides its normal one.
    pub fn new(
        map: DependencyMap<N>,
        nodes: [ProfiledBreaker<W, P>; N],
    ) -> Result<Self, ConfigError> {
        if P < 2 {
            return Err(ConfigError::OutOfRange {
                field: "profiles",
                min: 2,
                max: u64::MAX,
                got: P as u64,
            });
        }
        Ok(Coordinated { map, nodes })
    }

    /// The dependency map.
    #[must_use]
    pub const fn map(&self) -> &DependencyMap<N> {
        &self.map
    }

    /// Node `index`, or `None` if `index >= N`.
    #[must_use]
    pub fn node(&self, index: usize) -> Option<Node<'_, W, P, N>> {
        let breaker = self.nodes.get(index)?;
        Some(Node { coord: self, index, breaker })
    }

    /// The mask of the nodes that are down now (one load per node).
    #[must_use]
    pub fn down(&self) -> u64 {
        let mut mask = 0;
        for (i, b) in self.nodes.iter().enumerate() {
            if is_down(b.state()) {
                mask |= 1 << i;
            }
        }
        mask
    }

    /// The mask of the nodes that are tightened now: [`DependencyMap::tightened`] of
    /// [`down`](Self::down).
    #[must_use]
    pub fn tightened(&self) -> u64 {
        self.map.tightened(self.down())
    }

    /// Whether some node that `index` watches is down: one load per watched node, stopping at the
    /// first that is down.
    fn is_tightened(&self, index: usize) -> bool {
        let mut watched = self.map.watched(index);
        while watched != 0 {
            let j = watched.trailing_zeros() as usize;
            watched &= watched - 1;
            // `state` is an acquire load of j's state word: a trip of j that happened before
            // (the compare-and-swap that opened it) is seen by every decision that starts after.
            if self.nodes.get(j).is_some_and(|b| is_down(b.state())) {
                return true;
            }
        }
        false
    }
}

/// One breaker of a [`Coordinated`] set, with the coordinated decisions.
#[derive(Debug)]
pub struct Node<'c, W, const P: usize, const N: usize> {
    coord: &'c Coordinated<W, P, N>,
    index: usize,
    breaker: &'c ProfiledBreaker<W, P>,
}

impl<W, const P: usize, const N: usize> Clone for Node<'_, W, P, N> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<W, const P: usize, const N: usize> Copy for Node<'_, W, P, N> {}

impl<'c, W: Window, const P: usize, const N: usize> Node<'c, W, P, N> {
    /// The node's index.
    #[must_use]
    pub const fn index(&self) -> usize {
        self.index
    }

    /// The breaker, for snapshots, operator transitions and profile switches. Permits taken
    /// from it directly are not coordinated.
    #[must_use]
    pub const fn breaker(&self) -> &'c ProfiledBreaker<W, P> {
        self.breaker
    }

    /// Whether the node is tightened now: some node it watches is down.
    #[must_use]
    pub fn is_tightened(&self) -> bool {
        self.coord.is_tightened(self.index)
    }

    /// The index of the profile a decision would use now: the last while tightened, else the
    /// operator's.
    #[must_use]
    pub fn effective_profile(&self) -> usize {
        if self.is_tightened() { P - 1 } else { self.breaker.active_profile_index() }
    }

    /// The configuration of one decision, chosen by the rule.
    fn pick(self) -> &'c BreakerConfig {
        let profiles: &'c BreakerProfiles<P> = &self.breaker.config;
        if self.coord.is_tightened(self.index) { profiles.get(P - 1) } else { profiles.active() }
    }

    /// Asks the node's breaker to admit a call at `now`, as [`Breaker::try_acquire`]; a
    /// transition it makes (the end of an open period, a probe timeout) uses the profile the rule
    /// chooses. A closed breaker admits with one load and reads no other node.
    ///
    /// # Errors
    ///
    /// The breaker's [`Rejected`].
    ///
    /// [`Breaker::try_acquire`]: crate::breaker::Breaker::try_acquire
    pub fn try_acquire(&self, now: Nanos) -> Result<Permit<'c, W, BreakerProfiles<P>>, Rejected> {
        let node = *self;
        self.breaker.acquire(|| now, move || node.pick())
    }

    /// Records the outcome of a call this node admitted, deciding with the profile the rule
    /// chooses (read once, and only if the outcome counts). A permit of another breaker is not
    /// counted.
    pub fn record(
        &self,
        permit: Permit<'c, W, BreakerProfiles<P>>,
        outcome: Outcome,
        now: Nanos,
    ) -> Recorded {
        self.record_weighted(permit, outcome, Weight::ONE, now)
    }

    /// [`record`](Self::record) with a [`Weight`].
    pub fn record_weighted(
        &self,
        permit: Permit<'c, W, BreakerProfiles<P>>,
        outcome: Outcome,
        weight: Weight,
        now: Nanos,
    ) -> Recorded {
        if !permit.is_of(self.breaker) {
            drop(permit);
            return Recorded { transition: crate::breaker::Transition::None, counted: false };
        }
        let node = *self;
        permit.record_picked(outcome, weight, now, move || node.pick())
    }

    /// Records the outcome of the call a [`PermitToken`] of this node stands for, deciding with
    /// the profile the rule chooses, as [`record`](Self::record) does for a permit (see
    /// [`Breaker::record_token`] for what a token can and cannot check).
    ///
    /// [`Breaker::record_token`]: crate::breaker::Breaker::record_token
    pub fn record_token(&self, token: PermitToken, outcome: Outcome, now: Nanos) -> Recorded {
        let node = *self;
        self.breaker.record_token_picked(token, outcome, Weight::ONE, now, move || node.pick())
    }

    /// Releases the call a [`PermitToken`] of this node stands for without an outcome.
    pub fn ignore_token(&self, token: PermitToken) {
        self.breaker.ignore_token(token);
    }

    /// The [`Outcome`] of a call that `failed` or not and took `elapsed`, by the
    /// `slow_call_duration` of the profile the rule chooses.
    #[must_use]
    pub fn classify(&self, failed: bool, elapsed: Nanos) -> Outcome {
        let slow = self.pick().slow_call_duration.is_some_and(|limit| elapsed > limit);
        Outcome::from_parts(failed, slow)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    extern crate std;
    use super::*;
    use crate::breaker::{TIME_RESOLUTION, Transition};
    use crate::window::CountWindow;
    use std::string::ToString;

    const T0: Nanos = Nanos::ZERO;

    fn ticks(n: u64) -> Nanos {
        Nanos::new(n * TIME_RESOLUTION.as_u64())
    }

    fn cfg(n: u32, open: u64) -> BreakerConfig {
        BreakerConfig {
            consecutive_failures: Some(n),
            open_duration: ticks(open),
            max_open_duration: ticks(open),
            jitter_ppm: 0,
            probe_timeout: ticks(100),
            ..BreakerConfig::DEFAULT
        }
    }

    type B = ProfiledBreaker<CountWindow<8>, 2>;

    fn node() -> B {
        B::with_profiles([("normal", cfg(3, 10)), ("tight", cfg(1, 50))]).unwrap()
    }

    fn fail<W: Window, const P: usize, const N: usize>(
        n: Node<'_, W, P, N>,
        now: Nanos,
    ) -> Transition {
        match n.try_acquire(now) {
            Ok(p) => n.record(p, Outcome::Failure, now).transition,
            Err(r) => r.transition(),
        }
    }

    #[test]
    fn map_errors_are_precise() {
        assert_eq!(
            DependencyMap::<0>::new(&[], 1).unwrap_err(),
            ConfigError::ZeroCount { field: "nodes" }
        );
        assert_eq!(
            DependencyMap::<65>::new(&[], 1).unwrap_err(),
            ConfigError::OutOfRange { field: "nodes", min: 1, max: 64, got: 65 }
        );
        assert!(DependencyMap::<64>::new(&[(63, 0)], 1).is_ok());
        assert_eq!(
            DependencyMap::<3>::new(&[(0, 1)], 0).unwrap_err(),
            ConfigError::ZeroCount { field: "max_depth" }
        );
        assert_eq!(
            DependencyMap::<3>::new(&[(0, 1), (3, 1)], 1).unwrap_err(),
            ConfigError::OutOfRange { field: "dependent", min: 0, max: 2, got: 3 }
        );
        assert_eq!(
            DependencyMap::<3>::new(&[(0, 7)], 1).unwrap_err(),
            ConfigError::OutOfRange { field: "dependency", min: 0, max: 2, got: 7 }
        );
        assert_eq!(
            DependencyMap::<3>::new(&[(2, 2)], 1).unwrap_err(),
            ConfigError::DependencyCycle { node: 2 }
        );
        assert_eq!(
            DependencyMap::<4>::new(&[(0, 1), (1, 3), (3, 2), (2, 1)], 9).unwrap_err(),
            ConfigError::DependencyCycle { node: 1 }
        );
        assert_eq!(ConfigError::DependencyCycle { node: 1 }.field(), "edges");
        assert_eq!(
            ConfigError::DependencyCycle { node: 1 }.to_string(),
            "node 1 depends on itself (the dependency map has a cycle)"
        );
        let (map, b) = (DependencyMap::<1>::new(&[], 1).unwrap(), {
            ProfiledBreaker::<CountWindow<8>, 1>::with_profiles([("only", cfg(1, 1))]).unwrap()
        });
        assert_eq!(
            Coordinated::new(map, [b]).unwrap_err(),
            ConfigError::OutOfRange { field: "profiles", min: 2, max: u64::MAX, got: 1 }
        );
    }

    #[test]
    fn depth_bounds_propagation_and_diamonds_are_fine() {
        // 0 -> 1 -> 2 -> 3, and 0 -> 2 directly (a diamond's shortcut).
        let edges = [(0, 1), (1, 2), (2, 3), (0, 2), (0, 2)];
        let one = DependencyMap::<4>::new(&edges, 1).unwrap();
        assert_eq!([one.watched(0), one.watched(1), one.watched(2)], [0b0110, 0b0100, 0b1000]);
        let two = DependencyMap::<4>::new(&edges, 2).unwrap();
        assert_eq!([two.watched(0), two.watched(1)], [0b1110, 0b1100]);
        let all = DependencyMap::<4>::new(&edges, u32::MAX).unwrap();
        assert_eq!(all.watched(0), 0b1110);
        assert_eq!(all.watched(9), 0);
        assert_eq!(all.tightened(0b1000), 0b0111);
        assert_eq!(all.tightened(0b0001), 0, "nobody depends on 0");
        assert_eq!(one.tightened(0b1000), 0b0100);
        assert_eq!(all.max_depth(), u32::MAX);
    }

    #[test]
    fn a_dependency_down_tightens_until_it_recovers() {
        let map = DependencyMap::<3>::new(&[(0, 1), (1, 2)], 2).unwrap();
        let c = Coordinated::new(map, [node(), node(), node()]).unwrap();
        let [a, b, dep] = [0, 1, 2].map(|i| c.node(i).unwrap());
        assert_eq!(c.tightened(), 0);
        // One failure on `a`: below its normal 3.
        assert_eq!(fail(a, T0), Transition::None);
        // The dependency trips (its own normal rule: 3 failures).
        for _ in 0..2 {
            assert_eq!(fail(dep, T0), Transition::None);
        }
        assert_eq!(fail(dep, T0), Transition::Opened);
        assert_eq!((c.down(), c.tightened()), (0b100, 0b011));
        assert!(a.is_tightened() && b.is_tightened() && !dep.is_tightened());
        assert_eq!((a.effective_profile(), dep.effective_profile()), (1, 0));
        // `a`'s second failure trips under its tight profile (1 failure), with tight's period.
        assert_eq!(fail(a, T0), Transition::Opened);
        assert_eq!(a.breaker().open_remaining(T0), Some(ticks(50)));
        // The dependency recovers: its probe closes it; `b` is released at its next decision.
        let probe = dep.try_acquire(ticks(10)).unwrap();
        assert!(b.is_tightened(), "half-open is still down");
        assert_eq!(dep.record(probe, Outcome::Success, ticks(10)).transition, Transition::Closed);
        assert!(!b.is_tightened());
        assert_eq!(fail(b, ticks(10)), Transition::None, "normal again: 3 failures to trip");
        // `a` tripped on its own account and stays open for its own period.
        assert_eq!(a.breaker().state(), State::Open);
        assert!(!a.is_tightened());
        assert_eq!(c.down(), 0b001);
        // `a` is the dependent of nobody: its being down tightens no one.
        assert_eq!(c.tightened(), 0);
    }

    #[test]
    fn forced_open_counts_as_down_and_operator_profiles_still_apply() {
        let map = DependencyMap::<2>::new(&[(0, 1)], 1).unwrap();
        let three = |t: u32| {
            ProfiledBreaker::<CountWindow<8>, 3>::with_profiles([
                ("normal", cfg(3, 10)),
                ("lenient", cfg(6, 10)),
                ("tight", cfg(t, 50)),
            ])
            .unwrap()
        };
        let c = Coordinated::new(map, [three(1), three(1)]).unwrap();
        let (a, dep) = (c.node(0).unwrap(), c.node(1).unwrap());
        assert!(c.node(2).is_none());
        let _ = a.breaker().switch_profile("lenient");
        assert_eq!(a.effective_profile(), 1);
        let _ = dep.breaker().force_open();
        assert_eq!(a.effective_profile(), 2);
        let _ = dep.breaker().disable();
        assert_eq!(a.effective_profile(), 1, "disabled is not down");
        for _ in 0..5 {
            assert_eq!(fail(a, T0), Transition::None);
        }
        assert_eq!(fail(a, T0), Transition::Opened, "lenient: the 6th");
    }

    #[test]
    fn a_permit_of_another_node_is_not_counted_and_classify_follows_the_rule() {
        let map = DependencyMap::<2>::new(&[(0, 1)], 1).unwrap();
        let slowish = |d: u64| BreakerConfig { slow_call_duration: Some(ticks(d)), ..cfg(1, 10) };
        let mk = || {
            ProfiledBreaker::<CountWindow<8>, 2>::with_profiles([
                ("normal", slowish(10)),
                ("tight", slowish(2)),
            ])
            .unwrap()
        };
        let c = Coordinated::new(map, [mk(), mk()]).unwrap();
        let (a, dep) = (c.node(0).unwrap(), c.node(1).unwrap());
        assert_eq!(a.classify(false, ticks(5)), Outcome::Success);
        let p = dep.try_acquire(T0).unwrap();
        let r = a.record(p, Outcome::Failure, T0);
        assert!(!r.counted);
        assert_eq!(dep.breaker().snapshot(T0).counts.calls, 0);
        assert_eq!(fail(dep, T0), Transition::Opened);
        assert_eq!(a.classify(false, ticks(5)), Outcome::SlowSuccess);
        assert_eq!(a.index(), 0);
        assert_eq!(c.map().watched(0), 0b10);
    }

    #[test]
    fn tokens_record_through_the_rule() {
        let map = DependencyMap::<2>::new(&[(0, 1)], 1).unwrap();
        let c = Coordinated::new(map, [node(), node()]).unwrap();
        let (a, dep) = (c.node(0).unwrap(), c.node(1).unwrap());
        let token = a.try_acquire(T0).unwrap().into_token();
        let _ = dep.breaker().force_open();
        // Normal would need 3 failures; the rule chooses tight at the record.
        assert_eq!(a.record_token(token, Outcome::Failure, T0).transition, Transition::Opened);
        assert_eq!(a.breaker().open_remaining(T0), Some(ticks(50)));
        let _ = dep.breaker().force_close();
        let probe = a.try_acquire(ticks(50)).unwrap().into_token();
        assert_eq!(a.breaker().snapshot(ticks(50)).probes_admitted, 1);
        a.ignore_token(probe);
        assert_eq!(a.breaker().snapshot(ticks(50)).probes_admitted, 0);
    }

    #[test]
    fn the_end_of_an_open_period_uses_the_tight_probe_timeout() {
        let map = DependencyMap::<2>::new(&[(0, 1)], 1).unwrap();
        let mk = || {
            ProfiledBreaker::<CountWindow<8>, 2>::with_profiles([
                ("normal", BreakerConfig { probe_timeout: ticks(100), ..cfg(1, 10) }),
                ("tight", BreakerConfig { probe_timeout: ticks(5), ..cfg(1, 10) }),
            ])
            .unwrap()
        };
        let c = Coordinated::new(map, [mk(), mk()]).unwrap();
        let (a, dep) = (c.node(0).unwrap(), c.node(1).unwrap());
        assert_eq!(fail(a, T0), Transition::Opened);
        assert_eq!(fail(dep, T0), Transition::Opened);
        let probe = a.try_acquire(ticks(10)).unwrap().into_token();
        // Half-opened while tightened: the probe deadline is 10 + 5 ticks.
        let r = a.try_acquire(ticks(15)).unwrap_err();
        assert_eq!(r.transition(), Transition::Opened);
        a.breaker().ignore_token(probe);
    }
}
