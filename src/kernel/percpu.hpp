// Per-CPU data, reached through the GS base so that finding "my" block costs one memory access
// and no APIC id lookup. Each CPU's block is cache-line aligned so that CPUs never share a line.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "arch/x86_64/cpu_limits.hpp"

namespace smp {

enum class CpuState : std::uint32_t { offline, starting, online, failed };

struct alignas(64) PerCpu {
    PerCpu* self;             // gs:0, so `this_cpu()` is a single load
    std::uint32_t index;      // gs:8, dense 0..online-1, the allocator's cursor index
    std::uint32_t apic_id;    // gs:12
    std::uint64_t stack_top;  // gs:16
    std::atomic<CpuState> state;
    std::uint32_t reserved0;
    std::uint64_t tsc_at_online;
    std::uint64_t double_fault_stack_top;

    // Work hand-off (see idle.hpp): the caller writes the function and context, then publishes
    // a new `work_posted` with release; the CPU runs it and answers with `work_done`.
    using WorkFunction = void (*)(std::uint32_t cpu_index, void* context);
    WorkFunction work_function;
    void* work_context;
    std::atomic<std::uint64_t> work_posted;
    alignas(64) std::atomic<std::uint64_t> work_done;  // written by this CPU, polled by the caller
    std::atomic<std::uint64_t> wakeups;                // IPIs received
};

// Read by hand-written assembly (GS-relative loads), so the offsets are part of the ABI.
static_assert(offsetof(PerCpu, self) == 0);
static_assert(offsetof(PerCpu, index) == 8);
static_assert(offsetof(PerCpu, apic_id) == 12);
static_assert(offsetof(PerCpu, stack_top) == 16);
static_assert(alignof(PerCpu) == 64 && sizeof(PerCpu) % 64 == 0);

inline PerCpu& this_cpu() {
    PerCpu* self;
    asm volatile("mov %%gs:0, %0" : "=r"(self));
    return *self;
}

inline std::uint32_t cpu_index() {
    std::uint32_t index;
    asm volatile("movl %%gs:8, %0" : "=r"(index));
    return index;
}

// Storage for every CPU's block, indexed by CPU index.
PerCpu& cpu(std::uint32_t index);
std::uint32_t online_cpu_count();

// Points GS at this CPU's block; the first thing each CPU does in C++.
void install_per_cpu(PerCpu& block);
// Publishes that the CPU is up (release: its set-up is visible to whoever sees it online).
void mark_online(PerCpu& block);

}  // namespace smp
