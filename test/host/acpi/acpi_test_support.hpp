// What the ACPI suites share: fake physical memory that hands out exact-size copies (so
// AddressSanitizer sees every overread), builders for each table and MADT entry, and a whole
// QEMU-like machine of tables.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "acpi/madt.hpp"
#include "acpi/parser.hpp"
#include "acpi/power.hpp"

namespace doctest {
template <>
struct StringMaker<acpi::Error> {
    static String convert(acpi::Error error) { return acpi::to_string(error); }
};
}  // namespace doctest

namespace acpi_test {

using acpi::Error;
using acpi::MadtProblemKind;
using Bytes = std::vector<std::uint8_t>;

// ---- Fake physical memory ----

// A few byte buffers at fake physical addresses. Each map() returns a fresh copy of exactly the
// bytes asked for and frees the previous one, so AddressSanitizer reports a read past what was
// mapped and any use of a mapping after the next map() call: the reader's contract.
class FakeMemory {
  public:
    void add(mm::PhysAddr base, Bytes bytes) { regions_.push_back({base, std::move(bytes)}); }

    // The bytes of the region starting at `base`, to corrupt after building.
    Bytes& at(mm::PhysAddr base) {
        for (Region& region : regions_) {
            if (region.base == base) {
                return region.bytes;
            }
        }
        FAIL("no region at this address");
        return regions_.front().bytes;
    }

    acpi::PhysicalMemory reader() { return {&FakeMemory::map, this}; }

    // Called before each mapping, to change memory between two reads of the parser.
    std::function<void(FakeMemory&, mm::PhysAddr, std::size_t)> before_map;
    std::size_t map_calls() const { return map_calls_; }

  private:
    struct Region {
        mm::PhysAddr base;
        Bytes bytes;
    };

    static const std::uint8_t* map(void* context, mm::PhysAddr address, std::size_t length) {
        auto& self = *static_cast<FakeMemory*>(context);
        ++self.map_calls_;
        if (self.before_map) {
            self.before_map(self, address, length);
        }
        if (length == 0) {
            FAIL("the parser asked for 0 bytes");
        }
        self.window_.reset();
        for (const Region& region : self.regions_) {
            if (address >= region.base && address - region.base <= region.bytes.size() &&
                length <= region.bytes.size() - (address - region.base)) {
                self.window_.reset(new std::uint8_t[length]);
                std::memcpy(self.window_.get(), region.bytes.data() + (address - region.base),
                            length);
                return self.window_.get();
            }
        }
        return nullptr;
    }

    std::vector<Region> regions_;
    std::unique_ptr<std::uint8_t[]> window_;
    std::size_t map_calls_ = 0;
};

// An exact-size copy of `bytes`, alive until the next call: AddressSanitizer then reports a
// read past the end, which a vector's spare capacity would hide.
inline std::span<const std::uint8_t> exact(const Bytes& bytes) {
    static std::unique_ptr<std::uint8_t[]> kept;
    kept.reset(new std::uint8_t[bytes.size()]);
    if (!bytes.empty()) {
        std::memcpy(kept.get(), bytes.data(), bytes.size());
    }
    return {kept.get(), bytes.size()};
}

// ---- Table builders ----

inline void put(Bytes& bytes, std::uint64_t value, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
        bytes.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
    }
}

inline void set(Bytes& bytes, std::size_t at, std::uint64_t value, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
        bytes[at + i] = static_cast<std::uint8_t>(value >> (8 * i));
    }
}

inline std::uint8_t sum(const Bytes& bytes, std::size_t begin, std::size_t end) {
    std::uint8_t total = 0;
    for (std::size_t i = begin; i < end; ++i) {
        total = static_cast<std::uint8_t>(total + bytes[i]);
    }
    return total;
}

// Makes bytes [begin, end) sum to zero by adjusting the byte at `checksum`.
inline void fix_checksum(Bytes& bytes, std::size_t checksum, std::size_t begin, std::size_t end) {
    bytes[checksum] = 0;
    bytes[checksum] = static_cast<std::uint8_t>(-sum(bytes, begin, end));
}

