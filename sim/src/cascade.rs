//! Cascades: a chain of two or three services, each a pool of workers with a queue, each calling
//! the next through a breaker, while the last one hangs for a while.
//!
//! Every hop of the chain (the clients' calls into the first service, the first service's calls
//! into the second, …) can have a breaker. The breakers of a strategy are one
//! [`Coordinated`] set of real `portcullis` breakers, one per hop: with a dependency map that
//! follows the chain (hop `i` depends on hop `i + 1`) they are coordinated; with an empty map they
//! are the very same breakers, independent. So the comparison changes one thing only.
//!
//! See `docs/simulator.md` ("Cascades") for the model and the measurements.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt::{self, Write as _};

use portcullis::breaker::{BreakerConfig, PermitToken, Transition};
use portcullis::coord::{Coordinated, DependencyMap};
use portcullis::profile::ProfiledBreaker;
use portcullis::rng::SplitMix64;
use portcullis::window::{CountWindow, Outcome};
use portcullis::{ConfigError, Nanos};
use serde::Deserialize;
use toml::Spanned;

use crate::engine::{WindowSpec, ratio};
use crate::model::{Latency, exponential, secs, to_secs, uniform};
use crate::report;
use crate::scenario::{
    BreakerToml, Dur, LatencyToml, ScenarioError, breaker_of, latency_of, line_of,
};

/// The most services in a chain.
pub const MAX_SERVICES: usize = 3;

/// The largest count window of a cascade's breakers.
pub const MAX_CASCADE_WINDOW: usize = 200;

/// The breakers of one strategy: one per hop.
type Breakers = Coordinated<CountWindow<MAX_CASCADE_WINDOW>, 2, MAX_SERVICES>;

/// One service of the chain.
#[derive(Clone, Debug, PartialEq)]
pub struct Service {
    /// Its name in reports.
    pub name: String,
    /// Requests it works on at once; the others wait in a FIFO queue.
    pub workers: u32,
    /// Its own work per request.
    pub work: Latency,
    /// The share of its requests that also call the next service (after its own work, holding
    /// the worker until the answer).
    pub calls_next: f64,
    /// How long it waits for the next service's answer before failing the request.
    pub timeout: Nanos,
}

/// When the last service hangs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outage {
    /// Start, in seconds.
    pub from: f64,
    /// End (exclusive), in seconds.
    pub to: f64,
    /// The last service's work takes this many times longer.
    pub latency_factor: f64,
}

/// One strategy: breakers or none, coordinated or not.
#[derive(Clone, Debug, PartialEq)]
pub struct CascadeStrategy {
    /// Its name in reports.
    pub name: String,
    /// Every hop's breaker: its normal and tightened profiles and its count window.
    pub breakers: Option<(BreakerConfig, BreakerConfig, usize)>,
    /// Coordinate the breakers along the chain, propagating this many hops.
    pub coordinated: Option<u32>,
    /// The hops that have a breaker (hop `i` is the calls into service `i`; hop 0 the clients').
    pub hops: [bool; MAX_SERVICES],
}

/// A chain of services, its callers, an outage, and the strategies compared.
#[derive(Clone, Debug, PartialEq)]
pub struct Cascade {
    /// Short name (file and directory names).
    pub name: String,
    /// One line for the report.
    pub description: String,
    /// The seed.
    pub seed: u64,
    /// Arrivals stop then; calls under way finish.
    pub duration: Nanos,
    /// The width of the time series buckets.
    pub bucket: Nanos,
    /// New client calls per second (Poisson).
    pub rate: f64,
    /// How long a client waits for the first service.
    pub client_timeout: Nanos,
    /// The services, in call order.
    pub services: Vec<Service>,
    /// The last service's outage.
    pub outage: Outage,
    /// The strategies.
    pub strategies: Vec<CascadeStrategy>,
}

impl Cascade {
    /// How deep a request of depth `d` goes: it is served by services `0..=d`.
    fn depths(&self) -> usize {
        self.services.len()
    }

