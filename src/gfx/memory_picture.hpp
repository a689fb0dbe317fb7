// The picture of physical memory: every allocator area as a square cell, coloured by the CPU
// that owns it and shaded by how full it is (dark when empty, the full colour when every frame
// is in use, grey when no CPU owns it), under a line of figures (areas, the share of free memory
// in whole 2 MiB blocks, operations per second, what the last redraw cost) and above a legend
// of the owners' colours. Pure drawing into a Surface: the shell gathers the samples.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "gfx/psf.hpp"
#include "gfx/surface.hpp"

namespace gfx {

inline constexpr std::uint32_t kUnowned = 0xffffffff;

struct AreaSample {
    std::uint32_t owner = kUnowned;  // CPU index
    std::uint32_t frames = 0;
    std::uint32_t free = 0;
};

struct PictureFigures {
    std::uint64_t huge_ready_per_mille = 0;  // free memory in whole, aligned 2 MiB blocks
    std::uint64_t operations_per_second = 0;
    std::uint64_t redraw_microseconds = 0;  // what drawing the previous picture took
    std::uint32_t owners = 0;               // CPUs to list in the legend
};

// Where the cells go in a space: as many columns as make the largest square cells that fit,
// each with a one-pixel gap on its right and bottom.
struct PictureGrid {
    std::uint32_t columns = 0;
    std::uint32_t rows = 0;
    std::uint32_t pitch = 0;  // pixels from one cell to the next, gap included
    std::uint32_t x = 0;
    std::uint32_t y = 0;

    Rect cell(std::size_t index) const;
};
PictureGrid layout_grid(std::size_t count, Rect space);

// One distinct, bright colour per CPU for the first 16, then repeating.
Rgb owner_colour(std::uint32_t owner);
// From a quarter of `base` (nothing in use) to `base` (all in use), in proportion.
Rgb fill_shade(Rgb base, std::uint32_t frames, std::uint32_t free);
// The colour of a cell for an area.
Rgb area_colour(const AreaSample& area);

// The layout of the panel: the figures on its first text line, the legend on its last, the
// cells between.
struct PictureLayout {
    Rect figures;
    Rect cells;
    Rect legend;
};
PictureLayout layout_picture(std::uint32_t width, std::uint32_t height, const Font& font);

// What was drawn last, so that a redraw writes only the cells whose colour changed: a picture
// redrawn a few times per second then costs little more than its line of figures.
struct PictureCache {
    static constexpr std::size_t kMaxCells = 8192;
    bool valid = false;  // false: the next draw paints the whole panel
    std::size_t count = 0;
    Rgb colours[kMaxCells];
};

// Draws the picture into `surface` (the panel's pixels): everything when the cache is invalid
// or the number of areas changed, else the figures and the cells that changed.
void draw_picture(Surface& surface, const Font& font, std::span<const AreaSample> areas,
                  const PictureFigures& figures, PictureCache& cache);

}  // namespace gfx
