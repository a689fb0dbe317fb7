// vmalloc, vmap and vfree over fake physical memory: 2 MiB pages where an aligned run is free,
// 4 KiB pages from fragmented memory, one flush per vfree before any frame goes back, and a
// vmalloc that runs out of frames at any point giving back everything it took.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "lib/units.hpp"
#include "vm/vmalloc.hpp"
#include "vm_test_support.hpp"

namespace {

using mm::PhysAddr;
using vm::VirtAddr;
using vm_test::Memory;
using vm_test::VmPlatform;

using Area = vm::Vmalloc<VmPlatform>;

constexpr VirtAddr kBegin = 0xFFFFC00000000000ull;
constexpr std::uint64_t kRegion = 64 * lib::GiB;
constexpr std::uint64_t kGuard = 16 * 1024;

struct Fixture {
    explicit Fixture(std::size_t bytes = 32 * lib::MiB) : memory(bytes) {
        VmPlatform::reset();
        root = alloc_test::must_allocate(*memory.harness.allocator, 1);
        std::memset(VmPlatform::phys_to_virt(root), 0, 4096);
        area = std::make_unique<Area>(root, memory.frames, vm::PageTable<VmPlatform>::kNoExecute);
        area->init(kBegin, kBegin + kRegion, kGuard);
        free_at_start = memory.free_frames();
    }
    ~Fixture() { VmPlatform::reset(); }

    // Writes through the mapping (via the fake memory each page translates to) and reads back.
    void touch(VirtAddr begin, std::uint64_t bytes) {
        for (VirtAddr va = begin; va < begin + bytes; va += 4096) {
            vm::Leaf leaf;
            REQUIRE(area->translate(va, leaf));
            PhysAddr pa = leaf.physical + (va - mm::align_down(va, vm::bytes_of(leaf.size)));
            *static_cast<std::uint64_t*>(VmPlatform::phys_to_virt(pa)) = va;
        }
    }

    // Frames in use, not counting the root: tables still waiting for a flush round are in use.
    std::uint64_t frames_in_use() const { return free_at_start - memory.free_frames(); }

