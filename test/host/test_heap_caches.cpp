// The object heap on one thread: size classes, slab geometry, named caches with constructors,
// the magazine and depot exchange, giving memory back with hysteresis, and reclaim.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <vector>

#include "heap/heap.hpp"
#include "heap/size_classes.hpp"
#include "heap/slab.hpp"
#include "heap_test_support.hpp"

namespace {

using heap_test::HeapHarness;
using heap_test::must_allocate;

TEST_CASE("heap: every size from 1 to 4096 bytes goes to the smallest class that holds it") {
    for (std::size_t bytes = 1; bytes <= heap::kLargestClass; ++bytes) {
        std::size_t cls = heap::size_class_of(bytes);
        REQUIRE(cls < heap::kSizeClasses.size());
        CHECK(heap::kSizeClasses[cls] >= bytes);
        if (cls > 0) {
            CHECK(heap::kSizeClasses[cls - 1] < bytes);
        }
    }
}

TEST_CASE("heap: slab headers and tail waste cost at most 1/16 of a slab for every class") {
    for (std::uint32_t size : heap::kSizeClasses) {
        heap::SlabGeometry g = heap::slab_geometry(size, heap::kMinAlignment);
        INFO("class " << size << ": " << g.frames << " frames, " << g.capacity << " objects");
        REQUIRE(g.capacity > 0);
        CHECK(g.waste() * 16 <= g.bytes());
        CHECK(g.first_offset + g.capacity * g.stride <= g.bytes());
        CHECK(g.first_offset >= heap::kSlabHeaderBytes + g.capacity);  // room for the states
    }
}

TEST_CASE("heap: the stride divider finds every object's index exactly") {
    for (std::uint32_t stride : {16u, 48u, 96u, 1536u, 3072u, 4104u, 65536u}) {
        auto divider = heap::StrideDivider::for_stride(stride);
        for (std::uint64_t offset = 0; offset < 65536; ++offset) {
            REQUIRE(divider.index(offset) == offset / stride);
        }
    }
}

TEST_CASE("heap: kmalloc hands out distinct, aligned, writable objects and takes them back") {
    HeapHarness<> h(8 * lib::MiB);
    std::uint64_t free_before = h.free_frames();
    std::vector<std::pair<std::uint8_t*, std::size_t>> held;
    std::set<std::uintptr_t> seen;
    for (std::size_t bytes : {1, 15, 16, 17, 63, 64, 100, 500, 1024, 2000, 4096, 4097, 20000}) {
        for (int i = 0; i < 40; ++i) {
            auto* p = static_cast<std::uint8_t*>(must_allocate(*h.heap, bytes));
            CHECK(reinterpret_cast<std::uintptr_t>(p) % heap::kMinAlignment == 0);
            CHECK(seen.insert(reinterpret_cast<std::uintptr_t>(p)).second);
            std::memset(p, int(bytes & 0xff), bytes);
            held.push_back({p, bytes});
        }
    }
    h.check();
    for (auto [p, bytes] : held) {
        for (std::size_t i = 0; i < bytes; ++i) {
            REQUIRE(p[i] == std::uint8_t(bytes & 0xff));
        }
        REQUIRE(h.heap->free(p, nullptr).ok());
    }
    h.check();
    CHECK(h.heap->large_allocations() == 0);
    h.heap->flush_this_cpu();
    h.heap->reclaim();
    h.check();
    CHECK(h.free_frames() == free_before);  // every frame back: slabs, magazines, large
    CHECK(heap_test::HeapPlatform::take_bad_frees().empty());
}

TEST_CASE("heap: requests of 0 bytes or beyond the largest are refused as invalid") {
    HeapHarness<> h(4 * lib::MiB);
    CHECK(h.heap->allocate(0).error() == heap::AllocError::invalid_size);
    CHECK(h.heap->allocate(heap::kLargestRequest + 1).error() == heap::AllocError::invalid_size);
    CHECK(h.heap->free(nullptr, nullptr).ok());
}

TEST_CASE("heap: a request above 4 KiB takes whole frames from the frame allocator") {
    HeapHarness<> h(4 * lib::MiB);
    std::uint64_t before = h.free_frames();
    void* p = must_allocate(*h.heap, 3 * 4096 + 1);
    CHECK(reinterpret_cast<std::uintptr_t>(p) % 4096 == 0);
    CHECK(h.free_frames() == before - 4);
    CHECK(h.heap->large_frames() == 4);
    REQUIRE(h.heap->free(p, nullptr).ok());
    CHECK(h.free_frames() == before);
}

struct Connection {
    std::uint64_t magic;
    std::uint32_t constructed;
    std::uint32_t uses;
};

void construct_connection(void* object) {
    auto* c = static_cast<Connection*>(object);
    c->magic = 0xC0FFEE;
    c->constructed += 1;  // objects start zeroed in fresh fake memory
    c->uses = 0;
}

TEST_CASE("heap: a named cache runs its constructor once per object, and objects keep state") {
    HeapHarness<> h(4 * lib::MiB);
    HeapHarness<>::Cache cache;
    REQUIRE(h.heap->add_cache(cache, "connection", sizeof(Connection), alignof(Connection),
                              construct_connection));
    std::vector<Connection*> held;
    for (int i = 0; i < 200; ++i) {
        auto* c = static_cast<Connection*>(cache.allocate().value());
        REQUIRE(c->magic == 0xC0FFEE);
        c->uses += 1;
        held.push_back(c);
    }
    for (Connection* c : held) {
        REQUIRE(cache.free(c, nullptr).ok());
    }
    held.clear();
    for (int i = 0; i < 200; ++i) {
        auto* c = static_cast<Connection*>(cache.allocate().value());
        CHECK(c->constructed == 1);  // never constructed twice
        CHECK(c->uses == 1);         // the state it was freed with
        held.push_back(c);
    }
    for (Connection* c : held) {
        REQUIRE(cache.free(c, nullptr).ok());
    }
    h.check();
    CHECK(cache.stats().in_use == 0);
}

TEST_CASE("heap: named caches refuse sizes and alignments they cannot serve") {
    HeapHarness<> h(4 * lib::MiB);
    HeapHarness<>::Cache a, b, c;
    CHECK_FALSE(h.heap->add_cache(a, "zero", 0, 8));
    CHECK_FALSE(h.heap->add_cache(b, "odd-align", 64, 24));
    CHECK_FALSE(h.heap->add_cache(c, "huge", 65537, 8));
    HeapHarness<>::Cache d;
    REQUIRE(h.heap->add_cache(d, "page-aligned", 100, 4096));
    void* p = d.allocate().value();
    CHECK(reinterpret_cast<std::uintptr_t>(p) % 4096 == 0);
    REQUIRE(d.free(p, nullptr).ok());
}

TEST_CASE("heap: a CPU's magazines serve repeated pairs without the depot or the slabs") {
    HeapHarness<> h(4 * lib::MiB);
    auto& cache = h.heap->size_class(heap::size_class_of(64));
    // Warm up: the first allocation fills a magazine from a new slab.
    void* p = must_allocate(*h.heap, 64);
    REQUIRE(h.heap->free(p, nullptr).ok());
    heap::CacheStats before = cache.stats();
    for (int i = 0; i < 10000; ++i) {
        p = must_allocate(*h.heap, 64);
        REQUIRE(h.heap->free(p, nullptr).ok());
    }
    heap::CacheStats after = cache.stats();
    CHECK(after.allocations - before.allocations == 10000);
    CHECK(after.fast_allocations - before.fast_allocations == 10000);
    CHECK(after.fast_frees - before.fast_frees == 10000);
    CHECK(after.slabs_created == before.slabs_created);
}

TEST_CASE("heap: full magazines go to the depot and come back from it whole") {
    HeapHarness<> h(8 * lib::MiB);
    auto& cache = h.heap->size_class(heap::size_class_of(64));
    std::uint32_t rounds = cache.magazine_rounds();
    std::vector<void*> held;
    for (std::uint32_t i = 0; i < 5 * rounds; ++i) {
        held.push_back(must_allocate(*h.heap, 64));
    }
    // Refills take a magazine's worth from the slabs, so a few may wait in the loaded one.
    std::uint64_t left_over = cache.stats().in_magazines;
    CHECK(left_over < rounds);
    for (void* p : held) {
        REQUIRE(h.heap->free(p, nullptr).ok());
    }
    // Five magazines' worth freed: two stay on the CPU, the rest went to the depot full.
    heap::CacheStats s = cache.stats();
    CHECK(s.depot_full >= 2);
    CHECK(s.in_magazines == 5 * rounds + left_over);
    h.check();
    std::uint64_t created = s.slabs_created;
    for (std::uint32_t i = 0; i < 5 * rounds; ++i) {
        held[i] = must_allocate(*h.heap, 64);
    }
    s = cache.stats();
    CHECK(s.depot_full == 0);           // taken back
    CHECK(s.slabs_created == created);  // without new slabs
    for (void* p : held) {
        REQUIRE(h.heap->free(p, nullptr).ok());
    }
    h.check();
}

TEST_CASE("heap: the depot keeps a bounded number of full magazines") {
    HeapHarness<> h(16 * lib::MiB);
    auto& cache = h.heap->size_class(heap::size_class_of(16));
    std::vector<void*> held;
    for (std::uint32_t i = 0; i < 40 * cache.magazine_rounds(); ++i) {
        held.push_back(must_allocate(*h.heap, 16));
    }
    for (void* p : held) {
        REQUIRE(h.heap->free(p, nullptr).ok());
    }
    heap::CacheStats s = cache.stats();
    CHECK(s.depot_full == HeapHarness<>::Cache::kDepotFullLimit);
    CHECK(s.in_magazines <= (HeapHarness<>::Cache::kDepotFullLimit + 2) * cache.magazine_rounds());
    h.check();
}

TEST_CASE("heap: empty slabs return their frames beyond the few kept against churn") {
    HeapHarness<> h(16 * lib::MiB);
    h.heap->set_mode(heap::Mode::global_lock);  // no magazines: frees reach the slabs at once
    auto& cache = h.heap->size_class(heap::size_class_of(1024));
    std::uint32_t per_slab = cache.geometry().capacity;
    std::vector<void*> held;
    for (std::uint32_t i = 0; i < 20 * per_slab; ++i) {
        held.push_back(must_allocate(*h.heap, 1024));
    }
    CHECK(cache.stats().slabs == 20);
    for (void* p : held) {
        REQUIRE(h.heap->free(p, nullptr).ok());
    }
    heap::CacheStats s = cache.stats();
    CHECK(s.slabs == cache.empty_slabs_kept());
    CHECK(s.slabs_released == 20 - s.slabs);
    h.check();

    SUBCASE("at its working size a cache does not churn") {
        std::uint64_t created = cache.stats().slabs_created;
        for (int round = 0; round < 100; ++round) {
            void* p = must_allocate(*h.heap, 1024);
            REQUIRE(h.heap->free(p, nullptr).ok());
        }
        CHECK(cache.stats().slabs_created == created);
    }
}

TEST_CASE("heap: reclaim empties the depot and returns every empty slab and magazine frame") {
    HeapHarness<> h(16 * lib::MiB);
    std::uint64_t before = h.free_frames();
    std::vector<void*> held;
    for (int i = 0; i < 3000; ++i) {
        held.push_back(must_allocate(*h.heap, 16 + (i % 7) * 100));
    }
    for (void* p : held) {
        REQUIRE(h.heap->free(p, nullptr).ok());
    }
    CHECK(h.free_frames() < before);
    std::size_t given = h.heap->reclaim();
    CHECK(given > 0);
    h.check();
    h.heap->flush_this_cpu();
    h.heap->reclaim();
    h.check();
    CHECK(h.free_frames() == before);
    CHECK(h.heap->magazine_frames() == 0);
}

TEST_CASE("heap: the frame allocator asks the heap to reclaim before it fails") {
    HeapHarness<> h(4 * lib::MiB);
    // In global-lock mode too: the hook runs holding none of the allocator's locks (a hook that
    // frees frames while the allocator held its lock would deadlock here).
    bool global = false;
    SUBCASE("per-CPU frame allocator") {}
    SUBCASE("global-lock frame allocator") {
        global = true;
    }
    h.frames.allocator->set_mode(global ? mm::Mode::global_lock : mm::Mode::per_cpu);
    std::vector<void*> held;
    for (int i = 0; i < 4000; ++i) {
        held.push_back(must_allocate(*h.heap, 256));
    }
    for (void* p : held) {
        REQUIRE(h.heap->free(p, nullptr).ok());
    }
    h.heap->flush_this_cpu();  // the rest waits in the depot and the kept empty slabs
    std::uint64_t reclaims = h.heap->reclaims();
    // Take every frame: the last requests succeed only with the frames the heap holds.
    std::vector<mm::PhysAddr> frames;
    std::uint64_t total = h.frames.allocator->totals().total_frames;
    for (;;) {
        auto frame = h.frames.allocator->allocate(1);
        if (!frame) {
            break;
        }
        frames.push_back(frame.value());
    }
    CHECK(h.heap->reclaims() > reclaims);
    CHECK(frames.size() == total);  // everything, the heap's frames included
    for (mm::PhysAddr frame : frames) {
        REQUIRE(h.frames.allocator->free(frame, 1).ok());
    }
    h.check();
}

TEST_CASE("heap: allocation fails cleanly when memory is gone and works again after") {
    HeapHarness<> h(2 * lib::MiB);
    std::vector<void*> held;
    for (;;) {
        auto p = h.heap->allocate(2048);
        if (!p) {
            CHECK(p.error() == heap::AllocError::out_of_memory);
            break;
        }
        held.push_back(p.value());
    }
    CHECK(held.size() > 100);
    // 2 KiB objects come in 8-frame slabs; smaller classes fit in the frames left over.
    for (;;) {
        auto p = h.heap->allocate(16);
        if (!p) {
            break;
        }
        held.push_back(p.value());
    }
    auto refused = h.heap->allocate(16);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error() == heap::AllocError::out_of_memory);
    for (void* p : held) {
        REQUIRE(h.heap->free(p, nullptr).ok());
    }
    h.check();
    void* p = must_allocate(*h.heap, 16);
    REQUIRE(h.heap->free(p, nullptr).ok());
}

}  // namespace
