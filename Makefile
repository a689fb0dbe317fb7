# MarkerOS build. `make run` boots the kernel in QEMU; `make test` runs everything CI runs.
# Every flag says why it is here. Dependencies are tracked with -MMD, so an edit rebuilds only
# what it must.

BUILD := build
SMP ?= 4
MEM ?= 512M
MACHINE ?= pc
# DEBUG_FILL=1 builds the kernel with the allocator's freed-frame fill pattern checks.
DEBUG_FILL ?= 0

# Quiet by default: one short line per step. `make V=1` prints the full commands.
ifeq ($(V),1)
Q :=
say := @true
else
Q := @
say := @echo
endif

CXX := g++
CLANGXX := clang++
LD := ld
QEMU := qemu-system-x86_64
PYTHON := python3

# ---------------------------------------------------------------------------------------------
# Kernel

KERNEL_CXXFLAGS := -std=c++20
# No hosted library: only the compiler's freestanding headers.
KERNEL_CXXFLAGS += -ffreestanding
# No unwinder in the kernel; errors are values.
KERNEL_CXXFLAGS += -fno-exceptions
# No typeid/dynamic_cast, and no RTTI tables to carry.
KERNEL_CXXFLAGS += -fno-rtti
# No __cxa_guard: statics are set up before other CPUs start.
KERNEL_CXXFLAGS += -fno-threadsafe-statics
# Global destructors never run in a kernel.
KERNEL_CXXFLAGS += -fno-use-cxa-atexit
# No __stack_chk_guard runtime.
KERNEL_CXXFLAGS += -fno-stack-protector
# Linked at a fixed address in the top 2 GiB.
KERNEL_CXXFLAGS += -fno-pic -fno-pie
# Code and data live in the top 2 GiB: 32-bit sign-extended addresses.
KERNEL_CXXFLAGS += -mcmodel=kernel
# Interrupts push onto the stack below RSP.
KERNEL_CXXFLAGS += -mno-red-zone
# No SSE/x87 state to save in interrupt handlers.
KERNEL_CXXFLAGS += -mgeneral-regs-only
# RBP chains make panic backtraces possible.
KERNEL_CXXFLAGS += -fno-omit-frame-pointer
# Optimised like a release, with symbols for gdb.
KERNEL_CXXFLAGS += -O2 -g
# Warnings are bugs waiting.
KERNEL_CXXFLAGS += -Wall -Wextra -Werror
# Includes are spelled from src/: "mm/frame.hpp".
KERNEL_CXXFLAGS += -Isrc
# Dependency files, so header edits rebuild what uses them.
KERNEL_CXXFLAGS += -MMD -MP

ifeq ($(DEBUG_FILL),1)
KERNEL_CXXFLAGS += -DKERNEL_DEBUG_FILL=1  # fill freed frames, verify them when handed out again
endif

KERNEL_ASFLAGS := -Isrc -MMD -MP -g

# Nothing from the host's C library or start files.
KERNEL_LDFLAGS := -nostdlib
# Keep segments 4 KiB aligned in the file: a small image.
KERNEL_LDFLAGS += -z max-page-size=0x1000
# The kernel never runs code from its stack.
KERNEL_LDFLAGS += -z noexecstack
KERNEL_LDFLAGS += -T src/boot/linker.ld

KERNEL_CPP := $(shell find src -name '*.cpp' | sort)
KERNEL_ASM := $(shell find src -name '*.S' | sort)
KERNEL_OBJ := $(KERNEL_CPP:src/%.cpp=$(BUILD)/kernel/%.o) $(KERNEL_ASM:src/%.S=$(BUILD)/kernel/%.S.o)
KERNEL_ELF := $(BUILD)/kernel.elf
KERNEL_SYM := $(BUILD)/kernel.sym
ISO := $(BUILD)/kernel.iso

.PHONY: all kernel iso run debug test clean deps format format-check host-test host-test-tsan \
        fuzz integration-test integration-selftest test-smp-255 bench bench-smoke bench-kernel \
        soak

all: kernel
kernel: $(KERNEL_ELF)

$(BUILD)/kernel/%.o: src/%.cpp Makefile
	@mkdir -p $(dir $@)
	$(say) "  CXX     $<"
	$(Q)$(CXX) $(KERNEL_CXXFLAGS) -c $< -o $@