    /// The timeout of a call into service `i` (the client's for the first).
    fn timeout_into(&self, i: usize) -> Nanos {
        match i.checked_sub(1).and_then(|p| self.services.get(p)) {
            Some(caller) => caller.timeout,
            None => self.client_timeout,
        }
    }
}

/// What happened in one bucket of time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CascadeBucket {
    /// Calls that ended successfully, by depth.
    pub succeeded: [u64; MAX_SERVICES],
    /// Calls that ended in failure, by depth.
    pub failed: [u64; MAX_SERVICES],
    /// Busy workers of each service at the end of the bucket.
    pub busy: [u32; MAX_SERVICES],
    /// Each hop's breaker state at the end of the bucket (0 closed, 1 open, 2 half-open, 3 none).
    pub breaker: [u8; MAX_SERVICES],
}

/// The figures of one strategy's run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CascadeSummary {
    /// Calls, by depth.
    pub calls: [u64; MAX_SERVICES],
    /// Successful calls, by depth.
    pub succeeded: [u64; MAX_SERVICES],
    /// Calls that arrived during the outage, by depth.
    pub outage_calls: [u64; MAX_SERVICES],
    /// Of those, the successful ones.
    pub outage_succeeded: [u64; MAX_SERVICES],
    /// Trips of each hop's breaker.
    pub trips: [u64; MAX_SERVICES],
    /// Seconds each service had every worker busy.
    pub saturated: [f64; MAX_SERVICES],
    /// The longest queue of each service (abandoned requests included until dequeued).
    pub max_queue: [usize; MAX_SERVICES],
}

impl CascadeSummary {
    /// All calls.
    #[must_use]
    pub fn total_calls(&self) -> u64 {
        self.calls.iter().sum()
    }

    /// The success rate of all calls.
    #[must_use]
    pub fn success_rate(&self) -> f64 {
        let calls = self.total_calls();
        if calls == 0 { 0.0 } else { ratio(self.succeeded.iter().sum(), calls) }
    }

    /// The success rate during the outage of the calls of depth `d` (`None` without any).
    #[must_use]
    pub fn outage_success(&self, d: usize) -> Option<f64> {
        match (self.outage_calls.get(d), self.outage_succeeded.get(d)) {
            (Some(&c), Some(&s)) if c > 0 => Some(ratio(s, c)),
            _ => None,
        }
    }
}

/// One strategy's run.
#[derive(Clone, Debug, PartialEq)]
pub struct CascadeRun {
    /// The strategy's name.
    pub strategy: String,
    /// The figures.
    pub summary: CascadeSummary,
    /// The time series.
    pub buckets: Vec<CascadeBucket>,
}

#[derive(Clone, Copy, Debug)]
enum Ev {
    Arrive,
    WorkDone(usize),
    Timeout(usize),
    Tick,
}

