#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "lib/format.hpp"
#include "lib/string.hpp"

namespace {

template <typename... Args>
std::string formatted(const char* pattern, const Args&... args) {
    char buffer[256];
    lib::format_to(buffer, sizeof(buffer), pattern, args...);
    return buffer;
}

}  // namespace

TEST_CASE("format: integers in decimal, hex and binary with padding") {
    CHECK(formatted("{}", 42) == "42");
    CHECK(formatted("{}", -42) == "-42");
    CHECK(formatted("{}", std::int64_t{INT64_MIN}) == "-9223372036854775808");
    CHECK(formatted("{}", std::uint64_t{UINT64_MAX}) == "18446744073709551615");
    CHECK(formatted("{:x}", 255u) == "ff");
    CHECK(formatted("{:X}", 255u) == "FF");
    CHECK(formatted("{:#x}", 255u) == "0xff");
    CHECK(formatted("{:016x}", 0xabcu) == "0000000000000abc");
    CHECK(formatted("{:010#x}", 0xabcu) == "0x00000abc");
    CHECK(formatted("{:#014x}", 0x100000u) == "0x000000100000");
    CHECK(formatted("{:b}", 5u) == "101");
    CHECK(formatted("[{:5}]", 42) == "[   42]");
    CHECK(formatted("[{:<5}]", 42) == "[42   ]");
    CHECK(formatted("[{:05}]", -42) == "[-0042]");
}

TEST_CASE("format: strings, characters, booleans, pointers") {
    CHECK(formatted("[{:6}]", "ab") == "[ab    ]");
    CHECK(formatted("[{:>6}]", "ab") == "[    ab]");
    CHECK(formatted("{}{}", 'x', true) == "xtrue");
    CHECK(formatted("{}", static_cast<const char*>(nullptr)) == "(null)");
    CHECK(formatted("{}", reinterpret_cast<const void*>(0x1000)) == "0x1000");
    CHECK(formatted("{}", lib::StringView{"abcdef", 3}) == "abc");
}

TEST_CASE("format: byte sizes use binary units with one truncated decimal") {
    CHECK(formatted("{}", lib::Bytes{0}) == "0 B");
    CHECK(formatted("{}", lib::Bytes{1023}) == "1023 B");
    CHECK(formatted("{}", lib::Bytes{1024}) == "1 KiB");
    CHECK(formatted("{}", lib::Bytes{1536}) == "1.5 KiB");
    CHECK(formatted("{}", lib::Bytes{512ull << 20}) == "512 MiB");
    CHECK(formatted("{}", lib::Bytes{(1ull << 30) - 1}) == "1023.9 MiB");
    CHECK(formatted("{}", lib::Bytes{16ull << 30}) == "16 GiB");
}

TEST_CASE("format: braces, missing arguments and malformed placeholders are visible") {
    CHECK(formatted("{{}}") == "{}");
    CHECK(formatted("{} {}", 1) == "1 {?}");
    CHECK(formatted("{:q", 1) == "{:q");
}

TEST_CASE("format: a small buffer truncates and stays terminated") {
    char buffer[5];
    std::size_t kept = lib::format_to(buffer, sizeof(buffer), "{}", 123456);
    CHECK(kept == 4);
    CHECK(std::string(buffer) == "1234");
}

TEST_CASE("parse_unsigned: decimal, hex, suffixes and rejections") {
    std::uint64_t value = 0;
    CHECK(lib::parse_unsigned("123", value));
    CHECK(value == 123);
    CHECK(lib::parse_unsigned("0x1F", value));
    CHECK(value == 31);
    CHECK(lib::parse_unsigned("4K", value));
    CHECK(value == 4096);
    CHECK(lib::parse_unsigned("2M", value));
    CHECK(value == 2u << 20);
    CHECK_FALSE(lib::parse_unsigned("", value));
    CHECK_FALSE(lib::parse_unsigned("0x", value));
    CHECK_FALSE(lib::parse_unsigned("12a", value));
    CHECK_FALSE(lib::parse_unsigned("99999999999999999999", value));
    CHECK_FALSE(lib::parse_unsigned("-1", value));
}
