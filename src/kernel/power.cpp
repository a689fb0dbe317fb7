#include "kernel/power.hpp"

#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/tsc.hpp"
#include "kernel/console.hpp"

namespace power {
namespace {

constexpr std::uint16_t kDebugExitPort = 0xF4;
bool acpi_known = false;
acpi::PowerOff acpi_power_off{};

constexpr std::uint16_t kSciEnable = 1 << 0;
constexpr std::uint64_t kPowerOffGraceUs = 500000;
constexpr std::uint16_t kSleepTypeMask = 7 << acpi::kPm1SleepTypeShift;

// Firmware that starts in legacy mode ignores the sleep registers until the OS asks for ACPI
// mode through the SMI command port; SCI_EN in PM1a_CNT tells which mode we are in.
void enter_acpi_mode() {
    const acpi::PowerOff& ports = acpi_power_off;
    if ((cpu::in16(ports.pm1a_control) & kSciEnable) != 0 || ports.smi_command == 0) {
        return;
    }
    cpu::out8(ports.smi_command, ports.acpi_enable);
    for (int i = 0; i < 1000000 && (cpu::in16(ports.pm1a_control) & kSciEnable) == 0; ++i) {
        cpu::pause();
    }
}

// Read-modify-write: the other bits of PM1_CNT (SCI_EN among them) must keep their values.
void write_sleep(std::uint16_t port, std::uint8_t sleep_type) {
    std::uint16_t value = cpu::in16(port) & ~kSleepTypeMask;
    cpu::out16(port, std::uint16_t(value | acpi::sleep_control_value(sleep_type)));
}

}  // namespace

void exit_qemu(std::uint8_t code) {
    cpu::out8(kDebugExitPort, code);
}

void use_acpi_power_off(const acpi::PowerOff& power_off) {
    acpi_power_off = power_off;
    acpi_known = true;
}

void power_off() {
    kprint("Powering off.\n");
    exit_qemu(kExitSuccess);
    cpu::disable_interrupts();
    if (acpi_known) {
        enter_acpi_mode();
        write_sleep(acpi_power_off.pm1a_control, acpi_power_off.slp_typ_a);
        if (acpi_power_off.pm1b_control != 0) {
            write_sleep(acpi_power_off.pm1b_control, acpi_power_off.slp_typ_b);
        }
        // The machine may take a moment to act (QEMU handles the request in its main loop,
        // while this CPU keeps running): wait before trying anything else.
        tsc::delay_us(kPowerOffGraceUs);
    }
    // QEMU with SeaBIOS puts the ACPI PM block at 0x600 (pc and q35); older QEMU used 0xB004.
    cpu::out16(0x604, 0x2000);
    cpu::out16(0xB004, 0x2000);
    tsc::delay_us(kPowerOffGraceUs);
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
