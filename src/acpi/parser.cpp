#include "acpi/parser.hpp"

#include "lib/unaligned.hpp"

namespace acpi {
namespace {

// Where the BIOS data area keeps the EBDA's real-mode segment, and the areas the ACPI
// specification (5.2.5.1) tells legacy systems to search.
constexpr mm::PhysAddr kEbdaSegmentPointer = 0x40E;
constexpr std::size_t kEbdaSearchLength = 1024;
constexpr mm::PhysAddr kBiosAreaBegin = 0xE0000;
constexpr mm::PhysAddr kBiosAreaEnd = 0x100000;
constexpr std::size_t kRsdpAlignment = 16;

bool has_rsdp_signature(const std::uint8_t* bytes) {
    return __builtin_memcmp(bytes, kRsdpSignature, sizeof(kRsdpSignature)) == 0;
}

// Validates a scan candidate, mapping as many bytes as its revision says the RSDP has.
lib::Result<Rsdp, Error> probe_rsdp(const PhysicalMemory& memory, mm::PhysAddr address) {
    const std::uint8_t* bytes = memory.read(address, sizeof(RsdpV1));
    if (bytes == nullptr || !has_rsdp_signature(bytes)) {
        return lib::fail(Error::no_rsdp);
    }
    std::size_t length = sizeof(RsdpV1);
    if (bytes[offsetof(RsdpV1, revision)] >= 2) {
        length = sizeof(RsdpV2);
        if (const std::uint8_t* v2 = memory.read(address, sizeof(RsdpV2))) {
            const auto claimed = lib::load_unaligned<std::uint32_t>(v2, offsetof(RsdpV2, length));
            // Out of range: map the fixed 36 bytes and let parse_rsdp report the length.
            if (claimed >= sizeof(RsdpV2) && claimed <= kMaxTableLength) {
                length = claimed;
            }
        }
    }
    bytes = memory.read(address, length);
    if (bytes == nullptr) {
        // The extended part is not readable: the first 20 bytes still make an ACPI 1.0 RSDP.
        length = sizeof(RsdpV1);
        bytes = memory.read(address, length);
        if (bytes == nullptr) {
            return lib::fail(Error::no_rsdp);
        }
    }
    return parse_rsdp({bytes, length});
}

lib::Result<Rsdp, Error> scan_range(const PhysicalMemory& memory, mm::PhysAddr begin,
                                    mm::PhysAddr end, RsdpSource source) {
    for (mm::PhysAddr address = begin; address < end; address += kRsdpAlignment) {
        auto found = probe_rsdp(memory, address);
        if (found.ok()) {
            Rsdp rsdp = found.value();
            rsdp.source = source;
            rsdp.address = address;
            return rsdp;
        }
    }
    return lib::fail(Error::no_rsdp);
}

// The root table's own checks, with the errors named after the root.
lib::Result<Table, Error> open_root(const PhysicalMemory& memory, mm::PhysAddr address,
                                    Signature signature) {
    const std::uint8_t* header = memory.read(address, sizeof(SdtHeader));
    if (header == nullptr) {
        return lib::fail(Error::table_unreadable);
    }
    if (__builtin_memcmp(header, signature.bytes, sizeof(signature.bytes)) != 0) {
        return lib::fail(Error::bad_root_signature);
    }
    auto bytes = map_table(memory, address);
    if (!bytes.ok()) {
        return lib::fail(bytes.error() == Error::bad_table_checksum ? Error::bad_root_checksum
                                                                    : bytes.error());
    }
    return Table{address, lib::load_unaligned<SdtHeader>(bytes.value().data(), 0)};
}

}  // namespace

const std::uint8_t* PhysicalMemory::read(mm::PhysAddr address, std::size_t length) const {
    if (map == nullptr || length == 0 || length - 1 > ~mm::PhysAddr{0} - address) {
        return nullptr;
    }
    return map(context, address, length);
}

bool checksum_ok(std::span<const std::uint8_t> bytes) {
    std::uint8_t sum = 0;
    for (std::uint8_t byte : bytes) {
        sum = static_cast<std::uint8_t>(sum + byte);
    }
    return sum == 0;
}

lib::Result<Rsdp, Error> parse_rsdp(std::span<const std::uint8_t> bytes) {
    if (bytes.size() < sizeof(RsdpV1)) {
        return lib::fail(Error::truncated);
    }
    if (!has_rsdp_signature(bytes.data())) {
        return lib::fail(Error::bad_rsdp_signature);
    }
    if (!checksum_ok(bytes.first(sizeof(RsdpV1)))) {
        return lib::fail(Error::bad_rsdp_checksum);
    }
    const auto v1 = lib::load_unaligned<RsdpV1>(bytes.data(), 0);
    Rsdp rsdp;
    rsdp.revision = v1.revision;
    __builtin_memcpy(rsdp.oem_id, v1.oem_id, sizeof(rsdp.oem_id));
    rsdp.rsdt_address = v1.rsdt_address;
    if (v1.revision < 2 || bytes.size() < sizeof(RsdpV2)) {
        return rsdp;
    }
    const auto v2 = lib::load_unaligned<RsdpV2>(bytes.data(), 0);
    if (v2.length < sizeof(RsdpV2) || v2.length > kMaxTableLength) {
        return lib::fail(Error::bad_rsdp_length);
    }
    if (v2.length > bytes.size()) {
        // A copy cut short (a loader keeps 36 bytes) cannot be checked past its end; its first
        // 20 bytes passed, so it still serves as an ACPI 1.0 RSDP.
        return rsdp;
    }
    if (!checksum_ok(bytes.first(v2.length))) {
        return lib::fail(Error::bad_extended_rsdp_checksum);
    }
    rsdp.extended = true;
    rsdp.xsdt_address = v2.xsdt_address;
    return rsdp;
}

lib::Result<Rsdp, Error> scan_for_rsdp(const PhysicalMemory& memory) {
    if (const std::uint8_t* pointer = memory.read(kEbdaSegmentPointer, sizeof(std::uint16_t))) {
        const mm::PhysAddr ebda = mm::PhysAddr{lib::load_unaligned<std::uint16_t>(pointer, 0)} << 4;
        if (ebda != 0) {
            auto found = scan_range(memory, ebda, ebda + kEbdaSearchLength, RsdpSource::ebda);
            if (found.ok()) {
                return found;
            }
        }
    }
    return scan_range(memory, kBiosAreaBegin, kBiosAreaEnd, RsdpSource::bios_area);
}

lib::Result<Rsdp, Error> find_rsdp(std::span<const std::uint8_t> copy,
                                   const PhysicalMemory& memory) {
    if (copy.empty()) {
        return scan_for_rsdp(memory);
    }
    auto from_copy = parse_rsdp(copy);
    if (from_copy.ok()) {
        return from_copy;
    }
    auto scanned = scan_for_rsdp(memory);
    return scanned.ok() ? scanned : from_copy;
}

bool Table::has_signature(Signature signature) const {
    return __builtin_memcmp(header.signature, signature.bytes, sizeof(signature.bytes)) == 0;
}

lib::Result<std::span<const std::uint8_t>, Error> map_table(const PhysicalMemory& memory,
                                                            mm::PhysAddr address) {
    const std::uint8_t* bytes = memory.read(address, sizeof(SdtHeader));
    if (bytes == nullptr) {
        return lib::fail(Error::table_unreadable);
    }
    const auto length = lib::load_unaligned<std::uint32_t>(bytes, offsetof(SdtHeader, length));
    if (length < sizeof(SdtHeader) || length > kMaxTableLength) {
        return lib::fail(Error::bad_table_length);
    }
    bytes = memory.read(address, length);
    if (bytes == nullptr) {
        return lib::fail(Error::table_unreadable);
    }
    // A reader that copies could show different bytes the second time: the header callers read
    // from these bytes must describe exactly the bytes that were checked.
    if (lib::load_unaligned<std::uint32_t>(bytes, offsetof(SdtHeader, length)) != length) {
        return lib::fail(Error::bad_table_length);
    }
    const std::span<const std::uint8_t> table{bytes, length};
    if (!checksum_ok(table)) {
        return lib::fail(Error::bad_table_checksum);
    }
    return table;
}

lib::Result<Tables, Error> Tables::open(const PhysicalMemory& memory, const Rsdp& rsdp) {
    Tables tables;
    tables.memory_ = memory;
    if (rsdp.extended && rsdp.xsdt_address != 0) {
        auto xsdt = open_root(memory, rsdp.xsdt_address, kXsdtSignature);
        if (xsdt.ok()) {
            tables.root_ = xsdt.value();
            tables.kind_ = RootKind::xsdt;
            tables.count_ =
                (tables.root_.header.length - sizeof(SdtHeader)) / sizeof(std::uint64_t);
            return tables;
        }
        tables.xsdt_rejected_ = true;
        tables.xsdt_error_ = xsdt.error();
    }
    if (rsdp.rsdt_address == 0) {
        return lib::fail(tables.xsdt_rejected_ ? tables.xsdt_error_ : Error::no_root_table);
    }
    auto rsdt = open_root(memory, rsdp.rsdt_address, kRsdtSignature);
    if (!rsdt.ok()) {
        return lib::fail(tables.xsdt_rejected_ ? tables.xsdt_error_ : rsdt.error());
    }
    tables.root_ = rsdt.value();
    tables.kind_ = RootKind::rsdt;
    tables.count_ = (tables.root_.header.length - sizeof(SdtHeader)) / sizeof(std::uint32_t);
    return tables;
}

lib::Result<mm::PhysAddr, Error> Tables::address_at(std::size_t index) const {
    if (index >= count_) {
        return lib::fail(Error::table_not_found);
    }
    const std::size_t entry_size =
        kind_ == RootKind::xsdt ? sizeof(std::uint64_t) : sizeof(std::uint32_t);
    // No overflow: index < count_ keeps the entry inside a table of at most kMaxTableLength.
    const mm::PhysAddr entry = root_.address + sizeof(SdtHeader) + index * entry_size;
    const std::uint8_t* bytes = memory_.read(entry, entry_size);
    if (bytes == nullptr) {
        return lib::fail(Error::table_unreadable);
    }
    if (kind_ == RootKind::xsdt) {
        return mm::PhysAddr{lib::load_unaligned<std::uint64_t>(bytes, 0)};
    }
    return mm::PhysAddr{lib::load_unaligned<std::uint32_t>(bytes, 0)};
}

lib::Result<Table, Error> Tables::table_at(std::size_t index) const {
    auto address = address_at(index);
    if (!address.ok()) {
        return lib::fail(address.error());
    }
    if (address.value() == 0) {
        return lib::fail(Error::table_not_found);
    }
    auto bytes = map_table(memory_, address.value());
    if (!bytes.ok()) {
        return lib::fail(bytes.error());
    }
    return Table{address.value(), lib::load_unaligned<SdtHeader>(bytes.value().data(), 0)};
}

lib::Result<Table, Error> Tables::find(Signature signature, std::size_t index) const {
    std::size_t matches = 0;
    for (std::size_t i = 0; i < count_; ++i) {
        auto address = address_at(i);
        if (!address.ok() || address.value() == 0) {
            continue;
        }
        const std::uint8_t* header = memory_.read(address.value(), sizeof(signature.bytes));
        if (header == nullptr ||
            __builtin_memcmp(header, signature.bytes, sizeof(signature.bytes)) != 0) {
            continue;
        }
        if (matches++ == index) {
            return table_at(i);
        }
    }
    return lib::fail(Error::table_not_found);
}

}  // namespace acpi
