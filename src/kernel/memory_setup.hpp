// Turns the boot memory map into the frame allocator's areas: everything in use (the first MiB,
// the kernel image, the boot information, modules) is carved out, the result is logged as a
// table, and the allocator's metadata is placed in usable memory that is then carved out too.
#pragma once

#include <span>

#include "mm/frame.hpp"
#include "mm/memory_region_types.hpp"
#include "mm/memory_regions.hpp"

namespace memory_setup {

// `map` is the firmware's memory map; `in_use` lists what the loader placed in memory (its own
// information, modules), each with the reason shown in the log.
void init(std::span<const mm::MemoryMapEntry> map, std::span<const mm::ReservedRange> in_use);

const mm::MemoryLayout& layout();
// A free page below 1 MiB, outside the allocator, for the AP start-up trampoline; 0 if none.
mm::PhysAddr trampoline_page();
// What was carved out, for the shell and the tests.
std::size_t reserved_count();
const mm::ReservedRange& reserved(std::size_t i);

}  // namespace memory_setup
