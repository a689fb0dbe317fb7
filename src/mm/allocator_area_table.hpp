// The table of areas: cutting usable regions into areas, laying out all metadata in one
// caller-provided buffer, and finding the area of a physical frame.
//
// Buffer layout (every piece 64-byte aligned):
//
//   | Area[0] ... Area[count-1] | base frames | summaries | window table | bitmap 0 | ... |
//
// (each bitmap followed by its poison bitmap with debug fill). The summaries are what take-overs
// rank areas by (allocator_area_summary.hpp).
//
// The base frames are a copy of every area's base_frame, packed eight to a cache line: searching
// the descriptors themselves would read lines whose state word other CPUs keep writing.
//
// The window table finds a frame's area without a search: an area never leaves its 32 MiB-aligned
// window, so entry w is the index of the first area whose base lies in window w or later, and the
// areas of window w are [table[w], table[w + 1]), almost always exactly one. It spans the windows
// from the first usable frame to the last and is built only when that span is small next to the
// usable memory (see kWindowsPerArea): sparse maps, with a far-away region, fall back to the
// binary search over the base frames (docs/DESIGN.md, section 2).
//
// The metadata is sized by the number of areas, that is by usable memory, never by the highest
// address: QEMU reports a reserved region near 1 TiB even for a 128 MiB guest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <span>

#include "lib/result.hpp"
#include "mm/allocator_area.hpp"
#include "mm/allocator_area_summary.hpp"
#include "mm/allocator_types.hpp"
#include "mm/frame.hpp"

namespace mm {

// Calls emit(base_frame, frames, repeat) for the areas in address order: `repeat` areas of
// `frames` frames each, the i-th starting at base_frame + i * kFramesPerArea. An area is each
// maximal run of usable frames that stays inside one 32 MiB-aligned window. Touching regions
// merge, so areas never contain holes and a fully usable 2 MiB block is always inside a single
// area. Whole windows come batched, so the walk costs O(regions), not O(memory): sizing the
// metadata of a map entry such as [4 GiB, 2^64) must not take minutes.
template <typename Emit>
constexpr void for_each_area_batch(std::span<const PhysRange> regions, Emit&& emit) {
    std::uint64_t pending_base = 0;
    std::uint64_t pending_frames = 0;
    auto flush = [&] {
        if (pending_frames > 0) {
            emit(pending_base, pending_frames, std::uint64_t{1});
            pending_frames = 0;
        }
    };
    for (const PhysRange& region : regions) {
        std::uint64_t frame = region.begin >> kFrameShift;
        std::uint64_t last = region.end >> kFrameShift;
        while (frame < last) {
            std::uint64_t whole = frame % kFramesPerArea == 0 ? (last - frame) / kFramesPerArea : 0;
            if (whole > 0) {
                // Whole windows never merge with a neighbour: it would be in another window.
                flush();
                emit(frame, std::uint64_t{kFramesPerArea}, whole);
                frame += whole * kFramesPerArea;
                continue;
            }
            std::uint64_t window = frame / kFramesPerArea;
            std::uint64_t chunk_end = (window + 1) * kFramesPerArea;
            if (chunk_end > last) {
                chunk_end = last;
            }
            bool continues_pending = pending_frames > 0 && pending_base + pending_frames == frame &&
                                     pending_base / kFramesPerArea == window;
            if (continues_pending) {
                pending_frames += chunk_end - frame;
            } else {
                flush();
                pending_base = frame;
                pending_frames = chunk_end - frame;
            }
            frame = chunk_end;
        }
    }
    flush();
}

// Calls emit(base_frame, frames) for each area, in address order (see for_each_area_batch).
template <typename Emit>
constexpr void for_each_area_run(std::span<const PhysRange> regions, Emit&& emit) {
    for_each_area_batch(regions, [&](std::uint64_t base, std::uint64_t frames, std::uint64_t n) {
        for (std::uint64_t i = 0; i < n; ++i) {
            emit(base + i * kFramesPerArea, frames);
        }
    });
}

// Sorted, disjoint, non-empty and 4 KiB aligned: what the region builder produces.
constexpr bool regions_valid(std::span<const PhysRange> regions) {
    for (std::size_t i = 0; i < regions.size(); ++i) {
        const PhysRange& region = regions[i];
        if (region.begin >= region.end || region.begin % kFrameSize != 0 ||
            region.end % kFrameSize != 0) {
            return false;
        }
        if (i > 0 && region.begin < regions[i - 1].end) {
            return false;
        }
    }
    return true;
}

class AreaTable {
  public:
    static constexpr std::size_t kAlignment = 64;