#[derive(Debug)]
struct Item {
    at: u64,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Item {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Item {
    // Reversed: the heap pops the earliest event; ties in insertion order, so runs replay.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// A client call: how deep it goes, when it started, whether it arrived during the outage.
#[derive(Debug)]
struct Request {
    depth: usize,
    in_outage: bool,
    done: bool,
}

/// One call into one service: a request at hop `service`, called by `parent` (another hop) or by
/// the client.
#[derive(Debug)]
struct Hop {
    req: usize,
    service: usize,
    parent: Option<usize>,
    token: Option<PermitToken>,
    /// The caller has its answer (or gave up): later answers are dropped.
    settled: bool,
    /// The caller gave up (timeout): the service skips it if it has not started it.
    abandoned: bool,
}

#[derive(Debug, Default)]
struct Pool {
    busy: u32,
    queue: VecDeque<usize>,
    /// Since when every worker has been busy.
    full_since: Option<Nanos>,
}

struct Sim<'a> {
    cascade: &'a Cascade,
    breakers: Option<&'a Breakers>,
    guarded: [bool; MAX_SERVICES],
    arrivals: SplitMix64,
    rng: SplitMix64,
    now: Nanos,
    seq: u64,
    heap: BinaryHeap<Item>,
    requests: Vec<Request>,
    hops: Vec<Hop>,
    pools: Vec<Pool>,
    state: [u8; MAX_SERVICES],
    buckets: Vec<CascadeBucket>,
    summary: CascadeSummary,
}

impl Sim<'_> {
    fn at(&mut self, at: Nanos, ev: Ev) {
        self.seq += 1;
        self.heap.push(Item { at: at.as_u64(), seq: self.seq, ev });
    }

    fn bucket(&mut self) -> &mut CascadeBucket {
        let i = usize::try_from(self.now.as_u64() / self.cascade.bucket.as_u64()).unwrap_or(0);
        if self.buckets.len() <= i {
            self.buckets.resize(i + 1, CascadeBucket::default());
        }
        &mut self.buckets[i]
    }

    fn transition(&mut self, hop: usize, t: Transition) {
        let code = match t {
            Transition::None => return,
            Transition::Opened => {
                self.summary.trips[hop] += 1;
                1
            }
            Transition::HalfOpened => 2,
            Transition::Closed => 0,
        };
        self.state[hop] = code;
    }

    fn finish(&mut self, req: usize, ok: bool) {
        let r = &mut self.requests[req];
        if r.done {
            return;
        }
        r.done = true;
        let (d, in_outage) = (r.depth, r.in_outage);
        if ok {
            self.summary.succeeded[d] += 1;
            if in_outage {
                self.summary.outage_succeeded[d] += 1;
            }
            self.bucket().succeeded[d] += 1;
        } else {
            self.bucket().failed[d] += 1;
        }
    }

    /// Calls service `i` for request `req` on behalf of `parent` (or the client).
    fn call(&mut self, i: usize, req: usize, parent: Option<usize>) {
        let now = self.now;
        let guarded = self.guarded[i];
        let token = match self.breakers.filter(|_| guarded).and_then(|b| b.node(i)) {
            Some(node) => match node.try_acquire(now) {
                Ok(permit) => {
                    self.transition(i, permit.transition());
                    Some(permit.into_token())
                }
                Err(r) => {
                    // Refused: the caller fails at once.
                    self.transition(i, r.transition());
                    self.deliver(req, parent, false);
                    return;
                }
            },
            None => None,
        };
        let hop = self.hops.len();
        self.hops.push(Hop { req, service: i, parent, token, settled: false, abandoned: false });
        let timeout = self.cascade.timeout_into(i);
        self.at(now.saturating_add(timeout), Ev::Timeout(hop));
        self.pools[i].queue.push_back(hop);
        self.summary.max_queue[i] = self.summary.max_queue[i].max(self.pools[i].queue.len());
        self.pump(i);
    }

    /// Starts queued requests on free workers of service `i`, skipping abandoned ones.
    fn pump(&mut self, i: usize) {
        let workers = self.cascade.services[i].workers;
        while self.pools[i].busy < workers {
            let Some(hop) = self.pools[i].queue.pop_front() else { break };
            if self.hops[hop].abandoned {
                continue;
            }
            self.set_busy(i, self.pools[i].busy + 1);
            let s = &self.cascade.services[i];
            let mut work = s.work.sample(&mut self.rng);
            let t = to_secs(self.now);
            let o = self.cascade.outage;
            if i + 1 == self.cascade.services.len() && t >= o.from && t < o.to {
                work *= o.latency_factor;
            }
            let done = self.now.saturating_add(secs(work).max(Nanos::new(1)));
            self.at(done, Ev::WorkDone(hop));
        }
    }

    fn set_busy(&mut self, i: usize, busy: u32) {
        let workers = self.cascade.services[i].workers;
        let pool = &mut self.pools[i];
        if busy == workers && pool.full_since.is_none() {
            pool.full_since = Some(self.now);
        } else if busy < workers
            && let Some(since) = pool.full_since.take()
        {
            self.summary.saturated[i] += to_secs(self.now.saturating_sub(since));
        }
        pool.busy = busy;
    }

    /// The worker of `hop` is done: it frees the worker and answers the caller.
    fn complete(&mut self, hop: usize, ok: bool) {
        let i = self.hops[hop].service;
        self.set_busy(i, self.pools[i].busy - 1);
        self.pump(i);
        self.answer(hop, ok);
    }

    /// The caller of `hop` learns its outcome (`ok`), unless it already gave up.
    fn answer(&mut self, hop: usize, ok: bool) {
        let h = &mut self.hops[hop];
        if h.settled {
            return;
        }
        h.settled = true;
        let (i, req, parent, token) = (h.service, h.req, h.parent, h.token);
        self.record(i, token, ok);
        self.deliver(req, parent, ok);
    }

    fn record(&mut self, i: usize, token: Option<PermitToken>, ok: bool) {
        if let (Some(token), Some(node)) = (token, self.breakers.and_then(|b| b.node(i))) {
            let outcome = if ok { Outcome::Success } else { Outcome::Failure };
            let r = node.record_token(token, outcome, self.now);
            self.transition(i, r.transition);
        }
    }

    /// Hands an outcome to the caller: the client, or the parent hop's worker, which then
    /// completes.
    fn deliver(&mut self, req: usize, parent: Option<usize>, ok: bool) {
        match parent {
            None => self.finish(req, ok),
            Some(p) => self.complete(p, ok),
        }
    }

    fn step(&mut self, ev: Ev) {
        match ev {
            Ev::Arrive => self.arrive(),
            Ev::WorkDone(hop) => {
                let h = &self.hops[hop];
                let (i, req) = (h.service, h.req);
                if h.abandoned {
                    // Nobody waits for it: no call onwards.
                    let i = h.service;
                    self.set_busy(i, self.pools[i].busy - 1);
                    self.pump(i);
                } else if self.requests[req].depth > i {
                    self.call(i + 1, req, Some(hop));
                } else {
                    self.complete(hop, true);
                }
            }
            Ev::Timeout(hop) => {
                if self.hops[hop].settled {
                    return;
                }
                self.hops[hop].abandoned = true;
                self.answer(hop, false);
            }
            Ev::Tick => {
                let busy: Vec<u32> = self.pools.iter().map(|p| p.busy).collect();
                let state = self.state;
                let b = self.bucket();
                for (i, &n) in busy.iter().enumerate() {
                    b.busy[i] = n;
                }
                b.breaker = state;
                let next = self.now.saturating_add(self.cascade.bucket);
                if next < self.cascade.duration {
                    self.at(next, Ev::Tick);
                }
            }
        }
    }

    fn arrive(&mut self) {
        let c = self.cascade;
        // The depth from the arrival stream, so every strategy sees the same calls.
        let mut depth = 0;
        while depth + 1 < c.depths() && uniform(&mut self.arrivals) < c.services[depth].calls_next {
            depth += 1;
        }
        let t = to_secs(self.now);
        let in_outage = t >= c.outage.from && t < c.outage.to;
        let req = self.requests.len();
        self.requests.push(Request { depth, in_outage, done: false });
        self.summary.calls[depth] += 1;
        if in_outage {
            self.summary.outage_calls[depth] += 1;
        }
        self.call(0, req, None);
        let next = self.now.saturating_add(secs(exponential(&mut self.arrivals, 1.0 / c.rate)));
        if next < c.duration {
            self.at(next, Ev::Arrive);
        }
    }
}

/// The breakers of `strategy` for `cascade`, coordinated or not.
fn breakers(
    cascade: &Cascade,
    strategy: &CascadeStrategy,
) -> Result<Option<Breakers>, ConfigError> {
    let Some((normal, tight, size)) = strategy.breakers else {
        return Ok(None);
    };
    let node = || {
        ProfiledBreaker::<CountWindow<MAX_CASCADE_WINDOW>, 2>::with_profiles_and_window_size(
            [("normal", normal), ("tight", tight)],
            size,
        )
        .map_err(ConfigError::from)
    };
    let nodes = [node()?, node()?, node()?];
    let chain: Vec<(usize, usize)> = (1..cascade.services.len()).map(|i| (i - 1, i)).collect();
    let map = match strategy.coordinated {
        Some(depth) => DependencyMap::new(&chain, depth)?,
        None => DependencyMap::new(&[], 1)?,
    };
    Coordinated::new(map, nodes).map(Some)
}

/// Runs one strategy of `cascade` with `seed`.
///
/// # Errors
///
/// The [`ConfigError`] of the first primitive that rejects its configuration.
pub fn run(
    cascade: &Cascade,
    strategy: &CascadeStrategy,
    seed: u64,
) -> Result<CascadeRun, ConfigError> {
    let built = breakers(cascade, strategy)?;
    if cascade.services.is_empty() || cascade.services.len() > MAX_SERVICES {
        return Err(ConfigError::OutOfRange {
            field: "service",
            min: 1,
            max: MAX_SERVICES as u64,
            got: cascade.services.len() as u64,
        });
    }
    let none = if built.is_some() { 0 } else { 3 };
    let mut state = [none; MAX_SERVICES];
    for (s, &h) in state.iter_mut().zip(&strategy.hops) {
        if !h {
            *s = 3;
        }
    }
    let mut sim = Sim {
        cascade,
        breakers: built.as_ref(),
        guarded: strategy.hops,
        arrivals: SplitMix64::new(seed),
        rng: SplitMix64::new(seed ^ 0x5DEE_CE66_D1CE_4E5B),
        now: Nanos::ZERO,
        seq: 0,
        heap: BinaryHeap::new(),
        requests: Vec::new(),
        hops: Vec::new(),
        pools: cascade.services.iter().map(|_| Pool::default()).collect(),
        state,
        buckets: Vec::new(),
        summary: CascadeSummary::default(),
    };
    sim.at(Nanos::ZERO, Ev::Arrive);
    sim.at(cascade.bucket.saturating_sub(Nanos::new(1)), Ev::Tick);
    while let Some(item) = sim.heap.pop() {
        sim.now = Nanos::new(item.at);
        sim.step(item.ev);
    }
    for i in 0..cascade.services.len() {
        if let Some(since) = sim.pools[i].full_since.take() {
            sim.summary.saturated[i] += to_secs(sim.now.saturating_sub(since));
        }
    }
    Ok(CascadeRun { strategy: strategy.name.clone(), summary: sim.summary, buckets: sim.buckets })
}

/// Runs every strategy of `cascade` with `seed`.
///
/// # Errors
///
/// The first strategy whose breakers the core rejects.
pub fn run_all(cascade: &Cascade, seed: u64) -> Result<Vec<CascadeRun>, ConfigError> {
    cascade.strategies.iter().map(|s| run(cascade, s, seed)).collect()
}

// ---- the file format ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct File {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default = "one")]
    seed: u64,
    duration: Dur,
    bucket: Option<Dur>,
    clients: Clients,
    #[serde(rename = "service")]
    services: Vec<ServiceToml>,
    outage: OutageToml,
    #[serde(rename = "strategy")]
    strategies: Vec<StrategyToml>,
}

