// Each CPU has its own GDT and TSS: the TSS holds the per-CPU stack used for double faults, so
// a kernel stack overflow (which faults on the guard page and cannot push a frame there) still
// ends in a readable report instead of a triple fault.
#pragma once

#include <cstdint>

namespace gdt {

inline constexpr std::uint16_t kKernelCode = 0x08;
inline constexpr std::uint16_t kKernelData = 0x10;
inline constexpr std::uint16_t kTss = 0x18;

// Loads this CPU's GDT and TSS; `double_fault_stack_top` is the IST1 stack.
void load_for_cpu(std::uint32_t cpu_index, std::uint64_t double_fault_stack_top);

}  // namespace gdt
