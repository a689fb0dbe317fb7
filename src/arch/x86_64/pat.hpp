// The page attribute table (PAT): the memory types a page-table entry's PAT, PCD and PWT bits
// select. The kernel keeps the power-on types of entries 0-3 (write-back, write-through, UC-,
// uncached: what page tables without the PAT bit mean) and makes entry 4 write-combining, for
// the framebuffer. Every CPU must hold the same table, so each one programs it as it starts.
#pragma once

#include <cstdint>

namespace pat {

// Memory type encodings (Intel SDM vol. 3, "PAT Memory Types").
inline constexpr std::uint8_t kUncacheable = 0x00;
inline constexpr std::uint8_t kWriteCombining = 0x01;
inline constexpr std::uint8_t kWriteThrough = 0x04;
inline constexpr std::uint8_t kWriteBack = 0x06;
inline constexpr std::uint8_t kUncachedMinus = 0x07;

// The table the kernel writes: entries 0-3 and 5-7 as at power-on, entry 4 write-combining.
inline constexpr std::uint64_t kKernelTable =
    std::uint64_t(kWriteBack) | std::uint64_t(kWriteThrough) << 8 |
    std::uint64_t(kUncachedMinus) << 16 | std::uint64_t(kUncacheable) << 24 |
    std::uint64_t(kWriteCombining) << 32 | std::uint64_t(kWriteThrough) << 40 |
    std::uint64_t(kUncachedMinus) << 48 | std::uint64_t(kUncacheable) << 56;
static_assert((kKernelTable & 0xffffffff) == 0x00070406, "entries 0-3 keep their power-on types");

// Entry 4 is selected by the PAT bit alone: bit 7 of a 4 KiB page-table entry.
inline constexpr std::uint64_t kWriteCombiningPteBits = 1ull << 7;

// True when the CPU has a PAT (CPUID.1:EDX bit 16).
bool supported();
// Writes kKernelTable into IA32_PAT on this CPU, when supported.
void program_this_cpu();
// True once the boot CPU has programmed it: write-combining mappings may then be made.
bool write_combining_ready();

}  // namespace pat
