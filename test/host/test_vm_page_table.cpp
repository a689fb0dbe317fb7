// The page-table walker over fake physical memory: 4 KiB and 2 MiB pages with their flags,
// refusals of overlapping or misaligned maps (nothing changes), the two-step unmap, and tables
// that become empty going back to the frame allocator.
#include <doctest/doctest.h>

#include <cstdint>

#include "lib/units.hpp"
#include "vm/page_table.hpp"
#include "vm_test_support.hpp"

namespace {

using mm::PhysAddr;
using vm::PageSize;
using vm_test::Memory;
using vm_test::VmPlatform;

using Table = vm::PageTable<VmPlatform>;
using Entry = Table::Entry;

constexpr vm::VirtAddr kBase = 0xFFFFC00000000000ull;  // PML4 slot 384, like the kernel's area
constexpr Entry kNx = Table::kNoExecute;

// A walker with its own root, over 16 MiB of fake memory.
struct Fixture {
    Memory memory{16 * lib::MiB};
    PhysAddr root = alloc_test::must_allocate(*memory.harness.allocator, 1);
    Table table{root, memory.frames, kNx};

    Fixture() {
        auto* words = static_cast<Entry*>(VmPlatform::phys_to_virt(root));
        for (int i = 0; i < 512; ++i) {
            words[i] = 0;
        }
    }

    // The raw leaf entry for va: walks the tables by hand, independently of the walker.
    Entry raw_leaf(vm::VirtAddr va) const {
        PhysAddr table_address = root;
        for (int level = 3; level >= 0; --level) {
            auto* words = static_cast<Entry*>(VmPlatform::phys_to_virt(table_address));
            Entry entry = words[(va >> (12 + 9 * level)) & 0x1FF];
            if (level == 0 || (entry & Table::kLarge) != 0 || (entry & Table::kPresent) == 0) {
                return entry;
            }
            table_address = entry & Table::kAddressMask;
        }
        return 0;
    }

    PhysAddr frame() { return alloc_test::must_allocate(*memory.harness.allocator, 1); }
    PhysAddr large_frame() {
        return alloc_test::must_allocate(*memory.harness.allocator, 512, 512);
    }

