#include <doctest/doctest.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "lib/units.hpp"
#include "mm/memory_regions.hpp"

namespace {

using mm::MemoryMapEntry;
using mm::PhysRange;
using mm::ReservedRange;

constexpr std::uint32_t kAvailable = 1;
constexpr std::uint32_t kReserved = 2;
constexpr std::uint32_t kAcpiReclaimable = 3;
constexpr std::uint32_t kAcpiNvs = 4;
constexpr std::uint32_t kDefective = 5;
constexpr std::uint32_t kPersistent = 7;  // Not in MemoryType: must rank with reserved.

using Ranges = std::vector<std::pair<std::uint64_t, std::uint64_t>>;
using Regions = std::vector<std::pair<std::pair<std::uint64_t, std::uint64_t>, std::uint32_t>>;

// MemoryLayout is tens of KiB: one static instance, rebuilt by every call.
const mm::MemoryLayout& build(const std::vector<MemoryMapEntry>& map,
                              const std::vector<ReservedRange>& reserved = {}) {
    static mm::MemoryLayout layout;
    mm::build_memory_layout(map, reserved, layout);
    REQUIRE(layout.check_invariants());
    return layout;
}

Ranges usable(const mm::MemoryLayout& layout) {
    Ranges out;
    for (const PhysRange& range : layout.usable) {
        out.emplace_back(range.begin, range.end);
    }
    return out;
}

Regions normalized(const mm::MemoryLayout& layout) {
    Regions out;
    for (const mm::MapRegion& region : layout.normalized) {
        out.push_back({{region.range.begin, region.range.end}, region.type});
    }
    return out;
}

const std::vector<MemoryMapEntry> kQemuMap = {
    {0x0, 0x9fc00, kAvailable},       {0x9fc00, 0x400, kReserved},
    {0xf0000, 0x10000, kReserved},    {0x100000, 0x1fee0000, kAvailable},
    {0x1ffe0000, 0x20000, kReserved}, {0xfeffc000, 0x4000, kReserved},
    {0xfffc0000, 0x40000, kReserved},
};

}  // namespace

TEST_CASE("memory_regions: a QEMU map without reservations") {
    const auto& layout = build(kQemuMap);
    CHECK(layout.complete());
    CHECK(layout.empty_entries == 0);
    CHECK(layout.clamped_entries == 0);
    // 0x9fc00 is not frame-aligned: the partial frame below it is not usable.
    CHECK(usable(layout) == Ranges{{0x0, 0x9f000}, {0x100000, 0x1ffe0000}});
    CHECK(layout.usable_bytes == 0x9f000 + 0x1fee0000);
    CHECK(normalized(layout) == Regions{{{0x0, 0x9fc00}, kAvailable},
                                        {{0x9fc00, 0xa0000}, kReserved},
                                        {{0xf0000, 0x100000}, kReserved},
                                        {{0x100000, 0x1ffe0000}, kAvailable},
                                        {{0x1ffe0000, 0x20000000}, kReserved},
                                        {{0xfeffc000, 0xff000000}, kReserved},
                                        {{0xfffc0000, 0x100000000}, kReserved}});
}

TEST_CASE("memory_regions: the QEMU reservation near 1 TiB leaves usable memory alone") {
    std::vector<MemoryMapEntry> map = kQemuMap;
    map.push_back({0x100000000, 4 * lib::GiB, kAvailable});
    const Ranges without = usable(build(map));
    const std::uint64_t bytes_without = build(map).usable_bytes;

    map.push_back({0xfd00000000, 0x300000000, kReserved});
    const auto& layout = build(map);
    CHECK(usable(layout) == without);
    CHECK(layout.usable_bytes == bytes_without);
    CHECK(layout.normalized[layout.normalized.size() - 1].range.begin == 0xfd00000000);
    CHECK(layout.normalized[layout.normalized.size() - 1].range.end == 0x10000000000);
}

TEST_CASE("memory_regions: a 64 GiB machine counts memory above 4 GiB") {
    std::vector<MemoryMapEntry> map = kQemuMap;
    map.push_back({0x100000000, 62 * lib::GiB, kAvailable});
    const auto& layout = build(map);
    CHECK(usable(layout).back() ==
          std::pair<std::uint64_t, std::uint64_t>{4 * lib::GiB, 66 * lib::GiB});
    CHECK(layout.usable_bytes == 0x9f000 + 0x1fee0000 + 62 * lib::GiB);
    CHECK(mm::bytes_of_type(layout, kAvailable) == 0x9fc00 + 0x1fee0000 + 62 * lib::GiB);
}

