// Claiming and releasing frames of one area block by block. Every 2 MiB block has a counter
// beside the bitmap (Area::block_free): the frames of the block that are free and not reserved,
// or kBlockWhole when the block was handed out as one.
//
//   taking a whole block      one CAS on its counter, 512 -> kBlockWhole; its bits stay set
//   returning a whole block   one CAS, kBlockWhole -> 512; a second return finds 512 and is
//                             refused by the bit pre-check, like any double free
//   claiming part of a block  reserve on the counter first (it drops), then claim the bits
//   freeing part of a block   release the bits first, then count them (it rises)
//   freeing part of a whole   split it: kBlockWhole -> kBlockSplitting, clear its bits, -> 0;
//   block                     then free the part like any other (docs/DESIGN.md, section 5)
//
// So a counter never reads above its block's free bits, and reads 512 only when every frame of
// the block is free and nobody is claiming one: the CAS that takes a whole block needs no look
// at the bitmap. Counters are exact at quiescent points.
#pragma once

#include <atomic>
#include <cstdint>

#include "mm/allocator_area.hpp"
#include "mm/allocator_platform.hpp"
#include "mm/bitmap_atomic.hpp"
#include "mm/bitmap_words.hpp"

namespace mm {

inline constexpr auto kBlockFrames = static_cast<std::uint16_t>(kFramesPerHugeFrame);

// One block's share of a frame range of an area.
struct BlockPiece {
    std::uint32_t block;
    std::uint32_t start;  // Offset in the area.
    std::uint32_t count;
    // The piece is a whole 2 MiB block: it moves with one step on the counter.
    constexpr bool whole() const { return count == kFramesPerHugeFrame; }
};

// Calls visit(BlockPiece) for each block that [start, start + count) touches, lowest first, and
// stops early (returning false) as soon as visit returns false.
template <typename Visit>
[[gnu::always_inline]] inline bool for_each_block_piece(const Area& area, std::uint32_t start,
                                                        std::uint32_t count, Visit&& visit) {
    std::uint32_t end = start + count;
    for (std::uint32_t block = area.block_of(start); start < end; ++block) {
        std::uint32_t block_end = area.block_end(block);
        std::uint32_t piece_end = block_end < end ? block_end : end;
        if (!visit(BlockPiece{block, start, piece_end - start})) {
            return false;
        }
        start = piece_end;
    }
    return true;
}

// Takes `frames` of a block's free frames for a claim about to claim their bits: fails if the
// block has fewer, or is whole. Acquire: a whole block's last owner released its frames through
// this counter, not through the bits.
[[gnu::always_inline]] inline bool reserve_frames(std::atomic<std::uint16_t>& counter,
                                                  std::uint32_t frames) {
    std::uint16_t seen = counter.load(std::memory_order_relaxed);
    do {
        if (seen > kBlockFrames || seen < frames) {
            return false;
        }
    } while (!counter.compare_exchange_weak(seen, static_cast<std::uint16_t>(seen - frames),
                                            std::memory_order_acquire, std::memory_order_relaxed));
    return true;
}

// Counts frames whose bits this CPU has just set (freed or given back). A block being split waits
// for the split to end: the splitter clears the bits, and a count added meanwhile would be
// overwritten. A block with bits set cannot be whole: that needs all its frames counted first.
template <AllocatorPlatform P>
[[gnu::always_inline]] inline void count_released(std::atomic<std::uint16_t>& counter,
                                                  std::uint32_t frames) {
    std::uint16_t seen = counter.load(std::memory_order_relaxed);
    for (;;) {
        if (seen == kBlockSplitting) {
            stop_point<P>(StopPoint::split_awaited);
            P::relax();
            seen = counter.load(std::memory_order_relaxed);
            continue;
        }
        MM_ASSERT(P, seen + frames <= kBlockFrames);  // Else a count ran ahead of the bits.
        if (counter.compare_exchange_weak(seen, static_cast<std::uint16_t>(seen + frames),
                                          std::memory_order_release, std::memory_order_relaxed)) {
            return;
        }
    }
}

// The one step that takes a whole block, and the one that returns it.
[[gnu::always_inline]] inline bool take_whole_block(std::atomic<std::uint16_t>& counter) {
    std::uint16_t expected = kBlockFrames;
    return counter.compare_exchange_strong(expected, kBlockWhole, std::memory_order_acquire,
                                           std::memory_order_relaxed);
}
[[gnu::always_inline]] inline bool return_whole_block(std::atomic<std::uint16_t>& counter) {
    std::uint16_t expected = kBlockWhole;
    return counter.compare_exchange_strong(expected, kBlockFrames, std::memory_order_release,
                                           std::memory_order_relaxed);
}

// A free of part of a whole block (or one that found a split under way) first turns the block
// back into bits: all allocated, counter 0. Only one CPU wins the CAS to kBlockSplitting; the
// others wait for it, which takes a few words' time. Nothing else writes the block's bits in the
// meantime (claims need a reservation, frees wait in count_released), but a racing double free
// may set some, so they are cleared with an RMW and the count starts at 0 only once they are.
template <AllocatorPlatform P>
void split_whole_block(Area& area, std::uint32_t block) {
    std::atomic<std::uint16_t>& counter = area.block_free[block];
    std::uint16_t seen = counter.load(std::memory_order_acquire);
    for (;;) {
        if (seen == kBlockSplitting) {
            stop_point<P>(StopPoint::split_awaited);
            P::relax();
            seen = counter.load(std::memory_order_acquire);
            continue;
        }
        if (seen != kBlockWhole) {
            return;
        }
        if (counter.compare_exchange_weak(seen, kBlockSplitting, std::memory_order_acquire,
                                          std::memory_order_acquire)) {
            break;
        }
    }
    stop_point<P>(StopPoint::block_splitting);
    std::uint32_t first = area.block_first(block);
    bitmap::for_each_word(first, area.block_end(block) - first, [&](bitmap::WordSpan span) {
        area.free_bits[span.index].fetch_and(~span.mask, std::memory_order_relaxed);
        return true;
    });
    counter.store(0, std::memory_order_release);
}

// Gives back the frames of a claim this CPU made and will not hand out. Bits of a partial piece
// are set again and counted, less any that someone freed meanwhile (they counted them already:
// see bitmap::give_back). A whole piece goes back in one CAS; if that fails, a racing free of
// frames still in flight (a caller's double free) returned or split the block already, and the
// frames it did not free stay allocated (docs/DESIGN.md, section 5).
template <AllocatorPlatform P>
void give_back_range(Area& area, std::uint32_t start, std::uint32_t count) {
    for_each_block_piece(area, start, count, [&](BlockPiece piece) {
        std::atomic<std::uint16_t>& counter = area.block_free[piece.block];
        if (piece.whole()) {
            return_whole_block(counter);
            return true;
        }
        std::size_t already_free = bitmap::give_back(area.free_bits, piece.start, piece.count);
        if (already_free < piece.count) {
            count_released<P>(counter, piece.count - static_cast<std::uint32_t>(already_free));
        }
        return true;
    });
}

// Claims one block's piece: a whole block with one CAS; part of a block with a reservation on
// its counter and then its bits. On failure nothing is held.
template <AllocatorPlatform P>
[[gnu::always_inline]] inline bool claim_piece(Area& area, BlockPiece piece) {
    std::atomic<std::uint16_t>& counter = area.block_free[piece.block];
    if (piece.whole()) {
        return take_whole_block(counter);
    }
    if (!reserve_frames(counter, piece.count)) {
        return false;
    }
    bitmap::ClaimedBits bits = bitmap::claim(area.free_bits, piece.start, piece.count);
    if (bits.complete) {
        return true;
    }
    auto back = piece.count - static_cast<std::uint32_t>(bits.freed_by_others);
    if (back > 0) {
        count_released<P>(counter, back);
    }
    return false;
}

// A range that crosses blocks, piece by piece; on the first piece that cannot be had, the
// pieces taken so far are given back.
template <AllocatorPlatform P>
bool claim_pieces(Area& area, std::uint32_t start, std::uint32_t count) {
    std::uint32_t claimed_end = start;
    bool complete = for_each_block_piece(area, start, count, [&](BlockPiece piece) {
        if (!claim_piece<P>(area, piece)) {
            return false;
        }
        claimed_end = piece.start + piece.count;
        return true;
    });
    if (!complete && claimed_end > start) {
        give_back_range<P>(area, start, claimed_end - start);
    }
    return complete;
}

// Whether [start, start + count) lies in one block: the common case, taken without the loop.
inline bool in_one_block(const Area& area, std::uint32_t start, std::uint32_t count) {
    std::uint32_t first = start + area.block_phase;
    return first / kFramesPerHugeFrame == (first + count - 1) / kFramesPerHugeFrame;
}

// Claims every frame of [start, start + count), all or nothing (claim_piece per block).
template <AllocatorPlatform P>
[[gnu::always_inline]] inline bool claim_range(Area& area, std::uint32_t start,
                                               std::uint32_t count) {
    if (in_one_block(area, start, count)) {
        return claim_piece<P>(area, BlockPiece{area.block_of(start), start, count});
    }
    return claim_pieces<P>(area, start, count);
}

// Whether [start, start + count) holds a whole block: a claim of it keeps what it took when its
// publish fails, since giving a whole block back cannot undo a racing split.
inline bool holds_whole_block(const Area& area, std::uint32_t start, std::uint32_t count) {
    return !for_each_block_piece(area, start, count,
                                 [](BlockPiece piece) { return !piece.whole(); });
}

// The commit of a free for one block's piece: a whole block returned in one CAS; otherwise the
// block is split if it is whole, the piece's frames still allocated are freed word by word, and
// counted. Returns how many frames this call freed.
template <AllocatorPlatform P>
[[gnu::always_inline]] inline std::uint32_t release_piece(Area& area, BlockPiece piece) {
    std::atomic<std::uint16_t>& counter = area.block_free[piece.block];
    if (piece.whole() && return_whole_block(counter)) {
        return piece.count;
    }
    if (counter.load(std::memory_order_relaxed) > kBlockFrames) {
        // A whole block that later turns whole has every bit set: the release below then
        // finds nothing to free, or (once a split cleared them) counts after the split.
        split_whole_block<P>(area, piece.block);
    }
    auto released =
        static_cast<std::uint32_t>(bitmap::release(area.free_bits, piece.start, piece.count));
    if (released > 0) {
        count_released<P>(counter, released);
    }
    return released;
}

// The commit of a free, piece by piece. Returns how many frames this call freed: fewer than
// `count` when a racing free of overlapping frames came first, and none is lost.
template <AllocatorPlatform P>
[[gnu::always_inline]] inline std::uint32_t release_range(Area& area, std::uint32_t start,
                                                          std::uint32_t count) {
    // Else the release would write past the bitmap.
    MM_ASSERT(P, start + count <= area.frames && count > 0);
    if (in_one_block(area, start, count)) {
        return release_piece<P>(area, BlockPiece{area.block_of(start), start, count});
    }
    std::uint32_t freed = 0;
    for_each_block_piece(area, start, count, [&](BlockPiece piece) {
        freed += release_piece<P>(area, piece);
        return true;
    });
    return freed;
}

}  // namespace mm
