#!/usr/bin/env python3
"""Writes docs/benchmarks.md from criterion's results: per-operation times and ratios to baselines.

Usually run by scripts/bench.sh, right after `cargo bench`; standard library only. The C and Go
benchmarks' outputs, given with --c-results and --go-results, join the report as groups `c` and
`go` (see load_c and load_go).

Input: every `<target-dir>/criterion/**/new/estimates.json` (with its `benchmark.json` and
`sample.json`), where the target directory is `--target-dir`, else `$CARGO_TARGET_DIR`, else
`target/` at the repository root. `--since` keeps only results written after a given time, so
results left by earlier runs of renamed or removed benchmarks do not appear.

Naming rule (what the benchmarks must follow, and how each is paired with its baseline):

- the benchmarks of `benches/benches/<name>.rs` are in the criterion group `<name>`, and the top
  of that file says what each measures and what the second thread does in a `2t` benchmark;
- a benchmark id is `<subject>/<operation>/<T>t` inside a criterion group, `T` being the number of
  threads working on the measured object (`count100/record_success/1t` in group `window`);
- the subject `baseline` marks the raw operation a primitive is built on, measured in the same run
  (`baseline/fetch_add/1t`);
- an operation ending in `_separate` (always `2t`) has the second thread work on an object of its
  own instead of the measured one (`closed/guarded_call_separate/2t`); its baseline is the raw
  operation done likewise, each thread on a word of its own (`baseline/fetch_add_separate/2t`);
- each benchmark is divided by the baseline of the same group and the same `T`, whose operation is
  the one given by the first entry of BASELINES below that matches (group, benchmark id); if none
  matches, the group's only baseline operation for that `T`; if the group has several, `fetch_add`
  (DEFAULT_BASELINE). A benchmark with no such baseline is listed without a ratio.

A new benchmark file (breaker, limiter, ...) needs no change here when it follows the rule; a group
with several baselines (say `fetch_add` and `compare_exchange`) adds entries to BASELINES.

The statistic is criterion's median of the per-iteration times of its samples (see STATISTIC);
a ratio divides two medians of the same run. TARGETS lists the project's performance targets; each
is evaluated from the measured ratio, never typed in.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

# (group regex, benchmark-id regex, baseline operation): explicit pairings, first match wins.
# Example: ("limiter", r"^gcra/", "compare_exchange") pairs `limiter/gcra/acquire/2t` with
# `limiter/baseline/compare_exchange/2t`.
BASELINES: list[tuple[str, str, str]] = [
    # The breaker's admission beside a recorder: an acquire load of a word another thread writes.
    ("^breaker$", r"^closed/try_acquire/2t$", "load_under_writer"),
    # The breaker's record: a CAS loop on its packed state word; beside a second thread on a
    # breaker of its own, the same loop with each thread on a word of its own.
    ("^breaker$", r"^closed/record/", "cas_loop"),
    ("^breaker$", r"^closed/record_separate/2t$", "cas_loop_separate"),
    # Two threads on separate objects: the raw operation with each thread on its own word (for
    # the limiter's admissions, the compare_exchange loop they are divided by below).
    ("^limiter_now_supplied$", r"/admit(_n\d+)?_separate/2t$", "cas_loop_separate"),
    (".", r"_separate/2t$", "fetch_add_separate"),
    # The limiter's admit (now supplied), of one permit or of N at once: one successful
    # compare_exchange loop.
    ("^limiter_now_supplied$", r"/admit(_n\d+)?/", "cas_loop"),
    # C calls: divided by a C11 atomic fetch_add; Go calls: by an empty cgo call.
    ("^c$", r".", "atomic_fetch_add"),
    ("^go$", r".", "empty_cgo_call"),
]
DEFAULT_BASELINE = "fetch_add"

# The criterion estimate reported and divided: "median" or "mean".
STATISTIC = "median"

# The project's targets. `max_ratio` bounds the benchmark's time divided by its baseline's, or,
# with `versus`, by the time of that other benchmark of the same group (a peer crate).
# `target: False` marks a row shown beside a target for information, without a verdict.
# `unmeasured` gives the reason a target has no benchmark yet (listed as "not measured").
# `why` explains, for a target whose cost is understood, what keeps it above its bound: printed
# under "Why these targets are not met" only when the run does not meet it.
TARGETS = [
    {
        "text": "record on the count window ≤ 2× a raw fetch_add, single-threaded",
        "group": "window",
        "benchmark": "count100/record_success/1t",
        "max_ratio": 2.0,
        "target": True,
    },
    {
        "text": "the same bound, for information, on the worst case of record "
        "(every record evicts an outcome of the other kind)",
        "group": "window",
        "benchmark": "count100/record_alternating/1t",
        "max_ratio": 2.0,
        "target": False,
    },
    # Circuit breaker.
    {
        "text": "breaker: closed admission ≤ 0.5× a fetch_add",
        "group": "breaker",
        "benchmark": "closed/try_acquire/1t",
        "max_ratio": 0.5,
        "target": True,
    },
    {
        "text": "breaker: closed admission beside a recorder ≤ 1.5× the load-under-writer baseline",
        "group": "breaker",
        "benchmark": "closed/try_acquire/2t",
        "max_ratio": 1.5,
        "target": True,
    },
    {
        "text": "breaker: open rejection, now supplied ≤ 1.0× a fetch_add",
        "group": "breaker",
        "benchmark": "open/try_acquire/1t",
        "max_ratio": 1.0,
        "target": True,
    },
    {
        "text": "breaker: record ≤ 1.5× the packed-word CAS loop, 1 thread",
        "group": "breaker",
        "benchmark": "closed/record/1t",
        "max_ratio": 1.5,
        "target": True,
    },
    {
        "text": "breaker: record ≤ 1.5× the packed-word CAS loop, 2 threads on one breaker",
        "group": "breaker",
        "benchmark": "closed/record/2t",
        "max_ratio": 1.5,
        "target": True,
        "why": "a record is two read-modify-writes on shared cache lines (the position counter, then the "
        "slot), where the baseline is one; at 2 threads on one breaker each moves a line between "
        "the cores",
    },
    {
        "text": "breaker: guarded call ≤ 2× a fetch_add, 1 thread",
        "group": "breaker",
        "benchmark": "closed/guarded_call/1t",
        "max_ratio": 2.0,
        "target": True,
        "why": "an admission and a record are at least two read-modify-writes (the position claim and the "
        "slot write), each about one fetch_add: the bound leaves nothing for the rest of the path",
    },
    {
        "text": "breaker: guarded call ≤ 0.5× failsafe's CircuitBreaker::call, 2 threads",
        "group": "breaker",
        "benchmark": "closed/guarded_call/2t",
        "versus": "failsafe/guarded_call/2t",
        "max_ratio": 0.5,
        "target": True,
        "why": "each guarded call on one breaker moves two cache lines between the cores (the position "
        "counter and a slot), about two contended fetch_adds; the bound asks for less",
    },
    {
        "text": "breaker: guarded call ÷ recloser's Recloser::call, 2 threads (for information)",
        "group": "breaker",
        "benchmark": "closed/guarded_call/2t",
        "versus": "recloser/guarded_call/2t",
        "max_ratio": 0.5,
        "target": False,
    },
    # Rate limiter.
    {
        "text": "limiter: admit, now supplied ≤ 1.5× a compare_exchange loop",
        "group": "limiter_now_supplied",
        "benchmark": "gcra/admit/1t",
        "max_ratio": 1.5,
        "target": True,
    },
    {
        "text": "limiter: refusal, now supplied ≤ 1.0× a fetch_add",
        "group": "limiter_now_supplied",
        "benchmark": "gcra/refuse/1t",
        "max_ratio": 1.0,
        "target": True,
    },
    *[
        {
            "text": f"limiter: {op} with the coarse clock ≤ 1.0× governor's check, {t} thread(s)",
            "group": "limiter_with_clock",
            "benchmark": f"coarse/{op}/{t}t",
            "versus": f"governor/check_{op}/{t}t",
            "max_ratio": 1.0,
            "target": True,
        }
        for op in ("allow", "deny")
        for t in (1, 2)
    ],
    *[
        {
            "text": f"limiter: {op}, reading Instant::now() ÷ {peer_text} (which reads it too), "
            f"{t} thread(s) (for information)",
            "group": "limiter_with_clock",
            "benchmark": f"monotonic/{op}/{t}t",
            "versus": f"{peer}_{op}/{t}t",
            "max_ratio": 1.0,
            "target": False,
        }
        for peer, peer_text in (
            ("ratelimit/try_wait", "ratelimit's Ratelimiter::try_wait"),
            ("leaky_bucket/try_acquire", "leaky-bucket's RateLimiter::try_acquire(1), fair"),
        )
        for op in ("allow", "deny")
        for t in (1, 2)
    ],
    # Bulkhead.
    {
        "text": "bulkhead: try-acquire + release ≤ 2.5× a fetch_add, 1 thread",
        "group": "bulkhead",
        "benchmark": "bulkhead/acquire_release/1t",
        "max_ratio": 2.5,
        "target": True,
    },
    *[
        {
            "text": f"bulkhead: try-acquire + release ≤ 0.5× tokio's Semaphore, {t} thread(s)",
            "group": "bulkhead",
            "benchmark": f"bulkhead/acquire_release/{t}t",
            "versus": f"tokio/try_acquire_drop/{t}t",
            "max_ratio": 0.5,
            "target": True,
            **(
                {
                    "why": "an acquisition and a release are two read-modify-writes of the state word (a "
                    "CAS and a fetch_sub), at least two fetch_adds (see baseline/fetch_add/1t), and half "
                    "of tokio's try_acquire + drop is less than that here"
                }
                if t == 1
                else {}
            ),
        }
        for t in (1, 2)
    ],
    {
        "text": "bulkhead: refusal ≤ 1.0× a fetch_add (uncounted refusals: one load, writes nothing)",
        "group": "bulkhead",
        "benchmark": "bulkhead/refusal_uncounted/1t",
        "max_ratio": 1.0,
        "target": True,
    },
    {
        "text": "the same bound, for information, on a counted refusal (the default: a CAS that "
        "makes it linearizable and counts it)",
        "group": "bulkhead",
        "benchmark": "bulkhead/refusal/1t",
        "max_ratio": 1.0,
        "target": False,
    },
    # Two threads on separate objects cost what one thread costs: nothing shared, no false
    # sharing.
    *[
        {
            "text": f"{what}: 2 threads on separate objects ≤ 1.3× 1 thread",
            "group": group,
            "benchmark": f"{op}_separate/2t",
            "versus": f"{op}/1t",
            "max_ratio": 1.3,
            "target": True,
        }
        for what, group, op in (
            ("breaker: closed admission", "breaker", "closed/try_acquire"),
            ("breaker: open rejection", "breaker", "open/try_acquire"),
            ("breaker: record", "breaker", "closed/record"),
            ("breaker: guarded call", "breaker", "closed/guarded_call"),
            ("limiter: admit, now supplied", "limiter_now_supplied", "gcra/admit"),
            ("limiter: admit 8 at once, now supplied", "limiter_now_supplied", "gcra/admit_n8"),
            ("limiter: refusal, now supplied", "limiter_now_supplied", "gcra/refuse"),
            ("bulkhead: try-acquire + release", "bulkhead", "bulkhead/acquire_release"),
            ("adaptive limit: AIMD update", "bulkhead", "adaptive/aimd_record"),
            ("adaptive limit: gradient update", "bulkhead", "adaptive/gradient_record"),
            ("count window: record", "window", "count100/record_success"),
            ("time window: record", "window", "time10/record_success"),
            ("retry: a retry decision", "retry", "policy/decide"),
            ("retry: throttle success + failure", "retry", "throttle/record_failure"),
            ("retry: ratio budget deposit + withdrawal", "retry", "ratio/deposit_withdraw"),
            ("histogram: record", "histogram", "histogram/record"),
            ("histogram: percentile read", "histogram", "histogram/percentile"),
            ("deadline: check", "deadline", "deadline/remaining"),
        )
    ],
    # Retry and histogram.
    {
        "text": "retry: a retry decision ≤ 2× a fetch_add",
        "group": "retry",
        "benchmark": "policy/decide/1t",
        "max_ratio": 2.0,
        "target": True,
    },
    {
        "text": "histogram: a record ≤ 2× a fetch_add",
        "group": "histogram",
        "benchmark": "histogram/record/1t",
        "max_ratio": 2.0,
        "target": True,
    },
    # Keyed tables: lookup + admission beside the un-keyed admission, by table fill.
    *[
        {
            "text": f"keyed: {what} ≤ 3× the un-keyed one, table {fill} % full",
            "group": "keyed",
            "benchmark": f"{subject}/{op}/fill{fill}",
            "versus": f"{subject}/unkeyed/{unkeyed_op}",
            "max_ratio": 3.0,
            "target": True,
        }
        for what, subject, op, unkeyed_op in (
            ("limiter lookup + try_acquire", "limiter", "get_try_acquire", "try_acquire"),
            ("bulkhead lookup + acquire + release", "bulkhead", "get_acquire_release", "acquire_release"),
        )
        for fill in (25, 50, 75)
    ],
    # C and Go: the cost of crossing the language boundary.
    *[
        {
            "text": f"C: {what} ≤ 1.2× (the Rust call + an empty C call into another "
            "translation unit)",
            "group": "c",
            "benchmark": f"{c_id}/1t",
            "rust": rust,
            "max_ratio": 1.2,
            "target": True,
        }
        for what, c_id, rust in (
            ("count window record", "count100/record_success", ("window", "count100/record_success/1t")),
            ("breaker admission", "breaker/try_acquire", ("breaker", "closed/try_acquire/1t")),
            ("breaker guarded call", "breaker/guarded_call", ("breaker", "closed/guarded_call/1t")),
            ("limiter admission", "limiter/try_acquire", ("limiter_now_supplied", "gcra/admit/1t")),
            ("bulkhead acquire + release", "bulkhead/acquire_release", ("bulkhead", "bulkhead/acquire_release/1t")),
        )
    ],
    {
        "text": "Go: an admission call (a closed breaker's Acquire) ≤ 1.2× an empty cgo call",
        "group": "go",
        "benchmark": "breaker/acquire/1t",
        "max_ratio": 1.2,
        "target": True,
    },
    {
        "text": "Go: a batched record ≤ 5 ns per item (count window)",
        "group": "go",
        "benchmark": "count_window/record_batch_per_item/1t",
        "max_ns": 5.0,
        "target": True,
        "why": "each outcome is one compare-and-swap on its own slot word (about one fetch_add, 6 ns here); "
        "less needs several outcomes packed per word, a different window",
    },
    {
        "text": "Go: a batched record ≤ 5 ns per item (breaker)",
        "group": "go",
        "benchmark": "breaker/record_batch_per_item/1t",
        "max_ns": 5.0,
        "target": True,
        "why": "the breaker records a batch one outcome at a time, with the full rule check per outcome, "
        "so that a batch trips at exactly the outcome that would trip it one by one",
    },
    *[
        {
            "text": f"Go: the rate-limit check ({clock}) ≤ {bound:g}× x/time/rate's Allow, "
            f"{t} goroutine(s)",
            "group": "go",
            "benchmark": f"{subject}/allow/{t}t",
            "versus": f"x_time_rate/allow/{t}t",
            "max_ratio": bound,
            "target": True,
            "why": "with 2 goroutines every admission writes the shared state word: a clock read plus one CAS "
            "on a line two cores share costs about as much here (go test -bench BaselineClockCAS)"
            " as the whole check; the coarse clock is read through a cgo call, which the precise "
            "clock's Go path does not make",
        }
        for clock, subject in (("precise clock", "limiter"), ("coarse clock", "limiter_coarse_clock"))
        for t, bound in ((1, 0.6), (2, 0.5))
    ],
    {
        "text": "Go: Breaker.Execute ÷ gobreaker's Execute (for information)",
        "group": "go",
        "benchmark": "breaker/execute/1t",
        "versus": "gobreaker/execute/1t",
        "max_ratio": 1.0,
        "target": False,
    },
    {
        "text": "Go: Breaker.Allow + done ÷ gobreaker's TwoStep Allow + done (for information)",
        "group": "go",
        "benchmark": "breaker/allow_done/1t",
        "versus": "gobreaker/allow_done/1t",
        "max_ratio": 1.0,
        "target": False,
    },
]

# How the cost grows with the size of a primitive, all single-threaded: (what, group, size name,
# [(size, benchmark id)] from the smallest size up). Listed side by side in the "Scaling" section,
# each divided by the smallest size's time.
SCALING: list[tuple[str, str, str, list[tuple[str, str]]]] = [
    *[
        (
            f"count window `{op}`",
            "window",
            "N slots",
            [(f"{n:,}", f"count{n}/{op}/1t") for n in (10, 100, 1000)],
        )
        for op in ("record_success", "counts")
    ],
    *[
        (
            f"time window `{op}`",
            "window",
            "K buckets",
            [(f"{k:,}", f"time{k}/{op}/1t") for k in (10, 100)],
        )
        for op in ("record_success", "counts")
    ],
    *[
        (
            f"histogram `{op}`",
            "histogram",
            "buckets (SUB per power of two)",
            [
                ("304 (8)", f"histogram_sub8/{op}/1t"),
                ("1,152 (32)", f"histogram/{op}/1t"),
                ("4,352 (128)", f"histogram_sub128/{op}/1t"),
            ],
        )
        for op in ("record", "percentile")
    ],
]

# Below this much measured time per benchmark, the numbers are flagged as indicative only.
SHORT_MEASUREMENT_S = 2.0
# Above this percentage of all CPU time in use just before the run, the machine is flagged busy.
BUSY_PERCENT = 10

ID_RE = re.compile(r"^(?P<subject>[^/]+)/(?P<operation>.+)/(?P<threads>\d+)t$")

REPO = Path(__file__).resolve().parent.parent


class Bench:
    """One criterion benchmark's result."""

    def __init__(self, directory: Path, meta: dict, estimates: dict, sample: dict | None):
        # `c.bench_function(id)` outside a group: criterion stores the id as the group.
        self.group = meta["group_id"] if meta.get("function_id") else "(no group)"
        self.id = meta.get("function_id") or meta["group_id"]
        if meta.get("value_str"):
            self.id = f"{self.id}/{meta['value_str']}"
        est = estimates[STATISTIC]
        self.ns = est["point_estimate"]
        ci = est["confidence_interval"]
        self.low, self.high = ci["lower_bound"], ci["upper_bound"]
        self.confidence = ci.get("confidence_level", 0.95)
        self.measured_s = sum(sample["times"]) / 1e9 if sample else None
        self.mtime = (directory / "estimates.json").stat().st_mtime
        m = ID_RE.match(self.id)
        self.subject = m["subject"] if m else None
        self.operation = m["operation"] if m else None
        self.threads = int(m["threads"]) if m else None
        self.baseline: Bench | None = None

    @property
    def is_baseline(self) -> bool:
        return self.subject == "baseline"


