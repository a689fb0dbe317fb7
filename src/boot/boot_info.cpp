#include "boot/boot_info.hpp"

#include "boot/console.hpp"
#include "boot/cpu.hpp"
#include "boot/direct_map.hpp"
#include "boot/power.hpp"
#include "boot/symbols.hpp"
#include "lib/string.hpp"
#include "mm/memory_region_types.hpp"

namespace {

BootInformation boot_information;

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

const BootInformation& read_boot_information(mm::PhysAddr info_physical) {
    BootInformation& boot = boot_information;
    auto* bytes = static_cast<const std::uint8_t*>(phys_to_virt(info_physical));
    std::uint32_t claimed;
    lib::copy_memory(&claimed, bytes, sizeof(claimed));
    std::uint32_t readable = claimed < kMaxBootInfoBytes ? claimed : kMaxBootInfoBytes;
    mm::parse_boot_info(bytes, readable, boot.parsed);
    boot.location = {info_physical, info_physical + readable};

    const mm::BootInfo& info = boot.parsed;
    kprint("boot: loader '{}', command line '{}', {} memory map entries, {} modules\n",
           info.loader_name ? info.loader_name : "?", info.command_line ? info.command_line : "",
           info.memory_map.size(), info.modules.size());
    for (const mm::Problem& problem : info.problems) {
        kprint("boot: malformed boot information at byte {} (tag {}): {}: {}\n", problem.offset,
               problem.tag_type, mm::to_string(problem.kind), problem.description);
    }
    if (info.dropped_problems > 0) {
        kprint("boot: ... and {} more problems\n", info.dropped_problems);
    }
    if (!info.usable()) {
        stop_boot("the boot memory map describes no usable memory");
    }

    for (const mm::MemoryMapEntry& entry : info.memory_map) {
        if (is_ram(entry.type) && entry.length > 0 && boot.ram_count < BootInformation::kMaxRam) {
            std::uint64_t end = entry.base + entry.length;
            boot.ram[boot.ram_count++] = {entry.base, end < entry.base ? ~0ull : end};
        }
    }
    for (const mm::BootModule& module : info.modules) {
        if (module.cmdline != nullptr && lib::strings_equal(module.cmdline, "symbols")) {
            boot.symbols = &module;
        }
    }
    return boot;
}

void load_symbol_table(const BootInformation& boot) {
    if (boot.symbols == nullptr) {
        kprint("symbols: no symbol table module; backtraces show addresses only\n");
        return;
    }
    const mm::PhysRange range = boot.symbols->range;
    symbols::init(static_cast<const char*>(phys_to_virt(range.begin)), range.size());
    kprint("symbols: {} of symbol table loaded for backtraces\n", lib::Bytes{range.size()});
}
