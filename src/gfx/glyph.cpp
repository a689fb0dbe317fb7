#include "gfx/glyph.hpp"

namespace gfx {

PackedPalette pack(const Palette& palette, const PixelFormat& format) {
    PackedPalette packed{};
    for (std::size_t i = 0; i < kToneCount; ++i) {
        packed.tones[i] = format.pack(palette.tones[i]);
    }
    packed.background = format.pack(palette.background);
    return packed;
}

void draw_glyph(Surface& surface, const Font& font, unsigned char c, std::uint32_t x,
                std::uint32_t y, std::uint32_t foreground, std::uint32_t background) {
    std::uint32_t glyph = font.glyph_for(c);
    for (std::uint32_t row = 0; row < font.height && y + row < surface.height(); ++row) {
        const std::uint8_t* bits = font.row_bits(glyph, row);
        for (std::uint32_t column = 0; column < font.width && x + column < surface.width();
             ++column) {
            bool set = (bits[column / 8] >> (7 - column % 8)) & 1;
            surface.put(x + column, y + row, set ? foreground : background);
        }
    }
}

std::uint32_t draw_text(Surface& surface, const Font& font, const char* text, std::uint32_t x,
                        std::uint32_t y, std::uint32_t foreground, std::uint32_t background) {
    for (; *text != '\0'; ++text) {
        draw_glyph(surface, font, static_cast<unsigned char>(*text), x, y, foreground, background);
        x += font.width;
    }
    return x;
}

std::size_t flush(TextScreen& screen, Surface& surface, const Font& font,
                  const PackedPalette& palette) {
    return screen.flush([&](std::uint32_t column, std::uint32_t row, Cell cell) {
        draw_glyph(surface, font, static_cast<unsigned char>(cell.character), column * font.width,
                   row * font.height, palette.tones[static_cast<std::size_t>(cell.tone)],
                   palette.background);
    });
}

}  // namespace gfx
