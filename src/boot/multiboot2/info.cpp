#include "boot/multiboot2/info.hpp"

#include "lib/string.hpp"
#include "lib/unaligned.hpp"

namespace multiboot2 {
namespace {

using lib::load_unaligned;
using mm::PhysRange;

void reset(Info& out) {
    out.memory_map.clear();
    out.modules.clear();
    out.command_line = nullptr;
    out.loader_name = nullptr;
    out.rsdp = Rsdp{};
    out.framebuffer = Framebuffer{};
    out.total_size = 0;
    out.problems.clear();
    out.dropped_problems = 0;
}

class Parser {
  public:
    Parser(const std::uint8_t* bytes, Info& out) : bytes_(bytes), out_(out) {}

    void run(std::size_t readable);

  private:
    void report(ProblemKind kind, std::size_t offset, std::uint32_t tag_type,
                const char* description);
    void parse_tag(std::size_t offset, layout::TagHeader tag);
    void parse_string(std::size_t offset, layout::TagHeader tag, const char*& field);
    void parse_module(std::size_t offset, layout::TagHeader tag);
    void parse_memory_map(std::size_t offset, layout::TagHeader tag);
    void parse_framebuffer(std::size_t offset, layout::TagHeader tag);
    void parse_rsdp(std::size_t offset, layout::TagHeader tag, RsdpVersion version);

    // Returns the string in [begin, end) if a NUL ends it there, else nullptr.
    const char* string_in(std::size_t begin, std::size_t end) const;

    // Tags that may appear once: the first accepted one counts, later ones are reported.
    bool accept_once(std::size_t offset, layout::TagHeader tag);
    void mark_accepted(layout::TagHeader tag) { accepted_ |= std::uint32_t{1} << tag.type; }

