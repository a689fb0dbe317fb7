// What the object heap needs from its platform, as static functions of a template parameter, as
// the frame allocator gets it (mm/allocator_platform.hpp): the heap holds no platform object and
// reaches for no global.
//
//   P::cpu_index()          index of the running CPU, dense from 0, unique among contexts that
//                           can be inside the heap at once: the kernel never calls the heap
//                           from an interrupt handler, so one CPU never re-enters a magazine.
//   P::Lock                 default-constructible; lock(), unlock(), try_lock().
//   P::phys_to_virt(pa)     where the heap reads and writes physical address pa.
//   P::virt_to_phys(p)      the physical address behind a pointer the heap handed out (and
//                           any other pointer a caller passes to free: only arithmetic, never a
//                           memory access, so a wild pointer cannot fault here).
//   P::stop_point(where)    a named window in the heap's code; the kernel does nothing, host
//                           tests park a thread there to force an interleaving.
//   P::report_bad_free(r)   a free was refused (heap_types.hpp says why); the kernel prints it
//                           with the caller's symbol, tests record it.
//   P::report_corruption(r) debug build: a red zone or a freed object's poison was overwritten.
#pragma once

#include <concepts>
#include <cstdint>

#include "heap/heap_types.hpp"
#include "mm/frame.hpp"

namespace heap {

template <typename P>
concept HeapPlatform = std::default_initializable<typename P::Lock> &&
    requires(typename P::Lock& lock, mm::PhysAddr address, const void* pointer,
             const BadFree& bad_free, const Corruption& corruption, StopPoint where) {
    { P::cpu_index() } -> std::convertible_to<unsigned>;
    { P::phys_to_virt(address) } -> std::same_as<void*>;
    { P::virt_to_phys(pointer) } -> std::same_as<mm::PhysAddr>;
    { P::stop_point(where) } -> std::same_as<void>;
    { P::report_bad_free(bad_free) } -> std::same_as<void>;
    { P::report_corruption(corruption) } -> std::same_as<void>;
    lock.lock();
    lock.unlock();
    { lock.try_lock() } -> std::convertible_to<bool>;
};

// Holds a lock for one scope.
template <typename Lock>
class [[nodiscard]] HeapLockGuard {
  public:
    explicit HeapLockGuard(Lock& lock) : lock_(lock) { lock_.lock(); }
    ~HeapLockGuard() { lock_.unlock(); }
    HeapLockGuard(const HeapLockGuard&) = delete;
    HeapLockGuard& operator=(const HeapLockGuard&) = delete;

  private:
    Lock& lock_;
};

}  // namespace heap
