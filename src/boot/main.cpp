// The boot CPU's path from the boot stub to the shell. Each step needs the ones before it:
// per-CPU data (so panics can name the CPU), the console, exception handling, the memory map
// (for the direct map), then everything else.
#include <cstdint>

#include "boot/boot_info.hpp"
#include "boot/console.hpp"
#include "boot/gdt.hpp"
#include "boot/idt.hpp"
#include "boot/memory_setup.hpp"
#include "boot/paging.hpp"
#include "boot/panic.hpp"
#include "boot/tsc.hpp"
#include "boot/version.hpp"
#include "shell/shell.hpp"
#include "smp/percpu.hpp"
#include "smp/smp_init.hpp"

extern "C" void run_global_constructors();

namespace {

alignas(16) std::uint8_t boot_double_fault_stack[8192];

// A global with a constructor: if the runtime did not run .init_array, this stays false and
// the kernel says so at boot instead of misbehaving later in some other global.
bool constructors_ran = false;
struct ConstructorProbe {
    ConstructorProbe() { constructors_ran = true; }
} constructor_probe;

}  // namespace

extern "C" [[noreturn]] void kernel_main(std::uint32_t /*magic, checked by the stub*/,
                                         std::uint64_t boot_info_physical) {
    smp::PerCpu& boot_cpu = smp::cpu(0);
    boot_cpu.index = 0;
    smp::install_per_cpu(boot_cpu);
    console::init();
    run_global_constructors();
    ASSERT(constructors_ran);
    kprint("{} {} booting on CPU 0\n", kKernelName, kKernelVersion);

    // The boot stub's GDT lives at a low address that the kernel's page tables will not map.
    gdt::load_for_cpu(0, reinterpret_cast<std::uint64_t>(boot_double_fault_stack) +
                             sizeof(boot_double_fault_stack));
    idt::init();
    tsc::calibrate();
    kprint("time: TSC runs at {} MHz\n", tsc::tsc_per_microsecond());

    const BootInformation& boot = read_boot_information(boot_info_physical);
    paging::init(boot.ram, boot.ram_count);
    kprint("paging: kernel page tables loaded; direct map covers {} of physical addresses\n",
           lib::Bytes{paging::direct_map_end()});
    load_symbol_table(boot);
    memory_setup::init(boot);
    smp::init(boot.parsed, memory_setup::trampoline_page());

    kprint("{} ready\n", kKernelName);
    shell::run();
}
