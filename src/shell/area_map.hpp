#pragma once

#include <cstddef>

namespace shell {

// Prints the map, `width` areas per row (8..200), with its legend.
void print_area_map(std::size_t width);

}  // namespace shell
