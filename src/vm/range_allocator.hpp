// Hands out virtual ranges of a kernel region (the vmalloc area) with unmapped guard gaps
// around every range, and answers "what is at this address?" for page-fault reports.
//
// The frame allocator's marker idea, on virtual space: a marker sits where the last range
// ended; a request is served at the marker (O(1) when the gap there fits) and moves it up; only
// when the marker's gap cannot serve does a first-fit scan from the region's start look for a
// gap, and the marker moves to where that range ends. It fits because virtual space is plentiful
// (the region is 512 GiB, requests are megabytes): the marker rarely wraps, so a freed range
// stays unused for a long time, and a stale pointer into it faults instead of reading someone
// else's data ("freed by CPU n" in the report stays true). The per-area bitmaps do not carry
// over: ranges are few and large, so a sorted table of them is smaller and answers the fault
// question directly. docs/VIRTUAL_MEMORY.md says more.
//
// Not thread-safe: the caller holds a lock.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lib/result.hpp"
#include "vm/types.hpp"

namespace vm {

enum class RangeKind : std::uint8_t { vmalloc, vmap, stack };
const char* to_string(RangeKind kind);

enum class RangeError : std::uint8_t {
    invalid_request,  // size 0, not page multiples, or a bad alignment
    no_space,         // no gap in the region fits the range and its guards
    table_full,       // kCapacity ranges already live
    not_found,        // release: no range starts there
};
const char* to_string(RangeError error);

struct RangeRecord {
    VirtAddr begin = 0;
    VirtAddr end = 0;
    RangeKind kind = RangeKind::vmalloc;
    bool freeing = false;   // being unmapped: reserved until its TLB entries are gone
    std::uint32_t cpu = 0;  // who asked for it
};

struct FreedRecord {
    VirtAddr begin = 0;
    VirtAddr end = 0;
    std::uint32_t cpu = 0;  // who freed it
};

// What an address is, for a fault report.
struct Place {
    enum class Kind : std::uint8_t {
        outside,      // not in the region at all
        inside,       // in a live range: `range`
        guard_after,  // in the gap after `range`
        guard_below,  // in the gap below `range` (a stack running off its bottom lands here)
        freed,        // in a range freed recently (`freed`) and not handed out since
        unused,       // in the region, but nowhere near a range
    };
    Kind kind = Kind::outside;
    RangeRecord range{};
    FreedRecord freed{};
};

class RangeAllocator {
  public:
    static constexpr std::size_t kCapacity = 1024;
    static constexpr std::size_t kFreedHistory = 32;

    // [begin, end) page aligned; every range gets at least `guard` unmapped bytes on each side.
    void init(VirtAddr begin, VirtAddr end, std::uint64_t guard);

    // `bytes` (a page multiple) at an address that is a multiple of `alignment` (a power of two,
    // at least a page).
    lib::Result<VirtAddr, RangeError> allocate(std::uint64_t bytes, std::uint64_t alignment,
                                               RangeKind kind, std::uint32_t cpu);
    // Gives the range starting at `begin` back and remembers who freed it.
    lib::Result<RangeRecord, RangeError> release(VirtAddr begin, std::uint32_t freeing_cpu);

    const RangeRecord* find(VirtAddr begin) const;
    // Marks the range starting at `begin` as being unmapped; false if there is none.
    bool set_freeing(VirtAddr begin);
    Place locate(VirtAddr address) const;

    std::size_t count() const { return count_; }
    const RangeRecord& at(std::size_t i) const { return ranges_[i]; }
    VirtAddr marker() const { return marker_; }
    VirtAddr region_begin() const { return begin_; }
    VirtAddr region_end() const { return end_; }
    std::uint64_t guard() const { return guard_; }
    std::uint64_t rescans() const { return rescans_; }

    // Sorted, disjoint, guards kept, inside the region. Tests call it after every step.
    bool check_invariants() const;

  private:
    // Where a range of `bytes` fits in the gap [gap_begin, gap_end), at or after `from`; 0 if not.
    VirtAddr fit(VirtAddr gap_begin, VirtAddr gap_end, VirtAddr from, std::uint64_t bytes,
                 std::uint64_t alignment) const;
    // The gap before ranges_[index] (index == count_: the gap after the last range).
    VirtAddr gap_begin(std::size_t index) const;
    VirtAddr gap_end(std::size_t index) const;
    void insert(std::size_t index, const RangeRecord& record);

    VirtAddr begin_ = 0;
    VirtAddr end_ = 0;
    std::uint64_t guard_ = 0;
    VirtAddr marker_ = 0;
    std::uint64_t rescans_ = 0;
    std::size_t count_ = 0;
    RangeRecord ranges_[kCapacity];
    FreedRecord freed_[kFreedHistory];
    std::size_t freed_next_ = 0;
};

}  // namespace vm
