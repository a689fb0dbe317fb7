#include "kernel/paging.hpp"

#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/direct_map.hpp"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/pat.hpp"
#include "kernel/console.hpp"
#include "kernel/panic.hpp"
#include "lib/string.hpp"
#include "lib/units.hpp"

extern "C" char __kernel_physical_start[], __text_start[], __text_end[], __rodata_start[],
    __data_start[], __kernel_end[], boot_stack_guard[];

namespace paging {
namespace {

using Entry = std::uint64_t;
constexpr Entry kPresent = 1ull << 0;
constexpr Entry kWritable = 1ull << 1;
constexpr Entry kWriteThrough = 1ull << 3;
constexpr Entry kCacheDisable = 1ull << 4;
constexpr Entry kHuge = 1ull << 7;
constexpr Entry kNoExecute = 1ull << 63;
constexpr Entry kAddressMask = 0x000FFFFFFFFFF000ull;

// Page-table pages come from the kernel image itself: no allocator exists yet. 2 MiB pages need
// one page directory per GiB of RAM, so this covers about 250 GiB without 1 GiB pages (and far
// more with them); beyond that the direct map is cut short and says so.
constexpr std::size_t kPoolPages = 272;
alignas(4096) Entry pool[kPoolPages][512];
std::size_t pool_used = 0;

Entry* pml4 = nullptr;
Entry no_execute = 0;  // kNoExecute when the CPU supports it (EFER.NXE set by the stub)
bool gigabyte_pages = false;
std::uint64_t mapped_end = 0;

Entry* new_table() {
    if (pool_used == kPoolPages) {
        return nullptr;
    }
    Entry* table = pool[pool_used++];
    lib::fill_memory(table, 0, 4096);
    return table;
}

std::uint64_t table_physical(const Entry* table) {
    return reinterpret_cast<std::uint64_t>(table) - KERNEL_VMA;
}

// Tables are reached through the kernel mapping (pool lives in .bss) before the switch and
// through the direct map for any table address read back from an entry.
Entry* table_at(Entry entry) {
    return static_cast<Entry*>(phys_to_virt(entry & kAddressMask));
}

unsigned index_at(std::uint64_t address, unsigned level) {
    return unsigned((address >> (12 + 9 * level)) & 0x1FF);
}

// Returns the table at `level` (2 = PDPT ... 0 = PT) covering `address`, creating it if needed.
Entry* walk_to(std::uint64_t address, unsigned target_level) {
    Entry* table = pml4;
    for (unsigned level = 3; level > target_level; --level) {
        Entry& entry = table[index_at(address, level)];
        if ((entry & kPresent) == 0) {
            Entry* next = new_table();
            if (next == nullptr) {
                return nullptr;
            }
            entry = table_physical(next) | kPresent | kWritable;
        }
        ASSERT((entry & kHuge) == 0);
        table = table_at(entry);
    }
    return table;
}

void map_kernel_page(std::uint64_t virtual_address, Entry flags) {
    Entry* table = walk_to(virtual_address, 0);
    ASSERT(table != nullptr);
    table[index_at(virtual_address, 0)] = (virtual_address - KERNEL_VMA) | flags | kPresent;
}

void map_kernel_image() {
    auto text = reinterpret_cast<std::uint64_t>(__text_start);
    auto rodata = reinterpret_cast<std::uint64_t>(__rodata_start);
    auto data = reinterpret_cast<std::uint64_t>(__data_start);
    auto end = mm::align_up(reinterpret_cast<std::uint64_t>(__kernel_end), 4096);
    auto guard = reinterpret_cast<std::uint64_t>(boot_stack_guard);
    for (std::uint64_t page = text; page < end; page += 4096) {
        Entry flags;
        if (page < rodata) {
            flags = 0;  // text: read-only, executable
        } else if (page < data) {
            flags = no_execute;
        } else {
            flags = kWritable | no_execute;
        }
        if (page != guard) {
            map_kernel_page(page, flags);
        }
    }
}

// Maps [begin, end) of physical memory at DIRECT_MAP_BASE + begin with the largest pages the
// CPU allows; `begin` and `end` are 2 MiB aligned.
bool map_direct(std::uint64_t begin, std::uint64_t end) {
    std::uint64_t address = begin;
    while (address < end) {
        std::uint64_t virtual_address = DIRECT_MAP_BASE + address;
        if (gigabyte_pages && address % lib::GiB == 0 && end - address >= lib::GiB) {
            Entry* pdpt = walk_to(virtual_address, 2);
            if (pdpt == nullptr) {
                return false;
            }
            pdpt[index_at(virtual_address, 2)] =
                address | kPresent | kWritable | kHuge | no_execute;
            address += lib::GiB;
            continue;
        }
        Entry* pd = walk_to(virtual_address, 1);
        if (pd == nullptr) {
            return false;
        }
        pd[index_at(virtual_address, 1)] = address | kPresent | kWritable | kHuge | no_execute;
        address += mm::kHugeFrameSize;
    }
    if (end > mapped_end) {
        mapped_end = end;
    }
    return true;
}

// The 4 KiB entry of the direct map for `virtual_address`, splitting a 1 GiB or 2 MiB page on
// the way into 512 smaller ones of the same flags; nullptr if unmapped or out of tables.
Entry* split_to_small_page(std::uint64_t virtual_address) {
    Entry* table = pml4;
    for (unsigned level = 3; level > 0; --level) {
        Entry& entry = table[index_at(virtual_address, level)];
        if ((entry & kPresent) == 0) {
            return nullptr;
        }
        if ((entry & kHuge) != 0) {
            Entry* smaller = new_table();
            if (smaller == nullptr) {
                return nullptr;
            }
            const std::uint64_t step = 4096ull << (9 * (level - 1));
            const Entry base = entry & kAddressMask & ~(step * 512 - 1);
            // Below a 2 MiB page come 4 KiB entries, where bit 7 is the PAT bit, not "huge".
            const Entry flags = (entry & ~kAddressMask) & (level == 1 ? ~kHuge : ~Entry(0));
            for (std::uint64_t i = 0; i < 512; ++i) {
                smaller[i] = (base + i * step) | flags;
            }
            entry = table_physical(smaller) | kPresent | kWritable;
        }
        table = table_at(entry);
    }
    return &table[index_at(virtual_address, 0)];
}

}  // namespace

bool map_write_combining(mm::PhysAddr begin, mm::PhysAddr end) {
    if (!pat::write_combining_ready() || end > mapped_end || begin >= end) {
        return false;
    }
    for (mm::PhysAddr page = mm::align_down(begin, 4096); page < end; page += 4096) {
        Entry* entry = split_to_small_page(DIRECT_MAP_BASE + page);
        if (entry == nullptr) {
            return false;
        }
        *entry = (*entry & ~(kWriteThrough | kCacheDisable)) | pat::kWriteCombiningPteBits;
    }
    cpu::write_cr3(table_physical(pml4));  // drop every stale translation
    return true;
}

// The direct map has PML4 slots DIRECT_MAP_PML4_SLOT up to the vmalloc area's slot, 512 GiB
// each; physical memory beyond that window would run into the vmalloc area.
static_assert(VMALLOC_PML4_SLOT > DIRECT_MAP_PML4_SLOT);
constexpr std::uint64_t kDirectMapWindow = std::uint64_t{VMALLOC_PML4_SLOT - DIRECT_MAP_PML4_SLOT}
                                           << 39;

void init(const mm::PhysRange* ram, std::size_t count) {
    no_execute = (cpu::read_msr(cpu::kMsrEfer) & (1u << 11)) ? kNoExecute : 0;
    gigabyte_pages = (cpu::cpuid(0x80000001).edx & (1u << 26)) != 0;
    pml4 = new_table();

    // RAM the CPU cannot address, or that would not fit the window, is never mapped.
    unsigned address_bits = cpu::physical_address_bits();
    std::uint64_t addressable = address_bits >= 64 ? ~0ull : 1ull << address_bits;
    std::uint64_t limit = addressable < kDirectMapWindow ? addressable : kDirectMapWindow;

    map_kernel_image();
    map_direct(0, 4 * lib::GiB);
    for (std::size_t i = 0; i < count; ++i) {
        std::uint64_t begin = mm::align_down(ram[i].begin, mm::kHugeFrameSize);
        std::uint64_t end = mm::align_up(ram[i].end, mm::kHugeFrameSize);
        if (end > limit) {
            end = mm::align_down(limit, mm::kHugeFrameSize);
        }
        if (end <= 4 * lib::GiB || begin >= end) {
            continue;
        }
        if (begin < 4 * lib::GiB) {
            begin = 4 * lib::GiB;
        }
        if (!map_direct(begin, end)) {
            // This range and the ones after it are (partly) unmapped, wherever they lie: the
            // direct map ends below the lowest of them.
            for (std::size_t j = i; j < count; ++j) {
                std::uint64_t unmapped = mm::align_down(ram[j].begin, mm::kHugeFrameSize);
                if (unmapped >= 4 * lib::GiB && unmapped < mapped_end) {
                    mapped_end = unmapped;
                }
            }
            kprint("paging: out of page-table pages; RAM above {:#x} is not mapped\n", mapped_end);
            break;
        }
    }
    cpu::write_cr3(table_physical(pml4));
    enable_global_pages();
}

std::uint64_t no_execute_bit() {
    return no_execute;
}

void enable_global_pages() {
    cpu::write_cr4(cpu::read_cr4() | cpu::kCr4GlobalPages);
}

bool is_mapped(std::uint64_t virtual_address) {
    if (pml4 == nullptr) {
        return false;
    }
    Entry* table = pml4;
    for (unsigned level = 3;; --level) {
        Entry entry = table[index_at(virtual_address, level)];
        if ((entry & kPresent) == 0) {
            return false;
        }
        if (level == 0 || (entry & kHuge) != 0) {
            return true;
        }
        table = table_at(entry);
    }
}

std::uint64_t direct_map_end() {
    return mapped_end;
}

std::uint64_t kernel_page_table_root() {
    return table_physical(pml4);
}

void map_identity(mm::PhysAddr page) {
    Entry* table = walk_to(page, 0);
    ASSERT(table != nullptr);
    table[index_at(page, 0)] = page | kPresent | kWritable;
}

void unmap_identity(mm::PhysAddr page) {
    Entry* table = walk_to(page, 0);
    ASSERT(table != nullptr);
    table[index_at(page, 0)] = 0;
    cpu::invalidate_page(page);
}

}  // namespace paging
