// The TLB shootdown protocol, platform-free: one round at a time flushes a batch of pages on
// every online CPU and returns only when every one of them has acknowledged.
//
//   initiator                                   target (IPI handler, or a spin loop)
//   take the round (busy_), serving others'     generation_ (acquire) != my acknowledged?
//     rounds while it waits                       read request_, flush those pages
//   write request_; generation_ = g (release)     acknowledged = g (release)
//   flush locally; IPI every other CPU
//   wait until every CPU acknowledged g; release the round
//
// Why it cannot deadlock:
// - Two CPUs unmapping at once: only one holds the round; the other waits for it in a loop that
//   serves the holder's request (service()) instead of only spinning, so the holder's wait for
//   its acknowledgement ends even when the waiter has interrupts off.
// - A target spinning with interrupts off (so the IPI stays pending): every spin loop in the
//   kernel that can run with interrupts off calls service() (the spinlock's wait, the round's
//   own waits); the IPI is only the fast way to reach a CPU that is running something else.
//   A CPU that acknowledges neither way for kUnresponsiveNs makes P::report_unresponsive
//   (a panic naming it) rather than a silent hang.
// Request contents are stable while a target reads them: the next round cannot start before
// every target of this one has acknowledged, which it does after reading.
//
// What P provides, as static functions:
//   cpu_index(), cpu_count()   this CPU, and how many CPUs take part (0..count-1)
//   send_ipi(cpu)              interrupt that CPU so that it calls service()
//   flush_page(va), flush_all() on this CPU
//   relax(), now_ns()
//   stop_point(name)           a named window for tests to park a thread in; nothing in the kernel
//   report_unresponsive(cpu, generation)
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "vm/flush_batch.hpp"

namespace vm {

struct ShootdownCounters {
    std::uint64_t rounds = 0;         // rounds this CPU started
    std::uint64_t ipis_sent = 0;      // IPIs this CPU sent
    std::uint64_t received = 0;       // requests from other CPUs this CPU flushed for
    std::uint64_t pages_flushed = 0;  // single-page flushes done here (own and others' rounds)
    std::uint64_t full_flushes = 0;   // whole-TLB flushes done here
    std::uint64_t pages_batched = 0;  // pages covered by the rounds this CPU started
    std::uint64_t wait_ns = 0;        // time spent waiting for the round and the acknowledgements
};

template <typename P, std::size_t kMaxCpus>
class Shootdown {
  public:
    static constexpr std::uint64_t kUnresponsiveNs = 10'000'000'000ull;

    // Flushes `batch` here and on every other CPU; returns when all of them have.
    void flush(const FlushBatch& batch) {
        if (batch.empty()) {
            return;
        }
        unsigned self = P::cpu_index();
        Slot& mine = slots_[self];
        std::uint64_t started = P::now_ns();
        // Test before test-and-set: waiters only read the line until the holder lets go.
        while (busy_.load(std::memory_order_relaxed) ||
               busy_.exchange(true, std::memory_order_acquire)) {
            service();
            P::stop_point("shootdown.waiting_for_round");
            P::relax();
        }
        request_ = batch;
        std::uint64_t generation = generation_.load(std::memory_order_relaxed) + 1;
        // Our own flush is done below, directly: acknowledge before publishing, so that a
        // service() here does not flush the batch twice.
        mine.acknowledged.store(generation, std::memory_order_relaxed);
        generation_.store(generation, std::memory_order_release);
        P::stop_point("shootdown.published");
        unsigned count = P::cpu_count();
        for (unsigned cpu = 0; cpu < count; ++cpu) {
            if (cpu != self) {
                P::send_ipi(cpu);
                add(mine.counters.ipis_sent, 1);
            }
        }
        flush_here(batch, mine);
        for (unsigned cpu = 0; cpu < count; ++cpu) {
            if (cpu == self) {
                continue;
            }
            std::uint64_t waiting_since = P::now_ns();
            while (slots_[cpu].acknowledged.load(std::memory_order_acquire) < generation) {
                P::relax();
                if (P::now_ns() - waiting_since > kUnresponsiveNs) {
                    P::report_unresponsive(cpu, generation);
                    waiting_since = P::now_ns();
                }
            }
        }
        busy_.store(false, std::memory_order_release);
        add(mine.counters.rounds, 1);
        add(mine.counters.pages_batched, batch.total);
        add(mine.counters.wait_ns, P::now_ns() - started);
    }

    // Flushes for a round another CPU published, if one is waiting for this CPU. Safe to call
    // from anywhere, any time: from the IPI handler and from loops that spin with interrupts
    // off. Returns whether there was something to do.
    bool service() {
        Slot& mine = slots_[P::cpu_index()];
        std::uint64_t generation = generation_.load(std::memory_order_acquire);
        // <=, not ==: an initiator acknowledges its own round just before publishing it, and an
        // IPI left over from an earlier round may land in between; it must not move back.
        if (generation <= mine.acknowledged.load(std::memory_order_relaxed)) {
            return false;
        }
        FlushBatch request = request_;
        P::stop_point("shootdown.target_before_flush");
        flush_here(request, mine);
        add(mine.counters.received, 1);
        mine.acknowledged.store(generation, std::memory_order_release);
        return true;
    }

    // A CPU that comes online adopts the current generation (its TLB starts empty). Only while
    // no round is in flight, that is at start-up.
    void join() {
        slots_[P::cpu_index()].acknowledged.store(generation_.load(std::memory_order_acquire),
                                                  std::memory_order_release);
    }

    ShootdownCounters counters(unsigned cpu) const {
        const Counters& c = slots_[cpu].counters;
        return {read(c.rounds),        read(c.ipis_sent),    read(c.received),
                read(c.pages_flushed), read(c.full_flushes), read(c.pages_batched),
                read(c.wait_ns)};
    }
    std::uint64_t generation() const { return generation_.load(std::memory_order_relaxed); }

  private:
    // Written by their own CPU only, read by anyone for statistics.
    struct Counters {
        std::atomic<std::uint64_t> rounds{0}, ipis_sent{0}, received{0}, pages_flushed{0},
            full_flushes{0}, pages_batched{0}, wait_ns{0};
    };
    struct alignas(64) Slot {
        std::atomic<std::uint64_t> acknowledged{0};
        Counters counters;
    };

    static void add(std::atomic<std::uint64_t>& counter, std::uint64_t amount) {
        counter.store(counter.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
    }
    static std::uint64_t read(const std::atomic<std::uint64_t>& counter) {
        return counter.load(std::memory_order_relaxed);
    }

    static void flush_here(const FlushBatch& batch, Slot& mine) {
        if (batch.everything) {
            P::flush_all();
            add(mine.counters.full_flushes, 1);
            return;
        }
        for (std::size_t i = 0; i < batch.count; ++i) {
            P::flush_page(batch.pages[i]);
        }
        add(mine.counters.pages_flushed, batch.count);
    }

    alignas(64) std::atomic<bool> busy_{false};
    alignas(64) std::atomic<std::uint64_t> generation_{0};
    FlushBatch request_;  // written only by the round's holder, before generation_
    Slot slots_[kMaxCpus];
};

}  // namespace vm
