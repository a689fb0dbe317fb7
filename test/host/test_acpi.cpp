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

namespace {

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
std::span<const std::uint8_t> exact(const Bytes& bytes) {
    static std::unique_ptr<std::uint8_t[]> kept;
    kept.reset(new std::uint8_t[bytes.size()]);
    if (!bytes.empty()) {
        std::memcpy(kept.get(), bytes.data(), bytes.size());
    }
    return {kept.get(), bytes.size()};
}

// ---- Table builders ----

void put(Bytes& bytes, std::uint64_t value, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
        bytes.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
    }
}

void set(Bytes& bytes, std::size_t at, std::uint64_t value, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
        bytes[at + i] = static_cast<std::uint8_t>(value >> (8 * i));
    }
}

std::uint8_t sum(const Bytes& bytes, std::size_t begin, std::size_t end) {
    std::uint8_t total = 0;
    for (std::size_t i = begin; i < end; ++i) {
        total = static_cast<std::uint8_t>(total + bytes[i]);
    }
    return total;
}

// Makes bytes [begin, end) sum to zero by adjusting the byte at `checksum`.
void fix_checksum(Bytes& bytes, std::size_t checksum, std::size_t begin, std::size_t end) {
    bytes[checksum] = 0;
    bytes[checksum] = static_cast<std::uint8_t>(-sum(bytes, begin, end));
}

void fix_table_checksum(Bytes& table) {
    fix_checksum(table, 9, 0, table.size());
}

Bytes rsdp_v1(std::uint32_t rsdt, std::uint8_t revision = 0) {
    Bytes bytes = {'R', 'S', 'D', ' ', 'P', 'T', 'R', ' ', 0, 'B', 'O', 'C', 'H', 'S', ' '};
    bytes.push_back(revision);
    put(bytes, rsdt, 4);
    fix_checksum(bytes, 8, 0, 20);
    return bytes;
}

Bytes rsdp_v2(std::uint32_t rsdt, std::uint64_t xsdt, std::uint32_t length = 36) {
    Bytes bytes = rsdp_v1(rsdt, 2);
    put(bytes, length, 4);
    put(bytes, xsdt, 8);
    bytes.resize(length, 0);
    fix_checksum(bytes, 8, 0, 20);
    fix_checksum(bytes, 32, 0, length);
    return bytes;
}

