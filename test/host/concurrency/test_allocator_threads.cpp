// Real threads, one simulated CPU each, allocating and freeing random sizes at once, passing a
// share of their blocks to other threads to free remotely. Every thread stamps its frames and
// checks the stamp before freeing, which catches a frame handed out twice. Built with
// ThreadSanitizer as well: the allocator's atomics must order the frames' contents.
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
using alloc_test::Mailbox;
using mm::PhysAddr;
using mm::PhysRange;

struct Scenario {
    std::vector<PhysRange> regions;  // all inside [0, memory_bytes)
    std::size_t memory_bytes = 0;
    unsigned threads = 4;
    int operations = 20000;  // per thread
    std::uint32_t largest_request = 256;
    mm::Mode mode = mm::Mode::per_cpu;
    std::uint64_t seed = 1;
};

constexpr std::size_t kMailboxLimit = 8;

struct Outcome : FreeOutcome {
    std::atomic<std::uint64_t> bad_addresses{0};
    std::atomic<std::uint64_t> allocations{0};
    std::atomic<std::uint64_t> out_of_memory{0};
    std::atomic<std::uint64_t> remote_posts{0};
    std::atomic<unsigned> finished_threads{0};
};

// Mostly 1..8 frames, sometimes up to the scenario's largest request.
std::uint32_t random_size(std::mt19937_64& rng, std::uint32_t largest) {
    return static_cast<std::uint32_t>(rng() % 10 < 8 ? 1 + rng() % 8 : 1 + rng() % largest);
}

bool inside_regions(const std::vector<PhysRange>& regions, const Block& block) {
    for (const PhysRange& region : regions) {
        if (block.address >= region.begin &&
            block.address + block.frames * mm::kFrameSize <= region.end) {
            return true;
        }
    }
    return false;
}

