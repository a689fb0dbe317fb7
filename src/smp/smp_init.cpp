#include "smp/smp_init.hpp"

#include "boot/console.hpp"
#include "boot/cpu.hpp"
#include "boot/direct_map.hpp"
#include "boot/paging.hpp"
#include "boot/panic.hpp"
#include "boot/power.hpp"
#include "boot/tsc.hpp"
#include "smp/acpi_madt.hpp"
#include "smp/acpi_parser.hpp"
#include "smp/acpi_power.hpp"
#include "smp/ap_startup.hpp"
#include "smp/cpu_limits.hpp"
#include "smp/idle.hpp"
#include "smp/local_apic.hpp"
#include "smp/percpu.hpp"

namespace smp {
namespace {

SmpReport smp_report;
acpi::MadtInfo madt;  // 40 KiB: static, not on the boot stack
CpuToStart to_start[kMaxCpus];

// Firmware tables lie in RAM or ROM below 4 GiB, all of it in the direct map.
const std::uint8_t* map_physical(void*, mm::PhysAddr address, std::size_t length) {
    if (address + length > paging::direct_map_end() || address + length < address) {
        return nullptr;
    }
    return static_cast<const std::uint8_t*>(phys_to_virt(address));
}

void stop_other_cpus() {
    if (online_cpu_count() > 1) {
        lapic::send_nmi_to_others();  // their NMI handler panics and halts quietly
    }
}

// The legacy PICs would deliver timer interrupts at vectors that mean CPU exceptions; the
// kernel uses the local APICs only, so the PICs are remapped out of the way and masked.
void disable_legacy_pics() {
    cpu::out8(0x20, 0x11);
    cpu::out8(0xA0, 0x11);
    cpu::out8(0x21, 0x20);
    cpu::out8(0xA1, 0x28);
    cpu::out8(0x21, 0x04);
    cpu::out8(0xA1, 0x02);
    cpu::out8(0x21, 0x01);
    cpu::out8(0xA1, 0x01);
    cpu::out8(0x21, 0xFF);
    cpu::out8(0xA1, 0xFF);
}

void set_up_power_off(const acpi::Tables& tables) {
    auto power_off = acpi::read_power_off(tables);
    if (!power_off) {
        kprint("acpi: no power-off data ({}); poweroff uses QEMU's fixed ports\n",
               acpi::to_string(power_off.error()));
        return;
    }
    const acpi::PowerOff& p = power_off.value();
    power::set_acpi_sleep_control(
        {p.pm1a_control, p.pm1b_control, p.slp_typ_a, p.slp_typ_b, p.smi_command, p.acpi_enable});
}

bool read_madt(const mm::BootInfo& boot, const acpi::PhysicalMemory& memory) {
    std::span<const std::uint8_t> copy{boot.rsdp.bytes, boot.rsdp.length};
    auto rsdp = acpi::find_rsdp(copy, memory);
    if (!rsdp) {
        kprint("smp: no ACPI tables ({}); running on the boot CPU alone\n",
               acpi::to_string(rsdp.error()));
        return false;
    }
    auto tables = acpi::Tables::open(memory, rsdp.value());
    if (!tables) {
        kprint("smp: ACPI root table unusable ({}); running on the boot CPU alone\n",
               acpi::to_string(tables.error()));
        return false;
    }
    if (tables.value().xsdt_rejected()) {
        kprint("acpi: XSDT rejected ({}); using the RSDT\n",
               acpi::to_string(tables.value().xsdt_error()));
    }
    set_up_power_off(tables.value());
    auto table = tables.value().find(acpi::kMadtSignature);
    if (!table) {
        kprint("smp: no usable MADT ({}); running on the boot CPU alone\n",
               acpi::to_string(table.error()));
        return false;
    }
    auto bytes = tables.value().map(table.value());
    if (!bytes) {
        kprint("smp: MADT unreadable ({}); running on the boot CPU alone\n",
               acpi::to_string(bytes.error()));
        return false;
    }
    auto status = acpi::parse_madt(bytes.value(), madt);
    for (const acpi::MadtProblem& problem : madt.problems) {
        kprint("acpi: MADT entry at byte {}: {}: {}\n", problem.offset,
               acpi::to_string(problem.kind), problem.description);
    }
    if (!status) {
        kprint("smp: MADT invalid ({}); running on the boot CPU alone\n",
               acpi::to_string(status.error()));
        return false;
    }
    return true;
}

}  // namespace

void init(const mm::BootInfo& boot, mm::PhysAddr trampoline_page) {
    PerCpu& boot_cpu = cpu(0);
    set_panic_stop_hook(stop_other_cpus);
    disable_legacy_pics();
    init_work_dispatch();

    acpi::PhysicalMemory memory{map_physical, nullptr};
    smp_report.acpi = read_madt(boot, memory);
    std::uint64_t lapic_address =
        smp_report.acpi ? madt.local_apic_address : (cpu::read_msr(cpu::kMsrApicBase) & ~0xFFFull);
    lapic::init_boot_cpu(lapic_address);
    lapic::enable_on_this_cpu();
    boot_cpu.apic_id = lapic::id();
    boot_cpu.tsc_at_online = cpu::read_tsc();
    mark_online(boot_cpu);
    lapic::calibrate_timer();
    kprint(
        "smp: boot CPU has APIC id {}; local APIC in {} mode; its timer runs at {} kHz "
        "(divided by 16, calibrated against the TSC)\n",
        boot_cpu.apic_id, lapic::x2apic_mode() ? "x2APIC" : "xAPIC", lapic::timer_ticks_per_ms());

    std::size_t count = 0;
    if (smp_report.acpi) {
        for (const acpi::Cpu& entry : madt.cpus) {
            ++smp_report.listed;
            // Online-capable entries are for hot-plug, which this kernel does not do.
            if (!entry.enabled) {
                continue;
            }
            ++smp_report.enabled;
            if (entry.apic_id == boot_cpu.apic_id) {
                continue;
            }
            if (count + 1 >= kMaxCpus) {
                ++smp_report.ignored;
                kprint(
                    "smp: CPU with APIC id {} is beyond the kernel's limit of {} CPUs; "
                    "not started\n",
                    entry.apic_id, kMaxCpus);
                continue;
            }
            to_start[count++] = {entry.apic_id};
        }
    }
    if (count > 0 && trampoline_page == 0) {
        kprint(
            "smp: no free page below 1 MiB for the AP trampoline; running on the boot CPU "
            "alone\n");
        count = 0;
    }
    std::uint64_t started = tsc::now_ns();
    std::uint32_t up =
        count > 0 ? start_application_processors(to_start, count, trampoline_page) : 0;
    smp_report.failed = std::uint32_t(count) - up;
    kprint(
        "smp: {} CPUs online ({} listed in the MADT, {} enabled, {} failed, {} over the "
        "limit); start-up took {} ms\n",
        online_cpu_count(), smp_report.listed, smp_report.enabled, smp_report.failed,
        smp_report.ignored, (tsc::now_ns() - started) / 1000000);
}

const SmpReport& report() {
    return smp_report;
}

}  // namespace smp
