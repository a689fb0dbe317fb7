// Bringing up the machine's CPUs: read the MADT from the ACPI tables, enable the boot CPU's
// local APIC and start every enabled AP. Without usable ACPI tables the kernel says why and
// runs on the boot CPU alone.
#pragma once

#include <cstdint>

#include "acpi/parser.hpp"
#include "mm/frame.hpp"

namespace smp {

struct SmpReport {
    std::uint32_t listed = 0;   // processor entries in the MADT
    std::uint32_t enabled = 0;  // of those, enabled (the ones started)
    std::uint32_t ignored = 0;  // beyond kMaxCpus: reported, not started
    std::uint32_t failed = 0;   // did not answer
    bool acpi = false;
};

// `tables` are the firmware's ACPI tables (nullptr if none); `trampoline_page` is a page below
// 1 MiB for the AP trampoline (0 if none is free).
void init(const acpi::Tables* tables, mm::PhysAddr trampoline_page);
const SmpReport& report();

}  // namespace smp
