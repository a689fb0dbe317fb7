// Finding the ACPI tables: the RSDP (from the loader's copy or a scan of the BIOS areas), the
// root table (XSDT or RSDT) and, through it, any table by signature. Platform-free: physical
// memory is reached through a PhysicalMemory the caller provides, so the same code runs in the
// kernel (direct map) and on the host (fake memory). Every byte read comes from that reader and
// every length from firmware is checked before it is used.
//
// The MADT and the power-off data are built on this: see acpi_madt.hpp and acpi_power.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "acpi/error.hpp"
#include "acpi/tables.hpp"
#include "lib/result.hpp"
#include "mm/frame.hpp"

namespace acpi {

// No real table comes close (large DSDTs are a few hundred KiB); a longer length is corruption.
inline constexpr std::uint32_t kMaxTableLength = 1u << 20;

// How the parser reaches physical memory. `map` returns a pointer to `length` readable bytes
// at `address`, or nullptr when any byte of [address, address + length) is not readable. The
// parser uses the bytes only until its next call to `map` and copies what it keeps, so a reader
// may hand out a temporary window. `length` is never 0 and the range never wraps.
struct PhysicalMemory {
    using MapFunction = const std::uint8_t* (*)(void* context, mm::PhysAddr address,
                                                std::size_t length);
    MapFunction map = nullptr;
    void* context = nullptr;

    // `map` with the range checked first: nullptr for an empty or wrapping range, or no reader.
    const std::uint8_t* read(mm::PhysAddr address, std::size_t length) const;
};

// True when the bytes sum to zero modulo 256, the checksum rule of every ACPI structure.
bool checksum_ok(std::span<const std::uint8_t> bytes);

enum class RsdpSource : std::uint8_t { loader_copy, ebda, bios_area };

struct Rsdp {
    RsdpSource source = RsdpSource::loader_copy;
    mm::PhysAddr address = 0;  // Where a scan found it; 0 for the loader's copy.
    std::uint8_t revision = 0;
    // Revision 2 or later with its extended part present and valid: only then is
    // xsdt_address meaningful. A revision-2 RSDP cut to 20 bytes (the Multiboot2 "old RSDP"
    // tag) is still a valid ACPI 1.0 RSDP and is used as one.
    bool extended = false;
    char oem_id[6] = {};
    mm::PhysAddr rsdt_address = 0;
    mm::PhysAddr xsdt_address = 0;
};

// Validates RSDP bytes (such as the Multiboot2 tag's copy): signature, the 20-byte checksum and,
// for revision 2 or later when the bytes reach that far, `length` and the extended checksum.
// Errors: truncated, bad_rsdp_signature, bad_rsdp_checksum, bad_rsdp_length,
// bad_extended_rsdp_checksum.
[[nodiscard]] lib::Result<Rsdp, Error> parse_rsdp(std::span<const std::uint8_t> bytes);

// Searches the first KiB of the EBDA (segment at physical 0x40E), then 0xE0000-0xFFFFF, on
// 16-byte boundaries for a valid RSDP; candidates that fail validation are skipped.
// Errors: no_rsdp.
[[nodiscard]] lib::Result<Rsdp, Error> scan_for_rsdp(const PhysicalMemory& memory);

// The loader's copy when it is valid, else the scan. An empty copy means the loader gave none.
// Errors: the copy's error when both fail, else no_rsdp.
[[nodiscard]] lib::Result<Rsdp, Error> find_rsdp(std::span<const std::uint8_t> copy,
                                                 const PhysicalMemory& memory);

// A table whose header was read and whose checksum held.
struct Table {
    mm::PhysAddr address = 0;
    SdtHeader header{};

    bool has_signature(Signature signature) const;
};

// Reads and validates the table at `address`: header readable, 36 <= length <= kMaxTableLength,
// all `length` bytes readable, checksum. The bytes are valid until the next call to the reader.
// Errors: table_unreadable, bad_table_length, bad_table_checksum.
[[nodiscard]] lib::Result<std::span<const std::uint8_t>, Error> map_table(
    const PhysicalMemory& memory, mm::PhysAddr address);

enum class RootKind : std::uint8_t { rsdt, xsdt };

// The root table and the tables it lists. Holds no pointer into firmware memory, only
// addresses: each call maps what it needs again.
class Tables {
  public:
    // Prefers the XSDT when the RSDP is extended and the XSDT validates, else the RSDT.
    // Errors: no_root_table, bad_root_signature, bad_root_checksum, table_unreadable,
    // bad_table_length; when both roots fail, the XSDT's error.
    [[nodiscard]] static lib::Result<Tables, Error> open(const PhysicalMemory& memory,
                                                         const Rsdp& rsdp);

    RootKind root_kind() const { return kind_; }
    const Table& root() const { return root_; }
    // True when the RSDP offered an XSDT that failed (xsdt_error() says why) and the RSDT is
    // used instead: worth a line in the log.
    bool xsdt_rejected() const { return xsdt_rejected_; }
    Error xsdt_error() const { return xsdt_error_; }

    // Entries in the root table; trailing bytes short of a whole entry are ignored.
    std::size_t count() const { return count_; }
    // Errors: table_not_found (index out of range), table_unreadable.
    [[nodiscard]] lib::Result<mm::PhysAddr, Error> address_at(std::size_t index) const;
    // The validated table of entry `index`. Errors: those of address_at and map_table, and
    // table_not_found for an entry that holds address 0.
    [[nodiscard]] lib::Result<Table, Error> table_at(std::size_t index) const;
    // The `index`-th listed table with this signature (entries whose header cannot be read are
    // skipped), validated. Errors: table_not_found, and those of map_table for the match.
    [[nodiscard]] lib::Result<Table, Error> find(Signature signature, std::size_t index = 0) const;
    // The bytes of a table this object returned, validated again.
    [[nodiscard]] lib::Result<std::span<const std::uint8_t>, Error> map(const Table& table) const {
        return map_table(memory_, table.address);
    }

    const PhysicalMemory& memory() const { return memory_; }

  private:
    Tables() = default;

    PhysicalMemory memory_{};
    Table root_{};
    RootKind kind_ = RootKind::rsdt;
    bool xsdt_rejected_ = false;
    Error xsdt_error_ = Error::no_root_table;
    std::size_t count_ = 0;
};

}  // namespace acpi
