#include "smp/idle.hpp"

#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/gdt.hpp"
#include "arch/x86_64/interrupt_frame.hpp"
#include "arch/x86_64/pat.hpp"
#include "arch/x86_64/tsc.hpp"
#include "kernel/console.hpp"
#include "kernel/idt.hpp"
#include "kernel/paging.hpp"
#include "kernel/panic.hpp"
#include "kernel/tlb_shootdown.hpp"
#include "smp/local_apic.hpp"

namespace smp {
namespace {

void on_wake_ipi(InterruptFrame&) {
    this_cpu().wakeups.fetch_add(1, std::memory_order_relaxed);
    lapic::end_of_interrupt();
}

void on_shootdown_ipi(InterruptFrame&) {
    tlb::service();
    lapic::end_of_interrupt();
}

void send_shootdown_ipi(std::uint32_t cpu_index) {
    lapic::send_ipi(cpu(cpu_index).apic_id, lapic::kShootdownVector);
}

void on_spurious(InterruptFrame&) {}  // spurious APIC interrupts take no EOI

[[noreturn]] void idle_loop() {
    PerCpu& self = this_cpu();
    for (;;) {
        // Interrupts off while looking, so a wake-up IPI cannot slip in between the check and
        // the hlt: `sti; hlt` opens the interrupt window only once hlt has begun.
        cpu::disable_interrupts();
        std::uint64_t posted = self.work_posted.load(std::memory_order_acquire);
        if (posted != self.work_done.load(std::memory_order_relaxed)) {
            cpu::enable_interrupts();
            self.work_function(self.index, self.work_context);
            self.work_done.store(posted, std::memory_order_release);
            continue;
        }
        asm volatile("sti; hlt" ::: "memory");
    }
}

}  // namespace

extern "C" [[noreturn]] void ap_main(std::uint32_t cpu_index) {
    PerCpu& self = cpu(cpu_index);
    install_per_cpu(self);
    gdt::load_for_cpu(cpu_index, self.double_fault_stack_top);
    idt::load();
    paging::enable_global_pages();
    pat::program_this_cpu();  // every CPU's PAT must match the boot CPU's
    lapic::enable_on_this_cpu();
    if (lapic::id() != self.apic_id) {
        kprint("smp: CPU {} reports APIC id {}, the MADT said {}\n", cpu_index, lapic::id(),
               self.apic_id);
        self.apic_id = lapic::id();
    }
    self.tsc_at_online = cpu::read_tsc();
    tlb::join();
    mark_online(self);
    idle_loop();
}

void init_work_dispatch() {
    idt::set_handler(lapic::kWakeVector, on_wake_ipi);
    idt::set_handler(lapic::kSpuriousVector, on_spurious);
    idt::set_handler(lapic::kShootdownVector, on_shootdown_ipi);
    tlb::set_ipi_sender(send_shootdown_ipi);
}

void run_on_cpus(std::uint32_t cpu_count, PerCpu::WorkFunction function, void* context) {
    ASSERT(cpu_index() == 0);
    ASSERT(cpu_count >= 1 && cpu_count <= online_cpu_count());
    std::uint64_t targets[kMaxCpus];
    for (std::uint32_t i = 1; i < cpu_count; ++i) {
        PerCpu& other = cpu(i);
        other.work_function = function;
        other.work_context = context;
        targets[i] = other.work_posted.load(std::memory_order_relaxed) + 1;
        // Release: the function and context are visible before the new generation is.
        other.work_posted.store(targets[i], std::memory_order_release);
        lapic::send_ipi(other.apic_id, lapic::kWakeVector);
    }
    function(0, context);
    for (std::uint32_t i = 1; i < cpu_count; ++i) {
        while (cpu(i).work_done.load(std::memory_order_acquire) != targets[i]) {
            tlb::service();  // CPU 0 may wait with interrupts off
            cpu::pause();
        }
    }
}

void run_on_cpu(std::uint32_t index, PerCpu::WorkFunction function, void* context) {
    ASSERT(cpu_index() == 0);
    ASSERT(index < online_cpu_count());
    if (index == 0) {
        function(0, context);
        return;
    }
    PerCpu& other = cpu(index);
    other.work_function = function;
    other.work_context = context;
    std::uint64_t target = other.work_posted.load(std::memory_order_relaxed) + 1;
    other.work_posted.store(target, std::memory_order_release);
    lapic::send_ipi(other.apic_id, lapic::kWakeVector);
    while (other.work_done.load(std::memory_order_acquire) != target) {
        cpu::pause();
    }
}

}  // namespace smp
