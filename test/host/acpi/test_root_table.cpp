#include "acpi_test_support.hpp"

using namespace acpi_test;

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
