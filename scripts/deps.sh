#!/usr/bin/env bash
# Installs every system package Stratus builds, tests and runs with (Debian 12).
# Idempotent: packages already present are not touched, so a rerun takes a second.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git curl ca-certificates
  # libraries
  libtorch-dev libopenblas0-pthread          # LibTorch; OpenBLAS replaces the reference BLAS (8x)
  libgoogle-glog-dev                         # LibTorch logs through glog (runtime/torch_logging)
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libpqxx-dev libyaml-cpp-dev nlohmann-json3-dev libssl-dev libfaiss-dev
  libhnswlib-dev                             # header-only HNSW graph (face search)
  libphonenumber-dev libre2-dev libicu-dev iso-codes  # Comprehend's PII, key phrases, language codes
  libopencv-dev                              # its CMake config; pulls in the modules we use
  libtesseract-dev libleptonica-dev tesseract-ocr-eng  # DetectText (runtime/text_reader)
  prometheus-cpp-dev grpc-proto              # metrics (core + text format); grpc.health.v1 proto
  libgtest-dev libgmock-dev
  clang-14 libclang-rt-14-dev                # libFuzzer, ASan, UBSan for the fuzz harnesses (fuzz/)
  # runtime and test peers
  postgresql ffmpeg prometheus rtsp-server-perl   # rtsp-server-perl: a real RTSP server for ingest tests
  awscli jq                                  # the README's tour and the AWS CLI e2e tests (tests/e2e/*/awscli.sh)
  # deployment checks (scripts/check-deploy.d): compose file validation, helm from an npm zip
  docker-compose unzip
  systemd                                    # systemd-analyze verify/security: the .deb test (tests/package)
  # MQTT events (libmosquitto; the broker and clients for tests) and the Python client library
  mosquitto mosquitto-clients libmosquitto-dev
  python3-grpcio python3-protobuf python3-setuptools python3-pip
  # the web console's end-to-end test (tests/e2e/console): a real browser driven by playwright-core
  chromium fonts-dejavu-core
)

# Node.js and npm drive the end-to-end tests with the real AWS SDKs. Machines that already carry
# them (e.g. NodeSource's nodejs, whose bundled npm conflicts with Debian's) keep theirs.
command -v node >/dev/null && command -v npm >/dev/null || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  # Waits for another apt (unattended upgrades, a second checkout) instead of failing on its lock.
  $SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
  $SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "deps: all ${#PACKAGES[@]} packages present"
fi
# The Debian postgresql package starts a cluster on 5432 where systemd runs; Stratus runs its
# own clusters on ports of its choosing, so that one is neither needed nor in the way.
