// The debug build's red zones and poison: a write past an object's end or into a freed object
// is reported with the cache's name and the offset, when the heap next touches the object.
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

TEST_CASE("heap debug: clean use reports nothing") {
    HeapHarness<true> h(4 * lib::MiB);
    std::vector<void*> held;
    for (int i = 0; i < 500; ++i) {
        std::size_t bytes = 1 + (i * 37) % 3000;
        void* p = must_allocate(*h.heap, bytes);
        std::memset(p, 0x5a, bytes);
        held.push_back(p);
    }
    for (void* p : held) {
        REQUIRE(h.heap->free(p, nullptr).ok());
    }
    for (int i = 0; i < 500; ++i) {
        REQUIRE(h.heap->free(must_allocate(*h.heap, 100), nullptr).ok());
    }
    CHECK(HeapPlatform::take_corruptions().empty());
    h.check();
}

TEST_CASE("heap debug: a write past the object's end is caught at its free") {
    HeapHarness<true> h(4 * lib::MiB);
    auto* p = static_cast<std::uint8_t*>(must_allocate(*h.heap, 40));  // kmalloc-48: 8 B slack
    p[48] = 0x00;  // the first red zone byte after the 48-byte object
    REQUIRE(h.heap->free(p, nullptr).ok());
    std::vector<heap::Corruption> reports = HeapPlatform::take_corruptions();
    REQUIRE(reports.size() >= 1);
    CHECK(reports[0].kind == heap::CorruptionKind::red_zone);
    CHECK(std::strcmp(reports[0].cache, "kmalloc-48") == 0);
    CHECK(reports[0].object == p);
    CHECK(reports[0].offset == 48);
    CHECK(reports[0].found == 0x00);
}

TEST_CASE("heap debug: a write into a freed object is caught when it is handed out again") {
    HeapHarness<true> h(4 * lib::MiB);
    auto* p = static_cast<std::uint8_t*>(must_allocate(*h.heap, 64));
    REQUIRE(h.heap->free(p, nullptr).ok());
    p[10] = 0x42;  // use after free
    auto* again = static_cast<std::uint8_t*>(must_allocate(*h.heap, 64));
    REQUIRE(again == p);  // the magazine is a stack: the same object comes back
    std::vector<heap::Corruption> reports = HeapPlatform::take_corruptions();
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].kind == heap::CorruptionKind::poison);
    CHECK(reports[0].offset == 10);
    CHECK(reports[0].found == 0x42);
    CHECK(reports[0].expected == heap::kPoisonByte);
    REQUIRE(h.heap->free(again, nullptr).ok());
}

TEST_CASE("heap debug: two frees of one object racing each other: exactly one succeeds") {
    // The debug build frees with a compare-exchange on the state byte; here the two frees are
    // made from two CPU indices one after the other, the interleaving the race would produce.
    HeapHarness<true> h(4 * lib::MiB);
    void* p = must_allocate(*h.heap, 64);
    alloc_test::HostPlatform::current_cpu = 1;
    CHECK(h.heap->free(p, nullptr).ok());
    alloc_test::HostPlatform::current_cpu = 2;
    CHECK(h.heap->free(p, nullptr).error() == heap::FreeError::double_free);
    alloc_test::HostPlatform::current_cpu = 0;
    HeapPlatform::take_bad_frees();
    h.check();
}

}  // namespace
