// What can go wrong while reading ACPI tables. Every failure is a value handed to the caller,
// who decides what to do without it (the kernel carries on with the boot CPU alone, and powers
// off through QEMU's fixed ports).
#pragma once

#include <cstdint>

namespace acpi {

enum class Error : std::uint8_t {
    no_rsdp,                     // Neither the loader's copy nor the BIOS areas hold a valid RSDP.
    bad_rsdp_signature,          // The bytes do not start with "RSD PTR ".
    bad_rsdp_checksum,           // The first 20 bytes do not sum to zero.
    bad_extended_rsdp_checksum,  // Revision 2 or later, and the `length` bytes do not sum to zero.
    bad_rsdp_length,             // Revision 2 or later, and `length` is below 36 or absurd.
    no_root_table,               // The RSDP gives neither an RSDT nor an XSDT address.
    bad_root_signature,          // The root table is not an "RSDT" (or "XSDT").
    bad_root_checksum,
    table_unreadable,  // The memory reader refused the header or the table's full length.
    bad_table_length,  // A header length below 36 bytes or above kMaxTableLength.
    bad_table_checksum,
    table_not_found,
    truncated,  // Too short for the fixed fields of its kind.
    no_madt,
    bad_madt_checksum,
    no_fadt,
    bad_fadt_checksum,
    no_dsdt,  // The FADT names no DSDT.
    bad_dsdt_signature,
    bad_dsdt_checksum,
    no_pm1a_control,  // The FADT gives no usable PM1a control port (e.g. hardware-reduced ACPI).
    no_s5,            // The DSDT defines no \_S5_ package.
    bad_s5,           // \_S5_ is there but is not a package of two small integers.
};

const char* to_string(Error error);

}  // namespace acpi
