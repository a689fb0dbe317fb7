// An object cache: objects of one size and alignment, carved from slabs of frames (Bonwick,
// "The Slab Allocator", 1994), with a magazine layer in front (Bonwick and Adams, 2001):
//
//   CPU layer    each CPU has a loaded and a previous magazine; allocation pops, free pushes,
//                with no lock and no atomic read-modify-write (this file).
//   depot        full and empty magazines, exchanged with a CPU when both of its magazines
//                run dry or overflow, behind the cache's lock (object_cache_exchange.hpp).
//   slab layer   slabs on partial, full and empty lists behind the same lock; a slab whose
//                objects are all free returns its frames, beyond a few kept against churn
//                (object_cache_slabs.hpp).
//
// A free is checked before it is believed: the slab map says which slab (if any) holds the
// pointer, the slab's geometry whether it is an object's start, the object's state byte whether
// it is live. A refused free is reported (P::report_bad_free) and changes nothing.
//
// Usage: ObjectCache<P> cache; cache.init(name, size, alignment, constructor, core); then
// allocate()/free() from any CPU. docs/HEAP.md explains the design.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "heap/debug_fill.hpp"
#include "heap/heap_core.hpp"
#include "heap/heap_platform.hpp"
#include "heap/heap_types.hpp"
#include "heap/magazine.hpp"
#include "heap/slab.hpp"
#include "lib/result.hpp"

namespace heap {

// Runs once on every object of a new slab; a freed object keeps the state its user leaves it in.
using Constructor = void (*)(void* object);

template <HeapPlatform P, bool kDebug = false, std::size_t kMaxCpus = 256>
class ObjectCache {
  public:
    // Red zones, poison and compare-exchange frees (debug_fill.hpp, mark_freed).
    static constexpr bool kDebugChecks = kDebug;

    ObjectCache() = default;
    ObjectCache(const ObjectCache&) = delete;
    ObjectCache& operator=(const ObjectCache&) = delete;

    // Objects of `size` bytes at a multiple of `alignment` (a power of two, at most 4096).
    // False when no slab geometry fits (size above 64 KiB). Not thread-safe.
    bool init(const char* name, std::size_t size, std::size_t alignment, Constructor constructor,
              HeapCore<P>& core);

    lib::Result<void*, AllocError> allocate() {
        unsigned cpu = P::cpu_index();
        if (cpu < kMaxCpus && mode_.load(std::memory_order_relaxed) == Mode::per_cpu) [[likely]] {
            CpuMagazines& mine = cpus_[cpu];
            Magazine* loaded = mine.loaded;
            if (loaded != nullptr && loaded->count != 0) [[likely]] {
                void* object = loaded->rounds[--loaded->count];
                add(mine.allocations);
                hand_out(object);
                return object;
            }
            return allocate_exchange(mine);
        }
        return allocate_locked(cpu);
    }

    // `caller` is reported with a refused free. Errors: see FreeError.
    lib::Status<FreeError> free(void* object, const void* caller) {
        Located at = locate(object);
        if (at.error != Located::ok) {
            return refuse(
                at.error == Located::no_slab ? FreeError::not_heap : FreeError::not_object_start,
                object, caller);
        }
        if (at.slab->cache != this) {
            return refuse(FreeError::wrong_cache, object, caller);
        }
        return free_located(at.slab, at.index, object, caller);
    }

    // The pointer's slab and object index, if it lies in a slab of any cache of this heap's
    // map. Only arithmetic and loads of the map and the slab header: safe on any pointer.
    struct Located {
        enum Error : std::uint8_t { ok, no_slab, not_object_start } error = no_slab;
        Slab* slab = nullptr;
        std::uint32_t index = 0;
        std::uintptr_t entry = SlabMap::kEmpty;  // The map's entry, for callers that want it.
    };
    static Located locate(const SlabMap& map, const void* object);
    Located locate(const void* object) const { return locate(core_->map, object); }

    // A free whose pointer locate() found in one of this cache's slabs.
    lib::Status<FreeError> free_located(Slab* slab, std::uint32_t index, void* object,
                                        const void* caller) {
        if (!mark_freed(slab, index, object)) {
            return refuse(slab->state(index) == ObjectState::cached ? FreeError::double_free
                                                                    : FreeError::not_allocated,
                          object, caller);
        }
        unsigned cpu = P::cpu_index();
        if (cpu < kMaxCpus && mode_.load(std::memory_order_relaxed) == Mode::per_cpu) [[likely]] {
            CpuMagazines& mine = cpus_[cpu];
            Magazine* loaded = mine.loaded;
            if (loaded != nullptr && loaded->count < rounds_) [[likely]] {
                loaded->rounds[loaded->count++] = object;
                add(mine.frees);
                return {};
            }
            free_exchange(mine, object);
            return {};
        }
        free_locked(cpu, object);
        return {};
    }

