#include "arch/x86_64/tsc.hpp"

#include "arch/x86_64/cpu.hpp"

namespace tsc {
namespace {

constexpr std::uint32_t kPitHz = 1193182;
std::uint64_t ticks_per_us = 1000;  // a guess that keeps delays non-zero before calibration
std::uint64_t boot_tsc = 0;

// Counts TSC ticks across `milliseconds` measured by PIT channel 2 in one-shot mode, which needs
// no interrupt: the channel's output bit in port 0x61 goes high when the count runs out.
std::uint64_t measure(std::uint32_t milliseconds) {
    std::uint32_t count = kPitHz * milliseconds / 1000;
    std::uint8_t gate = cpu::in8(0x61);
    cpu::out8(0x61, std::uint8_t((gate & ~0x02) | 0x01));  // gate on, speaker off
    cpu::out8(0x43, 0xB0);                                 // channel 2, lobyte/hibyte, mode 0
    cpu::out8(0x42, std::uint8_t(count));
    cpu::out8(0x42, std::uint8_t(count >> 8));
    // Restarting the gate loads the count.
    gate = cpu::in8(0x61);
    cpu::out8(0x61, std::uint8_t(gate & ~0x01));
    cpu::out8(0x61, std::uint8_t(gate | 0x01));
    std::uint64_t start = cpu::read_tsc();
    while ((cpu::in8(0x61) & 0x20) == 0) {
        cpu::pause();
    }
    return cpu::read_tsc() - start;
}

}  // namespace

void calibrate() {
    boot_tsc = cpu::read_tsc();
    std::uint64_t ticks = measure(10);
    ticks_per_us = ticks / 10000;
    if (ticks_per_us == 0) {
        ticks_per_us = 1;
    }
}

std::uint64_t tsc_per_microsecond() {
    return ticks_per_us;
}

std::uint64_t now_ns() {
    return tsc_to_ns(cpu::read_tsc() - boot_tsc);
}

void delay_us(std::uint64_t microseconds) {
    std::uint64_t end = cpu::read_tsc() + microseconds * ticks_per_us;
    while (cpu::read_tsc() < end) {
        cpu::pause();
    }
}

}  // namespace tsc
