#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "boot/multiboot2/info.hpp"
#include "mm/memory_regions.hpp"

namespace {

using mm::MemoryMapEntry;
using multiboot2::Info;
using multiboot2::ProblemKind;
namespace mb2 = multiboot2::layout;

constexpr std::uint32_t kAvailable = 1;
constexpr std::uint32_t kReserved = 2;
constexpr std::uint32_t kAcpiReclaimable = 3;

// Builds Multiboot2 information the way a loader lays it out: fixed part, tags padded to 8,
// end tag, total_size patched in by finish(). Raw helpers let tests lie about sizes.
class Image {
  public:
    Image() : bytes_(8, 0) {}

    // Appends a tag whose size field is header + payload unless `size` overrides it.
    std::size_t tag(std::uint32_t type, const std::vector<std::uint8_t>& payload,
                    std::uint32_t size = 0) {
        const std::size_t at = bytes_.size();
        put32(type);
        put32(size != 0 ? size : static_cast<std::uint32_t>(8 + payload.size()));
        bytes_.insert(bytes_.end(), payload.begin(), payload.end());
        pad();
        return at;
    }

    std::size_t string_tag(std::uint32_t type, const std::string& text) {
        return tag(type, with_nul(text));
    }

    std::size_t module(std::uint32_t start, std::uint32_t end, const std::string& text) {
        std::vector<std::uint8_t> payload = le32(start);
        append(payload, le32(end));
        append(payload, with_nul(text));
        return tag(3, payload);
    }

    std::size_t memory_map(std::initializer_list<MemoryMapEntry> entries,
                           std::uint32_t entry_size = 24, std::uint32_t extra_bytes = 0) {
        std::vector<std::uint8_t> payload = le32(entry_size);
        append(payload, le32(0));
        for (const MemoryMapEntry& entry : entries) {
            std::vector<std::uint8_t> raw = le64(entry.base);
            append(raw, le64(entry.length));
            append(raw, le32(entry.type));
            raw.resize(entry_size, 0xee);  // Fields from a future spec version.
            append(payload, raw);
        }
        payload.resize(payload.size() + extra_bytes, 0xcc);
        return tag(6, payload);
    }

    std::size_t rsdp(std::uint32_t type, std::uint8_t marker, std::size_t length) {
        std::vector<std::uint8_t> payload(length);
        for (std::size_t i = 0; i < length; ++i) {
            payload[i] = static_cast<std::uint8_t>(marker + i);
        }
        return tag(type, payload);
    }

    std::vector<std::uint8_t> finish() {
        tag(0, {});
        set32(0, static_cast<std::uint32_t>(bytes_.size()));
        return bytes_;
    }

    std::vector<std::uint8_t> finish_without_end_tag() {
        set32(0, static_cast<std::uint32_t>(bytes_.size()));
        return bytes_;
    }

    static std::vector<std::uint8_t> le32(std::uint32_t value) {
        std::vector<std::uint8_t> out(4);
        std::memcpy(out.data(), &value, 4);
        return out;
    }

    static std::vector<std::uint8_t> le64(std::uint64_t value) {
        std::vector<std::uint8_t> out(8);
        std::memcpy(out.data(), &value, 8);
        return out;
    }

  private:
    static std::vector<std::uint8_t> with_nul(const std::string& text) {
        std::vector<std::uint8_t> out(text.begin(), text.end());
        out.push_back(0);
        return out;
    }
    static void append(std::vector<std::uint8_t>& to, const std::vector<std::uint8_t>& from) {
        to.insert(to.end(), from.begin(), from.end());
    }
    void put32(std::uint32_t value) { append(bytes_, le32(value)); }
    void set32(std::size_t at, std::uint32_t value) { std::memcpy(&bytes_[at], &value, 4); }
    void pad() { bytes_.resize((bytes_.size() + 7) / 8 * 8, 0); }

