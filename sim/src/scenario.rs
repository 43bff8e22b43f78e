//! Scenario files: TOML with resilience4j's key names, parsed into an engine [`Scenario`].
//!
//! Every table rejects unknown keys, and every error names the file, the line and the key.

use std::fmt;

use portcullis::breaker::BreakerConfig;
use portcullis::hedge::HedgeConfig;
use portcullis::limiter::Quota;
use portcullis::ramp::{Curve, RampConfig};
use portcullis::retry::{Backoff, Jitter, RatioBudgetConfig, RetryConfig, ThrottleConfig};
use portcullis::throttle::ThrottleConfig as ClientThrottleConfig;
use portcullis::{ConfigError, Nanos};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use toml::Spanned;

use crate::engine::{
    self, BudgetConfig, MAX_BUCKETS, MAX_WINDOW, Scenario, Strategy, WindowSpec, Workload,
};
use crate::model::{Dependency, Latency, Phase, Sine, to_secs};

/// The built-in scenarios, in the order the default run shows them: `(name, TOML text)`.
pub const BUILT_IN: [(&str, &str); 9] = [
    ("sudden-outage", include_str!("../scenarios/sudden-outage.toml")),
    ("gradual-degradation", include_str!("../scenarios/gradual-degradation.toml")),
    ("intermittent", include_str!("../scenarios/intermittent.toml")),
    ("flapping-recovery", include_str!("../scenarios/flapping-recovery.toml")),
    ("false-recovery", include_str!("../scenarios/false-recovery.toml")),
    ("heavy-tail", include_str!("../scenarios/heavy-tail.toml")),
    ("retry-storm", include_str!("../scenarios/retry-storm.toml")),
    ("slow-recovery", include_str!("../scenarios/slow-recovery.toml")),
    ("overload-throttle", include_str!("../scenarios/overload-throttle.toml")),
];

/// A scenario file that could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file (or built-in name).
    pub file: String,
    /// The 1-based line of the offending key, when known.
    pub line: Option<usize>,
    /// What is wrong, naming the key.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ScenarioError {}

/// A duration written as a string: `"250ms"`, `"1.5s"`, `"100us"`, `"2m"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dur(pub Nanos);

/// Parses `"250ms"`-style durations.
///
/// # Errors
///
/// A message naming the accepted forms.
pub fn parse_duration(s: &str) -> Result<Nanos, String> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let scale = match unit.trim() {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" => 6e10,
        _ => {
            return Err(format!(
                "invalid duration {s:?}: expected a number and a unit (ns, us, ms, s, m), such as \"250ms\""
            ));
        }
    };
    let v: f64 = num.parse().map_err(|_| format!("invalid duration {s:?}: no number"))?;
    // Rounded to the nanosecond, so "100us" is exactly 100,000 ns.
    Ok(crate::model::secs((v * scale).round() / 1e9))
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Dur, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string such as \"250ms\" or \"10s\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dur, E> {
                parse_duration(v).map(Dur).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

fn secs_of(d: Dur) -> f64 {
    to_secs(d.0)
}

/// The distribution a latency table describes.
pub(crate) fn latency_of(l: &LatencyToml) -> Latency {
    match *l {
        LatencyToml::Fixed { value } => Latency::Fixed { value: secs_of(value) },
        LatencyToml::Exponential { mean } => Latency::Exponential { mean: secs_of(mean) },
        LatencyToml::LogNormal { median, sigma } => {
            Latency::LogNormal { median: secs_of(median), sigma }
        }
        LatencyToml::Pareto { scale, alpha, cap } => {
            Latency::Pareto { scale: secs_of(scale), alpha, cap: secs_of(cap) }
        }
    }
}

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
    dependency: DependencyToml,
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
    deadline: Option<Dur>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DependencyToml {
    #[serde(default)]
    error_rate: f64,
    latency: LatencyToml,
    capacity: Option<f64>,
    error_latency_factor: Option<f64>,
    refusal_cost: Option<f64>,
    #[serde(default, rename = "phase")]
    phases: Vec<PhaseToml>,
    sine: Option<SineToml>,
}

