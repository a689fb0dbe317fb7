#include "kernel/idt.hpp"

#include <cstddef>

#include "arch/x86_64/gdt.hpp"
#include "arch/x86_64/interrupt_frame.hpp"
#include "kernel/fault_probe.hpp"
#include "kernel/panic.hpp"

extern "C" char isr_stubs[];

namespace idt {
namespace {

struct [[gnu::packed]] Gate {
    std::uint16_t offset_low;
    std::uint16_t selector;
    std::uint8_t ist;
    std::uint8_t type_attributes;
    std::uint16_t offset_middle;
    std::uint32_t offset_high;
    std::uint32_t reserved;
};
static_assert(sizeof(Gate) == 16);

struct [[gnu::packed]] Pointer {
    std::uint16_t limit;
    std::uint64_t base;
};
static_assert(sizeof(Pointer) == 10);

constexpr std::uint8_t kInterruptGate = 0x8E;  // present, ring 0, interrupts off on entry

alignas(16) Gate table[256];
Handler handlers[256];

}  // namespace

void init() {
    for (unsigned vector = 0; vector < 256; ++vector) {
        auto address = reinterpret_cast<std::uint64_t>(isr_stubs + 16 * vector);
        Gate& gate = table[vector];
        gate.offset_low = std::uint16_t(address);
        gate.selector = gdt::kKernelCode;
        gate.ist = vector == 8 ? kDoubleFaultStack : 0;
        gate.type_attributes = kInterruptGate;
        gate.offset_middle = std::uint16_t(address >> 16);
        gate.offset_high = std::uint32_t(address >> 32);
        gate.reserved = 0;
    }
    load();
}

void load() {
    Pointer pointer{sizeof(table) - 1, reinterpret_cast<std::uint64_t>(table)};
    asm volatile("lidt %0" : : "m"(pointer));
}

void set_handler(std::uint8_t vector, Handler handler) {
    ASSERT(vector >= 32);
    handlers[vector] = handler;
}

}  // namespace idt

extern "C" void interrupt_dispatch(InterruptFrame* frame) {
    if (frame->vector < 32) {
        if (frame->vector == 14 && fault_probe::recover(*frame)) {
            return;
        }
        panic_from_exception(*frame);
    }
    idt::Handler handler = idt::handlers[frame->vector];
    if (handler == nullptr) {
        PANIC("interrupt on vector {} with no handler", frame->vector);
    }
    handler(*frame);
}