    static constexpr std::size_t bitmap_bytes(std::uint64_t frames) {
        std::size_t bytes = bitmap::words_for_bits(frames) * sizeof(bitmap::Word);
        return (bytes + kAlignment - 1) / kAlignment * kAlignment;
    }

    static constexpr std::size_t bases_bytes(std::uint64_t count) {
        std::size_t bytes = count * sizeof(std::uint64_t);
        return (bytes + kAlignment - 1) / kAlignment * kAlignment;
    }

    static constexpr std::size_t summaries_bytes(std::uint64_t count) {
        std::size_t bytes = count * sizeof(AtomicSummary);
        return (bytes + kAlignment - 1) / kAlignment * kAlignment;
    }

    // The window table costs at most 4-byte entries for kWindowsPerArea windows per area plus
    // kWindowSlack windows: 16 bytes beside each area's 1 KiB bitmap, plus 4 KiB at most, so any
    // span up to 32 GiB gets a table. A sparser map does without it.
    static constexpr std::uint64_t kWindowsPerArea = 4;
    static constexpr std::uint64_t kWindowSlack = 1024;

    // The first window of `regions` and the table's entry count: one per window of the span and
    // one past the end, or 0 when the span is too sparse for a table (or there are no regions).
    struct WindowSpan {
        std::uint64_t first_window = 0;
        std::uint64_t entries = 0;
    };
    static constexpr WindowSpan window_span(std::span<const PhysRange> regions,
                                            std::uint64_t areas) {
        if (regions.empty()) {
            return {};
        }
        std::uint64_t first = (regions.front().begin >> kFrameShift) / kFramesPerArea;
        std::uint64_t last = ((regions.back().end >> kFrameShift) - 1) / kFramesPerArea;
        std::uint64_t windows = last - first + 1;
        if (windows > areas * kWindowsPerArea + kWindowSlack) {
            return {first, 0};
        }
        return {first, windows + 1};
    }

    static constexpr std::size_t window_table_bytes(std::uint64_t entries) {
        std::size_t bytes = entries * sizeof(std::uint32_t);
        return (bytes + kAlignment - 1) / kAlignment * kAlignment;
    }

    // O(regions). Cannot overflow: 2^52 frames at most make 2^39 areas of about 2 KiB each.
    static std::size_t metadata_bytes(std::span<const PhysRange> regions, bool with_poison) {
        std::size_t total = 0;
        for_each_area_batch(regions, [&](std::uint64_t, std::uint64_t frames, std::uint64_t n) {
            total += n * (sizeof(Area) + bitmap_bytes(frames) * (with_poison ? 2 : 1));
        });
        std::uint64_t areas = area_count(regions);
        return total + bases_bytes(areas) + summaries_bytes(areas) +
               window_table_bytes(window_span(regions, areas).entries);
    }

    static std::uint64_t area_count(std::span<const PhysRange> regions) {
        std::uint64_t count = 0;
        for_each_area_batch(regions,
                            [&](std::uint64_t, std::uint64_t, std::uint64_t n) { count += n; });
        return count;
    }

