// The MADT ("APIC"): where the local APICs are, which processors exist and may be started,
// the I/O APICs and how ISA interrupts map onto them. Malformed entries become problems in the
// result instead of failing the whole table: a kernel that found its CPUs should boot and log
// what was wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "acpi/error.hpp"
#include "acpi/parser.hpp"
#include "lib/result.hpp"
#include "lib/static_vector.hpp"
#include "mm/frame.hpp"

namespace acpi {

struct Cpu {
    std::uint32_t apic_id = 0;  // 8 bits from a local APIC entry, 32 from a local x2APIC entry.
    std::uint32_t acpi_uid = 0;
    bool enabled = false;
    // Disabled now, may be brought online later (ACPI 6.3). Never set together with enabled:
    // the specification reserves the bit for enabled processors.
    bool online_capable = false;
    bool x2apic_entry = false;
};

struct IoApic {
    std::uint8_t id = 0;
    std::uint32_t address = 0;
    std::uint32_t gsi_base = 0;
};

struct InterruptOverride {
    std::uint8_t bus = 0;
    std::uint8_t source_irq = 0;
    std::uint32_t gsi = 0;
    std::uint16_t flags = 0;  // MPS INTI flags: polarity bits 0-1, trigger mode bits 2-3.
};

struct LocalApicNmi {
    static constexpr std::uint32_t kAllProcessors = 0xFFFFFFFF;

    std::uint32_t acpi_uid = 0;  // kAllProcessors for every processor (0xFF in an xAPIC entry).
    std::uint16_t flags = 0;
    std::uint8_t lint = 0;
    bool x2apic_entry = false;
};

enum class MadtProblemKind : std::uint8_t {
    entry_length_too_small,  // Below 2: the next entry cannot be found, parsing stops.
    entry_past_end,          // Runs past the table's end: parsing stops.
    entry_too_short,         // Shorter than the fields of its type: skipped.
    too_many_cpus,           // Entries beyond a capacity are dropped and counted.
    too_many_io_apics,
    too_many_overrides,
    too_many_nmis,
    duplicate_apic_id,           // A later processor with an APIC id already seen is dropped.
    duplicate_address_override,  // A second local APIC address override: the first counts.
};

const char* to_string(MadtProblemKind kind);

struct MadtProblem {
    MadtProblemKind kind = MadtProblemKind::entry_length_too_small;
    std::size_t offset = 0;        // Of the entry, from the start of the table.
    const char* description = "";  // Static string, for the log.
};

struct MadtInfo {
    static constexpr std::size_t kMaxCpus = 1024;
    static constexpr std::size_t kMaxIoApics = 16;
    static constexpr std::size_t kMaxOverrides = 32;
    static constexpr std::size_t kMaxNmis = 256;  // Firmware often lists one per processor.
    static constexpr std::size_t kMaxProblems = 16;

    // The table's 32-bit address, or a type-5 entry's 64-bit override of it.
    mm::PhysAddr local_apic_address = 0;
    bool local_apic_address_overridden = false;
    bool pcat_compat = false;  // Legacy 8259 PICs present: mask them before using the APICs.
    lib::StaticVector<Cpu, kMaxCpus> cpus;  // In table order; the boot CPU is usually first.
    lib::StaticVector<IoApic, kMaxIoApics> io_apics;
    lib::StaticVector<InterruptOverride, kMaxOverrides> overrides;
    lib::StaticVector<LocalApicNmi, kMaxNmis> nmis;
    std::size_t dropped_entries = 0;  // Beyond a capacity; reported once per kind.
    lib::StaticVector<MadtProblem, kMaxProblems> problems;
    std::size_t dropped_problems = 0;
};

// Parses the bytes of one MADT (header included), bounded by both the span and the header's
// length. The checksum is not checked here: read_madt does that. `out` is cleared first and
// keeps whatever was read before parsing stopped.
// Errors: truncated (shorter than the 44-byte MADT header, or `length` beyond the bytes).
[[nodiscard]] lib::Status<Error> parse_madt(std::span<const std::uint8_t> table, MadtInfo& out);

// Finds, validates and parses the first MADT. Errors: no_madt, bad_madt_checksum,
// table_unreadable, bad_table_length, truncated.
[[nodiscard]] lib::Status<Error> read_madt(const Tables& tables, MadtInfo& out);

// Processors worth an INIT-SIPI-SIPI: the enabled ones, and the online-capable ones only when
// asked (hot-plug placeholders such as QEMU's `maxcpus` slots usually have no CPU behind them).
constexpr bool should_start(const Cpu& cpu, bool include_online_capable = false) {
    return cpu.enabled || (include_online_capable && cpu.online_capable);
}
std::size_t count_cpus_to_start(const MadtInfo& madt, bool include_online_capable = false);

}  // namespace acpi
