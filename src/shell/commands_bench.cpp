// `bench`: the allocator's throughput on every CPU at once, per-CPU cursors against one global
// lock on the same workload in the same boot, and the cost of a whole recalculation. Figures
// under QEMU's emulation are not hardware times: compare the ratios, which one run measures
// under the same conditions.
#include <initializer_list>

#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/direct_map.hpp"
#include "arch/x86_64/tsc.hpp"
#include "kernel/console.hpp"
#include "kernel/kernel_memory.hpp"
#include "kernel/percpu.hpp"
#include "shell/command.hpp"
#include "shell/heap_stress.hpp"
#include "shell/picture.hpp"
#include "shell/stress.hpp"

namespace shell {
namespace {

struct Shape {
    const char* name;
    stress::Pattern pattern;
    std::uint32_t frames;
    std::uint32_t remote_percent;
};

const Shape kShapes[] = {
    {"bulk", stress::Pattern::bulk, 1, 0},       {"repeat", stress::Pattern::repeat, 1, 0},
    {"rand", stress::Pattern::random, 1, 50},    {"bulk", stress::Pattern::bulk, 512, 0},
    {"repeat", stress::Pattern::repeat, 512, 0},
};

std::uint64_t ops_per_second(const stress::Result& r) {
    return r.elapsed_ns == 0 ? 0 : r.ops * 1000000000 / r.elapsed_ns;
}

// Fragments memory so every area's marker is stale (every other 2 MiB block allocated, the
// markers at their areas' ends), times one whole recalculation, then frees everything.
void measure_recalculation() {
    auto& allocator = kmem::allocator();
    mm::PhysAddr head = 0;
    std::uint64_t blocks = 0;
    for (;;) {
        auto block = allocator.allocate(512, 512);
        if (!block) {
            break;
        }
        *static_cast<mm::PhysAddr*>(phys_to_virt(block.value())) = head;
        head = block.value();
        ++blocks;
    }
    // Free every other block: half of memory free again, in runs the markers do not know.
    mm::PhysAddr keep = 0;
    bool free_this = true;
    for (mm::PhysAddr block = head; block != 0; free_this = !free_this) {
        mm::PhysAddr next = *static_cast<mm::PhysAddr*>(phys_to_virt(block));
        if (free_this) {
            (void)allocator.free(block, 512);
        } else {
            *static_cast<mm::PhysAddr*>(phys_to_virt(block)) = keep;
            keep = block;
        }
        block = next;
    }
    std::uint64_t managed = allocator.totals().total_frames * mm::kFrameSize;
    std::uint64_t start = cpu::read_tsc();
    allocator.recalculate();
    std::uint64_t ns = tsc::tsc_to_ns(cpu::read_tsc() - start);
    for (mm::PhysAddr block = keep; block != 0;) {
        mm::PhysAddr next = *static_cast<mm::PhysAddr*>(phys_to_virt(block));
        (void)allocator.free(block, 512);
        block = next;
    }
    // Managed memory whose metadata one pass rescans per second: the bitmap holds a bit per
    // 4 KiB frame, so a pass over a GiB reads 32 KiB.
    std::uint64_t gib_per_s = ns == 0 ? 0 : (managed * 1000 / ns) * 1000000 >> 30;
    kprint(
        "bench: recalculation of {} managed ({} 2 MiB blocks, every other one freed): {} us, "
        "{} GiB of managed memory rescanned per second\n",
        lib::Bytes{managed}, blocks, ns / 1000, gib_per_s);
}

// The heap row: kmalloc+kfree pairs of 64 bytes on every CPU, per-CPU magazines against the
// same heap with every call under its cache's lock. The "frames" column holds the bytes.
void measure_heap(std::uint64_t ops, std::uint32_t cpus) {
    static stress::Result result;
    std::uint64_t rate[2];
    for (heap::Mode mode : {heap::Mode::per_cpu, heap::Mode::global_lock}) {
        heap_stress::Options options;
        options.cpus = cpus;
        options.ops = ops;
        options.pairs = true;
        options.pair_bytes = 64;
        options.tags = false;
        options.progress = false;
        options.mode = mode;
        heap_stress::run(options, result);
        if (result.duplicates + result.lost + result.errors != 0) {
            kprint("bench: the heap broke: duplicates={} lost={} errors={}\n", result.duplicates,
                   result.lost, result.errors);
            return;
        }
        rate[mode == heap::Mode::per_cpu ? 0 : 1] = ops_per_second(result);
    }
    std::uint64_t ratio_tenths = rate[1] == 0 ? 0 : rate[0] * 10 / rate[1];
    kprint("{:<8} {:>6} {:>16} {:>16} {:>6}.{}x\n", "heap", 64, rate[0], rate[1], ratio_tenths / 10,
           ratio_tenths % 10);
}

void run_bench(Args& args) {
    std::uint32_t online = smp::online_cpu_count();
    std::uint64_t ops = 200000, cpus = online;
    if (!args.number_in("ops", 1000, ~std::uint64_t{0}, ops) ||
        !args.number_in("cpus", 1, online, cpus)) {
        kprint("bench: {}\n", args.error());
        return;
    }
    auto used = std::uint32_t(cpus);
    kprint(
        "bench: {} operations per shape on {} CPUs; emulated time: compare the ratios "
        "(Ctrl-C stops)\n",
        ops, used);
    kprint("{:<8} {:>6} {:>16} {:>16} {:>8}\n", "shape", "frames", "per-CPU ops/s", "global ops/s",
           "ratio");
    static stress::Result result;
    // The memory picture is shown, but redrawn only between the timed runs.
    picture::LiveScope live_picture;
    bool below_one = false;
    for (const Shape& shape : kShapes) {
        std::uint64_t rate[2];
        for (mm::Mode mode : {mm::Mode::per_cpu, mm::Mode::global_lock}) {
            stress::Options options;
            options.cpus = used;
            options.ops = ops;
            options.pattern = shape.pattern;
            options.max_frames = shape.frames;
            options.remote_percent = shape.remote_percent;
            options.tags = false;
            options.label = mode == mm::Mode::per_cpu ? "bench: per-CPU" : "bench: global lock";
            options.mode = mode;
            options.live_picture = false;
            stress::run(options, result);
            picture::tick(cpu::read_tsc());
            if (result.interrupted) {
                kprint("bench: interrupted by Ctrl-C; the rows above are complete\n");
                return;
            }
            if (result.duplicates + result.lost + result.errors != 0) {
                kprint("bench: {} broke the allocator: duplicates={} lost={} errors={}\n",
                       shape.name, result.duplicates, result.lost, result.errors);
                return;
            }
            rate[mode == mm::Mode::per_cpu ? 0 : 1] = ops_per_second(result);
        }
        std::uint64_t ratio_tenths = rate[1] == 0 ? 0 : rate[0] * 10 / rate[1];
        below_one = below_one || ratio_tenths < 10;
        kprint("{:<8} {:>6} {:>16} {:>16} {:>6}.{}x\n", shape.name, shape.frames, rate[0], rate[1],
               ratio_tenths / 10, ratio_tenths % 10);
    }
    measure_heap(ops, used);
    if (below_one) {
        // Short runs are dominated by start-up (waking CPUs, first claims of areas) and by how
        // the host schedules QEMU's vCPU threads, not by the allocator.
        kprint(
            "bench: a ratio below 1.0x: runs this short measure start-up and host scheduling "
            "noise; try more --ops\n");
    }
    measure_recalculation();
}

const OptionSpec bench_options[] = {
    {"ops", "N", "operations per shape and allocator (default 200000)"},
    {"cpus", "N", "run on the first N CPUs (default: all online)"},
};
REGISTER_COMMAND("bench", "", "per-CPU cursors and heap magazines vs one global lock",
                 bench_options, 2, run_bench, nullptr, kBootCpuOnly);

}  // namespace
}  // namespace shell
