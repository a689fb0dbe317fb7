// Drawing text onto a surface with a bitmap font: one glyph at a pixel position, and the cells
// of a TextScreen with a palette of tones.
#pragma once

#include <cstdint>

#include "gfx/psf.hpp"
#include "gfx/surface.hpp"
#include "gfx/text_screen.hpp"

namespace gfx {

// The console's colours, as RGB; packed for a surface with pack().
struct Palette {
    Rgb tones[kToneCount];
    Rgb background;
};

// Light grey text, cyan log prefixes, a green prompt, red alerts, on black.
inline constexpr Palette kConsolePalette{
    {{0xcc, 0xcc, 0xcc}, {0x4e, 0xc9, 0xe0}, {0x6a, 0xd9, 0x6a}, {0xff, 0x5f, 0x56}},
    {0x00, 0x00, 0x00}};

struct PackedPalette {
    std::uint32_t tones[kToneCount];
    std::uint32_t background;
};
PackedPalette pack(const Palette& palette, const PixelFormat& format);

// Draws glyph `c` with its top-left corner at (x, y): set bits in `foreground`, the rest in
// `background`. Parts outside the surface are clipped.
void draw_glyph(Surface& surface, const Font& font, unsigned char c, std::uint32_t x,
                std::uint32_t y, std::uint32_t foreground, std::uint32_t background);

// Draws `text` from (x, y) along one line of glyphs; returns the x after the last one.
std::uint32_t draw_text(Surface& surface, const Font& font, const char* text, std::uint32_t x,
                        std::uint32_t y, std::uint32_t foreground, std::uint32_t background);

// Draws the cells of `screen` that changed since the last flush, each cell font.width by
// font.height pixels from the surface's top-left corner. Returns the cells drawn.
std::size_t flush(TextScreen& screen, Surface& surface, const Font& font,
                  const PackedPalette& palette);

}  // namespace gfx
