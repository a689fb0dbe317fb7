// A rectangle of pixels in memory (a framebuffer, or a buffer in a host test) and the few
// drawing operations the console and the memory picture need. Pixels are 16, 24 or 32 bits with
// the red, green and blue fields wherever the loader says they are; colours are packed once and
// then written as they are.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gfx {

struct Rgb {
    std::uint8_t red = 0, green = 0, blue = 0;
    friend constexpr bool operator==(Rgb, Rgb) = default;
};

struct PixelFormat {
    std::uint8_t bytes_per_pixel = 4;
    std::uint8_t red_shift = 16, red_bits = 8;
    std::uint8_t green_shift = 8, green_bits = 8;
    std::uint8_t blue_shift = 0, blue_bits = 8;

    // True for the layouts draw code handles: 2, 3 or 4 bytes per pixel, fields that fit.
    bool supported() const;
    std::uint32_t pack(Rgb colour) const;
    Rgb unpack(std::uint32_t pixel) const;
};

struct Rect {
    std::uint32_t x = 0, y = 0, width = 0, height = 0;
};

class Surface {
  public:
    Surface() = default;
    Surface(std::uint8_t* base, std::uint32_t pitch, std::uint32_t width, std::uint32_t height,
            PixelFormat format)
        : base_(base), pitch_(pitch), width_(width), height_(height), format_(format) {}

    std::uint32_t width() const { return width_; }
    std::uint32_t height() const { return height_; }
    const PixelFormat& format() const { return format_; }
    bool valid() const { return base_ != nullptr; }
    std::uint32_t pitch() const { return pitch_; }
    std::uint8_t* pixel_address(std::uint32_t x, std::uint32_t y) const {
        return base_ + std::size_t(y) * pitch_ + std::size_t(x) * format_.bytes_per_pixel;
    }

    // Writes and reads one packed pixel; coordinates must lie inside the surface.
    void put(std::uint32_t x, std::uint32_t y, std::uint32_t pixel) {
        std::uint8_t* at =
            base_ + std::size_t(y) * pitch_ + std::size_t(x) * format_.bytes_per_pixel;
        switch (format_.bytes_per_pixel) {
            case 4:
                *reinterpret_cast<volatile std::uint32_t*>(at) = pixel;
                break;
            case 2:
                *reinterpret_cast<volatile std::uint16_t*>(at) = std::uint16_t(pixel);
                break;
            default:
                at[0] = std::uint8_t(pixel);
                at[1] = std::uint8_t(pixel >> 8);
                at[2] = std::uint8_t(pixel >> 16);
        }
    }
    std::uint32_t get(std::uint32_t x, std::uint32_t y) const;

    // Fills the part of `area` that lies inside the surface.
    void fill(Rect area, std::uint32_t pixel);

  private:
    std::uint8_t* base_ = nullptr;
    std::uint32_t pitch_ = 0;  // bytes from one row to the next
    std::uint32_t width_ = 0;
    std::uint32_t height_ = 0;
    PixelFormat format_{};
};

}  // namespace gfx
