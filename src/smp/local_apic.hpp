// The local APIC of the running CPU, in xAPIC mode (registers in a 4 KiB MMIO page) or x2APIC
// mode (registers as MSRs, 32-bit APIC ids, needed beyond 255 CPUs). The mode is chosen once on
// the boot CPU and every AP follows it.
#pragma once

#include <cstdint>

namespace lapic {

inline constexpr std::uint8_t kSpuriousVector = 0xFF;
inline constexpr std::uint8_t kWakeVector = 0xF0;       // "look at your work slot"
inline constexpr std::uint8_t kShootdownVector = 0xF1;  // "flush what tlb::service says"
inline constexpr std::uint8_t kTimerVector = 0xEF;

// On the boot CPU: picks the mode (x2APIC when the CPU has it) and the MMIO base.
void init_boot_cpu(std::uint64_t mmio_physical);
// On every CPU, the boot CPU included: enables the APIC in the chosen mode.
void enable_on_this_cpu();

bool x2apic_mode();
std::uint32_t id();
void end_of_interrupt();

void send_ipi(std::uint32_t apic_id, std::uint8_t vector);
void send_nmi_to_others();
void send_init(std::uint32_t apic_id);
void send_startup(std::uint32_t apic_id, std::uint8_t page_number);
// Waits (bounded) until the last IPI left this APIC; false if it never did.
bool wait_for_delivery();

// The APIC timer, calibrated against the TSC: ticks of the timer per millisecond.
void calibrate_timer();
std::uint64_t timer_ticks_per_ms();

}  // namespace lapic
