// Threads in each other's way on purpose: all of them claiming at the marker of one area, and
// all of them running the allocator dry at once and then giving everything back remotely.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "../allocator_test_support.hpp"
#include "lib/units.hpp"
#include "mm/frame_allocator.hpp"
#include "thread_helpers.hpp"

namespace {

using alloc_test::Block;
using alloc_test::checked_free;
using alloc_test::FakeMemory;
using alloc_test::FreeOutcome;
using alloc_test::Harness;
using alloc_test::HostPlatform;
using alloc_test::run_threads;
using mm::PhysAddr;

using Allocator = Harness<>::Allocator;

// Frees counted by checked_free, and how many allocations succeeded.
struct Counters : FreeOutcome {
    std::atomic<std::uint64_t> allocations{0};
};

void check_all_free(const Allocator& allocator) {
    mm::InvariantReport report = allocator.check_invariants();
    INFO("invariant: " << report.what << " area " << report.area);
    CHECK(report.ok);
    CHECK(allocator.totals().free_frames == allocator.totals().total_frames);
    CHECK(allocator.fragmentation().free_frames == allocator.totals().total_frames);
}

void hammer_one_area(unsigned threads, int operations) {
    FakeMemory memory(0, 2 * lib::MiB);
    HostPlatform::memory = &memory;
    Harness<> harness({memory.range()});
    Allocator& allocator = *harness.allocator;
    Counters counters;
    run_threads(threads, [&](unsigned index) {
        std::mt19937_64 rng(100 + index);
        std::vector<Block> ring;  // each thread holds its 16 most recent blocks
        std::uint64_t sequence = 0;
        for (int operation = 0; operation < operations; ++operation) {
            auto frames = static_cast<std::uint32_t>(1 + rng() % 4);
            lib::Result<PhysAddr, mm::AllocError> result = allocator.allocate(frames);
            if (result.ok()) {
                Block block{result.value(), frames, std::uint64_t{index} << 48 | ++sequence};
                alloc_test::stamp(memory, block);
                ring.push_back(block);
                counters.allocations.fetch_add(1, std::memory_order_relaxed);
            }
            if (ring.size() == 16 || (!result.ok() && !ring.empty())) {
                checked_free(allocator, memory, ring.front(), counters);
                ring.erase(ring.begin());
            }
        }
        for (const Block& block : ring) {
            checked_free(allocator, memory, block, counters);
        }
    });
    CHECK(counters.damaged.load() == 0);
    CHECK(counters.refused.load() == 0);
    CHECK(counters.allocations.load() > threads * operations / 2);
    std::uint64_t shares = 0;
    for (unsigned cpu = 0; cpu < threads; ++cpu) {
        shares += allocator.cpu_stats(cpu).shares;
    }
    CHECK(shares > 0);
    check_all_free(allocator);
    HostPlatform::memory = nullptr;
}

}  // namespace

TEST_CASE("allocator contention: threads claim at the marker of one area") {
    // One 512-frame area: one thread owns it, the others share it, and claims race all the time.
    hammer_one_area(4, 60000);
    hammer_one_area(8, 20000);
}

