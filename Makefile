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

# Knobs for the exercises in docs/LEARNING.md; each rebuilds the kernel with another value.
# AREA_FRAMES: frames per allocator area (512..8192, a multiple of 512; default 8192 = 32 MiB).
# TAKE_OVER_FLOOR: free frames a partly used area needs to be taken over (default 512).
# GLOBAL_LOCK=1: boot with every allocation behind one lock (the `stress --mode` baseline).
KNOBS :=
ifdef AREA_FRAMES
KNOBS += -DMARKEROS_AREA_FRAMES=$(AREA_FRAMES)
endif
ifdef TAKE_OVER_FLOOR
KNOBS += -DMARKEROS_TAKE_OVER_FLOOR=$(TAKE_OVER_FLOOR)
endif
ifeq ($(GLOBAL_LOCK),1)
KNOBS += -DMARKEROS_GLOBAL_LOCK=1
endif
KERNEL_CXXFLAGS += $(KNOBS)
# A changed knob must rebuild every object: the flags are kept in a file the objects depend on,
# rewritten only when they differ.
KERNEL_FLAGS_FILE := $(BUILD)/kernel/flags
$(shell mkdir -p $(BUILD)/kernel && (echo '$(KNOBS)' | cmp -s - $(KERNEL_FLAGS_FILE) \
    || echo '$(KNOBS)' > $(KERNEL_FLAGS_FILE)))

# Assembly includes layout headers spelled from src/, tracks them like C++ does, and carries
# line information for gdb.
KERNEL_ASFLAGS := -Isrc -MMD -MP -g

# The framebuffer console's font: a PSF font from Debian's console-setup-linux package, unpacked
# into the build tree at build time (never copied into the source tree) and linked in by
# src/kernel/console_font.S. Terminus: clear at 8x16, with the Latin-1 characters the log uses.
FONT ?= Lat15-Terminus16
FONT_SOURCE := /usr/share/consolefonts/$(FONT).psf.gz
FONT_PSF := $(BUILD)/font/console.psf
# The kernel carries the font, so the ISO carries its licence (Terminus: SIL OFL 1.1) beside it.
FONT_LICENSE := /usr/share/doc/console-setup-linux/copyright.fonts.gz
KERNEL_ASFLAGS += -I$(BUILD)/font

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
KERNEL_LINES := $(BUILD)/kernel.lines
ISO := $(BUILD)/kernel.iso

.PHONY: all kernel iso run debug gdb test clean deps deps-run deps-debug format format-check \
        host-test host-test-tsan fuzz integration-test integration-selftest test-smp-255 test-knobs \
        bench bench-smoke bench-kernel help layers compile_commands.json soak

all: kernel ## build the kernel ELF (same as `make kernel`)
kernel: $(KERNEL_ELF) ## build build/kernel.elf

