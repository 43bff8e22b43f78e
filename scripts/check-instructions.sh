#!/usr/bin/env bash
# Checks the instructions per operation of each hot path against the budgets in
# benches/instructions.txt, counted with valgrind's callgrind: a stable metric for CI, unlike
# times, which vary with the machine and its load.
#
# Usage: scripts/check-instructions.sh            # check; fails when a hot path exceeds its budget by more than 10 %
#        scripts/check-instructions.sh --bless    # rewrite the budgets from this build's counts
#
# Each hot path of benches/src/bin/hotpaths.rs runs in its own process under
# `valgrind --tool=callgrind`, once with SHORT and once with LONG iterations; the instructions of
# one operation are (total(LONG) - total(SHORT)) / (LONG - SHORT), so the set-up, process start
# and exit cancel out. The count includes the measuring loop's own increment and test. It is the
# same from run to run for the same binary (same compiler, same flags, same source).
#
# Updating the budgets: after a change that makes a hot path cheaper, or a deliberate change that
# makes it dearer (say why in the commit), run `scripts/check-instructions.sh --bless` and commit
# benches/instructions.txt. A new compiler version can move the counts too; bless then as well.
# A hot path that is faster than its budget by more than 10 % is reported (not an error), as a
# reminder to lower its budget.
#
# Environment: CARGO_TARGET_DIR (default target/ at the repository root); TOLERANCE_PERCENT
# (default 10); INSTRUCTIONS_OUT, a file to which the measured `<hot path> <instructions>` lines
# are written (scripts/bench.sh passes it to the report).
set -euo pipefail

cd "$(dirname "$0")/.."
budgets=benches/instructions.txt
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
tolerance=${TOLERANCE_PERCENT:-10}
readonly SHORT=10000 LONG=20000

bless=0
case "${1:-}" in
  --bless) bless=1 ;;
  "") ;;
  -h | --help) sed -n '2,24p' "$0"; exit 0 ;;
  *) echo "usage: $0 [--bless]" >&2; exit 2 ;;
esac

command -v valgrind >/dev/null || { echo "check-instructions: valgrind is not installed" >&2; exit 2; }

cargo build --quiet --release -p portcullis-benches --bin hotpaths
bin="$target_dir/release/hotpaths"

# The total instruction count (callgrind's "I refs") of one run.
instructions() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 \
    | awk '/I[ ]+refs:/ { gsub(",", "", $NF); print $NF }'
}

declare -A budget=()
if [[ -f $budgets ]]; then
  while read -r name value; do
    [[ -z $name || $name == \#* ]] && continue
    budget[$name]=$value
  done <"$budgets"
fi

# Counts are compared strictly only with the compiler that recorded the budgets: another rustc
# may schedule the same source differently, so its excesses are reported but do not fail.
recorded=$(sed -n 's/.*Recorded with \(rustc [^)]*)\).*/\1/p' "$budgets" 2>/dev/null | head -n 1)
current=$(rustc --version)
strict=1
if [[ $bless == 0 && -n $recorded && $recorded != "$current" ]]; then
  strict=0
  echo "check-instructions: budgets recorded with $recorded, this is $current: excesses are reported, not failed" >&2
fi

status=0
measured=()
printf '%-36s %10s %10s %8s\n' "hot path" "instr/op" "budget" "change"
for name in $("$bin" list); do
  short=$(instructions "$name" "$SHORT")
  long=$(instructions "$name" "$LONG")
  if [[ -z $short || -z $long ]]; then
    echo "check-instructions: no count for $name" >&2
    exit 2
  fi
  per_op=$(awk -v s="$short" -v l="$long" -v n=$((LONG - SHORT)) 'BEGIN { printf "%.1f", (l - s) / n }')
  measured+=("$name $per_op")
  b=${budget[$name]:-}
  if [[ -z $b ]]; then
    printf '%-36s %10s %10s %8s\n' "$name" "$per_op" "-" "new"
    [[ $bless == 1 ]] || { echo "  no budget for $name: run $0 --bless" >&2; status=1; }
    continue
  fi
  verdict=$(awk -v m="$per_op" -v b="$b" -v t="$tolerance" 'BEGIN {
    c = (m - b) / b * 100
    v = (c > t) ? "OVER" : ((c < -t) ? "under" : "ok")
    printf "%+.1f%% %s", c, v }')
  printf '%-36s %10s %10s %s\n' "$name" "$per_op" "$b" "$verdict"
  if [[ $verdict == *OVER && $bless == 0 && $strict == 1 ]]; then
    echo "  $name: $per_op instructions per operation, more than $tolerance % over its budget of $b" >&2
    status=1
  fi
done

for name in "${!budget[@]}"; do
  if ! printf '%s\n' "${measured[@]}" | grep "^$name " >/dev/null; then
    echo "check-instructions: budget for $name, which is no longer a hot path (remove it or --bless)" >&2
    [[ $bless == 1 ]] || status=1
  fi
done

if [[ -n ${INSTRUCTIONS_OUT:-} ]]; then
  printf '%s\n' "${measured[@]}" >"$INSTRUCTIONS_OUT"
fi
if [[ $bless == 1 ]]; then
  {
    echo "# Instructions per operation of each hot path of benches/src/bin/hotpaths.rs, counted by"
    echo "# valgrind --tool=callgrind on a release build (including the loop's own increment and"
    echo "# test). Checked by scripts/check-instructions.sh (fails above +${tolerance} %); rewritten by"
    echo "# scripts/check-instructions.sh --bless. Recorded with $(rustc --version)."
    printf '%s\n' "${measured[@]}"
  } >"$budgets"
  echo "check-instructions: wrote $budgets"
fi
if [[ $status != 0 ]]; then
  echo "check-instructions: FAILED (if the increase is deliberate: $0 --bless, and commit $budgets)" >&2
fi
exit "$status"