    // Empties the depot into the slabs and returns every empty slab's frames (and the depot's
    // empty magazines to the pool). Any CPU, any time. Returns the frames given back.
    std::size_t reclaim();
    // Gives CPU `cpu`'s magazines back: the caller is that CPU, or no CPU is in the cache.
    void flush_cpu(unsigned cpu);
    // Only while no CPU is in the cache. Leaving per_cpu mode flushes every CPU's magazines.
    void set_mode(Mode mode);
    Mode mode() const { return mode_.load(std::memory_order_relaxed); }

    const char* name() const { return name_; }
    std::size_t object_size() const { return object_size_; }
    const SlabGeometry& geometry() const { return geometry_; }
    std::uint32_t magazine_rounds() const { return rounds_; }

    CacheStats stats();
    // Recounts every slab's states and every magazine. Valid only while no CPU is in the cache.
    InvariantReport check_invariants();

    // Hysteresis: a cache keeps one empty slab, and one more per 16 slabs in use, and returns
    // the frames of the others, so that a cache swinging around its working size does not
    // take and return frames on every swing.
    std::uint64_t empty_slabs_kept() const { return 1 + (slab_count_ - empty_.count) / 16; }
    // Full magazines the depot keeps; more are emptied into the slabs.
    static constexpr std::uint64_t kDepotFullLimit = 8;

    std::atomic<ObjectCache*> next_in_heap{nullptr};  // The heap's list of caches.

  private:
    // One cache line per CPU, written only by that CPU (counters: relaxed load + store).
    struct alignas(64) CpuMagazines {
        Magazine* loaded = nullptr;
        Magazine* previous = nullptr;
        std::atomic<std::uint64_t> allocations{0};
        std::atomic<std::uint64_t> frees{0};
        std::atomic<std::uint64_t> slow_allocations{0};
        std::atomic<std::uint64_t> slow_frees{0};
        std::atomic<std::uint64_t> refused_frees{0};
        std::atomic<std::uint64_t> failed_allocations{0};
    };
    static_assert(sizeof(CpuMagazines) == 64);

    struct SlabList {
        Slab* head = nullptr;
        std::uint64_t count = 0;
    };
    enum ListId : std::uint8_t { partial_list, full_list, empty_list };

