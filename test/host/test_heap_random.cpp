// The heap against a reference model under long seeded random sequences: random sizes, named
// caches, frees on other simulated CPUs than the allocating one, double frees of recently freed
// objects, flushes and reclaims. The model holds every live object's range and tag; every
// answer is checked against it, the invariants every few hundred steps, and at the end every
// frame is back.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <random>
#include <vector>

#include "heap/heap.hpp"
#include "heap_test_support.hpp"

namespace {

using heap_test::HeapHarness;
using heap_test::HeapPlatform;

struct Live {
    std::size_t bytes;
    std::uint64_t tag;
    int cache;  // -1: kmalloc, else the named cache's index
};

void stamp(void* p, std::size_t bytes, std::uint64_t tag) {
    std::memcpy(p, &tag, bytes < 8 ? bytes : 8);
    if (bytes >= 16) {
        std::memcpy(static_cast<std::uint8_t*>(p) + bytes - 8, &tag, 8);
    }
}

bool stamped(const void* p, std::size_t bytes, std::uint64_t tag) {
    std::uint64_t head = 0, tail = tag;
    std::memcpy(&head, p, bytes < 8 ? bytes : 8);
    if (bytes >= 16) {
        std::memcpy(&tail, static_cast<const std::uint8_t*>(p) + bytes - 8, 8);
    }
    std::uint64_t mask = bytes >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (bytes * 8)) - 1;
    return (head & mask) == (tag & mask) && tail == tag;
}

template <bool kDebug>
void run_model(std::uint64_t seed, int steps, std::size_t memory_bytes) {
    HeapHarness<kDebug> h(memory_bytes);
    using Cache = typename HeapHarness<kDebug>::Cache;
    Cache named[2];
    const std::size_t named_sizes[2] = {24, 200};
    REQUIRE(h.heap->add_cache(named[0], "small-node", named_sizes[0], 8));
    REQUIRE(h.heap->add_cache(named[1], "record", named_sizes[1], 64));
    std::uint64_t frames_before = h.free_frames();

    std::mt19937_64 rng(seed);
    std::map<std::uintptr_t, Live> live;
    std::vector<void*> recently_freed;
    std::uint64_t next_tag = 1, out_of_memory = 0, refused_as_expected = 0;
    auto overlaps = [&](std::uintptr_t at, std::size_t bytes) {
        auto after = live.lower_bound(at);
        if (after != live.end() && after->first < at + bytes) {
            return true;
        }
        if (after != live.begin()) {
            auto before = std::prev(after);
            if (before->first + before->second.bytes > at) {
                return true;
            }
        }
        return false;
    };
    for (int step = 0; step < steps; ++step) {
        alloc_test::HostPlatform::current_cpu = unsigned(rng() % heap_test::kTestCpus);
        unsigned choice = unsigned(rng() % 100);
        if (choice < 50 || live.empty()) {
            int cache = rng() % 5 == 0 ? int(rng() % 2) : -1;
            std::size_t bytes = cache >= 0        ? named_sizes[cache]
                                : rng() % 50 == 0 ? 4097 + rng() % 20000
                                                  : 1 + rng() % (rng() % 4 == 0 ? 4096 : 256);
            auto result = cache >= 0 ? named[cache].allocate() : h.heap->allocate(bytes);
            if (!result) {
                REQUIRE(result.error() == heap::AllocError::out_of_memory);
                ++out_of_memory;
                continue;
            }
            auto at = reinterpret_cast<std::uintptr_t>(result.value());
            REQUIRE_FALSE(overlaps(at, bytes));
            std::uint64_t tag = next_tag++;
            stamp(result.value(), bytes, tag);
            live[at] = {bytes, tag, cache};
        } else if (choice < 95) {
            auto it = live.begin();
            std::advance(it, rng() % live.size());
            void* p = reinterpret_cast<void*>(it->first);
            REQUIRE(stamped(p, it->second.bytes, it->second.tag));
            int cache = it->second.cache;
            auto status = cache >= 0 && rng() % 2 == 0 ? named[cache].free(p, nullptr)
                                                       : h.heap->free(p, nullptr);
            REQUIRE(status.ok());
            live.erase(it);
            recently_freed.push_back(p);
            if (recently_freed.size() > 64) {
                recently_freed.erase(recently_freed.begin());
            }
        } else if (choice < 98 && !recently_freed.empty()) {
            // A double free, unless the object was handed out again meanwhile.
            void* p = recently_freed[rng() % recently_freed.size()];
            if (live.count(reinterpret_cast<std::uintptr_t>(p)) == 0) {
                REQUIRE_FALSE(h.heap->free(p, nullptr).ok());
                ++refused_as_expected;
            }
        } else if (choice < 99) {
            h.heap->flush_this_cpu();
        } else {
            h.heap->reclaim();
        }
        if (step % 500 == 0) {
            h.check();
        }
    }
    CHECK(HeapPlatform::take_bad_frees().size() == refused_as_expected);
    for (auto& [at, object] : live) {
        REQUIRE(stamped(reinterpret_cast<void*>(at), object.bytes, object.tag));
        REQUIRE(h.heap->free(reinterpret_cast<void*>(at), nullptr).ok());
    }
    h.check();
    for (unsigned cpu = 0; cpu < heap_test::kTestCpus; ++cpu) {
        alloc_test::HostPlatform::current_cpu = cpu;
        h.heap->flush_this_cpu();
    }
    h.heap->reclaim();
    h.check();
    CHECK(h.free_frames() == frames_before);
    CHECK(HeapPlatform::take_corruptions().empty());
    MESSAGE("seed " << seed << ": " << next_tag - 1 << " allocations, " << out_of_memory
                    << " out of memory, " << refused_as_expected << " double frees refused");
}

TEST_CASE("heap random: a reference model agrees over long seeded sequences") {
    for (std::uint64_t seed : {1, 2, 3}) {
        run_model<false>(seed, 30000, 16 * lib::MiB);
    }
}

TEST_CASE("heap random: the model holds when memory runs out over and over") {
    run_model<false>(7, 30000, 2 * lib::MiB);
}

TEST_CASE("heap random: the debug build agrees with the model and finds no corruption") {
    run_model<true>(11, 20000, 16 * lib::MiB);
}

}  // namespace