    std::vector<std::uint8_t> bytes_;
};

void set32(std::vector<std::uint8_t>& bytes, std::size_t at, std::uint32_t value) {
    std::memcpy(&bytes[at], &value, 4);
}

// Parses a copy that holds exactly `readable` bytes, so AddressSanitizer flags any read past
// them, and that lives until the next parse, since the result points into it. Info is
// several KiB: keep it off the test's stack frames.
Info& parse(const std::vector<std::uint8_t>& bytes, std::size_t readable) {
    static std::unique_ptr<std::uint8_t[]> kept;
    static Info info;
    kept.reset(new std::uint8_t[readable]);
    std::memcpy(kept.get(), bytes.data(), readable);
    multiboot2::parse(kept.get(), readable, info);
    return info;
}

Info& parse(const std::vector<std::uint8_t>& bytes) {
    return parse(bytes, bytes.size());
}

std::size_t count(const Info& info, ProblemKind kind) {
    std::size_t n = 0;
    for (const multiboot2::Problem& problem : info.problems) {
        n += problem.kind == kind ? 1 : 0;
    }
    return n;
}

const multiboot2::Problem* find(const Info& info, ProblemKind kind) {
    for (const multiboot2::Problem& problem : info.problems) {
        if (problem.kind == kind) {
            return &problem;
        }
    }
    return nullptr;
}

// The map QEMU's SeaBIOS reports for -m 512M, including the reservation near 1 TiB.
const std::initializer_list<MemoryMapEntry> kQemuMap = {
    {0x0, 0x9fc00, kAvailable},       {0x9fc00, 0x400, kReserved},
    {0xf0000, 0x10000, kReserved},    {0x100000, 0x1fee0000, kAvailable},
    {0x1ffe0000, 0x20000, kReserved}, {0xfeffc000, 0x4000, kReserved},
    {0xfffc0000, 0x40000, kReserved}, {0xfd00000000, 0x300000000, kReserved},
};

}  // namespace

TEST_CASE("boot_info: a QEMU-like image yields every tag and no problems") {
    Image image;
    image.string_tag(1, "console=serial smp=4");
    image.string_tag(2, "GRUB 2.06");
    image.module(0x200000, 0x201234, "/boot/kernel.sym");
    image.memory_map(kQemuMap);
    std::vector<std::uint8_t> fb = Image::le64(0xfd000000);
    for (std::uint32_t v : {4096u, 1024u, 768u}) {
        const auto field = Image::le32(v);
        fb.insert(fb.end(), field.begin(), field.end());
    }
    fb.insert(fb.end(), {32, 1, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd});  // bpp, type, reserved, colours
    image.tag(8, fb);
    image.rsdp(14, 0x10, 20);
    const auto bytes = image.finish();

    const Info& info = parse(bytes);
    CHECK(info.problems.empty());
    CHECK(info.dropped_problems == 0);
    CHECK(info.total_size == bytes.size());
    REQUIRE(info.command_line != nullptr);
    CHECK(std::string(info.command_line) == "console=serial smp=4");
    REQUIRE(info.loader_name != nullptr);
    CHECK(std::string(info.loader_name) == "GRUB 2.06");
    REQUIRE(info.modules.size() == 1);
    CHECK(info.modules[0].range.begin == 0x200000);
    CHECK(info.modules[0].range.end == 0x201234);
    CHECK(std::string(info.modules[0].cmdline) == "/boot/kernel.sym");
    REQUIRE(info.memory_map.size() == kQemuMap.size());
    std::size_t i = 0;
    for (const MemoryMapEntry& expected : kQemuMap) {
        CHECK(info.memory_map[i].base == expected.base);
        CHECK(info.memory_map[i].length == expected.length);
        CHECK(info.memory_map[i].type == expected.type);
        ++i;
    }
    CHECK(info.framebuffer.present);
    CHECK(info.framebuffer.address == 0xfd000000);
    CHECK(info.framebuffer.pitch == 4096);
    CHECK(info.framebuffer.width == 1024);
    CHECK(info.framebuffer.height == 768);
    CHECK(info.framebuffer.bpp == 32);
    CHECK(info.framebuffer.type == 1);
    CHECK_FALSE(info.framebuffer.has_rgb_fields);  // 4 colour bytes: too few for the six fields
    CHECK(info.rsdp.version == multiboot2::RsdpVersion::v1);
    CHECK(info.rsdp.length == 20);
    CHECK(info.rsdp.bytes[0] == 0x10);
    CHECK(info.rsdp.bytes[19] == 0x10 + 19);
    CHECK(info.rsdp.bytes[20] == 0);
    CHECK(info.usable());
}

