// The TLB shootdown protocol with threads as CPUs: each has a fake TLB (one flag per page) and
// an "IPI pending" flag that it looks at only while its interrupts are on. Threads are parked
// at the protocol's named stop points to force the interleavings its claims are about:
// - a round returns only after every other CPU has flushed (a target parked before its flush
//   holds the initiator up);
// - two CPUs unmapping at once, both with interrupts off, both finish: the one waiting for the
//   round serves the other's request from its wait loop;
// - a target spinning with interrupts off acknowledges from its spin loop, its IPI untaken.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "vm/shootdown.hpp"

namespace {

constexpr unsigned kMaxCpus = 8;
constexpr unsigned kPages = 8;
constexpr vm::VirtAddr kBase = 0xFFFFC00000000000ull;

vm::VirtAddr page(unsigned i) {
    return kBase + i * vm::kPageSize;
}

// Parks the thread of one CPU at one named stop point until the test releases it, and counts
// every CPU's visits to every stop point.
class StopPoints {
  public:
    void arm(const char* name, unsigned cpu) {
        std::lock_guard<std::mutex> guard(mutex_);
        armed_name_ = name;
        armed_cpu_ = cpu;
        armed_ = true;
        arrived_ = false;
        released_ = false;
    }
    void wait_for_arrival() {
        std::unique_lock<std::mutex> guard(mutex_);
        changed_.wait(guard, [&] { return arrived_; });
    }
    void release() {
        std::lock_guard<std::mutex> guard(mutex_);
        released_ = true;
        changed_.notify_all();
    }
    void hit(const char* name, unsigned cpu) {
        std::unique_lock<std::mutex> guard(mutex_);
        ++visits_[cpu][name];
        if (armed_ && cpu == armed_cpu_ && armed_name_ == name) {
            armed_ = false;
            arrived_ = true;
            changed_.notify_all();
            changed_.wait(guard, [&] { return released_; });
        }
    }
    unsigned visits(const char* name, unsigned cpu) {
        std::lock_guard<std::mutex> guard(mutex_);
        return visits_[cpu][name];
    }
    void reset() {
        std::lock_guard<std::mutex> guard(mutex_);
        armed_ = false;
        for (auto& per_cpu : visits_) {
            per_cpu.clear();
        }
    }

  private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::string armed_name_;
    unsigned armed_cpu_ = 0;
    bool armed_ = false;
    bool arrived_ = false;
    bool released_ = false;
    std::map<std::string, unsigned> visits_[kMaxCpus];
};

struct Machine {
    static inline thread_local unsigned current = 0;
    static inline std::atomic<unsigned> count{0};
    static inline std::atomic<bool> ipi_pending[kMaxCpus];
    static inline std::atomic<bool> tlb[kMaxCpus][kPages];
    static inline StopPoints stops;
    // Added to the clock, so a test can make "seconds" pass at once.
    static inline std::atomic<std::uint64_t> clock_skew{0};
    // What report_unresponsive was told, and a flag it raises.
    static inline std::atomic<unsigned> unresponsive_cpu{~0u};
    static inline std::atomic<std::uint64_t> unresponsive_generation{0};

    static void reset(unsigned cpus) {
        count = cpus;
        for (unsigned c = 0; c < kMaxCpus; ++c) {
            ipi_pending[c] = false;
            for (unsigned p = 0; p < kPages; ++p) {
                tlb[c][p] = true;  // every CPU has every page cached
            }
        }
        stops.reset();
        clock_skew = 0;
        unresponsive_cpu = ~0u;
        unresponsive_generation = 0;
    }
};

struct HostShootdownPlatform {
    static unsigned cpu_index() { return Machine::current; }
    static unsigned cpu_count() { return Machine::count.load(); }
    static void send_ipi(unsigned cpu) { Machine::ipi_pending[cpu] = true; }
    static void flush_page(vm::VirtAddr va) {
        Machine::tlb[Machine::current][(va - kBase) / vm::kPageSize] = false;
    }
    static void flush_all() {
        for (auto& cached : Machine::tlb[Machine::current]) {
            cached = false;
        }
    }
    static void relax() { std::this_thread::yield(); }
    static std::uint64_t now_ns() {
        return std::uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::steady_clock::now().time_since_epoch())
                                 .count()) +
               Machine::clock_skew.load();
    }
    static void stop_point(const char* name) { Machine::stops.hit(name, Machine::current); }
    // The kernel panics here; the test records who was named and lets the run go on.
    static void report_unresponsive(unsigned cpu, std::uint64_t generation) {
        Machine::unresponsive_generation = generation;
        Machine::unresponsive_cpu = cpu;
    }
};

using Shootdown = vm::Shootdown<HostShootdownPlatform, kMaxCpus>;

