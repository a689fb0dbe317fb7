#include "arch/x86_64/vga.hpp"

#include <cstdint>

#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/direct_map.hpp"

namespace vga {
namespace {

constexpr int kColumns = 80;
constexpr int kRows = 25;
constexpr std::uint16_t kAttribute = 0x07 << 8;  // light grey on black

volatile std::uint16_t* screen() {
    return static_cast<volatile std::uint16_t*>(phys_to_virt(0xB8000));
}

int column = 0;
int row = 0;

void scroll() {
    volatile std::uint16_t* cells = screen();
    for (int i = 0; i < (kRows - 1) * kColumns; ++i) {
        cells[i] = cells[i + kColumns];
    }
    for (int i = (kRows - 1) * kColumns; i < kRows * kColumns; ++i) {
        cells[i] = kAttribute | ' ';
    }
    row = kRows - 1;
}

void move_cursor() {
    std::uint16_t position = std::uint16_t(row * kColumns + column);
    cpu::out8(0x3D4, 0x0F);
    cpu::out8(0x3D5, std::uint8_t(position));
    cpu::out8(0x3D4, 0x0E);
    cpu::out8(0x3D5, std::uint8_t(position >> 8));
}

}  // namespace

void init() {
    volatile std::uint16_t* cells = screen();
    for (int i = 0; i < kRows * kColumns; ++i) {
        cells[i] = kAttribute | ' ';
    }
    column = row = 0;
    move_cursor();
}

void write_char(char c) {
    volatile std::uint16_t* cells = screen();
    switch (c) {
        case '\n':
            column = 0;
            ++row;
            break;
        case '\r':
            column = 0;
            break;
        case '\b':
            if (column > 0) {
                --column;
            }
            break;
        default:
            if (std::uint8_t(c) < 0x20) {
                return;  // terminal escape sequences are for the serial side only
            }
            cells[row * kColumns + column] = kAttribute | std::uint8_t(c);
            if (++column == kColumns) {
                column = 0;
                ++row;
            }
    }
    if (row == kRows) {
        scroll();
    }
    move_cursor();
}

}  // namespace vga
