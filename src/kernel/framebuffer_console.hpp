// The console on a linear framebuffer: the text grid (gfx::TextScreen) drawn with the built-in
// PSF font onto the framebuffer, mapped write-combining where the CPU has a PAT. A panel of
// rows at the bottom can be given to a picture (the live memory picture of the shell).
#pragma once

#include <cstddef>
#include <cstdint>

#include "boot/multiboot2/info.hpp"
#include "gfx/psf.hpp"
#include "gfx/surface.hpp"

namespace framebuffer_console {

enum class Refusal : std::uint8_t {
    none,
    not_rgb,           // indexed colour or EGA text
    bad_pixel_format,  // not 16, 24 or 32 bits, or colour fields that do not fit
    not_mapped,        // outside the direct map
    too_small,         // smaller than one glyph
    bad_font,
};
const char* to_string(Refusal refusal);

// Takes the framebuffer the loader described, or says why not. On success the screen is cleared.
Refusal init(const multiboot2::Framebuffer& framebuffer);

bool active();
bool write_combining();
void write(char c);
// Draws what changed since the last flush; the console calls it after each write.
void flush();

std::uint32_t columns();
std::uint32_t rows();
const gfx::Font& font();

// Gives the bottom `rows` text rows' pixels to a panel (0 gives them back) and returns the
// panel's surface (invalid when no framebuffer console is active or rows is 0).
gfx::Surface reserve_panel(std::uint32_t rows);

}  // namespace framebuffer_console