    static void add(std::atomic<std::uint64_t>& counter, std::uint64_t amount = 1) {
        counter.store(counter.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
    }

    // The state byte of an object handed to a caller; debug checks of its fill.
    void hand_out(void* object) {
        Located at = locate(object);
        if constexpr (kDebug) {
            check_fill<P>(name_, object, object_size_, stride_, kRedZoneByte,
                          CorruptionKind::red_zone);
            if (constructor_ == nullptr) {
                check_fill<P>(name_, object, 0, object_size_, kPoisonByte, CorruptionKind::poison);
            }
        }
        at.slab->set_state(at.index, ObjectState::live);
    }

    // live -> cached, or false if the object is not live. The debug build uses a compare-
    // exchange, so that of two CPUs freeing one object at the same moment only one succeeds;
    // the fast path uses a load and a store, which catches every double free except two frees
    // racing each other (docs/HEAP.md).
    bool mark_freed(Slab* slab, std::uint32_t index, void* object) {
        if constexpr (kDebug) {
            std::uint8_t expected = std::uint8_t(ObjectState::live);
            if (!slab->states()[index].compare_exchange_strong(
                    expected, std::uint8_t(ObjectState::cached), std::memory_order_relaxed)) {
                return false;
            }
            check_fill<P>(name_, object, object_size_, stride_, kRedZoneByte,
                          CorruptionKind::red_zone);
            if (constructor_ == nullptr) {
                fill_bytes(object, object_size_, kPoisonByte);
            }
            return true;
        } else {
            (void)object;
            if (slab->state(index) != ObjectState::live) {
                return false;
            }
            slab->set_state(index, ObjectState::cached);
            return true;
        }
    }

    lib::Status<FreeError> refuse(FreeError error, const void* object, const void* caller) {
        unsigned cpu = P::cpu_index();
        if (cpu < kMaxCpus) {
            add(cpus_[cpu].refused_frees);
        } else {
            HeapLockGuard guard(lock_);
            add(shared_stats_.refused_frees);
        }
        P::report_bad_free({error, name_, object, caller, cpu});
        return lib::fail(error);
    }

    // Where the locked paths count: the CPU's own line, or (for a CPU index out of range, which
    // costs speed instead of safety) one shared under the lock.
    CpuMagazines& stats_for(unsigned cpu) { return cpu < kMaxCpus ? cpus_[cpu] : shared_stats_; }

    // object_cache_exchange.hpp
    lib::Result<void*, AllocError> allocate_exchange(CpuMagazines& mine);
    void free_exchange(CpuMagazines& mine, void* object);
    lib::Result<void*, AllocError> allocate_locked(unsigned cpu);
    void free_locked(unsigned cpu, void* object);
    Magazine* take_empty_magazine();
    void deposit_full_locked(Magazine* magazine);
    void empty_magazine_locked(Magazine* magazine);

    // object_cache_slabs.hpp
    std::uint32_t take_locked(void** out, std::uint32_t want);
    void put_locked(void* object);
    bool grow();
    void release_slab_locked(Slab* slab);
    void list_push(ListId id, Slab* slab);
    void list_remove(Slab* slab);
    SlabList& list(ListId id) {
        return id == partial_list ? partial_ : id == full_list ? full_ : empty_;
    }

    // Read-only after init.
    const char* name_ = "";
    std::size_t object_size_ = 0;
    std::uint32_t stride_ = 0;
    std::uint32_t rounds_ = 0;
    SlabGeometry geometry_{};
    StrideDivider divider_{};
    Constructor constructor_ = nullptr;
    HeapCore<P>* core_ = nullptr;
    std::atomic<Mode> mode_{Mode::per_cpu};

    // Under lock_.
    alignas(64) typename P::Lock lock_;
    SlabList partial_, full_, empty_;
    std::uint64_t slab_count_ = 0;
    std::uint64_t objects_out_ = 0;  // Objects not in_slab: in magazines or live.
    Magazine* depot_full_ = nullptr;
    Magazine* depot_empty_ = nullptr;
    std::uint64_t depot_full_count_ = 0;
    std::uint64_t depot_empty_count_ = 0;
    std::uint64_t slabs_created_ = 0;
    std::uint64_t slabs_released_ = 0;

    CpuMagazines shared_stats_;  // Counters of CPUs out of range, under lock_.
    CpuMagazines cpus_[kMaxCpus];
};

template <HeapPlatform P, bool kDebug, std::size_t kMaxCpus>
bool ObjectCache<P, kDebug, kMaxCpus>::init(const char* name, std::size_t size,
                                            std::size_t alignment, Constructor constructor,
                                            HeapCore<P>& core) {
    if (size == 0 || size > kMaxSlabFrames * mm::kFrameSize || alignment == 0 ||
        (alignment & (alignment - 1)) != 0 || alignment > mm::kFrameSize) {
        return false;
    }
    alignment = alignment < 8 ? 8 : alignment;
    std::size_t padded = kDebug ? size + kRedZoneBytes : size;
    std::size_t stride = (padded + alignment - 1) / alignment * alignment;
    geometry_ = slab_geometry(std::uint32_t(stride), std::uint32_t(alignment));
    if (geometry_.capacity == 0) {
        return false;
    }
    name_ = name;
    object_size_ = size;
    stride_ = std::uint32_t(stride);
    divider_ = StrideDivider::for_stride(stride_);
    constructor_ = constructor;
    core_ = &core;
    // Fewer rounds for big objects: a magazine then holds about the same memory (at most
    // ~16 KiB), so idle CPUs do not hoard much.
    std::size_t rounds = 16 * 1024 / stride;
    rounds_ = std::uint32_t(rounds < 4                      ? 4
                            : rounds > Magazine::kMaxRounds ? Magazine::kMaxRounds
                                                            : rounds);
    return true;
}

template <HeapPlatform P, bool kDebug, std::size_t kMaxCpus>
typename ObjectCache<P, kDebug, kMaxCpus>::Located ObjectCache<P, kDebug, kMaxCpus>::locate(
    const SlabMap& map, const void* object) {
    Located at;
    std::uintptr_t entry = map.lookup(P::virt_to_phys(object));
    at.entry = entry;
    if (!SlabMap::is_slab(entry)) {
        return at;
    }
    Slab* slab = reinterpret_cast<Slab*>(entry);
    const auto* owner = static_cast<const ObjectCache*>(slab->cache);
    auto address = reinterpret_cast<std::uintptr_t>(object);
    at.slab = slab;
    at.error = Located::not_object_start;
    if (address < slab->first_object) {
        return at;
    }
    std::uint64_t offset = address - slab->first_object;
    std::uint32_t index = owner->divider_.index(offset);
    if (index >= slab->capacity || std::uint64_t{index} * owner->stride_ != offset) {
        return at;
    }
    at.error = Located::ok;
    at.index = index;
    return at;
}

}  // namespace heap

#include "heap/object_cache_exchange.hpp"
#include "heap/object_cache_slabs.hpp"
#include "heap/object_cache_stats.hpp"
