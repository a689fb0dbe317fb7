// The one way platform-free code reads a multi-byte value from bytes it was handed (firmware
// tables, the loader's information): memcpy from bytes whose bounds the caller has checked.
// Neither gives an alignment guarantee, and reading through a cast pointer would make an
// unaligned read undefined behaviour. x86_64 is little-endian, as both formats are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace lib {

template <typename T>
T load_unaligned(const std::uint8_t* bytes, std::size_t offset) {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    __builtin_memcpy(&value, bytes + offset, sizeof(T));
    return value;
}

}  // namespace lib
