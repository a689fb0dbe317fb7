#include "boot/handoff.hpp"

#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/direct_map.hpp"
#include "kernel/console.hpp"
#include "kernel/line_table.hpp"
#include "kernel/power.hpp"
#include "kernel/symbols.hpp"
#include "lib/string.hpp"
#include "mm/memory_region_types.hpp"

namespace {

Handoff handoff;

// The information is a few KiB; a larger claim means a corrupt header, and reading it all
// could run into unmapped memory.
constexpr std::uint32_t kMaxBootInfoBytes = 1 << 20;

bool is_ram(std::uint32_t type) {
    return type == mm::raw(mm::MemoryType::available) ||
           type == mm::raw(mm::MemoryType::acpi_reclaimable) ||
           type == mm::raw(mm::MemoryType::acpi_nvs);
}

[[noreturn]] void stop_boot(const char* why) {
    kprint("FATAL: {}; the kernel cannot continue.\n", why);
    power::exit_qemu(power::kExitPanic);
    cpu::halt_forever();
}

}  // namespace

const Handoff& read_handoff(mm::PhysAddr info_physical) {
    Handoff& boot = handoff;
    auto* bytes = static_cast<const std::uint8_t*>(phys_to_virt(info_physical));
    std::uint32_t claimed;
    lib::copy_memory(&claimed, bytes, sizeof(claimed));
    std::uint32_t readable = claimed < kMaxBootInfoBytes ? claimed : kMaxBootInfoBytes;
    multiboot2::parse(bytes, readable, boot.parsed);
    (void)boot.in_use.push_back(
        {{info_physical, info_physical + readable}, "Multiboot2 boot information"});

    const multiboot2::Info& info = boot.parsed;
    kprint("boot: loader '{}', command line '{}', {} memory map entries, {} modules\n",
           info.loader_name ? info.loader_name : "?", info.command_line ? info.command_line : "",
           info.memory_map.size(), info.modules.size());
    for (const multiboot2::Problem& problem : info.problems) {
        kprint("boot: malformed boot information at byte {} (tag {}): {}: {}\n", problem.offset,
               problem.tag_type, multiboot2::to_string(problem.kind), problem.description);
    }
    if (info.dropped_problems > 0) {
        kprint("boot: ... and {} more problems\n", info.dropped_problems);
    }
    if (info.rsdp.version != multiboot2::RsdpVersion::none) {
        // UEFI firmware hands GRUB an ACPI 2.0 RSDP, which arrives in the new-ACPI tag (15).
        kprint(
            "boot: RSDP copy ({} bytes) in the {} tag\n", info.rsdp.length,
            info.rsdp.version == multiboot2::RsdpVersion::v2 ? "new-ACPI (15)" : "old-ACPI (14)");
    }
    if (!info.usable()) {
        stop_boot("the boot memory map describes no usable memory");
    }

    for (const mm::MemoryMapEntry& entry : info.memory_map) {
        if (is_ram(entry.type) && entry.length > 0) {
            std::uint64_t end = entry.base + entry.length;
            (void)boot.ram.push_back({entry.base, end < entry.base ? ~0ull : end});
        }
    }
    for (const multiboot2::BootModule& module : info.modules) {
        if (module.cmdline != nullptr && lib::strings_equal(module.cmdline, "symbols")) {
            boot.symbols = &module;
        }
        if (module.cmdline != nullptr && lib::strings_equal(module.cmdline, "lines")) {
            boot.lines = &module;
        }
        (void)boot.in_use.push_back(
            {module.range, module.cmdline != nullptr ? module.cmdline : "boot module"});
    }
    return boot;
}

void load_symbol_table(const Handoff& boot) {
    if (boot.symbols == nullptr) {
        kprint("symbols: no symbol table module; backtraces show addresses only\n");
        return;
    }
    const mm::PhysRange range = boot.symbols->range;
    symbols::init(static_cast<const char*>(phys_to_virt(range.begin)), range.size());
    kprint("symbols: {} of symbol table loaded for backtraces\n", lib::Bytes{range.size()});
    if (boot.lines == nullptr) {
        kprint("symbols: no line table module; backtraces show no file:line\n");
        return;
    }
    const mm::PhysRange lines = boot.lines->range;
    line_table::init(static_cast<const char*>(phys_to_virt(lines.begin)), lines.size());
    kprint("symbols: {} of line table loaded (file:line and inlined calls)\n",
           lib::Bytes{lines.size()});
}
