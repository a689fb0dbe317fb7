// ObjectCache's magazine exchanges with the depot, and the global-lock baseline. A CPU comes
// here only when both of its magazines are empty (allocation) or full (free): then it swaps
// whole magazines with the depot under the cache's lock, so one lock round trip serves a
// magazine's worth of objects. Part of object_cache.hpp; include that instead.
#pragma once

#include "heap/object_cache.hpp"

namespace heap {

template <HeapPlatform P, bool kDebug, std::size_t kMaxCpus>
lib::Result<void*, AllocError> ObjectCache<P, kDebug, kMaxCpus>::allocate_exchange(
    CpuMagazines& mine) {
    add(mine.slow_allocations);
    if (mine.previous != nullptr && mine.previous->count != 0) {
        Magazine* swap = mine.loaded;
        mine.loaded = mine.previous;
        mine.previous = swap;
    } else {
        if (mine.loaded == nullptr) {
            mine.loaded = take_empty_magazine();
            if (mine.loaded == nullptr) {
                return allocate_locked(P::cpu_index());  // no memory for a magazine
            }
        }
        // Both magazines are empty: a full one from the depot, else a batch from the slabs.
        for (int attempt = 0;; ++attempt) {
            {
                HeapLockGuard guard(lock_);
                P::stop_point(StopPoint::depot_locked);
                if (depot_full_ != nullptr) {
                    Magazine* full = depot_full_;
                    depot_full_ = full->next;
                    --depot_full_count_;
                    if (mine.previous != nullptr) {
                        mine.previous->next = depot_empty_;
                        depot_empty_ = mine.previous;
                        ++depot_empty_count_;
                    }
                    mine.previous = mine.loaded;
                    mine.loaded = full;
                    break;
                }
                mine.loaded->count = take_locked(mine.loaded->rounds, rounds_);
                if (mine.loaded->count != 0) {
                    break;
                }
            }
            if (attempt == 3 || !grow()) {
                add(mine.failed_allocations);
                return lib::fail(AllocError::out_of_memory);
            }
        }
    }
    void* object = mine.loaded->rounds[--mine.loaded->count];
    add(mine.allocations);
    hand_out(object);
    return object;
}

template <HeapPlatform P, bool kDebug, std::size_t kMaxCpus>
void ObjectCache<P, kDebug, kMaxCpus>::free_exchange(CpuMagazines& mine, void* object) {
    add(mine.slow_frees);
    add(mine.frees);
    if (mine.previous != nullptr && mine.previous->count == 0) {
        Magazine* swap = mine.loaded;
        mine.loaded = mine.previous;
        mine.previous = swap;
        mine.loaded->rounds[mine.loaded->count++] = object;
        return;
    }
    Magazine* empty = take_empty_magazine();
    HeapLockGuard guard(lock_);
    P::stop_point(StopPoint::depot_locked);
    if (empty == nullptr) {
        put_locked(object);  // no memory for a magazine: straight back to the slab
        return;
    }
    if (mine.previous != nullptr) {
        deposit_full_locked(mine.previous);
    }
    mine.previous = mine.loaded;  // full, or nullptr on the CPU's first free
    mine.loaded = empty;
    mine.loaded->rounds[mine.loaded->count++] = object;
}

// An empty magazine from the depot, else from the pool (which may take a frame: no lock held).
template <HeapPlatform P, bool kDebug, std::size_t kMaxCpus>
Magazine* ObjectCache<P, kDebug, kMaxCpus>::take_empty_magazine() {
    {
        HeapLockGuard guard(lock_);
        if (depot_empty_ != nullptr) {
            Magazine* magazine = depot_empty_;
            depot_empty_ = magazine->next;
            --depot_empty_count_;
            magazine->count = 0;
            return magazine;
        }
    }
    return core_->pool.take();
}

// The depot keeps kDepotFullLimit full magazines; beyond that a full magazine's objects go back
// to their slabs, so a CPU that only frees (a consumer) cannot pile up memory in the depot.
template <HeapPlatform P, bool kDebug, std::size_t kMaxCpus>
void ObjectCache<P, kDebug, kMaxCpus>::deposit_full_locked(Magazine* magazine) {
    if (depot_full_count_ >= kDepotFullLimit) {
        empty_magazine_locked(magazine);
        magazine->next = depot_empty_;
        depot_empty_ = magazine;
        ++depot_empty_count_;
        return;
    }
    magazine->next = depot_full_;
    depot_full_ = magazine;
    ++depot_full_count_;
}

template <HeapPlatform P, bool kDebug, std::size_t kMaxCpus>
void ObjectCache<P, kDebug, kMaxCpus>::empty_magazine_locked(Magazine* magazine) {
    while (magazine->count != 0) {
        put_locked(magazine->rounds[--magazine->count]);
    }
}

template <HeapPlatform P, bool kDebug, std::size_t kMaxCpus>
lib::Result<void*, AllocError> ObjectCache<P, kDebug, kMaxCpus>::allocate_locked(unsigned cpu) {
    CpuMagazines& stats = stats_for(cpu);
    for (int attempt = 0;; ++attempt) {
        {
            HeapLockGuard guard(lock_);
            void* object = nullptr;
            if (take_locked(&object, 1) == 1) {
                add(stats.allocations);
                add(stats.slow_allocations);
                hand_out(object);
                return object;
            }
            if (attempt == 3) {
                add(stats.failed_allocations);
                return lib::fail(AllocError::out_of_memory);
            }
        }
        if (!grow()) {
            HeapLockGuard guard(lock_);
            add(stats.failed_allocations);
            return lib::fail(AllocError::out_of_memory);
        }
    }
}

template <HeapPlatform P, bool kDebug, std::size_t kMaxCpus>
void ObjectCache<P, kDebug, kMaxCpus>::free_locked(unsigned cpu, void* object) {
    HeapLockGuard guard(lock_);
    put_locked(object);
    add(stats_for(cpu).frees);
    add(stats_for(cpu).slow_frees);
}

}  // namespace heap
