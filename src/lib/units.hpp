// Binary size units, written once: memory sizes in this kernel are always powers of two.
#pragma once

#include <cstdint>

namespace lib {

inline constexpr std::uint64_t KiB = std::uint64_t{1} << 10;
inline constexpr std::uint64_t MiB = std::uint64_t{1} << 20;
inline constexpr std::uint64_t GiB = std::uint64_t{1} << 30;

}  // namespace lib
