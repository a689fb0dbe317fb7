// The object heap with real threads, one simulated CPU each (also built with ThreadSanitizer):
// producer/consumer frees across threads, random sizes with remote frees, magazine exchanges
// racing on one cache, and forced interleavings: a thread parked at a named stop point while
// the others run.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <deque>
#include <latch>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "../heap_test_support.hpp"
#include "heap/heap.hpp"

namespace {

using heap_test::CountingLock;
using heap_test::HeapHarness;
using heap_test::HeapPlatform;

struct Tagged {
    void* pointer;
    std::size_t bytes;
    std::uint64_t tag;
};

void stamp(const Tagged& t) {
    auto* words = static_cast<std::uint64_t*>(t.pointer);
    words[0] = t.tag;
    words[t.bytes / 8 - 1] = ~t.tag;
}
bool intact(const Tagged& t) {
    auto* words = static_cast<std::uint64_t*>(t.pointer);
    return words[0] == t.tag && words[t.bytes / 8 - 1] == ~t.tag;
}

// A locked queue from one thread to another.
class Channel {
  public:
    void push(const Tagged& t) {
        std::lock_guard<std::mutex> guard(mutex_);
        items_.push_back(t);
    }
    bool pop(Tagged& t) {
        std::lock_guard<std::mutex> guard(mutex_);
        if (items_.empty()) {
            return false;
        }
        t = items_.front();
        items_.pop_front();
        return true;
    }

