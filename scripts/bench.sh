#!/usr/bin/env bash
# Runs the criterion benchmarks and regenerates docs/benchmarks.md from their results.
#
#   scripts/bench.sh                      full measurement (criterion's defaults), then the report
#   scripts/bench.sh -- ARGS...           the same, passing ARGS to criterion
#                                         (e.g. -- --warm-up-time 1 --measurement-time 3)
#   scripts/bench.sh --quick [-- ARGS]    builds and runs every benchmark once (criterion's --test
#                                         mode): proves they work, measures nothing, leaves
#                                         docs/benchmarks.md alone
#
# Besides criterion, it runs the C benchmarks (benches/c/bench.c, against the release static
# library) and the Go benchmarks (bindings/go, `go test -bench`, 5 runs each, beside x/time/rate
# and gobreaker), prints the size of every primitive (`hotpaths sizes`) and, when valgrind is
# installed, counts instructions per operation (scripts/check-instructions.sh) for the report;
# --quick also runs every hot path of benches/src/bin/hotpaths.rs, the C benchmarks and the Go
# benchmarks once.
# Run it on a quiet machine: the 2-thread benchmarks need both threads on their own cores.
# The report records this command line, the machine, and the load just before the run.
# Honors CARGO_TARGET_DIR; results go to $CARGO_TARGET_DIR/criterion (default target/criterion).
set -euo pipefail
cd "$(dirname "$0")/.."

