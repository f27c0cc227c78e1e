#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/, clang with ASan + UBSan; a CMake tree of its own under
# $FUZZ_BUILD_DIR, default build/fuzz, compiled through ccache) and runs each for SECONDS (default
# 60) on a working corpus seeded from fuzz/corpus/<harness>, so new inputs stay out of the
# repository, with the libFuzzer dictionary fuzz/<harness>.dict when there is one. Prints
# executions per harness; exits non-zero on the first harness that finds a crash, leak, timeout
# or sanitizer report (the input is written to $FUZZ_BUILD_DIR/artifacts/).
#   scripts/fuzz.sh [SECONDS] [HARNESS...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
build=${FUZZ_BUILD_DIR:-build/fuzz}
cxx=${FUZZ_CXX:-clang++-14}
command -v "$cxx" >/dev/null || { echo "fuzz: $cxx is missing (scripts/deps.sh installs clang-14)"; exit 1; }
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
if [ ! -f "$build/build.ninja" ]; then
  cmake -S fuzz -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" "${launcher[@]}" >/dev/null
fi
cmake --build "$build" -j "${JOBS:-$(nproc)}" >"$build/build.log" 2>&1 || {
  tail -30 "$build/build.log"; echo "fuzz: build failed"; exit 1; }
harnesses=("$@")
if ((${#harnesses[@]} == 0)); then
  for d in fuzz/corpus/*/; do harnesses+=("$(basename "$d")"); done
fi
mkdir -p "$build/artifacts"
status=0
printf '%-14s %12s %10s %8s\n' harness executions exec/s corpus
for h in "${harnesses[@]}"; do
  work="$build/corpus/$h"
  mkdir -p "$work"
  log="$build/$h.log"
  dict=()
  [ -f "fuzz/$h.dict" ] && dict=(-dict="fuzz/$h.dict")
  if ! ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
       UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
       "$build/fuzz_$h" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$build/artifacts/$h-" "${dict[@]}" \
       "$work" "fuzz/corpus/$h" >"$log" 2>&1; then
    grep -E "ERROR|SUMMARY|Test unit written" "$log" | head -5
    echo "fuzz: $h found a problem; see $log"
    status=1
    continue
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  units=$(find "$work" -type f | wc -l)
  printf '%-14s %12s %10s %8s\n' "$h" "${runs:-?}" "${speed:-?}" "$units"
done
exit $status
