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

// The console's VT100 sequences (the line editor's redraws, `areas --watch`) are written to
// both devices; the screen follows the few that are used instead of showing their bytes.
enum class Escape : std::uint8_t { none, escape, csi };
Escape escape = Escape::none;
int parameter = 0;

void clear_cells(int from, int to) {
    volatile std::uint16_t* cells = screen();
    for (int i = from; i < to; ++i) {
        cells[i] = kAttribute | ' ';
    }
}

// ESC [ n D / C (cursor left / right), ESC [ H (home), ESC [ J (clear below), ESC [ K (clear
// to the end of the line); anything else ends the sequence and does nothing.
void finish_sequence(char final_byte) {
    int count = parameter == 0 ? 1 : parameter;
    switch (final_byte) {
        case 'D':
            column = column > count ? column - count : 0;
            break;
        case 'C':
            column = column + count < kColumns ? column + count : kColumns - 1;
            break;
        case 'H':
            row = column = 0;
            break;
        case 'J':
            clear_cells(row * kColumns + column, kRows * kColumns);
            break;
        case 'K':
            clear_cells(row * kColumns + column, (row + 1) * kColumns);
            break;
        default:
            break;
    }
}

// True while `c` belongs to an escape sequence (and so is not a character to show).
bool in_escape_sequence(char c) {
    auto byte = std::uint8_t(c);
    switch (escape) {
        case Escape::none:
            if (byte == 0x1B) {
                escape = Escape::escape;
                return true;
            }
            return false;
        case Escape::escape:
            escape = byte == '[' ? Escape::csi : Escape::none;
            parameter = 0;
            return true;
        case Escape::csi:
            if (byte >= '0' && byte <= '9') {
                parameter = parameter < 1000 ? parameter * 10 + (byte - '0') : parameter;
                return true;
            }
            if (byte == ';') {
                return true;
            }
            escape = Escape::none;
            finish_sequence(char(byte));
            return true;
    }
    return false;
}

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
    if (in_escape_sequence(c)) {
        move_cursor();
        return;
    }
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
                return;  // other control characters (the bell) have no picture
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
