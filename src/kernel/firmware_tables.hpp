// The ACPI tables as the kernel uses them: found once at boot from the loader's copy of the
// RSDP (or the BIOS areas), read through the direct map, and handed to whoever needs a table.
#pragma once

#include <cstdint>
#include <span>

#include "acpi/parser.hpp"

namespace firmware_tables {

// Finds and opens the tables, and logs why when it cannot; nullptr then. `rsdp_copy` is the
// loader's copy of the RSDP (empty if it gave none).
const acpi::Tables* open(std::span<const std::uint8_t> rsdp_copy);

// The tables open() found, or nullptr.
const acpi::Tables* tables();

}  // namespace firmware_tables
