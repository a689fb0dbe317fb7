// One area: a contiguous run of at most 8192 usable frames inside one 32 MiB physical window,
// its bitmap (the truth), its packed state word and its free count (the hints).
//
//   state = | version:36 | limit:14 | marker:14 |     (one 64-bit atomic)
//   free_count                                      (a 32-bit atomic beside it)
//
// [marker, limit) is the extent believed free: the original idea's marker, plus the end of the
// extent so that limit - marker is "the largest free extent, if known". At every quiescent point
// every frame in [marker, limit) is free and free_count equals the number of free bits; in
// between, the extent may be stale and free_count may be high (never low: see free_count).
// Stale hints cost speed, never safety, because frames change hands only through the verified
// bit transitions of bitmap_atomic.hpp.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "mm/allocator_platform.hpp"
#include "mm/allocator_types.hpp"
#include "mm/bitmap_atomic.hpp"

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

// The descriptor: one cache line, so CPUs working in different areas never share a line.
struct alignas(64) Area {
    std::atomic<std::uint64_t> state{0};
    // Frames free in this area, maintained by deltas in an order that keeps it from ever
    // reading below the number of free bits: a free adds before it releases its bits, a claim
    // subtracts after it has claimed them, and a give-back subtracts what others freed under
    // it. So an area whose count is below n has fewer than n free frames at that moment, and
    // the count is exact at quiescent points. It may read above `frames` only while a double
    // free races; free_frames() clamps.
    std::atomic<std::uint32_t> free_count{0};
    // The CPU whose cursor owns this area, or kNoOwner. A hint for choosing areas: sharing an
    // owned area is allowed and safe.
    std::atomic<std::uint32_t> owner{kNoOwner};
    std::uint32_t frames = 0;
    std::uint64_t base_frame = 0;  // Physical frame number of bit 0.
    bitmap::AtomicWord* free_bits = nullptr;
    // Debug fill only (else null): set when a frame is freed and filled, cleared when it is
    // handed out again after its fill was verified.
    bitmap::AtomicWord* poisoned_bits = nullptr;
    // Written under the recalculation lock (load + store), read by statistics.
    std::atomic<std::uint64_t> recalculations{0};

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
    std::uint32_t free_frames() const {
        std::uint32_t count = free_count.load(std::memory_order_relaxed);
        return count < frames ? count : frames;
    }
    void count_freed(std::uint32_t count) {
        free_count.fetch_add(count, std::memory_order_relaxed);
    }
    void count_taken(std::uint32_t count) {
        free_count.fetch_sub(count, std::memory_order_relaxed);
    }
    std::size_t bitmap_words() const { return bitmap::words_for_bits(frames); }
    auto load_free_word() const { return bitmap::relaxed_loader(free_bits); }
    PhysAddr address_of(std::uint32_t offset) const { return (base_frame + offset) << kFrameShift; }
};

static_assert(sizeof(Area) == 64 && alignof(Area) == 64);
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
