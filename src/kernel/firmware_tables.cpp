#include "kernel/firmware_tables.hpp"

#include <new>

#include "arch/x86_64/direct_map.hpp"
#include "kernel/console.hpp"
#include "kernel/paging.hpp"

namespace firmware_tables {
namespace {

// Set once on the boot CPU before the others start; read-only afterwards.
bool found = false;
// Tables has no default constructor for callers: the result of a successful open is kept here.
alignas(acpi::Tables) std::uint8_t storage[sizeof(acpi::Tables)];

// Firmware tables lie in RAM or ROM below 4 GiB, all of it in the direct map.
const std::uint8_t* map_physical(void*, mm::PhysAddr address, std::size_t length) {
    if (address + length > paging::direct_map_end() || address + length < address) {
        return nullptr;
    }
    return static_cast<const std::uint8_t*>(phys_to_virt(address));
}

}  // namespace

const acpi::Tables* open(std::span<const std::uint8_t> rsdp_copy) {
    acpi::PhysicalMemory memory{map_physical, nullptr};
    auto rsdp = acpi::find_rsdp(rsdp_copy, memory);
    if (!rsdp) {
        kprint("acpi: no ACPI tables ({})\n", acpi::to_string(rsdp.error()));
        return nullptr;
    }
    auto opened = acpi::Tables::open(memory, rsdp.value());
    if (!opened) {
        kprint("acpi: ACPI root table unusable ({})\n", acpi::to_string(opened.error()));
        return nullptr;
    }
    if (opened.value().xsdt_rejected()) {
        kprint("acpi: XSDT rejected ({}); using the RSDT\n",
               acpi::to_string(opened.value().xsdt_error()));
    }
    found = true;
    return new (storage) acpi::Tables(opened.value());
}

const acpi::Tables* tables() {
    return found ? reinterpret_cast<const acpi::Tables*>(storage) : nullptr;
}

}  // namespace firmware_tables