inline void fix_table_checksum(Bytes& table) {
    fix_checksum(table, 9, 0, table.size());
}

inline Bytes rsdp_v1(std::uint32_t rsdt, std::uint8_t revision = 0) {
    Bytes bytes = {'R', 'S', 'D', ' ', 'P', 'T', 'R', ' ', 0, 'B', 'O', 'C', 'H', 'S', ' '};
    bytes.push_back(revision);
    put(bytes, rsdt, 4);
    fix_checksum(bytes, 8, 0, 20);
    return bytes;
}

inline Bytes rsdp_v2(std::uint32_t rsdt, std::uint64_t xsdt, std::uint32_t length = 36) {
    Bytes bytes = rsdp_v1(rsdt, 2);
    put(bytes, length, 4);
    put(bytes, xsdt, 8);
    bytes.resize(length, 0);
    fix_checksum(bytes, 8, 0, 20);
    fix_checksum(bytes, 32, 0, length);
    return bytes;
}

// A System Description Table: header, body, length and checksum filled in.
inline Bytes sdt(const char* signature, const Bytes& body, std::uint8_t revision = 1) {
    Bytes table(signature, signature + 4);
    put(table, 36 + body.size(), 4);
    table.push_back(revision);
    table.push_back(0);  // checksum
    for (char c : std::string("BOCHS BXPC    ")) {
        table.push_back(static_cast<std::uint8_t>(c));
    }
    put(table, 1, 4);           // OEM revision
    put(table, 0x43505842, 4);  // creator "BXPC"
    put(table, 1, 4);
    table.insert(table.end(), body.begin(), body.end());
    fix_table_checksum(table);
    return table;
}

inline Bytes rsdt(std::initializer_list<std::uint32_t> addresses) {
    Bytes body;
    for (std::uint32_t address : addresses) {
        put(body, address, 4);
    }
    return sdt("RSDT", body);
}

inline Bytes xsdt(std::initializer_list<std::uint64_t> addresses) {
    Bytes body;
    for (std::uint64_t address : addresses) {
        put(body, address, 8);
    }
    return sdt("XSDT", body);
}

// MADT entries.
inline Bytes lapic(std::uint8_t uid, std::uint8_t apic_id, std::uint32_t flags) {
    Bytes e = {0, 8, uid, apic_id};
    put(e, flags, 4);
    return e;
}
inline Bytes io_apic(std::uint8_t id, std::uint32_t address, std::uint32_t gsi_base) {
    Bytes e = {1, 12, id, 0};
    put(e, address, 4);
    put(e, gsi_base, 4);
    return e;
}
inline Bytes override_entry(std::uint8_t source, std::uint32_t gsi, std::uint16_t flags) {
    Bytes e = {2, 10, 0, source};
    put(e, gsi, 4);
    put(e, flags, 2);
    return e;
}
inline Bytes lapic_nmi(std::uint8_t uid, std::uint16_t flags, std::uint8_t lint) {
    Bytes e = {4, 6, uid};
    put(e, flags, 2);
    e.push_back(lint);
    return e;
}
inline Bytes lapic_address_override(std::uint64_t address) {
    Bytes e = {5, 12, 0, 0};
    put(e, address, 8);
    return e;
}
inline Bytes x2apic(std::uint32_t x2apic_id, std::uint32_t flags, std::uint32_t uid) {
    Bytes e = {9, 16, 0, 0};
    put(e, x2apic_id, 4);
    put(e, flags, 4);
    put(e, uid, 4);
    return e;
}
inline Bytes x2apic_nmi(std::uint16_t flags, std::uint32_t uid, std::uint8_t lint) {
    Bytes e = {0xA, 12};
    put(e, flags, 2);
    put(e, uid, 4);
    e.push_back(lint);
    e.insert(e.end(), {0, 0, 0});
    return e;
}

constexpr std::uint32_t kEnabled = 1;
constexpr std::uint32_t kOnlineCapable = 2;