$(BUILD)/kernel/%.S.o: src/%.S Makefile
	@mkdir -p $(dir $@)
	$(say) "  AS      $<"
	$(Q)$(CXX) $(KERNEL_ASFLAGS) -c $< -o $@

$(KERNEL_ELF): $(KERNEL_OBJ) src/boot/linker.ld
	$(say) "  LD      $@"
	$(Q)$(LD) $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJ)

# Demangled, address-sorted code symbols: the table the panic handler reads (a GRUB module).
$(KERNEL_SYM): $(KERNEL_ELF)
	nm -n -C --defined-only $< | grep -E '^[0-9a-f]+ [tTwW] ' > $@

# The staging tree GRUB's ISO is made from; a second build (debug fill) stages elsewhere.
ISO_STAGING ?= iso

iso: $(ISO)
$(ISO): $(KERNEL_ELF) $(KERNEL_SYM) grub.cfg
	@mkdir -p $(ISO_STAGING)/boot/grub
	cp $(KERNEL_ELF) $(ISO_STAGING)/boot/kernel.elf
	cp $(KERNEL_SYM) $(ISO_STAGING)/boot/kernel.sym
	cp grub.cfg $(ISO_STAGING)/boot/grub/grub.cfg
	grub-mkrescue -o $@ $(ISO_STAGING) 2> $(BUILD)/grub-mkrescue.log \
	    || (cat $(BUILD)/grub-mkrescue.log; exit 1)

# The same kernel built with DEBUG_FILL=1 (freed frames filled, checked when handed out again),
# in a build tree of its own; the integration tests boot it too.
DEBUG_FILL_ISO := $(BUILD)/debug-fill/kernel.iso
$(DEBUG_FILL_ISO): FORCE
	@$(MAKE) --no-print-directory DEBUG_FILL=1 BUILD=$(BUILD)/debug-fill \
	    ISO_STAGING=$(BUILD)/debug-fill/iso $(DEBUG_FILL_ISO)
FORCE:

# The same kernel behind a GRUB menu that punches holes into the memory map (cutmem), for the
# memory integration tests.
CUTMEM_ISO := $(BUILD)/kernel-cutmem.iso
$(CUTMEM_ISO): $(KERNEL_ELF) $(KERNEL_SYM) test/integration/grub-cutmem.cfg
	@mkdir -p $(BUILD)/iso-cutmem/boot/grub
	cp $(KERNEL_ELF) $(KERNEL_SYM) $(BUILD)/iso-cutmem/boot/
	cp test/integration/grub-cutmem.cfg $(BUILD)/iso-cutmem/boot/grub/grub.cfg
	grub-mkrescue -o $@ $(BUILD)/iso-cutmem 2> $(BUILD)/grub-mkrescue-cutmem.log \
	    || (cat $(BUILD)/grub-mkrescue-cutmem.log; exit 1)

deps:
	@tools/install-deps.sh

QEMU_RUN_FLAGS := -accel tcg -machine $(MACHINE) -smp $(SMP) -m $(MEM) -cdrom $(ISO) -boot d \
                  -no-reboot -serial mon:stdio
ifeq ($(GUI),1)
QEMU_RUN_FLAGS += -display gtk   # a window with the VGA screen and the PS/2 keyboard
else
QEMU_RUN_FLAGS += -display none  # the serial console on this terminal is the whole interface
endif

run: deps
	@$(MAKE) --no-print-directory iso
	@echo "Booting $(ISO) with $(SMP) CPUs and $(MEM). Ctrl-A X quits QEMU, Ctrl-A C its monitor."
	$(QEMU) $(QEMU_RUN_FLAGS)

# QEMU waits for gdb on :1234; tools/gdbinit loads the kernel's symbols and connects.
debug: deps
	@$(MAKE) --no-print-directory iso
	$(QEMU) $(QEMU_RUN_FLAGS) -s -S &
	gdb -q -x tools/gdbinit

# ---------------------------------------------------------------------------------------------
# Host builds: the platform-free sources (library, memory management, ACPI parsing) compiled for
# this machine and tested with sanitizers.

