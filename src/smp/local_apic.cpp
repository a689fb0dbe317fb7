#include "smp/local_apic.hpp"

#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/direct_map.hpp"
#include "arch/x86_64/tsc.hpp"

namespace lapic {
namespace {

// Register offsets in the xAPIC page; in x2APIC mode the MSR is 0x800 + offset / 16.
constexpr std::uint32_t kId = 0x020;
constexpr std::uint32_t kEndOfInterrupt = 0x0B0;
constexpr std::uint32_t kSpurious = 0x0F0;
constexpr std::uint32_t kInterruptCommandLow = 0x300;
constexpr std::uint32_t kInterruptCommandHigh = 0x310;
constexpr std::uint32_t kLvtTimer = 0x320;
constexpr std::uint32_t kTimerInitialCount = 0x380;
constexpr std::uint32_t kTimerCurrentCount = 0x390;
constexpr std::uint32_t kTimerDivide = 0x3E0;

constexpr std::uint64_t kBaseEnable = 1u << 11;
constexpr std::uint64_t kBaseX2Apic = 1u << 10;

constexpr std::uint32_t kDeliveryNmi = 0b100 << 8;
constexpr std::uint32_t kDeliveryInit = 0b101 << 8;
constexpr std::uint32_t kDeliveryStartup = 0b110 << 8;
constexpr std::uint32_t kDeliveryPending = 1u << 12;
constexpr std::uint32_t kLevelAssert = 1u << 14;
constexpr std::uint32_t kAllExcludingSelf = 0b11 << 18;
constexpr std::uint32_t kMasked = 1u << 16;

bool use_x2apic = false;
volatile std::uint32_t* mmio = nullptr;
std::uint64_t ticks_per_ms = 0;

std::uint32_t read(std::uint32_t reg) {
    if (use_x2apic) {
        return std::uint32_t(cpu::read_msr(0x800 + reg / 16));
    }
    return mmio[reg / 4];
}

void write(std::uint32_t reg, std::uint32_t value) {
    if (use_x2apic) {
        cpu::write_msr(0x800 + reg / 16, value);
    } else {
        mmio[reg / 4] = value;
    }
}

void send_command(std::uint32_t destination, std::uint32_t command) {
    if (use_x2apic) {
        // One 64-bit write; the destination is a full 32-bit x2APIC id.
        cpu::write_msr(0x800 + kInterruptCommandLow / 16,
                       (std::uint64_t{destination} << 32) | command);
    } else {
        write(kInterruptCommandHigh, destination << 24);
        write(kInterruptCommandLow, command);  // this write sends the IPI
    }
}

}  // namespace

void init_boot_cpu(std::uint64_t mmio_physical) {
    use_x2apic = (cpu::cpuid(1).ecx & (1u << 21)) != 0;
    mmio = static_cast<volatile std::uint32_t*>(phys_to_virt(mmio_physical));
}

void enable_on_this_cpu() {
    std::uint64_t base = cpu::read_msr(cpu::kMsrApicBase) | kBaseEnable;
    if (use_x2apic) {
        base |= kBaseX2Apic;
    }
    cpu::write_msr(cpu::kMsrApicBase, base);
    // Software-enable with the spurious vector; spurious interrupts need no EOI.
    write(kSpurious, (1u << 8) | kSpuriousVector);
    write(kLvtTimer, kMasked);
}

bool x2apic_mode() {
    return use_x2apic;
}

std::uint32_t id() {
    return use_x2apic ? read(kId) : read(kId) >> 24;
}

void end_of_interrupt() {
    write(kEndOfInterrupt, 0);
}

void send_ipi(std::uint32_t apic_id, std::uint8_t vector) {
    send_command(apic_id, vector);
}

void send_nmi_to_others() {
    send_command(0, kAllExcludingSelf | kDeliveryNmi);
}

void send_init(std::uint32_t apic_id) {
    send_command(apic_id, kDeliveryInit | kLevelAssert);
}

void send_startup(std::uint32_t apic_id, std::uint8_t page_number) {
    send_command(apic_id, kDeliveryStartup | page_number);
}

bool wait_for_delivery() {
    if (use_x2apic) {
        return true;  // x2APIC has no delivery-status bit: writes complete synchronously
    }
    for (int i = 0; i < 100000; ++i) {
        if ((read(kInterruptCommandLow) & kDeliveryPending) == 0) {
            return true;
        }
        cpu::pause();
    }
    return false;
}

void calibrate_timer() {
    write(kTimerDivide, 0b0011);  // divide by 16
    write(kLvtTimer, kMasked);
    write(kTimerInitialCount, 0xFFFFFFFF);
    tsc::delay_us(10000);
    std::uint32_t elapsed = 0xFFFFFFFF - read(kTimerCurrentCount);
    write(kTimerInitialCount, 0);
    ticks_per_ms = elapsed / 10;
}

std::uint64_t timer_ticks_per_ms() {
    return ticks_per_ms;
}

}  // namespace lapic
