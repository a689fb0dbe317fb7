#include "arch/x86_64/ps2_keyboard.hpp"

#include "arch/x86_64/cpu.hpp"

namespace ps2 {
namespace {

constexpr std::uint16_t kData = 0x60;
constexpr std::uint16_t kStatus = 0x64;
constexpr std::uint8_t kOutputFull = 0x01;
constexpr std::uint8_t kFromAuxiliary = 0x20;

}  // namespace

int read_scancode() {
    std::uint8_t status = cpu::in8(kStatus);
    if ((status & kOutputFull) == 0) {
        return -1;
    }
    std::uint8_t byte = cpu::in8(kData);
    return (status & kFromAuxiliary) != 0 ? -1 : byte;
}

}  // namespace ps2
