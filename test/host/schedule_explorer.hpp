// Runs a few threads, each as its own CPU, one at a time, and lets a seeded chooser decide
// which of them proceeds at every stop point inside the allocator (mm::StopPoint) and every
// spin on one of its locks. The same seed gives the same interleaving, so a failing schedule
// is replayed by its seed. The seed also sets how often the running thread is switched at a
// decision (rarely, half the time, nearly always): races that need one thread to get far
// while another waits, and races that need fine-grained alternation, both come up.
//
// Only the chosen thread runs; the others wait on one condition variable, so every hand-over
// is a mutex release/acquire and ThreadSanitizer checks the allocator's own synchronisation
// with the explorer's order on top. A thread that spins on a lock held by a parked thread
// hands over too, so the holder is eventually chosen and the spin ends.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "allocator_test_support.hpp"

namespace alloc_test {

class ScheduleExplorer {
  public:
    // Starts `threads` workers, reused by every run: creating threads for every schedule would
    // cost more than the schedule.
    explicit ScheduleExplorer(std::size_t threads) {
        for (std::size_t i = 0; i < threads; ++i) {
            hooks_.emplace_back(*this, static_cast<unsigned>(i));
        }
        for (std::size_t i = 0; i < threads; ++i) {
            workers_.emplace_back([this, i] { work(static_cast<unsigned>(i)); });
        }
    }
    ~ScheduleExplorer() {
        {
            std::lock_guard<std::mutex> guard(mutex_);
            stopping_ = true;
            turn_.notify_all();
        }
        for (std::thread& worker : workers_) {
            worker.join();
        }
    }
    ScheduleExplorer(const ScheduleExplorer&) = delete;
    ScheduleExplorer& operator=(const ScheduleExplorer&) = delete;

    // Runs bodies[i] on worker i as CPU i (at most as many bodies as workers), interleaved at
    // the allocator's stop points as `seed` decides, and returns when every body has returned.
    void run(std::uint64_t seed, const std::vector<std::function<void()>>& bodies) {
        std::unique_lock<std::mutex> lock(mutex_);
        random_.seed(seed);
        switch_percent_ = kSwitchPercents[random_() % 3];
        bodies_ = &bodies;
        done_.assign(bodies.size(), false);
        running_ = kNobody;
        running_ = choose_locked();
        turn_.notify_all();
        turn_.wait(lock, [&] { return running_ == kNobody; });
        bodies_ = nullptr;
    }

    // Decisions taken so far (every stop point and spin is one, even when the same thread is
    // chosen again).
    std::size_t decisions() const { return decisions_; }

  private:
    static constexpr unsigned kNobody = ~0u;
    static constexpr unsigned kSwitchPercents[] = {10, 50, 90};

    struct ThreadHook final : StopHook {
        ThreadHook(ScheduleExplorer& explorer, unsigned self) : explorer(explorer), self(self) {}
        void reached(mm::StopPoint) override { explorer.hand_over(self); }
        void spinning() override { explorer.hand_over(self); }
        ScheduleExplorer& explorer;
        unsigned self;
    };

    void work(unsigned self) {
        HostPlatform::current_cpu = self;
        HostPlatform::stop_hook = &hooks_[self];
        for (;;) {
            const std::function<void()>* body = nullptr;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                turn_.wait(lock, [&] { return stopping_ || running_ == self; });
                if (stopping_) {
                    return;
                }
                body = &(*bodies_)[self];
            }
            (*body)();
            finish(self);
        }
    }

    void hand_over(unsigned self) {
        std::unique_lock<std::mutex> lock(mutex_);
        running_ = choose_locked();
        if (running_ == self) {
            return;
        }
        turn_.notify_all();
        turn_.wait(lock, [&] { return running_ == self; });
    }

    void finish(unsigned self) {
        std::lock_guard<std::mutex> guard(mutex_);
        done_[self] = true;
        running_ = choose_locked();
        turn_.notify_all();
    }

    // A body that has not finished, picked by the seeded generator: the running one again
    // unless the generator says switch (or it finished); kNobody when all have finished.
    unsigned choose_locked() {
        ++decisions_;
        bool running = running_ != kNobody && !done_[running_];
        if (running && random_() % 100 >= switch_percent_) {
            return running_;
        }
        std::vector<unsigned> others;
        for (std::size_t i = 0; i < done_.size(); ++i) {
            if (!done_[i] && i != running_) {
                others.push_back(static_cast<unsigned>(i));
            }
        }
        if (others.empty()) {
            return running ? running_ : kNobody;
        }
        return others[random_() % others.size()];
    }

    std::vector<ThreadHook> hooks_;
    std::vector<std::thread> workers_;
    std::mt19937_64 random_;
    unsigned switch_percent_ = 50;
    std::mutex mutex_;
    std::condition_variable turn_;
    const std::vector<std::function<void()>>* bodies_ = nullptr;
    std::vector<bool> done_;
    unsigned running_ = kNobody;
    bool stopping_ = false;
    std::size_t decisions_ = 0;
};

}  // namespace alloc_test
