// The boot CPU's path from the boot stub to the shell. Each step needs the ones before it:
// per-CPU data (so panics can name the CPU), the console, exception handling, the memory map
// (for the direct map), then everything else.
#include <cstdint>

#include "acpi/power.hpp"
#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/gdt.hpp"
#include "arch/x86_64/pat.hpp"
#include "arch/x86_64/pic.hpp"
#include "arch/x86_64/tsc.hpp"
#include "boot/handoff.hpp"
#include "kernel/console.hpp"
#include "kernel/firmware_tables.hpp"
#include "kernel/idt.hpp"
#include "kernel/kernel_heap.hpp"
#include "kernel/kernel_vm.hpp"
#include "kernel/memory_setup.hpp"
#include "kernel/paging.hpp"
#include "kernel/panic.hpp"
#include "kernel/percpu.hpp"
#include "kernel/power.hpp"
#include "kernel/version.hpp"
#include "shell/shell.hpp"
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

// Without the FADT and \_S5, poweroff falls back to QEMU's fixed ports.
void use_acpi_power_off(const acpi::Tables* tables) {
    if (tables == nullptr) {
        return;
    }
    auto power_off = acpi::read_power_off(*tables);
    if (!power_off) {
        kprint("acpi: no power-off data ({}); poweroff uses QEMU's fixed ports\n",
               acpi::to_string(power_off.error()));
        return;
    }
    power::use_acpi_power_off(power_off.value());
}

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

    const Handoff& handoff = read_handoff(boot_info_physical);
    paging::init(handoff.ram.data(), handoff.ram.size());
    kprint("paging: kernel page tables loaded; direct map covers {} of physical addresses\n",
           lib::Bytes{paging::direct_map_end()});
    pat::program_this_cpu();
    console::attach_screen(handoff.parsed.framebuffer);
    load_symbol_table(handoff);
    memory_setup::init(handoff.memory_map(), {handoff.in_use.data(), handoff.in_use.size()});
    kvm::init();
    kheap::init();

    pic::disable();
    const acpi::Tables* tables = firmware_tables::open(handoff.rsdp());
    use_acpi_power_off(tables);
    smp::init(tables, memory_setup::trampoline_page());

    kprint("{} ready\n", kKernelName);
    // The shell runs with interrupts on, like the APs' work: TLB shootdown IPIs reach CPU 0 at
    // once. The PIC is masked and the APIC timer off, so nothing else arrives.
    cpu::enable_interrupts();
    shell::run();
}
