#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "gfx/text_screen.hpp"

namespace {

void write(gfx::TextScreen& screen, const std::string& text) {
    for (char c : text) {
        screen.write(c);
    }
}

std::string row_text(const gfx::TextScreen& screen, std::uint32_t row) {
    std::string text;
    for (std::uint32_t column = 0; column < screen.columns(); ++column) {
        text += screen.at(column, row).character;
    }
    return text.erase(text.find_last_not_of(' ') + 1);
}

// The screen is large (two grids of the largest size): tests keep it on the heap.
std::unique_ptr<gfx::TextScreen> make_screen(std::uint32_t columns, std::uint32_t rows) {
    auto screen = std::make_unique<gfx::TextScreen>();
    screen->reset(columns, rows);
    return screen;
}

}  // namespace

TEST_CASE("text screen: lines, carriage return, backspace and scrolling") {
    auto screen = make_screen(10, 3);
    write(*screen, "one\ntwo\nthree\nfour");
    CHECK(row_text(*screen, 0) == "two");
    CHECK(row_text(*screen, 1) == "three");
    CHECK(row_text(*screen, 2) == "four");
    write(*screen, "\rF\bf");
    CHECK(row_text(*screen, 2) == "four");
    CHECK(screen->cursor_column() == 1);
}

TEST_CASE("text screen: a full row wraps at its last space, a long word is cut") {
    auto screen = make_screen(12, 4);
    write(*screen, "alpha beta gamma");
    CHECK(row_text(*screen, 0) == "alpha beta");
    CHECK(row_text(*screen, 1) == "gamma");
    write(*screen, "\n0123456789abcdef");
    CHECK(row_text(*screen, 2) == "0123456789ab");
    CHECK(row_text(*screen, 3) == "cdef");
}

TEST_CASE("text screen: the line editor's escapes move the cursor and erase") {
    auto screen = make_screen(20, 2);
    write(*screen, "> memory\x1b[3D\x1b[K");
    CHECK(row_text(*screen, 0) == "> mem");
    write(*screen, "\x1b[2Dxy\x1b[C!");
    CHECK(row_text(*screen, 0) == "> mxy !");
    write(*screen, "\x1b[1;31m");  // colour sequences are the serial terminal's business
    CHECK(row_text(*screen, 0) == "> mxy !");
}

TEST_CASE("text screen: tones for log prefixes, the prompt and failures") {
    auto screen = make_screen(40, 4);
    write(*screen, "mem: usable 4 GiB\n> help\nstress: error: no memory\n");
    CHECK(screen->at(0, 0).tone == gfx::Tone::prefix);
    CHECK(screen->at(3, 0).tone == gfx::Tone::prefix);  // the colon
    CHECK(screen->at(5, 0).tone == gfx::Tone::text);
    CHECK(screen->at(0, 1).tone == gfx::Tone::prompt);
    CHECK(screen->at(1, 1).tone == gfx::Tone::prompt);
    CHECK(screen->at(2, 1).tone == gfx::Tone::text);
    CHECK(screen->at(0, 2).tone == gfx::Tone::alert);
    CHECK(screen->at(20, 2).tone == gfx::Tone::alert);
    write(*screen, "a long sentence: 0 failed, errors=0\n");
    CHECK(screen->at(0, 3).tone == gfx::Tone::text);  // no prefix, and no failure reported
}

TEST_CASE("text screen: flush draws only what changed since the last flush") {
    auto screen = make_screen(8, 3);
    std::size_t drawn = screen->flush([](std::uint32_t, std::uint32_t, gfx::Cell) {});
    CHECK(drawn == 8 * 3);  // a reset screen is drawn whole
    write(*screen, "ab");
    std::string seen;
    drawn = screen->flush([&](std::uint32_t column, std::uint32_t row, gfx::Cell cell) {
        seen += std::to_string(column) + "," + std::to_string(row) + cell.character + " ";
    });
    CHECK(drawn == 2);
    CHECK(seen == "0,0a 1,0b ");
    CHECK(screen->flush([](std::uint32_t, std::uint32_t, gfx::Cell) {}) == 0);
}

TEST_CASE("text screen: giving rows to a panel scrolls the text and redraws the rows") {
    auto screen = make_screen(8, 4);
    write(*screen, "1\n2\n3\n4");
    screen->flush([](std::uint32_t, std::uint32_t, gfx::Cell) {});
    screen->set_rows(2);
    CHECK(screen->rows() == 2);
    CHECK(row_text(*screen, 0) == "3");
    CHECK(row_text(*screen, 1) == "4");
    CHECK(screen->cursor_row() == 1);
    // Only the two cells whose character changed ("1" to "3", "2" to "4") are drawn again.
    CHECK(screen->flush([](std::uint32_t, std::uint32_t, gfx::Cell) {}) == 2);
    screen->set_rows(4);
    CHECK(row_text(*screen, 2).empty());
    // The rows the panel gave back are drawn whole: the panel's pixels were there.
    CHECK(screen->flush([](std::uint32_t, std::uint32_t, gfx::Cell) {}) == 2 * 8);
}