template <typename Allocator>
void worker(unsigned index, const Scenario& scenario, Allocator& allocator,
            const FakeMemory& memory, std::vector<Mailbox>& mailboxes, Outcome& outcome) {
    std::mt19937_64 rng(scenario.seed * 1000 + index);
    std::vector<Block> held;
    std::uint64_t held_frames = 0;
    // Each thread aims at up to twice its fair share, so together they run out of memory, but
    // one thread cannot hog all of it and leave the others failing most of the time.
    std::uint64_t greedy_limit = 2 * allocator.totals().total_frames / scenario.threads;
    std::uint64_t sequence = 0;
    for (int operation = 0; operation < scenario.operations; ++operation) {
        // Blocks other threads passed here are freed here (remote frees).
        for (const Block& block : mailboxes[index].take()) {
            checked_free(allocator, memory, block, outcome);
        }
        unsigned choice = static_cast<unsigned>(rng() % 100);
        unsigned allocate_percent = held_frames < greedy_limit ? 50 : 25;
        if (choice < allocate_percent || held.empty()) {
            std::uint32_t frames = random_size(rng, scenario.largest_request);
            std::uint64_t alignment = rng() % 8 == 0 ? std::uint64_t{1} << (rng() % 10) : 1;
            lib::Result<PhysAddr, mm::AllocError> result = allocator.allocate(frames, alignment);
            if (!result.ok()) {
                outcome.out_of_memory.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            Block block{result.value(), frames, std::uint64_t{index} << 48 | ++sequence};
            if (!inside_regions(scenario.regions, block) ||
                block.address % (alignment * mm::kFrameSize) != 0) {
                outcome.bad_addresses.fetch_add(1, std::memory_order_relaxed);
                continue;  // never touch memory outside the fake range
            }
            alloc_test::stamp(memory, block);
            held.push_back(block);
            held_frames += frames;
            outcome.allocations.fetch_add(1, std::memory_order_relaxed);
        } else {
            std::size_t pick = rng() % held.size();
            Block block = held[pick];
            held[pick] = held.back();
            held.pop_back();
            held_frames -= block.frames;
            unsigned to = (index + 1 + static_cast<unsigned>(rng() % (scenario.threads - 1))) %
                          scenario.threads;
            // Threads get very different shares of the host's two cores; a slow thread's
            // mailbox is not filled further, or it would end up holding all the memory.
            if (choice < 85 || mailboxes[to].size() >= kMailboxLimit) {
                checked_free(allocator, memory, block, outcome);
            } else {
                mailboxes[to].post(block);
                outcome.remote_posts.fetch_add(1, std::memory_order_relaxed);
            }
        }
    }
    for (const Block& block : held) {
        checked_free(allocator, memory, block, outcome);
    }
    // Keep serving the mailbox until every thread is done, so blocks posted to a thread that
    // finished early do not pile up there and starve the others.
    outcome.finished_threads.fetch_add(1, std::memory_order_acq_rel);
    while (outcome.finished_threads.load(std::memory_order_acquire) < scenario.threads) {
        for (const Block& block : mailboxes[index].take()) {
            checked_free(allocator, memory, block, outcome);
        }
        std::this_thread::yield();
    }
}

template <bool kDebugFill>
void run_scenario(const Scenario& scenario) {
    FakeMemory memory(0, scenario.memory_bytes);
    HostPlatform::memory = &memory;
    HostPlatform::take_reports();
    Harness<kDebugFill> harness(scenario.regions);
    REQUIRE(harness.init_ok);
    auto& allocator = *harness.allocator;
    allocator.set_mode(scenario.mode);
    std::vector<Mailbox> mailboxes(scenario.threads);
    Outcome outcome;
    alloc_test::run_threads(scenario.threads, [&](unsigned index) {
        worker(index, scenario, allocator, memory, mailboxes, outcome);
    });
    for (Mailbox& mailbox : mailboxes) {
        for (const Block& block : mailbox.take()) {
            checked_free(allocator, memory, block, outcome);
        }
    }
    CHECK(outcome.damaged.load() == 0);
    CHECK(outcome.refused.load() == 0);  // every block freed exactly once, successfully
    CHECK(outcome.bad_addresses.load() == 0);
    CHECK(outcome.allocations.load() > scenario.threads * scenario.operations / 10);
    CHECK(HostPlatform::take_reports().empty());  // debug fill: no false use-after-free
    mm::InvariantReport report = allocator.check_invariants();
    INFO("invariant: " << report.what << " area " << report.area);
    CHECK(report.ok);
    mm::Totals totals = allocator.totals();
    CHECK(totals.free_frames == totals.total_frames);
    CHECK(allocator.fragmentation().free_frames == totals.total_frames);
    std::uint64_t allocated = 0;
    std::uint64_t freed = 0;
    std::uint64_t shares = 0;
    std::uint64_t sweeps = 0;
    for (unsigned cpu = 0; cpu < scenario.threads; ++cpu) {
        allocated += allocator.cpu_stats(cpu).frames_allocated;
        freed += allocator.cpu_stats(cpu).frames_freed;
        shares += allocator.cpu_stats(cpu).shares;
        sweeps += allocator.cpu_stats(cpu).extent_sweeps;
    }
    CHECK(allocated == freed);
    CHECK(sweeps > 0);  // The threads raced through the sweep path too, not only the marker.
    if (scenario.mode == mm::Mode::per_cpu && scenario.threads > allocator.area_count()) {
        CHECK(shares > 0);  // more CPUs than areas: some must share
    }
    if (scenario.threads > 1) {
        CHECK(outcome.remote_posts.load() > 0);
    }
    HostPlatform::memory = nullptr;
}

// Four areas of different sizes in 68 MiB: [0, 20) [24, 32) [32, 64) [64, 72) MiB.
Scenario four_areas(mm::Mode mode, std::uint64_t seed) {
    Scenario scenario;
    scenario.regions = {{0, 20 * lib::MiB}, {24 * lib::MiB, 72 * lib::MiB}};
    scenario.memory_bytes = 72 * lib::MiB;
    scenario.mode = mode;
    scenario.seed = seed;
    return scenario;
}

}  // namespace

TEST_CASE("allocator threads: random sizes and remote frees, per-CPU mode") {
    for (std::uint64_t seed : {1, 2, 3}) {
        run_scenario<false>(four_areas(mm::Mode::per_cpu, seed));
    }
}

TEST_CASE("allocator threads: random sizes and remote frees, global-lock mode") {
    run_scenario<false>(four_areas(mm::Mode::global_lock, 10));
}

TEST_CASE("allocator threads: debug fill stays silent when nobody writes after free") {
    Scenario scenario = four_areas(mm::Mode::per_cpu, 3);
    scenario.operations = 5000;
    run_scenario<true>(scenario);
}

TEST_CASE("allocator threads: eight threads on two small areas share and run out") {
    // 2 x 2 MiB: more threads than areas, and little enough memory to hit exhaustion.
    Scenario scenario;
    scenario.regions = {{0, 2 * lib::MiB}, {32 * lib::MiB, 34 * lib::MiB}};
    scenario.memory_bytes = 34 * lib::MiB;
    scenario.threads = 8;
    scenario.operations = 10000;
    scenario.largest_request = 32;
    for (mm::Mode mode : {mm::Mode::per_cpu, mm::Mode::global_lock}) {
        scenario.mode = mode;
        scenario.seed = mode == mm::Mode::per_cpu ? 4 : 5;
        run_scenario<false>(scenario);
    }
}
