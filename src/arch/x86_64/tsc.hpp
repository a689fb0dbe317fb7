// Time from the TSC, calibrated once against the PIT (a clock of known frequency, 1.193182 MHz).
// Under emulation these are the guest's times, which is what the delays of the start-up
// protocols are specified in.
#pragma once

#include <cstdint>

namespace tsc {

void calibrate();
std::uint64_t tsc_per_microsecond();
std::uint64_t now_ns();
void delay_us(std::uint64_t microseconds);

inline std::uint64_t tsc_to_ns(std::uint64_t ticks) {
    return ticks * 1000 / tsc_per_microsecond();
}

}  // namespace tsc
