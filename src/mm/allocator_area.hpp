// One area: a contiguous run of at most 8192 usable frames inside one 32 MiB physical window,
// its bitmap, a counter per 2 MiB block (together, the truth) and its packed state word (the
// hint).
//
//   state = | version:36 | limit:14 | marker:14 |     (one 64-bit atomic)
//   block_free[16]                                  (a 16-bit atomic per 2 MiB block)
//
// [marker, limit) is the extent believed free: the original idea's marker, plus the end of the
// extent so that limit - marker is "the largest free extent, if known". At every quiescent point
// every frame in [marker, limit) is free; in between, the extent may be stale. Stale hints cost
// speed, never safety, because frames change hands only through the verified transitions of
// bitmap_atomic.hpp and allocator_blocks.hpp.
//
// A block's counter is the number of its frames that are free and not reserved by a claim in
// flight, or kBlockWhole when the block was handed out as one 2 MiB block: one compare-exchange
// takes or returns a whole block, and its bits are then not looked at (they stay set). A frame
// is free exactly when its bit is set and its block is not whole (or being split). The area's
// free count is the sum of its counters: exact at quiescent points, never above the free bits.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "mm/allocator_platform.hpp"
#include "mm/allocator_types.hpp"
#include "mm/bitmap_atomic.hpp"
#include "mm/bitmap_words.hpp"

namespace mm {

struct AreaState {
    static constexpr unsigned kFieldBits = 14;
    static constexpr unsigned kVersionBits = 64 - 2 * kFieldBits;
    static constexpr std::uint64_t kFieldMask = (std::uint64_t{1} << kFieldBits) - 1;
    static constexpr std::uint64_t kVersionMask = (std::uint64_t{1} << kVersionBits) - 1;

    std::uint16_t marker = 0;
    std::uint16_t limit = 0;
    // Bumped by every published update, so a CAS from an old state value cannot succeed
    // against an equal looking newer one (ABA) unless 2^36 updates happened in between: every
    // update is a successful CAS on this one cache line after a bitmap CAS, at least ~10 ns
    // each, so a wrap needs an operation stalled for over ten minutes between its read and its
    // CAS (docs/DESIGN.md, section 3).
    std::uint64_t version = 0;

    static constexpr AreaState unpack(std::uint64_t word) {
        return {static_cast<std::uint16_t>(word & kFieldMask),
                static_cast<std::uint16_t>(word >> kFieldBits & kFieldMask),
                word >> (2 * kFieldBits)};
    }
    constexpr std::uint64_t pack() const {
        return std::uint64_t{marker} | std::uint64_t{limit} << kFieldBits |
               version << (2 * kFieldBits);
    }
    constexpr std::uint32_t extent() const { return limit > marker ? limit - marker : 0; }
    // The same state one version later; every published update goes through this.
    constexpr AreaState next() const {
        AreaState result = *this;
        result.version = (version + 1) & kVersionMask;
        return result;
    }
};

static_assert(kFramesPerArea <= AreaState::kFieldMask, "marker and limit are 14-bit fields");
static_assert(AreaState::kVersionBits == 36);
static_assert(AreaState::unpack(AreaState{1, 2, 3}.pack()).limit == 2);
static_assert(AreaState::unpack(AreaState{8192, 8192, AreaState::kVersionMask}.pack()).version ==
              AreaState::kVersionMask);
static_assert(AreaState::unpack(AreaState{8192, 8192, AreaState::kVersionMask}.pack()).marker ==
              8192);
static_assert(AreaState{0, 0, AreaState::kVersionMask}.next().version == 0);

// Counter values above any frame count: the block was taken whole, or a partial free of a whole
// block is turning it back into bits (allocator_blocks.hpp).
inline constexpr std::uint16_t kBlockWhole = 0xFFFF;
inline constexpr std::uint16_t kBlockSplitting = 0xFFFE;
inline constexpr std::uint32_t kBlocksPerArea = kFramesPerArea / kFramesPerHugeFrame;
static_assert(kBlocksPerArea * sizeof(std::uint16_t) <= 32,
              "the block counters share the state word's cache line");

// The descriptor: two cache lines. The first is written by allocations and frees (the state and
// the block counters); the second is fixed at init and read by every operation, so
// it stays shared in every CPU's cache. CPUs working in different areas never share a line.
struct alignas(64) Area {
    std::atomic<std::uint64_t> state{0};
    std::atomic<std::uint16_t> block_free[kBlocksPerArea] = {};
    // Written under the recalculation lock (load + store), read by statistics.
    std::atomic<std::uint64_t> recalculations{0};

    alignas(64) std::uint64_t base_frame = 0;  // Physical frame number of bit 0.
    std::uint32_t frames = 0;
    // base_frame % 512: bit `offset` lies in block (offset + block_phase) / 512.
    std::uint32_t block_phase = 0;
    bitmap::AtomicWord* free_bits = nullptr;
    // Debug fill only (else null): set when a frame is freed and filled, cleared when it is
    // handed out again after its fill was verified.
    bitmap::AtomicWord* poisoned_bits = nullptr;

    AreaState load_state(std::memory_order order = std::memory_order_acquire) const {
        return AreaState::unpack(state.load(order));
    }
    // Publishes `desired` if the state is still `expected`; otherwise refreshes `expected`.
    bool update_state(AreaState& expected, AreaState desired) {
        std::uint64_t seen = expected.pack();
        bool done = state.compare_exchange_strong(seen, desired.pack(), std::memory_order_acq_rel,
                                                  std::memory_order_acquire);
        expected = AreaState::unpack(seen);
        return done;
    }

