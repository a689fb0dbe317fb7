// The naive baseline the benchmarks compare the frame allocator against: one bitmap over every
// physical frame from 0 up to the end of the highest region (a set bit is a free frame; holes
// stay clear forever), one lock around everything, and a first-fit search that starts at frame
// 0 on every call and walks the bitmap a word at a time. No hints, no per-CPU state: this is
// what a first frame allocator in a hobby kernel looks like.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "mm/frame.hpp"

namespace bench {

template <typename Lock>
class FirstFitAllocator {
  public:
    // Bytes of bitmap for these regions: one bit per frame below the highest region end.
    static std::size_t metadata_bytes(std::span<const mm::PhysRange> regions) {
        return words_for(regions) * sizeof(std::uint64_t);
    }

    void init(std::span<const mm::PhysRange> regions) {
        words_.assign(words_for(regions), 0);
        total_frames_ = 0;
        for (const mm::PhysRange& region : regions) {
            std::uint64_t first = region.begin >> mm::kFrameShift;
            std::uint64_t last = region.end >> mm::kFrameShift;
            for (std::uint64_t frame = first; frame < last; ++frame) {
                words_[frame / 64] |= std::uint64_t{1} << (frame % 64);
            }
            total_frames_ += last - first;
        }
    }

    std::optional<mm::PhysAddr> allocate(std::size_t frames, std::size_t align_frames) {
        std::lock_guard<Lock> guard(lock_);
        std::optional<std::uint64_t> start = find_locked(frames, align_frames);
        if (!start) {
            return std::nullopt;
        }
        for (std::uint64_t frame = *start; frame < *start + frames;) {
            std::uint64_t take = std::min<std::uint64_t>(64 - frame % 64, *start + frames - frame);
            words_[frame / 64] &= ~mask(frame % 64, take);
            frame += take;
        }
        return *start << mm::kFrameShift;
    }

    // Refuses (false) a range that is outside the bitmap or not entirely allocated.
    bool free(mm::PhysAddr address, std::size_t frames) {
        std::uint64_t first = address >> mm::kFrameShift;
        std::lock_guard<Lock> guard(lock_);
        if (address % mm::kFrameSize != 0 || first + frames > words_.size() * 64 ||
            first_set_locked(first, first + frames) != first + frames) {
            return false;
        }
        for (std::uint64_t frame = first; frame < first + frames;) {
            std::uint64_t take = std::min<std::uint64_t>(64 - frame % 64, first + frames - frame);
            words_[frame / 64] |= mask(frame % 64, take);
            frame += take;
        }
        return true;
    }

    std::uint64_t total_frames() const { return total_frames_; }

    // Share of free frames that lie in entirely free, 2 MiB-aligned blocks, in per mille: the
    // same measure as the frame allocator's fragmentation(). Not thread-safe.
    std::uint64_t huge_block_share_per_mille() const {
        std::uint64_t free_frames = 0;
        std::uint64_t in_blocks = 0;
        for (std::size_t block = 0; block + 8 <= words_.size(); block += 8) {
            bool whole = true;
            for (std::size_t word = block; word < block + 8; ++word) {
                free_frames += static_cast<std::uint64_t>(std::popcount(words_[word]));
                whole = whole && words_[word] == ~std::uint64_t{0};
            }
            in_blocks += whole ? 512 : 0;
        }
        for (std::size_t word = words_.size() / 8 * 8; word < words_.size(); ++word) {
            free_frames += static_cast<std::uint64_t>(std::popcount(words_[word]));
        }
        return free_frames == 0 ? 1000 : in_blocks * 1000 / free_frames;
    }

  private:
    static std::size_t words_for(std::span<const mm::PhysRange> regions) {
        std::uint64_t end_frame = regions.empty() ? 0 : regions.back().end >> mm::kFrameShift;
        return static_cast<std::size_t>((end_frame + 63) / 64);
    }

    static std::uint64_t mask(std::uint64_t first, std::uint64_t count) {
        std::uint64_t low = count >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << count) - 1;
        return low << first;
    }

    // The first set (free) bit in [from, to), or `to`.
    std::uint64_t first_set_locked(std::uint64_t from, std::uint64_t to) const {
        return first_matching_locked(from, to, 0);
    }
    // The first clear (allocated) bit in [from, to), or `to`.
    std::uint64_t first_clear_locked(std::uint64_t from, std::uint64_t to) const {
        return first_matching_locked(from, to, ~std::uint64_t{0});
    }
    // The first bit in [from, to) that differs from the corresponding bit of `skip`, which is
    // 0 (find a set bit) or all ones (find a clear bit); whole words equal to `skip` are
    // crossed in one step.
    std::uint64_t first_matching_locked(std::uint64_t from, std::uint64_t to,
                                        std::uint64_t skip) const {
        while (from < to) {
            std::uint64_t word = (words_[from / 64] ^ skip) & (~std::uint64_t{0} << (from % 64));
            if (word != 0) {
                return std::min<std::uint64_t>(
                    from / 64 * 64 + static_cast<std::uint64_t>(std::countr_zero(word)), to);
            }
            from = from / 64 * 64 + 64;
        }
        return to;
    }

    // The lowest frame number that starts `frames` free frames at the alignment.
    std::optional<std::uint64_t> find_locked(std::uint64_t frames, std::uint64_t alignment) const {
        std::uint64_t bits = words_.size() * 64;
        std::uint64_t position = 0;
        while (position < bits) {
            std::uint64_t start = first_set_locked(position, bits);
            start = (start + alignment - 1) & ~(alignment - 1);
            if (start + frames > bits) {
                return std::nullopt;
            }
            std::uint64_t clear = first_clear_locked(start, start + frames);
            if (clear == start + frames) {
                return start;
            }
            position = clear + 1;
        }
        return std::nullopt;
    }

    Lock lock_;
    std::vector<std::uint64_t> words_;
    std::uint64_t total_frames_ = 0;
};

}  // namespace bench