TEST_CASE("boot_info: entries above 4 GiB, at address 0 and of zero length are kept raw") {
    Image image;
    image.memory_map({
        {0x0, 0x1000, kAvailable},
        {0x100000000, 0xf00000000, kAvailable},  // 4 GiB .. 64 GiB
        {0x2000, 0, kAvailable},
        {0xffffffffffff0000, 0x20000, kReserved},  // Wraps; the builder clamps it, not the parser.
    });
    const Info& info = parse(image.finish());
    CHECK(info.problems.empty());
    REQUIRE(info.memory_map.size() == 4);
    CHECK(info.memory_map[0].base == 0);
    CHECK(info.memory_map[1].base == 0x100000000);
    CHECK(info.memory_map[1].length == 0xf00000000);
    CHECK(info.memory_map[2].length == 0);
    CHECK(info.memory_map[3].base == 0xffffffffffff0000);
    CHECK(info.memory_map[3].length == 0x20000);
}

TEST_CASE("boot_info: a map without available memory is not usable") {
    Image image;
    image.memory_map({{0x0, 0x1000, kReserved}, {0x100000, 0, kAvailable}});
    const Info& info = parse(image.finish());
    CHECK(info.problems.empty());
    CHECK_FALSE(info.usable());
    CHECK_FALSE(parse(Image().finish()).usable());
}

TEST_CASE("boot_info: memory map entries use entry_size as the stride") {
    Image image;
    image.memory_map({{0x0, 0x9f000, kAvailable}, {0x100000, 0x100000, kAvailable}}, 32);
    const Info& info = parse(image.finish());
    CHECK(info.problems.empty());
    REQUIRE(info.memory_map.size() == 2);
    CHECK(info.memory_map[1].base == 0x100000);
    CHECK(info.memory_map[1].length == 0x100000);
}

TEST_CASE("boot_info: entry_size below 24 skips the map but not the tags after it") {
    Image image;
    const std::size_t at = image.memory_map({{0x0, 0x9f000, kAvailable}}, 16);
    image.string_tag(1, "after");
    const Info& info = parse(image.finish());
    CHECK(info.memory_map.empty());
    const multiboot2::Problem* problem = find(info, ProblemKind::entry_size_too_small);
    REQUIRE(problem != nullptr);
    CHECK(problem->offset == at);
    CHECK(problem->tag_type == 6);
    REQUIRE(info.command_line != nullptr);
    CHECK(std::string(info.command_line) == "after");
}

TEST_CASE("boot_info: a map claiming a partial entry keeps only the whole ones") {
    Image image;
    image.memory_map({{0x0, 0x9f000, kAvailable}, {0x100000, 0x100000, kAvailable}}, 24, 12);
    const Info& info = parse(image.finish());
    CHECK(info.memory_map.size() == 2);
    CHECK(count(info, ProblemKind::memory_map_partial_entry) == 1);
    CHECK(info.problems.size() == 1);
}

TEST_CASE("boot_info: a second memory map is reported and ignored") {
    Image image;
    image.memory_map({{0x0, 0x9f000, kAvailable}});
    const std::size_t second = image.memory_map({{0x0, 0x40000000, kAvailable}});
    const Info& info = parse(image.finish());
    REQUIRE(info.memory_map.size() == 1);
    CHECK(info.memory_map[0].length == 0x9f000);
    const multiboot2::Problem* problem = find(info, ProblemKind::duplicate_tag);
    REQUIRE(problem != nullptr);
    CHECK(problem->offset == second);
    CHECK(problem->tag_type == 6);
}

TEST_CASE("boot_info: memory map entries beyond capacity are dropped and reported once") {
    Image image;
    std::vector<std::uint8_t> payload = Image::le32(24);
    payload.resize(8, 0);
    for (std::uint64_t i = 0; i < Info::kMaxMemoryMapEntries + 44; ++i) {
        for (auto field : {Image::le64(i * 0x2000), Image::le64(0x1000), Image::le64(kAvailable)}) {
            payload.insert(payload.end(), field.begin(), field.end());
        }
    }
    image.tag(6, payload);
    const Info& info = parse(image.finish());
    CHECK(info.memory_map.size() == Info::kMaxMemoryMapEntries);
    CHECK(info.memory_map[255].base == 255 * 0x2000);
    CHECK(count(info, ProblemKind::too_many_memory_map_entries) == 1);
}

