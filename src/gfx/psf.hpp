// PC Screen Font (PSF) bitmap fonts, the format of the Linux console's fonts (Debian's
// console-setup ships them). Both versions are read from untrusted bytes: PSF1 (256 or 512 glyphs
// 8 pixels wide) and PSF2 (any size). The Unicode table, when present, says which glyph draws
// each character; the console needs only Latin-1, so only code points below 256 are kept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "lib/result.hpp"

namespace gfx {

enum class PsfError : std::uint8_t {
    truncated,         // Shorter than its header or its glyphs.
    bad_magic,         // Neither PSF1 nor PSF2.
    bad_header,        // PSF2 header size or glyph size inconsistent with width and height.
    unsupported_size,  // Glyphs wider than 32 or taller than 64 pixels, or no glyphs.
};

const char* to_string(PsfError error);

struct Font {
    static constexpr std::uint32_t kMaxWidth = 32;
    static constexpr std::uint32_t kMaxHeight = 64;
    static constexpr std::uint16_t kNoGlyph = 0xffff;

    std::uint32_t width = 0;   // pixels
    std::uint32_t height = 0;  // pixels, one row of bytes_per_row bytes each
    std::uint32_t bytes_per_row = 0;
    std::uint32_t glyph_count = 0;
    const std::uint8_t* glyphs = nullptr;  // glyph_count * height * bytes_per_row bytes
    std::uint8_t version = 0;              // 1 or 2
    bool has_unicode_table = false;
    // Glyph for each Latin-1 code point: from the Unicode table, else the identity for the glyphs
    // that exist; kNoGlyph where neither gives one.
    std::uint16_t latin1[256] = {};

    // The glyph for `c`, falling back to '?' and then to glyph 0 (fonts put a box there).
    std::uint32_t glyph_for(unsigned char c) const;
    // Row `row` of glyph `glyph`, most significant bit leftmost.
    const std::uint8_t* row_bits(std::uint32_t glyph, std::uint32_t row) const {
        return glyphs + (std::size_t(glyph) * height + row) * bytes_per_row;
    }
    bool pixel(std::uint32_t glyph, std::uint32_t x, std::uint32_t y) const {
        return (row_bits(glyph, y)[x / 8] >> (7 - x % 8)) & 1;
    }
};

// Parses `bytes`; the font's glyphs point into them, so they must outlive the font.
[[nodiscard]] lib::Result<const Font*, PsfError> parse_psf(std::span<const std::uint8_t> bytes,
                                                           Font& out);

}  // namespace gfx
