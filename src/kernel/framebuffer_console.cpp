#include "kernel/framebuffer_console.hpp"

#include <span>

#include "arch/x86_64/direct_map.hpp"
#include "gfx/glyph.hpp"
#include "gfx/text_screen.hpp"
#include "kernel/paging.hpp"

extern "C" const std::uint8_t console_font_start[], console_font_end[];

namespace framebuffer_console {
namespace {

gfx::Font console_font;
gfx::TextScreen screen;
gfx::Surface surface;
gfx::PackedPalette palette;
std::uint32_t total_rows = 0;
bool is_active = false;
bool combining = false;

gfx::PixelFormat format_of(const multiboot2::Framebuffer& fb) {
    gfx::PixelFormat format;
    format.bytes_per_pixel = std::uint8_t(fb.bpp / 8);
    if (fb.has_rgb_fields) {
        format.red_shift = fb.rgb.red_field_position;
        format.red_bits = fb.rgb.red_mask_size;
        format.green_shift = fb.rgb.green_field_position;
        format.green_bits = fb.rgb.green_mask_size;
        format.blue_shift = fb.rgb.blue_field_position;
        format.blue_bits = fb.rgb.blue_mask_size;
    }
    return format;
}

}  // namespace

const char* to_string(Refusal refusal) {
    switch (refusal) {
        case Refusal::none:
            return "none";
        case Refusal::not_rgb:
            return "not a direct-RGB framebuffer";
        case Refusal::bad_pixel_format:
            return "unsupported pixel format";
        case Refusal::not_mapped:
            return "outside the direct map";
        case Refusal::too_small:
            return "smaller than one character";
        case Refusal::bad_font:
            return "the built-in font does not parse";
    }
    return "?";
}

Refusal init(const multiboot2::Framebuffer& fb) {
    if (!fb.present || fb.type != multiboot2::layout::kFramebufferRgb) {
        return Refusal::not_rgb;
    }
    gfx::PixelFormat format = format_of(fb);
    if (fb.bpp % 8 != 0 || !format.supported() || fb.pitch < fb.width * format.bytes_per_pixel) {
        return Refusal::bad_pixel_format;
    }
    const std::uint64_t bytes = std::uint64_t(fb.pitch) * fb.height;
    if (fb.address + bytes > paging::direct_map_end() || fb.address + bytes < fb.address) {
        return Refusal::not_mapped;
    }
    auto parsed =
        gfx::parse_psf(std::span<const std::uint8_t>(
                           console_font_start, std::size_t(console_font_end - console_font_start)),
                       console_font);
    if (!parsed) {
        return Refusal::bad_font;
    }
    if (fb.width < console_font.width || fb.height < console_font.height) {
        return Refusal::too_small;
    }
    combining = paging::map_write_combining(fb.address, fb.address + bytes);
    surface = gfx::Surface(static_cast<std::uint8_t*>(phys_to_virt(fb.address)), fb.pitch, fb.width,
                           fb.height, format);
    palette = gfx::pack(gfx::kConsolePalette, format);
    surface.fill({0, 0, fb.width, fb.height}, palette.background);
    total_rows = fb.height / console_font.height;
    screen.reset(fb.width / console_font.width, total_rows);
    is_active = true;
    return Refusal::none;
}

bool active() {
    return is_active;
}
bool write_combining() {
    return combining;
}

void write(char c) {
    screen.write(c);
}

void flush() {
    gfx::flush(screen, surface, console_font, palette);
}

std::uint32_t columns() {
    return screen.columns();
}
std::uint32_t rows() {
    return screen.rows();
}
const gfx::Font& font() {
    return console_font;
}

gfx::Surface reserve_panel(std::uint32_t rows) {
    if (!is_active) {
        return {};
    }
    if (rows >= total_rows) {
        rows = total_rows - 1;
    }
    screen.set_rows(total_rows - rows);
    flush();
    if (rows == 0) {
        return {};
    }
    const std::uint32_t top = (total_rows - rows) * console_font.height;
    // The panel is a view of the framebuffer below the text: same pitch, offset rows.
    return gfx::Surface(surface.pixel_address(0, top), surface.pitch(), surface.width(),
                        surface.height() - top, surface.format());
}

}  // namespace framebuffer_console