    // Lays out and initialises every area: all frames free, marker 0, limit = frames, no owner.
    lib::Status<InitError> init(std::span<const PhysRange> regions, void* buffer, std::size_t bytes,
                                bool with_poison) {
        areas_ = nullptr;
        bases_ = nullptr;
        summaries_ = nullptr;
        windows_ = nullptr;
        first_window_ = 0;
        window_count_ = 0;
        count_ = 0;
        total_frames_ = 0;
        if (!regions_valid(regions)) {
            return lib::fail(InitError::invalid_regions);
        }
        std::size_t needed = metadata_bytes(regions, with_poison);
        if (needed > bytes) {
            return lib::fail(InitError::buffer_too_small);
        }
        if (reinterpret_cast<std::uintptr_t>(buffer) % kAlignment != 0) {
            return lib::fail(InitError::buffer_misaligned);
        }
        std::uint64_t count = area_count(regions);
        if (count >= kNoArea) {
            return lib::fail(InitError::too_many_areas);
        }
        auto* bytes_out = static_cast<unsigned char*>(buffer);
        auto* areas = reinterpret_cast<Area*>(bytes_out);
        auto* bases = reinterpret_cast<std::uint64_t*>(bytes_out + count * sizeof(Area));
        WindowSpan span = window_span(regions, count);
        auto* summaries = reinterpret_cast<AtomicSummary*>(reinterpret_cast<unsigned char*>(bases) +
                                                           bases_bytes(count));
        auto* windows = reinterpret_cast<std::uint32_t*>(
            reinterpret_cast<unsigned char*>(summaries) + summaries_bytes(count));
        unsigned char* next_bitmap =
            reinterpret_cast<unsigned char*>(windows) + window_table_bytes(span.entries);
        std::uint32_t index = 0;
        for_each_area_run(regions, [&](std::uint64_t base_frame, std::uint64_t frames) {
            bases[index] = base_frame;
            new (&summaries[index])
                AtomicSummary(AreaSummary::unowned(static_cast<std::uint32_t>(frames),
                                                   static_cast<std::uint32_t>(frames))
                                  .pack());
            Area* area = new (&areas[index++]) Area();
            area->base_frame = base_frame;
            area->frames = static_cast<std::uint32_t>(frames);
            area->state.store(AreaState{0, static_cast<std::uint16_t>(frames), 0}.pack(),
                              std::memory_order_relaxed);
            area->block_phase = static_cast<std::uint32_t>(base_frame % kFramesPerHugeFrame);
            for (std::uint32_t block = 0; block < area->block_count(); ++block) {
                area->block_free[block].store(
                    static_cast<std::uint16_t>(area->block_end(block) - area->block_first(block)),
                    std::memory_order_relaxed);
            }
            area->free_bits = lay_out_bitmap(next_bitmap, frames, true);
            if (with_poison) {
                area->poisoned_bits = lay_out_bitmap(next_bitmap, frames, false);
            }
            total_frames_ += frames;
        });
        fill_window_table(windows, span, bases, index);
        areas_ = areas;
        bases_ = bases;
        summaries_ = summaries;
        count_ = index;
        if (span.entries > 0) {
            windows_ = windows;
            first_window_ = span.first_window;
            window_count_ = span.entries - 1;
        }
        return {};
    }

    std::uint32_t count() const { return count_; }
    std::uint64_t total_frames() const { return total_frames_; }
    Area& operator[](std::uint32_t index) { return areas_[index]; }
    const Area& operator[](std::uint32_t index) const { return areas_[index]; }

    AreaSummary summary(std::uint32_t index,
                        std::memory_order order = std::memory_order_relaxed) const {
        return AreaSummary::unpack(summaries_[index].load(order));
    }
    // The CPU that owns area `index`, or kNoOwner.
    std::uint32_t owner(std::uint32_t index) const { return summary(index).owner_or_none(); }
    // Replaces the summary if it is still `expected`; otherwise refreshes `expected`. Acquire on
    // success: a take-over sees what the area's last owner did before it let go.
    bool update_summary(std::uint32_t index, AreaSummary& expected, AreaSummary desired) {
        std::uint32_t seen = expected.pack();
        bool done = summaries_[index].compare_exchange_strong(
            seen, desired.pack(), std::memory_order_acq_rel, std::memory_order_relaxed);
        expected = AreaSummary::unpack(seen);
        return done;
    }
    // Marks an unowned area's hint as behind a free, once: later frees see the mark and only read.
    void note_free(std::uint32_t index, AreaSummary seen) {
        if (!seen.owned() && !seen.dirty) {
            summaries_[index].fetch_or(AreaSummary::kDirty, std::memory_order_relaxed);
        }
    }
    // The summary of area `index` unowned, with its hint exact as of its block counters now.
    AreaSummary unowned_summary(std::uint32_t index) const {
        return AreaSummary::unowned(areas_[index].free_frames(), areas_[index].frames);
    }
    // Only the owner lets go of an area, so a plain store; release pairs with the next take-over.
    void let_go(std::uint32_t index) {
        summaries_[index].store(unowned_summary(index).pack(), std::memory_order_release);
    }

