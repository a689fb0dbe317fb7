// What the kernel needs to power the machine off through ACPI: the PM1 control ports from the
// FADT ("FACP") and the SLP_TYP values of the \_S5_ (soft-off) package in the DSDT. There is no
// AML interpreter: \_S5_ is found by a bounded byte search for its usual static encoding. A
// DSDT that computes \_S5 in a method gives no_s5, and the caller falls back to something else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "acpi/error.hpp"
#include "acpi/parser.hpp"
#include "acpi/tables.hpp"
#include "lib/result.hpp"
#include "mm/frame.hpp"

namespace acpi {

// The FADT fields that matter for switching into ACPI mode and powering off. A port of 0 means
// none: absent, beyond the 16-bit I/O space, or (for the extended fields) not in I/O space.
struct FadtInfo {
    std::uint8_t revision = 0;
    mm::PhysAddr dsdt = 0;    // The 32-bit DSDT field.
    mm::PhysAddr x_dsdt = 0;  // The 64-bit X_DSDT, 0 when the table is too short to hold it.
    std::uint16_t pm1a_control =
        0;  // X_PM1a_CNT_BLK when it is a usable I/O port, else PM1a_CNT_BLK.
    std::uint16_t pm1b_control = 0;  // Likewise; most machines have no PM1b block.
    std::uint16_t sci_interrupt = 0;
    std::uint16_t smi_command = 0;  // 0: no SMI command port (already in ACPI mode, or none).
    std::uint8_t acpi_enable = 0;   // The value to write to smi_command to enter ACPI mode.
    std::uint32_t flags = 0;

    bool hardware_reduced() const { return (flags & kFadtHardwareReduced) != 0; }
};

// Reads the bytes of one FADT (header included), bounded by the span and the header's length.
// Fields beyond the table's length read as absent. Errors: truncated (shorter than the 116
// bytes of an ACPI 1.0 FADT, or `length` beyond the bytes).
[[nodiscard]] lib::Result<FadtInfo, Error> parse_fadt(std::span<const std::uint8_t> table);

// SLP_TYPa and SLP_TYPb for the soft-off state, each 0-7.
struct SleepType {
    std::uint8_t a = 0;
    std::uint8_t b = 0;
};

// Searches the AML of a DSDT (header included; its length bounds the search) for
// `Name (_S5_, Package () { a, b, ... })`: NameOp (optionally with the root prefix), "_S5_",
// PackageOp, PkgLength (1-4 bytes), NumElements >= 2, then two integers each encoded as
// ZeroOp, OneOp, a Byte/Word/DWord/QWord prefix with its value, or a bare byte 2-7.
// The first well-formed definition wins. The checksum is not checked here.
// Errors: truncated (below the 36-byte header, or `length` beyond the bytes), no_s5, bad_s5
// (a definition whose package is malformed, and no well-formed one).
[[nodiscard]] lib::Result<SleepType, Error> find_s5(std::span<const std::uint8_t> dsdt);

struct PowerOff {
    std::uint16_t pm1a_control = 0;
    std::uint16_t pm1b_control = 0;  // 0: none.
    std::uint8_t slp_typ_a = 0;
    std::uint8_t slp_typ_b = 0;
    std::uint16_t smi_command = 0;  // With acpi_enable: how to enter ACPI mode if SCI_EN is clear.
    std::uint8_t acpi_enable = 0;
    std::uint16_t sci_interrupt = 0;
};

// The FADT's control ports and the DSDT's \_S5_ values. Uses X_DSDT when present, and the
// 32-bit DSDT if X_DSDT cannot be read or validated.
// Errors: no_fadt, bad_fadt_checksum, truncated, no_pm1a_control, no_dsdt, bad_dsdt_signature,
// bad_dsdt_checksum, table_unreadable, bad_table_length, no_s5, bad_s5.
[[nodiscard]] lib::Result<PowerOff, Error> read_power_off(const Tables& tables);

// The value that enters sleep state `slp_typ`: SLP_TYP in bits 10-12, SLP_EN (bit 13). The
// specification has the OS keep the register's other bits (read it, replace SLP_TYP, set
// SLP_EN); or-ing this into the value read does that.
constexpr std::uint16_t sleep_control_value(std::uint8_t slp_typ) {
    return static_cast<std::uint16_t>(((slp_typ & 7u) << kPm1SleepTypeShift) | kPm1SleepEnable);
}

}  // namespace acpi