TEST_CASE("boot_info: total_size beyond the readable bytes parses only what is readable") {
    Image image;
    image.string_tag(1, "kept");
    const std::size_t cut = image.string_tag(2, "this tag is cut off");
    const auto bytes = image.finish();
    const Info& info = parse(bytes, cut + 12);
    CHECK(info.total_size == bytes.size());
    CHECK(count(info, ProblemKind::total_size_exceeds_readable) == 1);
    REQUIRE(info.command_line != nullptr);
    CHECK(std::string(info.command_line) == "kept");
    CHECK(info.loader_name == nullptr);
    const multiboot2::Problem* problem = find(info, ProblemKind::tag_past_end);
    REQUIRE(problem != nullptr);
    CHECK(problem->offset == cut);
}

TEST_CASE("boot_info: a broken fixed part stops parsing before any tag") {
    Image image;
    image.string_tag(1, "never read");
    auto bytes = image.finish();

    CHECK(count(parse(bytes, 7), ProblemKind::header_truncated) == 1);
    Info& none = parse(bytes, 0);
    CHECK(count(none, ProblemKind::header_truncated) == 1);
    multiboot2::parse(nullptr, 64, none);
    CHECK(count(none, ProblemKind::header_truncated) == 1);

    set32(bytes, 0, 12);
    const Info& small = parse(bytes);
    CHECK(count(small, ProblemKind::total_size_too_small) == 1);
    CHECK(small.problems.size() == 1);
    CHECK(small.command_line == nullptr);
}

TEST_CASE("boot_info: total_size not a multiple of 8 is reported but parsed") {
    Image image;
    image.string_tag(1, "abc");
    auto bytes = image.finish();
    bytes.push_back(0);
    set32(bytes, 0, static_cast<std::uint32_t>(bytes.size()));
    const Info& info = parse(bytes);
    CHECK(count(info, ProblemKind::total_size_misaligned) == 1);
    CHECK(info.problems.size() == 1);
    REQUIRE(info.command_line != nullptr);
}

TEST_CASE("boot_info: a tag running past total_size stops parsing there") {
    Image image;
    image.memory_map({{0x0, 0x9f000, kAvailable}});
    const std::size_t bad = image.tag(1, {'x', 0}, 4000);
    const auto bytes = image.finish();
    const Info& info = parse(bytes);
    CHECK(info.memory_map.size() == 1);
    CHECK(info.command_line == nullptr);
    const multiboot2::Problem* problem = find(info, ProblemKind::tag_past_end);
    REQUIRE(problem != nullptr);
    CHECK(problem->offset == bad);
    CHECK(problem->tag_type == 1);
    CHECK(info.problems.size() == 1);
}

TEST_CASE("boot_info: a tag smaller than its header stops parsing there") {
    Image image;
    image.string_tag(2, "loader");
    const std::size_t bad = image.tag(1, {'x', 0}, 4);
    image.memory_map({{0x0, 0x9f000, kAvailable}});
    const Info& info = parse(image.finish());
    CHECK(info.loader_name != nullptr);
    CHECK(info.memory_map.empty());
    const multiboot2::Problem* problem = find(info, ProblemKind::tag_size_too_small);
    REQUIRE(problem != nullptr);
    CHECK(problem->offset == bad);
    CHECK_FALSE(info.usable());
}

TEST_CASE("boot_info: information without an end tag keeps its tags and is reported") {
    Image image;
    image.string_tag(1, "no end");
    const auto bytes = image.finish_without_end_tag();
    const Info& info = parse(bytes);
    REQUIRE(info.command_line != nullptr);
    const multiboot2::Problem* problem = find(info, ProblemKind::missing_end_tag);
    REQUIRE(problem != nullptr);
    CHECK(problem->offset == bytes.size());
}

TEST_CASE("boot_info: unterminated strings are not used") {
    Image image;
    image.tag(1, {'a', 'b', 'c'});
    image.tag(2, {});
    image.tag(3, {0x00, 0x10, 0, 0, 0x00, 0x20, 0, 0, 'm', 'o', 'd'});
    const Info& info = parse(image.finish());
    CHECK(info.command_line == nullptr);
    CHECK(info.loader_name == nullptr);
    // The module is kept: its frames must still be reserved.
    REQUIRE(info.modules.size() == 1);
    CHECK(info.modules[0].range.begin == 0x1000);
    CHECK(info.modules[0].range.end == 0x2000);
    CHECK(info.modules[0].cmdline == nullptr);
    CHECK(count(info, ProblemKind::unterminated_string) == 3);
}

