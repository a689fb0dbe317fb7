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
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>

#include "mm/frame.hpp"

namespace mm {

template <typename P>
concept AllocatorPlatform = std::default_initializable<typename P::Lock> &&
    requires(typename P::Lock& lock, PhysAddr address, std::size_t offset, std::uint64_t found,
             unsigned cpu) {
    { P::cpu_index() } -> std::convertible_to<unsigned>;
    { P::relax() } -> std::same_as<void>;
    { P::phys_to_virt(address) } -> std::same_as<void*>;
    { P::report_use_after_free(address, offset, found, cpu) } -> std::same_as<void>;
    lock.lock();
    lock.unlock();
    { lock.try_lock() } -> std::convertible_to<bool>;
};

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
