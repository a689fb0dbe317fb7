#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "gfx/glyph.hpp"
#include "gfx/psf.hpp"

namespace {

void put32(std::vector<std::uint8_t>& out, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) {
        out.push_back(std::uint8_t(value >> (8 * i)));
    }
}

// A PSF2 font of `count` 10x4 glyphs (2 bytes per row): glyph g has row r = g + r in its first
// byte and 0x80 (one pixel, column 8) in its second; with a Unicode table when `table` is given.
std::vector<std::uint8_t> psf2(std::uint32_t count, const std::vector<std::uint8_t>& table = {}) {
    std::vector<std::uint8_t> out;
    put32(out, 0x864ab572);
    put32(out, 0);
    put32(out, 32);
    put32(out, table.empty() ? 0 : 1);
    put32(out, count);
    put32(out, 2 * 4);
    put32(out, 4);
    put32(out, 10);
    for (std::uint32_t glyph = 0; glyph < count; ++glyph) {
        for (std::uint32_t row = 0; row < 4; ++row) {
            out.push_back(std::uint8_t(glyph + row));
            out.push_back(0x80);
        }
    }
    out.insert(out.end(), table.begin(), table.end());
    return out;
}

}  // namespace

TEST_CASE("psf: a PSF2 font without a table maps Latin-1 to the glyph of the same number") {
    auto bytes = psf2(256);
    gfx::Font font;
    auto parsed = gfx::parse_psf(bytes, font);
    REQUIRE(parsed.ok());
    CHECK(font.version == 2);
    CHECK(font.width == 10);
    CHECK(font.height == 4);
    CHECK(font.bytes_per_row == 2);
    CHECK(font.glyph_for('A') == 'A');
    CHECK(font.row_bits('A', 2)[0] == 'A' + 2);
    CHECK(font.pixel('A', 8, 0));
    CHECK_FALSE(font.pixel('A', 9, 0));
}

TEST_CASE("psf: the Unicode table decides which glyph draws a character, sequences skipped") {
    // glyph 0: 'A' and U+00E9 (two-byte UTF-8); glyph 1: a sequence "e + U+0301", then 'B';
    // glyph 2: U+2500 (three bytes, ignored: above Latin-1).
    std::vector<std::uint8_t> table = {'A',  0xc3, 0xa9, 0xff, 0xfe, 'e', 0xcc,
                                       0x81, 0xff, 0xe2, 0x94, 0x80, 0xff};
    auto bytes = psf2(3, table);
    gfx::Font font;
    REQUIRE(gfx::parse_psf(bytes, font).ok());
    CHECK(font.has_unicode_table);
    CHECK(font.glyph_for('A') == 0);
    CHECK(font.glyph_for(0xe9) == 0);
    CHECK(font.latin1[static_cast<unsigned char>('e')] ==
          gfx::Font::kNoGlyph);       // only in a sequence
    CHECK(font.glyph_for('Z') == 0);  // neither 'Z' nor '?': glyph 0
}

TEST_CASE("psf: a PSF1 font with a table") {
    std::vector<std::uint8_t> bytes = {0x36, 0x04, 0x02, 2};  // has table, 256 glyphs, height 2
    for (int glyph = 0; glyph < 256; ++glyph) {
        bytes.push_back(std::uint8_t(glyph));
        bytes.push_back(0xff);
    }
    // glyph 0 draws '?', glyph 1 draws 'x'; the rest have empty entries.
    std::vector<std::uint16_t> table = {'?', 0xffff, 'x', 0xffff};
    for (std::uint16_t value : table) {
        bytes.push_back(std::uint8_t(value));
        bytes.push_back(std::uint8_t(value >> 8));
    }
    gfx::Font font;
    REQUIRE(gfx::parse_psf(bytes, font).ok());
    CHECK(font.version == 1);
    CHECK(font.width == 8);
    CHECK(font.glyph_for('x') == 1);
    CHECK(font.glyph_for('y') == 0);  // falls back to '?', which is glyph 0
}

TEST_CASE("psf: malformed fonts are refused with the reason") {
    gfx::Font font;
    std::vector<std::uint8_t> empty;
    CHECK(gfx::parse_psf(empty, font).error() == gfx::PsfError::truncated);
    std::vector<std::uint8_t> junk(64, 0x55);
    CHECK(gfx::parse_psf(junk, font).error() == gfx::PsfError::bad_magic);
    auto cut = psf2(4);
    cut.pop_back();
    CHECK(gfx::parse_psf(cut, font).error() == gfx::PsfError::truncated);
    auto wrong_size = psf2(4);
    wrong_size[20] = 7;  // glyph_size no longer 2 bytes x 4 rows
    CHECK(gfx::parse_psf(wrong_size, font).error() == gfx::PsfError::bad_header);
    auto too_wide = psf2(4);
    too_wide[28] = 40;
    CHECK(gfx::parse_psf(too_wide, font).error() == gfx::PsfError::unsupported_size);
}

TEST_CASE("glyph: set bits take the foreground, the rest the background, clipped at the edge") {
    auto bytes = psf2(256);
    gfx::Font font;
    REQUIRE(gfx::parse_psf(bytes, font).ok());
    std::vector<std::uint8_t> pixels(12 * 5 * 4, 0xee);
    gfx::Surface surface(pixels.data(), 12 * 4, 12, 5, gfx::PixelFormat{});
    gfx::draw_glyph(surface, font, 0x81, 3, 2, 0x00ffffff, 0x00000000);  // rows 2..4 visible
    for (std::uint32_t row = 0; row < 3; ++row) {
        std::uint8_t bits = std::uint8_t(0x81 + row);
        for (std::uint32_t column = 0; column < 8; ++column) {
            bool set = (bits >> (7 - column)) & 1;
            CHECK(surface.get(3 + column, 2 + row) == (set ? 0x00ffffffu : 0u));
        }
    }
    CHECK(surface.get(11, 2) == 0x00ffffffu);  // column 8 of the glyph: set in every row
    CHECK(surface.get(2, 2) == 0xeeeeeeeeu);   // left of the glyph: untouched
    CHECK(surface.get(3, 1) == 0xeeeeeeeeu);   // above it: untouched
}

TEST_CASE("pixel formats: packing follows the loader's field positions and widths") {
    gfx::PixelFormat bgr32{4, 0, 8, 8, 8, 16, 8};
    CHECK(bgr32.supported());
    CHECK(bgr32.pack({0x11, 0x22, 0x33}) == 0x332211u);
    gfx::PixelFormat rgb565{2, 11, 5, 5, 6, 0, 5};
    CHECK(rgb565.supported());
    CHECK(rgb565.pack({0xff, 0xff, 0xff}) == 0xffffu);
    CHECK(rgb565.unpack(0xffff) == gfx::Rgb{0xff, 0xff, 0xff});
    CHECK(rgb565.pack({0xff, 0, 0}) == 0xf800u);
    gfx::PixelFormat bad{4, 28, 8, 8, 8, 0, 8};
    CHECK_FALSE(bad.supported());
    std::vector<std::uint8_t> pixels(4 * 2 * 3, 0);
    gfx::Surface surface(pixels.data(), 4 * 3, 4, 2, gfx::PixelFormat{3, 16, 8, 8, 8, 0, 8});
    surface.fill({1, 0, 10, 1}, 0xabcdef);
    CHECK(surface.get(0, 0) == 0u);
    CHECK(surface.get(3, 0) == 0xabcdefu);
    CHECK(surface.get(3, 1) == 0u);
}
