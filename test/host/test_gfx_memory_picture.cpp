#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <set>
#include <tuple>
#include <vector>

#include "gfx/memory_picture.hpp"

namespace {

// An 8x16 font whose every glyph is blank: the picture's text is not under test here.
std::vector<std::uint8_t> blank_font() {
    std::vector<std::uint8_t> bytes = {0x36, 0x04, 0x00, 16};
    bytes.resize(4 + 256 * 16, 0);
    return bytes;
}

}  // namespace

TEST_CASE("memory picture: the grid fits every area in its space, cells as large as fit") {
    for (std::size_t count : {1u, 5u, 17u, 132u, 1000u}) {
        gfx::Rect space{4, 20, 1000, 150};
        gfx::PictureGrid grid = gfx::layout_grid(count, space);
        REQUIRE(grid.columns > 0);
        CHECK(std::size_t(grid.columns) * grid.rows >= count);
        gfx::Rect last = grid.cell(count - 1);
        CHECK(last.x + last.width <= space.x + space.width);
        CHECK(last.y + last.height <= space.y + space.height);
        // One pixel larger and they would not fit.
        std::uint32_t bigger = grid.pitch + 1;
        std::uint32_t columns = space.width / bigger;
        bool fits = columns > 0 && (count + columns - 1) / columns * bigger <= space.height;
        CHECK_FALSE(fits);
    }
    CHECK(gfx::layout_grid(0, {0, 0, 100, 100}).columns == 0);
    CHECK(gfx::layout_grid(100000, {0, 0, 100, 100}).columns == 0);  // below 2 pixels: none
}

TEST_CASE("memory picture: owners get distinct colours, fullness brightens them") {
    std::set<std::tuple<int, int, int>> seen;
    for (std::uint32_t cpu = 0; cpu < 16; ++cpu) {
        gfx::Rgb c = gfx::owner_colour(cpu);
        seen.insert({c.red, c.green, c.blue});
    }
    CHECK(seen.size() == 16);
    gfx::Rgb base = gfx::owner_colour(2);
    CHECK(gfx::fill_shade(base, 100, 0) == base);  // full
    gfx::Rgb empty = gfx::fill_shade(base, 100, 100);
    CHECK(empty.blue == base.blue / 4);
    gfx::Rgb half = gfx::fill_shade(base, 100, 50);
    CHECK(half.blue > empty.blue);
    CHECK(half.blue < base.blue);
    CHECK(gfx::area_colour({gfx::kUnowned, 10, 0}) == gfx::owner_colour(gfx::kUnowned));
}

TEST_CASE("memory picture: each area's cell shows its owner's colour at its fullness") {
    auto font_bytes = blank_font();
    gfx::Font font;
    REQUIRE(gfx::parse_psf(font_bytes, font).ok());
    const std::uint32_t width = 400, height = 160;
    std::vector<std::uint32_t> pixels(width * height, 0);
    gfx::Surface surface(reinterpret_cast<std::uint8_t*>(pixels.data()), width * 4, width, height,
                         gfx::PixelFormat{});
    std::vector<gfx::AreaSample> areas = {
        {0, 8192, 8192}, {1, 8192, 0}, {gfx::kUnowned, 8192, 4096}, {3, 100, 50}};
    auto cache = std::make_unique<gfx::PictureCache>();
    gfx::draw_picture(surface, font, areas, {986, 123456, 800, 4}, *cache);
    gfx::PictureLayout layout = gfx::layout_picture(width, height, font);
    gfx::PictureGrid grid = gfx::layout_grid(areas.size(), layout.cells);
    for (std::size_t i = 0; i < areas.size(); ++i) {
        gfx::Rect cell = grid.cell(i);
        std::uint32_t centre = surface.get(cell.x + cell.width / 2, cell.y + cell.height / 2);
        CHECK(surface.format().unpack(centre) == gfx::area_colour(areas[i]));
    }
}

TEST_CASE("memory picture: a redraw writes only the cells whose colour changed") {
    auto font_bytes = blank_font();
    gfx::Font font;
    REQUIRE(gfx::parse_psf(font_bytes, font).ok());
    const std::uint32_t width = 300, height = 120;
    std::vector<std::uint32_t> pixels(width * height, 0);
    gfx::Surface surface(reinterpret_cast<std::uint8_t*>(pixels.data()), width * 4, width, height,
                         gfx::PixelFormat{});
    std::vector<gfx::AreaSample> areas = {{0, 100, 100}, {1, 100, 100}, {2, 100, 100}};
    auto cache = std::make_unique<gfx::PictureCache>();
    gfx::draw_picture(surface, font, areas, {}, *cache);
    gfx::PictureGrid grid =
        gfx::layout_grid(areas.size(), gfx::layout_picture(width, height, font).cells);
    auto centre = [&](std::size_t i) {
        gfx::Rect cell = grid.cell(i);
        return surface.get(cell.x + cell.width / 2, cell.y + cell.height / 2);
    };
    // Scribble on cells 0 and 1; then only area 1 changes. The scribble on 0 shows that an
    // unchanged cell is not written again; cell 1 is.
    surface.put(grid.cell(0).x + grid.cell(0).width / 2, grid.cell(0).y + grid.cell(0).height / 2,
                0x123456);
    surface.put(grid.cell(1).x + grid.cell(1).width / 2, grid.cell(1).y + grid.cell(1).height / 2,
                0x123456);
    areas[1].free = 0;
    gfx::draw_picture(surface, font, areas, {}, *cache);
    CHECK(centre(0) == 0x123456u);
    CHECK(surface.format().unpack(centre(1)) == gfx::area_colour(areas[1]));
    // An invalid cache repaints everything.
    cache->valid = false;
    gfx::draw_picture(surface, font, areas, {}, *cache);
    CHECK(surface.format().unpack(centre(0)) == gfx::area_colour(areas[0]));
}