# Every benchmark target of portcullis-benches: the `name` of each [[bench]] in benches/Cargo.toml.
mapfile -t BENCHES < <(
    awk '/^\[\[bench\]\]/ { b = 1; next } /^\[/ { b = 0 }
         b && /^name *=/ { sub(/^name *= *"/, ""); sub(/".*/, ""); print }' benches/Cargo.toml
)
if ((${#BENCHES[@]} == 0)); then
    echo "bench.sh: no [[bench]] target in benches/Cargo.toml" >&2
    exit 1
fi

usage() { sed -n '2,16s/^# \{0,1\}//p' "$0"; }

quick=0
criterion_args=()
while (($#)); do
    case "$1" in
        --quick) quick=1 ;;
        -h | --help) usage; exit 0 ;;
        --) shift; criterion_args=("$@"); break ;;
        *) echo "bench.sh: unknown argument '$1' (criterion's arguments go after --)" >&2; exit 2 ;;
    esac
    shift
done

invocation="scripts/bench.sh"
if ((${#criterion_args[@]})); then
    invocation+=" -- ${criterion_args[*]}"
fi

bench_flags=()
for b in "${BENCHES[@]}"; do
    bench_flags+=(--bench "$b")
done

# The hot-path binary: sizes of the primitives and a run of every hot path (its instruction
# counts come from scripts/check-instructions.sh, when valgrind is installed).
cargo build --quiet --release -p portcullis-benches --bin hotpaths
hotpaths="${CARGO_TARGET_DIR:-target}/release/hotpaths"

# The C benchmarks, linked with the release static library (which build-go-lib.sh builds and
# also places for the Go package).
scripts/build-go-lib.sh >/dev/null
c_bench="${CARGO_TARGET_DIR:-target}/release/c-bench"
cc -std=c11 -O2 -Wall -Wextra -Werror -Iinclude benches/c/bench.c benches/c/other_tu.c \
    "${CARGO_TARGET_DIR:-target}/release/libportcullis_ffi.a" -lpthread -ldl -lm -o "$c_bench"
go_bench() { (cd bindings/go && CGO_ENABLED=1 go test -run XXX -bench . -benchmem "$@" .); }
# The C++ wrapper beside the C calls it wraps (bindings/cpp/bench), optimised, same library.
cpp_dir="${CARGO_TARGET_DIR:-target}/cpp-release"
cmake -S bindings/cpp -B "$cpp_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DPORTCULLIS_LIB_DIR="$(cd "${CARGO_TARGET_DIR:-target}/release" && pwd)" >/dev/null
cmake --build "$cpp_dir" --target portcullis_cpp_bench >/dev/null
cpp_bench="$cpp_dir/portcullis_cpp_bench"

if ((quick)); then
    cargo bench -p portcullis-benches "${bench_flags[@]}" -- --test "${criterion_args[@]}"
    "$hotpaths" sizes >/dev/null
    for h in $("$hotpaths" list); do
        "$hotpaths" "$h" 1000
    done
    "$c_bench" 1000 >/dev/null
    "$cpp_bench" 1000 >/dev/null
    go_bench -benchtime 1x >/dev/null
    echo "bench.sh --quick: every benchmark and hot path ran"
    exit 0
fi

# Build first, so that the run measures and does not compile.
cargo bench -p portcullis-benches "${bench_flags[@]}" --no-run
cargo_command="cargo bench -p portcullis-benches ${bench_flags[*]}"
if ((${#criterion_args[@]})); then
    cargo_command+=" -- ${criterion_args[*]}"
fi

# Percentage of all CPU time the machine spent busy over 2 s (from /proc/stat), just before the
# run: other work there competes with the benchmarks. Empty where /proc/stat does not exist.
cpu_busy_percent() {
    [[ -r /proc/stat ]] || return 0
    local _ u1 n1 s1 i1 w1 q1 sq1 st1 u2 n2 s2 i2 w2 q2 sq2 st2
    read -r _ u1 n1 s1 i1 w1 q1 sq1 st1 _ </proc/stat
    sleep 2
    read -r _ u2 n2 s2 i2 w2 q2 sq2 st2 _ </proc/stat
    local busy=$(((u2 + n2 + s2 + q2 + sq2 + st2) - (u1 + n1 + s1 + q1 + sq1 + st1)))
    local idle=$(((i2 + w2) - (i1 + w1)))
    echo $((100 * busy / (busy + idle > 0 ? busy + idle : 1)))
}
busy_before="$(cpu_busy_percent)"
load_before="$(cat /proc/loadavg 2>/dev/null || true)"
# Results written from here on are this run's; older ones (renamed benchmarks) are left out.
started="$(date +%s)"
# The output is kept for the report: the 2-thread benchmarks print how much their second thread did.
log="${CARGO_TARGET_DIR:-target}/bench-output.log"
mkdir -p "$(dirname "$log")"
cargo bench -p portcullis-benches "${bench_flags[@]}" -- "${criterion_args[@]}" 2>&1 | tee "$log"

# Kept beside criterion's results, so that the report can be regenerated from this run.
extra="${CARGO_TARGET_DIR:-target}/bench-extra"
rm -rf "$extra" && mkdir -p "$extra"
echo "bench.sh: C benchmarks ($c_bench)" >&2
"$c_bench" | tee "$extra/c"
echo "bench.sh: C++ beside C ($cpp_bench)" >&2
"$cpp_bench" | tee "$extra/cpp"
echo "bench.sh: Go benchmarks (go test -bench . -count 5)" >&2
go_bench -count 5 | tee "$extra/go"
"$hotpaths" sizes >"$extra/sizes"
report_extra=(--sizes "$extra/sizes" --c-results "$extra/c" --go-results "$extra/go"
    --cpp-results "$extra/cpp")
if command -v valgrind >/dev/null; then
    echo "bench.sh: counting instructions per operation (scripts/check-instructions.sh)" >&2
    INSTRUCTIONS_OUT="$extra/instructions" scripts/check-instructions.sh ||
        echo "bench.sh: some hot paths are over their instruction budgets (see above)" >&2
    report_extra+=(--instructions "$extra/instructions")
fi

python3 scripts/bench-report.py \
    "${report_extra[@]}" \
    --since "$started" \
    --load-before "$load_before" \
    --busy-before "$busy_before" \
    --output-log "$log" \
    --command "$invocation" \
    --command "# which runs: $cargo_command" \
    --command "# then benches/c/bench.c, bindings/cpp/bench/bench_cpp_vs_c.cc, and in bindings/go: go test -run XXX -bench . -benchmem -count 5"