$(BUILD)/kernel/%.o: src/%.cpp Makefile $(KERNEL_FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(say) "  CXX     $<"
	$(Q)$(CXX) $(KERNEL_CXXFLAGS) -c $< -o $@

$(FONT_PSF): $(FONT_SOURCE)
	@mkdir -p $(dir $@)
	$(say) "  FONT    $<"
	$(Q)gzip -dc $< > $@

# .incbin is not seen by the dependency files.
$(BUILD)/kernel/kernel/console_font.S.o: $(FONT_PSF)

$(BUILD)/kernel/%.S.o: src/%.S Makefile $(KERNEL_FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(say) "  AS      $<"
	$(Q)$(CXX) $(KERNEL_ASFLAGS) -c $< -o $@

$(KERNEL_ELF): $(KERNEL_OBJ) src/boot/linker.ld
	$(say) "  LD      $@"
	$(Q)$(LD) $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJ)

# Demangled, address-sorted code symbols: the table the panic handler reads (a GRUB module).
$(KERNEL_SYM): $(KERNEL_ELF)
	nm -n -C --defined-only $< | grep -E '^[0-9a-f]+ [tTwW] ' > $@

# File:line and inlined calls per code address, from the ELF's DWARF (binutils): a GRUB module
# too, so panic reports read like addr2line's.
$(KERNEL_LINES): $(KERNEL_ELF) tools/line-table.py
	$(say) "  LINES   $@"
	$(Q)$(PYTHON) tools/line-table.py $< $@

# The staging tree GRUB's ISO is made from; a second build (debug fill) stages elsewhere.
ISO_STAGING ?= iso

iso: $(ISO) ## build the bootable ISO, build/kernel.iso
$(ISO): $(KERNEL_ELF) $(KERNEL_SYM) $(KERNEL_LINES) grub.cfg
	@mkdir -p $(ISO_STAGING)/boot/grub
	cp $(KERNEL_ELF) $(ISO_STAGING)/boot/kernel.elf
	cp $(KERNEL_SYM) $(ISO_STAGING)/boot/kernel.sym
	cp $(KERNEL_LINES) $(ISO_STAGING)/boot/kernel.lines
	cp grub.cfg $(ISO_STAGING)/boot/grub/grub.cfg
	gzip -dc $(FONT_LICENSE) > $(ISO_STAGING)/boot/font-copyright.txt
	grub-mkrescue -o $@ $(ISO_STAGING) 2> $(BUILD)/grub-mkrescue.log \
	    || (cat $(BUILD)/grub-mkrescue.log; exit 1)

# The same kernel built with DEBUG_FILL=1 (freed frames filled, checked when handed out again),
# in a build tree of its own; the integration tests boot it too.
DEBUG_FILL_ISO := $(BUILD)/debug-fill/kernel.iso
$(DEBUG_FILL_ISO): FORCE
	@$(MAKE) --no-print-directory DEBUG_FILL=1 BUILD=$(BUILD)/debug-fill \
	    ISO_STAGING=$(BUILD)/debug-fill/iso $(DEBUG_FILL_ISO)
FORCE:

# The same kernel behind other GRUB menus, for the integration tests: test/integration/grub-X.cfg
# makes build/kernel-X.iso. cutmem punches holes into the memory map; text keeps GRUB's text
# mode (gfxpayload=text), so the kernel must fall back to VGA text (BIOS) or serial only (UEFI).
CUTMEM_ISO := $(BUILD)/kernel-cutmem.iso
TEXT_ISO := $(BUILD)/kernel-text.iso
$(BUILD)/kernel-%.iso: $(KERNEL_ELF) $(KERNEL_SYM) $(KERNEL_LINES) test/integration/grub-%.cfg
	@mkdir -p $(BUILD)/iso-$*/boot/grub
	cp $(KERNEL_ELF) $(KERNEL_SYM) $(KERNEL_LINES) $(BUILD)/iso-$*/boot/
	cp test/integration/grub-$*.cfg $(BUILD)/iso-$*/boot/grub/grub.cfg
	grub-mkrescue -o $@ $(BUILD)/iso-$* 2> $(BUILD)/grub-mkrescue-$*.log \
	    || (cat $(BUILD)/grub-mkrescue-$*.log; exit 1)

# Each target installs only what it needs (tools/install-deps.sh lists why each package).
deps: ## install what make test needs (tools/install-deps.sh says why each package)
	@tools/install-deps.sh test
deps-run: ## install what make run needs (GUI=1: and QEMU's window)
	@tools/install-deps.sh $(if $(filter 1,$(GUI)),gui,run)
deps-debug: ## install what make debug and make gdb need
	@tools/install-deps.sh debug

QEMU_RUN_FLAGS := -accel tcg -machine $(MACHINE) -smp $(SMP) -m $(MEM) -cdrom $(ISO) -boot d \
                  -no-reboot -serial mon:stdio
# UEFI=1 boots the same ISO (it carries GRUB's EFI build too) under OVMF, Debian's UEFI
# firmware; the firmware's variable store is a copy, since the firmware writes to it.
ifeq ($(UEFI),1)
OVMF_VARS_COPY := $(BUILD)/OVMF_VARS.fd
QEMU_RUN_FLAGS += -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd
QEMU_RUN_FLAGS += -drive if=pflash,format=raw,file=$(OVMF_VARS_COPY)
endif
ifeq ($(GUI),1)
QEMU_RUN_FLAGS += -display gtk   # a window with the screen (framebuffer console) and the PS/2 keyboard
else
QEMU_RUN_FLAGS += -display none  # the serial console on this terminal is the whole interface
endif

run: deps-run ## boot the ISO in QEMU, shell on this terminal (SMP=4 MEM=512M MACHINE=pc GUI=1 UEFI=1)
	@$(MAKE) --no-print-directory iso
	$(if $(OVMF_VARS_COPY),cp /usr/share/OVMF/OVMF_VARS_4M.fd $(OVMF_VARS_COPY))
	@echo "Booting $(ISO) with $(SMP) CPUs and $(MEM)$(if $(OVMF_VARS_COPY), under UEFI). Ctrl-A X quits QEMU, Ctrl-A C its monitor."
	$(QEMU) $(QEMU_RUN_FLAGS)

# Debugging as in xv6: `make debug` runs QEMU on this terminal (the serial console) halted,
# waiting for gdb on GDB_PORT; `make gdb` in a second terminal attaches. Each program owns its
# terminal, so Ctrl-C in gdb breaks into the kernel and Ctrl-C here reaches the shell. Quitting
# gdb ends QEMU (tools/gdbinit); Ctrl-A X ends QEMU and gdb says the connection closed.
# Inside tmux, `make debug` opens the gdb pane itself.
GDB_PORT ?= 1234
GDB_ARGS ?=
debug: deps-debug ## boot halted, serial on this terminal, waiting for gdb (make gdb attaches)
	@$(MAKE) --no-print-directory iso
	@echo "QEMU waits for gdb on port $(GDB_PORT): run 'make gdb' in another terminal. Ctrl-A X quits."
	@if [ -n "$$TMUX" ]; then tmux split-window -h "$(MAKE) gdb GDB_PORT=$(GDB_PORT)"; fi
	$(QEMU) $(QEMU_RUN_FLAGS) -gdb tcp:127.0.0.1:$(GDB_PORT) -S

gdb: deps-debug $(KERNEL_ELF) ## attach gdb to the kernel that make debug started
	gdb -q -nx -ex 'file $(KERNEL_ELF)' -ex 'target remote 127.0.0.1:$(GDB_PORT)' \
	    -x tools/gdbinit $(GDB_ARGS)

# ---------------------------------------------------------------------------------------------
# Host builds: the platform-free sources (library, memory management, ACPI parsing) compiled for
# this machine and tested with sanitizers.

# The platform-free folders: no asm, no port I/O, no globals that need the kernel. The host
# build compiles every source in them, so a new file there is tested without editing this list.
PLATFORM_FREE_DIRS := src/lib src/mm src/gfx src/heap src/vm src/acpi src/boot/multiboot2 src/shell/input
HOST_SRC := $(sort $(foreach dir,$(PLATFORM_FREE_DIRS),$(wildcard $(dir)/*.cpp)))
# Every suite under test/host; the threaded ones in test/host/concurrency/ also run under TSan.
HOST_TEST_SRC := $(sort $(shell find test/host -name '*.cpp'))
TSAN_TEST_SRC := test/host/main.cpp $(sort $(wildcard test/host/concurrency/*.cpp))

HOST_CXXFLAGS := -std=c++20
# Symbols for sanitizer reports and gdb; -O1 keeps the sanitizers fast without hiding bugs.
HOST_CXXFLAGS += -g -O1
# Warnings are bugs waiting, on the host as in the kernel.
HOST_CXXFLAGS += -Wall -Wextra -Werror
# Includes are spelled from src/, as in the kernel.
HOST_CXXFLAGS += -Isrc
# Dependency files, so header edits rebuild what uses them.
HOST_CXXFLAGS += -MMD -MP
# The concurrency suites run real threads.
HOST_CXXFLAGS += -pthread
# Both tiers of the allocator's assertions: MM_ASSERT is always on, MM_DEBUG_ASSERT (internal
# invariants, some of them reading bitmaps) only here. The kernel and the benchmarks leave it off.
HOST_CXXFLAGS += -DMM_DEBUG_CHECKS

# Out-of-bounds and use-after-free (ASan) and undefined behaviour (UBSan) stop the run at the
# first report (no recovery), with frame pointers for readable stacks.
ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# Data races between the threads of the concurrency suites.
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

host-test: $(BUILD)/host-tests ## host doctest suites with ASan and UBSan
	tools/run-doctest.sh $<

host-test-tsan: $(BUILD)/host-tests-tsan ## the concurrency suites with ThreadSanitizer
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
FUZZ_FLAGS := -std=c++20
# Symbols for crash reports; -O1 as the host suites.
FUZZ_FLAGS += -g -O1
# Includes are spelled from src/.
FUZZ_FLAGS += -Isrc
# Dependency files: a header edit rebuilds the fuzzers that include it.
FUZZ_FLAGS += -MMD -MP
# libFuzzer's coverage-guided driver, and every input checked by ASan and UBSan, which stop at
# the first report.
FUZZ_FLAGS += -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
# Fuzzed code runs with both tiers of the allocator's assertions, as the host suites do.
FUZZ_FLAGS += -DMM_DEBUG_CHECKS
# The platform-free sources are compiled once for all fuzzers, without libFuzzer's main().
FUZZ_LIB_FLAGS := $(subst -fsanitize=fuzzer,-fsanitize=fuzzer-no-link,$(FUZZ_FLAGS))
FUZZ_LIB_OBJ := $(patsubst %.cpp,$(BUILD)/fuzz-obj/%.o,$(HOST_SRC))

$(BUILD)/fuzz-obj/%.o: %.cpp Makefile
	@mkdir -p $(dir $@)
	$(say) "  CXX     $< (fuzz)"
	$(Q)$(CLANGXX) $(FUZZ_LIB_FLAGS) -c $< -o $@

$(BUILD)/fuzz-obj/test/fuzz/%.o: test/fuzz/%.cpp Makefile
	@mkdir -p $(dir $@)
	$(say) "  CXX     $< (fuzz target)"
	$(Q)$(CLANGXX) $(FUZZ_FLAGS) -c $< -o $@

FUZZ_TARGET_OBJ := $(FUZZ_SRC:test/fuzz/%.cpp=$(BUILD)/fuzz-obj/test/fuzz/%.o)
# Objects reached through a pattern rule would count as intermediate and be deleted.
.SECONDARY: $(FUZZ_LIB_OBJ) $(FUZZ_TARGET_OBJ)

$(BUILD)/fuzz/%: $(BUILD)/fuzz-obj/test/fuzz/%.o $(FUZZ_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(say) "  LD      $@"
	$(Q)$(CLANGXX) $(FUZZ_FLAGS) $^ -o $@

fuzz: $(FUZZ_BIN) ## each libFuzzer target for FUZZ_SECONDS (default 15)
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

BENCH_CXXFLAGS := -std=c++20
# Warnings are bugs waiting; includes from src/ and bench/; header edits rebuild; threads.
BENCH_CXXFLAGS += -Wall -Wextra -Werror -Isrc -Ibench -MMD -MP -pthread
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

bench: $(BENCH_BIN) ## host benchmarks at 4 GiB, Markdown tables and instruction counts (~4 min)
	$(BUILD)/bench/frame_allocator_bench --benchmark_repetitions=$(BENCH_REPETITIONS) \
	    --benchmark_display_aggregates_only=true \
	    --benchmark_out=$(BENCH_RESULTS) --benchmark_out_format=json
	$(PYTHON) tools/bench_table.py $(BENCH_RESULTS) | tee $(BUILD)/bench/tables.md
	tools/bench-instructions.sh $(BUILD)/bench/instruction_counts | tee $(BUILD)/bench/instructions.md
	$(BUILD)/bench/heap_bench --benchmark_repetitions=$(BENCH_REPETITIONS) \
	    --benchmark_display_aggregates_only=true | tee $(BUILD)/bench/heap.txt

# The in-kernel `bench` command at -smp 1, 2, 4 and 8, five boots each (about three minutes):
# TCG moves a ratio by a third from boot to boot, so the summary gives the median of five.
bench-kernel: $(ISO) ## the kernel's bench command at -smp 1, 2, 4, 8, five boots each (~3 min)
	@mkdir -p $(BUILD)/bench
	$(PYTHON) tools/bench-kernel.py --iso $(ISO) --runs 5 | tee $(BUILD)/bench/kernel.md

bench-smoke: $(BENCH_BIN) ## every benchmark built and run a few iterations
	$(BUILD)/bench/frame_allocator_bench --smoke --benchmark_out=$(BUILD)/bench/smoke.json \
	    --benchmark_out_format=json > $(BUILD)/bench/smoke.log 2>&1 \
	    || { cat $(BUILD)/bench/smoke.log; exit 1; }
	$(PYTHON) tools/bench_table.py $(BUILD)/bench/smoke.json > /dev/null
	$(BUILD)/bench/instruction_counts
	$(BUILD)/bench/heap_bench --smoke > $(BUILD)/bench/heap-smoke.log 2>&1 \
	    || { cat $(BUILD)/bench/heap-smoke.log; exit 1; }
	@echo "bench-smoke: every benchmark built and ran"

# ---------------------------------------------------------------------------------------------
# Checks

FORMATTED := $(shell find src test bench -name '*.cpp' -o -name '*.hpp' | sort)

# Folders of src/ include only lower layers (README, "Map of the source").
layers: ## print the folder-to-folder includes; fail on an include against the layers or a cycle
	@$(PYTHON) tools/check-layers.py src

# For clangd and other tools: every source with the flags its build uses (kernel, host, fuzz,
# bench), written to ./compile_commands.json (ignored by git).
compile_commands.json: ## write compile_commands.json for clangd
	@$(PYTHON) tools/compile-commands.py \
	    --group "$(KERNEL_CXXFLAGS)" $(KERNEL_CPP) \
	    --group "$(HOST_CXXFLAGS) $(ASAN_FLAGS)" $(HOST_SRC) $(HOST_TEST_SRC) \
	    --group "$(FUZZ_FLAGS)" $(FUZZ_SRC) \
	    --group "$(BENCH_CXXFLAGS)" $(BENCH_SRC) > $@
	@echo "compile_commands.json: written for $$(grep -c '"file"' $@) sources"

help: ## list the targets with one line each
	@grep -hE '^[a-zA-Z0-9_.-]+:.*## ' $(MAKEFILE_LIST) | \
	    awk 'BEGIN {FS = ":.*## "}; {printf "  %-24s %s\n", $$1, $$2}'

format: ## apply clang-format to every C++ file
	clang-format -i $(FORMATTED)

format-check: ## fail if any C++ file is not clang-formatted
	@clang-format --dry-run --Werror $(FORMATTED) && echo "format-check: ok"

integration-test: $(ISO) $(CUTMEM_ISO) $(TEXT_ISO) $(DEBUG_FILL_ISO) ## boot the ISO in QEMU in many configurations and drive the shell
	$(PYTHON) test/integration/run.py --iso $(ISO)

# Long runs, not in `make test`: 255 CPUs under TCG take tens of seconds to start.
test-smp-255: $(ISO) ## boot 255 CPUs (long; not in make test)
	$(PYTHON) test/integration/run.py --iso $(ISO) --tests-dir test/integration/long -k 255

# The exercise knobs (docs/LEARNING.md) in a second build tree; not in `make test`.
test-knobs: $(ISO) ## build and boot the exercise knobs of docs/LEARNING.md (~50 s; not in make test)
	$(PYTHON) test/integration/run.py --iso $(ISO) --tests-dir test/integration/long -k knobs

# The harness's own tests, against a fake kernel: a harness that passes everything proves nothing.
integration-selftest: ## the integration harness's own tests against a fake kernel
	$(PYTHON) test/integration/selftest.py

# Each step builds with every core (JOBS), then runs; the steps themselves run one after another
# so that a failure names its step.
JOBS ?= $(shell nproc)

test: deps ## everything CI runs
	@$(MAKE) --no-print-directory format-check
	@$(MAKE) --no-print-directory layers
	@$(MAKE) --no-print-directory -j$(JOBS) host-test
	@$(MAKE) --no-print-directory -j$(JOBS) host-test-tsan
	@$(MAKE) --no-print-directory -j$(JOBS) fuzz
	@$(MAKE) --no-print-directory -j$(JOBS) bench-smoke
	@$(MAKE) --no-print-directory integration-selftest
	@$(MAKE) --no-print-directory -j$(JOBS) integration-test

clean: ## remove build/ and the staged ISO files
	rm -rf $(BUILD) iso/boot/kernel.elf iso/boot/kernel.sym iso/boot/kernel.lines \
	    iso/boot/font-copyright.txt \
	    iso/boot/grub/grub.cfg

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
