# make test   install what is missing, build into build/, run every test
# make run    install what is missing, build, run the node (muster serve)
# make asan   the same tests built with AddressSanitizer and UBSan, in build-asan/
# make fuzz   build the libFuzzer targets with clang in build-fuzz/ and run
#             each for FUZZ_SECONDS (60) on a copy of its seed corpus
# make format apply .clang-format
# make bench  build (RelWithDebInfo) and run the benchmarks (docs/BENCHMARKS.md);
#             ARGS=--quick for the one-minute check, ARGS=NAME for some only
# make bench-quick  the same as make bench ARGS=--quick

BUILD    ?= build
# -Werror (MUSTER_WERROR): on for the tests and CI, off in a first plain build
# so that a newer compiler's new warning never stops someone building the node.
# Unset, the build directory keeps what it was configured with.
WERROR   ?=
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
# Debian 12 packages the build and the tests need.
PACKAGES := build-essential cmake pkg-config libuv1-dev libsodium-dev \
            libmsgpack-dev liblmdb-dev libcmocka-dev libjansson-dev tzdata \
            libmicrohttpd-dev libnatpmp-dev libminiupnpc-dev \
            python3 python3-msgpack python3-nacl python3-icalendar \
            python3-recurring-ical-events \
            chromium iproute2 nftables miniupnpd-nftables tor
# chromium: the browser test of the web page (tests/interop/browser_check.mjs).
# iproute2, nftables, miniupnpd-nftables: the port mapping test
# (tests/e2e/test_netns_portmap.py), a real router in network namespaces.
# What `make fuzz` needs on top: clang with its libFuzzer runtime.
FUZZ_PACKAGES := clang libclang-rt-14-dev
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 2
# npm packages the interoperability tests run against (tests/interop/package.json).
INTEROP  := tests/interop/node_modules/@nostr-dev-kit/sync/package.json
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
MUSTER   := ./$(BUILD)/muster

.PHONY: all deps test-deps build test run asan fuzz fuzz-build fuzz-corpus format clean \
        bench bench-quick

all: build

deps:
	@missing=$$(for p in $(PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' \
		|| echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

# Node.js and npm come from Debian unless the machine already has them.
test-deps: deps $(INTEROP)

$(INTEROP): tests/interop/package.json
	@command -v npm >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm; }
	cd tests/interop && npm install --no-audit --no-fund --no-package-lock
	@touch $@

build: deps
	cmake -S . -B $(BUILD) $(if $(WERROR),-DMUSTER_WERROR=$(WERROR)) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

# A target-specific value reaches the prerequisites too: build runs with it.
test: WERROR = ON
test: build test-deps
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

asan:
	$(MAKE) test BUILD=build-asan CMAKE_FLAGS="-DMUSTER_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug"

# libFuzzer targets (tests/fuzz/README.md): a crash fails with its input
# printed. The checked-in corpus is copied, never written.
fuzz-build:
	$(MAKE) deps PACKAGES="$(PACKAGES) $(FUZZ_PACKAGES)"
	CC=clang cmake -S . -B build-fuzz -DMUSTER_FUZZ=ON -DMUSTER_WERROR=ON \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build-fuzz -j $(JOBS) --target fuzzers

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run.sh build-fuzz

# Rewrites tests/fuzz/corpus from tests/fuzz/gen_corpus.c (then commit it).
fuzz-corpus: fuzz-build
	rm -rf tests/fuzz/corpus
	./build-fuzz/tests/fuzz/gen_corpus tests/fuzz/corpus

# The node in the default home (created the first time), in the foreground:
# it prints the group key, the listen address and how to add it as a peer.
run: build
	@$(MUSTER) id >/dev/null 2>&1 || $(MUSTER) init
	$(MUSTER) serve

bench:
	$(MAKE) build CMAKE_FLAGS="-DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)"
	/usr/bin/python3 tests/bench/run.py --build $(BUILD) $(ARGS)

bench-quick:
	$(MAKE) bench ARGS="--quick $(ARGS)"

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz
