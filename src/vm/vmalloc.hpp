// vmalloc, vmap and vfree over one region of the kernel's address space: virtually contiguous
// memory backed by frames from anywhere. A vmalloc takes a 2 MiB page wherever the virtual
// address is 2 MiB aligned and the frame source has a whole aligned 512-frame run, and 4 KiB
// frames elsewhere; a vmap maps frames the caller holds (and keeps). A vfree, or a vmalloc that
// runs out of frames or tables half way, undoes everything:
//   1. under the lock: every leaf of the range is retired into a FlushBatch, and the tables
//      unlinked by earlier frees are taken;
//   2. without the lock: P::flush(batch), one shootdown round for the whole range;
//   3. under the lock: the frames go back, emptied tables are unlinked (freed after the next
//      round), the tables taken in step 1 are freed, and the range is released.
// The range stays reserved until step 3, so nobody maps it while a TLB may still hold it.
//
// What P provides: phys_to_virt (for the walker), Lock (lock, unlock, try_lock),
// cpu_index(), and flush(const FlushBatch&), the shootdown.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "lib/result.hpp"
#include "vm/flush_batch.hpp"
#include "vm/page_table.hpp"
#include "vm/range_allocator.hpp"

namespace vm {

enum class VmError : std::uint8_t {
    invalid_request,  // size 0 or too large, an empty frame list
    no_space,         // no virtual range left (or too many mappings)
    out_of_memory,    // not enough frames (or none for a page table); everything was undone
    not_found,        // vfree of an address where no mapping starts
    busy,             // vfree of a mapping another CPU is freeing right now
};
const char* to_string(VmError error);

struct VmStats {
    std::size_t live_ranges = 0;
    std::uint64_t small_pages = 0;  // 4 KiB leaves mapped now
    std::uint64_t large_pages = 0;  // 2 MiB leaves mapped now
    std::uint64_t vmallocs = 0, vmaps = 0, vfrees = 0;
    std::uint64_t rollbacks = 0;  // vmallocs that ran out of memory and undid themselves
    std::uint64_t tables_allocated = 0, tables_freed = 0, tables_waiting = 0;
    std::uint64_t range_rescans = 0;
};

// A mapping's backing, as runs of physically contiguous pages of one size.
struct BackingRun {
    VirtAddr virtual_address = 0;
    mm::PhysAddr physical = 0;
    std::uint64_t bytes = 0;
    PageSize size = PageSize::small;
};

// One mapping as vmaps shows it.
struct MappingDescription {
    RangeRecord range{};
    std::uint64_t small_pages = 0;
    std::uint64_t large_pages = 0;
    std::size_t runs = 0;  // physically contiguous runs of one page size, in all
};

template <typename P>
class Vmalloc {
  public:
    static constexpr std::uint64_t kMaxBytes = std::uint64_t{1} << 36;  // 64 GiB at most

    Vmalloc(mm::PhysAddr root, FrameSource& frames, std::uint64_t no_execute)
        : walker_(root, frames, no_execute), frames_(frames) {}

    // The region [begin, end) and the guard gap kept on both sides of every range.
    void init(VirtAddr begin, VirtAddr end, std::uint64_t guard) {
        ranges_.init(begin, end, guard);
    }

    // `large_pages` false: 4 KiB pages only, even where a 2 MiB run is free (for benchmarks).
    lib::Result<VirtAddr, VmError> allocate(std::uint64_t bytes,
                                            RangeKind kind = RangeKind::vmalloc,
                                            bool large_pages = true) {
        if (bytes == 0 || bytes > kMaxBytes) {
            return lib::fail(VmError::invalid_request);
        }
        bytes = mm::align_up(bytes, kPageSize);
        std::uint64_t alignment = bytes >= kLargePageSize ? kLargePageSize : kPageSize;
        Teardown teardown;
        {
            Guard guard(lock_);
            auto range = ranges_.allocate(bytes, alignment, kind, P::cpu_index());
            if (!range) {
                return lib::fail(range.error() == RangeError::invalid_request
                                     ? VmError::invalid_request
                                     : VmError::no_space);
            }
            if (populate(range.value(), range.value() + bytes, large_pages)) {
                ++stats_.vmallocs;
                return range.value();
            }
            ++stats_.rollbacks;
            teardown = begin_teardown(*ranges_.find(range.value()));
        }
        finish_teardown(teardown);
        return lib::fail(VmError::out_of_memory);
    }

    // Maps the caller's frames, one 4 KiB page each, in order; vfree unmaps them and leaves the
    // frames with the caller.
    lib::Result<VirtAddr, VmError> map_frames(std::span<const mm::PhysAddr> frames,
                                              PageFlags flags = {}) {
        if (frames.empty() || frames.size() > kMaxBytes / kPageSize) {
            return lib::fail(VmError::invalid_request);
        }
        Teardown teardown;
        {
            Guard guard(lock_);
            auto range = ranges_.allocate(frames.size() * kPageSize, kPageSize, RangeKind::vmap,
                                          P::cpu_index());
            if (!range) {
                return lib::fail(VmError::no_space);
            }
            bool ok = true;
            for (std::size_t i = 0; i < frames.size() && ok; ++i) {
                ok = walker_.map(range.value() + i * kPageSize, frames[i], PageSize::small, flags)
                         .ok();
                stats_.small_pages += ok ? 1 : 0;
            }
            if (ok) {
                ++stats_.vmaps;
                return range.value();
            }
            ++stats_.rollbacks;
            teardown = begin_teardown(*ranges_.find(range.value()));
        }
        finish_teardown(teardown);
        return lib::fail(VmError::out_of_memory);
    }

    lib::Status<VmError> free(VirtAddr begin) {
        Teardown teardown;
        {
            Guard guard(lock_);
            const RangeRecord* record = ranges_.find(begin);
            if (record == nullptr) {
                return lib::fail(VmError::not_found);
            }
            if (record->freeing) {
                return lib::fail(VmError::busy);
            }
            teardown = begin_teardown(*record);
            ++stats_.vfrees;
        }
        finish_teardown(teardown);
        return {};
    }

    // For fault reports: never waits, since the faulting CPU may hold the lock. False if busy.
    bool try_locate(VirtAddr address, Place& out) {
        if (!lock_.try_lock()) {
            return false;
        }
        out = ranges_.locate(address);
        lock_.unlock();
        return true;
    }

    // The live mapping starting at `begin` and the first runs.size() of its backing runs;
    // false if no mapping starts there.
    bool describe(VirtAddr begin, MappingDescription& out, std::span<BackingRun> runs) {
        Guard guard(lock_);
        const RangeRecord* found = ranges_.find(begin);
        if (found == nullptr) {
            return false;
        }
        out = {};
        out.range = *found;
        std::size_t& total = out.runs;
        BackingRun run;
        for (VirtAddr va = out.range.begin; va < out.range.end;) {
            Leaf leaf;
            if (!walker_.translate(va, leaf)) {
                va += kPageSize;
                continue;
            }
            ++(leaf.size == PageSize::large ? out.large_pages : out.small_pages);
            std::uint64_t bytes = bytes_of(leaf.size);
            bool extends = run.bytes != 0 && run.size == leaf.size &&
                           run.virtual_address + run.bytes == va &&
                           run.physical + run.bytes == leaf.physical;
            if (extends) {
                run.bytes += bytes;
            } else {
                if (run.bytes != 0 && total++ < runs.size()) {
                    runs[total - 1] = run;
                }
                run = {va, leaf.physical, bytes, leaf.size};
            }
            va += bytes;
        }
        if (run.bytes != 0 && total++ < runs.size()) {
            runs[total - 1] = run;
        }
        return true;
    }

    // The start of the i-th live range (address order), or 0 past the end.
    VirtAddr range_at(std::size_t i) {
        Guard guard(lock_);
        return i < ranges_.count() ? ranges_.at(i).begin : 0;
    }

