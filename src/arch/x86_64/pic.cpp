#include "arch/x86_64/pic.hpp"

#include <cstdint>

#include "arch/x86_64/cpu.hpp"

namespace pic {
namespace {

constexpr std::uint16_t kPrimaryCommand = 0x20;
constexpr std::uint16_t kPrimaryData = 0x21;
constexpr std::uint16_t kSecondaryCommand = 0xA0;
constexpr std::uint16_t kSecondaryData = 0xA1;

}  // namespace

void disable() {
    // ICW1: initialise, ICW4 follows. ICW2: vector bases. ICW3: the secondary sits on line 2.
    // ICW4: 8086 mode. Then mask every line.
    cpu::out8(kPrimaryCommand, 0x11);
    cpu::out8(kSecondaryCommand, 0x11);
    cpu::out8(kPrimaryData, 0x20);
    cpu::out8(kSecondaryData, 0x28);
    cpu::out8(kPrimaryData, 0x04);
    cpu::out8(kSecondaryData, 0x02);
    cpu::out8(kPrimaryData, 0x01);
    cpu::out8(kSecondaryData, 0x01);
    cpu::out8(kPrimaryData, 0xFF);
    cpu::out8(kSecondaryData, 0xFF);
}

}  // namespace pic