TEST_CASE("memory_regions: input order does not matter") {
    std::vector<MemoryMapEntry> reversed(kQemuMap.rbegin(), kQemuMap.rend());
    const Regions sorted_normalized = normalized(build(kQemuMap));
    const Ranges sorted_usable = usable(build(kQemuMap));
    const auto& layout = build(reversed);
    CHECK(normalized(layout) == sorted_normalized);
    CHECK(usable(layout) == sorted_usable);
}

TEST_CASE("memory_regions: holes between entries stay holes") {
    const auto& layout = build({{0x0, 0x80000, kAvailable}, {0x100000, 0x100000, kAvailable}});
    CHECK(usable(layout) == Ranges{{0x0, 0x80000}, {0x100000, 0x200000}});
    CHECK(normalized(layout).size() == 2);
}

TEST_CASE("memory_regions: zero-length entries are dropped and counted") {
    const auto& layout = build({{0x5000, 0, kReserved}, {0x0, 0x10000, kAvailable}});
    CHECK(layout.empty_entries == 1);
    CHECK(usable(layout) == Ranges{{0x0, 0x10000}});
    CHECK(normalized(layout) == Regions{{{0x0, 0x10000}, kAvailable}});
}

TEST_CASE("memory_regions: memory at address 0 is usable unless reserved") {
    CHECK(usable(build({{0x0, 0x4000, kAvailable}})) == Ranges{{0x0, 0x4000}});
    CHECK(usable(build({{0x0, 0x4000, kAvailable}}, {{{0x0, 0x1}, "null page"}})) ==
          Ranges{{0x1000, 0x4000}});
}

TEST_CASE("memory_regions: an entry wrapping past 2^64 is clamped") {
    const auto& layout = build({{0xffffffffffff0000, 0x20000, kAvailable}});
    CHECK(layout.clamped_entries == 1);
    CHECK(normalized(layout) == Regions{{{0xffffffffffff0000, 0xffffffffffffffff}, kAvailable}});
    CHECK(usable(layout) == Ranges{{0xffffffffffff0000, 0xfffffffffffff000}});
}

TEST_CASE("memory_regions: a wrapping reserved entry still covers the top of memory") {
    const auto& layout =
        build({{0xfffffffffff00000, 0xff000, kAvailable}, {0xfffffffffff80000, ~0ull, kReserved}});
    CHECK(layout.clamped_entries == 1);
    CHECK(usable(layout) == Ranges{{0xfffffffffff00000, 0xfffffffffff80000}});
}

TEST_CASE("memory_regions: available entries are aligned inward to whole frames") {
    const auto& layout = build({{0x1234, 0x5000, kAvailable}, {0x10fff, 0x1002, kAvailable}});
    // [0x1234, 0x6234) keeps [0x2000, 0x6000); [0x10fff, 0x12001) keeps [0x11000, 0x12000).
    CHECK(usable(layout) == Ranges{{0x2000, 0x6000}, {0x11000, 0x12000}});
    CHECK(usable(build({{0x1001, 0xffe, kAvailable}})).empty());
}

TEST_CASE("memory_regions: the stricter type wins where entries overlap") {
    // Available overlapped by reserved in the middle.
    const auto& a = build({{0x0, 0x100000, kAvailable}, {0x40000, 0x10000, kReserved}});
    CHECK(normalized(a) == Regions{{{0x0, 0x40000}, kAvailable},
                                   {{0x40000, 0x50000}, kReserved},
                                   {{0x50000, 0x100000}, kAvailable}});
    CHECK(usable(a) == Ranges{{0x0, 0x40000}, {0x50000, 0x100000}});

    // Reserved cannot be weakened by a later available entry on top of it.
    const auto& b = build({{0x40000, 0x10000, kReserved}, {0x0, 0x100000, kAvailable}});
    CHECK(usable(b) == Ranges{{0x0, 0x40000}, {0x50000, 0x100000}});

    // The full ranking, stacked on one range.
    const auto& c = build({{0x0, 0x5000, kAvailable},
                           {0x1000, 0x4000, kAcpiReclaimable},
                           {0x2000, 0x3000, kAcpiNvs},
                           {0x3000, 0x2000, kReserved},
                           {0x4000, 0x1000, kDefective}});
    CHECK(normalized(c) == Regions{{{0x0, 0x1000}, kAvailable},
                                   {{0x1000, 0x2000}, kAcpiReclaimable},
                                   {{0x2000, 0x3000}, kAcpiNvs},
                                   {{0x3000, 0x4000}, kReserved},
                                   {{0x4000, 0x5000}, kDefective}});
    CHECK(usable(c) == Ranges{{0x0, 0x1000}});

    // Defective beats reserved whatever the order; unknown types rank with reserved.
    const auto& d = build({{0x2000, 0x1000, kDefective}, {0x0, 0x4000, kReserved}});
    CHECK(normalized(d) == Regions{{{0x0, 0x2000}, kReserved},
                                   {{0x2000, 0x3000}, kDefective},
                                   {{0x3000, 0x4000}, kReserved}});
    const auto& e = build({{0x0, 0x4000, kAvailable}, {0x1000, 0x1000, kPersistent}});
    CHECK(usable(e) == Ranges{{0x0, 0x1000}, {0x2000, 0x4000}});
    CHECK(mm::bytes_of_type(e, kPersistent) == 0x1000);
}

