// Commands about kernel virtual memory: vmalloc, vfree, vmaps, vmdemo.
#include "arch/x86_64/direct_map.hpp"
#include "kernel/console.hpp"
#include "kernel/kernel_memory.hpp"
#include "kernel/kernel_vm.hpp"
#include "kernel/percpu.hpp"
#include "kernel/tlb_shootdown.hpp"
#include "lib/units.hpp"
#include "shell/command.hpp"

namespace shell {
namespace {

constexpr std::size_t kRunsShown = 4;

// "N x 4 KiB, M x 2 MiB in R physical runs", then the first runs.
void print_mapping(std::uint64_t begin, bool with_runs) {
    vm::BackingRun runs[kRunsShown];
    vm::MappingDescription d;
    if (!kvm::describe(begin, d, runs)) {
        return;
    }
    kprint("  {:#x}..{:#x} {:>10} {:<7} cpu {:<3} {} x 4 KiB, {} x 2 MiB, {} physical runs{}\n",
           d.range.begin, d.range.end, lib::Bytes{d.range.end - d.range.begin},
           vm::to_string(d.range.kind), d.range.cpu, d.small_pages, d.large_pages, d.runs,
           d.range.freeing ? " (being freed)" : "");
    if (!with_runs) {
        return;
    }
    for (std::size_t i = 0; i < d.runs && i < kRunsShown; ++i) {
        kprint("      {:#x} -> {:#x} {} in {} pages\n", runs[i].virtual_address, runs[i].physical,
               lib::Bytes{runs[i].bytes}, runs[i].size == vm::PageSize::large ? "2 MiB" : "4 KiB");
    }
    if (d.runs > kRunsShown) {
        kprint("      ... and {} more runs\n", d.runs - kRunsShown);
    }
}

void run_vmalloc(Args& args) {
    std::uint64_t bytes = 0;
    if (!args.positional_number(0, bytes)) {
        kprint("vmalloc: {} (give a size such as 12K or 64M)\n", args.error());
        return;
    }
    auto result = kvm::vmalloc(bytes);
    if (!result) {
        kprint("vmalloc: {}\n", vm::to_string(result.error()));
        return;
    }
    kprint("vmalloc: {} at {:#x}\n", lib::Bytes{bytes},
           reinterpret_cast<std::uint64_t>(result.value()));
    print_mapping(reinterpret_cast<std::uint64_t>(result.value()), true);
}
REGISTER_COMMAND("vmalloc", "SIZE",
                 "map SIZE bytes virtually contiguous (2 MiB pages where possible)", nullptr, 0,
                 run_vmalloc);

void run_vfree(Args& args) {
    std::uint64_t address = 0;
    if (!args.positional_number(0, address)) {
        kprint("vfree: {} (give the address vmalloc printed)\n", args.error());
        return;
    }
    // A CPU's stack is in use while that CPU runs: freeing it from here would crash it.
    vm::MappingDescription d;
    if (kvm::describe(address, d, {}) && d.range.kind == vm::RangeKind::stack) {
        kprint("vfree: {:#x} is a CPU's kernel stack; refused\n", address);
        return;
    }
    auto status = kvm::vfree(reinterpret_cast<const void*>(address));
    if (!status) {
        kprint("vfree: {:#x}: {}\n", address, vm::to_string(status.error()));
        return;
    }
    kprint("vfree: freed {:#x}\n", address);
}
REGISTER_COMMAND("vfree", "ADDR", "unmap a vmalloc mapping, flush every CPU's TLB, free its frames",
                 nullptr, 0, run_vfree);

void print_shootdown_counters() {
    vm::ShootdownCounters sum = tlb::totals(smp::online_cpu_count());
    kprint(
        "shootdowns: rounds={} ipis-sent={} received={} pages-flushed={} full-flushes={} "
        "pages-batched={} rounds-saved-by-batching={} wait={} us\n",
        sum.rounds, sum.ipis_sent, sum.received, sum.pages_flushed, sum.full_flushes,
        sum.pages_batched, sum.pages_batched - sum.rounds, sum.wait_ns / 1000);
}

void run_vmaps(Args& args) {
    bool runs = args.has("runs");
    kprint("vmalloc area {:#x}..{:#x}, {} guard gaps:\n", kvm::kAreaBegin, kvm::kAreaEnd,
           lib::Bytes{kvm::kGuardBytes});
    for (std::size_t i = 0;; ++i) {
        std::uint64_t begin = kvm::mapping_at(i);
        if (begin == 0) {
            break;
        }
        print_mapping(begin, runs);
    }
    vm::VmStats s = kvm::stats();
    kprint(
        "mappings={} small-pages={} large-pages={} vmallocs={} vmaps={} vfrees={} rollbacks={} "
        "tables: made={} freed={} waiting={}\n",
        s.live_ranges, s.small_pages, s.large_pages, s.vmallocs, s.vmaps, s.vfrees, s.rollbacks,
        s.tables_allocated, s.tables_freed, s.tables_waiting);
    print_shootdown_counters();
}
const OptionSpec vmaps_options[] = {
    {"runs", nullptr, "also list the first physical runs behind each mapping"},
};
REGISTER_COMMAND("vmaps", "", "the vmalloc mappings, their pages and runs, TLB shootdown counts",
                 vmaps_options, 1, run_vmaps);

}  // namespace
}  // namespace shell
