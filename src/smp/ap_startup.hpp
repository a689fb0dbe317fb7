// Starting the application processors: INIT-SIPI-SIPI to each CPU the MADT lists, one at a
// time, each entering long mode through the trampoline with its own stack and per-CPU block.
#pragma once

#include <cstddef>
#include <cstdint>

#include "mm/frame.hpp"

namespace smp {

struct CpuToStart {
    std::uint32_t apic_id;
};

// `trampoline_page` is a free page below 1 MiB reserved for the trampoline. Returns how many
// APs came online; those that did not answer are reported and left in INIT.
std::uint32_t start_application_processors(const CpuToStart* cpus, std::size_t count,
                                           mm::PhysAddr trampoline_page);

}  // namespace smp
