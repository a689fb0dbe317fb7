#include "gfx/psf.hpp"

#include "lib/string.hpp"
#include "lib/unaligned.hpp"

namespace gfx {
namespace {

constexpr std::uint8_t kPsf1Magic[2] = {0x36, 0x04};
constexpr std::uint8_t kPsf1Mode512 = 0x01;
constexpr std::uint8_t kPsf1ModeHasTab = 0x02;
constexpr std::uint8_t kPsf1ModeSeq = 0x04;
constexpr std::size_t kPsf1HeaderSize = 4;
constexpr std::uint16_t kPsf1Separator = 0xffff;
constexpr std::uint16_t kPsf1StartSequence = 0xfffe;

constexpr std::uint32_t kPsf2Magic = 0x864ab572;
constexpr std::uint32_t kPsf2HasUnicodeTable = 0x01;
constexpr std::size_t kPsf2HeaderSize = 32;
constexpr std::uint8_t kPsf2Separator = 0xff;
constexpr std::uint8_t kPsf2StartSequence = 0xfe;

// The PSF2 header (all little-endian 32-bit words), read field by field from the bytes.
struct Psf2Header {
    std::uint32_t magic, version, header_size, flags, length, glyph_size, height, width;
};
static_assert(sizeof(Psf2Header) == kPsf2HeaderSize);

void record(Font& font, std::uint32_t code_point, std::uint32_t glyph) {
    // The first glyph listed for a code point wins, as the kernel's console does.
    if (code_point < 256 && font.latin1[code_point] == Font::kNoGlyph) {
        font.latin1[code_point] = std::uint16_t(glyph);
    }
}

// PSF1 table: per glyph, 16-bit code points up to 0xFFFF; 0xFFFE starts combining sequences,
// which name no single character and are skipped.
void read_psf1_table(std::span<const std::uint8_t> table, Font& font) {
    std::uint32_t glyph = 0;
    bool in_sequence = false;
    for (std::size_t i = 0; i + 2 <= table.size() && glyph < font.glyph_count; i += 2) {
        std::uint16_t value = lib::load_unaligned<std::uint16_t>(table.data(), i);
        if (value == kPsf1Separator) {
            ++glyph;
            in_sequence = false;
        } else if (value == kPsf1StartSequence) {
            in_sequence = true;
        } else if (!in_sequence) {
            record(font, value, glyph);
        }
    }
}

// PSF2 table: per glyph, UTF-8 characters; 0xFE starts sequences, 0xFF ends the glyph's entry.
void read_psf2_table(std::span<const std::uint8_t> table, Font& font) {
    std::uint32_t glyph = 0;
    bool in_sequence = false;
    for (std::size_t i = 0; i < table.size() && glyph < font.glyph_count;) {
        std::uint8_t lead = table[i];
        if (lead == kPsf2Separator) {
            ++glyph;
            in_sequence = false;
            ++i;
            continue;
        }
        if (lead == kPsf2StartSequence) {
            in_sequence = true;
            ++i;
            continue;
        }
        // Only one- and two-byte UTF-8 reach below 256; longer ones are stepped over whole.
        std::size_t length = lead < 0x80             ? 1
                             : (lead & 0xe0) == 0xc0 ? 2
                             : (lead & 0xf0) == 0xe0 ? 3
                                                     : 4;
        if (i + length > table.size()) {
            break;
        }
        std::uint32_t code_point = lead;
        if (length == 2) {
            code_point = ((lead & 0x1fu) << 6) | (table[i + 1] & 0x3fu);
        }
        if (!in_sequence && length <= 2) {
            record(font, code_point, glyph);
        }
        i += length;
    }
}

void fill_identity_gaps(Font& font) {
    for (std::uint32_t c = 0; c < 256; ++c) {
        if (font.latin1[c] == Font::kNoGlyph && !font.has_unicode_table && c < font.glyph_count) {
            font.latin1[c] = std::uint16_t(c);
        }
    }
}

}  // namespace

const char* to_string(PsfError error) {
    switch (error) {
        case PsfError::truncated:
            return "truncated";
        case PsfError::bad_magic:
            return "not a PSF font";
        case PsfError::bad_header:
            return "inconsistent header";
        case PsfError::unsupported_size:
            return "unsupported glyph size";
    }
    return "?";
}

std::uint32_t Font::glyph_for(unsigned char c) const {
    if (latin1[c] != kNoGlyph) {
        return latin1[c];
    }
    if (latin1[static_cast<unsigned char>('?')] != kNoGlyph) {
        return latin1[static_cast<unsigned char>('?')];
    }
    return 0;
}

lib::Result<const Font*, PsfError> parse_psf(std::span<const std::uint8_t> bytes, Font& out) {
    out = Font{};
    for (std::uint16_t& glyph : out.latin1) {
        glyph = Font::kNoGlyph;
    }
    std::size_t glyph_bytes = 0;
    std::size_t glyphs_at = 0;
    if (bytes.size() >= kPsf1HeaderSize && bytes[0] == kPsf1Magic[0] && bytes[1] == kPsf1Magic[1]) {
        std::uint8_t mode = bytes[2];
        out.version = 1;
        out.width = 8;
        out.bytes_per_row = 1;
        out.height = bytes[3];
        out.glyph_count = (mode & kPsf1Mode512) ? 512 : 256;
        out.has_unicode_table = (mode & (kPsf1ModeHasTab | kPsf1ModeSeq)) != 0;
        glyphs_at = kPsf1HeaderSize;
    } else if (bytes.size() >= 4 &&
               lib::load_unaligned<std::uint32_t>(bytes.data(), 0) == kPsf2Magic) {
        if (bytes.size() < kPsf2HeaderSize) {
            return lib::fail(PsfError::truncated);
        }
        Psf2Header header;
        lib::copy_memory(&header, bytes.data(), sizeof(header));
        if (header.header_size < kPsf2HeaderSize || header.header_size > bytes.size()) {
            return lib::fail(PsfError::bad_header);
        }
        if (header.width == 0 || header.width > Font::kMaxWidth || header.height == 0 ||
            header.height > Font::kMaxHeight || header.length == 0 || header.length > 65535) {
            return lib::fail(PsfError::unsupported_size);
        }
        out.version = 2;
        out.width = header.width;
        out.height = header.height;
        out.bytes_per_row = (header.width + 7) / 8;
        if (header.glyph_size != out.bytes_per_row * out.height) {
            return lib::fail(PsfError::bad_header);
        }
        out.glyph_count = header.length;
        out.has_unicode_table = (header.flags & kPsf2HasUnicodeTable) != 0;
        glyphs_at = header.header_size;
    } else {
        return lib::fail(bytes.size() < 2 ? PsfError::truncated : PsfError::bad_magic);
    }
    if (out.height == 0 || out.height > Font::kMaxHeight) {
        return lib::fail(PsfError::unsupported_size);
    }
    glyph_bytes = std::size_t(out.glyph_count) * out.height * out.bytes_per_row;
    if (bytes.size() - glyphs_at < glyph_bytes) {
        return lib::fail(PsfError::truncated);
    }
    out.glyphs = bytes.data() + glyphs_at;
    std::span<const std::uint8_t> table = bytes.subspan(glyphs_at + glyph_bytes);
    if (out.has_unicode_table) {
        if (out.version == 1) {
            read_psf1_table(table, out);
        } else {
            read_psf2_table(table, out);
        }
    }
    fill_identity_gaps(out);
    return static_cast<const Font*>(&out);
}

}  // namespace gfx