    Memory memory;
    PhysAddr root = 0;
    std::unique_ptr<Area> area;
    std::uint64_t free_at_start = 0;
};

TEST_CASE("vmalloc takes 2 MiB pages where aligned runs are free, and vfree gives all back") {
    Fixture f;
    auto result = f.area->allocate(4 * lib::MiB + 8192);
    REQUIRE(result.ok());
    VirtAddr va = result.value();
    CHECK(va % (2 * lib::MiB) == 0);
    vm::VmStats stats = f.area->stats();
    CHECK(stats.large_pages == 2);
    CHECK(stats.small_pages == 2);
    CHECK(stats.live_ranges == 1);
    f.touch(va, 4 * lib::MiB + 8192);

    vm::BackingRun runs[4];
    vm::MappingDescription description;
    REQUIRE(f.area->describe(va, description, runs));
    CHECK(description.range.end - description.range.begin == 4 * lib::MiB + 8192);
    CHECK(description.large_pages == 2);
    CHECK(description.small_pages == 2);
    // Fresh memory: the two 2 MiB pages and the two 4 KiB pages each lie side by side.
    REQUIRE(description.runs >= 2);
    REQUIRE(description.runs <= 4);
    CHECK(runs[0].size == vm::PageSize::large);
    CHECK(runs[0].virtual_address == va);
    CHECK(runs[description.runs - 1].size == vm::PageSize::small);
    CHECK_FALSE(f.area->describe(va + 4096, description, runs));

    REQUIRE(f.area->free(va).ok());
    CHECK(f.area->stats().large_pages == 0);
    CHECK(f.area->stats().small_pages == 0);
    CHECK(f.area->stats().live_ranges == 0);
    // Only the emptied tables wait, for the next flush round.
    CHECK(f.frames_in_use() == f.area->stats().tables_waiting);
    CHECK(f.area->check_invariants());
}

TEST_CASE("vmalloc told not to use 2 MiB pages maps 4 KiB pages only") {
    Fixture f;
    auto result = f.area->allocate(4 * lib::MiB, vm::RangeKind::vmalloc, false);
    REQUIRE(result.ok());
    CHECK(f.area->stats().large_pages == 0);
    CHECK(f.area->stats().small_pages == 1024);
    REQUIRE(f.area->free(result.value()).ok());
}

TEST_CASE("with no free 2 MiB run, vmalloc still succeeds with 4 KiB pages") {
    Fixture f;
    // Fragment on purpose: take every frame, then give back every other one.
    std::vector<PhysAddr> taken;
    for (;;) {
        auto frame = f.memory.harness.allocator->allocate(1);
        if (!frame) {
            break;
        }
        taken.push_back(frame.value());
    }
    std::size_t kept = 0;
    for (std::size_t i = 0; i < taken.size(); ++i) {
        if (i % 2 == 0) {
            REQUIRE(f.memory.harness.allocator->free(taken[i], 1).ok());
        } else {
            ++kept;
        }
    }
    // A physically contiguous 4 MiB fails; a virtually contiguous one does not.
    CHECK_FALSE(f.memory.harness.allocator->allocate(1024).ok());
    auto result = f.area->allocate(4 * lib::MiB);
    REQUIRE(result.ok());
    CHECK(f.area->stats().large_pages == 0);
    CHECK(f.area->stats().small_pages == 1024);
    f.touch(result.value(), 4 * lib::MiB);
    REQUIRE(f.area->free(result.value()).ok());
    (void)kept;
}

TEST_CASE("vfree flushes once for the whole range, before any frame goes back") {
    Fixture f;
    auto small = f.area->allocate(8 * 4096);
    auto big = f.area->allocate(64 * 4096);
    REQUIRE(small.ok());
    REQUIRE(big.ok());
    std::uint64_t free_at_flush = 0;
    VmPlatform::on_flush = [&](const vm::FlushBatch&) { free_at_flush = f.memory.free_frames(); };
    std::uint64_t free_before = f.memory.free_frames();

    REQUIRE(f.area->free(small.value()).ok());
    REQUIRE(VmPlatform::batches.size() == 1);
    const vm::FlushBatch& first = VmPlatform::batches[0];
    CHECK(first.total == 8);
    CHECK(first.count == 8);
    CHECK_FALSE(first.everything);
    CHECK(first.pages[0] == small.value());
    CHECK(free_at_flush == free_before);  // nothing was given back before the flush
    CHECK(f.memory.free_frames() > free_before);

    REQUIRE(f.area->free(big.value()).ok());
    REQUIRE(VmPlatform::batches.size() == 2);
    CHECK(VmPlatform::batches[1].total == 64);
    CHECK(VmPlatform::batches[1].everything);  // more than a batch lists: flush everything
}

TEST_CASE("vfree of an unknown address or twice is refused and changes nothing") {
    Fixture f;
    auto result = f.area->allocate(3 * 4096);
    REQUIRE(result.ok());
    CHECK(f.area->free(result.value() + 4096).error() == vm::VmError::not_found);
    CHECK(f.area->free(kBegin).error() == vm::VmError::not_found);
    CHECK(f.area->stats().live_ranges == 1);
    CHECK(VmPlatform::batches.empty());
    REQUIRE(f.area->free(result.value()).ok());
    CHECK(f.area->free(result.value()).error() == vm::VmError::not_found);
    CHECK(f.area->allocate(0).error() == vm::VmError::invalid_request);
}

TEST_CASE("a vmalloc that runs out of frames at any point gives back everything it took") {
    Fixture f;
    // 2 MiB + 3 pages: a 2 MiB run, tables, then 4 KiB frames: fail at each allocation in turn.
    const std::uint64_t bytes = 2 * lib::MiB + 3 * 4096;
    std::uint64_t needed = 0;
    {
        std::uint64_t before = f.memory.frames.allocations();
        auto probe = f.area->allocate(bytes);
        REQUIRE(probe.ok());
        needed = f.memory.frames.allocations() - before;
        REQUIRE(f.area->free(probe.value()).ok());
    }
    REQUIRE(needed >= 5);
    for (std::uint64_t budget = 0; budget < needed; ++budget) {
        CAPTURE(budget);
        // Any tables left waiting by the last attempt go back with this attempt's flush.
        f.memory.frames.set_budget(budget);
        std::uint64_t rollbacks = f.area->stats().rollbacks;
        auto result = f.area->allocate(bytes);
        REQUIRE_FALSE(result.ok());
        CHECK(result.error() == vm::VmError::out_of_memory);
        CHECK(f.area->stats().rollbacks == rollbacks + 1);
        CHECK(f.area->stats().live_ranges == 0);
        CHECK(f.area->stats().small_pages == 0);
        CHECK(f.area->stats().large_pages == 0);
        CHECK(f.frames_in_use() == f.area->stats().tables_waiting);
        CHECK(f.area->check_invariants());
        f.memory.frames.set_budget(~std::uint64_t{0});
    }
    // And the area works afterwards.
    auto result = f.area->allocate(bytes);
    REQUIRE(result.ok());
    f.touch(result.value(), bytes);
}

TEST_CASE("vmap maps the caller's frames in order and vfree leaves them with the caller") {
    Fixture f;
    std::vector<PhysAddr> frames;
    for (int i = 0; i < 5; ++i) {
        frames.push_back(alloc_test::must_allocate(*f.memory.harness.allocator, 1));
    }
    std::swap(frames[0], frames[4]);  // any order, not contiguous
    auto result = f.area->map_frames(frames, {false, false, true});
    REQUIRE(result.ok());
    for (std::size_t i = 0; i < frames.size(); ++i) {
        vm::Leaf leaf;
        REQUIRE(f.area->translate(result.value() + i * 4096, leaf));
        CHECK(leaf.physical == frames[i]);
        CHECK_FALSE(leaf.flags.writable);
    }
    std::uint64_t free_before = f.memory.free_frames();
    REQUIRE(f.area->free(result.value()).ok());
    CHECK(f.memory.free_frames() == free_before);  // the frames stay the caller's (tables wait)
    for (PhysAddr frame : frames) {
        alloc_test::must_free(*f.memory.harness.allocator, frame, 1);
    }
    CHECK(f.area->map_frames({}).error() == vm::VmError::invalid_request);
}

TEST_CASE("tables emptied by one vfree are freed after the next one's flush") {
    Fixture f;
    auto a = f.area->allocate(4096);
    REQUIRE(a.ok());
    REQUIRE(f.area->free(a.value()).ok());
    std::uint64_t waiting = f.area->stats().tables_waiting;
    CHECK(waiting == 3);  // PT, PD, PDPT under the root
    auto b = f.area->allocate(4096);
    REQUIRE(b.ok());
    REQUIRE(f.area->free(b.value()).ok());
    CHECK(f.area->stats().tables_freed == 3);
    CHECK(f.area->stats().tables_waiting == 3);
}

}  // namespace
