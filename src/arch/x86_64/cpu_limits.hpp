#pragma once

#include <cstdint>

namespace smp {

// QEMU's software emulation goes up to 255 CPUs and x2APIC machines beyond; 256 keeps per-CPU
// arrays small (256 x 64-byte cursors = 16 KiB) while covering every configuration we test.
inline constexpr std::uint32_t kMaxCpus = 256;

}  // namespace smp
