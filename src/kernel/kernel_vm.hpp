// The kernel's vmalloc area: vm::Vmalloc over the kernel's own page tables, its tables and
// backing frames from the frame allocator, its unmaps flushed on every CPU by tlb::flush.
// Everything in the kernel that wants virtually contiguous memory, or guard pages, comes here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "arch/x86_64/layout.h"
#include "lib/result.hpp"
#include "vm/range_allocator.hpp"
#include "vm/vmalloc.hpp"

namespace kvm {

// The area: PML4 slot VMALLOC_PML4_SLOT (arch/x86_64/layout.h), 512 GiB.
inline constexpr std::uint64_t kAreaBegin = VMALLOC_BASE;
inline constexpr std::uint64_t kAreaEnd = VMALLOC_BASE + VMALLOC_SIZE;
// Unmapped bytes kept on both sides of every mapping.
inline constexpr std::uint64_t kGuardBytes = 16 * 1024;

// After the frame allocator, before the APs start (their stacks come from here).
void init();

[[nodiscard]] lib::Result<void*, vm::VmError> vmalloc(std::uint64_t bytes,
                                                      vm::RangeKind kind = vm::RangeKind::vmalloc,
                                                      bool large_pages = true);
[[nodiscard]] lib::Result<void*, vm::VmError> vmap(std::span<const mm::PhysAddr> frames,
                                                   vm::PageFlags flags = {});
[[nodiscard]] lib::Status<vm::VmError> vfree(const void* address);

bool in_area(std::uint64_t address);
// What the address is, for a fault report; false when the area's lock is held (never waits).
bool locate(std::uint64_t address, vm::Place& out);

vm::VmStats stats();
// The start of the i-th live mapping in address order, or 0 after the last.
std::uint64_t mapping_at(std::size_t i);
// The mapping starting at `begin` and its first runs.size() backing runs; false if none.
bool describe(std::uint64_t begin, vm::MappingDescription& out, std::span<vm::BackingRun> runs);

}  // namespace kvm
