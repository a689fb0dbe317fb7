// The three allocators the benchmarks run, behind one small interface: the frame allocator in
// per-CPU mode, the same allocator source in global-lock mode, and the first-fit baseline.
//
//   init(regions) -> bool                   fresh state: everything free
//   allocate(frames, align) -> optional     a physical address, or nothing
//   free(address, frames) -> bool           false if the allocator refused
//   total_frames(), huge_block_share_per_mille()
//   recalculations(), area_rescans(), extent_sweeps(), area_claims(), shares(),
//   last_resort_searches()
//                                           slow-path counts since init (0 for first fit)
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <span>

#include "bench_platform.hpp"
#include "first_fit_allocator.hpp"
#include "mm/frame_allocator.hpp"

namespace bench {

using MarkerAllocator = mm::FrameAllocator<BenchPlatform>;

// A held slot whose allocation failed; freeing skips it.
inline constexpr mm::PhysAddr kNoAddress = ~mm::PhysAddr{0};

// The most benchmark threads (CPU indices 0..3).
inline constexpr unsigned kBenchCpus = 4;

template <mm::Mode kMode>
class MarkerVariant {
  public:
    static constexpr const char* kName = kMode == mm::Mode::per_cpu ? "per_cpu" : "global_lock";

    bool init(std::span<const mm::PhysRange> regions) {
        std::size_t bytes = (MarkerAllocator::metadata_bytes(regions) + 63) / 64 * 64;
        buffer_.reset(static_cast<unsigned char*>(std::aligned_alloc(64, bytes)));
        if (allocator_ == nullptr) {
            allocator_ = std::make_unique<MarkerAllocator>();
        }
        if (!allocator_->init(regions, buffer_.get(), bytes).ok()) {
            return false;
        }
        allocator_->set_mode(kMode);
        return true;
    }

    std::optional<mm::PhysAddr> allocate(std::size_t frames, std::size_t align_frames) {
        auto result = allocator_->allocate(frames, align_frames);
        return result.ok() ? std::optional<mm::PhysAddr>(result.value()) : std::nullopt;
    }

    bool free(mm::PhysAddr address, std::size_t frames) {
        return allocator_->free(address, frames).ok();
    }

    std::uint64_t total_frames() const { return allocator_->totals().total_frames; }
    std::uint64_t huge_block_share_per_mille() const {
        return allocator_->fragmentation().huge_block_share_per_mille();
    }
    std::uint64_t recalculations() const { return allocator_->recalculation_count(); }
    std::uint64_t area_rescans() const { return sum(&mm::CpuStats::area_rescans); }
    std::uint64_t extent_sweeps() const { return sum(&mm::CpuStats::extent_sweeps); }
    std::uint64_t area_claims() const { return sum(&mm::CpuStats::area_claims); }
    std::uint64_t shares() const { return sum(&mm::CpuStats::shares); }
    std::uint64_t last_resort_searches() const { return sum(&mm::CpuStats::last_resort_searches); }
    MarkerAllocator& allocator() { return *allocator_; }

  private:
    std::uint64_t sum(std::uint64_t mm::CpuStats::*field) const {
        std::uint64_t total = 0;
        for (unsigned cpu = 0; cpu < kBenchCpus; ++cpu) {
            total += allocator_->cpu_stats(cpu).*field;
        }
        return total;
    }

    struct FreeDeleter {
        void operator()(unsigned char* bytes) const { std::free(bytes); }
    };
    // The allocator holds 256 cursors of 128 bytes: it lives on the heap.
    std::unique_ptr<MarkerAllocator> allocator_;
    std::unique_ptr<unsigned char, FreeDeleter> buffer_;
};

using PerCpu = MarkerVariant<mm::Mode::per_cpu>;
using GlobalLock = MarkerVariant<mm::Mode::global_lock>;

class FirstFit {
  public:
    static constexpr const char* kName = "first_fit";

    bool init(std::span<const mm::PhysRange> regions) {
        allocator_.init(regions);
        return true;
    }
    std::optional<mm::PhysAddr> allocate(std::size_t frames, std::size_t align_frames) {
        return allocator_.allocate(frames, align_frames);
    }
    bool free(mm::PhysAddr address, std::size_t frames) { return allocator_.free(address, frames); }
    std::uint64_t total_frames() const { return allocator_.total_frames(); }
    std::uint64_t huge_block_share_per_mille() const {
        return allocator_.huge_block_share_per_mille();
    }
    std::uint64_t recalculations() const { return 0; }
    std::uint64_t area_rescans() const { return 0; }
    std::uint64_t extent_sweeps() const { return 0; }
    std::uint64_t area_claims() const { return 0; }
    std::uint64_t shares() const { return 0; }
    std::uint64_t last_resort_searches() const { return 0; }

  private:
    FirstFitAllocator<BenchPlatform::Lock> allocator_;
};

}  // namespace bench
