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

const char* source_name(acpi::RsdpSource source) {
    switch (source) {
        case acpi::RsdpSource::loader_copy:
            return "the boot loader's copy";
        case acpi::RsdpSource::ebda:
            return "a scan of the EBDA";
        case acpi::RsdpSource::bios_area:
            return "a scan of the BIOS area";
    }
    return "?";
}

// One line per boot says where the tables came from, so a BIOS log and a UEFI log compare.
void log_rsdp(const acpi::Rsdp& rsdp, const acpi::Tables& tables) {
    char oem[sizeof(rsdp.oem_id) + 1] = {};
    for (std::size_t i = 0; i < sizeof(rsdp.oem_id); ++i) {
        oem[i] = rsdp.oem_id[i];
    }
    const bool xsdt = tables.root_kind() == acpi::RootKind::xsdt;
    kprint("acpi: RSDP revision {} ({}) from {}, OEM '{}'; {} at {:#x} lists {} tables\n",
           rsdp.revision, rsdp.extended ? "v2, ACPI 2.0+" : "v1, ACPI 1.0",
           source_name(rsdp.source), oem, xsdt ? "XSDT" : "RSDT", tables.root().address,
           tables.count());
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
    log_rsdp(rsdp.value(), opened.value());
    return new (storage) acpi::Tables(opened.value());
}

const acpi::Tables* tables() {
    return found ? reinterpret_cast<const acpi::Tables*>(storage) : nullptr;
}

}  // namespace firmware_tables
