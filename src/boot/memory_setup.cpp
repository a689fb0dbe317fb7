#include "boot/memory_setup.hpp"

#include "boot/console.hpp"
#include "boot/kernel_memory.hpp"
#include "boot/layout.h"
#include "boot/panic.hpp"
#include "boot/tsc.hpp"
#include "lib/static_vector.hpp"
#include "mm/memory_region_types.hpp"

extern "C" char __kernel_physical_start[], __kernel_physical_end[];

namespace memory_setup {
namespace {

constexpr mm::PhysAddr kOneMiB = 1 << 20;

mm::MemoryLayout memory_layout;
lib::StaticVector<mm::ReservedRange, 32> reserved_ranges;
mm::PhysAddr trampoline = 0;

void reserve(mm::PhysRange range, const char* why) {
    if (!reserved_ranges.push_back({range, why})) {
        // Losing a reservation would hand out memory that is in use: never acceptable.
        PANIC("too many reserved ranges to record '{}'", why);
    }
}

void rebuild_layout(const BootInformation& boot) {
    const auto& map = boot.parsed.memory_map;
    mm::build_memory_layout({map.data(), map.size()},
                            {reserved_ranges.data(), reserved_ranges.size()}, memory_layout);
}

// The trampoline needs one page below 1 MiB (SIPI vectors address pages 0x01..0xFF); it lies in
// the first MiB, which the allocator never manages, so it only has to be RAM in the map.
mm::PhysAddr choose_trampoline_page() {
    for (mm::PhysAddr page : {mm::PhysAddr{0x8000}, mm::PhysAddr{0x70000}, mm::PhysAddr{0x1000}}) {
        for (const mm::MapRegion& region : memory_layout.normalized) {
            if (region.type == mm::raw(mm::MemoryType::available) && region.range.begin <= page &&
                page + mm::kFrameSize <= region.range.end) {
                return page;
            }
        }
    }
    return 0;
}

// The metadata goes at the end of the largest usable region: far from the low memory that
// devices and the trampoline like, and in one piece.
mm::PhysRange place_metadata(std::uint64_t bytes) {
    const mm::PhysRange* best = nullptr;
    for (const mm::PhysRange& region : memory_layout.usable) {
        if (best == nullptr || region.size() > best->size()) {
            best = &region;
        }
    }
    std::uint64_t size = mm::align_up(bytes, mm::kFrameSize);
    if (best == nullptr || best->size() <= size) {
        return {};
    }
    return {best->end - size, best->end};
}

void log_layout() {
    kprint("mem: memory map from the firmware, normalized:\n");
    for (const mm::MapRegion& region : memory_layout.normalized) {
        kprint("mem:   [{:#014x}, {:#014x}) {:>10} {}\n", region.range.begin, region.range.end,
               lib::Bytes{region.range.size()}, mm::memory_type_name(region.type));
    }
    kprint("mem: carved out:\n");
    for (const mm::ReservedRange& r : reserved_ranges) {
        kprint("mem:   [{:#014x}, {:#014x}) {:>10} {}\n", r.range.begin, r.range.end,
               lib::Bytes{r.range.size()}, r.why);
    }
    kprint("mem: usable regions:\n");
    for (const mm::PhysRange& region : memory_layout.usable) {
        kprint("mem:   [{:#014x}, {:#014x}) {:>10}\n", region.begin, region.end,
               lib::Bytes{region.size()});
    }
    if (!memory_layout.complete()) {
        kprint(
            "mem: warning: the map had more regions than the kernel keeps; some memory is "
            "left unused\n");
    }
}

}  // namespace

void init(const BootInformation& boot) {
    std::uint64_t started = tsc::now_ns();
    reserve({0, kOneMiB}, "first MiB (real-mode IVT, BIOS data, EBDA, ROMs, AP trampoline)");
    reserve({reinterpret_cast<mm::PhysAddr>(__kernel_physical_start),
             reinterpret_cast<mm::PhysAddr>(__kernel_physical_end)},
            "kernel image (boot stack, page tables)");
    reserve(boot.location, "Multiboot2 boot information");
    for (const mm::BootModule& module : boot.parsed.modules) {
        reserve(module.range, module.cmdline != nullptr ? module.cmdline : "boot module");
    }
    rebuild_layout(boot);
    trampoline = choose_trampoline_page();

    std::uint64_t metadata_bytes = kmem::metadata_bytes_for(memory_layout.usable);
    mm::PhysRange metadata = place_metadata(metadata_bytes);
    if (metadata.empty()) {
        PANIC("no usable region can hold the allocator's {} of metadata",
              lib::Bytes{metadata_bytes});
    }
    reserve(metadata, "frame allocator metadata");
    rebuild_layout(boot);
    log_layout();

    kmem::init(memory_layout.usable, metadata);
    std::uint64_t reported = mm::bytes_of_type(memory_layout, mm::raw(mm::MemoryType::available));
    kprint(
        "mem: usable {} ({} frames) of {} available in the map; {} areas; metadata {}; "
        "set up in {} us\n",
        lib::Bytes{memory_layout.usable_bytes}, memory_layout.usable_bytes / mm::kFrameSize,
        lib::Bytes{reported}, kmem::area_count(), lib::Bytes{metadata.size()},
        (tsc::now_ns() - started) / 1000);
}

const mm::MemoryLayout& layout() {
    return memory_layout;
}
mm::PhysAddr trampoline_page() {
    return trampoline;
}
std::size_t reserved_count() {
    return reserved_ranges.size();
}
const mm::ReservedRange& reserved(std::size_t i) {
    return reserved_ranges[i];
}

}  // namespace memory_setup
