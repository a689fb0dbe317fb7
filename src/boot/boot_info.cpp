#include "boot/boot_info.hpp"

#include "boot/console.hpp"
#include "boot/direct_map.hpp"
#include "boot/symbols.hpp"

namespace {
BootInformation boot_information;
}

const BootInformation& read_boot_information(mm::PhysAddr) {
    return boot_information;
}

void load_symbol_table(const BootInformation& boot) {
    if (boot.symbols.empty()) {
        kprint("symbols: no symbol table module; backtraces show addresses only\n");
        return;
    }
    symbols::init(static_cast<const char*>(phys_to_virt(boot.symbols.begin)), boot.symbols.size());
}
