// FrameAllocator's statistics and invariant check. Part of frame_allocator.hpp; include that.
#pragma once

#include "mm/frame_allocator.hpp"

namespace mm {

template <AllocatorPlatform P, bool kDebugFill, std::size_t kMaxCpus>
Totals FrameAllocator<P, kDebugFill, kMaxCpus>::totals() const {
    Totals totals;
    totals.total_frames = areas_.total_frames();
    for (std::uint32_t index = 0; index < areas_.count(); ++index) {
        totals.free_frames += areas_[index].free_frames();
    }
    totals.allocated_frames = totals.total_frames - totals.free_frames;
    return totals;
}

template <AllocatorPlatform P, bool kDebugFill, std::size_t kMaxCpus>
AreaInfo FrameAllocator<P, kDebugFill, kMaxCpus>::area_info(std::size_t index) const {
    if (index >= areas_.count()) {
        return {};
    }
    const Area& area = areas_[static_cast<std::uint32_t>(index)];
    AreaState state = area.load_state(std::memory_order_relaxed);
    AreaInfo info;
    info.base = area.address_of(0);
    info.frames = area.frames;
    info.free = area.free_frames();
    info.marker = state.marker;
    info.limit = state.limit;
    info.version = state.version;
    info.owner = areas_.owner(static_cast<std::uint32_t>(index));
    info.recalculations = area.recalculations.load(std::memory_order_relaxed);
    for (std::uint32_t block = 0; block < area.block_count(); ++block) {
        std::uint16_t counter = area.block_free[block].load(std::memory_order_relaxed);
        info.free_blocks += counter == kFramesPerHugeFrame ? 1 : 0;
        info.whole_blocks += counter == kBlockWhole ? 1 : 0;
    }
    return info;
}

template <AllocatorPlatform P, bool kDebugFill, std::size_t kMaxCpus>
CpuStats FrameAllocator<P, kDebugFill, kMaxCpus>::cpu_stats(unsigned cpu) const {
    return cpu < kMaxCpus ? cursors_[cpu].snapshot() : CpuStats{};
}

template <AllocatorPlatform P, bool kDebugFill, std::size_t kMaxCpus>
Fragmentation FrameAllocator<P, kDebugFill, kMaxCpus>::fragmentation() const {
    Fragmentation result;
    for (std::uint32_t index = 0; index < areas_.count(); ++index) {
        const Area& area = areas_[index];
        result.free_frames += bitmap::count_set(0, area.frames, area.load_free_word());
        count_free_huge_blocks(area, result);
    }
    return result;
}

template <AllocatorPlatform P, bool kDebugFill, std::size_t kMaxCpus>
InvariantReport FrameAllocator<P, kDebugFill, kMaxCpus>::check_invariants() const {
    std::uint64_t free_sum = 0;
    std::uint64_t frame_sum = 0;
    for (std::uint32_t index = 0; index < areas_.count(); ++index) {
        const Area& area = areas_[index];
        if (InvariantReport report = check_area(area, index); !report.ok) {
            return report;
        }
        if (index > 0 &&
            areas_[index - 1].base_frame + areas_[index - 1].frames > area.base_frame) {
            return InvariantReport::failure("areas overlap or are unsorted", index,
                                            areas_[index - 1].base_frame, area.base_frame);
        }
        free_sum += area.free_frames();
        frame_sum += area.frames;
        std::uint32_t owner = areas_.owner(index);
        if (owner == kNoOwner) {
            continue;
        }
        if (owner >= kMaxCpus || mode() != Mode::per_cpu) {
            return InvariantReport::failure("area owned by no valid CPU", index, kMaxCpus, owner);
        }
        const CpuCursor& cursor = cursors_[owner];
        if (CpuCursor::get(cursor.area) != index || CpuCursor::get(cursor.owns_area) == 0) {
            return InvariantReport::failure("owner's cursor does not own this area", index, index,
                                            CpuCursor::get(cursor.area), owner);
        }
    }
    // With the check above, this makes ownership one-to-one: no two cursors own one area.
    for (std::uint32_t cpu = 0; cpu < kMaxCpus; ++cpu) {
        const CpuCursor& cursor = cursors_[cpu];
        std::uint32_t area = CpuCursor::get(cursor.area);
        if (area != kNoArea && area >= areas_.count()) {
            return InvariantReport::failure("cursor points past the areas", area, areas_.count(),
                                            area, cpu);
        }
        if (CpuCursor::get(cursor.owns_area) == 0) {
            continue;
        }
        if (area == kNoArea || areas_.owner(area) != cpu) {
            return InvariantReport::failure("cursor owns an area whose owner is another CPU", area,
                                            cpu, area == kNoArea ? kNoOwner : areas_.owner(area),
                                            cpu);
        }
    }
    if (CpuCursor::get(shared_cursor_.owns_area) != 0) {
        return InvariantReport::failure("the shared cursor owns an area", kNoArea, 0, 1);
    }
    Totals sums = totals();
    if (sums.free_frames != free_sum || frame_sum != sums.total_frames) {
        return InvariantReport::failure("per-area free counts do not add up to the total", kNoArea,
                                        free_sum, sums.free_frames);
    }
    return {};
}

}  // namespace mm
