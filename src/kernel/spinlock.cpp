#include "kernel/spinlock.hpp"

#include "arch/x86_64/cpu.hpp"
#include "kernel/panic.hpp"
#include "kernel/percpu.hpp"
#include "kernel/tlb_shootdown.hpp"

namespace smp {
namespace {

// Several seconds even under emulation: no legitimate critical section in this kernel is that
// long, so a wait like this is a deadlock worth a report.
constexpr std::uint64_t kDeadlockSpins = std::uint64_t{1} << 31;

}  // namespace

void Spinlock::lock() {
    std::uint32_t me = cpu_index();
    if (holder_.load(std::memory_order_relaxed) == me) {
        PANIC("spinlock '{}' taken again by CPU {}, which already holds it", name_, me);
    }
    std::uint32_t ticket = next_ticket_.fetch_add(1, std::memory_order_relaxed);
    std::uint64_t spins = 0;
    // Acquire pairs with the release in unlock(): the previous holder's writes are visible.
    while (now_serving_.load(std::memory_order_acquire) != ticket) {
        // The wait may have interrupts off: answer TLB shootdowns here, or a holder waiting
        // for this CPU's acknowledgement would wait for ever.
        tlb::service();
        cpu::pause();
        if (++spins == kDeadlockSpins) {
            PANIC("spinlock '{}': CPU {} waited {} spins; held by CPU {}", name_, me, spins,
                  holder_.load(std::memory_order_relaxed));
        }
    }
    if (spins != 0) {
        spins_.fetch_add(spins, std::memory_order_relaxed);
    }
    holder_.store(me, std::memory_order_relaxed);
}

bool Spinlock::try_lock() {
    std::uint32_t serving = now_serving_.load(std::memory_order_acquire);
    std::uint32_t expected = serving;
    if (!next_ticket_.compare_exchange_strong(expected, serving + 1, std::memory_order_acquire,
                                              std::memory_order_relaxed)) {
        return false;
    }
    holder_.store(cpu_index(), std::memory_order_relaxed);
    return true;
}

void Spinlock::unlock() {
    holder_.store(kNoHolder, std::memory_order_relaxed);
    // Only the holder writes now_serving_, so a load and a release store are enough.
    now_serving_.store(now_serving_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

bool Spinlock::held_by_this_cpu() const {
    return holder_.load(std::memory_order_relaxed) == cpu_index();
}

IrqLockGuard::IrqLockGuard(Spinlock& lock)
    : lock_(lock), interrupts_were_enabled_(cpu::interrupts_enabled()) {
    cpu::disable_interrupts();
    lock_.lock();
}

IrqLockGuard::~IrqLockGuard() {
    lock_.unlock();
    if (interrupts_were_enabled_) {
        cpu::enable_interrupts();
    }
}

}  // namespace smp
