# Makefile — a thin wrapper over Meson + Ninja for the README's commands.
#   make demo        install what is missing, build, run examples/tour, then
#                    cio-crawl --demo (crawls a local fixture site, offline)
#   make test        build and run every test; ends with "N passed, N failed"
#   make test-asan   the whole suite under AddressSanitizer + UBSan
#   make test-tsan   the whole suite under ThreadSanitizer
#   make bench       benchmarks against Go, asyncio and uvloop, then the TCP
#                    echo benchmark (bench/echo_run: also raw C servers, Node)
#   make CC=clang test   the same with clang (each compiler has its build dir)
#   make check-aarch64   the context switch on aarch64: cross-compiled smoke
#                    test run under qemu-user, and natively (not in `make test`;
#                    installs its cross tools itself, skips if it cannot)

CC ?= cc
BUILD ?= build/$(notdir $(CC))
ASAN_BUILD ?= build/asan-$(notdir $(CC))
TSAN_BUILD ?= build/tsan-$(notdir $(CC))
BENCH_BUILD ?= build/release-$(notdir $(CC))

.PHONY: all deps build demo test test-asan test-tsan bench install clean check-aarch64

all: build

deps:
	@scripts/install-deps --check >/dev/null 2>&1 || scripts/install-deps

$(BUILD)/build.ninja:
	@$(MAKE) --no-print-directory deps
	CC=$(CC) meson setup $(BUILD) --buildtype=debugoptimized

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: build
	$(BUILD)/examples/tour
	@echo
	rm -rf $(BUILD)/crawled-demo
	$(BUILD)/examples/cio-crawl --demo --quiet --output $(BUILD)/crawled-demo

test: build
	scripts/run-tests $(BUILD)

$(ASAN_BUILD)/build.ninja:
	@$(MAKE) --no-print-directory deps
	CC=$(CC) meson setup $(ASAN_BUILD) --buildtype=debug \
	    -Db_sanitize=address,undefined -Db_lundef=false

# --no-early-exit: Criterion's workers return from main, so LeakSanitizer
# runs in each of them (with early exit it never does).
test-asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	CIO_TEST_ARGS=--no-early-exit \
	    scripts/run-tests $(ASAN_BUILD)

$(TSAN_BUILD)/build.ninja:
	@$(MAKE) --no-print-directory deps
	CC=$(CC) meson setup $(TSAN_BUILD) --buildtype=debug \
	    -Db_sanitize=thread -Db_lundef=false

# halt_on_error: a race fails its test rather than scrolling past.
# handle_segv=0: faults go to cio's own handler, whose reports are tested.
test-tsan: deps $(TSAN_BUILD)/build.ninja
	ninja -C $(TSAN_BUILD)
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:handle_segv=0 \
	    scripts/run-tests $(TSAN_BUILD)

$(BENCH_BUILD)/build.ninja:
	@$(MAKE) --no-print-directory deps
	CC=$(CC) meson setup $(BENCH_BUILD) --buildtype=release -Db_lto=true

bench: deps $(BENCH_BUILD)/build.ninja
	ninja -C $(BENCH_BUILD)
	bench/run $(BENCH_BUILD)

# Exit 77 from the script means the cross tools are missing: a skip, said
# loudly by the script, not a failure.
check-aarch64:
	@CC=$(CC) scripts/check-aarch64 || [ $$? -eq 77 ]

install: build
	meson install -C $(BUILD)

clean:
	rm -rf build
