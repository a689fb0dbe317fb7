// The Multiboot2 boot-information layout, as the boot loader writes it (Multiboot2 spec, 3.6).
// These structures document the byte layout and pin it with static_asserts; the parser never
// reads through them in place, because the input is untrusted and may be unaligned. It copies
// each structure out with memcpy after checking that the bytes lie inside the input.
#pragma once

#include <cstddef>
#include <cstdint>

namespace multiboot2::layout {

// What a Multiboot2 loader leaves in EAX; anything else means EBX is not a boot-info pointer.
inline constexpr std::uint32_t kBootloaderMagic = 0x36d76289;

// Every tag starts on an 8-byte boundary; its size field excludes the padding up to the next one.
inline constexpr std::size_t kTagAlignment = 8;

// Fixed part at the start of the information: total_size counts itself and the end tag.
struct InfoHeader {
    std::uint32_t total_size;
    std::uint32_t reserved;
};
static_assert(sizeof(InfoHeader) == 8);
static_assert(offsetof(InfoHeader, total_size) == 0);
static_assert(offsetof(InfoHeader, reserved) == 4);

enum class TagType : std::uint32_t {
    end = 0,
    command_line = 1,
    boot_loader_name = 2,
    module = 3,
    memory_map = 6,
    framebuffer = 8,
    acpi_old_rsdp = 14,
    acpi_new_rsdp = 15,
};

struct TagHeader {
    std::uint32_t type;
    std::uint32_t size;  // Header included, padding excluded.
};
static_assert(sizeof(TagHeader) == 8);
static_assert(offsetof(TagHeader, type) == 0);
static_assert(offsetof(TagHeader, size) == 4);

// The smallest well-formed information: the fixed part followed by an end tag.
inline constexpr std::size_t kMinimumTotalSize = sizeof(InfoHeader) + sizeof(TagHeader);

// Tags 1 and 2: a NUL-terminated string follows the header.
inline constexpr std::size_t kStringTagFixedSize = sizeof(TagHeader);

// Tag 3. mod_end is exclusive (GRUB writes start + size); the module's command line follows.
struct ModuleTag {
    TagHeader header;
    std::uint32_t mod_start;
    std::uint32_t mod_end;
};
static_assert(sizeof(ModuleTag) == 16);
static_assert(offsetof(ModuleTag, mod_start) == 8);
static_assert(offsetof(ModuleTag, mod_end) == 12);

// Tag 6. Entries follow the fixed part, entry_size bytes apart: a later spec version may
// append fields, so entry_size is the stride and only its first 24 bytes are read.
struct MemoryMapTag {
    TagHeader header;
    std::uint32_t entry_size;
    std::uint32_t entry_version;
};
static_assert(sizeof(MemoryMapTag) == 16);
static_assert(offsetof(MemoryMapTag, entry_size) == 8);
static_assert(offsetof(MemoryMapTag, entry_version) == 12);

struct MemoryMapEntry {
    std::uint64_t base_addr;
    std::uint64_t length;
    std::uint32_t type;
    std::uint32_t reserved;
};
static_assert(sizeof(MemoryMapEntry) == 24);
static_assert(offsetof(MemoryMapEntry, base_addr) == 0);
static_assert(offsetof(MemoryMapEntry, length) == 8);
static_assert(offsetof(MemoryMapEntry, type) == 16);
static_assert(offsetof(MemoryMapEntry, reserved) == 20);

// Tag 8, common part only; colour information follows and is not read. The spec lists a
// one-byte reserved field at offset 30 while GRUB writes two bytes, so a tag is accepted once
// it holds the spec's 31 bytes: nothing past framebuffer_type is read either way.
struct FramebufferTag {
    TagHeader header;
    std::uint64_t framebuffer_addr;
    std::uint32_t framebuffer_pitch;
    std::uint32_t framebuffer_width;
    std::uint32_t framebuffer_height;
    std::uint8_t framebuffer_bpp;
    std::uint8_t framebuffer_type;
    std::uint16_t reserved;
};
static_assert(sizeof(FramebufferTag) == 32);
static_assert(offsetof(FramebufferTag, framebuffer_addr) == 8);
static_assert(offsetof(FramebufferTag, framebuffer_pitch) == 16);
static_assert(offsetof(FramebufferTag, framebuffer_width) == 20);
static_assert(offsetof(FramebufferTag, framebuffer_height) == 24);
static_assert(offsetof(FramebufferTag, framebuffer_bpp) == 28);
static_assert(offsetof(FramebufferTag, framebuffer_type) == 29);
inline constexpr std::size_t kFramebufferCommonSize = 31;

// framebuffer_type values: indexed colour, direct RGB, and EGA text (VGA text mode at 0xB8000).
inline constexpr std::uint8_t kFramebufferIndexed = 0;
inline constexpr std::uint8_t kFramebufferRgb = 1;
inline constexpr std::uint8_t kFramebufferEgaText = 2;

// For direct RGB, where each colour's bits lie in a pixel. GRUB places them after its two
// reserved bytes, at offset 32, as every loader in use does.
struct FramebufferRgbFields {
    std::uint8_t red_field_position;
    std::uint8_t red_mask_size;
    std::uint8_t green_field_position;
    std::uint8_t green_mask_size;
    std::uint8_t blue_field_position;
    std::uint8_t blue_mask_size;
};
static_assert(sizeof(FramebufferRgbFields) == 6);
inline constexpr std::size_t kFramebufferRgbFieldsOffset = sizeof(FramebufferTag);

// Tags 14 and 15 carry a verbatim copy of the firmware's RSDP after the tag header: 20 bytes
// for ACPI 1.0, 36 for ACPI 2.0 and later. The parser only copies the bytes; their layout and
// checksums belong to the ACPI code (src/acpi/tables.hpp), which checks them.
inline constexpr std::size_t kRsdpV1Size = 20;
inline constexpr std::size_t kRsdpV2Size = 36;

}  // namespace multiboot2::layout