/// A latency distribution table: `{ distribution = "lognormal", median = "20ms", sigma = 0.5 }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", tag = "distribution")]
pub(crate) enum LatencyToml {
    #[serde(rename = "fixed")]
    Fixed { value: Dur },
    #[serde(rename = "exponential")]
    Exponential { mean: Dur },
    #[serde(rename = "lognormal")]
    LogNormal { median: Dur, sigma: f64 },
    #[serde(rename = "pareto")]
    Pareto { scale: Dur, alpha: f64, cap: Dur },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PhaseToml {
    from: Dur,
    to: Dur,
    error_rate: f64,
    error_rate_end: Option<f64>,
    latency_factor: Option<f64>,
    capacity: Option<f64>,
    capacity_end: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SineToml {
    amplitude: f64,
    period: Dur,
    from: Option<Dur>,
    to: Option<Dur>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct StrategyToml {
    name: String,
    circuit_breaker: Option<Spanned<BreakerToml>>,
    retry: Option<Spanned<RetryToml>>,
    retry_budget: Option<Spanned<BudgetToml>>,
    hedge: Option<Spanned<HedgeToml>>,
    bulkhead: Option<Spanned<BulkheadToml>>,
    rate_limiter: Option<Spanned<LimiterToml>>,
    time_limiter: Option<TimeLimiterToml>,
    ramp: Option<Spanned<RampToml>>,
    adaptive_throttle: Option<Spanned<AdaptiveThrottleToml>>,
}

/// A `[strategy.circuitBreaker]` table (resilience4j's names).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct BreakerToml {
    failure_rate_threshold: Option<f64>,
    slow_call_rate_threshold: Option<f64>,
    slow_call_duration_threshold: Option<Dur>,
    consecutive_failures: Option<u32>,
    sliding_window_type: Option<String>,
    sliding_window_size: Option<usize>,
    minimum_number_of_calls: Option<u32>,
    wait_duration_in_open_state: Option<Dur>,
    max_wait_duration_in_open_state: Option<Dur>,
    permitted_number_of_calls_in_half_open_state: Option<u32>,
    max_wait_duration_in_half_open_state: Option<Dur>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RetryToml {
    max_attempts: u32,
    wait_duration: Dur,
    backoff: Option<String>,
    multiplier: Option<f64>,
    max_wait_duration: Option<Dur>,
    jitter: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", tag = "type")]
enum BudgetToml {
    #[serde(rename = "ratio", rename_all = "camelCase")]
    Ratio { percent_can_retry: f64, min_retries_per_sec: u32, ttl: Dur },
    #[serde(rename = "throttle", rename_all = "camelCase")]
    Throttle { max_tokens: u32, token_ratio: f64 },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct HedgeToml {
    delay: Option<Dur>,
    percentile: Option<f64>,
    budget_percent: Option<f64>,
    max_hedges: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct BulkheadToml {
    max_concurrent_calls: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct LimiterToml {
    limit_for_period: u64,
    limit_refresh_period: Dur,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TimeLimiterToml {
    timeout_duration: Dur,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RampToml {
    duration: Dur,
    curve: Option<String>,
    initial_percent: Option<f64>,
    probe_initial_percent: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AdaptiveThrottleToml {
    multiplier: Option<f64>,
    aggression: Option<u32>,
    max_rejection_percent: Option<f64>,
    min_requests: Option<u32>,
    window: Option<Dur>,
}

/// `percent` (0–100) as parts per million.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "clamped first")]
pub(crate) fn ppm(percent: f64) -> u32 {
    (percent.clamp(0.0, 100.0) * 10_000.0).round() as u32
}

pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(1, |s| s.matches('\n').count() + 1)
}

/// Parses a scenario file's `text`; `file` names it in errors.
///
/// # Errors
///
/// [`ScenarioError`] for a syntax error, an unknown or mistyped key, or a policy whose settings
/// the core rejects, with the file, the line and the key.
pub fn parse(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let err = |line: Option<usize>, message: String| ScenarioError {
        file: file.to_owned(),
        line,
        message,
    };
    let f: File = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        err(line, e.message().to_owned())
    })?;
    let dependency = Dependency {
        error_rate: f.dependency.error_rate,
        latency: latency_of(&f.dependency.latency),
        phases: f
            .dependency
            .phases
            .iter()
            .map(|p| Phase {
                from: secs_of(p.from),
                to: secs_of(p.to),
                error_rate: p.error_rate,
                error_rate_end: p.error_rate_end.unwrap_or(p.error_rate),
                latency_factor: p.latency_factor.unwrap_or(1.0),
                capacity: p.capacity,
                capacity_end: p.capacity_end,
            })
            .collect(),
        sine: f.dependency.sine.map(|s| Sine {
            amplitude: s.amplitude,
            period: secs_of(s.period),
            from: s.from.map_or(0.0, secs_of),
            to: s.to.map_or(f64::INFINITY, secs_of),
        }),
        capacity: f.dependency.capacity,
        error_latency_factor: f.dependency.error_latency_factor.unwrap_or(1.0),
        refusal_cost: f.dependency.refusal_cost.unwrap_or(0.0),
    };
    if !(0.0..1.0).contains(&dependency.refusal_cost) {
        return Err(err(None, "[dependency] refusalCost: must be in [0, 1)".to_owned()));
    }
    let mut strategies = Vec::new();
    for s in f.strategies {
        let strategy = strategy(&s, f.seed, text)
            .map_err(|(line, m)| err(Some(line), format!("strategy {:?}: {m}", s.name)))?;
        strategies.push(strategy);
    }
    if strategies.is_empty() {
        return Err(err(None, "no [[strategy]] table".to_owned()));
    }
    if f.clients.rate.is_nan() || f.clients.rate <= 0.0 {
        return Err(err(None, "[clients] rate: must be positive".to_owned()));
    }
    Ok(Scenario {
        name: f.name,
        description: f.description,
        seed: f.seed,
        bucket: f.bucket.map_or(Nanos::from_secs(1), |b| b.0),
        workload: Workload {
            rate: f.clients.rate,
            duration: f.duration.0,
            deadline: f.clients.deadline.map(|d| d.0),
        },
        dependency,
        strategies,
    })
}

pub(crate) type Located<T> = Result<T, (usize, String)>;

fn located<T>(
    text: &str,
    table: &str,
    span: core::ops::Range<usize>,
    r: Result<T, ConfigError>,
) -> Located<T> {
    r.map_err(|e| (line_of(text, span.start), format!("[strategy.{table}]: {e}")))
}

/// The breaker configuration and window of a `[strategy.circuitBreaker]` table at line `at`:
/// `BreakerConfig::resilience4j()` with the table's keys applied.
pub(crate) fn breaker_of(
    b: &BreakerToml,
    seed: u64,
    at: usize,
) -> Located<(BreakerConfig, WindowSpec)> {
    let size = b.sliding_window_size.unwrap_or(100);
    let window = match b.sliding_window_type.as_deref().unwrap_or("COUNT_BASED") {
        "COUNT_BASED" if size <= MAX_WINDOW => WindowSpec::Count(size),
        // resilience4j: the last `size` seconds, one bucket per second.
        "TIME_BASED" if size <= MAX_BUCKETS => {
            WindowSpec::Time { window: Nanos::from_secs(size as u64), buckets: size.max(1) }
        }
        "COUNT_BASED" | "TIME_BASED" => {
            return Err((
                at,
                format!(
                    "[strategy.circuitBreaker] slidingWindowSize: at most {MAX_WINDOW} calls \
                     (COUNT_BASED) or {MAX_BUCKETS} seconds (TIME_BASED), got {size}"
                ),
            ));
        }
        other => {
            return Err((
                at,
                format!(
                    "[strategy.circuitBreaker] slidingWindowType: expected \"COUNT_BASED\" or \
                     \"TIME_BASED\", got {other:?}"
                ),
            ));
        }
    };
    let d = BreakerConfig::resilience4j();
    let open = b.wait_duration_in_open_state.map_or(d.open_duration, |x| x.0);
    let probes = b.permitted_number_of_calls_in_half_open_state.unwrap_or(d.half_open_probes);
    let c = BreakerConfig {
        consecutive_failures: b.consecutive_failures,
        failure_rate_ppm: Some(ppm(b.failure_rate_threshold.unwrap_or(50.0))),
        slow_rate_ppm: b.slow_call_rate_threshold.map(ppm),
        slow_call_duration: b.slow_call_duration_threshold.map(|x| x.0),
        min_calls: b.minimum_number_of_calls.unwrap_or(match window {
            WindowSpec::Count(n) => u32::try_from(n).unwrap_or(100),
            WindowSpec::Time { .. } => 100,
        }),
        open_duration: open,
        max_open_duration: b.max_wait_duration_in_open_state.map_or(open, |x| x.0),
        half_open_probes: probes,
        successes_to_close: probes,
        probe_timeout: b.max_wait_duration_in_half_open_state.map_or(d.probe_timeout, |x| x.0),
        seed,
        ..d
    };
    let c = BreakerConfig {
        slow_rate_ppm: if c.slow_call_duration.is_some() {
            c.slow_rate_ppm.or(Some(1_000_000))
        } else {
            None
        },
        ..c
    };
    Ok((c, window))
}

#[allow(
    clippy::too_many_lines,
    clippy::many_single_char_names,
    reason = "one mapping per table of the file, read top to bottom"
)]
fn strategy(s: &StrategyToml, seed: u64, text: &str) -> Located<Strategy> {
    let mut out = Strategy::bare(&s.name);
    if let Some(b) = &s.circuit_breaker {
        let (span, b) = (b.span(), b.get_ref());
        let (c, window) = breaker_of(b, seed, line_of(text, span.start))?;
        out.breaker = Some((c, window));
        located(
            text,
            "circuitBreaker",
            span.clone(),
            engine::validate(&Strategy { breaker: out.breaker, ..Strategy::bare("") }),
        )?;
    }
    if let Some(r) = &s.retry {
        let (span, r) = (r.span(), r.get_ref());
        let bad = |key: &str, v: &str| {
            (line_of(text, span.start), format!("[strategy.retry] {key}: unknown value {v:?}"))
        };
        let backoff = match r.backoff.as_deref().unwrap_or("exponential") {
            "constant" => Backoff::Constant,
            "linear" => Backoff::Linear,
            "fibonacci" => Backoff::Fibonacci,
            "exponential" => {
                #[allow(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "clamped"
                )]
                let m = (r.multiplier.unwrap_or(2.0).clamp(0.0, 1e6) * 1000.0).round() as u32;
                Backoff::Exponential { multiplier_permille: m }
            }
            other => return Err(bad("backoff", other)),
        };
        let jitter = match r.jitter.as_deref().unwrap_or("none") {
            "none" => Jitter::None,
            "full" => Jitter::Full,
            "equal" => Jitter::Equal,
            "decorrelated" => Jitter::Decorrelated,
            other => return Err(bad("jitter", other)),
        };
        let c = RetryConfig {
            max_attempts: r.max_attempts,
            backoff,
            base_delay: r.wait_duration.0,
            max_delay: r.max_wait_duration.map_or(Nanos::from_secs(10), |x| x.0),
            jitter,
            ..RetryConfig::DEFAULT
        };
        out.retry = Some(c);
        located(
            text,
            "retry",
            span.clone(),
            engine::validate(&Strategy { retry: out.retry, ..Strategy::bare("") }),
        )?;
    }
    if let Some(b) = &s.retry_budget {
        let span = b.span();
        let c = match *b.get_ref() {
            BudgetToml::Ratio { percent_can_retry, min_retries_per_sec, ttl } => {
                #[allow(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "clamped"
                )]
                let permille = (percent_can_retry.clamp(0.0, 1e6) * 10.0).round() as u32;
                BudgetConfig::Ratio(RatioBudgetConfig {
                    ttl: ttl.0,
                    min_retries_per_sec,
                    retry_ratio_permille: permille,
                })
            }
            BudgetToml::Throttle { max_tokens, token_ratio } => {
                #[allow(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "clamped"
                )]
                let milli = (token_ratio.clamp(0.0, 1e6) * 1000.0).round() as u32;
                BudgetConfig::Throttle(ThrottleConfig { max_tokens, token_ratio_milli: milli })
            }
        };
        out.budget = Some(c);
        located(
            text,
            "retryBudget",
            span.clone(),
            engine::validate(&Strategy { budget: out.budget, ..Strategy::bare("") }),
        )?;
    }
    if let Some(h) = &s.hedge {
        let (span, h) = (h.span(), h.get_ref());
        let d = HedgeConfig::DEFAULT;
        let q = h.percentile.map_or(d.high_ppm, ppm);
        let c = HedgeConfig {
            static_delay: h.delay.map_or(d.static_delay, |x| x.0),
            low_ppm: if h.percentile.is_some() { q } else { d.low_ppm },
            high_ppm: q,
            weight_ppm: if h.percentile.is_some() { 0 } else { d.weight_ppm },
            budget_ratio_ppm: h.budget_percent.map_or(d.budget_ratio_ppm, ppm),
            max_hedges: h.max_hedges.unwrap_or(1),
            ..d
        };
        out.hedge = Some(c);
        located(
            text,
            "hedge",
            span.clone(),
            engine::validate(&Strategy { hedge: out.hedge, ..Strategy::bare("") }),
        )?;
    }
    if let Some(b) = &s.bulkhead {
        out.bulkhead = Some(b.get_ref().max_concurrent_calls);
        located(
            text,
            "bulkhead",
            b.span(),
            engine::validate(&Strategy { bulkhead: out.bulkhead, ..Strategy::bare("") }),
        )?;
    }
    if let Some(l) = &s.rate_limiter {
        let (span, l) = (l.span(), l.get_ref());
        let n = l.limit_for_period.max(1);
        let q = Quota::per_interval(
            Nanos::new(l.limit_refresh_period.0.as_u64() / n),
            l.limit_for_period,
        );
        out.limiter = Some(located(text, "rateLimiter", span, q)?);
    }
    if let Some(r) = &s.ramp {
        let (span, r) = (r.span(), r.get_ref());
        let curve = match r.curve.as_deref().unwrap_or("linear") {
            "linear" => Curve::Linear,
            "exponential" => Curve::Exponential,
            other => {
                return Err((
                    line_of(text, span.start),
                    format!(
                        "[strategy.ramp] curve: expected \"linear\" or \"exponential\", got {other:?}"
                    ),
                ));
            }
        };
        let d = RampConfig::DEFAULT;
        out.ramp = Some(RampConfig {
            duration: r.duration.0,
            curve,
            initial_ppm: r.initial_percent.map_or(d.initial_ppm, ppm),
            probe_initial_ppm: r.probe_initial_percent.map_or(0, ppm),
            seed,
        });
        located(
            text,
            "ramp",
            span.clone(),
            engine::validate(&Strategy {
                ramp: out.ramp,
                breaker: out.breaker,
                ..Strategy::bare("")
            }),
        )?;
    }
    if let Some(t) = &s.adaptive_throttle {
        let (span, t) = (t.span(), t.get_ref());
        let d = ClientThrottleConfig::DEFAULT;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "clamped")]
        let multiplier_milli = t
            .multiplier
            .map_or(d.multiplier_milli, |k| (k.clamp(0.0, 1e6) * 1000.0).round() as u32);
        let c = ClientThrottleConfig {
            multiplier_milli,
            aggression: t.aggression.unwrap_or(d.aggression),
            max_reject_ppm: t.max_rejection_percent.map_or(d.max_reject_ppm, ppm),
            min_requests: t.min_requests.unwrap_or(d.min_requests),
            seed,
        };
        out.client_throttle = Some((c, t.window.map_or(Nanos::from_secs(10), |w| w.0)));
        located(
            text,
            "adaptiveThrottle",
            span.clone(),
            engine::validate(&Strategy {
                client_throttle: out.client_throttle,
                ..Strategy::bare("")
            }),
        )?;
    }
    out.attempt_timeout = s.time_limiter.as_ref().map(|t| t.timeout_duration.0);
    Ok(out)
}

