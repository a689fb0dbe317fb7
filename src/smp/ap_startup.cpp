#include "smp/ap_startup.hpp"

#include <atomic>
#include <cstddef>

#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/direct_map.hpp"
#include "arch/x86_64/gdt.hpp"
#include "arch/x86_64/tsc.hpp"
#include "kernel/console.hpp"
#include "kernel/idt.hpp"
#include "kernel/kernel_memory.hpp"
#include "kernel/kernel_vm.hpp"
#include "kernel/paging.hpp"
#include "kernel/panic.hpp"
#include "kernel/percpu.hpp"
#include "lib/string.hpp"
#include "smp/idle.hpp"
#include "smp/local_apic.hpp"

extern "C" char trampoline_start[], trampoline_end[], trampoline_block[], trampoline_gdt[],
    trampoline_gdt_pointer[], trampoline_long_mode[], trampoline_long_mode_target[];

namespace smp {
namespace {

// Read by trampoline.S at fixed offsets: keep the two in step.
struct alignas(64) ApBootBlock {
    std::uint32_t page_table_root;  // physical, below 4 GiB: loaded into CR3 from 32-bit EAX
    std::uint32_t efer;
    std::uint64_t stack_top;
    std::uint64_t entry;
    std::uint32_t cpu_index;
    std::uint32_t reserved[7];
};
static_assert(offsetof(ApBootBlock, page_table_root) == 0);
static_assert(offsetof(ApBootBlock, efer) == 4);
static_assert(offsetof(ApBootBlock, stack_top) == 8);
static_assert(offsetof(ApBootBlock, entry) == 16);
static_assert(offsetof(ApBootBlock, cpu_index) == 24);
static_assert(sizeof(ApBootBlock) == 64);

constexpr std::size_t kStackFrames = 4;        // 16 KiB kernel stack per AP
constexpr std::size_t kDoubleFaultFrames = 1;  // its IST stack for double faults
// Intel SDM and the MultiProcessor Specification: wait 10 ms after INIT, about 200 us after
// each SIPI.
constexpr std::uint64_t kInitDelayUs = 10000;
constexpr std::uint64_t kStartupDelayUs = 200;
// How long an AP may take from SIPI to "online" before it is given up. Generous: under
// emulation with many virtual CPUs on few host cores an AP may wait for a host thread.
constexpr std::uint64_t kOnlineTimeoutUs = 2000000;

std::uint64_t offset_of(const char* symbol) {
    return std::uint64_t(symbol - trampoline_start);
}

template <typename T>
T* in_trampoline(mm::PhysAddr page, const char* symbol) {
    return static_cast<T*>(phys_to_virt(page + offset_of(symbol)));
}

void install_trampoline(mm::PhysAddr page) {
    std::size_t size = std::size_t(trampoline_end - trampoline_start);
    ASSERT(size <= mm::kFrameSize);
    lib::copy_memory(phys_to_virt(page), trampoline_start, size);
    // The GDT pointer and far-jump target hold physical addresses of the copy.
    auto gdt_base = std::uint32_t(page + offset_of(trampoline_gdt));
    lib::copy_memory(in_trampoline<std::uint8_t>(page, trampoline_gdt_pointer) + 2, &gdt_base, 4);
    auto target = std::uint32_t(page + offset_of(trampoline_long_mode));
    lib::copy_memory(in_trampoline<std::uint8_t>(page, trampoline_long_mode_target), &target, 4);
    paging::map_identity(page);
}

bool wait_until_online(PerCpu& block, std::uint64_t timeout_us) {
    std::uint64_t deadline = tsc::now_ns() + timeout_us * 1000;
    while (tsc::now_ns() < deadline) {
        // Acquire pairs with the AP's release store: its set-up is visible once we see it.
        if (block.state.load(std::memory_order_acquire) == CpuState::online) {
            return true;
        }
        cpu::pause();
    }
    return false;
}

bool start_one(std::uint32_t index, std::uint32_t apic_id, mm::PhysAddr page) {
    PerCpu& block = cpu(index);
    block.index = index;
    block.apic_id = apic_id;
    // From the vmalloc area: an unmapped guard gap lies below the stack, so an overflow faults
    // (and the report names the stack) instead of writing over whatever lies below.
    auto stack = kvm::vmalloc(kStackFrames * mm::kFrameSize, vm::RangeKind::stack);
    auto double_fault_stack = kmem::allocate_frames(kDoubleFaultFrames);
    if (!stack || !double_fault_stack) {
        kprint("smp: no memory for the stacks of CPU {} (APIC id {}); not started\n", index,
               apic_id);
        return false;
    }
    block.stack_top =
        reinterpret_cast<std::uint64_t>(stack.value()) + kStackFrames * mm::kFrameSize;
    block.double_fault_stack_top =
        reinterpret_cast<std::uint64_t>(phys_to_virt(double_fault_stack.value())) +
        kDoubleFaultFrames * mm::kFrameSize;
    block.state.store(CpuState::starting, std::memory_order_relaxed);

    auto* boot_block = in_trampoline<ApBootBlock>(page, trampoline_block);
    boot_block->page_table_root = std::uint32_t(paging::kernel_page_table_root());
    boot_block->efer = std::uint32_t(cpu::read_msr(cpu::kMsrEfer));
    boot_block->stack_top = block.stack_top;
    boot_block->entry = reinterpret_cast<std::uint64_t>(&ap_main);
    boot_block->cpu_index = index;
    // The block must be in memory before the SIPI: the IPI is the publication.
    std::atomic_thread_fence(std::memory_order_seq_cst);

    std::uint64_t started = tsc::now_ns();
    lapic::send_init(apic_id);
    lapic::wait_for_delivery();
    tsc::delay_us(kInitDelayUs);
    for (int attempt = 0; attempt < 2; ++attempt) {
        lapic::send_startup(apic_id, std::uint8_t(page >> 12));
        lapic::wait_for_delivery();
        tsc::delay_us(kStartupDelayUs);
        if (block.state.load(std::memory_order_acquire) == CpuState::online) {
            break;  // the second SIPI is only for CPUs that missed the first
        }
    }
    if (!wait_until_online(block, kOnlineTimeoutUs)) {
        // Back into wait-for-SIPI, so it cannot wake up later on the next CPU's block.
        lapic::send_init(apic_id);
        lapic::wait_for_delivery();
        block.state.store(CpuState::failed, std::memory_order_release);
        kprint("smp: CPU {} (APIC id {}) did not come online within {} ms; skipped\n", index,
               apic_id, kOnlineTimeoutUs / 1000);
        return false;
    }
    kprint("smp: CPU {} online (APIC id {}) after {} us\n", index, apic_id,
           (tsc::now_ns() - started) / 1000);
    return true;
}

}  // namespace

std::uint32_t start_application_processors(const CpuToStart* cpus, std::size_t count,
                                           mm::PhysAddr trampoline_page) {
    install_trampoline(trampoline_page);
    std::uint32_t next_index = 1;
    std::uint32_t started = 0;
    for (std::size_t i = 0; i < count; ++i) {
        if (start_one(next_index, cpus[i].apic_id, trampoline_page)) {
            ++next_index;
            ++started;
        }
    }
    paging::unmap_identity(trampoline_page);
    return started;
}

}  // namespace smp