    bool translate(VirtAddr va, Leaf& out) {
        Guard guard(lock_);
        return walker_.translate(va, out);
    }

    VmStats stats() {
        Guard guard(lock_);
        VmStats s = stats_;
        s.live_ranges = ranges_.count();
        s.tables_allocated = walker_.tables_allocated();
        s.tables_freed = walker_.tables_freed();
        s.tables_waiting = walker_.tables_waiting();
        s.range_rescans = ranges_.rescans();
        return s;
    }

    bool check_invariants() {
        Guard guard(lock_);
        return ranges_.check_invariants();
    }

    VirtAddr region_begin() const { return ranges_.region_begin(); }
    VirtAddr region_end() const { return ranges_.region_end(); }
    std::uint64_t guard_bytes() const { return ranges_.guard(); }

  private:
    class Guard {
      public:
        explicit Guard(typename P::Lock& lock) : lock_(lock) { lock_.lock(); }
        ~Guard() { lock_.unlock(); }
        Guard(const Guard&) = delete;
        Guard& operator=(const Guard&) = delete;

      private:
        typename P::Lock& lock_;
    };

    // What steps 2 and 3 of an undo need from step 1.
    struct Teardown {
        RangeRecord range{};
        FlushBatch batch{};
        TableList old_tables{};
    };

    // Maps frames over [begin, end); false as soon as a frame or a table is missing.
    bool populate(VirtAddr begin, VirtAddr end, bool try_large) {
        // try_large stays on until the source has no aligned 512-frame run left.
        for (VirtAddr va = begin; va < end;) {
            if (try_large && va % kLargePageSize == 0 && end - va >= kLargePageSize) {
                auto run = frames_.allocate(kFramesPerLargePage, kFramesPerLargePage);
                if (run) {
                    if (!walker_.map(va, run.value(), PageSize::large, {})) {
                        frames_.free(run.value(), kFramesPerLargePage);
                        return false;
                    }
                    ++stats_.large_pages;
                    va += kLargePageSize;
                    continue;
                }
                try_large = false;
            }
            auto frame = frames_.allocate(1, 1);
            if (!frame) {
                return false;
            }
            if (!walker_.map(va, frame.value(), PageSize::small, {})) {
                frames_.free(frame.value(), 1);
                return false;
            }
            ++stats_.small_pages;
            va += kPageSize;
        }
        return true;
    }

    // Step 1, under the lock.
    Teardown begin_teardown(const RangeRecord& record) {
        ranges_.set_freeing(record.begin);
        Teardown teardown;
        teardown.range = record;
        for (VirtAddr va = record.begin; va < record.end;) {
            auto leaf = walker_.retire(va);
            if (!leaf) {
                va += kPageSize;  // never mapped: a rollback stops half way
                continue;
            }
            teardown.batch.add(va);
            va += bytes_of(leaf.value().size);
        }
        teardown.old_tables = walker_.take_unlinked();
        return teardown;
    }

    // Steps 2 and 3, without the lock held on entry.
    void finish_teardown(Teardown& teardown) {
        P::flush(teardown.batch);
        Guard guard(lock_);
        bool owns_frames = teardown.range.kind != RangeKind::vmap;
        for (VirtAddr va = teardown.range.begin; va < teardown.range.end;) {
            auto leaf = walker_.release(va, owns_frames, frames_);
            if (!leaf) {
                va += kPageSize;
                continue;
            }
            if (leaf.value().size == PageSize::large) {
                --stats_.large_pages;
            } else {
                --stats_.small_pages;
            }
            va += bytes_of(leaf.value().size);
        }
        walker_.free_tables(teardown.old_tables);
        auto released = ranges_.release(teardown.range.begin, P::cpu_index());
        (void)released;  // reserved since step 1, so always there
    }

    typename P::Lock lock_;
    PageTable<P> walker_;
    FrameSource& frames_;
    RangeAllocator ranges_;
    VmStats stats_;
};

}  // namespace vm
