// What the boot loader handed the kernel, parsed and checked once at boot: the Multiboot2
// information, where it lies, the RAM ranges for the direct map, and what the loader placed in
// memory that the allocator must not hand out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "boot/multiboot2/info.hpp"
#include "lib/static_vector.hpp"
#include "mm/frame.hpp"
#include "mm/memory_region_types.hpp"

struct Handoff {
    multiboot2::Info parsed;
    static constexpr std::size_t kMaxRam = 128;
    lib::StaticVector<mm::PhysRange, kMaxRam> ram;  // every range the map calls memory
    // The information itself and every module, each with the reason the memory log shows.
    lib::StaticVector<mm::ReservedRange, 1 + multiboot2::Info::kMaxModules> in_use;
    const multiboot2::BootModule* symbols = nullptr;  // the module named "symbols", if loaded
    const multiboot2::BootModule* lines = nullptr;    // the module named "lines", if loaded

    std::span<const mm::MemoryMapEntry> memory_map() const {
        return {parsed.memory_map.data(), parsed.memory_map.size()};
    }
    std::span<const std::uint8_t> rsdp() const { return {parsed.rsdp.bytes, parsed.rsdp.length}; }
};

// Parses the information at `info_physical` (reached through the boot stub's direct map of the
// first 4 GiB), reports every problem found, and stops the machine with a clear message when
// no usable memory is described.
const Handoff& read_handoff(mm::PhysAddr info_physical);
// The "symbols" and "lines" modules, for backtraces with names and file:line.
void load_symbol_table(const Handoff& handoff);