TEST_CASE("memory_regions: equally strict overlapping types resolve the same in any order") {
    const Regions expected = {
        {{0x0, 0x1000}, kReserved}, {{0x1000, 0x3000}, kPersistent}, {{0x3000, 0x4000}, kReserved}};
    CHECK(normalized(build({{0x0, 0x4000, kReserved}, {0x1000, 0x2000, kPersistent}})) == expected);
    CHECK(normalized(build({{0x1000, 0x2000, kPersistent}, {0x0, 0x4000, kReserved}})) == expected);
}

TEST_CASE("memory_regions: ACPI-reclaimable memory is not usable yet") {
    const auto& layout = build({{0x0, 0x10000, kAvailable}, {0x10000, 0x10000, kAcpiReclaimable}});
    CHECK(usable(layout) == Ranges{{0x0, 0x10000}});
    CHECK(mm::bytes_of_type(layout, kAcpiReclaimable) == 0x10000);
}

TEST_CASE("memory_regions: adjacent and overlapping entries of one type merge") {
    const auto& layout = build({{0x0, 0x1000, kAvailable},
                                {0x1000, 0x1000, kAvailable},
                                {0x1800, 0x2800, kAvailable},
                                {0x10000, 0x1000, kReserved},
                                {0x11000, 0x1000, kReserved}});
    CHECK(normalized(layout) ==
          Regions{{{0x0, 0x4000}, kAvailable}, {{0x10000, 0x12000}, kReserved}});
    CHECK(usable(layout) == Ranges{{0x0, 0x4000}});
}

TEST_CASE("memory_regions: reserved ranges carve the middle, the edges and whole regions") {
    const std::vector<MemoryMapEntry> map = {{0x100000, 0x100000, kAvailable},
                                             {0x400000, 0x100000, kAvailable},
                                             {0x800000, 0x100000, kAvailable}};
    SUBCASE("middle") {
        const auto& layout = build(map, {{{0x140000, 0x150000}, "kernel"}});
        CHECK(usable(layout) == Ranges{{0x100000, 0x140000},
                                       {0x150000, 0x200000},
                                       {0x400000, 0x500000},
                                       {0x800000, 0x900000}});
        CHECK(layout.usable_bytes == 0x300000 - 0x10000);
    }
    SUBCASE("edges") {
        const auto& layout =
            build(map, {{{0x0, 0x110000}, "low"}, {{0x1f0000, 0x400800}, "straddles two entries"}});
        CHECK(usable(layout) ==
              Ranges{{0x110000, 0x1f0000}, {0x401000, 0x500000}, {0x800000, 0x900000}});
    }
    SUBCASE("whole regions") {
        const auto& layout =
            build(map, {{{0x400000, 0x500000}, "exact"}, {{0x700000, 0xa00000}, "beyond"}});
        CHECK(usable(layout) == Ranges{{0x100000, 0x200000}});
    }
    SUBCASE("overlapping and unsorted reservations") {
        const auto& layout = build(map, {{{0x180000, 0x1a0000}, "b"},
                                         {{0x120000, 0x190000}, "a"},
                                         {{0x110000, 0x130000}, "c"}});
        CHECK(usable(layout).front() ==
              std::pair<std::uint64_t, std::uint64_t>{0x100000, 0x110000});
        CHECK(usable(layout)[1] == std::pair<std::uint64_t, std::uint64_t>{0x1a0000, 0x200000});
    }
    SUBCASE("unaligned reservations grow outward; empty ones are ignored") {
        const auto& layout = build(map, {{{0x140001, 0x141001}, "odd"},
                                         {{0x180fff, 0x180fff}, "empty"},
                                         {{0x190000, 0x180000}, "backwards"}});
        CHECK(usable(layout)[0] == std::pair<std::uint64_t, std::uint64_t>{0x100000, 0x140000});
        CHECK(usable(layout)[1] == std::pair<std::uint64_t, std::uint64_t>{0x142000, 0x200000});
        CHECK(usable(layout).size() == 4);
    }
}

