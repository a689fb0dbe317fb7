// Feeds arbitrary bytes to the Multiboot2 parser and whatever it accepts to the region builder.
// Any crash, sanitizer report or broken postcondition (__builtin_trap) is a bug.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "boot/multiboot2/info.hpp"
#include "mm/memory_regions.hpp"

namespace {

void require(bool condition) {
    if (!condition) {
        __builtin_trap();
    }
}

bool inside(const std::uint8_t* bytes, std::size_t size, const char* text) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(text);
    return p >= bytes && p < bytes + size;
}

void check_boot_info(const multiboot2::Info& info, const std::uint8_t* bytes, std::size_t size) {
    // Accepted strings point into the input and end inside it.
    for (const char* text : {info.command_line, info.loader_name}) {
        if (text != nullptr) {
            require(inside(bytes, size, text));
            const auto offset =
                static_cast<std::size_t>(reinterpret_cast<const std::uint8_t*>(text) - bytes);
            require(std::memchr(text, 0, size - offset) != nullptr);
        }
    }
    for (const multiboot2::BootModule& module : info.modules) {
        require(module.range.begin <= module.range.end);
        require(module.cmdline == nullptr || inside(bytes, size, module.cmdline));
    }
    require(info.rsdp.version != multiboot2::RsdpVersion::none || info.rsdp.length == 0);
    for (const multiboot2::Problem& problem : info.problems) {
        require(multiboot2::to_string(problem.kind) != nullptr && problem.description != nullptr);
        require(problem.offset <= size);
    }
}

// PhysRange::overlaps counts an empty range lying inside the other one; here it must not.
bool intersects(mm::PhysRange a, mm::PhysRange b) {
    return !a.empty() && !b.empty() && a.overlaps(b);
}

mm::PhysRange firmware_range(const mm::MemoryMapEntry& entry) {
    const std::uint64_t end = entry.base + entry.length;
    return {entry.base, end < entry.base ? ~std::uint64_t{0} : end};
}

// Every usable byte must be marked available by the firmware, claimed by no stricter entry and
// by no reservation: checked against the raw inputs, not against the builder's own map.
void check_layout(const mm::MemoryLayout& layout, const multiboot2::Info& info,
                  const mm::ReservedRange* reserved, std::size_t reserved_count) {
    require(layout.check_invariants());
    // Carving only removes memory, and nothing is usable unless the map offers some.
    require(mm::bytes_of_type(layout, mm::raw(mm::MemoryType::available)) >= layout.usable_bytes);
    require(info.usable() || layout.usable.empty());
    for (const mm::PhysRange& range : layout.usable) {
        for (const mm::MemoryMapEntry& entry : info.memory_map) {
            if (entry.type != mm::raw(mm::MemoryType::available)) {
                require(!intersects(firmware_range(entry), range));
            }
        }
        for (std::size_t i = 0; i < reserved_count; ++i) {
            require(!intersects(reserved[i].range, range));
        }
    }
    // Each normalized region takes its type from an entry that covers it.
    for (const mm::MapRegion& region : layout.normalized) {
        bool covered = false;
        for (const mm::MemoryMapEntry& entry : info.memory_map) {
            covered = covered || (entry.type == region.type &&
                                  firmware_range(entry).contains(region.range.begin));
        }
        require(covered);
    }
}

void run(const std::uint8_t* bytes, std::size_t size) {
    static multiboot2::Info info;
    static mm::MemoryLayout layout;
    multiboot2::parse(bytes, size, info);
    check_boot_info(info, bytes, size);

    mm::ReservedRange reserved[4 + multiboot2::Info::kMaxModules] = {
        {{0x0, 0x100000}, "first MiB"},
        {{0x100000, 0x2a5123}, "kernel image"},
        {{0x7fff0000, 0x80000001}, "boot information"},
        {{0x123456789, 0x123456789}, "empty"},
    };
    std::size_t count = 4;
    for (const multiboot2::BootModule& module : info.modules) {
        reserved[count++] = {module.range, "module"};
    }
    mm::build_memory_layout({info.memory_map.data(), info.memory_map.size()}, {reserved, count},
                            layout);
    check_layout(layout, info, reserved, count);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    run(data, size);
    // Again from an odd address, ending exactly at the end of its allocation so that
    // AddressSanitizer still sees any read past `size`: the loader gives no alignment guarantee
    // worth trusting.
    std::unique_ptr<std::uint8_t[]> shifted(new std::uint8_t[size + 1]);
    if (size != 0) {
        std::memcpy(shifted.get() + 1, data, size);
    }
    run(shifted.get() + 1, size);
    return 0;
}