    std::uint32_t block_of(std::uint32_t offset) const {
        return (offset + block_phase) / kFramesPerHugeFrame;
    }
    // The offsets of block `block` that belong to the area: [first, end).
    std::uint32_t block_first(std::uint32_t block) const {
        std::uint32_t start = block * kFramesPerHugeFrame;
        return start > block_phase ? start - block_phase : 0;
    }
    std::uint32_t block_end(std::uint32_t block) const {
        std::uint32_t end = (block + 1) * kFramesPerHugeFrame - block_phase;
        return end < frames ? end : frames;
    }
    std::uint32_t block_count() const { return block_of(frames - 1) + 1; }
    // Whether the block's frames are out of the bitmap's hands: taken whole, or being split.
    bool block_taken(std::uint32_t block) const {
        return block_free[block].load(std::memory_order_relaxed) > kFramesPerHugeFrame;
    }

    // Frames free and not reserved: the sum of the block counters (whole blocks count 0).
    std::uint32_t free_frames() const {
        std::uint32_t total = 0;
        for (const auto& counter : block_free) {
            std::uint16_t value = counter.load(std::memory_order_relaxed);
            total += value <= kFramesPerHugeFrame ? value : 0;
        }
        return total;
    }
    std::size_t bitmap_words() const { return bitmap::words_for_bits(frames); }
    // The blocks as a search sees them, one bit per block in each mask: taken (whole or being
    // split: every frame allocated), all free (the counter holds every frame of the block) and
    // none counted free (counter 0: no frame, or frees not yet counted).
    struct BlockClasses {
        std::uint32_t taken = 0;
        std::uint32_t all_free = 0;
        std::uint32_t none_free = 0;
    };
    BlockClasses block_classes() const {
        BlockClasses classes;
        for (std::uint32_t block = 0; block < block_count(); ++block) {
            std::uint16_t value = block_free[block].load(std::memory_order_relaxed);
            if (value > kFramesPerHugeFrame) {
                classes.taken |= 1u << block;
            } else if (value == block_end(block) - block_first(block)) {
                classes.all_free |= 1u << block;
            } else if (value == 0) {
                classes.none_free |= 1u << block;
            }
        }
        return classes;
    }
    // The bitmap as every search sees it: a taken block's bits read as allocated, and an all-free
    // block's bits are known without reading them, so a rescan of an area of whole blocks reads
    // no bitmap line. The counters are read once, when the loader is made: a search is a hint
    // checked again by the claim that acts on it, like its reads of the bits. Word `index`
    // covers offsets [64 index, 64 index + 64), which lie in at most two blocks.
    auto load_free_word() const {
        return [this, classes = block_classes()](std::size_t index) {
            if ((classes.taken | classes.all_free) == 0) {
                return free_bits[index].load(std::memory_order_relaxed);
            }
            auto first = static_cast<std::uint32_t>(index * bitmap::kBitsPerWord) + block_phase;
            std::uint32_t low = first / kFramesPerHugeFrame;
            std::uint32_t high = (first + bitmap::kBitsPerWord - 1) / kFramesPerHugeFrame;
            // Bits past the area's last frame belong to no block and read 0.
            std::size_t valid = frames - index * bitmap::kBitsPerWord;
            bitmap::Word in_area =
                valid >= bitmap::kBitsPerWord ? ~bitmap::Word{0} : bitmap::bit_mask(0, valid);
            auto part = [&](std::uint32_t block, bitmap::Word mask) {
                if ((classes.taken >> block & 1) != 0) {
                    return bitmap::Word{0};
                }
                if ((classes.all_free >> block & 1) != 0) {
                    return mask & in_area;
                }
                return free_bits[index].load(std::memory_order_relaxed) & mask;
            };
            if (low == high || high >= kBlocksPerArea) {
                return part(low, ~bitmap::Word{0});
            }
            bitmap::Word low_bits = bitmap::bit_mask(0, high * kFramesPerHugeFrame - first);
            return part(low, low_bits) | part(high, ~low_bits);
        };
    }
    PhysAddr address_of(std::uint32_t offset) const { return (base_frame + offset) << kFrameShift; }
};

static_assert(sizeof(Area) == 128 && alignof(Area) == 64);
static_assert(offsetof(Area, base_frame) == 64, "the fixed fields have a line of their own");
static_assert(std::atomic<std::uint16_t>::is_always_lock_free);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

// Publishes `desired` if the state is still `expected` (Area::update_state). Every state ever
// published has marker <= limit <= frames: a broken one would send a claim past the bitmap.
template <AllocatorPlatform P>
[[gnu::always_inline]] inline bool publish_state(Area& area, AreaState& expected,
                                                 AreaState desired) {
    MM_DEBUG_ASSERT(P, desired.marker <= desired.limit && desired.limit <= area.frames);
    return area.update_state(expected, desired);
}

// The first offset >= `from` whose physical frame number is a multiple of `alignment` (a power
// of two). 64-bit, so a result past the area is visible as such rather than truncated.
constexpr std::uint64_t aligned_offset(std::uint64_t base_frame, std::uint64_t from,
                                       std::uint64_t alignment) {
    return ((base_frame + from + alignment - 1) & ~(alignment - 1)) - base_frame;
}

// Whether the extent [marker, limit) holds n frames starting at the requested alignment.
inline bool extent_fits(const Area& area, AreaState state, std::uint32_t frames,
                        std::uint64_t alignment) {
    return aligned_offset(area.base_frame, state.marker, alignment) + frames <= state.limit;
}

}  // namespace mm
