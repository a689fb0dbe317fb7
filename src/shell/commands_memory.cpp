// Commands about physical memory: mem, areas, alloc, free.
#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/direct_map.hpp"
#include "arch/x86_64/tsc.hpp"
#include "kernel/console.hpp"
#include "kernel/kernel_memory.hpp"
#include "kernel/memory_setup.hpp"
#include "lib/units.hpp"
#include "mm/memory_region_types.hpp"
#include "shell/area_map.hpp"
#include "shell/command.hpp"
#include "shell/shell.hpp"

namespace shell {
namespace {

void print_per_mille(const char* label, std::uint64_t per_mille) {
    kprint("{}{}.{} %\n", label, per_mille / 10, per_mille % 10);
}

void print_invariants() {
    mm::InvariantReport report = kmem::allocator().check_invariants();
    if (report.ok) {
        kprint(
            "invariants: ok (free counts match the bitmaps, markers lie in free extents, "
            "no area has two owners)\n");
    } else {
        kprint("invariants: BROKEN: {} (area {}, cpu {}, expected {}, found {})\n", report.what,
               report.area, report.cpu, report.expected, report.found);
    }
}

bool in_reserved(mm::PhysRange range) {
    for (std::size_t i = 0; i < memory_setup::reserved_count(); ++i) {
        if (memory_setup::reserved(i).range.overlaps(range)) {
            return true;
        }
    }
    return range.begin == 0;  // frame 0 is never to be handed out
}

bool in_available_map_entry(mm::PhysRange range) {
    for (const mm::MapRegion& region : memory_setup::layout().normalized) {
        if (region.type == mm::raw(mm::MemoryType::available) &&
            region.range.begin <= range.begin && range.end <= region.range.end) {
            return true;
        }
    }
    return false;
}

// Allocates every frame there is (2 MiB runs first, then single frames), checks that none lies
// in reserved memory or outside the firmware's available memory, then frees them all. The list
// of allocations is kept in the allocated frames themselves: they are ours until freed.
void verify_reserved() {
    struct Record {
        mm::PhysAddr next;
        std::uint64_t frames;
    };
    auto& allocator = kmem::allocator();
    mm::Totals before = allocator.totals();
    mm::PhysAddr head = 0;
    std::uint64_t allocated = 0, reserved_hits = 0, outside = 0;
    bool interrupted = false;
    std::uint64_t second = tsc::tsc_per_microsecond() * 1000000;
    std::uint64_t started = cpu::read_tsc(), last_report = started;
    kprint("verify: allocating all {} free frames (Ctrl-C stops)\n", before.free_frames);
    for (std::size_t size : {std::size_t{512}, std::size_t{1}}) {
        while (!interrupted) {
            auto result = allocator.allocate(size, size);
            if (!result) {
                break;
            }
            mm::PhysRange range{result.value(), result.value() + size * mm::kFrameSize};
            reserved_hits += in_reserved(range) ? 1 : 0;
            outside += in_available_map_entry(range) ? 0 : 1;
            *static_cast<Record*>(phys_to_virt(range.begin)) = {head, size};
            head = range.begin;
            allocated += size;
            if (allocated % 256 == 0 || size == 512) {
                std::uint64_t now = cpu::read_tsc();
                if (now - last_report >= second) {
                    last_report = now;
                    kprint("verify: {} s, {} of {} frames allocated\n", (now - started) / second,
                           allocated, before.free_frames);
                }
                interrupted = shell::interrupted();
            }
        }
    }
    std::uint64_t failed_frees = 0;
    while (head != 0) {
        Record record = *static_cast<Record*>(phys_to_virt(head));
        failed_frees += allocator.free(head, record.frames) ? 0 : 1;
        head = record.next;
    }
    mm::Totals after = allocator.totals();
    bool all_freed = failed_frees == 0 && after.free_frames == before.free_frames;
    kprint(
        "verify: {} frames allocated, {} in reserved memory, {} outside the map's available "
        "memory; all freed: {}\n",
        allocated, reserved_hits, outside, all_freed ? "yes" : "no");
    if (interrupted) {
        kprint("verify: interrupted by Ctrl-C: only the frames above were checked\n");
    } else if (allocated != before.free_frames) {
        kprint("verify: expected to allocate all {} free frames\n", before.free_frames);
    }
}

void run_mem(Args& args) {
    auto& allocator = kmem::allocator();
    if (args.has("verify")) {
        verify_reserved();
        return;
    }
    mm::Totals totals = allocator.totals();
    mm::Fragmentation fragmentation = allocator.fragmentation();
    std::uint64_t metadata = kmem::FrameAllocator::metadata_bytes(memory_setup::layout().usable);
    std::uint64_t managed = totals.total_frames * mm::kFrameSize;
    kprint("total      {} ({} frames)\n", lib::Bytes{managed}, totals.total_frames);
    kprint("used       {} ({} frames)\n", lib::Bytes{totals.allocated_frames * mm::kFrameSize},
           totals.allocated_frames);
    kprint("free       {} ({} frames)\n", lib::Bytes{totals.free_frames * mm::kFrameSize},
           totals.free_frames);
    kprint("areas      {} of up to {} frames ({})\n", allocator.area_count(), mm::kFramesPerArea,
           lib::Bytes{mm::kAreaBytes});
    print_per_mille("2M-ready   ", fragmentation.huge_block_share_per_mille());
    kprint("           (share of free memory in entirely free, aligned 2 MiB blocks: {} blocks)\n",
           fragmentation.free_huge_blocks);
    std::uint64_t whole = 0;
    for (std::size_t area = 0; area < allocator.area_count(); ++area) {
        whole += allocator.area_info(area).whole_blocks;
    }
    kprint("2M whole   {} blocks handed out as one (one counter step to take or return)\n", whole);
    kprint("recalcs    {}\n", allocator.recalculation_count());
    kprint("mode       {}\n",
           allocator.mode() == mm::Mode::per_cpu ? "per-CPU cursors" : "one global lock");
    kprint("metadata   {} in all, {} per GiB managed\n", lib::Bytes{metadata},
           lib::Bytes{managed == 0 ? 0 : metadata * lib::GiB / managed});
    if (args.has("check")) {
        print_invariants();
    }
}

const OptionSpec mem_options[] = {
    {"check", nullptr, "also recount the metadata and check the allocator's invariants"},
    {"verify", nullptr, "allocate every frame, check none is reserved, free them all (slow)"},
};
REGISTER_COMMAND("mem", "", "memory totals, areas, fragmentation, recalculations, metadata",
                 mem_options, 2, run_mem);

void run_areas(Args& args) {
    std::uint64_t width = 60;  // 60 areas and the address column fit 80 columns
    if (!args.number_in("width", 8, 200, width)) {
        kprint("areas: {}\n", args.error());
        return;
    }
    if (!args.has("watch")) {
        print_area_map(std::size_t(width));
        return;
    }
    // Redrawn in place each second (cursor home, clear) until any key arrives.
    std::uint64_t second = tsc::tsc_per_microsecond() * 1000000;
    for (std::uint64_t frame = 0;; ++frame) {
        kprint("\x1b[H\x1b[J");
        print_area_map(std::size_t(width));
        kprint("areas: redrawn every second ({}); press any key to stop\n", frame);
        std::uint64_t next = cpu::read_tsc() + second;
        while (cpu::read_tsc() < next) {
            if (shell::key_pressed()) {
                return;
            }
            cpu::pause();
        }
    }
}

const OptionSpec areas_options[] = {
    {"width", "N", "areas per row, 8..200 (default 60)"},
    {"watch", nullptr, "redraw the map every second until a key is pressed"},
};
REGISTER_COMMAND("areas", "", "a map of the allocator's areas: fill level and owning CPU",
                 areas_options, 2, run_areas);

void run_alloc(Args& args) {
    std::uint64_t frames = 1, align = 1;
    if (args.positional_count() > 0 && !args.positional_number(0, frames)) {
        kprint("alloc: {}\n", args.error());
        return;
    }
    if (!args.number("align", align)) {
        kprint("alloc: {}\n", args.error());
        return;
    }
    // Checked here so the message names the option at fault, not the count.
    if (frames == 0 || frames > mm::kMaxAllocationFrames) {
        kprint("alloc: N takes 1..{} frames, not {}\n", mm::kMaxAllocationFrames, frames);
        return;
    }
    if (align == 0 || (align & (align - 1)) != 0 || align > mm::kMaxAlignmentFrames) {
        kprint("alloc: --align takes a power of two up to {} frames, not {}\n",
               mm::kMaxAlignmentFrames, align);
        return;
    }
    auto result = kmem::allocate_frames(frames, align);
    if (!result) {
        kprint("alloc: {} {}: {}\n", frames, frames_noun(frames), kmem::to_string(result.error()));
        return;
    }
    kprint("allocated {} {} at {:#x} (free with: free {:#x} {})\n", frames, frames_noun(frames),
           result.value(), result.value(), frames);
}

const OptionSpec alloc_options[] = {{"align", "FRAMES", "alignment in frames (512 = 2 MiB)"}};
REGISTER_COMMAND("alloc", "[N]", "allocate N contiguous frames (default 1) and print where",
                 alloc_options, 1, run_alloc);

void run_free(Args& args) {
    std::uint64_t address = 0, frames = 1;
    if (!args.positional_number(0, address) ||
        (args.positional_count() > 1 && !args.positional_number(1, frames))) {
        kprint("free: usage: free ADDR [N] ({})\n", args.error());
        return;
    }
    auto status = kmem::free_frames(address, frames);
    if (!status) {
        kprint("free: refused: {}; nothing was changed\n", kmem::to_string(status.error()));
        return;
    }
    kprint("freed {} {} at {:#x}\n", frames, frames_noun(frames), address);
}

REGISTER_COMMAND("free", "ADDR [N]", "free N frames (default 1) at ADDR; bad frees are refused",
                 nullptr, 0, run_free);

}  // namespace
}  // namespace shell