  private:
    std::mutex mutex_;
    std::deque<Tagged> items_;
};

template <typename Body>
void run_threads(unsigned threads, Body body) {
    std::latch start(threads);
    std::vector<std::thread> workers;
    for (unsigned index = 0; index < threads; ++index) {
        workers.emplace_back([&, index] {
            alloc_test::HostPlatform::current_cpu = index;
            start.arrive_and_wait();
            body(index);
            HeapPlatform::parking.reached(heap::StopPoint::depot_locked);  // never armed here
        });
    }
    for (std::thread& worker : workers) {
        worker.join();
    }
    alloc_test::HostPlatform::current_cpu = 0;
}

// After the threads: every CPU's magazines flushed and a reclaim, so every frame is back.
template <typename Harness>
void check_everything_back(Harness& h, std::uint64_t frames_before) {
    h.check();
    for (unsigned cpu = 0; cpu < heap_test::kTestCpus; ++cpu) {
        alloc_test::HostPlatform::current_cpu = cpu;
        h.heap->flush_this_cpu();
    }
    alloc_test::HostPlatform::current_cpu = 0;
    h.heap->reclaim();
    h.check();
    CHECK(h.free_frames() == frames_before);
    CHECK(HeapPlatform::take_bad_frees().empty());
}

TEST_CASE("heap threads: one thread allocates, another frees: objects are never handed out twice") {
    HeapHarness<> h(16 * lib::MiB);
    std::uint64_t frames_before = h.free_frames();
    Channel channel;
    std::atomic<bool> producing{true};
    std::atomic<std::uint64_t> damaged{0}, refused{0}, consumed{0};
    constexpr int kObjects = 60000;
    run_threads(2, [&](unsigned index) {
        if (index == 0) {
            for (int i = 0; i < kObjects; ++i) {
                std::size_t bytes = i % 3 == 0 ? 64 : 1024;
                auto p = h.heap->allocate(bytes);
                if (!p) {
                    --i;
                    std::this_thread::yield();
                    continue;
                }
                Tagged t{p.value(), bytes, std::uint64_t(i) + 1};
                stamp(t);
                channel.push(t);
            }
            producing.store(false);
        } else {
            Tagged t;
            for (;;) {
                bool done = !producing.load();  // read before the pop: nothing comes after
                if (channel.pop(t)) {
                    damaged += intact(t) ? 0 : 1;
                    refused += h.heap->free(t.pointer, nullptr).ok() ? 0 : 1;
                    ++consumed;
                } else if (done) {
                    break;
                } else {
                    std::this_thread::yield();
                }
            }
        }
    });
    CHECK(consumed == kObjects);
    CHECK(damaged == 0);
    CHECK(refused == 0);
    // The consumer's full magazines went through the depot back to the producer.
    CHECK(h.heap->size_class(heap::size_class_of(64)).stats().depot_full <=
          HeapHarness<>::Cache::kDepotFullLimit);
    check_everything_back(h, frames_before);
}

TEST_CASE("heap threads: random sizes on every thread with remote frees") {
    HeapHarness<> h(32 * lib::MiB);
    std::uint64_t frames_before = h.free_frames();
    constexpr unsigned kThreads = 4;
    Channel inbox[kThreads];
    std::atomic<std::uint64_t> damaged{0}, refused{0};
    run_threads(kThreads, [&](unsigned index) {
        std::mt19937_64 rng(index + 1);
        std::vector<Tagged> held;
        std::uint64_t sequence = 0;
        auto release = [&](const Tagged& t) {
            damaged += intact(t) ? 0 : 1;
            refused += h.heap->free(t.pointer, nullptr).ok() ? 0 : 1;
        };
        for (int step = 0; step < 20000; ++step) {
            Tagged t;
            while (inbox[index].pop(t)) {
                release(t);
            }
            if (held.empty() || (held.size() < 500 && rng() % 2 == 0)) {
                std::size_t bytes = 16 * (1 + rng() % (rng() % 8 == 0 ? 256 : 16));
                auto p = h.heap->allocate(bytes);
                if (!p) {
                    continue;
                }
                t = {p.value(), bytes, (std::uint64_t{index} << 48) | ++sequence};
                stamp(t);
                held.push_back(t);
            } else {
                std::size_t pick = rng() % held.size();
                t = held[pick];
                held[pick] = held.back();
                held.pop_back();
                if (rng() % 3 == 0) {
                    inbox[(index + 1 + rng() % (kThreads - 1)) % kThreads].push(t);
                } else {
                    release(t);
                }
            }
        }
        for (const Tagged& t : held) {
            release(t);
        }
    });
    for (Channel& channel : inbox) {
        Tagged t;
        while (channel.pop(t)) {
            damaged += intact(t) ? 0 : 1;
            refused += h.heap->free(t.pointer, nullptr).ok() ? 0 : 1;
        }
    }
    CHECK(damaged == 0);
    CHECK(refused == 0);
    check_everything_back(h, frames_before);
}

TEST_CASE("heap threads: magazine exchanges with the depot race on one cache") {
    HeapHarness<> h(16 * lib::MiB);
    std::uint64_t frames_before = h.free_frames();
    auto& cache = h.heap->size_class(heap::size_class_of(32));
    std::atomic<std::uint64_t> damaged{0}, refused{0};
    run_threads(4, [&](unsigned index) {
        std::vector<Tagged> batch;
        for (int round = 0; round < 200; ++round) {
            // Three magazines' worth out and back: each round exchanges with the depot.
            for (std::uint32_t i = 0; i < 3 * cache.magazine_rounds(); ++i) {
                auto p = h.heap->allocate(32);
                if (p) {
                    batch.push_back({p.value(), 32, (std::uint64_t{index} << 32) | i});
                    stamp(batch.back());
                }
            }
            for (const Tagged& t : batch) {
                damaged += intact(t) ? 0 : 1;
                refused += h.heap->free(t.pointer, nullptr).ok() ? 0 : 1;
            }
            batch.clear();
            if (round % 50 == 49) {
                h.heap->reclaim();  // depots emptied under the others' feet
            }
        }
    });
    CHECK(damaged == 0);
    CHECK(refused == 0);
    heap::CacheStats s = cache.stats();
    CHECK(s.in_use == 0);
    CHECK(s.allocations == s.frees);
    check_everything_back(h, frames_before);
}

// Forced interleavings. `parked` runs on CPU 1 and is parked at `where`; `meanwhile` runs on
// CPU 2 while it is; then the parked thread is released and finishes.
template <typename Parked, typename Meanwhile>
void with_parked_thread(heap::StopPoint where, Parked parked, Meanwhile meanwhile) {
    HeapPlatform::parking.arm(where);
    std::thread first([&] {
        alloc_test::HostPlatform::current_cpu = 1;
        heap_test::Parking::thread_may_park = true;
        parked();
        heap_test::Parking::thread_may_park = false;
    });
    HeapPlatform::parking.wait_until_parked();
    std::thread second([&] {
        alloc_test::HostPlatform::current_cpu = 2;
        meanwhile();
    });
    second.join();
    HeapPlatform::parking.release();
    first.join();
    alloc_test::HostPlatform::current_cpu = 0;
}

TEST_CASE("heap interleaving: a CPU's fast path takes no lock while another holds the depot") {
    HeapHarness<> h(8 * lib::MiB);
    std::uint64_t frames_before = h.free_frames();
    std::uint64_t locks_taken = ~std::uint64_t{0};
    std::vector<void*> held;
    // CPU 2 warms up: its loaded magazine gets objects to serve pairs from.
    alloc_test::HostPlatform::current_cpu = 2;
    REQUIRE(h.heap->free(h.heap->allocate(64).value(), nullptr).ok());
    with_parked_thread(
        heap::StopPoint::depot_locked,
        [&] {
            // CPU 1 has no magazine yet: its first allocation exchanges under the lock.
            void* p = h.heap->allocate(64).value();
            REQUIRE(h.heap->free(p, nullptr).ok());
        },
        [&] {
            std::uint64_t before = CountingLock::taken_by_this_thread;
            for (int i = 0; i < 10000; ++i) {
                void* p = h.heap->allocate(64).value();
                if (h.heap->free(p, nullptr).ok()) {
                    continue;
                }
            }
            locks_taken = CountingLock::taken_by_this_thread - before;
        });
    CHECK(locks_taken == 0);
    check_everything_back(h, frames_before);
}

TEST_CASE("heap interleaving: a remote free goes to the freeing CPU's magazine without a lock") {
    HeapHarness<> h(8 * lib::MiB);
    std::uint64_t frames_before = h.free_frames();
    // CPU 1 allocates X; CPU 2 warms up so its loaded magazine has room.
    alloc_test::HostPlatform::current_cpu = 1;
    void* x = h.heap->allocate(128).value();
    alloc_test::HostPlatform::current_cpu = 2;
    REQUIRE(h.heap->free(h.heap->allocate(128).value(), nullptr).ok());
    void* again = nullptr;
    std::uint64_t locks_taken = ~std::uint64_t{0};
    auto& cache = h.heap->size_class(heap::size_class_of(128));
    std::vector<void*> drained;
    with_parked_thread(
        heap::StopPoint::depot_locked,
        [&] {
            // CPU 1 empties its magazines and parks in the exchange that follows, lock held.
            for (;;) {
                void* p = h.heap->allocate(128).value();
                drained.push_back(p);
                if (cache.stats().slabs > 1) {
                    break;
                }
            }
        },
        [&] {
            std::uint64_t before = CountingLock::taken_by_this_thread;
            REQUIRE(h.heap->free(x, nullptr).ok());  // allocated on CPU 1, freed on CPU 2
            again = h.heap->allocate(128).value();   // the freeing CPU's magazine gives it back
            locks_taken = CountingLock::taken_by_this_thread - before;
        });
    CHECK(locks_taken == 0);
    CHECK(again == x);
    alloc_test::HostPlatform::current_cpu = 2;
    REQUIRE(h.heap->free(again, nullptr).ok());
    alloc_test::HostPlatform::current_cpu = 1;
    for (void* p : drained) {
        REQUIRE(h.heap->free(p, nullptr).ok());
    }
    check_everything_back(h, frames_before);
}

TEST_CASE("heap interleaving: a reclaim while a CPU is taking frames for a new slab") {
    HeapHarness<> h(8 * lib::MiB);
    std::uint64_t frames_before = h.free_frames();
    // Leave an empty slab and a full depot behind, for the reclaim to give back.
    std::vector<void*> held;
    alloc_test::HostPlatform::current_cpu = 3;
    for (int i = 0; i < 2000; ++i) {
        held.push_back(h.heap->allocate(256).value());
    }
    for (void* p : held) {
        REQUIRE(h.heap->free(p, nullptr).ok());
    }
    std::size_t reclaimed = 0;
    void* fresh = nullptr;
    with_parked_thread(
        heap::StopPoint::slab_frames_unlocked,
        [&] { fresh = h.heap->allocate(16).value(); },  // kmalloc-16 has no slab yet
        [&] { reclaimed = h.heap->reclaim(); });        // holds no lock the parked CPU needs
    CHECK(reclaimed > 0);
    REQUIRE(fresh != nullptr);
    h.check();
    alloc_test::HostPlatform::current_cpu = 1;
    REQUIRE(h.heap->free(fresh, nullptr).ok());
    check_everything_back(h, frames_before);
}

}  // namespace

