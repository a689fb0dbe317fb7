// Thin wrappers over the instructions the kernel needs: port I/O, MSRs, control registers.
// All hardware access of this kind lives in src/boot/ and src/smp/, never in src/mm/.
#pragma once

#include <cstdint>

namespace cpu {

inline void out8(std::uint16_t port, std::uint8_t value) {
    asm volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}
inline void out16(std::uint16_t port, std::uint16_t value) {
    asm volatile("outw %0, %1" : : "a"(value), "Nd"(port));
}
inline void out32(std::uint16_t port, std::uint32_t value) {
    asm volatile("outl %0, %1" : : "a"(value), "Nd"(port));
}
inline std::uint8_t in8(std::uint16_t port) {
    std::uint8_t value;
    asm volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}
inline std::uint16_t in16(std::uint16_t port) {
    std::uint16_t value;
    asm volatile("inw %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}

inline std::uint64_t read_msr(std::uint32_t msr) {
    std::uint32_t low, high;
    asm volatile("rdmsr" : "=a"(low), "=d"(high) : "c"(msr));
    return (std::uint64_t{high} << 32) | low;
}
inline void write_msr(std::uint32_t msr, std::uint64_t value) {
    asm volatile("wrmsr" : : "c"(msr), "a"(std::uint32_t(value)), "d"(std::uint32_t(value >> 32)));
}

inline constexpr std::uint32_t kMsrEfer = 0xC0000080;
inline constexpr std::uint32_t kMsrGsBase = 0xC0000101;
inline constexpr std::uint32_t kMsrApicBase = 0x1B;

struct CpuidResult {
    std::uint32_t eax, ebx, ecx, edx;
};
inline CpuidResult cpuid(std::uint32_t leaf, std::uint32_t subleaf = 0) {
    CpuidResult r;
    asm volatile("cpuid"
                 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                 : "a"(leaf), "c"(subleaf));
    return r;
}

// MAXPHYADDR: how many bits of physical address the CPU can use (CPUID 0x80000008, EAX[7:0]).
// CPUs without that leaf address 36 bits (Intel SDM, section 4.1.4).
inline unsigned physical_address_bits() {
    if (cpuid(0x80000000).eax < 0x80000008) {
        return 36;
    }
    return cpuid(0x80000008).eax & 0xFF;
}

inline std::uint64_t read_cr2() {
    std::uint64_t value;
    asm volatile("mov %%cr2, %0" : "=r"(value));
    return value;
}
inline std::uint64_t read_cr3() {
    std::uint64_t value;
    asm volatile("mov %%cr3, %0" : "=r"(value));
    return value;
}
inline void write_cr3(std::uint64_t value) {
    asm volatile("mov %0, %%cr3" : : "r"(value) : "memory");
}
inline std::uint64_t read_cr4() {
    std::uint64_t value;
    asm volatile("mov %%cr4, %0" : "=r"(value));
    return value;
}
inline void write_cr4(std::uint64_t value) {
    asm volatile("mov %0, %%cr4" : : "r"(value) : "memory");
}
inline constexpr std::uint64_t kCr4GlobalPages = 1u << 7;  // PGE

// Drops this CPU's TLB entry for the page holding `address` (global or not, any page size) and
// the paging-structure caches.
inline void invalidate_page(std::uint64_t address) {
    asm volatile("invlpg (%0)" : : "r"(address) : "memory");
}

inline std::uint64_t read_flags() {
    std::uint64_t flags;
    asm volatile("pushfq; popq %0" : "=r"(flags));
    return flags;
}

inline std::uint64_t read_tsc() {
    std::uint32_t low, high;
    asm volatile("rdtsc" : "=a"(low), "=d"(high));
    return (std::uint64_t{high} << 32) | low;
}

inline void pause() {
    asm volatile("pause");
}
inline void disable_interrupts() {
    asm volatile("cli" ::: "memory");
}
inline void enable_interrupts() {
    asm volatile("sti" ::: "memory");
}
inline bool interrupts_enabled() {
    return (read_flags() & (1u << 9)) != 0;
}

[[noreturn]] inline void halt_forever() {
    for (;;) {
        asm volatile("cli; hlt");
    }
}

}  // namespace cpu
