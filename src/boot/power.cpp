#include "boot/power.hpp"

#include "boot/console.hpp"
#include "boot/cpu.hpp"

namespace power {
namespace {

constexpr std::uint16_t kDebugExitPort = 0xF4;
bool acpi_known = false;
AcpiSleepControl acpi{};

}  // namespace

void exit_qemu(std::uint8_t code) {
    cpu::out8(kDebugExitPort, code);
}

void set_acpi_sleep_control(const AcpiSleepControl& control) {
    acpi = control;
    acpi_known = true;
}

void power_off() {
    kprint("Powering off.\n");
    exit_qemu(kExitSuccess);
    cpu::disable_interrupts();
    constexpr std::uint16_t kSleepEnable = 1 << 13;
    if (acpi_known) {
        cpu::out16(acpi.pm1a_control, std::uint16_t((acpi.sleep_type_a << 10) | kSleepEnable));
        if (acpi.pm1b_control != 0) {
            cpu::out16(acpi.pm1b_control, std::uint16_t((acpi.sleep_type_b << 10) | kSleepEnable));
        }
    }
    // QEMU with SeaBIOS puts the ACPI PM block at 0x600 (pc and q35); older QEMU used 0xB004.
    cpu::out16(0x604, 0x2000);
    cpu::out16(0xB004, 0x2000);
    kprint("Power-off failed: halting instead.\n");
    cpu::halt_forever();
}

void reboot() {
    kprint("Rebooting.\n");
    cpu::disable_interrupts();
    // The keyboard controller's reset line: wait until its input buffer is empty, then pulse.
    for (int i = 0; i < 100000 && (cpu::in8(0x64) & 0x02) != 0; ++i) {
        cpu::pause();
    }
    cpu::out8(0x64, 0xFE);
    // If that did not work, a triple fault resets any PC: load an empty IDT and trap.
    struct [[gnu::packed]] {
        std::uint16_t limit = 0;
        std::uint64_t base = 0;
    } empty_idt;
    asm volatile("lidt %0; int3" : : "m"(empty_idt));
    cpu::halt_forever();
}

}  // namespace power