const fn one() -> u64 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Clients {
    rate: f64,
    timeout: Dur,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ServiceToml {
    name: String,
    workers: u32,
    work: LatencyToml,
    #[serde(default)]
    calls_next: f64,
    timeout: Option<Dur>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct OutageToml {
    from: Dur,
    to: Dur,
    latency_factor: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct StrategyToml {
    name: String,
    circuit_breaker: Option<Spanned<BreakerToml>>,
    tightened: Option<Spanned<BreakerToml>>,
    coordination: Option<CoordinationToml>,
    /// The hops with a breaker (default: every hop).
    breaker_hops: Option<Vec<usize>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CoordinationToml {
    max_depth: u32,
}

/// One `[[strategy]]` table of a chain of `services` services.
#[allow(clippy::many_single_char_names, reason = "s: the table, b/t: its breaker tables")]
fn strategy(
    s: &StrategyToml,
    seed: u64,
    services: usize,
    text: &str,
) -> Result<CascadeStrategy, (Option<usize>, String)> {
    let located = |(line, m): (usize, String)| (Some(line), m);
    let breakers = match &s.circuit_breaker {
        Some(b) => {
            let at = line_of(text, b.span().start);
            let (normal, window) = breaker_of(b.get_ref(), seed, at).map_err(located)?;
            let size = match window {
                WindowSpec::Count(n) if n <= MAX_CASCADE_WINDOW => n,
                _ => {
                    let m = format!(
                        "[strategy.circuitBreaker]: a COUNT_BASED window of at most \
                         {MAX_CASCADE_WINDOW} calls in a cascade"
                    );
                    return Err((Some(at), m));
                }
            };
            let tight = match &s.tightened {
                Some(t) => {
                    let at = line_of(text, t.span().start);
                    let (tight, w) = breaker_of(t.get_ref(), seed, at).map_err(located)?;
                    if w != window {
                        let m = "[strategy.tightened]: the window must be the breaker's".to_owned();
                        return Err((Some(at), m));
                    }
                    tight
                }
                None => normal,
            };
            Some((normal, tight, size))
        }
        None => None,
    };
    let mut hops = [false; MAX_SERVICES];
    match &s.breaker_hops {
        None => hops.iter_mut().take(services).for_each(|h| *h = true),
        Some(chosen) => {
            for &h in chosen {
                if h >= services {
                    let m =
                        format!("breakerHops: hop {h} does not exist (hops 0 to {})", services - 1);
                    return Err((None, m));
                }
                hops[h] = true;
            }
        }
    }
    Ok(CascadeStrategy {
        name: s.name.clone(),
        breakers,
        coordinated: s.coordination.as_ref().map(|c| c.max_depth),
        hops,
    })
}

/// Parses a cascade file's `text`; `file` names it in errors.
///
/// # Errors
///
/// [`ScenarioError`] for a syntax error, an unknown or mistyped key, a chain of no service or of
/// more than [`MAX_SERVICES`], or breakers the core rejects.
pub fn parse(file: &str, text: &str) -> Result<Cascade, ScenarioError> {
    let err = |line: Option<usize>, message: String| ScenarioError {
        file: file.to_owned(),
        line,
        message,
    };
    let f: File = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        err(line, e.message().to_owned())
    })?;
    if f.services.is_empty() || f.services.len() > MAX_SERVICES {
        return Err(err(
            None,
            format!("[[service]]: 1 to {MAX_SERVICES} services, got {}", f.services.len()),
        ));
    }
    if f.clients.rate.is_nan() || f.clients.rate <= 0.0 {
        return Err(err(None, "[clients] rate: must be positive".to_owned()));
    }
    let last = f.services.len() - 1;
    let mut services = Vec::new();
    for (i, s) in f.services.iter().enumerate() {
        if s.workers == 0 {
            return Err(err(None, format!("[[service]] {:?}: workers must be positive", s.name)));
        }
        let timeout = match (s.timeout, i < last) {
            (Some(t), _) => t.0,
            (None, false) => Nanos::MAX,
            (None, true) => {
                return Err(err(
                    None,
                    format!("[[service]] {:?}: timeout is needed (it calls the next)", s.name),
                ));
            }
        };
        services.push(Service {
            name: s.name.clone(),
            workers: s.workers,
            work: latency_of(&s.work),
            calls_next: if i < last { s.calls_next.clamp(0.0, 1.0) } else { 0.0 },
            timeout,
        });
    }
    let mut strategies = Vec::new();
    for s in &f.strategies {
        strategies.push(
            strategy(s, f.seed, f.services.len(), text)
                .map_err(|(line, m)| err(line, format!("strategy {:?}: {m}", s.name)))?,
        );
    }
    if strategies.is_empty() {
        return Err(err(None, "no [[strategy]] table".to_owned()));
    }
    let cascade = Cascade {
        name: f.name,
        description: f.description,
        seed: f.seed,
        duration: f.duration.0,
        bucket: f.bucket.map_or(Nanos::from_secs(1), |b| b.0),
        rate: f.clients.rate,
        client_timeout: f.clients.timeout.0,
        services,
        outage: Outage {
            from: to_secs(f.outage.from.0),
            to: to_secs(f.outage.to.0),
            latency_factor: f.outage.latency_factor,
        },
        strategies,
    };
    for s in &cascade.strategies {
        breakers(&cascade, s).map_err(|e| err(None, format!("strategy {:?}: {e}", s.name)))?;
    }
    if cascade.bucket == Nanos::ZERO {
        return Err(err(None, "bucket: must be positive".to_owned()));
    }
    Ok(cascade)
}

/// The built-in cascade.
pub const BUILT_IN: (&str, &str) = ("cascade", include_str!("../scenarios/cascade.toml"));

/// The built-in cascade, parsed.
///
/// # Errors
///
/// Never in practice: a test parses it.
pub fn built_in() -> Result<Cascade, ScenarioError> {
    parse(&format!("built-in:{}", BUILT_IN.0), BUILT_IN.1)
}

// ---- reports ----

/// The columns of the cascade summary CSV.
pub const SUMMARY_HEADER: &str = "scenario,strategy,calls,success_rate,outage_success_d0,outage_success_d1,outage_success_d2,trips_0,trips_1,trips_2,saturated_s_0,saturated_s_1,saturated_s_2,max_queue_0,max_queue_1,max_queue_2";

struct Opt(Option<f64>);

impl fmt::Display for Opt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(x) => write!(f, "{x:.4}"),
            None => f.write_str("-"),
        }
    }
}

