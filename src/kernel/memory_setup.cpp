#include "kernel/memory_setup.hpp"

#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/tsc.hpp"
#include "kernel/console.hpp"
#include "kernel/kernel_memory.hpp"
#include "kernel/paging.hpp"
#include "kernel/panic.hpp"
#include "lib/static_vector.hpp"
#include "lib/units.hpp"
#include "mm/memory_region_types.hpp"

extern "C" char __kernel_physical_start[], __kernel_physical_end[];

namespace memory_setup {
namespace {

mm::MemoryLayout memory_layout;
lib::StaticVector<mm::ReservedRange, 32> reserved_ranges;
mm::PhysAddr trampoline = 0;
// Usable memory ends here: the lower of what the CPU can address and what the direct map covers.
mm::PhysAddr address_limit = mm::kNoAddressLimit;

void reserve(mm::PhysRange range, const char* why) {
    if (!reserved_ranges.push_back({range, why})) {
        // Losing a reservation would hand out memory that is in use: never acceptable.
        PANIC("too many reserved ranges to record '{}'", why);
    }
}

void rebuild_layout(std::span<const mm::MemoryMapEntry> map) {
    mm::build_memory_layout(map, {reserved_ranges.data(), reserved_ranges.size()}, memory_layout,
                            address_limit);
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

// The lower of the two limits, and which one it is, for the log.
unsigned address_bits = 0;
const char* limit_reason() {
    return address_limit == paging::direct_map_end() ? "the end of the direct map"
                                                     : "the CPU's physical address width";
}

void choose_address_limit() {
    address_bits = cpu::physical_address_bits();
    mm::PhysAddr addressable =
        address_bits >= 64 ? mm::kNoAddressLimit : mm::PhysAddr{1} << address_bits;
    mm::PhysAddr mapped = paging::direct_map_end();
    address_limit = mapped < addressable ? mapped : addressable;
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
    kprint("mem: left out {} of available memory at or above {:#x} ({})\n",
           lib::Bytes{memory_layout.beyond_limit_bytes}, address_limit, limit_reason());
    if (!memory_layout.complete()) {
        kprint(
            "mem: warning: the map had more regions than the kernel keeps; some memory is "
            "left unused\n");
    }
}

}  // namespace

void init(std::span<const mm::MemoryMapEntry> map, std::span<const mm::ReservedRange> in_use) {
    std::uint64_t started = tsc::now_ns();
    reserve({0, lib::MiB}, "first MiB (real-mode IVT, BIOS data, EBDA, ROMs, AP trampoline)");
    reserve({reinterpret_cast<mm::PhysAddr>(__kernel_physical_start),
             reinterpret_cast<mm::PhysAddr>(__kernel_physical_end)},
            "kernel image (boot stack, page tables)");
    for (const mm::ReservedRange& range : in_use) {
        reserve(range.range, range.why);
    }
    choose_address_limit();
    kprint("mem: the CPU addresses {} bits of physical memory; the direct map ends at {:#x}\n",
           address_bits, paging::direct_map_end());
    rebuild_layout(map);
    trampoline = choose_trampoline_page();

    std::uint64_t metadata_bytes = kmem::metadata_bytes_for(memory_layout.usable);
    mm::PhysRange metadata = place_metadata(metadata_bytes);
    if (metadata.empty()) {
        PANIC("no usable region can hold the allocator's {} of metadata",
              lib::Bytes{metadata_bytes});
    }
    reserve(metadata, "frame allocator metadata");
    rebuild_layout(map);
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
