#include "kernel/tlb_shootdown.hpp"

#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/cpu_limits.hpp"
#include "arch/x86_64/tsc.hpp"
#include "kernel/panic.hpp"
#include "kernel/percpu.hpp"

namespace tlb {
namespace {

void (*ipi_sender)(std::uint32_t) = nullptr;

struct KernelShootdownPlatform {
    static unsigned cpu_index() { return smp::cpu_index(); }
    static unsigned cpu_count() { return smp::online_cpu_count(); }
    static void send_ipi(unsigned cpu) {
        if (ipi_sender != nullptr) {
            ipi_sender(cpu);
        }
    }
    static void flush_page(vm::VirtAddr address) { cpu::invalidate_page(address); }
    static void flush_all() { flush_all_here(); }
    static void relax() { cpu::pause(); }
    static std::uint64_t now_ns() { return tsc::now_ns(); }
    static void stop_point(const char*) {}
    static void report_unresponsive(unsigned cpu, std::uint64_t generation) {
        PANIC("TLB shootdown round {}: CPU {} has not acknowledged it for seconds", generation,
              cpu);
    }
};

constinit vm::Shootdown<KernelShootdownPlatform, smp::kMaxCpus> shootdown;

}  // namespace

void set_ipi_sender(void (*send)(std::uint32_t cpu_index)) {
    ipi_sender = send;
}

void flush(const vm::FlushBatch& batch) {
    shootdown.flush(batch);
}

bool service() {
    return shootdown.service();
}

void join() {
    shootdown.join();
}

void flush_all_here() {
    std::uint64_t cr4 = cpu::read_cr4();
    if ((cr4 & cpu::kCr4GlobalPages) != 0) {
        // Clearing PGE drops every entry, global ones too; setting it again re-enables them.
        cpu::write_cr4(cr4 & ~cpu::kCr4GlobalPages);
        cpu::write_cr4(cr4);
    } else {
        cpu::write_cr3(cpu::read_cr3());
    }
}

vm::ShootdownCounters counters(std::uint32_t cpu_index) {
    return shootdown.counters(cpu_index);
}

vm::ShootdownCounters totals(std::uint32_t cpus) {
    vm::ShootdownCounters sum{};
    for (std::uint32_t i = 0; i < cpus; ++i) {
        vm::ShootdownCounters c = counters(i);
        sum.rounds += c.rounds;
        sum.ipis_sent += c.ipis_sent;
        sum.received += c.received;
        sum.pages_flushed += c.pages_flushed;
        sum.full_flushes += c.full_flushes;
        sum.pages_batched += c.pages_batched;
        sum.wait_ns += c.wait_ns;
    }
    return sum;
}

}  // namespace tlb