def load(criterion_dir: Path, since: float | None) -> tuple[list[Bench], int]:
    """Every benchmark under `criterion_dir` (newer than `since`), and how many were skipped."""
    benches, skipped = [], 0
    for est_path in sorted(criterion_dir.glob("**/new/estimates.json")):
        d = est_path.parent
        if since is not None and est_path.stat().st_mtime < since:
            skipped += 1
            continue
        meta_path = d / "benchmark.json"
        if not meta_path.exists():
            continue
        meta = json.loads(meta_path.read_text())
        estimates = json.loads(est_path.read_text())
        sample_path = d / "sample.json"
        sample = json.loads(sample_path.read_text()) if sample_path.exists() else None
        benches.append(Bench(d, meta, estimates, sample))
    return benches, skipped


class ExtBench(Bench):
    """One result of the C or Go benchmarks, which run outside criterion: `ns` is the median
    of the runs, `low`..`high` their range."""

    def __init__(self, group: str, bench_id: str, runs: list[float], mtime: float):
        runs = sorted(runs)
        self.group, self.id = group, bench_id
        self.ns = runs[len(runs) // 2]
        self.low, self.high = runs[0], runs[-1]
        self.confidence = None
        self.measured_s = None
        self.mtime = mtime
        m = ID_RE.match(bench_id)
        self.subject = m["subject"] if m else None
        self.operation = m["operation"] if m else None
        self.threads = int(m["threads"]) if m else None
        self.baseline = None


# The C benchmarks (benches/c/bench.c) print `c/<name>,<ns per op>`, each a median of 7 runs of
# one thread; their ids here are `<name>/1t` in group `c`.
C_LINE_RE = re.compile(r"^c/(?P<name>[^,]+),(?P<ns>[0-9.]+)$")


def load_c(path: Path | None) -> list[Bench]:
    if path is None or not path.exists():
        return []
    runs: dict[str, list[float]] = {}
    for line in path.read_text().splitlines():
        m = C_LINE_RE.match(line.strip())
        if m:
            runs.setdefault(f"{m['name']}/1t", []).append(float(m["ns"]))
    mtime = path.stat().st_mtime
    return [ExtBench("c", i, r, mtime) for i, r in runs.items()]


# The Go benchmarks (bindings/go/bench_test.go), by their Go name: the id in group `go`. A
# `Parallel` benchmark runs GOMAXPROCS goroutines (2 on the reference machine); a batch
# benchmark's figure is its `ns/item` metric.
GO_IDS = {
    "BaselineEmptyCgoCall": "baseline/empty_cgo_call/1t",
    "BaselineAtomicAdd": "baseline/atomic_add/1t",
    "BaselineMutexCounter": "baseline/mutex_counter/1t",
    "BreakerAcquire": "breaker/acquire/1t",
    "BreakerAcquireAt": "breaker/acquire_at/1t",
    "BreakerAcquireParallel": "breaker/acquire/2t",
    "BreakerAcquireRecord": "breaker/acquire_record/1t",
    "BreakerExecute": "breaker/execute/1t",
    "BreakerAllow": "breaker/allow_done/1t",
    "BreakerRecordBatch": "breaker/record_batch_per_item/1t",
    "CountWindowRecord": "count_window/record/1t",
    "CountWindowRecordParallel": "count_window/record/2t",
    "CountWindowRecordBatch": "count_window/record_batch_per_item/1t",
    "BulkheadAcquireRelease": "bulkhead/acquire_release/1t",
    "LimiterAllow": "limiter/allow/1t",
    "LimiterAllowParallel": "limiter/allow/2t",
    "LimiterAllowCoarseClock": "limiter_coarse_clock/allow/1t",
    "LimiterAllowCoarseClockParallel": "limiter_coarse_clock/allow/2t",
    "PeerXTimeRateAllow": "x_time_rate/allow/1t",
    "PeerXTimeRateAllowParallel": "x_time_rate/allow/2t",
    "PeerGobreakerExecute": "gobreaker/execute/1t",
    "PeerGobreakerAllow": "gobreaker/allow_done/1t",
}
GO_LINE_RE = re.compile(r"^Benchmark(?P<name>\w+?)(-\d+)?\s+\d+\s+(?P<rest>.*)$")


def load_go(path: Path | None) -> list[Bench]:
    if path is None or not path.exists():
        return []
    runs: dict[str, list[float]] = {}
    for line in path.read_text().splitlines():
        m = GO_LINE_RE.match(line.strip())
        if not m or m["name"] not in GO_IDS:
            continue
        fields = m["rest"].split()
        values = dict(zip(fields[1::2], fields[0::2]))
        value = values.get("ns/item") or values.get("ns/op")
        if value is not None:
            runs.setdefault(GO_IDS[m["name"]], []).append(float(value))
    mtime = path.stat().st_mtime
    return [ExtBench("go", i, r, mtime) for i, r in runs.items()]


# Printed by the benchmarks (portcullis_benches::Tally::print) for every `2t` benchmark.
BACKGROUND_RE = re.compile(
    r"^(?P<id>\S+): background thread ran (?P<ratio>[0-9.]+) operations per measured operation$"
)


def background_ratios(log: Path | None) -> dict[str, float]:
    """Background operations per measured operation, by `group/id`, from the run's output."""
    if log is None or not log.exists():
        return {}
    ratios = {}
    for line in log.read_text(errors="replace").splitlines():
        m = BACKGROUND_RE.match(line.strip())
        if m:
            ratios[m["id"]] = float(m["ratio"])
    return ratios


def pair(benches: list[Bench]) -> None:
    """Sets each benchmark's baseline by the naming rule in the module docstring."""
    baselines: dict[tuple[str, int], dict[str, Bench]] = {}
    for b in benches:
        if b.is_baseline and b.threads is not None:
            baselines.setdefault((b.group, b.threads), {})[b.operation] = b
    for b in benches:
        if b.threads is None:
            continue
        ops = baselines.get((b.group, b.threads), {})
        if b.is_baseline:
            b.baseline = b
            continue
        wanted = next(
            (op for g, pat, op in BASELINES if re.search(g, b.group) and re.search(pat, b.id)),
            None,
        )
        if wanted is None:
            wanted = next(iter(ops)) if len(ops) == 1 else DEFAULT_BASELINE
        b.baseline = ops.get(wanted)


def fmt_ns(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def ratio(b: Bench) -> float | None:
    return b.ns / b.baseline.ns if b.baseline else None


def run(cmd: list[str]) -> str:
    try:
        return subprocess.run(
            cmd, cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "cpu model", "Hardware"):
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def locked_version(name: str) -> str:
    lock = REPO / "Cargo.lock"
    try:
        text = lock.read_text()
    except OSError:
        return "unknown"
    m = re.search(rf'name = "{re.escape(name)}"\nversion = "([^"]+)"', text)
    return m[1] if m else "unknown"


def machine(load_before: str | None, busy_before: float | None) -> list[str]:
    cores = os.cpu_count() or 0
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = cores
    lines = [
        f"- CPU: {cpu_model()} ({platform.machine()})",
        f"- Logical CPUs: {cores} ({usable} usable by the benchmark process)",
        f"- OS: {platform.system()} {platform.release()}",
        f"- Compiler: `{run(['rustc', '--version'])}`; criterion {locked_version('criterion')}",
    ]
    if busy_before is not None:
        lines.append(f"- CPU time in use just before the run (over 2 s): {busy_before:g}%")
    if load_before:
        avg = " / ".join(load_before.split()[:3])
        lines.append(f"- Load average just before the run (1 / 5 / 15 min): {avg}")
    return lines


def group_table(benches: list[Bench], background: dict[str, float]) -> list[str]:
    if benches[0].confidence is None:
        stat, interval = "median", "range of the runs"
    else:
        stat, interval = STATISTIC, f"{round(benches[0].confidence * 100)}% interval"
    # The background column only for groups whose benchmarks report it.
    with_bg = any(f"{b.group}/{b.id}" in background for b in benches)
    lines = [
        f"| Benchmark | {stat} ns/op | {interval} | ratio to baseline | baseline |"
        + (" background ops per op |" if with_bg else ""),
        "| --- | ---: | ---: | ---: | --- |" + (" ---: |" if with_bg else ""),
    ]
    order = sorted(
        benches,
        key=lambda b: (b.threads if b.threads is not None else 1 << 30, not b.is_baseline, b.mtime),
    )
    for b in order:
        r = ratio(b)
        if b.is_baseline:
            r_text, base_text = "1 (baseline)", "—"
        elif r is None:
            r_text, base_text = "—", "none in this run"
        else:
            r_text, base_text = f"{r:.2f}×", f"`{b.baseline.id}`"
        row = f"| `{b.id}` | {fmt_ns(b.ns)} | {fmt_ns(b.low)} – {fmt_ns(b.high)} "
        row += f"| {r_text} | {base_text} |"
        if with_bg:
            bg = background.get(f"{b.group}/{b.id}")
            row += f" {bg:.2f} |" if bg is not None else " — |"
        lines.append(row)
    return lines


def evaluate(t: dict, by_key: dict) -> tuple[str, str, str, str]:
    """A target's benchmark name, measured value, bound and verdict in this run."""
    b = by_key.get((t["group"], t["benchmark"]))
    versus = by_key.get((t["group"], t["versus"])) if "versus" in t else None
    rust = by_key.get(t["rust"]) if "rust" in t else None
    empty_call = by_key.get(("c", "baseline/empty_call_other_tu/1t"))
    if "max_ns" in t:
        r = b.ns if b else None
        divisor = None
    elif "rust" in t:
        both = rust and empty_call
        r = b.ns / (rust.ns + empty_call.ns) if b and both else None
        divisor = f"{'/'.join(t['rust'])} + c/baseline/empty_call_other_tu/1t"
    elif "versus" in t:
        r = b.ns / versus.ns if b and versus and versus.ns > 0 else None
        divisor = t["versus"]
    else:
        r = ratio(b) if b else None
        divisor = b.baseline.id if b and b.baseline else None
    name = f"`{t['group']}/{t['benchmark']}`"
    limit = t.get("max_ns", t.get("max_ratio"))
    bound = f"≤ {limit:g} ns" if "max_ns" in t else f"≤ {limit:g}×"
    if "unmeasured" in t:
        verdict = f"not measured: {t['unmeasured']}"
        shown = "—"
    elif r is None:
        verdict = "not measured in this run"
        shown = "—"
    else:
        shown = f"{r:.2f} ns" if divisor is None else f"{r:.2f}× (÷ `{divisor}`)"
        ok = r <= limit
        if t["target"]:
            verdict = "**met**" if ok else "**not met**"
        else:
            verdict = "within the bound" if ok else "above the bound"
            verdict += " (for information)"
    return name, shown, bound, verdict


def targets_section(benches: list[Bench]) -> list[str]:
    by_key = {(b.group, b.id): b for b in benches}
    lines = [
        "## Targets",
        "",
        "| Target | Benchmark | measured | bound | verdict |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    for t in TARGETS:
        name, shown, bound, verdict = evaluate(t, by_key)
        lines.append(f"| {t['text']} | {name} | {shown} | {bound} | {verdict} |")
    return lines


def why_section(benches: list[Bench]) -> list[str]:
    """The targets not met in this run whose cost is understood (a `why`), and why."""
    by_key = {(b.group, b.id): b for b in benches}
    rows = [
        f"- {t['text']} ({name}): {t['why']}."
        for t in TARGETS
        if "why" in t
        for name, _, _, verdict in [evaluate(t, by_key)]
        if verdict == "**not met**"
    ]
    if not rows:
        return []
    return ["## Why these targets are not met", "", *rows, ""]


def scaling_section(benches: list[Bench]) -> list[str]:
    """The SCALING rows side by side, each size divided by the smallest; empty when none ran."""
    by_key = {(b.group, b.id): b for b in benches}
    if not any((group, i) in by_key for _, group, _, sizes in SCALING for _, i in sizes):
        return []
    lines = [
        "## Scaling",
        "",
        "How the time of one operation grows with the size of the primitive (one thread, same "
        "run): each size's median ns/op, and in parentheses its ratio to the smallest size's. "
        "A record should not grow with the size; a read that sums every bucket does.",
        "",
        "| operation | size | ns/op by size (× smallest) | benchmarks |",
        "| --- | --- | --- | --- |",
    ]
    for what, group, size_name, sizes in SCALING:
        smallest = by_key.get((group, sizes[0][1]))
        cells = []
        for size, bench_id in sizes:
            b = by_key.get((group, bench_id))
            if b is None:
                cells.append(f"{size}: not measured")
            elif smallest is None or smallest.ns <= 0:
                cells.append(f"{size}: {fmt_ns(b.ns)}")
            else:
                cells.append(f"{size}: {fmt_ns(b.ns)} ({b.ns / smallest.ns:.2f}×)")
        ids = ", ".join(f"`{i}`" for _, i in sizes)
        lines.append(f"| {what} | {size_name} | {' · '.join(cells)} | `{group}`: {ids} |")
    lines.append("")
    return lines


def render(
    benches: list[Bench],
    commands: list[str],
    notes: list[str],
    load_before: str | None,
    busy_before: float | None,
    background: dict[str, float],
    sizes: Path | None = None,
    instructions: Path | None = None,
    cpp: Path | None = None,
) -> str:
    groups: dict[str, list[Bench]] = {}
    for b in sorted(benches, key=lambda b: b.mtime):
        groups.setdefault(b.group, []).append(b)
    newest = max(b.mtime for b in benches)
    when = dt.datetime.fromtimestamp(newest, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        "# Benchmarks",
        "",
        "<!-- Generated by scripts/bench-report.py from criterion's results; do not edit by hand:",
        "     regenerate with scripts/bench.sh. -->",
        "",
        "Every number below was produced by this command, on the machine described, in one run"
        f" that finished at {when}:",
        "",
        "```sh",
        *commands,
        "```",
        "",
    ]
    warnings = list(notes)
    timed = [b for b in benches if b.measured_s is not None]
    if timed:
        shortest = min(timed, key=lambda b: b.measured_s)
        if shortest.measured_s < SHORT_MEASUREMENT_S:
            warnings.append(
                f"Short measurement: {shortest.measured_s:.3f} s of samples for "
                f"`{shortest.group}/{shortest.id}`, the shortest (under {SHORT_MEASUREMENT_S:g} s):"
                " the numbers are indicative only."
            )
    if busy_before is not None and busy_before > BUSY_PERCENT:
        warnings.append(
            f"The machine was busy just before the run ({busy_before:g}% of all CPU time over "
            "2 s): other work competed with the benchmarks, the 2-thread ones above all."
        )
    for w in warnings:
        out += [f"> **Note.** {w}", ""]
    out += [
        "## Machine",
        "",
        *machine(load_before, busy_before),
        "",
        "## How to read the tables",
        "",
        f"- ns/op is criterion's {STATISTIC} of the per-iteration time of its samples, with its "
        "confidence interval; lower is better.",
        "- Ids are `<subject>/<operation>/<T>t`: `T` threads work on one object. With `2t`, a "
        "second thread runs its own operation on the same object for the whole timed interval, "
        "the two threads pinned to two different CPUs (on Linux), and the time is that of the "
        "measured thread; what the second thread does is listed at the top of the benchmark "
        "file (`benches/benches/<group>.rs`). An `<operation>_separate/2t` row has the second "
        "thread do the same on an object of its own: two threads that share nothing, which "
        "should cost what one thread costs.",
        "- Background ops per op (`2t` only): how many operations the second thread completed "
        "per operation of the measured thread while the timer ran, summed over the run; near 0, "
        "the second thread hardly ran and the row was not really measured under contention "
        "(a reader beside a slower writer, such as `counts` beside `record`, is low by nature).",
        "- `baseline/...` is the raw atomic operation the primitives are built on, measured in the "
        "same run; the ratio divides a benchmark's time by that of the baseline with the same "
        "`T`, so it depends less on the machine than the times do (pairing rule: top of "
        "`scripts/bench-report.py`).",
        "- Groups `c` and `go` run outside criterion, in the same invocation: `c` is "
        "`benches/c/bench.c` (each row the median of 7 timed loops, one thread, divided by a C11 "
        "`atomic_fetch_add`; `empty_call_other_tu` is a plain call into another translation "
        "unit), `go` is `go test -bench` in `bindings/go` (each row the median of 5 runs, divided "
        "by an empty cgo call; `2t` rows are `b.RunParallel` with 2 goroutines, wall time "
        "divided by the operations of both; `per_item` rows are a batch's time per item).",
        "",
    ]
    for group, members in groups.items():
        out += [f"## Group `{group}`", "", *group_table(members, background), ""]
    out += [*targets_section(benches), ""]
    out += why_section(benches)
    out += scaling_section(benches)
    out += cpp_section(cpp)
    out += extra_sections(sizes, instructions)
    out.append("")
    return "\n".join(out)


def read_pairs(path: Path | None) -> list[tuple[str, str]]:
    """The `<name> <value>` lines of `path` (no file: none); `#` starts a comment line."""
    if path is None or not path.exists():
        return []
    pairs = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and not parts[0].startswith("#"):
            pairs.append((parts[0], parts[1]))
    return pairs


# Within this ratio, a C++ call is reported as costing the same as the C call it wraps.
CPP_SAME_WITHIN = 1.10


def cpp_section(path: Path | None) -> list[str]:
    """The C++ wrapper beside the C calls: lines `name c_ns cpp_ns ratio` of the C++ benchmark."""
    if path is None or not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 4:
            try:
                c_ns, cpp_ns, r = float(parts[1]), float(parts[2]), float(parts[3])
            except ValueError:
                continue
            same = "same within noise" if r <= CPP_SAME_WITHIN else "**dearer**"
            rows.append(f"| `{parts[0]}` | {fmt_ns(c_ns)} | {fmt_ns(cpp_ns)} | {r:.2f}× | {same} |")
    if not rows:
        return []
    return [
        "## C++ beside C",
        "",
        "`bindings/cpp/bench/bench_cpp_vs_c.cc`: each case times a loop of C calls and the same "
        "loop through the C++ wrapper, alternately, best of 7 repetitions, one thread; "
        f"\"same within noise\" means a ratio of at most {CPP_SAME_WITHIN:g}.",
        "",
        "| case | C ns/op | C++ ns/op | C++ ÷ C | verdict |",
        "|---|---:|---:|---:|---|",
        *rows,
        "",
    ]


def extra_sections(sizes: Path | None, instructions: Path | None) -> list[str]:
    """The sizes of the primitives and the instructions per operation of the hot paths."""
    out: list[str] = []
    size_rows = read_pairs(sizes)
    if size_rows:
        out += [
            "## Sizes",
            "",
            "`size_of` of each primitive (printed by `hotpaths sizes`, "
            "`benches/src/bin/hotpaths.rs`), for typical sizes of the generic ones; the "
            "atomics of each are padded to cache lines against false sharing.",
            "",
            "| type | bytes |",
            "|---|---:|",
            *[f"| `{name}` | {value} |" for name, value in size_rows],
            "",
        ]
    instr_rows = read_pairs(instructions)
    if instr_rows:
        budgets = dict(read_pairs(REPO / "benches" / "instructions.txt"))
        out += [
            "## Instructions per operation",
            "",
            "Counted by `valgrind --tool=callgrind` (`scripts/check-instructions.sh`), one "
            "thread, steady state, including the measuring loop's increment and test: the same "
            "for the same binary on any machine, unlike the times above. Budgets are in "
            "`benches/instructions.txt`. The pairs `count100`/`count1000` and `time10`/`time100` "
            "show how the cost grows with the window's size (it should not).",
            "",
            "| hot path | instructions/op | budget |",
            "|---|---:|---:|",
            *[
                f"| `{name}` | {value} | {budgets.get(name, '-')} |"
                for name, value in instr_rows
            ],
            "",
        ]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--target-dir",
        type=Path,
        default=Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target"),
        help="cargo's target directory (default: $CARGO_TARGET_DIR, else target/)",
    )
    parser.add_argument(
        "--output", type=Path, default=REPO / "docs" / "benchmarks.md", help="file to write"
    )
    parser.add_argument(
        "--command",
        action="append",
        required=True,
        help="a command line that produced the results (repeat for several lines)",
    )
    parser.add_argument(
        "--since",
        type=float,
        help="ignore results written before this time (seconds since the Unix epoch)",
    )
    parser.add_argument("--note", action="append", default=[], help="a note for the top")
    parser.add_argument(
        "--output-log",
        type=Path,
        help="what the benchmarks printed (for the background-thread check of `2t` rows)",
    )
    parser.add_argument(
        "--load-before",
        help="the contents of /proc/loadavg just before the run",
    )
    parser.add_argument(
        "--busy-before",
        help="percentage of all CPU time in use just before the run (flags a busy machine)",
    )
    parser.add_argument("--sizes", type=Path, help="output of `hotpaths sizes`")
    parser.add_argument("--c-results", type=Path, help="output of benches/c/bench.c")
    parser.add_argument(
        "--go-results", type=Path, help="output of `go test -bench` in bindings/go"
    )
    parser.add_argument(
        "--cpp-results", type=Path, help="output of bindings/cpp/bench/bench_cpp_vs_c.cc"
    )
    parser.add_argument(
        "--instructions",
        type=Path,
        help="`<hot path> <instructions>` lines written by scripts/check-instructions.sh",
    )
    args = parser.parse_args()

    target_dir = args.target_dir if args.target_dir.is_absolute() else REPO / args.target_dir
    criterion_dir = target_dir / "criterion"
    if not criterion_dir.is_dir():
        print(f"bench-report: no criterion results in {criterion_dir}", file=sys.stderr)
        return 1
    benches, skipped = load(criterion_dir, args.since)
    if skipped:
        print(f"bench-report: skipped {skipped} result(s) older than this run", file=sys.stderr)
    if not benches:
        print(f"bench-report: no results in {criterion_dir}", file=sys.stderr)
        return 1
    benches += load_c(args.c_results) + load_go(args.go_results)
    pair(benches)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    background = background_ratios(args.output_log)
    busy_before = float(args.busy_before) if args.busy_before else None
    args.output.write_text(
        render(
            benches,
            args.command,
            args.note,
            args.load_before,
            busy_before,
            background,
            args.sizes,
            args.instructions,
            args.cpp_results,
        )
    )
    print(f"bench-report: wrote {args.output} ({len(benches)} benchmarks)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
