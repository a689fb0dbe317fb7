#include "acpi/error.hpp"

namespace acpi {

const char* to_string(Error error) {
    switch (error) {
        case Error::no_rsdp:
            return "no RSDP found";
        case Error::bad_rsdp_signature:
            return "RSDP signature is not \"RSD PTR \"";
        case Error::bad_rsdp_checksum:
            return "bad RSDP checksum";
        case Error::bad_extended_rsdp_checksum:
            return "bad extended RSDP checksum";
        case Error::bad_rsdp_length:
            return "bad RSDP length";
        case Error::no_root_table:
            return "RSDP names no RSDT or XSDT";
        case Error::bad_root_signature:
            return "root table has the wrong signature";
        case Error::bad_root_checksum:
            return "bad root table checksum";
        case Error::table_unreadable:
            return "table not readable";
        case Error::bad_table_length:
            return "table length out of range";
        case Error::bad_table_checksum:
            return "bad table checksum";
        case Error::table_not_found:
            return "table not found";
        case Error::truncated:
            return "structure truncated";
        case Error::no_madt:
            return "no MADT";
        case Error::bad_madt_checksum:
            return "bad MADT checksum";
        case Error::no_fadt:
            return "no FADT";
        case Error::bad_fadt_checksum:
            return "bad FADT checksum";
        case Error::no_dsdt:
            return "FADT names no DSDT";
        case Error::bad_dsdt_signature:
            return "DSDT has the wrong signature";
        case Error::bad_dsdt_checksum:
            return "bad DSDT checksum";
        case Error::no_pm1a_control:
            return "FADT has no PM1a control port";
        case Error::no_s5:
            return "DSDT has no \\_S5_ package";
        case Error::bad_s5:
            return "malformed \\_S5_ package";
    }
    return "unknown ACPI error";
}

}  // namespace acpi
