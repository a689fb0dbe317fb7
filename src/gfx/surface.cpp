#include "gfx/surface.hpp"

namespace gfx {
namespace {

std::uint32_t scale_to(std::uint8_t value, std::uint8_t bits) {
    return std::uint32_t(value) >> (8 - bits);
}

std::uint8_t scale_from(std::uint32_t value, std::uint8_t bits) {
    // Replicate the top bits into the low ones, so a full field reads back as 255.
    std::uint32_t wide = value << (8 - bits);
    return std::uint8_t(wide | (wide >> bits));
}

bool field_fits(std::uint8_t shift, std::uint8_t bits, std::uint8_t bytes) {
    return bits >= 1 && bits <= 8 && shift + bits <= bytes * 8;
}

}  // namespace

bool PixelFormat::supported() const {
    return bytes_per_pixel >= 2 && bytes_per_pixel <= 4 &&
           field_fits(red_shift, red_bits, bytes_per_pixel) &&
           field_fits(green_shift, green_bits, bytes_per_pixel) &&
           field_fits(blue_shift, blue_bits, bytes_per_pixel);
}

std::uint32_t PixelFormat::pack(Rgb colour) const {
    return scale_to(colour.red, red_bits) << red_shift |
           scale_to(colour.green, green_bits) << green_shift |
           scale_to(colour.blue, blue_bits) << blue_shift;
}

Rgb PixelFormat::unpack(std::uint32_t pixel) const {
    auto field = [pixel](std::uint8_t shift, std::uint8_t bits) {
        return scale_from((pixel >> shift) & ((1u << bits) - 1), bits);
    };
    return {field(red_shift, red_bits), field(green_shift, green_bits),
            field(blue_shift, blue_bits)};
}

std::uint32_t Surface::get(std::uint32_t x, std::uint32_t y) const {
    const std::uint8_t* at =
        base_ + std::size_t(y) * pitch_ + std::size_t(x) * format_.bytes_per_pixel;
    std::uint32_t pixel = 0;
    for (std::uint32_t i = 0; i < format_.bytes_per_pixel; ++i) {
        pixel |= std::uint32_t(at[i]) << (8 * i);
    }
    return pixel;
}

void Surface::fill(Rect area, std::uint32_t pixel) {
    if (area.x >= width_ || area.y >= height_) {
        return;
    }
    std::uint32_t right = area.width > width_ - area.x ? width_ : area.x + area.width;
    std::uint32_t bottom = area.height > height_ - area.y ? height_ : area.y + area.height;
    for (std::uint32_t y = area.y; y < bottom; ++y) {
        for (std::uint32_t x = area.x; x < right; ++x) {
            put(x, y, pixel);
        }
    }
}

}  // namespace gfx