/// The summary CSV: the header and a row per strategy.
#[must_use]
pub fn summary_csv(cascade: &Cascade, runs: &[CascadeRun]) -> String {
    let mut out = String::from(SUMMARY_HEADER);
    out.push('\n');
    for r in runs {
        let s = &r.summary;
        let _ = writeln!(
            out,
            "{},{},{},{:.4},{},{},{},{},{},{},{:.3},{:.3},{:.3},{},{},{}",
            cascade.name,
            r.strategy,
            s.total_calls(),
            s.success_rate(),
            Opt(s.outage_success(0)),
            Opt(s.outage_success(1)),
            Opt(s.outage_success(2)),
            s.trips[0],
            s.trips[1],
            s.trips[2],
            s.saturated[0],
            s.saturated[1],
            s.saturated[2],
            s.max_queue[0],
            s.max_queue[1],
            s.max_queue[2],
        );
    }
    out
}

/// The time series CSV: per bucket and strategy, calls succeeded and failed by depth, busy
/// workers per service, and each hop's breaker state.
#[must_use]
pub fn series_csv(cascade: &Cascade, runs: &[CascadeRun]) -> String {
    let mut out = String::from(
        "t_s,strategy,succeeded_d0,failed_d0,succeeded_d1,failed_d1,succeeded_d2,failed_d2,busy_0,busy_1,busy_2,breaker_0,breaker_1,breaker_2\n",
    );
    for r in runs {
        for (i, b) in r.buckets.iter().enumerate() {
            let t = to_secs(cascade.bucket) * f64::from(u32::try_from(i).unwrap_or(u32::MAX));
            let _ = writeln!(
                out,
                "{t:.3},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                r.strategy,
                b.succeeded[0],
                b.failed[0],
                b.succeeded[1],
                b.failed[1],
                b.succeeded[2],
                b.failed[2],
                b.busy[0],
                b.busy[1],
                b.busy[2],
                b.breaker[0],
                b.breaker[1],
                b.breaker[2],
            );
        }
    }
    out
}

