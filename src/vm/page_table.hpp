// A four-level x86_64 page-table walker over tables that live in physical frames: it maps and
// unmaps 4 KiB and 2 MiB pages under a root it is given, takes table pages from a FrameSource
// and gives emptied ones back. Platform-free: physical memory is reached only through
// P::phys_to_virt(pa), so host tests run it over a buffer standing for physical frames.
//
// Unmapping is two steps, because a frame may be reused only once no CPU's TLB still holds it:
//   retire(va)   the leaf stops translating (present bit cleared, address kept, kRetired set);
//                the caller then flushes every CPU's TLB for va;
//   release(va)  the leaf's frames go back (if asked), the entry is zeroed, and tables that
//                became empty are unlinked onto a list. They may still sit in another CPU's
//                paging-structure cache until the next flush round, so the caller frees them
//                (free_tables) only after a round that started after they were unlinked.
// Not thread-safe: one lock around the walker is the caller's business.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>

#include "lib/result.hpp"
#include "mm/frame.hpp"
#include "vm/types.hpp"

namespace vm {

template <typename P>
concept PhysicalMemoryAccess = requires(mm::PhysAddr address) {
    { P::phys_to_virt(address) } -> std::same_as<void*>;
};

enum class MapError : std::uint8_t {
    misaligned,      // va or pa not a multiple of the page size, or va not canonical
    already_mapped,  // a leaf (live or retiring) or, for a 2 MiB page, a table is in the way
    no_memory,       // no frame for a table; nothing changed
};

enum class UnmapError : std::uint8_t {
    not_mapped,      // no live leaf at va (retire) or no retired leaf at va (release)
    not_page_start,  // va lies inside a 2 MiB page but not at its start
};

// One leaf: where it points, how big it is, and its flags.
struct Leaf {
    mm::PhysAddr physical = 0;
    PageSize size = PageSize::small;
    PageFlags flags{};
};

// Tables unlinked by release(), linked through their own first word (the rest is zero).
struct TableList {
    mm::PhysAddr head = 0;
    std::size_t count = 0;
};

template <PhysicalMemoryAccess P>
class PageTable {
  public:
    using Entry = std::uint64_t;
    static constexpr Entry kPresent = 1ull << 0;
    static constexpr Entry kWritable = 1ull << 1;
    static constexpr Entry kLarge = 1ull << 7;
    static constexpr Entry kGlobal = 1ull << 8;
    static constexpr Entry kRetired = 1ull << 9;  // available to software: "retiring leaf"
    static constexpr Entry kNoExecute = 1ull << 63;
    static constexpr Entry kAddressMask = 0x000FFFFFFFFFF000ull;
    static constexpr std::size_t kEntries = 512;

    // `root` is a zeroed (or already populated) PML4 the walker never frees. `no_execute` is
    // kNoExecute when the CPU has NX (EFER.NXE), else 0: the bit is reserved without it.
    PageTable(mm::PhysAddr root, FrameSource& tables, Entry no_execute)
        : root_(root), tables_(tables), no_execute_(no_execute) {}

    lib::Status<MapError> map(VirtAddr va, mm::PhysAddr pa, PageSize size, PageFlags flags) {
        std::uint64_t bytes = bytes_of(size);
        if (va % bytes != 0 || pa % bytes != 0 || !canonical(va) || (pa & ~kAddressMask) != 0) {
            return lib::fail(MapError::misaligned);
        }
        unsigned leaf_level = size == PageSize::large ? 1 : 0;
        Entry* table = table_at(root_);
        for (unsigned level = 3; level > leaf_level; --level) {
            Entry& entry = table[index_at(va, level)];
            if (entry == 0) {
                auto frame = tables_.allocate(1, 1);
                if (!frame) {
                    prune(va);  // tables made on the way down hold nothing: unlink them
                    return lib::fail(MapError::no_memory);
                }
                fill_zero(table_at(frame.value()));
                ++tables_allocated_;
                entry = frame.value() | kPresent | kWritable;
            } else if ((entry & kPresent) == 0 || (entry & kLarge) != 0) {
                return lib::fail(MapError::already_mapped);  // a leaf (maybe retiring) is here
            }
            table = table_at(entry & kAddressMask);
        }
        Entry& leaf = table[index_at(va, leaf_level)];
        if (leaf != 0) {
            return lib::fail(MapError::already_mapped);
        }
        leaf = pa | kPresent | encode(flags) | (size == PageSize::large ? kLarge : 0);
        return {};
    }

    // The live leaf that translates va, if any.
    bool translate(VirtAddr va, Leaf& out) const {
        Path path;
        Entry* entry = find_leaf(va, path);
        if (entry == nullptr || (*entry & kPresent) == 0) {
            return false;
        }
        out = decode(*entry, path.leaf_level);
        return true;
    }

    // Step one of an unmap; see the top of the file.
    lib::Result<Leaf, UnmapError> retire(VirtAddr va) {
        Path path;
        Entry* entry = find_leaf(va, path);
        if (entry == nullptr || (*entry & kPresent) == 0) {
            return lib::fail(UnmapError::not_mapped);
        }
        Leaf leaf = decode(*entry, path.leaf_level);
        if (va % bytes_of(leaf.size) != 0) {
            return lib::fail(UnmapError::not_page_start);
        }
        *entry = (*entry & ~kPresent) | kRetired;
        return leaf;
    }

