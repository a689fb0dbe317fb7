// ObjectCache's slab layer, all under the cache's lock except grow(): objects leave a slab for
// a magazine (take_locked) and come back (put_locked); a slab whose objects are all back goes
// to the empty list, and beyond empty_slabs_kept() empty slabs it returns its frames at once.
// Part of object_cache.hpp; include that instead.
#pragma once

#include "heap/object_cache.hpp"

namespace heap {

// Takes up to `want` objects, partly used slabs first (so that empty slabs stay empty and can
// be given back), and marks them cached. Returns how many it took; 0 means no slab has a free
// object and the caller should grow().
template <HeapPlatform P, bool kDebug, std::size_t kMaxCpus>
std::uint32_t ObjectCache<P, kDebug, kMaxCpus>::take_locked(void** out, std::uint32_t want) {
    std::uint32_t taken = 0;
    while (taken < want) {
        Slab* slab = partial_.head != nullptr ? partial_.head : empty_.head;
        if (slab == nullptr) {
            break;
        }
        std::uint32_t index = slab->hint;
        while (taken < want && slab->out < slab->capacity) {
            while (slab->state(index) != ObjectState::in_slab) {
                index = index + 1 == slab->capacity ? 0 : index + 1;
            }
            slab->set_state(index, ObjectState::cached);
            ++slab->out;
            out[taken++] =
                reinterpret_cast<void*>(slab->first_object + std::uintptr_t{index} * stride_);
        }
        slab->hint = index;
        list_remove(slab);
        list_push(slab->out == slab->capacity ? full_list : partial_list, slab);
    }
    objects_out_ += taken;
    return taken;
}

// A cached object goes back to its slab.
template <HeapPlatform P, bool kDebug, std::size_t kMaxCpus>
void ObjectCache<P, kDebug, kMaxCpus>::put_locked(void* object) {
    Located at = locate(object);
    Slab* slab = at.slab;
    slab->set_state(at.index, ObjectState::in_slab);
    --slab->out;
    --objects_out_;
    if (slab->out == 0) {
        list_remove(slab);
        list_push(empty_list, slab);
        while (empty_.count > empty_slabs_kept()) {
            release_slab_locked(empty_.head);
        }
    } else if (slab->list == full_list) {
        list_remove(slab);
        list_push(partial_list, slab);
    }
}

// A new slab: frames from the frame source, taken without the lock (the frame allocator may run
// a reclaim, which takes cache locks), then set up and put on the empty list.
template <HeapPlatform P, bool kDebug, std::size_t kMaxCpus>
bool ObjectCache<P, kDebug, kMaxCpus>::grow() {
    P::stop_point(StopPoint::slab_frames_unlocked);
    auto frames = core_->frames->take_frames(geometry_.frames);
    if (!frames) {
        return false;
    }
    if (!core_->map.covers(frames.value(), geometry_.frames)) {
        // Beyond the span the map was sized for: the heap cannot vouch for these frames.
        (void)core_->frames->give_frames(frames.value(), geometry_.frames);
        return false;
    }
    auto* slab = static_cast<Slab*>(P::phys_to_virt(frames.value()));
    slab->magic = Slab::kMagic;
    slab->cache = this;
    slab->next = slab->prev = nullptr;
    slab->first_object = reinterpret_cast<std::uintptr_t>(slab) + geometry_.first_offset;
    slab->physical = frames.value();
    slab->capacity = geometry_.capacity;
    slab->out = 0;
    slab->hint = 0;
    for (std::uint32_t i = 0; i < geometry_.capacity; ++i) {
        new (&slab->states()[i]) std::atomic<std::uint8_t>(std::uint8_t(ObjectState::in_slab));
        void* object = reinterpret_cast<void*>(slab->first_object + std::uintptr_t{i} * stride_);
        if constexpr (kDebug) {
            fill_bytes(static_cast<std::uint8_t*>(object) + object_size_, stride_ - object_size_,
                       kRedZoneByte);
            if (constructor_ == nullptr) {
                fill_bytes(object, object_size_, kPoisonByte);
            }
        }
        if (constructor_ != nullptr) {
            constructor_(object);
        }
    }
    // The release stores publish the header: a CPU that finds the slab in the map sees it set up.
    core_->map.set(frames.value(), geometry_.frames, reinterpret_cast<std::uintptr_t>(slab));
    HeapLockGuard guard(lock_);
    list_push(empty_list, slab);
    ++slab_count_;
    ++slabs_created_;
    return true;
}

template <HeapPlatform P, bool kDebug, std::size_t kMaxCpus>
void ObjectCache<P, kDebug, kMaxCpus>::release_slab_locked(Slab* slab) {
    list_remove(slab);
    --slab_count_;
    ++slabs_released_;
    core_->map.set(slab->physical, geometry_.frames, SlabMap::kEmpty);
    slab->magic = 0;
    (void)core_->frames->give_frames(slab->physical, geometry_.frames);
}

template <HeapPlatform P, bool kDebug, std::size_t kMaxCpus>
void ObjectCache<P, kDebug, kMaxCpus>::list_push(ListId id, Slab* slab) {
    SlabList& to = list(id);
    slab->list = id;
    slab->prev = nullptr;
    slab->next = to.head;
    if (to.head != nullptr) {
        to.head->prev = slab;
    }
    to.head = slab;
    ++to.count;
}

template <HeapPlatform P, bool kDebug, std::size_t kMaxCpus>
void ObjectCache<P, kDebug, kMaxCpus>::list_remove(Slab* slab) {
    SlabList& from = list(ListId(slab->list));
    if (slab->prev != nullptr) {
        slab->prev->next = slab->next;
    } else {
        from.head = slab->next;
    }
    if (slab->next != nullptr) {
        slab->next->prev = slab->prev;
    }
    slab->next = slab->prev = nullptr;
    --from.count;
}

template <HeapPlatform P, bool kDebug, std::size_t kMaxCpus>
std::size_t ObjectCache<P, kDebug, kMaxCpus>::reclaim() {
    Magazine* empties = nullptr;
    std::size_t frames = 0;
    {
        HeapLockGuard guard(lock_);
        P::stop_point(StopPoint::reclaim_locked);
        while (depot_full_ != nullptr) {
            Magazine* magazine = depot_full_;
            depot_full_ = magazine->next;
            empty_magazine_locked(magazine);
            magazine->next = empties;
            empties = magazine;
        }
        depot_full_count_ = 0;
        while (depot_empty_ != nullptr) {
            Magazine* magazine = depot_empty_;
            depot_empty_ = magazine->next;
            magazine->next = empties;
            empties = magazine;
        }
        depot_empty_count_ = 0;
        while (empty_.head != nullptr) {
            release_slab_locked(empty_.head);
            frames += geometry_.frames;
        }
    }
    while (empties != nullptr) {
        Magazine* next = empties->next;
        core_->pool.give(empties);
        empties = next;
    }
    return frames;
}

template <HeapPlatform P, bool kDebug, std::size_t kMaxCpus>
void ObjectCache<P, kDebug, kMaxCpus>::flush_cpu(unsigned cpu) {
    if (cpu >= kMaxCpus) {
        return;
    }
    CpuMagazines& magazines = cpus_[cpu];
    Magazine* both[2] = {magazines.loaded, magazines.previous};
    magazines.loaded = magazines.previous = nullptr;
    {
        HeapLockGuard guard(lock_);
        for (Magazine* magazine : both) {
            if (magazine != nullptr) {
                empty_magazine_locked(magazine);
            }
        }
    }
    for (Magazine* magazine : both) {
        if (magazine != nullptr) {
            core_->pool.give(magazine);
        }
    }
}

template <HeapPlatform P, bool kDebug, std::size_t kMaxCpus>
void ObjectCache<P, kDebug, kMaxCpus>::set_mode(Mode mode) {
    if (mode == Mode::global_lock) {
        for (unsigned cpu = 0; cpu < kMaxCpus; ++cpu) {
            flush_cpu(cpu);
        }
    }
    mode_.store(mode, std::memory_order_relaxed);
}

}  // namespace heap