TEST_CASE("allocator contention: run dry together, then free everything remotely") {
    // Three areas, 10 MiB. Each round every thread allocates until it is refused; what the
    // refusals left (frames another thread was claiming at that moment) is then collected by
    // one thread, and the total must be every frame. Then each thread frees another's blocks.
    FakeMemory memory(0, 40 * lib::MiB);
    HostPlatform::memory = &memory;
    Harness<> harness({{0, 2 * lib::MiB}, {30 * lib::MiB, 38 * lib::MiB}});
    Allocator& allocator = *harness.allocator;
    const std::uint64_t total = allocator.totals().total_frames;
    constexpr unsigned kThreads = 4;
    for (mm::Mode mode : {mm::Mode::per_cpu, mm::Mode::global_lock}) {
        allocator.set_mode(mode);
        for (int round = 0; round < 5; ++round) {
            INFO("mode " << static_cast<int>(mode) << " round " << round);
            std::vector<std::vector<Block>> held(kThreads);
            Counters counters;
            run_threads(kThreads, [&](unsigned index) {
                std::mt19937_64 rng(round * 10 + index);
                std::uint64_t sequence = 0;
                for (;;) {
                    auto frames = static_cast<std::uint32_t>(1 + rng() % 4);
                    lib::Result<PhysAddr, mm::AllocError> result = allocator.allocate(frames);
                    if (!result.ok()) {
                        if (frames == 1) {
                            break;  // refused even one frame: this thread is done
                        }
                        continue;
                    }
                    Block block{result.value(), frames, std::uint64_t{index} << 48 | ++sequence};
                    alloc_test::stamp(memory, block);
                    held[index].push_back(block);
                }
            });
            std::uint64_t taken = 0;
            for (const std::vector<Block>& blocks : held) {
                for (const Block& block : blocks) {
                    taken += block.frames;
                }
            }
            // Anything a thread missed only because another held it for a moment is still
            // free; now that nobody else runs, one thread must find all of it.
            std::vector<Block> leftovers;
            while (true) {
                lib::Result<PhysAddr, mm::AllocError> result = allocator.allocate(1);
                if (!result.ok()) {
                    break;
                }
                leftovers.push_back({result.value(), 1, 0xabc});
                alloc_test::stamp(memory, leftovers.back());
            }
            CHECK(taken + leftovers.size() == total);
            // A refusal may only miss frames that another thread held for a moment: at most
            // one in-flight claim of up to 4 frames per other thread. In practice it is 0.
            CHECK(leftovers.size() <= 4 * (kThreads - 1));
            CHECK(allocator.totals().free_frames == 0);
            REQUIRE(allocator.check_invariants().ok);
            held[0].insert(held[0].end(), leftovers.begin(), leftovers.end());

            run_threads(kThreads, [&](unsigned index) {
                for (const Block& block : held[(index + 1) % kThreads]) {
                    checked_free(allocator, memory, block, counters);
                }
            });
            CHECK(counters.damaged.load() == 0);
            CHECK(counters.refused.load() == 0);
            check_all_free(allocator);
        }
    }
    HostPlatform::memory = nullptr;
}

TEST_CASE("allocator contention: two threads race to free the same frames") {
    // A double free between CPUs: both pass the pre-check, then each bitmap word can be won by
    // only one of them. Whatever the interleaving, every frame is freed exactly once, and a
    // thread that lost any word is told not_allocated. Runs of 40 frames straddle words, so a
    // race can split one run between the two.
    Harness<> harness({{0, 32 * lib::MiB}});
    Allocator& allocator = *harness.allocator;
    constexpr std::uint32_t kRun = 40;
    std::uint64_t expected_freed = 0;
    for (int round = 0; round < 6; ++round) {
        std::vector<Block> blocks;
        for (;;) {
            lib::Result<PhysAddr, mm::AllocError> result = allocator.allocate(kRun);
            if (!result.ok()) {
                break;
            }
            blocks.push_back({result.value(), kRun, 0});
        }
        REQUIRE(blocks.size() == 8192 / kRun);
        expected_freed += blocks.size() * kRun;
        std::vector<std::uint8_t> won[2] = {std::vector<std::uint8_t>(blocks.size()),
                                            std::vector<std::uint8_t>(blocks.size())};
        // Both threads free each run at the same moment: they meet at a spinning barrier
        // before every run, so their pre-checks and commits overlap.
        std::atomic<std::uint64_t> arrivals{0};
        run_threads(2, [&](unsigned index) {
            for (std::size_t i = 0; i < blocks.size(); ++i) {
                arrivals.fetch_add(1, std::memory_order_acq_rel);
                while (arrivals.load(std::memory_order_acquire) < 2 * (i + 1)) {
                }
                won[index][i] = allocator.free(blocks[i].address, blocks[i].frames).ok();
            }
        });
        for (std::size_t i = 0; i < blocks.size(); ++i) {
            CHECK(won[0][i] + won[1][i] <= 1);  // never both
        }
        std::uint64_t freed =
            allocator.cpu_stats(0).frames_freed + allocator.cpu_stats(1).frames_freed;
        CHECK(freed == expected_freed);  // each frame exactly once
        check_all_free(allocator);
    }
}
