// Which heap structure owns each frame: one word per frame of the physical span the heap may
// take frames from, like Linux's struct page but 8 bytes. kfree finds an object's slab here
// without trusting anything stored in or near the object, so a wild pointer, a pointer into a
// slab that was given back, or into the middle of a large allocation is recognised as such.
//
// An entry is 0 (not the heap's), the address of a slab's header (every frame of the slab), or
// a tagged large allocation: its first frame holds its length, the others kLargeTail. Entries
// are written by the one CPU that creates or releases the slab or allocation, and read by any
// CPU with acquire loads: a reader that sees a slab's address sees its initialised header.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

#include "mm/frame.hpp"

namespace heap {

class SlabMap {
  public:
    static constexpr std::uintptr_t kEmpty = 0;
    static constexpr std::uintptr_t kLargeTag = 1;
    static constexpr std::uintptr_t kLargeTail = 2;

    static std::size_t bytes_for(mm::PhysRange span) {
        return span.size() / mm::kFrameSize * sizeof(Entry);
    }

    // `buffer` holds bytes_for(span) bytes, zeroed here. Not thread-safe.
    void init(mm::PhysRange span, void* buffer) {
        span_ = span;
        entries_ = static_cast<Entry*>(buffer);
        frames_ = span.size() / mm::kFrameSize;
        for (std::size_t i = 0; i < frames_; ++i) {
            new (&entries_[i]) Entry(kEmpty);
        }
    }

    bool covers(mm::PhysAddr address, std::size_t frames) const {
        return address >= span_.begin && address < span_.end &&
               frames <= (span_.end - address) / mm::kFrameSize;
    }

    std::uintptr_t lookup(mm::PhysAddr address) const {
        if (address < span_.begin || address >= span_.end) {
            return kEmpty;
        }
        return entries_[index(address)].load(std::memory_order_acquire);
    }

    void set(mm::PhysAddr address, std::size_t frames, std::uintptr_t value) {
        for (std::size_t i = 0; i < frames; ++i) {
            entries_[index(address) + i].store(value, std::memory_order_release);
        }
    }

    // A large allocation's first entry is claimed back with one compare-exchange, so of two
    // CPUs freeing it at once exactly one wins (the large path is not the fast path).
    bool claim(mm::PhysAddr address, std::uintptr_t expected) {
        return entries_[index(address)].compare_exchange_strong(expected, kEmpty,
                                                                std::memory_order_acq_rel);
    }

    static constexpr std::uintptr_t large_head(std::size_t frames) {
        return std::uintptr_t{frames} << 4 | kLargeTag;
    }
    static constexpr bool is_large_head(std::uintptr_t entry) { return (entry & 0xf) == kLargeTag; }
    static constexpr std::size_t large_frames(std::uintptr_t entry) { return entry >> 4; }
    static constexpr bool is_slab(std::uintptr_t entry) {
        return entry > 0xf && (entry & 0xf) == 0;
    }

  private:
    using Entry = std::atomic<std::uintptr_t>;

    std::size_t index(mm::PhysAddr address) const {
        return (address - span_.begin) / mm::kFrameSize;
    }

    mm::PhysRange span_{};
    Entry* entries_ = nullptr;
    std::size_t frames_ = 0;
};

}  // namespace heap