TEST_CASE("memory_regions: overflowing the lists loses memory, never a reservation") {
    std::vector<MemoryMapEntry> map;
    for (std::uint64_t i = 0; i < 300; ++i) {
        map.push_back({i * 0x4000, 0x2000, kAvailable});
        map.push_back({i * 0x4000 + 0x2000, 0x1000, kReserved});
    }
    const auto& layout = build(map);
    CHECK(layout.normalized_overflow);
    CHECK_FALSE(layout.complete());
    CHECK(layout.normalized.size() == mm::MemoryLayout::kMaxRegions);
    CHECK(layout.usable.size() == 256);

    std::vector<MemoryMapEntry> many;
    for (std::uint64_t i = 0; i < 600; ++i) {
        many.push_back({i * 0x4000, 0x2000, kAvailable});
    }
    const std::vector<ReservedRange> none;
    const auto& crowded = build(many, none);
    CHECK(crowded.normalized_overflow);
    CHECK(crowded.usable.size() == mm::MemoryLayout::kMaxRegions);

    std::vector<MemoryMapEntry> one = {{0x0, 0x1000000, kAvailable}};
    std::vector<ReservedRange> holes;
    for (std::uint64_t i = 0; i < 600; ++i) {
        holes.push_back({{i * 0x2000 + 0x1000, i * 0x2000 + 0x2000}, "hole"});
    }
    const auto& carved = build(one, holes);
    CHECK(carved.usable_overflow);
    CHECK(carved.usable.size() == mm::MemoryLayout::kMaxRegions);
    CHECK(carved.usable_bytes == mm::MemoryLayout::kMaxRegions * 0x1000);
}

TEST_CASE("memory_regions: an empty map gives an empty layout") {
    const auto& layout = build({});
    CHECK(layout.normalized.empty());
    CHECK(layout.usable.empty());
    CHECK(layout.usable_bytes == 0);
    CHECK(layout.complete());
}

TEST_CASE("memory_regions: check_invariants catches a broken layout") {
    static mm::MemoryLayout layout;
    mm::build_memory_layout(kQemuMap, {}, layout);
    REQUIRE(layout.check_invariants());
    layout.usable[0].end += 1;  // No longer frame-aligned.
    CHECK_FALSE(layout.check_invariants());
    mm::build_memory_layout(kQemuMap, {}, layout);
    layout.usable_bytes += mm::kFrameSize;
    CHECK_FALSE(layout.check_invariants());
    mm::build_memory_layout(kQemuMap, {}, layout);
    layout.normalized[0].type = kReserved;  // Usable memory inside a reserved region.
    CHECK_FALSE(layout.check_invariants());
}

TEST_CASE("memory_regions: usable memory ends at the address limit, and what is left out counts") {
    constexpr std::uint64_t kLimit = std::uint64_t{1} << 36;  // A CPU with 36 address bits.
    std::vector<MemoryMapEntry> map = {
        {0x100000, 0x7ff00000, kAvailable},
        {std::uint64_t{60} << 30, std::uint64_t{8} << 30, kAvailable},  // [60 GiB, 68 GiB)
        {std::uint64_t{80} << 30, std::uint64_t{1} << 30, kAvailable},  // wholly above
        {std::uint64_t{90} << 30, std::uint64_t{1} << 30, kReserved},   // not counted
    };
    static mm::MemoryLayout layout;
    mm::build_memory_layout(map, {}, layout, kLimit);
    REQUIRE(layout.check_invariants());
    CHECK(usable(layout) == Ranges{{0x100000, 0x80000000}, {std::uint64_t{60} << 30, kLimit}});
    CHECK(layout.beyond_limit_bytes == (std::uint64_t{4} << 30) + (std::uint64_t{1} << 30));
    // An unaligned limit keeps only whole frames below it.
    mm::build_memory_layout(map, {}, layout, 0x80000800);
    CHECK(usable(layout) == Ranges{{0x100000, 0x80000000}});
    // Without a limit, everything available is usable and nothing is left out.
    mm::build_memory_layout(map, {}, layout);
    CHECK(layout.beyond_limit_bytes == 0);
}

TEST_CASE("memory_regions: an available entry up to 2^64 stops at the limit") {
    std::vector<MemoryMapEntry> map = {{std::uint64_t{4} << 30, 0, kAvailable}};
    map[0].length = ~std::uint64_t{0} - map[0].base + 1;  // [4 GiB, 2^64): wraps, clamped.
    static mm::MemoryLayout layout;
    mm::build_memory_layout(map, {}, layout, std::uint64_t{1} << 40);
    REQUIRE(layout.check_invariants());
    CHECK(usable(layout) == Ranges{{std::uint64_t{4} << 30, std::uint64_t{1} << 40}});
}
