// The memory-map vocabulary shared by the boot-information parser (which produces entries) and
// the region builder (which consumes them). Kept apart from Multiboot2 so that another firmware
// interface could feed the same builder.
#pragma once

#include <cstdint>

#include "mm/frame.hpp"

namespace mm {

// The Multiboot2 (and E820) type numbers. Types are stored raw because firmware uses values
// beyond this list (persistent memory, for example) and the log should show them as they are.
enum class MemoryType : std::uint32_t {
    available = 1,
    reserved = 2,
    acpi_reclaimable = 3,
    acpi_nvs = 4,
    defective = 5,
};

constexpr std::uint32_t raw(MemoryType type) {
    return static_cast<std::uint32_t>(type);
}

// One firmware memory-map entry as reported: base + length may overflow, length may be zero.
struct MemoryMapEntry {
    PhysAddr base = 0;
    std::uint64_t length = 0;
    std::uint32_t type = 0;
};

// A range the allocator must never hand out, with the reason for the log.
struct ReservedRange {
    PhysRange range;
    const char* why = "";
};

// When firmware entries overlap, the stricter type wins: handing out memory that firmware
// marked as anything but available could corrupt ACPI state or the machine's own use of it.
// Unknown types rank with reserved, since nothing is known about what they hold.
constexpr int strictness(std::uint32_t type) {
    switch (static_cast<MemoryType>(type)) {
        case MemoryType::available:
            return 0;
        case MemoryType::acpi_reclaimable:
            return 1;
        case MemoryType::acpi_nvs:
            return 2;
        case MemoryType::defective:
            return 4;
        case MemoryType::reserved:
            break;
    }
    return 3;
}

constexpr const char* memory_type_name(std::uint32_t type) {
    switch (static_cast<MemoryType>(type)) {
        case MemoryType::available:
            return "available";
        case MemoryType::reserved:
            return "reserved";
        case MemoryType::acpi_reclaimable:
            return "ACPI reclaimable";
        case MemoryType::acpi_nvs:
            return "ACPI NVS";
        case MemoryType::defective:
            return "defective";
    }
    return "unknown";
}

}  // namespace mm
