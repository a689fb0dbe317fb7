// Deterministic interleavings: one allocator operation runs on its own thread, as its own CPU,
// and parks at a named stop point (mm::StopPoint) inside the allocator; the test thread then
// runs other CPUs' operations while it is parked, and lets it finish. Every hand-over goes
// through one mutex, so ThreadSanitizer sees the order the scenario forces.
//
//   ParkedOperation parked(0, mm::StopPoint::free_prechecked, [&] { status = a.free(x, 64); });
//   REQUIRE(parked.parked());         // CPU 0 is inside free(), pre-check done
//   { AsCpu cpu(1); ... }             // CPU 1 acts meanwhile
//   parked.finish();                  // CPU 0 runs to the end; status is readable now
#pragma once

#include <doctest/doctest.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

#include "allocator_test_support.hpp"

namespace alloc_test {

// The calling thread acts as CPU `cpu` for one scope.
class AsCpu {
  public:
    explicit AsCpu(unsigned cpu) : saved_(HostPlatform::current_cpu) {
        HostPlatform::current_cpu = cpu;
    }
    ~AsCpu() { HostPlatform::current_cpu = saved_; }
    AsCpu(const AsCpu&) = delete;
    AsCpu& operator=(const AsCpu&) = delete;

  private:
    unsigned saved_;
};

class ParkedOperation {
  public:
    // Starts `operation` as CPU `cpu`; it parks the `occurrence`-th time it reaches `point`.
    ParkedOperation(unsigned cpu, mm::StopPoint point, std::function<void()> operation,
                    unsigned occurrence = 1)
        : hook_(*this), point_(point), occurrence_(occurrence) {
        thread_ = std::thread([this, cpu, operation = std::move(operation)] {
            HostPlatform::current_cpu = cpu;
            HostPlatform::stop_hook = &hook_;
            operation();
            HostPlatform::stop_hook = nullptr;
            std::lock_guard<std::mutex> guard(mutex_);
            phase_ = Phase::finished;
            changed_.notify_all();
        });
    }
    ~ParkedOperation() {
        if (thread_.joinable()) {
            finish();
        }
    }
    ParkedOperation(const ParkedOperation&) = delete;
    ParkedOperation& operator=(const ParkedOperation&) = delete;

    // Waits until the operation is parked at the point (true) or has finished without reaching
    // it (false).
    bool parked() {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [&] { return phase_ != Phase::running; });
        return phase_ == Phase::parked;
    }

    // Lets the operation run to its end and waits for it; its results are then readable.
    void finish() {
        {
            std::lock_guard<std::mutex> guard(mutex_);
            released_ = true;
            changed_.notify_all();
        }
        thread_.join();
    }

  private:
    enum class Phase { running, parked, finished };

    struct Hook final : StopHook {
        explicit Hook(ParkedOperation& owner) : owner(owner) {}
        void reached(mm::StopPoint point) override { owner.reached(point); }
        ParkedOperation& owner;
    };

    void reached(mm::StopPoint point) {
        std::unique_lock<std::mutex> lock(mutex_);
        if (point != point_ || released_ || ++seen_ != occurrence_) {
            return;
        }
        phase_ = Phase::parked;
        changed_.notify_all();
        changed_.wait(lock, [&] { return released_; });
        phase_ = Phase::running;
    }

    Hook hook_;
    mm::StopPoint point_;
    unsigned occurrence_;
    unsigned seen_ = 0;
    std::mutex mutex_;
    std::condition_variable changed_;
    Phase phase_ = Phase::running;
    bool released_ = false;
    std::thread thread_;
};

}  // namespace alloc_test