    // Step two: after the flush. Frees the leaf's frames to `frames` when free_frames is set.
    lib::Result<Leaf, UnmapError> release(VirtAddr va, bool free_frames, FrameSource& frames) {
        Path path;
        Entry* entry = find_leaf(va, path);
        if (entry == nullptr || (*entry & kRetired) == 0) {
            return lib::fail(UnmapError::not_mapped);
        }
        Leaf leaf = decode(*entry, path.leaf_level);
        if (va % bytes_of(leaf.size) != 0) {
            return lib::fail(UnmapError::not_page_start);
        }
        *entry = 0;
        if (free_frames) {
            frames.free(leaf.physical, bytes_of(leaf.size) / kPageSize);
        }
        prune(va);
        return leaf;
    }

    // Tables unlinked since the last call; the caller frees them after the next flush round.
    TableList take_unlinked() {
        TableList taken = unlinked_;
        unlinked_ = {};
        return taken;
    }

    void free_tables(TableList list) {
        while (list.head != 0) {
            mm::PhysAddr table = list.head;
            Entry* words = table_at(table);
            list.head = words[0];
            words[0] = 0;
            tables_.free(table, 1);
            ++tables_freed_;
        }
    }

    mm::PhysAddr root() const { return root_; }
    std::uint64_t tables_allocated() const { return tables_allocated_; }
    std::uint64_t tables_freed() const { return tables_freed_; }
    std::size_t tables_waiting() const { return unlinked_.count; }

  private:
    // The tables visited on the way to a leaf: tables[level] is the table at that level.
    struct Path {
        Entry* tables[4] = {};
        unsigned leaf_level = 0;
    };

    static bool canonical(VirtAddr va) {
        std::uint64_t top = va >> 47;
        return top == 0 || top == 0x1FFFF;
    }
    static unsigned index_at(VirtAddr va, unsigned level) {
        return unsigned((va >> (12 + 9 * level)) & 0x1FF);
    }
    static Entry* table_at(mm::PhysAddr table) {
        return static_cast<Entry*>(P::phys_to_virt(table));
    }
    static void fill_zero(Entry* table) {
        for (std::size_t i = 0; i < kEntries; ++i) {
            table[i] = 0;
        }
    }
    static bool empty(const Entry* table) {
        for (std::size_t i = 0; i < kEntries; ++i) {
            if (table[i] != 0) {
                return false;
            }
        }
        return true;
    }

    Entry encode(PageFlags flags) const {
        return (flags.writable ? kWritable : 0) | (flags.executable ? 0 : no_execute_) |
               (flags.global ? kGlobal : 0);
    }
    Leaf decode(Entry entry, unsigned level) const {
        Leaf leaf;
        leaf.size = level == 1 ? PageSize::large : PageSize::small;
        leaf.physical = entry & kAddressMask;
        leaf.flags.writable = (entry & kWritable) != 0;
        leaf.flags.executable = no_execute_ == 0 || (entry & kNoExecute) == 0;
        leaf.flags.global = (entry & kGlobal) != 0;
        return leaf;
    }

    // The leaf entry (live or retired) covering va, or nullptr where the walk meets nothing.
    Entry* find_leaf(VirtAddr va, Path& path) const {
        if (!canonical(va)) {
            return nullptr;
        }
        Entry* table = table_at(root_);
        for (unsigned level = 3;; --level) {
            path.tables[level] = table;
            Entry* entry = &table[index_at(va, level)];
            bool leaf = level == 0 || (*entry & (kLarge | kRetired)) != 0;
            if (*entry == 0 || (leaf && level > 1)) {
                return nullptr;  // nothing here (or a 1 GiB page, which this walker never makes)
            }
            if (leaf) {
                path.leaf_level = level;
                return entry;
            }
            table = table_at(*entry & kAddressMask);
        }
    }

    // Unlinks the tables on va's path that hold nothing, lowest first; never the root.
    void prune(VirtAddr va) {
        Path path;
        Entry* table = table_at(root_);
        unsigned level = 3;
        for (;; --level) {
            path.tables[level] = table;
            Entry entry = table[index_at(va, level)];
            if (level == 0 || (entry & kPresent) == 0 || (entry & kLarge) != 0) {
                break;
            }
            table = table_at(entry & kAddressMask);
        }
        for (; level < 3; ++level) {
            Entry* lower = path.tables[level];
            if (!empty(lower)) {
                return;
            }
            Entry& parent = path.tables[level + 1][index_at(va, level + 1)];
            mm::PhysAddr physical = parent & kAddressMask;
            parent = 0;
            lower[0] = unlinked_.head;
            unlinked_.head = physical;
            ++unlinked_.count;
        }
    }

    mm::PhysAddr root_;
    FrameSource& tables_;
    Entry no_execute_;
    TableList unlinked_;
    std::uint64_t tables_allocated_ = 0;
    std::uint64_t tables_freed_ = 0;
};

}  // namespace vm