inline Bytes madt(const std::vector<Bytes>& entries, std::uint32_t lapic_address = 0xFEE00000,
                  std::uint32_t flags = 1) {
    Bytes body;
    put(body, lapic_address, 4);
    put(body, flags, 4);
    for (const Bytes& entry : entries) {
        body.insert(body.end(), entry.begin(), entry.end());
    }
    return sdt("APIC", body);
}

// What QEMU's pc machine with -smp 4 builds: four processors, one I/O APIC, the ISA overrides
// and one LINT1 NMI for every processor.
inline std::vector<Bytes> qemu_madt_entries() {
    return {lapic(0, 0, kEnabled),       lapic(1, 1, kEnabled),     lapic(2, 2, kEnabled),
            lapic(3, 3, kEnabled),       io_apic(0, 0xFEC00000, 0), override_entry(0, 2, 0),
            override_entry(5, 5, 0xD),   override_entry(9, 9, 0xD), override_entry(10, 10, 0xD),
            override_entry(11, 11, 0xD), lapic_nmi(0xFF, 0, 1)};
}

// A FADT of `length` bytes (116: ACPI 1.0, 244: ACPI 2.0, 276: ACPI 6) with the fields power-off
// uses; the extended fields are written only when the length holds them.
struct FadtFields {
    std::uint32_t length = 244;
    std::uint32_t dsdt = 0;
    std::uint64_t x_dsdt = 0;
    std::uint32_t pm1a_cnt = 0x604;
    std::uint32_t pm1b_cnt = 0;
    std::uint8_t x_pm1a_space = 1;
    std::uint64_t x_pm1a_cnt = 0;
    std::uint64_t x_pm1b_cnt = 0;
    std::uint16_t sci = 9;
    std::uint32_t smi_cmd = 0xB2;
    std::uint8_t acpi_enable = 0xF1;
    std::uint32_t flags = 0;
};

inline Bytes fadt(const FadtFields& f) {
    Bytes body(276 - 36, 0);
    auto field = [&](std::size_t offset, std::uint64_t value, std::size_t size) {
        set(body, offset - 36, value, size);
    };
    field(40, f.dsdt, 4);
    field(46, f.sci, 2);
    field(48, f.smi_cmd, 4);
    field(52, f.acpi_enable, 1);
    field(56, 0x600, 4);  // PM1a_EVT_BLK
    field(64, f.pm1a_cnt, 4);
    field(68, f.pm1b_cnt, 4);
    field(89, 2, 1);  // PM1_CNT_LEN
    field(112, f.flags, 4);
    field(140, f.x_dsdt, 8);
    field(172, f.x_pm1a_space, 1);
    field(173, 16, 1);
    field(176, f.x_pm1a_cnt, 8);
    field(184, 1, 1);
    field(185, 16, 1);
    field(188, f.x_pm1b_cnt, 8);
    body.resize(f.length - 36);
    return sdt("FACP", body, f.length >= 244 ? 3 : 1);
}

inline Bytes name_chars(const char* text) {
    return Bytes(text, text + std::strlen(text));
}

inline Bytes concat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes& part : parts) {
        out.insert(out.end(), part.begin(), part.end());
    }
    return out;
}

// PkgLength for a package body of `body` bytes, in `bytes` encoding bytes (1-4): the encoded
// value counts the PkgLength bytes themselves.
inline Bytes pkg_length(std::size_t body, std::size_t bytes) {
    const std::size_t length = body + bytes;
    if (bytes == 1) {
        REQUIRE(length < 64);
        return {static_cast<std::uint8_t>(length)};
    }
    Bytes out = {static_cast<std::uint8_t>(((bytes - 1) << 6) | (length & 0x0F))};
    for (std::size_t i = 1; i < bytes; ++i) {
        out.push_back(static_cast<std::uint8_t>(length >> (4 + 8 * (i - 1))));
    }
    return out;
}

// `Name (_S5_, Package (n) { elements })` with the given element encodings.
inline Bytes s5_package(const Bytes& elements, std::uint8_t count = 4, std::size_t length_bytes = 1,
                        bool root_prefix = false) {
    Bytes body = {count};
    body.insert(body.end(), elements.begin(), elements.end());
    Bytes out = {0x08};
    if (root_prefix) {
        out.push_back('\\');
    }
    return concat({out, name_chars("_S5_"), {0x12}, pkg_length(body.size(), length_bytes), body});
}

