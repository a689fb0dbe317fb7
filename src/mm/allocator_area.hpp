// One area: a contiguous run of at most 8192 usable frames inside one 32 MiB physical window,
// its bitmap (the truth) and its packed state word (the hints).
//
//   state = | version:16 | free_count:16 | limit:16 | marker:16 |     (one 64-bit atomic)
//
// [marker, limit) is the extent believed free: the original idea's marker, plus the end of the
// extent so that limit - marker is "the largest free extent, if known". At every quiescent point
// every frame in [marker, limit) is free and free_count equals the number of free bits; in
// between, all of it may be stale. Stale hints cost speed, never safety, because frames change
// hands only through the verified bit transitions of bitmap_atomic.hpp.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "mm/allocator_types.hpp"
#include "mm/bitmap_atomic.hpp"

namespace mm {

struct AreaState {
    std::uint16_t marker = 0;
    std::uint16_t limit = 0;
    // Exact at quiescent points. Every change of bits is followed by exactly one delta, and two
    // CPUs' deltas may land in either order, so for a moment it can be "below zero": the u16
    // wraps and wraps back. Readers use free_frames(), which reads a wrapped value as 0.
    std::uint16_t free_count = 0;
    // Bumped by every update, so a CAS from an old state value cannot succeed against an equal
    // looking newer one (ABA) unless 65536 updates happened in between.
    std::uint16_t version = 0;

    static constexpr AreaState unpack(std::uint64_t word) {
        return {static_cast<std::uint16_t>(word), static_cast<std::uint16_t>(word >> 16),
                static_cast<std::uint16_t>(word >> 32), static_cast<std::uint16_t>(word >> 48)};
    }
    constexpr std::uint64_t pack() const {
        return std::uint64_t{marker} | std::uint64_t{limit} << 16 |
               std::uint64_t{free_count} << 32 | std::uint64_t{version} << 48;
    }
    constexpr std::uint32_t extent() const { return limit > marker ? limit - marker : 0; }
    constexpr std::uint32_t free_frames() const {
        return free_count <= kFramesPerArea ? free_count : 0;
    }
    // The same state one version later; every published update goes through this.
    constexpr AreaState next() const {
        AreaState result = *this;
        result.version = static_cast<std::uint16_t>(version + 1);
        return result;
    }
};

static_assert(kFramesPerArea <= 0xffff, "marker, limit and free_count are 16-bit fields");
static_assert(AreaState::unpack(AreaState{1, 2, 3, 4}.pack()).free_count == 3);
static_assert(AreaState::unpack(AreaState{1, 2, 3, 0xffff}.pack()).version == 0xffff);

// The descriptor: one cache line, so CPUs working in different areas never share a line.
struct alignas(64) Area {
    std::atomic<std::uint64_t> state{0};
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
    std::size_t bitmap_words() const { return bitmap::words_for_bits(frames); }
    auto load_free_word() const { return bitmap::relaxed_loader(free_bits); }
    PhysAddr address_of(std::uint32_t offset) const { return (base_frame + offset) << kFrameShift; }
};

static_assert(sizeof(Area) == 64 && alignof(Area) == 64);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

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
