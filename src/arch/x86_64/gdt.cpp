#include "arch/x86_64/gdt.hpp"

#include <cstddef>

#include "arch/x86_64/cpu_limits.hpp"

namespace gdt {
namespace {

struct [[gnu::packed]] TaskStateSegment {
    std::uint32_t reserved0;
    std::uint64_t rsp[3];
    std::uint64_t reserved1;
    std::uint64_t ist[7];
    std::uint64_t reserved2;
    std::uint16_t reserved3;
    std::uint16_t io_map_base;
};
static_assert(sizeof(TaskStateSegment) == 104);
static_assert(offsetof(TaskStateSegment, ist) == 36);

struct [[gnu::packed]] Pointer {
    std::uint16_t limit;
    std::uint64_t base;
};

struct alignas(64) CpuTables {
    std::uint64_t entries[5];  // null, code, data, TSS (two slots in long mode)
    TaskStateSegment tss;
};

CpuTables tables[smp::kMaxCpus];

}  // namespace

void load_for_cpu(std::uint32_t cpu_index, std::uint64_t double_fault_stack_top) {
    CpuTables& t = tables[cpu_index];
    t.tss = {};
    t.tss.ist[0] = double_fault_stack_top;
    t.tss.io_map_base = sizeof(TaskStateSegment);  // no I/O permission bitmap

    auto base = reinterpret_cast<std::uint64_t>(&t.tss);
    std::uint64_t limit = sizeof(TaskStateSegment) - 1;
    t.entries[0] = 0;
    t.entries[1] = 0x00AF9A000000FFFF;  // 64-bit code, ring 0
    t.entries[2] = 0x00CF92000000FFFF;  // data, ring 0
    t.entries[3] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (std::uint64_t{0x89} << 40) |
                   (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
    t.entries[4] = base >> 32;

    Pointer pointer{sizeof(t.entries) - 1, reinterpret_cast<std::uint64_t>(t.entries)};
    asm volatile(
        "lgdt %0\n"
        "pushq %1\n"
        "leaq 1f(%%rip), %%rax\n"
        "pushq %%rax\n"
        "lretq\n"  // reloads CS from the new table
        "1:\n"
        "movw %2, %%ax\n"
        "movw %%ax, %%ds\n"
        "movw %%ax, %%es\n"
        "movw %%ax, %%ss\n"
        "ltr %3\n"
        :
        : "m"(pointer), "i"(kKernelCode), "i"(kKernelData), "r"(kTss)
        : "rax", "memory");
}

}  // namespace gdt
