// The kernel's page tables, built once the memory map is known, replacing the boot stub's:
// - the kernel image at KERNEL_VMA in 4 KiB pages, text read-only and executable, data
//   no-execute, and the page below the boot stack left unmapped as a guard;
// - the direct map at DIRECT_MAP_BASE: the first 4 GiB (firmware, devices) and all RAM above,
//   up to what the CPU can address (MAXPHYADDR) and what the direct map's PML4 slots hold;
// - nothing at low addresses, so a null pointer dereference faults.
#pragma once

#include <cstddef>
#include <cstdint>

#include "mm/frame.hpp"

namespace paging {

// `ram` lists every physical range that holds RAM (any type the firmware says is memory).
void init(const mm::PhysRange* ram, std::size_t count);

bool is_mapped(std::uint64_t virtual_address);
// Physical addresses below this are reachable through the direct map wherever there is RAM;
// the frame allocator is told not to manage memory above it.
std::uint64_t direct_map_end();
std::uint64_t kernel_page_table_root();  // physical address of the PML4, for APs

// The AP trampoline switches on paging while running at a low physical address, so that page
// must be identity-mapped during start-up; these add and remove that single mapping.
void map_identity(mm::PhysAddr page);
void unmap_identity(mm::PhysAddr page);

}  // namespace paging
