#include "smp/smp_init.hpp"

#include "acpi/madt.hpp"
#include "acpi/parser.hpp"
#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/cpu_limits.hpp"
#include "arch/x86_64/tsc.hpp"
#include "kernel/console.hpp"
#include "kernel/panic.hpp"
#include "kernel/percpu.hpp"
#include "smp/ap_startup.hpp"
#include "smp/idle.hpp"
#include "smp/local_apic.hpp"

namespace smp {
namespace {

SmpReport smp_report;
acpi::MadtInfo madt;  // 40 KiB: static, not on the boot stack
CpuToStart to_start[kMaxCpus];

void stop_other_cpus() {
    if (online_cpu_count() > 1) {
        lapic::send_nmi_to_others();  // their NMI handler panics and halts quietly
    }
}

bool read_madt(const acpi::Tables* tables) {
    if (tables == nullptr) {
        kprint("smp: no ACPI tables; running on the boot CPU alone\n");
        return false;
    }
    auto table = tables->find(acpi::kMadtSignature);
    if (!table) {
        kprint("smp: no usable MADT ({}); running on the boot CPU alone\n",
               acpi::to_string(table.error()));
        return false;
    }
    auto bytes = tables->map(table.value());
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

void init(const acpi::Tables* tables, mm::PhysAddr trampoline_page) {
    PerCpu& boot_cpu = cpu(0);
    set_panic_stop_hook(stop_other_cpus);
    init_work_dispatch();

    smp_report.acpi = read_madt(tables);
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