vm::FlushBatch batch_of(std::initializer_list<unsigned> pages) {
    vm::FlushBatch batch;
    for (unsigned p : pages) {
        batch.add(page(p));
    }
    return batch;
}

// A CPU with interrupts on: takes its IPIs until told to stop.
std::thread interrupts_on(Shootdown& shootdown, unsigned cpu, std::atomic<bool>& stop) {
    return std::thread([&shootdown, cpu, &stop] {
        Machine::current = cpu;
        while (!stop.load()) {
            if (Machine::ipi_pending[cpu].exchange(false)) {
                shootdown.service();
            }
            std::this_thread::yield();
        }
    });
}

// A CPU with interrupts off spinning, as in a spinlock's wait: it never takes the IPI, but the
// wait loop serves shootdowns.
std::thread spinning_with_interrupts_off(Shootdown& shootdown, unsigned cpu,
                                         std::atomic<bool>& stop) {
    return std::thread([&shootdown, cpu, &stop] {
        Machine::current = cpu;
        while (!stop.load()) {
            shootdown.service();
            std::this_thread::yield();
        }
    });
}

TEST_CASE("a shootdown returns only after every other CPU flushed the batch") {
    Machine::reset(3);
    auto shootdown = std::make_unique<Shootdown>();
    std::atomic<bool> stop{false};
    std::atomic<bool> done{false};
    Machine::stops.arm("shootdown.target_before_flush", 1);
    std::thread cpu1 = interrupts_on(*shootdown, 1, stop);
    std::thread cpu2 = interrupts_on(*shootdown, 2, stop);
    std::thread cpu0([&] {
        Machine::current = 0;
        shootdown->flush(batch_of({0, 1}));
        done = true;
    });

    Machine::stops.wait_for_arrival();  // CPU 1 took the IPI and read the request
    CHECK_FALSE(done.load());           // so the initiator is still waiting for it
    CHECK(Machine::tlb[1][0].load());
    Machine::stops.release();
    cpu0.join();
    CHECK(done.load());
    for (unsigned c = 0; c < 3; ++c) {
        CAPTURE(c);
        CHECK_FALSE(Machine::tlb[c][0].load());
        CHECK_FALSE(Machine::tlb[c][1].load());
        CHECK(Machine::tlb[c][2].load());  // not in the batch
    }
    stop = true;
    cpu1.join();
    cpu2.join();

    vm::ShootdownCounters initiator = shootdown->counters(0);
    CHECK(initiator.rounds == 1);
    CHECK(initiator.ipis_sent == 2);
    CHECK(initiator.pages_batched == 2);
    CHECK(initiator.pages_flushed == 2);
    CHECK(shootdown->counters(1).received == 1);
    CHECK(shootdown->counters(2).received == 1);
    CHECK(shootdown->counters(1).pages_flushed == 2);
}

TEST_CASE("two CPUs unmapping at once with interrupts off both finish") {
    Machine::reset(2);
    auto shootdown = std::make_unique<Shootdown>();
    std::atomic<bool> stop{false};
    // CPU 0 holds the round, its request published, its IPI not yet sent.
    Machine::stops.arm("shootdown.published", 0);
    std::thread cpu0([&] {
        Machine::current = 0;
        shootdown->flush(batch_of({0}));
        // Done: now spinning with interrupts off, say in a lock's wait.
        while (!stop.load()) {
            shootdown->service();
            std::this_thread::yield();
        }
    });
    Machine::stops.wait_for_arrival();
    std::atomic<bool> cpu1_done{false};
    std::thread cpu1([&] {
        Machine::current = 1;
        shootdown->flush(batch_of({1}));  // interrupts off: never looks at its IPI flag
        cpu1_done = true;
    });
    // CPU 1 waits for the round and, waiting, serves CPU 0's request.
    while (Machine::stops.visits("shootdown.waiting_for_round", 1) == 0) {
        std::this_thread::yield();
    }
    Machine::stops.release();
    cpu1.join();
    CHECK(cpu1_done.load());
    stop = true;
    cpu0.join();

    CHECK_FALSE(Machine::tlb[1][0].load());  // CPU 1 flushed CPU 0's page while waiting
    CHECK_FALSE(Machine::tlb[0][1].load());  // and CPU 0 flushed CPU 1's, spinning
    CHECK(Machine::ipi_pending[1].load());   // CPU 1 never took the IPI
    CHECK(Machine::ipi_pending[0].load());   // nor CPU 0 its own
    CHECK(shootdown->counters(0).rounds == 1);
    CHECK(shootdown->counters(1).rounds == 1);
    CHECK(shootdown->counters(1).received == 1);
    CHECK(shootdown->counters(0).received == 1);
}