/// The built-in scenario called `name`.
///
/// # Errors
///
/// [`ScenarioError`] if there is none by that name (or it does not parse, which a test rules
/// out).
pub fn built_in(name: &str) -> Result<Scenario, ScenarioError> {
    let Some((_, text)) = BUILT_IN.iter().find(|(n, _)| *n == name) else {
        return Err(ScenarioError {
            file: name.to_owned(),
            line: None,
            message: "no built-in scenario by that name".to_owned(),
        });
    };
    parse(&format!("built-in:{name}"), text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_parses() {
        for (name, _) in BUILT_IN {
            let s = built_in(name).unwrap();
            assert_eq!(s.name, name);
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(Nanos::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Ok(Nanos::from_millis(1_500)));
        assert_eq!(parse_duration("100us"), Ok(Nanos::from_micros(100)));
        assert!(parse_duration("10 parsecs").is_err());
        assert!(parse_duration("ms").is_err());
    }

    const GOOD: &str = r#"name = "x"
duration = "10s"
[clients]
rate = 10.0
[dependency]
latency = { distribution = "fixed", value = "10ms" }
[[strategy]]
name = "b"
[strategy.circuitBreaker]
failureRateThreshold = 50.0
slidingWindowSize = 20
"#;

    #[test]
    fn a_good_file_parses_with_resilience4j_names() {
        let parsed = parse("good.toml", GOOD).unwrap();
        let (c, n) = parsed.strategies[0].breaker.unwrap();
        assert_eq!(
            (c.failure_rate_ppm, n, c.min_calls),
            (Some(500_000), WindowSpec::Count(20), 20)
        );
        let timed = GOOD.replace(
            "slidingWindowSize = 20",
            "slidingWindowType = \"TIME_BASED\"\nslidingWindowSize = 10",
        );
        let (_, w) = parse("t.toml", &timed).unwrap().strategies[0].breaker.unwrap();
        assert_eq!(w, WindowSpec::Time { window: Nanos::from_secs(10), buckets: 10 });
        let bad = GOOD.replace("slidingWindowSize = 20", "slidingWindowType = \"SLIDING\"");
        let e = parse("b.toml", &bad).unwrap_err();
        assert!(e.message.contains("slidingWindowType") && e.line == Some(9), "{e}");
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let bad = GOOD.replace("slidingWindowSize", "slidingWindowSise");
        let e = parse("bad.toml", &bad).unwrap_err();
        assert_eq!(e.file, "bad.toml");
        assert_eq!(e.line, Some(11));
        assert!(e.message.contains("slidingWindowSise"), "{e}");
        assert!(e.to_string().starts_with("bad.toml:11: "), "{e}");
    }

    #[test]
    fn mistyped_value_names_line() {
        let bad = GOOD.replace("rate = 10.0", "rate = \"fast\"");
        let e = parse("bad.toml", &bad).unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
        let bad = GOOD.replace("\"10s\"", "\"10 parsecs\"");
        let e = parse("bad.toml", &bad).unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.message.contains("invalid duration"), "{e}");
    }

    #[test]
    fn ramps_throttles_and_capacity_phases_parse() {
        let ramped = format!(
            "{GOOD}[strategy.ramp]\nduration = \"20s\"\ncurve = \"exponential\"\ninitialPercent = 5.0\n"
        );
        let ramp = parse("r.toml", &ramped).unwrap().strategies[0].ramp.unwrap();
        assert_eq!(
            (ramp.duration, ramp.curve, ramp.initial_ppm),
            (Nanos::from_secs(20), Curve::Exponential, 50_000)
        );
        let bad = ramped.replace("exponential", "cubic");
        let e = parse("r.toml", &bad).unwrap_err();
        assert!(e.message.contains("curve") && e.line == Some(12), "{e}");
        let no_breaker = GOOD.replace(
            "[strategy.circuitBreaker]\nfailureRateThreshold = 50.0\nslidingWindowSize = 20\n",
            "[strategy.ramp]\nduration = \"1s\"\n",
        );
        let e = parse("r.toml", &no_breaker).unwrap_err();
        assert!(e.message.contains("ramp needs a circuit breaker"), "{e}");
        let throttled =
            format!("{GOOD}[strategy.adaptiveThrottle]\nmultiplier = 1.5\nwindow = \"20s\"\n");
        let (throttle, window) =
            parse("t.toml", &throttled).unwrap().strategies[0].client_throttle.unwrap();
        assert_eq!((throttle.multiplier_milli, window), (1_500, Nanos::from_secs(20)));
        let e = parse("t.toml", &throttled.replace("1.5", "0.5")).unwrap_err();
        assert!(
            e.message.contains("[strategy.adaptiveThrottle]")
                && e.message.contains("multiplier_milli"),
            "{e}"
        );
        let phased = GOOD.replace(
            "[[strategy]]",
            "refusalCost = 0.2\n[[dependency.phase]]\nfrom = \"1s\"\nto = \"2s\"\nerrorRate = 0.0\ncapacity = 10.0\ncapacityEnd = 20.0\n[[strategy]]",
        );
        let dep = parse("p.toml", &phased).unwrap().dependency;
        assert_eq!((dep.refusal_cost, dep.capacity_at(1.5)), (0.2, Some(15.0)));
        let e = parse("p.toml", &phased.replace("0.2", "1.0")).unwrap_err();
        assert!(e.message.contains("refusalCost"), "{e}");
    }

    #[test]
    fn core_rejection_names_table_and_line() {
        let bad = GOOD.replace("failureRateThreshold = 50.0", "minimumNumberOfCalls = 50");
        let e = parse("bad.toml", &bad).unwrap_err();
        assert_eq!(e.line, Some(9), "{e}");
        assert!(e.message.contains("[strategy.circuitBreaker]"), "{e}");
        assert!(e.message.contains("strategy \"b\""), "{e}");
    }
}
