#include "acpi/power.hpp"

#include "lib/unaligned.hpp"

namespace acpi {
namespace {

// True when a table of `length` bytes holds the whole field at [offset, offset + size).
constexpr bool covers(std::size_t length, std::size_t offset, std::size_t size) {
    return length >= offset + size;
}

std::uint16_t io_port(std::uint64_t value) {
    return value <= 0xFFFF ? static_cast<std::uint16_t>(value) : 0;
}

// The extended block when it is present and a 16-bit I/O port, else the 32-bit field. A
// memory-space block cannot be written with port I/O, so it does not count.
std::uint16_t control_port(std::size_t length, std::size_t x_offset, const GenericAddress& x,
                           std::uint32_t legacy) {
    if (covers(length, x_offset, sizeof(GenericAddress)) && x.address != 0 &&
        x.address_space == kAddressSpaceIo && io_port(x.address) != 0) {
        return io_port(x.address);
    }
    return io_port(legacy);
}

// The DSDT at `address`, checked, searched for \_S5_.
lib::Result<SleepType, Error> s5_from_dsdt(const PhysicalMemory& memory, mm::PhysAddr address) {
    const std::uint8_t* signature = memory.read(address, sizeof(Signature::bytes));
    if (signature == nullptr) {
        return lib::fail(Error::table_unreadable);
    }
    if (__builtin_memcmp(signature, kDsdtSignature.bytes, sizeof(Signature::bytes)) != 0) {
        return lib::fail(Error::bad_dsdt_signature);
    }
    auto bytes = map_table(memory, address);
    if (!bytes.ok()) {
        return lib::fail(bytes.error() == Error::bad_table_checksum ? Error::bad_dsdt_checksum
                                                                    : bytes.error());
    }
    return find_s5(bytes.value());
}

// Errors that say the DSDT itself could not be used, as opposed to what it contains.
bool is_load_error(Error error) {
    return error == Error::table_unreadable || error == Error::bad_table_length ||
           error == Error::bad_dsdt_signature || error == Error::bad_dsdt_checksum;
}

}  // namespace

lib::Result<FadtInfo, Error> parse_fadt(std::span<const std::uint8_t> table) {
    if (table.size() < sizeof(SdtHeader)) {
        return lib::fail(Error::truncated);
    }
    const auto length =
        lib::load_unaligned<std::uint32_t>(table.data(), offsetof(SdtHeader, length));
    if (length < kFadtV1Length || length > table.size()) {
        return lib::fail(Error::truncated);
    }
    // Copy what the table has into a zeroed FADT; covers() guards every field past ACPI 1.0.
    Fadt fadt{};
    const std::size_t copied = length < sizeof(Fadt) ? length : sizeof(Fadt);
    __builtin_memcpy(&fadt, table.data(), copied);

    FadtInfo info;
    info.revision = fadt.header.revision;
    info.dsdt = fadt.dsdt;
    if (covers(length, offsetof(Fadt, x_dsdt), sizeof(fadt.x_dsdt))) {
        info.x_dsdt = fadt.x_dsdt;
    }
    info.pm1a_control = control_port(length, offsetof(Fadt, x_pm1a_cnt_blk), fadt.x_pm1a_cnt_blk,
                                     fadt.pm1a_cnt_blk);
    info.pm1b_control = control_port(length, offsetof(Fadt, x_pm1b_cnt_blk), fadt.x_pm1b_cnt_blk,
                                     fadt.pm1b_cnt_blk);
    info.sci_interrupt = fadt.sci_int;
    info.smi_command = io_port(fadt.smi_cmd);
    info.acpi_enable = fadt.acpi_enable;
    info.flags = fadt.flags;
    return info;
}

lib::Result<PowerOff, Error> read_power_off(const Tables& tables) {
    auto fadt_table = tables.find(kFadtSignature);
    if (!fadt_table.ok()) {
        switch (fadt_table.error()) {
            case Error::table_not_found:
                return lib::fail(Error::no_fadt);
            case Error::bad_table_checksum:
                return lib::fail(Error::bad_fadt_checksum);
            default:
                return lib::fail(fadt_table.error());
        }
    }
    auto bytes = tables.map(fadt_table.value());
    if (!bytes.ok()) {
        return lib::fail(bytes.error() == Error::bad_table_checksum ? Error::bad_fadt_checksum
                                                                    : bytes.error());
    }
    auto parsed = parse_fadt(bytes.value());
    if (!parsed.ok()) {
        return lib::fail(parsed.error());
    }
    const FadtInfo fadt = parsed.value();
    if (fadt.pm1a_control == 0) {
        return lib::fail(Error::no_pm1a_control);
    }
    const mm::PhysAddr preferred = fadt.x_dsdt != 0 ? fadt.x_dsdt : fadt.dsdt;
    if (preferred == 0) {
        return lib::fail(Error::no_dsdt);
    }
    auto s5 = s5_from_dsdt(tables.memory(), preferred);
    if (!s5.ok() && is_load_error(s5.error()) && fadt.dsdt != 0 && fadt.dsdt != preferred) {
        // The two fields should agree; when the 64-bit one leads nowhere, the 32-bit one may not.
        auto fallback = s5_from_dsdt(tables.memory(), fadt.dsdt);
        if (fallback.ok()) {
            s5 = fallback;
        }
    }
    if (!s5.ok()) {
        return lib::fail(s5.error());
    }
    PowerOff power;
    power.pm1a_control = fadt.pm1a_control;
    power.pm1b_control = fadt.pm1b_control;
    power.slp_typ_a = s5.value().a;
    power.slp_typ_b = s5.value().b;
    power.smi_command = fadt.smi_command;
    power.acpi_enable = fadt.acpi_enable;
    power.sci_interrupt = fadt.sci_interrupt;
    return power;
}

}  // namespace acpi