namespace {

TEST_CASE("heap interleaving: a reclaim holding a cache's lock stops no CPU's fast path") {
    HeapHarness<> h(8 * lib::MiB);
    std::uint64_t frames_before = h.free_frames();
    // Something for the reclaim to do in kmalloc-64, and a warm magazine on CPU 2.
    alloc_test::HostPlatform::current_cpu = 3;
    std::vector<void*> held;
    for (int i = 0; i < 500; ++i) {
        held.push_back(h.heap->allocate(64).value());
    }
    for (void* p : held) {
        REQUIRE(h.heap->free(p, nullptr).ok());
    }
    alloc_test::HostPlatform::current_cpu = 2;
    REQUIRE(h.heap->free(h.heap->allocate(64).value(), nullptr).ok());
    std::uint64_t locks_taken = ~std::uint64_t{0};
    std::size_t reclaimed = 0;
    with_parked_thread(
        heap::StopPoint::reclaim_locked, [&] { reclaimed = h.heap->reclaim(); },
        [&] {
            std::uint64_t before = CountingLock::taken_by_this_thread;
            for (int i = 0; i < 10000; ++i) {
                void* p = h.heap->allocate(64).value();
                REQUIRE(h.heap->free(p, nullptr).ok());
            }
            locks_taken = CountingLock::taken_by_this_thread - before;
        });
    CHECK(locks_taken == 0);
    CHECK(reclaimed > 0);
    check_everything_back(h, frames_before);
}

}  // namespace