/// The success rate over time of the calls that do not need the failing service, one line per
/// strategy, with the outage shaded.
#[must_use]
pub fn success_svg(cascade: &Cascade, runs: &[CascadeRun]) -> String {
    let unaffected = cascade.depths().saturating_sub(1);
    let series: Vec<(String, Vec<(f64, f64)>)> = runs
        .iter()
        .map(|r| {
            let pts = r
                .buckets
                .iter()
                .enumerate()
                .filter_map(|(k, b)| {
                    let ok: u64 = b.succeeded.iter().take(unaffected).sum();
                    let bad: u64 = b.failed.iter().take(unaffected).sum();
                    let t = to_secs(cascade.bucket) * (f64::from(u32::try_from(k).ok()?) + 0.5);
                    (ok + bad > 0).then(|| (t, ratio(ok, ok + bad)))
                })
                .collect();
            (r.strategy.clone(), pts)
        })
        .collect();
    report::lines_svg(
        &format!(
            "{}: success of calls that do not need {}",
            cascade.name,
            cascade.services.last().map_or("", |s| s.name.as_str())
        ),
        "success rate",
        to_secs(cascade.duration),
        (0.0, 1.0),
        &series,
        Some((cascade.outage.from, cascade.outage.to)),
    )
}

/// The busy workers of the first service over time, one line per strategy.
#[must_use]
pub fn busy_svg(cascade: &Cascade, runs: &[CascadeRun]) -> String {
    let first = cascade.services.first().map_or("", |s| s.name.as_str());
    let workers = cascade.services.first().map_or(1, |s| s.workers);
    let series: Vec<(String, Vec<(f64, f64)>)> = runs
        .iter()
        .map(|r| {
            let pts = r
                .buckets
                .iter()
                .enumerate()
                .filter_map(|(k, b)| {
                    let t = to_secs(cascade.bucket) * (f64::from(u32::try_from(k).ok()?) + 0.5);
                    Some((t, f64::from(b.busy[0])))
                })
                .collect();
            (r.strategy.clone(), pts)
        })
        .collect();
    report::lines_svg(
        &format!("{}: busy workers of {first} (of {workers})", cascade.name),
        "busy workers",
        to_secs(cascade.duration),
        (0.0, f64::from(workers)),
        &series,
        Some((cascade.outage.from, cascade.outage.to)),
    )
}

