// Small string and memory helpers that work the same in the kernel and on the host.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lib {

constexpr std::size_t string_length(const char* text) {
    std::size_t n = 0;
    while (text[n] != '\0') {
        ++n;
    }
    return n;
}

// Bounded: never reads past `limit` characters, for strings from untrusted input.
constexpr std::size_t string_length_bounded(const char* text, std::size_t limit) {
    std::size_t n = 0;
    while (n < limit && text[n] != '\0') {
        ++n;
    }
    return n;
}

constexpr bool strings_equal(const char* a, const char* b) {
    while (*a != '\0' && *a == *b) {
        ++a;
        ++b;
    }
    return *a == *b;
}

// Negative, zero or positive as `a` sorts before, with or after `b` (bytewise).
constexpr int compare_strings(const char* a, const char* b) {
    while (*a != '\0' && *a == *b) {
        ++a;
        ++b;
    }
    return int(static_cast<unsigned char>(*a)) - int(static_cast<unsigned char>(*b));
}

constexpr bool starts_with(const char* text, const char* prefix) {
    while (*prefix != '\0') {
        if (*text++ != *prefix++) {
            return false;
        }
    }
    return true;
}

inline void copy_memory(void* destination, const void* source, std::size_t length) {
    __builtin_memcpy(destination, source, length);
}

inline void fill_memory(void* destination, int value, std::size_t length) {
    __builtin_memset(destination, value, length);
}

// Parses an unsigned number in decimal or, with a 0x prefix, hex; optional K/M/G suffix
// (binary multiples). Returns false on anything else, including overflow.
bool parse_unsigned(const char* text, std::uint64_t& out);

}  // namespace lib
