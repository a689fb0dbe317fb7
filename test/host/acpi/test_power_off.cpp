#include "acpi_test_support.hpp"

using namespace acpi_test;

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
