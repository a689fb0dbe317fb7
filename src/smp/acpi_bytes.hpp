// The one way the ACPI code reads a multi-byte value: memcpy from bytes whose bounds the caller
// has checked. Firmware gives no alignment guarantee, and a cast pointer would make an
// unaligned read undefined behaviour.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace acpi {

template <typename T>
T load(const std::uint8_t* bytes, std::size_t offset) {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    __builtin_memcpy(&value, bytes + offset, sizeof(T));
    return value;
}

}  // namespace acpi
