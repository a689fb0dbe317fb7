// The kernel object heap: named object caches for the kernel's own structures plus kmalloc's
// size classes (size_classes.hpp), all on one frame source, one slab map and one magazine pool;
// requests above 4 KiB go to the frame source as whole frames. reclaim() empties every depot and
// returns every empty slab; the frame allocator calls it (reclaim_hook) before it fails.
//
// Usage: Heap<P> heap; heap.init(span, map_buffer, frames) with a buffer of map_bytes(span)
// bytes; then allocate()/free() from any CPU, add_cache() for named caches. docs/HEAP.md.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "heap/frame_source.hpp"
#include "heap/heap_core.hpp"
#include "heap/heap_platform.hpp"
#include "heap/heap_types.hpp"
#include "heap/object_cache.hpp"
#include "heap/size_classes.hpp"
#include "lib/result.hpp"

namespace heap {

template <HeapPlatform P, bool kDebug = false, std::size_t kMaxCpus = 256>
class Heap {
  public:
    using Cache = ObjectCache<P, kDebug, kMaxCpus>;

    Heap() = default;
    Heap(const Heap&) = delete;
    Heap& operator=(const Heap&) = delete;

    static std::size_t map_bytes(mm::PhysRange span) { return SlabMap::bytes_for(span); }

    // The heap takes frames only inside `span` (frames outside it are given back at once).
    // Not thread-safe.
    void init(mm::PhysRange span, void* map_buffer, FrameSource& frames) {
        core_.frames = &frames;
        core_.map.init(span, map_buffer);
        core_.pool.init(frames);
        for (std::size_t i = 0; i < kSizeClasses.size(); ++i) {
            format_class_name(i);
            classes_[i].init(class_names_[i], kSizeClasses[i], kMinAlignment, nullptr, core_);
            link(classes_[i]);
        }
    }

    // A named cache, e.g. for one kernel structure; lives as long as the heap. False when the
    // size or alignment cannot be served (see ObjectCache::init). Safe at any time.
    bool add_cache(Cache& cache, const char* name, std::size_t size, std::size_t alignment,
                   Constructor constructor = nullptr) {
        if (!cache.init(name, size, alignment, constructor, core_)) {
            return false;
        }
        cache.set_mode(mode_.load(std::memory_order_relaxed));
        link(cache);
        return true;
    }

    lib::Result<void*, AllocError> allocate(std::size_t bytes) {
        if (bytes - 1 < kLargestClass) [[likely]] {
            return classes_[size_class_of(bytes)].allocate();
        }
        return allocate_large(bytes);
    }

    // Frees what allocate() or any of the heap's caches handed out. `caller` is reported with
    // a refused free. nullptr is not freed and not refused, as free(NULL) does nothing.
    lib::Status<FreeError> free(void* object, const void* caller) {
        if (object == nullptr) {
            return {};
        }
        typename Cache::Located at = Cache::locate(core_.map, object);
        if (at.error == Cache::Located::ok) [[likely]] {
            return static_cast<Cache*>(at.slab->cache)
                ->free_located(at.slab, at.index, object, caller);
        }
        if (at.error == Cache::Located::not_object_start) {
            return refuse(FreeError::not_object_start, static_cast<Cache*>(at.slab->cache)->name(),
                          object, caller);
        }
        return free_large(object, at.entry, caller);
    }

    // Empties every depot into its slabs, returns every empty slab's frames and the pool's
    // unused magazine frames. Any CPU, any time (also from inside the frame allocator's
    // out-of-memory path: no heap lock is held when the heap asks for frames). Per-CPU
    // magazines stay: flush_this_cpu() gives back the calling CPU's. Returns frames given back.
    std::size_t reclaim() {
        std::size_t frames = 0;
        for (Cache* cache = first(); cache != nullptr; cache = next(cache)) {
            frames += cache->reclaim();
        }
        frames += core_.pool.reclaim();
        reclaims_.fetch_add(1, std::memory_order_relaxed);
        reclaimed_frames_.fetch_add(frames, std::memory_order_relaxed);
        return frames;
    }
    // The frame allocator's reclaim hook: `context` is the heap.
    static std::size_t reclaim_hook(void* context) {
        return static_cast<Heap*>(context)->reclaim();
    }

    // Gives the calling CPU's magazines of every cache back to the slabs.
    void flush_this_cpu() {
        unsigned cpu = P::cpu_index();
        for (Cache* cache = first(); cache != nullptr; cache = next(cache)) {
            cache->flush_cpu(cpu);
        }
    }

    // Only while no CPU is in the heap.
    void set_mode(Mode mode) {
        mode_.store(mode, std::memory_order_relaxed);
        for (Cache* cache = first(); cache != nullptr; cache = next(cache)) {
            cache->set_mode(mode);
        }
    }
    Mode mode() const { return mode_.load(std::memory_order_relaxed); }

    // The caches in the order they were added, kmalloc's classes first.
    Cache* first() const { return caches_.load(std::memory_order_acquire); }
    static Cache* next(const Cache* cache) {
        return cache->next_in_heap.load(std::memory_order_acquire);
    }
    Cache& size_class(std::size_t index) { return classes_[index]; }

