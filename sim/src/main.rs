//! `portcullis`: runs the real portcullis primitives against simulated dependencies on a virtual
//! clock, and writes what they did as tables, CSV files and SVG plots.
//!
//! With no arguments it runs the built-in scenario set and the known-answer reproductions, and
//! writes into `target/sim-out`. See `docs/simulator.md`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use portcullis_sim::cascade::{self, Cascade};
use portcullis_sim::engine::Scenario;
use portcullis_sim::{report, repro, run_scenario, scenario, sizing};

const USAGE: &str = "usage: portcullis [--seed N] [--out DIR] [--csv] [--quiet] [--no-repro]
                  [--scenario FILE | --only NAME]... [--list]
       portcullis size RATE LATENCY [MAX_REFUSED] [WAIT] [PERCENTILE]

  (no arguments)   run the built-in scenarios and the reproductions into target/sim-out
  --seed N         the seed of every run (default: each scenario's own, 1 for the built-ins)
  --out DIR        where CSV files and SVG plots go (default target/sim-out)
  --csv            print the summary CSV on standard output instead of tables
  --quiet          no tables or progress
  --no-repro       skip the known-answer reproductions
  --scenario FILE  run a scenario file (TOML) instead of the built-ins; repeatable
  --only NAME      run one built-in scenario; repeatable
  --list           list the built-in scenarios

  size             recommend a bulkhead size for RATE calls/s with service times LATENCY
                   (fixed:10ms, lognormal:20ms:0.5 or pareto:5ms:1.3:5s): refusing at most
                   MAX_REFUSED of the calls (default 0.01), or making at most 1 - PERCENTILE
                   (default 0.99) wait longer than WAIT (default 10ms); checked in simulation";

struct Options {
    seed: Option<u64>,
    out: PathBuf,
    csv: bool,
    quiet: bool,
    repro: bool,
    files: Vec<PathBuf>,
    only: Vec<String>,
}

fn size(args: &[String]) -> Result<(), String> {
    let [rate, latency, rest @ ..] = args else {
        return Err("size needs RATE and LATENCY (try --help)".to_owned());
    };
    let num = |x: &str| x.parse::<f64>().map_err(|_| format!("not a number: {x:?}"));
    let rate = num(rate)?;
    if rate.is_nan() || rate <= 0.0 {
        return Err("size: RATE must be positive".to_owned());
    }
    let latency = sizing::parse_latency(latency)?;
    let max_refused = rest.first().map_or(Ok(0.01), |x| num(x))?;
    let wait = match rest.get(1) {
        Some(w) => portcullis_sim::model::to_secs(scenario::parse_duration(w)?),
        None => 0.01,
    };
    let percentile = rest.get(2).map_or(Ok(0.99), |x| num(x))?;
    let s = sizing::recommend(rate, &latency, max_refused, wait, percentile);
    println!("mean service time      {:.3} ms", s.mean_service * 1e3);
    println!("offered load (Little)  {:.3} calls in service on average", s.offered);
    println!(
        "refusing bulkhead      {} permits: Erlang B refuses {:.3} % (target {:.3} %)",
        s.refusing,
        s.refusing_blocked * 100.0,
        max_refused * 100.0
    );
    println!(
        "waiting bulkhead       {} permits: Erlang C estimate {:.3} % wait over {:.1} ms (target {:.3} %)",
        s.waiting,
        s.waiting_late * 100.0,
        wait * 1e3,
        (1.0 - percentile) * 100.0
    );
    let (waited, late) = sizing::simulate_waiting(rate, &latency, s.waiting, 200_000, wait, 1);
    println!(
        "simulated, {} permits  {:.3} % waited, {:.3} % over {:.1} ms (200,000 calls, real Bulkhead, FIFO)",
        s.waiting,
        waited * 100.0,
        late * 100.0,
        wait * 1e3
    );
    let m = sizing::simulate(rate, &latency, s.refusing, 200_000, 1);
    println!(
        "simulated, {} permits  {:.3} % refused, {:.3} in flight on average (200,000 calls, real Bulkhead)",
        s.refusing,
        m.refused * 100.0,
        m.mean_in_flight
    );
    Ok(())
}

fn parse_args() -> Result<Option<Options>, String> {
    let all: Vec<String> = std::env::args().skip(1).collect();
    if all.first().is_some_and(|a| a == "size") {
        size(all.get(1..).unwrap_or_default())?;
        return Ok(None);
    }
    let mut o = Options {
        seed: None,
        out: PathBuf::from("target/sim-out"),
        csv: false,
        quiet: false,
        repro: true,
        files: Vec::new(),
        only: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |what: &str| args.next().ok_or_else(|| format!("{arg} needs {what}"));
        match arg.as_str() {
            "--seed" => {
                let v = value("a non-negative integer")?;
                o.seed = Some(v.parse().map_err(|_| format!("--seed: not an integer: {v:?}"))?);
            }
            "--out" => o.out = PathBuf::from(value("a directory")?),
            "--scenario" => o.files.push(PathBuf::from(value("a file")?)),
            "--only" => o.only.push(value("a scenario name")?),
            "--csv" => o.csv = true,
            "--quiet" => o.quiet = true,
            "--no-repro" => o.repro = false,
            "--list" => {
                for (name, text) in scenario::BUILT_IN {
                    let d = scenario::parse(name, text).map(|s| s.description).unwrap_or_default();
                    println!("{name:<22} {d}");
                }
                let (name, _) = cascade::BUILT_IN;
                let d = cascade::built_in().map(|c| c.description).unwrap_or_default();
                println!("{name:<22} {d}");
                return Ok(None);
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(Some(o))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The scenarios to run, and the cascades (files with `[[service]]` tables).
fn scenarios(o: &Options) -> Result<(Vec<Scenario>, Vec<Cascade>), String> {
    let (mut out, mut chains) = (Vec::new(), Vec::new());
    for f in &o.files {
        let text = fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
        let file = f.display().to_string();
        if text.contains("[[service]]") {
            chains.push(cascade::parse(&file, &text).map_err(|e| e.to_string())?);
        } else {
            out.push(scenario::parse(&file, &text).map_err(|e| e.to_string())?);
        }
    }
    for name in &o.only {
        if name == cascade::BUILT_IN.0 {
            chains.push(cascade::built_in().map_err(|e| e.to_string())?);
        } else {
            out.push(scenario::built_in(name).map_err(|e| e.to_string())?);
        }
    }
    if o.files.is_empty() && o.only.is_empty() {
        for (name, _) in scenario::BUILT_IN {
            out.push(scenario::built_in(name).map_err(|e| e.to_string())?);
        }
        chains.push(cascade::built_in().map_err(|e| e.to_string())?);
    }
    Ok((out, chains))
}

fn run_cascade(o: &Options, c: &Cascade, n: usize, total: usize) -> Result<(), String> {
    let seed = o.seed.unwrap_or(c.seed);
    let started = Instant::now();
    if !o.quiet {
        eprintln!("[{n}/{total}] {} (seed {seed}) ...", c.name);
    }
    let runs = cascade::run_all(c, seed).map_err(|e| format!("cascade {}: {e}", c.name))?;
    let dir = o.out.join(&c.name);
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    write(&dir.join("summary.csv"), &cascade::summary_csv(c, &runs))?;
    write(&dir.join("series.csv"), &cascade::series_csv(c, &runs))?;
    write(&dir.join("success.svg"), &cascade::success_svg(c, &runs))?;
    write(&dir.join("busy.svg"), &cascade::busy_svg(c, &runs))?;
    if !o.quiet && !o.csv {
        println!("== {}: {}", c.name, c.description);
        print!("{}", cascade::table(c, &runs));
        println!("({:.2} s; {})\n", started.elapsed().as_secs_f64(), dir.display());
    }
    Ok(())
}

fn repros(o: &Options) -> Result<(), String> {
    let seed = o.seed.unwrap_or(1);
    let started = Instant::now();
    let table = repro::contention_table(repro::CONTENTION_CLIENTS, repro::CONTENTION_RUNS, seed);
    let rows: Vec<Vec<String>> = table
        .iter()
        .map(|c| vec![c.jitter.to_owned(), c.calls.to_string(), format!("{:.3}", c.completion)])
        .collect();
    write(
        &o.out.join("brooker-contention.csv"),
        &repro::contention_csv(repro::CONTENTION_CLIENTS, &table),
    )?;
    let plain = repro::fan_out(repro::FAN_OUT_REQUESTS, repro::FAN_OUT, false, seed);
    let hedged = repro::fan_out(repro::FAN_OUT_REQUESTS, repro::FAN_OUT, true, seed);
    let csv = repro::fan_out_csv(&[&plain, &hedged]);
    write(&o.out.join("tail-at-scale.csv"), &csv)?;
    write(
        &o.out.join("tail-at-scale-cdf.svg"),
        &report::cdf_svg(
            "tail at scale: request latency, fan-out 5, 1 % slow leaves",
            &[("no hedging", &plain.latencies), ("hedge after p95", &hedged.latencies)],
        ),
    )?;
    let (sz, sizing_csv) = sizing::example_csv(seed);
    write(&o.out.join("bulkhead-sizing.csv"), &sizing_csv)?;
    if !o.quiet && !o.csv {
        println!(
            "== bulkhead-sizing: 200 calls/s, lognormal service (20 ms median, σ 0.8): {:.2} erlangs",
            sz.offered
        );
        println!(
            "recommended: {} permits refusing ≤ 1 % (Erlang B {:.2} %); {} permits if callers wait (≤ 1 % over 10 ms, Erlang C)",
            sz.refusing,
            sz.refusing_blocked * 100.0,
            sz.waiting
        );
        let sizing_rows: Vec<Vec<String>> =
            sizing_csv.lines().skip(1).map(|l| l.split(',').map(str::to_owned).collect()).collect();
        let header =
            ["size", "Erlang B", "simulated refused", "Little in flight", "simulated in flight"];
        println!("{}", report::table(&header, &sizing_rows));
        println!(
            "== brooker-contention: 100 clients, optimistic concurrency, exponential backoff (mean of 10 runs)"
        );
        print!("{}", report::table(&["jitter", "calls", "completion s"], &rows));
        println!(
            "\n== tail-at-scale: 20,000 requests fanned out to 5 leaves, 1 % of leaf requests slow (100 ms)"
        );
        let row = |f: &repro::FanOut| {
            vec![
                if f.hedged { "hedge after p95" } else { "no hedging" }.to_owned(),
                format!("{:.1}%", f.extra() * 100.0),
                format!("{:.2}", f.latency[0] * 1e3),
                format!("{:.2}", f.latency[1] * 1e3),
                format!("{:.2}", f.latency[2] * 1e3),
            ]
        };
        print!(
            "{}",
            report::table(
                &["", "extra requests", "p50 ms", "p99 ms", "p99.9 ms"],
                &[row(&plain), row(&hedged)]
            )
        );
        println!(
            "p99.9 cut {:.1}×   ({:.1} s)\n",
            plain.latency[2] / hedged.latency[2].max(1e-9),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn run(o: &Options) -> Result<(), String> {
    fs::create_dir_all(&o.out).map_err(|e| format!("{}: {e}", o.out.display()))?;
    let (list, chains) = scenarios(o)?;
    let mut all = String::from(report::SUMMARY_HEADER);
    all.push('\n');
    let total = list.len() + chains.len();
    for (i, s) in list.iter().enumerate() {
        let seed = o.seed.unwrap_or(s.seed);
        let started = Instant::now();
        if !o.quiet {
            eprintln!("[{}/{total}] {} (seed {seed}) ...", i + 1, s.name);
        }
        let runs = run_scenario(s, seed).map_err(|e| format!("scenario {}: {e}", s.name))?;
        let dir = o.out.join(&s.name);
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let summary = report::summary_csv(s, &runs);
        all.push_str(summary.split_once('\n').map_or("", |(_, rest)| rest));
        write(&dir.join("summary.csv"), &summary)?;
        write(&dir.join("series.csv"), &report::series_csv(s, &runs))?;
        write(&dir.join("load.svg"), &report::load_svg(s, &runs))?;
        if let Some(svg) = report::breaker_svg(s, &runs) {
            write(&dir.join("transitions.csv"), &report::transitions_csv(&runs))?;
            write(&dir.join("breaker.svg"), &svg)?;
        }
        let series: Vec<(&str, &[u64])> =
            runs.iter().map(|r| (r.strategy.as_str(), r.latencies.as_slice())).collect();
        write(
            &dir.join("latency-cdf.svg"),
            &report::cdf_svg(
                &format!("{}: caller latency CDF (successful calls)", s.name),
                &series,
            ),
        )?;
        if !o.quiet && !o.csv {
            println!("== {}: {}", s.name, s.description);
            print!("{}", report::scenario_table(&runs));
            println!("({:.2} s; {})\n", started.elapsed().as_secs_f64(), dir.display());
        }
    }
    write(&o.out.join("summary.csv"), &all)?;
    for (i, c) in chains.iter().enumerate() {
        run_cascade(o, c, list.len() + i + 1, total)?;
    }
    if o.repro && o.files.is_empty() && o.only.is_empty() {
        repros(o)?;
    }
    if o.csv {
        print!("{all}");
    } else if !o.quiet {
        println!("wrote {}", o.out.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(Some(o)) => o,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("portcullis: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("portcullis: {e}");
            ExitCode::FAILURE
        }
    }
}
