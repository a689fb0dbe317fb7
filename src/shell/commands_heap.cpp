// Commands about the object heap: slabs, kmalloc, kfree.
#include "kernel/console.hpp"
#include "kernel/kernel_heap.hpp"
#include "kernel/percpu.hpp"
#include "shell/command.hpp"
#include "smp/idle.hpp"

namespace shell {
namespace {

void print_invariants() {
    heap::InvariantReport report = kheap::heap().check_invariants();
    if (report.ok) {
        kprint(
            "invariants: ok (slab states match their counts and lists, every magazine object is "
            "free in exactly one magazine, live objects = allocations - frees)\n");
    } else {
        kprint("invariants: BROKEN in {}: {} (expected {}, found {})\n", report.cache, report.what,
               report.expected, report.found);
    }
}

void flush_magazines(std::uint32_t, void*) {
    kheap::heap().flush_this_cpu();
}

// Every CPU gives its magazines back, then the depots and empty slabs go back to the frames.
void reclaim_everything() {
    auto& allocator = kmem::allocator();
    std::uint64_t free_before = allocator.totals().free_frames;
    smp::run_on_cpus(smp::online_cpu_count(), flush_magazines, nullptr);
    std::size_t reclaimed = kheap::heap().reclaim();
    std::uint64_t free_after = allocator.totals().free_frames;
    kprint(
        "reclaim: every CPU's magazines flushed; {} frames given back ({} free frames before, {} "
        "after)\n",
        reclaimed, free_before, free_after);
}

void run_slabs(Args& args) {
    auto& heap = kheap::heap();
    if (args.has("reclaim")) {
        reclaim_everything();
    }
    kprint("{:<14} {:>6} {:>7} {:>9} {:>9} {:>9} {:>6} {:>6} {:>7} {:>6}\n", "cache", "size",
           "slab", "in use", "free", "in mags", "slabs", "depot", "frames", "hit %");
    std::uint64_t frames = 0, in_use = 0;
    for (auto* cache = heap.first(); cache != nullptr; cache = heap.next(cache)) {
        heap::CacheStats s = cache->stats();
        frames += s.frames_held();
        in_use += s.in_use;
        std::uint64_t hit = s.hit_rate_per_mille();
        kprint("{:<14} {:>6} {:>4}x{:<2} {:>9} {:>9} {:>9} {:>6} {:>3}/{:<2} {:>7} {:>4}.{}\n",
               s.name, s.object_size, s.objects_per_slab, s.slab_frames, s.in_use, s.free_in_slabs,
               s.in_magazines, s.slabs, s.depot_full, s.depot_empty, s.frames_held(), hit / 10,
               hit % 10);
    }
    kprint(
        "total: {} objects in use, {} frames in slabs, {} in large allocations ({}), {} in "
        "magazines; {} reclaims gave back {} frames; mode {}\n",
        in_use, frames, heap.large_frames(), heap.large_allocations(), heap.magazine_frames(),
        heap.reclaims(), heap.reclaimed_frames(),
        heap.mode() == heap::Mode::per_cpu ? "per-CPU magazines" : "one global lock");
    if (args.has("check")) {
        print_invariants();
    }
}

const OptionSpec slabs_options[] = {
    {"reclaim", nullptr, "first flush every CPU's magazines and give free memory back"},
    {"check", nullptr, "also check every cache's invariants"},
};
REGISTER_COMMAND("slabs", "", "heap caches: objects in use and free, slabs, magazines, hit rate",
                 slabs_options, 2, run_slabs);

void run_kmalloc(Args& args) {
    std::uint64_t bytes = 0;
    if (!args.positional_number(0, bytes)) {
        kprint("kmalloc: usage: kmalloc BYTES ({})\n", args.error());
        return;
    }
    auto result = kheap::kmalloc(bytes);
    if (!result) {
        kprint("kmalloc: {} bytes: {}\n", bytes, kheap::to_string(result.error()));
        return;
    }
    auto address = reinterpret_cast<std::uint64_t>(result.value());
    kprint("kmalloc: {} bytes at {:#x} (free it with: kfree {:#x})\n", bytes, address, address);
}

REGISTER_COMMAND("kmalloc", "BYTES", "allocate BYTES from the heap and print where", nullptr, 0,
                 run_kmalloc);

void run_kfree(Args& args) {
    std::uint64_t address = 0;
    if (!args.positional_number(0, address)) {
        kprint("kfree: usage: kfree ADDR ({})\n", args.error());
        return;
    }
    auto status = kheap::kfree(reinterpret_cast<void*>(address));
    if (!status) {
        kprint("kfree: refused: {}; nothing was changed\n", heap::to_string(status.error()));
        return;
    }
    kprint("kfree: freed {:#x}\n", address);
}

REGISTER_COMMAND("kfree", "ADDR", "free a heap object at ADDR; bad frees are refused", nullptr, 0,
                 run_kfree);

}  // namespace
}  // namespace shell
