// Where the other CPUs of a stress run leave items (frames, heap objects) for one CPU to free:
// the remote frees of `stress --remote`, shared by the frame and the heap stress.
#pragma once

#include <cstdint>

#include "kernel/spinlock.hpp"

namespace shell {

template <typename Item, std::uint32_t kCapacity>
class StressInbox {
  public:
    explicit constexpr StressInbox(const char* name) : lock_(name) {}

    // Leaves `item` here; false when the inbox is busy or full, and the sender frees it itself.
    // Never waits: a ticket lock hands itself to the next waiter in line even when that CPU is
    // not running (under emulation, a vCPU without a host thread), and waiters then queue
    // behind it.
    bool try_post(const Item& item) {
        if (!lock_.try_lock()) {
            return false;
        }
        bool posted = count_ < kCapacity;
        if (posted) {
            items_[count_++] = item;
        }
        lock_.unlock();
        return posted;
    }

    // Hands every item to `free_one`, a batch at a time outside the lock. `wait`: the final
    // drain must empty the inbox; a periodic one skips a busy inbox.
    template <typename FreeOne>
    void drain(bool wait, FreeOne free_one) {
        constexpr std::uint32_t kBatch = 32;
        Item batch[kBatch];
        for (;;) {
            std::uint32_t taken = 0;
            if (wait) {
                lock_.lock();
            } else if (!lock_.try_lock()) {
                return;
            }
            while (taken < kBatch && count_ > 0) {
                batch[taken++] = items_[--count_];
            }
            lock_.unlock();
            if (taken == 0) {
                return;
            }
            for (std::uint32_t i = 0; i < taken; ++i) {
                free_one(batch[i]);
            }
        }
    }

  private:
    smp::Spinlock lock_;
    std::uint32_t count_ = 0;
    Item items_[kCapacity];
};

}  // namespace shell
