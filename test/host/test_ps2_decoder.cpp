#include <doctest/doctest.h>

#include <initializer_list>
#include <string>

#include "shell/input/ps2_decoder.hpp"

namespace {

std::string decode(shell::Ps2Decoder& decoder, std::initializer_list<int> scancodes) {
    std::string text;
    for (int code : scancodes) {
        char out[3];
        std::size_t n = decoder.feed(std::uint8_t(code), out);
        text.append(out, n);
    }
    return text;
}

}  // namespace

TEST_CASE("ps2 decoder: letters, digits, space, enter, backspace; releases print nothing") {
    shell::Ps2Decoder d;
    // m e m, each pressed and released, then Space, 1, Enter, Backspace.
    CHECK(decode(d, {0x32, 0xB2, 0x12, 0x92, 0x32, 0xB2, 0x39, 0xB9, 0x02, 0x82, 0x1C, 0x9C, 0x0E,
                     0x8E}) == "mem 1\r\x7f");
}

TEST_CASE("ps2 decoder: shift and caps lock") {
    shell::Ps2Decoder d;
    CHECK(decode(d, {0x2A, 0x1E, 0x9E, 0x0C, 0x8C, 0xAA, 0x1E}) == "A_a");
    CHECK(decode(d, {0x3A, 0xBA, 0x1E, 0x2A, 0x1E, 0xAA, 0x02}) == "Aa1");  // caps on
    CHECK(decode(d, {0x3A, 0xBA, 0x1E}) == "a");                            // caps off
    CHECK(decode(d, {0x36, 0x0D, 0xB6, 0x0D}) == "+=");                     // right shift
}

TEST_CASE("ps2 decoder: extended keys become the VT100 sequences a terminal sends") {
    shell::Ps2Decoder d;
    CHECK(decode(d, {0xE0, 0x48, 0xE0, 0xC8}) == "\x1b[A");
    CHECK(decode(d, {0xE0, 0x50, 0xE0, 0x4D, 0xE0, 0x4B}) == "\x1b[B\x1b[C\x1b[D");
    CHECK(decode(d, {0xE0, 0x47, 0xE0, 0x4F, 0xE0, 0x1C}) == "\x1b[H\x1b[F\r");
}

TEST_CASE("ps2 decoder: control combinations and unknown codes") {
    shell::Ps2Decoder d;
    CHECK(decode(d, {0x1D, 0x2E, 0x9D}) == "\x03");                     // Ctrl-C
    CHECK(decode(d, {0xE0, 0x1D, 0x16, 0xE0, 0x9D, 0x16}) == "\x15u");  // right Ctrl-U, then u
    for (int code = 0x3B; code < 0x80; ++code) {
        CHECK(decode(d, {code}).empty());  // function keys, keypad: nothing
    }
}
