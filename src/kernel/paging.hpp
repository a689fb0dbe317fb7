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
// The no-execute bit (bit 63) when the CPU has NX and EFER.NXE is on, else 0 (reserved then).
std::uint64_t no_execute_bit();
// On every CPU (init does it on the boot CPU): CR4.PGE, so that entries marked global survive
// CR3 loads. Kernel mappings made later (vmalloc) are global; flushing them takes invlpg or a
// PGE toggle (tlb::flush_all_here).
void enable_global_pages();

// The AP trampoline switches on paging while running at a low physical address, so that page
// must be identity-mapped during start-up; these add and remove that single mapping.
void map_identity(mm::PhysAddr page);
void unmap_identity(mm::PhysAddr page);

// Makes [begin, end) of the direct map write-combining (PAT entry 4, see arch/x86_64/pat.hpp),
// splitting the large pages that cover it into 4 KiB pages, so that no other memory changes
// type. For a framebuffer: writes are gathered into bursts, reads are slow. False when the
// range is outside the direct map or the page-table pool ran out; nothing is changed then
// unless some pages were already split (which changes no type).
bool map_write_combining(mm::PhysAddr begin, mm::PhysAddr end);

}  // namespace paging