TEST_CASE("a target spinning with interrupts off acknowledges from its spin loop") {
    Machine::reset(2);
    auto shootdown = std::make_unique<Shootdown>();
    std::atomic<bool> stop{false};
    std::thread cpu1 = spinning_with_interrupts_off(*shootdown, 1, stop);
    Machine::current = 0;
    shootdown->flush(batch_of({3}));
    CHECK_FALSE(Machine::tlb[1][3].load());
    CHECK(Machine::ipi_pending[1].load());  // the IPI is still pending: the loop answered
    stop = true;
    cpu1.join();
    CHECK(shootdown->counters(1).received == 1);
}

TEST_CASE("a batch longer than the list flushes everything, in one round") {
    Machine::reset(2);
    auto shootdown = std::make_unique<Shootdown>();
    std::atomic<bool> stop{false};
    std::thread cpu1 = interrupts_on(*shootdown, 1, stop);
    Machine::current = 0;
    vm::FlushBatch batch;
    for (unsigned i = 0; i < vm::FlushBatch::kMaxPages + 5; ++i) {
        batch.add(page(i % kPages));
    }
    REQUIRE(batch.everything);
    shootdown->flush(batch);
    for (unsigned p = 0; p < kPages; ++p) {
        CHECK_FALSE(Machine::tlb[1][p].load());
    }
    stop = true;
    cpu1.join();
    CHECK(shootdown->counters(0).rounds == 1);
    CHECK(shootdown->counters(0).pages_batched == vm::FlushBatch::kMaxPages + 5);
    CHECK(shootdown->counters(1).full_flushes == 1);
}

TEST_CASE("every CPU shooting down its own page in a loop: each round reaches every CPU") {
    constexpr unsigned kCpus = 4;
    constexpr unsigned kRounds = 200;
    Machine::reset(kCpus);
    auto shootdown = std::make_unique<Shootdown>();
    std::atomic<unsigned> finished{0};
    std::atomic<unsigned> stale{0};
    std::vector<std::thread> cpus;
    for (unsigned me = 0; me < kCpus; ++me) {
        cpus.emplace_back([&, me] {
            Machine::current = me;
            for (unsigned round = 0; round < kRounds; ++round) {
                for (unsigned c = 0; c < kCpus; ++c) {
                    Machine::tlb[c][me] = true;  // everyone caches my page again
                }
                shootdown->flush(batch_of({me}));
                for (unsigned c = 0; c < kCpus; ++c) {
                    if (Machine::tlb[c][me].load()) {
                        ++stale;
                    }
                }
                if (Machine::ipi_pending[me].exchange(false)) {
                    shootdown->service();
                }
            }
            ++finished;
            // Keep answering until everyone is done, as an idle CPU would.
            while (finished.load() < kCpus) {
                if (Machine::ipi_pending[me].exchange(false)) {
                    shootdown->service();
                }
                std::this_thread::yield();
            }
        });
    }
    for (std::thread& cpu : cpus) {
        cpu.join();
    }
    CHECK(stale.load() == 0);
    std::uint64_t rounds = 0;
    for (unsigned c = 0; c < kCpus; ++c) {
        rounds += shootdown->counters(c).rounds;
    }
    CHECK(rounds == kCpus * kRounds);
    CHECK(shootdown->generation() == kCpus * kRounds);
}

TEST_CASE("a CPU that never acknowledges is reported by number instead of hanging silently") {
    Machine::reset(3);
    auto shootdown = std::make_unique<Shootdown>();
    std::atomic<bool> stop{false};
    std::thread cpu1 = interrupts_on(*shootdown, 1, stop);
    // CPU 2 answers nothing (interrupts off, no spin loop that serves) until it is reported.
    std::thread cpu2([&] {
        Machine::current = 2;
        while (Machine::unresponsive_cpu.load() != 2) {
            std::this_thread::yield();
        }
        shootdown->service();
    });
    std::thread cpu0([&] {
        Machine::current = 0;
        shootdown->flush(batch_of({4}));
    });
    // Wait until CPU 1 has answered, so only CPU 2 is missing, then let the seconds pass
    // (again and again: the initiator may start timing CPU 2 after a jump).
    while (shootdown->counters(1).received == 0) {
        std::this_thread::yield();
    }
    while (Machine::unresponsive_cpu.load() == ~0u) {
        Machine::clock_skew += Shootdown::kUnresponsiveNs;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    cpu0.join();
    cpu2.join();
    stop = true;
    cpu1.join();
    CHECK(Machine::unresponsive_cpu.load() == 2);
    CHECK(Machine::unresponsive_generation.load() == 1);
    CHECK_FALSE(Machine::tlb[2][4].load());  // and once it answered, the round completed
}

}  // namespace
