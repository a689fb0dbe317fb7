#include "acpi_test_support.hpp"

using namespace acpi_test;

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