    std::uint64_t large_allocations() const {
        return large_allocations_.load(std::memory_order_relaxed);
    }
    std::uint64_t large_frames() const { return large_frames_.load(std::memory_order_relaxed); }
    std::size_t magazine_frames() { return core_.pool.frames(); }
    std::uint64_t reclaims() const { return reclaims_.load(std::memory_order_relaxed); }
    std::uint64_t reclaimed_frames() const {
        return reclaimed_frames_.load(std::memory_order_relaxed);
    }

    // Every cache's invariants. Only while no CPU is in the heap.
    InvariantReport check_invariants() {
        for (Cache* cache = first(); cache != nullptr; cache = next(cache)) {
            InvariantReport report = cache->check_invariants();
            if (!report.ok) {
                return report;
            }
        }
        return {};
    }

  private:
    lib::Result<void*, AllocError> allocate_large(std::size_t bytes) {
        if (bytes == 0 || bytes > kLargestRequest) {
            return lib::fail(AllocError::invalid_size);
        }
        std::size_t frames = (bytes + mm::kFrameSize - 1) / mm::kFrameSize;
        auto taken = core_.frames->take_frames(frames);
        if (!taken) {
            return lib::fail(AllocError::out_of_memory);
        }
        mm::PhysAddr address = taken.value();
        if (!core_.map.covers(address, frames)) {
            (void)core_.frames->give_frames(address, frames);
            return lib::fail(AllocError::out_of_memory);
        }
        core_.map.set(address + mm::kFrameSize, frames - 1, SlabMap::kLargeTail);
        core_.map.set(address, 1, SlabMap::large_head(frames));
        large_allocations_.fetch_add(1, std::memory_order_relaxed);
        large_frames_.fetch_add(frames, std::memory_order_relaxed);
        return P::phys_to_virt(address);
    }

    lib::Status<FreeError> free_large(void* object, std::uintptr_t entry, const void* caller) {
        mm::PhysAddr address = P::virt_to_phys(object);
        if (entry == SlabMap::kEmpty) {
            return refuse(FreeError::not_heap, nullptr, object, caller);
        }
        if (!SlabMap::is_large_head(entry) || address % mm::kFrameSize != 0) {
            return refuse(FreeError::not_object_start, kLargeName, object, caller);
        }
        // Of two CPUs freeing the same allocation at once, one wins the map entry.
        if (!core_.map.claim(address, entry)) {
            return refuse(FreeError::double_free, kLargeName, object, caller);
        }
        std::size_t frames = SlabMap::large_frames(entry);
        core_.map.set(address + mm::kFrameSize, frames - 1, SlabMap::kEmpty);
        large_allocations_.fetch_sub(1, std::memory_order_relaxed);
        large_frames_.fetch_sub(frames, std::memory_order_relaxed);
        (void)core_.frames->give_frames(address, frames);
        return {};
    }

    lib::Status<FreeError> refuse(FreeError error, const char* cache, const void* object,
                                  const void* caller) {
        P::report_bad_free({error, cache, object, caller, P::cpu_index()});
        refused_frees_.fetch_add(1, std::memory_order_relaxed);
        return lib::fail(error);
    }

    // Caches are only ever added, at the end, so readers walk the list without a lock.
    void link(Cache& cache) {
        HeapLockGuard guard(link_lock_);
        cache.next_in_heap.store(nullptr, std::memory_order_relaxed);
        if (last_ == nullptr) {
            caches_.store(&cache, std::memory_order_release);
        } else {
            last_->next_in_heap.store(&cache, std::memory_order_release);
        }
        last_ = &cache;
    }

    void format_class_name(std::size_t index) {
        char* name = class_names_[index];
        const char prefix[] = "kmalloc-";
        std::size_t length = 0;
        for (; prefix[length] != '\0'; ++length) {
            name[length] = prefix[length];
        }
        char digits[8];
        std::size_t count = 0;
        for (std::uint32_t size = kSizeClasses[index]; size != 0; size /= 10) {
            digits[count++] = char('0' + size % 10);
        }
        while (count > 0) {
            name[length++] = digits[--count];
        }
        name[length] = '\0';
    }

    static constexpr const char* kLargeName = "kmalloc-large";

    HeapCore<P> core_;
    std::atomic<Mode> mode_{Mode::per_cpu};
    typename P::Lock link_lock_;
    std::atomic<Cache*> caches_{nullptr};
    Cache* last_ = nullptr;
    std::atomic<std::uint64_t> large_allocations_{0};
    std::atomic<std::uint64_t> large_frames_{0};
    std::atomic<std::uint64_t> refused_frees_{0};
    std::atomic<std::uint64_t> reclaims_{0};
    std::atomic<std::uint64_t> reclaimed_frames_{0};
    char class_names_[kSizeClasses.size()][16] = {};
    Cache classes_[kSizeClasses.size()];
};

}  // namespace heap
