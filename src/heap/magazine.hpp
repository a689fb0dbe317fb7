// A magazine: a stack of free objects of one cache (Bonwick and Adams, "Magazines and Vmem",
// 2001). A CPU allocates by popping from its loaded magazine and frees by pushing onto it, with
// no lock and no atomic read-modify-write, because no other CPU touches a loaded magazine.
//
// Magazines come from the MagazinePool: frames cut into 256-byte magazines behind a lock, taken
// only on a magazine exchange (never on the fast path). A frame whose magazines are all back in
// the pool is returned to the frame source by reclaim.
#pragma once

#include <cstddef>
#include <cstdint>

#include "heap/frame_source.hpp"
#include "heap/heap_platform.hpp"
#include "mm/frame.hpp"

namespace heap {

struct Magazine {
    static constexpr std::uint32_t kMaxRounds = 30;

    Magazine* next;  // In a depot list or the pool's free list.
    std::uint32_t count;
    std::uint32_t frame_slot;  // Index within its pool frame.
    void* rounds[kMaxRounds];

    bool empty() const { return count == 0; }
};
static_assert(sizeof(Magazine) == 256);

template <HeapPlatform P>
class MagazinePool {
  public:
    void init(FrameSource& frames) { frames_ = &frames; }

    // nullptr when no frame could be had for a new pool frame.
    Magazine* take() {
        {
            HeapLockGuard guard(lock_);
            if (Magazine* magazine = take_locked()) {
                return magazine;
            }
        }
        auto frame = frames_->take_frames(1);  // without the lock: this may run a reclaim
        if (!frame) {
            return nullptr;
        }
        auto* pool_frame = static_cast<PoolFrame*>(P::phys_to_virt(frame.value()));
        pool_frame->physical = frame.value();
        pool_frame->free_count = 0;
        pool_frame->free_list = nullptr;
        HeapLockGuard guard(lock_);
        pool_frame->next = frames_list_;
        frames_list_ = pool_frame;
        ++frame_count_;
        for (std::uint32_t slot = 0; slot < kPerFrame; ++slot) {
            Magazine& magazine = pool_frame->magazines[slot];
            magazine.frame_slot = slot;
            push_locked(pool_frame, &magazine);
        }
        return take_locked();
    }

    void give(Magazine* magazine) {
        HeapLockGuard guard(lock_);
        push_locked(frame_of(magazine), magazine);
    }

    // Returns the frames whose magazines are all in the pool; the number of frames returned.
    std::size_t reclaim() {
        PoolFrame* released = nullptr;
        {
            HeapLockGuard guard(lock_);
            PoolFrame** link = &frames_list_;
            while (*link != nullptr) {
                PoolFrame* frame = *link;
                if (frame->free_count == kPerFrame) {
                    *link = frame->next;
                    free_magazines_ -= kPerFrame;
                    --frame_count_;
                    frame->next = released;
                    released = frame;
                } else {
                    link = &frame->next;
                }
            }
        }
        std::size_t count = 0;
        while (released != nullptr) {
            PoolFrame* next = released->next;
            (void)frames_->give_frames(released->physical, 1);
            released = next;
            ++count;
        }
        return count;
    }

    std::size_t frames() {
        HeapLockGuard guard(lock_);
        return frame_count_;
    }
    std::size_t free_magazines() {
        HeapLockGuard guard(lock_);
        return free_magazines_;
    }

  private:
    struct PoolFrame;
    static constexpr std::uint32_t kPerFrame = (mm::kFrameSize - 64) / sizeof(Magazine);

    struct alignas(64) PoolFrame {
        PoolFrame* next;
        Magazine* free_list;
        mm::PhysAddr physical;
        std::uint32_t free_count;
        alignas(64) Magazine magazines[kPerFrame];
    };
    static_assert(sizeof(PoolFrame) <= mm::kFrameSize);

    static PoolFrame* frame_of(Magazine* magazine) {
        auto* first = magazine - magazine->frame_slot;
        return reinterpret_cast<PoolFrame*>(reinterpret_cast<unsigned char*>(first) -
                                            offsetof(PoolFrame, magazines));
    }

    void push_locked(PoolFrame* frame, Magazine* magazine) {
        magazine->count = 0;
        magazine->next = frame->free_list;
        frame->free_list = magazine;
        ++frame->free_count;
        ++free_magazines_;
    }

    Magazine* take_locked() {
        for (PoolFrame* frame = frames_list_; frame != nullptr; frame = frame->next) {
            if (Magazine* magazine = frame->free_list) {
                frame->free_list = magazine->next;
                --frame->free_count;
                --free_magazines_;
                magazine->next = nullptr;
                magazine->count = 0;
                return magazine;
            }
        }
        return nullptr;
    }

    typename P::Lock lock_;
    FrameSource* frames_ = nullptr;
    PoolFrame* frames_list_ = nullptr;
    std::size_t frame_count_ = 0;
    std::size_t free_magazines_ = 0;
};

}  // namespace heap