# The platform-free folders: no asm, no port I/O, no globals that need the kernel. The host
# build compiles every source in them, so a new file there is tested without editing this list.
PLATFORM_FREE_DIRS := src/lib src/mm src/acpi src/boot/multiboot2 src/shell/input
HOST_SRC := $(sort $(foreach dir,$(PLATFORM_FREE_DIRS),$(wildcard $(dir)/*.cpp)))
HOST_TEST_SRC := $(sort $(wildcard test/host/*.cpp) $(wildcard test/host/concurrency/*.cpp))
TSAN_TEST_SRC := test/host/main.cpp $(sort $(wildcard test/host/concurrency/*.cpp))

HOST_CXXFLAGS := -std=c++20 -g -O1 -Wall -Wextra -Werror -Isrc -MMD -MP -pthread
# Both tiers of the allocator's assertions: MM_ASSERT is always on, MM_DEBUG_ASSERT (internal
# invariants, some of them reading bitmaps) only here. The kernel and the benchmarks leave it off.
HOST_CXXFLAGS += -DMM_DEBUG_CHECKS
ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TSAN_FLAGS := -fsanitize=thread

HOST_TEST_OBJ := $(patsubst %.cpp,$(BUILD)/host-asan/%.o,$(HOST_SRC) $(HOST_TEST_SRC))
TSAN_TEST_OBJ := $(patsubst %.cpp,$(BUILD)/host-tsan/%.o,$(HOST_SRC) $(TSAN_TEST_SRC))

$(BUILD)/host-asan/%.o: %.cpp Makefile
	@mkdir -p $(dir $@)
	$(say) "  CXX     $< (host, ASan+UBSan)"
	$(Q)$(CXX) $(HOST_CXXFLAGS) $(ASAN_FLAGS) -c $< -o $@

$(BUILD)/host-tsan/%.o: %.cpp Makefile
	@mkdir -p $(dir $@)
	$(say) "  CXX     $< (host, TSan)"
	$(Q)$(CXX) $(HOST_CXXFLAGS) $(TSAN_FLAGS) -c $< -o $@

$(BUILD)/host-tests: $(HOST_TEST_OBJ)
	$(CXX) $(HOST_CXXFLAGS) $(ASAN_FLAGS) $^ -o $@

$(BUILD)/host-tests-tsan: $(TSAN_TEST_OBJ)
	$(CXX) $(HOST_CXXFLAGS) $(TSAN_FLAGS) $^ -o $@

host-test: $(BUILD)/host-tests
	tools/run-doctest.sh $<

host-test-tsan: $(BUILD)/host-tests-tsan
	TSAN_OPTIONS=halt_on_error=1 tools/run-doctest.sh $<

# The allocator's schedule explorer for a long time: SOAK_SCHEDULES seeded interleavings per
# program family (host-test runs 1500 each). Not part of `make test`. A failure prints the seed;
# `SCHEDULE_SEED=S build/host-tests -tc='schedule explorer*'` replays it.
SOAK_SCHEDULES ?= 1000000
soak: $(BUILD)/host-tests
	SCHEDULES=$(SOAK_SCHEDULES) $< -tc='schedule explorer*'

# libFuzzer targets, one per test/fuzz/fuzz_*.cpp. `make test` runs each briefly; `make fuzz
# FUZZ_SECONDS=600` runs them longer.
FUZZ_SECONDS ?= 15
FUZZ_SRC := $(sort $(wildcard test/fuzz/fuzz_*.cpp))
FUZZ_BIN := $(FUZZ_SRC:test/fuzz/%.cpp=$(BUILD)/fuzz/%)
FUZZ_FLAGS := -std=c++20 -g -O1 -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
# Fuzzed code runs with both tiers of the allocator's assertions, as the host suites do.
FUZZ_FLAGS += -DMM_DEBUG_CHECKS

$(BUILD)/fuzz/%: test/fuzz/%.cpp $(HOST_SRC) Makefile
	@mkdir -p $(dir $@)
	$(CLANGXX) $(FUZZ_FLAGS) $< $(HOST_SRC) -o $@

fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do \
	    mkdir -p $(BUILD)/fuzz-corpus/$$(basename $$f); \
	    echo "fuzz: $$f for $(FUZZ_SECONDS) s"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(BUILD)/fuzz-corpus/$$(basename $$f) \
	        > $(BUILD)/fuzz/$$(basename $$f).log 2>&1 || { tail -40 $(BUILD)/fuzz/$$(basename $$f).log; exit 1; }; \
	    grep -E 'stat::number_of_executed_units' $(BUILD)/fuzz/$$(basename $$f).log; \
	done

# ---------------------------------------------------------------------------------------------
# Host benchmarks (docs/BENCHMARKS.md): the same allocator source as the kernel's, built like a
# release. `make bench` runs them all (several minutes) and prints the tables; `make test` only
# runs `bench-smoke`, which checks that every benchmark builds and runs a few iterations.

BENCH_CXXFLAGS := -std=c++20 -Wall -Wextra -Werror -Isrc -Ibench -MMD -MP -pthread
# Optimised as the kernel is, with symbols so callgrind can name functions.
BENCH_CXXFLAGS += -O2 -g
BENCH_SRC := $(sort $(wildcard bench/*.cpp))
BENCH_BIN := $(BENCH_SRC:bench/%.cpp=$(BUILD)/bench/%)
BENCH_RESULTS := $(BUILD)/bench/results.json
# Five repetitions per benchmark; the tables take each one's median.
BENCH_REPETITIONS ?= 5

$(BUILD)/bench/%: bench/%.cpp Makefile
	@mkdir -p $(dir $@)
	$(say) "  CXX     $< (bench, -O2)"
	$(Q)$(CXX) $(BENCH_CXXFLAGS) $< -o $@ -lbenchmark

bench: $(BENCH_BIN)
	$(BUILD)/bench/frame_allocator_bench --benchmark_repetitions=$(BENCH_REPETITIONS) \
	    --benchmark_display_aggregates_only=true \
	    --benchmark_out=$(BENCH_RESULTS) --benchmark_out_format=json
	$(PYTHON) tools/bench_table.py $(BENCH_RESULTS) | tee $(BUILD)/bench/tables.md
	tools/bench-instructions.sh $(BUILD)/bench/instruction_counts | tee $(BUILD)/bench/instructions.md

# The in-kernel `bench` command at -smp 1, 2, 4 and 8, three boots each (about a minute and a half).
bench-kernel: $(ISO)
	$(PYTHON) tools/bench-kernel.py --iso $(ISO) | tee $(BUILD)/bench/kernel.md

bench-smoke: $(BENCH_BIN)
	$(BUILD)/bench/frame_allocator_bench --smoke --benchmark_out=$(BUILD)/bench/smoke.json \
	    --benchmark_out_format=json > $(BUILD)/bench/smoke.log 2>&1 \
	    || { cat $(BUILD)/bench/smoke.log; exit 1; }
	$(PYTHON) tools/bench_table.py $(BUILD)/bench/smoke.json > /dev/null
	$(BUILD)/bench/instruction_counts
	@echo "bench-smoke: every benchmark built and ran"

# ---------------------------------------------------------------------------------------------
# Checks

FORMATTED := $(shell find src test bench -name '*.cpp' -o -name '*.hpp' | sort)

format:
	clang-format -i $(FORMATTED)

format-check:
	@clang-format --dry-run --Werror $(FORMATTED) && echo "format-check: ok"

integration-test: $(ISO) $(CUTMEM_ISO) $(DEBUG_FILL_ISO)
	$(PYTHON) test/integration/run.py --iso $(ISO)

# Long runs, not in `make test`: 255 CPUs under TCG take tens of seconds to start.
test-smp-255: $(ISO)
	$(PYTHON) test/integration/run.py --iso $(ISO) --tests-dir test/integration/long -k 255

# The harness's own tests, against a fake kernel: a harness that passes everything proves nothing.
integration-selftest:
	$(PYTHON) test/integration/selftest.py

# Each step builds with every core (JOBS), then runs; the steps themselves run one after another
# so that a failure names its step.
JOBS ?= $(shell nproc)

test: deps
	@$(MAKE) --no-print-directory format-check
	@$(MAKE) --no-print-directory -j$(JOBS) host-test
	@$(MAKE) --no-print-directory -j$(JOBS) host-test-tsan
	@$(MAKE) --no-print-directory -j$(JOBS) fuzz
	@$(MAKE) --no-print-directory -j$(JOBS) bench-smoke
	@$(MAKE) --no-print-directory integration-selftest
	@$(MAKE) --no-print-directory -j$(JOBS) integration-test

clean:
	rm -rf $(BUILD) iso/boot/kernel.elf iso/boot/kernel.sym iso/boot/grub/grub.cfg

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
