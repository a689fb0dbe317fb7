// What CPUs do when they have nothing to do, and how they are given work. An idle AP sleeps in
// `hlt` with interrupts on; `run_on_cpus` writes a function into each CPU's per-CPU block,
// wakes it with an IPI and waits for all of them, the calling CPU doing its own share.
#pragma once

#include <cstdint>

#include "kernel/percpu.hpp"

namespace smp {

// The C++ entry of an AP, called by the trampoline on the AP's own stack.
extern "C" [[noreturn]] void ap_main(std::uint32_t cpu_index);

// Installs the wake-up IPI handler; on the boot CPU before any AP starts.
void init_work_dispatch();

// Runs `function(cpu_index, context)` on CPUs 0..cpu_count-1 (the caller must be CPU 0) and
// returns when every one has finished.
void run_on_cpus(std::uint32_t cpu_count, PerCpu::WorkFunction function, void* context);
// Runs `function` on the one online CPU `index` and waits for it; on CPU 0 it simply calls it.
void run_on_cpu(std::uint32_t index, PerCpu::WorkFunction function, void* context);

}  // namespace smp
