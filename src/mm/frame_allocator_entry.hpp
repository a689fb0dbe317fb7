// FrameAllocator's entry points: allocate, free and set_mode, which pick the cursor and the
// locking for the current mode and CPU. Part of frame_allocator.hpp; include that instead.
#pragma once

#include "mm/frame_allocator.hpp"

namespace mm {

template <AllocatorPlatform P, bool kDebugFill, std::size_t kMaxCpus>
lib::Result<PhysAddr, AllocError> FrameAllocator<P, kDebugFill, kMaxCpus>::allocate(
    std::size_t frames, std::size_t align_frames) {
    unsigned cpu = P::cpu_index();
    if (cpu < kMaxCpus && mode() == Mode::per_cpu) {
        CpuCursor& cursor = cursors_[cpu];
        return allocate_with(cursor, cursor, cpu, frames, align_frames, true);
    }
    std::uint64_t spins = 0;
    SpinCountingGuard<P> guard(global_lock_, spins);
    // An out-of-range CPU keeps its statistics in the shared cursor, which the lock protects.
    CpuCursor& stats = cpu < kMaxCpus ? cursors_[cpu] : shared_cursor_;
    CpuCursor::add(stats.lock_spins, spins);
    return allocate_with(shared_cursor_, stats, cpu, frames, align_frames, false);
}

template <AllocatorPlatform P, bool kDebugFill, std::size_t kMaxCpus>
lib::Status<FreeError> FrameAllocator<P, kDebugFill, kMaxCpus>::free(PhysAddr address,
                                                                     std::size_t frames) {
    unsigned cpu = P::cpu_index();
    if (cpu < kMaxCpus && mode() == Mode::per_cpu) {
        CpuCursor& cursor = cursors_[cpu];
        return free_with(cursor, cursor, cpu, address, frames, true);
    }
    std::uint64_t spins = 0;
    SpinCountingGuard<P> guard(global_lock_, spins);
    CpuCursor& stats = cpu < kMaxCpus ? cursors_[cpu] : shared_cursor_;
    CpuCursor::add(stats.lock_spins, spins);
    return free_with(shared_cursor_, stats, cpu, address, frames, false);
}

template <AllocatorPlatform P, bool kDebugFill, std::size_t kMaxCpus>
lib::Status<FreeError> FrameAllocator<P, kDebugFill, kMaxCpus>::free_with(
    CpuCursor& cursor, CpuCursor& stats, unsigned cpu, PhysAddr address, std::size_t frames,
    bool per_cpu) {
    auto reject = [&](FreeError error) -> lib::Status<FreeError> {
        CpuCursor::add(stats.rejected_frees);
        return lib::fail(error);
    };
    if (address % kFrameSize != 0) {
        return reject(FreeError::misaligned);
    }
    if (frames == 0 || frames > kMaxAllocationFrames) {
        return reject(FreeError::invalid_size);
    }
    std::uint64_t first_frame = address >> kFrameShift;
    std::uint32_t last = CpuCursor::get(cursor.last_freed_area);
    std::uint32_t index = areas_.find(first_frame, last);
    if (index == kNoArea) {
        return reject(FreeError::outside_areas);
    }
    if (index != last) {
        CpuCursor::set(cursor.last_freed_area, index);
    }
    Area& area = areas_[index];
    MM_DEBUG_ASSERT(P, first_frame - area.base_frame < area.frames);  // What find() promises.
    auto offset = static_cast<std::uint32_t>(first_frame - area.base_frame);
    auto count = static_cast<std::uint32_t>(frames);
    if (offset + count > area.frames) {
        return reject(FreeError::outside_areas);  // Runs into a hole or the next area.
    }
    if (!range_allocated(area, offset, count)) {
        return reject(FreeError::not_allocated);  // A double free: nothing has changed.
    }
    stop_point<P>(StopPoint::free_prechecked);
    if constexpr (kDebugFill) {
        fill_freed_frames<P>(area, offset, count);
    }
    std::uint32_t freed = release_range<P>(area, offset, count);
    stop_point<P>(StopPoint::free_released);
    if (freed == count) {
        publish_free<P>(area, offset, count);
    }
    CpuCursor::add(stats.frames_freed, freed);
    if (per_cpu && freed > 0 && area.owner.load(std::memory_order_relaxed) != cpu) {
        CpuCursor::add(stats.remote_frees);
    }
    if (freed != count) {
        return reject(FreeError::not_allocated);  // Lost a race to free the same frames.
    }
    CpuCursor::add(stats.frees);
    return {};
}

template <AllocatorPlatform P, bool kDebugFill, std::size_t kMaxCpus>
void FrameAllocator<P, kDebugFill, kMaxCpus>::set_mode(Mode mode) {
    // Ownership only exists in per-CPU mode; global-lock mode starts from a clean slate.
    for (CpuCursor& cursor : cursors_) {
        if (CpuCursor::get(cursor.owns_area) != 0) {
            MM_ASSERT(P, CpuCursor::get(cursor.area) < areas_.count());
            areas_[CpuCursor::get(cursor.area)].owner.store(kNoOwner, std::memory_order_relaxed);
        }
        CpuCursor::set(cursor.area, kNoArea);
        CpuCursor::set(cursor.owns_area, 0u);
    }
    CpuCursor::set(shared_cursor_.area, kNoArea);
    mode_.store(mode, std::memory_order_relaxed);
}

}  // namespace mm
