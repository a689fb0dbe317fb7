// `vmbench`: what kernel virtual memory costs on this machine, with the CPUs online now: pages
// mapped and unmapped per second with 4 KiB and with 2 MiB pages, the round trip of one TLB
// shootdown, and what batching a vfree's pages into one round saves. Under QEMU's emulation the
// times are not hardware times; compare ratios, and runs at different CPU counts.
#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/tsc.hpp"
#include "kernel/console.hpp"
#include "kernel/kernel_vm.hpp"
#include "kernel/percpu.hpp"
#include "kernel/tlb_shootdown.hpp"
#include "lib/units.hpp"
#include "shell/command.hpp"

namespace shell {
namespace {

constexpr std::uint64_t kMapBytes = 64 * lib::MiB;
constexpr int kMapRepeats = 8;
constexpr std::uint64_t kBatchPages = vm::FlushBatch::kMaxPages;

// One page nobody maps: flushing it costs a round and changes nothing.
constexpr std::uint64_t kScratchPage = kvm::kAreaEnd - mm::kFrameSize;

std::uint64_t per_second(std::uint64_t count, std::uint64_t ns) {
    return ns == 0 ? 0 : count * 1000000000 / ns;
}

// vmallocs and vfrees 64 MiB kMapRepeats times; false if a vmalloc failed.
bool measure_mapping(bool large_pages) {
    std::uint64_t map_ns = 0, unmap_ns = 0, pages = 0, large = 0;
    for (int i = 0; i < kMapRepeats; ++i) {
        std::uint64_t started = tsc::now_ns();
        auto mapping = kvm::vmalloc(kMapBytes, vm::RangeKind::vmalloc, large_pages);
        std::uint64_t mapped = tsc::now_ns();
        if (!mapping) {
            kprint("vmbench: vmalloc failed: {}\n", vm::to_string(mapping.error()));
            return false;
        }
        vm::MappingDescription d;
        if (kvm::describe(reinterpret_cast<std::uint64_t>(mapping.value()), d, {})) {
            pages += d.small_pages + d.large_pages;
            large += d.large_pages;
        }
        if (!kvm::vfree(mapping.value())) {
            kprint("vmbench: vfree failed\n");
            return false;
        }
        map_ns += mapped - started;
        unmap_ns += tsc::now_ns() - mapped;
    }
    std::uint64_t bytes = kMapBytes * kMapRepeats;
    kprint(
        "vmbench: {} pages: {} pages ({} of them 2 MiB); map {} pages/s = {} MiB/s, unmap {} "
        "MiB/s\n",
        large_pages ? "2 MiB" : "4 KiB", pages, large, per_second(pages, map_ns),
        per_second(bytes / lib::MiB, map_ns), per_second(bytes / lib::MiB, unmap_ns));
    return true;
}

std::uint64_t time_rounds(std::uint64_t rounds, std::uint64_t pages_per_round) {
    vm::FlushBatch batch;
    for (std::uint64_t p = 0; p < pages_per_round; ++p) {
        batch.add(kScratchPage - p * mm::kFrameSize);
    }
    std::uint64_t started = tsc::now_ns();
    for (std::uint64_t i = 0; i < rounds; ++i) {
        tlb::flush(batch);
    }
    return tsc::now_ns() - started;
}

void run_vmbench(Args& args) {
    std::uint64_t rounds = 200;
    if (!args.number("rounds", rounds) || rounds == 0 || rounds > 100000) {
        kprint("vmbench: --rounds takes 1..100000\n");
        return;
    }
    kprint("vmbench: {} CPUs online\n", smp::online_cpu_count());
    if (!measure_mapping(false) || !measure_mapping(true)) {
        return;
    }
    std::uint64_t one = time_rounds(rounds, 1) / rounds;
    // The same page flushed on this CPU alone: the unit the round trip is measured in, since
    // emulated times only compare within one boot.
    std::uint64_t started = tsc::now_ns();
    for (std::uint64_t i = 0; i < rounds; ++i) {
        cpu::invalidate_page(kScratchPage);
    }
    std::uint64_t local = (tsc::now_ns() - started) / rounds;
    kprint(
        "vmbench: shootdown round trip: {} ns per round ({} rounds of one page); a local invlpg "
        "{} ns; ratio {}x\n",
        one, rounds, local, local == 0 ? 0 : one / local);
    // A vfree of kBatchPages pages: one round for all of them, or one round per page.
    std::uint64_t repeats = rounds / kBatchPages + 1;
    std::uint64_t batched = time_rounds(repeats, kBatchPages) / repeats;
    std::uint64_t single = time_rounds(repeats * kBatchPages, 1) / repeats;
    kprint(
        "vmbench: {} pages: batched into 1 round {} ns, one round per page {} ns ({} rounds "
        "saved, {}.{}x faster)\n",
        kBatchPages, batched, single, kBatchPages - 1, batched == 0 ? 0 : single / batched,
        batched == 0 ? 0 : single * 10 / batched % 10);
}

const OptionSpec vmbench_options[] = {
    {"rounds", "N", "shootdown rounds to time (default 200)"},
};
REGISTER_COMMAND("vmbench", "", "cost of mapping 4 KiB vs 2 MiB pages and of TLB shootdown rounds",
                 vmbench_options, 1, run_vmbench);

}  // namespace
}  // namespace shell