    const std::uint8_t* bytes_;
    Info& out_;
    std::uint32_t accepted_ = 0;  // Bit n: a tag of type n (< 32) was accepted.
    bool modules_overflowed_ = false;
};

void Parser::report(ProblemKind kind, std::size_t offset, std::uint32_t tag_type,
                    const char* description) {
    if (!out_.problems.push_back(Problem{kind, offset, tag_type, description})) {
        ++out_.dropped_problems;
    }
}

void Parser::run(std::size_t readable) {
    if (bytes_ == nullptr || readable < sizeof(layout::InfoHeader)) {
        report(ProblemKind::header_truncated, 0, kNoTag, "fixed part not readable");
        return;
    }
    const auto header = load_unaligned<layout::InfoHeader>(bytes_, 0);
    out_.total_size = header.total_size;
    if (header.total_size < layout::kMinimumTotalSize) {
        report(ProblemKind::total_size_too_small, 0, kNoTag, "total_size below 16");
        return;
    }
    std::size_t limit = header.total_size;
    if (limit > readable) {
        report(ProblemKind::total_size_exceeds_readable, 0, kNoTag,
               "total_size beyond readable bytes; parsing only those");
        limit = readable;
    }
    if (header.total_size % layout::kTagAlignment != 0) {
        report(ProblemKind::total_size_misaligned, 0, kNoTag, "total_size not a multiple of 8");
    }

    std::size_t offset = sizeof(layout::InfoHeader);
    for (;;) {
        if (offset > limit || limit - offset < sizeof(layout::TagHeader)) {
            // Padding after the last tag may point past the end; report where the bytes end.
            report(ProblemKind::missing_end_tag, offset < limit ? offset : limit, kNoTag,
                   "no end tag before total_size");
            return;
        }
        const auto tag = load_unaligned<layout::TagHeader>(bytes_, offset);
        // Past either check the size field is garbage, so the next tag cannot be located.
        if (tag.size < sizeof(layout::TagHeader)) {
            report(ProblemKind::tag_size_too_small, offset, tag.type, "tag size below 8");
            return;
        }
        if (tag.size > limit - offset) {
            report(ProblemKind::tag_past_end, offset, tag.type, "tag runs past total_size");
            return;
        }
        if (tag.type == static_cast<std::uint32_t>(layout::TagType::end)) {
            return;
        }
        parse_tag(offset, tag);
        offset += mm::align_up(tag.size, layout::kTagAlignment);
    }
}

void Parser::parse_tag(std::size_t offset, layout::TagHeader tag) {
    switch (static_cast<layout::TagType>(tag.type)) {
        case layout::TagType::command_line:
            parse_string(offset, tag, out_.command_line);
            return;
        case layout::TagType::boot_loader_name:
            parse_string(offset, tag, out_.loader_name);
            return;
        case layout::TagType::module:
            parse_module(offset, tag);
            return;
        case layout::TagType::memory_map:
            parse_memory_map(offset, tag);
            return;
        case layout::TagType::framebuffer:
            parse_framebuffer(offset, tag);
            return;
        case layout::TagType::acpi_old_rsdp:
            parse_rsdp(offset, tag, RsdpVersion::v1);
            return;
        case layout::TagType::acpi_new_rsdp:
            parse_rsdp(offset, tag, RsdpVersion::v2);
            return;
        case layout::TagType::end:
            break;
    }
    // Unknown or unneeded tags (ELF sections, EFI tables, ...) are not the parser's concern.
}

const char* Parser::string_in(std::size_t begin, std::size_t end) const {
    for (std::size_t i = begin; i < end; ++i) {
        if (bytes_[i] == 0) {
            return reinterpret_cast<const char*>(bytes_ + begin);
        }
    }
    return nullptr;
}

bool Parser::accept_once(std::size_t offset, layout::TagHeader tag) {
    if ((accepted_ & (std::uint32_t{1} << tag.type)) != 0) {
        report(ProblemKind::duplicate_tag, offset, tag.type, "repeated tag ignored");
        return false;
    }
    return true;
}

void Parser::parse_string(std::size_t offset, layout::TagHeader tag, const char*& field) {
    if (!accept_once(offset, tag)) {
        return;
    }
    const char* text = string_in(offset + layout::kStringTagFixedSize, offset + tag.size);
    if (text == nullptr) {
        report(ProblemKind::unterminated_string, offset, tag.type, "string without NUL");
        return;
    }
    field = text;
    mark_accepted(tag);
}

void Parser::parse_module(std::size_t offset, layout::TagHeader tag) {
    if (tag.size < sizeof(layout::ModuleTag)) {
        report(ProblemKind::tag_truncated, offset, tag.type, "module tag below 16 bytes");
        return;
    }
    const auto module = load_unaligned<layout::ModuleTag>(bytes_, offset);
    if (module.mod_end < module.mod_start) {
        report(ProblemKind::module_end_before_start, offset, tag.type, "module ends first");
        return;
    }
    // The module itself is still worth keeping (and reserving) without its command line.
    const char* cmdline = string_in(offset + sizeof(layout::ModuleTag), offset + tag.size);
    if (cmdline == nullptr) {
        report(ProblemKind::unterminated_string, offset, tag.type, "module string without NUL");
    }
    const BootModule entry{PhysRange{module.mod_start, module.mod_end}, cmdline};
    if (!out_.modules.push_back(entry) && !modules_overflowed_) {
        modules_overflowed_ = true;
        report(ProblemKind::too_many_modules, offset, tag.type, "modules beyond capacity dropped");
    }
}

void Parser::parse_memory_map(std::size_t offset, layout::TagHeader tag) {
    if (!accept_once(offset, tag)) {
        return;
    }
    if (tag.size < sizeof(layout::MemoryMapTag)) {
        report(ProblemKind::tag_truncated, offset, tag.type, "memory map tag below 16 bytes");
        return;
    }
    const auto map = load_unaligned<layout::MemoryMapTag>(bytes_, offset);
    if (map.entry_size < sizeof(layout::MemoryMapEntry)) {
        report(ProblemKind::entry_size_too_small, offset, tag.type, "entry_size below 24");
        return;
    }
    mark_accepted(tag);
    const std::size_t payload = tag.size - sizeof(layout::MemoryMapTag);
    const std::size_t count = payload / map.entry_size;
    if (payload % map.entry_size != 0) {
        report(ProblemKind::memory_map_partial_entry, offset, tag.type,
               "bytes after the last whole entry ignored");
    }
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t at = offset + sizeof(layout::MemoryMapTag) + i * map.entry_size;
        const auto raw_entry = load_unaligned<layout::MemoryMapEntry>(bytes_, at);
        if (!out_.memory_map.push_back({raw_entry.base_addr, raw_entry.length, raw_entry.type})) {
            report(ProblemKind::too_many_memory_map_entries, at, tag.type,
                   "memory map entries beyond capacity dropped");
            return;
        }
    }
}

void Parser::parse_framebuffer(std::size_t offset, layout::TagHeader tag) {
    if (!accept_once(offset, tag)) {
        return;
    }
    if (tag.size < layout::kFramebufferCommonSize) {
        report(ProblemKind::tag_truncated, offset, tag.type, "framebuffer tag below 31 bytes");
        return;
    }
    // Field by field: a 31-byte tag at the very end would let a whole-struct copy overrun.
    using Tag = layout::FramebufferTag;
    Framebuffer& fb = out_.framebuffer;
    fb.present = true;
    fb.address = load_unaligned<std::uint64_t>(bytes_, offset + offsetof(Tag, framebuffer_addr));
    fb.pitch = load_unaligned<std::uint32_t>(bytes_, offset + offsetof(Tag, framebuffer_pitch));
    fb.width = load_unaligned<std::uint32_t>(bytes_, offset + offsetof(Tag, framebuffer_width));
    fb.height = load_unaligned<std::uint32_t>(bytes_, offset + offsetof(Tag, framebuffer_height));
    fb.bpp = bytes_[offset + offsetof(Tag, framebuffer_bpp)];
    fb.type = bytes_[offset + offsetof(Tag, framebuffer_type)];
    constexpr std::size_t kRgbEnd =
        layout::kFramebufferRgbFieldsOffset + sizeof(layout::FramebufferRgbFields);
    if (fb.type == layout::kFramebufferRgb && tag.size >= kRgbEnd) {
        fb.has_rgb_fields = true;
        lib::copy_memory(&fb.rgb, bytes_ + offset + layout::kFramebufferRgbFieldsOffset,
                         sizeof(fb.rgb));
    }
    mark_accepted(tag);
}

void Parser::parse_rsdp(std::size_t offset, layout::TagHeader tag, RsdpVersion version) {
    if (!accept_once(offset, tag)) {
        return;
    }
    const std::size_t length =
        version == RsdpVersion::v2 ? layout::kRsdpV2Size : layout::kRsdpV1Size;
    if (tag.size < sizeof(layout::TagHeader) + length) {
        report(ProblemKind::tag_truncated, offset, tag.type, "RSDP copy shorter than the RSDP");
        return;
    }
    mark_accepted(tag);
    // The v2 RSDP reaches the XSDT, which the v1 one cannot, so it wins whatever the order.
    if (version == RsdpVersion::v1 && out_.rsdp.version == RsdpVersion::v2) {
        return;
    }
    out_.rsdp = Rsdp{};
    out_.rsdp.version = version;
    out_.rsdp.length = static_cast<std::uint8_t>(length);
    __builtin_memcpy(out_.rsdp.bytes, bytes_ + offset + sizeof(layout::TagHeader), length);
}

}  // namespace

