// Ending a run: under test, the isa-debug-exit device turns a byte written to port 0xf4 into
// QEMU's exit status ((value << 1) | 1), so the harness can tell a clean exit (33) from a panic
// (35) and from a triple fault (QEMU exits 0 with -no-reboot). Elsewhere the port is unused and
// the write is harmless, and ACPI (or QEMU's fixed ports) powers the machine off.
#pragma once

#include <cstdint>

#include "acpi/power.hpp"

namespace power {

inline constexpr std::uint8_t kExitSuccess = 0x10;  // QEMU exit status 33
inline constexpr std::uint8_t kExitPanic = 0x11;    // QEMU exit status 35

void exit_qemu(std::uint8_t code);

// Set once ACPI's FADT and \_S5 are known; without them power_off() falls back to QEMU's ports.
void use_acpi_power_off(const acpi::PowerOff& power_off);

[[noreturn]] void power_off();
[[noreturn]] void reboot();

}  // namespace power
