// What the frame allocator needs from its platform, as static functions of a template
// parameter: the allocator holds no platform object and reaches for no global.
//
//   P::cpu_index()        index of the running CPU, dense from 0. Must be unique among
//                         contexts that can be inside the allocator at the same time: the
//                         kernel calls the allocator with interrupts disabled (or never from
//                         an interrupt handler), so that one CPU never re-enters it.
//   P::Lock               default-constructible; lock(), unlock(), try_lock().
//   P::relax()            spin-wait hint (`pause` in the kernel, a yield on the host).
//   P::phys_to_virt(pa)   where physical address pa can be read and written (debug fill).
//   P::report_use_after_free(frame, offset, found, cpu)
//                         a freed frame's fill pattern was overwritten (debug fill). The
//                         kernel panics; tests record it.
//   P::assertion_failed(expression, file, line)
//                         an allocator assertion (MM_ASSERT, MM_DEBUG_ASSERT) failed. Must not
//                         return: the kernel panics, the host aborts.
//   P::stop_at(point)     optional: called at each named window of the protocol (StopPoint).
//                         The kernel and the benchmarks do not define it, so every stop point
//                         compiles to nothing there; host tests use it to park a thread inside
//                         an operation while others run.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>

#include "mm/frame.hpp"

namespace mm {

// The windows of the allocator's protocol where another CPU's interference matters: between
// a change of bits and the publish of the hints that describe it, or between a search and the
// claim that acts on it. Each is named where it happens in the code; docs/DESIGN.md section 15
// says which test parks a thread in each.
#define MM_STOP_POINTS(X)                                                                      \
    X(claimed_not_published)   /* bits claimed (marker or first fit), state not yet CASed */   \
    X(scan_done_not_published) /* rescan or sweep searched the bitmap, result not yet CASed */ \
    X(free_prechecked)         /* free: every frame seen allocated, nothing committed yet */   \
    X(free_released)           /* free: bits released and counted, extent not yet widened */   \
    X(owner_cas)               /* an unowned area chosen, its owner CAS not yet tried */       \
    X(last_resort_found)       /* last resort: a free run found, not yet claimed */            \
    X(block_splitting)         /* a whole block marked splitting, its bits not yet cleared */  \
    X(split_awaited)           /* a free waits for another CPU's split of its block to end */

enum class StopPoint : std::uint8_t {
#define MM_STOP_POINT_ENUM(name) name,
    MM_STOP_POINTS(MM_STOP_POINT_ENUM)
#undef MM_STOP_POINT_ENUM
};

constexpr const char* to_string(StopPoint point) {
    switch (point) {
#define MM_STOP_POINT_NAME(name) \
    case StopPoint::name:        \
        return #name;
        MM_STOP_POINTS(MM_STOP_POINT_NAME)
#undef MM_STOP_POINT_NAME
    }
    return "unknown";
}

template <typename P>
concept AllocatorPlatform = std::default_initializable<typename P::Lock> &&
    requires(typename P::Lock& lock, PhysAddr address, std::size_t offset, std::uint64_t found,
             unsigned cpu, const char* text, int line) {
    { P::cpu_index() } -> std::convertible_to<unsigned>;
    { P::relax() } -> std::same_as<void>;
    { P::phys_to_virt(address) } -> std::same_as<void*>;
    { P::report_use_after_free(address, offset, found, cpu) } -> std::same_as<void>;
    { P::assertion_failed(text, text, line) } -> std::same_as<void>;
    lock.lock();
    lock.unlock();
    { lock.try_lock() } -> std::convertible_to<bool>;
};

// A named window of the protocol: P::stop_at(point) if the platform has it, else nothing.
template <typename P>
[[gnu::always_inline]] inline void stop_point(StopPoint point) {
    if constexpr (requires { P::stop_at(point); }) {
        P::stop_at(point);
    }
}

// Two tiers of assertions, both reported through P::assertion_failed:
//   MM_ASSERT(P, condition)        always on: a broken condition would corrupt memory (a write
//                                  outside a bitmap, an index past the areas). Cheap checks only.
//   MM_DEBUG_ASSERT(P, condition)  only where MM_DEBUG_CHECKS is defined (the host test builds):
//                                  internal invariants, including checks that read bitmaps.
#define MM_ASSERT(P, condition) \
    ((condition) ? static_cast<void>(0) : P::assertion_failed(#condition, __FILE__, __LINE__))
#ifdef MM_DEBUG_CHECKS
#define MM_DEBUG_ASSERT(P, condition) MM_ASSERT(P, condition)
#else
// Not evaluated, but still compiled: a variable used only in a check is not "unused".
#define MM_DEBUG_ASSERT(P, condition) static_cast<void>(sizeof((condition) ? 1 : 0))
#endif

// Holds a lock for one scope. The lock is taken with try_lock in a loop so the allocator can
// count how long CPUs wait for it (lock_spins); every failed attempt calls P::relax().
template <AllocatorPlatform P>
class [[nodiscard]] SpinCountingGuard {
  public:
    SpinCountingGuard(typename P::Lock& lock, std::uint64_t& spins) : lock_(lock) {
        while (!lock_.try_lock()) {
            ++spins;
            P::relax();
        }
    }
    ~SpinCountingGuard() { lock_.unlock(); }
    SpinCountingGuard(const SpinCountingGuard&) = delete;
    SpinCountingGuard& operator=(const SpinCountingGuard&) = delete;

  private:
    typename P::Lock& lock_;
};

}  // namespace mm