TEST_CASE("boot_info: a later well-formed string tag replaces an unterminated one") {
    Image image;
    image.tag(1, {'a', 'b', 'c'});
    image.string_tag(1, "second");
    image.string_tag(1, "third");
    const Info& info = parse(image.finish());
    REQUIRE(info.command_line != nullptr);
    CHECK(std::string(info.command_line) == "second");
    CHECK(count(info, ProblemKind::unterminated_string) == 1);
    CHECK(count(info, ProblemKind::duplicate_tag) == 1);
}

TEST_CASE("boot_info: unknown and unneeded tags are skipped silently") {
    Image image;
    image.tag(4, Image::le64(0x0000027f0000027f));  // Basic memory information.
    image.tag(21, Image::le32(0x200000));           // Image load base.
    image.tag(0x7777, {1, 2, 3, 4, 5, 6, 7, 8, 9});
    image.string_tag(1, "still found");
    image.memory_map({{0x0, 0x9f000, kAvailable}});
    const Info& info = parse(image.finish());
    CHECK(info.problems.empty());
    REQUIRE(info.command_line != nullptr);
    CHECK(std::string(info.command_line) == "still found");
    CHECK(info.memory_map.size() == 1);
}

TEST_CASE("boot_info: the v2 RSDP wins over v1 in either order") {
    for (bool v2_first : {false, true}) {
        Image image;
        if (v2_first) {
            image.rsdp(15, 0x40, 36);
            image.rsdp(14, 0x10, 20);
        } else {
            image.rsdp(14, 0x10, 20);
            image.rsdp(15, 0x40, 36);
        }
        const Info& info = parse(image.finish());
        CHECK(info.problems.empty());
        CHECK(info.rsdp.version == multiboot2::RsdpVersion::v2);
        CHECK(info.rsdp.length == 36);
        CHECK(info.rsdp.bytes[0] == 0x40);
        CHECK(info.rsdp.bytes[35] == 0x40 + 35);
    }
}

TEST_CASE("boot_info: a short RSDP or framebuffer tag is skipped") {
    Image image;
    image.rsdp(15, 0x40, 20);  // A v1-sized copy in a v2 tag.
    image.rsdp(14, 0x10, 20);
    image.tag(8, std::vector<std::uint8_t>(20, 0));
    const Info& info = parse(image.finish());
    CHECK(info.rsdp.version == multiboot2::RsdpVersion::v1);
    CHECK(info.rsdp.bytes[0] == 0x10);
    CHECK_FALSE(info.framebuffer.present);
    CHECK(count(info, ProblemKind::tag_truncated) == 2);
}

TEST_CASE("boot_info: a 31-byte framebuffer tag (spec common part) is accepted") {
    Image image;
    std::vector<std::uint8_t> fb(23, 0);
    fb[20] = 24;  // bpp
    fb[21] = 2;   // EGA text
    image.tag(8, fb);
    const Info& info = parse(image.finish());
    CHECK(info.problems.empty());
    CHECK(info.framebuffer.present);
    CHECK(info.framebuffer.bpp == 24);
    CHECK(info.framebuffer.type == 2);
}

TEST_CASE("boot_info: modules keep order, bad ones are dropped, capacity is reported once") {
    Image image;
    image.module(0x300000, 0x300000, "empty");
    const std::size_t bad = image.module(0x500000, 0x400000, "backwards");
    for (std::uint32_t i = 0; i < Info::kMaxModules + 3; ++i) {
        image.module(0x1000000 + i * 0x10000, 0x1000000 + i * 0x10000 + 0x800, "m");
    }
    image.tag(3, {1, 2, 3, 4});  // Too small for start and end.
    const Info& info = parse(image.finish());
    REQUIRE(info.modules.size() == Info::kMaxModules);
    CHECK(info.modules[0].range.empty());
    CHECK(std::string(info.modules[0].cmdline) == "empty");
    CHECK(info.modules[1].range.begin == 0x1000000);
    CHECK(info.modules[15].range.begin == 0x1000000 + 14 * 0x10000);
    const multiboot2::Problem* backwards = find(info, ProblemKind::module_end_before_start);
    REQUIRE(backwards != nullptr);
    CHECK(backwards->offset == bad);
    CHECK(count(info, ProblemKind::too_many_modules) == 1);
    CHECK(count(info, ProblemKind::tag_truncated) == 1);
}