/// The terminal table.
#[must_use]
pub fn table(cascade: &Cascade, runs: &[CascadeRun]) -> String {
    let pct = |x: Option<f64>| x.map_or_else(|| "-".to_owned(), |v| format!("{:.1}%", v * 100.0));
    let n = cascade.services.len();
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            let s = &r.summary;
            let mut row = vec![r.strategy.clone(), format!("{:.1}%", s.success_rate() * 100.0)];
            for d in 0..n {
                row.push(pct(s.outage_success(d)));
            }
            row.push(s.trips.iter().take(n).map(u64::to_string).collect::<Vec<_>>().join("/"));
            row.push(
                s.saturated.iter().take(n).map(|x| format!("{x:.1}")).collect::<Vec<_>>().join("/"),
            );
            row
        })
        .collect();
    let mut header: Vec<String> = vec!["strategy".into(), "success".into()];
    let mut path = String::new();
    for s in &cascade.services {
        if !path.is_empty() {
            path.push('+');
        }
        path.push_str(&s.name);
        header.push(format!("outage: {path}"));
    }
    header.push("trips per hop".into());
    header.push("saturated s".into());
    let h: Vec<&str> = header.iter().map(String::as_str).collect();
    report::table(&h, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_cascade_parses_and_replays() {
        let c = built_in().unwrap();
        assert_eq!(c.services.len(), 3);
        let a = run_all(&c, 3).unwrap();
        let b = run_all(&c, 3).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn bad_files_name_the_problem() {
        let (_, text) = BUILT_IN;
        let e = parse("c.toml", &text.replacen("maxDepth = 2", "maxDepth = 0", 1)).unwrap_err();
        assert!(e.message.contains("max_depth"), "{e}");
        let e = parse("c.toml", &text.replace("workers = 20", "workerz = 20")).unwrap_err();
        assert!(e.message.contains("workerz") && e.line.is_some(), "{e}");
    }
}
