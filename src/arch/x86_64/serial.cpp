#include "arch/x86_64/serial.hpp"

#include "arch/x86_64/cpu.hpp"

namespace serial {
namespace {

constexpr std::uint16_t kPort = 0x3F8;
constexpr std::uint16_t kData = kPort + 0;
constexpr std::uint16_t kInterruptEnable = kPort + 1;
constexpr std::uint16_t kFifoControl = kPort + 2;
constexpr std::uint16_t kLineControl = kPort + 3;
constexpr std::uint16_t kModemControl = kPort + 4;
constexpr std::uint16_t kLineStatus = kPort + 5;

constexpr std::uint8_t kDataReady = 0x01;
constexpr std::uint8_t kTransmitEmpty = 0x20;

}  // namespace

void init() {
    cpu::out8(kInterruptEnable, 0x00);
    cpu::out8(kLineControl, 0x80);  // DLAB: the next two writes set the divisor
    cpu::out8(kData, 1);            // 115200 / 1
    cpu::out8(kInterruptEnable, 0);
    cpu::out8(kLineControl, 0x03);   // 8 data bits, no parity, one stop bit
    cpu::out8(kFifoControl, 0xC7);   // FIFO on, cleared, 14-byte receive threshold
    cpu::out8(kModemControl, 0x03);  // DTR and RTS, so a real terminal talks to us
}

void write_char(char c) {
    // Bounded wait: a UART that never drains must not hang a panic report forever.
    for (int i = 0; i < 100000 && (cpu::in8(kLineStatus) & kTransmitEmpty) == 0; ++i) {
        cpu::pause();
    }
    cpu::out8(kData, std::uint8_t(c));
}

int read_char() {
    if ((cpu::in8(kLineStatus) & kDataReady) == 0) {
        return -1;
    }
    return cpu::in8(kData);
}

}  // namespace serial
