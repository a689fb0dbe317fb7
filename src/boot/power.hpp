// Ending a run: under test, the isa-debug-exit device turns a byte written to port 0xf4 into
// QEMU's exit status ((value << 1) | 1), so the harness can tell a clean exit (33) from a panic
// (35) and from a triple fault (QEMU exits 0 with -no-reboot). Elsewhere the port is unused and
// the write is harmless, and ACPI (or QEMU's fixed ports) powers the machine off.
#pragma once

#include <cstdint>

namespace power {

inline constexpr std::uint8_t kExitSuccess = 0x10;  // QEMU exit status 33
inline constexpr std::uint8_t kExitPanic = 0x11;    // QEMU exit status 35

void exit_qemu(std::uint8_t code);

// Set once ACPI's FADT and \_S5 are known; without them power_off() falls back to QEMU's ports.
struct AcpiSleepControl {
    std::uint16_t pm1a_control;
    std::uint16_t pm1b_control;
    std::uint16_t sleep_type_a;
    std::uint16_t sleep_type_b;
    std::uint16_t smi_command;  // 0: no way (or no need) to switch the firmware to ACPI mode
    std::uint8_t acpi_enable;   // what to write to smi_command to switch
};
void set_acpi_sleep_control(const AcpiSleepControl& control);

[[noreturn]] void power_off();
[[noreturn]] void reboot();

}  // namespace power
