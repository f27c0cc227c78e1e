#!/usr/bin/env bash
# The one benchmark runner (`make bench`): every Stratus benchmark program, one after the other
# on this machine, and the JavaScript reference in the same run where it can run, so that ratios
# compare figures measured minutes apart on one machine, never stored timings.
#
#   scripts/bench.sh [--quick] [--only NAME,...] [BUILD_DIR]
#
# Sections (NAME: program, what it prints):
#   reference  the face-api reference (../shared/golden/harness: face-api on TF.js WebAssembly,
#              installed from npm into $STRATUS_CACHE/node/harness-<package.json hash>) times
#              the face pipeline and its models on sample1; its timings feed `models`
#   models     stratus-bench-models: ms per image and GFLOP/s per model and batch, and the face
#              pipeline on a 3-face photo, with the speed-up over the reference's timings of
#              this run (or over the stored ones, saying so, when the reference could not run)
#   models-auto  the same with --precision auto (bf16 detectors), where the CPU has native bf16
#   detector   stratus-bench-detector: service overhead, and 8 concurrent callers with dynamic
#              batching against without
#   aws        stratus-bench-aws: the AWS JSON endpoint against gRPC on keep-alive connections,
#              and DetectSentiment throughput at 1 and 100 connections
#   search     stratus-bench-recognition: face search p50/p99, recall and memory (1M faces;
#              100k with --quick), FaceStore and IndexFaces throughput
#   ingest     stratus-bench-ingest: decode rates, a live HLS source's sampling, and 8 streams
#              at 5 analysed fps against the stand-in detector (ingest's own cost)
#   sentiment  stratus-bench-sentiment: texts/s per core, latency over gRPC
#   cold       stratus-bench-cold-start: exec to SERVING per service
# Each section's output is kept in $BENCH_OUT (default build/bench/<date>) as NAME.txt; a section
# that fails is reported and the others still run; the exit status says whether any failed.
# The machine should be otherwise idle: these are figures, not tests.
set -uo pipefail
cd "$(dirname "$0")/.."
quick=0
only=""
build=build
while (($#)); do
  case $1 in
    --quick) quick=1 ;;
    --only) only=$2; shift ;;
    --only=*) only=${1#--only=} ;;
    -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) build=$1 ;;
  esac
  shift
done
bin=$build/bin
cache=${STRATUS_CACHE:-$HOME/.cache/stratus}
shared=${STRATUS_SHARED_DIR:-$(cd .. && pwd)/shared}
out=${BENCH_OUT:-$build/bench/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
out=$(realpath "$out")
failed=()

wanted() { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }

# run NAME COMMAND...: prints a header, the command and its output (kept in NAME.txt).
run() {
  local name=$1
  shift
  wanted "$name" || return 0
  echo
  echo "=== $name: $* ($(date -u +%H:%M:%S))"
  "$@" 2>&1 | tee "$out/$name.txt"
  local rc=${PIPESTATUS[0]}
  ((rc == 0)) && return 0
  echo "=== $name FAILED (exit $rc)"
  failed+=("$name")
  return 1
}

# The reference: face-api on TF.js WebAssembly, timed on sample1 (2 warm-up runs, 7 timed).
# (run pipes it through tee, so it runs in a subshell: it leaves its timings in a file.)
reference_timings=$out/reference/timings-wasm.json
reference() {
  local harness=$shared/golden/harness
  [ -f "$harness/package.json" ] || { echo "no reference harness at $harness"; return 1; }
  local key
  key=$(sha256sum "$harness/package.json" | cut -c1-16)
  local dir=$cache/node/harness-$key
  if [ ! -f "$dir/.installed" ]; then
    echo "installing the reference harness's packages into $dir (npm)"
    rm -rf "$dir" && mkdir -p "$dir"
    cp "$harness/package.json" "$dir/"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error) || return 1
    touch "$dir/.installed"
  fi
  cp "$harness"/*.js "$dir/"
  (cd "$dir" && node faceapi_ref.js wasm sharp "$out/reference" 2 7 sample1) ||
    return 1
  node -e 'const t = require(process.argv[1]);
    const s = t.timings.sample1;
    for (const [k, v] of Object.entries(s)) console.log(`  ${k}: ${v.median_ms} ms median`);
    for (const [k, v] of Object.entries(t.forward_only || {}))
      console.log(`  forward only ${k}: ${v.median_ms ?? JSON.stringify(v)} ms`);' \
    "$reference_timings"
}

if wanted reference || wanted models; then
  run reference reference || true
fi
if [ -f "$reference_timings" ]; then
  run models "$bin/stratus-bench-models" --reference "$reference_timings"
elif wanted models; then
  echo "(models: the reference did not run; ratios are against the stored timings of another day)"
  run models "$bin/stratus-bench-models"
fi
# The reduced-precision path where the CPU computes bf16 natively (runtime/MODELS.md).
if grep -qwE 'avx512_bf16|amx_bf16' /proc/cpuinfo; then
  ref_args=()
  [ -f "$reference_timings" ] && ref_args=(--reference "$reference_timings")
  run models-auto "$bin/stratus-bench-models" --precision auto "${ref_args[@]}"
fi
run detector "$bin/stratus-bench-detector" --callers 8 --seconds $((quick ? 5 : 10))
run aws "$bin/stratus-bench-aws" --connections=1,100 --seconds=$((quick ? 3 : 5))
if ((quick)); then
  run search "$bin/stratus-bench-recognition" --sizes=100000 --queries=300 --index-faces=300
else
  run search "$bin/stratus-bench-recognition" --sizes=1000000 --queries=1000
fi
run ingest "$bin/stratus-bench-ingest" --live hls --detector stand-in --streams 8 \
  --seconds $((quick ? 15 : 30))
run sentiment "$bin/stratus-bench-sentiment"
run cold "$bin/stratus-bench-cold-start" --runs $((quick ? 2 : 5))

echo
echo "bench: outputs in $out"
if ((${#failed[@]})); then
  echo "bench: failed: ${failed[*]}"
  exit 1
fi
