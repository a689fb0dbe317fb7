// A slab: a run of frames cut into objects of one cache, with its header at the start. The
// header keeps one state byte per object, so what the heap knows about an object never lives
// in the object itself: a constructed object keeps its state while free, and a double free is
// seen even after the object was reused by nobody.
//
//   in_slab  free in the slab; only the slab layer (under the cache's lock) hands it out.
//   cached   free in a magazine or the depot.
//   live     handed to a caller.
//
// States move in_slab <-> cached under the cache's lock, cached <-> live on the CPU that holds
// the magazine, without a lock. They are atomics accessed with plain loads and stores (no
// read-modify-write on the fast path): a caller that frees an object another CPU allocated
// synchronised with that CPU to get the pointer, which orders the state byte too.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "mm/frame.hpp"

namespace heap {

enum class ObjectState : std::uint8_t { in_slab = 0, cached = 1, live = 2 };

// Slabs are 1..16 frames; at most this many objects per slab.
inline constexpr std::uint32_t kMaxSlabFrames = 16;
inline constexpr std::uint32_t kMaxObjectsPerSlab = 1024;

// How a cache cuts its slabs: the fewest frames whose header and tail waste stay within 1/16
// of the slab (or, if no size manages that, the size that wastes the smallest share).
struct SlabGeometry {
    std::uint32_t frames = 0;
    std::uint32_t first_offset = 0;  // Header bytes, rounded up to the objects' alignment.
    std::uint32_t capacity = 0;
    std::uint32_t stride = 0;

    std::uint32_t bytes() const { return frames * std::uint32_t(mm::kFrameSize); }
    std::uint32_t waste() const { return bytes() - capacity * stride; }
};

struct Slab;
constexpr std::size_t kSlabHeaderBytes = 64;  // sizeof(Slab), checked below

constexpr std::uint32_t round_up(std::uint32_t value, std::uint32_t alignment) {
    return (value + alignment - 1) / alignment * alignment;
}

constexpr SlabGeometry slab_geometry(std::uint32_t stride, std::uint32_t alignment) {
    SlabGeometry best{};
    for (std::uint32_t frames = 1; frames <= kMaxSlabFrames; frames *= 2) {
        std::uint32_t bytes = frames * std::uint32_t(mm::kFrameSize);
        // Each object costs its stride and one state byte in the header.
        std::uint32_t capacity = (bytes - kSlabHeaderBytes) / (stride + 1);
        capacity = capacity > kMaxObjectsPerSlab ? kMaxObjectsPerSlab : capacity;
        while (capacity > 0 &&
               round_up(kSlabHeaderBytes + capacity, alignment) + capacity * stride > bytes) {
            --capacity;
        }
        if (capacity == 0) {
            continue;
        }
        SlabGeometry candidate{frames, round_up(kSlabHeaderBytes + capacity, alignment), capacity,
                               stride};
        // Compare waste shares without division: w1 / b1 < w2 / b2.
        if (best.frames == 0 || std::uint64_t{candidate.waste()} * best.bytes() <
                                    std::uint64_t{best.waste()} * candidate.bytes()) {
            best = candidate;
        }
        if (candidate.waste() * 16 <= bytes) {
            return candidate;
        }
    }
    return best;
}

struct alignas(64) Slab {
    static constexpr std::uint64_t kMagic = 0x42414c5350414548;  // "HEAPSLAB"

    std::uint64_t magic;
    void* cache;  // The ObjectCache that owns it.
    Slab* next;   // In one of the cache's lists (partial, full, empty), under its lock.
    Slab* prev;
    std::uintptr_t first_object;
    mm::PhysAddr physical;
    std::uint32_t capacity;
    std::uint32_t out;   // Objects not in_slab; under the cache's lock.
    std::uint32_t hint;  // Where to look for the next in_slab object; under the cache's lock.
    std::uint8_t list;   // Which list it is on.

    std::atomic<std::uint8_t>* states() {
        return reinterpret_cast<std::atomic<std::uint8_t>*>(this + 1);
    }
    const std::atomic<std::uint8_t>* states() const {
        return reinterpret_cast<const std::atomic<std::uint8_t>*>(this + 1);
    }
    ObjectState state(std::uint32_t index) const {
        return ObjectState(states()[index].load(std::memory_order_relaxed));
    }
    void set_state(std::uint32_t index, ObjectState state) {
        states()[index].store(std::uint8_t(state), std::memory_order_relaxed);
    }
};
static_assert(sizeof(Slab) == kSlabHeaderBytes);
static_assert(sizeof(std::atomic<std::uint8_t>) == 1);

// Object index from an offset into the slab's objects without a division: a multiplication by
// a 32-bit reciprocal is exact for offset * stride < 2^32 (a slab is at most 64 KiB and a
// stride at most 64 KiB), and the caller checks that the offset is a whole number of strides.
struct StrideDivider {
    std::uint64_t reciprocal = 0;
    std::uint32_t stride = 1;

    static constexpr StrideDivider for_stride(std::uint32_t stride) {
        return {(std::uint64_t{1} << 32) / stride + 1, stride};
    }
    constexpr std::uint32_t index(std::uint64_t offset) const {
        return std::uint32_t((offset * reciprocal) >> 32);
    }
};

}  // namespace heap
