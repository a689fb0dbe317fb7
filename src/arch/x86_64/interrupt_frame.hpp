#pragma once

#include <cstddef>
#include <cstdint>

// What the assembly stubs in isr.S push, in memory order from the lowest address: the general
// registers (pushed last, so first here), then vector and error code, then what the CPU pushed.
struct InterruptFrame {
    std::uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    std::uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    std::uint64_t vector;
    std::uint64_t error_code;
    std::uint64_t rip, cs, rflags, rsp, ss;
};

// isr.S hard-codes these offsets.
static_assert(offsetof(InterruptFrame, rax) == 14 * 8);
static_assert(offsetof(InterruptFrame, vector) == 15 * 8);
static_assert(offsetof(InterruptFrame, rip) == 17 * 8);
static_assert(sizeof(InterruptFrame) == 22 * 8);
