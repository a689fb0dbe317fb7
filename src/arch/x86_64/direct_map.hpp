// Every byte of RAM (and the first 4 GiB, where the firmware and devices live) is mapped at
// DIRECT_MAP_BASE + physical address. This is "a way to reach physical memory" that the kernel
// hands to the allocator and the ACPI parser.
#pragma once

#include <cstdint>

#include "arch/x86_64/layout.h"

inline void* phys_to_virt(std::uint64_t physical) {
    return reinterpret_cast<void*>(DIRECT_MAP_BASE + physical);
}

inline std::uint64_t virt_to_phys(const void* virtual_address) {
    auto address = reinterpret_cast<std::uint64_t>(virtual_address);
    if (address >= KERNEL_VMA) {
        return address - KERNEL_VMA;
    }
    return address - DIRECT_MAP_BASE;
}