    // Whether find() looks areas up in the window table (false: binary search over all bases).
    bool has_window_table() const { return windows_ != nullptr; }

    // The area holding physical frame `frame`, or kNoArea: area `hint` if it holds the frame,
    // else the areas of the frame's window (one in the common case), else a binary search.
    std::uint32_t find(std::uint64_t frame, std::uint32_t hint = kNoArea) const {
        // Most frees give frames back to the area the freeing CPU freed into last: try it first.
        if (hint < count_ && frame - areas_[hint].base_frame < areas_[hint].frames) {
            return hint;
        }
        if (windows_ == nullptr) {
            return search(frame, 0, count_);
        }
        // Below the first window the subtraction wraps and lands past the end as well.
        std::uint64_t window = frame / kFramesPerArea - first_window_;
        if (window >= window_count_) {
            return kNoArea;
        }
        return search(frame, windows_[window], windows_[window + 1]);
    }

  private:
    // The area among [low, high) holding `frame`, or kNoArea: the last one whose base is at most
    // `frame`, if the frame is inside it. One comparison when the range holds a single area.
    std::uint32_t search(std::uint64_t frame, std::uint32_t low, std::uint32_t high) const {
        std::uint32_t const begin = low;
        while (low < high) {
            std::uint32_t middle = low + (high - low) / 2;
            if (bases_[middle] <= frame) {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        if (low == begin) {
            return kNoArea;
        }
        const Area& area = areas_[low - 1];
        return frame - area.base_frame < area.frames ? low - 1 : kNoArea;
    }

    // Entry w = the index of the first area whose base frame is in window first_window + w or
    // later; the last entry is `count`. O(windows + areas), once at init.
    static void fill_window_table(std::uint32_t* windows, WindowSpan span,
                                  const std::uint64_t* bases, std::uint32_t count) {
        std::uint32_t area = 0;
        for (std::uint64_t w = 0; w < span.entries; ++w) {
            std::uint64_t window_base = (span.first_window + w) * kFramesPerArea;
            while (area < count && bases[area] < window_base) {
                ++area;
            }
            windows[w] = area;
        }
    }

    // Places one bitmap at `cursor` and advances it. Free bitmaps start with `frames` set bits;
    // the bits past `frames` (and padding words) are 0 forever, so they can never be claimed.
    static bitmap::AtomicWord* lay_out_bitmap(unsigned char*& cursor, std::uint64_t frames,
                                              bool all_free) {
        auto* words = reinterpret_cast<bitmap::AtomicWord*>(cursor);
        std::size_t word_count = bitmap_bytes(frames) / sizeof(bitmap::Word);
        for (std::size_t i = 0; i < word_count; ++i) {
            std::uint64_t first = i * bitmap::kBitsPerWord;
            bitmap::Word value = 0;
            if (all_free && first < frames) {
                std::uint64_t in_word = frames - first;
                value = in_word >= bitmap::kBitsPerWord ? ~bitmap::Word{0}
                                                        : bitmap::bit_mask(0, in_word);
            }
            new (&words[i]) bitmap::AtomicWord(value);
        }
        cursor += bitmap_bytes(frames);
        return words;
    }

    Area* areas_ = nullptr;
    const std::uint64_t* bases_ = nullptr;  // bases_[i] == areas_[i].base_frame, never written.
    AtomicSummary* summaries_ = nullptr;
    const std::uint32_t* windows_ = nullptr;  // The window table, or null: see the file comment.
    std::uint64_t first_window_ = 0;
    std::uint64_t window_count_ = 0;  // Windows the table covers (it has one entry more).
    std::uint32_t count_ = 0;
    std::uint64_t total_frames_ = 0;
};

}  // namespace mm