    void unmap(vm::VirtAddr va, bool free_frames = true) {
        REQUIRE(table.retire(va).ok());
        REQUIRE(table.release(va, free_frames, memory.frames).ok());
    }
};

TEST_CASE("a 4 KiB map translates and carries its flags into the entry") {
    Fixture f;
    PhysAddr data = f.frame();
    PhysAddr code = f.frame();
    PhysAddr readonly = f.frame();
    REQUIRE(f.table.map(kBase, data, PageSize::small, {}).ok());
    REQUIRE(f.table.map(kBase + 4096, code, PageSize::small, {false, true, false}).ok());
    REQUIRE(f.table.map(kBase + 8192, readonly, PageSize::small, {false, false, true}).ok());

    vm::Leaf leaf;
    REQUIRE(f.table.translate(kBase + 123, leaf));
    CHECK(leaf.physical == data);
    CHECK(leaf.size == PageSize::small);
    CHECK(leaf.flags.writable);
    CHECK_FALSE(leaf.flags.executable);
    CHECK(leaf.flags.global);

    Entry e = f.raw_leaf(kBase);
    CHECK(e == (data | Table::kPresent | Table::kWritable | Table::kGlobal | kNx));
    // Executable, read-only, not global: none of W, G, NX.
    CHECK(f.raw_leaf(kBase + 4096) == (code | Table::kPresent));
    // Write-protected data: NX and G but no W.
    CHECK(f.raw_leaf(kBase + 8192) == (readonly | Table::kPresent | Table::kGlobal | kNx));
    CHECK_FALSE(f.table.translate(kBase + 3 * 4096, leaf));
    // PML4 entry, PDPT, PD, PT: three tables were made.
    CHECK(f.table.tables_allocated() == 3);
}

TEST_CASE("without NX support no entry carries the reserved bit") {
    Memory memory{4 * lib::MiB};
    PhysAddr root = alloc_test::must_allocate(*memory.harness.allocator, 1);
    std::memset(VmPlatform::phys_to_virt(root), 0, 4096);
    Table table{root, memory.frames, 0};
    PhysAddr frame = alloc_test::must_allocate(*memory.harness.allocator, 1);
    REQUIRE(table.map(kBase, frame, PageSize::small, {}).ok());
    vm::Leaf leaf;
    REQUIRE(table.translate(kBase, leaf));
    CHECK(leaf.flags.executable);  // nothing can forbid it
}

TEST_CASE("a 2 MiB map translates every address inside it") {
    Fixture f;
    PhysAddr run = f.large_frame();
    REQUIRE(f.table.map(kBase + 2 * lib::MiB, run, PageSize::large, {}).ok());
    vm::Leaf leaf;
    REQUIRE(f.table.translate(kBase + 3 * lib::MiB + 5, leaf));
    CHECK(leaf.physical == run);
    CHECK(leaf.size == PageSize::large);
    CHECK((f.raw_leaf(kBase + 2 * lib::MiB) & Table::kLarge) != 0);
    CHECK(f.table.tables_allocated() == 2);  // PDPT and PD: no page table under a 2 MiB page
}

TEST_CASE("overlapping and misaligned maps are refused and change nothing") {
    Fixture f;
    PhysAddr run = f.large_frame();
    PhysAddr small = f.frame();
    REQUIRE(f.table.map(kBase, run, PageSize::large, {}).ok());
    REQUIRE(f.table.map(kBase + 4 * lib::MiB, small, PageSize::small, {}).ok());
    std::uint64_t tables = f.table.tables_allocated();

    auto refused = [&](vm::VirtAddr va, PhysAddr pa, PageSize size, vm::MapError error) {
        CAPTURE(va);
        auto status = f.table.map(va, pa, size, {});
        REQUIRE_FALSE(status.ok());
        CHECK(status.error() == error);
    };
    // A 4 KiB page inside the 2 MiB page, and the 2 MiB page again.
    refused(kBase + 8192, small, PageSize::small, vm::MapError::already_mapped);
    refused(kBase, run, PageSize::large, vm::MapError::already_mapped);
    // A 2 MiB page over the page table that holds the 4 KiB page.
    refused(kBase + 4 * lib::MiB, run, PageSize::large, vm::MapError::already_mapped);
    // The 4 KiB page again.
    refused(kBase + 4 * lib::MiB, small, PageSize::small, vm::MapError::already_mapped);
    // Misaligned virtual or physical addresses, and a non-canonical one.
    refused(kBase + 4096, run, PageSize::large, vm::MapError::misaligned);
    refused(kBase + 6 * lib::MiB, run + 4096, PageSize::large, vm::MapError::misaligned);
    refused(kBase + 1, small, PageSize::small, vm::MapError::misaligned);
    refused(0x0000900000000000ull, small, PageSize::small, vm::MapError::misaligned);

    CHECK(f.table.tables_allocated() == tables);
    vm::Leaf leaf;
    REQUIRE(f.table.translate(kBase + 8192, leaf));
    CHECK(leaf.physical == run);
    REQUIRE(f.table.translate(kBase + 4 * lib::MiB, leaf));
    CHECK(leaf.physical == small);
}

TEST_CASE("an unmap is retire then release; the frame is freed only at release") {
    Fixture f;
    PhysAddr frame = f.frame();
    REQUIRE(f.table.map(kBase, frame, PageSize::small, {}).ok());
    std::uint64_t free_before = f.memory.free_frames();

    auto retired = f.table.retire(kBase);
    REQUIRE(retired.ok());
    CHECK(retired.value().physical == frame);
    vm::Leaf leaf;
    CHECK_FALSE(f.table.translate(kBase, leaf));
    CHECK((f.raw_leaf(kBase) & Table::kPresent) == 0);
    CHECK(f.memory.free_frames() == free_before);  // still held: a TLB may still point at it
    // Retiring again, or mapping over the retiring leaf, is refused.
    CHECK(f.table.retire(kBase).error() == vm::UnmapError::not_mapped);
    CHECK(f.table.map(kBase, frame, PageSize::small, {}).error() == vm::MapError::already_mapped);

    REQUIRE(f.table.release(kBase, true, f.memory.frames).ok());
    CHECK(f.memory.free_frames() == free_before + 1);
    CHECK(f.raw_leaf(kBase) == 0);
    CHECK(f.table.release(kBase, true, f.memory.frames).error() == vm::UnmapError::not_mapped);
}

TEST_CASE("release without a retire, and unmaps inside a 2 MiB page, are refused") {
    Fixture f;
    PhysAddr run = f.large_frame();
    REQUIRE(f.table.map(kBase, run, PageSize::large, {}).ok());
    CHECK(f.table.release(kBase, true, f.memory.frames).error() == vm::UnmapError::not_mapped);
    CHECK(f.table.retire(kBase + 4096).error() == vm::UnmapError::not_page_start);
    vm::Leaf leaf;
    CHECK(f.table.translate(kBase, leaf));
}

TEST_CASE("tables that become empty are unlinked, and freed only when asked") {
    Fixture f;
    std::uint64_t free_at_start = f.memory.free_frames();
    PhysAddr a = f.frame();
    PhysAddr b = f.frame();
    PhysAddr run = f.large_frame();
    REQUIRE(f.table.map(kBase, a, PageSize::small, {}).ok());
    REQUIRE(f.table.map(kBase + 4096, b, PageSize::small, {}).ok());
    REQUIRE(f.table.map(kBase + 2 * lib::MiB, run, PageSize::large, {}).ok());
    CHECK(f.table.tables_allocated() == 3);

    f.unmap(kBase);
    CHECK(f.table.tables_waiting() == 0);  // the page table still holds b
    f.unmap(kBase + 4096);
    CHECK(f.table.tables_waiting() == 1);  // the page table; the PD still holds the 2 MiB page
    f.unmap(kBase + 2 * lib::MiB);
    CHECK(f.table.tables_waiting() == 3);  // PD and PDPT too; never the root

    std::uint64_t free_before = f.memory.free_frames();
    vm::TableList list = f.table.take_unlinked();
    CHECK(list.count == 3);
    CHECK(f.table.tables_waiting() == 0);
    f.table.free_tables(list);
    CHECK(f.memory.free_frames() == free_before + 3);
    CHECK(f.table.tables_freed() == 3);
    CHECK(f.memory.free_frames() == free_at_start);
    // The root is empty again, and a new map builds its tables afresh.
    PhysAddr c = f.frame();
    REQUIRE(f.table.map(kBase, c, PageSize::small, {}).ok());
    CHECK(f.table.tables_allocated() == 6);
}

TEST_CASE("a release that keeps the frame leaves it with the caller") {
    Fixture f;
    PhysAddr frame = f.frame();
    REQUIRE(f.table.map(kBase, frame, PageSize::small, {}).ok());
    std::uint64_t free_before = f.memory.free_frames();
    f.unmap(kBase, false);
    CHECK(f.memory.free_frames() == free_before);
    alloc_test::must_free(*f.memory.harness.allocator, frame, 1);
}

TEST_CASE("a map that runs out of table memory changes nothing") {
    Fixture f;
    PhysAddr frame = f.frame();
    for (std::uint64_t budget = 0; budget < 3; ++budget) {
        CAPTURE(budget);
        f.memory.frames.set_budget(budget);
        auto status = f.table.map(kBase, frame, PageSize::small, {});
        REQUIRE_FALSE(status.ok());
        CHECK(status.error() == vm::MapError::no_memory);
        vm::Leaf leaf;
        CHECK_FALSE(f.table.translate(kBase, leaf));
        // The tables it made on the way down are unlinked, not left behind.
        CHECK(f.table.tables_waiting() == budget);
        f.table.free_tables(f.table.take_unlinked());
        auto* root_words = static_cast<Entry*>(VmPlatform::phys_to_virt(f.root));
        CHECK(root_words[(kBase >> 39) & 0x1FF] == 0);
    }
    f.memory.frames.set_budget(~std::uint64_t{0});
    CHECK(f.table.map(kBase, frame, PageSize::small, {}).ok());
}

}  // namespace
