// What the kernel learns from the Multiboot2 boot information, parsed from untrusted bytes.
// The parser never reads outside the bytes it is given, keeps every tag it can trust, and lists
// everything malformed as a Problem instead of failing as a whole: a kernel that can still find
// its memory map should boot and log what was wrong.
#pragma once

#include <cstddef>
#include <cstdint>

#include "boot/multiboot2/layout.hpp"
#include "lib/static_vector.hpp"
#include "mm/frame.hpp"
#include "mm/memory_region_types.hpp"

namespace multiboot2 {

struct BootModule {
    mm::PhysRange range;
    const char* cmdline = nullptr;  // Points into the parsed bytes; nullptr if unterminated.
};

enum class RsdpVersion : std::uint8_t { none, v1, v2 };

struct Rsdp {
    RsdpVersion version = RsdpVersion::none;
    std::uint8_t length = 0;  // 20 for v1, 36 for v2.
    std::uint8_t bytes[layout::kRsdpV2Size] = {};
};

struct Framebuffer {
    bool present = false;
    mm::PhysAddr address = 0;
    std::uint32_t pitch = 0;
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::uint8_t bpp = 0;
    std::uint8_t type = 0;  // layout::kFramebufferRgb, ...
    // Direct RGB only, when the tag is long enough to hold them: each colour's bit position
    // and width in a pixel.
    bool has_rgb_fields = false;
    layout::FramebufferRgbFields rgb{};
};

enum class ProblemKind : std::uint8_t {
    header_truncated,             // Fewer than 8 readable bytes: not even total_size.
    total_size_too_small,         // Below 16: no room for the fixed part and an end tag.
    total_size_exceeds_readable,  // Only the readable bytes are parsed.
    total_size_misaligned,        // Not a multiple of 8 although every tag is padded to 8.
    tag_size_too_small,           // Size below 8: the next tag cannot be found, parsing stops.
    tag_past_end,                 // Tag runs past the end of the information, parsing stops.
    missing_end_tag,
    tag_truncated,                // Too small for its fixed fields; skipped.
    duplicate_tag,                // A tag that may appear once appeared again; the first counts.
    entry_size_too_small,         // Memory map stride below 24 bytes; the map is skipped.
    memory_map_partial_entry,     // Bytes left over after the last whole entry.
    too_many_memory_map_entries,  // Entries beyond the capacity are dropped.
    too_many_modules,             // Modules beyond the capacity are dropped.
    unterminated_string,          // No NUL inside the tag; the string is not used.
    module_end_before_start,      // The module is dropped.
};

const char* to_string(ProblemKind kind);

// tag_type for problems found in the fixed part, before any tag.
inline constexpr std::uint32_t kNoTag = 0xffffffff;

struct Problem {
    ProblemKind kind = ProblemKind::header_truncated;
    std::size_t offset = 0;  // Byte offset of the tag (or field) from the start of the input.
    std::uint32_t tag_type = kNoTag;
    const char* description = "";  // Static string, for the log.
};

struct Info {
    static constexpr std::size_t kMaxMemoryMapEntries = 256;
    static constexpr std::size_t kMaxModules = 16;
    static constexpr std::size_t kMaxProblems = 16;

    lib::StaticVector<mm::MemoryMapEntry, kMaxMemoryMapEntries> memory_map;
    lib::StaticVector<BootModule, kMaxModules> modules;
    const char* command_line = nullptr;  // Points into the parsed bytes.
    const char* loader_name = nullptr;   // Points into the parsed bytes.
    Rsdp rsdp;
    Framebuffer framebuffer;
    std::uint32_t total_size = 0;  // As the header claims it, for reserving the information.
    lib::StaticVector<Problem, kMaxProblems> problems;
    std::size_t dropped_problems = 0;  // Problems that did not fit in `problems`.

    // True if the memory map offers at least one non-empty available entry, the least the
    // kernel needs to go on.
    bool usable() const;
};

// Parses the information at `bytes`, of which exactly `readable` bytes may be read (normally
// the header's total_size, read by the caller first, or the size of what the caller mapped).
// `out` is overwritten; it is large, so the caller keeps it in static storage. Strings in `out`
// point into `bytes`, which must therefore outlive it.
void parse(const std::uint8_t* bytes, std::size_t readable, Info& out);

}  // namespace multiboot2
