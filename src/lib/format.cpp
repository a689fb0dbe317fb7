#include "lib/format.hpp"

#include "lib/string.hpp"

namespace lib {
namespace {

struct Spec {
    char align = '>';  // numbers right-aligned, strings left-aligned unless told otherwise
    bool align_given = false;
    bool zero_pad = false;
    bool prefix = false;
    std::size_t width = 0;
    char type = 0;
};

// Parses the text between ':' and '}'; returns the position after '}' or nullptr if malformed.
const char* parse_spec(const char* p, Spec& spec) {
    if (*p == '#') {  // std::format's position; also accepted just before the type
        spec.prefix = true;
        ++p;
    }
    if (*p == '0') {
        spec.zero_pad = true;
        ++p;
    }
    if (*p == '<' || *p == '>') {
        spec.align = *p++;
        spec.align_given = true;
    }
    while (*p >= '0' && *p <= '9') {
        spec.width = spec.width * 10 + std::size_t(*p++ - '0');
        if (spec.width > 200) {
            spec.width = 200;  // bounded: padding comes from a stack buffer-free loop anyway
        }
    }
    if (*p == '#') {
        spec.prefix = true;
        ++p;
    }
    if (*p != '}') {
        spec.type = *p++;
    }
    return *p == '}' ? p + 1 : nullptr;
}

void pad(Sink& sink, char fill, std::size_t count) {
    char run[16];
    for (char& c : run) {
        c = fill;
    }
    while (count > 0) {
        std::size_t chunk = count < sizeof(run) ? count : sizeof(run);
        sink.write(run, chunk);
        count -= chunk;
    }
}

void emit(Sink& sink, const Spec& spec, const char* text, std::size_t length, bool numeric) {
    char align = spec.align_given ? spec.align : (numeric ? '>' : '<');
    std::size_t padding = spec.width > length ? spec.width - length : 0;
    if (align == '>' && padding > 0) {
        if (spec.zero_pad && numeric) {
            // Zero padding goes between a sign or prefix and the digits.
            std::size_t lead = 0;
            if (length > 0 && text[0] == '-') {
                lead = 1;
            } else if (length > 1 && text[0] == '0' && (text[1] == 'x' || text[1] == 'b')) {
                lead = 2;
            }
            sink.write(text, lead);
            pad(sink, '0', padding);
            sink.write(text + lead, length - lead);
            return;
        }
        pad(sink, ' ', padding);
    }
    sink.write(text, length);
    if (align == '<') {
        pad(sink, ' ', padding);
    }
}

std::size_t to_digits(std::uint64_t value, unsigned base, bool upper, char* out) {
    const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char reversed[64];
    std::size_t n = 0;
    do {
        reversed[n++] = digits[value % base];
        value /= base;
    } while (value != 0);
    for (std::size_t i = 0; i < n; ++i) {
        out[i] = reversed[n - 1 - i];
    }
    return n;
}

void emit_unsigned(Sink& sink, const Spec& spec, std::uint64_t value, bool negative) {
    char text[72];
    std::size_t n = 0;
    unsigned base = 10;
    if (spec.type == 'x' || spec.type == 'X' || spec.type == 'p') {
        base = 16;
    } else if (spec.type == 'b') {
        base = 2;
    }
    if (negative) {
        text[n++] = '-';
    }
    if (spec.prefix || spec.type == 'p') {
        text[n++] = '0';
        text[n++] = base == 2 ? 'b' : 'x';
    }
    n += to_digits(value, base, spec.type == 'X', text + n);
    emit(sink, spec, text, n, true);
}

void emit_bytes(Sink& sink, const Spec& spec, std::uint64_t count) {
    static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    unsigned unit = 0;
    std::uint64_t whole = count;
    std::uint64_t remainder = 0;  // of the last division, to print one decimal
    std::uint64_t divisor = 1;
    while (whole >= 1024 && unit + 1 < sizeof(units) / sizeof(units[0])) {
        divisor = std::uint64_t{1} << (10 * (unit + 1));
        ++unit;
        whole = count / divisor;
        remainder = count % divisor;
    }
    char text[40];
    std::size_t n = to_digits(whole, 10, false, text);
    if (unit > 0 && remainder != 0) {
        // One decimal, truncated, so "1023.9 MiB" never rounds up to a misleading "1024.0 MiB".
        std::uint64_t tenth = (remainder / (divisor / 1024)) * 10 / 1024;
        text[n++] = '.';
        text[n++] = char('0' + tenth);
    }
    text[n++] = ' ';
    std::size_t unit_length = string_length(units[unit]);
    copy_memory(text + n, units[unit], unit_length);
    n += unit_length;
    emit(sink, spec, text, n, true);
}

void emit_arg(Sink& sink, const Spec& spec, const FormatArg& arg) {
    switch (arg.kind) {
        case FormatArg::Kind::signed_int:
            if (spec.type == 'c') {
                char c = char(arg.signed_value);
                emit(sink, spec, &c, 1, false);
            } else if (arg.signed_value < 0 && (spec.type == 0 || spec.type == 'd')) {
                emit_unsigned(sink, spec, 0 - std::uint64_t(arg.signed_value), true);
            } else {
                emit_unsigned(sink, spec, std::uint64_t(arg.signed_value), false);
            }
            return;
        case FormatArg::Kind::unsigned_int:
            emit_unsigned(sink, spec, arg.unsigned_value, false);
            return;
        case FormatArg::Kind::boolean:
            emit(sink, spec, arg.unsigned_value ? "true" : "false", arg.unsigned_value ? 4 : 5,
                 false);
            return;
        case FormatArg::Kind::character: {
            char c = char(arg.unsigned_value);
            emit(sink, spec, &c, 1, false);
            return;
        }
        case FormatArg::Kind::string: {
            const char* text = arg.string ? arg.string : "(null)";
            emit(sink, spec, text, string_length(text), false);
            return;
        }
        case FormatArg::Kind::view:
            emit(sink, spec, arg.view.text, arg.view.length, false);
            return;
        case FormatArg::Kind::pointer: {
            Spec pointer_spec = spec;
            pointer_spec.type = 'p';
            emit_unsigned(sink, pointer_spec, reinterpret_cast<std::uintptr_t>(arg.pointer), false);
            return;
        }
        case FormatArg::Kind::bytes:
            emit_bytes(sink, spec, arg.unsigned_value);
            return;
    }
}

}  // namespace

void vformat(Sink& sink, const char* pattern, const FormatArg* args, std::size_t count) {
    std::size_t next = 0;
    const char* literal = pattern;
    const char* p = pattern;
    while (*p != '\0') {
        if (*p == '{' && p[1] == '{') {
            sink.write(literal, std::size_t(p - literal) + 1);
            p += 2;
            literal = p;
            continue;
        }
        if (*p == '}' && p[1] == '}') {
            sink.write(literal, std::size_t(p - literal) + 1);
            p += 2;
            literal = p;
            continue;
        }
        if (*p != '{') {
            ++p;
            continue;
        }
        sink.write(literal, std::size_t(p - literal));
        Spec spec;
        const char* after = nullptr;
        if (p[1] == '}') {
            after = p + 2;
        } else if (p[1] == ':') {
            after = parse_spec(p + 2, spec);
        }
        if (after == nullptr) {
            // A malformed placeholder is printed as it stands: visible, never fatal.
            sink.write(p, 1);
            ++p;
            literal = p;
            continue;
        }
        if (next < count) {
            emit_arg(sink, spec, args[next++]);
        } else {
            sink.write("{?}", 3);
        }
        p = after;
        literal = p;
    }
    sink.write(literal, std::size_t(p - literal));
}

void BufferSink::write(const char* text, std::size_t length) {
    if (capacity_ == 0) {
        return;
    }
    std::size_t room = capacity_ - 1 - length_;
    std::size_t kept = length < room ? length : room;
    copy_memory(buffer_ + length_, text, kept);
    length_ += kept;
    buffer_[length_] = '\0';
}

}  // namespace lib
