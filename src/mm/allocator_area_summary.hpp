// What a take-over ranks areas by, instead of their descriptors: one 32-bit word per area,
// sixteen to a cache line.
//
//   summary = | owner:16 | dirty:1 | all_free:1 | free:14 |
//
// The owner half is the truth about ownership: a take-over is a CAS here from "no owner" to its
// CPU, and only the owner writes "no owner" back. The free half is a hint: the area's free frames
// when its owner last left it, or when a take-over last read the descriptor. Frees do not count
// themselves here, so that a free of another CPU's frames stays on its block's lines: the first
// free into an unowned area since its hint was written sets `dirty` (one write per area, not per
// free), and a take-over reads the descriptor of a dirty area instead of trusting its hint
// (docs/DESIGN.md, section 6).
#pragma once

#include <atomic>
#include <cstdint>

#include "mm/allocator_types.hpp"

namespace mm {

struct AreaSummary {
    static constexpr std::uint32_t kNone = 0xFFFF;  // The owner half of an unowned area.
    static constexpr std::uint32_t kDirty = 0x8000;
    static constexpr std::uint32_t kAllFree = 0x4000;
    static constexpr std::uint32_t kFreeMask = 0x3FFF;

    std::uint32_t owner = kNone;
    std::uint32_t free = 0;  // Free frames, as last seen.
    bool all_free = false;   // Every frame of the area was free then.
    bool dirty = false;      // Frees came since: `free` may be low.

    static constexpr AreaSummary unpack(std::uint32_t word) {
        return {word >> 16, word & kFreeMask, (word & kAllFree) != 0, (word & kDirty) != 0};
    }
    constexpr std::uint32_t pack() const {
        return owner << 16 | (dirty ? kDirty : 0) | (all_free ? kAllFree : 0) | (free & kFreeMask);
    }
    constexpr bool owned() const { return owner != kNone; }
    // kNoOwner outside, kNone inside.
    constexpr std::uint32_t owner_or_none() const { return owned() ? owner : kNoOwner; }

    static constexpr AreaSummary unowned(std::uint32_t free, std::uint32_t frames) {
        return {kNone, free, free == frames, false};
    }
    constexpr AreaSummary owned_by(std::uint32_t cpu) const { return {cpu, free, all_free, false}; }
};

static_assert(kFramesPerArea <= AreaSummary::kFreeMask, "a free count fits the summary");
static_assert(AreaSummary::unpack(AreaSummary{3, 8192, true, true}.pack()).owner == 3);
static_assert(AreaSummary::unpack(AreaSummary{3, 8192, true, true}.pack()).free == 8192);
static_assert(AreaSummary::unpack(AreaSummary{3, 8192, false, true}.pack()).dirty);
static_assert(!AreaSummary::unpack(AreaSummary::unowned(5, 8).pack()).owned());

using AtomicSummary = std::atomic<std::uint32_t>;
static_assert(AtomicSummary::is_always_lock_free);

}  // namespace mm
