// The kernel's copy of what the boot loader told it, parsed and checked once at boot.
#pragma once

#include <cstddef>

#include "mm/boot_info.hpp"
#include "mm/frame.hpp"

struct BootInformation {
    mm::BootInfo parsed;
    mm::PhysRange location{};  // where the Multiboot2 information itself lies
    static constexpr std::size_t kMaxRam = 128;
    mm::PhysRange ram[kMaxRam];  // every range the firmware says is memory, for the direct map
    std::size_t ram_count = 0;
    const mm::BootModule* symbols = nullptr;  // the module named "symbols", if loaded
};

// Parses the information at `info_physical` (reached through the boot stub's direct map of the
// first 4 GiB), reports every problem found, and stops the machine with a clear message when
// no usable memory is described.
const BootInformation& read_boot_information(mm::PhysAddr info_physical);
void load_symbol_table(const BootInformation& boot);
