// The host platform for the frame allocator's tests: a thread_local CPU index, std::mutex as
// the lock, fake physical memory (an aligned host buffer standing in for a physical range)
// for the debug fill and for tests that write into the frames they get, and a per-thread hook
// at the allocator's stop points (stop_point_gate.hpp, schedule_explorer.hpp use it).
#pragma once

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "lib/units.hpp"
#include "mm/allocator_platform.hpp"
#include "mm/frame.hpp"
#include "mm/frame_allocator.hpp"

namespace alloc_test {

// std::mutex with the try_lock the allocator's spin-counting guard uses.
class HostLock {
  public:
    void lock() { mutex_.lock(); }
    void unlock() { mutex_.unlock(); }
    bool try_lock() { return mutex_.try_lock(); }

  private:
    std::mutex mutex_;
};

// What a thread does when it reaches a stop point inside the allocator, or spins on one of its
// locks. Installed per thread (HostPlatform::stop_hook); threads without one run straight on.
class StopHook {
  public:
    virtual void reached(mm::StopPoint point) = 0;
    virtual void spinning() { std::this_thread::yield(); }

  protected:
    ~StopHook() = default;
};

struct UseAfterFree {
    mm::PhysAddr frame;
    std::size_t offset;
    std::uint64_t found;
    unsigned cpu;
};

// A stretch of host memory that plays the physical range [base, base + bytes).
class FakeMemory {
  public:
    FakeMemory(mm::PhysAddr base, std::size_t bytes)
        : base_(base),
          bytes_(bytes),
          host_(static_cast<unsigned char*>(std::aligned_alloc(mm::kFrameSize, bytes))) {
        std::memset(host_, 0, bytes);
    }
    ~FakeMemory() { std::free(host_); }
    FakeMemory(const FakeMemory&) = delete;
    FakeMemory& operator=(const FakeMemory&) = delete;

    bool contains(mm::PhysAddr address) const {
        return address >= base_ && address - base_ < bytes_;
    }
    void* at(mm::PhysAddr address) const { return host_ + (address - base_); }
    // The physical address a host pointer plays, or ~0 for a pointer outside the memory.
    mm::PhysAddr address_of(const void* pointer) const {
        auto* byte = static_cast<const unsigned char*>(pointer);
        return byte >= host_ && byte < host_ + bytes_ ? base_ + mm::PhysAddr(byte - host_)
                                                      : ~mm::PhysAddr{0};
    }
    mm::PhysRange range() const { return {base_, base_ + bytes_}; }

  private:
    mm::PhysAddr base_;
    std::size_t bytes_;
    unsigned char* host_;
};

// Static state, as the Platform concept wants: tests set the fake memory and the CPU index of
// each thread. Inline variables, so every test file shares one definition.
struct HostPlatform {
    using Lock = HostLock;

    static inline thread_local unsigned current_cpu = 0;
    static inline const FakeMemory* memory = nullptr;
    static inline std::mutex reports_mutex;
    static inline std::vector<UseAfterFree> reports;

    static inline thread_local StopHook* stop_hook = nullptr;

    static unsigned cpu_index() { return current_cpu; }
    // Yield rather than spin: the host has fewer cores than the tests have threads. Under a
    // schedule explorer, spinning is a point where another thread must be let run.
    static void relax() {
        if (stop_hook != nullptr) {
            stop_hook->spinning();
        } else {
            std::this_thread::yield();
        }
    }
    static void stop_at(mm::StopPoint point) {
        if (stop_hook != nullptr) {
            stop_hook->reached(point);
        }
    }
    [[noreturn]] static void assertion_failed(const char* expression, const char* file, int line) {
        std::fprintf(stderr, "%s:%d: allocator assertion failed: %s\n", file, line, expression);
        std::abort();
    }
    static void* phys_to_virt(mm::PhysAddr address) {
        if (memory == nullptr || !memory->contains(address)) {
            std::abort();  // The allocator touched memory it does not manage.
        }
        return memory->at(address);
    }
    static void report_use_after_free(mm::PhysAddr frame, std::size_t offset, std::uint64_t found,
                                      unsigned cpu) {
        std::lock_guard<std::mutex> guard(reports_mutex);
        reports.push_back({frame, offset, found, cpu});
    }
    static std::vector<UseAfterFree> take_reports() {
        std::lock_guard<std::mutex> guard(reports_mutex);
        std::vector<UseAfterFree> taken;
        taken.swap(reports);
        return taken;
    }
};

static_assert(mm::AllocatorPlatform<HostPlatform>);

// An allocator together with its metadata buffer. The allocator holds 256 cursors of 128 bytes
// each, so it lives on the heap (alignas(64) new is fine since C++17).
template <bool kDebugFill = false>
struct Harness {
    using Allocator = mm::FrameAllocator<HostPlatform, kDebugFill>;

