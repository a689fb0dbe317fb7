// A ticket spinlock: FIFO, so no CPU starves under contention. Waiters spin on a read-only load
// with `pause`, which keeps the line shared until the holder's release store.
//
// Taking a lock this CPU already holds is a bug that would spin forever; it is caught at once.
// A wait longer than kDeadlockSpins turns into a panic naming the holder, instead of a silent
// hang.
#pragma once

#include <atomic>
#include <cstdint>

namespace smp {

class Spinlock {
  public:
    explicit constexpr Spinlock(const char* name) : name_(name) {}
    Spinlock(const Spinlock&) = delete;
    Spinlock& operator=(const Spinlock&) = delete;

    void lock();
    void unlock();
    bool try_lock();
    bool held_by_this_cpu() const;
    const char* name() const { return name_; }
    // Spins of all contended acquisitions so far, for statistics.
    std::uint64_t total_spins() const { return spins_.load(std::memory_order_relaxed); }

  private:
    static constexpr std::uint32_t kNoHolder = ~0u;

    std::atomic<std::uint32_t> next_ticket_{0};
    std::atomic<std::uint32_t> now_serving_{0};
    std::atomic<std::uint32_t> holder_{kNoHolder};
    std::atomic<std::uint64_t> spins_{0};
    const char* name_;
};

// RAII: the lock is released on every path out of the scope.
template <typename Lock>
class [[nodiscard]] LockGuard {
  public:
    explicit LockGuard(Lock& lock) : lock_(lock) { lock_.lock(); }
    ~LockGuard() { lock_.unlock(); }
    LockGuard(const LockGuard&) = delete;
    LockGuard& operator=(const LockGuard&) = delete;

  private:
    Lock& lock_;
};

// Disables interrupts before taking the lock and restores the previous state after releasing
// it, so an interrupt handler on this CPU can never spin on a lock its own CPU holds.
class [[nodiscard]] IrqLockGuard {
  public:
    explicit IrqLockGuard(Spinlock& lock);
    ~IrqLockGuard();
    IrqLockGuard(const IrqLockGuard&) = delete;
    IrqLockGuard& operator=(const IrqLockGuard&) = delete;

  private:
    Spinlock& lock_;
    bool interrupts_were_enabled_;
};

}  // namespace smp
