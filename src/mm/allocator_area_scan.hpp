// Whole-area scans: the rescan that puts a stale marker back at the start of the real
// largest free run, the invariant check, and the 2 MiB fragmentation count.
#pragma once

#include <cstdint>

#include "mm/allocator_area.hpp"
#include "mm/allocator_platform.hpp"
#include "mm/allocator_types.hpp"
#include "mm/bitmap_search.hpp"
#include "mm/bitmap_words.hpp"

namespace mm {

// The area's largest free run, block by block: an all-free block extends the run without a look
// at its bits, a taken block or one with no frame counted free ends it, and only the other
// blocks' words are read. An area of whole blocks is scanned in 16 steps, reading no bitmap line.
// A hint like every scan: the counters and bits are read at slightly different times.
inline bitmap::BitRun largest_free_run(const Area& area) {
    Area::BlockClasses classes = area.block_classes();
    auto load = bitmap::relaxed_loader(area.free_bits);
    bitmap::BitRun best;
    std::size_t open_start = 0;
    std::size_t open_length = 0;
    auto close = [&] {
        if (open_length > best.length) {
            best = {open_start, open_length};
        }
        open_length = 0;
    };
    auto extend = [&](std::size_t start, std::size_t length) {
        if (open_length == 0) {
            open_start = start;
        }
        open_length += length;
    };
    for (std::uint32_t block = 0; block < area.block_count(); ++block) {
        std::size_t first = area.block_first(block);
        std::size_t end = area.block_end(block);
        if ((classes.all_free >> block & 1) != 0) {
            extend(first, end - first);
            continue;
        }
        if (((classes.taken | classes.none_free) >> block & 1) != 0) {
            close();
            continue;
        }
        for (std::size_t position = first; position < end;) {
            std::size_t run_start = bitmap::find_next_set(position, end, load);
            if (run_start != position) {
                close();
            }
            if (run_start == end) {
                break;
            }
            std::size_t run_end = bitmap::find_next_clear(run_start, end, load);
            extend(run_start, run_end - run_start);
            if (run_end < end) {
                close();
            }
            position = run_end;
        }
    }
    close();
    return best;
}

// Attempts to publish a scan result before the area is left for the next recalculation. A
// failed CAS means the area changed during the scan, and its result would be stale anyway.
inline constexpr unsigned kRescanAttempts = 4;

// Sets [marker, limit) to the largest free run. Called under the recalculation lock for a
// whole-memory recalculation, and without it by a CPU whose own area's marker ran out: two
// scans of one area may then race, and the CAS below lets exactly one publish. Returns whether
// the extent changed.
//
// The state is read (acquire) before the scan and replaced only by a CAS from that value, so a
// scan overtaken by any published update is thrown away. Updates that are in flight (bits
// changed, state not yet published) are harmless: a fast-path claim whose publish now fails
// either keeps its bits (marker unchanged, still inside the new extent) or gives them back, and
// a free publishes its delta on top of whatever we wrote.
//
// The block counters are left alone, not replaced by a recount: an in-flight claim has reserved
// frames whose bits may still be set, and an in-flight free has set bits it has not counted yet,
// so a recount would be wrong in both directions. Keeping the counters purely delta-maintained
// makes them exact at every quiescent point.
template <AllocatorPlatform P>
bool rescan_area(Area& area) {
    for (unsigned attempt = 0; attempt < kRescanAttempts; ++attempt) {
        AreaState seen = area.load_state();
        if (seen.extent() == area.free_frames()) {
            return false;  // Every free frame is already in the extent: it is the largest run.
        }
        bitmap::BitRun run = largest_free_run(area);
        MM_ASSERT(P, run.start + run.length <= area.frames);
        stop_point<P>(StopPoint::scan_done_not_published);
        AreaState desired = seen.next();
        desired.marker = static_cast<std::uint16_t>(run.start);
        desired.limit = static_cast<std::uint16_t>(run.start + run.length);
        if (publish_state<P>(area, seen, desired)) {
            area.recalculations.fetch_add(1, std::memory_order_relaxed);
            return true;
        }
    }
    return false;
}

// The marker ran out: moves the extent to the next free run after it that fits the request
// (next fit), searching from the limit to the end of the area. Where free frames are scattered
// in short runs, this hands them out in address order for a few words read per run, where a
// rescan for the largest run would read the whole bitmap again for each one; the caller
// rescans for the largest run only once the sweep reaches the end of the area. Returns whether
// the extent moved. Publishes like rescan_area: a CAS from the state read before the
// search, so a search overtaken by any published update is thrown away.
template <AllocatorPlatform P>
bool sweep_area(Area& area, std::uint32_t frames, std::uint64_t alignment) {
    AreaState seen = area.load_state();
    auto load = area.load_free_word();
    std::size_t start =
        bitmap::first_fit(seen.limit, area.frames, frames, alignment, area.base_frame, load);
    if (start == bitmap::kNotFound) {
        return false;
    }
    AreaState desired = seen.next();
    desired.marker = static_cast<std::uint16_t>(start);
    desired.limit = static_cast<std::uint16_t>(bitmap::find_next_clear(start, area.frames, load));
    MM_ASSERT(P, desired.limit <= area.frames);
    stop_point<P>(StopPoint::scan_done_not_published);
    return publish_state<P>(area, seen, desired);
}

// Free frames of this area that lie in entirely free, 2 MiB-aligned blocks of 512 frames: the
// blocks whose counter says all 512 free (exact at quiescent points, which check_area verifies).
inline void count_free_huge_blocks(const Area& area, Fragmentation& into) {
    for (std::uint32_t block = 0; block < area.block_count(); ++block) {
        if (area.block_free[block].load(std::memory_order_relaxed) == kFramesPerHugeFrame) {
            into.free_huge_blocks += 1;
            into.frames_in_free_huge_blocks += kFramesPerHugeFrame;
        }
    }
}

// Checks one block's counter against its bits: a whole block still has every bit set (its
// frames went out without them), any other counts exactly its free bits.
inline InvariantReport check_block(const Area& area, std::uint32_t index, std::uint32_t block) {
    std::uint16_t counter = area.block_free[block].load(std::memory_order_relaxed);
    std::uint32_t first = area.block_first(block);
    std::uint32_t frames = area.block_end(block) - first;
    std::uint64_t bits = bitmap::count_set(first, frames, bitmap::relaxed_loader(area.free_bits));
    if (counter == kBlockWhole) {
        if (frames != kFramesPerHugeFrame || bits != frames) {
            return InvariantReport::failure("whole block is not a full block of set bits", index,
                                            kFramesPerHugeFrame, bits);
        }
    } else if (counter == kBlockSplitting) {
        return InvariantReport::failure("block left half split", index, block, counter);
    } else if (counter != bits) {
        return InvariantReport::failure("block counter differs from the bitmap", index, bits,
                                        counter);
    }
    return {};
}

// Checks one area against its bitmap. Only meaningful when no allocation or free is running.
inline InvariantReport check_area(const Area& area, std::uint32_t index) {
    AreaState state = area.load_state();
    if (area.frames == 0 || area.frames > kFramesPerArea) {
        return InvariantReport::failure("area size out of range", index, kFramesPerArea,
                                        area.frames);
    }
    if (state.marker > state.limit || state.limit > area.frames) {
        return InvariantReport::failure("marker <= limit <= frames violated", index, state.limit,
                                        state.marker);
    }
    if (area.block_phase != area.base_frame % kFramesPerHugeFrame ||
        area.block_count() > kBlocksPerArea) {
        return InvariantReport::failure("area's blocks do not match its base", index,
                                        area.base_frame % kFramesPerHugeFrame, area.block_phase);
    }
    for (std::uint32_t block = 0; block < area.block_count(); ++block) {
        if (InvariantReport report = check_block(area, index, block); !report.ok) {
            return report;
        }
    }
    for (std::uint32_t block = area.block_count(); block < kBlocksPerArea; ++block) {
        if (area.block_free[block].load(std::memory_order_relaxed) != 0) {
            return InvariantReport::failure("counter of a block past the area", index, 0, block);
        }
    }
    auto load = area.load_free_word();
    if (state.extent() > 0 && !bitmap::all_set(state.marker, state.extent(), load)) {
        return InvariantReport::failure("allocated frame inside [marker, limit)", index,
                                        state.marker, state.limit);
    }
    std::size_t tail_bits = area.bitmap_words() * bitmap::kBitsPerWord - area.frames;
    if (tail_bits > 0 && !bitmap::all_clear(area.frames, tail_bits, load)) {
        return InvariantReport::failure("bit past the area's frames is set", index, 0,
                                        bitmap::count_set(area.frames, tail_bits, load));
    }
    if (area.poisoned_bits != nullptr) {
        // Poison marks a freed, filled frame; a frame handed out must have lost it.
        auto poisoned = bitmap::relaxed_loader(area.poisoned_bits);
        for (std::size_t word = 0; word < area.bitmap_words(); ++word) {
            if ((poisoned(word) & ~load(word)) != 0) {
                return InvariantReport::failure("allocated frame still marked poisoned", index, 0,
                                                word);
            }
        }
    }
    return {};
}

}  // namespace mm
