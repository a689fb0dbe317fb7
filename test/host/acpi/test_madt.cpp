#include "acpi_test_support.hpp"

using namespace acpi_test;

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