void parse(const std::uint8_t* bytes, std::size_t readable, Info& out) {
    reset(out);
    Parser(bytes, out).run(readable);
}

bool Info::usable() const {
    for (const mm::MemoryMapEntry& entry : memory_map) {
        if (entry.type == mm::raw(mm::MemoryType::available) && entry.length != 0) {
            return true;
        }
    }
    return false;
}

const char* to_string(ProblemKind kind) {
    switch (kind) {
        case ProblemKind::header_truncated:
            return "header truncated";
        case ProblemKind::total_size_too_small:
            return "total_size too small";
        case ProblemKind::total_size_exceeds_readable:
            return "total_size exceeds readable bytes";
        case ProblemKind::total_size_misaligned:
            return "total_size misaligned";
        case ProblemKind::tag_size_too_small:
            return "tag size too small";
        case ProblemKind::tag_past_end:
            return "tag past end";
        case ProblemKind::missing_end_tag:
            return "missing end tag";
        case ProblemKind::tag_truncated:
            return "tag truncated";
        case ProblemKind::duplicate_tag:
            return "duplicate tag";
        case ProblemKind::entry_size_too_small:
            return "memory map entry_size too small";
        case ProblemKind::memory_map_partial_entry:
            return "memory map partial entry";
        case ProblemKind::too_many_memory_map_entries:
            return "too many memory map entries";
        case ProblemKind::too_many_modules:
            return "too many modules";
        case ProblemKind::unterminated_string:
            return "unterminated string";
        case ProblemKind::module_end_before_start:
            return "module end before start";
    }
    return "unknown problem";
}

}  // namespace multiboot2