    explicit Harness(std::vector<mm::PhysRange> regions_in) : regions(std::move(regions_in)) {
        std::size_t bytes = Allocator::metadata_bytes(regions);
        buffer_bytes = bytes == 0 ? 64 : (bytes + 63) / 64 * 64;
        buffer.reset(static_cast<unsigned char*>(std::aligned_alloc(64, buffer_bytes)));
        allocator = std::make_unique<Allocator>();
        init_ok = allocator->init(regions, buffer.get(), buffer_bytes).ok();
    }

    struct FreeDeleter {
        void operator()(unsigned char* bytes) const { std::free(bytes); }
    };

    std::vector<mm::PhysRange> regions;
    std::size_t buffer_bytes = 0;
    std::unique_ptr<unsigned char, FreeDeleter> buffer;
    std::unique_ptr<Allocator> allocator;
    bool init_ok = false;
};

// Single-threaded helpers: an allocation that must succeed, and a free that must succeed and
// leave the invariants intact.
template <typename Allocator>
mm::PhysAddr must_allocate(Allocator& allocator, std::size_t frames, std::size_t alignment = 1) {
    lib::Result<mm::PhysAddr, mm::AllocError> result = allocator.allocate(frames, alignment);
    REQUIRE(result.ok());
    return result.value();
}

template <typename Allocator>
void must_free(Allocator& allocator, mm::PhysAddr address, std::size_t frames) {
    REQUIRE(allocator.free(address, frames).ok());
    mm::InvariantReport report = allocator.check_invariants();
    INFO(report.what);
    REQUIRE(report.ok);
}

// At a quiescent point: every invariant holds (the first broken one is named) and exactly
// `allocated` frames are allocated.
template <typename Allocator>
void require_consistent(const Allocator& allocator, std::uint64_t allocated) {
    mm::InvariantReport report = allocator.check_invariants();
    INFO(std::string(report.what), " area ", report.area, " expected ", report.expected, " found ",
         report.found);
    REQUIRE(report.ok);
    CHECK(allocator.totals().allocated_frames == allocated);
}

// A run of frames a test thread holds, and the tag it wrote into each of them.
struct Block {
    mm::PhysAddr address = 0;
    std::uint32_t frames = 0;
    std::uint64_t tag = 0;
};

// Writes the tag into the first and last word of every frame of the block. If the allocator
// ever handed one frame to two threads, one of them finds the other's tag (and ThreadSanitizer
// sees the unsynchronised writes).
inline void stamp(const FakeMemory& memory, const Block& block) {
    for (std::uint32_t i = 0; i < block.frames; ++i) {
        auto* words = static_cast<std::uint64_t*>(memory.at(block.address + i * mm::kFrameSize));
        words[0] = block.tag;
        words[mm::kFrameSize / sizeof(std::uint64_t) - 1] = ~block.tag;
    }
}

inline bool stamp_intact(const FakeMemory& memory, const Block& block) {
    for (std::uint32_t i = 0; i < block.frames; ++i) {
        auto* words = static_cast<std::uint64_t*>(memory.at(block.address + i * mm::kFrameSize));
        if (words[0] != block.tag ||
            words[mm::kFrameSize / sizeof(std::uint64_t) - 1] != ~block.tag) {
            return false;
        }
    }
    return true;
}

// Blocks handed from one thread to another, to be freed there (remote frees).
class Mailbox {
  public:
    void post(const Block& block) {
        std::lock_guard<std::mutex> guard(mutex_);
        blocks_.push_back(block);
    }
    std::size_t size() {
        std::lock_guard<std::mutex> guard(mutex_);
        return blocks_.size();
    }
    std::vector<Block> take() {
        std::lock_guard<std::mutex> guard(mutex_);
        std::vector<Block> taken;
        taken.swap(blocks_);
        return taken;
    }

  private:
    std::mutex mutex_;
    std::vector<Block> blocks_;
};

}  // namespace alloc_test
