// Feeds arbitrary bytes to the PSF font parser and, when it accepts them, draws every Latin-1
// character with the font: the glyphs it points at must lie inside the input, and drawing must
// stay inside the surface. Any crash, sanitizer report or broken postcondition is a bug.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "gfx/glyph.hpp"
#include "gfx/psf.hpp"

namespace {

void require(bool condition) {
    if (!condition) {
        __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    gfx::Font font;
    auto parsed = gfx::parse_psf(std::span<const std::uint8_t>(data, size), font);
    if (!parsed) {
        return 0;
    }
    require(font.width >= 1 && font.width <= gfx::Font::kMaxWidth);
    require(font.height >= 1 && font.height <= gfx::Font::kMaxHeight);
    const std::size_t glyph_bytes =
        std::size_t(font.glyph_count) * font.height * font.bytes_per_row;
    require(font.glyphs >= data && font.glyphs + glyph_bytes <= data + size);
    std::vector<std::uint32_t> pixels(40 * 70, 0);
    gfx::Surface surface(reinterpret_cast<std::uint8_t*>(pixels.data()), 40 * 4, 40, 70,
                         gfx::PixelFormat{});
    for (unsigned c = 0; c < 256; ++c) {
        require(font.glyph_for(static_cast<unsigned char>(c)) < font.glyph_count ||
                font.glyph_count == 0);
        gfx::draw_glyph(surface, font, static_cast<unsigned char>(c), c % 7, c % 11, 1, 0);
    }
    return 0;
}
