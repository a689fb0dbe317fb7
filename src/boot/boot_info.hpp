// What the kernel keeps from the Multiboot2 information once it has been parsed and checked.
#pragma once

#include <cstddef>

#include "mm/frame.hpp"

struct BootInformation {
    static constexpr std::size_t kMaxRam = 128;
    mm::PhysRange ram[kMaxRam];  // every range the firmware says is memory, for the direct map
    std::size_t ram_count = 0;
    mm::PhysRange symbols{};  // the "symbols" module, empty when absent
};

const BootInformation& read_boot_information(mm::PhysAddr info_physical);
void load_symbol_table(const BootInformation& boot);
