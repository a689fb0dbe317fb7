// Every bad free the heap promises to refuse: reported with the cache's name and the caller,
// and changing nothing (the invariants hold and the heap's figures are as before).
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "heap/heap.hpp"
#include "heap_test_support.hpp"

namespace {

using heap_test::HeapHarness;
using heap_test::HeapPlatform;
using heap_test::must_allocate;

const void* const kCaller = reinterpret_cast<const void*>(0x1234);

// Frees `pointer`, expects `error` reported for cache `cache` and caller kCaller, and checks
// that the heap did not change.
template <typename Harness>
void expect_refused(Harness& h, void* pointer, heap::FreeError error, const char* cache) {
    heap::CacheStats before = h.heap->size_class(heap::size_class_of(64)).stats();
    std::uint64_t free_frames = h.free_frames();
    auto status = h.heap->free(pointer, kCaller);
    REQUIRE_FALSE(status.ok());
    CHECK(status.error() == error);
    std::vector<heap::BadFree> reports = HeapPlatform::take_bad_frees();
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].error == error);
    CHECK(reports[0].pointer == pointer);
    CHECK(reports[0].caller == kCaller);
    if (cache == nullptr) {
        CHECK(reports[0].cache == nullptr);
    } else {
        REQUIRE(reports[0].cache != nullptr);
        CHECK(std::strcmp(reports[0].cache, cache) == 0);
    }
    heap::CacheStats after = h.heap->size_class(heap::size_class_of(64)).stats();
    CHECK(after.in_use == before.in_use);
    CHECK(after.in_magazines == before.in_magazines);
    CHECK(h.free_frames() == free_frames);
    h.check();
}

TEST_CASE("heap refuses: a pointer the heap never handed out") {
    HeapHarness<> h(4 * lib::MiB);
    void* p = must_allocate(*h.heap, 64);
    int on_the_stack = 0;
    expect_refused(h, &on_the_stack, heap::FreeError::not_heap, nullptr);
    // A frame of the managed memory that the heap does not hold.
    auto frame = h.frames.allocator->allocate(1);
    REQUIRE(frame.ok());
    expect_refused(h, h.memory.at(frame.value()), heap::FreeError::not_heap, nullptr);
    REQUIRE(h.frames.allocator->free(frame.value(), 1).ok());
    REQUIRE(h.heap->free(p, nullptr).ok());
}

TEST_CASE("heap refuses: a pointer inside an object, in a slab header or in its tail") {
    HeapHarness<> h(4 * lib::MiB);
    auto* p = static_cast<std::uint8_t*>(must_allocate(*h.heap, 64));
    expect_refused(h, p + 8, heap::FreeError::not_object_start, "kmalloc-64");
    expect_refused(h, p + 63, heap::FreeError::not_object_start, "kmalloc-64");
    auto* slab_start = reinterpret_cast<std::uint8_t*>(reinterpret_cast<std::uintptr_t>(p) &
                                                       ~std::uintptr_t{4095});
    expect_refused(h, slab_start, heap::FreeError::not_object_start, "kmalloc-64");
    REQUIRE(h.heap->free(p, nullptr).ok());
}

TEST_CASE("heap refuses: a pointer into the middle of a large allocation") {
    HeapHarness<> h(4 * lib::MiB);
    auto* p = static_cast<std::uint8_t*>(must_allocate(*h.heap, 3 * 4096));
    expect_refused(h, p + 16, heap::FreeError::not_object_start, "kmalloc-large");
    expect_refused(h, p + 4096, heap::FreeError::not_object_start, "kmalloc-large");
    REQUIRE(h.heap->free(p, nullptr).ok());
    expect_refused(h, p, heap::FreeError::not_heap, nullptr);  // the frames went back
}

TEST_CASE("heap refuses: an object freed twice, whether in a magazine or back in its slab") {
    HeapHarness<> h(4 * lib::MiB);
    void* p = must_allocate(*h.heap, 64);
    void* keep = must_allocate(*h.heap, 64);  // keeps the slab from being given back
    REQUIRE(h.heap->free(p, nullptr).ok());
    expect_refused(h, p, heap::FreeError::double_free, "kmalloc-64");
    // After the CPU's magazines are flushed the object is free in its slab.
    h.heap->flush_this_cpu();
    expect_refused(h, p, heap::FreeError::not_allocated, "kmalloc-64");
    REQUIRE(h.heap->free(keep, nullptr).ok());
}

TEST_CASE("heap refuses: a double free made on another CPU than the first free") {
    HeapHarness<> h(4 * lib::MiB);
    void* p = must_allocate(*h.heap, 64);
    REQUIRE(h.heap->free(p, nullptr).ok());  // CPU 0
    alloc_test::HostPlatform::current_cpu = 3;
    expect_refused(h, p, heap::FreeError::double_free, "kmalloc-64");
    alloc_test::HostPlatform::current_cpu = 0;
}

TEST_CASE("heap refuses: an object of a never-allocated slot of a live slab") {
    HeapHarness<> h(4 * lib::MiB);
    h.heap->set_mode(heap::Mode::global_lock);  // objects stay in the slab until handed out
    auto* p = static_cast<std::uint8_t*>(must_allocate(*h.heap, 64));
    // The slab's objects are 64 bytes apart; p's neighbours were never handed out.
    void* neighbour = p + 64 * 5;
    expect_refused(h, neighbour, heap::FreeError::not_allocated, "kmalloc-64");
    REQUIRE(h.heap->free(p, nullptr).ok());
}

TEST_CASE("heap refuses: an object freed to a named cache it does not belong to") {
    HeapHarness<> h(4 * lib::MiB);
    HeapHarness<>::Cache nodes;
    REQUIRE(h.heap->add_cache(nodes, "node", 40, 8));
    void* p = must_allocate(*h.heap, 64);
    auto status = nodes.free(p, kCaller);
    REQUIRE_FALSE(status.ok());
    CHECK(status.error() == heap::FreeError::wrong_cache);
    std::vector<heap::BadFree> reports = HeapPlatform::take_bad_frees();
    REQUIRE(reports.size() == 1);
    CHECK(std::strcmp(reports[0].cache, "node") == 0);
    CHECK(nodes.stats().refused_frees == 1);
    h.check();
    REQUIRE(h.heap->free(p, nullptr).ok());  // its own cache takes it
    // Named-cache objects are freed through kfree too: the slab knows its cache.
    void* n = nodes.allocate().value();
    REQUIRE(h.heap->free(n, nullptr).ok());
    CHECK(nodes.stats().in_use == 0);
}

TEST_CASE("heap refuses: a pointer into a slab whose frames were given back") {
    HeapHarness<> h(4 * lib::MiB);
    h.heap->set_mode(heap::Mode::global_lock);
    void* p = must_allocate(*h.heap, 512);
    REQUIRE(h.heap->free(p, nullptr).ok());
    h.heap->reclaim();  // the slab is empty: its frames go back
    expect_refused(h, p, heap::FreeError::not_heap, nullptr);
}

}  // namespace
