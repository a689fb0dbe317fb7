// The \_S5_ search behind find_s5 (declared in acpi_power.hpp). AML encodings from ACPI 6.5,
// section 20.2: NameOp 0x08, RootChar '\', PackageOp 0x12, PkgLength, and the integer
// constants ZeroOp 0x00, OneOp 0x01, BytePrefix 0x0A, WordPrefix 0x0B, DWordPrefix 0x0C and
// QWordPrefix 0x0E.
#include "acpi/power.hpp"
#include "lib/unaligned.hpp"

namespace acpi {
namespace {

constexpr std::uint8_t kNameOp = 0x08;
constexpr std::uint8_t kRootChar = '\\';
constexpr std::uint8_t kPackageOp = 0x12;
constexpr std::uint8_t kZeroOp = 0x00;
constexpr std::uint8_t kOneOp = 0x01;
constexpr std::uint8_t kBytePrefix = 0x0A;
constexpr std::uint8_t kWordPrefix = 0x0B;
constexpr std::uint8_t kDWordPrefix = 0x0C;
constexpr std::uint8_t kQWordPrefix = 0x0E;
constexpr std::uint8_t kMaxSleepType = 7;  // SLP_TYP is a 3-bit field.
constexpr char kS5Name[4] = {'_', 'S', '5', '_'};

// Reads one package element at `at` (advanced past it), bounded by `end`. Only integers that
// fit SLP_TYP are accepted. Bare bytes 2-7 are not valid AML data objects, but hand-written
// tables use them and no valid encoding starts with them, so they cannot be misread.
lib::Result<std::uint8_t, Error> read_sleep_type(const std::uint8_t* aml, std::size_t& at,
                                                 std::size_t end) {
    if (at >= end) {
        return lib::fail(Error::bad_s5);
    }
    const std::uint8_t opcode = aml[at];
    std::size_t size = 0;  // Of the value after the prefix.
    switch (opcode) {
        case kZeroOp:
        case kOneOp:
            ++at;
            return opcode;
        case kBytePrefix:
            size = 1;
            break;
        case kWordPrefix:
            size = 2;
            break;
        case kDWordPrefix:
            size = 4;
            break;
        case kQWordPrefix:
            size = 8;
            break;
        default:
            if (opcode <= kMaxSleepType) {
                ++at;
                return opcode;
            }
            return lib::fail(Error::bad_s5);
    }
    if (end - at - 1 < size) {
        return lib::fail(Error::bad_s5);
    }
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < size; ++i) {
        value |= std::uint64_t{aml[at + 1 + i]} << (8 * i);  // AML integers are little-endian.
    }
    if (value > kMaxSleepType) {
        return lib::fail(Error::bad_s5);
    }
    at += 1 + size;
    return static_cast<std::uint8_t>(value);
}

// Parses `Package () { a, b, ... }` starting at the PackageOp at `at`, bounded by `end`.
lib::Result<SleepType, Error> parse_package(const std::uint8_t* aml, std::size_t at,
                                            std::size_t end) {
    if (at >= end || aml[at] != kPackageOp) {
        return lib::fail(Error::bad_s5);  // Named _S5_ but not a package (a method, say).
    }
    const std::size_t length_start = ++at;
    if (at >= end) {
        return lib::fail(Error::bad_s5);
    }
    // PkgLength: bits 7-6 of the lead byte count the bytes that follow (0-3). With none, bits
    // 5-0 are the length; otherwise bits 3-0 are its low nibble, bits 5-4 must be zero, and
    // each following byte adds 8 more bits. The length counts itself and the package body.
    const std::uint8_t lead = aml[at];
    const std::size_t follow = lead >> 6;
    if (follow != 0 && (lead & 0x30) != 0) {
        return lib::fail(Error::bad_s5);
    }
    if (end - at < 1 + follow) {
        return lib::fail(Error::bad_s5);
    }
    std::size_t package_length = follow == 0 ? (lead & 0x3F) : (lead & 0x0F);
    for (std::size_t i = 0; i < follow; ++i) {
        package_length |= std::size_t{aml[at + 1 + i]} << (4 + 8 * i);
    }
    at += 1 + follow;
    // The body must hold at least NumElements, and the package must end inside the table.
    if (package_length < 1 + follow + 1 || package_length > end - length_start) {
        return lib::fail(Error::bad_s5);
    }
    const std::size_t package_end = length_start + package_length;
    const std::uint8_t elements = aml[at++];
    if (elements < 2) {
        return lib::fail(Error::bad_s5);
    }
    auto a = read_sleep_type(aml, at, package_end);
    if (!a.ok()) {
        return lib::fail(a.error());
    }
    auto b = read_sleep_type(aml, at, package_end);
    if (!b.ok()) {
        return lib::fail(b.error());
    }
    return SleepType{a.value(), b.value()};
}

// True when the name at `at` follows a NameOp, directly or after the root prefix, and the
// opcode lies inside the AML (after the header at `begin`).
bool is_name_definition(const std::uint8_t* aml, std::size_t at, std::size_t begin) {
    if (at >= begin + 1 && aml[at - 1] == kNameOp) {
        return true;
    }
    return at >= begin + 2 && aml[at - 1] == kRootChar && aml[at - 2] == kNameOp;
}

}  // namespace

lib::Result<SleepType, Error> find_s5(std::span<const std::uint8_t> dsdt) {
    if (dsdt.size() < sizeof(SdtHeader)) {
        return lib::fail(Error::truncated);
    }
    const auto length =
        lib::load_unaligned<std::uint32_t>(dsdt.data(), offsetof(SdtHeader, length));
    if (length < sizeof(SdtHeader) || length > dsdt.size()) {
        return lib::fail(Error::truncated);
    }
    const std::uint8_t* aml = dsdt.data();
    const std::size_t begin = sizeof(SdtHeader);
    bool malformed = false;
    for (std::size_t at = begin; length - at >= sizeof(kS5Name); ++at) {
        if (__builtin_memcmp(aml + at, kS5Name, sizeof(kS5Name)) != 0 ||
            !is_name_definition(aml, at, begin)) {
            continue;
        }
        auto sleep_type = parse_package(aml, at + sizeof(kS5Name), length);
        if (sleep_type.ok()) {
            return sleep_type;
        }
        // Possibly a coincidence inside a string or buffer; keep looking.
        malformed = true;
    }
    return lib::fail(malformed ? Error::bad_s5 : Error::no_s5);
}

}  // namespace acpi