TEST_CASE("boot_info: problems beyond capacity are counted, not stored") {
    Image image;
    image.string_tag(1, "first");
    for (int i = 0; i < 20; ++i) {
        image.string_tag(1, "again");
    }
    const Info& info = parse(image.finish());
    CHECK(info.problems.size() == Info::kMaxProblems);
    CHECK(info.dropped_problems == 4);
    CHECK(std::string(info.command_line) == "first");
}

TEST_CASE("boot_info: unaligned input parses the same as aligned input") {
    Image image;
    image.string_tag(1, "unaligned");
    image.memory_map(kQemuMap);
    image.rsdp(15, 0x40, 36);
    const auto bytes = image.finish();
    std::vector<std::uint8_t> shifted(bytes.size() + 3);
    std::memcpy(shifted.data() + 3, bytes.data(), bytes.size());

    static Info info;
    multiboot2::parse(shifted.data() + 3, bytes.size(), info);
    CHECK(info.problems.empty());
    CHECK(std::string(info.command_line) == "unaligned");
    REQUIRE(info.memory_map.size() == kQemuMap.size());
    CHECK(info.memory_map[7].base == 0xfd00000000);
    CHECK(info.rsdp.version == multiboot2::RsdpVersion::v2);
}

TEST_CASE("boot_info: parsing again forgets the previous result") {
    Image full;
    full.string_tag(1, "old");
    full.memory_map(kQemuMap);
    full.rsdp(14, 0x10, 20);
    Info& info = parse(full.finish());
    REQUIRE(info.usable());
    parse(Image().finish());
    CHECK(info.memory_map.empty());
    CHECK(info.command_line == nullptr);
    CHECK(info.rsdp.version == multiboot2::RsdpVersion::none);
    CHECK(info.problems.empty());
}

TEST_CASE("boot_info: every problem kind has a name") {
    for (int kind = 0; kind <= static_cast<int>(ProblemKind::module_end_before_start); ++kind) {
        const char* name = multiboot2::to_string(static_cast<ProblemKind>(kind));
        REQUIRE(name != nullptr);
        CHECK(std::string(name) != "unknown problem");
    }
}

TEST_CASE("boot_info: a parsed QEMU map feeds the region builder end to end") {
    Image image;
    image.module(0x200000, 0x201234, "/boot/kernel.sym");
    image.memory_map(kQemuMap);
    const Info& info = parse(image.finish());
    REQUIRE(info.problems.empty());

    const mm::ReservedRange reserved[] = {
        {{0x0, 0x100000}, "first MiB"},
        {{0x100000, 0x180000}, "kernel image"},
        {info.modules[0].range, "module"},
    };
    static mm::MemoryLayout layout;
    mm::build_memory_layout({info.memory_map.data(), info.memory_map.size()}, reserved, layout);
    CHECK(layout.check_invariants());
    CHECK(layout.complete());
    REQUIRE(layout.usable.size() == 2);
    CHECK(layout.usable[0].begin == 0x180000);
    CHECK(layout.usable[0].end == 0x200000);
    CHECK(layout.usable[1].begin == 0x202000);
    CHECK(layout.usable[1].end == 0x1ffe0000);
    CHECK(layout.usable_bytes == 0x80000 + (0x1ffe0000 - 0x202000));
    CHECK(mm::bytes_of_type(layout, kAcpiReclaimable) == 0);
}

TEST_CASE("boot_info: a direct-RGB framebuffer tag yields its colour fields") {
    Image image;
    image.memory_map(kQemuMap);
    std::vector<std::uint8_t> fb = Image::le64(0x80000000);
    for (std::uint32_t v : {3200u, 800u, 600u}) {
        const auto field = Image::le32(v);
        fb.insert(fb.end(), field.begin(), field.end());
    }
    fb.insert(fb.end(), {32, 1, 0, 0, 16, 8, 8, 8, 0, 8});  // bpp, type, reserved, x8r8g8b8
    image.tag(8, fb);
    const auto bytes = image.finish();
    const Info& info = parse(bytes);
    CHECK(info.problems.empty());
    REQUIRE(info.framebuffer.has_rgb_fields);
    CHECK(info.framebuffer.rgb.red_field_position == 16);
    CHECK(info.framebuffer.rgb.green_field_position == 8);
    CHECK(info.framebuffer.rgb.blue_field_position == 0);
    CHECK(info.framebuffer.rgb.blue_mask_size == 8);
}
