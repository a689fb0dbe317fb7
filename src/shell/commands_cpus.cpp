// `cpus`: every CPU, its state and what the allocator's per-CPU statistics say about it.
#include "kernel/console.hpp"
#include "kernel/kernel_memory.hpp"
#include "kernel/percpu.hpp"
#include "shell/command.hpp"
#include "smp/smp_init.hpp"

namespace shell {
namespace {

const char* state_name(smp::CpuState state) {
    switch (state) {
        case smp::CpuState::offline:
            return "offline";
        case smp::CpuState::starting:
            return "starting";
        case smp::CpuState::online:
            return "online";
        case smp::CpuState::failed:
            return "failed";
    }
    return "?";
}

void run_cpus(Args&) {
    const smp::SmpReport& report = smp::report();
    kprint("{} CPUs online ({} in the MADT, {} enabled, {} failed to start, {} over the limit)\n",
           smp::online_cpu_count(), report.listed, report.enabled, report.failed, report.ignored);
    // Two tables, so that each fits an 80-column terminal and the VGA screen.
    kprint("{:>4} {:>5} {:<7} {:>6} {:>10} {:>10} {:>9}\n", "cpu", "apic", "state", "area",
           "allocs", "frees", "remote");
    for (std::uint32_t i = 0; i < smp::online_cpu_count(); ++i) {
        smp::PerCpu& c = smp::cpu(i);
        mm::CpuStats s = kmem::allocator().cpu_stats(i);
        char area[16];
        if (s.area == mm::kNoArea) {
            lib::format_to(area, sizeof(area), "-");
        } else {
            lib::format_to(area, sizeof(area), "{}{}", s.area, s.owns_area ? "" : "*");
        }
        kprint("{:>4} {:>5} {:<7} {:>6} {:>10} {:>10} {:>9}\n", i, c.apic_id,
               state_name(c.state.load(std::memory_order_acquire)), area, s.allocations, s.frees,
               s.remote_frees);
    }
    kprint("{:>4} {:>7} {:>7} {:>8} {:>8} {:>7} {:>7} {:>10}\n", "cpu", "claims", "shares",
           "sweeps", "rescans", "recalc", "search", "spins");
    for (std::uint32_t i = 0; i < smp::online_cpu_count(); ++i) {
        mm::CpuStats s = kmem::allocator().cpu_stats(i);
        kprint("{:>4} {:>7} {:>7} {:>8} {:>8} {:>7} {:>7} {:>10}\n", i, s.area_claims, s.shares,
               s.extent_sweeps, s.area_rescans, s.recalculations, s.last_resort_searches,
               s.lock_spins);
    }
    kprint(
        "area: the CPU's allocation cursor (* = shared with its owner, not owned)\n"
        "sweeps: moves to the next free run in its own area; rescans: of that area for\n"
        "its largest run; recalc: whole-memory passes; search: last-resort first-fit\n"
        "searches; spins: waits on the allocator's locks\n");
}

REGISTER_COMMAND("cpus", "", "every CPU: APIC id, state, allocator area and counters", nullptr, 0,
                 run_cpus);

}  // namespace
}  // namespace shell