// A System Description Table: header, body, length and checksum filled in.
Bytes sdt(const char* signature, const Bytes& body, std::uint8_t revision = 1) {
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

Bytes rsdt(std::initializer_list<std::uint32_t> addresses) {
    Bytes body;
    for (std::uint32_t address : addresses) {
        put(body, address, 4);
    }
    return sdt("RSDT", body);
}

Bytes xsdt(std::initializer_list<std::uint64_t> addresses) {
    Bytes body;
    for (std::uint64_t address : addresses) {
        put(body, address, 8);
    }
    return sdt("XSDT", body);
}

// MADT entries.
Bytes lapic(std::uint8_t uid, std::uint8_t apic_id, std::uint32_t flags) {
    Bytes e = {0, 8, uid, apic_id};
    put(e, flags, 4);
    return e;
}
Bytes io_apic(std::uint8_t id, std::uint32_t address, std::uint32_t gsi_base) {
    Bytes e = {1, 12, id, 0};
    put(e, address, 4);
    put(e, gsi_base, 4);
    return e;
}
Bytes override_entry(std::uint8_t source, std::uint32_t gsi, std::uint16_t flags) {
    Bytes e = {2, 10, 0, source};
    put(e, gsi, 4);
    put(e, flags, 2);
    return e;
}
Bytes lapic_nmi(std::uint8_t uid, std::uint16_t flags, std::uint8_t lint) {
    Bytes e = {4, 6, uid};
    put(e, flags, 2);
    e.push_back(lint);
    return e;
}
Bytes lapic_address_override(std::uint64_t address) {
    Bytes e = {5, 12, 0, 0};
    put(e, address, 8);
    return e;
}
Bytes x2apic(std::uint32_t x2apic_id, std::uint32_t flags, std::uint32_t uid) {
    Bytes e = {9, 16, 0, 0};
    put(e, x2apic_id, 4);
    put(e, flags, 4);
    put(e, uid, 4);
    return e;
}
Bytes x2apic_nmi(std::uint16_t flags, std::uint32_t uid, std::uint8_t lint) {
    Bytes e = {0xA, 12};
    put(e, flags, 2);
    put(e, uid, 4);
    e.push_back(lint);
    e.insert(e.end(), {0, 0, 0});
    return e;
}

constexpr std::uint32_t kEnabled = 1;
constexpr std::uint32_t kOnlineCapable = 2;

Bytes madt(const std::vector<Bytes>& entries, std::uint32_t lapic_address = 0xFEE00000,
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
std::vector<Bytes> qemu_madt_entries() {
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

Bytes fadt(const FadtFields& f) {
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

Bytes name_chars(const char* text) {
    return Bytes(text, text + std::strlen(text));
}

Bytes concat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes& part : parts) {
        out.insert(out.end(), part.begin(), part.end());
    }
    return out;
}

// PkgLength for a package body of `body` bytes, in `bytes` encoding bytes (1-4): the encoded
// value counts the PkgLength bytes themselves.
Bytes pkg_length(std::size_t body, std::size_t bytes) {
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
Bytes s5_package(const Bytes& elements, std::uint8_t count = 4, std::size_t length_bytes = 1,
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
Bytes dsdt_with(const Bytes& s5) {
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
acpi::MadtInfo& madt_info() {
    static acpi::MadtInfo info;
    return info;
}

lib::Status<Error> read_madt(Machine& machine, acpi::MadtInfo& out) {
    auto tables = machine.open();
    if (!tables.ok()) {
        return lib::fail(tables.error());
    }
    return acpi::read_madt(tables.value(), out);
}

acpi::MadtInfo& parse_madt_entries(const std::vector<Bytes>& entries) {
    acpi::MadtInfo& info = madt_info();
    const Bytes table = madt(entries);
    REQUIRE(acpi::parse_madt(exact(table), info).ok());
    return info;
}

std::size_t count(const acpi::MadtInfo& info, MadtProblemKind kind) {
    std::size_t n = 0;
    for (const acpi::MadtProblem& problem : info.problems) {
        n += problem.kind == kind ? 1 : 0;
    }
    return n;
}

lib::Result<acpi::SleepType, Error> s5_of(const Bytes& s5) {
    return acpi::find_s5(exact(dsdt_with(s5)));
}

}  // namespace

// ==== RSDP ====

TEST_CASE("acpi: an ACPI 1.0 RSDP copy is accepted") {
    auto rsdp = acpi::parse_rsdp(exact(rsdp_v1(0x7FE1000)));
    REQUIRE(rsdp.ok());
    CHECK(rsdp.value().revision == 0);
    CHECK_FALSE(rsdp.value().extended);
    CHECK(rsdp.value().rsdt_address == 0x7FE1000);
    CHECK(rsdp.value().xsdt_address == 0);
    CHECK(std::string(rsdp.value().oem_id, 6) == "BOCHS ");
    CHECK(rsdp.value().source == acpi::RsdpSource::loader_copy);
}

TEST_CASE("acpi: an ACPI 2.0 RSDP copy gives the XSDT address") {
    auto rsdp = acpi::parse_rsdp(exact(rsdp_v2(0x7FE1000, 0x1'2345'6000)));
    REQUIRE(rsdp.ok());
    CHECK(rsdp.value().revision == 2);
    CHECK(rsdp.value().extended);
    CHECK(rsdp.value().xsdt_address == 0x1'2345'6000);
}

TEST_CASE("acpi: malformed RSDP copies are rejected with the reason") {
    SUBCASE("shorter than 20 bytes") {
        Bytes bytes = rsdp_v1(0x1000);
        bytes.resize(19);
        CHECK(acpi::parse_rsdp(exact(bytes)).error() == Error::truncated);
        CHECK(acpi::parse_rsdp(exact(Bytes{})).error() == Error::truncated);
    }
    SUBCASE("wrong signature") {
        Bytes bytes = rsdp_v1(0x1000);
        bytes[3] = '_';
        fix_checksum(bytes, 8, 0, 20);
        CHECK(acpi::parse_rsdp(exact(bytes)).error() == Error::bad_rsdp_signature);
    }
    SUBCASE("bad checksum") {
        Bytes bytes = rsdp_v1(0x1000);
        bytes[16] ^= 0x10;
        CHECK(acpi::parse_rsdp(exact(bytes)).error() == Error::bad_rsdp_checksum);
    }
    SUBCASE("bad extended checksum") {
        Bytes bytes = rsdp_v2(0x1000, 0x2000);
        bytes[24] ^= 0x10;  // The XSDT address: outside the 20-byte checksum.
        CHECK(acpi::parse_rsdp(exact(bytes)).error() == Error::bad_extended_rsdp_checksum);
    }
    SUBCASE("extended length below 36") {
        Bytes bytes = rsdp_v2(0x1000, 0x2000);
        set(bytes, 20, 35, 4);
        fix_checksum(bytes, 32, 0, 36);
        CHECK(acpi::parse_rsdp(exact(bytes)).error() == Error::bad_rsdp_length);
    }
    SUBCASE("absurd extended length") {
        Bytes bytes = rsdp_v2(0x1000, 0x2000);
        set(bytes, 20, 0xFFFFFFFF, 4);
        CHECK(acpi::parse_rsdp(exact(bytes)).error() == Error::bad_rsdp_length);
    }
}

TEST_CASE("acpi: a revision-2 RSDP cut short is used as an ACPI 1.0 one") {
    SUBCASE("cut to 20 bytes, like the Multiboot2 old-RSDP tag") {
        Bytes bytes = rsdp_v2(0x1000, 0x2000);
        bytes.resize(20);
        auto rsdp = acpi::parse_rsdp(exact(bytes));
        REQUIRE(rsdp.ok());
        CHECK(rsdp.value().revision == 2);
        CHECK_FALSE(rsdp.value().extended);
        CHECK(rsdp.value().rsdt_address == 0x1000);
        CHECK(rsdp.value().xsdt_address == 0);
    }
    SUBCASE("length beyond the 36 bytes a loader copies") {
        Bytes bytes = rsdp_v2(0x1000, 0x2000, 40);
        bytes.resize(36);
        auto rsdp = acpi::parse_rsdp(exact(bytes));
        REQUIRE(rsdp.ok());
        CHECK_FALSE(rsdp.value().extended);
        // The full 40 bytes are accepted.
        auto full = acpi::parse_rsdp(exact(rsdp_v2(0x1000, 0x2000, 40)));
        REQUIRE(full.ok());
        CHECK(full.value().extended);
    }
}

TEST_CASE("acpi: the RSDP is found in the first KiB of the EBDA") {
    FakeMemory memory;
    Bytes bda(0x100, 0);
    set(bda, 0x0E, 0x9FC0, 2);  // EBDA segment: 0x9FC00.
    memory.add(0x400, bda);
    Bytes ebda(1024, 0xAB);
    const Bytes rsdp = rsdp_v2(0x7FE1000, 0x7FE1100);
    std::memcpy(&ebda[0x3D0], rsdp.data(), rsdp.size());
    memory.add(0x9FC00, ebda);

    auto found = acpi::scan_for_rsdp(memory.reader());
    REQUIRE(found.ok());
    CHECK(found.value().source == acpi::RsdpSource::ebda);
    CHECK(found.value().address == 0x9FFD0);
    CHECK(found.value().extended);
    CHECK(found.value().xsdt_address == 0x7FE1100);
}

TEST_CASE("acpi: the RSDP is found in 0xE0000-0xFFFFF, skipping candidates that fail") {
    FakeMemory memory;
    Bytes area(0x20000, 0);
    // A stale copy with a bad checksum comes first, then one off the 16-byte grid.
    Bytes stale = rsdp_v1(0xDEAD000);
    stale[16] ^= 1;
    std::memcpy(&area[0x100], stale.data(), stale.size());
    const Bytes good = rsdp_v1(0x7FE1000);
    std::memcpy(&area[0x208], good.data(), good.size());
    std::memcpy(&area[0x15A30], good.data(), good.size());
    memory.add(0xE0000, area);

    auto found = acpi::scan_for_rsdp(memory.reader());
    REQUIRE(found.ok());
    CHECK(found.value().source == acpi::RsdpSource::bios_area);
    CHECK(found.value().address == 0xF5A30);
    CHECK(found.value().rsdt_address == 0x7FE1000);
}

TEST_CASE("acpi: a scanned revision-2 RSDP whose extended part is unreadable is ACPI 1.0") {
    // At 0xFFFE0 the first 20 bytes lie below 1 MiB, where the readable area ends, and the
    // extended part does not.
    FakeMemory memory;
    Bytes area(0x20000, 0);
    const Bytes rsdp = rsdp_v2(0x7FE1000, 0x7FE1100);
    std::memcpy(&area[0x1FFE0], rsdp.data(), 32);
    memory.add(0xE0000, area);
    auto found = acpi::scan_for_rsdp(memory.reader());
    REQUIRE(found.ok());
    CHECK(found.value().address == 0xFFFE0);
    CHECK(found.value().revision == 2);
    CHECK_FALSE(found.value().extended);
    CHECK(found.value().rsdt_address == 0x7FE1000);
}

TEST_CASE("acpi: no RSDP anywhere is no_rsdp") {
    FakeMemory memory;
    SUBCASE("nothing readable at all") {
        CHECK(acpi::scan_for_rsdp(memory.reader()).error() == Error::no_rsdp);
    }
    SUBCASE("BIOS areas readable but empty") {
        Bytes bda(0x100, 0);
        set(bda, 0x0E, 0x9FC0, 2);
        memory.add(0x400, bda);
        memory.add(0x9FC00, Bytes(1024, 0));
        memory.add(0xE0000, Bytes(0x20000, 0xFF));
        CHECK(acpi::scan_for_rsdp(memory.reader()).error() == Error::no_rsdp);
    }
    SUBCASE("an RSDP past the EBDA's first KiB is not searched for") {
        Bytes bda(0x100, 0);
        set(bda, 0x0E, 0x9000, 2);
        memory.add(0x400, bda);
        Bytes ebda(2048, 0);
        const Bytes rsdp = rsdp_v1(0x1000);
        std::memcpy(&ebda[1024], rsdp.data(), rsdp.size());
        memory.add(0x90000, ebda);
        CHECK(acpi::scan_for_rsdp(memory.reader()).error() == Error::no_rsdp);
    }
}

TEST_CASE("acpi: find_rsdp prefers the loader's copy and falls back to the scan") {
    FakeMemory memory;
    memory.add(kRsdpAddress, rsdp_v1(0x2000));
    SUBCASE("valid copy") {
        auto found = acpi::find_rsdp(rsdp_v1(0x1000), memory.reader());
        REQUIRE(found.ok());
        CHECK(found.value().rsdt_address == 0x1000);
        CHECK(found.value().source == acpi::RsdpSource::loader_copy);
    }
    SUBCASE("no copy") {
        auto found = acpi::find_rsdp({}, memory.reader());
        REQUIRE(found.ok());
        CHECK(found.value().rsdt_address == 0x2000);
        CHECK(found.value().address == kRsdpAddress);
    }
    SUBCASE("corrupt copy") {
        Bytes copy = rsdp_v1(0x1000);
        copy[17] ^= 1;
        auto found = acpi::find_rsdp(copy, memory.reader());
        REQUIRE(found.ok());
        CHECK(found.value().rsdt_address == 0x2000);
    }
    SUBCASE("corrupt copy and nothing to scan: the copy's error") {
        FakeMemory empty;
        Bytes copy = rsdp_v1(0x1000);
        copy[17] ^= 1;
        CHECK(acpi::find_rsdp(copy, empty.reader()).error() == Error::bad_rsdp_checksum);
        CHECK(acpi::find_rsdp({}, empty.reader()).error() == Error::no_rsdp);
    }
}

// ==== Root table ====

TEST_CASE("acpi: an ACPI 1.0 machine opens its RSDT and finds tables by signature") {
    Machine machine;
    auto tables = machine.open();
    REQUIRE(tables.ok());
    const acpi::Tables& t = tables.value();
    CHECK(t.root_kind() == acpi::RootKind::rsdt);
    CHECK(t.root().address == kRsdtAddress);
    CHECK_FALSE(t.xsdt_rejected());
    CHECK(t.count() == 2);
    CHECK(t.address_at(0).value() == kFadtAddress);
    CHECK(t.address_at(1).value() == kMadtAddress);
    CHECK(t.address_at(2).error() == Error::table_not_found);
    auto madt = t.find(acpi::kMadtSignature);
    REQUIRE(madt.ok());
    CHECK(madt.value().address == kMadtAddress);
    CHECK(madt.value().has_signature(acpi::kMadtSignature));
    CHECK(t.find(acpi::kMadtSignature, 1).error() == Error::table_not_found);
    CHECK(t.find(acpi::Signature("HPET")).error() == Error::table_not_found);
    auto fadt = t.table_at(0);
    REQUIRE(fadt.ok());
    CHECK(fadt.value().has_signature(acpi::kFadtSignature));
    CHECK(fadt.value().header.length == 116);
}

TEST_CASE("acpi: an ACPI 2.0 machine uses its XSDT") {
    Machine machine(true);
    auto tables = machine.open();
    REQUIRE(tables.ok());
    CHECK(tables.value().root_kind() == acpi::RootKind::xsdt);
    CHECK(tables.value().root().address == kXsdtAddress);
    CHECK(tables.value().count() == 2);
    CHECK(tables.value().find(acpi::kMadtSignature).ok());
}

TEST_CASE("acpi: XSDT entries above 4 GiB are followed") {
    Machine machine(true);
    machine.memory.at(kXsdtAddress) = xsdt({kFadtAddress, 0x1'0000'2000});
    machine.memory.add(0x1'0000'2000, madt(qemu_madt_entries()));
    auto tables = machine.open();
    REQUIRE(tables.ok());
    auto madt = tables.value().find(acpi::kMadtSignature);
    REQUIRE(madt.ok());
    CHECK(madt.value().address == 0x1'0000'2000);
}

TEST_CASE("acpi: find returns the n-th table of a signature and skips empty entries") {
    FakeMemory memory;
    memory.add(0x1000, rsdt({0x2000, 0, 0x3000, 0x9999000, 0x4000}));
    memory.add(0x2000, sdt("SSDT", {1, 2, 3}));
    memory.add(0x3000, sdt("HPET", {}));
    memory.add(0x4000, sdt("SSDT", {4, 5}));
    acpi::Rsdp rsdp;
    rsdp.rsdt_address = 0x1000;
    auto tables = acpi::Tables::open(memory.reader(), rsdp);
    REQUIRE(tables.ok());
    const acpi::Signature ssdt("SSDT");
    CHECK(tables.value().find(ssdt, 0).value().address == 0x2000);
    CHECK(tables.value().find(ssdt, 1).value().address == 0x4000);
    CHECK(tables.value().find(ssdt, 2).error() == Error::table_not_found);
    CHECK(tables.value().table_at(1).error() == Error::table_not_found);
    CHECK(tables.value().table_at(3).error() == Error::table_unreadable);
}

TEST_CASE("acpi: root table bytes short of a whole entry are ignored") {
    FakeMemory memory;
    Bytes root = rsdt({0x2000});
    root.insert(root.end(), {0x00, 0x30});
    set(root, 4, root.size(), 4);
    fix_table_checksum(root);
    memory.add(0x1000, root);
    acpi::Rsdp rsdp;
    rsdp.rsdt_address = 0x1000;
    auto tables = acpi::Tables::open(memory.reader(), rsdp);
    REQUIRE(tables.ok());
    CHECK(tables.value().count() == 1);
}

TEST_CASE("acpi: a bad XSDT falls back to the RSDT, a bad RSDT is an error") {
    SUBCASE("XSDT checksum") {
        Machine machine(true);
        machine.memory.at(kXsdtAddress)[20] ^= 1;
        auto tables = machine.open();
        REQUIRE(tables.ok());
        CHECK(tables.value().root_kind() == acpi::RootKind::rsdt);
        CHECK(tables.value().xsdt_rejected());
        CHECK(tables.value().xsdt_error() == Error::bad_root_checksum);
        CHECK(tables.value().find(acpi::kMadtSignature).ok());
    }
    SUBCASE("XSDT signature") {
        Machine machine(true);
        Bytes& x = machine.memory.at(kXsdtAddress);
        x[0] = 'R';
        fix_table_checksum(x);
        auto tables = machine.open();
        REQUIRE(tables.ok());
        CHECK(tables.value().xsdt_error() == Error::bad_root_signature);
    }
    SUBCASE("XSDT bad and no RSDT: the XSDT's error") {
        FakeMemory memory;
        Bytes x = xsdt({0x2000});
        x[30] ^= 1;
        memory.add(0x1000, x);
        acpi::Rsdp rsdp;
        rsdp.extended = true;
        rsdp.xsdt_address = 0x1000;
        CHECK(acpi::Tables::open(memory.reader(), rsdp).error() == Error::bad_root_checksum);
    }
    SUBCASE("RSDT checksum") {
        Machine machine;
        machine.memory.at(kRsdtAddress)[36] ^= 1;
        CHECK(machine.open().error() == Error::bad_root_checksum);
    }
    SUBCASE("RSDT signature") {
        Machine machine;
        Bytes& r = machine.memory.at(kRsdtAddress);
        r[0] = 'X';
        fix_table_checksum(r);
        CHECK(machine.open().error() == Error::bad_root_signature);
    }
    SUBCASE("RSDT unreadable") {
        acpi::Rsdp rsdp;
        rsdp.rsdt_address = 0x5000;
        FakeMemory memory;
        CHECK(acpi::Tables::open(memory.reader(), rsdp).error() == Error::table_unreadable);
    }
    SUBCASE("no root address") {
        FakeMemory memory;
        CHECK(acpi::Tables::open(memory.reader(), acpi::Rsdp{}).error() == Error::no_root_table);
    }
}

TEST_CASE("acpi: table lengths that are too small, too large or unreadable are rejected") {
    FakeMemory memory;
    Bytes table = sdt("TEST", Bytes(64, 0x5A));
    SUBCASE("below the header") {
        set(table, 4, 35, 4);
        fix_table_checksum(table);
        memory.add(0x1000, table);
        CHECK(acpi::map_table(memory.reader(), 0x1000).error() == Error::bad_table_length);
    }
    SUBCASE("absurd") {
        set(table, 4, acpi::kMaxTableLength + 1, 4);
        memory.add(0x1000, table);
        CHECK(acpi::map_table(memory.reader(), 0x1000).error() == Error::bad_table_length);
    }
    SUBCASE("longer than readable memory") {
        set(table, 4, table.size() + 1, 4);
        memory.add(0x1000, table);
        CHECK(acpi::map_table(memory.reader(), 0x1000).error() == Error::table_unreadable);
    }
    SUBCASE("header unreadable") {
        table.resize(20);
        memory.add(0x1000, table);
        CHECK(acpi::map_table(memory.reader(), 0x1000).error() == Error::table_unreadable);
    }
    SUBCASE("near the top of the address space") {
        CHECK(acpi::map_table(memory.reader(), ~mm::PhysAddr{0} - 10).error() ==
              Error::table_unreadable);
    }
    SUBCASE("valid") {
        memory.add(0x1000, table);
        auto bytes = acpi::map_table(memory.reader(), 0x1000);
        REQUIRE(bytes.ok());
        CHECK(bytes.value().size() == 100);
    }
}

TEST_CASE("acpi: a table whose length changes between two reads is rejected") {
    FakeMemory memory;
    memory.add(0x1000, sdt("TEST", Bytes(64, 0)));
    memory.before_map = [](FakeMemory& self, mm::PhysAddr, std::size_t length) {
        if (length > 36) {
            set(self.at(0x1000), 4, 90, 4);  // Shorter than what was just mapped.
        }
    };
    CHECK(acpi::map_table(memory.reader(), 0x1000).error() == Error::bad_table_length);
}

TEST_CASE("acpi: the memory reader is never asked for an empty or wrapping range") {
    FakeMemory memory;
    memory.add(0, Bytes(16, 0));
    const acpi::PhysicalMemory reader = memory.reader();
    CHECK(reader.read(0, 0) == nullptr);
    CHECK(reader.read(~mm::PhysAddr{0}, 2) == nullptr);
    CHECK(reader.read(2, ~std::size_t{0}) == nullptr);
    CHECK(memory.map_calls() == 0);
    CHECK(reader.read(~mm::PhysAddr{0}, 1) == nullptr);  // Asked, and refused by the fake.
    CHECK(memory.map_calls() == 1);
    CHECK(acpi::PhysicalMemory{}.read(0, 1) == nullptr);
}

// ==== Every checksum in the chain ====

TEST_CASE("acpi: each corrupted checksum is reported where it breaks the chain") {
    SUBCASE("RSDP") {
        Machine machine(true);
        machine.rsdp[12] ^= 1;
        CHECK(machine.open().error() == Error::bad_rsdp_checksum);
    }
    SUBCASE("extended RSDP") {
        Machine machine(true);
        machine.rsdp[34] ^= 1;  // Reserved bytes: covered by the extended checksum only.
        CHECK(machine.open().error() == Error::bad_extended_rsdp_checksum);
    }
    SUBCASE("RSDT") {
        Machine machine;
        machine.memory.at(kRsdtAddress)[9] ^= 1;
        CHECK(machine.open().error() == Error::bad_root_checksum);
    }
    SUBCASE("XSDT, with no RSDT behind it") {
        Machine machine(true);
        machine.memory.at(kXsdtAddress)[9] ^= 1;
        machine.memory.at(kRsdtAddress)[9] ^= 1;
        CHECK(machine.open().error() == Error::bad_root_checksum);
    }
    SUBCASE("MADT") {
        Machine machine(true);
        machine.memory.at(kMadtAddress)[50] ^= 1;
        CHECK(read_madt(machine, madt_info()).error() == Error::bad_madt_checksum);
        CHECK(madt_info().cpus.empty());
    }
    SUBCASE("FADT") {
        Machine machine;
        machine.memory.at(kFadtAddress)[70] ^= 1;
        auto tables = machine.open();
        REQUIRE(tables.ok());
        CHECK(acpi::read_power_off(tables.value()).error() == Error::bad_fadt_checksum);
    }
    SUBCASE("DSDT") {
        Machine machine;
        machine.memory.at(kDsdtAddress)[40] ^= 1;
        auto tables = machine.open();
        REQUIRE(tables.ok());
        CHECK(acpi::read_power_off(tables.value()).error() == Error::bad_dsdt_checksum);
    }
}

// ==== MADT ====

TEST_CASE("acpi: QEMU's MADT gives four CPUs, the I/O APIC and the ISA overrides") {
    Machine machine;
    acpi::MadtInfo& info = madt_info();
    REQUIRE(read_madt(machine, info).ok());
    CHECK(info.local_apic_address == 0xFEE00000);
    CHECK_FALSE(info.local_apic_address_overridden);
    CHECK(info.pcat_compat);
    REQUIRE(info.cpus.size() == 4);
    for (std::uint32_t i = 0; i < 4; ++i) {
        CHECK(info.cpus[i].apic_id == i);
        CHECK(info.cpus[i].acpi_uid == i);
        CHECK(info.cpus[i].enabled);
        CHECK_FALSE(info.cpus[i].online_capable);
        CHECK_FALSE(info.cpus[i].x2apic_entry);
    }
    CHECK(acpi::count_cpus_to_start(info) == 4);
    REQUIRE(info.io_apics.size() == 1);
    CHECK(info.io_apics[0].id == 0);
    CHECK(info.io_apics[0].address == 0xFEC00000);
    CHECK(info.io_apics[0].gsi_base == 0);
    REQUIRE(info.overrides.size() == 5);
    CHECK(info.overrides[0].source_irq == 0);
    CHECK(info.overrides[0].gsi == 2);
    CHECK(info.overrides[0].flags == 0);
    CHECK(info.overrides[4].source_irq == 11);
    CHECK(info.overrides[4].gsi == 11);
    CHECK(info.overrides[4].flags == 0xD);
    REQUIRE(info.nmis.size() == 1);
    CHECK(info.nmis[0].acpi_uid == acpi::LocalApicNmi::kAllProcessors);
    CHECK(info.nmis[0].lint == 1);
    CHECK_FALSE(info.nmis[0].x2apic_entry);
    CHECK(info.problems.empty());
    CHECK(info.dropped_entries == 0);
}

TEST_CASE("acpi: the MADT is read the same through the XSDT") {
    Machine machine(true);
    REQUIRE(read_madt(machine, madt_info()).ok());
    CHECK(madt_info().cpus.size() == 4);
}

TEST_CASE("acpi: x2APIC entries give 32-bit APIC ids and UIDs") {
    acpi::MadtInfo& info = parse_madt_entries({lapic(0, 0, kEnabled), x2apic(0x100, kEnabled, 256),
                                               x2apic(0x12345, kOnlineCapable, 0xABCDEF),
                                               x2apic_nmi(0x5, 0xFFFFFFFF, 1),
                                               x2apic(0x200, kEnabled | kOnlineCapable, 512)});
    REQUIRE(info.cpus.size() == 4);
    CHECK_FALSE(info.cpus[0].x2apic_entry);
    CHECK(info.cpus[1].apic_id == 0x100);
    CHECK(info.cpus[1].acpi_uid == 256);
    CHECK(info.cpus[1].enabled);
    CHECK(info.cpus[1].x2apic_entry);
    CHECK(info.cpus[2].apic_id == 0x12345);
    CHECK(info.cpus[2].acpi_uid == 0xABCDEF);
    CHECK_FALSE(info.cpus[2].enabled);
    CHECK(info.cpus[2].online_capable);
    REQUIRE(info.nmis.size() == 1);
    CHECK(info.nmis[0].acpi_uid == acpi::LocalApicNmi::kAllProcessors);
    CHECK(info.nmis[0].flags == 0x5);
    CHECK(info.nmis[0].x2apic_entry);
    CHECK(info.cpus[3].enabled);
    CHECK_FALSE(info.cpus[3].online_capable);  // Reserved for enabled processors.
    CHECK(acpi::count_cpus_to_start(info) == 3);
    CHECK(acpi::count_cpus_to_start(info, true) == 4);
}

TEST_CASE("acpi: -smp 4,maxcpus=8 lists four enabled and four disabled CPUs") {
    std::vector<Bytes> entries;
    for (std::uint8_t i = 0; i < 8; ++i) {
        entries.push_back(lapic(i, i, i < 4 ? kEnabled : 0));
    }
    acpi::MadtInfo& info = parse_madt_entries(entries);
    REQUIRE(info.cpus.size() == 8);
    CHECK(acpi::count_cpus_to_start(info) == 4);
    CHECK(acpi::count_cpus_to_start(info, true) == 4);  // Disabled without online-capable: never.
    CHECK(acpi::should_start(info.cpus[3]));
    CHECK_FALSE(acpi::should_start(info.cpus[4], true));
}

TEST_CASE("acpi: online-capable CPUs are started only when asked") {
    std::vector<Bytes> entries;
    for (std::uint8_t i = 0; i < 8; ++i) {
        entries.push_back(lapic(i, i, i < 4 ? kEnabled : kOnlineCapable));
    }
    // The online-capable bit is reserved for enabled processors: it does not count there.
    entries.push_back(lapic(8, 8, kEnabled | kOnlineCapable));
    acpi::MadtInfo& info = parse_madt_entries(entries);
    REQUIRE(info.cpus.size() == 9);
    CHECK(info.cpus[4].online_capable);
    CHECK_FALSE(info.cpus[8].online_capable);
    CHECK(acpi::count_cpus_to_start(info) == 5);
    CHECK(acpi::count_cpus_to_start(info, true) == 9);
}

TEST_CASE("acpi: sparse APIC ids are kept as listed") {
    acpi::MadtInfo& info =
        parse_madt_entries({lapic(0, 0, kEnabled), lapic(1, 1, kEnabled), lapic(2, 2, kEnabled),
                            lapic(3, 4, kEnabled), lapic(4, 5, kEnabled), lapic(5, 6, kEnabled)});
    REQUIRE(info.cpus.size() == 6);
    const std::uint32_t expected[] = {0, 1, 2, 4, 5, 6};
    for (std::size_t i = 0; i < 6; ++i) {
        CHECK(info.cpus[i].apic_id == expected[i]);
        CHECK(info.cpus[i].acpi_uid == i);
    }
    CHECK(info.problems.empty());
}

TEST_CASE("acpi: duplicate APIC ids are reported and the first entry counts") {
    acpi::MadtInfo& info =
        parse_madt_entries({lapic(0, 0, kEnabled), lapic(1, 1, kEnabled), lapic(2, 1, 0),
                            x2apic(0, kEnabled, 7), lapic(3, 3, kEnabled)});
    REQUIRE(info.cpus.size() == 3);
    CHECK(info.cpus[1].acpi_uid == 1);
    CHECK(info.cpus[1].enabled);
    CHECK(info.cpus[2].apic_id == 3);
    CHECK(count(info, MadtProblemKind::duplicate_apic_id) == 2);
    CHECK(info.problems[0].offset == 44 + 16);
}

TEST_CASE("acpi: the local APIC address override replaces the 32-bit address") {
    acpi::MadtInfo& info =
        parse_madt_entries({lapic(0, 0, kEnabled), lapic_address_override(0x1'FEE0'0000),
                            lapic_address_override(0x1234)});
    CHECK(info.local_apic_address == 0x1'FEE0'0000);
    CHECK(info.local_apic_address_overridden);
    CHECK(count(info, MadtProblemKind::duplicate_address_override) == 1);
}

TEST_CASE("acpi: a MADT without the PC-AT flag says so") {
    acpi::MadtInfo& info = madt_info();
    REQUIRE(acpi::parse_madt(exact(madt({lapic(0, 0, kEnabled)}, 0xFEE00000, 0)), info).ok());
    CHECK_FALSE(info.pcat_compat);
}

TEST_CASE("acpi: MADT entries of unknown types are skipped by their length") {
    const Bytes gicc = concat({{0x0B, 20}, Bytes(18, 0x77)});
    const Bytes future = {0x80, 3, 0x99};
    acpi::MadtInfo& info = parse_madt_entries({lapic(0, 0, kEnabled),
                                               gicc,
                                               future,
                                               {3, 8, 0, 0, 0, 0, 0, 0},  // NMI source
                                               lapic(1, 1, kEnabled)});
    CHECK(info.cpus.size() == 2);
    CHECK(info.problems.empty());
}

TEST_CASE("acpi: longer MADT entries are read by their known prefix") {
    Bytes long_lapic = lapic(0, 7, kEnabled);
    long_lapic[1] = 12;
    long_lapic.insert(long_lapic.end(), {1, 2, 3, 4});
    acpi::MadtInfo& info = parse_madt_entries({long_lapic, lapic(1, 8, kEnabled)});
    REQUIRE(info.cpus.size() == 2);
    CHECK(info.cpus[0].apic_id == 7);
    CHECK(info.cpus[1].apic_id == 8);
}

TEST_CASE("acpi: malformed MADT entries become problems") {
    SUBCASE("length 0 stops parsing and keeps what was read") {
        acpi::MadtInfo& info =
            parse_madt_entries({lapic(0, 0, kEnabled), {0, 0, 0, 0}, lapic(1, 1, kEnabled)});
        CHECK(info.cpus.size() == 1);
        REQUIRE(info.problems.size() == 1);
        CHECK(info.problems[0].kind == MadtProblemKind::entry_length_too_small);
        CHECK(info.problems[0].offset == 52);
    }
    SUBCASE("length 1 likewise") {
        acpi::MadtInfo& info = parse_madt_entries({{0, 1}, lapic(1, 1, kEnabled)});
        CHECK(info.cpus.empty());
        CHECK(count(info, MadtProblemKind::entry_length_too_small) == 1);
    }
    SUBCASE("an entry running past the end") {
        Bytes last = lapic(1, 1, kEnabled);
        last[1] = 9;
        acpi::MadtInfo& info = parse_madt_entries({lapic(0, 0, kEnabled), last});
        CHECK(info.cpus.size() == 1);
        CHECK(count(info, MadtProblemKind::entry_past_end) == 1);
    }
    SUBCASE("a stray byte after the last entry") {
        acpi::MadtInfo& info = parse_madt_entries({lapic(0, 0, kEnabled), {0x00}});
        CHECK(info.cpus.size() == 1);
        CHECK(count(info, MadtProblemKind::entry_past_end) == 1);
    }
    SUBCASE("entries too short for their type are skipped") {
        Bytes short_lapic = {0, 6, 1, 1, 1, 0};
        Bytes short_ioapic = {1, 8, 0, 0, 0, 0, 0xC0, 0xFE};
        Bytes short_x2apic = {9, 12, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0};
        Bytes short_override = {5, 8, 0, 0, 0, 0, 0xE0, 0xFE};
        acpi::MadtInfo& info = parse_madt_entries({short_lapic,
                                                   short_ioapic,
                                                   short_x2apic,
                                                   short_override,
                                                   {2, 6, 0, 0, 2, 0},
                                                   {4, 5, 0, 0, 0},
                                                   {0xA, 8, 0, 0, 0, 0, 0, 0},
                                                   lapic(2, 2, kEnabled)});
        REQUIRE(info.cpus.size() == 1);
        CHECK(info.cpus[0].apic_id == 2);
        CHECK(info.io_apics.empty());
        CHECK(info.overrides.empty());
        CHECK(info.nmis.empty());
        CHECK_FALSE(info.local_apic_address_overridden);
        CHECK(count(info, MadtProblemKind::entry_too_short) == 7);
    }
}

TEST_CASE("acpi: MADT capacities are enforced, counted and reported once") {
    std::vector<Bytes> entries;
    for (std::uint8_t i = 0; i < 20; ++i) {
        entries.push_back(io_apic(i, 0xFEC00000 + i * 0x1000u, i * 24u));
    }
    for (std::uint8_t i = 0; i < 40; ++i) {
        entries.push_back(override_entry(i, i, 0));
    }
    acpi::MadtInfo& info = parse_madt_entries(entries);
    CHECK(info.io_apics.size() == acpi::MadtInfo::kMaxIoApics);
    CHECK(info.overrides.size() == acpi::MadtInfo::kMaxOverrides);
    CHECK(info.dropped_entries == 4 + 8);
    CHECK(count(info, MadtProblemKind::too_many_io_apics) == 1);
    CHECK(count(info, MadtProblemKind::too_many_overrides) == 1);
}

TEST_CASE("acpi: 1100 x2APIC CPUs fill the CPU list and the rest are dropped") {
    std::vector<Bytes> entries;
    for (std::uint32_t i = 0; i < 1100; ++i) {
        entries.push_back(x2apic(i, kEnabled, i));
    }
    acpi::MadtInfo& info = parse_madt_entries(entries);
    CHECK(info.cpus.size() == acpi::MadtInfo::kMaxCpus);
    CHECK(info.cpus[1023].apic_id == 1023);
    CHECK(info.dropped_entries == 76);
    CHECK(count(info, MadtProblemKind::too_many_cpus) == 1);
}

TEST_CASE("acpi: more problems than fit are counted") {
    std::vector<Bytes> entries;
    for (int i = 0; i < 20; ++i) {
        entries.push_back(lapic(0, 0, kEnabled));
    }
    acpi::MadtInfo& info = parse_madt_entries(entries);
    CHECK(info.cpus.size() == 1);
    CHECK(info.problems.size() == acpi::MadtInfo::kMaxProblems);
    CHECK(info.dropped_problems == 19 - acpi::MadtInfo::kMaxProblems);
}

TEST_CASE("acpi: a truncated MADT is an error, an empty one is not") {
    acpi::MadtInfo& info = madt_info();
    SUBCASE("fewer bytes than the MADT header") {
        Bytes table = madt({});
        table.resize(43);
        CHECK(acpi::parse_madt(exact(table), info).error() == Error::truncated);
        CHECK(acpi::parse_madt(exact(Bytes{}), info).error() == Error::truncated);
    }
    SUBCASE("a valid table too short to be a MADT") {
        Machine machine;
        Bytes& table = machine.memory.at(kMadtAddress);
        table = sdt("APIC", {0, 0, 0xE0, 0xFE});
        CHECK(read_madt(machine, info).error() == Error::truncated);
    }
    SUBCASE("length beyond the bytes given") {
        Bytes table = madt({lapic(0, 0, kEnabled)});
        table.pop_back();
        CHECK(acpi::parse_madt(exact(table), info).error() == Error::truncated);
    }
    SUBCASE("no entries") {
        REQUIRE(acpi::parse_madt(exact(madt({})), info).ok());
        CHECK(info.cpus.empty());
        CHECK(info.local_apic_address == 0xFEE00000);
    }
}

TEST_CASE("acpi: a MADT longer than readable memory is unreadable") {
    Machine machine;
    Bytes& table = machine.memory.at(kMadtAddress);
    set(table, 4, table.size() + 16, 4);
    fix_table_checksum(table);
    CHECK(read_madt(machine, madt_info()).error() == Error::table_unreadable);
}

TEST_CASE("acpi: a machine without a MADT reports no_madt and an empty result") {
    Machine machine;
    REQUIRE(read_madt(machine, madt_info()).ok());
    machine.memory.at(kRsdtAddress) = rsdt({kFadtAddress});
    CHECK(read_madt(machine, madt_info()).error() == Error::no_madt);
    CHECK(madt_info().cpus.empty());
    CHECK(madt_info().local_apic_address == 0);
}

// ==== FADT and \_S5_ ====

TEST_CASE("acpi: QEMU-like FADT and DSDT give the power-off ports and values") {
    Machine machine;
    auto tables = machine.open();
    REQUIRE(tables.ok());
    auto power = acpi::read_power_off(tables.value());
    REQUIRE(power.ok());
    CHECK(power.value().pm1a_control == 0x604);
    CHECK(power.value().pm1b_control == 0);
    CHECK(power.value().slp_typ_a == 0);
    CHECK(power.value().slp_typ_b == 0);
    CHECK(power.value().smi_command == 0xB2);
    CHECK(power.value().acpi_enable == 0xF1);
    CHECK(power.value().sci_interrupt == 9);
    CHECK(acpi::sleep_control_value(power.value().slp_typ_a) == 0x2000);
    CHECK(acpi::sleep_control_value(5) == 0x3400);
}

TEST_CASE("acpi: an ACPI 2.0 FADT prefers X_DSDT and X_PM1a_CNT_BLK") {
    Machine machine(true);
    FadtFields fields;
    fields.dsdt = kDsdtAddress;
    fields.x_dsdt = kHighDsdtAddress;
    fields.pm1a_cnt = 0xB004;
    fields.x_pm1a_cnt = 0x1804;
    fields.pm1b_cnt = 0x1904;
    fields.x_pm1b_cnt = 0x1904;
    machine.memory.at(kFadtAddress) = fadt(fields);
    machine.memory.add(kHighDsdtAddress, dsdt_with(s5_package({0x0A, 0x07, 0x0A, 0x06, 0, 0})));
    auto tables = machine.open();
    REQUIRE(tables.ok());
    auto power = acpi::read_power_off(tables.value());
    REQUIRE(power.ok());
    CHECK(power.value().pm1a_control == 0x1804);
    CHECK(power.value().pm1b_control == 0x1904);
    CHECK(power.value().slp_typ_a == 7);
    CHECK(power.value().slp_typ_b == 6);
}

TEST_CASE("acpi: X_DSDT that cannot be read falls back to DSDT") {
    Machine machine;
    FadtFields fields;
    fields.dsdt = kDsdtAddress;
    fields.x_dsdt = kHighDsdtAddress;  // Nothing there.
    machine.memory.at(kFadtAddress) = fadt(fields);
    auto tables = machine.open();
    REQUIRE(tables.ok());
    REQUIRE(acpi::read_power_off(tables.value()).ok());

    fields.dsdt = 0;
    machine.memory.at(kFadtAddress) = fadt(fields);
    CHECK(acpi::read_power_off(tables.value()).error() == Error::table_unreadable);
}

TEST_CASE("acpi: FADT fields are used only when the table's length holds them") {
    FadtFields fields;
    fields.dsdt = 0x1000;
    fields.x_dsdt = 0x2000;
    fields.pm1a_cnt = 0x604;
    fields.x_pm1a_cnt = 0x1804;
    SUBCASE("ACPI 1.0 length: no extended fields") {
        fields.length = 116;
        auto info = acpi::parse_fadt(exact(fadt(fields)));
        REQUIRE(info.ok());
        CHECK(info.value().x_dsdt == 0);
        CHECK(info.value().pm1a_control == 0x604);
    }
    SUBCASE("cut inside X_PM1a_CNT_BLK") {
        fields.length = 180;
        auto info = acpi::parse_fadt(exact(fadt(fields)));
        REQUIRE(info.ok());
        CHECK(info.value().x_dsdt == 0x2000);
        CHECK(info.value().pm1a_control == 0x604);
    }
    SUBCASE("ACPI 6 length") {
        fields.length = 276;
        auto info = acpi::parse_fadt(exact(fadt(fields)));
        REQUIRE(info.ok());
        CHECK(info.value().pm1a_control == 0x1804);
        CHECK(info.value().revision == 3);
    }
    SUBCASE("extended block in memory space: the I/O port field counts") {
        fields.x_pm1a_space = 0;
        auto info = acpi::parse_fadt(exact(fadt(fields)));
        REQUIRE(info.ok());
        CHECK(info.value().pm1a_control == 0x604);
    }
    SUBCASE("ports beyond 16 bits are none") {
        fields.pm1a_cnt = 0x10000;
        fields.x_pm1a_cnt = 0x12345;
        fields.smi_cmd = 0x10000;
        auto info = acpi::parse_fadt(exact(fadt(fields)));
        REQUIRE(info.ok());
        CHECK(info.value().pm1a_control == 0);
        CHECK(info.value().smi_command == 0);
    }
    SUBCASE("hardware-reduced") {
        fields.flags = 1u << 20;
        CHECK(acpi::parse_fadt(exact(fadt(fields))).value().hardware_reduced());
    }
    SUBCASE("shorter than ACPI 1.0") {
        fields.length = 115;
        CHECK(acpi::parse_fadt(exact(fadt(fields))).error() == Error::truncated);
        Bytes table = fadt(FadtFields{});
        table.resize(200);
        CHECK(acpi::parse_fadt(exact(table)).error() == Error::truncated);
        CHECK(acpi::parse_fadt(exact(Bytes{})).error() == Error::truncated);
    }
}

TEST_CASE("acpi: power-off errors name what is missing") {
    Machine machine;
    auto power_off_error = [&machine] {
        auto tables = machine.open();
        REQUIRE(tables.ok());
        return acpi::read_power_off(tables.value()).error();
    };
    SUBCASE("no FADT") {
        machine.memory.at(kRsdtAddress) = rsdt({kMadtAddress});
        CHECK(power_off_error() == Error::no_fadt);
    }
    SUBCASE("no PM1a control port") {
        FadtFields fields;
        fields.dsdt = kDsdtAddress;
        fields.pm1a_cnt = 0;
        machine.memory.at(kFadtAddress) = fadt(fields);
        CHECK(power_off_error() == Error::no_pm1a_control);
    }
    SUBCASE("no DSDT address") {
        machine.memory.at(kFadtAddress) = fadt(FadtFields{});
        CHECK(power_off_error() == Error::no_dsdt);
    }
    SUBCASE("DSDT with the wrong signature") {
        Bytes& dsdt = machine.memory.at(kDsdtAddress);
        dsdt[0] = 'S';
        fix_table_checksum(dsdt);
        CHECK(power_off_error() == Error::bad_dsdt_signature);
    }
    SUBCASE("FADT truncated") {
        machine.memory.at(kFadtAddress) = sdt("FACP", Bytes(40, 0));
        CHECK(power_off_error() == Error::truncated);
    }
    SUBCASE("DSDT without \\_S5_") {
        machine.memory.at(kDsdtAddress) = dsdt_with({});
        CHECK(power_off_error() == Error::no_s5);
    }
}

TEST_CASE("acpi: \\_S5_ is found in the usual encodings") {
    SUBCASE("ZeroOp elements, as QEMU's pc machine") {
        auto s5 = s5_of(s5_package({0x00, 0x00, 0x00, 0x00}));
        REQUIRE(s5.ok());
        CHECK(s5.value().a == 0);
        CHECK(s5.value().b == 0);
    }
    SUBCASE("ByteConst elements") {
        auto s5 = s5_of(s5_package({0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00}));
        REQUIRE(s5.ok());
        CHECK(s5.value().a == 5);
        CHECK(s5.value().b == 5);
    }
    SUBCASE("OneOp and a root prefix") {
        auto s5 = s5_of(s5_package({0x01, 0x00}, 2, 1, true));
        REQUIRE(s5.ok());
        CHECK(s5.value().a == 1);
        CHECK(s5.value().b == 0);
    }
    SUBCASE("bare bytes") {
        auto s5 = s5_of(s5_package({0x07, 0x05}, 2));
        REQUIRE(s5.ok());
        CHECK(s5.value().a == 7);
        CHECK(s5.value().b == 5);
    }
    SUBCASE("Word, DWord and QWord constants") {
        auto s5 = s5_of(
            s5_package({0x0B, 0x06, 0x00, 0x0C, 0x03, 0, 0, 0, 0x0E, 1, 0, 0, 0, 0, 0, 0, 0}, 3));
        REQUIRE(s5.ok());
        CHECK(s5.value().a == 6);
        CHECK(s5.value().b == 3);
    }
    SUBCASE("two-, three- and four-byte PkgLength") {
        for (std::size_t bytes = 2; bytes <= 4; ++bytes) {
            CAPTURE(bytes);
            auto s5 = s5_of(s5_package({0x0A, 0x05, 0x0A, 0x04, 0x00, 0x00}, 4, bytes));
            REQUIRE(s5.ok());
            CHECK(s5.value().a == 5);
            CHECK(s5.value().b == 4);
        }
    }
    SUBCASE("a package longer than 63 bytes") {
        Bytes elements = {0x0A, 0x03, 0x0A, 0x02};
        for (int i = 0; i < 100; ++i) {
            elements.push_back(0x00);
        }
        auto s5 = s5_of(s5_package(elements, 102, 2));
        REQUIRE(s5.ok());
        CHECK(s5.value().a == 3);
        CHECK(s5.value().b == 2);
    }
    SUBCASE("a malformed look-alike before the real one") {
        const Bytes decoy = concat({{0x08}, name_chars("_S5_"), {0x0A, 0x05}});
        auto s5 = s5_of(concat({decoy, s5_package({0x0A, 0x05, 0x0A, 0x05}, 2)}));
        REQUIRE(s5.ok());
        CHECK(s5.value().a == 5);
    }
}

TEST_CASE("acpi: malformed or missing \\_S5_ packages are errors") {
    SUBCASE("no \\_S5_ at all, only a mention in a string") {
        CHECK(s5_of({}).error() == Error::no_s5);
    }
    SUBCASE("_S5_ as a method, not a name") {
        CHECK(s5_of(concat({{0x14, 0x06}, name_chars("_S5_"), {0x00}})).error() == Error::no_s5);
    }
    SUBCASE("a name whose value is not a package") {
        CHECK(s5_of(concat({{0x08}, name_chars("_S5_"), {0x0A, 0x05}})).error() == Error::bad_s5);
    }
    SUBCASE("one element") {
        CHECK(s5_of(s5_package({0x0A, 0x05, 0x0A, 0x05}, 1)).error() == Error::bad_s5);
    }
    SUBCASE("a value beyond SLP_TYP's three bits") {
        CHECK(s5_of(s5_package({0x0A, 0x08, 0x0A, 0x05}, 2)).error() == Error::bad_s5);
        CHECK(s5_of(s5_package({0x0B, 0x00, 0x01, 0x00}, 2)).error() == Error::bad_s5);
        CHECK(s5_of(s5_package({0xFF, 0x00}, 2)).error() == Error::bad_s5);
    }
    SUBCASE("a PkgLength with reserved bits set") {
        Bytes package = s5_package({0x0A, 0x05, 0x0A, 0x05}, 2, 2);
        package[6] |= 0x10;
        CHECK(s5_of(package).error() == Error::bad_s5);
    }
    SUBCASE("a package whose length claims fewer bytes than its elements") {
        Bytes package = s5_package({0x0A, 0x05, 0x0A, 0x05}, 2);
        package[6] = 4;  // Ends inside the second element.
        CHECK(s5_of(package).error() == Error::bad_s5);
    }
    SUBCASE("a package ending between a prefix and its value") {
        Bytes package = s5_package({0x0A, 0x05, 0x0A, 0x05}, 2);
        package[6] = 5;  // Ends after the second element's BytePrefix.
        CHECK(s5_of(package).error() == Error::bad_s5);
        package = s5_package({0x0A, 0x05, 0x0C, 0x05, 0x00, 0x00, 0x00}, 2);
        package[6] = 8;  // Ends inside the second element's DWord.
        CHECK(s5_of(package).error() == Error::bad_s5);
    }
    SUBCASE("a package running past the end of the DSDT") {
        const Bytes package = s5_package({0x0A, 0x05, 0x0A, 0x05}, 2, 4);
        for (std::size_t cut = 1; cut < package.size(); ++cut) {
            CAPTURE(cut);
            const Bytes table = sdt("DSDT", Bytes(package.begin(), package.begin() + cut));
            CHECK(acpi::find_s5(exact(table)).error() == (cut < 5 ? Error::no_s5 : Error::bad_s5));
        }
    }
    SUBCASE("DSDT shorter than its header, or than its length") {
        CHECK(acpi::find_s5(exact(Bytes{})).error() == Error::truncated);
        Bytes table = dsdt_with(s5_package({0x00, 0x00}, 2));
        table.pop_back();
        CHECK(acpi::find_s5(exact(table)).error() == Error::truncated);
    }
}

TEST_CASE("acpi: \\_S5_ at the very end of the AML and the NameOp inside the header") {
    // The 0x08 just before the name is the header's last byte, not AML: not a definition.
    Bytes table = sdt("DSDT", concat({name_chars("_S5_"), {0x12, 0x04, 0x02, 0x00, 0x00}}));
    table[35] = 0x08;
    fix_table_checksum(table);
    CHECK(acpi::find_s5(exact(table)).error() == Error::no_s5);
    const Bytes last = sdt("DSDT", s5_package({0x01, 0x01}, 2));
    REQUIRE(acpi::find_s5(exact(last)).ok());
    CHECK(acpi::find_s5(exact(last)).value().a == 1);
}

// ==== Strings ====

TEST_CASE("acpi: every error and MADT problem has a distinct description") {
    std::vector<std::string> seen;
    for (int i = 0; i <= static_cast<int>(Error::bad_s5); ++i) {
        const std::string text = acpi::to_string(static_cast<Error>(i));
        CHECK(text != "unknown ACPI error");
        for (const std::string& other : seen) {
            CHECK(other != text);
        }
        seen.push_back(text);
    }
    for (int i = 0; i <= static_cast<int>(MadtProblemKind::duplicate_address_override); ++i) {
        CHECK(std::string(acpi::to_string(static_cast<MadtProblemKind>(i))) !=
              "unknown MADT problem");
    }
}