// A DSDT with some AML around the \_S5_ definition, like a real one: a scope, a method and a
// string that mentions _S5_ without defining it.
inline Bytes dsdt_with(const Bytes& s5) {
    const Bytes before = concat({{0x10, 0x0B},
                                 name_chars("\\_SB_"),
                                 {0x08},
                                 name_chars("PCI0"),
                                 {0x0A, 0x01},
                                 {0x0D},
                                 name_chars("_S5_ in a string"),
                                 {0x00}});
    const Bytes after = concat({{0x14, 0x08}, name_chars("_PTS"), {0x01, 0xA4, 0x00}});
    return sdt("DSDT", concat({before, s5, after}), 1);
}

// ---- A whole machine ----

constexpr mm::PhysAddr kRsdpAddress = 0xF5A30;  // Where SeaBIOS puts it, inside 0xE0000-0xFFFFF.
constexpr mm::PhysAddr kRsdtAddress = 0x7FE1000;
constexpr mm::PhysAddr kXsdtAddress = 0x7FE1100;
constexpr mm::PhysAddr kMadtAddress = 0x7FE2000;
constexpr mm::PhysAddr kFadtAddress = 0x7FE3000;
constexpr mm::PhysAddr kDsdtAddress = 0x7FE4000;
constexpr mm::PhysAddr kHighDsdtAddress = 0x1'0000'4000;  // Above 4 GiB: only X_DSDT reaches it.

// A QEMU-like set of tables, each in its own region of exactly its size.
struct Machine {
    FakeMemory memory;
    Bytes rsdp;

    explicit Machine(bool with_xsdt = false,
                     std::vector<Bytes> madt_entries = qemu_madt_entries()) {
        rsdp = with_xsdt ? rsdp_v2(kRsdtAddress, kXsdtAddress) : rsdp_v1(kRsdtAddress);
        memory.add(kRsdtAddress, rsdt({kFadtAddress, kMadtAddress}));
        if (with_xsdt) {
            memory.add(kXsdtAddress, xsdt({kFadtAddress, kMadtAddress}));
        }
        memory.add(kMadtAddress, madt(madt_entries));
        FadtFields fields;
        fields.length = 116;
        fields.dsdt = kDsdtAddress;
        memory.add(kFadtAddress, fadt(fields));
        memory.add(kDsdtAddress, dsdt_with(s5_package({0x00, 0x00, 0x00, 0x00})));
    }

    // Puts the RSDP where the BIOS would, for the scan.
    void place_rsdp_in_bios_area() { memory.add(kRsdpAddress, rsdp); }

    lib::Result<acpi::Tables, Error> open() {
        auto found = acpi::find_rsdp(rsdp, memory.reader());
        if (!found.ok()) {
            return lib::fail(found.error());
        }
        return acpi::Tables::open(memory.reader(), found.value());
    }
};

// MadtInfo is about 15 KiB: keep it off the test's stack frames.
inline acpi::MadtInfo& madt_info() {
    static acpi::MadtInfo info;
    return info;
}

inline lib::Status<Error> read_madt(Machine& machine, acpi::MadtInfo& out) {
    auto tables = machine.open();
    if (!tables.ok()) {
        return lib::fail(tables.error());
    }
    return acpi::read_madt(tables.value(), out);
}

inline acpi::MadtInfo& parse_madt_entries(const std::vector<Bytes>& entries) {
    acpi::MadtInfo& info = madt_info();
    const Bytes table = madt(entries);
    REQUIRE(acpi::parse_madt(exact(table), info).ok());
    return info;
}

inline std::size_t count(const acpi::MadtInfo& info, MadtProblemKind kind) {
    std::size_t n = 0;
    for (const acpi::MadtProblem& problem : info.problems) {
        n += problem.kind == kind ? 1 : 0;
    }
    return n;
}

inline lib::Result<acpi::SleepType, Error> s5_of(const Bytes& s5) {
    return acpi::find_s5(exact(dsdt_with(s5)));
}

}  // namespace acpi_test
