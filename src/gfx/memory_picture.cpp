#include "gfx/memory_picture.hpp"

#include "gfx/glyph.hpp"
#include "lib/format.hpp"

namespace gfx {
namespace {

constexpr Rgb kPanelBackground{0x10, 0x14, 0x1c};
constexpr Rgb kFigureText{0xe0, 0xe0, 0xe0};
constexpr Rgb kUnownedGrey{0x90, 0x90, 0x90};
// Hues far enough apart to tell CPUs apart at a glance.
constexpr Rgb kOwnerColours[] = {
    {0xe6, 0x19, 0x4b}, {0x3c, 0xb4, 0x4b}, {0x43, 0x63, 0xd8}, {0xff, 0xe1, 0x19},
    {0xf5, 0x82, 0x31}, {0x91, 0x1e, 0xb4}, {0x46, 0xf0, 0xf0}, {0xf0, 0x32, 0xe6},
    {0xbc, 0xf6, 0x0c}, {0xfa, 0xbe, 0xbe}, {0x00, 0x80, 0x80}, {0xe6, 0xbe, 0xff},
    {0x9a, 0x63, 0x24}, {0xff, 0xfa, 0xc8}, {0x80, 0x00, 0x00}, {0xaa, 0xff, 0xc3},
};
constexpr std::uint32_t kOwnerColourCount = sizeof(kOwnerColours) / sizeof(kOwnerColours[0]);
constexpr std::uint32_t kMaxLegendOwners = 16;

std::uint32_t square_root_floor(std::uint64_t value) {
    std::uint64_t root = 0;
    while ((root + 1) * (root + 1) <= value) {
        ++root;
    }
    return std::uint32_t(root);
}

std::uint8_t scale(std::uint8_t value, std::uint64_t numerator, std::uint64_t denominator) {
    return std::uint8_t(value * numerator / denominator);
}

}  // namespace

Rect PictureGrid::cell(std::size_t index) const {
    if (columns == 0) {
        return {};
    }
    std::uint32_t column = std::uint32_t(index % columns);
    std::uint32_t row = std::uint32_t(index / columns);
    return {x + column * pitch, y + row * pitch, pitch - 1, pitch - 1};
}

PictureGrid layout_grid(std::size_t count, Rect space) {
    PictureGrid grid;
    if (count == 0 || space.width < 2 || space.height < 2) {
        return grid;
    }
    // The largest pitch p with ceil(count / floor(width / p)) * p <= height: start from the
    // square root of the area per cell and step down until the cells fit.
    std::uint64_t per_cell = std::uint64_t(space.width) * space.height / count;
    std::uint32_t pitch = square_root_floor(per_cell);
    for (; pitch >= 2; --pitch) {
        std::uint32_t columns = space.width / pitch;
        if (columns == 0) {
            continue;
        }
        std::uint64_t rows = (count + columns - 1) / columns;
        if (rows * pitch <= space.height) {
            grid.columns = columns < count ? columns : std::uint32_t(count);
            grid.rows = std::uint32_t(rows);
            grid.pitch = pitch;
            grid.x = space.x;
            grid.y = space.y;
            return grid;
        }
    }
    return grid;  // more areas than two-pixel cells: nothing is drawn
}

Rgb owner_colour(std::uint32_t owner) {
    if (owner == kUnowned) {
        return kUnownedGrey;
    }
    return kOwnerColours[owner % kOwnerColourCount];
}

Rgb fill_shade(Rgb base, std::uint32_t frames, std::uint32_t free) {
    if (frames == 0) {
        return {};
    }
    std::uint64_t used = free > frames ? 0 : frames - free;
    // A quarter of the colour when empty, all of it when full: numerator out of 4 * frames.
    std::uint64_t numerator = frames + 3 * used;
    std::uint64_t denominator = 4ull * frames;
    return {scale(base.red, numerator, denominator), scale(base.green, numerator, denominator),
            scale(base.blue, numerator, denominator)};
}

Rgb area_colour(const AreaSample& area) {
    return fill_shade(owner_colour(area.owner), area.frames, area.free);
}

PictureLayout layout_picture(std::uint32_t width, std::uint32_t height, const Font& font) {
    PictureLayout layout;
    const std::uint32_t line = font.height;
    if (height < 3 * line) {
        return layout;
    }
    layout.figures = {0, 0, width, line};
    layout.legend = {0, height - line, width, line};
    // Half a line of margin around the cells.
    const std::uint32_t margin = line / 2;
    layout.cells = {margin, line + margin, width - 2 * margin, height - 2 * line - 2 * margin};
    return layout;
}

void draw_picture(Surface& surface, const Font& font, std::span<const AreaSample> areas,
                  const PictureFigures& figures, PictureCache& cache) {
    const PixelFormat& format = surface.format();
    const std::uint32_t background = format.pack(kPanelBackground);
    const std::uint32_t text = format.pack(kFigureText);
    PictureLayout layout = layout_picture(surface.width(), surface.height(), font);
    const bool whole = !cache.valid || cache.count != areas.size();
    if (whole) {
        surface.fill({0, 0, surface.width(), surface.height()}, background);
    } else {
        surface.fill(layout.figures, background);
    }
    if (layout.cells.width == 0) {
        return;
    }
    char line[160];
    lib::format_to(line, sizeof(line),
                   "memory: {} areas, colour = owning CPU, brightness = how full   2M-ready "
                   "{}.{} %   {} ops/s   redraw {} us   Ctrl-P hides",
                   areas.size(), figures.huge_ready_per_mille / 10,
                   figures.huge_ready_per_mille % 10, figures.operations_per_second,
                   figures.redraw_microseconds);
    draw_text(surface, font, line, layout.figures.x, layout.figures.y, text, background);

    PictureGrid grid = layout_grid(areas.size(), layout.cells);
    for (std::size_t i = 0; i < areas.size() && grid.columns != 0; ++i) {
        Rgb colour = area_colour(areas[i]);
        bool cached = i < PictureCache::kMaxCells;
        if (whole || !cached || !(cache.colours[i] == colour)) {
            surface.fill(grid.cell(i), format.pack(colour));
        }
        if (cached) {
            cache.colours[i] = colour;
        }
    }
    cache.count = areas.size();
    if (!whole) {
        return;  // the legend does not change
    }
    cache.valid = true;

    // Legend: "CPU n" and a swatch of its colour, then the unowned grey.
    std::uint32_t x = layout.legend.x;
    const std::uint32_t y = layout.legend.y;
    std::uint32_t owners = figures.owners < kMaxLegendOwners ? figures.owners : kMaxLegendOwners;
    for (std::uint32_t owner = 0; owner <= owners; ++owner) {
        bool unowned = owner == owners;
        char label[16] = "none";
        if (!unowned) {
            lib::format_to(label, sizeof(label), "CPU {}", owner);
        }
        Rgb colour = owner_colour(unowned ? kUnowned : owner);
        surface.fill({x, y + 2, font.width * 2, font.height - 4}, format.pack(colour));
        x = draw_text(surface, font, label, x + font.width * 2 + 4, y, text, background);
        x += font.width * 2;
        if (x + font.width * 12 > surface.width()) {
            break;
        }
    }
}

}  // namespace gfx
