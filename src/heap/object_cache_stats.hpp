// ObjectCache's statistics and invariant check. Part of object_cache.hpp; include that instead.
#pragma once

#include "heap/object_cache.hpp"

namespace heap {

template <HeapPlatform P, bool kDebug, std::size_t kMaxCpus>
CacheStats ObjectCache<P, kDebug, kMaxCpus>::stats() {
    CacheStats s;
    s.name = name_;
    s.object_size = object_size_;
    s.stride = stride_;
    s.slab_frames = geometry_.frames;
    s.objects_per_slab = geometry_.capacity;
    auto sum = [&](const CpuMagazines& c) {
        s.allocations += c.allocations.load(std::memory_order_relaxed);
        s.frees += c.frees.load(std::memory_order_relaxed);
        s.fast_allocations -= c.slow_allocations.load(std::memory_order_relaxed);
        s.fast_frees -= c.slow_frees.load(std::memory_order_relaxed);
        s.refused_frees += c.refused_frees.load(std::memory_order_relaxed);
        s.failed_allocations += c.failed_allocations.load(std::memory_order_relaxed);
    };
    std::uint64_t out = 0;
    {
        HeapLockGuard guard(lock_);
        sum(shared_stats_);
        s.slabs = slab_count_;
        s.empty_slabs = empty_.count;
        out = objects_out_;
        s.depot_full = depot_full_count_;
        s.depot_empty = depot_empty_count_;
        s.slabs_created = slabs_created_;
        s.slabs_released = slabs_released_;
    }
    for (const CpuMagazines& c : cpus_) {
        sum(c);
    }
    // Counted as minus the slow ones above; a counter read mid-update may be one off.
    s.fast_allocations += s.allocations;
    s.fast_frees += s.frees;
    s.in_use = s.allocations > s.frees ? s.allocations - s.frees : 0;
    s.in_magazines = out > s.in_use ? out - s.in_use : 0;
    s.free_in_slabs = s.slabs * geometry_.capacity - out;
    return s;
}

template <HeapPlatform P, bool kDebug, std::size_t kMaxCpus>
InvariantReport ObjectCache<P, kDebug, kMaxCpus>::check_invariants() {
    HeapLockGuard guard(lock_);
    std::uint64_t slabs = 0, out = 0, live = 0, cached = 0;
    for (ListId id : {partial_list, full_list, empty_list}) {
        std::uint64_t on_list = 0;
        for (Slab* slab = list(id).head; slab != nullptr; slab = slab->next) {
            ++on_list;
            if (slab->magic != Slab::kMagic || slab->cache != this || slab->list != id) {
                return InvariantReport::failure("slab header or list is wrong", name_, id,
                                                slab->list);
            }
            for (std::uint32_t f = 0; f < geometry_.frames; ++f) {
                if (core_->map.lookup(slab->physical + f * mm::kFrameSize) !=
                    reinterpret_cast<std::uintptr_t>(slab)) {
                    return InvariantReport::failure("slab map does not point at the slab", name_, f,
                                                    0);
                }
            }
            std::uint32_t slab_out = 0;
            for (std::uint32_t i = 0; i < slab->capacity; ++i) {
                ObjectState state = slab->state(i);
                slab_out += state != ObjectState::in_slab ? 1 : 0;
                live += state == ObjectState::live ? 1 : 0;
                cached += state == ObjectState::cached ? 1 : 0;
            }
            if (slab_out != slab->out) {
                return InvariantReport::failure("slab's out count is not its states'", name_,
                                                slab_out, slab->out);
            }
            bool right_list = id == empty_list  ? slab_out == 0
                              : id == full_list ? slab_out == slab->capacity
                                                : slab_out > 0 && slab_out < slab->capacity;
            if (!right_list) {
                return InvariantReport::failure("slab is on the wrong list", name_, id, slab_out);
            }
            out += slab_out;
        }
        if (on_list != list(id).count) {
            return InvariantReport::failure("list count is wrong", name_, list(id).count, on_list);
        }
        slabs += on_list;
    }
    if (slabs != slab_count_ || out != objects_out_) {
        return InvariantReport::failure("slab or object count is wrong", name_, objects_out_, out);
    }
    if (empty_.count > empty_slabs_kept()) {
        return InvariantReport::failure("more empty slabs kept than the hysteresis allows", name_,
                                        empty_slabs_kept(), empty_.count);
    }
    // Every object in a magazine is cached, and every cached object is in exactly one
    // magazine: the rounds counted here must equal the cached states counted above.
    std::uint64_t rounds = 0;
    auto count_magazine = [&](const Magazine* magazine) -> bool {
        if (magazine == nullptr) {
            return true;
        }
        for (std::uint32_t r = 0; r < magazine->count; ++r) {
            Located at = locate(magazine->rounds[r]);
            if (at.error != Located::ok || at.slab->cache != this ||
                at.slab->state(at.index) != ObjectState::cached) {
                return false;
            }
        }
        rounds += magazine->count;
        return true;
    };
    for (const CpuMagazines& c : cpus_) {
        if (!count_magazine(c.loaded) || !count_magazine(c.previous)) {
            return InvariantReport::failure("a CPU's magazine holds a non-cached object", name_, 0,
                                            0);
        }
    }
    for (Magazine* m : {depot_full_, depot_empty_}) {
        for (; m != nullptr; m = m->next) {
            if (!count_magazine(m)) {
                return InvariantReport::failure("a depot magazine holds a non-cached object", name_,
                                                0, 0);
            }
        }
    }
    if (rounds != cached) {
        return InvariantReport::failure("objects in magazines are not the cached ones", name_,
                                        cached, rounds);
    }
    std::uint64_t in_use = 0;
    for (const CpuMagazines& c : cpus_) {
        in_use +=
            c.allocations.load(std::memory_order_relaxed) - c.frees.load(std::memory_order_relaxed);
    }
    in_use += shared_stats_.allocations.load(std::memory_order_relaxed) -
              shared_stats_.frees.load(std::memory_order_relaxed);
    if (in_use != live) {
        return InvariantReport::failure("live objects are not allocations minus frees", name_,
                                        in_use, live);
    }
    return {};
}

}  // namespace heap
