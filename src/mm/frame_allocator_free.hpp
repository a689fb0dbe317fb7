// FrameAllocator's free: the pre-check, the commit and the publish (docs/DESIGN.md, section 5).
// Part of frame_allocator.hpp; include that instead.
#pragma once

#include "mm/frame_allocator.hpp"

namespace mm {

template <AllocatorPlatform P, bool kDebugFill, std::size_t kMaxCpus>
lib::Status<FreeError> FrameAllocator<P, kDebugFill, kMaxCpus>::free_with(Caller& caller,
                                                                          PhysAddr address,
                                                                          std::size_t frames) {
    auto reject = [&](FreeError error) -> lib::Status<FreeError> {
        CpuCursor::add(caller.stats.rejected_frees);
        return lib::fail(error);
    };
    if (address % kFrameSize != 0) {
        return reject(FreeError::misaligned);
    }
    if (frames == 0 || frames > kMaxAllocationFrames) {
        return reject(FreeError::invalid_size);
    }
    std::uint64_t first_frame = address >> kFrameShift;
    std::uint32_t last = CpuCursor::get(caller.cursor.last_freed_area);
    std::uint32_t index = areas_.find(first_frame, last);
    if (index == kNoArea) {
        return reject(FreeError::outside_areas);
    }
    if (index != last) {
        CpuCursor::set(caller.cursor.last_freed_area, index);
    }
    Area& area = areas_[index];
    MM_DEBUG_ASSERT(P, first_frame - area.base_frame < area.frames);  // What find() promises.
    auto offset = static_cast<std::uint32_t>(first_frame - area.base_frame);
    auto count = static_cast<std::uint32_t>(frames);
    if (offset + count > area.frames) {
        return reject(FreeError::outside_areas);  // Runs into a hole or the next area.
    }
    // Most frees lie in one 2 MiB block: its piece is worked out once.
    bool one_block = in_one_block(area, offset, count);
    BlockPiece piece{area.block_of(offset), offset, count};
    std::uint32_t freed = 0;
    if (!kDebugFill && one_block && piece.whole() &&
        return_whole_block(area.block_free[piece.block])) {
        freed = count;  // A whole block, returned in one step that also verified it was taken.
    } else {
        if (!(one_block ? piece_allocated(area, piece) : range_allocated(area, offset, count))) {
            return reject(FreeError::not_allocated);  // A double free: nothing has changed.
        }
        stop_point<P>(StopPoint::free_prechecked);
        if constexpr (kDebugFill) {
            fill_freed_frames<P>(area, offset, count);
        }
        freed = one_block ? release_piece<P>(area, piece) : release_range<P>(area, offset, count);
    }
    stop_point<P>(StopPoint::free_released);
    if (freed == count) {
        publish_free<P>(area, offset, count);
    }
    CpuCursor::add(caller.stats.frames_freed, freed);
    AreaSummary summary = areas_.summary(index);
    areas_.note_free(index, summary);
    if (caller.per_cpu && freed > 0 && summary.owner_or_none() != caller.cpu) {
        CpuCursor::add(caller.stats.remote_frees);
    }
    if (freed != count) {
        return reject(FreeError::not_allocated);  // Lost a race to free the same frames.
    }
    CpuCursor::add(caller.stats.frees);
    return {};
}

}  // namespace mm
